#include "db_pool.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct waiter {
	pthread_cond_t ready;
	int slot;               /* handed over by a release; -1 while waiting */
	struct waiter *next;
};

struct db_pool {
	const struct pg_conninfo *ci;
	long query_timeout_ms;
	int size;
	pthread_mutex_t lock;
	int *free_slots;        /* a stack of slot numbers */
	int nfree;
	struct waiter *head, *tail;
	PGconn **conn;          /* per slot; NULL until connected */
	pthread_t warmer;
	int warming;            /* the warmer thread was started (joined at close) */
	struct pg_stats stats;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A new connection, or NULL with the 503 reason in why. Its first query
 * (the task's, 0 ms) runs here: a new backend spends milliseconds of the
 * database's CPU loading its caches on it, which no request should pay. */
static PGconn *connect_slot(struct db_pool *p, char *why, size_t cap)
{
	static const char *const zero[PG_TASK_NPARAMS] = { "0", "0" };
	PGconn *c = PQconnectdbParams(p->ci->keys, p->ci->values, 1);
	PGresult *res;
	int32_t value;

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		pg_conn_error(c, "database unreachable", why, cap);
		PQfinish(c);
		return NULL;
	}
	pg_quiet(c);
	res = PQexecParams(c, PG_TASK_SQL, PG_TASK_NPARAMS, NULL, zero, NULL, NULL, 0);
	if (pg_task_result(res, c, p->query_timeout_ms, &value, why, cap) != 0) {
		PQclear(res);
		PQfinish(c);
		return NULL;
	}
	PQclear(res);
	pg_stats_count(&p->stats.connects, 1);
	return c;
}

/* Opens every connection once, so the first requests do not pay for a
 * backend's start: the slots are taken like any task's (requests that come
 * meanwhile wait their turn) and given back when all are open. A database
 * that is not up is only a warning (see docs/RELIABILITY.md); its slots
 * connect on use. */
static void *warm(void *arg)
{
	struct db_pool *p = arg;
	char why[PG_WHY_MAX];
	int taken = 0, *slots = malloc(sizeof *slots * (size_t)p->size);

	for (; slots != NULL && taken < p->size; taken++) {
		int slot = db_pool_take(p);
		slots[taken] = slot;
		if (p->conn[slot] == NULL)
			p->conn[slot] = connect_slot(p, why, sizeof why);
		if (p->conn[slot] == NULL) {
			fprintf(stderr, "blocking: --db '%s': %s; serving 503 until it answers\n",
				p->ci->db, why);
			taken++;
			break;
		}
	}
	while (taken > 0)
		db_pool_give(p, slots[--taken]);
	free(slots);
	return NULL;
}

struct db_pool *db_pool_open(const struct pg_conninfo *ci, int size, long query_timeout_ms)
{
	struct db_pool *p = calloc(1, sizeof *p);
	int rc;

	if (p == NULL)
		goto fail;
	p->ci = ci;
	p->size = size;
	p->query_timeout_ms = query_timeout_ms;
	p->free_slots = calloc((size_t)size, sizeof *p->free_slots);
	p->conn = calloc((size_t)size, sizeof *p->conn);
	if (p->free_slots == NULL || p->conn == NULL)
		goto fail;
	pthread_mutex_init(&p->lock, NULL);
	for (int i = size - 1; i >= 0; i--)
		p->free_slots[p->nfree++] = i;
	p->stats.size = size;
	/* In the background: hundreds of backends take seconds to start, and the
	 * server answers (503s, /metrics) meanwhile. */
	rc = pthread_create(&p->warmer, NULL, warm, p);
	if (rc != 0)
		fprintf(stderr, "blocking: pthread_create (db pool warm-up): %s; connecting on use\n",
			strerror(rc));
	p->warming = rc == 0;
	return p;
fail:
	fprintf(stderr, "blocking: db pool of %d: out of memory\n", size);
	if (p) {
		free(p->free_slots);
		free(p->conn);
	}
	free(p);
	return NULL;
}

int db_pool_take(struct db_pool *p)
{
	struct waiter w = { .slot = -1 };
	int64_t t0;
	int slot;

	pthread_mutex_lock(&p->lock);
	if (p->nfree > 0 && p->head == NULL) {
		slot = p->free_slots[--p->nfree];
		pg_stats_add(&p->stats.in_use, 1);
		pthread_mutex_unlock(&p->lock);
		return slot;
	}
	t0 = now_ns();
	pthread_cond_init(&w.ready, NULL);
	if (p->tail)
		p->tail->next = &w;
	else
		p->head = &w;
	p->tail = &w;
	pg_stats_add(&p->stats.waiters, 1);
	while (w.slot < 0)
		pthread_cond_wait(&w.ready, &p->lock);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&w.ready);
	pg_stats_count(&p->stats.waits, 1);
	pg_stats_count(&p->stats.wait_ns, (uint64_t)(now_ns() - t0));
	return w.slot;
}

void db_pool_give(struct db_pool *p, int slot)
{
	struct waiter *w;

	pthread_mutex_lock(&p->lock);
	w = p->head;
	if (w != NULL) {
		/* Handed over, still in use: the oldest waiter runs next. */
		p->head = w->next;
		if (p->head == NULL)
			p->tail = NULL;
		pg_stats_add(&p->stats.waiters, -1);
		w->slot = slot;
		pthread_cond_signal(&w->ready);
	} else {
		p->free_slots[p->nfree++] = slot;
		pg_stats_add(&p->stats.in_use, -1);
	}
	pthread_mutex_unlock(&p->lock);
}

/* An idle connection has nothing to say: if its socket is readable, the server
 * closed it (restart, idle kill) or sent a notice; read it and see. */
static int alive(PGconn *c)
{
	struct pollfd pfd = { .fd = PQsocket(c), .events = POLLIN };
	int n;

	if (PQstatus(c) != CONNECTION_OK || pfd.fd < 0)
		return 0;
	do
		n = poll(&pfd, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return 1;
	return PQconsumeInput(c) && PQstatus(c) == CONNECTION_OK;
}

int db_pool_task(struct db_pool *p, int slot, int32_t arg, long ms, int32_t *value, char *why,
		 size_t cap)
{
	struct pg_task_params params;
	int own = slot < 0, status, fresh;
	int64_t sent_at, took = 0;
	PGconn *c;

	if (own)
		slot = db_pool_take(p);
	c = p->conn[slot];
	PGresult *res;

	pg_task_params(&params, arg, ms);
	for (int attempt = 0;; attempt++) {
		fresh = 0;
		if (c != NULL && !alive(c)) {
			PQfinish(c);
			c = NULL;
		}
		if (c == NULL) {
			c = connect_slot(p, why, cap);
			fresh = 1;
		}
		p->conn[slot] = c;
		if (c == NULL) {
			status = 503;
			break;
		}
		sent_at = now_ns();
		res = PQexecParams(c, PG_TASK_SQL, PG_TASK_NPARAMS, NULL, params.values, NULL,
				   NULL, 0);
		took = now_ns() - sent_at;
		status = pg_task_result(res, c, p->query_timeout_ms, value, why, cap);
		PQclear(res);
		if (PQstatus(c) != CONNECTION_OK) {
			/* Lost: the next taker (or the retry) connects afresh. */
			PQfinish(c);
			c = p->conn[slot] = NULL;
			/* A kept connection may have died while idle (the database
			 * restarted) in a way the check above could not see yet: one
			 * retry on a new connection, safe for a read-only query. */
			if (!fresh && attempt == 0)
				continue;
		}
		break;
	}
	if (status == 0) {
		pg_stats_count(&p->stats.queries, 1);
		pg_stats_count(&p->stats.query_ns, (uint64_t)took);
	} else {
		pg_stats_count(&p->stats.errors, 1);
		if (status == 504)
			pg_stats_count(&p->stats.timeouts, 1);
	}
	if (own)
		db_pool_give(p, slot);
	return status;
}

const struct pg_stats *db_pool_stats(const struct db_pool *p)
{
	return &p->stats;
}

void db_pool_close(struct db_pool *p)
{
	if (p == NULL)
		return;
	if (p->warming)
		pthread_join(p->warmer, NULL);
	for (int i = 0; i < p->size; i++)
		PQfinish(p->conn[i]);
	pthread_mutex_destroy(&p->lock);
	free(p->conn);
	free(p->free_slots);
	free(p);
}
