"""Sharing: Open Graph / Twitter card tags and share links on the watch page, the
embeddable player and oEmbed, on the embedded hub; the tags and embedded playback
also in a real headless Chromium."""

from __future__ import annotations

import shutil
import urllib.parse

import pytest
from lxml import html

from tests import media_factory as mf

TITLE = "Tình huống: Quyền được thông tin của người dân"
DESCRIPTION = "Người dân có quyền yêu cầu cơ quan nhà nước cung cấp thông tin theo Luật Tiếp cận thông tin."


@pytest.fixture(scope="module")
def shared(embedded_hub, tmp_path_factory) -> dict:
    """A published 16:9 item and an unpublished one."""
    hub = embedded_hub
    folder = tmp_path_factory.mktemp("share")
    ids = []
    for name, title in (("public", TITLE), ("draft", "Bản nháp chưa xuất bản về chia sẻ")):
        src = mf.make_video(folder / f"{name}.mp4", width=1280, height=720, duration=3)
        res = hub.upload(src, title=title, kind="scenario", description=DESCRIPTION)
        assert res.status_code == 201, res.text
        ids.append(res.json()["id"])
    for item_id in ids:
        hub.wait(item_id)
    hub.publish(ids[0])
    return {"public": hub.item(ids[0]), "draft": hub.item(ids[1])}


def meta(page: str) -> dict[str, str]:
    tree = html.fromstring(page)
    found = {}
    for node in tree.xpath("//meta[@property or @name]"):
        found[node.get("property") or node.get("name")] = node.get("content")
    return found


def test_watch_page_carries_open_graph_twitter_card_and_oembed_discovery(embedded_hub, shared):
    hub, item = embedded_hub, shared["public"]
    page = hub.client(None).get(item["watch_url"]).text
    tags = meta(page)
    watch, embed = f"{hub.url}/v/{item['slug']}", f"{hub.url}/embed/{item['slug']}"
    assert tags["og:type"] == "video.other" and tags["og:title"] == TITLE and tags["og:locale"] == "vi_VN"
    assert tags["og:description"] == DESCRIPTION and tags["og:url"] == watch
    assert tags["og:image"] == hub.url + item["poster_url"]
    assert tags["og:video"] == embed and tags["og:video:type"] == "text/html"
    assert (tags["og:video:width"], tags["og:video:height"]) == ("640", "360")
    assert tags["twitter:card"] == "player" and tags["twitter:player"] == embed
    assert (tags["twitter:player:width"], tags["twitter:player:height"]) == ("640", "360")
    assert tags["twitter:title"] == TITLE and tags["twitter:image"] == tags["og:image"]
    tree = html.fromstring(page)
    (link,) = tree.xpath('//link[@rel="alternate"][@type="application/json+oembed"]')
    assert link.get("href") == f"{hub.url}/oembed?url={urllib.parse.quote(watch, safe='')}&format=json"
    assert link.get("title") == TITLE
    hrefs = tree.xpath("//a/@href")
    assert f"https://www.facebook.com/sharer/sharer.php?u={urllib.parse.quote(watch, safe='')}" in hrefs
    assert f"https://sp.zalo.me/share_inline?url={urllib.parse.quote(watch, safe='')}" in hrefs
    assert "Sao chép liên kết" in page and "Nhúng video" in page
    (snippet,) = tree.xpath('//textarea[@id="embed-code"]/text()')
    assert snippet.startswith(f'<iframe src="{embed}" width="640" height="360"')

    draft = hub.client("admin").get(shared["draft"]["watch_url"]).text
    assert "og:video" not in draft and "Nhúng video" not in draft and "oembed" not in draft


def test_embed_page_is_only_the_player_and_may_be_framed(embedded_hub, shared):
    hub, item = embedded_hub, shared["public"]
    res = hub.client(None).get(f"/embed/{item['slug']}")
    assert res.status_code == 200 and res.headers["content-security-policy"] == "frame-ancestors *"
    assert "x-frame-options" not in res.headers and "set-cookie" not in res.headers
    tree = html.fromstring(res.text)
    assert tree.xpath("//video[@id='player']") and tree.xpath("//script[contains(@src, 'vendor/hls.js/hls.min.js')]")
    assert not tree.xpath("//header") and not tree.xpath("//nav")
    assert hub.client("admin").get(f"/embed/{shared['draft']['slug']}").status_code == 404  # published only
    assert hub.client(None).get("/embed/khong-co").status_code == 404


def test_oembed_json_for_published_watch_pages(embedded_hub, shared):
    hub, item = embedded_hub, shared["public"]
    anonymous = hub.client(None)
    watch = f"{hub.url}/v/{item['slug']}"
    res = anonymous.get("/oembed", params={"url": watch, "format": "json"})
    assert res.status_code == 200 and res.headers["content-type"].startswith("application/json")
    body = res.json()
    assert body["version"] == "1.0" and body["type"] == "video" and body["title"] == TITLE
    assert body["author_name"] == body["provider_name"] == "Sở Tư pháp" and body["provider_url"] == hub.url + "/"
    assert (body["width"], body["height"]) == (640, 360)
    assert body["html"].startswith(f'<iframe src="{hub.url}/embed/{item["slug"]}" width="640" height="360"')
    assert body["thumbnail_url"] == hub.url + item["poster_url"]
    assert (body["thumbnail_width"], body["thumbnail_height"]) == (1280, 720)
    small = anonymous.get("/oembed", params={"url": watch, "maxwidth": 320, "maxheight": 400}).json()
    assert (small["width"], small["height"]) == (320, 180) and 'width="320" height="180"' in small["html"]
    assert anonymous.get("/oembed", params={"url": watch, "format": "xml"}).status_code == 501
    draft = f"{hub.url}/v/{shared['draft']['slug']}"
    for url in (draft, f"{hub.url}/v/khong-co", f"https://example.org/v/{item['slug']}", hub.url + "/"):
        assert anonymous.get("/oembed", params={"url": url}).status_code == 404, url


@pytest.mark.browser
def test_browser_reads_the_card_and_plays_the_embedded_player(embedded_hub, shared):
    from playwright.sync_api import sync_playwright

    hub, item = embedded_hub, shared["public"]
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (./mh test installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            context = browser.new_context(locale="vi-VN")
            errors: list[str] = []
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{hub.url}{item['watch_url']}")
            og = {name: page.get_attribute(f'meta[property="{name}"]', "content")
                  for name in ("og:title", "og:video", "og:image", "og:url")}
            assert og == {"og:title": TITLE, "og:video": f"{hub.url}/embed/{item['slug']}",
                          "og:image": hub.url + item["poster_url"], "og:url": f"{hub.url}/v/{item['slug']}"}

            # Another site frames the player (about:blank is another origin); playback starts there.
            embed = f"{hub.url}/embed/{item['slug']}?autoplay=1"
            page.set_content(f'<iframe id="f" src="{embed}" width="640" height="360" allow="autoplay"></iframe>')
            frame = page.frame_locator("#f")
            frame.locator("video#player").wait_for(timeout=30_000)
            handle = page.query_selector("#f").content_frame()
            handle.wait_for_function("() => document.querySelector('video').currentTime > 0.5", timeout=30_000)
            assert handle.evaluate("() => window.hubPlayer !== null && document.querySelector('video').paused") is False
            assert errors == [], errors
        finally:
            browser.close()
