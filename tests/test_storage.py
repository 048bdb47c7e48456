"""Contract tests for storage/: the same tests run against LocalStorage (in
tmp_path) and S3Storage (against a real S3 HTTP server: moto in server mode)."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import uuid

import pytest

from storage import (
    InvalidKey,
    InvalidRange,
    LocalStorage,
    ObjectInfo,
    ObjectNotFound,
    S3Storage,
    StorageError,
    guess_content_type,
    is_valid_key,
    open_storage,
)

MiB = 1 << 20


# -- fixtures -----------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    """URL of a moto S3 server on 127.0.0.1, with dummy credentials in the env."""
    from moto.server import ThreadedMotoServer

    mp = pytest.MonkeyPatch()
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        mp.delenv(name, raising=False)
    mp.setenv("AWS_ACCESS_KEY_ID", "testing")
    mp.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    mp.setenv("AWS_DEFAULT_REGION", "us-east-1")
    mp.setenv("AWS_CONFIG_FILE", os.devnull)
    mp.setenv("AWS_SHARED_CREDENTIALS_FILE", os.devnull)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        mp.undo()


def _bucket() -> str:
    return f"test-{uuid.uuid4().hex[:16]}"


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        return LocalStorage(tmp_path / "store")
    endpoint = request.getfixturevalue("s3_endpoint")  # moto only starts if needed
    return S3Storage(
        _bucket(),
        "hub",
        endpoint_url=endpoint,
        region="us-east-1",
        multipart_threshold=5 * MiB,
        multipart_chunksize=5 * MiB,
        create_bucket=True,
    )


def _sha256_file(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MiB), b""):
            digest.update(block)
    return digest.hexdigest()


def _head(storage: S3Storage, key: str) -> dict:
    """Raw S3 HEAD of the object, bypassing the storage code."""
    return storage.client.head_object(Bucket=storage.bucket, Key=storage.prefix + key)


# -- round trips --------------------------------------------------------------


def test_bytes_round_trip(storage):
    data = os.urandom(3000)
    info = storage.put_bytes("videos/1/poster.jpg", data)
    assert isinstance(info, ObjectInfo)
    assert (info.key, info.size, info.content_type) == ("videos/1/poster.jpg", 3000, "image/jpeg")
    assert info.etag and not info.etag.startswith('"')
    assert storage.read_bytes("videos/1/poster.jpg") == data
    stat = storage.stat("videos/1/poster.jpg")
    assert (stat.size, stat.etag, stat.content_type) == (3000, info.etag, "image/jpeg")


def test_empty_object(storage):
    storage.put_bytes("empty.bin", b"")
    assert storage.stat("empty.bin").size == 0
    assert storage.read_bytes("empty.bin") == b""
    assert list(storage.iter_range("empty.bin")) == []


def test_file_round_trip(storage, tmp_path):
    src = tmp_path / "src.mp4"
    data = os.urandom(200_000)
    src.write_bytes(data)
    info = storage.put_file("videos/2/source.mp4", src)
    assert (info.size, info.content_type) == (200_000, "video/mp4")

    out_dir = tmp_path / "out"
    out_dir.mkdir()
    storage.get_file("videos/2/source.mp4", out_dir / "copy.mp4")
    assert (out_dir / "copy.mp4").read_bytes() == data
    assert os.listdir(out_dir) == ["copy.mp4"]  # no temp file left behind


def test_put_file_missing_source(storage, tmp_path):
    with pytest.raises(FileNotFoundError):
        storage.put_file("a.bin", tmp_path / "nope.bin")
    assert not storage.exists("a.bin")


def test_large_file_is_multipart_and_intact(storage, tmp_path):
    src = tmp_path / "big.mp4"
    src.write_bytes(random.Random(7).randbytes(12 * MiB))
    info = storage.put_file("videos/3/big.mp4", src, cache_control="public, max-age=60")
    assert info.size == 12 * MiB
    if isinstance(storage, S3Storage):
        assert info.etag.endswith("-3"), info.etag  # 5 + 5 + 2 MiB parts
        head = _head(storage, "videos/3/big.mp4")
        assert head["ContentType"] == "video/mp4"
        assert head["CacheControl"] == "public, max-age=60"
    else:
        assert info.cache_control == "public, max-age=60"

    expected = _sha256_file(src)
    storage.get_file("videos/3/big.mp4", tmp_path / "back.mp4")
    assert _sha256_file(tmp_path / "back.mp4") == expected

    digest, chunks = hashlib.sha256(), 0
    for chunk in storage.iter_range("videos/3/big.mp4", chunk_size=MiB):
        assert 0 < len(chunk) <= MiB
        digest.update(chunk)
        chunks += 1
    assert digest.hexdigest() == expected and chunks >= 12


# -- metadata -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "content_type"),
    [
        ("v/master.m3u8", "application/vnd.apple.mpegurl"),
        ("v/720p/seg-00001.ts", "video/mp2t"),
        ("v/sub/vi.vtt", "text/vtt"),
        ("v/dash/chunk-1.m4s", "video/iso.segment"),
        ("v/source.mp4", "video/mp4"),
        ("v/blob", "application/octet-stream"),
    ],
)
def test_default_content_type(storage, key, content_type):
    assert guess_content_type(key) == content_type
    assert storage.put_bytes(key, b"x").content_type == content_type
    assert storage.stat(key).content_type == content_type
    assert storage.stat(key).cache_control is None
    if isinstance(storage, S3Storage):
        assert _head(storage, key)["ContentType"] == content_type


def test_content_type_and_cache_control_stored(storage, tmp_path):
    src = tmp_path / "x.dat"
    src.write_bytes(b"#EXTM3U\n")
    storage.put_file("v/live.dat", src, content_type="application/vnd.apple.mpegurl", cache_control="no-cache")
    storage.put_bytes("v/seg.bin", b"\x47" * 188, content_type="video/mp2t",
                      cache_control="public, max-age=31536000, immutable")

    live, seg = storage.stat("v/live.dat"), storage.stat("v/seg.bin")
    assert (live.content_type, live.cache_control) == ("application/vnd.apple.mpegurl", "no-cache")
    assert (seg.content_type, seg.cache_control) == ("video/mp2t", "public, max-age=31536000, immutable")
    if isinstance(storage, S3Storage):
        head = _head(storage, "v/seg.bin")
        assert (head["ContentType"], head["CacheControl"]) == ("video/mp2t", "public, max-age=31536000, immutable")
    assert list(storage.list("")) == ["v/live.dat", "v/seg.bin"]  # no sidecar/temp files listed


def test_overwrite_replaces_data_and_metadata(storage):
    first = storage.put_bytes("v/index.m3u8", b"one", content_type="text/plain", cache_control="no-store")
    second = storage.put_bytes("v/index.m3u8", b"second!")
    assert storage.read_bytes("v/index.m3u8") == b"second!"
    info = storage.stat("v/index.m3u8")
    assert info.size == 7
    assert info.content_type == "application/vnd.apple.mpegurl"
    assert info.cache_control is None
    assert info.etag == second.etag != first.etag
    assert list(storage.list("v/")) == ["v/index.m3u8"]


# -- ranges -------------------------------------------------------------------

RANGE_DATA = bytes(range(256)) * 12  # 3072 bytes


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, 0), (0, 99), (1000, 2500), (3000, None), (3071, 3071), (0, None), (100, 10_000)],
)
def test_iter_range(storage, start, end):
    storage.put_bytes("r.bin", RANGE_DATA)
    chunks = list(storage.iter_range("r.bin", start, end, chunk_size=100))
    expected = RANGE_DATA[start:] if end is None else RANGE_DATA[start : end + 1]
    assert b"".join(chunks) == expected
    assert all(0 < len(c) <= 100 for c in chunks)


def test_iter_range_errors(storage):
    storage.put_bytes("r.bin", RANGE_DATA)
    with pytest.raises(ObjectNotFound):
        storage.iter_range("missing.bin")  # raised by the call, not by next()
    with pytest.raises(InvalidRange):
        storage.iter_range("r.bin", 3072)
    with pytest.raises(ValueError):
        storage.iter_range("r.bin", 10, 5)
    with pytest.raises(ValueError):
        storage.iter_range("r.bin", -1)


# -- stat / exists / list / delete --------------------------------------------


def test_stat_exists_and_not_found(storage, tmp_path):
    assert storage.exists("v/a.ts") is False
    for call in (
        lambda: storage.stat("v/a.ts"),
        lambda: storage.read_bytes("v/a.ts"),
        lambda: storage.get_file("v/a.ts", tmp_path / "out.ts"),
        lambda: storage.iter_range("v/a.ts"),
    ):
        with pytest.raises(ObjectNotFound) as err:
            call()
        assert isinstance(err.value, KeyError) and isinstance(err.value, StorageError)
    assert not (tmp_path / "out.ts").exists()

    storage.put_bytes("v/a.ts", b"abc")
    assert storage.exists("v/a.ts") is True
    assert storage.stat("v/a.ts").size == 3
    # "v" is only a prefix of other keys, not an object.
    assert storage.exists("v") is False
    with pytest.raises(ObjectNotFound):
        storage.stat("v")


def test_list_sorted_and_prefix_limited(storage):
    keys = ["b/2.ts", "b/10.ts", "a/x", "a-b/y", "a/y/z", "ab", "b/1.ts", "c"]
    for key in random.Random(1).sample(keys, len(keys)):
        storage.put_bytes(key, key.encode())
    assert list(storage.list("")) == sorted(keys)
    assert list(storage.list()) == sorted(keys)
    assert list(storage.list("a/")) == ["a/x", "a/y/z"]
    assert list(storage.list("a")) == ["a-b/y", "a/x", "a/y/z", "ab"]
    assert list(storage.list("b/1")) == ["b/1.ts", "b/10.ts"]
    assert list(storage.list("a/y/z")) == ["a/y/z"]
    assert list(storage.list("zzz/")) == []


def test_delete(storage):
    storage.put_bytes("v/1/a.ts", b"a")
    storage.put_bytes("v/1/b.ts", b"b", cache_control="no-cache")
    storage.delete("v/1/a.ts")
    assert not storage.exists("v/1/a.ts")
    storage.delete("v/1/a.ts")  # already gone: no error
    storage.delete("v/1")  # a prefix, not an object: no error, nothing deleted
    assert list(storage.list("")) == ["v/1/b.ts"]
    storage.delete("v/1/b.ts")
    assert list(storage.list("")) == []
    storage.put_bytes("v/1/b.ts", b"again")  # re-create after the folder was emptied
    assert storage.stat("v/1/b.ts").cache_control is None


@pytest.mark.parametrize("batch_size", [1000, 2])
def test_delete_prefix(storage, batch_size):
    if isinstance(storage, S3Storage):
        storage.delete_batch_size = batch_size  # 2 forces several DeleteObjects calls
    for key in ["v/1/a.ts", "v/1/b.ts", "v/1/hls/c.ts", "v/10/c.ts", "v/2/d.ts", "w"]:
        storage.put_bytes(key, b"x")
    assert storage.delete_prefix("v/1/") == 3
    assert list(storage.list("")) == ["v/10/c.ts", "v/2/d.ts", "w"]
    assert storage.delete_prefix("v/1") == 1
    assert storage.delete_prefix("nothing/") == 0
    with pytest.raises(InvalidKey):
        storage.delete_prefix("")  # refuses to wipe everything
    assert list(storage.list("")) == ["v/2/d.ts", "w"]


def test_local_path(storage):
    storage.put_bytes("v/a.ts", b"abc")
    path = storage.local_path("v/a.ts")
    if isinstance(storage, S3Storage):
        assert path is None
    else:
        assert path == storage.root / "v" / "a.ts" and path.read_bytes() == b"abc"
        with pytest.raises(ObjectNotFound):
            storage.local_path("v/missing.ts")


# -- key rules ----------------------------------------------------------------

BAD_KEYS = [
    "../x", "/abs", "A/B", "a//b", "", "a/../b", "a/..", "..", "a/", ".hidden", "a/.b",
    "with space.mp4", "video tiếng việt.mp4", "tiếng-việt.mp4", "a\\b", "a\nb", "a+b",
    "x" * 513, None, b"bytes",
]


def test_key_rules():
    for good in ["a", "0", "a.b-c", "videos/12/hls/720p/seg_00001.ts", "a/b..c", "x" * 512]:
        assert is_valid_key(good), good
    for bad in BAD_KEYS:
        assert not is_valid_key(bad), bad


@pytest.mark.parametrize("key", BAD_KEYS, ids=repr)
def test_invalid_key_rejected_by_every_method(storage, tmp_path, key):
    src = tmp_path / "src.bin"
    src.write_bytes(b"payload")
    calls = {
        "put_bytes": lambda: storage.put_bytes(key, b"payload"),
        "put_file": lambda: storage.put_file(key, src),
        "get_file": lambda: storage.get_file(key, tmp_path / "out.bin"),
        "read_bytes": lambda: storage.read_bytes(key),
        "iter_range": lambda: storage.iter_range(key),
        "stat": lambda: storage.stat(key),
        "exists": lambda: storage.exists(key),
        "delete": lambda: storage.delete(key),
        "local_path": lambda: storage.local_path(key),
    }
    not_rejected = []
    for name, call in calls.items():
        try:
            call()
        except InvalidKey as exc:
            assert isinstance(exc, ValueError) and isinstance(exc, StorageError)
        else:
            not_rejected.append(name)
    assert not_rejected == []
    assert list(storage.list("")) == []
    # Nothing escaped the store (e.g. "../x" must not become tmp_path/x).
    assert sorted(p.name for p in tmp_path.iterdir()) == (["src.bin", "store"] if isinstance(storage, LocalStorage) else ["src.bin"])


@pytest.mark.parametrize("prefix", ["../", "/abs", "A", "a//", "a/../", " ", "việt/", "a//b/", None])
def test_invalid_prefix_rejected(storage, prefix):
    with pytest.raises(InvalidKey):
        storage.list(prefix)
    with pytest.raises(InvalidKey):
        storage.delete_prefix(prefix)


# -- backend specifics --------------------------------------------------------


def test_local_layout(tmp_path):
    store = LocalStorage(tmp_path / "store")
    store.put_bytes("v/a.ts", b"abc", cache_control="no-cache")
    store.put_bytes("v/b.ts", b"def")
    assert (tmp_path / "store" / "v" / "a.ts").stat().st_mode & 0o777 == 0o644  # readable by a web server
    (tmp_path / "store" / "v" / ".tmp-abandoned").write_bytes(b"half")
    (tmp_path / "store" / "v" / "Upper.ts").write_bytes(b"foreign")
    assert list(store.list("")) == ["v/a.ts", "v/b.ts"]
    # A key and a "folder" of the same name cannot coexist on a file system.
    with pytest.raises(StorageError):
        store.put_bytes("v/a.ts/c", b"x")
    with pytest.raises(StorageError):
        store.put_bytes("v", b"x")
    store.delete("v/a.ts")
    store.delete("v/b.ts")
    # Only the foreign files remain; the empty sidecar folders were pruned.
    assert sorted(p.relative_to(tmp_path / "store").as_posix() for p in (tmp_path / "store").rglob("*")) == [
        ".meta", "v", "v/.tmp-abandoned", "v/Upper.ts",
    ]


def test_open_storage_local(tmp_path):
    store = open_storage(f"file://{tmp_path}/a")
    assert isinstance(store, LocalStorage) and store.root == tmp_path / "a"
    store.put_bytes("k", b"1")
    assert (tmp_path / "a" / "k").read_bytes() == b"1"
    plain = open_storage(str(tmp_path / "b"))
    assert isinstance(plain, LocalStorage) and plain.root == tmp_path / "b"
    for bad in ["ftp://host/x", "file://otherhost/x", "s3://", "s3://bucket?nope=1"]:
        with pytest.raises(ValueError):
            open_storage(bad)


def test_open_storage_s3(s3_endpoint):
    bucket = _bucket()
    store = open_storage(f"s3://{bucket}/media/hub/?endpoint_url={s3_endpoint}&region=us-east-1&create_bucket=1")
    assert isinstance(store, S3Storage) and (store.bucket, store.prefix) == (bucket, "media/hub/")
    store.put_bytes("videos/1/a.ts", b"abc")
    assert store.client.get_object(Bucket=bucket, Key="media/hub/videos/1/a.ts")["Body"].read() == b"abc"
    # Objects outside the prefix, or with foreign names, are not ours.
    store.client.put_object(Bucket=bucket, Key="other/x", Body=b"x")
    store.client.put_object(Bucket=bucket, Key="media/hub/Upper/x", Body=b"x")
    assert list(store.list("")) == ["videos/1/a.ts"]
    # Without create_bucket a missing bucket is an error at first use, not created.
    missing = open_storage(f"s3://{_bucket()}?endpoint_url={s3_endpoint}")
    with pytest.raises(StorageError):
        missing.put_bytes("a", b"x")
