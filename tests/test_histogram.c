/* load/histogram: bucket edges, the 0.1% error bound, percentiles against sorted
 * arrays, merge and diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>

#include "histogram.h"

static struct histogram *hist_new(void)
{
	struct histogram *h = malloc(sizeof *h);
	assert_non_null(h);
	histogram_reset(h);
	return h;
}

static void small_values_are_exact(void **state)
{
	(void)state;
	for (uint64_t v = 0; v < 2048; v++) {
		int i = histogram_index(v);
		assert_int_equal(histogram_lowest(i), v);
		assert_int_equal(histogram_highest(i), v);
	}
}

static void bucket_edges_are_contiguous(void **state)
{
	(void)state;
	assert_int_equal(histogram_index(2047), 2047);
	assert_int_equal(histogram_index(2048), 2048);
	assert_int_equal(histogram_index(2049), 2048); /* first band of width 2 */
	assert_int_equal(histogram_lowest(2048), 2048);
	assert_int_equal(histogram_highest(2048), 2049);
	assert_int_equal(histogram_index(4095), 3071);
	assert_int_equal(histogram_index(4096), 3072);
	assert_int_equal(histogram_highest(3072), 4099); /* width 4 */
	for (int i = 1; i < HISTOGRAM_BUCKETS; i++)
		assert_int_equal(histogram_lowest(i), histogram_highest(i - 1) + 1);
	assert_int_equal(histogram_index(HISTOGRAM_MAX_US), HISTOGRAM_BUCKETS - 1);
	assert_int_equal(histogram_index(UINT64_MAX), HISTOGRAM_BUCKETS - 1);
}

static void relative_error_is_below_a_thousandth(void **state)
{
	(void)state;
	for (uint64_t v = 1; v < HISTOGRAM_MAX_US; v = v * 3 / 2 + 7) {
		int i = histogram_index(v);
		assert_true(histogram_lowest(i) <= v && v <= histogram_highest(i));
		assert_true((double)(histogram_highest(i) - histogram_lowest(i)) <= (double)v / 1000.0);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void percentiles_match_a_sorted_array(void **state)
{
	enum { N = 10000 };
	static uint64_t v[N];
	static const double ps[] = { 0, 1, 50, 66, 90, 99, 99.9, 99.99, 100 };
	struct histogram *h = hist_new();
	uint64_t x = 88172645463325252ULL;
	(void)state;
	for (int i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i] = x % 5000000; /* up to 5 s */
		histogram_record(h, v[i]);
	}
	qsort(v, N, sizeof v[0], cmp_u64);
	for (size_t k = 0; k < sizeof ps / sizeof ps[0]; k++) {
		/* rank ceil(p N), at least 1: the same rule on the exact values */
		size_t rank = (size_t)(ps[k] / 100.0 * N + 0.999999);
		uint64_t want = v[(rank < 1 ? 1 : rank) - 1], got = histogram_percentile(h, ps[k]);
		assert_true(got >= want);
		assert_true((double)(got - want) <= (double)want / 1000.0 + 1);
	}
	assert_int_equal(histogram_percentile(h, 100), v[N - 1]);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[N - 1]);
	free(h);
}

static void empty_and_single(void **state)
{
	struct histogram *h = hist_new();
	(void)state;
	assert_int_equal(histogram_percentile(h, 50), 0);
	assert_true(histogram_mean(h) == 0.0);
	histogram_record(h, 123456);
	assert_int_equal(histogram_percentile(h, 0), 123456);
	assert_int_equal(histogram_percentile(h, 50), 123456); /* clamped to the exact max */
	assert_int_equal(histogram_percentile(h, 100), 123456);
	assert_true(histogram_mean(h) == 123456.0);
	free(h);
}

static void merge_equals_recording_into_one(void **state)
{
	struct histogram *a = hist_new(), *b = hist_new(), *all = hist_new(), *d = hist_new();
	(void)state;
	for (uint64_t v = 1; v < 100000; v += 37) {
		histogram_record(v % 2 ? a : b, v * 11);
		histogram_record(all, v * 11);
	}
	histogram_merge(a, b);
	assert_int_equal(a->total, all->total);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_true(a->sum == all->sum);
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++)
		assert_int_equal(a->count[i], all->count[i]);
	for (double p = 0; p <= 100; p += 12.5)
		assert_int_equal(histogram_percentile(a, p), histogram_percentile(all, p));
	histogram_diff(d, a, b);
	assert_int_equal(d->total, a->total - b->total);
	assert_int_equal(histogram_percentile(d, 100), histogram_percentile(a, 100));
	free(a);
	free(b);
	free(all);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(small_values_are_exact),
		cmocka_unit_test(bucket_edges_are_contiguous),
		cmocka_unit_test(relative_error_is_below_a_thousandth),
		cmocka_unit_test(percentiles_match_a_sorted_array),
		cmocka_unit_test(empty_and_single),
		cmocka_unit_test(merge_equals_recording_into_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
