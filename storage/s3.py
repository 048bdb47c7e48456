"""Blob storage in an S3 bucket (AWS, MinIO, Ceph, ...) through boto3.

Objects live at ``<prefix>/<key>`` in the bucket.  Credentials come from the
usual boto3 chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` env vars,
shared config files, instance roles).  With a custom ``endpoint_url``,
path-style addressing is used (what MinIO and most S3 clones expect).
Objects under the prefix whose names break the key rules are ignored by
:meth:`S3Storage.list` and :meth:`S3Storage.delete_prefix`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from .base import (
    DEFAULT_CHUNK_SIZE,
    InvalidRange,
    ObjectInfo,
    ObjectNotFound,
    Storage,
    StorageError,
    check_range,
    guess_content_type,
    is_valid_key,
    validate_key,
    validate_prefix,
)

MiB = 1 << 20
_S3_ERRORS = (ClientError, BotoCoreError, Boto3Error)


class S3Storage(Storage):
    """Objects in ``bucket`` under the optional key ``prefix``.

    ``multipart_threshold`` and ``multipart_chunksize`` are in bytes (S3's
    minimum part size is 5 MiB); files at or above the threshold are uploaded
    in parts, up to ``max_concurrency`` at a time.  ``client`` replaces the
    boto3 client built from ``endpoint_url`` and ``region``.  With
    ``create_bucket=True`` a missing bucket is created.
    """

    delete_batch_size = 1000  # keys per DeleteObjects request (S3's maximum)

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        client=None,
        multipart_threshold: int = 8 * MiB,
        multipart_chunksize: int = 8 * MiB,
        max_concurrency: int = 4,
        create_bucket: bool = False,
    ):
        if not bucket:
            raise ValueError("S3Storage needs a bucket name")
        prefix = prefix.strip("/")
        self.bucket = bucket
        self.prefix = validate_key(prefix) + "/" if prefix else ""
        if client is None:
            config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
            client = boto3.session.Session().client(
                "s3", endpoint_url=endpoint_url, region_name=region, config=config
            )
        self.client = client
        self.transfer_config = TransferConfig(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
        )
        if create_bucket:
            self._create_bucket()

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _create_bucket(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise _error(exc, self.bucket) from exc
        region = self.client.meta.region_name
        kwargs = {}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":
                raise _error(exc, self.bucket) from exc

    # -- writing -----------------------------------------------------------

    @staticmethod
    def _extra_args(key, content_type, cache_control) -> dict:
        extra = {"ContentType": content_type or guess_content_type(key)}
        if cache_control is not None:
            extra["CacheControl"] = cache_control
        return extra

    def put_file(self, key, path, *, content_type=None, cache_control=None) -> ObjectInfo:
        s3_key = self._key(key)
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such file: {path!r}")
        try:
            self.client.upload_file(
                path,
                self.bucket,
                s3_key,
                ExtraArgs=self._extra_args(key, content_type, cache_control),
                Config=self.transfer_config,
            )
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc
        return self.stat(key)

    def put_bytes(self, key, data, *, content_type=None, cache_control=None) -> ObjectInfo:
        s3_key = self._key(key)
        extra = self._extra_args(key, content_type, cache_control)
        try:
            resp = self.client.put_object(Bucket=self.bucket, Key=s3_key, Body=bytes(data), **extra)
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc
        return ObjectInfo(key, len(data), extra["ContentType"], _etag(resp), cache_control)

    # -- reading -----------------------------------------------------------

    def get_file(self, key, path) -> None:
        s3_key = self._key(key)
        try:  # s3transfer writes a temp file next to `path`, then renames it
            self.client.download_file(self.bucket, s3_key, os.fspath(path), Config=self.transfer_config)
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc

    def iter_range(self, key, start=0, end=None, chunk_size=DEFAULT_CHUNK_SIZE) -> Iterator[bytes]:
        s3_key = self._key(key)
        check_range(start, end, chunk_size)
        kwargs = {}
        if start or end is not None:  # no Range for a whole (possibly empty) object
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=s3_key, **kwargs)
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc
        return _iter_body(resp["Body"], chunk_size)

    def stat(self, key) -> ObjectInfo:
        s3_key = self._key(key)
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=s3_key)
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc
        return ObjectInfo(
            key=key,
            size=resp["ContentLength"],
            content_type=resp.get("ContentType"),
            etag=_etag(resp),
            cache_control=resp.get("CacheControl"),
        )

    def list(self, prefix="") -> Iterator[str]:
        return self._list(validate_prefix(prefix))

    def _list(self, prefix: str) -> Iterator[str]:
        # ListObjectsV2 returns keys in UTF-8 byte order, i.e. sorted for ASCII keys.
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix + prefix):
                for obj in page.get("Contents", ()):
                    key = obj["Key"][len(self.prefix):]
                    if is_valid_key(key):
                        yield key
        except _S3_ERRORS as exc:
            raise _error(exc, prefix) from exc

    # -- deleting ----------------------------------------------------------

    def delete(self, key) -> None:
        s3_key = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=s3_key)
        except _S3_ERRORS as exc:
            raise _error(exc, key) from exc

    def delete_prefix(self, prefix) -> int:
        self._check_delete_prefix(prefix)
        deleted, batch = 0, []
        for key in self.list(prefix):
            batch.append(key)
            if len(batch) >= self.delete_batch_size:
                deleted += self._delete_batch(batch)
                batch = []
        if batch:
            deleted += self._delete_batch(batch)
        return deleted

    def _delete_batch(self, keys: list[str]) -> int:
        objects = [{"Key": self.prefix + key} for key in keys]
        try:
            resp = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
        except _S3_ERRORS as exc:
            raise _error(exc, keys[0]) from exc
        if resp.get("Errors"):
            first = resp["Errors"][0]
            raise StorageError(
                f"{len(resp['Errors'])} of {len(keys)} deletes failed, e.g. {first.get('Key')!r}: "
                f"{first.get('Code')} {first.get('Message')}"
            )
        return len(keys)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _etag(resp: dict) -> str | None:
    etag = resp.get("ETag")
    return etag.strip('"') if etag else None


def _error(exc: Exception, key: str) -> StorageError:
    """Translate a boto3/botocore exception into the storage error hierarchy."""
    code = _code(exc) if isinstance(exc, ClientError) else ""
    if code in ("NoSuchKey", "404", "NotFound"):
        return ObjectNotFound(key)
    if code == "InvalidRange":
        return InvalidRange(f"range outside {key!r}")
    return StorageError(f"S3 error on {key!r}: {exc}")


def _iter_body(body, chunk_size: int) -> Iterator[bytes]:
    try:
        for chunk in body.iter_chunks(chunk_size):
            if chunk:
                yield chunk
    finally:
        body.close()
