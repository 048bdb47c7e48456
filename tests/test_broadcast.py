"""workers.broadcast: broadcast-ready MP3 (EBU R128 loudness, LAME CBR, ID3v2.3) on real media.

Sources are made once per session with espeak-ng (-v vi) and ffmpeg lavfi; every output is
checked with a separate ebur128 measurement (true peak on) of the finished MP3.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from mutagen.mp3 import MP3, BitrateMode

from workers.broadcast import (
    PRESETS, BroadcastError, LoudnessTarget, Mp3Profile, NoAudio, SilentSource, encoder_gain,
    make_broadcast_mp3, measure, write_id3,
)
from tests.media_factory import FFMPEG, make_audio, make_speech, make_video

TEXT = ("Xin chào quý vị. Đây là chương trình phổ biến, giáo dục pháp luật của Sở Tư pháp. "
        "Luật Trật tự, an toàn giao thông đường bộ số 36/2024/QH15 có hiệu lực từ ngày "
        "một tháng một năm hai nghìn không trăm hai mươi lăm.")
EBU = PRESETS["ebu_r128"]


def ffmpeg(*args: str) -> None:
    subprocess.run([*FFMPEG, *args], check=True, capture_output=True, timeout=120)


def ffprobe_audio(path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", str(path)],
                         check=True, capture_output=True).stdout
    return next(s for s in json.loads(out)["streams"] if s["codec_type"] == "audio")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@pytest.fixture(scope="session")
def radio_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("radio")


@pytest.fixture(scope="session")
def source(radio_dir):
    """``source(name) -> Path`` of a generated input, built once per session."""
    speech = make_speech(radio_dir / "speech.wav", TEXT)  # 22.05 kHz mono, ~12 s

    def scaled(path, to_lufs):
        gain = to_lufs - measure(speech).integrated
        ffmpeg("-i", str(speech), "-af", f"volume={gain:.2f}dB", "-c:a", "pcm_s16le", str(path))

    builders = {
        "speech": lambda p: p,
        # ~ -40 LUFS: a recorder set far too low.
        "quiet.wav": lambda p: scaled(p, -40.0),
        # +40 dB on 16-bit samples: hard-clipped, measures above 0 LUFS, true peak > 0 dBTP.
        "clipped.wav": lambda p: ffmpeg("-i", str(speech), "-af", "volume=40dB",
                                        "-c:a", "pcm_s16le", str(p)),
        # A full-scale 3 kHz square wave (K-weighting lifts it): about +3 LUFS.
        "square.wav": lambda p: ffmpeg("-f", "lavfi", "-i",
                                       "aevalsrc=0.99*sgn(sin(2*PI*3000*t)):s=44100:d=5",
                                       "-c:a", "pcm_s16le", str(p)),
        "stereo48.m4a": lambda p: make_audio(p, speech=True, channels=2, sample_rate=48000,
                                             duration=8.0),
        "surround.ac3": lambda p: make_audio(p, speech=True, codec="ac3", channels=6,
                                             sample_rate=48000, duration=8.0),
        "silent_video.mp4": lambda p: make_video(p, width=320, height=240, duration=1.0,
                                                 audio=False),
        "faint.wav": lambda p: ffmpeg("-f", "lavfi", "-i", "sine=f=440:d=4,volume=-80dB", str(p)),
        "nullsrc.wav": lambda p: ffmpeg("-f", "lavfi", "-i", "anullsrc=r=48000:cl=stereo",
                                        "-t", "4", str(p)),
        # A two-note chime, 2 s: shorter than loudnorm's 3 s window, LRA 0.
        "jingle.ogg": lambda p: ffmpeg(
            "-f", "lavfi", "-i", "sine=f=880:d=1:sample_rate=44100",
            "-f", "lavfi", "-i", "sine=f=660:d=1:sample_rate=44100",
            "-filter_complex", "[0][1]concat=n=2:v=0:a=1,afade=t=out:st=1.6:d=0.4",
            "-c:a", "libvorbis", str(p)),
        # Normal, then 22 dB quieter, then normal: LRA ~20 LU, above the 11 LU target.
        "wide.wav": lambda p: ffmpeg("-i", str(speech), "-filter_complex",
                                     "[0]asplit=3[a][b][c];[b]volume=-22dB[q];"
                                     "[a][q][c]concat=n=3:v=0:a=1", str(p)),
        "poster.jpg": lambda p: ffmpeg("-f", "lavfi", "-i", "testsrc2=s=600x600", "-frames:v", "1",
                                       str(p)),
    }
    cache = {"speech": speech}

    def get(name: str) -> Path:
        if name not in cache:
            path = radio_dir / name
            builders[name](path)
            cache[name] = path
        return cache[name]

    return get


@pytest.fixture(scope="session")
def broadcast(source, radio_dir):
    """``broadcast(name, preset="ebu_r128", **kw) -> (BroadcastResult, progress)``, cached."""
    cache = {}

    def get(name: str, preset: str = "ebu_r128", **kw):
        key = (name, preset, tuple(sorted((k, str(v)) for k, v in kw.items())))
        if key not in cache:
            progress: list[float] = []
            out = radio_dir / f"out_{len(cache)}.mp3"
            parts = {k: source(v) for k, v in kw.items()}
            result = make_broadcast_mp3(source(name), out, PRESETS[preset],
                                        on_progress=progress.append, **parts)
            cache[key] = (result, progress)
        return cache[key]

    return get


def assert_broadcast_ready(result, target: LoudnessTarget = EBU) -> None:
    """On target by a separate ebur128 (true peak) measurement; 44.1 kHz mono CBR 128k."""
    checked = measure(result.path)
    assert checked == result.loudness
    assert abs(checked.integrated - target.integrated) <= 1.0, checked
    assert checked.true_peak <= target.true_peak, checked
    assert result.on_target
    info = MP3(result.path).info
    assert (info.sample_rate, info.channels, info.bitrate) == (44100, 1, 128_000)
    assert info.bitrate_mode == BitrateMode.CBR
    probed = ffprobe_audio(result.path)
    assert (probed["codec_name"], probed["sample_rate"], probed["channels"],
            probed["bit_rate"]) == ("mp3", "44100", 1, "128000")
    assert result.size == Path(result.path).stat().st_size
    data = Path(result.path).read_bytes()
    assert data[:4] == b"ID3\x03" and data[-128:-125] != b"TAG"  # ID3v2.3, no ID3v1


# ------------------------------------------------------------------ loudness


def test_quiet_source_is_raised_to_r128(source, broadcast):
    assert measure(source("quiet.wav")).integrated == pytest.approx(-40.0, abs=0.5)
    result, progress = broadcast("quiet.wav")
    assert result.input_loudness.integrated == pytest.approx(-40.0, abs=0.5)
    assert result.normalization == "linear"
    assert_broadcast_ready(result)
    assert result.loudness.integrated == pytest.approx(-23.0, abs=0.3)
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(progress) > 3


def independent_meters(path) -> dict[str, tuple[float, float]]:
    """(integrated LUFS, true peak dBTP) of the file as it is, read by meters that are not
    ours: a plain ffmpeg ``ebur128`` pass and, when installed, loudgain (BS.1770 both)."""
    stderr = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
                             "-af", "ebur128=peak=true", "-f", "null", "-"],
                            check=True, capture_output=True, text=True, timeout=120).stderr
    summary = stderr[stderr.rindex("Summary:"):]
    meters = {"ebur128": (float(re.search(r"I:\s+(\S+) LUFS", summary)[1]),
                          float(re.search(r"Peak:\s+(\S+) dBFS", summary)[1]))}
    if shutil.which("loudgain"):  # -s s (default): reads, writes no tags
        row = subprocess.run(["loudgain", "-q", "-O", str(path)], check=True, capture_output=True,
                             text=True, timeout=120).stdout.splitlines()[-1].split("\t")
        meters["loudgain"] = (float(row[1].split()[0]), float(row[4].split()[0]))
    return meters


@pytest.mark.parametrize("name", ["speech", "quiet.wav", "stereo48.m4a"])
def test_mono_file_reads_the_target_on_independent_meters(name, broadcast):
    """The file a commune receives reads -23 LUFS on a standard meter run on it (a mono
    file normalised "as dual mono" read -26)."""
    result, _ = broadcast(name)
    assert MP3(result.path).info.channels == 1
    for meter, (integrated, true_peak) in independent_meters(result.path).items():
        assert integrated == pytest.approx(EBU.integrated, abs=0.5), (meter, integrated)
        assert true_peak <= EBU.true_peak, (meter, true_peak)


@pytest.mark.parametrize("name", ["clipped.wav", "square.wav"])
def test_loud_clipped_source_is_brought_down(name, source, broadcast):
    measured = measure(source(name))
    assert measured.integrated > -3 and measured.true_peak > 0
    result, _ = broadcast(name)
    if name == "square.wav":
        # Above 0 LUFS loudnorm refuses the measurement (measured_I is limited to -99..0):
        # the gain comes first, then loudnorm.
        assert result.input_loudness.integrated > 0 and result.normalization == "limited"
    else:  # brought down by a pure gain, its peaks far under the limit
        assert result.normalization == "linear"
    assert_broadcast_ready(result)


@pytest.mark.parametrize("name", ["quiet.wav", "speech"])
def test_podcast_preset(name, broadcast):
    result, _ = broadcast(name, "podcast")
    # espeak's peak-to-loudness ratio (~17 dB) does not fit -16 LUFS under -1.5 dBTP:
    # a pure gain would clip, so the look-ahead limiter takes the peaks first.
    assert result.normalization == "limited"
    assert_broadcast_ready(result, PRESETS["podcast"])


@pytest.mark.parametrize("name", ["stereo48.m4a", "surround.ac3"])
def test_multichannel_is_downmixed_to_mono(name, source, broadcast):
    probed = ffprobe_audio(source(name))
    assert probed["channels"] in (2, 6) and probed["sample_rate"] == "48000"
    result, _ = broadcast(name)
    assert_broadcast_ready(result)
    assert result.duration == pytest.approx(8.0, abs=0.2)


def test_wide_range_programme_goes_dynamic(broadcast):
    result, _ = broadcast("wide.wav")
    assert result.input_loudness.lra > EBU.lra
    assert result.normalization == "dynamic"
    assert_broadcast_ready(result)
    assert result.loudness.lra < result.input_loudness.lra


def test_intro_and_outro_jingles(source, broadcast):
    result, _ = broadcast("speech", intro="jingle.ogg", outro="jingle.ogg")
    programme, _ = broadcast("speech")
    jingle = MP3(broadcast("jingle.ogg")[0].path).info.length  # LAME pads each file
    assert result.duration == pytest.approx(programme.duration + 2 * 2.0, abs=0.15)
    assert jingle == pytest.approx(2.0, abs=0.1)
    assert_broadcast_ready(result)
    assert result.input_loudness == programme.input_loudness


def test_no_audio_stream(source, tmp_path):
    with pytest.raises(NoAudio) as exc:
        make_broadcast_mp3(source("silent_video.mp4"), tmp_path / "x.mp3")
    assert exc.value.code == "no_audio" and exc.value.part == "programme"
    assert exc.value.reason == nfc(exc.value.reason) and "âm thanh" in exc.value.reason
    with pytest.raises(NoAudio) as exc:
        make_broadcast_mp3(source("speech"), tmp_path / "x.mp3", intro=source("silent_video.mp4"))
    assert exc.value.part == "intro" and exc.value.reason.startswith("Nhạc hiệu mở đầu")
    assert not (tmp_path / "x.mp3").exists()


@pytest.mark.parametrize("name", ["faint.wav", "nullsrc.wav"])
def test_near_silent_source_is_flagged(name, source, tmp_path):
    with pytest.raises(SilentSource) as exc:
        make_broadcast_mp3(source(name), tmp_path / "x.mp3")
    assert exc.value.code == "silent"
    assert not exc.value.measured.integrated > -70  # -inf: everything under the gate
    assert "LUFS" in exc.value.reason and exc.value.reason == nfc(exc.value.reason)
    assert not (tmp_path / "x.mp3").exists()


def test_unreadable_input(tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("Biên bản họp, không phải âm thanh.\n", encoding="utf-8")
    with pytest.raises(BroadcastError) as exc:
        make_broadcast_mp3(text, tmp_path / "x.mp3")
    assert exc.value.code == "not_media"


def test_lame_preset_scale_is_measured():
    # LAME scales its input by 0.95 up to 160 kbit/s, not at all from 256 kbit/s.
    assert encoder_gain(Mp3Profile()) == pytest.approx(20 * math.log10(0.95), abs=0.05)
    assert encoder_gain(Mp3Profile(bitrate=320_000)) == pytest.approx(0.0, abs=0.05)


def test_profile_and_target_are_validated():
    with pytest.raises(ValueError):
        Mp3Profile(sample_rate=22050)
    with pytest.raises(ValueError):
        Mp3Profile(bitrate=100_000)
    with pytest.raises(ValueError):
        LoudnessTarget(true_peak=1.0)


# ------------------------------------------------------------------ ID3v2.3


def test_id3_tags_round_trip(source, broadcast, radio_dir):
    result, _ = broadcast("speech")
    path = radio_dir / "tagged.mp3"
    path.write_bytes(Path(result.path).read_bytes())
    cover = source("poster.jpg").read_bytes()
    # Decomposed input (NFD, as macOS file names give it) is stored as NFC.
    title = unicodedata.normalize("NFD", "Luật Trật tự, an toàn giao thông đường bộ")
    artist = "Sở Tư pháp tỉnh Thừa Thiên Huế"
    comment = "Văn bản: Luật số 36/2024/QH15; Nghị định 168/2024/NĐ-CP."
    write_id3(path, title=title, artist=artist, album="Pháp luật và đời sống",
              date=dt.date(2025, 1, 15), comment=comment, cover_jpeg=cover)

    raw = ID3(path, translate=False)
    assert raw.version == (2, 3, 0)
    assert {f.encoding for f in raw.values() if hasattr(f, "encoding")} == {1}  # UTF-16
    assert str(raw["TIT2"]) == nfc(title) != title
    assert str(raw["TPE1"]) == artist == str(raw["TPUB"])
    assert str(raw["TALB"]) == "Pháp luật và đời sống"
    assert (str(raw["TYER"]), str(raw["TDAT"])) == ("2025", "1501")  # v2.3: no TDRC
    assert "TDRC" not in raw
    comm = raw.getall("COMM")[0]
    assert (comm.lang, comm.text[0]) == ("vie", comment) and "36/2024/QH15" in comm.text[0]
    apic = raw.getall("APIC")[0]
    assert (apic.mime, apic.type, apic.data) == ("image/jpeg", 3, cover)
    assert str(raw["TCON"]) == "Speech"
    assert str(ID3(path)["TDRC"]) == "2025-01-15"  # read as v2.4 by players that convert

    data = path.read_bytes()
    assert data[:4] == b"ID3\x03" and data[-128:-125] != b"TAG"
    assert MP3(path).info.length == pytest.approx(result.duration)

    # Re-tagging replaces (no duplicate frames), a "YYYY-MM-DD" string is accepted.
    write_id3(path, title="Bản tin", artist=artist, date="2024-12-31")
    raw = ID3(path, translate=False)
    assert str(raw["TIT2"]) == "Bản tin" and "APIC" not in str(raw.keys())
    assert (str(raw["TYER"]), str(raw["TDAT"])) == ("2024", "3112")


def test_id3_rejects_bad_input(tmp_path):
    path = tmp_path / "x.mp3"
    path.write_bytes(b"")
    with pytest.raises(ValueError):
        write_id3(path, title="a", artist="b", cover_jpeg=b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError):
        write_id3(path, title="a", artist="b", date="15/01/2025")
