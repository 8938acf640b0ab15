"""The moments worth an alert, as Prefect events: they show in the UI's event feed, and
automations (``deployments/automations.py``) act on them.

Each event's resource is its game (``sidearm.game.<game_id>``) or service
(``sidearm.service.<name>``); Prefect's events worker adds the flow run, its flow and deployment
as related resources. Emitting is best-effort and off the loop: the loop hands each moment to
a thread of the announcer's own, which emits it in the run's context (a run's first reads of ten
thousand games are ten thousand "started" moments, some 2 s of building events that held every
heard game back), and Prefect's events worker sends it in its own; so a Prefect API that does not answer
never delays a tick, and a failure to hand an event over is said once, not once per event.
:meth:`Announcer.close` hands over what is left, within a bound, when the run ends.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any

from boxscore.watch import Moment

_CLOSE = None  # what tells the announcer's thread that the run is over


class Announcer:
    """Hands each moment to Prefect's events worker, from a thread of its own, secrets masked."""

    def __init__(self, mask: Callable[[str], str], warn: Callable[[str], None], emit: Callable[..., Any]) -> None:
        self._mask, self._warn, self._emit = mask, warn, emit
        self._warned = False
        self._context = contextvars.copy_context()  # the flow run's: its events are related to it
        self._moments: queue.SimpleQueue[Moment | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._announce_all, name="sidearm-events", daemon=True)
        self._thread.start()

    def announce(self, moment: Moment) -> None:
        """Hand the moment over; it is emitted soon after, in the order handed over."""
        self._moments.put(moment)

    def close(self, timeout: float = 10.0) -> None:
        """Emit what is left (within ``timeout``), then stop the thread."""
        self._moments.put(_CLOSE)
        self._thread.join(timeout)

    def _announce_all(self) -> None:
        while (moment := self._moments.get()) is not _CLOSE:
            self._context.run(self._announce, moment)

    def _announce(self, moment: Moment) -> None:
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
