/* Loop lag: how late the loop serves a periodic timerfd (an fd event, like
 * client I/O). A late one means some callback or coroutine held the loop,
 * or the loop thread waited for a CPU, so every session waited that long.
 * Kept as a histogram since start for `admin stats` (p50, p99, max). */
#ifndef SEAL_LOOPLAG_H
#define SEAL_LOOPLAG_H

#include <stdint.h>
#include <uv.h>

struct loop_lag;

/* Starts sampling every interval_ms on loop; NULL if no timerfd can be
 * had (then there are no figures). */
struct loop_lag *looplag_start(uv_loop_t *loop, uint64_t interval_ms);
/* Stops sampling; the memory is freed once libuv lets go of the timer. */
void looplag_stop(struct loop_lag **lag);

/* A histogram of lags in microseconds. */
struct lag_histogram {
	uint64_t buckets[64 * 16];
	uint64_t count;
	uint64_t max;
};
void lag_histogram_add(struct lag_histogram *h, uint64_t us);
/* Lag at percentile p (0-100): the upper bound of its bucket, so within
 * 1/16 of the true value, and never above the maximum seen. */
uint64_t lag_histogram_percentile(const struct lag_histogram *h, double p);

/* Since start, and since the last window reset (so a benchmark can read the
 * lag of one phase without idle time diluting it). */
const struct lag_histogram *looplag_total(const struct loop_lag *lag);
const struct lag_histogram *looplag_window(const struct loop_lag *lag);
void looplag_window_reset(struct loop_lag *lag);

#endif
