#include "histogram.h"

#include <string.h>

#define SUB (1 << HISTOGRAM_SUB_BITS)

void histogram_reset(struct histogram *h)
{
	memset(h, 0, sizeof *h);
}

/* shift = how many low bits a band drops: 0 below 2*SUB, then one more per band.
 * index = shift * SUB + (v >> shift) keeps the bands contiguous: band `shift`
 * holds v >> shift in [SUB, 2*SUB). */
int histogram_index(uint64_t v)
{
	int shift;
	if (v > HISTOGRAM_MAX_US)
		v = HISTOGRAM_MAX_US;
	shift = v < 2 * SUB ? 0 : (63 - __builtin_clzll(v)) - HISTOGRAM_SUB_BITS;
	return shift * SUB + (int)(v >> shift);
}

static int band(int index)
{
	return index < 2 * SUB ? 0 : index / SUB - 1;
}

uint64_t histogram_lowest(int index)
{
	int shift = band(index);
	return (uint64_t)(index - shift * SUB) << shift;
}

uint64_t histogram_highest(int index)
{
	return histogram_lowest(index) + (1ULL << band(index)) - 1;
}

void histogram_record(struct histogram *h, uint64_t us)
{
	if (us > HISTOGRAM_MAX_US)
		us = HISTOGRAM_MAX_US;
	h->count[histogram_index(us)]++;
	if (h->total == 0 || us < h->min)
		h->min = us;
	if (us > h->max)
		h->max = us;
	h->total++;
	h->sum += (double)us;
}

void histogram_merge(struct histogram *dst, const struct histogram *src)
{
	if (src->total == 0)
		return;
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++)
		dst->count[i] += src->count[i];
	if (dst->total == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
	dst->sum += src->sum;
}

void histogram_diff(struct histogram *dst, const struct histogram *a, const struct histogram *b)
{
	int lo = -1, hi = -1;
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
		dst->count[i] = a->count[i] - b->count[i];
		if (dst->count[i]) {
			if (lo < 0)
				lo = i;
			hi = i;
		}
	}
	dst->total = a->total - b->total;
	dst->sum = a->sum - b->sum;
	dst->min = lo < 0 ? 0 : histogram_lowest(lo);
	dst->max = hi < 0 ? 0 : histogram_highest(hi);
	if (hi >= 0 && dst->max > a->max)
		dst->max = a->max;
	if (lo >= 0 && dst->min < a->min)
		dst->min = a->min;
}

uint64_t histogram_percentile(const struct histogram *h, double p)
{
	uint64_t want, seen = 0;
	double exact;
	if (h->total == 0)
		return 0;
	if (p < 0)
		p = 0;
	if (p > 100)
		p = 100;
	exact = p / 100.0 * (double)h->total;
	want = (uint64_t)exact;
	if ((double)want < exact)
		want++;
	if (want < 1)
		want = 1;
	for (int i = 0; i < HISTOGRAM_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			uint64_t v = histogram_highest(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double histogram_mean(const struct histogram *h)
{
	return h->total ? h->sum / (double)h->total : 0.0;
}
