"""Job bookkeeping shared by every task: claim, heartbeat, finish, retry, recover.

A job row is the source of truth, not the broker message. A worker *claims* a
job with one conditional UPDATE (queued/retrying, or running with a heartbeat
older than ``job_stale_seconds``), which makes duplicate deliveries harmless.
While it runs, a thread writes progress and a heartbeat. Every later write is
conditional on the attempt number the claim returned, so a worker that was
presumed dead cannot overwrite the result of the worker that took over.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update

from media_hub.config import Settings
from media_hub.db import session_scope, utcnow
from media_hub.library.models import Job, JobState, MediaItem, MediaStatus
from media_hub.review import service as workflow

log = logging.getLogger(__name__)
WORKER_NAME = f"{socket.gethostname()}"
# Jobs whose outcome is the item's status; other jobs (subtitles…) never fail an item.
ITEM_TASKS = {"transcode"}


def _stale_cutoff(settings: Settings):
    return utcnow() - timedelta(seconds=settings.job_stale_seconds)


def claim(settings: Settings, job_id: int) -> int | None:
    """Take ``job_id`` for this worker; returns the attempt number, or None if
    another worker holds it or it has ended."""
    now = utcnow()
    with session_scope(settings.db_url) as s:
        res = s.execute(
            update(Job)
            .where(
                Job.id == job_id,
                or_(
                    Job.state.in_([JobState.queued, JobState.retrying]),
                    and_(Job.state == JobState.running, Job.heartbeat_at < _stale_cutoff(settings)),
                ),
            )
            .values(
                state=JobState.running,
                attempts=Job.attempts + 1,
                worker=WORKER_NAME,
                started_at=now,
                heartbeat_at=now,
                progress=0.0,
            )
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:
            return None
        job = s.get(Job, job_id)
        if job.task in ITEM_TASKS:
            if job.item.status != MediaStatus.processing:
                workflow.record(job.item, "processing", MediaStatus.processing)
            job.item.error = None
        return job.attempts


def _owned(job_id: int, attempt: int):
    return and_(Job.id == job_id, Job.attempts == attempt, Job.state == JobState.running)


class Heartbeat:
    """Context manager: writes progress (at most once a second) and a heartbeat
    (every ``job_heartbeat_seconds``) for a claimed job from a background thread."""

    def __init__(self, settings: Settings, job_id: int, attempt: int):
        self.settings, self.job_id, self.attempt = settings, job_id, attempt
        self._progress = 0.0
        self._written = -1.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)
        self.lost = False  # another worker took the job over

    def report(self, fraction: float) -> None:
        self._progress = max(self._progress, min(1.0, max(0.0, fraction)))

    def _write(self) -> None:
        with session_scope(self.settings.db_url) as s:
            res = s.execute(
                update(Job)
                .where(_owned(self.job_id, self.attempt))
                .values(progress=self._progress, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            self.lost = res.rowcount != 1
        self._written = self._progress

    def _run(self) -> None:
        last = 0.0
        tick = min(1.0, self.settings.job_heartbeat_seconds)
        while not self._stop.wait(tick):
            last += tick
            if self._progress != self._written or last >= self.settings.job_heartbeat_seconds:
                try:
                    self._write()
                    last = 0.0
                except Exception:  # a database hiccup must not kill the job
                    log.exception("heartbeat for job %s failed", self.job_id)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def finish(settings: Settings, job_id: int, attempt: int, record: Callable[[MediaItem], None]) -> bool:
    """Mark the job succeeded and let ``record`` write the results on the item, in
    one transaction; False (and nothing written) if the job is no longer ours."""
    with session_scope(settings.db_url) as s:
        job = s.scalars(select(Job).where(_owned(job_id, attempt)).with_for_update()).first()
        if job is None:
            return False
        record(job.item)
        job.state, job.progress, job.error, job.finished_at = JobState.succeeded, 1.0, None, utcnow()
        return True


def fail(settings: Settings, job_id: int, attempt: int, reason: str) -> None:
    """End the job (and, for a transcode, its item) as failed with a reason people can read."""
    with session_scope(settings.db_url) as s:
        job = s.scalars(select(Job).where(_owned(job_id, attempt))).first()
        if job is None:
            return
        job.state, job.error, job.finished_at = JobState.failed, reason, utcnow()
        if job.task in ITEM_TASKS:
            workflow.record(job.item, "failed", MediaStatus.failed, comment=reason)
            job.item.error = reason


def retry_or_fail(settings: Settings, job_id: int, attempt: int, reason: str) -> float | None:
    """After a transient failure: schedule another attempt (returns the delay in
    seconds) or, once ``job_max_attempts`` are spent, fail the job (returns None)."""
    if attempt >= settings.job_max_attempts:
        fail(settings, job_id, attempt, f"{reason} (đã thử {attempt} lần)")
        return None
    delay = min(300.0, 5.0 * 2 ** (attempt - 1))
    with session_scope(settings.db_url) as s:
        job = s.scalars(select(Job).where(_owned(job_id, attempt))).first()
        if job is None:
            return None
        job.state, job.error = JobState.retrying, reason
        # The sweep treats the job as lost if it has not restarted well after the delay.
        job.heartbeat_at = utcnow() + timedelta(seconds=delay)
    return delay


def postpone(settings: Settings, job_id: int, attempt: int, reason: str, until: datetime) -> bool:
    """Put a claimed job aside until ``until`` (aware UTC) without spending an attempt:
    nothing went wrong, the work just cannot be done before then (e.g. the YouTube
    API quota is spent for the day). The job becomes ``retrying`` with its heartbeat
    set to ``until``; the stale-job sweep requeues it once ``until`` plus
    ``job_stale_seconds`` has passed (no broker ETA, so waits of hours survive
    restarts and brokers that drop delayed messages). False if the job is no
    longer ours."""
    with session_scope(settings.db_url) as s:
        res = s.execute(
            update(Job)
            .where(_owned(job_id, attempt))
            .values(state=JobState.retrying, error=reason, attempts=Job.attempts - 1, heartbeat_at=until)
            .execution_options(synchronize_session=False)
        )
        return res.rowcount == 1


def give_up_if_exhausted(settings: Settings, job_id: int, attempt: int) -> bool:
    """Fail a job claimed once more than allowed (its workers keep dying)."""
    if attempt <= settings.job_max_attempts:
        return False
    with session_scope(settings.db_url) as s:
        previous = s.get(Job, job_id).error
    reason = f"Xử lý bị gián đoạn {attempt - 1} lần (máy xử lý ngừng giữa chừng)"
    fail(settings, job_id, attempt, f"{reason}: {previous}" if previous else reason)
    return True


def requeue_stale(settings: Settings) -> list[tuple[int, str]]:
    """Put back in the queue the jobs whose worker stopped sending heartbeats (or
    whose retry never started); returns their ``(id, task)`` so the caller sends
    each a new message. A job is requeued once; the claim counts the attempt."""
    cutoff = _stale_cutoff(settings)
    stale = and_(Job.state.in_([JobState.running, JobState.retrying]), Job.heartbeat_at < cutoff)
    found: list[tuple[int, str]] = []
    with session_scope(settings.db_url) as s:
        for job_id, task in s.execute(select(Job.id, Job.task).where(stale)).all():
            res = s.execute(
                update(Job)
                .where(Job.id == job_id, stale)
                .values(state=JobState.queued, heartbeat_at=utcnow())
                .execution_options(synchronize_session=False)
            )
            if res.rowcount == 1:
                found.append((job_id, task))
    return found
