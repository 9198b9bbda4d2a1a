/* Unit tests of storage/account.c, account-config.c and userdir.c: user
 * creation, login, password change and its backups, user names and
 * lookups, and strict reading of user.toml.
 *
 * RSA-4096 generation costs up to seconds, so main() creates one template
 * user before the tests fork; each test works on its own copy of it. Argon2
 * runs with a tiny cost here (the cost is a parameter, stored in user.toml);
 * only test_default_cost uses the default. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/userdir.h"

#define PASSWORD "correct horse battery staple"

static const struct argon_params cheap = { .memory_kib = 256, .iterations = 1, .parallelism = 1 };
static char template_root[64];	/* template_root/users/tmpl; tests work below it */
static uint8_t template_master[ACCOUNT_KEY_LEN];

/* Test strings stay reachable from here until the test's process exits, so
 * the leak check at the end of each test stays quiet without free() noise. */
#define S(...) TEST_STR(__VA_ARGS__)

/* A fresh root with users/ holding a copy of the template as "alice";
 * returns the users dir, and the user dir in *user_dir_r. */
static char *fresh_users(char **user_dir_r)
{
	char *root = S("%s/t-XXXXXX", template_root);
	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(system(S("cp -a %s/users %s/users && mv %s/users/tmpl %s/users/alice",
			   template_root, root, root, root)),
		  ==, 0);
	*user_dir_r = S("%s/users/alice", root);
	return S("%s/users", root);
}

static char *read_text(const char *path)
{
	char *data;
	size_t len;
	CHECK_INT(userdir_read_file(path, 1 << 20, &data, &len, NULL), ==, 0);
	return test_keep(data);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fputs(text, f) >= 0);
	CHECK(fclose(f) == 0);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

TEST(create_makes_the_layout)
{
	char *user, *users = fresh_users(&user);
	const char *subdirs[] = { "keys", "messages", "backups", "tmp", "" };
	struct stat st;

	for (size_t i = 0; i < 5; i++) {
		char *p = S("%s/%s", user, subdirs[i]);
		CHECK(stat(p, &st) == 0);
		CHECK(S_ISDIR(st.st_mode));
		CHECK_INT(st.st_mode & 0777, ==, 0700);
	}
	char *toml = S("%s/user.toml", user);
	CHECK(stat(toml, &st) == 0);
	CHECK_INT(st.st_mode & 0777, ==, 0600);
	char *text = read_text(toml);
	CHECK(strstr(text, "tmpl") == NULL);	/* the name lives in users/ only */
	CHECK(strstr(text, "algorithm = \"argon2id\"") != NULL);
	CHECK(strstr(text, "memory_kib = 256\n") != NULL);
	CHECK(strstr(text, "failure_receipts = \"INBOX\"") != NULL);

	char name[KEYS_NAME_MAX + 1];
	CHECK_INT(keys_current_external_name(user, time(NULL), name, NULL), ==, 0);
	char *cur = S("%s/keys/external.current", user);
	char *want = S("%s\n", name);
	CHECK_STR(read_text(cur), want);
	char *pub = S("%s/keys/%s.pub.pem", user, name);
	char *key = S("%s/keys/%s.key.pem", user, name);
	CHECK(exists(pub) && exists(key));
	/* No temporary directory left in users/. */
	DIR *d = opendir(users);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		CHECK(e->d_name[0] != '.' || strcmp(e->d_name, ".") == 0 ||
		      strcmp(e->d_name, "..") == 0);
	closedir(d);
}

TEST(create_refuses_an_existing_name_before_any_work)
{
	char *user, *users = fresh_users(&user), *err = NULL;
	uint64_t generated = keys_rsa_generations();

	CHECK_INT(account_create(users, "alice", "pw", &cheap, NULL, &err), ==, -EEXIST);
	CHECK(err && strstr(err, "already exists"));
	CHECK_INT(keys_rsa_generations(), ==, generated);	/* no RSA work was done */
	free(err);
	/* An alias, and a dangling symlink, are names taken too. */
	char *alias = S("%s/al", users), *dangling = S("%s/gone", users);
	CHECK(symlink("alice", alias) == 0 && symlink("nowhere", dangling) == 0);
	CHECK_INT(account_create(users, "al", "pw", &cheap, NULL, NULL), ==, -EEXIST);
	CHECK_INT(account_create(users, "gone", "pw", &cheap, NULL, NULL), ==, -EEXIST);
}

TEST(create_refuses_bad_arguments)
{
	char *user, *users = fresh_users(&user), *err = NULL;
	const char *bad_names[] = { "", "a/b", ".hidden", "..", "%off", "tab\there", "del\x7f",
				    "c1\xc2\x85", "bad\xff", "overlong\xc0\xaf", "surrogate\xed\xa0\x80",
				    "cut\xe2\x82" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		CHECK_INT(account_create(users, bad_names[i], "pw", &cheap, NULL, &err), ==,
			  -EINVAL);
		CHECK(strstr(err, "invalid user name"));
		free(err);
	}
	char long_name[300];
	memset(long_name, 'a', sizeof(long_name));
	long_name[256] = '\0';
	CHECK_INT(account_create(users, long_name, "pw", &cheap, NULL, NULL), ==, -EINVAL);
	long_name[255] = '\0';
	CHECK_INT(userdir_check_name(long_name, NULL), ==, 0);
	CHECK_INT(userdir_check_name("j\xc3\xb6ran.smith@example.com", NULL), ==, 0);

	CHECK_INT(account_create(users, "bob", "", &cheap, NULL, NULL), ==, -EINVAL);
	struct argon_params p = cheap;
	p.iterations = 0;
	CHECK_INT(account_create(users, "bob", "pw", &p, NULL, NULL), ==, -EINVAL);
	p = cheap;
	p.memory_kib = ACCOUNT_ARGON_MEMORY_MAX + 1;
	CHECK_INT(account_create(users, "bob", "pw", &p, NULL, NULL), ==, -EINVAL);
	CHECK(!exists(S("%s/bob", users)));
}

TEST(login_gives_the_master_key)
{
	char *user;
	uint8_t master[ACCOUNT_KEY_LEN];

	fresh_users(&user);
	CHECK_INT(account_login(user, PASSWORD, master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));
}

TEST(login_with_a_wrong_password_is_eacces)
{
	char *user, *err = NULL;
	uint8_t master[ACCOUNT_KEY_LEN], zero[ACCOUNT_KEY_LEN] = { 0 };

	fresh_users(&user);
	CHECK_INT(account_login(user, PASSWORD "!", master, &err), ==, -EACCES);
	CHECK(strstr(test_keep(err), "wrong password"));
	CHECK_MEM(master, zero, sizeof(master));
	CHECK_INT(account_login(user, "", master, NULL), ==, -EACCES);
}

TEST(change_password_keeps_the_master_key_and_restores_from_backup)
{
	char *user, *backup = NULL;
	uint8_t master[ACCOUNT_KEY_LEN];

	fresh_users(&user);
	char *toml = S("%s/user.toml", user);
	char *before = read_text(toml);
	CHECK_INT(account_change_password(user, PASSWORD, "new secret", &backup, NULL), ==, 0);
	CHECK(test_keep(backup) != NULL);
	char *prefix = S("%s/tmp/config-backup-", user);
	CHECK(strncmp(backup, prefix, strlen(prefix)) == 0);
	CHECK_STR(read_text(backup), before);	/* a byte-for-byte copy */

	CHECK_INT(account_login(user, PASSWORD, master, NULL), ==, -EACCES);
	CHECK_INT(account_login(user, "new secret", master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));
	char *after = read_text(toml);
	CHECK(strcmp(after, before) != 0);
	/* Only salt, verifier and XOR changed: the rest of the file is equal. */
	CHECK(strstr(after, "[smtp_out]") && strstr(after, "memory_kib = 256\n"));

	/* Restoring the backup restores the old password. */
	CHECK(rename(backup, toml) == 0);
	CHECK_INT(account_login(user, PASSWORD, master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));
	CHECK_INT(account_login(user, "new secret", master, NULL), ==, -EACCES);
}

TEST(change_password_with_a_wrong_old_password_changes_nothing)
{
	char *user, *backup = NULL, *err = NULL;

	fresh_users(&user);
	char *toml = S("%s/user.toml", user);
	char *before = read_text(toml);
	CHECK_INT(account_change_password(user, "guess", "new", &backup, &err), ==, -EACCES);
	CHECK(backup == NULL && strstr(test_keep(err), "wrong password"));
	CHECK_STR(read_text(toml), before);
	char *tmp = S("%s/tmp", user);
	DIR *d = opendir(tmp);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		CHECK(e->d_name[0] == '.');
	closedir(d);
	CHECK_INT(account_change_password(user, PASSWORD, "", NULL, NULL), ==, -EINVAL);
}

TEST(two_changes_in_one_second_keep_both_backups)
{
	char *user, *b1, *b2, *b3;
	uint8_t master[ACCOUNT_KEY_LEN];

	fresh_users(&user);
	CHECK_INT(account_change_password(user, PASSWORD, "two", &b1, NULL), ==, 0);
	CHECK_INT(account_change_password(user, "two", "three", &b2, NULL), ==, 0);
	CHECK_INT(account_change_password(user, "three", "four", &b3, NULL), ==, 0);
	test_keep(b1), test_keep(b2), test_keep(b3);
	CHECK(strcmp(b1, b2) != 0 && strcmp(b2, b3) != 0 && strcmp(b1, b3) != 0);
	CHECK_INT(account_login(user, "four", master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));
}

struct change_job {
	const char *user, *new_password;
	int r;
};

static void *change_thread(void *arg)
{
	struct change_job *j = arg;
	j->r = account_change_password(j->user, PASSWORD, j->new_password, NULL, NULL);
	return NULL;
}

static void *login_thread(void *arg)
{
	struct change_job *j = arg;
	uint8_t master[ACCOUNT_KEY_LEN];
	j->r = account_login(j->user, PASSWORD, master, NULL);
	if (j->r == 0 && memcmp(master, template_master, sizeof(master)) != 0)
		j->r = -EILSEQ;
	return NULL;
}

TEST(concurrent_password_changes_are_serialised)
{
	char *user;
	uint8_t master[ACCOUNT_KEY_LEN];
	pthread_t t[4];

	fresh_users(&user);
	struct change_job logins[4];
	for (int i = 0; i < 4; i++)
		logins[i] = (struct change_job){ .user = user };
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, login_thread, &logins[i]) == 0);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(logins[i].r, ==, 0);
	}
	/* Both know the old password; the second to take the lock no longer
	 * does, so exactly one change happens. */
	struct change_job jobs[2] = { { .user = user, .new_password = "first" },
				      { .user = user, .new_password = "second" } };
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, change_thread, &jobs[i]) == 0);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	CHECK((jobs[0].r == 0 && jobs[1].r == -EACCES) || (jobs[0].r == -EACCES && jobs[1].r == 0));
	const char *winner = jobs[0].r == 0 ? "first" : "second";
	CHECK_INT(account_login(user, winner, master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));
}

static void make_backup(const char *user, const char *name, time_t mtime)
{
	char *p = S("%s/tmp/%s", user, name);
	write_text(p, "x");
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };
	CHECK(utimensat(AT_FDCWD, p, ts, 0) == 0);
}

static char *stamp(time_t t)
{
	char s[32];
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(s, sizeof(s), "%Y%m%dT%H%M%SZ", &tm);
	return S("%s", s);
}

TEST(prune_removes_only_backups_older_than_a_day)
{
	char *user;
	time_t now = time(NULL), h = 3600;

	fresh_users(&user);
	/* The time in the name counts, not the mtime. */
	char *old = S("config-backup-%s.toml", stamp(now - 25 * h));
	char *old2 = S("config-backup-%s-1.toml", stamp(now - 25 * h));
	char *young = S("config-backup-%s.toml", stamp(now - 23 * h));
	make_backup(user, old, now);
	make_backup(user, old2, now);
	make_backup(user, young, now - 30 * h);
	make_backup(user, "config-backup-odd.toml", now - 30 * h);	/* mtime counts */
	make_backup(user, "config-backup-odd2.toml", now - 2 * h);
	make_backup(user, "other.toml", now - 30 * h);			/* not a backup */
	make_backup(user, "config-backup-x.txt", now - 30 * h);

	CHECK_INT(account_prune_config_backups(user, now, NULL), ==, 3);
	CHECK(!exists(S("%s/tmp/%s", user, old)));
	CHECK(!exists(S("%s/tmp/%s", user, old2)));
	CHECK(!exists(S("%s/tmp/config-backup-odd.toml", user)));
	CHECK(exists(S("%s/tmp/%s", user, young)));
	CHECK(exists(S("%s/tmp/config-backup-odd2.toml", user)));
	CHECK(exists(S("%s/tmp/other.toml", user)));
	CHECK(exists(S("%s/tmp/config-backup-x.txt", user)));
	CHECK_INT(account_prune_config_backups(user, now, NULL), ==, 0);

	/* A real backup is kept for a day. */
	char *backup;
	CHECK_INT(account_change_password(user, PASSWORD, "n", &backup, NULL), ==, 0);
	test_keep(backup);
	/* 23 h on, the two above that were 2 h and 23 h old go, not it. */
	CHECK_INT(account_prune_config_backups(user, time(NULL) + 23 * h, NULL), ==, 2);
	CHECK(exists(backup));
	CHECK_INT(account_prune_config_backups(user, time(NULL) + 25 * h, NULL), ==, 1);
	CHECK(!exists(backup));
}

TEST(lookup_follows_aliases_and_refuses_disabled_users)
{
	char *user, *users = fresh_users(&user), *dir = NULL, *err = NULL;
	char *real = test_keep(realpath(user, NULL));
	uint8_t master[ACCOUNT_KEY_LEN];

	CHECK(symlink("alice", S("%s/bob", users)) == 0);
	CHECK(symlink(user, S("%s/robert", users)) == 0);
	CHECK_INT(userdir_lookup(users, "alice", &dir, NULL), ==, 0);
	CHECK_STR(test_keep(dir), real);
	CHECK_INT(userdir_lookup(users, "bob", &dir, NULL), ==, 0);
	CHECK_STR(test_keep(dir), real);
	CHECK_INT(userdir_lookup(users, "robert", &dir, NULL), ==, 0);
	CHECK_STR(test_keep(dir), real);
	CHECK_INT(account_login(dir, PASSWORD, master, NULL), ==, 0);

	const char *missing[] = { "carol", "", "..", ".", "a/b", "alice/", "bad\xff" };
	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		CHECK_INT(userdir_lookup(users, missing[i], &dir, &err), ==, -ENOENT);
		CHECK(dir == NULL && strstr(err, "no such user"));
		free(err);
	}
	/* Disabling by renaming to '%': the user and its aliases are gone. */
	char *off = S("%s/%%alice", users);
	CHECK(rename(user, off) == 0);
	CHECK_INT(userdir_lookup(users, "%alice", &dir, &err), ==, -ENOENT);
	CHECK(strstr(test_keep(err), "no such user"));
	CHECK_INT(userdir_lookup(users, "alice", &dir, NULL), ==, -ENOENT);
	CHECK_INT(userdir_lookup(users, "bob", &dir, NULL), ==, -ENOENT);	/* dangling */
	CHECK(symlink("%alice", S("%s/bobby", users)) == 0);
	CHECK_INT(userdir_lookup(users, "bobby", &dir, NULL), ==, -ENOENT);

	/* Renaming renames: nothing inside records the name. */
	CHECK(rename(off, S("%s/alicia", users)) == 0);
	CHECK_INT(userdir_lookup(users, "alicia", &dir, NULL), ==, 0);
	test_keep(dir);
	CHECK_INT(account_login(dir, PASSWORD, master, NULL), ==, 0);
	CHECK_MEM(master, template_master, sizeof(master));

	/* A plain file is not a user. */
	write_text(S("%s/file", users), "x");
	CHECK_INT(userdir_lookup(users, "file", &dir, NULL), ==, -ENOENT);
}

/* Replaces the first occurrence of from in user.toml with to, then reads. */
static int read_edited(const char *user, const char *from, const char *to, char **err)
{
	char *path = S("%s/user.toml", user);
	char *text = read_text(path);
	char *at = strstr(text, from);
	CHECK(at != NULL);
	*at = '\0';
	write_text(path, S("%s%s%s", text, to, at + strlen(from)));
	struct account_config cfg;
	*err = NULL;
	int r = account_config_read(user, &cfg, err);
	if (r == 0)
		account_config_free(&cfg);
	return r;
}

static void expect_broken(const char *from, const char *to, int code, const char *msg)
{
	char *user, *err;
	uint8_t master[ACCOUNT_KEY_LEN];

	fresh_users(&user);
	int r = read_edited(user, from, to, &err);
	test_keep(err);
	if (r != code || !err || !strstr(err, msg))
		test_fail(__FILE__, __LINE__, "'%s' -> '%s': %d \"%s\", want %d \"%s\"", from, to,
			  r, err ? err : "", code, msg);
	CHECK_INT(account_login(user, PASSWORD, master, NULL), ==, code);
}

TEST(broken_user_toml_gives_clean_errors)
{
	expect_broken("parallelism = 1\n", "parallelism = 1\nfoo = 2\n", -EINVAL,
		      "user.toml:10: unknown key 'credentials.foo'");
	expect_broken("[smtp_out]", "[other]\nx = 1\n[smtp_out]", -EINVAL, "unknown key 'other'");
	expect_broken("version = 1", "version = 2", -EINVAL, "user.toml:3: key 'version'");
	expect_broken("version = 1", "", -EINVAL, "missing key 'version'");
	expect_broken("algorithm = \"argon2id\"", "algorithm = \"argon2i\"", -EINVAL, "argon2id");
	expect_broken("memory_kib = 256", "memory_kib = 0", -EINVAL, "Argon2 memory");
	expect_broken("memory_kib = 256", "memory_kib = 99999999999", -EINVAL, "out of range");
	expect_broken("memory_kib = 256", "memory_kib = \"256\"", -EINVAL,
		      "expected an integer, got a string");
	expect_broken("iterations = 1\n", "", -EINVAL, "missing key 'credentials.iterations'");
	/* Base64 that is not exactly the expected length. */
	expect_broken("salt = \"", "salt = \"AAAA", -EINVAL, "'credentials.salt': not base64");
	expect_broken("salt = \"", "salt = \"A", -EINVAL, "'credentials.salt': not base64");
	expect_broken("verifier = \"", "verifier = \"!", -EINVAL, "'credentials.verifier'");
	expect_broken("master_key_xor = \"", "master_key_xor = \"AAAA", -EINVAL,
		      "'credentials.master_key_xor'");
	expect_broken("external-%Y-%m", "external-%m", -EINVAL, "needs a year");
	expect_broken("\"INBOX\"", "\"IN\\u0001BOX\"", -EINVAL, "control character");
	expect_broken("[credentials]", "[credentials", -EINVAL, "user.toml:");
}

TEST(truncated_empty_and_huge_user_toml_fail_cleanly)
{
	char *user, *err = NULL;
	struct account_config cfg;

	fresh_users(&user);
	char *path = S("%s/user.toml", user);
	char *text = read_text(path);
	size_t len = strlen(text);
	/* Every key is required, so every cut is refused, down to the last
	 * quote (only the final newline may go). */
	for (size_t cut = 0; cut + 1 < len; cut++) {
		write_text(path, test_keep(xstrndup(text, cut)));
		int r = account_config_read(user, &cfg, &err);
		if (r == 0)
			test_fail(__FILE__, __LINE__, "truncated at %zu accepted", cut);
		CHECK_INT(r, ==, -EINVAL);
		CHECK(err != NULL);
		free(err);
	}
	write_text(path, test_keep(xstrndup(text, len - 1)));
	CHECK_INT(account_config_read(user, &cfg, NULL), ==, 0);
	account_config_free(&cfg);
	char *huge = test_keep(xmalloc(ACCOUNT_CONFIG_MAX + 2));
	memset(huge, '#', ACCOUNT_CONFIG_MAX + 1);
	huge[ACCOUNT_CONFIG_MAX + 1] = '\0';
	write_text(path, huge);
	CHECK_INT(account_config_read(user, &cfg, NULL), ==, -EFBIG);
	unlink(path);
	CHECK_INT(account_config_read(user, &cfg, &err), ==, -ENOENT);
	CHECK(strstr(test_keep(err), "user.toml"));
}

TEST(settings_round_trip_with_escaping)
{
	char *user, *err = NULL;
	struct account_config cfg;
	uint8_t master[ACCOUNT_KEY_LEN];
	const char *odd = "Sent \"quoted\" \\ back/slash \xc3\xa9t\xc3\xa9";
	struct account_settings s = { .external_pattern = "ext.%Y_%V",
				      .smtp_out_save = odd,
				      .smtp_out_failure_receipts = "" };

	fresh_users(&user);
	CHECK_INT(account_update_settings(user, &s, &err), ==, 0);
	CHECK_INT(account_config_read(user, &cfg, NULL), ==, 0);
	CHECK_STR(cfg.smtp_out_save, odd);
	CHECK_STR(cfg.smtp_out_failure_receipts, "");
	CHECK_STR(cfg.smtp_out_success_receipts, "");
	CHECK_STR(cfg.external_pattern, "ext.%Y_%V");
	CHECK_STR(cfg.internal_pattern, KEYS_DEFAULT_INTERNAL_PATTERN);
	account_config_free(&cfg);
	CHECK_INT(account_login(user, PASSWORD, master, NULL), ==, 0);

	char *path = S("%s/user.toml", user);
	char *before = read_text(path);
	struct account_settings bad1 = { .internal_pattern = "internal" };
	struct account_settings bad2 = { .smtp_out_save = "a\nb" };
	struct account_settings bad3 = { .smtp_out_save = "\xff" };
	CHECK_INT(account_update_settings(user, &bad1, &err), ==, -EINVAL);
	CHECK(strstr(test_keep(err), "'internal'"));
	CHECK_INT(account_update_settings(user, &bad2, NULL), ==, -EINVAL);
	CHECK_INT(account_update_settings(user, &bad3, NULL), ==, -EINVAL);
	CHECK_STR(read_text(path), before);
}

TEST(default_cost_hashes)
{
	char *root = S("%s/t-XXXXXX", template_root);
	struct account_config cfg = { .argon = account_argon_default };
	uint8_t master[ACCOUNT_KEY_LEN];

	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(account_check_argon(&account_argon_default, NULL), ==, 0);
	/* Build a user.toml by hand: the default cost, without an RSA key. */
	CHECK(mkdir(S("%s/tmp", root), 0700) == 0);
	CHECK_INT(account_config_read(S("%s/users/tmpl", template_root), &cfg, NULL), ==, 0);
	cfg.argon = account_argon_default;
	memset(cfg.salt, 7, sizeof(cfg.salt));
	CHECK_INT(account_config_write(root, &cfg, NULL), ==, 0);
	CHECK_INT(account_login(root, PASSWORD, master, NULL), ==, -EACCES);
	account_config_free(&cfg);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	if (argc > 1 && strcmp(argv[1], "--list") == 0)
		return test_main(argc, argv);
	strcpy(template_root, "/tmp/test-account-XXXXXX");
	if (!mkdtemp(template_root) || mkdir(S("%s/users", template_root), 0700) < 0) {
		perror("template");
		return 1;
	}
	int r = account_create(S("%s/users", template_root), "tmpl", PASSWORD, &cheap,
			       template_master, &err);
	if (r < 0) {
		fprintf(stderr, "creating the template user: %s\n", err);
		return 1;
	}
	r = test_main(argc, argv);
	userdir_remove_tree(template_root);
	return r;
}
