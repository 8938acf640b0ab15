#!/bin/sh
# Register Drill storage plugins for MinIO (the stream), MongoDB (box scores) and SQL Server
# (sidearmdb) through Drill's REST API. Usage: register-plugins.sh http://drill:8047
# The plugin files name the password ${SIDEARM_PASSWORD}; it is filled in from the environment here.
set -eu
DRILL="${1:-http://drill:8047}"
: "${SIDEARM_PASSWORD:?SIDEARM_PASSWORD is not set}"
for file in "$(dirname "$0")"/storage-*.json; do
  name=$(basename "$file" .json | sed 's/^storage-//')
  echo "registering Drill storage plugin '$name'"
  sed "s|\${SIDEARM_PASSWORD}|$SIDEARM_PASSWORD|g" "$file" |
    curl -fsS -X POST -H "Content-Type: application/json" --data-binary @- "$DRILL/storage/$name.json"
  echo
done
