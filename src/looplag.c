#include "src/looplag.h"

#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct loop_lag {
	uv_timer_t timer;
	uint64_t interval_ns;
	uint64_t expected_ns;
	struct lag_histogram hist;	/* since start */
	struct lag_histogram window;	/* since looplag_window_reset() */
};

/* Log-linear buckets: 16 per power of two, so any value is stored with an
 * error under 1/16 while the whole range of uint64_t fits in 1024 slots. */
static unsigned lag_bucket(uint64_t v)
{
	if (v < 16)
		return (unsigned)v;
	unsigned msb = 63 - (unsigned)__builtin_clzll(v);
	unsigned sub = (unsigned)((v >> (msb - 4)) & 15);
	return (msb - 3) * 16 + sub;
}

static uint64_t lag_bucket_upper(unsigned b)
{
	if (b < 16)
		return b;
	unsigned msb = b / 16 + 3, sub = b % 16;
	uint64_t base = (16ull + sub) << (msb - 4);
	return base + (1ull << (msb - 4)) - 1;
}

void lag_histogram_add(struct lag_histogram *h, uint64_t us)
{
	h->buckets[lag_bucket(us)]++;
	h->count++;
	if (us > h->max)
		h->max = us;
}

uint64_t lag_histogram_percentile(const struct lag_histogram *h, double p)
{
	if (h->count == 0)
		return 0;
	uint64_t rank = (uint64_t)(p / 100.0 * (double)h->count + 0.5);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (unsigned b = 0; b < sizeof(h->buckets) / sizeof(h->buckets[0]); b++) {
		seen += h->buckets[b];
		if (seen >= rank) {
			uint64_t up = lag_bucket_upper(b);
			return up < h->max ? up : h->max;
		}
	}
	return h->max;
}

static void looplag_tick(uv_timer_t *t)
{
	struct loop_lag *lag = t->data;
	uint64_t now = uv_hrtime();
	uint64_t late = now > lag->expected_ns ? now - lag->expected_ns : 0;
	lag_histogram_add(&lag->hist, late / 1000);
	lag_histogram_add(&lag->window, late / 1000);
	lag->expected_ns = now + lag->interval_ns;
}

struct loop_lag *looplag_start(uv_loop_t *loop, uint64_t interval_ms)
{
	struct loop_lag *lag = xcalloc(1, sizeof(*lag));
	uv_timer_init(loop, &lag->timer);
	lag->timer.data = lag;
	lag->interval_ns = interval_ms * 1000000ull;
	lag->expected_ns = uv_hrtime() + lag->interval_ns;
	uv_timer_start(&lag->timer, looplag_tick, interval_ms, interval_ms);
	/* The sampler alone must not keep the loop alive at shutdown. */
	uv_unref((uv_handle_t *)&lag->timer);
	return lag;
}

static void looplag_closed(uv_handle_t *h)
{
	free(h->data);
}

void looplag_stop(struct loop_lag **lagp)
{
	struct loop_lag *lag = *lagp;
	if (!lag)
		return;
	uv_timer_stop(&lag->timer);
	uv_close((uv_handle_t *)&lag->timer, looplag_closed);
	*lagp = NULL;
}

const struct lag_histogram *looplag_total(const struct loop_lag *lag)
{
	return &lag->hist;
}

const struct lag_histogram *looplag_window(const struct loop_lag *lag)
{
	return &lag->window;
}

void looplag_window_reset(struct loop_lag *lag)
{
	memset(&lag->window, 0, sizeof(lag->window));
}
