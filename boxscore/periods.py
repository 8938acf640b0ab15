"""Quarters: where on the 60:00 countdown clock an event falls, as a lacrosse box score shows it.

A game is four 15:00 quarters on one clock counting down from 60:00. With ``s`` the seconds left
and ``elapsed = 3600 - s``, an event is in quarter ``max(1, ceil(elapsed / 900))``, with
``s - (4 - quarter) * 900`` seconds left in it: 60:00 is Q1 15:00, 45:00 is Q1 00:00, 44:59 is
Q2 14:59, 15:00 is Q3 00:00 and 00:00 is Q4 00:00 (a moment on a boundary belongs to the quarter
it ends). The stream's clock ends at 00:00, so it cannot carry overtime.
"""

from __future__ import annotations

from typing import Any

from boxscore.events import GAME_LENGTH_SECONDS

QUARTERS = 4
QUARTER_SECONDS = GAME_LENGTH_SECONDS // QUARTERS
GAME_MINUTES, QUARTER_MINUTES = GAME_LENGTH_SECONDS // 60, QUARTER_SECONDS // 60


def quarter_of(seconds_left: int) -> int:
    """The quarter (1 to 4) of a moment ``seconds_left`` seconds before the end of the game."""
    elapsed = GAME_LENGTH_SECONDS - seconds_left
    return max(1, -(-elapsed // QUARTER_SECONDS))


def quarter_seconds_left(seconds_left: int) -> int:
    """Seconds left in that moment's quarter."""
    return seconds_left - (QUARTERS - quarter_of(seconds_left)) * QUARTER_SECONDS


def quarter_clock(seconds_left: int) -> str:
    """The time left in the quarter as ``mm:ss`` (``44:59`` on the game clock -> ``14:59``)."""
    return in_quarter(seconds_left)[1]


def in_quarter(seconds_left: int) -> tuple[int, str]:
    """The quarter and the time left in it, ``mm:ss``, at once (the box score shows both)."""
    quarter = quarter_of(seconds_left)
    left = seconds_left - (QUARTERS - quarter) * QUARTER_SECONDS
    return quarter, f"{left // 60:02d}:{left % 60:02d}"


def quarters_of(clock: Any) -> Any:
    """The quarter of each ``mm:ss`` clock of a pandas or Dask series, vectorised (:func:`quarter_of`)."""
    return quarters_of_minutes(clock.str.slice(0, 2).astype("int64"))


def quarters_of_minutes(minutes: Any) -> Any:
    """The quarter of each clock by its minutes, a pandas, Dask or NumPy array of them.

    Quarters end on whole minutes, so the minutes decide: ``ceil((60 - mm) / 15)``, at least 1
    (``45:00`` and ``45:30`` are Q1, ``44:59`` is Q2)."""
    return (-((minutes - GAME_MINUTES) // QUARTER_MINUTES)).clip(1)
