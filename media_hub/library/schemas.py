"""API shapes of the library (JSON)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from media_hub.library.models import Job, MediaItem, MediaStatus
from players import KIND_LABELS


class RenditionOut(BaseModel):
    name: str
    width: int | None
    height: int | None
    bandwidth: int  # bit/s, peak
    average_bandwidth: int  # bit/s
    codecs: str
    frame_rate: float | None


class JobOut(BaseModel):
    id: int
    task: str
    state: str
    progress: float  # 0..1
    attempts: int
    error: str | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id, task=job.task, state=job.state, progress=job.progress, attempts=job.attempts, error=job.error
        )


class ItemOut(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    kind: str
    kind_label: str
    status: str
    progress: float | None  # 0..1 while uploaded/processing
    error: str | None
    duration: float | None  # seconds
    created_at: datetime
    checksum: str  # sha256 hex of the original
    size_bytes: int
    original_filename: str
    watch_url: str
    master_url: str | None
    poster_url: str | None
    download_url: str
    renditions: list[RenditionOut]
    job: JobOut | None

    @classmethod
    def of(cls, item: MediaItem) -> ItemOut:
        job = item.latest_job
        busy = item.status in (MediaStatus.uploaded, MediaStatus.processing)
        return cls(
            id=item.id,
            slug=item.slug,
            title=item.title,
            description=item.description,
            kind=item.kind,
            kind_label=KIND_LABELS[item.kind],
            status=item.status,
            progress=(job.progress if job else 0.0) if busy else None,
            error=item.error,
            duration=item.duration,
            created_at=item.created_at,
            checksum=item.checksum,
            size_bytes=item.size_bytes,
            original_filename=item.original_filename,
            watch_url=f"/v/{item.slug}",
            master_url=f"/media/{item.master_key}" if item.master_key else None,
            poster_url=f"/media/{item.poster_key}" if item.poster_key else None,
            download_url=f"/api/v1/media/{item.id}/original",
            renditions=[RenditionOut.model_validate(r, from_attributes=True) for r in item.renditions],
            job=JobOut.of(job) if job else None,
        )


class ItemList(BaseModel):
    items: list[ItemOut]


class UploadOut(ItemOut):
    job_id: int
