/* XCRY, the Crymap extension (manual, "IMAP Characteristics": XCRY): one
 * command whose first argument names a subcommand. cmd-xcry.c dispatches
 * and does PURGE; the families live in cmd-xcry-config.c (GET-USER-CONFIG,
 * SET-USER-CONFIG) and cmd-xcry-smtp-out.c (SMTP-OUT). Each handler gets
 * the arguments after the subcommand's name and answers, tagged reply
 * included, like a command handler (session.h). */
#ifndef SEAL_IMAP_CMD_XCRY_H
#define SEAL_IMAP_CMD_XCRY_H

#include <stddef.h>

struct imap_session;
struct imap_arg;

int imap_xcry_get_user_config(struct imap_session *s, const char *tag,
			      const struct imap_arg *args, size_t nargs);
int imap_xcry_set_user_config(struct imap_session *s, const char *tag,
			      const struct imap_arg *args, size_t nargs);
int imap_xcry_smtp_out(struct imap_session *s, const char *tag, const struct imap_arg *args,
		       size_t nargs);

#endif
