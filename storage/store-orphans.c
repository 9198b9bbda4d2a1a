/* The orphan pass (manual: Backups and Recovery, "Messages on the
 * filesystem but not in the database"): files under messages/ that neither
 * meta.sqlite nor delivery.sqlite knows go into INBOX without flags, dated
 * by their mtime. That is how a lost or replaced meta.sqlite gets every
 * message back, and how a crash between placing a file and recording it
 * loses nothing.
 *
 * The disk is scanned before delivery.sqlite is read: a delivery places
 * its file before it inserts its row, so a file the scan sees has its row
 * by the time we list the rows, unless the delivery is still between its
 * two steps. Files younger than the grace (DELIVERY_ORPHAN_GRACE) are left
 * for that reason. With a grace of 0 (just after meta.sqlite was created)
 * such a file would go to INBOX, and its row would be dropped later as
 * already recorded: the mailbox and flags asked for are lost, not the
 * message. Appends cannot race: they place and record under the lock we
 * hold. */
#include "storage/store-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/util/xmalloc.h"

struct name_list {
	char **v;
	int64_t *mtime;
	size_t n, cap;
};

static void list_push(struct name_list *l, const char *s, int64_t mtime)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
		l->mtime = xrealloc(l->mtime, l->cap * sizeof(*l->mtime));
	}
	l->mtime[l->n] = mtime;
	l->v[l->n++] = xstrdup(s);
}

static void list_free(struct name_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->mtime);
	memset(l, 0, sizeof(*l));
}

static bool hex_name(const char *s, size_t len)
{
	size_t i = 0;
	while (i < len && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
		i++;
	return i == len && s[i] == '\0';
}

struct orphan_job {
	struct store_user *u;
	int64_t cutoff;		/* files with mtime after it are left */
	struct name_list found, pending;
	struct meta_files known;
	struct store__incoming *in;
	int64_t *in_mtime;
	size_t n_in, from;
};

/* messages/XX/<30 hex>, regular files old enough, as "XX/<30 hex>". */
static void scan_shard(struct orphan_job *j, int dfd, const char *shard)
{
	int fd = openat(dfd, shard, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *e;
	char file[STORE_FILE_LEN + 1];

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat s;
		if (!hex_name(e->d_name, DELIVERY_FILE_NAME_LEN - 2) ||
		    fstatat(dirfd(d), e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(s.st_mode) || (int64_t)s.st_mtime > j->cutoff)
			continue;
		memcpy(file, shard, 2);
		file[2] = '/';
		memcpy(file + 3, e->d_name, DELIVERY_FILE_NAME_LEN - 2 + 1);
		list_push(&j->found, file, (int64_t)s.st_mtime);
	}
	closedir(d);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int scan_job(void *p)
{
	struct orphan_job *j = p;
	char *path = xasprintf("%s/messages", j->u->dir);
	DIR *d = opendir(path);
	struct dirent *e;

	free(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d)) != NULL)
		if (hex_name(e->d_name, 2))
			scan_shard(j, dirfd(d), e->d_name);
	closedir(d);
	return 0;
}

static bool listed(const char *f, char **v, size_t n)
{
	return n > 0 && bsearch(&f, v, n, sizeof(*v), cmp_str) != NULL;
}

/* The rows of delivery.sqlite and the files of meta.sqlite, both sorted,
 * then the orphans: found in neither. */
static int known_job(void *p)
{
	struct orphan_job *j = p;
	struct delivery_pending *items = NULL;
	size_t n = 0;
	char file[STORE_FILE_LEN + 1];
	int r = delivery_pending_list(j->u->dir, 0, &items, &n, NULL);

	for (size_t i = 0; r == 0 && i < n; i++) {
		store__file_from_delivery(items[i].file_name, file);
		list_push(&j->pending, file, 0);
	}
	delivery_pending_free(&items, n);
	if (r == 0)
		r = meta_message_files(j->u->meta, &j->known, NULL);
	if (r < 0)
		return r;
	if (j->pending.n > 0)
		qsort(j->pending.v, j->pending.n, sizeof(char *), cmp_str);
	j->in = xcalloc(j->found.n + 1, sizeof(*j->in));
	j->in_mtime = xcalloc(j->found.n + 1, sizeof(*j->in_mtime));
	for (size_t i = 0; i < j->found.n; i++) {
		const char *f = j->found.v[i];
		if (listed(f, j->known.v, j->known.n) || listed(f, j->pending.v, j->pending.n))
			continue;
		snprintf(j->in[j->n_in].file, sizeof(j->in[j->n_in].file), "%s", f);
		j->in_mtime[j->n_in++] = j->found.mtime[i];
	}
	return 0;
}

/* Reads one orphan's key from its header: an RSA unwrap for a delivered
 * file, the internal key for an appended one. */
static int read_job(void *p, size_t i, unsigned lane)
{
	struct orphan_job *j = p;
	struct store__incoming *in = &j->in[j->from + i];
	uint8_t key[CRYPTO_KEY_LEN];
	int r = store__incoming_read(j->u, lane, in, key);

	crypto_wipe(key, sizeof(key));
	in->internal_date = j->in_mtime[j->from + i];
	return r;
}

/* Records orphans in[from .. from + n); returns how many went in. */
static int recover_batch(struct orphan_job *j, size_t from, size_t n)
{
	int r = 0, res[STORE_BATCH];
	j->from = from;
	store__pool_lanes(read_job, j, n, res);
	for (size_t i = 0; i < n; i++) {
		if (res[i] < 0)
			j->in[from + i].skip = true;	/* gone, or its key not loadable now */
		if (res[i] < 0 && res[i] != -ENOENT && res[i] != -ENOKEY && r == 0)
			r = res[i];
	}
	int rec = store__record(j->u, j->in + from, n);
	return r < 0 ? r : rec;
}

int store__orphans(struct store_user *u, int64_t now, int64_t grace)
{
	/* Grace 0 is any age, even a clock behind the files' (a test's, or
	 * a host's that jumped back). */
	struct orphan_job j = { .u = u, .cutoff = grace > 0 ? now - grace : INT64_MAX };
	int r = store__pool(scan_job, &j), total = 0;

	if (r == 0)
		r = store__pool(known_job, &j);
	for (size_t i = 0; r >= 0 && i < j.n_in; i += STORE_BATCH) {
		size_t n = j.n_in - i < STORE_BATCH ? j.n_in - i : STORE_BATCH;
		r = recover_batch(&j, i, n);
		if (r > 0) {
			total += r;
			store__changed(u);
		}
	}
	for (size_t i = 0; i < j.n_in; i++)
		store__incoming_free(&j.in[i]);
	free(j.in);
	free(j.in_mtime);
	list_free(&j.found);
	list_free(&j.pending);
	meta_files_free(&j.known);
	u->store->stats.recovered += (uint64_t)total;
	return r < 0 ? r : total;
}
