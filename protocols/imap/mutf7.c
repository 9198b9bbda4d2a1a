#include "protocols/imap/mutf7.h"

#include <errno.h>
#include <stdint.h>

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Decodes one UTF-8 sequence at s; returns its length or 0 if invalid. */
static size_t utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	size_t n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 ? 2 : 0;
	if (n == 0 || s[0] > 0xf4 || n > len)
		return 0;
	uint32_t c = s[0] & (0x7f >> n);
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	for (size_t i = 0; i < len;) {
		size_t n = utf8_next(p + i, len - i, &cp);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

static void utf8_put(struct buf *out, uint32_t c)
{
	char b[4];
	size_t n;
	if (c < 0x80) {
		b[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = (char)(0xc0 | c >> 6);
		b[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		b[0] = (char)(0xe0 | c >> 12);
		b[1] = (char)(0x80 | (c >> 6 & 0x3f));
		b[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | c >> 18);
		b[1] = (char)(0x80 | (c >> 12 & 0x3f));
		b[2] = (char)(0x80 | (c >> 6 & 0x3f));
		b[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	buf_append(out, b, n);
}

/* One "&...-" run: base64 of UTF-16BE. */
static int decode_run(const unsigned char *s, size_t len, struct buf *out)
{
	uint32_t bits = 0, high = 0;
	int nbits = 0;
	for (size_t i = 0; i < len; i++) {
		int v = b64_value(s[i]);
		if (v < 0)
			return -EINVAL;
		bits = bits << 6 | (uint32_t)v;
		nbits += 6;
		if (nbits < 16)
			continue;
		nbits -= 16;
		uint32_t unit = bits >> nbits & 0xffff;
		if (unit >= 0xd800 && unit <= 0xdbff) {
			if (high)
				return -EINVAL;
			high = unit;
			continue;
		}
		uint32_t cp = unit;
		if (unit >= 0xdc00 && unit <= 0xdfff) {
			if (!high)
				return -EINVAL;
			cp = 0x10000 + ((high - 0xd800) << 10) + (unit - 0xdc00);
			high = 0;
		} else if (high) {
			return -EINVAL;
		}
		if (cp == 0)
			return -EINVAL;
		utf8_put(out, cp);
	}
	/* Leftover bits must be padding zeros, fewer than 6 of them. */
	if (high || nbits >= 6 || (bits & ((1u << nbits) - 1)))
		return -EINVAL;
	return 0;
}

int mutf7_decode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	for (size_t i = 0; i < len;) {
		if (s[i] == 0 || s[i] >= 0x80)
			return -EINVAL;
		if (s[i] != '&') {
			buf_append(out, in + i, 1);
			i++;
			continue;
		}
		size_t end = i + 1;
		while (end < len && s[end] != '-')
			end++;
		if (end == len)
			return -EINVAL;
		if (end == i + 1) {
			buf_append(out, "&", 1);
		} else {
			int r = decode_run(s + i + 1, end - i - 1, out);
			if (r < 0)
				return r;
		}
		i = end + 1;
	}
	return 0;
}

static void flush_bits(struct buf *out, uint32_t *bits, int *nbits)
{
	while (*nbits >= 6) {
		*nbits -= 6;
		buf_append(out, &b64_alphabet[*bits >> *nbits & 0x3f], 1);
	}
}

static void encode_unit(struct buf *out, uint32_t unit, uint32_t *bits, int *nbits)
{
	*bits = *bits << 16 | unit;
	*nbits += 16;
	flush_bits(out, bits, nbits);
	*bits &= (1u << *nbits) - 1;
}

int mutf7_encode(const char *in, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)in;
	int in_run = 0, nbits = 0;
	uint32_t bits = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_next(s + i, len - i, &cp);
		if (n == 0)
			return -EINVAL;
		i += n;
		if (cp >= 0x20 && cp <= 0x7e) {
			if (in_run) {
				if (nbits)
					buf_append(out, &b64_alphabet[bits << (6 - nbits) & 0x3f], 1);
				buf_append(out, "-", 1);
				in_run = 0;
				nbits = 0;
				bits = 0;
			}
			buf_append(out, cp == '&' ? "&-" : (const char *)&s[i - 1], cp == '&' ? 2 : 1);
			continue;
		}
		if (!in_run) {
			buf_append(out, "&", 1);
			in_run = 1;
		}
		if (cp >= 0x10000) {
			cp -= 0x10000;
			encode_unit(out, 0xd800 + (cp >> 10), &bits, &nbits);
			encode_unit(out, 0xdc00 + (cp & 0x3ff), &bits, &nbits);
		} else {
			encode_unit(out, cp, &bits, &nbits);
		}
	}
	if (in_run) {
		if (nbits)
			buf_append(out, &b64_alphabet[bits << (6 - nbits) & 0x3f], 1);
		buf_append(out, "-", 1);
	}
	return 0;
}
