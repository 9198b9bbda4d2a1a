/* Latency histograms for the load generator: log-linear buckets (32 per
 * power of two, so a reported percentile is within about 3% of the true
 * value), exact below 64 us. Fixed size, no allocation: one per command
 * type, kept for a whole run. Values are microseconds. */
#ifndef SEAL_BENCH_HIST_H
#define SEAL_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_BUCKETS (64 + 58 * 32)

struct bench_hist {
	uint64_t count, sum, max;
	uint64_t bucket[BENCH_HIST_BUCKETS];
};

void bench_hist_add(struct bench_hist *h, uint64_t us);
/* Adds every sample of src into dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/* The value at or below which fraction q (0..1) of the samples lie: the
 * upper bound of the bucket that holds it, capped at the exact maximum.
 * 0 for an empty histogram. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

#endif
