"""Published media can be given public (CDN) URLs; unpublished media never."""

from __future__ import annotations

import pytest

from media_hub.config import get_settings
from media_hub.library.models import MediaItem, MediaStatus
from media_hub.library.schemas import media_url


@pytest.fixture
def cdn(monkeypatch):
    monkeypatch.setenv("MEDIA_HUB_MEDIA_BASE_URL", "https://cdn.example.vn/hub/")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_published_media_uses_the_public_base(cdn):
    item = MediaItem(status=MediaStatus.published)
    assert media_url(item, "media/abc/hls-1-1/master.m3u8") == "https://cdn.example.vn/hub/media/abc/hls-1-1/master.m3u8"


@pytest.mark.parametrize("status", [s for s in MediaStatus if s != MediaStatus.published])
def test_unpublished_media_stays_behind_the_permission_check(cdn, status):
    assert media_url(MediaItem(status=status), "media/abc/poster.jpg") == "/media/media/abc/poster.jpg"
