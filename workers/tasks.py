"""Celery tasks. Each is thin: it loads state, calls a plain function, records the result."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable

from celery.signals import worker_ready, worker_shutdown

from media_hub.config import Settings, get_settings
from media_hub.db import session_scope
from media_hub.library.models import MediaItem, MediaStatus, Rendition
from media_hub.review import service as workflow
from storage import open_storage
from workers import jobs, media
from workers.celery_app import celery
from workers.pipeline import PublishedMedia, process_original

log = logging.getLogger(__name__)


@celery.task(name="media_hub.transcode", acks_late=True, reject_on_worker_lost=True)
def transcode(job_id: int) -> None:
    """Probe and transcode the original of job ``job_id``'s item into its HLS ladder."""
    delay = run_transcode(get_settings(), job_id)
    if delay is not None:
        transcode.apply_async((job_id,), countdown=delay)


def run_transcode(
    settings: Settings, job_id: int, on_progress: Callable[[float], None] | None = None
) -> float | None:
    """Run one attempt of a transcode job, without Celery.

    Returns the delay in seconds before the next attempt when a transient error
    left the job ``retrying``, else None (done, failed, or held by another worker).
    """
    attempt = jobs.claim(settings, job_id)
    if attempt is None or jobs.give_up_if_exhausted(settings, job_id, attempt):
        return None
    with session_scope(settings.db_url) as s:
        item = s.get(jobs.Job, job_id).item
        public_id, original_key = item.public_id, item.original_key
    store = open_storage(settings.blob_url)
    work = settings.staging_dir / "jobs" / f"{job_id}-{attempt}"
    prefix = f"media/{public_id}/hls-{job_id}-{attempt}"
    try:
        with jobs.Heartbeat(settings, job_id, attempt) as beat:

            def report(fraction: float) -> None:
                beat.report(fraction)
                if on_progress:
                    on_progress(fraction)

            work.mkdir(parents=True, exist_ok=True)
            source = store.local_path(original_key)
            if source is None:
                source = work / "original"
                store.get_file(original_key, source)
            published = process_original(source, work / "out", store, prefix, report)
    except media.MediaRejected as exc:
        jobs.fail(settings, job_id, attempt, exc.reason)
        return None
    except media.TranscodeError as exc:
        log.warning("transcode job %s attempt %s failed: %s\n%s", job_id, attempt, exc.reason, exc.detail)
        store.delete_prefix(prefix)
        return jobs.retry_or_fail(settings, job_id, attempt, exc.reason)
    except Exception as exc:  # storage or database trouble: worth another attempt
        log.exception("transcode job %s attempt %s crashed", job_id, attempt)
        store.delete_prefix(prefix)
        return jobs.retry_or_fail(settings, job_id, attempt, f"Lỗi hệ thống khi xử lý ({type(exc).__name__})")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if not jobs.finish(settings, job_id, attempt, lambda item: _record(item, published)):
        store.delete_prefix(prefix)  # another worker took over; its outputs win
        return None
    # Outputs of earlier attempts or jobs are superseded: one set of outputs per item.
    for old in {"/".join(k.split("/")[:3]) for k in store.list(f"media/{public_id}/")} - {prefix}:
        if old.rsplit("/", 1)[1].startswith("hls-"):
            store.delete_prefix(old + "/")
    return None


def _record(item: MediaItem, published: PublishedMedia) -> None:
    probe = published.probe
    workflow.record(item, "ready", MediaStatus.ready)
    item.error = None
    item.duration = probe.duration
    item.probe = probe.summary()
    item.master_key = published.master_key
    item.poster_key = published.poster_key
    item.renditions = [
        Rendition(
            name=r.output.name,
            width=r.output.width,
            height=r.output.height,
            video_bitrate=r.output.video_bitrate,
            audio_bitrate=r.output.audio_bitrate,
            bandwidth=r.output.bandwidth,
            average_bandwidth=r.output.average_bandwidth,
            frame_rate=r.output.frame_rate,
            codecs=r.output.codecs,
            playlist_key=r.playlist_key,
        )
        for r in published.renditions
    ]


# --- recovery of jobs whose worker died --------------------------------------------------

_sweeper_stop = threading.Event()


def sweep_once(settings: Settings) -> list[int]:
    """Requeue jobs with a stale heartbeat and send each a new message."""
    ids = jobs.requeue_stale(settings)
    for job_id in ids:
        log.warning("job %s lost its worker; requeued", job_id)
        transcode.delay(job_id)
    return ids


def _sweep_forever(settings: Settings) -> None:
    interval = max(1.0, min(30.0, settings.job_stale_seconds / 2))
    while True:
        try:
            sweep_once(settings)
        except Exception:
            log.exception("stale job sweep failed")
        if _sweeper_stop.wait(interval):
            return


@worker_ready.connect
def _start_sweeper(**_kwargs) -> None:
    _sweeper_stop.clear()
    threading.Thread(target=_sweep_forever, args=(get_settings(),), name="job-sweeper", daemon=True).start()


@worker_shutdown.connect
def _stop_sweeper(**_kwargs) -> None:
    _sweeper_stop.set()
