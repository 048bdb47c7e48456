"""Keeping the Department's YouTube channel in step with the hub.

Three parts:

* :func:`request_sync` — called by the web routes after a change is committed
  (publish, unpublish, a metadata edit of a published item, subtitles marked
  reviewed). It queues a ``mirror`` job when the YouTube copy must follow, and
  coalesces: a job that has not started yet (queued, or postponed until the
  quota resets) will pick up every later change, because a mirror job always
  brings YouTube in step with the item *as it is when the job runs*.
* :func:`spend` — the quota ledger: adds the units of each API request to
  :class:`QuotaUsage` for the current Pacific day, atomically, and raises
  :class:`Postpone` when the day's total would pass ``youtube_daily_quota``
  (for uploads and updates: that limit less ``youtube_takedown_reserve``, units
  kept for takedowns, so unpublishing works even after a day of uploads).
* :func:`sync` — the body of a ``mirror`` job (see ``workers.tasks.run_mirror``):
  upload, update, captions, playlists, or take the video down, with the
  :class:`MirrorState` persisted as soon as it changes (a crashed worker's
  successor resumes the upload from the stored session URI).

Which file goes to YouTube: the original when its container is one YouTube
accepts (MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-PS/TS, ASF/WMV) — the best
quality we have, YouTube transcodes it anyway; otherwise the top HLS rendition
(H.264/AAC in MPEG-TS segments) joined and remuxed to MP4 with ``-c copy``.
Items without a video stream (radio) are never mirrored: YouTube takes no
audio-only files.

Takedowns go first: a takedown (the item is no longer published) never waits for an
upload's postponement, wakes a waiting job of its item, and an upload or update yields
(before it starts and between upload chunks; the resumable session is kept) while a
takedown is queued. A takedown that YouTube itself refuses for quota is retried every
:data:`TAKEDOWN_RETRY` seconds rather than at the quota's reset.

Errors: :class:`Postpone` → mirror ``postponed`` with the reason and
``retry_at``, the job waits (``jobs.postpone``: no attempt spent);
:class:`MirrorFailed` → mirror ``failed`` with the reason and the job failed.
The item itself is never touched: ``mirror`` is not an item task.
"""

from __future__ import annotations

import logging
import subprocess
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import m3u8
from sqlalchemy import exists, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, object_session

from media_hub.captions import service as captions
from media_hub.config import Settings
from media_hub.clock import VN
from media_hub.db import session_scope, utcnow
from media_hub.library.models import Job, JobState, MediaItem, MediaStatus
from media_hub.links import public_base
from media_hub.mirror.models import MirrorStatus, QuotaUsage, YouTubeMirror
from media_hub.mirror.youtube import (
    DEFAULT_UNIT_COSTS,
    PACIFIC,
    MirrorConfig,
    MirrorFailed,
    MirrorState,
    Postpone,
    YouTubeMirror as YouTubeClient,
    next_pacific_midnight,
    video_metadata,
)
from subtitles.formats import to_webvtt
from workers import jobs
from workers.celery_app import enqueue

if TYPE_CHECKING:
    from storage import Storage
    from workers.tasks import Attempt, Record

log = logging.getLogger(__name__)

TASK = "mirror"
WATCH_URL = "https://www.youtube.com/watch?v={}"
TOTAL = "*"  # the QuotaUsage row of a day holding the day's total, next to one row per method
# ffprobe format names of the containers YouTube accepts as uploads.
YOUTUBE_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "flv", "mpeg", "mpegts", "asf"}
WAIT_FOR_OTHER = 5.0  # seconds a job waits when another mirror job of the item is running
YIELD_FOR_TAKEDOWN = 1.0  # seconds an upload/update sets itself aside while a takedown is queued
TAKEDOWN_RETRY = 600.0  # seconds between attempts of a takedown YouTube refused for quota
ACTIVE = (JobState.queued, JobState.running, JobState.retrying)


# -- settings --------------------------------------------------------------------------------

def enabled(settings: Settings) -> bool:
    return settings.youtube_enabled


def mirror_config(settings: Settings) -> MirrorConfig:
    costs = {**DEFAULT_UNIT_COSTS, **settings.youtube_unit_costs}
    return MirrorConfig(
        client_id=settings.youtube_client_id or "",
        client_secret=settings.youtube_client_secret or "",
        refresh_token=settings.youtube_refresh_token or "",
        token_uri=settings.youtube_token_uri,
        api_root=settings.youtube_api_root,
        privacy_status=settings.youtube_privacy,
        category_id=settings.youtube_category_id,
        playlist_ids=dict(settings.youtube_playlists),
        unit_costs=costs,
        daily_quota=settings.youtube_daily_quota,
        chunk_size=settings.youtube_chunk_bytes,
        unpublish_action=settings.youtube_unpublish,
    )


def has_video(item: MediaItem) -> bool:
    """Whether the item has a picture YouTube can show (radio items usually do not)."""
    return bool((item.probe or {}).get("video"))


def watch_url(settings: Settings, item: MediaItem) -> str:
    return f"{public_base(settings)}/v/{urllib.parse.quote(item.slug)}"


# -- hooks for the web routes ------------------------------------------------------------------

def row_for(session: Session, item_id: int) -> YouTubeMirror | None:
    return session.scalar(select(YouTubeMirror).where(YouTubeMirror.item_id == item_id))


def _mirror_jobs(session: Session, item_id: int, states) -> list[Job]:
    return list(session.scalars(
        select(Job).where(Job.item_id == item_id, Job.task == TASK, Job.state.in_(states)).order_by(Job.id)
    ))


def request_sync(session: Session, settings: Settings, item: MediaItem) -> Job | None:
    """After a committed change of ``item``: queue a mirror job if YouTube must follow.

    Publishing creates the item's mirror row; unpublishing an item that never
    reached YouTube just marks it withdrawn. Returns the job that will do the
    work (new or already waiting), or None. Never raises: the change is already
    saved, and a broker hiccup is logged (the waiting job is re-sent by the next
    request once it looks lost).
    """
    try:
        return _request_sync(session, settings, item)
    except Exception:  # noqa: BLE001 - the route's own change is committed; do not turn it into a 500
        session.rollback()
        log.exception("could not queue the YouTube mirror of item %s", item.id)
        return None


def _request_sync(session: Session, settings: Settings, item: MediaItem) -> Job | None:
    if not enabled(settings) or not has_video(item):
        return None
    row = row_for(session, item.id)
    published = item.status == MediaStatus.published
    running = _mirror_jobs(session, item.id, (JobState.running,))
    if not published:
        if row is None or row.status == MirrorStatus.withdrawn:
            return None
        if row.video_id is None and not running:
            # Never reached YouTube: nothing to take down (a waiting job will find nothing to do).
            row.status, row.progress, row.error, row.retry_at = MirrorStatus.withdrawn, 0.0, None, None
            session.commit()
            return None
    elif row is None:
        row = YouTubeMirror(item_id=item.id, status=MirrorStatus.pending, state={})
        session.add(row)
    waiting = _mirror_jobs(session, item.id, (JobState.queued, JobState.retrying))
    if waiting and not published and waiting[-1].state == JobState.retrying:
        # A takedown does not wait for an upload's postponement (quota, backoff): run it now.
        job = waiting[-1]
        woken = session.execute(
            update(Job).where(Job.id == job.id, Job.state == JobState.retrying)
            .values(state=JobState.queued, heartbeat_at=None).execution_options(synchronize_session=False)
        ).rowcount
        session.refresh(job)
        _pending(row, job)
        session.commit()
        if woken:
            enqueue(settings, job.task, job.id)
        return job
    if waiting:
        job = waiting[-1]
        if row.status in (MirrorStatus.withdrawn, MirrorStatus.failed, MirrorStatus.mirrored):
            _pending(row, job)
        session.commit()
        stale = utcnow() - timedelta(seconds=settings.job_stale_seconds)
        if job.state == JobState.queued and job.created_at < stale and (job.heartbeat_at or job.created_at) < stale:
            enqueue(settings, job.task, job.id)  # its message looks lost; the claim makes a duplicate harmless
        return job
    job = Job(item_id=item.id, task=TASK, state=JobState.queued)
    session.add(job)
    if row.status != MirrorStatus.uploading:
        _pending(row, None)
    session.commit()
    enqueue(settings, job.task, job.id)
    return job


def _pending(row: YouTubeMirror, job: Job | None) -> None:
    """The row of an item whose sync is asked for: pending, or postponed while the job
    that will do it waits (its heartbeat holds the time it may run again)."""
    if job is not None and job.state == JobState.retrying and job.heartbeat_at and job.heartbeat_at > utcnow():
        row.status, row.retry_at, row.error = MirrorStatus.postponed, job.heartbeat_at, job.error
        return
    row.status, row.error, row.retry_at = MirrorStatus.pending, None, None


# -- quota ledger -----------------------------------------------------------------------------

def pacific_day(now: datetime | None = None):
    return (now or utcnow()).astimezone(PACIFIC).date()


def _int(value: int) -> str:
    """10000 → "10.000" (Vietnamese thousands separator)."""
    return f"{value:,}".replace(",", ".")


def _vietnam_time(moment: datetime) -> str:
    return moment.astimezone(VN).strftime("%H:%M ngày %d/%m/%Y")


def spend(settings: Settings, units: int, method: str, now: datetime | None = None, *,
          takedown: bool = False) -> None:
    """Record ``units`` of YouTube API quota for ``method`` on the current Pacific day.

    Atomic on SQLite and PostgreSQL: one conditional UPDATE of the day's total row
    (``method == "*"``) adds the units only while the total stays within the limit,
    so concurrent workers never overspend together: ``youtube_daily_quota`` for a
    ``takedown``, that less ``youtube_takedown_reserve`` for everything else.
    Raises :class:`Postpone` (retry at the next Pacific midnight) otherwise.
    """
    now = now or utcnow()
    day = pacific_day(now)
    limit = settings.youtube_daily_quota
    if not takedown:
        limit = max(limit - settings.youtube_takedown_reserve, 0)
    with session_scope(settings.db_url) as s:
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        for name in (TOTAL, method):
            s.execute(insert(QuotaUsage).values(day=day, method=name, units=0).on_conflict_do_nothing())
        added = s.execute(
            update(QuotaUsage)
            .where(QuotaUsage.day == day, QuotaUsage.method == TOTAL, QuotaUsage.units + units <= limit)
            .values(units=QuotaUsage.units + units)
            .execution_options(synchronize_session=False)
        ).rowcount
        if added != 1:
            used = s.scalar(select(QuotaUsage.units).where(QuotaUsage.day == day, QuotaUsage.method == TOTAL))
            retry_at = next_pacific_midnight(now)
            raise Postpone(
                f"Đã dùng {_int(used or 0)}/{_int(limit)} đơn vị hạn mức YouTube API được phép trong ngày "
                f"(lệnh {method} cần thêm {_int(units)}); hệ thống sẽ tự thử lại sau {_vietnam_time(retry_at)} "
                "(giờ Việt Nam), khi hạn mức được đặt lại lúc nửa đêm giờ Thái Bình Dương.",
                retry_at, api_reason="hubQuota",
            )
        s.execute(
            update(QuotaUsage)
            .where(QuotaUsage.day == day, QuotaUsage.method == method)
            .values(units=QuotaUsage.units + units)
            .execution_options(synchronize_session=False)
        )


def usage(session: Session, day=None) -> dict[str, int]:
    """Units spent per method on ``day`` (default: today, Pacific time); ``"*"`` is the total."""
    day = day or pacific_day()
    return dict(session.execute(select(QuotaUsage.method, QuotaUsage.units).where(QuotaUsage.day == day)).all())


# -- the job ------------------------------------------------------------------------------------

@dataclass
class _Snapshot:
    """What the job needs of the item, read once at its start."""

    item_id: int
    published: bool
    has_video: bool
    metadata: dict
    topics: list[str]
    captions: bytes | None
    format_name: str
    rendition_key: str | None  # media playlist of the top HLS rendition
    state: MirrorState
    row_status: MirrorStatus
    retry_at: datetime | None
    other_running: bool


def _snapshot(session: Session, settings: Settings, job: Job) -> _Snapshot:
    item = job.item
    row = row_for(session, item.id)
    if row is None:
        row = YouTubeMirror(item_id=item.id, status=MirrorStatus.pending, state={})
        session.add(row)
        session.flush()
    metadata = video_metadata(
        item.title,
        item.description,
        [(d.number, d.title) for d in item.documents],
        watch_url(settings, item),
        [t.name for t in item.topics],
        "vi",
        category_id=settings.youtube_category_id,
        privacy_status=settings.youtube_privacy,
    )
    track = captions.track_for(item, "vi")
    cues = captions.reviewed_cues(track)
    others = session.scalars(
        select(Job).where(Job.item_id == item.id, Job.task == TASK, Job.state == JobState.running, Job.id != job.id)
    ).all()
    stale = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    # Of two mirror jobs running at once, the one that started first goes on.
    other_running = any(
        o.heartbeat_at is not None and o.heartbeat_at >= stale
        and (o.started_at, o.id) < (job.started_at, job.id)
        for o in others
    )
    return _Snapshot(
        item_id=item.id,
        published=item.status == MediaStatus.published,
        has_video=has_video(item),
        metadata=metadata,
        topics=[t.slug for t in item.topics],
        captions=to_webvtt(cues).encode("utf-8") if cues else None,
        format_name=str((item.probe or {}).get("format_name") or ""),
        rendition_key=next((r.playlist_key for r in item.renditions if r.width), None),
        state=MirrorState.from_dict(row.state),
        row_status=row.status,
        retry_at=row.retry_at,
        other_running=other_running,
    )


def _owned(job_id: int, attempt: int):
    return exists(select(Job.id).where(Job.id == job_id, Job.attempts == attempt, Job.state == JobState.running))


def _write_row(settings: Settings, run: Attempt, **values) -> None:
    """Update the item's mirror row now, if this attempt still holds the job."""
    with session_scope(settings.db_url) as s:
        item_id = s.get(Job, run.job_id).item_id
        s.execute(
            update(YouTubeMirror)
            .where(YouTubeMirror.item_id == item_id, _owned(run.job_id, run.number))
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )


def _noop(_item: MediaItem) -> None:
    """Record of an attempt that already settled its job (postponed or failed)."""


def _postpone(run: Attempt, reason: str, until: datetime, *, show: bool) -> Record:
    """Set the job aside until ``until``; ``show``: the mirror row says postponed, why and until when."""
    if show:
        _write_row(run.settings, run, status=MirrorStatus.postponed, error=reason, retry_at=until)
    jobs.postpone(run.settings, run.job_id, run.number, reason, until)
    return _noop


def sync(run: Attempt) -> Record:
    """Body of a ``mirror`` job: bring the item's YouTube copy in step with the hub."""
    settings = run.settings
    with session_scope(settings.db_url) as s:
        snap = _snapshot(s, settings, s.get(Job, run.job_id))
    if snap.other_running:
        return _postpone(run, "Đang chờ lần đồng bộ YouTube trước kết thúc.",
                         utcnow() + timedelta(seconds=WAIT_FOR_OTHER), show=False)
    state = snap.state
    if not enabled(settings):
        def off(item: MediaItem) -> None:
            _finish_row(item, status=MirrorStatus.failed,
                        error="Chưa cấu hình tài khoản YouTube (MEDIA_HUB_YOUTUBE_*); không đồng bộ được.")
        return off
    if not snap.published and state.video_id is None:
        return lambda item: _finish_row(item, status=MirrorStatus.withdrawn, state=state, progress=0.0)
    if snap.published and not snap.has_video:
        return lambda item: _finish_row(item, status=MirrorStatus.failed,
                                        error="Nội dung không có hình ảnh; YouTube chỉ nhận video.")
    if not snap.published:
        return _take_down(run, state)
    if snap.row_status == MirrorStatus.postponed and snap.retry_at and snap.retry_at > utcnow():
        return _postpone(run, "Đang chờ hạn mức YouTube API được đặt lại.", snap.retry_at, show=False)
    if takedown_waiting(settings, snap.item_id):
        return _yield(run)

    client = YouTubeClient(mirror_config(settings), lambda units, method: spend(settings, units, method))
    try:
        path = ""
        if state.video_id is None:
            _write_row(settings, run, status=MirrorStatus.uploading, error=None, retry_at=None)
            path = str(upload_source(run, snap))
        progress = _Progress(settings, run, snap.item_id)

        def on_state(new: MirrorState) -> None:
            _write_row(settings, run, state=new.to_dict(), video_id=new.video_id)

        client.mirror(state, path=path, metadata=snap.metadata, captions=snap.captions, topics=snap.topics,
                      on_state=on_state, on_progress=progress)
    except _TakedownFirst:
        return _yield(run)
    except Postpone as exc:
        log.warning("mirror job %s postponed until %s: %s", run.job_id, exc.retry_at, exc.reason)
        return _postpone(run, exc.reason, exc.retry_at, show=True)
    except MirrorFailed as exc:
        log.warning("mirror job %s failed: %s", run.job_id, exc.reason)
        _write_row(settings, run, status=MirrorStatus.failed, error=exc.reason, retry_at=None)
        jobs.fail(settings, run.job_id, run.number, exc.reason)
        return _noop
    return lambda item: _finish_row(item, status=MirrorStatus.mirrored, state=state, progress=1.0)


def _take_down(run: Attempt, state: MirrorState) -> Record:
    """Make the video private (or delete it), spending the units reserved for takedowns."""
    settings = run.settings
    client = YouTubeClient(mirror_config(settings),
                           lambda units, method: spend(settings, units, method, takedown=True))
    try:
        try:
            action = client.unpublish(state.video_id)
        except MirrorFailed as exc:
            if exc.status != 404:
                raise
            action = "delete"  # already gone from YouTube: nothing left to take down
    except Postpone as exc:
        until = exc.retry_at
        if exc.api_reason != "hubQuota":  # YouTube's own refusal: ask again soon, not at the reset
            until = min(until, utcnow() + timedelta(seconds=TAKEDOWN_RETRY))
        log.warning("takedown job %s postponed until %s: %s", run.job_id, until, exc.reason)
        return _postpone(run, exc.reason, until, show=True)
    except MirrorFailed as exc:
        log.warning("takedown job %s failed: %s", run.job_id, exc.reason)
        _write_row(settings, run, status=MirrorStatus.failed, error=exc.reason, retry_at=None)
        jobs.fail(settings, run.job_id, run.number, exc.reason)
        return _noop
    if action == "delete":
        state = MirrorState()
    else:
        # Re-publishing must send the full metadata again (privacy back to public).
        state.privacy_status, state.metadata_sha256 = "private", None
    return lambda item: _finish_row(item, status=MirrorStatus.withdrawn, state=state)


def takedown_waiting(settings: Settings, item_id: int) -> bool:
    """Whether the upload/update of ``item_id`` must stop: the item is no longer published,
    or a takedown (a mirror job of an item no longer published whose copy is not
    withdrawn) is queued and goes first."""
    with session_scope(settings.db_url) as s:
        if s.scalar(select(MediaItem.status).where(MediaItem.id == item_id)) != MediaStatus.published:
            return True
        return s.scalar(
            select(Job.id)
            .join(MediaItem, MediaItem.id == Job.item_id)
            .join(YouTubeMirror, YouTubeMirror.item_id == Job.item_id)
            .where(Job.task == TASK, Job.state == JobState.queued, MediaItem.status != MediaStatus.published,
                   YouTubeMirror.status != MirrorStatus.withdrawn)
            .limit(1)
        ) is not None


class _TakedownFirst(Exception):
    """Raised between upload chunks to stop an upload while a takedown is queued."""


def _yield(run: Attempt) -> Record:
    """Set this upload/update aside for a queued takedown; the sweep requeues it (the upload
    session is stored, so it resumes from the byte YouTube confirmed)."""
    return _postpone(run, "Đang nhường lượt cho yêu cầu gỡ video khỏi YouTube.",
                     utcnow() + timedelta(seconds=YIELD_FOR_TAKEDOWN), show=False)


def _finish_row(item: MediaItem, *, status: MirrorStatus, state: MirrorState | None = None,
                error: str | None = None, progress: float | None = None) -> None:
    """Write the outcome in the transaction that marks the job succeeded."""
    session = object_session(item)
    row = row_for(session, item.id)
    if row is None:
        row = YouTubeMirror(item_id=item.id, state={})
        session.add(row)
    row.status, row.error, row.retry_at = status, error, None
    if state is not None:
        row.state, row.video_id, row.warning = state.to_dict(), state.video_id, state.warning
    if progress is not None:
        row.progress = progress
    row.updated_at = utcnow()


class _Progress:
    """Upload progress → the job (heartbeat thread) and the mirror row (at most once a second)."""

    def __init__(self, settings: Settings, run: Attempt, item_id: int):
        self.settings, self.run, self.item_id, self.written = settings, run, item_id, 0.0

    def __call__(self, sent: int, total: int) -> None:
        fraction = sent / total if total else 1.0
        self.run.report(fraction)
        now = time.monotonic()
        if now - self.written >= 1.0 or fraction >= 1.0:
            self.written = now
            try:
                _write_row(self.settings, self.run, progress=fraction)
            except Exception:  # noqa: BLE001 - progress is cosmetic; never stop an upload for it
                log.exception("mirror progress of job %s not written", self.run.job_id)
            if fraction < 1.0 and takedown_waiting(self.settings, self.item_id):
                raise _TakedownFirst


def reconcile(settings: Settings, job_id: int) -> None:
    """After an attempt: a mirror job that ended failed for other reasons than YouTube's
    (its workers kept dying, a system error) must not leave the row pending/uploading."""
    with session_scope(settings.db_url) as s:
        job = s.get(Job, job_id)
        if job is None or job.state != JobState.failed:
            return
        row = row_for(s, job.item_id)
        if row is not None and row.status in (MirrorStatus.pending, MirrorStatus.uploading):
            newer = s.scalar(select(Job.id).where(Job.item_id == job.item_id, Job.task == TASK, Job.id > job.id,
                                                  Job.state.in_(ACTIVE)))
            if newer is None:
                row.status, row.error = MirrorStatus.failed, job.error


# -- the file to upload --------------------------------------------------------------------------

def upload_source(run: Attempt, snap: _Snapshot) -> Path:
    """The original when YouTube takes its container, else the top HLS rendition as MP4."""
    if snap.format_name in YOUTUBE_CONTAINERS or snap.rendition_key is None:
        return run.source()
    return remux_rendition(run.store, snap.rendition_key, run.work)


def remux_rendition(store: Storage, playlist_key: str, work: Path) -> Path:
    """Join the MPEG-TS segments of an HLS media playlist and remux them to MP4 (``-c copy``).

    The segments are fetched from storage by the hub itself and concatenated
    into one local ``.ts`` file (MPEG-TS concatenates byte-wise), so ffmpeg
    opens only that file, with the usual input whitelist (no hls demuxer, no
    network).
    """
    from workers.media.model import INPUT_OPTIONS, input_url  # the worker's ffmpeg rules

    base = playlist_key.rsplit("/", 1)[0]
    playlist = m3u8.loads(store.read_bytes(playlist_key).decode("utf-8"))
    joined = work / "rendition.ts"
    with joined.open("wb") as out:
        for segment in playlist.segments:
            uri = segment.uri
            if "/" in uri or uri.startswith("."):
                raise MirrorFailed("Danh sách phát HLS có đường dẫn đoạn không hợp lệ.")
            out.write(store.read_bytes(f"{base}/{uri}"))
    target = work / "youtube.mp4"
    argv = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
            *(a for k, v in INPUT_OPTIONS.items() for a in (f"-{k}", v)),
            "-i", input_url(joined), "-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy",
            "-bsf:a", "aac_adtstoasc", "-movflags", "+faststart", "file:" + str(target.resolve())]
    done = subprocess.run(argv, capture_output=True, timeout=3600)
    joined.unlink(missing_ok=True)
    if done.returncode != 0 or not target.exists():
        raise RuntimeError("ffmpeg remux failed: " + done.stderr.decode("utf-8", "replace")[-500:])
    return target


# -- what pages and the API show ------------------------------------------------------------------

def youtube_url(video_id: str | None) -> str | None:
    return WATCH_URL.format(urllib.parse.quote(video_id)) if video_id else None


STATUS_LABELS = {
    MirrorStatus.pending: "Đang chờ đăng",
    MirrorStatus.uploading: "Đang tải lên",
    MirrorStatus.mirrored: "Đã đăng",
    MirrorStatus.postponed: "Tạm hoãn",
    MirrorStatus.failed: "Lỗi",
    MirrorStatus.withdrawn: "Đã gỡ",
}

