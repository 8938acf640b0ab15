"""The live run's view in the Prefect UI (artifacts), made in a thread of its own.

Each artifact is an API call; made in the loop, a Prefect API that does not answer would hold a
tick for the client's timeout and retries. Here the loop only hands over the newest view of
each kind (a box score, a prefix run's games) and goes on; the thread makes them in the run's
context, so they belong to the run, and a newer view replaces one not yet made (the UI shows
the latest anyway). A failure is said once; :meth:`RunArtifacts.close` makes what is left, within
a bound, when the run ends.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Mapping
from typing import Any

from prefect.artifacts import create_progress_artifact, create_table_artifact, update_progress_artifact

from boxscore.document import BoxScore
from boxscore.report import boxscore_rows, game_progress, games_rows, games_shown, line_score, scoreline
from boxscore.watch import GameFigures

BOXSCORE_ARTIFACT = "boxscore"  # one key: the UI shows the latest box score, older ones as history
GAMES_ARTIFACT = "games"  # a prefix run's games, the same way
CLOCK_ARTIFACT = "game-clock"


class RunArtifacts:
    """The run's artifacts, made in the order handed over, the newest of each kind only."""

    def __init__(self, warn: Callable[[str], None], mask: Callable[[str], str]) -> None:
        self._warn, self._mask = warn, mask
        self._context = contextvars.copy_context()  # the flow run's: artifacts are linked to it
        self._pending: dict[str, Callable[[], None]] = {}
        self._changed = threading.Condition()
        self._closed = False
        self._failed = False
        self._clock: Any = None  # the game clock's progress artifact, made with the first box score
        self._thread = threading.Thread(target=self._make_all, name="prefect-artifacts", daemon=True)
        self._thread.start()

    def boxscore(self, document: BoxScore) -> None:
        """The single game's box score table and its game clock."""
        self._offer(BOXSCORE_ARTIFACT, lambda: self._make_boxscore(document))

    def games(self, games: Mapping[str, GameFigures]) -> None:
        """A prefix run's games, one row each (:data:`boxscore.report.GAMES_SHOWN` at most)."""
        description = games_shown(games)
        self._offer(GAMES_ARTIFACT, lambda: create_table_artifact(games_rows(games), GAMES_ARTIFACT, description))

    def close(self, timeout: float = 10.0) -> None:
        """Make what is left (within ``timeout``), then stop the thread."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join(timeout)

    def _offer(self, kind: str, make: Callable[[], None]) -> None:
        with self._changed:
            self._pending[kind] = make
            self._changed.notify()

    def _make_all(self) -> None:
        while True:
            with self._changed:
                while not self._pending and not self._closed:
                    self._changed.wait()
                pending, self._pending = list(self._pending.values()), {}
                closed = self._closed
            for make in pending:
                try:
                    self._context.run(make)
                except Exception as error:  # noqa: BLE001 - the UI is worth no box score
                    if not self._failed:
                        self._failed = True
                        self._warn(f"the Prefect UI's artifacts are not updated ({self._mask(str(error))})")
            if closed:
                return

    def _make_boxscore(self, document: BoxScore) -> None:
        if self._clock is None:
            self._clock = create_progress_artifact(0.0, key=CLOCK_ARTIFACT, description="game clock: 60:00 -> 00:00")
        description = f"{scoreline(document)}\n\n{line_score(document)}"
        create_table_artifact(boxscore_rows(document), key=BOXSCORE_ARTIFACT, description=description)
        update_progress_artifact(self._clock, game_progress(document), f"clock {document['timestamp']}")
