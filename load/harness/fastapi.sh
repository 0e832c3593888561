# load/harness/fastapi.sh — sourced by load/compare.sh: the original stack as a
# target (`--target fastapi`), and the measurements the model takes from every
# run (load/harness/measure.py does the reading; this is only the glue).
#
# The original ran `fastapi run --workers 2 app.py`: uvicorn with two worker
# processes sharing one listening socket, each with anyio's default limiter of 40
# threads for plain `def` routes. Debian 12 has no `fastapi run` (FastAPI 0.92),
# so uvicorn is started as that command starts it. /usr/bin/python3 is Debian's,
# the one with FastAPI and uvicorn.

FASTAPI_PY=/usr/bin/python3
FASTAPI_WORKERS=2
MEASURE=load/harness/measure.py

fastapi_check() {
	if ! "$FASTAPI_PY" -c 'import fastapi, uvicorn' 2>/dev/null; then
		echo "$prog: --target $target needs Debian's uvicorn and python3-fastapi: run make deps" >&2
		return 2
	fi
}

# fastapi_server DIR TASK_MS: sets server=(...) for start_group and fastapi_port.
# uvicorn cannot listen on :0 and tell the port at --log-level warning, so the
# port is picked free just before; the peer's order log goes into DIR.
fastapi_server() {
	fastapi_port=$(free_port) || return 1
	server=(env TASK_MS="$2" LAB_ORDER_LOG="$(cd "$1" && pwd -P)" "$FASTAPI_PY" -m uvicorn
		--workers "$FASTAPI_WORKERS" --host 127.0.0.1 --port "$fastapi_port"
		--app-dir load/peers --no-access-log --log-level warning app:app)
}

# fastapi_ready PORT PGID: prints PORT once both workers run and a sync route
# answers 200 (10 s at most).
fastapi_ready() {
	local i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$2" 2>/dev/null || return 1
		if [ "$("$FASTAPI_PY" "$MEASURE" workers "$2" | wc -l)" -ge $FASTAPI_WORKERS ] &&
			curl -sf -o /dev/null -m 1 "http://127.0.0.1:$1/sync_baseline?ms=0"; then
			echo "$1"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# measure_begin DIR PGID: the server's worker processes and CPU before the load.
measure_begin() {
	measure_dir=$1 measure_pg=$2 measure_conns=
	mapfile -t measure_pids < <("$FASTAPI_PY" "$MEASURE" workers "$2")
	measure_cpu0=$("$FASTAPI_PY" "$MEASURE" cpu "$2")
}

# measure_loaded PORT: each worker's established connections, near the end of
# the load (every user spawned, each on its own keep-alive connection).
measure_loaded() {
	measure_conns=$("$FASTAPI_PY" "$MEASURE" connections "$1" "${measure_pids[@]}")
}

# measure_end USERS: after the load, before the server stops. For the original
# stack, THREADS and WORKERS are appended as measured (the last assignment in
# scenario.env wins): the worker processes found, and the threads their anyio
# limiters said they have. Split, order and CPU per request for every target.
measure_end() {
	local cpu1 threads=0 f
	cpu1=$("$FASTAPI_PY" "$MEASURE" cpu "$measure_pg")
	if grep -q '^TARGET=fastapi$' "$measure_dir/scenario.env"; then
		for f in "$measure_dir"/threads-*.txt; do
			[ -f "$f" ] && threads=$((threads + $(cat "$f")))
		done
		{
			echo "WORKERS=${#measure_pids[@]}"
			[ $threads -gt 0 ] && echo "THREADS=$threads"
		} >>"$measure_dir/scenario.env"
	fi
	# One process: the split is the whole; nothing to tell the model.
	[ ${#measure_pids[@]} -gt 1 ] || measure_conns=
	"$FASTAPI_PY" "$MEASURE" record "$measure_dir" --users "$1" --connections "$measure_conns" \
		--cpu-start "$measure_cpu0" --cpu-end "$cpu1" ||
		echo "$prog: $measure_dir: measure.py record failed" >&2
}
