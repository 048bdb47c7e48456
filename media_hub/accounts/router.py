"""Account routes: login/logout, API tokens (owner), user administration (admin)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy import select

from media_hub.accounts import service
from media_hub.accounts.models import ApiToken, Role, User
from media_hub.accounts.web import require
from media_hub.deps import SessionDep, SettingsDep
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


@pages.post("/login")
async def login_submit(request: Request, session: SessionDep):
    form = await request.form()
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "/")))
    address = request.client.host if request.client else "unknown"
    try:
        user = service.authenticate(session, username, password, address)
    except service.Throttled as exc:
        session.commit()
        return render(request, "login.html", {"next": target, "username": username, "error": str(exc)}, 429)
    except service.AccountError as exc:
        session.commit()  # keep the failure for throttling
        return render(request, "login.html", {"next": target, "username": username, "error": str(exc)}, 401)
    session.commit()
    request.session.clear()  # a fresh session (and CSRF token) after login
    request.session["uid"] = user.id
    return back(target)


@pages.post("/logout")
def logout(request: Request):
    request.session.clear()
    return back("/")


def _tokens(session, user: User) -> list[dict]:
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc()))
    return [TokenOut.model_validate(t, from_attributes=True).model_dump(mode="json") for t in rows]


@pages.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, settings: SettingsDep, user: User = TokenOwner):
    base = settings.public_base_url.rstrip("/")
    return render(request, "account.html", {
        "tokens": _tokens(session, user),
        "new_token": request.session.pop("new_token", None),
        "feed_url": f"{base}/radio/feed.xml?key={user.feed_key}" if user.feed_key else None,
        "commune": radio.commune_name(user.commune_code) if user.commune_code else None,
    })


@pages.post("/account/tokens")
async def account_token_create(request: Request, session: SessionDep, user: User = TokenOwner):
    form = await request.form()
    try:
        _, plain = service.create_token(session, user, str(form.get("name", "")))
        session.commit()
        request.session["new_token"] = plain
        flash(request, "Đã tạo token. Hãy sao chép ngay: token sẽ không hiển thị lại.")
    except service.AccountError as exc:
        flash(request, str(exc), error=True)
    return back("/account")


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
    user.role, user.is_active, user.commune_code = role, active, commune
    session.commit()
    flash(request, f"Đã cập nhật tài khoản “{user.username}”.")
    return back("/admin/users")


def login_redirect(path: str) -> str:
    return f"/login?next={quote(path, safe='/')}"
