/* delivery.sqlite: the clear list of delivered messages not yet taken in
 * (delivery.h). A connection is used by one thread at a time; between
 * uses it waits in a small per-process cache (below), so threads and
 * processes never share one. SQLite's locks and the busy timeout
 * serialise the writers. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "src/util/xmalloc.h"
#include "storage/delivery-private.h"

#define DB_SCHEMA_VERSION 1
/* Idle connections kept per process (each holds three descriptors: the
 * database, its -wal and its -shm). */
#define DB_CACHE_MAX 16
/* Frames (pages, 4 KiB each) in the WAL after which a commit copies them
 * back and empties it (about 60 deliveries: each adds two). */
#define DB_WAL_FRAMES 128

/* Write-ahead log, synchronous=FULL: a commit appends its pages to
 * delivery.sqlite-wal and fsyncs that one file, where the rollback journal
 * (synchronous=EXTRA) cost five fsyncs (journal twice, directory, database,
 * directory after the journal's unlink). FULL is what makes a WAL commit
 * durable when it returns (NORMAL would wait for the next checkpoint), and
 * SQLite fsyncs the directory with a connection's first sync of the WAL,
 * so a new -wal's name is durable with the first commit in it.
 * WAL needs the -shm index mapped by every connection, so every process
 * must be on this host and able to write the user directory: `sealmail
 * deliver` becomes the directory's owner before it opens anything, the
 * daemon runs as that owner or as root, and SQLite gives -wal and -shm
 * the database's mode (0600) and owner. They hold what the database
 * holds, file names and sealed instructions (old page versions until
 * overwritten), and the index no content at all: nothing in them is
 * readable without the keys.
 * Before the switch, and where WAL cannot be had (the switch needs a
 * moment without other connections), the rollback journal stays, with
 * EXTRA: in DELETE mode the journal's unlink is the commit, and under FULL
 * a power loss right after it could bring the journal back and roll the
 * row away. temp_store keeps any spill in memory. */
static const char db_setup_sql[] = "PRAGMA synchronous = EXTRA;"
				   "PRAGMA secure_delete = ON;"
				   "PRAGMA temp_store = MEMORY;"
				   "PRAGMA cache_size = -512;";

static const char db_schema_sql[] = "CREATE TABLE IF NOT EXISTS pending ("
				    " id INTEGER PRIMARY KEY,"
				    " file_name TEXT NOT NULL UNIQUE,"
				    " instructions BLOB NOT NULL);"
				    "PRAGMA user_version = 1;";

/* A SQLite result as a negative errno (delivery.h's codes). */
static int db_errno(sqlite3 *db, int rc)
{
	int sys = db ? sqlite3_system_errno(db) : 0;

	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EUCLEAN;
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return sys > 0 ? -sys : -EIO;
	default:
		return -EPROTO;
	}
}

static int db_fail(sqlite3 *db, int rc, const char *user_dir, const char *what,
		   char **error_r)
{
	int r = db_errno(db, rc);

	delivery__set_error(error_r, xasprintf("%s/%s: %s: %s", user_dir, DELIVERY_DB_NAME, what,
					       db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
	return r;
}

/* One open connection and the file it has open. */
struct db_conn {
	char *user_dir;
	sqlite3 *db;
	dev_t dev;
	ino_t ino;
	int wal_frames;		/* in the WAL after the last commit */
	int wal_next;		/* frames at which to checkpoint next */
};

static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	*(int *)arg = frames;
	return SQLITE_OK;
}

/* Switches to the write-ahead log when the database is not in it yet,
 * then makes commits durable as the mode needs (see db_setup_sql). A
 * failed switch (busy beyond the timeout) leaves the journal and EXTRA:
 * slower, as durable.
 * Checkpoints are ours (db_checkpoint): closing a connection neither
 * checkpoints nor deletes the WAL, or the next connection (often another
 * `sealmail deliver`) would pay for both and a directory fsync to make the
 * WAL again. SQLite's own checkpoint after a commit would not do either:
 * it leaves the WAL in place, to be reset by the next writer of the same
 * connection; a new process rebuilds the WAL's index from the whole file,
 * cannot tell what was already copied back, and copies it all again. */
static int db_journal(struct db_conn *c)
{
	sqlite3 *db = c->db;
	sqlite3_stmt *st = NULL;
	bool wal = false;
	int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);

	if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
		const char *mode = (const char *)sqlite3_column_text(st, 0);
		wal = mode && strcmp(mode, "wal") == 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK || !wal)
		return rc;
	sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	sqlite3_wal_hook(db, wal_hook, &c->wal_frames);	/* replaces autocheckpoint */
	return sqlite3_exec(db, "PRAGMA synchronous = FULL;", NULL, NULL, NULL);
}

/* After a commit (already durable): once the WAL holds DB_WAL_FRAMES,
 * copies its pages into delivery.sqlite, fsyncs it and truncates the WAL
 * to nothing, so a process that opens it next has little to read. It
 * waits for no one: with another connection in a transaction it copies
 * what it can and is tried again DB_WAL_FRAMES later. Nothing depends on
 * it but the WAL's size. */
static void db_checkpoint(struct db_conn *c)
{
	if (c->wal_frames < (c->wal_next ? c->wal_next : DB_WAL_FRAMES))
		return;
	sqlite3_busy_timeout(c->db, 0);
	int rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	sqlite3_busy_timeout(c->db, DELIVERY_BUSY_TIMEOUT_MS);
	c->wal_next = rc == SQLITE_OK ? DB_WAL_FRAMES : c->wal_frames + DB_WAL_FRAMES;
}

/* Opens user_dir/delivery.sqlite. With create, SQLite makes a missing
 * file and we narrow it to mode 0600 before anything is written to it (the
 * journal and the WAL take the database's mode); the directory is fsynced
 * with the first commit's journal or WAL. We never open(2) the file
 * ourselves: closing any descriptor of it would drop the POSIX locks
 * another thread's connection holds. */
static int conn_open(const char *user_dir, const char *path, bool create, struct db_conn **c_r,
		     char **error_r)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	struct stat st;
	sqlite3 *db = NULL;
	int r = 0, rc;

	rc = sqlite3_open_v2(path, &db, flags, "unix");
	if (rc == SQLITE_OK && lstat(path, &st) < 0)
		r = -errno;
	if (r == 0 && rc == SQLITE_OK && create && (st.st_mode & 077) && chmod(path, 0600) < 0)
		r = -errno;
	if (r < 0)
		delivery__set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
	if (rc == SQLITE_OK && r == 0) {
		sqlite3_busy_timeout(db, DELIVERY_BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(db, db_setup_sql, NULL, NULL, NULL);
	}
	struct db_conn *c = xcalloc(1, sizeof(*c));
	c->db = db;
	if (rc == SQLITE_OK && r == 0)
		rc = db_journal(c);
	if (rc != SQLITE_OK && r == 0)
		r = db_fail(db, rc, user_dir, "cannot open", error_r);
	if (r < 0) {
		sqlite3_close(db);
		free(c);
		return r;
	}
	c->user_dir = xstrdup(user_dir);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	*c_r = c;
	return 0;
}

static void conn_close(struct db_conn *c)
{
	if (!c)
		return;
	sqlite3_close(c->db);
	free(c->user_dir);
	free(c);
}

/* Connections between uses, most recently used last. Opening one costs
 * more than the commit it serves: reading the schema and the WAL index,
 * and SQLite fsyncs the directory on a connection's first WAL sync. The
 * daemon delivers to the same users again and again and keeps theirs;
 * `sealmail deliver` uses one and exits. A fork()ed child must not touch
 * its parent's connections: it starts with an empty cache (the parent's
 * entries stay the parent's; the child only forgets them). */
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct db_conn *cache[DB_CACHE_MAX];
static size_t cache_n;
static pid_t cache_pid;

/* Takes user_dir's connection out of the cache; NULL when there is none.
 * Called with cache_lock held. */
static struct db_conn *cache_take(const char *user_dir)
{
	if (cache_pid != getpid()) {
		cache_pid = getpid();
		cache_n = 0;
	}
	for (size_t i = cache_n; i-- > 0;) {
		struct db_conn *c = cache[i];
		if (strcmp(c->user_dir, user_dir) == 0) {
			memmove(cache + i, cache + i + 1, (cache_n - i - 1) * sizeof(*cache));
			cache_n--;
			return c;
		}
	}
	return NULL;
}

/* A connection to user_dir/delivery.sqlite: the cached one if it still has
 * the file of that name open (not removed or replaced under it), else a
 * new one. Without create, a missing file is -ENOENT and is not made. */
static int conn_get(const char *user_dir, bool create, struct db_conn **c_r, char **error_r)
{
	char *path = xasprintf("%s/%s", user_dir, DELIVERY_DB_NAME);
	struct stat st;
	bool exists = lstat(path, &st) == 0;
	int r = exists || errno == ENOENT ? 0 : -errno;

	*c_r = NULL;
	pthread_mutex_lock(&cache_lock);
	struct db_conn *c = cache_take(user_dir);
	pthread_mutex_unlock(&cache_lock);
	if (c && exists && c->dev == st.st_dev && c->ino == st.st_ino) {
		*c_r = c;
	} else {
		conn_close(c);
		if (r == 0 && !exists && !create)
			r = -ENOENT;
		else if (r < 0)
			delivery__set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
		else
			r = conn_open(user_dir, path, create, c_r, error_r);
	}
	free(path);
	return r;
}

/* Puts c back for the next use after a success, or closes it (*c becomes
 * NULL either way): after a failure a fresh connection starts clean. */
static void conn_put(struct db_conn **cp, bool ok)
{
	struct db_conn *c = *cp, *evict = NULL;

	*cp = NULL;
	if (!c || !ok || !sqlite3_get_autocommit(c->db)) {
		conn_close(c);
		return;
	}
	pthread_mutex_lock(&cache_lock);
	/* Another thread may have put one back for the same directory. */
	evict = cache_take(c->user_dir);
	if (!evict && cache_n == DB_CACHE_MAX) {
		evict = cache[0];
		memmove(cache, cache + 1, (cache_n - 1) * sizeof(*cache));
		cache_n--;
	}
	cache[cache_n++] = c;
	pthread_mutex_unlock(&cache_lock);
	conn_close(evict);
}

static int db_user_version(sqlite3 *db, int *version_r)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);

	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*version_r = sqlite3_column_int(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

/* Inside a transaction: makes the table when the database is new. Returns
 * a SQLite code, or SQLITE_ERROR with *newer_r set for a newer schema. */
static int db_schema(sqlite3 *db, bool create, bool *newer_r, bool *empty_r)
{
	int version = 0;
	int rc = db_user_version(db, &version);

	*newer_r = rc == SQLITE_OK && version > DB_SCHEMA_VERSION;
	*empty_r = rc == SQLITE_OK && version == 0;
	if (rc != SQLITE_OK || *newer_r)
		return *newer_r ? SQLITE_ERROR : rc;
	if (version == 0 && create) {
		*empty_r = false;
		return sqlite3_exec(db, db_schema_sql, NULL, NULL, NULL);
	}
	return SQLITE_OK;
}

/* Runs sql once per row, all in one transaction under BEGIN IMMEDIATE (so
 * two writers never deadlock on the lock upgrade), and commits: one
 * durable commit for the lot. Rows bind ?1 to the file name and, when
 * blob is not NULL, ?2 to the blob. */
static int db_write(const char *user_dir, bool create, const char *sql,
		    const struct delivery__row *rows, size_t n, char **error_r)
{
	struct db_conn *c;
	sqlite3_stmt *st = NULL;
	bool newer = false, empty = false;
	int r = conn_get(user_dir, create, &c, error_r);

	if (r < 0)
		return r == -ENOENT && !create ? 0 : r;
	sqlite3 *db = c->db;
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = db_schema(db, create, &newer, &empty);
	if (rc == SQLITE_OK && !empty)
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	for (size_t i = 0; rc == SQLITE_OK && st && i < n; i++) {
		sqlite3_bind_text(st, 1, rows[i].file_name, -1, SQLITE_STATIC);
		if (rows[i].blob)
			sqlite3_bind_blob(st, 2, rows[i].blob, (int)rows[i].len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	if (newer) {
		r = -EPROTONOSUPPORT;
		delivery__set_error(error_r, xasprintf("%s/%s: newer schema than this version knows",
						       user_dir, DELIVERY_DB_NAME));
	} else if (rc != SQLITE_OK) {
		r = db_fail(db, rc, user_dir, create ? "cannot record the delivery" : "cannot drop the row",
			    error_r);
	}
	if (r < 0 && !sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	if (r == 0)
		db_checkpoint(c);
	conn_put(&c, r == 0);
	return r;
}

int delivery__db_insert(const char *user_dir, const struct delivery__row *rows, size_t n,
			char **error_r)
{
	return db_write(user_dir, true,
			"INSERT INTO pending (file_name, instructions) VALUES (?1, ?2)", rows, n,
			error_r);
}

int delivery_pending_done(const char *user_dir, const char *file_name, char **error_r)
{
	struct delivery__row row = { file_name, NULL, 0 };

	return db_write(user_dir, false, "DELETE FROM pending WHERE file_name = ?1", &row, 1,
			error_r);
}

/* Appends the row st points at to *items unless its name is not valid. */
static void list_row(sqlite3_stmt *st, struct delivery_pending *items, size_t *n)
{
	const char *name = (const char *)sqlite3_column_text(st, 0);
	const void *blob = sqlite3_column_blob(st, 1);
	int len = sqlite3_column_bytes(st, 1);

	if (!name || !delivery_file_name_valid(name) || sqlite3_column_type(st, 1) != SQLITE_BLOB)
		return;
	items[*n].file_name = xstrdup(name);
	items[*n].instructions = xmalloc(len > 0 ? (size_t)len : 1);
	memcpy(items[*n].instructions, blob, (size_t)len);
	items[*n].instructions_len = (size_t)len;
	(*n)++;
}

static int list_rows(sqlite3 *db, size_t max, struct delivery_pending **items_r, size_t *n_r)
{
	sqlite3_stmt *st = NULL;
	struct delivery_pending *items = NULL;
	size_t n = 0, cap = 0;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT file_name, instructions FROM pending ORDER BY id "
				    "LIMIT ?1",
				    -1, &st, NULL);

	if (rc == SQLITE_OK)
		sqlite3_bind_int64(st, 1, max ? (sqlite3_int64)max : -1);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			items = xrealloc(items, cap * sizeof(*items));
		}
		list_row(st, items, &n);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		delivery_pending_free(&items, n);
		return rc;
	}
	*items_r = items;
	*n_r = n;
	return SQLITE_OK;
}

int delivery_pending_list(const char *user_dir, size_t max, struct delivery_pending **items_r,
			  size_t *n_r, char **error_r)
{
	struct db_conn *c;
	bool newer = false, empty = false;
	int r = conn_get(user_dir, false, &c, error_r);

	*items_r = NULL;
	*n_r = 0;
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	sqlite3 *db = c->db;
	/* A read transaction, so the version and the rows agree. */
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = db_schema(db, false, &newer, &empty);
	if (rc == SQLITE_OK && !empty)
		rc = list_rows(db, max, items_r, n_r);
	if (newer) {
		r = -EPROTONOSUPPORT;
		delivery__set_error(error_r, xasprintf("%s/%s: newer schema than this version knows",
						       user_dir, DELIVERY_DB_NAME));
	} else if (rc != SQLITE_OK) {
		r = db_fail(db, rc, user_dir, "cannot list pending deliveries", error_r);
	}
	if (!sqlite3_get_autocommit(db))
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	conn_put(&c, r == 0);
	return r;
}

void delivery_pending_free(struct delivery_pending **items, size_t n)
{
	if (!*items)
		return;
	for (size_t i = 0; i < n; i++) {
		free((*items)[i].file_name);
		free((*items)[i].instructions);
	}
	free(*items);
	*items = NULL;
}
