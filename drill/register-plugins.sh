#!/bin/sh
# Register Drill storage plugins for MinIO (the stream), MongoDB (box scores) and SQL Server
# (sidearmdb) through Drill's REST API. Usage: register-plugins.sh http://drill:8047
set -eu
DRILL="${1:-http://drill:8047}"
for file in "$(dirname "$0")"/storage-*.json; do
  name=$(basename "$file" .json | sed 's/^storage-//')
  echo "registering Drill storage plugin '$name'"
  curl -fsS -X POST -H "Content-Type: application/json" --data-binary "@$file" "$DRILL/storage/$name.json"
  echo
done
