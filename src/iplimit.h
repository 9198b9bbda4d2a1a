/* Per-IP accounting: live connections (for [listen] max_connections_per_ip),
 * recent authentication failures (throttling for the login code) and event
 * rates (new connections, messages). Keys are textual IP addresses.
 *
 * An entry vanishes when it holds nothing: no live connection, no failure
 * still remembered, no rate still owed. Entries of addresses that never
 * come back are swept before the table grows, so memory follows what is
 * live, not every address ever seen. The table's idea of the current time
 * is the latest now_ms any call gave it. */
#ifndef SEAL_IPLIMIT_H
#define SEAL_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_table;

struct ip_table *iplimit_new(void);
void iplimit_free(struct ip_table **t);

/* 127.0.0.1, ::1 and ::ffff:127.0.0.1: local MTAs, webmail and proxies,
 * exempt from the rate limits and the SMTP tarpit. */
bool iplimit_is_loopback(const char *ip);

/* Counts a connection from ip unless it already has max; false if refused. */
bool iplimit_conn_acquire(struct ip_table *t, const char *ip, uint32_t max);
/* Aborts when ip holds no connection: the books are wrong. */
void iplimit_conn_release(struct ip_table *t, const char *ip);
uint32_t iplimit_conn_count(struct ip_table *t, const char *ip);

/* Authentication failures decay: they are forgotten once
 * IPLIMIT_FAILURE_WINDOW_MS passes without a new one. The delay to impose before answering the next
 * attempt grows with the count: none for the first IPLIMIT_FREE_FAILURES,
 * then doubling from 1 s up to IPLIMIT_MAX_DELAY_MS. */
#define IPLIMIT_FAILURE_WINDOW_MS (15 * 60 * 1000)
#define IPLIMIT_FREE_FAILURES 3
#define IPLIMIT_MAX_DELAY_MS (30 * 1000)
void iplimit_auth_failed(struct ip_table *t, const char *ip, int64_t now_ms);
uint64_t iplimit_auth_delay_ms(struct ip_table *t, const char *ip, int64_t now_ms);

/* Event rates, each kind counted apart. */
enum iplimit_rate {
	IPLIMIT_RATE_CONNECT,	/* [listen] max_connection_rate_per_ip */
	IPLIMIT_RATE_MESSAGE,	/* [smtp] max_messages_per_ip_per_hour */
	IPLIMIT_RATE_KINDS
};

/* Takes one event of kind for ip: true if within per_window events per
 * window_ms, false (and nothing taken) if over. A burst of per_window is
 * allowed at once, then one more every window_ms / per_window (GCRA, to
 * the microsecond). per_window 0 means no limit: true, and no entry is
 * made. now_ms never goes back. */
bool iplimit_rate_take(struct ip_table *t, const char *ip, enum iplimit_rate kind,
		       uint32_t per_window, int64_t window_ms, int64_t now_ms);

/* Drops every entry that holds nothing at now_ms. Adding an address to
 * a full table does this first; tests call it to look. */
void iplimit_sweep(struct ip_table *t, int64_t now_ms);
size_t iplimit_entries(const struct ip_table *t);

#endif
