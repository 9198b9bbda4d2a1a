/* Tests of plaintext streams: the line reader, exact reads, timeouts, end of
 * stream, interrupts, backpressure and DEFLATE, over socketpairs inside one
 * process. The line reader and the inflater are fed whole and one byte at a
 * time. TLS has its own file, test-stream-tls.c. */
#include "tests/unit/stream-test.h"

#include <malloc.h>
#include <zlib.h>

/* --- Lines ---------------------------------------------------------------- */

static const char lines_input[] = "HELLO world\r\nbare\n\r\n\nlast one\r\n";

static void lines_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	expect_line(s, "HELLO world", true);
	expect_line(s, "bare", false);
	expect_line(s, "", true);
	expect_line(s, "", false);
	expect_line(s, "last one", true);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	/* Drained: no buffer left behind. */
	CHECK(s->rbuf == NULL);
	CHECK(s->wbuf == NULL);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void lines_writer(void *arg)
{
	struct duo *d = arg;
	size_t chunk = *(size_t *)d->extra;
	write_chunked(d->s[1], lines_input, sizeof(lines_input) - 1, chunk);
	CHECK(d->s[1]->wbuf == NULL);
	CHECK_INT(stream_shutdown(d->s[1]), ==, 0);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(lines_crlf_and_lf)
{
	size_t chunk = sizeof(lines_input);
	struct duo d = { .extra = &chunk };
	duo_run(&d, lines_reader, lines_writer);
}

TEST(lines_byte_at_a_time)
{
	size_t sizes[] = { 1, 2, 3, 7 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct duo d = { .extra = &sizes[i] };
		duo_run(&d, lines_reader, lines_writer);
	}
}

static void small_limit_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	stream_set_max_line(s, 8);
	expect_line(s, "1234567", false);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EMSGSIZE);
	expect_line(s, "ok", true);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EMSGSIZE);
	expect_line(s, "after", false);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void small_limit_writer(void *arg)
{
	struct duo *d = arg;
	static const char in[] = "1234567\n12345678\nok\r\n123456789012345678901234\nafter\n";
	write_chunked(d->s[1], in, sizeof(in) - 1, *(size_t *)d->extra);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(line_limit_small)
{
	size_t sizes[] = { 100, 1, 5 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct duo d = { .extra = &sizes[i] };
		duo_run(&d, small_limit_reader, small_limit_writer);
	}
}

/* --- Long lines ------------------------------------------------------------ */

#define LONG_LINE (70 * 1024)
#define MAX_OK_LINE (64 * 1024 - 2)

static void long_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EMSGSIZE);
	CHECK_INT(s->rcap, <=, 64 * 1024);
	expect_line(s, "next", true);
	/* The longest line that fits: 65534 bytes, CR, LF. */
	CHECK_INT(stream_read_line(s, &line, &len), ==, 0);
	CHECK_INT(len, ==, MAX_OK_LINE);
	CHECK_INT(line[0], ==, 'y');
	CHECK_INT(line[len - 1], ==, 'y');
	CHECK_INT(line[len], ==, '\0');
	CHECK_INT(s->rcap, <=, 64 * 1024);
	expect_line(s, "end", false);
	/* The buffer grown for the long line is gone once drained. */
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	CHECK(s->rbuf == NULL);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void long_writer(void *arg)
{
	struct duo *d = arg;
	size_t total = LONG_LINE + 8 + MAX_OK_LINE + 2 + 4;
	char *buf = malloc(total), *p = buf;
	memset(p, 'x', LONG_LINE);
	p += LONG_LINE;
	memcpy(p, "\r\nnext\r\n", 8);
	p += 8;
	memset(p, 'y', MAX_OK_LINE);
	p += MAX_OK_LINE;
	memcpy(p, "\r\nend\n", 6);
	write_chunked(d->s[1], buf, total, *(size_t *)d->extra);
	free(buf);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(line_too_long_then_next)
{
	size_t sizes[] = { 1 << 20, 4096, 5 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct duo d = { .extra = &sizes[i] };
		duo_run(&d, long_reader, long_writer);
	}
}

/* --- Exact reads, end of stream, timeouts --------------------------------- */

#define LITERAL (100 * 1024)

static void exact_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	unsigned char *got = malloc(LITERAL), *want = malloc(LITERAL);
	pattern_fill(want, 0, LITERAL);
	expect_line(s, "A APPEND {102400}", true);
	CHECK_INT(stream_read_exact(s, got, LITERAL), ==, 0);
	CHECK_MEM(got, want, LITERAL);
	/* The literal went straight to the caller, not through the buffer. */
	CHECK_INT(s->rcap, <=, 4096);
	expect_line(s, "END", true);
	CHECK_INT(stream_read_exact(s, got, 10), ==, -EPIPE);
	free(got);
	free(want);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void exact_writer(void *arg)
{
	struct duo *d = arg;
	unsigned char *data = malloc(LITERAL);
	pattern_fill(data, 0, LITERAL);
	CHECK_INT(stream_puts(d->s[1], "A APPEND {102400}\r\n"), ==, 0);
	write_chunked(d->s[1], data, LITERAL, 37);
	CHECK_INT(stream_printf(d->s[1], "%s\r\n", "END"), ==, 0);
	CHECK_INT(stream_flush(d->s[1]), ==, 0);
	free(data);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(read_exact_across_small_writes)
{
	struct duo d = { 0 };
	duo_run(&d, exact_reader, exact_writer);
}

static void eof_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	char buf[16];
	expect_line(s, "one", true);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	/* The partial line is still there for whoever wants it. */
	CHECK_INT(stream_buffered(s), ==, 7);
	CHECK_INT(stream_read_some(s, buf, sizeof(buf)), ==, 7);
	CHECK_MEM(buf, "partial", 7);
	CHECK_INT(stream_read_some(s, buf, sizeof(buf)), ==, 0);
	/* End of reading is not the end of writing (half close). */
	CHECK_INT(stream_puts(s, "bye\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void eof_writer(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	CHECK_INT(stream_puts(s, "one\r\npartial"), ==, 0);
	CHECK_INT(stream_shutdown(s), ==, 0);
	expect_line(s, "bye", true);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(eof_partial_line_is_epipe)
{
	struct duo d = { 0 };
	duo_run(&d, eof_reader, eof_writer);
}

static void timeout_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	stream_set_timeout(s, 100);
	uint64_t t0 = uv_hrtime();
	CHECK_INT(stream_read_line(s, &line, &len), ==, -ETIMEDOUT);
	uint64_t ms = (uv_hrtime() - t0) / 1000000;
	CHECK_INT(ms, >=, 90);
	CHECK_INT(ms, <, 1000);
	/* Reading is broken now: every read repeats the error at once. */
	t0 = uv_hrtime();
	CHECK_INT(stream_read_line(s, &line, &len), ==, -ETIMEDOUT);
	CHECK_INT(stream_read_some(s, (char[4]){ 0 }, 4), ==, -ETIMEDOUT);
	/* At once: well under one more 100 ms timeout, even on a loaded machine. */
	CHECK_INT((uv_hrtime() - t0) / 1000000, <, 90);
	/* Writing is not: the server can still say why it hangs up. */
	CHECK_INT(stream_puts(s, "* BYE Autologout\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void silent_peer(void *arg)
{
	struct duo *d = arg;
	expect_line(d->s[1], "* BYE Autologout", true);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(timeout_when_peer_is_silent)
{
	struct duo d = { 0 };
	duo_run(&d, timeout_reader, silent_peer);
}

/* --- Interrupts ------------------------------------------------------------ */

static void interrupt_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	char buf[10];
	d->extra = coro_current();
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EINTR);
	/* Not broken, and the bytes read so far are kept. */
	CHECK_INT(stream_buffered(s), ==, 3);
	expect_line(s, "partial", true);
	/* Interrupted halfway, read_exact finishes; the next wait for
	 * input gets the interrupt. */
	CHECK_INT(stream_read_exact(s, buf, sizeof(buf)), ==, 0);
	CHECK_MEM(buf, "0123456789", 10);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EINTR);
	expect_line(s, "done", true);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void interrupt_writer(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[1];
	coro_yield();
	CHECK_INT(stream_puts(s, "par"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	coro_sleep(20);
	coro_interrupt(d->extra);
	coro_sleep(20);
	CHECK_INT(stream_puts(s, "tial\r\n01234"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	coro_sleep(20);
	coro_interrupt(d->extra);
	coro_sleep(20);
	CHECK_INT(stream_puts(s, "56789"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	coro_sleep(20);
	CHECK_INT(stream_puts(s, "done\r\n"), ==, 0);
	CHECK_INT(stream_flush(s), ==, 0);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(interrupt_keeps_stream_usable)
{
	struct duo d = { 0 };
	duo_run(&d, interrupt_reader, interrupt_writer);
}

/* --- Backpressure ---------------------------------------------------------- */

#define BP_TOTAL (8u << 20)
#define BP_CHUNK (64u << 10)

struct bp {
	size_t accepted;
	size_t rss_base;
	bool in_write;
	bool done;
};

static void bp_writer(void *arg)
{
	struct duo *d = arg;
	struct bp *bp = d->extra;
	unsigned char *chunk = malloc(BP_CHUNK);
	for (size_t off = 0; off < BP_TOTAL; off += BP_CHUNK) {
		pattern_fill(chunk, off, BP_CHUNK);
		bp->in_write = true;
		CHECK_INT(stream_write(d->s[1], chunk, BP_CHUNK), ==, 0);
		bp->in_write = false;
		bp->accepted += BP_CHUNK;
	}
	/* Small writes too: they fill the buffer up to its cap only. */
	for (int i = 0; i < 1000; i++)
		CHECK_INT(stream_printf(d->s[1], "tail %04d\n", i), ==, 0);
	CHECK_INT(d->s[1]->wcap, <=, STREAM_WBUF_CAP);
	CHECK_INT(stream_flush(d->s[1]), ==, 0);
	free(chunk);
	bp->done = true;
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

static void bp_reader(void *arg)
{
	struct duo *d = arg;
	struct bp *bp = d->extra;
	struct stream *s = d->s[0];
	coro_sleep(300);
	/* The writer is parked in a write, not buffering without bound. */
	CHECK(!bp->done);
	CHECK(bp->in_write);
	size_t accepted = bp->accepted;
	CHECK_INT(accepted, <, 2u << 20);
	coro_sleep(100);
	CHECK_INT(bp->accepted, ==, accepted);
	CHECK_INT(rss_bytes(), <, bp->rss_base + (4u << 20));
	unsigned char *got = malloc(BP_CHUNK), *want = malloc(BP_CHUNK);
	for (size_t off = 0; off < BP_TOTAL; off += BP_CHUNK) {
		CHECK_INT(stream_read_exact(s, got, BP_CHUNK), ==, 0);
		pattern_fill(want, off, BP_CHUNK);
		CHECK_MEM(got, want, BP_CHUNK);
	}
	char line[32];
	for (int i = 0; i < 1000; i++) {
		snprintf(line, sizeof(line), "tail %04d", i);
		expect_line(s, line, false);
	}
	CHECK_INT(stream_read_some(s, got, 1), ==, 0);
	CHECK(bp->done);
	free(got);
	free(want);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

TEST(backpressure_bounds_memory)
{
	struct bp bp = { .rss_base = rss_bytes() };
	struct duo d = { .extra = &bp };
	duo_run(&d, bp_reader, bp_writer);
}

/* --- DEFLATE over plaintext ------------------------------------------------ */

/* Raw DEFLATE of data with a sync flush, as a peer's compressor sends it. */
static unsigned char *raw_deflate(const void *data, size_t len, size_t *out_len)
{
	z_stream z = { 0 };
	CHECK_INT(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
	size_t cap = deflateBound(&z, len) + 64;
	unsigned char *out = malloc(cap);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	CHECK_INT(deflate(&z, Z_SYNC_FLUSH), ==, Z_OK);
	CHECK_INT(z.avail_in, ==, 0);
	*out_len = cap - z.avail_out;
	deflateEnd(&z);
	return out;
}

static char *text_lines(int n, size_t *len_r)
{
	char *buf = malloc((size_t)n * 80), *p = buf;
	for (int i = 0; i < n; i++)
		p += sprintf(p, "line %06d the quick brown fox jumps over the lazy dog %d\r\n", i,
			     i * 7);
	*len_r = (size_t)(p - buf);
	return buf;
}

static void expect_text_lines(struct stream *s, int n)
{
	char want[96];
	for (int i = 0; i < n; i++) {
		snprintf(want, sizeof(want),
			 "line %06d the quick brown fox jumps over the lazy dog %d", i, i * 7);
		expect_line(s, want, true);
	}
}

static void inflate_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	/* The compressed data follows the command in the same packet: it
	 * must reach the inflater, not be lost or refused. */
	expect_line(s, "C COMPRESS DEFLATE", true);
	CHECK_INT(stream_start_deflate(s), ==, 0);
	CHECK(stream_is_compressed(s));
	CHECK_INT(stream_start_deflate(s), ==, -EINVAL);
	expect_text_lines(s, 500);
	const char *line;
	size_t len;
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPIPE);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void inflate_writer(void *arg)
{
	struct duo *d = arg;
	size_t tlen, zlen;
	char *text = text_lines(500, &tlen);
	unsigned char *z = raw_deflate(text, tlen, &zlen);
	char *all = malloc(zlen + 20);
	memcpy(all, "C COMPRESS DEFLATE\r\n", 20);
	memcpy(all + 20, z, zlen);
	write_chunked(d->s[1], all, zlen + 20, *(size_t *)d->extra);
	free(all);
	free(z);
	free(text);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(deflate_input_whole_and_byte_at_a_time)
{
	size_t sizes[] = { 1 << 20, 1, 13 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct duo d = { .extra = &sizes[i] };
		duo_run(&d, inflate_reader, inflate_writer);
	}
}

static void corrupt_reader(void *arg)
{
	struct duo *d = arg;
	struct stream *s = d->s[0];
	const char *line;
	size_t len;
	CHECK_INT(stream_start_deflate(s), ==, 0);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPROTO);
	CHECK_INT(stream_read_line(s, &line, &len), ==, -EPROTO);
	stream_free(&d->s[0]);
	d->done[0] = 1;
}

static void corrupt_writer(void *arg)
{
	struct duo *d = arg;
	/* 0xff starts a block of the reserved type 3 (RFC 1951 3.2.3). */
	CHECK_INT(stream_puts(d->s[1], "\xff\xff\xff\xff garbage\r\n"), ==, 0);
	CHECK_INT(stream_flush(d->s[1]), ==, 0);
	coro_sleep(50);
	stream_free(&d->s[1]);
	d->done[1] = 1;
}

TEST(deflate_corrupt_input_is_eproto)
{
	struct duo d = { 0 };
	duo_run(&d, corrupt_reader, corrupt_writer);
}
