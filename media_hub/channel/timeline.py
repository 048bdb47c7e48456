"""The channel's timeline: programmes and filler stitched back to back, as pure data.

A 24/7 live HLS channel (RFC 8216) is made by playing the segments of existing VOD
renditions one after the other.  Everything here is a pure function of the stored
schedule and a clock, so every API replica renders the same playlists and a restart
changes nothing.

Time is kept as **integer microseconds since the Unix epoch, UTC** (``*_us``) so that
adding thousands of EXTINF durations never drifts and every replica computes the
same numbers; datetimes at the API must be timezone-aware.

Model
-----
* A :class:`Source` is one item's rendition set: per rung ("1080p", "720p"... and
  optionally the pseudo-rung ``"subtitles"``) the list of its segments, the same
  durations on every rung.
* A :class:`Block` is one source played from its first segment, on the channel,
  from ``start_us``: ``count`` segments (a filler block may be cut short), media
  sequence numbers ``first_msn`` … ``first_msn + count - 1`` and discontinuity
  sequence number ``dsn`` (RFC 8216 §4.3.3.3).  Every block begins with an
  EXT-X-DISCONTINUITY, so ``dsn`` is one more than the previous block's.
* Blocks are contiguous: a block starts exactly where the previous one ends, so the
  segment timeline *is* wall-clock time (EXT-X-PROGRAM-DATE-TIME = block start + the
  durations before the segment).
* A :class:`Timeline` is the list of planned blocks followed by an open-ended filler
  loop, computed in O(1) for any future time by cycle arithmetic.

Scheduling rules (see :func:`plan`)
-----------------------------------
* A programme starts at ``max(nominal start, end of the previous content)``; it is
  never early.
* A gap before a programme is filled with *whole* filler segments, cycling through
  the filler items from their first segment (each item a block, hence a
  discontinuity).  The filler segment that crosses the nominal start is played to its
  end, so in steady state a programme starts **late by less than one filler segment**
  (< the longest filler segment, ≤ the channel's target duration, ~4 s); a programme
  scheduled back to back after a late one inherits that lateness, which never grows.
* The filler rotation continues across gaps (the next gap starts with the next item).
* After the last programme the filler loops forever.
* Nominally overlapping programmes are refused (:func:`find_overlaps`).

Edits (see :func:`replan`) re-plan only the future: blocks that started before
``now + safety`` keep their times and numbers, so EXT-X-MEDIA-SEQUENCE and
EXT-X-DISCONTINUITY-SEQUENCE never decrease and no segment already served changes.

What to store: the planned blocks (:meth:`Block.to_row`, sources by key), the filler list
and the origin :class:`Anchor`; the loop after the last block needs nothing more.  Every
change of the schedule *or of the filler list* must go through :func:`replan` (changing
the filler list alone would change the loop, including what was already served).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Hashable, Iterable, Iterator, Mapping, Sequence
from zoneinfo import ZoneInfo

import m3u8

from media_hub.clock import VN, VN_TZ_NAME

US = 1_000_000  # microseconds per second
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PROGRAMME, FILLER = "programme", "filler"
SUBTITLES = "subtitles"  # the pseudo-rung of WebVTT segments
DISPLAY_TZ = VN_TZ_NAME
#: Two rungs' durations of one segment may differ by this much (µs): WebVTT segment
#: playlists are written with durations rounded to the millisecond.
DURATION_TOLERANCE_US = 1_000


class ChannelError(ValueError):
    """A schedule or a source the channel cannot play; ``str(e)`` is Vietnamese, for editors."""


def zone(name: str = DISPLAY_TZ):
    """The tzinfo for ``name`` (Viet Nam's comes from :mod:`media_hub.clock`)."""
    return VN if name == DISPLAY_TZ else ZoneInfo(name)


def to_us(when: datetime) -> int:
    """Aware datetime → integer µs since the epoch (UTC).  Naive datetimes are refused."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"naive datetime {when!r}: give a timezone-aware (UTC) datetime")
    return (when - EPOCH) // timedelta(microseconds=1)


def from_us(us: int) -> datetime:
    """Integer µs since the epoch → aware UTC datetime."""
    return EPOCH + timedelta(microseconds=us)


def rounded(duration_us: int) -> int:
    """A duration rounded to the nearest integer second, halves up (RFC 8216 §4.3.3.1
    compares this with EXT-X-TARGETDURATION)."""
    return (duration_us + US // 2) // US


@dataclass(frozen=True)
class SegmentRef:
    """One media segment: ``uri`` as it must appear in the channel's playlists (absolute:
    the live playlist lives at another URL than the VOD one), ``duration`` its EXTINF in
    seconds."""

    uri: str
    duration: float


@dataclass(frozen=True, eq=False)
class Source:
    """One item's renditions: ``segments[rung]`` lists its segments in order.

    All rungs (``"subtitles"`` included) must have the same number of segments with the
    same durations (within :data:`DURATION_TOLERANCE_US`), else ``ValueError``: the
    channel switches rungs at segment boundaries and keeps one timeline for all.

    Derived: ``durations_us`` (the first video rung's EXTINF values in µs),
    ``offsets_us`` (``count + 1`` cumulative starts, ``offsets_us[count]`` = total),
    ``duration`` (seconds, the EXTINF sum — what players add up, so this is the source's
    length on the channel, not the probed one), ``max_rounded`` (the longest segment
    rounded to whole seconds, to compare with the target duration).
    """

    key: str
    segments: Mapping[str, Sequence[SegmentRef]]
    durations_us: tuple[int, ...] = field(init=False, repr=False)
    offsets_us: tuple[int, ...] = field(init=False, repr=False)
    max_rounded: int = field(init=False, repr=False)
    lines: dict = field(init=False, repr=False)

    def __post_init__(self):
        segments = {rung: tuple(segs) for rung, segs in self.segments.items()}
        if not segments:
            raise ValueError(f"source {self.key!r}: no rungs")
        canonical = next((r for r in segments if r != SUBTITLES), next(iter(segments)))
        durations = tuple(round(s.duration * US) for s in segments[canonical])
        if not durations or min(durations) <= 0:
            raise ValueError(f"source {self.key!r}: no segments, or a segment of duration ≤ 0")
        for rung, segs in segments.items():
            if len(segs) != len(durations):
                raise ValueError(f"source {self.key!r}: rung {rung} has {len(segs)} segments, "
                                 f"{canonical} has {len(durations)}")
            for i, (s, d) in enumerate(zip(segs, durations)):
                if abs(round(s.duration * US) - d) > DURATION_TOLERANCE_US:
                    raise ValueError(f"source {self.key!r}: segment {i} lasts {s.duration} s on "
                                     f"{rung} but {d / US} s on {canonical}")
        offsets = [0]
        for d in durations:
            offsets.append(offsets[-1] + d)
        # Pre-rendered "#EXTINF" + URI lines per rung, in the canonical durations so that
        # every rung's playlist has the same timeline.  Placeholder subtitle lines are
        # added on demand by placeholder_lines().
        lines = {rung: tuple(f"#EXTINF:{d / US:.6f},\n{s.uri}\n" for s, d in zip(segs, durations))
                 for rung, segs in segments.items()}
        set_ = object.__setattr__
        set_(self, "segments", segments)
        set_(self, "durations_us", durations)
        set_(self, "offsets_us", tuple(offsets))
        set_(self, "max_rounded", rounded(max(durations)))
        set_(self, "lines", lines)

    @property
    def count(self) -> int:
        return len(self.durations_us)

    @property
    def duration_us(self) -> int:
        return self.offsets_us[-1]

    @property
    def duration(self) -> float:
        """Seconds: the sum of the EXTINF durations."""
        return self.offsets_us[-1] / US

    @property
    def rungs(self) -> tuple[str, ...]:
        return tuple(self.segments)

    def placeholder_lines(self, uri: str) -> tuple[str, ...]:
        """Lines of ``uri`` repeated with this source's durations (for a rung it lacks)."""
        key = ("placeholder", uri)
        if key not in self.lines:
            self.lines[key] = tuple(f"#EXTINF:{d / US:.6f},\n{uri}\n" for d in self.durations_us)
        return self.lines[key]


def vod_segments(playlist_text: str, base_uri: str = "") -> list[SegmentRef]:
    """Segments of a VOD media playlist (as written by ``workers.media.transcode``),
    their URIs prefixed with ``base_uri`` (e.g. ``"/media/<item>/720p/"``) unless
    already absolute."""
    out = []
    for seg in m3u8.loads(playlist_text).segments:
        uri = seg.uri if "://" in seg.uri or seg.uri.startswith("/") else base_uri + seg.uri
        out.append(SegmentRef(uri, float(seg.duration)))
    return out


@dataclass(frozen=True)
class Anchor:
    """Where numbering starts: at ``start`` (aware datetime, e.g. the channel's creation)
    the first segment has media sequence number ``msn``; ``dsn`` is the
    EXT-X-DISCONTINUITY-SEQUENCE of the very first playlist (its first block's segments
    have ``dsn + 1``, since every block starts with a discontinuity tag);
    ``filler_index`` the filler item to play first."""

    start: datetime
    msn: int = 0
    dsn: int = 0
    filler_index: int = 0

    @property
    def start_us(self) -> int:
        return to_us(self.start)


@dataclass(frozen=True, slots=True)
class Block:
    """One source played on the channel from its first segment.

    ``kind`` "programme" or "filler"; ``programme_id`` (None for filler); ``start_us``
    the actual start (µs since the epoch, UTC); ``first_msn`` the media sequence number of
    its first segment; ``dsn`` the discontinuity sequence number of all its segments;
    ``count`` how many of the source's segments play (fewer for a filler cut short);
    ``filler_index`` the filler item's position in the filler list;
    ``nominal_us`` a programme's scheduled start.
    """

    kind: str
    programme_id: Hashable | None
    source: Source
    start_us: int
    first_msn: int
    dsn: int
    count: int
    filler_index: int | None = None
    nominal_us: int | None = None

    @property
    def end_us(self) -> int:
        return self.start_us + self.source.offsets_us[self.count]

    @property
    def actual_start(self) -> datetime:
        return from_us(self.start_us)

    @property
    def end(self) -> datetime:
        return from_us(self.end_us)

    @property
    def nominal_start(self) -> datetime | None:
        return None if self.nominal_us is None else from_us(self.nominal_us)

    @property
    def lateness(self) -> float:
        """Seconds a programme starts after its nominal start (0 for filler)."""
        return 0.0 if self.nominal_us is None else (self.start_us - self.nominal_us) / US

    def to_row(self) -> dict:
        """JSON-ready dict for storage; the source is stored by its key."""
        return {"kind": self.kind, "programme_id": self.programme_id, "source": self.source.key,
                "start_us": self.start_us, "first_msn": self.first_msn, "dsn": self.dsn,
                "count": self.count, "filler_index": self.filler_index,
                "nominal_us": self.nominal_us}

    @classmethod
    def from_row(cls, row: Mapping, sources: Mapping[str, Source]) -> "Block":
        return cls(**{**row, "source": sources[row["source"]]})


class Timeline:
    """Planned blocks (``blocks``, contiguous) followed by the filler loop forever.

    Blocks are addressed by an index: ``0 … len(blocks) - 1`` are the planned ones, any
    larger index a block of the loop, computed in O(1) (:meth:`block`).  The loop starts
    where the last planned block ends (or at ``origin`` when there is none) with the
    filler item after the last one played.  ``missed``: ids of programmes not scheduled
    because their nominal start had passed (see :func:`plan`).

    Build one with :func:`plan` / :func:`replan`, or from stored blocks.
    """

    def __init__(self, blocks: Iterable[Block], filler: Sequence[Source], origin: Anchor,
                 missed: Iterable = ()):
        self.blocks = tuple(blocks)
        self.filler = _check_filler(filler)
        self.origin = origin
        self.missed = tuple(missed)
        for a, b in zip(self.blocks, self.blocks[1:]):
            if (b.start_us, b.first_msn, b.dsn) != (a.end_us, a.first_msn + a.count, a.dsn + 1):
                raise ValueError(f"blocks are not contiguous at {b.actual_start.isoformat()}")
        self.starts = [b.start_us for b in self.blocks]
        self.programme_indices = [i for i, b in enumerate(self.blocks) if b.kind == PROGRAMME]
        state = _state_after(self.blocks, origin, len(self.filler))
        self.loop_start_us, self.loop_msn, self.loop_dsn, first = state
        n = len(self.filler)
        self.loop_items = [(first + j) % n for j in range(n)]
        durations, counts = [0], [0]
        for i in self.loop_items:
            durations.append(durations[-1] + self.filler[i].duration_us)
            counts.append(counts[-1] + self.filler[i].count)
        self.cycle_offsets_us, self.cycle_msns = durations, counts

    @property
    def start_us(self) -> int:
        """When the timeline begins (its first block)."""
        return self.starts[0] if self.blocks else self.loop_start_us

    @property
    def loop_start(self) -> datetime:
        """When the open-ended filler loop begins (UTC)."""
        return from_us(self.loop_start_us)

    def block(self, index: int) -> Block:
        """Block ``index``: a planned one, or one of the filler loop (O(1))."""
        n = len(self.blocks)
        if index < n:
            if index < 0:
                raise IndexError(index)
            return self.blocks[index]
        cycle, j = divmod(index - n, len(self.loop_items))
        item = self.loop_items[j]
        source = self.filler[item]
        return Block(FILLER, None, source,
                     self.loop_start_us + cycle * self.cycle_offsets_us[-1] + self.cycle_offsets_us[j],
                     self.loop_msn + cycle * self.cycle_msns[-1] + self.cycle_msns[j],
                     self.loop_dsn + cycle * len(self.loop_items) + j + 1,
                     source.count, item)

    def index_at(self, t_us: int) -> int:
        """Index of the block playing at ``t_us`` (start ≤ t < end); ``ValueError`` before
        the timeline begins.  Bisects the planned blocks, cycle arithmetic in the loop."""
        if t_us < self.loop_start_us:
            i = bisect_right(self.starts, t_us) - 1
            if i < 0:
                raise ValueError(f"{from_us(t_us).isoformat()} is before the channel's timeline")
            return i
        cycle, rest = divmod(t_us - self.loop_start_us, self.cycle_offsets_us[-1])
        return (len(self.blocks) + cycle * len(self.loop_items)
                + bisect_right(self.cycle_offsets_us, rest) - 1)

    def block_at(self, when: datetime) -> Block:
        return self.block(self.index_at(to_us(when)))

    def iter_blocks(self, start_index: int = 0) -> Iterator[Block]:
        """Blocks from ``start_index`` on — endless (the loop never ends)."""
        i = start_index
        while True:
            yield self.block(i)
            i += 1

    def filler_before(self, index: int) -> int:
        """The filler item that follows the last one played before block ``index``."""
        for i in range(index - 1, -1, -1):
            b = self.block(i)
            if b.kind == FILLER:
                return (b.filler_index + 1) % len(self.filler)
        return self.origin.filler_index % len(self.filler)

    def segment_at(self, when: datetime) -> tuple[Block, int]:
        """(block, segment index in it) on air at ``when``."""
        t = to_us(when)
        b = self.block(self.index_at(t))
        return b, bisect_right(b.source.offsets_us, t - b.start_us, 0, b.count) - 1


def _check_filler(filler: Sequence[Source]) -> tuple[Source, ...]:
    filler = tuple(filler)
    if not filler:
        raise ChannelError("Kênh cần ít nhất một mục xen kẽ (filler) để phát giữa các chương trình.")
    return filler


def _state_after(blocks: Sequence[Block], origin: Anchor, n_filler: int) -> tuple[int, int, int, int]:
    """(time, next msn, dsn of the last segment, next filler item) after ``blocks``."""
    following = origin.filler_index % n_filler
    for b in reversed(blocks):
        if b.kind == FILLER:
            following = (b.filler_index + 1) % n_filler
            break
    if not blocks:
        return origin.start_us, origin.msn, origin.dsn, following
    last = blocks[-1]
    return last.end_us, last.first_msn + last.count, last.dsn, following


# ------------------------------------------------------------------ validation


def _clock(dt: datetime) -> str:
    return dt.strftime("%H:%M:%S" if dt.second else "%H:%M")


def find_overlaps(entries: Iterable[tuple[datetime, float, str]], tz: str = DISPLAY_TZ) -> list[str]:
    """Pairs of nominally overlapping programmes, as Vietnamese messages.

    ``entries``: (nominal start, duration in seconds, title).  Back to back (one ends
    exactly when the next starts) is not an overlap.  Times are shown in ``tz``::

        Chương trình “Luật Đất đai” (20:00–20:12, 01/06/2025) trùng với “Hỏi đáp” (20:10–20:20)
    """
    tzinfo = zone(tz)
    items = sorted((to_us(s), to_us(s) + round(d * US), t) for s, d, t in entries)
    messages, latest = [], None  # latest: the earlier entry that ends last
    for start, end, title in items:
        if latest is not None and start < latest[1]:
            a0, a1 = (from_us(x).astimezone(tzinfo) for x in latest[:2])
            b0, b1 = from_us(start).astimezone(tzinfo), from_us(end).astimezone(tzinfo)
            messages.append(f"Chương trình “{latest[2]}” ({_clock(a0)}–{_clock(a1)}, "
                            f"{a0:%d/%m/%Y}) trùng với “{title}” ({_clock(b0)}–{_clock(b1)})")
        if latest is None or end > latest[1]:
            latest = (start, end, title)
    return messages


def validate_schedule(entries: Iterable[tuple[datetime, float, str]], tz: str = DISPLAY_TZ) -> None:
    """Raise :class:`ChannelError` listing every overlap (one per line), if any."""
    messages = find_overlaps(entries, tz)
    if messages:
        raise ChannelError("\n".join(messages))


# ------------------------------------------------------------------ planning

Programme = tuple  # (nominal_start: datetime, source: Source, programme_id)


def plan(programmes: Iterable[Programme], filler: Sequence[Source], origin: Anchor, *,
         grace: float = 60.0) -> Timeline:
    """Plan the channel from ``origin``: each programme (nominal start, Source, id) at
    ``max(nominal start, end of previous content)``, filler in the gaps and after the last.

    A programme whose nominal start is more than ``grace`` seconds before the planning
    origin is not played (its id is listed in ``Timeline.missed``); one within ``grace``
    plays as soon as possible.  Nominal overlaps raise :class:`ChannelError`.
    """
    return _build([], programmes, filler, origin, origin.start_us - round(grace * US))


def replan(timeline: Timeline, now: datetime, programmes: Iterable[Programme],
           filler: Sequence[Source], *, safety: float = 30.0, grace: float = 60.0,
           keep: float = 3600.0) -> Timeline:
    """Re-plan the future after an edit of the schedule or of the filler list.

    ``cut = now + safety`` (seconds).  Blocks that start at or before ``cut`` keep their
    times and numbers; a filler block playing at ``cut`` keeps the segments starting at
    or before ``cut`` and may be continued (so with an unchanged schedule the result is
    identical to ``timeline``) or cut short at a segment boundary for an earlier
    programme; later blocks are planned again from the end of the kept ones, continuing
    media and discontinuity sequence numbers, so no number already served changes and
    none ever decreases.  ``safety`` must cover what may already have been served from
    the old plan beyond ``now``: clock skew between replicas, the time replicas take to
    load the new plan, and the playlists' cache lifetime.

    ``programmes`` is the whole stored schedule: programmes already kept (by id) are
    skipped; one whose nominal start is more than ``grace`` seconds before ``now`` and
    not kept is missed; the programme on air plays to its end (so moving it may delay the
    next one).  Kept blocks that ended more than ``keep`` seconds before ``cut`` are
    dropped (a replan is also how the stored block list is pruned).
    """
    now_us = to_us(now)
    cut = now_us + round(safety * US)
    if cut < timeline.start_us:
        kept, origin = [], timeline.origin
    else:
        last = timeline.index_at(cut)
        first = timeline.index_at(max(cut - round(keep * US), timeline.start_us))
        kept = [timeline.block(i) for i in range(first, last + 1)]
        b = kept[-1]
        if b.kind == FILLER:
            served = bisect_right(b.source.offsets_us, cut - b.start_us, 0, b.count)
            kept[-1] = replace(b, count=served)
        origin = Anchor(kept[0].actual_start, kept[0].first_msn, kept[0].dsn - 1,
                        timeline.filler_before(first))
    return _build(kept, programmes, filler, origin, now_us - round(grace * US))


def _build(kept: list[Block], programmes: Iterable[Programme], filler: Sequence[Source],
           origin: Anchor, floor_us: int) -> Timeline:
    filler = _check_filler(filler)
    kept_ids = {b.programme_id for b in kept if b.kind == PROGRAMME}
    entries = sorted(((to_us(start), source, pid) for start, source, pid in programmes
                      if pid not in kept_ids), key=lambda e: e[0])
    ids = [pid for _, _, pid in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate programme ids")
    validate_schedule((from_us(s), src.duration, str(pid)) for s, src, pid in entries)

    blocks = list(kept)
    cursor, msn, dsn, following = _state_after(blocks, origin, len(filler))
    # The last kept block may be a filler item cut at the replan point: it can go on.
    resumable = bool(blocks) and blocks[-1].kind == FILLER

    def add(kind, pid, source, count, filler_index=None, nominal=None):
        nonlocal cursor, msn, dsn
        block = Block(kind, pid, source, cursor, msn, dsn + 1, count, filler_index, nominal)
        blocks.append(block)
        cursor, msn, dsn = block.end_us, msn + count, dsn + 1

    def whole_segments(source: Source, start: int, until: int) -> int:
        """Segments of ``source`` from ``start`` needed to reach ``until`` (the last one
        crossing it plays to its end), at most all of them."""
        return min(bisect_left(source.offsets_us, until - start), source.count)

    def fill(until: int) -> None:
        nonlocal cursor, msn, resumable, following
        if resumable:
            b = blocks[-1]
            count = max(b.count, whole_segments(b.source, b.start_us, until))
            blocks[-1] = replace(b, count=count)
            cursor, msn = blocks[-1].end_us, b.first_msn + count
            resumable = False
        while cursor < until:
            source = filler[following]
            add(FILLER, None, source, whole_segments(source, cursor, until), following)
            following = (following + 1) % len(filler)

    missed = []
    for nominal, source, pid in entries:
        if nominal < floor_us:
            missed.append(pid)
            continue
        if nominal > cursor:
            fill(nominal)
        resumable = False
        add(PROGRAMME, pid, source, source.count, None, nominal)
    if resumable:  # nothing after: the cut filler item plays to its end, then the loop
        fill(blocks[-1].start_us + blocks[-1].source.duration_us)
    return Timeline(blocks, filler, origin, missed)


def max_lateness(timeline: Timeline) -> float:
    """Seconds: the largest lateness of the planned programmes (0 if none)."""
    return max((b.lateness for b in timeline.blocks if b.kind == PROGRAMME), default=0.0)


__all__ = [
    "Anchor", "Block", "ChannelError", "DISPLAY_TZ", "FILLER", "PROGRAMME", "SUBTITLES",
    "SegmentRef", "Source", "Timeline", "US", "find_overlaps", "from_us", "max_lateness",
    "plan", "replan", "rounded", "to_us", "validate_schedule", "vod_segments", "zone",
]
