"""Real media samples for tests, generated on demand with ffmpeg lavfi and espeak-ng.

Reusable by any test file::

    from tests.media_factory import SAMPLES, media_dir, media_sample  # fixtures

    def test_upload(media_sample):
        path = media_sample("phone_rotated")          # built once per session
        expected = SAMPLES["phone_rotated"]           # what the pipeline should make of it

Each :class:`Sample` says how to build the file and what to expect: either the
``MediaRejected.code`` or the video rungs ``(name, width, height)``, whether the
output has audio, its frame rate and the poster size.  The builders
(``make_video``, ``make_audio``, ``make_speech``...) can also be called directly.
No binaries are committed: everything is made from lavfi sources in a tmp dir.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

FFMPEG = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y"]
SPEECH_VI = "Xin chào quý vị. Đây là chương trình phổ biến, giáo dục pháp luật của Sở Tư pháp."


def _run(argv: list[str]) -> None:
    subprocess.run(argv, check=True, capture_output=True, timeout=120)


def make_speech(path, text: str = SPEECH_VI, voice: str = "vi") -> Path:
    """Vietnamese speech as WAV (22.05 kHz mono) from espeak-ng."""
    _run(["espeak-ng", "-v", voice, "-s", "170", "-w", str(path), text])
    return Path(path)


def make_video(
    path, *, width: int = 640, height: int = 360, duration: float = 2.0, rate: float = 25,
    audio: bool = True, channels: int = 2, pix_fmt: str = "yuv420p", vcodec: str = "libx264",
    acodec: str = "aac", sar: str | None = None, rotate: int | None = None,
    interlaced: bool = False, drop_frames: bool = False, speech: bool = False,
    extra: tuple[str, ...] = (),
) -> Path:
    """A testsrc2 clip with a sine (or speech) track.

    ``sar`` "4:3" stores non-square pixels; ``rotate`` sets a display-matrix
    rotation (stream-copy remux, as phones write it; with ffmpeg 5.1 ``rotate=90``
    comes out as ffprobe rotation 90, displayed turned 90° counter-clockwise, i.e.
    ``VideoInfo.rotation == 270``); odd sizes are scaled from the next even testsrc2
    size (H.264 4:2:0 cannot store them; use yuv444p or VP9); ``interlaced`` makes a
    top-field-first interlaced H.264 stream (``rate`` is then the field rate);
    ``drop_frames`` drops 21 of every 60 frames (variable frame rate).
    """
    path = Path(path)
    vf = []
    src_w, src_h = width + width % 2, height + height % 2  # testsrc2 only makes even sizes
    if (src_w, src_h) != (width, height):
        vf.append(f"scale={width}:{height}")
    vf.append(f"setsar={(sar or '1:1').replace(':', '/')}")
    if interlaced:
        vf += ["tinterlace=interleave_top", "fieldorder=tff"]
    if drop_frames:
        vf.append(r"select=not(between(mod(n\,60)\,10\,30))")
    vf.append(f"format={pix_fmt}")
    argv = FFMPEG + ["-f", "lavfi", "-i", f"testsrc2=s={src_w}x{src_h}:r={rate}:d={duration}"]
    if audio:
        if speech:
            wav = path.with_suffix(".speech.wav")
            make_speech(wav)
            argv += ["-i", str(wav)]
        else:
            argv += ["-f", "lavfi", "-i", f"sine=f=440:d={duration}:sample_rate=48000"]
        layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
        argv += ["-map", "0:v", "-map", "1:a", "-af", f"apad,aformat=channel_layouts={layout}",
                 "-c:a", acodec, "-t", str(duration)]
    argv += ["-vf", ",".join(vf), "-c:v", vcodec]
    if vcodec == "libx264":
        argv += ["-preset", "ultrafast"]
    elif vcodec == "libvpx-vp9":
        argv += ["-deadline", "realtime", "-cpu-used", "8"]
    if interlaced:
        argv += ["-flags", "+ildct+ilme", "-x264opts", "tff=1"]
    if drop_frames:
        argv += ["-fps_mode", "vfr"]
    target = path.with_suffix(".norot" + path.suffix) if rotate is not None else path
    _run(argv + list(extra) + [str(target)])
    path.with_suffix(".speech.wav").unlink(missing_ok=True)
    if rotate is not None:
        # ffmpeg 5.1 turns the "rotate" tag into a display matrix only when stream-copying.
        _run(FFMPEG + ["-i", str(target), "-map", "0", "-c", "copy",
                       "-metadata:s:v:0", f"rotate={rotate}", str(path)])
        target.unlink()
    return path


def make_audio(
    path, *, duration: float = 2.0, codec: str = "aac", fmt: str | None = None,
    channels: int = 2, sample_rate: int = 44100, speech: bool = False, cover: bool = False,
) -> Path:
    """An audio-only file: sine or Vietnamese speech, optional PNG cover (attached picture)."""
    path = Path(path)
    argv = list(FFMPEG)
    if speech:
        wav = path.with_suffix(".speech.wav")
        make_speech(wav)
        argv += ["-i", str(wav)]
    else:
        argv += ["-f", "lavfi", "-i", f"sine=f=330:d={duration}"]
    if cover:
        argv += ["-f", "lavfi", "-i", "testsrc2=s=600x600:d=1", "-map", "0:a", "-map", "1:v",
                 "-frames:v", "1", "-c:v", "png", "-disposition:v:0", "attached_pic",
                 "-id3v2_version", "3"]
    layout = {1: "mono", 2: "stereo", 6: "5.1"}[channels]
    argv += ["-af", f"apad,aformat=channel_layouts={layout}", "-t", str(duration),
             "-ar", str(sample_rate), "-c:a", codec]
    if fmt:
        argv += ["-f", fmt]
    _run(argv + [str(path)])
    path.with_suffix(".speech.wav").unlink(missing_ok=True)
    return path


def make_text(path) -> Path:
    Path(path).write_text("Biên bản họp ngày 1/1/2025\nKhông phải video.\n", encoding="utf-8")
    return Path(path)


def make_truncated_mp4(path) -> Path:
    """An MP4 whose upload stopped before the trailing moov atom."""
    path = Path(path)
    whole = path.with_suffix(".whole.mp4")
    make_video(whole, duration=2.0)
    data = whole.read_bytes()
    whole.unlink()
    moov = data.rindex(b"moov") - 4
    assert moov > len(data) // 2, "moov must trail the media data"
    path.write_bytes(data[: moov - 1000])
    return path


def make_cut_short(path, keep: float = 0.6) -> Path:
    """A 4 s MP4 with its index first (faststart) or an MKV, cut after ``keep`` of its bytes:
    the header still declares 4 s."""
    path = Path(path)
    extra = ("-movflags", "+faststart") if path.suffix == ".mp4" else ()
    make_video(path, duration=4.0, extra=extra)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def make_hls_playlist(path, segment_url: str = "http://127.0.0.1:9/segment.ts") -> Path:
    """An HLS playlist disguised as .mp4 whose segment (and init map) is a URL."""
    Path(path).write_text(
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n"
        f'#EXT-X-MAP:URI="{segment_url}?map"\n'
        f"#EXTINF:4.0,\n{segment_url}\n#EXT-X-ENDLIST\n", encoding="utf-8")
    return Path(path)


def make_concat_script(path, target: str = "/etc/passwd") -> Path:
    Path(path).write_text(f"ffconcat version 1.0\nfile '{target}'\n", encoding="utf-8")
    return Path(path)


def make_zero_duration(path) -> Path:
    """A WAV header with no samples."""
    _run(FFMPEG + ["-f", "lavfi", "-i", "sine", "-t", "0", "-c:a", "pcm_s16le", str(path)])
    return Path(path)


def make_cover_only(path) -> Path:
    """An MP4 holding only a cover picture (attached_pic): no audio, no video."""
    path = Path(path)
    png = path.with_suffix(".png")
    _run(FFMPEG + ["-f", "lavfi", "-i", "testsrc2=s=300x300", "-frames:v", "1", str(png)])
    _run(FFMPEG + ["-i", str(png), "-c", "copy", "-disposition:v:0", "attached_pic", str(path)])
    png.unlink()
    return path


def make_garbled_mp4(path) -> Path:
    """A well-formed MP4 (moov first) whose H.264 payload was overwritten with noise."""
    path = Path(path)
    make_video(path, audio=False, extra=("-movflags", "+faststart"))
    data = bytearray(path.read_bytes())
    start = data.index(b"mdat") + 4
    data[start:] = os.urandom(len(data) - start).replace(b"\x00", b"\x01")
    path.write_bytes(bytes(data))
    return path


def make_start_offset(path, offset: float = 3.5) -> Path:
    """A 3 s MP4 whose timestamps start at ``offset`` s (an edit list, as cameras and
    editors write): ffprobe's format duration is then the end time, not the length."""
    return make_video(path, duration=3.0, extra=("-output_ts_offset", str(offset)))


def make_pipe_webm(path, duration: float = 3.0) -> Path:
    """VP9/Opus WebM written to a pipe, as browsers' MediaRecorder does: no duration
    and no cues in the header."""
    path = Path(path)
    argv = FFMPEG + ["-f", "lavfi", "-i", f"testsrc2=s=640x360:r=25:d={duration}",
                     "-f", "lavfi", "-i", f"sine=f=440:d={duration}:sample_rate=48000",
                     "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
                     "-c:a", "libopus", "-f", "webm", "pipe:1"]
    with open(path, "wb") as out:
        subprocess.run(argv, check=True, stdout=out, stderr=subprocess.PIPE, timeout=120)
    return path


def make_frames_apart(path, seconds: float = 36000.0) -> Path:
    """A tiny MKV of two frames ``seconds`` apart: its packets really span that long."""
    _run(FFMPEG + ["-f", "lavfi", "-i", "color=c=blue:s=64x64:r=1:d=2",
                   "-vf", f"setpts=N*{seconds}/TB", "-fps_mode", "passthrough",
                   "-c:v", "libx264", "-preset", "ultrafast", str(path)])
    return Path(path)


def make_forged_duration(path, seconds: float = 72000.0) -> Path:
    """0.2 s of 1080p in FLV whose onMetaData declares ``seconds`` (20 h by default)."""
    path = Path(path)
    _run(FFMPEG + ["-f", "lavfi", "-i", "color=c=blue:s=1920x1080:r=25:d=0.2",
                   "-c:v", "libx264", "-preset", "ultrafast", str(path)])
    data = bytearray(path.read_bytes())
    at = data.index(b"duration\x00") + len(b"duration\x00")  # AMF0 number follows
    data[at:at + 8] = struct.pack(">d", seconds)
    path.write_bytes(bytes(data))
    return path


@dataclass(frozen=True)
class Sample:
    """How to build a file and what the pipeline should make of it."""

    filename: str
    build: Callable[[Path], Path]
    rejected: str | None = None  # expected MediaRejected.code
    rungs: tuple[tuple[str, int, int], ...] = ()  # expected video rungs (name, w, h)
    audio: bool = True  # output renditions carry AAC stereo
    frame_rate: float | None = None  # expected output frame rate
    poster: tuple[int, int] | None = None  # expected poster size
    notes: dict = field(default_factory=dict)


def _v(**kw) -> Callable[[Path], Path]:
    return lambda p: make_video(p, **kw)


def _a(**kw) -> Callable[[Path], Path]:
    return lambda p: make_audio(p, **kw)


SAMPLES: dict[str, Sample] = {
    "full_hd": Sample("full_hd.mp4", _v(width=1920, height=1080, speech=True),
                      rungs=(("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480),
                             ("360p", 640, 360)), frame_rate=25, poster=(1280, 720)),
    "phone_rotated": Sample("phone_rotated.mp4", _v(width=720, height=1280, rate=30, rotate=90),
                            rungs=(("720p", 1280, 720), ("480p", 854, 480), ("360p", 640, 360)),
                            frame_rate=30, poster=(1280, 720)),
    "yuv444_odd": Sample("yuv444_odd.mp4", _v(width=1164, height=767, pix_fmt="yuv444p"),
                         rungs=(("720p", 1092, 720), ("480p", 728, 480), ("360p", 546, 360)),
                         frame_rate=25, poster=(1164, 766)),
    # A browser screen recording: VP9 4:2:0 in WebM allows an odd height.
    "tiny_60fps_silent": Sample("tiny_60fps_silent.webm",
                                _v(width=428, height=241, rate=60, audio=False,
                                   vcodec="libvpx-vp9"),
                                rungs=(("240p", 428, 240),), audio=False, frame_rate=30,
                                poster=(428, 240)),
    "cinemascope": Sample("cinemascope.mp4", _v(width=1280, height=544, duration=9.0),
                          rungs=(("720p", 1280, 544), ("480p", 854, 362), ("360p", 640, 272)),
                          frame_rate=25, poster=(1280, 544), notes={"multi_segment": True}),
    "anamorphic_sar": Sample("anamorphic_sar.mp4", _v(width=640, height=480, sar="4:3"),
                             rungs=(("480p", 854, 480), ("360p", 640, 360)), frame_rate=25,
                             poster=(854, 480)),
    "vfr_dropped": Sample("vfr_dropped.mp4", _v(rate=60, drop_frames=True, duration=3.0),
                          rungs=(("360p", 640, 360),), frame_rate=30, poster=(640, 360)),
    "mkv_opus": Sample("mkv_opus.mkv", _v(acodec="libopus"), rungs=(("360p", 640, 360),),
                       frame_rate=25, poster=(640, 360)),
    "surround_51": Sample("surround_51.mp4", _v(channels=6), rungs=(("360p", 640, 360),),
                          frame_rate=25, poster=(640, 360)),
    "interlaced": Sample("interlaced.mp4", _v(width=720, height=576, rate=50, interlaced=True),
                         rungs=(("480p", 600, 480), ("360p", 450, 360)), frame_rate=25,
                         poster=(720, 576)),
    "silent_video": Sample("silent_video.mp4", _v(width=854, height=480, audio=False),
                           rungs=(("480p", 854, 480), ("360p", 640, 360)), audio=False,
                           frame_rate=25, poster=(854, 480)),
    "short_clip": Sample("short_clip.mp4", _v(duration=0.5), rungs=(("360p", 640, 360),),
                         frame_rate=25, poster=(640, 360)),
    "radio_wav": Sample("radio_wav.wav", _a(codec="pcm_s16le", channels=1, speech=True,
                                            duration=3.0)),
    "mp3_cover": Sample("mp3_cover.mp3", _a(codec="libmp3lame", speech=True, cover=True,
                                            duration=3.0), poster=(600, 600)),
    "m4a": Sample("m4a.m4a", _a(codec="aac")),
    "ogg_vorbis": Sample("ogg_vorbis.ogg", _a(codec="libvorbis")),
    "adts_aac": Sample("adts_aac.aac", _a(codec="aac", fmt="adts", channels=1)),
    "ac3_51": Sample("ac3_51.ac3", _a(codec="ac3", channels=6, sample_rate=48000)),
    "start_offset": Sample("start_offset.mp4", make_start_offset, rungs=(("360p", 640, 360),),
                           frame_rate=25, poster=(640, 360)),
    "pipe_webm": Sample("pipe_webm.webm", make_pipe_webm, rungs=(("360p", 640, 360),),
                        frame_rate=25, poster=(640, 360)),
    # Rejections.
    "text_as_mp4": Sample("text_as_mp4.mp4", make_text, rejected="not_media"),
    "truncated_mp4": Sample("truncated_mp4.mp4", make_truncated_mp4, rejected="truncated"),
    "cut_short_mp4": Sample("cut_short_mp4.mp4", make_cut_short, rejected="truncated"),
    "cut_short_mkv": Sample("cut_short_mkv.mkv", make_cut_short, rejected="truncated"),
    "hls_as_mp4": Sample("hls_as_mp4.mp4", make_hls_playlist, rejected="not_media"),
    "concat_as_mp4": Sample("concat_as_mp4.mp4", make_concat_script, rejected="not_media"),
    "zero_duration": Sample("zero_duration.wav", make_zero_duration, rejected="zero_duration"),
    "cover_only": Sample("cover_only.mp4", make_cover_only, rejected="no_stream"),
    "garbled_mp4": Sample("garbled_mp4.mp4", make_garbled_mp4, rejected="undecodable"),
    "frames_10h_apart": Sample("frames_10h_apart.mkv", make_frames_apart, rejected="too_long"),
    "forged_20h": Sample("forged_20h.flv", make_forged_duration, rejected="truncated"),
}
ACCEPTED = [name for name, s in SAMPLES.items() if not s.rejected]
REJECTED = [name for name, s in SAMPLES.items() if s.rejected]


def build_sample(name: str, directory) -> Path:
    """Build SAMPLES[name] in ``directory`` (once; later calls reuse the file)."""
    sample = SAMPLES[name]
    path = Path(directory) / sample.filename
    if not path.exists():
        tmp = Path(tempfile.mkdtemp(dir=directory))
        try:
            built = sample.build(tmp / sample.filename)
            built.rename(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return path


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory) -> Path:
    """Session tmp dir holding generated samples; one fixed path, so test modules that
    each import these fixtures still share the files."""
    path = tmp_path_factory.getbasetemp() / "media_samples"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def media_sample(media_dir) -> Callable[[str], Path]:
    """``media_sample(name) -> Path`` of SAMPLES[name], built once per session."""
    return lambda name: build_sample(name, media_dir)
