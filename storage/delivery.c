/* Writing delivered messages (delivery.h): encrypt while streaming, place
 * atomically under messages/, then list as pending in delivery.sqlite. */
#include <errno.h>
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
	int fd;
	struct msgfile_writer *w;
	uint8_t key[CRYPTO_KEY_LEN];	/* content key, for the instructions */
	struct delivery__target target;
	bool decided;		/* line ending mode known */
	bool convert;		/* insert CR before a bare LF */
	bool last_cr;		/* the last byte written was CR */
	uint64_t size, max;
	int error;		/* sticky after a failed write */
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

/* mkdir that accepts an existing directory. */
static int ensure_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
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
	r = ensure_dir(tmp_dir);
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

/* Makes messages/XX exist durably: the directory fsync also covers a shard
 * that another delivery created and has not yet synced. */
static int make_shard(const char *user_dir, const char *name)
{
	char *messages = xasprintf("%s/messages", user_dir);
	char *shard = xasprintf("%s/%.2s", messages, name);
	int r = ensure_dir(messages);

	if (r == 0)
		r = ensure_dir(shard);
	if (r == 0)
		r = userdir_fsync_dir(messages);
	free(shard);
	free(messages);
	return r;
}

/* Is path the file open on fd (same inode)? */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* Moves the finished file to messages/XX/REST under a fresh name. */
static int place(struct delivery *d, char name[DELIVERY_FILE_NAME_LEN + 1], char **final_r)
{
	int r = -EEXIST;

	for (int i = 0; i < DELIVERY_NAME_TRIES && r == -EEXIST; i++) {
		random_name(name);
		char *final = delivery_message_path(d->user_dir, name);
		r = make_shard(d->user_dir, name);
		if (r == 0)
			r = msgfile_commit(d->fd, d->tmp_path, final);
		/* After a failure the rename may have happened (only the
		 * directory fsync failed): then the new name is ours to undo,
		 * and the old one may already belong to another delivery. */
		if (r < 0 && r != -EEXIST && same_file(d->fd, final))
			unlink(final);
		if (r < 0 && !same_file(d->fd, d->tmp_path)) {
			free(d->tmp_path);
			d->tmp_path = NULL;
		}
		if (r == 0) {
			free(d->tmp_path);
			d->tmp_path = NULL;
			*final_r = final;
		} else {
			free(final);
		}
	}
	return r;
}

/* Seals the instructions and inserts the row; on failure takes the file
 * back out of messages/ so the sender's retry makes no duplicate. */
static int record(struct delivery *d, const char *name, const char *final, char **error_r)
{
	uint8_t *blob = NULL;
	size_t len = 0;
	int r = delivery__seal_instructions(d->key, &d->target, (int64_t)time(NULL), &blob, &len);

	if (r < 0)
		delivery__set_error(error_r, xstrdup("cannot seal the delivery instructions"));
	else
		r = delivery__db_insert(d->user_dir, name, blob, len, error_r);
	free(blob);
	if (r < 0 && unlink(final) == 0) {
		char *shard = xstrndup(final, strlen(final) - (DELIVERY_FILE_NAME_LEN - 1));
		userdir_fsync_dir(shard);
		free(shard);
	}
	return r;
}

int delivery_commit(struct delivery **dp, char **file_name_r, char **error_r)
{
	struct delivery *d = *dp;
	char name[DELIVERY_FILE_NAME_LEN + 1];
	char *final = NULL;
	int r = d->error;

	*dp = NULL;
	if (file_name_r)
		*file_name_r = NULL;
	if (r == 0 && d->size == 0) {
		r = -EINVAL;
		delivery__set_error(error_r, xstrdup("the message is empty"));
	} else if (r == -EFBIG) {
		delivery__set_error(error_r, xasprintf("the message is larger than %llu bytes",
						       (unsigned long long)d->max));
	} else if (r < 0) {
		delivery__set_error(error_r, xasprintf("writing the message: %s", strerror(-r)));
	}
	if (r == 0 && (r = msgfile_writer_finish(d->w)) < 0)
		delivery__set_error(error_r, xasprintf("finishing the message: %s", strerror(-r)));
	if (r == 0 && (r = place(d, name, &final)) < 0)
		delivery__set_error(error_r, xasprintf("%s/messages: cannot place the message: %s",
						       d->user_dir, strerror(-r)));
	if (r == 0)
		r = record(d, name, final, error_r);
	if (r == 0 && file_name_r)
		*file_name_r = xstrdup(name);
	free(final);
	delivery_abort(&d);
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
