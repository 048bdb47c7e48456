"""Subtitle tracks: revisions from recognition or editors, review, and their HLS
WebVTT rendition in the item's master playlist (RFC 8216 §4.3.4.1)."""

from __future__ import annotations

import unicodedata

import m3u8
from sqlalchemy.orm import Session

from media_hub.accounts.models import User
from media_hub.captions.models import CueSource, SubtitleRevision, SubtitleTrack, TrackStatus
from media_hub.legal.service import search_text
from media_hub.library.models import MediaItem
from storage import Storage
from subtitles.cues import Cue, CueLimits
from subtitles.formats import hls_subtitle_playlist, hls_webvtt_segments, to_text

LANGUAGE_NAMES = {"vi": "Tiếng Việt"}
LIMITS = CueLimits()  # what viewers can read: the same limits the segmenter keeps
SUBTITLE_GROUP = "subs"
PLAYLIST_CACHE = "public, max-age=60"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


def track_for(item: MediaItem, language: str) -> SubtitleTrack | None:
    return next((t for t in item.subtitle_tracks if t.language == language), None)


def _cues(revision) -> list[Cue]:
    return [Cue(float(s), float(e), t) for s, e, t in revision.cues] if revision is not None else []


def cues_of(track: SubtitleTrack | None) -> list[Cue]:
    """The newest revision's cues (what editors work on)."""
    return _cues(track.current) if track is not None else []


def reviewed_cues(track: SubtitleTrack | None) -> list[Cue]:
    """The reviewed revision's cues (what viewers see); [] when none is reviewed."""
    return _cues(track.reviewed) if track is not None else []


def validate(cues: list[Cue], duration: float | None) -> list[Cue]:
    """Cues typed by a person, strictly: NFC text, 0 ≤ start < end ≤ duration, in order,
    no overlap, no empty text. Raises ``ValueError`` with Vietnamese reasons (cue numbers
    from 1)."""
    problems, out = [], []
    for n, c in enumerate(sorted(cues, key=lambda c: (c.start, c.end)), 1):
        text = unicodedata.normalize("NFC", c.text).strip()
        if not text:
            problems.append(f"câu {n}: chưa có chữ")
        if not 0 <= c.start < c.end:
            problems.append(f"câu {n}: thời điểm bắt đầu phải trước thời điểm kết thúc")
        if duration and c.end > duration + 0.001:
            problems.append(f"câu {n}: kết thúc sau khi video đã hết ({duration:.3f} s)")
        if out and c.start < out[-1].end:
            problems.append(f"câu {n}: trùng thời gian với câu {n - 1}")
        lines = text.split("\n")
        if len(lines) > LIMITS.max_lines or any(len(line) > LIMITS.max_line_chars for line in lines):
            problems.append(f"câu {n}: tối đa {LIMITS.max_lines} dòng, mỗi dòng không quá "
                            f"{LIMITS.max_line_chars} ký tự")
        out.append(Cue(round(c.start, 3), round(c.end, 3), text))
    if problems:
        raise ValueError("Phụ đề chưa hợp lệ: " + "; ".join(problems[:10]) + ".")
    return out


def clamp(cues: list[Cue], duration: float | None) -> list[Cue]:
    """Cues in order with 0 ≤ start < end ≤ duration; cues outside the media are dropped."""
    out = []
    for c in sorted(cues, key=lambda c: (c.start, c.end)):
        start, end = max(0.0, c.start), min(c.end, duration) if duration else c.end
        if end > start and c.text.strip():
            out.append(Cue(round(start, 3), round(end, 3), c.text))
    return out


def save_revision(
    session: Session, item: MediaItem, language: str, cues: list[Cue], source: CueSource, author: User | None = None
) -> tuple[SubtitleTrack, bool]:
    """Store ``cues`` as a new revision of the item's ``language`` track.

    Returns ``(track, shown)``: a recognition result never replaces a track an editor
    has touched (it is kept as a revision but not shown, ``shown`` False). A new shown
    revision makes the track a draft again, updates the item's transcript and search text.
    The caller commits and then calls :func:`publish_hls`.
    """
    track = track_for(item, language)
    if track is None:
        track = SubtitleTrack(language=language, source=source, status=TrackStatus.draft, revision=0)
        item.subtitle_tracks.append(track)
    number = max((r.number for r in track.revisions), default=0) + 1
    cues = clamp(cues, item.duration)
    track.revisions.append(
        SubtitleRevision(number=number, source=source, cues=[list(c) for c in cues], author=author)
    )
    edited = any(r.source == CueSource.editor for r in track.revisions)
    if source == CueSource.asr and edited:
        return track, False
    track.revision, track.source, track.status = number, source, TrackStatus.draft
    item.subtitle_note = None
    _update_transcript(item, track)
    session.flush()
    return track, True


def _update_transcript(item: MediaItem, track: SubtitleTrack) -> None:
    """The item's transcript: the reviewed text once there is one, else the draft (for
    staff); the search text indexes only reviewed revisions."""
    item.transcript = to_text(reviewed_cues(track) or cues_of(track))
    item.search_text = search_text(item)


def media_segment_durations(store: Storage, item: MediaItem) -> list[float]:
    """EXTINF durations (s) of the item's first rendition, to align subtitle segments."""
    rendition = item.renditions[0]
    playlist = m3u8.loads(store.read_bytes(rendition.playlist_key).decode())
    return [s.duration for s in playlist.segments]


def publish_hls(store: Storage, item: MediaItem) -> None:
    """Write each track's reviewed revision as a WebVTT HLS rendition next to the item's
    ladder and rewrite the master playlist with a SUBTITLES group that every variant
    refers to; drafts are never shown to viewers."""
    if item.master_key is None or not item.renditions:
        return
    base = item.master_key.rsplit("/", 1)[0]
    durations = media_segment_durations(store, item)
    master = m3u8.loads(store.read_bytes(item.master_key).decode())
    master.media = m3u8.model.MediaList([m for m in master.media if m.type != "SUBTITLES"])
    listed = []
    for track in item.subtitle_tracks:
        if track.reviewed is None:
            continue
        prefix = f"{base}/subs/{track.language}-r{track.reviewed_revision}"
        if track.hls_prefix != prefix:
            for name, text in hls_webvtt_segments(reviewed_cues(track), durations, item.duration or sum(durations)):
                store.put_bytes(f"{prefix}/{name}", text.encode(), content_type="text/vtt", cache_control=IMMUTABLE_CACHE)
            playlist = hls_subtitle_playlist(durations, item.duration or sum(durations))
            store.put_bytes(f"{prefix}/index.m3u8", playlist.encode(), cache_control=PLAYLIST_CACHE)
            track.hls_prefix = prefix
        media = m3u8.Media(
            uri=f"subs/{track.language}-r{track.reviewed_revision}/index.m3u8", type="SUBTITLES",
            group_id=SUBTITLE_GROUP, language=track.language, name=LANGUAGE_NAMES.get(track.language, track.language),
            default="YES" if not listed else "NO", autoselect="YES",
        )
        master.add_media(media)
        listed.append(media)
    for variant in master.playlists:  # the m3u8 model renders SUBTITLES="…" from variant.media
        variant.media = [m for m in variant.media if m.type != "SUBTITLES"] + listed[:1]
    store.put_bytes(item.master_key, master.dumps().encode(), cache_control=PLAYLIST_CACHE)


def mark_reviewed(item: MediaItem, track: SubtitleTrack) -> None:
    """The newest revision becomes the one viewers see."""
    track.status, track.reviewed_revision = TrackStatus.reviewed, track.revision
    _update_transcript(item, track)
