/* Sender authentication of one inbound message: SPF (RFC 7208, libspf2),
 * DKIM verification (RFC 6376, libopendkim) and DMARC (RFC 7489, evaluated
 * here with the Public Suffix List), summed up as the header block to
 * prepend to the stored message: Authentication-Results (RFC 8601) and
 * Received-SPF (RFC 7208 9.1).
 *
 * Use, from a coroutine on the loop (the SMTP-in session; LMTP does none of
 * this, manual "SMTP/LMTP Characteristics"):
 *
 *   mailauth_begin(&in, &ma);          at the end of DATA/BDAT's start, or
 *                                      right after MAIL FROM: SPF starts in
 *                                      the background at once
 *   mailauth_feed(ma, chunk, n) ...    the message bytes as they will be
 *                                      stored (dot-unstuffed), any chunking
 *   mailauth_finish(ma, &res);         waits for SPF, DKIM, DMARC
 *   if (res.dmarc_reject && cfg->reject_dmarc_failures) -> 550 5.7.1
 *   else prepend res.header_block to the stored message
 *   mailauth_result_free(&res); mailauth_free(&ma);
 *
 * Nothing here fails a delivery by itself: DNS trouble gives "temperror"
 * results, a malformed message "permerror"/"none", never an error return.
 * Every DNS query has a deadline: SPF's lookups end within
 * MAILAUTH_MAX_SECONDS of begin, those for DKIM keys and DMARC within
 * MAILAUTH_MAX_SECONDS of the end of the message header, so finish never
 * waits longer than that even when the DNS server never answers.
 * Memory is bounded: the header block of the message (at most
 * SEAL_MAX_HEADER_BLOCK) plus a fixed-size body window; the body is hashed
 * as it streams and never kept.
 */
#ifndef SEAL_MAILAUTH_H
#define SEAL_MAILAUTH_H

#include <stdbool.h>
#include <stddef.h>

struct config;

/* Upper bound on one message's authentication work, DNS waits included
 * (RFC 7208 4.6.4 asks for at least 20 s for SPF). */
#define MAILAUTH_MAX_SECONDS 20
/* DKIM signatures verified per message; later ones are reported as
 * "policy" (RFC 6376 6.1: a verifier may limit the work it does), at most
 * MAILAUTH_MAX_REPORTED in all; the rest are not listed. */
#define MAILAUTH_MAX_SIGNATURES 8
#define MAILAUTH_MAX_REPORTED 10
/* Bound on mailauth_result.header_block, terminating NUL excluded. */
#define MAILAUTH_MAX_HEADER_BLOCK (16 * 1024 - 1)

/* Process-wide set-up, once on the loop thread after coro_runtime_init():
 * the resolver (DNS servers from [dns] servers, else /etc/resolv.conf; see
 * protocols/dns/dns.h), libopendkim and the Public Suffix List. cfg may be
 * NULL (system resolver). Returns 0 or a negative errno with *error_r set
 * (static string). A missing Public Suffix List file is not an error: every
 * domain is then its own organisational domain, and a warning is logged. */
int mailauth_global_init(const struct config *cfg, const char **error_r);
/* Re-reads [dns] servers (SIGHUP). Queries in flight finish on the old
 * servers. 0 or a negative errno. */
int mailauth_global_reload(const struct config *cfg, const char **error_r);
/* Frees everything global; no mailauth may be alive. Closes libuv handles:
 * run the loop once more afterwards, as for coro_runtime_shutdown(). */
void mailauth_global_shutdown(void);

struct mailauth_input {
	const char *client_ip;	/* "192.0.2.1" or "2001:db8::1" */
	const char *helo;	/* as the client gave it (EHLO/HELO argument) */
	const char *mail_from;	/* reverse-path without <>; "" for <> */
	const char *receiver;	/* our host name: the authserv-id */
};

/* Results, with the RFC 8601 result names (mailauth_*_name()). */
enum mailauth_spf {
	MAILAUTH_SPF_NONE,
	MAILAUTH_SPF_NEUTRAL,
	MAILAUTH_SPF_PASS,
	MAILAUTH_SPF_FAIL,
	MAILAUTH_SPF_SOFTFAIL,
	MAILAUTH_SPF_TEMPERROR,
	MAILAUTH_SPF_PERMERROR,
};

enum mailauth_dkim {
	MAILAUTH_DKIM_NONE,	/* no signature (only as the overall result) */
	MAILAUTH_DKIM_PASS,
	MAILAUTH_DKIM_FAIL,	/* signature or body hash does not verify */
	MAILAUTH_DKIM_NEUTRAL,	/* a signature with a syntax error */
	MAILAUTH_DKIM_POLICY,	/* not verified (limit, expired, ...) */
	MAILAUTH_DKIM_TEMPERROR,/* key not retrievable now */
	MAILAUTH_DKIM_PERMERROR,/* key missing or unusable */
};

enum mailauth_dmarc {
	MAILAUTH_DMARC_NONE,	/* no From domain or no DMARC record */
	MAILAUTH_DMARC_PASS,
	MAILAUTH_DMARC_FAIL,
	MAILAUTH_DMARC_TEMPERROR,
	MAILAUTH_DMARC_PERMERROR,/* From header unusable (RFC 7489 6.6.1) */
};

enum mailauth_policy {
	MAILAUTH_POLICY_NONE,
	MAILAUTH_POLICY_QUARANTINE,
	MAILAUTH_POLICY_REJECT,
};

struct mailauth_dkim_sig {
	enum mailauth_dkim result;
	char *domain;		/* d=, lower-cased; "" if unreadable */
	char *selector;		/* s=; "" if unreadable */
	const char *algorithm;	/* "rsa-sha256", "ed25519-sha256", ... */
	char *b_prefix;		/* first 8 characters of b= (RFC 6008) */
	const char *reason;	/* short static text for a non-pass, or NULL */
};

struct mailauth_result {
	enum mailauth_spf spf;
	bool spf_helo;		/* the identity checked was HELO (null path) */
	char *spf_domain;	/* domain checked: mail_from's or HELO's */

	enum mailauth_dkim dkim;	/* overall: best of the signatures */
	struct mailauth_dkim_sig *sigs;
	size_t nsigs;

	enum mailauth_dmarc dmarc;
	char *from_domain;		/* RFC5322.From domain, or NULL */
	enum mailauth_policy policy;	/* p, or sp for a subdomain of the
					 * organisational domain, as published */
	bool dmarc_reject;	/* DMARC fail and the policy to apply, after
				 * pct sampling (RFC 7489 6.6.4), is reject */

	/* "Authentication-Results: ...\r\n" then "Received-SPF: ...\r\n",
	 * folded, ASCII only, client-supplied values quoted: prepend as is.
	 * At most MAILAUTH_MAX_HEADER_BLOCK bytes. */
	char *header_block;
};

struct mailauth;

/* Starts the checks of one message; SPF runs in the background from now
 * (on the loop; no worker thread waits for DNS). Copies what it needs of
 * *in. Coroutine only. Returns 0 (never fails today; a negative errno is
 * reserved for resource exhaustion). */
int mailauth_begin(const struct mailauth_input *in, struct mailauth **ma_r);

/* Takes the next bytes of the message as stored (header, blank line, body;
 * CRLF or bare LF), in chunks of any size. Coroutine only: may yield while
 * the body is hashed on the worker pool or DKIM keys are looked up. Returns
 * 0; -EINVAL after mailauth_finish(). A header block over
 * SEAL_MAX_HEADER_BLOCK is not an error here: DKIM and DMARC then report
 * permerror, as the SMTP engine rejects such a message anyway. */
int mailauth_feed(struct mailauth *ma, const void *data, size_t len);

/* Ends the message and waits for every check (coroutine only; see above
 * for how long at most). Fills *res (owned by the caller:
 * mailauth_result_free). 0, or -EINVAL when called twice. If the calling
 * coroutine is cancelled meanwhile, the checks still running are reported
 * as temperror. */
int mailauth_finish(struct mailauth *ma, struct mailauth_result *res);

void mailauth_result_free(struct mailauth_result *res);

/* Frees *ma and sets it to NULL (NULL is fine); callable at any point, also
 * without mailauth_finish() (the client left): background lookups still
 * running are abandoned and clean up after themselves. */
void mailauth_free(struct mailauth **ma);

const char *mailauth_spf_name(enum mailauth_spf r);
const char *mailauth_dkim_name(enum mailauth_dkim r);
const char *mailauth_dmarc_name(enum mailauth_dmarc r);
const char *mailauth_policy_name(enum mailauth_policy p);

#endif
