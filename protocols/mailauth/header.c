/* The header block prepended to an inbound message: Authentication-Results
 * (RFC 8601 2.2) and Received-SPF (RFC 7208 9.1).
 *
 * HELO and MAIL FROM are whatever the client sent, so they only ever appear
 * as RFC 2045 tokens or quoted-strings, with CR, LF and every other byte
 * outside printable ASCII replaced: no value can end the field or start a
 * new one. Comments hold only our own words and normalized domains. Lines
 * fold before 78 columns where the words allow (RFC 5322 2.1.1); no word
 * can pass 998, as values are cut to MAILAUTH_MAX_VALUE bytes.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

#define FOLD_AT 78

/* RFC 2045 5.1 tspecials, plus space and controls: what a token lacks. */
static bool token_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && !strchr("()<>@,;:\\\"/[]?=", c);
}

/* A quoted-string (RFC 5322 3.2.4); what cannot be in one becomes '?'. */
static void put_quoted(struct buf *out, const char *s, size_t len)
{
	buf_puts(out, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			char esc[2] = { '\\', (char)c };
			buf_append(out, esc, 2);
		} else {
			char ch = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
			buf_append(out, &ch, 1);
		}
	}
	buf_puts(out, "\"");
}

void mailauth_put_value(struct buf *out, const char *s)
{
	size_t len = strnlen(s, MAILAUTH_MAX_VALUE);
	bool token = len > 0;

	/* An addr-spec's '@' is allowed bare in a pvalue (RFC 8601 2.2),
	 * once, between two tokens. */
	const char *at = memchr(s, '@', len);
	for (size_t i = 0; i < len && token; i++)
		token = token_char((unsigned char)s[i]) ||
			(s + i == at && i > 0 && i + 1 < len);
	if (token)
		buf_append(out, s, len);
	else
		put_quoted(out, s, len);
}

/* RFC 7208 9.1 values are a dot-atom or a quoted-string. */
static void put_spf_value(struct buf *out, const char *s)
{
	size_t len = strnlen(s, MAILAUTH_MAX_VALUE);
	bool atom = len > 0 && s[0] != '.' && s[len - 1] != '.' && !memmem(s, len, "..", 2);
	for (size_t i = 0; i < len && atom; i++) {
		char c = s[i];
		atom = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
	}
	if (atom)
		buf_append(out, s, len);
	else
		put_quoted(out, s, len);
}

/* Our own text that quotes a value we hold but did not check (an address
 * given to us): only characters that cannot break a comment survive. */
static void put_safe(struct buf *out, const char *s)
{
	size_t len = strnlen(s, MAILAUTH_MAX_VALUE);
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || strchr(".-_:", c);
		buf_append(out, ok && c ? &c : "?", 1);
	}
}

/* A header being written: words go on the line or start a folded one. */
struct hdr {
	struct buf *out;
	size_t col;
};

static void word(struct hdr *h, const char *w, size_t len)
{
	if (h->col > 8 && h->col + 1 + len > FOLD_AT) {
		buf_puts(h->out, "\r\n\t");
		h->col = 8;
	} else {
		buf_puts(h->out, " ");
		h->col++;
	}
	buf_append(h->out, w, len);
	h->col += len;
}

static void wordb(struct hdr *h, struct buf *w)
{
	word(h, w->data ? w->data : "", w->len);
	buf_reset(w);
}

/* Starts a new line for the next resinfo (RFC 8601: "; resinfo"). */
static void newline(struct hdr *h)
{
	buf_puts(h->out, ";\r\n\t");
	h->col = 8;
}

static void ar_spf(struct hdr *h, const struct mailauth_report *rep, struct buf *w)
{
	const struct mailauth_result *res = rep->res;
	/* Without a word before it the line would start with a space. */
	buf_printf(h->out, "spf=%s", mailauth_spf_name(res->spf));
	h->col += 4 + strlen(mailauth_spf_name(res->spf));
	if (rep->spf_problem) {
		buf_printf(w, "(%s)", rep->spf_problem);
		wordb(h, w);
	}
	if (res->spf_helo) {
		buf_puts(w, "smtp.helo=");
		mailauth_put_value(w, rep->helo ? rep->helo : "");
	} else {
		buf_puts(w, "smtp.mailfrom=");
		mailauth_put_value(w, rep->mail_from ? rep->mail_from : "");
	}
	wordb(h, w);
}

static void ar_dkim(struct hdr *h, const struct mailauth_result *res, struct buf *w)
{
	if (res->nsigs == 0) {
		/* none, or temperror when the signatures could not be
		 * verified in time */
		newline(h);
		buf_printf(h->out, "dkim=%s", mailauth_dkim_name(res->dkim));
		h->col += 5 + strlen(mailauth_dkim_name(res->dkim));
		return;
	}
	for (size_t i = 0; i < res->nsigs; i++) {
		const struct mailauth_dkim_sig *s = &res->sigs[i];
		newline(h);
		buf_printf(h->out, "dkim=%s", mailauth_dkim_name(s->result));
		h->col += 5 + strlen(mailauth_dkim_name(s->result));
		if (s->reason) {
			buf_printf(w, "(%s)", s->reason);
			wordb(h, w);
		}
		buf_puts(w, "header.d=");
		mailauth_put_value(w, s->domain ? s->domain : "");
		wordb(h, w);
		buf_puts(w, "header.s=");
		mailauth_put_value(w, s->selector ? s->selector : "");
		wordb(h, w);
		if (s->algorithm) {
			buf_puts(w, "header.a=");
			mailauth_put_value(w, s->algorithm);
			wordb(h, w);
		}
		if (s->b_prefix && *s->b_prefix) {
			buf_puts(w, "header.b=");
			mailauth_put_value(w, s->b_prefix);
			wordb(h, w);
		}
	}
}

static void ar_dmarc(struct hdr *h, const struct mailauth_report *rep, struct buf *w)
{
	const struct mailauth_result *res = rep->res;
	newline(h);
	buf_printf(h->out, "dmarc=%s", mailauth_dmarc_name(res->dmarc));
	h->col += 6 + strlen(mailauth_dmarc_name(res->dmarc));
	if (res->dmarc == MAILAUTH_DMARC_PASS || res->dmarc == MAILAUTH_DMARC_FAIL) {
		buf_printf(w, "(p=%s", mailauth_policy_name(res->policy));
		wordb(h, w);
		buf_printf(w, "dis=%s)", mailauth_policy_name(rep->disposition));
		wordb(h, w);
	}
	if (res->from_domain) {
		buf_puts(w, "header.from=");
		mailauth_put_value(w, res->from_domain);
		wordb(h, w);
	}
}

/* The comment RFC 7208 9.1 suggests, in our words. */
static void spf_comment(struct buf *w, const struct mailauth_report *rep)
{
	const struct mailauth_result *res = rep->res;
	const char *dom = res->spf_domain && *res->spf_domain ? res->spf_domain : "?";
	buf_puts(w, "(");
	put_safe(w, rep->receiver ? rep->receiver : "localhost");
	buf_puts(w, ": ");
	switch (res->spf) {
	case MAILAUTH_SPF_PASS:
		buf_printf(w, "domain %s designates ", dom);
		put_safe(w, rep->client_ip);
		buf_puts(w, " as permitted sender)");
		break;
	case MAILAUTH_SPF_FAIL:
	case MAILAUTH_SPF_SOFTFAIL:
		buf_printf(w, "domain %s does not designate ", dom);
		put_safe(w, rep->client_ip);
		buf_puts(w, " as permitted sender)");
		break;
	case MAILAUTH_SPF_NEUTRAL:
		put_safe(w, rep->client_ip);
		buf_printf(w, " is neither permitted nor denied by domain %s)", dom);
		break;
	case MAILAUTH_SPF_NONE:
		buf_printf(w, "domain %s does not publish SPF)", dom);
		break;
	case MAILAUTH_SPF_TEMPERROR:
	case MAILAUTH_SPF_PERMERROR:
		buf_printf(w, "%s while checking domain %s)",
			   rep->spf_problem ? rep->spf_problem : "error", dom);
		break;
	}
}

static void received_spf(struct buf *out, const struct mailauth_report *rep)
{
	const struct mailauth_result *res = rep->res;
	struct buf w = BUF_INIT(0);
	struct hdr h = { out, 0 };

	buf_printf(out, "Received-SPF: %s", mailauth_spf_name(res->spf));
	h.col = strlen("Received-SPF: ") + strlen(mailauth_spf_name(res->spf));
	spf_comment(&w, rep);
	/* The comment is our words with spaces: fold between them. */
	for (char *p = w.data, *sp; p && *p; p = sp ? sp + 1 : NULL) {
		sp = strchr(p, ' ');
		word(&h, p, sp ? (size_t)(sp - p) : strlen(p));
	}
	buf_reset(&w);
	buf_puts(&w, "client-ip=");
	put_safe(&w, rep->client_ip);
	buf_puts(&w, ";");
	wordb(&h, &w);
	buf_puts(&w, "envelope-from=");
	put_spf_value(&w, rep->mail_from ? rep->mail_from : "");
	buf_puts(&w, ";");
	wordb(&h, &w);
	buf_puts(&w, "helo=");
	put_spf_value(&w, rep->helo ? rep->helo : "");
	buf_puts(&w, ";");
	wordb(&h, &w);
	buf_puts(&w, "receiver=");
	put_spf_value(&w, rep->receiver ? rep->receiver : "localhost");
	buf_puts(&w, ";");
	wordb(&h, &w);
	buf_printf(&w, "identity=%s", res->spf_helo ? "helo" : "mailfrom");
	wordb(&h, &w);
	buf_puts(out, "\r\n");
	buf_free(&w);
}

char *mailauth_format_headers(const struct mailauth_report *rep)
{
	struct buf out = BUF_INIT(0), w = BUF_INIT(0);
	struct hdr h = { &out, 0 };

	buf_puts(&out, "Authentication-Results:");
	h.col = strlen("Authentication-Results:");
	mailauth_put_value(&w, rep->receiver && *rep->receiver ? rep->receiver : "localhost");
	wordb(&h, &w);
	newline(&h);
	ar_spf(&h, rep, &w);
	ar_dkim(&h, rep->res, &w);
	ar_dmarc(&h, rep, &w);
	buf_puts(&out, "\r\n");
	received_spf(&out, rep);
	buf_free(&w);
	return buf_steal(&out);
}
