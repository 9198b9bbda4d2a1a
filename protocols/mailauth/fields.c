/* The message header as DKIM and DMARC need it: where it ends, its fields
 * (for libopendkim) and the From domain (RFC 7489 6.6.1). The header is
 * held whole, at most SEAL_MAX_HEADER_BLOCK, by the caller. */
#include "protocols/mailauth/mailauth-private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/mime/mime.h"
#include "src/util/xmalloc.h"

long mailauth_header_end(const char *d, size_t len, size_t from, size_t *body_at)
{
	if (from == 0 && len >= 1 && d[0] == '\n') {
		*body_at = 1;
		return 0;
	}
	if (from == 0 && len >= 2 && d[0] == '\r' && d[1] == '\n') {
		*body_at = 2;
		return 0;
	}
	for (size_t i = from; i < len; i++) {
		if (d[i] != '\n')
			continue;
		if (i + 1 < len && d[i + 1] == '\n') {
			*body_at = i + 2;
			return (long)i + 1;
		}
		if (i + 2 < len && d[i + 1] == '\r' && d[i + 2] == '\n') {
			*body_at = i + 3;
			return (long)i + 1;
		}
	}
	return -1;
}

/* One From field naming addresses of one domain; anything else leaves
 * DMARC with nothing to apply to. */
static void take_from(struct header_fields *f, const char *value, size_t len)
{
	struct mime_address *addrs;
	size_t n;
	if (f->from != 0) {
		f->from = -1;	/* a second From field */
		return;
	}
	f->from = -1;
	mime_addresses_parse(value, len, &addrs, &n);
	for (size_t i = 0; i < n; i++) {
		char norm[DNS_MAX_NAME + 1];
		if (!addrs[i].mailbox || !addrs[i].host)
			continue;	/* group markers */
		if (mailauth_domain_normalize(addrs[i].host, strlen(addrs[i].host), norm,
					      sizeof(norm)) < 0 ||
		    (f->from == 1 && strcmp(norm, f->from_domain) != 0)) {
			f->from = -1;
			break;
		}
		memcpy(f->from_domain, norm, strlen(norm) + 1);
		f->from = 1;
	}
	mime_addresses_free(&addrs, n);
}

static bool field_is(const char *f, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len <= n || strncasecmp(f, name, n) != 0)
		return false;
	while (n < len && (f[n] == ' ' || f[n] == '\t'))
		n++;
	return n < len && f[n] == ':';
}

static void field_end(struct header_fields *f, size_t start)
{
	size_t len = f->text.len - start;
	if (len == 0)
		return;
	const char *field = f->text.data + start;
	if (field_is(field, len, "from")) {
		const char *colon = memchr(field, ':', len);
		take_from(f, colon + 1, len - (size_t)(colon + 1 - field));
	}
	f->dkim_signed = f->dkim_signed || field_is(field, len, "dkim-signature");
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->span = xrealloc(f->span, f->cap * sizeof(*f->span));
	}
	f->span[f->n][0] = start;
	f->span[f->n][1] = len;
	f->n++;
}

void mailauth_header_fields(const char *h, size_t len, struct header_fields *f)
{
	size_t start = 0;
	bool open = false;

	memset(f, 0, sizeof(*f));
	f->text = (struct buf)BUF_INIT(0);
	for (size_t pos = 0; pos < len;) {
		const char *nl = memchr(h + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - h) : len;
		size_t line_end = end > pos && h[end - 1] == '\r' ? end - 1 : end;
		bool cont = h[pos] == ' ' || h[pos] == '\t';
		if (!cont) {
			if (open)
				field_end(f, start);
			start = f->text.len;
			open = true;
		} else if (!open) {
			pos = end + 1;
			continue;	/* continuation of nothing */
		} else {
			buf_puts(&f->text, "\r\n");
		}
		buf_append(&f->text, h + pos, line_end - pos);
		pos = end + 1;
	}
	if (open)
		field_end(f, start);
}

void mailauth_header_fields_free(struct header_fields *f)
{
	buf_free(&f->text);
	free(f->span);
	f->span = NULL;
	f->n = f->cap = 0;
}
