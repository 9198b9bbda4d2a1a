/* Writing delivered messages (delivery.h): encrypt while streaming, place
 * atomically under messages/, then list as pending in delivery.sqlite. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/pk.h>

#include "src/util/limits.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/delivery-private.h"
#include "storage/keys.h"
#include "storage/userdir.h"

#define DELIVERY_READ_CHUNK (64 * 1024)
#define DELIVERY_NAME_TRIES 4	/* 128-bit names: a second try is already a miracle */

struct delivery {
	char *user_dir;
	char *tmp_path;		/* NULL once renamed into messages/ */
	char *final;		/* messages/XX/REST once renamed there */
	int fd;
	struct msgfile_writer *w;
	uint8_t key[CRYPTO_KEY_LEN];	/* content key, for the instructions */
	struct delivery__target target;
	bool decided;		/* line ending mode known */
	bool convert;		/* insert CR before a bare LF */
	bool last_cr;		/* the last byte written was CR */
	bool finished;		/* trailer written (delivery_finish) */
	uint64_t size, max;
	int error;		/* sticky after a failed write */
	char *why;		/* the error's text, for *error_r */
	char name[DELIVERY_FILE_NAME_LEN + 1];
};

bool delivery_file_name_valid(const char *name)
{
	size_t i = 0;

	for (; name && i < DELIVERY_FILE_NAME_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name && name[i] == '\0';
}

char *delivery_message_path(const char *user_dir, const char *file_name)
{
	if (!delivery_file_name_valid(file_name))
		return NULL;
	return xasprintf("%s/messages/%.2s/%s", user_dir, file_name, file_name + 2);
}

bool delivery_error_is_temporary(int err)
{
	/* Busy, out of room, out of resources, not allowed, broken hardware,
	 * or an account or database an administrator can repair. */
	static const int temporary[] = {
		EAGAIN, EBUSY, EINTR, ETIMEDOUT, ENOSPC, EDQUOT, ENOMEM, EMFILE,
		ENFILE, EACCES, EPERM, EROFS, EIO, ENOKEY, EUCLEAN, EPROTONOSUPPORT,
	};

	for (size_t i = 0; i < sizeof(temporary) / sizeof(temporary[0]); i++)
		if (err == -temporary[i])
			return true;
	return false;
}

static void random_name(char name[DELIVERY_FILE_NAME_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[DELIVERY_FILE_NAME_LEN / 2];

	crypto_random(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++) {
		name[2 * i] = hex[raw[i] >> 4];
		name[2 * i + 1] = hex[raw[i] & 15];
	}
	name[DELIVERY_FILE_NAME_LEN] = '\0';
}

/* mkdir that accepts an existing directory; *made says whether we made it
 * (made may be NULL). */
static int ensure_dir(const char *path, bool *made)
{
	bool ok = mkdir(path, 0700) == 0;

	if (made)
		*made = ok;
	if (ok || errno == EEXIST)
		return 0;
	return -errno;
}

/* The user's published external key wraps d->key; the wrap and the key's
 * name go to the message file's header through msgfile_writer_open. */
static int start_file(struct delivery *d, char **error_r)
{
	mbedtls_pk_context pk;
	char key_name[KEYS_NAME_MAX + 1];
	uint8_t wrapped[KEYS_RSA_WRAPPED_LEN];
	char *err = NULL;
	int r = keys_external_public(d->user_dir, &pk, key_name, &err);

	if (r < 0) {
		if (r == -ENOENT || r == -EBADMSG || r == -EINVAL)
			r = -ENOKEY;
		delivery__set_error(error_r, xasprintf("no usable external key: %s",
						       err ? err : strerror(-r)));
		free(err);
		return r;
	}
	crypto_random(d->key, sizeof(d->key));
	r = keys_rsa_wrap(&pk, d->key, wrapped);
	mbedtls_pk_free(&pk);
	if (r < 0) {
		delivery__set_error(error_r, xasprintf("wrapping the message key: %s", strerror(-r)));
		return r;
	}
	char *tmp_dir = xasprintf("%s/tmp", d->user_dir);
	r = ensure_dir(tmp_dir, NULL);
	if (r == 0)
		r = msgfile_tmp_create(tmp_dir, &d->tmp_path, &d->fd);
	if (r == 0) {
		struct msgfile_wrap wrap = { DELIVERY_WRAP_KIND, key_name, wrapped, sizeof(wrapped) };
		struct msgfile_writer_opts wo = { .fsync = false };	/* msgfile_commit does */
		r = msgfile_writer_open(d->fd, d->key, &wrap, &wo, &d->w);
	}
	if (r < 0)
		delivery__set_error(error_r, xasprintf("%s: cannot start the message file: %s",
						       tmp_dir, strerror(-r)));
	free(tmp_dir);
	return r;
}

int delivery_begin(const char *users_dir, const char *user_name, const struct delivery_opts *opts,
		   struct delivery **d_r, char **error_r)
{
	struct delivery *d = xcalloc(1, sizeof(*d));
	char *err = NULL;
	int r;

	*d_r = NULL;
	d->fd = -1;
	r = delivery__target_check(opts, &d->target, error_r);
	if (r == 0) {
		r = userdir_lookup(users_dir, user_name, &d->user_dir, &err);
		if (r < 0)
			delivery__set_error(error_r, r == -ENOENT
				? xasprintf("no such user '%.255s'", user_name)
				: xasprintf("user '%.255s': %s", user_name,
					    err ? err : strerror(-r)));
		free(err);
	}
	if (r == 0)
		r = start_file(d, error_r);
	if (r < 0) {
		delivery_abort(&d);
		return r;
	}
	d->max = opts && opts->max_size && opts->max_size < SEAL_MAX_MESSAGE ? opts->max_size
									     : SEAL_MAX_MESSAGE;
	enum delivery_eol eol = opts ? opts->eol : DELIVERY_EOL_KEEP;
	d->decided = eol != DELIVERY_EOL_AUTO;
	d->convert = eol == DELIVERY_EOL_UNIX_TO_DOS;
	*d_r = d;
	return 0;
}

static int emit(struct delivery *d, const void *p, size_t n)
{
	if (n > d->max - d->size)
		return -EFBIG;
	d->size += n;
	return msgfile_writer_write(d->w, p, n);
}

/* Copies p[0..len), putting a CR before each LF that has none when
 * d->convert says so; in AUTO mode the first LF decides. */
static int write_lines(struct delivery *d, const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	int r = 0;

	while (r == 0 && p < end) {
		const uint8_t *lf = memchr(p, '\n', (size_t)(end - p));
		if (!lf) {
			r = emit(d, p, (size_t)(end - p));
			d->last_cr = end[-1] == '\r';
			break;
		}
		bool bare = lf > p ? lf[-1] != '\r' : !d->last_cr;
		if (!d->decided) {
			d->decided = true;
			d->convert = bare;
		}
		if (bare && d->convert) {
			r = emit(d, p, (size_t)(lf - p));
			if (r == 0)
				r = emit(d, "\r\n", 2);
		} else {
			r = emit(d, p, (size_t)(lf + 1 - p));
		}
		d->last_cr = false;
		p = lf + 1;
	}
	return r;
}

int delivery_write(struct delivery *d, const void *data, size_t len)
{
	if (d->error)
		return d->error;
	if (len == 0)
		return 0;
	int r = d->decided && !d->convert ? emit(d, data, len) : write_lines(d, data, len);
	if (r < 0)
		d->error = r;
	return r;
}

/* Fails d with err (the first failure stays) and its text why (heap). */
static int fail(struct delivery *d, int err, char *why)
{
	if (d->error == 0)
		d->error = err;
	if (!d->why)
		d->why = why;
	else
		free(why);
	return d->error;
}

/* The text of a failed write, made when the commit reports it. */
static void fail_write(struct delivery *d)
{
	if (d->error == -EFBIG)
		fail(d, -EFBIG, xasprintf("the message is larger than %llu bytes",
					  (unsigned long long)d->max));
	else
		fail(d, d->error, xasprintf("writing the message: %s", strerror(-d->error)));
}

int delivery_finish(struct delivery *d)
{
	if (d->finished)
		return 0;
	if (d->error) {
		fail_write(d);
		return d->error;
	}
	if (d->size == 0)
		return fail(d, -EINVAL, xstrdup("the message is empty"));
	int r = msgfile_writer_finish(d->w);
	if (r < 0)
		return fail(d, r, xasprintf("finishing the message: %s", strerror(-r)));
	d->finished = true;
	/* Starts the write-back now. Only the fsync in the commit makes the
	 * file durable; this is a hint, and its failure changes nothing. With
	 * the files of a group already on their way, the group's fsyncs mostly
	 * wait for writes in flight instead of each starting its own. */
	sync_file_range(d->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

const char *delivery_user_dir(const struct delivery *d)
{
	return d->user_dir;
}

/* Makes user_dir/messages/XX (shard_dir) exist. Every file renamed into
 * it needs the shard's own name in messages/ durable: *sync_r says that
 * messages/ must be fsynced for it (with the shard's fsync, before any
 * row is committed), which also covers a shard another writer made and
 * has not synced yet. After that fsync the group leaves the empty file
 * DELIVERY_SHARD_MARK in the shard (mark_shard), and a delivery that
 * finds the mark skips the fsync. The mark lives inside the shard, so a
 * shard removed and made again has none; a mark lost to a crash only
 * costs the fsync again. */
static int shard_ready(const char *user_dir, const char *shard_dir, bool *sync_r)
{
	char *mark = xasprintf("%s/%s", shard_dir, DELIVERY_SHARD_MARK);
	char *messages = xasprintf("%s/messages", user_dir);
	struct stat st;
	bool made = false;
	int r = 0;

	*sync_r = !(lstat(mark, &st) == 0 && S_ISREG(st.st_mode));
	if (*sync_r) {
		r = ensure_dir(messages, &made);
		if (r == 0 && made)
			r = userdir_fsync_dir(user_dir);
		if (r == 0)
			r = ensure_dir(shard_dir, NULL);
	}
	free(messages);
	free(mark);
	return r;
}

static void mark_shard(const char *shard_dir)
{
	char *mark = xasprintf("%s/%s", shard_dir, DELIVERY_SHARD_MARK);
	int fd = open(mark, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd >= 0)
		close(fd);	/* without it the next delivery syncs again */
	free(mark);
}

/* Is path the file open on fd (same inode)? */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Renames the finished, synced file to messages/XX/REST under a fresh name
 * in the shard shard (two hex digits). Not durable until the shard is
 * fsynced. */
static int place_one(struct delivery *d, const char shard[2])
{
	int r = -EEXIST;

	for (int i = 0; i < DELIVERY_NAME_TRIES && r == -EEXIST; i++) {
		random_name(d->name);
		memcpy(d->name, shard, 2);
		char *final = delivery_message_path(d->user_dir, d->name);
		r = msgfile_place(d->tmp_path, final);
		/* The link()/unlink() fallback may fail half way: then the
		 * new name is ours to undo, and the old one may already be
		 * gone (another delivery's later). */
		if (r < 0 && r != -EEXIST && same_file(d->fd, final))
			unlink(final);
		if (r == 0) {
			d->final = final;
			free(d->tmp_path);
			d->tmp_path = NULL;
		} else {
			free(final);
		}
	}
	if (r < 0 && d->tmp_path && !same_file(d->fd, d->tmp_path)) {
		free(d->tmp_path);
		d->tmp_path = NULL;
	}
	return r;
}

/* Takes placed files back out of messages/ after a failure, so the
 * sender's retry makes no duplicate (a file that stays is an orphan, which
 * maintenance brings to INBOX). */
static void unplace(struct delivery **g, size_t n, const char *shard_dir)
{
	bool any = false;

	for (size_t i = 0; i < n; i++) {
		if (g[i]->final && unlink(g[i]->final) == 0)
			any = true;
		free(g[i]->final);
		g[i]->final = NULL;
	}
	if (any)
		userdir_fsync_dir(shard_dir);
}

/* Step 3 for a group of files of one user, each finished and fsynced:
 * all go into one random shard, so one fsync of that directory (the
 * caller's) makes all their names durable. (The shard is random per group
 * instead of per file; the other 120 bits of each name stay random.)
 * Fails the members it could not place; returns how many are placed,
 * first in g. */
static size_t place_group(struct delivery **g, size_t n, char **shard_dir_r, bool *sync_r)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t b;
	size_t placed = 0;

	crypto_random(&b, 1);
	char shard[2] = { hex[b >> 4], hex[b & 15] };
	char *shard_dir = xasprintf("%s/messages/%.2s", g[0]->user_dir, shard);
	int r = shard_ready(g[0]->user_dir, shard_dir, sync_r);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int e = place_one(g[i], shard);
		if (e < 0)
			fail(g[i], e, xasprintf("%s/messages: cannot place the message: %s",
						g[i]->user_dir, strerror(-e)));
		else
			g[placed++] = g[i];
	}
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			fail(g[i], r, xasprintf("%s/messages: cannot place the message: %s",
						g[i]->user_dir, strerror(-r)));
		placed = 0;
	}
	*shard_dir_r = shard_dir;
	return placed;
}

/* Step 4: seals each member's instructions and inserts all rows in one
 * durable transaction; on failure takes the files back out. */
static void record_group(struct delivery **g, size_t n, const char *shard_dir)
{
	struct delivery__row *rows = xcalloc(n, sizeof(*rows));
	int64_t now = (int64_t)time(NULL);
	char *err = NULL;
	int r = 0;

	for (size_t i = 0; i < n && r == 0; i++) {
		uint8_t *blob = NULL;
		r = delivery__seal_instructions(g[i]->key, &g[i]->target, now, &blob, &rows[i].len);
		rows[i].file_name = g[i]->name;
		rows[i].blob = blob;
	}
	if (r < 0)
		err = xstrdup("cannot seal the delivery instructions");
	else
		r = delivery__db_insert(g[0]->user_dir, rows, n, &err);
	if (r < 0) {
		unplace(g, n, shard_dir);
		for (size_t i = 0; i < n; i++)
			fail(g[i], r, xstrdup(err ? err : strerror(-r)));
	}
	for (size_t i = 0; i < n; i++)
		free((void *)rows[i].blob);
	free(rows);
	free(err);
}

struct delivery_group {
	struct delivery **all;	/* every member, in the caller's order */
	struct delivery **g;	/* those still going: the first k */
	size_t n, k;
	int *fds;		/* the files to fsync (delivery_group_start) */
	char *shard_dir;	/* where they went (delivery_group_place) */
	int dir_fds[2];		/* to fsync: the shard, maybe messages/ */
	size_t n_dirs;
	bool mark;		/* messages/ is among them: mark the shard */
};

struct delivery_group *delivery_group_start(struct delivery **ds, size_t n, const int **fds_r,
					    size_t *nfds_r)
{
	struct delivery_group *grp = xcalloc(1, sizeof(*grp));
	size_t m = n ? n : 1;

	grp->all = xcalloc(m, sizeof(*grp->all));
	grp->g = xcalloc(m, sizeof(*grp->g));
	grp->fds = xcalloc(m, sizeof(*grp->fds));
	grp->n = n;
	for (size_t i = 0; i < n; i++) {
		grp->all[i] = ds[i];
		ds[i] = NULL;
	}
	/* All finished first, so every file's write-back is under way before
	 * the first fsync waits. */
	for (size_t i = 0; i < n; i++)
		delivery_finish(grp->all[i]);
	for (size_t i = 0; i < n; i++) {
		struct delivery *d = grp->all[i];
		if (d->error)
			continue;
		if (grp->k > 0 && strcmp(d->user_dir, grp->g[0]->user_dir) != 0)
			fail(d, -EINVAL, xstrdup("deliveries to different users in one group"));
		else
			grp->g[grp->k++] = d;
	}
	for (size_t i = 0; i < grp->k; i++)
		grp->fds[i] = grp->g[i]->fd;
	*fds_r = grp->fds;
	*nfds_r = grp->k;
	return grp;
}

/* Fails every member still going with err, as a placement failure. */
static void fail_placing(struct delivery_group *grp, int err)
{
	for (size_t i = 0; i < grp->k; i++)
		fail(grp->g[i], err, xasprintf("%s/messages: cannot place the message: %s",
					       grp->g[i]->user_dir, strerror(-err)));
	grp->k = 0;
}

size_t delivery_group_place(struct delivery_group *grp, const int *fsync_res,
			    const int **dir_fds_r)
{
	size_t synced = 0;

	*dir_fds_r = grp->dir_fds;
	/* Each file durable before its name appears under messages/. */
	for (size_t i = 0; i < grp->k; i++) {
		if (fsync_res[i] < 0)
			fail(grp->g[i], fsync_res[i],
			     xasprintf("%s/messages: cannot place the message: %s",
				       grp->g[i]->user_dir, strerror(-fsync_res[i])));
		else
			grp->g[synced++] = grp->g[i];
	}
	grp->k = synced;
	if (grp->k > 0)
		grp->k = place_group(grp->g, grp->k, &grp->shard_dir, &grp->mark);
	if (grp->k == 0)
		return 0;
	char *messages = xasprintf("%s/messages", grp->g[0]->user_dir);
	int err = 0;
	for (int i = 0; i < (grp->mark ? 2 : 1) && err == 0; i++) {
		const char *dir = i == 0 ? grp->shard_dir : messages;
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			err = -errno;
		else
			grp->dir_fds[grp->n_dirs++] = fd;
	}
	free(messages);
	if (err < 0) {
		unplace(grp->g, grp->k, grp->shard_dir);
		fail_placing(grp, err);
		return 0;
	}
	return grp->n_dirs;
}

void delivery_group_end(struct delivery_group **gp, const int *dir_fsync_res, int *results_r,
			char **file_names_r, char **errors_r)
{
	struct delivery_group *grp = *gp;
	int err = 0;

	*gp = NULL;
	for (size_t i = 0; i < grp->n_dirs; i++)
		if (dir_fsync_res[i] < 0 && err == 0)
			err = dir_fsync_res[i];
	/* Every name, and the shard's own, durable before any row is
	 * committed; the mark only once messages/ was synced. */
	if (grp->k > 0 && err < 0) {
		unplace(grp->g, grp->k, grp->shard_dir);
		fail_placing(grp, err);
	}
	if (grp->k > 0 && grp->mark)
		mark_shard(grp->shard_dir);
	if (grp->k > 0)
		record_group(grp->g, grp->k, grp->shard_dir);
	for (size_t i = 0; i < grp->n; i++) {
		struct delivery *d = grp->all[i];
		results_r[i] = d->error;
		if (file_names_r)
			file_names_r[i] = d->error ? NULL : xstrdup(d->name);
		if (errors_r) {
			errors_r[i] = d->why;
			d->why = NULL;
		}
		/* A committed file is no longer ours to remove. */
		free(d->final);
		d->final = NULL;
		delivery_abort(&grp->all[i]);
	}
	for (size_t i = 0; i < grp->n_dirs; i++)
		close(grp->dir_fds[i]);
	free(grp->shard_dir);
	free(grp->fds);
	free(grp->g);
	free(grp->all);
	free(grp);
}

void delivery_commit_group(struct delivery **ds, size_t n, int *results_r, char **file_names_r,
			   char **errors_r)
{
	const int *fds;
	size_t k;
	struct delivery_group *grp = delivery_group_start(ds, n, &fds, &k);
	int *res = xcalloc(k ? k : 1, sizeof(*res));

	for (size_t i = 0; i < k; i++)
		res[i] = fsync(fds[i]) < 0 ? -errno : 0;
	const int *dirs;
	int dir_res[2];
	size_t n_dirs = delivery_group_place(grp, res, &dirs);
	for (size_t i = 0; i < n_dirs; i++)
		dir_res[i] = fsync(dirs[i]) < 0 ? -errno : 0;
	free(res);
	delivery_group_end(&grp, dir_res, results_r, file_names_r, errors_r);
}

int delivery_commit(struct delivery **dp, char **file_name_r, char **error_r)
{
	int r;
	char *err = NULL;

	delivery_commit_group(dp, 1, &r, file_name_r, &err);
	delivery__set_error(r < 0 ? error_r : NULL, err);
	return r;
}

void delivery_abort(struct delivery **dp)
{
	struct delivery *d = *dp;

	if (!d)
		return;
	msgfile_writer_free(&d->w);
	if (d->tmp_path)
		unlink(d->tmp_path);
	if (d->fd >= 0)
		close(d->fd);
	crypto_wipe(d->key, sizeof(d->key));
	delivery__target_free(&d->target);
	free(d->why);
	free(d->final);
	free(d->tmp_path);
	free(d->user_dir);
	free(d);
	*dp = NULL;
}

/* read(2) that waits on a non-blocking descriptor and retries EINTR. */
static ssize_t read_some(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n >= 0)
			return n;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, -1);
		} else if (errno != EINTR) {
			return -errno;
		}
	}
}

int delivery_deliver_fd(const char *users_dir, const char *user_name, int in_fd,
			const struct delivery_opts *opts, char **file_name_r, char **error_r)
{
	struct delivery *d;
	int r = delivery_begin(users_dir, user_name, opts, &d, error_r);

	if (r < 0)
		return r;
	uint8_t *buf = xmalloc(DELIVERY_READ_CHUNK);
	ssize_t n;
	while ((n = read_some(in_fd, buf, DELIVERY_READ_CHUNK)) > 0)
		if (delivery_write(d, buf, (size_t)n) < 0)
			break;
	free(buf);
	if (n < 0) {
		delivery_abort(&d);
		delivery__set_error(error_r, xasprintf("reading the message: %s", strerror((int)-n)));
		return (int)n;
	}
	return delivery_commit(&d, file_name_r, error_r);
}
