/* delivery.sqlite: the clear list of delivered messages not yet taken in
 * (delivery.h). Every call opens its own connection, so threads and
 * processes never share one; SQLite's file locks and the busy timeout
 * serialise the writers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "src/util/xmalloc.h"
#include "storage/delivery-private.h"

#define DB_SCHEMA_VERSION 1

/* Rollback journal (the manual's delivery.sqlite-journal): the database
 * may be written by `sealmail deliver` running as another Unix user than
 * the daemon, and a WAL's -shm would have to be shared with it. EXTRA
 * fsyncs the directory after the journal is deleted: in DELETE mode that
 * unlink is the commit, and under FULL a power loss right after it could
 * bring the journal back and roll the row away. temp_store keeps any
 * spill in memory. */
static const char db_setup_sql[] = "PRAGMA synchronous = EXTRA;"
				   "PRAGMA secure_delete = ON;"
				   "PRAGMA temp_store = MEMORY;";

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

/* Opens user_dir/delivery.sqlite. With create, SQLite makes a missing
 * file and we narrow it to mode 0600 before anything is written to it (the
 * journal takes the database's mode); the directory is fsynced with the
 * first commit's journal. We never open(2) the file ourselves: closing any
 * descriptor of it would drop the POSIX locks another thread's connection
 * holds. Without create, a missing file is -ENOENT and is not made. */
static int db_open(const char *user_dir, bool create, sqlite3 **db_r, char **error_r)
{
	char *path = xasprintf("%s/%s", user_dir, DELIVERY_DB_NAME);
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | (create ? SQLITE_OPEN_CREATE : 0);
	struct stat st;
	sqlite3 *db = NULL;
	int r = 0, rc;

	*db_r = NULL;
	if (!create && access(path, F_OK) < 0) {
		r = -errno;
		if (r != -ENOENT)
			delivery__set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
		free(path);
		return r;
	}
	rc = sqlite3_open_v2(path, &db, flags, "unix");
	if (rc == SQLITE_OK && create && lstat(path, &st) == 0 && (st.st_mode & 077) &&
	    chmod(path, 0600) < 0) {
		r = -errno;
		delivery__set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
	}
	if (rc == SQLITE_OK && r == 0) {
		sqlite3_busy_timeout(db, DELIVERY_BUSY_TIMEOUT_MS);
		rc = sqlite3_exec(db, db_setup_sql, NULL, NULL, NULL);
	}
	if (rc != SQLITE_OK)
		r = db_fail(db, rc, user_dir, "cannot open", error_r);
	if (r < 0)
		sqlite3_close(db);
	else
		*db_r = db;
	free(path);
	return r;
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

/* Runs one write under BEGIN IMMEDIATE (so two writers never deadlock on
 * the lock upgrade) and commits it; the statement is made by prepare. */
static int db_write(const char *user_dir, bool create, const char *sql, const char *file_name,
		    const uint8_t *blob, size_t len, char **error_r)
{
	sqlite3 *db;
	sqlite3_stmt *st = NULL;
	bool newer = false, empty = false;
	int r = db_open(user_dir, create, &db, error_r);

	if (r < 0)
		return r == -ENOENT && !create ? 0 : r;
	int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = db_schema(db, create, &newer, &empty);
	if (rc == SQLITE_OK && !empty)
		rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK && st) {
		sqlite3_bind_text(st, 1, file_name, -1, SQLITE_STATIC);
		if (blob)
			sqlite3_bind_blob(st, 2, blob, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(st);
		rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
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
	sqlite3_close(db);
	return r;
}

int delivery__db_insert(const char *user_dir, const char *file_name, const uint8_t *blob,
			size_t len, char **error_r)
{
	return db_write(user_dir, true,
			"INSERT INTO pending (file_name, instructions) VALUES (?1, ?2)", file_name,
			blob, len, error_r);
}

int delivery_pending_done(const char *user_dir, const char *file_name, char **error_r)
{
	return db_write(user_dir, false, "DELETE FROM pending WHERE file_name = ?1", file_name,
			NULL, 0, error_r);
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
	sqlite3 *db;
	bool newer = false, empty = false;
	int r = db_open(user_dir, false, &db, error_r);

	*items_r = NULL;
	*n_r = 0;
	if (r < 0)
		return r == -ENOENT ? 0 : r;
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
	sqlite3_close(db);
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
