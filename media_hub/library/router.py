"""Library HTTP routes: the media API, storage delivery and the viewer pages."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse

from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.delivery import serve_object
from media_hub.library import service, uploads
from media_hub.library.models import Job, MediaItem
from media_hub.library.schemas import ItemList, ItemOut, JobOut, UploadOut
from players import templates
from workers.celery_app import enqueue_transcode

api = APIRouter(prefix="/api/v1", tags=["media"])
pages = APIRouter(include_in_schema=False)


@api.post("/media", status_code=201, response_model=UploadOut)
async def upload_media(request: Request, settings: SettingsDep, store: StorageDep, session: SessionDep) -> UploadOut:
    """Upload an original (multipart: ``file``, ``title``, ``kind``, ``description``).

    Errors: 413 over the upload limit, 415 not audio/video, 422 bad fields; the
    body's ``detail`` is a Vietnamese sentence.
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
            service.create_item, session, store, original, title=title, kind=kind, description=description
        )
        session.commit()
    finally:
        if received is not None:
            received.path.unlink(missing_ok=True)
    enqueue_transcode(settings, job.id)
    return UploadOut(**ItemOut.of(item).model_dump(), job_id=job.id)


@api.get("/media", response_model=ItemList)
def list_media(session: SessionDep, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)) -> ItemList:
    return ItemList(items=[ItemOut.of(i) for i in service.list_items(session, limit=limit, offset=offset)])


def _item(session, item_id: int) -> MediaItem:
    item = session.get(MediaItem, item_id)
    if item is None:
        raise HTTPException(404, "Không tìm thấy nội dung này.")
    return item


@api.get("/media/{item_id}", response_model=ItemOut)
def get_media(item_id: int, session: SessionDep) -> ItemOut:
    return ItemOut.of(_item(session, item_id))


@api.get("/media/{item_id}/original")
def download_original(item_id: int, request: Request, session: SessionDep, store: StorageDep):
    """The original file as uploaded, named as the uploader named it (RFC 6266 ``filename*``)."""
    item = _item(session, item_id)
    return serve_object(store, item.original_key, request, download_name=item.original_filename)


@api.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: int, session: SessionDep) -> JobOut:
    job = session.get(Job, job_id)
    if job is None:
        raise HTTPException(404, "Không tìm thấy tác vụ này.")
    return JobOut.of(job)


@pages.api_route("/media/{key:path}", methods=["GET", "HEAD"])
def media_object(key: str, request: Request, store: StorageDep):
    """HLS playlists, segments and posters from blob storage."""
    return serve_object(store, key, request)


@pages.get("/", response_class=HTMLResponse)
def library_page(request: Request, session: SessionDep):
    items = [ItemOut.of(i).model_dump(mode="json") for i in service.list_items(session, limit=100)]
    return templates.TemplateResponse(request, "library.html", {"items": items})


@pages.get("/upload", response_class=HTMLResponse)
def upload_page(request: Request, settings: SettingsDep):
    return templates.TemplateResponse(request, "upload.html", {"max_upload_bytes": settings.max_upload_bytes})


@pages.get("/v/{slug}", response_class=HTMLResponse)
def watch_page(slug: str, request: Request, session: SessionDep):
    item = service.get_by_slug(session, slug)
    if item is None:
        raise HTTPException(404, "Không tìm thấy nội dung này.")
    return templates.TemplateResponse(request, "watch.html", {"item": ItemOut.of(item).model_dump(mode="json")})
