/* The IMAP server: one coroutine per connection runs imap_session_run(). */
#ifndef SEAL_IMAP_H
#define SEAL_IMAP_H

struct conn;

/* Serves one IMAPS (or cleartext + STARTTLS) connection until LOGOUT, error,
 * timeout or server shutdown. */
void imap_session_run(struct conn *c);

#endif
