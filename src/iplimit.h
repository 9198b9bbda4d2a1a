/* Per-IP accounting: live connections (for [listen] max_connections_per_ip)
 * and recent authentication failures (throttling for the login code).
 * Keys are textual IP addresses. Entries vanish when they hold nothing. */
#ifndef SEAL_IPLIMIT_H
#define SEAL_IPLIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_table;

struct ip_table *iplimit_new(void);
void iplimit_free(struct ip_table **t);

/* Counts a connection from ip unless it already has max; false if refused. */
bool iplimit_conn_acquire(struct ip_table *t, const char *ip, uint32_t max);
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

size_t iplimit_entries(const struct ip_table *t);

#endif
