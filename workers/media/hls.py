"""transcode(): one ffmpeg process from a probed source to an HLS VOD ladder (RFC 8216)."""

from __future__ import annotations

import logging
import math
import shutil
import subprocess
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable

import ffmpeg
import m3u8

from .ladder import even, output_frame_rate, plan_ladder
from .model import (
    AUDIO_BITRATE, AUDIO_CODECS, CHECK_TIMEOUT, INPUT_OPTIONS, POSTER_MAX_WIDTH, REASONS,
    SEGMENT_SECONDS, ProbeResult, RenditionOutput, Rung, TranscodeError, TranscodeResult,
    display_size, input_url,
)

log = logging.getLogger(__name__)


def _check_out_dir(source, out_dir) -> Path:
    out = Path(out_dir).resolve()
    if "%" in str(out):
        raise ValueError("out_dir must not contain '%' (ffmpeg filename pattern)")
    if out in Path(source).resolve().parents:
        raise ValueError("out_dir must not contain the source file")
    return out


def ladder_command(source, p: ProbeResult, rungs: list[Rung], out_dir) -> list[str]:
    """argv of the single ffmpeg process that decodes ``source`` once and writes one
    HLS VOD media playlist per rung to ``out_dir/<rung.name>/index.m3u8`` with
    MPEG-TS segments ``seg_00000.ts``... (RFC 8216 §4.3.3); key frames are forced
    every SEGMENT_SECONDS on every rung so segments align across renditions.  Output
    stops 1 s after ``p.duration``."""
    out = _check_out_dir(source, out_dir)
    inp = ffmpeg.input(input_url(source), **INPUT_OPTIONS)
    video_rungs = [r for r in rungs if r.width]
    n = len(video_rungs)
    opts: dict = {}
    videos, audios = [], []
    if n:
        v = inp[str(p.video.index)]  # autorotated by ffmpeg: display orientation
        if p.video.interlaced:
            v = v.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
        fps = output_frame_rate(p.video)
        v = v.filter("fps", fps=f"{fps.numerator}/{fps.denominator}")
        branches = v.filter_multi_output("split", n) if n > 1 else None
        for i, r in enumerate(video_rungs):
            branch = branches[i] if branches else v
            videos.append(branch.filter("scale", w=r.width, h=r.height)
                          .filter("setsar", "1").filter("format", "yuv420p"))
            opts.update({f"b:v:{i}": r.video_bitrate, f"maxrate:v:{i}": r.maxrate,
                         f"bufsize:v:{i}": r.bufsize, f"level:v:{i}": r.h264_level})
        opts.update({
            "c:v": "libx264", "preset": "veryfast", "profile:v": "high", "sc_threshold": 0,
            "force_key_frames": f"expr:gte(t,n_forced*{SEGMENT_SECONDS})",
            "g": math.ceil(2 * SEGMENT_SECONDS * fps),  # forced key frames come first
        })
    if p.audio is not None:
        count = max(n, 1)
        a = inp[str(p.audio.index)]
        splits = a.filter_multi_output("asplit", count) if count > 1 else None
        audios = [splits[i] for i in range(count)] if splits else [a]
        opts.update({"c:a": "aac", "profile:a": "aac_low", "b:a": AUDIO_BITRATE, "ac": 2,
                     "ar": 48000})
    streams, stream_map = [], []
    for i, r in enumerate(rungs):
        parts = []
        if r.width:
            streams.append(videos[i])
            parts.append(f"v:{i}")
        if audios:
            streams.append(audios[i])
            parts.append(f"a:{i}")
        stream_map.append(",".join(parts + [f"name:{r.name}"]))
    return (
        ffmpeg.output(
            *streams, str(out / "%v" / "index.m3u8"), format="hls",
            hls_time=SEGMENT_SECONDS, hls_playlist_type="vod", hls_segment_type="mpegts",
            hls_flags="independent_segments", var_stream_map=" ".join(stream_map),
            hls_segment_filename=str(out / "%v" / "seg_%05d.ts"),
            max_muxing_queue_size=4096, **opts,
            # Never longer than the probe measured: a timestamp jump hidden mid-file must not
            # make the fps filter fill hours of frames.
            t=f"{p.duration + 1:.3f}",
        )
        .global_args("-nostdin", "-hide_banner", "-v", "error", "-progress", "pipe:1", "-nostats")
        .overwrite_output()
        .compile()
    )


def _run_with_progress(argv: list[str], duration: float, on_progress) -> None:
    last = 0.0
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL)
        except OSError as e:
            raise TranscodeError(REASONS["transcode_failed"], str(e)) from None
        with proc:
            try:
                for line in proc.stdout:
                    key, _, value = line.decode("ascii", "replace").strip().partition("=")
                    if key == "out_time_us" and value.lstrip("-").isdigit() and on_progress:
                        fraction = min(max(int(value) / 1e6 / duration, 0.0), 0.999)
                        if fraction > last:
                            last = fraction
                            on_progress(fraction)
            except BaseException:  # e.g. the task's time limit: do not leave ffmpeg running
                proc.kill()
                raise
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read()[-4000:].decode("utf-8", "replace")
            raise TranscodeError(REASONS["transcode_failed"], tail)


def _measure(playlist: Path) -> tuple[int, int, int]:
    """(peak, average) segment bit rate of a media playlist (RFC 8216 §4.3.4.2) and its
    EXT-X-VERSION."""
    media = m3u8.load(str(playlist))
    rates, bits, seconds = [], 0, 0.0
    for seg in media.segments:
        size = (playlist.parent / seg.uri).stat().st_size * 8
        rates.append(size / max(seg.duration, 1e-3))
        bits, seconds = bits + size, seconds + seg.duration
    if not rates:
        raise TranscodeError(REASONS["transcode_incomplete"], f"{playlist}: no segments")
    return math.ceil(max(rates)), math.ceil(bits / max(seconds, 1e-3)), int(media.version or 1)


def _write_master(out: Path, renditions: list[RenditionOutput], version: int) -> None:
    """Master playlist (RFC 8216 §4.3.4.2 EXT-X-STREAM-INF, §4.3.5.1 INDEPENDENT-SEGMENTS);
    ``version``: EXT-X-VERSION, the highest of the media playlists'."""
    master = m3u8.M3U8()
    master.version = version
    master.is_independent_segments = True
    for r in renditions:
        info = {"bandwidth": r.bandwidth, "average_bandwidth": r.average_bandwidth,
                "codecs": r.codecs}
        if r.width:
            info.update(resolution=f"{r.width}x{r.height}", frame_rate=r.frame_rate)
        master.add_playlist(m3u8.Playlist(r.playlist, info, [], None))
    (out / "master.m3u8").write_text(master.dumps().rstrip("\n") + "\n", encoding="utf-8")


def _codecs(r: Rung) -> str:
    parts = []
    if r.width:
        major, minor = r.h264_level.split(".")
        parts.append(f"avc1.6400{int(major) * 10 + int(minor):02x}")  # High, RFC 6381
    if r.audio_bitrate:
        parts.append(AUDIO_CODECS)
    return ",".join(parts)


def _poster(source, p: ProbeResult, out: Path) -> str | None:
    """Write ``poster.jpg`` (≤ 1280 px wide, even size) or return None."""
    if p.video:
        # Retry from the start if seeking to 10% found no frame.
        index, seeks = p.video.index, (min(p.duration * 0.1, 5.0), None)
        w, h = display_size(p.video)
    elif p.cover_art_index is not None and p.cover_art_size and min(p.cover_art_size) > 0:
        # No -ss at all: with it (even -ss 0) ffmpeg 5.1 emits no attached picture.
        index, seeks = p.cover_art_index, (None,)
        w, h = (Fraction(x) for x in p.cover_art_size)
    else:
        return None
    pw = even(min(Fraction(POSTER_MAX_WIDTH), w))
    ph = even(h * pw / w)
    target = out / "poster.jpg"
    for seek in seeks:
        seek_opt = {"ss": f"{seek:.3f}"} if seek else {}
        stream = ffmpeg.input(input_url(source), **seek_opt, **INPUT_OPTIONS)[str(index)]
        if p.video and p.video.interlaced:
            stream = stream.filter("bwdif", mode="send_frame", parity="auto", deint="interlaced")
        stream = stream.filter("scale", w=pw, h=ph).filter("setsar", "1")
        argv = (ffmpeg.output(stream, str(target), vframes=1, update=1, **{"q:v": 3})
                .global_args("-nostdin", "-hide_banner", "-v", "error").overwrite_output().compile())
        try:
            run = subprocess.run(argv, capture_output=True, timeout=CHECK_TIMEOUT)
        except subprocess.TimeoutExpired:
            continue
        if run.returncode == 0 and target.is_file() and target.stat().st_size > 0:
            return target.name
        log.warning("poster at %ss failed: %s", seek, run.stderr.decode("utf-8", "replace")[-500:])
    target.unlink(missing_ok=True)
    return None


def transcode(source, p: ProbeResult, out_dir,
              on_progress: Callable[[float], None] | None = None) -> TranscodeResult:
    """Transcode a probed source to an HLS VOD ladder in ``out_dir`` (wiped first).

    Writes ``<rung>/index.m3u8`` + ``<rung>/seg_NNNNN.ts`` per rendition (H.264 High /
    AAC-LC stereo 48 kHz in MPEG-TS), ``master.m3u8`` (RFC 8216 §4.3.4) and
    ``poster.jpg`` when there is a picture.  ``on_progress`` receives increasing
    fractions in 0..1, the last being 1.0.  Raises :class:`TranscodeError`.
    """
    out = _check_out_dir(source, out_dir)
    if out.exists():
        shutil.rmtree(out)
    rungs = plan_ladder(p)
    for r in rungs:
        (out / r.name).mkdir(parents=True)
    _run_with_progress(ladder_command(source, p, rungs, out), p.duration, on_progress)

    renditions, version = [], 3
    fps = float(round(output_frame_rate(p.video), 3)) if p.video else None
    for r in rungs:
        playlist = out / r.name / "index.m3u8"
        if not playlist.is_file():
            raise TranscodeError(REASONS["transcode_incomplete"], f"missing {playlist}")
        peak, average, media_version = _measure(playlist)
        version = max(version, media_version)
        renditions.append(RenditionOutput(
            name=r.name, width=r.width, height=r.height, video_bitrate=r.video_bitrate,
            audio_bitrate=r.audio_bitrate, bandwidth=peak, average_bandwidth=average,
            codecs=_codecs(r), frame_rate=fps if r.width else None,
            playlist=f"{r.name}/index.m3u8",
        ))
    _write_master(out, renditions, version)
    poster = _poster(source, p, out)
    if on_progress:
        on_progress(1.0)
    return TranscodeResult(str(out), "master.m3u8", renditions, poster, p.duration)
