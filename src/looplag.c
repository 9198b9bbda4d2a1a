#include "src/looplag.h"

#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

/* The probe is a timerfd watched like any socket, not a uv_timer: libuv
 * computes timer deadlines from a loop time cached in whole milliseconds
 * and sleeps in epoll_wait() with a millisecond timeout, so a uv_timer is
 * up to a millisecond or two late on an idle loop. A timerfd becomes
 * readable at its expiry to the microsecond, exactly as a client's socket
 * does when bytes arrive: how late its callback runs is the loop's own
 * delay in serving I/O. */
struct loop_lag {
	uv_poll_t poll;
	int fd;
	uint64_t start_ns, interval_ns;
	uint64_t served;	/* expirations accounted for */
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

static void looplag_ready(uv_poll_t *p, int status, int events)
{
	struct loop_lag *lag = p->data;
	uint64_t expirations;
	if (status < 0 || read(lag->fd, &expirations, sizeof(expirations)) != sizeof(expirations))
		return;
	/* Late by how long the first expiry not yet served has waited; when
	 * several passed, the loop was held for all of them. */
	uint64_t due = lag->start_ns + (lag->served + 1) * lag->interval_ns;
	uint64_t now = uv_hrtime();
	uint64_t late = now > due ? now - due : 0;
	lag->served += expirations;
	lag_histogram_add(&lag->hist, late / 1000);
	lag_histogram_add(&lag->window, late / 1000);
}

struct loop_lag *looplag_start(uv_loop_t *loop, uint64_t interval_ms)
{
	struct loop_lag *lag = xcalloc(1, sizeof(*lag));
	lag->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lag->fd < 0 || uv_poll_init(loop, &lag->poll, lag->fd) != 0) {
		if (lag->fd >= 0)
			close(lag->fd);
		free(lag);
		return NULL;
	}
	lag->poll.data = lag;
	lag->interval_ns = interval_ms * 1000000ull;
	/* uv_hrtime() reads CLOCK_MONOTONIC too: one clock for both. */
	lag->start_ns = uv_hrtime();
	uint64_t first = lag->start_ns + lag->interval_ns;
	struct itimerspec its = {
		.it_interval = { (time_t)(lag->interval_ns / 1000000000ull),
				 (long)(lag->interval_ns % 1000000000ull) },
		.it_value = { (time_t)(first / 1000000000ull), (long)(first % 1000000000ull) },
	};
	timerfd_settime(lag->fd, TFD_TIMER_ABSTIME, &its, NULL);
	uv_poll_start(&lag->poll, UV_READABLE, looplag_ready);
	/* The sampler alone must not keep the loop alive at shutdown. */
	uv_unref((uv_handle_t *)&lag->poll);
	return lag;
}

static void looplag_closed(uv_handle_t *h)
{
	struct loop_lag *lag = h->data;
	close(lag->fd);
	free(lag);
}

void looplag_stop(struct loop_lag **lagp)
{
	struct loop_lag *lag = *lagp;
	if (!lag)
		return;
	uv_poll_stop(&lag->poll);
	uv_close((uv_handle_t *)&lag->poll, looplag_closed);
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
