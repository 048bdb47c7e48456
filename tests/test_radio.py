"""Commune radio end to end: broadcast MP3s made by the worker, tags, the radio page,
downloads counted per administrative unit, ZIP bundles, podcast feeds, the report."""

from __future__ import annotations

import csv
import io
import subprocess
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import feedparser
import pytest
from mutagen.id3 import ID3

from tests import media_factory as mf
from tests.hub import PASSWORD
from workers.broadcast import measure
from media_hub import clock

# Two real units (two-level local government since 1 July 2025): Hà Nội's Phường Hoàn Kiếm
# and Phường Cửa Nam.
HOAN_KIEM, CUA_NAM = 70, 73


def wait_job(hub, item_id: int, task: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [j for j in hub.item(item_id)["jobs"] if j["task"] == task]
        if jobs and all(j["state"] in ("succeeded", "failed") for j in jobs):
            return jobs[-1]
        time.sleep(0.5)
    raise AssertionError(f"{task} of {item_id}: {hub.item(item_id)['jobs']}")


@pytest.fixture(scope="module")
def radio(embedded_hub, tmp_path_factory):
    hub = embedded_hub
    folder = tmp_path_factory.mktemp("radio-e2e")
    speech = mf.make_speech(folder / "speech.wav", "Theo Luật Trật tự, an toàn giao thông đường bộ, người "
                            "điều khiển xe mô tô phải đội mũ bảo hiểm. Vi phạm sẽ bị xử phạt hành chính.")
    gain = -40.0 - measure(speech).integrated
    quiet = folder / "quiet.wav"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(speech), "-af", f"volume={gain:.2f}dB", str(quiet)],
                   check=True)
    admin = hub.client("admin")
    programme = admin.post("/api/v1/radio/programmes", json={"name": "Pháp luật và đời sống"}).json()
    doc = admin.post("/api/v1/documents", json={"number": "168/2024/NĐ-CP", "doc_type": "Nghị định",
                                                 "title": "Xử phạt vi phạm hành chính về trật tự, an toàn giao thông"})
    doc = doc.json() if doc.status_code == 201 else next(
        d for d in admin.get("/api/v1/documents").json() if d["number"] == "168/2024/NĐ-CP")
    topic = admin.post("/api/v1/topics", json={"name": "An toàn giao thông"}).json()
    items = {}
    for name, path in (("quiet", quiet), ("video", mf.make_video(folder / "clip.mp4", duration=3, speech=True)),
                       ("mute", mf.make_video(folder / "mute.mp4", duration=2, audio=False))):
        res = hub.upload(path, title=f"Bản tin: {name} — đội mũ bảo hiểm", kind="radio")
        assert res.status_code == 201, res.text
        item = hub.wait(res.json()["id"])
        assert item["status"] == "ready"
        patch = {"topic_ids": [topic["id"]], "document_ids": [doc["id"]], "programme_id": programme["id"]}
        assert hub.client("editor").patch(f"/api/v1/media/{item['id']}", json=patch).status_code == 200
        hub.publish(item["id"])
        wait_job(hub, item["id"], "broadcast")
        items[name] = hub.item(item["id"])
    for username, code in (("xa-hoan-kiem", HOAN_KIEM), ("xa-cua-nam", CUA_NAM)):
        res = admin.post("/api/v1/users", json={"username": username, "password": PASSWORD,
                                                 "role": "radio_staff", "commune_code": code})
        assert res.status_code == 201, res.text
        assert res.json()["commune_name"].startswith("Phường")
        hub.tokens[username] = hub.cli("users", "token", username).stdout.strip()
    return hub, items, topic


def test_broadcast_mp3_is_on_target_and_tagged(radio, tmp_path):
    hub, items, _ = radio
    item = items["quiet"]
    loud = item["broadcast_loudness"]
    assert loud["input_integrated"] == pytest.approx(-40, abs=1)
    mp3 = tmp_path / "quiet.mp3"
    res = hub.client(None).get(item["broadcast_url"])
    assert res.status_code == 200 and res.headers["content-type"] == "audio/mpeg"
    assert "filename*=UTF-8''B%E1%BA%A3n%20tin" in res.headers["content-disposition"]
    mp3.write_bytes(res.content)
    checked = measure(mp3)  # ffmpeg ebur128, true peak
    assert checked.integrated == pytest.approx(-23.0, abs=1.0) and checked.true_peak <= -1.0
    assert loud["integrated"] == pytest.approx(checked.integrated, abs=0.2)
    tags = ID3(mp3, translate=False)  # the frames as stored (v2.3: TYER, not TDRC)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == item["title"] and str(tags["TALB"]) == "Pháp luật và đời sống"
    assert "168/2024/NĐ-CP" in str(tags.getall("COMM")[0]) and tags.getall("APIC") == []  # audio: no poster
    assert str(tags["TYER"]) == str(clock.today_vn().year)
    assert mp3.read_bytes()[-128:-125] != b"TAG"  # no ID3v1
    # A video item gets broadcast audio too; an item without audio says why.
    assert items["video"]["broadcast_url"] and items["video"]["broadcast_loudness"]["on_target"]
    assert items["mute"]["broadcast_url"] is None and items["mute"]["broadcast_note"]
    ranged = hub.client(None).get(item["broadcast_url"], headers={"Range": "bytes=100-199"})
    assert ranged.status_code == 206 and ranged.content == mp3.read_bytes()[100:200]


def test_radio_page_filters_and_feeds(radio):
    hub, items, topic = radio
    anonymous = hub.client(None)
    page = anonymous.get("/radio", params={"topic": topic["slug"]}).text
    assert items["quiet"]["title"] in page and items["mute"]["title"] not in page
    assert items["quiet"]["title"] not in anonymous.get("/radio", params={"topic": "khong-co"}).text
    # How loudness was measured: on the file itself, as the communes' meters read it.
    assert ("Độ to đo theo ITU-R BS.1770 / EBU R128 trên chính tệp MP3" in page
            and "mục tiêu −23,0 LUFS, đỉnh thực ≤ −1,0 dBTP" in page), page
    for url in ("/radio/feed.xml", f"/radio/topics/{topic['slug']}/feed.xml"):
        parsed = feedparser.parse(anonymous.get(url).content)
        assert not parsed.bozo, parsed.bozo_exception
        entries = {e.title: e for e in parsed.entries}
        entry = entries[items["quiet"]["title"]]
        enclosure = entry.enclosures[0]
        body = anonymous.get(enclosure.href).content
        assert enclosure.type == "audio/mpeg" and int(enclosure.length) == len(body)
        assert entry.id == entries[items["quiet"]["title"]].id and entry.itunes_duration
        assert items["mute"]["title"] not in entries


def test_zip_bundle_has_the_files_and_running_order(radio):
    hub, items, _ = radio
    chosen = [items["video"]["id"], items["quiet"]["id"]]
    res = hub.client("xa-hoan-kiem").get("/radio/bundle.zip", params={"ids": chosen})
    assert res.status_code == 200 and res.headers["content-type"] == "application/zip"
    bundle = zipfile.ZipFile(io.BytesIO(res.content))
    names = bundle.namelist()
    assert len(names) == 3 and names[0] == "01 - Bản tin- video — đội mũ bảo hiểm.mp3" and names[1].startswith("02 - Bản tin- quiet")
    order = list(csv.reader(io.StringIO(bundle.read("thu-tu-phat-song.csv").decode("utf-8-sig"))))
    assert order[0] == ["Thứ tự", "Tiêu đề", "Thời lượng", "Tên tệp"]
    assert [row[3] for row in order[1:]] == names[:2] and order[2][1] == items["quiet"]["title"]
    assert bundle.read(names[1]) == hub.client(None).get(items["quiet"]["broadcast_url"]).content
    # Unknown or unpublished items are refused.
    draft = hub.wait(hub.upload(mf.make_audio(hub.logs / "draft.mp3", codec="libmp3lame"), title="Nháp",
                                kind="radio").json()["id"])
    res = hub.client("xa-hoan-kiem").get("/radio/bundle.zip", params={"ids": [items["quiet"]["id"], draft["id"], 99999]})
    assert res.status_code == 404 and f"{draft['id']}, 99999" in res.json()["detail"]


def test_downloads_are_counted_per_unit_under_concurrency(radio):
    hub, items, _ = radio
    item = items["video"]
    reviewer = hub.client("reviewer")
    today = clock.today_vn()
    before = _report(reviewer, today)

    def download(username):
        with hub.client(username) as client:
            return client.get(item["broadcast_url"]).status_code

    users = ["xa-hoan-kiem"] * 12 + ["xa-cua-nam"] * 7
    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(download, users)) == {200}
    hub.client("xa-cua-nam").get(item["broadcast_url"], headers={"Range": "bytes=500-"})  # a resume: not counted
    after = _report(reviewer, today)
    assert after.get((HOAN_KIEM, item["id"]), 0) - before.get((HOAN_KIEM, item["id"]), 0) == 12
    assert after.get((CUA_NAM, item["id"]), 0) - before.get((CUA_NAM, item["id"]), 0) == 7
    assert hub.client("xa-hoan-kiem").get("/radio/report.csv", params={"since": today, "until": today}).status_code == 403


def _report(client, day) -> dict:
    res = client.get("/radio/report.csv", params={"since": day - timedelta(days=1), "until": day})
    assert res.status_code == 200, res.text
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Mã đơn vị", "Đơn vị hành chính", "Mã nội dung", "Tiêu đề", "Số lượt tải"]
    return {(int(r[0]) if r[0] else None, int(r[2])): int(r[4]) for r in rows[1:]}


def test_csv_exports_are_inert_in_spreadsheets(radio):
    """A title that a spreadsheet would run as a formula is written as text (prefixed ')."""
    hub, items, _ = radio
    item = items["quiet"]
    hostile = '=HYPERLINK("http://127.0.0.1:9/x","Bấm vào đây")'
    assert hub.client("admin").patch(f"/api/v1/media/{item['id']}", json={"title": hostile}).status_code == 200
    hub.client("xa-hoan-kiem").get(item["broadcast_url"]).raise_for_status()
    res = hub.client("reviewer").get("/radio/report.csv", params={"since": clock.today_vn(), "until": clock.today_vn()})
    rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))
    titles = [r[3] for r in rows[1:] if int(r[2]) == item["id"]]
    assert titles and set(titles) == {"'" + hostile}  # a row per commune that downloaded it
    res = hub.client("xa-hoan-kiem").get("/radio/bundle.zip", params={"ids": [item["id"]]})
    with zipfile.ZipFile(io.BytesIO(res.content)) as bundle:
        order = list(csv.reader(io.StringIO(bundle.read("thu-tu-phat-song.csv").decode("utf-8-sig"))))
    assert order[1][1] == "'" + hostile
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in order + rows for cell in row)
