"""Import a video from a URL with yt-dlp used as a library (``yt_dlp.YoutubeDL``).

Guarding against server-side request forgery:

* :func:`check_url` refuses anything but http/https and hosts that resolve to
  loopback, private, link-local, multicast, reserved, unspecified or otherwise
  non-global addresses (IPv4 and IPv6, IPv4 inside IPv6 included) unless
  ``allow`` names the host or a network containing the address. No connection
  is made before the check.
* Every request yt-dlp makes (extractor pages, manifests, fragments, media,
  and every redirect hop) goes through one request handler of ours, a
  subclass of yt-dlp's urllib handler whose HTTP(S) connections resolve the
  host, check *every* resolved address and connect to the checked address
  itself — so redirects to private addresses and DNS rebinding (a second
  lookup answering differently) are both refused at connect time. Proxies are
  off (a proxy would hide the real target); only http/https schemes exist.
* Media is fetched by yt-dlp's native downloaders only (HTTP, native HLS,
  DASH segments). ffmpeg is made unavailable to the download phase (yt-dlp's
  HLS downloader otherwise hands streams it cannot handle — live, SAMPLE-AES,
  AES-128 without pycryptodomex — to ffmpeg, which would open URLs itself);
  ffmpeg still merges/remuxes afterwards, reading only files yt-dlp wrote.

Limits: the handler builds on yt-dlp's private ``networking._urllib`` module
(pin yt-dlp; tests/test_import_fetch.py fails loudly if it changes); sites that
need browser impersonation (curl_cffi), websockets or a proxy cannot be
imported; a hostname listed in ``allow`` is trusted whatever it resolves to.

Errors: :class:`ImportRefused` (the URL or an address it leads to is not
allowed) and :class:`ImportFailed` (nothing usable could be downloaded);
both carry a Vietnamese ``reason``.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import ipaddress
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import threading
import unicodedata
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import yt_dlp
from yt_dlp.downloader import get_suitable_downloader
from yt_dlp.downloader.dash import DashSegmentsFD
from yt_dlp.downloader.hls import HlsFD
from yt_dlp.downloader.http import HttpFD
from yt_dlp.networking._urllib import UrllibRH
from yt_dlp.utils import DownloadError, determine_protocol

FORMAT = "bv*[height<=1080]+ba/b[height<=1080]/b"
NATIVE_PROTOCOLS = {"http", "https", "m3u8", "m3u8_native", "http_dash_segments"}
NATIVE_DOWNLOADERS = (HttpFD, HlsFD, DashSegmentsFD)
TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "msclkid", "yclid", "igshid", "si", "mc_cid", "mc_eid", "_ga", "ref_src"}
_FFMPEG_OFF = "/nonexistent/ffmpeg-is-off-while-downloading"


class FetchError(Exception):
    """Base error; ``reason`` is a Vietnamese message for the user."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = unicodedata.normalize("NFC", reason)


class ImportRefused(FetchError):
    """The URL, or an address a request led to, is not allowed."""


class ImportFailed(FetchError):
    """No acceptable video could be downloaded from the URL."""


@dataclass
class Downloaded:
    """A finished import. ``duration`` in seconds, ``size`` in bytes, ``sha256`` hex of the file."""

    path: Path
    title: str
    uploader: str | None
    webpage_url: str
    extractor: str
    duration: float | None
    size: int
    sha256: str


# -- URLs ----------------------------------------------------------------------------------

def normalize_url(url: str) -> str:
    """A canonical form for duplicate detection.

    Lowercases scheme and host (IDNA), drops default ports, the fragment,
    ``utm_*`` and common click-tracking parameters, sorts the query, and
    gives an empty path as "/". Does not resolve or fetch anything.
    """
    parts = urllib.parse.urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    if parts.username is not None:
        userinfo = parts.username + (f":{parts.password}" if parts.password is not None else "")
        netloc = f"{userinfo}@{netloc}"
    query = sorted((k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                   if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS)
    return urllib.parse.urlunsplit((scheme, netloc, parts.path or "/", urllib.parse.urlencode(query), ""))


class _Policy:
    """Which addresses may be contacted: global unicast only, plus ``allow``."""

    def __init__(self, allow: Iterable[str] = ()):
        self.hosts: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                self.hosts.add(entry.lower().rstrip("."))
        self.refused: ImportRefused | None = None
        self._lock = threading.Lock()

    def _refuse(self, reason: str) -> ImportRefused:
        error = ImportRefused(reason)
        with self._lock:
            self.refused = self.refused or error
        return error

    def check(self, host: str, addresses: Iterable[str]) -> None:
        """Raise ImportRefused unless ``host`` is allow-listed or every address is allowed."""
        if host.lower().rstrip(".") in self.hosts:
            return
        for text in addresses:
            ip = ipaddress.ip_address(text.split("%", 1)[0])
            if any(ip in net for net in self.networks):
                continue
            if _forbidden(ip):
                where = str(ip) if host.strip("[]") == str(ip) else f"{host} → {ip}"
                raise self._refuse(f"Không được tải từ địa chỉ nội bộ hoặc đặc biệt ({where}); "
                                   "chỉ cho phép địa chỉ Internet công cộng.")

    def resolve(self, host: str, port: int) -> list[tuple]:
        """getaddrinfo + :meth:`check`; raises socket.gaierror or ImportRefused."""
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
        self.check(host, [info[4][0] for info in infos])
        return infos

    def connect(self, address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
        """``http.client`` connection factory: resolve once, check, connect to the checked address."""
        host, port = address
        error: OSError | None = None
        for family, socktype, proto, _, sockaddr in self.resolve(host, port):
            sock = socket.socket(family, socktype, proto)
            try:
                if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                    sock.settimeout(timeout)
                sock.connect(sockaddr)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error or OSError(f"cannot connect to {host}")


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if ip.version == 6:
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is None and ip in ipaddress.ip_network("64:ff9b::/96"):  # NAT64
            embedded = ipaddress.ip_address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and _forbidden(embedded):
            return True
    return (ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast or ip.is_reserved
            or ip.is_unspecified or not ip.is_global)


def check_url(url: str, allow: Iterable[str] = ()) -> str:
    """Validate an import URL before anything is fetched; returns :func:`normalize_url` of it.

    Only http/https with a host; the host is resolved (``socket.getaddrinfo``)
    and every address must be global unicast unless ``allow`` lists the host
    name or a network (CIDR or single IP) containing it. Raises ImportRefused;
    ImportFailed when the host does not resolve.
    """
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise ImportRefused("Chỉ nhận địa chỉ bắt đầu bằng http:// hoặc https://.")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ImportRefused("Địa chỉ không hợp lệ.") from exc
    if not host:
        raise ImportRefused("Địa chỉ không có tên máy chủ.")
    try:
        _Policy(allow).resolve(host, port or (443 if parts.scheme.lower() == "https" else 80))
    except socket.gaierror as exc:
        raise ImportFailed(f"Không tìm thấy máy chủ {host}.") from exc
    return normalize_url(url)


# -- yt-dlp plumbing -----------------------------------------------------------------------

class _GuardedOpen(urllib.request.AbstractHTTPHandler):
    """Opens HTTP(S) connections through :meth:`_Policy.connect`; runs before yt-dlp's own opener."""

    handler_order = 499  # yt-dlp's HTTPHandler (500) is never reached; its request/response processing still runs

    def __init__(self, policy: _Policy, context):
        super().__init__()
        self._policy, self._context = policy, context

    def _factory(self, cls, *args, **kwargs):
        conn = cls(*args, **kwargs)
        conn._create_connection = self._policy.connect
        return conn

    def http_open(self, req):
        return self.do_open(functools.partial(self._factory, http.client.HTTPConnection), req)

    def https_open(self, req):
        return self.do_open(functools.partial(self._factory, http.client.HTTPSConnection), req, context=self._context)


class _GuardedRH(UrllibRH):
    """yt-dlp's urllib handler limited to http/https, without proxies, connecting via the policy."""

    _SUPPORTED_URL_SCHEMES = ("http", "https")
    policy: _Policy  # set on a per-download subclass

    def _get_proxies(self, request):
        return {}

    def _create_instance(self, proxies, cookiejar, legacy_ssl_support=None):
        opener = super()._create_instance({}, cookiejar, legacy_ssl_support)
        opener.add_handler(_GuardedOpen(self.policy, self._make_sslcontext(legacy_ssl_support=legacy_ssl_support)))
        return opener


class _YDL(yt_dlp.YoutubeDL):
    def __init__(self, params: dict, policy: _Policy):
        self._policy = policy
        self.parts = 1
        super().__init__(params)

    @functools.cached_property
    def _request_director(self):
        handler = type("GuardedRH", (_GuardedRH,), {"policy": self._policy})
        return self.build_request_director([handler])

    def process_info(self, info_dict):
        self.parts = len(info_dict.get("requested_formats") or ()) or 1
        return super().process_info(info_dict)

    def dl(self, name, info, subtitle=False, test=False):
        protocols = set(determine_protocol(info).split("+"))
        if not protocols <= NATIVE_PROTOCOLS or get_suitable_downloader(info, self.params) not in NATIVE_DOWNLOADERS:
            raise ImportFailed(f"Nguồn dùng giao thức không hỗ trợ ({'+'.join(sorted(protocols))}).")
        saved = {key: self.params.get(key) for key in ("ffmpeg_location", "max_filesize")}
        self.params["ffmpeg_location"] = _FFMPEG_OFF  # no ffmpeg may open URLs while downloading
        if protocols - {"http", "https"}:
            # Fragment downloads apply max_filesize to each fragment and *skip* a fragment over it;
            # the progress hook caps the running total instead.
            self.params["max_filesize"] = None
        try:
            return super().dl(name, info, subtitle, test)
        finally:
            self.params.update(saved)


class _Log:
    """Collects yt-dlp's messages instead of printing them."""

    def __init__(self):
        self.lines: list[str] = []

    def debug(self, msg: str) -> None:
        self.lines.append(msg)

    info = warning = error = debug


class _TooLarge(Exception):
    pass


# -- download ---------------------------------------------------------------------------------

def _probe_duration(path: Path) -> float | None:
    try:
        out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "json", str(path)],
                             capture_output=True, timeout=60, check=True).stdout
        return float(json.loads(out)["format"]["duration"])
    except (subprocess.SubprocessError, OSError, KeyError, ValueError):
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(
    url: str,
    dest_dir: str | os.PathLike,
    *,
    max_bytes: int,
    max_duration_s: float,
    on_progress: Callable[[float], None] | None = None,
    allow: Iterable[str] = (),
    timeout: float = 30.0,
) -> Downloaded:
    """Download one video (≤1080p, merged to MP4 where merging is needed) into ``dest_dir``.

    The file gets a random name (never the remote title). ``max_bytes`` caps
    the file size in bytes, ``max_duration_s`` the duration in seconds
    (checked before download when the site tells, and on the file after);
    ``on_progress(fraction)`` gets 0.0–1.0, ending with 1.0. ``timeout`` is
    the socket timeout in seconds. Raises ImportRefused (URL or any request
    or redirect hop not allowed) or ImportFailed (no video, live stream,
    playlist, too large, too long, unsupported protocol, network failure).
    """
    allow = list(allow)
    normalized = check_url(url, allow)
    policy = _Policy(allow)
    dest = Path(dest_dir)
    token = secrets.token_hex(8)
    work = dest / f".import-{token}"
    work.mkdir(parents=True)
    log = _Log()
    skipped: list[str] = []
    progress = {"parts": {}, "sent": 0.0}

    def report(fraction: float) -> None:
        if on_progress and (fraction >= 1.0 or fraction - progress["sent"] >= 0.01):
            progress["sent"] = fraction
            on_progress(fraction)

    def hook(d: dict) -> None:
        if d.get("status") not in ("downloading", "finished"):
            return
        key = d.get("filename") or d.get("tmpfilename")
        done = d.get("downloaded_bytes") or 0
        total = d.get("total_bytes") or d.get("total_bytes_estimate") or 0
        if d["status"] == "finished":
            total = done = max(done, total, 1)
        progress["parts"][key] = (done, total)
        if sum(b for b, _ in progress["parts"].values()) > max_bytes:
            skipped.append("size")  # yt-dlp may swallow the exception (fragments): the flag stays
            raise _TooLarge()
        fraction = sum(min(1.0, b / t) for b, t in progress["parts"].values() if t) / max(ydl.parts, 1)
        report(min(max(fraction, progress["sent"]), 0.99))

    def match_filter(info: dict, *, incomplete: bool) -> str | None:
        if info.get("is_live") or info.get("live_status") in ("is_live", "is_upcoming", "post_live"):
            skipped.append("live")
            return "live"
        duration = info.get("duration")
        if duration and duration > max_duration_s:
            skipped.append("duration")
            return "too long"
        return None

    params = {
        "format": FORMAT,
        "merge_output_format": "mp4",
        "outtmpl": {"default": f"{token}.%(ext)s"},
        "paths": {"home": str(work), "temp": str(work)},
        "restrictfilenames": True,
        "noplaylist": True,
        "extract_flat": "in_playlist",  # a playlist is reported, never downloaded
        "max_filesize": max_bytes,
        "match_filter": match_filter,
        "progress_hooks": [hook],
        "logger": log,
        "quiet": True,
        "noprogress": True,
        "socket_timeout": timeout,
        "retries": 3,
        "fragment_retries": 3,
        "skip_unavailable_fragments": False,  # a missing fragment fails the import, no gappy video
        "extractor_retries": 1,
        "file_access_retries": 1,
        "hls_prefer_native": True,
        "external_downloader": {"default": "native"},
        "proxy": "",
        "cachedir": False,
        "overwrites": True,
        "continuedl": False,
        "check_formats": False,
    }
    try:
        with _YDL(params, policy) as ydl:
            try:
                info = ydl.extract_info(url.strip(), download=True)  # as given: query order may matter
            except Exception as exc:  # noqa: BLE001 - sorted out below
                inner = exc.exc_info[1] if isinstance(exc, DownloadError) and exc.exc_info else exc
                if policy.refused:
                    raise policy.refused from exc
                if isinstance(inner, _TooLarge) or "size" in skipped:
                    info = None
                elif isinstance(inner, FetchError):
                    raise inner from exc
                elif isinstance(exc, DownloadError):
                    raise ImportFailed(_failure_reason(exc)) from exc
                else:
                    raise
        if policy.refused:
            raise policy.refused
        if info and info.get("_type") in ("playlist", "multi_video"):
            raise ImportFailed("Địa chỉ là danh sách nhiều video; hãy dán địa chỉ của từng video.")
        if any("larger than max-filesize" in line for line in log.lines):
            skipped.append("size")
        files = [Path(d["filepath"]) for d in (info or {}).get("requested_downloads") or () if d.get("filepath")]
        if "size" in skipped or (files and files[0].exists() and files[0].stat().st_size > max_bytes):
            raise ImportFailed(f"Tệp lớn hơn giới hạn {_num(max_bytes / 1024**2)} MB.")
        if "duration" in skipped:
            raise ImportFailed(f"Video dài hơn giới hạn {_num(max_duration_s / 60)} phút.")
        if "live" in skipped:
            raise ImportFailed("Không nhập được buổi phát trực tiếp; hãy chờ có bản ghi hoàn chỉnh.")
        if not files or not files[0].exists():
            raise ImportFailed("Không tải được video từ địa chỉ này.")
        source = files[0]
        duration = _probe_duration(source) or info.get("duration")
        if duration and duration > max_duration_s:
            raise ImportFailed(f"Video dài hơn giới hạn {_num(max_duration_s / 60)} phút.")
        ext = source.suffix.lower() if re.fullmatch(r"\.[a-z0-9]{1,5}", source.suffix.lower()) else ".bin"
        final = dest / f"{token}{ext}"
        os.replace(source, final)
        result = Downloaded(
            path=final,
            title=unicodedata.normalize("NFC", info.get("title") or ""),
            uploader=info.get("uploader"),
            webpage_url=info.get("webpage_url") or normalized,
            extractor=info.get("extractor_key") or info.get("extractor") or "",
            duration=duration,
            size=final.stat().st_size,
            sha256=_sha256(final),
        )
        report(1.0)
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _num(value: float) -> str:
    """A number the Vietnamese way: up to two decimals, comma as decimal separator."""
    return f"{value:.2f}".rstrip("0").rstrip(".").replace(".", ",")


def _failure_reason(exc: DownloadError) -> str:
    text = str(exc)
    if "ffmpeg could not be found" in text:
        return "Luồng video dùng định dạng hoặc mã hóa không hỗ trợ (cần ffmpeg tự tải từ mạng, bị chặn vì an toàn)."
    if "Unsupported URL" in text:
        return "Không tìm thấy video tại địa chỉ này."
    if "HTTP Error 404" in text:
        return "Máy chủ báo không có tệp tại địa chỉ này (lỗi 404)."
    if "HTTP Error 403" in text or "HTTP Error 401" in text:
        return "Máy chủ từ chối cho tải video (cần đăng nhập hoặc bị chặn)."
    if "Name or service not known" in text or "getaddrinfo" in text:
        return "Không tìm thấy máy chủ nguồn (tên miền không phân giải được)."
    if "timed out" in text.lower():
        return "Máy chủ nguồn không phản hồi kịp; hãy thử lại sau."
    return "Không tải được video từ địa chỉ này: " + re.sub(r"^ERROR: ", "", text)[:300]
