"""Shared fixtures: real hubs (embedded defaults, and Redis + PostgreSQL)."""

from __future__ import annotations

import os
import secrets
import socket

import pytest

from media_hub import clock
from tests.hub import Hub

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
REDIS = ("127.0.0.1", 6379)

# Short timings so recovery from a killed worker is seen within seconds.
FAST_RECOVERY = {
    "MEDIA_HUB_JOB_STALE_SECONDS": "6",
    "MEDIA_HUB_JOB_HEARTBEAT_SECONDS": "1",
    "MEDIA_HUB_MAX_UPLOAD_BYTES": str(20 * 1024 * 1024),
    # The channel accepts programmes seconds ahead, so tests see them air.
    "MEDIA_HUB_CHANNEL_SAFETY_SECONDS": "3",
    "MEDIA_HUB_CHANNEL_MIN_LEAD_SECONDS": "6",
}


def pytest_addoption(parser):
    parser.addoption(
        "--clock", metavar="INSTANT",
        help="run the whole suite with the hub's clock set to this aware ISO instant, e.g. "
        "2026-12-04T23:30:00+07:00 (the clock keeps ticking; hubs started by the tests share it)",
    )


def pytest_configure(config):
    instant = config.getoption("--clock")
    if instant:
        from datetime import datetime

        os.environ[clock.OFFSET_ENV] = str(clock.offset_for(datetime.fromisoformat(instant)))


def pytest_report_header(config):
    return f"hub clock: {clock.now().isoformat(timespec='seconds')} (Viet Nam day {clock.today_vn()})"


def _reachable(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def embedded_hub(tmp_path_factory):
    """The hub on its embedded defaults: SQLite, local storage, SQLAlchemy broker."""
    hub = Hub(tmp_path_factory.mktemp("embedded"), FAST_RECOVERY).start()
    hub.start_worker()
    yield hub
    hub.stop()


@pytest.fixture(scope="session")
def services_hub(tmp_path_factory):
    """The same hub on real services: PostgreSQL database, Redis broker."""
    if not _reachable("127.0.0.1", 5432) or not _reachable(*REDIS):
        pytest.skip("PostgreSQL at 127.0.0.1:5432 or Redis at 127.0.0.1:6379 is not running")
    import psycopg
    import redis

    name = f"media_hub_{secrets.token_hex(4)}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    redis_db = 1 + secrets.randbelow(15)
    redis.Redis(*REDIS, db=redis_db).flushdb()
    env = {
        **FAST_RECOVERY,
        "MEDIA_HUB_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "MEDIA_HUB_BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "MEDIA_HUB_SECRET_KEY": secrets.token_urlsafe(48),  # replicas share a configured key
    }
    hub = Hub(tmp_path_factory.mktemp("services"), env).start()
    hub.start_worker()
    yield hub
    hub.stop()
    redis.Redis(*REDIS, db=redis_db).flushdb()
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=["embedded", "services"])
def hub(request) -> Hub:
    """Each end-to-end test runs once per deployment shape."""
    return request.getfixturevalue(f"{request.param}_hub")


class _Canary:
    """An HTTP server on 127.0.0.1 that records every request it gets."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        requests = self.requests = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                requests.append(self.path)
                self.send_response(404)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def http_canary():
    canary = _Canary()
    yield canary
    canary.server.shutdown()
