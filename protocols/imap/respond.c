#include <stdarg.h>
#include <stdio.h>

#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/server.h"

static int imap_vsend(struct imap_session *s, const char *prefix, const char *fmt,
		      va_list ap)
{
	char text[2048];
	int n = vsnprintf(text, sizeof(text), fmt, ap);
	if (n < 0)
		return n;
	return stream_printf(s->stream, "%s%s\r\n", prefix, text);
}

int imap_reply(struct imap_session *s, const char *tag, const char *status,
	       const char *fmt, ...)
{
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

bool imap_login_allowed(const struct imap_session *s)
{
	return stream_is_tls(s->stream);
}

const char *imap_capabilities(const struct imap_session *s)
{
	if (!stream_is_tls(s->stream))
		return "IMAP4rev2 IMAP4rev1 LITERAL+ STARTTLS LOGINDISABLED";
	return "IMAP4rev2 IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN";
}
