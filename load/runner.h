/*
 * runner — the load itself: worker threads, one epoll loop each, driving users.
 *
 * Closed model (rate == 0), as Locust: users spawn in batches of max(1, floor(spawn
 * rate)) every batch/spawn-rate seconds; each user owns one keep-alive connection,
 * sends, reads the whole response, waits its wait time, repeats, and reconnects when
 * the server closes. Open model (rate > 0): requests are due on a fixed schedule of
 * `rate` per second whatever the server does; the users are a pool of connections
 * that take the due requests, and latency runs from each request's intended time
 * (coordinated omission corrected, as wrk2) with the service time kept beside it.
 *
 * Response time runs from just before the request is sent (a connect included) to
 * its last byte. Each worker keeps its own statistics under its own lock, taken once
 * per loop turn; runner_snapshot() merges them. At stop, requests in flight are
 * counted as unfinished, so sent == requests + unfinished always holds (requests
 * counting answered and failed alike, as Locust).
 *
 * runner_start returns 0, or -1 having printed the reason (call and strerror).
 */
#ifndef RUNNER_H
#define RUNNER_H

#include <netinet/in.h>
#include <stdint.h>

#include "histogram.h"
#include "locust.h"

#define RUNNER_MAX_ENDPOINTS 16
#define RUNNER_MAX_ERRORS 64 /* distinct error groups kept; more fold into the last */

struct endpoint {
	char name[256];        /* Locust's name: the path with its query */
	char request[768];     /* the request's bytes, built once */
	size_t request_len;
};

struct load_config {
	struct sockaddr_in addr;
	char url_base[160];    /* "http://127.0.0.1:8002", for HTTPError texts */
	char host[128];        /* "127.0.0.1:8002", for ConnectTimeout texts */
	struct endpoint ep[RUNNER_MAX_ENDPOINTS];
	int n_ep;              /* distinct names: one stats row each */
	int user_ep[RUNNER_MAX_ENDPOINTS]; /* user g requests ep[user_ep[g % n_user_ep]] */
	int n_user_ep;         /* one per class given: classes spread evenly */
	long users;
	double spawn_rate;     /* users per second, > 0 */
	double run_time_s;     /* 0: until runner_stop */
	double wait_min_s, wait_max_s;
	double rate;           /* requests per second (open model); 0: closed model */
	double timeout_s;      /* per request; 0: none */
	int threads;
	int dynamic;           /* worker mode: `users` is the capacity, and the users
	                        * per endpoint are whatever runner_set_users last said */
};

struct ep_stats {
	uint64_t reqs, fails;  /* logged requests (failures included), failures */
	double sum_ms, min_ms, max_ms, content_bytes;
	int64_t last_ns;       /* monotonic time of the last logged request; 0: none */
	struct locust_buckets lb; /* Locust's rounding of the latency */
	struct histogram lat;  /* latency in µs (from the intended time when open) */
	struct histogram svc;  /* service time in µs (from the actual send) */
};

struct error_group {
	int ep;
	char text[512];
	uint64_t n;
};

struct run_stats {
	uint64_t sent, unfinished, users;
	uint64_t late;         /* open model: due by the schedule but never sent at stop */
	int64_t last_ns;       /* monotonic time of the last logged request; 0: none */
	int n_ep;
	struct ep_stats *ep;   /* n_ep entries */
	int n_err;
	struct error_group err[RUNNER_MAX_ERRORS];
};

struct runner;

/* "http://HOST[:PORT][/]" into c's address, Host header and URL base; -1 when it
 * is not that shape or HOST is not IPv4/localhost. Before any endpoint is added. */
int load_config_set_host(struct load_config *c, const char *url);
/* One more user class requesting `path` (endpoints deduplicated by name); -1 when
 * the table is full or the request would not fit. */
int load_config_add_endpoint(struct load_config *c, const char *path);

int runner_start(struct runner **out, const struct load_config *c);
/* Asks every worker to stop now (async-signal-safe). */
void runner_stop(struct runner *r);
/* Waits for the workers (they stop by themselves at the run time). */
void runner_join(struct runner *r);
void runner_free(struct runner *r);
/* Monotonic ns at which the run started (time zero of spawning and of -t). */
int64_t runner_start_ns(const struct runner *r);

/* Merged statistics of every worker so far; s must come from run_stats_new. */
void runner_snapshot(struct runner *r, struct run_stats *s);
/* Worker mode: merges every worker's statistics since the last drain into s (not
 * cleared first) and zeroes them, as a Locust worker strips its report. */
void runner_drain(struct runner *r, struct run_stats *s);
/*
 * Worker mode (c->dynamic): from now on endpoint e has want[e] users (n_ep values),
 * spread over the threads; new users start at once, surplus users stop at once
 * (a request in flight counts as unfinished), as a Locust worker obeys a spawn
 * message (the master paces the ramp). Beyond the capacity c->users, the rest are
 * not started. Returns how many users will run in all.
 */
long runner_set_users(struct runner *r, const long *want);

struct run_stats *run_stats_new(int n_ep);
void run_stats_clear(struct run_stats *s);
void run_stats_merge(struct run_stats *dst, const struct run_stats *src);
void run_stats_free(struct run_stats *s);
void ep_stats_merge(struct ep_stats *dst, const struct ep_stats *src);

int64_t mono_ns(void);

#endif
