/* Unit tests of storage/store*.c, part 3: tampering. Any byte changed in a
 * message file makes that message fail with -EBADMSG (at open or at the
 * read that touches it) while the others read as before; any byte changed
 * in a page of meta.sqlite fails the operations that touch the page and
 * nothing else, and never makes the store return wrong data. */
#include "tests/unit/test-store.h"

#include <dirent.h>

#define N_BOXES 4
#define N_MSGS 20

static void flip(const char *path, off_t off)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	CHECK(fd >= 0);
	CHECK(pread(fd, &b, 1, off) == 1);
	b ^= 0x20;
	CHECK(pwrite(fd, &b, 1, off) == 1);
	close(fd);
}

static off_t file_size(const char *path)
{
	struct stat s;
	CHECK_INT(stat(path, &s), ==, 0);
	return s.st_size;
}

/* The largest file under messages/ (the one big message), heap. */
static char *largest_message(void)
{
	char *top = xasprintf("%s/messages", st_dir), *best = NULL;
	off_t best_size = -1;
	DIR *d = opendir(top);
	struct dirent *e;
	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *sub = xasprintf("%s/%s", top, e->d_name);
		DIR *s = opendir(sub);
		struct dirent *f;
		while (s && (f = readdir(s)) != NULL) {
			if (f->d_name[0] == '.')
				continue;
			char *p = xasprintf("%s/%s", sub, f->d_name);
			if (file_size(p) > best_size) {
				best_size = file_size(p);
				free(best);
				best = p;
			} else {
				free(p);
			}
		}
		if (s)
			closedir(s);
		free(sub);
	}
	closedir(d);
	free(top);
	CHECK(best != NULL);
	return best;
}

static int read_check(struct store_user *u, int64_t box, uint32_t uid, const uint8_t *want,
		      size_t len)
{
	uint8_t *data;
	size_t got;
	int r = st_read(u, box, uid, &data, &got);
	if (r == 0 && (got != len || memcmp(data, want, len) != 0))
		test_fail(__FILE__, __LINE__, "uid %u: wrong data returned", uid);
	free(data);
	return r;
}

STORE_TEST(a_changed_byte_in_a_message_file_fails_that_message_only)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	size_t big_len = 300 * 1024 + 17;
	uint8_t *big = st_pattern(big_len, 3), *small = st_pattern(5000, 4);

	st_append(u, "INBOX", small, 5000, 0);
	st_append(u, "INBOX", big, big_len, 0);
	st_deliver_offline(small, 4000, NULL);
	CHECK_INT(store_deliveries_arrived(st, "u"), ==, 1);
	int64_t inbox = st_mailbox(u, "INBOX");
	char *path = largest_message();
	off_t size = file_size(path);

	/* Header, every chunk, trailer: the first and last 64 bytes one by
	 * one, and 64 positions spread over the rest. */
	size_t n_pos = 0, failed_at_open = 0;
	off_t pos[192];
	for (off_t i = 0; i < 64; i++) {
		pos[n_pos++] = i;
		pos[n_pos++] = size - 1 - i;
	}
	for (off_t i = 0; i < 64; i++)
		pos[n_pos++] = 64 + i * (size - 128) / 64;
	for (size_t i = 0; i < n_pos; i++) {
		flip(path, pos[i]);
		struct store_message *msg;
		int r = store_message_open(u, inbox, 2, &msg, NULL);
		if (r == 0) {
			uint8_t *buf = xmalloc(big_len);
			ssize_t n = 0;
			uint64_t off = 0;
			while (off < big_len && (n = store_message_read(msg, off, buf + off,
									big_len - off)) > 0)
				off += (uint64_t)n;
			if (n >= 0)
				test_fail(__FILE__, __LINE__, "byte %lld changed, read anyway",
					  (long long)pos[i]);
			CHECK_INT(n, ==, -EBADMSG);
			free(buf);
			store_message_close(&msg);
		} else {
			CHECK_INT(r, ==, -EBADMSG);
			failed_at_open++;
		}
		CHECK_INT(read_check(u, inbox, 1, small, 5000), ==, 0);
		CHECK_INT(read_check(u, inbox, 3, small, 4000), ==, 0);
		flip(path, pos[i]);
	}
	CHECK(failed_at_open > 0 && failed_at_open < n_pos);
	CHECK_INT(read_check(u, inbox, 2, big, big_len), ==, 0);
	free(big);
	free(small);
	free(path);
	store_logout(&u);
	store_shutdown(&st);
}

/* INBOX holds N_MSGS messages, copied into N_BOXES other mailboxes. */
static void fill(struct store *st)
{
	struct store_user *u = st_login(st, ST_PASSWORD);
	struct meta_uid_range all = { 1, N_MSGS };
	int64_t inbox = st_mailbox(u, "INBOX");
	for (unsigned i = 1; i <= N_MSGS; i++) {
		uint8_t *data = st_pattern(100 + i * 37, i);
		st_append(u, "INBOX", data, 100 + i * 37, i % 2 ? META_FLAG_SEEN : 0);
		free(data);
	}
	for (int b = 0; b < N_BOXES; b++) {
		char name[32];
		int64_t id;
		struct meta_copy_result cr;
		snprintf(name, sizeof(name), "Box%d", b);
		CHECK_INT(store_create(u, name, NULL, &id, NULL), ==, 0);
		CHECK_INT(store_copy(u, inbox, &all, 1, id, &cr, NULL), ==, 0);
		meta_copy_result_free(&cr);
	}
	store_logout(&u);
}

/* Everything the store returns matches what was written, or fails. */
static void check_all(struct store_user *u, unsigned *ok, unsigned *bad)
{
	for (int b = -1; b < N_BOXES; b++) {
		char name[32];
		struct meta_snapshot snap;
		snprintf(name, sizeof(name), b < 0 ? "INBOX" : "Box%d", b);
		if (store_snapshot(u, name, &snap, NULL) < 0) {
			(*bad)++;
			continue;
		}
		CHECK_INT(snap.msgs.n, ==, N_MSGS);
		for (size_t i = 0; i < snap.msgs.n; i++) {
			unsigned seed = (unsigned)i + 1;
			CHECK_INT(snap.msgs.v[i].uid, ==, seed);
			CHECK_INT(snap.msgs.v[i].flags, ==, seed % 2 ? META_FLAG_SEEN : 0);
			uint8_t *want = st_pattern(100 + seed * 37, seed);
			int r = read_check(u, snap.id, seed, want, 100 + seed * 37);
			free(want);
			if (r == 0)
				(*ok)++;
			else
				(*bad)++;
		}
		meta_snapshot_free(&snap);
	}
}

STORE_TEST(a_changed_byte_in_meta_fails_what_touches_it_never_wrong_data)
{
	struct store_settings s = st_settings();
	char db[256], pristine[256], cmd[2048];
	unsigned ok = 0, bad = 0, logins_failed = 0;

	s.no_maintenance = true;
	struct store *st = st_store(&s);
	fill(st);
	store_shutdown(&st);
	snprintf(db, sizeof(db), "%s/meta.sqlite", st_dir);
	snprintf(pristine, sizeof(pristine), "%s/pristine.sqlite", st_root);
	snprintf(cmd, sizeof(cmd), "cp %s %s", db, pristine);
	CHECK_INT(system(cmd), ==, 0);
	off_t pages = file_size(db) / 4096;
	CHECK(pages > 5);

	for (off_t p = 0; p < pages; p++) {
		snprintf(cmd, sizeof(cmd), "cp %s %s && rm -f %s-wal %s-shm", pristine, db, db, db);
		CHECK_INT(system(cmd), ==, 0);
		flip(db, p * 4096 + 1000);
		st = st_store(&s);
		struct store_user *u = NULL;
		int r = store_login(st, "u", ST_PASSWORD, &u, NULL);
		if (r < 0) {
			CHECK_INT(r, ==, -EBADMSG);
			logins_failed++;
		} else {
			check_all(u, &ok, &bad);
			store_logout(&u);
		}
		store_shutdown(&st);
	}
	/* Page 0 holds the schema: no login without it. Most other pages
	 * fail some operations only, and the rest keeps working. */
	CHECK_INT(logins_failed, >=, 1);
	CHECK_INT(logins_failed, <, pages);
	CHECK(ok > 0 && bad > 0);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store-tamper");
}
