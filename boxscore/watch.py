"""What an operator watches on game day: each game's and each service's figures, and the moments
worth an alert.

The live loop tells its :class:`Watch` what happened (a poll's versions, a read's counts, a box
score stored, a service failing or answering, games finalized), with the time it happened; at the
end of each tick the step asks it for :class:`Figures` (the metrics' values, cumulative, and the
lags measured since the last figures) and for the :class:`Moment` values to announce (Prefect
events). Both are plain values: the flow hands them to an adapter, and a unit test reads them.

The moments, each named for its resource (``sidearm.game.<game_id>`` or ``sidearm.service.<name>``):

- a game **started** (its first box score stored), **final** (a final box score stored, again
  after a correction), **finalized** (its result is in ``teams2``/``players2``); many games
  started together are **games started** (``sidearm.games.started``, the games in its payload);
- a game **behind**: its stream changed ``behind_seconds`` ago or more and its box score has not
  followed; **caught-up** when it then has;
- a service **down** (its first failure in a row) and **back** (its first answer after).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from boxscore.document import BoxScore
from boxscore.report import score

#: where a game is, as the metrics and the UI say it
GameState = Literal["waiting", "live", "final", "finalized"]
GAME_STATES: tuple[GameState, ...] = ("waiting", "live", "final", "finalized")
#: More games than this starting together (a run that begins on a day in progress: ten thousand
#: games' events kept a Prefect server busy for 40 s) are announced as one moment, not one each.
STARTED_ONE_BY_ONE = 50
#: Every game's figures are made at least this often; those of a game told of, at every tick.
ALL_GAMES_EVERY = 1.0
#: the services the live run depends on, as the metrics label them
SERVICES = ("s3", "dask", "mongodb", "sql")


@dataclass
class GameWatch:
    """One game's figures so far, and what the watch needs to tell when it falls behind."""

    game_id: str = ""  # the game's id (single stream: known once its first lines are read)
    written: int = 0  # box scores stored
    events: int = 0  # events folded into its tallies (a rewritten stream's, again)
    rejected: int = 0  # lines rejected
    state: GameState = "waiting"
    version: Hashable = None  # the last version a poll showed
    changed: float | None = None  # when a poll first showed that version
    behind_since: float | None = None  # when a change its box score has not followed was first seen
    behind_said: bool = False
    score: str = ""  # the last box score stored's score, the visitor first
    clock: str = ""  # and its game clock


@dataclass(frozen=True)
class GameFigures:
    written: int
    events: int
    rejected: int
    state: GameState
    #: seconds since a poll first showed its stream's current version (-1: never shown)
    since_change: float
    #: seconds its box score has trailed a change of its stream (0: it shows the stream as polled)
    behind: float = 0.0
    score: str = ""
    clock: str = ""


@dataclass(frozen=True)
class ServiceFigures:
    failures: int  # in the run so far
    backed_off: bool  # failing now: what it owes waits for the next attempt


@dataclass(frozen=True)
class Figures:
    """The run's metrics' values at the end of a tick."""

    games: Mapping[str, GameFigures]  # by game id
    services: Mapping[str, ServiceFigures]  # by :data:`SERVICES` name
    #: seconds from a poll first seeing a change to its box score stored, one per box score stored
    #: since the last figures (the lag histogram's new observations)
    lags: Sequence[float]
    tick_seconds: float  # how long this tick took, its sleep left out
    feed: FeedFigures | None = None  # the change feed's, in a run that has one


@dataclass(frozen=True)
class FeedFigures:
    """The change feed's counts in a run: the polls of every stream and of the games it heard of,
    the notifications for the run's games and for no game of it, the records no key could be read
    from, and whether it listens now."""

    polls_every: int = 0
    polls_heard: int = 0
    notifications: int = 0
    ignored: int = 0
    malformed: int = 0
    listening: bool = False


@dataclass(frozen=True)
class Moment:
    """Something an operator may want an alert for: a Prefect event's name, resource and payload."""

    event: str  # e.g. ``sidearm.game.behind``
    resource: str  # e.g. ``sidearm.game.2024-03-09-101-205``
    name: str  # what the resource is, as the UI shows it
    payload: Mapping[str, Any] = field(default_factory=dict)


class Outage(Protocol):
    """A service's backoff as the loop keeps it (:class:`boxscore.live.Backoff`): its name as the log
    says it, its failures in a row since it last answered, and when the first of them happened."""

    service: str
    failures: int
    since: float


class Watch:
    """The figures and moments of one live run; ``behind_seconds`` sets when a game is behind.

    A service's outage is its backoff's (``services``, by :data:`SERVICES` name): the watch counts
    only the run's failures in all, which a backoff forgets when the service answers.
    """

    def __init__(self, behind_seconds: float, services: Mapping[str, Outage]) -> None:
        self.behind_seconds = behind_seconds
        self.games: dict[str, GameWatch] = {}  # by the loop's key for the game
        self.retired: dict[str, GameFigures] = {}  # single stream: earlier games' last figures, by game id
        self.services = services
        self.failures = dict.fromkeys(services, 0)  # each service's failures in the run
        self._lags: list[float] = []
        self._moments: list[Moment] = []
        self._figures: dict[str, GameFigures] = {}  # each game's last figures, by game id
        self._touched: set[str] = set()  # the games (keys) told of since the last figures
        self._all_at = float("-inf")  # when every game's figures were last made

    def _game(self, key: str) -> GameWatch:
        game = self.games.get(key)
        if game is None:
            game = self.games[key] = GameWatch(game_id=key)
        self._touched.add(key)
        return game

    # -- what happened -------------------------------------------------------------------------

    def polled(self, now: float, versions: Mapping[str, Hashable], settled: set[str]) -> None:
        """A poll's versions: a new version is a change its box score must follow (not a settled game's)."""
        for key, version in versions.items():
            game = self._game(key)
            if version != game.version:
                game.version, game.changed = version, now
                if game.behind_since is None and key not in settled:
                    game.behind_since = now

    def identified(self, key: str, game_id: str) -> None:
        """Single stream: the stream holds ``game_id`` now; an earlier game's figures are kept as they were."""
        game = self._game(key)
        if game.game_id != game_id:
            self._all_at, self._figures = float("-inf"), {}  # the earlier game's are its retired figures
            if game.game_id:
                self.retired[game.game_id] = GameFigures(
                    game.written, game.events, game.rejected, game.state, -1.0, score=game.score
                )
                game.written = game.events = game.rejected = 0
                game.state, game.score, game.clock = "waiting", "", ""
            game.game_id = game_id

    def folded(self, key: str, events: int, rejected: int) -> None:
        """A read folded ``events`` events and rejected ``rejected`` lines of the game's stream."""
        game = self._game(key)
        game.events += events
        game.rejected += rejected

    def stored(self, now: float, key: str, document: BoxScore, seen: float | None, caught_up: bool) -> None:
        """A box score is in MongoDB. ``seen``: when the change it shows was first seen; ``caught_up``:
        no newer change waits to be read."""
        game = self._game(key)
        game.written += 1
        if seen is not None:
            self._lags.append(max(0.0, now - seen))
        game.score, game.clock = score(document), str(document.get("timestamp") or "")
        resource = self._resource(game.game_id)
        if game.state == "waiting":
            self._moments.append(Moment("sidearm.game.started", *resource))
        if document["final"]:
            payload = {"away": document["away"]["score"], "home": document["home"]["score"]}
            self._moments.append(Moment("sidearm.game.final", *resource, payload))
            game.state = "final"
        elif game.state == "waiting":
            game.state = "live"
        if caught_up:
            self.caught_up(now, key)

    def caught_up(self, now: float, key: str) -> None:
        """The game's box score shows its stream as it is now (stored, or unchanged by the change)."""
        game = self._game(key)
        if game.behind_said and game.behind_since is not None:
            behind = {"behind_seconds": round(now - game.behind_since, 1)}
            self._moments.append(Moment("sidearm.game.caught-up", *self._resource(game.game_id), behind))
        game.behind_since, game.behind_said = None, False

    def finalized(self, game_ids: Sequence[str]) -> None:
        """These games' results are in the season tables."""
        by_id = {game.game_id: game for game in self.games.values()}
        self._all_at = float("-inf")
        for game_id in game_ids:
            if game_id in self.retired:
                self.retired[game_id] = replace(self.retired[game_id], state="finalized")
            else:
                (by_id.get(game_id) or self._game(game_id)).state = "finalized"
            self._moments.append(Moment("sidearm.game.finalized", *self._resource(game_id)))

    def failed(self, service: str, reason: str) -> None:
        """An attempt on ``service`` failed (its backoff has counted it); the first in a row says it is down."""
        self.failures[service] += 1
        if self.services[service].failures == 1:
            self._moments.append(self._service_moment("down", service, {"reason": reason}))

    def read_failed(self) -> None:
        """One game's stream could not be read: a failure of S3, not an outage (the others read on)."""
        self.failures["s3"] += 1

    def answered(self, service: str, now: float) -> None:
        """``service`` answered (its backoff not yet told): back if it was down."""
        outage = self.services[service]
        if outage.failures:
            seconds = round(now - outage.since, 1)
            self._moments.append(self._service_moment("back", service, {"down_seconds": seconds}))

    # -- what to report ------------------------------------------------------------------------

    def figures(self, now: float, tick_seconds: float) -> Figures:
        """The figures now, with the lags measured since the last figures; a game behind is said once.

        The games told of since the last figures are made again, and every game at most every
        :data:`ALL_GAMES_EVERY` (an untouched game's ages grow with the time, and it may fall
        behind): making ten thousand games' every tick was a tenth of the loop's time.
        """
        if now - self._all_at >= ALL_GAMES_EVERY:
            self._all_at, keys = now, list(self.games)
        else:
            keys = list(self._touched)  # a game is told of through ``_game``, which makes its watch
        self._touched = set()
        for game in map(self.games.__getitem__, keys):
            if (
                game.behind_since is not None
                and not game.behind_said
                and now - game.behind_since >= self.behind_seconds
                and game.game_id
            ):
                game.behind_said = True
                seconds = round(now - game.behind_since, 1)
                self._moments.append(
                    Moment("sidearm.game.behind", *self._resource(game.game_id), {"behind_seconds": seconds})
                )
            if game.game_id:
                since = -1.0 if game.changed is None else now - game.changed
                behind = 0.0 if game.behind_since is None else now - game.behind_since
                self._figures[game.game_id] = GameFigures(
                    game.written, game.events, game.rejected, game.state, since, behind, game.score, game.clock
                )
        games = dict(self._figures)  # the metrics read it while the loop goes on
        for game_id, figures in self.retired.items():
            games.setdefault(game_id, figures)
        services = {key: ServiceFigures(self.failures[key], s.failures > 0) for key, s in self.services.items()}
        lags, self._lags = self._lags, []
        return Figures(games, services, lags, tick_seconds)

    def moments(self) -> list[Moment]:
        """The moments since the last call, oldest first; more than :data:`STARTED_ONE_BY_ONE`
        games started since are one ``sidearm.games.started`` moment naming them all."""
        said, self._moments = self._moments, []
        started = [moment for moment in said if moment.event == "sidearm.game.started"]
        if len(started) <= STARTED_ONE_BY_ONE:
            return said
        games = sorted(moment.resource.removeprefix("sidearm.game.") for moment in started)
        together = Moment("sidearm.games.started", "sidearm.games", "games", {"count": len(games), "games": games})
        return [together, *(moment for moment in said if moment.event != "sidearm.game.started")]

    @staticmethod
    def _resource(game_id: str) -> tuple[str, str]:
        return f"sidearm.game.{game_id}", f"game {game_id}"

    def _service_moment(self, what: str, service: str, payload: Mapping[str, Any]) -> Moment:
        return Moment(f"sidearm.service.{what}", f"sidearm.service.{service}", self.services[service].service, payload)
