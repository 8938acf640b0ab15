"""A game day, compressed: one live run in prefix mode follows 90 games, about 20 live at once, for
about 11 minutes, with a crowd on the page throughout and Prometheus scraping both.

    make bench-gameday      (or: .venv/bin/python -m bench.game_day [--games 90] [--live-at-once 20])

A seeded league of synthetic games is replayed at 30x (a game's 60 minutes in 2 real minutes),
game i starting 2 / 20 minutes after game i-1, so about 20 are live at any time. The live flow
runs as a user runs it (``python -m flows.live_boxscore`` on the prefix, default poll and settle
time) on fresh local SeaweedFS, SecantusDB and SQLite; the page serves a crowd (fans asking for
the current box score and a random game's page, and event-stream subscribers) the whole time.

It reports:

- exactness: every game's final box score against a naive recount of its lines, and
  ``teams2``/``players2`` against a naive recount of the season (``tests.helpers``);
- the live run's memory (RSS), open files and threads, sampled every few seconds, in the day's
  second and last quarters (flat: within 10 %), and the memory a finished game still holds after
  its settle time, per game: the RSS growth from the second quarter to the end of the day over
  the games that finished in between;
- the lag from a change seen to its box score stored: p50/p95 from the run's own histogram
  (through Prometheus's query API), p50/p95/max from the box scores' ``seen_at``/``stored_at``;
- the live run's CPU per event in the first and last thirds of the day.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import psutil
import pymongo

from bench.common import ROOT, SCRATCH, league_day, save
from bench.following import profile
from bench.freshness import percentile
from bench.profile import where_cpu_goes
from devstack.servers import (
    HOST,
    BoxScorePage,
    LiveFlowProcess,
    PrometheusServer,
    SeaweedS3,
    SecantusMongo,
    free_ports,
    running,
)

SEED = 45
GAME_MINUTES_REAL = 2.0  # real minutes a game lasts (60 game minutes: 30x)
SAMPLE_EVERY = 5.0  # seconds between samples of the live run's process
PROFILE_SECONDS = 60.0  # py-spy samples the live run this long in the first and the last third
FANS = 8  # threads asking the page in turn, each about 5 times a second
SUBSCRIBERS = 20  # event-stream subscribers held open all day


@dataclass
class Sample:
    at: float  # seconds since the first write
    rss_mib: float
    open_files: int
    threads: int
    cpu_s: float
    events: int  # events written so far
    finished: int  # games whose last line is written


@dataclass
class Crowd:
    """Fans on the page all day: requests in turn from a few threads, and subscribers held open."""

    url: str
    games: list[str]
    stop: threading.Event = field(default_factory=threading.Event)
    answers: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fan(self, seed: int) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop.wait(0.2):
                path = "/api/current" if rng.random() < 0.5 else f"/games/{rng.choice(self.games)}"
                try:
                    status = client.get(path).status_code
                except httpx.HTTPError:
                    status = 0
                with self.lock:
                    self.answers[status] = self.answers.get(status, 0) + 1

    def subscriber(self, game: str) -> None:
        while not self.stop.is_set():
            try:
                with httpx.stream("GET", f"{self.url}/games/{game}/events", timeout=30) as answer:
                    for _ in answer.iter_lines():
                        if self.stop.is_set():
                            return
            except httpx.HTTPError:
                self.stop.wait(1.0)

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.fan, args=(i,), daemon=True) for i in range(FANS)]
        threads += [
            threading.Thread(target=self.subscriber, args=(self.games[i % len(self.games)],), daemon=True)
            for i in range(SUBSCRIBERS)
        ]
        for thread in threads:
            thread.start()
        return threads


def last_event(text: str) -> int:
    return int(text.rstrip("\n").rsplit("\n", 1)[-1].split()[0])


def quarter(samples: list[Sample], index: int, span: float) -> list[Sample]:
    """The samples of the day's quarter ``index`` (0-3) of ``span`` seconds."""
    return [s for s in samples if index * span / 4 <= s.at < (index + 1) * span / 4] or samples[-1:]


def run(games: int, live_at_once: int, game_minutes: float = GAME_MINUTES_REAL) -> dict[str, Any]:
    from boxscore.replay import replay_schedule
    from boxscore.synthetic import synthetic_league
    from flows.gamestream import play
    from tests.helpers import expected_season, table_rows
    from tests.recorded_game import recount

    workdir = SCRATCH / "game-day"
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    speed = 60 / game_minutes  # game seconds per real second
    stagger = round(3600 / live_at_once)  # game seconds between two games' face-offs
    league = synthetic_league(games, SEED)
    schedule = replay_schedule(league.recordings, stagger=stagger)
    ends = {game: max(w.at for w in schedule if w.game_id == game) / speed for game in league.recordings}
    total_events = sum(1 for write in schedule if last_event(write.text) >= 0)
    live_port, page_port = free_ports(2)
    live_address, page_address = f"{HOST}:{live_port}", f"{HOST}:{page_port}"
    with running(SeaweedS3(workdir / "s3"), SecantusMongo(workdir / "mongo")) as (s3, mongo):
        env = {**league_day(workdir, league, s3, mongo), "LIVE_METRICS_ADDRESS": live_address}
        prefix, sql_url = env["GAMESTREAM_URL"], env["SQL_URL"]
        page = BoxScorePage(workdir / "page", mongo_url=mongo.url, metrics_address=page_address)
        prometheus = PrometheusServer(  # scraped every 15 s, as a user's Prometheus would
            workdir / "prometheus",
            targets={"sidearm-live": [live_address], "sidearm-page": [page_address]},
            scrape_seconds=15.0,
        )
        flow = LiveFlowProcess(workdir / "flow", project_dir=ROOT, extra_env=env, args=["--stall-timeout", "300"])
        with running(page, prometheus):
            flow.start(timeout=300)
            process = psutil.Process(flow.process.pid)  # type: ignore[union-attr]
            crowd = Crowd(page.url, sorted(league.recordings))
            crowd.start()
            samples: list[Sample] = []
            written = {"events": 0}
            first_write: list[float] = []
            stop_sampling = threading.Event()

            def sample() -> None:
                while not stop_sampling.wait(SAMPLE_EVERY):
                    if not first_write:
                        continue
                    at = time.monotonic() - first_write[0]
                    try:
                        cpu = process.cpu_times()
                        samples.append(
                            Sample(
                                at,
                                process.memory_info().rss / 2**20,
                                process.num_fds(),
                                process.num_threads(),
                                cpu.user + cpu.system,
                                written["events"],
                                sum(1 for end in ends.values() if end <= at),
                            )
                        )
                    except psutil.Error:
                        return

            def on_written(writes: Any, at: float) -> None:
                if not first_write:
                    first_write.append(time.monotonic())
                written["events"] += sum(1 for write in writes if last_event(write.text) >= 0)

            def progress(done: int) -> None:
                last = samples[-1] if samples else None
                memory = f", live run {last.rss_mib:.0f} MiB, {last.threads} threads" if last else ""
                print(f"  wrote {done}/{len(schedule)} ({written['events']} events){memory}", flush=True)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            planned = schedule[-1].at / speed
            profiles = {name: workdir / f"py-spy-{name}.txt" for name in ("first_third", "last_third")}
            timers = [
                threading.Timer(planned * at - PROFILE_SECONDS / 2, profile, (process.pid, path, PROFILE_SECONDS))
                for at, path in zip((1 / 6, 5 / 6), profiles.values(), strict=True)
            ]
            for timer in timers:
                timer.start()
            play(schedule, prefix, s3.storage_options, 1 / speed, on_written=on_written, progress=progress)
            day_s = time.monotonic() - first_write[0]
            lag_p50 = prometheus.query(
                "histogram_quantile(0.5, sum by (le) (boxscore_live_boxscore_lag_seconds_bucket))"
            )
            lag_p95 = prometheus.query(
                "histogram_quantile(0.95, sum by (le) (boxscore_live_boxscore_lag_seconds_bucket))"
            )
            code, _ = flow.finish(timeout=600)
            stop_sampling.set()
            crowd.stop.set()
        if code != 0:
            raise RuntimeError(f"the live flow exited with {code}: see {flow.log_path}")
        with pymongo.MongoClient(mongo.url) as client:
            documents = list(
                client.sidearm.boxscores.find({}, {"game_id": 1, "event_id": 1, "seen_at": 1, "stored_at": 1})
            )
            finals = {d["game_id"]: d for d in client.sidearm.boxscores.find({"final": True})}
    lags = [
        (datetime.fromisoformat(d["stored_at"]) - datetime.fromisoformat(d["seen_at"])).total_seconds()
        for d in documents
        if d.get("seen_at")
    ]
    wrong = []
    for game, text in league.recordings.items():
        final = finals.get(game)
        lines = [line for line in text.split("\n") if line.strip()]
        expected = recount(lines, 10**9)
        if final is None or any(
            final[side]["score"] != expected["score"].get(final[side]["teamid"], 0) for side in ("home", "away")
        ):
            wrong.append(game)
    games_played = [(m.home, m.away, league.recordings[m.game_id]) for m in league.matchups]
    teams2, players2 = expected_season(
        games_played,
        [(t.id, t.name, t.conference, t.wins, t.losses) for t in league.teams],
        [(p.id, p.name, p.number, p.shots, p.goals, p.teamid) for p in league.players],
    )
    second, last = quarter(samples, 1, day_s), quarter(samples, 3, day_s)
    thirds = [[s for s in samples if i * day_s / 3 <= s.at < (i + 1) * day_s / 3] for i in range(3)]

    def per_event_ms(part: list[Sample]) -> float:
        events = part[-1].events - part[0].events
        return round(1000 * (part[-1].cpu_s - part[0].cpu_s) / events, 3) if events else 0.0

    def mean(part: list[Sample], attribute: str) -> float:
        return round(statistics.fmean(getattr(s, attribute) for s in part), 1)

    finished_between = last[-1].finished - second[0].finished
    return {
        "games": games,
        "live_at_once": live_at_once,
        "speed": speed,
        "day_s": round(day_s, 1),
        "events": total_events,
        "writes": len(schedule),
        "finals_exact": len(league.recordings) - len(wrong),
        "finals_wrong": wrong,
        "teams2_exact": table_rows(sql_url, "teams2") == teams2,
        "players2_exact": table_rows(sql_url, "players2") == players2,
        "rss_mib": {"second_quarter": mean(second, "rss_mib"), "last_quarter": mean(last, "rss_mib")},
        "open_files": {"second_quarter": mean(second, "open_files"), "last_quarter": mean(last, "open_files")},
        "threads": {"second_quarter": mean(second, "threads"), "last_quarter": mean(last, "threads")},
        "kib_per_finished_game": round(1024 * (last[-1].rss_mib - second[0].rss_mib) / max(1, finished_between), 1),
        "games_finished_between": finished_between,
        "lag_s_metrics": {
            "p50": round(float(lag_p50[0]["value"][1]), 3) if lag_p50 else None,
            "p95": round(float(lag_p95[0]["value"][1]), 3) if lag_p95 else None,
        },
        "lag_s_documents": {
            "p50": round(statistics.median(lags), 3),
            "p95": round(percentile(lags, 0.95), 3),
            "max": round(max(lags), 3),
            "box_scores": len(lags),
        },
        "cpu_ms_per_event": {"first_third": per_event_ms(thirds[0]), "last_third": per_event_ms(thirds[2])},
        "page_answers": dict(sorted(crowd.answers.items())),
        "cpu_where": {
            name: {group: round(share, 3) for group, share in list(where_cpu_goes(path, ROOT).items())[:6]}
            for name, path in profiles.items()
            if path.exists()
        },
        "samples": [vars(s) for s in samples],
    }


def report(result: dict[str, Any]) -> str:
    """The figures as README and bench/results/README.md quote them."""
    rss, files, threads = result["rss_mib"], result["open_files"], result["threads"]
    lag_m, lag_d, cpu = result["lag_s_metrics"], result["lag_s_documents"], result["cpu_ms_per_event"]
    day = f"{result['games']} games, ~{result['live_at_once']} live at once, {result['day_s'] / 60:.1f} min"
    exact = f"{result['finals_exact']}/{result['games']}; teams2 {result['teams2_exact']}"
    rows = [
        ("finals exact", f"{exact}, players2 {result['players2_exact']}"),
        ("live run's memory, 2nd -> last quarter", f"{rss['second_quarter']} -> {rss['last_quarter']} MiB"),
        ("open files, 2nd -> last quarter", f"{files['second_quarter']} -> {files['last_quarter']}"),
        ("threads, 2nd -> last quarter", f"{threads['second_quarter']} -> {threads['last_quarter']}"),
        ("kept per finished game", f"{result['kib_per_finished_game']} KiB ({result['games_finished_between']} games)"),
        ("lag p50 / p95 (the run's histogram)", f"{lag_m['p50']} / {lag_m['p95']} s"),
        (
            "lag p50 / p95 / max (the box scores)",
            f"{lag_d['p50']} / {lag_d['p95']} / {lag_d['max']} s over {lag_d['box_scores']} box scores",
        ),
        ("CPU per event, first -> last third", f"{cpu['first_third']} -> {cpu['last_third']} ms"),
        ("page answers by status", str(result["page_answers"])),
        *(
            (
                f"where the run's CPU goes, {part.replace('_', ' ')} (py-spy)",
                ", ".join(f"{g} {v:.0%}" for g, v in shares.items()),
            )
            for part, shares in result.get("cpu_where", {}).items()
        ),
    ]
    return "\n".join([f"| game day: {day} | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--games", type=int, default=90)
    parser.add_argument("--live-at-once", type=int, default=20)
    parser.add_argument("--game-minutes", type=float, default=GAME_MINUTES_REAL, help="real minutes a game lasts")
    args = parser.parse_args()
    (SCRATCH / "game-day-prefect").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "PREFECT_HOME": str(SCRATCH / "game-day-prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    print(f"game day: {args.games} games, ~{args.live_at_once} live at once ...", flush=True)
    result = run(args.games, args.live_at_once, args.game_minutes)
    print(report(result))
    print("saved", save("game_day", result))


if __name__ == "__main__":
    main()
