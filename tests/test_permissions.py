"""Roles × routes on a real hub: who may see and do what, including direct media URLs
of unpublished items and their cache headers; staff-only fields; references between
objects (radio jingles, channel programmes and filler) at save time and at use time; the
review workflow and its audit log; CSRF; login throttling; accent-insensitive search of
public text only."""

from __future__ import annotations

import re
import time

import httpx
import m3u8
import pytest

from tests import media_factory as mf
from tests.hub import PASSWORD

ROLES = ("anonymous", "admin", "editor", "editor2", "reviewer", "radio_staff")


@pytest.fixture(scope="module")
def world(embedded_hub, tmp_path_factory):
    """A draft and a published item owned by ``editor``, plus a second editor."""
    hub = embedded_hub
    if "editor2" not in hub.tokens:
        assert hub.cli("users", "create", "editor2", "--role", "editor", "--password", PASSWORD).returncode == 0
        hub.tokens["editor2"] = hub.cli("users", "token", "editor2").stdout.strip()
    clients = {role: hub.client(None if role == "anonymous" else role) for role in ROLES}
    folder = tmp_path_factory.mktemp("perm")
    items = {}
    for name in ("draft", "published"):
        res = hub.upload(mf.make_video(folder / f"{name}.mp4", duration=1), title=f"Quyền truy cập {name}")
        assert res.status_code == 201, res.text
        items[name] = hub.wait(res.json()["id"])
        assert items[name]["status"] == "ready"
    items["published"] = hub.publish(items["published"]["id"])
    for item in items.values():
        master = m3u8.loads(clients["admin"].get(item["master_url"]).text, uri=hub.url + item["master_url"])
        media_pl = m3u8.loads(clients["admin"].get(master.playlists[0].absolute_uri).text,
                              uri=master.playlists[0].absolute_uri)
        item["media_urls"] = [item["master_url"], master.playlists[0].absolute_uri,
                              media_pl.segments[0].absolute_uri, item["poster_url"]]
    yield hub, clients, items
    for client in clients.values():
        client.close()


def expect(clients, method: str, url: str, by_role: dict[str, int], **kwargs) -> None:
    """API-style calls: a bearer token, or (anonymous) no credentials at all."""
    got = {}
    for role in by_role:
        clients[role].cookies.clear()
        got[role] = clients[role].request(method, url, **kwargs).status_code
    assert got == by_role, f"{method} {url}"


VIEW_DRAFT = {"anonymous": 404, "admin": 200, "editor": 200, "editor2": 404, "reviewer": 200, "radio_staff": 404}
EVERYONE = {role: 200 for role in ROLES}


def test_viewing_an_unpublished_item_and_its_media(world):
    _, clients, items = world
    draft = items["draft"]
    for url in [f"/api/v1/media/{draft['id']}", draft["watch_url"], f"/api/v1/jobs/{draft['job']['id']}",
                *draft["media_urls"], draft["download_url"]]:
        expect(clients, "GET", url, VIEW_DRAFT)
    original_key = re.sub(r"/hls-.*", "/original", draft["master_url"])
    expect(clients, "GET", original_key, {role: 404 for role in ROLES})  # only through the download route
    for role, client in clients.items():
        titles = [i["title"] for i in client.get("/api/v1/media", params={"limit": 200}).json()["items"]]
        assert ("Quyền truy cập draft" in titles) == (VIEW_DRAFT[role] == 200), role
        assert "Quyền truy cập published" in titles, role


def test_viewing_a_published_item(world):
    _, clients, items = world
    pub = items["published"]
    for url in [f"/api/v1/media/{pub['id']}", pub["watch_url"], *pub["media_urls"]]:
        expect(clients, "GET", url, EVERYONE)
    expect(clients, "GET", pub["download_url"],
           {"anonymous": 403, "admin": 200, "editor": 200, "editor2": 403, "reviewer": 200, "radio_staff": 403})


def test_editing_and_management_routes(world):
    _, clients, items = world
    draft, pub = items["draft"], items["published"]
    expect(clients, "PATCH", f"/api/v1/media/{draft['id']}", json={"audience": "Người dân"}, by_role={
        "anonymous": 404, "admin": 200, "editor": 200, "editor2": 404, "reviewer": 200, "radio_staff": 404})
    expect(clients, "PATCH", f"/api/v1/media/{pub['id']}", json={"audience": "Người dân"}, by_role={
        "anonymous": 403, "admin": 200, "editor": 403, "editor2": 403, "reviewer": 200, "radio_staff": 403})
    expect(clients, "GET", f"{draft['watch_url']}/edit", VIEW_DRAFT | {"anonymous": 401})
    expect(clients, "GET", f"/api/v1/media/{draft['id']}/audit", VIEW_DRAFT)
    # The audit log is the item's staff's: its owner editor, reviewers, admins; 404 for the rest.
    expect(clients, "GET", f"/api/v1/media/{pub['id']}/audit", VIEW_DRAFT)
    expect(clients, "POST", f"/api/v1/media/{draft['id']}/approve",  # a draft is not in review
           VIEW_DRAFT | {"admin": 409, "editor": 409, "reviewer": 409})
    staff_only = {"anonymous": 401, "admin": 200, "editor": 403, "editor2": 403, "reviewer": 200, "radio_staff": 403}
    expect(clients, "GET", "/review", staff_only)
    taxonomy = staff_only | {"editor": 200, "editor2": 200}
    expect(clients, "GET", "/legal", taxonomy)
    admin_only = {role: 403 for role in ROLES} | {"anonymous": 401, "admin": 200}
    expect(clients, "GET", "/admin/users", admin_only)
    expect(clients, "GET", "/api/v1/users", admin_only)
    signed_in = EVERYONE | {"anonymous": 401}
    expect(clients, "GET", "/api/v1/tokens", signed_in)
    expect(clients, "GET", "/account", signed_in)
    uploaders = {"anonymous": 401, "admin": 200, "editor": 200, "editor2": 200, "reviewer": 403, "radio_staff": 403}
    expect(clients, "GET", "/upload", uploaders)
    # Allowed uploaders get past authorisation to the form check (no file: 422).
    expect(clients, "POST", "/api/v1/media", data={"title": "x", "kind": "skit"}, files={"file": ("e.mp4", b"")},
           by_role=uploaders | {"admin": 422, "editor": 422, "editor2": 422})
    for role in ROLES:
        res = clients[role].post("/api/v1/topics", json={"name": f"Chủ đề của {role}"})
        assert res.status_code == {"anonymous": 401, "radio_staff": 403}.get(role, 201), role


def test_workflow_transitions_are_enforced_and_audited(world):
    hub, clients, _ = world
    res = hub.upload(mf.make_video(hub.logs / "flow.mp4", duration=1), title="Quy trình duyệt")
    item = hub.wait(res.json()["id"])
    url = f"/api/v1/media/{item['id']}"
    assert clients["editor2"].post(f"{url}/submit").status_code == 404
    assert clients["reviewer"].post(f"{url}/submit").status_code == 403  # only the owner submits
    assert clients["editor"].post(f"{url}/submit").json()["status"] == "in_review"
    assert clients["editor"].post(f"{url}/approve").status_code == 403
    res = clients["reviewer"].post(f"{url}/reject", json={"comment": "  "})
    assert res.status_code == 422 and "lý do" in res.json()["detail"]
    res = clients["reviewer"].post(f"{url}/reject", json={"comment": "Sai số hiệu văn bản: phải là 36/2024/QH15."})
    assert res.json()["status"] == "ready" and res.json()["review_comment"].startswith("Sai số hiệu")
    assert clients["editor"].patch(url, json={"description": "Đã sửa số hiệu."}).status_code == 200
    assert clients["editor"].post(f"{url}/submit").status_code == 200
    assert clients["editor"].patch(url, json={"title": "Sửa khi chờ duyệt"}).status_code == 403
    assert clients["reviewer"].post(f"{url}/approve").json()["status"] == "published"
    assert clients["editor"].post(f"{url}/unpublish").status_code == 403
    assert clients["reviewer"].post(f"{url}/unpublish").json()["status"] == "ready"
    assert clients["anonymous"].get(url).status_code == 404

    audit = clients["editor"].get(f"{url}/audit").json()
    steps = [(e["action"], e["from_status"], e["to_status"], e["actor"]) for e in audit]
    assert steps == [
        ("upload", None, "uploaded", "editor"),
        ("processing", "uploaded", "processing", "Hệ thống"),
        ("ready", "processing", "ready", "Hệ thống"),
        ("submit", "ready", "in_review", "editor"),
        ("reject", "in_review", "ready", "reviewer"),
        ("edit", "ready", "ready", "editor"),
        ("submit", "ready", "in_review", "editor"),
        ("approve", "in_review", "published", "reviewer"),
        ("unpublish", "published", "ready", "reviewer"),
    ]
    assert audit[4]["comment"] == "Sai số hiệu văn bản: phải là 36/2024/QH15."
    page = clients["editor"].get(f"{item['watch_url']}/edit").text
    assert "Sai số hiệu văn bản" in page and "Gỡ xuất bản" in page


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html)[1]


def test_forms_need_the_csrf_token(world):
    hub, _, items = world
    with httpx.Client(base_url=hub.url) as browser:
        res = browser.post("/login", data={"username": "editor", "password": PASSWORD})
        assert res.status_code == 403  # no token: refused before the password is even checked
        token = _csrf(browser.get("/login").text)
        res = browser.post("/login", data={"username": "editor", "password": PASSWORD, "csrf_token": token})
        assert res.status_code == 303 and res.headers["location"] == "/"
        token = _csrf(browser.get("/").text)  # a new session after login
        edit = f"{items['draft']['watch_url']}/edit"
        form = {"title": "Đổi tên qua biểu mẫu", "description": "", "audience": ""}
        assert browser.post(edit, data=form).status_code == 403
        assert browser.post(edit, data=form | {"csrf_token": "forged"}).status_code == 403
        assert browser.post(edit, data=form | {"csrf_token": token}).status_code == 303
        res = browser.post("/api/v1/media", files={"file": ("a.mp4", b"x")}, data={"title": "t", "kind": "skit"})
        assert res.status_code == 403  # scripts send X-CSRF-Token
        assert hub.item(items["draft"]["id"])["title"] == "Đổi tên qua biểu mẫu"


def test_login_is_throttled_after_repeated_failures(world):
    """From one address and no browser the user signed in with: a growing wait
    (tests/test_accounts.py: nobody else is locked out by it)."""
    hub, _, _ = world
    assert hub.cli("users", "create", "target", "--role", "editor", "--password", PASSWORD).returncode == 0
    with httpx.Client(base_url=hub.url) as browser:
        token = _csrf(browser.get("/login").text)
        for _ in range(3):
            res = browser.post("/login", data={"username": "target", "password": "sai mật khẩu", "csrf_token": token})
            assert res.status_code == 401 and "Sai tên đăng nhập" in res.text
        res = browser.post("/login", data={"username": "target", "password": PASSWORD, "csrf_token": token})
        assert res.status_code == 429 and "Vui lòng chờ" in res.text and int(res.headers["retry-after"]) > 0


def test_search_ignores_accents_and_finds_topics_and_documents(world):
    hub, clients, _ = world
    admin = clients["admin"]
    topic = admin.post("/api/v1/topics", json={"name": "Ma túy"}).json()
    doc = admin.post("/api/v1/documents", json={
        "number": "36/2024/QH15", "title": "Luật Trật tự, an toàn giao thông đường bộ", "doc_type": "Luật",
        "issuing_body": "Quốc hội", "effective_date": "2025-01-01"}).json()
    assert doc["number"] == "36/2024/QH15", doc
    res = hub.upload(mf.make_video(hub.logs / "search.mp4", duration=1), title="Luật Giao thông cho học sinh")
    item = hub.wait(res.json()["id"])
    assert clients["editor"].patch(f"/api/v1/media/{item['id']}",
                                   json={"topic_ids": [topic["id"]], "document_ids": [doc["id"]]}).status_code == 200
    hub.publish(item["id"])

    def found(query: str) -> bool:
        items = clients["anonymous"].get("/api/v1/media", params={"q": query}).json()["items"]
        return item["id"] in [i["id"] for i in items]

    assert found("luat giao thong") and found("LUẬT GIAO THÔNG") and found("hoc sinh")
    assert found("ma tuy") and found("trat tu an toan") and found("36/2024/QH15") and found("quoc hoi")
    assert not found("luat dat dai")
    page = clients["anonymous"].get("/", params={"q": "giao thong hoc sinh"}).text
    assert "Luật Giao thông cho học sinh" in page


def test_sitemap_lists_only_published_items(world):
    hub, clients, items = world
    import xml.etree.ElementTree as ET

    tree = ET.fromstring(clients["anonymous"].get("/sitemap.xml").content)
    locs = [e.text for e in tree.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert f"{hub.url}{items['published']['watch_url']}" in locs
    assert f"{hub.url}{items['draft']['watch_url']}" not in locs


# --- staff-only fields, cache headers ---------------------------------------------------------

STAFF = {"anonymous": False, "admin": True, "editor": True, "editor2": False, "reviewer": True, "radio_staff": False}


def test_item_json_shows_technical_fields_only_to_the_items_staff(world):
    _, clients, items = world
    pub = items["published"]
    for role, client in clients.items():
        got = client.get(f"/api/v1/media/{pub['id']}").json()
        listed = next(i for i in client.get("/api/v1/media", params={"limit": 200}).json()["items"]
                      if i["id"] == pub["id"])
        for shown in (got, listed):
            assert (shown["original_filename"] == "published.mp4") == STAFF[role], role
            assert (shown["checksum"] == pub["checksum"]) == STAFF[role], role
            assert bool(shown["jobs"]) == STAFF[role] and (shown["download_url"] is not None) == STAFF[role], role
        if not STAFF[role]:
            page = client.get(pub["watch_url"]).text
            assert pub["checksum"] not in page and "published.mp4" not in page, role


def wait_jobs(hub, item_id: int, task: str, count: int, timeout: float = 240) -> dict:
    """The ``count``-th ``task`` job of the item, once it has finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = [j for j in hub.item(item_id)["jobs"] if j["task"] == task]
        if len(jobs) >= count and jobs[count - 1]["state"] in ("succeeded", "failed"):
            return jobs[count - 1]
        time.sleep(0.5)
    raise AssertionError(f"{task} #{count} of {item_id}: {hub.item(item_id)['jobs']}\n{hub.log('worker0')}")


def test_every_object_of_an_unpublished_item_is_private_no_store(world):
    hub, clients, items = world
    draft = items["draft"]
    editor = clients["editor"]
    url = f"/api/v1/media/{draft['id']}"
    cues = {"cues": [{"start": 0.0, "end": 0.9, "text": "Phụ đề gắn vào hình"}]}
    assert editor.put(f"{url}/subtitles/vi", json=cues).status_code == 200
    assert editor.post(f"{url}/subtitles/vi/reviewed").status_code == 200
    assert editor.post(f"{url}/burn-in").status_code == 202
    assert wait_jobs(hub, draft["id"], "burn_in", 1)["state"] == "succeeded"
    for object_url in [*draft["media_urls"], draft["download_url"], f"{url}/burned", f"{url}/subtitles/vi"]:
        for role in ("editor", "reviewer", "admin"):
            res = clients[role].get(object_url)
            assert res.status_code == 200, (object_url, role)
            assert res.headers["cache-control"] == "private, no-store", (object_url, role)


# --- references between objects ---------------------------------------------------------------

REFERRERS = {"anonymous": 401, "admin": 422, "editor": 422, "editor2": 422, "reviewer": 422, "radio_staff": 403}


def publish_as(clients, owner: str, item_id: int) -> dict:
    assert clients[owner].post(f"/api/v1/media/{item_id}/submit").status_code == 200
    res = clients["reviewer"].post(f"/api/v1/media/{item_id}/approve")
    assert res.status_code == 200, res.text
    return res.json()


def test_nothing_that_airs_may_refer_to_an_unpublished_item(world):
    """Radio jingles, channel programmes and filler: an unpublished item is refused for
    everyone (admins too), with the same answer as an unknown id."""
    _, clients, items = world
    draft, pub = items["draft"], items["published"]
    for n, jingle in enumerate((draft["id"], 10**6)):
        for part in ("intro_item_id", "outro_item_id"):
            expect(clients, "POST", "/api/v1/radio/programmes", REFERRERS,
                   json={"name": f"Chương trình nhạc hiệu nháp {n} {part}", part: jingle})
    res = clients["editor2"].post("/api/v1/radio/programmes", json={"name": "Nhạc hiệu nháp", "intro_item_id": draft["id"]})
    assert "đã xuất bản" in res.json()["detail"] and str(draft["id"]) not in res.json()["detail"]
    start = "2100-01-01T20:00:00+07:00"
    expect(clients, "POST", "/api/v1/channels/phap-luat/programmes", REFERRERS,
           json={"item_id": draft["id"], "start": start})
    expect(clients, "PUT", "/api/v1/channels/phap-luat/filler", REFERRERS, json={"item_ids": [pub["id"], draft["id"]]})
    res = clients["editor2"].post("/api/v1/radio/programmes", json={"name": "Nhạc hiệu đã duyệt",
                                                                     "intro_item_id": pub["id"]})
    assert res.status_code == 201 and res.json()["intro_item_id"] == pub["id"]


def test_a_jingle_unpublished_later_no_longer_airs(world, tmp_path):
    """The reproduced attack, and its use-time half: the broadcast MP3 is built only with
    jingles that are published when it is made, and re-made when a jingle is unpublished."""
    hub, clients, _ = world
    made = {}
    for name, owner, seconds in (("jingle", "editor", 3), ("segment", "editor2", 2)):
        res = hub.upload(mf.make_audio(tmp_path / f"{name}.m4a", duration=seconds), title=f"Nhạc hiệu thử: {name}",
                         kind="radio", role=owner)
        assert res.status_code == 201, res.text
        assert hub.wait(res.json()["id"])["status"] == "ready"
        made[name] = res.json()["id"]
    publish_as(clients, "editor", made["jingle"])
    programme = clients["editor2"].post("/api/v1/radio/programmes", json={
        "name": "Chương trình có nhạc hiệu", "intro_item_id": made["jingle"]}).json()
    segment = made["segment"]
    assert clients["editor2"].patch(f"/api/v1/media/{segment}", json={"programme_id": programme["id"]}).status_code == 200
    publish_as(clients, "editor2", segment)
    broadcasts = len([j for j in hub.item(segment)["jobs"] if j["task"] == "broadcast"])
    assert wait_jobs(hub, segment, "broadcast", broadcasts)["state"] == "succeeded"

    def on_air() -> dict:  # what communes download
        return next(r for r in clients["anonymous"].get("/api/v1/radio/items").json() if r["item"]["id"] == segment)

    with_jingle = on_air()["duration"]
    assert with_jingle > 4.5  # 3 s of jingle + 2 s of programme
    assert clients["reviewer"].post(f"/api/v1/media/{made['jingle']}/unpublish").status_code == 200
    assert wait_jobs(hub, segment, "broadcast", broadcasts + 1)["state"] == "succeeded"
    without = on_air()
    assert without["duration"] < with_jingle - 2.5, without
    mp3 = clients["anonymous"].get(without["audio_url"], params={"preview": 1})
    assert mp3.status_code == 200 and len(mp3.content) == without["size"]


def test_filler_unpublished_later_leaves_the_channel_plan(world, tmp_path):
    hub, clients, _ = world
    from sqlalchemy import select

    import media_hub.models  # noqa: F401  (every table, for the relationships)
    from media_hub.channel.models import Channel
    from media_hub.db import session_factory

    res = hub.upload(mf.make_video(tmp_path / "f.mp4", width=1280, height=720, duration=2), title="Đoạn xen kẽ thử",
                     role="editor2")
    filler = hub.wait(res.json()["id"])
    folder = filler["master_url"].removeprefix("/media/").rsplit("/", 1)[0]
    publish_as(clients, "editor2", filler["id"])
    res = clients["editor2"].put("/api/v1/channels/phap-luat/filler", json={"item_ids": [filler["id"]]})
    assert res.status_code == 200 and any(folder in key for key in res.json()["filler"]), res.json()
    try:
        assert clients["reviewer"].post(f"/api/v1/media/{filler['id']}/unpublish").status_code == 200
        db = session_factory(f"sqlite:///{hub.env['MEDIA_HUB_DATA_DIR']}/media-hub.sqlite3")
        with db() as session:
            channel = session.scalar(select(Channel).where(Channel.slug == "phap-luat"))
            assert channel.filler and not any(folder in key for key in channel.filler), channel.filler
    finally:
        assert clients["admin"].put("/api/v1/channels/phap-luat/filler", json={"item_ids": []}).status_code == 200


def test_search_finds_only_what_the_public_may_read(world):
    """Draft subtitle text is not indexed; the reviewed revision is."""
    hub, clients, _ = world
    res = hub.upload(mf.make_video(hub.logs / "subs-search.mp4", duration=1), title="Tìm kiếm phụ đề")
    item = hub.wait(res.json()["id"])
    url = f"/api/v1/media/{item['id']}"
    cues = {"cues": [{"start": 0.0, "end": 0.9, "text": "Hươu cao cổ ở đảo Phú Quốc"}]}
    assert clients["editor"].put(f"{url}/subtitles/vi", json=cues).status_code == 200
    publish_as(clients, "editor", item["id"])

    def found(role: str) -> bool:
        listed = clients[role].get("/api/v1/media", params={"q": "huou cao co phu quoc"}).json()["items"]
        return item["id"] in [i["id"] for i in listed]

    assert not any(found(role) for role in ROLES)
    assert "Hươu cao cổ" not in clients["anonymous"].get("/", params={"q": "huou cao co"}).text
    assert clients["reviewer"].post(f"{url}/subtitles/vi/reviewed").status_code == 200
    assert all(found(role) for role in ROLES)
