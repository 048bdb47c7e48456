"""Public links follow the address the hub serves (issue 10 item 8), /docs works offline,
and personal feed keys stay out of the access log (item 9)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import feedparser
import httpx
import pytest
from starlette.requests import Request

from media_hub.accesslog import redact
from media_hub.config import Settings
from media_hub.links import VIA_PROXY, public_base
from tests import media_factory as mf
from tests.hub import Hub

PROXY = "127.0.0.2"  # Linux answers the whole of 127.0.0.0/8: a second loopback "machine"
PUBLIC = "phapluat.example.vn"


def request(host: str | None, *, via_proxy: bool = False, scheme: str = "http", **headers: str) -> Request:
    raw = [(b"host", host.encode())] if host is not None else []
    raw += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    scope = {"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": raw,
             "scheme": scheme, "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 5000)}
    if via_proxy:
        scope["state"] = {VIA_PROXY: True}
    return Request(scope)


def test_public_base_order():
    served = Settings(port=8201)
    assert public_base(served) == "http://127.0.0.1:8201"
    assert public_base(Settings(host="::1", port=8201)) == "http://[::1]:8201"
    # A bound address is known: a client's Host header does not move the links...
    assert public_base(served, request("evil.example", x_forwarded_host="evil.example")) == "http://127.0.0.1:8201"
    # ...on every interface there is no one address: the one the client reached, if well formed.
    everywhere = Settings(host="0.0.0.0", port=8201)
    assert public_base(everywhere, request("192.168.1.20:8201")) == "http://192.168.1.20:8201"
    assert public_base(everywhere, request("[fd00::5]:8201")) == "http://[fd00::5]:8201"
    for bad in ("evil.example/x", "a b", "", "x@y", "h:port"):
        assert public_base(everywhere, request(bad)) == "http://127.0.0.1:8201", bad
    assert public_base(everywhere, request(None)) == "http://127.0.0.1:8201"
    assert public_base(everywhere) == "http://127.0.0.1:8201"
    # A trusted proxy's forwarded host and scheme (else the Host it passed on).
    relayed = request("127.0.0.1:8201", via_proxy=True, scheme="https", x_forwarded_host=f"{PUBLIC}, other")
    assert public_base(served, relayed) == f"https://{PUBLIC}"
    assert public_base(served, request(PUBLIC, via_proxy=True)) == f"http://{PUBLIC}"
    # The configured address wins over everything.
    fixed = Settings(public_base_url="https://tuphap.example.vn/hub/", port=8201)
    assert public_base(fixed, relayed) == "https://tuphap.example.vn/hub"


def test_redact_keeps_only_the_shape():
    assert redact("/radio/feed.xml?key=S3cr3t") == "/radio/feed.xml?key=***"
    assert redact("/a?x=1&k%65y=S&KEY=T&keys=1") == "/a?x=1&k%65y=***&KEY=***&keys=1"
    assert redact("/radio/feed.xml") == "/radio/feed.xml"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A hub without MEDIA_HUB_PUBLIC_BASE_URL, on a port that is not 8000 (``serve
    --port``), trusting one proxy address; a published radio item."""
    folder = tmp_path_factory.mktemp("links")
    hub = Hub(folder, {"MEDIA_HUB_PUBLIC_BASE_URL": "", "MEDIA_HUB_TRUSTED_PROXIES": PROXY,
                       "MEDIA_HUB_ASR_ENABLED": "false"}).start()
    hub.start_worker()
    item = hub.wait(hub.upload(mf.make_video(folder / "clip.mp4", duration=2), title="Tiểu phẩm: Đường dẫn",
                               kind="radio").json()["id"])
    assert item["status"] == "ready", item
    hub.publish(item["id"])
    from tests.test_radio import wait_job

    assert wait_job(hub, item["id"], "broadcast")["state"] == "succeeded"
    yield hub, hub.item(item["id"])
    hub.stop()


def links(client: httpx.Client, item: dict) -> list[str]:
    """Every absolute link of the M3U, the podcast feed, oEmbed, the sitemap and the watch
    page's Open Graph tags, as ``client`` gets them."""
    found = re.findall(r'https?://[^"\s]+', client.get("/channels.m3u").text)
    feed = feedparser.parse(client.get("/radio/feed.xml").content)
    found += [feed.feed.link] + [link.href for link in feed.feed.links]
    found += [e.link for e in feed.entries] + [e.enclosures[0].href for e in feed.entries]
    page = client.get(item["watch_url"]).text
    found += re.findall(r'<meta property="og:(?:url|image|video)" content="([^"]+)"', page)
    watch = next(u for u in found if u.endswith(item["watch_url"]))
    oembed = client.get("/oembed", params={"url": watch}).json()
    found += [oembed["provider_url"], oembed["thumbnail_url"], re.search(r'src="([^"]+)"', oembed["html"])[1]]
    found += [loc.text for loc in ET.fromstring(client.get("/sitemap.xml").content).iter()
              if loc.tag.endswith("loc")]
    return found


def test_links_follow_the_served_port_not_forwarded_headers(served):
    hub, item = served
    assert not hub.url.endswith(":8000")
    forged = {"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=hub.url, headers=forged, timeout=60) as anonymous:  # from 127.0.0.1: not a proxy
        found = links(anonymous, item)
    assert len(found) >= 10 and all(u.startswith(hub.url + "/") for u in found), found


def test_links_behind_a_trusted_proxy(served):
    hub, item = served
    proxy = httpx.Client(base_url=hub.url, transport=httpx.HTTPTransport(local_address=PROXY), timeout=60,
                         headers={"X-Forwarded-Host": PUBLIC, "X-Forwarded-Proto": "https",
                                  "X-Forwarded-For": "203.0.113.7"})
    with proxy:
        found = links(proxy, item)
    assert len(found) >= 10 and all(u.startswith(f"https://{PUBLIC}/") for u in found), found


def test_docs_work_offline(served):
    hub, _ = served
    anonymous = hub.client(None)
    for page in ("/docs", "/redoc"):
        html = anonymous.get(page).text
        assert "cdn." not in html and "fonts.googleapis" not in html
        urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*'([^']+)'""", html)
        urls = [a or b for a, b in urls]
        assert urls and not [u for u in urls if re.match(r"(https?:)?//", u)], urls
        for url in urls:
            res = anonymous.get(url)
            assert res.status_code == 200 and len(res.content) > 100, url
    assert anonymous.get("/openapi.json").json()["info"]["title"] == "media-hub"


def test_feed_key_is_not_in_the_access_log(served):
    hub, item = served
    staff = hub.client("radio_staff")
    assert staff.post("/account/feed-key").status_code in (200, 303)
    account = staff.get("/account").text
    feed_url = re.search(r'(http://[^"<\s]+/radio/feed\.xml\?key=([A-Za-z0-9_-]+))', account)
    assert feed_url and feed_url[1].startswith(hub.url), account
    key = feed_url[2]
    with httpx.Client(timeout=60) as radio_system:  # a smart radio system with only the address
        feed = feedparser.parse(radio_system.get(feed_url[1]).content)
        enclosure = feed.entries[0].enclosures[0].href
        assert key in enclosure
        assert radio_system.get(enclosure).status_code == 200
    log = (hub.logs / "server.log").read_text(errors="replace")
    assert "GET /radio/feed.xml?key=***" in log and "broadcast.mp3?key=***" in log, log
    assert key not in log
