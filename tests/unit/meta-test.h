/* Helpers shared by the tests of storage/meta.h (test-meta*.c): a fresh
 * mkdtemp directory and random key per test, and short ways to make
 * messages and find mailboxes. */
#ifndef SEAL_TESTS_META_TEST_H
#define SEAL_TESTS_META_TEST_H

#include "tests/unit/test.h"

#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/crypto.h"
#include "storage/meta.h"
#include "storage/vfs-crypt.h"

static char mt_dir[64];
static char mt_path[128];
static uint8_t mt_key[META_KEY_LEN];
static int64_t mt_time;	/* the injected clock, when mt_use_clock() was called */
static unsigned mt_files;

static inline int mt_rm(const char *path, const struct stat *st, int flag,
			struct FTW *ftw)
{
	return remove(path);
}

static inline int64_t mt_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static inline void mt_use_clock(struct meta *m, int64_t t)
{
	mt_time = t;
	meta_set_clock(m, mt_clock, &mt_time);
}

static inline void mt_setup(void)
{
	snprintf(mt_dir, sizeof(mt_dir), "/tmp/test-meta-XXXXXX");
	CHECK(mkdtemp(mt_dir) != NULL);
	snprintf(mt_path, sizeof(mt_path), "%s/meta.sqlite", mt_dir);
	crypto_random(mt_key, sizeof(mt_key));
	mt_files = 0;
}

static inline void mt_cleanup(void)
{
	CHECK_INT(nftw(mt_dir, mt_rm, 16, FTW_DEPTH | FTW_PHYS), ==, 0);
}

/* Each test runs in a forked child with its own directory, removed when
 * the test passes (a failed one keeps it to look at). */
#define META_TEST(name)                                                                \
	static void meta_test_##name(void);                                            \
	TEST(name)                                                                     \
	{                                                                              \
		mt_setup();                                                            \
		meta_test_##name();                                                    \
		mt_cleanup();                                                          \
	}                                                                              \
	static void meta_test_##name(void)

static inline struct meta *mt_open(void)
{
	struct meta *m = NULL;
	const char *err = NULL;
	int r = meta_open(mt_path, mt_key, true, &m, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_open: %d %s", r, err ? err : "");
	return m;
}

#define MT_OK(call)                                                                    \
	do {                                                                           \
		int mt_r_ = (call);                                                    \
		if (mt_r_ < 0)                                                         \
			test_fail(__FILE__, __LINE__, "%s: %d", #call, mt_r_);         \
	} while (0)

static inline int64_t mt_id(struct meta *m, const char *name)
{
	struct meta_status st;
	int r = meta_status(m, name, 0, &st, NULL);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_status(%s): %d", name, r);
	return st.id;
}

static inline struct meta_status mt_status(struct meta *m, const char *name)
{
	struct meta_status st;
	int r = meta_status(m, name, 0, &st, NULL);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_status(%s): %d", name, r);
	return st;
}

/* Adds a message file and appends it to mailbox with flags and keywords. */
static inline struct meta_appended mt_append_kw(struct meta *m, int64_t mailbox,
						uint32_t flags, const char *const *kw,
						size_t n_kw)
{
	char file[64];
	snprintf(file, sizeof(file), "%02x/msg-%06u", mt_files % 256, mt_files);
	mt_files++;
	int64_t msg;
	int r = meta_add_message(m, file, 1000 + mt_files, NULL, 0, &msg, NULL);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_add_message: %d", r);
	struct meta_append_req req = { msg, flags, kw, n_kw, 1700000000, 60 };
	struct meta_appended res;
	const char *err = NULL;
	r = meta_append(m, mailbox, &req, &res, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "meta_append: %d %s", r, err ? err : "");
	return res;
}

static inline struct meta_appended mt_append(struct meta *m, int64_t mailbox,
					     uint32_t flags)
{
	return mt_append_kw(m, mailbox, flags, NULL, 0);
}

static inline bool mt_listed(const struct meta_mailbox_list *l, const char *name,
			     uint32_t *attrs_r, const char **use_r)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].name, name) == 0) {
			if (attrs_r)
				*attrs_r = l->v[i].attrs;
			if (use_r)
				*use_r = l->v[i].special_use;
			return true;
		}
	}
	return false;
}

/* Runs sql on the database directly (the handle must be closed). */
static inline void mt_raw_sql(const char *sql)
{
	sqlite3 *db = NULL;
	CHECK_INT(vfs_crypt_open(mt_path, mt_key, SQLITE_OPEN_READWRITE, &db, NULL), ==, 0);
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		test_fail(__FILE__, __LINE__, "%s: %s", sql, sqlite3_errmsg(db));
	vfs_crypt_close(&db);
}

#endif
