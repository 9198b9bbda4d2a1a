#include "bench/imap-opts.h"

#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "src/util/xmalloc.h"

void bench_imap_defaults(struct imap_common *o)
{
	memset(o, 0, sizeof(*o));
	o->target.host = "127.0.0.1";
	o->target.timeout_ms = 60000;
	o->tls = true;
}

bool bench_imap_option(struct imap_common *o, int c, const char *arg)
{
	switch (c) {
	case IMAP_OPT_HOST: o->target.host = arg; return true;
	case IMAP_OPT_PORT: o->target.port = (uint16_t)atoi(arg); return true;
	case IMAP_OPT_TLS: o->tls = true; return true;
	case IMAP_OPT_PLAIN: o->tls = false; return true;
	case IMAP_OPT_USERS_FILE: o->users_file = arg; return true;
	case IMAP_OPT_USER: o->user = arg; return true;
	case IMAP_OPT_PASSWORD: o->password = arg; return true;
	case IMAP_OPT_TIMEOUT: o->target.timeout_ms = (unsigned)atoi(arg); return true;
	default: return false;
	}
}

static void add_account(struct imap_common *o, const char *name, const char *password)
{
	o->accounts = xrealloc(o->accounts, (o->n_accounts + 1) * sizeof(*o->accounts));
	o->accounts[o->n_accounts].name = xstrdup(name);
	o->accounts[o->n_accounts].password = xstrdup(password);
	o->n_accounts++;
}

static bool read_accounts(struct imap_common *o)
{
	FILE *f = fopen(o->users_file, "r");
	if (!f) {
		perror(o->users_file);
		return false;
	}
	char line[1024];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		char *sp = strchr(line, ' ');
		if (!sp || sp == line || sp[1] == '\0') {
			fprintf(stderr, "%s:%u: expected NAME PASSWORD\n", o->users_file, lineno);
			fclose(f);
			return false;
		}
		*sp = '\0';
		add_account(o, line, sp + 1);
	}
	fclose(f);
	return true;
}

bool bench_imap_finish(struct imap_common *o)
{
	if (!o->target.port || !o->target.timeout_ms) {
		fprintf(stderr, "sealmail-bench: --port is required\n");
		return false;
	}
	if (o->users_file ? o->user || o->password : !o->user || !o->password) {
		fprintf(stderr, "sealmail-bench: give --users-file, or --user and --password\n");
		return false;
	}
	if (o->users_file && !read_accounts(o))
		return false;
	if (o->user)
		add_account(o, o->user, o->password);
	if (!o->n_accounts) {
		fprintf(stderr, "sealmail-bench: %s lists no account\n", o->users_file);
		return false;
	}
	if (o->tls) {
		const char *err = NULL;
		o->target.tls = tls_config_new_client(NULL, false, &err);
		if (!o->target.tls) {
			fprintf(stderr, "sealmail-bench: TLS: %s\n", err);
			return false;
		}
	}
	return true;
}

void bench_imap_free(struct imap_common *o)
{
	for (unsigned i = 0; i < o->n_accounts; i++) {
		free(o->accounts[i].name);
		free(o->accounts[i].password);
	}
	free(o->accounts);
	o->accounts = NULL;
	o->n_accounts = 0;
	if (o->target.tls)
		tls_config_unref(&o->target.tls);
}

const struct imap_account *bench_imap_account(const struct imap_common *o, unsigned client)
{
	return &o->accounts[client % o->n_accounts];
}
