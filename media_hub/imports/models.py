"""Imports of videos from URLs (yt-dlp)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from media_hub.db import Base, UtcDateTime, utcnow


class ImportState(enum.StrEnum):
    queued = "queued"
    downloading = "downloading"
    done = "done"  # item created, normal pipeline running
    duplicate = "duplicate"  # the same URL or the same file is already in the library
    failed = "failed"


class UrlImport(Base):
    __tablename__ = "url_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    normalized_url: Mapped[str] = mapped_column(String(2000), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(300))  # wanted title; default: the source's
    state: Mapped[ImportState] = mapped_column(
        Enum(ImportState, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=ImportState.queued,
    )
    progress: Mapped[float] = mapped_column(default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("media_item.id", ondelete="SET NULL"))
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("media_item.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)
