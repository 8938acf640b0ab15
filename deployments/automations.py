"""The heartbeat automation: a live run whose heartbeats stop is marked Crashed.

    python -m deployments.automations [--window-seconds 90]

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

Run by ``deployments/deploy.sh``; run again, it replaces the automation of the same name.
"""

from __future__ import annotations

import argparse
from datetime import timedelta

from prefect.automations import AutomationCore, ChangeFlowRunState, EventTrigger, Posture
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
    window = parser.parse_args().window_seconds
    print(f"automation {LOST_HEARTBEAT!r} ({window:g} s): {install(lost_heartbeat(window))}")


if __name__ == "__main__":
    main()
