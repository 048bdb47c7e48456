"""conform(): an intermediate file in a fixed frame for a linear channel.

A channel stitches its programmes' segments, so every programme must offer the same
rungs with the same frame sizes and an audio track. Sources that do not (portrait
clips, small or cinema-shaped frames, silent videos, radio segments) are conformed
first: fitted into the channel's largest box with black bars, a constant frame rate,
stereo audio (silence when there is none), a still poster or black picture for audio;
the usual ladder is then made from that intermediate.
"""

from __future__ import annotations

from pathlib import Path

import ffmpeg

from .hls import _run_with_progress
from .model import INPUT_OPTIONS, ProbeResult, input_url

FPS = 25


def conform(source, p: ProbeResult, out_path: Path, width: int, height: int, *,
            still: Path | None = None, on_progress=None) -> Path:
    """Write ``out_path`` (H.264 high quality intermediate + AAC stereo 48 kHz, MP4) of
    ``source`` fitted into ``width``×``height`` pixels (aspect kept, padded), at
    :data:`FPS` frames/s, as long as the source. Audio-only sources show ``still`` (a
    JPEG, e.g. the cover) or black. Raises :class:`TranscodeError`."""
    inp = ffmpeg.input(input_url(source), **INPUT_OPTIONS)
    duration = max(p.duration, 0.1)
    if p.video is not None:
        picture = inp[str(p.video.index)]
    elif still is not None:
        picture = ffmpeg.input(input_url(still), loop=1, framerate=FPS, **INPUT_OPTIONS)["0"]
    else:
        picture = ffmpeg.input(f"color=c=black:s={width}x{height}:r={FPS}", f="lavfi")["0"]
    video = (
        picture.filter("fps", fps=FPS)
        .filter("scale", w=width, h=height, force_original_aspect_ratio="decrease")
        .filter("pad", w=width, h=height, x="(ow-iw)/2", y="(oh-ih)/2", color="black")
        .filter("setsar", "1")
        .filter("format", "yuv420p")
        .trim(duration=duration)
    )
    if p.audio is not None:
        audio = inp[str(p.audio.index)]
    else:
        audio = ffmpeg.input("anullsrc=r=48000:cl=stereo", f="lavfi")["0"].filter("atrim", duration=duration)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    argv = (
        ffmpeg.output(video, audio, str(out_path), vcodec="libx264", preset="veryfast", crf=18,
                      acodec="aac", audio_bitrate=192_000, ac=2, ar=48000, t=duration,
                      movflags="+faststart")
        .global_args("-nostdin", "-hide_banner", "-v", "error", "-progress", "pipe:1", "-nostats")
        .overwrite_output()
        .compile()
    )
    _run_with_progress(argv, duration, on_progress)
    return out_path


FONT = Path("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf")


def slate(out_path: Path, lines: list[str], width: int = 1280, height: int = 720, seconds: int = 8) -> Path:
    """A station ident: ``lines`` of text (Vietnamese, Noto Sans) on a dark blue field
    with a soft 440 Hz tone fading in and out, ``seconds`` long, H.264/AAC MP4.
    The text goes through files (``textfile``), never through filter arguments."""
    if not FONT.exists():
        raise FileNotFoundError(f"{FONT} (Debian package fonts-noto-core)")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    video = ffmpeg.input(f"color=c=0x0b3d6b:s={width}x{height}:r={FPS}:d={seconds}", f="lavfi")["0"]
    size = height // 14
    for n, line in enumerate(lines):
        text_file = out_path.with_name(f"{out_path.stem}-line{n}.txt")
        text_file.write_text(line, encoding="utf-8")
        video = video.filter("drawtext", fontfile=str(FONT), textfile=str(text_file), fontcolor="white",
                             fontsize=size if n == 0 else size * 2 // 3, x="(w-text_w)/2",
                             y=f"(h/2)-{size}+{n}*{size * 3 // 2}")
    tone = (ffmpeg.input(f"sine=frequency=440:sample_rate=48000:duration={seconds}", f="lavfi")["0"]
            .filter("volume", "0.05").filter("afade", t="in", d=1).filter("afade", t="out", st=seconds - 1, d=1))
    ffmpeg.output(video.filter("format", "yuv420p"), tone, str(out_path), vcodec="libx264", preset="veryfast",
                  acodec="aac", ac=2, t=seconds, movflags="+faststart").global_args(
        "-nostdin", "-hide_banner", "-v", "error").overwrite_output().run()
    return out_path
