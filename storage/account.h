/* Accounts: the user data directory, user.toml, and the credentials that
 * turn a password into the user's master key (DESIGN.md section 4; manual
 * "How Crymap Encryption Works", "Password Resets").
 *
 * User directory (created by account_create, mode 0700):
 *   user.toml   settings and the credentials below (format: see the end)
 *   keys/       RSA key pairs and external.current (keys.h)
 *   messages/   message files (msgfile.h)
 *   backups/    database backups (maintenance)
 *   tmp/        temporary files (*.tmp-XXXXXX), config-backup-*.toml
 * The metadata databases and default mailboxes are made later by others.
 *
 * Credentials:
 *   argon  = Argon2id(password, salt, memory_kib, iterations, parallelism),
 *            32 bytes, salt 16 random bytes per password
 *   verifier         = HKDF(argon, CRYPTO_LABEL_PASSWORD_VERIFIER)  (stored)
 *   intermediate     = HKDF(argon, CRYPTO_LABEL_MASTER_XOR)
 *   master key       = intermediate XOR master_key_xor              (stored)
 * The master key is random at creation and never changes: a password
 * change stores a new salt, verifier and XOR only, so every key derived
 * from the master key, and so every message, stays readable. Every
 * intermediate value is wiped before returning.
 *
 * Cost: Argon2 and RSA key generation take tens of milliseconds to seconds.
 * Every function here is synchronous and blocks on the file system; run
 * them on the worker pool (coro_await_work). They are reentrant and may run
 * on several worker threads at once, for the same user too: functions that
 * rewrite user.toml hold an exclusive flock(2) on the user directory while
 * they read, check and write it.
 *
 * Errors: 0 on success or a negative errno code. Every char **error_r gets,
 * on failure, a heap string for the log naming the file (and line, for
 * user.toml syntax) that the caller frees; error_r may be NULL. The text
 * never contains a password or key. Codes:
 *   -EACCES   wrong password (login, password change)
 *   -EINVAL   invalid argument (name, password, parameters, pattern), or a
 *             user.toml that is malformed, has unknown keys or bad values
 *   -EEXIST   account_create: the user already exists
 *   -ENOENT   a missing file or directory
 *   -EFBIG    user.toml larger than ACCOUNT_CONFIG_MAX
 *   others    file system errors (-EIO, -ENOSPC, ...), temporary
 */
#ifndef SEAL_STORAGE_ACCOUNT_H
#define SEAL_STORAGE_ACCOUNT_H

#include <stdint.h>
#include <time.h>

struct buf;

#define ACCOUNT_KEY_LEN 32		/* the master key */
#define ACCOUNT_SALT_LEN 16
#define ACCOUNT_HASH_LEN 32		/* verifier and master_key_xor */
#define ACCOUNT_PASSWORD_MAX 1024	/* bytes */
#define ACCOUNT_CONFIG_MAX (64 * 1024)	/* bytes of user.toml */
#define ACCOUNT_MAILBOX_MAX 1024	/* bytes of an [smtp_out] mailbox name */
#define ACCOUNT_BACKUP_MAX_AGE (24 * 60 * 60)	/* seconds */

/* Argon2id cost. Bounds accepted anywhere (arguments and user.toml):
 * memory_kib 8 * parallelism .. 1 GiB, iterations 1..64,
 * parallelism 1..16. */
struct argon_params {
	uint32_t memory_kib;
	uint32_t iterations;
	uint32_t parallelism;
};

#define ACCOUNT_ARGON_MEMORY_MAX (1024 * 1024)
#define ACCOUNT_ARGON_ITERATIONS_MAX 64
#define ACCOUNT_ARGON_PARALLELISM_MAX 16

/* The default cost for new passwords; see account.c for the measurements
 * behind it. */
extern const struct argon_params account_argon_default;

/* Returns 0 when p is within the bounds above, else -EINVAL with a static
 * reason in *error_r (if not NULL). */
int account_check_argon(const struct argon_params *p, const char **error_r);

/* The parsed user.toml. Strings are heap copies owned by the struct. */
struct account_config {
	struct argon_params argon;
	uint8_t salt[ACCOUNT_SALT_LEN];
	uint8_t verifier[ACCOUNT_HASH_LEN];
	uint8_t master_key_xor[ACCOUNT_HASH_LEN];
	char *internal_pattern;		/* keys.h patterns, validated */
	char *external_pattern;
	/* [smtp_out] mailbox names, "" for none (manual: SMTP-OUT-SAVE etc.) */
	char *smtp_out_save;		/* default "": no implicit save */
	char *smtp_out_success_receipts;	/* default "": discarded */
	char *smtp_out_failure_receipts;	/* default "INBOX" */
	/* When the password was last changed (UTC seconds), 0 if never. */
	int64_t password_changed;
};

/* Settings a user may change; NULL leaves a field as it is, "" clears a
 * mailbox. Patterns are checked with keys_check_pattern(); mailbox names
 * must be valid UTF-8 without control characters, at most
 * ACCOUNT_MAILBOX_MAX bytes. */
struct account_settings {
	const char *internal_pattern;
	const char *external_pattern;
	const char *smtp_out_save;
	const char *smtp_out_success_receipts;
	const char *smtp_out_failure_receipts;
};

/* Creates user name under users_dir with password (1..ACCOUNT_PASSWORD_MAX
 * bytes, no NUL) and Argon2id cost p (NULL: account_argon_default): checks
 * the name (userdir_check_name), builds the whole directory under a
 * temporary name ".create-XXXXXX" in users_dir (never a valid user name),
 * writes user.toml with a random master key, generates the first external
 * RSA key pair for the current month (seconds of CPU: see keys.h), then
 * renames it into place without replacing anything. An existing name fails
 * with -EEXIST, checked before the costly work and again at the rename. On
 * failure nothing is left behind. If master_r is not NULL it receives the
 * master key (the caller wipes it), sparing a login right after. */
int account_create(const char *users_dir, const char *name, const char *password,
		   const struct argon_params *p, uint8_t master_r[ACCOUNT_KEY_LEN],
		   char **error_r);

/* Checks password against user_dir/user.toml and on success writes the
 * master key to master_r (the caller keeps it in wiped memory). Returns 0,
 * -EACCES for a wrong password (master_r is then zeroed), or another code
 * for a missing or broken user.toml. */
int account_login(const char *user_dir, const char *password, uint8_t master_r[ACCOUNT_KEY_LEN],
		  char **error_r);

/* Changes the password: verifies old_password (-EACCES when wrong), copies
 * the current user.toml byte for byte to
 * tmp/config-backup-YYYYMMDDTHHMMSSZ[-N].toml (UTC, fsynced; -N added when
 * that second already has one), then replaces user.toml atomically with a
 * new salt, verifier and master_key_xor for new_password under the same
 * Argon2 parameters and master key, and the time of the change
 * (password_changed). Putting the backup back in place of user.toml
 * restores the old password. If backup_path_r is not NULL it gets the
 * backup's path (heap; the caller frees). */
int account_change_password(const char *user_dir, const char *old_password,
			    const char *new_password, char **backup_path_r, char **error_r);

/* Removes tmp/config-backup-*.toml files made more than
 * ACCOUNT_BACKUP_MAX_AGE seconds before now (the time in the name; the
 * file's mtime when the name has none). Returns how many were removed, or a
 * negative code when tmp/ cannot be read. For maintenance. */
int account_prune_config_backups(const char *user_dir, time_t now, char **error_r);

/* Reads and checks user_dir/user.toml. On success the caller frees *cfg_r
 * with account_config_free(). On failure *cfg_r is empty. */
int account_config_read(const char *user_dir, struct account_config *cfg_r, char **error_r);

/* Parses a user.toml held in data[0..len); name is used in error messages
 * ("PATH:LINE: ..."). Every key shown below is required but the one marked
 * optional, so a truncated file is an error, and unknown keys and tables are errors; version must be
 * 1. Every value is checked and bounded; base64 values must decode to
 * exactly their length. The values shown are the defaults account_create
 * writes. */
int account_config_parse(const char *name, const char *data, size_t len,
			 struct account_config *cfg_r, char **error_r);

/* Appends cfg as user.toml text to out. Returns 0 or -EMSGSIZE. */
int account_config_format(const struct account_config *cfg, struct buf *out);

/* Replaces user_dir/user.toml with cfg atomically and durably (temporary
 * file in tmp/, fsync, rename, fsync of user_dir). Callers that read first
 * must hold the lock, as account_update_settings does. */
int account_config_write(const char *user_dir, const struct account_config *cfg,
			 char **error_r);

/* Applies the non-NULL fields of s to user.toml (read, check, write under
 * the lock). No password is needed: nothing secret changes. */
int account_update_settings(const char *user_dir, const struct account_settings *s,
			    char **error_r);

/* What a logged-in user changes in one go (IMAP XCRY SET-USER-CONFIG): the
 * non-NULL settings of s, as account_update_settings, and, when
 * new_password is not NULL, the password, set from the master key the
 * caller holds instead of the old password. The master key must open the
 * published external private key (keys.h); otherwise nothing is written and
 * the result is -ESTALE: user.toml belongs to another account (a user
 * directory swapped while its user was open). Under the lock it checks
 * every value, copies user.toml byte for byte to a backup named as
 * account_change_password names it, then replaces user.toml. Every call
 * makes a backup, so any change can be undone by putting it back.
 * *backup_path_r (may be NULL) gets the backup's path (heap; the caller
 * frees). With a password: one Argon2 run and one private key load. */
int account_update(const char *user_dir, const struct account_settings *s,
		   const char *new_password, const uint8_t master[ACCOUNT_KEY_LEN],
		   char **backup_path_r, char **error_r);

/* Wipes the binary fields, frees the strings and leaves cfg empty. */
void account_config_free(struct account_config *cfg);

/* user.toml, as account_config_format writes it:
 *
 *   # sealmail user configuration ...
 *   version = 1
 *
 *   [credentials]
 *   algorithm = "argon2id"
 *   memory_kib = 32768
 *   iterations = 3
 *   parallelism = 1
 *   salt = "<base64, 16 bytes>"
 *   verifier = "<base64, 32 bytes>"
 *   master_key_xor = "<base64, 32 bytes>"
 *   password_changed = "2026-11-23T10:00:00Z"    (optional: once changed)
 *
 *   [keys]
 *   internal_pattern = "internal-%Y-%m"
 *   external_pattern = "external-%Y-%m"
 *
 *   [smtp_out]
 *   save_mailbox = ""
 *   success_receipts = ""
 *   failure_receipts = "INBOX"
 */

#endif
