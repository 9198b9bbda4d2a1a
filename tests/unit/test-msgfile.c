/* Unit tests of storage/msgfile.c and msgfile-read.c: round trips, random
 * access, bounded memory, and that every kind of damage is an error. */
#include "tests/unit/test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util/xmalloc.h"
#include "storage/msgfile-private.h"

#define SEG ((size_t)1 << MSGFILE_SHIFT_DEFAULT)
#define MIB ((size_t)1 << 20)

static const uint8_t key[CRYPTO_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
					     15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
					     27, 28, 29, 30, 31, 32 };
static const uint8_t blob[] = "an opaque wrapped key";
static const struct msgfile_wrap wrap = { MSGFILE_WRAP_SYMMETRIC, "internal-2026-11", blob,
					  sizeof(blob) };

/* --- Data and files ----------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64: reproducible data, no dependence on libc's rand. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

enum kind { RANDOM, TEXT, MIXED, NULS };

static void fill(uint8_t *p, size_t len, enum kind kind, uint64_t seed)
{
	static const char *words[] = { "Subject: ", "hello ", "world ", "mail\r\n", "the ",
				       "sealmail ", "quoted-printable=20", "\r\n\r\n" };
	rng_state = seed * 2654435761u + 1;
	for (size_t i = 0; i < len;) {
		/* MIXED alternates 40 KiB of text with 72 KiB of noise, so
		 * segments of both modes and of both in one occur. */
		bool noise = kind == RANDOM || (kind == MIXED && (i / 1024) % 112 >= 40);
		if (kind == NULS) {
			p[i++] = rnd() % 16 == 0 ? (uint8_t)rnd() : 0;
		} else if (noise) {
			p[i++] = (uint8_t)rnd();
		} else {
			const char *w = words[rnd() % 8];
			for (; *w && i < len; w++)
				p[i++] = (uint8_t)*w;
		}
	}
}

static uint8_t *make(size_t len, enum kind kind, uint64_t seed)
{
	uint8_t *p = xmalloc(len + 1);
	fill(p, len, kind, seed);
	return p;
}

static int memfd(void)
{
	int fd = memfd_create("msgfile-test", MFD_CLOEXEC);
	CHECK(fd >= 0);
	return fd;
}

/* Writes data as a message file in pieces of random sizes; returns the fd. */
static int write_msg(const uint8_t *data, size_t len, const struct msgfile_writer_opts *opts)
{
	struct msgfile_writer *w;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, opts, &w), ==, 0);
	rng_state = len + 7;
	for (size_t off = 0; off < len;) {
		size_t n = 1 + rnd() % (3 * SEG);
		if (n > len - off)
			n = len - off;
		CHECK_INT(msgfile_writer_write(w, data + off, n), ==, 0);
		off += n;
	}
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	CHECK(w == NULL);
	return fd;
}

static size_t file_size(int fd)
{
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	return (size_t)st.st_size;
}

static uint8_t *file_bytes(int fd, size_t *len_r)
{
	*len_r = file_size(fd);
	uint8_t *p = xmalloc(*len_r + 1);
	CHECK_INT(pread(fd, p, *len_r, 0), ==, *len_r);
	return p;
}

static int fd_of(const uint8_t *p, size_t len)
{
	int fd = memfd();
	CHECK_INT(write(fd, p, len), ==, len);
	return fd;
}

/* Opens, keys and reads the whole body in odd-sized streaming reads.
 * Returns 0 with the body in *out_r (caller frees), or the first error. */
static int read_all(int fd, const uint8_t *k, uint8_t **out_r, size_t *len_r)
{
	struct msgfile_reader *r;
	int rc = msgfile_reader_open(fd, &r);

	*out_r = NULL;
	if (rc < 0)
		return rc;
	rc = msgfile_reader_set_key(r, k);
	if (rc == 0) {
		size_t size = msgfile_reader_size(r), got = 0;
		uint8_t *out = xmalloc(size + 1);
		ssize_t n;
		while ((n = msgfile_reader_read(r, out + got, 1 + (got * 7919) % 100000)) > 0)
			got += (size_t)n;
		if (n < 0) {
			rc = (int)n;
			free(out);
		} else {
			CHECK_INT(got, ==, size);
			*out_r = out;
			*len_r = size;
		}
	}
	msgfile_reader_free(&r);
	CHECK(r == NULL);
	return rc;
}

static void check_round_trip(size_t len, enum kind kind, const struct msgfile_writer_opts *o)
{
	uint8_t *data = make(len, kind, len), *out;
	size_t out_len;
	int fd = write_msg(data, len, o);

	CHECK_INT(read_all(fd, key, &out, &out_len), ==, 0);
	CHECK_INT(out_len, ==, len);
	CHECK_MEM(out, data, len);
	close(fd);
	free(out);
	free(data);
}

/* --- Round trips -------------------------------------------------------- */

TEST(round_trip_edge_sizes)
{
	const size_t sizes[] = { 0, 1, 2, SEG - 1, SEG, SEG + 1, 2 * SEG, 3 * SEG + 7 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		for (int k = RANDOM; k <= NULS; k++)
			check_round_trip(sizes[i], (enum kind)k, NULL);
}

TEST(round_trip_other_segment_sizes_and_levels)
{
	struct msgfile_writer_opts small = { .shift = MSGFILE_SHIFT_MIN, .level = 1 };
	struct msgfile_writer_opts big = { .shift = MSGFILE_SHIFT_MAX, .level = 9 };

	check_round_trip(0, TEXT, &small);
	check_round_trip(4096, MIXED, &small);
	check_round_trip(300001, MIXED, &small);
	check_round_trip((1 << 20) + 1, MIXED, &big);
	check_round_trip(3 << 20, TEXT, &big);
}

TEST(round_trip_5mib_random)
{
	check_round_trip(5 * MIB, RANDOM, NULL);
}

TEST(round_trip_20mib_mixed)
{
	check_round_trip(20 * MIB, MIXED, NULL);
}

TEST(round_trip_binary_with_nuls)
{
	check_round_trip(SEG * 2 + 3, NULS, NULL);
	uint8_t zeros[1000] = { 0 }, *out;
	size_t n;
	int fd = write_msg(zeros, sizeof(zeros), NULL);
	CHECK_INT(read_all(fd, key, &out, &n), ==, 0);
	CHECK_INT(n, ==, sizeof(zeros));
	CHECK_MEM(out, zeros, n);
	free(out);
	close(fd);
}

TEST(wrap_comes_back_before_the_key)
{
	uint8_t data[10] = "0123456789";
	struct msgfile_reader *r;
	int fd = write_msg(data, sizeof(data), NULL);

	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	const struct msgfile_wrap *got = msgfile_reader_wrap(r);
	CHECK_INT(got->kind, ==, MSGFILE_WRAP_SYMMETRIC);
	CHECK_STR(got->key_name, "internal-2026-11");
	CHECK_INT(got->blob_len, ==, sizeof(blob));
	CHECK_MEM(got->blob, blob, sizeof(blob));
	CHECK_INT(msgfile_read_range(r, 0, data, 1), ==, -EINVAL);	/* not keyed yet */
	CHECK_INT(msgfile_reader_size(r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	CHECK_INT(msgfile_reader_size(r), ==, 10);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, -EINVAL);
	msgfile_reader_free(&r);
	msgfile_reader_free(&r);
	close(fd);
}

/* The intended use: a content key wrapped under an internal key. */
TEST(symmetric_wrap_end_to_end)
{
	uint8_t master[32], kek[32], ck[32], sealed[CRYPTO_WRAPPED_KEY_LEN], back[32];
	struct msgfile_writer *w;
	struct msgfile_reader *r;
	int fd = memfd();

	crypto_random(master, sizeof(master));
	crypto_random(ck, sizeof(ck));
	CHECK_INT(crypto_derive_internal_key(master, "internal-2026-11", kek), ==, 0);
	CHECK_INT(crypto_wrap_key(kek, "message key", ck, sealed), ==, 0);
	struct msgfile_wrap wr = { MSGFILE_WRAP_SYMMETRIC, "internal-2026-11", sealed,
				   sizeof(sealed) };
	CHECK_INT(msgfile_writer_open(fd, ck, &wr, NULL, &w), ==, 0);
	CHECK_INT(msgfile_writer_write(w, "hello", 5), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);

	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	const struct msgfile_wrap *got = msgfile_reader_wrap(r);
	CHECK_INT(crypto_derive_internal_key(master, got->key_name, kek), ==, 0);
	CHECK_INT(crypto_unwrap_key(kek, "message key", got->blob, got->blob_len, back), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, back), ==, 0);
	char buf[8];
	CHECK_INT(msgfile_read_range(r, 0, buf, sizeof(buf)), ==, 5);
	CHECK_MEM(buf, "hello", 5);
	msgfile_reader_free(&r);
	close(fd);
}

/* --- Random access and memory ------------------------------------------- */

static void check_range(struct msgfile_reader *r, const uint8_t *data, size_t size,
			uint64_t off, size_t len, uint8_t *buf)
{
	ssize_t n = msgfile_read_range(r, off, buf, len);
	size_t want = off >= size ? 0 : (len < size - off ? len : size - off);
	CHECK_INT(n, ==, want);
	if (want)
		CHECK_MEM(buf, data + off, want);
}

TEST(random_access_matches_original)
{
	const size_t size = 20 * MIB + 12345;
	uint8_t *data = make(size, MIXED, 99), *buf = xmalloc(4 * SEG);
	struct msgfile_reader *r;
	int fd = write_msg(data, size, NULL);

	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	CHECK_INT(msgfile_reader_size(r), ==, size);
	/* Around every 16th segment border, and at the end. */
	for (size_t b = 0; b <= size; b += 16 * SEG)
		for (size_t d = 0; d < 4; d++)
			for (size_t len = 0; len < 4; len++)
				if (b + d >= 2)
					check_range(r, data, size, b + d - 2, len, buf);
	check_range(r, data, size, size - 1, 10, buf);
	check_range(r, data, size, size, 10, buf);
	check_range(r, data, size, size + 5, 10, buf);
	check_range(r, data, size, 0, 4 * SEG, buf);
	/* Random pairs, short and long, across several segments too. */
	rng_state = 4242;
	for (int i = 0; i < 3000; i++) {
		uint64_t off = rnd() % (size + 10);
		size_t len = i % 3 == 0 ? rnd() % (4 * SEG) : rnd() % 300;
		check_range(r, data, size, off, len, buf);
	}
	msgfile_reader_free(&r);
	free(buf);
	free(data);
	close(fd);
}

static void mem_of(size_t size, size_t *wpeak, size_t *rpeak)
{
	uint8_t *data = make(size, MIXED, 5), *buf = xmalloc(SEG);
	struct msgfile_writer *w;
	struct msgfile_reader *r;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	for (size_t off = 0; off < size; off += 1000) {
		size_t n = size - off < 1000 ? size - off : 1000;
		CHECK_INT(msgfile_writer_write(w, data + off, n), ==, 0);
	}
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_mem(w, wpeak);
	msgfile_writer_free(&w);

	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	for (ssize_t n; (n = msgfile_reader_read(r, buf, 1000)) > 0;)
		;
	rng_state = 1;
	for (int i = 0; i < 200; i++)
		CHECK(msgfile_read_range(r, rnd() % size, buf, SEG) > 0);
	msgfile_reader_mem(r, rpeak);
	msgfile_reader_free(&r);
	free(buf);
	free(data);
	close(fd);
}

TEST(memory_is_bounded)
{
	size_t w1, r1, w20, r20;

	mem_of(1 * MIB, &w1, &r1);
	mem_of(20 * MIB, &w20, &r20);
	/* The writer allocates its index for the largest message up front:
	 * its footprint does not depend on the size at all. Two segment
	 * buffers plus zlib's deflate state (about 256 KiB at level 6). */
	CHECK_INT(w20, ==, w1);
	CHECK_INT(w20, <=, 2 * SEG + 300 * 1024);
	/* The reader: two segment buffers, inflate's 32 KiB window and state,
	 * and 24 bytes of index per segment. */
	CHECK_INT(r20, <=, 2 * SEG + 48 * 1024 + (20 * MIB / SEG) * 24 + 2048);
	CHECK_INT(r20 - r1, <=, (19 * MIB / SEG) * 24);
}

/* Two threads reading one file through two readers at once. */
static const uint8_t *thread_data;
static int thread_fd;

static void *reader_thread(void *arg)
{
	struct msgfile_reader *r;
	uint8_t buf[5000];
	size_t size = 3 * MIB;

	if (msgfile_reader_open(thread_fd, &r) != 0 || msgfile_reader_set_key(r, key) != 0)
		return (void *)1;
	uint64_t s = (uint64_t)(uintptr_t)arg + 1;
	for (int i = 0; i < 2000; i++) {
		s = s * 6364136223846793005u + 1442695040888963407u;
		uint64_t off = (s >> 16) % size;
		ssize_t n = msgfile_read_range(r, off, buf, sizeof(buf));
		if (n < 0 || memcmp(buf, thread_data + off, (size_t)n) != 0)
			return (void *)1;
	}
	msgfile_reader_free(&r);
	return NULL;
}

TEST(readers_in_threads)
{
	uint8_t *data = make(3 * MIB, MIXED, 3);
	pthread_t t[4];

	thread_data = data;
	thread_fd = write_msg(data, 3 * MIB, NULL);
	for (uintptr_t i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, reader_thread, (void *)i) == 0);
	for (int i = 0; i < 4; i++) {
		void *res;
		CHECK(pthread_join(t[i], &res) == 0);
		CHECK(res == NULL);
	}
	free(data);
}

/* --- Damage is always an error ------------------------------------------ */

static void expect_broken(const uint8_t *p, size_t len, const char *what, size_t where)
{
	uint8_t *out;
	size_t n;
	int fd = fd_of(p, len);
	int rc = read_all(fd, key, &out, &n);

	close(fd);
	if (rc != -EBADMSG)
		test_fail(__FILE__, __LINE__, "%s at %zu: got %d, want -EBADMSG", what, where, rc);
}

/* A small file with 4 KiB segments: text (deflated), noise (stored), half
 * and half, and a short last one. */
static uint8_t *small_file(size_t *len_r, uint8_t **data_r, size_t *data_len_r)
{
	struct msgfile_writer_opts o = { .shift = 12 };
	uint8_t *d = xmalloc(13288);

	fill(d, 4096, TEXT, 1);
	fill(d + 4096, 4096, RANDOM, 2);
	fill(d + 8192, 2048, TEXT, 3);
	fill(d + 10240, 2048, RANDOM, 4);
	fill(d + 12288, 1000, TEXT, 5);
	int fd = write_msg(d, 13288, &o);
	uint8_t *f = file_bytes(fd, len_r);
	close(fd);
	if (data_r) {
		*data_r = d;
		*data_len_r = 13288;
	} else {
		free(d);
	}
	return f;
}

TEST(every_byte_flip_is_detected)
{
	size_t len;
	uint8_t *f = small_file(&len, NULL, NULL);
	static const uint8_t masks[] = { 0x01, 0x80, 0xff };

	for (size_t i = 0; i < len; i++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			f[i] ^= masks[m];
			expect_broken(f, len, "flip", i);
			f[i] ^= masks[m];
		}
	}
	free(f);
}

TEST(every_byte_flip_of_an_empty_body_is_detected)
{
	int fd = write_msg(NULL, 0, NULL);
	size_t len;
	uint8_t *f = file_bytes(fd, &len);

	close(fd);
	for (size_t i = 0; i < len; i++) {
		f[i] ^= 0x01;
		expect_broken(f, len, "flip", i);
		f[i] ^= 0x01;
	}
	free(f);
}

TEST(every_truncation_is_detected)
{
	size_t len;
	uint8_t *f = small_file(&len, NULL, NULL);

	for (size_t n = 0; n < len; n++)
		expect_broken(f, n, "truncation", n);
	free(f);
}

TEST(truncation_at_chunk_boundaries_is_detected)
{
	uint8_t *d = make(5 * SEG + 100, MIXED, 8);
	size_t bounds[8], nb = 0, len;
	struct msgfile_writer *w;
	int fd = memfd();

	/* A chunk goes out when the byte after its segment arrives, so the
	 * file size after each such write is a chunk boundary. */
	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	bounds[nb++] = file_size(fd);
	CHECK_INT(msgfile_writer_write(w, d, SEG), ==, 0);
	for (size_t s = 1; s <= 5; s++) {
		size_t n = s < 5 ? SEG : 100;
		CHECK_INT(msgfile_writer_write(w, d + s * SEG, n), ==, 0);
		bounds[nb++] = file_size(fd);
	}
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	uint8_t *f = file_bytes(fd, &len);
	bounds[nb++] = len - MSGFILE_TRAILER_LEN(6);
	for (size_t i = 0; i < nb; i++) {
		expect_broken(f, bounds[i], "boundary", bounds[i]);
		expect_broken(f, bounds[i] + 1, "boundary+1", bounds[i]);
		expect_broken(f, bounds[i] - 1, "boundary-1", bounds[i]);
	}
	expect_broken(f, len - 1, "end-1", len);
	expect_broken(f, len / 2, "middle", len / 2);
	free(f);
	free(d);
	close(fd);
}

/* Random data makes every chunk stored and SEG + 16 bytes long, so chunks
 * can be swapped without changing any length. */
static uint8_t *equal_chunks_file(size_t *len_r, size_t *first_r)
{
	uint8_t *d = make(4 * SEG, RANDOM, 11);
	int fd = write_msg(d, 4 * SEG, NULL);
	uint8_t *f = file_bytes(fd, len_r);

	*first_r = 48 + strlen(wrap.key_name) + wrap.blob_len;
	CHECK_INT(*len_r, ==, *first_r + 4 * (SEG + 16) + MSGFILE_TRAILER_LEN(4));
	close(fd);
	free(d);
	return f;
}

TEST(swapped_or_duplicated_chunks_are_detected)
{
	size_t len, first, cl = SEG + 16;
	uint8_t *f = equal_chunks_file(&len, &first), *tmp = xmalloc(cl);
	uint8_t *c1 = f + first + cl, *c2 = f + first + 2 * cl, *c3 = f + first + 3 * cl;

	memcpy(tmp, c1, cl);
	memcpy(c1, c2, cl);
	memcpy(c2, tmp, cl);
	expect_broken(f, len, "swap 1 2", 1);
	memcpy(c2, c1, cl);
	memcpy(c1, tmp, cl);		/* original again */
	memcpy(tmp, c2, cl);
	memcpy(c2, c1, cl);
	expect_broken(f, len, "duplicate 1 over 2", 2);
	memcpy(c2, tmp, cl);
	memcpy(tmp, c3, cl);
	memcpy(c3, c2, cl);		/* the last chunk replaced by chunk 2 */
	expect_broken(f, len, "duplicate 2 over 3", 3);
	free(tmp);
	free(f);
}

TEST(pieces_of_another_file_are_detected)
{
	size_t len_a, len_b, first;
	uint8_t *a = equal_chunks_file(&len_a, &first);
	uint8_t *b = equal_chunks_file(&len_b, &first);	/* same data, key, layout */
	size_t cl = SEG + 16, tl = MSGFILE_TRAILER_LEN(4);
	uint8_t *m = xmalloc(len_a);

	CHECK_INT(len_a, ==, len_b);
	memcpy(m, a, len_a);
	memcpy(m + first + cl, b + first + cl, cl);
	expect_broken(m, len_a, "chunk from b", 1);
	memcpy(m, a, len_a);
	memcpy(m + len_a - tl, b + len_b - tl, tl);
	expect_broken(m, len_a, "trailer from b", 0);
	memcpy(m, b, first);
	expect_broken(m, len_a, "header from b", 0);
	free(m);
	free(a);
	free(b);
}

TEST(extension_and_insertion_are_detected)
{
	size_t len;
	uint8_t *f = small_file(&len, NULL, NULL);
	uint8_t *g = xmalloc(2 * len + 1000);
	size_t tl = MSGFILE_TRAILER_LEN(4);

	memcpy(g, f, len);
	g[len] = 0;
	expect_broken(g, len + 1, "append 1", len);
	memcpy(g + len, f + len - 12, 12);	/* the footer again */
	expect_broken(g, len + 12, "append footer", len);
	memcpy(g + len, f + len - tl, tl);	/* the whole trailer again */
	expect_broken(g, len + tl, "append trailer", len);
	fill(g + len, 1000, RANDOM, 6);
	expect_broken(g, len + 1000, "append garbage", len);
	memcpy(g + len, f, len);		/* the file twice */
	expect_broken(g, 2 * len, "append file", len);
	for (size_t at = 60; at < len; at += 997) {
		memcpy(g, f, at);
		g[at] = 'x';
		memcpy(g + at + 1, f + at, len - at);
		expect_broken(g, len + 1, "insert", at);
		memcpy(g + at, f + at + 1, len - at - 1);
		expect_broken(g, len - 1, "remove", at);
	}
	free(g);
	free(f);
}

TEST(wrong_key_is_refused_and_right_one_still_works)
{
	size_t len;
	uint8_t *f = small_file(&len, NULL, NULL), bad[32];
	struct msgfile_reader *r;
	int fd = fd_of(f, len);

	memcpy(bad, key, sizeof(bad));
	bad[0] ^= 1;
	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, bad), ==, -EBADMSG);
	CHECK_INT(msgfile_reader_size(r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	CHECK_INT(msgfile_reader_size(r), ==, 13288);
	msgfile_reader_free(&r);
	close(fd);
	free(f);
}

TEST(non_message_files_are_refused)
{
	struct msgfile_reader *r = NULL;
	uint8_t junk[200];
	int fd = memfd();

	CHECK_INT(msgfile_reader_open(fd, &r), ==, -EBADMSG);
	CHECK(r == NULL);
	close(fd);
	fill(junk, sizeof(junk), RANDOM, 1);
	fd = fd_of(junk, sizeof(junk));
	CHECK_INT(msgfile_reader_open(fd, &r), ==, -EBADMSG);
	close(fd);
	memcpy(junk, MSGFILE_MAGIC, 8);	/* the magic alone is not enough */
	fd = fd_of(junk, sizeof(junk));
	CHECK_INT(msgfile_reader_open(fd, &r), ==, -EBADMSG);
	close(fd);
}

/* STYLE.md asks parsers to be fed a byte at a time; the header parser
 * takes whole buffers, so feed it every prefix instead. */
TEST(header_parser_refuses_every_prefix)
{
	size_t len;
	uint8_t *f = small_file(&len, NULL, NULL);
	struct msgfile_header h;
	const uint8_t *b;
	size_t var = strlen(wrap.key_name) + wrap.blob_len + MSGFILE_TAG_LEN;

	for (size_t n = 0; n < MSGFILE_HDR_FIXED_LEN; n++)
		CHECK_INT(msgfile__header_parse_fixed(f, n, &h), ==, -EBADMSG);
	CHECK_INT(msgfile__header_parse_fixed(f, MSGFILE_HDR_FIXED_LEN + 1, &h), ==, -EBADMSG);
	CHECK_INT(msgfile__header_parse_fixed(f, MSGFILE_HDR_FIXED_LEN, &h), ==, 0);
	for (size_t n = 0; n < var; n++)
		CHECK_INT(msgfile__header_parse_var(f + 32, n, &h, &b), ==, -EBADMSG);
	CHECK_INT(msgfile__header_parse_var(f + 32, var + 1, &h, &b), ==, -EBADMSG);
	CHECK_INT(msgfile__header_parse_var(f + 32, var, &h, &b), ==, 0);
	CHECK_STR(h.name, wrap.key_name);
	CHECK_INT(h.shift, ==, 12);
	free(f);
}

/* --- Authentic but wrong chunks, crafted with the right key ------------- */

static size_t raw_deflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_size)
{
	z_stream z = { 0 };

	CHECK(deflateInit2(&z, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)in_len;
	z.next_out = out;
	z.avail_out = (uInt)out_size;
	CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
	size_t n = z.total_out;
	deflateEnd(&z);
	return n;
}

struct craft {
	uint8_t mode;
	const uint8_t *body;
	size_t body_len;
	size_t plain_len;
	bool last;
};

static int crafted_file(const struct craft *c, size_t n)
{
	struct msgfile_writer *w;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	for (size_t i = 0; i < n; i++)
		CHECK_INT(msgfile__writer_put_chunk(w, c[i].mode, c[i].body, c[i].body_len,
						    c[i].plain_len, c[i].last), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	return fd;
}

/* set_key must give want_key; if it succeeds, reading must give -EBADMSG. */
static void expect_crafted(const struct craft *c, size_t n, int want_key)
{
	struct msgfile_reader *r;
	uint8_t *buf = xmalloc(SEG);
	int fd = crafted_file(c, n);

	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, want_key);
	if (want_key == 0) {
		ssize_t got = 0;
		for (uint64_t off = 0; off < msgfile_reader_size(r) && got >= 0; off += SEG)
			got = msgfile_read_range(r, off, buf, SEG);
		CHECK_INT(got, ==, -EBADMSG);
	}
	msgfile_reader_free(&r);
	free(buf);
	close(fd);
}

TEST(crafted_chunks_sanity)
{
	/* The crafting path itself makes readable files when told the truth. */
	uint8_t plain[300], body[400], out[300];
	struct msgfile_reader *r;

	fill(plain, sizeof(plain), TEXT, 1);
	size_t bl = raw_deflate(plain, sizeof(plain), body, sizeof(body));
	struct craft c = { MSGFILE_MODE_DEFLATE, body, bl, sizeof(plain), true };
	int fd = crafted_file(&c, 1);
	CHECK_INT(msgfile_reader_open(fd, &r), ==, 0);
	CHECK_INT(msgfile_reader_set_key(r, key), ==, 0);
	CHECK_INT(msgfile_read_range(r, 0, out, sizeof(out)), ==, sizeof(out));
	CHECK_MEM(out, plain, sizeof(out));
	msgfile_reader_free(&r);
	close(fd);
}

TEST(zip_bomb_segment_is_refused)
{
	size_t big = 16 * MIB;
	uint8_t *zeros = xcalloc(1, big), *body = xmalloc(SEG);
	size_t bl = raw_deflate(zeros, big, body, SEG);

	/* 16 MiB of zeros in about 16 KiB, declared as one 64 KiB segment. */
	CHECK_INT(bl, <, SEG);
	struct craft c = { MSGFILE_MODE_DEFLATE, body, bl, SEG, true };
	expect_crafted(&c, 1, 0);
	/* A bomb in the middle of a file, too. */
	uint8_t plain[SEG / 2];
	fill(plain, sizeof(plain), RANDOM, 2);
	struct craft c2[2] = { { MSGFILE_MODE_DEFLATE, body, bl, SEG, false },
			       { MSGFILE_MODE_STORED, plain, sizeof(plain), sizeof(plain),
				 true } };
	expect_crafted(c2, 2, 0);
	free(zeros);
	free(body);
}

TEST(inexact_deflate_bodies_are_refused)
{
	uint8_t plain[400], body[600], junk[50];
	size_t bl;

	fill(plain, sizeof(plain), TEXT, 3);
	bl = raw_deflate(plain, 200, body, sizeof(body));
	struct craft short_out = { MSGFILE_MODE_DEFLATE, body, bl, 400, true };
	expect_crafted(&short_out, 1, 0);

	bl = raw_deflate(plain, 300, body, sizeof(body));
	memcpy(body + bl, "xyz", 3);	/* bytes after the end of the stream */
	struct craft trailing = { MSGFILE_MODE_DEFLATE, body, bl + 3, 300, true };
	expect_crafted(&trailing, 1, 0);

	struct craft cut = { MSGFILE_MODE_DEFLATE, body, bl / 2, 300, true };
	expect_crafted(&cut, 1, 0);

	fill(junk, sizeof(junk), RANDOM, 4);
	struct craft noise = { MSGFILE_MODE_DEFLATE, junk, sizeof(junk), 300, true };
	expect_crafted(&noise, 1, 0);
}

TEST(inconsistent_index_is_refused)
{
	uint8_t plain[SEG];

	fill(plain, sizeof(plain), RANDOM, 5);
	struct craft bad_mode = { 7, plain, 100, 100, true };
	expect_crafted(&bad_mode, 1, -EBADMSG);
	struct craft stored_len = { MSGFILE_MODE_STORED, plain, 100, 101, true };
	expect_crafted(&stored_len, 1, -EBADMSG);
	struct craft not_smaller = { MSGFILE_MODE_DEFLATE, plain, 100, 100, true };
	expect_crafted(&not_smaller, 1, -EBADMSG);
	struct craft empty = { MSGFILE_MODE_STORED, plain, 0, 0, true };
	expect_crafted(&empty, 1, -EBADMSG);
	/* A short segment that is not the last. */
	struct craft short_first[2] = { { MSGFILE_MODE_STORED, plain, 100, 100, false },
					{ MSGFILE_MODE_STORED, plain, 100, 100, true } };
	expect_crafted(short_first, 2, -EBADMSG);
}

TEST(wrong_last_flags_are_refused)
{
	uint8_t plain[SEG];

	fill(plain, sizeof(plain), RANDOM, 6);
	struct craft no_last[2] = { { MSGFILE_MODE_STORED, plain, SEG, SEG, false },
				    { MSGFILE_MODE_STORED, plain, 10, 10, false } };
	expect_crafted(no_last, 2, 0);
	struct craft early_last[2] = { { MSGFILE_MODE_STORED, plain, SEG, SEG, true },
				       { MSGFILE_MODE_STORED, plain, 10, 10, true } };
	expect_crafted(early_last, 2, 0);
}

/* --- API contract ------------------------------------------------------- */

TEST(writer_refuses_bad_wraps_and_options)
{
	uint8_t b[MSGFILE_WRAP_BLOB_MAX + 1] = { 0 };
	char long_name[MSGFILE_KEY_NAME_MAX + 2];
	struct msgfile_writer *w = (void *)1;
	int fd = memfd();

	memset(long_name, 'k', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = 0;
	const struct msgfile_wrap bad[] = {
		{ 0, "k", b, 1 },		{ 1, "", b, 1 },
		{ 1, "with space", b, 1 },	{ 1, "tab\t", b, 1 },
		{ 1, long_name, b, 1 },		{ 1, "k", b, 0 },
		{ 1, "k", b, sizeof(b) },	{ 1, "k", NULL, 1 },
		{ 1, NULL, b, 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(msgfile_writer_open(fd, key, &bad[i], NULL, &w), ==, -EINVAL);
		CHECK(w == NULL);
	}
	const struct msgfile_writer_opts opts[] = { { .level = 10 }, { .level = -2 },
						    { .shift = 11 }, { .shift = 21 } };
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		CHECK_INT(msgfile_writer_open(fd, key, &wrap, &opts[i], &w), ==, -EINVAL);
	CHECK_INT(file_size(fd), ==, 0);
	long_name[MSGFILE_KEY_NAME_MAX] = 0;	/* 64 bytes is fine */
	struct msgfile_wrap edge = { 255, long_name, b, MSGFILE_WRAP_BLOB_MAX };
	CHECK_INT(msgfile_writer_open(fd, key, &edge, NULL, &w), ==, 0);
	msgfile_writer_free(&w);
	close(fd);
}

TEST(writer_state_errors)
{
	struct msgfile_writer *w;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	CHECK_INT(msgfile_writer_write(w, "x", 1), ==, -EINVAL);
	CHECK_INT(msgfile_writer_finish(w), ==, -EINVAL);
	msgfile_writer_free(&w);
	close(fd);

	/* A read-only fd: the header write fails with the system's error. */
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, -EBADF);
	close(fd);
}

TEST(unfinished_file_is_refused)
{
	uint8_t *d = make(3 * SEG, TEXT, 1), *out;
	struct msgfile_writer *w;
	size_t n;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	CHECK_INT(msgfile_writer_write(w, d, 3 * SEG), ==, 0);
	msgfile_writer_free(&w);
	CHECK_INT(read_all(fd, key, &out, &n), ==, -EBADMSG);
	close(fd);
	free(d);
}

TEST(size_limit_is_efbig)
{
	uint8_t *d = xcalloc(1, MIB), *out;
	struct msgfile_writer *w;
	size_t n;
	int fd = memfd();

	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	for (int i = 0; i < 64; i++)
		CHECK_INT(msgfile_writer_write(w, d, MIB), ==, 0);
	CHECK_INT(msgfile_writer_write(w, d, 1), ==, -EFBIG);
	CHECK_INT(msgfile_writer_write(w, d, 0), ==, -EFBIG);	/* sticky */
	CHECK_INT(msgfile_writer_finish(w), ==, -EFBIG);
	msgfile_writer_free(&w);
	close(fd);

	/* Exactly the limit is fine. */
	fd = memfd();
	CHECK_INT(msgfile_writer_open(fd, key, &wrap, NULL, &w), ==, 0);
	for (int i = 0; i < 64; i++)
		CHECK_INT(msgfile_writer_write(w, d, MIB), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	CHECK_INT(read_all(fd, key, &out, &n), ==, 0);
	CHECK_INT(n, ==, MSGFILE_MAX_SIZE);
	free(out);
	free(d);
	close(fd);
}

TEST(writer_never_seeks)
{
	uint8_t *d = make(2 * SEG + 5, MIXED, 4), *out, buf[4096];
	struct msgfile_writer *w;
	int p[2], fd = memfd();
	size_t n;
	ssize_t got;

	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0);
	CHECK(fcntl(p[0], F_SETPIPE_SZ, 1 << 20) > 0);
	CHECK_INT(msgfile_writer_open(p[1], key, &wrap, NULL, &w), ==, 0);
	CHECK_INT(msgfile_writer_write(w, d, 2 * SEG + 5), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	close(p[1]);
	while ((got = read(p[0], buf, sizeof(buf))) > 0)
		CHECK_INT(write(fd, buf, (size_t)got), ==, got);
	close(p[0]);
	CHECK_INT(read_all(fd, key, &out, &n), ==, 0);
	CHECK_INT(n, ==, 2 * SEG + 5);
	CHECK_MEM(out, d, n);
	free(out);
	free(d);
	close(fd);
}

/* --- Atomic placement --------------------------------------------------- */

static size_t dir_entries(const char *path)
{
	DIR *d = opendir(path);
	size_t n = 0;

	CHECK(d != NULL);
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

TEST(atomic_write_and_commit)
{
	char root[] = "/tmp/msgfile-test.XXXXXX";
	CHECK(mkdtemp(root) != NULL);
	char *tmp = xasprintf("%s/tmp", root), *msgs = xasprintf("%s/messages", root);
	char *final = xasprintf("%s/1.msg", msgs), *final2 = xasprintf("%s/2.msg", msgs);
	uint8_t *d = make(SEG + 3, MIXED, 9), *out;
	size_t n;

	CHECK(mkdir(tmp, 0700) == 0 && mkdir(msgs, 0700) == 0);
	CHECK_INT(msgfile_write_atomic(tmp, final, key, &wrap, NULL, d, SEG + 3), ==, 0);
	CHECK_INT(dir_entries(tmp), ==, 0);
	CHECK_INT(msgfile_write_atomic(tmp, final, key, &wrap, NULL, d, 10), ==, -EEXIST);
	CHECK_INT(dir_entries(tmp), ==, 0);
	int fd = open(final, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_INT(read_all(fd, key, &out, &n), ==, 0);
	CHECK_INT(n, ==, SEG + 3);
	CHECK_MEM(out, d, n);
	free(out);
	close(fd);
	struct stat st;
	CHECK(stat(final, &st) == 0);
	CHECK_INT(st.st_mode & 0777, ==, 0600);

	/* The streaming path: create, write with fsync, commit. */
	char *tpath;
	struct msgfile_writer_opts o = { .fsync = true };
	struct msgfile_writer *w;
	CHECK_INT(msgfile_tmp_create(tmp, &tpath, &fd), ==, 0);
	CHECK_INT(msgfile_writer_open(fd, key, &wrap, &o, &w), ==, 0);
	CHECK_INT(msgfile_writer_write(w, d, 100), ==, 0);
	CHECK_INT(msgfile_writer_finish(w), ==, 0);
	msgfile_writer_free(&w);
	CHECK_INT(msgfile_commit(fd, tpath, final), ==, -EEXIST);
	CHECK_INT(msgfile_commit(fd, tpath, final2), ==, 0);
	CHECK(access(tpath, F_OK) != 0);
	close(fd);
	CHECK_INT(dir_entries(msgs), ==, 2);

	char *nodir = xasprintf("%s/none", root);
	CHECK_INT(msgfile_tmp_create(nodir, &tpath, &fd), ==, -ENOENT);
	CHECK_INT(msgfile_write_atomic(nodir, final2, key, &wrap, NULL, d, 1), ==, -ENOENT);
	unlink(final);
	unlink(final2);
	rmdir(tmp);
	rmdir(msgs);
	CHECK(rmdir(root) == 0);
	free(tpath);
	free(nodir);
	free(final);
	free(final2);
	free(tmp);
	free(msgs);
	free(d);
}

TEST(index_parser_demands_exact_length)
{
	uint8_t idx[8 + 2 * 5 + 1], *p = idx;
	struct msgfile_chunk ch[2];
	uint64_t size, end;

	p = msgfile__put_uint(p, 4096 + 10, 8);
	p = msgfile__put_uint(p, MSGFILE_MODE_STORED, 1);
	p = msgfile__put_uint(p, 4096, 4);
	p = msgfile__put_uint(p, MSGFILE_MODE_DEFLATE, 1);
	p = msgfile__put_uint(p, 9, 4);
	*p = 0;
	CHECK_INT(msgfile__index_parse(idx, 18, 2, 12, 100, ch, &size, &end), ==, 0);
	CHECK_INT(size, ==, 4106);
	CHECK_INT(end, ==, 100 + 4096 + 16 + 9 + 16);
	CHECK_INT(ch[1].off, ==, 100 + 4096 + 16);
	CHECK_INT(ch[1].plain_len, ==, 10);
	CHECK_INT(msgfile__index_parse(idx, 19, 2, 12, 100, ch, &size, &end), ==, -EBADMSG);
	for (size_t n = 0; n < 18; n++)
		CHECK_INT(msgfile__index_parse(idx, n, 2, 12, 100, ch, &size, &end), ==, -EBADMSG);
	CHECK_INT(msgfile__index_parse(idx, 18, 3, 12, 100, ch, &size, &end), ==, -EBADMSG);
	CHECK_INT(msgfile__index_parse(idx, 18, 2, 13, 100, ch, &size, &end), ==, -EBADMSG);
}
