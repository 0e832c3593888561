#!/usr/bin/env bash
# peer_server.sh — the FastAPI peer (load/peers/app.py on Debian's uvicorn, 2 workers)
# behind our servers' command-line face, so load/harness/compare.py can run the quick profile
# against it unchanged: the bench's row quick-fastapi puts this script in a folder as both `blocking` and
# `evented` and passes that folder as compare.py --bin.
#
# Accepts our servers' flags; uses --task-ms (the tasks' default duration) and
# --listen's host; runs uvicorn on a free port and prints the servers' ready line,
# `listening on http://HOST:PORT`, once it answers. Runs until signalled (its
# caller stops its whole process group, uvicorn's workers included).
set -u
root=$(cd "$(dirname "$(readlink -f "$0")")/../../.." && pwd)
task_ms=5000 host=127.0.0.1
while [ $# -gt 0 ]; do
	case "$1" in
	--task-ms) task_ms=$2; shift 2 ;;
	--listen) host=${2%:*}; shift 2 ;;
	--help) sed -n '2,9s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--*) shift 2 ;;
	*) echo "peer_server.sh: unexpected argument '$1'" >&2; exit 2 ;;
	esac
done
py=/usr/bin/python3
[ -x $py ] || py=python3
port=$($py -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TASK_MS=$task_ms uvicorn --workers 2 --host "$host" --port "$port" --app-dir "$root/load/peers" \
	--no-access-log --log-level warning app:app &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid; exit 0' TERM INT
for _ in $(seq 150); do
	if curl -s -o /dev/null --max-time 1 "http://$host:$port/async_concurrent?ms=0"; then
		echo "listening on http://$host:$port"
		wait $pid
		exit $?
	fi
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
echo "peer_server.sh: uvicorn did not answer on $host:$port" >&2
kill -TERM $pid 2>/dev/null
exit 2
