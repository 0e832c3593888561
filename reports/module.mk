# reports/: the model (model.c), its Locust-shaped predictions, and bin/report,
# which reads a run folder and also prints predictions for `make predict`.
include reports/profiles.mk

REPORT_LIB_SRC := reports/model.c reports/prediction.c reports/csv.c reports/run_dir.c \
	reports/charts.c reports/svg.c reports/story.c \
	reports/report.c
REPORT_OBJ := $(REPORT_LIB_SRC:%.c=build/%.o) build/reports/main.o
REPORT_SAN_OBJ := $(REPORT_LIB_SRC:%.c=build/san/%.o)
REPORT_LIBS := -lm -lcjson

PROGRAMS += bin/report
bin/report: $(REPORT_OBJ) $(SHARED_OBJ)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(REPORT_LIBS)

UNIT_TESTS += build/tests/test_model
build/tests/test_model: build/san/tests/test_model.o build/san/reports/model.o $(SHARED_SAN_OBJ)
build/tests/test_model: LDLIBS += -lm
build/san/tests/test_model.o: CPPFLAGS += -Ireports

comma := ,

# `make predict PROFILE=seed` (SCENARIOS=A,B or CLASSES="A B" to choose routes;
# SPLIT=A,B users per worker process, ORDER=fifo|lifo|random: see bin/report --help;
# TARGET=fastapi SERVER_CPU_MS=MS ANSWER_MS=MS: the original stack as make compare
# TARGET=fastapi measures it, see docs/ORIGINAL.md)
# `make predict PROFILE=seed` (or quick, smoke; any of USERS= SPAWN_RATE= RUN_TIME=
# TASK_MS= THREADS= WORKERS= overrides): the tables the load tests should print.
# BACKEND=postgres adds QUERY_MS per task (default 0.3: a ?ms=0 query round trip
# measured on the lab's machine; make compare measures its own), POOL=N the
# connection pool (blocking: in all; evented: per worker) and PG_CPU_MS,
# PostgreSQL's CPU per query on the same cores (default 0: not charged).
# OTHER_CORES=X: what other processes took of the cores while the server ran
# (a run's OTHER_CPU_S / WINDOW_S); the server's CPU work runs on the rest.
.PHONY: predict
predict: bin/report
	@$(if $(PROFILE_$(PROFILE)_USERS),,echo "make predict: unknown PROFILE=$(PROFILE) (quick, seed, smoke, c10k)" >&2; exit 2;)
	@echo "make predict: PROFILE=$(PROFILE) users=$(call profile_get,USERS) spawn_rate=$(call profile_get,SPAWN_RATE)/s run_time=$(call profile_get,RUN_TIME)s task_ms=$(call profile_get,TASK_MS) threads=$(call profile_get,THREADS) workers=$(call profile_get,WORKERS)$(if $(filter postgres,$(BACKEND)), backend=postgres pool=$(or $(POOL),unbounded) query_ms=$(or $(QUERY_MS),0.3))"
	@bin/report --predict --users $(call profile_get,USERS) \
		--spawn-rate $(call profile_get,SPAWN_RATE) --run-time $(call profile_get,RUN_TIME) \
		--task-ms $(call profile_get,TASK_MS) --threads $(if $(filter users,$(call profile_get,THREADS)),$(call profile_get,USERS),$(call profile_get,THREADS)) \
		--workers $(call profile_get,WORKERS) $(if $(WAIT),--wait $(WAIT)) \
		$(if $(SPLIT),--split $(SPLIT)) $(if $(ORDER),--order $(ORDER)) \
		$(if $(filter fastapi,$(TARGET)),--target fastapi) \
		$(if $(SERVER_CPU_MS),--server-cpu-ms $(SERVER_CPU_MS)) $(if $(ANSWER_MS),--answer-ms $(ANSWER_MS)) \
		$(if $(FIRST_ANSWER_MS),--first-answer-ms $(FIRST_ANSWER_MS)) $(if $(WAVE),--wave $(WAVE)) \
		--task-cpu-ms $(call profile_get,TASK_CPU_MS) --cores $(shell nproc) $(if $(OTHER_CORES),--other-cores $(OTHER_CORES)) \
		$(if $(filter postgres,$(BACKEND)),--query-ms $(or $(QUERY_MS),0.3) $(if $(POOL),--pool $(POOL)) $(if $(PG_CPU_MS),--pg-cpu-ms $(PG_CPU_MS))) \
		$(or $(CLASSES),$(subst $(comma), ,$(SCENARIOS)))

UNIT_TESTS += build/tests/test_report_input
build/tests/test_report_input: build/san/tests/test_report_input.o build/san/reports/csv.o \
	build/san/reports/run_dir.o build/san/reports/model.o $(SHARED_SAN_OBJ)
build/tests/test_report_input: LDLIBS += $(REPORT_LIBS)
build/san/tests/test_report_input.o: CPPFLAGS += -Ireports

INTEGRATION_TESTS += build/tests/it_report
build/tests/it_report: build/san/tests/it_report.o
