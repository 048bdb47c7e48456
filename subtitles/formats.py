"""Subtitle files: WebVTT (W3C WebVTT), SubRip, plain text, HLS WebVTT renditions
(RFC 8216), and a tolerant reader for editor uploads.  Built on pysubs2 and m3u8.

Writers return ``str``; the caller encodes it as UTF-8 without BOM.  Times are seconds.
"""

from __future__ import annotations

import codecs
import html
import math
import re
from typing import Iterable, Sequence

import m3u8
import pysubs2

from subtitles._text import nfc
from subtitles.cues import Cue


class SubtitleFormatError(ValueError):
    """An uploaded subtitle file cannot be decoded or parsed; ``str(error)`` is a
    Vietnamese message for the editor."""


def _subs(cues: Iterable[Cue], escape: bool) -> pysubs2.SSAFile:
    subs = pysubs2.SSAFile()
    for cue in cues:
        lines = [" ".join(line.split()) for line in cue.text.split("\n")]
        text = "\n".join(line for line in lines if line)
        if escape:  # WebVTT cue text: & < > are markup (W3C WebVTT §4.2.2, "cue text")
            text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        # pysubs2 keeps ASS markup: "\N" is its line break; a literal "\n"/"\N"/"\h" in the
        # text would be taken as markup, so the backslash gets a word joiner after it.
        text = re.sub(r"\\(?=[nNh])", "\\\u2060", text).replace("\n", r"\N")
        subs.append(pysubs2.SSAEvent(start=round(cue.start * 1000), end=round(cue.end * 1000),
                                     text=text))
    return subs


def to_webvtt(cues: Iterable[Cue]) -> str:
    """A WebVTT file: ``WEBVTT`` header, numbered cues ``HH:MM:SS.mmm --> HH:MM:SS.mmm``,
    ``&``, ``<`` and ``>`` escaped as ``&amp;``, ``&lt;``, ``&gt;``."""
    return nfc(_subs(cues, escape=True).to_string("vtt", keep_ssa_tags=True))


def to_srt(cues: Iterable[Cue]) -> str:
    """A SubRip file: numbered cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm``, text as is
    (SubRip has no escaping).  No cues gives an empty string."""
    return nfc(_subs(cues, escape=False).to_string("srt", keep_ssa_tags=True))


def to_text(cues: Iterable[Cue]) -> str:
    """Plain transcript: the cue texts joined with spaces, one paragraph per sentence
    group (a new line after a cue that ends a sentence)."""
    out, line = [], []
    for cue in cues:
        line.append(" ".join(cue.text.split()))
        if line[-1].endswith((".", "?", "!", "…")):
            out.append(" ".join(line))
            line = []
    if line:
        out.append(" ".join(line))
    return "\n".join(out) + ("\n" if out else "")


# ------------------------------------------------------------------ HLS


def _segment_times(segment_duration: float | Sequence[float],
                   total_duration: float) -> list[tuple[float, float]]:
    """``[(start, duration), ...]`` of the media segments, seconds rounded to ms."""
    if isinstance(segment_duration, (int, float)):
        if segment_duration <= 0:
            raise ValueError("segment_duration must be positive")
        count = max(1, math.ceil(total_duration / segment_duration - 1e-9))
        durations = [min(segment_duration, total_duration - i * segment_duration)
                     for i in range(count)]
    else:
        durations = list(segment_duration)
    out, start = [], 0.0
    for d in durations:
        out.append((round(start, 3), round(float(d), 3)))
        start += float(d)
    return out


def hls_webvtt_segments(cues: Sequence[Cue], segment_duration: float | Sequence[float],
                        total_duration: float, *, mpegts: int = 126_000,
                        name: str = "sub_{:05d}.vtt") -> list[tuple[str, str]]:
    """Split cues into WebVTT segment files for an HLS subtitle rendition
    (RFC 8216 §3.5): ``[(filename, vtt_text), ...]``, one per video segment.

    ``segment_duration``: the video's target segment length (s), or the list of the
    actual video segment durations (the EXTINF values) so that subtitle segments line up
    exactly.  A cue is written in every segment it overlaps (players drop duplicates).
    Cue times stay relative to the start of the media.

    Each file starts with ``X-TIMESTAMP-MAP=MPEGTS:<mpegts>,LOCAL:00:00:00.000``: WebVTT
    time 0 corresponds to 90 kHz presentation time ``mpegts`` of the media segments.
    ffmpeg's MPEG-TS muxer starts the first PTS at 1.4 s (its default ``muxdelay`` 0.7 s
    plus preload), i.e. 126000, so that is the default; for other packaging pass the
    first PTS of the first video segment (e.g. ``ffprobe -show_entries
    packet=pts -read_intervals %+#1``), or 0 for fMP4 starting at 0."""
    files = []
    for index, (start, length) in enumerate(_segment_times(segment_duration, total_duration)):
        inside = [c for c in cues if c.end > start and c.start < start + length]
        body = to_webvtt(inside)
        header = f"WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:{mpegts},LOCAL:00:00:00.000\n"
        files.append((name.format(index), header + body[len("WEBVTT\n"):]))
    return files


def hls_subtitle_playlist(segment_duration: float | Sequence[float], total_duration: float,
                          *, name: str = "sub_{:05d}.vtt") -> str:
    """The RFC 8216 VOD media playlist of the WebVTT rendition whose files
    :func:`hls_webvtt_segments` makes with the same arguments (EXT-X-TARGETDURATION, one
    EXTINF per segment, EXT-X-ENDLIST).  The master playlist refers to it with
    ``#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",LANGUAGE="vi",NAME="Tiếng Việt",URI=...``
    and ``SUBTITLES="subs"`` on each variant."""
    playlist = m3u8.M3U8()
    playlist.version = 3
    playlist.playlist_type = "vod"
    playlist.media_sequence = 0
    playlist.is_endlist = True
    times = _segment_times(segment_duration, total_duration)
    playlist.target_duration = max(1, max(round(d) for _, d in times))  # RFC 8216 §4.3.3.1
    for index, (_, length) in enumerate(times):
        playlist.segments.append(m3u8.Segment(uri=name.format(index), duration=length))
    return playlist.dumps()


# ------------------------------------------------------------------ reading

_TIMING = re.compile(r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}\s*-->\s*(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}")
_VTT_TIMING = re.compile(r"^\s*(?:\d+:)?\d{2}:\d{2}\.\d{3}\s*-->", re.M)


def _decode(data: bytes) -> str:
    for bom, codec in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"),
                       (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                       (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(codec)
            except UnicodeDecodeError as exc:
                raise SubtitleFormatError(
                    f"Tệp phụ đề có dấu BOM {codec.upper()} nhưng nội dung không đúng mã "
                    "này.") from exc
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) * 3 >= len(sample):  # UTF-16 without BOM
        codec = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        try:
            return data.decode(codec)
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")  # Windows-1258 (Vietnamese), decomposed tones
    except UnicodeDecodeError as exc:
        raise SubtitleFormatError(
            "Không đọc được tệp phụ đề: mã hóa ký tự không phải UTF-8, UTF-16 hay "
            "Windows-1258. Hãy lưu lại tệp dưới dạng UTF-8.") from exc


def _clean_vtt(text: str) -> str:
    """Keep only the cue blocks of a WebVTT file (drop header, NOTE/STYLE/REGION blocks
    and cue identifiers) so the SubRip-style parser sees timing lines and cue text."""
    blocks = re.split(r"\n[ \t]*\n", text)
    out = []
    for block in blocks:
        lines = block.split("\n")
        for k, line in enumerate(lines):
            if "-->" in line:
                out.append("\n".join(lines[k:]))
                break
    return "\n\n".join(out) + "\n"


def read_subtitles(data: bytes, filename_hint: str | None = None,
                   duration: float | None = None) -> list[Cue]:
    """Parse an uploaded SubRip or WebVTT file into cues sorted by start time.

    Accepts UTF-8 (with or without BOM), UTF-16 LE/BE, Windows-1258, CRLF or CR line ends,
    a WebVTT file without its ``WEBVTT`` header, ``MM:SS.mmm`` timings.  Text is NFC, one
    ``"\\n"`` between lines, markup tags removed, WebVTT character references decoded.
    Cues are clamped to ``0 ≤ start < end ≤ duration`` (``duration`` in seconds, if
    given); cues that are empty or lie wholly after ``duration`` are dropped.

    Raises :class:`SubtitleFormatError` (Vietnamese message) when the bytes cannot be
    decoded, no cue is found, or a cue ends before it starts."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise SubtitleFormatError("Tệp phụ đề rỗng.")
    text = nfc(_decode(data)).replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    if "\x00" in text or re.search(r"[\x01-\x08\x0e-\x1f]", text):
        raise SubtitleFormatError("Tệp tải lên không phải là tệp phụ đề dạng văn bản "
                                  "(SRT hoặc WebVTT).")
    is_vtt = (text.lstrip().startswith("WEBVTT")
              or (filename_hint or "").lower().endswith(".vtt")
              or bool(_VTT_TIMING.search(text)) and not re.search(r"\d,\d{3}\s*-->", text))
    if is_vtt:
        if re.match(r"\s*WEBVTT(?:[ \t][^\n]*)?\n*$", text):
            return []  # a valid WebVTT file without cues
        text = _clean_vtt(text)
    if not _TIMING.search(text):
        raise SubtitleFormatError("Không tìm thấy dòng thời gian nào (dạng "
                                  "00:00:01,000 --> 00:00:03,000) trong tệp: tệp không phải "
                                  "SRT hay WebVTT hợp lệ.")
    try:
        subs = pysubs2.SSAFile.from_string(text, format_="vtt" if is_vtt else "srt")
    except Exception as exc:  # pysubs2 raises assorted errors on malformed input
        raise SubtitleFormatError(f"Không phân tích được tệp phụ đề: {exc}") from exc
    cues = []
    for number, event in enumerate(subs, 1):
        body = event.plaintext.replace("\\\u2060", "\\")  # undo the writers' "\\N" guard
        if is_vtt:
            body = html.unescape(re.sub(r"<\d[^>]*>", "", body))
        lines = [" ".join(line.split()) for line in body.split("\n")]
        body = nfc("\n".join(line for line in lines if line))
        start, end = event.start / 1000, event.end / 1000
        if end < start:
            raise SubtitleFormatError(
                f"Phụ đề thứ {number} kết thúc ({_clock(end)}) trước khi bắt đầu "
                f"({_clock(start)}).")
        start = max(start, 0.0)
        if duration is not None:
            end = min(end, duration)
        if body and end > start:
            cues.append(Cue(start, end, body))
    if not cues and not subs:
        raise SubtitleFormatError("Tệp phụ đề không có câu phụ đề nào đọc được.")
    cues.sort(key=lambda c: (c.start, c.end))
    return cues


def _clock(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"
