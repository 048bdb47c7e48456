"""Accounts: password hashing (argon2id via pwdlib), login with throttling, API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from pwdlib import PasswordHash
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from media_hub.accounts.models import ApiToken, LoginFailure, Role, User
from media_hub.db import utcnow

PASSWORDS = PasswordHash.recommended()
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_ADDRESS = 20
MIN_PASSWORD_LENGTH = 10
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
TOKEN_PREFIX = "mh_"


class AccountError(ValueError):
    """A Vietnamese sentence for the person who made the request."""


class Throttled(AccountError):
    pass


def create_user(session: Session, username: str, password: str, role: Role | str, full_name: str = "") -> User:
    """Raises :class:`AccountError` for a bad username, weak password or a taken name."""
    username = username.strip().lower()
    if not USERNAME.match(username):
        raise AccountError("Tên đăng nhập chỉ gồm chữ thường không dấu, số, dấu chấm, gạch ngang (2–64 ký tự).")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
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


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.")
    user.password_hash = PASSWORDS.hash(password)


def authenticate(session: Session, username: str, password: str, address: str) -> User:
    """The active user with these credentials; raises :class:`Throttled` after
    repeated failures (per username and per client address, over 15 minutes) and
    :class:`AccountError` for wrong credentials. The caller commits."""
    username = username.strip().lower()
    since = utcnow() - THROTTLE_WINDOW
    session.execute(delete(LoginFailure).where(LoginFailure.at < since))
    by_user = session.scalar(select(func.count()).where(LoginFailure.username == username, LoginFailure.at >= since))
    by_addr = session.scalar(select(func.count()).where(LoginFailure.address == address, LoginFailure.at >= since))
    if by_user >= MAX_FAILURES_PER_USER or by_addr >= MAX_FAILURES_PER_ADDRESS:
        raise Throttled("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau 15 phút.")
    user = session.scalar(select(User).where(User.username == username))
    # Verify against a dummy hash for unknown users so timing does not reveal who exists.
    valid, new_hash = PASSWORDS.verify_and_update(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid or not user.is_active:
        session.add(LoginFailure(username=username, address=address))
        raise AccountError("Sai tên đăng nhập hoặc mật khẩu.")
    if new_hash:
        user.password_hash = new_hash
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    user.last_login_at = utcnow()
    return user


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
    return session.scalar(select(User).where(or_(User.username == username.strip().lower())))
