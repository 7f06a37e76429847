#!/usr/bin/env bash
# Restores a backup made by scripts/backup.sh into an empty PostgreSQL database (create it first: createdb, or the
# cloud provider's console), in one transaction: either everything is restored or nothing. Checks SHA256SUMS first.
# Then start Rolecall on it (server first: it applies any newer migrations) with a Redis whose queue may be empty: the
# workers re-enqueue the running workflows' steps, and gates wait for their decision as before.
#
# usage: DATABASE_URL=postgresql://…/new_db scripts/restore.sh BACKUP_DIR
#   REDIS_DATA_DIR=/data      optional: unpack the Redis AOF copy there (Redis stopped; only to keep queued jobs,
#                             not needed to resume workflows)
#   FILE_STORE_DIR=/app/files optional: unpack the file store copy there
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the (empty) database to restore into}"
src=${1:?usage: scripts/restore.sh BACKUP_DIR}
[ -f "$src/rolecall.dump" ] || { echo "$src/rolecall.dump not found" >&2; exit 1; }
(cd "$src" && sha256sum --check --quiet SHA256SUMS)

tables=$(psql "$DATABASE_URL" -Atc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
[ "$tables" = "0" ] || { echo "the target database is not empty ($tables tables): restore into a new database" >&2; exit 1; }
pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname "$DATABASE_URL" "$src/rolecall.dump"

if [ -n "${REDIS_DATA_DIR:-}" ] && [ -f "$src/redis-aof.tar.gz" ]; then
  mkdir -p "$REDIS_DATA_DIR" && tar -C "$REDIS_DATA_DIR" -xzf "$src/redis-aof.tar.gz"
fi
if [ -n "${FILE_STORE_DIR:-}" ] && [ -f "$src/files.tar.gz" ]; then
  mkdir -p "$FILE_STORE_DIR" && tar -C "$FILE_STORE_DIR" -xzf "$src/files.tar.gz"
fi
echo "restored $src into $(printf '%s' "$DATABASE_URL" | sed -E 's#//[^@]*@#//***@#')"
