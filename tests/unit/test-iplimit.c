#include "src/iplimit.h"
#include "tests/unit/test.h"

TEST(connections_limited_per_ip)
{
	struct ip_table *t = iplimit_new();
	CHECK(iplimit_conn_acquire(t, "10.0.0.1", 2));
	CHECK(iplimit_conn_acquire(t, "10.0.0.1", 2));
	CHECK(!iplimit_conn_acquire(t, "10.0.0.1", 2));
	CHECK(iplimit_conn_acquire(t, "10.0.0.2", 2));
	CHECK_INT(iplimit_conn_count(t, "10.0.0.1"), ==, 2);
	iplimit_conn_release(t, "10.0.0.1");
	CHECK(iplimit_conn_acquire(t, "10.0.0.1", 2));
	iplimit_conn_release(t, "10.0.0.1");
	iplimit_conn_release(t, "10.0.0.1");
	iplimit_conn_release(t, "10.0.0.2");
	CHECK_INT(iplimit_entries(t), ==, 0);
	iplimit_free(&t);
	CHECK(t == NULL);
}

TEST(many_addresses_grow_the_table)
{
	struct ip_table *t = iplimit_new();
	char ip[32];
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		CHECK(iplimit_conn_acquire(t, ip, 1));
	}
	CHECK_INT(iplimit_entries(t), ==, 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.1", i / 256, i % 256);
		CHECK(!iplimit_conn_acquire(t, ip, 1));
		iplimit_conn_release(t, ip);
	}
	CHECK_INT(iplimit_entries(t), ==, 0);
	iplimit_free(&t);
}

TEST(auth_failures_delay_then_decay)
{
	struct ip_table *t = iplimit_new();
	int64_t now = 1000000;
	for (int i = 0; i < IPLIMIT_FREE_FAILURES; i++)
		iplimit_auth_failed(t, "192.0.2.7", now);
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.7", now), ==, 0);
	iplimit_auth_failed(t, "192.0.2.7", now);
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.7", now), ==, 1000);
	iplimit_auth_failed(t, "192.0.2.7", now);
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.7", now), ==, 2000);
	for (int i = 0; i < 40; i++)
		iplimit_auth_failed(t, "192.0.2.7", now);
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.7", now), ==, IPLIMIT_MAX_DELAY_MS);
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.8", now), ==, 0);
	now += IPLIMIT_FAILURE_WINDOW_MS;
	CHECK_INT(iplimit_auth_delay_ms(t, "192.0.2.7", now), ==, 0);
	CHECK_INT(iplimit_entries(t), ==, 0);
	iplimit_free(&t);
}

#define MINUTE_MS (60 * 1000)

TEST(rate_allows_a_burst_then_refuses)
{
	struct ip_table *t = iplimit_new();
	int64_t now = 5000000;
	for (int i = 0; i < 5; i++)
		CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 5, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 5, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 5, MINUTE_MS, now + 1000));
	/* A refusal takes nothing: the address is not punished for asking. */
	CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 5, MINUTE_MS,
				now + MINUTE_MS / 5));
	CHECK(iplimit_rate_take(t, "10.0.0.2", IPLIMIT_RATE_CONNECT, 5, MINUTE_MS, now));
	iplimit_free(&t);
}

TEST(rate_refills_one_step_at_a_time)
{
	struct ip_table *t = iplimit_new();
	int64_t now = 5000000, step = MINUTE_MS / 3;
	for (int i = 0; i < 3; i++)
		CHECK(iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS,
				 now + step - 1));
	CHECK(iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS, now + step));
	CHECK(!iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS, now + step));
	/* A whole quiet window gives the whole burst back, no more. */
	now += step + MINUTE_MS;
	for (int i = 0; i < 3; i++)
		CHECK(iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "192.0.2.1", IPLIMIT_RATE_CONNECT, 3, MINUTE_MS, now));
	iplimit_free(&t);
}

TEST(rate_steady_flow_gets_per_window)
{
	/* A million in 6 minutes: a step of 0.36 ms, which whole
	 * milliseconds would round to nothing. */
	struct ip_table *t = iplimit_new();
	int64_t now = 5000000;
	uint32_t n = 0;
	for (int64_t ms = 0; ms < 3600; ms++)
		while (iplimit_rate_take(t, "192.0.2.9", IPLIMIT_RATE_MESSAGE, 1000000,
					 6 * MINUTE_MS, now + ms))
			n++;
	/* The burst, then one every 0.36 ms for 3.6 s. */
	CHECK_INT(n, >=, 1000000 + 9990);
	CHECK_INT(n, <=, 1000000 + 10000);
	iplimit_free(&t);
}

TEST(rate_kinds_are_independent)
{
	struct ip_table *t = iplimit_new();
	int64_t now = 5000000;
	CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 1, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 1, MINUTE_MS, now));
	CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_MESSAGE, 1, MINUTE_MS, now));
	CHECK(!iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_MESSAGE, 1, MINUTE_MS, now));
	CHECK_INT(iplimit_entries(t), ==, 1);
	iplimit_free(&t);
}

TEST(rate_zero_is_unlimited_and_keeps_nothing)
{
	struct ip_table *t = iplimit_new();
	for (int i = 0; i < 1000; i++)
		CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_MESSAGE, 0, MINUTE_MS, 1000));
	CHECK_INT(iplimit_entries(t), ==, 0);
	iplimit_free(&t);
}

TEST(rate_entries_vanish_after_the_window)
{
	struct ip_table *t = iplimit_new();
	int64_t now = 5000000;
	for (int i = 0; i < 4; i++)
		CHECK(iplimit_rate_take(t, "10.0.0.1", IPLIMIT_RATE_CONNECT, 4, MINUTE_MS, now));
	CHECK(iplimit_rate_take(t, "10.0.0.2", IPLIMIT_RATE_CONNECT, 4, MINUTE_MS, now));
	CHECK(iplimit_conn_acquire(t, "10.0.0.3", 10));
	CHECK_INT(iplimit_entries(t), ==, 3);
	iplimit_sweep(t, now + MINUTE_MS / 4);
	CHECK_INT(iplimit_entries(t), ==, 2);	/* 10.0.0.2 owed one step */
	iplimit_sweep(t, now + MINUTE_MS - 1);
	CHECK_INT(iplimit_entries(t), ==, 2);
	iplimit_sweep(t, now + MINUTE_MS);
	CHECK_INT(iplimit_entries(t), ==, 1);	/* the live connection stays */
	CHECK_INT(iplimit_conn_count(t, "10.0.0.3"), ==, 1);
	iplimit_conn_release(t, "10.0.0.3");
	CHECK_INT(iplimit_entries(t), ==, 0);
	iplimit_free(&t);
}

TEST(loopback_addresses)
{
	CHECK(iplimit_is_loopback("127.0.0.1"));
	CHECK(iplimit_is_loopback("::1"));
	CHECK(iplimit_is_loopback("::ffff:127.0.0.1"));
	CHECK(!iplimit_is_loopback("127.0.0.2"));
	CHECK(!iplimit_is_loopback("10.0.0.1"));
	CHECK(!iplimit_is_loopback(""));
}

/* One-off addresses used to stay until they came back. */
TEST(sweep_keeps_one_off_addresses_from_growing_the_table)
{
	struct ip_table *t = iplimit_new();
	char ip[32];
	int64_t now = 5000000;
	CHECK(iplimit_conn_acquire(t, "192.0.2.1", 10));
	for (int i = 0; i < 20000; i++) {
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", i / 65536, i / 256 % 256, i % 256);
		now += IPLIMIT_FAILURE_WINDOW_MS;
		CHECK(iplimit_rate_take(t, ip, IPLIMIT_RATE_CONNECT, 1, 1000, now));
		iplimit_auth_failed(t, ip, now);
		CHECK_INT(iplimit_entries(t), <=, 64);
	}
	CHECK_INT(iplimit_conn_count(t, "192.0.2.1"), ==, 1);
	iplimit_conn_release(t, "192.0.2.1");

	/* Live addresses still grow it, and none is lost on the way. */
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i / 256, i % 256);
		CHECK(iplimit_conn_acquire(t, ip, 1));
	}
	CHECK_INT(iplimit_entries(t), >=, 5000);
	for (int i = 0; i < 5000; i++) {
		snprintf(ip, sizeof(ip), "172.16.%d.%d", i / 256, i % 256);
		CHECK_INT(iplimit_conn_count(t, ip), ==, 1);
		iplimit_conn_release(t, ip);
	}
	iplimit_free(&t);
}
