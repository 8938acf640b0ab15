"""The page process's copy of each game's box score, with fake time and a counted read.

The read here stands in for MongoDB only in these unit tests of the rules (single flight, one
read per interval, bounded staleness); tests/integration/test_page.py counts the real commands.
"""

from __future__ import annotations

import asyncio
import copy
import re

import pytest
from starlette.datastructures import Headers
from starlette.requests import Request

from boxscore.season_document import empty_season
from tasks import ServiceUnavailable
from tests.recorded_game import FINAL_BOXSCORE
from web.cache import LatestBoxScores, version_of
from web.headers import FINAL_CACHE, LIVE_CACHE, caching, etag, not_modified
from web.season import season_events, season_version

INTERVAL, STALE = 0.5, 30.0


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)


class Reads:
    """What the database holds per game, read with a gate the test opens; each read counted."""

    def __init__(self) -> None:
        self.documents: dict[str | None, dict | None] = {}
        self.count = 0
        self.down = False
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, game: str | None) -> dict | None:
        self.count += 1
        await self.gate.wait()
        if self.down:
            raise ServiceUnavailable("MongoDB at mongodb://app:***@db:27017")
        return copy.deepcopy(self.documents.get(game))


def live(event_id: int, home_score: int = 3) -> dict:
    document = copy.deepcopy(FINAL_BOXSCORE)
    document.update(_id=event_id, event_id=event_id, final=False)
    document["home"]["score"] = home_score
    return document


def test_two_hundred_concurrent_requests_share_one_read_then_one_per_interval() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents["g1"] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        reads.gate.clear()  # the first read is in flight while every request arrives
        waiting = [asyncio.ensure_future(boxscores.latest("g1")) for _ in range(200)]
        await asyncio.sleep(0)
        reads.gate.set()
        copies = await asyncio.gather(*waiting)
        assert reads.count == 1 and {c.document["event_id"] for c in copies} == {10}
        clock.now += INTERVAL - 0.01
        await boxscores.latest("g1")
        assert reads.count == 1  # still fresh
        reads.documents["g1"] = live(11)
        clock.now += 0.01
        assert (await boxscores.latest("g1")).document["event_id"] == 11 and reads.count == 2
        await boxscores.latest("g2")  # another game: its own read, nothing for a game nobody asks for
        assert reads.count == 3 and (await boxscores.latest("g2")).document is None

    asyncio.run(scenario())


def test_mongodb_down_serves_the_last_good_box_score_for_a_bounded_time_then_fails() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents[None] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        good = await boxscores.latest(None)
        assert boxscores.stale_seconds(good) is None
        reads.down = True
        clock.now += 10
        stale = await boxscores.latest(None)
        assert stale.document == good.document and boxscores.stale_seconds(stale) == 10
        tries = reads.count
        await boxscores.latest(None)
        assert reads.count == tries  # a failed read is not tried again within the interval either
        clock.now += STALE
        with pytest.raises(ServiceUnavailable, match="MongoDB"):
            await boxscores.latest(None)
        reads.down = False
        clock.now += INTERVAL
        assert boxscores.stale_seconds(await boxscores.latest(None)) is None

    asyncio.run(scenario())


def test_with_no_box_score_ever_read_mongodb_down_fails_at_once_and_is_asked_again_once_due() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.down = True
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        for _ in range(2):
            with pytest.raises(ServiceUnavailable):
                await boxscores.latest("g1")
            clock.now += INTERVAL
        assert reads.count == 2
        reads.down, reads.documents["g1"] = False, live(10)
        assert (await boxscores.latest("g1")).document["event_id"] == 10

    asyncio.run(scenario())


def test_a_subscriber_gets_each_new_version_as_soon_as_it_is_read() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents["g1"] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        first = await boxscores.next_version("g1", None)
        waiting = asyncio.ensure_future(boxscores.next_version("g1", first.version))
        for _ in range(5):  # nothing new: the waiter sleeps an interval per read
            await asyncio.sleep(0)
        assert not waiting.done()
        reads.documents["g1"] = live(10, home_score=4)  # a correction in place: same event id
        second = await asyncio.wait_for(waiting, 5)
        assert second.document["home"]["score"] == 4 and second.version != first.version
        assert reads.count <= 2 + (clock.now - 100.0) / INTERVAL

    asyncio.run(scenario())


def test_the_rendered_page_is_kept_while_the_box_score_is_the_same() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents["g1"] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        (await boxscores.latest("g1")).rendered["html"] = "<p>10</p>"
        clock.now += INTERVAL
        assert (await boxscores.latest("g1")).rendered == {"html": "<p>10</p>"}
        reads.documents["g1"] = live(11)
        clock.now += INTERVAL
        assert (await boxscores.latest("g1")).rendered == {}

    asyncio.run(scenario())


def test_the_version_changes_with_any_count_not_only_the_event_id() -> None:
    assert version_of(live(10)) == version_of(live(10))
    assert version_of(live(10)) != version_of(live(10, home_score=4))
    assert version_of(live(10)).startswith(f"{FINAL_BOXSCORE['game_id']}.10.")


def test_conditional_requests_and_cache_control() -> None:
    tag = etag("g1.10.abc", "html")
    assert tag == '"html.g1.10.abc"'
    assert not_modified(Headers({"if-none-match": tag}), tag)
    assert not_modified(Headers({"if-none-match": f'"other", W/{tag}'}), tag)
    assert not_modified(Headers({"if-none-match": "*"}), tag)
    assert not not_modified(Headers({"if-none-match": '"json.g1.10.abc"'}), tag)
    assert not not_modified(Headers({}), tag)
    assert caching(False, tag) == {"ETag": tag, "Cache-Control": LIVE_CACHE}
    assert caching(True, tag)["Cache-Control"] == FINAL_CACHE == "public, max-age=3600"
    assert "stale-while-revalidate" in LIVE_CACHE and "max-age=1," in LIVE_CACHE
    stale = caching(True, tag, 12.4)
    assert stale["Cache-Control"] == "no-cache" and stale["X-Boxscore-Stale-Seconds"] == "12"


def test_a_box_score_offered_by_the_change_stream_replaces_the_copy_without_a_read() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        game = FINAL_BOXSCORE["game_id"]
        reads.documents[game] = live(10)

        async def not_due(_: float) -> None:  # the next read never falls due: only an offer can wake
            await asyncio.Event().wait()

        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, not_due)
        first = await boxscores.latest(game)
        waiting = asyncio.ensure_future(boxscores.next_version(game, first.version))
        await asyncio.sleep(0)
        boxscores.offer(live(11))
        assert (await asyncio.wait_for(waiting, 5)).document["event_id"] == 11
        assert reads.count == 1 and boxscores.offered == 1  # no read: the change stream brought it
        boxscores.offer(live(9))  # an older event of the game is not its latest
        assert (await boxscores.latest(game)).document["event_id"] == 11
        boxscores.offer({**live(12), "game_id": "g2"})  # a game nobody asked for: nothing kept
        assert boxscores.offered == 1 and reads.count == 1

    asyncio.run(scenario())


def prefix_box_score(game: str, event_id: int, stored_at: str) -> dict:
    """A prefix run's box score: its ``_id`` is text, ``<game>/<event>``."""
    return {**live(event_id), "_id": f"{game}/{event_id}", "game_id": game, "stored_at": stored_at}


@pytest.mark.parametrize(
    ("earlier", "later"),
    [
        (("g0001", 57, "2026-03-14T18:00:01.000000Z"), ("g0001", 8, "2026-03-14T18:00:02.000000Z")),
        (("g0001", 8, "2026-03-14T18:00:01.000000Z"), ("g0001", 57, "2026-03-14T18:00:02.000000Z")),
        (("g10", 3, "2026-03-14T18:00:01.000000Z"), ("g9", 3, "2026-03-14T18:00:02.000000Z")),
        (("g9", 10, "2026-03-14T18:00:01.000000Z"), ("g10", 9, "2026-03-14T18:00:02.000000Z")),
    ],
)
def test_the_change_stream_offers_the_current_box_score_the_one_stored_last_whatever_its_id(
    earlier: tuple, later: tuple
) -> None:
    """``/8`` against ``/57``, ``/9`` against ``/10``: the order of ``_id`` as text is not the order
    of the games' changes; the box score stored last is the current one, as the store's query says."""

    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        first, then = prefix_box_score(*earlier), prefix_box_score(*later)
        reads.documents[None] = first
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        assert (await boxscores.latest(None)).document["_id"] == first["_id"]
        boxscores.offer(then)
        assert (await boxscores.latest(None)).document["_id"] == then["_id"] and reads.count == 1
        boxscores.offer(first)  # stored before: a late notice of it does not take the page back
        assert (await boxscores.latest(None)).document["_id"] == then["_id"] and reads.count == 1

    asyncio.run(scenario())


def test_the_last_good_box_score_is_served_up_to_exactly_web_stale_seconds_and_not_after() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents[None] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        good = await boxscores.latest(None)
        reads.down = True
        clock.now += STALE  # exactly WEB_STALE_SECONDS after the last good read
        at_the_limit = await boxscores.latest(None)
        assert at_the_limit.document == good.document and boxscores.stale_seconds(at_the_limit) == STALE
        clock.now += 0.001
        with pytest.raises(ServiceUnavailable):
            await boxscores.latest(None)

    asyncio.run(scenario())


def test_a_version_names_the_game_and_event_then_twelve_hex_digits_that_follow_any_change() -> None:
    import re

    one, corrected = live(10), live(10, home_score=4)
    assert re.fullmatch(rf"{one['game_id']}\.10\.[0-9a-f]{{12}}", version_of(one))
    assert version_of(one) != version_of(corrected) and version_of(one) == version_of(live(10))
    games = version_of([one, live(11)])
    assert re.fullmatch(r"games\.[0-9a-f]{12}", games) and games == version_of([live(10), live(11)])
    assert len({games, version_of([one]), version_of([corrected, live(11)]), version_of([])}) == 4


def test_reads_and_offers_are_counted_and_a_failed_read_keeps_the_copy_s_version_and_pages() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        game = FINAL_BOXSCORE["game_id"]
        reads.documents[game] = live(10)
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        assert (boxscores.reads, boxscores.offered) == (0, 0)
        good = await boxscores.latest(game)
        good.rendered["html"] = "<page>"
        clock.now += INTERVAL
        reads.down = True
        stale = await boxscores.latest(game)
        assert boxscores.reads == 2 and stale.version == good.version and stale.rendered == {"html": "<page>"}
        boxscores.offer(live(11))
        assert boxscores.offered == 0  # a copy MongoDB does not answer for is not replaced by a notice
        reads.down = False
        clock.now += INTERVAL
        await boxscores.latest(game)
        boxscores.offer(live(12))
        boxscores.offer(live(13))
        assert (boxscores.reads, boxscores.offered) == (3, 2)
        assert boxscores.stale_seconds(await boxscores.latest(game)) is None

    asyncio.run(scenario())


def test_the_games_asked_for_least_recently_are_dropped_beyond_the_kept_number() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        reads.documents.update({game: {**live(1), "game_id": game} for game in ("g1", "g2", "g3")})
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep, kept=2)
        for game in ("g1", "g2", "g3"):
            await boxscores.latest(game)
        assert reads.count == 3
        await boxscores.latest("g3")
        await boxscores.latest("g2")  # both kept: no read
        assert reads.count == 3
        await boxscores.latest("g1")  # dropped: read again
        assert reads.count == 4

    asyncio.run(scenario())


def test_a_correction_of_the_same_event_and_a_first_box_score_are_taken_from_the_change_stream() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        game = FINAL_BOXSCORE["game_id"]
        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep)
        assert (await boxscores.latest(game)).document is None  # asked for before its first box score
        assert (await boxscores.latest(None)).document is None
        boxscores.offer(live(10))
        assert (await boxscores.latest(game)).document["event_id"] == 10 and reads.count == 2
        assert (await boxscores.latest(None)).document is None  # the current game: a read says which
        boxscores.offer(live(10, home_score=9))  # the same event, corrected in place
        assert (await boxscores.latest(game)).document["home"]["score"] == 9 and reads.count == 2

    asyncio.run(scenario())


def test_a_subscriber_sleeps_until_the_copy_is_due_and_a_pause_is_one_interval() -> None:
    async def scenario() -> None:
        slept: list[float] = []
        clock, reads = Clock(), Reads()
        reads.documents["g1"] = live(10)

        async def sleep(seconds: float) -> None:
            slept.append(seconds)
            await clock.sleep(seconds)

        boxscores = LatestBoxScores(reads, INTERVAL, STALE, clock, sleep)
        first = await boxscores.latest("g1")
        clock.now += 0.2
        waiting = [asyncio.ensure_future(boxscores.next_version("g1", first.version)) for _ in range(3)]
        await asyncio.sleep(0)
        reads.documents["g1"] = live(11)
        assert [copy.document["event_id"] for copy in await asyncio.wait_for(asyncio.gather(*waiting), 5)] == [11] * 3
        assert slept == [pytest.approx(INTERVAL - 0.2)]  # one timer for the game's three subscribers
        await boxscores.pause()
        assert slept[-1] == INTERVAL

    asyncio.run(scenario())


def test_a_season_document_pushed_by_the_change_stream_replaces_the_copy_and_wakes_its_subscribers() -> None:
    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        season = {**empty_season("2026"), "_id": "2026"}
        reads.documents[None] = season

        async def not_due(_: float) -> None:
            await asyncio.Event().wait()

        seasons = LatestBoxScores(reads, INTERVAL, STALE, clock, not_due, version=season_version)
        seasons.replace(None, {**season, "version": 1})  # nobody asked yet: nothing kept, no read
        assert (seasons.offered, reads.count) == (0, 0)
        first = await seasons.latest(None)
        assert re.fullmatch(r"season\.2026\.[0-9a-f]{12}", first.version or "")
        waiting = asyncio.ensure_future(seasons.next_version(None, first.version))
        await asyncio.sleep(0)
        seasons.replace(None, {**season, "version": 1})
        pushed = await asyncio.wait_for(waiting, 5)
        assert pushed.document["version"] == 1 and pushed.version != first.version
        assert (seasons.offered, reads.count) == (1, 1)

    asyncio.run(scenario())


def test_season_events_push_the_latest_version_at_most_once_a_refresh_interval() -> None:
    """Two versions stored within an interval of the first event: one push, of the second, an interval later."""

    async def scenario() -> None:
        clock, reads = Clock(), Reads()
        season = {**empty_season("2026"), "_id": "2026"}
        reads.documents[None] = season
        seasons = LatestBoxScores(reads, INTERVAL, STALE, clock, clock.sleep, version=season_version)
        events = season_events(seasons, Request({"type": "http", "headers": []}))
        first = await anext(events)
        assert b"event: season" in first and b'"version":0' in first
        started = clock.now
        for version in (1, 2):
            reads.documents[None] = {**season, "version": version}
            seasons.replace(None, reads.documents[None])
        second = await anext(events)
        assert b'"version":2' in second and clock.now - started >= INTERVAL

    asyncio.run(scenario())
