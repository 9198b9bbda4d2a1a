/* STATUS (RFC 9051 6.3.11; RFC 3501 6.3.10 for RECENT), with STATUS=SIZE
 * (RFC 8438), DELETED (RFC 9051), APPENDLIMIT (RFC 7889) and HIGHESTMODSEQ
 * (RFC 7162 3.1.7) and MAILBOXID (RFC 8474 4.3). The item list and the response are shared with
 * LIST-STATUS (cmd-list.c). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/util/limits.h"
#include "storage/store.h"

static const struct {
	const char *name;
	unsigned bit;
} status_items[] = {
	{ "MESSAGES", IMAP_STATUS_MESSAGES },
	{ "UIDNEXT", IMAP_STATUS_UIDNEXT },
	{ "UIDVALIDITY", IMAP_STATUS_UIDVALIDITY },
	{ "UNSEEN", IMAP_STATUS_UNSEEN },
	{ "DELETED", IMAP_STATUS_DELETED },
	{ "SIZE", IMAP_STATUS_SIZE },
	{ "RECENT", IMAP_STATUS_RECENT },
	{ "HIGHESTMODSEQ", IMAP_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", IMAP_STATUS_APPENDLIMIT },
	{ "MAILBOXID", IMAP_STATUS_MAILBOXID },
};
#define N_STATUS_ITEMS (sizeof(status_items) / sizeof(status_items[0]))

int imap_status_parse(struct imap_session *s, const struct imap_arg *list, unsigned *items_r)
{
	*items_r = 0;
	if (list->type != IMAP_ARG_LIST || list->len == 0)
		return -EINVAL;
	for (size_t i = 0; i < list->len; i++) {
		const struct imap_arg *a = &list->list[i];
		size_t k = 0;
		while (a->type == IMAP_ARG_ATOM && k < N_STATUS_ITEMS &&
		       strcasecmp(a->str, status_items[k].name) != 0)
			k++;
		if (a->type != IMAP_ARG_ATOM || k == N_STATUS_ITEMS)
			return -EINVAL;
		/* IMAP4rev2 has no \Recent; HIGHESTMODSEQ needs CONDSTORE,
		 * which STATUS turns on once it is offered (RFC 7162 3.1). */
		if (status_items[k].bit == IMAP_STATUS_RECENT && s->imap4rev2)
			return -EINVAL;
		if (status_items[k].bit == IMAP_STATUS_HIGHESTMODSEQ && !s->condstore &&
		    !imap_capability_offered(s, "CONDSTORE"))
			return -EINVAL;
		*items_r |= status_items[k].bit;
	}
	return 0;
}

static int status_append_value(struct buf *b, unsigned bit, const struct meta_status *st)
{
	switch (bit) {
	case IMAP_STATUS_MESSAGES: return buf_printf(b, "%" PRIu32, st->messages);
	case IMAP_STATUS_UIDNEXT: return buf_printf(b, "%" PRIu32, st->uidnext);
	case IMAP_STATUS_UIDVALIDITY: return buf_printf(b, "%" PRIu32, st->uidvalidity);
	case IMAP_STATUS_UNSEEN: return buf_printf(b, "%" PRIu32, st->unseen);
	case IMAP_STATUS_DELETED: return buf_printf(b, "%" PRIu32, st->deleted);
	case IMAP_STATUS_SIZE: return buf_printf(b, "%" PRIu64, st->size);
	case IMAP_STATUS_RECENT: return buf_printf(b, "%" PRIu32, st->recent);
	case IMAP_STATUS_HIGHESTMODSEQ: return buf_printf(b, "%" PRIu64, st->highest_modseq);
	case IMAP_STATUS_MAILBOXID: return buf_printf(b, "(%s)", st->object_id);
	default: return buf_printf(b, "%u", (unsigned)SEAL_MAX_MESSAGE);
	}
}

int imap_status_send(struct imap_session *s, const char *name, unsigned items,
		     const struct meta_status *st)
{
	struct buf b = BUF_INIT(0);
	int r = buf_puts(&b, "STATUS ");
	if (r == 0)
		r = imap_mailbox_append(&b, name, s->utf8);
	if (r == 0)
		r = buf_puts(&b, " (");
	const char *sep = "";
	for (size_t k = 0; r == 0 && k < N_STATUS_ITEMS; k++) {
		if (!(items & status_items[k].bit))
			continue;
		r = buf_printf(&b, "%s%s ", sep, status_items[k].name);
		if (r == 0)
			r = status_append_value(&b, status_items[k].bit, st);
		sep = " ";
	}
	if (r == 0)
		r = buf_puts(&b, ")");
	if (r == 0)
		r = imap_untagged(s, "%s", b.data);
	buf_free(&b);
	return r;
}

int imap_cmd_status(struct imap_session *s, struct imap_command *cmd)
{
	unsigned items;
	if (cmd->nargs != 2 || !imap_arg_is_astring(&cmd->args[0]) ||
	    imap_status_parse(s, &cmd->args[1], &items) < 0)
		return imap_reply(s, cmd->tag, "BAD", "Usage: STATUS mailbox (item ...)");
	char *name;
	int r = imap_arg_mailbox(s, cmd->tag, &cmd->args[0], "NONEXISTENT", &name);
	if (!name)
		return r;
	if (items & IMAP_STATUS_HIGHESTMODSEQ)
		r = imap_enable_condstore(s);
	/* For the selected mailbox, first bring the client's view up to
	 * date, so that STATUS says nothing the view has not (RFC 9051
	 * 6.3.11 warns about exactly this mismatch). */
	if (r == 0 && s->view && strcmp(s->view->name, name) == 0)
		r = imap_view_sync(s, true);
	if (r < 0) {
		free(name);
		return r;
	}
	struct meta_status st;
	const char *err = NULL;
	r = store_status(s->user, name, 0, &st, &err);
	if (r < 0)	/* a name the store would refuse names no mailbox */
		r = imap_reply_store_error(s, cmd->tag, r == -EINVAL ? -ENOENT : r, err, false);
	else if (st.noselect)
		r = imap_reply(s, cmd->tag, "NO", "[CANNOT] Mailbox is not selectable");
	else if ((r = imap_status_send(s, name, items, &st)) == 0)
		r = imap_reply(s, cmd->tag, "OK", "STATUS completed");
	free(name);
	return r;
}
