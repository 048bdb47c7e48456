"""Accounts: users with one role, their web sessions and API tokens, and failed logins for throttling."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from media_hub.db import Base, UtcDateTime, utcnow


class Role(enum.StrEnum):
    admin = "admin"
    editor = "editor"
    reviewer = "reviewer"
    radio_staff = "radio_staff"


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=16, values_callable=lambda e: [m.value for m in e]))
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2id (pwdlib)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Radio staff: their administrative unit (official code of a commune, ward or special zone).
    commune_code: Mapped[int | None] = mapped_column(Integer)
    # Read-only key for podcast feeds and downloads of smart radio systems (sha256 not needed:
    # it grants nothing but published audio, and identifies the unit for the statistics).
    feed_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")
    sessions: Mapped[list[WebSession]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


class ApiToken(Base):
    """A bearer token for the API; only its sha256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))  # first characters, to recognise a token in lists
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


class WebSession(Base):
    """A signed-in browser: the session cookie carries the token, only its sha256 is stored.
    Deleting the row (logout, password change, "sign out everywhere") ends it at once."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")

    user: Mapped[User] = relationship(back_populates="sessions")


class LoginFailure(Base):
    """One failed login. Recent rows for a (username, address) pair delay that pair's
    next tries, rows from an address lock the address; rows made from a browser the user
    signed in with before (``device``: its device id) only delay that browser."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    device: Mapped[str | None] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
