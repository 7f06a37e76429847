#!/usr/bin/env bash
# Backs up Rolecall: PostgreSQL (everything that matters: workflows, steps, gates, posts, audit, console users) as a
# pg_dump custom-format archive, plus, when their locations are given, a copy of Redis' AOF directory and of a file
# store directory. Writes <dest>/rolecall.dump (+ redis-aof.tar.gz, files.tar.gz) and SHA256SUMS, then checks that
# the archive reads back (pg_restore --list). The queue in Redis is not needed to recover: on start, the workers
# re-enqueue every running workflow's work from PostgreSQL (orchestrator/resume.ts).
#
# usage: DATABASE_URL=postgresql://… scripts/backup.sh [DEST_DIR]      (default: backups/<UTC timestamp>)
#   REDIS_DATA_DIR=/data      optional: the Redis data directory (with appendonlydir/) to copy
#   FILE_STORE_DIR=/app/files optional: a file store directory to copy
# In compose: docker compose exec -T postgres pg_dump -Fc -U rolecall rolecall > rolecall.dump does the database part.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
dest=${1:-backups/$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$dest"
umask 077 # backups hold every workflow's content and the console's password hashes

pg_dump --format=custom --compress=6 --no-owner --no-privileges --file "$dest/rolecall.dump" "$DATABASE_URL"
pg_restore --list "$dest/rolecall.dump" >/dev/null # the archive is readable and complete

if [ -n "${REDIS_DATA_DIR:-}" ]; then
  # AOF (appendonly yes): the append-only files are consistent on their own; copying them while Redis runs is safe.
  [ -d "$REDIS_DATA_DIR/appendonlydir" ] || { echo "no appendonlydir in $REDIS_DATA_DIR (is appendonly on?)" >&2; exit 1; }
  tar -C "$REDIS_DATA_DIR" -czf "$dest/redis-aof.tar.gz" appendonlydir
fi
if [ -n "${FILE_STORE_DIR:-}" ] && [ -d "$FILE_STORE_DIR" ]; then
  tar -C "$FILE_STORE_DIR" -czf "$dest/files.tar.gz" .
fi

(cd "$dest" && sha256sum -- * | grep -v ' SHA256SUMS$' > SHA256SUMS)
echo "backup written to $dest: $(cd "$dest" && ls | tr '\n' ' ')"
