"""plan_ladder(): which H.264 renditions to make of a probed source."""

from __future__ import annotations

import math
from fractions import Fraction

from .model import (
    AUDIO_BITRATE, LADDER, MAX_FRAME_RATE, MIN_VIDEO_BITRATE, H264_LEVELS, ProbeResult, Rung,
    VideoInfo, display_size,
)


def output_frame_rate(v: VideoInfo) -> Fraction:
    """Output frame rate: the source rate up to 30 frames/s, else divided by the
    smallest integer that brings it to 30 or below (50 → 25, 59.94 → 29.97, 60 → 30)."""
    rate = Fraction(v.frame_rate).limit_denominator(1001) if v.frame_rate > 0 else Fraction(25)
    return rate / math.ceil(rate / MAX_FRAME_RATE) if rate > MAX_FRAME_RATE else rate


def even(x) -> int:
    """Nearest even integer, halves rounding down (so an odd integer never grows)."""
    return max(2, 2 * math.ceil(Fraction(x) / 2 - Fraction(1, 2)))


def h264_level(width: int, height: int, fps: float, maxrate: int) -> str:
    """Smallest H.264 level (Annex A, High profile: MaxBR × 1.25) for a stream."""
    mbs = math.ceil(width / 16) * math.ceil(height / 16)
    for level, max_mbps, max_fs, max_br in H264_LEVELS:
        side_ok = max(math.ceil(width / 16), math.ceil(height / 16)) ** 2 <= 8 * max_fs
        if mbs <= max_fs and side_ok and mbs * fps <= max_mbps and maxrate <= max_br * 1250:
            return level
    return H264_LEVELS[-1][0]


def _video_rung(name: str, w: int, h: int, bitrate: int, fps: Fraction, audio: bool) -> Rung:
    maxrate = bitrate * 11 // 10
    return Rung(name, w, h, bitrate, maxrate, bitrate * 2, AUDIO_BITRATE if audio else None,
                "high", h264_level(w, h, float(fps), maxrate))


def plan_ladder(p: ProbeResult) -> list[Rung]:
    """Renditions for a probed source, largest first.

    Video: boxes 1920×1080, 1280×720, 854×480, 640×360 (transposed for portrait
    display); a box is used when the display size fits it with scale ≤ 1, sizes keep
    the display aspect ratio and are even; a source smaller than every box gets one
    rung at its own size.  Audio-only: a single "audio" rung.
    """
    has_audio = p.audio is not None
    if p.video is None:
        return [Rung("audio", None, None, None, None, None, AUDIO_BITRATE, None, None)]
    dw, dh = display_size(p.video)
    fps = output_frame_rate(p.video)
    rungs = []
    for name, bw, bh, bitrate in LADDER:
        if dh > dw:
            bw, bh = bh, bw
        scale = min(bw / dw, bh / dh)
        if scale <= 1:
            rungs.append(_video_rung(name, even(dw * scale), even(dh * scale),
                                     bitrate, fps, has_audio))
    if not rungs:
        w, h = even(dw), even(dh)
        _, small_w, small_h, small_rate = LADDER[-1]
        bitrate = max(MIN_VIDEO_BITRATE,
                      round(small_rate * w * h / (small_w * small_h) / 1000) * 1000)
        rungs.append(_video_rung(f"{min(w, h)}p", w, h, bitrate, fps, has_audio))
    return rungs


