"""The channel's stored state: its fixed profile, the nominal schedule, rotations for the
auto-scheduler, channel-compliant renditions, and the planned timeline (blocks)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from media_hub.db import Base, UtcDateTime, utcnow


class Channel(Base):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer, default=1)  # tvg-chno
    group: Mapped[str] = mapped_column(String(100), default="Pháp luật")  # M3U group-title
    description: Mapped[str] = mapped_column(Text, default="")
    # Fixed profile: rung names (each an exact box of the ladder), segment target duration.
    rungs: Mapped[list[str]] = mapped_column(JSON)
    target_duration: Mapped[int] = mapped_column(Integer, default=4)  # seconds
    window_segments: Mapped[int] = mapped_column(Integer, default=6)
    # Numbering origin (media_hub.channel.timeline.Anchor), microseconds since the epoch.
    origin_us: Mapped[int] = mapped_column(BigInteger)
    # The planned timeline: Block.to_row() rows; filler: source keys in loop order.
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"origin": …, "blocks": […]}
    filler: Mapped[list[str]] = mapped_column(JSON, default=list)
    filler_item_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # chosen by editors
    plan_version: Mapped[int] = mapped_column(Integer, default=0)
    slate_key: Mapped[str | None] = mapped_column(String(512))  # station ident's master playlist
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class ChannelProgramme(Base):
    """An item placed on the schedule at a nominal start (UTC; shown in Asia/Ho_Chi_Minh)."""

    __tablename__ = "channel_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    start: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    duration: Mapped[float] = mapped_column()  # seconds, of the rendition that airs
    rotation_id: Mapped[int | None] = mapped_column(ForeignKey("channel_rotation.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    item = relationship("MediaItem")


class Rotation(Base):
    """A rule for the auto-scheduler, e.g. "traffic-law skits, weekday evenings"."""

    __tablename__ = "channel_rotation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topic.id", ondelete="SET NULL"))
    kind: Mapped[str | None] = mapped_column(String(16))  # skit, scenario, radio or any
    weekdays: Mapped[list[int]] = mapped_column(JSON)  # 0 = Monday … 6 = Sunday
    start_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" local
    end_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" local; may be past midnight


class RenditionStatus(enum.StrEnum):
    pending = "pending"
    ready = "ready"
    failed = "failed"


class ChannelRendition(Base):
    """An item re-encoded to a channel profile (exact boxes, audio always present)."""

    __tablename__ = "channel_rendition"
    __table_args__ = (UniqueConstraint("item_id", "profile"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    profile: Mapped[str] = mapped_column(String(100))  # rung names joined by ","
    status: Mapped[RenditionStatus] = mapped_column(
        Enum(RenditionStatus, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]),
        default=RenditionStatus.pending,
    )
    master_key: Mapped[str | None] = mapped_column(String(512))
    playlists: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # rung → media playlist key
    error: Mapped[str | None] = mapped_column(Text)
