/* sealmail.toml into struct config. The TOML reader builds a tree; the
 * known keys of each section are listed in tables below and copied into
 * the struct; whatever nobody read is an unknown key. */
#include "src/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "src/config-private.h"
#include "src/toml.h"
#include "src/util/buf.h"
#include "src/util/limits.h"
#include "src/util/xmalloc.h"

#define CONFIG_MAX_SIZE (1024 * 1024)

static const struct toml_limits config_toml_limits = {
	.max_size = CONFIG_MAX_SIZE,
	.max_string = SEAL_MAX_LINE,
	.max_depth = TOML_DEFAULT_MAX_DEPTH,
};

int config__fail(struct config_ctx *c, unsigned line, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT(0);

	if (c->error != NULL)
		return -EINVAL;
	if (line > 0)
		buf_printf(&b, "%s:%u: ", c->path, line);
	else
		buf_printf(&b, "%s: ", c->path);
	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	c->error = buf_steal(&b);
	return -EINVAL;
}

int config__expect(struct config_ctx *c, const struct toml_value *v,
		   enum toml_type type, const char *name)
{
	if (v->type == type)
		return 0;
	return config__fail(c, v->line, "key '%s': expected %s", name,
			    toml_type_name(type));
}

/* Up to 1 MiB, read to the end even if the file grows meanwhile. */
static int read_file(const char *path, struct buf *b, char **error_r)
{
	struct stat st;
	char chunk[16384];
	int r = 0, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		r = -errno;
		*error_r = xasprintf("%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		*error_r = xasprintf("%s: %s", path, strerror(-r));
	} else if (!S_ISREG(st.st_mode)) {
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		*error_r = xasprintf("%s: not a regular file", path);
	}
	while (r == 0) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			*error_r = xasprintf("%s: %s", path, strerror(-r));
		} else if (n == 0) {
			break;
		} else if (buf_append(b, chunk, (size_t)n) < 0) {
			r = -EFBIG;
			*error_r = xasprintf("%s: larger than %d bytes", path,
					     CONFIG_MAX_SIZE);
		}
	}
	close(fd);
	return r;
}

/* p made absolute against dir (or the working directory when dir is
 * NULL), without trailing slashes. Lexical only: the file need not
 * exist. */
char *config__absolute(const char *dir, const char *p)
{
	char *cwd = NULL, *s;

	while (p[0] == '.' && p[1] == '/')
		p += 2;
	if (p[0] == '/') {
		s = xstrdup(p);
	} else {
		if (dir == NULL) {
			cwd = getcwd(NULL, 0);
			if (cwd == NULL)
				return NULL;
			dir = cwd;
		}
		if (strcmp(p, ".") == 0 || p[0] == '\0')
			s = xstrdup(dir);
		else
			s = xasprintf("%s%s%s", dir,
				      dir[strlen(dir) - 1] == '/' ? "" : "/", p);
	}
	free(cwd);
	for (size_t n = strlen(s); n > 1 && s[n - 1] == '/'; n--)
		s[n - 1] = '\0';
	return s;
}

/* The directory holding path, absolute. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return config__absolute(NULL, ".");
	if (slash == path)
		return xstrdup("/");
	char *d = xstrndup(path, (size_t)(slash - path));
	char *abs = config__absolute(NULL, d);
	free(d);
	return abs;
}

static void set_defaults(struct config *cfg)
{
	cfg->max_connections = 20000;
	cfg->max_connections_per_ip = 200;
	cfg->max_connection_rate_per_ip = 600;
	cfg->imap_idle_timeout = 1800;
	cfg->smtp_idle_timeout = 300;
	cfg->shutdown_grace = 10;
	cfg->login_cache_seconds = 300;
	cfg->system_user = xstrdup("");
	cfg->smtp_host_name = xstrdup("");
	cfg->log_target = LOG_TARGET_STDERR;
	cfg->log_level = LOG_INFO;
}

#define F(field) offsetof(struct config, field)

static const struct config_key tls_keys[] = {
	{ "private_key", CONFIG_K_PATH, F(tls_private_key), 0, 0 },
	{ "certificate_chain", CONFIG_K_PATH, F(tls_certificate_chain), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct config_key security_keys[] = {
	{ "chroot_system", CONFIG_K_BOOL, F(chroot_system), 0, 0 },
	{ "system_user", CONFIG_K_STRING, F(system_user), 0, 0 },
	{ "login_cache_seconds", CONFIG_K_UINT, F(login_cache_seconds), 0, 86400 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct config_key smtp_keys[] = {
	{ "host_name", CONFIG_K_STRING, F(smtp_host_name), 0, 0 },
	{ "keep_recipient_domain", CONFIG_K_BOOL, F(keep_recipient_domain), 0, 0 },
	{ "verbatim_user_names", CONFIG_K_BOOL, F(verbatim_user_names), 0, 0 },
	{ "reject_dmarc_failures", CONFIG_K_BOOL, F(reject_dmarc_failures), 0, 0 },
	{ "verbose_outbound_tls", CONFIG_K_BOOL, F(verbose_outbound_tls), 0, 0 },
	{ "max_messages_per_ip_per_hour", CONFIG_K_UINT, F(max_messages_per_ip_per_hour),
	  0, 10000000 },
	{ NULL, 0, 0, 0, 0 },
};

/* The order matters to config__listen_add(): addresses are compared with
 * those of the keys before. */
const struct config_key config__listen_keys[] = {
	{ "imaps", CONFIG_K_LISTEN_TLS, F(listen_imaps), 0, 0 },
	{ "imap", CONFIG_K_LISTEN, F(listen_imap), 0, 0 },
	{ "smtp", CONFIG_K_LISTEN, F(listen_smtp), 0, 0 },
	{ "submissions", CONFIG_K_LISTEN_TLS, F(listen_submissions), 0, 0 },
	{ "submission", CONFIG_K_LISTEN, F(listen_submission), 0, 0 },
	{ "lmtp", CONFIG_K_LISTEN, F(listen_lmtp), 0, 0 },
	{ "admin", CONFIG_K_ADMIN, F(listen_admin), 0, 0 },
	{ "max_connections", CONFIG_K_UINT, F(max_connections), 1, 1000000 },
	{ "max_connections_per_ip", CONFIG_K_UINT, F(max_connections_per_ip),
	  1, 1000000 },
	{ "max_connection_rate_per_ip", CONFIG_K_UINT, F(max_connection_rate_per_ip),
	  0, 1000000 },
	{ "imap_idle_timeout", CONFIG_K_UINT, F(imap_idle_timeout), 1, 86400 },
	{ "smtp_idle_timeout", CONFIG_K_UINT, F(smtp_idle_timeout), 1, 86400 },
	{ "shutdown_grace", CONFIG_K_UINT, F(shutdown_grace), 0, 3600 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct config_key dns_keys[] = {
	{ "servers", CONFIG_K_DNS, F(dns_servers), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct config_key log_keys[] = {
	{ "level", CONFIG_K_LOG_LEVEL, F(log_level), 0, 0 },
	{ "target", CONFIG_K_LOG_TARGET, F(log_target), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static const struct config_key diagnostic_keys[] = {
	{ "stderr", CONFIG_K_PATH, F(diagnostic_stderr), 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};

static int read_string(struct config_ctx *c, const struct config_key *k,
		       const struct toml_value *v, const char *name)
{
	char **field = (char **)((char *)c->cfg + k->offset);
	char *s;

	if (config__expect(c, v, TOML_STRING, name) < 0)
		return -EINVAL;
	if (k->kind == CONFIG_K_PATH) {
		if (v->string.len == 0)
			return config__fail(c, v->line,
					    "key '%s': expected a file name", name);
		s = config__absolute(c->dir, v->string.data);
	} else {
		s = xstrdup(v->string.data);
	}
	free(*field);
	*field = s;
	return 0;
}

static int read_uint(struct config_ctx *c, const struct config_key *k,
		     const struct toml_value *v, const char *name)
{
	uint32_t *field = (uint32_t *)((char *)c->cfg + k->offset);

	if (config__expect(c, v, TOML_INTEGER, name) < 0)
		return -EINVAL;
	if (v->integer < (int64_t)k->min || v->integer > (int64_t)k->max)
		return config__fail(c, v->line,
				    "key '%s': expected an integer from %u to %u",
				    name, k->min, k->max);
	*field = (uint32_t)v->integer;
	return 0;
}

static const struct {
	const char *name;
	int level;
} log_levels[] = {
	{ "error", LOG_ERR },   { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO },   { "debug", LOG_DEBUG },
};

static int read_log(struct config_ctx *c, const struct config_key *k,
		    const struct toml_value *v, const char *name)
{
	if (config__expect(c, v, TOML_STRING, name) < 0)
		return -EINVAL;
	if (k->kind == CONFIG_K_LOG_TARGET) {
		if (strcmp(v->string.data, "stderr") == 0)
			c->cfg->log_target = LOG_TARGET_STDERR;
		else if (strcmp(v->string.data, "syslog") == 0)
			c->cfg->log_target = LOG_TARGET_SYSLOG;
		else
			return config__fail(c, v->line,
					    "key '%s': expected \"stderr\" or \"syslog\"",
					    name);
		return 0;
	}
	for (size_t i = 0; i < sizeof(log_levels) / sizeof(log_levels[0]); i++) {
		if (strcmp(v->string.data, log_levels[i].name) == 0) {
			c->cfg->log_level = log_levels[i].level;
			return 0;
		}
	}
	return config__fail(c, v->line,
			    "key '%s': expected \"error\", \"warning\", \"notice\", \"info\" or \"debug\"",
			    name);
}

static int read_key(struct config_ctx *c, const struct config_key *k,
		    const struct toml_entry *e, const char *name)
{
	const struct toml_value *v = e->value;

	switch (k->kind) {
	case CONFIG_K_STRING:
	case CONFIG_K_PATH:
		return read_string(c, k, v, name);
	case CONFIG_K_BOOL:
		if (config__expect(c, v, TOML_BOOLEAN, name) < 0)
			return -EINVAL;
		*(bool *)((char *)c->cfg + k->offset) = v->boolean;
		return 0;
	case CONFIG_K_UINT:
		return read_uint(c, k, v, name);
	case CONFIG_K_LISTEN:
	case CONFIG_K_LISTEN_TLS:
	case CONFIG_K_ADMIN:
	case CONFIG_K_DNS:
		return config__read_addresses(c, k, e, name);
	case CONFIG_K_LOG_LEVEL:
	case CONFIG_K_LOG_TARGET:
		return read_log(c, k, v, name);
	}
	return config__fail(c, e->line, "key '%s': internal error", name);
}

/* A null value reads as if the key were absent (see config.h). */
static int read_keys(struct config_ctx *c, struct toml_value *table,
		     const char *section, const struct config_key *keys)
{
	for (const struct config_key *k = keys; k->name != NULL; k++) {
		struct toml_entry *e = toml_get_entry(table, k->name);
		if (e == NULL || e->value->type == TOML_NULL)
			continue;
		char *name = toml_key_join(section, k->name);
		int r = read_key(c, k, e, name);
		free(name);
		if (r < 0)
			return r;
	}
	return 0;
}

/* *table_r is NULL when the section is absent or null. */
static int get_section(struct config_ctx *c, struct toml_value *doc,
		       const char *name, struct toml_entry **entry_r)
{
	struct toml_entry *e = toml_get_entry(doc, name);

	*entry_r = NULL;
	if (e == NULL || e->value->type == TOML_NULL)
		return 0;
	if (config__expect(c, e->value, TOML_TABLE, name) < 0)
		return -EINVAL;
	*entry_r = e;
	return 0;
}

/* [smtp], or [lmtp] as the manual's 1.x name; not both. */
static int read_smtp(struct config_ctx *c, struct toml_value *doc)
{
	struct toml_entry *smtp, *lmtp;

	if (get_section(c, doc, "smtp", &smtp) < 0 ||
	    get_section(c, doc, "lmtp", &lmtp) < 0)
		return -EINVAL;
	if (smtp != NULL && lmtp != NULL)
		return config__fail(c, smtp->line > lmtp->line ? smtp->line
							      : lmtp->line,
				    "[lmtp] is the old name of [smtp]: use only one of them");
	if (lmtp != NULL)
		smtp = lmtp;
	if (smtp == NULL)
		return 0;
	if (read_keys(c, smtp->value, smtp->key, smtp_keys) < 0)
		return -EINVAL;
	return config__read_domains(c, smtp->value, smtp->key);
}

static int read_sections(struct config_ctx *c, struct toml_value *doc)
{
	static const struct {
		const char *name;
		const struct config_key *keys;
	} plain[] = {
		{ "tls", tls_keys },	   { "security", security_keys },
		{ "listen", config__listen_keys }, { "dns", dns_keys },
		{ "log", log_keys },	   { "diagnostic", diagnostic_keys },
	};
	struct toml_entry *e;

	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		if (get_section(c, doc, plain[i].name, &e) < 0)
			return -EINVAL;
		if (e != NULL && read_keys(c, e->value, plain[i].name,
					   plain[i].keys) < 0)
			return -EINVAL;
	}
	if (get_section(c, doc, "identification", &e) < 0)
		return -EINVAL;
	if (e != NULL && config__read_identification(c, e->value) < 0)
		return -EINVAL;
	return read_smtp(c, doc);
}

static int check_unknown(struct config_ctx *c, const struct toml_value *doc)
{
	char *path;
	const struct toml_entry *e = toml_find_unused(doc, NULL, &path);

	if (e == NULL)
		return 0;
	bool at_root = e >= doc->table.entries &&
		       e < doc->table.entries + doc->table.count;
	bool section = at_root && e->value->type == TOML_TABLE;
	int r = config__fail(c, e->line, section ? "unknown section '[%s]'"
						 : "unknown key '%s'",
			     path);
	free(path);
	return r;
}

static const struct toml_entry *tls_entry(struct toml_value *doc,
					  const char *key)
{
	return toml_get_entry(toml_get(doc, "tls"), key);
}

/* Both TLS files or neither; both when a listener needs TLS. */
static int check_tls(struct config_ctx *c, struct toml_value *doc)
{
	struct config *cfg = c->cfg;

	if (cfg->tls_private_key && !cfg->tls_certificate_chain)
		return config__fail(c, tls_entry(doc, "private_key")->line,
				    "key 'tls.private_key': tls.certificate_chain must be set too");
	if (!cfg->tls_private_key && cfg->tls_certificate_chain)
		return config__fail(c, tls_entry(doc, "certificate_chain")->line,
				    "key 'tls.certificate_chain': tls.private_key must be set too");
	if (c->tls_needed_by != NULL && !cfg->tls_private_key)
		return config__fail(c, c->tls_needed_line,
				    "key '%s' needs TLS: set tls.private_key and tls.certificate_chain (required by every network listener but admin)",
				    c->tls_needed_by);
	return 0;
}

static int finish(struct config_ctx *c, struct toml_value *doc)
{
	struct config *cfg = c->cfg;

	if (check_tls(c, doc) < 0)
		return -EINVAL;
	if (cfg->listen_admin == NULL) {
		cfg->listen_admin = xasprintf("unix:%s/admin.sock", cfg->root);
		if (config__check_address(cfg->listen_admin, CONFIG_K_ADMIN))
			return config__fail(c, 0,
					    "the default listen.admin '%s' is too long for a unix socket: set listen.admin",
					    cfg->listen_admin);
	}
	return 0;
}

static int load_tree(struct config_ctx *c, const char *root)
{
	struct buf data = BUF_INIT(CONFIG_MAX_SIZE);
	struct toml_value *doc = NULL;
	int r = read_file(c->path, &data, &c->error);

	if (r == 0)
		r = toml_parse(c->path, data.data ? data.data : "", data.len,
			       &config_toml_limits, &doc, &c->error);
	buf_free(&data);
	if (r < 0)
		return r;
	c->dir = dir_of(c->path);
	c->cfg->root = root ? config__absolute(NULL, root) : xstrdup(c->dir ? c->dir : "");
	if (c->dir == NULL || c->cfg->root == NULL)
		r = config__fail(c, 0, "cannot find the working directory: %s",
				 strerror(errno));
	if (r == 0)
		r = read_sections(c, doc);
	if (r == 0)
		r = check_unknown(c, doc);
	if (r == 0)
		r = finish(c, doc);
	toml_free(&doc);
	return r;
}

int config_load(const char *path, const char *root, struct config **cfg_r,
		char **error_r)
{
	struct config_ctx c = { .path = path };

	*cfg_r = NULL;
	*error_r = NULL;
	c.cfg = xcalloc(1, sizeof(*c.cfg));
	c.cfg->path = xstrdup(path);
	set_defaults(c.cfg);
	int r = load_tree(&c, root);
	free(c.dir);
	free(c.tls_needed_by);
	if (r < 0) {
		config_free(&c.cfg);
		*error_r = c.error ? c.error : xasprintf("%s: invalid", path);
		return r;
	}
	*cfg_r = c.cfg;
	return 0;
}

static void strlist_free(struct config_strlist *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
}

void config_free(struct config **cfgp)
{
	struct config *cfg = cfgp ? *cfgp : NULL;

	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->root);
	strlist_free(&cfg->listen_imaps);
	strlist_free(&cfg->listen_imap);
	strlist_free(&cfg->listen_smtp);
	strlist_free(&cfg->listen_submissions);
	strlist_free(&cfg->listen_submission);
	strlist_free(&cfg->listen_lmtp);
	free(cfg->listen_admin);
	free(cfg->tls_private_key);
	free(cfg->tls_certificate_chain);
	free(cfg->system_user);
	for (size_t i = 0; i < cfg->identification_count; i++) {
		free(cfg->identification[i].key);
		free(cfg->identification[i].value);
	}
	free(cfg->identification);
	free(cfg->smtp_host_name);
	for (size_t i = 0; i < cfg->smtp_domain_count; i++) {
		struct config_smtp_domain *d = &cfg->smtp_domains[i];
		for (size_t j = 0; j < d->dkim_count; j++) {
			free(d->dkim[j].selector);
			free(d->dkim[j].value);
		}
		free(d->dkim);
		free(d->name);
	}
	free(cfg->smtp_domains);
	strlist_free(&cfg->dns_servers);
	free(cfg->diagnostic_stderr);
	free(cfg);
	*cfgp = NULL;
}
