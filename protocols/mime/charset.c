/* Text into UTF-8: charset conversion with glibc's iconv, UTF-8 repair,
 * and Unicode simple case folding for search (manual: "Search uses Unicode
 * simple case folding"). */
#include <errno.h>
#include <iconv.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

static const char replacement[] = "\xef\xbf\xbd";	/* U+FFFD */

bool mime_is_ascii(const void *in, size_t len)
{
	const uint8_t *s = in;
	for (size_t i = 0; i < len; i++)
		if (s[i] >= 0x80)
			return false;
	return true;
}

int mime_utf8_sanitize(const void *in, size_t len, struct buf *out)
{
	const uint8_t *s = in;
	size_t run = 0, i = 0;
	int r = 0;
	while (i < len && r == 0) {
		uint32_t cp;
		size_t n = s[i] < 0x80 ? 1 : mime__utf8_decode(s + i, len - i, &cp);
		if (n > 0) {
			i += n;
			continue;
		}
		r = buf_append(out, s + run, i - run);
		if (r == 0)
			r = buf_append(out, replacement, 3);
		run = ++i;
	}
	return r < 0 ? r : buf_append(out, s + run, len - run);
}

/* A charset name iconv may see: MIME charset characters only, so that no
 * "//TRANSLIT"-style suffix or path reaches it. */
static bool charset_name_ok(const char *cs)
{
	size_t n = strlen(cs);
	if (n == 0 || n > 40)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = cs[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("-_.:+()", c)))
			return false;
	}
	return true;
}

static bool is_utf8_name(const char *cs)
{
	return strcasecmp(cs, "utf-8") == 0 || strcasecmp(cs, "utf8") == 0 ||
	       strcasecmp(cs, "us-ascii") == 0 || strcasecmp(cs, "ascii") == 0;
}

static int convert(iconv_t cd, const void *in, size_t len, struct buf *out)
{
	char chunk[1024];
	char *ip = (char *)in;
	size_t left = len;
	int r = 0;
	while (r == 0) {
		char *op = chunk;
		size_t room = sizeof(chunk);
		size_t n = iconv(cd, left ? &ip : NULL, left ? &left : NULL, &op, &room);
		int e = n == (size_t)-1 ? errno : 0;
		r = buf_append(out, chunk, (size_t)(op - chunk));
		if (r < 0 || e == 0)
			break;
		if (e == E2BIG)
			continue;
		/* EILSEQ, or EINVAL for a sequence cut by the end. */
		r = buf_append(out, replacement, 3);
		if (e == EINVAL || left == 0) {
			left = 0;
			continue;
		}
		ip++;
		left--;
	}
	return r;
}

int mime_charset_to_utf8(const char *charset, const void *in, size_t len, struct buf *out)
{
	if (charset == NULL || !charset_name_ok(charset))
		return -ENOENT;
	/* US-ASCII text with 8-bit bytes is UTF-8 more often than not. */
	if (is_utf8_name(charset))
		return mime_utf8_sanitize(in, len, out);
	iconv_t cd = iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1)
		return -ENOENT;
	size_t start = out->len;
	int r = convert(cd, in, len, out);
	iconv_close(cd);
	if (r < 0)
		out->len = start;
	return r;
}

/* ---- Simple case folding ------------------------------------------------- */

/* CaseFolding.txt C and S entries, found once through libunistring: a code
 * point whose full folding (u8_casefold) is one code point has that as its
 * C mapping; one whose full folding is longer (status F) has an S mapping
 * exactly when it is an upper or title case letter with a lower case
 * mapping (ẞ, the Greek letters with prosgegrammeni), except U+0130 İ,
 * which has only F and T entries. */
struct fold_pair {
	uint32_t from, to;
};

static struct fold_pair *fold_table;
static size_t fold_count;
static pthread_once_t fold_once = PTHREAD_ONCE_INIT;

static uint32_t simple_fold_of(uint32_t cp)
{
	if (uc_tolower(cp) == cp && uc_toupper(cp) == cp)
		return cp;
	uint8_t in[8], res[32];
	struct buf b = { (char *)in, 0, 4, 4 };
	(void)mime__utf8_put(&b, cp);
	size_t n = sizeof(res);
	uint8_t *f = u8_casefold(in, b.len, NULL, NULL, res, &n);
	if (f == NULL)
		return cp;
	uint32_t first = cp;
	size_t cl = mime__utf8_decode(f, n, &first);
	if (f != res)
		free(f);
	if (cl == n)
		return first;
	return cp == 0x130 ? cp : uc_tolower(cp);
}

static void fold_build(void)
{
	size_t cap = 2048;
	fold_table = xmalloc(cap * sizeof(*fold_table));
	for (uint32_t cp = 0x80; cp < 0x20000; cp++) {
		if (cp >= 0xd800 && cp <= 0xdfff)
			continue;
		uint32_t to = simple_fold_of(cp);
		if (to == cp)
			continue;
		if (fold_count == cap) {
			cap *= 2;
			fold_table = xrealloc(fold_table, cap * sizeof(*fold_table));
		}
		fold_table[fold_count].from = cp;
		fold_table[fold_count].to = to;
		fold_count++;
	}
}

static uint32_t fold(uint32_t cp)
{
	if (cp < 0x80)
		return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
	size_t lo = 0, hi = fold_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (fold_table[mid].from == cp)
			return fold_table[mid].to;
		if (fold_table[mid].from < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return cp;
}

int mime_text_fold(const char *utf8_in, size_t len, struct buf *out)
{
	const uint8_t *s = (const uint8_t *)utf8_in;
	int r = 0;
	pthread_once(&fold_once, fold_build);
	for (size_t i = 0; i < len && r == 0;) {
		uint32_t cp = 0xfffd;
		size_t n = mime__utf8_decode(s + i, len - i, &cp);
		if (n == 0) {
			cp = 0xfffd;
			n = 1;
		}
		r = mime__utf8_put(out, fold(cp));
		i += n;
	}
	return r;
}
