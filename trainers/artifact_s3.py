"""The artifact store in an S3 bucket (AWS, MinIO, any S3 API): the same keys and checks as core/artifacts-s3.ts.

Keys are `<prefix>/sha256/<aa>/<hex>`, so Node and Python read each other's artifacts. Uploads stream
through a sha256 check that fails them before the object is committed, and send a SHA-256 checksum the
server verifies per request (per part for multipart). A failed upload leaves nothing visible: a single
PUT or a multipart upload only appears once complete. Reads are verified against the address and go
through a bounded local cache.
"""
from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from .artifact_cache import BoundedBlobCache
from .artifacts import (
    ArtifactCorrupt,
    ArtifactNotFound,
    ArtifactRef,
    ArtifactStore,
    blob_key,
    changed_while_stored,
    copy_verified,
    verified_bytes,
    write_atomically,
)
from .config import ArtifactStoreLocation

# Parts uploaded at once by one multipart upload (memory: this many parts of part_size_bytes).
_UPLOAD_CONCURRENCY = 4
_NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class _Sha256CheckingReader(io.RawIOBase):
    """Passes `expected_bytes` bytes through and raises `mismatch` as soon as they are all read (before
    s3transfer sends the last part and completes the upload) when they do not hash to the address, or
    when the source is shorter or longer. Not seekable on purpose: s3transfer then reads it once, in order."""

    def __init__(self, source: BinaryIO, ref: ArtifactRef, mismatch: Callable[[str], Exception]):
        super().__init__()
        self._source, self._ref, self._mismatch = source, ref, mismatch
        self._digest = hashlib.sha256()
        self._read = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self._source.read(size)
        self._digest.update(chunk)
        self._read += len(chunk)
        if self._read > self._ref["bytes"] or (not chunk and self._read < self._ref["bytes"]):
            raise self._mismatch(f"{self._digest.hexdigest()} over {self._read} bytes, not {self._ref['bytes']}")
        if self._read == self._ref["bytes"] and chunk and self._digest.hexdigest() != self._ref["sha256"]:
            raise self._mismatch(self._digest.hexdigest())
        return chunk


class S3ArtifactStore(ArtifactStore):
    def __init__(self, client, bucket: str, prefix: str, cache: BoundedBlobCache, part_size_bytes: int):
        self._client = client
        self.bucket = bucket
        self.prefix = prefix
        self._cache = cache
        self._transfer = TransferConfig(multipart_threshold=part_size_bytes, multipart_chunksize=part_size_bytes, max_concurrency=_UPLOAD_CONCURRENCY)

    @classmethod
    def at(cls, location: ArtifactStoreLocation) -> S3ArtifactStore:
        client = boto3.client(
            "s3",
            endpoint_url=location.endpoint,
            region_name=location.region,
            config=Config(
                # MinIO and other S3 APIs on a plain host:port have no per-bucket DNS names.
                s3={"addressing_style": "path"} if location.endpoint else {},
                # Checksums are sent where the store asks for them (SHA-256 on every upload), not the
                # SDK's default CRC32 trailers, which older S3-compatible servers cannot parse.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
            ),
        )
        return cls(client, location.bucket, location.prefix, BoundedBlobCache(location.cache_dir, location.cache_max_bytes), location.part_size_bytes)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def object_key(self, sha256: str) -> str:
        return f"{self.prefix}/{blob_key(sha256)}" if self.prefix else blob_key(sha256)

    def _has_blob(self, sha256: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self.object_key(sha256))
            return True
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                return False
            raise

    def _write_blob(self, ref: ArtifactRef, raw: bytes) -> None:
        self._upload(ref, io.BytesIO(raw), lambda actual: RuntimeError(f"bytes of {ref['sha256']} changed in memory (now {actual})"))

    def _write_blob_from_file(self, ref: ArtifactRef, path: Path) -> None:
        with open(path, "rb") as source:
            self._upload(ref, source, changed_while_stored(path))

    def _upload(self, ref: ArtifactRef, source: BinaryIO, mismatch: Callable[[str], Exception]) -> None:
        """One PUT, or a multipart upload whose completion makes the object appear at once; s3transfer
        aborts the multipart upload when the check fails. A server that goes away mid-upload fails the
        call (retryable; botocore retries each request first, AWS_MAX_ATTEMPTS) and leaves only invisible
        parts, which a bucket lifecycle rule removes (docs/deploy.md)."""
        self._client.upload_fileobj(
            _Sha256CheckingReader(source, ref, mismatch),
            self.bucket,
            self.object_key(ref["sha256"]),
            ExtraArgs={"ChecksumAlgorithm": "SHA256"},
            Config=self._transfer,
        )

    def _read_blob(self, sha256: str) -> bytes:
        cached = self._cache.read(sha256)
        if cached is not None:
            return cached
        body, _ = self._get_object(sha256)
        raw = verified_bytes(body.read(), sha256, self.url)
        if self._cache.fits(len(raw)):
            self._cache.fill(sha256, io.BytesIO(raw), self._corrupt(sha256))
        return raw

    def copy_blob_to_file(self, sha256: str, target: Path) -> None:
        if self._cache.copy_to(sha256, target):
            return
        body, size = self._get_object(sha256)
        if self._cache.fits(size):
            self._cache.fill(sha256, body, self._corrupt(sha256))
            if self._cache.copy_to(sha256, target):
                return
            body, _ = self._get_object(sha256)  # evicted by another process between the fill and the copy
        write_atomically(Path(target), lambda out: copy_verified(body, out, sha256, self._corrupt(sha256)), durable=False)

    def _corrupt(self, sha256: str) -> Callable[[str], ArtifactCorrupt]:
        return lambda actual: ArtifactCorrupt(sha256, actual, self.url)

    def _get_object(self, sha256: str):
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=self.object_key(sha256))
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") in _NOT_FOUND_CODES:
                raise ArtifactNotFound(f"artifact {sha256} is not in {self.url}") from err
            raise
        return response["Body"], response["ContentLength"]
