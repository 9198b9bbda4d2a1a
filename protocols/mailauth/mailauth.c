/* Skeleton of the mailauth seam: it keeps the contract of mailauth.h and
 * says honestly that nothing was checked ("none"), until SPF, DKIM and DMARC
 * land behind it. */
#include "protocols/mailauth/mailauth.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"

struct mailauth {
	char *receiver;
	bool finished;
};

int mailauth_global_init(const struct config *cfg, const char **error_r)
{
	return 0;
}

int mailauth_global_reload(const struct config *cfg, const char **error_r)
{
	return 0;
}

void mailauth_global_shutdown(void)
{
}

int mailauth_begin(const struct mailauth_input *in, struct mailauth **ma_r)
{
	struct mailauth *ma = xcalloc(1, sizeof(*ma));
	ma->receiver = xstrdup(in->receiver ? in->receiver : "localhost");
	*ma_r = ma;
	return 0;
}

int mailauth_feed(struct mailauth *ma, const void *data, size_t len)
{
	return ma->finished ? -EINVAL : 0;
}

int mailauth_finish(struct mailauth *ma, struct mailauth_result *res)
{
	if (ma->finished)
		return -EINVAL;
	ma->finished = true;
	memset(res, 0, sizeof(*res));
	res->header_block = xasprintf("Authentication-Results: %s; none\r\n",
				      ma->receiver);
	return 0;
}

void mailauth_result_free(struct mailauth_result *res)
{
	free(res->spf_domain);
	for (size_t i = 0; i < res->nsigs; i++) {
		free(res->sigs[i].domain);
		free(res->sigs[i].selector);
		free(res->sigs[i].b_prefix);
	}
	free(res->sigs);
	free(res->from_domain);
	free(res->header_block);
	memset(res, 0, sizeof(*res));
}

void mailauth_free(struct mailauth **ma)
{
	if (!*ma)
		return;
	free((*ma)->receiver);
	free(*ma);
	*ma = NULL;
}

const char *mailauth_spf_name(enum mailauth_spf r)
{
	static const char *const names[] = { "none", "neutral", "pass", "fail",
		"softfail", "temperror", "permerror" };
	return (unsigned)r < 7 ? names[r] : "permerror";
}

const char *mailauth_dkim_name(enum mailauth_dkim r)
{
	static const char *const names[] = { "none", "pass", "fail", "neutral",
		"policy", "temperror", "permerror" };
	return (unsigned)r < 7 ? names[r] : "permerror";
}

const char *mailauth_dmarc_name(enum mailauth_dmarc r)
{
	static const char *const names[] = { "none", "pass", "fail",
		"temperror", "permerror" };
	return (unsigned)r < 5 ? names[r] : "permerror";
}

const char *mailauth_policy_name(enum mailauth_policy p)
{
	static const char *const names[] = { "none", "quarantine", "reject" };
	return (unsigned)p < 3 ? names[p] : "none";
}
