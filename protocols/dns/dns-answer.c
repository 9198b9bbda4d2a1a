/* Answers: one allocation each (header, record array, record bytes), built
 * once and then shared read-only by the cache and its callers. */
#include "protocols/dns/dns-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

void dns_builder_init(struct dns_builder *b, enum dns_type type)
{
	memset(b, 0, sizeof(*b));
	b->type = type;
	b->data = (struct buf)BUF_INIT(DNS_MAX_ANSWER_BYTES);
}

void dns_builder_free(struct dns_builder *b)
{
	buf_free(&b->data);
}

int dns_builder_add(struct dns_builder *b, const void *data, size_t len,
		    uint16_t pref)
{
	if (b->n >= DNS_MAX_RECORDS || len > UINT16_MAX)
		return -E2BIG;
	size_t off = b->data.len;
	/* Each record's bytes are followed by a NUL, so text can be used as
	 * a C string. */
	if (buf_append(&b->data, data, len) < 0 ||
	    buf_append(&b->data, "", 1) < 0) {
		b->data.len = off;
		return -E2BIG;
	}
	b->off[b->n] = off;
	b->len[b->n] = (uint16_t)len;
	b->pref[b->n] = pref;
	b->n++;
	return 0;
}

struct dns_answer *dns_builder_finish(struct dns_builder *b,
				      enum dns_status status, uint32_t ttl)
{
	unsigned n = status == DNS_OK ? b->n : 0;
	size_t dlen = status == DNS_OK ? b->data.len : 0;
	size_t size = sizeof(struct dns_answer) + n * sizeof(struct dns_record) + dlen;
	struct dns_answer *a = xmalloc(size);
	struct dns_record *recs = (struct dns_record *)(a + 1);
	uint8_t *data = (uint8_t *)(recs + n);

	memset(a, 0, sizeof(*a));
	a->status = status;
	a->type = (uint16_t)b->type;
	a->ttl = ttl;
	a->count = n;
	a->records = n ? recs : NULL;
	a->refs = 1;
	a->bytes = size;
	if (dlen)
		memcpy(data, b->data.data, dlen);
	for (unsigned i = 0; i < n; i++) {
		recs[i].data = data + b->off[i];
		recs[i].len = b->len[i];
		recs[i].pref = b->pref[i];
	}
	dns_builder_free(b);
	return a;
}

struct dns_answer *dns_answer_new_status(enum dns_type type,
					 enum dns_status status)
{
	struct dns_builder b;
	dns_builder_init(&b, type);
	return dns_builder_finish(&b, status == DNS_OK ? DNS_NODATA : status, 0);
}

struct dns_answer *dns_answer_ref(struct dns_answer *ans)
{
	ans->refs++;
	return ans;
}

void dns_answer_unref(struct dns_answer **ans)
{
	struct dns_answer *a = *ans;
	if (!a)
		return;
	*ans = NULL;
	if (--a->refs == 0)
		free(a);
}

const char *dns_status_name(enum dns_status st)
{
	switch (st) {
	case DNS_OK: return "ok";
	case DNS_NODATA: return "nodata";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_BADNAME: return "badname";
	}
	return "?";
}

int dns_name_normalize(const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name);
	size_t label = 0;

	if (len > 0 && name[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_MAX_NAME || outlen <= len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return -EINVAL;
		if (c == '.') {
			if (label == 0)
				return -EINVAL;
			label = 0;
		} else if (++label > 63) {
			return -EINVAL;
		}
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : (char)c;
	}
	out[len] = '\0';
	return 0;
}
