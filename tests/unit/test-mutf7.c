#include <errno.h>

#include "protocols/imap/mutf7.h"
#include "tests/unit/test.h"

static void round_trip(const char *utf8, const char *wire)
{
	struct buf b = BUF_INIT(0);
	CHECK_INT(mutf7_encode(utf8, strlen(utf8), &b), ==, 0);
	CHECK_STR(b.data ? b.data : "", wire);
	buf_free(&b);
	CHECK_INT(mutf7_decode(wire, strlen(wire), &b), ==, 0);
	CHECK_STR(b.data ? b.data : "", utf8);
	buf_free(&b);
}

TEST(rfc3501_examples)
{
	/* RFC 3501 5.1.3: "~peter/mail/台北/日本語" */
	round_trip("~peter/mail/\xe5\x8f\xb0\xe5\x8c\x97/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
		   "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
	round_trip("Tom & Jerry", "Tom &- Jerry");
	round_trip("", "");
	round_trip("plain ASCII", "plain ASCII");
}

TEST(non_bmp_uses_surrogate_pairs)
{
	round_trip("mail \xf0\x9f\x93\xab box", "mail &2D3c6w- box");
}

TEST(non_normalised_input_is_accepted)
{
	struct buf b = BUF_INIT(0);
	/* "A" encoded (should have been plain), then two adjacent runs. */
	CHECK_INT(mutf7_decode("&AEE-", 5, &b), ==, 0);
	CHECK_STR(b.data, "A");
	buf_reset(&b);
	CHECK_INT(mutf7_decode("&U,A-&U,A-", 10, &b), ==, 0);
	CHECK_STR(b.data, "\xe5\x8f\xb0\xe5\x8f\xb0");
	buf_free(&b);
}

TEST(malformed_input_is_refused)
{
	static const char *bad[] = {
		"&U,BTFw",	/* no closing '-' */
		"&U*BTFw-",	/* not modified base64 */
		"&2D0-",	/* lone high surrogate */
		"&3Ck-",	/* lone low surrogate */
		"&AAA-",	/* NUL */
		"caf\xc3\xa9",	/* 8-bit without UTF8=ACCEPT */
		"&U,BTF1-",	/* non-zero padding bits */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct buf b = BUF_INIT(0);
		if (mutf7_decode(bad[i], strlen(bad[i]), &b) != -EINVAL)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		buf_free(&b);
	}
}

TEST(utf8_validation)
{
	CHECK(utf8_valid("caf\xc3\xa9", 5));
	CHECK(!utf8_valid("\xc0\xaf", 2));		/* overlong */
	CHECK(!utf8_valid("\xed\xa0\x80", 3));	/* surrogate */
	CHECK(!utf8_valid("\xf4\x90\x80\x80", 4));	/* > U+10FFFF */
	CHECK(!utf8_valid("\xe6\x97", 2));		/* truncated */
	struct buf b = BUF_INIT(0);
	CHECK_INT(mutf7_encode("\xff", 1, &b), ==, -EINVAL);
	buf_free(&b);
}
