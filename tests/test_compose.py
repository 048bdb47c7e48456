"""docker-compose.yml describes the distributed setup with what the code really reads."""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from media_hub.cli import app
from media_hub.config import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_it_has_the_distributed_services():
    assert {"api", "worker", "redis", "postgres", "minio", "minio-init"} <= set(SERVICES)


def test_hub_variables_are_settings_the_code_reads():
    fields = {f"MEDIA_HUB_{name.upper()}" for name in Settings.model_fields}
    for name in ("api", "worker", "asr-worker"):
        env = SERVICES[name]["environment"]
        hub_vars = {k for k in env if k.startswith("MEDIA_HUB_")}
        assert hub_vars <= fields, hub_vars - fields
        assert {"MEDIA_HUB_DATABASE_URL", "MEDIA_HUB_BROKER_URL", "MEDIA_HUB_STORAGE_URL"} <= hub_vars
        settings = Settings(**{k.removeprefix("MEDIA_HUB_").lower(): v for k, v in env.items() if k in hub_vars})
        assert settings.db_url.startswith("postgresql+psycopg://") and "@postgres:5432/" in settings.db_url
        assert settings.celery_broker_url == "redis://redis:6379/0"
        assert settings.blob_url.startswith("s3://media-hub?endpoint_url=http://minio:9000")


def test_compose_credentials_agree():
    env = SERVICES["api"]["environment"]
    pg = SERVICES["postgres"]["environment"]
    assert f"{pg['POSTGRES_USER']}:{pg['POSTGRES_PASSWORD']}@" in env["MEDIA_HUB_DATABASE_URL"]
    assert env["MEDIA_HUB_DATABASE_URL"].endswith("/" + pg["POSTGRES_DB"])
    minio = SERVICES["minio"]["environment"]
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == (
        minio["MINIO_ROOT_USER"], minio["MINIO_ROOT_PASSWORD"])
    assert "hub/media-hub" in " ".join(SERVICES["minio-init"]["command"])


def test_service_commands_are_real_cli_commands():
    runner = CliRunner()
    for name in ("api", "worker", "asr-worker"):
        command = SERVICES[name]["command"]
        assert command[0] == "media-hub"
        result = runner.invoke(app, [*command[1:], "--help"])
        assert result.exit_code == 0, result.output
        options = [arg for arg in command[1:] if arg.startswith("--")]
        for option in options:
            assert option in result.output, f"{name}: {option} is not an option of {command[1]}"


def test_the_session_key_comes_from_env_and_has_no_default(tmp_path):
    """Compose refuses to start without MEDIA_HUB_SECRET_KEY (from .env, which
    `./mh secret` / `media-hub secret init` write); no sample value anyone could read."""
    import re

    from media_hub.secret import check_secret, init_env_file

    for name, service in SERVICES.items():
        env = service.get("environment") or {}
        if any(k.startswith("MEDIA_HUB_") for k in env):
            value = env.get("MEDIA_HUB_SECRET_KEY", "")
            assert re.fullmatch(r"\$\{MEDIA_HUB_SECRET_KEY:\?[^}]*secret[^}]*\}", value), (name, value)
    assert "FORWARDED_ALLOW_IPS" not in (ROOT / "docker-compose.yml").read_text()
    env_file = tmp_path / ".env"
    assert init_env_file(env_file) == "created"
    key = re.search(r"^MEDIA_HUB_SECRET_KEY=(\S+)$", env_file.read_text(), re.M)[1]
    api = {k.removeprefix("MEDIA_HUB_").lower(): v for k, v in SERVICES["api"]["environment"].items()
           if k.startswith("MEDIA_HUB_")}
    check_secret(Settings(**{**api, "secret_key": key}))  # the generated key starts the api
    result = CliRunner().invoke(app, ["secret", "init", "--help"])
    assert result.exit_code == 0 and "--env-file" in result.output


def test_the_api_trusts_only_nginx_as_proxy():
    import ipaddress

    nginx = SERVICES["nginx"]["networks"]["default"]["ipv4_address"]
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_address(nginx) in ipaddress.ip_network(subnet)
    settings = Settings(trusted_proxies=SERVICES["api"]["environment"]["MEDIA_HUB_TRUSTED_PROXIES"])
    assert settings.trusted_proxies == [nginx]
