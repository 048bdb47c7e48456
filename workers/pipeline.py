"""From an original file to published HLS outputs in blob storage.

Plain Python: probes and transcodes with :mod:`workers.media`, then copies the
outputs to storage under a prefix chosen by the caller. No Celery, no database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from storage import Storage
from workers import media

PLAYLIST_CACHE = "public, max-age=60"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class PublishedRendition:
    output: media.RenditionOutput
    playlist_key: str


@dataclass(frozen=True)
class PublishedMedia:
    """Storage keys of one finished transcode."""

    probe: media.ProbeResult
    master_key: str
    poster_key: str | None
    renditions: list[PublishedRendition]


def process_original(
    source: Path,
    work_dir: Path,
    store: Storage,
    prefix: str,
    on_progress: Callable[[float], None] = lambda _f: None,
    max_seconds: float = media.MAX_MEDIA_SECONDS,
) -> PublishedMedia:
    """Probe ``source``, transcode the HLS ladder into ``work_dir`` and upload it under ``prefix``.

    Progress (0..1) is reported as probe 2 %, transcode up to 90 %, upload the rest.
    Raises :class:`workers.media.MediaRejected` for unusable input (``too_long``: its
    packets span more than ``max_seconds`` seconds) and
    :class:`workers.media.TranscodeError` when ffmpeg fails.
    """
    probe = media.probe(source, max_seconds)
    on_progress(0.02)
    result = media.transcode(source, probe, work_dir, on_progress=lambda f: on_progress(0.02 + 0.88 * f))
    out_dir = Path(result.out_dir)
    files = sorted(p for p in out_dir.rglob("*") if p.is_file())
    for n, path in enumerate(files, 1):
        rel = path.relative_to(out_dir).as_posix()
        cache = PLAYLIST_CACHE if rel.endswith(".m3u8") else IMMUTABLE_CACHE
        store.put_file(f"{prefix}/{rel}", path, cache_control=cache)
        on_progress(0.9 + 0.1 * n / len(files))
    return PublishedMedia(
        probe=probe,
        master_key=f"{prefix}/{result.master_playlist}",
        poster_key=f"{prefix}/{result.poster}" if result.poster else None,
        renditions=[PublishedRendition(r, f"{prefix}/{r.playlist}") for r in result.renditions],
    )
