#!/usr/bin/env bash
# Starts (or stops) the real servers the integration tests use, all on 127.0.0.1:
#   PostgreSQL 15 on $BASE+1, Redis 7 on $BASE+2, moto (AWS emulator, signatures checked) on $BASE+3.
# Usage: tests/servers.sh start|stop [BASE]   (BASE defaults to $ROTATION_PORT_BASE or 55400)
# 'start' installs what is missing, waits until each server answers, and writes the connection details to
# $DIR/env (source it). Test passwords are random per start and live only in that file (mode 0600).
set -euo pipefail
cmd=${1:?usage: servers.sh start|stop [BASE]}
BASE=${2:-${ROTATION_PORT_BASE:-55400}}
DIR=${ROTATION_SERVERS_DIR:-/tmp/rotation-servers-$BASE}
PG_PORT=$((BASE + 1)); REDIS_PORT=$((BASE + 2)); MOTO_PORT=$((BASE + 3))
log() { echo "servers: $*" >&2; }

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

stop_all() {
  if [ -f "$DIR/pg/postmaster.pid" ]; then as_postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  if [ -f "$DIR/redis.pid" ]; then kill "$(cat "$DIR/redis.pid")" 2>/dev/null || true; fi
  if [ -f "$DIR/moto.pid" ]; then kill "$(cat "$DIR/moto.pid")" 2>/dev/null || true; fi
  sleep 0.3
  rm -rf "$DIR"
}

wait_for() { # name, seconds, command...
  local name=$1 secs=$2; shift 2
  for _ in $(seq 1 $((secs * 5))); do if "$@" >/dev/null 2>&1; then return 0; fi; sleep 0.2; done
  log "$name did not become ready in ${secs}s"; return 1
}

install_missing() {
  local need=()
  [ -n "$(pg_bin)" ] || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    # Debian starts a system instance on install; the tests use their own.
    service redis-server stop >/dev/null 2>&1 || true
    service postgresql stop >/dev/null 2>&1 || true
  fi
  command -v moto_server >/dev/null || { log "installing moto"; pip install -q 'moto[server]' >/dev/null; }
}

start_all() {
  install_missing
  stop_all
  mkdir -p "$DIR"; chmod 755 "$DIR"
  local pgpw redispw
  pgpw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  redispw=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')

  # PostgreSQL: initdb refuses root, so the cluster belongs to postgres; scram password auth on loopback.
  mkdir -p "$DIR/pg"; chown postgres "$DIR/pg" 2>/dev/null || true
  printf '%s\n' "$pgpw" > "$DIR/pgpw"; chmod 644 "$DIR/pgpw"
  as_postgres "$(pg_bin)/initdb" -D "$DIR/pg" -U postgres --pwfile="$DIR/pgpw" --auth-local=trust --auth-host=scram-sha-256 --no-sync >/dev/null
  rm -f "$DIR/pgpw"
  as_postgres "$(pg_bin)/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/server.log" -w -t 30 start \
    -o "-p $PG_PORT -k $DIR/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=300" >/dev/null
  wait_for postgresql 30 as_postgres psql -h "$DIR/pg" -p "$PG_PORT" -U postgres -c 'select 1'

  # Redis: an ACL file (so ACL SAVE works), default user off, an admin with every permission.
  printf 'user default off\nuser admin on >%s ~* &* +@all\n' "$redispw" > "$DIR/users.acl"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$DIR" --aclfile "$DIR/users.acl" --daemonize yes \
    --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save '' --appendonly no >/dev/null
  wait_for redis 20 sh -c "redis-cli -p $REDIS_PORT --user admin --pass '$redispw' --no-auth-warning ping | grep -q PONG"

  # moto: signatures are checked after the first 3 calls, which create the IAM user and key the tests sign with.
  INITIAL_NO_AUTH_ACTION_COUNT=3 nohup moto_server -H 127.0.0.1 -p "$MOTO_PORT" > "$DIR/moto.log" 2>&1 &
  echo $! > "$DIR/moto.pid"
  wait_for moto 60 curl -sf "http://127.0.0.1:$MOTO_PORT/moto-api/"
  local keys
  keys=$(python3 - "$MOTO_PORT" <<'PY'
import sys, boto3
ep = f"http://127.0.0.1:{sys.argv[1]}"
iam = boto3.client("iam", endpoint_url=ep, region_name="us-east-1", aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="rotation-tests")
iam.put_user_policy(UserName="rotation-tests", PolicyName="all", PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
k = iam.create_access_key(UserName="rotation-tests")["AccessKey"]
print(k["AccessKeyId"], k["SecretAccessKey"])
PY
)
  umask 077
  cat > "$DIR/env" <<ENV
export ROTATION_TEST_PG_HOST=127.0.0.1
export ROTATION_TEST_PG_PORT=$PG_PORT
export ROTATION_TEST_PG_USER=postgres
export ROTATION_TEST_PG_PASSWORD=$pgpw
export ROTATION_TEST_REDIS_ENDPOINT=127.0.0.1:$REDIS_PORT
export ROTATION_TEST_REDIS_ADMIN_USER=admin
export ROTATION_TEST_REDIS_ADMIN_PASSWORD=$redispw
export ROTATION_TEST_REDIS_ACLFILE=$DIR/users.acl
export ROTATION_TEST_AWS_ENDPOINT=http://127.0.0.1:$MOTO_PORT
export ROTATION_TEST_AWS_ACCESS_KEY_ID=${keys% *}
export ROTATION_TEST_AWS_SECRET_ACCESS_KEY=${keys#* }
export AWS_EC2_METADATA_DISABLED=true
ENV
  log "ready: postgresql :$PG_PORT, redis :$REDIS_PORT, moto :$MOTO_PORT; source $DIR/env"
  echo "$DIR/env"
}

case "$cmd" in
  start) start_all ;;
  stop) stop_all ;;
  *) echo "usage: servers.sh start|stop [BASE]" >&2; exit 2 ;;
esac
