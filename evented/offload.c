#include "offload.h"

#include "cpu_task.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static void append(struct offload_job **head, struct offload_job **tail, struct offload_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

/* Under o->mu: j is done; tell the loop. */
static void finished(struct offload *o, struct offload_job *j)
{
	uint64_t one = 1;

	append(&o->done, &o->done_tail, j);
	/* The counter only says "look": one write per finished job is simplest,
	 * and the loop reads them all at once. */
	if (write(o->io.fd, &one, sizeof one) < 0 && errno != EAGAIN)
		fprintf(stderr, "evented: offload eventfd write: %s\n", strerror(errno));
}

static void *pool_thread(void *arg)
{
	struct offload *o = arg;

	pthread_mutex_lock(&o->mu);
	for (;;) {
		o->idle++;
		while (!o->todo && !o->stop)
			pthread_cond_wait(&o->wake, &o->mu);
		o->idle--;
		if (!o->todo)
			break; /* stopping, and nothing left to do */
		struct offload_job *j = o->todo;
		o->todo = j->next;
		if (!o->todo)
			o->todo_tail = NULL;
		o->queued--;
		pthread_mutex_unlock(&o->mu);
		cpu_task_run(j->cpu_ms);
		pthread_mutex_lock(&o->mu);
		finished(o, j);
	}
	pthread_mutex_unlock(&o->mu);
	return NULL;
}

/* On the loop thread: run the continuation of every finished job, in order. */
static void on_done(struct io *io, uint32_t events)
{
	struct offload *o = (struct offload *)io;
	struct offload_job *j;
	uint64_t n;
	(void)events;

	if (read(io->fd, &n, sizeof n) < 0 && errno != EAGAIN)
		fprintf(stderr, "evented: offload eventfd read: %s\n", strerror(errno));
	pthread_mutex_lock(&o->mu);
	j = o->done;
	o->done = o->done_tail = NULL;
	pthread_mutex_unlock(&o->mu);
	while (j) {
		struct offload_job *next = j->next; /* done may reuse j */
		j->done(j);
		j = next;
	}
}

int offload_start(struct offload *o, struct loop *l, int threads)
{
	memset(o, 0, sizeof *o);
	o->io.fn = on_done;
	if (threads < 1 || threads > OFFLOAD_MAX_THREADS) {
		fprintf(stderr, "evented: offload threads %d not in 1..%d\n", threads,
			OFFLOAD_MAX_THREADS);
		return -1;
	}
	o->io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (o->io.fd < 0) {
		fprintf(stderr, "evented: offload eventfd: %s\n", strerror(errno));
		return -1;
	}
	pthread_mutex_init(&o->mu, NULL);
	pthread_cond_init(&o->wake, NULL);
	o->max_threads = threads;
	if (loop_watch(l, &o->io, EPOLLIN) < 0) {
		offload_stop(o);
		return -1;
	}
	return 0;
}

void offload_submit(struct offload *o, struct offload_job *job)
{
	int rc = 0;

	pthread_mutex_lock(&o->mu);
	append(&o->todo, &o->todo_tail, job);
	o->queued++;
	/* Every job queued beyond the waiting threads gets a thread of its own,
	 * while the pool has room: the same count of jobs running at once as a
	 * pool started whole. */
	if (o->queued > o->idle && o->nthreads < o->max_threads) {
		rc = pthread_create(&o->thread[o->nthreads], NULL, pool_thread, o);
		if (rc == 0)
			o->nthreads++;
		else
			fprintf(stderr, "evented: offload pthread_create: %s\n", strerror(rc));
	}
	if (rc != 0 && o->nthreads == 0) {
		/* No thread to run it: run it here rather than never. */
		o->todo = o->todo_tail = NULL;
		o->queued = 0;
		pthread_mutex_unlock(&o->mu);
		cpu_task_run(job->cpu_ms);
		pthread_mutex_lock(&o->mu);
		finished(o, job);
	}
	pthread_cond_signal(&o->wake);
	pthread_mutex_unlock(&o->mu);
}

void offload_stop(struct offload *o)
{
	pthread_mutex_lock(&o->mu);
	o->stop = 1;
	pthread_cond_broadcast(&o->wake);
	pthread_mutex_unlock(&o->mu);
	for (int i = 0; i < o->nthreads; i++)
		pthread_join(o->thread[i], NULL);
	o->nthreads = 0;
	if (o->io.fd >= 0)
		close(o->io.fd); /* also drops it from the loop's epoll */
	o->io.fd = -1;
	pthread_mutex_destroy(&o->mu);
	pthread_cond_destroy(&o->wake);
}
