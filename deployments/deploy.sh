#!/bin/sh
# Create the process work pool (if missing) and deploy every flow in prefect.yaml.
# Run from the project directory with PREFECT_API_URL pointing at your Prefect server.
# The flows read their settings (GAMESTREAM_URL, MONGO_URL, SQL_URL, DASK_ADDRESS, ...) from
# the environment of the worker that runs them.
set -eu
cd "$(dirname "$0")/.."
POOL="${SIDEARM_WORK_POOL:-gamestreams}"
prefect work-pool inspect "$POOL" >/dev/null 2>&1 || prefect work-pool create "$POOL" --type process
prefect --no-prompt deploy --all
