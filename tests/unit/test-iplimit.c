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
