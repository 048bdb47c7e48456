"""subtitles.cues and subtitles.formats: segmentation limits, writers, HLS, upload reader."""

from __future__ import annotations

import codecs
import random
import re
import time
import unicodedata

import m3u8
import pytest

from subtitles import (
    Cue, CueLimits, SubtitleFormatError, Word, hls_subtitle_playlist, hls_webvtt_segments,
    read_subtitles, segment, to_srt, to_text, to_webvtt,
)
from subtitles.cues import split_lines

TEXT = ("Theo Luật Trật tự, an toàn giao thông đường bộ năm 2024, người điều khiển xe mô tô "
        "phải đội mũ bảo hiểm. Người điều khiển phương tiện mà trong máu hoặc hơi thở có nồng "
        "độ cồn sẽ bị xử phạt vi phạm hành chính. Sở Tư pháp phối hợp với Ủy ban nhân dân xã "
        "tổ chức hòa giải ở cơ sở cho người dân. Xin chào. Hôm nay chúng ta tìm hiểu về Luật "
        "Hòa giải ở cơ sở")


def timed(text: str = TEXT, start: float = 0.5, pause: float = 0.8) -> list[Word]:
    words, t = [], start
    for w in text.split():
        d = 0.1 + 0.05 * len(w)
        words.append(Word(round(t, 3), round(t + d, 3), w))
        t += d + (pause if w.endswith(".") else 0.05)
    return words


def check_cues(cues: list[Cue], limits: CueLimits = CueLimits(), duration: float | None = None,
               words: list[Word] | None = None) -> None:
    """Every rule of the segmentation contract."""
    previous_end = None
    for cue in cues:
        assert 0 <= cue.start < cue.end, cue
        if duration is not None:
            assert cue.end <= duration + 1e-9, cue
        assert cue.end - cue.start <= limits.max_duration + 1e-9, cue
        lines = cue.text.split("\n")
        assert 0 < len(lines) <= limits.max_lines, cue
        for line in lines:
            assert line == line.strip() and line, cue
            assert len(line) <= limits.max_line_chars or " " not in line, cue
        assert unicodedata.is_normalized("NFC", cue.text)
        if previous_end is not None:
            assert cue.start >= previous_end + limits.min_gap - 1e-9, (previous_end, cue)
        previous_end = cue.end
    if words is not None:  # words are never cut or lost
        assert " ".join(c.text.replace("\n", " ") for c in cues) == " ".join(w.text for w in words)


# ---------------------------------------------------------------- cues


def test_segment_limits_and_breaks():
    words = timed()
    cues = segment(words, duration=40.0)
    check_cues(cues, duration=40.0, words=words)
    # sentences end cues: no cue runs across "mũ bảo hiểm. Người" (0.8 s pause)
    assert any(c.text.endswith("mũ bảo hiểm.") for c in cues)
    assert all(1.0 - 1e-9 <= c.end - c.start for c in cues)
    # two-line cues are balanced
    for c in cues:
        lines = c.text.split("\n")
        if len(lines) == 2:
            assert abs(len(lines[0]) - len(lines[1])) <= 20, c


def test_reading_speed_extends_into_silence_without_overlap():
    # 70 characters spoken in 1.5 s, then 5 s of silence: the cue stays up 70/20 = 3.5 s
    words = timed("Người điều khiển phương tiện có nồng độ cồn sẽ bị xử phạt hành chính.",
                  start=1.0)
    words = [Word(1.0 + i * 1.5 / len(words), 1.0 + (i + 1) * 1.5 / len(words), w.text)
             for i, w in enumerate(words)]
    [cue] = segment(words, duration=10)
    assert cue.end - cue.start == pytest.approx(len(cue.text) / 20, abs=0.01)
    # the same with the next sentence right after: extended only up to it, minus the gap
    nxt = [Word(3.0 + i * 0.3, 3.3 + i * 0.3, w)
           for i, w in enumerate("Sở Tư pháp phối hợp với Ủy ban nhân dân.".split())]
    cues = segment(words + nxt, duration=10)
    assert cues[0].end == pytest.approx(3.0 - 0.08) and cues[1].start == 3.0
    check_cues(cues, duration=10)


def test_segment_edge_cases():
    assert segment([]) == []
    assert segment([Word(0.0, 0.2, "  ")]) == []
    # a lone short word gets a 1 s cue (starting earlier if it must), within the media
    assert segment([Word(0.1, 0.3, "Vâng.")], duration=0.5) == [Cue(0.0, 0.5, "Vâng.")]
    assert segment([Word(5.1, 5.3, "Vâng.")]) == [Cue(5.1, 6.1, "Vâng.")]
    # zero-length and out-of-order words, words past the end of the media
    words = [Word(1.0, 1.0, "a"), Word(0.9, 0.9, "b"), Word(1.0, 1.0, "c."),
             Word(2.0, 2.5, "xin"), Word(12.0, 13.0, "ngoài")]
    cues = segment(words, duration=10.0)
    check_cues(cues, duration=10.0)
    # a word longer than a line is never cut
    url = "https://sotuphap.example.gov.vn/van-ban/luat-trat-tu-an-toan-giao-thong"
    cues = segment([Word(0, 1, "Xem"), Word(1, 2, url), Word(2, 3, "nhé.")])
    assert url in [line for c in cues for line in c.text.split("\n")]
    check_cues(cues)
    # NFD input comes out NFC
    [cue] = segment([Word(0, 1, unicodedata.normalize("NFD", "Tòa án"))])
    assert cue.text == "Tòa án"


def test_segment_configurable_limits():
    limits = CueLimits(max_line_chars=20, max_lines=1, max_duration=3.0, min_gap=0.2)
    words = timed()
    cues = segment(words, limits)
    check_cues(cues, limits, words=words)
    assert max(len(c.text) for c in cues) <= 20


def test_segment_long_random_input_is_fast():
    rng = random.Random(7)
    vocab = TEXT.split()
    words, t = [], 0.0
    for _ in range(20_000):  # ~2 hours of speech
        w = rng.choice(vocab)
        d = 0.1 + 0.04 * len(w)
        words.append(Word(round(t, 3), round(t + d, 3), w))
        t += d + rng.choice([0.0, 0.02, 0.05, 0.1, 0.5, 1.5, 4.0])
    started = time.perf_counter()
    cues = segment(words, duration=t)
    assert time.perf_counter() - started < 5
    check_cues(cues, duration=t, words=words)


def test_split_lines_balanced():
    assert split_lines("Tòa án nhân dân".split()) == ["Tòa án nhân dân"]
    first, second = split_lines("người điều khiển xe mô tô phải đội mũ bảo hiểm.".split())
    assert (first, second) == ("người điều khiển xe mô tô", "phải đội mũ bảo hiểm.")


# ---------------------------------------------------------------- writers

CUES = [Cue(1.0, 2.5, "Luật & Nghị định <số 100>\nđiều 5 -> khoản 2"),
        Cue(3.0, 3661.042, "Tòa án nhân dân")]


def test_webvtt_escaping_and_timing():
    vtt = to_webvtt(CUES)
    assert vtt.startswith("WEBVTT\n\n")
    assert "Luật &amp; Nghị định &lt;số 100&gt;\nđiều 5 -&gt; khoản 2\n" in vtt
    assert "00:00:01.000 --> 00:00:02.500" in vtt and "00:00:03.000 --> 01:01:01.042" in vtt
    assert "<" not in vtt.replace("-->", "")
    assert read_subtitles(vtt.encode()) == CUES  # round trip


def test_srt_comma_milliseconds():
    srt = to_srt(CUES)
    assert srt.startswith("1\n00:00:01,000 --> 00:00:02,500\nLuật & Nghị định <số 100>\n")
    assert "2\n00:00:03,000 --> 01:01:01,042\nTòa án nhân dân\n" in srt
    assert not srt.startswith("\ufeff")


def test_empty_outputs_are_valid():
    assert to_webvtt([]) == "WEBVTT\n\n"
    assert read_subtitles(b"WEBVTT\n\n") == []
    assert to_srt([]) == "" and to_text([]) == ""


def test_text_transcript():
    cues = [Cue(0, 1, "Xin chào\nquý vị."), Cue(1.1, 2, "Hôm nay"), Cue(2.1, 3, "ta học luật.")]
    assert to_text(cues) == "Xin chào quý vị.\nHôm nay ta học luật.\n"


def test_hls_webvtt_rendition():
    cues = [Cue(0.5, 3.0, "một"), Cue(3.5, 5.0, "hai & ba"), Cue(9.0, 9.9, "bốn")]
    files = hls_webvtt_segments(cues, 4, 10.0)
    assert [name for name, _ in files] == ["sub_00000.vtt", "sub_00001.vtt", "sub_00002.vtt"]
    for _, text in files:
        assert text.startswith("WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000\n\n")
    assert "một" in files[0][1] and "hai &amp; ba" in files[0][1]  # 3.5-5.0 overlaps both
    assert "hai &amp; ba" in files[1][1] and "một" not in files[1][1]
    assert "bốn" in files[2][1]
    playlist = m3u8.loads(hls_subtitle_playlist(4, 10.0))
    assert playlist.is_endlist and playlist.playlist_type == "vod"
    assert playlist.target_duration == 4
    assert [s.uri for s in playlist.segments] == [name for name, _ in files]
    assert [s.duration for s in playlist.segments] == [4, 4, 2]
    # exact video segment durations, other MPEG-TS start
    files = hls_webvtt_segments(cues, [4.004, 4.004, 1.992], 10.0, mpegts=900_000)
    assert all("X-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000" in t for _, t in files)
    playlist = m3u8.loads(hls_subtitle_playlist([4.004, 4.004, 1.992], 10.0))
    assert [s.duration for s in playlist.segments] == [4.004, 4.004, 1.992]
    assert playlist.target_duration == 4
    # no cues: every segment is still a valid, empty WebVTT file
    assert all(re.fullmatch(r"WEBVTT\nX-TIMESTAMP-MAP=[^\n]+\n\n", t)
               for _, t in hls_webvtt_segments([], 4, 9))


# ---------------------------------------------------------------- reader

SRT_VI = ("1\n00:00:01,000 --> 00:00:03,500\nLuật Trật tự, an toàn giao thông đường bộ\n"
          "người điều khiển phải đội mũ bảo hiểm\n\n"
          "2\n00:00:04,000 --> 00:00:06,000\nỦy ban nhân dân xã tổ chức hòa giải ở cơ sở.\n\n")
EXPECTED = [Cue(1.0, 3.5, "Luật Trật tự, an toàn giao thông đường bộ\n"
                          "người điều khiển phải đội mũ bảo hiểm"),
            Cue(4.0, 6.0, "Ủy ban nhân dân xã tổ chức hòa giải ở cơ sở.")]


def cp1258(text: str) -> bytes:
    """Encode like Windows Vietnamese editors: base letters (with ^, breve, horn) from the
    code page, tone marks as combining characters."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        try:
            out.append(ch.encode("cp1258"))
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", ch)
        tones = [m for m in marks if m in "\u0300\u0301\u0303\u0309\u0323"]
        rest = "".join(m for m in marks if m not in tones)
        out.append((unicodedata.normalize("NFC", base + rest) + "".join(tones)).encode("cp1258"))
    return b"".join(out)


@pytest.mark.parametrize("encode", [
    pytest.param(lambda s: s.encode(), id="utf8"),
    pytest.param(lambda s: codecs.BOM_UTF8 + s.encode(), id="utf8-bom"),
    pytest.param(lambda s: unicodedata.normalize("NFD", s).encode(), id="nfd"),
    pytest.param(lambda s: s.replace("\n", "\r\n").encode(), id="crlf"),
    pytest.param(lambda s: s.replace("\n", "\r").encode(), id="cr"),
    pytest.param(cp1258, id="windows-1258"),
    pytest.param(lambda s: s.encode("utf-16"), id="utf16-native-bom"),
    pytest.param(lambda s: codecs.BOM_UTF16_LE + s.encode("utf-16-le"), id="utf16le-bom"),
    pytest.param(lambda s: codecs.BOM_UTF16_BE + s.encode("utf-16-be"), id="utf16be-bom"),
    pytest.param(lambda s: codecs.BOM_UTF16_LE + s.replace("\n", "\r\n").encode("utf-16-le"),
                 id="utf16le-bom-crlf"),
])
def test_read_srt_encodings(encode):
    data = encode(SRT_VI)
    if encode is cp1258:
        assert b"\xcc" in data or b"\xec" in data or b"\xd2" in data  # combining tones
    cues = read_subtitles(data, "phu-de.srt")
    assert cues == EXPECTED
    assert all(unicodedata.is_normalized("NFC", c.text) for c in cues)


def test_read_windows_1258_combining_marks_become_nfc():
    data = cp1258(SRT_VI)
    assert "ệ".encode("cp1258", errors="replace") == b"?"  # not in the code page precomposed
    assert read_subtitles(data) == EXPECTED


VTT = ("WEBVTT - Sở Tư pháp\nKind: captions\n\nNOTE soạn ngày 1/1\n\n"
       "intro\n00:01.000 --> 00:03.500 align:start position:10%\n"
       "<v Người dẫn>Luật Trật tự, an toàn giao thông đường bộ</v>\n"
       "người điều khiển phải đội <b>mũ bảo hiểm</b>\n\n"
       "00:00:04.000 --> 00:00:06.000\nỦy ban nhân dân xã tổ chức hòa giải ở cơ sở.\n\n"
       "00:00:07.000 --> 00:00:08.000\nA &amp; B &lt;1&gt; <00:00:07.500>C\n")


def test_read_webvtt():
    cues = read_subtitles(VTT.encode())
    assert cues[:2] == EXPECTED
    assert cues[2] == Cue(7.0, 8.0, "A & B <1> C")


def test_read_webvtt_without_header():
    body = VTT.split("\n\n", 2)[2]  # drop the header and the NOTE block
    assert read_subtitles(body.encode())[:2] == EXPECTED
    assert read_subtitles(body.encode(), "x.vtt")[:2] == EXPECTED


def test_read_sorts_and_clamps():
    srt = ("1\n00:00:08,000 --> 00:00:12,000\nsau\n\n"
           "2\n00:00:01,000 --> 00:00:02,000\ntrước\n\n"
           "3\n00:00:20,000 --> 00:00:21,000\nngoài video\n\n"
           "4\n00:00:03,000 --> 00:00:03,000\nrỗng thời gian\n\n")
    cues = read_subtitles(srt.encode(), duration=10.0)
    assert cues == [Cue(1.0, 2.0, "trước"), Cue(8.0, 10.0, "sau")]


@pytest.mark.parametrize("data", [
    b"",
    b"   \r\n",
    bytes(random.Random(3).randrange(256) for _ in range(3000)),
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200),
    "Biên bản họp ngày 1/1/2025\nKhông phải phụ đề.\n".encode(),
    b"\xef\xbb\xbf\xff\xfe\xfa garbage \xc3\x28",
    b"1\n00:00:05,000 --> 00:00:02,000\nng\xc6\xb0\xe1\xbb\xa3c\n",  # ends before it starts
])
def test_read_garbage_raises(data):
    with pytest.raises(SubtitleFormatError) as exc:
        read_subtitles(data)
    message = str(exc.value)
    assert message and unicodedata.is_normalized("NFC", message)
    assert re.search(r"[àáảãạăâđêôơư]", message.lower())  # Vietnamese, for the editor
