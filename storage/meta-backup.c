/* Atomic backups of meta.sqlite (manual: Backups and Recovery). SQLite's
 * online backup API copies a consistent snapshot page by page into a new
 * sealcrypt database under the same key; the copy is checkpointed into its
 * main file, synced and renamed into place, so a backup file is always
 * whole and opens by itself, without a -wal beside it. */
#include "storage/meta-private.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/vfs-crypt.h"

/* Removes path and the -wal and -shm SQLite may have left beside it. */
static int remove_db_files(const char *path)
{
	static const char *const suffix[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
		char *p = xasprintf("%s%s", path, suffix[i]);
		int r = unlink(p) < 0 && errno != ENOENT ? -errno : 0;
		free(p);
		if (r < 0)
			return r;
	}
	return 0;
}

static int fsync_path(const char *path, bool dir)
{
	int fd = open(path, (dir ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int fsync_parent(const char *path)
{
	char *copy = xstrdup(path);
	int r = fsync_path(dirname(copy), true);
	free(copy);
	return r;
}

/* Copies the whole database into dst and folds dst's WAL into its file. */
static int copy_into(struct meta *m, sqlite3 *dst, const char **error_r)
{
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", m->db, "main");
	if (!b)
		return meta__err(m, sqlite3_errcode(dst), error_r, "cannot start the backup");
	int rc = sqlite3_backup_step(b, -1);
	int rc_finish = sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE)
		return meta__err(m, rc, error_r, "the backup copy failed");
	if (rc_finish != SQLITE_OK)
		return meta__err(m, rc_finish, error_r, "the backup copy failed");
	rc = sqlite3_wal_checkpoint_v2(dst, "main", SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (rc != SQLITE_OK)
		return meta__err(m, rc, error_r, "cannot checkpoint the backup");
	return 0;
}

static int write_backup(struct meta *m, const char *tmp, const char **error_r)
{
	sqlite3 *dst = NULL;
	int r = vfs_crypt_open(tmp, m->key, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &dst,
			       error_r);
	if (r < 0)
		return r;
	r = copy_into(m, dst, error_r);
	vfs_crypt_close(&dst);
	if (r < 0)
		return r;
	/* Closing the last connection checkpoints and deletes the WAL; one
	 * still there holds pages the main file lacks. */
	char *wal = xasprintf("%s-wal", tmp);
	bool wal_left = access(wal, F_OK) == 0;
	free(wal);
	if (wal_left)
		return meta__fail(error_r, -EIO, "the backup's WAL was not folded in");
	r = fsync_path(tmp, false);
	return r < 0 ? meta__fail(error_r, r, "cannot sync the backup") : 0;
}

int meta_backup(struct meta *m, const char *dest_path, const char **error_r)
{
	if (m->depth > 0)
		return meta__fail(error_r, -EINVAL, "a transaction is open");
	char *tmp = xasprintf("%s.tmp", dest_path);
	int r = remove_db_files(tmp);
	if (r < 0)
		meta__fail(error_r, r, "cannot remove an old temporary backup");
	else
		r = write_backup(m, tmp, error_r);
	if (r == 0 && rename(tmp, dest_path) < 0)
		r = meta__fail(error_r, -errno, "cannot rename the backup into place");
	if (r == 0) {
		r = fsync_parent(dest_path);
		if (r < 0)
			meta__fail(error_r, r, "cannot sync the backup directory");
	}
	if (r < 0)
		remove_db_files(tmp);
	free(tmp);
	return r;
}
