#include "bench/hist.h"

/* Bucket of a value: exact below 64; above, the top six bits of the value
 * (the leading 1 and five more) pick one of 32 buckets in its octave. */
static unsigned bucket_of(uint64_t v)
{
	if (v < 64)
		return (unsigned)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	unsigned shift = msb - 5;
	return 64 + (msb - 6) * 32 + (unsigned)((v >> shift) - 32);
}

static uint64_t bucket_top(unsigned i)
{
	if (i < 64)
		return i;
	unsigned msb = (i - 64) / 32 + 6, shift = msb - 5;
	uint64_t m = (i - 64) % 32 + 32;
	return ((m + 1) << shift) - 1;
}

void bench_hist_add(struct bench_hist *h, uint64_t us)
{
	h->bucket[bucket_of(us)]++;
	h->count++;
	h->sum += us;
	if (us > h->max)
		h->max = us;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	if (!h->count)
		return 0;
	/* The rank of the sample wanted, 1-based: p99 of 100 samples is the
	 * 99th, p50 of 1 sample the only one. */
	uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t top = bucket_top(i);
			return top < h->max ? top : h->max;
		}
	}
	return h->max;
}
