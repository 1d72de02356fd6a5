#!/usr/bin/env bash
# Runs CMD with a PostgreSQL 15 of its own: a fresh cluster (initdb) in a
# temporary directory, listening on a Unix socket in that directory only
# (and, with --tcp, on a free 127.0.0.1 port as well), a role and a database
# for corridor, and the server stopped and the directory removed at the end
# whatever happens. CMD gets in its environment:
#   CORRIDOR_PG_CONNINFO  a libpq conninfo (key=value) for the database
#   CORRIDOR_PG_HOST, CORRIDOR_PG_PORT, CORRIDOR_PG_USER, CORRIDOR_PG_DB
#   CORRIDOR_PG_TCP_PORT  with --tcp: the loopback port, and
#   CORRIDOR_PG_TCP_CONNINFO  a conninfo over it (password in a passfile)
#   CORRIDOR_PG_BIN       the server's bin directory (pg_ctl, psql, ...)
#   CORRIDOR_PG_DATA      the data directory (a test may stop/start it with
#                         "$CORRIDOR_PG_BIN/pg_ctl" -D "$CORRIDOR_PG_DATA",
#                         through $CORRIDOR_PG_RUN when run as root)
#   CORRIDOR_PG_RUN       the command prefix that runs as the server's user
#                         (empty unless run as root)
# and its exit status is CMD's. Exits 77 (meson: skipped) only when the
# PostgreSQL server binaries are not there (tools/deps.sh installs them).
#
# As root: initdb and postgres refuse to run as root, so the cluster belongs
# to an unprivileged user, CORRIDOR_PG_OS_USER, else "postgres" (Debian's
# postgresql-15 package makes it), else "nobody"; the server runs as it
# (runuser), the temporary directory is its, mode 0700. CMD still runs as
# root, which may enter that directory and its socket.
#
# The role is the cluster's only login besides the bootstrap superuser: it
# may create databases (tests make one per case) but is not a superuser, as
# corridord should not be. Authentication is "trust" on the socket, which
# only the directory's owner (and root) can reach; on the loopback port,
# which any local user can, SCRAM with a random password that is only in a
# libpq passfile in the directory (never on a command line).
#
# usage: with_postgres.sh [--tcp] CMD [ARG ...]
set -euo pipefail

PG_ROLE=corridor
PG_DB=corridor
PG_PORT=5432		# the socket's name; the directory is ours alone
PG_START_WAIT_S=60	# pg_ctl -t: a loaded 2-core machine is slow to start
PG_STOP_WAIT_S=30

tcp=0
if [ "${1:-}" = "--tcp" ]; then
	tcp=1
	shift
fi
if [ $# -eq 0 ]; then
	echo "usage: $0 [--tcp] CMD [ARG ...]" >&2
	exit 2
fi

bin="${CORRIDOR_PG_BIN:-}"
if [ -z "$bin" ]; then
	for d in /usr/lib/postgresql/15/bin "$(pg_config --bindir 2>/dev/null || true)"; do
		if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			bin="$d"
			break
		fi
	done
fi
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ] || [ ! -x "$bin/pg_ctl" ]; then
	echo "with_postgres: no PostgreSQL server binaries (initdb, pg_ctl);" \
	    "tools/deps.sh installs postgresql-15: skipped" >&2
	exit 77
fi

run=()
owner=""
if [ "$(id -u)" -eq 0 ]; then
	for u in "${CORRIDOR_PG_OS_USER:-}" postgres nobody; do
		if [ -n "$u" ] && id -u "$u" >/dev/null 2>&1; then
			owner="$u"
			break
		fi
	done
	if [ -z "$owner" ]; then
		echo "with_postgres: running as root and no unprivileged user to run" \
		    "PostgreSQL as (set CORRIDOR_PG_OS_USER)" >&2
		exit 1
	fi
	run=(runuser -u "$owner" --)
fi

top=$(mktemp -d "${TMPDIR:-/tmp}/corridor-pg.XXXXXX")
data="$top/data"
started=0
starter=""
cleanup() {
	# a start under way finishes first (pg_ctl -t bounds it), so that the
	# server it makes is there to be stopped
	if [ -n "$starter" ]; then
		wait "$starter" 2>/dev/null || true
	fi
	if [ "$started" -eq 1 ]; then
		"${run[@]}" "$bin/pg_ctl" -D "$data" -m immediate -t "$PG_STOP_WAIT_S" \
		    stop >/dev/null 2>&1 || true
	fi
	rm -rf "$top"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -n "$owner" ]; then
	chown "$owner" "$top"
fi
chmod 0700 "$top"

# A free loopback port: bound and let go at once, so another may take it
# before the server does; pg_ctl then fails to start and the test fails loudly.
tcp_port=""
listen=""
if [ "$tcp" -eq 1 ]; then
	tcp_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	listen="127.0.0.1"
fi

if ! "${run[@]}" "$bin/initdb" -D "$data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 --no-sync >"$top/initdb.log" 2>&1; then
	cat "$top/initdb.log" >&2
	exit 1
fi
# Test settings: no fsync (the tests check logic, not the disk; the
# durability of a commit is PostgreSQL's own), small memory, a quick
# deadlock check, and the log in the directory for a failing test to show.
cat >>"$data/postgresql.conf" <<CONF
listen_addresses = '$listen'
port = ${tcp_port:-$PG_PORT}
unix_socket_directories = '$top'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 50
deadlock_timeout = 100ms
logging_collector = off
CONF
# In the background, as CMD below: a signal is handled while it runs.
started=1
"${run[@]}" "$bin/pg_ctl" -D "$data" -l "$top/server.log" -w -t "$PG_START_WAIT_S" \
    start >/dev/null &
starter=$!
if ! wait "$starter"; then
	starter=""
	cat "$top/server.log" >&2 || true
	exit 1
fi
starter=""
port="${tcp_port:-$PG_PORT}"

"${run[@]}" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$top" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE $PG_ROLE LOGIN CREATEDB" \
    -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE" >/dev/null

export CORRIDOR_PG_CONNINFO="host=$top port=$port user=$PG_ROLE dbname=$PG_DB"
export CORRIDOR_PG_HOST="$top" CORRIDOR_PG_PORT="$port" CORRIDOR_PG_USER="$PG_ROLE"
export CORRIDOR_PG_DB="$PG_DB" CORRIDOR_PG_BIN="$bin" CORRIDOR_PG_DATA="$data"
export CORRIDOR_PG_RUN="${run[*]}"
if [ -n "$tcp_port" ]; then
	password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077 && echo "*:$tcp_port:*:$PG_ROLE:$password" >"$top/pgpass")
	"${run[@]}" "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$top" -p "$port" -U postgres \
	    -d postgres -f - >/dev/null <<SQL
ALTER ROLE $PG_ROLE PASSWORD '$password';
SQL
	export CORRIDOR_PG_TCP_PORT="$tcp_port"
	export CORRIDOR_PG_TCP_CONNINFO="host=127.0.0.1 port=$tcp_port user=$PG_ROLE dbname=$PG_DB passfile=$top/pgpass"
fi

# CMD in the background and a wait, so that a TERM (meson's timeout) is
# handled at once, passed on to CMD, and the server still stopped: bash runs
# a trap only after the foreground command has ended.
# (<&0: a background command's stdin would otherwise be /dev/null; a
# caller such as tests/integration/pg_server.py holds the server by it.)
"$@" <&0 &
child=$!
trap 'kill -TERM "$child" 2>/dev/null; exit 143' TERM
trap 'kill -INT "$child" 2>/dev/null; exit 130' INT
status=0
wait "$child" || status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ] && [ -s "$top/server.log" ]; then
	echo "with_postgres: the server's log:" >&2
	tail -n 50 "$top/server.log" >&2
fi
exit "$status"
