/* The inbound MX personality (manual, "SMTP/LMTP Characteristics",
 * SMTP delivery): only the domains of [smtp.domains], never a relay; the
 * header block at most 256 KiB; STARTTLS offered, not required; AUTH
 * refused; an IP that guesses recipients is slowed down, one that sends
 * too many messages is told to come back later; SPF, DKIM and
 * DMARC evaluated on every message (protocols/mailauth), the results
 * prepended, and a DMARC failure under p=reject refused in the
 * transaction only when [smtp] reject_dmarc_failures says so. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mailauth/mailauth.h"
#include "protocols/smtp/session.h"
#include "protocols/smtp/smtp.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"

/* A connection over a unix socket has no client address to judge. */
static int smtpin_data_begin(struct smtp_session *s)
{
	if (!s->conn->peer_ip[0])
		return 0;
	const struct mailauth_input in = {
		.client_ip = s->conn->peer_ip,
		.helo = s->helo,
		.mail_from = s->txn.from,
		.receiver = s->host_name,
	};
	struct mailauth *ma = NULL;
	int r = mailauth_begin(&in, &ma);
	s->txn.pers_state = ma;
	return r;
}

static void smtpin_data_feed(struct smtp_session *s, const void *data, size_t len)
{
	if (s->txn.pers_state)
		mailauth_feed(s->txn.pers_state, data, len);
}

static int smtpin_data_end(struct smtp_session *s)
{
	struct mailauth_result res;
	struct mailauth *ma = s->txn.pers_state;
	if (!ma || mailauth_finish(ma, &res) < 0)
		return 0;
	s->txn.auth_log = xasprintf("spf=%s,dkim=%s,dmarc=%s", mailauth_spf_name(res.spf),
				    mailauth_dkim_name(res.dkim), mailauth_dmarc_name(res.dmarc));
	int refused = 0;
	if (res.dmarc_reject && s->conn->server->cfg->reject_dmarc_failures) {
		smtp_reply_save(&s->txn.refusal, 550, "5.7.1",
				"Rejected by the DMARC policy of %.100s",
				res.from_domain ? res.from_domain : "the sender's domain");
		refused = 1;
	} else if (res.header_block && strlen(res.header_block) <= SMTP_PREPEND_MAX / 2) {
		s->txn.prefix = res.header_block;
		res.header_block = NULL;
	} else if (res.header_block) {
		conn_log(s->conn, LOG_WARNING, "smtp: id=%s authentication results too long; "
			 "not added", s->txn.id);
	}
	mailauth_result_free(&res);
	return refused;
}

static void smtpin_data_reset(struct smtp_session *s)
{
	struct mailauth *ma = s->txn.pers_state;
	mailauth_free(&ma);
	s->txn.pers_state = NULL;
}

static const struct smtp_personality smtpin = {
	.name = "smtp",
	.proto = "ESMTP",
	.check_domains = true,
	.header_limit = true,
	.binarymime = true,
	.starttls = true,
	.tarpit = true,
	.message_rate = true,
	.data_begin = smtpin_data_begin,
	.data_feed = smtpin_data_feed,
	.data_end = smtpin_data_end,
	.data_reset = smtpin_data_reset,
};

void smtpin_session_run(struct conn *c)
{
	smtp_session_run(c, &smtpin);
}
