#include "protocols/imap/istring.h"
#include "tests/unit/test.h"

static void expect_out(const char *in, size_t len, unsigned flags, const char *want, size_t want_len)
{
	struct buf b = BUF_INIT(0);
	CHECK_INT(istring_append(&b, in, len, flags), ==, 0);
	if (b.len != want_len || memcmp(b.data, want, want_len) != 0)
		test_fail(__FILE__, __LINE__, "got [%.*s] want [%.*s]", (int)b.len, b.data,
			  (int)want_len, want);
	buf_free(&b);
}
#define EXPECT(in, flags, want) expect_out(in, sizeof(in) - 1, flags, want, sizeof(want) - 1)

TEST(atoms_quoted_literals)
{
	EXPECT("INBOX", ISTRING_ALLOW_ATOM, "INBOX");
	EXPECT("INBOX", 0, "\"INBOX\"");
	EXPECT("NIL", ISTRING_ALLOW_ATOM, "\"NIL\"");
	EXPECT("", ISTRING_ALLOW_ATOM, "\"\"");
	EXPECT("a b", ISTRING_ALLOW_ATOM, "\"a b\"");
	EXPECT("say \"hi\\\"", 0, "\"say \\\"hi\\\\\\\"\"");
	EXPECT("two\r\nlines", 0, "{10}\r\ntwo\r\nlines");
	EXPECT("caf\xc3\xa9", 0, "{5}\r\ncaf\xc3\xa9");
	EXPECT("caf\xc3\xa9", ISTRING_UTF8, "\"caf\xc3\xa9\"");
	EXPECT("a\0b", 0, "~{3}\r\na\0b");
	EXPECT("x]", ISTRING_ALLOW_ATOM, "\"x]\"");
}

TEST(nil_for_null)
{
	struct buf b = BUF_INIT(0);
	CHECK_INT(istring_append(&b, NULL, 0, ISTRING_NIL_FOR_NULL), ==, 0);
	CHECK_STR(b.data, "NIL");
	buf_free(&b);
}
