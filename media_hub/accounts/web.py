"""Authentication for every request: bearer tokens for the API, server-side web
sessions for the pages (the signed session cookie carries the session's token, the CSRF
token and flash messages, nothing else), device cookies that exempt a person's usual
browser from the login throttling of others, and CSRF protection for cookie writes."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session

from media_hub.accounts import service
from media_hub.accounts.models import User
from media_hub.deps import get_session
from media_hub.links import public_base
from media_hub.policy import Action, can

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SESSION_COOKIE = "mh_session"
SESSION_KEY = "sid"  # the web session's token in the signed cookie
DEVICE_COOKIE = "mh_device"
DEVICE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
MAX_FORM_PART = 1024 * 1024  # bytes of a text field in a page form


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use); forms carry it in a hidden
    ``csrf_token`` field, scripts in an ``X-CSRF-Token`` header."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _bearer(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def authenticate(request: Request, session: Annotated[Session, Depends(get_session)]) -> User | None:
    """App-wide dependency: sets ``request.state.user`` (None for anonymous).

    Raises 401 for an unknown or revoked bearer token, 403 when a cookie-authenticated
    (or anonymous) unsafe request lacks the session's CSRF token.
    """
    user: User | None = None
    token = _bearer(request)
    if token is not None:
        user = service.user_for_token(session, token)
        if user is None:
            raise HTTPException(401, "Token API không hợp lệ hoặc đã bị thu hồi.", {"WWW-Authenticate": "Bearer"})
        session.commit()  # last_used_at
    else:
        if SESSION_KEY in request.session:
            web_session = service.session_for(session, request.session[SESSION_KEY])
            if web_session is None:  # logged out, signed out everywhere, expired or locked
                request.session.pop(SESSION_KEY, None)
            else:
                user = web_session.user
        # Forms always carry the token (login CSRF included); an API call carrying
        # neither a token nor a session cookie has no credentials to abuse.
        if request.method not in SAFE_METHODS and (
            SESSION_COOKIE in request.cookies or not request.url.path.startswith("/api/")
        ):
            await _check_csrf(request)
    request.state.user = user
    return user


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    content_type = request.headers.get("content-type", "")
    # Page forms carry the token as a field; API bodies (large uploads included) are never
    # parsed here: scripts send the header.
    if sent is None and not request.url.path.startswith("/api/") and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form(max_files=1, max_part_size=MAX_FORM_PART)).get(CSRF_FIELD)
    if not expected or not sent or not hmac.compare_digest(str(sent), expected):
        raise HTTPException(403, "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ. Hãy tải lại trang và thử lại.")


def client_address(request: Request) -> str:
    """The client's IP: the peer, or what a trusted proxy said (uvicorn's proxy headers,
    configured from ``trusted_proxies`` by ``serve``)."""
    return request.client.host if request.client else "unknown"


def _devices(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.session_secret, salt="media-hub.device")


def read_device(request: Request) -> tuple[int, str] | None:
    """(user id, device id) from this browser's signed device cookie, if any and valid."""
    value = request.cookies.get(DEVICE_COOKIE)
    if not value:
        return None
    try:
        data = _devices(request).loads(value, max_age=DEVICE_MAX_AGE)
        return int(data["u"]), str(data["d"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None


def remember_device(request: Request, response: Response, user: User) -> None:
    """After a successful login: mark this browser as one ``user`` signs in with (its
    failures then only delay itself, and others' failures never stop it)."""
    known = read_device(request)
    device_id = known[1] if known and known[0] == user.id else secrets.token_urlsafe(16)
    response.set_cookie(
        DEVICE_COOKIE, _devices(request).dumps({"u": user.id, "d": device_id}), max_age=DEVICE_MAX_AGE,
        httponly=True, samesite="lax", secure=public_base(request.app.state.settings, request).startswith("https://"),
    )


def current_user(request: Request) -> User | None:
    return request.state.user


def require(action: Action):
    """Dependency factory: the signed-in user allowed to do ``action`` (no item), else 401/403."""

    def dependency(request: Request) -> User:
        user = request.state.user
        if user is None:
            raise HTTPException(401, "Vui lòng đăng nhập.")
        if not can(user, action):
            raise HTTPException(403, "Bạn không có quyền thực hiện thao tác này.")
        return user

    return dependency


CurrentUser = Annotated[User | None, Depends(current_user)]
