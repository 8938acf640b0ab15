"""Long stream: full aggregation of 10^5, 10^6 and 10^7 events, ours vs PySpark vs the floor.

    make bench-long            (or: .venv/bin/python -m bench.long_stream 100000 1000000 10000000)

- ours: the live flow's Dask path (tasks.aggregate.tally_streams) on a threads LocalCluster
  with 2 workers threads, reading the file through fsspec like an S3 object;
- spark: PySpark local[2] (Java 17) as a Spark user would set it up on this box (driver memory
  4g, 4 shuffle partitions, no UI), the same group-by (dedup by event id, shots and goals per
  team and jersey) on the same file, and the group-by alone without the dedup; session
  start-up timed separately;
- pandas floor: pyarrow's CSV reader + pandas with the dedup, in one process, no validation;
- arrow floor: pyarrow's CSV reader and its group-by alone, no dedup and no validation (the
  clean-block path needs no dedup either: a block's event ids are checked to be increasing).
Each figure is the best of 3 runs; the ratios come from the same run. Also: one tick after
appending one line to the 10^6 stream (read the new bytes + fold + build the tally).

Ours is also timed as an earlier commit and as this working tree, each run
from a copy of its own (``bench.common.export``) in a process of its own, on the same file, side
by side: what a change to the tally costs on a long stream (``--before REV``; ``--no-before``
skips it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from bench.common import BEFORE, best_of, export, long_stream, save
from boxscore.running import advance, full_read
from tasks.aggregate import tally_streams
from tasks.cluster import dask_client

TEAMS = frozenset({101, 205})
COLUMNS = ["event_id", "clock", "team", "jersey", "goal"]


def read_table(path: str) -> pa.Table:
    return pacsv.read_csv(
        path,
        read_options=pacsv.ReadOptions(column_names=COLUMNS),
        parse_options=pacsv.ParseOptions(delimiter=" "),
        convert_options=pacsv.ConvertOptions(column_types={"clock": pa.string(), "jersey": pa.string()}),
    )


def arrow_floor(path: str) -> dict:
    table = read_table(path)
    shots = (
        table.filter(pc.not_equal(table["team"], 0))
        .group_by(["team", "jersey"])
        .aggregate([("goal", "count"), ("goal", "sum")])
    )
    goals = shots.group_by("team").aggregate([("goal_sum", "sum")])
    return dict(zip(goals["team"].to_pylist(), goals["goal_sum_sum"].to_pylist(), strict=True))


def floor(path: str) -> dict:
    frame = read_table(path).to_pandas().drop_duplicates("event_id")
    shots = frame[frame.team != 0].groupby(["team", "jersey"]).goal.agg(["count", "sum"])
    return {int(t): int(g) for t, g in shots.groupby(level=0)["sum"].sum().items()}


def ours(client, path: str) -> dict:
    tally = tally_streams(client, {"g": (path, TEAMS)}, {}, 32 * 2**20)["g"]
    return {team: tally.team_totals(team)[1] for team in sorted(TEAMS)}


def spark_session():
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("bench")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )


def spark(session, path: str, dedup: bool = True) -> dict:
    from pyspark.sql import functions as F

    frame = session.read.csv(path, sep=" ", schema="event_id LONG, clock STRING, team LONG, jersey STRING, goal LONG")
    shots = (
        (frame.dropDuplicates(["event_id"]) if dedup else frame)
        .where(F.col("team") != 0)
        .groupBy("team", "jersey")
        .agg(F.count("*").alias("shots"), F.sum("goal").alias("goals"))
    )
    return {int(r["team"]): int(r["goals"]) for r in shots.groupBy("team").agg(F.sum("goals").alias("goals")).collect()}


def append_tick(path: str) -> dict:
    data = Path(path).read_bytes()
    state = full_read(lambda a, b: data[a:b], len(data), TEAMS).state
    grown = data + f"{state.max_id + 1} 00:00 101 6 1\n".encode()

    def tick():
        return advance(state, lambda a, b: grown[a:b], len(grown), TEAMS).tally()

    seconds, tally = best_of(20, tick)
    return {"events": state.max_id + 1, "seconds": seconds, "goals_101": tally.team_totals(101)[1]}


#: run in a version's copy: its own ``ours`` on the file, best of 3, as JSON
VERSION_RUN = """
import json, sys
from bench.common import best_of
from bench.long_stream import ours
from tasks.cluster import dask_client
with dask_client() as client:
    seconds, goals = best_of(3, lambda: ours(client, sys.argv[1]))
print(json.dumps({"seconds": seconds, "goals": {str(team): n for team, n in goals.items()}}))
"""


def version_seconds(tree: Path, path: str) -> tuple[float, dict]:
    """Seconds of ``ours`` on ``path`` as the version in ``tree`` counts it, and its goals per team."""
    done = subprocess.run(
        [sys.executable, "-c", VERSION_RUN, path],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return found["seconds"], {int(team): n for team, n in found["goals"].items()}


def main(sizes: list[int], before: str | None = None) -> None:
    versions = {before: export(before), "this tree": export(None)} if before else {}
    results = []
    started = time.perf_counter()
    session = spark_session()
    spark_startup = time.perf_counter() - started
    with dask_client() as client:
        for size in sizes:
            path = str(long_stream(size))
            t_ours, r_ours = best_of(3, partial(ours, client, path))
            t_floor, r_floor = best_of(3, partial(floor, path))
            t_arrow, r_arrow = best_of(3, partial(arrow_floor, path))
            t_spark, r_spark = best_of(3, partial(spark, session, path))
            t_spark_plain, r_spark_plain = best_of(3, partial(spark, session, path, dedup=False))
            assert r_ours == r_floor == r_arrow == r_spark == r_spark_plain, (r_ours, r_floor, r_arrow, r_spark)
            timed = {label: version_seconds(tree, path) for label, tree in versions.items()}
            assert all(goals == r_ours for _, goals in timed.values()), timed
            row = {
                "events": size,
                "ours_s": round(t_ours, 3),
                "spark_s": round(t_spark, 3),
                "spark_no_dedup_s": round(t_spark_plain, 3),
                "floor_s": round(t_floor, 3),
                "arrow_floor_s": round(t_arrow, 3),
                "ours_over_spark": round(t_ours / t_spark, 3),
                "spark_over_ours": round(t_spark / t_ours, 2),
                "ours_over_floor": round(t_ours / t_floor, 3),
                "ours_over_arrow_floor": round(t_ours / t_arrow, 3),
            }
            if timed:
                (t_before, _), (t_after, _) = timed.values()
                row |= {"before": before, "before_s": round(t_before, 3), "after_s": round(t_after, 3)}
                row["after_over_before"] = round(t_after / t_before, 3)
            results.append(row)
            print(row, flush=True)
    session.stop()
    tick = append_tick(str(long_stream(10**6))) if 10**6 in sizes else None
    print("append one line to the 10^6 stream:", tick)
    print(
        "saved", save("long_stream", {"spark_startup_s": round(spark_startup, 2), "runs": results, "append_tick": tick})
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sizes", nargs="*", type=int, default=[10**5, 10**6, 10**7], help="events per stream")
    parser.add_argument("--before", default=BEFORE, help="also time ours as this commit and as this tree, side by side")
    parser.add_argument("--no-before", dest="before", action="store_const", const=None, help="ours in-process only")
    args = parser.parse_args()
    main(args.sizes, args.before)
