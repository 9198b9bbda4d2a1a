/* One SMTP or LMTP connection: the engine the personalities share
 * (smtpin.c for inbound MX, lmtp.c; submission later), and what the
 * command files (cmd-*.c) see of it.
 *
 * The session is straight-line: read a command, dispatch, reply, repeat.
 * Its only state is what the protocol means: whether the client greeted
 * us, and the mail transaction (struct smtp_txn) from MAIL to the end of
 * the data or RSET.
 */
#ifndef SEAL_SMTP_SESSION_H
#define SEAL_SMTP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/smtp/parser.h"
#include "src/util/limits.h"

struct conn;
struct stream;
struct store;
struct smtp_session;
struct smtp_body;

#define SMTP_MAX_RCPTS 100	/* RFC 5321 4.5.3.1.8: at least 100 */
#define SMTP_MAX_ERRORS 20	/* bad commands before we hang up */
#define SMTP_MAX_IDLE_CMDS 100	/* commands in a row that move no mail */
#define SMTP_DATA_DEADLINE_MS (30 * 60 * 1000)	/* one message's whole transfer */
#define SMTP_ID_LEN 16		/* transaction id: hex digits */
/* Room for the headers we prepend (Received, authentication results):
 * the body may take what is left of SEAL_MAX_MESSAGE, the size the store
 * accepts, and that is what SIZE announces. */
#define SMTP_PREPEND_MAX (32 * 1024)
#define SMTP_MAX_BODY ((uint64_t)SEAL_MAX_MESSAGE - SMTP_PREPEND_MAX)
/* A command line: SEAL_SMTP_MAX_LINE bytes of text plus CRLF. */
#define SMTP_LINE_BUF (SEAL_SMTP_MAX_LINE + 2)

/* What differs between the services that share the engine. */
struct smtp_personality {
	const char *name;	/* in logs: "smtp", "lmtp" */
	const char *proto;	/* greeting and Received "with": "ESMTP", "LMTP" */
	bool lmtp;		/* LHLO; a reply per recipient after the data */
	bool check_domains;	/* recipients only in [smtp.domains] */
	bool allow_bare;	/* recipients without a domain (LMTP) */
	bool header_limit;	/* header block at most SEAL_MAX_HEADER_BLOCK */
	bool binarymime;	/* offer BINARYMIME */
	bool starttls;		/* offer STARTTLS when [tls] is configured */
	bool tarpit;		/* slow down an IP after unknown recipients */
	bool message_rate;	/* [smtp] max_messages_per_ip_per_hour applies */
	/* The message hooks, all optional. begin runs before the first byte
	 * of the body (0 or a negative code: 4xx); feed sees every byte as
	 * stored; end runs after the last byte and before delivery, and may
	 * set txn.prefix (headers to prepend above Received), txn.auth_log,
	 * or refuse the message: then it fills txn.refusal and returns 1.
	 * reset frees what begin made; it runs at the end of every
	 * transaction. */
	int (*data_begin)(struct smtp_session *s);
	void (*data_feed)(struct smtp_session *s, const void *data, size_t len);
	int (*data_end)(struct smtp_session *s);
	void (*data_reset)(struct smtp_session *s);
};

struct smtp_rcpt {
	char *address;		/* the mailbox as given (logs, Received "for") */
	char *user;		/* the user name in users/ */
	char *user_dir;		/* canonical: aliases of one user share it */
	int dup_of;		/* -1, or an earlier recipient with the same user_dir */
	int result;		/* after delivery: 0 or a negative code */
};

struct smtp_reply_text {
	int code;		/* 0: none */
	char enh[8];
	char text[160];
};

struct smtp_txn {
	bool mail;		/* MAIL accepted: the transaction is open */
	char *from;		/* reverse path as given; "" for <> */
	bool smtputf8;
	struct smtp_rcpt *rcpts;	/* accepted recipients, in order */
	size_t n_rcpts;
	bool bdat;		/* a BDAT chain has begun */
	bool data_failed;	/* the rest of the chain answers `failed` */
	struct smtp_reply_text failed;
	struct smtp_body *body;
	uint8_t *chunk;		/* BDAT read buffer */
	char id[SMTP_ID_LEN + 1];
	int64_t deadline;	/* of the whole data transfer */
	/* Set by the personality's data_end. */
	char *prefix;		/* heap, CRLF-terminated header lines */
	char *auth_log;		/* heap, one line of results for the log */
	struct smtp_reply_text refusal;
	void *pers_state;	/* the personality's per-message state */
};

struct smtp_session {
	struct conn *conn;
	struct stream *stream;
	struct store *store;
	const struct smtp_personality *pers;
	char host_name[SMTP_DOMAIN_MAX + 1];	/* ours */
	char helo[SMTP_DOMAIN_MAX + 1];		/* theirs; "" before HELO */
	bool esmtp;		/* EHLO or LHLO */
	bool unix_newlines;	/* a command came with a bare LF */
	bool quit;
	bool stop_after;	/* the server is stopping: 421 after this reply */
	unsigned errors;
	unsigned idle_cmds;
	uint64_t idle_timeout_ms;
	struct smtp_txn txn;
};

/* Runs a connection with the given personality (conn_handler_fn). */
void smtp_session_run(struct conn *c, const struct smtp_personality *pers);

/* --- Replies (reply.c) --------------------------------------------------- */

/* "CODE ENH text" (RFC 2034: the enhanced code on every 2xx, 4xx and 5xx
 * reply but the greeting and the EHLO lines; enh NULL leaves it out).
 * Control characters in the text (from client input) become '?'. Buffered:
 * the engine flushes before it waits for input. Returns 0 or a stream
 * error. Replies 500 to 504 count as the client's errors (the session
 * ends after SMTP_MAX_ERRORS of them), except through smtp_reply_saved()
 * and smtp_reply_error(): refusals of a message. smtp_reply_more() is the
 * same as a continuation line "CODE-". */
int smtp_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int smtp_reply_more(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
int smtp_reply_saved(struct smtp_session *s, const struct smtp_reply_text *t);
void smtp_reply_save(struct smtp_reply_text *t, int code, const char *enh, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The reply for a negative code from the store or the spool: 5xx for what
 * will never work (too big, no such user), 4xx for anything else, even
 * what looks like our bug: a bounce for our fault would lose the mail. */
int smtp_reply_error(struct smtp_session *s, int err, const char *what);
void smtp_reply_save_error(struct smtp_reply_text *t, int err, const char *what);

/* --- Commands (cmd-*.c) ---------------------------------------------------- */

/* A handler answers its command. A negative return ends the session (the
 * stream failed, or the session must close after what it said). */
typedef int smtp_cmd_fn(struct smtp_session *s, const char *args, size_t len);

smtp_cmd_fn smtp_cmd_ehlo, smtp_cmd_helo, smtp_cmd_lhlo, smtp_cmd_mail, smtp_cmd_rcpt,
	smtp_cmd_data, smtp_cmd_bdat, smtp_cmd_rset, smtp_cmd_noop, smtp_cmd_quit,
	smtp_cmd_vrfy, smtp_cmd_expn, smtp_cmd_help, smtp_cmd_starttls, smtp_cmd_auth;

/* Sequence checks shared by commands: each sends 503 5.5.1 (or 554 for
 * a transaction without recipients) and returns false when the state is
 * wrong. */
bool smtp_need_helo(struct smtp_session *s);
bool smtp_need_rcpts(struct smtp_session *s);

/* Ends the transaction: frees recipients, body, personality state. */
void smtp_txn_reset(struct smtp_session *s);

/* Reads the rest of a stream operation's deadline into the stream's
 * timeout (the smaller of the idle timeout and what is left of the data
 * deadline): -ETIMEDOUT when nothing is left. */
int smtp_data_timeout(struct smtp_session *s);

/* --- The message (body.c, deliver.c) -------------------------------------- */

/* Starts the body of the transaction: spool, limits, personality hook.
 * Replies nothing; 0 or a negative code (temporary). */
int smtp_body_begin(struct smtp_session *s);
/* Adds bytes as they will be stored. Failures (size, header block, spool)
 * are remembered, not returned: the transfer must be read to its end
 * whatever happens, and the failure is the reply at the end. */
void smtp_body_write(struct smtp_session *s, const void *data, size_t len);
/* A line over SEAL_SMTP_MAX_LINE was dropped: the message fails. */
void smtp_body_line_too_long(struct smtp_session *s);
/* Fills *t with the body's first failure, if any; returns whether any. */
bool smtp_body_failed(struct smtp_session *s, struct smtp_reply_text *t);
uint64_t smtp_body_size(const struct smtp_session *s);
/* Frees the body and its spool (the transaction's reset does). */
void smtp_body_free(struct smtp_session *s);
struct smtp_spool;
struct smtp_spool *smtp_body_spool(struct smtp_session *s);

/* The end of the data: finishes the body, runs the personality's check,
 * delivers to every recipient, replies (one reply, or one per recipient
 * for LMTP), logs the transaction on one line and resets it. Returns 0
 * or a stream error. */
int smtp_message_end(struct smtp_session *s);

#endif
