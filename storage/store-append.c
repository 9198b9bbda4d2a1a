/* Appending what the logged-in user writes (IMAP APPEND; later, saved sent
 * mail). The content key is wrapped with the current internal key, named
 * in the file's header: no RSA. Order of durability (DESIGN.md section 4):
 * the file is written in tmp/ and fsynced, renamed into messages/ (its
 * directory fsynced), then recorded in meta.sqlite in one transaction; only
 * then is the APPEND acknowledged. The rename and the transaction happen
 * under the user's lock, so maintenance never sees the file between the
 * two; a crash between them leaves an orphan that maintenance puts in
 * INBOX, and nothing that was acknowledged is lost. */
#include "storage/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/userdir.h"

#define APPEND_BUF (64 * 1024)
#define APPEND_JOB_MAX (1024 * 1024)

struct store_append {
	struct store_user *u;
	int64_t mailbox;
	uint32_t flags;
	char **keywords;
	size_t n_keywords;
	int64_t internal_date;
	int internal_tz;
	char file[STORE_FILE_LEN + 1];
	char *tmp_path;
	int fd;
	struct msgfile_writer *w;
	uint8_t blob[CRYPTO_WRAPPED_KEY_LEN];	/* the key's wrap for meta.sqlite */
	uint8_t *buf;
	size_t len;
	const uint8_t *data;	/* the write job's argument */
	size_t data_len;
	uint64_t size;
	int error;
	struct meta_appended res;
	const char *why;
	bool finished;		/* store_append_finish() ran */
	bool placed;		/* the file is in messages/ */
};

static int check_opts(const struct store_append_opts *o)
{
	if ((o->flags & ~META_FLAGS_ALL) || o->internal_tz < -1439 || o->internal_tz > 1439)
		return -EINVAL;
	for (size_t i = 0; i < o->n_keywords; i++)
		if (meta_keyword_check(o->keywords[i]) < 0)
			return -EINVAL;
	return 0;
}

/* Content key, internal-key wrap in the header, meta wrap, temporary file. */
static int begin_job(void *p)
{
	struct store_append *a = p;
	struct store_user *u = a->u;
	char name[KEYS_NAME_MAX + 1];
	uint8_t key[CRYPTO_KEY_LEN], ik[CRYPTO_KEY_LEN], wrapped[CRYPTO_WRAPPED_KEY_LEN];
	int r = keys_current_internal_name(u->dir, store_now(u->store), name, NULL);

	crypto_random(key, sizeof(key));
	store__random_file(a->file);
	if (r == 0)
		r = keys_internal_key(u->master, name, ik);
	if (r == 0)
		r = crypto_wrap_key(ik, STORE_INTERNAL_WRAP_PURPOSE, key, wrapped);
	if (r == 0)
		r = store__key_seal(u, a->file, key, a->blob);
	char *tmp_dir = xasprintf("%s/tmp", u->dir);
	if (r == 0)
		r = msgfile_tmp_create(tmp_dir, &a->tmp_path, &a->fd);
	free(tmp_dir);
	if (r == 0) {
		struct msgfile_wrap wrap = { MSGFILE_WRAP_SYMMETRIC, name, wrapped, sizeof(wrapped) };
		struct msgfile_writer_opts wo = { .fsync = true };
		r = msgfile_writer_open(a->fd, key, &wrap, &wo, &a->w);
	}
	crypto_wipe(key, sizeof(key));
	crypto_wipe(ik, sizeof(ik));
	return r;
}

int store_append_begin(struct store_user *u, const char *mailbox,
		       const struct store_append_opts *o, struct store_append **a_r,
		       const char **error_r)
{
	struct store_append *a = xcalloc(1, sizeof(*a));
	int r;

	*a_r = NULL;
	a->u = u;
	a->fd = -1;
	r = check_opts(o);
	if (r < 0 && error_r)
		*error_r = "invalid flags or date";
	if (r == 0)
		r = store_mailbox_find(u, mailbox, &a->mailbox, error_r);
	if (r == 0) {
		r = store__pool(begin_job, a);
		if (r < 0 && error_r)
			*error_r = "cannot start the message file";
	}
	if (r < 0) {
		store_append_abort(&a);
		return r;
	}
	a->flags = o->flags;
	a->keywords = xcalloc(o->n_keywords + 1, sizeof(*a->keywords));
	for (size_t i = 0; i < o->n_keywords; i++)
		a->keywords[a->n_keywords++] = xstrdup(o->keywords[i]);
	a->internal_date = o->internal_date ? o->internal_date : store_now(u->store);
	a->internal_tz = o->internal_tz;
	a->buf = xmalloc(APPEND_BUF);
	*a_r = a;
	return 0;
}

static int write_job(void *p)
{
	struct store_append *a = p;
	return msgfile_writer_write(a->w, a->data, a->data_len);
}

static int write_through(struct store_append *a, const uint8_t *data, size_t len)
{
	int r = 0;
	while (r == 0 && len > 0) {
		a->data = data;
		a->data_len = len < APPEND_JOB_MAX ? len : APPEND_JOB_MAX;
		r = store__pool(write_job, a);
		data += a->data_len;
		len -= a->data_len;
	}
	return r;
}

int store_append_write(struct store_append *a, const void *data, size_t len)
{
	int r = a->finished ? -EINVAL : a->error;

	if (r == 0 && len > MSGFILE_MAX_SIZE - a->size)
		r = -EFBIG;
	if (r == 0 && len > APPEND_BUF - a->len) {
		r = a->len ? write_through(a, a->buf, a->len) : 0;
		a->len = 0;
		if (r == 0 && len >= APPEND_BUF)
			r = write_through(a, data, len);
		else if (r == 0)
			memcpy(a->buf, data, len), a->len = len;
	} else if (r == 0) {
		memcpy(a->buf + a->len, data, len);
		a->len += len;
	}
	if (r == 0)
		a->size += len;
	a->error = r;
	return r;
}

static int finish_job(void *p)
{
	struct store_append *a = p;
	int r = a->len ? msgfile_writer_write(a->w, a->buf, a->len) : 0;
	a->len = 0;
	return r == 0 ? msgfile_writer_finish(a->w) : r;	/* and fsync */
}

int store_append_finish(struct store_append *a)
{
	if (a->finished)
		return a->error;
	int r = a->error ? a->error : store__pool(finish_job, a);
	/* A staged message keeps neither its buffer nor its descriptor. */
	msgfile_writer_free(&a->w);
	crypto_wipe(a->buf, APPEND_BUF);
	free(a->buf);
	a->buf = NULL;
	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	a->finished = true;
	a->error = r;
	return r;
}

static int record(struct meta *m, struct store_append *a)
{
	struct meta_append_req req = {
		.flags = a->flags, .keywords = (const char *const *)a->keywords,
		.n_keywords = a->n_keywords, .internal_date = a->internal_date,
		.internal_tz = a->internal_tz,
	};
	int r = meta_add_message(m, a->file, a->size, a->blob, sizeof(a->blob), &req.message_id,
				 &a->why);
	return r < 0 ? r : meta_append(m, a->mailbox, &req, &a->res, &a->why);
}

static int place_one(struct store_append *a)
{
	char *final = xasprintf("%s/messages/%s", a->u->dir, a->file);
	int r = store__make_shard(a->u->dir, a->file);
	int fd = r < 0 ? -1 : open(a->tmp_path, O_RDONLY | O_CLOEXEC);

	if (r == 0 && fd < 0)
		r = -errno;
	if (r == 0)
		r = msgfile_commit(fd, a->tmp_path, final);
	if (fd >= 0)
		close(fd);
	if (r == 0) {
		free(a->tmp_path);
		a->tmp_path = NULL;
		a->placed = true;
	}
	free(final);
	return r;
}

/* A file placed but not recorded goes back out, so no orphan duplicates
 * it later. */
static void unplace(struct store_append *a)
{
	char *final = xasprintf("%s/messages/%s", a->u->dir, a->file);
	if (a->placed && unlink(final) == 0) {
		char *shard = xstrndup(final, strlen(final) - (STORE_FILE_LEN - 2));
		userdir_fsync_dir(shard);
		free(shard);
	}
	a->placed = false;
	free(final);
}

struct place_all {
	struct store_append **as;
	size_t n;
	const char *why;
};

/* Under the lock: every file into messages/, then all of them into
 * meta.sqlite in one transaction (MULTIAPPEND is all or nothing). */
static int place_all_job(void *p)
{
	struct place_all *pa = p;
	struct meta *m = pa->as[0]->u->meta;
	int r = 0;

	for (size_t i = 0; r == 0 && i < pa->n; i++)
		r = place_one(pa->as[i]);
	if (r == 0)
		r = meta_begin(m);
	for (size_t i = 0; r == 0 && i < pa->n; i++) {
		r = record(m, pa->as[i]);
		if (r < 0) {
			pa->why = pa->as[i]->why;
			meta_rollback(m);
		}
	}
	if (r == 0)
		r = meta_commit(m);
	if (r < 0)
		for (size_t i = 0; i < pa->n; i++)
			unplace(pa->as[i]);
	return r;
}

int store_append_commit_all(struct store_append **as, size_t n, struct meta_appended *res_r,
			    const char **error_r)
{
	struct place_all pa = { as, n, NULL };
	struct store_user *u = n ? as[0]->u : NULL;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		int e = store_append_finish(as[i]);
		if (r == 0 && e < 0)
			r = e;
		if (as[i]->u != u)
			r = -EINVAL;
	}
	if (r == 0 && n > 0) {
		store__lock(&u->lock);
		r = u->state == STORE__OPEN ? store__pool(place_all_job, &pa) : -EIO;
		store__unlock(&u->lock);
	}
	if (r == 0 && n > 0) {
		store__changed(u);
		for (size_t i = 0; i < n; i++) {
			as[i]->placed = false;
			if (res_r)
				res_r[i] = as[i]->res;
		}
	} else if (r < 0 && error_r) {
		*error_r = pa.why ? pa.why : r == -EFBIG ? "the message is too large"
							 : "cannot store the message";
	}
	for (size_t i = 0; i < n; i++)
		store_append_abort(&as[i]);
	return r;
}

int store_append_commit(struct store_append **ap, struct meta_appended *res_r,
			const char **error_r)
{
	return store_append_commit_all(ap, 1, res_r, error_r);
}

void store_append_abort(struct store_append **ap)
{
	struct store_append *a = *ap;

	if (!a)
		return;
	msgfile_writer_free(&a->w);
	if (a->tmp_path)
		unlink(a->tmp_path);
	if (a->fd >= 0)
		close(a->fd);
	free(a->tmp_path);
	for (size_t i = 0; i < a->n_keywords; i++)
		free(a->keywords[i]);
	free(a->keywords);
	if (a->buf)
		crypto_wipe(a->buf, APPEND_BUF);
	free(a->buf);
	crypto_wipe(a->blob, sizeof(a->blob));
	free(a);
	*ap = NULL;
}
