/*
 * histogram — latencies in microseconds, HdrHistogram's log-linear layout.
 *
 * Values below 2048 count exactly; above, each power-of-two band is split into 1024
 * equal sub-buckets, so a value is known to within 1/1024 (< 0.1%) of itself. Memory
 * is fixed (HISTOGRAM_BUCKETS counters, ~200 KB), recording is a few instructions
 * and never allocates, and histograms of the same layout merge by adding counters:
 * each thread records into its own and they are merged at the end.
 *
 * Values above HISTOGRAM_MAX_US are recorded as HISTOGRAM_MAX_US.
 * Queries on an empty histogram return 0.
 */
#ifndef HISTOGRAM_H
#define HISTOGRAM_H

#include <stdint.h>

#define HISTOGRAM_SUB_BITS 10 /* 1024 sub-buckets per band: 0.1% relative error */
#define HISTOGRAM_MAX_US ((1ULL << 33) - 1) /* about 2.4 hours */
#define HISTOGRAM_BUCKETS ((33 - HISTOGRAM_SUB_BITS + 1) << HISTOGRAM_SUB_BITS)

struct histogram {
	uint64_t total;
	uint64_t min, max; /* exact */
	double sum;        /* exact, for the mean */
	uint64_t count[HISTOGRAM_BUCKETS];
};

void histogram_reset(struct histogram *h);
void histogram_record(struct histogram *h, uint64_t us);
void histogram_merge(struct histogram *dst, const struct histogram *src);
/* dst = a - b per bucket, b an earlier copy of a; min/max/sum are a's window-less
 * approximations: min and max come from the buckets of the difference. */
void histogram_diff(struct histogram *dst, const struct histogram *a, const struct histogram *b);

/* Bucket of a value, and the range [lowest, highest] of values a bucket holds. */
int histogram_index(uint64_t us);
uint64_t histogram_lowest(int index);
uint64_t histogram_highest(int index);

/*
 * The value at percentile p (0..100), HdrHistogram's rule: the smallest recorded
 * value v such that at least ceil(p/100 * total) values (at least one) are <= v,
 * reported as the highest value of v's bucket, never above the exact max.
 */
uint64_t histogram_percentile(const struct histogram *h, double p);
double histogram_mean(const struct histogram *h);

#endif
