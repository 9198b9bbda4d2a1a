/* Unit tests of protocols/smtp/spool.c: small bodies stay in memory,
 * large ones go to a file that has no name and holds no plaintext, the
 * daemon-wide memory cap spills early, and what comes back is what went
 * in, whatever the write pattern. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "coro/coro.h"
#include "protocols/smtp/spool.h"
#include "src/util/xmalloc.h"

static uv_loop_t loop;
static char dir[] = "/tmp/smtp-spool-test.XXXXXX";

static void run(coro_fn *fn)
{
	CHECK(mkdtemp(dir) != NULL);
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	CHECK(coro_spawn(fn, NULL, 256 * 1024) != NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
	CHECK_INT(rmdir(dir), ==, 0);	/* empty: nothing was left behind */
}

/* A recognisable pattern: the marker every 4 KiB lets us look for
 * plaintext on disk. */
static uint8_t *pattern(size_t len)
{
	uint8_t *p = xmalloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + i / 7);
	for (size_t i = 0; i + 16 <= len; i += 4096)
		memcpy(p + i, "PLAINTEXT-MARKER", 16);
	return p;
}

static void write_in_pieces(struct smtp_spool *sp, const uint8_t *data, size_t len)
{
	size_t sizes[] = { 1, 2, 1000, 65536, 300000, 7 };
	for (size_t off = 0, k = 0; off < len; k++) {
		size_t n = sizes[k % 6];
		if (n > len - off)
			n = len - off;
		CHECK_INT(smtp_spool_write(sp, data + off, n), ==, 0);
		off += n;
	}
}

static void check_read_back(struct smtp_spool *sp, const uint8_t *want, size_t len)
{
	uint8_t *got = xmalloc(len + 1);
	size_t off = 0;
	for (;;) {
		ssize_t n = smtp_spool_read(sp, off, got + off, 100000);
		CHECK_INT(n, >=, 0);
		if (n == 0)
			break;
		off += (size_t)n;
	}
	CHECK_INT(off, ==, len);
	CHECK(memcmp(got, want, len) == 0);
	free(got);
}

/* The spool's file, found through /proc: its link names our directory. */
static bool spool_file_has_plaintext(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	bool found_file = false, plain = false;
	while ((e = readdir(d))) {
		char link[PATH_MAX + 32], target[PATH_MAX];
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, dir, strlen(dir)) != 0)
			continue;
		found_file = true;
		int fd = open(link, O_RDONLY);
		static char buf[1 << 16];
		ssize_t r;
		while (fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
			if (memmem(buf, (size_t)r, "PLAINTEXT-MARKER", 16))
				plain = true;
		if (fd >= 0)
			close(fd);
	}
	closedir(d);
	CHECK(found_file);
	return plain;
}

static size_t dir_entries(void)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;
}

static void small_body_stays_in_memory_co(void *arg)
{
	size_t len = 200000;
	uint8_t *data = pattern(len);
	struct smtp_spool *sp = smtp_spool_new(dir);
	write_in_pieces(sp, data, len);
	CHECK(!smtp_spool_spilled(sp));
	CHECK_INT(smtp_spool_finish(sp), ==, 0);
	const void *mem;
	size_t mlen;
	CHECK(smtp_spool_memory(sp, &mem, &mlen));
	CHECK_INT(mlen, ==, len);
	CHECK(memcmp(mem, data, len) == 0);
	check_read_back(sp, data, len);
	CHECK_INT(smtp_spool_mem_total(), >, 0);
	smtp_spool_free(&sp);
	CHECK_INT(smtp_spool_mem_total(), ==, 0);
	free(data);
}

TEST(small_body_stays_in_memory)
{
	run(small_body_stays_in_memory_co);
}

static void large_body_spills_encrypted_co(void *arg)
{
	size_t len = 5 * 1024 * 1024 + 123;
	uint8_t *data = pattern(len);
	struct smtp_spool *sp = smtp_spool_new(dir);
	write_in_pieces(sp, data, len);
	CHECK(smtp_spool_spilled(sp));
	CHECK_INT(smtp_spool_size(sp), ==, len);
	CHECK_INT(smtp_spool_finish(sp), ==, 0);
	const void *mem;
	size_t mlen;
	CHECK(!smtp_spool_memory(sp, &mem, &mlen));
	CHECK_INT(dir_entries(), ==, 0);	/* O_TMPFILE: no name */
	CHECK(!spool_file_has_plaintext());
	check_read_back(sp, data, len);
	/* A second reader pass (the next recipient) gives the same. */
	check_read_back(sp, data, len);
	CHECK_INT(smtp_spool_mem_total(), ==, 0);	/* staging freed at finish */
	smtp_spool_free(&sp);
	free(data);
}

TEST(large_body_spills_to_an_encrypted_nameless_file)
{
	run(large_body_spills_encrypted_co);
}

static void memory_cap_spills_early_co(void *arg)
{
	enum { N = SMTP_SPOOL_MEM_TOTAL / SMTP_SPOOL_MEM + 2 };
	struct smtp_spool *sp[N];
	uint8_t *data = pattern(SMTP_SPOOL_MEM);
	for (int i = 0; i < N; i++) {
		sp[i] = smtp_spool_new(dir);
		CHECK_INT(smtp_spool_write(sp[i], data, SMTP_SPOOL_MEM), ==, 0);
		CHECK_INT(smtp_spool_mem_total(), <=, SMTP_SPOOL_MEM_TOTAL);
	}
	CHECK(!smtp_spool_spilled(sp[0]));
	CHECK(smtp_spool_spilled(sp[N - 1]));
	for (int i = 0; i < N; i++) {
		CHECK_INT(smtp_spool_finish(sp[i]), ==, 0);
		check_read_back(sp[i], data, SMTP_SPOOL_MEM);
		smtp_spool_free(&sp[i]);
	}
	CHECK_INT(smtp_spool_mem_total(), ==, 0);
	free(data);
}

TEST(memory_cap_across_spools_spills_early)
{
	run(memory_cap_spills_early_co);
}

static void empty_and_limits_co(void *arg)
{
	struct smtp_spool *sp = smtp_spool_new(dir);
	CHECK_INT(smtp_spool_finish(sp), ==, 0);
	uint8_t b[4];
	CHECK_INT(smtp_spool_read(sp, 0, b, sizeof(b)), ==, 0);
	CHECK_INT(smtp_spool_write(sp, "x", 1), ==, -EINVAL);	/* after finish */
	smtp_spool_free(&sp);
	smtp_spool_free(&sp);	/* NULL is fine */
	sp = smtp_spool_new("/nonexistent-dir-for-spool");
	uint8_t *data = pattern(SMTP_SPOOL_MEM + 1);
	CHECK_INT(smtp_spool_write(sp, data, SMTP_SPOOL_MEM + 1), ==, -ENOENT);
	CHECK_INT(smtp_spool_write(sp, "x", 1), ==, -ENOENT);	/* sticky */
	smtp_spool_free(&sp);
	free(data);
}

TEST(empty_body_and_errors)
{
	run(empty_and_limits_co);
}
