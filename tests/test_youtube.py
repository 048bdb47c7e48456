"""YouTube mirror library against the fake API server (tests/fake_youtube.py)."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
import unicodedata
from datetime import datetime, timezone
from pathlib import Path

import pytest

from media_hub.mirror.youtube import (
    FORCED_PRIVATE_VI,
    MirrorConfig,
    MirrorFailed,
    MirrorState,
    Postpone,
    YouTubeMirror,
    next_pacific_midnight,
    video_metadata,
)
from tests.fake_youtube import FakeYouTube

CHUNK = 256 * 1024
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> Path:
    """A real ~3 MB H.264/AAC MP4 (about 12 chunks of 256 KiB)."""
    path = tmp_path_factory.mktemp("yt") / "luat-dat-dai.mp4"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "6", "-c:v", "libx264", "-preset", "ultrafast",
         "-crf", "6", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)],
        check=True, capture_output=True, timeout=60)
    assert path.stat().st_size > 8 * CHUNK
    return path


@pytest.fixture
def fake():
    with FakeYouTube() as server:
        yield server


def make_config(fake: FakeYouTube, **kw) -> MirrorConfig:
    kw = {"chunk_size": CHUNK, "backoff_base": 0.01, "backoff_max": 0.05, **kw}
    return MirrorConfig(fake.CLIENT_ID, fake.CLIENT_SECRET, fake.REFRESH_TOKEN,
                        token_uri=fake.token_uri, api_root=fake.url, **kw)


class Ledger:
    def __init__(self):
        self.spent: list[tuple[int, str]] = []

    def __call__(self, units: int, method: str) -> None:
        self.spent.append((units, method))

    @property
    def total(self) -> int:
        return sum(u for u, _ in self.spent)


def metadata(title="Luật Đất đai 2024: quyền của người sử dụng đất", privacy="public") -> dict:
    return video_metadata(
        title, "Những điểm mới của Luật Đất đai năm 2024 về quyền và nghĩa vụ của người sử dụng đất.",
        [("31/2024/QH15", "Luật Đất đai"), ("102/2024/NĐ-CP", "Nghị định quy định chi tiết")],
        "https://stp.example.gov.vn/watch/42", ["đất đai", "pháp luật", "Sở Tư pháp"],
        privacy_status=privacy)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_full_upload_in_chunks(fake, video):
    ledger, progress, sessions = Ledger(), [], []
    mirror = YouTubeMirror(make_config(fake), ledger)
    result = mirror.upload(str(video), metadata(), on_session=sessions.append,
                           on_progress=lambda sent, total: progress.append((sent, total)))

    size = video.stat().st_size
    session = fake.only_session()
    assert sha(session.data) == sha(video.read_bytes())
    assert len(fake.data_puts()) == -(-size // CHUNK) >= 8
    assert [r["range_start"] for r in fake.data_puts()] == list(range(0, size, CHUNK))
    assert len(sessions) == 1 and "upload_id=" in sessions[0]
    assert progress[-1] == (size, size) and [p for p, _ in progress] == sorted(p for p, _ in progress)
    assert ledger.spent == [(1600, "videos.insert")]
    assert result.video_id == session.video_id and result.warning is None
    stored = fake.videos[result.video_id]
    assert stored["snippet"]["title"] == "Luật Đất đai 2024: quyền của người sử dụng đất"
    assert stored["snippet"]["categoryId"] == "27" and stored["snippet"]["defaultLanguage"] == "vi"
    assert stored["status"]["privacyStatus"] == "public" and stored["status"]["selfDeclaredMadeForKids"] is False


def test_connection_drop_resumes_from_confirmed_byte(fake, video):
    mirror = YouTubeMirror(make_config(fake))

    def on_progress(sent, total):
        if sent == 2 * CHUNK:  # the third chunk breaks after 100,000 bytes reached the server
            fake.drop_next_chunk(100_000)

    result = mirror.upload(str(video), metadata(), on_progress=on_progress)
    data = video.read_bytes()
    session = fake.only_session()
    assert sha(session.data) == sha(data) and result.video_id
    puts = fake.data_puts()
    dropped = [i for i, r in enumerate(puts) if r.get("dropped")]
    assert len(dropped) == 1 and puts[dropped[0]]["range_start"] == 2 * CHUNK
    # The client asked where to go on, and went on exactly from the byte the server confirmed.
    after = [r for r in fake.requests if r["time"] > puts[dropped[0]]["time"] and r["method"] == "PUT"]
    assert after[0]["content_range"] == f"bytes */{len(data)}"
    assert after[1]["range_start"] == 2 * CHUNK + 100_000
    # Stored ranges are contiguous: no byte stored twice; bytes sent ≤ file + the unconfirmed chunk.
    assert sum(end - start for start, end in session.ranges) == len(data)
    assert all(a[1] == b[0] for a, b in zip(session.ranges, session.ranges[1:], strict=False))
    assert sum(r["body_len"] for r in puts) <= len(data) + CHUNK


WORKER = textwrap.dedent("""
    import json, sys
    from media_hub.mirror.youtube import MirrorConfig, YouTubeMirror
    cfg, path, meta, store = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
    def on_session(uri):  # "the database"
        with open(store, "w") as f:
            f.write(uri or "")
    YouTubeMirror(MirrorConfig(**cfg)).upload(path, meta, on_session=on_session)
""")


def test_worker_killed_mid_upload_resumes_in_new_process(fake, video, tmp_path):
    config = make_config(fake)
    store = tmp_path / "session_uri"
    fake.chunk_delay = 0.15
    args = {k: getattr(config, k) for k in ("client_id", "client_secret", "refresh_token", "token_uri",
                                             "api_root", "chunk_size")}
    worker = subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(args), str(video),
                               json.dumps(metadata()), str(store)], cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while sum(1 for r in fake.data_puts() if r.get("stored")) < 3:
            assert worker.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    fake.chunk_delay = 0
    time.sleep(0.2)  # let the server finish the request the worker died in
    session_uri = store.read_text()
    confirmed = len(fake.only_session().data)
    size = video.stat().st_size
    assert 3 * CHUNK <= confirmed < size
    before = len(fake.requests)

    result = YouTubeMirror(config).resume(session_uri, str(video))  # a new process: only the stored URI

    new_puts = [r for r in fake.requests[before:] if r.get("range_start") is not None]
    assert new_puts[0]["range_start"] == confirmed
    assert sum(r["body_len"] for r in new_puts) == size - confirmed  # only the remaining bytes
    assert fake.count("POST", "/upload/youtube/v3/videos") == 1  # no second session, no second insert
    assert sha(fake.only_session().data) == sha(video.read_bytes()) and result.video_id


def test_server_errors_then_success_are_retried(fake, video):
    sleeps = []
    mirror = YouTubeMirror(make_config(fake), sleep=sleeps.append)
    fake.fail("init", 503)
    fake.fail("chunk", 500)
    fake.fail("status", 502)
    fake.fail("api", 403, "userRateLimitExceeded")
    result = mirror.upload(str(video), metadata())
    assert sha(fake.only_session().data) == sha(video.read_bytes())
    assert mirror.update_metadata(result.video_id, metadata("Tiêu đề mới"))["snippet"]["title"] == "Tiêu đề mới"
    assert len(sleeps) == 4 and all(0 < s <= 0.05 for s in sleeps)
    assert not fake.faults


def test_transient_errors_that_last_postpone_and_keep_the_session(fake, video):
    now = datetime(2025, 1, 10, 3, 0, tzinfo=timezone.utc)
    mirror = YouTubeMirror(make_config(fake, max_retries=2), now=lambda: now, sleep=lambda s: None)
    state, saved = MirrorState(), []
    fake.fail("chunk", 500, times=10)
    with pytest.raises(Postpone) as caught:
        mirror.mirror(state, path=str(video), metadata=metadata(), on_state=lambda s: saved.append(s.to_dict()))
    assert (caught.value.retry_at - now).total_seconds() == 15 * 60
    assert saved[-1]["session_uri"] and saved[-1]["video_id"] is None  # resumable later
    fake.faults.clear()
    mirror.mirror(state, path=str(video), metadata=metadata())
    assert state.video_id and fake.count("POST", "/upload/youtube/v3/videos") == 1


@pytest.mark.parametrize("reason", ["quotaExceeded", "uploadLimitExceeded"])
def test_quota_exceeded_postpones_to_next_pacific_midnight(fake, video, reason):
    now = datetime(2025, 7, 1, 12, 0, tzinfo=timezone.utc)  # 05:00 PDT
    mirror = YouTubeMirror(make_config(fake), now=lambda: now)
    fake.fail("init", 403, reason)
    with pytest.raises(Postpone) as caught:
        mirror.upload(str(video), metadata())
    assert caught.value.retry_at == datetime(2025, 7, 2, 7, 0, tzinfo=timezone.utc)  # 00:00 PDT
    assert caught.value.api_reason == reason
    assert "14:00 ngày 02/07/2025 (giờ Việt Nam)" in caught.value.reason
    assert unicodedata.is_normalized("NFC", caught.value.reason)
    assert not fake.data_puts()


def test_next_pacific_midnight_follows_daylight_saving():
    # 2025-03-09 02:00 PST -> PDT; 2025-11-02 02:00 PDT -> PST
    assert next_pacific_midnight(datetime(2025, 3, 8, 20, 0, tzinfo=timezone.utc)) == \
        datetime(2025, 3, 9, 8, 0, tzinfo=timezone.utc)
    assert next_pacific_midnight(datetime(2025, 3, 9, 12, 0, tzinfo=timezone.utc)) == \
        datetime(2025, 3, 10, 7, 0, tzinfo=timezone.utc)
    assert next_pacific_midnight(datetime(2025, 11, 2, 12, 0, tzinfo=timezone.utc)) == \
        datetime(2025, 11, 3, 8, 0, tzinfo=timezone.utc)
    assert next_pacific_midnight(datetime(2025, 11, 2, 7, 59, tzinfo=timezone.utc)) == \
        datetime(2025, 11, 3, 8, 0, tzinfo=timezone.utc)  # 00:59 PDT on the day clocks go back


def test_captions_insert_then_update(fake, video):
    ledger = Ledger()
    mirror = YouTubeMirror(make_config(fake), ledger)
    video_id = mirror.upload(str(video), metadata()).video_id
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nXin chào quý vị.\n".encode()
    caption_id = mirror.upload_captions(video_id, vtt)
    stored = fake.captions[caption_id]
    assert stored["data"] == vtt and stored["resource"]["snippet"]["name"] == "Tiếng Việt"

    vtt2 = vtt.replace("Xin chào".encode(), "Kính chào".encode())
    assert mirror.upload_captions(video_id, vtt2, existing_caption_id=caption_id) == caption_id
    assert fake.captions[caption_id]["data"] == vtt2 and fake.captions[caption_id]["versions"] == 2

    # A lost caption id: the insert is refused (captionExists) and the track is found and updated.
    assert mirror.upload_captions(video_id, vtt) == caption_id
    assert len(fake.captions) == 1 and fake.captions[caption_id]["versions"] == 3
    assert [m for _, m in ledger.spent if m.startswith("captions")] == [
        "captions.insert", "captions.update", "captions.insert", "captions.list", "captions.update"]


def test_playlist_insert_is_idempotent(fake, video):
    mirror = YouTubeMirror(make_config(fake))
    video_id = mirror.upload(str(video), metadata()).video_id
    item = mirror.add_to_playlist("PL-dat-dai", video_id)
    assert mirror.add_to_playlist("PL-dat-dai", video_id) == item  # found with playlistItems.list
    assert mirror.add_to_playlist("PL-dat-dai", video_id, existing_item_id=item) == item  # no request
    assert fake.count("POST", "/youtube/v3/playlistItems") == 1
    assert fake.playlist_items[item]["snippet"]["resourceId"]["videoId"] == video_id


def test_mirror_rerun_with_stored_video_id_never_uploads_again(fake, video):
    ledger = Ledger()
    config = make_config(fake, playlist_ids={"dat-dai": "PL-dat-dai", "hon-nhan": "PL-hon-nhan"})
    mirror = YouTubeMirror(config, ledger)
    vtt = "WEBVTT\n\n00:00.000 --> 00:02.000\nXin chào.\n".encode()
    saved = []
    state = mirror.mirror(MirrorState(), path=str(video), metadata=metadata(), captions=vtt,
                          topics=["dat-dai", "khong-co"], on_state=lambda s: saved.append(json.dumps(s.to_dict())))
    assert state.video_id and state.caption_id and list(state.playlist_items) == ["PL-dat-dai"]
    assert json.loads(saved[0])["session_uri"]  # stored before the first byte went out
    stored = MirrorState.from_dict(json.loads(saved[-1]))
    assert stored == state
    spent_after_first = ledger.total
    requests_after_first = len(fake.requests)

    mirror2 = YouTubeMirror(config, ledger)  # later, another worker
    mirror2.mirror(stored, path=str(video), metadata=metadata(), captions=vtt, topics=["dat-dai"])
    assert len(fake.requests) == requests_after_first and ledger.total == spent_after_first  # nothing changed

    mirror2.mirror(stored, path=str(video), metadata=metadata("Tiêu đề đã sửa"), captions=vtt,
                   topics=["dat-dai", "hon-nhan"])
    new = [(r["method"], r["path"]) for r in fake.requests[requests_after_first:] if r["path"] != "/token"]
    assert new == [("PUT", "/youtube/v3/videos"), ("GET", "/youtube/v3/playlistItems"),
                   ("POST", "/youtube/v3/playlistItems")]
    assert fake.count("POST", "/upload/youtube/v3/videos") == 1 and len(fake.videos) == 1
    assert fake.videos[state.video_id]["snippet"]["title"] == "Tiêu đề đã sửa"


def test_lost_session_restarts_from_zero(fake, video):
    mirror = YouTubeMirror(make_config(fake))
    old_uri = mirror.start_upload(str(video), metadata())
    fake.forget_sessions()
    sessions = []
    result = mirror.upload(str(video), metadata(), session_uri=old_uri, on_session=sessions.append)
    assert sessions[0] is None and sessions[1] != old_uri
    assert fake.data_puts()[0]["range_start"] == 0
    assert sha(fake.only_session().data) == sha(video.read_bytes()) and result.video_id


def test_forced_private_upload_is_reported(fake, video):
    fake.force_private = True
    mirror = YouTubeMirror(make_config(fake))
    state = mirror.mirror(MirrorState(), path=str(video), metadata=metadata())
    assert state.privacy_status == "private" and state.warning == FORCED_PRIVATE_VI
    assert "xác minh" in state.warning


def test_unpublish_keeps_other_status_fields_and_delete(fake, video):
    mirror = YouTubeMirror(make_config(fake))
    video_id = mirror.upload(str(video), metadata()).video_id
    assert mirror.unpublish(video_id) == "private"
    status = fake.videos[video_id]["status"]
    assert status["privacyStatus"] == "private" and status["embeddable"] is True
    deleting = YouTubeMirror(make_config(fake, unpublish_action="delete"))
    assert deleting.unpublish(video_id) == "delete" and video_id in fake.deleted
    deleting.delete(video_id)  # already gone: fine
    with pytest.raises(MirrorFailed):
        mirror.set_privacy(video_id, "private")


def test_revoked_refresh_token_fails_clearly(fake, video):
    config = make_config(fake)
    config.refresh_token = "revoked"
    with pytest.raises(MirrorFailed) as caught:
        YouTubeMirror(config).upload(str(video), metadata())
    assert "refresh token" in caught.value.reason


def test_video_metadata_limits():
    docs = [(f"{i}/2024/NĐ-CP", "Nghị định " + "quy định chi tiết " * 5) for i in range(200)]
    meta = video_metadata("Hỏi <đáp> " + "pháp luật " * 30, "Tóm tắt dài. " * 2000, docs,
                          "https://stp.example.gov.vn/watch/7", ["a b", "A B", "c,d", "x" * 600, "luật"])
    snippet = meta["snippet"]
    assert len(snippet["title"]) <= 100 and "<" not in snippet["title"] and snippet["title"].startswith("Hỏi đáp")
    description = snippet["description"]
    assert len(description.encode()) <= 5000 and "<" not in description
    assert description.endswith("https://stp.example.gov.vn/watch/7")
    assert "• 0/2024/NĐ-CP – Nghị định" in description and description.startswith("Tóm tắt dài.")
    assert snippet["tags"] == ["a b", "c d", "luật"]  # duplicates dropped, comma removed, over-long tag skipped
    assert unicodedata.is_normalized("NFC", description)
    assert meta["status"] == {"privacyStatus": "public", "selfDeclaredMadeForKids": False, "embeddable": True}
    decomposed = unicodedata.normalize("NFD", "Luật Hôn nhân")
    assert video_metadata(decomposed, "", [], "u")["snippet"]["title"] == "Luật Hôn nhân"
    with pytest.raises(ValueError):
        video_metadata("<>", "", [], "u")
