"""The store on S3 (or any S3-compatible server): ``s3://bucket/prefix`` through boto3.

Credentials, region and endpoint come from boto3's standard chain (environment, shared config,
instance role; ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3`` for S3-compatible servers), so the
store needs no settings of its own. Integrity is checked end to end: every upload sends a SHA-256
checksum that S3 verifies per request (per part for multipart uploads) and records the whole
object's hex SHA-256 in its metadata; every download is hashed and compared with it before the
file appears, so a corrupted or swapped object is an error, never a silently wrong file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import IO, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError
from tqdm import tqdm

from sentiment_app.errors import ArtifactError
from sentiment_app.fileio import atomic_open, sha256_file, sha256_stream

SHA256_METADATA = "sha256"
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
_DENIED = {"403", "AccessDenied", "AllAccessDisabled", "InvalidAccessKeyId", "SignatureDoesNotMatch",
           "ExpiredToken", "InvalidToken"}


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix/`` → ``("bucket", "some/prefix")``."""
    bucket, _, prefix = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket:
        raise ArtifactError(f"Not an S3 URI: {uri!r} (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")


def _whole_object_sha256(head: dict[str, Any]) -> str | None:
    """S3's own SHA-256 (hex) of the whole object; None for multipart objects, whose checksum covers parts."""
    stored = head.get("ChecksumSHA256")
    if not stored or "-" in stored or "-" in head.get("ETag", "") or head.get("ChecksumType") == "COMPOSITE":
        return None
    return base64.b64decode(stored).hex()


class ObjectNotFound(ArtifactError):
    """The key (not the bucket) is absent."""


class S3Store:
    """Keys map to ``<prefix>/<key>`` objects in one bucket."""

    def __init__(self, uri: str, multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
                 session: boto3.session.Session | None = None) -> None:
        self.bucket, self.prefix = parse_s3_uri(uri)
        self.uri = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        self._client = (session or boto3.session.Session()).client("s3")
        # s3transfer raises chunks to S3's 5 MiB part minimum, so threshold and part size can differ.
        self._transfer = TransferConfig(multipart_threshold=multipart_threshold, multipart_chunksize=multipart_threshold)
        self._bucket_checked = False

    # -- keys and errors -------------------------------------------------------------------

    def _key(self, key: str) -> str:
        parts = key.split("/")
        if not key or any(part in ("", ".", "..") for part in parts):
            raise ArtifactError(f"Invalid store key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key)}"

    @contextmanager
    def _errors(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn boto3's exceptions into one line a user can act on."""
        where = self.url(key) if key else f"s3://{self.bucket}"
        try:
            yield
        except (NoCredentialsError, PartialCredentialsError) as exc:
            raise ArtifactError(f"Cannot {action} {where}: no AWS credentials found ({exc}); "
                                "set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY") from exc
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = str(error.get("Code", "")), error.get("Message", "")
            if code == "NoSuchBucket":
                raise ArtifactError(f"Cannot {action} {where}: bucket {self.bucket!r} does not exist") from exc
            if code in _MISSING:
                self._check_bucket()
                raise ObjectNotFound(f"Cannot {action} {where}: it does not exist") from exc
            if code in _DENIED:
                raise ArtifactError(f"Cannot {action} {where}: access denied ({code}: {message or 'Forbidden'})") from exc
            raise ArtifactError(f"Cannot {action} {where}: {code}: {message}") from exc
        except BotoCoreError as exc:
            raise ArtifactError(f"Cannot {action} {where}: {exc}") from exc

    def _check_bucket(self) -> None:
        """HEAD on a missing key and on a missing bucket both say 404: ask about the bucket (once)."""
        if self._bucket_checked:
            return
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchBucket"):
                raise ArtifactError(f"S3 bucket {self.bucket!r} does not exist (store {self.uri})") from exc
            return  # no right to ask (403): the key is simply missing as far as we can tell
        self._bucket_checked = True

    def _head(self, key: str, action: str) -> dict[str, Any]:
        with self._errors(action, key):
            return self._client.head_object(Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED")

    # -- writing ---------------------------------------------------------------------------

    def _progress(self, size: int, desc: str) -> tqdm:
        return tqdm(total=size, desc=desc, unit="B", unit_scale=True, disable=size < self._transfer.multipart_threshold)

    def _upload(self, key: str, f: IO[bytes], size: int, digest: str) -> str:
        extra = {"ChecksumAlgorithm": "SHA256", "Metadata": {SHA256_METADATA: digest}}
        with self._errors("upload to", key), self._progress(size, f"upload {key}") as bar:
            self._client.upload_fileobj(f, self.bucket, self._key(key), ExtraArgs=extra,
                                        Config=self._transfer, Callback=bar.update)
        head = self._head(key, "verify")
        stored = _whole_object_sha256(head)
        if (head["ContentLength"], head.get("Metadata", {}).get(SHA256_METADATA)) != (size, digest) or (
            stored and stored != digest
        ):
            raise ArtifactError(f"Upload of {self.url(key)} could not be verified (size or SHA-256 differs); try again")
        return self.url(key)

    def put_file(self, key: str, source: Path) -> str:
        digest = sha256_file(source)
        with open(source, "rb") as f:
            return self._upload(key, f, Path(source).stat().st_size, digest)

    def put_bytes(self, key: str, data: bytes) -> str:
        return self._upload(key, BytesIO(data), len(data), hashlib.sha256(data).hexdigest())

    # -- reading ---------------------------------------------------------------------------

    def _verify(self, key: str, head: dict[str, Any], size: int, digest: str) -> None:
        """Compare what arrived with the SHA-256 the object carries (ours, else S3's whole-object one)."""
        if size != head["ContentLength"]:
            raise ArtifactError(f"Download of {self.url(key)} is {size} bytes, expected {head['ContentLength']}")
        expected = head.get("Metadata", {}).get(SHA256_METADATA) or _whole_object_sha256(head)
        if expected and expected != digest:
            raise ArtifactError(f"Checksum mismatch for {self.url(key)}: its SHA-256 is {digest}, "
                                f"expected {expected}; the object is corrupt or was replaced")

    def get_file(self, key: str, target: Path) -> Path:
        target = Path(target)
        head = self._head(key, "download")
        # The download lands in a temporary sibling; a failed check removes it and keeps ``target``.
        # Should the object change after ``head``, its bytes no longer match ``head``'s SHA-256: an error.
        with atomic_open(target, "w+b") as f:
            with self._errors("download", key), self._progress(head["ContentLength"], f"download {key}") as bar:
                self._client.download_fileobj(self.bucket, self._key(key), f, Config=self._transfer,
                                              Callback=bar.update)
            f.flush()
            size = f.seek(0, 2)
            f.seek(0)
            self._verify(key, head, size, sha256_stream(f))
        return target

    def read_bytes(self, key: str) -> bytes:
        with self._errors("read", key):
            response = self._client.get_object(Bucket=self.bucket, Key=self._key(key), ChecksumMode="ENABLED")
            data = response["Body"].read()
        self._verify(key, response, len(data), hashlib.sha256(data).hexdigest())
        return data

    def exists(self, key: str) -> bool:
        try:
            self._head(key, "check")
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str = "") -> list[str]:
        """Keys equal to ``prefix`` or under the folder ``prefix/``, like :class:`LocalStore`."""
        prefix = prefix.strip("/")
        full = self._key(prefix) if prefix else self.prefix
        strip = len(self.prefix) + 1 if self.prefix else 0
        keys: list[str] = []
        with self._errors("list", prefix or None):
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=full):
                for item in page.get("Contents", []):
                    name = item["Key"]
                    if not name.endswith("/") and (not full or name == full or name.startswith(full + "/")):
                        keys.append(name[strip:])
        return sorted(keys)
