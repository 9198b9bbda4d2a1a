/* Small cryptographic building blocks of the store (DESIGN.md section 4):
 * randomness, HKDF-SHA256 key derivation with one label per use, constant
 * time comparison, wiping, and AES-256-GCM sealing of small blobs such as a
 * 32-byte message key. Everything is built on mbedTLS; nothing here is a
 * home-made primitive.
 *
 * Thread safety: every function is reentrant and may be called from any
 * thread (the loop or the worker pool) at the same time; none keeps state
 * between calls.
 *
 * Return values: 0 on success, a negative errno-style code on failure.
 */
#ifndef SEAL_STORAGE_CRYPTO_H
#define SEAL_STORAGE_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEY_LEN 32	/* every symmetric key in the store: 256 bits */

/* HKDF labels, one per use. A key derived for one purpose can never equal a
 * key derived for another, because the labels differ. Never reuse a label
 * for a second purpose; add a new one. Labels contain no NUL byte. */
/* from the master key: page key of the encrypted metadata database */
#define CRYPTO_LABEL_METADATA_DB "sealmail v1 metadata db"
/* from the master key: key that wraps per-message keys (crypto_wrap_key) */
#define CRYPTO_LABEL_MESSAGE_KEY_WRAP "sealmail v1 message key wrap"
/* from the master key: passphrase of the RSA private keys (ctx: key name) */
#define CRYPTO_LABEL_RSA_PASSPHRASE "sealmail v1 rsa passphrase"
/* from the master key: the internal key called ctx ("internal-2026-11") */
#define CRYPTO_LABEL_INTERNAL_KEY "sealmail v1 internal:"
/* from the Argon2id output: the stored password verifier */
#define CRYPTO_LABEL_PASSWORD_VERIFIER "sealmail v1 password verifier"
/* from the Argon2id output: XORed with the stored "master key XOR" */
#define CRYPTO_LABEL_MASTER_XOR "sealmail v1 master xor intermediate"
/* from a message's content key: the AES key of its chunks (ctx: file id),
 * used by msgfile.c only */
#define CRYPTO_LABEL_MSGFILE_CHUNKS "sealmail v1 message file chunks"

#define CRYPTO_LABEL_MAX 64	/* bytes in a label */
#define CRYPTO_CTX_MAX 256	/* bytes of context passed to crypto_derive */

/* Fills buf with len bytes from the kernel's CSPRNG (getrandom). It cannot
 * fail: if the kernel refuses, the process aborts with a message, because
 * continuing without randomness would write predictable keys. */
void crypto_random(void *buf, size_t len);

/* The same, with the f_rng signature mBEDTLS wants (RSA-OAEP, blinding).
 * ctx is ignored; always returns 0. */
int crypto_rng(void *ctx, unsigned char *out, size_t len);

/* HKDF-SHA256 (RFC 5869) with an empty salt:
 *   out = HKDF(ikm, info = label || 0x00 || ctx)
 * ikm is a uniformly random 32-byte key: the master key, a message content
 * key, or the Argon2id output. label is one of the CRYPTO_LABEL_ constants;
 * the 0x00 separator keeps (label, ctx) pairs unambiguous. ctx may be NULL
 * when ctx_len is 0. out_len is 1 to 8160 bytes.
 * Returns 0, or -EINVAL for a label or ctx beyond the limits above. */
int crypto_derive(const uint8_t ikm[CRYPTO_KEY_LEN], const char *label, const void *ctx,
		  size_t ctx_len, uint8_t *out, size_t out_len);

/* The internal key called name (DESIGN.md: HKDF(master, "internal:" + name)),
 * that is crypto_derive(master, CRYPTO_LABEL_INTERNAL_KEY, name). */
int crypto_derive_internal_key(const uint8_t master[CRYPTO_KEY_LEN], const char *name,
			       uint8_t out[CRYPTO_KEY_LEN]);

/* True when the len bytes at a and b are equal. The time taken depends on
 * len only, never on where the buffers differ. */
bool crypto_ct_equal(const void *a, const void *b, size_t len);

/* Overwrites len bytes at p with zeros in a way the compiler cannot drop. */
void crypto_wipe(void *p, size_t len);

/* Sealed blob format, version 1 (all of it is stored as is):
 *   offset  length  field
 *   0       1       version = 0x01
 *   1       12      nonce, random
 *   13      n       AES-256-GCM ciphertext of the n-byte secret
 *   13+n    16      GCM tag
 * The AAD is the version byte followed by the bytes of the purpose string
 * (no terminator), so a blob sealed for one purpose does not open for
 * another. Random 96-bit nonces stay safe for far more than 2^32 seals
 * under one key, more than one user's mailbox ever holds. */
#define CRYPTO_SEAL_VERSION 1
#define CRYPTO_SEAL_OVERHEAD (1 + 12 + 16)
#define CRYPTO_SEAL_MAX 4096	/* largest secret crypto_seal takes */
#define CRYPTO_WRAPPED_KEY_LEN (CRYPTO_KEY_LEN + CRYPTO_SEAL_OVERHEAD)

/* Seals in_len (0 to CRYPTO_SEAL_MAX) bytes under key for purpose into out,
 * which holds in_len + CRYPTO_SEAL_OVERHEAD bytes. Returns 0 or -EINVAL. */
int crypto_seal(const uint8_t key[CRYPTO_KEY_LEN], const char *purpose, const void *in,
		size_t in_len, uint8_t *out);

/* Opens a blob of in_len bytes made by crypto_seal with the same key and
 * purpose. The secret (in_len - CRYPTO_SEAL_OVERHEAD bytes) goes to out,
 * which must hold out_size bytes. Returns the length of the secret, or
 * -EBADMSG when the blob is malformed, of an unknown version, sealed under
 * another key or purpose, or tampered with (out is then wiped), -ENOBUFS
 * when out_size is too small. */
int crypto_open(const uint8_t key[CRYPTO_KEY_LEN], const char *purpose, const uint8_t *in,
		size_t in_len, void *out, size_t out_size);

/* crypto_seal for exactly one 32-byte key: out is CRYPTO_WRAPPED_KEY_LEN
 * bytes. kek is normally derived with CRYPTO_LABEL_MESSAGE_KEY_WRAP or is an
 * internal key; purpose says what is wrapped ("message key"). */
int crypto_wrap_key(const uint8_t kek[CRYPTO_KEY_LEN], const char *purpose,
		    const uint8_t key[CRYPTO_KEY_LEN], uint8_t out[CRYPTO_WRAPPED_KEY_LEN]);

/* Reverses crypto_wrap_key. in_len must be exactly CRYPTO_WRAPPED_KEY_LEN.
 * Returns 0 or -EBADMSG (key_r is then wiped). */
int crypto_unwrap_key(const uint8_t kek[CRYPTO_KEY_LEN], const char *purpose, const uint8_t *in,
		      size_t in_len, uint8_t key_r[CRYPTO_KEY_LEN]);

#endif
