"""The automations watch the live flow's runs of a deployment only, as Prefect's server matches events.

Each trigger is read as the server reads it (``prefect.server.events.schemas.automations``) and
given the events Prefect emits for a run, shaped as its engine and its server shape them: a
heartbeat names the run's flow and its deployment by id; a state change names the flow, the
deployment with its name, the work pool and queue. A run started by hand has no deployment: a
90 s heartbeat window would mark it Crashed (it beats every 180 s) and nothing could restart it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import yaml
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.server.events.schemas.automations import EventTrigger
from prefect.server.events.schemas.events import ReceivedEvent

from deployments.automations import DEPLOYMENT_RUNS, game_behind, lost_heartbeat, service_down

PROJECT = Path(__file__).resolve().parents[2]
FLOW, DEPLOYMENT = str(uuid4()), str(uuid4())


def event(name: str, deployed: bool, flow: str = "live-boxscore") -> ReceivedEvent:
    """A flow run's event as Prefect emits it, for a run of ``flow`` started by a deployment or by hand."""
    related: list[dict[str, Any]] = [
        {"prefect.resource.id": f"prefect.flow.{FLOW}", "prefect.resource.role": "flow", "prefect.resource.name": flow}
    ]
    if deployed:
        deployment = {"prefect.resource.id": f"prefect.deployment.{DEPLOYMENT}", "prefect.resource.role": "deployment"}
        if name != "prefect.flow-run.heartbeat":  # the server's state events name it; the engine's heartbeat does not
            deployment["prefect.resource.name"] = "live"
        pool = {"prefect.resource.id": f"prefect.work-pool.{uuid4()}", "prefect.resource.role": "work-pool"}
        related += [deployment, {**pool, "prefect.resource.name": "gamestreams"}]
    related.append({"prefect.resource.id": "prefect.tag.restarted", "prefect.resource.role": "tag"})
    resource = {"prefect.resource.id": f"prefect.flow-run.{uuid4()}", "prefect.resource.name": "brave-otter"}
    if name == "prefect.flow-run.Crashed":
        resource["prefect.state-message"] = "Process exited with status code: -9"
    return ReceivedEvent(occurred=datetime.now(UTC), event=name, resource=resource, related=related, id=uuid4())


def heartbeat_trigger() -> EventTrigger:
    return EventTrigger.model_validate(lost_heartbeat(90).trigger.model_dump(mode="json"))


def restart_trigger() -> EventTrigger:
    project = yaml.safe_load((PROJECT / "prefect.yaml").read_text())
    (restart,) = [d for d in project["deployments"] if d["name"] == "restart"]
    (trigger,) = restart["triggers"]
    client_side = DeploymentEventTrigger(**trigger)  # as `prefect deploy` reads it
    return EventTrigger.model_validate(client_side.model_dump(mode="json", exclude={"name", "description", "enabled"}))


@pytest.mark.parametrize("name", ["prefect.flow-run.heartbeat", "prefect.flow-run.Completed"])
def test_the_heartbeat_automation_watches_a_deployment_s_live_runs_and_never_one_started_by_hand(name: str) -> None:
    trigger = heartbeat_trigger()
    assert trigger.covers(event(name, deployed=True))
    assert not trigger.covers(event(name, deployed=False))
    assert not trigger.covers(event(name, deployed=True, flow="finalize-game"))


def test_the_restart_automation_restarts_a_deployment_s_crashed_live_runs_and_never_one_started_by_hand() -> None:
    trigger = restart_trigger()
    assert trigger.covers(event("prefect.flow-run.Crashed", deployed=True))
    assert not trigger.covers(event("prefect.flow-run.Crashed", deployed=False))
    assert not trigger.covers(event("prefect.flow-run.Crashed", deployed=True, flow="gamestream"))


def test_prefect_yaml_s_restart_trigger_watches_the_runs_the_heartbeat_automation_watches() -> None:
    project = yaml.safe_load((PROJECT / "prefect.yaml").read_text())
    (restart,) = [d for d in project["deployments"] if d["name"] == "restart"]
    assert restart["triggers"][0]["match_related"] == DEPLOYMENT_RUNS


def moment(name: str, resource: str) -> ReceivedEvent:
    """A live run's event as tasks.events sends it, with the related resources Prefect's events worker adds."""
    related = [
        {"prefect.resource.id": f"prefect.flow-run.{uuid4()}", "prefect.resource.role": "flow-run"},
        {
            "prefect.resource.id": f"prefect.flow.{FLOW}",
            "prefect.resource.role": "flow",
            "prefect.resource.name": "live-boxscore",
        },
    ]
    return ReceivedEvent(
        occurred=datetime.now(UTC),
        event=name,
        resource={"prefect.resource.id": resource, "prefect.resource.name": resource.rsplit(".", 1)[-1]},
        related=related,
        id=uuid4(),
    )


def server_side(automation: Any) -> EventTrigger:
    return EventTrigger.model_validate(automation.trigger.model_dump(mode="json"))


def test_the_game_behind_alert_fires_on_a_game_said_behind_and_nothing_else() -> None:
    trigger = server_side(game_behind())
    assert trigger.covers(moment("sidearm.game.behind", "sidearm.game.g1"))
    assert trigger.posture == "Reactive" and trigger.expect == {"sidearm.game.behind"} and trigger.threshold == 1
    for other in ("sidearm.game.started", "sidearm.game.final", "sidearm.game.caught-up"):
        assert other not in trigger.expect
    assert not trigger.covers(moment("sidearm.service.down", "sidearm.service.mongodb"))


def test_the_service_down_alert_waits_a_minute_for_the_service_to_come_back() -> None:
    trigger = server_side(service_down())
    assert trigger.covers(moment("sidearm.service.down", "sidearm.service.mongodb"))
    assert trigger.covers(moment("sidearm.service.back", "sidearm.service.mongodb"))
    assert not trigger.covers(moment("sidearm.game.behind", "sidearm.game.g1"))
    assert (trigger.posture, trigger.after, trigger.expect) == (
        "Proactive",
        {"sidearm.service.down"},
        {"sidearm.service.back"},
    )
    assert trigger.within.total_seconds() == 60 and trigger.for_each == {"prefect.resource.id"}


def test_an_alert_with_the_user_s_block_notifies_it_and_is_created_paused() -> None:
    block = uuid4()
    for alert in (game_behind(block), service_down(block)):
        (action,) = alert.actions
        assert (action.type, action.block_document_id, alert.enabled) == ("send-notification", block, False)
    for alert in (game_behind(), service_down()):
        assert ([action.type for action in alert.actions], alert.enabled) == (["do-nothing"], True)
