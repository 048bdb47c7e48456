"""Channel routes: live HLS (master, media and subtitle playlists), programme guide
(XMLTV, M3U, now/next), schedule editing (API and page), the channel page."""

from __future__ import annotations

import asyncio
import math
import re
import time
import xml.etree.ElementTree as ET
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, field_validator
from sqlalchemy import select

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.channel import guide, playlists, service
from media_hub.channel.models import Channel, ChannelProgramme, ChannelRendition, RenditionStatus, Rotation
from media_hub.channel.timeline import US, ChannelError, to_us
from media_hub.clock import today_vn
from media_hub.db import session_factory, utcnow
from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.library.models import Job, JobState, MediaItem
from media_hub.links import public_base
from media_hub.policy import Action, airable_items, can
from media_hub.web import back, flash, render
from workers.celery_app import enqueue

api = APIRouter(prefix="/api/v1", tags=["channel"])
pages = APIRouter(include_in_schema=False)
Scheduler = Depends(require(Action.manage_schedule))
PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
PLACEHOLDER_VTT = "/static/empty.vtt"
STATE_TTL = 1.0  # seconds a process trusts its copy of a channel's plan version


# --- live -----------------------------------------------------------------------------------

_state: dict[str, tuple[float, Channel]] = {}
LIVE_PATH = re.compile(r"/channels/([^/]+)/live(?:/([^/]+))?\.m3u8")


def live_channel(db_url: str, slug: str) -> Channel | None:
    """The channel row (None: no such channel), re-read from the database at most once
    per :data:`STATE_TTL` (so every replica follows a new plan within a second, and the
    playlist path costs no query per request)."""
    now = time.monotonic()
    cached = _state.get(slug)
    if cached and cached[0] > now:
        return cached[1]
    with session_factory(db_url)() as session:
        channel = session.scalar(select(Channel).where(Channel.slug == slug))
        if channel is not None:
            session.expunge(channel)
    if channel is not None:
        _state[slug] = (now + STATE_TTL, channel)
    return channel


def _live_or_404(request: Request, slug: str) -> Channel:
    channel = live_channel(request.app.state.settings.db_url, slug)
    if channel is None:
        raise HTTPException(404, "Không có kênh này.")
    return channel


def master_body(channel: Channel) -> tuple[bytes, int]:
    """The master playlist and its ``max-age``."""
    slug = channel.slug
    urls = {rung: f"/channels/{slug}/live/{rung}.m3u8" for rung in channel.rungs}
    body = playlists.master_playlist(service.profile(channel), urls, f"/channels/{slug}/live/subtitles.m3u8",
                                     subtitles_default=True)
    return body.encode(), 300


_bodies: dict[tuple[int, str], tuple[tuple[int, int, int], int, int, bytes]] = {}


def media_body(store, channel: Channel, rung: str) -> tuple[bytes, int] | None:
    """A media playlist and its ``max-age``; None if the channel has no such rung.

    The playlist only changes when a segment starts: it is rendered once per segment
    and rung (and plan), then served as is until the next segment's start."""
    if rung not in channel.rungs and rung != "subtitles":
        return None
    now = utcnow()
    t = to_us(now)
    plan = (channel.plan_version, channel.target_duration, channel.window_segments)
    cached = _bodies.get((channel.id, rung))
    if cached is not None and cached[0] == plan and cached[1] <= t < cached[2]:
        body, until = cached[3], cached[2]
    else:
        timeline = service.timeline(store, channel)
        body = playlists.media_playlist(timeline, rung, now, target_duration=channel.target_duration,
                                        window_segments=channel.window_segments,
                                        placeholder_uri=PLACEHOLDER_VTT).encode()
        until = t + round(playlists.seconds_until_next_change(timeline, now) * US)  # the next segment's start
        _bodies[(channel.id, rung)] = (plan, t, until, body)
    max_age = max(1, min(channel.target_duration, math.floor((until - t) / US)))
    return body, max_age


def _playlist(body: bytes, max_age: int) -> Response:
    return Response(body, media_type=PLAYLIST_TYPE, headers={"Cache-Control": f"public, max-age={max_age}"})


@pages.get("/channels/{slug}/live.m3u8")
def live_master(slug: str, request: Request):
    """The channel's master playlist (RFC 8216 §4.3.4): one variant per rung, a subtitle group."""
    return _playlist(*master_body(_live_or_404(request, slug)))


@pages.get("/channels/{slug}/live/{rung}.m3u8")
def live_media(slug: str, rung: str, request: Request):
    """A live media playlist, a pure function of the stored plan and the clock
    (RFC 8216 §6.2.2); cached only until the next segment starts."""
    found = media_body(request.app.state.storage, _live_or_404(request, slug), rung)
    if found is None:
        raise HTTPException(404, "Kênh không có chất lượng này.")
    return _playlist(*found)


class LivePlaylists:
    """ASGI middleware answering GET and HEAD of the live playlists (the routes above)
    before FastAPI's stack: they are public, anonymous and polled by every viewer every
    few seconds, so they skip the session, the ``authenticate`` dependency (a database
    session per request), routing and the thread pool. Same bodies and ``Cache-Control``
    as the routes; anything else (an unknown channel or rung, an error) falls through
    to the app, which answers as before.

    The channel row is refreshed per :data:`STATE_TTL` in a thread, one refresh per slug
    at a time (concurrent requests wait for it instead of each querying)."""

    def __init__(self, app, settings, store):
        self.app, self.db_url, self.store = app, settings.db_url, store
        self._refreshing: dict[str, asyncio.Future] = {}

    async def __call__(self, scope, receive, send):
        match = LIVE_PATH.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        slug, rung = match[1], match[2]
        try:
            cached = _state.get(slug)
            if cached and cached[0] > time.monotonic():
                channel = cached[1]
            else:
                channel = await self._refresh(slug)
            found = None if channel is None else master_body(channel) if rung is None else media_body(
                self.store, channel, rung)
        except Exception:  # the app answers (and reports) it as it always did
            found = None
        if found is None:
            await self.app(scope, receive, send)
            return
        data, max_age = found
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-length", str(len(data)).encode()), (b"content-type", PLAYLIST_TYPE.encode()),
            (b"cache-control", f"public, max-age={max_age}".encode())]})
        await send({"type": "http.response.body", "body": data})

    async def _refresh(self, slug: str) -> Channel | None:
        future = self._refreshing.get(slug)
        if future is None:
            future = self._refreshing[slug] = asyncio.ensure_future(run_in_threadpool(self._load, slug))
            future.add_done_callback(lambda _: self._refreshing.pop(slug, None))
        return await asyncio.shield(future)

    def _load(self, slug: str) -> Channel | None:
        channel = live_channel(self.db_url, slug)
        if channel is not None:
            service.timeline(self.store, channel)  # built (storage reads) here, not on the event loop
        return channel


# --- guide ----------------------------------------------------------------------------------


def _xmltv_id(channel: Channel) -> str:
    return f"{channel.slug}.media-hub"


def _epg(session, store, channels: list[Channel]) -> bytes:
    """XMLTV for ``channels``: every <channel> first, then every <programme> (XMLTV DTD)."""
    now = utcnow()
    start, stop = now - timedelta(hours=6), now + timedelta(days=2)
    docs = [ET.fromstring(guide.xmltv((_xmltv_id(c), c.name, None), service.guide_entries(session, store, c, start, stop)))
            for c in channels]
    if len(docs) == 1:
        return ET.tostring(docs[0], encoding="utf-8", xml_declaration=True)
    tv = ET.Element("tv", docs[0].attrib)
    tv.extend(el for doc in docs for el in doc.iter("channel"))
    tv.extend(el for doc in docs for el in doc.iter("programme"))
    return ET.tostring(tv, encoding="utf-8", xml_declaration=True)


def _xml(body: bytes) -> Response:
    doctype = b'<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
    head, _, rest = body.partition(b"\n")
    return Response(head + b"\n" + doctype + rest, media_type="application/xml",
                    headers={"Cache-Control": "public, max-age=60"})


@pages.get("/channels/epg.xml")
def epg_all(session: SessionDep, store: StorageDep):
    """XMLTV guide of every channel (the M3U's url-tvg)."""
    return _xml(_epg(session, store, list(session.scalars(select(Channel).order_by(Channel.number)))))


@pages.get("/channels/{slug}/epg.xml")
def epg(slug: str, session: SessionDep, store: StorageDep):
    """XMLTV programme guide (XMLTV DTD), from 6 hours ago to 2 days ahead."""
    return _xml(_epg(session, store, [_channel(session, slug)]))


@pages.get("/channels.m3u")
def iptv_m3u(request: Request, session: SessionDep, settings: SettingsDep):
    """M3U playlist of every channel for IPTV players (VLC, Kodi, smart TVs)."""
    base = public_base(settings, request)
    channels = list(session.scalars(select(Channel).order_by(Channel.number)))
    entries = [(_xmltv_id(c), c.name, f"{base}/static/favicon.svg", c.number, c.group,
                f"{base}/channels/{c.slug}/live.m3u8") for c in channels]
    epg_url = f"{base}/channels/epg.xml"
    return Response(guide.m3u(entries, epg_url), media_type="audio/x-mpegurl",
                    headers={"Cache-Control": "public, max-age=300"})


@api.get("/channels/{slug}/now")
def now_next(slug: str, session: SessionDep, store: StorageDep):
    """What is on now and next (JSON), with actual start/stop times."""
    channel = session.scalar(select(Channel).where(Channel.slug == slug))
    if channel is None:
        raise HTTPException(404, "Không có kênh này.")
    return guide.now_next(service.timeline(store, channel), utcnow(), service.describe(session))


# --- schedule ---------------------------------------------------------------------------------


class ProgrammeIn(BaseModel):
    item_id: int
    start: datetime  # ISO 8601; without an offset it is read as Asia/Ho_Chi_Minh

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=service.VN)


class ProgrammeOut(BaseModel):
    id: int
    item_id: int
    title: str
    start: datetime
    duration: float  # seconds
    rendition: str  # ready, pending (a channel rendition is being made) or failed


class RotationIn(BaseModel):
    name: str
    topic_id: int | None = None
    kind: str | None = None
    weekdays: list[int]  # 0 = Monday
    start_time: str  # HH:MM local
    end_time: str


def _back_to_schedule(request: Request, slug: str):
    """Back to the schedule page the form was on (keeping its ?date=)."""
    referer = request.headers.get("referer", "")
    path = referer.split(str(request.base_url).rstrip("/"), 1)[-1] if referer else ""
    return back(path if path.startswith(f"/channels/{slug}/schedule") else f"/channels/{slug}/schedule")


def _channel(session, slug: str) -> Channel:
    channel = session.scalar(select(Channel).where(Channel.slug == slug))
    if channel is None:
        raise HTTPException(404, "Không có kênh này.")
    return channel


def _rendition_state(session, programme: ChannelProgramme, channel: Channel) -> str:
    if service.compliant(programme.item, channel):
        return "ready"
    rendition = session.scalar(select(ChannelRendition).where(
        ChannelRendition.item_id == programme.item_id, ChannelRendition.profile == service.profile_key(channel)))
    return rendition.status if rendition else "pending"


def _out(session, p: ChannelProgramme, channel: Channel) -> ProgrammeOut:
    return ProgrammeOut(id=p.id, item_id=p.item_id, title=p.item.title, start=p.start, duration=p.duration,
                        rendition=_rendition_state(session, p, channel))


def _conform_jobs(session, channel: Channel, placed: list[service.Placed]) -> list[Job]:
    """Queue channel renditions for the placed items that need one (once per item)."""
    jobs = []
    for p in placed:
        if not p.needs_rendition:
            continue
        key = service.profile_key(channel)
        exists = session.scalar(select(ChannelRendition).where(
            ChannelRendition.item_id == p.programme.item_id, ChannelRendition.profile == key))
        if exists is not None and exists.status != RenditionStatus.failed:
            continue
        if exists is None:
            session.add(ChannelRendition(item_id=p.programme.item_id, profile=key))
        else:
            exists.status, exists.error = RenditionStatus.pending, None
        job = Job(item_id=p.programme.item_id, task="conform", state=JobState.queued)
        session.add(job)
        jobs.append(job)
    return jobs


def _commit_schedule(session, store, settings, channel: Channel, placed: list[service.Placed]) -> None:
    jobs = _conform_jobs(session, channel, placed)
    service.replan_channel(session, store, channel)
    session.commit()
    _state.pop(channel.slug, None)
    for job in jobs:
        enqueue(settings, job.task, job.id)


@api.get("/channels/{slug}/programmes", response_model=list[ProgrammeOut])
def list_programmes(slug: str, session: SessionDep, day: date | None = Query(None, alias="date")):
    """The nominal schedule of a local day (default today, Asia/Ho_Chi_Minh)."""
    channel = _channel(session, slug)
    start, end = service.local_day_bounds(day or today_vn())
    return [_out(session, p, channel) for p in service.programmes_between(session, channel, start, end)]


@api.post("/channels/{slug}/programmes", response_model=ProgrammeOut, status_code=201)
def add_programme(slug: str, body: ProgrammeIn, session: SessionDep, store: StorageDep, settings: SettingsDep,
                  user: User = Scheduler) -> ProgrammeOut:
    """Place a published item. 422 with the reason: unpublished, unprocessed, too soon, overlap."""
    channel = _channel(session, slug)
    try:
        placed = service.add_programme(session, channel, body.item_id, body.start, user)
    except (service.ScheduleError, ChannelError) as exc:
        session.rollback()
        raise HTTPException(422, str(exc)) from None
    _commit_schedule(session, store, settings, channel, [placed])
    return _out(session, placed.programme, channel)


@api.delete("/channels/{slug}/programmes/{programme_id}", status_code=204)
def delete_programme(slug: str, programme_id: int, session: SessionDep, store: StorageDep, settings: SettingsDep,
                     _user: User = Scheduler) -> None:
    channel = _channel(session, slug)
    try:
        service.remove_programme(session, store, channel, programme_id)
    except service.ScheduleError as exc:
        session.rollback()
        raise HTTPException(409, str(exc)) from None
    _commit_schedule(session, store, settings, channel, [])


@api.post("/channels/{slug}/rotations", status_code=201)
def add_rotation(slug: str, body: RotationIn, session: SessionDep, _user: User = Scheduler) -> dict:
    channel = _channel(session, slug)
    try:
        for value in (body.start_time, body.end_time):
            datetime.strptime(value, "%H:%M")
        if not body.weekdays or any(d not in range(7) for d in body.weekdays):
            raise ValueError
    except ValueError:
        raise HTTPException(422, "Khung giờ phải có dạng HH:MM và ít nhất một ngày trong tuần.") from None
    rotation = Rotation(channel_id=channel.id, **body.model_dump())
    session.add(rotation)
    session.commit()
    return {"id": rotation.id, **body.model_dump()}


@api.post("/channels/{slug}/autofill", response_model=list[ProgrammeOut])
def autofill(slug: str, session: SessionDep, store: StorageDep, settings: SettingsDep, user: User = Scheduler,
             day: date = Query(..., alias="date")) -> list[ProgrammeOut]:
    """Fill a local day's rotation windows with published items (least recently aired first)."""
    channel = _channel(session, slug)
    new = service.autofill(session, channel, day, user)
    placed = [service.Placed(p, not service.compliant(p.item, channel)) for p in new]
    _commit_schedule(session, store, settings, channel, placed)
    return [_out(session, p, channel) for p in new]


class FillerIn(BaseModel):
    item_ids: list[int]


@api.put("/channels/{slug}/filler")
def set_filler(slug: str, body: FillerIn, session: SessionDep, store: StorageDep, settings: SettingsDep,
               user: User = Scheduler) -> dict:
    """The filler items (station idents, short clips) played between programmes, after the
    slate. 422 unless every item is published (one that is unpublished later is skipped)."""
    channel = _channel(session, slug)
    placed = []
    for item_id in body.item_ids:
        try:
            item = service.check_reference(user, session.get(MediaItem, item_id), as_filler=True)
        except service.ScheduleError as exc:
            raise HTTPException(422, f"Nội dung {item_id}: {exc}") from None
        placed.append(service.Placed(ChannelProgramme(item_id=item_id), not service.compliant(item, channel)))
    channel.filler_item_ids = body.item_ids
    _commit_schedule(session, store, settings, channel, placed)
    return {"item_ids": channel.filler_item_ids, "filler": channel.filler}


# --- pages ----------------------------------------------------------------------------------


@pages.get("/channels/{slug}", response_class=HTMLResponse)
def channel_page(slug: str, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser):
    channel = _channel(session, slug)
    start, end = service.local_day_bounds(today_vn())
    entries = service.guide_entries(session, store, channel, start, end)
    now = utcnow()
    return render(request, "channel.html", {
        "channel": {"slug": channel.slug, "name": channel.name, "number": channel.number,
                    "master_url": f"/channels/{slug}/live.m3u8", "epg_url": f"/channels/{slug}/epg.xml",
                    "m3u_url": "/channels.m3u"},
        "guide": [{"start": s.isoformat(), "stop": e.isoformat(), "title": t, "description": d,
                   "categories": list(c), "on_air": s <= now < e} for s, e, t, d, c in entries],
        "now_next": guide.now_next(service.timeline(store, channel), now, service.describe(session)),
        "can_schedule": can(user, Action.manage_schedule),
    })


@pages.get("/channels/{slug}/schedule", response_class=HTMLResponse)
def schedule_page(slug: str, request: Request, session: SessionDep, user: User = Scheduler,
                  day: str | None = Query(None, alias="date")):
    channel = _channel(session, slug)
    try:
        chosen = date.fromisoformat(day) if day else today_vn()
    except ValueError:
        chosen = today_vn()
    start, end = service.local_day_bounds(chosen)
    published = session.scalars(select(MediaItem).where(airable_items())
                                .order_by(MediaItem.title)).all()
    return render(request, "schedule.html", {
        "channel": {"slug": channel.slug, "name": channel.name},
        "date": chosen.isoformat(),
        "now": utcnow().isoformat(),  # the hub's clock, for the page's past/on-air marks
        "programmes": [_out(session, p, channel).model_dump(mode="json")
                       for p in service.programmes_between(session, channel, start, end)],
        "items": [{"id": i.id, "title": i.title, "duration": i.duration, "kind": i.kind} for i in published],
        "rotations": [{"id": r.id, "name": r.name, "weekdays": r.weekdays, "start_time": r.start_time,
                       "end_time": r.end_time, "kind": r.kind, "topic_id": r.topic_id}
                      for r in session.scalars(select(Rotation).where(Rotation.channel_id == channel.id))],
        "filler_item_ids": channel.filler_item_ids,
    })


@pages.post("/channels/{slug}/schedule/programmes")
async def schedule_add(slug: str, request: Request, session: SessionDep, store: StorageDep, settings: SettingsDep,
                       user: User = Scheduler):
    form = await request.form()
    channel = _channel(session, slug)
    day = str(form.get("date", ""))
    try:
        start = datetime.fromisoformat(f"{day}T{form.get('time', '')}").replace(tzinfo=service.VN)
        placed = service.add_programme(session, channel, int(form.get("item_id", 0)), start, user)
    except (service.ScheduleError, ChannelError) as exc:
        session.rollback()
        flash(request, str(exc), error=True)
        return back(f"/channels/{slug}/schedule?date={day}")
    except ValueError:
        flash(request, "Ngày giờ hoặc nội dung không hợp lệ.", error=True)
        return back(f"/channels/{slug}/schedule?date={day}")
    _commit_schedule(session, store, settings, channel, [placed])
    flash(request, f"Đã xếp “{placed.programme.item.title}” lúc {start:%H:%M %d/%m/%Y}."
          + (" Hệ thống đang tạo bản dựng phù hợp với kênh trước giờ phát." if placed.needs_rendition else ""))
    return back(f"/channels/{slug}/schedule?date={day}")


@pages.post("/channels/{slug}/schedule/programmes/{programme_id}/delete")
def schedule_delete(slug: str, programme_id: int, request: Request, session: SessionDep, store: StorageDep,
                    settings: SettingsDep, _user: User = Scheduler):
    channel = _channel(session, slug)
    try:
        service.remove_programme(session, store, channel, programme_id)
    except service.ScheduleError as exc:
        session.rollback()
        flash(request, str(exc), error=True)
        return _back_to_schedule(request, slug)
    _commit_schedule(session, store, settings, channel, [])
    flash(request, "Đã gỡ chương trình khỏi lịch.")
    return _back_to_schedule(request, slug)


@pages.post("/channels/{slug}/schedule/autofill")
async def schedule_autofill(slug: str, request: Request, session: SessionDep, store: StorageDep,
                            settings: SettingsDep, user: User = Scheduler):
    form = await request.form()
    channel = _channel(session, slug)
    try:
        day = date.fromisoformat(str(form.get("date", "")))
    except ValueError:
        flash(request, "Ngày không hợp lệ.", error=True)
        return back(f"/channels/{slug}/schedule")
    new = service.autofill(session, channel, day, user)
    placed = [service.Placed(p, not service.compliant(p.item, channel)) for p in new]
    _commit_schedule(session, store, settings, channel, placed)
    flash(request, f"Đã tự động xếp {len(new)} chương trình.")
    return back(f"/channels/{slug}/schedule?date={day}")


@pages.post("/channels/{slug}/schedule/rotations")
async def schedule_rotation(slug: str, request: Request, session: SessionDep, _user: User = Scheduler):
    form = await request.form()
    channel = _channel(session, slug)
    try:
        weekdays = sorted({int(d) for d in form.getlist("weekdays")})
        for value in (str(form.get("start_time")), str(form.get("end_time"))):
            datetime.strptime(value, "%H:%M")
        if not weekdays or not str(form.get("name", "")).strip():
            raise ValueError
    except ValueError:
        flash(request, "Cần tên, ít nhất một ngày và khung giờ dạng HH:MM.", error=True)
        return _back_to_schedule(request, slug)
    topic = str(form.get("topic_id") or "")
    session.add(Rotation(channel_id=channel.id, name=str(form.get("name")).strip(), weekdays=weekdays,
                         start_time=str(form.get("start_time")), end_time=str(form.get("end_time")),
                         kind=str(form.get("kind") or "") or None, topic_id=int(topic) if topic.isdigit() else None))
    session.commit()
    flash(request, "Đã thêm khung giờ tự động.")
    return _back_to_schedule(request, slug)
