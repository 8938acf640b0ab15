"""obstore's S3 client (Rust, with an fsspec store) as the stream reader: ``S3_READER=obstore``.

It makes the same requests as s3fs for several times less client CPU (docs/benchmarks.md), which
is most of a tick's cost at hundreds of games. s3fs stays the default: it is the stack our
users named. The store is built from the same s3fs-style options the settings give, so one set
of settings (endpoint, key, secret) serves either reader; anything not given comes from
obstore's own environment variables (``AWS_*``), as s3fs falls back on botocore's chain.
"""

from __future__ import annotations

import errno
from datetime import timedelta
from functools import cache
from typing import Any

import obstore
from obstore.exceptions import GenericError
from obstore.fsspec import FsspecStore
from obstore.store import S3Store

#: obstore retries a request for up to 3 minutes by default. The live loop retries a failed poll
#: itself, with a backoff, and reports S3 by name while it is down (:class:`boxscore.live.Backoff`),
#: so a request here gives up within seconds, about when s3fs's would.
RETRIES = {"max_retries": 3, "retry_timeout": timedelta(seconds=10), "backoff": {"max_backoff": timedelta(seconds=2)}}


class ObstoreS3(FsspecStore):
    """obstore's fsspec store, naming each object's ETag ``ETag`` as s3fs does (obstore: ``e_tag``).

    A stream's version is its ETag and size (:class:`tasks.stream.StreamVersion`), whichever
    client listed it.
    """

    def __init__(self, config: dict[str, Any], allow_http: bool) -> None:
        super().__init__("s3", config=config, client_options={"allow_http": allow_http}, retry_config=RETRIES)
        #: what :func:`bucket_store` builds a bucket's client from, hashable
        self.settings = tuple(sorted(config.items())), allow_http

    async def _ls(self, path: str, detail: bool = False, **kwargs: Any) -> Any:
        entries = await super()._ls(path, detail=detail, **kwargs)
        return [{**entry, "ETag": entry.get("e_tag", "")} for entry in entries] if detail else entries

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        info = await super()._info(path, **kwargs)
        return {**info, "ETag": info.get("e_tag", "")}

    async def get_from(self, path: str, start: int, length: int) -> tuple[str, int, int, bytes]:
        """One GET of at most ``length`` bytes of ``bucket/key`` from ``start``, with the object's
        version: its ETag, where the bytes start, the object's whole size, and the bytes.

        obstore's own ``get`` answers a range with the object's metadata, where a range read through
        fsspec gives the bytes only; a range that starts past the end (a stream rewritten shorter)
        is an ``OSError``, as s3fs says it.
        """
        bucket, _, key = path.partition("/")
        store = bucket_store(bucket, self.settings)
        try:
            answer = await obstore.get_async(store, key, options={"range": (start, start + length)})
            data = await answer.bytes_async()
        except GenericError as error:
            if " 416 " not in str(error):
                raise
            raise OSError(errno.EINVAL, f"the range from byte {start} is not satisfiable: {path}") from error
        return str(answer.meta.get("e_tag") or ""), answer.range[0], answer.meta["size"], bytes(data)


def obstore_config(storage_options: dict[str, Any]) -> dict[str, Any]:
    """obstore's S3 settings for s3fs's options: credentials, and a custom endpoint path-style.

    A custom endpoint (MinIO, SeaweedFS) is addressed path-style, as s3fs does, and may be plain
    HTTP; without one, obstore talks to AWS in the region its environment names.
    """
    config: dict[str, Any] = {}
    if "key" in storage_options:
        config.update(access_key_id=storage_options["key"], secret_access_key=storage_options["secret"])
    endpoint = storage_options.get("client_kwargs", {}).get("endpoint_url")
    if endpoint:
        config.update(endpoint=endpoint, virtual_hosted_style_request=False)
    return config


def obstore_filesystem(storage_options: dict[str, Any]) -> ObstoreS3:
    """One obstore store per set of options, reused by every poll (fsspec caches instances)."""
    config = obstore_config(storage_options)
    allow_http = str(config.get("endpoint", "")).startswith("http://")
    return ObstoreS3(config, allow_http)


@cache
def bucket_store(bucket: str, settings: tuple[tuple[tuple[str, Any], ...], bool]) -> S3Store:
    """obstore's client for one bucket, made once per bucket and settings (config, plain HTTP)."""
    config, allow_http = settings
    return S3Store(bucket, config=dict(config), client_options={"allow_http": allow_http}, retry_config=RETRIES)
