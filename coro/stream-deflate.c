/* The DEFLATE layer for IMAP COMPRESS (RFC 4978): raw DEFLATE (RFC 1951,
 * no zlib header) in both directions, over TLS or plaintext.
 *
 * Bounded memory: inflate writes straight into the caller's buffer, whose
 * size the stream bounds; compressed input waits in a heap buffer only when
 * that output space ran out first; deflate output passes through a small
 * buffer on the coroutine stack. What remains per session is zlib's own
 * state: inflate ~7 KB plus its 32 KiB window, deflate ~160 KiB (window
 * bits 15, the peer may use a full window; memLevel 6 rather than 8 halves
 * the hash and symbol buffers for a small loss of ratio).
 *
 * Large writes (a FETCH of a big body) are compressed on the thread pool
 * so that the loop never stalls for more than a fraction of a millisecond.
 */
#include "coro/stream-internal.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"

#define DEFLATE_WINDOW_BITS (-15)	/* negative: raw DEFLATE */
#define DEFLATE_MEM_LEVEL 6
/* Writes up to this size are compressed on the loop (about 0.3 ms). */
#define DEFLATE_INLINE_MAX STREAM_WBUF_CAP
/* A pool job takes at most this much input and fills one output chunk. */
#define DEFLATE_JOB_INPUT (256 * 1024)
#define DEFLATE_JOB_OUTPUT (16 * 1024)
#define DEFLATE_STACK_OUT 4096
#define DEFLATE_STACK_IN 2048

struct stream_deflate {
	struct stream_layer base;
	z_stream zin;
	z_stream zout;
	unsigned char *in;	/* heap copy of unconsumed input, or NULL */
	bool in_end;		/* the peer ended its DEFLATE stream */
	bool out_full;		/* last inflate filled its output: more may wait */
	bool dirty;		/* written since the last sync flush */
};

struct deflate_job {
	z_stream *z;
	int flush;
	int result;
};

static struct stream_deflate *deflate_of(struct stream_layer *l)
{
	return (struct stream_deflate *)((char *)l - offsetof(struct stream_deflate, base));
}

/* After an inflate call: keeps unconsumed input in the heap if it sits in
 * the caller's stack bounce, and frees the heap copy once consumed. */
static void deflate_keep_input(struct stream_deflate *d)
{
	if (d->zin.avail_in == 0) {
		free(d->in);
		d->in = NULL;
	} else if (!d->in) {
		d->in = xmalloc(d->zin.avail_in);
		memcpy(d->in, d->zin.next_in, d->zin.avail_in);
		d->zin.next_in = d->in;
	}
}

static ssize_t deflate_read(struct stream_layer *l, void *buf, size_t len, int64_t deadline)
{
	struct stream_deflate *d = deflate_of(l);
	unsigned char bounce[DEFLATE_STACK_IN];
	if (len > UINT_MAX)
		len = UINT_MAX;
	for (;;) {
		if (d->in_end)
			return 0;
		if (d->zin.avail_in > 0 || d->out_full) {
			d->zin.next_out = buf;
			d->zin.avail_out = (uInt)len;
			int zr = inflate(&d->zin, Z_SYNC_FLUSH);
			size_t produced = len - d->zin.avail_out;
			deflate_keep_input(d);
			if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR)
				return -EPROTO;
			if (zr == Z_MEM_ERROR)
				return -ENOMEM;
			d->in_end = zr == Z_STREAM_END;
			d->out_full = d->zin.avail_out == 0;
			if (produced > 0)
				return (ssize_t)produced;
			if (d->zin.avail_in > 0)
				continue;
		}
		struct stream_layer *below = l->below;
		ssize_t n = below->ops->read(below, bounce, sizeof(bounce), deadline);
		if (n <= 0)
			return n;
		d->zin.next_in = bounce;
		d->zin.avail_in = (uInt)n;
	}
}

/* Runs deflate until the input is consumed and no output is left over,
 * passing each output chunk below. */
static int deflate_inline(struct stream_deflate *d, const void *buf, size_t len, int flush,
			  int64_t deadline)
{
	struct stream_layer *below = d->base.below;
	unsigned char out[DEFLATE_STACK_OUT];
	d->zout.next_in = (unsigned char *)buf;
	d->zout.avail_in = (uInt)len;
	do {
		d->zout.next_out = out;
		d->zout.avail_out = sizeof(out);
		/* Z_BUF_ERROR only means no progress was possible. */
		if (deflate(&d->zout, flush) == Z_STREAM_ERROR)
			return -EPROTO;
		size_t n = sizeof(out) - d->zout.avail_out;
		int r = n ? below->ops->write(below, out, n, deadline) : 0;
		if (r < 0)
			return r;
	} while (d->zout.avail_in > 0 || d->zout.avail_out == 0);
	return 0;
}

static void deflate_job_run(void *arg)
{
	struct deflate_job *job = arg;
	job->result = deflate(job->z, job->flush);
}

/* The same on the pool, one output chunk per job; the loop sends each
 * chunk (and waits for the peer) between jobs. */
static int deflate_offloaded(struct stream_deflate *d, const unsigned char *p, size_t len,
			     int64_t deadline)
{
	struct stream_layer *below = d->base.below;
	unsigned char *out = xmalloc(DEFLATE_JOB_OUTPUT);
	struct deflate_job job = { .z = &d->zout, .flush = Z_NO_FLUSH };
	int r = 0;
	d->zout.avail_in = 0;
	while (r == 0 && (len > 0 || d->zout.avail_in > 0)) {
		if (d->zout.avail_in == 0) {
			size_t n = len < DEFLATE_JOB_INPUT ? len : DEFLATE_JOB_INPUT;
			d->zout.next_in = (unsigned char *)p;
			d->zout.avail_in = (uInt)n;
			p += n;
			len -= n;
		}
		d->zout.next_out = out;
		d->zout.avail_out = DEFLATE_JOB_OUTPUT;
		r = coro_await_work(deflate_job_run, &job);
		if (r == 0 && job.result == Z_STREAM_ERROR)
			r = -EPROTO;
		size_t n = DEFLATE_JOB_OUTPUT - d->zout.avail_out;
		if (r == 0 && n > 0)
			r = below->ops->write(below, out, n, deadline);
	}
	free(out);
	return r;
}

static int deflate_write(struct stream_layer *l, const void *buf, size_t len, int64_t deadline)
{
	struct stream_deflate *d = deflate_of(l);
	d->dirty = true;
	if (len > DEFLATE_INLINE_MAX)
		return deflate_offloaded(d, buf, len, deadline);
	return deflate_inline(d, buf, len, Z_NO_FLUSH, deadline);
}

/* Z_SYNC_FLUSH ends the output on a byte boundary with an empty stored
 * block, so the peer can decode everything sent so far: an IDLE update
 * never sits in the compressor. Skipped when nothing was written, since
 * each one costs five bytes. */
static int deflate_flush(struct stream_layer *l, int64_t deadline)
{
	struct stream_deflate *d = deflate_of(l);
	if (!d->dirty)
		return 0;
	d->dirty = false;
	return deflate_inline(d, NULL, 0, Z_SYNC_FLUSH, deadline);
}

static bool deflate_has_pending(struct stream_layer *l)
{
	struct stream_deflate *d = deflate_of(l);
	return d->zin.avail_in > 0 || d->out_full;
}

static void deflate_destroy(struct stream_layer *l)
{
	struct stream_deflate *d = deflate_of(l);
	inflateEnd(&d->zin);
	deflateEnd(&d->zout);
	free(d->in);
	free(d);
}

static const struct stream_layer_ops deflate_ops = {
	.name = "deflate",
	.read = deflate_read,
	.write = deflate_write,
	.flush = deflate_flush,
	.has_pending = deflate_has_pending,
	.shutdown = NULL,
	.destroy = deflate_destroy,
};

int stream_start_deflate(struct stream *s)
{
	if (s->error)
		return s->error;
	if (s->compressed)
		return -EINVAL;
	int64_t deadline = stream__deadline(s);
	/* RFC 4978 section 3: compression starts right after the CRLF of
	 * the tagged OK, which must itself leave uncompressed. */
	int r = stream__flush(s, deadline);
	if (r < 0)
		return r;
	struct stream_deflate *d = xcalloc(1, sizeof(*d));
	d->base.ops = &deflate_ops;
	d->base.below = s->top;
	if (inflateInit2(&d->zin, DEFLATE_WINDOW_BITS) != Z_OK) {
		free(d);
		return stream__fail(s, -ENOMEM);
	}
	if (deflateInit2(&d->zout, Z_DEFAULT_COMPRESSION, Z_DEFLATED, DEFLATE_WINDOW_BITS,
			 DEFLATE_MEM_LEVEL, Z_DEFAULT_STRATEGY) != Z_OK) {
		inflateEnd(&d->zin);
		free(d);
		return stream__fail(s, -ENOMEM);
	}
	/* Unlike STARTTLS, bytes read past the command are no attack here:
	 * a client that compresses as soon as it sees the OK may have them
	 * in flight. They are compressed data, so they go to the inflater. */
	uint32_t avail = s->rlen - s->rpos;
	if (avail > 0) {
		d->in = xmalloc(avail);
		memcpy(d->in, s->rbuf + s->rpos, avail);
		d->zin.next_in = d->in;
		d->zin.avail_in = avail;
		s->rpos = s->rlen;
	}
	s->top = &d->base;
	s->compressed = true;
	return 0;
}
