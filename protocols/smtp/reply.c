#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/smtp/session.h"

static void sanitize(char *text)
{
	for (unsigned char *p = (unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int __attribute__((format(printf, 5, 0)))
send_line(struct smtp_session *s, int code, char sep, const char *enh, const char *fmt, va_list ap)
{
	char text[512];
	vsnprintf(text, sizeof(text), fmt, ap);
	sanitize(text);
	if (enh)
		return stream_printf(s->stream, "%03d%c%s %s\r\n", code, sep, enh, text);
	return stream_printf(s->stream, "%03d%c%s\r\n", code, sep, text);
}

int smtp_reply(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	if (code >= 500 && code <= 504)
		s->errors++;
	va_start(ap, fmt);
	int r = send_line(s, code, ' ', enh, fmt, ap);
	va_end(ap);
	return r;
}

int smtp_reply_more(struct smtp_session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = send_line(s, code, '-', enh, fmt, ap);
	va_end(ap);
	return r;
}

void smtp_reply_save(struct smtp_reply_text *t, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;
	t->code = code;
	snprintf(t->enh, sizeof(t->enh), "%s", enh);
	va_start(ap, fmt);
	vsnprintf(t->text, sizeof(t->text), fmt, ap);
	va_end(ap);
}

/* Not counted as the client's error: a refused message (an LMTP refusal
 * says it once per recipient) is not a bad command. */
static int reply_uncounted(struct smtp_session *s, int code, const char *enh, const char *fmt,
			   ...) __attribute__((format(printf, 4, 5)));
static int reply_uncounted(struct smtp_session *s, int code, const char *enh, const char *fmt,
			   ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = send_line(s, code, ' ', enh, fmt, ap);
	va_end(ap);
	return r;
}

int smtp_reply_saved(struct smtp_session *s, const struct smtp_reply_text *t)
{
	return reply_uncounted(s, t->code, t->enh, "%s", t->text);
}

/* RFC 3463 codes for what the store and spool say. */
void smtp_reply_save_error(struct smtp_reply_text *t, int err, const char *what)
{
	switch (err) {
	case -EFBIG:
		smtp_reply_save(t, 552, "5.3.4", "%s: message too big (at most %llu bytes)", what,
				(unsigned long long)SMTP_MAX_BODY);
		return;
	case -ENOENT:
		smtp_reply_save(t, 550, "5.1.1", "%s: no such user here", what);
		return;
	case -ENOSPC:
	case -EDQUOT:
		smtp_reply_save(t, 452, "4.3.1", "%s: insufficient system storage, try again later",
				what);
		return;
	case -ECANCELED:
		smtp_reply_save(t, 451, "4.3.2", "%s: server shutting down, try again later", what);
		return;
	default:
		/* Anything else, even what looks like a bug, is retried:
		 * a bounce for our fault would lose the message for good. */
		smtp_reply_save(t, 451, "4.3.0", "%s: local error, try again later", what);
		return;
	}
}

int smtp_reply_error(struct smtp_session *s, int err, const char *what)
{
	struct smtp_reply_text t;
	smtp_reply_save_error(&t, err, what);
	return smtp_reply_saved(s, &t);
}
