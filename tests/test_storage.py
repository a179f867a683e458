"""The evidence storage contract, checked the same way on local disk and on S3.

The S3 backend talks HTTP to a real S3-compatible server: moto's ``ThreadedMotoServer``, started
once per test session on 127.0.0.1 (a free port; ``s3_endpoint`` in conftest.py) with a fresh
bucket for each test. The server runs in a child process, not a thread of this one: moto holds
each object whole in memory and builds whole responses, and in-process those allocations would
land in the memory test's tracemalloc count (50 MiB for the server against 2 MiB for the client).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sys
import tracemalloc
import uuid
from pathlib import Path

import pytest

from audit_tracker.storage import StorageError
from audit_tracker.storage import local as storage_module
from audit_tracker.storage.local import LocalStorage
from audit_tracker.storage.s3 import S3Storage

MiB = 1024 * 1024
REGION = "eu-west-3"
MULTIPART_THRESHOLD = 8 * MiB


def make_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path`` a MiB at a time; return their SHA-256."""
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for start in range(0, size, MiB):
            block = os.urandom(min(MiB, size - start))
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def read_back(storage, key: str, chunk_size: int = MiB) -> tuple[int, str]:
    """Stream the object back; return its length and SHA-256, checking chunk sizes on the way."""
    digest = hashlib.sha256()
    length = 0
    for chunk in storage.open_chunks(key, chunk_size):
        assert 0 < len(chunk) <= chunk_size
        digest.update(chunk)
        length += len(chunk)
    return length, digest.hexdigest()


def new_key() -> str:
    return secrets.token_hex(16)


def empty_and_remove_bucket(client, bucket: str) -> None:
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", ()):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture(params=["local", "s3"])
def storage(request, tmp_path):
    if request.param == "local":
        yield LocalStorage(tmp_path / "store")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    bucket = f"evidence-test-{uuid.uuid4().hex[:16]}"
    s3 = S3Storage(
        bucket,
        endpoint_url=endpoint,
        region_name=REGION,
        access_key="test",
        secret_key="test",
        multipart_threshold=MULTIPART_THRESHOLD,
        multipart_chunksize=MULTIPART_THRESHOLD,
    )
    s3.client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    yield s3
    empty_and_remove_bucket(s3.client, bucket)  # moto keeps objects in memory: free them


@pytest.mark.parametrize("size", [5 * MiB, 20 * MiB], ids=["5MiB", "20MiB-multipart"])
def test_put_then_read_returns_same_bytes_and_consumes_source(storage, tmp_path, size):
    """What was put comes back byte for byte, in chunks, and the source file is gone."""
    source = tmp_path / "upload.bin"
    expected = make_file(source, size)
    key = new_key()

    storage.put(key, source)

    assert not source.exists()
    assert read_back(storage, key) == (size, expected)
    if isinstance(storage, S3Storage):  # a multipart object's ETag ends in "-<number of parts>"
        etag = storage.client.head_object(Bucket=storage.bucket, Key=storage.prefix + key)["ETag"]
        multipart = size >= MULTIPART_THRESHOLD
        assert etag.strip('"').endswith(f"-{-(-size // MULTIPART_THRESHOLD)}") == multipart
        assert ("-" in etag) == multipart


def test_exists_delete_and_keys_follow_what_was_put(storage, tmp_path):
    """keys lists exactly what was put, exists follows delete, deleting a missing key is fine."""
    assert list(storage.keys()) == []
    stored = {new_key(), new_key(), secrets.token_urlsafe(24).lstrip(".")}
    for key in stored:
        source = tmp_path / f"{key}.src"
        source.write_bytes(key.encode())
        storage.put(key, source)

    assert sorted(storage.keys()) == sorted(stored)
    assert all(storage.exists(key) for key in stored)
    assert not storage.exists(new_key())

    gone = stored.pop()
    storage.delete(gone)
    assert not storage.exists(gone)
    assert sorted(storage.keys()) == sorted(stored)
    storage.delete(gone)  # already gone: not an error
    storage.delete(new_key())  # never existed: not an error
    assert sorted(storage.keys()) == sorted(stored)


@pytest.mark.parametrize("key", ["", "a/b", "..", "../etc", "..\\x", ".hidden"])
def test_keys_that_could_escape_are_refused(storage, tmp_path, key):
    """An empty key, or one with a separator or leading dot, raises StorageError everywhere."""
    source = tmp_path / "upload.bin"
    source.write_bytes(b"x")
    with pytest.raises(StorageError, match="invalid storage key"):
        storage.put(key, source)
    assert source.exists()
    with pytest.raises(StorageError, match="invalid storage key"):
        list(storage.open_chunks(key))
    with pytest.raises(StorageError, match="invalid storage key"):
        storage.exists(key)
    with pytest.raises(StorageError, match="invalid storage key"):
        storage.delete(key)


def test_reading_a_missing_key_raises_storage_error(storage):
    """Reading a key that was never stored raises StorageError, not a backend exception."""
    with pytest.raises(StorageError):
        list(storage.open_chunks(new_key()))


def test_reading_a_large_object_keeps_memory_flat(storage, tmp_path):
    """Streaming a 50 MiB object back peaks well under 16 MiB of Python allocations."""
    size = 50 * MiB
    source = tmp_path / "large.bin"
    make_file(source, size)
    key = new_key()
    storage.put(key, source)

    tracemalloc.start()
    try:
        total = sum(len(chunk) for chunk in storage.open_chunks(key))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert total == size
    assert peak < 16 * MiB, f"peak {peak / MiB:.1f} MiB"


def test_local_put_failure_leaves_no_partial_object(tmp_path, monkeypatch):
    """If the final rename fails: StorageError, no object, no .part, and the source given back."""
    store = LocalStorage(tmp_path / "store")
    source = tmp_path / "upload.bin"
    source.write_bytes(b"evidence")
    key = new_key()
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:
            raise OSError("disk on fire")
        return real_replace(src, dst)

    monkeypatch.setattr(storage_module.os, "replace", failing_replace)

    with pytest.raises(StorageError, match="disk on fire"):
        store.put(key, source)

    assert len(calls) == 3  # into .part, the failed rename, and back to the source
    assert source.read_bytes() == b"evidence"
    assert not store.exists(key)
    assert list(store.keys()) == []
    assert [path for path in store.root.rglob("*") if path.is_file()] == []


def test_s3_failures_become_storage_errors(s3_endpoint, tmp_path):
    """Against a bucket that does not exist, S3 errors surface as StorageError; the source stays."""
    s3 = S3Storage(
        f"missing-{uuid.uuid4().hex[:16]}",
        endpoint_url=s3_endpoint,
        region_name=REGION,
        access_key="test",
        secret_key="test",
    )
    source = tmp_path / "upload.bin"
    source.write_bytes(b"evidence")

    with pytest.raises(StorageError, match="could not store"):
        s3.put(new_key(), source)
    assert source.exists()
    with pytest.raises(StorageError, match="could not read"):
        list(s3.open_chunks(new_key()))
    with pytest.raises(StorageError, match="could not list"):
        list(s3.keys())


def test_s3_storage_without_boto3_says_how_to_install_it(monkeypatch):
    """Configuring S3 without boto3 installed fails with a message naming the s3 extra."""
    monkeypatch.setitem(sys.modules, "boto3", None)  # makes ``import boto3`` raise ImportError
    with pytest.raises(StorageError, match=r"audit_tracker\[s3\]"):
        S3Storage("bucket")
