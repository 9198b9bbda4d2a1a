/* Punycode (RFC 3492 6.3), encoding only: the Public Suffix List has its
 * internationalised rules in UTF-8, while DNS and mail headers carry
 * A-labels, so both sides are compared in the "xn--" form. */
#include "protocols/mailauth/mailauth-private.h"

#include <errno.h>

enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700,
       INITIAL_BIAS = 72, INITIAL_N = 128 };

/* Labels are at most 63 bytes, so a few code points suffice; more is an
 * error, not a truncation. */
#define MAX_CODE_POINTS 64

static int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp, size_t *n_r)
{
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		uint32_t c = s[i];
		size_t extra;
		if (c < 0x80)
			extra = 0;
		else if ((c & 0xe0) == 0xc0)
			extra = 1, c &= 0x1f;
		else if ((c & 0xf0) == 0xe0)
			extra = 2, c &= 0x0f;
		else if ((c & 0xf8) == 0xf0)
			extra = 3, c &= 0x07;
		else
			return -EINVAL;
		if (extra > len - i - 1 || n >= MAX_CODE_POINTS)
			return -EINVAL;
		for (size_t k = 1; k <= extra; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return -EINVAL;
			c = c << 6 | (s[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past Unicode. */
		static const uint32_t min[] = { 0, 0x80, 0x800, 0x10000 };
		if (c < min[extra] || (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
			return -EINVAL;
		cp[n++] = c;
		i += extra + 1;
	}
	*n_r = n;
	return 0;
}

static uint32_t adapt(uint32_t delta, uint32_t numpoints, bool first)
{
	uint32_t k = 0;
	delta = first ? delta / DAMP : delta / 2;
	delta += delta / numpoints;
	while (delta > ((BASE - TMIN) * TMAX) / 2) {
		delta /= BASE - TMIN;
		k += BASE;
	}
	return k + (BASE - TMIN + 1) * delta / (delta + SKEW);
}

static int put(char *out, size_t outlen, size_t *o, char c)
{
	if (*o >= outlen)
		return -E2BIG;
	out[(*o)++] = c;
	return 0;
}

static char digit(uint32_t d)
{
	return (char)(d < 26 ? 'a' + d : '0' + d - 26);
}

int punycode_encode(const char *utf8, size_t len, char *out, size_t outlen,
		    size_t *outlen_r)
{
	uint32_t cp[MAX_CODE_POINTS];
	size_t n_cp, o = 0;
	int r = utf8_decode((const unsigned char *)utf8, len, cp, &n_cp);
	if (r < 0)
		return r;

	uint32_t b = 0;
	for (size_t i = 0; i < n_cp; i++) {
		if (cp[i] >= 0x80)
			continue;
		if ((r = put(out, outlen, &o, (char)cp[i])) < 0)
			return r;
		b++;
	}
	if (b > 0 && (r = put(out, outlen, &o, '-')) < 0)
		return r;

	uint32_t n = INITIAL_N, delta = 0, bias = INITIAL_BIAS, h = b;
	while (h < n_cp) {
		uint32_t m = UINT32_MAX;
		for (size_t i = 0; i < n_cp; i++)
			if (cp[i] >= n && cp[i] < m)
				m = cp[i];
		/* With at most 64 code points below 0x110000 nothing here
		 * can overflow 32 bits. */
		delta += (m - n) * (h + 1);
		n = m;
		for (size_t i = 0; i < n_cp; i++) {
			if (cp[i] < n)
				delta++;
			if (cp[i] != n)
				continue;
			uint32_t q = delta;
			for (uint32_t k = BASE;; k += BASE) {
				uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
				if (q < t)
					break;
				if ((r = put(out, outlen, &o, digit(t + (q - t) % (BASE - t)))) < 0)
					return r;
				q = (q - t) / (BASE - t);
			}
			if ((r = put(out, outlen, &o, digit(q))) < 0)
				return r;
			bias = adapt(delta, h + 1, h == b);
			delta = 0;
			h++;
		}
		delta++;
		n++;
	}
	*outlen_r = o;
	return 0;
}
