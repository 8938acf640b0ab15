"""When a crashed live run is started again, and when it is left Crashed.

A live run whose process dies (an OOM kill, a drained node) is marked Crashed by its worker, or
by the heartbeat automation when the worker died with it (``deployments/automations.py``).
The restart automation then runs ``flows/restart.py``, which asks :func:`decide` what to do.

A restart resumes exactly where the crashed run stopped (the game records and idempotent
upserts), so restarting is always safe; the bound only keeps a run that crashes at once, every
time, from looping for ever. Restarts are counted per game along the chain of runs that each
restarted the one before (the ``restart-of:<run id>`` tag), within a window: a game whose run
crashed twice an hour ago and runs fine since may be restarted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: the tag a restarted run carries, with the id of the run it replaces
RESTART_OF = "restart-of:"
#: the tag every restarted run carries
RESTARTED = "restarted"
#: how a crashed run's message begins once it is left Crashed (the restart trigger skips it)
NOT_RESTARTED = "not restarted:"


@dataclass(frozen=True)
class RestartPolicy:
    """At most ``max_restarts`` restarts of one game within ``window_seconds``."""

    max_restarts: int = 3
    window_seconds: float = 1800.0


@dataclass(frozen=True)
class Crash:
    """A crashed live run, as the restart rule needs it."""

    run: str  # the crashed run's id
    game: str  # the game it followed, as a person names it
    first_name: str  # the name of the run its chain of restarts began with
    still_crashed: bool  # a person may have started or ended it meanwhile
    restarted_at: tuple[float, ...] = ()  # when each restart in its chain was made, in seconds
    #: a deployment started it: only then is there something to start again (a run started by hand
    #: by ``python -m flows.live_boxscore`` or a script has no deployment)
    deployed: bool = True


@dataclass(frozen=True)
class Restart:
    """Run the crashed run's deployment again, with its parameters, this name and these tags."""

    tags: tuple[str, ...]
    name: str
    reason: str


@dataclass(frozen=True)
class NothingToDo:
    """Nothing to start again: the run is not Crashed any more (a person started or ended it
    meanwhile), no deployment started it, or it does not exist."""

    reason: str


@dataclass(frozen=True)
class LeaveCrashed:
    """Start nothing; the crashed run's state message says why."""

    message: str


def restart_of(tags: Sequence[str]) -> str | None:
    """The id of the run that a run (by its tags) restarted, or ``None`` for a first run."""
    return next((tag.removeprefix(RESTART_OF) for tag in tags if tag.startswith(RESTART_OF)), None)


def decide(crash: Crash, now: float, policy: RestartPolicy) -> Restart | LeaveCrashed | NothingToDo:
    """What to do about ``crash`` at ``now`` (seconds, the clock of its ``restarted_at``)."""
    if not crash.deployed:
        return NothingToDo(
            f"flow run {crash.run} was started by hand, not by a deployment: there is no deployment to start "
            "again; start it again as it was started"
        )
    if not crash.still_crashed:
        return NothingToDo(f"flow run {crash.run} is not Crashed any more")
    recent = sum(1 for at in crash.restarted_at if now - at <= policy.window_seconds)
    minutes = policy.window_seconds / 60
    if recent >= policy.max_restarts:
        return LeaveCrashed(
            f"{NOT_RESTARTED} game {crash.game} crashed again after {recent} restarts in {minutes:g} min "
            f"(at most {policy.max_restarts}: the restart deployment's max_restarts); start it again by hand"
        )
    return Restart(
        (RESTARTED, f"{RESTART_OF}{crash.run}"),
        f"{crash.first_name}, restart {len(crash.restarted_at) + 1}",
        f"game {crash.game}: run {crash.run} crashed; restart {recent + 1} of at most {policy.max_restarts} "
        f"in {minutes:g} min",
    )
