"""Files in S3-compatible object storage (AWS S3, MinIO, Garage, Ceph, OVH, Scaleway...).

boto3 is optional (``pip install 'audit_tracker[s3]'``): it is imported only when an
:class:`S3Storage` is built, so the application runs without it on local storage.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import CHUNK, StorageError

MiB = 1024 * 1024


def _load_boto() -> tuple[Any, Any, tuple[type[BaseException], ...]]:
    """boto3, its TransferConfig and the exceptions it raises, or a clear error."""
    try:
        import boto3
        from boto3.exceptions import Boto3Error
        from boto3.s3.transfer import TransferConfig
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError as error:
        raise StorageError(
            "S3 storage needs boto3, which is not installed: "
            "pip install 'audit_tracker[s3]'"
        ) from error
    return boto3, TransferConfig, (BotoCoreError, ClientError, Boto3Error)


class S3Storage:
    """Objects in one bucket, under ``prefix`` + key; same contract as ``LocalStorage``.

    Configuration keys to map onto the constructor:

    - ``AUDIT_TRACKER_S3_BUCKET`` -> ``bucket`` (required; setting it selects this backend)
    - ``AUDIT_TRACKER_S3_ENDPOINT_URL`` -> ``endpoint_url``: unset for AWS, otherwise e.g.
      ``https://s3.fr-par.scw.cloud`` or ``http://minio:9000``
    - ``AUDIT_TRACKER_S3_REGION`` -> ``region_name``, e.g. ``eu-west-3``
    - ``AUDIT_TRACKER_S3_ACCESS_KEY`` -> ``access_key`` and ``AUDIT_TRACKER_S3_SECRET_KEY`` ->
      ``secret_key``; both unset: boto3's usual chain (AWS_* variables, ~/.aws, instance role)
    - ``AUDIT_TRACKER_S3_PREFIX`` -> ``prefix``, default ``evidence/``; ``""`` uses the whole
      bucket. Map empty configuration values to ``None`` (prefix aside).

    With an ``endpoint_url`` requests use path-style addressing (``endpoint/bucket/key``), which
    every S3-compatible service accepts and MinIO-like ones require. Some older S3-compatible
    services reject the integrity checksums that botocore >= 1.36 sends by default; for those set
    ``AWS_REQUEST_CHECKSUM_CALCULATION=when_required`` and
    ``AWS_RESPONSE_CHECKSUM_VALIDATION=when_required`` in the environment (read by botocore).

    ``exists`` treats only a 404 as "missing": without ``s3:ListBucket`` permission S3 answers 403
    for a missing key, which is reported as a :class:`StorageError`. The IAM policy needs
    ``s3:GetObject``, ``s3:PutObject``, ``s3:DeleteObject``, ``s3:ListBucket`` and
    ``s3:AbortMultipartUpload`` (a failed multipart upload is aborted); a lifecycle
    rule aborting incomplete multipart uploads after a day is advised (a crashed upload would
    otherwise leave invisible, billed parts).

    Files at or above ``multipart_threshold`` bytes are uploaded in ``multipart_chunksize`` parts,
    read from disk part by part (a few parts in memory at once, never the whole file).
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "evidence/",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        client: Any = None,
        multipart_threshold: int = 8 * MiB,
        multipart_chunksize: int = 8 * MiB,
        max_concurrency: int = 4,
    ):
        if not bucket:
            raise StorageError("S3 storage needs a bucket name")
        boto3, transfer_config, self._errors = _load_boto()
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            from botocore.config import Config

            config = Config(s3={"addressing_style": "path"}) if endpoint_url else None
            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url or None,
                region_name=region_name or None,
                aws_access_key_id=access_key or None,
                aws_secret_access_key=secret_key or None,
                config=config,
            )
        self.client = client
        self.transfer_config = transfer_config(
            multipart_threshold=multipart_threshold,
            multipart_chunksize=multipart_chunksize,
            max_concurrency=max_concurrency,
        )

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        # The same rule as LocalStorage, so a key is valid on either backend and keys()
        # gives back exactly what was put.
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise StorageError(f"invalid storage key: {key!r}")
        return self.prefix + key

    def put(self, key: str, source: Path) -> None:
        object_key = self._key(key)
        failures: tuple[type[BaseException], ...] = (*self._errors, OSError)
        try:
            self.client.upload_file(
                str(source), self.bucket, object_key, Config=self.transfer_config
            )
        except failures as error:
            raise StorageError(f"could not store {key!r} in S3: {error}") from error
        # Stored: the source is spent. A leftover temporary file is not worth failing for.
        with contextlib.suppress(OSError):
            Path(source).unlink(missing_ok=True)

    def open_chunks(self, key: str, chunk_size: int = CHUNK) -> Iterator[bytes]:
        object_key = self._key(key)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=object_key)["Body"]
        except self._errors as error:
            raise StorageError(f"could not read {key!r} from S3: {error}") from error
        try:
            yield from body.iter_chunks(chunk_size)
        except self._errors as error:  # e.g. the connection dropped mid-object
            raise StorageError(f"could not read {key!r} from S3: {error}") from error
        finally:
            body.close()

    def delete(self, key: str) -> None:
        object_key = self._key(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=object_key)
        except self._errors as error:
            raise StorageError(f"could not delete {key!r} from S3: {error}") from error

    def exists(self, key: str) -> bool:
        object_key = self._key(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=object_key)
        except self._errors as error:
            if _is_not_found(error):
                return False
            raise StorageError(f"could not check {key!r} in S3: {error}") from error
        return True

    def keys(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    key = item["Key"].removeprefix(self.prefix)
                    if key:  # skip a "folder" marker equal to the prefix itself
                        yield key
        except self._errors as error:
            raise StorageError(f"could not list S3 bucket {self.bucket!r}: {error}") from error


def _is_not_found(error: BaseException) -> bool:
    response = getattr(error, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 404 or code in {"404", "NoSuchKey", "NotFound"}
