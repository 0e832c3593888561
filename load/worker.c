#include "worker.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "locust_msg.h"
#include "routes.h"
#include "runner.h"

/* runners.py: HEARTBEAT_INTERVAL, HEARTBEAT_LIVENESS, WORKER_REPORT_INTERVAL, CONNECT_TIMEOUT */
#define BEAT_MS 1000
#define LIVENESS 3
#define REPORT_TICKS 3
#define CONNECT_MS 5000
#define CONNECT_RETRIES 60 /* CONNECT_RETRY_COUNT: a first ack waited for 5 minutes */

enum state { READY, SPAWNING, RUNNING };
static const char *const state_name[] = { "ready", "spawning", "running" };

/* requests and failures of one wall-clock second, per endpoint */
struct seconds {
	int n;
	struct {
		long sec;
		uint64_t reqs, fails;
	} s[LOCUST_MSG_MAX_SECONDS];
};

struct wk {
	const struct worker_opts *o;
	volatile sig_atomic_t *stopping;
	char id[300];             /* node id: hostname_uuid4hex, as Locust's */
	char endpoint[300];       /* tcp://HOST:PORT */
	void *ctx, *sock, *mon;
	int generation;           /* of the monitor's inproc address */
	int connected, acked, ever_acked;
	int retries;              /* client_ready sent again, waiting for a first ack */
	int64_t last_heard;       /* ns: a message, or the link coming or going */
	int64_t ready_sent, next_beat, next_tick;
	long tick_sec;            /* the wall second the next tick closes */
	enum state state;
	double last_spawn_ts;
	struct runner *run;
	struct load_config cfg;
	struct run_stats *tick, *win; /* one drain; everything since the last report */
	struct seconds sec[RUNNER_MAX_ENDPOINTS];
	double win_start;         /* Unix seconds at which `win` began */
	int ticks;                /* ticks since the last report */
	struct locust_classes cls;
	char cls_name[LOCUST_MSG_MAX_CLASSES][64];
	struct locust_buckets *total_lb;
	struct locust_out out;
	int64_t cpu_ns, cpu_at;   /* process CPU time, and when, at the last measure */
	double cpu_pct;           /* the last measure, for the heartbeats */
	uint64_t sent_reqs, sent_fails, unfinished; /* over the worker's life */
};

static double wall_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int64_t cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static uint64_t rss_bytes(void)
{
	unsigned long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &size, &resident) != 2)
		resident = 0;
	fclose(f);
	return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* ------------------------------------------------------------ the link */

static void send_out(struct wk *w, const char *what)
{
	if (!locust_out_ok(&w->out))
		fprintf(stderr, "bin/load: worker: out of memory encoding %s; not sent\n", what);
	else if (zmq_send(w->sock, w->out.sb.data, w->out.sb.size, ZMQ_DONTWAIT) < 0)
		/* the master's queue is full or gone: Locust's send fails the same way */
		fprintf(stderr, "bin/load: worker: zmq_send %s: %s\n", what, zmq_strerror(errno));
	locust_out_reset(&w->out);
}

static void send_plain(struct wk *w, const char *type)
{
	locust_msg_plain(&w->out, type, w->id);
	send_out(w, type);
}

static void send_ready(struct wk *w)
{
	locust_msg_client_ready(&w->out, w->id);
	send_out(w, "client_ready");
	w->ready_sent = mono_ns();
}

static void send_exception(struct wk *w, const char *msg)
{
	char where[600];
	/* the master groups exceptions by their traceback: one group per distinct text */
	snprintf(where, sizeof where, "bin/load --worker: %s\n", msg);
	fprintf(stderr, "bin/load: worker: %s\n", msg);
	locust_msg_exception(&w->out, w->id, msg, where);
	send_out(w, "exception");
}

static void link_close(struct wk *w)
{
	if (w->mon != NULL)
		zmq_close(w->mon);
	if (w->sock != NULL) {
		zmq_socket_monitor(w->sock, NULL, 0);
		zmq_close(w->sock);
	}
	w->mon = w->sock = NULL;
	w->connected = 0;
}

/* A DEALER to the master, its identity the node id, and a monitor of its link. */
static int link_open(struct wk *w)
{
	int one = 1, idle = 30, ivl = BEAT_MS, dead = LIVENESS * BEAT_MS, linger = 2000;
	char mon_addr[64];

	w->sock = zmq_socket(w->ctx, ZMQ_DEALER);
	if (w->sock == NULL)
		goto fail;
	/* as Locust's BaseSocket, plus ZMTP heartbeats so a silent master is noticed */
	if (zmq_setsockopt(w->sock, ZMQ_ROUTING_ID, w->id, strlen(w->id)) < 0 ||
	    zmq_setsockopt(w->sock, ZMQ_TCP_KEEPALIVE, &one, sizeof one) < 0 ||
	    zmq_setsockopt(w->sock, ZMQ_TCP_KEEPALIVE_IDLE, &idle, sizeof idle) < 0 ||
	    zmq_setsockopt(w->sock, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl) < 0 ||
	    zmq_setsockopt(w->sock, ZMQ_HEARTBEAT_TIMEOUT, &dead, sizeof dead) < 0 ||
	    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger) < 0)
		goto fail;
	snprintf(mon_addr, sizeof mon_addr, "inproc://bin-load-link-%d", w->generation++);
	/* up means the ZMTP handshake done, not a TCP connect: a frozen master's kernel
	 * still accepts connections, and only the handshake proves the master answers */
	if (zmq_socket_monitor(w->sock, mon_addr, ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) < 0)
		goto fail;
	w->mon = zmq_socket(w->ctx, ZMQ_PAIR);
	if (w->mon == NULL || zmq_connect(w->mon, mon_addr) < 0)
		goto fail;
	if (zmq_connect(w->sock, w->endpoint) < 0) {
		fprintf(stderr, "bin/load: worker: zmq_connect %s: %s\n", w->endpoint, zmq_strerror(errno));
		link_close(w);
		return -1;
	}
	w->last_heard = mono_ns();
	return 0;
fail:
	fprintf(stderr, "bin/load: worker: zmq socket for %s: %s\n", w->endpoint, zmq_strerror(errno));
	link_close(w);
	return -1;
}

/* One monitor event: the link came up or went down. */
static void on_link_event(struct wk *w)
{
	zmq_msg_t m;
	uint16_t ev = 0;
	int more;

	zmq_msg_init(&m);
	if (zmq_msg_recv(&m, w->mon, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&m);
		return;
	}
	if (zmq_msg_size(&m) >= sizeof ev)
		memcpy(&ev, zmq_msg_data(&m), sizeof ev);
	more = zmq_msg_more(&m);
	zmq_msg_close(&m);
	while (more) { /* the peer's address frame */
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, w->mon, ZMQ_DONTWAIT) < 0)
			more = 0;
		else
			more = zmq_msg_more(&m);
		zmq_msg_close(&m);
	}
	if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		w->connected = 1;
		w->last_heard = mono_ns();
		/* a master that restarted meanwhile knows us only by a new client_ready */
		if (w->ever_acked && w->state == READY)
			send_ready(w);
	} else if (ev == ZMQ_EVENT_DISCONNECTED && w->connected) {
		/* the silence starts now; attempts that never complete a handshake do not
		 * restart it */
		fprintf(stderr, "bin/load: worker: lost the link to the master at %s\n", w->endpoint);
		w->connected = 0;
		w->last_heard = mono_ns();
	}
}

/* ------------------------------------------------------------ statistics */

static void seconds_add(struct seconds *s, long sec, uint64_t reqs, uint64_t fails)
{
	int i;
	for (i = 0; i < s->n && s->s[i].sec != sec; i++)
		;
	if (i == s->n) {
		if (s->n == LOCUST_MSG_MAX_SECONDS)
			i = s->n - 1; /* a report overdue by many seconds: fold into the last */
		else {
			i = s->n++;
			s->s[i].sec = sec;
			s->s[i].reqs = s->s[i].fails = 0;
		}
	}
	s->s[i].reqs += reqs;
	s->s[i].fails += fails;
}

/* Moves what the runner logged since the last drain into the report window,
 * its requests counted in wall second `sec`. */
static void drain(struct wk *w, long sec)
{
	if (w->run == NULL)
		return;
	run_stats_clear(w->tick);
	runner_drain(w->run, w->tick);
	for (int e = 0; e < w->tick->n_ep; e++)
		if (w->tick->ep[e].reqs > 0)
			seconds_add(&w->sec[e], sec, w->tick->ep[e].reqs, w->tick->ep[e].fails);
	run_stats_merge(w->win, w->tick);
	w->unfinished += w->tick->unfinished;
}

static void fill_entry(struct locust_entry *le, const struct ep_stats *e, double start,
		       double wall_now, int64_t mono_now)
{
	le->reqs = e->reqs;
	le->fails = e->fails;
	le->sum_ms = e->sum_ms;
	le->min_ms = e->min_ms;
	le->max_ms = e->max_ms;
	le->content_bytes = (uint64_t)e->content_bytes;
	le->start_time = start;
	le->last_request = e->last_ns ? wall_now - (double)(mono_now - e->last_ns) / 1e9 : 0;
}

static void send_report(struct wk *w)
{
	static struct locust_entry entries[RUNNER_MAX_ENDPOINTS], total;
	static struct locust_error errors[RUNNER_MAX_ERRORS];
	struct locust_report rep = { entries, 0, &total, errors, 0, &w->cls };
	struct ep_stats sum = { 0 };
	struct seconds all = { 0 };
	double now = wall_s();
	int64_t mono = mono_ns();

	memset(w->total_lb, 0, sizeof *w->total_lb);
	for (int e = 0; e < w->win->n_ep; e++) {
		const struct ep_stats *s = &w->win->ep[e];
		struct locust_entry *le = &entries[rep.n_entries];
		if (s->reqs == 0)
			continue; /* Locust leaves out entries without requests */
		memset(le, 0, sizeof *le);
		le->method = "GET";
		le->name = w->cfg.ep[e].name;
		fill_entry(le, s, w->win_start, now, mono);
		le->lb = &s->lb;
		le->n_sec = w->sec[e].n;
		memcpy(le->per_sec, w->sec[e].s, sizeof le->per_sec);
		for (int i = 0; i < w->sec[e].n; i++)
			seconds_add(&all, w->sec[e].s[i].sec, w->sec[e].s[i].reqs, w->sec[e].s[i].fails);
		/* the total: the same numbers summed (not its histograms: not sent) */
		if (sum.reqs == 0 || s->min_ms < sum.min_ms)
			sum.min_ms = s->min_ms;
		if (s->max_ms > sum.max_ms)
			sum.max_ms = s->max_ms;
		if (s->last_ns > sum.last_ns)
			sum.last_ns = s->last_ns;
		sum.reqs += s->reqs;
		sum.fails += s->fails;
		sum.sum_ms += s->sum_ms;
		sum.content_bytes += s->content_bytes;
		locust_buckets_merge(w->total_lb, &s->lb);
		rep.n_entries++;
	}
	memset(&total, 0, sizeof total);
	total.method = "";
	total.name = "Aggregated";
	fill_entry(&total, &sum, w->win_start, now, mono);
	total.lb = w->total_lb;
	total.n_sec = all.n;
	memcpy(total.per_sec, all.s, sizeof total.per_sec);
	for (int i = 0; i < w->win->n_err; i++) {
		struct locust_error *le = &errors[rep.n_errors++];
		snprintf(le->method, sizeof le->method, "GET");
		snprintf(le->name, sizeof le->name, "%s", w->cfg.ep[w->win->err[i].ep].name);
		snprintf(le->error, sizeof le->error, "%s", w->win->err[i].text);
		le->occurrences = w->win->err[i].n;
	}
	w->sent_reqs += sum.reqs;
	w->sent_fails += sum.fails;
	locust_msg_stats(&w->out, w->id, &rep);
	send_out(w, "stats");
	run_stats_clear(w->win);
	memset(w->sec, 0, sizeof w->sec);
	w->win_start = now;
	w->ticks = 0;
}

/* ------------------------------------------------------------ the test */

/* Users stop, the runner's last numbers join the window, the runner goes. */
static void test_stop(struct wk *w)
{
	if (w->run == NULL)
		return;
	runner_stop(w->run);
	runner_join(w->run);
	drain(w, (long)wall_s());
	runner_free(w->run);
	w->run = NULL;
	for (int i = 0; i < w->cls.n; i++)
		w->cls.count[i] = 0;
}

/* A new test against `host`: every class of the route table, no users yet. */
static int test_start(struct wk *w, const char *host)
{
	struct load_config *c = &w->cfg;
	char msg[400];

	memset(c, 0, sizeof *c);
	if (host[0] == '\0') {
		send_exception(w, "no host: start the master with -H http://HOST:PORT");
		return -1;
	}
	if (load_config_set_host(c, host) < 0) {
		snprintf(msg, sizeof msg, "host %s: bin/load needs http://HOST[:PORT] with an IPv4 HOST", host);
		send_exception(w, msg);
		return -1;
	}
	for (size_t i = 0; i < routes_count && i < RUNNER_MAX_ENDPOINTS; i++)
		if (load_config_add_endpoint(c, routes[i].path) < 0) {
			send_exception(w, "the route table does not fit bin/load's endpoint table");
			return -1;
		}
	c->users = w->o->max_users;
	c->dynamic = 1;
	c->spawn_rate = 1;
	c->threads = w->o->threads;
	c->wait_min_s = w->o->wait_min_s;
	c->wait_max_s = w->o->wait_max_s;
	c->timeout_s = w->o->timeout_s;
	run_stats_free(w->tick);
	run_stats_free(w->win);
	w->tick = run_stats_new(c->n_ep);
	w->win = run_stats_new(c->n_ep);
	if (w->tick == NULL || w->win == NULL || runner_start(&w->run, c) < 0) {
		send_exception(w, "bin/load could not start its runner (see the worker's stderr)");
		w->run = NULL;
		return -1;
	}
	memset(w->sec, 0, sizeof w->sec);
	w->win_start = wall_s();
	return 0;
}

static int on_spawn(struct wk *w, const struct locust_msg *m)
{
	struct locust_spawn job;
	long want[RUNNER_MAX_ENDPOINTS] = { 0 }, asked = 0, got;
	char why[300], msg[400];
	int rc;

	send_plain(w, "spawning");
	rc = locust_msg_spawn(m, &job, why, sizeof why);
	if (rc == -2) {
		fprintf(stderr, "bin/load: worker: %s\n", why);
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "bin/load: worker: ignored a malformed spawn: %s\n", why);
		return 0;
	}
	if (job.timestamp <= w->last_spawn_ts) {
		fprintf(stderr, "bin/load: worker: ignored a spawn older than the last one\n");
		return 0;
	}
	w->last_spawn_ts = job.timestamp;
	if (w->run == NULL && test_start(w, job.host) < 0) {
		w->state = READY;
		return 0;
	}
	if (strcmp(w->cfg.url_base, job.host) != 0 && strncmp(job.host, w->cfg.url_base, strlen(w->cfg.url_base)) != 0) {
		snprintf(msg, sizeof msg, "host %s asked mid-test; the users keep %s", job.host, w->cfg.url_base);
		send_exception(w, msg);
	}
	w->state = SPAWNING;
	w->cls.n = job.n_classes;
	for (int i = 0; i < job.n_classes; i++) {
		const struct route *r = routes_find_class(job.cls[i].name);
		snprintf(w->cls_name[i], sizeof w->cls_name[i], "%s", job.cls[i].name);
		w->cls.name[i] = w->cls_name[i];
		w->cls.count[i] = 0;
		if (r == NULL || (size_t)(r - routes) >= RUNNER_MAX_ENDPOINTS) {
			if (job.cls[i].count > 0) {
				snprintf(msg, sizeof msg, "no user class %s in bin/load's route table "
					 "(bin/load --list shows them)", job.cls[i].name);
				send_exception(w, msg);
			}
			continue;
		}
		want[r - routes] += job.cls[i].count;
		asked += job.cls[i].count;
	}
	got = runner_set_users(w->run, want);
	/* what runs, class by class, in the order the route table fills up */
	for (int i = 0, left = (int)got; i < job.n_classes; i++) {
		const struct route *r = routes_find_class(job.cls[i].name);
		if (r == NULL || (size_t)(r - routes) >= RUNNER_MAX_ENDPOINTS)
			continue;
		w->cls.count[i] = job.cls[i].count < left ? job.cls[i].count : left;
		left -= (int)w->cls.count[i];
	}
	if (got < asked) {
		snprintf(msg, sizeof msg, "%ld users asked, but this worker runs at most %ld "
			 "(bin/load --worker --max-users)", asked, w->o->max_users);
		send_exception(w, msg);
	}
	locust_msg_spawning_complete(&w->out, w->id, &w->cls);
	send_out(w, "spawning_complete");
	w->state = RUNNING;
	return 0;
}

/* One message from the master; returns -1 to go on, or the exit code. */
static int on_message(struct wk *w)
{
	zmq_msg_t frame;
	struct locust_msg m;
	char why[200];
	int more, rc = -1;

	zmq_msg_init(&frame);
	if (zmq_msg_recv(&frame, w->sock, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&frame);
		return -1;
	}
	more = zmq_msg_more(&frame);
	w->last_heard = mono_ns();
	if (locust_msg_decode(&m, zmq_msg_data(&frame), zmq_msg_size(&frame), why, sizeof why) < 0) {
		fprintf(stderr, "bin/load: worker: ignored a malformed message from the master: %s\n", why);
	} else if (strcmp(m.type, "ack") == 0) {
		if (!w->acked)
			fprintf(stderr, "bin/load: worker: connected to the master at %s as %s (index %ld)\n",
				w->endpoint, w->id, locust_msg_ack_index(&m));
		w->acked = w->ever_acked = 1;
	} else if (strcmp(m.type, "spawn") == 0) {
		int r = on_spawn(w, &m);
		if (r != 0)
			rc = r;
	} else if (strcmp(m.type, "stop") == 0) {
		test_stop(w);
		send_plain(w, "client_stopped");
		send_ready(w);
		w->state = READY;
	} else if (strcmp(m.type, "quit") == 0) {
		fprintf(stderr, "bin/load: worker: the master said quit\n");
		rc = 0;
	} else if (strcmp(m.type, "reconnect") == 0) {
		fprintf(stderr, "bin/load: worker: the master asked for a new connection\n");
		link_close(w);
		if (link_open(w) < 0)
			rc = 2;
	} else if (strcmp(m.type, "heartbeat") == 0) {
		/* newer masters beat too; hearing it is all it means */
	} else if (strcmp(m.type, "hatch") == 0) {
		fprintf(stderr, "bin/load: worker: the master speaks Locust 0.x's protocol (hatch); "
			"bin/load --worker needs a Locust 2.x master\n");
		rc = 2;
	} else {
		fprintf(stderr, "bin/load: worker: ignored a message of unknown type '%s'\n", m.type);
	}
	locust_msg_release(&m);
	zmq_msg_close(&frame);
	while (more) { /* Locust sends one frame; anything after it is not ours */
		zmq_msg_init(&frame);
		more = zmq_msg_recv(&frame, w->sock, ZMQ_DONTWAIT) >= 0 && zmq_msg_more(&frame);
		zmq_msg_close(&frame);
	}
	return rc;
}

static void heartbeat(struct wk *w, int64_t now)
{
	/* CPU percent over at least half a second (as psutil, 0 at first): a sliver of
	 * time after start-up would read as hundreds of percent */
	if (now - w->cpu_at >= 500000000LL) {
		int64_t cpu = cpu_ns();
		w->cpu_pct = 100.0 * (double)(cpu - w->cpu_ns) / (double)(now - w->cpu_at);
		w->cpu_ns = cpu;
		w->cpu_at = now;
	}
	locust_msg_heartbeat(&w->out, w->id, state_name[w->state], w->cpu_pct, rss_bytes());
	send_out(w, "heartbeat");
}

/* The monotonic time of the next whole wall-clock second, and that second. */
static void next_tick(struct wk *w)
{
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	w->tick_sec = (long)rt.tv_sec + 1;
	w->next_tick = mono_ns() + (1000000000LL - rt.tv_nsec);
}

static int node_id(char *buf, size_t cap)
{
	unsigned char u[16];
	char host[200];
	size_t n;
	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "bin-load");
	host[sizeof host - 1] = '\0';
	if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
		fprintf(stderr, "bin/load: worker: getrandom: %s\n", strerror(errno));
		return -1;
	}
	u[6] = (u[6] & 0x0f) | 0x40; /* a version 4 UUID, as uuid4().hex */
	u[8] = (u[8] & 0x3f) | 0x80;
	n = (size_t)snprintf(buf, cap, "%s_", host);
	for (int i = 0; i < 16 && n + 3 <= cap; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%02x", u[i]);
	return 0;
}

int worker_run(const struct worker_opts *o, volatile sig_atomic_t *stopping)
{
	struct wk *w = calloc(1, sizeof *w);
	int rc = 2;

	if (w == NULL || (w->total_lb = calloc(1, sizeof *w->total_lb)) == NULL) {
		fprintf(stderr, "bin/load: worker: calloc: %s\n", strerror(errno));
		free(w);
		return 2;
	}
	w->o = o;
	w->stopping = stopping;
	locust_out_init(&w->out);
	snprintf(w->endpoint, sizeof w->endpoint, "tcp://%s:%d", o->master_host, o->master_port);
	w->win = run_stats_new(RUNNER_MAX_ENDPOINTS);
	w->tick = run_stats_new(RUNNER_MAX_ENDPOINTS);
	w->ctx = zmq_ctx_new();
	if (w->win == NULL || w->tick == NULL || w->ctx == NULL) {
		fprintf(stderr, "bin/load: worker: setup: %s\n", strerror(errno));
		goto done;
	}
	if (node_id(w->id, sizeof w->id) < 0 || link_open(w) < 0)
		goto done;
	fprintf(stderr, "bin/load: worker %s: joining the master at %s\n", w->id, w->endpoint);
	w->win_start = wall_s();
	w->cpu_ns = cpu_ns();
	w->cpu_at = mono_ns();
	send_ready(w);
	w->next_beat = mono_ns();
	next_tick(w);
	for (;;) {
		zmq_pollitem_t items[2] = { { w->sock, 0, ZMQ_POLLIN, 0 }, { w->mon, 0, ZMQ_POLLIN, 0 } };
		int64_t now = mono_ns(), due;
		long timeout;
		int n;

		if (*stopping) {
			fprintf(stderr, "bin/load: worker: stopping on a signal\n");
			rc = 0;
			break;
		}
		if (w->ever_acked && (!w->connected || !w->acked) &&
		    now - w->last_heard >= (int64_t)(o->master_timeout_s * 1e9)) {
			fprintf(stderr, "bin/load: worker: %s from the master at %s for %.0f s; "
				"stopping the users\n", w->acked ? "no link" : "no ack", w->endpoint,
				o->master_timeout_s);
			rc = 1;
			break;
		}
		/* the first time, as Locust: client_ready every 5 s, 60 times */
		if (!w->acked && now - w->ready_sent >= (int64_t)CONNECT_MS * 1000000) {
			if (++w->retries > CONNECT_RETRIES) {
				fprintf(stderr, "bin/load: worker: failed to connect to the master at %s "
					"(%d tries, %d s apart)\n", w->endpoint, CONNECT_RETRIES, CONNECT_MS / 1000);
				rc = 1;
				break;
			}
			if (w->retries >= 3)
				fprintf(stderr, "bin/load: worker: failed to connect to the master at %s, "
					"retry %d/%d\n", w->endpoint, w->retries, CONNECT_RETRIES);
			send_ready(w);
		}
		if (now - w->next_beat >= 0) {
			heartbeat(w, now);
			w->next_beat += (int64_t)BEAT_MS * 1000000;
			if (now - w->next_beat >= 0) /* stalled: no burst of beats */
				w->next_beat = now + (int64_t)BEAT_MS * 1000000;
		}
		if (now - w->next_tick >= 0) {
			drain(w, w->tick_sec - 1);
			next_tick(w);
			if (++w->ticks >= REPORT_TICKS)
				send_report(w);
		}
		due = w->next_beat - w->next_tick < 0 ? w->next_beat : w->next_tick;
		timeout = (long)((due - mono_ns() + 999999) / 1000000);
		if (timeout < 0)
			timeout = 0;
		n = zmq_poll(items, 2, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bin/load: worker: zmq_poll: %s\n", zmq_strerror(errno));
			break;
		}
		if (items[1].revents & ZMQ_POLLIN)
			on_link_event(w);
		if (items[0].revents & ZMQ_POLLIN) {
			int r = on_message(w);
			if (r >= 0) {
				rc = r;
				break;
			}
		}
	}
	/* every exit: users stopped, a last report, and the master told, as Locust's quit */
	test_stop(w);
	if (w->sock != NULL) {
		send_report(w);
		send_plain(w, "quit");
	}
	/* the worker's own books, to check the master's sums against */
	printf("worker: %" PRIu64 " requests, %" PRIu64 " failures reported; %" PRIu64
	       " unfinished at stop\n", w->sent_reqs, w->sent_fails, w->unfinished);
	fflush(stdout);
done:
	if (w->run != NULL)
		runner_free(w->run);
	link_close(w);
	if (w->ctx != NULL)
		zmq_ctx_term(w->ctx);
	locust_out_free(&w->out);
	run_stats_free(w->win);
	run_stats_free(w->tick);
	free(w->total_lb);
	free(w);
	return rc;
}
