#!/usr/bin/env bash
# Runs each test program given, shows its cmocka output, and ends with one line
# "tests: N passed, N failed" over all of them. Exit 1 when anything failed (a
# crashed program counts as one failure even if cmocka never said so). Each program
# gets at most TEST_TIMEOUT seconds (default 600), so a hang fails instead of
# stalling CI.
#
# An argument NAME=VALUE is not a program: it sets NAME in the environment of the
# programs after it (HARNESS_BIN=build/asan-bin points the integration tests at
# sanitized builds), so one run covers every build with one closing line.
set -u
passed=0 failed=0 bad=() env_now=()
for t in "$@"; do
	if [[ "$t" =~ ^[A-Z_]+= ]]; then
		env_now+=("$t")
		continue
	fi
	label="$t"
	for e in "${env_now[@]}"; do
		case "$e" in HARNESS_BIN=*) label="$t (programs from ${e#HARNESS_BIN=})" ;; esac
	done
	echo "=== $label"
	tmp=$(mktemp)
	began=$SECONDS
	# Not a pipe: a server a test leaves behind would hold a pipe open and hang
	# the runner; tail follows the file only while the test itself lives.
	env "${env_now[@]}" timeout -k 10 "${TEST_TIMEOUT:-600}" "$t" >"$tmp" 2>&1 &
	pid=$!
	tail -n +1 -f --pid="$pid" "$tmp"
	wait "$pid"
	rc=$?
	echo "--- $label: $((SECONDS - began)) s"
	out=$(cat "$tmp")
	rm -f "$tmp"
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s+=$1} END {print s+0}')
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	[ "$rc" -ne 0 ] && bad+=("$label (exit $rc)")
done
echo
for b in "${bad[@]}"; do echo "failed: $b"; done
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ ${#bad[@]} -eq 0 ]
