"""Import routes: ask for a video from a URL, follow the imports, the "Nhập từ URL" page."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.config import Settings
from media_hub.deps import SessionDep, SettingsDep
from media_hub.imports import fetch, service
from media_hub.imports.models import ImportState, UrlImport
from media_hub.library import service as library
from media_hub.library.models import MediaItem
from media_hub.policy import Action, can
from media_hub.web import back, flash, render
from players import KIND_LABELS
from workers.celery_app import enqueue

api = APIRouter(prefix="/api/v1", tags=["imports"])
pages = APIRouter(include_in_schema=False)
NOT_FOUND = "Không tìm thấy yêu cầu nhập này."


class ImportIn(BaseModel):
    url: str = Field(max_length=2000, description="Page or file URL (http/https), e.g. a video page or an .mp4/.m3u8.")
    kind: str = Field(description="skit, scenario or radio.")
    title: str | None = Field(None, description="Title of the item; default: the source's title.")


class ImportOut(BaseModel):
    id: int
    url: str
    kind: str
    kind_label: str
    title: str | None  # as asked; the item's title may come from the source
    state: str  # queued | downloading | done | duplicate | failed
    state_label: str
    progress: float  # 0..1 of the download
    error: str | None  # Vietnamese reason when failed
    # Other items are named (id, watch page) only to callers who may view them.
    item_id: int | None  # the item made (state done)
    item_url: str | None  # its watch page
    duplicate_of: int | None  # the item already holding the same file (state duplicate)
    duplicate_url: str | None
    note: str | None  # state duplicate: "Video này đã có trong thư viện."
    job_id: int | None  # the item's transcode job
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, session: Session, imp: UrlImport, user: User | None) -> ImportOut:
        """The import as ``user`` sees it (items named only if ``user`` may view them)."""
        item, same = (_shown(session, user, i) for i in (imp.item_id, imp.duplicate_of))
        return cls(
            id=imp.id, url=imp.url, kind=imp.kind, kind_label=KIND_LABELS.get(imp.kind, imp.kind), title=imp.title,
            state=imp.state, state_label=service.STATE_LABELS.get(imp.state, imp.state), progress=imp.progress,
            error=imp.error, item_id=item and item.id, item_url=item and f"/v/{item.slug}",
            duplicate_of=same and same.id, duplicate_url=same and f"/v/{same.slug}",
            note=service.ALREADY_THERE if imp.state == ImportState.duplicate else None,
            job_id=imp.job_id if item else None, created_at=imp.created_at, updated_at=imp.updated_at,
        )


def _shown(session: Session, user: User | None, item_id: int | None) -> MediaItem | None:
    """The item if ``user`` may view it (policy), else None: its slug or id is not revealed."""
    item = session.get(MediaItem, item_id) if item_id else None
    return item if can(user, Action.view, item) else None


class ImportList(BaseModel):
    imports: list[ImportOut]


class _Refused(Exception):
    def __init__(self, status: int, body: dict):
        self.status, self.body = status, body


def _create(session: Session, settings: Settings, user: User, url: str, kind: str, title: str | None) -> UrlImport:
    try:
        media_kind = library.parse_kind(kind)
        wanted = library.clean_text(title, field="tiêu đề") or None
        url = library.clean_text(url, field="địa chỉ", required=True, max_len=2000)
    except library.InvalidInput as exc:
        raise _Refused(422, {"detail": str(exc)}) from None
    try:
        imp = service.create_import(session, settings, user, url, media_kind, wanted)
    except fetch.FetchError as exc:  # refused (private address, scheme…) or the host does not resolve
        raise _Refused(422, {"detail": exc.reason}) from None
    except service.Duplicate as exc:
        body = {"detail": exc.reason}
        earlier = session.get(UrlImport, exc.import_id) if exc.import_id else None
        if earlier is not None and service.may_see(user, earlier):
            body["import_id"] = earlier.id
        if _shown(session, user, exc.item_id) is not None:
            body["item_id"] = exc.item_id
        raise _Refused(409, body) from None
    session.commit()
    enqueue(settings, service.TASK, imp.id)
    return imp


@api.post("/imports", status_code=202, response_model=ImportOut,
          responses={409: {"description": "Already imported (item_id) or being imported (import_id)"},
                     422: {"description": "URL refused (private address, not http/https) or unresolvable"}})
def create_import(body: ImportIn, session: SessionDep, settings: SettingsDep,
                  user: User = Depends(require(Action.upload))):
    """Import a video from a URL (editors, admins). The URL is checked before anything is
    fetched: only http/https to public Internet addresses. The download runs on a worker;
    follow it with ``GET /api/v1/imports/{id}``."""
    try:
        imp = _create(session, settings, user, body.url, body.kind, body.title)
    except _Refused as exc:
        return JSONResponse(exc.body, exc.status)
    return JSONResponse(ImportOut.of(session, imp, user).model_dump(mode="json"), 202)


@api.get("/imports", response_model=ImportList)
def list_imports(session: SessionDep, user: CurrentUser) -> ImportList:
    """The caller's imports, newest first (administrators: everyone's)."""
    if user is None:
        raise HTTPException(401, "Vui lòng đăng nhập.")
    return ImportList(imports=[ImportOut.of(session, i, user) for i in service.visible_imports(session, user)])


@api.get("/imports/{import_id}", response_model=ImportOut)
def get_import(import_id: int, session: SessionDep, user: CurrentUser) -> ImportOut:
    imp = session.get(UrlImport, import_id)
    if imp is None or not service.may_see(user, imp):
        raise HTTPException(404, NOT_FOUND)
    return ImportOut.of(session, imp, user)


@pages.get("/imports", response_class=HTMLResponse)
def imports_page(request: Request, session: SessionDep, settings: SettingsDep,
                 user: User = Depends(require(Action.upload))):
    rows = [ImportOut.of(session, i, user).model_dump(mode="json") for i in service.visible_imports(session, user)]
    return render(request, "imports.html", {
        "imports": rows,
        "max_bytes": settings.import_max_bytes,
        "max_minutes": round(settings.max_media_seconds / 60),
        "active_nav": "imports",
        "state_labels": {str(k): v for k, v in service.STATE_LABELS.items()},
    })


@pages.post("/imports")
async def imports_submit(request: Request, session: SessionDep, settings: SettingsDep,
                         user: User = Depends(require(Action.upload))):
    form = await request.form()
    try:
        await run_in_threadpool(_create, session, settings, user, str(form.get("url", "")),
                                str(form.get("kind", "")), str(form.get("title", "")))
    except _Refused as exc:
        flash(request, exc.body["detail"], error=True)
        return back("/imports")
    flash(request, "Đã nhận yêu cầu nhập video; hệ thống đang tải về.")
    return back("/imports")
