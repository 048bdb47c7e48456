"""Imports every domain's tables so Alembic and the ORM see the whole schema."""

from media_hub.library.models import Job, MediaItem, Rendition  # noqa: F401
