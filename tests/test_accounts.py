"""Sessions and passwords a Department can operate (issue 10, item 4), on real hubs:
weak session keys refused at start, server-side sessions that logout, password changes
and "sign out everywhere" end (copied cookies included), password change and reset
(web and CLI), the first admin's password kept out of logs, no API token in the
cookie, login throttling that cannot lock a person out, X-Forwarded-For believed only
from trusted proxies."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner

from media_hub.config import Settings
from media_hub.proxies import is_trusted_proxy
from media_hub.secret import SAMPLE_SECRETS, InsecureSecret, init_env_file, secret_problem
from tests.hub import PASSWORD, ROOT, Hub, free_port

KEY = secrets.token_urlsafe(48)
NEW_PASSWORD = "mật-khẩu-mới-đủ-dài"
USER_ADDRESS, ATTACKER_ADDRESS = "198.51.100.7", "203.0.113.66"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A hub behind a (simulated) trusted proxy on 127.0.0.1, with a configured key."""
    data_dir = tmp_path_factory.mktemp("accounts")
    hub = Hub(data_dir, {"MEDIA_HUB_TRUSTED_PROXIES": "127.0.0.1", "MEDIA_HUB_SECRET_KEY": KEY})
    hub.data_dir = data_dir
    yield hub.start()
    hub.stop()


def _csrf(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html)[1]


def browser(hub: Hub, address: str | None = None) -> httpx.Client:
    """A browser-like client; ``address`` is what the trusted proxy says the client is."""
    return httpx.Client(base_url=hub.url, timeout=60, headers={"X-Forwarded-For": address} if address else {})


def login(client: httpx.Client, username: str, password: str = PASSWORD) -> httpx.Response:
    token = _csrf(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def post_form(client: httpx.Client, url: str, data: dict | None = None) -> httpx.Response:
    return client.post(url, data={**(data or {}), "csrf_token": _csrf(client.get("/account").text)})


def new_user(hub: Hub, role: str = "editor") -> str:
    name = f"nguoi-dung-{secrets.token_hex(3)}"
    made = hub.cli("users", "create", name, "--role", role, "--password", PASSWORD)
    assert made.returncode == 0, made.stderr
    return name


def user_id(hub: Hub, name: str) -> int:
    with hub.client("admin") as admin:
        return next(u["id"] for u in admin.get("/api/v1/users").json() if u["username"] == name)


def copy_of(hub: Hub, client: httpx.Client) -> httpx.Client:
    """Another machine holding a copy of ``client``'s session cookie."""
    return httpx.Client(base_url=hub.url, timeout=60, cookies={"mh_session": client.cookies["mh_session"]})


def signed_in(client: httpx.Client) -> bool:
    status = client.get("/api/v1/tokens").status_code
    assert status in (200, 401)
    return status == 200


def cookie_data(client: httpx.Client) -> dict:
    payload = client.cookies["mh_session"].split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


# --- the key that signs cookies -----------------------------------------------------------


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "media_hub.cli", *args],
        env={**os.environ, "MEDIA_HUB_DATA_DIR": str(tmp_path / "var"), **env},
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )


def _documented_secrets() -> set[str]:
    """Every MEDIA_HUB_SECRET_KEY value our docs and deployment files show."""
    found = set()
    for path in [ROOT / "README.md", ROOT / "docker-compose.yml", *(ROOT / "docs").rglob("*.md"),
                 *(p for p in (ROOT / "deploy").rglob("*") if p.is_file())]:
        for value in re.findall(r"MEDIA_HUB_SECRET_KEY\s*[=:]\s*[\"']?([^\s\"'#|`]+)", path.read_text(errors="replace")):
            found.add(value)
    return found


def test_a_sample_missing_or_short_secret_refuses_to_start(tmp_path):
    database = {"MEDIA_HUB_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    sample = "change-me-to-a-long-random-string"  # what docker-compose.yml used to ship
    cases = {
        "giá trị mẫu": {**database, "MEDIA_HUB_SECRET_KEY": sample},
        "Chưa đặt khóa bí mật": database,
        "quá ngắn": {**database, "MEDIA_HUB_SECRET_KEY": "a" * 31},
    }
    for reason, env in cases.items():
        for command in (["serve", "--no-worker", "--port", str(free_port())], ["worker"]):
            res = _run(tmp_path, *command, **env)
            assert res.returncode == 2, (command, env, res.stdout, res.stderr)
            assert reason in res.stderr and "media-hub secret init" in res.stderr, res.stderr
    from media_hub.app import create_app  # the app factory (several web workers) refuses too

    with pytest.raises(InsecureSecret, match="giá trị mẫu"):
        create_app(Settings(data_dir=tmp_path / "var", database_url=database["MEDIA_HUB_DATABASE_URL"],
                            secret_key=sample))
    # A sample key is refused on the embedded setup too; only a *missing* key is fine there.
    res = _run(tmp_path, "worker", MEDIA_HUB_SECRET_KEY=sample)
    assert res.returncode == 2 and "giá trị mẫu" in res.stderr


def test_every_secret_our_docs_show_is_refused():
    documented = _documented_secrets()
    for value in documented | SAMPLE_SECRETS:
        assert secret_problem(value), value
    assert secret_problem(secrets.token_urlsafe(48)) is None


def test_secret_init_writes_a_good_key_into_env_once(tmp_path):
    env = tmp_path / ".env"
    env.write_text("YOUTUBE_CLIENT_ID=abc\nMEDIA_HUB_SECRET_KEY=change-me-to-a-long-random-string\n")
    res = _run(tmp_path, "secret", "init", "--env-file", str(env))
    assert res.returncode == 0, res.stderr
    text = env.read_text()
    assert "YOUTUBE_CLIENT_ID=abc" in text and "change-me" not in text
    key = re.search(r"^MEDIA_HUB_SECRET_KEY=(\S+)$", text, re.M)[1]
    assert secret_problem(key) is None and stat.S_IMODE(env.stat().st_mode) == 0o600
    assert init_env_file(env) == "kept" and env.read_text() == text  # re-running keeps the key
    # `./mh secret` works with the system Python alone (before anything is installed).
    other = tmp_path / "other.env"
    res = subprocess.run([str(ROOT / "mh"), "secret", str(other)], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/local/bin:/usr/bin:/bin"})
    assert res.returncode == 0, res.stderr
    assert secret_problem(re.search(r"MEDIA_HUB_SECRET_KEY=(\S+)", other.read_text())[1]) is None


def test_a_forged_cookie_makes_no_session_even_with_the_key(hub):
    """Sessions live in the database: a cookie signed with the (leaked) key names none."""
    admin_id = user_id(hub, "quantri")
    for data in ({"uid": admin_id}, {"uid": admin_id, "sid": secrets.token_urlsafe(32)}):
        forged = TimestampSigner(KEY).sign(base64.b64encode(json.dumps(data).encode())).decode()
        with httpx.Client(base_url=hub.url, cookies={"mh_session": forged}) as client:
            assert client.get("/api/v1/users").status_code == 401
            assert client.get("/admin/users", headers={"accept": "text/html"}).status_code == 303  # to /login


# --- sessions ----------------------------------------------------------------------------


def test_a_copied_cookie_dies_at_logout(hub):
    name = new_user(hub)
    with browser(hub) as me:
        assert login(me, name).status_code == 303
        thief = copy_of(hub, me)
        assert signed_in(me) and signed_in(thief)
        assert post_form(me, "/logout").status_code == 303
        assert not signed_in(thief)


def test_password_change_ends_every_other_session(hub):
    name = new_user(hub)
    with browser(hub) as me, browser(hub) as laptop:
        assert login(me, name).status_code == 303 and login(laptop, name).status_code == 303
        thief = copy_of(hub, me)
        res = post_form(me, "/account/password", {"current_password": "sai mật khẩu",
                                                  "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert res.status_code == 422 and "Mật khẩu hiện tại không đúng" in res.text
        res = post_form(me, "/account/password", {"current_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD, "confirm_password": "khác hẳn rồi nhé"})
        assert res.status_code == 422 and "không khớp" in res.text
        assert signed_in(thief)
        res = post_form(me, "/account/password", {"current_password": PASSWORD,
                                                  "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert res.status_code == 303 and "Đã đổi mật khẩu" in me.get("/account").text
        assert signed_in(me)  # this browser goes on, with a new session
        assert not signed_in(thief) and not signed_in(laptop)
    with browser(hub) as other:
        assert login(other, name, PASSWORD).status_code == 401
        assert login(other, name, NEW_PASSWORD).status_code == 303


def test_sign_out_everywhere_by_the_user_and_by_an_admin(hub):
    name = new_user(hub)
    with browser(hub) as me, browser(hub) as admin:
        assert login(me, name).status_code == 303
        thief = copy_of(hub, me)
        assert "Đăng xuất khỏi mọi nơi" in me.get("/account").text
        assert post_form(me, "/account/sessions/end").headers["location"] == "/login"
        assert not signed_in(me) and not signed_in(thief)

        assert login(me, name).status_code == 303
        thief = copy_of(hub, me)
        assert login(admin, "quantri").status_code == 303
        page = admin.get("/admin/users").text
        assert f"/admin/users/{user_id(hub, name)}/sessions/end" in page
        res = admin.post(f"/admin/users/{user_id(hub, name)}/sessions/end", data={"csrf_token": _csrf(page)})
        assert res.status_code == 303 and "khỏi mọi nơi" in admin.get("/admin/users").text
        assert not signed_in(me) and not signed_in(thief) and signed_in(admin)


def test_admin_resets_a_password_on_the_web_and_with_the_cli(hub):
    name = new_user(hub)
    with browser(hub) as me, browser(hub) as admin:
        assert login(me, name).status_code == 303 and login(admin, "quantri").status_code == 303
        url = f"/admin/users/{user_id(hub, name)}/password"
        page = admin.get("/admin/users").text
        assert url in page
        res = admin.post(url, data={"password": "ngắn", "csrf_token": _csrf(page)})
        assert res.status_code == 303 and "ít nhất 10 ký tự" in admin.get("/admin/users").text
        assert signed_in(me)
        res = admin.post(url, data={"password": NEW_PASSWORD, "csrf_token": _csrf(page)})
        assert res.status_code == 303 and "Đã đặt mật khẩu mới" in admin.get("/admin/users").text
        assert not signed_in(me)
        assert login(me, name, PASSWORD).status_code == 401
        assert login(me, name, NEW_PASSWORD).status_code == 303

        cli_password = "mật-khẩu-từ-dòng-lệnh"
        res = hub.cli("users", "passwd", name, "--password", cli_password)
        assert res.returncode == 0 and "Đã đặt mật khẩu mới" in res.stdout, res.stderr
        assert not signed_in(me)
        assert login(me, name, NEW_PASSWORD).status_code == 401
        assert login(me, name, cli_password).status_code == 303
    res = hub.cli("users", "passwd", "khong-co-ai", "--password", cli_password)
    assert res.returncode == 1 and "Không có tài khoản" in res.stderr
    res = hub.cli("users", "passwd", name, "--password", "ngắn")
    assert res.returncode == 1 and "ít nhất 10 ký tự" in res.stderr


def test_first_admin_password_is_in_a_private_file_not_in_the_log(hub):
    path = hub.data_dir / "first-admin-password.txt"
    password = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    logs = "".join(p.read_text(errors="replace") for p in hub.logs.glob("*"))
    assert str(path) in logs and password not in logs
    with browser(hub) as admin:
        assert login(admin, "admin", password).status_code == 303
        res = post_form(admin, "/account/password", {"current_password": password,
                                                     "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD})
        assert res.status_code == 303
    assert not path.exists()  # the password it held no longer works


def test_no_api_token_in_the_session_cookie(hub):
    name = new_user(hub)
    with browser(hub) as me:
        assert login(me, name).status_code == 303
        res = post_form(me, "/account/tokens", {"name": "Máy tính đài truyền thanh"})
        assert res.status_code == 200
        token = re.search(r'id="new-token"[^>]*value="(mh_[^"]+)"', res.text)[1]
        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}) as api:
            assert api.get("/api/v1/tokens").status_code == 200
        data = cookie_data(me)
        assert set(data) <= {"sid", "csrf", "flash"} and token not in json.dumps(data)
        assert token not in me.get("/account").text  # shown once


# --- throttling and client addresses ------------------------------------------------------


def test_wrong_guesses_from_an_attacker_do_not_lock_out_the_user(hub):
    name = new_user(hub)
    with browser(hub, ATTACKER_ADDRESS) as attacker:
        statuses = [login(attacker, name, f"đoán sai {i}").status_code for i in range(5)]
        assert set(statuses) <= {401, 429} and 429 in statuses
        res = login(attacker, name)  # even the right password waits, from the attacker's address
        assert res.status_code == 429 and "Vui lòng chờ" in res.text and int(res.headers["retry-after"]) > 0
    with browser(hub, USER_ADDRESS) as me:
        assert login(me, name).status_code == 303


def test_an_address_is_locked_but_not_the_browser_the_user_signs_in_with(hub):
    name = new_user(hub)
    office = "192.0.2.44"  # the user and the attacker behind the same address (NAT)
    with browser(hub, office) as usual:
        assert login(usual, name).status_code == 303  # gets a device cookie
        assert "mh_device" in usual.cookies
        assert post_form(usual, "/logout").status_code == 303
        with browser(hub, office) as attacker:
            for i in range(20):
                assert login(attacker, f"khong-co-{i}", "đoán sai").status_code == 401
            res = login(attacker, name)
            assert res.status_code == 429 and "địa chỉ mạng này" in res.text
            for i in range(5):  # the attacker's guesses at the user's name change nothing below
                assert login(attacker, name, "đoán sai").status_code == 429
        assert login(usual, name).status_code == 303
        # Its own wrong guesses do delay the usual browser (then it waits like anyone).
        assert post_form(usual, "/logout").status_code == 303
        statuses = [login(usual, name, "tôi gõ nhầm").status_code for _ in range(4)]
        assert statuses[:3] == [401, 401, 401] and statuses[3] == 429


def test_the_client_address_comes_from_a_trusted_proxy_only(hub, embedded_hub):
    name = new_user(hub)
    with browser(hub, USER_ADDRESS) as me:  # through the trusted proxy: the forwarded address
        assert login(me, name).status_code == 303
        sessions = me.get("/account").text
        assert f"<code>{USER_ADDRESS}</code>" in sessions
    other = new_user(embedded_hub)  # trusts no proxy: X-Forwarded-For is the client's own claim
    with browser(embedded_hub, USER_ADDRESS) as me:
        assert login(me, other).status_code == 303
        sessions = me.get("/account").text
        assert USER_ADDRESS not in sessions and "<code>127.0.0.1</code>" in sessions


def test_is_trusted_proxy():
    trusted = ["127.0.0.1", "10.0.0.0/8", "2001:db8::/32"]
    assert is_trusted_proxy("127.0.0.1", trusted) and is_trusted_proxy("10.20.30.40", trusted)
    assert is_trusted_proxy("2001:db8::5", trusted) and is_trusted_proxy("::ffff:10.1.1.1", trusted)
    assert not is_trusted_proxy("127.0.0.2", trusted) and not is_trusted_proxy("11.0.0.1", trusted)
    assert not is_trusted_proxy("unknown", trusted) and not is_trusted_proxy("", trusted)
    assert not is_trusted_proxy("127.0.0.1", [])
    with pytest.raises(ValueError, match="không phải địa chỉ IP"):
        is_trusted_proxy("127.0.0.1", ["nginx"])
