"""What the rest of the machine is doing while a benchmark runs (Linux /proc)."""

from __future__ import annotations

import os
import time


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
