"""Serving blob-storage objects over HTTP: byte ranges (RFC 9110 §14), cache
headers, download names (RFC 6266 / RFC 8187), and hand-off to nginx.

With ``accel_redirect`` set (behind deploy/nginx/media-hub.conf), a file of local
storage is answered with ``X-Accel-Redirect: <accel_redirect><key>`` and no body:
the hub has decided who may have it, nginx sends the bytes (ranges, sendfile) from
its ``internal`` location. Other backends (S3) are streamed by the hub."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

from media_hub.library.models import MediaItem
from media_hub.policy import Action, can
from storage import InvalidKey, ObjectNotFound, Storage

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """``attachment; filename="ascii"; filename*=UTF-8''percent-encoded`` (RFC 6266 §4.3):
    the ASCII fallback drops diacritics and replaces characters unsafe in a quoted string."""
    name = unicodedata.normalize("NFC", filename)
    ascii_name = unicodedata.normalize("NFKD", name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = ascii_name.encode("ascii", "ignore").decode()
    ascii_name = re.sub(r'[^A-Za-z0-9._ ()-]', "_", ascii_name).strip() or "download"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


# Objects of published items: a browser may reuse them for a minute, then asks again (and
# the hub checks the item's state again); shared caches never keep them, so unpublishing
# takes effect at once for everyone who has not already fetched them.
PUBLISHED_CACHE = "private, max-age=60"
UNPUBLISHED_CACHE = "private, no-store"


def item_cache(published: bool) -> str:
    """The ``Cache-Control`` of an item's objects: :data:`PUBLISHED_CACHE` or :data:`UNPUBLISHED_CACHE`."""
    return PUBLISHED_CACHE if published else UNPUBLISHED_CACHE


def serve_item_object(store: Storage, item: MediaItem, key: str, request: Request, *,
                      download_name: str | None = None, private: bool = False) -> Response:
    """Object ``key`` of ``item`` (the caller has checked that the requester may have it).
    Its ``Cache-Control`` is decided here, never taken from storage (where segments are
    stored ``immutable``): :data:`PUBLISHED_CACHE` only while the public may view the item
    (:mod:`media_hub.policy`) and not ``private`` (originals), else :data:`UNPUBLISHED_CACHE`."""
    public = can(None, Action.view, item) and not private
    return serve_object(store, key, request, download_name=download_name, cache_control=item_cache(public))


def serve_object(store: Storage, key: str, request: Request, *, download_name: str | None = None,
                 cache_control: str | None = None) -> Response:
    """A response for object ``key``; 404 if it is missing or the key is invalid,
    206 for a satisfiable single ``Range``, 416 for an unsatisfiable one; behind nginx
    (setting ``accel_redirect``) an empty 200 with ``X-Accel-Redirect`` for local files.
    ``cache_control`` replaces the header stored with the object."""
    try:
        info = store.stat(key)
    except (ObjectNotFound, InvalidKey):
        raise HTTPException(404, "Không tìm thấy tệp.") from None
    headers = {"Accept-Ranges": "bytes"}
    if cache_control or info.cache_control:
        headers["Cache-Control"] = cache_control or info.cache_control
    if info.etag:
        headers["ETag"] = f'"{info.etag.strip(chr(34))}"'
    if download_name:
        headers["Content-Disposition"] = content_disposition(download_name)
    media_type = info.content_type or "application/octet-stream"

    path = store.local_path(key)
    accel = request.app.state.settings.accel_redirect
    if path is not None and accel:  # nginx sends the file: ranges, validators (its own ETag)
        del headers["Accept-Ranges"]
        headers.pop("ETag", None)
        return Response(headers={**headers, "X-Accel-Redirect": accel + key}, media_type=media_type)
    if path is not None:  # Starlette handles Range and sendfile for local files
        return FileResponse(path, media_type=media_type, headers=headers)

    start, end = 0, info.size - 1
    status = 200
    match = _RANGE.match(request.headers.get("range", ""))
    if match and (match[1] or match[2]):
        if match[1]:
            start = int(match[1])
            end = min(int(match[2]), info.size - 1) if match[2] else info.size - 1
        else:  # suffix range: the last N bytes
            start = max(0, info.size - int(match[2]))
        if start > end or start >= info.size:
            return Response(status_code=416, headers={"Content-Range": f"bytes */{info.size}"})
        status = 206
        headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    headers["Content-Length"] = str(end - start + 1)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=media_type)
    return StreamingResponse(store.iter_range(key, start, end), status_code=status, headers=headers, media_type=media_type)
