"""A real hub for end-to-end tests: the web app and Celery workers as separate
processes, configured only through MEDIA_HUB_* environment variables."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "mật-khẩu-thử-nghiệm"
ROLES = ("admin", "editor", "reviewer", "radio_staff")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Hub:
    """``hub.url`` serves the API; ``start_worker``/``kill_worker`` manage worker processes."""

    def __init__(self, data_dir: Path, env: dict[str, str]):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "MEDIA_HUB_DATA_DIR": str(data_dir),
            "MEDIA_HUB_PUBLIC_BASE_URL": self.url,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.logs = data_dir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.server: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.tokens: dict[str, str] = {}  # role → API token of a user with that role

    def cli(self, *args: str, env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "media_hub.cli", *args],
            env={**self.env, **(env or {})}, cwd=ROOT, capture_output=True, text=True, **kw,
        )

    def _spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(
            [sys.executable, "-m", "media_hub.cli", *args],
            env={**self.env, **(env or {})}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a kill takes ffmpeg children too
        )

    def start(self) -> Hub:
        self.server = self._spawn("server", "serve", "--no-worker", "--port", str(self.port))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log('server')}")
            try:
                if httpx.get(f"{self.url}/api/v1/media", timeout=2).status_code == 200:
                    self._create_users()
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"server did not start:\n{self.log('server')}")

    def _create_users(self) -> None:
        """One user per role (username = role with "-" for "_"; "quantri" for admin,
        since ``serve`` made "admin" on first start), each with an API token."""
        for role in ROLES:
            name = "quantri" if role == "admin" else role.replace("_", "-")
            made = self.cli("users", "create", name, "--role", role, "--password", PASSWORD, "--full-name", name)
            assert made.returncode == 0, made.stderr
            token = self.cli("users", "token", name, "--name", "tests")
            assert token.returncode == 0, token.stderr
            self.tokens[role] = token.stdout.strip()

    def client(self, role: str | None = "admin") -> httpx.Client:
        """An HTTP client for the hub, authenticated with ``role``'s token (None: anonymous)."""
        headers = {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)

    def start_worker(self, **env: str) -> subprocess.Popen:
        proc = self._spawn(f"worker{len(self.workers)}", "worker", env=env)
        self.workers.append(proc)
        return proc

    def kill_worker(self, proc: subprocess.Popen) -> None:
        """SIGKILL the worker and everything it started (ffmpeg)."""
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-6000:] if path.exists() else ""

    def stop(self) -> None:
        for proc in [*self.workers, self.server]:
            if proc and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.server]:
            if proc:
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)

    # --- API helpers ---------------------------------------------------------------
    def upload(self, path: Path, *, title: str, kind: str = "skit", filename: str | None = None,
               description: str = "", role: str = "editor") -> httpx.Response:
        with path.open("rb") as fh, self.client(role) as client:
            return client.post(
                "/api/v1/media",
                data={"title": title, "kind": kind, "description": description},
                files={"file": (filename or path.name, fh, "application/octet-stream")},
            )

    def item(self, item_id: int) -> dict:
        with self.client("admin") as client:
            return client.get(f"/api/v1/media/{item_id}").json()

    def publish(self, item_id: int) -> dict:
        """Submit as the editor and approve as the reviewer."""
        with self.client("editor") as editor, self.client("reviewer") as reviewer:
            assert editor.post(f"/api/v1/media/{item_id}/submit").status_code == 200
            res = reviewer.post(f"/api/v1/media/{item_id}/approve")
            assert res.status_code == 200, res.text
            return res.json()

    def wait(self, item_id: int, *, until=("ready", "failed"), timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            item = self.item(item_id)
            if item["status"] in until:
                return item
            time.sleep(0.5)
        logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in self.logs.glob("*.log"))
        raise AssertionError(f"item {item_id} still {item['status']} after {timeout}s: {item}\n{logs}")
