"""``make compose-env``: the two settings files of the compose stack, from one password.

``.env`` is docker compose's alone (``SIDEARM_PASSWORD``, ``COMPOSE_PROJECT_NAME``); the flows and
the page on this host never read it. ``sidearm.compose.env`` is the host's settings for the
compose stack (``sidearm.env.example`` with the password filled in), read when
``SIDEARM_ENV_FILE=sidearm.compose.env``. So the local stack (``make up``, ``make demo``) and
compose live side by side in one checkout.

The password is ``SIDEARM_PASSWORD`` from the environment, or a random one, any printable
characters. The two files have two readers with two sets of rules, and each is written for its
own: ``.env`` for Docker Compose (Go, ``docker compose``), which reads a double-quoted value with
a backslash, a double quote and a dollar sign escaped (a ``$`` alone would start a variable);
``sidearm.compose.env`` for python-dotenv, the host's reader, which expands ``${...}`` even in
single quotes and takes an escaped backslash and single quote there. No one ``.env`` reads the
same in both, so Compose v1 (Python, python-dotenv's rules) is not supported (README). Each file
is read back before it is kept.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

from dotenv import dotenv_values

PASSWORD = "SIDEARM_PASSWORD"
COMPOSE_FILE = ".env"
HOST_FILE = "sidearm.compose.env"
HOST_TEMPLATE = "sidearm.env.example"
#: the host settings that carry the stack's one password
HOST_PASSWORDS = ("S3_SECRET_KEY", "MONGO_PASSWORD")
#: characters no line of a ``.env`` can hold: line breaks and the other control characters
UNWRITABLE = re.compile(r"[\x00-\x1f\x7f]")


class PasswordRefused(ValueError):
    """A chosen password that the settings files cannot carry exactly; the message is one line."""


def quoted(value: str) -> str:
    """``value`` as a single-quoted value that python-dotenv (the host's settings) reads back exactly.

    ``${`` would start an expansion: it is written as ``${:-$}{``, the expansion of an unnamed,
    unset variable with the default ``$``, followed by a literal ``{``.
    """
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("${", "${:-$}{")
    return f"'{escaped}'"


#: what Docker Compose takes as an escape in a double-quoted ``.env`` value, and what it stands for
COMPOSE_ESCAPES = {"\\": "\\\\", '"': '\\"', "$": "\\$"}
COMPOSE_LINE = re.compile(rf'^{PASSWORD}="((?:[^"\\]|\\.)*)"$', re.MULTILINE)


def compose_quoted(value: str) -> str:
    """``value`` as a double-quoted ``.env`` value that Docker Compose reads back exactly: a
    backslash, a double quote and a dollar sign escaped, anything else as it is."""
    return '"' + "".join(COMPOSE_ESCAPES.get(char, char) for char in value) + '"'


def compose_password(text: str) -> str | None:
    """The password of a ``.env`` as :func:`compose_quoted` writes it (``None``: no such line)."""
    found = COMPOSE_LINE.search(text)
    return None if found is None else re.sub(r"\\(.)", r"\1", found.group(1))


def checked(password: str) -> str:
    """The password, or :class:`PasswordRefused` saying in one line why it cannot be used."""
    if not password:
        raise PasswordRefused(f"{PASSWORD} is empty: unset it for a random password, or choose one")
    if UNWRITABLE.search(password):
        raise PasswordRefused(f"{PASSWORD} holds a line break or another control character, which a .env line cannot")
    return password


def sql_server_note(password: str) -> str | None:
    """What SQL Server will say of this as its ``sa`` password (compose's ``mssql`` refuses to start)."""
    kinds = sum(bool(re.search(p, password)) for p in ("[A-Z]", "[a-z]", "[0-9]", "[^A-Za-z0-9]"))
    if len(password) >= 8 and kinds >= 3:
        return None
    return "note: SQL Server's sa password needs 8 characters and three of upper, lower, digit, symbol"


def write(directory: Path, password: str) -> list[Path]:
    """Write ``.env`` (kept when it exists) and the host's ``sidearm.compose.env``; the paths written."""
    written: list[Path] = []
    compose = directory / COMPOSE_FILE
    if not compose.exists():
        compose.write_text(f"{PASSWORD}={compose_quoted(password)}\nCOMPOSE_PROJECT_NAME=sidearm\n")
        if compose_password(compose.read_text()) != password:
            compose.unlink()
            raise PasswordRefused(f"{PASSWORD} does not read back unchanged from {COMPOSE_FILE}")
        written.append(compose)
    kept = compose_password(compose.read_text())  # a kept .env's password, or the one just written
    if kept is None:
        refused = f'{COMPOSE_FILE} holds no {PASSWORD}="..." line: remove it and run make compose-env again'
        raise PasswordRefused(refused)
    password = kept
    lines = []
    for line in (directory / HOST_TEMPLATE).read_text().splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={quoted(password)}" if name in HOST_PASSWORDS else line)
    host = directory / HOST_FILE
    host.write_text("\n".join(lines) + "\n")
    written.append(host)
    read_back = dotenv_values(host)
    if any(read_back.get(name) != password for name in HOST_PASSWORDS):
        raise PasswordRefused(f"{PASSWORD} does not read back unchanged from {HOST_FILE}")
    return written


def main() -> int:
    directory = Path.cwd()
    chosen = os.environ.get(PASSWORD)
    try:
        password = checked(chosen) if chosen is not None else "Sa1-" + secrets.token_urlsafe(18)
        if (directory / COMPOSE_FILE).exists():
            print(f"{COMPOSE_FILE} exists: kept (its password is used)")
        elif note := sql_server_note(password):
            print(note)
        for path in write(directory, password):
            print(f"wrote {path.name}")
    except PasswordRefused as refused:
        print(f"make compose-env: {refused}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
