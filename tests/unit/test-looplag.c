#include "src/looplag.h"
#include "tests/unit/test.h"

static struct lag_histogram hist;

TEST(histogram_percentiles_within_one_sixteenth)
{
	for (uint64_t v = 1; v <= 1000; v++)
		lag_histogram_add(&hist, v * 10);
	uint64_t p50 = lag_histogram_percentile(&hist, 50);
	uint64_t p99 = lag_histogram_percentile(&hist, 99);
	CHECK_INT(p50, >=, 5000);
	CHECK_INT(p50, <=, 5000 + 5000 / 16);
	CHECK_INT(p99, >=, 9900);
	CHECK_INT(p99, <=, 10000);
	CHECK_INT(lag_histogram_percentile(&hist, 100), ==, 10000);
	CHECK_INT(hist.max, ==, 10000);
}

TEST(histogram_small_and_huge_values)
{
	lag_histogram_add(&hist, 0);
	lag_histogram_add(&hist, 3);
	CHECK_INT(lag_histogram_percentile(&hist, 50), ==, 0);
	CHECK_INT(lag_histogram_percentile(&hist, 100), ==, 3);
	lag_histogram_add(&hist, UINT64_MAX / 2);
	CHECK_INT(lag_histogram_percentile(&hist, 100), ==, (long long)(UINT64_MAX / 2));
}

TEST(empty_histogram_reports_zero)
{
	CHECK_INT(lag_histogram_percentile(&hist, 99), ==, 0);
}

static int ticks;
static void busy_then_stop(uv_timer_t *t)
{
	/* Hold the loop for 30 ms: the sampler must see it. */
	uint64_t end = uv_hrtime() + 30000000ull;
	while (uv_hrtime() < end)
		;
	if (++ticks == 3)
		uv_timer_stop(t);
}

TEST(sampler_sees_a_stalled_loop)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct loop_lag *lag = looplag_start(&loop, 5);
	uv_timer_t busy;
	uv_timer_init(&loop, &busy);
	uv_timer_start(&busy, busy_then_stop, 10, 10);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(looplag_total(lag)->count, >=, 2);
	CHECK_INT(looplag_total(lag)->max, >=, 20000);
	CHECK_INT(looplag_window(lag)->max, >=, 20000);
	looplag_window_reset(lag);
	CHECK_INT(looplag_window(lag)->count, ==, 0);
	CHECK_INT(looplag_total(lag)->max, >=, 20000);
	looplag_stop(&lag);
	uv_close((uv_handle_t *)&busy, NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}
