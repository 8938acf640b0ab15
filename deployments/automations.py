"""The automations beside the restart one: a live run whose heartbeats stop is marked Crashed, and
the game-day alerts.

    python -m deployments.automations [--window-seconds 90] [--alert-block slack-webhook/on-call]

A live run of a deployment sends a heartbeat every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY`` seconds
(30, set for the ``live`` deployment in ``prefect.yaml``). When its process is killed while its worker lives,
the worker marks it Crashed at once; when the machine dies with the worker on it, nothing does,
and Prefect would show it Running for good. This automation marks it Crashed when no heartbeat
and no end state has come for ``--window-seconds`` after a heartbeat; the restart automation
(the ``restart`` deployment's trigger in ``prefect.yaml``) then starts it again.

Both watch only the runs of a deployment (:data:`DEPLOYMENT_RUNS`): those are the runs the
restart flow can start again, and those a worker starts with the deployment's heartbeat. A run
started by hand (``python -m flows.live_boxscore``) beats every 180 s, Prefect's default, so a
90 s window would mark it Crashed while it writes box scores, and nothing could restart it.

The game-day alerts act on the live run's own events (:mod:`tasks.events`):

- :data:`GAME_BEHIND`: a game's box score trails a change of its stream (``sidearm.game.behind``,
  said after the run's ``behind_seconds``);
- :data:`SERVICE_DOWN`: a service the run needs (S3, Dask, MongoDB, SQL) went down and did not
  come back within a minute (``sidearm.service.down`` with no ``sidearm.service.back``).

Their action notifies the block named by ``--alert-block`` (``<block type>/<name>``, a block of
the user's: Slack, email, PagerDuty...), and they are created paused, so that the user sees one
fire in the UI before it pages anyone; with no block their action does nothing, and each alert
still shows in the event feed as the automation's trigger.

Run by ``deployments/deploy.sh``; run again, it replaces each automation of the same name.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from uuid import UUID

from prefect.automations import AutomationCore, ChangeFlowRunState, DoNothing, EventTrigger, Posture, SendNotification
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import StateType

#: the automation's name, as the UI shows it
LOST_HEARTBEAT = "mark a live run Crashed when its heartbeats stop"
#: three heartbeats missed: a slow API call or a busy moment is not a crash
WINDOW_SECONDS = 90.0
#: what ends a run's heartbeats without a crash
END_STATES = ("Completed", "Failed", "Cancelled", "Crashed")
#: the runs both automations watch: the live flow's runs of a deployment (a heartbeat names its
#: deployment by id only, so any deployment of the flow); prefect.yaml's restart trigger says the same
DEPLOYMENT_RUNS = [
    {"prefect.resource.role": "flow", "prefect.resource.name": "live-boxscore"},
    {"prefect.resource.role": "deployment"},
]


def lost_heartbeat(window_seconds: float = WINDOW_SECONDS) -> AutomationCore:
    """The automation, for the ``live-boxscore`` flow's runs of a deployment."""
    return AutomationCore(
        name=LOST_HEARTBEAT,
        description=(
            f"No heartbeat from a live-boxscore run of a deployment for {window_seconds:g} s: its process or "
            "machine is gone. "
            "It is marked Crashed, and the restart automation starts it again."
        ),
        trigger=EventTrigger(
            match={"prefect.resource.id": "prefect.flow-run.*"},
            match_related=DEPLOYMENT_RUNS,  # type: ignore[arg-type]
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", *(f"prefect.flow-run.{state}" for state in END_STATES)},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=window_seconds),
        ),
        actions=[
            ChangeFlowRunState(
                state=StateType.CRASHED,
                message=f"no heartbeat for {window_seconds:g} s: the run's process or machine is gone",
            )
        ],
    )


#: the alerts' names, as the UI shows them
GAME_BEHIND = "alert: a game's box score is behind its stream"
SERVICE_DOWN = "alert: a service the live run needs is down for a minute"
#: how long a service may be down before it is an alert
DOWN_SECONDS = 60.0


def game_behind(block: UUID | None = None) -> AutomationCore:
    """A live run said a game's box score trails a change of its stream."""
    return AutomationCore(
        name=GAME_BEHIND,
        description=(
            "A live run said a game's box score has not followed a change of its stream for its behind_seconds: "
            "see docs/operations.md, 'Game day'."
        ),
        trigger=EventTrigger(
            match={"prefect.resource.id": "sidearm.game.*"},
            expect={"sidearm.game.behind"},
            posture=Posture.Reactive,
            threshold=1,
            within=timedelta(0),
        ),
        actions=[
            _alert(block, "{{ event.resource.name }} is behind its stream by {{ event.payload.behind_seconds }} s")
        ],
        enabled=block is None,
    )


def service_down(block: UUID | None = None, down_seconds: float = DOWN_SECONDS) -> AutomationCore:
    """A service went down in a live run and did not come back within ``down_seconds``."""
    return AutomationCore(
        name=SERVICE_DOWN,
        description=(
            f"A service a live run needs (S3, Dask, MongoDB, SQL) failed and has not answered for {down_seconds:g} s: "
            "see docs/operations.md, 'Game day'."
        ),
        trigger=EventTrigger(
            match={"prefect.resource.id": "sidearm.service.*"},
            after={"sidearm.service.down"},
            expect={"sidearm.service.back"},
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=down_seconds),
        ),
        actions=[_alert(block, f"a service the live run needs has been down for {down_seconds:g} s")],
        enabled=block is None,
    )


def _alert(block: UUID | None, body: str) -> DoNothing | SendNotification:
    if block is None:
        return DoNothing()
    return SendNotification(block_document_id=block, subject="sidearm: {{ automation.name }}", body=body)


def block_id(name: str) -> UUID:
    """The id of the user's notification block ``<block type>/<name>``."""
    block_type, _, block_name = name.partition("/")
    if not block_name:
        raise SystemExit(f"--alert-block {name!r}: give it as <block type>/<name>, e.g. slack-webhook/on-call")
    with get_client(sync_client=True) as client:
        return client.read_block_document_by_name(block_name, block_type).id


def install(automation: AutomationCore) -> str:
    """Create ``automation`` on the server of ``PREFECT_API_URL``, replacing any of its name."""
    with get_client(sync_client=True) as client:
        for existing in client.read_automations_by_name(automation.name):
            client.delete_automation(existing.id)
        return str(client.create_automation(automation))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deployments.automations", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=WINDOW_SECONDS,
        help=f"seconds without a heartbeat before a live run is marked Crashed (default: {WINDOW_SECONDS:g})",
    )
    parser.add_argument(
        "--alert-block",
        default="",
        help="the notification block the game-day alerts notify, as <block type>/<name> (created paused); "
        "none: the alerts only show in the UI",
    )
    args = parser.parse_args()
    window = args.window_seconds
    print(f"automation {LOST_HEARTBEAT!r} ({window:g} s): {install(lost_heartbeat(window))}")
    block = block_id(args.alert_block) if args.alert_block else None
    for alert in (game_behind(block), service_down(block)):
        state = "paused: enable it in the UI" if not alert.enabled else "shown in the UI, notifies nobody"
        print(f"automation {alert.name!r} ({state}): {install(alert)}")


if __name__ == "__main__":
    main()
