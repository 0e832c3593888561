#!/usr/bin/env bash
# pg_cluster.sh — a throwaway PostgreSQL 15 cluster for the lab and its tests:
# made with initdb in a new temporary folder owned by the `postgres` system user
# (the server refuses to run as root), reachable only through a Unix socket in
# that folder, durability off (nothing is kept). See --help.
#
# Exit: 0 done, 1 PostgreSQL failed (its log is printed), 2 bad usage or setup.
set -u -o pipefail

prog=pg_cluster.sh
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

usage() {
	cat <<USAGE
usage: load/harness/pg_cluster.sh start [MAX_CONNECTIONS [OWNER_PID]]
       load/harness/pg_cluster.sh stop|halt|resume|settings DIR

  start [N]    initdb in a new folder under \${TMPDIR:-/tmp}, start the server with
               max_connections=N (default 100) listening only on DIR's Unix
               socket, wait until it accepts connections, and print one line:
               the libpq conninfo "host=DIR user=postgres dbname=postgres".
               On any failure nothing is left running and the folder is gone.
               With OWNER_PID, a watcher stops the cluster once that process is
               gone (a test killed by its timeout leaves no server behind).
               As root, the cluster's processes get a cgroup v2 of their own,
               linked from DIR/cgroup (its cpu.stat: their CPU in one read),
               and a CPU group of their own, linked from DIR/cpu-group: to the
               scheduler the whole cluster is one task beside the lab's
               programs, as a database in a container of its own is (the
               v2 cgroup where its cpu controller is on, else cgroup v1's cpu
               hierarchy). PG_CPU_GROUP=no leaves every backend a task
               of its own, as a bare install runs them.
  stop DIR     fast shutdown (sessions ended, no waiting for them), then remove DIR
  halt DIR     immediate shutdown, as a crash: every backend killed at once;
               DIR is kept so that resume can start the same cluster again
  resume DIR   start the cluster in DIR again (after halt)
  settings DIR print "version", then "name = setting" for every setting that
               is not the default (what a run folder keeps)

Run as root (the server runs as \`postgres\` through runuser) or as postgres.
PGBIN overrides the programs' folder (default $PGBIN).
USAGE
}
die() { echo "$prog: $*" >&2; exit "${2:-2}"; }

as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Every server setting lives in DIR/postgresql.auto.conf, so resume starts the
# same server with a bare pg_ctl start.
write_settings() { # DIR MAX_CONNECTIONS
	cat >"$1/data/postgresql.auto.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$1'
max_connections = $2
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
logging_collector = off
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track_utility = off
CONF
}

# The cluster's processes live in a cgroup of their own where this shell may
# make one (cgroup v2, as root), linked from DIR/cgroup: its cpu.stat gives the
# whole cluster's CPU in one read. Summing every backend's /proc entry instead
# took 2 to 6 s with 1,500 backends at work, too long for a reading taken
# between two instants of a load.
make_cgroup() { # DIR: prints nothing when no cgroup can be made
	local root
	[ "$(id -u)" = 0 ] || return 0
	[ -d "$1/cgroup" ] && { readlink "$1/cgroup"; return 0; }
	root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$root" ] && mkdir "$root/${1##*/}" 2>/dev/null || return 0
	ln -s "$root/${1##*/}" "$1/cgroup" && echo "$root/${1##*/}"
}

# And a CPU group of their own. Without one, the scheduler weighs each backend
# as a task like the server's event loop: when the users run in step, a round's
# 500 queries end together and the loops wait behind 500 woken backends, round
# after round (docs/POSTGRES.md, "The in-order routes: the users in step").
# With one, the cluster is one task beside the loops, as a database in a
# container of its own (or on a host of its own) is. The cgroup v2 above does
# it where its cpu controller is on; on a hybrid mount (cgroup v1's cpu
# hierarchy beside a v2 with no controllers) a v1 cpu cgroup does. Left at the
# default weight (cpu.shares 1024, cpu.weight 100): the lowest weight made the
# backends wait behind everything else after their sleeps. Linked from
# DIR/cpu-group; prints nothing where neither can be made.
make_cpu_group() { # DIR V2_CGROUP
	local v1
	[ "$(id -u)" = 0 ] && [ "${PG_CPU_GROUP:-yes}" != no ] || return 0
	[ -L "$1/cpu-group" ] && { readlink "$1/cpu-group"; return 0; }
	if [ -n "$2" ] && grep -qw cpu "$2/cgroup.controllers" 2>/dev/null; then
		ln -s "$2" "$1/cpu-group" && echo "$2"
		return 0
	fi
	v1=$(awk '$3 == "cgroup" && ("," $4 ",") ~ /,cpu,/ { print $2; exit }' /proc/mounts)
	[ -n "$v1" ] && mkdir "$v1/${1##*/}" 2>/dev/null || return 0
	ln -s "$v1/${1##*/}" "$1/cpu-group" && echo "$v1/${1##*/}"
}

remove_cgroup() { # DIR: once the cluster's processes are gone
	local cg link
	for link in cpu-group cgroup; do
		cg=$(readlink "$1/$link" 2>/dev/null) || continue
		# a backend still exiting keeps it busy for a moment
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			[ -d "$cg" ] || break
			rmdir "$cg" 2>/dev/null && break
			sleep 0.2
		done
	done
}

start_server() { # DIR
	local cg cpu
	cg=$(make_cgroup "$1")
	cpu=$(make_cpu_group "$1" "$cg")
	(
		# this subshell, then pg_ctl and the postmaster it forks, join them
		[ -z "$cg" ] || echo "$BASHPID" >"$cg/cgroup.procs" 2>/dev/null || true
		[ -z "$cpu" ] || [ "$cpu" = "$cg" ] || echo "$BASHPID" >"$cpu/cgroup.procs" 2>/dev/null || true
		as_pg "$PGBIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 30 -s start >/dev/null
	)
}

check_dir() {
	[ -n "${1:-}" ] || die "$2 needs the cluster's folder"
	[ -f "$1/data/PG_VERSION" ] || die "$1 is not a cluster made by $prog start"
}

cmd=${1:-}
case "$cmd" in
-h|--help) usage; exit 0 ;;
start)
	max=${2:-100}
	[ -z "${3:-}" ] || [[ $3 =~ ^[0-9]+$ ]] || die "OWNER_PID must be a process id, not '$3'"
	[[ $max =~ ^[0-9]+$ ]] && [ "$max" -ge 5 ] && [ "$max" -le 100000 ] ||
		die "MAX_CONNECTIONS must be 5..100000, not '$max'"
	[ -x "$PGBIN/initdb" ] || die "no $PGBIN/initdb: install postgresql-15 (make deps)"
	if [ "$(id -u)" != 0 ] && [ "$(id -un)" != postgres ]; then
		die "run as root or as postgres (the server runs as the postgres user)"
	fi
	dir=$(mktemp -d "${TMPDIR:-/tmp}/lab-pg.XXXXXX") || die "mktemp failed"
	# Traversable by postgres whatever the umask of the folder above it.
	chmod 755 "$dir"
	[ "$(id -u)" = 0 ] && chown postgres: "$dir"
	fail() {
		echo "$prog: $1" >&2
		[ -f "$dir/server.log" ] && sed 's/^/  /' "$dir/server.log" >&2
		as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -s stop >/dev/null 2>&1
		remove_cgroup "$dir"
		rm -rf "$dir"
		exit 1
	}
	trap 'fail "interrupted"' INT TERM
	if ! out=$(as_pg "$PGBIN/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 \
		--no-instructions 2>&1); then
		printf '%s\n' "$out" >&2
		fail "initdb -D $dir/data failed"
	fi
	write_settings "$dir" "$max"
	start_server "$dir" || fail "pg_ctl start failed (max_connections=$max)"
	# each query's own time by PostgreSQL's clock (pg_measures.query_time)
	as_pg psql -X -q -h "$dir" -U postgres -d postgres \
		-c 'create extension pg_stat_statements' >/dev/null 2>&1 ||
		fail "create extension pg_stat_statements failed"
	if [ -n "${3:-}" ]; then
		# Detached, and holding none of our descriptors: a caller reading our
		# output through a pipe must see it end when we exit.
		setsid bash -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2" ]; do sleep 1; done
			[ -d "$2" ] && "$0" stop "$2"' "$0" "$3" "$dir" </dev/null >/dev/null 2>&1 &
	fi
	echo "host=$dir user=postgres dbname=postgres"
	;;
stop)
	check_dir "${2:-}" stop
	# Fast shutdown cancels the sessions; a server already down is fine.
	as_pg "$PGBIN/pg_ctl" -D "$2/data" -m fast -w -t 30 -s stop >/dev/null 2>&1 ||
		as_pg "$PGBIN/pg_ctl" -D "$2/data" -m immediate -w -s stop >/dev/null 2>&1
	remove_cgroup "$2"
	rm -rf "$2"
	;;
halt)
	check_dir "${2:-}" halt
	as_pg "$PGBIN/pg_ctl" -D "$2/data" -m immediate -w -t 30 -s stop >/dev/null ||
		die "pg_ctl -m immediate stop failed in $2" 1
	;;
resume)
	check_dir "${2:-}" resume
	start_server "$2" || { sed 's/^/  /' "$2/server.log" >&2; die "pg_ctl start failed in $2" 1; }
	;;
settings)
	check_dir "${2:-}" settings
	as_pg psql -X -A -t -q -h "$2" -U postgres -d postgres -c 'select version()' \
		-c "select name || ' = ' || setting || coalesce(' ' || unit, '')
		    from pg_settings where source not in ('default', 'override')
		    order by name" || die "psql against $2 failed" 1
	;;
*) usage >&2; exit 2 ;;
esac
