"""The 24/7 legal-TV channel: VOD segments of library items stitched into a live HLS
stream (RFC 8216) without re-encoding, with its programme guide.

Pure library code: ``timeline`` plans blocks from a schedule and a clock, ``playlists``
renders master/media playlists, ``guide`` the XMLTV/M3U/now-next views.  Storage of the
schedule, routes and tasks are the web app's.
"""

from .guide import FILLER_TITLE, guide_programmes, m3u, now_next, xmltv
from .playlists import (
    ChannelProfile, Variant, master_playlist, media_playlist, program_date_time,
    seconds_until_next_change,
)
from .timeline import (
    FILLER, PROGRAMME, SUBTITLES, Anchor, Block, ChannelError, SegmentRef, Source, Timeline,
    find_overlaps, max_lateness, plan, replan, validate_schedule, vod_segments,
)

__all__ = [
    "FILLER", "FILLER_TITLE", "PROGRAMME", "SUBTITLES", "Anchor", "Block", "ChannelError",
    "ChannelProfile", "SegmentRef", "Source", "Timeline", "Variant", "find_overlaps",
    "guide_programmes", "m3u", "master_playlist", "max_lateness", "media_playlist", "now_next",
    "plan", "program_date_time", "replan", "seconds_until_next_change", "validate_schedule",
    "vod_segments", "xmltv",
]
