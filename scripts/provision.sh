#!/usr/bin/env bash
# Makes this machine ready for `npm test`, which runs it first: Redis on 127.0.0.1:6379,
# PostgreSQL on 127.0.0.1:5432 and Debian's Chromium for the SSE example's browser test.
# Idempotent: what is already there is left alone, so on a ready machine it only checks.
# CHROMIUM_PATH (also read by examples/sse-dashboard) points at another Chromium binary.
set -euo pipefail

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"

fail() {
  echo "provision: $*" >&2
  exit 1
}

# Polls `$@` for up to 5 s: a daemon answers a moment after it forked.
wait_for() {
  for _ in $(seq 1 50); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping; }
postgres_up() { pg_isready -h 127.0.0.1 -p 5432; }

# Redis backs the integration tests. Same command the machine starts it with (it keeps nothing on disk).
if ! redis_up >/dev/null 2>&1; then
  command -v redis-server >/dev/null || fail "Redis is not running on 127.0.0.1:6379 and redis-server is missing: apt-get install -y redis-server"
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for redis_up || fail "Redis did not answer on 127.0.0.1:6379 after starting it (see /var/log/redis/ci.log)"
fi

# PostgreSQL backs examples/postgres-store (database test, trust auth).
if ! postgres_up >/dev/null 2>&1; then
  command -v pg_ctlcluster >/dev/null || fail "PostgreSQL is not running on 127.0.0.1:5432 and pg_ctlcluster is missing: apt-get install -y postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_for postgres_up || fail "PostgreSQL did not accept connections on 127.0.0.1:5432 after starting it"
fi

# Chromium drives the browser test of examples/sse-dashboard (playwright-core never downloads one).
if [ ! -x "$chromium_path" ]; then
  # Installing puts Chromium at /usr/bin/chromium only, so a CHROMIUM_PATH elsewhere is not installed.
  if [ "$(id -u)" -eq 0 ] && [ "$chromium_path" = /usr/bin/chromium ]; then
    apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
  fi
  [ -x "$chromium_path" ] ||
    fail "Chromium not found at $chromium_path (the SSE example's browser test needs it): install Debian's chromium as root (apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium binary"
fi
