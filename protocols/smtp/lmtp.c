/* The LMTP personality (RFC 2033; manual, "SMTP/LMTP Characteristics",
 * LMTP): the MTA in front has done the checks, so no mail authentication
 * and no header block limit; any domain when the domain is not part of
 * the user name (and when it is, the user lookup decides). STARTTLS is
 * offered as the manual says, though a unix socket has little use for it. */
#include "protocols/smtp/session.h"
#include "protocols/smtp/smtp.h"

static const struct smtp_personality lmtp = {
	.name = "lmtp",
	.proto = "LMTP",
	.lmtp = true,
	.allow_bare = true,
	.binarymime = true,
	.starttls = true,
};

void lmtp_session_run(struct conn *c)
{
	smtp_session_run(c, &lmtp);
}
