/*
 * locust_msg against frames Python's msgpack wrote as Locust 2.12.1's master
 * writes them (the seeds in tests/fuzz/corpus/locust_msg/), their edges (every
 * truncation, a byte too many, containers declaring more items than the frame holds,
 * Locust 1.x's spawn), and the worker's own
 * messages decoded back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "locust_msg.h"

static size_t seed(const char *name, unsigned char *buf, size_t cap)
{
	char path[256];
	FILE *f;
	size_t n;
	snprintf(path, sizeof path, "tests/fuzz/corpus/locust_msg/%s", name);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

static void spawn_as_locust_sends_it(void **state)
{
	unsigned char buf[1024];
	size_t n = seed("spawn", buf, sizeof buf);
	struct locust_msg m;
	struct locust_spawn job;
	char why[300];
	(void)state;

	assert_int_equal(locust_msg_decode(&m, buf, n, why, sizeof why), 0);
	assert_string_equal(m.type, "spawn");
	assert_string_equal(m.node_id, "vm_0123");
	assert_int_equal(locust_msg_spawn(&m, &job, why, sizeof why), 0);
	assert_true(job.timestamp == 1764605000.25);
	assert_string_equal(job.host, "http://127.0.0.1:8002");
	assert_int_equal(job.n_classes, 2);
	assert_string_equal(job.cls[0].name, "AsyncConcurrentUser");
	assert_int_equal(job.cls[0].count, 3);
	assert_string_equal(job.cls[1].name, "SyncBaselineUser");
	assert_int_equal(job.cls[1].count, 0);
	locust_msg_release(&m);
}

static void every_truncation_and_a_byte_too_many_are_refused(void **state)
{
	unsigned char buf[1024];
	size_t n = seed("spawn", buf, sizeof buf - 1);
	struct locust_msg m;
	char why[300];
	(void)state;

	for (size_t k = 0; k < n; k++) {
		why[0] = '\0';
		assert_int_equal(locust_msg_decode(&m, buf, k, why, sizeof why), -1);
		assert_true(why[0] != '\0');
		locust_msg_release(&m);
	}
	buf[n] = 0xc0; /* nil: a second object after the message (Locust: ExtraData) */
	assert_int_equal(locust_msg_decode(&m, buf, n + 1, why, sizeof why), -1);
	assert_non_null(strstr(why, "extra"));
	locust_msg_release(&m);
}

static void ack_index_and_an_older_masters_spawn(void **state)
{
	unsigned char buf[1024];
	size_t n = seed("ack", buf, sizeof buf);
	struct locust_msg m;
	struct locust_spawn job;
	char why[300];
	(void)state;

	assert_int_equal(locust_msg_decode(&m, buf, n, why, sizeof why), 0);
	assert_string_equal(m.type, "ack");
	assert_int_equal(locust_msg_ack_index(&m), 4);
	locust_msg_release(&m);

	n = seed("spawn_1x", buf, sizeof buf);
	assert_int_equal(locust_msg_decode(&m, buf, n, why, sizeof why), 0);
	assert_int_equal(locust_msg_spawn(&m, &job, why, sizeof why), -2);
	assert_non_null(strstr(why, "Locust 2.x"));
	locust_msg_release(&m);

	n = seed("stop", buf, sizeof buf);
	assert_int_equal(locust_msg_decode(&m, buf, n, why, sizeof why), 0);
	assert_string_equal(m.type, "stop");
	assert_int_equal(m.data.type, MSGPACK_OBJECT_NIL);
	assert_int_equal(locust_msg_spawn(&m, &job, why, sizeof why), -1);
	assert_int_equal(locust_msg_ack_index(&m), -1);
	locust_msg_release(&m);
}

static void wrong_shapes_are_refused(void **state)
{
	/* fixarray of 2; a 3-array whose type is an int; a 3-array with an empty type */
	static const unsigned char two[] = { 0x92, 0xa3, 'a', 'c', 'k', 0xc0 };
	static const unsigned char int_type[] = { 0x93, 0x01, 0xc0, 0xa1, 'x' };
	static const unsigned char empty[] = { 0x93, 0xa0, 0xc0, 0xa1, 'x' };
	static const unsigned char huge[] = { 0xdd, 0xff, 0xff, 0xff, 0xff };
	static const unsigned char huge_map[] = { 0x93, 0xa1, 'x', 0xdf, 0x10, 0, 0, 0, 0xa0 };
	struct locust_msg m;
	char why[300];
	(void)state;

	assert_int_equal(locust_msg_decode(&m, two, sizeof two, why, sizeof why), -1);
	locust_msg_release(&m);
	assert_int_equal(locust_msg_decode(&m, int_type, sizeof int_type, why, sizeof why), -1);
	locust_msg_release(&m);
	assert_int_equal(locust_msg_decode(&m, empty, sizeof empty, why, sizeof why), -1);
	locust_msg_release(&m);
	/* found by the fuzzer: msgpack-c would allocate 2^32 items (128 GB) for 5 bytes */
	assert_int_equal(locust_msg_decode(&m, huge, sizeof huge, why, sizeof why), -1);
	assert_non_null(strstr(why, "declares more items"));
	locust_msg_release(&m);
	assert_int_equal(locust_msg_decode(&m, huge_map, sizeof huge_map, why, sizeof why), -1);
	locust_msg_release(&m);
}

/* The value under key of a decoded map, or NULL. */
static const msgpack_object *get(const msgpack_object *map, const char *key)
{
	for (uint32_t i = 0; map->type == MSGPACK_OBJECT_MAP && i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
		    memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

static void stats_report_decodes_with_rounded_keys(void **state)
{
	static struct locust_buckets lb;
	struct locust_out o;
	struct locust_entry e = { .method = "GET", .name = "/x", .reqs = 3, .fails = 1,
				  .sum_ms = 1234.5, .min_ms = 4.4, .max_ms = 1000.4,
				  .content_bytes = 99, .start_time = 1e9, .last_request = 1e9 + 2,
				  .lb = &lb, .n_sec = 1 };
	struct locust_error err = { "GET", "/x", "HTTPError('500 Server Error')", 1 };
	struct locust_classes cls = { 1, { "AsyncConcurrentUser" }, { 3 } };
	struct locust_report r = { &e, 1, &e, &err, 1, &cls };
	struct locust_msg m;
	const msgpack_object *stats, *rt, *errors;
	char why[300], key[65];
	(void)state;

	e.per_sec[0].sec = 1000000001;
	e.per_sec[0].reqs = 3;
	e.per_sec[0].fails = 1;
	locust_buckets_add(&lb, 4.4, 1);    /* 4 */
	locust_buckets_add(&lb, 229.7, 1);  /* 230 */
	locust_buckets_add(&lb, 1000.4, 1); /* 1000 */
	locust_out_init(&o);
	locust_msg_stats(&o, "me", &r);
	assert_true(locust_out_ok(&o));
	assert_int_equal(locust_msg_decode(&m, o.sb.data, o.sb.size, why, sizeof why), 0);
	assert_string_equal(m.type, "stats");
	assert_string_equal(m.node_id, "me");
	stats = get(&m.data, "stats");
	assert_non_null(stats);
	assert_int_equal(stats->type, MSGPACK_OBJECT_ARRAY);
	assert_int_equal(stats->via.array.size, 1);
	rt = get(&stats->via.array.ptr[0], "response_times");
	assert_non_null(rt);
	assert_int_equal(rt->via.map.size, 3);
	assert_int_equal(rt->via.map.ptr[0].key.via.u64, 4);
	assert_int_equal(rt->via.map.ptr[1].key.via.u64, 230);
	assert_int_equal(rt->via.map.ptr[2].key.via.u64, 1000);
	assert_int_equal(get(&stats->via.array.ptr[0], "num_requests")->via.u64, 3);
	assert_int_equal(get(&stats->via.array.ptr[0], "num_fail_per_sec")->via.map.size, 1);
	assert_non_null(get(&m.data, "stats_total"));
	assert_int_equal(get(&m.data, "user_count")->via.u64, 3);
	/* errors keyed as Locust keys them */
	errors = get(&m.data, "errors");
	assert_int_equal(errors->via.map.size, 1);
	locust_error_key(&err, key);
	assert_int_equal(errors->via.map.ptr[0].key.via.str.size, 64);
	assert_memory_equal(errors->via.map.ptr[0].key.via.str.ptr, key, 64);
	locust_msg_release(&m);

	locust_out_reset(&o);
	locust_msg_heartbeat(&o, "me", "running", 12.5, 4096);
	assert_int_equal(locust_msg_decode(&m, o.sb.data, o.sb.size, why, sizeof why), 0);
	assert_string_equal(m.type, "heartbeat");
	assert_true(get(&m.data, "current_cpu_usage")->via.f64 == 12.5);
	locust_msg_release(&m);
	locust_out_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_as_locust_sends_it),
		cmocka_unit_test(every_truncation_and_a_byte_too_many_are_refused),
		cmocka_unit_test(ack_index_and_an_older_masters_spawn),
		cmocka_unit_test(wrong_shapes_are_refused),
		cmocka_unit_test(stats_report_decodes_with_rounded_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
