# load/bench/row_worker.sh — `make bench` row 9, sourced by load/bench.sh (its helpers:
# run_load, pair_rows, summary, row, met, ratio_cell, rates_line, want, free_port):
# bin/load as a worker of Debian's Locust master, beside bin/load alone and beside one
# Python FastHttpUser worker under the same kind of master, alternated in one run.
#
# Target: bin/evented (1 loop, pinned like every server here) answering
# /async_concurrent with 0 ms tasks, the route a bin/load worker's class requests. The
# rate of a master's run is the master's own figure (its stats CSV, Aggregated
# Requests/s); bin/load alone gives its --json rps. Goals (issue 13): the worker >= 0.9x
# bin/load alone, >= 5x the Python worker.

# run_master TAG SECS LOCUSTFILE CLASS WORKER_CMD...: a headless master expecting one
# worker, and that worker; prints the master's Aggregated Requests/s.
run_master() {
	local tag=$1 secs=$2 file=$3 class=$4 port mpid wpid
	shift 4
	port=$(free_port)
	BENCH_PATH=/async_concurrent timeout -k 5 $((secs + 40)) "${CLI[@]}" locust -f "$file" \
		--master --headless --expect-workers 1 -u $CONNS -r $CONNS -t "${secs}s" \
		--master-bind-host 127.0.0.1 --master-bind-port "$port" -H "$R9_HOST" \
		--csv "$DATA/$tag" "$class" >"$DATA/$tag.master.txt" 2>&1 </dev/null &
	mpid=$!
	PIDS+=("$mpid")
	BENCH_PATH=/async_concurrent timeout -k 5 $((secs + 40)) "${CLI[@]}" "$@" --master-port "$port" \
		>"$DATA/$tag.worker.txt" 2>&1 </dev/null &
	wpid=$!
	PIDS+=("$wpid")
	wait "$mpid" 2>/dev/null
	forget "$mpid"
	for _ in $(seq 50); do kill -0 "$wpid" 2>/dev/null || break; sleep 0.1; done
	stop "$wpid"
	"$PY" - "$DATA/${tag}_stats.csv" <<-'EOF' 2>/dev/null
	import csv, sys
	for r in csv.DictReader(open(sys.argv[1])):
	    if r["Name"] == "Aggregated":
	        print(r["Requests/s"])
	EOF
}

if want 9 bin/load; then
	log "row 9: bin/load as a Locust worker vs bin/load alone vs a Python FastHttpUser worker"
	start_ours "$DATA/r9-evented.log" bin/evented --listen 127.0.0.1:0 --workers 1 --task-ms 0
	R9_PID=$SPID R9_HOST=http://127.0.0.1:$SPORT
	r9_worker() { run_master "r9-worker-$1" "$SECS" load/locustfile.py AsyncConcurrentUser \
		bin/load --worker --threads 1; }
	r9_alone() { run_load "r9-alone-$1" "$R9_HOST" /async_concurrent; }
	r9_python() { run_master "r9-python-$1" "$LOCUST_SECS" load/bench/locustfile.py BenchFastHttpUser \
		locust -f load/bench/locustfile.py --worker; }
	pair_rows "$DATA/r9-alone.dat" "bin/load worker" r9_worker "bin/load alone" r9_alone
	summary "$DATA/r9-alone.dat"
	R9=$MED
	row "bin/load as a Locust worker, 1 thread, $CONNS users (target: bin/evented, 0 ms tasks)" \
		"$(fmt_rate "$AM") req/s" "bin/load alone: $(fmt_rate "$BM") req/s" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "≥ 0.9" "$(met "$MED" 0.9 '>=')"
	rates_line "bin/load worker vs bin/load alone" "$DATA/r9-alone.dat"
	# the Python worker against this run's own bin/load worker rates, pair by pair
	printf '# pair bin/load-worker python-worker ratio\n' >"$DATA/r9-python.dat"
	while read -r i a _; do
		[ "$i" = "#" ] && continue
		b=$(r9_python "$i")
		echo "$i ${a:-nan} ${b:-nan} $(ratio "$a" "$b")" >>"$DATA/r9-python.dat"
		log "  pair $i: bin/load worker ${a:-?}  Python FastHttpUser worker ${b:-?}"
	done <"$DATA/r9-alone.dat"
	summary "$DATA/r9-python.dat"
	R9P=$MED
	row "… the same worker vs one Python FastHttpUser worker under the master" \
		"$(fmt_rate "$AM") req/s" "Locust FastHttpUser worker: $(fmt_rate "$BM") req/s" \
		"$(ratio_cell "$MED" "$LO" "$HI")" "≥ 5" "$(met "$MED" 5 '>=')"
	rates_line "bin/load worker vs Python worker" "$DATA/r9-python.dat"
	stop "$R9_PID"
fi
