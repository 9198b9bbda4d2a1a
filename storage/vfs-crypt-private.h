/* Internals shared by vfs-crypt.c (registry, VFS, open) and vfs-crypt-io.c
 * (the sealed file methods). Not for other modules. */
#ifndef SEAL_STORAGE_VFS_CRYPT_PRIVATE_H
#define SEAL_STORAGE_VFS_CRYPT_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <mbedtls/gcm.h>
#include <sqlite3.h>

#include "storage/vfs-crypt.h"

/* Page geometry, see the format in vfs-crypt.h. */
#define VFS_CRYPT_BODY (VFS_CRYPT_PAGE_SIZE - VFS_CRYPT_RESERVE)
#define VFS_CRYPT_NONCE_LEN 12
#define VFS_CRYPT_TAG_LEN 16

/* WAL geometry for our fixed page size (SQLite's WAL format, section 4 of
 * https://www.sqlite.org/fileformat2.html#walformat). */
#define VFS_CRYPT_WAL_HDR 32
#define VFS_CRYPT_FRAME_HDR 24
#define VFS_CRYPT_FRAME (VFS_CRYPT_FRAME_HDR + VFS_CRYPT_PAGE_SIZE)

/* A registry entry: the key of one database, named by the full path SQLite
 * gives xOpen for its main file. Counted: vfs_crypt_open() holds a reference
 * while it opens, and every open main or WAL file holds one. */
struct vfs_crypt_key {
	struct vfs_crypt_key *next;
	unsigned refs;
	uint8_t bytes[VFS_CRYPT_KEY_LEN];
	char name[];
};

enum vfs_crypt_kind {
	VFS_CRYPT_MAIN_DB,
	VFS_CRYPT_WAL,
};

/* Our sqlite3_file. The underlying "unix" file follows it in the same
 * allocation SQLite makes (szOsFile covers both). The page buffers are per
 * file because SQLite uses one file from one thread at a time. */
struct vfs_crypt_file {
	sqlite3_file base;		/* pMethods = &vfs_crypt_io_methods */
	sqlite3_file *real;		/* the unix file, right after us */
	struct vfs_crypt_key *key;	/* one reference, dropped at xClose */
	enum vfs_crypt_kind kind;
	mbedtls_gcm_context gcm;	/* AES key schedule of key->bytes */
	uint8_t sealed[VFS_CRYPT_PAGE_SIZE];	/* a page as on disk */
	uint8_t plain[VFS_CRYPT_PAGE_SIZE];	/* for reads of part of a page */
};

extern const sqlite3_io_methods vfs_crypt_io_methods;

/* Registry (vfs-crypt.c). vfs_crypt__key_add() takes a reference to the
 * entry for name, creating it with key; -EACCES when it exists with another
 * key. vfs_crypt__key_get() takes a reference to an existing entry or
 * returns NULL. vfs_crypt__key_put() drops one and, at zero, wipes and frees
 * the entry; it sets *key to NULL. */
int vfs_crypt__key_add(const char *name, const uint8_t key[VFS_CRYPT_KEY_LEN],
		       struct vfs_crypt_key **key_r);
struct vfs_crypt_key *vfs_crypt__key_get(const char *name);
void vfs_crypt__key_put(struct vfs_crypt_key **key);

#endif
