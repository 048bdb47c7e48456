"""Commune radio: programmes (with jingles) and the download log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from media_hub.db import Base, UtcDateTime, utcnow


class Programme(Base):
    """A radio programme (series): the ID3 album, with optional intro/outro jingles
    (library items whose audio is put before/after each segment of the programme)."""

    __tablename__ = "radio_programme"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    intro_item_id: Mapped[int | None] = mapped_column(ForeignKey("media_item.id", ondelete="SET NULL"))
    outro_item_id: Mapped[int | None] = mapped_column(ForeignKey("media_item.id", ondelete="SET NULL"))


class Download(Base):
    """One download of broadcast audio, attributed to an administrative unit (commune,
    ward or special zone code) when the downloader is known."""

    __tablename__ = "radio_download"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("media_item.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    commune_code: Mapped[int | None] = mapped_column(Integer, index=True)
    via: Mapped[str] = mapped_column(String(8))  # mp3, zip, feed
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
