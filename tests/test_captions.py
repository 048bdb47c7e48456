"""Vietnamese subtitles end to end on a real hub: speech recognition after
transcoding, editor revisions, review, HLS subtitle rendition, burned-in rendition."""

from __future__ import annotations

import re
import subprocess
import time
import unicodedata

import m3u8
import numpy as np
import pytest

from media_hub.legal.service import fold
from tests import media_factory as mf

SRT_NFD_1258 = unicodedata.normalize(
    "NFD",
    "1\r\n00:00:00,500 --> 00:00:02,500\r\nXin chào quý vị & các bạn\r\n\r\n"
    "2\r\n00:00:02,800 --> 00:00:05,000\r\nĐây là chương trình pháp luật: phạt < 2 triệu\r\n\r\n",
)


TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def windows_1258(text: str) -> bytes:
    """Windows-1258 has â, ê, ô, ơ, ư… precomposed but tone marks only as combining characters."""
    out = []
    for char in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in parts if c in TONE_MARKS)
        out.append(unicodedata.normalize("NFC", "".join(c for c in parts if c not in TONE_MARKS)) + tones)
    return "".join(out).encode("cp1258")


def wait_job(hub, item_id: int, task: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [j for j in hub.item(item_id)["jobs"] if j["task"] == task]
        if jobs and jobs[-1]["state"] in ("succeeded", "failed"):
            return jobs[-1]
        time.sleep(0.5)
    raise AssertionError(f"{task} job of item {item_id} did not finish: {hub.item(item_id)['jobs']}")


@pytest.fixture(scope="module")
def spoken(embedded_hub, tmp_path_factory):
    """A published-ready item with Vietnamese speech, recognised."""
    src = mf.make_video(tmp_path_factory.mktemp("speech") / "speech.mp4", width=854, height=480, duration=7,
                        speech=True)
    res = embedded_hub.upload(src, title="Phổ biến pháp luật có phụ đề")
    assert res.status_code == 201, res.text
    item = embedded_hub.wait(res.json()["id"])
    assert item["status"] == "ready"
    job = wait_job(embedded_hub, item["id"], "transcribe")
    assert job["state"] == "succeeded" and job["progress"] == 1.0, job
    return item


def test_recognition_makes_a_draft_track_with_the_words(embedded_hub, spoken):
    editor = embedded_hub.client("editor")
    body = editor.get(f"/api/v1/media/{spoken['id']}/subtitles/vi", params={"format": "json"}).json()
    assert body["status"] == "draft" and body["cues"], body
    text = fold(" ".join(c["text"] for c in body["cues"]))
    # Recognition differs by CPU (CTranslate2's int8 kernels): a low bar, not a measured figure.
    assert any(w in text for w in ("xin chao", "chuong trinh", "phap luat", "so tu phap")), text
    for cue in body["cues"]:
        assert 0 <= cue["start"] < cue["end"] <= 7.05
        assert all(len(line) <= 42 for line in cue["text"].split("\n")) and cue["text"].count("\n") <= 1
    # A draft is not public: not in the master playlist, not in the API for anonymous callers.
    master = editor.get(spoken["master_url"]).text
    assert "TYPE=SUBTITLES" not in master
    assert embedded_hub.client(None).get(f"/api/v1/media/{spoken['id']}/subtitles/vi").status_code == 404


def test_a_draft_transcript_is_not_searchable(embedded_hub, spoken):
    editor = embedded_hub.client("editor")
    body = editor.get(f"/api/v1/media/{spoken['id']}/subtitles/vi", params={"format": "json"}).json()
    text = fold(" ".join(c["text"] for c in body["cues"]))
    heard = next(w for w in re.findall(r"\w{3,}", text) if w not in fold(spoken["title"]))  # recognised, not in the title
    found = editor.get("/api/v1/media", params={"q": heard}).json()["items"]
    assert spoken["id"] not in [i["id"] for i in found]


def test_editor_revision_review_and_hls_rendition(embedded_hub, spoken):
    editor = embedded_hub.client("editor")
    url = f"/api/v1/media/{spoken['id']}/subtitles/vi"
    res = editor.put(url, content=SRT_NFD_1258.encode("utf-16"), headers={"content-type": "application/x-subrip"})
    assert res.status_code == 200, res.text  # UTF-16 with BOM, NFD, CRLF
    res = editor.put(url, content=windows_1258(SRT_NFD_1258), headers={"content-type": "application/x-subrip"})
    assert res.status_code == 200, res.text
    assert res.json()["source"] == "editor" and res.json()["status"] == "draft"
    srt = editor.get(url, params={"format": "srt"}).content
    assert not srt.startswith(b"\xef\xbb\xbf") and b"00:00:00,500 --> 00:00:02,500" in srt
    text = srt.decode("utf-8")
    assert unicodedata.is_normalized("NFC", text) and "Đây là chương trình pháp luật: phạt < 2 triệu" in text
    vtt = editor.get(url).content.decode("utf-8")
    assert vtt.startswith("WEBVTT") and "&amp; các bạn" in vtt and "phạt &lt; 2 triệu" in vtt

    assert editor.post(f"{url}/reviewed").json()["status"] == "reviewed"
    anonymous = embedded_hub.client(None)
    embedded_hub.publish(spoken["id"])
    master = m3u8.loads(anonymous.get(spoken["master_url"]).text, uri=embedded_hub.url + spoken["master_url"])
    subs = [m for m in master.media if m.type == "SUBTITLES"]
    assert [(m.language, m.name, m.group_id) for m in subs] == [("vi", "Tiếng Việt", "subs")]
    assert all('SUBTITLES="subs"' in str(v) for v in master.playlists)
    playlist = m3u8.loads(anonymous.get(subs[0].absolute_uri).text, uri=subs[0].absolute_uri)
    assert playlist.is_endlist and playlist.segments
    first = anonymous.get(playlist.segments[0].absolute_uri)
    assert first.headers["content-type"].startswith("text/vtt")
    assert "X-TIMESTAMP-MAP=MPEGTS:" in first.text and "Xin chào quý vị" in first.text
    assert anonymous.get(url, params={"format": "txt"}).text.startswith("Xin chào quý vị & các bạn")
    assert "Xin chào quý vị" in anonymous.get(spoken["watch_url"]).text  # transcript on the watch page


def test_a_new_draft_keeps_the_reviewed_revision_public(embedded_hub, spoken):
    reviewer, anonymous = embedded_hub.client("reviewer"), embedded_hub.client(None)
    url = f"/api/v1/media/{spoken['id']}/subtitles/vi"
    bad = {"cues": [{"start": 0.5, "end": 3, "text": "một"}, {"start": 1, "end": 4, "text": "chồng lấn"},
                    {"start": 5, "end": 5, "text": "ngược"}, {"start": 6, "end": 6.5, "text": "  "}]}
    res = reviewer.put(url, json=bad)
    assert res.status_code == 422 and "trùng thời gian" in res.json()["detail"] and "chưa có chữ" in res.json()["detail"]
    nfd = unicodedata.normalize("NFD", "Bản nháp mới: Luật giao thông")
    res = reviewer.put(url, json={"cues": [{"start": 0.5, "end": 2.5, "text": nfd}]})
    assert res.status_code == 200 and res.json()["status"] == "draft"
    assert res.json()["reviewed_revision"] < res.json()["revision"]
    assert reviewer.get(url, params={"format": "txt"}).text == "Bản nháp mới: Luật giao thông\n"  # NFC
    assert anonymous.get(url, params={"format": "txt"}).text.startswith("Xin chào quý vị")  # still reviewed
    assert "TYPE=SUBTITLES" in anonymous.get(spoken["master_url"]).text
    assert reviewer.post(f"{url}/reviewed").json()["reviewed_revision"] == res.json()["revision"]
    assert anonymous.get(url, params={"format": "txt"}).text.startswith("Bản nháp mới")


def test_recognition_again_never_overwrites_the_editor(embedded_hub, spoken):
    reviewer = embedded_hub.client("reviewer")  # published: reviewers may still work on it
    url = f"/api/v1/media/{spoken['id']}/subtitles/vi"
    before = reviewer.get(f"/api/v1/media/{spoken['id']}/subtitles").json()["tracks"][0]
    assert reviewer.post(f"{url}/recognize").status_code == 202
    assert wait_job(embedded_hub, spoken["id"], "transcribe")["state"] == "succeeded"
    after = reviewer.get(f"/api/v1/media/{spoken['id']}/subtitles").json()["tracks"][0]
    assert after["revision"] == before["revision"] and after["source"] == "editor"
    assert len(after["revisions"]) == len(before["revisions"]) + 1 and after["revisions"][-1]["source"] == "asr"
    assert "Bản nháp mới" in reviewer.get(url, params={"format": "txt"}).text


def test_burned_in_rendition_draws_the_cues(embedded_hub, spoken, tmp_path):
    reviewer = embedded_hub.client("reviewer")
    res = reviewer.post(f"/api/v1/media/{spoken['id']}/burn-in")
    assert res.status_code == 202, res.text
    assert wait_job(embedded_hub, spoken["id"], "burn_in")["state"] == "succeeded"
    burned = tmp_path / "burned.mp4"
    download = embedded_hub.client(None).get(f"/api/v1/media/{spoken['id']}/burned")
    assert download.status_code == 200 and "filename*=" in download.headers["content-disposition"]
    burned.write_bytes(download.content)

    def bottom(path, at: float) -> np.ndarray:
        raw = subprocess.run(["ffmpeg", "-v", "error", "-ss", str(at), "-i", str(path), "-frames:v", "1",
                              "-vf", "scale=854:480", "-f", "rawvideo", "-pix_fmt", "gray", "-"],
                             capture_output=True, check=True).stdout
        return np.frombuffer(raw, np.uint8).reshape(480, 854)[360:].astype(int)

    original = tmp_path / "original.mp4"
    original.write_bytes(embedded_hub.client("editor").get(spoken["download_url"]).content)
    during, gap = 1.5, 2.65  # inside the first cue, and between the cues
    assert np.abs(bottom(burned, during) - bottom(original, during)).mean() > 3
    assert np.abs(bottom(burned, gap) - bottom(original, gap)).mean() < np.abs(
        bottom(burned, during) - bottom(original, during)).mean()


def test_video_without_audio_has_no_track_and_says_why(embedded_hub, tmp_path):
    src = mf.make_video(tmp_path / "silent.mp4", audio=False, duration=2)
    item = embedded_hub.wait(embedded_hub.upload(src, title="Không có tiếng").json()["id"])
    assert item["status"] == "ready"
    assert wait_job(embedded_hub, item["id"], "transcribe")["state"] == "succeeded"
    body = embedded_hub.client("editor").get(f"/api/v1/media/{item['id']}/subtitles").json()
    assert body["tracks"] == [] and body["note"]
    assert embedded_hub.item(item["id"])["status"] == "ready"
