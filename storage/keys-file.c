/* Key files in keys/: sealed private keys, public keys, external.current.
 * The formats are in keys.h. Every secret buffer is wiped before it is
 * freed or goes out of scope. */
#include "storage/keys-private.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/rsa.h>

#include "src/util/buf.h"
#include "src/util/xmalloc.h"
#include "storage/crypto.h"
#include "storage/userdir.h"

#define ARMOR_BEGIN "-----BEGIN SEALMAIL ENCRYPTED PRIVATE KEY-----\n"
#define ARMOR_END "-----END SEALMAIL ENCRYPTED PRIVATE KEY-----\n"
#define ARMOR_LINE 64
#define DER_MAX CRYPTO_SEAL_MAX		/* an RSA-4096 private key is ~2.4 KB */
#define BLOB_MAX (DER_MAX + CRYPTO_SEAL_OVERHEAD)
#define PRIVATE_FILE_MAX 8192
#define PUBLIC_FILE_MAX 4096
#define CURRENT_FILE_MAX 128

static void set_error(char **error_r, char *msg)
{
	if (error_r)
		*error_r = msg;
	else
		free(msg);
}

static char *key_path(const char *user_dir, const char *name, const char *suffix)
{
	return xasprintf("%s/keys/%s%s", user_dir, name, suffix);
}

static int write_key_file(const char *user_dir, const char *name, const void *data, size_t len,
			  bool replace, char **error_r)
{
	char *dir = xasprintf("%s/keys", user_dir);
	char *tmp = xasprintf("%s/tmp", user_dir);
	int r = userdir_write_atomic(dir, tmp, name, data, len, replace, error_r);
	free(dir);
	free(tmp);
	return r;
}

/* Every key we accept: RSA of exactly KEYS_RSA_BITS, set up for OAEP with
 * SHA-256 once, here, before any thread shares the context. */
static int setup_rsa(mbedtls_pk_context *pk)
{
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA || mbedtls_pk_get_bitlen(pk) != KEYS_RSA_BITS)
		return -EBADMSG;
	mbedtls_rsa_set_padding(mbedtls_pk_rsa(*pk), MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
	return 0;
}

static atomic_uint_fast64_t rsa_generations;

uint64_t keys_rsa_generations(void)
{
	return atomic_load(&rsa_generations);
}

int keys__generate_rsa(mbedtls_pk_context *pk, char **error_r)
{
	mbedtls_pk_init(pk);
	int r = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
	if (r == 0)
		r = mbedtls_rsa_gen_key(mbedtls_pk_rsa(*pk), crypto_rng, NULL, KEYS_RSA_BITS,
					KEYS_RSA_EXPONENT);
	if (r == 0)
		r = setup_rsa(pk);
	if (r != 0) {
		mbedtls_pk_free(pk);
		set_error(error_r, xasprintf("RSA key generation failed (mbedTLS -0x%04x)", -r));
		return -EIO;
	}
	atomic_fetch_add(&rsa_generations, 1);
	return 0;
}

/* Base64 of blob in ARMOR_LINE lines between the armor lines. */
static int armor(const uint8_t *blob, size_t len, struct buf *out)
{
	size_t enc_len = 4 * ((len + 2) / 3), olen;
	unsigned char *enc = xmalloc(enc_len + 1);
	int r = mbedtls_base64_encode(enc, enc_len + 1, &olen, blob, len) == 0 ? 0 : -EIO;

	if (r == 0)
		r = buf_puts(out, ARMOR_BEGIN);
	for (size_t i = 0; r == 0 && i < olen; i += ARMOR_LINE) {
		size_t n = olen - i < ARMOR_LINE ? olen - i : ARMOR_LINE;
		r = buf_append(out, enc + i, n);
		if (r == 0)
			r = buf_puts(out, "\n");
	}
	if (r == 0)
		r = buf_puts(out, ARMOR_END);
	free(enc);
	return r;
}

/* The blob inside an armored file: exactly our armor lines around
 * non-empty lines of base64. Returns its length, or -EBADMSG. */
static int dearmor(const char *data, size_t len, uint8_t blob[BLOB_MAX])
{
	const size_t begin = strlen(ARMOR_BEGIN), end = strlen(ARMOR_END);
	size_t olen = 0, n = 0;
	bool bad = false;

	if (len <= begin + end || memcmp(data, ARMOR_BEGIN, begin) != 0 ||
	    memcmp(data + len - end, ARMOR_END, end) != 0 || data[len - end - 1] != '\n')
		return -EBADMSG;
	char *b64 = xmalloc(len);
	for (size_t i = begin; !bad && i < len - end; i++) {
		if (data[i] != '\n')
			b64[n++] = data[i];
		else if (i == begin || data[i - 1] == '\n')
			bad = true;	/* an empty line: not ours */
	}
	if (!bad && mbedtls_base64_decode(blob, BLOB_MAX, &olen, (unsigned char *)b64, n) != 0)
		bad = true;
	free(b64);
	return bad ? -EBADMSG : (int)olen;
}

/* Whether data[0..len) is exactly what armor() makes of the blob. Base64
 * decoders accept the unused low bits of a last group with any value; this
 * makes every change to the file, not only to the blob, an error. */
static bool armored_exactly(const uint8_t *blob, size_t blob_len, const char *data, size_t len)
{
	struct buf out = BUF_INIT(PRIVATE_FILE_MAX);
	bool same = armor(blob, blob_len, &out) == 0 && out.len == len &&
		    memcmp(out.data, data, len) == 0;
	buf_free(&out);
	return same;
}

int keys__store_private(const char *user_dir, const uint8_t master[KEYS_KEY_LEN],
			const char *name, mbedtls_pk_context *pk, char **error_r)
{
	uint8_t der[DER_MAX], kek[KEYS_KEY_LEN];
	struct buf out = BUF_INIT(PRIVATE_FILE_MAX);
	char *file = xasprintf("%s.key.pem", name);

	/* mbedtls_pk_write_key_der writes at the end of the buffer. */
	int n = mbedtls_pk_write_key_der(pk, der, sizeof(der));
	int r = n > 0 ? 0 : -EIO;
	uint8_t *blob = xmalloc((n > 0 ? (size_t)n : 0) + CRYPTO_SEAL_OVERHEAD);
	if (r == 0)
		r = crypto_derive(master, CRYPTO_LABEL_RSA_PASSPHRASE, name, strlen(name), kek,
				  sizeof(kek));
	if (r == 0)
		r = crypto_seal(kek, name, der + sizeof(der) - n, (size_t)n, blob);
	crypto_wipe(der, sizeof(der));
	crypto_wipe(kek, sizeof(kek));
	if (r == 0)
		r = armor(blob, (size_t)n + CRYPTO_SEAL_OVERHEAD, &out);
	if (r < 0)
		set_error(error_r, xasprintf("%s/keys/%s: cannot seal the private key", user_dir,
					     file));
	else
		r = write_key_file(user_dir, file, out.data, out.len, false, error_r);
	buf_free(&out);
	free(blob);
	free(file);
	return r;
}

int keys__store_public(const char *user_dir, const char *name, mbedtls_pk_context *pk,
		       char **error_r)
{
	unsigned char pem[PUBLIC_FILE_MAX];
	char *file = xasprintf("%s.pub.pem", name);
	int r = mbedtls_pk_write_pubkey_pem(pk, pem, sizeof(pem));

	if (r != 0) {
		set_error(error_r, xasprintf("%s/keys/%s: cannot write the public key", user_dir,
					     file));
		r = -EIO;
	} else {
		r = write_key_file(user_dir, file, pem, strlen((char *)pem), true, error_r);
	}
	free(file);
	return r;
}

/* Opens the sealed DER in blob and parses it into pk. */
static int open_private(const uint8_t master[KEYS_KEY_LEN], const char *name, const uint8_t *blob,
			size_t len, mbedtls_pk_context *pk)
{
	uint8_t der[DER_MAX], kek[KEYS_KEY_LEN];

	int r = crypto_derive(master, CRYPTO_LABEL_RSA_PASSPHRASE, name, strlen(name), kek,
			      sizeof(kek));
	int n = r == 0 ? crypto_open(kek, name, blob, len, der, sizeof(der)) : r;
	crypto_wipe(kek, sizeof(kek));
	if (n < 0)
		return -EBADMSG;
	r = mbedtls_pk_parse_key(pk, der, (size_t)n, NULL, 0) == 0 ? setup_rsa(pk) : -EBADMSG;
	crypto_wipe(der, sizeof(der));
	return r;
}

int keys_load_private(const char *user_dir, const uint8_t master[KEYS_KEY_LEN], const char *name,
		      mbedtls_pk_context *pk, char **error_r)
{
	const char *why;
	char *data = NULL;
	size_t len;
	uint8_t *blob = xmalloc(BLOB_MAX);

	mbedtls_pk_init(pk);
	if (keys_check_name(name, &why) < 0) {
		set_error(error_r, xasprintf("key name '%s': %s", name, why));
		free(blob);
		return -EINVAL;
	}
	char *path = key_path(user_dir, name, ".key.pem");
	int r = userdir_read_file(path, PRIVATE_FILE_MAX, &data, &len, error_r);
	if (r == 0) {
		int n = dearmor(data, len, blob);
		if (n < 0 || !armored_exactly(blob, (size_t)n, data, len)) {
			r = -EBADMSG;
			set_error(error_r, xasprintf("%s: not a sealed private key", path));
		} else if ((r = open_private(master, name, blob, (size_t)n, pk)) < 0) {
			set_error(error_r, xasprintf("%s: does not open (wrong master key, or "
						     "the file was damaged or changed)", path));
		}
	}
	if (r < 0)
		mbedtls_pk_free(pk);
	free(data);
	free(blob);
	free(path);
	return r;
}

int keys_load_public(const char *user_dir, const char *name, mbedtls_pk_context *pk,
		     char **error_r)
{
	const char *why;
	char *data = NULL;
	size_t len;

	mbedtls_pk_init(pk);
	if (keys_check_name(name, &why) < 0) {
		set_error(error_r, xasprintf("key name '%s': %s", name, why));
		return -EINVAL;
	}
	char *path = key_path(user_dir, name, ".pub.pem");
	int r = userdir_read_file(path, PUBLIC_FILE_MAX, &data, &len, error_r);
	/* PEM input to mbedTLS includes the terminating NUL in its length. */
	if (r == 0 && (mbedtls_pk_parse_public_key(pk, (unsigned char *)data, len + 1) != 0 ||
		       setup_rsa(pk) < 0)) {
		set_error(error_r, xasprintf("%s: not an RSA-4096 public key", path));
		r = -EBADMSG;
	}
	if (r < 0)
		mbedtls_pk_free(pk);
	free(data);
	free(path);
	return r;
}

int keys_external_public(const char *user_dir, mbedtls_pk_context *pk,
			 char name_r[KEYS_NAME_MAX + 1], char **error_r)
{
	char name[KEYS_NAME_MAX + 1];

	mbedtls_pk_init(pk);
	int r = keys__read_current(user_dir, name, error_r);
	if (r == 0)
		r = keys_load_public(user_dir, name, pk, error_r);
	if (r == 0 && name_r)
		memcpy(name_r, name, sizeof(name));
	return r;
}

int keys__read_current(const char *user_dir, char name_r[KEYS_NAME_MAX + 1], char **error_r)
{
	char *path = key_path(user_dir, KEYS_CURRENT_FILE, "");
	char *data = NULL;
	size_t len;

	name_r[0] = '\0';
	int r = userdir_read_file(path, CURRENT_FILE_MAX, &data, &len, error_r);
	if (r == 0) {
		if (len > 0 && data[len - 1] == '\n')
			data[--len] = '\0';
		if (strlen(data) != len || keys_check_name(data, NULL) < 0) {
			set_error(error_r, xasprintf("%s: not a key name", path));
			r = -EBADMSG;
		} else {
			memcpy(name_r, data, len + 1);
		}
	}
	free(data);
	free(path);
	return r;
}

int keys__write_current(const char *user_dir, const char *name, char **error_r)
{
	char *line = xasprintf("%s\n", name);
	int r = write_key_file(user_dir, KEYS_CURRENT_FILE, line, strlen(line), true, error_r);
	free(line);
	return r;
}
