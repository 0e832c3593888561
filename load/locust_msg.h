/*
 * locust_msg — the messages a Locust 2.x master and its workers exchange, as
 * Locust 2.12.1 writes them (locust/rpc/protocol.py, locust/runners.py): one
 * ZeroMQ frame holding the msgpack array [type, data, node_id], where type and
 * node_id are strings and data is nil or a map. Only what a worker reads is
 * decoded (ack, spawn, stop, quit, reconnect; any other type is reported as
 * unknown by the caller), and only what a worker sends is encoded.
 *
 * Decoding never trusts the frame: anything malformed, truncated or followed by
 * extra bytes (Locust raises ExtraData there too) returns -1 with the reason in
 * `why`. Encoders append one whole message to a struct locust_out and cannot fail
 * short of running out of memory (msgpack's buffer then stops growing: the
 * message is truncated and locust_out_ok says so).
 */
#ifndef LOCUST_MSG_H
#define LOCUST_MSG_H

#include <msgpack.h>
#include <stddef.h>
#include <stdint.h>

#include "locust.h"

/* What "client_ready" says: the protocol this worker speaks. A master of
 * another 2.x version only logs a warning (runners.py, client_ready). */
#define LOCUST_MSG_VERSION "2.12.1"
#define LOCUST_MSG_MAX_CLASSES 32 /* user classes one spawn may name */
#define LOCUST_MSG_MAX_SECONDS 16 /* per-second counts one stats entry carries */

/* ------------------------------------------------------------- decoding */

struct locust_msg {
	char type[32];          /* "spawn", ...; a longer type is cut (and unknown) */
	char node_id[256];      /* the addressee: this worker's id */
	msgpack_object data;    /* nil or a map; points into `up` */
	msgpack_unpacked up;    /* owns the decoded objects */
};

/* Decodes one frame into m (released by locust_msg_release, also after -1). */
int locust_msg_decode(struct locust_msg *m, const void *frame, size_t len, char *why, size_t cap);
void locust_msg_release(struct locust_msg *m);

struct locust_spawn {
	double timestamp;       /* the master's time.time(): older spawns are dropped */
	char host[160];         /* "" when the master has none (no -H) */
	int n_classes;
	struct {
		char name[64];
		long count;
	} cls[LOCUST_MSG_MAX_CLASSES];
};

/*
 * A "spawn" message's job. -1 with `why` when a field is missing or of the wrong
 * type; -2 when it is the spawn of an older protocol (Locust 1.x's, with
 * num_users instead of user_classes_count), which this worker refuses.
 */
int locust_msg_spawn(const struct locust_msg *m, struct locust_spawn *s, char *why, size_t cap);

/* The worker index an "ack" carries, -1 when none (masters <= 2.10.2). */
long locust_msg_ack_index(const struct locust_msg *m);

/* ------------------------------------------------------------- encoding */

struct locust_out {
	msgpack_sbuffer sb;     /* sb.data, sb.size: the frame to send */
	msgpack_packer pk;
	int failed;             /* a write ran out of memory since init/reset */
};

void locust_out_init(struct locust_out *o);
void locust_out_reset(struct locust_out *o); /* empty, keeping the memory */
void locust_out_free(struct locust_out *o);

/* [type, nil, node_id]: "spawning", "client_stopped", "quit". */
void locust_msg_plain(struct locust_out *o, const char *type, const char *node_id);
/* ["client_ready", LOCUST_MSG_VERSION, node_id] */
void locust_msg_client_ready(struct locust_out *o, const char *node_id);
/* ["heartbeat", {state, current_cpu_usage, current_memory_usage}, node_id] */
void locust_msg_heartbeat(struct locust_out *o, const char *node_id, const char *state,
			  double cpu_percent, uint64_t rss_bytes);
/* ["exception", {msg, traceback}, node_id] */
void locust_msg_exception(struct locust_out *o, const char *node_id, const char *msg,
			  const char *traceback);

/* The user classes a worker runs, for spawning_complete and each report. */
struct locust_classes {
	int n;
	const char *name[LOCUST_MSG_MAX_CLASSES];
	long count[LOCUST_MSG_MAX_CLASSES];
};

/* ["spawning_complete", {user_classes_count, user_count}, node_id] */
void locust_msg_spawning_complete(struct locust_out *o, const char *node_id,
				  const struct locust_classes *c);

/*
 * One StatsEntry's share since the last report (Locust's get_stripped_report):
 * raw response times in ms, the rounded ones in `lb`, and the requests and
 * failures of each wall-clock second.
 */
struct locust_entry {
	const char *method;     /* "GET"; "" for the Aggregated entry */
	const char *name;       /* "/x", or "Aggregated" */
	uint64_t reqs, fails;
	double sum_ms, min_ms, max_ms; /* min/max meaningful when reqs > 0 */
	uint64_t content_bytes;
	double start_time;      /* Unix seconds: when this share began */
	double last_request;    /* Unix seconds of the last request; 0: none (nil) */
	const struct locust_buckets *lb;
	int n_sec;
	struct {
		long sec;           /* Unix second */
		uint64_t reqs, fails;
	} per_sec[LOCUST_MSG_MAX_SECONDS];
};

struct locust_report {
	const struct locust_entry *entries; /* only entries with requests, as Locust */
	int n_entries;
	const struct locust_entry *total;
	const struct locust_error *errors;  /* keyed by locust_error_key */
	int n_errors;
	const struct locust_classes *classes;
};

/* ["stats", {stats, stats_total, errors, user_classes_count, user_count}, node_id] */
void locust_msg_stats(struct locust_out *o, const char *node_id, const struct locust_report *r);

/* 1 when every message since init/reset was encoded whole. */
int locust_out_ok(const struct locust_out *o);

#endif
