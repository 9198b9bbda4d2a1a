/* Helpers of the message commands (cmd-message.h): capabilities, the
 * flags of the selected mailbox's messages, number sets. */
#include "protocols/imap/cmd-message.h"

#include <errno.h>
#include <string.h>

#include "protocols/imap/view.h"
#include "storage/store.h"

bool imap_has_capability(const struct imap_session *s, const char *cap)
{
	const char *caps = imap_capabilities(s);
	size_t n = strlen(cap);
	for (const char *p = caps; (p = strstr(p, cap)) != NULL; p += n)
		if ((p == caps || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

int imap_flag_table_load(struct imap_session *s, struct imap_flag_table *t,
			 const struct meta_uid_range *set, size_t n_set, const char **error_r)
{
	meta_msgs_free(&t->live);
	return store_flags(s->user, s->view->mailbox_id, set, n_set, &t->live, error_r);
}

void imap_flag_table_free(struct imap_flag_table *t)
{
	meta_msgs_free(&t->live);
	meta_msgs_free(&t->extra);
}

const struct meta_msg *imap_msgs_find(const struct meta_msgs *l, uint32_t uid)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (l->v[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < l->n && l->v[lo].uid == uid ? &l->v[lo] : NULL;
}

const struct meta_msg *imap_flag_table_find(const struct imap_flag_table *t, uint32_t uid,
					    const struct meta_msgs **list_r)
{
	const struct meta_msg *m = imap_msgs_find(&t->extra, uid);
	*list_r = m ? &t->extra : &t->live;
	return m ? m : imap_msgs_find(&t->live, uid);
}

int imap_append_msg_flags(struct imap_session *s, struct buf *out, const struct meta_msgs *l,
			  const struct meta_msg *m)
{
	return imap_view_append_flags(s, out, m->uid, m->flags, l->kw + m->kw_off, m->kw_n);
}
