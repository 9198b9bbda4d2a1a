/* The selected mailbox of an IMAP session, as that session's client knows
 * it (RFC 9051 sections 2.3.1, 5.2, 7.5.1; RFC 7162 for MODSEQ).
 *
 * SELECT and EXAMINE (cmd-select.c) open a view from one store snapshot;
 * CLOSE, UNSELECT, a failed SELECT and logout free it. While a mailbox is
 * selected, s->view is not NULL and s->state is IMAP_STATE_SELECTED.
 *
 * Sequence numbers. The view holds the UIDs the client has been told of,
 * ascending: message sequence number n is uids[n - 1]. The list changes
 * only when the client is told: new mail is appended when EXISTS is sent,
 * an expunged message is removed when its EXPUNGE is sent. So a sequence
 * number means the same message from one command to the next, even while
 * other sessions expunge, until this session reports the expunge.
 *
 * Synchronisation. Other sessions of the user, deliveries, and this
 * session's own commands change the mailbox in the store. imap_view_sync()
 * asks the store what changed since the view last looked (the MODSEQ in
 * view->synced_modseq) and tells the client:
 *   - new messages: "* n EXISTS" (and "* n RECENT" for IMAP4rev1 clients,
 *     after claiming \Recent for them when the view is read-write);
 *   - flag changes: "* n FETCH (UID u FLAGS (...) [MODSEQ (m)])", with
 *     MODSEQ when CONDSTORE is enabled; a new keyword first makes it send
 *     FLAGS and PERMANENTFLAGS again;
 *   - expunges: "* n EXPUNGE", only when allow_expunge is true. Otherwise
 *     they are kept pending in the view (the messages keep their sequence
 *     numbers, and FETCH may still read them through the store's 24-hour
 *     expunge log) and reported by the next sync that allows them.
 * RFC 9051 7.5.1: EXPUNGE must not be sent while answering FETCH, STORE or
 * SEARCH (the sequence-number forms), nor when no command is in progress.
 * So every command valid in the selected state syncs just before its
 * tagged OK/NO: imap_reply() does it (session.h), with allow_expunge false
 * for the commands flagged IMAP_CMD_NO_EXPUNGE in the table (FETCH, STORE,
 * SEARCH, and COPY, whose NO must not follow expunges it caused), true for
 * the UID forms and the others. NOOP, CHECK and IDLE rely on it entirely.
 * A command may call imap_view_sync() earlier itself (IDLE, EXPUNGE).
 *
 * A command that reported a message's new flags itself (STORE without
 * .SILENT, FETCH that set \Seen) calls imap_view_note_reported() with the
 * UID and the MODSEQ the store gave, so the next sync does not repeat that
 * FETCH response. (.SILENT also notes it: the client asked not to hear.)
 *
 * If the selected mailbox was deleted, or renamed (another mailbox now has
 * its name, or none has), the session cannot go on (manual, "IMAP
 * Characteristics"): imap_view_sync() sends "* BYE" and returns -ENOENT,
 * which the command returns to end the session.
 *
 * All functions here that talk to the store are coroutine calls (they may
 * yield); the rest are plain. Memory of the view belongs to the view.
 */
#ifndef SEAL_IMAP_VIEW_H
#define SEAL_IMAP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap/seqset.h"
#include "src/util/buf.h"
#include "storage/meta.h"

struct imap_session;
struct imap_arg;

/* A (uid, modseq) a command already reported itself. */
struct imap_view_noted {
	uint32_t uid;
	uint64_t modseq;
};

struct imap_view {
	int64_t mailbox_id;	/* store id (stable across renames) */
	char *name;		/* UTF-8 storage name ("INBOX", "a/b") */
	bool read_only;		/* EXAMINE, or SELECT of a read-only mailbox */
	uint32_t uidvalidity;
	uint32_t uidnext;	/* the UIDNEXT the client was last told */
	uint64_t highest_modseq;	/* the HIGHESTMODSEQ the client may be told:
					 * what it knows all changes up to */
	uint64_t synced_modseq;	/* changes up to here are known to the view */
	uint64_t change_seq;	/* store_change_seq() at the last sync */
	char object_id[META_OID_MAX + 1];	/* MAILBOXID (RFC 8474) */

	/* Sequence number n <-> uids[n - 1]; ascending. count is what the
	 * client knows as EXISTS (pending expunges included). */
	uint32_t *uids;
	uint32_t count, cap;
	uint32_t first_unseen;	/* at open: sequence number, 0 if none */

	/* \Recent (IMAP4rev1): the UIDs this session claimed. */
	struct seqset recent;
	/* Expunged in the store, not yet reported (UIDs still in uids). */
	uint32_t *pending;
	size_t n_pending, cap_pending;
	/* SEARCHRES (RFC 5182): the saved result as UIDs; "$" when the
	 * client never saved one is the empty set. */
	struct seqset saved;

	/* Keyword names by store id (index = id), as the client was told in
	 * the last FLAGS response; new ids are looked up on demand. */
	char **keywords;
	size_t n_keywords;
	bool flags_dirty;	/* a keyword was learnt since the last FLAGS */

	/* Flag changes already reported by the running command. */
	struct imap_view_noted *noted;
	size_t n_noted, cap_noted;
};

/* A set of the view's messages named by a command: n runs of consecutive
 * sequence numbers seqs[i], and for each the UID range uids[i] spanning
 * exactly those messages (so uids can go straight to store_fetch,
 * store_store, store_copy, ...). Ascending, disjoint. count is the number
 * of messages. UIDs a client names that the view does not hold (expunged
 * and reported, or never told) are left out. */
struct imap_msgset {
	struct seq_range *seqs;
	struct meta_uid_range *uids;
	size_t n;
	uint32_t count;
};
void imap_msgset_free(struct imap_msgset *set);

/* Coroutine. SELECT/EXAMINE: snapshot of the mailbox called name (UTF-8
 * storage name) from the store, into a new view (*view_r). Claims \Recent
 * when !read_only and the client is not IMAP4rev2 (s->imap4rev2). Sends
 * nothing. Returns 0, or a store error (-ENOENT: no such selectable
 * mailbox) with *error_r. */
int imap_view_open(struct imap_session *s, const char *name, bool read_only,
		   struct imap_view **view_r, const char **error_r);

/* Frees the view and sets *view to NULL. NULL is fine. */
void imap_view_free(struct imap_view **view);

/* Coroutine. Tells the client what changed (see above). Returns 0, -ENOENT
 * after "* BYE" when the mailbox is gone, or another negative code (stream
 * error; a temporary store failure is logged and retried at the next sync,
 * returning 0). Does nothing when no mailbox is selected. */
int imap_view_sync(struct imap_session *s, bool allow_expunge);

/* A command reported (uid, modseq)'s flags itself (see above). */
void imap_view_note_reported(struct imap_session *s, uint32_t uid, uint64_t modseq);

/* Sends "* n EXPUNGE" (highest first) for those of uids[0..n) the view
 * holds and removes them: EXPUNGE, UID EXPUNGE and MOVE after the store
 * removed them. Returns 0 or a stream error. */
int imap_view_report_expunged(struct imap_session *s, const uint32_t *uids, size_t n);

/* Sequence number of uid in the view, 0 if it holds none. */
uint32_t imap_view_seq(const struct imap_view *v, uint32_t uid);

/* Whether uid is \Recent for this session (always false for IMAP4rev2). */
bool imap_view_is_recent(const struct imap_session *s, uint32_t uid);
/* How many of the view's messages are \Recent for this session. */
uint32_t imap_view_recent_count(const struct imap_session *s);

/* Converts a sequence-set argument (an atom: "1:3,5,7:*", or "$" for the
 * SEARCHRES result) into messages of the view. uid_mode: the numbers are
 * UIDs ("*" is the highest UID in the view; a range reaching past it
 * includes the last message, RFC 9051 6.4.9), else sequence numbers ("*"
 * is the message count). Returns 0 (the set may be empty), -EINVAL for
 * bad syntax, or -ERANGE for a sequence number above the message count
 * (both BAD). *error_r says which. */
int imap_view_msgset(struct imap_session *s, const struct imap_arg *arg, bool uid_mode,
		     struct imap_msgset *out, const char **error_r);

/* Coroutine (keyword names may come from the store). Appends
 * "(\Flag ... keyword ...)" for a message: system flags, \Recent when
 * imap_view_is_recent(uid), keyword names by id (kw[0..n_kw), store ids).
 * Call imap_view_announce_keywords() before the first response that may
 * use a keyword new to the client. Returns 0 or -EMSGSIZE from the
 * buffer. */
int imap_view_append_flags(struct imap_session *s, struct buf *out, uint32_t uid,
			   uint32_t flags, const uint32_t *kw, size_t n_kw);

/* Coroutine. The name of keyword id, looked up in the store when the view
 * does not know it yet; NULL if there is no such keyword (or the store
 * cannot say now). Valid while the view is. */
const char *imap_view_keyword(struct imap_session *s, uint32_t id);

/* Sends "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" with every
 * keyword the view knows (SELECT; sync when a keyword is new). */
int imap_view_send_flags(struct imap_session *s);

/* Coroutine. Learns the names of every keyword l uses (STORE's result,
 * before its FETCH responses) and, if any is new to the client, sends
 * FLAGS and PERMANENTFLAGS again (RFC 9051 7.3.5). Returns 0 or a stream
 * error. */
int imap_view_announce_keywords(struct imap_session *s, const struct meta_msgs *l);

/* Coroutine. SELECT or EXAMINE with (QRESYNC (uidvalidity modseq ...))
 * whose UIDVALIDITY matched (RFC 7162 3.2.5): "* VANISHED (EARLIER) set"
 * for the messages expunged since modseq, then "* n FETCH (UID u FLAGS
 * (...) MODSEQ (m))" for those of the view changed since, both limited to
 * known (a UID sequence-set argument) unless it is NULL. Returns 0 or a
 * stream error; a store failure sets *store_err_r and *error_r and sends
 * nothing (the caller fails the SELECT). */
int imap_qresync_report(struct imap_session *s, uint64_t modseq, const struct imap_arg *known,
			int *store_err_r, const char **error_r);

/* Internal to view*.c: claims \Recent for the selected view. */
int imap_view__claim_recent(struct imap_session *s);

#endif
