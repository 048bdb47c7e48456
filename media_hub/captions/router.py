"""Subtitle routes: tracks and revisions (API, VTT/SRT), review, burned-in rendition,
and the subtitle editor page."""

from __future__ import annotations

import json

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser
from media_hub.captions import service
from media_hub.captions.models import CueSource, SubtitleTrack
from media_hub.delivery import item_cache, serve_item_object
from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.library import service as library
from media_hub.library.models import Job, JobState, MediaItem, MediaStatus
from media_hub.library.router import NOT_FOUND, viewable
from media_hub.library.schemas import ItemOut, JobOut
from media_hub.mirror import service as mirroring
from media_hub.policy import Action, can
from media_hub.review import service as workflow
from media_hub.web import back, flash, render
from subtitles.cues import Cue
from subtitles.formats import SubtitleFormatError, read_subtitles, to_srt, to_text, to_webvtt
from workers.celery_app import enqueue

api = APIRouter(prefix="/api/v1", tags=["subtitles"])
pages = APIRouter(include_in_schema=False)
FORMATS = {
    "vtt": ("text/vtt; charset=utf-8", to_webvtt),
    "srt": ("application/x-subrip; charset=utf-8", to_srt),
    "txt": ("text/plain; charset=utf-8", to_text),
}
MAX_SUBTITLE_BYTES = 2 * 1024 * 1024


class CueIO(BaseModel):
    start: float  # seconds
    end: float  # seconds
    text: str


class RevisionOut(BaseModel):
    number: int
    source: str
    author: str | None
    created_at: str


class TrackOut(BaseModel):
    language: str
    status: str  # reviewed when the newest revision is the reviewed one
    revision: int  # newest
    reviewed_revision: int | None  # what viewers see
    source: str
    hls_playlist: str | None
    revisions: list[RevisionOut]

    @classmethod
    def of(cls, track: SubtitleTrack) -> TrackOut:
        return cls(
            language=track.language, status=track.status, revision=track.revision,
            reviewed_revision=track.reviewed_revision, source=track.source,
            hls_playlist=f"/media/{track.hls_prefix}/index.m3u8" if track.hls_prefix else None,
            revisions=[RevisionOut(number=r.number, source=r.source, created_at=r.created_at.isoformat(),
                                   author=r.author.display_name if r.author else None) for r in track.revisions],
        )


class TracksOut(BaseModel):
    tracks: list[TrackOut]
    note: str | None  # why there are no subtitles (e.g. no audio), if so


def _staff_view(user: User | None, item: MediaItem) -> bool:
    """Drafts are for the people who may work on the item (not the public)."""
    return can(user, Action.edit, item) or can(user, Action.approve, item) or (
        user is not None and item.owner_id == user.id) or can(user, Action.review_queue)


def _shown_cues(item: MediaItem, user: User | None, language: str) -> tuple[SubtitleTrack, int, list[Cue]]:
    """(track, revision, cues) the caller may read: staff the newest, others the reviewed one."""
    track = service.track_for(item, language)
    if track is not None and track.current is not None and _staff_view(user, item):
        return track, track.revision, service.cues_of(track)
    if track is not None and track.reviewed is not None:
        return track, track.reviewed_revision, service.reviewed_cues(track)
    raise HTTPException(404, "Nội dung này chưa có phụ đề bằng ngôn ngữ này.")


def _editable_item(session, user: User | None, item_id: int) -> MediaItem:
    item = viewable(session, user, item_id)
    if not can(user, Action.edit, item):
        raise HTTPException(403, "Bạn không có quyền sửa phụ đề của nội dung này.")
    if item.status in (MediaStatus.uploaded, MediaStatus.processing, MediaStatus.failed):
        raise HTTPException(409, "Nội dung chưa xử lý xong nên chưa sửa phụ đề được.")
    return item


@api.get("/media/{item_id}/subtitles", response_model=TracksOut)
def list_tracks(item_id: int, session: SessionDep, user: CurrentUser) -> TracksOut:
    item = viewable(session, user, item_id)
    tracks = [t for t in item.subtitle_tracks if t.reviewed is not None or _staff_view(user, item)]
    return TracksOut(tracks=[TrackOut.of(t) for t in tracks], note=item.subtitle_note)


@api.get("/media/{item_id}/subtitles/{language}")
def get_subtitles(item_id: int, language: str, session: SessionDep, user: CurrentUser,
                  format: str = Query("vtt", pattern="^(vtt|srt|txt|json)$")):
    """WebVTT (default), SRT (UTF-8, no BOM), plain text or JSON cues: the newest revision
    for the item's staff, the reviewed one for everyone else."""
    item = viewable(session, user, item_id)
    track, revision, cues = _shown_cues(item, user, language)
    headers = {"Cache-Control": item_cache(can(None, Action.view, item))}
    if format == "json":
        body = {"language": language, "revision": revision, "status": track.status,
                "cues": [CueIO(start=c.start, end=c.end, text=c.text).model_dump() for c in cues]}
        return Response(json.dumps(body, ensure_ascii=False), media_type="application/json", headers=headers)
    media_type, render_cues = FORMATS[format]
    return Response(render_cues(cues).encode("utf-8"), media_type=media_type, headers=headers)


def _save(session, store, item: MediaItem, user: User, language: str, cues: list[Cue]) -> SubtitleTrack:
    track, _ = service.save_revision(session, item, language, cues, CueSource.editor, user)
    workflow.record(item, "subtitles", item.status, user, f"Bản {track.revision} ({len(cues)} câu)")
    service.publish_hls(store, item)
    session.commit()
    return track


@api.put("/media/{item_id}/subtitles/{language}", response_model=TrackOut)
async def put_subtitles(item_id: int, language: str, request: Request, session: SessionDep, store: StorageDep,
                        user: CurrentUser) -> TrackOut:
    """A new editor revision from the body: WebVTT or SRT text (UTF-8, UTF-16 with BOM,
    Windows-1258; CRLF; a missing WEBVTT header are all accepted) or JSON
    ``{"cues": [{"start", "end", "text"}]}``. 422 with the reason when it cannot be read."""
    item = _editable_item(session, user, item_id)
    body = await request.body()
    if len(body) > MAX_SUBTITLE_BYTES:
        raise HTTPException(413, "Tệp phụ đề quá lớn.")
    try:
        if request.headers.get("content-type", "").startswith("application/json"):
            typed = [Cue(c.start, c.end, c.text) for c in (CueIO.model_validate(x) for x in json.loads(body)["cues"])]
            cues = service.validate(typed, item.duration)
        else:
            cues = read_subtitles(body, duration=item.duration)
    except SubtitleFormatError as exc:
        raise HTTPException(422, str(exc)) from None
    except ValueError as exc:
        message = str(exc) if str(exc).startswith("Phụ đề") else "Dữ liệu phụ đề không hợp lệ."
        raise HTTPException(422, message) from None
    except (KeyError, TypeError):
        raise HTTPException(422, "Dữ liệu phụ đề không hợp lệ.") from None
    return TrackOut.of(_save(session, store, item, user, language, cues))


@api.post("/media/{item_id}/subtitles/{language}/reviewed", response_model=TrackOut)
def mark_reviewed(item_id: int, language: str, session: SessionDep, store: StorageDep, settings: SettingsDep,
                  user: CurrentUser) -> TrackOut:
    """Mark the shown revision reviewed: it becomes the item's public subtitle track."""
    item = _editable_item(session, user, item_id)
    track = service.track_for(item, language)
    if track is None or track.current is None:
        raise HTTPException(404, "Nội dung này chưa có phụ đề bằng ngôn ngữ này.")
    service.mark_reviewed(item, track)
    workflow.record(item, "subtitles_reviewed", item.status, user, f"Bản {track.revision}")
    service.publish_hls(store, item)
    session.commit()
    if item.status == MediaStatus.published:
        mirroring.request_sync(session, settings, item)  # captions on the YouTube copy
    return TrackOut.of(track)


@api.post("/media/{item_id}/subtitles/{language}/recognize", response_model=JobOut, status_code=202)
def recognize_again(item_id: int, language: str, session: SessionDep, settings: SettingsDep,
                    user: CurrentUser) -> JobOut:
    """Run speech recognition again (e.g. after a better model was configured). Its
    result never replaces a track an editor has revised; it is kept as a revision."""
    item = _editable_item(session, user, item_id)
    job = Job(item=item, task="transcribe", state=JobState.queued)
    session.add(job)
    session.commit()
    enqueue(settings, job.task, job.id)
    return JobOut.of(job)


@api.post("/media/{item_id}/burn-in", response_model=JobOut, status_code=202)
def request_burn_in(item_id: int, session: SessionDep, settings: SettingsDep, user: CurrentUser) -> JobOut:
    """Queue an MP4 rendition with the Vietnamese subtitles drawn into the picture."""
    item = _editable_item(session, user, item_id)
    if not service.reviewed_cues(service.track_for(item, "vi")):
        raise HTTPException(409, "Nội dung chưa có phụ đề tiếng Việt đã duyệt để gắn vào hình.")
    job = Job(item=item, task="burn_in", state=JobState.queued)
    session.add(job)
    session.commit()
    enqueue(settings, job.task, job.id)
    return JobOut.of(job)


@api.get("/media/{item_id}/burned")
def download_burned(item_id: int, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser):
    """The MP4 with burned-in subtitles, for whoever may watch the item."""
    item = viewable(session, user, item_id)
    if not item.burned_key:
        raise HTTPException(404, "Chưa có bản gắn phụ đề vào hình.")
    return serve_item_object(store, item, item.burned_key, request, download_name=f"{item.slug}-phu-de.mp4")


@pages.get("/v/{slug}/subtitles", response_class=HTMLResponse)
def editor_page(slug: str, request: Request, session: SessionDep, user: CurrentUser):
    if user is None:
        raise HTTPException(401, "Vui lòng đăng nhập.")
    item = library.get_by_slug(session, slug)
    if item is None or not can(user, Action.view, item) or not _staff_view(user, item):
        raise HTTPException(404, NOT_FOUND)
    track = service.track_for(item, "vi")
    return render(request, "subtitles.html", {
        "item": ItemOut.of(item, user).model_dump(mode="json"),
        "track": TrackOut.of(track).model_dump() if track else None,
        "cues": [CueIO(start=c.start, end=c.end, text=c.text).model_dump() for c in service.cues_of(track)],
        "can_edit": can(user, Action.edit, item),
        "note": item.subtitle_note,
    })


@pages.post("/v/{slug}/subtitles/upload")
async def editor_upload(slug: str, request: Request, session: SessionDep, store: StorageDep, user: CurrentUser):
    item = library.get_by_slug(session, slug)
    if item is None:
        raise HTTPException(404, NOT_FOUND)
    item = _editable_item(session, user, item.id)
    form = await request.form(max_files=1, max_part_size=MAX_SUBTITLE_BYTES)
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise SubtitleFormatError("Chưa chọn tệp phụ đề (SRT hoặc VTT).")
        data = await upload.read(MAX_SUBTITLE_BYTES + 1)
        if len(data) > MAX_SUBTITLE_BYTES:
            raise SubtitleFormatError("Tệp phụ đề quá lớn.")
        cues = read_subtitles(data, filename_hint=upload.filename, duration=item.duration)
    except SubtitleFormatError as exc:
        flash(request, str(exc), error=True)
        return back(f"/v/{slug}/subtitles")
    track = _save(session, store, item, user, "vi", cues)
    flash(request, f"Đã lưu phụ đề từ tệp (bản {track.revision}, {len(cues)} câu).")
    return back(f"/v/{slug}/subtitles")
