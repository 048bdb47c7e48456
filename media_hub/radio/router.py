"""Commune radio routes: the radio page, broadcast MP3 downloads, ZIP bundles with a
running order, podcast feeds, programmes, and the download report."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel
from starlette.background import BackgroundTask

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.clock import today_vn
from media_hub.delivery import content_disposition, serve_item_object
from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.legal import service as legal
from media_hub.links import public_base
from media_hub.library.models import MediaItem
from media_hub.library.router import viewable
from media_hub.library.schemas import ItemOut
from media_hub.policy import Action, can
from media_hub.radio import service
from media_hub.web import back, flash, render

api = APIRouter(prefix="/api/v1", tags=["radio"])
pages = APIRouter(include_in_schema=False)
MAX_BUNDLE = 50


class ProgrammeIn(BaseModel):
    name: str
    description: str = ""
    intro_item_id: int | None = None
    outro_item_id: int | None = None


class ProgrammeOut(ProgrammeIn):
    id: int


class RadioItemOut(BaseModel):
    item: ItemOut
    audio_url: str  # download (counted)
    preview_url: str  # listening on the page (not counted)
    file_name: str
    size: int  # bytes
    duration: float  # seconds
    loudness: dict | None


def _audio_url(item: MediaItem, key: str | None = None) -> str:
    return f"/api/v1/media/{item.id}/broadcast.mp3" + (f"?key={key}" if key else "")


def _radio_out(item: MediaItem, key: str | None = None) -> RadioItemOut:
    return RadioItemOut(item=ItemOut.of(item, None), audio_url=_audio_url(item, key),
                        preview_url=f"/api/v1/media/{item.id}/broadcast.mp3?preview=1", file_name=service.mp3_filename(item),
                        size=item.broadcast_size or 0, duration=item.broadcast_duration or 0,
                        loudness=item.broadcast_loudness)


def _downloader(session, user: User | None, key: str | None) -> User | None:
    """Who downloads: the signed-in user, or the owner of a feed key (smart radio systems)."""
    return user or service.user_for_feed_key(session, key)


@api.get("/radio/items", response_model=list[RadioItemOut])
def radio_items(session: SessionDep, topic: str | None = None, document: int | None = None,
                since: date | None = None, until: date | None = None) -> list[RadioItemOut]:
    """Published items with broadcast audio (filters: topic slug, legal document id, publication days)."""
    items = service.broadcast_items(session, topic=topic, document_id=document, since=since, until=until)
    return [_radio_out(i) for i in items]


@api.api_route("/media/{item_id}/broadcast.mp3", methods=["GET", "HEAD"])
def broadcast_mp3(item_id: int, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser,
                  key: str | None = None, preview: bool = False):
    """The broadcast MP3 (byte ranges supported), named after the title. A download is
    counted once per request that starts at byte 0 (players resuming with ranges are not
    counted again, nor ``preview`` listening on the radio page), for the administrative
    unit of the user or feed ``key``."""
    item = viewable(session, user, item_id)
    if not can(user, Action.download_radio, item) or not item.broadcast_key:
        raise HTTPException(404, "Nội dung này chưa có bản phát thanh.")
    response = serve_item_object(store, item, item.broadcast_key, request, download_name=service.mp3_filename(item))
    starts_at_zero = request.headers.get("range", "bytes=0-").startswith("bytes=0-")
    if request.method == "GET" and starts_at_zero and not preview:
        service.record_download(session, item, _downloader(session, user, key), "mp3")
        session.commit()
    return response


@pages.get("/radio/bundle.zip")
async def bundle(session: SessionDep, store: StorageDep, user: CurrentUser,
                 ids: list[int] = Query(..., description="Item ids in broadcast order"), key: str | None = None):
    """The chosen items' MP3s and a running order CSV in one ZIP. 404 naming the ids that
    are unknown, unpublished or without broadcast audio."""
    if len(ids) > MAX_BUNDLE:
        raise HTTPException(422, f"Chọn tối đa {MAX_BUNDLE} nội dung mỗi lần.")
    found = {i.id: i for i in service.broadcast_items(session, ids=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise HTTPException(404, "Không tải được các nội dung (chưa xuất bản, không có bản phát thanh "
                                 f"hoặc không tồn tại): {', '.join(map(str, missing))}.")
    items = [found[i] for i in dict.fromkeys(ids)]
    tmp = Path(tempfile.mkstemp(suffix=".zip")[1])
    await run_in_threadpool(service.zip_bundle, store, items, tmp)
    who = _downloader(session, user, key)
    for item in items:
        service.record_download(session, item, who, "zip")
    session.commit()
    return FileResponse(tmp, media_type="application/zip", background=BackgroundTask(tmp.unlink),
                        headers={"Content-Disposition": content_disposition(f"phat-thanh-{today_vn()}.zip")})


def _feed(request: Request, session, settings, items, title: str, key: str | None) -> Response:
    base = public_base(settings, request)
    self_url = f"{base}{request.url.path}" + (f"?{request.url.query}" if request.url.query else "")
    body = service.feed(
        items, title=title, self_url=self_url, site_url=f"{base}/radio", publisher=settings.publisher,
        audio_url=lambda item: base + _audio_url(item, key), watch_url=lambda item: f"{base}/v/{item.slug}",
        description=f"Chương trình phổ biến, giáo dục pháp luật của {settings.publisher} cho hệ thống truyền thanh cơ sở.",
    )
    return Response(body, media_type="application/rss+xml; charset=utf-8", headers={"Cache-Control": "public, max-age=300"})


@pages.get("/radio/feed.xml")
def feed_all(request: Request, session: SessionDep, settings: SettingsDep, key: str | None = None):
    """RSS 2.0 + iTunes podcast feed of every published broadcast segment."""
    return _feed(request, session, settings, service.broadcast_items(session, limit=300),
                 f"Phát thanh pháp luật — {settings.publisher}", key)


@pages.get("/radio/topics/{slug}/feed.xml")
def feed_topic(slug: str, request: Request, session: SessionDep, settings: SettingsDep, key: str | None = None):
    topic = next((t for t in legal.list_topics(session) if t.slug == slug), None)
    if topic is None:
        raise HTTPException(404, "Không có chủ đề này.")
    return _feed(request, session, settings, service.broadcast_items(session, topic=slug, limit=300),
                 f"{topic.name} — {settings.publisher}", key)


@pages.get("/radio/report.csv")
def report(session: SessionDep, since: date, until: date, _user: User = Depends(require(Action.radio_report))):
    """Downloads per administrative unit and item for a date range (local days, inclusive)."""
    if until < since:
        raise HTTPException(422, "Ngày kết thúc phải sau ngày bắt đầu.")
    body = service.report_csv(session, since, until)
    return Response(body.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": content_disposition(f"luot-tai-phat-thanh-{since}-{until}.csv")})


@api.get("/radio/programmes", response_model=list[ProgrammeOut])
def list_programmes(session: SessionDep):
    return service.programmes(session)


@api.post("/radio/programmes", response_model=ProgrammeOut, status_code=201)
def create_programme(body: ProgrammeIn, session: SessionDep, user: User = Depends(require(Action.manage_taxonomy))):
    """A programme; 422 when a jingle is not a published item."""
    try:
        programme = service.create_programme(session, user, **body.model_dump())
    except service.RadioError as exc:
        raise HTTPException(422, str(exc)) from None
    session.commit()
    return programme


def _public_transcript(item: MediaItem) -> str:
    """Only reviewed subtitles are public (see media_hub/captions)."""
    return item.transcript if any(t.language == "vi" and t.reviewed_revision for t in item.subtitle_tracks) else ""


@pages.get("/radio", response_class=HTMLResponse)
def radio_page(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser,
               topic: str | None = None, document: str | None = None, since: str | None = None,
               until: str | None = None):
    def day(value: str | None) -> date | None:
        try:
            return date.fromisoformat(value) if value else None
        except ValueError:
            return None

    doc_id = int(document) if document and document.isdigit() else None
    items = service.broadcast_items(session, topic=topic or None, document_id=doc_id, since=day(since),
                                    until=day(until))
    key = user.feed_key if user else None
    base = public_base(settings, request)
    return render(request, "radio.html", {
        "items": [_radio_out(i).model_dump(mode="json") | {"transcript": _public_transcript(i)} for i in items],
        "topics": [{"slug": t.slug, "name": t.name} for t in legal.list_topics(session)],
        "documents": [{"id": d.id, "label": f"{d.doc_type} số {d.number}: {d.title}"} for d in legal.list_documents(session)],
        "filters": {"topic": topic or "", "document": document or "", "since": since or "", "until": until or ""},
        "feed_url": f"{base}/radio/feed.xml" + (f"?key={key}" if key else ""),
        "commune": service.commune_name(user.commune_code) if user and user.commune_code else None,
        "can_report": can(user, Action.radio_report),
    })


@pages.post("/account/feed-key")
def regenerate_feed_key(request: Request, session: SessionDep, user: User = Depends(require(Action.use_api_tokens))):
    service.new_feed_key(user)
    session.commit()
    flash(request, "Đã tạo địa chỉ nhận tin mới; địa chỉ cũ không còn dùng được.")
    return back("/account")
