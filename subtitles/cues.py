"""Cue segmentation: word timestamps -> readable subtitle cues.

Rules (the usual broadcast/Netflix-style limits, all configurable in :class:`CueLimits`):
at most 2 lines of at most 42 characters, lines and cues broken only between words and
preferably after punctuation or at pauses, two-line cues split into balanced lines,
cue duration 1–7 s, reading speed ≤ 20 characters/second where the following silence
allows (the end is extended into the pause up to the next cue, never overlapping it),
a minimum gap between cues, and ``0 ≤ start < end ≤ duration`` in time order.

Cue boundaries are chosen by dynamic programming over the words (a cue holds at most
``max_lines * max_line_chars`` characters, so the search is linear in the word count).
Times are handled in integer milliseconds internally; all public times are seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, NamedTuple

from subtitles._text import nfc

SENTENCE_END = (".", "?", "!", "…", ".\"", "?\"", "!\"", ".”", "?”", "!”")
CLAUSE_END = (",", ";", ":", "–", "—", ")", "\"", "”")
#: Vietnamese words that usually open a phrase (conjunctions, prepositions, auxiliaries):
#: breaking a line or a cue just before them reads better than elsewhere.
PHRASE_STARTS_VI = frozenset("""
    mà và hoặc hay nhưng thì là của cho với trong theo khi nếu vì do để sẽ bị được phải
    đã đang không các những tại từ đến về ở như sau trước bởi nên cũng còn rằng
""".split())


class Cue(NamedTuple):
    start: float  # seconds
    end: float  # seconds
    text: str  # NFC, lines separated by "\n"


@dataclass(frozen=True)
class CueLimits:
    max_line_chars: int = 42
    max_lines: int = 2
    min_duration: float = 1.0  # seconds
    max_duration: float = 7.0  # seconds
    max_cps: float = 20.0  # reading speed, characters per second
    min_gap: float = 0.08  # seconds between cues
    pause_split: float = 1.0  # a pause this long (s) inside a cue is heavily penalised


class _W(NamedTuple):
    start: int  # ms
    end: int  # ms
    text: str


def _words(words: Iterable, duration_ms: int | None) -> list[_W]:
    out: list[_W] = []
    for w in words:
        text = nfc(str(getattr(w, "text", None) or getattr(w, "word", "") or "")).strip()
        text = " ".join(text.split())
        if not text:
            continue
        start, end = round(float(w.start) * 1000), round(float(w.end) * 1000)
        start = max(start, 0, out[-1].start if out else 0)
        end = max(end, start)
        if duration_ms is not None:
            start, end = min(start, duration_ms), min(end, duration_ms)
        out.append(_W(start, end, text))
    return out


def _break_cost(words: list[_W], j: int) -> float:
    """Cost of ending a cue (or a line) after ``words[j]``."""
    if j == len(words) - 1:
        return 0.0
    text = words[j].text
    cost = 0.0 if text.endswith(SENTENCE_END) else 3.0 if text.endswith(CLAUSE_END) else 8.0
    if cost > 3 and words[j + 1].text.lower() in PHRASE_STARTS_VI:
        cost = 5.0
    pause = (words[j + 1].start - words[j].end) / 1000
    return cost - min(max(pause, 0.0), 1.0) * 4


def split_lines(text_words: list[str], limits: CueLimits = CueLimits()) -> list[str]:
    """Split a cue's words into at most ``limits.max_lines`` lines of at most
    ``limits.max_line_chars`` characters, balanced (two lines as even as possible,
    preferring a break after punctuation).  A single word longer than a line stays whole."""
    text = " ".join(text_words)
    if len(text) <= limits.max_line_chars or len(text_words) < 2:
        return [text]
    best, best_cost = None, None
    for i in range(1, len(text_words)):
        first, second = " ".join(text_words[:i]), " ".join(text_words[i:])
        over = max(len(first), len(second)) - limits.max_line_chars
        cost = abs(len(first) - len(second)) + 1000 * max(over, 0)
        if text_words[i - 1].endswith(SENTENCE_END + CLAUSE_END):
            cost -= 12
        elif text_words[i].lower() in PHRASE_STARTS_VI:
            cost -= 7
        if best_cost is None or cost < best_cost:
            best, best_cost = [first, second], cost
    if limits.max_lines > 2 and max(map(len, best)) > limits.max_line_chars:
        # rare: more than two lines allowed and needed; fill greedily
        lines, line = [], ""
        for word in text_words:
            if line and len(line) + 1 + len(word) > limits.max_line_chars:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        return lines + [line]
    return best


def segment(words: Iterable, limits: CueLimits = CueLimits(),
            duration: float | None = None) -> list[Cue]:
    """Group timed words into subtitle cues.

    ``words``: objects with ``start``/``end`` (seconds) and ``text`` (or faster-whisper's
    ``word``), in time order; ``duration``: media length (s), the upper bound of every
    cue.  Returns :class:`Cue` ``(start, end, text)`` in order, with
    ``0 ≤ start < end ≤ duration``, gaps ≥ ``limits.min_gap``, text in at most
    ``limits.max_lines`` lines joined by ``"\\n"``.  Pure Python, linear time."""
    duration_ms = None if duration is None else round(duration * 1000)
    ws = _words(words, duration_ms)
    n = len(ws)
    if not n:
        return []
    max_dur = round(limits.max_duration * 1000)
    # best[j]: minimal cost of cutting words[:j] into cues; back[j]: start of the last cue
    best = [0.0] + [float("inf")] * n
    back = [0] * (n + 1)
    for i in range(n):
        if best[i] == float("inf"):
            continue
        inner, chars, lines, width = 0.0, -1, 1, -1  # width: of the last line, greedy fill
        for j in range(i, n):
            size = len(ws[j].text)
            chars += size + 1
            if width < 0 or width + 1 + size <= limits.max_line_chars:
                width += size + 1
            else:
                lines, width = lines + 1, size
            if j > i:
                if lines > limits.max_lines or ws[j].end - ws[i].start > max_dur:
                    break
                pause = (ws[j].start - ws[j - 1].end) / 1000
                if pause >= limits.pause_split:
                    inner += 20 + 10 * pause
                if ws[j - 1].text.endswith(SENTENCE_END):
                    inner += 6 + 10 * min(max(pause, 0.0), 1.0)
            available = (ws[j + 1].start if j + 1 < n else ws[j].end + max_dur) - ws[i].start
            cps = chars / max(min(available, max_dur) / 1000, 0.001)
            cost = (best[i] + 4 + inner + _break_cost(ws, j)
                    + max(cps - limits.max_cps, 0) * 0.5 + (5 if chars < 12 else 0))
            if cost < best[j + 1]:
                best[j + 1], back[j + 1] = cost, i
    groups, j = [], n
    while j > 0:
        groups.append((back[j], j))
        j = back[j]
    groups.reverse()
    return _timed(ws, groups, limits, duration_ms)


def _timed(ws: list[_W], groups, limits: CueLimits, duration_ms: int | None) -> list[Cue]:
    gap = round(limits.min_gap * 1000)
    min_dur, max_dur = round(limits.min_duration * 1000), round(limits.max_duration * 1000)
    last = duration_ms if duration_ms is not None else ws[-1].end + max_dur
    cues: list[tuple[int, int, str]] = []
    prev_end = -gap
    for k, (i, j) in enumerate(groups):
        lines = split_lines([w.text for w in ws[i:j]], limits)
        chars = sum(map(len, lines)) + len(lines) - 1
        start = max(ws[i].start, prev_end + gap)
        next_start = ws[groups[k + 1][0]].start if k + 1 < len(groups) else last + gap
        limit = min(next_start - gap, last, start + max_dur)
        wanted = max(ws[j - 1].end, start + min_dur, start + round(chars * 1000 / limits.max_cps))
        end = min(wanted, limit)
        if end - start < min_dur:  # no room after: start earlier, into the pause before
            start = max(prev_end + gap, min(start, end - min_dur), 0)
        if end <= start:  # degenerate timings (zero-length words): keep a short cue
            end = min(start + min_dur, last)
        if end <= start:
            continue  # past the end of the media
        cues.append((start, end, "\n".join(lines)))
        prev_end = end
    return [Cue(s / 1000, e / 1000, t) for s, e, t in cues]
