/* COPY, MOVE, UID COPY and UID MOVE (RFC 9051 6.4.7 to 6.4.9; RFC 4315
 * COPYUID; RFC 6851).
 *
 * A missing destination is NO [TRYCREATE] (RFC 9051 6.4.7). COPY and MOVE
 * answer with COPYUID (UIDPLUS, part of IMAP4rev2): the destination's
 * UIDVALIDITY, then the source and destination UIDs, both ascending so the
 * n-th of one set goes with the n-th of the other. MOVE sends that code in
 * an untagged OK, then an EXPUNGE for each moved message (RFC 6851 4.3),
 * and needs a read-write source. The store moves atomically (copy, flags,
 * removal in one transaction; manual, MOVE); a move within one mailbox is
 * a copy followed by the expunge of the originals. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/imap/cmd-message.h"
#include "protocols/imap/view.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

struct copy_cmd {
	struct imap_session *s;
	const char *tag;
	bool move;
	struct imap_msgset set;
	char *name;
	int64_t dst;
	struct meta_copy_result res;
};

/* "COPYUID <uidvalidity> <source set> <destination set>" into b. */
static int copy_uid_code(const struct meta_copy_result *res, struct buf *b)
{
	uint32_t *src = xmalloc(res->n * sizeof(*src)), *dst = xmalloc(res->n * sizeof(*dst));
	for (size_t i = 0; i < res->n; i++) {
		src[i] = res->map[i].src;
		dst[i] = res->map[i].dst;
	}
	int r = buf_printf(b, "COPYUID %u ", res->uidvalidity);
	if (r == 0)
		r = imap_append_number_set(b, src, res->n);
	if (r == 0)
		r = buf_puts(b, " ");
	if (r == 0)
		r = imap_append_number_set(b, dst, res->n);
	free(src);
	free(dst);
	return r;
}

static int copy_reply(struct copy_cmd *c)
{
	struct imap_session *s = c->s;
	if (c->res.n == 0)
		return imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
	struct buf b = BUF_INIT(0);
	int r = copy_uid_code(&c->res, &b);
	if (r == 0)
		r = imap_reply(s, c->tag, "OK", "[%s] %s completed", b.data, s->cmd_name);
	buf_free(&b);
	return r;
}

/* MOVE within the selected mailbox: the store's move wants two
 * mailboxes, so copy, then expunge the originals whatever their flags. */
static int move_in_place(struct copy_cmd *c, const char **err)
{
	struct imap_session *s = c->s;
	int r = store_copy(s->user, c->dst, c->set.uids, c->set.n, c->dst, &c->res, err);
	if (r < 0 || c->res.n == 0)
		return r;
	struct meta_uids gone = { 0 };
	uint64_t modseq;
	r = store_expunge(s->user, c->dst, c->set.uids, c->set.n, META_EXPUNGE_ANY, &gone, &modseq,
			  err);
	meta_uids_free(&gone);
	return r;
}

static int move_reply(struct copy_cmd *c)
{
	struct imap_session *s = c->s;
	if (c->res.n == 0)
		return imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
	struct buf b = BUF_INIT(0);
	int r = copy_uid_code(&c->res, &b);
	if (r == 0)
		r = imap_untagged(s, "OK [%s] Moved", b.data);
	buf_free(&b);
	uint32_t *gone = xmalloc(c->res.n * sizeof(*gone));
	for (size_t i = 0; i < c->res.n; i++)
		gone[i] = c->res.map[i].src;
	if (r == 0)
		r = imap_view_report_expunged(s, gone, c->res.n);
	free(gone);
	return r < 0 ? r : imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
}

static int copy_proceed(struct copy_cmd *c)
{
	struct imap_session *s = c->s;
	const char *err = NULL;
	if (c->move && s->view->read_only)
		return imap_reply(s, c->tag, "NO", "[CANNOT] Mailbox is read-only");
	int r = store_mailbox_find(s->user, c->name, &c->dst, &err);
	if (r < 0)
		return imap_reply_store_error(s, c->tag, r, err, true);
	if (c->set.count == 0)
		return imap_reply(s, c->tag, "OK", "%s completed", s->cmd_name);
	int64_t src = s->view->mailbox_id;
	if (!c->move)
		r = store_copy(s->user, src, c->set.uids, c->set.n, c->dst, &c->res, &err);
	else if (c->dst == src)
		r = move_in_place(c, &err);
	else
		r = store_move(s->user, src, c->set.uids, c->set.n, c->dst, &c->res, &err);
	if (r < 0)
		return imap_reply_store_error(s, c->tag, r, err, true);
	return c->move ? move_reply(c) : copy_reply(c);
}

static int copy_command(struct imap_session *s, struct imap_command *cmd, bool move)
{
	struct copy_cmd c = { .s = s, .tag = cmd->tag, .move = move };
	const char *err = NULL;
	int r;
	if (cmd->nargs != 2)
		return imap_reply(s, cmd->tag, "BAD", "Usage: %s sequence-set mailbox",
				  move ? "MOVE" : "COPY");
	r = imap_view_msgset(s, &cmd->args[0], s->cmd_uid, &c.set, &err);
	if (r < 0)
		return imap_reply(s, cmd->tag, "BAD", "%s", err);
	r = imap_arg_mailbox(s, cmd->tag, &cmd->args[1], "CANNOT", &c.name);
	if (c.name)
		r = copy_proceed(&c);
	free(c.name);
	imap_msgset_free(&c.set);
	meta_copy_result_free(&c.res);
	return r;
}

int imap_cmd_copy(struct imap_session *s, struct imap_command *cmd)
{
	return copy_command(s, cmd, false);
}

int imap_cmd_move(struct imap_session *s, struct imap_command *cmd)
{
	return copy_command(s, cmd, true);
}
