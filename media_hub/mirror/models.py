"""YouTube mirror state per item and the YouTube API units spent per day."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from media_hub.db import Base, UtcDateTime, utcnow


class MirrorStatus(enum.StrEnum):
    pending = "pending"
    uploading = "uploading"
    mirrored = "mirrored"
    postponed = "postponed"  # quota or upload limit: retried after retry_at
    failed = "failed"
    withdrawn = "withdrawn"  # unpublished in the hub: private or deleted on YouTube


class YouTubeMirror(Base):
    __tablename__ = "youtube_mirror"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), unique=True)
    status: Mapped[MirrorStatus] = mapped_column(
        Enum(MirrorStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=MirrorStatus.pending,
    )
    video_id: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1 of the upload
    # media_hub.mirror.youtube.MirrorState: resumable session URI, caption and playlist ids…
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    retry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    error: Mapped[str | None] = mapped_column(Text)  # Vietnamese reason (failed, postponed)
    warning: Mapped[str | None] = mapped_column(Text)  # e.g. uploads forced private
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)


class QuotaUsage(Base):
    """YouTube Data API units spent on a Pacific-time day, per method."""

    __tablename__ = "youtube_quota"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    method: Mapped[str] = mapped_column(String(40), primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)
