"""Programme guide of the channel: XMLTV export, M3U for IPTV players, now/next JSON.

Guide times are the *actual* times of the timeline (a programme may start up to one
filler segment after its nominal time), shown in Asia/Ho_Chi_Minh.  Filler between two
programmes is one guide entry, "Chương trình xen kẽ"; a filler run shorter than
``min_filler`` between two programmes is folded into the preceding programme, so the
guide has no gaps (XMLTV: each programme's stop is the next one's start) and no
few-second entries.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from datetime import datetime
from typing import Callable, Hashable, Iterable, Mapping, Sequence, Union

from .timeline import DISPLAY_TZ, FILLER, PROGRAMME, US, Timeline, from_us, to_us, zone

FILLER_TITLE = "Chương trình xen kẽ"
GENERATOR = "media-hub"
XMLTV_TIME = "%Y%m%d%H%M%S %z"

#: (start, stop, title, description or None, categories) — aware datetimes.
GuideEntry = tuple
#: What a programme id stands for: a title, or (title, description, categories).
Describe = Union[Callable[[Hashable], object], Mapping[Hashable, object], None]

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _info(describe: Describe, pid) -> tuple[str, str | None, Sequence[str]]:
    value = describe.get(pid) if isinstance(describe, Mapping) else describe(pid) if describe else None
    if value is None:
        return str(pid), None, ()
    if isinstance(value, str):
        return value, None, ()
    title, desc, categories = value
    return title, desc, tuple(categories or ())


def guide_programmes(timeline: Timeline, start: datetime, stop: datetime, describe: Describe = None,
                     *, filler_title: str = FILLER_TITLE, filler_desc: str | None = None,
                     min_filler: float = 120.0) -> list[GuideEntry]:
    """Guide entries covering ``start`` … ``stop`` (aware datetimes), contiguous: each
    entry's stop is the next one's start.  ``describe(programme_id)`` (or a mapping)
    gives a title or (title, description, categories).  The open-ended filler loop is
    one entry stopping at ``stop``.  The first entry may start before ``start``."""
    t0, t1 = max(to_us(start), timeline.start_us), to_us(stop)
    blocks, progs = timeline.blocks, timeline.programme_indices
    i = timeline.index_at(t0)
    runs: list[list] = []  # [kind, start_us, stop_us, programme_id]
    if timeline.block(i).kind == FILLER:  # the filler run began after the previous programme
        k = bisect_right(progs, i)
        runs.append([FILLER, blocks[progs[k - 1]].end_us if k else timeline.start_us, None, None])
    while i < len(blocks) and blocks[i].start_us < t1:
        b = blocks[i]
        if b.kind == PROGRAMME:
            runs.append([PROGRAMME, b.start_us, b.end_us, b.programme_id])
        elif not runs or runs[-1][0] != FILLER:
            runs.append([FILLER, b.start_us, None, None])
        i += 1
    if runs and runs[-1][0] == FILLER:  # ends at the next programme, or open (the loop)
        k = bisect_right(progs, i - 1)
        runs[-1][2] = blocks[progs[k]].start_us if k < len(progs) else max(t1, timeline.loop_start_us)
    elif i >= len(blocks) and timeline.loop_start_us < t1:
        runs.append([FILLER, timeline.loop_start_us, t1, None])
    for j, run in enumerate(runs):
        if run[0] == FILLER and run[2] is None:  # a run closed by a following programme
            run[2] = runs[j + 1][1]
    merged: list[list] = []
    for j, run in enumerate(runs):
        short = run[2] - run[1] < min_filler * US
        if (run[0] == FILLER and short and merged and merged[-1][0] == PROGRAMME
                and j + 1 < len(runs)):
            merged[-1][2] = run[2]
        else:
            merged.append(run)
    out = []
    for kind, s, e, pid in merged:
        title, desc, cats = (filler_title, filler_desc, ()) if kind == FILLER else _info(describe, pid)
        out.append((from_us(s), from_us(e), title, desc, cats))
    return out


def _text(value: str) -> str:
    return _XML_INVALID.sub("", value)


def xmltv(channel: tuple[str, str | Sequence[str], str | None], programmes: Iterable[GuideEntry],
          tz: str = DISPLAY_TZ, *, lang: str = "vi", generator: str = GENERATOR) -> bytes:
    """XMLTV document (UTF-8) for one channel.

    ``channel``: (id, display name or names, icon URL or None); ``programmes``: (start,
    stop, title, description, categories) in order, aware datetimes, written as
    ``YYYYMMDDhhmmss +0700`` in ``tz``.  Element order follows the XMLTV DTD (title,
    desc, category).  Raises ``ValueError`` if entries are out of order or empty."""
    tzinfo = zone(tz)
    cid, names, icon = channel
    tv = ET.Element("tv", {"generator-info-name": generator})
    ch = ET.SubElement(tv, "channel", id=cid)
    for name in [names] if isinstance(names, str) else names:
        ET.SubElement(ch, "display-name", lang=lang).text = _text(name)
    if icon:
        ET.SubElement(ch, "icon", src=icon)
    previous = None
    for start, stop, title, desc, categories in programmes:
        if stop <= start or (previous is not None and start < previous):
            raise ValueError(f"guide entry {title!r} {start}–{stop} is empty or out of order")
        previous = stop
        p = ET.SubElement(tv, "programme", start=start.astimezone(tzinfo).strftime(XMLTV_TIME),
                          stop=stop.astimezone(tzinfo).strftime(XMLTV_TIME), channel=cid)
        ET.SubElement(p, "title", lang=lang).text = _text(title) or "—"
        if desc:
            ET.SubElement(p, "desc", lang=lang).text = _text(desc)
        for category in categories or ():
            ET.SubElement(p, "category", lang=lang).text = _text(category)
    ET.indent(tv)
    return (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n'
            + ET.tostring(tv, encoding="unicode").encode("utf-8") + b"\n")


def _m3u_attr(value) -> str:
    """M3U attribute values have no escape syntax: double quotes become single ones,
    line breaks spaces."""
    return re.sub(r"[\r\n]+", " ", str(value if value is not None else "")).replace('"', "'")


def m3u(channels: Iterable[tuple[str, str, str | None, int | str | None, str | None, str]],
        epg_url: str | None) -> str:
    """Extended M3U playlist for IPTV players (Kodi PVR IPTV Simple, TiviMate, VLC...).

    ``channels``: (tvg_id, name, logo URL, channel number, group, stream URL); the
    header names the XMLTV guide (``url-tvg`` and its alias ``x-tvg-url``)."""
    head = "#EXTM3U"
    if epg_url:
        head += f' url-tvg="{_m3u_attr(epg_url)}" x-tvg-url="{_m3u_attr(epg_url)}"'
    lines = [head]
    for tvg_id, name, logo, chno, group, url in channels:
        attrs = [f'tvg-id="{_m3u_attr(tvg_id)}"', f'tvg-name="{_m3u_attr(name)}"']
        if logo:
            attrs.append(f'tvg-logo="{_m3u_attr(logo)}"')
        if chno is not None:
            attrs.append(f'tvg-chno="{_m3u_attr(chno)}"')
        if group:
            attrs.append(f'group-title="{_m3u_attr(group)}"')
        label = re.sub(r"[\r\n]+", " ", name)
        lines += [f"#EXTINF:-1 {' '.join(attrs)},{label}", re.sub(r"[\r\n]", "", url)]
    return "\n".join(lines) + "\n"


def now_next(timeline: Timeline, now: datetime, describe: Describe = None, *,
             tz: str = DISPLAY_TZ, filler_title: str = FILLER_TITLE) -> dict:
    """What is on air at ``now`` and the next programme, JSON-ready.

    ``{"at", "now": {kind, programme_id, title, description, start, stop, elapsed,
    remaining}, "next": {…, starts_in} or None}``: times ISO 8601 in ``tz``, durations in
    seconds; a filler run spans from the previous programme's end to the next one's start
    (``stop``/``remaining`` None when no programme follows)."""
    tzinfo = zone(tz)
    t = to_us(now)
    i = timeline.index_at(t)
    block, blocks, progs = timeline.block(i), timeline.blocks, timeline.programme_indices
    k = bisect_right(progs, i)  # progs[k] is the first programme block after i
    upcoming = blocks[progs[k]] if k < len(progs) else None

    def iso(us):
        return None if us is None else from_us(us).astimezone(tzinfo).isoformat(timespec="seconds")

    def entry(kind, pid, start, stop):
        title, desc, cats = (filler_title, None, ()) if kind == FILLER else _info(describe, pid)
        return {"kind": kind, "programme_id": pid, "title": title, "description": desc,
                "categories": list(cats), "start": iso(start), "stop": iso(stop)}

    if block.kind == PROGRAMME:
        current = entry(PROGRAMME, block.programme_id, block.start_us, block.end_us)
        stop = block.end_us
        start = block.start_us
    else:
        start = blocks[progs[k - 1]].end_us if k else timeline.start_us
        stop = upcoming.start_us if upcoming else None
        current = entry(FILLER, None, start, stop)
    current["elapsed"] = round((t - start) / US, 3)
    current["remaining"] = None if stop is None else round((stop - t) / US, 3)
    following = None
    if upcoming is not None:
        following = entry(PROGRAMME, upcoming.programme_id, upcoming.start_us, upcoming.end_us)
        following["starts_in"] = round((upcoming.start_us - t) / US, 3)
    return {"at": iso(t), "now": current, "next": following}


__all__ = ["FILLER_TITLE", "guide_programmes", "m3u", "now_next", "xmltv"]
