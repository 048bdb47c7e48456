"""The Celery application, configured from the hub's settings.

Long tasks acknowledge late and are rejected back to the queue when a worker
process dies; on top of that, every worker sweeps the job table for jobs whose
heartbeat stopped (see :mod:`workers.jobs`), because not every broker returns
an unacknowledged message (kombu's SQLAlchemy transport never does).
"""

from __future__ import annotations

import time
from functools import lru_cache

from celery import Celery
from kombu import Queue

from media_hub.config import Settings, get_settings

TRANSCODE_QUEUE = "transcode"
ASR_QUEUE = "asr"
MIRROR_QUEUE = "mirror"  # YouTube uploads: network-bound, long, limited by the API quota
IMPORT_QUEUE = "import"  # downloads from URLs (yt-dlp)
# Job task → (Celery task name, queue): transcoding and speech recognition scale separately.
TASKS = {
    "transcode": ("media_hub.transcode", TRANSCODE_QUEUE),
    "transcribe": ("media_hub.transcribe", ASR_QUEUE),
    "burn_in": ("media_hub.burn_in", TRANSCODE_QUEUE),
    "broadcast": ("media_hub.broadcast", TRANSCODE_QUEUE),
    "mirror": ("media_hub.mirror", MIRROR_QUEUE),
    "url_import": ("media_hub.url_import", IMPORT_QUEUE),  # its argument is a UrlImport id, not a Job id
    "conform": ("media_hub.conform", TRANSCODE_QUEUE),
}
# What ``media-hub worker`` consumes unless told otherwise: every queue.
WORKER_QUEUES = ",".join((TRANSCODE_QUEUE, ASR_QUEUE, MIRROR_QUEUE, IMPORT_QUEUE))


@lru_cache(maxsize=4)
def celery_for(broker_url: str, result_backend: str | None = None) -> Celery:
    """A configured Celery app for a broker (cached: one connection pool per broker)."""
    app = Celery("media_hub", broker=broker_url, backend=result_backend)
    app.conf.update(
        include=["workers.tasks"],
        task_default_queue=TRANSCODE_QUEUE,
        task_routes={name: {"queue": queue} for name, queue in TASKS.values()},
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    if broker_url.startswith(("redis://", "rediss://")):
        # Unacked messages come back after this; the job sweep recovers dead jobs sooner.
        app.conf.broker_transport_options = {"visibility_timeout": 6 * 3600}
    return app


_settings = get_settings()
celery = celery_for(_settings.celery_broker_url, _settings.result_backend)  # the worker's app


def _declare_race_safe(action):
    """Run ``action``, retrying once more per process when another process created
    the same queue row at the same moment (kombu's SQLAlchemy transport inserts
    queues without ``ON CONFLICT`` and fails with an IntegrityError)."""
    from sqlalchemy.exc import IntegrityError

    for attempt in range(3):
        try:
            return action()
        except IntegrityError:
            if attempt == 2:
                raise
            time.sleep(0.2)


def declare_queues(app: Celery) -> None:
    """Create the hub's queues on the broker (idempotent)."""

    def declare():
        with app.connection_for_write() as conn:
            for _, queue in TASKS.values():
                Queue(queue, routing_key=queue)(conn.default_channel).declare()

    _declare_race_safe(declare)


def enqueue(settings: Settings, task: str, job_id: int, countdown: float | None = None) -> None:
    """Send job ``job_id`` (whose task is ``task``, see :data:`TASKS`) to its queue on
    the broker in ``settings``."""
    name, queue = TASKS[task]
    app = celery_for(settings.celery_broker_url, settings.result_backend)
    _declare_race_safe(lambda: app.send_task(name, args=[job_id], queue=queue, countdown=countdown))
