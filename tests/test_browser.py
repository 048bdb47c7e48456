"""Pages in a real headless Chromium (Debian's), driven by Playwright."""

from __future__ import annotations

import shutil

import pytest

from tests import media_factory as mf

pytestmark = pytest.mark.browser


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
def page(browser):
    context = browser.new_context(locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert errors == [], errors


def test_upload_in_the_form_then_watch_adaptive_playback(embedded_hub, page, tmp_path):
    hub = embedded_hub
    src = mf.make_video(tmp_path / "Tình huống pháp luật.mp4", width=1280, height=720, duration=6)
    page.goto(f"{hub.url}/upload")
    page.fill("#upload-title", "Tình huống: Tranh chấp đất đai")
    page.select_option("#upload-kind", "scenario")
    page.set_input_files("#upload-file", str(src))
    page.click("#upload-submit")
    page.wait_for_url("**/v/tinh-huong-tranh-chap-dat-dai", timeout=60_000)

    # The watch page shows processing, then reloads itself when the item is ready.
    page.wait_for_selector("video#player", timeout=180_000)
    assert "Tình huống: Tranh chấp đất đai" in page.inner_text("h1")
    page.wait_for_function("window.hubPlayer && window.hubPlayer.levels.length > 0", timeout=30_000)
    levels = page.evaluate("window.hubPlayer.levels.map(l => [l.width, l.height])")
    assert sorted(levels, reverse=True) == [[1280, 720], [854, 480], [640, 360]], levels
    options = page.eval_on_selector_all("#quality option", "els => els.map(e => e.textContent.trim())")
    assert options[0].startswith("Tự động") and {"720p", "480p", "360p"} <= set(options)

    page.evaluate("document.getElementById('player').muted = true; document.getElementById('player').play()")
    page.wait_for_function("document.getElementById('player').currentTime > 2", timeout=30_000)
    assert page.evaluate("document.getElementById('player').paused") is False

    page.goto(f"{hub.url}/")
    card = page.locator(".card", has_text="Tranh chấp đất đai")
    assert card.get_attribute("data-status") == "ready"
