/* Message keys (DESIGN.md section 4). A message file's header wraps its
 * content key with RSA-OAEP (delivered while the user was offline) or
 * with an internal key (written by the logged-in user). The store keeps a
 * second wrap of every content key in meta.sqlite, under a key derived
 * from the master key and bound to the file's name, so that after the one
 * RSA operation when a delivery is taken in, reading is symmetric only.
 * Also: message file names and their shard directories. */
#include "storage/store-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/util/xmalloc.h"
#include "storage/userdir.h"

static void meta_purpose(const char *file, char *out, size_t size)
{
	snprintf(out, size, "%s%s", STORE_META_KEY_PURPOSE, file);
}

int store__key_seal(const struct store_user *u, const char *file,
		    const uint8_t key[CRYPTO_KEY_LEN], uint8_t out[CRYPTO_WRAPPED_KEY_LEN])
{
	char purpose[sizeof(STORE_META_KEY_PURPOSE) + META_FILE_MAX];
	meta_purpose(file, purpose, sizeof(purpose));
	return crypto_wrap_key(u->kek, purpose, key, out);
}

int store__key_open(const struct store_user *u, const char *file, const uint8_t *blob,
		    size_t len, uint8_t key_r[CRYPTO_KEY_LEN])
{
	char purpose[sizeof(STORE_META_KEY_PURPOSE) + META_FILE_MAX];
	if (!blob)
		return -EBADMSG;	/* recorded without a key: undecryptable */
	meta_purpose(file, purpose, sizeof(purpose));
	return crypto_unwrap_key(u->kek, purpose, blob, len, key_r);
}

/* The private key called name, loaded once per open user. A key that
 * cannot be loaded is an account problem an administrator can repair
 * (keys/ restored from a backup), so it is temporary: -ENOKEY. */
static int private_key(struct store_user *u, unsigned lane, const char *name,
		       mbedtls_pk_context **pk_r)
{
	struct store__key **keys = &u->keys[lane];
	size_t *n = &u->n_keys[lane];

	for (size_t i = 0; i < *n; i++) {
		if (strcmp((*keys)[i].name, name) == 0) {
			*pk_r = &(*keys)[i].pk;
			return 0;
		}
	}
	if (keys_check_name(name, NULL) < 0)
		return -EBADMSG;	/* no key could have this name */
	mbedtls_pk_context pk;
	int r = keys_load_private(u->dir, u->master, name, &pk, NULL);
	if (r < 0)
		return r == -ENOENT || r == -EBADMSG ? -ENOKEY : r;
	*keys = xrealloc(*keys, (*n + 1) * sizeof(**keys));
	struct store__key *k = &(*keys)[(*n)++];
	snprintf(k->name, sizeof(k->name), "%s", name);
	k->pk = pk;	/* a copy is fine: the key's state is on the heap */
	*pk_r = &k->pk;
	return 0;
}

void store__keys_free(struct store_user *u)
{
	for (unsigned lane = 0; lane < STORE_LANES; lane++) {
		for (size_t i = 0; i < u->n_keys[lane]; i++)
			mbedtls_pk_free(&u->keys[lane][i].pk);
		free(u->keys[lane]);
		u->keys[lane] = NULL;
		u->n_keys[lane] = 0;
	}
}

static int unwrap_header(struct store_user *u, unsigned lane, const struct msgfile_wrap *w,
			 uint8_t key_r[CRYPTO_KEY_LEN])
{
	uint8_t ik[CRYPTO_KEY_LEN];
	mbedtls_pk_context *pk;
	int r;

	switch (w->kind) {
	case MSGFILE_WRAP_RSA_OAEP:
		r = private_key(u, lane, w->key_name, &pk);
		if (r == 0)
			r = keys_rsa_unwrap(pk, w->blob, w->blob_len, key_r);
		return r == -EINVAL ? -EBADMSG : r;
	case MSGFILE_WRAP_SYMMETRIC:
		if (keys_internal_key(u->master, w->key_name, ik) < 0)
			return -EBADMSG;
		r = crypto_unwrap_key(ik, STORE_INTERNAL_WRAP_PURPOSE, w->blob, w->blob_len, key_r);
		crypto_wipe(ik, sizeof(ik));
		return r;
	default:
		return -EBADMSG;
	}
}

int store__key_from_header(struct store_user *u, unsigned lane, struct msgfile_reader *r,
			   uint8_t key_r[CRYPTO_KEY_LEN])
{
	int ret = unwrap_header(u, lane, msgfile_reader_wrap(r), key_r);
	if (ret == 0)
		ret = msgfile_reader_set_key(r, key_r);
	if (ret < 0)
		crypto_wipe(key_r, CRYPTO_KEY_LEN);
	return ret;
}

/* --- File names ---------------------------------------------------------- */

void store__random_file(char file[STORE_FILE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[DELIVERY_FILE_NAME_LEN / 2];
	char name[DELIVERY_FILE_NAME_LEN + 1];

	crypto_random(raw, sizeof(raw));
	for (size_t i = 0; i < sizeof(raw); i++) {
		name[2 * i] = hex[raw[i] >> 4];
		name[2 * i + 1] = hex[raw[i] & 15];
	}
	name[DELIVERY_FILE_NAME_LEN] = '\0';
	store__file_from_delivery(name, file);
}

void store__file_from_delivery(const char *name, char file[STORE_FILE_LEN + 1])
{
	memcpy(file, name, 2);
	file[2] = '/';
	memcpy(file + 3, name + 2, DELIVERY_FILE_NAME_LEN - 2);
	file[STORE_FILE_LEN] = '\0';
}

static int ensure_dir(const char *path, bool *made)
{
	if (mkdir(path, 0700) == 0) {
		*made = true;
		return 0;
	}
	return errno == EEXIST ? 0 : -errno;
}

int store__make_shard(const char *user_dir, const char *file)
{
	char *messages = xasprintf("%s/messages", user_dir);
	char *shard = xasprintf("%s/%.2s", messages, file);
	bool made = false;
	int r = ensure_dir(messages, &made);

	if (r == 0 && made)
		r = userdir_fsync_dir(user_dir);
	if (r == 0)
		r = ensure_dir(shard, &made);
	/* Always: another writer may have made the shard and not yet
	 * synced its name. */
	if (r == 0)
		r = userdir_fsync_dir(messages);
	free(shard);
	free(messages);
	return r;
}
