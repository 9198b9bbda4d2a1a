#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "protocols/smtp/session.h"
#include "src/iplimit.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"

static void new_txn_id(char id[SMTP_ID_LEN + 1])
{
	uint8_t raw[SMTP_ID_LEN / 2];
	crypto_random(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
}

/* [smtp] max_messages_per_ip_per_hour: each MAIL takes one, accepted or
 * not later, since a sender that fails every RCPT still costs us. Loopback
 * and unix sockets (an MTA in front, webmail) are not limited. */
static bool message_rate_ok(struct smtp_session *s)
{
	struct conn *c = s->conn;
	if (!s->pers->message_rate || !c->peer_ip[0] || iplimit_is_loopback(c->peer_ip))
		return true;
	return iplimit_rate_take(c->server->per_ip, c->peer_ip, IPLIMIT_RATE_MESSAGE,
				 c->server->cfg->max_messages_per_ip_per_hour, 3600 * 1000,
				 coro_now_ms());
}

/* MAIL FROM (RFC 5321 4.1.1.2) with SIZE (RFC 1870), BODY (RFC 6152,
 * 3030: ignored, manual) and SMTPUTF8 (RFC 6531). The reverse path is
 * only recorded: it is the mail authentication's to judge (SMTP-in). */
int smtp_cmd_mail(struct smtp_session *s, const char *args, size_t len)
{
	struct smtp_path path;
	struct smtp_params params;
	const char *why;

	if (!smtp_need_helo(s))
		return 0;
	if (s->txn.mail)
		return smtp_reply(s, 503, "5.5.1", "Nested MAIL command");
	int r = smtp_parse_mail_rcpt(args, len, "FROM", &path, &params, &why);
	if (r == -ENAMETOOLONG)
		return smtp_reply(s, 501, "5.1.7", "Sender address too long");
	if (r < 0)
		return smtp_reply(s, 501, "5.1.7", "%s", why);
	if (params.has_size && params.size > SMTP_MAX_BODY)
		return smtp_reply(s, 552, "5.3.4", "Message too big: at most %llu bytes",
				  (unsigned long long)SMTP_MAX_BODY);
	if (!message_rate_ok(s)) {
		conn_log(s->conn, LOG_NOTICE, "%s: from=<%s> refused: 450 4.7.1 too many "
			 "messages from %s (max_messages_per_ip_per_hour)", s->pers->name,
			 path.null ? "" : path.text, s->conn->peer_ip);
		return smtp_reply(s, 450, "4.7.1",
				  "Too many messages from your address, try again later");
	}
	s->txn.mail = true;
	s->txn.from = xstrdup(path.null ? "" : path.text);
	s->txn.smtputf8 = params.smtputf8;
	new_txn_id(s->txn.id);
	return smtp_reply(s, 250, "2.1.0", "Sender <%s> OK", s->txn.from);
}
