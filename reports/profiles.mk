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

# c10k: what a thread costs. `make sweep PROFILE=c10k` takes a thread per user
# (bin/blocking --threads = users) and the event loop's connections to 10,000
# users, recording each server's memory and threads; 1 s tasks, so 10,000
# users send 10,000 requests a second. Its sweep has its own user counts and
# routes (compare.mk reads them), and a helper pool of 1: the baseline route
# never uses it, and its threads would count against the workers' memory.
PROFILE_c10k_USERS := 10000
PROFILE_c10k_SPAWN_RATE := 2000
PROFILE_c10k_RUN_TIME := 20
PROFILE_c10k_TASK_MS := 1000
PROFILE_c10k_THREADS := users
PROFILE_c10k_WORKERS := 2
PROFILE_c10k_TASK_CPU_MS := 3
PROFILE_c10k_USERS_LIST := 100 1000 3000 10000
PROFILE_c10k_SCENARIOS := SyncBaselineUser,AsyncIndependentUser
PROFILE_c10k_HELPERS := 1

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
	@$(if $(PROFILE_$(PROFILE)_USERS),,echo "unknown PROFILE=$(PROFILE) (quick, seed, smoke, c10k)" >&2; exit 2;)
	@echo PROFILE=$(PROFILE)
	@$(foreach k,$(PROFILE_KEYS),echo $(k)=$(call profile_get,$(k));)
