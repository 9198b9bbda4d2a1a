/* Key names and patterns, internal keys, rotation, and RSA wrapping. The
 * contract is in keys.h; the key files are read and written in
 * keys-file.c. */
#include "storage/keys-private.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/rsa.h>

#include "src/util/xmalloc.h"
#include "storage/account.h"
#include "storage/crypto.h"
#include "storage/msgfile.h"
#include "storage/userdir.h"

/* Message files record the name of the key that wrapped their key, and the
 * RSA wrap itself. */
_Static_assert(KEYS_NAME_MAX <= MSGFILE_KEY_NAME_MAX, "key names must fit message files");
_Static_assert(KEYS_RSA_WRAPPED_LEN <= MSGFILE_WRAP_BLOB_MAX, "RSA wraps must fit message files");
_Static_assert(KEYS_KEY_LEN == CRYPTO_KEY_LEN, "one key length");

/* Allowed conversions and the most characters each expands to. All are
 * date fields printed as digits; %Y is 4 digits until the year 9999. */
static const struct {
	char conv;
	unsigned char width;
	bool year;
} conversions[] = {
	{ 'Y', 4, true }, { 'G', 4, true }, { 'y', 2, true }, { 'g', 2, true },
	{ 'm', 2, false }, { 'd', 2, false }, { 'j', 3, false }, { 'U', 2, false },
	{ 'W', 2, false }, { 'V', 2, false }, { 'u', 1, false }, { 'w', 1, false },
};

static atomic_uint_fast64_t rsa_private_ops;

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool name_start(char c)
{
	return name_char(c) && c != '.' && c != '_' && c != '-';
}

int keys_check_name(const char *name, const char **error_r)
{
	const char *why = NULL;
	size_t len = name ? strnlen(name, KEYS_NAME_MAX + 1) : 0;

	if (len == 0)
		why = "empty key name";
	else if (len > KEYS_NAME_MAX)
		why = "key name longer than 64 bytes";
	else if (!name_start(name[0]))
		why = "key name must start with a letter or digit";
	for (size_t i = 0; !why && i < len; i++)
		if (!name_char(name[i]))
			why = "key name may only contain A-Z a-z 0-9 . _ -";
	if (why && error_r)
		*error_r = why;
	return why ? -EINVAL : 0;
}

static int conversion_width(char c, bool *year_r)
{
	for (size_t i = 0; i < sizeof(conversions) / sizeof(conversions[0]); i++) {
		if (conversions[i].conv == c) {
			*year_r = conversions[i].year;
			return conversions[i].width;
		}
	}
	return -1;
}

int keys_check_pattern(const char *pattern, const char **error_r)
{
	const char *why = NULL;
	size_t len = pattern ? strnlen(pattern, KEYS_PATTERN_MAX + 1) : 0;
	size_t width = 0;
	bool has_year = false;

	if (len == 0)
		why = "empty key pattern";
	else if (len > KEYS_PATTERN_MAX)
		why = "key pattern longer than 64 bytes";
	else if (pattern[0] != '%' && !name_start(pattern[0]))
		why = "key pattern must start with a letter, a digit or a conversion";
	for (size_t i = 0; !why && i < len; i++) {
		bool year = false;
		if (pattern[i] != '%') {
			if (!name_char(pattern[i]))
				why = "key pattern may only contain A-Z a-z 0-9 . _ - and "
				      "conversions";
			width++;
			continue;
		}
		int w = i + 1 < len ? conversion_width(pattern[i + 1], &year) : -1;
		if (w < 0)
			why = "key pattern conversions may only be %Y %G %y %g %m %d %j %U %W "
			      "%V %u %w";
		width += (size_t)(w < 0 ? 0 : w);
		has_year |= year;
		i++;
	}
	if (!why && !has_year)
		why = "key pattern needs a year (%Y, %G, %y or %g), or names would repeat and "
		      "keys never rotate";
	if (!why && width > KEYS_NAME_MAX)
		why = "key pattern expands to more than 64 bytes";
	if (why && error_r)
		*error_r = why;
	return why ? -EINVAL : 0;
}

int keys_expand_pattern(const char *pattern, time_t now, char name_r[KEYS_NAME_MAX + 1],
			const char **error_r)
{
	struct tm tm;

	name_r[0] = '\0';
	int r = keys_check_pattern(pattern, error_r);
	if (r < 0)
		return r;
	/* The pattern is the user's, but keys_check_pattern let only literal
	 * name characters and digit-only date conversions through. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	size_t n = gmtime_r(&now, &tm) ? strftime(name_r, KEYS_NAME_MAX + 1, pattern, &tm) : 0;
#pragma GCC diagnostic pop
	if (n == 0) {
		name_r[0] = '\0';
		if (error_r)
			*error_r = "key pattern does not expand to a name for this date";
		return -EINVAL;
	}
	return keys_check_name(name_r, error_r);
}

int keys_internal_key(const uint8_t master[KEYS_KEY_LEN], const char *name,
		      uint8_t out[KEYS_KEY_LEN])
{
	if (keys_check_name(name, NULL) < 0)
		return -EINVAL;
	return crypto_derive_internal_key(master, name, out);
}

static int current_name(const char *user_dir, time_t now, bool external,
			char name_r[KEYS_NAME_MAX + 1], char **error_r)
{
	struct account_config cfg;
	const char *why;

	name_r[0] = '\0';
	int r = account_config_read(user_dir, &cfg, error_r);
	if (r < 0)
		return r;
	const char *pattern = external ? cfg.external_pattern : cfg.internal_pattern;
	r = keys_expand_pattern(pattern, now, name_r, &why);
	if (r < 0 && error_r)
		*error_r = xasprintf("%s/user.toml: key pattern '%s': %s", user_dir, pattern, why);
	account_config_free(&cfg);
	return r;
}

int keys_current_internal_name(const char *user_dir, time_t now, char name_r[KEYS_NAME_MAX + 1],
			       char **error_r)
{
	return current_name(user_dir, now, false, name_r, error_r);
}

int keys_current_external_name(const char *user_dir, time_t now, char name_r[KEYS_NAME_MAX + 1],
			       char **error_r)
{
	return current_name(user_dir, now, true, name_r, error_r);
}

int keys_external_needs_rotation(const char *user_dir, time_t now,
				 char name_r[KEYS_NAME_MAX + 1], char **error_r)
{
	char published[KEYS_NAME_MAX + 1];

	int r = keys_current_external_name(user_dir, now, name_r, error_r);
	if (r < 0)
		return r;
	r = keys__read_current(user_dir, published, error_r);
	if (r == -ENOENT) {
		if (error_r) {
			free(*error_r);
			*error_r = NULL;
		}
		return 1;
	}
	if (r < 0)
		return r;
	return strcmp(published, name_r) != 0 ? 1 : 0;
}

int keys_generate_external(const char *user_dir, const uint8_t master[KEYS_KEY_LEN],
			   const char *name, char **error_r)
{
	mbedtls_pk_context pk;
	const char *why;
	char *err = NULL;

	if (keys_check_name(name, &why) < 0) {
		if (error_r)
			*error_r = xasprintf("key name '%s': %s", name, why);
		return -EINVAL;
	}
	/* An earlier run may have stored the private key and then stopped:
	 * reuse it, so the name keeps one key pair. */
	int r = keys_load_private(user_dir, master, name, &pk, &err);
	if (r == -ENOENT) {
		free(err);
		err = NULL;
		r = keys__generate_rsa(&pk, &err);
		if (r == 0) {
			r = keys__store_private(user_dir, master, name, &pk, &err);
			if (r == -EEXIST) {	/* someone else was faster: use theirs */
				mbedtls_pk_free(&pk);
				free(err);
				err = NULL;
				r = keys_load_private(user_dir, master, name, &pk, &err);
			} else if (r < 0) {
				mbedtls_pk_free(&pk);
			}
		}
	}
	if (r == 0) {
		r = keys__store_public(user_dir, name, &pk, &err);
		mbedtls_pk_free(&pk);
	}
	if (r == 0)
		r = keys__write_current(user_dir, name, &err);
	if (error_r)
		*error_r = err;
	else
		free(err);
	return r;
}

/* Keys from this module have OAEP with SHA-256 set at load time; the
 * setting is not changed afterwards, so contexts can be shared by threads. */
static mbedtls_rsa_context *oaep_rsa(mbedtls_pk_context *pk)
{
	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_RSA)
		return NULL;
	mbedtls_rsa_context *rsa = mbedtls_pk_rsa(*pk);
	if (rsa->padding != MBEDTLS_RSA_PKCS_V21 || rsa->hash_id != MBEDTLS_MD_SHA256 ||
	    mbedtls_rsa_get_len(rsa) != KEYS_RSA_WRAPPED_LEN)
		return NULL;
	return rsa;
}

int keys_rsa_wrap(mbedtls_pk_context *pk, const uint8_t key[KEYS_KEY_LEN],
		  uint8_t out[KEYS_RSA_WRAPPED_LEN])
{
	mbedtls_rsa_context *rsa = oaep_rsa(pk);

	if (!rsa)
		return -EINVAL;
	int r = mbedtls_rsa_rsaes_oaep_encrypt(rsa, crypto_rng, NULL, MBEDTLS_RSA_PUBLIC, NULL, 0,
					       KEYS_KEY_LEN, key, out);
	return r == 0 ? 0 : -EIO;
}

int keys_rsa_unwrap(mbedtls_pk_context *pk, const uint8_t *in, size_t in_len,
		    uint8_t key_r[KEYS_KEY_LEN])
{
	uint8_t out[KEYS_RSA_WRAPPED_LEN];
	size_t olen = 0;
	mbedtls_rsa_context *rsa = oaep_rsa(pk);

	memset(key_r, 0, KEYS_KEY_LEN);
	if (!rsa || mbedtls_mpi_bitlen(&rsa->P) == 0 || mbedtls_mpi_bitlen(&rsa->Q) == 0)
		return -EINVAL;	/* a public key */
	if (in_len != KEYS_RSA_WRAPPED_LEN)
		return -EBADMSG;
	atomic_fetch_add(&rsa_private_ops, 1);
	int r = mbedtls_rsa_rsaes_oaep_decrypt(rsa, crypto_rng, NULL, MBEDTLS_RSA_PRIVATE, NULL, 0,
					       &olen, in, out, sizeof(out));
	if (r == 0 && olen == KEYS_KEY_LEN)
		memcpy(key_r, out, KEYS_KEY_LEN);
	else
		r = -EBADMSG;
	crypto_wipe(out, sizeof(out));
	return r;
}

uint64_t keys_rsa_private_ops(void)
{
	return atomic_load(&rsa_private_ops);
}
