"""The tests: ``unit/`` (no server, no Prefect API) and ``integration/`` (real servers the tests start)."""
