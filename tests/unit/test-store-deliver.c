/* Unit tests of storage/store*.c, part 2: deliveries taken in at login
 * (order, bytes, one RSA operation per message and none after), in-process
 * delivery with mailbox and flags, the backlog beyond the first batch in
 * the background, and nothing of a user's mail, mailbox
 * names or keywords anywhere on disk in the clear. */
#include "tests/unit/test-store.h"

#include <dirent.h>

#include <mbedtls/base64.h>

#include "coro/coro.h"

#define N_MESSAGES 100

/* 1 byte to 20 MiB: 2^(log2(20 MiB) * t^1.5) for t = i / 99, so sizes
 * grow faster towards the end (90 MiB in all). No libm: Newton's square
 * root and the exponential's series are plenty for sizes. */
static size_t message_size(int i)
{
	double t = i / (double)(N_MESSAGES - 1), r = t > 0 ? t : 1;
	for (int k = 0; k < 40; k++)
		r = (r + t / r) / 2;
	double e = 24.321928 * t * (t > 0 ? r : 0);	/* log2(20 MiB) = 24.32 */
	int whole = (int)e;
	double f = (e - whole) * 0.6931471805599453, term = 1, sum = 1;
	for (int n = 1; n < 30; n++)
		sum += term *= f / n;
	size_t s = (size_t)((double)(1ull << whole) * sum + 0.5);
	return i == N_MESSAGES - 1 ? 20u << 20 : s < 1 ? 1 : s;
}

static void read_all_in_order(struct store_user *u)
{
	uint32_t *uids;
	int64_t inbox = st_mailbox(u, "INBOX");

	CHECK_INT(st_uids(u, "INBOX", &uids), ==, N_MESSAGES);
	for (int i = 0; i < N_MESSAGES; i++) {
		size_t len = message_size(i), got;
		uint8_t *want = st_pattern(len, (unsigned)i + 1), *data;
		CHECK_INT(st_read(u, inbox, uids[i], &data, &got), ==, 0);
		if (got != len || memcmp(data, want, len) != 0)
			test_fail(__FILE__, __LINE__, "message %d (%zu bytes) differs", i, len);
		free(data);
		free(want);
	}
	free(uids);
}

STORE_TEST(hundred_deliveries_arrive_whole_in_order_with_one_rsa_each)
{
	struct store_settings s = st_settings();
	struct store_stats stats;

	for (int i = 0; i < N_MESSAGES; i++) {
		size_t len = message_size(i);
		uint8_t *data = st_pattern(len, (unsigned)i + 1);
		st_deliver_offline(data, len, NULL);
		free(data);
	}
	struct store *st = st_store(&s);
	uint64_t ops = keys_rsa_private_ops();
	struct store_user *u = st_login(st, ST_PASSWORD);
	/* The login takes one batch; the backlog follows in the background. */
	store_get_stats(st, &stats);
	CHECK_INT(stats.imported, >, 0);
	CHECK_INT(stats.imported, <, N_MESSAGES);
	for (int i = 0; i < 3000 && stats.imported < N_MESSAGES; i++) {
		coro_sleep(10);
		store_get_stats(st, &stats);
	}
	CHECK_INT(stats.imported, ==, N_MESSAGES);
	CHECK_INT(keys_rsa_private_ops() - ops, ==, N_MESSAGES);
	ops = keys_rsa_private_ops();
	read_all_in_order(u);
	CHECK_INT(keys_rsa_private_ops() - ops, ==, 0);
	store_logout(&u);
	CHECK_INT(store_close_idle(st), ==, 1);

	/* A second login, nothing cached: still no RSA. */
	ops = keys_rsa_private_ops();
	u = st_login(st, ST_PASSWORD);
	read_all_in_order(u);
	CHECK_INT(keys_rsa_private_ops() - ops, ==, 0);
	store_logout(&u);
	store_shutdown(&st);
}

static void deliver_in_process(struct store *st, const char *text, const char *mailbox,
			       const char *const *flags, size_t nflags)
{
	struct delivery_opts o = { .mailbox = mailbox, .flags = flags, .nflags = nflags };
	struct store_delivery *d;
	char *err = NULL;
	int r = store_deliver_begin(st, "u", &o, &d, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "deliver: %d %s", r, err ? err : "");
	CHECK_INT(store_deliver_write(d, text, strlen(text)), ==, 0);
	CHECK_INT(store_deliver_commit(&d, &err), ==, 0);
}

STORE_TEST(in_process_deliveries_follow_their_instructions)
{
	struct store_settings s = st_settings();
	struct store *st = st_store(&s);
	const char *flags[] = { "\\seen", "$Label1" };
	struct store_user *u = st_login(st, ST_PASSWORD);
	uint64_t ops = keys_rsa_private_ops();
	struct store_message *msg;
	struct store_delivery *d;

	deliver_in_process(st, "Subject: 1\r\n\r\none\r\n", "Archive", flags, 2);
	deliver_in_process(st, "Subject: 2\r\n\r\ntwo\r\n", "No/Such/Box", NULL, 0);
	CHECK_INT(keys_rsa_private_ops() - ops, ==, 2);
	CHECK_INT(store_message_open(u, st_mailbox(u, "Archive"), 1, &msg, NULL), ==, 0);
	const struct store_message_info *info = store_message_info(msg);
	CHECK_INT(info->flags, ==, META_FLAG_SEEN);
	CHECK_INT(info->n_keywords, ==, 1);
	CHECK_STR(info->keywords[0], "$Label1");
	CHECK_INT(info->size, ==, 19);
	store_message_close(&msg);
	uint32_t *uids;
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 1);
	free(uids);

	/* Options are checked; an aborted delivery leaves nothing. */
	const char *bad[] = { "\\Recent" };
	struct delivery_opts o = { .flags = bad, .nflags = 1 };
	CHECK_INT(store_deliver_begin(st, "u", &o, &d, NULL), ==, -EINVAL);
	CHECK_INT(store_deliver_begin(st, "ghost", NULL, &d, NULL), ==, -ENOENT);
	CHECK_INT(store_deliver_begin(st, "u", NULL, &d, NULL), ==, 0);
	CHECK_INT(store_deliver_write(d, "x", 1), ==, 0);
	store_deliver_abort(&d);
	CHECK_INT(store_deliveries_arrived(st, "u"), ==, 0);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 1);
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
}

/* --- Nothing in the clear -------------------------------------------- */

#define MARKER "Zq7MarkerXv9Kp2Lw"

struct needle {
	char s[64];
	size_t len;
};

/* The marker and the base64 characters it alone decides, at the three
 * alignments it can have in a base64 stream. */
static size_t needles(struct needle *v)
{
	size_t n = 0, mlen = strlen(MARKER);
	snprintf(v[n].s, sizeof(v[n].s), "%s", MARKER);
	v[n].len = mlen;
	n++;
	for (size_t k = 0; k < 3; k++) {
		unsigned char in[64] = { 0 }, out[128];
		size_t olen;
		memcpy(in + k, MARKER, mlen);
		CHECK_INT(mbedtls_base64_encode(out, sizeof(out), &olen, in, k + mlen), ==, 0);
		size_t start = (8 * k + 5) / 6, end = 8 * (k + mlen) / 6;
		memcpy(v[n].s, out + start, end - start);
		v[n].len = end - start;
		n++;
	}
	return n;
}

static void scan_tree(const char *dir, const struct needle *v, size_t n, size_t *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char path[512];
		struct stat s;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		CHECK_INT(lstat(path, &s), ==, 0);
		if (S_ISDIR(s.st_mode)) {
			scan_tree(path, v, n, files);
			continue;
		}
		char *data;
		size_t len;
		CHECK_INT(userdir_read_file(path, 256 << 20, &data, &len, NULL), ==, 0);
		for (size_t i = 0; i < n; i++)
			if (memmem(data, len, v[i].s, v[i].len))
				test_fail(__FILE__, __LINE__, "%s holds '%.*s'", path, (int)v[i].len,
					  v[i].s);
		free(data);
		(*files)++;
	}
	closedir(d);
}

static void scan_user(size_t min_files)
{
	struct needle v[4];
	size_t n = needles(v), files = 0;
	scan_tree(st_dir, v, n, &files);
	CHECK_INT(files, >=, min_files);
}

STORE_TEST(nothing_reaches_the_disk_in_the_clear)
{
	struct store_settings s = st_settings();
	const char *text = "Subject: " MARKER "\r\n\r\n" MARKER " " MARKER "\r\n";
	const char *kw[] = { "kw" MARKER };
	const char *mbox = "Box " MARKER "/Sub" MARKER;

	s.no_maintenance = true;	/* run below, once the mail is in */
	st_deliver_offline(text, strlen(text), NULL);
	st_deliver_offline(text, strlen(text), mbox);	/* sealed instructions */
	struct store *st = st_store(&s);
	struct store_user *u = st_login(st, ST_PASSWORD);
	CHECK_INT(store_create(u, mbox, NULL, NULL, NULL), ==, 0);
	CHECK_INT(store_subscribe(u, mbox, NULL), ==, 0);
	st_deliver_offline(text, strlen(text), mbox);	/* pending while open */
	deliver_in_process(st, text, mbox, kw, 1);
	struct meta_appended a = st_append(u, mbox, text, strlen(text), 0);
	struct meta_uid_range one = { a.uid, a.uid };
	struct meta_store_req req = { .op = META_STORE_ADD, .keywords = kw, .n_keywords = 1,
				      .unchanged_since = META_UNCHANGED_ANY };
	struct meta_store_result res;
	CHECK_INT(store_store(u, st_mailbox(u, mbox), &one, 1, &req, &res, NULL), ==, 0);
	meta_store_result_free(&res);
	CHECK_INT(store_maintenance(u, NULL), ==, 0);	/* a backup */
	CHECK_INT(store_change_password(u, ST_PASSWORD, MARKER, NULL, NULL), ==, 0);
	/* An append in progress has its temporary file in tmp/. */
	struct store_append *ap;
	struct store_append_opts o = { 0 };
	CHECK_INT(store_append_begin(u, "INBOX", &o, &ap, NULL), ==, 0);
	for (int i = 0; i < 5000; i++)
		CHECK_INT(store_append_write(ap, text, strlen(text)), ==, 0);
	scan_user(12);	/* WAL and all, while open */
	store_append_abort(&ap);
	uint32_t *uids;
	CHECK_INT(st_uids(u, mbox, &uids), ==, 3);	/* the first came before the box */
	free(uids);
	CHECK_INT(st_uids(u, "INBOX", &uids), ==, 2);
	free(uids);
	store_logout(&u);
	store_shutdown(&st);
	scan_user(12);
}

int main(int argc, char **argv)
{
	return st_main(argc, argv, "test-store-deliver");
}
