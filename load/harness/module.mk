# load/harness/: what runs, measures and compares the lab's programs (`make
# compare`, `make sweep`, `make bench`): Python 3's standard library under
# /usr/bin/python3, one module per noun (procs: every process a run starts;
# stats: every number computed from measurements; rundir, scenarios, targets,
# loads, backends). Its own tests (unittest) run in `make test`, counted in
# tests/run.sh's closing line through cmocka-style summary lines.

SCRIPT_TESTS += load/harness/tests/run_tests.py
