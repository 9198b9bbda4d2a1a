/* Unit tests of storage/delivery*.c: messages delivered without the
 * password read back byte for byte with the private key, sealed
 * instructions, line endings, limits, users, concurrency, and that no
 * message byte, mailbox name or flag reaches the disk in the clear.
 *
 * main() creates one user (one RSA-4096 generation) before the tests fork;
 * each test works on its own copy. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <sqlite3.h>

#include "src/util/limits.h"
#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/delivery.h"
#include "storage/keys.h"
#include "storage/userdir.h"

static const struct argon_params cheap = { .memory_kib = 256, .iterations = 1, .parallelism = 1 };
static char template_root[64];
static uint8_t master[ACCOUNT_KEY_LEN];

#define S(...) TEST_STR(__VA_ARGS__)

struct user {
	char *users, *dir;
};

static struct user fresh_user(void)
{
	char *root = S("%s/t-XXXXXX", template_root);
	struct user u;

	CHECK(mkdtemp(root) != NULL);
	u.users = S("%s/users", root);
	CHECK_INT(system(S("mkdir %s && cp -a %s/users/tmpl %s/u", u.users, template_root,
			   u.users)), ==, 0);
	u.dir = S("%s/u", u.users);
	return u;
}

static uint8_t *pattern(size_t len, unsigned seed)
{
	uint8_t *p = xmalloc(len + 1);
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		p[i] = (uint8_t)(x % 7 == 0 ? 0 : x >> 8);	/* binary, many NULs */
	}
	return p;
}

static int memfd_with(const void *data, size_t len)
{
	int fd = memfd_create("delivery-test", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(write(fd, data, len) == (ssize_t)len);
	CHECK(lseek(fd, 0, SEEK_SET) == 0);
	return fd;
}

static char *deliver(const struct user *u, const void *data, size_t len,
		     const struct delivery_opts *o)
{
	char *name = NULL, *err = NULL;
	int fd = memfd_with(data, len);
	int r = delivery_deliver_fd(u->users, "u", fd, o, &name, &err);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "delivery: %d %s", r, err);
	close(fd);
	CHECK(delivery_file_name_valid(name));
	return test_keep(name);
}

static size_t count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char *path = S("%s/%s", dir, e->d_name);
		struct stat st;
		CHECK(lstat(path, &st) == 0);
		n += S_ISDIR(st.st_mode) ? count_files(path) : 1;
	}
	closedir(d);
	return n;
}

static size_t count_pending(const struct user *u)
{
	struct delivery_pending *items;
	size_t n;
	CHECK_INT(delivery_pending_list(u->dir, 0, &items, &n, NULL), ==, 0);
	delivery_pending_free(&items, n);
	return n;
}

/* What the store will do at login: the row, the RSA unwrap with the
 * private key the header names, the instructions, the body. */
struct taken {
	uint8_t *data;
	size_t len;
	struct delivery_instructions in;
	char key_name[KEYS_NAME_MAX + 1];
};

static struct taken take(const struct user *u, const char *file_name)
{
	struct delivery_pending *items;
	size_t n, row = SIZE_MAX;
	struct taken t = { 0 };
	uint8_t key[CRYPTO_KEY_LEN];
	mbedtls_pk_context pk;
	struct msgfile_reader *r;

	CHECK_INT(delivery_pending_list(u->dir, 0, &items, &n, NULL), ==, 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].file_name, file_name) == 0)
			row = i;
	CHECK(row != SIZE_MAX);
	int fd = open(test_keep(delivery_message_path(u->dir, file_name)), O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	const struct msgfile_wrap *w = msgfile_reader_wrap(r);
	CHECK_INT(w->kind, ==, DELIVERY_WRAP_KIND);
	CHECK_INT(w->blob_len, ==, KEYS_RSA_WRAPPED_LEN);
	snprintf(t.key_name, sizeof(t.key_name), "%s", w->key_name);
	CHECK_INT(keys_load_private(u->dir, master, w->key_name, &pk, NULL), ==, 0);
	CHECK_INT(keys_rsa_unwrap(&pk, w->blob, w->blob_len, key), ==, 0);
	mbedtls_pk_free(&pk);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	CHECK_INT(delivery_open_instructions(key, items[row].instructions,
					     items[row].instructions_len, &t.in), ==, 0);
	t.len = (size_t)msgfile_reader_size(r);
	t.data = test_keep(xmalloc(t.len + 1));
	CHECK_INT(msgfile_read_range(r, 0, t.data, t.len), ==, (ssize_t)t.len);
	msgfile_reader_free(&r);
	close(fd);
	delivery_pending_free(&items, n);
	test_keep(t.in.mailbox);
	test_keep(t.in.flags);
	for (size_t i = 0; i < t.in.nflags; i++)
		test_keep(t.in.flags[i]);
	return t;
}

TEST(messages_of_every_size_read_back_identical)
{
	struct user u = fresh_user();
	const size_t sizes[] = { 1, 100 * 1024, 5 * 1024 * 1024 };
	const char *flags[] = { "\\Seen", "$Label1" };
	struct delivery_opts o = { .mailbox = "Archive/2026", .flags = flags, .nflags = 2 };
	char current[KEYS_NAME_MAX + 1];
	mbedtls_pk_context pub;

	CHECK_INT(keys_external_public(u.dir, &pub, current, NULL), ==, 0);
	mbedtls_pk_free(&pub);
	for (size_t i = 0; i < 3; i++) {
		uint8_t *data = pattern(sizes[i], (unsigned)i);
		time_t before = time(NULL);
		char *name = deliver(&u, data, sizes[i], &o);
		struct taken t = take(&u, name);
		CHECK_INT(t.len, ==, sizes[i]);
		CHECK_MEM(t.data, data, sizes[i]);
		CHECK_STR(t.in.mailbox, "Archive/2026");
		CHECK_INT(t.in.nflags, ==, 2);
		CHECK_STR(t.in.flags[0], "\\Seen");
		CHECK_STR(t.in.flags[1], "$Label1");
		CHECK(t.in.received >= before && t.in.received <= time(NULL));
		CHECK_STR(t.key_name, current);
		free(data);
	}
	CHECK_INT(count_pending(&u), ==, 3);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, 3);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
}

TEST(streaming_in_odd_pieces_and_defaults)
{
	struct user u = fresh_user();
	size_t len = 300 * 1024, pieces[] = { 1, 7, 4096, 65537, 3 };
	uint8_t *data = test_keep(pattern(len, 9));
	struct delivery *d;
	char *name;

	CHECK_INT(delivery_begin(u.users, "u", NULL, &d, NULL), ==, 0);
	for (size_t off = 0, i = 0; off < len; i++) {
		size_t n = pieces[i % 5] < len - off ? pieces[i % 5] : len - off;
		CHECK_INT(delivery_write(d, data + off, n), ==, 0);
		off += n;
	}
	CHECK_INT(delivery_commit(&d, &name, NULL), ==, 0);
	CHECK(d == NULL);
	test_keep(name);
	struct taken t = take(&u, name);
	CHECK_INT(t.len, ==, len);
	CHECK_MEM(t.data, data, len);
	CHECK_STR(t.in.mailbox, "INBOX");
	CHECK_INT(t.in.nflags, ==, 0);
	CHECK_STR((char *)test_keep(delivery_message_path("/x", name)),
		  S("/x/messages/%.2s/%s", name, name + 2));
	CHECK(delivery_message_path("/x", "../../etc/passwd") == NULL);
}

TEST(abort_leaves_nothing)
{
	struct user u = fresh_user();
	struct delivery *d;

	CHECK_INT(delivery_begin(u.users, "u", NULL, &d, NULL), ==, 0);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 1);
	CHECK_INT(delivery_write(d, "hello\r\n", 7), ==, 0);
	delivery_abort(&d);
	CHECK(d == NULL);
	delivery_abort(&d);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, 0);
	CHECK_INT(count_pending(&u), ==, 0);
}

/* Feeds in whole and one byte at a time; both must give want. */
static void check_eol(const struct user *u, enum delivery_eol eol, const char *in,
		      const char *want)
{
	struct delivery_opts o = { .eol = eol };

	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct delivery *d;
		char *name;
		CHECK_INT(delivery_begin(u->users, "u", &o, &d, NULL), ==, 0);
		for (size_t i = 0; i < strlen(in); i += bytewise ? 1 : strlen(in))
			CHECK_INT(delivery_write(d, in + i, bytewise ? 1 : strlen(in)), ==, 0);
		CHECK_INT(delivery_commit(&d, &name, NULL), ==, 0);
		test_keep(name);
		struct taken t = take(u, name);
		t.data[t.len] = '\0';
		if (t.len != strlen(want) || memcmp(t.data, want, t.len) != 0)
			test_fail(__FILE__, __LINE__, "mode %d (%s): '%s' gave '%s'", eol,
				  bytewise ? "bytewise" : "whole", in, (char *)t.data);
	}
}

TEST(line_endings_are_converted_only_when_asked)
{
	struct user u = fresh_user();
	const char *mixed = "a\nb\r\nc\rd\n\n\r\r\nend";

	check_eol(&u, DELIVERY_EOL_KEEP, mixed, mixed);
	check_eol(&u, DELIVERY_EOL_UNIX_TO_DOS, mixed, "a\r\nb\r\nc\rd\r\n\r\n\r\r\nend");
	check_eol(&u, DELIVERY_EOL_UNIX_TO_DOS, "\n", "\r\n");
	check_eol(&u, DELIVERY_EOL_UNIX_TO_DOS, "x\r", "x\r");
	/* AUTO: the first line ending decides. */
	check_eol(&u, DELIVERY_EOL_AUTO, "Subject: x\n\nbody\r\n\n", "Subject: x\r\n\r\nbody\r\n\r\n");
	check_eol(&u, DELIVERY_EOL_AUTO, "Subject: x\r\n\nbin\n", "Subject: x\r\n\nbin\n");
	check_eol(&u, DELIVERY_EOL_AUTO, "no line ending", "no line ending");
}

TEST(oversize_is_refused_and_leaves_nothing)
{
	struct user u = fresh_user();
	struct delivery_opts o = { .max_size = 1000 };
	uint8_t *data = test_keep(pattern(1001, 3));
	struct delivery *d;
	char *err = NULL;

	CHECK(deliver(&u, data, 1000, &o) != NULL);
	int fd = memfd_with(data, 1001);
	CHECK_INT(delivery_deliver_fd(u.users, "u", fd, &o, NULL, &err), ==, -EFBIG);
	test_keep(err);
	CHECK(strstr(err, "larger than 1000 bytes"));
	/* The limit applies to what is stored, after conversion. */
	o = (struct delivery_opts){ .max_size = 10, .eol = DELIVERY_EOL_UNIX_TO_DOS };
	CHECK(deliver(&u, "12345\n123", 9, &o) != NULL);
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, NULL), ==, 0);
	CHECK_INT(delivery_write(d, "12345\n1234", 10), ==, -EFBIG);
	CHECK_INT(delivery_write(d, "x", 1), ==, -EFBIG);	/* sticky */
	CHECK_INT(delivery_commit(&d, NULL, NULL), ==, -EFBIG);
	/* The default limit is SEAL_MAX_MESSAGE, whatever max_size asks. */
	o = (struct delivery_opts){ .max_size = (uint64_t)SEAL_MAX_MESSAGE * 2 };
	size_t mib = 1 << 20;
	uint8_t *zeros = test_keep(xcalloc(1, mib));
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, NULL), ==, 0);
	for (size_t i = 0; i < SEAL_MAX_MESSAGE / mib; i++)
		CHECK_INT(delivery_write(d, zeros, mib), ==, 0);
	CHECK_INT(delivery_write(d, "!", 1), ==, -EFBIG);
	delivery_abort(&d);
	CHECK_INT(count_pending(&u), ==, 2);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, 2);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
}

TEST(empty_message_is_bad_data)
{
	struct user u = fresh_user();
	struct delivery *d;
	char *err = NULL;

	int fd = memfd_with("", 0);
	CHECK_INT(delivery_deliver_fd(u.users, "u", fd, NULL, NULL, &err), ==, -EINVAL);
	test_keep(err);
	CHECK_STR(err, "the message is empty");
	CHECK_INT(delivery_begin(u.users, "u", NULL, &d, NULL), ==, 0);
	CHECK_INT(delivery_write(d, "", 0), ==, 0);
	CHECK_INT(delivery_commit(&d, NULL, NULL), ==, -EINVAL);
	CHECK_INT(count_files(u.dir), ==, 4);	/* user.toml and the three key files */
}

TEST(unknown_disabled_and_aliased_users)
{
	struct user u = fresh_user();
	struct delivery *d;
	char *err = NULL;
	const char *bad[] = { "nobody", "", "../u", ".", "%u", "u/" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(delivery_begin(u.users, bad[i], NULL, &d, NULL), ==, -ENOENT);
	CHECK_INT(delivery_begin(u.users, "nobody", NULL, &d, &err), ==, -ENOENT);
	test_keep(err);
	CHECK_STR(err, "no such user 'nobody'");
	CHECK(symlink("u", S("%s/alias", u.users)) == 0);
	int fd = memfd_with("hi\r\n", 4);
	CHECK_INT(delivery_deliver_fd(u.users, "alias", fd, NULL, NULL, NULL), ==, 0);
	CHECK_INT(count_pending(&u), ==, 1);
	/* Disabling by renaming the directory disables its alias too. */
	CHECK(rename(u.dir, S("%s/%%u", u.users)) == 0);
	CHECK_INT(delivery_begin(u.users, "u", NULL, &d, NULL), ==, -ENOENT);
	CHECK_INT(delivery_begin(u.users, "alias", NULL, &d, NULL), ==, -ENOENT);
	CHECK_INT(delivery_begin(S("%s/none", u.users), "u", NULL, &d, NULL), ==, -ENOENT);
}

TEST(missing_external_key_is_temporary)
{
	struct user u = fresh_user();
	struct delivery *d;
	char *err = NULL;

	CHECK(unlink(S("%s/keys/external.current", u.dir)) == 0);
	CHECK_INT(delivery_begin(u.users, "u", NULL, &d, &err), ==, -ENOKEY);
	test_keep(err);
	CHECK(strstr(err, "external key"));
	CHECK(delivery_error_is_temporary(-ENOKEY));
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
}

TEST(mailbox_and_flag_syntax)
{
	const char *good_mb[][2] = { { "INBOX", "INBOX" },	   { "inbox", "INBOX" },
				     { "Archive", "Archive" },	   { "a/b/c", "a/b/c" },
				     { "Caf\xc3\xa9", "Caf\xc3\xa9" }, { "x.y", "x.y" },
				     { "Lists/inbox", "Lists/inbox" } };
	const char *bad_mb[] = { "", "/a", "a/", "a//b", ".hidden", "a/.b", "#news", "a*",
				 "a%", "a\\b", "a\tb", "a\x7f", "\xc2\x85", "\xff", "\xe2\x80\xa8",
				 "\xe2\x80\xae", "\xef\xbb\xbf", "INBOX/sub", "Inbox/sub" };
	const char *good_fl[][2] = { { "\\Seen", "\\Seen" },	 { "\\seen", "\\Seen" },
				     { "\\FLAGGED", "\\Flagged" }, { "\\Answered", "\\Answered" },
				     { "\\Deleted", "\\Deleted" }, { "\\draft", "\\Draft" },
				     { "$Junk", "$Junk" },	 { "NonJunk", "NonJunk" } };
	const char *bad_fl[] = { "", "\\Recent", "\\recent", "\\Foo", "\\", "a b", "(x", "x)",
				 "{3}", "a%", "a*", "\"q\"", "a]", "caf\xc3\xa9", "a\x01" };
	char *c;
	const char *why;

	for (size_t i = 0; i < sizeof(good_mb) / sizeof(good_mb[0]); i++) {
		CHECK_INT(delivery_check_mailbox(good_mb[i][0], &c, NULL), ==, 0);
		CHECK_STR(c, good_mb[i][1]);
		free(c);
	}
	for (size_t i = 0; i < sizeof(bad_mb) / sizeof(bad_mb[0]); i++)
		if (delivery_check_mailbox(bad_mb[i], NULL, &why) != -EINVAL)
			test_fail(__FILE__, __LINE__, "mailbox '%s' accepted", bad_mb[i]);
	for (size_t i = 0; i < sizeof(good_fl) / sizeof(good_fl[0]); i++) {
		CHECK_INT(delivery_check_flag(good_fl[i][0], &c, NULL), ==, 0);
		CHECK_STR(c, good_fl[i][1]);
		free(c);
	}
	for (size_t i = 0; i < sizeof(bad_fl) / sizeof(bad_fl[0]); i++)
		if (delivery_check_flag(bad_fl[i], NULL, &why) != -EINVAL)
			test_fail(__FILE__, __LINE__, "flag '%s' accepted", bad_fl[i]);
	char long_mb[DELIVERY_MAILBOX_MAX + 2], long_fl[DELIVERY_FLAG_MAX + 2];
	memset(long_mb, 'm', sizeof(long_mb));
	long_mb[DELIVERY_MAILBOX_MAX + 1] = '\0';
	CHECK_INT(delivery_check_mailbox(long_mb, NULL, NULL), ==, -EINVAL);
	long_mb[DELIVERY_MAILBOX_MAX] = '\0';
	CHECK_INT(delivery_check_mailbox(long_mb, NULL, NULL), ==, 0);
	memset(long_fl, 'k', sizeof(long_fl));
	long_fl[DELIVERY_FLAG_MAX + 1] = '\0';
	CHECK_INT(delivery_check_flag(long_fl, NULL, NULL), ==, -EINVAL);
	long_fl[DELIVERY_FLAG_MAX] = '\0';
	CHECK_INT(delivery_check_flag(long_fl, NULL, NULL), ==, 0);
}

TEST(options_are_checked_canonical_and_deduplicated)
{
	struct user u = fresh_user();
	const char *dup[] = { "\\seen", "$x", "\\SEEN", "$X" };
	const char *recent[] = { "\\Recent" };
	const char *many[DELIVERY_FLAGS_MAX + 1];
	char names[DELIVERY_FLAGS_MAX + 1][8];
	struct delivery_opts o = { .mailbox = "inbox", .flags = dup, .nflags = 4 };
	struct delivery *d;
	char *err = NULL;

	struct taken t = take(&u, deliver(&u, "m", 1, &o));
	CHECK_STR(t.in.mailbox, "INBOX");
	CHECK_INT(t.in.nflags, ==, 2);
	CHECK_STR(t.in.flags[0], "\\Seen");
	CHECK_STR(t.in.flags[1], "$x");
	o = (struct delivery_opts){ .flags = recent, .nflags = 1 };
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, &err), ==, -EINVAL);
	test_keep(err);
	CHECK(strstr(err, "\\Recent"));
	o = (struct delivery_opts){ .mailbox = "a//b" };
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, NULL), ==, -EINVAL);
	for (int i = 0; i <= DELIVERY_FLAGS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		many[i] = names[i];
	}
	o = (struct delivery_opts){ .flags = many, .nflags = DELIVERY_FLAGS_MAX };
	CHECK(deliver(&u, "m", 1, &o) != NULL);
	o.nflags++;
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, NULL), ==, -EINVAL);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
}

TEST(pending_list_order_limit_and_done)
{
	struct user u = fresh_user();
	struct delivery_pending *items;
	char *names[3];
	size_t n;

	CHECK_INT(delivery_pending_list(u.dir, 0, &items, &n, NULL), ==, 0);
	CHECK_INT(n, ==, 0);
	CHECK(access(S("%s/%s", u.dir, DELIVERY_DB_NAME), F_OK) < 0);	/* not created */
	CHECK_INT(delivery_pending_done(u.dir, "00000000000000000000000000000000", NULL), ==, 0);
	for (int i = 0; i < 3; i++)
		names[i] = deliver(&u, "x", 1, NULL);
	CHECK_INT(delivery_pending_list(u.dir, 2, &items, &n, NULL), ==, 0);
	CHECK_INT(n, ==, 2);
	CHECK_STR(items[0].file_name, names[0]);
	CHECK_STR(items[1].file_name, names[1]);
	delivery_pending_free(&items, n);
	CHECK(items == NULL);
	CHECK_INT(delivery_pending_done(u.dir, names[1], NULL), ==, 0);
	CHECK_INT(delivery_pending_done(u.dir, names[1], NULL), ==, 0);
	CHECK_INT(delivery_pending_list(u.dir, 0, &items, &n, NULL), ==, 0);
	CHECK_INT(n, ==, 2);
	CHECK_STR(items[0].file_name, names[0]);
	CHECK_STR(items[1].file_name, names[2]);
	delivery_pending_free(&items, n);
	/* The file stays: the store owns it once taken in. */
	CHECK(access(test_keep(delivery_message_path(u.dir, names[1])), F_OK) == 0);
}

TEST(instructions_open_only_with_their_key)
{
	struct user u = fresh_user();
	struct delivery_pending *items;
	struct delivery_instructions in;
	struct delivery_opts o = { .mailbox = "Archive/2024/very/long/name" };
	uint8_t key[CRYPTO_KEY_LEN] = { 0 };
	size_t n;

	deliver(&u, "a", 1, NULL);
	deliver(&u, "b", 1, &o);
	struct taken t = take(&u, deliver(&u, "c", 1, NULL));
	CHECK_INT(delivery_pending_list(u.dir, 0, &items, &n, NULL), ==, 0);
	/* Padding: the name's length does not show. */
	CHECK_INT(items[0].instructions_len, ==, items[1].instructions_len);
	CHECK_INT(delivery_open_instructions(key, items[0].instructions,
					     items[0].instructions_len, &in), ==, -EBADMSG);
	CHECK(in.mailbox == NULL);
	(void)t;
	/* Row 2's key is not row 0's: swapped rows do not open. */
	struct delivery_pending *last = &items[2];
	mbedtls_pk_context pk;
	int fd = open(test_keep(delivery_message_path(u.dir, last->file_name)), O_RDONLY);
	struct msgfile_reader *r;
	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(keys_load_private(u.dir, master, msgfile_reader_wrap(r)->key_name, &pk, NULL), ==,
		  0);
	CHECK_INT(keys_rsa_unwrap(&pk, msgfile_reader_wrap(r)->blob, msgfile_reader_wrap(r)->blob_len,
				  key), ==, 0);
	CHECK_INT(delivery_open_instructions(key, last->instructions, last->instructions_len, &in),
		  ==, 0);
	delivery_instructions_free(&in);
	CHECK_INT(delivery_open_instructions(key, items[0].instructions,
					     items[0].instructions_len, &in), ==, -EBADMSG);
	last->instructions[20] ^= 1;
	CHECK_INT(delivery_open_instructions(key, last->instructions, last->instructions_len, &in),
		  ==, -EBADMSG);
	last->instructions[20] ^= 1;
	CHECK_INT(delivery_open_instructions(key, last->instructions, last->instructions_len - 1,
					     &in), ==, -EBADMSG);
	CHECK_INT(delivery_open_instructions(key, last->instructions, 3, &in), ==, -EBADMSG);
	mbedtls_pk_free(&pk);
	msgfile_reader_free(&r);
	close(fd);
	delivery_pending_free(&items, n);
}

TEST(failed_row_insert_takes_the_file_back)
{
	struct user u = fresh_user();
	char *err = NULL;

	CHECK(mkdir(S("%s/%s", u.dir, DELIVERY_DB_NAME), 0700) == 0);
	int fd = memfd_with("hello\r\n", 7);
	int r = delivery_deliver_fd(u.users, "u", fd, NULL, NULL, &err);
	test_keep(err);
	CHECK_INT(r, <, 0);
	CHECK(err && strstr(err, DELIVERY_DB_NAME));
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, 0);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
}

TEST(errors_say_temporary_or_permanent)
{
	const int temp[] = { -EAGAIN, -EBUSY, -ENOSPC, -EDQUOT, -EACCES, -EROFS, -EIO,
			     -ENOKEY, -EUCLEAN, -EMFILE };
	const int perm[] = { -ENOENT, -EINVAL, -EFBIG, -EBADMSG, -EPROTO };

	for (size_t i = 0; i < sizeof(temp) / sizeof(temp[0]); i++)
		CHECK(delivery_error_is_temporary(temp[i]));
	for (size_t i = 0; i < sizeof(perm) / sizeof(perm[0]); i++)
		CHECK(!delivery_error_is_temporary(perm[i]));
	CHECK(delivery_file_name_valid("0123456789abcdef0123456789abcdef"));
	CHECK(!delivery_file_name_valid("0123456789ABCDEF0123456789abcdef"));
	CHECK(!delivery_file_name_valid("0123456789abcdef0123456789abcde"));
	CHECK(!delivery_file_name_valid("0123456789abcdef0123456789abcdef0"));
	CHECK(!delivery_file_name_valid(NULL));
}

/* --- Concurrency ---------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 25

struct worker {
	const struct user *u;
	int failures;
	char *names[PER_THREAD];
};

static void *deliver_many(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < PER_THREAD; i++) {
		struct delivery *d;
		char *line = xasprintf("Subject: %p %d\r\n\r\nbody\r\n", arg, i);
		if (delivery_begin(w->u->users, "u", NULL, &d, NULL) < 0 ||
		    delivery_write(d, line, strlen(line)) < 0 ||
		    delivery_commit(&d, &w->names[i], NULL) < 0) {
			delivery_abort(&d);
			w->failures++;
		}
		free(line);
	}
	return NULL;
}

TEST(concurrent_threads_all_land)
{
	struct user u = fresh_user();
	struct worker w[THREADS];
	pthread_t t[THREADS];

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ .u = &u };
		CHECK(pthread_create(&t[i], NULL, deliver_many, &w[i]) == 0);
	}
	for (int i = 0; i < THREADS; i++) {
		CHECK(pthread_join(t[i], NULL) == 0);
		CHECK_INT(w[i].failures, ==, 0);
		for (int k = 0; k < PER_THREAD; k++)
			test_keep(w[i].names[k]);
	}
	CHECK_INT(count_pending(&u), ==, THREADS * PER_THREAD);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, THREADS * PER_THREAD);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
	/* Every row names a file that opens with its own key. */
	struct taken t0 = take(&u, w[THREADS - 1].names[PER_THREAD - 1]);
	CHECK(memmem(t0.data, t0.len, "body\r\n", 6) != NULL);
}

TEST(concurrent_processes_all_land)
{
	struct user u = fresh_user();
	pid_t pids[THREADS];

	for (int i = 0; i < THREADS; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0);
		if (pids[i] == 0) {
			struct worker w = { .u = &u };
			deliver_many(&w);
			_exit(w.failures == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < THREADS; i++) {
		int status;
		CHECK(waitpid(pids[i], &status, 0) == pids[i]);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_INT(count_pending(&u), ==, THREADS * PER_THREAD);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, THREADS * PER_THREAD);
}

/* --- Group commit, delivery.sqlite's journal ------------------------------ */

static char *take_first(const struct user *u)
{
	struct delivery_pending *items;
	size_t n;
	CHECK_INT(delivery_pending_list(u->dir, 1, &items, &n, NULL), ==, 0);
	CHECK_INT(n, ==, 1);
	char *name = test_keep(xstrdup(items[0].file_name));
	delivery_pending_free(&items, n);
	return name;
}

static struct delivery *begin_with(const struct user *u, const char *user, const char *text)
{
	struct delivery *d;
	CHECK_INT(delivery_begin(u->users, user, NULL, &d, NULL), ==, 0);
	CHECK_INT(delivery_write(d, text, strlen(text)), ==, 0);
	return d;
}

TEST(group_commit_lands_all_in_one_shard)
{
	struct user u = fresh_user();
	struct delivery *d[5];
	char *names[5], *errs[5];
	int res[5];

	for (int i = 0; i < 5; i++) {
		d[i] = begin_with(&u, "u", i == 2 ? "" : S("Subject: %d\r\n\r\nbody %d\r\n", i, i));
		if (i % 2)	/* some finished before, some by the commit */
			CHECK_INT(delivery_finish(d[i]), ==, 0);
	}
	delivery_commit_group(d, 5, res, names, errs);
	for (int i = 0; i < 5; i++) {
		CHECK(d[i] == NULL);
		test_keep(names[i]);
		test_keep(errs[i]);
		if (i == 2) {
			CHECK_INT(res[i], ==, -EINVAL);	/* empty: fails alone */
			CHECK(names[i] == NULL && errs[i] && strstr(errs[i], "empty"));
			continue;
		}
		CHECK_INT(res[i], ==, 0);
		CHECK(errs[i] == NULL && delivery_file_name_valid(names[i]));
		CHECK(strncmp(names[i], names[0], 2) == 0);	/* one shard, one fsync */
		struct taken t = take(&u, names[i]);
		CHECK(t.len == strlen(S("Subject: %d\r\n\r\nbody %d\r\n", i, i)));
		CHECK(memcmp(t.data, S("Subject: %d\r\n\r\nbody %d\r\n", i, i), t.len) == 0);
	}
	CHECK_INT(count_pending(&u), ==, 4);
	CHECK_INT(count_files(S("%s/messages", u.dir)), ==, 4);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
	struct stat st;
	CHECK(lstat(S("%s/messages/%.2s/%s", u.dir, names[0], DELIVERY_SHARD_MARK), &st) == 0);
	CHECK(S_ISREG(st.st_mode) && st.st_size == 0);
}

TEST(group_commit_refuses_another_user_and_fails_whole)
{
	struct user u = fresh_user();
	struct delivery *d[3];
	char *errs[3];
	int res[3];

	CHECK_INT(system(S("cp -a %s %s/v", u.dir, u.users)), ==, 0);
	d[0] = begin_with(&u, "u", "one\r\n");
	d[1] = begin_with(&u, "v", "two\r\n");
	d[2] = begin_with(&u, "u", "three\r\n");
	delivery_commit_group(d, 3, res, NULL, errs);
	CHECK_INT(res[0], ==, 0);
	CHECK_INT(res[1], ==, -EINVAL);
	CHECK_INT(res[2], ==, 0);
	test_keep(errs[1]);
	CHECK(errs[0] == NULL && errs[2] == NULL && errs[1] != NULL);
	CHECK_INT(count_pending(&u), ==, 2);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 0);
	CHECK_INT(count_files(S("%s/v/tmp", u.users)), ==, 0);
	CHECK_INT(count_files(S("%s/v/messages", u.users)), ==, 0);

	/* The row transaction fails: every member fails, no file stays. */
	CHECK(mkdir(S("%s/v/%s", u.users, DELIVERY_DB_NAME), 0700) == 0);
	for (int i = 0; i < 3; i++)
		d[i] = begin_with(&u, "v", "again\r\n");
	delivery_commit_group(d, 3, res, NULL, errs);
	for (int i = 0; i < 3; i++) {
		CHECK_INT(res[i], <, 0);
		CHECK(errs[i] && strstr(test_keep(errs[i]), DELIVERY_DB_NAME));
	}
	CHECK_INT(count_files(S("%s/v/messages", u.users)), ==, 0);
	CHECK_INT(count_files(S("%s/v/tmp", u.users)), ==, 0);
}

static char *journal_mode(const struct user *u)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK_INT(sqlite3_open_v2(S("%s/%s", u->dir, DELIVERY_DB_NAME), &db, SQLITE_OPEN_READWRITE,
				  NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), ==, SQLITE_OK);
	CHECK_INT(sqlite3_step(st), ==, SQLITE_ROW);
	char *mode = S("%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return mode;
}

TEST(wal_and_a_database_removed_under_the_cache)
{
	struct user u = fresh_user();

	deliver(&u, "a", 1, NULL);
	CHECK_STR(journal_mode(&u), "wal");
	/* The manual's repair: remove delivery.sqlite*. This process keeps a
	 * connection to the removed file; the next delivery must not use it. */
	const char *const files[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++)
		CHECK(unlink(S("%s/%s%s", u.dir, DELIVERY_DB_NAME, files[i])) == 0);
	char *b = deliver(&u, "b", 1, NULL);
	CHECK_INT(count_pending(&u), ==, 1);
	CHECK_STR(take_first(&u), b);
	/* A database made in rollback mode by an older version switches. */
	struct user v = fresh_user();
	sqlite3 *db;
	CHECK_INT(sqlite3_open(S("%s/%s", v.dir, DELIVERY_DB_NAME), &db), ==, SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "CREATE TABLE pending (id INTEGER PRIMARY KEY, file_name TEXT "
				   "NOT NULL UNIQUE, instructions BLOB NOT NULL); "
				   "PRAGMA user_version = 1;", NULL, NULL, NULL), ==, SQLITE_OK);
	sqlite3_close(db);
	CHECK_STR(journal_mode(&v), "delete");
	deliver(&v, "c", 1, NULL);
	CHECK_STR(journal_mode(&v), "wal");
	CHECK_INT(count_pending(&v), ==, 1);
}

TEST(the_wal_is_emptied_as_it_grows)
{
	struct user u = fresh_user();
	struct stat st;
	off_t most = 0;

	/* Two pages a delivery; every 128 frames the WAL is copied back and
	 * truncated, so it never holds much more. */
	for (int i = 0; i < 150; i++) {
		deliver(&u, "x", 1, NULL);
		CHECK(stat(S("%s/%s-wal", u.dir, DELIVERY_DB_NAME), &st) == 0);
		most = st.st_size > most ? st.st_size : most;
	}
	CHECK_INT(most, <=, 132 * (4096 + 24) + 32);
	CHECK_INT(st.st_size, <, most);
	CHECK_INT(count_pending(&u), ==, 150);
}

/* --- Nothing in the clear ------------------------------------------------- */

/* Does hay hold secret[0..n) raw, as lowercase hex, or inside base64 at any
 * of the three alignments? */
static bool leaks(const char *hay, size_t len, const char *secret)
{
	size_t n = strlen(secret), olen;
	unsigned char b64[256];
	char hex[256];

	if (memmem(hay, len, secret, n))
		return true;
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)secret[i]);
	if (memmem(hay, len, hex, 2 * n))
		return true;
	for (size_t k = 0; k < 3; k++) {
		CHECK(mbedtls_base64_encode(b64, sizeof(b64), &olen,
					    (const unsigned char *)secret + k, n - k) == 0);
		if (memmem(hay, len, b64, olen - 4))	/* drop the last partial group */
			return true;
	}
	return false;
}

static const char *const markers[] = { "BODY-MARKER-7f3a91c2", "Mbox-Marker-5d20e4aa",
				       "$FlagMarker9b41" };

static int scan(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int files = 0;

	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = S("%s/%s", dir, e->d_name), *data;
		struct stat st;
		size_t len;
		CHECK(lstat(path, &st) == 0);
		if (S_ISDIR(st.st_mode)) {
			files += scan(path);
			continue;
		}
		CHECK_INT(userdir_read_file(path, 64 << 20, &data, &len, NULL), ==, 0);
		for (size_t i = 0; i < 3; i++)
			if (leaks(data, len, markers[i]))
				test_fail(__FILE__, __LINE__, "%s holds '%s'", path, markers[i]);
		free(data);
		files++;
	}
	closedir(d);
	return files;
}

TEST(no_marker_reaches_the_disk_in_the_clear)
{
	struct user u = fresh_user();
	const char *flags[] = { markers[2], "\\Seen" };
	struct delivery_opts o = { .mailbox = S("Lists/%s", markers[1]), .flags = flags,
				   .nflags = 2, .eol = DELIVERY_EOL_UNIX_TO_DOS };
	size_t len = 3 << 20;
	char *body = test_keep(xmalloc(len));
	struct delivery *d;

	/* The scanner finds a marker raw, in hex and in base64 at any offset. */
	for (size_t k = 0; k < 3; k++) {
		unsigned char enc[128];
		size_t elen;
		char *shifted = S("%.*s%s!", (int)k, "ab", markers[1]);
		CHECK(mbedtls_base64_encode(enc, sizeof(enc), &elen, (unsigned char *)shifted,
					    strlen(shifted)) == 0);
		CHECK(leaks((char *)enc, elen, markers[1]));
	}
	CHECK(leaks("..4d62..", 8, "Mb"));
	CHECK(!leaks(markers[0], strlen(markers[0]), markers[1]));
	/* Text that deflate shrinks, so the marker is in every segment. */
	for (size_t i = 0; i < len; i++)
		body[i] = markers[0][i % 21] ? markers[0][i % 21] : '\n';
	deliver(&u, body, 1000, &o);
	deliver(&u, markers[0], strlen(markers[0]), &o);
	/* Mid-delivery: the temporary file holds several segments. */
	CHECK_INT(delivery_begin(u.users, "u", &o, &d, NULL), ==, 0);
	CHECK_INT(delivery_write(d, body, len), ==, 0);
	CHECK_INT(count_files(S("%s/tmp", u.dir)), ==, 1);
	CHECK_INT(scan(u.dir), >=, 7);
	CHECK_INT(delivery_commit(&d, NULL, NULL), ==, 0);
	/* The WAL holds every page version written since its last reset,
	 * deleted rows' too, and stays when connections close. */
	struct stat st;
	const char *const files[] = { "", "-wal", "-shm" };
	for (size_t i = 0; i < 3; i++) {
		CHECK(stat(S("%s/%s%s", u.dir, DELIVERY_DB_NAME, files[i]), &st) == 0);
		CHECK_INT(st.st_mode & 0777, ==, 0600);
	}
	CHECK_INT(delivery_pending_done(u.dir, take_first(&u), NULL), ==, 0);
	/* user.toml, 3 keys, 3 messages, db, -wal, -shm */
	CHECK_INT(scan(u.dir), >=, 10);
	CHECK_INT(count_pending(&u), ==, 2);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	if (argc > 1 && strcmp(argv[1], "--list") == 0)
		return test_main(argc, argv);
	strcpy(template_root, "/tmp/test-delivery-XXXXXX");
	if (!mkdtemp(template_root) || mkdir(S("%s/users", template_root), 0700) < 0) {
		perror("template");
		return 1;
	}
	int r = account_create(S("%s/users", template_root), "tmpl", "pw", &cheap, master, &err);
	if (r < 0) {
		fprintf(stderr, "creating the template user: %s\n", err);
		return 1;
	}
	r = test_main(argc, argv);
	userdir_remove_tree(template_root);
	return r;
}
