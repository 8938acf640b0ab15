"""Many games under one prefix: naming streams and deciding what changed.

``GAMESTREAM_URL`` names either one stream object (``s3://gamestreams/gamestream.txt``: the
single-game contract) or a prefix ending in ``/`` that holds one ``<game_id>.txt`` per game.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREAM_SUFFIX = ".txt"
#: What a game id may be: a letter or digit, then up to 63 of letters, digits, ``_``, ``.`` and ``-``
#: (it names a stream object, a MongoDB key and a page's path).
GAME_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}")


@dataclass(frozen=True)
class Matchup:
    """Who plays a game: the home and the away team ids (``games`` table)."""

    game_id: str
    home: int
    away: int


def is_prefix(url: str) -> bool:
    """A URL ending in ``/`` names a folder of games, not one stream."""
    return url.endswith("/")


def game_id_of(key: str) -> str | None:
    """``gamestreams/saturday/g0042.txt`` -> ``g0042``; ``None`` for anything that is not a stream."""
    name = key.rpartition("/")[2]
    if not name.endswith(STREAM_SUFFIX):
        return None
    game_id = name[: -len(STREAM_SUFFIX)]
    return game_id if GAME_ID.fullmatch(game_id) else None


def stream_url(prefix: str, game_id: str) -> str:
    return f"{prefix}{game_id}{STREAM_SUFFIX}"


def stream_of(url: str, game_id: str) -> str:
    """The stream object of a game under ``GAMESTREAM_URL``: its ``<game_id>.txt`` under a prefix,
    the one stream itself otherwise (whatever the game)."""
    return stream_url(url, game_id) if is_prefix(url) else url
