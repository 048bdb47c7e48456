"""Celery tasks. Each is thin: it loads state, calls a plain function, records the result.

:func:`run_job` holds what every job shares (claim, heartbeat, retries, failure
reasons); :func:`run_transcode` and :func:`run_transcribe` say what the work is.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from celery.signals import worker_ready, worker_shutdown
from sqlalchemy import select
from sqlalchemy.orm import object_session

from media_hub.captions import service as captions
from media_hub.captions.models import CueSource
from media_hub.channel import service as channels
from media_hub.channel.models import Channel, ChannelRendition, RenditionStatus
from media_hub.config import Settings, get_settings
from media_hub.db import session_scope
from media_hub.imports import service as imports
from media_hub.library.models import Job, JobState, MediaItem, MediaStatus, Rendition
from media_hub.mirror import service as mirroring
from media_hub.review import service as workflow
from storage import Storage, open_storage
from subtitles import asr, cues
from media_hub.radio import service as radio
from workers import broadcast, jobs, media
from workers.celery_app import celery, enqueue
from subtitles.formats import to_srt
from workers.pipeline import IMMUTABLE_CACHE, PublishedMedia, process_original

log = logging.getLogger(__name__)
Record = Callable[[MediaItem], None]


@dataclass
class Attempt:
    """One claimed attempt at a job: what the work function may use."""

    settings: Settings
    job_id: int
    number: int
    store: Storage
    work: Path  # scratch folder, removed afterwards
    public_id: str
    original_key: str
    context: str  # title and description (hints for speech recognition)
    report: Callable[[float], None] = lambda _f: None
    on_discard: list[Callable[[], None]] = field(default_factory=list)  # undo outputs of a lost attempt
    on_success: list[Callable[[], None]] = field(default_factory=list)

    def source(self) -> Path:
        """The original as a local file (downloaded from remote storage if needed)."""
        path = self.store.local_path(self.original_key)
        if path is None:
            path = self.work / "original"
            self.store.get_file(self.original_key, path)
        return path


PERMANENT = (media.MediaRejected,)  # the input is unusable: fail at once
TRANSIENT = (media.TranscodeError, asr.AsrError, broadcast.BroadcastError)  # worth another attempt


def run_job(
    settings: Settings,
    job_id: int,
    body: Callable[[Attempt], Record],
    on_progress: Callable[[float], None] | None = None,
) -> float | None:
    """Claim ``job_id`` and run ``body``; its returned function records the result on
    the item in the transaction that marks the job succeeded.

    Returns the delay in seconds before the next attempt when a transient error left
    the job ``retrying``, else None (done, failed, or held by another worker).
    """
    number = jobs.claim(settings, job_id)
    if number is None or jobs.give_up_if_exhausted(settings, job_id, number):
        return None
    with session_scope(settings.db_url) as s:
        item = s.get(Job, job_id).item
        run = Attempt(
            settings, job_id, number, open_storage(settings.blob_url),
            settings.staging_dir / "jobs" / f"{job_id}-{number}", item.public_id, item.original_key,
            f"{item.title}\n{item.description}",
        )

    def discard() -> None:
        for undo in run.on_discard:
            undo()

    try:
        with jobs.Heartbeat(settings, job_id, number) as beat:

            def report(fraction: float) -> None:
                beat.report(fraction)
                if on_progress:
                    on_progress(fraction)

            run.report = report
            run.work.mkdir(parents=True, exist_ok=True)
            record = body(run)
    except PERMANENT as exc:
        discard()
        jobs.fail(settings, job_id, number, exc.reason)
        return None
    except TRANSIENT as exc:
        reason = getattr(exc, "reason", None) or str(exc)
        log.warning("job %s attempt %s failed: %s\n%s", job_id, number, reason, getattr(exc, "detail", ""))
        discard()
        return jobs.retry_or_fail(settings, job_id, number, reason)
    except Exception as exc:  # storage or database trouble: worth another attempt
        log.exception("job %s attempt %s crashed", job_id, number)
        discard()
        return jobs.retry_or_fail(settings, job_id, number, f"Lỗi hệ thống khi xử lý ({type(exc).__name__})")
    finally:
        shutil.rmtree(run.work, ignore_errors=True)
    if not jobs.finish(settings, job_id, number, record):
        discard()  # another worker took over; its outputs win
        return None
    for then in run.on_success:
        then()
    return None


# --- transcode ------------------------------------------------------------------------------


def run_transcode(settings: Settings, job_id: int, on_progress=None, *, queue_follow_ups: bool = True) -> float | None:
    """Probe and transcode the original into its HLS ladder, adding the item's follow-up
    jobs (subtitles, broadcast MP3) as queued rows; they are sent to the broker unless
    ``queue_follow_ups`` is false (the CLI runs them itself)."""

    def body(run: Attempt) -> Record:
        prefix = f"media/{run.public_id}/hls-{run.job_id}-{run.number}"
        run.on_discard.append(lambda: run.store.delete_prefix(prefix + "/"))
        published = process_original(run.source(), run.work / "out", run.store, prefix, run.report,
                                     max_seconds=settings.max_media_seconds)
        follow_up: list[Job] = []

        def record(item: MediaItem) -> None:
            _record_ladder(item, published)
            for task in ("transcribe", "broadcast") if settings.asr_enabled else ("broadcast",):
                follow_up.append(Job(task=task, state=JobState.queued))
                item.jobs.append(follow_up[-1])

        def superseded() -> None:  # one set of outputs per item
            for old in {"/".join(k.split("/")[:3]) for k in run.store.list(f"media/{run.public_id}/")} - {prefix}:
                if old.rsplit("/", 1)[1].startswith("hls-"):
                    run.store.delete_prefix(old + "/")
            for job in follow_up if queue_follow_ups else ():
                enqueue(settings, job.task, job.id)

        run.on_success.append(superseded)
        return record

    return run_job(settings, job_id, body, on_progress)


def _record_ladder(item: MediaItem, published: PublishedMedia) -> None:
    probe = published.probe
    workflow.record(item, "ready", MediaStatus.ready)
    item.error = None
    item.duration = probe.duration
    item.probe = probe.summary()
    item.master_key = published.master_key
    item.poster_key = published.poster_key
    for track in item.subtitle_tracks:  # their WebVTT renditions lived under the old ladder
        track.hls_prefix = None
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


# --- transcribe -----------------------------------------------------------------------------


def asr_settings(settings: Settings) -> asr.AsrSettings:
    return asr.AsrSettings(
        model=settings.asr_model,
        models_dir=settings.data_dir / "models",
        device=settings.asr_device,
        compute_type=settings.asr_compute_type,
        cpu_threads=settings.asr_cpu_threads,
        language=settings.asr_language or None,
    )


def run_transcribe(settings: Settings, job_id: int, on_progress=None) -> float | None:
    """Recognise the speech of the original and store it as the Vietnamese subtitle
    draft (never replacing an editor's revision), with its HLS WebVTT rendition."""

    def body(run: Attempt) -> Record:
        try:
            transcript = asr.transcribe(
                run.source(), asr_settings(settings), lambda done, total: run.report(done / total if total else 1.0),
                context=run.context,
            )
        except asr.NoAudio as exc:
            reason = str(exc)

            def no_audio(item: MediaItem) -> None:
                item.subtitle_note = reason

            return no_audio
        found = cues.segment(transcript.words, cues.CueLimits(), duration=transcript.duration)

        def record(item: MediaItem) -> None:
            captions.save_revision(object_session(item), item, transcript.language or "vi", found, CueSource.asr)
            captions.publish_hls(run.store, item)

        return record

    return run_job(settings, job_id, body, on_progress)


# --- burned-in subtitles --------------------------------------------------------------------


def run_burn_in(settings: Settings, job_id: int, on_progress=None) -> float | None:
    """An MP4 with the item's reviewed Vietnamese subtitles drawn into the picture."""

    def body(run: Attempt) -> Record:
        with session_scope(settings.db_url) as s:
            track = captions.track_for(s.get(Job, run.job_id).item, "vi")
            shown = captions.reviewed_cues(track)
        if not shown:
            raise media.MediaRejected("no_subtitles", "Nội dung chưa có phụ đề tiếng Việt đã duyệt để gắn vào hình.")
        srt = run.work / "subtitles.srt"
        srt.write_text(to_srt(shown), encoding="utf-8")
        source = run.source()
        out = media.burn_in(source, media.probe(source, settings.max_media_seconds), srt, run.work / "burned.mp4", run.report)
        key = f"media/{run.public_id}/burned-{run.job_id}-{run.number}.mp4"
        run.store.put_file(key, out, content_type="video/mp4", cache_control=IMMUTABLE_CACHE)
        run.on_discard.append(lambda: run.store.delete(key))
        previous: list[str] = []

        def record(item: MediaItem) -> None:
            if item.burned_key:
                previous.append(item.burned_key)
            item.burned_key = key

        run.on_success.append(lambda: [run.store.delete(k) for k in previous])
        return record

    return run_job(settings, job_id, body, on_progress)


# --- broadcast audio ------------------------------------------------------------------------


def run_broadcast(settings: Settings, job_id: int, on_progress=None) -> float | None:
    """The loudness-normalised, tagged broadcast MP3 of an item (video or radio), with
    its programme's jingles; an item without audio, or silent, gets a note instead."""

    def body(run: Attempt) -> Record:
        with session_scope(settings.db_url) as s:
            item = s.get(Job, run.job_id).item
            tags = radio.id3_tags(item, settings.publisher)
            jingles = radio.jingle_keys(item)
            poster_key = item.poster_key
        local = {}
        for part, key in jingles.items():
            local[part] = run.store.local_path(key) or run.work / f"{part}.orig"
            if not local[part].exists():
                run.store.get_file(key, local[part])
        out = run.work / "broadcast.mp3"
        try:
            result = broadcast.make_broadcast_mp3(
                run.source(), out, broadcast.PRESETS[settings.radio_loudness],
                broadcast.Mp3Profile(settings.radio_sample_rate, settings.radio_channels, settings.radio_bitrate),
                intro=local.get("intro"), outro=local.get("outro"), on_progress=run.report,
            )
        except (broadcast.NoAudio, broadcast.SilentSource) as exc:
            note = exc.reason

            def no_audio(item: MediaItem) -> None:
                item.broadcast_note = note

            return no_audio
        cover = run.store.read_bytes(poster_key) if poster_key else None
        broadcast.write_id3(out, cover_jpeg=cover, **tags)
        key = f"media/{run.public_id}/radio-{run.job_id}-{run.number}.mp3"
        info = run.store.put_file(key, out, content_type="audio/mpeg", cache_control=IMMUTABLE_CACHE)
        run.on_discard.append(lambda: run.store.delete(key))
        previous: list[str] = []

        def record(item: MediaItem) -> None:
            if item.broadcast_key:
                previous.append(item.broadcast_key)
            item.broadcast_key, item.broadcast_size = key, info.size
            item.broadcast_duration, item.broadcast_note = result.duration, None
            item.broadcast_loudness = radio.loudness_summary(result, broadcast.PRESETS[settings.radio_loudness])

        run.on_success.append(lambda: [run.store.delete(k) for k in previous])
        return record

    return run_job(settings, job_id, body, on_progress)


# --- channel-compliant renditions -----------------------------------------------------------


def run_conform(settings: Settings, job_id: int, on_progress=None) -> float | None:
    """Re-encode an item to the channel profile waiting for it (exact boxes, audio, a
    picture for audio-only items), then replan the channels that use that profile."""

    def body(run: Attempt) -> Record:
        with session_scope(settings.db_url) as s:
            item = s.get(Job, run.job_id).item
            pending = s.scalar(select(ChannelRendition).where(
                ChannelRendition.item_id == item.id, ChannelRendition.status == RenditionStatus.pending))
            if pending is None:
                return lambda _item: None
            rendition_id, rungs, poster_key = pending.id, pending.profile.split(","), item.poster_key
        w, h, _ = channels.BOXES[rungs[0]]
        source = run.source()
        still = None
        if poster_key:
            still = run.work / "poster.jpg"
            still.write_bytes(run.store.read_bytes(poster_key))
        fitted = media.conform(source, media.probe(source, settings.max_media_seconds), run.work / "conformed.mp4", w, h, still=still,
                               on_progress=lambda f: run.report(0.5 * f))
        prefix = f"media/{run.public_id}/channel-{run.job_id}-{run.number}"
        run.on_discard.append(lambda: run.store.delete_prefix(prefix + "/"))
        published = process_original(fitted, run.work / "out", run.store, prefix,
                                     lambda f: run.report(0.5 + 0.5 * f), settings.max_media_seconds)

        def record(item: MediaItem) -> None:
            session = object_session(item)
            rendition = session.get(ChannelRendition, rendition_id)
            rendition.status, rendition.master_key = RenditionStatus.ready, published.master_key
            rendition.playlists = {r.output.name: r.playlist_key for r in published.renditions}
            for channel in session.scalars(select(Channel)):
                if channels.profile_key(channel) == rendition.profile:
                    channels.replan_channel(session, run.store, channel)

        return record

    return run_job(settings, job_id, body, on_progress)


# --- YouTube mirror -------------------------------------------------------------------------


def run_mirror(settings: Settings, job_id: int, on_progress=None) -> float | None:
    """Bring the item's copy on the Department's YouTube channel in step (upload, metadata,
    captions, playlists, or take it down); see :mod:`media_hub.mirror.service`."""
    delay = run_job(settings, job_id, mirroring.sync, on_progress)
    mirroring.reconcile(settings, job_id)
    return delay


# --- Celery entry points --------------------------------------------------------------------

RUNNERS = {
    "transcode": run_transcode,
    "transcribe": run_transcribe,
    "burn_in": run_burn_in,
    "broadcast": run_broadcast,
    "mirror": run_mirror,
    "conform": run_conform,
}


def _run_task(task: str, job_id: int) -> None:
    settings = get_settings()
    delay = RUNNERS[task](settings, job_id)
    if delay is not None:
        enqueue(settings, task, job_id, countdown=delay)


@celery.task(name="media_hub.transcode", acks_late=True, reject_on_worker_lost=True)
def transcode(job_id: int) -> None:
    """Probe and transcode the original of job ``job_id``'s item into its HLS ladder."""
    _run_task("transcode", job_id)


@celery.task(name="media_hub.transcribe", acks_late=True, reject_on_worker_lost=True)
def transcribe(job_id: int) -> None:
    """Vietnamese subtitles for job ``job_id``'s item by speech recognition."""
    _run_task("transcribe", job_id)


@celery.task(name="media_hub.broadcast", acks_late=True, reject_on_worker_lost=True)
def broadcast_audio(job_id: int) -> None:
    """The broadcast MP3 of job ``job_id``'s item."""
    _run_task("broadcast", job_id)


@celery.task(name="media_hub.conform", acks_late=True, reject_on_worker_lost=True)
def conform(job_id: int) -> None:
    """A channel-compliant rendition of job ``job_id``'s item."""
    _run_task("conform", job_id)


@celery.task(name="media_hub.mirror", acks_late=True, reject_on_worker_lost=True)
def mirror(job_id: int) -> None:
    """Mirror job ``job_id``'s item to the YouTube channel."""
    _run_task("mirror", job_id)


@celery.task(name="media_hub.url_import", acks_late=True, reject_on_worker_lost=True)
def url_import(import_id: int) -> None:
    """Download the video of URL import ``import_id`` and add it to the library (not a Job:
    the item exists only afterwards; the import row tracks itself)."""
    imports.run_import(get_settings(), import_id)


@celery.task(name="media_hub.burn_in", acks_late=True, reject_on_worker_lost=True)
def burn_in(job_id: int) -> None:
    """An MP4 rendition of job ``job_id``'s item with burned-in subtitles."""
    _run_task("burn_in", job_id)


# --- recovery of jobs whose worker died --------------------------------------------------

_sweeper_stop = threading.Event()


def sweep_once(settings: Settings) -> list[tuple[int, str]]:
    """Requeue jobs with a stale heartbeat and send each a new message."""
    found = jobs.requeue_stale(settings)
    for job_id, task in found:
        log.warning("%s job %s lost its worker; requeued", task, job_id)
        enqueue(settings, task, job_id)
    for import_id in imports.requeue_stale(settings):  # URL imports track themselves (no Job row)
        log.warning("URL import %s lost its worker; requeued", import_id)
        enqueue(settings, "url_import", import_id)
    return found


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
