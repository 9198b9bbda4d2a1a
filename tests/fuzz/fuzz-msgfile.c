/* libFuzzer target: the message file parsers (storage/msgfile*.c).
 *
 * The first input byte picks what the rest feeds:
 *   0  the header parser (fixed part, then the variable part)
 *   1  the index parser (2 bytes chunk count, 1 byte shift, the index)
 *   2  a whole file read with a fixed key: header, footer and tag checks
 *   3  authentic chunks of arbitrary content, crafted with the key, so the
 *      bounds on decoded lengths (inflate, zip bombs) are reached past GCM:
 *      records of u8 mode, u8 last, u16 plain length, u16 body length, body
 *   4  a round trip: the rest is a body, written then read back, and must
 *      come back equal (a differential check of writer and reader)
 * Nothing may crash, leak or read out of bounds, and no file that is not
 * exactly what the writer made may be read back without an error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "storage/msgfile-private.h"

static const uint8_t fuzz_key[CRYPTO_KEY_LEN] = { 42 };
static const struct msgfile_wrap fuzz_wrap = { MSGFILE_WRAP_SYMMETRIC, "fuzz",
					       (const uint8_t *)"blob", 4 };

static int fuzz_memfd(const uint8_t *p, size_t len)
{
	int fd = memfd_create("fuzz-msgfile", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (len && write(fd, p, len) != (ssize_t)len)
		abort();
	return fd;
}

/* Reads the whole body of fd; returns the body (caller frees) or NULL. */
static uint8_t *read_body(int fd, size_t *len_r)
{
	struct msgfile_reader *r;
	uint8_t *out = NULL;

	if (msgfile_reader_open(fd, &r) < 0)
		return NULL;
	(void)msgfile_reader_wrap(r)->key_name[0];
	if (msgfile_reader_set_key(r, fuzz_key) == 0) {
		size_t size = (size_t)msgfile_reader_size(r), got = 0;
		ssize_t n = 0;
		out = malloc(size + 1);
		while (got < size && (n = msgfile_reader_read(r, out + got, 7000)) > 0)
			got += (size_t)n;
		if (n < 0 || got != size) {
			free(out);
			out = NULL;
		}
		*len_r = size;
	}
	msgfile_reader_free(&r);
	return out;
}

static void fuzz_header(const uint8_t *p, size_t len)
{
	struct msgfile_header h;
	const uint8_t *blob;

	if (len < MSGFILE_HDR_FIXED_LEN)
		return;
	if (msgfile__header_parse_fixed(p, MSGFILE_HDR_FIXED_LEN, &h) == 0 &&
	    msgfile__header_parse_var(p + MSGFILE_HDR_FIXED_LEN, len - MSGFILE_HDR_FIXED_LEN,
				      &h, &blob) == 0)
		(void)(blob[h.blob_len - 1] + strlen(h.name));
}

static void fuzz_index(const uint8_t *p, size_t len)
{
	if (len < 3)
		return;
	unsigned shift = MSGFILE_SHIFT_MIN + p[2] % (MSGFILE_SHIFT_MAX - MSGFILE_SHIFT_MIN + 1);
	uint32_t n = ((uint32_t)p[0] << 8 | p[1]) % (msgfile__max_chunks(shift) + 1);
	struct msgfile_chunk *chunks = malloc((size_t)n * sizeof(*chunks) + 1);
	uint64_t size, end;

	msgfile__index_parse(p + 3, len - 3, n, shift, 100, chunks, &size, &end);
	free(chunks);
}

static void fuzz_crafted(const uint8_t *p, size_t len)
{
	struct msgfile_writer_opts opts = { .shift = MSGFILE_SHIFT_MIN };
	struct msgfile_writer *w;
	size_t out_len;
	int fd = fuzz_memfd(NULL, 0);

	if (msgfile_writer_open(fd, fuzz_key, &fuzz_wrap, &opts, &w) < 0)
		abort();
	while (len >= 6) {
		size_t plain = ((size_t)p[2] << 8 | p[3]) % 4097;
		size_t body = ((size_t)p[4] << 8 | p[5]) % 4097;
		if (body > len - 6)
			body = len - 6;
		if (msgfile__writer_put_chunk(w, p[0] % 3, p + 6, body, plain, p[1] & 1) < 0)
			break;
		p += 6 + body;
		len -= 6 + body;
	}
	if (msgfile_writer_finish(w) == 0)
		free(read_body(fd, &out_len));
	msgfile_writer_free(&w);
	close(fd);
}

static void fuzz_round_trip(const uint8_t *p, size_t len)
{
	struct msgfile_writer_opts opts = { .shift = MSGFILE_SHIFT_MIN, .level = 1 };
	struct msgfile_writer *w;
	size_t out_len = 0;
	int fd = fuzz_memfd(NULL, 0);

	if (msgfile_writer_open(fd, fuzz_key, &fuzz_wrap, &opts, &w) < 0 ||
	    msgfile_writer_write(w, p, len) < 0 || msgfile_writer_finish(w) < 0)
		abort();
	msgfile_writer_free(&w);
	uint8_t *out = read_body(fd, &out_len);
	if (!out || out_len != len || memcmp(out, p, len) != 0)
		abort();
	free(out);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t out_len;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		fuzz_header(data + 1, size - 1);
		break;
	case 1:
		fuzz_index(data + 1, size - 1);
		break;
	case 2: {
		int fd = fuzz_memfd(data + 1, size - 1);
		free(read_body(fd, &out_len));
		close(fd);
		break;
	}
	case 3:
		fuzz_crafted(data + 1, size - 1);
		break;
	default:
		fuzz_round_trip(data + 1, size - 1);
		break;
	}
	return 0;
}
