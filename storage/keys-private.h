/* Between keys.c and keys-file.c; not for other modules. Same conventions
 * as keys.h. */
#ifndef SEAL_STORAGE_KEYS_PRIVATE_H
#define SEAL_STORAGE_KEYS_PRIVATE_H

#include "storage/keys.h"

#define KEYS_CURRENT_FILE "external.current"

/* Reads keys/external.current into name_r (a checked name). -ENOENT when
 * there is none. */
int keys__read_current(const char *user_dir, char name_r[KEYS_NAME_MAX + 1], char **error_r);

/* Replaces keys/external.current with name, atomically. */
int keys__write_current(const char *user_dir, const char *name, char **error_r);

/* Generates an RSA-4096 key pair into pk (initialised here; freed on
 * failure). Seconds of CPU. */
int keys__generate_rsa(mbedtls_pk_context *pk, char **error_r);

/* Writes keys/name.key.pem sealed under master; never replaces an existing
 * file (-EEXIST). */
int keys__store_private(const char *user_dir, const uint8_t master[KEYS_KEY_LEN],
			const char *name, mbedtls_pk_context *pk, char **error_r);

/* Writes keys/name.pub.pem, replacing any (it holds the same key). */
int keys__store_public(const char *user_dir, const char *name, mbedtls_pk_context *pk,
		       char **error_r);

#endif
