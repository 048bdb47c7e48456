"""ffmpeg pipeline: probe untrusted uploads, plan an H.264 ladder, transcode to HLS VOD.

A plain library working on local paths; it knows nothing of the web app, the
task queue, the database or storage.  Every ffprobe/ffmpeg input is opened as
``file:<absolute path>`` with ``protocol_whitelist=file`` and a whitelist of
ordinary container demuxers (see :data:`INPUT_OPTIONS`), so a hostile upload
(an HLS playlist, a concat script, an image sequence pattern...) cannot make
ffmpeg read other files or reach the network.

Output follows RFC 8216 (HTTP Live Streaming): MPEG-TS media segments and
media playlists written by ffmpeg's ``hls`` muxer, the master playlist written
here with the ``m3u8`` library.
"""

from __future__ import annotations

from .burn import burn_in
from .conform import conform, slate
from .hls import ladder_command, transcode
from .ladder import h264_level, output_frame_rate, plan_ladder
from .model import (
    AUDIO_BITRATE, FORMAT_WHITELIST, INPUT_OPTIONS, LADDER, MAX_MEDIA_SECONDS, SEGMENT_SECONDS, AudioInfo,
    MediaRejected, ProbeResult, RenditionOutput, Rung, TranscodeError, TranscodeResult, VideoInfo,
)
from .probe import probe

__all__ = [
    "AUDIO_BITRATE", "FORMAT_WHITELIST", "INPUT_OPTIONS", "LADDER", "MAX_MEDIA_SECONDS", "SEGMENT_SECONDS",
    "AudioInfo", "MediaRejected", "burn_in", "conform", "slate", "ProbeResult", "RenditionOutput", "Rung", "TranscodeError",
    "TranscodeResult", "VideoInfo", "h264_level", "ladder_command", "output_frame_rate",
    "plan_ladder", "probe", "transcode",
]
