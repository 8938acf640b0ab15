#!/bin/sh
# Create the process work pool (if missing), deploy every flow in prefect.yaml (with the restart
# automation, the restart deployment's trigger), then the heartbeat automation.
# Run from the project directory with PREFECT_API_URL pointing at your Prefect server.
# The flows read their settings (GAMESTREAM_URL, MONGO_URL, SQL_URL, DASK_ADDRESS, ...) from
# the environment of the worker that runs them.
# SIDEARM_HEARTBEAT_WINDOW_SECONDS: seconds without a heartbeat before a live run is marked
# Crashed (default 90; deployments/automations.py).
# SIDEARM_ALERT_BLOCK: a notification block of yours, <block type>/<name>, that the game-day alerts
# (a game behind its stream, a service down for a minute) notify; they are created paused.
set -eu
cd "$(dirname "$0")/.."
POOL="${SIDEARM_WORK_POOL:-gamestreams}"
prefect work-pool inspect "$POOL" >/dev/null 2>&1 || prefect work-pool create "$POOL" --type process
prefect --no-prompt deploy --all
"${PYTHON:-python3}" -m deployments.automations --window-seconds "${SIDEARM_HEARTBEAT_WINDOW_SECONDS:-90}" \
  --alert-block "${SIDEARM_ALERT_BLOCK:-}"
