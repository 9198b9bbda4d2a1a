/* BODY[section] (RFC 9051 6.4.5): section specs, IMAP part numbers, and
 * their byte ranges in the message; HEADER.FIELDS subsets are generated
 * byte-exact from the original header. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

bool mime_part_is_text(const struct mime_part *p)
{
	if (p->flags & MIME_PART_OPAQUE)
		return false;
	return strcmp(p->type, "TEXT") == 0 || p->message != NULL;
}

const char *mime_part_param(const struct mime_part *p, const char *name)
{
	for (size_t i = 0; i < p->nparams; i++)
		if (strcasecmp(p->params[i].name, name) == 0)
			return p->params[i].value;
	return NULL;
}

/* "Every message has at least one part number. Non-[MIME-IMB] messages,
 * and non-multipart [MIME-IMB] messages with no encapsulated message, only
 * have a part 1." Below a message/rfc822 part, numbers count the parts of
 * the enclosed message the same way. */
const struct mime_part *mime_part_by_number(const struct mime_message *msg, const unsigned *nums,
					    size_t n)
{
	const struct mime_part *cur = msg->root;
	for (size_t k = 0; k < n; k++) {
		const struct mime_part *in = cur;
		if (k > 0 && cur->message)
			in = cur->message;
		else if (k > 0 && !(cur->flags & MIME_PART_MULTIPART))
			return NULL;
		if (in->flags & MIME_PART_MULTIPART) {
			cur = in->children;
			for (unsigned i = 1; cur && i < nums[k]; i++)
				cur = cur->next;
			if (cur == NULL || nums[k] == 0)
				return NULL;
		} else if (nums[k] != 1) {
			return NULL;
		} else {
			cur = in;
		}
	}
	return cur;
}

/* ---- Section specs --------------------------------------------------------- */

static bool keyword(const char **p, const char *end, const char *kw)
{
	size_t n = strlen(kw);
	if ((size_t)(end - *p) < n || strncasecmp(*p, kw, n) != 0)
		return false;
	*p += n;
	return true;
}

static bool astring_char(char c)
{
	return (uint8_t)c > ' ' && (uint8_t)c < 127 && !strchr("(){%*\"\\", c);
}

static int field_list(const char *p, const char *end, struct mime_section *sec)
{
	if (p >= end || *p++ != ' ' || p >= end || *p++ != '(')
		return -EINVAL;
	size_t cap = 0;
	while (p < end && *p != ')') {
		struct buf name = BUF_INIT(0);
		if (sec->nfields > 0 && *p++ != ' ')
			return -EINVAL;
		if (p < end && *p == '"') {
			struct mime__lex lx;
			mime__lex_init(&lx, p, (size_t)(end - p));
			mime__lex_quoted(&lx, &name);
			if (lx.p[-1] != '"' || lx.p - p < 2) {
				buf_free(&name);
				return -EINVAL;
			}
			p = lx.p;
		} else {
			const char *s = p;
			while (p < end && astring_char(*p))
				p++;
			(void)buf_append(&name, s, (size_t)(p - s));
		}
		if (name.len == 0) {
			buf_free(&name);
			return -EINVAL;
		}
		if (sec->nfields == cap) {
			cap = cap ? cap * 2 : 8;
			sec->fields = xrealloc(sec->fields, cap * sizeof(*sec->fields));
		}
		sec->fields[sec->nfields++] = buf_steal(&name);
	}
	if (p >= end || sec->nfields == 0 || p + 1 != end)
		return -EINVAL;
	return 0;
}

static int parse_numbers(const char **pp, const char *end, struct mime_section *sec)
{
	const char *p = *pp;
	while (p < end && isdigit((uint8_t)*p)) {
		unsigned v = 0;
		if (*p == '0' || sec->nparts == MIME_SECTION_MAX_PARTS)
			return -EINVAL;
		while (p < end && isdigit((uint8_t)*p)) {
			if (v > 100000000)
				return -EINVAL;
			v = v * 10 + (unsigned)(*p++ - '0');
		}
		sec->parts[sec->nparts++] = v;
		if (p == end)
			break;
		if (*p++ != '.' || p == end)
			return -EINVAL;
	}
	*pp = p;
	return 0;
}

int mime_section_parse(const char *spec, size_t len, struct mime_section *sec)
{
	const char *p = spec, *end = spec + len;
	memset(sec, 0, sizeof(*sec));
	int r = parse_numbers(&p, end, sec);
	if (r == 0 && p < end) {
		if (keyword(&p, end, "HEADER.FIELDS.NOT"))
			sec->text = MIME_SECTION_HEADER_FIELDS_NOT;
		else if (keyword(&p, end, "HEADER.FIELDS"))
			sec->text = MIME_SECTION_HEADER_FIELDS;
		else if (keyword(&p, end, "HEADER"))
			sec->text = MIME_SECTION_HEADER;
		else if (keyword(&p, end, "TEXT"))
			sec->text = MIME_SECTION_TEXT;
		else if (keyword(&p, end, "MIME") && sec->nparts > 0)
			sec->text = MIME_SECTION_MIME;
		else
			r = -EINVAL;
		if (r == 0 && (sec->text == MIME_SECTION_HEADER_FIELDS ||
			       sec->text == MIME_SECTION_HEADER_FIELDS_NOT))
			r = field_list(p, end, sec);
		else if (r == 0 && p != end)
			r = -EINVAL;
	}
	if (r < 0)
		mime_section_free(sec);
	return r;
}

void mime_section_free(struct mime_section *sec)
{
	for (size_t i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
	sec->fields = NULL;
	sec->nfields = 0;
}

/* ---- Fetching -------------------------------------------------------------- */

struct subset {
	const struct mime_section *sec;
	struct buf *out;
};

static int pick_field(void *ctx, const char *raw, size_t len, uint64_t off)
{
	struct subset *s = ctx;
	size_t nl, vo;
	if (!mime__field_split(raw, len, &nl, &vo))
		return 0;
	bool listed = false;
	for (size_t i = 0; i < s->sec->nfields && !listed; i++)
		listed = mime__ieq(raw, nl, s->sec->fields[i]);
	if (listed != (s->sec->text == MIME_SECTION_HEADER_FIELDS))
		return 0;
	return buf_append(s->out, raw, len);
}

static int header_subset(const struct mime_source *src, const struct mime_part *e,
			 const struct mime_section *sec, struct buf *out)
{
	struct subset s = { sec, out };
	int r = mime__header_walk(src, e->hdr_off, e->hdr_len, mime_default_limits.max_header_line,
				  pick_field, &s);
	if (r < 0 || !(e->flags & MIME_PART_BLANK_LINE))
		return r;
	/* "the blank line is included in all header fetches", as it was. */
	char tail[2] = { 0, 0 };
	if (e->hdr_len >= 2) {
		ssize_t n = mime_source_read(src, e->hdr_off + e->hdr_len - 2, tail, 2);
		if (n < 0)
			return (int)n;
	}
	return buf_puts(out, tail[0] == '\r' ? "\r\n" : "\n");
}

int mime_section_fetch(const struct mime_message *msg, const struct mime_source *src,
		       const struct mime_section *sec, uint64_t *off_r, uint64_t *len_r,
		       struct buf *out)
{
	const struct mime_part *p = msg->root, *e = msg->root;
	if (sec->nparts > 0) {
		p = mime_part_by_number(msg, sec->parts, sec->nparts);
		if (p == NULL)
			return -ENOENT;
		e = p->message;
	}
	switch (sec->text) {
	case MIME_SECTION_BODY:
		*off_r = sec->nparts ? p->body_off : 0;
		*len_r = sec->nparts ? p->body_len : msg->size;
		return 0;
	case MIME_SECTION_MIME:
		*off_r = p->hdr_off;
		*len_r = p->hdr_len;
		return 0;
	default:
		break;
	}
	if (e == NULL)
		return -ENOENT;	/* HEADER or TEXT of a part that is no message */
	if (sec->text == MIME_SECTION_HEADER) {
		*off_r = e->hdr_off;
		*len_r = e->hdr_len;
		return 0;
	}
	if (sec->text == MIME_SECTION_TEXT) {
		*off_r = e->body_off;
		*len_r = e->body_len;
		return 0;
	}
	int r = header_subset(src, e, sec, out);
	return r < 0 ? r : 1;
}
