/* libFuzzer entry point for DNS responses (protocols/dns/dns-parse.c): the
 * bytes a DNS server, or anyone who can spoof one, sends back. The first
 * byte picks the type asked for; the rest is the response to a query for
 * "example.com". Any bytes must give a consistent answer.
 *
 *   ./fuzz-dns-response tests/fuzz/corpus/dns-response/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/dns/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_type types[] = { DNS_T_A, DNS_T_AAAA, DNS_T_TXT, DNS_T_MX,
					       DNS_T_PTR };
	if (size < 1)
		return 0;
	enum dns_type t = types[data[0] % 5];
	uint8_t *copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	struct dns_answer *a = dns_parse_response(copy, size - 1, "example.com", t);
	if (a->type != t || (a->status != DNS_OK && a->count) ||
	    (a->status == DNS_OK && (a->count == 0 || a->count > DNS_MAX_RECORDS)) ||
	    a->ttl > DNS_MAX_TTL || a->refs != 1)
		__builtin_trap();
	for (unsigned i = 0; i < a->count; i++) {
		const struct dns_record *r = &a->records[i];
		if (r->data[r->len] != '\0')
			__builtin_trap();
		if ((t == DNS_T_A && r->len != 4) || (t == DNS_T_AAAA && r->len != 16))
			__builtin_trap();
		if ((t == DNS_T_MX || t == DNS_T_PTR) && strlen((const char *)r->data) != r->len)
			__builtin_trap();
	}
	dns_answer_unref(&a);
	free(copy);
	return 0;
}
