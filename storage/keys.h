/* A user's keys (DESIGN.md section 4; manual "How Crymap Encryption Works").
 *
 * Internal keys are symmetric and never stored: the key called NAME is
 * HKDF(master key, CRYPTO_LABEL_INTERNAL_KEY, NAME). They wrap what the
 * logged-in user writes; no RSA is involved.
 *
 * External keys are RSA-4096 key pairs (e = 65537) used for delivery while
 * the user is offline: a per-message key is wrapped with RSA-OAEP
 * (SHA-256, empty label) under the current external public key, and
 * unwrapped with the private key after login. Files in keys/:
 *
 *   NAME.pub.pem     the public key, standard PEM "PUBLIC KEY"
 *                    (SubjectPublicKeyInfo), readable without the password
 *   NAME.key.pem     the private key, sealed (format below)
 *   external.current the NAME of the published external key and "\n";
 *                    replaced atomically. Patterns need not sort, so this
 *                    file, not a directory listing, says which key is newest.
 *
 * Sealed private key format. mbedTLS 2.28 cannot write encrypted PEM, so:
 *
 *   -----BEGIN SEALMAIL ENCRYPTED PRIVATE KEY-----
 *   base64 of the blob, in lines of 64 characters (the last may be shorter)
 *   -----END SEALMAIL ENCRYPTED PRIVATE KEY-----
 *
 * with one "\n" after each line, exactly so: the reader re-encodes and
 * compares, so no byte of the file can change unnoticed. The blob is crypto_seal()'s format (see
 * crypto.h: version 0x01, 12-byte random nonce, AES-256-GCM ciphertext,
 * 16-byte tag) of the DER PKCS#1 RSAPrivateKey, sealed with
 *   key = HKDF(master key, CRYPTO_LABEL_RSA_PASSPHRASE, ctx = NAME)
 *   AAD = 0x01 || NAME              (crypto_seal's purpose = NAME)
 * so a key file only opens under its own name with the right master key,
 * and any change to it is detected.
 *
 * Names. A key name is 1..KEYS_NAME_MAX bytes of [A-Za-z0-9._-] starting
 * with a letter or digit. Names come from strftime(3) patterns in
 * user.toml, expanded in UTC: "external-%Y-%m" and "internal-%Y-%m" by
 * default. A pattern is at most KEYS_PATTERN_MAX bytes of those characters
 * and conversions; the conversions allowed are the date ones that expand to
 * digits: %Y %G %y %g (year) %m %d %j %U %W %V %u %w. It must contain a year
 * conversion, so names never repeat, and nothing finer than a day, so a key
 * is generated at most once a day. Its expansion must fit KEYS_NAME_MAX.
 *
 * Rotation. The external key named by the pattern for the current time is
 * the one deliveries should use. At login, the store calls
 * keys_external_needs_rotation(); when it returns 1 it runs
 * keys_generate_external() for that name on the worker pool in the
 * background (with a copy of the master key it wipes afterwards), while
 * delivery keeps using keys_external_public(), the previous key, until the
 * new one is published by the atomic replacement of external.current. Old
 * private keys are never removed, so old mail stays readable. Two
 * generations of the same name at once are harmless: the first private key
 * stored wins and the other caller publishes it.
 *
 * Cost and threads: RSA-4096 generation takes 0.06-5 s of CPU (mean 1.3 s),
 * an unwrap (private operation) about 13 ms, a wrap 0.2 ms, loading a
 * private key a few ms. Every function is synchronous: run them on the
 * worker pool (coro_await_work). All are reentrant. A key context loaded
 * here may be used by several threads at once for keys_rsa_wrap and
 * keys_rsa_unwrap (mbedTLS locks the RSA context), but not freed meanwhile.
 *
 * Errors: 0 or a negative errno code; char **error_r gets a heap string
 * for the log on failure (the caller frees it; may be NULL); const char
 * **error_r a static string. -ENOENT missing key or file, -EBADMSG a key
 * file that does not open or parse (wrong master key, damaged, tampered
 * with, not RSA-4096), -EINVAL bad names or patterns, others from the file
 * system.
 */
#ifndef SEAL_STORAGE_KEYS_H
#define SEAL_STORAGE_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mbedtls/pk.h>

#define KEYS_NAME_MAX 64	/* = MSGFILE_KEY_NAME_MAX */
#define KEYS_PATTERN_MAX 64
#define KEYS_RSA_BITS 4096
#define KEYS_RSA_EXPONENT 65537
#define KEYS_RSA_WRAPPED_LEN (KEYS_RSA_BITS / 8)	/* one wrapped key */
#define KEYS_KEY_LEN 32

#define KEYS_DEFAULT_INTERNAL_PATTERN "internal-%Y-%m"
#define KEYS_DEFAULT_EXTERNAL_PATTERN "external-%Y-%m"

/* Checks a pattern against the rules above. Returns 0 or -EINVAL with a
 * static reason in *error_r (if not NULL). */
int keys_check_pattern(const char *pattern, const char **error_r);

/* Checks a key name against the rules above: 0 or -EINVAL. */
int keys_check_name(const char *name, const char **error_r);

/* Expands a checked pattern for time now (UTC) into name_r. Returns 0 or
 * -EINVAL (bad pattern, or an expansion that is not a valid name). */
int keys_expand_pattern(const char *pattern, time_t now, char name_r[KEYS_NAME_MAX + 1],
			const char **error_r);

/* The internal key called name: crypto_derive_internal_key() after
 * checking the name. Returns 0 or -EINVAL. The caller wipes out. */
int keys_internal_key(const uint8_t master[KEYS_KEY_LEN], const char *name,
		      uint8_t out[KEYS_KEY_LEN]);

/* The names the user's patterns (user_dir/user.toml) give for time now. */
int keys_current_internal_name(const char *user_dir, time_t now, char name_r[KEYS_NAME_MAX + 1],
			       char **error_r);
int keys_current_external_name(const char *user_dir, time_t now, char name_r[KEYS_NAME_MAX + 1],
			       char **error_r);

/* Returns 1 when the external key for time now (its name goes to name_r)
 * is not the published one, so keys_generate_external(name_r) should run;
 * 0 when it is published; a negative code on errors. */
int keys_external_needs_rotation(const char *user_dir, time_t now,
				 char name_r[KEYS_NAME_MAX + 1], char **error_r);

/* Makes external key name exist and be the published one: generates an
 * RSA-4096 pair (seconds of CPU) unless keys/name.key.pem already exists
 * and opens under master, stores the private key (never replacing one),
 * writes the public key, then points external.current at name. Every file
 * is written atomically and fsynced. */
int keys_generate_external(const char *user_dir, const uint8_t master[KEYS_KEY_LEN],
			   const char *name, char **error_r);

/* Loads the published external public key into pk and its name into name_r
 * (may be NULL). pk is initialised here; on success the caller frees it
 * with mbedtls_pk_free(), on failure it is already freed. */
int keys_external_public(const char *user_dir, mbedtls_pk_context *pk,
			 char name_r[KEYS_NAME_MAX + 1], char **error_r);

/* Loads keys/name.pub.pem into pk (initialised here, as above). */
int keys_load_public(const char *user_dir, const char *name, mbedtls_pk_context *pk,
		     char **error_r);

/* Opens keys/name.key.pem with master into pk (initialised here, as above).
 * Takes a few ms: the caller caches the context for as long as the user's
 * master key is in memory. -EBADMSG when master is wrong or the file was
 * changed. */
int keys_load_private(const char *user_dir, const uint8_t master[KEYS_KEY_LEN], const char *name,
		      mbedtls_pk_context *pk, char **error_r);

/* Wraps a 32-byte key with RSA-OAEP (SHA-256) under a public or private key
 * loaded by this module. out gets exactly KEYS_RSA_WRAPPED_LEN bytes.
 * Returns 0, -EINVAL for a key not loaded here, -EIO if mbedTLS fails. */
int keys_rsa_wrap(mbedtls_pk_context *pk, const uint8_t key[KEYS_KEY_LEN],
		  uint8_t out[KEYS_RSA_WRAPPED_LEN]);

/* Unwraps in[0..in_len) with a private key from keys_load_private(): one
 * RSA private operation, counted by keys_rsa_private_ops(). Returns 0, or
 * -EBADMSG when in is not a wrap of a 32-byte key under this key pair
 * (key_r is then wiped), -EINVAL for a key that is not private. */
int keys_rsa_unwrap(mbedtls_pk_context *pk, const uint8_t *in, size_t in_len,
		    uint8_t key_r[KEYS_KEY_LEN]);

/* RSA private-key operations (unwrap attempts) made by this process so far.
 * Atomic; for statistics and the tests that check the store does at most
 * one per delivered message. Key generation is not counted. */
uint64_t keys_rsa_private_ops(void);
/* RSA key pairs generated by this process so far (atomic; tests check
 * that work refused early, or resumed after a crash, generates none). */
uint64_t keys_rsa_generations(void);

#endif
