/* Internals of protocols/mailauth/, split so that each part can be tested
 * alone: domains and the Public Suffix List, DMARC records and evaluation,
 * the result headers, and the SPF and DKIM engines. */
#ifndef SEAL_MAILAUTH_PRIVATE_H
#define SEAL_MAILAUTH_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocols/dns/dns.h"
#include "protocols/mailauth/mailauth.h"
#include "src/util/buf.h"

/* Client-supplied values (HELO, MAIL FROM) are cut to this many bytes in
 * the headers we write; RFC 5321 4.5.3.1 allows 256 for a path. */
#define MAILAUTH_MAX_VALUE 256
/* DMARC and DKIM key records longer than this are not DMARC records or
 * keys we use (a 4096-bit RSA key needs about 750 bytes). */
#define MAILAUTH_MAX_RECORD 4096

/* --- Domains (domain.c, punycode.c) ------------------------------------- */

/* RFC 3492 encoding of one label given as UTF-8 (without "xn--"): appends
 * to out, 0 or -EINVAL for invalid UTF-8, -E2BIG past outlen. */
int punycode_encode(const char *utf8, size_t len, char *out, size_t outlen,
		    size_t *outlen_r);

/* A domain as DNS and the PSL see it: ASCII lower-cased, final dot dropped,
 * UTF-8 labels turned into A-labels ("xn--..."). Labels of letters, digits,
 * '-' and '_' only, 1-63 bytes, at most DNS_MAX_NAME in all; out needs
 * DNS_MAX_NAME + 1 bytes. 0 or -EINVAL. */
int mailauth_domain_normalize(const char *in, size_t len, char *out, size_t outlen);

/* --- Public Suffix List (psl.c) ----------------------------------------- */

#define MAILAUTH_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

struct psl;
/* Loads the list (publicsuffix.org format: one rule per line, "//"
 * comments, "*." wildcards, "!" exceptions, UTF-8 rules). 0 or a negative
 * errno (the file's). */
int psl_load_file(const char *path, struct psl **psl_r);
int psl_load_text(const char *text, size_t len, struct psl **psl_r);
void psl_free(struct psl **psl);
size_t psl_rule_count(const struct psl *psl);
/* The public suffix of a normalized domain (publicsuffix.org algorithm,
 * default rule "*"): a pointer into domain. */
const char *psl_public_suffix(const struct psl *psl, const char *domain);
/* RFC 7489 3.2: the public suffix plus one label, a pointer into domain;
 * the domain itself when it is a public suffix. psl NULL: the domain. */
const char *psl_org_domain(const struct psl *psl, const char *domain);

/* --- DMARC (dmarc-record.c, dmarc.c) ------------------------------------ */

struct dmarc_record {
	enum mailauth_policy p, sp;	/* sp = p unless given */
	bool sp_given;
	bool adkim_strict, aspf_strict;
	unsigned pct;			/* 0-100 */
};

/* True when txt starts like a DMARC record ("v" *WSP "=" *WSP "DMARC1"
 * then ";" or the end): the records that count in RFC 7489 6.6.3. */
bool dmarc_is_record(const char *txt, size_t len);
/* Parses a DMARC record (RFC 7489 6.3, 6.4). Unknown tags are ignored and
 * bad values of optional tags give their defaults. Returns 0 with *rec
 * filled, -ENOENT when txt is no DMARC record, -EINVAL when it is one
 * without a usable policy and without a "rua" URI to fall back to p=none
 * on (6.6.3: then no DMARC processing applies). */
int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *rec);

/* Identifier alignment (RFC 7489 3.1): equal domains, or in relaxed mode
 * equal organisational domains. Domains normalized. */
bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict);

struct dmarc_input {
	const char *from_domain;	/* normalized */
	const struct dmarc_record *rec;	/* NULL: no usable record */
	bool rec_at_org;		/* found at the organisational domain,
					 * which the From domain is below */
	enum mailauth_spf spf;
	const char *spf_domain;		/* normalized, or NULL */
	const struct mailauth_dkim_sig *sigs;	/* domains normalized */
	size_t nsigs;
	unsigned sample;		/* 0-99, uniform: the pct draw */
};

struct dmarc_outcome {
	enum mailauth_dmarc result;	/* pass, fail or none (no record) */
	enum mailauth_policy policy;	/* published: p, or sp (rec_at_org) */
	enum mailauth_policy disposition; /* applied after pct (6.6.4) */
	bool spf_aligned, dkim_aligned;
};

void dmarc_evaluate(const struct psl *psl, const struct dmarc_input *in,
		    struct dmarc_outcome *out);

/* --- The headers (header.c) --------------------------------------------- */

struct mailauth_report {
	const char *receiver;	/* authserv-id */
	const char *client_ip;
	const char *helo;
	const char *mail_from;
	const struct mailauth_result *res;
	enum mailauth_policy disposition;
	const char *spf_problem; /* short static text, or NULL */
};

/* Writes "Authentication-Results: ...\r\nReceived-SPF: ...\r\n", folded
 * below 78 columns where the values allow, never past 998, ASCII only:
 * every client-supplied value is quoted or reduced to safe characters.
 * Returns a heap string. */
char *mailauth_format_headers(const struct mailauth_report *rep);

/* RFC 2045 token, or a quoted-string with '"' and '\' escaped and any byte
 * outside printable ASCII turned into '?'; at most MAILAUTH_MAX_VALUE input
 * bytes are used. */
void mailauth_put_value(struct buf *out, const char *s);

/* --- The message header (fields.c) --------------------------------------- */

/* Finds the blank line ending a header in d[0..len), looking from offset
 * `from` on (a caller feeding chunks passes where it stopped, less 2, as a
 * blank line may straddle chunks): "\n\n" or "\n\r\n", or one at the very
 * start. Returns the header's length without the blank line and sets
 * *body_at, or -1. */
long mailauth_header_end(const char *d, size_t len, size_t from, size_t *body_at);

struct header_fields {
	/* Each field folded as in the message, line breaks made CRLF, without
	 * the last one; all in text, at span[i] = { offset, length }. */
	struct buf text;
	size_t (*span)[2];
	size_t n, cap;
	bool dkim_signed;	/* a DKIM-Signature field is among them */
	/* RFC 7489 6.6.1: 1 when there is exactly one From field and its
	 * addresses have one domain (from_domain, normalized); 0 without a
	 * From field; -1 otherwise. */
	int from;
	char from_domain[DNS_MAX_NAME + 1];
};
/* Splits a header (without its blank line; bare LF or CRLF). */
void mailauth_header_fields(const char *h, size_t len, struct header_fields *f);
void mailauth_header_fields_free(struct header_fields *f);

/* --- Engines (spf.c, dkim.c) --------------------------------------------- */

/* Answers collected for one message, so libspf2 and libopendkim, which
 * want synchronous DNS, get them from memory (see spf.c). */
struct dns_memo {
	struct memo_entry *entries;
	size_t n, cap;
};
struct dns_answer *dns_memo_get(const struct dns_memo *m, const char *name,
				enum dns_type type);
/* Takes over the caller's reference to ans (replacing an older answer). */
void dns_memo_put(struct dns_memo *m, const char *name, enum dns_type type,
		  struct dns_answer *ans);
void dns_memo_free(struct dns_memo *m);

int mailauth_spf_global_init(const char **error_r);
void mailauth_spf_global_shutdown(void);

struct spf_outcome {
	enum mailauth_spf result;
	bool helo_identity;
	char domain[DNS_MAX_NAME + 1];	/* normalized identity domain, or "" */
	const char *problem;		/* static, or NULL */
};
/* Runs the SPF check (coroutine; DNS through dns_query() with deadline).
 * Never fails: DNS trouble is temperror. */
void mailauth_spf_check(const char *client_ip, const char *helo,
			const char *mail_from, const char *receiver,
			int64_t deadline, struct spf_outcome *out);

int mailauth_dkim_global_init(const char **error_r);
void mailauth_dkim_global_shutdown(void);

struct dkim_verifier;
/* Verification of one message: header fields, end of header, body, end. */
struct dkim_verifier *mailauth_dkim_new(void);
/* One header field, folded as in the message, without its final line
 * break. */
void mailauth_dkim_header(struct dkim_verifier *d, const char *field, size_t len);
/* End of the header: the signatures are known. 0, or -ENOENT when there is
 * none to verify (the body then need not be fed). */
int mailauth_dkim_eoh(struct dkim_verifier *d);
/* The key names to look up: "SELECTOR._domainkey.DOMAIN", n of them. */
size_t mailauth_dkim_key_names(struct dkim_verifier *d, char (*names)[DNS_MAX_NAME + 1],
			       size_t max);
/* Body bytes; blocking work: call on the worker pool. */
void mailauth_dkim_body(struct dkim_verifier *d, const void *data, size_t len);
/* Verifies with the keys in memo; blocking work (RSA, hashing): on the
 * worker pool. Fills the per-signature results (heap strings). */
void mailauth_dkim_eom(struct dkim_verifier *d, const struct dns_memo *keys,
		       struct mailauth_dkim_sig **sigs_r, size_t *nsigs_r);
void mailauth_dkim_free(struct dkim_verifier **d);

/* --- Test hooks (mailauth.c) --------------------------------------------- */

/* The DNS time budget of each phase (SPF from begin, DKIM keys and DMARC
 * from the end of the header); default MAILAUTH_MAX_SECONDS - 2 seconds. */
void mailauth__set_time_budget(unsigned ms);
/* The Public Suffix List loaded by mailauth_global_init(), or NULL. */
const struct psl *mailauth__psl(void);

#endif
