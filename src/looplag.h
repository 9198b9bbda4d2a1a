/* Loop lag: how late a periodic timer fires. A late timer means some
 * callback or coroutine held the loop, so every session waited that long.
 * Kept as a histogram since start for `admin stats` (p50, p99, max). */
#ifndef SEAL_LOOPLAG_H
#define SEAL_LOOPLAG_H

#include <stdint.h>
#include <uv.h>

struct loop_lag;

/* Starts sampling every interval_ms on loop. */
struct loop_lag *looplag_start(uv_loop_t *loop, uint64_t interval_ms);
/* Stops sampling; the memory is freed once libuv lets go of the timer. */
void looplag_stop(struct loop_lag **lag);

/* Lag in microseconds at percentile p (0-100), from the histogram buckets
 * (upper bound of the bucket, so within 1/16 of the true value). */
uint64_t looplag_percentile_us(const struct loop_lag *lag, double p);
uint64_t looplag_max_us(const struct loop_lag *lag);
uint64_t looplag_samples(const struct loop_lag *lag);

/* The histogram alone, for tests: record and query without a loop. */
struct lag_histogram {
	uint64_t buckets[64 * 16];
	uint64_t count;
	uint64_t max;
};
void lag_histogram_add(struct lag_histogram *h, uint64_t us);
uint64_t lag_histogram_percentile(const struct lag_histogram *h, double p);

#endif
