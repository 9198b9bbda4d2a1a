/* Message files: the format pieces shared with the reader, the writer and
 * the atomic placement helpers. The format is documented in msgfile.h; the
 * reader is in msgfile-read.c. */
#include "storage/msgfile-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

/* --- Heap accounting ---------------------------------------------------- */

/* Each block carries its size in front, so it can be wiped and counted when
 * freed; the union keeps the payload aligned for any type. */
union mem_head {
	size_t size;
	max_align_t align;
};

void *msgfile__alloc(struct msgfile_mem *m, size_t size)
{
	union mem_head *h = xmalloc(sizeof(*h) + size);
	h->size = size;
	m->cur += size;
	if (m->cur > m->peak)
		m->peak = m->cur;
	return h + 1;
}

void msgfile__free(struct msgfile_mem *m, void *p)
{
	if (!p)
		return;
	union mem_head *h = (union mem_head *)p - 1;
	m->cur -= h->size;
	crypto_wipe(p, h->size);
	free(h);
}

voidpf msgfile__zalloc(voidpf opaque, uInt items, uInt size)
{
	if (size != 0 && items > SIZE_MAX / size)
		return Z_NULL;
	return msgfile__alloc(opaque, (size_t)items * size);
}

void msgfile__zfree(voidpf opaque, voidpf p)
{
	msgfile__free(opaque, p);
}

/* --- Format pieces ------------------------------------------------------ */

static bool key_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > MSGFILE_KEY_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x21 || name[i] > 0x7e)
			return false;
	return true;
}

bool msgfile__wrap_valid(const struct msgfile_wrap *wrap)
{
	if (!wrap || wrap->kind == 0 || !wrap->key_name || !wrap->blob)
		return false;
	if (wrap->blob_len == 0 || wrap->blob_len > MSGFILE_WRAP_BLOB_MAX)
		return false;
	return key_name_valid(wrap->key_name, strnlen(wrap->key_name, MSGFILE_KEY_NAME_MAX + 1));
}

int msgfile__header_parse_fixed(const uint8_t *p, size_t len, struct msgfile_header *h)
{
	struct msgfile_cur c = msgfile__cur(p, len);
	const uint8_t *magic = msgfile__cur_take(&c, 8);
	uint64_t version = msgfile__cur_uint(&c, 1);
	uint64_t shift = msgfile__cur_uint(&c, 1);
	uint64_t kind = msgfile__cur_uint(&c, 1);
	uint64_t name_len = msgfile__cur_uint(&c, 1);
	uint64_t blob_len = msgfile__cur_uint(&c, 2);
	uint64_t reserved = msgfile__cur_uint(&c, 2);
	const uint8_t *file_id = msgfile__cur_take(&c, MSGFILE_FILE_ID_LEN);

	if (!msgfile__cur_done(&c) || memcmp(magic, MSGFILE_MAGIC, 8) != 0)
		return -EBADMSG;
	if (version != MSGFILE_VERSION || reserved != 0 || kind == 0)
		return -EBADMSG;
	if (shift < MSGFILE_SHIFT_MIN || shift > MSGFILE_SHIFT_MAX)
		return -EBADMSG;
	if (name_len == 0 || name_len > MSGFILE_KEY_NAME_MAX)
		return -EBADMSG;
	if (blob_len == 0 || blob_len > MSGFILE_WRAP_BLOB_MAX)
		return -EBADMSG;
	memset(h, 0, sizeof(*h));
	h->shift = (unsigned)shift;
	h->kind = (uint8_t)kind;
	h->name_len = (uint8_t)name_len;
	h->blob_len = (uint16_t)blob_len;
	memcpy(h->file_id, file_id, MSGFILE_FILE_ID_LEN);
	return 0;
}

int msgfile__header_parse_var(const uint8_t *p, size_t len, struct msgfile_header *h,
			      const uint8_t **blob_r)
{
	struct msgfile_cur c = msgfile__cur(p, len);
	const uint8_t *name = msgfile__cur_take(&c, h->name_len);
	const uint8_t *blob = msgfile__cur_take(&c, h->blob_len);

	msgfile__cur_take(&c, MSGFILE_TAG_LEN);
	if (!msgfile__cur_done(&c) || !key_name_valid((const char *)name, h->name_len))
		return -EBADMSG;
	memcpy(h->name, name, h->name_len);
	h->name[h->name_len] = '\0';
	*blob_r = blob;
	return 0;
}

int msgfile__gcm_setkey(mbedtls_gcm_context *gcm, const uint8_t key[CRYPTO_KEY_LEN],
			const uint8_t file_id[MSGFILE_FILE_ID_LEN])
{
	uint8_t file_key[CRYPTO_KEY_LEN];
	int r = crypto_derive(key, CRYPTO_LABEL_MSGFILE_CHUNKS, file_id, MSGFILE_FILE_ID_LEN,
			      file_key, sizeof(file_key));
	if (r == 0 && mbedtls_gcm_setkey(gcm, MBEDTLS_CIPHER_ID_AES, file_key, 256) != 0)
		r = -EINVAL;
	crypto_wipe(file_key, sizeof(file_key));
	return r;
}

void msgfile__nonce(uint8_t nonce[MSGFILE_NONCE_LEN], uint8_t type, uint32_t index)
{
	memset(nonce, 0, MSGFILE_NONCE_LEN);
	nonce[0] = type;
	msgfile__put_uint(nonce + 8, index, 4);
}

void msgfile__chunk_aad(uint8_t aad[MSGFILE_CHUNK_AAD_LEN], const uint8_t *file_id,
			uint32_t index, bool last, uint8_t mode, uint32_t body_len,
			uint32_t plain_len)
{
	uint8_t *p = aad;

	p = msgfile__put_uint(p, MSGFILE_REC_CHUNK, 1);
	p = msgfile__put_bytes(p, file_id, MSGFILE_FILE_ID_LEN);
	p = msgfile__put_uint(p, index, 4);
	p = msgfile__put_uint(p, last, 1);
	p = msgfile__put_uint(p, mode, 1);
	p = msgfile__put_uint(p, body_len, 4);
	msgfile__put_uint(p, plain_len, 4);
}

void msgfile__trailer_aad(uint8_t aad[MSGFILE_TRAILER_AAD_LEN], const uint8_t *file_id,
			  uint32_t n, const uint8_t header_tag[MSGFILE_TAG_LEN])
{
	uint8_t *p = aad;

	p = msgfile__put_uint(p, MSGFILE_REC_TRAILER, 1);
	p = msgfile__put_bytes(p, file_id, MSGFILE_FILE_ID_LEN);
	p = msgfile__put_uint(p, n, 4);
	p = msgfile__put_bytes(p, header_tag, MSGFILE_TAG_LEN);
	msgfile__put_bytes(p, MSGFILE_END_MAGIC, 8);
}

int msgfile__index_parse(const uint8_t *p, size_t len, uint32_t n, unsigned shift,
			 uint64_t first_off, struct msgfile_chunk *chunks, uint64_t *size_r,
			 uint64_t *end_r)
{
	struct msgfile_cur c = msgfile__cur(p, len);
	uint64_t seg = (uint64_t)1 << shift;
	uint64_t size = msgfile__cur_uint(&c, 8);
	uint64_t off = first_off;

	if (c.bad || size > MSGFILE_MAX_SIZE || ((size + seg - 1) >> shift) != n)
		return -EBADMSG;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t mode = msgfile__cur_uint(&c, 1);
		uint64_t body_len = msgfile__cur_uint(&c, 4);
		uint64_t plain_len = i + 1 < n ? seg : size - (uint64_t)i * seg;

		if (mode == MSGFILE_MODE_STORED) {
			if (body_len != plain_len)
				return -EBADMSG;
		} else if (mode == MSGFILE_MODE_DEFLATE) {
			if (body_len == 0 || body_len >= plain_len)
				return -EBADMSG;
		} else {
			return -EBADMSG;
		}
		chunks[i] = (struct msgfile_chunk){ off, (uint32_t)body_len,
						    (uint32_t)plain_len, (uint8_t)mode };
		off += body_len + MSGFILE_TAG_LEN;
	}
	if (!msgfile__cur_done(&c))
		return -EBADMSG;
	*size_r = size;
	*end_r = off;
	return 0;
}

int msgfile__inflate_exact(z_stream *z, const uint8_t *in, size_t in_len, uint8_t *out,
			   size_t out_len)
{
	if (inflateReset(z) != Z_OK)
		return -EBADMSG;
	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)in_len;
	z->next_out = out;
	z->avail_out = (uInt)out_len;
	/* The output room is exactly the declared length: a stream that
	 * wants more stops with Z_BUF_ERROR instead of writing past it, which
	 * is what makes a zip bomb cost one segment at most. */
	int r = inflate(z, Z_FINISH);
	if (r != Z_STREAM_END || z->avail_out != 0 || z->avail_in != 0)
		return -EBADMSG;
	return 0;
}

int msgfile__pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = pread(fd, p, len, (off_t)off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EBADMSG;	/* the file is shorter than it says */
		p += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

int msgfile__write_full(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* --- Writer ------------------------------------------------------------- */

struct msgfile_writer {
	int fd;
	int err;			/* sticky: the first failure */
	bool finished;
	bool fsync;
	unsigned shift;
	size_t seg;			/* 1 << shift */
	uint8_t file_id[MSGFILE_FILE_ID_LEN];
	uint8_t header_tag[MSGFILE_TAG_LEN];
	mbedtls_gcm_context gcm;	/* holds the chunk key; freed wiped */
	z_stream z;
	bool z_ready;
	uint8_t *pbuf;			/* the segment being filled */
	size_t plen;
	uint8_t *cbuf;			/* a sealed chunk: seg + tag */
	uint8_t *index;			/* trailer: index, then tag, footer */
	uint32_t n;			/* chunks written */
	uint64_t size;			/* plaintext in chunks written */
	struct msgfile_mem mem;
};

static int writer_fail(struct msgfile_writer *w, int err)
{
	if (w->err == 0)
		w->err = err;
	return w->err;
}

/* Builds the header of the writer's file into hdr, tag included, and
 * returns its length. */
static size_t writer_header(struct msgfile_writer *w, const struct msgfile_wrap *wrap,
			    uint8_t *hdr)
{
	size_t name_len = strlen(wrap->key_name);
	uint8_t nonce[MSGFILE_NONCE_LEN];
	uint8_t *p = hdr;

	p = msgfile__put_bytes(p, MSGFILE_MAGIC, 8);
	p = msgfile__put_uint(p, MSGFILE_VERSION, 1);
	p = msgfile__put_uint(p, w->shift, 1);
	p = msgfile__put_uint(p, wrap->kind, 1);
	p = msgfile__put_uint(p, name_len, 1);
	p = msgfile__put_uint(p, wrap->blob_len, 2);
	p = msgfile__put_uint(p, 0, 2);
	p = msgfile__put_bytes(p, w->file_id, MSGFILE_FILE_ID_LEN);
	p = msgfile__put_bytes(p, wrap->key_name, name_len);
	p = msgfile__put_bytes(p, wrap->blob, wrap->blob_len);

	/* GMAC: an empty plaintext, the header as AAD. Written once per file,
	 * so nonce(1, 0) is used once per chunk key. */
	msgfile__nonce(nonce, MSGFILE_REC_HEADER, 0);
	if (mbedtls_gcm_crypt_and_tag(&w->gcm, MBEDTLS_GCM_ENCRYPT, 0, nonce, sizeof(nonce),
				      hdr, (size_t)(p - hdr), NULL, NULL, MSGFILE_TAG_LEN,
				      w->header_tag) != 0)
		abort();	/* only bad lengths fail, and ours are fixed */
	p = msgfile__put_bytes(p, w->header_tag, MSGFILE_TAG_LEN);
	return (size_t)(p - hdr);
}

static int writer_check_opts(const struct msgfile_writer_opts *opts, int *level_r,
			     unsigned *shift_r)
{
	*level_r = opts && opts->level ? opts->level : Z_DEFAULT_COMPRESSION;
	*shift_r = opts && opts->shift ? opts->shift : MSGFILE_SHIFT_DEFAULT;
	if (*level_r != Z_DEFAULT_COMPRESSION && (*level_r < 1 || *level_r > 9))
		return -EINVAL;
	if (*shift_r < MSGFILE_SHIFT_MIN || *shift_r > MSGFILE_SHIFT_MAX)
		return -EINVAL;
	return 0;
}

int msgfile_writer_open(int fd, const uint8_t key[CRYPTO_KEY_LEN],
			const struct msgfile_wrap *wrap, const struct msgfile_writer_opts *opts,
			struct msgfile_writer **w_r)
{
	uint8_t hdr[MSGFILE_HDR_MAX];
	int level, r;
	unsigned shift;

	*w_r = NULL;
	if (!msgfile__wrap_valid(wrap) || writer_check_opts(opts, &level, &shift) < 0)
		return -EINVAL;

	struct msgfile_writer *w = xcalloc(1, sizeof(*w));
	w->mem.cur = w->mem.peak = sizeof(*w);
	w->fd = fd;
	w->fsync = opts && opts->fsync;
	w->shift = shift;
	w->seg = (size_t)1 << shift;
	crypto_random(w->file_id, sizeof(w->file_id));
	mbedtls_gcm_init(&w->gcm);
	r = msgfile__gcm_setkey(&w->gcm, key, w->file_id);
	if (r < 0)
		goto fail;

	w->z.zalloc = msgfile__zalloc;
	w->z.zfree = msgfile__zfree;
	w->z.opaque = &w->mem;
	/* Raw deflate (no zlib header or checksum: GCM already authenticates
	 * every byte), reset for every segment so each stands alone. */
	if (deflateInit2(&w->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		r = -ENOMEM;
		goto fail;
	}
	w->z_ready = true;
	w->pbuf = msgfile__alloc(&w->mem, w->seg);
	w->cbuf = msgfile__alloc(&w->mem, w->seg + MSGFILE_TAG_LEN);
	w->index = msgfile__alloc(&w->mem, MSGFILE_TRAILER_LEN(msgfile__max_chunks(shift)));

	size_t hdr_len = writer_header(w, wrap, hdr);
	r = msgfile__write_full(fd, hdr, hdr_len);
	if (r < 0)
		goto fail;
	*w_r = w;
	return 0;
fail:
	msgfile_writer_free(&w);
	return r;
}

static int writer_seal(struct msgfile_writer *w, uint8_t mode, const uint8_t *body,
		       size_t body_len, size_t plain_len, bool last)
{
	uint8_t nonce[MSGFILE_NONCE_LEN], aad[MSGFILE_CHUNK_AAD_LEN];

	if (w->n >= msgfile__max_chunks(w->shift))
		return writer_fail(w, -EFBIG);
	msgfile__nonce(nonce, MSGFILE_REC_CHUNK, w->n);
	msgfile__chunk_aad(aad, w->file_id, w->n, last, mode, (uint32_t)body_len,
			   (uint32_t)plain_len);
	/* GCM may encrypt in place, so body may already be cbuf. */
	if (mbedtls_gcm_crypt_and_tag(&w->gcm, MBEDTLS_GCM_ENCRYPT, body_len, nonce,
				      sizeof(nonce), aad, sizeof(aad), body, w->cbuf,
				      MSGFILE_TAG_LEN, w->cbuf + body_len) != 0)
		return writer_fail(w, -EINVAL);
	int r = msgfile__write_full(w->fd, w->cbuf, body_len + MSGFILE_TAG_LEN);
	if (r < 0)
		return writer_fail(w, r);

	uint8_t *e = w->index + 8 + (size_t)w->n * MSGFILE_INDEX_ENTRY_LEN;
	e = msgfile__put_uint(e, mode, 1);
	msgfile__put_uint(e, body_len, 4);
	w->n++;
	w->size += plain_len;
	return 0;
}

/* Compresses, seals and writes the buffered segment as the next chunk. */
static int writer_flush(struct msgfile_writer *w, bool last)
{
	size_t plen = w->plen;

	w->plen = 0;
	if (plen >= 2) {
		/* Deflate into one byte less than the plaintext: if it does
		 * not fit, compression does not pay and the segment is
		 * stored, which also bounds every body by the segment size. */
		if (deflateReset(&w->z) != Z_OK)
			return writer_fail(w, -EINVAL);
		w->z.next_in = w->pbuf;
		w->z.avail_in = (uInt)plen;
		w->z.next_out = w->cbuf;
		w->z.avail_out = (uInt)(plen - 1);
		if (deflate(&w->z, Z_FINISH) == Z_STREAM_END)
			return writer_seal(w, MSGFILE_MODE_DEFLATE, w->cbuf,
					   plen - 1 - w->z.avail_out, plen, last);
	}
	return writer_seal(w, MSGFILE_MODE_STORED, w->pbuf, plen, plen, last);
}

int msgfile_writer_write(struct msgfile_writer *w, const void *data, size_t len)
{
	const uint8_t *p = data;

	if (w->err)
		return w->err;
	if (w->finished)
		return -EINVAL;
	if (len > MSGFILE_MAX_SIZE - w->size - w->plen)
		return writer_fail(w, -EFBIG);
	while (len > 0) {
		/* A full segment is flushed only once more data comes, so the
		 * one finish flushes is known to be the last. */
		if (w->plen == w->seg) {
			int r = writer_flush(w, false);
			if (r < 0)
				return r;
		}
		size_t n = w->seg - w->plen < len ? w->seg - w->plen : len;
		memcpy(w->pbuf + w->plen, p, n);
		w->plen += n;
		p += n;
		len -= n;
	}
	return 0;
}

int msgfile__writer_put_chunk(struct msgfile_writer *w, uint8_t mode, const void *body,
			      size_t body_len, size_t plain_len, bool last)
{
	if (w->err)
		return w->err;
	if (w->finished || w->plen != 0 || body_len > w->seg || plain_len > w->seg)
		return -EINVAL;
	return writer_seal(w, mode, body, body_len, plain_len, last);
}

int msgfile_writer_finish(struct msgfile_writer *w)
{
	uint8_t nonce[MSGFILE_NONCE_LEN], aad[MSGFILE_TRAILER_AAD_LEN];
	int r;

	if (w->err)
		return w->err;
	if (w->finished)
		return -EINVAL;
	if (w->plen > 0 && (r = writer_flush(w, true)) < 0)
		return r;

	size_t index_len = 8 + (size_t)w->n * MSGFILE_INDEX_ENTRY_LEN;
	uint8_t *p = w->index;
	msgfile__put_uint(p, w->size, 8);
	msgfile__nonce(nonce, MSGFILE_REC_TRAILER, w->n);
	msgfile__trailer_aad(aad, w->file_id, w->n, w->header_tag);
	if (mbedtls_gcm_crypt_and_tag(&w->gcm, MBEDTLS_GCM_ENCRYPT, index_len, nonce,
				      sizeof(nonce), aad, sizeof(aad), p, p, MSGFILE_TAG_LEN,
				      p + index_len) != 0)
		return writer_fail(w, -EINVAL);
	p = msgfile__put_uint(p + index_len + MSGFILE_TAG_LEN, w->n, 4);
	msgfile__put_bytes(p, MSGFILE_END_MAGIC, 8);
	r = msgfile__write_full(w->fd, w->index, MSGFILE_TRAILER_LEN(w->n));
	if (r < 0)
		return writer_fail(w, r);
	if (w->fsync && fsync(w->fd) < 0)
		return writer_fail(w, -errno);
	w->finished = true;
	return 0;
}

void msgfile_writer_free(struct msgfile_writer **wp)
{
	struct msgfile_writer *w = *wp;

	if (!w)
		return;
	if (w->z_ready)
		deflateEnd(&w->z);
	mbedtls_gcm_free(&w->gcm);
	msgfile__free(&w->mem, w->pbuf);
	msgfile__free(&w->mem, w->cbuf);
	msgfile__free(&w->mem, w->index);
	crypto_wipe(w, sizeof(*w));
	free(w);
	*wp = NULL;
}

size_t msgfile_writer_mem(const struct msgfile_writer *w, size_t *peak_r)
{
	if (peak_r)
		*peak_r = w->mem.peak;
	return w->mem.cur;
}

/* --- Atomic placement --------------------------------------------------- */

int msgfile_tmp_create(const char *tmp_dir, char **path_r, int *fd_r)
{
	char *path = xasprintf("%s/msg.XXXXXX", tmp_dir);
	int fd = mkostemp(path, O_CLOEXEC);	/* mode 0600 */

	if (fd < 0) {
		int err = -errno;
		free(path);
		return err;
	}
	*path_r = path;
	*fd_r = fd;
	return 0;
}

static int fsync_parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : xstrdup(".");
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;

	free(dir);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		r = -errno;
	close(fd);
	return r;
}

int msgfile_place(const char *tmp_path, const char *final_path)
{
	/* Never replace: two deliveries picking one name must not lose mail. */
	if (renameat2(AT_FDCWD, tmp_path, AT_FDCWD, final_path, RENAME_NOREPLACE) < 0) {
		if (errno != EINVAL && errno != ENOSYS)
			return -errno;
		/* A filesystem without RENAME_NOREPLACE: link() refuses to
		 * replace too, and the extra name goes with the unlink. */
		if (link(tmp_path, final_path) < 0)
			return -errno;
		if (unlink(tmp_path) < 0)
			return -errno;
	}
	return 0;
}

int msgfile_commit(int fd, const char *tmp_path, const char *final_path)
{
	if (fsync(fd) < 0)
		return -errno;
	int r = msgfile_place(tmp_path, final_path);
	return r < 0 ? r : fsync_parent_dir(final_path);
}

int msgfile_write_atomic(const char *tmp_dir, const char *final_path,
			 const uint8_t key[CRYPTO_KEY_LEN], const struct msgfile_wrap *wrap,
			 const struct msgfile_writer_opts *opts, const void *data, size_t len)
{
	struct msgfile_writer *w = NULL;
	char *tmp_path = NULL;
	int fd = -1, r;

	r = msgfile_tmp_create(tmp_dir, &tmp_path, &fd);
	if (r < 0)
		return r;
	r = msgfile_writer_open(fd, key, wrap, opts, &w);
	if (r == 0)
		r = msgfile_writer_write(w, data, len);
	if (r == 0)
		r = msgfile_writer_finish(w);
	msgfile_writer_free(&w);
	if (r == 0)
		r = msgfile_commit(fd, tmp_path, final_path);
	/* After a failed commit the rename may or may not have happened;
	 * unlinking the temporary name is right in both cases. */
	if (r < 0)
		unlink(tmp_path);
	close(fd);
	free(tmp_path);
	return r;
}
