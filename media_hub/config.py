"""Hub configuration from ``MEDIA_HUB_*`` environment variables or a ``.env`` file.

Every default is an embedded one that needs no server: SQLite in the data
folder, blob storage in a local folder, and kombu's SQLAlchemy transport over
SQLite as the Celery broker. Point the URLs at PostgreSQL, S3/MinIO and Redis
or RabbitMQ for a distributed deployment (see docker-compose.yml).
"""

from __future__ import annotations

import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Typed settings; ``None`` URLs resolve to embedded defaults under ``data_dir``."""

    model_config = SettingsConfigDict(env_prefix="MEDIA_HUB_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("var"), description="Everything the embedded setup writes goes here.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default SQLite file in data_dir.")
    storage_url: str | None = Field(
        None, description="file:///path or s3://bucket/prefix?endpoint_url=…; default data_dir/storage."
    )
    broker_url: str | None = Field(None, description="Celery broker; default kombu SQLAlchemy transport on SQLite.")
    result_backend: str | None = Field(None, description="Celery result backend; the hub records results itself.")
    public_base_url: str | None = Field(
        None, description="Absolute base of the links the hub prints; default: serve's host and port "
        "(media_hub.links.public_base)."
    )
    media_base_url: str | None = Field(
        None, description="Public base URL for published media (a CDN); default: the hub's /media/ route."
    )
    host: str = "127.0.0.1"
    port: int = 8000
    web_workers: int = Field(1, ge=1, description="Web server processes `serve` runs (e.g. one per core).")
    access_log: bool = Field(True, description="Log every request (off behind nginx, which keeps its own).")
    max_upload_bytes: int = Field(8 * 1024**3, description="Largest accepted upload, bytes.")
    worker_concurrency: int = Field(1, ge=1, description="Tasks one worker runs at once (ffmpeg uses every core).")
    job_max_attempts: int = Field(3, ge=1, description="Attempts before a job ends as failed.")
    job_stale_seconds: float = Field(
        120.0, gt=0, description="A running job whose heartbeat is older than this is handed to another worker."
    )
    asr_enabled: bool = Field(True, description="Make Vietnamese subtitles by speech recognition after transcoding.")
    asr_model: str = Field(
        "whisper-base", description="'whisper-base' (packaged), a faster-whisper model name or a model folder."
    )
    asr_device: str = Field("cpu", description="cpu or cuda.")
    asr_compute_type: str = Field("int8", description="CTranslate2 compute type: int8 on CPU, float16 on CUDA.")
    asr_cpu_threads: int = Field(0, ge=0, description="0: every core the worker may use.")
    asr_language: str | None = Field("vi", description="Spoken language; empty: detect it on the speech found.")
    publisher: str = Field("Sở Tư pháp", description="Publisher/artist in ID3 tags and feeds, e.g. 'Sở Tư pháp tỉnh Nghệ An'.")
    province_code: int | None = Field(
        None, description="Official code of the province (two-level units since 1 July 2025); limits the commune list."
    )
    radio_loudness: str = Field("ebu_r128", description="Broadcast MP3 loudness preset: ebu_r128 (-23 LUFS), podcast, streaming.")
    radio_bitrate: int = Field(128_000, description="Broadcast MP3 bit rate, bit/s (CBR).")
    radio_sample_rate: int = Field(44_100, description="Broadcast MP3 sample rate, Hz.")
    radio_channels: int = Field(1, ge=1, le=2, description="Broadcast MP3 channels (mono for loudspeakers).")
    channel_safety_seconds: float = Field(
        30.0, gt=0, description="Schedule edits never change what airs before now + this (cache, replica lag)."
    )
    channel_min_lead_seconds: float = Field(60.0, gt=0, description="Programmes are placed at least this far ahead.")
    secret_key: str | None = Field(
        None, description="Signs session cookies; default: a random key kept in data_dir/secret_key."
    )
    session_max_age: int = Field(12 * 3600, description="Seconds a web login lasts.")
    job_heartbeat_seconds: float = Field(10.0, gt=0, description="How often a running job proves it is alive.")
    # YouTube mirror (issue 7): on when the client id and the refresh token are set.
    youtube_client_id: str | None = Field(None, description="OAuth client id of the Google API project.")
    youtube_client_secret: str | None = Field(None, description="OAuth client secret of the Google API project.")
    youtube_refresh_token: str | None = Field(
        None, description="Refresh token of the Department's channel (scope youtube.force-ssl)."
    )
    youtube_token_uri: str = Field("https://oauth2.googleapis.com/token", description="Google's OAuth token endpoint.")
    youtube_api_root: str = Field("https://www.googleapis.com/", description="Root of the YouTube Data API (tests: a fake).")
    youtube_privacy: Literal["public", "unlisted", "private"] = Field("public", description="Privacy of mirrored videos.")
    youtube_category_id: str = Field("27", description="YouTube category of mirrored videos (27: Education).")
    youtube_playlists: dict[str, str] = Field(
        default_factory=dict, description='JSON: topic slug → playlist id, e.g. {"giao-thong": "PL…"}.'
    )
    youtube_unit_costs: dict[str, int] = Field(
        default_factory=dict, description='JSON: quota units per API method overriding the defaults, e.g. {"videos.insert": 1}.'
    )
    youtube_daily_quota: int = Field(10_000, ge=1, description="API units the hub may spend per Pacific-time day.")
    youtube_takedown_reserve: int = Field(
        1_000, ge=0, description="Of the daily quota, units only takedowns (unpublishing) may spend: "
        "uploads and updates stop this far below the limit.",
    )
    youtube_chunk_bytes: int = Field(
        8 * 1024 * 1024, gt=0, multiple_of=256 * 1024, description="Upload chunk size, bytes (a multiple of 256 KiB)."
    )
    youtube_unpublish: Literal["private", "delete"] = Field(
        "private", description="What unpublishing in the hub does on YouTube."
    )
    # Imports from URLs (yt-dlp).
    import_max_bytes: int = Field(4 * 1024**3, gt=0, description="Largest file an import may download, bytes.")
    import_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Hosts or networks (CIDR) imports may reach although private, comma-separated; empty by default.",
    )

    # Shared by the hardening work (issue 10).
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Addresses or networks (CIDR) of reverse proxies whose X-Forwarded-* headers are believed, "
        "comma-separated; empty: none (the peer address is the client).",
    )
    max_media_seconds: float = Field(
        4 * 3600.0, gt=0, description="Longest upload or import accepted, seconds of real stream duration."
    )
    accel_redirect: str | None = Field(
        None,
        pattern=r"^/[A-Za-z0-9_/-]*/$",
        description="Behind nginx (deploy/nginx/media-hub.conf): the internal location, e.g. /_protected/, "
        "through which nginx sends files of local storage once the hub has allowed the request "
        "(X-Accel-Redirect); empty: the hub sends them itself.",
    )

    @field_validator("import_allow", "trusted_proxies", mode="before")
    @classmethod
    def _comma_list(cls, value):
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @property
    def youtube_enabled(self) -> bool:
        """Mirroring runs when the channel's client id and refresh token are configured."""
        return bool(self.youtube_client_id and self.youtube_refresh_token)

    @field_validator("data_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'media-hub.sqlite3'}"

    @property
    def blob_url(self) -> str:
        return self.storage_url or f"file://{self.data_dir / 'storage'}"

    @property
    def celery_broker_url(self) -> str:
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite3'}"

    @property
    def staging_dir(self) -> Path:
        """Local scratch space: uploads being received and transcodes in progress."""
        return self.data_dir / "work"

    @property
    def session_secret(self) -> str:
        """The configured secret, or one generated once and kept (mode 0600) in the data folder."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.ensure_dirs()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.staging_dir.mkdir(parents=True, exist_ok=True)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (read once)."""
    return Settings()
