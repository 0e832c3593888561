/*
 * offload — one worker's bounded pool of threads for CPU work, the analog of
 * asyncio's run_in_executor: the loop hands a job over and goes on serving its
 * other connections; a pool thread runs the job; the loop learns it is done
 * through an eventfd in its own epoll, and runs the job's continuation on the
 * loop thread, as if it were any other event.
 *
 * The pool's threads start as they are first needed, up to the configured
 * count (as Python's ThreadPoolExecutor grows): a job submitted while no pool
 * thread is waiting starts one more. A worker that never offloads keeps its
 * process down to its loop thread, and a single-threaded process is cheaper
 * for the kernel on every recv and send: it skips the shared file table's
 * reference count (fdget's fast path).
 *
 * Jobs wait in FIFO order when every pool thread is busy. A job cannot be taken
 * back once submitted (a running CPU task cannot be stopped): its owner must
 * keep the job's memory until `done` has run, and decides there whether the
 * result still matters.
 *
 * offload_start returns 0, or -1 having printed the call and strerror.
 */
#ifndef OFFLOAD_H
#define OFFLOAD_H

#include "loop.h"

#include <pthread.h>
#include <stdint.h>

#define OFFLOAD_MAX_THREADS 256

struct offload_job;
typedef void (*offload_done_fn)(struct offload_job *job); /* on the loop thread */

struct offload_job {
	struct offload_job *next;
	long cpu_ms;                 /* the work: cpu_task_run(cpu_ms) */
	offload_done_fn done;
};

struct offload {
	struct io io;                /* the eventfd, watched by the loop */
	pthread_mutex_t mu;
	pthread_cond_t wake;
	struct offload_job *todo, *todo_tail;  /* FIFO, submitted */
	struct offload_job *done, *done_tail;  /* FIFO, finished, not yet seen by the loop */
	int stop;
	int idle;                    /* threads waiting for a job (under mu) */
	int queued;                  /* jobs in todo (under mu) */
	int nthreads;                /* started so far; only the loop thread changes it */
	int max_threads;             /* --offload-threads */
	pthread_t thread[OFFLOAD_MAX_THREADS];
};

/* Watches the eventfd in l; up to `threads` pool threads start as jobs come. */
int offload_start(struct offload *o, struct loop *l, int threads);

/* From the loop thread: queue a job, starting a pool thread when none is
 * waiting and fewer than `threads` run. Cannot fail: when no pool thread
 * can be started at all (pthread_create's error is printed), the job runs on
 * the loop thread, stalling it as /async_cpu does, and completes as usual. */
void offload_submit(struct offload *o, struct offload_job *job);

/* Lets the threads finish every queued job, joins them, closes the eventfd.
 * Continuations of jobs finished after the loop's last pass do not run. */
void offload_stop(struct offload *o);

#endif
