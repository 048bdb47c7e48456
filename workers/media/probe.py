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
    CHECK_TIMEOUT, INPUT_OPTIONS, AudioInfo, ProbeResult, VideoInfo, display_size, input_url,
    reject,
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


def probe(path) -> ProbeResult:
    """Inspect an untrusted local file and prove its streams decode.

    Raises :class:`MediaRejected` with code ``not_media`` (text, unknown or
    non-whitelisted format), ``truncated`` (MP4 without its moov atom, or an
    MP4/Matroska whose data stops before its declared duration),
    ``no_stream`` (no audio/video; cover art does not count), ``zero_duration``
    or ``undecodable`` (the first second does not decode).  A missing file raises
    FileNotFoundError (the caller's bug, not the upload's).
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

    durations = [fmt.get("duration")] + [s.get("duration") for s in (vs, aus) if s]
    duration = max((float(d) for d in durations if _is_number(d)), default=0.0)
    if duration <= 0:
        raise reject("zero_duration")

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
    result = ProbeResult(
        format_name=fmt.get("format_name") or "",
        duration=duration,
        size=int(fmt.get("size") or path.stat().st_size),
        bit_rate=int(fmt["bit_rate"]) if _is_number(fmt.get("bit_rate")) else None,
        video=video,
        audio=audio,
        cover_art_index=int(cover["index"]) if cover else None,
        cover_art_size=(int(cover.get("width") or 0), int(cover.get("height") or 0)) if cover else None,
    )
    _check_decodes(path, result)
    start = float(fmt["start_time"]) if _is_number(fmt.get("start_time")) else 0.0
    _check_complete(path, result, start)
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




#: Containers whose duration comes from a header or index, so a cut-off upload still
#: reports the full duration.  (Raw audio streams only estimate theirs: not checked.)
_INDEXED_FORMATS = ("mov", "matroska")


def _check_complete(path: Path, p: ProbeResult, start: float) -> None:
    """Demux (no decoding) the last second: packets must reach the declared end."""
    if not any(f in p.format_name.split(",") for f in _INDEXED_FORMATS):
        return
    end = start + p.duration
    argv = ["ffprobe", "-v", "error", *(a for k, v in INPUT_OPTIONS.items() for a in (f"-{k}", v)),
            "-read_intervals", f"{max(start, end - 1):.3f}%", "-show_entries",
            "packet=pts_time,dts_time", "-of", "csv=p=0", input_url(path)]
    try:
        run = subprocess.run(argv, capture_output=True, timeout=CHECK_TIMEOUT)
    except subprocess.TimeoutExpired:
        log.warning("completeness check timed out for %s", path)
        return
    times = [float(t) for line in run.stdout.decode("ascii", "replace").splitlines()
             for t in line.split(",") if _is_number(t)]
    if max(times, default=start) < end - 1.5:
        log.info("%s ends at %.2fs of %.2fs: %s", path, max(times, default=start), end,
                 run.stderr.decode("utf-8", "replace")[-300:])
        raise reject("truncated_tail", "truncated")
