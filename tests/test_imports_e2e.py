"""Imports from URLs end to end: a real hub and worker download from a local HTTP server
(127.0.0.1 allowed with MEDIA_HUB_IMPORT_ALLOW) with yt-dlp; plus the stale-import sweep."""

from __future__ import annotations

import functools
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import FAST_RECOVERY
from tests.hub import Hub

FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
MAX_BYTES = 1_500_000


def clip(seconds: float, crf: int, frequency: int) -> list[str]:
    return ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", f"sine=frequency={frequency}",
            "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-crf", str(crf),
            "-c:a", "aac", "-shortest"]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        try:
            super().do_GET()
        except ConnectionError:  # the client gave up (size cap)
            pass


def serve(root, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    seen: list[str] = []

    class Handler(_Quiet):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

    server = ThreadingHTTPServer((host, 0), functools.partial(Handler, directory=str(root)))
    server.daemon_threads = True
    server.seen = seen
    server.base = f"http://{host}:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small MP4 (and the same bytes under a second URL), an HLS stream and a file over the cap."""
    root = tmp_path_factory.mktemp("site")
    subprocess.run([*FFMPEG, *clip(4, 30, 440), "-movflags", "+faststart", str(root / "tieu-pham.mp4")],
                   check=True, capture_output=True, timeout=60)
    for copy in ("ban-sao", "ban-sao-khac"):
        (root / copy).mkdir()
        shutil.copy(root / "tieu-pham.mp4", root / copy / "cung-tep.mp4")
    (root / "hls").mkdir()
    subprocess.run([*FFMPEG, *clip(4, 30, 660), "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(root / "hls" / "seg%03d.ts"), str(root / "hls" / "index.m3u8")],
                   check=True, capture_output=True, timeout=60)
    subprocess.run([*FFMPEG, *clip(4, 4, 880), "-movflags", "+faststart", str(root / "lon.mp4")],
                   check=True, capture_output=True, timeout=60)
    assert (root / "tieu-pham.mp4").stat().st_size < MAX_BYTES < (root / "lon.mp4").stat().st_size
    server = serve(root)
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    env = {
        **FAST_RECOVERY,
        "MEDIA_HUB_ASR_ENABLED": "false",
        "MEDIA_HUB_WORKER_CONCURRENCY": "2",
        "MEDIA_HUB_IMPORT_ALLOW": "127.0.0.1",
        "MEDIA_HUB_IMPORT_MAX_BYTES": str(MAX_BYTES),
    }
    hub = Hub(tmp_path_factory.mktemp("imports"), env).start()
    hub.start_worker()
    yield hub
    hub.stop()


def ask(hub: Hub, url: str, title: str | None = None, role: str = "editor"):
    with hub.client(role) as client:
        return client.post("/api/v1/imports", json={"url": url, "kind": "skit", "title": title})


def wait_import(hub: Hub, import_id: int, until=("done", "duplicate", "failed"), timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    with hub.client("editor") as editor:
        while time.monotonic() < deadline:
            imp = editor.get(f"/api/v1/imports/{import_id}").json()
            if imp["state"] in until:
                return imp
            time.sleep(0.3)
    raise AssertionError(f"import {import_id} still {imp}\n{hub.log('worker0')}")


@pytest.fixture(scope="module")
def first(hub, site) -> dict:
    res = ask(hub, site.base + "/tieu-pham.mp4", "Tiểu phẩm: Hòa giải ở cơ sở")
    assert res.status_code == 202, res.text
    assert res.json()["state"] == "queued" and res.json()["kind_label"] == "Tiểu phẩm"
    imp = wait_import(hub, res.json()["id"])
    assert imp["state"] == "done", imp
    return imp


def test_direct_mp4_becomes_an_item_with_its_source(hub, site, first):
    item = hub.wait(first["item_id"])
    assert item["status"] == "ready" and item["renditions"]
    assert item["title"] == "Tiểu phẩm: Hòa giải ở cơ sở" and item["owner_name"] == "editor"
    assert item["source_url"] == site.base + "/tieu-pham.mp4"
    assert "127.0.0.1" in item["source_attribution"]
    assert site.base + "/tieu-pham.mp4" in item["description"]
    assert item["checksum"] and first["item_url"] == f"/v/{item['slug']}" and first["progress"] == 1.0
    assert first["job_id"] == item["job"]["id"]
    with hub.client("editor") as editor:
        page = editor.get(item["watch_url"]).text
    assert "Nguồn" in page and site.base + "/tieu-pham.mp4" in page


def test_same_url_again_is_refused_with_the_item(hub, site, first):
    res = ask(hub, site.base + "/tieu-pham.mp4#xem", role="admin")  # the same URL, normalized
    assert res.status_code == 409
    assert res.json()["item_id"] == first["item_id"] and "đã được nhập" in res.json()["detail"]


def test_same_file_under_another_url_is_a_duplicate_of_the_first_item(hub, site, first):
    res = ask(hub, site.base + "/ban-sao/cung-tep.mp4")
    assert res.status_code == 202, res.text
    imp = wait_import(hub, res.json()["id"])
    assert imp["state"] == "duplicate" and imp["duplicate_of"] == first["item_id"] and imp["item_id"] is None
    assert imp["duplicate_url"] == first["item_url"] and imp["note"] == "Video này đã có trong thư viện."


def test_duplicates_do_not_name_an_item_the_importer_may_not_view(hub, site, first):
    """``first`` is editor's unpublished item: another editor learns only that the video is
    already in the library (no id, no slug, no import of someone else)."""
    if "editor2" not in hub.tokens:
        assert hub.cli("users", "create", "editor2", "--role", "editor", "--password", "mật-khẩu-thử-nghiệm").returncode == 0
        hub.tokens["editor2"] = hub.cli("users", "token", "editor2").stdout.strip()
    slug = first["item_url"].removeprefix("/v/")
    res = ask(hub, site.base + "/tieu-pham.mp4", role="editor2")  # the same URL
    assert res.status_code == 409 and "đã được nhập" in res.json()["detail"]
    assert "item_id" not in res.json() and "import_id" not in res.json() and slug not in res.text
    res = ask(hub, site.base + "/ban-sao-khac/cung-tep.mp4", role="editor2")  # the same file
    assert res.status_code == 202, res.text
    deadline = time.monotonic() + 90
    with hub.client("editor2") as editor2:
        while (imp := editor2.get(f"/api/v1/imports/{res.json()['id']}")).json()["state"] not in ("duplicate", "failed"):
            assert time.monotonic() < deadline, imp.json()
            time.sleep(0.3)
        page = editor2.get("/imports").text
    assert imp.json()["state"] == "duplicate" and imp.json()["note"] == "Video này đã có trong thư viện."
    assert imp.json()["duplicate_of"] is None and imp.json()["duplicate_url"] is None and slug not in imp.text
    assert "Video này đã có trong thư viện." in page and slug not in page


def test_hls_stream_becomes_an_item(hub, site):
    res = ask(hub, site.base + "/hls/index.m3u8")
    assert res.status_code == 202, res.text
    imp = wait_import(hub, res.json()["id"])
    assert imp["state"] == "done", imp
    item = hub.wait(imp["item_id"])
    assert item["status"] == "ready" and abs(item["duration"] - 4) < 0.5
    assert item["title"]  # the source's title when none was asked for
    assert item["source_url"] == site.base + "/hls/index.m3u8"


def test_file_over_the_size_cap_fails_with_the_reason(hub, site):
    res = ask(hub, site.base + "/lon.mp4")
    assert res.status_code == 202, res.text
    imp = wait_import(hub, res.json()["id"])
    assert imp["state"] == "failed" and imp["item_id"] is None
    assert imp["error"] == "Tệp lớn hơn giới hạn 1,43 MB."


def test_private_addresses_are_refused_before_any_connection(hub, tmp_path):
    canary = serve(tmp_path, "127.0.0.2")  # loopback, but not on the allow list
    try:
        with hub.client("editor") as editor:
            before = len(editor.get("/api/v1/imports").json()["imports"])
            for url in ("http://10.0.0.1/x.mp4", "http://169.254.169.254/latest/meta-data/",
                        f"{canary.base}/x.mp4", "http://[::1]/x.mp4", "file:///etc/passwd"):
                res = editor.post("/api/v1/imports", json={"url": url, "kind": "skit"})
                assert res.status_code == 422, (url, res.text)
                assert res.json()["detail"].startswith(("Không được tải từ địa chỉ nội bộ", "Chỉ nhận địa chỉ"))
            assert len(editor.get("/api/v1/imports").json()["imports"]) == before
        time.sleep(0.5)
        assert canary.seen == []
    finally:
        canary.shutdown()
        canary.server_close()


def test_who_may_import_and_see_imports(hub, site, first):
    assert ask(hub, site.base + "/khac.mp4", role="reviewer").status_code == 403
    with hub.client(None) as anonymous:
        assert anonymous.post("/api/v1/imports", json={"url": site.base + "/x.mp4", "kind": "skit"}).status_code == 401
        assert anonymous.get(f"/api/v1/imports/{first['id']}").status_code == 404
    with hub.client("reviewer") as reviewer, hub.client("admin") as admin, hub.client("editor") as editor:
        assert reviewer.get(f"/api/v1/imports/{first['id']}").status_code == 404
        assert reviewer.get("/api/v1/imports").json()["imports"] == []
        assert first["id"] in [i["id"] for i in admin.get("/api/v1/imports").json()["imports"]]
        page = editor.get("/imports")
        assert page.status_code == 200 and "Nhập video từ địa chỉ web" in page.text and site.base in page.text
        assert reviewer.get("/imports").status_code == 403
        assert editor.post("/api/v1/imports", json={"url": site.base + "/y.mp4", "kind": "phim"}).status_code == 422
        # The page's form works without JavaScript too.
        res = editor.post("/imports", data={"url": site.base + "/khong-co.mp4", "kind": "radio"}, follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"] == "/imports"
        latest = editor.get("/api/v1/imports").json()["imports"][0]
        assert latest["url"] == site.base + "/khong-co.mp4" and latest["kind"] == "radio"
    failed = wait_import(hub, latest["id"])
    assert failed["state"] == "failed" and "404" in failed["error"]


# -- in-process: the stale-import sweep --------------------------------------------------------

def test_an_interrupted_import_is_requeued_once_then_failed(tmp_path):
    from media_hub import db
    from media_hub.config import Settings
    from media_hub.db import session_scope, utcnow
    from media_hub.imports import service
    from media_hub.imports.models import ImportState, UrlImport

    settings = Settings(data_dir=tmp_path, job_stale_seconds=30)
    db.upgrade(settings.db_url)
    with session_scope(settings.db_url) as s:
        imp = UrlImport(url="https://example.org/v.mp4", normalized_url="https://example.org/v.mp4", kind="skit",
                        state=ImportState.queued)
        s.add(imp)
        s.flush()
        import_id = imp.id
    assert service.claim(settings, import_id) and not service.claim(settings, import_id)
    assert service.requeue_stale(settings) == []  # heartbeat fresh

    def age():
        with session_scope(settings.db_url) as s:
            s.get(UrlImport, import_id).updated_at = utcnow() - timedelta(seconds=31)

    age()
    assert service.requeue_stale(settings) == [import_id]
    with session_scope(settings.db_url) as s:
        row = s.get(UrlImport, import_id)
        assert (row.state, row.error) == (ImportState.queued, service.RETRY_NOTE)
    assert service.claim(settings, import_id)
    age()
    assert service.requeue_stale(settings) == []
    with session_scope(settings.db_url) as s:
        row = s.get(UrlImport, import_id)
        assert (row.state, row.error) == (ImportState.failed, service.INTERRUPTED)
