"""Finalize games: record each final result and write ``teams2``/``players2`` for the season so far.

    python -m flows.finalize [--games ID ...]

The season tables are the base tables plus every finished game's result (the ``results`` and
``result_players`` tables), recomputed each time: finalizing twice, or a replayed game, counts
each game once, and a game finalized again with corrected lines replaces its earlier result.
Before a final counts, its stream is read in full and tallied from scratch, so a correction the
live loop did not see is applied to the box score first. Exits with 2, writing nothing, while
the single stream's latest box score is not final.
"""

from __future__ import annotations

from logging import Logger, LoggerAdapter
from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from boxscore.document import BoxScore, as_built, build_boxscore
from boxscore.games import is_prefix, stream_of
from boxscore.identity import IDENTITY_BYTES, identify
from boxscore.report import final_summary, scoreline
from boxscore.roster import League, Player, Team
from boxscore.running import full_read
from boxscore.season import GameNotOver, Season, require_final, result_of
from boxscore.season_document import planned_entry, played_entry, tables_of
from flows.refusals import refusing
from tasks.boxscores import BoxScoreStore
from tasks.reference import read_matchups, read_reference, write_season
from tasks.retried import final_boxscores, game_count, latest_boxscore, read_game_records, write_season_document
from tasks.seasons import SeasonStore
from tasks.settings import Settings
from tasks.stream import read_stream


@flow(name="finalize-game")
def finalize_game(games: list[str] | None = None) -> Any:
    """Record these games' final results (``None``: every game that is over) and write the tables.

    Single stream with ``games`` unset: the current game, whose latest box score must be final.
    Several games: every game with a final box score (games still running are left for later).
    Returns ``teams2`` and ``players2`` as written.
    """
    logger = get_run_logger()
    return refusing(lambda: _finalize(games, Settings.from_env(), logger), logger)


def _finalize(games: list[str] | None, settings: Settings, logger: Any) -> tuple[list[Team], list[Player]]:
    store = BoxScoreStore.of(settings)
    multi = is_prefix(settings.gamestream_url)
    if games is None and not multi:
        games = [require_final(latest_boxscore(store))["game_id"]]
    finals = final_boxscores(store, games)
    if not finals:
        raise GameNotOver(f"none of the {game_count(store)} games is over; teams2/players2 were not written")
    league = League.of(*read_reference(settings.sql_url))
    checked = [_as_streamed(final, settings, store, league, logger) for final in finals]
    season = write_season(settings.sql_url, [result_of(final["game_id"], final) for final in checked])
    for game_id, reason in sorted(season.skipped.items()):
        logger.warning("game %s does not count in the season tables: %s", game_id, reason)
    if not multi:
        store.mark_finalized([final["game_id"] for final in checked])
    _write_season_document(settings, season, checked, league, logger)
    before = sorted(league.teams.values(), key=lambda team: team.id)
    summary = "\n".join(final_summary(final, before, season.teams) for final in checked[:20])
    create_markdown_artifact(summary, key="final-result", description=scoreline(checked[-1]))
    logger.info(
        "finalized %d game(s), last %s: wrote %d teams2 and %d players2 rows",
        len(checked),
        scoreline(checked[-1]),
        len(season.teams),
        len(season.players),
    )
    return season.teams, season.players


def _write_season_document(
    settings: Settings, season: Season, finals: list[BoxScore], league: League, logger: Any
) -> None:
    """The season pages' document after the SQL tables: a finalize that fails before here leaves
    the old one, and its retry (or the next finalize) writes it from the committed tables."""
    planned = [planned_entry(matchup, league.teams) for matchup in read_matchups(settings.sql_url).values()]
    entries = [played_entry(final, counted=final["game_id"] not in season.skipped) for final in finals]
    seasons = SeasonStore.of(settings)
    if write_season_document(seasons, tables_of(season), entries, planned):
        logger.info("season %s: standings and leaders written (%d games counted)", seasons.season, len(season.counted))
    else:
        logger.info("season %s: standings and leaders unchanged", seasons.season)


def _as_streamed(
    final: BoxScore, settings: Settings, store: BoxScoreStore, league: League, logger: Logger | LoggerAdapter[Any]
) -> BoxScore:
    """The final as its stream says now, read in full and tallied from scratch.

    The stored final stands when the stream is gone, holds another game by now, is no longer
    final, or names a team the base tables lack (the season reports that game by name).
    """
    multi = is_prefix(settings.gamestream_url)
    game_id = final["game_id"]
    url = stream_of(settings.gamestream_url, game_id)
    data = read_stream(url, settings.storage_options)
    if data is None:
        return final
    home, away = final["home"]["teamid"], final["away"]["teamid"]
    progress = full_read(lambda start, end: data[start:end], len(data), frozenset({home, away}), IDENTITY_BYTES)
    if not multi:
        records = read_game_records(store, url)
        # finalize asks whether the stream still holds this game: with its first line it does,
        # corrected (the lines the live reads folded may differ from the object read in full)
        identity = identify(progress.lines, records, settings.chosen_game_id(), settling=True)
        if identity is None or identity.game_id != game_id:
            return final
    tally = progress.tally()
    if not tally.final:
        return final
    try:
        home_team, away_team, players = league.sides(home, away)
    except LookupError:
        return final
    streamed = build_boxscore(tally, home_team, away_team, players, game_id, multi)
    if streamed != as_built(final):
        store.upsert([streamed])
        store.archive_stale([(game_id, streamed["event_id"])])
        logger.warning("game %s was corrected after its final: %s", game_id, scoreline(streamed))
    return streamed


DESCRIPTION = """\
Record each final game's result and write teams2/players2 for the season so far.

With a single stream and no --games, the current game is finalized; it must be over (exit 2,
nothing written, while its latest box score is not final). Finalizing again counts each game
once. Where MongoDB and SQL are comes from the settings (README, "Configuration")."""

HELPS = {"games": "game ids to finalize; without it, every game that is over"}

if __name__ == "__main__":
    from flows.cli import run_from_command_line

    run_from_command_line(finalize_game, DESCRIPTION, HELPS)
