/* The store: what the protocols see of a user's encrypted mail (DESIGN.md
 * sections 4 and 7; manual "Backups and Recovery", "Understanding the
 * Filesystem", "Password Resets"). It ties together the account and keys
 * (account.h, keys.h), the message files (msgfile.h), the metadata
 * database (meta.h) and the deliveries made without the password
 * (delivery.h), on the coroutine runtime (coro.h).
 *
 * Objects.
 * - struct store: one per daemon. The users directory, settings, a
 *   process-random secret for the login cache, and the registry of open
 *   users. Made with store_new(), ended with store_shutdown().
 * - struct store_user: one per logged-in user, found by the resolved user
 *   directory (so aliases share it), shared by every session of that user
 *   and counted: store_login() takes a reference, store_logout() drops it.
 *   It holds the master key (wiped when the user is closed), the meta.sqlite
 *   handle, the RSA private keys loaded so far, a change counter and an
 *   event. When the last session leaves, the user stays open for the login
 *   cache lifetime (default 5 minutes), then is closed: meta.sqlite closed,
 *   keys freed, master key wiped.
 *
 * Threads and blocking. Every function here runs on the loop thread, and
 * every function that can block must be called from a coroutine (marked
 * "coroutine" below); they yield while the work runs on the worker pool
 * (coro_await_work): Argon2, RSA, fsync, SQLite transactions that write,
 * and queries that may scan many rows. Tiny reads run on the loop. All
 * metadata calls of one user are serialised by a FIFO lock of the
 * store_user, held across the pool work, so a user's operations happen one
 * at a time in the order they were asked; different users run in parallel.
 * Lock waits cannot be cancelled or interrupted (like coro_await_work,
 * they are bounded by the work ahead in the queue).
 *
 * Change notification. Every operation that changes a user's mail (a
 * delivery taken in, APPEND, flags, EXPUNGE, COPY, MOVE, mailbox changes)
 * increments the user's change counter and wakes every coroutine waiting in
 * store_wait_change(), at once: an IMAP IDLE of any session of that user
 * learns of it within a loop turn, then asks meta for what changed.
 *
 * Errors: 0 or a positive count on success, else a negative errno code.
 * Temporary failures, worth retrying later (IMAP NO [UNAVAILABLE], SMTP
 * 4xx), are those for which store_error_is_temporary() is true:
 *   -EAGAIN -EBUSY -EINTR -ETIMEDOUT -ENOSPC -EDQUOT -ENOMEM -EMFILE
 *   -ENFILE -EIO -EROFS -ENOKEY -EUCLEAN, and -ECANCELED (the store is
 *   shutting down)
 * Everything else is permanent for that request:
 *   -EACCES     login refused (unknown user, disabled user, wrong password:
 *               indistinguishable, all cost one Argon2 run)
 *   -ENOENT     no such mailbox, message or UID ([NONEXISTENT], [TRYCREATE])
 *   -EEXIST, -EINVAL, -EPERM, -ENOTEMPTY, -EOVERFLOW  as meta.h says
 *   -EFBIG      a message over the size limit
 *   -EBADMSG    damaged data: a message file or database page that fails
 *               authentication; never wrong bytes
 *   -EPROTONOSUPPORT  data written by a newer sealmail
 * Functions with "const char **error_r" set it on failure to a static
 * string without user data (metadata calls pass meta's through); those with
 * "char **error_r" set a heap string for the log that the caller frees
 * (it may name files, never a password or message content). error_r may be
 * NULL.
 */
#ifndef SEAL_STORAGE_STORE_H
#define SEAL_STORAGE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "storage/delivery.h"
#include "storage/meta.h"

#define STORE_LOGIN_CACHE_DEFAULT_MS (5 * 60 * 1000)
#define STORE_MAINTENANCE_INTERVAL (24 * 60 * 60)	/* seconds between full passes */
#define STORE_BACKUPS_KEPT 7		/* newest meta.sqlite backups kept */
#define STORE_TMP_MAX_AGE (24 * 60 * 60)	/* seconds before tmp/ files are stale */
#define STORE_MAINTENANCE_MARKER "maintenance-run"	/* in the user directory */
#define STORE_BACKUP_DIR "backups"

struct store;
struct store_user;

struct store_settings {
	/* How long a user stays open after its last session left, so a
	 * reconnecting client logs in without Argon2. 0 closes at once (at
	 * the next loop turn). */
	uint32_t login_cache_ms;
	/* Skip the external key rotation at login (tests, benchmarks). */
	bool no_key_rotation;
	/* Skip the daily maintenance at login (benchmarks); store_maintenance()
	 * still runs it when asked. Recovery after a lost meta.sqlite is part
	 * of maintenance and is skipped too. */
	bool no_maintenance;
	/* Wall clock in seconds for maintenance, purging, backup names and
	 * metadata times (meta_set_clock); NULL for time(2). Tests inject
	 * time here. */
	int64_t (*clock)(void *ctx);
	void *clock_ctx;
};

/* store_settings with the defaults above. */
void store_settings_default(struct store_settings *s);

/* Changes login_cache_ms of a running store (configuration reload); users
 * already waiting keep the deadline they have. */
void store_set_login_cache_ms(struct store *st, uint32_t ms);

/* Makes the store for users_dir (ROOT/users) with settings s (NULL:
 * defaults; copied). Spawns the store's reaper coroutine, so the coro
 * runtime must be initialised. Returns 0 and *store_r. */
int store_new(const char *users_dir, const struct store_settings *s, struct store **store_r);

/* Coroutine. Closes every user (sessions must have logged out; a pointer
 * to a store_user is invalid afterwards), waits for background work (key
 * rotation: up to seconds of RSA key generation), frees the store and sets
 * *store to NULL. */
void store_shutdown(struct store **store);

/* Coroutine. Closes at once every user that has no session left, without
 * waiting for the cache lifetime. Returns how many were closed. For tests,
 * and for an administrator who moves user directories. */
int store_close_idle(struct store *store);

struct store_stats {
	uint64_t argon_runs;	/* password hashes computed by logins */
	uint64_t cache_hits;	/* logins that reused a cached master key */
	uint64_t imported;	/* delivered messages taken in */
	uint64_t recovered;	/* orphan files brought into INBOX */
	uint64_t users_open;	/* store_users open now */
	uint64_t renumbered;	/* MODSEQs renewed after a power failure */
};
void store_get_stats(const struct store *store, struct store_stats *st);

/* The store's clock (seconds). */
int64_t store_now(const struct store *store);

/* True for the codes listed above as temporary. */
bool store_error_is_temporary(int err);

/* --- Login ----------------------------------------------------------- */

/* Coroutine. Logs user name in with password and returns a reference in
 * *user_r. When the user is already open (a session, or the cache
 * lifetime not yet over) and the keyed hash of (directory, password)
 * matches the one stored at the last successful login, and user.toml has
 * not changed since, the cached master key is reused without Argon2;
 * otherwise account_login() runs on the pool. Then, on the first login,
 * meta.sqlite is opened (created with the default mailboxes when missing);
 * and on every login pending deliveries are taken in, the daily
 * maintenance runs when due, and the external key is rotated in the
 * background when due. A failure of these later steps does not fail the
 * login (the mail is safe, the next login retries). Returns 0, -EACCES
 * (unknown or disabled user, wrong password: one Argon2 run each, an
 * unknown user's at the default cost), -EAGAIN (meta.sqlite was replaced
 * while sessions still use the old one: store_user_stale()), or another
 * code (a broken user.toml, a damaged or newer meta.sqlite, I/O). */
int store_login(struct store *store, const char *name, const char *password,
		struct store_user **user_r, char **error_r);

/* Drops the session's reference; *user becomes NULL. Does not block: the
 * user is closed later by the reaper. NULL is fine. */
void store_logout(struct store_user **user);

/* Coroutine. Changes the password (account_change_password: verifies old,
 * writes tmp/config-backup-*.toml, replaces user.toml); the login cache
 * then knows only the new password. *backup_path_r (may be NULL) as in
 * account.h. -EACCES for a wrong old password. */
int store_change_password(struct store_user *user, const char *old_password,
			  const char *new_password, char **backup_path_r, char **error_r);

/* --- User settings (IMAP XCRY GET-USER-CONFIG / SET-USER-CONFIG) ------- */

/* user.toml's settings (account.h); strings are heap copies. */
struct store_user_config {
	char *internal_pattern, *external_pattern;
	int64_t password_changed;	/* UTC seconds; 0: never changed */
	char *smtp_out_save;		/* "" for none */
	char *smtp_out_success_receipts;	/* "" for none */
	char *smtp_out_failure_receipts;	/* "INBOX" by default */
};
void store_user_config_free(struct store_user_config *cfg);

/* Coroutine. Reads the user's settings (user.toml, on the pool). */
int store_user_config_get(struct store_user *user, struct store_user_config *cfg_r,
			  char **error_r);

/* Coroutine. Applies the non-NULL fields of s and, if new_password is not
 * NULL, changes the password without the old one, from the master key held
 * since login (account_update: a backup of user.toml first, Argon2 on the
 * pool, under the user's lock). The login cache then knows only
 * new_password; after a change of settings alone it knows no password
 * (user.toml changed), so the next login pays one Argon2 run. Codes of
 * account_update: -EINVAL bad value, -ESTALE the directory holds another
 * account now, I/O codes. *backup_path_r (may be NULL) gets the backup's
 * path (heap; the caller frees). */
struct account_settings;
int store_user_config_set(struct store_user *user, const struct account_settings *s,
			  const char *new_password, char **backup_path_r, char **error_r);

/* The canonical user directory (valid while the reference is held). */
const char *store_user_dir(const struct store_user *user);

/* True once meta.sqlite was removed or replaced (by an administrator
 * restoring a backup, manual: Backups and Recovery) while the user was
 * open: the sessions still using the old handle should end (IMAP BYE).
 * New logins wait for them (-EAGAIN) and then open the new database,
 * recovering every message into it when it was removed. Deliveries are
 * not taken in meanwhile; they stay pending. */
bool store_user_stale(struct store_user *user);

/* --- Change notification --------------------------------------------- */

/* The user's change counter: it grows with every change. */
uint64_t store_change_seq(const struct store_user *user);

/* Coroutine. Waits until the change counter differs from *seen, then sets
 * *seen to it and returns 0; returns at once when it already differs.
 * -ETIMEDOUT at the deadline, -EINTR (coro_interrupt), -ECANCELED. */
int store_wait_change(struct store_user *user, uint64_t *seen, int64_t deadline);

/* --- Deliveries ------------------------------------------------------ */

/* Coroutine. A delivery to user_name was committed (by `sealmail deliver`
 * through the admin socket, or in-process): if the user is open, takes in
 * its pending deliveries now (one RSA unwrap per message, then never
 * again) and notifies its sessions; otherwise does nothing, the next login
 * will. Returns how many messages were taken in, or a negative code (the
 * messages stay pending; the caller only logs it). */
int store_deliveries_arrived(struct store *store, const char *user_name);

/* In-process delivery for SMTP and LMTP: delivery_begin, _write and
 * _commit (delivery.h, same options and codes) run on the worker pool,
 * then store_deliveries_arrived(). Coroutine, all four. Once
 * store_deliver_commit() returned 0 the message is durable and may be
 * acknowledged, whatever happened to the import that follows it. Writes
 * are buffered (64 KiB) before going to the pool. commit and abort free
 * *d and set it to NULL. */
struct store_delivery;
int store_deliver_begin(struct store *store, const char *user_name,
			const struct delivery_opts *opts, struct store_delivery **d_r,
			char **error_r);
int store_deliver_write(struct store_delivery *d, const void *data, size_t len);
int store_deliver_commit(struct store_delivery **d, char **error_r);
void store_deliver_abort(struct store_delivery **d);

/* --- Reading ----------------------------------------------------------- */

struct store_message;

struct store_message_info {
	uint64_t size;		/* bytes store_message_read() gives */
	int64_t internal_date;
	int internal_tz;
	uint32_t flags;		/* META_FLAG_ */
	char **keywords;	/* n_keywords names, owned by the message */
	size_t n_keywords;
	char email_id[META_OID_MAX + 1];
	int64_t message_id;	/* meta.h's id of the message (copies share it) */
	bool header_cached;	/* meta.sqlite's header cache has its header */
	bool stub;		/* the file is missing: the body is a notice */
	bool expunged;		/* read through the expunge log (24 hours) */
};

/* Coroutine. Opens the message at (mailbox, uid) (a live instance, or one
 * expunged less than 24 hours ago whose file is not yet purged: the
 * caller decides whether its session may still see it). The content key
 * comes from meta.sqlite (no RSA), the file's header and trailer are
 * authenticated, and messages up to 64 KiB are read whole at once.
 * A message whose file is missing opens as a stub: a short RFC 5322
 * message saying so and what to do (info.stub). Returns 0 and *msg_r,
 * -ENOENT (no such message), -EBADMSG (the file fails authentication, or
 * its key is damaged: that message only), or another code. */
int store_message_open(struct store_user *user, int64_t mailbox, uint32_t uid,
		       struct store_message **msg_r, const char **error_r);

const struct store_message_info *store_message_info(const struct store_message *msg);

/* Coroutine (it does not yield when the range is already in memory).
 * Copies up to len bytes of the message from offset into buf and returns
 * how many: fewer than len is normal (callers loop), 0 at or past the
 * end; or -EBADMSG when a chunk the range touches fails authentication
 * (buf then holds nothing valid). Memory stays bounded whatever the size:
 * reads under 64 KiB are served from a 64 KiB window of plaintext (one
 * trip to the pool per window), larger ones decrypt at most STORE_READ_MAX
 * bytes per call straight into buf. */
#define STORE_READ_MAX (1024 * 1024)
ssize_t store_message_read(struct store_message *msg, uint64_t offset, void *buf, size_t len);

/* Closes the file and frees; *msg becomes NULL. Call before the session
 * logs out. NULL is fine. */
void store_message_close(struct store_message **msg);

/* --- Appending (IMAP APPEND; later, saved sent mail) ------------------- */

struct store_append;

struct store_append_opts {
	uint32_t flags;			/* META_FLAG_ */
	const char *const *keywords;
	size_t n_keywords;
	int64_t internal_date;		/* 0: now */
	int internal_tz;		/* minutes, -1439..1439 */
};

/* Coroutine, all four. begin checks that mailbox is a selectable mailbox
 * (-ENOENT: [TRYCREATE]) and starts an encrypted temporary file in tmp/
 * under a fresh content key, wrapped with the user's current internal key
 * (MSGFILE_WRAP_SYMMETRIC, the key's name in the header; never RSA).
 * write streams the body (buffered, 64 KiB per trip to the pool; -EFBIG
 * past MSGFILE_MAX_SIZE). commit finishes and fsyncs the file, renames it
 * into messages/, records it in meta.sqlite with the flags and date, and
 * only then returns 0 with the UID and UIDVALIDITY (APPENDUID) in *res_r
 * (may be NULL); on failure nothing is left behind. commit and abort free
 * *a and set it to NULL. */
int store_append_begin(struct store_user *user, const char *mailbox,
		       const struct store_append_opts *opts, struct store_append **a_r,
		       const char **error_r);
int store_append_write(struct store_append *a, const void *data, size_t len);
int store_append_commit(struct store_append **a, struct meta_appended *res_r,
			const char **error_r);
void store_append_abort(struct store_append **a);

/* Coroutine. MULTIAPPEND stages several messages: finish ends and fsyncs
 * one file and releases its buffer and descriptor (no more writes), so a
 * staged message costs only its name; returns 0 or the first error of its
 * writes. commit_all commits n appends of one user at once, all or nothing:
 * every file into messages/, then every record in one meta.sqlite
 * transaction; res_r (may be NULL) gets n results in order. It frees every
 * as[i], whatever the outcome. commit is commit_all of one. */
int store_append_finish(struct store_append *a);
int store_append_commit_all(struct store_append **as, size_t n, struct meta_appended *res_r,
			    const char **error_r);

/* --- Metadata operations ---------------------------------------------- */

/* Coroutine, each of them: the meta.h call of the same name under the
 * user's lock (writes and scans on the pool), then a change notification
 * when something may have changed. Arguments, results, ownership and codes
 * are meta.h's. */
int store_list(struct store_user *user, bool subscribed_too, struct meta_mailbox_list *list_r,
	       const char **error_r);
int store_create(struct store_user *user, const char *name, const char *special_use,
		 int64_t *id_r, const char **error_r);
int store_delete(struct store_user *user, const char *name, const char **error_r);
int store_rename(struct store_user *user, const char *from, const char *to,
		 const char **error_r);
int store_subscribe(struct store_user *user, const char *name, const char **error_r);
int store_unsubscribe(struct store_user *user, const char *name, const char **error_r);
int store_mailbox_find(struct store_user *user, const char *name, int64_t *id_r,
		       const char **error_r);
int store_status(struct store_user *user, const char *name, int64_t id,
		 struct meta_status *st_r, const char **error_r);
int store_snapshot(struct store_user *user, const char *name, struct meta_snapshot *snap_r,
		   const char **error_r);
int store_changes(struct store_user *user, int64_t mailbox, uint64_t since,
		  struct meta_changes *ch_r, const char **error_r);
int store_claim_recent(struct store_user *user, int64_t mailbox, uint32_t *first_r,
		       uint32_t *last_r, const char **error_r);
int store_flags(struct store_user *user, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, struct meta_msgs *list_r, const char **error_r);
int store_fetch(struct store_user *user, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, struct meta_fetch_list *list_r, const char **error_r);
int store_store(struct store_user *user, int64_t mailbox, const struct meta_uid_range *set,
		size_t n_set, const struct meta_store_req *req, struct meta_store_result *res_r,
		const char **error_r);
int store_copy(struct store_user *user, int64_t src, const struct meta_uid_range *set,
	       size_t n_set, int64_t dst, struct meta_copy_result *res_r, const char **error_r);
int store_move(struct store_user *user, int64_t src, const struct meta_uid_range *set,
	       size_t n_set, int64_t dst, struct meta_copy_result *res_r, const char **error_r);
int store_expunge(struct store_user *user, int64_t mailbox, const struct meta_uid_range *set,
		  size_t n_set, uint32_t flags, struct meta_uids *uids_r, uint64_t *modseq_r,
		  const char **error_r);

/* Coroutine. The header cache (meta_headers, meta_headers_put): a window
 * of cached header blocks of mailbox, read on the pool under the user's
 * lock; and the blocks a FETCH read from message files, stored in one
 * transaction that notifies no one (nothing a client sees changed). */
int store_headers(struct store_user *user, int64_t mailbox, uint32_t lo, uint32_t hi,
		  size_t max_n, size_t max_bytes, bool with_data, struct meta_header_list *list_r,
		  const char **error_r);
int store_headers_put(struct store_user *user, const struct meta_header_put *v, size_t n,
		      const char **error_r);

/* Coroutine. IMAP XCRY PURGE: removes now, whatever their age, the files
 * of the messages expunged from mailbox that no mailbox holds any more
 * (meta_purgeable_mailbox), so even sessions that have not seen the
 * expunge can no longer read them. Returns how many messages were purged. */
int store_purge(struct store_user *user, int64_t mailbox, const char **error_r);

/* The name of keyword id (meta_keyword_name) as a heap copy in *name_r.
 * -ENOENT when there is no such keyword. */
int store_keyword_name(struct store_user *user, uint32_t id, char **name_r);

/* --- Maintenance ------------------------------------------------------ */

/* Coroutine. One full maintenance pass now (store_login runs it when the
 * marker file STORE_MAINTENANCE_MARKER is missing or its mtime is
 * STORE_MAINTENANCE_INTERVAL old), under the user's lock:
 *   1. an atomic backup of meta.sqlite into backups/ (meta_backup), the
 *      newest STORE_BACKUPS_KEPT kept;
 *   2. orphans: files under messages/ that neither meta.sqlite nor
 *      delivery.sqlite knows, older than DELIVERY_ORPHAN_GRACE (any age
 *      when the marker was missing: meta.sqlite was just created, or an
 *      administrator asked for a full pass), go into INBOX without flags;
 *   3. instances whose file is missing are marked so (they read as
 *      stubs), and unmarked when the file is back;
 *   4. messages recorded but never placed (meta_unplaced) go into INBOX;
 *   5. expunged messages whose last instance went away 24 hours ago are
 *      purged: meta_purgeable, unlink, meta_forget, in that order;
 *   6. stale tmp/ files (STORE_TMP_MAX_AGE) are removed, and config
 *      backups pruned (account_prune_config_backups);
 *   7. the marker's mtime is set to now.
 * Every step runs even when an earlier one failed; returns 0 or the first
 * error. */
int store_maintenance(struct store_user *user, char **error_r);

#endif
