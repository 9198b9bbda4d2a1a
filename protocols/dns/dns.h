/* DNS lookups for coroutines: c-ares driven by the libuv loop, with a
 * small cache that honours TTLs (DESIGN.md sections 5 and 6).
 *
 * Everything here runs on the loop thread: a lookup parks the calling
 * coroutine until c-ares answers, the cache hits or the deadline passes. No
 * worker thread ever waits for DNS. (libspf2 and libopendkim want
 * synchronous answers; protocols/mailauth/ gives them answers looked up
 * here beforehand, see spf.c and dkim.c there.)
 *
 * Answers are immutable once made and reference counted: the cache and
 * every caller holding one keep a reference (dns_answer_unref() drops it).
 * An answer's data may be read from a worker thread while the loop thread
 * holds the reference, as long as the reference is dropped on the loop.
 */
#ifndef SEAL_DNS_H
#define SEAL_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The record types sealmail asks for (RFC 1035, RFC 3596). */
enum dns_type {
	DNS_T_A = 1,
	DNS_T_PTR = 12,
	DNS_T_MX = 15,
	DNS_T_TXT = 16,
	DNS_T_AAAA = 28,
};

enum dns_status {
	DNS_OK,		/* at least one record of the type asked for */
	DNS_NODATA,	/* the name exists, without such records */
	DNS_NXDOMAIN,	/* the name does not exist */
	DNS_TEMPFAIL,	/* timeout, SERVFAIL, REFUSED, garbled answer */
	DNS_BADNAME,	/* not a name we send to DNS (never sent) */
};

/* One record. A and AAAA: 4 or 16 address bytes. TXT: the character-
 * strings of the record joined (RFC 7208 3.3, RFC 6376 3.6.2.2). MX and
 * PTR: the host name, lower-cased, without the final dot. data is also
 * NUL-terminated (TXT may contain NULs itself; len counts the bytes). */
struct dns_record {
	const uint8_t *data;
	uint16_t len;
	uint16_t pref;		/* MX preference; 0 otherwise */
};

struct dns_answer {
	enum dns_status status;
	uint16_t type;
	uint32_t ttl;		/* seconds the answer may be cached */
	unsigned count;		/* records; 0 unless DNS_OK */
	const struct dns_record *records;
	/* private */
	unsigned refs;
	size_t bytes;		/* memory held, for the cache's bound */
};

/* Limits. An answer keeps at most DNS_MAX_RECORDS records (the rest are
 * dropped: a truncated TXT set is still a valid subset for SPF and DKIM,
 * and nobody needs more addresses); a name is at most DNS_MAX_NAME bytes. */
#define DNS_MAX_RECORDS 64
#define DNS_MAX_NAME 253
/* Cache bounds; negative answers (NXDOMAIN, NODATA) are kept at most
 * DNS_MAX_NEG_TTL seconds and positive ones DNS_MAX_TTL seconds. Temporary
 * failures are never cached. */
#define DNS_CACHE_ENTRIES 4096
#define DNS_CACHE_BYTES (4u << 20)
#define DNS_MAX_TTL 86400
#define DNS_MAX_NEG_TTL 900

/* Starts the resolver on the loop of the coroutine runtime (after
 * coro_runtime_init()). servers: "IP", "IP:PORT" or "[IPv6]:PORT" (config
 * [dns] servers); none (n 0) means the system's /etc/resolv.conf. Each try
 * waits timeout_ms (0: 1000) and a query is tried `tries` times (0: 3), so
 * one unanswered query ends after at most about 7 seconds with defaults.
 * 0, or a negative errno with *error_r set (static string). */
int dns_init(const char *const *servers, size_t n, unsigned timeout_ms,
	     unsigned tries, const char **error_r);
/* Replaces the servers (SIGHUP); the cache is emptied. */
int dns_set_servers(const char *const *servers, size_t n,
		    const char **error_r);
/* Ends every query (their coroutines must be gone) and closes the libuv
 * handles: run the loop once more afterwards. */
void dns_shutdown(void);
bool dns_initialized(void);

/* Looks up name (a host name, case-insensitive, final dot optional; no
 * search domains are applied). Coroutine only. Returns 0 and a new
 * reference in *ans_r (its status says what DNS said, DNS_TEMPFAIL
 * included), or a negative errno with *ans_r NULL: -ETIMEDOUT when the
 * deadline passed first, -ECANCELED, -ENOTCONN before dns_init(). A cache
 * hit returns without yielding. */
int dns_query(const char *name, enum dns_type type, int64_t deadline,
	      struct dns_answer **ans_r);

struct dns_answer *dns_answer_ref(struct dns_answer *ans);
/* Drops a reference and sets *ans to NULL; NULL is fine. Loop thread. */
void dns_answer_unref(struct dns_answer **ans);

/* A cache-less answer that says only `status` (for callers that must
 * report a failure in the shape of an answer). */
struct dns_answer *dns_answer_new_status(enum dns_type type,
					 enum dns_status status);

const char *dns_status_name(enum dns_status st);

/* Writes name lower-cased, without a final dot, into out (at least
 * DNS_MAX_NAME + 1 bytes). Fails with -EINVAL for what we never send:
 * empty, too long, an empty or over-long (63) label, bytes outside
 * printable ASCII, backslash (c-ares would read it as an escape). */
int dns_name_normalize(const char *name, char *out, size_t outlen);

/* --- Statistics (admin stats) ------------------------------------------ */
struct dns_stats {
	uint64_t queries;	/* dns_query() calls */
	uint64_t cache_hits;
	uint64_t sent;		/* handed to c-ares */
	uint64_t tempfail;	/* answers that were DNS_TEMPFAIL */
	uint64_t cache_entries, cache_bytes;
};
void dns_get_stats(struct dns_stats *st);

/* --- Parts, exposed for tests and fuzzing ------------------------------- */

/* Parses a DNS response (RFC 1035 4.1) to a query for qname/qtype: the
 * records of qtype owned by qname or reached from it through CNAMEs (at
 * most 8), the TTL (minimum over them; for NXDOMAIN and NODATA the SOA's
 * per RFC 2308 5, else 0) and the status from the rcode. Never fails: a
 * garbled response is DNS_TEMPFAIL. qname is normalized already. */
struct dns_answer *dns_parse_response(const uint8_t *msg, size_t len,
				      const char *qname, enum dns_type qtype);

/* The cache, keyed by (type, normalized name), LRU, bounded by entries and
 * bytes. now_ms is the loop clock. */
struct dns_cache;
struct dns_cache *dns_cache_new(size_t max_entries, size_t max_bytes);
void dns_cache_free(struct dns_cache **cache);
/* A new reference, or NULL when absent or expired (expired entries go). */
struct dns_answer *dns_cache_get(struct dns_cache *cache, const char *name,
				 enum dns_type type, int64_t now_ms);
/* Stores a reference to ans (replacing an older one) unless it is a
 * temporary failure, has TTL 0 or is bigger than the cache. */
void dns_cache_put(struct dns_cache *cache, const char *name,
		   enum dns_type type, struct dns_answer *ans, int64_t now_ms);
void dns_cache_clear(struct dns_cache *cache);
size_t dns_cache_entries(const struct dns_cache *cache);
size_t dns_cache_bytes(const struct dns_cache *cache);

#endif
