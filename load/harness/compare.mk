# load/harness/compare.mk: `make compare` (the lab's main job) and `make sweep`,
# both run by load/harness/compare.py. The profiles' values come from reports/profiles.mk (the one
# definition, included by reports/module.mk); these knobs are this file's own:
#   SCENARIOS=A,B   user classes to run (default: every route of the route table)
#   LOAD=locust     drive the servers with Debian's Locust and load/locustfile.py
#   LOCUST_WORKERS=N  with LOAD=locust: a master and N workers on 127.0.0.1
#   LOAD=locust-master LOAD_WORKERS=N  Locust's master (headless) and N bin/load
#                   --worker processes (default 1); the master writes the CSV files
#   TARGET=c|fastapi|both  the lab's C servers, the original FastAPI stack on
#                   uvicorn (2 workers x 40 threads), or both in one run folder
#   HELPERS=N       bin/blocking's fan-out pool (default 3 x THREADS: never binds)
#   WAIT=MIN[-MAX]  think time between a user's requests, seconds (default 0;
#                   `make predict` reads the same variable)
#   USERS_LIST=...  the sweep's user counts
#   RUNS_DIR=DIR    where run folders go (default reports/runs)
#   BACKEND=postgres  each task a query on a private PostgreSQL 15 cluster the run
#                   starts and stops (default sleep)
#   POOL=N          with BACKEND=postgres: the servers' --pool (blocking: in all;
#                   evented: per worker; TARGET=fastapi: per worker process, over
#                   psycopg_pool); default large enough never to bind
#   IO=uring        bin/evented on io_uring instead of epoll (default epoll)
#   PG_CPU_GROUP=no  with BACKEND=postgres: leave the cluster's backends each a
#                   task of the scheduler's own, beside the servers' threads
#                   (default: the cluster in a CPU group of its own, as root;
#                   load/harness/pg_cluster.sh --help)

# A profile may name its own (c10k does); the command line overrides it.
SCENARIOS ?= $(PROFILE_$(PROFILE)_SCENARIOS)
LOAD ?= bin/load
LOCUST_WORKERS ?= 0
LOAD_WORKERS ?=
TARGET ?= c
HELPERS ?= $(PROFILE_$(PROFILE)_HELPERS)
WAIT ?=
USERS_LIST ?= $(or $(PROFILE_$(PROFILE)_USERS_LIST),50 100 200 500 1000 2000)
RUNS_DIR ?= reports/runs
BACKEND ?= sleep
POOL ?=
IO ?= epoll

compare_flags = --profile $(PROFILE) \
	--users $(call profile_get,USERS) --spawn-rate $(call profile_get,SPAWN_RATE) \
	--run-time $(call profile_get,RUN_TIME) --task-ms $(call profile_get,TASK_MS) \
	--task-cpu-ms $(call profile_get,TASK_CPU_MS) \
	--threads $(call profile_get,THREADS) --workers $(call profile_get,WORKERS) \
	$(if $(HELPERS),--helpers $(HELPERS)) $(if $(WAIT),--wait '$(WAIT)') \
	$(if $(SCENARIOS),--scenarios '$(SCENARIOS)') --load '$(LOAD)' --runs-dir '$(RUNS_DIR)' \
	$(if $(filter-out 0,$(LOCUST_WORKERS)),--locust-workers $(LOCUST_WORKERS)) \
	$(if $(LOAD_WORKERS),--load-workers $(LOAD_WORKERS)) \
	--target '$(TARGET)' --backend '$(BACKEND)' $(if $(POOL),--pool '$(POOL)') --io '$(IO)'

# Refuses a profile that reports/profiles.mk does not define.
compare_check = @$(if $(PROFILE_$(PROFILE)_USERS),true,\
	echo "make: unknown PROFILE=$(PROFILE) (reports/profiles.mk defines them)" >&2; exit 2)

.PHONY: compare sweep
compare: deps all
	$(compare_check)
	@load/harness/compare.py $(compare_flags)

sweep: deps all
	$(compare_check)
	@load/harness/compare.py $(compare_flags) --sweep '$(USERS_LIST)'

# The test runs `make compare PROFILE=smoke` and checks the locustfile against
# the route table, which it links.
INTEGRATION_TESTS += build/tests/it_compare
build/tests/it_compare: build/san/tests/it_compare.o build/san/shared/routes.o

# make live SCENARIO=CLASS [LOAD_WORKERS=N] [LIVE_PORT=8089]: the scenario's server, a
# Locust master with its web UI on 127.0.0.1:LIVE_PORT and N bin/load workers (default
# 1) until Ctrl-C (load/harness/live.py); TASK_MS, THREADS, WORKERS from the profile.
LIVE_PORT ?= 8089
.PHONY: live
live: deps all
	@$(if $(SCENARIO),true,echo "make: live needs SCENARIO=CLASS (bin/load --list)" >&2; exit 2)
	@/usr/bin/python3 load/harness/live.py --scenario '$(SCENARIO)' --web-port '$(LIVE_PORT)' \
		--load-workers '$(or $(LOAD_WORKERS),1)' --task-ms $(call profile_get,TASK_MS) \
		--threads $(call profile_get,THREADS) --workers $(call profile_get,WORKERS)
