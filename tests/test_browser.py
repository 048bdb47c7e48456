"""Pages in a real headless Chromium (Debian's), driven by Playwright: an editor
uploads and submits, a reviewer publishes, an anonymous viewer watches."""

from __future__ import annotations

import shutil

import pytest

from tests import media_factory as mf
from tests.hub import PASSWORD
from media_hub import clock

pytestmark = pytest.mark.browser
TITLE = "Tình huống: Tranh chấp đất đai"
SLUG = "tinh-huong-tranh-chap-dat-dai"


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed (./mh test installs it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--autoplay-policy=no-user-gesture-required"],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(browser):
    contexts, errors = [], []

    def make():
        context = browser.new_context(locale="vi-VN")
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert errors == [], errors


def login(page, hub, username: str) -> None:
    page.goto(f"{hub.url}/login")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"{hub.url}/")
    assert f"Xin chào, {username}" in page.inner_text("header")


def test_editor_uploads_reviewer_publishes_anonymous_watches(embedded_hub, new_page, tmp_path):
    hub = embedded_hub
    src = mf.make_video(tmp_path / "Tình huống pháp luật.mp4", width=1280, height=720, duration=6)

    editor = new_page()
    login(editor, hub, "editor")
    editor.goto(f"{hub.url}/upload")
    editor.fill("#upload-title", TITLE)
    editor.select_option("#upload-kind", "scenario")
    editor.set_input_files("#upload-file", str(src))
    editor.click("#upload-submit")
    editor.wait_for_url(f"**/v/{SLUG}", timeout=60_000)
    editor.wait_for_selector("video#player", timeout=180_000)  # reloads itself when ready
    editor.goto(f"{hub.url}/v/{SLUG}/edit")
    editor.click("button[name=action][value=submit]")
    editor.wait_for_url(f"**/v/{SLUG}/edit")
    assert "Chờ duyệt" in editor.inner_text("main")

    anonymous = new_page()
    assert anonymous.goto(f"{hub.url}/v/{SLUG}").status == 404  # not published yet

    reviewer = new_page()
    login(reviewer, hub, "reviewer")
    reviewer.goto(f"{hub.url}/review")
    reviewer.click(f"a[href='/v/{SLUG}/edit']")
    reviewer.click("button[name=action][value=approve]")
    reviewer.wait_for_url(f"**/v/{SLUG}/edit")
    audit = reviewer.inner_text("table")
    assert "Gửi duyệt" in audit and "Duyệt và xuất bản" in audit and "editor" in audit and "reviewer" in audit

    response = anonymous.goto(f"{hub.url}/v/{SLUG}")
    assert response.status == 200 and TITLE in anonymous.inner_text("h1")
    anonymous.wait_for_function("window.hubPlayer && window.hubPlayer.levels.length > 0", timeout=30_000)
    levels = anonymous.evaluate("window.hubPlayer.levels.map(l => [l.width, l.height])")
    assert sorted(levels, reverse=True) == [[1280, 720], [854, 480], [640, 360]], levels
    options = anonymous.eval_on_selector_all("#quality option", "els => els.map(e => e.textContent.trim())")
    assert options[0].startswith("Tự động") and {"720p", "480p", "360p"} <= set(options)
    anonymous.evaluate("document.getElementById('player').muted = true; document.getElementById('player').play()")
    anonymous.wait_for_function("document.getElementById('player').currentTime > 2", timeout=30_000)
    assert anonymous.evaluate("document.getElementById('player').paused") is False
    card = anonymous.goto(f"{hub.url}/") and anonymous.locator(".card", has_text="Tranh chấp đất đai")
    assert card.get_attribute("data-status") == "published"


def test_viewer_sees_a_vietnamese_cue_on_the_playing_video(embedded_hub, new_page, tmp_path):
    hub = embedded_hub
    src = mf.make_video(tmp_path / "speech.mp4", width=854, height=480, duration=7, speech=True)
    item = hub.wait(hub.upload(src, title="Phụ đề trên trình phát").json()["id"])
    url = f"/api/v1/media/{item['id']}/subtitles/vi"
    editor = hub.client("editor")
    cues = {"cues": [{"start": 0.2, "end": 6.5, "text": "Người điều khiển xe phải đội mũ bảo hiểm"}]}
    assert editor.put(url, json=cues).status_code == 200
    assert editor.post(f"{url}/reviewed").status_code == 200
    hub.publish(item["id"])

    page = new_page()
    page.goto(f"{hub.url}{item['watch_url']}")
    page.wait_for_function("window.hubPlayer && window.hubPlayer.subtitleTracks.length > 0", timeout=30_000)
    page.evaluate("document.getElementById('player').muted = true; document.getElementById('player').play()")
    page.wait_for_function("window.hubSubtitles && window.hubSubtitles.activeCueText().length > 0", timeout=30_000)
    assert page.evaluate("window.hubSubtitles.activeCueText()") == "Người điều khiển xe phải đội mũ bảo hiểm"
    assert page.eval_on_selector_all("#subtitles option", "els => els.map(e => e.textContent.trim())")[1] == "Tiếng Việt"


def test_channel_page_keeps_playing_across_a_programme_boundary(embedded_hub, new_page, tmp_path):
    from datetime import timedelta

    hub = embedded_hub
    item = hub.wait(hub.upload(mf.make_video(tmp_path / "p.mp4", width=1280, height=720, duration=8),
                               title="Chương trình trên kênh").json()["id"])
    hub.publish(item["id"])
    start = clock.now().replace(microsecond=0) + timedelta(seconds=12)
    res = hub.client("editor").post("/api/v1/channels/phap-luat/programmes",
                                    json={"item_id": item["id"], "start": start.isoformat()})
    assert res.status_code == 201, res.text

    page = new_page()
    page.goto(f"{hub.url}/channels/phap-luat")
    page.wait_for_function("window.hubPlayer && window.hubPlayer.levels.length === 3", timeout=30_000)
    page.evaluate("document.getElementById('player').muted = true; document.getElementById('player').play()")
    page.wait_for_function("document.getElementById('player').currentTime > 1", timeout=30_000)
    before = page.evaluate("document.getElementById('player').currentTime")
    # Filler → programme → filler: the playhead (PROGRAM-DATE-TIME of the frame on screen)
    # passes the end of the programme without the player stopping.
    end_ms = int((start + timedelta(seconds=12)).timestamp() * 1000)
    page.wait_for_function(f"window.hubChannel.playingDate() && window.hubChannel.playingDate().getTime() > {end_ms}",
                           timeout=90_000)
    after = page.evaluate("document.getElementById('player').currentTime")
    assert after - before > 15 and page.evaluate("document.getElementById('player').paused") is False
    assert page.inner_text("#player-error").strip() == ""
