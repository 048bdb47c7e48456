"""Imports of videos from URLs: requests, the download task and its recovery.

An import has no :class:`Job` row while it downloads (a job belongs to an item,
and the item exists only once the file is here): the :class:`UrlImport` row is
its own small job. A worker *claims* it with one conditional UPDATE
(queued → downloading), writes progress and a heartbeat (``updated_at``) while
yt-dlp downloads, and ends it ``done`` (item created, its transcode job queued
and recorded in ``job_id``), ``duplicate`` (the same file is already in the
library) or ``failed`` with a Vietnamese reason. The worker's sweep requeues an
import whose heartbeat stopped (``job_stale_seconds``) once; a second
interruption fails it, so a URL that kills workers cannot loop forever.
Item creation is conditional on the import still being unfinished, in the same
transaction, so a worker presumed dead cannot create a second item.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
import urllib.parse
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from media_hub.accounts.models import Role, User
from media_hub.config import Settings
from media_hub.db import session_scope, utcnow
from media_hub.imports import fetch
from media_hub.imports.models import ImportState, UrlImport
from media_hub.library import service as library
from media_hub.library.models import MediaItem, MediaKind
from storage import open_storage

log = logging.getLogger(__name__)

TASK = "url_import"
ACTIVE = (ImportState.queued, ImportState.downloading)
RETRY_NOTE = "Máy xử lý bị ngừng giữa chừng; đang tải lại."
ALREADY_THERE = "Video này đã có trong thư viện."  # names no item: it may be another editor's draft
INTERRUPTED = "Máy xử lý bị ngừng giữa chừng hai lần; hãy thử nhập lại sau."
STATE_LABELS = {
    ImportState.queued: "Đang chờ",
    ImportState.downloading: "Đang tải về",
    ImportState.done: "Đã nhập",
    ImportState.duplicate: "Trùng",
    ImportState.failed: "Lỗi",
}


class Duplicate(Exception):
    """The URL was imported before (``item_id``) or is being imported (``import_id``)."""

    def __init__(self, reason: str, *, item_id: int | None = None, import_id: int | None = None):
        super().__init__(reason)
        self.reason, self.item_id, self.import_id = reason, item_id, import_id


# -- requests (web side) ----------------------------------------------------------------------

def create_import(session: Session, settings: Settings, user: User, url: str, kind: MediaKind,
                  title: str | None) -> UrlImport:
    """Check ``url`` (no connection is made; private addresses are refused) and record the
    import (state queued). Raises :class:`fetch.ImportRefused`, :class:`fetch.ImportFailed`
    (the host does not resolve) or :class:`Duplicate`. The caller commits and enqueues."""
    url = unicodedata.normalize("NFC", url.strip())
    normalized = fetch.check_url(url, settings.import_allow)
    earlier = session.scalars(
        select(UrlImport).where(UrlImport.normalized_url == normalized,
                                or_(UrlImport.item_id.is_not(None), UrlImport.state.in_(ACTIVE)))
        .order_by(UrlImport.id)
    ).first()
    if earlier is not None and earlier.item_id is not None:
        raise Duplicate("Địa chỉ này đã được nhập trước đó.", item_id=earlier.item_id, import_id=earlier.id)
    if earlier is not None:
        raise Duplicate("Địa chỉ này đang được nhập.", import_id=earlier.id)
    imp = UrlImport(url=url, normalized_url=normalized, kind=kind.value, title=title or None,
                    state=ImportState.queued, progress=0.0, created_by=user.id)
    session.add(imp)
    session.flush()
    return imp


def visible_imports(session: Session, user: User, limit: int = 100) -> list[UrlImport]:
    """The user's own imports, newest first; administrators see everyone's."""
    stmt = select(UrlImport)
    if user.role != Role.admin:
        stmt = stmt.where(UrlImport.created_by == user.id)
    return list(session.scalars(stmt.order_by(UrlImport.id.desc()).limit(limit)))


def may_see(user: User | None, imp: UrlImport) -> bool:
    return user is not None and user.is_active and (user.role == Role.admin or imp.created_by == user.id)


# -- the download (worker side) -----------------------------------------------------------------

def claim(settings: Settings, import_id: int) -> bool:
    """Take a queued import for this worker; False if it is not (any longer) queued."""
    with session_scope(settings.db_url) as s:
        res = s.execute(
            update(UrlImport)
            .where(UrlImport.id == import_id, UrlImport.state == ImportState.queued)
            .values(state=ImportState.downloading, progress=0.0, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return res.rowcount == 1


class _Heartbeat:
    """Writes progress (at most once a second) and ``updated_at`` (every
    ``job_heartbeat_seconds``) while the import downloads."""

    def __init__(self, settings: Settings, import_id: int):
        self.settings, self.import_id = settings, import_id
        self.progress, self.written = 0.0, -1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"import-{import_id}", daemon=True)

    def report(self, fraction: float) -> None:
        self.progress = max(self.progress, min(1.0, max(0.0, fraction)))

    def _write(self) -> None:
        with session_scope(self.settings.db_url) as s:
            s.execute(
                update(UrlImport)
                .where(UrlImport.id == self.import_id, UrlImport.state == ImportState.downloading)
                .values(progress=self.progress, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
        self.written = self.progress

    def _run(self) -> None:
        since, tick = 0.0, min(1.0, self.settings.job_heartbeat_seconds)
        while not self._stop.wait(tick):
            since += tick
            if self.progress != self.written or since >= self.settings.job_heartbeat_seconds:
                try:
                    self._write()
                    since = 0.0
                except Exception:  # noqa: BLE001 - a database hiccup must not stop the download
                    log.exception("heartbeat of import %s failed", self.import_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _end(settings: Settings, import_id: int, **values) -> bool:
    """Finish an import that is still downloading; False if it is not."""
    with session_scope(settings.db_url) as s:
        res = s.execute(
            update(UrlImport)
            .where(UrlImport.id == import_id, UrlImport.state == ImportState.downloading)
            .values(updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        return res.rowcount == 1


def _fail(settings: Settings, import_id: int, reason: str) -> None:
    _end(settings, import_id, state=ImportState.failed, error=unicodedata.normalize("NFC", reason))


def attribution(got: fetch.Downloaded) -> str:
    """"Uploader · Site (extractor)" from what yt-dlp found, e.g. "VTV24 · youtube.com (Youtube)"."""
    host = (urllib.parse.urlsplit(got.webpage_url).hostname or "").removeprefix("www.")
    extractor = got.extractor if got.extractor and got.extractor.lower() != "generic" else ""
    site = f"{host} ({extractor})" if host and extractor else host or extractor
    parts = [p for p in (unicodedata.normalize("NFC", got.uploader or "").strip(), site) if p]
    return " · ".join(parts)[:300]


def _title(wanted: str | None, got: fetch.Downloaded) -> str:
    title = " ".join(unicodedata.normalize("NFC", wanted or got.title or "").split())
    if not title:
        host = urllib.parse.urlsplit(got.webpage_url).hostname or ""
        title = f"Video nhập từ {host}".strip()
    return title[:300]


def run_import(settings: Settings, import_id: int) -> None:
    """Download the import's URL and add the video to the library (the ``url_import`` task)."""
    if not claim(settings, import_id):
        return
    with session_scope(settings.db_url) as s:
        imp = s.get(UrlImport, import_id)
        url, wanted_title, kind, owner_id = imp.url, imp.title, MediaKind(imp.kind), imp.created_by
    dest = settings.staging_dir / "imports"
    dest.mkdir(parents=True, exist_ok=True)
    try:
        with _Heartbeat(settings, import_id) as beat:
            got = fetch.download(
                url, dest, max_bytes=settings.import_max_bytes, max_duration_s=settings.max_media_seconds,
                on_progress=beat.report, allow=settings.import_allow,
            )
    except fetch.FetchError as exc:
        log.info("import %s failed: %s", import_id, exc.reason)
        _fail(settings, import_id, exc.reason)
        return
    except Exception as exc:  # noqa: BLE001 - anything else is a system error, shown as such
        log.exception("import %s crashed", import_id)
        _fail(settings, import_id, f"Lỗi hệ thống khi tải video ({type(exc).__name__}).")
        return
    try:
        _add_to_library(settings, import_id, got, wanted_title, kind, owner_id)
    finally:
        got.path.unlink(missing_ok=True)


def _add_to_library(settings: Settings, import_id: int, got: fetch.Downloaded, wanted_title: str | None,
                    kind: MediaKind, owner_id: int | None) -> None:
    from workers.celery_app import enqueue  # the web side never needs the broker here

    with session_scope(settings.db_url) as s:
        same = s.scalar(select(MediaItem.id).where(MediaItem.checksum == got.sha256).order_by(MediaItem.id))
    if same is not None:
        _end(settings, import_id, state=ImportState.duplicate, duplicate_of=same, progress=1.0, error=None)
        return
    title = _title(wanted_title, got)
    try:
        original = library.original_from_path(got.path, f"{_filename(title)}{got.path.suffix}")
    except library.UnsupportedMedia as exc:
        _fail(settings, import_id, str(exc))
        return
    store = open_storage(settings.blob_url)
    credit = attribution(got)
    description = f"Video nhập từ {got.webpage_url}" + (f" (nguồn: {credit})." if credit else ".")
    with session_scope(settings.db_url) as s:
        imp = s.scalars(
            select(UrlImport).where(UrlImport.id == import_id, UrlImport.state == ImportState.downloading)
            .with_for_update()
        ).first()
        if imp is None:
            return  # another worker took the import over and finished it
        owner = s.get(User, owner_id) if owner_id else None
        item, job = library.create_item(s, store, original, title=title, kind=kind, description=description,
                                        owner=owner)
        item.source_url = got.webpage_url
        item.source_attribution = credit or None
        imp.state, imp.progress, imp.error = ImportState.done, 1.0, None
        imp.item_id, imp.job_id, imp.updated_at = item.id, job.id, utcnow()
        job_id = job.id
    enqueue(settings, "transcode", job_id)


def _filename(title: str) -> str:
    """The title as a file name for the original's download (no path separators)."""
    name = "".join(c for c in title if c not in '/\\:*?"<>|' and unicodedata.category(c)[0] != "C").strip(" .")
    return name[:150] or "video"


# -- recovery --------------------------------------------------------------------------------------

def requeue_stale(settings: Settings) -> list[int]:
    """Imports whose worker stopped sending heartbeats: requeue the first time (returns
    their ids; the caller sends each a new message), fail the second time."""
    cutoff = utcnow() - timedelta(seconds=settings.job_stale_seconds)
    stale = (UrlImport.state == ImportState.downloading, UrlImport.updated_at < cutoff)
    requeued: list[int] = []
    with session_scope(settings.db_url) as s:
        for import_id, error in s.execute(select(UrlImport.id, UrlImport.error).where(*stale)).all():
            again = error != RETRY_NOTE
            res = s.execute(
                update(UrlImport)
                .where(UrlImport.id == import_id, *stale)
                .values(state=ImportState.queued if again else ImportState.failed,
                        error=RETRY_NOTE if again else INTERRUPTED, updated_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1 and again:
                requeued.append(import_id)
    return requeued

