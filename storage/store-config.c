/* The user's settings as IMAP XCRY shows and changes them (manual: XCRY
 * GET-USER-CONFIG, SET-USER-CONFIG; "Password Resets"): user.toml read and
 * rewritten on the pool by account.h, the login cache kept in step. */
#include "storage/store-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"

struct config_job {
	struct store_user *u;
	struct account_config cfg;		/* get */
	const struct account_settings *s;	/* set */
	const char *password;
	uint8_t master[CRYPTO_KEY_LEN];
	char *backup, *err;
};

static char *take(char **s)
{
	char *v = *s;
	*s = NULL;
	return v;
}

void store_user_config_free(struct store_user_config *cfg)
{
	free(cfg->internal_pattern);
	free(cfg->external_pattern);
	free(cfg->smtp_out_save);
	free(cfg->smtp_out_success_receipts);
	free(cfg->smtp_out_failure_receipts);
	memset(cfg, 0, sizeof(*cfg));
}

static int get_job(void *p)
{
	struct config_job *j = p;
	return account_config_read(j->u->dir, &j->cfg, &j->err);
}

/* No lock: user.toml is only ever replaced by a rename, so a read sees a
 * whole version. */
int store_user_config_get(struct store_user *u, struct store_user_config *cfg_r,
			  char **error_r)
{
	struct config_job j = { .u = u };

	memset(cfg_r, 0, sizeof(*cfg_r));
	int r = store__pool(get_job, &j);
	if (r < 0) {
		store__set_error(error_r, j.err);
		return r;
	}
	free(j.err);
	cfg_r->internal_pattern = take(&j.cfg.internal_pattern);
	cfg_r->external_pattern = take(&j.cfg.external_pattern);
	cfg_r->password_changed = j.cfg.password_changed;
	cfg_r->smtp_out_save = take(&j.cfg.smtp_out_save);
	cfg_r->smtp_out_success_receipts = take(&j.cfg.smtp_out_success_receipts);
	cfg_r->smtp_out_failure_receipts = take(&j.cfg.smtp_out_failure_receipts);
	account_config_free(&j.cfg);	/* wipes the credentials read with them */
	return 0;
}

static int set_job(void *p)
{
	struct config_job *j = p;
	return account_update(j->u->dir, j->s, j->password, j->password ? j->master : NULL,
			      &j->backup, &j->err);
}

/* Under the lock, like store_change_password(): no login checking a
 * password against the old user.toml can fill the cache after us. */
int store_user_config_set(struct store_user *u, const struct account_settings *s,
			  const char *new_password, char **backup_path_r, char **error_r)
{
	struct config_job j = { .u = u, .s = s, .password = new_password };
	int r;

	if (backup_path_r)
		*backup_path_r = NULL;
	store__lock(&u->lock);
	if (u->state != STORE__OPEN) {
		r = -EIO;
		j.err = xasprintf("%s: user not open", u->dir);
	} else {
		if (new_password)
			memcpy(j.master, u->master, sizeof(j.master));
		r = store__pool(set_job, &j);
		crypto_wipe(j.master, sizeof(j.master));
		store__cache_reset(u, r == 0 ? new_password : NULL);
	}
	store__unlock(&u->lock);
	if (r < 0) {
		store__set_error(error_r, j.err);
		free(j.backup);
		return r;
	}
	free(j.err);
	if (backup_path_r)
		*backup_path_r = j.backup;
	else
		free(j.backup);
	return 0;
}
