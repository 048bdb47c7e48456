"""Job bookkeeping without Celery: bounded retries, rejection, takeover of dead jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from media_hub import db
from media_hub.config import Settings
from media_hub.library import service
from media_hub.library.models import Job, JobState, MediaItem, MediaKind, MediaStatus
from storage import open_storage
from workers import jobs, media, tasks


@pytest.fixture
def settings(tmp_path) -> Settings:
    s = Settings(data_dir=tmp_path, job_max_attempts=3, job_stale_seconds=5, job_heartbeat_seconds=1)
    s.ensure_dirs()
    db.upgrade(s.db_url)
    return s


@pytest.fixture
def job_id(settings, tmp_path) -> int:
    src = tmp_path / "clip.bin"
    src.write_bytes(b"\x00\x01binary" * 1000)
    with db.session_scope(settings.db_url) as s:
        _, job = service.create_item(
            s, open_storage(settings.blob_url), service.original_from_path(src), title="Thử", kind=MediaKind.skit
        )
        return job.id


def _job(settings, job_id) -> tuple[Job, MediaItem]:
    with db.session_scope(settings.db_url) as s:
        job = s.get(Job, job_id)
        return job, job.item


def test_transient_failures_end_failed_after_bounded_attempts(settings, job_id, monkeypatch):
    def broken(*_a, **_k):
        raise media.TranscodeError("Bộ mã hoá gặp lỗi", "stderr tail")

    monkeypatch.setattr(tasks, "process_original", broken)
    delays = []
    while (delay := tasks.run_transcode(settings, job_id)) is not None:
        delays.append(delay)
    job, item = _job(settings, job_id)
    assert delays == [5.0, 10.0]  # exponential backoff between the 3 attempts
    assert job.state == JobState.failed and job.attempts == 3
    assert "Bộ mã hoá gặp lỗi" in job.error and "3 lần" in job.error
    assert item.status == MediaStatus.failed and item.error == job.error
    assert open_storage(settings.blob_url).exists(item.original_key)  # nothing lost


def test_rejected_media_fails_at_once_with_reason(settings, job_id):
    assert tasks.run_transcode(settings, job_id) is None  # the bytes are no media: real ffprobe refuses
    job, item = _job(settings, job_id)
    assert job.state == JobState.failed and job.attempts == 1
    assert item.status == MediaStatus.failed and item.error
    assert open_storage(settings.blob_url).exists(item.original_key)


def test_dead_worker_job_is_taken_over_and_the_dead_one_cannot_record(settings, job_id):
    first = jobs.claim(settings, job_id)
    assert first == 1
    assert jobs.claim(settings, job_id) is None  # alive: nobody else may take it
    assert jobs.requeue_stale(settings) == []
    with db.session_scope(settings.db_url) as s:  # the worker stops sending heartbeats
        s.execute(update(Job).values(heartbeat_at=db.utcnow() - timedelta(seconds=60)))
    assert jobs.requeue_stale(settings) == [(job_id, "transcode")]
    assert jobs.requeue_stale(settings) == []  # requeued once, not on every sweep
    second = jobs.claim(settings, job_id)
    assert second == 2
    assert not jobs.finish(settings, job_id, first, lambda item: None)  # the presumed-dead worker
    assert jobs.finish(settings, job_id, second, lambda item: setattr(item, "status", MediaStatus.ready))
    job, item = _job(settings, job_id)
    assert job.state == JobState.succeeded and item.status == MediaStatus.ready


def test_a_job_whose_workers_keep_dying_ends_failed(settings, job_id):
    for attempt in range(1, 4):
        assert jobs.claim(settings, job_id) == attempt
        with db.session_scope(settings.db_url) as s:
            s.execute(update(Job).values(heartbeat_at=db.utcnow() - timedelta(seconds=60)))
        assert jobs.requeue_stale(settings) == [(job_id, "transcode")]
    assert tasks.run_transcode(settings, job_id) is None
    job, item = _job(settings, job_id)
    assert job.state == JobState.failed and "gián đoạn 3 lần" in job.error
    assert item.status == MediaStatus.failed
