/* FETCH attribute lists (RFC 9051 6.4.5 and section 9 "fetch-att", RFC
 * 3501 for RFC822, RFC822.HEADER and RFC822.TEXT, RFC 3516 for BINARY,
 * RFC 7162 3.1.4 and 3.2.6 for MODSEQ, CHANGEDSINCE and VANISHED, RFC 8474
 * and RFC 8514 for EMAILID, THREADID and SAVEDATE). */
#include "protocols/imap/fetch.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/istring.h"
#include "protocols/imap/parser.h"
#include "src/util/xmalloc.h"

struct simple_att {
	const char *name;
	unsigned att;
};

static const struct simple_att simple_atts[] = {
	{ "UID", IMAP_FETCH_UID },
	{ "FLAGS", IMAP_FETCH_FLAGS },
	{ "MODSEQ", IMAP_FETCH_MODSEQ },
	{ "INTERNALDATE", IMAP_FETCH_INTERNALDATE },
	{ "RFC822.SIZE", IMAP_FETCH_RFC822_SIZE },
	{ "ENVELOPE", IMAP_FETCH_ENVELOPE },
	{ "BODY", IMAP_FETCH_BODY },
	{ "BODYSTRUCTURE", IMAP_FETCH_BODYSTRUCTURE },
	{ "EMAILID", IMAP_FETCH_EMAILID },
	{ "THREADID", IMAP_FETCH_THREADID },
	{ "SAVEDATE", IMAP_FETCH_SAVEDATE },
};

/* The macros of RFC 9051 6.4.5, valid only alone. */
#define FETCH_FAST (IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE)
#define FETCH_ALL (FETCH_FAST | IMAP_FETCH_ENVELOPE)
#define FETCH_FULL (FETCH_ALL | IMAP_FETCH_BODY)

struct fetch_parse {
	struct imap_fetch_req *req;
	const struct imap_fetch_opts *opts;
	const char *error;
};

static int bad(struct fetch_parse *p, const char *why)
{
	if (!p->error)
		p->error = why;
	return -EINVAL;
}

static bool att_allowed(const struct imap_fetch_opts *o, unsigned att)
{
	if (att == IMAP_FETCH_MODSEQ)
		return o->condstore;
	if (att == IMAP_FETCH_EMAILID || att == IMAP_FETCH_THREADID)
		return o->objectid;
	if (att == IMAP_FETCH_SAVEDATE)
		return o->savedate;
	return true;
}

/* number64 (RFC 9051 section 9): digits, no sign, at most 2^63 - 1. */
static int parse_number64(const char **pp, const char *end, uint64_t *v_r)
{
	const char *p = *pp;
	uint64_t v = 0;
	if (p == end || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (; p < end && isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*pp = p;
	*v_r = v;
	return 0;
}

/* "<offset.length>" (partial: number64 "." nz-number64) ending the item. */
static int parse_partial(struct fetch_parse *p, const char *s, const char *end,
			 struct imap_fetch_section *sec)
{
	if (s == end)
		return 0;
	if (*s++ != '<' || parse_number64(&s, end, &sec->offset) < 0 || s == end ||
	    *s++ != '.' || parse_number64(&s, end, &sec->length) < 0 || sec->length == 0 ||
	    s == end || *s++ != '>' || s != end)
		return bad(p, "Invalid partial range, expected <offset.length>");
	sec->partial = true;
	return 0;
}

/* The canonical section text for the response name: part numbers, the
 * keyword in upper case, header field names as the client wrote them. */
static void section_name(const char *prefix, const struct mime_section *ms, struct buf *out)
{
	static const char *const texts[] = {
		[MIME_SECTION_BODY] = "",
		[MIME_SECTION_HEADER] = "HEADER",
		[MIME_SECTION_HEADER_FIELDS] = "HEADER.FIELDS",
		[MIME_SECTION_HEADER_FIELDS_NOT] = "HEADER.FIELDS.NOT",
		[MIME_SECTION_TEXT] = "TEXT",
		[MIME_SECTION_MIME] = "MIME",
	};
	(void)buf_puts(out, prefix);
	(void)buf_puts(out, "[");
	for (size_t i = 0; i < ms->nparts; i++)
		(void)buf_printf(out, "%s%u", i ? "." : "", ms->parts[i]);
	if (ms->text != MIME_SECTION_BODY)
		(void)buf_printf(out, "%s%s", ms->nparts ? "." : "", texts[ms->text]);
	if (ms->nfields > 0) {
		(void)buf_puts(out, " (");
		for (size_t i = 0; i < ms->nfields; i++) {
			if (i)
				(void)buf_puts(out, " ");
			(void)istring_append(out, ms->fields[i], strlen(ms->fields[i]),
					     ISTRING_ALLOW_ATOM);
		}
		(void)buf_puts(out, ")");
	}
	(void)buf_puts(out, "]");
}

static struct imap_fetch_section *new_section(struct fetch_parse *p)
{
	struct imap_fetch_req *req = p->req;
	if (req->nsections == IMAP_FETCH_MAX_SECTIONS) {
		bad(p, "Too many body sections in one FETCH");
		return NULL;
	}
	req->sections = xrealloc(req->sections, (req->nsections + 1) * sizeof(*req->sections));
	struct imap_fetch_section *sec = &req->sections[req->nsections++];
	memset(sec, 0, sizeof(*sec));
	return sec;
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]:
 * s points at '[' after the item name. */
static int parse_section_item(struct fetch_parse *p, enum imap_fetch_kind kind, bool peek,
			      const char *s, const char *end)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	if (!close)
		return bad(p, "Missing ] in section");
	struct imap_fetch_section *sec = new_section(p);
	if (!sec)
		return -EINVAL;
	sec->kind = kind;
	sec->peek = peek;
	if (mime_section_parse(s + 1, (size_t)(close - s - 1), &sec->sec) < 0)
		return bad(p, "Invalid section specifier");
	if (kind != IMAP_FETCH_SECTION && sec->sec.text != MIME_SECTION_BODY)
		return bad(p, "BINARY takes only part numbers");
	if (kind == IMAP_FETCH_BINARY_SIZE && close + 1 != end)
		return bad(p, "BINARY.SIZE takes no partial range");
	if (parse_partial(p, close + 1, end, sec) < 0)
		return -EINVAL;
	static const char *const prefixes[] = {
		[IMAP_FETCH_SECTION] = "BODY",
		[IMAP_FETCH_BINARY] = "BINARY",
		[IMAP_FETCH_BINARY_SIZE] = "BINARY.SIZE",
	};
	struct buf name = BUF_INIT(0);
	section_name(prefixes[kind], &sec->sec, &name);
	sec->name = buf_steal(&name);
	return 0;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT (RFC 3501 6.4.5): BODY[], BODY.PEEK[HEADER]
 * and BODY[TEXT] under their own names. */
static int parse_rfc822(struct fetch_parse *p, const char *name)
{
	enum mime_section_text text;
	bool peek = false;
	if (strcasecmp(name, "RFC822") == 0) {
		text = MIME_SECTION_BODY;
	} else if (strcasecmp(name, "RFC822.HEADER") == 0) {
		text = MIME_SECTION_HEADER;
		peek = true;
	} else if (strcasecmp(name, "RFC822.TEXT") == 0) {
		text = MIME_SECTION_TEXT;
	} else {
		return 1;
	}
	struct imap_fetch_section *sec = new_section(p);
	if (!sec)
		return -EINVAL;
	sec->kind = IMAP_FETCH_SECTION;
	sec->peek = peek;
	sec->sec.text = text;
	sec->name = xstrdup(name);
	for (char *c = sec->name; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return 0;
}

static bool has_prefix(const char *s, const char *end, const char *prefix)
{
	size_t n = strlen(prefix);
	return (size_t)(end - s) >= n && strncasecmp(s, prefix, n) == 0;
}

static int parse_item(struct fetch_parse *p, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM)
		return bad(p, "Invalid FETCH item");
	const char *s = a->str, *end = a->str + a->len;
	for (size_t i = 0; i < sizeof(simple_atts) / sizeof(simple_atts[0]); i++) {
		if (strcasecmp(s, simple_atts[i].name) != 0)
			continue;
		if (!att_allowed(p->opts, simple_atts[i].att))
			return bad(p, "FETCH item not enabled");
		p->req->atts |= simple_atts[i].att;
		return 0;
	}
	int r = parse_rfc822(p, s);
	if (r <= 0)
		return r;
	if (has_prefix(s, end, "BODY.PEEK["))
		return parse_section_item(p, IMAP_FETCH_SECTION, true, s + 9, end);
	if (has_prefix(s, end, "BODY["))
		return parse_section_item(p, IMAP_FETCH_SECTION, false, s + 4, end);
	if (has_prefix(s, end, "BINARY.PEEK["))
		return parse_section_item(p, IMAP_FETCH_BINARY, true, s + 11, end);
	if (has_prefix(s, end, "BINARY.SIZE["))
		return parse_section_item(p, IMAP_FETCH_BINARY_SIZE, true, s + 11, end);
	if (has_prefix(s, end, "BINARY["))
		return parse_section_item(p, IMAP_FETCH_BINARY, false, s + 6, end);
	return bad(p, "Unknown FETCH item");
}

static int parse_atts(struct fetch_parse *p, const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_ATOM) {
		if (strcasecmp(a->str, "ALL") == 0)
			p->req->atts |= FETCH_ALL;
		else if (strcasecmp(a->str, "FAST") == 0)
			p->req->atts |= FETCH_FAST;
		else if (strcasecmp(a->str, "FULL") == 0)
			p->req->atts |= FETCH_FULL;
		else
			return parse_item(p, a);
		return 0;
	}
	if (a->type != IMAP_ARG_LIST || a->len == 0)
		return bad(p, "Expected a FETCH item or a list of them");
	for (size_t i = 0; i < a->len; i++)
		if (parse_item(p, &a->list[i]) < 0)
			return -EINVAL;
	return 0;
}

/* fetch-modifier (RFC 7162 3.1.4.1, 3.2.6). */
static int parse_modifiers(struct fetch_parse *p, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_LIST || a->len == 0)
		return bad(p, "Expected a list of FETCH modifiers");
	struct imap_fetch_req *req = p->req;
	for (size_t i = 0; i < a->len; i++) {
		const struct imap_arg *m = &a->list[i];
		if (m->type != IMAP_ARG_ATOM)
			return bad(p, "Invalid FETCH modifier");
		if (strcasecmp(m->str, "CHANGEDSINCE") == 0 && p->opts->condstore &&
		    !req->has_changedsince) {
			const char *s;
			if (++i == a->len || a->list[i].type != IMAP_ARG_ATOM)
				return bad(p, "CHANGEDSINCE needs a mod-sequence");
			s = a->list[i].str;
			if (parse_number64(&s, s + a->list[i].len, &req->changedsince) < 0 ||
			    *s != '\0')
				return bad(p, "Invalid CHANGEDSINCE value");
			req->has_changedsince = true;
			req->atts |= IMAP_FETCH_MODSEQ;
		} else if (strcasecmp(m->str, "VANISHED") == 0 && p->opts->qresync &&
			   p->opts->uid && !req->vanished) {
			req->vanished = true;
		} else {
			return bad(p, "Unknown or repeated FETCH modifier");
		}
	}
	if (req->vanished && !req->has_changedsince)
		return bad(p, "VANISHED needs CHANGEDSINCE");
	return 0;
}

static void derive(struct imap_fetch_req *req)
{
	req->needs_meta = req->atts & (IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
				       IMAP_FETCH_EMAILID | IMAP_FETCH_SAVEDATE);
	req->needs_tree =
		req->atts & (IMAP_FETCH_ENVELOPE | IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE);
	for (size_t i = 0; i < req->nsections; i++) {
		const struct imap_fetch_section *sec = &req->sections[i];
		if (!sec->peek)
			req->sets_seen = true;
		/* BODY[] and BINARY[] are the raw message: no parse needed. */
		if (sec->sec.nparts > 0 || sec->sec.text != MIME_SECTION_BODY ||
		    sec->kind == IMAP_FETCH_BINARY_SIZE)
			req->needs_tree = true;
	}
	req->needs_source = req->needs_tree || req->nsections > 0;
	req->needs_structure = req->atts & (IMAP_FETCH_BODY | IMAP_FETCH_BODYSTRUCTURE);
	req->header_only = req->needs_source;
	for (size_t i = 0; i < req->nsections; i++) {
		const struct imap_fetch_section *sec = &req->sections[i];
		enum mime_section_text t = sec->sec.text;
		if (sec->kind != IMAP_FETCH_SECTION || sec->sec.nparts > 0 ||
		    (t != MIME_SECTION_HEADER && t != MIME_SECTION_HEADER_FIELDS &&
		     t != MIME_SECTION_HEADER_FIELDS_NOT))
			req->header_only = false;
	}
}

int imap_fetch_parse(const struct imap_arg *args, size_t nargs, const struct imap_fetch_opts *opts,
		     struct imap_fetch_req *req, const char **error_r)
{
	memset(req, 0, sizeof(*req));
	struct fetch_parse p = { req, opts, NULL };
	int r = nargs == 1 || nargs == 2 ? 0 : bad(&p, "Usage: FETCH sequence-set items [modifiers]");
	if (r == 0)
		r = parse_atts(&p, &args[0]);
	if (r == 0 && nargs == 2)
		r = parse_modifiers(&p, &args[1]);
	if (r < 0) {
		imap_fetch_req_free(req);
		*error_r = p.error;
		return r;
	}
	if (opts->uid)
		req->atts |= IMAP_FETCH_UID;
	derive(req);
	return 0;
}

void imap_fetch_req_free(struct imap_fetch_req *req)
{
	for (size_t i = 0; i < req->nsections; i++) {
		mime_section_free(&req->sections[i].sec);
		free(req->sections[i].name);
	}
	free(req->sections);
	req->sections = NULL;
	req->nsections = 0;
}
