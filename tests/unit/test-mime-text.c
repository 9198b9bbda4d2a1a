/* Unit tests of the text side of the MIME layer: RFC 2047 encoded words,
 * charset conversion, simple case folding, RFC 5322 dates, address lists
 * and search text. */
#include "tests/unit/test.h"

#include <errno.h>
#include <stdint.h>

#include "protocols/mime/mime.h"
#include "src/util/xmalloc.h"

static char *decode(const char *in)
{
	struct buf b = BUF_INIT(0);
	CHECK(mime_encword_decode(in, strlen(in), &b) == 0);
	return b.data ? buf_steal(&b) : xstrdup("");
}

#define DECODES_TO(in, want)              \
	do {                              \
		char *got_ = decode(in);  \
		CHECK_STR(got_, want);    \
		free(got_);               \
	} while (0)

TEST(encoded_words_decode)
{
	DECODES_TO("=?utf-8?q?a_b?=", "a b");
	DECODES_TO("=?ISO-8859-1?Q?caf=E9?=", "caf\xc3\xa9");
	DECODES_TO("=?utf-8?B?w6k=?=", "\xc3\xa9");
	/* Plain text around words keeps its spaces; between words they go,
	 * even when the charsets differ (RFC 2047 6.2). */
	DECODES_TO("a =?utf-8?q?b?= c", "a b c");
	DECODES_TO("=?utf-8?q?a?= \t =?iso-8859-1?q?=E9?=", "a\xc3\xa9");
	/* RFC 2231 5: a language after the charset. */
	DECODES_TO("=?utf-8*en?q?x?=", "x");
	DECODES_TO("no words at all", "no words at all");
	DECODES_TO("", "");
}

TEST(encoded_words_tolerate_common_errors)
{
	/* Base64 without its padding, or with too much. */
	DECODES_TO("=?utf-8?B?w6k?=", "\xc3\xa9");
	DECODES_TO("=?utf-8?b?w6k===?=", "\xc3\xa9");
	/* Adjacent words with no space between them. */
	DECODES_TO("=?utf-8?q?a?==?utf-8?q?b?=", "ab");
	/* A character split over two words of one charset. */
	DECODES_TO("=?utf-8?b?ww==?= =?utf-8?b?qQ==?=", "\xc3\xa9");
	/* Unknown charsets and encodings stay as they are. */
	DECODES_TO("=?x-nope?q?stays?= there", "=?x-nope?q?stays?= there");
	DECODES_TO("=?utf-8?x?abc?=", "=?utf-8?x?abc?=");
	/* A space inside is no encoded word. */
	DECODES_TO("=?utf-8?q?bad space?=", "=?utf-8?q?bad space?=");
	DECODES_TO("=?utf-8?q?unterminated", "=?utf-8?q?unterminated");
	/* A broken Q escape is itself. */
	DECODES_TO("=?utf-8?q?a=ZZb?=", "a=ZZb");
	/* Invalid UTF-8, raw or decoded, becomes U+FFFD. */
	DECODES_TO("x\xffy", "x\xef\xbf\xbdy");
	DECODES_TO("=?utf-8?q?=FF?=", "\xef\xbf\xbd");
}

TEST(encoded_words_encode_and_round_trip)
{
	struct buf in = BUF_INIT(0), enc = BUF_INIT(0);
	for (int i = 0; i < 100; i++)
		CHECK(buf_puts(&in, i % 3 ? "\xc3\xa9" : "x") == 0);
	CHECK(mime_encword_encode(in.data, in.len, &enc) == 0);
	/* Every word at most 75 characters (RFC 2047 2), separated by spaces. */
	char *save, *copy = xstrdup(enc.data);
	unsigned words = 0;
	for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		CHECK_INT(strlen(w), <=, 75);
		CHECK(strncmp(w, "=?UTF-8?B?", 10) == 0);
		words++;
	}
	CHECK_INT(words, >=, 4);
	free(copy);
	char *back = decode(enc.data);
	CHECK_STR(back, in.data);
	free(back);
	enc.len = 0;
	CHECK(mime_encword_encode("Gr\xc3\xbc\xc3\x9f" "e", 7, &enc) == 0);
	CHECK_STR(enc.data, "=?UTF-8?B?R3LDvMOfZQ==?=");
	buf_free(&in);
	buf_free(&enc);
}

static char *to_utf8(const char *cs, const char *in, size_t len, int want_r)
{
	struct buf b = BUF_INIT(0);
	CHECK_INT(mime_charset_to_utf8(cs, in, len, &b), ==, want_r);
	return b.data ? buf_steal(&b) : xstrdup("");
}

TEST(charsets_convert_to_utf8)
{
	char *s = to_utf8("iso-8859-1", "caf\xe9", 4, 0);
	CHECK_STR(s, "caf\xc3\xa9");
	free(s);
	s = to_utf8("windows-1252", "\x80", 1, 0);
	CHECK_STR(s, "\xe2\x82\xac");
	free(s);
	s = to_utf8("Shift_JIS", "\x82\xa0", 2, 0);
	CHECK_STR(s, "\xe3\x81\x82");
	free(s);
	s = to_utf8("koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", 6, 0);
	CHECK_STR(s, "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	free(s);
	/* Bytes invalid in the charset, and one cut short at the end. */
	s = to_utf8("utf-8", "a\xc3(\xe2\x82", 5, 0);
	CHECK_STR(s, "a\xef\xbf\xbd(\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = to_utf8("Shift_JIS", "a\x82", 2, 0);
	CHECK_STR(s, "a\xef\xbf\xbd");
	free(s);
	/* US-ASCII with 8-bit bytes is read as UTF-8. */
	s = to_utf8("us-ascii", "\xc3\xa9", 2, 0);
	CHECK_STR(s, "\xc3\xa9");
	free(s);
}

TEST(unknown_charsets_are_refused)
{
	const char *bad[] = { "x-unknown-thing", "utf-8//TRANSLIT", "../etc", "", "a b",
			      "0123456789012345678901234567890123456789x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *s = to_utf8(bad[i], "x", 1, -ENOENT);
		CHECK_STR(s, "");
		free(s);
	}
	struct buf b = BUF_INIT(0);
	CHECK_INT(mime_charset_to_utf8(NULL, "x", 1, &b), ==, -ENOENT);
	buf_free(&b);
}

static char *fold(const char *s)
{
	struct buf b = BUF_INIT(0);
	CHECK(mime_text_fold(s, strlen(s), &b) == 0);
	return b.data ? buf_steal(&b) : xstrdup("");
}

#define FOLDS_TO(in, want)              \
	do {                            \
		char *got_ = fold(in);  \
		CHECK_STR(got_, want);  \
		free(got_);             \
	} while (0)

TEST(simple_case_folding)
{
	FOLDS_TO("Hello WORLD", "hello world");
	/* German: ß has only a full folding ("ss"), so simple folding keeps
	 * it; capital ẞ has the simple (S) folding to ß. */
	FOLDS_TO("STRA\xc3\x9f" "E", "stra\xc3\x9f" "e");
	FOLDS_TO("\xe1\xba\x9e", "\xc3\x9f");
	FOLDS_TO("STRASSE", "strasse");
	/* Turkish: I folds to i (C); dotted İ (U+0130) and dotless ı (U+0131)
	 * have no simple folding (only F and T entries) and stay. */
	FOLDS_TO("I", "i");
	FOLDS_TO("\xc4\xb0", "\xc4\xb0");
	FOLDS_TO("\xc4\xb1", "\xc4\xb1");
	/* Greek: Σ and final ς both fold to σ, so ΣΊΣΥΦΟΣ matches σίσυφος. */
	FOLDS_TO("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3",
		 "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83");
	FOLDS_TO("\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x82",
		 "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83");
	/* Others with C entries: micro sign, long s, Kelvin, titlecase dz,
	 * Cherokee small letters fold to the capitals. */
	FOLDS_TO("\xc2\xb5", "\xce\xbc");
	FOLDS_TO("\xc5\xbf", "s");
	FOLDS_TO("\xe2\x84\xaa", "k");
	FOLDS_TO("\xc7\x85", "\xc7\x86");
	FOLDS_TO("\xea\xad\xb0", "\xe1\x8e\xa0");
	FOLDS_TO("\xe1\x8e\xa0", "\xe1\x8e\xa0");
	/* S entry: ᾈ to ᾀ; F only: the ligature ﬀ stays. */
	FOLDS_TO("\xe1\xbe\x88", "\xe1\xbe\x80");
	FOLDS_TO("\xef\xac\x80", "\xef\xac\x80");
	/* Supplementary planes: Deseret 𐐀 to 𐐨. */
	FOLDS_TO("\xf0\x90\x90\x80", "\xf0\x90\x90\xa8");
	/* Invalid UTF-8 becomes U+FFFD. */
	FOLDS_TO("A\xff" "B", "a\xef\xbf\xbd" "b");
}

static void date_is(const char *s, long long want_t, int want_zone)
{
	time_t t;
	int zone;
	if (mime_date_parse(s, strlen(s), &t, &zone) != 0)
		test_fail(__FILE__, __LINE__, "date \"%s\" refused", s);
	if ((long long)t != want_t || zone != want_zone)
		test_fail(__FILE__, __LINE__, "date \"%s\": %lld %d, want %lld %d", s,
			  (long long)t, zone, want_t, want_zone);
}

static void date_bad(const char *s, size_t len)
{
	time_t t;
	int zone;
	if (mime_date_parse(s, len, &t, &zone) != -EINVAL)
		test_fail(__FILE__, __LINE__, "date \"%s\" accepted", s);
}

TEST(dates)
{
	date_is("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)", 837595405, -420);
	date_is("Thu, 1 Jan 1970 00:00:00 GMT", 0, 0);
	/* RFC 5322 4.3: two-digit years, three-digit years, named zones. */
	date_is("17 Jul 96 02:23 PDT", 837595380, -420);
	date_is("1 Jan 70 00:00:00 +0000", 0, 0);
	date_is("1 Jan 49 00:00:00 +0000", 2493072000LL, 0);
	date_is("1 Jan 103 00:00:00 UT", 1041379200, 0);
	date_is("29 Feb 2020 23:59:60 +0000", 1583020799, 0);	/* leap second */
	/* asctime() style, no zone; "+hh:mm"; military zones count as
	 * +0000 (RFC 5322 4.3); comments anywhere. */
	date_is("Tue Jul  1 10:52:37 2003", 1057056757, 0);
	date_is("Tue,1 Jul 2003 10:52:37 +02:00", 1057049557, 120);
	date_is("1 Jul 2003 10:52:37 Z", 1057056757, 0);
	date_is("(c) 1 (c) Jul (c) 2003 10:52 (c) +0100 (PDT)", 1057053120, 60);
	date_is("1 jUL 2003 10.52.37 +0000", 1057056757, 0);
	date_is("1 Jan 1900 00:00:00 +0000", -2208988800LL, 0);
}

TEST(bad_dates_are_refused)
{
	const char *bad[] = { "", "garbage", "Mon, 29 Feb 2021 00:00:00 +0000",
			      "32 Jan 2020 00:00 +0000", "1 Jan 2020 24:00 +0000",
			      "1 Jan 2020", "1 2020 10:00", "Jan 2020 10:00:00",
			      "1 Jan 12345 00:00 +0000", "1 Jan 2020 10:61 +0000",
			      "1 Jan 2020 10:00 +0000 5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		date_bad(bad[i], strlen(bad[i]));
	/* Stray NULs are skipped like other junk, never looped on. */
	date_bad("\0\0\0", 3);
	time_t t;
	int zone;
	CHECK_INT(mime_date_parse("1 Jan\0 2020 00:00", 17, &t, &zone), ==, 0);
	CHECK_INT(t, ==, 1577836800);
}

static char *addresses(const char *in)
{
	struct mime_address *v;
	size_t n;
	mime_addresses_parse(in, strlen(in), &v, &n);
	struct buf b = BUF_INIT(0);
	for (size_t i = 0; i < n; i++)
		CHECK(buf_printf(&b, "[%s|%s|%s]", v[i].name ? v[i].name : "-",
				 v[i].mailbox ? v[i].mailbox : "-", v[i].host ? v[i].host : "-") ==
		      0);
	mime_addresses_free(&v, n);
	return b.data ? buf_steal(&b) : xstrdup("");
}

#define ADDRESSES(in, want)                \
	do {                               \
		char *got_ = addresses(in); \
		CHECK_STR(got_, want);     \
		free(got_);                \
	} while (0)

TEST(address_lists)
{
	ADDRESSES("a@b", "[-|a|b]");
	ADDRESSES("John Doe <jdoe@machine.example>", "[John Doe|jdoe|machine.example]");
	ADDRESSES("\"Joe Q. Public\" <john.q.public@example.com>",
		  "[Joe Q. Public|john.q.public|example.com]");
	/* RFC 5322 A.1.2 */
	ADDRESSES("Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
		  "[Mary Smith|mary|x.test][-|jdoe|example.org][Who?|one|y.test]");
	ADDRESSES("<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
		  "[-|boss|nil.test][Giant; \"Big\" Box|sysservices|example.net]");
	/* RFC 5322 A.1.3: groups */
	ADDRESSES("A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
		  "[-|A Group|-][Ed Jones|c|a.test][-|joe|where.test][John|jdoe|one.test][-|-|-]");
	ADDRESSES("Undisclosed recipients:;", "[-|Undisclosed recipients|-][-|-|-]");
	/* RFC 5322 A.5: comments and folding white space */
	ADDRESSES("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
		  "[Pete|pete|silly.test]");
	ADDRESSES("(Empty list)(start)Hidden recips :(nobody(that I know))  ;",
		  "[-|Hidden recips|-][-|-|-]");
	/* RFC 5322 A.6.1: obsolete forms */
	ADDRESSES("Joe Q. Public <john.q.public@example.com>",
		  "[Joe Q. Public|john.q.public|example.com]");
	ADDRESSES("Mary Smith <@node.test:mary@example.net>, , jdoe@test  . example",
		  "[Mary Smith|mary|example.net][-|jdoe|test.example]");
	ADDRESSES("john . q . public @ example . com", "[-|john.q.public|example.com]");
	/* Name from a trailing comment; domain literals; quoted locals. */
	ADDRESSES("gray@cac.washington.edu (Terry Gray)", "[Terry Gray|gray|cac.washington.edu]");
	ADDRESSES("a@[192.0.2.1]", "[-|a|[192.0.2.1]]");
	ADDRESSES("\"john doe\"@example.org", "[-|\"john doe\"|example.org]");
	/* Missing group end, unterminated angle, empty input. */
	ADDRESSES("G: a@b", "[-|G|-][-|a|b][-|-|-]");
	ADDRESSES("Name <a@b", "[Name|a|b]");
	ADDRESSES("", "");
	ADDRESSES("   ", "");
	ADDRESSES(",,, ;", "");
	ADDRESSES("<>", "[-|<>|]");
}

/* ---- Search text ------------------------------------------------------ */

static const char search_msg[] =
	"Subject: =?utf-8?q?Gr=C3=9C=C3=9Fe?= aus\r\n"
	"From: =?iso-8859-1?q?J=F6rg?= <j@example.de>\r\n"
	"X-Folded: one\r\n two\r\n"
	"Content-Type: multipart/mixed; boundary=s\r\n"
	"\r\n"
	"--s\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Caf=E9 AU LAIT=\r\n"
	"!\r\n"
	"--s\r\n"
	"Content-Type: image/png\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"SGlkZGVu\r\n"
	"--s\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"zqPOn86mzpnOkQ==\r\n"
	"--s\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"Content-Type: text/plain; charset=x-no-such-charset\r\n"
	"\r\n"
	"Bad \xff Bytes\r\n"
	"--s--\r\n";

TEST(search_header_text_is_decoded_and_folded)
{
	struct mime_source src = mime_source_memory(search_msg, sizeof(search_msg) - 1);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	struct buf out = BUF_INIT(0);
	CHECK_INT(mime_search_header(m, &src, "SUBJECT", MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	/* Ü folds to ü; ß has no simple folding. */
	CHECK_STR(out.data, "gr\xc3\xbc\xc3\x9f" "e aus\n");
	out.len = 0;
	CHECK_INT(mime_search_header(m, &src, "from", MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	CHECK_STR(out.data, "j\xc3\xb6rg <j@example.de>\n");
	out.len = 0;
	CHECK_INT(mime_search_header(m, &src, "x-folded", MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	CHECK_STR(out.data, "one two\n");
	out.len = 0;
	CHECK_INT(mime_search_header(m, &src, NULL, MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	CHECK(strstr(out.data, "subject: gr\xc3\xbc") != NULL);
	CHECK(strstr(out.data, "content-type: multipart/mixed; boundary=s\n") != NULL);
	out.len = 0;
	CHECK_INT(mime_search_header(m, &src, NULL, 10, &out), ==, 0);
	CHECK_INT(out.len, <=, 10);
	buf_free(&out);
	mime_message_free(&m);
}

TEST(search_body_text_is_decoded_converted_and_folded)
{
	struct mime_source src = mime_source_memory(search_msg, sizeof(search_msg) - 1);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	struct buf out = BUF_INIT(0);
	CHECK_INT(mime_search_body(m, &src, MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	/* Latin-1 QP with a soft break; the image is skipped; Greek from
	 * base64 UTF-8 HTML; an unknown charset read as UTF-8, the invalid
	 * byte replaced; text inside the enclosed message counts. */
	CHECK_STR(out.data, "caf\xc3\xa9 au lait!\n"
			    "\xcf\x83\xce\xbf\xcf\x86\xce\xb9\xce\xb1\n"
			    "bad \xef\xbf\xbd bytes");
	buf_free(&out);
	mime_message_free(&m);
}

TEST(search_text_stops_at_the_limit)
{
	struct buf msg = BUF_INIT(0);
	CHECK(buf_puts(&msg, "Content-Type: text/plain; charset=utf-8\n\n") == 0);
	for (int i = 0; i < 100000; i++)
		CHECK(buf_puts(&msg, "\xc3\x89t\xc3\xa9 ") == 0);	/* "Été " */
	struct mime_source src = mime_source_memory(msg.data, msg.len);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	struct buf out = BUF_INIT(0);
	CHECK_INT(mime_search_body(m, &src, MIME_SEARCH_MAX_TEXT, &out), ==, 0);
	CHECK_INT(out.len, <=, MIME_SEARCH_MAX_TEXT);
	CHECK_INT(out.len, >, MIME_SEARCH_MAX_TEXT - 8);
	CHECK(strncmp(out.data, "\xc3\xa9t\xc3\xa9 ", 6) == 0);
	/* Cut on a character boundary: the result is valid UTF-8. */
	struct buf again = BUF_INIT(0);
	CHECK(mime_utf8_sanitize(out.data, out.len, &again) == 0);
	CHECK_INT(again.len, ==, out.len);
	buf_free(&again);
	buf_free(&out);
	buf_free(&msg);
	mime_message_free(&m);
}
