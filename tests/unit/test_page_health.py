"""The page's readiness: ready while MongoDB answered within WEB_STALE_SECONDS, one ping per
refresh interval at most when no fan's read has answered, with fake time and a counted ping."""

from __future__ import annotations

import asyncio

from tasks import ServiceUnavailable
from web.health import Readiness, Verdict

FRESH, STALE = 0.5, 30.0


class Mongo:
    def __init__(self) -> None:
        self.now, self.pings, self.down, self.read_at = 100.0, 0, False, float("-inf")

    def clock(self) -> float:
        return self.now

    async def ping(self) -> None:
        self.pings += 1
        await asyncio.sleep(0)
        if self.down:
            raise ServiceUnavailable("MongoDB at mongodb://app:***@db:27017 is unreachable")


def readiness(mongo: Mongo) -> Readiness:
    return Readiness(mongo.ping, FRESH, STALE, answered_at=lambda: mongo.read_at, clock=mongo.clock)


def test_a_page_whose_mongodb_never_answered_is_not_ready_and_asks_once_per_interval() -> None:
    async def scenario() -> None:
        mongo = Mongo()
        mongo.down = True
        probe = readiness(mongo)
        assert await probe.verdict() == Verdict(False, None) and mongo.pings == 1
        mongo.now += FRESH - 0.01
        assert await probe.verdict() == Verdict(False, None) and mongo.pings == 1  # asked just now
        mongo.now += 0.01
        await probe.verdict()
        assert mongo.pings == 2
        mongo.down = False
        mongo.now += FRESH
        assert await probe.verdict() == Verdict(True, 0.0) and mongo.pings == 3

    asyncio.run(scenario())


def test_fans_reads_are_answers_enough_and_a_hundred_probes_at_once_share_one_ping() -> None:
    async def scenario() -> None:
        mongo = Mongo()
        probe = readiness(mongo)
        mongo.read_at = mongo.now - 0.25  # a fan's read answered a quarter of a second ago
        assert await probe.verdict() == Verdict(True, 0.25) and mongo.pings == 0
        mongo.now += 1.0
        verdicts = await asyncio.gather(*(probe.verdict() for _ in range(100)))
        assert mongo.pings == 1 and all(verdict.ready for verdict in verdicts)
        assert await probe.verdict() == Verdict(True, 0.0)  # the ping answered

    asyncio.run(scenario())


def test_ready_up_to_exactly_web_stale_seconds_after_the_last_answer_then_not() -> None:
    async def scenario() -> None:
        mongo = Mongo()
        probe = readiness(mongo)
        assert (await probe.verdict()).ready
        mongo.down = True
        mongo.now += STALE
        assert await probe.verdict() == Verdict(True, STALE)
        mongo.now += 0.001
        late = await probe.verdict()
        assert not late.ready and late.body() == {"status": "not ready", "mongodb_answered_seconds_ago": 30.001}
        assert Verdict(True, 0.25).body() == {"status": "ready", "mongodb_answered_seconds_ago": 0.25}
        assert Verdict(False, None).body() == {"status": "not ready", "mongodb_answered_seconds_ago": None}

    asyncio.run(scenario())
