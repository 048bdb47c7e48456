"""Legal metadata and search: documents, topics, and accent-insensitive matching."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from slugify import slugify
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from media_hub.legal.models import DocType, LegalDocument, Topic
from media_hub.library.models import MediaItem
from media_hub.radio.models import Programme

DOCUMENT_NUMBER = re.compile(r"^\d{1,4}/\d{4}/[A-ZĐ0-9-]{2,20}$")


class MetadataError(ValueError):
    """``str()`` is a Vietnamese sentence."""


def fold(text: str) -> str:
    """Lower case without diacritics: "Luật Giao thông" → "luat giao thong" (đ → d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(stripped.lower().split())


def search_text(item: MediaItem) -> str:
    """The folded text an item is found by: title, description, audience, topics, documents
    and the *reviewed* subtitle revisions. One index serves every caller, so it holds only
    what the public may read once the item is published: never a draft transcript."""
    parts = [item.title, item.description or "", item.audience or ""]
    parts += [t.name for t in item.topics]
    parts += [f"{d.doc_type} {d.number} {d.title} {d.issuing_body}" for d in item.documents]
    parts += [str(text) for track in item.subtitle_tracks if track.reviewed for _, _, text in track.reviewed.cues]
    return fold(" ".join(parts))


def search_condition(query: str):
    """SQL condition: every folded word of ``query`` occurs in the item's search text."""
    words = fold(query).split()
    return and_(*(MediaItem.search_text.contains(w, autoescape=True) for w in words)) if words else None


def create_topic(session: Session, name: str, description: str = "") -> Topic:
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise MetadataError("Thiếu tên chủ đề.")
    slug = slugify(name, max_length=90)
    if session.scalar(select(Topic.id).where(Topic.slug == slug)) is not None:
        raise MetadataError(f"Chủ đề “{name}” đã có.")
    topic = Topic(name=name, slug=slug, description=unicodedata.normalize("NFC", description.strip()))
    session.add(topic)
    session.flush()
    return topic


def create_document(
    session: Session,
    *,
    number: str,
    title: str,
    doc_type: str,
    issuing_body: str = "",
    effective_date: date | None = None,
) -> LegalDocument:
    """Raises :class:`MetadataError` for a malformed number (e.g. "36/2024/QH15"), unknown type or duplicate."""
    number = unicodedata.normalize("NFC", number.strip().upper())
    if not DOCUMENT_NUMBER.match(number):
        raise MetadataError("Số hiệu văn bản không đúng dạng, ví dụ: 36/2024/QH15 hoặc 168/2024/NĐ-CP.")
    try:
        kind = DocType(unicodedata.normalize("NFC", doc_type.strip()))
    except ValueError:
        raise MetadataError("Loại văn bản phải là: " + ", ".join(t.value for t in DocType) + ".") from None
    title = unicodedata.normalize("NFC", title.strip())
    if not title:
        raise MetadataError("Thiếu tên văn bản.")
    if session.scalar(select(LegalDocument.id).where(LegalDocument.number == number)) is not None:
        raise MetadataError(f"Văn bản số {number} đã có.")
    doc = LegalDocument(
        number=number, title=title, doc_type=kind, issuing_body=issuing_body.strip(), effective_date=effective_date
    )
    session.add(doc)
    session.flush()
    return doc


def list_topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.name)))


def list_documents(session: Session) -> list[LegalDocument]:
    return list(session.scalars(select(LegalDocument).order_by(LegalDocument.number)))


def set_item_metadata(
    session: Session,
    item: MediaItem,
    *,
    title: str | None = None,
    description: str | None = None,
    audience: str | None = None,
    topic_ids: list[int] | None = None,
    document_ids: list[int] | None = None,
    programme_id: int | None = None,
) -> None:
    """Update the given fields (None: unchanged) and the search text. Raises :class:`MetadataError`."""
    if title is not None:
        title = unicodedata.normalize("NFC", title.strip())
        if not title:
            raise MetadataError("Thiếu tiêu đề.")
        item.title = title[:300]
    if description is not None:
        item.description = unicodedata.normalize("NFC", description.strip())
    if audience is not None:
        item.audience = unicodedata.normalize("NFC", audience.strip())[:200]
    if topic_ids is not None:
        topics = list(session.scalars(select(Topic).where(Topic.id.in_(topic_ids))))
        if len(topics) != len(set(topic_ids)):
            raise MetadataError("Có chủ đề không tồn tại.")
        item.topics = topics
    if document_ids is not None:
        docs = list(session.scalars(select(LegalDocument).where(LegalDocument.id.in_(document_ids))))
        if len(docs) != len(set(document_ids)):
            raise MetadataError("Có văn bản pháp luật không tồn tại.")
        item.documents = docs
    if programme_id is not None:
        if programme_id and session.get(Programme, programme_id) is None:
            raise MetadataError("Chương trình phát thanh không tồn tại.")
        item.programme_id = programme_id or None
    item.search_text = search_text(item)
