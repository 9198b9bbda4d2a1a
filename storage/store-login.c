/* Login (DESIGN.md section 7): the login cache, Argon2 on the pool, the
 * first opening of a user, what every login does after, password change
 * and external key rotation in the background.
 *
 * The login cache keeps, per open user, HMAC-SHA256(process secret, user
 * directory || 0 || password) from the last successful Argon2 check,
 * together with the identity of the user.toml it was checked against. A
 * login whose tag matches (compared in constant time) and finds user.toml
 * unchanged reuses the master key already in memory. Anything else,
 * including every wrong password, pays a full Argon2 run, so the cache
 * makes no wrong guess cheaper and an unknown user costs the same as a
 * known one. The secret never leaves the process, so the tags are useless
 * anywhere else. */
#include "storage/store-private.h"

#include <argon2.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/userdir.h"

static void make_tag(const struct store *st, const char *dir, const char *password,
		     uint8_t tag[STORE_TAG_LEN])
{
	size_t dlen = strlen(dir) + 1, plen = strlen(password);
	uint8_t *in = xmalloc(dlen + plen);

	memcpy(in, dir, dlen);	/* with its NUL: the separator */
	memcpy(in + dlen, password, plen);
	if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), st->secret,
			    sizeof(st->secret), in, dlen + plen, tag) != 0) {
		fprintf(stderr, "store: HMAC-SHA256 failed\n");
		abort();
	}
	crypto_wipe(in, dlen + plen);
	free(in);
}

static bool cfg_id(const char *dir, struct store__cfg_id *id)
{
	char *path = xasprintf("%s/user.toml", dir);
	struct stat s;
	bool ok = lstat(path, &s) == 0;

	free(path);
	memset(id, 0, sizeof(*id));
	if (ok) {
		id->dev = s.st_dev;
		id->ino = s.st_ino;
		id->size = s.st_size;
		id->mtime_ns = (int64_t)s.st_mtim.tv_sec * 1000000000 + s.st_mtim.tv_nsec;
		id->ctime_ns = (int64_t)s.st_ctim.tv_sec * 1000000000 + s.st_ctim.tv_nsec;
	}
	return ok;
}

static bool cfg_same(const struct store__cfg_id *a, const struct store__cfg_id *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

struct login_job {
	struct store_user *u;
	const char *users_dir, *name, *password;
	char *dir, *err;
	uint8_t master[CRYPTO_KEY_LEN];
	char *backup;
	const char *new_password;
};

static int lookup_job(void *p)
{
	struct login_job *j = p;
	return userdir_lookup(j->users_dir, j->name, &j->dir, &j->err);
}

/* The cost of a login for a user that does not exist: one Argon2 run at
 * the default parameters, whose result is thrown away. */
static int dummy_job(void *p)
{
	struct login_job *j = p;
	const struct argon_params *a = &account_argon_default;
	uint8_t salt[ACCOUNT_SALT_LEN] = { 0 }, out[ACCOUNT_HASH_LEN];

	argon2id_hash_raw(a->iterations, a->memory_kib, a->parallelism, j->password,
			  strlen(j->password), salt, sizeof(salt), out, sizeof(out));
	crypto_wipe(out, sizeof(out));
	return -EACCES;
}

static int argon_job(void *p)
{
	struct login_job *j = p;
	return account_login(j->u->dir, j->password, j->master, &j->err);
}

/* Checks the password against the cache or with Argon2; on success the
 * master key is in u->master (first login) or was already there. */
static int authenticate(struct store_user *u, const char *password, char **error_r)
{
	struct store *st = u->store;
	struct login_job j = { .u = u, .password = password };
	struct store__cfg_id before, after;
	uint8_t tag[STORE_TAG_LEN];
	bool have_cfg = cfg_id(u->dir, &before);

	make_tag(st, u->dir, password, tag);
	if (u->state == STORE__OPEN && u->tag_valid && have_cfg && cfg_same(&before, &u->cfg) &&
	    crypto_ct_equal(tag, u->tag, sizeof(tag))) {
		st->stats.cache_hits++;
		return 0;
	}
	st->stats.argon_runs++;
	int r = store__pool_cpu(argon_job, &j);
	if (r == 0 && u->state == STORE__OPEN &&
	    !crypto_ct_equal(j.master, u->master, sizeof(j.master))) {
		/* user.toml now belongs to another account: wait until this
		 * one is closed rather than mix the two. */
		r = -EAGAIN;
		store__set_error(error_r, xasprintf("%s: the account changed while open", u->dir));
	} else if (r == 0 && u->state != STORE__OPEN) {
		memcpy(u->master, j.master, sizeof(u->master));
	}
	crypto_wipe(j.master, sizeof(j.master));
	if (r == 0 && have_cfg && cfg_id(u->dir, &after) && cfg_same(&before, &after)) {
		memcpy(u->tag, tag, sizeof(tag));
		u->cfg = after;
		u->tag_valid = true;
	}
	crypto_wipe(tag, sizeof(tag));
	if (r < 0)
		store__set_error(error_r, j.err);
	else
		free(j.err);
	return r;
}

/* meta.sqlite missing: a new account, or one whose database an
 * administrator removed (manual: Backups and Recovery). Leftover -wal and
 * -shm files belong to the removed database and would be replayed into the
 * new one, so they go; the maintenance marker goes too, so the full pass
 * with its orphan scan runs at this login and brings every message back. */
static int prepare_new_db(const char *dir, const char *path)
{
	const char *suffixes[] = { "-wal", "-shm" };
	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s%s", path, suffixes[i]);
		int r = unlink(p) == 0 || errno == ENOENT ? 0 : -errno;
		free(p);
		if (r < 0)
			return r;
	}
	char *marker = xasprintf("%s/%s", dir, STORE_MAINTENANCE_MARKER);
	int r = unlink(marker) == 0 || errno == ENOENT ? 0 : -errno;
	free(marker);
	return r == 0 ? userdir_fsync_dir(dir) : r;
}

static int open_job(void *p)
{
	struct login_job *j = p;
	struct store_user *u = j->u;
	char *path = xasprintf("%s/meta.sqlite", u->dir);
	uint8_t key[META_KEY_LEN];
	const char *why = NULL;
	struct stat s;
	int r = 0;

	if (lstat(path, &s) < 0 && errno == ENOENT)
		r = prepare_new_db(u->dir, path);
	if (r == 0)
		r = crypto_derive(u->master, CRYPTO_LABEL_METADATA_DB, NULL, 0, key, sizeof(key));
	if (r == 0)
		r = meta_open(path, key, true, &u->meta, &why);
	/* The password was right, so the key is: a first page that does not
	 * open under it is damaged (or from another account), not a login
	 * failure. */
	if (r == -EACCES)
		r = -EBADMSG;
	crypto_wipe(key, sizeof(key));
	if (r == 0 && stat(path, &s) == 0) {
		u->db_dev = s.st_dev;
		u->db_ino = s.st_ino;
	}
	if (r == 0) {
		meta_set_clock(u->meta, store__clock, u->store);
		r = crypto_derive(u->master, CRYPTO_LABEL_MESSAGE_KEY_WRAP, NULL, 0, u->kek,
				  sizeof(u->kek));
	}
	if (r < 0) {
		meta_close(&u->meta);
		j->err = xasprintf("%s: %s", path, why ? why : strerror(-r));
	}
	free(path);
	return r;
}

/* Has meta.sqlite been removed or replaced since the open user opened it
 * (manual: Backups and Recovery, done while the daemon runs)? Then the
 * handle writes into a file nobody will read again. */
static bool db_replaced(const struct store_user *u)
{
	char *path = xasprintf("%s/meta.sqlite", u->dir);
	struct stat s;
	bool same = stat(path, &s) == 0 && s.st_dev == u->db_dev && s.st_ino == u->db_ino;
	free(path);
	return !same;
}

bool store_user_stale(struct store_user *u)
{
	if (!u->stale && u->state == STORE__OPEN && db_replaced(u))
		u->stale = true;
	return u->stale;
}

/* Makes sure the registry holds no user of dir that a login must not
 * reuse: one being closed is waited for; one whose meta.sqlite was
 * replaced is closed now, or, while sessions still use it, the login
 * fails with -EAGAIN (they should end: store_user_stale()). */
static int wait_usable(struct store *st, const char *dir, char **error_r)
{
	for (;;) {
		struct store_user *u = store__user_find(st, dir);
		if (!u || (u->state != STORE__CLOSING && !store_user_stale(u)))
			return 0;
		if (u->state == STORE__OPEN && u->refs == 0) {
			store__user_close(u);
			continue;
		}
		if (u->state == STORE__OPEN) {
			store__set_error(error_r, xasprintf("%s: meta.sqlite was replaced while "
							    "sessions use it", dir));
			return -EAGAIN;
		}
		int r = coro_event_wait(&st->user_closed, CORO_NO_DEADLINE);
		if (r < 0)
			return r;
	}
}

/* --- External key rotation in the background ------------------------- */

struct rotation {
	struct store_user *u;
	char name[KEYS_NAME_MAX + 1];
	uint8_t master[CRYPTO_KEY_LEN];
	int64_t now;
	int r;
};

static int rotation_check_job(void *p)
{
	struct rotation *rot = p;
	return keys_external_needs_rotation(rot->u->dir, rot->now, rot->name, NULL);
}

static int rotation_job(void *p)
{
	struct rotation *rot = p;
	return keys_generate_external(rot->u->dir, rot->master, rot->name, NULL);
}

/* Delivery keeps using the published key until keys_generate_external()
 * replaces external.current; the user stays referenced until then. */
static void rotation_run(void *arg)
{
	struct rotation *rot = arg;
	struct store *st = rot->u->store;

	store__pool_cpu(rotation_job, rot);
	rot->u->rotating = false;
	store__user_unref(rot->u);
	crypto_wipe(rot, sizeof(*rot));
	free(rot);
	store__background_done(st);
}

static void start_rotation(struct store_user *u)
{
	struct rotation *rot = xcalloc(1, sizeof(*rot));

	rot->u = u;
	rot->now = store_now(u->store);
	if (u->rotating || store__pool(rotation_check_job, rot) != 1) {
		free(rot);
		return;
	}
	memcpy(rot->master, u->master, sizeof(rot->master));
	store__user_ref(u);
	u->rotating = true;
	if (store__background_spawn(u->store, rotation_run, rot) < 0) {
		u->rotating = false;
		store__user_unref(u);
		crypto_wipe(rot, sizeof(*rot));
		free(rot);
	}
}

/* --- Login --------------------------------------------------------------- */

/* What every successful login does, under the lock. Failures leave the
 * mail where it is for the next login. */
static void after_login(struct store_user *u)
{
	const struct store_settings *set = &u->store->set;

	bool more = false;
	/* A first batch now, so a client sees recent mail at once; a long
	 * backlog (one RSA operation per message) goes on in the background. */
	store__import_pending(u, STORE_BATCH, &more);
	if (more)
		store__import_in_background(u);
	if (!set->no_maintenance)
		store__maintenance_if_due(u, NULL);
	if (!set->no_key_rotation)
		start_rotation(u);
}

static int find_user(struct store *st, const char *name, const char *password, char **dir_r,
		     char **error_r)
{
	struct login_job j = { .users_dir = st->users_dir, .name = name, .password = password };
	int r = store__pool(lookup_job, &j);

	if (r == -ENOENT) {
		st->stats.argon_runs++;
		store__pool_cpu(dummy_job, &j);
		r = -EACCES;
	}
	if (r < 0)
		store__set_error(error_r, j.err ? j.err : xasprintf("user lookup: %s", strerror(-r)));
	else
		free(j.err);
	*dir_r = j.dir;
	return r;
}

int store_login(struct store *st, const char *name, const char *password,
		struct store_user **user_r, char **error_r)
{
	char *dir = NULL;
	int r;

	*user_r = NULL;
	if (st->stopping)
		return -ECANCELED;
	r = find_user(st, name, password, &dir, error_r);
	if (r < 0)
		return r;
	r = wait_usable(st, dir, error_r);
	struct store_user *u = r == 0 ? store__user_get(st, dir) : NULL;
	free(dir);
	if (r < 0)
		return r;
	store__user_ref(u);
	store__lock(&u->lock);
	r = authenticate(u, password, error_r);
	if (r == 0 && u->state == STORE__NEW) {
		struct login_job j = { .u = u };
		r = store__pool(open_job, &j);
		if (r == 0 && meta_renumbered(u->meta))
			u->store->stats.renumbered++;
		if (r == 0)
			u->state = STORE__OPEN;
		else
			store__set_error(error_r, j.err);
	}
	if (r == 0)
		after_login(u);
	store__unlock(&u->lock);
	if (r < 0) {
		store__user_unref(u);
		return r;
	}
	*user_r = u;
	return 0;
}

void store__cache_reset(struct store_user *u, const char *new_password)
{
	u->tag_valid = false;
	if (new_password && cfg_id(u->dir, &u->cfg)) {
		make_tag(u->store, u->dir, new_password, u->tag);
		u->tag_valid = true;
	}
}

static int chpw_job(void *p)
{
	struct login_job *j = p;
	return account_change_password(j->u->dir, j->password, j->new_password, &j->backup,
				       &j->err);
}

/* Under the lock, so no login running Argon2 against the old file can
 * cache the old password after we cached the new one. */
int store_change_password(struct store_user *u, const char *old_password,
			  const char *new_password, char **backup_path_r, char **error_r)
{
	struct login_job j = { .u = u, .password = old_password, .new_password = new_password };

	if (backup_path_r)
		*backup_path_r = NULL;
	store__lock(&u->lock);
	int r = store__pool(chpw_job, &j);
	store__cache_reset(u, r == 0 ? new_password : NULL);
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
