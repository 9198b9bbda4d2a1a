/* Helpers shared by the tests of storage/store*.c (test-store*.c): one
 * template user made in main() (one RSA-4096 generation per test binary),
 * copied for each test into its own mkdtemp root; a real libuv loop and
 * coroutine runtime per test; deliveries, appends and whole-message reads.
 *
 * A test file defines its tests with STORE_TEST(name) { ... }: the body
 * runs inside a coroutine on a fresh loop, with st_users and st_dir set to
 * the copied user, and the harness ends with the loop drained. */
#ifndef SEAL_TESTS_TEST_STORE_H
#define SEAL_TESTS_TEST_STORE_H

#include "tests/unit/test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/sha256.h>
#include <uv.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/delivery.h"
#include "storage/keys.h"
#include "storage/store.h"
#include "storage/userdir.h"

#define ST_PASSWORD "correct horse battery staple"

/* A string literal and its length, as two arguments. */
#define TEXT(s) s, sizeof(s) - 1

static const struct argon_params st_cheap = { .memory_kib = 256, .iterations = 1,
					      .parallelism = 1 };
static char st_template[64];
static char st_root[128], st_users[160], st_dir[192];
static int64_t st_clock_now;	/* the injected clock, when st_settings says so */

static inline int64_t st_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

/* Settings for tests: no background key generation, clock injected. */
static inline struct store_settings st_settings(void)
{
	struct store_settings s;
	store_settings_default(&s);
	s.no_key_rotation = true;
	if (!st_clock_now)
		st_clock_now = (int64_t)time(NULL);
	s.clock = st_clock;
	s.clock_ctx = &st_clock_now;
	return s;
}

static inline void st_fresh_user(void)
{
	snprintf(st_root, sizeof(st_root), "%s/t-XXXXXX", st_template);
	CHECK(mkdtemp(st_root) != NULL);
	snprintf(st_users, sizeof(st_users), "%s/users", st_root);
	snprintf(st_dir, sizeof(st_dir), "%s/u", st_users);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkdir %s && cp -a %s/users/tmpl %s", st_users, st_template,
		 st_dir);
	CHECK_INT(system(cmd), ==, 0);
}

struct st_run_arg {
	void (*fn)(void);
};

static inline void st_run_coro(void *p)
{
	((struct st_run_arg *)p)->fn();
}

/* Runs fn in a coroutine on a new loop until everything finished. */
static inline void st_run(void (*fn)(void))
{
	uv_loop_t loop;
	struct st_run_arg a = { fn };
	CHECK_INT(uv_loop_init(&loop), ==, 0);
	CHECK_INT(coro_runtime_init(&loop), ==, 0);
	CHECK(coro_spawn(st_run_coro, &a, 256 * 1024) != NULL);
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	CHECK_INT(uv_loop_close(&loop), ==, 0);
}

#define STORE_TEST(name)                                                               \
	static void store_test_##name(void);                                           \
	TEST(name)                                                                     \
	{                                                                              \
		st_fresh_user();                                                       \
		st_run(store_test_##name);                                             \
		userdir_remove_tree(st_root);                                          \
	}                                                                              \
	static void store_test_##name(void)

static inline struct store *st_store(const struct store_settings *s)
{
	struct store *st;
	CHECK_INT(store_new(st_users, s, &st), ==, 0);
	return st;
}

static inline struct store_user *st_login(struct store *st, const char *password)
{
	struct store_user *u = NULL;
	char *err = NULL;
	int r = store_login(st, "u", password, &u, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "login: %d %s", r, err ? err : "");
	free(err);
	return u;
}

/* Binary content with many NULs, different for every seed. */
static inline uint8_t *st_pattern(size_t len, unsigned seed)
{
	uint8_t *p = xmalloc(len + 1);
	uint32_t x = seed * 2654435761u + 12345;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = (uint8_t)(x % 5 == 0 ? 0 : (x >> 8) % (seed % 3 == 0 ? 16 : 256));
	}
	return p;
}

/* Delivers data to user "u" without the store (as `sealmail deliver`). */
static inline void st_deliver_offline(const void *data, size_t len, const char *mailbox)
{
	struct delivery_opts o = { .mailbox = mailbox };
	int fd = memfd_create("st", MFD_CLOEXEC);
	char *err = NULL;
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	int r = delivery_deliver_fd(st_users, "u", fd, &o, NULL, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "delivery: %d %s", r, err ? err : "");
	close(fd);
}

static inline struct meta_appended st_append(struct store_user *u, const char *mailbox,
					     const void *data, size_t len, uint32_t flags)
{
	struct store_append_opts o = { .flags = flags };
	struct store_append *a;
	struct meta_appended res;
	const char *why = NULL;
	int r = store_append_begin(u, mailbox, &o, &a, &why);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "append: %d %s", r, why ? why : "");
	CHECK_INT(store_append_write(a, data, len), ==, 0);
	r = store_append_commit(&a, &res, &why);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "append commit: %d %s", r, why ? why : "");
	return res;
}

/* Reads the whole message (mailbox, uid) into a heap buffer; returns 0 or
 * the first error. */
static inline int st_read(struct store_user *u, int64_t mailbox, uint32_t uid, uint8_t **data_r,
			  size_t *len_r)
{
	struct store_message *msg;
	int r = store_message_open(u, mailbox, uid, &msg, NULL);
	*data_r = NULL;
	*len_r = 0;
	if (r < 0)
		return r;
	size_t size = (size_t)store_message_info(msg)->size, off = 0;
	uint8_t *data = xmalloc(size + 1);
	while (off < size) {
		ssize_t n = store_message_read(msg, off, data + off, size - off);
		if (n <= 0) {
			store_message_close(&msg);
			free(data);
			return n < 0 ? (int)n : -EIO;
		}
		off += (size_t)n;
	}
	store_message_close(&msg);
	*data_r = data;
	*len_r = size;
	return 0;
}

static inline int64_t st_mailbox(struct store_user *u, const char *name)
{
	int64_t id = 0;
	CHECK_INT(store_mailbox_find(u, name, &id, NULL), ==, 0);
	return id;
}

/* The UIDs of a mailbox, in order (from a snapshot). */
static inline size_t st_uids(struct store_user *u, const char *name, uint32_t **uids_r)
{
	struct meta_snapshot snap;
	const char *why = NULL;
	int r = store_snapshot(u, name, &snap, &why);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "snapshot %s: %d %s", name, r, why ? why : "");
	uint32_t *v = xmalloc((snap.msgs.n + 1) * sizeof(*v));
	for (size_t i = 0; i < snap.msgs.n; i++)
		v[i] = snap.msgs.v[i].uid;
	size_t n = snap.msgs.n;
	meta_snapshot_free(&snap);
	*uids_r = v;
	return n;
}

/* main() for a store test binary: the template user, then the tests. */
static inline int st_main(int argc, char **argv, const char *name)
{
	char users[128], *err = NULL;
	if (argc > 1 && strcmp(argv[1], "--list") == 0)
		return test_main(argc, argv);
	snprintf(st_template, sizeof(st_template), "/tmp/%s-XXXXXX", name);
	snprintf(users, sizeof(users), "%s/users", mkdtemp(st_template) ? st_template : "/");
	if (mkdir(users, 0700) < 0) {
		perror("template");
		return 1;
	}
	if (account_create(users, "tmpl", ST_PASSWORD, &st_cheap, NULL, &err) < 0) {
		fprintf(stderr, "creating the template user: %s\n", err);
		return 1;
	}
	int r = test_main(argc, argv);
	userdir_remove_tree(st_template);
	return r;
}

#endif
