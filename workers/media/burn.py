"""burn_in(): an MP4 rendition with open (burned-in) captions, for platforms and TV
sets that cannot show subtitle tracks."""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from .hls import _run_with_progress
from .ladder import output_frame_rate, plan_ladder
from .model import AUDIO_BITRATE, INPUT_OPTIONS, ProbeResult, TranscodeError, input_url

#: Noto Sans covers every Vietnamese letter and tone mark (Debian's fonts-noto-core).
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
FONT_NAME = "Noto Sans"
MAX_HEIGHT = 720  # the burned rendition is one 720-class rung (or smaller sources' own size)
STYLE = f"FontName={FONT_NAME},FontSize=22,Outline=2,Shadow=0,MarginV=28,BorderStyle=1"


def burn_in(source, p: ProbeResult, subtitles_srt: Path, out_path: Path, on_progress=None) -> Path:
    """Encode ``source`` with the cues of ``subtitles_srt`` (an SRT file the hub wrote,
    UTF-8) drawn into the picture by ffmpeg's subtitles filter (libass), as H.264/AAC
    MP4 (faststart) at the largest ladder rung of at most 720 lines.

    Raises :class:`TranscodeError` (also for a source without video) and
    ``FileNotFoundError`` when the Noto fonts are missing.
    """
    if p.video is None:
        raise TranscodeError("Tệp không có hình ảnh nên không thể gắn phụ đề vào hình.", "")
    if not FONT_DIR.is_dir():
        raise FileNotFoundError(f"{FONT_DIR} (Debian package fonts-noto-core)")
    rung = next(r for r in plan_ladder(p) if r.width and min(r.width, r.height) <= MAX_HEIGHT)
    inp = ffmpeg.input(input_url(source), **INPUT_OPTIONS)
    fps = output_frame_rate(p.video)
    video = (
        inp[str(p.video.index)]
        .filter("fps", fps=f"{fps.numerator}/{fps.denominator}")
        .filter("scale", w=rung.width, h=rung.height)
        .filter("setsar", "1")
        .filter("subtitles", filename=str(subtitles_srt), charenc="UTF-8", fontsdir=str(FONT_DIR),
                force_style=STYLE)
        .filter("format", "yuv420p")
    )
    streams = [video] + ([inp[str(p.audio.index)]] if p.audio else [])
    audio_opts = {"c:a": "aac", "b:a": AUDIO_BITRATE, "ac": 2, "ar": 48000} if p.audio else {}
    out_path.parent.mkdir(parents=True, exist_ok=True)
    argv = (
        ffmpeg.output(*streams, str(out_path), vcodec="libx264", preset="veryfast", profile="high",
                      video_bitrate=rung.video_bitrate, maxrate=rung.maxrate, bufsize=rung.bufsize,
                      movflags="+faststart", **audio_opts)
        .global_args("-nostdin", "-hide_banner", "-v", "error", "-progress", "pipe:1", "-nostats")
        .overwrite_output()
        .compile()
    )
    _run_with_progress(argv, p.duration, on_progress)
    if on_progress:
        on_progress(1.0)
    return out_path
