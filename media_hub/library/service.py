"""Library domain: accepting originals, creating items and jobs, reading them back."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import magic
from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session

from media_hub.accounts.models import User
from media_hub.legal.service import search_condition, search_text
from media_hub.library.models import Job, JobState, MediaItem, MediaKind, MediaStatus
from media_hub.policy import visible_items
from media_hub.review.models import AuditEvent
from players import KIND_LABELS
from storage import Storage

SNIFF_BYTES = 8192


class UnsupportedMedia(ValueError):
    """The file is obviously not audio or video; ``str()`` is a Vietnamese sentence."""


class InvalidInput(ValueError):
    """A form field is wrong; ``str()`` is a Vietnamese sentence."""


def sniff(head: bytes) -> str:
    """MIME type of a file from its first bytes (libmagic).

    Raises :class:`UnsupportedMedia` for text, documents, images and archives;
    accepts ``audio/*``, ``video/*`` and unrecognised binary data, which the
    worker's probe then judges.
    """
    mime = magic.from_buffer(head, mime=True) if head else "application/x-empty"
    if mime.startswith(("audio/", "video/")) or mime == "application/octet-stream":
        return mime
    if mime == "application/x-empty":
        raise UnsupportedMedia("Tệp rỗng: không có dữ liệu âm thanh hay hình ảnh.")
    described = "văn bản" if mime.startswith("text/") else mime
    raise UnsupportedMedia(
        f"Tệp này không phải video hay âm thanh (nhận diện là {described}). "
        "Hãy chọn tệp video (MP4, MKV, MOV…) hoặc âm thanh (MP3, WAV, M4A…)."
    )


def clean_text(value: str | None, *, field: str, required: bool = False, max_len: int = 300) -> str:
    """Strip and NFC-normalise a form field; raises :class:`InvalidInput`."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if required and not text:
        raise InvalidInput(f"Thiếu {field}.")
    if len(text) > max_len:
        raise InvalidInput(f"{field.capitalize()} dài quá {max_len} ký tự.")
    return text


def parse_kind(value: str | None) -> MediaKind:
    try:
        return MediaKind(value or "")
    except ValueError:
        allowed = ", ".join(f"{kind} ({label})" for kind, label in KIND_LABELS.items())
        raise InvalidInput(f"Loại nội dung không hợp lệ. Chọn một trong: {allowed}.") from None


def unique_slug(session: Session, title: str) -> str:
    """An ASCII slug of the Vietnamese title ("Luật Giao thông" → "luat-giao-thong"),
    suffixed -2, -3… when taken."""
    base = slugify(title, max_length=80, word_boundary=True) or "video"
    slug, n = base, 1
    while session.scalar(select(MediaItem.id).where(MediaItem.slug == slug)) is not None:
        n += 1
        slug = f"{base}-{n}"
    return slug


@dataclass(frozen=True)
class Original:
    """An original file received into local scratch space, already checked."""

    path: Path
    filename: str  # as the user named it (NFC), only for display and download names
    size: int  # bytes
    sha256: str
    content_type: str


def original_from_path(path: Path, filename: str | None = None) -> Original:
    """Checksum and sniff a local file (the CLI's way in). Raises :class:`UnsupportedMedia`."""
    with path.open("rb") as fh:
        content_type = sniff(fh.read(SNIFF_BYTES))
        fh.seek(0)
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    name = unicodedata.normalize("NFC", filename or path.name)
    return Original(path, name, path.stat().st_size, digest, content_type)


def create_item(
    session: Session,
    store: Storage,
    original: Original,
    *,
    title: str,
    kind: MediaKind,
    description: str = "",
    owner: User | None = None,
) -> tuple[MediaItem, Job]:
    """Store the original under a generated key and create the item (owned by
    ``owner``) and its transcode job (state queued). The caller commits, then
    enqueues the job."""
    public_id = secrets.token_hex(16)
    key = f"media/{public_id}/original"
    store.put_file(key, original.path, content_type=original.content_type, cache_control="private, max-age=0")
    item = MediaItem(
        public_id=public_id,
        slug=unique_slug(session, title),
        title=title,
        description=description,
        kind=kind,
        checksum=original.sha256,
        size_bytes=original.size,
        original_filename=original.filename,
        original_content_type=original.content_type,
        original_key=key,
        owner=owner,
    )
    item.search_text = search_text(item)
    item.audit.append(AuditEvent(actor=owner, action="upload", from_status=None, to_status=MediaStatus.uploaded))
    job = Job(item=item, task="transcode", state=JobState.queued)
    session.add_all([item, job])
    session.flush()
    return item, job


def list_items(
    session: Session, user: User | None, *, query: str = "", limit: int = 50, offset: int = 0
) -> list[MediaItem]:
    """Items ``user`` may view, newest first, matching ``query`` (accent-insensitive) if given."""
    stmt = select(MediaItem).where(visible_items(user))
    if (cond := search_condition(query)) is not None:
        stmt = stmt.where(cond)
    return list(session.scalars(stmt.order_by(MediaItem.id.desc()).limit(limit).offset(offset)))


def get_by_slug(session: Session, slug: str) -> MediaItem | None:
    return session.scalar(select(MediaItem).where(MediaItem.slug == slug))
