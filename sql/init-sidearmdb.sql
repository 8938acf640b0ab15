-- One-shot init for the compose `mssql` service: database sidearmdb with the seed tables.
-- Run by `mssql-init` (sqlcmd); the seed CSVs are mounted read-only at /seed in `mssql`.
IF DB_ID('sidearmdb') IS NULL CREATE DATABASE sidearmdb;
GO
USE sidearmdb;
GO
IF OBJECT_ID('dbo.players', 'U') IS NOT NULL DROP TABLE dbo.players;
IF OBJECT_ID('dbo.teams', 'U') IS NOT NULL DROP TABLE dbo.teams;
CREATE TABLE dbo.teams (
    id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, conference VARCHAR(50) NOT NULL,
    wins INT NOT NULL, losses INT NOT NULL);
CREATE TABLE dbo.players (
    id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, number VARCHAR(3) NOT NULL,
    shots INT NOT NULL, goals INT NOT NULL, teamid INT NOT NULL REFERENCES dbo.teams(id));
BULK INSERT dbo.teams FROM '/seed/teams.csv' WITH (FORMAT = 'CSV', FIRSTROW = 2, ROWTERMINATOR = '0x0a');
BULK INSERT dbo.players FROM '/seed/players.csv' WITH (FORMAT = 'CSV', FIRSTROW = 2, ROWTERMINATOR = '0x0a');
GO
