"""The documented production front, deploy/nginx/media-hub.conf, run by a real nginx in front
of a real hub (MEDIA_HUB_ACCEL_REDIRECT on): the hub decides on every media request, nginx
sends the stored bytes, and unpublishing stops an item's media through the front at once.

The config is the documented file itself; only the values marked ``bench:`` are replaced
(cache folder, upstream, listen address, storage folder), inside a minimal non-root http {}."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import m3u8
import pytest

from media_hub.delivery import content_disposition
from tests import media_factory as mf
from tests.conftest import FAST_RECOVERY
from tests.hub import ROOT, Hub, free_port

NGINX_CONF = ROOT / "deploy" / "nginx" / "media-hub.conf"
ACCEL = "/_protected/"

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (./mh test installs it)")


def render(conf: str, *, folder: Path, hub_port: int, port: int, storage: Path) -> str:
    """``conf`` with its ``bench:`` values replaced, wrapped in a standalone nginx.conf."""
    for pattern, value in ((r"proxy_cache_path \S+", f"proxy_cache_path {folder}/cache"),
                           (r"server api:8000;", f"server 127.0.0.1:{hub_port};"),
                           (r"listen 80;", f"listen 127.0.0.1:{port};"),
                           (r"alias \S+;", f"alias {storage}/;")):
        conf, n = re.subn(pattern, lambda _m: value, conf)
        assert n == 1, f"{NGINX_CONF}: expected one `{pattern}`, found {n}"
    temp = "\n".join(f"    {d}_temp_path {folder}/{d};" for d in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    access_log {folder}/access.log;
{temp}
{conf}
}}
"""


@pytest.fixture(scope="module")
def front():
    """(hub, nginx URL): a hub with MEDIA_HUB_ACCEL_REDIRECT and nginx running the documented config."""
    # Readable by nginx's workers (nobody, when the tests run as root): pytest's tmp is 0700.
    tmp = Path(tempfile.mkdtemp(prefix="media-hub-front-"))
    tmp.chmod(0o755)
    hub = Hub(tmp / "hub", {**FAST_RECOVERY, "MEDIA_HUB_ACCEL_REDIRECT": ACCEL, "MEDIA_HUB_ASR_ENABLED": "false"})
    nginx = None
    try:
        hub.start()
        hub.start_worker()
        folder = tmp / "nginx"
        folder.mkdir()
        port = free_port()
        conf = folder / "nginx.conf"
        conf.write_text(render(NGINX_CONF.read_text(), folder=folder, hub_port=hub.port, port=port,
                               storage=tmp / "hub" / "storage"))
        args = ["nginx", "-p", str(folder), "-e", str(folder / "error.log"), "-c", str(conf)]
        check = subprocess.run([*args, "-t", "-q"], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(f"{url}/api/v1/media", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert nginx.poll() is None, (folder / "error.log").read_text()
                time.sleep(0.1)
        yield hub, url
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def client(hub: Hub, base_url: str, role: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {hub.tokens[role]}"} if role else {}
    return httpx.Client(base_url=base_url, headers=headers, timeout=60)


def first_segment(staff: httpx.Client, master_url: str) -> str:
    master = m3u8.loads(staff.get(master_url).text, uri=str(staff.base_url) + master_url)
    variant = master.playlists[0].absolute_uri
    media = m3u8.loads(staff.get(variant).text, uri=variant)
    return httpx.URL(media.segments[0].absolute_uri).path


def test_unpublishing_stops_media_through_the_front_at_once(front, tmp_path):
    hub, url = front
    res = hub.upload(mf.make_video(tmp_path / "clip.mp4", duration=2), title="Gỡ xuất bản qua nginx")
    assert res.status_code == 201, res.text
    item = hub.wait(res.json()["id"])
    assert item["status"] == "ready", item
    anonymous, editor = client(hub, url, None), client(hub, url, "editor")
    segment = first_segment(editor, item["master_url"])
    stored = (Path(hub.env["MEDIA_HUB_DATA_DIR"]) / "storage" / segment.removeprefix("/media/")).read_bytes()

    # Unpublished from the start: nothing for the public, the owner gets it uncacheable.
    assert anonymous.get(segment).status_code == 404
    own = editor.get(segment)
    assert own.status_code == 200 and own.content == stored
    assert own.headers["cache-control"] == "private, no-store"

    # The hub itself hands the bytes to nginx; nginx never lets a client reach its internal location.
    with client(hub, hub.url, "editor") as behind:
        direct = behind.get(segment)
    assert direct.status_code == 200 and direct.content == b""
    assert direct.headers["x-accel-redirect"] == ACCEL + segment.removeprefix("/media/")
    assert anonymous.get(ACCEL + segment.removeprefix("/media/")).status_code == 404

    hub.publish(item["id"])
    for _ in range(2):  # the second request is the one a proxy cache would have answered
        seen = anonymous.get(segment)
        assert seen.status_code == 200 and seen.content == stored
        assert seen.headers["content-type"] == "video/mp2t"
        assert seen.headers["cache-control"] == "private, max-age=60"
        assert "x-accel-redirect" not in seen.headers
    etag = seen.headers["etag"]  # a browser's copy, revalidated after a minute: asked of the hub again
    assert anonymous.get(segment, headers={"If-None-Match": etag}).status_code == 304
    ranged = anonymous.get(segment, headers={"Range": "bytes=100-1099"})
    assert ranged.status_code == 206 and ranged.content == stored[100:1100]
    assert ranged.headers["content-range"] == f"bytes 100-1099/{len(stored)}"

    # Downloads keep the hub's name and headers; the original stays with the staff.
    original = editor.get(item["download_url"])
    assert original.status_code == 200 and original.content == (tmp_path / "clip.mp4").read_bytes()
    assert original.headers["content-disposition"] == content_disposition("clip.mp4")
    assert original.headers["content-type"] == "video/mp4"  # the hub's (the key has no extension)
    assert original.headers["cache-control"] == "private, no-store"
    assert anonymous.get(item["download_url"]).status_code == 403

    with hub.client("reviewer") as reviewer:
        assert reviewer.post(f"/api/v1/media/{item['id']}/unpublish").json()["status"] == "ready"
    assert anonymous.get(segment).status_code == 404
    assert anonymous.get(segment, headers={"If-None-Match": etag}).status_code == 404
    assert anonymous.get(segment, headers={"Range": "bytes=100-1099"}).status_code == 404
    assert anonymous.get(item["master_url"]).status_code == 404
