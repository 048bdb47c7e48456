"""API shapes of the library (JSON)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import object_session

from media_hub.accounts.models import User
from media_hub.config import get_settings
from media_hub.library.models import Job, MediaItem, MediaStatus
from media_hub.mirror.models import YouTubeMirror
from media_hub.policy import Action, can
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


def media_url(item: MediaItem, key: str | None) -> str | None:
    """URL of a storage object of ``item``: through the hub's permission-checked
    ``/media/`` route, or, for published items when ``MEDIA_HUB_MEDIA_BASE_URL`` is
    set, under that public base (a CDN in front of ``/media/`` or of the bucket)."""
    if key is None:
        return None
    base = get_settings().media_base_url
    if base and item.status == MediaStatus.published:
        return f"{base.rstrip('/')}/{key}"
    return f"/media/{key}"


class TopicOut(BaseModel):
    id: int
    name: str
    slug: str


class DocumentOut(BaseModel):
    id: int
    number: str  # e.g. "36/2024/QH15"
    title: str
    doc_type: str  # Luật, Bộ luật, Nghị định, Thông tư, Nghị quyết, Quyết định
    issuing_body: str
    effective_date: date | None


class MirrorOut(BaseModel):
    """The item's copy on the Department's YouTube channel."""

    status: str  # pending | uploading | mirrored | postponed | failed | withdrawn
    video_id: str | None
    url: str | None  # https://www.youtube.com/watch?v=…
    progress: float  # 0..1 of the upload
    retry_at: datetime | None  # postponed: when it is tried again
    error: str | None  # Vietnamese reason (failed, postponed)
    warning: str | None  # e.g. YouTube keeps uploads private (unverified API project)

    @classmethod
    def of_item(cls, item: MediaItem) -> MirrorOut | None:
        session = object_session(item)
        row = session.scalar(select(YouTubeMirror).where(YouTubeMirror.item_id == item.id)) if session else None
        if row is None:
            return None
        return cls(
            status=row.status, video_id=row.video_id,
            url=f"https://www.youtube.com/watch?v={row.video_id}" if row.video_id else None,
            progress=row.progress, retry_at=row.retry_at, error=row.error, warning=row.warning,
        )


class ItemOut(BaseModel):
    id: int
    slug: str
    title: str
    description: str
    kind: str
    kind_label: str
    status: str
    audience: str
    owner_name: str | None
    review_comment: str | None  # staff only (see below)
    published_at: datetime | None
    topics: list[TopicOut]
    documents: list[DocumentOut]
    programme: str | None  # radio programme name
    broadcast_url: str | None  # the broadcast MP3, once made
    broadcast_loudness: dict | None  # measured on the MP3: integrated (LUFS), lra (LU), true_peak (dBTP)…
    broadcast_note: str | None  # why there is no broadcast audio
    subtitle_note: str | None  # why there are no subtitles
    source_url: str | None = None  # imported from this page
    source_attribution: str | None = None  # e.g. "VTV24 · youtube.com (Youtube)"
    mirror: MirrorOut | None = None  # the YouTube copy, if mirroring is on and the item was published
    progress: float | None  # 0..1 while uploaded/processing
    error: str | None
    duration: float | None  # seconds
    created_at: datetime
    updated_at: datetime
    # Staff-only fields (policy ``view_internal``: the owner editor, reviewers, admins);
    # None / empty for everyone else: the uploader's file name, checksum, jobs…
    checksum: str | None  # sha256 hex of the original
    size_bytes: int | None  # of the original
    original_filename: str | None
    watch_url: str
    master_url: str | None
    poster_url: str | None
    download_url: str | None  # the original, for those who may download it
    renditions: list[RenditionOut]
    job: JobOut | None  # the latest transcode
    jobs: list[JobOut]  # every job, oldest first (transcode, transcribe, …)
    warnings: list[str] = []  # side effects of the last action, e.g. removed from a schedule

    @classmethod
    def of(cls, item: MediaItem, user: User | None) -> ItemOut:
        """The item as ``user`` (None: anonymous) may see it: technical and editorial
        fields only for the item's staff (:data:`Action.view_internal`)."""
        out = cls._of(item)
        if can(user, Action.view_internal, item):
            return out if can(user, Action.download_original, item) else out.model_copy(update={"download_url": None})
        return out.model_copy(update={
            "review_comment": None, "error": None, "checksum": None, "size_bytes": None, "original_filename": None,
            "download_url": f"/api/v1/media/{item.id}/original" if can(user, Action.download_original, item) else None,
            "mirror": None, "job": None, "jobs": [],
        })

    @classmethod
    def _of(cls, item: MediaItem) -> ItemOut:
        job = item.transcode_job
        busy = item.status in (MediaStatus.uploaded, MediaStatus.processing)
        return cls(
            id=item.id,
            slug=item.slug,
            title=item.title,
            description=item.description,
            kind=item.kind,
            kind_label=KIND_LABELS[item.kind],
            status=item.status,
            audience=item.audience,
            owner_name=item.owner.display_name if item.owner else None,
            review_comment=item.review_comment,
            published_at=item.published_at,
            topics=[TopicOut.model_validate(t, from_attributes=True) for t in item.topics],
            documents=[DocumentOut.model_validate(d, from_attributes=True) for d in item.documents],
            programme=item.programme.name if item.programme else None,
            broadcast_url=f"/api/v1/media/{item.id}/broadcast.mp3" if item.broadcast_key else None,
            broadcast_loudness=item.broadcast_loudness,
            broadcast_note=item.broadcast_note,
            subtitle_note=item.subtitle_note,
            source_url=item.source_url,
            source_attribution=item.source_attribution,
            mirror=MirrorOut.of_item(item),
            progress=(job.progress if job else 0.0) if busy else None,
            error=item.error,
            duration=item.duration,
            created_at=item.created_at,
            updated_at=item.updated_at,
            checksum=item.checksum,
            size_bytes=item.size_bytes,
            original_filename=item.original_filename,
            watch_url=f"/v/{item.slug}",
            master_url=media_url(item, item.master_key),
            poster_url=media_url(item, item.poster_key),
            download_url=f"/api/v1/media/{item.id}/original",
            renditions=[RenditionOut.model_validate(r, from_attributes=True) for r in item.renditions],
            job=JobOut.of(job) if job else None,
            jobs=[JobOut.of(j) for j in item.jobs],
        )


class ItemList(BaseModel):
    items: list[ItemOut]


class UploadOut(ItemOut):
    job_id: int


class MetadataIn(BaseModel):
    """Fields left out (None) are unchanged."""

    title: str | None = None
    description: str | None = None
    audience: str | None = None
    topic_ids: list[int] | None = None
    document_ids: list[int] | None = None
    programme_id: int | None = None  # radio programme (ID3 album, jingles); 0 clears it


class WorkflowIn(BaseModel):
    comment: str = ""


class AuditOut(BaseModel):
    at: datetime
    actor: str  # display name, or "Hệ thống" for the workers
    action: str
    action_label: str
    from_status: str | None
    to_status: str
    comment: str
