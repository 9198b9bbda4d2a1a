/* libFuzzer entry point for the MIME layer: any bytes must parse into a
 * consistent tree (offsets inside the message, children inside their
 * parent's body, limits kept) whose BODYSTRUCTURE and ENVELOPE are
 * well-formed IMAP, with and without UTF-8; every part's sections, BINARY
 * decoding and search text must work; a tree made from the header block
 * alone (the header cache's mime_parse_header) must render the envelope,
 * the header sections and, for a single part, BODYSTRUCTURE exactly as
 * the full tree does. The first bytes also go through the date, address
 * and encoded-word parsers.
 *
 *   ./fuzz-mime corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One IMAP value as RFC 9051 9 allows it (see test-mime.c). */
static const char *value(const char *s, const char *end, int utf8, unsigned depth)
{
	if (s >= end || depth > 200)
		return NULL;
	if (*s == '(') {
		int first = 1;
		for (s++; s < end && *s != ')'; first = 0) {
			if (!first && *s == ' ')
				s++;
			if ((s = value(s, end, utf8, depth + 1)) == NULL)
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
		if (e >= end - 2 || memcmp(e, "}\r\n", 3) != 0 || n > (size_t)(end - e - 3) ||
		    memchr(e + 3, 0, n))
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

static void well_formed(struct buf *b, int utf8)
{
	if (value(b->data, b->data + b->len, utf8, 0) != b->data + b->len)
		__builtin_trap();
	buf_reset(b);
}

static int sink(void *ctx, const void *d, size_t n)
{
	*(size_t *)ctx += n;
	return 0;
}

static unsigned walk(const struct mime_message *m, const struct mime_source *src,
		     const struct mime_part *p, unsigned *nums, size_t n)
{
	unsigned count = 1;
	if (p->hdr_off + p->hdr_len != p->body_off || p->body_off + p->body_len > m->size ||
	    p->depth > mime_default_limits.max_depth)
		__builtin_trap();
	size_t decoded = 0;
	uint64_t size;
	int r = mime_part_decode(src, p, sink, &decoded);
	if (r != mime_part_decoded_size(src, p, &size) || (r == 0 && size != decoded))
		__builtin_trap();
	/* nums[0..n) is this part's IMAP number (RFC 9051 6.4.5). */
	if (n > 0 && mime_part_by_number(m, nums, n) == NULL)
		__builtin_trap();
	unsigned i = 1;
	for (const struct mime_part *c = p->children; c; c = c->next, i++) {
		if (c->hdr_off < p->body_off || c->body_off + c->body_len > p->body_off + p->body_len)
			__builtin_trap();
		nums[n] = i;	/* n stays below the depth limit */
		count += walk(m, src, c, nums, n + 1);
	}
	if (p->message) {
		if (p->message->hdr_off != p->body_off ||
		    p->message->body_off + p->message->body_len != p->body_off + p->body_len)
			__builtin_trap();
		/* A multipart message shares the number of its part, which
		 * its parts extend; another kind of message is part N.1. */
		if (!(p->message->flags & MIME_PART_MULTIPART))
			nums[n++] = 1;
		count += walk(m, src, p->message, nums, n);
	}
	return count;
}

static void sections(const struct mime_message *m, const struct mime_source *src)
{
	static const char *specs[] = { "", "HEADER", "TEXT", "1", "1.MIME", "1.HEADER", "2.1",
				       "1.1.TEXT", "HEADER.FIELDS (From Subject)",
				       "1.HEADER.FIELDS.NOT (To)" };
	struct buf out = BUF_INIT(0);
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct mime_section sec;
		uint64_t off, len;
		if (mime_section_parse(specs[i], strlen(specs[i]), &sec) < 0)
			__builtin_trap();
		int r = mime_section_fetch(m, src, &sec, &off, &len, &out);
		if (r == 0 && (off > m->size || len > m->size - off))
			__builtin_trap();
		mime_section_free(&sec);
		buf_reset(&out);
	}
	buf_free(&out);
}

/* The renderings that a header-only tree must give as the full one does. */
static void render_header_items(const struct mime_message *m, const struct mime_source *src,
				int structure, struct buf *out)
{
	static const char *specs[] = { "HEADER", "HEADER.FIELDS (From Subject X)",
				       "HEADER.FIELDS.NOT (To Received)" };
	for (int utf8 = 0; utf8 < 2; utf8++) {
		if (mime_write_envelope(out, m->root->envelope, utf8) != 0 ||
		    (structure && mime_write_body(out, m->root, true, utf8) != 0) ||
		    (structure && mime_write_body(out, m->root, false, utf8) != 0))
			__builtin_trap();
	}
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		struct mime_section sec;
		uint64_t off, len;
		if (mime_section_parse(specs[i], strlen(specs[i]), &sec) < 0)
			__builtin_trap();
		int r = mime_section_fetch(m, src, &sec, &off, &len, out);
		if (r == 0 && (buf_printf(out, "[%llu+%llu]", (unsigned long long)off,
					  (unsigned long long)len) != 0))
			__builtin_trap();
		mime_section_free(&sec);
	}
}

static void header_only(const struct mime_message *m, const uint8_t *data, size_t size)
{
	struct mime_header_facts f;
	mime_header_facts(m, &f);
	if (f.hdr_len == 0 || f.hdr_len > 65536)
		return;
	uint8_t *hdr = malloc(f.hdr_len);	/* its own block: reads past it trap under ASan */
	memcpy(hdr, data, f.hdr_len);
	struct mime_message *h;
	if (mime_parse_header(hdr, f.hdr_len, size, f.single ? &f.lines : NULL, &h) != 0)
		__builtin_trap();
	struct mime_source full = mime_source_memory(data, size);
	struct mime_source part = mime_source_memory(hdr, f.hdr_len);
	struct buf a = BUF_INIT(0), b = BUF_INIT(0);
	render_header_items(m, &full, f.single, &a);
	render_header_items(h, &part, f.single, &b);
	if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		__builtin_trap();
	buf_free(&a);
	buf_free(&b);
	mime_message_free(&h);
	free(hdr);
}

static void text_parsers(const uint8_t *data, size_t size)
{
	size_t n = size < 512 ? size : 512;
	time_t t;
	int zone;
	(void)mime_date_parse((const char *)data, n, &t, &zone);
	struct mime_address *v;
	size_t nv;
	mime_addresses_parse((const char *)data, n, &v, &nv);
	mime_addresses_free(&v, nv);
	struct buf b = BUF_INIT(0);
	(void)mime_encword_decode((const char *)data, n, &b);
	(void)mime_text_fold((const char *)data, n, &b);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mime_source src = mime_source_memory(data, size);
	struct mime_message *m;
	if (mime_parse(&src, NULL, &m) != 0 || m->root == NULL)
		__builtin_trap();
	unsigned nums[MIME_SECTION_MAX_PARTS] = { 1 };
	size_t n = m->root->flags & MIME_PART_MULTIPART ? 0 : 1;
	if (walk(m, &src, m->root, nums, n) != m->nparts ||
	    m->nparts > mime_default_limits.max_parts)
		__builtin_trap();
	struct buf b = BUF_INIT(0);
	for (int utf8 = 0; utf8 < 2; utf8++) {
		if (mime_write_body(&b, m->root, true, utf8) != 0)
			__builtin_trap();
		well_formed(&b, utf8);
		if (mime_write_body(&b, m->root, false, utf8) != 0)
			__builtin_trap();
		well_formed(&b, utf8);
		if (mime_write_envelope(&b, m->root->envelope, utf8) != 0)
			__builtin_trap();
		well_formed(&b, utf8);
	}
	buf_free(&b);
	sections(m, &src);
	struct buf text = BUF_INIT(0);
	if (mime_search_header(m, &src, NULL, 4096, &text) != 0 || text.len > 4096)
		__builtin_trap();
	buf_reset(&text);
	if (mime_search_body(m, &src, 4096, &text) != 0 || text.len > 4096)
		__builtin_trap();
	buf_free(&text);
	header_only(m, data, size);
	mime_message_free(&m);
	text_parsers(data, size);
	return 0;
}
