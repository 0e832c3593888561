#!/usr/bin/env bash
# load/bench.sh — `make bench`: this lab's programs measured beside what people would
# pick instead (wrk, Locust, nginx, FastAPI on uvicorn) and beside the model.
#
# Every comparison is a ratio of two things measured in this run, alternated (A B,
# B A, ...) BENCH_PAIRS times; the table shows the median ratio and its min-max.
# Client and server are pinned to different CPUs when there are two or more.
# Writes reports/bench/<UTC timestamp>/BENCH.md, data/ (raw outputs, .dat files) and
# SVG charts drawn by gnuplot; prints the table. Only 127.0.0.1, every run bounded,
# every process started here is stopped on exit.
#
# Environment: BENCH_PAIRS (3), BENCH_SECS (5, each rate run), BENCH_LOCUST_SECS (10),
# BENCH_C10K_SECS (20), BENCH_ROWS ("1 2 3 4 5 6 7 8 9": which rows to run),
# BENCH_OUT (output folder). Expects `make all` and build/bench/sleep_probe built.
# Exit 0 when it ran (goals missed are findings, reported in BENCH.md), 2 on setup errors.

set -u -o pipefail
cd "${BENCH_ROOT:-$(dirname "$0")/..}" || exit 2

PAIRS=${BENCH_PAIRS:-3}
SECS=${BENCH_SECS:-5}
LOCUST_SECS=${BENCH_LOCUST_SECS:-10}
C10K_SECS=${BENCH_C10K_SECS:-20}
ROWS=" ${BENCH_ROWS:-1 2 3 4 5 6 7 8 9} "
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT=${BENCH_OUT:-reports/bench/$STAMP}
DATA=$OUT/data
PROBE=build/bench/sleep_probe
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
CONNS=50
T0=$(date +%s)

# Goals (issue 17): client and server cost against wrk and nginx, and the 10,000-user tail.
GOAL_R1_RATE=1.0      # bin/load / wrk, requests per second
GOAL_R1_CPU=1.3       # bin/load / wrk, requests per client CPU-second
GOAL_R3_RATE=1.1      # bin/evented / nginx, requests per second
GOAL_R3_CPU=1.3       # bin/evented / nginx, requests per server CPU-second
GOAL_R6_REQS=0.995    # 10,000 users: # requests / predicted
GOAL_R6_P99_MS=1003   # 10,000 users: worst second's p99 after ramp-up (1 s tasks)

die() { echo "bench: $*" >&2; exit 2; }
log() { printf '[bench %3ds] %s\n' $(($(date +%s) - T0)) "$*" >&2; }

[ -x bin/evented ] || die "bin/evented is missing: run make first"
for t in wrk nginx curl gnuplot taskset locust uvicorn; do
	command -v "$t" >/dev/null || die "$t is not installed: run make deps DEPS_BENCH (make bench does)"
done
mkdir -p "$DATA" || die "mkdir $DATA failed"
TMP=$(mktemp -d /tmp/bench.XXXXXX) || die "mktemp failed"

# --- processes: every one started here is recorded and stopped on exit --------
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

forget() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done; PIDS=("${keep[@]}"); }

stop() { # PID: TERM, up to 5 s, then KILL
	local pid=$1
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	forget "$pid"
}

# Server on CPU 0, clients on CPU 1 (when there are two): neither steals the other's core.
if [ "$(nproc)" -ge 2 ]; then
	SRV=(taskset -c 0) CLI=(taskset -c 1) PINNING="server on CPU 0, client on CPU 1 (taskset)"
else
	SRV=() CLI=() PINNING="not pinned (one CPU)"
fi

# perf stat counts each client's CPU time (task-clock), so a rate can be read per
# CPU-second too: the fair measure when the server, not the client, sets the pace.
# Syscalls are counted too (the raw_syscalls:sys_enter tracepoint, when the kernel lets
# perf read it): per request, beside the CPU time.
SYSCALLS=raw_syscalls:sys_enter
perf stat -x, -e "$SYSCALLS" -o /dev/null -- true 2>/dev/null || SYSCALLS=
PERF=(perf stat -x, -e "task-clock${SYSCALLS:+,$SYSCALLS}")
if ! perf stat -x, -e task-clock -o /dev/null -- true 2>/dev/null; then
	printf '#!/bin/sh\nshift 3; exec "$@"\n' >"$TMP/noperf" && chmod +x "$TMP/noperf"
	PERF=("$TMP/noperf")  # called as: noperf -o FILE -- CMD...
fi
cpu_ms() { awk -F, '/task-clock/ {print $1}' "$DATA/$1.cpu" 2>/dev/null; }
# sys_per_req FILE REQUESTS: syscalls per request from a perf stat file ("nan" without)
sys_per_req() { awk -F, -v n="$2" '/raw_syscalls/ {c = $1} END { if (n > 0 && c ~ /^[0-9]+$/) printf "%.2f", c / n; else print "nan" }' "$1" 2>/dev/null || echo nan; }

free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_ours LOG CMD...: starts one of our servers, waits for its ready line;
# sets SPID and SPORT.
start_ours() {
	local logf=$1; shift
	"${SRV[@]}" "$@" >"$logf" 2>&1 &
	SPID=$! SPORT=
	PIDS+=("$SPID")
	for _ in $(seq 100); do
		SPORT=$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$logf" | head -1)
		[ -n "$SPORT" ] && return 0
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$logf" >&2
	die "$* did not print its ready line"
}

wait_http() { # URL: up to 15 s
	for _ in $(seq 150); do curl -s -o /dev/null --max-time 1 "$1" && return 0; sleep 0.1; done
	die "nothing answers at $1"
}

# The body every "same body" comparison serves: /async_concurrent's, as bin/evented
# serves it from the route table (read here, never repeated).
BODY_PATH=/async_concurrent
body_of_route() { # PATH: the body bin/evented answers for PATH?ms=0
	local body
	start_ours "$TMP/body.log" bin/evented --listen 127.0.0.1:0 --workers 1
	body=$(curl -s --max-time 5 "http://127.0.0.1:$SPORT$1?ms=0")
	stop "$SPID"
	printf '%s' "$body"
}

start_nginx() { # sets SPID SPORT; nginx-light, 1 worker, `return 200` of $BODY
	SPORT=$(free_port)
	mkdir -p "$TMP/nginx"
	local esc=${BODY//\\/\\\\}
	esc=${esc//\'/\\\'}
	cat >"$TMP/nginx/nginx.conf" <<-EOF
	worker_processes 1;
	daemon off;
	pid $TMP/nginx/nginx.pid;
	error_log $TMP/nginx/error.log warn;
	events { worker_connections 20000; }
	http {
		access_log off;
		client_body_temp_path $TMP/nginx/body;
		proxy_temp_path $TMP/nginx/proxy;
		fastcgi_temp_path $TMP/nginx/fastcgi;
		uwsgi_temp_path $TMP/nginx/uwsgi;
		scgi_temp_path $TMP/nginx/scgi;
		# Keep-alive as our servers do: no forced reconnect every 1000 requests.
		keepalive_requests 1000000;
		server {
			listen 127.0.0.1:$SPORT;
			location / {
				default_type application/json;
				return 200 '$esc';
			}
		}
	}
	EOF
	"${SRV[@]}" nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" >"$TMP/nginx/out.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_http "http://127.0.0.1:$SPORT/"
}

start_peer() { # TASK_MS: FastAPI on uvicorn, 2 workers; sets SPID SPORT
	SPORT=$(free_port)
	TASK_MS=$1 "${SRV[@]}" uvicorn --workers 2 --host 127.0.0.1 --port "$SPORT" \
		--app-dir load/peers --no-access-log --log-level warning app:app \
		>"$DATA/peer-uvicorn.log" 2>&1 &
	SPID=$!
	PIDS+=("$SPID")
	wait_http "http://127.0.0.1:$SPORT/async_concurrent?ms=0"
}

# --- clients: each prints the request rate it reached ---------------------------
run_wrk() { # TAG URL
	local f=$DATA/$1.wrk.txt
	timeout -k 2 $((SECS + 30)) "${CLI[@]}" "${PERF[@]}" -o "$DATA/$1.cpu" -- wrk -t1 -c$CONNS -d${SECS}s --latency "$2" >"$f" 2>&1
	grep -q 'Non-2xx\|Socket errors' "$f" && log "wrk $1: $(grep 'Non-2xx\|Socket errors' "$f" | tr '\n' ' ')"
	awk '/^Requests\/sec:/ {print $2}' "$f"
}

jget() { # FILE KEY...: a value from a JSON file ("" when absent)
	"$PY" - "$@" <<-'EOF' 2>/dev/null
	import json, sys
	v = json.load(open(sys.argv[1]))
	for k in sys.argv[2:]:
	    v = v[int(k)] if isinstance(v, list) else v[k]
	print(v)
	EOF
}

run_load() { # TAG HOST PATH [USERS [THREADS [SECS]]]
	local tag=$1 host=$2 path=$3 users=${4:-$CONNS} threads=${5:-1} secs=${6:-$SECS}
	timeout -k 2 $((secs + 30)) "${CLI[@]}" "${PERF[@]}" -o "$DATA/$tag.cpu" -- bin/load --headless -u "$users" -r "$users" -t "${secs}s" \
		-H "$host" --path "$path" --threads "$threads" --json "$DATA/$tag.json" \
		2>"$DATA/$tag.console.txt" >/dev/null
	local failures
	failures=$(jget "$DATA/$tag.json" failures)
	[ "${failures:-0}" != 0 ] && log "bin/load $tag: $failures failures"
	jget "$DATA/$tag.json" rps
}

run_locust() { # TAG HOST PATH CLASS
	local f=$DATA/$1.locust.txt
	BENCH_PATH=$3 timeout -k 5 $((LOCUST_SECS + 30)) "${CLI[@]}" "${PERF[@]}" -o "$DATA/$1.cpu" -- locust -f load/bench/locustfile.py \
		--headless --only-summary -u $CONNS -r $CONNS -t "${LOCUST_SECS}s" -H "$2" "$4" >"$f" 2>&1
	# The stats table's Aggregated row: "Aggregated  N  F(x%) | avg min max med | req/s fail/s"
	awk -F'|' '/Aggregated/ && NF == 3 {split($3, a, " "); print a[1]; exit}' "$f"
}

# --- arithmetic over the pairs ------------------------------------------------
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a != "") printf "%.3f", a / b; else print "nan" }'; }

# stats FILE COLUMN: "median min max" of a column of a whitespace table (# comments)
stats() {
	grep -v '^#' "$1" | awk -v c="$2" '{print $c}' | sort -g |
		awk '{v[NR] = $1} END { if (NR == 0) { print "nan nan nan"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.6g %.6g %.6g\n", m, v[1], v[NR] }'
}

fmt_rate() { awk -v x="$1" 'BEGIN { if (x == "nan" || x == "") print "n/a"; else printf "%\047.0f", x }'; }

# pair_rows FILE NAME_A CMD_A NAME_B CMD_B: alternates A and B, PAIRS times, writing
# "pair a b a/b" lines; CMD_x are shell function names given the pair number.
pair_rows() {
	local f=$1 fa=$3 fb=$5 i a b
	printf '# pair %s %s ratio\n' "$2" "$4" >"$f"
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 1 ]; then a=$($fa "$i"); b=$($fb "$i"); else b=$($fb "$i"); a=$($fa "$i"); fi
		echo "$i ${a:-nan} ${b:-nan} $(ratio "$a" "$b")" >>"$f"
		log "  pair $i: $2 ${a:-?}  $4 ${b:-?}"
	done
}

# --- the table ---------------------------------------------------------------
TABLE=$TMP/table.md
NOTES=$TMP/notes.md
: >"$TABLE"
: >"$NOTES"
row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" >>"$TABLE"; }
note() { printf '%s\n' "$*" >>"$NOTES"; }
met() { awk -v x="$1" -v g="$2" -v op="$3" 'BEGIN { if (x == "nan" || x == "") print "n/a";
	else if ((op == ">=" && x >= g) || (op == "<=" && x <= g)) print "yes"; else print "**no**" }'; }
# met_bucket VALUE BUCKET_LO BUCKET_HI GOAL: "at most GOAL" for a histogram quantile:
# certain when the whole bucket is on one side of the goal, else the interpolation's say.
met_bucket() { awk -v x="$1" -v lo="$2" -v hi="$3" -v g="$4" 'BEGIN { if (x == "nan" || x == "") print "n/a";
	else if (hi != "inf" && hi + 0 <= g + 0) print "yes"; else if (lo + 0 >= g + 0) print "**no**";
	else if (x + 0 <= g + 0) print "yes (interpolated)"; else print "**no** (interpolated)" }'; }
ratio_cell() { printf '%.2f (%.2f–%.2f)' $1 $2 $3 2>/dev/null || echo "n/a"; }

# RATES: one line per compared pair of rates, for the chart
echo '# label ours_med ours_min ours_max theirs_med theirs_min theirs_max' >"$DATA/rates.dat"
rates_line() { # LABEL FILE
	echo "\"$1\" $(stats "$2" 2) $(stats "$2" 3)" >>"$DATA/rates.dat"
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
log "writing $OUT; $PINNING; $PAIRS pairs of ${SECS}s runs; load average $LOAD_START"
BODY=$(body_of_route "$BODY_PATH")
[ -n "$BODY" ] || die "bin/evented served no body for $BODY_PATH?ms=0"

# want ROW [PROGRAM...]: the row was asked for and its programs are built (a row
# whose program is missing is skipped, with a note saying so).
want() {
	local r=$1 p; shift
	[[ $ROWS == *" $r "* ]] || return 1
	for p in "$@"; do
		if [ ! -x "$p" ]; then
			[[ $SKIPPED == *" $r "* ]] || { note "- Row $r skipped: $p is missing."; log "row $r skipped: $p is missing"; }
			SKIPPED+=" $r "
			return 1
		fi
	done
}
SKIPPED=" "

# Server-side cost while a client drives it: perf stat attached to the server's
# processes for the run, read as CPU microseconds and context switches per request.
# prof_start TAG PID... (in the background); prof_read TAG RATE -> "us_per_req cs_per_req sys_per_req"
prof_start() {
	local tag=$1 pids; shift
	pids=$(for p in "$@"; do echo "$p"; pgrep -P "$p"; done | sort -u | paste -sd,)
	# Counted until prof_wait interrupts it, right after the client ends: the whole
	# run and only it (a fixed sleep would miss its tail or add idle time).
	perf stat -x, -e "task-clock,context-switches${SYSCALLS:+,$SYSCALLS}" -p "$pids" -o "$DATA/$tag.srv.cpu" \
		>/dev/null 2>&1 &
	PROF_PID=$!
	PIDS+=("$PROF_PID")
	sleep 0.3 # attached before the client starts
}
prof_wait() { kill -INT "$PROF_PID" 2>/dev/null; wait "$PROF_PID" 2>/dev/null; forget "$PROF_PID"; }
prof_read() { # TAG RATE: per request, counting wrk's requests when TAG has a wrk output, else RATE x SECS
	local n
	n=$(awk '/requests in/ {print $1}' "$DATA/$1.wrk.txt" 2>/dev/null)
	awk -F, -v r="$2" -v s="$SECS" -v n="${n:-0}" '/task-clock/ {c = $1} /context-switches/ {x = $1} /raw_syscalls/ {y = $1}
		END { if (n == 0) n = r * s; if (n > 0 && c != "") printf "%.1f %.2f %s\n", c * 1000 / n, x / n, (y ~ /^[0-9]+$/ ? sprintf("%.2f", y / n) : "nan");
			else print "nan nan nan" }' \
		"$DATA/$1.srv.cpu" 2>/dev/null || echo "nan nan nan"
}
# srv_eff_pairs RATES_FILE TAG_A TAG_B OUT_FILE: the pairs in requests per server CPU-second
srv_eff_pairs() {
	local i a b ea eb
	echo "# pair a_per_srv_cpu_s b_per_srv_cpu_s ratio" >"$4"
	while read -r i a b _; do
		read -r ea _ _ < <(prof_read "$2-$i" "$a")
		read -r eb _ _ < <(prof_read "$3-$i" "$b")
		ea=$(awk -v u="$ea" 'BEGIN { if (u > 0) printf "%.0f", 1e6 / u; else print "nan" }')
		eb=$(awk -v u="$eb" 'BEGIN { if (u > 0) printf "%.0f", 1e6 / u; else print "nan" }')
		echo "$i $ea $eb $(ratio "$ea" "$eb")" >>"$4"
	done < <(grep -v '^#' "$1")
}

# wrk with the server profiled: TAG URL SERVER_PID
run_wrk_prof() {
	prof_start "$1" "$3"
	local r
	r=$(run_wrk "$1" "$2")
	prof_wait
	echo "$r"
}

# Requests per client CPU-second for TAG at RATE over SECS: the client's efficiency.
per_cpu() { awk -v r="$2" -v s="$3" -v c="$(cpu_ms "$1")" 'BEGIN { if (c > 0) printf "%.0f", r * s * 1000 / c; else print "nan" }'; }

# eff_pairs RATES_FILE TAG_A TAG_B SECS_A SECS_B OUT_FILE: the same pairs per CPU-second
eff_pairs() {
	local i a b ea eb
	echo "# pair a_per_cpu_s b_per_cpu_s ratio" >"$6"
	while read -r i a b _; do
		ea=$(per_cpu "$2-$i" "$a" "$4") eb=$(per_cpu "$3-$i" "$b" "$5")
		echo "$i $ea $eb $(ratio "$ea" "$eb")" >>"$6"
	done < <(grep -v '^#' "$1")
}

# summary FILE -> sets MED LO HI (ratio), AM (median of a), BM (median of b)
summary() {
	read -r MED LO HI < <(stats "$1" 4)
	read -r AM _ _ < <(stats "$1" 2)
	read -r BM _ _ < <(stats "$1" 3)
}

if want 1 bin/load || want 2 bin/load || want 3; then
	start_nginx
	NG_PID=$SPID NG=http://127.0.0.1:$SPORT
fi

# --- 1: bin/load vs wrk ----------------------------------------------------------
if want 1 bin/load; then
	log "row 1: bin/load vs wrk, 1 thread, $CONNS connections, against nginx"
	r1_load() { run_load "r1-load-$1" "$NG" /; }
	r1_wrk() { run_wrk "r1-wrk-$1" "$NG/"; }
	pair_rows "$DATA/r1.dat" bin/load r1_load wrk r1_wrk
	summary "$DATA/r1.dat"
	R1=$MED
	row "bin/load max rate, 1 thread, $CONNS conns (target: nginx)" "$(fmt_rate "$AM") req/s" \
		"wrk: $(fmt_rate "$BM") req/s" "$(ratio_cell "$MED" "$LO" "$HI")" "≥ $GOAL_R1_RATE" "$(met "$MED" "$GOAL_R1_RATE" '>=')"
	rates_line "bin/load vs wrk" "$DATA/r1.dat"
	eff_pairs "$DATA/r1.dat" r1-load r1-wrk "$SECS" "$SECS" "$DATA/r1-cpu.dat"
	summary "$DATA/r1-cpu.dat"
	R1CPU=$MED
	row "… the same, requests per client CPU-second" "$(fmt_rate "$AM")" "wrk: $(fmt_rate "$BM")" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "≥ $GOAL_R1_CPU" "$(met "$MED" "$GOAL_R1_CPU" '>=')"
	SYS_LOAD=$(sys_per_req "$DATA/r1-load-1.cpu" "$(awk '$1 == 1 {print $2 * '"$SECS"'}' "$DATA/r1.dat")")
	SYS_WRK=$(sys_per_req "$DATA/r1-wrk-1.cpu" "$(awk '$1 == 1 {print $3 * '"$SECS"'}' "$DATA/r1.dat")")
	row "… syscalls per request, client (perf stat, pair 1; floor: one write, one read, a share of epoll_wait)" \
		"$SYS_LOAD" "wrk: $SYS_WRK" "$(ratio "$SYS_WRK" "$SYS_LOAD")" "shown" "—"
	# Instructions per request (callgrind, 2 s each, slowed ~50x so the server idles):
	# what each client spends, whatever the server's pace.
	if command -v valgrind >/dev/null; then
		timeout -k 2 60 valgrind --tool=callgrind --callgrind-out-file="$DATA/r1-load.callgrind" \
			bin/load --headless -u $CONNS -r $CONNS -t 2s -H "$NG" --path / --threads 1 \
			--json "$DATA/r1-load-callgrind.json" >/dev/null 2>"$DATA/r1-load-callgrind.txt"
		timeout -k 2 60 valgrind --tool=callgrind --callgrind-out-file="$DATA/r1-wrk.callgrind" \
			wrk -t1 -c$CONNS -d2s "$NG/" >"$DATA/r1-wrk-callgrind.txt" 2>&1
		ir() { awk '/^(summary|totals):/ {print $2; exit}' "$1" 2>/dev/null; }
		IR_LOAD=$(awk -v i="$(ir "$DATA/r1-load.callgrind")" -v n="$(jget "$DATA/r1-load-callgrind.json" requests)" \
			'BEGIN { if (n > 0) printf "%.0f", i / n; else print "nan" }')
		IR_WRK=$(awk -v i="$(ir "$DATA/r1-wrk.callgrind")" -v n="$(awk '/requests in/ {print $1}' "$DATA/r1-wrk-callgrind.txt")" \
			'BEGIN { if (n > 0) printf "%.0f", i / n; else print "nan" }')
		row "… instructions per request (callgrind Ir, start-up included)" "$(fmt_rate "$IR_LOAD")" \
			"wrk: $(fmt_rate "$IR_WRK")" "$(ratio "$IR_WRK" "$IR_LOAD")" "shown" "—"
		note "- Row 1, instructions: \`callgrind_annotate data/r1-load.callgrind\` shows where bin/load's go" \
			"(the ratio column is wrk's count over ours: above 1 means bin/load does less work per request)."
	fi
fi

# --- 2: bin/load vs Locust ------------------------------------------------------
if want 2 bin/load; then
	log "row 2: bin/load vs Locust (HttpUser, FastHttpUser), $CONNS users, against nginx"
	printf '# pair bin/load HttpUser ratio\n' >"$DATA/r2-http.dat"
	printf '# pair bin/load FastHttpUser ratio\n' >"$DATA/r2-fast.dat"
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 1 ]; then
			a=$(run_load "r2-load-$i" "$NG" /)
			h=$(run_locust "r2-http-$i" "$NG" / BenchHttpUser)
			f=$(run_locust "r2-fast-$i" "$NG" / BenchFastHttpUser)
		else
			f=$(run_locust "r2-fast-$i" "$NG" / BenchFastHttpUser)
			h=$(run_locust "r2-http-$i" "$NG" / BenchHttpUser)
			a=$(run_load "r2-load-$i" "$NG" /)
		fi
		echo "$i ${a:-nan} ${h:-nan} $(ratio "$a" "$h")" >>"$DATA/r2-http.dat"
		echo "$i ${a:-nan} ${f:-nan} $(ratio "$a" "$f")" >>"$DATA/r2-fast.dat"
		log "  pair $i: bin/load ${a:-?}  HttpUser ${h:-?}  FastHttpUser ${f:-?}"
	done
	summary "$DATA/r2-http.dat"
	R2H=$MED
	row "bin/load max rate, 1 thread, $CONNS users" "$(fmt_rate "$AM") req/s" \
		"Locust HttpUser: $(fmt_rate "$BM") req/s" "$(ratio_cell "$MED" "$LO" "$HI")" "≥ 20" "$(met "$MED" 20 '>=')"
	rates_line "bin/load vs Locust HttpUser" "$DATA/r2-http.dat"
	# The target caps this ratio: no client is measured faster than one nginx worker on
	# one CPU serves. (More connections do not raise that cap: nginx's one worker is
	# CPU-bound at 50 and serves fewer requests a second at 200 or 1,000.) So the
	# ceiling the ratio could show here, and the per-CPU-second ratio, sit beside it.
	eff_pairs "$DATA/r2-fast.dat" r2-load r2-fast "$SECS" "$LOCUST_SECS" "$DATA/r2-fast-cpu.dat"
	read -r R2FCPU _ _ < <(stats "$DATA/r2-fast-cpu.dat" 4)
	summary "$DATA/r2-fast.dat"
	R2F=$MED
	R2_CEIL_RATE=$( { stats "$DATA/r2-fast.dat" 2; [ -s "$DATA/r1.dat" ] && stats "$DATA/r1.dat" 3; } |
		awk '$1 != "nan" && $1 > m {m = $1} END {print m + 0}')
	R2_CEIL=$(ratio "$R2_CEIL_RATE" "$BM")
	row "bin/load max rate, 1 thread, $CONNS users (target's ceiling: nginx, 1 worker on 1 CPU)" "$(fmt_rate "$AM") req/s" \
		"Locust FastHttpUser: $(fmt_rate "$BM") req/s" \
		"$(ratio_cell "$MED" "$LO" "$HI"); at most $R2_CEIL on this target; per client CPU-second $(printf '%.2f' "$R2FCPU" 2>/dev/null || echo n/a)" \
		"≥ 20" "$(met "$MED" 20 '>=')"
	rates_line "bin/load vs Locust FastHttpUser" "$DATA/r2-fast.dat"
	eff_pairs "$DATA/r2-http.dat" r2-load r2-http "$SECS" "$LOCUST_SECS" "$DATA/r2-http-cpu.dat"
	summary "$DATA/r2-http-cpu.dat"
	row "… per client CPU-second, vs HttpUser" "$(fmt_rate "$AM")" "HttpUser: $(fmt_rate "$BM")" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "shown" "—"
	summary "$DATA/r2-fast-cpu.dat"
	row "… per client CPU-second, vs FastHttpUser" "$(fmt_rate "$AM")" "FastHttpUser: $(fmt_rate "$BM")" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "shown" "—"
	row "… the ceiling of the rate ratio here: the fastest client's median on this nginx / FastHttpUser's" \
		"$(fmt_rate "$R2_CEIL_RATE") req/s" "FastHttpUser: $(fmt_rate "$(stats "$DATA/r2-fast.dat" 3 | cut -d' ' -f1)") req/s" \
		"$R2_CEIL" "shown" "—"
fi

# --- 3 and 4: our servers vs nginx, and against each other, all driven by wrk ----
if want 3 || want 4; then
	start_ours "$DATA/evented-w1.log" bin/evented --listen 127.0.0.1:0 --workers 1 --max-conns 20000
	EV_PID=$SPID EV=http://127.0.0.1:$SPORT
fi
if want 3; then
	log "row 3: bin/evented --workers 1 vs nginx 1 worker, both driven by wrk"
	r3_ev() { run_wrk_prof "r3-evented-$1" "$EV$BODY_PATH?ms=0" "$EV_PID"; }
	r3_ng() { run_wrk_prof "r3-nginx-$1" "$NG/" "$NG_PID"; }
	pair_rows "$DATA/r3.dat" bin/evented r3_ev nginx r3_ng
	summary "$DATA/r3.dat"
	R3=$MED
	row "bin/evented, 1 worker, \`$BODY_PATH?ms=0\`, by wrk" "$(fmt_rate "$AM") req/s" \
		"nginx 1 worker \`return 200\`: $(fmt_rate "$BM") req/s" "$(ratio_cell "$MED" "$LO" "$HI")" "≥ $GOAL_R3_RATE" "$(met "$MED" "$GOAL_R3_RATE" '>=')"
	rates_line "bin/evented vs nginx" "$DATA/r3.dat"
	srv_eff_pairs "$DATA/r3.dat" r3-evented r3-nginx "$DATA/r3-srv-cpu.dat"
	summary "$DATA/r3-srv-cpu.dat"
	R3CPU=$MED
	row "… the same, requests per server CPU-second (perf stat on the server)" "$(fmt_rate "$AM")" "nginx: $(fmt_rate "$BM")" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "≥ $GOAL_R3_CPU" "$(met "$MED" "$GOAL_R3_CPU" '>=')"
	read -r EV_US EV_CS EV_SYS < <(prof_read r3-evented-1 "$(awk '$1 == 1 {print $2}' "$DATA/r3.dat")")
	read -r NG_US NG_CS NG_SYS < <(prof_read r3-nginx-1 "$(awk '$1 == 1 {print $3}' "$DATA/r3.dat")")
	row "… syscalls per request, server (pair 1; floor: one read, one write, a share of epoll_wait)" \
		"$EV_SYS" "nginx: $NG_SYS" "$(ratio "$NG_SYS" "$EV_SYS")" "shown" "—"
	note "- Row 3, server cost per request (perf stat on the server, pair 1): bin/evented $EV_US µs CPU," \
		"$EV_CS context switches; nginx $NG_US µs CPU, $NG_CS context switches."
fi
if want 3 && [ -n "${NG_PID:-}" ]; then stop "$NG_PID"; NG_PID=; fi

if want 4 bin/blocking; then
	log "row 4: bin/blocking vs bin/evented, ?ms=0, driven by wrk"
	start_ours "$DATA/blocking.log" bin/blocking --listen 127.0.0.1:0
	BL_PID=$SPID BL=http://127.0.0.1:$SPORT
	r4_bl() { run_wrk_prof "r4-blocking-$1" "$BL/sync_baseline?ms=0" "$BL_PID"; }
	r4_ev() { run_wrk_prof "r4-evented-$1" "$EV/async_independent?ms=0" "$EV_PID"; }
	pair_rows "$DATA/r4.dat" bin/blocking r4_bl bin/evented r4_ev
	summary "$DATA/r4.dat"
	R4=$MED
	row "bin/blocking (80 threads) \`/sync_baseline?ms=0\`, by wrk" "$(fmt_rate "$AM") req/s" \
		"bin/evented 1 worker \`/async_independent?ms=0\`: $(fmt_rate "$BM") req/s" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "shown" "—"
	rates_line "bin/blocking vs bin/evented" "$DATA/r4.dat"
	read -r BL_US BL_CS BL_SYS < <(prof_read r4-blocking-1 "$(awk '$1 == 1 {print $2}' "$DATA/r4.dat")")
	read -r EV4_US EV4_CS EV4_SYS < <(prof_read r4-evented-1 "$(awk '$1 == 1 {print $3}' "$DATA/r4.dat")")
	row "… syscalls per request, server (pair 1)" "$BL_SYS" "bin/evented: $EV4_SYS" "" "shown" "—"
	BL_CONN=$(curl -s -D - -o /dev/null --max-time 5 "$BL/sync_baseline?ms=0" | tr -d '\r' |
		sed -n 's/^[Cc]onnection: *//p')
	BL_SOCK=$(grep -h 'Socket errors' "$DATA"/r4-blocking-*.wrk.txt | head -1)
	note "- Row 4, why: per request bin/blocking spends $BL_US µs of server CPU and $BL_CS context" \
		"switches, bin/evented $EV4_US µs and $EV4_CS. A blocking request is handed from the" \
		"accepting thread to a pool thread (a queue and a wake-up, i.e. context switches) and" \
		"holds that thread while it runs; an evented request is parsed, timed and answered" \
		"on the thread that read it. bin/blocking's Connection header: \`${BL_CONN:-none}\`${BL_SOCK:+; wrk saw: $BL_SOCK}."
	stop "$BL_PID"
fi
if [ -n "${EV_PID:-}" ]; then stop "$EV_PID"; EV_PID=; fi

# Ten thousand connections need ten thousand descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null
FDS=$(ulimit -n)

# rss_kb PID: VmRSS (or VmHWM with a 2nd arg) summed over the process and its children
rss_kb() {
	local key=${2:-VmRSS} p
	for p in $1 $(pgrep -P "$1"); do cat "/proc/$p/status" 2>/dev/null; done |
		awk -v k="$key:" '$1 == k {s += $2} END {print s + 0}'
}

# hist_quantiles BEFORE AFTER NAME [MAX_NAME]: the growth of Prometheus histogram NAME between two
# scrapes, summed over label sets -> "count p50_us p99_us max_us" (quantiles linearly
# interpolated inside their bucket; max is the upper edge of the highest non-empty
# bucket, or the gauge MAX_NAME when the server exposes it), then the edges of the
# bucket holding p99 ("p99_lo p99_hi"): the only exact statement a histogram makes.
hist_quantiles() {
	awk -v name="$3" -v maxname="${4:-}" '
	function le_of(line) { if (match(line, /le="[^"]*"/)) return substr(line, RSTART + 4, RLENGTH - 5); return "" }
	FNR == 1 { file++ }
	index($0, name "_bucket{") == 1 { le = le_of($0); v = $NF
		if (le == "+Inf") le = 1e99
		if (file == 1) before[le] += v; else after[le] += v; les[le] = 1 }
	maxname != "" && $1 == maxname && file == 2 { mx = $NF }
	END {
		n = 0; for (l in les) edge[++n] = l + 0
		for (i = 2; i <= n; i++) for (j = i; j > 1 && edge[j] < edge[j - 1]; j--) { t = edge[j]; edge[j] = edge[j - 1]; edge[j - 1] = t }
		for (i = 1; i <= n; i++) { c[i] = 0
			for (l in les) if (l + 0 == edge[i]) c[i] += after[l] - before[l] }
		total = c[n]
		if (total <= 0) { print "0 nan nan nan"; exit }
		split("0.5 0.99", qs, " ")
		for (k = 1; k <= 2; k++) { want = qs[k] * total; prev_e = 0; prev_c = 0
			for (i = 1; i <= n; i++) { if (c[i] >= want) break; prev_e = edge[i]; prev_c = c[i] }
			hi = edge[i] >= 1e98 ? prev_e : edge[i]
			q[k] = (c[i] > prev_c) ? prev_e + (hi - prev_e) * (want - prev_c) / (c[i] - prev_c) : hi
			qlo[k] = prev_e; qhi[k] = edge[i] }
		top = 0; for (i = 1; i <= n; i++) if (c[i] > (i > 1 ? c[i - 1] : 0)) top = edge[i]
		if (mx != "") top = mx
		printf "%d %.1f %.1f %s %.0f %s\n", total, q[1] * 1e6, q[2] * 1e6, (top >= 1e98 ? "inf" : sprintf("%.1f", top * 1e6)),
			qlo[2] * 1e6, (qhi[2] >= 1e98 ? "inf" : sprintf("%.0f", qhi[2] * 1e6))
	}' "$1" "$2"
}

LATE=evented_timer_lateness_seconds
LATE_MAX=evented_timer_lateness_max_seconds

# --- 5: timer lateness ----------------------------------------------------------
# What is measured is the timer mechanism: deadlines falling due one by one, as an
# open load spreads them. bin/load --rate sends R5_REQ requests a second on a fixed
# schedule to /async_independent?ms=R5_MS: its tasks sleep one after another, so each
# request has one timer pending at a time and no two of its timers share a deadline
# (/async_concurrent's three timers share one, so two of them would always wait for
# the first one's callback: that measures the callback, not the timer).
# nanosleep is measured the same way: sleeps of R5_MS begun R5_TPS a second.
R5_ROUTE=/async_independent
R5_MS=50
R5_TPS=2000    # timers (and sleeps) begun per second
R5_SECS=5      # so about 10,000 timers per run
if want 5 bin/load "$PROBE"; then
	R5_TASKS=$(bin/load --routes | awk -F'\t' -v p="$R5_ROUTE" '$2 == p {print $5}')
	R5_REQ=$((R5_TPS / ${R5_TASKS:-3}))
	R5_CONNS=$(awk -v r="$R5_REQ" -v s="$((${R5_TASKS:-3} * R5_MS))" 'BEGIN {printf "%d", r * s / 1000 * 1.5 + 1}')
	R5_THREADS=$(awk -v r="$R5_TPS" -v s="$R5_MS" 'BEGIN {printf "%d", r * s / 1000 * 1.5 + 1}')
	log "row 5: timer lateness: bin/evented ($R5_REQ req/s on $R5_ROUTE?ms=$R5_MS) vs nanosleep ($R5_TPS sleeps/s)"
	echo "# pair timers evented_p50 evented_p99 evented_max sleeps sleep_p50 sleep_p99 sleep_max p99_ratio evented_p99_bucket_lo evented_p99_bucket_hi" >"$DATA/r5.dat"
	# r5_evented PAIR [herd|burst]: a fresh one-worker server, its lateness histogram's
	# growth between two scrapes, the max from its max gauge (a fresh server: since start).
	# Default: the spread schedule above. "herd": the method this row used before,
	# 10,000 connections at 10,000 req/s on 1 s timers. "burst": 10,000 users spawned
	# in one batch (Locust's -r 10000), all deadlines within the connect burst; the stop
	# at 2 s hangs up the second round, cancelling its timers.
	r5_evented() {
		local n=$R5_CONNS mode=(-r "$R5_CONNS" --rate "$R5_REQ" -t "${R5_SECS}s" --path "$R5_ROUTE?ms=$R5_MS")
		[ "${2:-}" = herd ] && n=10000 mode=(-r 10000 --rate 10000 -t 2s --path "$BODY_PATH?ms=1000")
		[ "${2:-}" = burst ] && n=10000 mode=(-r 10000 -t 2s --path "$BODY_PATH?ms=1500")
		start_ours "$DATA/r5-evented-$1.log" bin/evented --listen 127.0.0.1:0 --workers 1 --max-conns 20000
		curl -s --max-time 5 "http://127.0.0.1:$SPORT/metrics" >"$DATA/r5-metrics-before-$1.txt"
		timeout -k 2 40 "${CLI[@]}" bin/load --headless -u $n --threads 1 "${mode[@]}" \
			-H "http://127.0.0.1:$SPORT" --json "$DATA/r5-load-$1.json" \
			2>"$DATA/r5-load-$1.console.txt" >/dev/null
		curl -s --max-time 5 "http://127.0.0.1:$SPORT/metrics" >"$DATA/r5-metrics-after-$1.txt"
		stop "$SPID"
		hist_quantiles "$DATA/r5-metrics-before-$1.txt" "$DATA/r5-metrics-after-$1.txt" "$LATE" "$LATE_MAX"
	}
	r5_sleep() {
		"${SRV[@]}" "$PROBE" --threads "$R5_THREADS" --sleeps $((R5_TPS * R5_SECS)) --ms "$R5_MS" \
			--rate "$R5_TPS" --out "$DATA/r5-nanosleep-$1.txt" | sed 's/[a-z0-9_]*=//g'
	}
	for i in $(seq "$PAIRS"); do
		if [ $((i % 2)) = 1 ]; then e=$(r5_evented "$i"); s=$(r5_sleep "$i"); else s=$(r5_sleep "$i"); e=$(r5_evented "$i"); fi
		read -r _ _ _ _ s50 s99 smax <<<"$s"
		read -r ecount e50 e99 emax elo ehi <<<"$e"
		echo "$i $ecount $e50 $e99 $emax $((R5_TPS * R5_SECS)) $s50 $s99 $smax $(ratio "$e99" "$s99") $elo $ehi" >>"$DATA/r5.dat"
		log "  pair $i: evented $ecount timers p50 $e50 p99 $e99 max $emax µs; nanosleep p50 $s50 p99 $s99 max $smax µs"
	done
	read -r E50 _ _ < <(stats "$DATA/r5.dat" 3)
	read -r E99 E99LO E99HI < <(stats "$DATA/r5.dat" 4)
	read -r EMAX _ _ < <(stats "$DATA/r5.dat" 5)
	read -r ECOUNT _ _ < <(stats "$DATA/r5.dat" 2)
	read -r S50 _ _ < <(stats "$DATA/r5.dat" 7)
	read -r S99 S99LO S99HI < <(stats "$DATA/r5.dat" 8)
	read -r SMAX _ _ < <(stats "$DATA/r5.dat" 9)
	read -r MED LO HI < <(stats "$DATA/r5.dat" 10)
	read -r _ BLO _ < <(stats "$DATA/r5.dat" 11)
	read -r _ _ BHI < <(stats "$DATA/r5.dat" 12)
	R5=$E99 R5LO=$BLO R5HI=$BHI
	row "timer lateness p50 / p99 / max, µs: bin/evented, 1 worker, $ECOUNT timers due one by one ($R5_REQ req/s × $R5_TASKS sequential ${R5_MS} ms timers on \`$R5_ROUTE\`, ${R5_SECS} s, $R5_CONNS conns)" \
		"$E50 / **$E99** ($E99LO–$E99HI; bucket $BLO–$BHI) / $EMAX" \
		"nanosleep, $((R5_TPS * R5_SECS)) sleeps of ${R5_MS} ms begun $R5_TPS/s on $R5_THREADS threads: $S50 / $S99 ($S99LO–$S99HI) / $SMAX" \
		"p99 ratio $(ratio_cell "$MED" "$LO" "$HI")" "p99 ≤ 200 µs" "$(met_bucket "$E99" "$BLO" "$BHI" 200)"
	# The thread-per-request version of 10,000 users: 10,000 threads asleep at once.
	read -r _ _ _ _ T50 T99 TMAX < <("${SRV[@]}" "$PROBE" --threads 10000 --sleeps 10000 --ms 1000 \
		--out "$DATA/r5-nanosleep-10k-threads.txt" | sed 's/[a-z0-9_]*=//g')
	row "… nanosleep with 10,000 threads started together, all asleep at once (1 run)" "" "$T50 / $T99 / $TMAX" "" "shown" "—"
	read -r HCOUNT H50 H99 HMAX HLO HHI < <(r5_evented herd herd)
	row "… bin/evented in a herd: 10,000 conns at 10,000 req/s, 1 s timers, ~30,000 pending (1 run; this row's former method)" \
		"$H50 / $H99 (bucket $HLO–$HHI) / $HMAX ($HCOUNT timers)" "" "" "shown" "—"
	read -r BCOUNT B50 B99 BMAX BLO BHI < <(r5_evented burst burst)
	row "… bin/evented, 10,000 users spawned in one batch: all deadlines in one burst (1 run)" \
		"$B50 / $B99 (bucket $BLO–$BHI) / $BMAX ($BCOUNT timers)" "" "" "shown" "—"
	note "- Row 5: bin/evented's lateness comes from its \`$LATE\` histogram (the growth between" \
		"two scrapes; quantiles interpolated inside a bucket, the bucket holding p99 beside it) and" \
		"the max from its \`$LATE_MAX\` gauge (a fresh server per run). nanosleep's from" \
		"build/bench/sleep_probe --rate (every sleep timed; the kernel's default 50 µs timer slack, as" \
		"bin/blocking's threads have). The main row spreads deadlines out ($R5_TPS timers begun a second," \
		"about $((R5_TPS * R5_MS / 1000)) pending): how precisely one timer fires. The herd and burst rows" \
		"put thousands of deadlines in the same instant: one thread then answers thousands of sockets back" \
		"to back, and the last timer of the herd runs after all of them (about 6.5 µs each): that measures" \
		"the herd's size, not the timer."
fi

# --- 6: 10,000 users on one worker ----------------------------------------------
# Users that start together stay together: with 1 s tasks and no wait every user's
# next response is due in the same millisecond as its batch's, and one client thread
# and one server thread answer them back to back (~65 ms for 10,000), so p99 would
# measure that burst. Spreading the spawn cannot undo it here: Locust (and bin/load,
# which copies it) starts floor(r) users every floor(r)/r s, i.e. a batch on every
# whole second, in phase with 1 s tasks whatever r is. So the users spawn at C6_SPAWN
# a second (ramp-up C6_RAMP s) and think uniformly 0..C6_WAIT s between requests, as
# Locust's between(0, C6_WAIT): their phases drift apart within a few rounds and
# arrivals become uniform over the second. The model simulates the same spawn and
# wait; p99 is read after ramp-up and drift (t >= C6_FROM s), from the per-second series.
# The one-batch, no-wait run follows as a shown row.
C6_USERS=10000
C6_SPAWN=2000
C6_WAIT=0.2
C6_RAMP=$(((C6_USERS + C6_SPAWN - 1) / C6_SPAWN))
C6_FROM=$((C6_RAMP + 5))
C6_BATCH_SECS=10

# c10k_run TAG SPAWN WAIT_MAX SECS DIR: one-worker bin/evented, C6_USERS users on
# AsyncConcurrentUser; writes DIR/load*, DIR/metrics.txt, $DATA/TAG-*; sets IDLE_KB PEAK_KB
c10k_run() {
	local tag=$1 spawn=$2 wmax=$3 secs=$4 dir=$5 wait=() pid host sampler
	[ "$wmax" != 0 ] && wait=(--wait-time "0-$wmax")
	start_ours "$dir/server.log" bin/evented --listen 127.0.0.1:0 --workers 1 --max-conns 20000 --task-ms 1000
	pid=$SPID host=http://127.0.0.1:$SPORT
	curl -s --max-time 5 "$host/metrics" >"$DATA/$tag-metrics-before.txt"
	IDLE_KB=$(rss_kb "$pid")
	echo "# t_s rss_kb" >"$DATA/$tag-rss.dat"
	( t0=$(date +%s.%N); while kill -0 "$pid" 2>/dev/null; do
		echo "$(awk -v a="$(date +%s.%N)" -v b="$t0" 'BEGIN {printf "%.1f", a - b}') $(rss_kb "$pid")"
		sleep 0.5; done ) >>"$DATA/$tag-rss.dat" 2>/dev/null &
	sampler=$!
	PIDS+=("$sampler")
	timeout -k 2 $((secs + 40)) "${CLI[@]}" bin/load --headless -u "$C6_USERS" -r "$spawn" -t "${secs}s" \
		"${wait[@]}" --threads 1 -H "$host" --csv "$dir/load" --csv-full-history --json "$dir/load.json" \
		AsyncConcurrentUser 2>"$dir/console.txt" >/dev/null
	PEAK_KB=$(rss_kb "$pid" VmHWM)
	curl -s --max-time 5 "$host/metrics" >"$dir/metrics.txt"
	stop "$sampler"
	stop "$pid"
	cp "$dir/metrics.txt" "$DATA/$tag-metrics-after.txt"
}

# series_p99 LOAD_JSON FROM_S -> "worst median seconds": per-second p99 (ms) from
# FROM_S on. The worst second's p99 bounds the window's p99 from above (no second has
# more than 1% of its requests above it).
series_p99() {
	"$PY" - "$1" "$2" <<-'PYEOF' 2>/dev/null || echo "nan nan 0"
	import json, sys
	s = sorted(x["p99_ms"] for x in json.load(open(sys.argv[1])).get("series", [])
	           if x["t"] >= float(sys.argv[2]) and x["rps"] > 0)
	n = len(s)
	print("%.1f %.1f %d" % (s[-1], (s[(n - 1) // 2] + s[n // 2]) / 2, n) if n else "nan nan 0")
	PYEOF
}

if want 6 bin/load bin/report; then
	log "row 6: $C6_USERS users on /async_concurrent, 1 s tasks, one worker, -r $C6_SPAWN, wait 0-$C6_WAIT s, ${C10K_SECS}s"
	C10K=$OUT/c10k
	SC=$C10K/01-AsyncConcurrentUser-u$C6_USERS
	mkdir -p "$SC"
	{
		echo "PROFILE=c10k"; echo "LOAD=bin/load"; echo "CPUS=$(nproc)"; echo "KERNEL=$(uname -r)"
		echo "STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)"; echo "GIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	} >"$C10K/run.env"
	printf '%s\n' CLASS=AsyncConcurrentUser PATH=/async_concurrent WORLD=evented USERS=$C6_USERS \
		SPAWN_RATE=$C6_SPAWN RUN_TIME_S="$C10K_SECS" TASK_MS=1000 THREADS=80 HELPERS=240 WORKERS=1 \
		WAIT_MIN_S=0 WAIT_MAX_S=$C6_WAIT SWEEP=0 >"$SC/scenario.env"
	c10k_run c10k "$C6_SPAWN" "$C6_WAIT" "$C10K_SECS" "$SC"
	read -r _ CL50 CL99 CLMAX CLLO CLHI < <(hist_quantiles "$DATA/c10k-metrics-before.txt" "$DATA/c10k-metrics-after.txt" "$LATE" "$LATE_MAX")
	MEAS_RPS=$(jget "$SC/load.json" rps)
	MEAS_REQS=$(jget "$SC/load.json" requests)
	MEAS_FAILS=$(jget "$SC/load.json" failures)
	bin/report --predict --users "$C6_USERS" --spawn-rate "$C6_SPAWN" --run-time "$C10K_SECS" --task-ms 1000 \
		--workers 1 --wait "0-$C6_WAIT" AsyncConcurrentUser >"$DATA/c10k-predict.txt" 2>&1
	read -r PRED_REQS PRED_RPS < <(awk -F'|' '/Aggregated/ && NF == 3 {split($1, a, " "); split($3, b, " "); print a[2], b[1]; exit}' "$DATA/c10k-predict.txt")
	bin/report "$C10K" >"$DATA/c10k-report.txt" 2>&1 || log "bin/report $C10K failed: $(tail -1 "$DATA/c10k-report.txt")"
	PER_CONN=$(awk -v p="$PEAK_KB" -v i="$IDLE_KB" -v n="$C6_USERS" 'BEGIN {printf "%.2f", (p - i) / n}')
	# Throughput as requests answered inside the same window with the same accounting
	# (Locust's: a request counts when it completes before the stop).
	R6=$(ratio "$MEAS_REQS" "$PRED_REQS")
	read -r STEADY_P99 STEADY_MED STEADY_N < <(series_p99 "$SC/load.json" "$C6_FROM")
	row "10,000 users, \`/async_concurrent\` 1 s tasks, 1 worker, -r $C6_SPAWN, wait 0–$C6_WAIT s, ${C10K_SECS}s: throughput (# reqs in the window)" \
		"$MEAS_REQS reqs, $(fmt_rate "$MEAS_RPS") req/s, $MEAS_FAILS failed" \
		"model (same spawn and wait): $PRED_REQS reqs, $(fmt_rate "$PRED_RPS") req/s" "$R6" "≥ $GOAL_R6_REQS" "$(met "$R6" "$GOAL_R6_REQS" '>=')"
	row "… p99 response time after ramp-up: worst second (median second) of t = $C6_FROM–${C10K_SECS} s" \
		"**$STEADY_P99 ms** ($STEADY_MED ms; $STEADY_N s)" "task 1000 ms" "" "≤ $GOAL_R6_P99_MS ms" "$(met "$STEADY_P99" "$GOAL_R6_P99_MS" '<=')"
	row "… server memory per connection (VmHWM − idle VmRSS) / 10,000" "$PER_CONN KiB" \
		"idle $IDLE_KB KiB, peak $PEAK_KB KiB" "" "≤ 4 KiB" "$(met "$PER_CONN" 4 '<=')"
	row "… timer lateness under that load p50 / p99 / max, µs (whole run)" "$CL50 / $CL99 (bucket $CLLO–$CLHI) / $CLMAX" "" "" "shown" "—"
	# Shown: the same users spawned in one batch, no wait: every second all 10,000
	# responses fall due together.
	SB=$DATA/c10k-one-batch
	mkdir -p "$SB"
	c10k_run c10k-batch "$C6_USERS" 0 "$C6_BATCH_SECS" "$SB"
	BATCH_P99=$(awk -v x="$(jget "$SB/load.json" latency_us p99)" 'BEGIN { if (x == "") print "nan"; else printf "%.1f", x / 1000}')
	read -r BATCH_STEADY _ _ < <(series_p99 "$SB/load.json" 3)
	row "… shown: the $C6_USERS users spawned in one batch (-r $C6_USERS), no wait, ${C6_BATCH_SECS}s: p99 whole run / worst second from t = 3 s" \
		"$BATCH_P99 ms / $BATCH_STEADY ms, $(fmt_rate "$(jget "$SB/load.json" rps)") req/s" \
		"task 1000 ms + 10 ms" "" "shown" "—"
	note "- Row 6: the run folder is \`c10k/\` (bin/report's REPORT.md there); the model's figures come from" \
		"\`bin/report --predict\` with the same users, spawn rate and wait (simulated closed system)." \
		"Why the wait: users started together stay in step (1 s tasks, no wait), so each second all" \
		"10,000 responses fall due in the same millisecond and one client thread and one server thread" \
		"work through them back to back (~65 ms): p99 then measures that burst (the one-batch row shows it)." \
		"A slower spawn does not help with Locust's spawn rule (floor(r) users every floor(r)/r s: a batch on" \
		"every whole second, in phase with 1 s tasks), so users think 0–$C6_WAIT s between requests, drift" \
		"apart within a few rounds, and arrive uniformly over each second. p99 is read per second from" \
		"t = $C6_FROM s (ramp-up ${C6_RAMP} s, then drift); the worst second bounds the window's p99 from" \
		"above. Memory is RSS only: kernel socket buffers are not in it."
fi

# --- 7 and 8: the quick profile against the model, ours and the FastAPI peer ------
env_val() { sed -n "s/^$2=//p" "$1/scenario.env" | head -1; }

# vs_model SCENARIO_DIR -> "reqs pred_reqs avg_ms pred_avg_ms" (measured from load.json,
# predicted by bin/report --predict with the scenario's own parameters)
vs_model() {
	local d=$1 wmin wmax wait=() pred
	wmin=$(env_val "$d" WAIT_MIN_S) wmax=$(env_val "$d" WAIT_MAX_S)
	[ "${wmax:-0}" != 0 ] && wait=(--wait "$wmin-$wmax")
	pred=$(bin/report --predict --users "$(env_val "$d" USERS)" --spawn-rate "$(env_val "$d" SPAWN_RATE)" \
		--run-time "$(env_val "$d" RUN_TIME_S)" --task-ms "$(env_val "$d" TASK_MS)" \
		--threads "$(env_val "$d" THREADS)" --helpers "$(env_val "$d" HELPERS)" \
		--workers "$(env_val "$d" WORKERS)" "${wait[@]}" "$(env_val "$d" CLASS)" 2>&1)
	printf '%s\n' "$pred" >"$d/bench-predict.txt"
	read -r PR PA < <(awk -F'|' '/Aggregated/ && NF == 3 {split($1, a, " "); split($2, b, " "); print a[2], b[1]; exit}' <<<"$pred")
	echo "$(jget "$d/load.json" requests || echo nan) ${PR:-nan} $(awk -v x="$(jget "$d/load.json" latency_us mean)" \
		'BEGIN { if (x == "") print "nan"; else printf "%.1f", x / 1000 }') ${PA:-nan}"
}

quick_flags() { # the quick profile's values as compare.sh flags (reports/profiles.mk)
	make -s --no-print-directory profile-env PROFILE=quick | awk -F= '
		$1 == "USERS" {printf "--users %s ", $2} $1 == "SPAWN_RATE" {printf "--spawn-rate %s ", $2}
		$1 == "RUN_TIME" {printf "--run-time %s ", $2} $1 == "TASK_MS" {printf "--task-ms %s ", $2}
		$1 == "THREADS" {printf "--threads %s ", $2} $1 == "WORKERS" {printf "--workers %s ", $2}'
}

# quick_table RUN_DIR OUT_FILE: "class reqs pred reqs_ratio avg pred_avg avg_err_pct" per scenario
quick_table() {
	local d
	echo "# class reqs pred_reqs reqs_ratio avg_ms pred_avg_ms avg_err_pct" >"$2"
	for d in "$1"/[0-9][0-9]-*/; do
		[ -f "$d/scenario.env" ] || continue
		read -r r p a pa < <(vs_model "${d%/}")
		echo "$(env_val "${d%/}" CLASS) $r $p $(ratio "$r" "$p") $a $pa $(awk -v a="$a" -v p="$pa" \
			'BEGIN { if (p > 0 && a != "nan") printf "%.2f", (a - p) * 100 / p; else print "nan" }')" >>"$2"
	done
}

if want 7 bin/load bin/report bin/blocking; then
	log "row 7: make compare PROFILE=quick (ours)"
	make -s --no-print-directory compare PROFILE=quick RUNS_DIR="$OUT/runs" >"$DATA/compare-ours.txt" 2>&1 ||
		log "make compare exited $? (see data/compare-ours.txt)"
	OURS_RUN=$(readlink -f "$OUT/runs/latest")
	if [ -d "$OURS_RUN" ]; then
		[ -s "$OURS_RUN/summary.txt" ] || bin/report "$OURS_RUN" >"$DATA/report-ours.txt" 2>&1
		quick_table "$OURS_RUN" "$DATA/quick-ours.dat"
	fi
fi
if want 8 bin/load bin/report; then
	log "row 8: the quick profile against the FastAPI peer (uvicorn, 2 workers)"
	mkdir -p "$TMP/peerbin"
	ln -s "$PWD/load/bench/peer_server.sh" "$TMP/peerbin/blocking"
	ln -s "$PWD/load/bench/peer_server.sh" "$TMP/peerbin/evented"
	ln -s "$PWD/bin/load" "$TMP/peerbin/load"
	ln -s "$PWD/bin/report" "$TMP/peerbin/report"
	# shellcheck disable=SC2046
	load/harness/compare.py --profile quick-fastapi $(quick_flags) --bin "$TMP/peerbin" \
		--runs-dir "$OUT/peer-runs" >"$DATA/compare-peer.txt" 2>&1 ||
		log "compare.py against the peer exited $? (see data/compare-peer.txt)"
	PEER_RUN=$(readlink -f "$OUT/peer-runs/latest")
	if [ -d "$PEER_RUN" ]; then
		[ -s "$PEER_RUN/summary.txt" ] || bin/report "$PEER_RUN" >"$DATA/report-peer.txt" 2>&1
		quick_table "$PEER_RUN" "$DATA/quick-peer.dat"
	fi
fi
if [ -s "$DATA/quick-ours.dat" ] || [ -s "$DATA/quick-peer.dat" ]; then
	peer_cell() { awk -v c="$1" '$1 == c {printf "%s / %s = %.3f; avg %s vs %s ms (%+.1f%%)", $2, $3, $4, $5, $6, $7}' "$DATA/quick-peer.dat" 2>/dev/null; }
	QUICK_MISS=0
	if [ -s "$DATA/quick-ours.dat" ]; then src=$DATA/quick-ours.dat; else src=$DATA/quick-peer.dat; fi
	while read -r c r p rr a pa e; do
		[ "$c" = "#" ] && continue
		ours="" ok="n/a"
		if [ -s "$DATA/quick-ours.dat" ]; then
			ours=$(printf '%s / %s = %.3f; avg %s vs %s ms (%+.1f%%)' "$r" "$p" "$rr" "$a" "$pa" "$e" 2>/dev/null)
			ok=$(awk -v r="$rr" -v e="$e" 'BEGIN { if (r == "nan" || e == "nan") print "n/a";
				else if (r >= 0.99 && e <= 1 && e >= -1) print "yes"; else print "**no**" }')
			[ "$ok" = "**no**" ] && QUICK_MISS=$((QUICK_MISS + 1))
		fi
		row "quick \`$c\`: # reqs / predicted; avg vs predicted" "${ours:-not run}" \
			"FastAPI: $(peer_cell "$c")" "$rr" "≥ 0.99; avg ±1%" "$ok"
	done <"$src"
fi

# --- 9: bin/load as a Locust worker (a file of its own) ----------------------------
. load/bench/row_worker.sh

# --- why, where a goal is missed: the measurements above, read -------------------
missed() { [ "$(met "$1" "$2" "$3")" = "**no**" ]; }
WHY=$TMP/why.md
: >"$WHY"
why() { printf '%s\n' "$*" >>"$WHY"; }
if [ -n "${R1CPU:-}" ] && missed "$R1CPU" "$GOAL_R1_CPU" '>='; then
	why "- **Row 1, per client CPU-second** (bin/load / wrk = $R1CPU, goal $GOAL_R1_CPU): syscalls per request" \
		"bin/load ${SYS_LOAD:-?}, wrk ${SYS_WRK:-?}; instructions per request ${IR_LOAD:-?} against ${IR_WRK:-?}. The rest" \
		"is the kernel's TCP work per request, the same for both (docs/PERFORMANCE.md)."
fi
if [ -n "${R1:-}" ] && missed "$R1" "$GOAL_R1_RATE" '>='; then
	why "- **Row 1** (bin/load / wrk = $R1, goal $GOAL_R1_RATE, short by $(awk -v x="$R1" -v g="$GOAL_R1_RATE" 'BEGIN {printf "%.0f", (g - x) * 100}') points):" \
		"per client CPU-second bin/load does ${R1CPU:-?}x wrk's requests and callgrind counts" \
		"${IR_LOAD:-?} instructions per request against wrk's ${IR_WRK:-?}. When bin/load is as cheap per request" \
		"but slower per second, it is not out of CPU: it leaves the server idle between a response and the next" \
		"request (look at its latency tail in data/r1-load-*.json against wrk's), or the shared server CPU was busier" \
		"during its runs (the min–max spread and the load average say how noisy)."
fi
if [ -n "${R2F:-}" ] && missed "$R2F" 20 '>='; then
	why "- **Row 2** (bin/load / Locust FastHttpUser = $R2F, goal 20, short by a factor" \
		"$(awk -v x="$R2F" 'BEGIN {printf "%.1f", 20 / x}')): **the ratio is capped by the target, not by bin/load.**" \
		"One nginx worker on one CPU serves at most about $(fmt_rate "$R2_CEIL_RATE") req/s (the fastest client's" \
		"median here), and FastHttpUser reaches $(fmt_rate "$(stats "$DATA/r2-fast.dat" 3 | cut -d' ' -f1)") req/s on its" \
		"own core, so no client could show more than ${R2_CEIL}x against it on this machine: the goal of 20x" \
		"cannot be measured as a rate ratio with a one-CPU target. Per client CPU-second, which does not" \
		"depend on the target's ceiling, bin/load does ${R2FCPU}x FastHttpUser's requests — also short of" \
		"20x: bin/load pays about $(awk -v a="$(stats "$DATA/r2-fast-cpu.dat" 2 | cut -d' ' -f1)" 'BEGIN { if (a > 0) printf "%.1f", 1e6 / a; else print "?" }') µs of CPU" \
		"per request and FastHttpUser (geventhttpclient, C parser) about" \
		"$(awk -v a="$(stats "$DATA/r2-fast-cpu.dat" 3 | cut -d' ' -f1)" 'BEGIN { if (a > 0) printf "%.0f", 1e6 / a; else print "?" }') µs." \
		"Closing it would need a target with more CPUs than this 2-CPU machine has (the client needs the other" \
		"one), and a cheaper bin/load per request (callgrind above) for the per-CPU figure."
fi
if [ -n "${R2H:-}" ] && missed "$R2H" 20 '>='; then
	why "- **Row 2** (bin/load / Locust HttpUser = $R2H, goal 20): same cap as above; HttpUser (requests +" \
		"urllib3) spends about $(awk -v a="$(cut -d' ' -f1 < <(stats "$DATA/r2-http-cpu.dat" 3))" 'BEGIN { if (a > 0) printf "%.0f", 1e6 / a; else print "?" }') µs" \
		"of CPU per request."
fi
if { [ -n "${R3:-}" ] && missed "$R3" "$GOAL_R3_RATE" '>='; } || { [ -n "${R3CPU:-}" ] && missed "$R3CPU" "$GOAL_R3_CPU" '>='; }; then
	why "- **Row 3** (bin/evented / nginx = $R3, goal $GOAL_R3_RATE; per server CPU-second ${R3CPU:-?}, goal $GOAL_R3_CPU):" \
		"server CPU per request bin/evented ${EV_US:-?} µs, ${EV_SYS:-?} syscalls," \
		"nginx ${NG_US:-?} µs, ${NG_SYS:-?} syscalls (perf stat, pair 1); most of either is the kernel's TCP work for" \
		"the read and the write (docs/PERFORMANCE.md), which no server saves with the same syscalls." \
		"nginx ${NG_US:-?} µs (perf stat, pair 1). Both servers run their single CPU flat out, so the rate ratio is the" \
		"inverse of those costs; where they are within a few percent the difference is noise from the shared CPU" \
		"(see the spread). \`perf record -g -p \$(pgrep -n evented)\` during a wrk run shows where the cycles go."
fi
if [ -n "${R5:-}" ] && [ "$(met_bucket "$R5" "${R5LO:-0}" "${R5HI:-inf}" 200)" != yes ]; then
	why "- **Row 5** (bin/evented timer p99 = $R5 µs, bucket ${R5LO:-?}–${R5HI:-?} µs, goal 200): p50 is ${E50:-?} µs," \
		"and nanosleep under the same schedule on the same CPU measured p50 ${S50:-?} µs, p99 ${S99:-?} µs." \
		"With ~$((R5_TPS * R5_MS / 1000)) timers pending and one falling due every $((1000000 / R5_TPS)) µs the loop is" \
		"idle in epoll_wait when a deadline comes (bin/evented sets a 1 ns timer slack and arms the wake-up" \
		"for its heap's earliest deadline on a timerfd), so a late timer is one whose thread was not running: the" \
		"wake-up itself (p50) plus, in the tail, the CPU taken by other work (load average" \
		"$(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs at the end; the client's softirqs land on the" \
		"server's CPU too). Where nanosleep's p99 is as far off, the machine, not the loop, sets the tail;" \
		"closing the rest: run the bench on an idle machine, or isolate the server's CPU (isolcpus, SCHED_FIFO)."
fi
if [ -n "${STEADY_P99:-}" ] && missed "$STEADY_P99" "$GOAL_R6_P99_MS" '<='; then
	why "- **Row 6** (worst second's p99 $STEADY_P99 ms after ramp-up, median second $STEADY_MED ms, goal" \
		"$GOAL_R6_P99_MS ms): lateness is added to the 1 s tasks by whatever delays the one loop (the row below: timer" \
		"p99 ${CL99:-?} µs over the run) or the one client thread reading 10,000 responses a second; a" \
		"second whose p99 is far above the median is a moment where the shared CPUs were taken by other" \
		"work (compare with the load average in the method line)."
fi
if [ -n "${R6:-}" ] && missed "$R6" "$GOAL_R6_REQS" '>='; then
	why "- **Row 6** (# reqs / predicted = $R6, goal $GOAL_R6_REQS): each request ran late by the tail above, so fewer" \
		"rounds fit in ${C10K_SECS} s (X = N / R)."
fi
for f in "${OURS_RUN:-}" "${PEER_RUN:-}"; do
	[ -n "$f" ] && [ -s "$f/summary.txt" ] || continue
	who=ours; [ "$f" = "${PEER_RUN:-}" ] && who="FastAPI peer"
	flagged=$(awk '/^[0-9][0-9]-/ {sc = $1} /verdict:/ && !/as predicted/ {sub(/^ *verdict: */, ""); print "  - " sc ": " $0}' "$f/summary.txt")
	[ -n "$flagged" ] && why "- **Quick profile, $who**: bin/report's verdict on each scenario it flagged:" && why "$flagged"
done

# --- charts (gnuplot SVG) ---------------------------------------------------------
log "charts and BENCH.md"
plot() { # NAME: gnuplot script on stdin -> $OUT/NAME.svg
	{ echo "set terminal svg size 900,480 dynamic noenhanced font 'sans,11' background rgb 'white'"
	  echo "set output '$OUT/$1.svg'"; cat; } >"$DATA/$1.gp"
	gnuplot "$DATA/$1.gp" 2>"$DATA/$1.gp.err" || log "gnuplot $1: $(head -2 "$DATA/$1.gp.err")"
	[ -s "$OUT/$1.svg" ] && CHARTS+=("$1")
}
CHARTS=()
if [ "$(grep -vc '^#' "$DATA/rates.dat")" -gt 0 ]; then
	plot rates <<-EOF
	set title 'Request rate, median of $PAIRS alternated runs (bars: min-max)'
	set ylabel 'requests per second'
	set logscale y
	set style data histogram
	set style histogram errorbars gap 2 lw 1
	set style fill solid 0.6 border -1
	set key top right
	set xtics noenhanced
	set grid ytics
	plot '$DATA/rates.dat' using 2:3:4:xtic(1) title 'first named', '' using 5:6:7 title 'second named'
	EOF
fi
if [ -s "$DATA/r5.dat" ]; then
	{ echo "# label p50 p99 max"
	  echo "\"evented\\n$R5_TPS timers/s\" $E50 $E99 ${EMAX/inf/nan}"
	  echo "\"nanosleep\\n$R5_TPS sleeps/s\" $S50 $S99 $SMAX"
	  echo "\"evented herd\\n10k req/s\" ${H50:-nan} ${H99:-nan} ${HMAX:-nan}"
	  echo "\"nanosleep\\n10k threads\" ${T50:-nan} ${T99:-nan} ${TMAX:-nan}"
	  [ -n "${CL99:-}" ] && echo "\"evented\\n10k users\" $CL50 $CL99 ${CLMAX/inf/nan}"
	} >"$DATA/lateness.dat"
	plot lateness <<-EOF
	set title 'Timer lateness (how long after its deadline a sleeper runs)'
	set ylabel 'microseconds'
	set logscale y
	set style data histogram
	set style histogram clustered gap 2
	set style fill solid 0.6 border -1
	set xtics noenhanced
	set grid ytics
	set key outside right
	set xtics font ',9'
	set yrange [1:1e6]
	set arrow from graph 0, first 200 to graph 1, first 200 nohead dt 2 lc rgb 'red'
	set label 'goal: p99 200 us' at graph 0.01, first 230 tc rgb 'red'
	plot '$DATA/lateness.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'
	EOF
fi
if [ -s "${SC:-/nonexistent}/load.json" ]; then
	"$PY" - "$SC/load.json" >"$DATA/c10k-series.dat" <<-'PYEOF'
	import json, sys
	print("# t users rps p99_ms")
	for s in json.load(open(sys.argv[1])).get("series", []):
	    print(s["t"], s["users"], s["rps"], s.get("p99_ms", "nan"))
	PYEOF
	plot c10k <<-EOF
	set title '10,000 users on one bin/evented worker, /async_concurrent with 1 s tasks'
	set xlabel 'seconds'
	set ylabel 'requests per second'
	set y2label 'server RSS (MiB)'
	set y2tics
	set ytics nomirror
	set yrange [0:$(awk -v p="${PRED_RPS:-0}" 'BEGIN { print (p > 0 ? p * 1.2 : "*") }')]
	set y2range [0:*]
	set grid
	set key outside bottom center horizontal
	plot '$DATA/c10k-series.dat' using 1:3 with linespoints title 'req/s (bin/load)', \
	     $(printf '%s' "${PRED_RPS:-0}") with lines dt 2 title 'model', \
	     '$DATA/c10k-rss.dat' using 1:(\$2/1024) axes x1y2 with lines title 'server RSS'
	EOF
fi
if [ -s "$DATA/quick-ours.dat" ] || [ -s "$DATA/quick-peer.dat" ]; then
	join -a1 -a2 -e nan -o 0,1.4,2.4,1.7,2.7 <(grep -v '^#' "$DATA/quick-ours.dat" 2>/dev/null | sort) \
		<(grep -v '^#' "$DATA/quick-peer.dat" 2>/dev/null | sort) >"$DATA/quick.dat"
	plot quick <<-EOF
	set multiplot layout 1,2 title 'make compare PROFILE=quick against the model'
	set style data histogram
	set style histogram clustered gap 2
	set style fill solid 0.6 border -1
	set xtics rotate by -35 noenhanced font ',9'
	set key outside top center horizontal
	set grid ytics
	set title '# reqs / predicted'
	set yrange [0:*]
	plot '$DATA/quick.dat' using 2:xtic(1) title 'ours', '' using 3 title 'FastAPI/uvicorn', 1 with lines dt 2 lc rgb 'black' notitle
	set title 'mean latency error vs predicted (%)'
	set autoscale y
	plot '$DATA/quick.dat' using 4:xtic(1) title 'ours', '' using 5 title 'FastAPI/uvicorn', 0 with lines lc rgb 'black' notitle
	unset multiplot
	EOF
fi

# --- BENCH.md ---------------------------------------------------------------------
ver() { "$@" 2>&1 | head -1; }
{
	echo "# make bench — $STAMP"
	echo
	echo "Machine: $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), kernel $(uname -r)," \
		"$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-}"); git $(git rev-parse --short HEAD 2>/dev/null)."
	echo "Tools: $(ver wrk -v | awk '{print $1, $2}'); $(ver nginx -v | sed 's/.*: //'); locust $(dpkg-query -W -f='${Version}' python3-locust 2>/dev/null);" \
		"uvicorn $(dpkg-query -W -f='${Version}' uvicorn 2>/dev/null) with FastAPI $(dpkg-query -W -f='${Version}' python3-fastapi 2>/dev/null)."
	echo
	echo "Method: each ratio compares two things measured in this run, alternated (A B, B A, …)," \
		"$PAIRS pairs; the table shows the median ratio and its min–max. Rate runs last ${SECS} s" \
		"(Locust ${LOCUST_SECS} s), $CONNS connections, one client thread; $PINNING." \
		"Open files: $FDS. Only 127.0.0.1. Bench wall time: $(($(date +%s) - T0)) s." \
		"Load average (1, 5, 15 min) at the start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg)" \
		"(anything above 0 is other work sharing these CPUs: it lands in every figure as noise)."
	echo
	echo "| what | ours (median) | compared with (median) | ratio, median (min–max) | goal | met |"
	echo "|---|---|---|---|---|---|"
	cat "$TABLE"
	echo
	if [ -s "$WHY" ]; then echo "## Where a goal is missed, and why"; echo; cat "$WHY"; echo; fi
	if [ -s "$NOTES" ]; then echo "## Notes"; echo; cat "$NOTES"; echo; fi
	if [ ${#CHARTS[@]} -gt 0 ]; then
		echo "## Charts"; echo
		for c in "${CHARTS[@]}"; do echo "![$c]($c.svg)"; echo; done
	fi
	for f in "${C10K:-}" "${OURS_RUN:-}" "${PEER_RUN:-}"; do
		[ -n "$f" ] && [ -s "$f/summary.txt" ] || continue
		echo "## bin/report's summary of \`$(realpath --relative-to="$OUT" "$f")\`"
		echo
		echo '```'
		cat "$f/summary.txt"
		echo '```'
		echo
	done
	echo "## Files"
	echo
	echo "\`data/\`: every client's raw output (\`*.wrk.txt\`, \`*.json\`, \`*.locust.txt\`), perf stat" \
		"counts (\`*.cpu\`, \`*.srv.cpu\`), the pairs (\`r1.dat\` … \`r5.dat\`: pair, A, B, A/B), /metrics" \
		"scrapes, callgrind profiles, gnuplot scripts.${OURS_RUN:+ \`runs/\`: the run folder of make compare.}${PEER_RUN:+ \`peer-runs/\`: the same profile against FastAPI.}"
} >"$OUT/BENCH.md"

echo
echo "| what | ours (median) | compared with (median) | ratio, median (min–max) | goal | met |"
echo "|---|---|---|---|---|---|"
cat "$TABLE"
echo
echo "bench: $OUT/BENCH.md ($(($(date +%s) - T0)) s)"
