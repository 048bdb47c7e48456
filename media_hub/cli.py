"""The ``media-hub`` command line (typer + rich)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from media_hub.config import get_settings

app = typer.Typer(help="media-hub: legal video and broadcast hub.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
users_app = typer.Typer(help="User accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")
secret_app = typer.Typer(help="The key that signs session cookies.", no_args_is_help=True)
app.add_typer(secret_app, name="secret")
console = Console()
err = Console(stderr=True)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations to the configured database."""
    from media_hub import db

    settings = get_settings()
    settings.ensure_dirs()
    db.upgrade(settings.db_url)
    console.print(f"Database at revision head: {settings.db_url}")


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Argument(help="Login name: lower-case ASCII, digits, . _ -")],
    role: Annotated[str, typer.Option(help="admin, editor, reviewer or radio_staff.")] = "admin",
    full_name: Annotated[str, typer.Option(help="Name shown in the audit log.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ] = "",
) -> None:
    """Create a user (the first admin, typically)."""
    from media_hub import db
    from media_hub.accounts import service

    settings = get_settings()
    settings.ensure_dirs()
    db.upgrade(settings.db_url)
    try:
        with db.session_scope(settings.db_url) as s:
            user = service.create_user(s, username, password, role, full_name)
            console.print(f"Đã tạo tài khoản {user.username} ({user.role}).")
    except service.AccountError as exc:
        err.print(f"[red]Lỗi:[/] {exc}")
        raise typer.Exit(1) from None


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument()],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 10 characters.")
    ] = "",
) -> None:
    """Set a new password for USERNAME (a forgotten one, typically) and sign them out everywhere."""
    from media_hub import db
    from media_hub.accounts import service

    settings = get_settings()
    try:
        with db.session_scope(settings.db_url) as s:
            user = service.find_user(s, username)
            if user is None:
                err.print(f"[red]Không có tài khoản[/] {username}")
                raise typer.Exit(1)
            service.set_password(s, user, password)
            service.forget_first_password(settings.data_dir, user)
            console.print(f"Đã đặt mật khẩu mới cho {user.username} và đăng xuất tài khoản này khỏi mọi nơi.")
    except service.AccountError as exc:
        err.print(f"[red]Lỗi:[/] {exc}")
        raise typer.Exit(1) from None


@secret_app.command("init")
def secret_init(
    env_file: Annotated[Path, typer.Option(dir_okay=False, help="The .env file to write (docker compose reads it).")] = Path(".env"),
    force: Annotated[bool, typer.Option(help="Replace a good key too (signs everyone out).")] = False,
) -> None:
    """Write a random MEDIA_HUB_SECRET_KEY into ENV_FILE (mode 0600), keeping its other lines
    and a key that is already good."""
    from media_hub import secret

    console.print(secret.MESSAGES[secret.init_env_file(env_file, force=force)].format(path=env_file))


def _check_secret(settings) -> None:
    """Exit 2 with the Vietnamese reason when the session key is missing, a sample or short."""
    from media_hub.secret import InsecureSecret, check_secret

    try:
        check_secret(settings)
    except InsecureSecret as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


@users_app.command("token")
def users_token(
    username: Annotated[str, typer.Argument()],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token for USERNAME and print it (shown once)."""
    from media_hub import db
    from media_hub.accounts import service

    settings = get_settings()
    with db.session_scope(settings.db_url) as s:
        user = service.find_user(s, username)
        if user is None:
            err.print(f"[red]Không có tài khoản[/] {username}")
            raise typer.Exit(1)
        _, plain = service.create_token(s, user, name)
    print(plain)


def _first_admin(settings) -> None:
    """On a hub without users, create ``admin`` with a random password kept in a 0600
    file of the data folder; print the file's path, never the password (logs keep output)."""
    from media_hub import db
    from media_hub.accounts import service

    with db.session_scope(settings.db_url) as s:
        path = service.create_first_admin(s, settings.data_dir)
    if path is None:
        return
    console.rule("[bold]Lần chạy đầu tiên")
    console.print("Đã tạo quản trị viên đầu tiên: tài khoản [bold]admin[/], mật khẩu nằm trong tệp:")
    print(path, flush=True)  # a line of its own, never cut by the terminal's width
    console.print("Đọc mật khẩu trong tệp đó (chỉ người chạy hub đọc được), đăng nhập tại /login rồi đổi mật khẩu "
                  "tại /account: tệp sẽ tự xoá. Sau đó thêm biên tập viên, người duyệt tại /admin/users.")
    console.rule()


def _die_with_parent() -> None:
    """In the embedded worker (before exec): get SIGTERM when ``serve`` dies, however it
    dies (uvicorn re-raises SIGTERM after its shutdown, so no ``finally`` runs)."""
    import ctypes

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _default_channel(settings) -> None:
    """Make sure the default channel exists, with its station ident and a plan."""
    from media_hub import db
    from media_hub.channel.service import ensure_default_channel
    from storage import open_storage

    with db.session_scope(settings.db_url) as s:
        ensure_default_channel(s, open_storage(settings.blob_url), settings.staging_dir)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port.")] = None,
    worker: Annotated[bool, typer.Option(help="Also start an embedded worker process.")] = True,
) -> None:
    """Migrate the database and run the web app (and, by default, a worker)."""
    import uvicorn

    from media_hub import accesslog, db
    from media_hub.app import create_app
    from media_hub.proxies import parse_networks

    settings = get_settings()
    _check_secret(settings)
    try:
        parse_networks(tuple(settings.trusted_proxies))
    except ValueError as exc:
        err.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    settings.ensure_dirs()
    db.upgrade(settings.db_url)
    _first_admin(settings)
    _default_channel(settings)
    host, port = host or settings.host, port or settings.port
    # Links follow the address served (media_hub.links.public_base): the web workers and the
    # embedded worker read it from the environment, this process from its settings.
    settings.host, settings.port = host, port
    os.environ.update(MEDIA_HUB_HOST=host, MEDIA_HUB_PORT=str(port))
    child = subprocess.Popen([sys.executable, "-m", "media_hub.cli", "worker"], preexec_fn=_die_with_parent) if worker else None
    console.print(f"[bold]media-hub[/] at http://{host}:{port}/  (data in {settings.data_dir})")
    settings.session_secret  # noqa: B018 - made once here, not raced by the web workers
    # Several web workers import the app themselves (create_app() reads the same environment).
    app_ = "media_hub.app:create_app" if settings.web_workers > 1 else create_app(settings)
    try:
        uvicorn.run(app_, factory=settings.web_workers > 1, workers=settings.web_workers, host=host, port=port,
                    log_level="info", access_log=settings.access_log, log_config=accesslog.log_config(),
                    # X-Forwarded-* only from trusted_proxies, applied by the app (media_hub.links.
                    # ForwardedHeaders, which also needs to know who sent them); uvicorn's own
                    # default would trust 127.0.0.1, so anyone on the machine could pick their address.
                    proxy_headers=False)
    finally:
        if child:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="Tasks at once (default MEDIA_HUB_WORKER_CONCURRENCY).")] = None,
    queues: Annotated[
        str | None, typer.Option(help="Comma-separated queues to consume (transcode, asr, mirror, import); default: all.")
    ] = None,
    loglevel: Annotated[str, typer.Option()] = "INFO",
) -> None:
    """Run a Celery worker for the configured broker."""
    from workers.celery_app import WORKER_QUEUES, celery, declare_queues

    queues = queues or WORKER_QUEUES
    settings = get_settings()
    _check_secret(settings)
    settings.ensure_dirs()
    declare_queues(celery)
    n = concurrency or settings.worker_concurrency
    celery.worker_main(
        ["worker", "--pool=threads", f"--concurrency={n}", f"--queues={queues}", f"--loglevel={loglevel}",
         "--without-gossip", "--without-mingle", f"--hostname=worker-{os.getpid()}@%h"]
    )


@app.command()
def ingest(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Video or audio file.")],
    title: Annotated[str, typer.Option(help="Title (Vietnamese).")],
    kind: Annotated[str, typer.Option(help="skit, scenario or radio.")] = "skit",
    description: Annotated[str, typer.Option(help="Description.")] = "",
    via_worker: Annotated[bool, typer.Option(help="Queue the jobs for running workers instead of running them here.")] = False,
    owner: Annotated[str | None, typer.Option(help="Username of the editor who owns the item.")] = None,
    out: Annotated[
        Path | None, typer.Option(file_okay=False, help="Folder for the subtitle draft (.vtt); default: next to FILE.")
    ] = None,
) -> None:
    """Upload FILE and run every job an upload gets (transcode, then subtitles and the
    broadcast MP3), a progress line per job; prints the watch URL, writes the subtitle
    draft as WebVTT (``<FILE stem>.<language>.vtt`` next to FILE or in ``--out``) and
    prints where the broadcast MP3 is.

    Exits 1 when the file is refused or a job fails, printing the reason.
    """
    import re

    from sqlalchemy import select

    from media_hub import db
    from media_hub.accounts.service import find_user
    from media_hub.captions import service as captions
    from media_hub.library import service
    from media_hub.library.models import Job, JobState, MediaItem
    from media_hub.links import public_base
    from players import JOB_TASK_LABELS
    from storage import open_storage
    from subtitles.formats import to_webvtt
    from workers.celery_app import enqueue
    from workers.tasks import RUNNERS, run_transcode

    settings = get_settings()
    settings.ensure_dirs()
    db.upgrade(settings.db_url)
    store = open_storage(settings.blob_url)
    try:
        title = service.clean_text(title, field="tiêu đề", required=True)
        description = service.clean_text(description, field="mô tả", max_len=20000)
        media_kind = service.parse_kind(kind)
        original = service.original_from_path(file.resolve())
    except (service.InvalidInput, service.UnsupportedMedia) as exc:
        err.print(f"[red]Từ chối:[/] {exc}")
        raise typer.Exit(1) from None
    with db.session_scope(settings.db_url) as s:
        owner_user = find_user(s, owner) if owner else None
        if owner and owner_user is None:
            err.print(f"[red]Không có tài khoản[/] {owner}")
            raise typer.Exit(1)
        item, job = service.create_item(
            s, store, original, title=title, kind=media_kind, description=description, owner=owner_user
        )
        item_id, job_id = item.id, job.id

    ended = (JobState.succeeded, JobState.failed)

    def item_jobs() -> list[tuple[int, str, JobState, float]]:
        with db.session_scope(settings.db_url) as s:
            return [(j.id, j.task, j.state, j.progress)
                    for j in s.scalars(select(Job).where(Job.item_id == item_id).order_by(Job.id))]

    def line(task: str, state: JobState) -> str:
        label = JOB_TASK_LABELS.get(task, task)
        return {JobState.retrying: f"{label} (đang thử lại)", JobState.failed: f"{label} (lỗi)"}.get(state, label)

    # One progress line per job, in the order the jobs were created: the transcode first,
    # then whatever follow-up jobs it adds (workers/tasks.py), until every job has ended.
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        lines: dict[int, int] = {}
        if via_worker:
            enqueue(settings, "transcode", job_id)
        while True:
            rows = item_jobs()
            for jid, task, state, progress in rows:
                if jid not in lines:
                    lines[jid] = bar.add_task(line(task, state), total=1.0, start=False)
                if state != JobState.queued:
                    bar.start_task(lines[jid])  # elapsed time counts from the job's start
                bar.update(lines[jid], description=line(task, state),
                           completed=1.0 if state == JobState.succeeded else progress)
            pending = [(jid, task) for jid, task, state, _ in rows if state not in ended]
            if not pending:
                break
            if via_worker:
                time.sleep(0.5)
                continue
            jid, task = pending[0]
            bar.start_task(lines[jid])
            runner = (lambda *a: run_transcode(*a, queue_follow_ups=False)) if task == "transcode" else RUNNERS[task]
            delay = runner(settings, jid, lambda f, t=lines[jid]: bar.update(t, completed=f))
            if delay is not None:
                bar.update(lines[jid], description=f"{line(task, JobState.retrying)}: sau {delay:.0f} s")
                time.sleep(delay)
            elif next(r for r in item_jobs() if r[0] == jid)[2] not in ended:
                time.sleep(0.5)  # another worker holds this job: wait for it

    base = public_base(settings)
    with db.session_scope(settings.db_url) as s:
        item = s.get(MediaItem, item_id)
        if item.status != "ready":
            err.print(f"[red]Xử lý thất bại:[/] {item.error}")
            raise typer.Exit(1)
        console.print(f"Xem tại: {base}/v/{item.slug}")
        table = Table("bản dựng", "kích thước (px)", "tốc độ đỉnh (kbit/s)", box=None)
        for r in item.renditions:
            table.add_row(r.name, f"{r.width}×{r.height}" if r.width else "audio", f"{r.bandwidth / 1000:.0f}")
        console.print(table)
        # Paths, keys and links on lines of their own, never cut by the terminal's width.
        print(f"Kho lưu trữ: {settings.blob_url}")
        print(f"Danh sách phát chính (master playlist): {item.master_key}")
        for r in item.renditions:
            print(f"Danh sách phát {r.name}: {r.playlist_key}")
        for track in item.subtitle_tracks:
            cues = captions.cues_of(track)
            if not cues or not re.fullmatch(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", track.language):
                continue
            folder = out or file.resolve().parent
            folder.mkdir(parents=True, exist_ok=True)
            vtt = folder / f"{file.stem}.{track.language}.vtt"
            vtt.write_text(to_webvtt(cues), encoding="utf-8")
            print(f"Phụ đề nháp ({track.language}, {len(cues)} câu, WebVTT): {vtt}")
            print(f"Phụ đề qua API: {base}/api/v1/media/{item.id}/subtitles/{track.language}")
        if item.subtitle_note:
            print(f"Phụ đề: {item.subtitle_note}")
        if item.broadcast_key:
            local = store.local_path(item.broadcast_key)
            print(f"Bản phát thanh (MP3): {local or item.broadcast_key}")
            print(f"Bản phát thanh qua API: {base}/api/v1/media/{item.id}/broadcast.mp3")
        elif item.broadcast_note:
            print(f"Bản phát thanh: {item.broadcast_note}")
        failed = [(j.task, j.error) for j in item.jobs if j.state == JobState.failed]
    for task, reason in failed:
        err.print(f"[red]{JOB_TASK_LABELS.get(task, task)} thất bại:[/] {reason}")
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
