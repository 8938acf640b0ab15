"""``python -m flows.live_boxscore`` with obstore's fsspec store in place of s3fs, for bench-floor.

    python -m bench.obstore_flow --poll-interval 0.2 ...   (same arguments and settings as the flow)

Not a product option: issue #13 asked for obstore behind a setting only if it cut the tick 3x or
more. This measures that on the flow itself: every call the flow and its (threads) Dask workers
make through ``tasks.stream.s3_filesystem`` gets an obstore store built from the same settings,
whose listings carry the ``ETag`` key our stream versions read.
"""

from __future__ import annotations

import runpy
from typing import Any

from obstore.fsspec import FsspecStore


class ObstoreWithETags(FsspecStore):
    """obstore's fsspec store, naming each object's ETag as s3fs does (``ETag``, not ``e_tag``)."""

    async def _ls(self, path: str, detail: bool = False, **kwargs: Any) -> Any:
        entries = await super()._ls(path, detail=detail, **kwargs)
        return [{**entry, "ETag": entry.get("e_tag", "")} for entry in entries] if detail else entries

    async def _info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        info = await super()._info(path, **kwargs)
        return {**info, "ETag": info.get("e_tag", "")}


def obstore_filesystem(storage_options: dict[str, Any]) -> ObstoreWithETags:
    """The store for the s3fs options :class:`tasks.settings.Settings` gives (key, secret, endpoint)."""
    config = {
        "endpoint": storage_options["client_kwargs"]["endpoint_url"],
        "access_key_id": storage_options["key"],
        "secret_access_key": storage_options["secret"],
        "region": "us-east-1",
        "virtual_hosted_style_request": False,
    }
    return ObstoreWithETags("s3", config=config, client_options={"allow_http": True})


if __name__ == "__main__":
    import tasks.aggregate
    import tasks.stream

    tasks.stream.s3_filesystem = obstore_filesystem  # type: ignore[assignment]
    tasks.aggregate.s3_filesystem = obstore_filesystem  # type: ignore[assignment]
    runpy.run_module("flows.live_boxscore", run_name="__main__", alter_sys=True)
