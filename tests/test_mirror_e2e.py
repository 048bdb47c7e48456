"""YouTube mirror end to end: a real hub (web app + Celery worker on the embedded broker)
talking to the fake YouTube Data API in tests/fake_youtube.py; plus the quota ledger,
job postponement and the HLS remux in-process."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import FAST_RECOVERY
from tests.fake_youtube import FakeYouTube
from tests.hub import Hub

CHUNK = 256 * 1024
FFMPEG = ["ffmpeg", "-nostdin", "-v", "error", "-y"]
PLAYLIST = "PL-giao-thong-0001"
TITLE = "Tiểu phẩm: Đội mũ bảo hiểm đúng cách"


def make_clip(path: Path, frequency: int, seconds: float = 4) -> Path:
    """A ~2 MB H.264/AAC MP4 (several 256 KiB chunks); ``frequency`` makes each file unique."""
    subprocess.run(
        [*FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-f", "lavfi", "-i",
         f"sine=frequency={frequency}", "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast",
         "-crf", "8", "-c:a", "aac", "-shortest", "-movflags", "+faststart", str(path)],
        check=True, capture_output=True, timeout=60)
    assert path.stat().st_size > 1024 * 1024 + CHUNK
    return path


@pytest.fixture(scope="module")
def fake():
    with FakeYouTube() as server:
        yield server


@pytest.fixture(scope="module")
def hub(tmp_path_factory, fake):
    env = {
        **FAST_RECOVERY,
        "MEDIA_HUB_ASR_ENABLED": "false",
        "MEDIA_HUB_WORKER_CONCURRENCY": "2",
        "MEDIA_HUB_YOUTUBE_CLIENT_ID": fake.CLIENT_ID,
        "MEDIA_HUB_YOUTUBE_CLIENT_SECRET": fake.CLIENT_SECRET,
        "MEDIA_HUB_YOUTUBE_REFRESH_TOKEN": fake.REFRESH_TOKEN,
        "MEDIA_HUB_YOUTUBE_TOKEN_URI": fake.token_uri,
        "MEDIA_HUB_YOUTUBE_API_ROOT": fake.url,
        "MEDIA_HUB_YOUTUBE_CHUNK_BYTES": str(CHUNK),
        "MEDIA_HUB_YOUTUBE_PLAYLISTS": json.dumps({"giao-thong": PLAYLIST}),
    }
    hub = Hub(tmp_path_factory.mktemp("mirror"), env).start()
    hub.start_worker()
    yield hub
    hub.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clips")
    return {name: make_clip(folder / f"{name}.mp4", freq) for name, freq in
            (("first", 440), ("dropped", 550), ("quota", 660))}


def wait_mirror(hub: Hub, item_id: int, status: str, timeout: float = 90, check=lambda item: True) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        item = hub.item(item_id)
        if item["mirror"] and item["mirror"]["status"] == status and check(item):
            return item
        time.sleep(0.3)
    raise AssertionError(f"mirror of {item_id} not {status}: {item['mirror']}\n{item['jobs']}\n{hub.log('worker0')}")


def wait_for(condition, timeout: float = 60, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def sessions_titled(fake: FakeYouTube, title: str) -> list:
    return [s for s in list(fake.sessions.values()) if s.metadata["snippet"]["title"] == title]


def upload_ready(hub: Hub, path: Path, title: str, description: str = "") -> dict:
    res = hub.upload(path, title=title, description=description)
    assert res.status_code == 201, res.text
    return hub.wait(res.json()["id"])


@pytest.fixture(scope="module")
def published(hub, fake, clips):
    """The first clip, with a topic and a legal document, published and mirrored."""
    with hub.client("admin") as admin, hub.client("editor") as editor:
        topic = admin.post("/api/v1/topics", json={"name": "Giao thông"}).json()
        doc = admin.post("/api/v1/documents", json={
            "number": "36/2024/QH15", "title": "Luật Trật tự, an toàn giao thông đường bộ", "doc_type": "Luật"}).json()
        item = upload_ready(hub, clips["first"], TITLE, "Hướng dẫn đội mũ bảo hiểm khi đi xe máy.")
        res = editor.patch(f"/api/v1/media/{item['id']}", json={"topic_ids": [topic["id"]], "document_ids": [doc["id"]]})
        assert res.status_code == 200, res.text
    assert topic["slug"] == "giao-thong"
    assert hub.item(item["id"])["mirror"] is None  # a draft is never mirrored
    hub.publish(item["id"])
    return wait_mirror(hub, item["id"], "mirrored")


def test_publish_uploads_the_original_once_in_chunks_with_metadata(hub, fake, clips, published):
    (session,) = sessions_titled(fake, TITLE)
    data = clips["first"].read_bytes()
    assert hashlib.sha256(session.data).digest() == hashlib.sha256(data).digest()
    puts = [r for r in fake.data_puts() if r["upload_id"] == session.id]
    assert len(puts) == -(-len(data) // CHUNK) >= 5  # several 256 KiB chunks, none sent twice
    assert all(r["body_len"] == CHUNK for r in puts[:-1])
    snippet, status = session.metadata["snippet"], session.metadata["status"]
    watch = f"{hub.url}/v/{published['slug']}"
    assert snippet["title"] == TITLE and snippet["defaultLanguage"] == "vi" and snippet["categoryId"] == "27"
    assert "36/2024/QH15" in snippet["description"] and watch in snippet["description"]
    assert "Hướng dẫn đội mũ bảo hiểm" in snippet["description"] and "Giao thông" in snippet["tags"]
    assert status["selfDeclaredMadeForKids"] is False and status["privacyStatus"] == "public"
    mirror = published["mirror"]
    assert mirror["video_id"] == session.video_id and mirror["progress"] == 1.0 and mirror["error"] is None
    assert mirror["url"] == f"https://www.youtube.com/watch?v={session.video_id}"
    assert [i["snippet"]["playlistId"] for i in fake.playlist_items.values()
            if i["snippet"]["resourceId"]["videoId"] == session.video_id] == [PLAYLIST]
    job = [j for j in published["jobs"] if j["task"] == "mirror"][-1]
    assert job["state"] == "succeeded" and job["attempts"] == 1
    with hub.client("admin") as admin:
        assert admin.get(f"/api/v1/media/{published['id']}/mirror").json()["status"] == "mirrored"
        quota = admin.get("/api/v1/youtube/quota").json()
        assert quota["methods"]["videos.insert"] == 1600 and quota["total"] >= 1650 and quota["limit"] == 10000
        edit = admin.get(f"/v/{published['slug']}/edit").text
    assert "YouTube" in edit and mirror["url"] in edit


def test_reviewed_subtitles_become_captions_then_updates(hub, fake, published):
    video_id = published["mirror"]["video_id"]
    url = f"/api/v1/media/{published['id']}/subtitles/vi"
    vtt = "WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nHãy đội mũ bảo hiểm\n"
    with hub.client("admin") as admin:
        assert admin.put(url, content=vtt.encode(), headers={"content-type": "text/vtt"}).status_code == 200
        assert admin.post(f"{url}/reviewed").status_code == 200

        def caption():
            found = [c for c in fake.captions.values() if c["resource"]["snippet"]["videoId"] == video_id]
            return found[0] if found else None

        wait_for(lambda: caption() is not None, what="captions.insert")
        assert caption()["versions"] == 1 and "Hãy đội mũ bảo hiểm" in caption()["data"].decode()
        assert caption()["resource"]["snippet"]["language"] == "vi"

        second = vtt.replace("Hãy đội mũ bảo hiểm", "Cài quai mũ cho chắc chắn")
        assert admin.put(url, content=second.encode(), headers={"content-type": "text/vtt"}).status_code == 200
        assert admin.post(f"{url}/reviewed").status_code == 200
        wait_for(lambda: caption()["versions"] == 2, what="captions.update")
        assert "Cài quai mũ" in caption()["data"].decode()
        assert fake.count("POST", "/upload/youtube/v3/captions") == 1  # then updates, not inserts

        res = admin.patch(f"/api/v1/media/{published['id']}", json={"title": TITLE + " (bản mới)"})
        assert res.status_code == 200, res.text
        wait_for(lambda: fake.videos[video_id]["snippet"]["title"] == TITLE + " (bản mới)", what="videos.update")
        admin.patch(f"/api/v1/media/{published['id']}", json={"title": TITLE})
        wait_for(lambda: fake.videos[video_id]["snippet"]["title"] == TITLE, what="videos.update")
    wait_mirror(hub, published["id"], "mirrored")
    assert len(sessions_titled(fake, TITLE)) == 1


def test_unpublish_makes_private_and_republish_public_without_second_upload(hub, fake, published):
    video_id = published["mirror"]["video_id"]
    with hub.client("reviewer") as reviewer:
        assert reviewer.post(f"/api/v1/media/{published['id']}/unpublish").status_code == 200
    item = wait_mirror(hub, published["id"], "withdrawn")
    assert fake.videos[video_id]["status"]["privacyStatus"] == "private"
    assert item["mirror"]["video_id"] == video_id
    uploads = fake.count("POST", "/upload/youtube/v3/videos")

    hub.publish(published["id"])
    wait_mirror(hub, published["id"], "mirrored",
                check=lambda _item: fake.videos[video_id]["status"]["privacyStatus"] == "public")
    assert fake.count("POST", "/upload/youtube/v3/videos") == uploads  # no second upload
    assert len(sessions_titled(fake, TITLE)) == 1 and len(fake.videos) >= 1

    with hub.client("editor") as editor, hub.client("reviewer") as reviewer:
        assert editor.post(f"/api/v1/media/{published['id']}/mirror").status_code == 403
        res = reviewer.post(f"/api/v1/media/{published['id']}/mirror")  # "sync now": nothing changed
        assert res.status_code == 202 and res.json()["status"] == "pending"
    wait_mirror(hub, published["id"], "mirrored")
    assert fake.count("POST", "/upload/youtube/v3/videos") == uploads


def test_connection_dropped_mid_upload_resumes_and_makes_one_video(hub, fake, clips):
    title = "Tình huống: Nhường đường cho xe cứu thương"
    item = upload_ready(hub, clips["dropped"], title)
    fake.drop_next_chunk(100_000)
    hub.publish(item["id"])
    item = wait_mirror(hub, item["id"], "mirrored")
    (session,) = sessions_titled(fake, title)
    assert session.data == clips["dropped"].read_bytes()
    assert [r for r in fake.data_puts() if r["upload_id"] == session.id and r.get("dropped")]
    assert [v for v in fake.videos.values() if v["snippet"]["title"] == title] == [fake.videos[session.video_id]]
    assert item["mirror"]["video_id"] == session.video_id


def test_quota_exceeded_postpones_until_pacific_midnight_without_spending_an_attempt(hub, fake, clips):
    from media_hub.mirror.youtube import next_pacific_midnight

    title = "Tình huống: Chở quá số người quy định"
    item = upload_ready(hub, clips["quota"], title)
    fake.fail("init", 403, "quotaExceeded")
    hub.publish(item["id"])
    item = wait_mirror(hub, item["id"], "postponed")
    mirror = item["mirror"]
    assert datetime.fromisoformat(mirror["retry_at"]) == next_pacific_midnight()
    assert "hạn mức" in mirror["error"] and "giờ Việt Nam" in mirror["error"]
    assert mirror["video_id"] is None and sessions_titled(fake, title) == []
    job = [j for j in item["jobs"] if j["task"] == "mirror"][-1]
    assert job["state"] == "retrying" and job["attempts"] == 0 and job["error"] == mirror["error"]
    time.sleep(FAST_RECOVERY_STALE + 2)  # the sweep leaves it alone: it waits for the quota, not for a worker
    again = hub.item(item["id"])
    assert again["mirror"]["status"] == "postponed"
    assert [j for j in again["jobs"] if j["task"] == "mirror"][-1]["state"] == "retrying"


def test_takedown_goes_through_when_uploads_spent_the_quota(hub, fake, published):
    """A day of uploads spends all the quota uploads may use; an update waits for the reset,
    but unpublishing wakes that job and makes the video private at once (reserved units)."""
    from sqlalchemy import delete

    from media_hub.config import Settings
    from media_hub.db import session_scope
    from media_hub.mirror import service
    from media_hub.mirror.models import QuotaUsage
    from media_hub.mirror.youtube import Postpone

    settings = Settings(data_dir=Path(hub.env["MEDIA_HUB_DATA_DIR"]))
    video_id = wait_mirror(hub, published["id"], "mirrored")["mirror"]["video_id"]
    assert fake.videos[video_id]["status"]["privacyStatus"] == "public"
    with session_scope(settings.db_url) as s:
        before = service.usage(s)
    try:
        for units in (1600, 50, 1):  # as many uploads as the ledger lets through
            while True:
                try:
                    service.spend(settings, units, "videos.insert")
                except Postpone:
                    break
        with session_scope(settings.db_url) as s:
            spent = service.usage(s)[service.TOTAL]
        assert spent == settings.youtube_daily_quota - settings.youtube_takedown_reserve

        with hub.client("admin") as admin:
            res = admin.patch(f"/api/v1/media/{published['id']}", json={"title": TITLE + " (sửa)"})
            assert res.status_code == 200, res.text
        waiting = wait_mirror(hub, published["id"], "postponed")["mirror"]
        assert "hạn mức" in waiting["error"]
        assert fake.videos[video_id]["snippet"]["title"] == TITLE  # the update waits for the reset

        with hub.client("reviewer") as reviewer:
            assert reviewer.post(f"/api/v1/media/{published['id']}/unpublish").status_code == 200
        wait_mirror(hub, published["id"], "withdrawn")
        assert fake.videos[video_id]["status"]["privacyStatus"] == "private"
        with session_scope(settings.db_url) as s:
            after = service.usage(s)[service.TOTAL]
        assert spent < after <= settings.youtube_daily_quota  # paid from the reserve
    finally:
        with session_scope(settings.db_url) as s:  # give the day's quota back to later tests
            s.execute(delete(QuotaUsage).where(QuotaUsage.day == service.pacific_day()))
            s.add_all(QuotaUsage(day=service.pacific_day(), method=m, units=u) for m, u in before.items())


FAST_RECOVERY_STALE = float(FAST_RECOVERY["MEDIA_HUB_JOB_STALE_SECONDS"])


# -- in-process: ledger, postponed jobs and the sweep, remux -------------------------------------

@pytest.fixture
def db_settings(tmp_path):
    from media_hub import db
    from media_hub.config import Settings

    settings = Settings(data_dir=tmp_path, youtube_daily_quota=2000, youtube_takedown_reserve=0, job_stale_seconds=60)
    db.upgrade(settings.db_url)
    return settings


def test_quota_ledger_adds_per_pacific_day_and_postpones_past_the_limit(db_settings):
    from media_hub.db import session_scope
    from media_hub.mirror import service
    from media_hub.mirror.youtube import Postpone, next_pacific_midnight

    now = datetime(2026, 1, 15, 7, 30, tzinfo=timezone.utc)  # 23:30 on 14 January in California
    service.spend(db_settings, 1600, "videos.insert", now)
    service.spend(db_settings, 400, "captions.insert", now)
    with pytest.raises(Postpone) as caught:
        service.spend(db_settings, 1, "videos.list", now)
    assert caught.value.retry_at == next_pacific_midnight(now) == datetime(2026, 1, 15, 8, 0, tzinfo=timezone.utc)
    assert "2.000/2.000" in caught.value.reason
    with session_scope(db_settings.db_url) as s:
        assert service.usage(s, service.pacific_day(now)) == {
            "*": 2000, "videos.insert": 1600, "captions.insert": 400}  # the refused request left nothing
    service.spend(db_settings, 50, "videos.update", now + timedelta(hours=1))  # a new Pacific day
    with session_scope(db_settings.db_url) as s:
        assert service.usage(s, service.pacific_day(now + timedelta(hours=1)))["*"] == 50


def test_uploads_stop_short_of_the_units_reserved_for_takedowns(db_settings):
    from media_hub.db import session_scope
    from media_hub.mirror import service
    from media_hub.mirror.youtube import Postpone

    settings = db_settings.model_copy(update={"youtube_takedown_reserve": 300})
    now = datetime(2026, 1, 15, 7, 30, tzinfo=timezone.utc)
    service.spend(settings, 1600, "videos.insert", now)
    service.spend(settings, 100, "videos.update", now)
    with pytest.raises(Postpone):  # 1750 > 2000 - 300
        service.spend(settings, 50, "playlistItems.insert", now)
    service.spend(settings, 1, "videos.list", now, takedown=True)
    service.spend(settings, 299, "videos.update", now, takedown=True)
    with pytest.raises(Postpone):  # the reserve ends at the daily limit
        service.spend(settings, 1, "videos.delete", now, takedown=True)
    with session_scope(settings.db_url) as s:
        assert service.usage(s, service.pacific_day(now))["*"] == 2000


def test_uploads_and_updates_give_way_to_a_queued_takedown(db_settings):
    from media_hub.db import session_scope
    from media_hub.library.models import Job, JobState, MediaItem, MediaKind, MediaStatus
    from media_hub.mirror.models import MirrorStatus, YouTubeMirror
    from media_hub.mirror.service import takedown_waiting

    def item(n: int, status: MediaStatus) -> MediaItem:
        return MediaItem(public_id=str(n) * 32, slug=f"x{n}", title="x", kind=MediaKind.skit, checksum="0" * 64,
                         size_bytes=1, original_filename="x.mp4", original_content_type="video/mp4",
                         original_key=f"media/x{n}/original", status=status)

    with session_scope(db_settings.db_url) as s:
        uploading, unpublished = item(1, MediaStatus.published), item(2, MediaStatus.ready)
        s.add_all([uploading, unpublished])
        s.flush()
        s.add_all([YouTubeMirror(item_id=uploading.id, status=MirrorStatus.uploading, state={}),
                   YouTubeMirror(item_id=unpublished.id, status=MirrorStatus.mirrored, video_id="v1", state={})])
        ids = uploading.id, unpublished.id
    assert not takedown_waiting(db_settings, ids[0])
    with session_scope(db_settings.db_url) as s:
        s.add(Job(item_id=ids[1], task="mirror", state=JobState.queued))
    assert takedown_waiting(db_settings, ids[0])  # another item's takedown goes first
    with session_scope(db_settings.db_url) as s:
        s.get(YouTubeMirror, 2).status = MirrorStatus.withdrawn
    assert not takedown_waiting(db_settings, ids[0])
    with session_scope(db_settings.db_url) as s:
        s.get(MediaItem, ids[0]).status = MediaStatus.ready  # its own item was unpublished mid-upload
    assert takedown_waiting(db_settings, ids[0])


def test_a_postponed_job_keeps_its_attempt_and_the_sweep_requeues_it_when_due(db_settings):
    from media_hub.db import session_scope, utcnow
    from media_hub.library.models import Job, JobState, MediaItem, MediaKind
    from workers import jobs

    with session_scope(db_settings.db_url) as s:
        item = MediaItem(public_id="p" * 32, slug="x", title="x", kind=MediaKind.skit, checksum="0" * 64,
                         size_bytes=1, original_filename="x.mp4", original_content_type="video/mp4",
                         original_key="media/x/original")
        s.add(item)
        s.flush()
        waiting, due = Job(item_id=item.id, task="mirror"), Job(item_id=item.id, task="mirror")
        s.add_all([waiting, due])
        s.flush()
        ids = waiting.id, due.id
    for job_id, until in zip(ids, (utcnow() + timedelta(hours=5), utcnow() - timedelta(seconds=61)), strict=True):
        attempt = jobs.claim(db_settings, job_id)
        assert attempt == 1
        assert jobs.postpone(db_settings, job_id, attempt, "Hết hạn mức", until)
        assert not jobs.postpone(db_settings, job_id, attempt, "again", until)  # no longer ours
    with session_scope(db_settings.db_url) as s:
        assert [(j.state, j.attempts, j.error) for j in (s.get(Job, i) for i in ids)] == \
            [(JobState.retrying, 0, "Hết hạn mức")] * 2
    assert jobs.requeue_stale(db_settings) == [(ids[1], "mirror")]  # due: until + stale seconds passed
    assert jobs.claim(db_settings, ids[1]) == 1  # the postponement cost no attempt


def test_remux_of_the_top_rendition_is_an_mp4_copy(tmp_path):
    from media_hub.mirror.service import remux_rendition
    from storage import open_storage

    hls = tmp_path / "hls"
    hls.mkdir()
    subprocess.run([*FFMPEG, "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i",
                    "sine", "-t", "5", "-c:v", "libx264", "-preset", "ultrafast", "-g", "25", "-c:a", "aac",
                    "-shortest", "-f", "hls", "-hls_time", "1", "-hls_playlist_type", "vod",
                    "-hls_segment_filename", str(hls / "seg_%05d.ts"), str(hls / "index.m3u8")],
                   check=True, capture_output=True, timeout=60)
    store = open_storage(f"file://{tmp_path / 'store'}")
    for path in hls.iterdir():
        store.put_file(f"media/abc/hls-1-1/720p/{path.name}", path)
    work = tmp_path / "work"
    work.mkdir()
    out = remux_rendition(store, "media/abc/hls-1-1/720p/index.m3u8", work)
    info = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=format_name,duration:stream=codec_name", "-of", "json",
         str(out)], check=True, capture_output=True).stdout)
    assert info["format"]["format_name"].startswith("mov,mp4")
    assert sorted(s["codec_name"] for s in info["streams"]) == ["aac", "h264"]
    assert abs(float(info["format"]["duration"]) - 5) < 0.3
    assert [p.name for p in work.iterdir()] == ["youtube.mp4"]
