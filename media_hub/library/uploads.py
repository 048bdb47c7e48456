"""Streaming receipt of ``multipart/form-data`` uploads (python-multipart's push parser).

The request body is parsed as it arrives: the file part goes straight to a
scratch file while its sha256 is computed, so memory stays flat whatever the
file size, and an upload over the limit is cut off as soon as it passes it.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from players import format_filesize

MAX_FIELD_BYTES = 64 * 1024


class UploadRejected(Exception):
    """``status`` is the HTTP status, ``str()`` a Vietnamese sentence."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class ReceivedFile:
    path: Path
    filename: str  # NFC, as sent by the client
    size: int = 0  # bytes
    sha256: str = ""


@dataclass
class _State:
    fields: dict[str, str] = field(default_factory=dict)
    file: ReceivedFile | None = None
    headers: dict[str, bytes] = field(default_factory=dict)
    header_field: bytes = b""
    name: str | None = None
    buffer: bytearray = field(default_factory=bytearray)
    sink: BinaryIO | None = None
    hasher: object = None


def client_filename(raw: bytes) -> str:
    """The file name a browser sent: UTF-8, NFC, without any folder part, with the
    ``%22``/``%0D``/``%0A`` escapes of the HTML multipart encoding undone."""
    name = raw.decode("utf-8", "replace")
    for escaped, char in (("%22", '"'), ("%0D", "\r"), ("%0A", "\n")):
        name = name.replace(escaped, char)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return unicodedata.normalize("NFC", name).strip() or "upload"


def too_large_message(limit: int) -> str:
    return f"Tệp quá lớn: giới hạn tải lên là {format_filesize(limit)}."


async def receive(request: Request, file_field: str, scratch_dir: Path, max_file_bytes: int):
    """Parse the body of ``request``; returns ``(fields, ReceivedFile | None)``.

    Text fields are decoded as UTF-8 and NFC-normalised. Raises
    :class:`UploadRejected` (400 malformed, 413 over ``max_file_bytes``, 415 not multipart).
    On error the scratch file is removed.
    """
    ctype, params = parse_options_header(request.headers.get("content-type"))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise UploadRejected(415, "Yêu cầu phải gửi dạng multipart/form-data.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_file_bytes + MAX_FIELD_BYTES * 8:
        raise UploadRejected(413, too_large_message(max_file_bytes))

    st = _State()
    scratch_dir.mkdir(parents=True, exist_ok=True)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        st.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        name = st.header_field.lower().decode("latin-1")
        st.headers[name] = st.headers.get(name, b"") + data[start:end]

    def on_header_end() -> None:
        st.header_field = b""

    def on_headers_finished() -> None:
        _, disp = parse_options_header(st.headers.get("content-disposition"))
        st.name = disp.get(b"name", b"").decode("utf-8", "replace")
        filename = disp.get(b"filename")
        if st.name == file_field and filename is not None:
            if st.file is not None:
                raise UploadRejected(400, "Chỉ gửi một tệp mỗi lần tải lên.")
            name = client_filename(filename)
            st.file = ReceivedFile(scratch_dir / f"upload-{secrets.token_hex(8)}", name)
            st.sink = st.file.path.open("wb")
            st.hasher = hashlib.sha256()
        st.buffer.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if st.sink is not None:
            st.file.size += len(chunk)
            if st.file.size > max_file_bytes:
                raise UploadRejected(413, too_large_message(max_file_bytes))
            st.sink.write(chunk)
            st.hasher.update(chunk)
        else:
            st.buffer += chunk
            if len(st.buffer) > MAX_FIELD_BYTES:
                raise UploadRejected(413, "Trường văn bản quá dài.")

    def on_part_end() -> None:
        if st.sink is not None:
            st.sink.close()
            st.sink = None
            st.file.sha256 = st.hasher.hexdigest()
        elif st.name:
            text = st.buffer.decode("utf-8", "replace")
            st.fields[st.name] = unicodedata.normalize("NFC", text)
        st.headers, st.name = {}, None

    parser = MultipartParser(
        boundary,
        {
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
        if st.sink is not None:  # body ended inside the file part
            raise UploadRejected(400, "Tải lên bị ngắt giữa chừng; hãy thử lại.")
    except Exception as exc:
        if st.sink is not None:
            st.sink.close()
        if st.file is not None:
            st.file.path.unlink(missing_ok=True)
        if isinstance(exc, UploadRejected):
            raise
        raise UploadRejected(400, "Dữ liệu tải lên không đúng định dạng multipart.") from exc
    return st.fields, st.file
