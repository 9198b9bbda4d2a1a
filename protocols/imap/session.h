/* State of one IMAP connection, shared by the command files. */
#ifndef SEAL_IMAP_SESSION_H
#define SEAL_IMAP_SESSION_H

#include <stdbool.h>

#include "protocols/imap/parser.h"
#include "src/util/limits.h"

#define IMAP_PREFIX_MAX (IMAP_MAX_TAG + 16)

struct conn;
struct stream;
struct store;
struct store_user;
struct imap_view;

enum imap_state {
	IMAP_STATE_NOT_AUTHENTICATED,
	IMAP_STATE_AUTHENTICATED,
	IMAP_STATE_SELECTED,
	IMAP_STATE_LOGOUT,
};

struct imap_session {
	struct conn *conn;
	struct stream *stream;
	enum imap_state state;
	struct store *store;		/* the daemon's (conn->server->store) */
	struct store_user *user;	/* set by LOGIN/AUTHENTICATE */
	char *user_name;		/* as the client logged in (heap) */
	struct imap_view *view;		/* the selected mailbox (view.h) */
	/* ENABLE (RFC 5161) and implicit enabling: what this client asked for. */
	bool imap4rev2;		/* IMAP4rev2: no \Recent, RECENT, LSUB ... */
	bool utf8;		/* UTF8=ACCEPT: mailbox names and strings in UTF-8 */
	bool condstore;		/* RFC 7162: MODSEQ in FETCH, HIGHESTMODSEQ */
	bool qresync;		/* RFC 7162 QRESYNC (implies condstore) */
	const char *cmd_name;	/* the running command ("UID FETCH"), for logs */
	bool cmd_uid;		/* it is a UID command (UID FETCH ...) */
	/* Whether the running command may be told of expunges (view.h): not
	 * FETCH, STORE, SEARCH by sequence number (IMAP_CMD_NO_EXPUNGE). */
	bool cmd_allow_expunge;
};

/* Handlers get the parsed command and answer it, tagged reply included.
 * A negative return means the connection is unusable (stream error), or
 * that the session must end (it said BYE).
 *
 * UID commands: "UID FETCH 1:* FLAGS" is looked up as "UID FETCH" and the
 * handler sees the arguments after FETCH ("1:*", FLAGS), with s->cmd_uid
 * set. One handler may serve both forms.
 *
 * Every tagged OK or NO sent with imap_reply() while a mailbox is selected
 * first runs imap_view_sync(s, s->cmd_allow_expunge), so each command ends
 * by telling the client what changed (RFC 9051 7: untagged updates before
 * the tagged reply). A command may call imap_view_sync() earlier itself;
 * the second call then costs nothing. */
typedef int imap_cmd_fn(struct imap_session *s, struct imap_command *cmd);

enum {
	IMAP_CMD_ANY_STATE = 1 << 0,	/* CAPABILITY, NOOP, LOGOUT */
	IMAP_CMD_NOT_AUTH = 1 << 1,	/* only before login */
	IMAP_CMD_AUTH = 1 << 2,		/* authenticated or selected */
	IMAP_CMD_SELECTED = 1 << 3,	/* a mailbox must be selected */
	IMAP_CMD_NO_EXPUNGE = 1 << 4,	/* no EXPUNGE responses (RFC 9051 7.5.1) */
	IMAP_CMD_AUTH_ONLY = 1 << 5,	/* authenticated, not selected (ENABLE) */
};

struct imap_command_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

const struct imap_command_def *imap_command_find(const char *name);

/* Responses (respond.c). Text is sent as given: callers pass no CR or LF.
 * imap_reply() with "OK" or "NO" syncs the selected mailbox first (above). */
int imap_reply(struct imap_session *s, const char *tag, const char *status,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The capability list for the session's state, space-separated. */
const char *imap_capabilities(const struct imap_session *s);
/* Whether LOGIN and AUTHENTICATE may be used now (only over TLS). */
bool imap_login_allowed(const struct imap_session *s);
/* Whether capability name is offered to an authenticated client. */
bool imap_capability_offered(const struct imap_session *s, const char *name);

/* Turns CONDSTORE on for the session (ENABLE CONDSTORE, or a
 * CONDSTORE-enabling command: FETCH or SEARCH with MODSEQ, STORE with
 * UNCHANGEDSINCE; RFC 7162 3.1). When a mailbox is selected and it was
 * off, sends "* OK [HIGHESTMODSEQ n]" first (RFC 7162 3.1.2). Returns 0 or
 * a stream error. */
int imap_enable_condstore(struct imap_session *s);

/* Answers "tag NO [code] text" for a store error (store.h codes) with its
 * RFC 5530 response code: [UNAVAILABLE] for temporary errors,
 * [NONEXISTENT] (or [TRYCREATE] when trycreate: APPEND, COPY and MOVE
 * targets), [ALREADYEXISTS], [LIMIT], [CANNOT], [HASCHILDREN], [CORRUPTION]
 * ... error is the store's static text (may be NULL); unexpected errors
 * are logged. */
int imap_reply_store_error(struct imap_session *s, const char *tag, int err,
			   const char *error, bool trycreate);

/* Command handlers. */
int imap_cmd_capability(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_noop(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_logout(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_starttls(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_login(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_authenticate(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_enable(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_id(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_namespace(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_list(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_lsub(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_xlist(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_create(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_delete(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_rename(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_subscribe(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_unsubscribe(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_status(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_select(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_examine(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_close(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_unselect(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_expunge(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_idle(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_append(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_compress(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_xvanquish(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_xyzzy(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_check(struct imap_session *s, struct imap_command *cmd);
int imap_cmd_xcry(struct imap_session *s, struct imap_command *cmd);	/* cmd-xcry.c */

/* STATUS items (cmd-status.c), shared with LIST-STATUS. */
enum {
	IMAP_STATUS_MESSAGES = 1 << 0,
	IMAP_STATUS_UIDNEXT = 1 << 1,
	IMAP_STATUS_UIDVALIDITY = 1 << 2,
	IMAP_STATUS_UNSEEN = 1 << 3,
	IMAP_STATUS_DELETED = 1 << 4,
	IMAP_STATUS_SIZE = 1 << 5,
	IMAP_STATUS_RECENT = 1 << 6,
	IMAP_STATUS_HIGHESTMODSEQ = 1 << 7,
	IMAP_STATUS_APPENDLIMIT = 1 << 8,
	IMAP_STATUS_MAILBOXID = 1 << 9,		/* RFC 8474 OBJECTID */
};
struct meta_status;
/* Parses "(MESSAGES UNSEEN ...)" into IMAP_STATUS_ bits: 0, or -EINVAL
 * for an empty list or an item unknown or not allowed to this client. */
int imap_status_parse(struct imap_session *s, const struct imap_arg *list, unsigned *items_r);
/* Sends "* STATUS name (item value ...)". 0 or a stream error. */
int imap_status_send(struct imap_session *s, const char *name, unsigned items,
		     const struct meta_status *st);

/* Mailbox name arguments (mailbox-name.h) for commands: decodes arg (an
 * astring) for the store into *name_r (heap; caller frees). On failure
 * answers "tag NO [code] ..." itself (code: CANNOT for names the client
 * makes, NONEXISTENT for names it looks up) and returns the reply's result
 * with *name_r NULL; a caller then returns that value. */
int imap_arg_mailbox(struct imap_session *s, const char *tag, const struct imap_arg *arg,
		     const char *code, char **name_r);

#endif
