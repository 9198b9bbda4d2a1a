/* Unit tests of the MIME parser and its IMAP renderings: the corpus in
 * tests/data/mime/ (each NAME.eml with NAME.expected), parsed from memory
 * and again through a source that returns one byte per read, and the
 * limits: nesting, part count, huge header lines and blocks, failing
 * sources.
 *
 * NAME.expected holds lines "KEY<TAB>value" or "KEY<TAB>spec<TAB>value";
 * values use \r \n \t \\ \xNN escapes; '#' starts a comment line. Keys:
 * BODYSTRUCTURE, BODY, ENVELOPE (client without UTF-8), the same with
 * ".UTF8", SECTION (bytes or NOENT), SECTION-LEN (a length) and DECODED
 * (the part's decoded body equals the named file). */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>

#include "protocols/mime/mime.h"
#include "src/util/xmalloc.h"

static char *data_dir(void)
{
	const char *d = getenv("SEAL_TEST_DATA");
	return xasprintf("%s/mime", d ? d : "tests/data");
}

static char *slurp(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	struct buf b = BUF_INIT(0);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		CHECK(buf_append(&b, chunk, n) == 0);
	fclose(f);
	*len_r = b.len;
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* A source that gives one byte per read (STYLE.md: parsers are tested with
 * input fed one byte at a time). */
struct slow {
	const uint8_t *data;
	size_t len;
	uint64_t fail_at;	/* reads at or past this fail with -EIO */
};

static ssize_t slow_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct slow *s = ctx;
	if (off >= s->fail_at)
		return -EIO;
	if (off >= s->len || len == 0)
		return 0;
	*(uint8_t *)buf = s->data[off];
	return 1;
}

static struct mime_source slow_source(struct slow *s)
{
	struct mime_source src = { .read = slow_read, .ctx = s, .size = s->len };
	return src;
}

static void unescape(const char *s, struct buf *out)
{
	while (*s) {
		char c = *s++;
		if (c == '\\' && *s) {
			char e = *s++;
			c = e == 'r' ? '\r' : e == 'n' ? '\n' : e == 't' ? '\t' : e;
			if (e == 'x' && s[0] && s[1]) {
				char hex[3] = { s[0], s[1], 0 };
				c = (char)strtol(hex, NULL, 16);
				s += 2;
			}
		}
		CHECK(buf_append(out, &c, 1) == 0);
	}
}

static char *render(const struct mime_message *m, const char *key)
{
	struct buf b = BUF_INIT(0);
	bool utf8 = strstr(key, ".UTF8") != NULL;
	if (strncmp(key, "BODYSTRUCTURE", 13) == 0)
		CHECK(mime_write_body(&b, m->root, true, utf8) == 0);
	else if (strncmp(key, "BODY", 4) == 0)
		CHECK(mime_write_body(&b, m->root, false, utf8) == 0);
	else
		CHECK(mime_write_envelope(&b, m->root->envelope, utf8) == 0);
	return b.data ? buf_steal(&b) : xstrdup("");
}

/* Returns the section's bytes (or "NOENT") as a heap string with its
 * length in *len_r. */
static char *fetch(const struct mime_message *m, const struct mime_source *src, const char *spec,
		   size_t *len_r)
{
	struct mime_section sec;
	CHECK_INT(mime_section_parse(spec, strlen(spec), &sec), ==, 0);
	uint64_t off, len;
	struct buf out = BUF_INIT(0);
	int r = mime_section_fetch(m, src, &sec, &off, &len, &out);
	mime_section_free(&sec);
	if (r == -ENOENT) {
		*len_r = 5;
		return xstrdup("NOENT");
	}
	CHECK(r == 0 || r == 1);
	if (r == 0) {
		char *d = xmalloc(len + 1);
		CHECK_INT(mime_source_read(src, off, d, len), ==, len);
		d[len] = 0;
		*len_r = len;
		return d;
	}
	*len_r = out.len;
	return out.data ? buf_steal(&out) : xstrdup("");
}

static int emit_buf(void *ctx, const void *d, size_t n)
{
	return buf_append(ctx, d, n);
}

static bool check_line(const char *file, const struct mime_message *m,
		       const struct mime_source *src, char *line)
{
	char *tab = strchr(line, '\t');
	CHECK(tab != NULL);
	*tab = 0;
	const char *key = line, *spec = tab + 1, *want = spec;
	if (strncmp(key, "SECTION", 7) == 0 || strcmp(key, "DECODED") == 0) {
		char *t2 = strchr(spec, '\t');
		CHECK(t2 != NULL);
		*t2 = 0;
		want = t2 + 1;
	}
	struct buf w = BUF_INIT(0);
	unescape(want, &w);
	char *got;
	size_t got_len;
	if (strcmp(key, "SECTION") == 0) {
		got = fetch(m, src, spec, &got_len);
	} else if (strcmp(key, "SECTION-LEN") == 0) {
		char *d = fetch(m, src, spec, &got_len);
		free(d);
		got = xasprintf("%zu", got_len);
		got_len = strlen(got);
	} else if (strcmp(key, "DECODED") == 0) {
		char *dir = data_dir(), *path = xasprintf("%s/%s", dir, w.data);
		free(dir);
		w.len = 0;
		char *d = slurp(path, &got_len);
		CHECK(d != NULL);
		free(path);
		CHECK(buf_append(&w, d, got_len) == 0);
		free(d);
		unsigned nums[8];
		size_t n = 0;
		for (const char *p = spec; *p && n < 8; p += *p == '.') {
			char *e;
			nums[n++] = (unsigned)strtoul(p, &e, 10);
			p = e;
		}
		const struct mime_part *part = mime_part_by_number(m, nums, n);
		CHECK(part != NULL);
		struct buf out = BUF_INIT(0);
		CHECK_INT(mime_part_decode(src, part, emit_buf, &out), ==, 0);
		uint64_t size;
		CHECK_INT(mime_part_decoded_size(src, part, &size), ==, 0);
		CHECK_INT(size, ==, out.len);
		got_len = out.len;
		got = out.data ? buf_steal(&out) : xstrdup("");
	} else {
		got = render(m, key);
		got_len = strlen(got);
	}
	bool ok = got_len == w.len && memcmp(got, w.data ? w.data : "", w.len) == 0;
	if (!ok)
		fprintf(stderr, "%s: %s %s\n  want: %s\n  got:  %.*s\n", file, key,
			spec == want ? "" : spec, want, (int)got_len, got);
	free(got);
	buf_free(&w);
	return ok;
}

static bool check_file(const char *dir, const char *name)
{
	char *eml = xasprintf("%s/%s", dir, name);
	char *exp = xasprintf("%.*s.expected", (int)(strlen(eml) - 4), eml);
	size_t len, elen;
	char *data = slurp(eml, &len), *expected = slurp(exp, &elen);
	CHECK(data && expected);
	struct slow sl = { (const uint8_t *)data, len, UINT64_MAX };
	struct mime_source mem = mime_source_memory(data, len), slow = slow_source(&sl);
	struct mime_message *m, *m1;
	CHECK_INT(mime_parse(&mem, NULL, &m), ==, 0);
	CHECK_INT(mime_parse(&slow, NULL, &m1), ==, 0);
	bool ok = true;
	for (char *line = strtok(expected, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#' || line[0] == 0)
			continue;
		char *copy = xstrdup(line);
		ok &= check_line(name, m, &mem, line);
		ok &= check_line(name, m1, &slow, copy);
		free(copy);
	}
	mime_message_free(&m);
	mime_message_free(&m1);
	free(data);
	free(expected);
	free(eml);
	free(exp);
	return ok;
}

TEST(corpus)
{
	char *dir = data_dir();
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	struct dirent *e;
	unsigned files = 0, failed = 0;
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 5 || strcmp(e->d_name + n - 4, ".eml") != 0)
			continue;
		files++;
		failed += !check_file(dir, e->d_name);
	}
	closedir(d);
	free(dir);
	CHECK_INT(failed, ==, 0);
	CHECK_INT(files, >=, 20);
}

/* ---- Well-formedness of the IMAP output ---------------------------------- */

/* Checks that s is one IMAP list as RFC 9051 9 writes it: lists, NIL,
 * numbers, quoted strings (7-bit without utf8, no CR, LF or NUL) and
 * literals, single spaces between. Returns the end or NULL. */
static const char *imap_value(const char *s, const char *end, bool utf8, unsigned depth)
{
	if (s >= end || depth > 200)
		return NULL;
	if (*s == '(') {
		s++;
		bool first = true;
		while (s < end && *s != ')') {
			if (!first && *s == ' ')
				s++;
			first = false;
			if ((s = imap_value(s, end, utf8, depth + 1)) == NULL)
				return NULL;
		}
		return s < end ? s + 1 : NULL;
	}
	if (*s == '"') {
		for (s++; s < end && *s != '"'; s++) {
			if (*s == '\\')
				s++;
			if (s >= end || *s == '\r' || *s == '\n' || *s == 0 ||
			    (!utf8 && (uint8_t)*s >= 0x80))
				return NULL;
		}
		return s < end ? s + 1 : NULL;
	}
	if (*s == '{') {
		char *e;
		unsigned long n = strtoul(s + 1, &e, 10);
		if (e >= end - 2 || memcmp(e, "}\r\n", 3) != 0 || n > (size_t)(end - e - 3))
			return NULL;
		if (memchr(e + 3, 0, n))
			return NULL;
		return e + 3 + n;
	}
	if (end - s >= 3 && memcmp(s, "NIL", 3) == 0)
		return s + 3;
	const char *d = s;
	while (d < end && *d >= '0' && *d <= '9')
		d++;
	return d > s ? d : NULL;
}

static void check_well_formed(const struct mime_message *m)
{
	for (int utf8 = 0; utf8 < 2; utf8++) {
		struct buf b = BUF_INIT(0);
		CHECK(mime_write_body(&b, m->root, true, utf8) == 0);
		CHECK(imap_value(b.data, b.data + b.len, utf8, 0) == b.data + b.len);
		b.len = 0;
		CHECK(mime_write_body(&b, m->root, false, utf8) == 0);
		CHECK(imap_value(b.data, b.data + b.len, utf8, 0) == b.data + b.len);
		b.len = 0;
		CHECK(mime_write_envelope(&b, m->root->envelope, utf8) == 0);
		CHECK(imap_value(b.data, b.data + b.len, utf8, 0) == b.data + b.len);
		buf_free(&b);
	}
}

/* Parses from memory and one byte at a time; both trees must render the
 * same. Returns the memory one. */
static struct mime_message *parse_both(const char *data, size_t len)
{
	struct mime_source mem = mime_source_memory(data, len);
	struct slow sl = { (const uint8_t *)data, len, UINT64_MAX };
	struct mime_source slow = slow_source(&sl);
	struct mime_message *m, *m1;
	CHECK_INT(mime_parse(&mem, NULL, &m), ==, 0);
	CHECK_INT(mime_parse(&slow, NULL, &m1), ==, 0);
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	CHECK(mime_write_body(&a, m->root, true, false) == 0);
	CHECK(mime_write_body(&b, m1->root, true, false) == 0);
	CHECK_STR(a.data, b.data);
	buf_free(&a);
	buf_free(&b);
	check_well_formed(m);
	mime_message_free(&m1);
	return m;
}

static void __attribute__((format(printf, 2, 3))) append(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	CHECK(buf_vprintf(b, fmt, ap) == 0);
	va_end(ap);
}

TEST(multipart_nesting_stops_at_20_levels)
{
	struct buf b = BUF_INIT(0);
	append(&b, "Subject: deep\r\n");
	for (int i = 0; i < 30; i++)
		append(&b, "Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n", i, i);
	append(&b, "Content-Type: text/plain\r\n\r\ninnermost\r\n");
	for (int i = 29; i >= 0; i--)
		append(&b, "--b%d--\r\n", i);
	struct mime_message *m = parse_both(b.data, b.len);
	/* Containers at depths 0..19 are expanded (20 levels); the one at
	 * depth 20 is opaque. */
	const struct mime_part *p = m->root;
	unsigned expanded = 0;
	while (p->flags & MIME_PART_MULTIPART) {
		CHECK_INT(p->depth, ==, expanded);
		expanded++;
		CHECK_INT(p->nchildren, ==, 1);
		p = p->children;
	}
	CHECK_INT(expanded, ==, 20);
	CHECK_INT(p->depth, ==, 20);
	CHECK(p->flags & MIME_PART_OPAQUE);
	CHECK_STR(p->type, "MULTIPART");
	CHECK_INT(m->nparts, ==, 21);
	/* Its body is everything down to the line break before --b19--. */
	char *end = strstr(b.data, "\r\n--b19--");
	CHECK_INT(p->body_off + p->body_len, ==, end - b.data);
	struct buf out = BUF_INIT(0);
	CHECK(mime_write_body(&out, p, false, false) == 0);
	char *want = xasprintf("(\"APPLICATION\" \"OCTET-STREAM\" NIL NIL NIL \"7BIT\" %llu)",
			       (unsigned long long)p->body_len);
	CHECK_STR(out.data, want);
	free(want);
	buf_free(&out);
	mime_message_free(&m);
	buf_free(&b);
}

TEST(message_nesting_stops_at_20_levels)
{
	struct buf b = BUF_INIT(0);
	for (int i = 0; i < 30; i++)
		append(&b, "Subject: level %d\nContent-Type: message/rfc822\n\n", i);
	append(&b, "Subject: bottom\n\nbody\n");
	struct mime_message *m = parse_both(b.data, b.len);
	const struct mime_part *p = m->root;
	unsigned expanded = 0;
	while (p->message) {
		expanded++;
		p = p->message;
		CHECK(p->envelope != NULL);
	}
	CHECK_INT(expanded, ==, 20);
	CHECK(p->flags & MIME_PART_OPAQUE);
	CHECK_INT(m->nparts, ==, 21);
	CHECK_STR(p->envelope->subject, "level 20");
	mime_message_free(&m);
	buf_free(&b);
}

TEST(part_count_stops_at_1000)
{
	struct buf b = BUF_INIT(0);
	append(&b, "Content-Type: multipart/mixed; boundary=x\n\n");
	for (int i = 1; i <= 2000; i++)
		append(&b, "--x\nContent-Type: text/plain\n\npart %d\n", i);
	append(&b, "--x--\n");
	struct mime_message *m = parse_both(b.data, b.len);
	CHECK_INT(m->nparts, ==, 1000);
	CHECK_INT(m->root->nchildren, ==, 999);
	CHECK_INT(m->root->body_off + m->root->body_len, ==, b.len);
	unsigned n999[] = { 999 }, n1000[] = { 1000 };
	const struct mime_part *last = mime_part_by_number(m, n999, 1);
	CHECK(last != NULL);
	/* The last part kept ends where part 1000 begins. */
	char *next = strstr(b.data, "part 1000\n") - strlen("--x\nContent-Type: text/plain\n\n");
	CHECK_INT(last->body_off + last->body_len + 1, ==, next - b.data);
	CHECK(mime_part_by_number(m, n1000, 1) == NULL);
	mime_message_free(&m);
	buf_free(&b);
}

TEST(megabyte_header_line_is_not_processed)
{
	struct buf b = BUF_INIT(0);
	append(&b, "Subject: ");
	for (int i = 0; i < 1024 * 1024 / 8; i++)
		append(&b, "abcdefgh");
	append(&b, "\r\nTo: a@example.org\r\nContent-Type: text/html\r\n\r\nbody\r\n");
	struct mime_message *m = parse_both(b.data, b.len);
	CHECK(m->root->envelope->subject == NULL);
	CHECK_STR(m->root->envelope->to, "a@example.org");
	CHECK_STR(m->root->subtype, "HTML");
	CHECK_INT(m->root->body_len, ==, 6);
	CHECK_INT(m->root->hdr_len, ==, b.len - 6);
	mime_message_free(&m);
	buf_free(&b);
}

TEST(fields_past_the_header_block_limit_are_not_processed)
{
	struct buf b = BUF_INIT(0);
	append(&b, "Subject: early\n");
	while (b.len < 300 * 1024)
		append(&b, "X-Fill: 0123456789012345678901234567890123456789\n");
	append(&b, "To: late@example.org\nContent-Type: text/html\n\nbody");
	struct mime_message *m = parse_both(b.data, b.len);
	CHECK_STR(m->root->envelope->subject, "early");
	CHECK(m->root->envelope->to == NULL);
	CHECK_STR(m->root->subtype, "PLAIN");
	CHECK_INT(m->root->body_len, ==, 4);
	CHECK_INT(m->root->lines, ==, 1);
	mime_message_free(&m);
	buf_free(&b);
}

TEST(source_errors_fail_the_parse)
{
	const char *msg = "Subject: x\r\n\r\nbody\r\n";
	for (uint64_t at = 0; at < strlen(msg); at++) {
		struct slow sl = { (const uint8_t *)msg, strlen(msg), at };
		struct mime_source src = slow_source(&sl);
		struct mime_message *m = (void *)1;
		CHECK_INT(mime_parse(&src, NULL, &m), ==, -EIO);
		CHECK(m == NULL);
	}
}

/* A 32 MiB message made up by the source on the fly: the parser reads it
 * without holding it. */
static ssize_t big_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	static const char head[] = "Content-Type: multipart/mixed; boundary=q\n\n--q\n\n";
	uint8_t *o = buf;
	for (size_t i = 0; i < len; i++) {
		uint64_t k = off + i;
		if (k < sizeof(head) - 1)
			o[i] = (uint8_t)head[k];
		else
			o[i] = (k % 64) == 63 ? '\n' : (uint8_t)('a' + k % 26);
	}
	return (ssize_t)len;
}

TEST(large_message_streams_through)
{
	struct mime_source src = { .read = big_read, .size = 32u << 20 };
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	CHECK_INT(m->root->nchildren, ==, 1);
	CHECK(m->root->flags & MIME_PART_UNTERMINATED);
	const struct mime_part *c = m->root->children;
	CHECK_INT(c->body_off + c->body_len, ==, src.size);
	CHECK(c->lines > (32u << 20) / 64 - 2);
	mime_message_free(&m);
}

static const char *const nasty[] = {
	"",
	"\n",
	"\r\n\r\n",
	"Content-Type: multipart/mixed; boundary=\"\"\n\n--\n--\n",
	"Content-Type: multipart/mixed; boundary=a\n\n--a\n--a\n--a--\n--a\n",
	"Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=a\n\n--a\n--a--\n",
	"Content-Type: message/rfc822\n\n",
	"Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeAo=\n",
	"Content-Type: text/plain; charset=\"unterminated\n\nx",
	"Content-Type: (((((\n\nx",
	"Content-Type: text/plain; ;;; =; a=; =b; c=\"\\\n\n",
	"From: \"unterminated <a@b>\nTo: <<<@@@>>>, ,,, ;;; :::\nCc: (comment\n\n",
	"Subject: =?utf-8?B?====?= =?x?Q?=ZZ?= =?utf-8?Q?\xff\xfe?=\n\n",
	"Subject: a\0b\nFrom: \0<\0@\0>\n\n\0\0\0",
	"Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: in digest\n\nx\n--d--\n",
	"Content-Type: text/plain\nContent-Disposition: ; filename=x\nContent-Language: ,,\n\n",
	" folded at start\n\tcontinuation\nSubject:\n\n",
	"Content-Type: multipart/mixed; boundary=a\n\n--a\r\n\r\n--a\r--a--\n",
};

TEST(malformed_input_still_renders)
{
	for (size_t i = 0; i < sizeof(nasty) / sizeof(nasty[0]); i++) {
		/* Sizes include the NULs of the one message that has them. */
		size_t len = strlen(nasty[i]);
		if (strncmp(nasty[i], "Subject: a", 10) == 0)
			len = 30;
		struct mime_message *m = parse_both(nasty[i], len);
		CHECK_INT(m->root->hdr_len + m->root->body_len, <=, len);
		mime_message_free(&m);
	}
}

TEST(section_specs)
{
	struct mime_section s;
	CHECK_INT(mime_section_parse("", 0, &s), ==, 0);
	CHECK_INT(s.nparts, ==, 0);
	CHECK_INT(s.text, ==, MIME_SECTION_BODY);
	CHECK_INT(mime_section_parse("1.22.333", 8, &s), ==, 0);
	CHECK_INT(s.nparts, ==, 3);
	CHECK_INT(s.parts[1], ==, 22);
	CHECK_INT(s.parts[2], ==, 333);
	CHECK_INT(mime_section_parse("4.2.header", 10, &s), ==, 0);
	CHECK_INT(s.text, ==, MIME_SECTION_HEADER);
	CHECK_INT(s.nparts, ==, 2);
	CHECK_INT(mime_section_parse("3.Mime", 6, &s), ==, 0);
	CHECK_INT(s.text, ==, MIME_SECTION_MIME);
	const char *f = "HEADER.FIELDS.NOT (From \"X-Spaced Name\" to)";
	CHECK_INT(mime_section_parse(f, strlen(f), &s), ==, 0);
	CHECK_INT(s.text, ==, MIME_SECTION_HEADER_FIELDS_NOT);
	CHECK_INT(s.nfields, ==, 3);
	CHECK_STR(s.fields[0], "From");
	CHECK_STR(s.fields[1], "X-Spaced Name");
	CHECK_STR(s.fields[2], "to");
	mime_section_free(&s);
	CHECK_INT(s.nfields, ==, 0);
	const char *bad[] = { "0",	  "1.0",	 "01",		  "1.",	      ".1",
			      "MIME",	  "1.TEXTX",	 "HEADER.FIELDS", "HEADER.FIELDS ()",
			      "TEXT (a)", "HEADER.FIELDS (a", "HEADER.FIELDS (a) x",
			      "HEADER.FIELDS  (a)", "HEADER.FIELDS (\"a)", "1..2", "x",
			      "99999999999", "HEADER.FIELDS (a  b)" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (mime_section_parse(bad[i], strlen(bad[i]), &s) != -EINVAL)
			test_fail(__FILE__, __LINE__, "section \"%s\" accepted", bad[i]);
		CHECK(s.fields == NULL);
	}
	/* Deeper than MIME_SECTION_MAX_PARTS numbers. */
	struct buf deep = BUF_INIT(0);
	for (int i = 0; i <= MIME_SECTION_MAX_PARTS; i++)
		CHECK(buf_puts(&deep, i ? ".1" : "1") == 0);
	CHECK_INT(mime_section_parse(deep.data, deep.len, &s), ==, -EINVAL);
	buf_free(&deep);
}

TEST(header_fields_of_an_enclosed_message_through_a_slow_source)
{
	const char msg[] = "Subject: outer\r\nContent-Type: message/rfc822\r\n\r\n"
			   "Subject: inner\r\nX-A: 1\r\n  folded\r\nx-a: 2\r\n\r\nbody";
	struct slow sl = { (const uint8_t *)msg, sizeof(msg) - 1, UINT64_MAX };
	struct mime_source src = slow_source(&sl);
	struct mime_message *m;
	CHECK_INT(mime_parse(&src, NULL, &m), ==, 0);
	size_t n;
	char *got = fetch(m, &src, "1.HEADER.FIELDS (X-A)", &n);
	CHECK_STR(got, "X-A: 1\r\n  folded\r\nx-a: 2\r\n\r\n");
	free(got);
	got = fetch(m, &src, "HEADER.FIELDS (subject)", &n);
	CHECK_STR(got, "Subject: outer\r\n\r\n");
	free(got);
	got = fetch(m, &src, "1.TEXT", &n);
	CHECK_STR(got, "body");
	free(got);
	got = fetch(m, &src, "1.1", &n);
	CHECK_STR(got, "body");
	free(got);
	mime_message_free(&m);
}
