/* Message file reader. The format and the checks it implies are documented
 * in msgfile.h; the pieces shared with the writer are in msgfile.c. */
#include "storage/msgfile-private.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "src/util/xmalloc.h"

/* Room in front of a chunk's ciphertext in cbuf: mbedTLS decrypts into a
 * buffer that trails its input by at least 8 bytes, which lets a deflated
 * body be decrypted within cbuf and inflated from there into pbuf. */
#define CBUF_SLACK 8

struct msgfile_reader {
	int fd;
	uint64_t file_size;
	struct msgfile_header h;
	struct msgfile_wrap wrap;	/* points into h and hdr */
	uint8_t *hdr;			/* the header as read, tag included */
	size_t hdr_len;
	bool keyed;
	mbedtls_gcm_context gcm;	/* the chunk key, once keyed */
	struct msgfile_chunk *chunks;
	uint32_t n;
	uint64_t size;
	uint8_t *cbuf;			/* CBUF_SLACK + seg + tag */
	uint8_t *pbuf;			/* one decoded segment */
	int64_t cached;			/* segment in pbuf, or -1 */
	z_stream z;
	bool z_ready;
	uint64_t pos;			/* of msgfile_reader_read */
	struct msgfile_mem mem;
};

/* The longest file a valid message can make: all the plaintext stored, the
 * smallest segments, the largest header. Longer files are refused before
 * anything is read. */
static uint64_t max_file_size(void)
{
	uint32_t n = msgfile__max_chunks(MSGFILE_SHIFT_MIN);
	return MSGFILE_HDR_MAX + MSGFILE_MAX_SIZE + (uint64_t)n * MSGFILE_TAG_LEN +
	       MSGFILE_TRAILER_LEN(n);
}

static int reader_read_header(struct msgfile_reader *r)
{
	uint8_t fixed[MSGFILE_HDR_FIXED_LEN];
	const uint8_t *blob;
	int rc;

	rc = msgfile__pread_full(r->fd, fixed, sizeof(fixed), 0);
	if (rc < 0)
		return rc;
	rc = msgfile__header_parse_fixed(fixed, sizeof(fixed), &r->h);
	if (rc < 0)
		return rc;
	size_t var_len = (size_t)r->h.name_len + r->h.blob_len + MSGFILE_TAG_LEN;
	r->hdr_len = sizeof(fixed) + var_len;
	r->hdr = msgfile__alloc(&r->mem, r->hdr_len);
	memcpy(r->hdr, fixed, sizeof(fixed));
	rc = msgfile__pread_full(r->fd, r->hdr + sizeof(fixed), var_len, sizeof(fixed));
	if (rc < 0)
		return rc;
	rc = msgfile__header_parse_var(r->hdr + sizeof(fixed), var_len, &r->h, &blob);
	if (rc < 0)
		return rc;
	r->wrap = (struct msgfile_wrap){ r->h.kind, r->h.name, blob, r->h.blob_len };
	return 0;
}

int msgfile_reader_open(int fd, struct msgfile_reader **r_r)
{
	struct stat st;
	int rc;

	*r_r = NULL;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_size < 0 || (uint64_t)st.st_size > max_file_size())
		return -EBADMSG;

	struct msgfile_reader *r = xcalloc(1, sizeof(*r));
	r->mem.cur = r->mem.peak = sizeof(*r);
	r->fd = fd;
	r->file_size = (uint64_t)st.st_size;
	r->cached = -1;
	mbedtls_gcm_init(&r->gcm);
	rc = reader_read_header(r);
	if (rc < 0) {
		msgfile_reader_free(&r);
		return rc;
	}
	*r_r = r;
	return 0;
}

const struct msgfile_wrap *msgfile_reader_wrap(const struct msgfile_reader *r)
{
	return &r->wrap;
}

static int reader_check_header_tag(struct msgfile_reader *r)
{
	uint8_t nonce[MSGFILE_NONCE_LEN];
	size_t aad_len = r->hdr_len - MSGFILE_TAG_LEN;

	msgfile__nonce(nonce, MSGFILE_REC_HEADER, 0);
	if (mbedtls_gcm_auth_decrypt(&r->gcm, 0, nonce, sizeof(nonce), r->hdr, aad_len,
				     r->hdr + aad_len, MSGFILE_TAG_LEN, NULL, NULL) != 0)
		return -EBADMSG;
	return 0;
}

/* Reads the clear footer at the very end: the chunk count n. */
static int reader_read_footer(struct msgfile_reader *r, uint32_t *n_r)
{
	uint8_t foot[MSGFILE_FOOTER_LEN];
	int rc;

	if (r->file_size < r->hdr_len + MSGFILE_TRAILER_LEN(0))
		return -EBADMSG;
	rc = msgfile__pread_full(r->fd, foot, sizeof(foot), r->file_size - sizeof(foot));
	if (rc < 0)
		return rc;
	struct msgfile_cur c = msgfile__cur(foot, sizeof(foot));
	uint64_t n = msgfile__cur_uint(&c, 4);
	const uint8_t *magic = msgfile__cur_take(&c, 8);
	if (!msgfile__cur_done(&c) || memcmp(magic, MSGFILE_END_MAGIC, 8) != 0)
		return -EBADMSG;
	if (n > msgfile__max_chunks(r->h.shift))
		return -EBADMSG;
	if (r->file_size - r->hdr_len < MSGFILE_TRAILER_LEN(n))
		return -EBADMSG;
	*n_r = (uint32_t)n;
	return 0;
}

/* Authenticates the trailer and loads the index from it. */
static int reader_load_index(struct msgfile_reader *r)
{
	uint8_t nonce[MSGFILE_NONCE_LEN], aad[MSGFILE_TRAILER_AAD_LEN];
	uint32_t n;
	uint64_t end;
	int rc = reader_read_footer(r, &n);

	if (rc < 0)
		return rc;
	size_t index_len = 8 + (size_t)n * MSGFILE_INDEX_ENTRY_LEN;
	uint64_t start = r->file_size - MSGFILE_TRAILER_LEN(n);
	uint8_t *buf = msgfile__alloc(&r->mem, CBUF_SLACK + index_len + MSGFILE_TAG_LEN);
	uint8_t *ct = buf + CBUF_SLACK;

	rc = msgfile__pread_full(r->fd, ct, index_len + MSGFILE_TAG_LEN, start);
	if (rc == 0) {
		msgfile__nonce(nonce, MSGFILE_REC_TRAILER, n);
		msgfile__trailer_aad(aad, r->h.file_id, n, r->hdr + r->hdr_len - MSGFILE_TAG_LEN);
		if (mbedtls_gcm_auth_decrypt(&r->gcm, index_len, nonce, sizeof(nonce), aad,
					     sizeof(aad), ct + index_len, MSGFILE_TAG_LEN, ct,
					     buf) != 0)
			rc = -EBADMSG;
	}
	if (rc == 0) {
		r->chunks = msgfile__alloc(&r->mem, (size_t)n * sizeof(*r->chunks));
		rc = msgfile__index_parse(buf, index_len, n, r->h.shift, r->hdr_len, r->chunks,
					  &r->size, &end);
	}
	/* The chunks must fill the space between header and trailer exactly:
	 * this catches bytes inserted or removed anywhere in between. */
	if (rc == 0 && end != start)
		rc = -EBADMSG;
	msgfile__free(&r->mem, buf);
	if (rc == 0)
		r->n = n;
	return rc;
}

int msgfile_reader_set_key(struct msgfile_reader *r, const uint8_t key[CRYPTO_KEY_LEN])
{
	size_t seg = (size_t)1 << r->h.shift;
	int rc;

	if (r->keyed)
		return -EINVAL;
	rc = msgfile__gcm_setkey(&r->gcm, key, r->h.file_id);
	if (rc == 0)
		rc = reader_check_header_tag(r);
	if (rc == 0)
		rc = reader_load_index(r);
	if (rc < 0) {
		msgfile__free(&r->mem, r->chunks);
		r->chunks = NULL;
		/* Drop the wrong key rather than keep it around. */
		mbedtls_gcm_free(&r->gcm);
		mbedtls_gcm_init(&r->gcm);
		return rc;
	}
	r->z.zalloc = msgfile__zalloc;
	r->z.zfree = msgfile__zfree;
	r->z.opaque = &r->mem;
	if (inflateInit2(&r->z, -15) != Z_OK)
		abort();	/* allocation goes through xmalloc; nothing else fails */
	r->z_ready = true;
	r->cbuf = msgfile__alloc(&r->mem, CBUF_SLACK + seg + MSGFILE_TAG_LEN);
	r->pbuf = msgfile__alloc(&r->mem, seg);
	r->keyed = true;
	return 0;
}

uint64_t msgfile_reader_size(const struct msgfile_reader *r)
{
	return r->keyed ? r->size : 0;
}

/* Decrypts and decodes segment i into pbuf, unless it is there already. */
static int reader_load_segment(struct msgfile_reader *r, uint32_t i)
{
	const struct msgfile_chunk *c = &r->chunks[i];
	uint8_t nonce[MSGFILE_NONCE_LEN], aad[MSGFILE_CHUNK_AAD_LEN];
	uint8_t *ct = r->cbuf + CBUF_SLACK;
	uint8_t *out = c->mode == MSGFILE_MODE_STORED ? r->pbuf : r->cbuf;
	int rc;

	if (r->cached == (int64_t)i)
		return 0;
	r->cached = -1;
	rc = msgfile__pread_full(r->fd, ct, (size_t)c->body_len + MSGFILE_TAG_LEN, c->off);
	if (rc < 0)
		return rc;
	msgfile__nonce(nonce, MSGFILE_REC_CHUNK, i);
	msgfile__chunk_aad(aad, r->h.file_id, i, i + 1 == r->n, c->mode, c->body_len,
			   c->plain_len);
	if (mbedtls_gcm_auth_decrypt(&r->gcm, c->body_len, nonce, sizeof(nonce), aad,
				     sizeof(aad), ct + c->body_len, MSGFILE_TAG_LEN, ct, out) != 0)
		return -EBADMSG;
	if (c->mode == MSGFILE_MODE_DEFLATE) {
		rc = msgfile__inflate_exact(&r->z, r->cbuf, c->body_len, r->pbuf, c->plain_len);
		if (rc < 0)
			return rc;
	}
	r->cached = i;
	return 0;
}

ssize_t msgfile_read_range(struct msgfile_reader *r, uint64_t offset, void *out, size_t len)
{
	uint8_t *dst = out;
	size_t done = 0;

	if (!r->keyed)
		return -EINVAL;
	if (offset >= r->size)
		return 0;
	if (len > r->size - offset)
		len = (size_t)(r->size - offset);
	while (done < len) {
		uint64_t pos = offset + done;
		uint32_t i = (uint32_t)(pos >> r->h.shift);
		size_t in_seg = (size_t)(pos & (((uint64_t)1 << r->h.shift) - 1));
		int rc = reader_load_segment(r, i);
		if (rc < 0) {
			/* Bytes already copied are authentic, but a caller that
			 * forgets the error must not see half a range. */
			crypto_wipe(dst, done);
			return rc;
		}
		size_t n = r->chunks[i].plain_len - in_seg;
		if (n > len - done)
			n = len - done;
		memcpy(dst + done, r->pbuf + in_seg, n);
		done += n;
	}
	return (ssize_t)done;
}

ssize_t msgfile_reader_read(struct msgfile_reader *r, void *out, size_t len)
{
	ssize_t n = msgfile_read_range(r, r->pos, out, len);
	if (n > 0)
		r->pos += (uint64_t)n;
	return n;
}

void msgfile_reader_free(struct msgfile_reader **rp)
{
	struct msgfile_reader *r = *rp;

	if (!r)
		return;
	if (r->z_ready)
		inflateEnd(&r->z);
	mbedtls_gcm_free(&r->gcm);
	msgfile__free(&r->mem, r->hdr);
	msgfile__free(&r->mem, r->chunks);
	msgfile__free(&r->mem, r->cbuf);
	msgfile__free(&r->mem, r->pbuf);
	crypto_wipe(r, sizeof(*r));
	free(r);
	*rp = NULL;
}

size_t msgfile_reader_mem(const struct msgfile_reader *r, size_t *peak_r)
{
	if (peak_r)
		*peak_r = r->mem.peak;
	return r->mem.cur;
}
