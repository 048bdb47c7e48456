"""URL import with yt-dlp as a library, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import json
import shutil
import socket
import subprocess
import threading
import unicodedata
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yt_dlp

from media_hub.imports.fetch import ImportFailed, ImportRefused, check_url, download, normalize_url

LOCAL = ["127.0.0.1"]
FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
CLIP = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i", "sine=frequency=440",
        "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-crf", "20", "-c:a", "aac", "-shortest"]


class _Handler(SimpleHTTPRequestHandler):
    redirects: dict[str, str] = {}
    seen: list[str]

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.seen.append(self.path)
        target = self.redirects.get(self.path.split("?")[0])
        if target:
            self.send_response(302)
            self.send_header("Location", target)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        try:
            super().do_GET()
        except ConnectionError:  # the client gave up (size cap): fine
            pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A real MP4 (and a copy under another URL) and an HLS stream, served from 127.0.0.1."""
    root = tmp_path_factory.mktemp("site")
    subprocess.run([*FFMPEG, *CLIP, "-movflags", "+faststart", str(root / "video.mp4")],
                   check=True, capture_output=True, timeout=60)
    (root / "mirror").mkdir()
    shutil.copy(root / "video.mp4", root / "mirror" / "same.mp4")
    (root / "hls").mkdir()
    subprocess.run([*FFMPEG, *CLIP, "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(root / "hls" / "seg%03d.ts"), str(root / "hls" / "index.m3u8")],
                   check=True, capture_output=True, timeout=60)
    playlist = (root / "hls" / "index.m3u8").read_text()
    (root / "hls" / "sample-aes.m3u8").write_text(playlist.replace(
        "#EXTINF", '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="key.bin"\n#EXTINF', 1))
    handler = type("Handler", (_Handler,), {"seen": [], "redirects": {
        "/go/private": "http://10.0.0.1/secret.mp4",
        "/go/metadata": "http://169.254.169.254/latest/meta-data/",
        "/go/ipv6": "http://[::1]:9/x.mp4",
        "/go/video": "/video.mp4",
    }})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    server.root = root
    server.seen = handler.seen
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket tried to connect to; only 127.0.0.1 is really contacted.

    Should the guard ever regress, the tests still never send a packet to a private address.
    """
    seen: list = []
    real = socket.socket.connect

    def connect(self, address):
        seen.append(address[0])
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test blocks {address[0]}")
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


def sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def probe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration:stream=codec_type",
                          "-of", "json", str(path)], check=True, capture_output=True).stdout
    return json.loads(out)


def test_direct_mp4_downloads_with_progress_and_checksum(site, tmp_path):
    progress = []
    got = download(site.base + "/video.mp4", tmp_path, max_bytes=50 * 1024**2, max_duration_s=600,
                   on_progress=progress.append, allow=LOCAL)
    assert got.sha256 == sha(site.root / "video.mp4") == sha(got.path)
    assert got.size == (site.root / "video.mp4").stat().st_size
    assert progress[-1] == 1.0 and progress == sorted(progress) and len(progress) >= 2
    assert got.path.parent == tmp_path and got.path.suffix == ".mp4"
    assert "video" not in got.path.name  # generated name, never the remote title
    assert [p.name for p in tmp_path.iterdir()] == [got.path.name]  # no work files left behind
    assert got.extractor == "Generic" and got.title == "video" and abs(got.duration - 6) < 0.2
    assert got.webpage_url == site.base + "/video.mp4"


def test_hls_stream_downloads_to_playable_mp4(site, tmp_path):
    progress = []
    got = download(site.base + "/hls/index.m3u8", tmp_path, max_bytes=50 * 1024**2, max_duration_s=600,
                   on_progress=progress.append, allow=LOCAL)
    info = probe(got.path)
    assert "mp4" in info["format"]["format_name"]
    assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}
    assert abs(float(info["format"]["duration"]) - 6) < 0.3
    assert progress[-1] == 1.0 and got.sha256 == sha(got.path)
    assert sum(1 for p in site.seen if p.startswith("/hls/seg")) >= 6  # native HLS fetched each segment


def test_stream_that_needs_ffmpeg_fails_closed(site, tmp_path):
    """yt-dlp hands SAMPLE-AES HLS to ffmpeg, which would fetch URLs itself: that must not happen."""
    before = len(site.seen)
    with pytest.raises(ImportFailed) as caught:
        download(site.base + "/hls/sample-aes.m3u8", tmp_path, max_bytes=50 * 1024**2, max_duration_s=600,
                 allow=LOCAL)
    assert "không hỗ trợ" in caught.value.reason
    # Without the guard ffmpeg fetches key.bin and every segment itself (with yt-dlp's User-Agent).
    assert set(site.seen[before:]) == {"/hls/sample-aes.m3u8"}
    assert not list(tmp_path.iterdir())


def test_ytdlp_skips_oversized_and_filtered_files_silently(site, tmp_path):
    """Why download() looks for the file: yt-dlp itself returns normally with nothing written."""
    for extra in ({"max_filesize": 100_000}, {"match_filter": lambda info, incomplete: "filtered"}):
        with yt_dlp.YoutubeDL({"quiet": True, "paths": {"home": str(tmp_path)}, "outtmpl": "x.%(ext)s",
                               **extra}) as ydl:
            info = ydl.extract_info(site.base + "/video.mp4")
        assert info is not None
        assert not any(d.get("filepath") for d in info.get("requested_downloads") or ())
        assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("path", ["/video.mp4", "/hls/index.m3u8"])
def test_file_over_size_cap_fails_with_reason(site, tmp_path, path):
    with pytest.raises(ImportFailed) as caught:
        download(site.base + path, tmp_path, max_bytes=512 * 1024, max_duration_s=600, allow=LOCAL)
    assert caught.value.reason == "Tệp lớn hơn giới hạn 0,5 MB."
    assert unicodedata.is_normalized("NFC", caught.value.reason)
    assert not list(tmp_path.iterdir())


def test_video_over_duration_cap_fails_with_reason(site, tmp_path):
    with pytest.raises(ImportFailed) as caught:
        download(site.base + "/video.mp4", tmp_path, max_bytes=50 * 1024**2, max_duration_s=3, allow=LOCAL)
    assert caught.value.reason == "Video dài hơn giới hạn 0,05 phút."
    assert not list(tmp_path.iterdir())


def test_same_file_under_two_urls_has_same_checksum(site, tmp_path):
    first = download(site.base + "/video.mp4", tmp_path, max_bytes=50 * 1024**2, max_duration_s=600, allow=LOCAL)
    second = download(site.base + "/mirror/same.mp4?utm_source=zalo", tmp_path, max_bytes=50 * 1024**2,
                      max_duration_s=600, allow=LOCAL)
    assert first.sha256 == second.sha256 and first.path != second.path
    via_redirect = download(site.base + "/go/video", tmp_path, max_bytes=50 * 1024**2, max_duration_s=600,
                            allow=LOCAL)
    assert via_redirect.sha256 == first.sha256


def test_normalize_url():
    assert normalize_url("HTTP://Host:80/a?b=1&a=2#x") == normalize_url("http://host/a?a=2&b=1") == \
        "http://host/a?a=2&b=1"
    assert normalize_url("https://Example.VN:443?utm_source=fb&fbclid=abc&si=x&id=7") == "https://example.vn/?id=7"
    assert normalize_url("https://example.vn:8443/v") == "https://example.vn:8443/v"
    assert normalize_url("https://BÁO.vn/v") == normalize_url("https://báo.vn/v") == "https://xn--bo-mia.vn/v"
    assert normalize_url("http://[::1]:80/") == "http://[::1]/"


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/x", "http://[::1]/", "http://169.254.169.254/latest/meta-data/", "http://127.0.0.1/",
    "http://0.0.0.0/", "http://192.168.1.10/", "http://172.16.0.1/", "http://100.64.0.1/", "http://224.0.0.1/",
    "http://[::ffff:127.0.0.1]/", "http://[::ffff:10.0.0.1]/", "http://[fe80::1]/", "http://[fc00::1]/",
    "http://[64:ff9b::a00:1]/", "http://[2002:a00:1::]/", "http://2130706433/", "http://localhost/",
])
def test_private_addresses_refused_without_connecting(url, connects, tmp_path):
    with pytest.raises(ImportRefused) as caught:
        check_url(url)
    assert "địa chỉ nội bộ" in caught.value.reason
    with pytest.raises(ImportRefused):
        download(url, tmp_path, max_bytes=10**6, max_duration_s=60)
    assert connects == []


def test_hostname_resolving_to_private_address_refused(monkeypatch, connects, tmp_path):
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, *args, **kwargs):
        if host == "intranet.stp.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.1", port or 80))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    with pytest.raises(ImportRefused) as caught:
        download("http://intranet.stp.example/video.mp4", tmp_path, max_bytes=10**6, max_duration_s=60)
    assert "intranet.stp.example → 10.0.0.1" in caught.value.reason
    assert connects == []
    assert check_url("http://intranet.stp.example/v", allow=["10.0.0.0/8"]) == "http://intranet.stp.example/v"
    assert check_url("http://intranet.stp.example/v", allow=["Intranet.STP.example"])


def test_public_and_allow_listed_addresses_pass_the_check():
    assert check_url("https://8.8.8.8/video?b=2&a=1#t") == "https://8.8.8.8/video?a=1&b=2"
    assert check_url("http://[2001:4860:4860::8888]/v") == "http://[2001:4860:4860::8888]/v"
    assert check_url("http://127.0.0.1:8080/v", allow=["127.0.0.0/8"])
    assert check_url("http://[::1]/v", allow=["::1"])


@pytest.mark.parametrize("url", ["ftp://example.com/v.mp4", "file:///etc/passwd", "data:text/plain,hi",
                                 "gopher://example.com/", "//example.com/v.mp4", "http:///v.mp4"])
def test_other_schemes_refused(url, connects, tmp_path):
    with pytest.raises(ImportRefused):
        check_url(url)
    with pytest.raises(ImportRefused):
        download(url, tmp_path, max_bytes=10**6, max_duration_s=60)
    assert connects == []


@pytest.mark.parametrize("hop", ["/go/private", "/go/metadata", "/go/ipv6"])
def test_redirect_to_private_address_refused(site, connects, tmp_path, hop):
    with pytest.raises(ImportRefused) as caught:
        download(site.base + hop, tmp_path, max_bytes=10**6, max_duration_s=60, allow=LOCAL)
    assert "địa chỉ nội bộ" in caught.value.reason
    assert set(connects) == {"127.0.0.1"}  # the redirect target was never contacted
    assert not list(tmp_path.iterdir())


def test_dns_rebinding_refused_at_connect_time(site, monkeypatch, connects, tmp_path):
    """The check resolves to the allowed address; yt-dlp's own lookup then gets a private one."""
    real = socket.getaddrinfo
    answers = iter(["127.0.0.1"])
    port = site.server_address[1]

    def rebinding(host, p, *args, **kwargs):
        if host == "rebind.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers, "10.0.0.1"), p))]
        return real(host, p, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    with pytest.raises(ImportRefused) as caught:
        download(f"http://rebind.example:{port}/video.mp4", tmp_path, max_bytes=10**8, max_duration_s=600,
                 allow=LOCAL)
    assert "rebind.example → 10.0.0.1" in caught.value.reason
    assert "10.0.0.1" not in connects


def test_missing_page_fails_with_reason(site, tmp_path):
    with pytest.raises(ImportFailed) as caught:
        download(site.base + "/khong-co.mp4", tmp_path, max_bytes=10**6, max_duration_s=60, allow=LOCAL)
    assert "404" in caught.value.reason


def test_unresolvable_host_fails_with_reason(monkeypatch, connects):
    def no_such_host(host, *args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    with pytest.raises(ImportFailed) as caught:
        check_url("https://khong-ton-tai.example/video.mp4")
    assert caught.value.reason == "Không tìm thấy máy chủ khong-ton-tai.example."
    assert connects == []
