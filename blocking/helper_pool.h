/*
 * helper_pool — a fixed set of helper threads, started once, that run jobs handed
 * to them through one FIFO queue: the sync world's ThreadPoolExecutor. A request
 * thread fans its tasks out with helper_pool_run() and waits until every one has
 * run, so a request holds its worker thread plus up to `n` helpers while it lasts.
 *
 * The pool is bounded: when every helper is busy, jobs wait in the queue (in the
 * order they were handed in) instead of starting new threads. Jobs live in the
 * caller's memory; the pool never allocates after start.
 *
 * helper_pool_start() returns NULL on failure, having printed the reason.
 */
#ifndef HELPER_POOL_H
#define HELPER_POOL_H

struct helper_pool;
struct helper_batch;

struct helper_job {
	void (*run)(void *arg);
	void *arg;
	/* Owned by the pool while the job is queued or running. */
	struct helper_job *next;
	struct helper_batch *batch;
};

struct helper_pool *helper_pool_start(int threads);

/* Queues jobs[0..n) and returns once all of them have run. Safe from any thread. */
void helper_pool_run(struct helper_pool *p, struct helper_job *jobs, int n);

/* Gauges, read without locking (exact only when the pool is quiet). */
int helper_pool_threads(const struct helper_pool *p);
int helper_pool_busy(const struct helper_pool *p);   /* helpers running a job */
int helper_pool_queued(const struct helper_pool *p); /* jobs waiting for a helper */

/* Lets the helpers finish the queue, joins them and frees the pool. */
void helper_pool_stop(struct helper_pool *p);

#endif
