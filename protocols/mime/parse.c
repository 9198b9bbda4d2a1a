/* The streaming MIME parser: one forward pass over the message, line by
 * line, with a stack of the open multipart boundaries. Each part records
 * where its header and body are; only the current header field is held in
 * memory. Recursion follows the nesting, which the depth limit bounds.
 *
 * Boundary lines (RFC 2046 5.1.1) are "--" boundary, then "--" for the close
 * delimiter, then optional whitespace. A line matches when the boundary is
 * followed by "--", space, tab, CR or the line end, so "--abcdef" does not
 * close a part delimited by "abc"; the innermost open boundary is tried
 * first, so a nested multipart reusing its parent's boundary still parses.
 * A line matching an outer boundary ends every part inside it: a multipart
 * whose close delimiter never comes is ended by its parent's next boundary
 * or by the end of the message. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"
#include "src/util/xmalloc.h"

/* Whatever the caller passes, recursion stays this shallow. */
#define DEPTH_CEILING 64

struct bound {
	const char *s;
	size_t len;
};

struct parser {
	struct mime__reader r;
	struct mime_limits lim;
	struct mime_message *msg;
	struct mime__arena *a;
	struct bound stack[DEPTH_CEILING + 1];
	size_t nbound;
	struct mime__line line;
	unsigned prev_eol;	/* the last line consumed */
	uint64_t prev_content;
	int match;		/* stack index of the boundary that stopped the
				 * last scan, -1 for the end of the source */
	bool match_close;
	uint64_t match_start;
	struct mime_part *cur;	/* the part whose header is read */
	bool ct_seen;
	struct buf fb, val;
};

static const struct mime_param default_params[] = { { "CHARSET", "US-ASCII" } };

static bool match_boundary(void *ctx, const struct mime__line *l)
{
	struct parser *p = ctx;
	const uint8_t *s = l->prefix;
	if (l->prefix_len < 2 || s[0] != '-' || s[1] != '-')
		return false;
	for (size_t i = p->nbound; i-- > 0;) {
		const struct bound *b = &p->stack[i];
		size_t k = 2 + b->len;
		if (l->prefix_len < k || memcmp(s + 2, b->s, b->len) != 0)
			continue;
		bool close = k + 2 <= l->prefix_len && s[k] == '-' && s[k + 1] == '-';
		if (!close && k < l->prefix_len && s[k] != ' ' && s[k] != '\t' && s[k] != '\r')
			continue;
		p->match = (int)i;
		p->match_close = close;
		p->match_start = l->start;
		return true;
	}
	return false;
}

static void consume_line(struct parser *p)
{
	mime__reader_line(&p->r, &p->line, NULL, NULL);
	p->prev_eol = p->line.eol_len;
	p->prev_content = p->line.content_len;
}

/* Skips body lines up to a boundary line (left unread) or the end. */
static void scan_body(struct parser *p)
{
	p->match = -1;
	if (p->nbound == 0) {
		/* Nothing can end this body but the end: skip whole windows. */
		uint8_t last = 0, before = 0;
		size_t avail;
		const uint8_t *d;
		while ((d = mime__reader_peek(&p->r, MIME__READER_BUF, &avail)), avail > 0) {
			before = avail > 1 ? d[avail - 2] : last;
			last = d[avail - 1];
			mime__reader_skip(&p->r, avail);
			p->prev_eol = last != '\n' ? 0 : before == '\r' ? 2 : 1;
			p->prev_content = last != '\n' || before != '\n';
		}
		return;
	}
	while (mime__reader_line_peek(&p->r, &p->line)) {
		if (match_boundary(p, &p->line))
			return;
		consume_line(p);
	}
}

/* Sets the end of a body from what stopped the scan (RFC 2046 5.1.1: the
 * line break before a boundary line belongs to the boundary). */
static void finish_body(struct parser *p, struct mime_part *part, uint64_t lf_at_body)
{
	uint64_t end = p->r.pos, lf_end = p->r.lf_count;
	bool last_lf = p->prev_eol > 0;

	if (p->match >= 0) {
		uint64_t cut = p->match_start - p->prev_eol;
		if (p->prev_eol == 0) {
			end = part->body_off;
		} else if (cut < part->hdr_off) {
			/* An empty part between two boundary lines: the line
			 * break between them is the second one's, so the part
			 * sits before it. */
			part->hdr_off = part->body_off = end = cut;
		} else if (cut >= part->body_off) {
			end = cut;
			lf_end--;
			last_lf = p->prev_content == 0;
		} else {
			/* It ends the header, so the header loses it: "--b CRLF
			 * Content-Type: x CRLF CRLF --b" holds a header without
			 * its blank line and no body (RFC 2046 5.1.1). */
			part->hdr_len = cut - part->hdr_off;
			part->body_off = end = cut;
			part->flags &= ~MIME_PART_BLANK_LINE;
			if (part->message)	/* it read nothing: move it */
				part->message->hdr_off = part->message->body_off = cut;
		}
	}
	part->body_len = end - part->body_off;
	part->lines = 0;
	if (part->body_len > 0)
		part->lines = lf_end - lf_at_body + (last_lf ? 0 : 1);
}

static struct mime_part *new_part(struct parser *p, struct mime_part *parent, unsigned depth)
{
	if (p->msg->nparts >= p->lim.max_parts)
		return NULL;
	struct mime_part *part = mime__alloc(p->a, sizeof(*part));
	part->parent = parent;
	part->depth = depth;
	p->msg->nparts++;
	return part;
}

static char *upper_dup(struct mime__arena *a, const char *s, size_t len)
{
	char *d = mime__strndup(a, s, len);
	for (char *c = d; c && *c; c++)
		*c = (char)toupper((uint8_t)*c);
	return d;
}

static void content_type(struct parser *p, struct mime_part *part, const char *v, size_t len)
{
	struct mime__lex lx;
	mime__lex_init(&lx, v, len);
	mime__lex_cfws(&lx);
	const char *t = lx.p;
	size_t tl = mime__lex_token(&lx, MIME__TSPECIALS, false);
	lx.p += tl;
	mime__lex_cfws(&lx);
	if (tl == 0 || lx.p >= lx.end || *lx.p != '/')
		return;	/* invalid: the defaults stay (RFC 2045 5.2) */
	lx.p++;
	mime__lex_cfws(&lx);
	const char *s = lx.p;
	size_t sl = mime__lex_token(&lx, MIME__TSPECIALS, false);
	lx.p += sl;
	if (sl == 0)
		return;
	char *type = upper_dup(p->a, t, tl), *sub = upper_dup(p->a, s, sl);
	if (type == NULL || sub == NULL)
		return;
	part->type = type;
	part->subtype = sub;
	part->flags |= MIME_PART_CONTENT_TYPE;
	mime__params_parse(p->a, &lx, &part->params, &part->nparams);
}

static void content_disposition(struct parser *p, struct mime_part *part, const char *v,
				size_t len)
{
	struct mime__lex lx;
	mime__lex_init(&lx, v, len);
	mime__lex_cfws(&lx);
	const char *t = lx.p;
	size_t tl = mime__lex_token(&lx, MIME__TSPECIALS, false);
	lx.p += tl;
	if (tl == 0 || (part->disposition = upper_dup(p->a, t, tl)) == NULL)
		return;
	mime__params_parse(p->a, &lx, &part->disp_params, &part->ndisp_params);
}

static void content_language(struct parser *p, struct mime_part *part, const char *v, size_t len)
{
	const char *tags[64];
	size_t n = 0;
	struct mime__lex lx;
	mime__lex_init(&lx, v, len);
	while (n < 64) {
		mime__lex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		size_t tl = mime__lex_token(&lx, MIME__TSPECIALS, false);
		if (tl == 0) {
			lx.p++;	/* a comma or garbage */
			continue;
		}
		if ((tags[n] = mime__strndup(p->a, lx.p, tl)) != NULL)
			n++;
		lx.p += tl;
	}
	if (n == 0)
		return;
	const char **list = mime__alloc(p->a, n * sizeof(*list));
	memcpy(list, tags, n * sizeof(*list));
	part->languages = list;
	part->nlanguages = n;
}

#define ENV(f) offsetof(struct mime_envelope, f)
static const struct {
	const char *name;
	size_t off;
} env_fields[] = {
	{ "date", ENV(date) },	   { "subject", ENV(subject) },
	{ "from", ENV(from) },	   { "sender", ENV(sender) },
	{ "reply-to", ENV(reply_to) }, { "to", ENV(to) },
	{ "cc", ENV(cc) },	   { "bcc", ENV(bcc) },
	{ "in-reply-to", ENV(in_reply_to) }, { "message-id", ENV(message_id) },
};

static void set_once(struct parser *p, const char **field, const char *v, size_t len)
{
	if (*field == NULL)
		*field = mime__strndup(p->a, v, len);
}

/* A token value such as Content-Transfer-Encoding, upper-cased. */
static void token_field(struct parser *p, const char **field, const char *v, size_t len)
{
	struct mime__lex lx;
	mime__lex_init(&lx, v, len);
	mime__lex_cfws(&lx);
	size_t tl = mime__lex_token(&lx, MIME__TSPECIALS, false);
	if (*field == NULL && tl > 0)
		*field = upper_dup(p->a, lx.p, tl);
}

static int on_field(void *ctx, const char *raw, size_t len, uint64_t off)
{
	struct parser *p = ctx;
	struct mime_part *part = p->cur;
	size_t nl, vo;
	if (!mime__field_split(raw, len, &nl, &vo))
		return 0;
	/* Only envelope and Content- fields are kept: others (Received, X-)
	 * are not even unfolded. */
	const char **env = NULL;
	for (size_t i = 0; part->envelope && i < sizeof(env_fields) / sizeof(env_fields[0]); i++)
		if (mime__ieq(raw, nl, env_fields[i].name))
			env = (const char **)((char *)part->envelope + env_fields[i].off);
	bool content = nl >= 8 && strncasecmp(raw, "content-", 8) == 0;
	if (!env && !content)
		return 0;
	p->val.len = 0;
	mime__unfold(raw + vo, len - vo, &p->val);
	const char *v = p->val.data ? p->val.data : "";
	size_t vl = p->val.len;

	if (env)
		set_once(p, env, v, vl);
	if (!content)
		return 0;
	const char *n = raw + 8;
	nl -= 8;
	if (mime__ieq(n, nl, "type")) {
		if (!p->ct_seen)
			content_type(p, part, v, vl);
		p->ct_seen = true;
	} else if (mime__ieq(n, nl, "transfer-encoding")) {
		token_field(p, &part->encoding, v, vl);
	} else if (mime__ieq(n, nl, "id")) {
		set_once(p, &part->id, v, vl);
	} else if (mime__ieq(n, nl, "description")) {
		set_once(p, &part->description, v, vl);
	} else if (mime__ieq(n, nl, "md5")) {
		set_once(p, &part->md5, v, vl);
	} else if (mime__ieq(n, nl, "location")) {
		set_once(p, &part->location, v, vl);
	} else if (mime__ieq(n, nl, "disposition")) {
		if (part->disposition == NULL)
			content_disposition(p, part, v, vl);
	} else if (mime__ieq(n, nl, "language")) {
		if (part->nlanguages == 0)
			content_language(p, part, v, vl);
	}
	return 0;
}

static void set_default_type(struct mime_part *part)
{
	const struct mime_part *up = part->parent;
	bool digest = up && (up->flags & MIME_PART_MULTIPART) && strcmp(up->subtype, "DIGEST") == 0;
	if (digest) {
		part->type = "MESSAGE";
		part->subtype = "RFC822";
		part->params = NULL;
		part->nparams = 0;
	} else {
		part->type = "TEXT";
		part->subtype = "PLAIN";
		part->params = default_params;
		part->nparams = 1;
	}
}

static int read_header(struct parser *p, struct mime_part *part)
{
	struct mime__hdr_scan s = {
		.r = &p->r, .end = UINT64_MAX, .max_block = p->lim.max_header_block,
		.stop_line = p->nbound ? match_boundary : NULL,
		.field = on_field, .ctx = p, .fb = &p->fb,
		.last_eol = p->prev_eol, .last_content = p->prev_content,
	};
	p->cur = part;
	p->ct_seen = false;
	p->match = -1;
	int r = mime__header_scan(&s);
	p->prev_eol = s.last_eol;
	p->prev_content = s.last_content;
	part->hdr_off = s.hdr_off;
	part->hdr_len = p->r.pos - s.hdr_off;
	if (s.blank)
		part->flags |= MIME_PART_BLANK_LINE;
	if ((part->flags & MIME_PART_CONTENT_TYPE) == 0)
		set_default_type(part);
	return r;
}

static void parse_entity(struct parser *p, struct mime_part *part);

static void parse_multipart(struct parser *p, struct mime_part *part, const char *boundary)
{
	size_t me = p->nbound++;
	p->stack[me].s = boundary;
	p->stack[me].len = strlen(boundary);
	part->flags |= MIME_PART_MULTIPART;	/* children see their parent */

	scan_body(p);	/* the preamble */
	struct mime_part **tail = &part->children;
	while (p->match == (int)me && !p->match_close) {
		consume_line(p);
		struct mime_part *child = new_part(p, part, part->depth + 1);
		if (child == NULL) {
			scan_body(p);	/* past the part limit: skipped */
			continue;
		}
		*tail = child;
		tail = &child->next;
		part->nchildren++;
		parse_entity(p, child);
	}
	p->nbound--;
	if (p->match == (int)me) {
		consume_line(p);
		scan_body(p);	/* the epilogue */
	} else {
		part->flags |= MIME_PART_UNTERMINATED;
	}
	if (part->nchildren == 0)
		part->flags = (part->flags & ~MIME_PART_MULTIPART) | MIME_PART_OPAQUE;
}

static bool identity_encoding(const char *e)
{
	return e == NULL || strcmp(e, "7BIT") == 0 || strcmp(e, "8BIT") == 0 ||
	       strcmp(e, "BINARY") == 0;
}

/* The body of a part: a multipart's children, an enclosed message, or
 * plain bytes. Containers past the limits are plain bytes (opaque). */
static void parse_body(struct parser *p, struct mime_part *part)
{
	bool deep = part->depth >= p->lim.max_depth;
	if (strcmp(part->type, "MULTIPART") == 0) {
		const char *b = mime_part_param(part, "BOUNDARY");
		size_t bl = b ? strlen(b) : 0;
		if (bl == 0 || bl > MIME_MAX_BOUNDARY) {
			/* Invalid Content-Type: RFC 2045 5.2 defaults. */
			part->flags &= ~MIME_PART_CONTENT_TYPE;
			set_default_type(part);
		} else if (deep || p->nbound >= DEPTH_CEILING) {
			part->flags |= MIME_PART_OPAQUE;
		} else {
			parse_multipart(p, part, b);
			return;
		}
	}
	if (strcmp(part->type, "MESSAGE") == 0 &&
	    (strcmp(part->subtype, "RFC822") == 0 || strcmp(part->subtype, "GLOBAL") == 0)) {
		/* An encoded message cannot be parsed in place. */
		struct mime_part *m = NULL;
		if (!deep && identity_encoding(part->encoding))
			m = new_part(p, part, part->depth + 1);
		if (m == NULL) {
			part->flags |= MIME_PART_OPAQUE;
		} else {
			m->envelope = mime__alloc(p->a, sizeof(*m->envelope));
			part->message = m;
			part->flags |= MIME_PART_MESSAGE;
			parse_entity(p, m);
			return;
		}
	}
	scan_body(p);
}

static void parse_entity(struct parser *p, struct mime_part *part)
{
	if (read_header(p, part) < 0)
		return;
	part->body_off = p->r.pos;
	uint64_t lf_at_body = p->r.lf_count;
	if (p->match >= 0) {
		/* A boundary cut the header short: no body. */
		if (strcmp(part->type, "MULTIPART") == 0 || strcmp(part->type, "MESSAGE") == 0)
			part->flags |= MIME_PART_OPAQUE;
	} else {
		parse_body(p, part);
	}
	finish_body(p, part, lf_at_body);
}

int mime_parse(const struct mime_source *src, const struct mime_limits *limits,
	       struct mime_message **msg_r)
{
	struct parser *p = xcalloc(1, sizeof(*p));
	p->lim = limits ? *limits : mime_default_limits;
	if (p->lim.max_depth > DEPTH_CEILING)
		p->lim.max_depth = DEPTH_CEILING;
	if (p->lim.max_parts == 0)
		p->lim.max_parts = 1;
	p->fb.max = p->lim.max_header_line;
	p->a = mime__arena_new(p->lim.max_strings);
	p->msg = mime__alloc(p->a, sizeof(*p->msg));
	p->msg->arena = p->a;
	p->msg->size = src->size;
	mime__reader_init(&p->r, src, 0);

	struct mime_part *root = new_part(p, NULL, 0);
	root->envelope = mime__alloc(p->a, sizeof(*root->envelope));
	p->msg->root = root;
	parse_entity(p, root);

	int err = p->r.error;
	struct mime_message *msg = p->msg;
	buf_free(&p->fb);
	buf_free(&p->val);
	free(p);
	if (err < 0) {
		mime_message_free(&msg);
		*msg_r = NULL;
		return err;
	}
	*msg_r = msg;
	return 0;
}

void mime_message_free(struct mime_message **msg)
{
	if (*msg == NULL)
		return;
	struct mime__arena *a = (*msg)->arena;
	mime__arena_free(&a);
	*msg = NULL;
}
