#!/usr/bin/env bash
# compare.sh — the lab's main job: every scenario of the route table against a
# freshly started server, one after another, into a new run folder; then
# bin/report on it. `make compare` and `make sweep` call this with the profile's
# values resolved (reports/profiles.mk); see --help.
#
# Exit: 0 every scenario ran (failed requests are results, not failures to run),
# 1 a scenario failed to run or the report failed, 2 bad usage or setup.
# Everything it starts runs in its own process group and is stopped at the end,
# on failure and on Ctrl-C.
set -u -o pipefail

prog=compare.sh
usage() {
	cat <<EOF
usage: load/compare.sh [options]

Runs each route of the route table (bin/load --routes) against a fresh server
(bin/blocking or bin/evented on 127.0.0.1:0), writes RUNS_DIR/<timestamp>/ and
points RUNS_DIR/latest at it, then runs bin/report on it.

  --profile NAME       recorded in run.env (the values come from the flags)  [quick]
  --users N            Locust -u                                             [500]
  --spawn-rate R       Locust -r, users per second                           [1000]
  --run-time S         Locust -t, seconds per scenario                       [15]
  --task-ms MS         the servers' --task-ms                                [250]
  --task-cpu-ms MS     the servers' --task-cpu-ms (the CPU routes' work)     [3]
  --offload-threads N  bin/evented --offload-threads                         [2]
  --threads N          bin/blocking --threads; "users": one per user at each
                       sweep point (what a thread costs)                    [80]
  --helpers N          bin/blocking --helpers      [3 x threads: never binds]
  --workers N          bin/evented --workers                                 [2]
  --wait MIN[-MAX]     think time between a user's requests, seconds         [0]
  --scenarios A,B      user classes to run                          [all routes]
  --target T           c (bin/blocking, bin/evented), fastapi (the original
                       stack: load/peers/app.py on Debian's uvicorn, 2 worker
                       processes of 40 threads; folders NN-CLASS-fastapi) or
                       both, one after the other in one run folder        [c]
  --load TOOL          bin/load, locust (Debian's, with load/locustfile.py), or
                       locust-master (Locust's master, bin/load workers) [bin/load]
  --locust-workers N   with --load locust: a master and N worker processes on
                       127.0.0.1 (Locust's distributed mode), for more load than
                       one Locust process (one core) makes; 0 = one process [0]
  --load-workers N     with --load locust-master: bin/load --worker processes  [1]
  --sweep "N N ..."    run each scenario at each of these user counts
                       (folders NN-CLASS-uN, SWEEP=1); --users is then unused
  --runs-dir DIR       where run folders go                       [reports/runs]
  --bin DIR            where the programs are                              [bin]
  --help               this text

Exit: 0 all scenarios ran, 1 a scenario failed to run or the report failed,
2 bad usage or setup. Load tests only ever target 127.0.0.1.
EOF
}
die_usage() {
	echo "$prog: $*" >&2
	echo "$prog: see load/compare.sh --help" >&2
	exit 2
}

profile=quick users=500 spawn_rate=1000 run_time=15 task_ms=250 threads=80
task_cpu_ms=3 offload_threads=2
helpers= workers=2 wait=0 scenarios= load=bin/load sweep= runs_dir=reports/runs bin=bin
locust_workers=0 load_workers= target=c
while [ $# -gt 0 ]; do
	case "$1" in
	--help|-h) usage; exit 0 ;;
	--profile|--users|--spawn-rate|--run-time|--task-ms|--threads|--helpers|--workers|\
	--wait|--scenarios|--load|--sweep|--runs-dir|--bin|--locust-workers|--load-workers|--target|\
	--task-cpu-ms|--offload-threads)
		[ $# -ge 2 ] || die_usage "$1 needs a value"
		v=$2
		case "$1" in
		--profile) profile=$v ;; --users) users=$v ;; --spawn-rate) spawn_rate=$v ;;
		--run-time) run_time=$v ;; --task-ms) task_ms=$v ;; --threads) threads=$v ;;
		--helpers) helpers=$v ;; --workers) workers=$v ;; --wait) wait=$v ;;
		--scenarios) scenarios=$v ;; --load) load=$v ;; --sweep) sweep=$v ;;
		--runs-dir) runs_dir=$v ;; --bin) bin=$v ;; --locust-workers) locust_workers=$v ;;
		--load-workers) load_workers=$v ;; --target) target=$v ;;
		--task-cpu-ms) task_cpu_ms=$v ;; --offload-threads) offload_threads=$v ;;
		esac
		shift 2 ;;
	*) die_usage "unknown argument '$1'" ;;
	esac
done

is_uint() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -gt 0 ]; }
is_uint "$users" || die_usage "--users must be a whole number > 0, not '$users'"
[[ $spawn_rate =~ ^[0-9]+(\.[0-9]+)?$ ]] || die_usage "--spawn-rate must be a number, not '$spawn_rate'"
is_uint "$run_time" || die_usage "--run-time must be whole seconds > 0, not '$run_time'"
[[ $task_ms =~ ^[0-9]+$ ]] || die_usage "--task-ms must be a whole number, not '$task_ms'"
[[ $task_cpu_ms =~ ^[0-9]+$ ]] || die_usage "--task-cpu-ms must be a whole number, not '$task_cpu_ms'"
is_uint "$offload_threads" || die_usage "--offload-threads must be a whole number > 0, not '$offload_threads'"
[ "$threads" = users ] || is_uint "$threads" ||
	die_usage "--threads must be a whole number > 0 or 'users', not '$threads'"
is_uint "$workers" || die_usage "--workers must be a whole number > 0, not '$workers'"
threads_asked=$threads
[ -z "$helpers" ] || is_uint "$helpers" ||
	die_usage "--helpers must be a whole number > 0, not '$helpers'"
helpers_asked=$helpers
[[ $wait =~ ^([0-9]+(\.[0-9]+)?)(-([0-9]+(\.[0-9]+)?))?$ ]] ||
	die_usage "--wait must be MIN or MIN-MAX seconds, not '$wait'"
wait_min=${BASH_REMATCH[1]} wait_max=${BASH_REMATCH[4]:-${BASH_REMATCH[1]}}
case "$load" in bin/load|locust|locust-master) ;;
*) die_usage "--load must be bin/load, locust or locust-master, not '$load'" ;; esac
# locust-master: Locust's master (headless, its CSV files) and bin/load workers
[ "$load" = locust-master ] && [ -z "$load_workers" ] && load_workers=1
[ -z "$load_workers" ] || [ "$load" = locust-master ] || die_usage "--load-workers needs --load locust-master"
load_workers=${load_workers:-0}
[ "$load" != locust-master ] || is_uint "$load_workers" ||
	die_usage "--load-workers must be a whole number > 0, not '$load_workers'"
[[ $locust_workers =~ ^[0-9]+$ ]] || die_usage "--locust-workers must be a whole number, not '$locust_workers'"
[ "$locust_workers" = 0 ] || [ "$load" = locust ] || die_usage "--locust-workers needs --load locust"
case "$target" in c|fastapi) targets=$target ;; both) targets="c fastapi" ;;
*) die_usage "--target must be c, fastapi or both, not '$target'" ;; esac
for u in $sweep; do is_uint "$u" || die_usage "--sweep user counts must be whole numbers, not '$u'"; done

cd "$(dirname "$0")/.." || exit 2
for p in blocking evented load report; do
	[ -x "$bin/$p" ] || { echo "$prog: $bin/$p is missing: run make first" >&2; exit 2; }
done
if [ "$load" != bin/load ] && ! command -v locust >/dev/null; then
	echo "$prog: locust is not installed: run make deps (python3-locust)" >&2
	exit 2
fi
command -v curl >/dev/null || { echo "$prog: curl is not installed: run make deps" >&2; exit 2; }
# The original stack and the measurements the model needs of it (and of any server).
. load/harness/fastapi.sh
[ "$target" = c ] || fastapi_check || exit 2

# The scenarios: the route table's own listing (CLASS PATH WORLD PLAN TASKS).
table=$("$bin/load" --routes) || { echo "$prog: $bin/load --routes failed" >&2; exit 2; }
declare -a sc_class=() sc_path=() sc_world=()
while IFS=$'\t' read -r c p w _; do
	[ -n "$c" ] || continue
	if [ -n "$scenarios" ] && [[ ",$scenarios," != *",$c,"* ]]; then continue; fi
	sc_class+=("$c") sc_path+=("$p") sc_world+=("$w")
done <<<"$table"
if [ -n "$scenarios" ]; then
	IFS=, read -ra asked <<<"$scenarios"
	for a in "${asked[@]}"; do
		grep -q "^$a"$'\t' <<<"$table" ||
			die_usage "SCENARIOS: no route has user class '$a' (bin/load --routes lists them)"
	done
fi
[ ${#sc_class[@]} -gt 0 ] || die_usage "no scenario to run"

# A user count per run: the profile's, or each of the sweep's.
user_counts=${sweep:-$users}
sweeping=0; [ -n "$sweep" ] && sweeping=1

# Each server and load generator is started with setsid so it leads its own
# process group: stopping the group stops whatever it forked, and a Ctrl-C in
# the terminal reaches only us (and curl, sleep), so we stop things in order.
declare -a groups=()
stop_group() { # pgid, seconds to wait after SIGTERM before SIGKILL
	local pg=$1 tenths=$(($2 * 10))
	kill -TERM -- "-$pg" 2>/dev/null || return 0
	while [ $tenths -gt 0 ] && kill -0 -- "-$pg" 2>/dev/null; do
		sleep 0.1
		tenths=$((tenths - 1))
	done
	kill -KILL -- "-$pg" 2>/dev/null
	wait "$pg" 2>/dev/null
	return 0
}
cleanup() {
	local pg
	for pg in "${groups[@]}"; do stop_group "$pg" 1; done
	groups=()
}
trap 'cleanup' EXIT
trap 'echo "$prog: interrupted, stopping what it started" >&2; cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
forget_group() {
	local keep=() g
	for g in "${groups[@]}"; do [ "$g" = "$1" ] || keep+=("$g"); done
	groups=("${keep[@]}")
}

# Servers and load generators may hold thousands of sockets (sweeps go to 2000
# users, one connection each): raise the soft descriptor limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null

# The run folder: a timestamp, never an earlier run's (a suffix when taken).
mkdir -p "$runs_dir" || exit 2
stamp=$(date -u +%Y%m%d-%H%M%S)
name=$stamp n=1
until mkdir "$runs_dir/$name" 2>/dev/null; do
	n=$((n + 1))
	name=$stamp-$n
	[ $n -lt 100 ] || { echo "$prog: cannot create a run folder under $runs_dir" >&2; exit 2; }
done
run_dir=$runs_dir/$name
ln -sfn "$name" "$runs_dir/latest"
# Marks every process this run starts, so a test can prove none outlived it.
export LAB_RUN_DIR
LAB_RUN_DIR=$(cd "$run_dir" && pwd -P)

{
	echo "PROFILE=$profile"
	echo "LOAD=$load"
	[ "$locust_workers" != 0 ] && echo "LOCUST_WORKERS=$locust_workers"
	[ "$load_workers" != 0 ] && echo "LOAD_WORKERS=$load_workers"
	echo "CPUS=$(nproc)"
	echo "KERNEL=$(uname -r)"
	echo "STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "GIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
} >"$run_dir/run.env"

# Starts "$@" in its own session with output to $1's log file (first arg), in
# the background; sets $started_pid (= its process group).
start_group() {
	local log=$1
	shift
	setsid "$@" >"$log" 2>&1 </dev/null &
	started_pid=$!
	groups+=("$started_pid")
}

# Waits up to 10 s for the ready line in the server's log; prints the port.
server_port() {
	local log=$1 pid=$2 i line
	for ((i = 0; i < 100; i++)); do
		line=$(grep -m1 -o 'listening on http://[^ ]*:[0-9]*' "$log" 2>/dev/null)
		if [ -n "$line" ]; then
			echo "${line##*:}"
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# A scenario that failed to run keeps its folder for diagnosis, renamed
# failed-NN-NAME so that bin/report (which reads NN-NAME folders) reports the rest.
set_aside() {
	mv "$1" "$(dirname "$1")/failed-$(basename "$1")"
	echo "$prog: kept as $(dirname "$1")/failed-$(basename "$1")" >&2
	failed=$((failed + 1))
}

# What the server and the load generator used (load/harness/usage.py):
# SERVER_RSS_KB and SERVER_THREADS at the scrape, under full load; LOAD_CPU_S,
# the generator processes' CPU, summed; OTHER_CPU_S, what every other process
# (the generator, other builds) took of the machine's cores while the server
# ran, over WINDOW_S seconds. Absent when unread. (SERVER_CPU_MS is
# measure.py's, above, for every target.)
cpu=load/harness/usage.py
record_others() { # dir: the CPU the server could not have (OTHER_CPU_S over WINDOW_S)
	local o
	o=$("$cpu" others "$1/.snap0" "$1/.snap1" 2>/dev/null) &&
		printf 'OTHER_CPU_S=%s\nWINDOW_S=%s\n' ${o% *} ${o#* } >>"$1/.usage.env"
	rm -f "$1/.snap0" "$1/.snap1"
}
record_server_mem() { # dir, server pid
	local m
	m=$("$cpu" mem "$2" 2>/dev/null) &&
		printf 'SERVER_RSS_KB=%s\nSERVER_THREADS=%s\n' ${m% *} ${m#* } >>"$1/.usage.env"
}
record_load_cpu() { # dir; also appends what record_others and record_server_mem
	# kept aside, after measure.py's keys (which its readers expect right after TARGET)
	local s
	s=$("$cpu" sum "$1"/.load-cpu-* 2>/dev/null) && echo "LOAD_CPU_S=$s" >>"$1/.usage.env"
	[ -f "$1/.usage.env" ] && cat "$1/.usage.env" >>"$1/scenario.env"
	rm -f "$1"/.load-cpu-* "$1/.usage.env"
}

# A TCP port free on 127.0.0.1 right now, for a Locust master (it cannot take 0).
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

total=0
for _ in $targets; do
	for _ in "${sc_class[@]}"; do for _ in $user_counts; do total=$((total + 1)); done; done
done
begin=$(date +%s)
per_run_guess=$((run_time + 3)) # starting and stopping a server, until measured
index=0 failed=0
echo "compare: $total scenarios, profile $profile, load $load, target $target, into $run_dir"
for tgt in $targets; do # (the loops below keep their indentation from before targets)
for i in "${!sc_class[@]}"; do
	class=${sc_class[$i]} path=${sc_path[$i]} world=${sc_world[$i]}
	for u in $user_counts; do
		index=$((index + 1))
		threads=$threads_asked helpers=$helpers_asked
		[ "$threads" = users ] && threads=$u
		[ -n "$helpers" ] || helpers=$((3 * threads))
		[ "$helpers" -le 10000 ] || helpers=10000 # bin/blocking's --helpers limit
		now=$(date +%s)
		elapsed=$((now - begin))
		if [ $index -gt 1 ]; then per_run=$((elapsed / (index - 1))); else per_run=$per_run_guess; fi
		label=$class
		[ $sweeping = 1 ] && label=$class-u$u
		[ "$tgt" = fastapi ] && label=$label-fastapi
		dir=$run_dir/$(printf '%02d' $index)-$label
		mkdir "$dir" || exit 2
		echo "scenario $index/$total $label ($tgt $world $path, $u users, ${run_time}s) ..." \
			"elapsed ${elapsed}s, about $(((total - index + 1) * per_run))s left"
		sc_threads=$threads sc_helpers=$helpers sc_workers=$workers
		# The original stack's own: 40 threads and 120 helpers per worker process.
		[ "$tgt" = fastapi ] && sc_threads=$((40 * FASTAPI_WORKERS)) \
			sc_helpers=$((120 * FASTAPI_WORKERS)) sc_workers=$FASTAPI_WORKERS
		cat >"$dir/scenario.env" <<EOF
CLASS=$class
PATH=$path
WORLD=$world
USERS=$u
SPAWN_RATE=$spawn_rate
RUN_TIME_S=$run_time
TASK_MS=$task_ms
THREADS=$sc_threads
HELPERS=$sc_helpers
WORKERS=$sc_workers
WAIT_MIN_S=$wait_min
WAIT_MAX_S=$wait_max
SWEEP=$sweeping
TASK_CPU_MS=$task_cpu_ms
OFFLOAD_THREADS=$offload_threads
CORES=$(nproc)
TARGET=$tgt
EOF
		if [ "$tgt" = fastapi ]; then
			fastapi_server "$dir" "$task_ms" # sets server=(...) and fastapi_port
		elif [ "$world" = blocking ]; then
			# /metrics on its own threads: on the main port a scrape would wait
			# in the same queue as the load, behind hundreds of requests.
			server=("$bin/blocking" --listen 127.0.0.1:0 --threads "$threads"
				--helpers "$helpers" --task-ms "$task_ms" --task-cpu-ms "$task_cpu_ms"
				--metrics-listen 127.0.0.1:0)
		else
			server=("$bin/evented" --listen 127.0.0.1:0 --workers "$workers"
				--task-ms "$task_ms" --task-cpu-ms "$task_cpu_ms"
				--offload-threads "$offload_threads")
		fi
		start_group "$dir/server.log" "${server[@]}"
		server_pg=$started_pid
		if [ "$tgt" = fastapi ]; then
			port=$(fastapi_ready "$fastapi_port" "$server_pg")
		else
			port=$(server_port "$dir/server.log" "$server_pg")
		fi
		if [ -z "$port" ]; then
			echo "$prog: $label: ${server[0]} printed no ready line (see its server.log)" >&2
			stop_group "$server_pg" 1; forget_group "$server_pg"
			set_aside "$dir"
			continue
		fi
		host=http://127.0.0.1:$port
		metrics_url=$(grep -m1 -o 'metrics also on http://[^ ]*/metrics' "$dir/server.log")
		metrics_url=${metrics_url#metrics also on }
		[ -n "$metrics_url" ] || metrics_url=$host/metrics
		measure_begin "$dir" "$server_pg"
		if [ "$load" = bin/load ]; then
			gen=("$bin/load" --headless -u "$u" -r "$spawn_rate" -t "${run_time}s" -H "$host"
				--csv "$dir/load" --json "$dir/load.json")
			[ "$wait_max" != 0 ] && gen+=(--wait-time "$wait_min-$wait_max")
			gen+=("$class")
		else
			# The locustfile reads its think time from LAB_WAIT_TIME (default 0).
			gen=(env LAB_WAIT_TIME="$wait_min-$wait_max" locust --headless --only-summary
				-f load/locustfile.py -u "$u" -r "$spawn_rate" -t "${run_time}s" -H "$host"
				--csv "$dir/load")
			if [ "$locust_workers" != 0 ] || [ "$load_workers" != 0 ]; then
				master_port=$(free_port) || exit 2
				gen+=(--master --master-bind-host 127.0.0.1 --master-bind-port "$master_port"
					--expect-workers "$((locust_workers + load_workers))")
			fi
			gen+=("$class")
		fi
		# Each generator process runs under cpu.py, which writes the CPU it
		# used when it ends: their sum is LOAD_CPU_S.
		start_group "$dir/console.txt" "$cpu" run "$dir/.load-cpu-0" "${gen[@]}"
		load_pg=$started_pid
		worker_pgs=()
		for ((k = 1; k <= locust_workers; k++)); do
			start_group "$dir/locust-worker-$k.txt" "$cpu" run "$dir/.load-cpu-$k" \
				env LAB_WAIT_TIME="$wait_min-$wait_max" \
				locust -f load/locustfile.py --worker --master-host 127.0.0.1 \
				--master-port "$master_port"
			worker_pgs+=("$started_pid")
		done
		for ((k = 1; k <= load_workers; k++)); do
			start_group "$dir/load-worker-$k.txt" "$cpu" run "$dir/.load-cpu-w$k" \
				"$bin/load" --worker --master-port "$master_port" \
				--wait-time "$wait_min-$wait_max"
			worker_pgs+=("$started_pid")
		done
		# Scrape /metrics a second before the load's end, while it is loaded. The
		# blocking mistake answers it only when a loop wakes up, hence the bound.
		scrape_at=$(($(date +%s) + run_time - 1))
		# What others take of the CPU is read from a third of the run on, once
		# the users are spawned and the server is as busy as it will be.
		snap_at=$(($(date +%s) + run_time / 3))
		while kill -0 "$load_pg" 2>/dev/null && [ "$(date +%s)" -lt $snap_at ]; do sleep 0.2; done
		"$cpu" snap "$server_pg" >"$dir/.snap0" 2>/dev/null
		while kill -0 "$load_pg" 2>/dev/null && [ "$(date +%s)" -lt $scrape_at ]; do sleep 0.2; done
		record_server_mem "$dir" "$server_pg"
		measure_loaded "$port"
		if [ "$tgt" = fastapi ]; then
			echo "# the original stack has no /metrics" >"$dir/metrics.txt"
		elif ! curl -s -S -m 5 "$metrics_url" >"$dir/metrics.txt" 2>"$dir/metrics.err"; then
			echo "# scrape of $metrics_url failed: $(cat "$dir/metrics.err")" >>"$dir/metrics.txt"
		fi
		"$cpu" snap "$server_pg" >"$dir/.snap1" 2>/dev/null
		record_others "$dir"
		rm -f "$dir/metrics.err"
		# The load ends by itself at its run time; allow start-up and shutdown
		# (Locust takes seconds to start), then it is hung: stop it.
		deadline=$(($(date +%s) + 30))
		while kill -0 "$load_pg" 2>/dev/null && [ "$(date +%s)" -lt $deadline ]; do sleep 0.2; done
		hung=0
		kill -0 "$load_pg" 2>/dev/null && hung=1
		[ $hung = 1 ] && stop_group "$load_pg" 2
		wait "$load_pg" 2>/dev/null
		load_rc=$?
		forget_group "$load_pg"
		# Nothing is measured after the load ends, so the server need not drain:
		# a blocking server with hundreds of queued requests (or the evented
		# blocking mistake) would take seconds to minutes to finish them, and
		# each scenario starts a fresh server anyway. SIGTERM, then SIGKILL.
		# Workers quit when their master does; whatever did not is stopped here.
		for pg in "${worker_pgs[@]}"; do stop_group "$pg" 2; forget_group "$pg"; done
		measure_end "$u"
		stop_group "$server_pg" 1
		forget_group "$server_pg"
		record_load_cpu "$dir"
		# Exit 1 means requests failed: a result. Anything else is a failure to run.
		if [ $hung = 1 ]; then
			echo "$prog: $label: the load generator did not end on time; stopped it" >&2
			set_aside "$dir"
		elif [ $load_rc -ne 0 ] && [ $load_rc -ne 1 ]; then
			echo "$prog: $label: $load exited $load_rc (see its console.txt)" >&2
			set_aside "$dir"
		elif [ ! -s "$dir/load_stats.csv" ]; then
			echo "$prog: $label: $load wrote no load_stats.csv" >&2
			set_aside "$dir"
		fi
	done
done
done
msg=""; [ $failed -gt 0 ] && msg=", $failed failed to run"
echo "compare: ran $total scenarios in $(($(date +%s) - begin))s$msg"

report_rc=0
"$bin/report" "$run_dir" || report_rc=$?
[ $report_rc = 0 ] && echo "compare: report in $run_dir/REPORT.md and $run_dir/report.html"
# report.png: the page as Chromium draws it, for whoever wants an image. A run
# without it is still a run: say so and go on.
if [ $report_rc = 0 ] && ! /usr/bin/python3 reports/render.py --png "$run_dir/report.png" \
	"$run_dir/report.html" >/dev/null; then
	echo "$prog: no report.png (reports/render.py failed; see above)" >&2
fi
if [ $failed -gt 0 ] || [ $report_rc -ne 0 ]; then
	[ $report_rc -ne 0 ] && echo "$prog: $bin/report exited $report_rc" >&2
	exit 1
fi
exit 0
