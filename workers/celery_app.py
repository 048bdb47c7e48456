"""The Celery application, configured from the hub's settings.

Long tasks acknowledge late and are rejected back to the queue when a worker
process dies; on top of that, every worker sweeps the job table for jobs whose
heartbeat stopped (see :mod:`workers.jobs`), because not every broker returns
an unacknowledged message (kombu's SQLAlchemy transport never does).
"""

from __future__ import annotations

from functools import lru_cache

from celery import Celery

from media_hub.config import Settings, get_settings

TRANSCODE_QUEUE = "transcode"


@lru_cache(maxsize=4)
def celery_for(broker_url: str, result_backend: str | None = None) -> Celery:
    """A configured Celery app for a broker (cached: one connection pool per broker)."""
    app = Celery("media_hub", broker=broker_url, backend=result_backend)
    app.conf.update(
        include=["workers.tasks"],
        task_default_queue=TRANSCODE_QUEUE,
        task_routes={"media_hub.transcode": {"queue": TRANSCODE_QUEUE}},
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


def enqueue_transcode(settings: Settings, job_id: int) -> None:
    """Send job ``job_id`` to the transcode queue of the broker in ``settings``."""
    app = celery_for(settings.celery_broker_url, settings.result_backend)
    app.send_task("media_hub.transcode", args=[job_id], queue=TRANSCODE_QUEUE)
