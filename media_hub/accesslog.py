"""uvicorn's access log without secrets in URLs.

Smart radio systems fetch the podcast feed and the MP3s with the user's personal
read-only feed key in the query (``/radio/feed.xml?key=…``): a URL they were set up
with, so it stays. uvicorn prints each request's path *with its query*; the
:class:`RedactSecrets` filter on the access handler replaces the value of every secret
parameter (decoded names, so ``?k%65y=`` too) before the line is written.
"""

from __future__ import annotations

import copy
import logging
import urllib.parse

SECRET_PARAMS = frozenset({"key", "token", "access_token"})
REDACTED = "***"


def redact(path: str) -> str:
    """``path`` (``/x?a=1&key=S``) with the value of every secret query parameter
    replaced by ``***``; the rest, separators and order kept as they were."""
    head, sep, query = path.partition("?")
    if not sep:
        return path
    parts = []
    for part in query.split("&"):
        name, eq, _value = part.partition("=")
        if urllib.parse.unquote_plus(name).strip().lower() in SECRET_PARAMS:
            part = f"{name}={REDACTED}"
        parts.append(part)
    return f"{head}?{'&'.join(parts)}"


class RedactSecrets(logging.Filter):
    """Redacts string arguments of a record (uvicorn.access: client, method, path, …)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) and "?" in a else a for a in record.args)
        return True


def log_config() -> dict:
    """uvicorn's default logging configuration with :class:`RedactSecrets` on the access
    handler (``uvicorn.run(..., log_config=log_config())``; web workers get it too)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    config["handlers"]["access"]["filters"] = ["redact_secrets"]
    return config
