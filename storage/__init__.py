"""Blob storage for media-hub: one interface, a local-folder and an S3 backend.

Use :func:`open_storage` with a URL::

    open_storage("/var/lib/media-hub/storage")              # LocalStorage
    open_storage("file:///var/lib/media-hub/storage")       # LocalStorage
    open_storage("s3://bucket/some/prefix?endpoint_url=http://127.0.0.1:9000&region=us-east-1")

This package knows nothing of the web app, the task queue or the settings.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from .base import (
    MAX_KEY_LENGTH,
    InvalidKey,
    InvalidRange,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    guess_content_type,
    is_valid_key,
    validate_key,
)
from .local import LocalStorage
from .s3 import S3Storage

__all__ = [
    "MAX_KEY_LENGTH",
    "InvalidKey",
    "InvalidRange",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "S3Storage",
    "Storage",
    "StorageError",
    "guess_content_type",
    "is_valid_key",
    "open_storage",
    "validate_key",
]

_S3_PARAMS = {"endpoint_url", "region", "create_bucket"}


def open_storage(url: str) -> Storage:
    """Open the storage named by ``url``.

    * ``file:///abs/path`` or a plain path: :class:`LocalStorage` rooted there.
    * ``s3://bucket[/prefix][?endpoint_url=...&region=...&create_bucket=1]``:
      :class:`S3Storage`; credentials come from the usual boto3 chain.

    Raises ``ValueError`` for an unknown scheme, a missing bucket name or an
    unknown query parameter.
    """
    parts = urlsplit(url)
    if parts.scheme == "":
        return LocalStorage(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path:
            raise ValueError(f"file URL must be file:///absolute/path: {url!r}")
        return LocalStorage(unquote(parts.path))
    if parts.scheme == "s3":
        if not parts.netloc:
            raise ValueError(f"no bucket in {url!r}")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = set(params) - _S3_PARAMS
        if unknown:
            raise ValueError(f"unknown parameter(s) {sorted(unknown)} in {url!r}")
        return S3Storage(
            parts.netloc,
            unquote(parts.path),
            endpoint_url=params.get("endpoint_url") or None,
            region=params.get("region") or None,
            create_bucket=params.get("create_bucket", "").lower() in ("1", "true", "yes", "on"),
        )
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r} in {url!r}")
