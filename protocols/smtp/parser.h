/* SMTP command lines (RFC 5321 section 4.1, with the extensions' parameters
 * of RFC 1870, 3030, 6152, 6531). Pure functions over one line, no I/O, so
 * they are unit tested and fuzzed on their own.
 *
 * Leniency (manual, "SMTP/LMTP Characteristics"; what real senders send):
 * - verbs in any case, spaces around "FROM:"/"TO:" and between arguments;
 * - a path without angle brackets ("MAIL FROM:a@b") when it has no space;
 * - a source route before a reverse-path is dropped (RFC 5321 4.1.1.2
 *   lets servers ignore it); before a forward-path it is reported, and the
 *   caller refuses it (no relaying);
 * - MAIL and RCPT parameters: SIZE is read when it is a number and
 *   ignored otherwise, BODY= is ignored whatever its value, SMTPUTF8 is
 *   noted, every other keyword (DSN's RET, ENVID, NOTIFY, ORCPT, AUTH=...)
 *   is ignored, and so is a token that is not keyword[=value].
 * What stays an error: an address that cannot be parsed, one with control
 * characters or invalid UTF-8, and one longer than the buffers below.
 *
 * Every function reads exactly len bytes (NULs included) and never past
 * them. Output strings are NUL-terminated copies in the caller's struct.
 */
#ifndef SEAL_SMTP_PARSER_H
#define SEAL_SMTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SMTP_VERB_MAX 8
#define SMTP_LOCAL_MAX 256	/* RFC 5321 says 64; senders exceed it */
#define SMTP_DOMAIN_MAX 255
#define SMTP_PATH_MAX 512	/* the whole path as logged */

struct smtp_command {
	char verb[SMTP_VERB_MAX + 1];	/* upper case; "" when the line is blank */
	const char *args;	/* into the line: after the verb and its spaces */
	size_t args_len;	/* trailing spaces and tabs removed */
};

/* Splits a command line. Returns 0, -EINVAL for a line holding a NUL
 * byte, -ENAMETOOLONG for a verb longer than SMTP_VERB_MAX (no such
 * command). */
int smtp_parse_command(const char *line, size_t len, struct smtp_command *cmd);

struct smtp_path {
	bool null;		/* "<>" */
	bool route;		/* had a source route "@a,@b:" */
	bool quoted;		/* the local part was a quoted string */
	bool no_domain;		/* "<Postmaster>" and the like: no '@' at all */
	char local[SMTP_LOCAL_MAX + 1];	/* unquoted */
	char domain[SMTP_DOMAIN_MAX + 1];	/* as given; "[1.2.3.4]" kept */
	char text[SMTP_PATH_MAX + 1];	/* the mailbox as given, for logs */
};

struct smtp_params {
	bool has_size;
	uint64_t size;
	bool smtputf8;
	unsigned ignored;	/* parameters skipped (unknown or malformed) */
};

/* Parses the arguments of MAIL ("FROM:<path> params") or RCPT
 * ("TO:<path> params"): keyword is "FROM" or "TO". Returns 0, -EINVAL for
 * a syntax error (*why_r says which, static), -ENAMETOOLONG for an
 * address over the limits above. */
int smtp_parse_mail_rcpt(const char *args, size_t len, const char *keyword,
			 struct smtp_path *path, struct smtp_params *params, const char **why_r);

/* "BDAT <size> [LAST]" arguments. -EINVAL on anything else; -ERANGE for a
 * size that does not fit in 64 bits. */
int smtp_parse_bdat(const char *args, size_t len, uint64_t *size_r, bool *last_r);

/* The first word of EHLO/HELO/LHLO arguments, at most SMTP_DOMAIN_MAX
 * bytes, as printable text: control characters, spaces and bytes that
 * are not UTF-8 become '?', and so do the characters that would end a
 * Received header's comment ( ) \ . Returns the length (0: missing). */
size_t smtp_parse_helo(const char *args, size_t len, char *out, size_t size);

#endif
