#include "src/iplimit.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "src/util/xmalloc.h"

struct ip_entry {
	struct ip_entry *next;
	uint32_t conns;
	uint32_t failures;
	int64_t last_failure_ms;
	/* GCRA's theoretical arrival time of the next event, in microseconds
	 * (milliseconds would round a step of 0.36 ms, 10 million an hour,
	 * down to nothing); at most now when nothing is owed. */
	int64_t rate_tat_us[IPLIMIT_RATE_KINDS];
	char ip[];
};

struct ip_table {
	struct ip_entry **buckets;
	size_t nbuckets;	/* power of two */
	size_t count;
	uint64_t seed;		/* random, so peers cannot aim at one bucket */
	int64_t now_ms;		/* the latest time a caller gave */
};

bool iplimit_is_loopback(const char *ip)
{
	return strcmp(ip, "127.0.0.1") == 0 || strcmp(ip, "::1") == 0 ||
	       strcmp(ip, "::ffff:127.0.0.1") == 0;
}

struct ip_table *iplimit_new(void)
{
	struct ip_table *t = xcalloc(1, sizeof(*t));
	t->nbuckets = 64;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	if (getrandom(&t->seed, sizeof(t->seed), 0) != sizeof(t->seed))
		t->seed = (uint64_t)(uintptr_t)t ^ 0x9e3779b97f4a7c15ull;
	return t;
}

void iplimit_free(struct ip_table **tp)
{
	struct ip_table *t = *tp;
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ip_entry *e = t->buckets[i];
		while (e) {
			struct ip_entry *next = e->next;
			free(e);
			e = next;
		}
	}
	free(t->buckets);
	free(t);
	*tp = NULL;
}

static size_t ip_hash(const struct ip_table *t, const char *ip)
{
	uint64_t h = t->seed ^ 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)ip; *p; p++) {
		h ^= *p;
		h *= 0x100000001b3ull;
		h ^= h >> 29;
	}
	return (size_t)(h & (t->nbuckets - 1));
}

static void ip_grow(struct ip_table *t)
{
	size_t old_n = t->nbuckets;
	struct ip_entry **old = t->buckets;
	t->nbuckets = old_n * 2;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	for (size_t i = 0; i < old_n; i++) {
		struct ip_entry *e = old[i];
		while (e) {
			struct ip_entry *next = e->next;
			size_t b = ip_hash(t, e->ip);
			e->next = t->buckets[b];
			t->buckets[b] = e;
			e = next;
		}
	}
	free(old);
}

static struct ip_entry **ip_slot(struct ip_table *t, const char *ip)
{
	struct ip_entry **pp = &t->buckets[ip_hash(t, ip)];
	while (*pp && strcmp((*pp)->ip, ip) != 0)
		pp = &(*pp)->next;
	return pp;
}

static void ip_clock(struct ip_table *t, int64_t now_ms)
{
	if (now_ms > t->now_ms)
		t->now_ms = now_ms;
}

static bool ip_entry_empty(const struct ip_entry *e, int64_t now_ms)
{
	if (e->conns)
		return false;
	if (e->failures && now_ms - e->last_failure_ms < IPLIMIT_FAILURE_WINDOW_MS)
		return false;
	for (int k = 0; k < IPLIMIT_RATE_KINDS; k++)
		if (e->rate_tat_us[k] > now_ms * 1000)
			return false;
	return true;
}

void iplimit_sweep(struct ip_table *t, int64_t now_ms)
{
	ip_clock(t, now_ms);
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct ip_entry **pp = &t->buckets[i];
		while (*pp) {
			struct ip_entry *e = *pp;
			if (ip_entry_empty(e, t->now_ms)) {
				*pp = e->next;
				free(e);
				t->count--;
			} else {
				pp = &e->next;
			}
		}
	}
}

static struct ip_entry *ip_get(struct ip_table *t, const char *ip)
{
	struct ip_entry **pp = ip_slot(t, ip);
	if (*pp)
		return *pp;
	if (t->count >= t->nbuckets) {
		/* Addresses seen once and never again are only found by a sweep.
		 * Growing unless it freed half keeps the next sweep at least
		 * nbuckets / 2 insertions away: sweeping costs O(1) an insertion
		 * on average, and the table stays within four times what was
		 * live at the last sweep. */
		iplimit_sweep(t, t->now_ms);
		if (t->count > t->nbuckets / 2)
			ip_grow(t);
		pp = ip_slot(t, ip);
	}
	size_t len = strlen(ip);
	struct ip_entry *e = xcalloc(1, sizeof(*e) + len + 1);
	memcpy(e->ip, ip, len + 1);
	*pp = e;
	t->count++;
	return e;
}

static void ip_expire_failures(struct ip_entry *e, int64_t now_ms)
{
	if (e->failures && now_ms - e->last_failure_ms >= IPLIMIT_FAILURE_WINDOW_MS)
		e->failures = 0;
}

/* Drops the entry when it no longer holds anything. */
static void ip_release_if_empty(struct ip_table *t, const char *ip)
{
	struct ip_entry **pp = ip_slot(t, ip);
	struct ip_entry *e = *pp;
	if (e && ip_entry_empty(e, t->now_ms)) {
		*pp = e->next;
		free(e);
		t->count--;
	}
}

bool iplimit_conn_acquire(struct ip_table *t, const char *ip, uint32_t max)
{
	struct ip_entry *e = ip_get(t, ip);
	if (e->conns >= max) {
		ip_release_if_empty(t, ip);
		return false;
	}
	e->conns++;
	return true;
}

void iplimit_conn_release(struct ip_table *t, const char *ip)
{
	struct ip_entry *e = *ip_slot(t, ip);
	if (!e || e->conns == 0)
		abort(); /* a release without an acquire: the books are wrong */
	e->conns--;
	ip_release_if_empty(t, ip);
}

uint32_t iplimit_conn_count(struct ip_table *t, const char *ip)
{
	struct ip_entry *e = *ip_slot(t, ip);
	return e ? e->conns : 0;
}

void iplimit_auth_failed(struct ip_table *t, const char *ip, int64_t now_ms)
{
	ip_clock(t, now_ms);
	struct ip_entry *e = ip_get(t, ip);
	ip_expire_failures(e, now_ms);
	if (e->failures < UINT32_MAX)
		e->failures++;
	e->last_failure_ms = now_ms;
}

uint64_t iplimit_auth_delay_ms(struct ip_table *t, const char *ip, int64_t now_ms)
{
	ip_clock(t, now_ms);
	struct ip_entry *e = *ip_slot(t, ip);
	if (!e)
		return 0;
	ip_expire_failures(e, now_ms);
	uint32_t n = e->failures;
	ip_release_if_empty(t, ip);
	if (n <= IPLIMIT_FREE_FAILURES)
		return 0;
	uint32_t shift = n - IPLIMIT_FREE_FAILURES - 1;
	if (shift >= 15)
		return IPLIMIT_MAX_DELAY_MS;
	uint64_t d = 1000ull << shift;
	return d > IPLIMIT_MAX_DELAY_MS ? IPLIMIT_MAX_DELAY_MS : d;
}

/* GCRA (the generic cell rate algorithm of ATM, ITU-T I.371): each event
 * pushes the theoretical arrival time one step further; an event is refused
 * when that would put it more than a burst of steps ahead of now. One
 * number per kind, no timestamps kept per event. */
bool iplimit_rate_take(struct ip_table *t, const char *ip, enum iplimit_rate kind,
		       uint32_t per_window, int64_t window_ms, int64_t now_ms)
{
	if (per_window == 0)
		return true;
	if ((unsigned)kind >= IPLIMIT_RATE_KINDS)
		abort();
	ip_clock(t, now_ms);
	int64_t now_us = now_ms * 1000;
	int64_t step = window_ms * 1000 / per_window;
	if (step < 1)
		step = 1;
	struct ip_entry *e = ip_get(t, ip);
	int64_t tat = e->rate_tat_us[kind] > now_us ? e->rate_tat_us[kind] : now_us;
	if (tat + step - now_us > step * (int64_t)per_window)
		return false;
	e->rate_tat_us[kind] = tat + step;
	return true;
}

size_t iplimit_entries(const struct ip_table *t)
{
	return t->count;
}
