"""Subtitle tracks of items and their revisions (speech recognition or editors)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from media_hub.accounts.models import User
from media_hub.db import Base, UtcDateTime, utcnow


class CueSource(enum.StrEnum):
    asr = "asr"  # speech recognition
    editor = "editor"  # typed or uploaded by a person


class TrackStatus(enum.StrEnum):
    draft = "draft"
    reviewed = "reviewed"


def _enum(cls) -> Enum:
    return Enum(cls, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e])


class SubtitleTrack(Base):
    """One language of an item's subtitles. ``revision`` is the newest revision people
    work on (staff see it); ``reviewed_revision`` the one viewers see (None: none yet);
    ``status`` is reviewed when they are the same."""

    __tablename__ = "subtitle_track"
    __table_args__ = (UniqueConstraint("item_id", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))  # ISO 639-1, "vi"
    status: Mapped[TrackStatus] = mapped_column(_enum(TrackStatus), default=TrackStatus.draft)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    reviewed_revision: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[CueSource] = mapped_column(_enum(CueSource))  # of the shown revision
    hls_prefix: Mapped[str | None] = mapped_column(String(512))  # WebVTT rendition of the reviewed revision
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, onupdate=utcnow)

    revisions: Mapped[list[SubtitleRevision]] = relationship(
        back_populates="track", cascade="all, delete-orphan", order_by="SubtitleRevision.number"
    )

    @property
    def current(self) -> SubtitleRevision | None:
        return next((r for r in self.revisions if r.number == self.revision), None)

    @property
    def reviewed(self) -> SubtitleRevision | None:
        return next((r for r in self.revisions if r.number == self.reviewed_revision), None)


class SubtitleRevision(Base):
    """An immutable set of cues: ``[[start_s, end_s, text], …]`` (NFC text)."""

    __tablename__ = "subtitle_revision"
    __table_args__ = (UniqueConstraint("track_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    track_id: Mapped[int] = mapped_column(ForeignKey("subtitle_track.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    source: Mapped[CueSource] = mapped_column(_enum(CueSource))
    cues: Mapped[list] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)

    track: Mapped[SubtitleTrack] = relationship(back_populates="revisions")
    author: Mapped[User | None] = relationship()
