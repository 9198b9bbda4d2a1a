/* The parts of sealmail.toml that are more than a scalar: listener and
 * DNS server addresses, the free-form [identification] map, and the SMTP
 * domains with their DKIM keys. */
#include "src/config-private.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "src/util/xmalloc.h"

/* RFC 2971 section 3.3: field names of at most 30 octets, values of at
 * most 1024, at most 30 pairs. */
#define ID_MAX_NAME 30
#define ID_MAX_VALUE 1024
#define ID_MAX_PAIRS 30

static const char *check_port(const char *p)
{
	size_t n = strlen(p);
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return "the port must be 1 to 65535";
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return "the port must be 1 to 65535";
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	return v >= 1 && v <= 65535 ? NULL : "the port must be 1 to 65535";
}

static const char *check_ipv6_bracketed(const char *a, bool port_required)
{
	char host[INET6_ADDRSTRLEN];
	struct in6_addr bin;
	const char *close = strchr(a, ']');

	if (close == NULL)
		return "missing ']' after the IPv6 address";
	size_t n = (size_t)(close - a - 1);
	if (n >= sizeof(host))
		return "invalid IPv6 address";
	memcpy(host, a + 1, n);
	host[n] = '\0';
	if (inet_pton(AF_INET6, host, &bin) != 1)
		return "invalid IPv6 address";
	if (close[1] == '\0')
		return port_required ? "missing ':PORT'" : NULL;
	if (close[1] != ':')
		return "expected ':PORT' after ']'";
	return check_port(close + 2);
}

/* "IPv4:PORT" or "[IPv6]:PORT"; the port may be left out for DNS servers,
 * and then a bare IPv6 address is fine too. Host names are not: the
 * listeners bind before any resolver runs. */
static const char *check_ip_port(const char *a, bool port_required)
{
	char host[INET_ADDRSTRLEN];
	struct in6_addr bin6;
	struct in_addr bin;
	const char *colon = strchr(a, ':');

	if (a[0] == '[')
		return check_ipv6_bracketed(a, port_required);
	if (colon != NULL && strchr(colon + 1, ':') != NULL) {
		if (!port_required && inet_pton(AF_INET6, a, &bin6) == 1)
			return NULL;
		return "write IPv6 addresses in brackets: [ADDRESS]:PORT";
	}
	if (colon == NULL) {
		if (port_required)
			return "missing ':PORT'";
		colon = a + strlen(a);
	}
	size_t n = (size_t)(colon - a);
	if (n >= sizeof(host))
		return "invalid IPv4 address";
	memcpy(host, a, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &bin) != 1)
		return "invalid IPv4 address";
	return *colon ? check_port(colon + 1) : NULL;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

const char *config__check_address(const char *a, enum config_kind kind)
{
	struct sockaddr_un un;

	if (a[0] == '\0')
		return "empty address";
	if (has_control(a))
		return "control characters are not allowed";
	if (strncmp(a, "unix:", 5) == 0) {
		if (kind == CONFIG_K_DNS)
			return "DNS servers cannot be unix sockets";
		if (a[5] != '/')
			return "a unix socket path must be absolute";
		if (strlen(a + 5) >= sizeof(un.sun_path))
			return "the path is too long for a unix socket";
		return NULL;
	}
	if (kind == CONFIG_K_ADMIN)
		return "expected unix:/absolute/path";
	return check_ip_port(a, kind != CONFIG_K_DNS);
}

/* Which listener already has addr, NULL if none. Only keys read so far
 * have addresses. */
static const char *address_owner(const struct config *cfg, const char *addr)
{
	for (const struct config_key *k = config__listen_keys; k->name; k++) {
		const void *field = (const char *)cfg + k->offset;
		if (k->kind == CONFIG_K_ADMIN) {
			const char *a = *(char *const *)field;
			if (a != NULL && strcmp(a, addr) == 0)
				return k->name;
		} else if (k->kind == CONFIG_K_LISTEN ||
			   k->kind == CONFIG_K_LISTEN_TLS) {
			const struct config_strlist *l = field;
			for (size_t i = 0; i < l->count; i++)
				if (strcmp(l->items[i], addr) == 0)
					return k->name;
		}
	}
	return NULL;
}

static int check_one_address(struct config_ctx *c, const struct config_key *k,
			     const struct toml_value *v, const char *name)
{
	const char *a = v->string.data;
	const char *why = config__check_address(a, k->kind);

	if (why != NULL && has_control(a))
		return config__fail(c, v->line, "key '%s': invalid address: %s",
				    name, why);
	if (why != NULL)
		return config__fail(c, v->line,
				    "key '%s': invalid address '%s': %s", name,
				    a, why);
	if (k->kind == CONFIG_K_DNS)
		return 0;
	const char *owner = address_owner(c->cfg, a);
	if (owner != NULL)
		return config__fail(c, v->line,
				    "key '%s': address '%s' is already used by listen.%s",
				    name, a, owner);
	bool tls = k->kind == CONFIG_K_LISTEN_TLS ||
		   (k->kind == CONFIG_K_LISTEN && strncmp(a, "unix:", 5) != 0);
	if (tls && c->tls_needed_by == NULL) {
		c->tls_needed_by = xstrdup(name);
		c->tls_needed_line = v->line;
	}
	return 0;
}

int config__read_addresses(struct config_ctx *c, const struct config_key *k,
			   const struct toml_entry *e, const char *name)
{
	const struct toml_value *v = e->value;
	void *field = (char *)c->cfg + k->offset;

	if (k->kind == CONFIG_K_ADMIN) {
		if (config__expect(c, v, TOML_STRING, name) < 0 ||
		    check_one_address(c, k, v, name) < 0)
			return -EINVAL;
		free(*(char **)field);
		*(char **)field = xstrdup(v->string.data);
		return 0;
	}
	if (v->type != TOML_ARRAY)
		return config__fail(c, v->line,
				    "key '%s': expected an array of strings", name);
	struct config_strlist *l = field;
	for (size_t i = 0; i < v->array.count; i++) {
		const struct toml_value *item = v->array.items[i];
		if (item->type != TOML_STRING)
			return config__fail(c, item->line,
					    "key '%s': expected an array of strings",
					    name);
		if (check_one_address(c, k, item, name) < 0)
			return -EINVAL;
		l->items = xrealloc(l->items, (l->count + 1) * sizeof(char *));
		l->items[l->count++] = xstrdup(item->string.data);
	}
	return 0;
}

static bool printable_ascii(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return false;
	return true;
}

static int read_id_pair(struct config_ctx *c, const struct toml_entry *e,
			const char *name)
{
	const struct toml_value *v = e->value;
	struct config *cfg = c->cfg;

	if (v->type == TOML_NULL)
		return 0;
	if (config__expect(c, v, TOML_STRING, name) < 0)
		return -EINVAL;
	size_t n = strlen(e->key);
	if (n == 0 || n > ID_MAX_NAME || !printable_ascii(e->key))
		return config__fail(c, e->line,
				    "key '%s': names are 1 to %d printable ASCII characters (RFC 2971)",
				    name, ID_MAX_NAME);
	if (v->string.len > ID_MAX_VALUE || has_control(v->string.data))
		return config__fail(c, v->line,
				    "key '%s': values are at most %d bytes without control characters (RFC 2971)",
				    name, ID_MAX_VALUE);
	char *field = xstrdup(e->key);
	for (char *p = field; *p; p++)
		if (*p == '_')
			*p = '-';
	for (size_t i = 0; i < cfg->identification_count; i++) {
		if (strcasecmp(cfg->identification[i].key, field) == 0) {
			free(field);
			return config__fail(c, e->line,
					    "key '%s': '%s' is already set",
					    name, cfg->identification[i].key);
		}
	}
	if (cfg->identification_count == ID_MAX_PAIRS) {
		free(field);
		return config__fail(c, e->line,
				    "key '%s': at most %d fields (RFC 2971)", name,
				    ID_MAX_PAIRS);
	}
	cfg->identification = xrealloc(cfg->identification,
				       (cfg->identification_count + 1) *
					       sizeof(*cfg->identification));
	cfg->identification[cfg->identification_count].key = field;
	cfg->identification[cfg->identification_count].value =
		xstrdup(v->string.data);
	cfg->identification_count++;
	return 0;
}

/* Free-form: every key is consumed here. */
int config__read_identification(struct config_ctx *c,
				struct toml_value *table)
{
	for (size_t i = 0; i < table->table.count; i++) {
		struct toml_entry *e = &table->table.entries[i];
		e->used = true;
		char *name = toml_key_join("identification", e->key);
		int r = read_id_pair(c, e, name);
		free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Dot-separated labels of letters, digits and inner hyphens (RFC 1035
 * section 2.3.1), and underscores where allow_underscore (DKIM selectors
 * are sometimes written so). */
static bool dns_name_ok(const char *s, bool allow_underscore)
{
	size_t total = strlen(s), label = 0;

	if (total == 0 || total > 253)
		return false;
	for (size_t i = 0; i <= total; i++) {
		char ch = s[i];
		if (ch == '.' || ch == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)ch) && ch != '-' &&
		    !(ch == '_' && allow_underscore))
			return false;
		if (ch == '-' && label == 0)
			return false;
		label++;
	}
	return true;
}

static int dkim_cmp(const void *a, const void *b)
{
	const struct config_dkim_key *x = a, *y = b;
	return strcmp(x->selector, y->selector);
}

static int read_dkim_key(struct config_ctx *c, struct config_smtp_domain *d,
			 struct toml_entry *e, const char *prefix)
{
	const struct toml_value *v = e->value;
	char *name = toml_key_join(prefix, e->key);
	int r = 0;

	e->used = true;
	if (v->type == TOML_NULL)
		goto out;
	if ((r = config__expect(c, v, TOML_STRING, name)) < 0)
		goto out;
	if (!dns_name_ok(e->key, true)) {
		r = config__fail(c, e->line, "key '%s': invalid DKIM selector",
				 name);
		goto out;
	}
	const char *s = v->string.data;
	if (!((strncmp(s, "rsa:", 4) == 0 && s[4] != '\0') ||
	      (strncmp(s, "ed25519:", 8) == 0 && s[8] != '\0'))) {
		r = config__fail(c, v->line,
				 "key '%s': expected \"rsa:BASE64\" or \"ed25519:BASE64\"",
				 name);
		goto out;
	}
	d->dkim = xrealloc(d->dkim, (d->dkim_count + 1) * sizeof(*d->dkim));
	d->dkim[d->dkim_count].selector = xstrdup(e->key);
	d->dkim[d->dkim_count].value = xstrdup(s);
	d->dkim_count++;
out:
	free(name);
	return r;
}

static int read_dkim(struct config_ctx *c, struct config_smtp_domain *d,
		     struct toml_value *domain, const char *prefix)
{
	struct toml_entry *e = toml_get_entry(domain, "dkim");

	if (e == NULL || e->value->type == TOML_NULL)
		return 0;
	char *name = toml_key_join(prefix, "dkim");
	int r = config__expect(c, e->value, TOML_TABLE, name);
	for (size_t i = 0; r == 0 && i < e->value->table.count; i++)
		r = read_dkim_key(c, d, &e->value->table.entries[i], name);
	free(name);
	/* The manual: keys sign in lexicographical order of selectors. */
	if (r == 0 && d->dkim_count > 1)
		qsort(d->dkim, d->dkim_count, sizeof(*d->dkim), dkim_cmp);
	return r;
}

static int add_domain(struct config_ctx *c, struct toml_entry *e,
		      const char *name)
{
	struct config *cfg = c->cfg;

	if (!dns_name_ok(e->key, false))
		return config__fail(c, e->line,
				    "key '%s': invalid domain name (use the xn-- form for international names)",
				    name);
	char *lower = xstrdup(e->key);
	for (char *p = lower; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	for (size_t i = 0; i < cfg->smtp_domain_count; i++) {
		if (strcmp(cfg->smtp_domains[i].name, lower) == 0) {
			free(lower);
			return config__fail(c, e->line,
					    "key '%s': domain '%s' is already configured",
					    name, cfg->smtp_domains[i].name);
		}
	}
	cfg->smtp_domains = xrealloc(cfg->smtp_domains,
				     (cfg->smtp_domain_count + 1) *
					     sizeof(*cfg->smtp_domains));
	struct config_smtp_domain *d = &cfg->smtp_domains[cfg->smtp_domain_count++];
	memset(d, 0, sizeof(*d));
	d->name = lower;
	return read_dkim(c, d, e->value, name);
}

int config__read_domains(struct config_ctx *c, struct toml_value *smtp,
			 const char *section)
{
	struct toml_entry *domains = toml_get_entry(smtp, "domains");
	int r = 0;

	if (domains == NULL || domains->value->type == TOML_NULL)
		return 0;
	char *prefix = toml_key_join(section, "domains");
	r = config__expect(c, domains->value, TOML_TABLE, prefix);
	for (size_t i = 0; r == 0 && i < domains->value->table.count; i++) {
		struct toml_entry *e = &domains->value->table.entries[i];
		char *name = toml_key_join(prefix, e->key);
		e->used = true;
		if (e->value->type != TOML_NULL) {
			r = config__expect(c, e->value, TOML_TABLE, name);
			if (r == 0)
				r = add_domain(c, e, name);
		}
		free(name);
	}
	free(prefix);
	return r;
}
