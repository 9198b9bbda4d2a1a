/* Internals shared by the files of protocols/dns/. */
#ifndef SEAL_DNS_PRIVATE_H
#define SEAL_DNS_PRIVATE_H

#include "protocols/dns/dns.h"
#include "src/util/buf.h"

/* A TCP answer is at most 64 KiB, so its records hold less than that. */
#define DNS_MAX_ANSWER_BYTES (128 * 1024)

/* Collects records, then makes the answer in one allocation. */
struct dns_builder {
	enum dns_type type;
	struct buf data;
	unsigned n;
	size_t off[DNS_MAX_RECORDS];
	uint16_t len[DNS_MAX_RECORDS];
	uint16_t pref[DNS_MAX_RECORDS];
};

void dns_builder_init(struct dns_builder *b, enum dns_type type);
/* -E2BIG past DNS_MAX_RECORDS records or the byte bound. */
int dns_builder_add(struct dns_builder *b, const void *data, size_t len,
		    uint16_t pref);
/* Makes the answer (records only with DNS_OK) and frees the builder. */
struct dns_answer *dns_builder_finish(struct dns_builder *b,
				      enum dns_status status, uint32_t ttl);
void dns_builder_free(struct dns_builder *b);

#endif
