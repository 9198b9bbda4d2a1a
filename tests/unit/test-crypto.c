/* Unit tests of storage/crypto.c: derivation against an independent HKDF,
 * label separation, constant-time compare, sealing and key wrapping. */
#include "tests/unit/test.h"

#include <errno.h>
#include <pthread.h>

#include <mbedtls/md.h>

#include "storage/crypto.h"

static const uint8_t master[CRYPTO_KEY_LEN] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
	0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};

/* HKDF-SHA256 written out from RFC 5869 section 2 with plain HMAC calls, so
 * the derivation is checked against something that is not mbedtls_hkdf. */
static void ref_hkdf(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		     const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	uint8_t zeros[32] = { 0 }, prk[32], t[32], in[32 + 512 + 1];
	size_t t_len = 0;

	if (salt_len == 0) {
		salt = zeros;
		salt_len = sizeof(zeros);
	}
	CHECK(mbedtls_md_hmac(md, salt, salt_len, ikm, ikm_len, prk) == 0);
	CHECK(info_len <= 512);
	for (uint8_t i = 1; out_len > 0; i++) {
		memcpy(in, t, t_len);
		memcpy(in + t_len, info, info_len);
		in[t_len + info_len] = i;
		CHECK(mbedtls_md_hmac(md, prk, 32, in, t_len + info_len + 1, t) == 0);
		t_len = 32;
		size_t n = out_len < 32 ? out_len : 32;
		memcpy(out, t, n);
		out += n;
		out_len -= n;
	}
}

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	for (size_t i = 0; i < len; i++)
		CHECK(sscanf(hex + 2 * i, "%2hhx", &out[i]) == 1);
}

TEST(reference_hkdf_matches_rfc5869_case1)
{
	uint8_t ikm[22], salt[13], info[10], want[42], got[42];

	memset(ikm, 0x0b, sizeof(ikm));
	unhex("000102030405060708090a0b0c", salt, sizeof(salt));
	unhex("f0f1f2f3f4f5f6f7f8f9", info, sizeof(info));
	unhex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
	      "34007208d5b887185865", want, sizeof(want));
	ref_hkdf(salt, sizeof(salt), ikm, sizeof(ikm), info, sizeof(info), got, sizeof(got));
	CHECK_MEM(got, want, sizeof(want));
}

TEST(derive_is_hkdf_of_label_nul_ctx)
{
	uint8_t got[80], want[80], info[128];
	const char *label = CRYPTO_LABEL_RSA_PASSPHRASE;
	size_t n = strlen(label);

	memcpy(info, label, n);
	info[n] = 0;
	memcpy(info + n + 1, "external-2026-11", 16);
	ref_hkdf(NULL, 0, master, sizeof(master), info, n + 17, want, sizeof(want));
	CHECK_INT(crypto_derive(master, label, "external-2026-11", 16, got, sizeof(got)), ==, 0);
	CHECK_MEM(got, want, sizeof(want));

	/* No context: the info is the label and its NUL. */
	ref_hkdf(NULL, 0, master, sizeof(master), info, n + 1, want, 32);
	CHECK_INT(crypto_derive(master, label, NULL, 0, got, 32), ==, 0);
	CHECK_MEM(got, want, 32);
}

TEST(derive_labels_give_distinct_keys)
{
	static const char *labels[] = {
		CRYPTO_LABEL_METADATA_DB,	 CRYPTO_LABEL_MESSAGE_KEY_WRAP,
		CRYPTO_LABEL_RSA_PASSPHRASE,	 CRYPTO_LABEL_INTERNAL_KEY,
		CRYPTO_LABEL_PASSWORD_VERIFIER, CRYPTO_LABEL_MASTER_XOR,
		CRYPTO_LABEL_MSGFILE_CHUNKS,
	};
	const size_t nl = sizeof(labels) / sizeof(labels[0]);
	uint8_t keys[7][32];

	for (size_t i = 0; i < nl; i++) {
		CHECK(strlen(labels[i]) <= CRYPTO_LABEL_MAX);
		CHECK_INT(crypto_derive(master, labels[i], NULL, 0, keys[i], 32), ==, 0);
		for (size_t j = 0; j < i; j++)
			CHECK(memcmp(keys[i], keys[j], 32) != 0);
	}
}

TEST(derive_label_ctx_boundary_is_unambiguous)
{
	uint8_t a[32], b[32];

	CHECK_INT(crypto_derive(master, "sealmail test a", "bc", 2, a, 32), ==, 0);
	CHECK_INT(crypto_derive(master, "sealmail test ab", "c", 1, b, 32), ==, 0);
	CHECK(memcmp(a, b, 32) != 0);
	/* And the context matters byte for byte. */
	CHECK_INT(crypto_derive(master, "sealmail test a", "bd", 2, b, 32), ==, 0);
	CHECK(memcmp(a, b, 32) != 0);
}

TEST(derive_internal_key)
{
	uint8_t a[32], b[32], c[32];

	CHECK_INT(crypto_derive_internal_key(master, "internal-2026-11", a), ==, 0);
	CHECK_INT(crypto_derive(master, CRYPTO_LABEL_INTERNAL_KEY, "internal-2026-11", 16, b, 32),
		  ==, 0);
	CHECK_MEM(a, b, 32);
	CHECK_INT(crypto_derive_internal_key(master, "internal-2026-12", c), ==, 0);
	CHECK(memcmp(a, c, 32) != 0);
	CHECK_INT(crypto_derive_internal_key(master, "", c), ==, -EINVAL);
}

TEST(derive_rejects_bad_arguments)
{
	uint8_t out[32], ctx[CRYPTO_CTX_MAX + 1] = { 0 };
	char label[CRYPTO_LABEL_MAX + 2];

	memset(label, 'x', sizeof(label) - 1);
	label[sizeof(label) - 1] = 0;
	CHECK_INT(crypto_derive(master, label, NULL, 0, out, 32), ==, -EINVAL);
	CHECK_INT(crypto_derive(master, "", NULL, 0, out, 32), ==, -EINVAL);
	CHECK_INT(crypto_derive(master, NULL, NULL, 0, out, 32), ==, -EINVAL);
	CHECK_INT(crypto_derive(master, "l", ctx, sizeof(ctx), out, 32), ==, -EINVAL);
	CHECK_INT(crypto_derive(master, "l", ctx, CRYPTO_CTX_MAX, out, 32), ==, 0);
	CHECK_INT(crypto_derive(master, "l", NULL, 0, out, 0), ==, -EINVAL);
}

TEST(random_fills_and_differs)
{
	uint8_t a[64], b[64], zero[64] = { 0 };

	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	CHECK(memcmp(a, b, sizeof(a)) != 0);
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
	CHECK_INT(crypto_rng(NULL, a, sizeof(a)), ==, 0);
	crypto_random(a, 0);
}

TEST(ct_equal_and_wipe)
{
	uint8_t a[33], b[33];

	crypto_random(a, sizeof(a));
	memcpy(b, a, sizeof(a));
	CHECK(crypto_ct_equal(a, b, sizeof(a)));
	CHECK(crypto_ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof(a); i++) {
		b[i] ^= 0x80;
		CHECK(!crypto_ct_equal(a, b, sizeof(a)));
		b[i] ^= 0x80;
	}
	crypto_wipe(a, sizeof(a));
	for (size_t i = 0; i < sizeof(a); i++)
		CHECK_INT(a[i], ==, 0);
	crypto_wipe(NULL, 0);
}

TEST(seal_round_trips)
{
	static const size_t sizes[] = { 0, 1, 32, 100, CRYPTO_SEAL_MAX };
	static uint8_t in[CRYPTO_SEAL_MAX], sealed[CRYPTO_SEAL_MAX + CRYPTO_SEAL_OVERHEAD],
		out[CRYPTO_SEAL_MAX];

	crypto_random(in, sizeof(in));
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t n = sizes[i];
		CHECK_INT(crypto_seal(master, "test blob", in, n, sealed), ==, 0);
		CHECK_INT(sealed[0], ==, CRYPTO_SEAL_VERSION);
		CHECK_INT(crypto_open(master, "test blob", sealed, n + CRYPTO_SEAL_OVERHEAD, out,
				      sizeof(out)), ==, n);
		CHECK_MEM(out, in, n);
	}
	CHECK_INT(crypto_seal(master, "test blob", in, CRYPTO_SEAL_MAX + 1, sealed), ==, -EINVAL);
	CHECK_INT(crypto_seal(master, "x", in, 32, sealed), ==, 0);
	CHECK_INT(crypto_open(master, "x", sealed, 32 + CRYPTO_SEAL_OVERHEAD, out, 31), ==,
		  -ENOBUFS);
}

TEST(seal_detects_every_change)
{
	uint8_t key[32], other[32], sealed[CRYPTO_WRAPPED_KEY_LEN], out[32];

	crypto_random(key, sizeof(key));
	memcpy(other, master, sizeof(other));
	other[31] ^= 1;
	CHECK_INT(crypto_wrap_key(master, "message key", key, sealed), ==, 0);
	for (size_t i = 0; i < sizeof(sealed); i++) {
		for (int bit = 0; bit < 8; bit++) {
			sealed[i] ^= (uint8_t)(1 << bit);
			CHECK_INT(crypto_unwrap_key(master, "message key", sealed, sizeof(sealed),
						    out), ==, -EBADMSG);
			sealed[i] ^= (uint8_t)(1 << bit);
		}
	}
	CHECK_INT(crypto_unwrap_key(other, "message key", sealed, sizeof(sealed), out), ==,
		  -EBADMSG);
	CHECK_INT(crypto_unwrap_key(master, "message keys", sealed, sizeof(sealed), out), ==,
		  -EBADMSG);
	for (size_t n = 0; n < sizeof(sealed); n++)
		CHECK_INT(crypto_unwrap_key(master, "message key", sealed, n, out), ==, -EBADMSG);
	CHECK_INT(crypto_unwrap_key(master, "message key", sealed, sizeof(sealed), out), ==, 0);
	CHECK_MEM(out, key, sizeof(key));
}

TEST(wrap_uses_fresh_nonces)
{
	uint8_t key[32], a[CRYPTO_WRAPPED_KEY_LEN], b[CRYPTO_WRAPPED_KEY_LEN];

	crypto_random(key, sizeof(key));
	CHECK_INT(crypto_wrap_key(master, "message key", key, a), ==, 0);
	CHECK_INT(crypto_wrap_key(master, "message key", key, b), ==, 0);
	CHECK(memcmp(a + 1, b + 1, 12) != 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

/* Many threads sealing and deriving at once give the answers one thread
 * gives: nothing is shared behind the caller's back. */
static void *thread_body(void *arg)
{
	uint8_t want[32], got[32], key[32], sealed[CRYPTO_WRAPPED_KEY_LEN], back[32];
	long id = (long)arg;

	crypto_derive(master, CRYPTO_LABEL_METADATA_DB, &id, sizeof(id), want, 32);
	for (int i = 0; i < 500; i++) {
		crypto_derive(master, CRYPTO_LABEL_METADATA_DB, &id, sizeof(id), got, 32);
		if (memcmp(got, want, 32) != 0)
			return (void *)1;
		crypto_random(key, sizeof(key));
		if (crypto_wrap_key(got, "t", key, sealed) != 0 ||
		    crypto_unwrap_key(got, "t", sealed, sizeof(sealed), back) != 0 ||
		    memcmp(key, back, 32) != 0)
			return (void *)1;
	}
	return NULL;
}

TEST(threads_do_not_interfere)
{
	pthread_t t[8];

	for (long i = 0; i < 8; i++)
		CHECK(pthread_create(&t[i], NULL, thread_body, (void *)i) == 0);
	for (int i = 0; i < 8; i++) {
		void *res;
		CHECK(pthread_join(t[i], &res) == 0);
		CHECK(res == NULL);
	}
}
