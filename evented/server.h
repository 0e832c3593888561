/*
 * server — one worker: a listening socket (SO_REUSEPORT), a loop, and the
 * connections it accepted, glued to http_conn (parsing) and the executor.
 *
 * A connection's life: reading a head (header timeout) -> busy while its tasks
 * sleep (no timeout: the request takes what it takes) -> answered -> idle
 * (idle timeout) or, after an error or "Connection: close", a lingering close:
 * FIN sent, input drained and dropped for a moment so the client reads the
 * answer instead of a reset.
 *
 * Every socket call goes through the loop (loop_recv, loop_send, loop_accept,
 * loop_shutdown, loop_close), so the same code runs on either I/O engine
 * (--io epoll, the default, or --io uring; see loop.h).
 *
 * A struct conn is the epoll data of its descriptor. Closing one closes the
 * descriptor, cancels its timers and unlinks it at once, but its memory is
 * freed only after the current batch of events, so a later event in the same
 * batch (or a reused descriptor number) finds a struct marked closed, never
 * freed memory or a stranger's socket.
 *
 * Functions returning int return 0 on success and -1 on failure, having
 * printed the call and strerror.
 */
#ifndef SERVER_H
#define SERVER_H

#include "db_pool.h"
#include "loop.h"
#include "metrics.h"
#include "offload.h"
#include "pg_task.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>

struct server_config {
	struct sockaddr_in addr;
	enum loop_engine engine; /* --io epoll|uring */
	int workers;
	long task_ms;
	long task_cpu_ms;       /* a CPU route's work per task */
	int offload_threads;    /* per worker */
	long max_conns;         /* per worker */
	long header_timeout_ms;
	long idle_timeout_ms;
	const struct pg_conninfo *db; /* --backend postgres; NULL: tasks are timers */
	long pool;                    /* connections per worker */
	long query_timeout_ms;
};

#define SERVER_READ_BUF 65536
#define SERVER_OUT_BUF 65536
#define SERVER_CANNED_MAX 512

struct conn;

/* A route's usual answer (200, HTTP/1.1, keep-alive, GET) formatted once and
 * re-dated once a second, so the common request costs one memcpy to answer. */
struct canned {
	int64_t date_sec;            /* the Date it carries; -1 never built */
	uint32_t len;                /* 0: does not fit, format each time */
	char bytes[SERVER_CANNED_MAX];
};

struct worker {
	int id;
	const struct server_config *cfg;
	struct metrics *const *all;  /* every worker's metrics, for /metrics */
	struct loop loop;
	struct io listen_io;
	struct io wake_io;           /* eventfd: "drain now", from whichever thread heard the signal */
	struct timer accept_timer;   /* resumes accept after EMFILE/ENFILE */
	struct offload offload;      /* CPU work handed out of the loop */
	uint8_t accept_paused;       /* 1 descriptors ran out, 2 at --max-conns */
	uint8_t draining;
	struct conn *conns;          /* open connections (for the drain) */
	struct conn *dead;           /* closed this batch, freed after it */
	long nconns;
	struct metrics metrics;
	struct db_pool db;           /* this loop's connections, with --backend postgres */
	pthread_t thread;
	int64_t date_sec;            /* the Date header, formatted once a second */
	char date[40];
	struct canned *canned;       /* one per entry of routes[] */
	size_t olen;                 /* bytes in out, all for one connection, sent before returning */
	char in[SERVER_READ_BUF];    /* every recv() lands here first */
	char out[SERVER_OUT_BUF];
	char body[SERVER_OUT_BUF / 2]; /* the /metrics text */
};

/* Binds w's listening socket (SO_REUSEPORT) to cfg->addr and listens. */
int worker_listen(struct worker *w, const struct server_config *cfg, int id,
		  struct metrics *const *all);

/* Runs w's loop until drained: called by the main thread for worker 0, passed
 * to pthread_create for the others. Returns NULL, or exits 1
 * on a fatal loop error. */
void *worker_run(void *w);

/* From any thread: stop accepting, answer what is in flight, then return. */
void worker_drain(struct worker *w);

#endif
