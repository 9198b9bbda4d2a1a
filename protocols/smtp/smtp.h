/* The SMTP services of the daemon (src/server.c's proto_table): each a
 * conn_handler_fn running one connection on its coroutine. */
#ifndef SEAL_SMTP_H
#define SEAL_SMTP_H

struct conn;

/* Inbound MX (listen.smtp, port 25): recipients only in the domains of
 * [smtp.domains], mail authentication, STARTTLS, no AUTH. */
void smtpin_session_run(struct conn *c);

/* LMTP (listen.lmtp, RFC 2033) behind another MTA: LHLO, a reply per
 * recipient, any domain, no mail authentication, no header limit. */
void lmtp_session_run(struct conn *c);

#endif
