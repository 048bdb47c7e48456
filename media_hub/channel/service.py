"""Channels in the hub: the stored schedule, channel-compliant renditions, the planned
timeline (cached per process), rotations and the auto-scheduler, and the guide data.

The live playlists are a pure function of the stored plan and the clock
(:mod:`media_hub.channel.playlists`); this module keeps the plan up to date: every
change of the schedule or of the filler goes through :func:`replan_channel`.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as dtime

from slugify import slugify
from sqlalchemy import select
from sqlalchemy.orm import Session

from media_hub.captions.models import TrackStatus
from media_hub.channel import guide, playlists
from media_hub.channel.models import Channel, ChannelProgramme, ChannelRendition, RenditionStatus, Rotation
from media_hub.channel.timeline import (
    SUBTITLES, Anchor, Block, ChannelError, Source, Timeline, find_overlaps, from_us, plan, replan, to_us, vod_segments,
)
from media_hub.clock import VN
from media_hub.config import get_settings
from media_hub.db import utcnow
from media_hub.accounts.models import User
from media_hub.library.models import MediaItem, MediaKind
from media_hub.policy import Action, airable_items, can, may_air
from storage import Storage
from workers.media import LADDER, h264_level
from workers.media.model import AUDIO_BITRATE

DEFAULT_RUNGS = ("720p", "480p", "360p")
BOXES = {name: (w, h, rate) for name, w, h, rate in LADDER}


def _safety() -> float:
    """Seconds: replans never touch what starts before now + this."""
    return get_settings().channel_safety_seconds


def _lead() -> timedelta:
    """A programme is placed at least this far in the future (more than the safety)."""
    return timedelta(seconds=max(get_settings().channel_min_lead_seconds, _safety() + 1))
FRAME_RATE = 25


class ScheduleError(ValueError):
    """``str()`` is a Vietnamese sentence."""


# --- profile ---------------------------------------------------------------------------------


def profile(channel: Channel) -> playlists.ChannelProfile:
    """The channel's fixed variants: the ladder boxes of its rungs, H.264 High + AAC-LC."""
    variants = []
    for name in channel.rungs:
        w, h, rate = BOXES[name]
        maxrate = int(rate * 1.1)
        level = h264_level(w, h, FRAME_RATE, maxrate)
        major, minor = level.split(".")
        codecs = f"avc1.6400{int(major) * 10 + int(minor):02x},mp4a.40.2"
        variants.append(playlists.Variant(name, maxrate + AUDIO_BITRATE, codecs, (w, h), rate + AUDIO_BITRATE))
    return playlists.ChannelProfile(tuple(variants), channel.target_duration, channel.window_segments)


def profile_key(channel: Channel) -> str:
    return ",".join(channel.rungs)


def compliant(item: MediaItem, channel: Channel) -> bool:
    """Whether the item's own ladder fits the channel: every rung at its exact box, with audio."""
    have = {r.name: r for r in item.renditions}
    for name in channel.rungs:
        r = have.get(name)
        if r is None or (r.width, r.height) != BOXES[name][:2] or "mp4a" not in r.codecs:
            return False
    return True


# --- sources (immutable, cached per process) ---------------------------------------------------

_sources: dict[str, Source] = {}
_sources_lock = threading.Lock()


def ladder_key(master_key: str, subtitles_prefix: str | None = None) -> str:
    """A source key: the ladder's folder, and the WebVTT rendition's folder if any."""
    key = f"vod:{master_key.rsplit('/', 1)[0]}"
    return f"{key}#subs:{subtitles_prefix}" if subtitles_prefix else key


def load_source(store: Storage, key: str, rungs) -> Source:
    """The :class:`Source` of ``key`` (see :func:`ladder_key`) for ``rungs``; the segment
    URIs are the hub's ``/media/`` URLs. Cached: keys name immutable outputs."""
    cached = _sources.get(key)
    if cached is not None:
        return cached
    folder, _, subs = key.removeprefix("vod:").partition("#subs:")
    segments = {}
    for rung in rungs:
        text = store.read_bytes(f"{folder}/{rung}/index.m3u8").decode()
        segments[rung] = vod_segments(text, f"/media/{folder}/{rung}/")
    if subs:
        text = store.read_bytes(f"{subs}/index.m3u8").decode()
        segments[SUBTITLES] = vod_segments(text, f"/media/{subs}/")
    try:
        source = Source(key, segments)
    except ValueError:
        if not subs:
            raise
        segments.pop(SUBTITLES)  # subtitles not aligned with this ladder: air without them
        source = Source(key, segments)
    with _sources_lock:
        _sources[key] = source
    return source


def item_source_key(session: Session, item: MediaItem, channel: Channel) -> str | None:
    """The key of what airs for ``item`` on ``channel``: its own ladder when compliant,
    else its ready channel rendition; None while that rendition is being made."""
    subs = next((t.hls_prefix for t in item.subtitle_tracks
                 if t.language == "vi" and t.status == TrackStatus.reviewed and t.hls_prefix), None)
    if compliant(item, channel):
        return ladder_key(item.master_key, subs)
    rendition = session.scalar(select(ChannelRendition).where(
        ChannelRendition.item_id == item.id, ChannelRendition.profile == profile_key(channel)))
    if rendition is None or rendition.status != RenditionStatus.ready:
        return None
    return ladder_key(rendition.master_key, subs)


# --- the plan -----------------------------------------------------------------------------------

_timelines: dict[tuple[int, int], Timeline] = {}


def _anchor(row: dict) -> Anchor:
    return Anchor(from_us(row["start_us"]), row["msn"], row["dsn"], row["filler_index"])


def timeline(store: Storage, channel: Channel) -> Timeline:
    """The channel's timeline from its stored plan (cached per plan version)."""
    cached = _timelines.get((channel.id, channel.plan_version))
    if cached is not None:
        return cached
    rungs = channel.rungs
    filler = [load_source(store, k, rungs) for k in channel.filler]
    stored = channel.plan or {}
    origin = _anchor(stored["origin"]) if stored.get("origin") else Anchor(from_us(channel.origin_us))
    keys = {row["source"] for row in stored.get("blocks", [])}
    sources = {k: load_source(store, k, rungs) for k in keys}
    result = Timeline([Block.from_row(r, sources) for r in stored.get("blocks", [])], filler, origin)
    _timelines[(channel.id, channel.plan_version)] = result
    for key in [k for k in _timelines if k[0] == channel.id and k[1] < channel.plan_version]:
        _timelines.pop(key, None)
    return result


def _store_plan(channel: Channel, result: Timeline) -> None:
    o = result.origin
    channel.plan = {
        "origin": {"start_us": to_us(o.start), "msn": o.msn, "dsn": o.dsn, "filler_index": o.filler_index},
        "blocks": [b.to_row() for b in result.blocks],
    }
    channel.plan_version += 1


def filler_keys(session: Session, channel: Channel) -> list[str]:
    """The slate (station ident) and the editors' filler items that can air now."""
    keys = [ladder_key(channel.slate_key)] if channel.slate_key else []
    for item_id in channel.filler_item_ids:
        item = session.get(MediaItem, item_id)
        if may_air(item):  # a filler item unpublished since it was chosen is left out
            key = item_source_key(session, item, channel)
            if key:
                keys.append(key)
    return keys


def replan_channel(session: Session, store: Storage, channel: Channel, now: datetime | None = None) -> Timeline:
    """Re-plan the future from the stored schedule (RFC 8216 numbers only grow; nothing
    before now + the safety margin changes). Programmes whose rendition is not ready, or
    whose item is no longer published, are left out (filler plays)."""
    now = now or utcnow()
    keys = filler_keys(session, channel)
    if not keys:
        raise ChannelError("Kênh chưa có đoạn xen kẽ (station ident) để phát.")
    filler = [load_source(store, k, channel.rungs) for k in keys]
    horizon = now - timedelta(hours=6)
    entries = []
    for p in session.scalars(select(ChannelProgramme).where(
            ChannelProgramme.channel_id == channel.id, ChannelProgramme.start >= horizon)):
        if not may_air(p.item):
            continue
        key = item_source_key(session, p.item, channel)
        if key:
            entries.append((p.start, load_source(store, key, channel.rungs), p.id))
    if channel.plan and channel.plan.get("blocks") is not None and channel.filler:
        result = replan(timeline(store, channel), now, entries, filler, safety=_safety())
    else:
        result = plan(entries, filler, Anchor(from_us(channel.origin_us)))
    channel.filler = keys
    _store_plan(channel, result)
    return result


# --- schedule editing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Placed:
    programme: ChannelProgramme
    needs_rendition: bool  # a channel-compliant rendition is being made before air


def check_reference(user: User | None, item: MediaItem | None, *, as_filler: bool = False) -> MediaItem:
    """``item`` if ``user`` may put it on the channel (policy ``reference``: published);
    unknown and unpublished items get the same refusal, so draft ids are not revealed.
    Raises :class:`ScheduleError`."""
    if not can(user, Action.reference, item):
        what = "đoạn xen kẽ" if as_filler else "chương trình"
        raise ScheduleError(f"Chỉ nội dung đã được duyệt xuất bản mới dùng làm {what} trên kênh được.")
    return item


def _check_item(user: User | None, item: MediaItem | None) -> MediaItem:
    item = check_reference(user, item)
    if not item.renditions or not item.duration:
        raise ScheduleError(f"“{item.title}” chưa xử lý xong.")
    return item


def _overlap_check(session: Session, channel: Channel, start: datetime, duration: float, title: str,
                   ignore: int | None = None) -> None:
    existing = [
        (p.start, p.duration, p.item.title)
        for p in session.scalars(select(ChannelProgramme).where(
            ChannelProgramme.channel_id == channel.id,
            ChannelProgramme.start < start + timedelta(seconds=duration),
            ChannelProgramme.start > start - timedelta(hours=12)))
        if p.id != ignore
    ]
    problems = find_overlaps(existing + [(start, duration, title)])
    if problems:
        raise ScheduleError(problems[0])


def add_programme(session: Session, channel: Channel, item_id: int, start: datetime, user: User | None,
                  now: datetime | None = None, rotation_id: int | None = None) -> Placed:
    """Place a published item at ``start`` (aware) for ``user``. Raises :class:`ScheduleError`
    for an item ``user`` may not reference (unpublished), an unprocessed item, a start too
    soon or an overlap (with a clear message). The caller commits, queues a channel
    rendition if needed, and replans."""
    now = now or utcnow()
    item = _check_item(user, session.get(MediaItem, item_id))
    if start.tzinfo is None:
        raise ScheduleError("Thời điểm phát phải có múi giờ.")
    if start < now + _lead():
        raise ScheduleError(f"Chỉ xếp lịch cho các thời điểm sau hiện tại ít nhất {math.ceil(_lead().total_seconds())} giây.")
    _overlap_check(session, channel, start, item.duration, item.title)
    programme = ChannelProgramme(channel_id=channel.id, item_id=item.id, start=start, duration=item.duration,
                                 created_by=user.id if user else None, rotation_id=rotation_id)
    session.add(programme)
    session.flush()
    return Placed(programme, not compliant(item, channel))


def on_air(session: Session, store: Storage, item: MediaItem, now: datetime | None = None) -> tuple[Channel, datetime] | None:
    """(channel, end) if ``item`` is on air now on some channel."""
    now = now or utcnow()
    for channel in session.scalars(select(Channel)):
        block = timeline(store, channel).block_at(now)
        if block.programme_id is None:
            continue
        programme = session.get(ChannelProgramme, block.programme_id)
        if programme is not None and programme.item_id == item.id:
            return channel, block.end
    return None


def remove_programme(session: Session, store: Storage, channel: Channel, programme_id: int,
                     now: datetime | None = None) -> None:
    """Take a programme off the schedule; refused while it is on air."""
    now = now or utcnow()
    programme = session.get(ChannelProgramme, programme_id)
    if programme is None or programme.channel_id != channel.id:
        raise ScheduleError("Không tìm thấy chương trình này trong lịch.")
    block = timeline(store, channel).block_at(now + timedelta(seconds=_safety()))
    if block.programme_id == programme.id or timeline(store, channel).block_at(now).programme_id == programme.id:
        raise ScheduleError(f"“{programme.item.title}” đang phát sóng; không thể gỡ khỏi lịch lúc này.")
    session.delete(programme)
    session.flush()


def withdraw_item(session: Session, store: Storage, item: MediaItem, now: datetime | None = None) -> list[str]:
    """When an item stops being published: refuse if it is on air, else remove its
    future programmes everywhere and replan (also the channels it is filler of: the plan
    asks :func:`media_hub.policy.may_air`); returns Vietnamese warnings to show."""
    now = now or utcnow()
    airing = on_air(session, store, item, now)
    if airing:
        channel, end = airing
        raise ScheduleError(
            f"“{item.title}” đang phát trên kênh {channel.name} đến {end.astimezone(VN):%H:%M:%S}; "
            "hãy thử lại sau khi chương trình kết thúc.")
    warnings = []
    for channel in session.scalars(select(Channel)):
        gone = list(session.scalars(select(ChannelProgramme).where(
            ChannelProgramme.channel_id == channel.id, ChannelProgramme.item_id == item.id,
            ChannelProgramme.start >= now)))
        for p in gone:
            warnings.append(f"Đã gỡ khỏi lịch kênh {channel.name}: {p.start.astimezone(VN):%H:%M %d/%m/%Y}.")
            session.delete(p)
        session.flush()
        if gone or item.id in channel.filler_item_ids:  # filler: replanned without it
            replan_channel(session, store, channel, now)
    return warnings


# --- rotations and the auto-scheduler --------------------------------------------------------


def _local(day: date, hhmm: str) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, dtime(h, m), VN)


def autofill(session: Session, channel: Channel, day: date, user: User | None,
             now: datetime | None = None) -> list[ChannelProgramme]:
    """Fill ``day``'s rotation windows (local time) with published items of the rotation's
    topic/kind, least recently aired first, back to back where the schedule is free.
    Returns the new programmes (the caller commits, queues renditions and replans)."""
    now = now or utcnow()
    placed = []
    for rotation in session.scalars(select(Rotation).where(Rotation.channel_id == channel.id)):
        if day.weekday() not in rotation.weekdays:
            continue
        start, end = _local(day, rotation.start_time), _local(day, rotation.end_time)
        if end <= start:
            end += timedelta(days=1)
        stmt = select(MediaItem).where(airable_items(), MediaItem.duration.is_not(None))
        if rotation.kind in {k.value for k in MediaKind}:  # otherwise any kind
            stmt = stmt.where(MediaItem.kind == MediaKind(rotation.kind))
        if rotation.topic_id:
            from media_hub.legal.models import Topic

            stmt = stmt.where(MediaItem.topics.any(Topic.id == rotation.topic_id))
        candidates = list(session.scalars(stmt))
        if not candidates:
            continue

        def last_aired(item: MediaItem) -> datetime:
            value = session.scalar(select(ChannelProgramme.start).where(
                ChannelProgramme.channel_id == channel.id, ChannelProgramme.item_id == item.id)
                .order_by(ChannelProgramme.start.desc()).limit(1))
            return value or datetime(1970, 1, 1, tzinfo=VN)

        candidates.sort(key=lambda i: (last_aired(i), i.id))
        cursor, index, misses = max(start, now + _lead()), 0, 0
        while misses < len(candidates):
            item = candidates[index % len(candidates)]
            index += 1
            slot_end = cursor + timedelta(seconds=item.duration)
            if slot_end > end:
                misses += 1
                continue
            try:
                placed.append(add_programme(session, channel, item.id, cursor, user, now, rotation.id).programme)
                cursor = slot_end + timedelta(seconds=channel.target_duration)  # room for the filler segment
                misses = 0
            except ScheduleError:
                # Taken: jump past the programme occupying this time.
                clash = session.scalar(select(ChannelProgramme).where(
                    ChannelProgramme.channel_id == channel.id, ChannelProgramme.start < slot_end,
                    ChannelProgramme.start > cursor - timedelta(hours=12)).order_by(ChannelProgramme.start.desc()))
                cursor = max(cursor + timedelta(minutes=1),
                             clash.start + timedelta(seconds=clash.duration + channel.target_duration)) if clash else cursor + timedelta(minutes=1)
                misses += 1
            if cursor >= end:
                break
    return placed


# --- channels --------------------------------------------------------------------------------


def create_channel(session: Session, name: str, *, number: int = 1, rungs=DEFAULT_RUNGS,
                   slug: str | None = None) -> Channel:
    channel = Channel(slug=slug or slugify(name), name=name, number=number, rungs=list(rungs),
                      origin_us=to_us(utcnow()), plan={}, filler=[], filler_item_ids=[])
    session.add(channel)
    session.flush()
    return channel


def programmes_between(session: Session, channel: Channel, start: datetime, end: datetime) -> list[ChannelProgramme]:
    return list(session.scalars(select(ChannelProgramme).where(
        ChannelProgramme.channel_id == channel.id, ChannelProgramme.start >= start, ChannelProgramme.start < end)
        .order_by(ChannelProgramme.start)))


def describe(session: Session):
    """Guide descriptions of programme ids: (title, description, categories)."""

    def lookup(pid):
        programme = session.get(ChannelProgramme, pid)
        if programme is None:
            return None
        item = programme.item
        return item.title, item.description or None, [t.name for t in item.topics]

    return lookup


def guide_entries(session: Session, store: Storage, channel: Channel, start: datetime, stop: datetime):
    return guide.guide_programmes(timeline(store, channel), start, stop, describe(session))


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, dtime(), VN)
    return start, start + timedelta(days=1)



DEFAULT_CHANNEL = ("Kênh truyền hình pháp luật trực tuyến", "phap-luat")


def make_slate(store: Storage, channel: Channel, work_dir) -> str:
    """Make the channel's station ident in its profile and return the master playlist key."""
    import shutil
    from pathlib import Path

    from workers.media import slate
    from workers.pipeline import process_original

    work = Path(work_dir) / f"slate-{channel.id}-{channel.plan_version}"
    try:
        w, h, _ = BOXES[channel.rungs[0]]
        source = slate(work / "slate.mp4", [channel.name, "Chương trình sẽ tiếp tục trong giây lát"], w, h)
        prefix = f"channels/{channel.slug}/slate-{to_us(utcnow())}"
        return process_original(source, work / "out", store, prefix).master_key
    finally:
        shutil.rmtree(work, ignore_errors=True)


def ensure_default_channel(session: Session, store: Storage, work_dir) -> Channel:
    """The default channel with its station ident and a plan (idempotent)."""
    channel = session.scalar(select(Channel).order_by(Channel.id).limit(1))
    if channel is None:
        channel = create_channel(session, DEFAULT_CHANNEL[0], slug=DEFAULT_CHANNEL[1])
    if channel.slate_key is None:
        channel.slate_key = make_slate(store, channel, work_dir)
    if not channel.plan:
        replan_channel(session, store, channel)
    return channel
