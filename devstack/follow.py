"""Run the live flow in the background and know, without sleeping, when it is polling.

The demo and the tests start the live flow first and the simulator only once the flow reports
that it waits for the stream: every change of the stream is then observed, and the two flows
never race to start Prefect's temporary API server.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable
from typing import Any

from boxscore.live import WAITING

POLLING_MESSAGE = WAITING  # what the live loop says while no stream exists yet


class _PollingWatcher(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.polling = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(POLLING_MESSAGE):
            self.polling.set()


class Background:
    """A flow call in a thread: ``result()`` joins it and returns its value or raises its error.

    The call runs in a copy of the starter's context: Prefect's settings are context variables,
    so a flow started here talks to the API its starter was set to, as in the starter's thread.
    """

    def __init__(self, call: Callable[[], Any]) -> None:
        self._outcome: list[Any] = []
        self._context = contextvars.copy_context()
        self._thread = threading.Thread(target=self._run, args=(call,), daemon=True)

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self._outcome.append((True, self._context.run(call)))
        except BaseException as error:  # noqa: BLE001 - re-raised by result()
            self._outcome.append((False, error))

    def start(self) -> Background:
        self._thread.start()
        return self

    def running(self) -> bool:
        return self._thread.is_alive()

    def result(self, timeout: float | None = None) -> Any:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise TimeoutError(f"the background flow did not finish within {timeout} s")
        ok, value = self._outcome[0]
        if not ok:
            raise value
        return value


def start_polling(call: Callable[[], Any], timeout: float = 180.0) -> Background:
    """Start the live flow ``call`` in a thread; return once it polls for a missing stream."""
    watcher = _PollingWatcher()
    logger = logging.getLogger("prefect.flow_runs")
    logger.addHandler(watcher)
    try:
        background = Background(call).start()
        while not watcher.polling.wait(0.5):
            if not background.running():
                background.result()  # raises the flow's error
                raise RuntimeError("the live flow finished before it polled for the stream")
            timeout -= 0.5
            if timeout <= 0:
                raise TimeoutError("the live flow did not start polling for the stream")
        return background
    finally:
        logger.removeHandler(watcher)
