"""Account routes: login/logout, own password and sessions, API tokens (owner), user
administration (admin: password reset, sign out everywhere)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select

from media_hub.accounts import service
from media_hub.accounts.models import ApiToken, Role, User
from media_hub.accounts.web import SESSION_KEY, client_address, read_device, remember_device, require
from media_hub.deps import SessionDep, SettingsDep
from media_hub.links import public_base
from media_hub.radio import service as radio
from media_hub.policy import Action
from media_hub.web import back, flash, render
from players import ROLE_LABELS

api = APIRouter(prefix="/api/v1", tags=["accounts"])
pages = APIRouter(include_in_schema=False)
TokenOwner = Depends(require(Action.use_api_tokens))
Admin = Depends(require(Action.manage_users))


class TokenIn(BaseModel):
    name: str


class TokenOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class NewTokenOut(TokenOut):
    token: str  # shown once


class UserIn(BaseModel):
    username: str
    password: str
    role: Role
    full_name: str = ""
    commune_code: int | None = None  # radio staff: official code of their commune/ward/special zone


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: Role
    is_active: bool
    last_login_at: datetime | None
    commune_code: int | None
    commune_name: str | None = None


def _user_out(user: User) -> UserOut:
    out = UserOut.model_validate(user, from_attributes=True)
    out.commune_name = radio.commune_name(user.commune_code) if user.commune_code else None
    return out


def _commune(value) -> int | None:
    text = str(value or "").strip()
    if not text:
        return None
    if not text.isdigit():
        raise service.AccountError("Mã đơn vị hành chính phải là số.")
    try:
        return radio.check_commune(int(text))
    except radio.RadioError as exc:
        raise service.AccountError(str(exc)) from None


def _safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot redirect elsewhere."""
    return target if target and target.startswith("/") and not target.startswith("//") else "/"


@pages.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


def _sign_in(request: Request, session, settings, user: User) -> None:
    """A new server-side session for this browser (and a fresh CSRF token)."""
    request.session.clear()
    request.session[SESSION_KEY] = service.start_session(
        session, user, max_age=settings.session_max_age, address=client_address(request),
        user_agent=request.headers.get("user-agent", ""),
    )


@pages.post("/login")
async def login_submit(request: Request, session: SessionDep, settings: SettingsDep):
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    try:
        user = service.authenticate(session, username, password, client_address(request), read_device(request))
    except service.Throttled as exc:
        session.commit()
        page = render(request, "login.html", {"next": target, "username": username, "error": str(exc)}, 429)
        page.headers["Retry-After"] = str(exc.retry_after)
        return page
    except service.AccountError as exc:
        session.commit()  # keep the failure for throttling
        return render(request, "login.html", {"next": target, "username": username, "error": str(exc)}, 401)
    _sign_in(request, session, settings, user)
    session.commit()
    response = back(target)
    remember_device(request, response, user)
    return response


@pages.post("/logout")
def logout(request: Request, session: SessionDep):
    service.end_session(session, request.session.get(SESSION_KEY))
    session.commit()
    request.session.clear()
    return back("/")


def _tokens(session, user: User) -> list[dict]:
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    return [TokenOut.model_validate(t, from_attributes=True).model_dump(mode="json") for t in rows]


def _account(request: Request, session, settings, user: User, status_code: int = 200, **extra):
    base = public_base(settings, request)
    return render(request, "account.html", {
        "tokens": _tokens(session, user),
        "sessions": service.list_sessions(session, user, request.session.get(SESSION_KEY)),
        "feed_url": f"{base}/radio/feed.xml?key={user.feed_key}" if user.feed_key else None,
        "commune": radio.commune_name(user.commune_code) if user.commune_code else None,
        **extra,
    }, status_code)


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, settings: SettingsDep, user: User = TokenOwner):
    return _account(request, session, settings, user)


@pages.post("/account/tokens")
async def account_token_create(request: Request, session: SessionDep, settings: SettingsDep, user: User = TokenOwner):
    """The new token is shown in this response only: never kept in the (client-readable) session cookie."""
    form = await request.form()
    try:
        _, plain = service.create_token(session, user, str(form.get("name", "")))
    except service.AccountError as exc:
        return _account(request, session, settings, user, 422, error=str(exc))
    session.commit()
    return _account(request, session, settings, user, new_token=plain,
                    message="Đã tạo token. Hãy sao chép ngay: token sẽ không hiển thị lại.")


@pages.post("/account/password")
async def account_password(request: Request, session: SessionDep, settings: SettingsDep, user: User = TokenOwner):
    """Change one's own password (the current one is needed); every other session ends."""
    form = await request.form()
    try:
        service.change_password(session, user, str(form.get("current_password", "")),
                                str(form.get("new_password", "")), str(form.get("confirm_password", "")))
    except service.AccountError as exc:
        session.rollback()
        return _account(request, session, settings, user, 422, error=str(exc))
    service.forget_first_password(settings.data_dir, user)
    _sign_in(request, session, settings, user)
    session.commit()
    flash(request, "Đã đổi mật khẩu. Mọi phiên đăng nhập khác của bạn đã bị đăng xuất.")
    return back("/account")


@pages.post("/account/sessions/end")
def account_sign_out_everywhere(request: Request, session: SessionDep, user: User = TokenOwner):
    """Đăng xuất khỏi mọi nơi: every session of this user, this browser's included."""
    service.end_all_sessions(session, user)
    session.commit()
    request.session.clear()
    return back("/login")


@pages.post("/account/tokens/{token_id}/revoke")
def account_token_revoke(token_id: int, request: Request, session: SessionDep, user: User = TokenOwner):
    try:
        service.revoke_token(session, user, token_id)
        session.commit()
        flash(request, "Đã thu hồi token.")
    except service.AccountError as exc:
        flash(request, str(exc), error=True)
    return back("/account")


@api.get("/tokens", response_model=list[TokenOut])
def list_tokens(session: SessionDep, user: User = TokenOwner) -> list[dict]:
    return _tokens(session, user)


@api.post("/tokens", response_model=NewTokenOut, status_code=201)
def create_token(body: TokenIn, session: SessionDep, user: User = TokenOwner) -> NewTokenOut:
    try:
        token, plain = service.create_token(session, user, body.name)
    except service.AccountError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return NewTokenOut(**TokenOut.model_validate(token, from_attributes=True).model_dump(), token=plain)


@api.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, session: SessionDep, user: User = TokenOwner) -> None:
    try:
        service.revoke_token(session, user, token_id)
    except service.AccountError as exc:
        raise HTTPException(404, str(exc)) from None
    session.commit()


@api.get("/users", response_model=list[UserOut])
def list_users(session: SessionDep, _admin: User = Admin):
    return [_user_out(u) for u in service.list_users(session)]


@api.post("/users", response_model=UserOut, status_code=201)
def create_user(body: UserIn, session: SessionDep, _admin: User = Admin):
    try:
        user = service.create_user(session, body.username, body.password, body.role, body.full_name)
        user.commune_code = _commune(body.commune_code)
    except service.AccountError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return _user_out(user)


@pages.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, session: SessionDep, settings: SettingsDep, _admin: User = Admin):
    users = [_user_out(u).model_dump(mode="json") for u in service.list_users(session)]
    return render(request, "admin_users.html", {
        "users": users, "roles": list(ROLE_LABELS.items()), "communes": radio.communes(settings.province_code),
    })


@pages.post("/admin/users")
async def users_create(request: Request, session: SessionDep, _admin: User = Admin):
    form = await request.form()
    try:
        user = service.create_user(
            session, str(form.get("username", "")), str(form.get("password", "")), str(form.get("role", "")),
            str(form.get("full_name", "")),
        )
        user.commune_code = _commune(form.get("commune_code"))
        session.commit()
        flash(request, f"Đã tạo tài khoản “{user.username}”.")
    except service.AccountError as exc:
        session.rollback()
        flash(request, str(exc), error=True)
    return back("/admin/users")


@pages.post("/admin/users/{user_id}")
async def users_update(user_id: int, request: Request, session: SessionDep, admin: User = Admin):
    form = await request.form()
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "Không tìm thấy người dùng.")
    try:
        role = Role(str(form.get("role", user.role)))
    except ValueError:
        flash(request, "Vai trò không hợp lệ.", error=True)
        return back("/admin/users")
    active = form.get("is_active") is not None
    try:
        commune = _commune(form.get("commune_code"))
    except service.AccountError as exc:
        flash(request, str(exc), error=True)
        return back("/admin/users")
    if user.id == admin.id and (role != Role.admin or not active):
        flash(request, "Không thể tự bỏ quyền quản trị hoặc khoá tài khoản của chính mình.", error=True)
        return back("/admin/users")
    if not active:
        service.end_all_sessions(session, user)  # reactivating must not revive old cookies
    user.role, user.is_active, user.commune_code = role, active, commune
    session.commit()
    flash(request, f"Đã cập nhật tài khoản “{user.username}”.")
    return back("/admin/users")


def _target_user(session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise HTTPException(404, "Không tìm thấy người dùng.")
    return user


@pages.post("/admin/users/{user_id}/password")
async def users_reset_password(user_id: int, request: Request, session: SessionDep, settings: SettingsDep,
                               _admin: User = Admin):
    """An admin sets a new password for a user (sent to them by another channel); the
    user's sessions end."""
    form = await request.form()
    user = _target_user(session, user_id)
    try:
        service.set_password(session, user, str(form.get("password", "")))
    except service.AccountError as exc:
        flash(request, str(exc), error=True)
        return back("/admin/users")
    session.commit()
    service.forget_first_password(settings.data_dir, user)
    if user.id == _admin.id:
        return back("/login")
    flash(request, f"Đã đặt mật khẩu mới cho “{user.username}” và đăng xuất tài khoản này khỏi mọi nơi.")
    return back("/admin/users")


@pages.post("/admin/users/{user_id}/sessions/end")
def users_sign_out_everywhere(user_id: int, request: Request, session: SessionDep, _admin: User = Admin):
    user = _target_user(session, user_id)
    count = service.end_all_sessions(session, user)
    session.commit()
    if user.id == _admin.id:
        request.session.clear()
        return back("/login")
    flash(request, f"Đã đăng xuất “{user.username}” khỏi mọi nơi ({count} phiên).")
    return back("/admin/users")


def login_redirect(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"
