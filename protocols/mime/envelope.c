/* ENVELOPE (RFC 9051 7.5.2): the fields of a message header as IMAP
 * strings and address lists. */
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"

static int sp(struct buf *out)
{
	return buf_append(out, " ", 1);
}

static int nstr(struct buf *out, const char *s, enum mime_str_kind kind, bool utf8)
{
	return mime_write_nstring(out, s, s ? strlen(s) : 0, kind, utf8);
}

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")";
 * the source route (adl) is always NIL. */
static int write_address(struct buf *out, const struct mime_address *a, bool utf8)
{
	int r = buf_append(out, "(", 1);
	if (r == 0)
		r = nstr(out, a->name, MIME_STR_TEXT, utf8);
	if (r == 0)
		r = buf_append(out, " NIL ", 5);
	if (r == 0)
		r = nstr(out, a->mailbox, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, a->host, MIME_STR_STRUCT, utf8);
	return r < 0 ? r : buf_append(out, ")", 1);
}

static int write_list(struct buf *out, const struct mime_address *v, size_t n, bool utf8)
{
	if (n == 0)
		return buf_append(out, "NIL", 3);
	int r = buf_append(out, "(", 1);
	for (size_t i = 0; i < n && r == 0; i++)
		r = write_address(out, &v[i], utf8);
	return r < 0 ? r : buf_append(out, ")", 1);
}

struct alist {
	struct mime_address *v;
	size_t n;
};

static void parse_list(const char *value, struct alist *l)
{
	l->v = NULL;
	l->n = 0;
	if (value)
		mime_addresses_parse(value, strlen(value), &l->v, &l->n);
}

int mime_write_envelope(struct buf *out, const struct mime_envelope *env, bool utf8)
{
	static const struct mime_envelope none;
	if (env == NULL)
		env = &none;
	/* Order: from, sender, reply-to, to, cc, bcc. */
	const char *fields[6] = { env->from, env->sender, env->reply_to, env->to, env->cc, env->bcc };
	struct alist lists[6];
	for (size_t i = 0; i < 6; i++)
		parse_list(fields[i], &lists[i]);
	/* RFC 9051 7.5.2: an absent or empty Sender or Reply-To is the From. */
	const struct alist *use[6] = { &lists[0], &lists[1], &lists[2], &lists[3], &lists[4],
				       &lists[5] };
	if (lists[1].n == 0)
		use[1] = &lists[0];
	if (lists[2].n == 0)
		use[2] = &lists[0];

	int r = buf_append(out, "(", 1);
	if (r == 0)
		r = nstr(out, env->date, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->subject, MIME_STR_TEXT, utf8);
	for (size_t i = 0; i < 6 && r == 0; i++) {
		r = sp(out);
		if (r == 0)
			r = write_list(out, use[i]->v, use[i]->n, utf8);
	}
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->in_reply_to, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = sp(out);
	if (r == 0)
		r = nstr(out, env->message_id, MIME_STR_STRUCT, utf8);
	if (r == 0)
		r = buf_append(out, ")", 1);
	for (size_t i = 0; i < 6; i++)
		mime_addresses_free(&lists[i].v, lists[i].n);
	return r;
}
