"""End to end through real processes: upload over HTTP → Celery worker on a real
broker → ffmpeg ladder in storage → playlists, posters and downloads over HTTP.
Every test runs on the embedded defaults and on PostgreSQL + Redis."""

from __future__ import annotations

import hashlib
import os
import time
import unicodedata
from urllib.parse import quote

import m3u8
import pytest

from tests import media_factory as mf

TITLE = "Tiểu phẩm: Đội mũ bảo hiểm khi đi xe máy"
# NFD on purpose, with characters that are illegal in Windows file names.
FILENAME = unicodedata.normalize("NFD", 'Luật giao thông | hỏi? đáp: "mũ" *<>.mp4')


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


def test_upload_transcode_watch_download(hub, media_dir):
    src = mf.make_video(media_dir / "hd.mp4", width=1920, height=1080, duration=4)
    res = hub.upload(src, title=TITLE, kind="skit", filename=FILENAME, description="Dòng 1\nDòng 2")
    assert res.status_code == 201, res.text
    created = res.json()
    assert created["job_id"] and created["status"] in ("uploaded", "processing")
    assert created["checksum"] == hashlib.sha256(src.read_bytes()).hexdigest()
    assert created["original_filename"] == unicodedata.normalize("NFC", FILENAME)
    assert created["slug"] == "tieu-pham-doi-mu-bao-hiem-khi-di-xe-may"

    item = hub.wait(created["id"])
    assert item["status"] == "ready", item
    assert item["owner_name"] == "editor"
    assert item["duration"] == pytest.approx(4, abs=0.2)
    staff = hub.client("editor")
    assert [r["name"] for r in item["renditions"]] == ["1080p", "720p", "480p", "360p"]
    job = staff.get(f"/api/v1/jobs/{created['job_id']}").json()
    assert job["state"] == "succeeded" and job["progress"] == 1.0 and job["attempts"] == 1

    master_res = staff.get(item["master_url"])
    assert master_res.status_code == 200
    assert master_res.headers["content-type"] == "application/vnd.apple.mpegurl"
    master = m3u8.loads(master_res.text, uri=hub.url + item["master_url"])
    assert master.is_variant and len(master.playlists) == 4
    for variant in master.playlists:
        info = variant.stream_info
        assert info.bandwidth >= info.average_bandwidth > 0
        assert info.resolution and info.codecs.startswith("avc1.") and "mp4a.40.2" in info.codecs
        media_pl = m3u8.loads(staff.get(variant.absolute_uri).text, uri=variant.absolute_uri)
        assert media_pl.is_endlist and media_pl.playlist_type == "vod" and media_pl.segments
        seg = staff.get(media_pl.segments[0].absolute_uri)
        assert seg.status_code == 200 and seg.content[:1] == b"\x47"  # MPEG-TS sync byte
        assert seg.headers["cache-control"] == "private, no-store"  # not published yet

    poster = staff.get(item["poster_url"])
    assert poster.status_code == 200 and poster.content[:2] == b"\xff\xd8"

    original = staff.get(item["download_url"])
    assert original.status_code == 200 and original.content == src.read_bytes()
    nfc = unicodedata.normalize("NFC", FILENAME)
    assert f"filename*=UTF-8''{quote(nfc, safe='')}" in original.headers["content-disposition"]
    ranged = staff.get(item["download_url"], headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == src.read_bytes()[10:20]

    page = staff.get(item["watch_url"])
    assert page.status_code == 200 and TITLE in page.text and item["master_url"] in page.text
    assert TITLE in staff.get("/").text


    # Published, the same URLs are public; browsers may reuse them a minute, shared caches not at all.
    anonymous = hub.client(None)
    assert anonymous.get(item["watch_url"]).status_code == 404
    hub.publish(item["id"])
    assert TITLE in anonymous.get(item["watch_url"]).text
    seg = anonymous.get(media_pl.segments[-1].absolute_uri)
    assert seg.status_code == 200 and seg.headers["cache-control"] == "private, max-age=60"
    assert anonymous.get(item["download_url"]).status_code == 403  # originals stay with the staff


def test_audio_only_radio_segment(hub, media_dir):
    src = mf.make_audio(media_dir / "radio.wav", codec="pcm_s16le", channels=1, duration=3)
    res = hub.upload(src, title="Bản tin pháp luật", kind="radio")
    assert res.status_code == 201, res.text
    item = hub.wait(res.json()["id"])
    assert item["status"] == "ready", item
    assert [(r["name"], r["width"], r["codecs"]) for r in item["renditions"]] == [("audio", None, "mp4a.40.2")]


def test_refused_uploads_say_why(hub, media_dir):
    text = media_dir / "notes.mp4"
    text.write_text("Đây là văn bản, không phải video.\n" * 50)
    res = hub.upload(text, title="Văn bản")
    assert res.status_code == 415 and "không phải video" in res.json()["detail"]

    res = hub.upload(mf.make_video(media_dir / "ok.mp4", duration=1), title="   ")
    assert res.status_code == 422 and res.json()["detail"] == "Thiếu tiêu đề."
    res = hub.upload(media_dir / "ok.mp4", title="Loại sai", kind="movie")
    assert res.status_code == 422 and "Loại nội dung" in res.json()["detail"]

    big = media_dir / "big.mp4"  # over the test hubs' 20 MiB limit
    with big.open("wb") as fh:
        fh.write(mf.make_video(media_dir / "head.mp4", duration=1).read_bytes() + os.urandom(21 * 1024 * 1024))
    res = hub.upload(big, title="Quá lớn")
    assert res.status_code == 413 and "Tệp quá lớn" in res.json()["detail"]

    def chunked():  # no Content-Length: cut off while streaming
        yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.mp4\"\r\n\r\n"
        for _ in range(22):
            yield b"\x00" * (1024 * 1024)
        yield b"\r\n--b--\r\n"

    res = hub.client("editor").post("/api/v1/media", content=chunked(),
                                    headers={"content-type": "multipart/form-data; boundary=b"})
    assert res.status_code == 413


def test_hostile_playlist_is_refused_without_any_request(hub, media_dir, http_canary):
    playlist = media_dir / "attack.mp4"
    playlist.write_text(f"#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n{http_canary.url}/seg.ts\n#EXT-X-ENDLIST\n")
    res = hub.upload(playlist, title="Tấn công")
    assert res.status_code == 415
    assert http_canary.requests == []


def test_truncated_file_fails_with_reason_and_keeps_original(hub, media_dir):
    src = mf.make_truncated_mp4(media_dir / "cut.mp4")
    res = hub.upload(src, title="Tệp hỏng")
    assert res.status_code == 201, res.text
    item = hub.wait(res.json()["id"])
    assert item["status"] == "failed" and item["error"]
    assert item["job"]["attempts"] == 1  # a broken file is not retried
    assert hub.client("editor").get(item["download_url"]).content == src.read_bytes()


def test_over_long_upload_fails_with_reason(hub, media_dir):
    """1.2 KB of MKV whose two frames are 10 h apart: refused by the probe (default 4 h)."""
    src = mf.make_frames_apart(media_dir / "gap.mkv")
    res = hub.upload(src, title="Hai khung hình cách nhau mười giờ")
    assert res.status_code == 201, res.text
    item = hub.wait(res.json()["id"])
    assert item["status"] == "failed" and item["job"]["attempts"] == 1
    assert "Tệp quá dài" in item["error"] and "10 giờ" in item["error"] and "4 giờ" in item["error"]
    assert not item["renditions"] and not item.get("master_url")


def test_killed_worker_mid_transcode_is_resumed_by_another(hub, media_dir):
    src = mf.make_video(media_dir / "long.mp4", width=1920, height=1080, duration=40,
                        extra=("-crf", "40"))
    res = hub.upload(src, title="Tình huống dài")
    assert res.status_code == 201, res.text
    item_id = res.json()["id"]
    deadline = time.monotonic() + 120
    while (item := hub.item(item_id))["job"]["progress"] < 0.1:
        assert time.monotonic() < deadline and item["status"] != "failed", item
        time.sleep(0.2)
    hub.kill_worker(hub.workers[-1])
    assert hub.item(item_id)["status"] == "processing"
    hub.start_worker()
    item = hub.wait(item_id, timeout=300)
    assert item["status"] == "ready", item
    assert item["job"]["attempts"] == 2 and item["job"]["state"] == "succeeded"
    assert f"hls-{item['job']['id']}-2/" in item["master_url"]


def test_head_requests_are_answered(hub):
    with hub.client(None) as anonymous:
        for path in ("/", "/login", "/api/v1/media"):
            res = anonymous.head(path)
            assert res.status_code == 200 and res.content == b"", path
