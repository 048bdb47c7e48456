"""A small fake of the YouTube Data API v3 and Google's OAuth token endpoint.

Just enough for ``media_hub.mirror.youtube``: refresh-token grant, resumable
video uploads (initiation, chunk PUTs answered with 308 + ``Range``, status
queries with ``Content-Range: bytes */N``), videos.list/update/delete,
captions.insert/update/list (multipart; a second insert with the same
language and name is refused with 409 ``captionExists`` like YouTube does),
playlistItems.list/insert, and fault injection. Every request is recorded.

Runs a threaded ``http.server`` on 127.0.0.1 at a free port.
"""

from __future__ import annotations

import email.parser
import itertools
import json
import socket
import struct
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Session:
    id: str
    total: int
    metadata: dict
    data: bytearray = field(default_factory=bytearray)
    ranges: list[tuple[int, int]] = field(default_factory=list)  # (start, end exclusive) of bytes received
    video_id: str | None = None


@dataclass
class Fault:
    kind: str  # "init" | "chunk" | "status" | "api" | "token"
    status: int = 500
    reason: str | None = None
    times: int = 1
    drop_after: int | None = None  # "chunk": read this many body bytes, then reset the connection


class FakeYouTube:
    """The fake server; ``start()``/``stop()`` or use as a context manager."""

    CLIENT_ID = "client-id.apps.example"
    CLIENT_SECRET = "client-secret"
    REFRESH_TOKEN = "refresh-token-1"

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sessions: dict[str, Session] = {}
        self.videos: dict[str, dict] = {}
        self.deleted: set[str] = set()
        self.captions: dict[str, dict] = {}
        self.playlist_items: dict[str, dict] = {}
        self.requests: list[dict] = []
        self.faults: list[Fault] = []
        self.tokens: set[str] = set()
        self.chunk_delay = 0.0  # seconds slept after storing each chunk, before answering
        self.force_private = False  # an unverified API project: every video is locked private
        self._ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None

    # -- life cycle ---------------------------------------------------------------
    def start(self) -> FakeYouTube:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        self._server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeYouTube:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def token_uri(self) -> str:
        return self.url + "token"

    # -- fault injection ----------------------------------------------------------
    def fail(self, kind: str, status: int, reason: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` requests of ``kind`` with an error."""
        self.faults.append(Fault(kind, status, reason, times))

    def drop_next_chunk(self, after_bytes: int) -> None:
        """Read ``after_bytes`` of the next chunk, keep them, then reset the connection."""
        self.faults.append(Fault("chunk", drop_after=after_bytes))

    def forget_sessions(self) -> None:
        """Every upload session known so far answers 404 from now on."""
        with self.lock:
            self.sessions.clear()

    def _take_fault(self, kind: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind == kind:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    # -- helpers for assertions ---------------------------------------------------
    def only_session(self) -> Session:
        (session,) = self.sessions.values()
        return session

    def data_puts(self) -> list[dict]:
        return [r for r in self.requests if r["method"] == "PUT" and r.get("range_start") is not None]

    def count(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):04d}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        # A client killed or reset mid-request (the tests do it on purpose) is not an error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _error(status: int, reason: str, message: str = "") -> dict:
    return {"error": {"code": status, "message": message or reason,
                      "errors": [{"message": message or reason, "domain": "youtube", "reason": reason}]}}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_fake: FakeYouTube

    def log_message(self, *args) -> None:  # quiet
        pass

    # -- plumbing -----------------------------------------------------------------
    def _send(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _record(self, **extra) -> dict:
        parsed = urllib.parse.urlsplit(self.path)
        entry = {"method": self.command, "path": parsed.path,
                 "query": dict(urllib.parse.parse_qsl(parsed.query)),
                 "content_range": self.headers.get("Content-Range"), "time": time.monotonic(), **extra}
        with self.server_fake.lock:
            self.server_fake.requests.append(entry)
        return entry

    def _authorized(self) -> bool:
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in self.server_fake.tokens:
            return True
        self._send(401, _error(401, "authError", "Invalid Credentials"))
        return False

    def _fault(self, kind: str) -> bool:
        fault = self.server_fake._take_fault(kind)
        if fault is None:
            return False
        self._send(fault.status, _error(fault.status, fault.reason or "backendError"))
        return True

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_GET(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        route = (self.command, parsed.path)
        fake = self.server_fake
        if route == ("POST", "/token"):
            return self._token()
        if parsed.path == "/upload/youtube/v3/videos" and "upload_id" in query:
            return self._session_put(query["upload_id"])
        body = self._read_body()
        self._record(body_len=len(body))
        if not self._authorized():
            return
        if route == ("POST", "/upload/youtube/v3/videos"):
            if self._fault("init"):
                return
            return self._initiate(body)
        if self._fault("api"):
            return
        with fake.lock:
            if route == ("GET", "/youtube/v3/videos"):
                items = [fake.videos[i] for i in query.get("id", "").split(",") if i in fake.videos]
                return self._send(200, {"kind": "youtube#videoListResponse", "items": items})
            if route == ("PUT", "/youtube/v3/videos"):
                return self._video_update(json.loads(body))
            if route == ("DELETE", "/youtube/v3/videos"):
                if fake.videos.pop(query.get("id"), None) is None:
                    return self._send(404, _error(404, "videoNotFound"))
                fake.deleted.add(query["id"])
                return self._send(204)
            if parsed.path == "/upload/youtube/v3/captions" and self.command in ("POST", "PUT"):
                return self._caption_write(body)
            if route == ("GET", "/youtube/v3/captions"):
                items = [c["resource"] for c in fake.captions.values()
                         if c["resource"]["snippet"]["videoId"] == query.get("videoId")]
                return self._send(200, {"kind": "youtube#captionListResponse", "items": items})
            if route == ("GET", "/youtube/v3/playlistItems"):
                items = [i for i in fake.playlist_items.values()
                         if i["snippet"]["playlistId"] == query.get("playlistId")
                         and query.get("videoId") in (None, i["snippet"]["resourceId"]["videoId"])]
                return self._send(200, {"kind": "youtube#playlistItemListResponse", "items": items})
            if route == ("POST", "/youtube/v3/playlistItems"):
                snippet = json.loads(body)["snippet"]
                item = {"kind": "youtube#playlistItem", "id": fake.new_id("PLI"), "snippet": snippet}
                fake.playlist_items[item["id"]] = item
                return self._send(200, item)
        self._send(404, _error(404, "notFound", f"no route {route}"))

    # -- OAuth ----------------------------------------------------------------------
    def _token(self) -> None:
        form = dict(urllib.parse.parse_qsl(self._read_body().decode()))
        self._record(body_len=0, form=form)
        if self._fault("token"):
            return
        fake = self.server_fake
        if (form.get("grant_type") != "refresh_token" or form.get("refresh_token") != fake.REFRESH_TOKEN
                or form.get("client_id") != fake.CLIENT_ID or form.get("client_secret") != fake.CLIENT_SECRET):
            return self._send(400, {"error": "invalid_grant",
                                    "error_description": "Token has been expired or revoked."})
        token = fake.new_id("access-")
        with fake.lock:
            fake.tokens.add(token)
        self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

    # -- videos -----------------------------------------------------------------------
    def _initiate(self, body: bytes) -> None:
        fake = self.server_fake
        total = int(self.headers["X-Upload-Content-Length"])
        session = Session(fake.new_id("upload-"), total, json.loads(body or b"{}"))
        with fake.lock:
            fake.sessions[session.id] = session
        host, port = self.server.server_address[:2]
        location = f"http://{host}:{port}/upload/youtube/v3/videos?uploadType=resumable&upload_id={session.id}"
        self._send(200, None, {"Location": location})

    def _session_put(self, upload_id: str) -> None:
        fake = self.server_fake
        content_range = self.headers.get("Content-Range", "")
        length = int(self.headers.get("Content-Length") or 0)
        span = content_range.removeprefix("bytes ").split("/")[0]
        start = None if span == "*" else int(span.split("-")[0])
        entry = self._record(body_len=length, range_start=start, upload_id=upload_id)
        session = fake.sessions.get(upload_id)
        if start is not None:
            fault = fake._take_fault("chunk")
            if fault and fault.drop_after is not None:
                return self._drop(session, start, fault.drop_after, entry)
            if fault:
                self._read_body()
                return self._send(fault.status, _error(fault.status, fault.reason or "backendError"))
        elif self._fault("status"):
            return
        data = self._read_body()
        if session is None:
            return self._send(404, _error(404, "notFound", "upload session not found"))
        if start is not None:
            if not self._store(session, start, data):
                return self._send(400, _error(400, "invalidRange", f"chunk at {start} leaves a gap"))
            entry["stored"] = len(data)
            if fake.chunk_delay:
                time.sleep(fake.chunk_delay)
        self._answer(session)

    def _store(self, session: Session, start: int, data: bytes) -> bool:
        with self.server_fake.lock:
            have = len(session.data)
            if start > have:
                return False  # a gap: the client skipped bytes the server never confirmed
            session.ranges.append((start, start + len(data)))
            session.data[start:start + len(data)] = data
            return True

    def _drop(self, session: Session | None, start: int, after: int, entry: dict) -> None:
        data = self.rfile.read(after)
        if session is not None and data:
            self._store(session, start, data)
            entry["stored"] = len(data)
        entry["dropped"] = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()  # RST: the client sees a connection reset
        self.close_connection = True

    def _answer(self, session: Session) -> None:
        fake = self.server_fake
        with fake.lock:
            if len(session.data) >= session.total:
                if session.video_id is None:
                    session.video_id = fake.new_id("vid")
                    requested = session.metadata.get("status", {})
                    fake.videos[session.video_id] = {
                        "kind": "youtube#video", "id": session.video_id,
                        "snippet": session.metadata.get("snippet", {}),
                        "status": {**requested, "uploadStatus": "uploaded",
                                   "privacyStatus": "private" if fake.force_private
                                   else requested.get("privacyStatus", "public")},
                    }
                return self._send(200, fake.videos.get(session.video_id) or {"id": session.video_id})
            headers = {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}
        self._send(308, None, headers)

    def _video_update(self, body: dict) -> None:
        fake = self.server_fake
        video = fake.videos.get(body.get("id"))
        if video is None:
            return self._send(404, _error(404, "videoNotFound"))
        for part in ("snippet", "status"):
            if part in body:
                video[part] = {**body[part], **({"uploadStatus": "processed"} if part == "status" else {})}
        if fake.force_private:
            video["status"]["privacyStatus"] = "private"
        self._send(200, video)

    # -- captions ---------------------------------------------------------------------
    def _caption_write(self, body: bytes) -> None:
        fake = self.server_fake
        message = email.parser.BytesParser().parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        meta_part, media_part = message.get_payload()
        meta = json.loads(meta_part.get_payload(decode=True))
        media = media_part.get_payload(decode=True)
        if self.command == "POST":
            snippet = meta["snippet"]
            for caption in fake.captions.values():
                s = caption["resource"]["snippet"]
                key = ("videoId", "language", "name")
                if [s[k] for k in key] == [snippet[k] for k in key]:
                    return self._send(409, _error(409, "captionExists", "The video already has a caption track "
                                                  "with the given language and name."))
            resource = {"kind": "youtube#caption", "id": fake.new_id("cap"), "snippet": snippet}
            fake.captions[resource["id"]] = {"resource": resource, "data": media, "versions": 1}
            return self._send(200, resource)
        caption = fake.captions.get(meta.get("id"))
        if caption is None:
            return self._send(404, _error(404, "captionNotFound"))
        caption["data"] = media
        caption["versions"] += 1
        self._send(200, caption["resource"])
