/* FETCH responses for messages in memory: exact bytes of simple items,
 * sections, partial ranges, BINARY decoding, literal8, UNKNOWN-CTE, and
 * bounded memory for a large body. */
#include <errno.h>

#include "protocols/imap/fetch.h"
#include "protocols/imap/parser.h"
#include "tests/unit/test.h"

static const struct imap_fetch_opts opts = { false, true, true, true, true };

static const char multi[] =
	"From: A <a@example.org>\r\n"
	"To: b@example.org\r\n"
	"Subject: hi\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=XX\r\n"
	"\r\n"
	"--XX\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"hello\r\n"
	"--XX\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"AAECaGk=\r\n"
	"--XX\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Transfer-Encoding: x-uuencode\r\n"
	"\r\n"
	"begin\r\n"
	"--XX--\r\n";

static int buf_sink(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

struct rendered {
	int r;
	bool started;
	struct buf out;
	size_t line_cap;
};

static struct rendered render(const char *items, const char *msg, size_t len,
			      const struct meta_fetch_item *meta, const char *flags)
{
	char line[1024];
	snprintf(line, sizeof(line), "t FETCH 1 %s\r\n", items);
	struct imap_command cmd;
	const char *error = NULL;
	if (imap_parse_buffer(line, strlen(line), &cmd, &error) != 0)
		test_fail(__FILE__, __LINE__, "parser: %s", error);
	struct imap_fetch_req req;
	if (imap_fetch_parse(cmd.args + 1, cmd.nargs - 1, &opts, &req, &error) != 0)
		test_fail(__FILE__, __LINE__, "fetch parser: %s", error);
	imap_command_free(&cmd);

	struct rendered res = { 0, false, BUF_INIT(0), 0 };
	struct mime_source src = mime_source_memory(msg, len);
	struct imap_fetch_ctx ctx;
	imap_fetch_ctx_init(&ctx, &req, (struct imap_fetch_sink){ buf_sink, &res.out }, false);
	struct imap_fetch_msg m = { 7, 42, flags, 99, 0, meta, &src, NULL };
	res.r = imap_fetch_render(&ctx, &m);
	res.started = ctx.started;
	res.line_cap = ctx.line.cap;
	imap_fetch_ctx_free(&ctx);
	imap_fetch_req_free(&req);
	return res;
}

static void expect(const char *items, const char *msg, const char *want)
{
	struct rendered r = render(items, msg, strlen(msg), NULL, NULL);
	if (r.r != 0)
		test_fail(__FILE__, __LINE__, "%s: %d", items, r.r);
	if (r.out.len != strlen(want) || memcmp(r.out.data, want, r.out.len) != 0)
		test_fail(__FILE__, __LINE__, "%s:\n got: %s\nwant: %s", items, r.out.data, want);
	buf_free(&r.out);
}

TEST(datetime_format)
{
	char d[64];
	imap_format_datetime(837596665, -420, d); /* RFC 9051's example */
	CHECK_STR(d, "17-Jul-1996 02:44:25 -0700");
	imap_format_datetime(0, 90, d);
	CHECK_STR(d, " 1-Jan-1970 01:30:00 +0130");
}

TEST(simple_items_exact)
{
	struct meta_fetch_item meta = { 42, 1, 4286, 837596665, -420, 837596665, false, "Eabc" };
	struct rendered r = render("(FLAGS INTERNALDATE RFC822.SIZE UID MODSEQ EMAILID THREADID "
				   "SAVEDATE)",
				   "x", 1, &meta, "(\\Seen)");
	CHECK_INT(r.r, ==, 0);
	CHECK_STR(r.out.data, "* 7 FETCH (UID 42 FLAGS (\\Seen) MODSEQ (99) INTERNALDATE "
			      "\"17-Jul-1996 02:44:25 -0700\" RFC822.SIZE 4286 EMAILID (Eabc) "
			      "THREADID NIL SAVEDATE \"17-Jul-1996 09:44:25 +0000\")\r\n");
	buf_free(&r.out);
}

TEST(whole_message_and_partials)
{
	expect("BODY[]", "Subject: x\r\n\r\nbody", "* 7 FETCH (BODY[] {18}\r\nSubject: x\r\n\r\nbody)\r\n");
	expect("BODY.PEEK[]<9.5>", "Subject: x\r\n\r\nbody", "* 7 FETCH (BODY[]<9> {5}\r\nx\r\n\r\n)\r\n");
	expect("BODY.PEEK[]<18.5>", "Subject: x\r\n\r\nbody", "* 7 FETCH (BODY[]<18> {0}\r\n)\r\n");
	expect("BODY.PEEK[]<100.5>", "Subject: x\r\n\r\nbody", "* 7 FETCH (BODY[]<100> {0}\r\n)\r\n");
	expect("RFC822", "S: x\r\n\r\nb", "* 7 FETCH (RFC822 {9}\r\nS: x\r\n\r\nb)\r\n");
	expect("(RFC822.HEADER RFC822.TEXT)", "S: x\r\n\r\nb",
	       "* 7 FETCH (RFC822.HEADER {8}\r\nS: x\r\n\r\n RFC822.TEXT {1}\r\nb)\r\n");
	expect("RFC822.SIZE", "S: x\r\n\r\nb", "* 7 FETCH (RFC822.SIZE 9)\r\n");
}

TEST(sections_of_a_multipart)
{
	expect("BODY[1]", multi, "* 7 FETCH (BODY[1] {5}\r\nhello)\r\n");
	expect("BODY[2.MIME]", multi,
	       "* 7 FETCH (BODY[2.MIME] {77}\r\nContent-Type: application/octet-stream\r\n"
	       "Content-Transfer-Encoding: base64\r\n\r\n)\r\n");
	expect("BODY[9]", multi, "* 7 FETCH (BODY[9] NIL)\r\n");
	expect("BODY[1.TEXT]", multi, "* 7 FETCH (BODY[1.TEXT] NIL)\r\n");
	expect("BODY[HEADER.FIELDS (subject TO)]", multi,
	       "* 7 FETCH (BODY[HEADER.FIELDS (subject TO)] {34}\r\nTo: b@example.org\r\n"
	       "Subject: hi\r\n\r\n)\r\n");
	expect("BODY[HEADER.FIELDS (subject)]<3.4>", multi,
	       "* 7 FETCH (BODY[HEADER.FIELDS (subject)]<3> {4}\r\nject)\r\n");
	expect("BODY[HEADER.FIELDS (X-None)]", multi,
	       "* 7 FETCH (BODY[HEADER.FIELDS (X-None)] {2}\r\n\r\n)\r\n");
}

TEST(structure_items)
{
	expect("BODY", "Subject: x\r\n\r\nbody\r\n",
	       "* 7 FETCH (BODY (\"TEXT\" \"PLAIN\" (\"CHARSET\" \"US-ASCII\") NIL NIL \"7BIT\" 6 1))\r\n");
	struct rendered r = render("(ENVELOPE BODYSTRUCTURE)", multi, strlen(multi), NULL, NULL);
	CHECK_INT(r.r, ==, 0);
	CHECK(strstr(r.out.data, "ENVELOPE (NIL \"hi\" ((\"A\" NIL \"a\" \"example.org\"))") != NULL);
	CHECK(strstr(r.out.data, "BODYSTRUCTURE ((\"TEXT\" \"PLAIN\"") != NULL);
	CHECK(strstr(r.out.data, "\"MIXED\" (\"BOUNDARY\" \"XX\")") != NULL);
	buf_free(&r.out);
}

TEST(binary_decoding_and_literal8)
{
	/* AAECaGk= is 00 01 02 'h' 'i': a NUL, so literal8. */
	struct rendered r = render("BINARY[2]", multi, strlen(multi), NULL, NULL);
	CHECK_INT(r.r, ==, 0);
	CHECK_INT(r.out.len, ==, strlen("* 7 FETCH (BINARY[2] ~{5}\r\n") + 5 + 3);
	CHECK_MEM(r.out.data, "* 7 FETCH (BINARY[2] ~{5}\r\n\0\1\2hi)\r\n", r.out.len);
	buf_free(&r.out);
	expect("BINARY.PEEK[2]<3.10>", multi, "* 7 FETCH (BINARY[2]<3> {2}\r\nhi)\r\n");
	expect("BINARY.SIZE[2]", multi, "* 7 FETCH (BINARY.SIZE[2] 5)\r\n");
	expect("BINARY[1]", multi, "* 7 FETCH (BINARY[1] {5}\r\nhello)\r\n");
	expect("BINARY[7]", multi, "* 7 FETCH (BINARY[7] NIL)\r\n");
	expect("BINARY[]<0.4>", "S: x\r\n\r\nb", "* 7 FETCH (BINARY[]<0> {4}\r\nS: x)\r\n");
	expect("BINARY.SIZE[]", "S: x\r\n\r\nb", "* 7 FETCH (BINARY.SIZE[] 9)\r\n");
}

TEST(binary_unknown_cte_writes_nothing)
{
	struct rendered r = render("(UID BINARY[3])", multi, strlen(multi), NULL, NULL);
	CHECK_INT(r.r, ==, -ENOTSUP);
	CHECK(!r.started);
	CHECK_INT(r.out.len, ==, 0);
	buf_free(&r.out);
	/* BODY[3] of the same part is fine: raw bytes. */
	expect("BODY[3]", multi, "* 7 FETCH (BODY[3] {5}\r\nbegin)\r\n");
}

TEST(raw_8bit_and_nul_bytes_in_body)
{
	static const char msg[] = "S: \xc3\xa9\r\n\r\na\0b";
	struct rendered r = render("BODY[]", msg, sizeof(msg) - 1, NULL, NULL);
	CHECK_INT(r.r, ==, 0);
	CHECK_MEM(r.out.data, "* 7 FETCH (BODY[] {12}\r\nS: \xc3\xa9\r\n\r\na\0b)\r\n", r.out.len);
	CHECK_INT(r.out.len, ==, 39);
	buf_free(&r.out);
}

TEST(large_body_streams_in_chunks)
{
	size_t n = 5 * 1024 * 1024 + 17;
	char *msg = malloc(n);
	memcpy(msg, "Subject: big\r\n\r\n", 16);
	for (size_t i = 16; i < n; i++)
		msg[i] = (char)('a' + i % 26);
	struct rendered r = render("(BODY.PEEK[TEXT] RFC822.SIZE)", msg, n, NULL, NULL);
	CHECK_INT(r.r, ==, 0);
	CHECK(r.line_cap < 64 * 1024);
	char head[64];
	int hl = snprintf(head, sizeof(head), "* 7 FETCH (RFC822.SIZE %zu BODY[TEXT] {%zu}\r\n", n,
			  n - 16);
	CHECK_INT(r.out.len, ==, (size_t)hl + n - 16 + 3);
	CHECK_MEM(r.out.data, head, (size_t)hl);
	CHECK_MEM(r.out.data + hl, msg + 16, n - 16);
	buf_free(&r.out);
	free(msg);
}

static ssize_t failing_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return -EBADMSG;
}

TEST(source_error_before_writing)
{
	struct imap_command cmd;
	const char *error = NULL;
	const char *line = "t FETCH 1 (UID ENVELOPE)\r\n";
	CHECK_INT(imap_parse_buffer(line, strlen(line), &cmd, &error), ==, 0);
	struct imap_fetch_req req;
	CHECK_INT(imap_fetch_parse(cmd.args + 1, cmd.nargs - 1, &opts, &req, &error), ==, 0);
	imap_command_free(&cmd);
	struct buf out = BUF_INIT(0);
	struct mime_source src = { failing_read, NULL, NULL, 100 };
	struct imap_fetch_ctx ctx;
	imap_fetch_ctx_init(&ctx, &req, (struct imap_fetch_sink){ buf_sink, &out }, false);
	struct imap_fetch_msg m = { 1, 2, NULL, 0, 0, NULL, &src, NULL };
	CHECK_INT(imap_fetch_render(&ctx, &m), ==, -EBADMSG);
	CHECK(!ctx.started);
	CHECK_INT(out.len, ==, 0);
	imap_fetch_ctx_free(&ctx);
	imap_fetch_req_free(&req);
}
