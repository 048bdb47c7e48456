"""Rendering the channel's live HLS playlists (RFC 8216) from a :class:`Timeline`.

Pure functions of (timeline, clock): any replica renders byte-identical playlists for the
same instant.  The media playlists are built with plain string joins of lines
pre-rendered per source (``Source.lines``), after bisecting the timeline for the block
on air, so a call costs a few microseconds whatever the channel's age.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import Mapping

from .timeline import (
    SUBTITLES, US, Block, ChannelError, Source, Timeline, from_us, to_us,
)

VERSION = 3  # EXTINF with decimals (RFC 8216 §7); nothing here needs more


@dataclass(frozen=True)
class Variant:
    """One rung of the channel's master playlist (RFC 8216 §4.3.4.2): ``name`` the rung
    ("720p"...), ``bandwidth``/``average_bandwidth`` in bit/s, ``codecs`` (RFC 6381),
    ``resolution`` (width, height) in pixels, ``frame_rate`` in frames/s."""

    name: str
    bandwidth: int
    codecs: str
    resolution: tuple[int, int] | None = None
    average_bandwidth: int | None = None
    frame_rate: float | None = None


@dataclass(frozen=True)
class ChannelProfile:
    """What stays fixed for the channel's life: its variants and EXT-X-TARGETDURATION
    (whole seconds; RFC 8216 §6.2.1 forbids changing it), and the live window length."""

    variants: tuple[Variant, ...]
    target_duration: int = 4
    window_segments: int = 6

    def check_source(self, source: Source, title: str | None = None) -> None:
        """Raise :class:`ChannelError` (Vietnamese) if ``source`` cannot be stitched into
        this channel: a rung missing, or a segment longer than the target duration once
        rounded (RFC 8216 §4.3.3.1) — make a channel-compliant rendition then."""
        name = title or source.key
        missing = [v.name for v in self.variants if v.name not in source.segments]
        if missing:
            raise ChannelError(f"“{name}” chưa có bản dựng {', '.join(missing)} mà kênh cần.")
        if source.max_rounded > self.target_duration:
            longest = max(source.durations_us) / US
            raise ChannelError(
                f"“{name}” có đoạn dài {longest:.3f} giây, vượt thời lượng đoạn tối đa "
                f"{self.target_duration} giây của kênh; cần tạo bản dựng phù hợp cho kênh.")


@lru_cache(maxsize=64)
def _day(days: int) -> str:
    return from_us(days * 86_400 * US).strftime("%Y-%m-%d")


def program_date_time(t_us: int) -> str:
    """ISO 8601 with milliseconds and offset, UTC: ``2025-06-01T13:00:00.000+00:00``
    (milliseconds truncated, like ``datetime.isoformat``; 4× faster than it)."""
    ms, _ = divmod(t_us, 1000)
    seconds, ms = divmod(ms, 1000)
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{_day(days)}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}+00:00"


def _window(timeline: Timeline, t_us: int, count: int, min_us: int) -> list[tuple[Block, int, int]]:
    """The segments to list at ``t_us``: ``[(block, lo, hi), ...]`` oldest first, segments
    ``lo … hi-1`` of each block; the last is the one on air.  At least ``count`` segments
    and ``min_us`` of media, unless the timeline is younger than that."""
    i = timeline.index_at(t_us)
    block = timeline.block(i)
    offsets = block.source.offsets_us
    hi = bisect_right(offsets, t_us - block.start_us, 0, block.count)
    parts, n, dur = [], 0, 0
    while True:
        lo = max(0, hi - max(count - n, 0))
        while lo > 0 and dur + offsets[hi] - offsets[lo] < min_us:
            lo -= 1
        parts.append((block, lo, hi))
        n, dur = n + hi - lo, dur + offsets[hi] - offsets[lo]
        if lo > 0 or (n >= count and dur >= min_us) or i == 0:
            break
        i -= 1
        block = timeline.block(i)
        offsets, hi = block.source.offsets_us, block.count
    parts.reverse()
    return parts


def media_playlist(timeline: Timeline, rung: str, now: datetime, *, target_duration: int,
                   window_segments: int = 6, placeholder_uri: str | None = None) -> str:
    """The live media playlist of ``rung`` at ``now`` (RFC 8216 §4.3.3, §6.2.2).

    Lists the segments that have started at ``now`` (the last one is on air): the last
    ``window_segments``, more if needed so the playlist lasts at least three target
    durations (§6.2.2).  EXT-X-MEDIA-SEQUENCE is the first listed segment's number;
    EXT-X-DISCONTINUITY-SEQUENCE (§4.3.3.3) the number of discontinuity tags that slid
    out (plus the anchor's); EXT-X-DISCONTINUITY precedes each block's first segment.
    Every segment carries its EXT-X-PROGRAM-DATE-TIME (§4.3.2.6) — so the first one and
    each discontinuity are dated, and a playlist only ever changes the ways §6.2.1
    allows (segments appended, removed from the start, sequence numbers incremented):
    dating only the first segment would add a tag to a segment already served undated.
    No EXT-X-ENDLIST: the channel never ends.

    ``rung`` may be ``"subtitles"``: sources without WebVTT segments are then listed with
    ``placeholder_uri`` (an empty WebVTT file with X-TIMESTAMP-MAP) and their durations,
    so the subtitle playlist stays aligned with the video.  Raises
    :class:`ChannelError` if a listed source lacks ``rung`` or has a segment longer than
    ``target_duration`` once rounded (§4.3.3.1), ``ValueError`` before the timeline.
    """
    parts = _window(timeline, to_us(now), window_segments, 3 * target_duration * US)
    first, lo = parts[0][0], parts[0][1]
    out = [f"#EXTM3U\n#EXT-X-VERSION:{VERSION}\n#EXT-X-TARGETDURATION:{target_duration}\n"
           f"#EXT-X-MEDIA-SEQUENCE:{first.first_msn + lo}\n"
           f"#EXT-X-DISCONTINUITY-SEQUENCE:{first.dsn - (lo == 0)}\n"]
    for block, lo, hi in parts:
        source = block.source
        if source.max_rounded > target_duration:
            raise ChannelError(
                f"Bản dựng “{source.key}” có đoạn dài {max(source.durations_us) / US:.3f} giây, "
                f"vượt thời lượng đoạn tối đa {target_duration} giây của kênh.")
        lines = source.lines.get(rung)
        if lines is None:
            if rung != SUBTITLES or placeholder_uri is None:
                raise ChannelError(f"Bản dựng “{source.key}” không có {rung}.")
            lines = source.placeholder_lines(placeholder_uri)
        if lo == 0:
            out.append("#EXT-X-DISCONTINUITY\n")
        start, offsets = block.start_us, source.offsets_us
        for k in range(lo, hi):
            out.append(f"#EXT-X-PROGRAM-DATE-TIME:{program_date_time(start + offsets[k])}\n")
            out.append(lines[k])
    return "".join(out)


def seconds_until_next_change(timeline: Timeline, now: datetime) -> float:
    """Seconds from ``now`` until the next segment starts, i.e. until the media playlists
    change: a ``Cache-Control: max-age`` must not exceed it (floor it to whole seconds)."""
    t = to_us(now)
    block = timeline.block(timeline.index_at(t))
    k = bisect_right(block.source.offsets_us, t - block.start_us, 0, block.count)
    return (block.start_us + block.source.offsets_us[k] - t) / US


def _attr(value: str) -> str:
    if any(c in value for c in '"\r\n'):
        raise ValueError(f"not allowed in a quoted-string attribute (RFC 8216 §4.2): {value!r}")
    return f'"{value}"'


def master_playlist(profile: ChannelProfile, urls: Mapping[str, str],
                    subtitles_url: str | None = None, *, subtitles_name: str = "Tiếng Việt",
                    subtitles_language: str = "vi", subtitles_default: bool = False) -> str:
    """The channel's master playlist (RFC 8216 §4.3.4): one EXT-X-STREAM-INF per variant
    of ``profile`` with ``urls[variant.name]``, EXT-X-INDEPENDENT-SEGMENTS (§4.3.5.1: every
    segment starts with a key frame, as the hub's transcodes force), and with
    ``subtitles_url`` an ``EXT-X-MEDIA:TYPE=SUBTITLES`` rendition in group "subs"."""
    out = [f"#EXTM3U\n#EXT-X-VERSION:{VERSION}\n#EXT-X-INDEPENDENT-SEGMENTS\n"]
    if subtitles_url:
        yes = "YES" if subtitles_default else "NO"
        out.append(f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME={_attr(subtitles_name)},'
                   f"LANGUAGE={_attr(subtitles_language)},DEFAULT={yes},AUTOSELECT=YES,"
                   f"FORCED=NO,URI={_attr(subtitles_url)}\n")
    for v in profile.variants:
        attrs = [f"BANDWIDTH={v.bandwidth}"]
        if v.average_bandwidth:
            attrs.append(f"AVERAGE-BANDWIDTH={v.average_bandwidth}")
        attrs.append(f"CODECS={_attr(v.codecs)}")
        if v.resolution:
            attrs.append(f"RESOLUTION={v.resolution[0]}x{v.resolution[1]}")
        if v.frame_rate:
            attrs.append(f"FRAME-RATE={v.frame_rate:.3f}")
        if subtitles_url:
            attrs.append('SUBTITLES="subs"')
        out.append(f"#EXT-X-STREAM-INF:{','.join(attrs)}\n{urls[v.name]}\n")
    return "".join(out)


__all__ = [
    "ChannelProfile", "VERSION", "Variant", "master_playlist", "media_playlist",
    "program_date_time", "seconds_until_next_change",
]
