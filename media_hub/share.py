"""Sharing published items: Open Graph / Twitter card data for the watch page, share
links (Facebook, Zalo), the embeddable player ``/embed/{slug}`` and oEmbed.

* ``/embed/{slug}``: only the player (the vendored hls.js), for published items
  (404 otherwise, whoever asks: an embed is public by nature). Framing is
  allowed everywhere (``Content-Security-Policy: frame-ancestors *``, no
  ``X-Frame-Options``); the page uses no session, so it works in third-party
  iframes where the hub's SameSite=Lax cookie is not sent.
* ``/oembed?url=<watch URL>&format=json`` (oEmbed 1.0, type "video"): JSON only
  (501 for other formats), 404 for unknown or unpublished items.
* Share links: Facebook's ``sharer.php?u=``; Zalo documents only its JavaScript
  share plugin (needs an Official Account id and a third-party script), so the
  hub links to ``https://sp.zalo.me/share_inline?url=<watch URL>``, the SDK-free
  form in wide use (undocumented by Zalo: check it on deployment). On phones the page also offers the system share sheet
  (Web Share API), where the Zalo app appears.

Absolute URLs are built on ``MEDIA_HUB_PUBLIC_BASE_URL``: that is what social
networks fetch and what embedding sites link to.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse
from markupsafe import escape

import players
from media_hub.deps import SessionDep, SettingsDep
from media_hub.library import service as library
from media_hub.library.models import MediaItem, MediaStatus
from media_hub.library.schemas import ItemOut, media_url
from media_hub.links import public_base

api = APIRouter(prefix="/api/v1", tags=["sharing"])
pages = APIRouter(include_in_schema=False)
NOT_FOUND = "Không tìm thấy nội dung này."
BOX = 640  # default player size: the video fitted into a 640×640 box (640×360 for 16:9)
PUBLIC_CACHE = "public, max-age=300"


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def base_url(request: Request) -> str:
    return public_base(request.app.state.settings, request)


def absolute(base: str, url: str | None) -> str | None:
    """``url`` (relative to the hub, or already absolute: a CDN) as an absolute URL."""
    return urllib.parse.urljoin(base + "/", url) if url else None


def frame_size(renditions: list[dict], maxwidth: int | None = None, maxheight: int | None = None) -> tuple[int, int]:
    """Player size for the item's picture: fitted into a 640×640 box (16:9 → 640×360),
    then into ``maxwidth`` × ``maxheight`` when given; even pixels."""
    w, h = next(((r["width"], r["height"]) for r in renditions if r.get("width") and r.get("height")), (16, 9))
    scale = min(BOX / w, BOX / h)
    if maxwidth:
        scale = min(scale, maxwidth / w)
    if maxheight:
        scale = min(scale, maxheight / h)
    return max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2)


def poster_size(renditions: list[dict]) -> tuple[int, int]:
    """Size of the poster the transcoder made: the picture at most 1280 pixels wide."""
    w, h = next(((r["width"], r["height"]) for r in renditions if r.get("width") and r.get("height")), (1280, 720))
    pw = min(1280, w) // 2 * 2
    return pw, max(2, round(h * pw / w / 2) * 2)


def summary(item: dict, limit: int = 300) -> str:
    """The first words of the description (or the kind of content), for cards."""
    text = " ".join((item.get("description") or "").split())
    if not text:
        text = f"{item.get('kind_label') or 'Video'} phổ biến, giáo dục pháp luật: {item['title']}"
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def iframe_html(embed_url: str, title: str, width: int, height: int) -> str:
    return (f'<iframe src="{escape(embed_url)}" width="{width}" height="{height}" title="{escape(title)}" '
            'frameborder="0" allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>')


def share_info(request: Request, item: dict) -> dict[str, Any] | None:
    """Everything the watch page needs to be shared (None unless the item is published):
    absolute watch/embed/oEmbed/poster URLs, player size, card description, share links
    and the ``<iframe>`` snippet. ``item`` is an ``ItemOut`` dump."""
    if item.get("status") != MediaStatus.published:
        return None
    base = base_url(request)
    watch = f"{base}/v/{_q(item['slug'])}"
    embed = f"{base}/embed/{_q(item['slug'])}"
    width, height = frame_size(item.get("renditions") or [])
    return {
        "watch_url": watch,
        "embed_url": embed,
        "oembed_url": f"{base}/oembed?url={_q(watch)}&format=json",
        "poster_url": absolute(base, item.get("poster_url")),
        "description": summary(item),
        "width": width,
        "height": height,
        "site_name": request.app.state.settings.publisher,
        "facebook_url": f"https://www.facebook.com/sharer/sharer.php?u={_q(watch)}",
        "zalo_url": f"https://sp.zalo.me/share_inline?url={_q(watch)}",
        "iframe": iframe_html(embed, item["title"], width, height),
    }


players.templates.env.globals["share_info"] = share_info


def _published(session, slug: str) -> MediaItem:
    item = library.get_by_slug(session, slug)
    if item is None or item.status != MediaStatus.published:
        raise HTTPException(404, NOT_FOUND)
    return item


@pages.get("/embed/{slug}", response_class=HTMLResponse)
def embed_page(slug: str, request: Request, session: SessionDep,
               autoplay: bool = Query(False, description="Start playing (muted) at once.")):
    """Only the player, for embedding in other sites (published items)."""
    item = _published(session, slug)
    out = ItemOut.of(item, None).model_dump(mode="json")
    base = base_url(request)
    response = players.templates.TemplateResponse(request, "embed.html", {
        "item": out,
        "watch_url": f"{base}/v/{_q(item.slug)}",
        "master_url": media_url(item, item.master_key),
        "autoplay": autoplay,
    })
    response.headers["Content-Security-Policy"] = "frame-ancestors *"
    response.headers["Cache-Control"] = PUBLIC_CACHE
    return response


def _slug_of(url: str, base: str) -> str | None:
    """The slug of a watch (or embed) URL of this hub, else None."""
    parts, own = urllib.parse.urlsplit(url.strip()), urllib.parse.urlsplit(base)
    if parts.scheme not in ("http", "https") or parts.netloc.lower() != own.netloc.lower():
        return None
    prefix = own.path.rstrip("/")
    path = urllib.parse.unquote(parts.path)
    for kind in ("/v/", "/embed/"):
        if path.startswith(prefix + kind):
            slug = path[len(prefix + kind):].strip("/")
            return slug if slug and "/" not in slug else None
    return None


@pages.get("/oembed")
def oembed(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    url: str = Query(..., max_length=2000, description="Watch page URL of a published item."),
    format: str = Query("json", max_length=10),
    maxwidth: int | None = Query(None, ge=1, le=10000),
    maxheight: int | None = Query(None, ge=1, le=10000),
):
    """oEmbed 1.0 (https://oembed.com/) for watch pages: type "video" with an ``<iframe>``."""
    if format != "json":
        raise HTTPException(501, "Chỉ hỗ trợ định dạng JSON.")
    base = base_url(request)
    slug = _slug_of(url, base)
    if slug is None:
        raise HTTPException(404, NOT_FOUND)
    item = _published(session, slug)
    out = ItemOut.of(item, None).model_dump(mode="json")
    width, height = frame_size(out["renditions"], maxwidth, maxheight)
    embed = f"{base}/embed/{_q(item.slug)}"
    body: dict[str, Any] = {
        "version": "1.0",
        "type": "video",
        "title": item.title,
        "author_name": settings.publisher,
        "author_url": base + "/",
        "provider_name": settings.publisher,
        "provider_url": base + "/",
        "cache_age": 3600,
        "html": iframe_html(embed, item.title, width, height),
        "width": width,
        "height": height,
    }
    poster = absolute(base, out["poster_url"])
    if poster:
        tw, th = poster_size(out["renditions"])
        body.update(thumbnail_url=poster, thumbnail_width=tw, thumbnail_height=th)
    return JSONResponse(body, headers={"Cache-Control": PUBLIC_CACHE})
