/* Accounts: creation, login, password change and config backups. The
 * contract is in account.h; user.toml itself is read and written in
 * account-config.c. */
#include "storage/account.h"

#include <argon2.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/userdir.h"

_Static_assert(ACCOUNT_KEY_LEN == CRYPTO_KEY_LEN && ACCOUNT_KEY_LEN == KEYS_KEY_LEN,
	       "one master key length");

/* The default Argon2id cost, p=1. Measured on this machine (Debian 12,
 * 2 cores, libargon2 20171227, 2026-11-23), one hash alone (best / mean of
 * 15) and two threads hashing at once, i.e. logins on 2 busy workers:
 *
 *   m=19 MiB t=2     21 /  31 ms    57-69 logins/s
 *   m=32 MiB t=3     78 /  94 ms    ~19 logins/s    <- default
 *   m=64 MiB t=3    164 / 188 ms    ~10 logins/s
 *
 * (Two threads scale by 1.8x, not 2x: Argon2 is bound by memory bandwidth.)
 * 32 MiB x 3 passes costs an attacker about 3.5 times the OWASP minimum
 * (19 MiB x 2) for every guess, while a burst of 100 logins with an empty
 * login cache (say after a restart) clears in about 5 s instead of 10, the
 * worker pool (shared with TLS handshakes and RSA) is held for ~80 ms per
 * login instead of ~165, and four pool threads hashing at once use 128 MiB
 * rather than 256. The cost is stored in each user.toml and a password
 * change keeps it, so this default applies to accounts created from now. */
const struct argon_params account_argon_default = {
	.memory_kib = 32 * 1024,
	.iterations = 3,
	.parallelism = 1,
};

#define BACKUP_PREFIX "config-backup-"
#define BACKUP_SUFFIX ".toml"
#define BACKUP_TIME_FORMAT "%Y%m%dT%H%M%SZ"
#define BACKUP_TRIES 100

static void set_error(char **error_r, char *msg)
{
	if (error_r)
		*error_r = msg;
	else
		free(msg);
}

int account_check_argon(const struct argon_params *p, const char **error_r)
{
	const char *why = NULL;

	if (p->parallelism < 1 || p->parallelism > ACCOUNT_ARGON_PARALLELISM_MAX)
		why = "Argon2 parallelism must be 1 to 16";
	else if (p->iterations < 1 || p->iterations > ACCOUNT_ARGON_ITERATIONS_MAX)
		why = "Argon2 iterations must be 1 to 64";
	else if (p->memory_kib < 8 * p->parallelism || p->memory_kib > ACCOUNT_ARGON_MEMORY_MAX)
		why = "Argon2 memory must be 8 KiB per lane to 1 GiB";
	if (why && error_r)
		*error_r = why;
	return why ? -EINVAL : 0;
}

static int check_password_text(const char *password)
{
	size_t len = password ? strnlen(password, ACCOUNT_PASSWORD_MAX + 1) : 0;
	return len == 0 || len > ACCOUNT_PASSWORD_MAX ? -EINVAL : 0;
}

/* verifier and intermediate of a password (account.h). */
static int derive_credentials(const struct argon_params *p, const char *password,
			      const uint8_t salt[ACCOUNT_SALT_LEN],
			      uint8_t verifier[ACCOUNT_HASH_LEN],
			      uint8_t intermediate[ACCOUNT_HASH_LEN])
{
	uint8_t argon[ACCOUNT_HASH_LEN];
	size_t len = password ? strnlen(password, ACCOUNT_PASSWORD_MAX + 1) : 0;

	if (!password || len > ACCOUNT_PASSWORD_MAX || account_check_argon(p, NULL) < 0)
		return -EINVAL;
	int r = argon2id_hash_raw(p->iterations, p->memory_kib, p->parallelism, password, len,
				  salt, ACCOUNT_SALT_LEN, argon, sizeof(argon));
	if (r != ARGON2_OK) {
		crypto_wipe(argon, sizeof(argon));
		return r == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EINVAL;
	}
	r = crypto_derive(argon, CRYPTO_LABEL_PASSWORD_VERIFIER, NULL, 0, verifier,
			  ACCOUNT_HASH_LEN);
	if (r == 0)
		r = crypto_derive(argon, CRYPTO_LABEL_MASTER_XOR, NULL, 0, intermediate,
				  ACCOUNT_HASH_LEN);
	crypto_wipe(argon, sizeof(argon));
	return r;
}

/* New salt, verifier and XOR in cfg for password, keeping master. */
static int set_password(struct account_config *cfg, const char *password,
			const uint8_t master[ACCOUNT_KEY_LEN])
{
	uint8_t intermediate[ACCOUNT_HASH_LEN];

	crypto_random(cfg->salt, sizeof(cfg->salt));
	int r = derive_credentials(&cfg->argon, password, cfg->salt, cfg->verifier, intermediate);
	for (size_t i = 0; r == 0 && i < ACCOUNT_KEY_LEN; i++)
		cfg->master_key_xor[i] = intermediate[i] ^ master[i];
	crypto_wipe(intermediate, sizeof(intermediate));
	return r;
}

static int check_password(const struct account_config *cfg, const char *password,
			  uint8_t master_r[ACCOUNT_KEY_LEN])
{
	uint8_t verifier[ACCOUNT_HASH_LEN], intermediate[ACCOUNT_HASH_LEN];

	memset(master_r, 0, ACCOUNT_KEY_LEN);
	int r = derive_credentials(&cfg->argon, password, cfg->salt, verifier, intermediate);
	if (r == 0 && !crypto_ct_equal(verifier, cfg->verifier, ACCOUNT_HASH_LEN))
		r = -EACCES;
	for (size_t i = 0; r == 0 && i < ACCOUNT_KEY_LEN; i++)
		master_r[i] = intermediate[i] ^ cfg->master_key_xor[i];
	crypto_wipe(verifier, sizeof(verifier));
	crypto_wipe(intermediate, sizeof(intermediate));
	return r;
}

/* The writers' lock: an exclusive flock on the user directory itself, which
 * no rename replaces. Returns the fd to pass to unlock_user, or an error. */
static int lock_user(const char *user_dir, char **error_r)
{
	int fd = open(user_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		int r = -errno;
		set_error(error_r, xasprintf("%s: %s", user_dir, strerror(-r)));
		return r;
	}
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int r = -errno;
			set_error(error_r, xasprintf("locking %s: %s", user_dir, strerror(-r)));
			close(fd);
			return r;
		}
	}
	return fd;
}

static void unlock_user(int fd)
{
	close(fd);	/* releases the flock */
}

/* Fills the new directory dir: subdirectories, user.toml, first key. */
static int build_user_dir(const char *dir, const char *password, const struct argon_params *p,
			  uint8_t master[ACCOUNT_KEY_LEN], char **error_r)
{
	static const char *const subdirs[] = { "keys", "messages", "backups", "tmp" };
	struct account_config cfg = { .argon = *p };
	char key_name[KEYS_NAME_MAX + 1];
	const char *why;
	int r = 0;

	for (size_t i = 0; r == 0 && i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		char *sub = xasprintf("%s/%s", dir, subdirs[i]);
		if (mkdir(sub, 0700) < 0) {
			r = -errno;
			set_error(error_r, xasprintf("mkdir %s: %s", sub, strerror(-r)));
		}
		free(sub);
	}
	if (r < 0)
		return r;
	crypto_random(master, ACCOUNT_KEY_LEN);
	cfg.internal_pattern = xstrdup(KEYS_DEFAULT_INTERNAL_PATTERN);
	cfg.external_pattern = xstrdup(KEYS_DEFAULT_EXTERNAL_PATTERN);
	cfg.smtp_out_save = xstrdup("");
	cfg.smtp_out_success_receipts = xstrdup("");
	cfg.smtp_out_failure_receipts = xstrdup("INBOX");
	r = set_password(&cfg, password, master);
	if (r < 0)
		set_error(error_r, xasprintf("%s: cannot hash the password", dir));
	if (r == 0)
		r = account_config_write(dir, &cfg, error_r);
	account_config_free(&cfg);
	if (r == 0 && keys_expand_pattern(KEYS_DEFAULT_EXTERNAL_PATTERN, time(NULL), key_name,
					  &why) < 0) {
		set_error(error_r, xasprintf("external key name: %s", why));
		r = -EINVAL;
	}
	if (r == 0)
		r = keys_generate_external(dir, master, key_name, error_r);
	if (r == 0 && (r = userdir_fsync_dir(dir)) < 0)
		set_error(error_r, xasprintf("fsync %s: %s", dir, strerror(-r)));
	return r;
}

static int check_create_args(const char *users_dir, const char *name, const char *password,
			     const struct argon_params *p, char **error_r)
{
	const char *why;
	struct stat st;

	if (userdir_check_name(name, &why) < 0) {
		set_error(error_r, xasprintf("invalid user name: %s", why));
		return -EINVAL;
	}
	if (check_password_text(password) < 0) {
		set_error(error_r, xasprintf("the password must be 1 to %d bytes",
					     ACCOUNT_PASSWORD_MAX));
		return -EINVAL;
	}
	if (account_check_argon(p, &why) < 0) {
		set_error(error_r, xstrdup(why));
		return -EINVAL;
	}
	char *path = xasprintf("%s/%s", users_dir, name);
	int r = lstat(path, &st) == 0 ? -EEXIST : (errno == ENOENT ? 0 : -errno);
	if (r == -EEXIST)
		set_error(error_r, xasprintf("user '%s' already exists", name));
	else if (r < 0)
		set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
	free(path);
	return r;
}

int account_create(const char *users_dir, const char *name, const char *password,
		   const struct argon_params *p, uint8_t master_r[ACCOUNT_KEY_LEN],
		   char **error_r)
{
	uint8_t master[ACCOUNT_KEY_LEN];

	if (!p)
		p = &account_argon_default;
	int r = check_create_args(users_dir, name, password, p, error_r);
	if (r < 0)
		return r;
	char *tmp = xasprintf("%s/.create-XXXXXX", users_dir);
	char *dst = xasprintf("%s/%s", users_dir, name);
	if (!mkdtemp(tmp)) {
		r = -errno;
		set_error(error_r, xasprintf("creating a directory in %s: %s", users_dir,
					     strerror(-r)));
		goto out;
	}
	r = build_user_dir(tmp, password, p, master, error_r);
	if (r == 0 && renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EEXIST || r == -ENOTEMPTY)
			set_error(error_r, xasprintf("user '%s' already exists", name));
		else
			set_error(error_r, xasprintf("renaming %s to %s: %s", tmp, dst,
						     strerror(-r)));
	}
	if (r < 0) {
		userdir_remove_tree(tmp);
		goto out;
	}
	if ((r = userdir_fsync_dir(users_dir)) < 0)
		set_error(error_r, xasprintf("fsync %s: %s", users_dir, strerror(-r)));
	else if (master_r)
		memcpy(master_r, master, ACCOUNT_KEY_LEN);
out:
	crypto_wipe(master, sizeof(master));
	free(tmp);
	free(dst);
	return r;
}

int account_login(const char *user_dir, const char *password, uint8_t master_r[ACCOUNT_KEY_LEN],
		  char **error_r)
{
	struct account_config cfg;

	memset(master_r, 0, ACCOUNT_KEY_LEN);
	int r = account_config_read(user_dir, &cfg, error_r);
	if (r < 0)
		return r;
	r = check_password(&cfg, password, master_r);
	if (r == -EACCES)
		set_error(error_r, xasprintf("%s: wrong password", user_dir));
	else if (r < 0)
		set_error(error_r, xasprintf("%s: cannot hash the password", user_dir));
	account_config_free(&cfg);
	return r;
}

/* Copies the old user.toml bytes to tmp/config-backup-<UTC time>.toml. */
static int write_backup(const char *user_dir, const char *data, size_t len, char **path_r,
			char **error_r)
{
	char stamp[32];
	struct tm tm;
	time_t now = time(NULL);
	char *tmp_dir = xasprintf("%s/tmp", user_dir);
	int r = -EEXIST;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), BACKUP_TIME_FORMAT, &tm);
	for (int i = 0; r == -EEXIST && i < BACKUP_TRIES; i++) {
		char *name = i == 0 ? xasprintf(BACKUP_PREFIX "%s" BACKUP_SUFFIX, stamp)
				    : xasprintf(BACKUP_PREFIX "%s-%d" BACKUP_SUFFIX, stamp, i);
		char *err = NULL;
		r = userdir_write_atomic(tmp_dir, tmp_dir, name, data, len, false, &err);
		if (r == 0)
			*path_r = xasprintf("%s/%s", tmp_dir, name);
		else if (r != -EEXIST || i == BACKUP_TRIES - 1)
			set_error(error_r, xasprintf("config backup: %s", err));
		free(err);
		free(name);
	}
	free(tmp_dir);
	return r;
}

int account_change_password(const char *user_dir, const char *old_password,
			    const char *new_password, char **backup_path_r, char **error_r)
{
	struct account_config cfg = { 0 };
	uint8_t master[ACCOUNT_KEY_LEN];
	char *path = xasprintf("%s/user.toml", user_dir), *data = NULL, *backup = NULL;
	size_t len = 0;

	if (backup_path_r)
		*backup_path_r = NULL;
	if (check_password_text(new_password) < 0) {
		set_error(error_r, xasprintf("the new password must be 1 to %d bytes",
					     ACCOUNT_PASSWORD_MAX));
		free(path);
		return -EINVAL;
	}
	int lock = lock_user(user_dir, error_r);
	int r = lock < 0 ? lock : userdir_read_file(path, ACCOUNT_CONFIG_MAX, &data, &len, error_r);
	if (r == 0)
		r = account_config_parse(path, data, len, &cfg, error_r);
	if (r == 0 && (r = check_password(&cfg, old_password, master)) < 0)
		set_error(error_r, xasprintf("%s: %s", user_dir,
					     r == -EACCES ? "wrong password"
							  : "cannot hash the password"));
	if (r == 0)
		r = write_backup(user_dir, data, len, &backup, error_r);
	if (r == 0 && (r = set_password(&cfg, new_password, master)) < 0)
		set_error(error_r, xasprintf("%s: cannot hash the password", user_dir));
	cfg.password_changed = time(NULL);
	if (r == 0)
		r = account_config_write(user_dir, &cfg, error_r);
	if (lock >= 0)
		unlock_user(lock);
	if (r == 0 && backup_path_r) {
		*backup_path_r = backup;
		backup = NULL;
	}
	crypto_wipe(master, sizeof(master));
	account_config_free(&cfg);
	if (data)
		crypto_wipe(data, len);
	free(data);
	free(backup);
	free(path);
	return r;
}

/* When a backup was made: the time in its name, else its mtime. */
static time_t backup_time(int dir_fd, const char *name)
{
	struct tm tm = { 0 };
	struct stat st;
	const char *end = strptime(name + strlen(BACKUP_PREFIX), BACKUP_TIME_FORMAT, &tm);

	if (end && (*end == '.' || *end == '-'))
		return timegm(&tm);
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return st.st_mtime;
	return (time_t)-1;
}

int account_prune_config_backups(const char *user_dir, time_t now, char **error_r)
{
	char *tmp_dir = xasprintf("%s/tmp", user_dir);
	DIR *d = opendir(tmp_dir);
	int removed = 0;
	struct dirent *e;

	if (!d) {
		int r = -errno;
		set_error(error_r, xasprintf("%s: %s", tmp_dir, strerror(-r)));
		free(tmp_dir);
		return r;
	}
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		if (strncmp(e->d_name, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) != 0 ||
		    len < strlen(BACKUP_PREFIX BACKUP_SUFFIX) ||
		    strcmp(e->d_name + len - strlen(BACKUP_SUFFIX), BACKUP_SUFFIX) != 0)
			continue;
		time_t made = backup_time(dirfd(d), e->d_name);
		if (made == (time_t)-1 || made >= now || now - made <= ACCOUNT_BACKUP_MAX_AGE)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	free(tmp_dir);
	return removed;
}

static int apply_setting(char **field, const char *value, bool pattern, char **error_r)
{
	const char *why = NULL;

	if (!value)
		return 0;
	if (pattern)
		keys_check_pattern(value, &why);
	else if (strnlen(value, ACCOUNT_MAILBOX_MAX + 1) > ACCOUNT_MAILBOX_MAX)
		why = "mailbox name too long";
	else if (!userdir_text_valid(value, strlen(value)))
		why = "mailbox name is not valid UTF-8 or has a control character";
	if (why) {
		set_error(error_r, xasprintf("'%s': %s", value, why));
		return -EINVAL;
	}
	free(*field);
	*field = xstrdup(value);
	return 0;
}

static int apply_settings(struct account_config *cfg, const struct account_settings *s,
			  char **error_r)
{
	int r = apply_setting(&cfg->internal_pattern, s->internal_pattern, true, error_r);
	if (r == 0)
		r = apply_setting(&cfg->external_pattern, s->external_pattern, true, error_r);
	if (r == 0)
		r = apply_setting(&cfg->smtp_out_save, s->smtp_out_save, false, error_r);
	if (r == 0)
		r = apply_setting(&cfg->smtp_out_success_receipts, s->smtp_out_success_receipts,
				  false, error_r);
	if (r == 0)
		r = apply_setting(&cfg->smtp_out_failure_receipts, s->smtp_out_failure_receipts,
				  false, error_r);
	return r;
}

int account_update_settings(const char *user_dir, const struct account_settings *s,
			    char **error_r)
{
	struct account_config cfg = { 0 };
	int lock = lock_user(user_dir, error_r);
	int r = lock < 0 ? lock : account_config_read(user_dir, &cfg, error_r);

	if (r == 0)
		r = apply_settings(&cfg, s, error_r);
	if (r == 0)
		r = account_config_write(user_dir, &cfg, error_r);
	if (lock >= 0)
		unlock_user(lock);
	account_config_free(&cfg);
	return r;
}

/* The master key is this directory's: it opens the published external
 * private key (sealed under a key derived from it, so a wrong master key
 * fails authentication). */
static int check_master(const char *user_dir, const uint8_t master[ACCOUNT_KEY_LEN],
			char **error_r)
{
	char name[KEYS_NAME_MAX + 1];
	mbedtls_pk_context pk;
	int r = keys_external_public(user_dir, &pk, name, error_r);

	if (r < 0)
		return r;
	mbedtls_pk_free(&pk);
	char *err = NULL;
	r = keys_load_private(user_dir, master, name, &pk, &err);
	if (r == 0) {
		mbedtls_pk_free(&pk);
	} else if (r == -EBADMSG) {
		r = -ESTALE;
		free(err);
		err = xasprintf("%s: the logged-in master key does not open key %s: the "
				"account changed while open",
				user_dir, name);
	}
	if (r < 0)
		set_error(error_r, err);
	return r;
}

int account_update(const char *user_dir, const struct account_settings *s,
		   const char *new_password, const uint8_t master[ACCOUNT_KEY_LEN],
		   char **backup_path_r, char **error_r)
{
	struct account_config cfg = { 0 };
	char *path = xasprintf("%s/user.toml", user_dir), *data = NULL, *backup = NULL;
	size_t len = 0;

	if (backup_path_r)
		*backup_path_r = NULL;
	if (new_password && (!master || check_password_text(new_password) < 0)) {
		set_error(error_r, xasprintf("the new password must be 1 to %d bytes",
					     ACCOUNT_PASSWORD_MAX));
		free(path);
		return -EINVAL;
	}
	int lock = lock_user(user_dir, error_r);
	int r = lock < 0 ? lock : userdir_read_file(path, ACCOUNT_CONFIG_MAX, &data, &len, error_r);
	if (r == 0)
		r = account_config_parse(path, data, len, &cfg, error_r);
	if (r == 0)
		r = apply_settings(&cfg, s, error_r);
	if (r == 0 && new_password)
		r = check_master(user_dir, master, error_r);
	if (r == 0)
		r = write_backup(user_dir, data, len, &backup, error_r);
	if (r == 0 && new_password) {
		if ((r = set_password(&cfg, new_password, master)) < 0)
			set_error(error_r, xasprintf("%s: cannot hash the password", user_dir));
		cfg.password_changed = time(NULL);
	}
	if (r == 0)
		r = account_config_write(user_dir, &cfg, error_r);
	if (lock >= 0)
		unlock_user(lock);
	if (r == 0 && backup_path_r) {
		*backup_path_r = backup;
		backup = NULL;
	}
	account_config_free(&cfg);
	if (data)
		crypto_wipe(data, len);
	free(data);
	free(backup);
	free(path);
	return r;
}
