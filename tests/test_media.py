"""workers.media: probe, ladder planning and HLS transcoding on real generated media."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import unicodedata
from fractions import Fraction
from pathlib import Path

import ffmpeg
import httpx
import m3u8
import pytest

from workers.media import (
    INPUT_OPTIONS, SEGMENT_SECONDS, AudioInfo, MediaRejected, ProbeResult, Rung, TranscodeError,
    VideoInfo, h264_level, ladder_command, output_frame_rate, plan_ladder, probe, transcode,
)
from workers.media.model import REASONS
from tests.media_factory import (  # noqa: F401  (media_dir, media_sample are fixtures)
    ACCEPTED, REJECTED, SAMPLES, make_concat_script, make_hls_playlist, media_dir, media_sample,
)


def ffprobe(path, *args: str) -> dict:
    argv = ["ffprobe", "-v", "error", "-of", "json", *args, str(path)]
    return json.loads(subprocess.run(argv, check=True, capture_output=True).stdout)


def streams(path, kind: str) -> list[dict]:
    info = ffprobe(path, "-show_streams")
    return [s for s in info["streams"] if s["codec_type"] == kind]


@pytest.fixture(scope="session")
def transcoded(media_sample, tmp_path_factory):
    """``transcoded(name) -> (ProbeResult, TranscodeResult, progress values)``, cached."""
    cache = {}

    def get(name: str):
        if name not in cache:
            source = media_sample(name)
            p = probe(source)
            progress: list[float] = []
            out = tmp_path_factory.mktemp(f"hls_{name}")
            cache[name] = (p, transcode(source, p, out, on_progress=progress.append), progress)
        return cache[name]

    return get


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize("name", REJECTED)
def test_rejected(name, media_sample):
    with pytest.raises(MediaRejected) as exc:
        probe(media_sample(name))
    assert exc.value.code == SAMPLES[name].rejected
    assert exc.value.reason and unicodedata.is_normalized("NFC", exc.value.reason)
    if exc.value.code == "truncated":
        assert "chưa đầy đủ" in exc.value.reason  # "incomplete"


def test_reasons_are_vietnamese_nfc():
    for reason in REASONS.values():
        assert unicodedata.is_normalized("NFC", reason)
        assert any(ch in reason for ch in "ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệ")


def _fake_probe(duration: float = 4.0) -> ProbeResult:
    video = VideoInfo(0, "h264", 640, 360, 640, 360, "1:1", 0, 25.0, "yuv420p", 8, False, False)
    return ProbeResult("mov", duration, 1000, None, video, AudioInfo(1, "aac", 2, "stereo", 48000),
                       None)


def _assert_refused_everywhere(path: Path, tmp_path: Path):
    """probe() rejects it, and the whitelist itself stops ffprobe and the transcode command."""
    with pytest.raises(MediaRejected) as exc:
        probe(path)
    assert exc.value.code == "not_media"
    # Bypass probe()'s text sniffing: the input options alone must refuse the file.
    with pytest.raises(ffmpeg.Error) as err:
        ffmpeg.probe("file:" + str(path), **INPUT_OPTIONS)
    assert b"Format not on whitelist" in err.value.stderr
    p = _fake_probe()
    out = tmp_path / "out"
    (out / "360p").mkdir(parents=True)
    run = subprocess.run(ladder_command(path, p, plan_ladder(p), out), capture_output=True)
    assert run.returncode != 0 and b"Format not on whitelist" in run.stderr
    assert not list(out.rglob("*.ts"))


def test_hls_playlist_as_mp4_never_reaches_network(http_canary, tmp_path):
    """http_canary (tests/conftest.py) records every request made to it."""
    path = make_hls_playlist(tmp_path / "innocent.mp4", f"{http_canary.url}/segment.ts")
    _assert_refused_everywhere(path, tmp_path)
    assert http_canary.requests == []
    httpx.get(f"{http_canary.url}/control", timeout=5)  # control: the canary was listening
    assert http_canary.requests == ["/control"]


def test_concat_script_as_mp4_refused(tmp_path):
    _assert_refused_everywhere(make_concat_script(tmp_path / "list.mp4"), tmp_path)


# ---------------------------------------------------------------- probing


def test_probe_details(media_sample):
    p = probe(media_sample("full_hd"))
    assert (p.video.width, p.video.height, p.video.frame_rate) == (1920, 1080, 25.0)
    assert p.audio.codec == "aac" and p.audio.channels == 2
    assert p.duration == pytest.approx(2.0, abs=0.05) and p.size > 0 and p.bit_rate > 0
    json.dumps(p.summary())

    rot = probe(media_sample("phone_rotated")).video
    assert (rot.width, rot.height) == (720, 1280) and rot.rotation in (90, 270)
    assert (rot.display_width, rot.display_height) == (1280, 720)

    sar = probe(media_sample("anamorphic_sar")).video
    assert sar.sample_aspect_ratio == "4:3" and (sar.display_width, sar.display_height) == (853, 480)

    yuv444 = probe(media_sample("yuv444_odd")).video
    assert (yuv444.pix_fmt, yuv444.bit_depth, yuv444.height) == ("yuv444p", 8, 767)

    assert probe(media_sample("interlaced")).video.interlaced
    vfr = probe(media_sample("vfr_dropped")).video
    assert vfr.variable_frame_rate and vfr.frame_rate == 60
    assert not probe(media_sample("full_hd")).video.variable_frame_rate

    assert probe(media_sample("surround_51")).audio.channels == 6
    assert probe(media_sample("mkv_opus")).audio.codec == "opus"
    cover = probe(media_sample("mp3_cover"))
    assert cover.video is None and cover.cover_art_index is not None
    assert cover.cover_art_size == (600, 600)
    assert probe(media_sample("radio_wav")).video is None


def test_duration_measured_on_packets(media_sample, transcoded):
    """A start offset (edit list) and a header without duration are ordinary files."""
    offset = ffprobe(media_sample("start_offset"), "-show_format")["format"]
    assert float(offset["start_time"]) > 3 and float(offset["duration"]) > 6  # end time, not length
    assert "duration" not in ffprobe(media_sample("pipe_webm"), "-show_format")["format"]
    for name in ("start_offset", "pipe_webm"):
        p, result, _ = transcoded(name)
        assert p.duration == pytest.approx(3.0, abs=0.05)
        playlist = m3u8.load(str(Path(result.out_dir) / result.renditions[0].playlist))
        assert sum(s.duration for s in playlist.segments) == pytest.approx(3.0, abs=0.1)


def test_longest_media_refused_before_any_output(media_sample, tmp_path):
    from storage.local import LocalStorage
    from workers.pipeline import process_original

    store = LocalStorage(tmp_path / "blobs")
    with pytest.raises(MediaRejected) as exc:
        process_original(media_sample("frames_10h_apart"), tmp_path / "work", store, "media/x/hls")
    assert exc.value.code == "too_long"
    assert "10 giờ" in exc.value.reason and "4 giờ" in exc.value.reason
    assert list(store.list("")) == [] and not list(tmp_path.rglob("*.ts"))

    two_seconds = media_sample("full_hd")
    with pytest.raises(MediaRejected) as exc:
        probe(two_seconds, max_seconds=1)
    assert exc.value.code == "too_long" and "2 giây" in exc.value.reason
    assert "1 giây" in exc.value.reason and unicodedata.is_normalized("NFC", exc.value.reason)
    assert probe(two_seconds, max_seconds=3).duration == pytest.approx(2.0, abs=0.05)


# ---------------------------------------------------------------- ladder


def _video_probe(w, h, sar="1:1", rotation=0, fps=25.0, audio=True) -> ProbeResult:
    v = VideoInfo(0, "h264", w, h, w, h, sar, rotation, fps, "yuv420p", 8, False, False)
    a = AudioInfo(1, "aac", 2, "stereo", 48000) if audio else None
    return ProbeResult("mov", 10.0, 1, None, v, a, None)


@pytest.mark.parametrize("size, kwargs, expected", [
    ((3840, 2160), {}, [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480),
                        ("360p", 640, 360)]),
    ((720, 1280), {}, [("720p", 720, 1280), ("480p", 480, 854), ("360p", 360, 640)]),
    ((1920, 1080), {"rotation": 90}, [("1080p", 1080, 1920), ("720p", 720, 1280),
                                      ("480p", 480, 854), ("360p", 360, 640)]),
    ((1280, 544), {}, [("720p", 1280, 544), ("480p", 854, 362), ("360p", 640, 272)]),
    ((1164, 767), {}, [("720p", 1092, 720), ("480p", 728, 480), ("360p", 546, 360)]),
    ((720, 576), {"sar": "16:15"}, [("480p", 640, 480), ("360p", 480, 360)]),
    ((1920, 1080), {"fps": 1}, [("1080p", 1920, 1080), ("720p", 1280, 720), ("480p", 854, 480),
                                ("360p", 640, 360)]),
    ((320, 180), {}, [("180p", 320, 180)]),
    ((1080, 1080), {}, [("1080p", 1080, 1080), ("720p", 720, 720), ("480p", 480, 480),
                        ("360p", 360, 360)]),
])
def test_plan_ladder_sizes(size, kwargs, expected):
    rungs = plan_ladder(_video_probe(*size, **kwargs))
    assert [(r.name, r.width, r.height) for r in rungs] == expected
    for r in rungs:
        assert r.width % 2 == 0 and r.height % 2 == 0
        assert r.maxrate == r.video_bitrate * 11 // 10 and r.bufsize == 2 * r.video_bitrate
        assert r.audio_bitrate == 128_000 and r.h264_profile == "high"


def test_plan_ladder_rates_and_levels():
    rungs = {r.name: r for r in plan_ladder(_video_probe(1920, 1080, fps=30))}
    assert {n: r.video_bitrate for n, r in rungs.items()} == {
        "1080p": 4_500_000, "720p": 2_800_000, "480p": 1_400_000, "360p": 800_000}
    assert {n: r.h264_level for n, r in rungs.items()} == {
        "1080p": "4.0", "720p": "3.1", "480p": "3.1", "360p": "3.0"}
    assert h264_level(854, 480, 25, 1_540_000) == "3.0"
    tiny = plan_ladder(_video_probe(320, 180, audio=False))
    assert tiny[0].video_bitrate == 200_000 and tiny[0].audio_bitrate is None
    audio = plan_ladder(dataclasses.replace(_video_probe(2, 2), video=None))
    assert audio == [Rung("audio", None, None, None, None, None, 128_000, None, None)]


@pytest.mark.parametrize("fps, expected", [
    (24, Fraction(24)), (25, Fraction(25)), (30000 / 1001, Fraction(30000, 1001)),
    (50, Fraction(25)), (60, Fraction(30)), (60000 / 1001, Fraction(30000, 1001)),
    (120, Fraction(30)), (48, Fraction(24)),
])
def test_output_frame_rate(fps, expected):
    assert output_frame_rate(_video_probe(640, 360, fps=fps).video) == expected


def test_ladder_command_is_one_decode(media_sample, tmp_path):
    src = media_sample("full_hd")
    p = probe(src)
    argv = ladder_command(src, p, plan_ladder(p), tmp_path / "out")
    assert argv.count("-i") == 1
    i = argv.index("-i")
    assert argv[i + 1] == "file:" + str(Path(src).resolve())
    assert argv[argv.index("-protocol_whitelist") + 1] == "file" and argv.index("-protocol_whitelist") < i
    assert "hls" not in argv[argv.index("-format_whitelist") + 1].split(",")
    graph = argv[argv.index("-filter_complex") + 1]
    assert "split=4" in graph and "asplit=4" in graph and "fps=fps=25/1" in graph
    assert graph.count("setsar=1") == 4 and graph.count("format=yuv420p") == 4
    assert "bwdif" not in graph
    assert argv[argv.index("-force_key_frames") + 1] == f"expr:gte(t,n_forced*{SEGMENT_SECONDS})"
    assert argv[argv.index("-sc_threshold") + 1] == "0"
    assert argv[argv.index("-var_stream_map") + 1] == (
        "v:0,a:0,name:1080p v:1,a:1,name:720p v:2,a:2,name:480p v:3,a:3,name:360p")
    assert [argv[argv.index(f"-level:v:{i}") + 1] for i in range(4)] == ["4.0", "3.1", "3.0", "3.0"]  # 25 fps
    assert "-ac" in argv and argv[argv.index("-ar") + 1] == "48000"
    interlaced = probe(media_sample("interlaced"))
    graph = ladder_command(media_sample("interlaced"), interlaced, plan_ladder(interlaced),
                           tmp_path / "out2")
    assert "bwdif=deint=interlaced" in " ".join(graph)


# ---------------------------------------------------------------- transcoding


def _check_output(name: str, p, result) -> None:
    sample = SAMPLES[name]
    out = Path(result.out_dir)
    names = [n for n, _, _ in sample.rungs] or ["audio"]
    assert [r.name for r in result.renditions] == names
    master = m3u8.load(str(out / result.master_playlist))
    assert master.is_variant and master.is_independent_segments
    assert [pl.uri for pl in master.playlists] == [f"{n}/index.m3u8" for n in names]
    rungs = plan_ladder(p)
    for i, (pl, rend) in enumerate(zip(master.playlists, result.renditions)):
        expected = sample.rungs[i] if sample.rungs else None
        info = pl.stream_info
        assert (info.bandwidth, info.average_bandwidth, info.codecs) == (
            rend.bandwidth, rend.average_bandwidth, rend.codecs)
        media = m3u8.load(str(out / pl.uri))
        assert media.playlist_type == "vod" and media.is_endlist
        assert int(master.version) >= int(media.version)
        # ffmpeg 5.1 drops the tag from audio-only media playlists; the master's tag covers
        # every media playlist anyway (RFC 8216 §4.3.5.1).
        assert media.is_independent_segments == bool(expected)
        seg_files = [out / rend.name / s.uri for s in media.segments]
        assert seg_files and all(f.suffix == ".ts" and f.is_file() for f in seg_files)
        rates = [f.stat().st_size * 8 / s.duration for f, s in zip(seg_files, media.segments)]
        assert info.bandwidth >= max(rates) - 1 and info.average_bandwidth <= info.bandwidth
        assert sum(s.duration for s in media.segments) == pytest.approx(p.duration, abs=0.3)

        videos, audios = streams(seg_files[0], "video"), streams(seg_files[0], "audio")
        if expected:
            _, w, h = expected
            (v,) = videos
            assert (v["width"], v["height"]) == (w, h) == (rend.width, rend.height) == info.resolution
            assert w % 2 == 0 and h % 2 == 0
            assert (v["codec_name"], v["profile"], v["pix_fmt"]) == ("h264", "High", "yuv420p")
            assert v.get("sample_aspect_ratio", "1:1") == "1:1"
            assert v.get("field_order", "progressive") == "progressive"
            assert v["level"] == round(float(rungs[i].h264_level) * 10)
            assert rend.codecs.split(",")[0] == f"avc1.6400{v['level']:02x}"
            assert float(Fraction(v["r_frame_rate"])) == pytest.approx(sample.frame_rate, rel=1e-3)
            assert info.frame_rate == pytest.approx(sample.frame_rate, rel=1e-3)
        else:
            assert videos == [] and info.resolution is None and rend.width is None
        if sample.audio:
            (a,) = audios
            assert (a["codec_name"], a["profile"], a["channels"], a["sample_rate"]) == (
                "aac", "LC", 2, "48000")
            assert rend.codecs.endswith("mp4a.40.2")
        else:
            assert audios == [] and "mp4a" not in rend.codecs
    if sample.poster:
        (pic,) = streams(out / result.poster, "video")
        assert result.poster == "poster.jpg" and (pic["width"], pic["height"]) == sample.poster
    else:
        assert result.poster is None and not (out / "poster.jpg").exists()


@pytest.mark.parametrize("name", ACCEPTED)
def test_transcode(name, transcoded):
    p, result, _ = transcoded(name)
    _check_output(name, p, result)


def test_keyframes_aligned_across_rungs(transcoded):
    _, result, _ = transcoded("cinemascope")
    out = Path(result.out_dir)
    layouts = []
    for rend in result.renditions:
        media = m3u8.load(str(out / rend.playlist))
        starts = []
        for seg in media.segments:
            pkt = ffprobe(out / rend.name / seg.uri, "-select_streams", "v", "-read_intervals",
                          "%+#1", "-show_entries", "packet=pts_time,flags")["packets"][0]
            assert pkt["flags"].startswith("K")
            starts.append(round(float(pkt["pts_time"]), 3))
        layouts.append(([round(s.duration, 3) for s in media.segments], starts))
    assert len(layouts[0][0]) >= 3 and layouts[0][0][0] == pytest.approx(SEGMENT_SECONDS, abs=0.05)
    assert all(layout == layouts[0] for layout in layouts)


def test_variable_frame_rate_becomes_constant(transcoded):
    _, result, _ = transcoded("vfr_dropped")
    out = Path(result.out_dir)
    pts = []
    for seg in m3u8.load(str(out / result.renditions[0].playlist)).segments:
        info = ffprobe(out / "360p" / seg.uri, "-select_streams", "v", "-show_entries", "packet=pts")
        pts += [int(pk["pts"]) for pk in info["packets"]]
    steps = {b - a for a, b in zip(sorted(pts), sorted(pts)[1:])}
    assert steps == {3000}  # 90 kHz / 30 fps
    assert len(pts) == pytest.approx(90, abs=2)


def test_progress_increases_to_one(transcoded):
    _, _, progress = transcoded("full_hd")
    assert progress and progress[-1] == 1.0
    assert all(0 < a < b <= 1.0 for a, b in zip(progress, progress[1:]))


def test_retranscode_gives_same_files(media_sample, tmp_path):
    src = media_sample("short_clip")
    p = probe(src)
    out = tmp_path / "hls"
    transcode(src, p, out)
    first = sorted(str(f.relative_to(out)) for f in out.rglob("*"))
    (out / "360p" / "seg_09999.ts").write_bytes(b"stale")
    transcode(src, p, out)
    assert sorted(str(f.relative_to(out)) for f in out.rglob("*")) == first
    assert "master.m3u8" in first and "poster.jpg" in first


def test_transcode_error_when_source_breaks(media_sample, tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(media_sample("short_clip").read_bytes())
    p = probe(src)
    src.write_bytes(b"\x00" * 1000)
    with pytest.raises(TranscodeError) as exc:
        transcode(src, p, tmp_path / "out")
    assert exc.value.reason == REASONS["transcode_failed"] and exc.value.detail


def test_transcode_stops_at_probed_duration(media_sample, tmp_path):
    """Whatever timestamps hide between the packets the probe read, the ladder is no longer
    than the measured duration (plus 1 s)."""
    src = media_sample("cinemascope")  # 9 s
    p = dataclasses.replace(probe(src), duration=2.0)
    result = transcode(src, p, tmp_path / "out")
    playlist = m3u8.load(str(Path(result.out_dir) / result.renditions[0].playlist))
    assert 2.0 <= sum(s.duration for s in playlist.segments) <= 3.1


def test_out_dir_must_not_hold_source(media_sample, tmp_path):
    src = tmp_path / "clip.mp4"
    src.write_bytes(media_sample("short_clip").read_bytes())
    with pytest.raises(ValueError):
        transcode(src, probe(src), tmp_path)
    assert src.exists()
