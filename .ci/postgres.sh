#!/usr/bin/env bash
# A real PostgreSQL on 127.0.0.1 for the ledger tests (they create and drop their own database).
# Installs it from Debian packages if missing, starts the cluster, lets `postgres` in over 127.0.0.1 without a
# password (a throwaway CI server: trust on loopback only), and prints the URL on stdout:
#
#   TIERWISE_TEST_PG_URL="$(.ci/postgres.sh)"; export TIERWISE_TEST_PG_URL
#
# Idempotent: when the server already answers it only prints the URL (well under a second).
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

url_for() { echo "postgresql://postgres@127.0.0.1:$1/postgres"; }

answers() { # a real query, not just pg_isready: proves that trust auth works too
  psql "$(url_for "$1")" -Atqc 'select 1' >/dev/null 2>&1
}

PORT="${PGPORT:-5432}"
if command -v psql >/dev/null 2>&1 && answers "$PORT"; then
  url_for "$PORT"
  exit 0
fi

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ -z "$(ls /usr/lib/postgresql 2>/dev/null)" ]; then
  log "installing postgresql from Debian packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

VERSION="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main"' | grep -q .; then
  log "creating cluster $VERSION/main"
  as_root pg_createcluster "$VERSION" main >&2
fi
PORT="$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $3}')"

HBA="/etc/postgresql/$VERSION/main/pg_hba.conf"
MARK="# tierwise-ci: trust on loopback"
if ! as_root grep -qF "$MARK" "$HBA"; then
  log "allowing trust auth for 127.0.0.1 in $HBA"
  # First matching line wins: put ours on top.
  as_root sed -i "1i $MARK\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust" "$HBA"
fi

STATUS="$(pg_lsclusters -h | awk -v v="$VERSION" '$1 == v && $2 == "main" {print $4}')"
if [ "$STATUS" = "online" ]; then
  as_root pg_ctlcluster "$VERSION" main reload >&2
else
  log "starting cluster $VERSION/main on port $PORT"
  as_root pg_ctlcluster "$VERSION" main start >&2
fi

for _ in $(seq 1 60); do
  if answers "$PORT"; then
    url_for "$PORT"
    exit 0
  fi
  sleep 0.5
done
log "the server did not answer on 127.0.0.1:$PORT within 30 s; see /var/log/postgresql/"
exit 1
