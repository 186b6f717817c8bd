#!/usr/bin/env bash
# The whole test run, as CI does it (`make test`, `.ci/run`):
#   0. install missing Debian packages and the venv;
#   1. embedded: the whole suite on SQLite + the in-memory channel layer;
#   2. scaled:   tests marked `backend`, `multiprocess` or `scaled` on a throwaway
#                PostgreSQL + Redis on free loopback ports;
#   3. 10-second smoke runs of bench/chat_load.py (embedded and scaled), when it exists,
#      of bench/bot_eval.py on the public evaluation data when the machine has it,
#      bench/guard_bench.py against its targets, and a small bench/import_bench.py.
# Every phase runs even when an earlier one failed; the exit status is non-zero
# if any failed. Servers started here are stopped (and their temp dirs removed)
# on exit, whatever the reason.
#
# KEFU_TEST_DRY=1: collect only (`pytest --collect-only -q`) and run the bench's
# --help instead of the bench: checks the harness itself in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

DRY=${KEFU_TEST_DRY:-0}
PYTEST=(.venv/bin/pytest -p no:cacheprovider)
[ "$DRY" = 1 ] && PYTEST+=(--collect-only -q)

log() { printf '\n==> %s\n' "$*"; }

# --- 0. System packages and venv ----------------------------------------------
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
{ command -v redis-server && command -v redis-cli; } >/dev/null || need+=(redis-server)
command -v chromium >/dev/null || need+=(chromium)
# Chinese text renders as empty boxes in Chromium without a CJK font.
dpkg-query -W -f='${Status}' fonts-wqy-microhei fonts-noto-cjk 2>/dev/null \
    | grep -q "install ok installed" || need+=(fonts-wqy-microhei)
command -v make >/dev/null || need+=(make)
[ ${#need[@]} -eq 0 ] || scripts/apt-ensure.sh "${need[@]}"

make --no-print-directory venv

PGBIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -1)
export KEFU_REQUIRE_FULL_SUITE=1
# pytest-django prefers this variable over pyproject's kefu.settings.test.
unset DJANGO_SETTINGS_MODULE
KEFU_CHROMIUM=$(command -v chromium)
export KEFU_CHROMIUM

# --- Throwaway PostgreSQL and Redis, stopped by the EXIT trap ------------------
PG_DIR="" REDIS_DIR=""

# PostgreSQL refuses to run as root: as root, run its tools as `postgres`.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$PG_DIR" && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

# shellcheck disable=SC2317  # (invoked by the trap)
cleanup() {
    local rc=$? pid
    set +e
    trap - EXIT INT TERM
    if [ -n "$REDIS_DIR" ]; then
        if [ -s "$REDIS_DIR/pid" ]; then
            pid=$(cat "$REDIS_DIR/pid")
            kill "$pid" 2>/dev/null
            # Wait (bounded) until it is gone, then force.
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null
        fi
        rm -rf "$REDIS_DIR"
    fi
    if [ -n "$PG_DIR" ]; then
        if [ -s "$PG_DIR/data/postmaster.pid" ]; then
            pid=$(head -1 "$PG_DIR/data/postmaster.pid")
            as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -m fast -t 30 stop >/dev/null \
                || kill -9 "$pid" 2>/dev/null
        fi
        rm -rf "$PG_DIR"
    fi
    [ -n "$REDIS_DIR$PG_DIR" ] && echo "==> stopped PostgreSQL and Redis, removed temp dirs"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Two distinct free loopback ports (bound together, so they differ).
read -r PGPORT REDISPORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))
')

# Poll COMMAND... until it succeeds, for at most $1 seconds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        if [ $SECONDS -ge $deadline ]; then echo "error: timed out waiting for: $*" >&2; return 1; fi
        sleep 0.1
    done
}

log "starting PostgreSQL on 127.0.0.1:$PGPORT and Redis on 127.0.0.1:$REDISPORT"
PG_DIR=$(mktemp -d -t kefu-pg.XXXXXX)
[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
as_pg "$PGBIN/initdb" -D "$PG_DIR/data" -A trust -U kefu -E UTF8 --locale=C.UTF-8 >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 start \
    -o "-p $PGPORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" >/dev/null \
    || { cat "$PG_DIR/log" >&2; exit 1; }
wait_for 30 "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" -U kefu
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U kefu kefu

REDIS_DIR=$(mktemp -d -t kefu-redis.XXXXXX)
redis-server --port "$REDISPORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save "" \
    --appendonly no --daemonize yes --pidfile "$REDIS_DIR/pid" --logfile "$REDIS_DIR/log"
wait_for 30 bash -c "[ \"\$(redis-cli -h 127.0.0.1 -p $REDISPORT ping)\" = PONG ]" \
    || { cat "$REDIS_DIR/log" >&2; exit 1; }

SCALED_ENV=(
    KEFU_DATABASE_URL="postgres://kefu@127.0.0.1:$PGPORT/kefu"
    KEFU_REDIS_URL="redis://127.0.0.1:$REDISPORT/0"
)

# --- Phases ------------------------------------------------------------------
# Exit code 5 (no tests collected/selected) is a failure like any non-zero code.
declare -A result
run_phase() {
    local name=$1 rc=0; shift
    log "phase $name: $*"
    "$@" || rc=$?
    result[$name]=$rc
    [ $rc -eq 5 ] && echo "phase $name: no tests collected (exit 5)" >&2
    return 0
}

# Tests marked `scaled` need PostgreSQL + Redis (several server processes sharing
# a channel layer); they run in phase 2 only.
run_phase 1-embedded env -u KEFU_DATABASE_URL -u KEFU_REDIS_URL "${PYTEST[@]}" -m "not scaled"
run_phase 2-scaled env "${SCALED_ENV[@]}" "${PYTEST[@]}" -m "backend or multiprocess or scaled"

# The bench starts its own servers (its scaled mode its own PostgreSQL + Redis);
# a smoke run of the product only, without the relay ceiling search.
BENCH=(.venv/bin/python bench/chat_load.py)
if [ ! -f bench/chat_load.py ]; then
    log "phase 3-bench: skipped, bench/chat_load.py does not exist yet"
    BENCH_MODES=()
else
    BENCH_MODES=(embedded scaled)
fi
for mode in "${BENCH_MODES[@]}"; do
    if [ "$DRY" = 1 ]; then
        run_phase "3-bench-$mode" "${BENCH[@]}" --help
    else
        run_phase "3-bench-$mode" timeout 300 "${BENCH[@]}" --mode "$mode" --skip-ceiling \
            --duration 10 --customers 100 --agents 10 --rate 100
    fi
done

# A smoke run of the bot evaluation on the public data sets, when this machine
# has them (they are never copied into the repository): KEFU_EVAL_DATA, or
# ../shared/data next to the checkout, or /work/shared/data.
EVAL_DATA="${KEFU_EVAL_DATA:-}"
for candidate in ../shared/data /work/shared/data; do
    [ -n "$EVAL_DATA" ] && break
    [ -d "$candidate/faq" ] && EVAL_DATA="$candidate"
done
if [ -z "$EVAL_DATA" ]; then
    log "phase 3-bot-eval: skipped, no evaluation data on this machine"
elif [ "$DRY" = 1 ]; then
    run_phase 3-bot-eval .venv/bin/python bench/bot_eval.py --help
else
    run_phase 3-bot-eval timeout 600 .venv/bin/python bench/bot_eval.py \
        --faq "$EVAL_DATA/faq/banking77_faq.jsonl" --queries "$EVAL_DATA/faq/banking77_queries.jsonl" \
        --sentiment "$EVAL_DATA/sentiment/amazon_en.csv" --pad-faqs 2000
fi

# The compliance guard's speed against its targets (fails the phase if missed).
if [ "$DRY" = 1 ]; then
    run_phase 3-guard-bench .venv/bin/python bench/guard_bench.py --help
else
    run_phase 3-guard-bench timeout 300 .venv/bin/python bench/guard_bench.py \
        --messages 10000 --check
fi

# The order import bench, small: it runs end to end on SQLite and on its own
# PostgreSQL (the full run with --check is in docs/BENCHMARKS.md; at this size
# the ratios are too noisy to judge).
if [ "$DRY" = 1 ]; then
    run_phase 3-import-bench .venv/bin/python bench/import_bench.py --help
else
    run_phase 3-import-bench timeout 600 .venv/bin/python bench/import_bench.py --orders 5000
fi

# --- Summary -----------------------------------------------------------------
log "summary"
status=0
for name in 1-embedded 2-scaled 3-bench-embedded 3-bench-scaled 3-bot-eval 3-guard-bench 3-import-bench; do
    [ -n "${result[$name]+set}" ] || continue
    if [ "${result[$name]}" -eq 0 ]; then
        echo "  $name: passed"
    else
        echo "  $name: FAILED (exit ${result[$name]})"
        status=1
    fi
done
exit $status
