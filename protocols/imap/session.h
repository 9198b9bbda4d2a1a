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
	const char *cmd_name;	/* the running command, for logs */
};

/* Handlers get the parsed command and answer it, tagged reply included.
 * A negative return means the connection is unusable (stream error). */
typedef int imap_cmd_fn(struct imap_session *s, struct imap_command *cmd);

enum {
	IMAP_CMD_ANY_STATE = 1 << 0,	/* CAPABILITY, NOOP, LOGOUT */
	IMAP_CMD_NOT_AUTH = 1 << 1,	/* only before login */
	IMAP_CMD_AUTH = 1 << 2,		/* authenticated or selected */
	IMAP_CMD_SELECTED = 1 << 3,	/* a mailbox must be selected */
};

struct imap_command_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

const struct imap_command_def *imap_command_find(const char *name);

/* Responses (respond.c). Text is sent as given: callers pass no CR or LF. */
int imap_reply(struct imap_session *s, const char *tag, const char *status,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int imap_untagged(struct imap_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The capability list for the session's state, space-separated. */
const char *imap_capabilities(const struct imap_session *s);
/* Whether LOGIN and AUTHENTICATE may be used now (only over TLS). */
bool imap_login_allowed(const struct imap_session *s);

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

#endif
