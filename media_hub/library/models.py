"""Library tables: media items, their HLS renditions and the jobs that process them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Enum, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from media_hub.accounts.models import User
from media_hub.captions.models import SubtitleTrack
from media_hub.db import Base, UtcDateTime, utcnow
from media_hub.legal.models import LegalDocument, Topic, item_document, item_topic
from media_hub.radio.models import Programme
from media_hub.review.models import AuditEvent


class MediaKind(enum.StrEnum):
    skit = "skit"  # tiểu phẩm
    scenario = "scenario"  # tình huống pháp luật
    radio = "radio"  # chương trình phát thanh


class MediaStatus(enum.StrEnum):
    uploaded = "uploaded"
    processing = "processing"
    ready = "ready"
    failed = "failed"
    in_review = "in_review"  # submitted for review
    published = "published"


class JobState(enum.StrEnum):
    queued = "queued"
    running = "running"
    retrying = "retrying"
    succeeded = "succeeded"
    failed = "failed"


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class MediaItem(Base):
    __tablename__ = "media_item"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, unguessable; the only item-derived part of storage keys.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    slug: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[MediaKind] = mapped_column(_enum(MediaKind))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    audience: Mapped[str] = mapped_column(String(200), default="")  # target audience
    review_comment: Mapped[str | None] = mapped_column(Text)  # the last reviewer's comment
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    transcript: Mapped[str] = mapped_column(Text, default="")  # plain text of the shown subtitles
    subtitle_note: Mapped[str | None] = mapped_column(Text)  # why there are no subtitles, if so
    burned_key: Mapped[str | None] = mapped_column(String(512))  # MP4 with open (burned-in) captions
    programme_id: Mapped[int | None] = mapped_column(ForeignKey("radio_programme.id", ondelete="SET NULL", use_alter=True))
    broadcast_key: Mapped[str | None] = mapped_column(String(512))  # loudness-normalised MP3
    broadcast_size: Mapped[int | None] = mapped_column(BigInteger)  # bytes
    broadcast_duration: Mapped[float | None] = mapped_column(Float)  # seconds
    # Measured on the finished MP3: integrated (LUFS), lra (LU), true_peak (dBTP), target…
    broadcast_loudness: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    broadcast_note: Mapped[str | None] = mapped_column(Text)  # why there is no broadcast audio
    source_url: Mapped[str | None] = mapped_column(Text)  # imported from this page
    source_attribution: Mapped[str | None] = mapped_column(String(300))  # e.g. the broadcaster
    # Accent- and case-folded title, description, topics, documents, transcript: for search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MediaStatus] = mapped_column(_enum(MediaStatus), default=MediaStatus.uploaded, index=True)
    error: Mapped[str | None] = mapped_column(Text)
    duration: Mapped[float | None] = mapped_column(Float)  # seconds
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # source probe summary
    checksum: Mapped[str] = mapped_column(String(64), index=True)  # sha256 hex of the original
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    original_filename: Mapped[str] = mapped_column(String(500))  # as sent, only for download names
    original_content_type: Mapped[str] = mapped_column(String(100))
    original_key: Mapped[str] = mapped_column(String(512))
    master_key: Mapped[str | None] = mapped_column(String(512))
    poster_key: Mapped[str | None] = mapped_column(String(512))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    renditions: Mapped[list[Rendition]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Rendition.bandwidth.desc()"
    )
    jobs: Mapped[list[Job]] = relationship(back_populates="item", cascade="all, delete-orphan", order_by="Job.id")
    owner: Mapped[User | None] = relationship()
    programme: Mapped[Programme | None] = relationship(foreign_keys=[programme_id])
    subtitle_tracks: Mapped[list[SubtitleTrack]] = relationship(cascade="all, delete-orphan", order_by="SubtitleTrack.language")
    documents: Mapped[list[LegalDocument]] = relationship(secondary=item_document, order_by="LegalDocument.number")
    topics: Mapped[list[Topic]] = relationship(secondary=item_topic, order_by="Topic.name")
    audit: Mapped[list[AuditEvent]] = relationship(
        cascade="all, delete-orphan", order_by="AuditEvent.id", overlaps="item"
    )

    @property
    def transcode_job(self) -> Job | None:
        """The latest transcode job: its progress is the item's while it is processed."""
        return next((j for j in reversed(self.jobs) if j.task == "transcode"), None)


class Rendition(Base):
    """One variant stream of an item's HLS ladder (RFC 8216 §4.3.4.2)."""

    __tablename__ = "rendition"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(16))  # "1080p" … "360p", "audio"
    width: Mapped[int | None] = mapped_column(Integer)  # pixels
    height: Mapped[int | None] = mapped_column(Integer)
    video_bitrate: Mapped[int | None] = mapped_column(Integer)  # bit/s, configured
    audio_bitrate: Mapped[int | None] = mapped_column(Integer)  # bit/s, configured
    bandwidth: Mapped[int] = mapped_column(Integer)  # bit/s, peak segment rate
    average_bandwidth: Mapped[int] = mapped_column(Integer)  # bit/s
    frame_rate: Mapped[float | None] = mapped_column(Float)
    codecs: Mapped[str] = mapped_column(String(100))  # RFC 6381
    playlist_key: Mapped[str] = mapped_column(String(512))

    item: Mapped[MediaItem] = relationship(back_populates="renditions")


class Job(Base):
    """A unit of background work on an item (task ``transcode`` for now)."""

    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    task: Mapped[str] = mapped_column(String(32))
    state: Mapped[JobState] = mapped_column(_enum(JobState), default=JobState.queued, index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    item: Mapped[MediaItem] = relationship(back_populates="jobs")
