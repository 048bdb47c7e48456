"""Roles × routes on a real hub: who may see and do what, including direct media URLs
of unpublished items; the review workflow and its audit log; CSRF; login throttling;
accent-insensitive search."""

from __future__ import annotations

import re

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
