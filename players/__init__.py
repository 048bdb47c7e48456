"""Viewer pages for media-hub: Jinja2 templates and static assets.

The app mounts ``STATIC_DIR`` at ``/static`` and renders pages with
``templates.TemplateResponse(request, "name.html", context)``.

Every string a viewer sees is Vietnamese (Unicode NFC); code stays English.
"""

from __future__ import annotations

import hashlib
import math
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates

from media_hub.clock import VN

__all__ = [
    "API_MEDIA_URL",
    "FAILED_DEFAULT_MESSAGE",
    "HLS_JS_VERSION",
    "JOB_STATE_LABELS",
    "JOB_TASK_LABELS",
    "KIND_LABELS",
    "ROLE_LABELS",
    "STATIC_DIR",
    "STATIC_URL_PREFIX",
    "STATUS_LABELS",
    "SUBTITLE_SOURCE_LABELS",
    "SUBTITLE_STATUS_LABELS",
    "TEMPLATES_DIR",
    "current_user",
    "format_cue_time",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_filesize",
    "job_state_text",
    "static_url",
    "templates",
]

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"

# Where the app mounts STATIC_DIR, and the JSON API the page scripts talk to.
STATIC_URL_PREFIX = "/static"
API_MEDIA_URL = "/api/v1/media"

KIND_LABELS: dict[str, str] = {
    "skit": "Tiểu phẩm",
    "scenario": "Tình huống pháp luật",
    "radio": "Chương trình phát thanh",
}

STATUS_LABELS: dict[str, str] = {
    "uploaded": "Đã tải lên",
    "processing": "Đang xử lý",
    "ready": "Sẵn sàng (bản nháp)",  # processed, not yet submitted for review
    "failed": "Lỗi",
    "in_review": "Chờ duyệt",
    "published": "Đã xuất bản",
}

ROLE_LABELS: dict[str, str] = {
    "admin": "Quản trị viên",
    "editor": "Biên tập viên",
    "reviewer": "Người duyệt",
    "radio_staff": "Cán bộ đài truyền thanh",
}

# Subtitle tracks: review state and where the shown revision came from.
SUBTITLE_STATUS_LABELS: dict[str, str] = {
    "draft": "Bản nháp",
    "reviewed": "Đã duyệt",
}

SUBTITLE_SOURCE_LABELS: dict[str, str] = {
    "asr": "Tự động (nhận dạng giọng nói)",
    "editor": "Biên tập viên",
}

# Background jobs of an item (``item.jobs``), shown as "Chuyển mã: đang chạy 45%".
JOB_TASK_LABELS: dict[str, str] = {
    "transcode": "Chuyển mã",
    "transcribe": "Nhận dạng giọng nói",
    "burn_in": "Gắn phụ đề vào hình",
    "mirror": "Đăng lên YouTube",
    "conform": "Tạo bản dựng cho kênh",
    "broadcast": "Tạo bản phát thanh (MP3)",
}

JOB_STATE_LABELS: dict[str, str] = {
    "queued": "đang chờ",
    "running": "đang chạy",
    "retrying": "đang thử lại",
    "succeeded": "xong",
    "failed": "lỗi",
}


def _read_hls_js_version() -> str:
    version_file = STATIC_DIR / "vendor" / "hls.js" / "VERSION"
    try:
        return version_file.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError):
        return "unknown"


HLS_JS_VERSION = _read_hls_js_version()


def _finite_number(value: Any) -> float | None:
    """``value`` as a finite float, or None (for None, booleans, non-numbers, NaN and infinities)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def format_duration(seconds: Any) -> str:
    """Format a length in seconds as ``m:ss`` or ``h:mm:ss``; ``""`` if unknown."""
    value = _finite_number(seconds)
    if value is None:
        return ""
    total = max(0, int(round(value)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def _vi_number(value: float, decimals: int) -> str:
    """Format a number the Vietnamese way: ``.`` groups thousands, ``,`` is the decimal mark."""
    text = f"{value:,.{decimals}f}"
    if decimals:
        text = text.rstrip("0").rstrip(".")
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_cue_time(seconds: Any) -> str:
    """A subtitle time as ``m:ss.mmm`` (``h:mm:ss.mmm`` from one hour); ``""`` if unknown.

    The subtitle editor parses the same format back (subtitles.js ``parseTime``)."""
    value = _finite_number(seconds)
    if value is None:
        return ""
    millis = max(0, int(round(value * 1000)))
    total, ms = divmod(millis, 1000)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}.{ms:03d}"
    return f"{minutes}:{secs:02d}.{ms:03d}"


def format_filesize(num_bytes: Any) -> str:
    """Human-readable size in binary units (1 GB = 1024³ bytes), e.g. ``2 GB``, ``1,5 GB``, ``500 MB``."""
    try:
        size = float(num_bytes)
    except (TypeError, ValueError):
        return ""
    if not math.isfinite(size) or size < 0:
        return ""
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            return f"{_vi_number(size / factor, 2)} {unit}"
    return f"{_vi_number(size, 0)} B"


def format_datetime(value: Any) -> str:
    """Show an ISO timestamp as ``dd/mm/yyyy HH:MM`` in Vietnam time.

    The hub stores UTC (``media_hub.db.utcnow``); SQLite hands it back without an offset,
    so a timestamp without one is taken as UTC."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        moment = value
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN).strftime("%d/%m/%Y %H:%M")


def format_date(value: Any) -> str:
    """Show an ISO date (or the date part of a timestamp) as ``dd/mm/yyyy``."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return format_datetime(value)[:10]
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    try:
        return date.fromisoformat(text).strftime("%d/%m/%Y")
    except ValueError:
        shown = format_datetime(text)
        return shown[:10] if shown != text else text


FAILED_DEFAULT_MESSAGE = "Xử lý tệp không thành công."


def progress_percent(progress: Any) -> int | None:
    """Turn a 0..1 progress fraction into a whole percentage (0..100), or None if unknown."""
    value = _finite_number(progress)
    if value is None:
        return None
    return int(min(1.0, max(0.0, value)) * 100)


def job_state_text(job: Any) -> str:
    """A job's state in a few words: ``đang chạy 45%``, ``xong``, ``lỗi: <reason>``."""
    if not job:
        return ""
    get = job.get if isinstance(job, dict) else lambda key, default=None: getattr(job, key, default)
    state = str(get("state", "") or "")
    label = JOB_STATE_LABELS.get(state, state)
    if state == "running":
        pct = progress_percent(get("progress"))
        return f"{label} {pct}%" if pct is not None else label
    if state == "failed":
        reason = str(get("error") or "").strip()
        return f"{label}: {reason}" if reason else label
    return label


def latest_jobs(jobs: Any) -> list[Any]:
    """The latest job of each task, in the order the tasks first appear (``item.jobs`` is oldest first)."""
    latest: dict[str, Any] = {}
    for job in jobs or []:
        task = job.get("task") if isinstance(job, dict) else getattr(job, "task", None)
        latest[str(task)] = job
    order = {task: index for index, task in enumerate(JOB_TASK_LABELS)}
    return [latest[task] for task in sorted(latest, key=lambda task: order.get(task, len(order)))]


def kind_label(kind: Any) -> str:
    return KIND_LABELS.get(str(kind), str(kind or ""))


def status_label(status: Any) -> str:
    return STATUS_LABELS.get(str(status), str(status or ""))


def role_label(role: Any) -> str:
    return ROLE_LABELS.get(str(role), str(role or ""))


def current_user(request: Any) -> Any:
    """The signed-in user of ``request`` (``request.state.user``), or None, even on error pages
    rendered before authentication ran."""
    state = getattr(request, "state", None)
    return getattr(state, "user", None) if state is not None else None


_static_tokens: dict[str, tuple[int, int, str]] = {}


def static_url(path: str) -> str:
    """URL of a file in STATIC_DIR with a content-hash ``?v=`` query so browsers never run stale assets."""
    clean = path.lstrip("/")
    url = f"{STATIC_URL_PREFIX}/{clean}"
    file = STATIC_DIR / clean
    try:
        stat = file.stat()
    except OSError:
        return url
    cached = _static_tokens.get(clean)
    if cached and cached[0] == stat.st_mtime_ns and cached[1] == stat.st_size:
        token = cached[2]
    else:
        token = hashlib.sha256(file.read_bytes()).hexdigest()[:12]
        _static_tokens[clean] = (stat.st_mtime_ns, stat.st_size, token)
    return f"{url}?v={token}"


templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True
templates.env.filters["duration"] = format_duration
templates.env.filters["filesize"] = format_filesize
templates.env.filters["datetime_vi"] = format_datetime
templates.env.filters["date_vi"] = format_date
templates.env.filters["cue_time"] = format_cue_time
templates.env.globals.update(
    HLS_JS_VERSION=HLS_JS_VERSION,
    JOB_STATE_LABELS=JOB_STATE_LABELS,
    JOB_TASK_LABELS=JOB_TASK_LABELS,
    KIND_LABELS=KIND_LABELS,
    ROLE_LABELS=ROLE_LABELS,
    STATUS_LABELS=STATUS_LABELS,
    SUBTITLE_SOURCE_LABELS=SUBTITLE_SOURCE_LABELS,
    SUBTITLE_STATUS_LABELS=SUBTITLE_STATUS_LABELS,
    API_MEDIA_URL=API_MEDIA_URL,
    FAILED_DEFAULT_MESSAGE=FAILED_DEFAULT_MESSAGE,
    current_user=current_user,
    job_state_text=job_state_text,
    kind_label=kind_label,
    latest_jobs=latest_jobs,
    progress_percent=progress_percent,
    role_label=role_label,
    status_label=status_label,
    static_url=static_url,
)
