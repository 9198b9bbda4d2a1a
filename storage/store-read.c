/* Reading a message: meta.sqlite says which file and holds its key (no RSA
 * after the first import); the file authenticates chunk by chunk, so a
 * damaged message fails with -EBADMSG and never yields wrong bytes. A
 * message whose file is missing reads as a short notice (manual: Backups
 * and Recovery, "Messages in the database but not in the filesystem"). */
#include "storage/store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/util/buf.h"
#include "src/util/xmalloc.h"

#define STORE_PREFETCH (64 * 1024)	/* bodies read whole at open */
#define STORE_WINDOW (64 * 1024)	/* small reads are served from a window */

struct store_message {
	struct store_message_info info;
	int fd;
	struct msgfile_reader *rd;
	uint8_t *data;		/* the whole body, when prefetched or a stub */
	uint8_t *win;		/* else the last window read for small reads */
	uint64_t win_off;
	size_t win_len;
	/* the read job's arguments */
	uint64_t off;
	void *out;
	size_t len;
};

/* The RFC 5322 date of t in zone tz (minutes east). */
static void format_date(int64_t t, int tz, char *out, size_t size)
{
	time_t local = (time_t)(t + (int64_t)tz * 60);
	struct tm tm;
	int a = tz < 0 ? -tz : tz;

	gmtime_r(&local, &tm);
	size_t n = strftime(out, size, "%a, %d %b %Y %H:%M:%S ", &tm);
	snprintf(out + n, size - n, "%c%02d%02d", tz < 0 ? '-' : '+', a / 60, a % 60);
}

static void make_stub(struct store_message *msg, const char *file)
{
	struct buf b = BUF_INIT(0);
	char date[64];

	format_date(msg->info.internal_date, msg->info.internal_tz, date, sizeof(date));
	buf_printf(&b,
		   "From: Mail System <postmaster@sealmail.invalid>\r\n"
		   "Subject: This message is missing from the server\r\n"
		   "Date: %s\r\n"
		   "Message-ID: <%s.missing@sealmail.invalid>\r\n"
		   "MIME-Version: 1.0\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n"
		   "Content-Transfer-Encoding: 7bit\r\n"
		   "\r\n"
		   "The file that holds this message is missing from the server:\r\n"
		   "\r\n"
		   "    messages/%s\r\n"
		   "\r\n"
		   "This happens when a backup is restored without all message files,\r\n"
		   "or when a file was removed by hand. If a backup has the file, an\r\n"
		   "administrator can put it back under the same name in your user\r\n"
		   "directory, and the message will read normally again. Otherwise the\r\n"
		   "message cannot be recovered: delete it to make this notice go away.\r\n",
		   date, msg->info.email_id, file);
	msg->info.stub = true;
	msg->info.size = b.len;
	msg->data = (uint8_t *)buf_steal(&b);
}

/* The flags of (mailbox, uid): a STORE that adds nothing changes nothing
 * and takes no MODSEQ, but reports the flag set as it is. */
static int read_flags(struct meta *m, int64_t mailbox, uint32_t uid, struct store_message_info *info)
{
	struct meta_uid_range one = { uid, uid };
	struct meta_store_req req = { .op = META_STORE_ADD, .unchanged_since = META_UNCHANGED_ANY };
	struct meta_store_result res;
	int r = meta_store(m, mailbox, &one, 1, &req, &res, NULL);

	if (r < 0)
		return r;
	if (res.unchanged.n == 1) {
		const struct meta_msg *mm = &res.unchanged.v[0];
		info->flags = mm->flags;
		info->keywords = xcalloc(mm->kw_n + 1, sizeof(*info->keywords));
		for (uint32_t i = 0; i < mm->kw_n; i++) {
			const char *name = meta_keyword_name(m, res.unchanged.kw[mm->kw_off + i]);
			if (name)
				info->keywords[info->n_keywords++] = xstrdup(name);
		}
	}
	meta_store_result_free(&res);
	return 0;
}

struct open_job {
	struct store_user *u;
	int64_t mailbox;
	uint32_t uid;
	struct store_message *msg;
	const char *why;
};

/* Opens the file, authenticates it with the key from meta.sqlite and
 * reads a small body whole. -ENOENT when the file is missing. */
static int open_file(struct store_user *u, const struct meta_message_info *info,
		     struct store_message *msg)
{
	char *path = xasprintf("%s/messages/%s", u->dir, info->file);
	uint8_t key[CRYPTO_KEY_LEN];

	msg->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(path);
	if (msg->fd < 0)
		return -errno;
	int r = msgfile_reader_open(msg->fd, &msg->rd);
	if (r == 0)
		r = store__key_open(u, info->file, info->key, info->key_len, key);
	if (r == 0)
		r = msgfile_reader_set_key(msg->rd, key);
	crypto_wipe(key, sizeof(key));
	if (r < 0)
		return r == -ENOENT ? -EBADMSG : r;
	msg->info.size = msgfile_reader_size(msg->rd);
	if (msg->info.size > STORE_PREFETCH)
		return 0;
	msg->data = xmalloc(msg->info.size + 1);
	ssize_t n = msgfile_read_range(msg->rd, 0, msg->data, msg->info.size);
	if (n != (ssize_t)msg->info.size)
		return n < 0 ? (int)n : -EBADMSG;
	msgfile_reader_free(&msg->rd);
	close(msg->fd);
	msg->fd = -1;
	return 0;
}

static int open_job(void *p)
{
	struct open_job *j = p;
	struct store_message *msg = j->msg;
	struct meta_message_info info;
	int r = meta_lookup(j->u->meta, j->mailbox, j->uid, &info, &j->why);

	if (r < 0)
		return r;
	msg->info.internal_date = info.internal_date;
	msg->info.internal_tz = info.internal_tz;
	msg->info.expunged = info.expunged;
	msg->info.message_id = info.message_id;
	msg->info.header_cached = info.header_cached;
	memcpy(msg->info.email_id, info.email_id, sizeof(info.email_id));
	if (!info.expunged)
		r = read_flags(j->u->meta, j->mailbox, j->uid, &msg->info);
	if (r == 0)
		r = info.missing ? -ENOENT : open_file(j->u, &info, msg);
	if (r == -ENOENT)
		make_stub(msg, info.file);
	if (r == -ENOENT)
		r = 0;
	if (r == -EBADMSG)
		j->why = "the message file is damaged";
	meta_message_info_free(&info);
	return r;
}

static void free_data(struct store_message *msg)
{
	if (msg->data)
		crypto_wipe(msg->data, msg->info.size);
	free(msg->data);
	msg->data = NULL;
}

int store_message_open(struct store_user *u, int64_t mailbox, uint32_t uid,
		       struct store_message **msg_r, const char **error_r)
{
	struct store_message *msg = xcalloc(1, sizeof(*msg));
	struct open_job j = { u, mailbox, uid, msg, NULL };

	msg->fd = -1;
	*msg_r = NULL;
	store__lock(&u->lock);
	int r = u->state == STORE__OPEN ? store__pool(open_job, &j) : -EIO;
	store__unlock(&u->lock);
	if (r < 0) {
		if (error_r)
			*error_r = j.why ? j.why : "cannot open the message";
		store_message_close(&msg);
		return r;
	}
	*msg_r = msg;
	return 0;
}

const struct store_message_info *store_message_info(const struct store_message *msg)
{
	return &msg->info;
}

static int read_job(void *p)
{
	struct store_message *msg = p;
	ssize_t n = msgfile_read_range(msg->rd, msg->off, msg->out, msg->len);
	return (int)n;	/* at most STORE_READ_MAX */
}

/* A parser reads a message in small pieces, mostly in order: each piece
 * would cost a trip to the pool, so a read smaller than the window fills
 * the window (aligned, STORE_WINDOW bytes) and later reads inside it are
 * copies. Larger reads go straight to the caller's buffer. */
static ssize_t read_window(struct store_message *msg, uint64_t offset, void *buf, size_t len)
{
	if (!msg->win || offset < msg->win_off || offset >= msg->win_off + msg->win_len) {
		if (!msg->win)
			msg->win = xmalloc(STORE_WINDOW);
		msg->win_len = 0;
		msg->off = offset - offset % STORE_WINDOW;
		msg->out = msg->win;
		msg->len = STORE_WINDOW;
		int n = store__pool(read_job, msg);
		if (n <= 0)
			return n < 0 ? n : -EBADMSG;
		msg->win_off = msg->off;
		msg->win_len = (size_t)n;
		if (offset >= msg->win_off + msg->win_len)
			return -EBADMSG;	/* shorter than its size said */
	}
	size_t avail = (size_t)(msg->win_off + msg->win_len - offset);
	size_t n = len < avail ? len : avail;
	memcpy(buf, msg->win + (offset - msg->win_off), n);
	return (ssize_t)n;
}

ssize_t store_message_read(struct store_message *msg, uint64_t offset, void *buf, size_t len)
{
	if (offset >= msg->info.size || len == 0)
		return 0;
	if (len > msg->info.size - offset)
		len = (size_t)(msg->info.size - offset);
	if (msg->data) {
		memcpy(buf, msg->data + offset, len);
		return (ssize_t)len;
	}
	if (len < STORE_WINDOW)
		return read_window(msg, offset, buf, len);
	msg->off = offset;
	msg->out = buf;
	msg->len = len < STORE_READ_MAX ? len : STORE_READ_MAX;
	return store__pool(read_job, msg);
}

void store_message_close(struct store_message **msgp)
{
	struct store_message *msg = *msgp;

	if (!msg)
		return;
	msgfile_reader_free(&msg->rd);
	if (msg->fd >= 0)
		close(msg->fd);
	free_data(msg);
	if (msg->win)
		crypto_wipe(msg->win, STORE_WINDOW);
	free(msg->win);
	for (size_t i = 0; i < msg->info.n_keywords; i++)
		free(msg->info.keywords[i]);
	free(msg->info.keywords);
	free(msg);
	*msgp = NULL;
}
