"""Shared constants, data shapes and errors of the media pipeline."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

SEGMENT_SECONDS = 4
AUDIO_BITRATE = 128_000  # bit/s, AAC-LC stereo 48 kHz
AUDIO_CODECS = "mp4a.40.2"  # RFC 6381 for AAC-LC
MAX_FRAME_RATE = 30
POSTER_MAX_WIDTH = 1280
CHECK_TIMEOUT = 120  # seconds, for the decode check and the poster
MAX_MEDIA_SECONDS = 4 * 3600.0  # default longest media probe() accepts (setting max_media_seconds)

#: Demuxers we accept.  Deliberately absent: hls, concat, image2*, sdp, rtp,
#: rtsp, tee, subfile, data, lavfi, tty, ... (anything that opens other
#: resources or treats bytes as a script).
FORMAT_WHITELIST = (
    "mov,matroska,webm,avi,mpegts,mpeg,flv,asf,wav,w64,mp3,aac,ac3,eac3,"
    "ogg,flac,aiff,mxf,amr,dts,truehd,caf"
)
#: Options given to every ffprobe/ffmpeg input.
INPUT_OPTIONS = {"protocol_whitelist": "file", "format_whitelist": FORMAT_WHITELIST}

# (name, box width, box height, video bit/s) for landscape sources; largest first.
LADDER = (
    ("1080p", 1920, 1080, 4_500_000),
    ("720p", 1280, 720, 2_800_000),
    ("480p", 854, 480, 1_400_000),
    ("360p", 640, 360, 800_000),
)
MIN_VIDEO_BITRATE = 150_000

# H.264 Annex A table A-1: (level, MaxMBPS, MaxFS, MaxBR in 1000 bit/s).
H264_LEVELS = (
    ("2.1", 19_800, 792, 4_000),
    ("2.2", 20_250, 1_620, 4_000),
    ("3.0", 40_500, 1_620, 10_000),
    ("3.1", 108_000, 3_600, 14_000),
    ("3.2", 216_000, 5_120, 20_000),
    ("4.0", 245_760, 8_192, 20_000),
    ("4.1", 245_760, 8_192, 50_000),
    ("4.2", 522_240, 8_704, 50_000),
    ("5.0", 589_824, 22_080, 135_000),
    ("5.1", 983_040, 36_864, 240_000),
)

REASONS = {
    "empty": "Tệp rỗng (0 byte), không có nội dung video hay âm thanh.",
    "text": "Tệp này là văn bản, không phải video hay âm thanh.",
    "not_media": "Tệp này không phải là video hay âm thanh ở định dạng hệ thống đọc được.",
    "truncated": "Tệp MP4 chưa đầy đủ: thiếu phần chỉ mục (moov), có thể do tải lên bị "
    "gián đoạn. Vui lòng tải lại tệp gốc.",
    "truncated_tail": "Tệp chưa đầy đủ: dữ liệu dừng trước thời lượng khai báo, có thể do tải "
    "lên bị gián đoạn. Vui lòng tải lại tệp gốc.",
    "too_long": "Tệp quá dài: nội dung thực tế kéo dài {duration}, vượt thời lượng tối đa "
    "{limit} mà hệ thống nhận. Vui lòng chia thành các phần ngắn hơn.",
    "no_stream": "Tệp không chứa luồng video hay âm thanh nào (ảnh bìa không được tính là video).",
    "zero_duration": "Không xác định được thời lượng của tệp, hoặc thời lượng bằng 0.",
    "undecodable": "Không giải mã được nội dung video/âm thanh trong tệp (định dạng nén "
    "không được hỗ trợ hoặc dữ liệu bị hỏng).",
    "transcode_failed": "Chuyển mã thất bại: ffmpeg báo lỗi khi xử lý tệp.",
    "transcode_incomplete": "Chuyển mã không tạo ra đủ các tệp đầu ra.",
}


class MediaRejected(Exception):
    """The input is not usable media.

    ``code``: "not_media", "no_stream", "zero_duration", "truncated", "too_long" or
    "undecodable";
    ``reason``: a Vietnamese sentence shown to editors.
    """

    def __init__(self, code: str, reason: str):
        super().__init__(f"{code}: {reason}")
        self.code, self.reason = code, reason


class TranscodeError(Exception):
    """ffmpeg failed on an accepted input.

    ``reason``: Vietnamese sentence for editors; ``detail``: tail of ffmpeg's stderr.
    """

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}\n{detail}".strip())
        self.reason, self.detail = reason, detail


@dataclass(frozen=True)
class VideoInfo:
    """The chosen video stream.  Sizes in pixels, ``rotation`` in degrees clockwise
    (0/90/180/270), ``frame_rate`` in frames/s (nominal rate for VFR sources)."""

    index: int
    codec: str
    width: int
    height: int
    display_width: int
    display_height: int
    sample_aspect_ratio: str
    rotation: int
    frame_rate: float
    pix_fmt: str
    bit_depth: int
    interlaced: bool
    variable_frame_rate: bool


@dataclass(frozen=True)
class AudioInfo:
    """The chosen audio stream; ``sample_rate`` in Hz."""

    index: int
    codec: str
    channels: int
    channel_layout: str
    sample_rate: int


@dataclass(frozen=True)
class ProbeResult:
    """What :func:`probe` learnt.  ``duration`` in seconds as the packets span it (not
    the header's claim), ``size`` in bytes,
    ``bit_rate`` in bit/s.  ``cover_art_index`` is an attached picture (cover art),
    which is never counted as video; ``cover_art_size`` its (width, height)."""

    format_name: str
    duration: float
    size: int
    bit_rate: int | None
    video: VideoInfo | None
    audio: AudioInfo | None
    cover_art_index: int | None
    cover_art_size: tuple[int, int] | None = None

    def summary(self) -> dict:
        """JSON-serialisable dict of all fields (nested dicts for streams)."""
        d = dataclasses.asdict(self)
        d["cover_art_size"] = list(self.cover_art_size) if self.cover_art_size else None
        return d


@dataclass(frozen=True)
class Rung:
    """One rendition of the ladder.  Sizes in pixels, rates in bit/s.  The
    "audio" rung of an audio-only source has no video fields (None)."""

    name: str
    width: int | None
    height: int | None
    video_bitrate: int | None
    maxrate: int | None
    bufsize: int | None
    audio_bitrate: int | None
    h264_profile: str | None
    h264_level: str | None


@dataclass(frozen=True)
class RenditionOutput:
    """One variant stream as written.  ``video_bitrate``/``audio_bitrate`` are the
    configured rates, ``bandwidth`` (peak segment bit rate) and ``average_bandwidth``
    are measured (bit/s, RFC 8216 §4.3.4.2).  ``playlist`` is relative to out_dir."""

    name: str
    width: int | None
    height: int | None
    video_bitrate: int | None
    audio_bitrate: int | None
    bandwidth: int
    average_bandwidth: int
    codecs: str
    frame_rate: float | None
    playlist: str


@dataclass(frozen=True)
class TranscodeResult:
    """``out_dir`` absolute; ``master_playlist`` and ``poster`` relative to it;
    ``duration`` in seconds; renditions largest first."""

    out_dir: str
    master_playlist: str
    renditions: list[RenditionOutput]
    poster: str | None
    duration: float


def input_url(path) -> str:
    """``file:`` + absolute path: never lets a name be read as another protocol."""
    return "file:" + str(Path(path).resolve())


def parse_sar(text) -> Fraction:
    """"4:3" -> Fraction(4, 3); missing/invalid/0:1 -> 1."""
    try:
        num, den = (int(x) for x in str(text).split(":"))
        return Fraction(num, den) if num > 0 and den > 0 else Fraction(1)
    except ValueError:
        return Fraction(1)


def display_size(v: VideoInfo) -> tuple[Fraction, Fraction]:
    """Exact display size in pixels: width stretched by the sample aspect ratio, then rotated."""
    w, h = v.width * parse_sar(v.sample_aspect_ratio), Fraction(v.height)
    return (h, w) if v.rotation in (90, 270) else (w, h)


def reject(key: str, code: str | None = None) -> MediaRejected:
    return MediaRejected(code or key, REASONS[key])
