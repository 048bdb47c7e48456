"""Who may do what: the one place where permissions are decided.

Roles: ``admin`` (everything), ``editor`` (uploads and edits their own items and
subtitles, submits them for review), ``reviewer`` (approves/publishes, rejects
with a comment, unpublishes), ``radio_staff`` (downloads radio material);
anonymous viewers (``user is None``) see only published items.

References between objects. Whatever airs — a channel programme or filler, a radio
programme's intro/outro jingle — goes out to the public, so it may refer only to a
*published* item (``Action.reference``, checked when the reference is saved, and
:func:`may_air`, checked again whenever output is built: a jingle or filler unpublished
later is skipped, not aired). Answers that name another item (an import's duplicate)
name it only to those who may view it (``Action.view``).
"""

from __future__ import annotations

import enum

from sqlalchemy import ColumnElement, false, or_, true

from media_hub.accounts.models import Role, User
from media_hub.library.models import MediaItem, MediaKind, MediaStatus


class Action(enum.StrEnum):
    view = "view"  # item page, playlists, segments, posters, subtitles
    download_original = "download_original"
    download_radio = "download_radio"  # broadcast audio of a published item
    radio_report = "radio_report"  # download statistics per administrative unit
    upload = "upload"
    edit = "edit"  # metadata and subtitles
    view_internal = "view_internal"  # audit log, original file name, checksum, job errors, mirror state
    reference = "reference"  # make something that airs (programme, filler, jingle) use the item
    submit = "submit"  # for review
    approve = "approve"  # publish after review
    reject = "reject"
    unpublish = "unpublish"
    review_queue = "review_queue"
    manage_taxonomy = "manage_taxonomy"  # topics and legal documents
    manage_schedule = "manage_schedule"  # the channel's programmes, rotations, filler
    manage_channels = "manage_channels"  # create channels
    manage_users = "manage_users"
    use_api_tokens = "use_api_tokens"


ITEM_ACTIONS = frozenset({Action.view, Action.download_original, Action.download_radio, Action.edit,
                          Action.view_internal, Action.reference, Action.submit, Action.approve, Action.reject,
                          Action.unpublish})
DRAFT = (MediaStatus.uploaded, MediaStatus.processing, MediaStatus.ready, MediaStatus.failed)
REVIEWERS = (Role.admin, Role.reviewer)


def _owns(user: User, item: MediaItem) -> bool:
    return item.owner_id is not None and item.owner_id == user.id


def may_air(item: MediaItem | None) -> bool:
    """Whether ``item`` may go out to the public inside something else (channel, broadcast
    MP3, feeds): only while it is published. Ask it again each time output is built."""
    return item is not None and item.status == MediaStatus.published


def airable_items() -> ColumnElement[bool]:
    """SQL condition selecting the items :func:`may_air` accepts."""
    return MediaItem.status == MediaStatus.published


def can(user: User | None, action: Action, item: MediaItem | None = None) -> bool:
    """Whether ``user`` (None: anonymous) may do ``action`` (on ``item`` where it applies)."""
    role = user.role if user is not None and user.is_active else None
    if item is None and action in ITEM_ACTIONS:  # nothing to act on (e.g. an unknown id)
        return False
    if action == Action.reference:  # what airs is public: published only, admins included
        return role in (Role.admin, Role.editor, Role.reviewer) and may_air(item)
    if role == Role.admin:
        return True
    published = item is not None and item.status == MediaStatus.published
    match action:
        case Action.view:
            return published or role == Role.reviewer or (role == Role.editor and _owns(user, item))
        case Action.download_original:
            return role == Role.reviewer or (role == Role.editor and _owns(user, item)) or (
                role == Role.radio_staff and published and item.kind == MediaKind.radio
            )
        case Action.download_radio:  # published legal education is for everyone to rebroadcast
            return published
        case Action.radio_report:
            return role == Role.reviewer
        case Action.upload:
            return role == Role.editor
        case Action.edit:
            return role == Role.reviewer or (role == Role.editor and _owns(user, item) and item.status in DRAFT)
        case Action.view_internal:  # the item's staff: its owner editor and the reviewers
            return role == Role.reviewer or (role == Role.editor and _owns(user, item))
        case Action.submit:
            return role == Role.editor and _owns(user, item) and item.status == MediaStatus.ready
        case Action.approve | Action.reject:
            return role == Role.reviewer and item.status == MediaStatus.in_review
        case Action.unpublish:
            return role == Role.reviewer and published
        case Action.review_queue:
            return role == Role.reviewer
        case Action.manage_taxonomy | Action.manage_schedule:
            return role in (Role.editor, Role.reviewer)
        case Action.manage_channels:
            return False
        case Action.use_api_tokens:
            return role is not None
        case Action.manage_users:
            return False
    return False


def visible_items(user: User | None) -> ColumnElement[bool]:
    """SQL condition selecting the items ``user`` may view (same rule as ``can(view)``)."""
    role = user.role if user is not None and user.is_active else None
    if role in REVIEWERS:
        return true()
    published = MediaItem.status == MediaStatus.published
    if role == Role.editor:
        return or_(published, MediaItem.owner_id == user.id)
    return published if role is not None or user is None else false()
