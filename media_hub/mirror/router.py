"""YouTube mirror routes: the mirror state of an item, "sync now", and the quota spent today."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request

import players
from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.deps import SessionDep, SettingsDep
from media_hub.library import service as library
from media_hub.library.models import MediaItem, MediaStatus
from media_hub.library.router import NOT_FOUND, viewable
from media_hub.library.schemas import MirrorOut
from media_hub.mirror import service
from media_hub.mirror.youtube import next_pacific_midnight
from media_hub.policy import Action, can
from media_hub.web import back, flash

api = APIRouter(prefix="/api/v1", tags=["youtube"])
pages = APIRouter(include_in_schema=False)
players.templates.env.globals["MIRROR_STATUS_LABELS"] = {str(k): v for k, v in service.STATUS_LABELS.items()}
NOT_CONFIGURED = "Chưa cấu hình kênh YouTube (MEDIA_HUB_YOUTUBE_CLIENT_ID, MEDIA_HUB_YOUTUBE_REFRESH_TOKEN…)."


@api.get("/media/{item_id}/mirror", response_model=MirrorOut)
def get_mirror(item_id: int, session: SessionDep, user: CurrentUser) -> MirrorOut:
    """The item's YouTube copy: status, video id and URL, upload progress, reason and retry time."""
    out = MirrorOut.of_item(viewable(session, user, item_id))
    if out is None:
        raise HTTPException(404, "Nội dung này chưa được đăng lên YouTube.")
    return out


def _sync_now(session, settings, user: User | None, item: MediaItem) -> MirrorOut:
    if user is None:
        raise HTTPException(401, "Vui lòng đăng nhập.")
    if not can(user, Action.review_queue):  # reviewers and admins decide what goes on the channel
        raise HTTPException(403, "Bạn không có quyền đồng bộ nội dung này lên YouTube.")
    if not service.enabled(settings):
        raise HTTPException(409, NOT_CONFIGURED)
    if not service.has_video(item):
        raise HTTPException(409, "Nội dung không có hình ảnh; YouTube chỉ nhận video.")
    if item.status != MediaStatus.published and service.row_for(session, item.id) is None:
        raise HTTPException(409, "Chỉ nội dung đã xuất bản mới được đăng lên YouTube.")
    service.request_sync(session, settings, item)
    session.refresh(item)
    return MirrorOut.of_item(item)


@api.post("/media/{item_id}/mirror", response_model=MirrorOut, status_code=202)
def sync_mirror(item_id: int, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> MirrorOut:
    """Queue a sync of the item's YouTube copy now (e.g. after a failure): reviewers and admins.
    A sync already waiting (or postponed until the quota resets) is not duplicated."""
    return _sync_now(session, settings, user, viewable(session, user, item_id))


@api.get("/youtube/quota")
def quota(session: SessionDep, settings: SettingsDep, _user: User = Depends(require(Action.review_queue))) -> dict:
    """YouTube API units spent today (Pacific time) per method, the total, the limit and the
    units of it kept for takedowns (``takedown_reserve``)."""
    spent = service.usage(session)
    total = spent.pop(service.TOTAL, 0)
    return {"day": service.pacific_day().isoformat(), "limit": settings.youtube_daily_quota, "total": total,
            "takedown_reserve": settings.youtube_takedown_reserve,
            "methods": spent, "resets_at": next_pacific_midnight().isoformat(), "enabled": service.enabled(settings)}


@pages.post("/v/{slug}/mirror")
def sync_mirror_page(slug: str, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = library.get_by_slug(session, slug)
    if item is None or not can(user, Action.view, item):
        raise HTTPException(404, NOT_FOUND)
    try:
        _sync_now(session, settings, user, item)
    except HTTPException as exc:
        if exc.status_code == 401:
            raise
        flash(request, str(exc.detail), error=True)
        return back(f"/v/{slug}/edit")
    flash(request, "Đã yêu cầu đồng bộ lên YouTube.")
    return back(f"/v/{slug}/edit")
