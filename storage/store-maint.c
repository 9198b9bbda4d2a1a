/* Maintenance (manual: Backups and Recovery, Understanding the Filesystem):
 * the daily pass store_login() runs when the marker file says it is due,
 * step by step as store.h lists them, each on the pool under the user's
 * lock. The orphan scan lives in store-orphans.c. */
#include "storage/store-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/userdir.h"

#define MAINT_BATCH 1000	/* rows per purge or placement round */
#define BACKUP_PREFIX "meta-"
#define BACKUP_SUFFIX ".sqlite"

struct maint_job {
	struct store_user *u;
	int64_t now;
	int64_t mailbox;	/* purge_job: this mailbox's expunged, at any age */
	const char *why;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Keeps the newest STORE_BACKUPS_KEPT backups (names sort by time) and
 * removes what an interrupted backup left. */
static int prune_backups(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	int r = 0;

	if (!d)
		return -errno;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) != 0)
			continue;
		if (has_suffix(e->d_name, BACKUP_SUFFIX ".tmp")) {
			unlinkat(dirfd(d), e->d_name, 0);
		} else if (has_suffix(e->d_name, BACKUP_SUFFIX)) {
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
	}
	if (n > STORE_BACKUPS_KEPT)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (n > STORE_BACKUPS_KEPT && i < n - STORE_BACKUPS_KEPT &&
		    unlinkat(dirfd(d), names[i], 0) < 0 && r == 0)
			r = -errno;
		free(names[i]);
	}
	free(names);
	closedir(d);
	return r;
}

static int backup_job(void *p)
{
	struct maint_job *j = p;
	char *dir = xasprintf("%s/%s", j->u->dir, STORE_BACKUP_DIR), stamp[32];
	time_t t = (time_t)j->now;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	char *path = xasprintf("%s/" BACKUP_PREFIX "%s" BACKUP_SUFFIX, dir, stamp);
	int r = mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -errno;
	if (r == 0)
		r = meta_backup(j->u->meta, path, &j->why);
	int p2 = prune_backups(dir);
	free(path);
	free(dir);
	return r < 0 ? r : p2;
}

static bool file_exists(const char *user_dir, const char *file)
{
	char *path = xasprintf("%s/messages/%s", user_dir, file);
	struct stat s;
	bool ok = lstat(path, &s) == 0 || errno != ENOENT;	/* unsure is present */
	free(path);
	return ok;
}

/* Instances without a file read as stubs; those whose file came back (an
 * administrator restored it) read normally again. */
static int missing_job(void *p)
{
	struct maint_job *j = p;
	struct meta *m = j->u->meta;
	struct meta_files f;
	struct meta_loc *locs = NULL;
	size_t n = 0;
	int r = meta_message_files(m, &f, &j->why);

	for (size_t i = 0; r == 0 && i < f.n; i++)
		if (!file_exists(j->u->dir, f.v[i]))
			r = meta_set_missing(m, f.v[i], true, &j->why);
	meta_files_free(&f);
	if (r == 0)
		r = meta_missing_instances(m, &locs, &n, &j->why);
	for (size_t i = 0; r == 0 && i < n; i++) {
		struct meta_message_info info;
		if (meta_lookup(m, locs[i].mailbox, locs[i].uid, &info, NULL) < 0)
			continue;
		if (file_exists(j->u->dir, info.file))
			r = meta_set_missing(m, info.file, false, &j->why);
		meta_message_info_free(&info);
	}
	free(locs);
	return r;
}

/* Messages recorded but never placed (a crash between the two) go to
 * INBOX. Returns how many. */
static int unplaced_job(void *p)
{
	struct maint_job *j = p;
	struct meta *m = j->u->meta;
	struct meta_files f;
	struct meta_appended res;
	int64_t inbox;
	int r = meta_unplaced(m, j->now, MAINT_BATCH, &f, &j->why);

	if (r < 0 || f.n == 0) {
		meta_files_free(&f);
		return r;
	}
	r = meta_mailbox_find(m, "INBOX", &inbox, &j->why);
	if (r == 0)
		r = meta_begin(m);
	for (size_t i = 0; r == 0 && i < f.n; i++) {
		struct meta_append_req req = { .message_id = f.ids[i], .internal_date = j->now };
		r = meta_append(m, inbox, &req, &res, &j->why);
	}
	if (r == 0)
		r = meta_commit(m);
	else
		meta_rollback(m);
	int n = (int)f.n;
	meta_files_free(&f);
	return r < 0 ? r : n;
}

/* A sorted copy of the pointer array v (the strings are shared). */
static char **sorted_copy(char **v, size_t n)
{
	char **c = xmalloc((n ? n : 1) * sizeof(*c));
	if (n > 0) {
		memcpy(c, v, n * sizeof(*c));
		qsort(c, n, sizeof(*c), cmp_str);
	}
	return c;
}

/* Expunged 24 hours ago (or from j->mailbox, at any age): unlink, make the
 * unlinks durable, then forget (meta.h: in that order, so a crash never
 * brings one back as an orphan). Returns how many rows were forgotten. */
static int purge_job(void *p)
{
	struct maint_job *j = p;
	struct meta_files f;
	int r = j->mailbox > 0 ? meta_purgeable_mailbox(j->u->meta, j->mailbox, MAINT_BATCH, &f,
							&j->why)
			       : meta_purgeable(j->u->meta, j->now, MAINT_BATCH, &f, &j->why);

	/* The expunges are relaxed commits: durable before any file goes. */
	if (r == 0 && f.n > 0)
		r = meta_sync(j->u->meta, &j->why);
	for (size_t i = 0; r == 0 && i < f.n; i++) {
		char *path = xasprintf("%s/messages/%s", j->u->dir, f.v[i]);
		if (unlink(path) < 0 && errno != ENOENT)
			r = -errno;
		free(path);
	}
	char **shards = sorted_copy(f.v, f.n);
	for (size_t i = 0; r == 0 && i < f.n; i++) {
		if (i > 0 && strncmp(shards[i], shards[i - 1], 2) == 0)
			continue;	/* one fsync per shard */
		char *shard = xasprintf("%s/messages/%.2s", j->u->dir, shards[i]);
		r = userdir_fsync_dir(shard);
		free(shard);
	}
	free(shards);
	if (r == 0 && f.n > 0)
		r = meta_forget(j->u->meta, f.ids, f.n, &j->why);
	meta_files_free(&f);
	return r;
}

/* Removes stale files from tmp/: unfinished message files, temporary
 * copies; config backups follow their own rule (account.h). */
static int tmp_job(void *p)
{
	struct maint_job *j = p;
	char *path = xasprintf("%s/tmp", j->u->dir);
	DIR *d = opendir(path);
	struct dirent *e;
	int r = 0;

	free(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL) {
		struct stat s;
		if (e->d_name[0] == '.' || strncmp(e->d_name, "config-backup-", 14) == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(s.st_mode) || (int64_t)s.st_mtime > j->now - STORE_TMP_MAX_AGE)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
	}
	closedir(d);
	int p2 = account_prune_config_backups(j->u->dir, (time_t)j->now, NULL);
	return r < 0 ? r : p2 < 0 ? p2 : 0;
}

static int marker_job(void *p)
{
	struct maint_job *j = p;
	char *path = xasprintf("%s/%s", j->u->dir, STORE_MAINTENANCE_MARKER);
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct timespec ts[2] = { { (time_t)j->now, 0 }, { (time_t)j->now, 0 } };
	int r = fd < 0 || futimens(fd, ts) < 0 ? -errno : 0;

	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/* 1: due with the orphan scan at any age (no marker); 0: due; -1 not. */
static int due(struct store_user *u, int64_t now)
{
	char *path = xasprintf("%s/%s", u->dir, STORE_MAINTENANCE_MARKER);
	struct stat s;
	int r = lstat(path, &s) < 0				      ? 1
		: (int64_t)s.st_mtime + STORE_MAINTENANCE_INTERVAL <= now ? 0
									   : -1;
	free(path);
	return r;
}

static void step(int r, const char *what, const char *why, int *first, char **error_r)
{
	if (r >= 0 || *first < 0)
		return;
	*first = r;
	store__set_error(error_r, xasprintf("maintenance: %s: %s", what, why ? why : strerror(-r)));
}

int store__maintenance_locked(struct store_user *u, bool full, char **error_r)
{
	struct maint_job j = { .u = u, .now = store_now(u->store) };
	int first = 0, r;

	if (u->state != STORE__OPEN)
		return -EIO;
	step(store__pool(backup_job, &j), "backup", j.why, &first, error_r);
	r = store__orphans(u, j.now, full ? 0 : DELIVERY_ORPHAN_GRACE);
	step(r, "orphans", NULL, &first, error_r);
	j.why = NULL;
	step(store__pool(missing_job, &j), "missing files", j.why, &first, error_r);
	do {
		j.why = NULL;
		r = store__pool(unplaced_job, &j);
		step(r, "unplaced messages", j.why, &first, error_r);
	} while (r == MAINT_BATCH);
	do {
		j.why = NULL;
		r = store__pool(purge_job, &j);
		step(r, "purge", j.why, &first, error_r);
	} while (r == MAINT_BATCH);
	step(store__pool(tmp_job, &j), "tmp", NULL, &first, error_r);
	/* A temporary failure retries at the next login; a lasting one
	 * (a damaged page) waits for the next day rather than rescan every
	 * login. */
	if (first == 0 || !store_error_is_temporary(first))
		step(store__pool(marker_job, &j), "marker", NULL, &first, error_r);
	store__changed(u);
	return first;
}

int store__maintenance_if_due(struct store_user *u, char **error_r)
{
	int d = due(u, store_now(u->store));
	return d < 0 ? 0 : store__maintenance_locked(u, d == 1, error_r);
}

int store_maintenance(struct store_user *u, char **error_r)
{
	store__lock(&u->lock);
	int r = store__maintenance_locked(u, due(u, store_now(u->store)) == 1, error_r);
	store__unlock(&u->lock);
	return r;
}

int store_purge(struct store_user *u, int64_t mailbox, const char **error_r)
{
	struct maint_job j = { .u = u, .now = store_now(u->store), .mailbox = mailbox };
	int total = 0, r;

	if (mailbox <= 0)
		return -EINVAL;
	store__lock(&u->lock);
	if (u->state != STORE__OPEN) {
		r = -EIO;
	} else {
		do {
			j.why = NULL;
			r = store__pool(purge_job, &j);
			if (r > 0)
				total += r;
		} while (r == MAINT_BATCH && total <= INT32_MAX - MAINT_BATCH);
	}
	store__unlock(&u->lock);
	if (r < 0) {
		if (error_r)
			*error_r = j.why ? j.why : "cannot remove message files";
		return r;
	}
	return total;
}
