"""The moments worth an alert, as Prefect events: they show in the UI's event feed, and
automations (``deployments/automations.py``) act on them.

Each event's resource is its game (``sidearm.game.<game_id>``) or service
(``sidearm.service.<name>``); Prefect's events worker adds the flow run, its flow and deployment
as related resources. Emitting is best-effort: the events worker sends in its own thread, so a
Prefect API that does not answer never delays a tick, and a failure to hand an event over is
said once, not once per event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from boxscore.watch import Moment


class Announcer:
    """Hands each moment to Prefect's events worker, secrets masked from what it says."""

    def __init__(self, mask: Callable[[str], str], warn: Callable[[str], None], emit: Callable[..., Any]) -> None:
        self._mask, self._warn, self._emit = mask, warn, emit
        self._warned = False

    def announce(self, moment: Moment) -> None:
        payload = {key: self._mask(value) if isinstance(value, str) else value for key, value in moment.payload.items()}
        try:
            self._emit(
                event=moment.event,
                resource={"prefect.resource.id": moment.resource, "prefect.resource.name": self._mask(moment.name)},
                payload=payload,
            )
        except Exception as error:  # noqa: BLE001 - an event is never worth a tick
            if not self._warned:
                self._warned = True
                self._warn(
                    f"Prefect events are not sent ({type(error).__name__}: {self._mask(str(error))}); the run goes on"
                )
