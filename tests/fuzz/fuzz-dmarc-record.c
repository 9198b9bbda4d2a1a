/* libFuzzer entry point for what DMARC reads from strangers: DMARC records
 * from DNS (RFC 7489 6.4) and the domains of From headers (normalized to
 * A-labels through punycode). The first byte picks which; any bytes must
 * give a valid record or an error, never a crash, a leak or a read past
 * the input.
 *
 *   ./fuzz-dmarc-record tests/fuzz/corpus/dmarc-record/
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mailauth/mailauth-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void record(const char *txt, size_t len)
{
	struct dmarc_record rec;
	bool is = dmarc_is_record(txt, len);
	int r = dmarc_record_parse(txt, len, &rec);
	if ((r == -ENOENT) == is)
		__builtin_trap();
	if (r == 0 && (rec.pct > 100 || rec.p > MAILAUTH_POLICY_REJECT ||
		       rec.sp > MAILAUTH_POLICY_REJECT))
		__builtin_trap();
}

static void domain(const char *in, size_t len)
{
	char out[DNS_MAX_NAME + 1];
	if (mailauth_domain_normalize(in, len, out, sizeof(out)) < 0)
		return;
	size_t n = strlen(out);
	if (n == 0 || n > DNS_MAX_NAME)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		char c = out[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
		      c == '_' || c == '.'))
			__builtin_trap();
	}
	/* Normalizing twice changes nothing. */
	char again[DNS_MAX_NAME + 1];
	if (mailauth_domain_normalize(out, n, again, sizeof(again)) < 0 || strcmp(out, again))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* A copy of exactly the input, so reading past it is caught. */
	char *copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	if (data[0] & 1)
		domain(copy, size - 1);
	else
		record(copy, size - 1);
	free(copy);
	return 0;
}
