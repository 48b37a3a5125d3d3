#!/usr/bin/env bash
# The classic replay of an OTLP/JSON file-exporter backlog, as a user would script it:
# one curl POST per line, a 10 ms pause between requests, then move the file aside.
# usage: replay.sh BACKLOG_DIR ENDPOINT   (files under BACKLOG_DIR/<prefix>/<signal>/...)
set -euo pipefail
backlog=$1
endpoint=$2
cd "$backlog"
find . -path ./processed -prune -o -name '*.jsonl' -print | sort | while read -r file; do
  signal=$(echo "$file" | cut -d/ -f3)  # ./<prefix>/<signal>/YYYY/MM/DD/HH/<name>.jsonl
  while IFS= read -r line || [ -n "$line" ]; do
    [ -z "$line" ] && continue
    status=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      --data-binary "$line" "$endpoint/v1/$signal")
    if [ "$status" != 200 ]; then
      echo "replay: $file: HTTP $status, stopping" >&2
      exit 1
    fi
    sleep 0.01
  done < "$file"
  mkdir -p "processed/$(dirname "$file")"
  mv "$file" "processed/$file"
done
