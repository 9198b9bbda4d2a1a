#include "protocols/smtp/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/msgfile.h"

#define SPOOL_FIRST (16 * 1024)		/* first allocation */
#define SPOOL_PREFIX ".smtp-spool."	/* named spill files (no O_TMPFILE) */
#define SPOOL_STALE 60			/* seconds: a named file older is a leftover */
#define SPOOL_STAGE (256 * 1024)	/* bytes per trip to the pool once spilled */

struct smtp_spool {
	const char *dir;
	uint8_t *mem;		/* the body, or once spilled the staging buffer */
	size_t len, cap;
	size_t counted;		/* of cap, in mem_total: a body in memory */
	uint64_t size;		/* bytes written in all */
	int fd;			/* -1 until spilled */
	struct msgfile_writer *w;
	struct msgfile_reader *r;
	uint8_t key[CRYPTO_KEY_LEN];
	int error;
	bool finished;
	/* the current pool job */
	const uint8_t *job_data;
	size_t job_len;
	uint64_t job_off;
	ssize_t job_res;
};

/* Memory held by every spool: only the loop thread touches it. */
static size_t mem_total;

size_t smtp_spool_mem_total(void)
{
	return mem_total;
}

/* Resizes the buffer, keeping the total in step: it counts bodies held in
 * memory, not the staging buffer of a spilled spool (a fixed cost, like
 * its msgfile writer). The old bytes are wiped: they are mail. */
static void set_cap(struct smtp_spool *sp, size_t cap)
{
	uint8_t *mem = cap ? xmalloc(cap) : NULL;
	if (sp->len)
		memcpy(mem, sp->mem, sp->len);
	if (sp->mem) {
		crypto_wipe(sp->mem, sp->cap);
		free(sp->mem);
	}
	mem_total -= sp->counted;
	sp->counted = sp->fd < 0 ? cap : 0;
	mem_total += sp->counted;
	sp->mem = mem;
	sp->cap = cap;
}

struct smtp_spool *smtp_spool_new(const char *dir)
{
	struct smtp_spool *sp = xcalloc(1, sizeof(*sp));
	sp->dir = dir;
	sp->fd = -1;
	return sp;
}

static void run_job(void *arg, int (*fn)(struct smtp_spool *sp))
{
	struct smtp_spool *sp = arg;
	sp->job_res = fn(sp);
}

#define POOL_JOB(name)                                                      \
	static void name##_job(void *arg) { run_job(arg, name); }

/* A named spill file lives for microseconds (unlinked as soon as made);
 * one still there after a minute was left by a crash between the two
 * steps. Once per process, on the first named spill. */
static void sweep_leftovers(const char *dir)
{
	static atomic_flag swept = ATOMIC_FLAG_INIT;
	if (atomic_flag_test_and_set(&swept))
		return;
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, SPOOL_PREFIX, strlen(SPOOL_PREFIX)) == 0 &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < time(NULL) - SPOOL_STALE)
			unlinkat(dirfd(d), e->d_name, 0);
	}
	if (d)
		closedir(d);
}

/* A file that never has a name: it vanishes with its last descriptor. */
static int tmp_open(const char *dir)
{
	int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	sweep_leftovers(dir);
	char *path = xasprintf("%s/" SPOOL_PREFIX "XXXXXX", dir);
	fd = mkostemp(path, O_CLOEXEC);
	int r = fd < 0 ? -errno : fd;
	if (fd >= 0)
		unlink(path);
	free(path);
	return r;
}

static int spill(struct smtp_spool *sp)
{
	static const uint8_t blob[1] = { 0 };
	const struct msgfile_wrap wrap = { MSGFILE_WRAP_SYMMETRIC, "smtp-spool", blob, 1 };
	/* Level 1: the file lives for seconds; speed matters more. */
	const struct msgfile_writer_opts opts = { .level = 1 };
	sp->fd = tmp_open(sp->dir);
	if (sp->fd < 0)
		return sp->fd;
	crypto_random(sp->key, sizeof(sp->key));
	int r = msgfile_writer_open(sp->fd, sp->key, &wrap, &opts, &sp->w);
	if (r == 0 && sp->len)
		r = msgfile_writer_write(sp->w, sp->mem, sp->len);
	return r;
}
POOL_JOB(spill)

static int write_file(struct smtp_spool *sp)
{
	return msgfile_writer_write(sp->w, sp->job_data, sp->job_len);
}
POOL_JOB(write_file)

static int finish_file(struct smtp_spool *sp)
{
	int r = msgfile_writer_finish(sp->w);
	msgfile_writer_free(&sp->w);
	if (r == 0)
		r = msgfile_reader_open(sp->fd, &sp->r);
	if (r == 0)
		r = msgfile_reader_set_key(sp->r, sp->key);
	return r;
}
POOL_JOB(finish_file)

static ssize_t read_file(struct smtp_spool *sp)
{
	return msgfile_read_range(sp->r, sp->job_off, (void *)sp->job_data, sp->job_len);
}
static void read_file_job(void *arg)
{
	struct smtp_spool *sp = arg;
	sp->job_res = read_file(sp);
}

static int pool(struct smtp_spool *sp, void (*job)(void *))
{
	int r = coro_await_work(job, sp);
	return r < 0 ? r : (int)sp->job_res;
}

static int write_through(struct smtp_spool *sp, const void *data, size_t len)
{
	sp->job_data = data;
	sp->job_len = len;
	return pool(sp, write_file_job);
}

/* Moves the body to a file; the buffer becomes the staging buffer. */
static int start_spill(struct smtp_spool *sp)
{
	int r = pool(sp, spill_job);
	sp->len = 0;
	if (r == 0)
		set_cap(sp, SPOOL_STAGE);
	return r;
}

static int write_memory(struct smtp_spool *sp, const uint8_t *data, size_t len)
{
	if (len <= sp->cap - sp->len) {
		memcpy(sp->mem + sp->len, data, len);
		sp->len += len;
		return 0;
	}
	size_t need = sp->len + len, cap = sp->cap ? sp->cap : SPOOL_FIRST;
	while (cap < need && cap < SMTP_SPOOL_MEM)
		cap *= 2;
	if (cap > SMTP_SPOOL_MEM)
		cap = SMTP_SPOOL_MEM;
	/* Too big for memory, or memory is short across the daemon. */
	if (need > SMTP_SPOOL_MEM || cap - sp->cap > SMTP_SPOOL_MEM_TOTAL - mem_total)
		return 1;
	set_cap(sp, cap);
	memcpy(sp->mem + sp->len, data, len);
	sp->len += len;
	return 0;
}

static int write_staged(struct smtp_spool *sp, const uint8_t *data, size_t len)
{
	int r = 0;
	while (r == 0 && len > 0) {
		if (sp->len == 0 && len >= sp->cap)
			return write_through(sp, data, len);
		size_t n = sp->cap - sp->len < len ? sp->cap - sp->len : len;
		memcpy(sp->mem + sp->len, data, n);
		sp->len += n;
		data += n;
		len -= n;
		if (sp->len == sp->cap) {
			r = write_through(sp, sp->mem, sp->len);
			sp->len = 0;
		}
	}
	return r;
}

int smtp_spool_write(struct smtp_spool *sp, const void *data, size_t len)
{
	if (sp->error || sp->finished)
		return sp->error ? sp->error : -EINVAL;
	if (len > MSGFILE_MAX_SIZE - sp->size)
		return sp->error = -EFBIG;
	int r = 0;
	if (sp->fd < 0) {
		r = write_memory(sp, data, len);
		if (r <= 0)
			goto out;
		r = start_spill(sp);
	}
	if (r == 0)
		r = write_staged(sp, data, len);
out:
	if (r < 0)
		sp->error = r;
	else
		sp->size += len;
	return r;
}

int smtp_spool_finish(struct smtp_spool *sp)
{
	if (sp->error || sp->finished)
		return sp->error;
	sp->finished = true;
	if (sp->fd < 0)
		return 0;
	int r = sp->len ? write_through(sp, sp->mem, sp->len) : 0;
	sp->len = 0;
	set_cap(sp, 0);
	if (r == 0)
		r = pool(sp, finish_file_job);
	if (r < 0)
		sp->error = r;
	return r;
}

uint64_t smtp_spool_size(const struct smtp_spool *sp)
{
	return sp->size;
}

bool smtp_spool_spilled(const struct smtp_spool *sp)
{
	return sp->fd >= 0;
}

bool smtp_spool_memory(const struct smtp_spool *sp, const void **data_r, size_t *len_r)
{
	if (sp->fd >= 0 || !sp->finished)
		return false;
	*data_r = sp->mem ? sp->mem : (const void *)"";
	*len_r = sp->len;
	return true;
}

ssize_t smtp_spool_read(struct smtp_spool *sp, uint64_t offset, void *buf, size_t len)
{
	if (!sp->finished || sp->error)
		return sp->error ? sp->error : -EINVAL;
	if (offset >= sp->size || len == 0)
		return 0;
	if (sp->fd < 0) {
		size_t n = sp->size - offset < len ? (size_t)(sp->size - offset) : len;
		memcpy(buf, sp->mem + offset, n);
		return (ssize_t)n;
	}
	if (len > 1024 * 1024)
		len = 1024 * 1024;	/* one pool job stays short */
	sp->job_data = buf;
	sp->job_len = len;
	sp->job_off = offset;
	int r = coro_await_work(read_file_job, sp);
	return r < 0 ? r : sp->job_res;
}

void smtp_spool_free(struct smtp_spool **spp)
{
	struct smtp_spool *sp = *spp;
	if (!sp)
		return;
	sp->len = 0;
	set_cap(sp, 0);
	msgfile_writer_free(&sp->w);
	msgfile_reader_free(&sp->r);
	if (sp->fd >= 0)
		close(sp->fd);
	crypto_wipe(sp->key, sizeof(sp->key));
	free(sp);
	*spp = NULL;
}
