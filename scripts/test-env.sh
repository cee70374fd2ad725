#!/usr/bin/env bash
# Real test environment for dts: four MariaDB servers and one Kafka-compatible
# broker (tansu), all bound to 127.0.0.1, all state under target/test-env/.
#
#   scripts/test-env.sh up            install what is missing, start everything, wait, print env
#   scripts/test-env.sh down          stop what this script started (data is kept)
#   scripts/test-env.sh down --purge  stop and remove target/test-env (also: purge, reset)
#   scripts/test-env.sh status        print each service up/down (exit 1 if any is down)
#   scripts/test-env.sh env           print `export DTS_TEST_...=...` lines for eval
#
# Services (ports overridable by environment variables):
#   source         127.0.0.1:33061  server_id 1  gtid_domain_id 1  (DTS_TEST_SOURCE_PORT)
#   destination    127.0.0.1:33062  server_id 2  gtid_domain_id 2  (DTS_TEST_DEST_PORT)
#   peer           127.0.0.1:33063  server_id 3  gtid_domain_id 3  (DTS_TEST_PEER_PORT)
#   misconfigured  127.0.0.1:33064  server_id 4  gtid_domain_id 4  (DTS_TEST_MISCONFIGURED_PORT)
#                  binlog_format=MIXED, binlog_row_image=MINIMAL, binlog_row_metadata=MINIMAL
#   tansu (Kafka)  127.0.0.1:19092  memory storage                  (DTS_TEST_KAFKA_PORT)
#
# Every MariaDB server: root with an empty password (socket and TCP), and user
# dts / dts-secret (@'%', @'127.0.0.1', @'localhost') with ALL PRIVILEGES WITH
# GRANT OPTION. The system MariaDB on 3306 and /etc/mysql are never touched.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ENV_DIR="$ROOT/target/test-env"

SOURCE_PORT="${DTS_TEST_SOURCE_PORT:-33061}"
DEST_PORT="${DTS_TEST_DEST_PORT:-33062}"
PEER_PORT="${DTS_TEST_PEER_PORT:-33063}"
MISCONFIGURED_PORT="${DTS_TEST_MISCONFIGURED_PORT:-33064}"
KAFKA_PORT="${DTS_TEST_KAFKA_PORT:-19092}"

# name:port:server_id (server_id doubles as gtid_domain_id)
INSTANCES=(
    "source:$SOURCE_PORT:1"
    "destination:$DEST_PORT:2"
    "peer:$PEER_PORT:3"
    "misconfigured:$MISCONFIGURED_PORT:4"
)

TANSU_VERSION="0.6.0"
TANSU_INSTALL_LOG="/tmp/tansu-install.log"
DB_START_TIMEOUT="${DTS_TEST_DB_START_TIMEOUT:-90}"
KAFKA_START_TIMEOUT="${DTS_TEST_KAFKA_START_TIMEOUT:-60}"
TANSU_INSTALL_TIMEOUT="${DTS_TEST_TANSU_INSTALL_TIMEOUT:-3600}"

# Debian packages needed by the environment and by the workspace build
# (rdkafka-sys compiles librdkafka from source with its configure/make).
DEBIAN_PACKAGES=(mariadb-server mariadb-client build-essential pkg-config zlib1g-dev)

export PATH="$PATH:$HOME/.cargo/bin"

log() { printf '[test-env] %s\n' "$*" >&2; }
die() { printf '[test-env] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- helpers

port_open() { # port -> 0 if something accepts TCP connections on 127.0.0.1:port
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# pid from a pid file, only if the process is alive and its command line
# contains `marker` (guards against pid reuse); removes stale pid files.
read_pid() { # pidfile marker
    local pidfile="$1" marker="$2" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(tr -dc '0-9' <"$pidfile" || true)"
    if pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$marker"; then
        echo "$pid"
        return 0
    fi
    log "removing stale pid file $pidfile"
    rm -f "$pidfile"
    return 1
}

tail_log() { # file
    if [[ -f "$1" ]]; then
        printf -- '----- last lines of %s -----\n' "$1" >&2
        tail -n 40 "$1" >&2 || true
        printf -- '-----\n' >&2
    else
        printf -- '(no log file %s)\n' "$1" >&2
    fi
}

pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_debian_packages() {
    local missing=() p
    for p in "${DEBIAN_PACKAGES[@]}"; do
        pkg_installed "$p" || missing+=("$p")
    done
    if ! command -v mariadbd >/dev/null && [[ ! -x /usr/sbin/mariadbd ]]; then
        [[ " ${missing[*]-} " == *" mariadb-server "* ]] || missing+=(mariadb-server)
    fi
    ((${#missing[@]} == 0)) && return 0
    command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

MARIADBD=""
find_mariadb_tools() {
    MARIADBD="$(command -v mariadbd || true)"
    [[ -z "$MARIADBD" && -x /usr/sbin/mariadbd ]] && MARIADBD=/usr/sbin/mariadbd
    [[ -n "$MARIADBD" ]] || die "mariadbd not found after installing mariadb-server"
    command -v mariadb-install-db >/dev/null || die "mariadb-install-db not found"
    command -v mariadb-admin >/dev/null || die "mariadb-admin not found"
    command -v mariadb >/dev/null || die "mariadb client not found"
}

# cargo install running right now (by someone else, e.g. a previous `up`)?
tansu_install_running() { pgrep -f '^([^ ]*/)?cargo install tansu' >/dev/null 2>&1; }

TANSU=""
ensure_tansu() {
    TANSU="$(command -v tansu || true)"
    [[ -n "$TANSU" ]] && return 0
    if tansu_install_running; then
        log "a 'cargo install tansu' is already running; waiting for it (log: $TANSU_INSTALL_LOG)"
        local waited=0
        while tansu_install_running; do
            sleep 5
            waited=$((waited + 5))
            ((waited % 60 == 0)) && log "still waiting for cargo install tansu (${waited}s)"
            ((waited < TANSU_INSTALL_TIMEOUT)) || die "cargo install tansu still running after ${waited}s"
        done
        TANSU="$(command -v tansu || true)"
    fi
    if [[ -z "$TANSU" ]]; then
        log "installing tansu $TANSU_VERSION with cargo (several minutes; log: $TANSU_INSTALL_LOG)"
        if ! cargo install tansu --locked --version "$TANSU_VERSION" \
            --no-default-features --features dynostore >"$TANSU_INSTALL_LOG" 2>&1; then
            tail_log "$TANSU_INSTALL_LOG"
            die "cargo install tansu failed"
        fi
        TANSU="$(command -v tansu || true)"
    fi
    [[ -n "$TANSU" ]] || { tail_log "$TANSU_INSTALL_LOG"; die "tansu is not on PATH after cargo install"; }
}

# ---------------------------------------------------------------- MariaDB

inst_field() { # "name:port:id" index
    local IFS=:
    # shellcheck disable=SC2206
    local parts=($1)
    echo "${parts[$2]}"
}

inst_dir() { echo "$ENV_DIR/$1"; }

inst_socket() { # name; unix socket paths are limited to ~107 bytes
    local sock
    sock="$(inst_dir "$1")/mariadbd.sock"
    if ((${#sock} > 100)); then
        sock="/tmp/dts-test-env-$(printf '%s' "$ENV_DIR" | md5sum | cut -c1-10)-$1.sock"
    fi
    echo "$sock"
}

write_cnf() { # name port server_id
    local name="$1" port="$2" id="$3" dir
    dir="$(inst_dir "$name")"
    local format=ROW image=FULL metadata=FULL
    if [[ "$name" == misconfigured ]]; then
        format=MIXED image=MINIMAL metadata=MINIMAL
    fi
    cat >"$dir/my.cnf" <<EOF
# generated by scripts/test-env.sh; rewritten on every start
[mariadbd]
user = root
datadir = $dir/data
tmpdir = $dir/tmp
socket = $(inst_socket "$name")
pid-file = $dir/mariadbd.pid
log-error = $dir/mariadbd.log
port = $port
bind-address = 127.0.0.1
skip-name-resolve
server_id = $id
gtid_domain_id = $id
gtid_strict_mode = ON
log_bin = binlog
relay_log = relay-bin
log_slave_updates = ON
binlog_format = $format
binlog_row_image = $image
binlog_row_metadata = $metadata
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
max_allowed_packet = 1G
innodb_buffer_pool_size = 256M
innodb_log_file_size = 64M
innodb_flush_log_at_trx_commit = 2
sync_binlog = 0
performance_schema = OFF
max_connections = 500
EOF
}

db_pid() { read_pid "$(inst_dir "$1")/mariadbd.pid" "$(inst_dir "$1")/my.cnf"; }

db_ping() { # port
    mariadb-admin --no-defaults --protocol=tcp -h127.0.0.1 -P"$1" -uroot \
        --connect-timeout=2 ping >/dev/null 2>&1
}

db_sql() { # name sql  (as root over the instance's own socket)
    mariadb --no-defaults -S "$(inst_socket "$1")" -uroot --batch --skip-column-names -e "$2"
}

db_start() { # "name:port:id"
    local name port id dir
    name="$(inst_field "$1" 0)"
    port="$(inst_field "$1" 1)"
    id="$(inst_field "$1" 2)"
    dir="$(inst_dir "$name")"

    if db_pid "$name" >/dev/null; then
        local running_port
        running_port="$(sed -n 's/^port = //p' "$dir/my.cnf")"
        [[ "$running_port" == "$port" ]] ||
            die "$name is running on port $running_port, not $port; run 'scripts/test-env.sh down' first"
        log "$name already running (pid $(db_pid "$name"), port $port)"
        return 0
    fi
    if port_open "$port"; then
        die "port $port (for $name) is in use by a process this script did not start; stop it or set DTS_TEST_$(echo "$name" | tr '[:lower:]' '[:upper:]' | sed 's/DESTINATION/DEST/')_PORT"
    fi

    # a private tmpdir: parallel bootstraps sharing /tmp collide on temporary-table names
    mkdir -p "$dir/tmp"
    write_cnf "$name" "$port" "$id"
    if [[ ! -d "$dir/data/mysql" ]]; then
        log "initialising $name datadir"
        rm -rf "$dir/data" "$dir/data.init"
        # Initialise aside and rename, so an interrupted init is never mistaken for a datadir.
        sed "s|^datadir = .*|datadir = $dir/data.init|" "$dir/my.cnf" >"$dir/my-init.cnf"
        if ! mariadb-install-db --defaults-file="$dir/my-init.cnf" --user=root \
            --auth-root-authentication-method=normal --skip-test-db \
            >"$dir/install-db.log" 2>&1; then
            tail_log "$dir/install-db.log"
            tail_log "$dir/mariadbd.log"
            die "mariadb-install-db failed for $name"
        fi
        rm -f "$dir/my-init.cnf"
        mv "$dir/data.init" "$dir/data"
        # the bootstrap wrote its own log; start the server log afresh
        : >"$dir/mariadbd.log"
    fi
    rm -f "$dir/mariadbd.pid"
    log "starting $name on 127.0.0.1:$port"
    nohup setsid "$MARIADBD" --defaults-file="$dir/my.cnf" --user=root \
        >>"$dir/mariadbd.stdout.log" 2>&1 </dev/null &
    echo $! >"$dir/mariadbd.pid.launch"
}

db_wait() { # "name:port:id"
    local name port dir launch_pid waited=0
    name="$(inst_field "$1" 0)"
    port="$(inst_field "$1" 1)"
    dir="$(inst_dir "$name")"
    launch_pid="$(cat "$dir/mariadbd.pid.launch" 2>/dev/null || true)"
    while ! db_ping "$port"; do
        if [[ -n "$launch_pid" ]] && ! pid_alive "$launch_pid"; then
            tail_log "$dir/mariadbd.log"
            tail_log "$dir/mariadbd.stdout.log"
            die "$name (mariadbd) exited during startup; if its datadir is damaged, run 'scripts/test-env.sh reset' (removes all test data) and retry"
        fi
        if ((waited >= DB_START_TIMEOUT * 2)); then
            tail_log "$dir/mariadbd.log"
            die "$name did not answer on 127.0.0.1:$port within ${DB_START_TIMEOUT}s"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
    # the server writes its pid file itself; fall back to the launch pid
    local _
    for _ in $(seq 1 20); do
        [[ -s "$dir/mariadbd.pid" ]] && break
        sleep 0.25
    done
    [[ -s "$dir/mariadbd.pid" ]] || echo "$launch_pid" >"$dir/mariadbd.pid"
    rm -f "$dir/mariadbd.pid.launch"
}

db_setup_users() { # name  (idempotent; kept out of the binlog so tests start from clean binlogs)
    db_sql "$1" "
        SET SESSION sql_log_bin = 0;
        CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
        GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
        CREATE USER IF NOT EXISTS 'dts'@'%' IDENTIFIED BY 'dts-secret';
        CREATE USER IF NOT EXISTS 'dts'@'127.0.0.1' IDENTIFIED BY 'dts-secret';
        CREATE USER IF NOT EXISTS 'dts'@'localhost' IDENTIFIED BY 'dts-secret';
        GRANT ALL PRIVILEGES ON *.* TO 'dts'@'%' WITH GRANT OPTION;
        GRANT ALL PRIVILEGES ON *.* TO 'dts'@'127.0.0.1' WITH GRANT OPTION;
        GRANT ALL PRIVILEGES ON *.* TO 'dts'@'localhost' WITH GRANT OPTION;
        FLUSH PRIVILEGES;" ||
        die "could not create users on $1"
}

db_stop() { # "name:port:id"
    local name port dir pid waited=0
    name="$(inst_field "$1" 0)"
    port="$(inst_field "$1" 1)"
    dir="$(inst_dir "$name")"
    pid="$(db_pid "$name" || true)"
    if [[ -z "$pid" ]]; then
        log "$name not running"
        return 0
    fi
    log "stopping $name (pid $pid)"
    mariadb-admin --no-defaults -S "$(inst_socket "$name")" -uroot shutdown >/dev/null 2>&1 ||
        kill -TERM "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do
        if ((waited == 120)); then
            log "$name did not stop in 60s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.5
        waited=$((waited + 1))
        ((waited < 140)) || die "could not stop $name (pid $pid)"
    done
    rm -f "$dir/mariadbd.pid"
}

# ---------------------------------------------------------------- tansu

TANSU_DIR="$ENV_DIR/tansu"
TANSU_MARKER="--cluster-id dts-test"

tansu_pid() { read_pid "$TANSU_DIR/tansu.pid" "$TANSU_MARKER"; }

tansu_start() {
    if tansu_pid >/dev/null; then
        local running_port
        running_port="$(cat "$TANSU_DIR/tansu.port" 2>/dev/null || true)"
        [[ "$running_port" == "$KAFKA_PORT" ]] ||
            die "tansu is running on port $running_port, not $KAFKA_PORT; run 'scripts/test-env.sh down' first"
        log "tansu already running (pid $(tansu_pid), port $KAFKA_PORT)"
        return 0
    fi
    if port_open "$KAFKA_PORT"; then
        die "port $KAFKA_PORT (for tansu) is in use by a process this script did not start; stop it or set DTS_TEST_KAFKA_PORT"
    fi
    mkdir -p "$TANSU_DIR"
    log "starting tansu on 127.0.0.1:$KAFKA_PORT"
    RUST_LOG="${DTS_TEST_TANSU_LOG:-warn}" nohup setsid "$TANSU" broker \
        --cluster-id dts-test \
        --storage-engine memory://tansu/ \
        --listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
        --advertised-listener-url "tcp://127.0.0.1:$KAFKA_PORT" \
        >>"$TANSU_DIR/tansu.log" 2>&1 </dev/null &
    echo $! >"$TANSU_DIR/tansu.pid"
    echo "$KAFKA_PORT" >"$TANSU_DIR/tansu.port"
}

tansu_wait() {
    local pid waited=0
    pid="$(cat "$TANSU_DIR/tansu.pid" 2>/dev/null || true)"
    while ! port_open "$KAFKA_PORT"; do
        if ! pid_alive "$pid"; then
            tail_log "$TANSU_DIR/tansu.log"
            rm -f "$TANSU_DIR/tansu.pid"
            die "tansu exited during startup"
        fi
        if ((waited >= KAFKA_START_TIMEOUT * 2)); then
            tail_log "$TANSU_DIR/tansu.log"
            die "tansu did not accept connections on 127.0.0.1:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s"
        fi
        sleep 0.5
        waited=$((waited + 1))
    done
}

tansu_stop() {
    local pid waited=0
    pid="$(tansu_pid || true)"
    if [[ -z "$pid" ]]; then
        log "tansu not running"
        return 0
    fi
    log "stopping tansu (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    while pid_alive "$pid"; do
        if ((waited == 20)); then
            log "tansu did not stop in 10s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.5
        waited=$((waited + 1))
        ((waited < 40)) || die "could not stop tansu (pid $pid)"
    done
    rm -f "$TANSU_DIR/tansu.pid"
}

# ---------------------------------------------------------------- commands

print_env() {
    echo "export DTS_TEST_SOURCE_URL=mysql://root@127.0.0.1:$SOURCE_PORT"
    echo "export DTS_TEST_DEST_URL=mysql://root@127.0.0.1:$DEST_PORT"
    echo "export DTS_TEST_PEER_URL=mysql://root@127.0.0.1:$PEER_PORT"
    echo "export DTS_TEST_MISCONFIGURED_URL=mysql://root@127.0.0.1:$MISCONFIGURED_PORT"
    echo "export DTS_TEST_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    echo "export DTS_TEST_ENV_DIR=$ENV_DIR"
}

cmd_up() {
    local start=$SECONDS inst
    ensure_debian_packages
    find_mariadb_tools
    mkdir -p "$ENV_DIR"
    # initialise and launch the servers in parallel (each launch returns at once)
    local pids=() pid failed=0
    for inst in "${INSTANCES[@]}"; do
        db_start "$inst" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    ((failed == 0)) || die "could not start the MariaDB servers (see above)"
    for inst in "${INSTANCES[@]}"; do
        db_wait "$inst"
        db_setup_users "$(inst_field "$inst" 0)"
    done
    ensure_tansu
    tansu_start
    tansu_wait
    log "all services up ($((SECONDS - start))s)"
    cmd_status >&2 || true
    print_env
}

cmd_down() {
    local purge=0 inst
    case "${1:-}" in
    "") ;;
    --purge) purge=1 ;;
    *) die "unknown option for down: $1" ;;
    esac
    local pids=() pid failed=0
    for inst in "${INSTANCES[@]}"; do
        db_stop "$inst" &
        pids+=($!)
    done
    tansu_stop &
    pids+=($!)
    for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
    ((failed == 0)) || die "some services could not be stopped"
    if ((purge)); then
        log "removing $ENV_DIR"
        rm -rf "$ENV_DIR"
        rm -f /tmp/dts-test-env-"$(printf '%s' "$ENV_DIR" | md5sum | cut -c1-10)"-*.sock
    fi
}

cmd_status() {
    local all=0 inst name port pid state
    for inst in "${INSTANCES[@]}"; do
        name="$(inst_field "$inst" 0)"
        port="$(inst_field "$inst" 1)"
        if pid="$(db_pid "$name" 2>/dev/null)" && db_ping "$port"; then
            state="up    pid $pid"
        elif [[ -n "${pid:-}" ]]; then
            state="down  (pid $pid alive but not answering)"
            all=1
        else
            state="down"
            all=1
        fi
        printf '%-14s mariadb 127.0.0.1:%-6s %s\n' "$name" "$port" "$state"
    done
    if pid="$(tansu_pid 2>/dev/null)" && port_open "$KAFKA_PORT"; then
        state="up    pid $pid"
    else
        state="down"
        all=1
    fi
    printf '%-14s kafka   127.0.0.1:%-6s %s\n' "tansu" "$KAFKA_PORT" "$state"
    return $all
}

usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

case "${1:-}" in
up) cmd_up ;;
down) shift; cmd_down "$@" ;;
purge | reset) cmd_down --purge ;;
status) cmd_status ;;
env) print_env ;;
*) usage ;;
esac
