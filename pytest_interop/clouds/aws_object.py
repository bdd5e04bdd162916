"""The object-storage facet of the AWS adapter: S3 through boto3.

Containers are buckets, container metadata are bucket tags, temporary URLs are presigned
URLs, sharing is a bucket policy naming the other account, versions are S3 object versions.
S3 has no capability document, no bucket or account quotas: those are not applicable. With
an ``endpoint_url`` (the embedded endpoint) requests use path-style addressing, which needs
no wildcard DNS on loopback.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from pytest_interop.clouds.base import (
    AccessDenied,
    Container,
    ContainerNotEmpty,
    QuotaExceeded,
    ResourceNotFound,
    StoredObject,
    TemporaryUrl,
)
from pytest_interop.errors import NotApplicable
from pytest_interop.resources import CREATED_AT_KEY, NAME_PREFIX, TAG_KEY

T = TypeVar("T")

CONTAINER_KIND = "container"
_RUN_TAGS = (TAG_KEY, CREATED_AT_KEY)
_NOT_FOUND = {"NoSuchBucket", "NoSuchKey", "NoSuchVersion", "404", "NotFound"}
_DENIED = {"AccessDenied", "403", "Forbidden", "AllAccessDisabled", "InvalidAccessKeyId"}
_PRESIGN_OPERATIONS = {"GET": "get_object", "PUT": "put_object", "HEAD": "head_object"}


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class S3Facet:
    """Mixin for :class:`~pytest_interop.clouds.aws.AwsCloud` (uses its ``_session``,
    ``endpoint_url``, ``region``, ``_retry``, ``_secrets``, ``_settings``, ledger helpers)."""

    _session: Any
    _settings: dict[str, Any]
    _secrets: list[Any]
    _s3_client: Any = None
    _account_id: str | None = None
    _peer: Any = None

    # -- plumbing ------------------------------------------------------------------------
    @property
    def _s3(self) -> Any:
        if self._s3_client is None:
            import botocore.config

            config = botocore.config.Config(
                retries={"total_max_attempts": 1, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                signature_version="s3v4",
                s3={"addressing_style": "path"} if self.endpoint_url else {},
            )
            self._s3_client = self._session.client(
                "s3", endpoint_url=self.endpoint_url, config=config
            )
        return self._s3_client

    def _s3_call(self, call: str, fn: Callable[[], T]) -> T:
        from pytest_interop.clouds.aws import _classify

        try:
            return self._retry.call(f"s3.{call}", fn, classify=_classify, secrets=self._secrets)
        except Exception as exc:
            code = _code(exc)
            if not code:
                raise
            if code in _NOT_FOUND:
                raise ResourceNotFound(f"s3.{call}: {code}") from None
            if code in _DENIED:
                raise AccessDenied(f"s3.{call}: refused ({code})") from None
            if code == "BucketNotEmpty":
                raise ContainerNotEmpty(f"s3.{call}: the bucket is not empty") from None
            if code in ("EntityTooLarge", "QuotaExceeded"):
                raise QuotaExceeded(f"s3.{call}: refused ({code})") from None
            raise

    # -- discovery and accounts ------------------------------------------------------------
    def object_store_info(self) -> dict[str, Any]:
        raise NotApplicable(
            "S3 publishes no capability document like Swift's /info: its features are the API's"
        )

    def object_account(self) -> str:
        if self._account_id is None:
            sts = self._session.client("sts", endpoint_url=self.endpoint_url)
            identity = self._s3_call("sts.get_caller_identity", sts.get_caller_identity)
            self._account_id = str(identity["Account"])
        return self._account_id

    # -- buckets ---------------------------------------------------------------------------
    def _bucket_tags(self, name: str) -> dict[str, str]:
        try:
            answer = self._s3_call(
                "get_bucket_tagging", lambda: self._s3.get_bucket_tagging(Bucket=name)
            )
        except Exception as exc:
            if _code(exc) == "NoSuchTagSet" or "NoSuchTagSet" in str(exc):
                return {}
            raise
        return {item["Key"]: item["Value"] for item in answer.get("TagSet", [])}

    def _put_bucket_tags(self, name: str, tags: Mapping[str, str]) -> None:
        tag_set = [{"Key": key, "Value": value} for key, value in tags.items()]
        if tag_set:
            self._s3_call(
                "put_bucket_tagging",
                lambda: self._s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_set}),
            )
        else:
            self._s3_call(
                "delete_bucket_tagging", lambda: self._s3.delete_bucket_tagging(Bucket=name)
            )

    @staticmethod
    def _visible(tags: Mapping[str, str]) -> dict[str, str]:
        """Bucket tags as container metadata: lower-case keys, without our run tags."""
        return {key.lower(): value for key, value in tags.items() if key not in _RUN_TAGS}

    def create_container(
        self, name: str | None = None, *, metadata: Mapping[str, str] | None = None
    ) -> Container:
        name = name or self.resource_name(CONTAINER_KIND).lower()  # bucket names: lower-case
        kwargs: dict[str, Any] = {"Bucket": name}
        if self.region and self.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        record = self.track_intent(CONTAINER_KIND, name)
        self._s3_call("create_bucket", lambda: self._s3.create_bucket(**kwargs))
        self.track_created(record, name)
        tags = {tag["Key"]: tag["Value"] for tag in self._run_tags(None)}
        tags.update(metadata or {})
        self._put_bucket_tags(name, tags)
        return self.get_container(name)

    def list_containers(
        self, *, prefix: str | None = None, limit: int | None = None, marker: str | None = None
    ) -> list[Container]:
        answer = self._s3_call("list_buckets", self._s3.list_buckets)
        names = sorted(item["Name"] for item in answer.get("Buckets", []))
        names = [n for n in names if n.startswith(prefix or "") and (not marker or n > marker)]
        return [Container(n) for n in names[:limit]]

    def get_container(self, name: str) -> Container:
        self._s3_call("head_bucket", lambda: self._s3.head_bucket(Bucket=name))
        return Container(name, metadata=self._visible(self._bucket_tags(name)))

    def set_container_metadata(self, name: str, metadata: Mapping[str, str]) -> dict[str, str]:
        tags = self._bucket_tags(name)
        tags.update(metadata)
        self._put_bucket_tags(name, tags)
        return self._visible(tags)

    def delete_container_metadata(self, name: str, keys: Sequence[str]) -> None:
        wanted = {key.lower() for key in keys}
        tags = {k: v for k, v in self._bucket_tags(name).items() if k.lower() not in wanted}
        self._put_bucket_tags(name, tags)

    def delete_container(self, name: str, *, purge: bool = False) -> None:
        if purge:
            pages = self._s3_call(
                "list_object_versions",
                lambda: list(self._s3.get_paginator("list_object_versions").paginate(Bucket=name)),
            )
            for page in pages:
                for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    with contextlib.suppress(ResourceNotFound):
                        self._s3_call(
                            "delete_object",
                            lambda i=item: self._s3.delete_object(
                                Bucket=name, Key=i["Key"], VersionId=i["VersionId"]
                            ),
                        )
        self._s3_call("delete_bucket", lambda: self._s3.delete_bucket(Bucket=name))
        self.track_deleted(CONTAINER_KIND, name)

    # -- objects ---------------------------------------------------------------------------
    def list_objects(
        self,
        container: str,
        *,
        prefix: str | None = None,
        limit: int | None = None,
        marker: str | None = None,
        account: str | None = None,  # bucket names are global: no account needed
    ) -> list[StoredObject]:
        kwargs: dict[str, Any] = {"Bucket": container}
        if prefix:
            kwargs["Prefix"] = prefix
        if marker:
            kwargs["StartAfter"] = marker
        found: list[StoredObject] = []
        while True:
            if limit is not None:
                kwargs["MaxKeys"] = max(1, min(1000, limit - len(found)))
            answer = self._s3_call("list_objects_v2", lambda: self._s3.list_objects_v2(**kwargs))
            for item in answer.get("Contents", []):
                found.append(StoredObject(item["Key"], int(item["Size"]), item["ETag"].strip('"')))
            if not answer.get("IsTruncated") or (limit is not None and len(found) >= limit):
                return found[:limit] if limit is not None else found
            kwargs["ContinuationToken"] = answer["NextContinuationToken"]
            kwargs.pop("StartAfter", None)

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes,
        *,
        content_type: str | None = None,
        metadata: Mapping[str, str] | None = None,
        account: str | None = None,
    ) -> StoredObject:
        content_type = content_type or "application/octet-stream"
        answer = self._s3_call(
            "put_object",
            lambda: self._s3.put_object(
                Bucket=container,
                Key=name,
                Body=data,
                ContentType=content_type,
                Metadata=dict(metadata or {}),
            ),
        )
        etag = str(answer.get("ETag", "")).strip('"') or None
        return StoredObject(name, len(data), etag, content_type, dict(metadata or {}))

    def get_object(
        self,
        container: str,
        name: str,
        *,
        byte_range: tuple[int, int] | None = None,
        account: str | None = None,
    ) -> bytes:
        kwargs: dict[str, Any] = {"Bucket": container, "Key": name}
        if byte_range:
            kwargs["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
        answer = self._s3_call("get_object", lambda: self._s3.get_object(**kwargs))
        return answer["Body"].read()

    def head_object(self, container: str, name: str) -> StoredObject:
        answer = self._s3_call(
            "head_object", lambda: self._s3.head_object(Bucket=container, Key=name)
        )
        return StoredObject(
            name,
            int(answer.get("ContentLength", 0)),
            str(answer.get("ETag", "")).strip('"') or None,
            answer.get("ContentType"),
            {k.lower(): v for k, v in (answer.get("Metadata") or {}).items()},
        )

    def copy_object(
        self, container: str, name: str, to_container: str, to_name: str
    ) -> StoredObject:
        self._s3_call(
            "copy_object",
            lambda: self._s3.copy_object(
                Bucket=to_container, Key=to_name, CopySource={"Bucket": container, "Key": name}
            ),
        )
        return self.head_object(to_container, to_name)

    def delete_object(self, container: str, name: str, *, account: str | None = None) -> None:
        # S3 answers 204 for a key that is not there; the interface says ResourceNotFound.
        self.head_object(container, name)
        self._s3_call("delete_object", lambda: self._s3.delete_object(Bucket=container, Key=name))

    # -- versions --------------------------------------------------------------------------
    def enable_versioning(self, container: str) -> None:
        self._s3_call(
            "put_bucket_versioning",
            lambda: self._s3.put_bucket_versioning(
                Bucket=container, VersioningConfiguration={"Status": "Enabled"}
            ),
        )

    def object_versions(self, container: str, name: str) -> list[bytes]:
        answer = self._s3_call(
            "list_object_versions",
            lambda: self._s3.list_object_versions(Bucket=container, Prefix=name),
        )
        # S3 lists a key's versions newest first; keep that order.
        older = [
            item["VersionId"]
            for item in answer.get("Versions", [])
            if item["Key"] == name and not item.get("IsLatest")
        ]
        return [
            self._s3_call(
                "get_object",
                lambda v=version: self._s3.get_object(Bucket=container, Key=name, VersionId=v),
            )["Body"].read()
            for version in older
        ]

    # -- temporary URLs ----------------------------------------------------------------------
    def temporary_url(
        self, container: str, name: str, *, method: str = "GET", seconds: int = 60
    ) -> TemporaryUrl:
        operation = _PRESIGN_OPERATIONS.get(method.upper())
        if operation is None:
            raise NotApplicable(f"S3 presigned URLs here cover GET, PUT and HEAD, not {method}")
        signed_at = int(time.time())  # X-Amz-Date has whole seconds
        url = self._s3.generate_presigned_url(
            operation, Params={"Bucket": container, "Key": name}, ExpiresIn=int(seconds)
        )
        return TemporaryUrl(url, method.upper(), float(signed_at + int(seconds)))

    # -- other accounts: sharing ---------------------------------------------------------------
    def peer(self) -> Any:
        if self._peer is None:
            peer = (self._settings.get("interop") or {}).get("peer")
            if not peer:
                raise NotApplicable(
                    f"cloud {self.name!r} configures no second AWS account (interop.peer with "
                    "its access keys); S3 sharing is tested between two accounts"
                )
            import boto3

            session = boto3.session.Session(
                aws_access_key_id=peer.get("aws_access_key_id"),
                aws_secret_access_key=peer.get("aws_secret_access_key"),
                profile_name=peer.get("profile"),
                region_name=self.region,
            )
            self._secrets.append(peer.get("aws_secret_access_key"))
            settings = {"endpoint_url": self.endpoint_url, "interop": {}}
            self._peer = type(self)(f"{self.name}/peer", session, ledger=None, settings=settings)
        return self._peer

    def grant_container_read(self, container: str, grantee: Any) -> None:
        principal = f"arn:aws:iam::{grantee.object_account()}:root"
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "InteropSharedRead",
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": ["s3:ListBucket"],
                    "Resource": f"arn:aws:s3:::{container}",
                },
                {
                    "Sid": "InteropSharedReadObjects",
                    "Effect": "Allow",
                    "Principal": {"AWS": principal},
                    "Action": ["s3:GetObject"],
                    "Resource": f"arn:aws:s3:::{container}/*",
                },
            ],
        }
        self._s3_call(
            "put_bucket_policy",
            lambda: self._s3.put_bucket_policy(Bucket=container, Policy=json.dumps(policy)),
        )

    # -- quotas ------------------------------------------------------------------------------
    def set_container_quota(
        self, container: str, *, max_bytes: int | None = None, max_objects: int | None = None
    ) -> None:
        raise NotApplicable("S3 has no bucket quotas: a bucket holds any number of bytes")

    def require_account_quotas(self) -> None:
        raise NotApplicable("S3 has no account storage quota: an account stores any amount")

    def set_account_quota(self, max_bytes: int | None) -> None:
        self.require_account_quotas()

    # -- clean-up ----------------------------------------------------------------------------
    def _container_leftovers(
        self,
        ours: Callable[[Mapping[str, str], str | None, float | None], bool],
        attempt: Callable[[str, Callable[[], bool]], None],
    ) -> None:
        """Buckets of crashed runs (their run tag says so), for cleanup_leftovers.

        Bucket names are lower-case, so the run tag alone decides, not the name prefix.
        """
        answer = self._s3_call("list_buckets", self._s3.list_buckets)
        for item in answer.get("Buckets", []):
            name = item["Name"]
            if not name.startswith(NAME_PREFIX):
                continue
            try:
                tags = self._bucket_tags(name)
            except ResourceNotFound:
                continue
            created = item.get("CreationDate")
            if ours(tags, None, created.timestamp() if created else None):
                attempt(f"container {name}", lambda n=name: self._delete_container_record(n))

    def close(self) -> None:
        try:
            if self._peer is not None:
                self._peer.close()
                self._peer = None
        finally:
            super().close()  # type: ignore[misc]
