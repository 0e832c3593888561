/* Locust's rounding, percentile and median rules against cases computed by hand,
 * and its console and CSV layouts byte for byte against lines real Locust 2.12.1
 * printed and wrote (python3-locust, HttpUser against a local server). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "locust.h"

static struct locust_buckets *buckets_new(void)
{
	struct locust_buckets *b = calloc(1, sizeof *b);
	assert_non_null(b);
	return b;
}

/* Runs a writer into memory and returns what it wrote (caller frees). */
#define CAPTURE(out, call)                                              \
	do {                                                            \
		size_t capture_len;                                     \
		FILE *f = open_memstream(&(out), &capture_len);         \
		assert_non_null(f);                                     \
		call;                                                   \
		fclose(f);                                              \
	} while (0)

static void rounding_keeps_two_significant_digits(void **state)
{
	(void)state;
	assert_int_equal(locust_round_ms(0.4), 0);
	assert_int_equal(locust_round_ms(0.5), 0);  /* tie to even */
	assert_int_equal(locust_round_ms(1.5), 2);
	assert_int_equal(locust_round_ms(2.5), 2);
	assert_int_equal(locust_round_ms(99.4), 99);
	assert_int_equal(locust_round_ms(99.5), 100);
	assert_int_equal(locust_round_ms(147), 150);
	assert_int_equal(locust_round_ms(145), 140); /* 14.5 -> 14 */
	assert_int_equal(locust_round_ms(155), 160); /* 15.5 -> 16 */
	assert_int_equal(locust_round_ms(999.6), 1000);
	assert_int_equal(locust_round_ms(3432), 3400);
	assert_int_equal(locust_round_ms(2450), 2400);
	assert_int_equal(locust_round_ms(58760), 59000);
	assert_int_equal(locust_round_ms(12500), 12000);
	assert_int_equal(locust_round_ms(15000.2), 15000);
}

static void bucket_indices_round_trip(void **state)
{
	(void)state;
	for (int i = 0; i < LOCUST_BUCKETS; i++)
		assert_int_equal(locust_bucket_index(locust_bucket_value(i)), i);
	assert_int_equal(locust_bucket_value(99), 99);
	assert_int_equal(locust_bucket_value(100), 100);
	assert_int_equal(locust_bucket_value(189), 990);
	assert_int_equal(locust_bucket_value(190), 1000);
	assert_int_equal(locust_bucket_value(280), 10000);
	assert_int_equal(locust_bucket_value(LOCUST_BUCKETS - 1), LOCUST_BUCKET_MAX_MS);
	/* slower than an hour counts in the top bucket */
	assert_int_equal(locust_bucket_index(9000000), LOCUST_BUCKETS - 1);
}

static void percentiles_take_index_floor_n_p(void **state)
{
	struct locust_buckets *b = buckets_new();
	(void)state;
	assert_int_equal(locust_buckets_percentile(b, 0.5), 0);
	assert_int_equal(locust_buckets_median(b), 0);
	for (int v = 1; v <= 10; v++)
		locust_buckets_add(b, v, 1);
	/* N = 10: index floor(10p), at most 9; sorted values 1..10 */
	assert_int_equal(locust_buckets_percentile(b, 0.50), 6);
	assert_int_equal(locust_buckets_percentile(b, 0.66), 7);
	assert_int_equal(locust_buckets_percentile(b, 0.75), 8);
	assert_int_equal(locust_buckets_percentile(b, 0.95), 10);
	assert_int_equal(locust_buckets_percentile(b, 0.99), 10);
	assert_int_equal(locust_buckets_percentile(b, 1.0), 10);
	/* median: index floor((N-1)/2) = 4 */
	assert_int_equal(locust_buckets_median(b), 5);
	locust_buckets_add(b, 11, 1);
	/* N = 11: median index 5, p50 index 5, p66 index 7 */
	assert_int_equal(locust_buckets_median(b), 6);
	assert_int_equal(locust_buckets_percentile(b, 0.66), 8);
	free(b);
}

static void percentiles_read_buckets_not_raw_values(void **state)
{
	struct locust_buckets *b = buckets_new(), *c = buckets_new(), *d = buckets_new();
	(void)state;
	locust_buckets_add(b, 144.9, 3);  /* 140 */
	locust_buckets_add(b, 1234, 1);   /* 1200 */
	locust_buckets_add(c, 56789, 1);  /* 57000 */
	locust_buckets_merge(b, c);
	assert_int_equal(b->total, 5);
	assert_int_equal(locust_buckets_percentile(b, 0.5), 140);
	assert_int_equal(locust_buckets_percentile(b, 0.8), 57000);
	assert_int_equal(locust_buckets_percentile(b, 0.75), 1200);
	locust_buckets_diff(d, b, c);
	assert_int_equal(d->total, 4);
	assert_int_equal(locust_buckets_percentile(d, 1.0), 1200);
	free(b);
	free(c);
	free(d);
}

static void median_is_clamped_into_min_max(void **state)
{
	struct locust_buckets *b = buckets_new();
	struct locust_row r = { .reqs = 1, .sum_ms = 2.7, .min_ms = 2.7, .max_ms = 2.7 };
	char *out = NULL;
	(void)state;
	locust_buckets_add(b, 2.7, 1);
	locust_row_fill(&r, b);
	assert_true(r.median == 2.7);    /* bucket 3 is above max */
	assert_int_equal(r.median_is_int, 0);
	assert_int_equal(r.pct[0], 3);
	strcpy(r.method, "GET");
	strcpy(r.name, "/x");
	r.rps = 0.5;
	CAPTURE(out, locust_csv_stats_row(f, &r));
	assert_string_equal(out, "GET,/x,1,0,2.7,2.7,2.7,2.7,0.0,0.5,0.0,3,3,3,3,3,3,3,3,3,3,3\r\n");
	free(out);

	memset(b, 0, sizeof *b);
	locust_buckets_add(b, 150.2, 2);
	r = (struct locust_row){ .reqs = 2, .sum_ms = 300.4, .min_ms = 150.2, .max_ms = 150.2 };
	locust_row_fill(&r, b);
	assert_true(r.median == 150.2); /* bucket 150 is below min */
	assert_int_equal(r.median_is_int, 0);
	free(b);
}

static void repr_float_is_pythons(void **state)
{
	static const struct { double x; const char *s; } cases[] = {
		{ 0.0, "0.0" }, { 2.0, "2.0" }, { 544.0, "544.0" }, { -2.5, "-2.5" },
		{ 0.1, "0.1" }, { 0.1 + 0.2, "0.30000000000000004" }, { 1.0 / 3, "0.3333333333333333" },
		{ 0.3449509999882139, "0.3449509999882139" },
		{ 2091.6018066304696, "2091.6018066304696" },
		{ 386.79388942774005, "386.79388942774005" },
		{ 1e16, "1e+16" }, { 1e15, "1000000000000000.0" }, { 1e-5, "1e-05" },
		{ 1.5e-7, "1.5e-07" }, { 0.0001, "0.0001" }, { 123456789012345680.0, "1.2345678901234568e+17" },
		{ 5e-324, "5e-324" }, { 1.7976931348623157e308, "1.7976931348623157e+308" },
	};
	char buf[64];
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		locust_repr_float(buf, sizeof buf, cases[i].x);
		assert_string_equal(buf, cases[i].s);
	}
}

static void repr_str_quotes_as_python(void **state)
{
	char buf[128];
	(void)state;
	locust_repr_str(buf, sizeof buf, "Connection refused");
	assert_string_equal(buf, "'Connection refused'");
	locust_repr_str(buf, sizeof buf, "host='h'");
	assert_string_equal(buf, "\"host='h'\"");
	locust_repr_str(buf, sizeof buf, "a'b\"c\\\r\n");
	assert_string_equal(buf, "'a\\'b\"c\\\\\\r\\n'");
	/* truncation keeps the buffer a string and reports the full length */
	assert_int_equal(locust_repr_str(buf, 4, "abcdef"), 8);
	assert_string_equal(buf, "'ab");
}

static void csv_headers_are_locusts(void **state)
{
	char *out = NULL;
	(void)state;
	CAPTURE(out, locust_csv_stats_header(f));
	assert_string_equal(out,
		"Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
		"Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
		"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\r\n");
	free(out);
	CAPTURE(out, locust_csv_history_header(f));
	assert_string_equal(out,
		"Timestamp,User Count,Type,Name,Requests/s,Failures/s,"
		"50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,"
		"Total Request Count,Total Failure Count,Total Median Response Time,"
		"Total Average Response Time,Total Min Response Time,Total Max Response Time,"
		"Total Average Content Size\r\n");
	free(out);
	CAPTURE(out, locust_csv_failures_header(f));
	assert_string_equal(out, "Method,Name,Error,Occurrences\r\n");
	free(out);
	CAPTURE(out, locust_csv_exceptions_header(f));
	assert_string_equal(out, "Count,Message,Traceback,Nodes\r\n");
	free(out);
}

static void csv_rows_match_locusts(void **state)
{
	struct locust_buckets *b = buckets_new();
	struct locust_row r = { .method = "", .name = "Aggregated" };
	struct locust_error e = { "GET", "/x", "ConnectionRefusedError(111, 'Connection refused')", 4184 };
	char *out = NULL;
	(void)state;
	/* an empty run, as Locust's first history line */
	locust_row_fill(&r, b);
	CAPTURE(out, locust_csv_history_row(f, 1795619892, 0, &r, 0, 0, r.pct));
	assert_string_equal(out, "1795619892,0,,Aggregated,0.000000,0.000000,"
		"N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0\r\n");
	free(out);
	CAPTURE(out, locust_csv_stats_row(f, &r));
	assert_string_equal(out, ",Aggregated,0,0,0,0.0,0,0,0,0.0,0.0,"
		"N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A\r\n");
	free(out);
	CAPTURE(out, locust_csv_failures_row(f, &e));
	assert_string_equal(out, "GET,/x,\"ConnectionRefusedError(111, 'Connection refused')\",4184\r\n");
	free(out);

	/* integer median below 100, float averages */
	r = (struct locust_row){ .method = "GET", .name = "/", .reqs = 4, .fails = 1,
		.sum_ms = 10.0, .min_ms = 1.25, .max_ms = 4.5, .content_bytes = 2176, .rps = 2, .fps = 0.5 };
	locust_buckets_add(b, 1.25, 1);
	locust_buckets_add(b, 2.0, 1);
	locust_buckets_add(b, 2.25, 1);
	locust_buckets_add(b, 4.5, 1);
	locust_row_fill(&r, b);
	CAPTURE(out, locust_csv_stats_row(f, &r));
	assert_string_equal(out, "GET,/,4,1,2,2.5,1.25,4.5,544.0,2.0,0.5,2,2,4,4,4,4,4,4,4,4,4\r\n");
	free(out);
	CAPTURE(out, locust_csv_history_row(f, 1700000000, 3, &r, 1.5, 0.25, r.pct));
	assert_string_equal(out, "1700000000,3,GET,/,1.500000,0.250000,2,2,4,4,4,4,4,4,4,4,4,"
		"4,1,2,2.5,1.25,4.5,544.0\r\n");
	free(out);
	free(b);
}

static const char *const locust_lines[] = {
	"Type     Name                                                                          # reqs      # fails |    Avg     Min     Max    Med |   req/s  failures/s\n",
	"--------|----------------------------------------------------------------------------|-------|-------------|-------|-------|-------|-------|--------|-----------\n",
	"GET      /x                                                                              4902 4902(100.00%) |      2       1      22      2 |  834.30      834.30\n",
	"--------|----------------------------------------------------------------------------|-------|-------------|-------|-------|-------|-------|--------|-----------\n",
	"         Aggregated                                                                      9719 7310(75.21%) |      2       1      22      2 | 1654.14     1244.14\n",
	"\n",
};

static const char *const locust_pct_lines[] = {
	"Response time percentiles (approximated)\n",
	"Type     Name                                                                                  50%    66%    75%    80%    90%    95%    98%    99%  99.9% 99.99%   100% # reqs\n",
	"--------|--------------------------------------------------------------------------------|--------|------|------|------|------|------|------|------|------|------|------|------\n",
	"GET      /x                                                                                      2      2      2      3      3      3      3      4      8     22     22   4902\n",
	"--------|--------------------------------------------------------------------------------|--------|------|------|------|------|------|------|------|------|------|------|------\n",
	"         Aggregated                                                                              2      2      3      3      3      3      4      4     11     22     22   9719\n",
	"\n",
};

static const char *const locust_error_lines[] = {
	"Error report\n",
	"# occurrences      Error                                                                                               \n",
	"------------------|---------------------------------------------------------------------------------------------------------------------------------------------\n",
	"4902               GET /x: HTTPError('404 Client Error: File not found for url: http://127.0.0.1:18777/x')             \n",
	"------------------|---------------------------------------------------------------------------------------------------------------------------------------------\n",
	"\n",
};

static char *join(const char *const *lines, size_t n)
{
	size_t len = 1;
	char *s;
	for (size_t i = 0; i < n; i++)
		len += strlen(lines[i]);
	s = calloc(1, len);
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		strcat(s, lines[i]);
	return s;
}

static void console_tables_match_locusts(void **state)
{
	struct locust_row x = { .method = "GET", .name = "/x", .reqs = 4902, .fails = 4902,
		.sum_ms = 4902 * 2.31, .min_ms = 1.05, .max_ms = 22.35, .median = 2,
		.rps = 834.30, .fps = 834.30,
		.pct = { 2, 2, 2, 3, 3, 3, 3, 4, 8, 22, 22 } };
	struct locust_row total = { .method = "", .name = "Aggregated", .reqs = 9719, .fails = 7310,
		.sum_ms = 9719 * 2.35, .min_ms = 1.04, .max_ms = 22.35, .median = 2,
		.rps = 1654.14, .fps = 1244.14,
		.pct = { 2, 2, 3, 3, 3, 3, 4, 4, 11, 22, 22 } };
	struct locust_error e = { "GET", "/x",
		"HTTPError('404 Client Error: File not found for url: http://127.0.0.1:18777/x')", 4902 };
	char *out = NULL, *want;
	(void)state;

	CAPTURE(out, locust_print_stats(f, &x, 1, &total));
	want = join(locust_lines, sizeof locust_lines / sizeof locust_lines[0]);
	assert_string_equal(out, want);
	free(out);
	free(want);

	CAPTURE(out, locust_print_percentiles(f, &x, 1, &total));
	want = join(locust_pct_lines, sizeof locust_pct_lines / sizeof locust_pct_lines[0]);
	assert_string_equal(out, want);
	free(out);
	free(want);

	CAPTURE(out, locust_print_errors(f, &e, 1));
	want = join(locust_error_lines, sizeof locust_error_lines / sizeof locust_error_lines[0]);
	assert_string_equal(out, want);
	free(out);
	free(want);

	CAPTURE(out, locust_print_errors(f, &e, 0));
	assert_string_equal(out, "");
	free(out);
}

static void rows_sort_by_name_then_method(void **state)
{
	struct locust_row r[3] = {
		{ .method = "POST", .name = "/b" }, { .method = "GET", .name = "/b" },
		{ .method = "GET", .name = "/a" },
	};
	(void)state;
	locust_rows_sort(r, 3);
	assert_string_equal(r[0].name, "/a");
	assert_string_equal(r[1].method, "GET");
	assert_string_equal(r[2].method, "POST");
}

static void sha256_matches_known_digests(void **state)
{
	char hex[65], big[1000];
	(void)state;
	locust_sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	locust_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	/* 56 bytes: the padding needs a second block */
	locust_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	memset(big, 'a', sizeof big);
	locust_sha256_hex(big, sizeof big, hex);
	assert_string_equal(hex, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3");
}

static void failures_sort_by_locusts_key(void **state)
{
	/* digests computed with Python's hashlib on Locust's key */
	struct locust_error e[4] = {
		{ "GET", "/x", "ConnectionRefusedError(111, 'Connection refused')", 1 },     /* b77a... */
		{ "GET", "/x", "HTTPError('404 Client Error: Not Found for url: http://127.0.0.1:8002/x')", 2 }, /* 04fc... */
		{ "GET", "/a", "RemoteDisconnected('Remote end closed connection without response')", 3 }, /* d12a... */
		{ "GET", "/b", "x", 4 },                                                      /* 386a... */
	};
	(void)state;
	assert_int_equal(locust_errors_sort(e, 4), 0);
	assert_int_equal(e[0].occurrences, 2);
	assert_int_equal(e[1].occurrences, 4);
	assert_int_equal(e[2].occurrences, 1);
	assert_int_equal(e[3].occurrences, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rounding_keeps_two_significant_digits),
		cmocka_unit_test(bucket_indices_round_trip),
		cmocka_unit_test(percentiles_take_index_floor_n_p),
		cmocka_unit_test(percentiles_read_buckets_not_raw_values),
		cmocka_unit_test(median_is_clamped_into_min_max),
		cmocka_unit_test(repr_float_is_pythons),
		cmocka_unit_test(repr_str_quotes_as_python),
		cmocka_unit_test(csv_headers_are_locusts),
		cmocka_unit_test(csv_rows_match_locusts),
		cmocka_unit_test(console_tables_match_locusts),
		cmocka_unit_test(rows_sort_by_name_then_method),
		cmocka_unit_test(sha256_matches_known_digests),
		cmocka_unit_test(failures_sort_by_locusts_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
