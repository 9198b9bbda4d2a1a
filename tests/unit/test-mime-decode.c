/* Unit tests of the Content-Transfer-Encoding decoders (RFC 2045 6.7, 6.8;
 * RFC 3516 for BINARY): every input is decoded whole, one byte per call,
 * and split at every position; all must agree. */
#include "tests/unit/test.h"

#include <errno.h>
#include <stdint.h>

#include "protocols/mime/mime.h"
#include "src/util/xmalloc.h"

/* Decodes in pieces of `step` bytes (0: whole); returns the output. */
static char *decode_steps(const char *enc, const char *in, size_t len, size_t step,
			  size_t *out_len, unsigned *errors)
{
	struct mime_decoder d;
	CHECK_INT(mime_decoder_init(&d, enc), ==, 0);
	uint8_t *out = xmalloc(len + 2 * MIME_DECODE_MARGIN), *o = out;
	size_t i = 0;
	while (i < len) {
		size_t n = step == 0 || step > len - i ? len - i : step;
		size_t got = mime_decode(&d, in + i, n, o);
		CHECK(got <= n + MIME_DECODE_MARGIN);
		o += got;
		i += n;
	}
	o += mime_decode_finish(&d, o);
	*out_len = (size_t)(o - out);
	*o = 0;
	if (errors)
		*errors = d.errors;
	return (char *)out;
}

/* Whole, byte by byte, and split in two at every position. */
static void check_decode(const char *enc, const char *in, size_t len, const char *want,
			 size_t want_len, unsigned want_errors)
{
	size_t n;
	unsigned errors;
	char *whole = decode_steps(enc, in, len, 0, &n, &errors);
	if (n != want_len || memcmp(whole, want, n) != 0)
		test_fail(__FILE__, __LINE__, "%s of \"%s\": got \"%.*s\"", enc, in, (int)n, whole);
	CHECK_INT(errors, ==, want_errors);
	free(whole);
	char *bytes = decode_steps(enc, in, len, 1, &n, &errors);
	CHECK_INT(n, ==, want_len);
	CHECK_MEM(bytes, want, n);
	CHECK_INT(errors, ==, want_errors);
	free(bytes);
	for (size_t cut = 1; cut < len; cut++) {
		struct mime_decoder d;
		CHECK_INT(mime_decoder_init(&d, enc), ==, 0);
		uint8_t *out = xmalloc(len + 3 * MIME_DECODE_MARGIN);
		size_t o = mime_decode(&d, in, cut, out);
		o += mime_decode(&d, in + cut, len - cut, out + o);
		o += mime_decode_finish(&d, out + o);
		CHECK_INT(o, ==, want_len);
		CHECK_MEM(out, want, o);
		free(out);
	}
}

#define DECODES(enc, in, want, errs) \
	check_decode(enc, in, sizeof(in) - 1, want, sizeof(want) - 1, errs)

TEST(base64_plain_and_padded)
{
	DECODES("base64", "SGVsbG8gd29ybGQ=", "Hello world", 0);
	DECODES("BASE64", "YQ==", "a", 0);
	DECODES("Base64", "YWI=", "ab", 0);
	DECODES("base64", "YWJj", "abc", 0);
	DECODES("base64", "", "", 0);
	/* RFC 4648 10 test vectors */
	DECODES("base64", "Zm9vYmFy", "foobar", 0);
	DECODES("base64", "Zm9vYg==", "foob", 0);
}

TEST(base64_is_lenient_with_whitespace)
{
	DECODES("base64", "SGVs\r\nbG8g\r\n d29y\tbGQ=\r\n", "Hello world", 0);
	/* Missing padding is no garbage. */
	DECODES("base64", "YQ", "a", 0);
	DECODES("base64", "YWI", "ab", 0);
}

TEST(base64_counts_garbage)
{
	DECODES("base64", "SGVs*bG8g!d29ybGQ=", "Hello world", 2);
	/* Data after padding: counted, decoded from a fresh start. */
	DECODES("base64", "YQ==YWI=", "aab", 1);
	/* A lone character at the end is not even a byte. */
	DECODES("base64", "YWJjZ", "abc", 1);
	/* Padding with nothing before it. */
	DECODES("base64", "=YQ==", "a", 1);
	DECODES("base64", "\xff\x00YQ==", "a", 2);
}

TEST(base64_all_bytes)
{
	uint8_t raw[256];
	for (int i = 0; i < 256; i++)
		raw[i] = (uint8_t)i;
	struct buf enc = BUF_INIT(0);
	/* Encoded here by hand, in lines of 76 with CRLF. */
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	for (int i = 0; i < 256; i += 3) {
		uint32_t v = (uint32_t)raw[i] << 16 | (i + 1 < 256 ? raw[i + 1] << 8 : 0) |
			     (i + 2 < 256 ? raw[i + 2] : 0);
		char q[4] = { b64[v >> 18], b64[(v >> 12) & 63],
			      i + 1 < 256 ? b64[(v >> 6) & 63] : '=', i + 2 < 256 ? b64[v & 63] : '=' };
		CHECK(buf_append(&enc, q, 4) == 0);
		if (enc.len % 78 == 76)
			CHECK(buf_append(&enc, "\r\n", 2) == 0);
	}
	check_decode("base64", enc.data, enc.len, (const char *)raw, 256, 0);
	buf_free(&enc);
}

TEST(quoted_printable)
{
	DECODES("quoted-printable", "caf=E9", "caf\xe9", 0);
	DECODES("quoted-printable", "caf=e9 lower", "caf\xe9 lower", 0);
	DECODES("quoted-printable", "a=3Db", "a=b", 0);
	/* Soft line breaks, with CRLF, LF, and whitespace after the "=". */
	DECODES("quoted-printable", "long=\r\nline=\nend= \t\r\n!", "longlineend!", 0);
	/* Hard line breaks stay as they are, CRLF or LF. */
	DECODES("quoted-printable", "a\r\nb\nc", "a\r\nb\nc", 0);
	/* RFC 2045 6.7 (3): trailing whitespace is dropped before a line end,
	 * and at the very end. */
	DECODES("quoted-printable", "a  \r\nb\t\nc  ", "a\r\nb\nc", 0);
	DECODES("quoted-printable", "keep  inner  space", "keep  inner  space", 0);
	/* A final "=" is a soft break. */
	DECODES("quoted-printable", "end=", "end", 0);
}

TEST(quoted_printable_broken_escapes_pass_through)
{
	DECODES("quoted-printable", "=XY", "=XY", 1);
	DECODES("quoted-printable", "=4\n", "=4\n", 1);
	DECODES("quoted-printable", "a=4", "a=4", 1);
	DECODES("quoted-printable", "==41", "=A", 1);
	DECODES("quoted-printable", "= x", "= x", 1);
	DECODES("quoted-printable", "=\rx", "=\rx", 1);
	DECODES("quoted-printable", "a \rb", "a \rb", 0);
}

TEST(quoted_printable_long_whitespace_is_bounded)
{
	struct buf in = BUF_INIT(0), want = BUF_INIT(0);
	for (int i = 0; i < 5000; i++)
		CHECK(buf_append(&in, " ", 1) == 0);
	CHECK(buf_append(&want, in.data, in.len) == 0);
	CHECK(buf_append(&in, "x\r\n", 3) == 0);
	CHECK(buf_append(&want, "x\r\n", 3) == 0);
	size_t n;
	char *out = decode_steps("quoted-printable", in.data, in.len, 1, &n, NULL);
	CHECK_INT(n, ==, want.len);
	CHECK_MEM(out, want.data, n);
	free(out);
	/* Spaces before a line end go, however many. */
	in.len = 0;
	for (int i = 0; i < 200; i++)
		CHECK(buf_append(&in, " ", 1) == 0);
	CHECK(buf_append(&in, "\r\n", 2) == 0);
	out = decode_steps("quoted-printable", in.data, in.len, 7, &n, NULL);
	CHECK_INT(n, ==, 2);
	free(out);
	buf_free(&in);
	buf_free(&want);
}

TEST(identity_encodings)
{
	DECODES(NULL, "a\0b\r\n", "a\0b\r\n", 0);
	DECODES("7bit", "x", "x", 0);
	DECODES("8BIT", "\xff", "\xff", 0);
	DECODES("binary", "\0", "\0", 0);
}

TEST(unknown_encoding_is_unknown_cte)
{
	struct mime_decoder d;
	CHECK_INT(mime_decoder_init(&d, "x-uuencode"), ==, -ENOTSUP);
	CHECK_INT(mime_decoder_init(&d, "base-64"), ==, -ENOTSUP);

	const char msg[] = "Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n";
	struct mime_source src = mime_source_memory(msg, sizeof(msg) - 1);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	uint64_t size;
	CHECK_INT(mime_part_decoded_size(&src, m->root, &size), ==, -ENOTSUP);
	mime_message_free(&m);
}

TEST(decoded_size_of_parts)
{
	const char msg[] = "Content-Type: multipart/mixed; boundary=b\r\n\r\n"
			   "--b\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29ybGQ=\r\n"
			   "--b\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\na=3Db=\r\nc\r\n"
			   "--b--\r\n";
	struct mime_source src = mime_source_memory(msg, sizeof(msg) - 1);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	unsigned one[] = { 1 }, two[] = { 2 };
	uint64_t size;
	CHECK_INT(mime_part_decoded_size(&src, mime_part_by_number(m, one, 1), &size), ==, 0);
	CHECK_INT(size, ==, 11);
	/* "a=3Db=\r\nc": the CRLF before the delimiter is not in the body. */
	CHECK_INT(mime_part_decoded_size(&src, mime_part_by_number(m, two, 1), &size), ==, 0);
	CHECK_INT(size, ==, 4);
	/* The multipart itself is 7bit: its decoded size is its size. */
	CHECK_INT(mime_part_decoded_size(&src, m->root, &size), ==, 0);
	CHECK_INT(size, ==, m->root->body_len);
	mime_message_free(&m);
}
