"""Every constraint of ``boxscore.schema.json`` refuses a document that breaks just it.

The schema is walked node by node beside the recorded game's final document (counted by hand in
tests/recorded_game.py); for each keyword found (``required``, ``additionalProperties``, ``type``,
``enum``, ``const``, ``pattern``, ``minimum``/``maximum``, ``minItems``/``maxItems``,
``maxLength``, ``oneOf``) one copy of the document breaks that constraint alone, and the schema,
read by ``jsonschema`` as a validator reads it, must refuse it by that keyword.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.recorded_game import STORED_FINAL

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "boxscore.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
#: values just outside each pattern (a loosened pattern accepts one of them)
NEAR_MISSES = {
    "^([0-5][0-9]:[0-5][0-9]|60:00)$": ["60:01", "61:00", "5:00", "00:60", "bad value!"],
    "^(1[0-4]:[0-5][0-9]|0[0-9]:[0-5][0-9]|15:00)$": ["15:01", "16:00", "1:00", "00:60", "bad value!"],
    "^[0-9]{1,3}$": ["1234", "", "1a", " 7"],
    "^[A-Za-z0-9_-]{1,64}$": ["", "a" * 65, "a b", "g/1"],
    "^[A-Za-z0-9_-]{1,64}/[0-9]+$": ["g1/x", "g1/", "/1", "a b/1"],
    "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$": [
        "2026-03-14T18:05:09Z",
        "2026-03-14T18:05:09.250000+00:00",
        "2026-03-14 18:05:09.250000Z",
        "2026-03-14T18:05:09.25Z",
    ],
}
WRONG_TYPE = {"integer": "7", "number": "0.5", "string": 7, "boolean": "true", "object": [], "array": {}, "null": 0}

Path_ = tuple[Any, ...]
Violation = tuple[str, str, Any]  # (keyword, where, the broken document)


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].removeprefix("#/$defs/")
        return {**SCHEMA["$defs"][name], **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _set(document: Any, path: Path_, value: Any) -> Any:
    broken = copy.deepcopy(document)
    if not path:
        return value
    target = broken
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return broken


def _get(document: Any, path: Path_) -> Any:
    for step in path:
        document = document[step]
    return document


def violations(node: dict[str, Any], path: Path_, document: Any) -> Iterator[Violation]:
    """One broken document per constraint of ``node`` (at ``path`` of ``document``), then its children's."""
    node = _resolve(node)
    value = _get(document, path)
    where = "/".join(map(str, path)) or "(the document)"
    for name in node.get("required", []):
        broken = copy.deepcopy(document)
        del _get(broken, path)[name]
        yield "required", f"{where}: {name}", broken
    if node.get("additionalProperties") is False:
        yield "additionalProperties", where, _set(document, path, {**value, "extra": 1})
    if "type" in node:
        kinds = node["type"] if isinstance(node["type"], list) else [node["type"]]
        wrong = next(v for k, v in WRONG_TYPE.items() if k not in kinds and not _is(v, kinds))
        yield "type", where, _set(document, path, wrong)
    if "enum" in node:
        yield "enum", where, _set(document, path, "nope")
    if "const" in node:
        yield "const", where, _set(document, path, node["const"] + 1)
    for bad in NEAR_MISSES.get(node.get("pattern", ""), []):
        yield "pattern", f"{where} = {bad!r}", _set(document, path, bad)
    if "minimum" in node:
        below = node["minimum"] - (1 if node.get("type") == "integer" else 0.001)
        yield "minimum", where, _set(document, path, below)
    if "maximum" in node:
        above = node["maximum"] + (1 if node.get("type") == "integer" else 0.001)
        yield "maximum", where, _set(document, path, above)
    if "minItems" in node:
        yield "minItems", where, _set(document, path, value[: node["minItems"] - 1])
    if "maxItems" in node:
        filler = value[0] if value else "a line"
        yield "maxItems", where, _set(document, path, [filler] * (node["maxItems"] + 1))
    if "maxLength" in node:
        yield "maxLength", where, _set(document, path, "x" * (node["maxLength"] + 1))
    if "oneOf" in node:
        yield "oneOf", f"{where} = -1", _set(document, path, -1)
        yield "oneOf", f"{where} = 'g1/x'", _set(document, path, "g1/x")
    for name, child in node.get("properties", {}).items():
        yield from violations(child, (*path, name), document)
    if "items" in node:
        if not value:  # an empty list (no rejected line): give it one good item to break
            document = _set(document, path, ["a line"])
        yield from violations(node["items"], (*path, 0), document)


def _is(value: Any, kinds: list[str]) -> bool:
    """Whether ``value`` is of one of the JSON types (an integer is a number)."""
    checks = {"integer": int, "number": (int, float), "string": str, "boolean": bool, "null": type(None)}
    return any(isinstance(value, checks[k]) for k in kinds if k in checks)


CASES = list(violations(SCHEMA, (), STORED_FINAL))


def test_the_recorded_game_s_final_document_is_accepted() -> None:
    assert list(VALIDATOR.iter_errors(STORED_FINAL)) == []


#: the contract's constraints counted by hand from the schema as documented (a side, a quarter line
#: and a player line appear twice: home and away), so that one loosened or removed is missed here
BY_HAND = {
    "required": 15 + 9 + 4 + 3 + 2 * (11 + 3 + 6),  # document, goal, game_flow, quality; side, quarter, player
    "additionalProperties": 4 + 2 * 3,  # document, goal, game_flow, quality; side, quarter, player
    "enum": 2,  # each side's status
    "const": 1,  # schema_version
    # timestamp, period_clock, a goal's clock and jersey, game_id; each side's jerseys; stored_at, seen_at
    "pattern": 5 + 5 + 5 + 4 + 4 + 2 * 4 + 2 * 4,
    "maximum": 4 + 4,  # the quarter (document, goal, each side's quarter line); pct (each side, each player)
    "minItems": 2,  # each side's four quarters
    "maxItems": 1 + 2,  # the examples; each side's four quarters
    "maxLength": 1,  # an example's 120 characters
    "oneOf": 2,  # _id: neither a non-negative integer nor '<game>/<event>'
}


def test_every_constraint_of_the_contract_is_broken_once() -> None:
    from collections import Counter

    counted = Counter(keyword for keyword, _, _ in CASES)
    assert {k: v for k, v in counted.items() if k in BY_HAND} == BY_HAND
    assert counted["type"] >= 70 and counted["minimum"] >= 30


@pytest.mark.parametrize(("keyword", "where", "broken"), CASES, ids=[f"{k} {w}" for k, w, _ in CASES])
def test_a_document_breaking_one_constraint_is_refused_by_it(keyword: str, where: str, broken: Any) -> None:
    refused = {error.validator for error in VALIDATOR.iter_errors(broken)}
    assert keyword in refused, f"{where}: refused by {refused or 'nothing'}"
