#include "helper_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Helpers only sleep; a small stack keeps 240 of them cheap. */
#define HELPER_STACK_BYTES (256 * 1024)

struct helper_batch {
	int remaining; /* guarded by the pool's mutex */
	pthread_cond_t done;
};

struct helper_pool {
	pthread_mutex_t mu;
	pthread_cond_t work;
	struct helper_job *head, *tail; /* FIFO, guarded by mu */
	int stopping;                   /* guarded by mu */
	int threads;
	pthread_t *tids;
	atomic_int busy;
	atomic_int queued;
};

static void *helper_main(void *arg)
{
	struct helper_pool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct helper_job *job;
		while (p->head == NULL && !p->stopping)
			pthread_cond_wait(&p->work, &p->mu);
		if (p->head == NULL)
			break; /* stopping, and nothing left to run */
		job = p->head;
		p->head = job->next;
		if (p->head == NULL)
			p->tail = NULL;
		atomic_fetch_sub(&p->queued, 1);
		atomic_fetch_add(&p->busy, 1);
		pthread_mutex_unlock(&p->mu);

		job->run(job->arg);

		pthread_mutex_lock(&p->mu);
		atomic_fetch_sub(&p->busy, 1);
		if (--job->batch->remaining == 0)
			pthread_cond_signal(&job->batch->done);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct helper_pool *helper_pool_start(int threads)
{
	struct helper_pool *p = calloc(1, sizeof *p);
	pthread_attr_t attr;
	int started = 0, rc;

	if (p == NULL || (p->tids = calloc((size_t)threads, sizeof *p->tids)) == NULL) {
		fprintf(stderr, "helper_pool: calloc: %s\n", strerror(errno));
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, HELPER_STACK_BYTES);
	for (; started < threads; started++) {
		rc = pthread_create(&p->tids[started], &attr, helper_main, p);
		if (rc != 0) {
			fprintf(stderr, "helper_pool: pthread_create (helper %d of %d): %s\n",
				started + 1, threads, strerror(rc));
			goto fail;
		}
	}
	pthread_attr_destroy(&attr);
	p->threads = threads;
	return p;
fail:
	pthread_attr_destroy(&attr);
	p->threads = started;
	helper_pool_stop(p);
	return NULL;
}

void helper_pool_run(struct helper_pool *p, struct helper_job *jobs, int n)
{
	struct helper_batch batch = { .remaining = n };

	if (n <= 0)
		return;
	pthread_cond_init(&batch.done, NULL);
	pthread_mutex_lock(&p->mu);
	for (int i = 0; i < n; i++) {
		jobs[i].next = NULL;
		jobs[i].batch = &batch;
		if (p->tail)
			p->tail->next = &jobs[i];
		else
			p->head = &jobs[i];
		p->tail = &jobs[i];
	}
	atomic_fetch_add(&p->queued, n);
	/* One wake-up per job: a broadcast would stir every idle helper for nothing. */
	for (int i = 0; i < n; i++)
		pthread_cond_signal(&p->work);
	while (batch.remaining > 0)
		pthread_cond_wait(&batch.done, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_cond_destroy(&batch.done);
}

int helper_pool_threads(const struct helper_pool *p)
{
	return p->threads;
}

int helper_pool_busy(const struct helper_pool *p)
{
	return atomic_load(&p->busy);
}

int helper_pool_queued(const struct helper_pool *p)
{
	return atomic_load(&p->queued);
}

void helper_pool_stop(struct helper_pool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->threads; i++)
		pthread_join(p->tids[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_mutex_destroy(&p->mu);
	free(p->tids);
	free(p);
}
