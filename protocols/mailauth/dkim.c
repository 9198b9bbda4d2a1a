/* DKIM verification (RFC 6376) with libopendkim.
 *
 * libopendkim fetches keys synchronously. With DKIM_LIBFLAGS_DELAYSIGPROC
 * it does so in dkim_eom(), not dkim_eoh() (measured: the key callback runs
 * in eom only), so the signatures are known after the header, their keys
 * are looked up on the loop while the body streams in (mailauth.c), and
 * dkim_set_key_lookup() hands libopendkim those answers from memory during
 * dkim_eom(). Its own resolver is never used, nor any thread waiting for
 * DNS.
 *
 * The header calls (parsing signatures) are cheap and run on the loop;
 * body hashing and dkim_eom() (RSA or Ed25519 verification) run on the
 * worker pool. The handle moves between threads only through
 * coro_await_work(), which orders the accesses.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <opendkim/dkim.h>

#include "src/util/xmalloc.h"

static DKIM_LIB *lib;

struct dkim_verifier {
	DKIM *dkim;
	const struct dns_memo *keys;	/* during mailauth_dkim_eom() */
	bool eoh;
};

static void key_name(DKIM_SIGINFO *sig, char *out, size_t outlen)
{
	const char *sel = (const char *)dkim_sig_getselector(sig);
	const char *dom = (const char *)dkim_sig_getdomain(sig);
	char raw[2 * DNS_MAX_NAME];

	out[0] = '\0';
	if (!sel || !dom)
		return;
	int n = snprintf(raw, sizeof(raw), "%s._domainkey.%s", sel, dom);
	if (n < 0 || (size_t)n >= sizeof(raw) ||
	    mailauth_domain_normalize(raw, (size_t)n, out, outlen) < 0)
		out[0] = '\0';
}

/* libopendkim's key lookup: the TXT record fetched beforehand. */
static DKIM_CBSTAT key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct dkim_verifier *d = dkim_get_user_context(dkim);
	char name[DNS_MAX_NAME + 1];

	key_name(sig, name, sizeof(name));
	if (!name[0])
		return DKIM_CBSTAT_NOTFOUND;
	const struct dns_answer *ans = d && d->keys ? dns_memo_get(d->keys, name, DNS_T_TXT)
						    : NULL;
	/* DKIM_CBSTAT_TRYAGAIN would make dkim_eom() stop and leave the
	 * other signatures unverified; a key not fetched in time is reported
	 * as temperror from the memo afterwards (sig_result). */
	if (!ans || ans->status != DNS_OK)
		return DKIM_CBSTAT_NOTFOUND;
	/* RFC 6376 3.6.2.2: several records for one selector give undefined
	 * results; we take the first. */
	const struct dns_record *rec = &ans->records[0];
	if (rec->len >= buflen || memchr(rec->data, '\0', rec->len))
		return DKIM_CBSTAT_ERROR;
	memcpy(buf, rec->data, rec->len + 1);
	return DKIM_CBSTAT_CONTINUE;
}

int mailauth_dkim_global_init(const char **error_r)
{
	lib = dkim_init(NULL, NULL);
	if (!lib) {
		*error_r = "cannot initialise libopendkim";
		return -ENOMEM;
	}
	/* FIXCRLF: BDAT may bring bare LFs; DELAYSIGPROC: keys in eom (see
	 * above); BADSIGHANDLES: malformed signatures are still reported. */
	unsigned int flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_DELAYSIGPROC |
			     DKIM_LIBFLAGS_BADSIGHANDLES;
	if (dkim_options(lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof(flags)) != DKIM_STAT_OK ||
	    dkim_set_key_lookup(lib, key_lookup) != DKIM_STAT_OK) {
		dkim_close(lib);
		lib = NULL;
		*error_r = "cannot configure libopendkim";
		return -EINVAL;
	}
	return 0;
}

void mailauth_dkim_global_shutdown(void)
{
	if (lib)
		dkim_close(lib);
	lib = NULL;
}

struct dkim_verifier *mailauth_dkim_new(void)
{
	struct dkim_verifier *d = xcalloc(1, sizeof(*d));
	DKIM_STAT st;
	if (lib)
		d->dkim = dkim_verify(lib, (const u_char *)"sealmail", NULL, &st);
	if (d->dkim)
		dkim_set_user_context(d->dkim, d);
	return d;
}

void mailauth_dkim_header(struct dkim_verifier *d, const char *field, size_t len)
{
	/* A field libopendkim rejects (no colon, say) is left out of
	 * verification, which is what a signer would have done too. */
	if (d->dkim && !d->eoh)
		dkim_header(d->dkim, (u_char *)field, len);
}

int mailauth_dkim_eoh(struct dkim_verifier *d)
{
	DKIM_SIGINFO **sigs;
	int n = 0;

	if (!d->dkim || d->eoh)
		return -ENOENT;
	d->eoh = true;
	DKIM_STAT st = dkim_eoh(d->dkim);
	if (st == DKIM_STAT_NOSIG || dkim_getsiglist(d->dkim, &sigs, &n) != DKIM_STAT_OK || n == 0)
		return -ENOENT;
	/* RFC 6376 6.1: a verifier may bound its work. */
	for (int i = MAILAUTH_MAX_SIGNATURES; i < n; i++)
		dkim_sig_ignore(sigs[i]);
	return 0;
}

size_t mailauth_dkim_key_names(struct dkim_verifier *d, char (*names)[DNS_MAX_NAME + 1],
			       size_t max)
{
	DKIM_SIGINFO **sigs;
	int n = 0;
	size_t k = 0;

	if (!d->dkim || dkim_getsiglist(d->dkim, &sigs, &n) != DKIM_STAT_OK)
		return 0;
	for (int i = 0; i < n && k < max; i++) {
		if (dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_IGNORE)
			continue;
		key_name(sigs[i], names[k], sizeof(names[k]));
		bool dup = !names[k][0];
		for (size_t j = 0; j < k && !dup; j++)
			dup = strcmp(names[j], names[k]) == 0;
		if (!dup)
			k++;
	}
	return k;
}

void mailauth_dkim_body(struct dkim_verifier *d, const void *data, size_t len)
{
	if (d->dkim && d->eoh && len)
		dkim_body(d->dkim, (u_char *)data, len);
}

static bool key_tempfail(DKIM_SIGINFO *sig, const struct dns_memo *keys)
{
	char name[DNS_MAX_NAME + 1];
	key_name(sig, name, sizeof(name));
	if (!name[0])
		return false;
	const struct dns_answer *ans = dns_memo_get(keys, name, DNS_T_TXT);
	return !ans || ans->status == DNS_TEMPFAIL;
}

static enum mailauth_dkim sig_result(DKIM_SIGINFO *sig, const struct dns_memo *keys,
				     const char **reason)
{
	unsigned flags = dkim_sig_getflags(sig);
	int err = dkim_sig_geterror(sig);
	int bh = dkim_sig_getbh(sig);

	*reason = NULL;
	if (flags & DKIM_SIGFLAG_IGNORE) {
		*reason = "not verified: too many signatures";
		return MAILAUTH_DKIM_POLICY;
	}
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH)
		return MAILAUTH_DKIM_PASS;
	if (err == DKIM_SIGERROR_NOKEY && key_tempfail(sig, keys)) {
		*reason = "key lookup failed";
		return MAILAUTH_DKIM_TEMPERROR;
	}
	switch (err) {
	case DKIM_SIGERROR_OK:
	case DKIM_SIGERROR_BADSIG:
		*reason = bh == DKIM_SIGBH_MISMATCH ? "body hash did not verify"
						    : "signature did not verify";
		return MAILAUTH_DKIM_FAIL;
	case DKIM_SIGERROR_TOOLARGE_L:
		*reason = "body shorter than l=";
		return MAILAUTH_DKIM_FAIL;
	case DKIM_SIGERROR_KEYFAIL:
		*reason = "key lookup failed";
		return MAILAUTH_DKIM_TEMPERROR;
	case DKIM_SIGERROR_NOKEY:
		*reason = "no key";
		return MAILAUTH_DKIM_PERMERROR;
	case DKIM_SIGERROR_EXPIRED:
		*reason = "signature expired";
		return MAILAUTH_DKIM_POLICY;
	case DKIM_SIGERROR_FUTURE:
		*reason = "signature in the future";
		return MAILAUTH_DKIM_POLICY;
	case DKIM_SIGERROR_KEYTOOSMALL:
		*reason = "key too small";
		return MAILAUTH_DKIM_POLICY;
	case DKIM_SIGERROR_DNSSYNTAX:
	case DKIM_SIGERROR_MULTIREPLY:
	case DKIM_SIGERROR_KEYVERSION:
	case DKIM_SIGERROR_KEYUNKNOWNHASH:
	case DKIM_SIGERROR_KEYHASHMISMATCH:
	case DKIM_SIGERROR_NOTEMAILKEY:
	case DKIM_SIGERROR_KEYTYPEMISSING:
	case DKIM_SIGERROR_KEYTYPEUNKNOWN:
	case DKIM_SIGERROR_KEYREVOKED:
	case DKIM_SIGERROR_KEYDECODE:
		*reason = "unusable key";
		return MAILAUTH_DKIM_PERMERROR;
	default:
		/* The signature's own tags: version, d=/i=, c=, a=, h=, b=,
		 * bh=, l=, q=, timestamps. */
		*reason = "bad signature";
		return MAILAUTH_DKIM_NEUTRAL;
	}
}

static const char *alg_name(DKIM_SIGINFO *sig)
{
	dkim_alg_t alg;
	if (dkim_sig_getsignalg(sig, &alg) != DKIM_STAT_OK)
		return NULL;
	switch (alg) {
	case DKIM_SIGN_RSASHA1: return "rsa-sha1";
	case DKIM_SIGN_RSASHA256: return "rsa-sha256";
	case DKIM_SIGN_ED25519SHA256: return "ed25519-sha256";
	default: return NULL;
	}
}

/* RFC 6008: the first 8 characters of b=, folding whitespace dropped. */
static char *b_prefix(DKIM_SIGINFO *sig)
{
	const u_char *b = dkim_sig_gettagvalue(sig, false, (u_char *)"b");
	char out[9];
	size_t n = 0;
	for (; b && *b && n < 8; b++) {
		char c = (char)*b;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=')
			out[n++] = c;
	}
	out[n] = '\0';
	return xstrdup(out);
}

static char *domain_of(DKIM_SIGINFO *sig)
{
	const char *raw = (const char *)dkim_sig_getdomain(sig);
	char norm[DNS_MAX_NAME + 1];
	if (!raw)
		return xstrdup("");
	if (mailauth_domain_normalize(raw, strlen(raw), norm, sizeof(norm)) == 0)
		return xstrdup(norm);
	/* Not a domain: kept for the report (quoted there), never aligned. */
	return xstrndup(raw, MAILAUTH_MAX_VALUE);
}

void mailauth_dkim_eom(struct dkim_verifier *d, const struct dns_memo *keys,
		       struct mailauth_dkim_sig **sigs_r, size_t *nsigs_r)
{
	DKIM_SIGINFO **sigs;
	int n = 0;

	*sigs_r = NULL;
	*nsigs_r = 0;
	if (!d->dkim || !d->eoh)
		return;
	d->keys = keys;
	dkim_eom(d->dkim, NULL);
	d->keys = NULL;
	if (dkim_getsiglist(d->dkim, &sigs, &n) != DKIM_STAT_OK || n <= 0)
		return;
	/* Signatures dkim_eom() did not get to (it stops early on some
	 * errors) read as "not verified". */
	if (n > MAILAUTH_MAX_REPORTED)
		n = MAILAUTH_MAX_REPORTED;
	struct mailauth_dkim_sig *out = xcalloc((size_t)n, sizeof(*out));
	for (int i = 0; i < n; i++) {
		const char *sel = (const char *)dkim_sig_getselector(sigs[i]);
		out[i].result = sig_result(sigs[i], keys, &out[i].reason);
		if (out[i].result == MAILAUTH_DKIM_NEUTRAL &&
		    !(dkim_sig_getflags(sigs[i]) & DKIM_SIGFLAG_PROCESSED) &&
		    dkim_sig_geterror(sigs[i]) == DKIM_SIGERROR_UNKNOWN) {
			out[i].result = MAILAUTH_DKIM_POLICY;
			out[i].reason = "not verified";
		}
		out[i].domain = domain_of(sigs[i]);
		out[i].selector = xstrndup(sel ? sel : "", MAILAUTH_MAX_VALUE);
		out[i].algorithm = alg_name(sigs[i]);
		out[i].b_prefix = b_prefix(sigs[i]);
	}
	*sigs_r = out;
	*nsigs_r = (size_t)n;
}

void mailauth_dkim_free(struct dkim_verifier **d)
{
	if (!*d)
		return;
	if ((*d)->dkim)
		dkim_free((*d)->dkim);
	free(*d);
	*d = NULL;
}
