# The load profiles, defined once: `make predict` and `make compare` read them.
# A profile is a set of PROFILE_<name>_<KEY> values; any key can be overridden on
# the command line (USERS=, SPAWN_RATE=, RUN_TIME=, TASK_MS=, THREADS=, WORKERS=).
# $(call profile_get,KEY) gives the override when set, else the profile's value.
# `make -s profile-env PROFILE=seed` prints the resolved values as KEY=VALUE lines
# for scripts.

PROFILE ?= quick
PROFILE_KEYS := USERS SPAWN_RATE RUN_TIME TASK_MS THREADS WORKERS TASK_CPU_MS

# quick: the original scaled down 20x in time (whole `make compare` < 3 minutes)
PROFILE_quick_USERS := 500
PROFILE_quick_SPAWN_RATE := 1000
PROFILE_quick_RUN_TIME := 15
PROFILE_quick_TASK_MS := 250
PROFILE_quick_THREADS := 80
PROFILE_quick_WORKERS := 2
PROFILE_quick_TASK_CPU_MS := 3

# seed: the original experiment exactly (seed-experiment.md)
PROFILE_seed_USERS := 500
PROFILE_seed_SPAWN_RATE := 50
PROFILE_seed_RUN_TIME := 300
PROFILE_seed_TASK_MS := 5000
PROFILE_seed_THREADS := 80
PROFILE_seed_WORKERS := 2
PROFILE_seed_TASK_CPU_MS := 20

# smoke: seconds in all, for tests
PROFILE_smoke_USERS := 50
PROFILE_smoke_SPAWN_RATE := 100
PROFILE_smoke_RUN_TIME := 3
PROFILE_smoke_TASK_MS := 100
PROFILE_smoke_THREADS := 8
PROFILE_smoke_WORKERS := 2
PROFILE_smoke_TASK_CPU_MS := 3

profile_get = $(if $($(1)),$($(1)),$(PROFILE_$(PROFILE)_$(1)))

.PHONY: profile-env
profile-env:
	@$(if $(PROFILE_$(PROFILE)_USERS),,echo "unknown PROFILE=$(PROFILE) (quick, seed, smoke)" >&2; exit 2;)
	@echo PROFILE=$(PROFILE)
	@$(foreach k,$(PROFILE_KEYS),echo $(k)=$(call profile_get,$(k));)
