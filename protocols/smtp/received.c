#include "protocols/smtp/received.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "src/util/buf.h"

/* Written out rather than strftime: the names must be English whatever
 * the locale, and a chroot may have no time zone data. */
void smtp_rfc5322_date(int64_t t, char out[64])
{
	static const char *const days[7] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t tt = (time_t)t;
	struct tm tm;
	if (!gmtime_r(&tt, &tm))
		memset(&tm, 0, sizeof(tm));
	snprintf(out, 64, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
		 tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
		 tm.tm_sec);
}

void smtp_received_format(struct buf *out, const struct smtp_received *r)
{
	char date[64], with[24];
	smtp_rfc5322_date(r->now, date);
	/* RFC 3848: SMTP, ESMTP, ESMTPS, LMTP, LMTPS; RFC 6531: UTF8SMTP,
	 * UTF8SMTPS, UTF8LMTP, UTF8LMTPS. */
	const char *base = r->esmtp ? r->proto : "SMTP";
	if (r->utf8)
		base = strcmp(r->proto, "LMTP") == 0 ? "UTF8LMTP" : "UTF8SMTP";
	snprintf(with, sizeof(with), "%s%s", base, r->tls ? "S" : "");
	buf_printf(out, "Received: from %s", r->helo[0] ? r->helo : "unknown");
	if (r->peer_ip[0])
		buf_printf(out, " ([%s%s])", strchr(r->peer_ip, ':') ? "IPv6:" : "", r->peer_ip);
	buf_printf(out, "\r\n\tby %s (sealmail) with %s", r->host_name, with);
	if (r->tls && r->tls_desc && r->tls_desc[0])
		buf_printf(out, " (%s)", r->tls_desc);
	buf_printf(out, " id %s", r->id);
	if (r->rcpt)
		buf_printf(out, "\r\n\tfor <%s>", r->rcpt);
	buf_printf(out, ";\r\n\t%s\r\n", date);
}
