"""The hub's one clock and Viet Nam's time zone.

Every product read of the current time goes through :func:`now` (an aware UTC
datetime) or :func:`today_vn` (the calendar day in Asia/Ho_Chi_Minh, the day a
Vietnamese editor or reviewer means by "today": it starts at 17:00 UTC).

The clock can be shifted for tests and rehearsals: ``MEDIA_HUB_CLOCK_OFFSET`` (seconds,
float, read on every call) is added to the system clock, so a whole deployment — the
test process and every hub and worker it starts — agrees on one shifted, ticking time.
``./mh test --clock 2026-12-04T23:30:00+07:00`` sets it (tests/conftest.py).
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

OFFSET_ENV = "MEDIA_HUB_CLOCK_OFFSET"
VN_TZ_NAME = "Asia/Ho_Chi_Minh"


def _vn_zone() -> tzinfo:
    """Asia/Ho_Chi_Minh; a fixed UTC+07:00 where the system has no tz database (no DST since 1975)."""
    try:
        return ZoneInfo(VN_TZ_NAME)
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=7), "ICT")


#: Viet Nam's time zone: schedules, guides, reports and file names are in it.
VN = _vn_zone()


@lru_cache(maxsize=8)
def _offset(text: str) -> timedelta:
    return timedelta(seconds=float(text)) if text else timedelta(0)


def now() -> datetime:
    """The current instant, aware UTC (shifted by ``MEDIA_HUB_CLOCK_OFFSET`` when set)."""
    return datetime.now(UTC) + _offset(os.environ.get(OFFSET_ENV, ""))


def today_vn() -> date:
    """Today's date in Viet Nam (Asia/Ho_Chi_Minh)."""
    return now().astimezone(VN).date()


def offset_for(instant: datetime) -> float:
    """Seconds to put in ``MEDIA_HUB_CLOCK_OFFSET`` so that now() reads ``instant`` (aware)."""
    if instant.tzinfo is None:
        raise ValueError("give an aware instant, e.g. 2026-12-04T23:30:00+07:00")
    return (instant - datetime.now(UTC)).total_seconds()
