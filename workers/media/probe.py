"""probe(): inspect an untrusted upload with ffprobe and prove it decodes."""

from __future__ import annotations

import dataclasses
import logging
import math
import re
import subprocess
from fractions import Fraction
from pathlib import Path

import ffmpeg

from .model import (
    CHECK_TIMEOUT, INPUT_OPTIONS, MAX_MEDIA_SECONDS, REASONS, AudioInfo, MediaRejected,
    ProbeResult, VideoInfo, display_size, input_url, reject,
)

log = logging.getLogger(__name__)


def _rate(text) -> Fraction | None:
    try:
        num, _, den = str(text).partition("/")
        value = Fraction(int(num), int(den or 1))
    except (ValueError, ZeroDivisionError):
        return None
    return value if value > 0 else None


def _rotation(stream: dict) -> int:
    """Clockwise display rotation, as ffmpeg's autorotation applies it."""
    for sd in stream.get("side_data_list") or []:
        if sd.get("side_data_type") == "Display Matrix" and "rotation" in sd:
            return round(-float(sd["rotation"]) / 90) * 90 % 360
    tag = (stream.get("tags") or {}).get("rotate")
    try:
        return round(float(tag) / 90) * 90 % 360
    except (TypeError, ValueError):
        return 0


def _bit_depth(stream: dict) -> int:
    raw = stream.get("bits_per_raw_sample")
    if str(raw).isdigit() and int(raw) > 0:
        return int(raw)
    m = re.search(r"p(\d+)(le|be)?$", stream.get("pix_fmt") or "")
    return int(m.group(1)) if m else 8


def _video_info(s: dict) -> VideoInfo:
    r, avg = _rate(s.get("r_frame_rate")), _rate(s.get("avg_frame_rate"))
    plausible = [x for x in (r, avg) if x is not None and x <= 120]
    vfr = len(plausible) == 2 and abs(r - avg) / r > Fraction(5, 100)
    # A VFR source is played at its nominal (r_frame_rate) rate, else the average one.
    rate = r if vfr else (avg if avg in plausible else (plausible or [Fraction(25)])[0])
    v = VideoInfo(
        index=int(s["index"]), codec=s.get("codec_name") or "unknown",
        width=int(s.get("width") or 0), height=int(s.get("height") or 0),
        display_width=0, display_height=0,
        sample_aspect_ratio=s.get("sample_aspect_ratio") or "1:1",
        rotation=_rotation(s), frame_rate=float(rate), pix_fmt=s.get("pix_fmt") or "unknown",
        bit_depth=_bit_depth(s), interlaced=s.get("field_order") in ("tt", "bb", "tb", "bt"),
        variable_frame_rate=vfr,
    )
    dw, dh = display_size(v)
    return dataclasses.replace(v, display_width=round(dw), display_height=round(dh))


def _pick(streams: list[dict]) -> dict | None:
    default = [s for s in streams if (s.get("disposition") or {}).get("default")]
    return (default or streams or [None])[0]


def _looks_like_text(head: bytes) -> bool:
    if b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(head) - 3  # only a multibyte character cut at the end
    return True


def probe(path, max_seconds: float = MAX_MEDIA_SECONDS) -> ProbeResult:
    """Inspect an untrusted local file and prove its streams decode.

    ``duration`` is measured on the packets of the chosen streams (last packet end minus
    the streams' start time), never taken from the header.  Raises :class:`MediaRejected`
    with code ``not_media`` (text, unknown or non-whitelisted format), ``truncated`` (MP4
    without its moov atom, or data stopping before the header's declared end),
    ``no_stream`` (no audio/video; cover art does not count), ``zero_duration`` (no
    packets, or their span cannot be measured), ``too_long`` (packets span more than
    ``max_seconds`` seconds) or ``undecodable`` (the first second does not decode).
    A missing file raises FileNotFoundError (the caller's bug, not the upload's).
    """
    path = Path(path).resolve()
    with open(path, "rb") as f:
        head = f.read(4096)
    if not head:
        raise reject("empty", "not_media")
    if _looks_like_text(head):
        raise reject("text", "not_media")
    try:
        info = ffmpeg.probe(input_url(path), v="error", **INPUT_OPTIONS)
    except ffmpeg.Error as e:
        stderr = (e.stderr or b"").decode("utf-8", "replace")
        log.info("ffprobe refused %s: %s", path, stderr.strip()[-500:])
        is_mp4 = head[4:8] in (b"ftyp", b"mdat", b"moov", b"free", b"wide", b"skip")
        if "moov atom not found" in stderr and is_mp4:
            raise reject("truncated") from None
        raise reject("not_media") from None

    streams = info.get("streams") or []
    fmt = info.get("format") or {}
    # Attached pictures (cover art) are video streams to ffprobe, but not video to us.
    pictures = [s for s in streams if s.get("codec_type") == "video"]
    covers = [s for s in pictures if (s.get("disposition") or {}).get("attached_pic")]
    videos = [s for s in pictures if s not in covers]
    audios = [s for s in streams if s.get("codec_type") == "audio"]
    vs, aus, cover = _pick(videos), _pick(audios), _pick(covers)
    if vs is None and aus is None:
        raise reject("no_stream")

    video = _video_info(vs) if vs else None
    if video and (video.width <= 0 or video.height <= 0):
        raise reject("undecodable")
    audio = None
    if aus:
        audio = AudioInfo(
            index=int(aus["index"]), codec=aus.get("codec_name") or "unknown",
            channels=int(aus.get("channels") or 0),
            channel_layout=aus.get("channel_layout") or "",
            sample_rate=int(aus.get("sample_rate") or 0),
        )
    format_name = fmt.get("format_name") or ""
    duration = _real_duration(path, format_name, fmt, [s for s in (vs, aus) if s], max_seconds)
    result = ProbeResult(
        format_name=format_name,
        duration=duration,
        size=int(fmt.get("size") or path.stat().st_size),
        bit_rate=int(fmt["bit_rate"]) if _is_number(fmt.get("bit_rate")) else None,
        video=video,
        audio=audio,
        cover_art_index=int(cover["index"]) if cover else None,
        cover_art_size=(int(cover.get("width") or 0), int(cover.get("height") or 0)) if cover else None,
    )
    _check_decodes(path, result)
    return result


def _is_number(x) -> bool:
    try:
        return math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def _check_decodes(path: Path, p: ProbeResult) -> None:
    """Decode up to 1 s of the chosen streams; each must yield at least one frame."""
    inp = ffmpeg.input(input_url(path), t=1, **INPUT_OPTIONS)
    chosen = [s.index for s in (p.video, p.audio) if s]
    argv = (
        ffmpeg.output(*[inp[str(i)] for i in chosen], "-", format="framecrc")
        .global_args("-nostdin", "-hide_banner", "-v", "error")
        .compile()
    )
    try:
        run = subprocess.run(argv, capture_output=True, timeout=CHECK_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise reject("undecodable") from None
    frames = [line.split(b",", 1)[0].strip() for line in run.stdout.splitlines()
              if line and not line.startswith(b"#")]
    counts = [frames.count(str(n).encode()) for n in range(len(chosen))]
    if run.returncode != 0 or min(counts) == 0:
        log.info("decode check failed for %s: rc=%s frames=%s %s", path, run.returncode,
                 counts, run.stderr.decode("utf-8", "replace")[-500:])
        raise reject("undecodable")



#: Containers whose duration comes from an index (MP4 sample tables, Matroska cues): a
#: file cut short still declares its full length, so its packets must reach that end.
_INDEXED_FORMATS = ("mov", "matroska")
#: Formats whose "duration" is ffprobe's own estimate (from the bit rate or from the
#: timestamps at the end of the file), not a declaration: not judged for truncation.
_ESTIMATED_FORMATS = ("mp3", "aac", "ac3", "eac3", "dts", "truehd", "amr", "mpeg", "mpegts", "ogg")
_TAIL_SECONDS = 2.0  # how far before the declared end the tail read starts
_HEAD_PACKETS = 32  # packets read at the start of the file (its first timestamps)


def _real_duration(path: Path, format_name: str, fmt: dict, streams: list[dict],
                   max_seconds: float) -> float:
    """Seconds spanned by the packets of ``streams``; refuses the file when there are
    none, when they span more than ``max_seconds``, or when the header declares an end
    the packets do not reach (cut short or forged).

    Only the start and the last seconds before the declared end are demuxed (no
    decoding); the whole file when the header declares no duration or its tail holds no
    packet.  Packets beyond the declared end are all read, so an understated header
    cannot hide them.
    """
    indices = {int(s["index"]) for s in streams}
    starts = [float(s["start_time"]) for s in streams if _is_number(s.get("start_time"))]
    start = min(starts) if starts else None
    declared = _declared_end(fmt, streams, start or 0.0)
    try:
        span = None
        if declared is not None:
            tail_from = max(declared - _TAIL_SECONDS, start or 0.0)
            span = _packet_span(path, indices, tail_from)
            if span and span[1] <= tail_from:
                span = None  # nothing in the tail: the end is elsewhere, or the data is missing
        if span is None:
            span = _packet_span(path, indices, None)
    except subprocess.TimeoutExpired:
        log.warning("packet scan timed out for %s", path)
        raise reject("zero_duration") from None
    if span is None:
        raise reject("zero_duration")
    first, end = span
    start = first if start is None else start
    real = end - start
    if real <= 0:
        raise reject("zero_duration")
    if real > max_seconds:
        log.info("%s spans %.1fs, more than %.1fs", path, real, max_seconds)
        raise MediaRejected("too_long", REASONS["too_long"].format(
            duration=_spoken(real), limit=_spoken(max_seconds)))
    kinds = format_name.split(",")
    if declared is not None and not any(f in kinds for f in _ESTIMATED_FORMATS):
        # Index-based containers must reach their end; others may be a little off.
        slack = 1.5 if any(f in kinds for f in _INDEXED_FORMATS) else max(1.5, (declared - start) / 10)
        if end < declared - slack:
            log.info("%s ends at %.2fs of %.2fs", path, end, declared)
            raise reject("truncated_tail", "truncated")
    return real


def _declared_end(fmt: dict, streams: list[dict], start: float) -> float | None:
    """The end time (s) the header claims, or None.  MP4 edit lists make the format
    duration an end time rather than a length, so the smaller reading is taken."""
    ends = []
    if _is_number(fmt.get("duration")) and float(fmt["duration"]) > 0:
        ends.append(start + float(fmt["duration"]))
    stream_ends = [
        (float(s["start_time"]) if _is_number(s.get("start_time")) else start) + float(s["duration"])
        for s in streams if _is_number(s.get("duration")) and float(s["duration"]) > 0
    ]
    if stream_ends:
        ends.append(max(stream_ends))
    return min(ends) if ends else None


def _packet_span(path: Path, indices: set[int], tail_from: float | None) -> tuple[float, float] | None:
    """(first timestamp, last timestamp + duration) in seconds of the packets of streams
    ``indices`` among the first packets of the file and all those from ``tail_from``
    (seconds) to its end; the whole file when ``tail_from`` is None.  None: no packet.
    Raises subprocess.TimeoutExpired after CHECK_TIMEOUT seconds."""
    intervals = ["-read_intervals", f"%+#{_HEAD_PACKETS},{tail_from:.3f}%"] if tail_from is not None else []
    argv = ["ffprobe", "-v", "error", *(a for k, v in INPUT_OPTIONS.items() for a in (f"-{k}", v)),
            *intervals, "-show_entries", "packet=stream_index,pts_time,dts_time,duration_time",
            "-of", "csv=p=0", input_url(path)]
    run = subprocess.run(argv, capture_output=True, timeout=CHECK_TIMEOUT)
    first = last = None
    for line in run.stdout.decode("ascii", "replace").splitlines():
        index, pts, dts, length = (line.split(",") + ["", "", "", ""])[:4]
        if not index.isdigit() or int(index) not in indices:
            continue
        t = float(pts) if _is_number(pts) else float(dts) if _is_number(dts) else None
        if t is None:
            continue
        first = t if first is None else min(first, t)
        end = t + (float(length) if _is_number(length) and float(length) > 0 else 0.0)
        last = end if last is None else max(last, end)
    if run.returncode != 0:
        log.info("packet scan of %s: %s", path, run.stderr.decode("utf-8", "replace")[-300:])
    return None if first is None else (first, last)


def _spoken(seconds: float) -> str:
    """Seconds as Vietnamese words: 36000 -> "10 giờ", 5400 -> "1 giờ 30 phút"."""
    total = max(round(seconds), 1)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} giờ"] if hours else []
    parts += [f"{minutes} phút"] if minutes else []
    parts += [f"{secs} giây"] if secs and not hours else []
    return " ".join(parts)
