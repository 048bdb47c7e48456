"""The hub's one clock: Viet Nam's day, the injectable offset, and no other time source."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from media_hub import clock

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("media_hub", "workers", "players", "subtitles", "storage")


@pytest.fixture
def at(monkeypatch):
    def set_instant(text: str) -> None:
        monkeypatch.setenv(clock.OFFSET_ENV, str(clock.offset_for(datetime.fromisoformat(text))))
    return set_instant


@pytest.mark.parametrize(("instant", "day"), [
    ("2026-12-04T16:59:00+00:00", date(2026, 12, 4)),  # 23:59 in Ha Noi
    ("2026-12-04T17:00:30+00:00", date(2026, 12, 5)),  # 00:00 in Ha Noi: a new Vietnamese day
    ("2026-12-04T21:30:00+00:00", date(2026, 12, 5)),  # the hour the suite once failed at
    ("2026-12-04T23:30:00+07:00", date(2026, 12, 4)),
    ("2026-12-04T23:30:00+00:00", date(2026, 12, 5)),
])
def test_today_is_the_vietnamese_day(at, instant, day):
    at(instant)
    assert clock.today_vn() == day
    drift = abs((clock.now() - datetime.fromisoformat(instant)).total_seconds())
    assert drift < 5 and clock.now().tzinfo is not None


def test_unset_offset_is_the_system_clock(monkeypatch):
    monkeypatch.delenv(clock.OFFSET_ENV, raising=False)
    assert abs((clock.now() - datetime.now(UTC)).total_seconds()) < 1


def test_offset_needs_an_aware_instant():
    with pytest.raises(ValueError):
        clock.offset_for(datetime(2026, 12, 4, 23, 30))


def test_product_code_reads_time_only_through_the_clock():
    """date.today()/datetime.now()/utcnow()/localtime() read the machine's zone or bypass
    the injectable clock; only media_hub/clock.py may touch the system clock."""
    pattern = re.compile(r"date\.today\(|datetime\.now\(|datetime\.utcnow\(|time\.localtime\(|"
                         r"ZoneInfo\(\s*[\"']Asia/Ho_Chi_Minh")
    offenders = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PRODUCT
        for path in (ROOT / package).rglob("*.py")
        if path != ROOT / "media_hub" / "clock.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


# --- a real hub at an injected clock --------------------------------------------------------

@pytest.fixture(scope="module", params=[
    "2026-12-04T23:30:00+07:00",  # 16:30 UTC: late evening in Viet Nam, same day in UTC
    "2026-12-04T23:30:00+00:00",  # 06:30 on 5 December in Viet Nam, still the 4th on a UTC machine
])
def clocked_hub(request, tmp_path_factory):
    """A hub (web + worker) whose clock, like this process's, reads the instant given."""
    from tests.hub import Hub
    from tests import media_factory as mf
    from tests.test_radio import wait_job

    offset = str(clock.offset_for(datetime.fromisoformat(request.param)))
    folder = tmp_path_factory.mktemp("clocked")
    hub = Hub(folder, {clock.OFFSET_ENV: offset, "MEDIA_HUB_ASR_ENABLED": "false"}).start()
    hub.start_worker()
    item = hub.wait(hub.upload(mf.make_video(folder / "clip.mp4", width=1280, height=720, duration=2),
                               title="Bản tin lúc nửa đêm", kind="radio").json()["id"])
    assert item["status"] == "ready", item
    hub.publish(item["id"])
    wait_job(hub, item["id"], "broadcast")
    mp = pytest.MonkeyPatch()
    mp.setenv(clock.OFFSET_ENV, offset)
    yield hub, hub.item(item["id"])
    mp.undo()
    hub.stop()


def test_report_zip_and_filters_use_the_vietnamese_day(clocked_hub):
    hub, item = clocked_hub
    today = clock.today_vn()
    staff, reviewer = hub.client("radio_staff"), hub.client("reviewer")
    assert staff.get(item["broadcast_url"]).status_code == 200

    def counted(day) -> int:
        res = reviewer.get("/radio/report.csv", params={"since": day, "until": day})
        assert res.status_code == 200, res.text
        rows = list(csv.reader(io.StringIO(res.content.decode("utf-8-sig"))))[1:]
        return sum(int(r[4]) for r in rows if int(r[2]) == item["id"])

    assert counted(today) == 1
    assert counted(today - timedelta(days=1)) == counted(today + timedelta(days=1)) == 0
    res = staff.get("/radio/bundle.zip", params={"ids": [item["id"]]})
    assert res.status_code == 200 and f"phat-thanh-{today}.zip" in res.headers["content-disposition"]
    page = hub.client(None).get("/radio", params={"since": today.isoformat(), "until": today.isoformat()}).text
    assert item["title"] in page
    yesterday = (today - timedelta(days=1)).isoformat()
    assert item["title"] not in hub.client(None).get("/radio", params={"since": yesterday, "until": yesterday}).text
    entry = feedparser.parse(hub.client(None).get("/radio/feed.xml").content).entries[0]
    published = datetime(*entry.published_parsed[:6], tzinfo=UTC)
    assert abs((published - clock.now()).total_seconds()) < 600  # the hub's clock, not the machine's


def test_channel_days_follow_the_hub_clock(clocked_hub):
    hub, item = clocked_hub
    editor = hub.client("editor")
    url = "/api/v1/channels/phap-luat/programmes"
    start = clock.now().replace(second=0, microsecond=0) + timedelta(minutes=45)  # past midnight at 23:30 ICT
    res = editor.post(url, json={"item_id": item["id"], "start": start.isoformat()})
    assert res.status_code == 201, res.text
    day = start.astimezone(clock.VN).date()
    listed = editor.get(url, params={"date": day.isoformat()}).json()
    assert [p["item_id"] for p in listed] == [item["id"]]
    other = clock.today_vn() if day != clock.today_vn() else day + timedelta(days=1)
    assert editor.get(url, params={"date": other.isoformat()}).json() == []
    assert [p["item_id"] for p in editor.get(url).json()] == ([item["id"]] if day == clock.today_vn() else [])
    # In the machine's own clock this start is in the past or hours away: the hub refuses
    # "before now" by its injected clock only.
    res = editor.post(url, json={"item_id": item["id"], "start": (clock.now() - timedelta(minutes=5)).isoformat()})
    assert res.status_code == 422 and "sau hiện tại" in res.json()["detail"]
    epg = ET.fromstring(hub.client(None).get("/channels/phap-luat/epg.xml").content)
    aired = [p.get("start") for p in epg.iter("programme") if p.findtext("title") == item["title"]]
    # The schedule page marks past and on-air rows by the hub's clock (the browser's may be off).
    page = editor.get("/channels/phap-luat/schedule", params={"date": day.isoformat()}).text
    data = json.loads(re.search(r'<script type="application/json" id="schedule-data">(.*?)</script>', page, re.S)[1])
    assert abs((datetime.fromisoformat(data["now"]) - clock.now()).total_seconds()) < 60
    assert [p["item_id"] for p in data["programmes"]] == [item["id"]]
    # It airs in the Vietnamese day computed above, once the filler segment on air ends.
    [when] = [datetime.strptime(a, "%Y%m%d%H%M%S %z") for a in aired]
    assert when.date() == day and timedelta(0) <= when - start < timedelta(seconds=30), aired
