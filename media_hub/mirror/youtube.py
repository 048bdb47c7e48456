"""Mirror hub videos to the Department's YouTube channel (YouTube Data API v3).

A plain library: no database, routes or tasks. The caller keeps a
:class:`MirrorState` per video (``to_dict()`` fits a JSON column), hands it to
:meth:`YouTubeMirror.mirror` and stores it again from the ``on_state``
callback, which fires as soon as something worth keeping changes — above all
the resumable upload session URI, *before* the first byte is sent, so a new
worker process can resume an upload after a crash from the byte YouTube
confirmed.

The API client is built offline from google-api-python-client's bundled
discovery document with ``rootUrl`` replaced by :attr:`MirrorConfig.api_root`
(this moves the ``upload/youtube/v3/...`` media paths too; the library's
``client_options.api_endpoint`` would keep the ``https`` scheme for media
uploads). Requests go through ``google_auth_httplib2.AuthorizedHttp`` around
``googleapiclient.http.build_http()``, whose ``redirect_codes`` exclude 308 —
a bare ``httplib2.Http()`` treats YouTube's "308 Resume Incomplete" as a
redirect.

Errors: :class:`Postpone` (try again at ``retry_at``: quota exhausted, upload
limit, or transient failures that outlived the retries) and
:class:`MirrorFailed` (permanent). Both carry a Vietnamese ``reason`` for
the user.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import mimetypes
import os
import random
import time
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from datetime import time as dtime
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

import google.auth.exceptions
import httplib2
from google.oauth2.credentials import Credentials
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient import discovery_cache
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaFileUpload, MediaIoBaseUpload, build_http

from media_hub import clock
from media_hub.clock import VN

PACIFIC = ZoneInfo("America/Los_Angeles")
CHUNK_UNIT = 256 * 1024  # YouTube wants chunks in multiples of 256 KiB

# Quota units per request. The quota page used to list videos.insert at 1600
# units; the current page says videos.insert (like search.list) has its own
# bucket of 100 calls a day at 1 per call, with 10,000 units a day for
# everything else. 1600 is kept as the conservative default; set
# {"videos.insert": 1} if the project's console shows the separate bucket.
DEFAULT_UNIT_COSTS = {
    "videos.insert": 1600,
    "videos.update": 50,
    "videos.list": 1,
    "videos.delete": 50,
    "captions.insert": 400,
    "captions.update": 450,
    "captions.list": 50,
    "playlistItems.insert": 50,
    "playlistItems.list": 1,
}
QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}
RATE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "backendError"}
TRANSPORT_ERRORS = (OSError, httplib2.HttpLib2Error, http.client.HTTPException,
                    google.auth.exceptions.TransportError)

FORCED_PRIVATE_VI = (
    "YouTube đã để video ở chế độ riêng tư (private) dù hệ thống yêu cầu công khai: dự án Google API "
    "dùng để tải lên chưa được Google kiểm tra và xác minh (YouTube API Services audit). Cần gửi yêu cầu "
    "kiểm tra dự án cho Google; khi được duyệt, video tải lên mới có thể công khai."
)


class MirrorError(Exception):
    """Base error; ``reason`` is a Vietnamese message for the user."""

    def __init__(self, reason: str, *, status: int | None = None, api_reason: str | None = None):
        super().__init__(reason)
        self.reason = unicodedata.normalize("NFC", reason)
        self.status = status
        self.api_reason = api_reason


class Postpone(MirrorError):
    """Nothing is wrong with the request; try again at ``retry_at`` (aware UTC datetime)."""

    def __init__(self, reason: str, retry_at: datetime, **kw):
        super().__init__(reason, **kw)
        self.retry_at = retry_at


class MirrorFailed(MirrorError):
    """YouTube refused the request; retrying the same request will not help."""


class SessionGone(MirrorError):
    """The resumable upload session no longer exists (404/410): start a new one."""


@dataclass
class MirrorConfig:
    """Channel credentials and mirroring policy.

    ``chunk_size`` is in bytes (a multiple of 256 KiB); ``timeout``,
    ``backoff_base``, ``backoff_max`` and ``retry_later`` are in seconds;
    ``unit_costs`` are quota units per request, ``daily_quota`` units per
    Pacific day (for the caller's ledger). ``playlist_ids`` maps a topic slug
    to a YouTube playlist id. ``unpublish_action`` is "private" or "delete".
    The refresh token must carry the ``youtube.force-ssl`` scope (or
    ``youtube`` + ``youtube.upload``); scopes are not re-requested on refresh.
    """

    client_id: str
    client_secret: str
    refresh_token: str
    token_uri: str = "https://oauth2.googleapis.com/token"
    api_root: str = "https://youtube.googleapis.com/"
    privacy_status: str = "public"
    category_id: str = "27"  # Education
    playlist_ids: dict[str, str] = field(default_factory=dict)
    unit_costs: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_UNIT_COSTS))
    daily_quota: int = 10_000
    chunk_size: int = 8 * 1024 * 1024
    unpublish_action: str = "private"
    timeout: float = 60.0
    max_retries: int = 6
    backoff_base: float = 1.0
    backoff_max: float = 64.0
    retry_later: float = 15 * 60

    def __post_init__(self) -> None:
        if self.chunk_size <= 0 or self.chunk_size % CHUNK_UNIT:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        if self.privacy_status not in ("public", "unlisted", "private"):
            raise ValueError(f"privacy_status {self.privacy_status!r}")
        if self.unpublish_action not in ("private", "delete"):
            raise ValueError(f"unpublish_action {self.unpublish_action!r}")
        if not self.api_root.endswith("/"):
            self.api_root += "/"

    def cost(self, method: str) -> int:
        """Quota units one request of ``method`` (e.g. "videos.insert") costs."""
        return self.unit_costs.get(method, DEFAULT_UNIT_COSTS.get(method, 1))


@dataclass
class UploadResult:
    video_id: str
    privacy_status: str | None
    upload_status: str | None
    warning: str | None
    resource: dict


@dataclass
class MirrorState:
    """What the caller stores per mirrored video (JSON-safe via ``to_dict``)."""

    video_id: str | None = None
    session_uri: str | None = None  # an upload in progress; resumable for about a week
    session_size: int | None = None  # bytes of the file the session was opened for
    metadata_sha256: str | None = None
    caption_id: str | None = None
    caption_sha256: str | None = None
    playlist_items: dict[str, str] = field(default_factory=dict)  # playlist id -> playlist item id
    privacy_status: str | None = None  # as YouTube reports it
    warning: str | None = None  # Vietnamese; e.g. the API project forces uploads private

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> MirrorState:
        return cls(**(data or {}))


def next_pacific_midnight(now: datetime | None = None) -> datetime:
    """When the YouTube daily quota resets: next midnight America/Los_Angeles, as aware UTC."""
    local = (now or clock.now()).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), dtime(0), tzinfo=PACIFIC)
    return midnight.astimezone(timezone.utc)


# -- metadata ------------------------------------------------------------------------------

def _clean(text: str) -> str:
    text = unicodedata.normalize("NFC", text or "").replace("<", "").replace(">", "")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def _cut_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _cut_bytes(text: str, limit: int) -> str:
    if len(text.encode()) <= limit:
        return text
    cut = text.encode()[: max(limit - 3, 0)].decode("utf-8", "ignore").rstrip()
    return cut + "…" if cut else ""


def video_metadata(
    title: str,
    summary: str,
    documents: Iterable[tuple[str, str]],
    watch_url: str,
    tags: Iterable[str] = (),
    default_language: str = "vi",
    *,
    category_id: str = "27",
    privacy_status: str = "public",
) -> dict:
    """The ``snippet`` + ``status`` body for videos.insert / videos.update.

    ``documents`` are (number, title) of the legal documents the video
    explains, e.g. ("45/2019/QH14", "Bộ luật Lao động"). Enforces YouTube's
    limits: title ≤ 100 characters, description ≤ 5000 bytes, tags ≤ 500
    characters in total, no ``<``/``>`` anywhere; the link back to
    ``watch_url`` is always kept. Text is NFC. Raises ValueError for an
    empty title.
    """
    clean_title = " ".join(_clean(title).split())
    if not clean_title:
        raise ValueError("empty title")
    footer = f"Xem video và văn bản kèm theo trên trang của Sở Tư pháp: {watch_url}"
    budget = 5000 - len(footer.encode()) - 4
    doc_lines: list[str] = []
    for number, doc_title in documents:
        line = "• " + " – ".join(p for p in (" ".join(_clean(number).split()), " ".join(_clean(doc_title).split()))
                                 if p)
        if len("\n".join(["Văn bản pháp luật được giải thích:", *doc_lines, line]).encode()) > budget // 2:
            break
        doc_lines.append(line)
    docs_block = "\n".join(["Văn bản pháp luật được giải thích:", *doc_lines]) if doc_lines else ""
    summary_text = _cut_bytes(_clean(summary).strip(), budget - len(docs_block.encode()) - 2)
    description = "\n\n".join(p for p in (summary_text, docs_block, footer) if p)

    kept: list[str] = []
    seen: set[str] = set()
    total = 0
    for tag in tags:
        tag = " ".join(_clean(tag).replace(",", " ").replace('"', "").split())
        if not tag or tag.casefold() in seen:
            continue
        size = len(tag) + (2 if " " in tag else 0) + (1 if kept else 0)
        if total + size > 500:
            continue
        kept.append(tag)
        seen.add(tag.casefold())
        total += size
    return {
        "snippet": {
            "title": _cut_chars(clean_title, 100),
            "description": description,
            "tags": kept,
            "categoryId": category_id,
            "defaultLanguage": default_language,
            "defaultAudioLanguage": default_language,
        },
        "status": {
            "privacyStatus": privacy_status,
            "selfDeclaredMadeForKids": False,
            "embeddable": True,
        },
    }


def _digest(data: bytes | dict) -> str:
    if isinstance(data, dict):
        data = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


class _ChunkFile(MediaFileUpload):
    """MediaFileUpload whose chunks are sent as bytes, not a stream slice.

    httplib2 silently re-sends a request once when the connection looks stale;
    a consumed stream would then send an empty body. Bytes re-send correctly.
    """

    def has_stream(self) -> bool:
        return False


# -- the client ------------------------------------------------------------------------------

class YouTubeMirror:
    """Upload, update, caption, list and unpublish videos on one channel.

    ``spend(units, method)`` is called before every API request is sent
    (retries included; upload chunk PUTs are free); it may raise
    :class:`Postpone` itself when the caller's ledger is exhausted.
    ``sleep`` and ``now`` are injectable for tests. Not thread-safe (httplib2):
    one instance per worker thread.
    """

    def __init__(
        self,
        config: MirrorConfig,
        spend: Callable[[int, str], None] | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = clock.now,
    ):
        self.config = config
        self._spend_cb = spend
        self._sleep = sleep
        self._now = now
        credentials = Credentials(
            token=None,
            refresh_token=config.refresh_token,
            client_id=config.client_id,
            client_secret=config.client_secret,
            token_uri=config.token_uri,
        )
        transport = build_http()  # redirect_codes without 308
        transport.timeout = config.timeout
        self.http = AuthorizedHttp(credentials, http=transport)
        doc = json.loads(discovery_cache.get_static_doc("youtube", "v3"))
        doc["rootUrl"] = doc["mtlsRootUrl"] = config.api_root
        self.service = build_from_document(doc, http=self.http)

    # -- error handling -----------------------------------------------------------------
    def _spend(self, method: str) -> None:
        if self._spend_cb:
            self._spend_cb(self.config.cost(method), method)

    def _retry_at(self) -> datetime:
        return self._now() + timedelta(seconds=self.config.retry_later)

    def _handle(self, exc: BaseException, attempt: int) -> None:
        """Raise Postpone/MirrorFailed, or sleep before the next attempt of a transient failure."""
        if isinstance(exc, HttpError):
            status, reason, message = _error_details(exc)
            if reason in QUOTA_REASONS:
                retry_at = next_pacific_midnight(self._now())
                when = retry_at.astimezone(VN).strftime("%H:%M ngày %d/%m/%Y")
                what = ("Kênh YouTube đã đạt giới hạn số video được tải lên"
                        if reason == "uploadLimitExceeded" else "Đã dùng hết hạn mức (quota) YouTube API")
                raise Postpone(f"{what} trong ngày; hệ thống sẽ tự thử lại sau {when} (giờ Việt Nam), "
                               "khi hạn mức được đặt lại lúc nửa đêm giờ Thái Bình Dương.",
                               retry_at, status=status, api_reason=reason) from exc
            if not (status >= 500 or status == 429 or reason in RATE_REASONS):
                if status == 401:
                    raise MirrorFailed("YouTube không chấp nhận quyền truy cập của hệ thống; cần kết nối lại "
                                       "tài khoản YouTube của Sở.", status=status, api_reason=reason) from exc
                raise MirrorFailed(f"YouTube từ chối yêu cầu (mã {status}, {reason}): {message}",
                                   status=status, api_reason=reason) from exc
            detail = f"mã {status}"
        elif isinstance(exc, google.auth.exceptions.RefreshError) and not getattr(exc, "retryable", False):
            raise MirrorFailed("Mã ủy quyền YouTube (refresh token) không còn hiệu lực hoặc đã bị thu hồi; "
                               "cần kết nối lại tài khoản YouTube của Sở.", api_reason="invalid_grant") from exc
        elif isinstance(exc, TRANSPORT_ERRORS + (google.auth.exceptions.RefreshError,)):
            detail = type(exc).__name__
        else:
            raise exc
        if attempt >= self.config.max_retries:
            raise Postpone(f"YouTube tạm thời không phản hồi ({detail}) sau {attempt + 1} lần thử; "
                           "hệ thống sẽ thử lại sau.", self._retry_at(),
                           status=getattr(exc, "status_code", None)) from exc
        delay = min(self.config.backoff_max, self.config.backoff_base * 2**attempt)
        self._sleep(delay / 2 + random.uniform(0, delay / 2))

    def _execute(self, method: str, make_request: Callable[[], object]) -> dict:
        """One API call with bounded exponential backoff + jitter on transient errors."""
        attempt = 0
        while True:
            self._spend(method)
            try:
                return make_request().execute(num_retries=0)
            except Exception as exc:  # noqa: BLE001 - classified by _handle
                self._handle(exc, attempt)
                attempt += 1

    # -- resumable upload -----------------------------------------------------------------
    def _insert_request(self, path: str, body: dict | None = None):
        mimetype = mimetypes.guess_type(path)[0] or "application/octet-stream"
        media = _ChunkFile(path, mimetype=mimetype, chunksize=self.config.chunk_size, resumable=True)
        return self.service.videos().insert(part="snippet,status", body=body, media_body=media)

    def start_upload(self, path: str, metadata: dict) -> str:
        """Open a resumable upload session for ``path``; returns the session URI to store.

        Only the metadata is sent (one videos.insert in quota); no video bytes.
        Raises Postpone or MirrorFailed.
        """
        size = os.path.getsize(path)
        request = self._insert_request(path, metadata)
        headers = {**request.headers, "X-Upload-Content-Type": request.resumable.mimetype(),
                   "X-Upload-Content-Length": str(size), "content-length": str(request.body_size)}
        attempt = 0
        while True:
            self._spend("videos.insert")
            try:
                resp, content = self.http.request(request.uri, request.method, body=request.body, headers=headers)
                if resp.status == 200 and "location" in resp:
                    return resp["location"]
                raise HttpError(resp, content, uri=request.uri)
            except Exception as exc:  # noqa: BLE001
                self._handle(exc, attempt)
                attempt += 1

    def upload_status(self, session_uri: str, size: int) -> tuple[int, dict | None]:
        """Ask the session how far it got: (bytes confirmed, video resource if complete).

        An empty PUT with ``Content-Range: bytes */size``; 308 + ``Range:
        bytes=0-N`` means N+1 bytes are stored. Raises SessionGone on 404/410,
        HttpError/transport errors otherwise.
        """
        resp, content = self.http.request(session_uri, "PUT",
                                          headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
        if resp.status in (200, 201):
            return size, json.loads(content)
        if resp.status == 308:
            rng = resp.get("range")
            return (int(rng.rsplit("-", 1)[1]) + 1 if rng else 0), None
        if resp.status in (404, 410):
            raise SessionGone("Phiên tải lên YouTube đã hết hạn; cần tải lại từ đầu.", status=resp.status)
        raise HttpError(resp, content, uri=session_uri)

    def resume(
        self,
        session_uri: str,
        path: str,
        on_progress: Callable[[int, int], None] | None = None,
        *,
        _offset: int | None = None,
    ) -> UploadResult:
        """Send the rest of ``path`` to an open session, from the byte the server confirmed.

        Works in a fresh process with only the stored URI. ``on_progress(sent,
        total)`` gets bytes confirmed by YouTube after each chunk. Retries
        transient failures (connection drops, 5xx, 429, rate limits) with
        exponential backoff, re-asking the session its offset each time.
        Raises SessionGone (start again with :meth:`start_upload`), Postpone,
        MirrorFailed.
        """
        size = os.path.getsize(path)
        offset = _offset
        attempt = 0
        while True:
            try:
                if offset is None:
                    offset, resource = self.upload_status(session_uri, size)
                    if resource is not None:
                        return self._upload_result(resource)
                    if on_progress:
                        on_progress(offset, size)
                request = self._insert_request(path)
                request.resumable_uri, request.resumable_progress = session_uri, offset
                while True:
                    _, resource = request.next_chunk(num_retries=0)
                    if resource is not None:
                        if on_progress:
                            on_progress(size, size)
                        return self._upload_result(resource)
                    offset, attempt = request.resumable_progress, 0
                    if on_progress:
                        on_progress(offset, size)
            except SessionGone:
                raise
            except HttpError as exc:
                if exc.status_code in (404, 410):
                    raise SessionGone("Phiên tải lên YouTube đã hết hạn; cần tải lại từ đầu.",
                                      status=exc.status_code) from exc
                self._handle(exc, attempt)
            except Exception as exc:  # noqa: BLE001
                self._handle(exc, attempt)
            attempt += 1
            offset = None  # ask the server where to go on

    def upload(
        self,
        path: str,
        metadata: dict,
        *,
        session_uri: str | None = None,
        on_session: Callable[[str | None], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> UploadResult:
        """Upload ``path`` with ``metadata``, resuming ``session_uri`` if given.

        ``on_session(uri)`` fires when a session opens (store it before any
        byte goes out) and ``on_session(None)`` when a stored session turned
        out to be gone and a new one will be opened. Raises Postpone,
        MirrorFailed.
        """
        for _ in range(3):
            fresh = session_uri is None
            if fresh:
                session_uri = self.start_upload(path, metadata)
                if on_session:
                    on_session(session_uri)
            try:
                return self.resume(session_uri, path, on_progress, _offset=0 if fresh else None)
            except SessionGone:
                session_uri = None
                if on_session:
                    on_session(None)
        raise MirrorFailed("YouTube liên tục hủy phiên tải lên; không thể tải video lên.")

    def _warning(self, status: dict) -> str | None:
        if status.get("uploadStatus") in ("failed", "rejected"):
            why = status.get("rejectionReason") or status.get("failureReason") or status["uploadStatus"]
            return f"YouTube không nhận video (lý do: {why})."
        if self.config.privacy_status != "private" and status.get("privacyStatus") == "private":
            return FORCED_PRIVATE_VI
        return None

    def _upload_result(self, resource: dict) -> UploadResult:
        status = resource.get("status") or {}
        return UploadResult(resource["id"], status.get("privacyStatus"), status.get("uploadStatus"),
                            self._warning(status), resource)

    # -- keeping in step ------------------------------------------------------------------
    def update_metadata(self, video_id: str, metadata: dict) -> dict:
        """videos.update(part=snippet,status); returns the video resource. Raises Postpone, MirrorFailed."""
        body = {"id": video_id, **{k: metadata[k] for k in ("snippet", "status") if k in metadata}}
        return self._execute("videos.update", lambda: self.service.videos().update(
            part=",".join(k for k in ("snippet", "status") if k in body), body=body))

    def set_privacy(self, video_id: str, privacy_status: str) -> dict:
        """Change only ``status.privacyStatus`` (reads status first: videos.update resets omitted fields)."""
        found = self._execute("videos.list", lambda: self.service.videos().list(part="status", id=video_id))
        if not found.get("items"):
            raise MirrorFailed("Video không còn trên YouTube.", status=404, api_reason="videoNotFound")
        writable = ("privacyStatus", "embeddable", "license", "publicStatsViewable", "publishAt",
                    "selfDeclaredMadeForKids", "containsSyntheticMedia")
        status = {k: v for k, v in found["items"][0]["status"].items() if k in writable}
        status["privacyStatus"] = privacy_status
        return self._execute("videos.update", lambda: self.service.videos().update(
            part="status", body={"id": video_id, "status": status}))

    def delete(self, video_id: str) -> None:
        """Delete the video; a video already gone counts as deleted."""
        try:
            self._execute("videos.delete", lambda: self.service.videos().delete(id=video_id))
        except MirrorFailed as exc:
            if exc.status != 404:
                raise

    def unpublish(self, video_id: str) -> str:
        """Take the video off the channel per ``config.unpublish_action``; returns "private" or "delete"."""
        if self.config.unpublish_action == "delete":
            self.delete(video_id)
        else:
            self.set_privacy(video_id, "private")
        return self.config.unpublish_action

    def upload_captions(
        self,
        video_id: str,
        data: bytes,
        language: str = "vi",
        name: str = "Tiếng Việt",
        existing_caption_id: str | None = None,
    ) -> str:
        """Upload a WebVTT/SRT track; returns its caption id (store it).

        captions.update (with media) when ``existing_caption_id`` is given,
        captions.insert otherwise. YouTube refuses a second insert with the
        same language and name (409 captionExists): then the track is looked
        up with captions.list and updated. Raises Postpone, MirrorFailed.
        """
        name = unicodedata.normalize("NFC", name)

        def media():
            return MediaIoBaseUpload(io.BytesIO(data), mimetype="application/octet-stream", resumable=False)

        def update(caption_id: str) -> str:
            body = {"id": caption_id, "snippet": {"isDraft": False}}
            return self._execute("captions.update", lambda: self.service.captions().update(
                part="snippet", body=body, media_body=media()))["id"]

        if existing_caption_id:
            try:
                return update(existing_caption_id)
            except MirrorFailed as exc:
                if exc.status != 404:
                    raise
        snippet = {"videoId": video_id, "language": language, "name": name, "isDraft": False}
        try:
            return self._execute("captions.insert", lambda: self.service.captions().insert(
                part="snippet", body={"snippet": snippet}, media_body=media()))["id"]
        except MirrorFailed as exc:
            if exc.api_reason != "captionExists":
                raise
        listed = self._execute("captions.list", lambda: self.service.captions().list(
            part="snippet", videoId=video_id))
        for item in listed.get("items", []):
            s = item.get("snippet", {})
            if s.get("language") == language and unicodedata.normalize("NFC", s.get("name", "")) == name:
                return update(item["id"])
        raise MirrorFailed("YouTube báo đã có phụ đề cùng ngôn ngữ và tên nhưng không tìm thấy để cập nhật.",
                           api_reason="captionExists")

    def add_to_playlist(self, playlist_id: str, video_id: str, existing_item_id: str | None = None) -> str:
        """Put the video in the playlist once; returns the playlist item id (store it)."""
        if existing_item_id:
            return existing_item_id
        found = self._execute("playlistItems.list", lambda: self.service.playlistItems().list(
            part="id", playlistId=playlist_id, videoId=video_id, maxResults=1))
        if found.get("items"):
            return found["items"][0]["id"]
        body = {"snippet": {"playlistId": playlist_id,
                            "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
        return self._execute("playlistItems.insert", lambda: self.service.playlistItems().insert(
            part="snippet", body=body))["id"]

    # -- all together -----------------------------------------------------------------------
    def mirror(
        self,
        state: MirrorState,
        *,
        path: str,
        metadata: dict,
        captions: bytes | None = None,
        caption_language: str = "vi",
        caption_name: str = "Tiếng Việt",
        topics: Iterable[str] = (),
        on_state: Callable[[MirrorState], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> MirrorState:
        """Bring the YouTube copy in step with the hub; returns (and mutates) ``state``.

        Uploads only while ``state.video_id`` is empty (resuming a stored
        session); otherwise updates the metadata if it changed. Captions are
        re-sent only when their bytes changed; the video is added to the
        playlists of ``topics`` (slugs in ``config.playlist_ids``) once.
        ``on_state`` fires after every change worth storing. Raises Postpone
        (state kept: call again later) or MirrorFailed.
        """

        def save() -> None:
            if on_state:
                on_state(state)

        meta_digest = _digest(metadata)
        if state.video_id is None:
            size = os.path.getsize(path)
            if state.session_uri and state.session_size != size:
                state.session_uri = state.session_size = None

            def on_session(uri: str | None) -> None:
                state.session_uri, state.session_size = uri, (size if uri else None)
                save()

            result = self.upload(path, metadata, session_uri=state.session_uri,
                                 on_session=on_session, on_progress=on_progress)
            state.video_id, state.session_uri, state.session_size = result.video_id, None, None
            state.metadata_sha256, state.privacy_status = meta_digest, result.privacy_status
            state.warning = result.warning
            save()
        elif state.metadata_sha256 != meta_digest:
            resource = self.update_metadata(state.video_id, metadata)
            status = resource.get("status") or {}
            state.metadata_sha256, state.privacy_status = meta_digest, status.get("privacyStatus")
            state.warning = self._warning(status)
            save()

        if captions is not None and _digest(captions) != state.caption_sha256:
            state.caption_id = self.upload_captions(state.video_id, captions, caption_language, caption_name,
                                                    state.caption_id)
            state.caption_sha256 = _digest(captions)
            save()

        for topic in topics:
            playlist_id = self.config.playlist_ids.get(topic)
            if playlist_id and playlist_id not in state.playlist_items:
                state.playlist_items[playlist_id] = self.add_to_playlist(playlist_id, state.video_id)
                save()
        return state


def _error_details(exc: HttpError) -> tuple[int, str | None, str]:
    """(HTTP status, first error reason, message) of an API error."""
    reason, message = None, ""
    try:
        error = json.loads(exc.content.decode("utf-8"))["error"]
        message = error.get("message", "")
        errors = error.get("errors") or []
        reason = errors[0].get("reason") if errors else error.get("status")
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    return exc.status_code, reason, message
