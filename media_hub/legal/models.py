"""Legal metadata: the legal documents an item explains, and the topic taxonomy."""

from __future__ import annotations

import enum
from datetime import date

from sqlalchemy import Column, Date, Enum, ForeignKey, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column

from media_hub.db import Base


class DocType(enum.StrEnum):
    """Types of Vietnamese legal documents (Luật Ban hành văn bản quy phạm pháp luật)."""

    luat = "Luật"
    bo_luat = "Bộ luật"
    nghi_dinh = "Nghị định"
    thong_tu = "Thông tư"
    nghi_quyet = "Nghị quyết"
    quyet_dinh = "Quyết định"


class LegalDocument(Base):
    __tablename__ = "legal_document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)  # e.g. "36/2024/QH15"
    title: Mapped[str] = mapped_column(String(500))
    doc_type: Mapped[DocType] = mapped_column(
        Enum(DocType, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])
    )
    issuing_body: Mapped[str] = mapped_column(String(200), default="")
    effective_date: Mapped[date | None] = mapped_column(Date)

    @property
    def label(self) -> str:
        return f"{self.doc_type} số {self.number}: {self.title}"


class Topic(Base):
    __tablename__ = "topic"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


item_document = Table(
    "item_document",
    Base.metadata,
    Column("item_id", ForeignKey("media_item.id", ondelete="CASCADE"), primary_key=True),
    Column("document_id", ForeignKey("legal_document.id", ondelete="CASCADE"), primary_key=True),
)

item_topic = Table(
    "item_topic",
    Base.metadata,
    Column("item_id", ForeignKey("media_item.id", ondelete="CASCADE"), primary_key=True),
    Column("topic_id", ForeignKey("topic.id", ondelete="CASCADE"), primary_key=True),
)
