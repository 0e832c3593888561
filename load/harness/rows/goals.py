"""goals: the figures the bench's rows are held to, in one place (issue 17:
client and server cost against wrk and nginx, and the 10,000-user tail)."""
R1_RATE = 1.0      # bin/load / wrk, requests per second
R1_CPU = 1.3       # bin/load / wrk, requests per client CPU-second
R3_RATE = 1.1      # bin/evented / nginx, requests per second
R3_CPU = 1.3       # bin/evented / nginx, requests per server CPU-second
R6_REQS = 0.995    # 10,000 users: # requests / predicted
R6_P99_MS = 1003   # 10,000 users: worst second's p99 after ramp-up (1 s tasks)
