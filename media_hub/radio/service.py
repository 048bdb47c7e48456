"""Commune radio: broadcast audio metadata, downloads and their statistics, ZIP
bundles with a running order, podcast feeds, administrative units."""

from __future__ import annotations

import csv
import io
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path

from feedgen.feed import FeedGenerator
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, object_session
from vietnam_provinces import Province, Ward

from media_hub.accounts.models import User
from media_hub.clock import VN
from media_hub.library.models import MediaItem, MediaStatus
from media_hub.policy import Action, airable_items, can, may_air
from media_hub.radio.models import Download, Programme
from players import KIND_LABELS, format_duration
from storage import Storage

RUNNING_ORDER = "thu-tu-phat-song.csv"


class RadioError(ValueError):
    """``str()`` is a Vietnamese sentence."""


# --- tags and file names ----------------------------------------------------------------------


def documents_comment(item: MediaItem) -> str:
    """The legal documents an item explains, for the ID3 comment and feed descriptions."""
    docs = "; ".join(f"{d.doc_type} số {d.number}: {d.title}" for d in item.documents)
    return f"Văn bản pháp luật: {docs}" if docs else ""


def id3_tags(item: MediaItem, publisher: str) -> dict:
    """Keyword arguments of :func:`workers.broadcast.write_id3` for ``item``."""
    when = (item.published_at or item.created_at).astimezone(VN).date()
    return {
        "title": item.title,
        "artist": publisher,
        "publisher": publisher,
        "album": item.programme.name if item.programme else KIND_LABELS[item.kind],
        "date": when,
        "comment": documents_comment(item) or item.description[:500] or None,
    }


def jingle_keys(item: MediaItem) -> dict[str, str]:
    """Storage keys of the originals of the programme's intro/outro jingles that may air
    now (:func:`media_hub.policy.may_air`: a jingle unpublished since is left out)."""
    keys = {}
    if item.programme:
        session = object_session(item)
        for part in ("intro", "outro"):
            jingle_id = getattr(item.programme, f"{part}_item_id")
            jingle = session.get(MediaItem, jingle_id) if jingle_id else None
            if may_air(jingle):
                keys[part] = jingle.original_key
    return keys


def items_with_jingle(session: Session, jingle: MediaItem) -> list[MediaItem]:
    """Published items of the programmes that use ``jingle`` as intro or outro: their
    broadcast MP3s are re-made when the jingle is published or unpublished."""
    programmes = select(Programme.id).where(or_(Programme.intro_item_id == jingle.id,
                                                Programme.outro_item_id == jingle.id))
    return list(session.scalars(select(MediaItem).where(airable_items(), MediaItem.programme_id.in_(programmes))))


def loudness_summary(result, target) -> dict:
    """JSON for the item: measured loudness of the finished MP3 against the target."""
    return {
        "integrated": result.loudness.integrated,  # LUFS
        "lra": result.loudness.lra,  # LU
        "true_peak": result.loudness.true_peak,  # dBTP
        "target_integrated": target.integrated,
        "target_true_peak": target.true_peak,
        "input_integrated": result.input_loudness.integrated,
        "normalization": result.normalization,
        "on_target": result.on_target,
    }


def mp3_filename(item: MediaItem) -> str:
    """A meaningful Vietnamese file name: the title, without characters file systems refuse."""
    name = unicodedata.normalize("NFC", item.title)
    name = "".join("-" if c in '\\/:*?"<>|' or ord(c) < 32 else c for c in name).strip(" .-")
    return f"{name[:120] or item.slug}.mp3"


# --- what radio staff see -----------------------------------------------------------------------


def broadcast_items(
    session: Session,
    *,
    topic: str | None = None,
    document_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    ids: Iterable[int] | None = None,
    limit: int = 200,
) -> list[MediaItem]:
    """Published items that have broadcast audio, newest first, filtered by topic slug,
    legal document, publication date (local days, inclusive) or ids."""
    from media_hub.legal.models import LegalDocument, Topic

    stmt = select(MediaItem).where(MediaItem.status == MediaStatus.published, MediaItem.broadcast_key.is_not(None))
    if topic:
        stmt = stmt.where(MediaItem.topics.any(Topic.slug == topic))
    if document_id:
        stmt = stmt.where(MediaItem.documents.any(LegalDocument.id == document_id))
    if since:
        stmt = stmt.where(MediaItem.published_at >= datetime.combine(since, time(), VN))
    if until:
        stmt = stmt.where(MediaItem.published_at < datetime.combine(until + timedelta(days=1), time(), VN))
    if ids is not None:
        stmt = stmt.where(MediaItem.id.in_(list(ids)))
    return list(session.scalars(stmt.order_by(MediaItem.published_at.desc()).limit(limit)))


def record_download(session: Session, item: MediaItem, user: User | None, via: str) -> None:
    """Count one download, for the downloader's administrative unit when known. The
    caller commits; rows are inserted, never updated, so concurrent downloads all count."""
    session.add(Download(item_id=item.id, user_id=user.id if user else None,
                         commune_code=user.commune_code if user else None, via=via))


def user_for_feed_key(session: Session, key: str | None) -> User | None:
    if not key:
        return None
    user = session.scalar(select(User).where(User.feed_key == key))
    return user if user is not None and user.is_active else None


def new_feed_key(user: User) -> str:
    user.feed_key = secrets.token_urlsafe(24)
    return user.feed_key


def zip_bundle(store: Storage, items: list[MediaItem], target: Path) -> Path:
    """A ZIP of the items' broadcast MP3s (stored, not recompressed) and a running order
    ``thu-tu-phat-song.csv`` (UTF-8 with BOM so spreadsheet programs read Vietnamese):
    order, title, duration (m:ss), file name."""
    names: set[str] = set()
    rows = []
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_STORED) as bundle:
        for order, item in enumerate(items, 1):
            name = f"{order:02d} - {mp3_filename(item)}"
            while name in names:
                name = f"{order:02d}b - {mp3_filename(item)}"
            names.add(name)
            with bundle.open(name, "w", force_zip64=True) as out:
                for chunk in store.iter_range(item.broadcast_key):
                    out.write(chunk)
            rows.append([order, item.title, format_duration(item.broadcast_duration), name])
        bundle.writestr(RUNNING_ORDER, spreadsheet_csv(["Thứ tự", "Tiêu đề", "Thời lượng", "Tên tệp"], rows))
    return target


#: A text cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_csv(header: list[str], rows: Iterable[list]) -> str:
    """CSV (RFC 4180) for spreadsheet programs: UTF-8 BOM so they read Vietnamese, and every
    text cell that would start a formula (``= + - @``, tab, CR) prefixed with ``'`` (OWASP
    "CSV injection"); numbers are written as they are."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"'{cell}" if isinstance(cell, str) and cell.startswith(_FORMULA_START) else cell
                         for cell in row])
    return "\ufeff" + out.getvalue()


def feed(items: list[MediaItem], *, title: str, self_url: str, site_url: str, publisher: str,
         audio_url, watch_url, description: str, image_url: str | None = None) -> bytes:
    """RSS 2.0 with iTunes podcast tags (feedgen): enclosure URL, exact length in bytes
    and MIME type, a stable guid (the item's public id), pubDate and itunes:duration."""
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.title(title)
    fg.link(href=self_url, rel="self")
    fg.link(href=site_url, rel="alternate")  # RSS <link>: the last alternate link
    fg.description(description)
    fg.language("vi")
    fg.author({"name": publisher})
    fg.podcast.itunes_author(publisher)
    fg.podcast.itunes_category("Government")
    fg.podcast.itunes_explicit("no")
    if image_url:
        fg.image(image_url)
        fg.podcast.itunes_image(image_url)
    for item in reversed(items):  # feedgen prepends entries
        entry = fg.add_entry()
        entry.guid(f"urn:media-hub:{item.public_id}", permalink=False)
        entry.title(item.title)
        entry.link(href=watch_url(item))
        entry.description(item.description or documents_comment(item) or item.title)
        entry.enclosure(audio_url(item), str(item.broadcast_size), "audio/mpeg")
        entry.pubDate(item.published_at or item.created_at)
        entry.podcast.itunes_duration(round(item.broadcast_duration or 0))
    return fg.rss_str(pretty=True)


# --- administrative units and the report ------------------------------------------------------


@lru_cache(maxsize=1)
def _units() -> dict[int, tuple[str, str]]:
    def clean(name: str) -> str:
        return " ".join(name.split())  # the data has a few double spaces

    provinces = {int(p.code): clean(p.name) for p in Province.iter_all()}
    return {int(w.code): (clean(w.name), provinces[int(w.province_code)]) for w in Ward.iter_all()}


def communes(province_code: int | None = None) -> list[tuple[int, str]]:
    """``[(code, "Xã …, Tỉnh …")]`` of communes, wards and special zones (the two-level
    local government in force since 1 July 2025), of one province if given."""
    wanted = None
    if province_code is not None:
        wanted = next((p.name for p in Province.iter_all() if int(p.code) == province_code), None)
    return sorted(
        ((code, f"{name}, {prov}") for code, (name, prov) in _units().items() if wanted in (None, prov)),
        key=lambda x: x[1],
    )


def commune_name(code: int | None) -> str:
    if code is None:
        return "Không xác định"
    name, province = _units().get(code, (f"Mã {code}", ""))
    return f"{name}, {province}" if province else name


def check_commune(code: int | None) -> int | None:
    if code is not None and code not in _units():
        raise RadioError(f"Mã đơn vị hành chính {code} không có trong danh mục.")
    return code


def report_csv(session: Session, since: date, until: date) -> str:
    """Downloads per administrative unit and item in [since, until] (local days,
    inclusive): CSV with a header row, UTF-8 with BOM."""
    start = datetime.combine(since, time(), VN)
    end = datetime.combine(until + timedelta(days=1), time(), VN)
    rows = session.execute(
        select(Download.commune_code, MediaItem.id, MediaItem.title, func.count(Download.id))
        .join(MediaItem, MediaItem.id == Download.item_id)
        .where(Download.at >= start, Download.at < end)
        .group_by(Download.commune_code, MediaItem.id, MediaItem.title)
        .order_by(Download.commune_code, MediaItem.id)
    ).all()
    return spreadsheet_csv(
        ["Mã đơn vị", "Đơn vị hành chính", "Mã nội dung", "Tiêu đề", "Số lượt tải", "Từ ngày", "Đến ngày"],
        ([code or "", commune_name(code), item_id, title, count, since.isoformat(), until.isoformat()]
         for code, item_id, title, count in rows))


def programmes(session: Session) -> list[Programme]:
    return list(session.scalars(select(Programme).order_by(Programme.name)))


def create_programme(session: Session, user: User, name: str, description: str = "",
                     intro_item_id: int | None = None, outro_item_id: int | None = None) -> Programme:
    """A programme by ``user``; its jingles must be items ``user`` may reference (published:
    they air in every segment's MP3). Raises :class:`RadioError`."""
    name = unicodedata.normalize("NFC", name.strip())
    if not name:
        raise RadioError("Thiếu tên chương trình.")
    if session.scalar(select(Programme.id).where(Programme.name == name)) is not None:
        raise RadioError(f"Chương trình “{name}” đã có.")
    for jingle in (intro_item_id, outro_item_id):
        # One answer for unknown and unpublished items: ids of drafts are not revealed.
        if jingle is not None and not can(user, Action.reference, session.get(MediaItem, jingle)):
            raise RadioError("Nhạc hiệu phải là một nội dung đã xuất bản trong thư viện.")
    programme = Programme(name=name, description=description.strip(), intro_item_id=intro_item_id,
                          outro_item_id=outro_item_id)
    session.add(programme)
    session.flush()
    return programme

