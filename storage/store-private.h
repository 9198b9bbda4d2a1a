/* Internals shared by storage/store*.c: the store and user structs, the
 * per-user FIFO lock, pool helpers, key handling and file names. */
#ifndef SEAL_STORAGE_STORE_PRIVATE_H
#define SEAL_STORAGE_STORE_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <mbedtls/pk.h>

#include "coro/coro.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/meta.h"
#include "storage/msgfile.h"
#include "storage/store.h"

#define STORE_SECRET_LEN 32
#define STORE_TAG_LEN 32
/* Meta file name of a message: "XX/" then 30 hex digits, as delivery.h
 * places files (messages/XX/REST). */
#define STORE_FILE_LEN (DELIVERY_FILE_NAME_LEN + 1)
/* crypto_wrap_key purposes. The meta.sqlite copy of a message key is bound
 * to its file name; the header wrap of an appended file to its key name. */
#define STORE_META_KEY_PURPOSE "sealmail v1 message key "
#define STORE_INTERNAL_WRAP_PURPOSE "sealmail v1 internal message key"
#define STORE_BATCH 32		/* messages per metadata transaction */
/* Pool jobs of one import in flight at once. Each lane has its own copy of
 * the user's private keys: mbedTLS holds an RSA context's mutex for a whole
 * private operation, so one context serialises the unwraps. */
#define STORE_LANES 4

/* A FIFO lock for coroutines: waiters park (not interruptible, not
 * cancellable) and the lock is handed to the first of them on unlock. */
struct store__waiter {
	struct store__waiter *next;
	struct coro *c;
};

struct store__lock {
	bool held;
	struct store__waiter *head, *tail;
};

void store__lock(struct store__lock *l);
void store__unlock(struct store__lock *l);

/* Runs fn(arg) on the worker pool and returns its result (or the pool's
 * start-up error). */
int store__pool(int (*fn)(void *arg), void *arg);
/* The same for a job that keeps a CPU busy (Argon2, RSA): see
 * coro_await_cpu_work(). */
int store__pool_cpu(int (*fn)(void *arg), void *arg);

/* Runs fn(arg, i, lane) on the pool for every i in [0, n), at most
 * STORE_LANES at once and within the pool's CPU slots (the jobs unwrap
 * RSA keys), each with a lane number no other job in flight has; res[i]
 * gets each result. Returns when all are done. */
void store__pool_lanes(int (*fn)(void *arg, size_t i, unsigned lane), void *arg, size_t n,
		       int *res);

enum store__state {
	STORE__NEW,	/* registered, not yet opened by a login */
	STORE__OPEN,	/* master key and meta handle held */
	STORE__CLOSING,	/* meta.sqlite being closed; then unregistered, freed */
};

struct store__key {
	char name[KEYS_NAME_MAX + 1];
	mbedtls_pk_context pk;
};

/* What identifies a version of user.toml: a login cache entry is valid for
 * the file it was made with only (a restored backup brings back its own
 * password). */
struct store__cfg_id {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns, ctime_ns;
};

struct store_user {
	struct store *store;
	struct store_user *next;	/* registry */
	char *dir;
	unsigned refs;			/* sessions and operations in flight */
	enum store__state state;
	/* meta.sqlite was removed or replaced under the open handle: logins
	 * wait until the last session left and the handle is closed */
	bool stale;
	dev_t db_dev;			/* the meta.sqlite the handle has open */
	ino_t db_ino;
	int64_t idle_deadline;		/* loop ms; meaningful when refs == 0 */
	uint8_t master[CRYPTO_KEY_LEN];
	uint8_t kek[CRYPTO_KEY_LEN];	/* wraps message keys in meta.sqlite */
	uint8_t tag[STORE_TAG_LEN];	/* login cache: HMAC(secret, dir, password) */
	bool tag_valid;
	struct store__cfg_id cfg;
	struct meta *meta;
	struct store__key *keys[STORE_LANES];	/* private keys loaded so far */
	size_t n_keys[STORE_LANES];
	struct store__lock lock;
	uint64_t seq;
	struct coro_event changed;
	bool rotating;
	bool importing;		/* a background import runs (store-import.c) */
	bool import_again;	/* deliveries arrived while it ran */
};

struct store__dq;	/* store-deliver.c: deliveries of one user at their commit */
struct store__aio;	/* store-deliver.c: an AIO context for group fsyncs */

struct store {
	char *users_dir;
	struct store_settings set;
	uint8_t secret[STORE_SECRET_LEN];
	struct store_user *users;
	struct coro_event reaper_wake;	/* a user went idle, or shutdown */
	struct coro_event bg_done;	/* a background coroutine ended */
	struct coro_event user_closed;	/* a closing user left the registry */
	unsigned background;		/* reaper and rotations running */
	struct coro *shutdown_waiter;	/* parked until background == 0 */
	bool stopping;
	struct store_stats stats;
	struct store__dq *delivery_queues;	/* users with deliveries at their commit */
	struct store__aio *delivery_aio;	/* idle AIO contexts */
	unsigned delivery_aio_count;		/* made, idle or in use */
};

/* Frees what in-process deliveries keep between uses (store-deliver.c);
 * store_shutdown() calls it once no delivery is left. Coroutine. */
void store__deliver_shutdown(struct store *st);

/* Registry and references (store.c). */
struct store_user *store__user_get(struct store *st, const char *dir);
void store__user_ref(struct store_user *u);
void store__user_unref(struct store_user *u);
/* The registered user of dir, in any state. */
struct store_user *store__user_find(struct store *st, const char *dir);
/* Closes u now (no session may use it) and frees it; st->user_closed is
 * notified once it is out of the registry. */
void store__user_close(struct store_user *u);
int64_t store__clock(void *ctx);	/* meta_set_clock adapter, ctx = store */
void store__set_error(char **error_r, char *msg);
/* Background coroutines that store_shutdown() waits for: fn(arg) calls
 * store__background_done() as its last act. -ECANCELED when stopping. */
int store__background_spawn(struct store *st, void (*fn)(void *), void *arg);
void store__background_done(struct store *st);

/* Notifies the user's sessions of a change. */
void store__changed(struct store_user *u);

/* Runs fn(u->meta, arg) under the user's lock, on the pool when
 * STORE__POOL is in how, notifying on success when STORE__NOTIFY is.
 * -EIO when the user's meta handle is not open. */
#define STORE__POOL 0x01u
#define STORE__NOTIFY 0x02u
int store__meta_call(struct store_user *u, int (*fn)(struct meta *m, void *arg), void *arg,
		     unsigned how);

/* Keys (store-keys.c); pool only, under the user's lock; a lane's keys
 * are used by one job at a time. */
int store__key_seal(const struct store_user *u, const char *file,
		    const uint8_t key[CRYPTO_KEY_LEN], uint8_t out[CRYPTO_WRAPPED_KEY_LEN]);
int store__key_open(const struct store_user *u, const char *file, const uint8_t *blob,
		    size_t len, uint8_t key_r[CRYPTO_KEY_LEN]);
/* The content key of an open message file from its header wrap (RSA
 * unwrap with a cached private key, or the internal key), checked with
 * msgfile_reader_set_key. -EBADMSG when it does not open; -ENOKEY or an
 * I/O code when the private key cannot be loaded (worth a later retry). */
int store__key_from_header(struct store_user *u, unsigned lane, struct msgfile_reader *r,
			   uint8_t key_r[CRYPTO_KEY_LEN]);
void store__keys_free(struct store_user *u);
/* Makes a random file name "XX/<30 hex>" and the matching delivery name. */
void store__random_file(char file[STORE_FILE_LEN + 1]);
void store__file_from_delivery(const char *name, char file[STORE_FILE_LEN + 1]);
/* messages/XX exists and its creation is durable. */
int store__make_shard(const char *user_dir, const char *file);

/* A message ready to be recorded: file, size, key, target and flags. */
struct store__incoming {
	char file[STORE_FILE_LEN + 1];
	char delivery_name[DELIVERY_FILE_NAME_LEN + 1];	/* "" if none */
	uint64_t size;
	uint8_t blob[CRYPTO_WRAPPED_KEY_LEN];	/* meta key blob */
	bool has_key;			/* false: undecryptable, recorded for the user to see */
	char *mailbox;			/* NULL: INBOX */
	uint32_t flags;
	char **keywords;
	size_t n_keywords;
	int64_t internal_date;
	bool skip;			/* not to be recorded (now) */
	bool recorded;			/* in meta.sqlite (now or before) */
};
void store__incoming_free(struct store__incoming *in);
/* Opens the file of in (by in->file), finds its key from the header and
 * fills size and blob. Pool, under the lock, in lane. */
int store__incoming_read(struct store_user *u, unsigned lane, struct store__incoming *in,
			 uint8_t key_r[CRYPTO_KEY_LEN]);
/* Records n messages in one transaction (pool, under the lock): each goes
 * to its mailbox, or INBOX when that does not exist; an already known
 * file counts as recorded. Returns how many are now recorded, or an error
 * when the transaction failed. */
int store__record(struct store_user *u, struct store__incoming *v, size_t n);

/* Login cache (store-login.c), under the lock, after user.toml was
 * rewritten: from now on it knows new_password only, or no password when
 * new_password is NULL. */
void store__cache_reset(struct store_user *u, const char *new_password);

/* Import (store-import.c), under the lock, from a coroutine: up to max
 * pending messages in whole batches (0: all of them); *more_r (may be
 * NULL) tells whether rows may be left. Returns how many were recorded. */
int store__import_pending(struct store_user *u, size_t max, bool *more_r);
/* Not under the lock: takes in what is pending in a background coroutine,
 * one batch per hold of the lock, so that a long backlog neither delays a
 * login nor blocks the user's sessions; each batch is a change they see. */
void store__import_in_background(struct store_user *u);

/* Maintenance (store-maint.c): runs when due; under the lock. */
int store__maintenance_if_due(struct store_user *u, char **error_r);
int store__maintenance_locked(struct store_user *u, bool full, char **error_r);
/* Orphan pass (store-orphans.c), under the lock: files older than grace
 * seconds (0: any) that nothing knows go to INBOX. Returns how many. */
int store__orphans(struct store_user *u, int64_t now, int64_t grace);

#endif
