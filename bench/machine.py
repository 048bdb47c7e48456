"""What the rest of the machine is doing while a benchmark runs (Linux /proc)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime
from pathlib import Path


def busy_seconds() -> float:
    """CPU seconds the whole machine spent in processes since boot (/proc/stat: user,
    nice, system, steal; not idle, iowait, irq/softirq)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, _irq, _softirq, steal = map(int, f.readline().split()[1:9])
    return (user + nice + system + steal) / os.sysconf("SC_CLK_TCK")


def wait_idle(max_wait: float, threshold: float = 0.1, window: float = 5.0) -> float:
    """Wait (up to ``max_wait`` s) until the machine is less than ``threshold`` busy over
    ``window`` seconds; returns the seconds waited."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < max_wait:
        busy = busy_seconds()
        time.sleep(window)
        if (busy_seconds() - busy) / window / (os.cpu_count() or 1) < threshold:
            break
    return time.perf_counter() - t0


ROOT = Path(__file__).resolve().parent.parent


def command_output(argv: list[str]) -> str:
    """A command's output (stdout, else stderr), stripped; "" if it cannot run."""
    try:
        res = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT)
        return (res.stdout or res.stderr).strip()
    except OSError:
        return ""


def git_state(*paths: str) -> dict:
    """The commit measured and whether ``paths`` had uncommitted changes."""
    return {"head": command_output(["git", "rev-parse", "HEAD"]),
            "dirty": bool(command_output(["git", "status", "--porcelain", *paths]))}


def write_results(name: str, result: dict, when: datetime) -> Path:
    """Save ``result`` as bench/results/<name>-<date>-<HHMM>.json and say where."""
    path = ROOT / "bench" / "results" / f"{name}-{when:%Y-%m-%d-%H%M}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {path.relative_to(ROOT)}")
    return path
