#!/usr/bin/env bash
# Prepare this machine for Tessera's tests and demo. Idempotent, and quick (about a second) when
# everything is already in place; one line per step, details only when a step fails.
#
#   1. node     Node.js >= 20.19 and npm are present.
#   2. packages Debian packages (Blender, Postgres, Redis): apt-get install when missing (root only).
#   3. postgres running and reachable at DATABASE_URL: starts (or creates) the local cluster.
#   4. redis    answering at REDIS_URL: starts a local, non-persistent redis-server.
#   5. npm      `npm ci` when node_modules is missing or older than package-lock.json.
#   6. prisma   `prisma generate` when the schema (or the Prisma version) changed.
#   7. database creates the database if missing and applies prisma/migrations (scripts/migrate.ts).
#
# Environment:
#   DATABASE_URL  default postgresql://postgres@127.0.0.1:5432/tessera
#   REDIS_URL     default redis://127.0.0.1:6379
#   SKIP_APT=1    never run apt-get (packages are managed another way); missing ones are reported.
#   BLENDER_PATH  a Blender binary to use instead of Debian's package.
#
# Postgres authentication: the project's default URLs carry no password (user postgres over
# 127.0.0.1). A fresh Debian cluster only allows peer (socket) and scram (TCP) logins, so when that
# passwordless login is refused on a local cluster, this script (as root) adds "trust" lines for user
# postgres from 127.0.0.1 and ::1 only at the top of the cluster's pg_hba.conf and reloads it. That
# is meant for developer and CI machines; anywhere else, set DATABASE_URL with real credentials and
# the script leaves pg_hba.conf alone.
#
# Running the TypeScript migration runner without a build: `npm run build` type-checks the whole
# monorepo (slow, and fails on any unrelated type error), so instead @swc/core (a devDependency
# already used by jest) strips the types in memory through a require hook and Node runs
# scripts/migrate.ts directly (~0.3 s). Production runs the compiled dist/scripts/migrate.js.
#
# The functions can be sourced for testing: `source scripts/setup.sh` defines them without running.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DATABASE_URL="${DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/tessera}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export DEBIAN_FRONTEND=noninteractive
SKIP_APT="${SKIP_APT:-0}"

# Debian packages the project needs. To add one (e.g. chromium for the browser tests), append it
# here and, if its binary is not named like the package, add a case to pkg_present below.
APT_PACKAGES=(blender postgresql redis-server chromium)

LOG_DIR=""

say() { printf 'setup: %-9s %s\n' "$1" "$2"; }
die() {
  printf 'setup: %s\n' "$*" >&2
  exit 1
}
# Run a command with its output in $LOG_DIR/<name>.log; the log is shown when it fails.
logged() {
  local name="$1"
  shift
  [[ -n $LOG_DIR ]] || LOG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/tessera-setup.XXXXXX")"
  local status=0
  "$@" >>"$LOG_DIR/$name.log" 2>&1 </dev/null || status=$?
  ((status != 0)) || return 0
  {
    echo "---- $* (exit $status), last lines of its output:"
    tail -n 40 "$LOG_DIR/$name.log"
    echo "----"
  } >&2
  return "$status"
}
cleanup() { [[ -z $LOG_DIR ]] || rm -rf "$LOG_DIR"; }
is_root() { [[ $(id -u) == 0 ]]; }
elapsed() { echo "$((SECONDS - $1))s"; }

# "scheme://user:pass@host:port/path?query" -> URL_USER URL_PASS URL_HOST URL_PORT
parse_url() {
  local rest="${1#*://}"
  rest="${rest%%[/?]*}"
  local auth=""
  if [[ $rest == *@* ]]; then
    auth="${rest%@*}"
    rest="${rest##*@}"
  fi
  URL_USER="${auth%%:*}"
  URL_PASS=""
  [[ $auth != *:* ]] || URL_PASS="${auth#*:}"
  if [[ $rest == \[* ]]; then # [::1]:5432
    URL_HOST="${rest%%]*}"
    URL_HOST="${URL_HOST#[}"
    rest="${rest#*]}"
    URL_PORT="${rest#:}"
  else
    URL_HOST="${rest%%:*}"
    URL_PORT=""
    [[ $rest != *:* ]] || URL_PORT="${rest##*:}"
  fi
  URL_PORT="${URL_PORT:-$2}"
}
is_local_host() { [[ -z $1 || $1 == 127.0.0.1 || $1 == localhost || $1 == ::1 ]]; }
tcp_open() { timeout 3 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
check_node() {
  command -v node >/dev/null ||
    die "Node.js >= 20.19 is required and 'node' is not on PATH: install Node.js 20 LTS (https://nodejs.org/en/download)."
  local version major minor
  version="$(node -p process.versions.node)"
  IFS=. read -r major minor _ <<<"$version"
  if ((major < 20 || (major == 20 && minor < 19))); then
    die "Node.js >= 20.19 is required, found v$version: install Node.js 20 LTS (https://nodejs.org/en/download)."
  fi
  command -v npm >/dev/null || die "npm is required (it ships with Node.js) but is not on PATH."
  say node "v$version, npm $(npm -v)"
}

# ---------------------------------------------------------------------------------------------
# Present = its program is there, however it was installed.
pkg_present() {
  case "$1" in
    blender) [[ -n ${BLENDER_PATH:-} && -x ${BLENDER_PATH:-} ]] || command -v blender ;;
    postgresql) compgen -G '/usr/lib/postgresql/*/bin/postgres' && command -v pg_ctlcluster ;;
    redis-server) command -v redis-server && command -v redis-cli ;;
    chromium) command -v chromium || command -v chromium-browser ;;
    *) dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' ;;
  esac
} >/dev/null 2>&1

ensure_packages() {
  local missing=() pkg start=$SECONDS
  for pkg in "${APT_PACKAGES[@]}"; do pkg_present "$pkg" || missing+=("$pkg"); done
  if ((${#missing[@]} == 0)); then
    say packages "ok (${APT_PACKAGES[*]})"
    return
  fi
  if [[ $SKIP_APT == 1 ]]; then
    say packages "SKIP_APT=1, not installing missing ${missing[*]}"
    return
  fi
  is_root ||
    die "missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]} (or set SKIP_APT=1 if they come another way)"
  command -v apt-get >/dev/null ||
    die "missing packages ${missing[*]} and no apt-get here: install them another way and set SKIP_APT=1"
  say packages "installing ${missing[*]} with apt-get (takes a few minutes)"
  local apt=(apt-get -q -y -o Dpkg::Use-Pty=0)
  # LANG: a cluster created by the postgresql package gets UTF-8 instead of SQL_ASCII in bare images.
  if ! LANG=C.UTF-8 LC_ALL=C.UTF-8 logged apt "${apt[@]}" update ||
    ! LANG=C.UTF-8 LC_ALL=C.UTF-8 logged apt "${apt[@]}" install "${missing[@]}"; then
    die "apt-get could not install ${missing[*]} (error above). Without network access to a Debian mirror, install them another way and rerun with SKIP_APT=1."
  fi
  for pkg in "${missing[@]}"; do
    pkg_present "$pkg" || die "apt-get installed $pkg but its program is still not found"
  done
  say packages "installed ${missing[*]} ($(elapsed "$start"))"
}

# ---------------------------------------------------------------------------------------------
pg_ready() {
  if command -v pg_isready >/dev/null; then
    pg_isready -q -t 3 ${PG_HOST:+-h "$PG_HOST"} -p "$PG_PORT"
  else
    tcp_open "${PG_HOST:-127.0.0.1}" "$PG_PORT"
  fi
}

# Prints "<version> <cluster>" of the local cluster on $PG_PORT.
pg_cluster() { pg_lsclusters -h 2>/dev/null | awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }'; }

start_postgres() {
  local where="$1"
  is_root || die "Postgres is not running at $where. Start it with: sudo pg_ctlcluster --skip-systemctl-redirect <version> main start"
  command -v pg_lsclusters >/dev/null ||
    die "Postgres is not running at $where and its server is not installed (package postgresql)"
  local cluster
  cluster="$(pg_cluster)"
  if [[ -z $cluster ]]; then
    if [[ -n $(pg_lsclusters -h 2>/dev/null) ]]; then
      die "no local Postgres cluster uses port $PG_PORT (see pg_lsclusters); set DATABASE_URL to one that does"
    fi
    local version
    # shellcheck disable=SC2012 # version directories: 15, 16, ...
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    LANG=C.UTF-8 LC_ALL=C.UTF-8 logged postgres pg_createcluster --port "$PG_PORT" "$version" main ||
      die "could not create a Postgres $version cluster (output above)"
    cluster="$(pg_cluster)"
    [[ -n $cluster ]] || die "pg_createcluster succeeded but no cluster uses port $PG_PORT"
    say postgres "created cluster $cluster"
  fi
  # shellcheck disable=SC2086 # "<version> <name>"
  logged postgres pg_ctlcluster --skip-systemctl-redirect $cluster start ||
    die "could not start Postgres cluster $cluster (output above; log in /var/log/postgresql/)"
  local i
  for ((i = 0; i < 60; i++)); do
    pg_ready && return 0
    sleep 0.5
  done
  die "Postgres cluster $cluster started but does not accept connections at $where"
}

# Can DATABASE_URL's user log in? (A missing database is fine: it is created later.)
PG_LOGIN_ERROR=""
pg_login_ok() {
  command -v psql >/dev/null || return 0 # cannot tell here; the database step will
  PG_LOGIN_ERROR="$(PGCONNECT_TIMEOUT=5 psql -w -X -q -d "${DATABASE_URL%%\?*}" -c 'SELECT 1' 2>&1 >/dev/null)" && return 0
  [[ $PG_LOGIN_ERROR == *'database "'*'" does not exist'* ]]
}

# Let user postgres log in over loopback TCP without a password (see the header).
allow_local_trust() {
  local cluster hba
  cluster="$(pg_cluster)"
  [[ -n $cluster ]] || return 1
  hba="/etc/postgresql/${cluster% *}/${cluster#* }/pg_hba.conf"
  [[ -f $hba ]] || return 1
  if ! grep -q 'tessera scripts/setup.sh' "$hba"; then
    local tmp
    tmp="$(mktemp)"
    {
      echo '# Added by tessera scripts/setup.sh: user postgres logs in over loopback TCP without a password (dev/CI).'
      echo 'host    all    postgres    127.0.0.1/32    trust'
      echo 'host    all    postgres    ::1/128         trust'
      cat "$hba"
    } >"$tmp"
    cat "$tmp" >"$hba" # keeps the file's owner and mode
    rm -f "$tmp"
  fi
  # shellcheck disable=SC2086
  logged postgres pg_ctlcluster --skip-systemctl-redirect $cluster reload
  say postgres "allowed passwordless login for postgres from 127.0.0.1/::1 in $hba"
}

ensure_postgres() {
  parse_url "$DATABASE_URL" 5432
  PG_HOST="$URL_HOST" PG_PORT="$URL_PORT"
  local where="${PG_HOST:-local socket}:$PG_PORT" started=""
  if ! pg_ready; then
    is_local_host "$PG_HOST" || die "Postgres at $where (DATABASE_URL) does not answer; it is not local, so start it there"
    start_postgres "$where"
    started=" (started)"
  fi
  if ! pg_login_ok; then
    if is_root && is_local_host "$PG_HOST" && [[ ${URL_USER:-postgres} == postgres && -z $URL_PASS ]] &&
      allow_local_trust && pg_login_ok; then
      :
    else
      die "cannot log in to Postgres at $where: ${PG_LOGIN_ERROR:-unknown error}. Fix DATABASE_URL (user/password) or pg_hba.conf."
    fi
  fi
  say postgres "ok at $where$started"
}

# ---------------------------------------------------------------------------------------------
redis_ping() {
  if command -v redis-cli >/dev/null; then
    [[ $(timeout 5 redis-cli -u "$REDIS_URL" ping 2>/dev/null) == PONG ]]
  else
    tcp_open "$REDIS_HOST" "$REDIS_PORT"
  fi
}

ensure_redis() {
  parse_url "$REDIS_URL" 6379
  REDIS_HOST="${URL_HOST:-127.0.0.1}" REDIS_PORT="$URL_PORT"
  local where="$REDIS_HOST:$REDIS_PORT"
  if redis_ping; then
    say redis "ok at $where"
    return
  fi
  is_local_host "$REDIS_HOST" || die "Redis at $where (REDIS_URL) does not answer; it is not local, so start it there"
  command -v redis-server >/dev/null || die "Redis is not running at $where and redis-server is not installed"
  local dir=/var/lib/redis logfile=/var/log/redis/ci.log
  if ! is_root; then # a user's own instance
    dir="${XDG_CACHE_HOME:-$HOME/.cache}/tessera/redis"
    logfile="$dir/redis.log"
  fi
  mkdir -p "$dir" "$(dirname "$logfile")"
  logged redis redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" \
    --save "" --appendonly no --dir "$dir" --logfile "$logfile" ||
    die "could not start redis-server (output above)"
  local i
  for ((i = 0; i < 40; i++)); do
    if redis_ping; then
      say redis "ok at $where (started)"
      return
    fi
    sleep 0.25
  done
  tail -n 20 "$logfile" >&2 || true
  die "redis-server started but does not answer at $where (its log above: $logfile)"
}

# ---------------------------------------------------------------------------------------------
ensure_node_modules() {
  local stamp=node_modules/.tessera-installed start=$SECONDS
  LOCK_HASH="$(sha256sum package-lock.json | cut -d' ' -f1)"
  if [[ -d node_modules && -f $stamp && $(<"$stamp") == "$LOCK_HASH" ]]; then
    say npm "ok (node_modules matches package-lock.json)"
    return
  fi
  say npm "installing dependencies (npm ci)"
  logged npm npm ci --no-audit --no-fund || die "npm ci failed (output above)"
  echo "$LOCK_HASH" >"$stamp"
  say npm "installed ($(elapsed "$start"))"
}

ensure_prisma_client() {
  local stamp=generated/.tessera-prisma-generated hash
  # The lockfile pins the Prisma version, which shapes the generated client too.
  hash="$(cat prisma/schema.prisma prisma.config.ts <(echo "$LOCK_HASH") | sha256sum | cut -d' ' -f1)"
  if [[ -f generated/prisma/client.ts && -f $stamp && $(<"$stamp") == "$hash" ]]; then
    say prisma "ok (client is up to date)"
    return
  fi
  # `generate` never runs the schema engine but insists that the (undownloadable) binary exists.
  local engine=node_modules/.cache/tessera/no-schema-engine
  if [[ ! -x $engine ]]; then
    mkdir -p "$(dirname "$engine")"
    printf '#!/bin/sh\necho "Prisma schema engine not available offline: use scripts/migrate.ts" >&2\nexit 1\n' >"$engine"
    chmod +x "$engine"
  fi
  PRISMA_SCHEMA_ENGINE_BINARY="$PWD/$engine" CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1 \
    logged prisma node_modules/.bin/prisma generate ||
    die "prisma generate failed (output above)"
  echo "$hash" >"$stamp"
  say prisma "generated client in generated/prisma"
}

# Load .ts files through @swc/core (see the header) and run scripts/migrate.ts's main().
TS_RUNNER='
const fs = require("fs");
const swc = require("@swc/core");
require.extensions[".ts"] = (module, filename) => {
  const { code } = swc.transformSync(fs.readFileSync(filename, "utf8"), {
    filename, swcrc: false, sourceMaps: "inline",
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
  });
  module._compile(code, filename);
};
require(require("path").resolve(process.argv[1])).main().then((code) => { process.exitCode = code; });
'

ensure_database() {
  local out
  if ! out="$(node -e "$TS_RUNNER" scripts/migrate.ts 2>&1 </dev/null)"; then
    echo "$out" >&2
    die "could not prepare the database (above)"
  fi
  say database "$(tail -n 1 <<<"$out")"
}

main() {
  cd "$ROOT"
  trap cleanup EXIT
  check_node
  ensure_packages
  ensure_postgres
  ensure_redis
  ensure_node_modules
  ensure_prisma_client
  ensure_database
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  main "$@"
fi
