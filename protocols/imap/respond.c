/* Responses: tagged and untagged lines, store errors as RFC 5530 codes,
 * and the capability list (kept here, in one place). */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/stream.h"
#include "protocols/imap/mailbox-name.h"
#include "protocols/imap/session.h"
#include "protocols/imap/view.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

/* A response line is built whole before it is written; past this it is a
 * bug in the caller, not something a client can cause. */
#define IMAP_RESPONSE_MAX (1024 * 1024)

static int __attribute__((format(printf, 3, 0)))
imap_vsend(struct imap_session *s, const char *prefix, const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT(IMAP_RESPONSE_MAX);
	int r = buf_puts(&b, prefix);
	if (r == 0)
		r = buf_vprintf(&b, fmt, ap);
	if (r == 0)
		r = buf_append(&b, "\r\n", 2);
	if (r == 0)
		r = stream_write(s->stream, b.data, b.len);
	buf_free(&b);
	return r;
}

/* Whether a tagged reply ends a command that must first report changes
 * to the selected mailbox (session.h). */
static bool imap_reply_syncs(const struct imap_session *s, const char *status)
{
	return s->view && s->cmd_name && s->state == IMAP_STATE_SELECTED &&
	       (strcmp(status, "OK") == 0 || strcmp(status, "NO") == 0);
}

int imap_reply(struct imap_session *s, const char *tag, const char *status,
	       const char *fmt, ...)
{
	if (imap_reply_syncs(s, status)) {
		int r = imap_view_sync(s, s->cmd_allow_expunge);
		if (r < 0)
			return r;
	}
	char prefix[IMAP_PREFIX_MAX];
	snprintf(prefix, sizeof(prefix), "%s %s ", tag, status);
	va_list ap;
	va_start(ap, fmt);
	int r = imap_vsend(s, prefix, fmt, ap);
	va_end(ap);
	return r;
}

int imap_untagged(struct imap_session *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = imap_vsend(s, "* ", fmt, ap);
	va_end(ap);
	return r;
}

int imap_arg_mailbox(struct imap_session *s, const char *tag, const struct imap_arg *arg,
		     const char *code, char **name_r)
{
	*name_r = NULL;
	if (!imap_arg_is_astring(arg))
		return imap_reply(s, tag, "BAD", "Mailbox name expected");
	struct buf b = BUF_INIT(4 * META_NAME_MAX);
	const char *err = "Invalid mailbox name";
	int r = imap_mailbox_decode(arg->str, arg->len, s->utf8, &b, &err);
	if (r < 0) {
		buf_free(&b);
		return imap_reply(s, tag, "NO", "[%s] %s", code, err);
	}
	*name_r = b.data ? buf_steal(&b) : xstrdup("");
	return 0;
}

bool imap_login_allowed(const struct imap_session *s)
{
	return stream_is_tls(s->stream);
}

/* The capabilities (RFC 9051 7.2.2), in the order they are listed, with
 * when each is shown. Only what works is here: a capability joins this
 * table when its commands land. */
enum {
	CAP_PLAIN = 1 << 0,	/* cleartext, before STARTTLS */
	CAP_PREAUTH = 1 << 1,	/* over TLS, before login */
	CAP_AUTH = 1 << 2,	/* after login */
};

_Static_assert(SEAL_MAX_MESSAGE == 67108864, "APPENDLIMIT below says 64 MiB");

static const struct {
	const char *name;
	unsigned when;
} imap_caps[] = {
	{ "IMAP4rev2", CAP_PLAIN | CAP_PREAUTH | CAP_AUTH },
	{ "IMAP4rev1", CAP_PLAIN | CAP_PREAUTH | CAP_AUTH },
	{ "LITERAL+", CAP_PLAIN | CAP_PREAUTH | CAP_AUTH },
	{ "STARTTLS", CAP_PLAIN },
	{ "LOGINDISABLED", CAP_PLAIN },
	{ "SASL-IR", CAP_PREAUTH },
	{ "AUTH=PLAIN", CAP_PREAUTH },
	{ "ID", CAP_PLAIN | CAP_PREAUTH | CAP_AUTH },
	{ "ENABLE", CAP_PREAUTH | CAP_AUTH },
	{ "IDLE", CAP_PREAUTH | CAP_AUTH },
	{ "COMPRESS=DEFLATE", CAP_PREAUTH | CAP_AUTH },
	{ "NAMESPACE", CAP_AUTH },
	{ "UNSELECT", CAP_AUTH },
	{ "UIDPLUS", CAP_AUTH },
	{ "MULTIAPPEND", CAP_AUTH },
	{ "APPENDLIMIT=67108864", CAP_AUTH },
	{ "MOVE", CAP_AUTH },
	{ "CHILDREN", CAP_AUTH },
	{ "LIST-EXTENDED", CAP_AUTH },
	{ "LIST-STATUS", CAP_AUTH },
	{ "SPECIAL-USE", CAP_AUTH },
	{ "CREATE-SPECIAL-USE", CAP_AUTH },
	{ "UTF8=ACCEPT", CAP_AUTH },
	{ "STATUS=SIZE", CAP_AUTH },
	{ "ESEARCH", CAP_AUTH },
	{ "SEARCHRES", CAP_AUTH },
	{ "BINARY", CAP_AUTH },
	{ "CONDSTORE", CAP_AUTH },
	{ "QRESYNC", CAP_AUTH },
	{ "OBJECTID", CAP_AUTH },
	{ "SAVEDATE", CAP_AUTH },
	{ "XLIST", CAP_AUTH },
	{ "XVANQUISH", CAP_AUTH },
	{ "XYZZY", CAP_AUTH },
	{ "XCRY", CAP_AUTH },
};

const char *imap_capabilities(const struct imap_session *s)
{
	static char text[512];
	unsigned when = !stream_is_tls(s->stream) && s->state == IMAP_STATE_NOT_AUTHENTICATED
				? CAP_PLAIN
			: s->state == IMAP_STATE_NOT_AUTHENTICATED ? CAP_PREAUTH
								   : CAP_AUTH;
	size_t len = 0;
	text[0] = '\0';
	for (size_t i = 0; i < sizeof(imap_caps) / sizeof(imap_caps[0]); i++) {
		if (!(imap_caps[i].when & when))
			continue;
		int n = snprintf(text + len, sizeof(text) - len, "%s%s", len ? " " : "",
				 imap_caps[i].name);
		if (n < 0 || (size_t)n >= sizeof(text) - len)
			abort();	/* the table outgrew the buffer */
		len += (size_t)n;
	}
	return text;
}

bool imap_capability_offered(const struct imap_session *s, const char *name)
{
	for (size_t i = 0; i < sizeof(imap_caps) / sizeof(imap_caps[0]); i++)
		if ((imap_caps[i].when & CAP_AUTH) && strcasecmp(imap_caps[i].name, name) == 0)
			return true;
	return false;
}

int imap_enable_condstore(struct imap_session *s)
{
	if (s->condstore)
		return 0;
	s->condstore = true;
	/* RFC 7162 3.1: the first CONDSTORE-enabling command while a mailbox
	 * is selected tells the client its HIGHESTMODSEQ. */
	if (!s->view)
		return 0;
	return imap_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest", s->view->highest_modseq);
}

/* The RFC 5530 code and text for a permanent store error. */
static const char *store_error_code(int err, bool trycreate, const char **text_r)
{
	switch (err) {
	case -ENOENT:
		*text_r = "No such mailbox";
		return trycreate ? "TRYCREATE" : "NONEXISTENT";
	case -EEXIST:
		*text_r = "Mailbox already exists";
		return "ALREADYEXISTS";
	case -EINVAL:
	case -EPERM:
		*text_r = "Not allowed";
		return "CANNOT";
	case -ENOTEMPTY:
		*text_r = "Mailbox has children";
		return "HASCHILDREN";
	case -EOVERFLOW:
		*text_r = "Mailbox is full: no UIDs or MODSEQs left";
		return "LIMIT";
	case -EFBIG:
		*text_r = "Message too large";
		return "TOOBIG";
	case -EBADMSG:
		*text_r = "Damaged data";
		return "CORRUPTION";
	default:
		*text_r = "Internal error";
		return "SERVERBUG";
	}
}

int imap_reply_store_error(struct imap_session *s, const char *tag, int err,
			   const char *error, bool trycreate)
{
	if (store_error_is_temporary(err) || err == -ECANCELED) {
		conn_log(s->conn, LOG_WARNING, "%s: %s: %s", s->cmd_name ? s->cmd_name : "store",
			 error ? error : "store", strerror(-err));
		return imap_reply(s, tag, "NO", "[UNAVAILABLE] Temporary failure, try again later");
	}
	const char *text;
	const char *code = store_error_code(err, trycreate, &text);
	if (err == -EBADMSG || !strcmp(code, "SERVERBUG"))
		conn_log(s->conn, LOG_ERR, "%s: %s: %s", s->cmd_name ? s->cmd_name : "store",
			 error ? error : "store", strerror(-err));
	/* The store's text names no user data; it says what was wrong. */
	if (error && (err == -EINVAL || err == -EPERM))
		text = error;
	return imap_reply(s, tag, "NO", "[%s] %s", code, text);
}
