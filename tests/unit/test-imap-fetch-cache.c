/* FETCH from a cached header block against FETCH from the whole message:
 * every header item (ENVELOPE, BODY[HEADER], RFC822.HEADER,
 * HEADER.FIELDS and .NOT, partial ranges) and, for single-part messages,
 * BODY and BODYSTRUCTURE must come out byte for byte the same, with and
 * without UTF8=ACCEPT, over the MIME corpus (every .eml of tests/data/mime) and
 * thousands of random messages built to stress where a header ends: line
 * ends of every kind, folding, blank-looking lines, no blank line, 8-bit
 * bytes and NULs, odd Content-Types and boundaries in bodies.
 *
 * The cache side goes the way cmd-fetch.c does it: mime_header_facts() of
 * the full parse says what is kept (fetch-cache.c), the kept bytes are the
 * first hdr_len bytes, mime_parse_header() rebuilds the tree. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>

#include "protocols/imap/fetch-cache.h"
#include "protocols/imap/fetch.h"
#include "protocols/imap/parser.h"
#include "src/util/xmalloc.h"

static const struct imap_fetch_opts opts = { false, true, true, true, true };

static const char *const header_items[] = {
	"ENVELOPE",
	"(UID FLAGS ENVELOPE)",
	"BODY[HEADER]",
	"RFC822.HEADER",
	"BODY.PEEK[HEADER]<5.40>",
	"BODY.PEEK[HEADER]<100000.5>",
	"BODY.PEEK[HEADER.FIELDS (SUBJECT FROM DATE)]",
	"BODY.PEEK[HEADER.FIELDS (to cc bcc reply-to sender message-id in-reply-to)]",
	"BODY.PEEK[HEADER.FIELDS (Content-Type \"Content-Transfer-Encoding\" X-A)]",
	"BODY.PEEK[HEADER.FIELDS (X-NONE)]",
	"BODY.PEEK[HEADER.FIELDS.NOT (RECEIVED SUBJECT)]",
	"BODY.PEEK[HEADER.FIELDS.NOT (X-NONE)]<2.30>",
	"(ENVELOPE BODY.PEEK[HEADER.FIELDS (SUBJECT)] RFC822.HEADER)",
};

static const char *const structure_items[] = {
	"BODY",
	"BODYSTRUCTURE",
	"(UID ENVELOPE BODYSTRUCTURE BODY.PEEK[HEADER.FIELDS (FROM)])",
};

static int buf_sink(void *ctx, const void *data, size_t len)
{
	return buf_append(ctx, data, len);
}

static void parse_req(const char *items, struct imap_fetch_req *req)
{
	char line[512];
	snprintf(line, sizeof(line), "t FETCH 1 %s\r\n", items);
	struct imap_command cmd;
	const char *error = NULL;
	if (imap_parse_buffer(line, strlen(line), &cmd, &error) != 0)
		test_fail(__FILE__, __LINE__, "parser: %s", error);
	if (imap_fetch_parse(cmd.args + 1, cmd.nargs - 1, &opts, req, &error) != 0)
		test_fail(__FILE__, __LINE__, "fetch parser: %s", error);
	imap_command_free(&cmd);
}

/* The response for req from src, with tree (NULL: the renderer parses). */
static int render(const struct imap_fetch_req *req, const struct mime_source *src,
		  const struct mime_message *tree, bool utf8, struct buf *out)
{
	struct imap_fetch_ctx ctx;
	imap_fetch_ctx_init(&ctx, req, (struct imap_fetch_sink){ buf_sink, out }, utf8);
	struct imap_fetch_msg m = { 3, 17, "(\\Seen)", 5, 0, NULL, src, tree };
	int r = imap_fetch_render(&ctx, &m);
	imap_fetch_ctx_free(&ctx);
	return r;
}

struct tally {
	unsigned messages, cached, single, compared;
};

static void show(const char *what, const uint8_t *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes): ", what, n);
	for (size_t i = 0; i < n && i < 600; i++)
		fprintf(stderr, p[i] >= 32 && p[i] < 127 ? "%c" : "\\x%02x", p[i]);
	fprintf(stderr, "\n");
}

static void compare_items(const char *name, const uint8_t *data, size_t len,
			  const struct mime_message *cached, const struct mime_source *hsrc,
			  const char *const *items, size_t n_items, struct tally *t)
{
	struct mime_source full = mime_source_memory(data, len);
	for (size_t i = 0; i < n_items; i++) {
		struct imap_fetch_req req;
		parse_req(items[i], &req);
		CHECK(req.header_only);
		for (int utf8 = 0; utf8 < 2; utf8++) {
			struct buf a = BUF_INIT(0), b = BUF_INIT(0);
			int ra = render(&req, &full, NULL, utf8, &a);
			int rb = render(&req, hsrc, cached, utf8, &b);
			if (ra != 0 || rb != 0 || a.len != b.len || memcmp(a.data, b.data, a.len)) {
				show("message", data, len);
				show("from the file", (uint8_t *)a.data, a.len);
				show("from the cache", (uint8_t *)b.data, b.len);
				test_fail(__FILE__, __LINE__, "%s: %s (utf8 %d): %d %d differ",
					  name, items[i], utf8, ra, rb);
			}
			t->compared++;
			buf_free(&a);
			buf_free(&b);
		}
		imap_fetch_req_free(&req);
	}
}

/* Both paths over one message. */
static void check_message(const char *name, const uint8_t *data, size_t len, struct tally *t)
{
	struct mime_source full = mime_source_memory(data, len);
	struct mime_message *tree;
	CHECK_INT(mime_parse(&full, NULL, &tree), ==, 0);
	struct mime_header_facts f;
	mime_header_facts(tree, &f);
	mime_message_free(&tree);
	t->messages++;
	if (f.hdr_len == 0 || f.hdr_len > META_HEADER_MAX)
		return;	/* fetch-cache.c keeps nothing */
	CHECK(f.hdr_len <= len);
	t->cached++;
	/* The kept bytes, in a buffer of their own so that a read past them
	 * is caught by ASan. */
	uint8_t *hdr = xmalloc(f.hdr_len);
	memcpy(hdr, data, f.hdr_len);
	struct mime_source hsrc = mime_source_memory(hdr, f.hdr_len);
	struct mime_message *cached;
	if (mime_parse_header(hdr, f.hdr_len, len, NULL, &cached) != 0)
		test_fail(__FILE__, __LINE__, "%s: the header block does not stand alone", name);
	compare_items(name, data, len, cached, &hsrc, header_items,
		      sizeof(header_items) / sizeof(header_items[0]), t);
	mime_message_free(&cached);
	if (f.single) {
		t->single++;
		CHECK_INT(mime_parse_header(hdr, f.hdr_len, len, &f.lines, &cached), ==, 0);
		compare_items(name, data, len, cached, &hsrc, header_items,
			      sizeof(header_items) / sizeof(header_items[0]), t);
		compare_items(name, data, len, cached, &hsrc, structure_items,
			      sizeof(structure_items) / sizeof(structure_items[0]), t);
		mime_message_free(&cached);
	}
	/* Otherwise the cache keeps no line count, and fetch-cache.c never
	 * answers BODY or BODYSTRUCTURE from it. */
	free(hdr);
}

static char *slurp(const char *path, size_t *len_r)
{
	FILE *fp = fopen(path, "rb");
	CHECK(fp != NULL);
	struct buf b = BUF_INIT(0);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		CHECK(buf_append(&b, chunk, n) == 0);
	fclose(fp);
	*len_r = b.len;
	return b.data ? buf_steal(&b) : xstrdup("");
}

TEST(corpus_file_and_cache_agree)
{
	const char *d = getenv("SEAL_TEST_DATA");
	char *dir = xasprintf("%s/mime", d ? d : "tests/data");
	DIR *dp = opendir(dir);
	CHECK(dp != NULL);
	struct dirent *e;
	struct tally t = { 0 };
	while ((e = readdir(dp)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
			continue;
		char *path = xasprintf("%s/%s", dir, e->d_name);
		size_t len;
		char *data = slurp(path, &len);
		check_message(e->d_name, (uint8_t *)data, len, &t);
		free(data);
		free(path);
	}
	closedir(dp);
	free(dir);
	printf("  corpus: %u messages, %u cacheable, %u single-part, %u responses compared\n",
	       t.messages, t.cached, t.single, t.compared);
	CHECK_INT(t.messages, >=, 20);
	CHECK_INT(t.cached, ==, t.messages);
	CHECK_INT(t.single, >=, 5);
}

/* ---- Random messages ------------------------------------------------------ */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

static const char *pick(const char *const *v, size_t n)
{
	return v[rnd((uint32_t)n)];
}
#define PICK(v) pick(v, sizeof(v) / sizeof(v[0]))

static void put_eol(struct buf *b)
{
	static const char *const eols[] = { "\r\n", "\r\n", "\r\n", "\n", "\n", "\r", "\r\r\n" };
	(void)buf_puts(b, PICK(eols));
}

static void put_value(struct buf *b)
{
	static const char *const pieces[] = {
		"Alice <alice@example.org>", "\"Bob, Jr.\" <bob@example.net>", "carol@example.com",
		"Group: a@b.c, d@e.f;", "undisclosed-recipients:;", "=?UTF-8?B?w6lsw6h2ZQ==?=",
		"=?ISO-8859-1?Q?caf=E9?= time", "plain words here", "(a comment (nested))",
		"<id.1@host>", "<a@b> <c@d>", "Tue, 1 Feb 1994 23:30:00 -0800", "\xc3\xa9t\xc3\xa9",
		"\xff\xfe broken", "quote \" inside", "back\\slash", "text/plain; charset=utf-8",
		"multipart/mixed; boundary=\"b1\"", "multipart/alternative; boundary=b2",
		"multipart/mixed", "message/rfc822", "text/html; charset=\"iso-8859-1\"",
		"application/octet-stream; name=\"a b.bin\"", "attachment; filename=x.pdf",
		"base64", "quoted-printable", "7bit", "en, de-CH", ";;; = ;", "",
		"multipart/digest; boundary=dd", "TEXT/PLAIN", "a\tb", "NUL\0byte",
	};
	unsigned n = 1 + rnd(3);
	for (unsigned i = 0; i < n; i++) {
		const char *p = PICK(pieces);
		size_t len = strcmp(p, "NUL") == 0 ? 0 : strlen(p);
		if (strncmp(p, "NUL", 3) == 0)
			len = 8;
		if (i > 0)
			(void)buf_puts(b, rnd(5) == 0 ? "," : " ");
		(void)buf_append(b, p, len);
		if (rnd(6) == 0) {	/* folding */
			put_eol(b);
			(void)buf_puts(b, rnd(2) ? " " : "\t");
		}
	}
}

static void put_header(struct buf *b)
{
	static const char *const names[] = {
		"From", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To",
		"Reply-To", "Sender", "Content-Type", "Content-Transfer-Encoding",
		"Content-Disposition", "Content-Language", "Content-ID", "Content-Description",
		"Content-MD5", "Content-Location", "MIME-Version", "Received", "X-A", "subject",
		"FROM", "content-type", "X-Long",
	};
	unsigned n = rnd(14);
	for (unsigned i = 0; i < n; i++) {
		switch (rnd(20)) {
		case 0:	/* no colon: still part of the header */
			(void)buf_puts(b, "no colon here");
			break;
		case 1:	/* whitespace before the colon */
			(void)buf_printf(b, "%s \t: ", PICK(names));
			put_value(b);
			break;
		case 2:	/* a line of blanks: a continuation, not the end */
			(void)buf_puts(b, rnd(2) ? " " : "\t ");
			break;
		case 3:	/* a long field */
			(void)buf_puts(b, "X-Long: ");
			for (unsigned k = rnd(3000); k > 0; k--)
				(void)buf_puts(b, rnd(40) ? "x" : "\r\n ");
			break;
		default:
			(void)buf_printf(b, "%s:%s", PICK(names), rnd(4) ? " " : "");
			put_value(b);
			break;
		}
		put_eol(b);
	}
}

static void put_body(struct buf *b)
{
	static const char *const lines[] = {
		"hello", "", "--b1", "--b1--", "--b2", "--b2--", "--dd", "--dd--", "--b1 trailing",
		"Content-Type: text/plain", "Subject: inner", "From: in@side", "=41=42=", "AAEC",
		" ", "\xc3\xa9", "end",
	};
	unsigned n = rnd(25);
	for (unsigned i = 0; i < n; i++) {
		(void)buf_puts(b, PICK(lines));
		if (i + 1 < n || rnd(2))
			put_eol(b);
	}
}

static void random_message(struct buf *b)
{
	b->len = 0;
	switch (rnd(12)) {
	case 0:	/* header only, maybe without the last line end */
		put_header(b);
		if (rnd(2))
			(void)buf_puts(b, "Subject: last");
		return;
	case 1:	/* an empty header */
		put_eol(b);
		put_body(b);
		return;
	case 2:
		return;	/* empty message */
	default:
		break;
	}
	put_header(b);
	static const char *const blanks[] = { "\r\n", "\n", "\r\n", "\r\r\n", "\r" };
	(void)buf_puts(b, PICK(blanks));
	put_body(b);
}

TEST(random_messages_file_and_cache_agree)
{
	struct tally t = { 0 };
	struct buf b = BUF_INIT(0);
	for (unsigned seed = 1; seed <= 4000; seed++) {
		rng_state = 0x9e3779b97f4a7c15ull * seed;
		random_message(&b);
		char name[32];
		snprintf(name, sizeof(name), "random #%u", seed);
		check_message(name, (const uint8_t *)(b.data ? b.data : ""), b.len, &t);
	}
	buf_free(&b);
	printf("  random: %u messages, %u cacheable, %u single-part, %u responses compared\n",
	       t.messages, t.cached, t.single, t.compared);
	CHECK_INT(t.cached, >=, 3000);
	CHECK_INT(t.single, >=, 1000);
	CHECK_INT(t.cached, <, t.messages);	/* empty messages keep nothing */
}

/* A block that is not a whole header, or for another size, is refused. */
TEST(header_block_must_stand_alone)
{
	static const char msg[] = "Subject: a\r\n\r\nSubject: b\r\n\r\nbody";
	struct mime_message *t;
	CHECK_INT(mime_parse_header(msg, 14, sizeof(msg) - 1, NULL, &t), ==, 0);
	CHECK_INT(t->root->body_len, ==, sizeof(msg) - 1 - 14);
	mime_message_free(&t);
	/* Past the blank line. */
	CHECK_INT(mime_parse_header(msg, 27, sizeof(msg) - 1, NULL, &t), ==, -ESTALE);
	/* Cut before it, in a message that goes on. */
	CHECK_INT(mime_parse_header(msg, 12, sizeof(msg) - 1, NULL, &t), ==, -ESTALE);
	/* Without a blank line, the header is the whole message. */
	CHECK_INT(mime_parse_header(msg, 12, 12, NULL, &t), ==, 0);
	mime_message_free(&t);
	CHECK_INT(mime_parse_header(msg, 14, 13, NULL, &t), ==, -ESTALE);
	CHECK_INT(mime_parse_header(msg, 0, 10, NULL, &t), ==, -ESTALE);
	CHECK(t == NULL);
}

TEST(header_only_requests)
{
	static const struct {
		const char *items;
		bool header_only, structure;
	} cases[] = {
		{ "ENVELOPE", true, false },
		{ "(FLAGS ENVELOPE RFC822.SIZE)", true, false },
		{ "BODY.PEEK[HEADER.FIELDS (A)]", true, false },
		{ "BODY[HEADER.FIELDS.NOT (A)]<1.2>", true, false },
		{ "RFC822.HEADER", true, false },
		{ "BODYSTRUCTURE", true, true },
		{ "BODY", true, true },
		{ "FLAGS", false, false },
		{ "BODY[]", false, false },
		{ "BODY[TEXT]", false, false },
		{ "RFC822", false, false },
		{ "BODY[1]", false, false },
		{ "BODY[1.HEADER]", false, false },
		{ "BODY[1.MIME]", false, false },
		{ "BINARY[1]", false, false },
		{ "BINARY.SIZE[]", false, false },
		{ "(ENVELOPE BODY.PEEK[TEXT])", false, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_fetch_req req;
		parse_req(cases[i].items, &req);
		if (req.header_only != cases[i].header_only ||
		    req.needs_structure != cases[i].structure)
			test_fail(__FILE__, __LINE__, "%s: header_only %d structure %d",
				  cases[i].items, req.header_only, req.needs_structure);
		imap_fetch_req_free(&req);
	}
}
