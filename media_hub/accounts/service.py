"""Accounts: password hashing (argon2id via pwdlib), login throttling that cannot lock
a person out, server-side web sessions, API tokens."""

from __future__ import annotations

import hashlib
import math
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from pwdlib import PasswordHash
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from media_hub.accounts.models import ApiToken, LoginFailure, Role, User, WebSession
from media_hub.db import utcnow

PASSWORDS = PasswordHash.recommended()
THROTTLE_WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
FREE_FAILURES = 3  # per (username, address) or (username, trusted device) before delays start
FIRST_DELAY = 30.0  # seconds after FREE_FAILURES failures, doubling with each further one
MAX_DELAY = THROTTLE_WINDOW.total_seconds()
MAX_FAILURES_PER_ADDRESS = 20  # from browsers not trusted for the name: the address is locked
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "mh_"


class AccountError(ValueError):
    """A Vietnamese sentence for the person who made the request."""


class Throttled(AccountError):
    """Too many failures: ``retry_after`` seconds before the next try is looked at."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def create_user(session: Session, username: str, password: str, role: Role | str, full_name: str = "") -> User:
    """Raises :class:`AccountError` for a bad username, weak password or a taken name."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang (2–64 ký tự).")
    _check_password(password)
    try:
        role = Role(role)
    except ValueError:
        raise AccountError("Vai trò không hợp lệ.") from None
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"Tên đăng nhập “{username}” đã có người dùng.")
    user = User(username=username, password_hash=PASSWORDS.hash(password), role=role, full_name=full_name.strip())
    session.add(user)
    session.flush()
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")


def set_password(session: Session, user: User, password: str) -> None:
    """Set a new password (an admin's reset, or the CLI) and end every web session of
    ``user``: a copied cookie stops working. Raises :class:`AccountError` for a weak one."""
    _check_password(password)
    user.password_hash = PASSWORDS.hash(password)
    end_all_sessions(session, user)


def change_password(session: Session, user: User, current: str, new: str, confirm: str) -> None:
    """The user's own change: needs the current password; ends every web session of
    ``user`` (the caller starts a new one for this browser). Raises :class:`AccountError`."""
    if not PASSWORDS.verify(current, user.password_hash):
        raise AccountError("Mật khẩu hiện tại không đúng.")
    if new != confirm:
        raise AccountError("Hai lần nhập mật khẩu mới không khớp.")
    if new == current:
        raise AccountError("Mật khẩu mới phải khác mật khẩu hiện tại.")
    set_password(session, user, new)


FIRST_ADMIN = "admin"
FIRST_PASSWORD_FILE = "first-admin-password.txt"


def create_first_admin(session: Session, data_dir: Path) -> Path | None:
    """On a hub without users: create ``admin`` with a random password written to a
    mode-0600 file in ``data_dir`` (never to a log) and return the file's path; None
    when users exist. The file goes when that password is changed."""
    if session.scalar(select(func.count()).select_from(User)):
        return None
    password = secrets.token_urlsafe(15)
    create_user(session, FIRST_ADMIN, password, Role.admin, "Quản trị viên")
    path = data_dir / FIRST_PASSWORD_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    return path


def forget_first_password(data_dir: Path, user: User) -> None:
    """Remove the first admin's password file once that password no longer works."""
    if user.username == FIRST_ADMIN:
        (data_dir / FIRST_PASSWORD_FILE).unlink(missing_ok=True)


def _delay(failures: int) -> float:
    """Seconds the next try must wait after ``failures`` recent failures."""
    if failures < FREE_FAILURES:
        return 0.0
    return min(FIRST_DELAY * 2 ** (failures - FREE_FAILURES), MAX_DELAY)


def _wait_message(seconds: float) -> str:
    if seconds >= 60:
        return f"Đăng nhập sai nhiều lần. Vui lòng chờ {math.ceil(seconds / 60)} phút rồi thử lại."
    return f"Đăng nhập sai nhiều lần. Vui lòng chờ {math.ceil(seconds)} giây rồi thử lại."


def authenticate(
    session: Session, username: str, password: str, address: str, device: tuple[int, str] | None = None
) -> User:
    """The active user with these credentials. The caller commits (failures included).

    ``address`` is the client's IP; ``device`` the (user id, device id) of the browser's
    device cookie, given to browsers after a successful login. Nobody can lock a person
    out: failures only delay the (username, address) pair that made them, exponentially
    after :data:`FREE_FAILURES`, and lock an *address* after
    :data:`MAX_FAILURES_PER_ADDRESS` failures; from a browser the user signed in with
    before (``device`` naming this user), only that browser's own failures count.

    Raises :class:`Throttled` (with ``retry_after`` seconds) before checking the password
    when the try must wait, :class:`AccountError` for wrong credentials.
    """
    username = username.strip().lower()
    now = utcnow()
    since = now - THROTTLE_WINDOW
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    user = session.scalar(select(User).where(User.username == username))
    device_id = device[1] if device and user is not None and device[0] == user.id else None
    recent = select(func.count(), func.max(LoginFailure.at)).where(LoginFailure.at >= since)
    if device_id is None:
        by_addr = session.scalar(
            select(func.count()).where(LoginFailure.at >= since, LoginFailure.address == address,
                                       LoginFailure.device.is_(None))
        )
        if by_addr >= MAX_FAILURES_PER_ADDRESS:
            raise Throttled("Có quá nhiều lần đăng nhập sai từ địa chỉ mạng này. Vui lòng thử lại sau 15 phút.",
                            int(MAX_DELAY))
        recent = recent.where(LoginFailure.username == username, LoginFailure.address == address,
                              LoginFailure.device.is_(None))
    else:
        recent = recent.where(LoginFailure.username == username, LoginFailure.device == device_id)
    failures, last = session.execute(recent).one()
    wait = _delay(failures) - ((now - last).total_seconds() if last else 0.0)
    if wait > 0:
        raise Throttled(_wait_message(wait), math.ceil(wait))
    # Verify against a dummy hash for unknown users so timing does not reveal who exists.
    valid, new_hash = PASSWORDS.verify_and_update(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid or not user.is_active:
        session.add(LoginFailure(username=username, address=address, device=device_id, at=now))
        raise AccountError("Sai tên đăng nhập hoặc mật khẩu.")
    if new_hash:
        user.password_hash = new_hash
    session.execute(delete(LoginFailure).where(
        LoginFailure.username == username,
        LoginFailure.device == device_id if device_id else LoginFailure.address == address,
    ))
    user.last_login_at = now
    return user


def start_session(session: Session, user: User, *, max_age: int, address: str = "", user_agent: str = "") -> str:
    """A new web session for ``user`` lasting ``max_age`` seconds; returns the token the
    session cookie carries (only its sha256 is stored). Expired sessions are purged."""
    now = utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    plain = secrets.token_urlsafe(32)
    session.add(WebSession(
        user=user, token_hash=_digest(plain), created_at=now, expires_at=now + timedelta(seconds=max_age),
        address=address[:64], user_agent=user_agent[:200],
    ))
    session.flush()
    return plain


def session_for(session: Session, plain: str | None) -> WebSession | None:
    """The live session of an active user whose cookie carries ``plain``, else None."""
    if not plain:
        return None
    row = session.scalar(select(WebSession).where(WebSession.token_hash == _digest(plain)))
    if row is None or row.expires_at <= utcnow() or not row.user.is_active:
        return None
    return row


def end_session(session: Session, plain: str | None) -> None:
    """Log out: the session's cookie (and every copy of it) stops working."""
    if plain:
        session.execute(delete(WebSession).where(WebSession.token_hash == _digest(plain)))


def end_all_sessions(session: Session, user: User) -> int:
    """Sign ``user`` out everywhere; returns how many sessions ended."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    session.expire(user, ["sessions"])
    return result.rowcount or 0


@dataclass
class SessionInfo:
    id: int
    created_at: datetime
    address: str
    user_agent: str
    current: bool


def list_sessions(session: Session, user: User, current: str | None = None) -> list[SessionInfo]:
    """``user``'s live sessions, newest first; ``current`` marks this browser's."""
    mine = _digest(current) if current else None
    rows = session.scalars(
        select(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at > utcnow())
        .order_by(WebSession.id.desc())
    )
    return [SessionInfo(r.id, r.created_at, r.address, r.user_agent, r.token_hash == mine) for r in rows]


_DUMMY_HASH = PASSWORDS.hash(secrets.token_hex(16))


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str) -> tuple[ApiToken, str]:
    """A new bearer token; the plain value is returned once and never stored."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("Tên token phải có từ 1 đến 100 ký tự.")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name, token_hash=_digest(plain), prefix=plain[:10])
    session.add(token)
    session.flush()
    return token, plain


def user_for_token(session: Session, plain: str) -> User | None:
    token = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(plain), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.is_active:
        return None
    token.last_used_at = utcnow()
    return token.user


def revoke_token(session: Session, user: User, token_id: int) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError("Không tìm thấy token này.")
    token.revoked_at = token.revoked_at or utcnow()


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def find_user(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))
