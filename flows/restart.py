"""Start a crashed live run again: what the restart automation runs (``prefect.yaml``, ``restart``).

    python -m flows.restart --crashed-run <flow run id>

The restart automation runs this flow for each Crashed run of ``live-boxscore``. It starts the
crashed run's deployment again with the same parameters, tagged ``restarted`` and
``restart-of:<crashed run id>`` (the UI links the two through the tag), unless the game has been
restarted ``max_restarts`` times within ``window_seconds``: then the crashed run is left Crashed
with a message naming the game (:mod:`boxscore.restarts`). The new run resumes as a manual
restart does, from the stored game records.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import flow, get_run_logger

from boxscore.restarts import Crash, LeaveCrashed, NothingToDo, Restart, RestartPolicy, decide
from tasks.flow_runs import FlowRuns
from tasks.settings import Settings

POLICY = RestartPolicy()


@flow(name="restart-live-run")
def restart_live_run(
    crashed_run: str, max_restarts: int = POLICY.max_restarts, window_seconds: float = POLICY.window_seconds
) -> str:
    """Start ``crashed_run`` (a flow run id) again, or leave it Crashed; returns what was done."""
    logger = get_run_logger()
    policy = RestartPolicy(max_restarts, window_seconds)
    with FlowRuns.connect() as runs:
        crashed = runs.read(crashed_run)
        if crashed is None:
            reason = f"flow run {crashed_run} does not exist (deleted?): nothing to start again"
            logger.info("%s", reason)
            return reason
        chain = runs.chain(crashed)
        crash = Crash(
            crashed.id,
            game_of(crashed.parameters.get("game_id")),
            chain[-1].name,
            crashed.crashed,
            tuple(run.created.timestamp() for run in chain if run.restart_of is not None),
            deployed=crashed.deployment_id is not None,
        )
        match decide(crash, datetime.now(UTC).timestamp(), policy):
            case NothingToDo(reason):
                logger.info("%s", reason)
                return reason
            case Restart(tags, name, reason):
                started = runs.start_again(crashed, tags, name)
                logger.info("%s: started flow run %s", reason, started)
                return started
            case LeaveCrashed(message):
                runs.leave_crashed(crashed, message)
                logger.error("flow run %s: %s", crashed.name, message)
                return message


def game_of(parameter: str | None) -> str:
    """The game a live run follows, as a person names it: its id when one was chosen, else its stream."""
    settings = Settings.from_env()
    return settings.chosen_game_id(parameter) or settings.gamestream_url


DESCRIPTION = """\
Start a crashed live run again with its parameters, or leave it Crashed with a message naming the
game once it has been restarted max_restarts times within window_seconds. The restart automation
runs this for every Crashed run of live-boxscore (prefect.yaml, the restart deployment)."""

HELPS = {
    "crashed_run": "the Crashed flow run's id (or its event resource id, prefect.flow-run.<id>)",
    "max_restarts": "restarts of one game allowed within the window",
    "window_seconds": "the window the restarts are counted in, in seconds",
}

if __name__ == "__main__":
    from flows.cli import parse, parser_for

    print(restart_live_run(**parse(parser_for(restart_live_run, DESCRIPTION, HELPS))))
