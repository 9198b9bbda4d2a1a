/* Tests of storage/meta.h, the header cache: storing and reading windows,
 * their bounds, copies sharing one entry, messages marked missing, sizes
 * that disagree, the purge, and meta_lookup's header_cached. */
#include "tests/unit/meta-test.h"

#include <stdlib.h>

#include "src/util/xmalloc.h"

#define DAY META_PURGE_DELAY

/* The message id and size of (mailbox, uid). */
static int64_t msg_of(struct meta *m, int64_t mailbox, uint32_t uid, uint64_t *size_r)
{
	struct meta_message_info info;
	MT_OK(meta_lookup(m, mailbox, uid, &info, NULL));
	int64_t id = info.message_id;
	if (size_r)
		*size_r = info.size;
	meta_message_info_free(&info);
	return id;
}

static bool cached(struct meta *m, int64_t mailbox, uint32_t uid)
{
	struct meta_message_info info;
	MT_OK(meta_lookup(m, mailbox, uid, &info, NULL));
	bool c = info.header_cached;
	meta_message_info_free(&info);
	return c;
}

/* A header of len bytes for uid: "X-N: uid" padded, then a blank line. */
static char *header_for(uint32_t uid, size_t len)
{
	char *h = xmalloc(len);
	int n = snprintf(h, len, "X-N: %u ", uid);
	memset(h + n, 'h', len - (size_t)n);
	memcpy(h + len - 4, "\r\n\r\n", 4);
	return h;
}

static void put_one(struct meta *m, int64_t mailbox, uint32_t uid, size_t len, int64_t lines)
{
	uint64_t size;
	int64_t id = msg_of(m, mailbox, uid, &size);
	char *h = header_for(uid, len);
	struct meta_header_put p = { id, size, lines, h, len };
	CHECK_INT(meta_headers_put(m, &p, 1, NULL), ==, 1);
	free(h);
}

META_TEST(store_and_read)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	for (int i = 0; i < 10; i++)
		mt_append(m, inbox, 0);
	/* Several in one transaction, some without a line count. */
	struct meta_header_put v[3];
	char *h[3];
	uint32_t uids[3] = { 2, 5, 9 };
	for (int i = 0; i < 3; i++) {
		uint64_t size;
		int64_t id = msg_of(m, inbox, uids[i], &size);
		h[i] = header_for(uids[i], 100 + (size_t)i);
		int64_t lines = i == 1 ? -1 : 7 * i;
		v[i] = (struct meta_header_put){ id, size, lines, h[i], 100 + (size_t)i };
	}
	CHECK_INT(meta_headers_put(m, v, 3, NULL), ==, 3);
	CHECK(cached(m, inbox, 5));
	CHECK(!cached(m, inbox, 4));

	struct meta_header_list l;
	MT_OK(meta_headers(m, inbox, 1, 10, 100, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 3);
	CHECK_INT(l.covered, ==, 10);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(l.v[i].uid, ==, uids[i]);
		CHECK_INT(l.v[i].message_id, ==, v[i].message_id);
		CHECK_INT(l.v[i].size, ==, v[i].size);
		CHECK_INT(l.v[i].body_lines, ==, v[i].body_lines);
		CHECK_INT(l.v[i].len, ==, v[i].len);
		CHECK_MEM(l.v[i].data, h[i], v[i].len);
	}
	meta_header_list_free(&l);
	CHECK(l.v == NULL && l.n == 0);

	/* Presence only: lengths, no bytes. */
	MT_OK(meta_headers(m, inbox, 3, 9, 100, 0, false, &l, NULL));
	CHECK_INT(l.n, ==, 2);
	CHECK(l.v[0].data == NULL && l.v[0].len == 101 && l.v[1].uid == 9);
	meta_header_list_free(&l);

	/* A newer entry replaces the old one. */
	put_one(m, inbox, 5, 300, 11);
	MT_OK(meta_headers(m, inbox, 5, 5, 100, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 1);
	CHECK_INT(l.v[0].len, ==, 300);
	CHECK_INT(l.v[0].body_lines, ==, 11);
	meta_header_list_free(&l);
	for (int i = 0; i < 3; i++)
		free(h[i]);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
}

META_TEST(window_bounds)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	for (uint32_t uid = 1; uid <= 20; uid++) {
		mt_append(m, inbox, 0);
		if (uid % 2 == 0)
			put_one(m, inbox, uid, 1000, 1);
	}
	struct meta_header_list l;
	/* At most max_n entries: covered is the last one's UID. */
	MT_OK(meta_headers(m, inbox, 1, 20, 3, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 3);
	CHECK_INT(l.covered, ==, 6);
	meta_header_list_free(&l);
	/* The entry that reaches max_bytes is the last. */
	MT_OK(meta_headers(m, inbox, 3, 20, 100, 2500, true, &l, NULL));
	CHECK_INT(l.n, ==, 3);
	CHECK_INT(l.v[0].uid, ==, 4);
	CHECK_INT(l.covered, ==, 8);
	meta_header_list_free(&l);
	MT_OK(meta_headers(m, inbox, 3, 20, 100, 1, true, &l, NULL));
	CHECK_INT(l.n, ==, 1);
	CHECK_INT(l.covered, ==, 4);
	meta_header_list_free(&l);
	/* Nothing in range: covered is hi. */
	MT_OK(meta_headers(m, inbox, 21, 100, 5, 1, true, &l, NULL));
	CHECK_INT(l.n, ==, 0);
	CHECK_INT(l.covered, ==, 100);
	meta_header_list_free(&l);
	/* Presence ignores max_bytes. */
	MT_OK(meta_headers(m, inbox, 1, 20, 100, 1, false, &l, NULL));
	CHECK_INT(l.n, ==, 10);
	CHECK_INT(l.covered, ==, 20);
	meta_header_list_free(&l);

	CHECK_INT(meta_headers(m, inbox, 5, 4, 5, 1, true, &l, NULL), ==, -EINVAL);
	CHECK_INT(meta_headers(m, inbox, 0, 4, 5, 1, true, &l, NULL), ==, -EINVAL);
	CHECK_INT(meta_headers(m, inbox, 1, 4, 0, 1, true, &l, NULL), ==, -EINVAL);
	CHECK_INT(meta_headers(m, 9999, 1, 4, 5, 1, true, &l, NULL), ==, -ENOENT);
	CHECK(l.v == NULL && l.n == 0);
	meta_close(&m);
}

META_TEST(put_rules)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX");
	mt_append(m, inbox, 0);
	uint64_t size;
	int64_t id = msg_of(m, inbox, 1, &size);
	char *big = header_for(1, META_HEADER_MAX + 1);
	struct meta_header_put p = { id, size, -1, big, META_HEADER_MAX + 1 };
	CHECK_INT(meta_headers_put(m, &p, 1, NULL), ==, -EINVAL);
	p.len = 0;
	CHECK_INT(meta_headers_put(m, &p, 1, NULL), ==, -EINVAL);
	p.len = META_HEADER_MAX;	/* the largest allowed */
	CHECK_INT(meta_headers_put(m, &p, 1, NULL), ==, 1);
	/* A size other than the message's, or a message that is not there:
	 * skipped, the others stored. */
	struct meta_header_put two[3] = {
		{ id, size + 1, -1, "A: b\r\n\r\n", 8 },
		{ id + 100, size, -1, "A: b\r\n\r\n", 8 },
		{ id, size, 4, "A: c\r\n\r\n", 8 },
	};
	CHECK_INT(meta_headers_put(m, two, 3, NULL), ==, 1);
	struct meta_header_list l;
	MT_OK(meta_headers(m, inbox, 1, 1, 5, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 1);
	CHECK_MEM(l.v[0].data, "A: c\r\n\r\n", 8);
	CHECK_INT(l.v[0].body_lines, ==, 4);
	meta_header_list_free(&l);
	CHECK_INT(meta_headers_put(m, NULL, 0, NULL), ==, 0);
	/* Not inside a group: its commit must stay durable. */
	MT_OK(meta_begin(m));
	CHECK_INT(meta_headers_put(m, &two[2], 1, NULL), ==, -EINVAL);
	meta_rollback(m);
	free(big);
	meta_close(&m);
}

/* COPY makes instances of the same message: one entry serves all; a
 * message marked missing reads as a stub, so its entry is not offered. */
META_TEST(copies_and_missing)
{
	struct meta *m = mt_open();
	int64_t inbox = mt_id(m, "INBOX"), archive = mt_id(m, "Archive");
	mt_append(m, inbox, 0);
	mt_append(m, inbox, 0);
	put_one(m, inbox, 1, 50, 2);
	struct meta_uid_range all = { 1, 2 };
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, &all, 1, archive, &cr, NULL));
	meta_copy_result_free(&cr);
	MT_OK(meta_copy(m, inbox, &all, 1, inbox, &cr, NULL));	/* into itself: UIDs 3, 4 */
	meta_copy_result_free(&cr);
	struct meta_header_list l;
	MT_OK(meta_headers(m, archive, 1, 10, 10, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 1);
	CHECK_INT(l.v[0].uid, ==, 1);
	meta_header_list_free(&l);
	MT_OK(meta_headers(m, inbox, 1, 10, 10, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 2);
	CHECK_INT(l.v[1].uid, ==, 3);
	CHECK_INT(l.v[0].message_id, ==, l.v[1].message_id);
	meta_header_list_free(&l);

	MT_OK(meta_set_missing(m, "00/msg-000000", true, NULL));
	MT_OK(meta_headers(m, inbox, 1, 10, 10, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 0);
	meta_header_list_free(&l);
	MT_OK(meta_set_missing(m, "00/msg-000000", false, NULL));
	MT_OK(meta_headers(m, inbox, 1, 10, 10, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 2);
	meta_header_list_free(&l);
	meta_close(&m);
}

static int64_t count_entries(void)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st;
	CHECK_INT(vfs_crypt_open(mt_path, mt_key, SQLITE_OPEN_READWRITE, &db, NULL), ==, 0);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT count(*) FROM header_cache", -1, &st, NULL), ==,
		  SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	vfs_crypt_close(&db);
	return n;
}

/* An expunged message keeps its entry while it can still be read (24
 * hours); the purge takes the entry with the message. */
META_TEST(purge_removes_the_entry)
{
	struct meta *m = mt_open();
	const int64_t t0 = 1000000000;
	int64_t inbox = mt_id(m, "INBOX"), archive = mt_id(m, "Archive");
	mt_use_clock(m, t0);
	mt_append(m, inbox, META_FLAG_DELETED);
	mt_append(m, inbox, META_FLAG_DELETED);
	put_one(m, inbox, 1, 60, 1);
	put_one(m, inbox, 2, 70, 1);
	struct meta_uid_range two = { 2, 2 };
	struct meta_copy_result cr;
	MT_OK(meta_copy(m, inbox, &two, 1, archive, &cr, NULL));	/* 2 lives on */
	meta_copy_result_free(&cr);
	struct meta_uids u;
	uint64_t ms;
	MT_OK(meta_expunge(m, inbox, NULL, 0, 0, &u, &ms, NULL));
	CHECK_INT(u.n, ==, 2);
	meta_uids_free(&u);
	struct meta_message_info info;
	MT_OK(meta_lookup(m, inbox, 1, &info, NULL));	/* through the expunge log */
	CHECK(info.expunged && info.header_cached);
	meta_message_info_free(&info);

	struct meta_files f;
	MT_OK(meta_purgeable(m, t0 + DAY, 100, &f, NULL));
	CHECK_INT(f.n, ==, 1);
	CHECK_INT(meta_forget(m, f.ids, f.n, NULL), ==, 1);
	meta_files_free(&f);
	MT_OK(meta_check(m, NULL));
	meta_close(&m);
	CHECK_INT(count_entries(), ==, 1);	/* the copy's */
	m = mt_open();
	struct meta_header_list l;
	MT_OK(meta_headers(m, archive, 1, 10, 10, 1 << 20, true, &l, NULL));
	CHECK_INT(l.n, ==, 1);
	CHECK_INT(l.v[0].len, ==, 70);
	meta_header_list_free(&l);
	meta_close(&m);
}
