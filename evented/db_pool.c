#include "db_pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

enum slot_state { SLOT_EMPTY, SLOT_CONNECTING, SLOT_IDLE, SLOT_QUERY };

struct db_slot {
	struct io io;            /* first: the epoll data; fd -1 while unwatched */
	struct db_pool *pool;
	PGconn *conn;            /* NULL when SLOT_EMPTY */
	uint8_t state;
	uint8_t held;            /* counted in stats->in_use */
	uint8_t warming;         /* running the first query of a new connection */
	uint32_t events;
	struct db_wait *task;    /* served now; NULL when idle or the task left */
	int64_t sent_at;         /* monotonic ns, when the task's query went out */
	int status;              /* the query's outcome, gathered as results arrive */
	int32_t value;
	char why[PG_WHY_MAX];
};

static void on_slot_event(struct io *io, uint32_t events);

/* ---- epoll interest: the socket may change while a connection is made ---- */

static void unwatch(struct db_slot *s)
{
	if (s->io.fd < 0)
		return;
	/* Quietly: libpq may already have closed it, which dropped it from epoll
	 * (io_uring's poll holds the file until this removes it). */
	loop_unwatch(s->pool->loop, &s->io);
	s->io.fd = -1;
	s->events = 0;
}

/* Watches the connection's current socket for events; -1 when epoll refuses. */
static int watch(struct db_slot *s, uint32_t events)
{
	int fd = PQsocket(s->conn);

	if (s->state == SLOT_CONNECTING || fd != s->io.fd) {
		/* PQconnectPoll may have closed the socket and opened another with
		 * the same number: register afresh rather than trust the old one. */
		unwatch(s);
		s->io.fd = fd;
		s->events = events;
		if (fd < 0)
			return -1;
		return loop_watch(s->pool->loop, &s->io, events);
	}
	if (s->events == events)
		return 0;
	s->events = events;
	return loop_modify(s->pool->loop, &s->io, events);
}

/* ---- slot life ---- */

static void hold(struct db_slot *s)
{
	if (!s->held) {
		s->held = 1;
		pg_stats_add(&s->pool->stats->in_use, 1);
	}
}

static void unhold(struct db_slot *s)
{
	if (s->held) {
		s->held = 0;
		pg_stats_add(&s->pool->stats->in_use, -1);
	}
}

static void drop_conn(struct db_slot *s)
{
	s->warming = 0;
	unwatch(s);
	PQfinish(s->conn);
	s->conn = NULL;
	s->state = SLOT_EMPTY;
}

/* Counts s's query (a success: its time since sent_at) and answers w, if any. */
static void finish_task(struct db_slot *s, struct db_wait *w, int status, int32_t value,
			const char *why)
{
	struct pg_stats *st = s->pool->stats;

	if (status == 0) {
		pg_stats_count(&st->queries, 1);
		pg_stats_count(&st->query_ns, (uint64_t)(loop_clock() - s->sent_at));
	} else {
		pg_stats_count(&st->errors, 1);
		if (status == 504)
			pg_stats_count(&st->timeouts, 1);
	}
	if (w != NULL) {
		if (status != 0 || !w->keep)
			w->slot = NULL;
		w->done(w, status, value, why);
	}
}

/* Starts a connection in an empty slot; -1 (why filled) when libpq gave up at
 * once. The task, if any, stays on the slot until the connection is made. */
static int start_connect(struct db_slot *s, char *why, size_t cap)
{
	struct db_pool *p = s->pool;

	s->conn = PQconnectStartParams(p->ci->keys, p->ci->values, 1);
	s->state = SLOT_CONNECTING;
	if (s->conn == NULL || PQstatus(s->conn) == CONNECTION_BAD ||
	    watch(s, EPOLLOUT) < 0) {
		pg_conn_error(s->conn, "database unreachable", why, cap);
		drop_conn(s);
		return -1;
	}
	return 0;
}

/* Sends w's query on the idle connection in s; -1 (why filled) when it could
 * not even be sent (the connection is then dropped). */
static int send_query(struct db_slot *s, struct db_wait *w, char *why, size_t cap)
{
	struct pg_task_params params;
	int rc;

	pg_task_params(&params, w->arg, w->ms);
	s->task = w;
	w->slot = s;
	s->status = -1;
	s->state = SLOT_QUERY;
	s->sent_at = loop_clock();
	if (!PQsendQueryParams(s->conn, PG_TASK_SQL, PG_TASK_NPARAMS, NULL, params.values, NULL,
			       NULL, 0))
		goto fail;
	rc = PQflush(s->conn); /* 1: the rest goes out on EPOLLOUT */
	if (rc < 0 || watch(s, rc ? EPOLLIN | EPOLLOUT : EPOLLIN) < 0)
		goto fail;
	return 0;
fail:
	pg_conn_error(s->conn, "database connection lost", why, cap);
	s->task = NULL;
	w->slot = NULL;
	drop_conn(s);
	return -1;
}

/* Puts w on s (idle or empty). Returns 0, or an HTTP status with why. */
static int assign(struct db_slot *s, struct db_wait *w, char *why, size_t cap)
{
	hold(s);
	if (s->state == SLOT_IDLE)
		return send_query(s, w, why, cap) < 0 ? 503 : 0;
	s->task = w;
	w->slot = s;
	if (start_connect(s, why, cap) < 0) {
		s->task = NULL;
		w->slot = NULL;
		return 503;
	}
	return 0;
}

static struct db_wait *dequeue(struct db_pool *p)
{
	struct db_wait *w = p->head;
	if (w == NULL)
		return NULL;
	p->head = w->next;
	if (p->head == NULL)
		p->tail = NULL;
	w->next = NULL;
	w->queued = 0;
	pg_stats_add(&p->stats->waiters, -1);
	pg_stats_count(&p->stats->wait_ns, (uint64_t)(loop_clock() - w->queued_at));
	return w;
}

/* s has no task now (idle with a connection, or empty): the oldest waiter
 * gets it; else it rests. A waiter that fails at once (the database is down)
 * is answered and the next one tries, so a queue drains fast in an outage. */
static void slot_free(struct db_slot *s)
{
	struct db_pool *p = s->pool;
	char why[PG_WHY_MAX];
	struct db_wait *w;
	int status;

	while ((w = dequeue(p)) != NULL) {
		status = assign(s, w, why, sizeof why);
		if (status == 0)
			return;
		finish_task(s, w, status, 0, why);
		/* The callback may have submitted a task that took this slot. */
		if (s->task != NULL || s->state == SLOT_CONNECTING || s->state == SLOT_QUERY)
			return;
	}
	if (s->state == SLOT_IDLE && watch(s, EPOLLIN) < 0)
		drop_conn(s);
	unhold(s);
}

/* The connection in s failed: its task (if any) gets 503, the slot is empty. */
static void slot_failed(struct db_slot *s, const char *prefix)
{
	struct db_wait *w = s->task;
	char why[PG_WHY_MAX];

	pg_conn_error(s->conn, prefix, why, sizeof why);
	if (s->pool->warned == 0 && s->state == SLOT_CONNECTING) {
		s->pool->warned = 1;
		fprintf(stderr, "evented: worker %d: --db '%s': %s; serving 503 until it answers\n",
			s->pool->id, s->pool->ci->db, why);
	}
	s->task = NULL;
	drop_conn(s);
	finish_task(s, w, 503, 0, why);
	/* The callback may have submitted a task that took this slot. */
	if (s->task != NULL || s->state != SLOT_EMPTY)
		return;
	slot_free(s);
}

/* A new backend's first query loads its catalog caches: milliseconds of the
 * database's CPU. A connection opened ahead of need runs the task query once
 * (0, 0 ms) before it counts as connected, so no request pays for that, and
 * a run waiting for PREFIX_db_connects_total starts with the pool ready. */
static void warm_up(struct db_slot *s)
{
	static const char *const zero[PG_TASK_NPARAMS] = { "0", "0" };
	int rc;

	s->warming = 1;
	s->status = -1;
	s->state = SLOT_QUERY;
	if (!PQsendQueryParams(s->conn, PG_TASK_SQL, PG_TASK_NPARAMS, NULL, zero, NULL, NULL, 0) ||
	    (rc = PQflush(s->conn)) < 0 || watch(s, rc ? EPOLLIN | EPOLLOUT : EPOLLIN) < 0)
		slot_failed(s, "database connection lost");
}

static void connect_step(struct db_slot *s)
{
	char why[PG_WHY_MAX];
	struct db_wait *w;

	switch (PQconnectPoll(s->conn)) {
	case PGRES_POLLING_READING:
		if (watch(s, EPOLLIN) < 0)
			slot_failed(s, "database unreachable");
		return;
	case PGRES_POLLING_WRITING:
		if (watch(s, EPOLLOUT) < 0)
			slot_failed(s, "database unreachable");
		return;
	case PGRES_POLLING_OK:
		break;
	default:
		slot_failed(s, "database unreachable");
		return;
	}
	s->pool->warned = 0;
	pg_quiet(s->conn);
	if (PQsetnonblocking(s->conn, 1) < 0) {
		slot_failed(s, "database connection lost");
		return;
	}
	s->state = SLOT_IDLE;
	w = s->task;
	if (w == NULL) {
		warm_up(s);
		return;
	}
	pg_stats_count(&s->pool->stats->connects, 1);
	s->task = NULL;
	if (send_query(s, w, why, sizeof why) < 0) {
		finish_task(s, w, 503, 0, why);
		if (s->task == NULL && s->state == SLOT_EMPTY)
			slot_free(s);
	}
}

/* Reads what arrived for the query in s; finishes it when the last result is in. */
static void query_step(struct db_slot *s, uint32_t events)
{
	struct db_pool *p = s->pool;
	struct db_wait *w;
	PGresult *res;
	int rc;

	if (events & EPOLLOUT) {
		rc = PQflush(s->conn);
		if (rc < 0) {
			slot_failed(s, "database connection lost");
			return;
		}
		if (rc == 0 && watch(s, EPOLLIN) < 0) {
			slot_failed(s, "database connection lost");
			return;
		}
	}
	if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		return;
	if (!PQconsumeInput(s->conn)) {
		slot_failed(s, "database connection lost");
		return;
	}
	while (!PQisBusy(s->conn)) {
		res = PQgetResult(s->conn);
		if (res == NULL)
			break;
		if (s->status < 0 || s->status == 0)
			s->status = pg_task_result(res, s->conn, p->query_timeout_ms, &s->value,
						   s->why, sizeof s->why);
		PQclear(res);
	}
	if (PQisBusy(s->conn))
		return; /* more to come */
	if (PQstatus(s->conn) != CONNECTION_OK) {
		slot_failed(s, "database connection lost");
		return;
	}
	/* The last result is in: the connection is free again. */
	w = s->task;
	s->task = NULL;
	s->state = SLOT_IDLE;
	if (s->warming) {
		/* Connected either way; a failed first query is counted and said. */
		s->warming = 0;
		pg_stats_count(&p->stats->connects, 1);
		if (s->status != 0) {
			pg_stats_count(&p->stats->errors, 1);
			fprintf(stderr, "evented: worker %d: a new connection's first query: %s\n",
				p->id, s->status < 0 ? "no result" : s->why);
		}
		slot_free(s);
		return;
	}
	rc = s->status < 0 ? 500 : s->status;
	if (s->status < 0)
		snprintf(s->why, sizeof s->why, "the task query returned no result");
	{
		int32_t value = s->value;
		char why[PG_WHY_MAX];
		memcpy(why, s->why, sizeof why);
		if (w != NULL && w->keep && rc == 0) {
			/* Still the request's: its next task comes on this connection. */
			if (watch(s, EPOLLIN) < 0)
				drop_conn(s);
		} else {
			slot_free(s); /* the next waiter's query goes out before this answer */
		}
		finish_task(s, w, rc, value, why);
	}
}

static void on_slot_event(struct io *io, uint32_t events)
{
	struct db_slot *s = (struct db_slot *)io;

	switch (s->state) {
	case SLOT_CONNECTING:
		connect_step(s);
		break;
	case SLOT_QUERY:
		query_step(s, events);
		break;
	case SLOT_IDLE:
		/* An idle connection has nothing to say unless the server closed it
		 * (restart, shutdown) or sent a notice. */
		if (!PQconsumeInput(s->conn) || PQstatus(s->conn) != CONNECTION_OK) {
			drop_conn(s);
			/* Kept by a request between two tasks: its next task reconnects. */
			if (!s->held)
				slot_free(s);
		}
		break;
	default:
		break; /* a stale event for a connection already dropped */
	}
}

/* ---- the pool ---- */

int db_pool_init(struct db_pool *p, struct loop *l, const struct pg_conninfo *ci, int size,
		 long query_timeout_ms, struct pg_stats *stats, int id)
{
	char why[PG_WHY_MAX];

	memset(p, 0, sizeof *p);
	p->loop = l;
	p->ci = ci;
	p->size = size;
	p->id = id;
	p->query_timeout_ms = query_timeout_ms;
	p->stats = stats;
	p->slots = calloc((size_t)size, sizeof *p->slots);
	if (p->slots == NULL) {
		fprintf(stderr, "evented: db pool of %d: %s\n", size, strerror(errno));
		return -1;
	}
	stats->size = size;
	for (int i = 0; i < size; i++) {
		struct db_slot *s = &p->slots[i];
		s->pool = p;
		s->io.fd = -1;
		s->io.fn = on_slot_event;
	}
	/* Opened now, all at once and without waiting, so the first requests do
	 * not pay for a backend's start. */
	for (int i = 0; i < size; i++)
		if (start_connect(&p->slots[i], why, sizeof why) < 0 && !p->warned) {
			p->warned = 1;
			fprintf(stderr, "evented: worker %d: --db '%s': %s; serving 503 until it "
				"answers\n", id, ci->db, why);
		}
	return 0;
}

void db_pool_free(struct db_pool *p)
{
	if (p->slots == NULL)
		return;
	for (int i = 0; i < p->size; i++)
		if (p->slots[i].conn != NULL)
			drop_conn(&p->slots[i]);
	free(p->slots);
	p->slots = NULL;
}

int db_pool_submit(struct db_pool *p, struct db_wait *w, char *why, size_t cap)
{
	struct db_slot *free_slot = w->slot; /* kept by the task before */
	int status;

	w->slot = NULL;
	w->next = NULL;
	if (free_slot != NULL) {
		status = assign(free_slot, w, why, cap);
		if (status != 0) {
			pg_stats_count(&p->stats->errors, 1);
			slot_free(free_slot);
		}
		return status;
	}
	/* FIFO: nobody jumps a queue that already has waiters. An idle
	 * connection first, else an empty slot to connect. */
	for (int i = 0; i < p->size && p->head == NULL; i++) {
		struct db_slot *s = &p->slots[i];
		if (s->held)
			continue;
		if (s->state == SLOT_IDLE) {
			free_slot = s;
			break;
		}
		if (s->state == SLOT_EMPTY && free_slot == NULL)
			free_slot = s;
	}
	if (free_slot != NULL) {
		status = assign(free_slot, w, why, cap);
		if (status != 0) {
			pg_stats_count(&p->stats->errors, 1);
			unhold(free_slot);
		}
		return status;
	}
	w->queued = 1;
	w->queued_at = loop_clock();
	if (p->tail)
		p->tail->next = w;
	else
		p->head = w;
	p->tail = w;
	pg_stats_add(&p->stats->waiters, 1);
	pg_stats_count(&p->stats->waits, 1);
	return 0;
}

void db_pool_cancel(struct db_pool *p, struct db_wait *w)
{
	struct db_wait **pp;

	if (w->queued) {
		for (pp = &p->head; *pp; pp = &(*pp)->next) {
			if (*pp == w) {
				*pp = w->next;
				if (p->tail == w) {
					p->tail = NULL;
					for (struct db_wait *q = p->head; q; q = q->next)
						p->tail = q;
				}
				break;
			}
		}
		w->queued = 0;
		pg_stats_add(&p->stats->waiters, -1);
	}
	if (w->slot != NULL) {
		struct db_slot *s = w->slot;
		w->slot = NULL;
		if (s->task == w) {
			/* Connecting or querying for it: the slot finishes without it. */
			s->task = NULL;
			w->keep = 0;
		} else if (s->state == SLOT_IDLE || s->state == SLOT_EMPTY) {
			slot_free(s); /* kept between two tasks: given back */
		}
	}
}

int db_pool_exec_blocking(struct db_pool *p, int32_t arg, long ms, int32_t *value, char *why,
			  size_t cap)
{
	struct pg_task_params params;
	struct db_slot *s = NULL;
	PGresult *res;
	int status;

	for (int i = 0; i < p->size && s == NULL; i++)
		if (p->slots[i].state == SLOT_IDLE && !p->slots[i].held)
			s = &p->slots[i];
	for (int i = 0; i < p->size && s == NULL; i++)
		if (p->slots[i].state == SLOT_EMPTY && !p->slots[i].held)
			s = &p->slots[i];
	if (s == NULL) {
		snprintf(why, cap, "every database connection of this worker is busy");
		return 503;
	}
	if (s->state == SLOT_EMPTY) {
		/* Blocking connect too: the mistake is the whole driver's. */
		s->conn = PQconnectdbParams(p->ci->keys, p->ci->values, 1);
		if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
			status = pg_conn_error(s->conn, "database unreachable", why, cap);
			PQfinish(s->conn);
			s->conn = NULL;
			pg_stats_count(&p->stats->errors, 1);
			return status;
		}
		pg_quiet(s->conn);
		PQsetnonblocking(s->conn, 1);
		pg_stats_count(&p->stats->connects, 1);
		s->state = SLOT_IDLE;
		if (watch(s, EPOLLIN) < 0) {
			drop_conn(s);
			snprintf(why, cap, "epoll refused the database connection");
			return 503;
		}
	}
	hold(s);
	pg_task_params(&params, arg, ms);
	/* PQexecParams blocks whatever the connection's non-blocking mode. */
	s->sent_at = loop_clock();
	res = PQexecParams(s->conn, PG_TASK_SQL, PG_TASK_NPARAMS, NULL, params.values, NULL,
			   NULL, 0);
	status = pg_task_result(res, s->conn, p->query_timeout_ms, value, why, cap);
	PQclear(res);
	if (PQstatus(s->conn) != CONNECTION_OK)
		drop_conn(s);
	finish_task(s, NULL, status, *value, why);
	unhold(s);
	return status;
}
