"""The channel's programme guide: XMLTV (validated against the XMLTV DTD with lxml), M3U
for IPTV players (opened by ffprobe and mpv over 127.0.0.1) and now/next JSON.

The DTD comes from Debian's ``libxmltv-perl`` (/usr/share/sgml/xmltv/dtd/0.5/xmltv.dtd;
``xmltv-util`` ships the same file as /usr/share/xmltv/xmltv.dtd).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from media_hub.channel import (
    FILLER_TITLE, Anchor, guide_programmes, m3u, now_next, plan, replan, xmltv,
)
from tests.test_channel_timeline import (
    FILLER_ITEMS, ITEMS, ChannelServer, build_channel_media, media_profile, random_schedule, sec,
    synthetic,
)

DTD_PATHS = (Path("/usr/share/xmltv/xmltv.dtd"), Path("/usr/share/sgml/xmltv/dtd/0.5/xmltv.dtd"))
VN = timezone(timedelta(hours=7))
ORIGIN = datetime(2025, 6, 1, 23, 50, tzinfo=VN)  # filler cycle (10 s) aligned with 23:59:50
CHANNEL = ("kenh-phap-luat.stp", ["Kênh Pháp luật", "STP TV"], "https://hub.example/static/logo.png")
TITLES = {
    "late": ("Luật Đất đai 2024 & những điểm mới", "Giải đáp <quyền sử dụng đất>\x07 của \"hộ gia đình\".",
             ["Pháp luật", "Đất đai"]),
    "early": "Hỏi – đáp pháp luật",
}


def midnight_timeline():
    late_show = synthetic("late", [4] * 7 + [1.5])  # 29.5 s
    return plan([(datetime(2025, 6, 1, 23, 59, 50, tzinfo=VN), late_show, "late"),
                 (datetime(2025, 6, 2, 0, 10, tzinfo=VN), ITEMS[1], "early"),
                 (datetime(2025, 6, 2, 0, 10, 14, tzinfo=VN), ITEMS[0], "third")],
                FILLER_ITEMS, Anchor(ORIGIN))


def dtd():
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover
        pytest.fail("lxml is needed to validate XMLTV (pip install lxml)")
    path = next((p for p in DTD_PATHS if p.is_file()), None)
    if path is None:  # pragma: no cover
        pytest.fail("the XMLTV DTD is missing: apt-get install libxmltv-perl")
    return etree, etree.DTD(str(path))


def test_xmltv_validates_against_the_dtd_across_midnight():
    etree, schema = dtd()
    tl = midnight_timeline()
    entries = guide_programmes(tl, ORIGIN, ORIGIN + timedelta(hours=1), TITLES)
    data = xmltv(CHANNEL, entries)
    doc = etree.fromstring(data, etree.XMLParser(dtd_validation=False, no_network=True))
    assert schema.validate(doc), schema.error_log.filter_from_errors()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">')
    assert doc.get("generator-info-name") == "media-hub"
    (channel,) = doc.findall("channel")
    assert [(d.text, d.get("lang")) for d in channel.findall("display-name")] == [
        ("Kênh Pháp luật", "vi"), ("STP TV", "vi")]
    assert channel.find("icon").get("src") == CHANNEL[2]
    progs = doc.findall("programme")
    times = [(p.get("start"), p.get("stop")) for p in progs]
    assert all(re.fullmatch(r"\d{14} \+0700", t) for pair in times for t in pair)
    assert all(a[1] == b[0] for a, b in zip(times, times[1:]))  # no gaps, no overlaps
    titles = [(p.get("start"), p.get("stop"), p.find("title").text) for p in progs]
    assert titles[:3] == [
        ("20250601235000 +0700", "20250601235950 +0700", FILLER_TITLE),
        ("20250601235950 +0700", "20250602000019 +0700", "Luật Đất đai 2024 & những điểm mới"),
        ("20250602000019 +0700", titles[3][0], FILLER_TITLE),
    ]
    late = progs[1]
    assert late.find("title").get("lang") == "vi" and late.find("desc").get("lang") == "vi"
    assert late.find("desc").text == 'Giải đáp <quyền sử dụng đất> của "hộ gia đình".'  # \x07 dropped
    assert [c.text for c in late.findall("category")] == ["Pháp luật", "Đất đai"]
    assert all(p.get("channel") == CHANNEL[0] for p in progs)
    # "early" (13.7 s) then "third" 0.3 s after it: the 4 s of filler between them is folded
    # into "early"; after "third" the filler loop runs to the end of the window.
    assert [t[2] for t in titles[3:]] == ["Hỏi – đáp pháp luật", "third", FILLER_TITLE]
    assert titles[-1][1] == "20250602005000 +0700"


def test_guide_entries_are_contiguous_over_a_busy_day():
    rng = random.Random(11)
    start = datetime(2025, 6, 1, 17, 0, tzinfo=timezone.utc)
    programmes = random_schedule(rng, start, 86400 / 4)
    tl = plan(programmes, FILLER_ITEMS, Anchor(start))
    entries = guide_programmes(tl, start + sec(3600), start + sec(86400 / 2),
                               lambda pid: (f"Chương trình {pid}", None, ()), min_filler=120)
    assert entries[0][0] <= start + sec(3600) and entries[-1][1] == start + sec(86400 / 2)
    for a, b in zip(entries, entries[1:]):
        assert a[1] == b[0] and a[0] < a[1]
        assert not (a[2] == b[2] == FILLER_TITLE)  # filler runs are merged
    fillers = [e for e in entries[1:-1] if e[2] == FILLER_TITLE]  # between two programmes
    assert fillers and all(e[1] - e[0] >= sec(120) for e in fillers)
    etree, schema = dtd()
    assert schema.validate(etree.fromstring(xmltv(CHANNEL, entries)))


def test_now_next():
    tl = midnight_timeline()
    at = now_next(tl, datetime(2025, 6, 2, 0, 0, 5, tzinfo=VN), TITLES)
    json.dumps(at)
    assert at["at"] == "2025-06-02T00:00:05+07:00"
    assert at["now"] | {"elapsed": None} == {
        "kind": "programme", "programme_id": "late", "title": TITLES["late"][0],
        "description": TITLES["late"][1], "categories": ["Pháp luật", "Đất đai"],
        "start": "2025-06-01T23:59:50+07:00", "stop": "2025-06-02T00:00:19+07:00",
        "elapsed": None, "remaining": 14.5}
    assert at["now"]["elapsed"] == 15.0
    assert at["next"]["programme_id"] == "early" and at["next"]["title"] == "Hỏi – đáp pháp luật"
    assert at["next"]["starts_in"] == pytest.approx(
        (tl.blocks[[b.programme_id for b in tl.blocks].index("early")].actual_start
         - datetime(2025, 6, 2, 0, 0, 5, tzinfo=VN)).total_seconds())
    filler = now_next(tl, datetime(2025, 6, 2, 0, 5, tzinfo=VN), TITLES)
    assert filler["now"]["kind"] == "filler" and filler["now"]["title"] == FILLER_TITLE
    assert filler["now"]["start"] == "2025-06-02T00:00:19+07:00"
    assert filler["now"]["stop"] == filler["next"]["start"]
    forever = now_next(tl, datetime(2025, 7, 1, tzinfo=VN), TITLES)
    assert forever["now"]["kind"] == "filler" and forever["now"]["stop"] is None
    assert forever["now"]["remaining"] is None and forever["next"] is None
    assert forever["now"]["start"].startswith("2025-06-02T00:10:")  # after "third"
    empty = now_next(plan([], FILLER_ITEMS, Anchor(ORIGIN)), ORIGIN + sec(7))
    assert empty["now"]["start"] == "2025-06-01T23:50:00+07:00" and empty["next"] is None
    # After a replan that pruned history, the filler run starts at the earliest kept block.
    again = replan(tl, datetime(2025, 7, 1, tzinfo=VN), [], FILLER_ITEMS, keep=60)
    assert now_next(again, datetime(2025, 7, 1, 0, 0, 10, tzinfo=VN))["now"]["kind"] == "filler"


def test_m3u_escapes_attributes():
    text = m3u([("kenh1", 'Kênh "Pháp luật"\nSTP', "http://h/logo.png", 1, "Sở Tư pháp",
                 "http://h/channel/1/master.m3u8"),
                ("kenh2", "Kênh 2", None, None, None, "http://h/channel/2/master.m3u8")],
               "http://h/epg.xml")
    assert text == (
        '#EXTM3U url-tvg="http://h/epg.xml" x-tvg-url="http://h/epg.xml"\n'
        "#EXTINF:-1 tvg-id=\"kenh1\" tvg-name=\"Kênh 'Pháp luật' STP\" tvg-logo=\"http://h/logo.png\" "
        'tvg-chno="1" group-title="Sở Tư pháp",Kênh "Pháp luật" STP\n'
        "http://h/channel/1/master.m3u8\n"
        '#EXTINF:-1 tvg-id="kenh2" tvg-name="Kênh 2",Kênh 2\n'
        "http://h/channel/2/master.m3u8\n")


@pytest.fixture(scope="module")
def live_channel(tmp_path_factory):
    """The real-media channel served live at a simulated clock in the middle of programme A."""
    base = tmp_path_factory.getbasetemp() / "channel_media" / "media"
    base.mkdir(parents=True, exist_ok=True)
    sources = build_channel_media(base)
    start = datetime(2025, 6, 1, 13, 0, tzinfo=timezone.utc)
    tl = plan([(start + sec(7), sources["prog_a"], "A")], [sources["filler"]], Anchor(start))
    now = start + sec(12)
    with ChannelServer(base.parent, tl, media_profile(sources), lambda: now) as server:
        epg = xmltv(CHANNEL, guide_programmes(tl, start, start + sec(3600), {"A": "Chương trình A"}))
        server.extra["/epg.xml"] = ("application/xml", epg)
        playlist = m3u([("kenh1", 'Kênh "Pháp luật"', f"{server.url}/logo.png", 1, "Sở Tư pháp",
                         f"{server.url}/live/master.m3u8")], f"{server.url}/epg.xml")
        server.extra["/channels.m3u"] = ("audio/x-mpegurl", playlist.encode())
        yield server, playlist


def test_m3u_stream_urls_open_in_ffprobe(live_channel):
    """ffprobe opens each stream of the M3U (the channel's live master playlist).  The M3U
    itself is not an ffmpeg input: its hls demuxer wants the first line to be exactly
    "#EXTM3U", and an IPTV M3U carries url-tvg there (see the mpv test)."""
    server, playlist = live_channel
    urls = [line for line in playlist.splitlines() if line and not line.startswith("#")]
    assert urls == [f"{server.url}/live/master.m3u8"]
    for url in urls:
        run = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                              "stream=codec_name,width,height,sample_rate", "-of", "json", url],
                             capture_output=True, timeout=60)
        assert run.returncode == 0 and not run.stderr, run.stderr.decode()
        streams = json.loads(run.stdout)["streams"]
        assert {(s["codec_name"], s.get("width"), s.get("sample_rate")) for s in streams} >= {
            ("h264", 640, None), ("aac", None, "48000")}
    assert "/live/360p.m3u8" in server.log


def test_m3u_plays_in_mpv(live_channel):
    """An IPTV-style player (mpv) reads the M3U over HTTP, takes the channel's name from
    #EXTINF and plays the live channel."""
    server, _ = live_channel
    if shutil.which("mpv") is None:  # pragma: no cover
        pytest.fail("mpv is needed for this test: apt-get install mpv")
    started = time.monotonic()
    run = subprocess.run(["mpv", "--no-config", "--vo=null", "--ao=null", "--frames=20",
                          "--term-playing-msg=TITLE=${media-title} SIZE=${video-params/w}x${video-params/h}",
                          f"{server.url}/channels.m3u"], capture_output=True, timeout=60)
    out = run.stdout.decode()
    assert run.returncode == 0, out + run.stderr.decode()
    assert "TITLE=Kênh \"Pháp luật\" SIZE=640x360" in out, out
    assert {"/channels.m3u", "/live/master.m3u8", "/live/360p.m3u8"} <= set(server.log)
    assert any(p.endswith(".ts") for p in server.log)
    print(f"\nmpv played the M3U's channel in {time.monotonic() - started:.1f} s")
