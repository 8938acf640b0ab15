"""The Prefect API's flow runs, as the restart flow needs them: read, start again, leave Crashed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.objects import StateType
from prefect.deployments import run_deployment
from prefect.exceptions import ObjectNotFound
from prefect.states import Crashed

from boxscore.restarts import restart_of

#: how an event names a flow run: ``prefect.flow-run.<id>``
RESOURCE_PREFIX = "prefect.flow-run."


@dataclass(frozen=True)
class FlowRunRecord:
    """What the restart rule reads of one flow run."""

    id: str
    name: str
    tags: tuple[str, ...]
    parameters: dict[str, Any]
    deployment_id: UUID | None
    created: datetime
    crashed: bool

    @property
    def restart_of(self) -> str | None:
        return restart_of(self.tags)


@dataclass
class FlowRuns:
    """The Prefect API this process talks to (``PREFECT_API_URL``), through one sync client."""

    client: SyncPrefectClient

    @classmethod
    @contextmanager
    def connect(cls) -> Iterator[FlowRuns]:
        with get_client(sync_client=True) as client:
            yield cls(client)

    def read(self, run: str) -> FlowRunRecord | None:
        """One flow run, by its id or its event resource id (``prefect.flow-run.<id>``); ``None``
        when the API has no such run."""
        try:
            found = self.client.read_flow_run(UUID(run.removeprefix(RESOURCE_PREFIX)))
        except ObjectNotFound:
            return None
        return FlowRunRecord(
            str(found.id),
            found.name,
            tuple(found.tags or ()),
            dict(found.parameters or {}),
            found.deployment_id,
            found.created or datetime.now().astimezone(),
            found.state is not None and found.state.type == StateType.CRASHED,
        )

    def chain(self, run: FlowRunRecord) -> list[FlowRunRecord]:
        """``run`` and the runs it restarted, one before the other, newest first (the last one is
        the run a person or a schedule started)."""
        chain = [run]
        while (earlier := chain[-1].restart_of) is not None and (found := self.read(earlier)) is not None:
            chain.append(found)
        return chain

    def start_again(self, run: FlowRunRecord, tags: tuple[str, ...], name: str) -> str:
        """A new run of ``run``'s deployment with its parameters; one per crashed run, however often asked."""
        assert run.deployment_id is not None, f"flow run {run.id} has no deployment to run again"
        started = run_deployment(
            run.deployment_id,
            parameters=run.parameters,
            flow_run_name=name,
            tags=list(tags),
            idempotency_key=f"restart-of-{run.id}",
            timeout=0,
            as_subflow=False,
        )
        return str(started.id)

    def leave_crashed(self, run: FlowRunRecord, message: str) -> None:
        """Keep ``run`` Crashed, with ``message`` as its state's message (what the UI shows)."""
        self.client.set_flow_run_state(UUID(run.id), Crashed(message=message), force=True)
