"""Serving blob-storage objects over HTTP: byte ranges (RFC 9110 §14), cache
headers stored with the object, and download names (RFC 6266 / RFC 8187)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import FileResponse, Response, StreamingResponse

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


def serve_object(store: Storage, key: str, request: Request, *, download_name: str | None = None) -> Response:
    """A response for object ``key``; 404 if it is missing or the key is invalid,
    206 for a satisfiable single ``Range``, 416 for an unsatisfiable one."""
    try:
        info = store.stat(key)
    except (ObjectNotFound, InvalidKey):
        raise HTTPException(404, "Không tìm thấy tệp.") from None
    headers = {"Accept-Ranges": "bytes"}
    if info.cache_control:
        headers["Cache-Control"] = info.cache_control
    if info.etag:
        headers["ETag"] = f'"{info.etag.strip(chr(34))}"'
    if download_name:
        headers["Content-Disposition"] = content_disposition(download_name)
    media_type = info.content_type or "application/octet-stream"

    path = store.local_path(key)
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
