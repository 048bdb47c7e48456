"""Library HTTP routes: the media API, storage delivery and the viewer pages."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.delivery import serve_item_object, serve_object
from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.library import service, uploads
from media_hub.library.models import Job, MediaItem
from media_hub.library.schemas import ItemList, ItemOut, JobOut, UploadOut
from media_hub.links import public_base
from media_hub.policy import Action, can
from media_hub.web import render
from workers.celery_app import enqueue

api = APIRouter(prefix="/api/v1", tags=["media"])
pages = APIRouter(include_in_schema=False)
NOT_FOUND = "Không tìm thấy nội dung này."


@api.post("/media", status_code=201, response_model=UploadOut)
async def upload_media(
    request: Request,
    settings: SettingsDep,
    store: StorageDep,
    session: SessionDep,
    user: User = Depends(require(Action.upload)),
) -> UploadOut:
    """Upload an original (multipart: ``file``, ``title``, ``kind``, ``description``).

    Needs the editor or admin role. Errors: 413 over the upload limit, 415 not
    audio/video, 422 bad fields; the body's ``detail`` is a Vietnamese sentence.
    """
    fields, received = await uploads.receive(request, "file", settings.staging_dir, settings.max_upload_bytes)
    try:
        if received is None or received.size == 0:
            raise HTTPException(422, "Chưa chọn tệp video hoặc âm thanh để tải lên.")
        try:
            title = service.clean_text(fields.get("title"), field="tiêu đề", required=True)
            description = service.clean_text(fields.get("description"), field="mô tả", max_len=20000)
            kind = service.parse_kind(fields.get("kind"))
        except service.InvalidInput as exc:
            raise HTTPException(422, str(exc)) from None
        with received.path.open("rb") as fh:
            head = fh.read(service.SNIFF_BYTES)
        try:
            content_type = service.sniff(head)
        except service.UnsupportedMedia as exc:
            raise HTTPException(415, str(exc)) from None
        original = service.Original(received.path, received.filename, received.size, received.sha256, content_type)
        item, job = await run_in_threadpool(
            service.create_item, session, store, original, title=title, kind=kind, description=description, owner=user
        )
        session.commit()
    finally:
        if received is not None:
            received.path.unlink(missing_ok=True)
    enqueue(settings, job.task, job.id)
    return UploadOut(**ItemOut.of(item, user).model_dump(), job_id=job.id)


@api.get("/media", response_model=ItemList)
def list_media(
    session: SessionDep,
    user: CurrentUser,
    q: str = Query("", max_length=200, description="Search words; accents and case are ignored."),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0),
) -> ItemList:
    """Items the caller may view, newest first (anonymous callers: published only)."""
    return ItemList(items=[ItemOut.of(i, user) for i in service.list_items(session, user, query=q, limit=limit, offset=offset)])


def viewable(session, user: User | None, item_id: int) -> MediaItem:
    """The item if ``user`` may view it; 404 otherwise (its existence is not revealed)."""
    item = session.get(MediaItem, item_id)
    if item is None or not can(user, Action.view, item):
        raise HTTPException(404, NOT_FOUND)
    return item


@api.get("/media/{item_id}", response_model=ItemOut)
def get_media(item_id: int, session: SessionDep, user: CurrentUser) -> ItemOut:
    return ItemOut.of(viewable(session, user, item_id), user)


@api.get("/media/{item_id}/original")
def download_original(item_id: int, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser):
    """The original file as uploaded, named as the uploader named it (RFC 6266 ``filename*``)."""
    item = viewable(session, user, item_id)
    if not can(user, Action.download_original, item):
        raise HTTPException(403, "Bạn không có quyền tải tệp gốc.")
    return serve_item_object(store, item, item.original_key, request, download_name=item.original_filename,
                             private=True)


@api.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, session: SessionDep, user: CurrentUser) -> JobOut:
    job = session.get(Job, job_id)
    if job is None or not can(user, Action.view, job.item):
        raise HTTPException(404, "Không tìm thấy tác vụ này.")
    return JobOut.of(job)


@pages.api_route("/media/{key:path}", methods=["GET", "HEAD"])
def media_object(key: str, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser):
    """HLS playlists, segments and posters from blob storage, for those who may view the item.

    Keys are ``media/<public id>/…``; unknown ids, items the caller may not view and
    the original (only through its download route) are all 404. Checked on every
    request (no shared cache may keep them: see :func:`media_hub.delivery.serve_item_object`),
    so an unpublished item's objects stop at once, on the item's pages and on the channel.
    """
    parts = key.split("/")
    if parts[0] == "channels":  # station idents: public, like the channel itself
        return serve_object(store, key, request)
    item = None
    if len(parts) >= 3 and parts[0] == "media":
        item = session.scalar(select(MediaItem).where(MediaItem.public_id == parts[1]))
    if item is None or key == item.original_key or not can(user, Action.view, item):
        raise HTTPException(404, "Không tìm thấy tệp.")
    return serve_item_object(store, item, key, request)


@pages.get("/", response_class=HTMLResponse)
def library_page(request: Request, session: SessionDep, user: CurrentUser, q: str = Query("", max_length=200)):
    items = [ItemOut.of(i, user).model_dump(mode="json") for i in service.list_items(session, user, query=q, limit=100)]
    return render(request, "library.html", {"items": items, "q": q})


@pages.get("/sitemap.xml")
def sitemap(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    """Watch pages of published items (sitemaps.org protocol 0.9)."""
    base = public_base(settings, request)
    urlset = ET.Element("urlset", xmlns="http://www.sitemaps.org/schemas/sitemap/0.9")
    for item in service.list_items(session, None, limit=50000):
        url = ET.SubElement(urlset, "url")
        ET.SubElement(url, "loc").text = f"{base}/v/{item.slug}"
        ET.SubElement(url, "lastmod").text = item.updated_at.date().isoformat()
    body = ET.tostring(urlset, encoding="utf-8", xml_declaration=True)
    return Response(body, media_type="application/xml", headers={"Cache-Control": "public, max-age=300"})


@pages.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, settings: SettingsDep, _user: User = Depends(require(Action.upload))):
    return render(request, "upload.html", {"max_upload_bytes": settings.max_upload_bytes})


@pages.get("/v/{slug}", response_class=HTMLResponse)
def watch_page(slug: str, request: Request, session: SessionDep, user: CurrentUser):
    item = service.get_by_slug(session, slug)
    if item is None or not can(user, Action.view, item):
        raise HTTPException(404, NOT_FOUND)
    manage = any(can(user, a, item) for a in (Action.edit, Action.approve, Action.unpublish))
    reviewed = any(t.language == "vi" and t.reviewed_revision for t in item.subtitle_tracks)
    return render(request, "watch.html", {
        "item": ItemOut.of(item, user).model_dump(mode="json"),
        "transcript": item.transcript if reviewed or manage else "",
        "transcript_reviewed": reviewed,
        "can_manage": manage,
        "can_download": can(user, Action.download_original, item),
    })
