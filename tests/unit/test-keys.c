/* Unit tests of storage/keys.c and keys-file.c: patterns and names,
 * internal keys, the sealed private key file, RSA-OAEP wrapping, rotation,
 * and that nothing secret reaches the disk in the clear.
 *
 * main() creates one user (one RSA-4096 generation, the only one in this
 * file) before the tests fork; each test works on its own copy. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/base64.h>
#include <mbedtls/rsa.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/userdir.h"

#define PASSWORD "Tr0ub4dor&3 and more"

static const struct argon_params cheap = { .memory_kib = 256, .iterations = 1, .parallelism = 1 };
static char template_root[64];
static uint8_t master[KEYS_KEY_LEN];

#define S(...) TEST_STR(__VA_ARGS__)

static char *fresh_user(void)
{
	char *root = S("%s/t-XXXXXX", template_root);
	CHECK(mkdtemp(root) != NULL);
	CHECK_INT(system(S("cp -a %s/users/tmpl %s/u", template_root, root)), ==, 0);
	return S("%s/u", root);
}

static char *read_text(const char *path, size_t *len_r)
{
	char *data;
	size_t len;
	CHECK_INT(userdir_read_file(path, 1 << 20, &data, &len, NULL), ==, 0);
	if (len_r)
		*len_r = len;
	return test_keep(data);
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	CHECK(fwrite(data, 1, len, f) == len);
	CHECK(fclose(f) == 0);
}

static const char *current(const char *user)
{
	static char name[KEYS_NAME_MAX + 1];
	CHECK_INT(keys_current_external_name(user, time(NULL), name, NULL), ==, 0);
	return name;
}

TEST(patterns_are_checked)
{
	const char *good[] = { "external-%Y-%m", "internal-%Y-%m-%d", "%Y", "k%y", "ext.%G_%V",
			       "ext-%Y-%W", "ext-%Y-%U", "x%g-%j-%u-%w", "0-%Y" };
	const char *bad[] = { "", "external", "external-%m", "ext-%Y-%H", "ext-%Y-%M",
			      "ext/%Y", "ext %Y", "ext-%Y%%", "ext-%Y-%", "-%Y", ".%Y", "_%Y",
			      "ext-%e-%Y", "\xc3\xa9-%Y", "ext-%Ey", "ext-%Oy", "ext-%s",
			      "ext-%Y-%b", "ext-%Y\n",
			      /* 17 years: 34 bytes of pattern, 68 of name */
			      "%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y%Y" };
	const char *why;
	char long_pat[KEYS_PATTERN_MAX + 2];

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (keys_check_pattern(good[i], &why) != 0)
			test_fail(__FILE__, __LINE__, "'%s' refused: %s", good[i], why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		if (keys_check_pattern(bad[i], &why) != -EINVAL || !why)
			test_fail(__FILE__, __LINE__, "'%s' accepted", bad[i]);
	}
	memset(long_pat, 'a', sizeof(long_pat));
	memcpy(long_pat, "%Y", 2);
	long_pat[KEYS_PATTERN_MAX + 1] = '\0';
	CHECK_INT(keys_check_pattern(long_pat, NULL), ==, -EINVAL);
	long_pat[KEYS_PATTERN_MAX - 2] = '\0';	/* 62 bytes, expands to 64 */
	CHECK_INT(keys_check_pattern(long_pat, NULL), ==, 0);
	CHECK_INT(keys_check_pattern("x-%m", &why), ==, -EINVAL);
	CHECK(strstr(why, "year"));
}

TEST(patterns_expand_in_utc)
{
	char name[KEYS_NAME_MAX + 1];
	time_t t = 1796083199;	/* 2026-11-30T23:59:59Z */

	CHECK_INT(keys_expand_pattern("external-%Y-%m", t, name, NULL), ==, 0);
	CHECK_STR(name, "external-2026-11");
	CHECK_INT(keys_expand_pattern("external-%Y-%m", t + 1, name, NULL), ==, 0);
	CHECK_STR(name, "external-2026-12");
	CHECK_INT(keys_expand_pattern("k.%G_%V-%j", t, name, NULL), ==, 0);
	CHECK_STR(name, "k.2026_49-334");
	CHECK_INT(keys_expand_pattern("external-%m", t, name, NULL), ==, -EINVAL);
	CHECK_STR(name, "");
}

TEST(key_names_are_checked)
{
	CHECK_INT(keys_check_name("external-2026-11", NULL), ==, 0);
	CHECK_INT(keys_check_name("a", NULL), ==, 0);
	const char *bad[] = { "", ".x", "-x", "_x", "a/b", "a b", "..", "x\xc3\xa9",
			      "external.current/..", "a\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(keys_check_name(bad[i], NULL), ==, -EINVAL);
	char long_name[KEYS_NAME_MAX + 2];
	memset(long_name, 'n', sizeof(long_name));
	long_name[KEYS_NAME_MAX + 1] = '\0';
	CHECK_INT(keys_check_name(long_name, NULL), ==, -EINVAL);
	long_name[KEYS_NAME_MAX] = '\0';
	CHECK_INT(keys_check_name(long_name, NULL), ==, 0);
}

TEST(internal_keys_are_derived_per_name)
{
	uint8_t a[KEYS_KEY_LEN], a2[KEYS_KEY_LEN], b[KEYS_KEY_LEN], ref[KEYS_KEY_LEN];
	uint8_t other[KEYS_KEY_LEN];

	CHECK_INT(keys_internal_key(master, "internal-2026-11", a), ==, 0);
	CHECK_INT(keys_internal_key(master, "internal-2026-11", a2), ==, 0);
	CHECK_INT(keys_internal_key(master, "internal-2026-12", b), ==, 0);
	CHECK_MEM(a, a2, sizeof(a));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK_INT(crypto_derive(master, CRYPTO_LABEL_INTERNAL_KEY, "internal-2026-11", 16, ref,
				sizeof(ref)), ==, 0);
	CHECK_MEM(a, ref, sizeof(a));
	memcpy(other, master, sizeof(other));
	other[0] ^= 1;
	CHECK_INT(keys_internal_key(other, "internal-2026-11", b), ==, 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK_INT(keys_internal_key(master, "../x", a), ==, -EINVAL);
}

TEST(current_names_follow_the_user_patterns)
{
	char *user = fresh_user();
	char name[KEYS_NAME_MAX + 1];
	time_t t = 1796083199;	/* 2026-11-30T23:59:59Z */

	CHECK_INT(keys_current_external_name(user, t, name, NULL), ==, 0);
	CHECK_STR(name, "external-2026-11");
	CHECK_INT(keys_current_internal_name(user, t, name, NULL), ==, 0);
	CHECK_STR(name, "internal-2026-11");
	struct account_settings s = { .external_pattern = "pub-%Y", .internal_pattern = "own-%Y-%j" };
	CHECK_INT(account_update_settings(user, &s, NULL), ==, 0);
	CHECK_INT(keys_current_external_name(user, t, name, NULL), ==, 0);
	CHECK_STR(name, "pub-2026");
	CHECK_INT(keys_current_internal_name(user, t, name, NULL), ==, 0);
	CHECK_STR(name, "own-2026-334");
}

TEST(wrap_with_public_unwrap_with_private)
{
	char *user = fresh_user();
	char name[KEYS_NAME_MAX + 1];
	mbedtls_pk_context pub, priv;
	uint8_t key[KEYS_KEY_LEN], back[KEYS_KEY_LEN], wrapped[KEYS_RSA_WRAPPED_LEN];

	CHECK_INT(keys_external_public(user, &pub, name, NULL), ==, 0);
	CHECK_STR(name, current(user));
	CHECK_INT(mbedtls_pk_get_bitlen(&pub), ==, 4096);
	CHECK_INT(mbedtls_rsa_get_len(mbedtls_pk_rsa(pub)), ==, KEYS_RSA_WRAPPED_LEN);
	CHECK_INT(mbedtls_mpi_cmp_int(&mbedtls_pk_rsa(pub)->E, 65537), ==, 0);
	crypto_random(key, sizeof(key));
	CHECK_INT(keys_rsa_wrap(&pub, key, wrapped), ==, 0);

	CHECK_INT(keys_load_private(user, master, name, &priv, NULL), ==, 0);
	uint64_t ops = keys_rsa_private_ops();
	CHECK_INT(keys_rsa_unwrap(&priv, wrapped, sizeof(wrapped), back), ==, 0);
	CHECK_MEM(back, key, sizeof(key));
	CHECK_INT(keys_rsa_private_ops(), ==, ops + 1);

	/* A damaged wrap is an error, and still one private operation. */
	wrapped[100] ^= 0x40;
	CHECK_INT(keys_rsa_unwrap(&priv, wrapped, sizeof(wrapped), back), ==, -EBADMSG);
	CHECK_INT(keys_rsa_private_ops(), ==, ops + 2);
	uint8_t zero[KEYS_KEY_LEN] = { 0 };
	CHECK_MEM(back, zero, sizeof(back));
	CHECK_INT(keys_rsa_unwrap(&priv, wrapped, sizeof(wrapped) - 1, back), ==, -EBADMSG);
	CHECK_INT(keys_rsa_unwrap(&pub, wrapped, sizeof(wrapped), back), ==, -EINVAL);
	CHECK_INT(keys_rsa_private_ops(), ==, ops + 2);

	/* Wrapping is randomised; the private context wraps too. */
	uint8_t w2[KEYS_RSA_WRAPPED_LEN];
	CHECK_INT(keys_rsa_wrap(&priv, key, w2), ==, 0);
	CHECK(memcmp(w2, wrapped, sizeof(w2)) != 0);
	CHECK_INT(keys_rsa_unwrap(&priv, w2, sizeof(w2), back), ==, 0);
	CHECK_MEM(back, key, sizeof(key));
	mbedtls_pk_free(&pub);
	mbedtls_pk_free(&priv);
}

TEST(wrong_master_or_wrong_name_cannot_open_the_private_key)
{
	char *user = fresh_user(), *err = NULL;
	const char *name = current(user);
	uint8_t wrong[KEYS_KEY_LEN];
	mbedtls_pk_context pk;

	memcpy(wrong, master, sizeof(wrong));
	wrong[31] ^= 0x80;
	CHECK_INT(keys_load_private(user, wrong, name, &pk, &err), ==, -EBADMSG);
	CHECK(strstr(test_keep(err), "does not open"));
	/* The name is bound in: the same file under another name fails. */
	CHECK(link(S("%s/keys/%s.key.pem", user, name), S("%s/keys/other-2026.key.pem", user)) ==
	      0);
	CHECK_INT(keys_load_private(user, master, "other-2026", &pk, NULL), ==, -EBADMSG);
	CHECK_INT(keys_load_private(user, master, "missing-2026", &pk, &err), ==, -ENOENT);
	test_keep(err);
	CHECK_INT(keys_load_private(user, master, "../u/keys/x", &pk, NULL), ==, -EINVAL);
}

/* Loads the private key after an edit of its file's bytes data[0..len):
 * delta added to the byte at, then cut to cut bytes; then restores it. */
static int load_edited(const char *user, const char *data, size_t len, size_t at, int delta,
		       size_t cut)
{
	const char *name = current(user);
	char path[512];
	char *copy = xmalloc(len);
	mbedtls_pk_context pk;

	snprintf(path, sizeof(path), "%s/keys/%s.key.pem", user, name);
	memcpy(copy, data, len);
	if (at < len)
		copy[at] = (char)(copy[at] + delta);
	write_bytes(path, copy, cut < len ? cut : len);
	free(copy);
	int r = keys_load_private(user, master, name, &pk, NULL);
	if (r == 0)
		mbedtls_pk_free(&pk);
	write_bytes(path, data, len);
	return r;
}

TEST(any_change_to_the_private_key_file_is_an_error)
{
	char *user = fresh_user();
	size_t len;
	char *text = read_text(S("%s/keys/%s.key.pem", user, current(user)), &len);

	CHECK(strncmp(text, "-----BEGIN SEALMAIL ENCRYPTED PRIVATE KEY-----\n", 47) == 0);
	CHECK_INT(load_edited(user, text, len, len, 0, len), ==, 0);	/* unchanged */
	/* Bytes of the base64 body shifted to a neighbouring letter: one in
	 * five through the nonce, ciphertext and tag, and every one of the last
	 * line (whose final group has bits a lenient decoder ignores). */
	for (size_t at = 47; at < len - 46; at++) {
		if (text[at] == '\n' || text[at] == '=' || (at % 5 != 0 && at < len - 46 - 66))
			continue;
		int delta = text[at] == 'z' || text[at] == 'Z' || text[at] == '9' ? -1 : 1;
		int r = load_edited(user, text, len, at, delta, len);
		if (r != -EBADMSG)
			test_fail(__FILE__, __LINE__, "byte %zu changed: %d", at, r);
	}
	CHECK_INT(load_edited(user, text, len, 5, 1, len), ==, -EBADMSG);	/* armor */
	CHECK_INT(load_edited(user, text, len, len - 10, 1, len), ==, -EBADMSG);
	CHECK_INT(load_edited(user, text, len, 60, '\n' - text[60], len), ==, -EBADMSG);
	CHECK_INT(load_edited(user, text, len, len, 0, len / 2), ==, -EBADMSG);	/* cut */
	CHECK_INT(load_edited(user, text, len, len, 0, len - 1), ==, -EBADMSG);
	CHECK_INT(load_edited(user, text, len, len, 0, 0), ==, -EBADMSG);
}

TEST(public_key_and_current_files_are_checked)
{
	char *user = fresh_user(), *err = NULL;
	mbedtls_pk_context pk;
	char *cur = S("%s/keys/external.current", user);

	write_bytes(cur, "../../etc/passwd\n", 17);
	CHECK_INT(keys_external_public(user, &pk, NULL, &err), ==, -EBADMSG);
	CHECK(strstr(test_keep(err), "external.current"));
	write_bytes(cur, "", 0);
	CHECK_INT(keys_external_public(user, &pk, NULL, NULL), ==, -EBADMSG);
	unlink(cur);
	CHECK_INT(keys_external_public(user, &pk, NULL, NULL), ==, -ENOENT);
	write_bytes(cur, S("%s\n", current(user)), strlen(current(user)) + 1);
	CHECK_INT(keys_external_public(user, &pk, NULL, NULL), ==, 0);
	mbedtls_pk_free(&pk);
	write_bytes(S("%s/keys/%s.pub.pem", user, current(user)), "-----BEGIN PUBLIC KEY-----\n",
		    27);
	CHECK_INT(keys_external_public(user, &pk, NULL, NULL), ==, -EBADMSG);
}

static int next_month(time_t *t_r)
{
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	tm.tm_mday = 1;
	tm.tm_mon++;
	*t_r = timegm(&tm);
	return 0;
}

TEST(rotation_is_needed_once_a_month_and_resumes_after_a_crash)
{
	char *user = fresh_user(), *err = NULL;
	char name[KEYS_NAME_MAX + 1], pub_name[KEYS_NAME_MAX + 1];
	time_t later;
	mbedtls_pk_context pk;

	CHECK_INT(keys_external_needs_rotation(user, time(NULL), name, NULL), ==, 0);
	CHECK_STR(name, current(user));
	next_month(&later);
	CHECK_INT(keys_external_needs_rotation(user, later, name, NULL), ==, 1);
	CHECK(strcmp(name, current(user)) != 0);
	/* Until the new key is published, delivery uses the previous one. */
	CHECK_INT(keys_external_public(user, &pk, pub_name, NULL), ==, 0);
	CHECK_STR(pub_name, current(user));
	mbedtls_pk_free(&pk);

	/* A generation that stopped after storing the private key: the next
	 * run reuses that key (no new RSA generation) and publishes it. */
	char *key_path = S("%s/keys/%s.key.pem", user, current(user));
	char *key_before = read_text(key_path, NULL);
	unlink(S("%s/keys/%s.pub.pem", user, current(user)));
	unlink(S("%s/keys/external.current", user));
	CHECK_INT(keys_external_needs_rotation(user, time(NULL), name, &err), ==, 1);
	CHECK(err == NULL);
	/* Reused, not generated again: the same private key file. */
	uint64_t generated = keys_rsa_generations();
	CHECK_INT(keys_generate_external(user, master, name, NULL), ==, 0);
	CHECK_INT(keys_rsa_generations(), ==, generated);
	CHECK_STR(read_text(key_path, NULL), key_before);
	CHECK_INT(keys_external_needs_rotation(user, time(NULL), name, NULL), ==, 0);
	CHECK_INT(keys_external_public(user, &pk, pub_name, NULL), ==, 0);
	mbedtls_pk_free(&pk);

	/* A key file that does not open under this master is never replaced. */
	uint8_t wrong[KEYS_KEY_LEN] = { 1 };
	CHECK_INT(keys_generate_external(user, wrong, name, NULL), ==, -EBADMSG);
	CHECK_STR(read_text(key_path, NULL), key_before);
}

/* True when needle[0..n) occurs in hay[0..len). */
static bool contains(const char *hay, size_t len, const void *needle, size_t n)
{
	return n > 0 && memmem(hay, len, needle, n) != NULL;
}

/* Does hay contain secret[0..n) raw, as lowercase hex, or inside a base64
 * stream at any of the three alignments? */
static bool leaks(const char *hay, size_t len, const uint8_t *secret, size_t n)
{
	unsigned char b64[1024];
	char hex[1024];
	size_t olen;

	if (contains(hay, len, secret, n))
		return true;
	for (size_t i = 0; i < n && 2 * i + 2 < sizeof(hex); i++)
		snprintf(hex + 2 * i, 3, "%02x", secret[i]);
	if (contains(hay, len, hex, 2 * n))
		return true;
	for (size_t k = 0; k < 3; k++) {
		CHECK(mbedtls_base64_encode(b64, sizeof(b64), &olen, secret + k, n - k) == 0);
		if (contains(hay, len, b64, olen - 4))	/* drop the last partial group */
			return true;
	}
	return false;
}

static void scan_dir(const char *dir, const uint8_t *secret, size_t n, const char *what,
		     int *files)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	CHECK(d != NULL);
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char *path = S("%s/%s", dir, e->d_name);
		struct stat st;
		CHECK(lstat(path, &st) == 0);
		if (S_ISDIR(st.st_mode)) {
			scan_dir(path, secret, n, what, files);
			continue;
		}
		size_t len;
		char *data = read_text(path, &len);
		if (leaks(data, len, secret, n))
			test_fail(__FILE__, __LINE__, "%s holds the %s", path, what);
		(*files)++;
	}
	closedir(d);
}

static void export_mpi(const mbedtls_mpi *x, uint8_t *out, size_t n)
{
	CHECK(mbedtls_mpi_write_binary(x, out, n) == 0);
}

TEST(no_secret_is_stored_in_the_clear)
{
	char *user = fresh_user();
	mbedtls_pk_context pk;
	uint8_t der[4096], p[256], q[256], d[512], dp[256];
	int files = 0;

	/* A password change too, for the backup files. */
	CHECK_INT(account_change_password(user, PASSWORD, PASSWORD "2", NULL, NULL), ==, 0);
	CHECK_INT(keys_load_private(user, master, current(user), &pk, NULL), ==, 0);
	int n = mbedtls_pk_write_key_der(&pk, der, sizeof(der));
	CHECK(n > 0);
	mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
	export_mpi(&rsa->P, p, sizeof(p));
	export_mpi(&rsa->Q, q, sizeof(q));
	export_mpi(&rsa->D, d, sizeof(d));
	export_mpi(&rsa->DP, dp, sizeof(dp));

	/* The scanner finds a secret inside base64 at any offset, and in hex. */
	unsigned char enc[1024];
	size_t elen;
	CHECK(mbedtls_base64_encode(enc, sizeof(enc), &elen, p, sizeof(p)) == 0);
	for (size_t off = 0; off < 3; off++)
		CHECK(leaks((char *)enc, elen, p + 10 + off, 64));
	CHECK(leaks("ab0102ff", 8, (const uint8_t *)"\x01\x02\xff", 3));
	CHECK(!leaks((char *)enc, elen, q, 64));

	scan_dir(user, (const uint8_t *)PASSWORD, strlen(PASSWORD), "password", &files);
	scan_dir(user, master, sizeof(master), "master key", &files);
	scan_dir(user, der + sizeof(der) - n, 64, "private key DER", &files);
	scan_dir(user, der + sizeof(der) - 200, 64, "private key DER", &files);
	scan_dir(user, p, 64, "prime p", &files);
	scan_dir(user, q + 100, 64, "prime q", &files);
	scan_dir(user, d + 200, 64, "private exponent", &files);
	scan_dir(user, dp, 64, "CRT exponent", &files);
	CHECK_INT(files, >=, 8 * 5);	/* user.toml, backup, 3 key files */
	mbedtls_pk_free(&pk);

	size_t len;
	char *text = read_text(S("%s/keys/%s.key.pem", user, current(user)), &len);
	CHECK(strstr(text, "BEGIN RSA PRIVATE KEY") == NULL);
	CHECK(strstr(text, "BEGIN PRIVATE KEY") == NULL);
}

int main(int argc, char **argv)
{
	char *err = NULL;

	if (argc > 1 && strcmp(argv[1], "--list") == 0)
		return test_main(argc, argv);
	strcpy(template_root, "/tmp/test-keys-XXXXXX");
	if (!mkdtemp(template_root) || mkdir(S("%s/users", template_root), 0700) < 0) {
		perror("template");
		return 1;
	}
	int r = account_create(S("%s/users", template_root), "tmpl", PASSWORD, &cheap, master,
			       &err);
	if (r < 0) {
		fprintf(stderr, "creating the template user: %s\n", err);
		return 1;
	}
	r = test_main(argc, argv);
	userdir_remove_tree(template_root);
	return r;
}
