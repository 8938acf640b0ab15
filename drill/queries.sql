-- Apache Drill queries over the three stores (storage plugins: minio, mongo, mssql).
-- Run them in the Drill web console (http://127.0.0.1:8047/query) of the compose stack; what each
-- returns for the recorded game is in docs/operations.md ("The Drill queries").
-- A SQL Server table is <plugin>.<schema>.<table> (mssql.dbo.teams): Drill's JDBC plugin puts
-- a schema at the plugin's top level when the driver reports no catalog for it, as SQL Server's
-- does for dbo; the database is the plugin's (databaseName in its URL).

-- 1. Teams and their players (SQL Server sidearmdb: teams, players), season totals before the game.
SELECT t.id AS teamid, t.name AS team, t.conference, t.wins, t.losses,
       p.id AS playerid, p.name AS player, p.number, p.shots, p.goals
FROM mssql.dbo.teams t
JOIN mssql.dbo.players p ON p.teamid = t.id
ORDER BY t.id, p.id;

-- 2. The game stream (MinIO gamestreams/gamestream.txt) with labelled columns, team and shooter names.
SELECT CAST(s.columns[0] AS INT) AS event_id, s.columns[1] AS clock,
       CAST(s.columns[2] AS INT) AS teamid, t.name AS team,
       s.columns[3] AS jersey, p.name AS shooter,
       CAST(s.columns[4] AS INT) AS goal
FROM minio.root.`gamestream.txt` s
LEFT JOIN mssql.dbo.teams t ON t.id = CAST(s.columns[2] AS INT)
LEFT JOIN mssql.dbo.players p ON p.teamid = t.id AND p.number = s.columns[3]
ORDER BY CAST(s.columns[0] AS INT);

-- 3. Every box score written by the live flow (MongoDB sidearm.boxscores), one row per change.
SELECT b._id AS event_id, b.`timestamp` AS clock, b.`final`,
       b.home.name AS home, b.home.score AS home_score,
       b.away.name AS away, b.away.score AS away_score
FROM mongo.sidearm.boxscores b
ORDER BY b._id;

-- 4a. The current box score document: the one stored last (README's query). The mongo plugin
--     pushes an aggregate down to MongoDB under its alias: an unaliased MAX comes back NULL.
--     Drill leaves out an empty array (quality.examples when no line was rejected).
SELECT b._id AS event_id, b.`timestamp` AS clock, b.`final`, b.home, b.away, b.quality, b.stored_at
FROM mongo.sidearm.boxscores b
WHERE b.stored_at = (SELECT MAX(stored_at) AS latest_stored_at FROM mongo.sidearm.boxscores);

-- 4b. The latest box score derived from the data itself: player lines recounted from the stream
--     (team 0 lines are clock marks, the -1 sentinel is not an event) joined with the roster.
SELECT t.name AS team, p.id, p.name, p.number,
       COUNT(s.event_id) AS shots, COALESCE(SUM(s.goal), 0) AS goals
FROM mssql.dbo.players p
JOIN mssql.dbo.teams t ON t.id = p.teamid
LEFT JOIN (
    SELECT CAST(columns[0] AS INT) AS event_id, CAST(columns[2] AS INT) AS teamid,
           columns[3] AS jersey, CAST(columns[4] AS INT) AS goal
    FROM minio.root.`gamestream.txt`
    WHERE CAST(columns[2] AS INT) <> 0 AND CAST(columns[0] AS INT) >= 0
) s ON s.teamid = p.teamid AND s.jersey = p.number
GROUP BY t.name, p.id, p.name, p.number
ORDER BY p.id;

-- 5. The season tables after the game (written by finalize): records and totals.
SELECT t.id AS teamid, t.name AS team, t.wins, t.losses,
       p.id AS playerid, p.name AS player, p.number, p.shots, p.goals
FROM mssql.dbo.teams2 t
JOIN mssql.dbo.players2 p ON p.teamid = t.id
ORDER BY t.id, p.id;
