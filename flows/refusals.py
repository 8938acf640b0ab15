"""What ends a run for a reason its user can act on, said in one line, with the exit code that says which kind.

A setting or option to correct, a service that did not answer its tries, a stream that never
came or stopped changing: none of these is a bug, so none is a traceback. A flow that meets one
returns a Failed state whose message is that line (the Prefect UI shows it as the run's state;
the run's log says ``Finished in state Failed('...')``), and ``python -m flows.<name>`` prints it
last, as ``python -m flows.<name>: <the line>``, and exits with :data:`EXIT_CODES`' code for it
(docs/operations.md lists them). At DEBUG the cause's traceback follows in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect.states import Failed, State

from boxscore.identity import BadGameId
from boxscore.live import StreamTimeout, UnknownTeam
from boxscore.season import GameNotOver
from tasks import ServiceUnavailable
from tasks.stream import S3NotSet

T = TypeVar("T")

#: a setting or an option to correct: no retry mends it
SETTING = 2
#: a service did not answer its tries (at a run's start, or a finalize's retries)
SERVICE = 3
#: the stream did not appear within ``--wait-for-stream``, or stopped changing for ``--stall-timeout``
STREAM = 4

EXIT_CODES: dict[type[BaseException], int] = {
    S3NotSet: SETTING,
    UnknownTeam: SETTING,
    BadGameId: SETTING,
    GameNotOver: SETTING,
    ServiceUnavailable: SERVICE,
    StreamTimeout: STREAM,
}
#: the errors a flow refuses with, rather than raising: one line each, no traceback
REFUSALS = tuple(EXIT_CODES)


def exit_code(error: BaseException) -> int:
    """The exit code of a refusal (:data:`EXIT_CODES`, by its class or a base of it)."""
    return next(code for kind, code in EXIT_CODES.items() if isinstance(error, kind))


def said(error: BaseException) -> str:
    """The refusal's one line; a service that did not answer is followed by the setting that says where it is."""
    if isinstance(error, ServiceUnavailable) and error.setting:
        return f"{error} (check {error.setting})"
    return str(error)


def refused(error: BaseException, logger: Any) -> State[Any]:
    """The Failed state a flow returns for a refusal: the line as its message, the error as its
    result (so a caller of the flow as a function gets it raised). The traceback only at DEBUG."""
    logger.debug("why the run ended", exc_info=error)
    return Failed(message=said(error), data=error)


def refusing(body: Callable[[], T], logger: Any) -> T | State[Any]:
    """What ``body`` returns, or the Failed state of the refusal it raised (:func:`refused`)."""
    try:
        return body()
    except REFUSALS as error:
        return refused(error, logger)
