#!/usr/bin/env bash
# Starts the services the adapter tests run against, on loopback only:
#   Redis       127.0.0.1:${REDIS_PORT:-6379}   (no persistence)
#   PostgreSQL  127.0.0.1:${PGPORT:-5432}       user postgres, password postgres, database postgres
# Installs them with apt-get (Debian) when missing. Safe to run again: what already runs is left alone.
set -euo pipefail

REDIS_PORT="${REDIS_PORT:-6379}"
PGPORT="${PGPORT:-5432}"
PG_PASSWORD="${PG_PASSWORD:-postgres}"

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "services: need root (or sudo) to run: $*" >&2
    exit 1
  fi
}

# ---- install what is missing ----
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v pg_ctlcluster >/dev/null && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "services: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# ---- Redis ----
if redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
  echo "services: redis already up on 127.0.0.1:$REDIS_PORT"
else
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
    --logfile "/tmp/volley-redis-$REDIS_PORT.log" --pidfile "/tmp/volley-redis-$REDIS_PORT.pid"
  for _ in $(seq 1 50); do
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break
    sleep 0.1
  done
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -q PONG || { echo "services: redis did not start" >&2; exit 1; }
  echo "services: redis started on 127.0.0.1:$REDIS_PORT ($(redis-server --version | cut -d' ' -f3))"
fi

# ---- PostgreSQL (Debian's cluster tools) ----
if pg_isready -q -h 127.0.0.1 -p "$PGPORT"; then
  echo "services: postgresql already up on 127.0.0.1:$PGPORT"
else
  # The package usually creates a "main" cluster; make one if it did not.
  cluster="$(pg_lsclusters -h | awk -v port="$PGPORT" '$3 == port { print $1 " " $2; exit }')"
  if [ -z "$cluster" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    as_root pg_createcluster "$version" main --port "$PGPORT" >/dev/null
    cluster="$version main"
  fi
  # shellcheck disable=SC2086
  as_root pg_ctlcluster $cluster start
  for _ in $(seq 1 100); do
    pg_isready -q -h 127.0.0.1 -p "$PGPORT" && break
    sleep 0.1
  done
  pg_isready -q -h 127.0.0.1 -p "$PGPORT" || { echo "services: postgresql did not start" >&2; exit 1; }
  echo "services: postgresql started on 127.0.0.1:$PGPORT (cluster $cluster)"
fi
# A known password, so that tests connect over TCP the way an application does.
as_root su postgres -c "psql -q -p $PGPORT -c \"ALTER USER postgres PASSWORD '$PG_PASSWORD'\"" >/dev/null
