"""The live flow's parameters: the one place their defaults and meanings are written.

The flow's signature, its command line (``python -m flows.live_boxscore --help``) and the
``live`` deployment in ``prefect.yaml`` all take their defaults from :class:`LiveConfig`;
``tests/unit/test_config.py`` checks that they agree. Where the services are (S3, MongoDB, SQL,
Dask) is not a parameter but a setting: :mod:`tasks.settings`.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from typing import Any


def _parameter(default: Any, help: str) -> Any:
    """A parameter's default and help text, read back by :func:`defaults` and :func:`helps`.

    Called only while :class:`LiveConfig` is defined, at import, so no test run can switch a
    mutant of it on: ``make mutation`` leaves it out, and test_config checks what it builds."""
    return field(default=default, metadata={"help": help})  # pragma: no mutate


@dataclass(frozen=True)
class LiveConfig:
    """What a user may choose for one live run, with its default and what it means."""

    poll_interval: float = _parameter(1.0, "seconds between polls of the stream (one HEAD, or one LIST for a prefix)")
    wait_for_stream: float = _parameter(300.0, "seconds to wait for a first stream before giving up")
    stall_timeout: float = _parameter(
        900.0, "seconds a game that is not over may go without a change (outages are waited out within it)"
    )
    home_team: int = _parameter(101, "the single stream's home team id (teams table)")
    away_team: int = _parameter(205, "the single stream's away team id (teams table)")
    finalize: bool = _parameter(True, "finalize each game into teams2/players2 when it is over")
    settle_seconds: float = _parameter(
        30.0, "seconds of quiet after the last final before the run ends (a correction in it is applied)"
    )
    game_id: str | None = _parameter(None, "the single stream's game id; unset: GAME_ID, else derived from the stream")
    read_timeout: float = _parameter(60.0, "seconds one tick's Dask read, or one whole read, may take")
    dask_block_bytes: int = _parameter(
        64 * 2**20, "bytes: a full read this big or bigger is a Dask dataframe of blocks this size"
    )
    behind_seconds: float = _parameter(
        30.0, "seconds a game's box score may trail a change of its stream before the run says it is behind"
    )
    fallback_interval: float = _parameter(
        5.0,
        "seconds between polls of every stream while the store's change feed listens (it catches what "
        "the feed lost); while the feed is down, or with none, the run polls every poll_interval",
    )


def defaults() -> dict[str, Any]:
    """Each parameter's default, by name, in the signature's order."""
    return {f.name: f.default for f in fields(LiveConfig) if f.default is not MISSING}


def helps() -> dict[str, str]:
    """Each parameter's help text, by name: the command line's and the deployment's description."""
    return {f.name: f.metadata["help"] for f in fields(LiveConfig)}
