"""The command line of each flow, made from the flow's own signature.

``python -m flows.<name> --help`` prints what the flow takes and exits before anything is
touched: no settings are read and no Prefect server or service is reached. Every parameter of
the flow is an option, named after it (``poll_interval`` -> ``--poll-interval``), with the
signature's default, so the defaults are written once, in the flow. A boolean is a switch that
turns its default around (``finalize=True`` -> ``--no-finalize``, "do not finalize ...").
"""

from __future__ import annotations

import argparse
import inspect
import sys
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from prefect import Flow


def option(name: str) -> str:
    """``poll_interval`` -> ``--poll-interval``."""
    return "--" + name.replace("_", "-")


def parser_for(
    flow: Flow[..., Any], description: str, helps: Mapping[str, str], epilog: str = ""
) -> argparse.ArgumentParser:
    """An argument parser with one option per parameter of ``flow``; each needs its help text.

    ``helps`` says what a parameter is and in which unit; the default is added to it.
    """
    parser = argparse.ArgumentParser(
        prog=f"python -m {_module(flow)}",
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    hints = typing.get_type_hints(flow.fn)
    for name, parameter in inspect.signature(flow.fn).parameters.items():
        if name not in helps:
            raise LookupError(f"{flow.name}: the parameter {name!r} has no help text")
        default, kind = parameter.default, _plain(hints[name])
        if kind is bool:
            switch = option(name) if not default else "--no-" + name.replace("_", "-")
            # a switch says what it does: a default that is on is a switch that leaves it undone
            said = f"do not {helps[name]} (without this switch, the run does)" if default else f"{helps[name]}"
            parser.add_argument(switch, dest=name, action="store_false" if default else "store_true", help=said)
        elif kind is list:
            parser.add_argument(
                option(name), dest=name, nargs="+", default=default, metavar="ID", help=f"{helps[name]} (default: all)"
            )
        elif default is inspect.Parameter.empty:
            parser.add_argument(option(name), dest=name, type=kind, required=True, help=f"{helps[name]} (required)")
        else:
            shown = "unset" if default is None else default
            parser.add_argument(
                option(name), dest=name, type=kind, default=default, help=f"{helps[name]} (default: {shown})"
            )
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> dict[str, Any]:
    """The flow's keyword arguments from the command line."""
    return vars(parser.parse_args(argv))


def run_from_command_line(
    flow: Flow[..., Any],
    description: str,
    helps: Mapping[str, str],
    epilog: str = "",
    checks: Callable[[], None] | None = None,
) -> Any:
    """``python -m flows.<name>``: parse the options, run ``checks`` before Prefect starts (a setting
    that can never work is said before a temporary server boots), then run the flow.

    A refusal (:mod:`flows.refusals`: a setting to correct, a service that did not answer, a
    stream that never came) is the last line, naming what to change, and its exit code.
    """
    from flows.refusals import REFUSALS, exit_code, said

    parser = parser_for(flow, description, helps, epilog)
    arguments = parse(parser)
    try:
        if checks is not None:
            checks()
        return flow(**arguments)
    except REFUSALS as refused:
        print(f"{parser.prog}: {said(refused)}", file=sys.stderr)
        sys.exit(exit_code(refused))


def _module(flow: Flow[..., Any]) -> str:
    """The flow's module as ``python -m`` names it (``__main__`` when it is the one being run)."""
    module = flow.fn.__module__
    spec = getattr(sys.modules.get(module), "__spec__", None)
    return spec.name if module == "__main__" and spec is not None else module


def _plain(hint: Any) -> type:
    """``float`` -> float, ``str | None`` -> str, ``list[str] | None`` -> list."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        (hint,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    origin = typing.get_origin(hint)
    return origin if origin is not None else hint
