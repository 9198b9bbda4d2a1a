/* Internals of the message file format shared by msgfile.c (format pieces,
 * writer), msgfile-read.c (reader), the unit test and the fuzz target. The
 * byte layout is documented in msgfile.h. Not for other modules. */
#ifndef SEAL_STORAGE_MSGFILE_PRIVATE_H
#define SEAL_STORAGE_MSGFILE_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mbedtls/gcm.h>
#include <zlib.h>

#include "storage/msgfile.h"

#define MSGFILE_MAGIC "SEALMSG1"
#define MSGFILE_END_MAGIC "SEALEND1"
#define MSGFILE_VERSION 1
#define MSGFILE_FILE_ID_LEN 16
#define MSGFILE_TAG_LEN 16
#define MSGFILE_NONCE_LEN 12
#define MSGFILE_HDR_FIXED_LEN 32	/* up to the key name */
#define MSGFILE_HDR_MAX (MSGFILE_HDR_FIXED_LEN + MSGFILE_KEY_NAME_MAX + \
			 MSGFILE_WRAP_BLOB_MAX + MSGFILE_TAG_LEN)
#define MSGFILE_CHUNK_AAD_LEN 31
#define MSGFILE_TRAILER_AAD_LEN 45
#define MSGFILE_FOOTER_LEN 12		/* u32 n || "SEALEND1" */
#define MSGFILE_INDEX_ENTRY_LEN 5
#define MSGFILE_TRAILER_LEN(n) (8 + (size_t)(n) * MSGFILE_INDEX_ENTRY_LEN + \
				MSGFILE_TAG_LEN + MSGFILE_FOOTER_LEN)

/* Record types: the first byte of every nonce and AAD. */
#define MSGFILE_REC_HEADER 1
#define MSGFILE_REC_CHUNK 2
#define MSGFILE_REC_TRAILER 3

/* Body modes. */
#define MSGFILE_MODE_STORED 0
#define MSGFILE_MODE_DEFLATE 1

/* Most chunks a valid file has for a given segment shift. */
static inline uint32_t msgfile__max_chunks(unsigned shift)
{
	return (uint32_t)(MSGFILE_MAX_SIZE >> shift);
}

/* --- Heap accounting: every allocation of a handle goes through here, so
 * the handle can report what it holds, and everything is wiped when freed
 * (buffers hold plaintext, zlib's window too). */
struct msgfile_mem {
	size_t cur;
	size_t peak;
};

void *msgfile__alloc(struct msgfile_mem *m, size_t size);
void msgfile__free(struct msgfile_mem *m, void *p);
/* zalloc/zfree for a z_stream whose opaque is a struct msgfile_mem. */
voidpf msgfile__zalloc(voidpf opaque, uInt items, uInt size);
void msgfile__zfree(voidpf opaque, voidpf p);

/* --- Cursor over bytes read from disk (STYLE.md): a short buffer sets
 * bad and yields zeros; msgfile__cur_done demands full consumption. */
struct msgfile_cur {
	const uint8_t *p;
	size_t left;
	bool bad;
};

static inline struct msgfile_cur msgfile__cur(const void *p, size_t len)
{
	return (struct msgfile_cur){ p, len, false };
}

static inline const uint8_t *msgfile__cur_take(struct msgfile_cur *c, size_t n)
{
	if (c->bad || n > c->left) {
		c->bad = true;
		return NULL;
	}
	const uint8_t *p = c->p;
	c->p += n;
	c->left -= n;
	return p;
}

static inline uint64_t msgfile__cur_uint(struct msgfile_cur *c, size_t n)
{
	const uint8_t *p = msgfile__cur_take(c, n);
	uint64_t v = 0;
	for (size_t i = 0; p && i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

static inline bool msgfile__cur_done(const struct msgfile_cur *c)
{
	return !c->bad && c->left == 0;
}

static inline uint8_t *msgfile__put_uint(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		p[i - 1] = (uint8_t)v;
		v >>= 8;
	}
	return p + n;
}

static inline uint8_t *msgfile__put_bytes(uint8_t *p, const void *src, size_t n)
{
	memcpy(p, src, n);
	return p + n;
}

/* --- Format pieces (msgfile.c) --- */

/* The parsed header. */
struct msgfile_header {
	unsigned shift;
	uint8_t kind;
	uint8_t name_len;
	uint16_t blob_len;
	uint8_t file_id[MSGFILE_FILE_ID_LEN];
	char name[MSGFILE_KEY_NAME_MAX + 1];
};

/* Checks a wrap given by a caller, as the reader checks a header. */
bool msgfile__wrap_valid(const struct msgfile_wrap *wrap);

/* Parses the first MSGFILE_HDR_FIXED_LEN bytes; the remaining header length
 * (name, blob, tag) is then h->name_len + h->blob_len + MSGFILE_TAG_LEN. */
int msgfile__header_parse_fixed(const uint8_t *p, size_t len, struct msgfile_header *h);
/* Parses the rest: name and blob (checked) and tag; *blob_r points into p. */
int msgfile__header_parse_var(const uint8_t *p, size_t len, struct msgfile_header *h,
			      const uint8_t **blob_r);

/* Derives the chunk key of a file and loads it into gcm (initialised). */
int msgfile__gcm_setkey(mbedtls_gcm_context *gcm, const uint8_t key[CRYPTO_KEY_LEN],
			const uint8_t file_id[MSGFILE_FILE_ID_LEN]);

void msgfile__nonce(uint8_t nonce[MSGFILE_NONCE_LEN], uint8_t type, uint32_t index);
void msgfile__chunk_aad(uint8_t aad[MSGFILE_CHUNK_AAD_LEN], const uint8_t *file_id,
			uint32_t index, bool last, uint8_t mode, uint32_t body_len,
			uint32_t plain_len);
void msgfile__trailer_aad(uint8_t aad[MSGFILE_TRAILER_AAD_LEN], const uint8_t *file_id,
			  uint32_t n, const uint8_t header_tag[MSGFILE_TAG_LEN]);

/* One chunk as the reader knows it from the index. */
struct msgfile_chunk {
	uint64_t off;		/* of its ciphertext in the file */
	uint32_t body_len;
	uint32_t plain_len;
	uint8_t mode;
};

/* Parses and checks the decrypted index of a file with n chunks and
 * segment shift `shift` whose first chunk starts at file offset first_off.
 * Fills chunks[0..n-1], *size_r (uncompressed size) and *end_r (where the
 * trailer must start). -EBADMSG on any violation of the rules in msgfile.h. */
int msgfile__index_parse(const uint8_t *p, size_t len, uint32_t n, unsigned shift,
			 uint64_t first_off, struct msgfile_chunk *chunks, uint64_t *size_r,
			 uint64_t *end_r);

/* Inflates the raw deflate stream in[0..in_len) into exactly out_len bytes:
 * anything else (short, long, trailing input, corrupt) is -EBADMSG. */
int msgfile__inflate_exact(z_stream *z, const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t out_len);

/* Full-length I/O: 0, -EBADMSG when pread meets the end of file early, or
 * the negative errno of the failed call. */
int msgfile__pread_full(int fd, void *buf, size_t len, uint64_t off);
int msgfile__write_full(int fd, const void *buf, size_t len);

/* Test and fuzz hook: seals and writes one chunk with the given body as
 * is, as chunk number "next" of the writer, whose buffered data must be
 * empty. Lets a test craft a chunk that is authentic yet wrong (a zip bomb)
 * to prove the reader refuses it. plain_len is the length the chunk
 * declares and is added to the total. */
int msgfile__writer_put_chunk(struct msgfile_writer *w, uint8_t mode, const void *body,
			      size_t body_len, size_t plain_len, bool last);

#endif
