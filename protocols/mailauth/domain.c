/* Domains as DMARC, DKIM and SPF compare them: lower-case A-labels. */
#include "protocols/mailauth/mailauth-private.h"

#include <errno.h>
#include <string.h>

static bool ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int mailauth_domain_normalize(const char *in, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || outlen < DNS_MAX_NAME + 1)
		return -EINVAL;
	for (size_t start = 0; start <= len;) {
		const char *dot = memchr(in + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - in) : len;
		size_t llen = end - start;
		bool ascii = true;
		if (llen == 0)
			return -EINVAL;
		for (size_t i = start; i < end; i++) {
			unsigned char c = (unsigned char)in[i];
			if (c >= 'A' && c <= 'Z')
				c += 32;
			if (c < 0x80 && !ldh(c))
				return -EINVAL;	/* in a U-label as in any other */
			ascii = ascii && c < 0x80;
		}
		if (o > 0)
			out[o++] = '.';
		if (ascii) {
			if (llen > 63 || o + llen > DNS_MAX_NAME)
				return -EINVAL;
			for (size_t i = start; i < end; i++) {
				unsigned char c = (unsigned char)in[i];
				out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
		} else {
			char label[64];
			size_t plen;
			if (punycode_encode(in + start, llen, label, sizeof(label) - 4, &plen) < 0 ||
			    4 + plen > 63 || o + 4 + plen > DNS_MAX_NAME)
				return -EINVAL;
			memcpy(out + o, "xn--", 4);
			o += 4;
			for (size_t i = 0; i < plen; i++) {
				unsigned char c = (unsigned char)label[i];
				out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
			}
		}
		start = end + 1;
		if (!dot)
			break;
	}
	out[o] = '\0';
	return 0;
}
