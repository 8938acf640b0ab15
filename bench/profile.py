"""Where a process's CPU goes, from a py-spy raw profile: the share of samples per library.

Each sample's stack is charged to the innermost frame outside Python's standard library: the
package doing the work (pandas inside our tally, botocore inside s3fs, pydantic inside Prefect).
Libraries are grouped by what they are for us; a stack inside an import is charged to imports.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

GROUPS = {
    "S3 client (s3fs, aiobotocore)": {
        "s3fs",
        "fsspec",
        "aiobotocore",
        "botocore",
        "aiohttp",
        "yarl",
        "multidict",
        "urllib3",
        "jmespath",
        "aiohappyeyeballs",
        "aiosignal",
        "frozenlist",
        "propcache",
        "dateutil",
        "obstore",
    },
    "MongoDB client (pymongo, BSON)": {"pymongo", "bson", "dns"},
    "Prefect (client, settings, logging)": {
        "prefect",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "httpx",
        "httpcore",
        "anyio",
        "h11",
        "h2",
        "websockets",
        "orjson",
        "sniffio",
        "cachetools",
        "rich",
        "opentelemetry",
        "jsonpatch",
        "jsonschema",
        "griffe",
        "cloudpickle_prefect",
        "uv",
        "alembic",
        "aiosqlite",
        "asgi_lifespan",
        "exceptiongroup",
        "typing_extensions",
        "coolname",
        "pendulum",
        "whenever",
        "humanize",
        "toml",
        "yaml",
        "uvicorn",
        "starlette",
        "fastapi",
        "docker",
        "readchar",
        "typer",
        "click",
        "jinja2",
        "graphviz",
        "pytz",
        "tzdata",
        "prometheus_client",
    },
    "Dask (dask, distributed, tornado)": {
        "dask",
        "distributed",
        "tornado",
        "cloudpickle",
        "msgpack",
        "toolz",
        "tlz",
        "tblib",
        "zict",
        "sortedcontainers",
        "psutil",
        "partd",
        "locket",
        "prefect_dask",
    },
    "SQLAlchemy (reference tables, URL masking)": {"sqlalchemy"},
    "pandas, NumPy, Arrow": {"pandas", "numpy", "pyarrow"},
    "ours (boxscore, tasks, flows)": {"boxscore", "tasks", "flows", "web", "devstack", "bench"},
}
WAITING = re.compile(r"^(\w+\.)?(select|poll|epoll|wait|_wait|acquire|sleep)\b")
FRAME = re.compile(r"\((?P<file>[^()]*?)(?::\d+)?\)$")


def package_of(path: str, root: Path) -> str | None:
    """The top-level package a frame's file belongs to, ``None`` for the standard library.

    py-spy shortens paths to the part below ``sys.path`` (``pandas/core/frame.py``).
    """
    path = path.split("site-packages/", 1)[-1].removeprefix(str(root) + "/")
    package = path.split("/", 1)[0].removesuffix(".py")
    if path.startswith("<") or package in sys.stdlib_module_names:
        return None
    return package


def group_of(stack: str, root: Path) -> str:
    frames = stack.split(";")
    if any("_find_and_load" in frame for frame in frames):
        return "imports"
    for frame in reversed(frames):
        match = FRAME.search(frame)
        package = package_of(match["file"], root) if match else None
        if package is None:
            continue
        for group, packages in GROUPS.items():
            if package in packages:
                return group
        return f"other: {package}"
    return "Python (standard library)"


def where_cpu_goes(raw: Path, root: Path) -> dict[str, float]:
    """Share of samples per group, largest first (py-spy ``--format raw``: 'stack count' lines).

    Without pausing the process py-spy counts a thread waiting in ``select``/``epoll`` (an idle
    event loop) as busy: those samples are left out.
    """
    counts: Counter[str] = Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit() and not WAITING.search(stack.rsplit(";", 1)[-1]):
            counts[group_of(stack, root)] += int(count)
    total = sum(counts.values()) or 1
    return {group: count / total for group, count in counts.most_common()}
