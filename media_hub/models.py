"""Imports every domain's tables so Alembic and the ORM see the whole schema."""

from media_hub.accounts.models import ApiToken, LoginFailure, User  # noqa: F401
from media_hub.channel.models import Channel, ChannelProgramme, ChannelRendition, Rotation  # noqa: F401
from media_hub.captions.models import SubtitleRevision, SubtitleTrack  # noqa: F401
from media_hub.legal.models import LegalDocument, Topic  # noqa: F401
from media_hub.library.models import Job, MediaItem, Rendition  # noqa: F401
from media_hub.imports.models import UrlImport  # noqa: F401
from media_hub.mirror.models import QuotaUsage, YouTubeMirror  # noqa: F401
from media_hub.radio.models import Download, Programme  # noqa: F401
from media_hub.review.models import AuditEvent  # noqa: F401
