/* The message commands of the selected state: FETCH, STORE, SEARCH, COPY
 * and MOVE, each also in its UID form (RFC 9051 6.4.4 to 6.4.9; RFC 4731
 * ESEARCH, RFC 5182 SEARCHRES, RFC 3516 BINARY, RFC 4315 UIDPLUS COPYUID,
 * RFC 6851 MOVE), and the helpers they share (cmd-message.c).
 *
 * The command table (commands.c) takes the entries below as they are:
 *
 *	static const struct imap_command_def imap_commands[] = {
 *		...
 *		IMAP_MESSAGE_COMMANDS
 *	};
 *
 * FETCH, STORE and SEARCH by sequence number must not see EXPUNGE
 * responses (RFC 9051 7.5.1), nor COPY (view.h); their UID forms and MOVE
 * may. Handlers read s->cmd_uid to know which form runs.
 */
#ifndef SEAL_IMAP_CMD_MESSAGE_H
#define SEAL_IMAP_CMD_MESSAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "protocols/imap/seqset.h"
#include "protocols/imap/session.h"
#include "storage/meta.h"

struct imap_msgset;

int imap_cmd_fetch(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_store(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_search(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_copy(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_move(struct imap_session *s, struct imap_command *cmd);

#define IMAP_MESSAGE_COMMANDS                                                          \
	{ "FETCH", imap_cmd_fetch, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE },          \
	{ "UID FETCH", imap_cmd_fetch, IMAP_CMD_SELECTED },                            \
	{ "STORE", imap_cmd_store, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE },          \
	{ "UID STORE", imap_cmd_store, IMAP_CMD_SELECTED },                            \
	{ "SEARCH", imap_cmd_search, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE },        \
	{ "UID SEARCH", imap_cmd_search, IMAP_CMD_SELECTED },                          \
	{ "COPY", imap_cmd_copy, IMAP_CMD_SELECTED | IMAP_CMD_NO_EXPUNGE },            \
	{ "UID COPY", imap_cmd_copy, IMAP_CMD_SELECTED },                              \
	{ "MOVE", imap_cmd_move, IMAP_CMD_SELECTED },                                  \
	{ "UID MOVE", imap_cmd_move, IMAP_CMD_SELECTED },

/* ---- Shared by the message commands (cmd-message.c) -------------------- */

/* Whether the session's capability list names cap (a whole word). */
bool imap_has_capability(const struct imap_session *s, const char *cap);

/* The flags of messages, found by UID. */
struct imap_flag_table {
	struct meta_msgs live;		/* from the store: UID order */
	struct meta_msgs extra;		/* e.g. STORE's "changed" list */
};

/* Coroutine. Loads the flags, keywords and MODSEQ of the live messages of
 * the selected mailbox in the UID set (n_set > 0). Returns 0 or a store
 * error with *error_r. */
int imap_flag_table_load(struct imap_session *s, struct imap_flag_table *t,
			 const struct meta_uid_range *set, size_t n_set, const char **error_r);
void imap_flag_table_free(struct imap_flag_table *t);

/* The entry for uid in l (UID order), or NULL. */
const struct meta_msg *imap_msgs_find(const struct meta_msgs *l, uint32_t uid);
/* In t->extra first, then t->live; *list_r is the list it was found in. */
const struct meta_msg *imap_flag_table_find(const struct imap_flag_table *t, uint32_t uid,
					    const struct meta_msgs **list_r);

/* Coroutine. Appends "(\Seen kw ...)" for m of list l (view.h rules). */
int imap_append_msg_flags(struct imap_session *s, struct buf *out, const struct meta_msgs *l,
			  const struct meta_msg *m);


#endif
