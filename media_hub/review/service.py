"""The editorial workflow: draft → in review → published, rejection, unpublishing,
each transition recorded in the audit log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from media_hub.accounts.models import User
from media_hub.db import utcnow
from media_hub.library.models import MediaItem, MediaStatus
from media_hub.policy import Action, can
from media_hub.review.models import AuditEvent

# action → (allowed from, to)
TRANSITIONS: dict[Action, tuple[tuple[MediaStatus, ...], MediaStatus]] = {
    Action.submit: ((MediaStatus.ready,), MediaStatus.in_review),
    Action.approve: ((MediaStatus.in_review,), MediaStatus.published),
    Action.reject: ((MediaStatus.in_review,), MediaStatus.ready),
    Action.unpublish: ((MediaStatus.published,), MediaStatus.ready),
}
ACTION_LABELS = {
    "upload": "Tải lên",
    "processing": "Bắt đầu xử lý",
    "ready": "Xử lý xong",
    "failed": "Xử lý lỗi",
    "submit": "Gửi duyệt",
    "approve": "Duyệt và xuất bản",
    "reject": "Trả lại",
    "unpublish": "Gỡ xuất bản",
    "edit": "Sửa thông tin",
    "subtitles": "Sửa phụ đề",
    "subtitles_reviewed": "Duyệt phụ đề",
}


class WorkflowError(ValueError):
    """Not allowed or not possible now; ``status`` is the HTTP status, ``str()`` Vietnamese."""

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def record(item: MediaItem, action: str, to_status: MediaStatus, actor: User | None = None, comment: str = "") -> None:
    """Move ``item`` to ``to_status`` and append the audit event (actor None: the system)."""
    item.audit.append(
        AuditEvent(actor=actor, action=action, from_status=item.status, to_status=to_status, comment=comment)
    )
    item.status = to_status


def transition(session: Session, item: MediaItem, actor: User, action: Action, comment: str = "") -> None:
    """Apply a workflow action by ``actor``. Raises :class:`WorkflowError` (403 not
    allowed, 409 wrong status, 422 a rejection without a comment). The caller commits."""
    sources, target = TRANSITIONS[action]
    if item.status not in sources:
        raise WorkflowError(f"Không thể “{ACTION_LABELS[action]}” khi nội dung đang ở trạng thái này.", 409)
    if not can(actor, action, item):
        raise WorkflowError("Bạn không có quyền thực hiện thao tác này.", 403)
    comment = comment.strip()
    if action == Action.reject and not comment:
        raise WorkflowError("Khi trả lại, hãy ghi rõ lý do để người biên tập sửa.", 422)
    record(item, action, target, actor, comment)
    if action == Action.reject:
        item.review_comment = comment
    elif action == Action.approve:
        item.review_comment = None
        item.published_at = utcnow()


def review_queue(session: Session) -> list[MediaItem]:
    return list(session.scalars(select(MediaItem).where(MediaItem.status == MediaStatus.in_review).order_by(MediaItem.updated_at)))
