#include "locust_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------- decoding */

static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, cap, fmt, ap);
	va_end(ap);
	return -1;
}

/* A msgpack str into buf (NUL-terminated); -1 when it is not a str or too long. */
static int str_copy(const msgpack_object *o, char *buf, size_t cap)
{
	if (o->type != MSGPACK_OBJECT_STR || o->via.str.size >= cap)
		return -1;
	memcpy(buf, o->via.str.ptr, o->via.str.size);
	buf[o->via.str.size] = '\0';
	return 0;
}

static int str_is(const msgpack_object *o, const char *s)
{
	size_t n = strlen(s);
	return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n &&
	       memcmp(o->via.str.ptr, s, n) == 0;
}

/* The value under string key `key` of map m, or NULL. */
static const msgpack_object *map_get(const msgpack_object *m, const char *key)
{
	if (m->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < m->via.map.size; i++)
		if (str_is(&m->via.map.ptr[i].key, key))
			return &m->via.map.ptr[i].val;
	return NULL;
}

/* An int or a float (Python sends either for a number) as a double. */
static int number(const msgpack_object *o, double *out)
{
	switch (o->type) {
	case MSGPACK_OBJECT_POSITIVE_INTEGER: *out = (double)o->via.u64; return 0;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER: *out = (double)o->via.i64; return 0;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: *out = o->via.f64; return 0;
	default: return -1;
	}
}

static uint64_t be(const unsigned char *p, int n)
{
	uint64_t v = 0;
	while (n-- > 0)
		v = v << 8 | *p++;
	return v;
}

/*
 * msgpack-c allocates what a container's header declares before reading it, so a
 * 5-byte "array of 2^32 items" would ask for 128 GB. Every item takes at least one
 * byte, so a frame that declares more items than it has bytes left is refused here,
 * in one pass that allocates nothing: `need` counts the items still to be read.
 */
/* 0 plausible (or truncated: msgpack says so), -1 over-declared, -2 byte 0xc1 */
static int plausible(const unsigned char *p, size_t len)
{
	static const unsigned char fixed[32] = { /* 0xc0..0xdf: bytes after the type byte */
		0, 0, 0, 0, 1, 2, 4, 2, 3, 5, 4, 8, 1, 2, 4, 8,
		1, 2, 4, 8, 2, 3, 5, 9, 17, 1, 2, 4, 2, 4, 2, 4 };
	size_t i = 0;
	uint64_t need = 1;

	while (need > 0) {
		unsigned c;
		uint64_t items = 0, skip = 0;
		if (i >= len)
			return 0; /* truncated: msgpack says so itself */
		c = p[i++];
		need--;
		if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
			continue;
		if (c == 0xc1)
			return -2; /* never used by msgpack */
		if (c >= 0x80 && c <= 0x8f)
			items = 2 * (uint64_t)(c & 0x0f);
		else if (c >= 0x90 && c <= 0x9f)
			items = c & 0x0f;
		else if (c >= 0xa0 && c <= 0xbf)
			skip = c & 0x1f;
		else {
			unsigned n = fixed[c - 0xc0];
			if (len - i < n)
				return 0;
			switch (c) {
			case 0xc4: case 0xd9: skip = be(p + i, 1); break;       /* bin8, str8 */
			case 0xc5: case 0xda: skip = be(p + i, 2); break;       /* bin16, str16 */
			case 0xc6: case 0xdb: skip = be(p + i, 4); break;       /* bin32, str32 */
			case 0xc7: skip = be(p + i, 1); break;                  /* ext8 (+type) */
			case 0xc8: skip = be(p + i, 2); break;
			case 0xc9: skip = be(p + i, 4); break;
			case 0xdc: items = be(p + i, 2); break;                 /* array16/32 */
			case 0xdd: items = be(p + i, 4); break;
			case 0xde: items = 2 * be(p + i, 2); break;             /* map16/32 */
			case 0xdf: items = 2 * be(p + i, 4); break;
			default: break;                                         /* numbers, fixext */
			}
			i += n;
		}
		if (skip > len - i)
			return 0;
		i += skip;
		need += items;
		if (need > len - i)
			return -1;
	}
	return 0;
}

int locust_msg_decode(struct locust_msg *m, const void *frame, size_t len, char *why, size_t cap)
{
	size_t off = 0;
	const msgpack_object *a;
	msgpack_unpack_return ret;

	msgpack_unpacked_init(&m->up);
	m->type[0] = m->node_id[0] = '\0';
	switch (plausible(frame, len)) {
	case -1: return fail(why, cap, "a container declares more items than the %zu bytes hold", len);
	case -2: return fail(why, cap, "not msgpack (byte 0xc1)");
	}
	ret = msgpack_unpack_next(&m->up, frame, len, &off);
	if (ret == MSGPACK_UNPACK_CONTINUE)
		return fail(why, cap, "truncated msgpack (%zu bytes)", len);
	if (ret != MSGPACK_UNPACK_SUCCESS)
		return fail(why, cap, "not msgpack (%zu bytes)", len);
	if (off != len)
		return fail(why, cap, "%zu extra bytes after the message", len - off);
	a = &m->up.data;
	if (a->type != MSGPACK_OBJECT_ARRAY || a->via.array.size != 3)
		return fail(why, cap, "not a [type, data, node_id] array");
	if (a->via.array.ptr[0].type != MSGPACK_OBJECT_STR)
		return fail(why, cap, "message type is not a string");
	/* a type too long to be one of Locust's is kept cut, and stays unknown */
	snprintf(m->type, sizeof m->type, "%.*s",
		 (int)(a->via.array.ptr[0].via.str.size < sizeof m->type ?
		       a->via.array.ptr[0].via.str.size : sizeof m->type - 1),
		 a->via.array.ptr[0].via.str.ptr);
	if (m->type[0] == '\0')
		return fail(why, cap, "empty message type");
	if (str_copy(&a->via.array.ptr[2], m->node_id, sizeof m->node_id) < 0 &&
	    a->via.array.ptr[2].type != MSGPACK_OBJECT_NIL)
		return fail(why, cap, "node_id is not a string");
	m->data = a->via.array.ptr[1];
	return 0;
}

void locust_msg_release(struct locust_msg *m)
{
	msgpack_unpacked_destroy(&m->up);
	msgpack_unpacked_init(&m->up);
}

int locust_msg_spawn(const struct locust_msg *m, struct locust_spawn *s, char *why, size_t cap)
{
	const msgpack_object *ts, *host, *ucc;

	memset(s, 0, sizeof *s);
	if (m->data.type != MSGPACK_OBJECT_MAP)
		return fail(why, cap, "spawn without a map of data");
	ucc = map_get(&m->data, "user_classes_count");
	if (ucc == NULL) {
		if (map_get(&m->data, "num_users") != NULL || map_get(&m->data, "num_clients") != NULL) {
			fail(why, cap, "the master speaks an older Locust protocol (spawn with num_users, "
			     "Locust 1.x); bin/load --worker needs a Locust 2.x master");
			return -2;
		}
		return fail(why, cap, "spawn without user_classes_count");
	}
	if (ucc->type != MSGPACK_OBJECT_MAP)
		return fail(why, cap, "user_classes_count is not a map");
	ts = map_get(&m->data, "timestamp");
	if (ts == NULL || number(ts, &s->timestamp) < 0)
		return fail(why, cap, "spawn without a numeric timestamp");
	host = map_get(&m->data, "host");
	if (host != NULL && host->type != MSGPACK_OBJECT_NIL &&
	    str_copy(host, s->host, sizeof s->host) < 0)
		return fail(why, cap, "spawn host is not a string of under %zu bytes", sizeof s->host);
	if (ucc->via.map.size > LOCUST_MSG_MAX_CLASSES)
		return fail(why, cap, "spawn names %u user classes (at most %d)",
			    ucc->via.map.size, LOCUST_MSG_MAX_CLASSES);
	for (uint32_t i = 0; i < ucc->via.map.size; i++) {
		const msgpack_object_kv *kv = &ucc->via.map.ptr[i];
		if (str_copy(&kv->key, s->cls[i].name, sizeof s->cls[i].name) < 0)
			return fail(why, cap, "a user class name is not a string of under %zu bytes",
				    sizeof s->cls[i].name);
		if (kv->val.type != MSGPACK_OBJECT_POSITIVE_INTEGER || kv->val.via.u64 > 100000000)
			return fail(why, cap, "user class %s: count is not an integer from 0 to 1e8",
				    s->cls[i].name);
		s->cls[i].count = (long)kv->val.via.u64;
	}
	s->n_classes = (int)ucc->via.map.size;
	return 0;
}

long locust_msg_ack_index(const struct locust_msg *m)
{
	const msgpack_object *i = map_get(&m->data, "index");
	if (i == NULL || i->type != MSGPACK_OBJECT_POSITIVE_INTEGER || i->via.u64 > 1000000000)
		return -1;
	return (long)i->via.u64;
}

/* ------------------------------------------------------------- encoding */

static int out_write(void *data, const char *buf, size_t len)
{
	struct locust_out *o = data;
	if (msgpack_sbuffer_write(&o->sb, buf, len) != 0) {
		o->failed = 1;
		return -1;
	}
	return 0;
}

void locust_out_init(struct locust_out *o)
{
	msgpack_sbuffer_init(&o->sb);
	msgpack_packer_init(&o->pk, o, out_write);
	o->failed = 0;
}

void locust_out_reset(struct locust_out *o)
{
	msgpack_sbuffer_clear(&o->sb);
	o->failed = 0;
}

void locust_out_free(struct locust_out *o)
{
	msgpack_sbuffer_destroy(&o->sb);
}

int locust_out_ok(const struct locust_out *o)
{
	return !o->failed;
}

static void str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static void head(struct locust_out *o, const char *type)
{
	msgpack_pack_array(&o->pk, 3);
	str(&o->pk, type);
}

void locust_msg_plain(struct locust_out *o, const char *type, const char *node_id)
{
	head(o, type);
	msgpack_pack_nil(&o->pk);
	str(&o->pk, node_id);
}

void locust_msg_client_ready(struct locust_out *o, const char *node_id)
{
	head(o, "client_ready");
	str(&o->pk, LOCUST_MSG_VERSION);
	str(&o->pk, node_id);
}

void locust_msg_heartbeat(struct locust_out *o, const char *node_id, const char *state,
			  double cpu_percent, uint64_t rss_bytes)
{
	head(o, "heartbeat");
	msgpack_pack_map(&o->pk, 3);
	str(&o->pk, "state");
	str(&o->pk, state);
	str(&o->pk, "current_cpu_usage");
	msgpack_pack_double(&o->pk, cpu_percent);
	str(&o->pk, "current_memory_usage");
	msgpack_pack_uint64(&o->pk, rss_bytes);
	str(&o->pk, node_id);
}

void locust_msg_exception(struct locust_out *o, const char *node_id, const char *msg,
			  const char *traceback)
{
	head(o, "exception");
	msgpack_pack_map(&o->pk, 2);
	str(&o->pk, "msg");
	str(&o->pk, msg);
	str(&o->pk, "traceback");
	str(&o->pk, traceback);
	str(&o->pk, node_id);
}

static void classes(msgpack_packer *pk, const struct locust_classes *c)
{
	long total = 0;
	str(pk, "user_classes_count");
	msgpack_pack_map(pk, (size_t)c->n);
	for (int i = 0; i < c->n; i++) {
		str(pk, c->name[i]);
		msgpack_pack_int64(pk, c->count[i]);
		total += c->count[i];
	}
	str(pk, "user_count");
	msgpack_pack_int64(pk, total);
}

void locust_msg_spawning_complete(struct locust_out *o, const char *node_id,
				  const struct locust_classes *c)
{
	head(o, "spawning_complete");
	msgpack_pack_map(&o->pk, 2);
	classes(&o->pk, c);
	str(&o->pk, node_id);
}

/* A StatsEntryDict, its keys in Locust's order. */
static void entry(msgpack_packer *pk, const struct locust_entry *e)
{
	size_t n = 0;

	msgpack_pack_map(pk, 14);
	str(pk, "name");
	str(pk, e->name);
	str(pk, "method");
	str(pk, e->method);
	str(pk, "last_request_timestamp");
	if (e->last_request > 0)
		msgpack_pack_double(pk, e->last_request);
	else
		msgpack_pack_nil(pk);
	str(pk, "start_time");
	msgpack_pack_double(pk, e->start_time);
	str(pk, "num_requests");
	msgpack_pack_uint64(pk, e->reqs);
	str(pk, "num_none_requests");
	msgpack_pack_uint64(pk, 0);
	str(pk, "num_failures");
	msgpack_pack_uint64(pk, e->fails);
	/* floats, as HttpUser's response times are: the master's sums stay exact */
	str(pk, "total_response_time");
	msgpack_pack_double(pk, e->sum_ms);
	str(pk, "max_response_time");
	msgpack_pack_double(pk, e->reqs ? e->max_ms : 0.0);
	str(pk, "min_response_time");
	if (e->reqs)
		msgpack_pack_double(pk, e->min_ms);
	else
		msgpack_pack_nil(pk);
	str(pk, "total_content_length");
	msgpack_pack_uint64(pk, e->content_bytes);
	/* {rounded ms: count}: the buckets already hold Locust's rounding */
	str(pk, "response_times");
	for (int i = 0; i < LOCUST_BUCKETS; i++)
		n += e->lb->count[i] != 0;
	msgpack_pack_map(pk, n);
	for (int i = 0; i < LOCUST_BUCKETS; i++)
		if (e->lb->count[i] != 0) {
			msgpack_pack_int64(pk, locust_bucket_value(i));
			msgpack_pack_uint64(pk, e->lb->count[i]);
		}
	str(pk, "num_reqs_per_sec");
	msgpack_pack_map(pk, (size_t)e->n_sec);
	for (int i = 0; i < e->n_sec; i++) {
		msgpack_pack_int64(pk, e->per_sec[i].sec);
		msgpack_pack_uint64(pk, e->per_sec[i].reqs);
	}
	str(pk, "num_fail_per_sec");
	n = 0;
	for (int i = 0; i < e->n_sec; i++)
		n += e->per_sec[i].fails != 0;
	msgpack_pack_map(pk, n);
	for (int i = 0; i < e->n_sec; i++)
		if (e->per_sec[i].fails != 0) {
			msgpack_pack_int64(pk, e->per_sec[i].sec);
			msgpack_pack_uint64(pk, e->per_sec[i].fails);
		}
}

void locust_msg_stats(struct locust_out *o, const char *node_id, const struct locust_report *r)
{
	msgpack_packer *pk = &o->pk;

	head(o, "stats");
	msgpack_pack_map(pk, 5);
	str(pk, "stats");
	msgpack_pack_array(pk, (size_t)r->n_entries);
	for (int i = 0; i < r->n_entries; i++)
		entry(pk, &r->entries[i]);
	str(pk, "stats_total");
	entry(pk, r->total);
	/* {key: StatsErrorDict}: the master merges groups by this key */
	str(pk, "errors");
	msgpack_pack_map(pk, (size_t)r->n_errors);
	for (int i = 0; i < r->n_errors; i++) {
		const struct locust_error *e = &r->errors[i];
		char key[65];
		locust_error_key(e, key);
		str(pk, key);
		msgpack_pack_map(pk, 4);
		str(pk, "name");
		str(pk, e->name);
		str(pk, "method");
		str(pk, e->method);
		str(pk, "error");
		str(pk, e->error);
		str(pk, "occurrences");
		msgpack_pack_uint64(pk, e->occurrences);
	}
	classes(pk, r->classes);
	str(pk, node_id);
}
