"""A live run started by hand is not the restart flow's to start again: the restart run says why
and completes (tests/unit/test_automations.py shows the automations never pick such a run).

On the session's Prefect API: a run of the live flow made as ``python -m flows.live_boxscore``
makes it, with no deployment, then Crashed, as Ctrl-C or a killed terminal leaves it.
"""

from __future__ import annotations

from uuid import uuid4

from prefect.client.orchestration import get_client
from prefect.states import Crashed

from flows.live_boxscore import live_boxscore
from flows.restart import restart_live_run


def test_a_restart_run_for_a_run_started_by_hand_or_gone_completes_saying_why_in_one_line(prefect_api: None) -> None:
    with get_client(sync_client=True) as client:
        by_hand = client.create_flow_run(live_boxscore, parameters={}, state=Crashed(message="interrupted"))
    state = restart_live_run(crashed_run=f"prefect.flow-run.{by_hand.id}", return_state=True)
    assert state.is_completed(), state
    assert state.result() == (
        f"flow run {by_hand.id} was started by hand, not by a deployment: there is no deployment to start again; "
        "start it again as it was started"
    )
    gone = uuid4()
    state = restart_live_run(crashed_run=str(gone), return_state=True)
    assert (
        state.is_completed() and state.result() == f"flow run {gone} does not exist (deleted?): nothing to start again"
    )
