/* From a forward-path to a user of ROOT/users: the relay policy and the
 * manual's normalisation ([smtp] keep_recipient_domain and
 * verbatim_user_names). Pure functions, unit tested and fuzzed. */
#ifndef SEAL_SMTP_RECIPIENT_H
#define SEAL_SMTP_RECIPIENT_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_path;
struct config_smtp_domain;

/* A refusal: SMTP code, enhanced code and text (static strings). */
struct smtp_refusal {
	int code;
	const char *enh;
	const char *text;
};

/* Never an open relay (manual: "Message delivery will always be rejected
 * for any recipient domain which is not explicitly defined"): refuses
 * source routes, local parts carrying another address ('%' hack, '!' bang
 * path, a quoted '@'), and, when check_domains, any domain not among the
 * n domains (an address literal never is). A domainless path is only
 * "Postmaster" (RFC 5321 4.5.1) unless allow_bare (LMTP). Returns true
 * when the recipient may go on to the user lookup, else fills *why. */
bool smtp_recipient_allowed(const struct smtp_path *p, bool check_domains,
			    const struct config_smtp_domain *domains, size_t n, bool allow_bare,
			    struct smtp_refusal *why);

/* The user name for an allowed path. Unless verbatim: the local part
 * loses everything from the first '+', every '.', and is lower-cased
 * (Unicode); with keep_domain, "@" and the domain (ASCII lower-cased,
 * without a final dot) follow. Verbatim keeps local part and domain as
 * given. Returns 0 and a NUL-terminated name in out, -EINVAL when nothing
 * usable is left or the name is not a valid user name
 * (userdir_check_name), -ENAMETOOLONG when it does not fit. */
int smtp_recipient_user(const struct smtp_path *p, bool keep_domain, bool verbatim, char *out,
			size_t size);

#endif
