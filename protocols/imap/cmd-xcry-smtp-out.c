/* XCRY SMTP-OUT (manual, "IMAP Characteristics": XCRY, Crymap 2.0.0):
 *
 *   XCRY SMTP-OUT FOREIGN-TLS LIST
 *   XCRY SMTP-OUT FOREIGN-TLS DELETE domain [domain ...]
 *   XCRY SMTP-OUT SPOOL EXECUTE message-id
 *
 * sealmail does not send mail to other servers yet, so it has learnt no
 * foreign TLS requirements and spooled nothing. The answers say exactly
 * that, in the manual's wire format: LIST sends no "* XCRY SMTP-OUT
 * FOREIGN-TLS" lines, DELETE forgets nothing and succeeds (afterwards no
 * requirement is held for those domains, which is what it promises), and
 * EXECUTE finds no such message: NO [NONEXISTENT]. When the outbound
 * SMTP lands, these become its table and spool. */
#include <strings.h>

#include "protocols/imap/cmd-xcry.h"
#include "protocols/imap/session.h"

#define XCRY_DOMAIN_MAX 255	/* RFC 1035 2.3.4 */
#define XCRY_SPOOL_ID_MAX 255

static bool xcry_word(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, word) == 0;
}

/* An astring of 1..max bytes (grammar only: a domain that is not ours to
 * know is simply not in the table). */
static bool xcry_short_astring(const struct imap_arg *a, size_t max)
{
	return imap_arg_is_astring(a) && a->len > 0 && a->len <= max;
}

static int xcry_foreign_tls(struct imap_session *s, const char *tag, const struct imap_arg *args,
			    size_t nargs)
{
	if (nargs == 1 && xcry_word(&args[0], "LIST"))
		return imap_reply(s, tag, "OK", "XCRY SMTP-OUT FOREIGN-TLS LIST completed");
	if (nargs >= 2 && xcry_word(&args[0], "DELETE")) {
		for (size_t i = 1; i < nargs; i++)
			if (!xcry_short_astring(&args[i], XCRY_DOMAIN_MAX))
				return imap_reply(s, tag, "BAD", "Domain names are strings of "
								 "1 to 255 bytes");
		return imap_reply(s, tag, "OK", "XCRY SMTP-OUT FOREIGN-TLS DELETE completed");
	}
	return imap_reply(s, tag, "BAD",
			  "Usage: XCRY SMTP-OUT FOREIGN-TLS LIST | DELETE domain...");
}

static int xcry_spool(struct imap_session *s, const char *tag, const struct imap_arg *args,
		      size_t nargs)
{
	if (nargs != 2 || !xcry_word(&args[0], "EXECUTE") ||
	    !xcry_short_astring(&args[1], XCRY_SPOOL_ID_MAX))
		return imap_reply(s, tag, "BAD", "Usage: XCRY SMTP-OUT SPOOL EXECUTE message-id");
	return imap_reply(s, tag, "NO",
			  "[NONEXISTENT] No such spooled message: this server sends no "
			  "outbound mail yet");
}

int imap_xcry_smtp_out(struct imap_session *s, const char *tag, const struct imap_arg *args,
		       size_t nargs)
{
	if (nargs >= 1 && xcry_word(&args[0], "FOREIGN-TLS"))
		return xcry_foreign_tls(s, tag, args + 1, nargs - 1);
	if (nargs >= 1 && xcry_word(&args[0], "SPOOL"))
		return xcry_spool(s, tag, args + 1, nargs - 1);
	return imap_reply(s, tag, "BAD", "Usage: XCRY SMTP-OUT FOREIGN-TLS ... | SPOOL EXECUTE id");
}
