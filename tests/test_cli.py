"""`media-hub ingest` runs the whole pipeline from the command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path


from tests import media_factory as mf
from tests.hub import ROOT


def ingest(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "media_hub.cli", "ingest", *args],
        env={**os.environ, "MEDIA_HUB_DATA_DIR": str(data_dir), "COLUMNS": "200", **env},
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_ingest_prints_watch_url_and_outputs(tmp_path):
    # NFC name with characters Windows forbids; the hub never uses it as a path.
    src = mf.make_video(tmp_path / 'Tình huống: "ly hôn" | ai nuôi con?.mp4', width=854, height=480)
    res = ingest(tmp_path / "var", str(src), "--title", "Tình huống: Ly hôn, ai nuôi con?", "--kind", "scenario",
                 MEDIA_HUB_PUBLIC_BASE_URL="https://phapluat.example.vn")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "https://phapluat.example.vn/v/tinh-huong-ly-hon-ai-nuoi-con" in res.stdout
    assert "480p" in res.stdout and "360p" in res.stdout and "master.m3u8" in res.stdout
    masters = list((tmp_path / "var" / "storage" / "media").rglob("master.m3u8"))
    assert len(masters) == 1 and "#EXT-X-STREAM-INF" in masters[0].read_text()


def test_ingest_refused_and_failed_files_exit_non_zero_with_reason(tmp_path):
    text = mf.make_text(tmp_path / "bien-ban.mp4")
    res = ingest(tmp_path / "var", str(text), "--title", "Biên bản")
    assert res.returncode == 1 and "không phải video hay âm thanh" in res.stderr

    cut = mf.make_truncated_mp4(tmp_path / "cut.mp4")
    res = ingest(tmp_path / "var", str(cut), "--title", "Tệp hỏng")
    assert res.returncode == 1 and "Xử lý thất bại" in res.stderr and "moov" in res.stderr


def test_ingest_via_worker_uses_the_broker(embedded_hub, tmp_path):
    src = mf.make_audio(tmp_path / "bản tin.mp3", codec="libmp3lame", duration=2)
    res = embedded_hub.cli("ingest", str(src), "--title", "Bản tin tuần", "--kind", "radio", "--via-worker",
                           timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    items = embedded_hub.client("admin").get("/api/v1/media").json()["items"]
    item = next(i for i in items if i["title"] == "Bản tin tuần")
    assert item["status"] == "ready" and item["job"]["attempts"] == 1
    assert f"{embedded_hub.url}/v/{item['slug']}" in res.stdout


def test_first_start_creates_an_admin_who_can_sign_in(embedded_hub):
    import re

    import httpx

    # The password is in a 0600 file of the data folder; the log names the file only.
    log = (embedded_hub.logs / "server.log").read_text()
    path = Path(embedded_hub.env["MEDIA_HUB_DATA_DIR"]) / "first-admin-password.txt"
    assert f"\n{path}\n" in log, embedded_hub.log("server")
    password = path.read_text().strip()
    assert (path.stat().st_mode & 0o777) == 0o600 and password not in log
    with httpx.Client(base_url=embedded_hub.url) as browser:
        token = re.search(r'name="csrf-token" content="([^"]+)"', browser.get("/login").text)[1]
        res = browser.post("/login", data={"username": "admin", "password": password, "csrf_token": token})
        assert res.status_code == 303
        assert browser.get("/admin/users").status_code == 200


def test_ingest_runs_every_upload_job_for_a_radio_segment(tmp_path):
    """Like a web upload: transcode, then subtitles and the broadcast MP3, a line per job."""
    src = mf.make_speech(tmp_path / "bản tin.wav")
    res = ingest(tmp_path / "var", str(src), "--title", "Bản tin pháp luật", "--kind", "radio",
                 "--out", str(tmp_path / "out"), MEDIA_HUB_PUBLIC_BASE_URL="https://phapluat.example.vn")
    assert res.returncode == 0, res.stdout + res.stderr
    for label in ("Chuyển mã", "Nhận dạng giọng nói", "Tạo bản phát thanh (MP3)"):
        assert any(label in row and "100%" in row for row in res.stdout.splitlines()), res.stdout

    vtt = tmp_path / "out" / "bản tin.vi.vtt"
    assert f"WebVTT): {vtt}" in res.stdout
    text = vtt.read_text(encoding="utf-8")
    assert text.startswith("WEBVTT") and "-->" in text
    assert re.search(r"https://phapluat\.example\.vn/api/v1/media/\d+/subtitles/vi$", res.stdout, re.M)

    mp3 = Path(re.search(r"^Bản phát thanh \(MP3\): (.+)$", res.stdout, re.M)[1])
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0",
                            str(mp3)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "mp3"
    assert re.search(r"https://phapluat\.example\.vn/api/v1/media/\d+/broadcast\.mp3$", res.stdout, re.M)
