/* DMARC evaluation (RFC 7489 3.1, 6.6): a message passes when SPF or any
 * DKIM signature passes for a domain aligned with the From domain. Crymap
 * demands both; the RFC does not, and neither do we (DESIGN.md section 5).
 * This file is pure computation; the DNS part is in mailauth.c.
 */
#include "protocols/mailauth/mailauth-private.h"

#include <string.h>

bool dmarc_aligned(const struct psl *psl, const char *a, const char *b, bool strict)
{
	if (!a || !b || !*a || !*b)
		return false;
	if (strcmp(a, b) == 0)
		return true;
	if (strict)
		return false;
	return strcmp(psl_org_domain(psl, a), psl_org_domain(psl, b)) == 0;
}

/* 6.6.4: a message not selected by pct gets the next policy down. */
static enum mailauth_policy downgrade(enum mailauth_policy p)
{
	return p == MAILAUTH_POLICY_REJECT ? MAILAUTH_POLICY_QUARANTINE : MAILAUTH_POLICY_NONE;
}

void dmarc_evaluate(const struct psl *psl, const struct dmarc_input *in,
		    struct dmarc_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->result = MAILAUTH_DMARC_NONE;
	if (!in->rec || !in->from_domain)
		return;
	const struct dmarc_record *rec = in->rec;

	/* 3.1.2: the SPF-authenticated identifier is the MAIL FROM domain,
	 * or the HELO identity when the reverse path was null. */
	out->spf_aligned = in->spf == MAILAUTH_SPF_PASS &&
			   dmarc_aligned(psl, in->spf_domain, in->from_domain, rec->aspf_strict);
	for (size_t i = 0; i < in->nsigs && !out->dkim_aligned; i++)
		out->dkim_aligned = in->sigs[i].result == MAILAUTH_DKIM_PASS &&
				    dmarc_aligned(psl, in->sigs[i].domain, in->from_domain,
						  rec->adkim_strict);

	/* 6.6.3: sp is for subdomains, i.e. when the record was found at the
	 * organisational domain above the From domain. */
	out->policy = in->rec_at_org ? rec->sp : rec->p;
	if (out->spf_aligned || out->dkim_aligned) {
		out->result = MAILAUTH_DMARC_PASS;
		out->disposition = MAILAUTH_POLICY_NONE;
		return;
	}
	out->result = MAILAUTH_DMARC_FAIL;
	out->disposition = in->sample < rec->pct ? out->policy : downgrade(out->policy);
}
