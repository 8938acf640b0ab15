"""Settings, from environment variables (and an optional ``sidearm.env``): the one place they are read.

Configuration is an adapter: the core never reads the environment, files or Prefect blocks;
flows read a :class:`Settings` here and pass plain values down.

Every variable and default is listed in ``DEFAULTS`` below and ``sidearm.env.example``. Secrets are excluded from
``repr`` and URLs are shown with their password masked, so a logged ``Settings`` leaks nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dotenv import dotenv_values
from sqlalchemy.engine import make_url

from boxscore.identity import BadGameId, checked_game_id
from boxscore.masking import Masker
from tasks.masking import USERINFO_SCHEMES, masker, shown, split_userinfo

#: The storage option naming the client streams are read through (``S3_READER``); absent is s3fs.
READER_OPTION = "s3_reader"
#: The readers ``S3_READER`` may name: s3fs, the default, and obstore (:mod:`tasks.obstore_s3`).
S3_READERS = ("s3fs", "obstore")


DEFAULTS: dict[str, str] = {
    "GAMESTREAM_URL": "s3://gamestreams/gamestream.txt",
    "S3_ENDPOINT_URL": "",
    "S3_ACCESS_KEY": "",
    "S3_SECRET_KEY": "",
    "S3_READER": "s3fs",
    "MONGO_URL": "mongodb://127.0.0.1:27017",
    "MONGO_PASSWORD": "",
    "MONGO_DB": "sidearm",
    "MONGO_COLLECTION": "boxscores",
    "SQL_URL": "sqlite:///sidearmdb.sqlite",
    "SQL_PASSWORD": "",
    "DASK_ADDRESS": "",
    "LOCAL_CLUSTER_DASHBOARD": "",
    "WEB_HOST": "127.0.0.1",
    "WEB_PORT": "8080",
    "WEB_REFRESH_SECONDS": "0.5",
    "WEB_STALE_SECONDS": "30",
    "WEB_METRICS_ADDRESS": "127.0.0.1:9181",
    "LIVE_METRICS_ADDRESS": "127.0.0.1:9182",
    "CHANGE_FEED": "auto",
    "SEAWEEDFS_FILER": "",
    "SEASON": "",
}

#: What ``SEASON`` may be: a name fit for a URL and a document id, such as ``2026`` or ``2026-spring``.
SEASON_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")

#: What ``CHANGE_FEED`` may be (:mod:`tasks.changes`).
CHANGE_FEEDS = ("auto", "seaweedfs", "minio", "off")

#: The optional setting naming the single stream's game (see :mod:`boxscore.identity`).
GAME_ID = "GAME_ID"

#: Settings that hold a secret (a key, or a URL with a password): each may instead name a
#: Prefect Secret block in ``<NAME>_BLOCK``, e.g. ``S3_SECRET_KEY_BLOCK=sidearm-s3-secret``.
SECRET_SETTINGS = ("S3_SECRET_KEY", "MONGO_URL", "MONGO_PASSWORD", "SQL_URL", "SQL_PASSWORD")
#: Passwords given beside their URL (compose cannot percent-encode one into a URL): each is put
#: into its URL by the library that reads that URL, so any character works.
PASSWORD_BESIDE = {"MONGO_PASSWORD": "MONGO_URL", "SQL_PASSWORD": "SQL_URL"}
BLOCK_SUFFIX = "_BLOCK"
#: Names the host's settings file (empty: none). The flows, the page and the deployments read
#: ``sidearm.env`` in the working directory by default, never ``.env``, which is compose's own
#: (``SIDEARM_PASSWORD``): so a compose ``.env`` beside the local stack's settings changes nothing.
SETTINGS_FILE = "SIDEARM_ENV_FILE"
DEFAULT_SETTINGS_FILE = "sidearm.env"


def settings_file(environ: Mapping[str, str] | None = None) -> str:
    """The host's settings file, as ``SIDEARM_ENV_FILE`` names it (``""``: no file)."""
    return (os.environ if environ is None else environ).get(SETTINGS_FILE, DEFAULT_SETTINGS_FILE)


def _file_values(env_file: str | Path) -> dict[str, str | None]:
    return dotenv_values(env_file) if env_file and Path(env_file).is_file() else {}


def setting(name: str, env_file: str | Path | None = None) -> str:
    """One setting that holds no secret, read the way :meth:`Settings.from_env` reads it
    (environment over the settings file over the default), without loading any Secret block."""
    if name in os.environ:
        return os.environ[name]
    from_file = _file_values(settings_file() if env_file is None else env_file)
    return from_file.get(name) or DEFAULTS[name]


@dataclass(frozen=True)
class Settings:
    """Where the stream, the box scores, the reference tables and the Dask cluster live."""

    gamestream_url: str
    s3_endpoint_url: str = field(repr=False)  # may carry userinfo: shown masked by describe()
    s3_access_key: str
    s3_secret_key: str = field(repr=False)
    s3_reader: str  # the client streams are read through: s3fs (default) or obstore
    mongo_url: str = field(repr=False)
    mongo_db: str
    mongo_collection: str
    sql_url: str = field(repr=False)
    dask_address: str
    #: ``host:port`` for the local cluster's Dask dashboard (no login: keep it on loopback); empty: none
    local_cluster_dashboard: str
    web_host: str  # where ``python -m web`` serves the box-score page
    web_port: str
    #: the page reads a game's box score from MongoDB at most once per this many seconds, for all
    #: its viewers, and serves the last one read for up to ``web_stale_seconds`` when MongoDB is down
    web_refresh_seconds: str
    web_stale_seconds: str
    #: ``host:port`` of the page's metrics, Prometheus's format (empty: not served); never the fans' port
    web_metrics_address: str
    #: ``host:port`` of a live run's metrics (empty: not served); each run on a host needs its own
    live_metrics_address: str
    #: how the live run hears of a stream's change: ``auto`` (the store's own feed, if it has one),
    #: ``seaweedfs``, ``minio`` or ``off`` (polling only)
    change_feed: str
    #: ``host:port`` of the SeaweedFS filer whose metadata the feed follows (its gRPC port is this
    #: port + 10000); empty: the S3 endpoint's host, port 8888
    seaweedfs_filer: str
    #: the season the finals count in and the season pages show (its document's ``_id``); empty:
    #: the current year in UTC
    season: str
    #: ``GAME_ID``: the single stream's game, when the user names it; ``None`` (unset) derives it
    game_id: str | None = None

    def __post_init__(self) -> None:
        if self.s3_reader not in S3_READERS:
            raise ValueError(f"S3_READER is {self.s3_reader!r}: it must be one of {', '.join(S3_READERS)}")
        if self.change_feed not in CHANGE_FEEDS:
            raise ValueError(f"CHANGE_FEED is {self.change_feed!r}: it must be one of {', '.join(CHANGE_FEEDS)}")
        if self.season and not SEASON_PATTERN.fullmatch(self.season):
            raise ValueError(f"SEASON is {self.season!r}: use 1 to 32 letters, digits, '_', '.' or '-', such as 2026")

    @property
    def season_id(self) -> str:
        """The season's name: ``SEASON``, or the current year in UTC."""
        return self.season or str(datetime.now(UTC).year)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = None) -> Settings:
        """Read the process environment over the settings file (:func:`settings_file`) over the defaults."""
        values: dict[str, Any] = dict(DEFAULTS)
        from_file = _file_values(settings_file(environ) if env_file is None else env_file)
        values.update(
            {
                k: v
                for k, v in from_file.items()
                if (k in DEFAULTS or k.removesuffix(BLOCK_SUFFIX) in SECRET_SETTINGS) and v is not None
            }
        )
        source = os.environ if environ is None else environ
        values.update({k: source[k] for k in DEFAULTS if k in source})
        game_id = source.get(GAME_ID, from_file.get(GAME_ID))
        for name in SECRET_SETTINGS:
            block = source.get(name + BLOCK_SUFFIX) or values.get(name + BLOCK_SUFFIX)
            if block and name not in source:
                values[name] = _secret_block(block)
        for password, url in PASSWORD_BESIDE.items():
            if values.get(password):
                values[url] = with_password(values[url], values[password])
        values = {k: v for k, v in values.items() if k in DEFAULTS and k not in PASSWORD_BESIDE}
        return cls(**{key.lower(): value for key, value in values.items()}, game_id=game_id)

    @property
    def storage_options(self) -> dict[str, Any]:
        """s3fs options for the stream bucket (credentials only when given), naming a reader other than s3fs.

        The reader's name travels with the options to the Dask workers that read; the clients
        are built from them in :mod:`tasks.stream`.
        """
        options: dict[str, Any] = {}
        if self.s3_access_key:
            options.update(key=self.s3_access_key, secret=self.s3_secret_key)
        if self.s3_endpoint_url:
            options["client_kwargs"] = {"endpoint_url": self.s3_endpoint_url}
        if self.s3_reader != "s3fs":
            options[READER_OPTION] = self.s3_reader
        return options

    @property
    def reads_ahead(self) -> bool:
        """Whether a heard game's poll reads its new bytes itself (one GET in the flow's process)
        or asks a HEAD and leaves the read to the Dask workers.

        The GET spares a request, but it is the flow's CPU, and the flow is the one process a
        cluster cannot spread. On the local threads cluster the reads are the flow's anyway, and
        obstore's GET costs a third of s3fs's: read ahead. s3fs on a cluster of its own: do not
        (a thousand games were slower with it than polling, docs/benchmarks.md).
        """
        return not self.dask_address or self.s3_reader != "s3fs"

    def chosen_game_id(self, parameter: str | None = None) -> str | None:
        """The game id a user chose (the flow parameter over ``GAME_ID``), checked; ``None`` derives it.

        An empty ``GAME_ID`` is an error rather than "unset": a typo must not silently derive ids.
        """
        chosen = parameter if parameter is not None else self.game_id
        if chosen is None:
            return None
        if not chosen.strip():
            raise BadGameId("GAME_ID is set but empty: unset it to derive the game id from the stream, or give an id")
        return checked_game_id(chosen)

    @property
    def mask(self) -> Masker:
        """Masks every secret of these settings, in any form, in any text shown."""
        return masker(self.sql_url, self.mongo_url, self.s3_endpoint_url, secrets=(self.s3_secret_key,))

    def describe(self) -> str:
        """One log line with every setting that is safe to show."""
        return self.mask(
            f"stream={self.gamestream_url} s3={self.s3_endpoint_url or 'aws'} reader={self.s3_reader} "
            f"mongo={shown(self.mongo_url)} boxscores={self.mongo_db}.{self.mongo_collection} "
            f"sql={shown(self.sql_url)} dask={self.dask_address or 'local threads cluster'}"
        )


def with_password(url: str, password: str) -> str:
    """The URL with this password in it, encoded as the library that reads the URL decodes it.

    SQLAlchemy renders its own URL (it escapes what its parser would misread); a MongoDB or
    HTTP URL takes the password percent-encoded in its userinfo (pymongo requires every reserved
    character escaped), after the user name the URL already holds.
    """
    if not url.startswith(USERINFO_SCHEMES):
        return make_url(url).set(password=password).render_as_string(hide_password=False)
    parts = split_userinfo(url)
    if parts is None:
        raise ValueError(f"a password is given for {shown(url)}, which names no user (user@host)")
    scheme, userinfo, hosts, rest = parts
    return f"{scheme}://{userinfo.partition(':')[0]}:{quote(password, safe='')}@{hosts}{rest}"


# pragma: no mutate start (the Prefect API: tests/integration/test_secrets.py reaches it)
def _secret_block(name: str) -> str:
    """The value of a Prefect Secret block (read through the Prefect API of the run)."""
    from prefect.blocks.system import Secret

    try:
        return str(Secret.load(name).get())
    except ValueError as error:  # Prefect says a missing block is a ValueError
        raise LookupError(f"the Prefect Secret block {name!r} could not be loaded: {error}") from None


# pragma: no mutate end
