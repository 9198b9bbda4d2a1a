/* The "sealcrypt" VFS object, its key registry, and the open and close of
 * an encrypted database. The sealed file methods are in vfs-crypt-io.c.
 *
 * SQLite opens the WAL of a database long after sqlite3_open_v2() returns,
 * from whichever thread runs the statement, and gives xOpen nothing but a
 * file name. So the key cannot travel with the call: it waits in a registry
 * named after the database file, where the WAL finds it through
 * sqlite3_filename_database().
 */
#include "storage/vfs-crypt-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/platform_util.h>

#include "src/util/xmalloc.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vfs_crypt_key *registry;	/* guarded by registry_lock */

static bool key_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;
	for (size_t i = 0; i < VFS_CRYPT_KEY_LEN; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

static struct vfs_crypt_key *registry_find(const char *name)
{
	for (struct vfs_crypt_key *k = registry; k; k = k->next)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int vfs_crypt__key_add(const char *name, const uint8_t key[VFS_CRYPT_KEY_LEN],
		       struct vfs_crypt_key **key_r)
{
	int r = 0;
	pthread_mutex_lock(&registry_lock);
	struct vfs_crypt_key *k = registry_find(name);
	if (k && !key_equal(k->bytes, key)) {
		k = NULL;
		r = -EACCES;
	} else if (k) {
		k->refs++;
	} else {
		size_t len = strlen(name);
		k = xmalloc(sizeof(*k) + len + 1);
		k->refs = 1;
		memcpy(k->bytes, key, VFS_CRYPT_KEY_LEN);
		memcpy(k->name, name, len + 1);
		k->next = registry;
		registry = k;
	}
	pthread_mutex_unlock(&registry_lock);
	*key_r = k;
	return r;
}

struct vfs_crypt_key *vfs_crypt__key_get(const char *name)
{
	pthread_mutex_lock(&registry_lock);
	struct vfs_crypt_key *k = registry_find(name);
	if (k)
		k->refs++;
	pthread_mutex_unlock(&registry_lock);
	return k;
}

void vfs_crypt__key_put(struct vfs_crypt_key **keyp)
{
	struct vfs_crypt_key *k = *keyp;
	if (!k)
		return;
	*keyp = NULL;
	pthread_mutex_lock(&registry_lock);
	if (--k->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (struct vfs_crypt_key **p = &registry; *p; p = &(*p)->next) {
		if (*p == k) {
			*p = k->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	mbedtls_platform_zeroize(k->bytes, sizeof(k->bytes));
	free(k);
}

/* The unix file follows our struct, aligned as SQLite aligns its own. */
#define FILE_HEAD ((sizeof(struct vfs_crypt_file) + 15) & ~(size_t)15)

static sqlite3_vfs *unix_vfs(sqlite3_vfs *vfs)
{
	return vfs->pAppData;
}

/* Only the main database and its WAL are opened, each with its key. Every
 * other file is refused: see vfs-crypt.h. */
static int crypt_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags,
		      int *out_flags)
{
	struct vfs_crypt_file *f = (struct vfs_crypt_file *)file;
	sqlite3_vfs *base = unix_vfs(vfs);

	memset(f, 0, sizeof(*f));
	if (!name)
		return SQLITE_CANTOPEN;
	if (flags & SQLITE_OPEN_MAIN_DB) {
		f->kind = VFS_CRYPT_MAIN_DB;
		f->key = vfs_crypt__key_get(name);
	} else if (flags & SQLITE_OPEN_WAL) {
		f->kind = VFS_CRYPT_WAL;
		f->key = vfs_crypt__key_get(sqlite3_filename_database(name));
	}
	if (!f->key)
		return SQLITE_CANTOPEN;

	f->real = (sqlite3_file *)((char *)f + FILE_HEAD);
	int rc = base->xOpen(base, name, f->real, flags, out_flags);
	if (rc != SQLITE_OK) {
		if (f->real->pMethods)
			f->real->pMethods->xClose(f->real);
		vfs_crypt__key_put(&f->key);
		return rc;
	}
	mbedtls_gcm_init(&f->gcm);
	if (mbedtls_gcm_setkey(&f->gcm, MBEDTLS_CIPHER_ID_AES, f->key->bytes,
			       VFS_CRYPT_KEY_LEN * 8) != 0) {
		f->real->pMethods->xClose(f->real);
		mbedtls_gcm_free(&f->gcm);
		vfs_crypt__key_put(&f->key);
		return SQLITE_CANTOPEN;
	}
	f->base.pMethods = &vfs_crypt_io_methods;
	return SQLITE_OK;
}

static int crypt_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
	return unix_vfs(vfs)->xDelete(unix_vfs(vfs), name, sync_dir);
}

static int crypt_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return unix_vfs(vfs)->xAccess(unix_vfs(vfs), name, flags, out);
}

static int crypt_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return unix_vfs(vfs)->xFullPathname(unix_vfs(vfs), name, n, out);
}

/* Extensions are never loaded into a store connection. */
static void *crypt_dl_open(sqlite3_vfs *vfs, const char *name)
{
	return NULL;
}

static void crypt_dl_error(sqlite3_vfs *vfs, int n, char *msg)
{
	sqlite3_snprintf(n, msg, "sealcrypt: extensions are not loaded");
}

static void (*crypt_dl_sym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return NULL;
}

static void crypt_dl_close(sqlite3_vfs *vfs, void *h)
{
}

static int crypt_randomness(sqlite3_vfs *vfs, int n, char *out)
{
	return unix_vfs(vfs)->xRandomness(unix_vfs(vfs), n, out);
}

static int crypt_sleep(sqlite3_vfs *vfs, int us)
{
	return unix_vfs(vfs)->xSleep(unix_vfs(vfs), us);
}

static int crypt_current_time(sqlite3_vfs *vfs, double *out)
{
	return unix_vfs(vfs)->xCurrentTime(unix_vfs(vfs), out);
}

static int crypt_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	return unix_vfs(vfs)->xGetLastError(unix_vfs(vfs), n, out);
}

static int crypt_current_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return unix_vfs(vfs)->xCurrentTimeInt64(unix_vfs(vfs), out);
}

static sqlite3_vfs crypt_vfs = {
	.iVersion = 2,
	.zName = VFS_CRYPT_NAME,
	.xOpen = crypt_open,
	.xDelete = crypt_delete,
	.xAccess = crypt_access,
	.xFullPathname = crypt_full_pathname,
	.xDlOpen = crypt_dl_open,
	.xDlError = crypt_dl_error,
	.xDlSym = crypt_dl_sym,
	.xDlClose = crypt_dl_close,
	.xRandomness = crypt_randomness,
	.xSleep = crypt_sleep,
	.xCurrentTime = crypt_current_time,
	.xGetLastError = crypt_last_error,
	.xCurrentTimeInt64 = crypt_current_time64,
};

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_result;

static void register_vfs(void)
{
	sqlite3_vfs *base;
	if (sqlite3_initialize() != SQLITE_OK || !(base = sqlite3_vfs_find("unix")) ||
	    base->iVersion < 2) {
		register_result = -EIO;
		return;
	}
	crypt_vfs.szOsFile = (int)FILE_HEAD + base->szOsFile;
	crypt_vfs.mxPathname = base->mxPathname;
	crypt_vfs.pAppData = base;
	if (sqlite3_vfs_register(&crypt_vfs, 0) != SQLITE_OK)
		register_result = -EIO;
}

int vfs_crypt_register(void)
{
	pthread_once(&register_once, register_vfs);
	return register_result;
}

int vfs_crypt_errno(int sqlite_rc)
{
	switch (sqlite_rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return -EBADMSG;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EPERM;
	case SQLITE_IOERR:
		return sqlite_rc == SQLITE_IOERR_DATA ? -EBADMSG
		       : sqlite_rc == SQLITE_IOERR_NOMEM ? -ENOMEM
							 : -EIO;
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return -EIO;
	default:
		return -EINVAL;
	}
}

/* Opening: everything below runs on the caller's thread, under the
 * registry reference vfs_crypt_open() holds. */

#define BUSY_TIMEOUT_MS 5000

static int fail(const char **error_r, int err, const char *msg)
{
	if (error_r)
		*error_r = msg;
	return err;
}

/* The errno for a failure while opening: here a page that does not
 * authenticate means the key is wrong (or page 1 is damaged). */
static int open_fail(const char **error_r, int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
		return fail(error_r, -EACCES, "wrong key, or not a sealcrypt database");
	case SQLITE_IOERR:
		if (rc == SQLITE_IOERR_DATA)
			return fail(error_r, -EACCES,
				    "wrong key, or the first page of the database is damaged");
		break;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return fail(error_r, -EBUSY, "the database stayed locked");
	case SQLITE_NOMEM:
		return fail(error_r, -ENOMEM, "out of memory in SQLite");
	}
	if (rc == SQLITE_IOERR_NOMEM)
		return fail(error_r, -ENOMEM, "out of memory in SQLite");
	return fail(error_r, -EIO, "cannot open the encrypted database");
}

static int query_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *text = sqlite3_column_text(st, 0);
		snprintf(out, size, "%s", text ? (const char *)text : "");
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_CORRUPT;	/* every query here returns a row */
	}
	sqlite3_finalize(st);
	return rc;
}

/* A new database: the geometry first, while page 1 is still unwritten (the
 * reserved bytes can only be chosen then), and WAL mode as the first thing
 * written. Going to WAL writes page 1 in a rollback-mode transaction; with
 * journal_mode=OFF for that one write SQLite opens no rollback journal
 * (crypt_open would refuse it). A crash there leaves an empty file, or on
 * power loss possibly a torn page 1 that no longer opens: the database was
 * new and empty, so nothing is lost but the file must be made again. */
static int setup_new(sqlite3 *db, const char **error_r)
{
	int reserve = VFS_CRYPT_RESERVE;
	char mode[16];
	int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db, "PRAGMA page_size=4096", NULL, NULL, NULL);
	/* Refused if another process created the database meanwhile: then it
	 * is already in WAL mode and the next pragma changes nothing. */
	if (rc == SQLITE_OK)
		sqlite3_exec(db, "PRAGMA journal_mode=OFF", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = query_text(db, "PRAGMA journal_mode=WAL", mode, sizeof(mode));
	if (rc != SQLITE_OK)
		return open_fail(error_r, rc);
	if (strcmp(mode, "wal") != 0)
		return fail(error_r, -EIO, "cannot put the new database in WAL mode");
	return 0;
}

/* The geometry and journal mode every sealcrypt database must have; a file
 * that authenticates but differs was not made by vfs_crypt_open(). */
static int check_format(sqlite3 *db, const char **error_r)
{
	char mode[16], page_size[16];
	int reserve = -1;	/* negative: query, do not change */
	int rc = query_text(db, "PRAGMA journal_mode", mode, sizeof(mode));
	if (rc == SQLITE_OK)
		rc = query_text(db, "PRAGMA page_size", page_size, sizeof(page_size));
	if (rc == SQLITE_OK)
		rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve);
	if (rc != SQLITE_OK)
		return open_fail(error_r, rc);
	if (strcmp(mode, "wal") != 0 || strcmp(page_size, "4096") != 0 ||
	    reserve < VFS_CRYPT_RESERVE)
		return fail(error_r, -EIO, "the database lacks the sealcrypt geometry or WAL mode");
	return 0;
}

/* SQLite splits a WAL page write at a sector boundary when the device does
 * not promise powersafe overwrite; a split page cannot be sealed. The unix
 * VFS promises it unless told otherwise, so this only fails on a build or
 * file system we have not met. */
static int main_file(sqlite3 *db, sqlite3_int64 *size_r, const char **error_r)
{
	sqlite3_file *fp = NULL;
	int rc = sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &fp);
	if (rc != SQLITE_OK || !fp || !fp->pMethods)
		return fail(error_r, -EIO, "the database file is not open");
	if (!(fp->pMethods->xDeviceCharacteristics(fp) & SQLITE_IOCAP_POWERSAFE_OVERWRITE))
		return fail(error_r, -EIO, "storage without powersafe overwrite is not supported");
	rc = fp->pMethods->xFileSize(fp, size_r);
	return rc == SQLITE_OK ? 0 : open_fail(error_r, rc);
}

static int setup_once(sqlite3 *db, bool read_only, const char **error_r)
{
	sqlite3_int64 size;
	int r = main_file(db, &size, error_r);
	if (r == 0 && size == 0 && !read_only)
		r = setup_new(db, error_r);
	if (r < 0)
		return r;
	int rc = sqlite3_exec(db,
			      "PRAGMA temp_store=MEMORY; PRAGMA secure_delete=ON;"
			      "PRAGMA mmap_size=0; PRAGMA cell_size_check=ON;"
			      "SELECT count(*) FROM sqlite_schema",
			      NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return open_fail(error_r, rc);
	return check_format(db, error_r);
}

/* Switching a new database to WAL needs an exclusive lock, and SQLite does
 * not call the busy handler for every lock it may meet there (processes
 * creating one database at once): wait and retry for the busy timeout. */
static int setup(sqlite3 *db, bool read_only, const char **error_r)
{
	for (int waited = 0;; waited += 10) {
		int r = setup_once(db, read_only, error_r);
		if (r != -EBUSY || waited >= BUSY_TIMEOUT_MS)
			return r;
		usleep(10 * 1000);
	}
}

static int open_db(const char *path, int flags, sqlite3 **db_r, const char **error_r)
{
	int open_flags = (flags & (SQLITE_OPEN_READONLY | SQLITE_OPEN_READWRITE |
				   SQLITE_OPEN_CREATE)) | SQLITE_OPEN_EXRESCODE;
	sqlite3 *db = NULL;
	int r, rc = sqlite3_open_v2(path, &db, open_flags, VFS_CRYPT_NAME);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
		r = setup(db, !(flags & SQLITE_OPEN_READWRITE), error_r);
	} else if ((rc & 0xff) == SQLITE_CANTOPEN && !(flags & SQLITE_OPEN_CREATE) &&
		   access(path, F_OK) < 0 && errno == ENOENT) {
		r = fail(error_r, -ENOENT, "no database at this path");
	} else {
		r = open_fail(error_r, rc);
	}
	if (r < 0) {
		sqlite3_close_v2(db);
		return r;
	}
	*db_r = db;
	return 0;
}

int vfs_crypt_open(const char *path, const uint8_t key[VFS_CRYPT_KEY_LEN], int flags,
		   sqlite3 **db_r, const char **error_r)
{
	*db_r = NULL;
	if (vfs_crypt_register() < 0)
		return fail(error_r, -EIO, "SQLite has no unix VFS to build on");

	/* The name SQLite will give xOpen: the same method on the same path.
	 * Following a symlink is success too (SQLITE_OK_SYMLINK). */
	int size = crypt_vfs.mxPathname + 1;
	char *full = xmalloc((size_t)size);
	int rc = crypt_vfs.xFullPathname(&crypt_vfs, path, size, full);
	if ((rc & 0xff) != SQLITE_OK) {
		free(full);
		return fail(error_r, -EIO, "cannot resolve the database path");
	}
	struct vfs_crypt_key *pin;
	int r = vfs_crypt__key_add(full, key, &pin);
	free(full);
	if (r < 0)
		return fail(error_r, r, "the database is open with another key");

	r = open_db(path, flags, db_r, error_r);
	vfs_crypt__key_put(&pin);
	return r;
}

void vfs_crypt_close(sqlite3 **db)
{
	if (!*db)
		return;
	sqlite3_close_v2(*db);
	*db = NULL;
}
