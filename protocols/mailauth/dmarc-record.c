/* DMARC policy records (RFC 7489 6.3 and the ABNF of 6.4).
 *
 * The text comes from DNS, so from anyone: it is read in place with
 * explicit bounds and never copied. ABNF literals are case-insensitive
 * (RFC 5234 2.3) except the version, which 6.4 spells in %x codes.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <errno.h>
#include <string.h>
#include <strings.h>

struct span {
	const char *p;
	size_t len;
};

static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

static struct span trim(const char *p, size_t len)
{
	while (len && wsp(*p))
		p++, len--;
	while (len && wsp(p[len - 1]))
		len--;
	return (struct span){ p, len };
}

static bool span_is(struct span s, const char *word)
{
	size_t n = strlen(word);
	return s.len == n && strncasecmp(s.p, word, n) == 0;
}

/* Splits "tag *WSP = *WSP value" (the part is trimmed already). */
static bool split_tag(struct span part, struct span *tag, struct span *value)
{
	const char *eq = memchr(part.p, '=', part.len);
	if (!eq)
		return false;
	*tag = trim(part.p, (size_t)(eq - part.p));
	*value = trim(eq + 1, part.len - (size_t)(eq - part.p) - 1);
	if (tag->len == 0)
		return false;
	for (size_t i = 0; i < tag->len; i++) {
		char c = tag->p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/* The next ';'-separated part at *pos, trimmed; false at the end. */
static bool next_part(const char *txt, size_t len, size_t *pos, struct span *part)
{
	if (*pos > len)
		return false;
	const char *semi = memchr(txt + *pos, ';', len - *pos);
	size_t end = semi ? (size_t)(semi - txt) : len;
	*part = trim(txt + *pos, end - *pos);
	*pos = end + 1;
	return true;
}

bool dmarc_is_record(const char *txt, size_t len)
{
	size_t pos = 0;
	struct span part, tag, value;

	if (len > MAILAUTH_MAX_RECORD || !next_part(txt, len, &pos, &part) ||
	    !split_tag(part, &tag, &value))
		return false;
	return span_is(tag, "v") && value.len == 6 && memcmp(value.p, "DMARC1", 6) == 0;
}

static bool parse_policy(struct span v, enum mailauth_policy *p)
{
	if (span_is(v, "none"))
		*p = MAILAUTH_POLICY_NONE;
	else if (span_is(v, "quarantine"))
		*p = MAILAUTH_POLICY_QUARANTINE;
	else if (span_is(v, "reject"))
		*p = MAILAUTH_POLICY_REJECT;
	else
		return false;
	return true;
}

static void parse_mode(struct span v, bool *strict)
{
	if (span_is(v, "s"))
		*strict = true;
	else if (span_is(v, "r"))
		*strict = false;
	/* anything else: the default (relaxed) stays (6.3) */
}

static void parse_pct(struct span v, unsigned *pct)
{
	unsigned n = 0;
	if (v.len == 0 || v.len > 3)
		return;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return;
		n = n * 10 + (unsigned)(v.p[i] - '0');
	}
	if (n <= 100)
		*pct = n;
}

/* A "rua" with at least one URI: a scheme, a colon, something after it
 * (RFC 3986 3.1); only its presence matters here (6.6.3). */
static bool has_uri(struct span v)
{
	size_t i = 0;
	if (v.len == 0 || !((v.p[0] | 0x20) >= 'a' && (v.p[0] | 0x20) <= 'z'))
		return false;
	while (i < v.len && v.p[i] != ':' && v.p[i] != ',')
		i++;
	return i < v.len && v.p[i] == ':' && i + 1 < v.len && !wsp(v.p[i + 1]);
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec)
{
	struct span part, tag, value;
	size_t pos = 0;
	bool p_seen = false, p_ok = false, sp_seen = false, sp_ok = true;
	bool adkim_seen = false, aspf_seen = false, pct_seen = false, rua = false;

	if (!dmarc_is_record(txt, len))
		return -ENOENT;
	memset(rec, 0, sizeof(*rec));
	rec->pct = 100;
	next_part(txt, len, &pos, &part);	/* v=DMARC1 */
	/* The first occurrence of a tag counts; later ones are ignored. */
	while (next_part(txt, len, &pos, &part)) {
		if (part.len == 0 || !split_tag(part, &tag, &value))
			continue;	/* empty part (";;", final ";") or junk */
		if (span_is(tag, "p") && !p_seen) {
			p_seen = true;
			p_ok = parse_policy(value, &rec->p);
		} else if (span_is(tag, "sp") && !sp_seen) {
			sp_seen = true;
			sp_ok = parse_policy(value, &rec->sp);
		} else if (span_is(tag, "adkim") && !adkim_seen) {
			adkim_seen = true;
			parse_mode(value, &rec->adkim_strict);
		} else if (span_is(tag, "aspf") && !aspf_seen) {
			aspf_seen = true;
			parse_mode(value, &rec->aspf_strict);
		} else if (span_is(tag, "pct") && !pct_seen) {
			pct_seen = true;
			parse_pct(value, &rec->pct);
		} else if (span_is(tag, "rua")) {
			rua = rua || has_uri(value);
		}
	}
	/* 6.6.3: without a valid p (or with an invalid sp) the record counts
	 * only when it names a report address: then as p=none. */
	if (!p_ok || !sp_ok) {
		if (!rua)
			return -EINVAL;
		rec->p = MAILAUTH_POLICY_NONE;
		rec->sp = MAILAUTH_POLICY_NONE;
		rec->sp_given = false;
		return 0;
	}
	rec->sp_given = sp_seen;
	if (!sp_seen)
		rec->sp = rec->p;
	return 0;
}
