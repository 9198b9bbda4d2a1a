/* Key derivation and small primitives; the contract is in crypto.h. */
#include "storage/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/platform_util.h>

#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16

static void __attribute__((noreturn)) random_failed(int err)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg), "sealmail: getrandom failed: %s\n", strerror(err));
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	abort();
}

void crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	/* getrandom blocks only until the pool is first seeded at boot, and
	 * returns at most 32 MiB per call; loop for the rest and for EINTR. */
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			random_failed(errno);
		}
		p += n;
		len -= (size_t)n;
	}
}

int crypto_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	crypto_random(out, len);
	return 0;
}

int crypto_derive(const uint8_t ikm[CRYPTO_KEY_LEN], const char *label, const void *ctx,
		  size_t ctx_len, uint8_t *out, size_t out_len)
{
	uint8_t info[CRYPTO_LABEL_MAX + 1 + CRYPTO_CTX_MAX];
	size_t label_len = label ? strlen(label) : 0;

	if (label_len == 0 || label_len > CRYPTO_LABEL_MAX || ctx_len > CRYPTO_CTX_MAX)
		return -EINVAL;
	if (out_len == 0 || out_len > 255 * 32)
		return -EINVAL;
	memcpy(info, label, label_len);
	info[label_len] = 0;
	if (ctx_len > 0)
		memcpy(info + label_len + 1, ctx, ctx_len);

	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	int r = mbedtls_hkdf(md, NULL, 0, ikm, CRYPTO_KEY_LEN, info, label_len + 1 + ctx_len,
			     out, out_len);
	/* The context may name a key; it is not secret, but keep the habit. */
	crypto_wipe(info, sizeof(info));
	return r == 0 ? 0 : -EINVAL;
}

int crypto_derive_internal_key(const uint8_t master[CRYPTO_KEY_LEN], const char *name,
			       uint8_t out[CRYPTO_KEY_LEN])
{
	if (!name || !*name)
		return -EINVAL;
	return crypto_derive(master, CRYPTO_LABEL_INTERNAL_KEY, name, strlen(name), out,
			     CRYPTO_KEY_LEN);
}

bool crypto_ct_equal(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *pa = a, *pb = b;
	uint8_t diff = 0;

	/* Accumulate every difference; no early exit, no data-dependent
	 * branch. volatile keeps the compiler from short-cutting the loop. */
	for (size_t i = 0; i < len; i++)
		diff |= pa[i] ^ pb[i];
	return diff == 0;
}

void crypto_wipe(void *p, size_t len)
{
	if (p && len)
		mbedtls_platform_zeroize(p, len);
}

/* The AAD of a sealed blob: version byte, then the purpose. */
static size_t seal_aad(uint8_t *aad, size_t aad_size, const char *purpose)
{
	size_t n = strlen(purpose);
	if (n > aad_size - 1)
		return 0;
	aad[0] = CRYPTO_SEAL_VERSION;
	memcpy(aad + 1, purpose, n);
	return n + 1;
}

int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *purpose, const void *in,
		size_t in_len, uint8_t *out)
{
	uint8_t aad[1 + 256];
	size_t aad_len = purpose ? seal_aad(aad, sizeof(aad), purpose) : 0;
	mbedtls_gcm_context gcm;
	int r;

	if (aad_len == 0 || in_len > CRYPTO_SEAL_MAX)
		return -EINVAL;
	out[0] = CRYPTO_SEAL_VERSION;
	crypto_random(out + 1, SEAL_NONCE_LEN);

	mbedtls_gcm_init(&gcm);
	r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (r == 0)
		r = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, in_len, out + 1,
					      SEAL_NONCE_LEN, aad, aad_len, in,
					      out + 1 + SEAL_NONCE_LEN, SEAL_TAG_LEN,
					      out + 1 + SEAL_NONCE_LEN + in_len);
	mbedtls_gcm_free(&gcm);	/* zeroizes the expanded key */
	return r == 0 ? 0 : -EINVAL;
}

int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *purpose, const uint8_t *in,
		size_t in_len, void *out, size_t out_size)
{
	uint8_t aad[1 + 256];
	size_t aad_len = purpose ? seal_aad(aad, sizeof(aad), purpose) : 0;
	mbedtls_gcm_context gcm;
	size_t n;
	int r;

	if (aad_len == 0)
		return -EINVAL;
	if (in_len < CRYPTO_SEAL_OVERHEAD || in[0] != CRYPTO_SEAL_VERSION)
		return -EBADMSG;
	n = in_len - CRYPTO_SEAL_OVERHEAD;
	if (n > CRYPTO_SEAL_MAX)
		return -EBADMSG;
	if (n > out_size)
		return -ENOBUFS;

	mbedtls_gcm_init(&gcm);
	r = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (r == 0)
		r = mbedtls_gcm_auth_decrypt(&gcm, n, in + 1, SEAL_NONCE_LEN, aad, aad_len,
					     in + 1 + SEAL_NONCE_LEN + n, SEAL_TAG_LEN,
					     in + 1 + SEAL_NONCE_LEN, out);
	mbedtls_gcm_free(&gcm);
	if (r != 0) {
		/* mbedTLS already zeroes the output on a bad tag; a failed
		 * setkey leaves it untouched. Either way nothing leaks. */
		crypto_wipe(out, n);
		return -EBADMSG;
	}
	return (int)n;
}

int crypto_wrap_key(const uint8_t kek[CRYPTO_KEY_LEN], const char *purpose,
		    const uint8_t key[CRYPTO_KEY_LEN], uint8_t out[CRYPTO_WRAPPED_KEY_LEN])
{
	return crypto_seal(kek, purpose, key, CRYPTO_KEY_LEN, out);
}

int crypto_unwrap_key(const uint8_t kek[CRYPTO_KEY_LEN], const char *purpose, const uint8_t *in,
		      size_t in_len, uint8_t key_r[CRYPTO_KEY_LEN])
{
	if (in_len != CRYPTO_WRAPPED_KEY_LEN) {
		crypto_wipe(key_r, CRYPTO_KEY_LEN);
		return -EBADMSG;
	}
	int r = crypto_open(kek, purpose, in, in_len, key_r, CRYPTO_KEY_LEN);
	if (r < 0)
		return r;
	return 0;
}
