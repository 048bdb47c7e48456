"""Blob storage in a local folder.

Layout under ``root``::

    root/<key>          the object's bytes (mode 0644, so a web server can read it)
    root/.meta/<key>    optional JSON sidecar {"content_type": ..., "cache_control": ...}

The sidecar is only written when the values differ from the defaults (guessed
content type, no cache control), so plain objects cost one file.  Writes go to
a ``.tmp-*`` file in the same folder and are then ``os.replace``-d into place:
readers see the old or the new object, never half of one.  The data file is
replaced before its sidecar, so a reader racing an overwrite may briefly get the
new bytes with the old content type.  The ETag is derived from the file's
inode, mtime and size, so it always matches the bytes.  Names starting with
``.`` can never be keys, so temp files and ``.meta`` never show up in
:meth:`LocalStorage.list`.  Writes are not fsync-ed.

Limitation of a file system: ``a`` and ``a/b`` cannot both exist; storing one
while the other exists raises :class:`~storage.base.StorageError`.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import stat as stat_mod
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .base import (
    DEFAULT_CHUNK_SIZE,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    check_range,
    guess_content_type,
    is_valid_key,
    range_stop,
    validate_key,
    validate_prefix,
)

META_DIR = ".meta"
_FILE_MODE = 0o644
_MISSING = (FileNotFoundError, NotADirectoryError, IsADirectoryError)


class LocalStorage(Storage):
    """Objects are files under ``root`` (created if missing)."""

    def __init__(self, root: os.PathLike | str):
        self.root = Path(root).absolute()
        self.root.mkdir(parents=True, exist_ok=True)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths -------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _meta_path(self, key: str) -> Path:
        return self.root / META_DIR / key

    # -- writing -----------------------------------------------------------

    def put_file(self, key, path, *, content_type=None, cache_control=None) -> ObjectInfo:
        dest = self._path(key)
        with open(path, "rb") as src:
            return self._put(key, dest, src, content_type, cache_control)

    def put_bytes(self, key, data, *, content_type=None, cache_control=None) -> ObjectInfo:
        dest = self._path(key)
        return self._put(key, dest, io.BytesIO(data), content_type, cache_control)

    def _put(self, key, dest, src, content_type, cache_control) -> ObjectInfo:
        meta = {"content_type": content_type or guess_content_type(key), "cache_control": cache_control}
        try:
            _write_atomic(dest, src)
            meta_path = self._meta_path(key)
            if meta == {"content_type": guess_content_type(key), "cache_control": None}:
                with contextlib.suppress(*_MISSING):
                    meta_path.unlink()
            else:
                _write_atomic(meta_path, io.BytesIO(json.dumps(meta).encode()))
        except OSError as exc:
            raise StorageError(f"cannot store {key!r} in {self.root}: {exc}") from exc
        return self.stat(key)

    # -- reading -----------------------------------------------------------

    def _open(self, key: str) -> BinaryIO:
        try:
            return open(self._path(key), "rb")
        except _MISSING as exc:
            raise ObjectNotFound(key) from exc

    def get_file(self, key, path) -> None:
        with self._open(key) as src:
            _write_atomic(Path(path), src)

    def read_bytes(self, key) -> bytes:
        with self._open(key) as src:
            return src.read()

    def iter_range(self, key, start=0, end=None, chunk_size=DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        validate_key(key)
        check_range(start, end, chunk_size)
        src = self._open(key)
        try:
            stop = range_stop(key, start, end, os.fstat(src.fileno()).st_size)
            src.seek(start)
        except BaseException:
            src.close()
            raise
        return _iter_file(src, stop - start, chunk_size)

    def stat(self, key) -> ObjectInfo:
        try:
            st = self._path(key).stat()
        except _MISSING as exc:
            raise ObjectNotFound(key) from exc
        if not stat_mod.S_ISREG(st.st_mode):  # a "folder" of other keys
            raise ObjectNotFound(key)
        try:
            meta = json.loads(self._meta_path(key).read_bytes())
        except _MISSING:
            meta = {}
        return ObjectInfo(
            key=key,
            size=st.st_size,
            content_type=meta.get("content_type") or guess_content_type(key),
            etag=f"{st.st_ino:x}-{st.st_mtime_ns:x}-{st.st_size:x}",
            cache_control=meta.get("cache_control"),
        )

    def list(self, prefix="") -> Iterator[str]:
        validate_prefix(prefix)
        folder = prefix.rpartition("/")[0]
        keys = []
        for dirpath, dirnames, filenames in os.walk(self.root / folder if folder else self.root):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            rel = "" if rel == "." else rel + "/"
            # Skip dot folders (.meta) and folders that cannot hold a match.
            dirnames[:] = [
                d for d in dirnames
                if is_valid_key(d) and ((rel + d + "/").startswith(prefix) or prefix.startswith(rel + d + "/"))
            ]
            keys += [rel + f for f in filenames if (rel + f).startswith(prefix) and is_valid_key(rel + f)]
        return iter(sorted(keys))

    def local_path(self, key) -> Path:
        """The object's file.  Raises :class:`ObjectNotFound` if there is none."""
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    # -- deleting ----------------------------------------------------------

    def delete(self, key) -> None:
        path = self._path(key)
        for file, top in ((path, self.root), (self._meta_path(key), self.root / META_DIR)):
            try:
                file.unlink()
            except _MISSING:
                continue
            _prune_empty_dirs(file.parent, top)


def _write_atomic(dest: Path, src: BinaryIO) -> None:
    """Copy ``src`` to ``dest`` through a temp file in the same folder (created if needed)."""
    for attempt in range(3):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            break
        except FileNotFoundError:  # folder pruned by a concurrent delete(); retry
            if attempt == 2:
                raise
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, DEFAULT_CHUNK_SIZE)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _iter_file(src: BinaryIO, remaining: int, chunk_size: int) -> Iterator[bytes]:
    with src:
        while remaining > 0:
            chunk = src.read(min(chunk_size, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _prune_empty_dirs(folder: Path, top: Path) -> None:
    """Remove ``folder`` and its parents up to (excluding) ``top`` while they are empty."""
    while folder != top and top in folder.parents:
        try:
            folder.rmdir()
        except OSError:  # not empty (or already gone)
            return
        folder = folder.parent
