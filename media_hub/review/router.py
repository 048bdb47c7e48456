"""Editorial routes: metadata editing, the review workflow, the audit log, the review queue."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse

from media_hub.accounts.models import User
from media_hub.accounts.web import CurrentUser, require
from media_hub.channel import service as channels
from media_hub.deps import SessionDep, SettingsDep, StorageDep
from media_hub.library.models import Job, JobState, MediaStatus
from media_hub.radio import service as radio
from workers.celery_app import enqueue
from media_hub.legal import service as legal
from media_hub.library import service as library
from media_hub.library.models import MediaItem
from media_hub.library.router import NOT_FOUND, viewable
from media_hub.mirror import service as mirroring
from media_hub.library.schemas import AuditOut, DocumentOut, ItemOut, MetadataIn, TopicOut, WorkflowIn
from media_hub.policy import Action, can
from media_hub.review import service
from media_hub.web import back, flash, render
from players import STATUS_LABELS

api = APIRouter(prefix="/api/v1", tags=["review"])
pages = APIRouter(include_in_schema=False)
WORKFLOW = (Action.submit, Action.approve, Action.reject, Action.unpublish)


def _withdraw(session, store, item: MediaItem, action: Action) -> list[str]:
    """Unpublishing takes the item off the channels' future schedule (warnings to show);
    refused (409) while it is on air."""
    if action != Action.unpublish:
        return []
    try:
        return channels.withdraw_item(session, store, item)
    except channels.ScheduleError as exc:
        session.rollback()
        raise service.WorkflowError(str(exc), 409) from None


def retag_broadcast(session, settings, item: MediaItem) -> None:
    """Published metadata changed (or the item was just published): remake the broadcast
    MP3 so its ID3 tags (date, documents, programme) say what viewers now see."""
    if item.status == MediaStatus.published and (item.broadcast_key or item.broadcast_note is None):
        job = Job(task="broadcast", state=JobState.queued)
        item.jobs.append(job)
        session.commit()
        enqueue(settings, job.task, job.id)


def remake_with_jingle(session, settings, jingle: MediaItem) -> None:
    """The jingle was published or unpublished: the MP3s of the programmes using it are
    re-made, so it airs only while published (the job asks :func:`media_hub.policy.may_air`)."""
    for item in radio.items_with_jingle(session, jingle):
        retag_broadcast(session, settings, item)


def _editable(session, user: User | None, item: MediaItem) -> None:
    if not can(user, Action.edit, item):
        raise HTTPException(403, "Bạn không có quyền sửa nội dung này (đang chờ duyệt hoặc đã xuất bản).")


def audit_rows(item: MediaItem) -> list[AuditOut]:
    return [
        AuditOut(
            at=e.at,
            actor=e.actor.display_name if e.actor else "Hệ thống",
            action=e.action,
            action_label=service.ACTION_LABELS.get(e.action, e.action),
            from_status=e.from_status,
            to_status=e.to_status,
            comment=e.comment,
        )
        for e in item.audit
    ]


@api.patch("/media/{item_id}", response_model=ItemOut)
def update_metadata(item_id: int, body: MetadataIn, session: SessionDep, settings: SettingsDep,
                    user: CurrentUser) -> ItemOut:
    """Edit title, description, audience, topics and legal documents (owner editor while a draft; reviewers; admins)."""
    item = viewable(session, user, item_id)
    _editable(session, user, item)
    try:
        legal.set_item_metadata(session, item, **body.model_dump())
    except legal.MetadataError as exc:
        raise HTTPException(422, str(exc)) from None
    service.record(item, "edit", item.status, user)
    session.commit()
    retag_broadcast(session, settings, item)
    mirroring.request_sync(session, settings, item)  # YouTube follows published metadata
    return ItemOut.of(item, user)


def _workflow_api(action: Action):
    def endpoint(item_id: int, session: SessionDep, settings: SettingsDep, store: StorageDep, user: CurrentUser,
                 body: WorkflowIn | None = None) -> ItemOut:
        item = viewable(session, user, item_id)
        if user is None:
            raise HTTPException(401, "Vui lòng đăng nhập.")
        try:
            service.transition(session, item, user, action, body.comment if body else "")
            warnings = _withdraw(session, store, item, action)
        except service.WorkflowError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        session.commit()
        if action == Action.approve:
            retag_broadcast(session, settings, item)
        if action in (Action.approve, Action.unpublish):
            remake_with_jingle(session, settings, item)
            mirroring.request_sync(session, settings, item)
        return ItemOut.of(item, user).model_copy(update={"warnings": warnings})

    endpoint.__name__ = f"{action}_media"
    endpoint.__doc__ = f"Workflow action ``{action}``: {service.ACTION_LABELS[action]}. 403 not allowed, 409 wrong status."
    return endpoint


for _action in WORKFLOW:
    api.post(f"/media/{{item_id}}/{_action}", response_model=ItemOut)(_workflow_api(_action))


@api.get("/media/{item_id}/audit", response_model=list[AuditOut])
def get_audit(item_id: int, session: SessionDep, user: CurrentUser) -> list[AuditOut]:
    """The item's workflow history, for its staff (owner editor, reviewers, admins); 404
    for everyone else, as if the item did not exist."""
    item = session.get(MediaItem, item_id)
    if item is None or not can(user, Action.view_internal, item):
        raise HTTPException(404, NOT_FOUND)
    return audit_rows(item)


@pages.get("/review", response_class=HTMLResponse)
def review_page(request: Request, session: SessionDep, _user: User = Depends(require(Action.review_queue))):
    items = [ItemOut.of(i, _user).model_dump(mode="json") for i in service.review_queue(session)]
    return render(request, "review.html", {"items": items})


def _managed(session, user: User | None, slug: str) -> MediaItem:
    if user is None:
        raise HTTPException(401, "Vui lòng đăng nhập.")
    item = library.get_by_slug(session, slug)
    if item is None or not can(user, Action.view, item):
        raise HTTPException(404, NOT_FOUND)
    return item


@pages.get("/v/{slug}/edit", response_class=HTMLResponse)
def edit_page(slug: str, request: Request, session: SessionDep, user: CurrentUser):
    item = _managed(session, user, slug)
    actions = [a.value for a in WORKFLOW if can(user, a, item)]
    can_edit = can(user, Action.edit, item)
    if not can(user, Action.view_internal, item):  # the page shows the audit log
        raise HTTPException(403, "Bạn không có quyền quản lý nội dung này.")
    context = {
        "item": ItemOut.of(item, user).model_dump(mode="json"),
        "all_topics": [TopicOut.model_validate(t, from_attributes=True).model_dump() for t in legal.list_topics(session)],
        "all_documents": [
            DocumentOut.model_validate(d, from_attributes=True).model_dump(mode="json")
            for d in legal.list_documents(session)
        ],
        "audit": [
            {
                **row.model_dump(mode="json"),
                "from_label": STATUS_LABELS.get(row.from_status) if row.from_status else None,
                "to_label": STATUS_LABELS.get(row.to_status, row.to_status),
            }
            for row in audit_rows(item)
        ],
        "actions": actions,
        "can_edit": can_edit,
        "all_programmes": [{"id": p.id, "name": p.name} for p in radio.programmes(session)],
    }
    return render(request, "edit.html", context)


@pages.post("/v/{slug}/edit")
async def edit_submit(slug: str, request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser):
    item = _managed(session, user, slug)
    _editable(session, user, item)
    form = await request.form()
    try:
        legal.set_item_metadata(
            session,
            item,
            title=str(form.get("title", "")),
            description=str(form.get("description", "")),
            audience=str(form.get("audience", "")),
            topic_ids=[int(v) for v in form.getlist("topic_ids")],
            document_ids=[int(v) for v in form.getlist("document_ids")],
            programme_id=int(form.get("programme_id") or 0),
        )
    except (legal.MetadataError, ValueError) as exc:
        session.rollback()
        flash(request, str(exc) if isinstance(exc, legal.MetadataError) else "Dữ liệu không hợp lệ.", error=True)
        return back(f"/v/{slug}/edit")
    service.record(item, "edit", item.status, user)
    session.commit()
    retag_broadcast(session, settings, item)
    mirroring.request_sync(session, settings, item)
    flash(request, "Đã lưu thông tin.")
    return back(f"/v/{item.slug}/edit")


@pages.post("/v/{slug}/workflow")
async def workflow_submit(slug: str, request: Request, session: SessionDep, settings: SettingsDep,
                          store: StorageDep, user: CurrentUser):
    item = _managed(session, user, slug)
    form = await request.form()
    try:
        action = Action(str(form.get("action", "")))
        if action not in WORKFLOW:
            raise ValueError
    except ValueError:
        raise HTTPException(422, "Thao tác không hợp lệ.") from None
    try:
        service.transition(session, item, user, action, str(form.get("comment", "")))
        warnings = _withdraw(session, store, item, action)
    except service.WorkflowError as exc:
        session.rollback()
        flash(request, str(exc), error=True)
        return back(f"/v/{slug}/edit")
    session.commit()
    if action == Action.approve:
        retag_broadcast(session, settings, item)
    if action in (Action.approve, Action.unpublish):
        remake_with_jingle(session, settings, item)
        mirroring.request_sync(session, settings, item)
    flash(request, " ".join([f"Đã thực hiện: {service.ACTION_LABELS[action]}.", *warnings]))
    return back(f"/v/{slug}/edit")
