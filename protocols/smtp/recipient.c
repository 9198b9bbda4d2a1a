#include "protocols/smtp/recipient.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicase.h>

#include "protocols/smtp/parser.h"
#include "src/config.h"
#include "storage/userdir.h"

static bool refuse(struct smtp_refusal *why, int code, const char *enh, const char *text)
{
	why->code = code;
	why->enh = enh;
	why->text = text;
	return false;
}

/* ASCII lower case and no final dot: "Example.COM." is "example.com". */
static size_t domain_key(const char *d, char *out, size_t size)
{
	size_t n = strlen(d);
	if (n && d[n - 1] == '.')
		n--;
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (d[i] >= 'A' && d[i] <= 'Z') ? (char)(d[i] - 'A' + 'a') : d[i];
	out[n] = '\0';
	return n;
}

bool smtp_recipient_allowed(const struct smtp_path *p, bool check_domains,
			    const struct config_smtp_domain *domains, size_t n, bool allow_bare,
			    struct smtp_refusal *why)
{
	if (p->null)
		return refuse(why, 501, "5.1.3", "A recipient address is required");
	if (p->route)
		return refuse(why, 550, "5.7.1", "Source routes are not accepted; no relaying");
	/* user%other@here, other!user@here, "user@other"@here: each names a
	 * mailbox elsewhere that an old relay would forward to. */
	if (strpbrk(p->local, "%!@"))
		return refuse(why, 550, "5.7.1", "No relaying through this server");
	if (p->no_domain) {
		if (allow_bare || strcasecmp(p->local, "postmaster") == 0)
			return true;
		return refuse(why, 501, "5.1.3", "The address needs a domain");
	}
	if (!check_domains)
		return true;
	char key[SMTP_DOMAIN_MAX + 1];
	domain_key(p->domain, key, sizeof(key));
	for (size_t i = 0; i < n; i++)
		if (strcmp(domains[i].name, key) == 0)
			return true;
	return refuse(why, 550, "5.7.1", "Relay access denied: not a domain of this server");
}

/* Unicode lower case of s into out (libunistring: full case mapping, so
 * the length may change). */
static int lower_utf8(const char *s, size_t len, char *out, size_t size, size_t *n_r)
{
	size_t n = size;
	uint8_t *res = u8_tolower((const uint8_t *)s, len, NULL, NULL, (uint8_t *)out, &n);
	if (!res)
		return -EINVAL;
	if (res != (uint8_t *)out) {
		free(res);	/* did not fit */
		return -ENAMETOOLONG;
	}
	*n_r = n;
	return 0;
}

int smtp_recipient_user(const struct smtp_path *p, bool keep_domain, bool verbatim, char *out,
			size_t size)
{
	char local[SMTP_LOCAL_MAX + 1];
	size_t n = 0;
	if (verbatim) {
		n = strlen(p->local);
		memcpy(local, p->local, n);
	} else {
		for (const char *c = p->local; *c && *c != '+'; c++)
			if (*c != '.')
				local[n++] = *c;
	}
	if (n == 0 || size == 0)
		return -EINVAL;
	size_t len;
	if (verbatim) {
		if (n >= size)
			return -ENAMETOOLONG;
		memcpy(out, local, n);
		len = n;
	} else {
		int r = lower_utf8(local, n, out, size - 1, &len);
		if (r < 0)
			return r;
	}
	if (keep_domain && !p->no_domain) {
		char dom[SMTP_DOMAIN_MAX + 1];
		size_t dlen = verbatim ? strlen(p->domain) : domain_key(p->domain, dom, sizeof(dom));
		if (len + 1 + dlen >= size)
			return -ENAMETOOLONG;
		out[len++] = '@';
		memcpy(out + len, verbatim ? p->domain : dom, dlen);
		len += dlen;
	}
	out[len] = '\0';
	return userdir_check_name(out, NULL) < 0 ? -EINVAL : 0;
}
