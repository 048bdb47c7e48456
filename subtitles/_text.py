"""Small text helpers shared by the subtitle modules (internal)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def fold(text: str) -> str:
    """Lowercase, strip diacritics (đ -> d) and punctuation: ``"Cảm ơn!" -> "cam on"``."""
    text = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return " ".join(re.findall(r"[^\W_]+", text))


def read_lines(path: str | Path) -> list[str]:
    """Non-empty, non-comment (``#``) lines of a UTF-8 data file, stripped and NFC."""
    lines = []
    for line in Path(path).read_text(encoding="utf-8-sig").splitlines():
        line = nfc(line.strip())
        if line and not line.startswith("#"):
            lines.append(line)
    return lines
