"""Register Drill's storage plugins for MinIO, MongoDB and SQL Server through Drill's REST API.

    python drill/register_plugins.py http://drill:8047

Each ``drill/storage-<name>.json`` is read as JSON and its placeholders are filled in from
``SIDEARM_PASSWORD`` by plain string replacement, never a pattern language, so every character
of the password arrives as written: ``${SIDEARM_PASSWORD}`` takes the password itself, and
``${SIDEARM_PASSWORD_URL}`` takes it percent-encoded, for a place inside a URL. The filled-in
plugin is sent as JSON (``json.dumps`` escapes quotes and backslashes). Only the standard
library is used: the compose service runs it from the project image.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import quote

PLACEHOLDER = "${SIDEARM_PASSWORD}"
URL_PLACEHOLDER = "${SIDEARM_PASSWORD_URL}"
HERE = Path(__file__).resolve().parent


def filled(value: Any, password: str) -> Any:
    """The plugin configuration with each placeholder in a string value replaced."""
    if isinstance(value, dict):
        return {key: filled(item, password) for key, item in value.items()}
    if isinstance(value, list):
        return [filled(item, password) for item in value]
    if isinstance(value, str):
        return value.replace(URL_PLACEHOLDER, quote(password, safe="")).replace(PLACEHOLDER, password)
    return value


def plugins(password: str, directory: Path = HERE) -> dict[str, dict[str, Any]]:
    """Every storage plugin of the directory by name, filled in."""
    return {
        path.stem.removeprefix("storage-"): filled(json.loads(path.read_text()), password)
        for path in sorted(directory.glob("storage-*.json"))
    }


def register(drill_url: str, password: str) -> None:
    """POST each plugin to ``<drill>/storage/<name>.json``; an HTTP error stops with its status."""
    for name, plugin in plugins(password).items():
        print(f"registering Drill storage plugin {name!r}", flush=True)
        request = urllib.request.Request(
            f"{drill_url.rstrip('/')}/storage/{name}.json",
            data=json.dumps(plugin).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            print(response.read().decode(errors="replace"), flush=True)


if __name__ == "__main__":
    password = os.environ.get("SIDEARM_PASSWORD", "")
    if not password:
        sys.exit("register_plugins: SIDEARM_PASSWORD is not set")
    register(sys.argv[1] if len(sys.argv) > 1 else "http://drill:8047", password)
