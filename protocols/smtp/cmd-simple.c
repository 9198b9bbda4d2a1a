/* The commands that take nothing and change little: RSET, NOOP, QUIT,
 * VRFY, EXPN, HELP (RFC 5321 4.1.1.5 to 4.1.1.10) and AUTH, which is never
 * accepted on these services (manual). */
#include "protocols/smtp/session.h"

int smtp_cmd_rset(struct smtp_session *s, const char *args, size_t len)
{
	if (len)
		return smtp_reply(s, 501, "5.5.4", "RSET takes no arguments");
	smtp_txn_reset(s);
	return smtp_reply(s, 250, "2.0.0", "OK");
}

/* RFC 5321 4.1.1.9: NOOP may carry a string, which is ignored. */
int smtp_cmd_noop(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, 250, "2.0.0", "OK");
}

int smtp_cmd_quit(struct smtp_session *s, const char *args, size_t len)
{
	s->quit = true;
	return smtp_reply(s, 221, "2.0.0", "%s Bye", s->host_name);
}

/* Constant answers (manual): whether a user exists is told only to RCPT,
 * under the tarpit. */
int smtp_cmd_vrfy(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, 252, "2.5.0", "Cannot VRFY users; send the mail and see");
}

int smtp_cmd_expn(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, 502, "5.5.1", "There are no mailing lists here");
}

int smtp_cmd_help(struct smtp_session *s, const char *args, size_t len)
{
	int r = smtp_reply_more(s, 214, "2.0.0", "This is sealmail's %s service.",
				s->pers->lmtp ? "LMTP" : "SMTP");
	if (r == 0)
		r = smtp_reply_more(s, 214, "2.0.0", "Commands: %s MAIL RCPT DATA BDAT RSET NOOP "
				    "QUIT VRFY EXPN HELP%s",
				    s->pers->lmtp ? "LHLO" : "EHLO HELO",
				    s->pers->starttls ? " STARTTLS" : "");
	if (r == 0)
		r = smtp_reply(s, 214, "2.0.0", "End of HELP");
	return r;
}

int smtp_cmd_auth(struct smtp_session *s, const char *args, size_t len)
{
	return smtp_reply(s, 503, "5.5.1", "Authentication is not available on this service");
}
