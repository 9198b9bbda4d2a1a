/* Shared between delivery.c (writing messages), delivery-check.c (names,
 * flags, sealed instructions) and delivery-db.c (delivery.sqlite). */
#ifndef SEAL_STORAGE_DELIVERY_PRIVATE_H
#define SEAL_STORAGE_DELIVERY_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "storage/delivery.h"

/* Checked, canonical copies of a delivery's options. */
struct delivery__target {
	char *mailbox;
	char **flags;
	size_t nflags;
};

/* Checks opts (NULL: INBOX, no flags) into t. -EINVAL with a heap reason
 * in *error_r; t is then empty. */
int delivery__target_check(const struct delivery_opts *opts, struct delivery__target *t,
			   char **error_r);
void delivery__target_free(struct delivery__target *t);

/* Seals t and received under key into a new heap blob. 0 or -EINVAL. */
int delivery__seal_instructions(const uint8_t key[CRYPTO_KEY_LEN],
				const struct delivery__target *t, int64_t received,
				uint8_t **blob_r, size_t *len_r);

/* One row of delivery.sqlite's pending table. */
struct delivery__row {
	const char *file_name;
	const uint8_t *blob;
	size_t len;
};

/* Inserts n rows in one transaction, durable when it returns 0 (all of
 * them, or none on failure), creating delivery.sqlite and its table when
 * missing. */
int delivery__db_insert(const char *user_dir, const struct delivery__row *rows, size_t n,
			char **error_r);

/* Hands msg to *error_r, or frees it. */
void delivery__set_error(char **error_r, char *msg);

#endif
