"""The key that signs session and device cookies: refuse weak ones, generate good ones.

Standard library only, so ``./mh secret`` can write ``.env`` before any Python
package is installed (``python3 -m media_hub.secret init .env``).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

MIN_SECRET_LENGTH = 32
ENV_NAME = "MEDIA_HUB_SECRET_KEY"
# Every value our repository ever showed as an example (compose, README, docs), and their kin.
SAMPLE_SECRETS = frozenset({
    "change-me-to-a-long-random-string",
    "change-me",
    "changeme",
    "secret",
    "secret-key",
    "your-secret-key",
})
_SAMPLE_PATTERN = re.compile(r"change.?me|your.?secret|replace.?me|^\$\{", re.IGNORECASE)
HOW_TO_FIX = (
    "Tạo khóa ngẫu nhiên bằng lệnh “media-hub secret init --env-file .env” (hoặc “./mh secret”) "
    f"rồi đặt biến {ENV_NAME} bằng giá trị đó."
)


class InsecureSecret(RuntimeError):
    """A Vietnamese sentence saying why the hub refuses to start and how to fix it."""


def secret_problem(value: str | None) -> str | None:
    """Why ``value`` cannot sign cookies (a Vietnamese sentence), or None when it can."""
    if value is None or not value.strip():
        return f"Chưa đặt khóa bí mật {ENV_NAME}."
    value = value.strip()
    if value.lower() in SAMPLE_SECRETS or _SAMPLE_PATTERN.search(value):
        return (f"Khóa bí mật {ENV_NAME} là giá trị mẫu trong tài liệu: ai cũng biết nó và có thể giả "
                "phiên đăng nhập của quản trị viên.")
    if len(value) < MIN_SECRET_LENGTH:
        return f"Khóa bí mật {ENV_NAME} quá ngắn ({len(value)} ký tự, cần ít nhất {MIN_SECRET_LENGTH})."
    return None


def check_secret(settings) -> None:
    """Refuse to run with a key anyone could guess.

    ``settings`` is a :class:`media_hub.config.Settings`. Without a configured key the
    embedded setup (no ``database_url``) uses the random one kept in ``data_dir``;
    any other setup has replicas that must share a configured key. A configured key
    is checked in every setup. Raises :class:`InsecureSecret`.
    """
    if settings.secret_key is None and settings.database_url is None:
        return
    problem = secret_problem(settings.secret_key)
    if problem:
        raise InsecureSecret(f"Không khởi động: {problem} {HOW_TO_FIX}")


def new_secret() -> str:
    """A fresh random key: 64 URL-safe characters (384 bits)."""
    return secrets.token_urlsafe(48)


def init_env_file(path: Path, *, force: bool = False) -> str:
    """Make sure ``path`` (a ``.env`` file) sets a good ``MEDIA_HUB_SECRET_KEY``.

    Keeps a good key (unless ``force``), replaces a missing, sample or short one and
    keeps every other line. The file ends up mode 0600. Returns ``"kept"``,
    ``"replaced"`` or ``"created"``.
    """
    lines = path.read_text().splitlines() if path.exists() else []
    pattern = re.compile(rf"^\s*(export\s+)?{ENV_NAME}\s*=\s*(.*)$")
    found = [i for i, line in enumerate(lines) if pattern.match(line)]
    current = pattern.match(lines[found[-1]])[2].strip().strip("'\"") if found else None
    if found and not force and secret_problem(current) is None:
        outcome = "kept"
    else:
        outcome = "replaced" if found else "created"
        lines = [line for i, line in enumerate(lines) if i not in found] + [f"{ENV_NAME}={new_secret()}"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return outcome


MESSAGES = {
    "kept": "{path}: đã có khóa bí mật hợp lệ, giữ nguyên.",
    "replaced": "{path}: đã thay khóa bí mật cũ bằng khóa ngẫu nhiên mới.",
    "created": "{path}: đã ghi khóa bí mật ngẫu nhiên mới.",
}


def main(argv: list[str] | None = None) -> int:
    """``python3 -m media_hub.secret init [ENV_FILE] [--force]`` (default ``.env``)."""
    args = list(sys.argv[1:] if argv is None else argv)
    force = "--force" in args
    args = [a for a in args if a != "--force"]
    if not args or args[0] != "init" or len(args) > 2:
        print("usage: python3 -m media_hub.secret init [ENV_FILE] [--force]", file=sys.stderr)
        return 2
    path = Path(args[1] if len(args) == 2 else ".env")
    print(MESSAGES[init_env_file(path, force=force)].format(path=path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
