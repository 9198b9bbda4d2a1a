/* The TLS layer (mbedTLS 2.28), server and client, pushed on a socket for
 * implicit TLS or after STARTTLS.
 *
 * The handshake is the expensive part (ECDHE, an RSA or ECDSA signature,
 * certificate checks) and must not run on the loop. So during the
 * handshake the layer talks to mbedTLS through memory: the receive
 * callback serves bytes staged from the socket or answers WANT_READ, the
 * send callback appends to an outbound staging buffer. Each round runs
 * mbedtls_ssl_handshake_step() on the thread pool until mbedTLS needs
 * input; back on the loop, the staged output goes to the socket and the
 * next input is read into staging. Only one thread ever touches the
 * context: the coroutine waits in coro_await_work() while a worker has it.
 *
 * After the handshake the staging buffers are freed and the callbacks call
 * the layer below directly, which may park the coroutine: record
 * processing (AEAD on at most 16 KiB) is cheap enough for the loop. What
 * stays per session is the ssl context and the two record buffers mbedTLS
 * allocates itself.
 */
#include "coro/stream-internal.h"

#include <errno.h>
#include <limits.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "coro/coro.h"
#include "src/util/xmalloc.h"

/* Handshake input is read from the socket in chunks of this size. */
#define TLS_STAGE_SIZE 8192
/* mbedtls_ssl_read() may answer WANT_READ after a record that carried no
 * application data; this many in a row is a peer wasting our time. */
#define TLS_MAX_EMPTY_READS 32
/* The TLS record type of a handshake message (RFC 5246 section 6.2.1). */
#define TLS_CONTENT_HANDSHAKE 22

struct stream_tls {
	struct stream_layer base;
	struct tls_config *cfg;
	int64_t deadline;	/* of the stream call under way */
	int io_error;		/* what the layer below told a callback */
	int hs_result;		/* last handshake round on the pool */
	bool handshaking;
	/* Inbound staging: handshake input, and afterwards whatever came
	 * with the last handshake message, until it is consumed. */
	unsigned char *in;
	uint32_t in_pos, in_len;
	/* Outbound staging, during the handshake only. */
	unsigned char *out;
	uint32_t out_len, out_cap;
	mbedtls_ssl_context ssl;
};

static struct stream_tls *tls_of(struct stream_layer *l)
{
	return (struct stream_tls *)((char *)l - offsetof(struct stream_tls, base));
}

static void tls_free_in(struct stream_tls *t)
{
	free(t->in);
	t->in = NULL;
	t->in_pos = t->in_len = 0;
}

/* mbedTLS receive callback. During the handshake it may run on a pool
 * thread, so it touches staging only. */
static int tls_bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct stream_tls *t = ctx;
	if (t->in_pos < t->in_len) {
		size_t n = t->in_len - t->in_pos;
		if (n > len)
			n = len;
		memcpy(buf, t->in + t->in_pos, n);
		t->in_pos += (uint32_t)n;
		if (t->in_pos == t->in_len && !t->handshaking)
			tls_free_in(t);
		return (int)n;
	}
	if (t->handshaking)
		return MBEDTLS_ERR_SSL_WANT_READ;
	struct stream_layer *below = t->base.below;
	ssize_t n = below->ops->read(below, buf, len, t->deadline);
	if (n < 0) {
		/* Reported as "try again", which leaves mbedTLS consistent
		 * (a partial record stays in its buffer): after an interrupt
		 * reading resumes, after a timeout the session can still
		 * write its goodbye. The cause is in io_error. */
		t->io_error = (int)n;
		return MBEDTLS_ERR_SSL_WANT_READ;
	}
	return (int)n;	/* 0 is end of stream: MBEDTLS_ERR_SSL_CONN_EOF */
}

static int tls_bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct stream_tls *t = ctx;
	if (t->handshaking) {
		if (len > t->out_cap - t->out_len) {
			uint32_t cap = t->out_cap ? t->out_cap : 4096;
			while (cap < t->out_len + len)
				cap *= 2;
			t->out = xrealloc(t->out, cap);
			t->out_cap = cap;
		}
		memcpy(t->out + t->out_len, buf, len);
		t->out_len += (uint32_t)len;
		return (int)len;
	}
	struct stream_layer *below = t->base.below;
	int r = below->ops->write(below, buf, len, t->deadline);
	if (r < 0) {
		t->io_error = r;
		return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
	}
	return (int)len;
}

/* An mbedTLS failure as a stream error: the cause below if there was one,
 * otherwise a protocol failure. */
static int tls_error(struct stream_tls *t)
{
	return t->io_error ? t->io_error : -EPROTO;
}

static ssize_t tls_read(struct stream_layer *l, void *buf, size_t len, int64_t deadline)
{
	struct stream_tls *t = tls_of(l);
	t->deadline = deadline;
	if (len > INT_MAX)
		len = INT_MAX;
	for (int i = 0; i < TLS_MAX_EMPTY_READS; i++) {
		t->io_error = 0;
		int r = mbedtls_ssl_read(&t->ssl, buf, len);
		if (r > 0)
			return r;
		/* A peer that closes without close_notify ends the stream
		 * too: mail protocols frame their data and notice
		 * truncation themselves. */
		if (r == 0 || r == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    r == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0;
		if (t->io_error)
			return t->io_error;
		if (r != MBEDTLS_ERR_SSL_WANT_READ && r != MBEDTLS_ERR_SSL_WANT_WRITE)
			return -EPROTO;
	}
	return -EPROTO;
}

static int tls_write(struct stream_layer *l, const void *buf, size_t len, int64_t deadline)
{
	struct stream_tls *t = tls_of(l);
	const unsigned char *p = buf;
	t->deadline = deadline;
	while (len > 0) {
		t->io_error = 0;
		/* At most one record (16 KiB) per call. */
		int r = mbedtls_ssl_write(&t->ssl, p, len > INT_MAX ? INT_MAX : len);
		if (r < 0)
			return tls_error(t);
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static bool tls_has_pending(struct stream_layer *l)
{
	struct stream_tls *t = tls_of(l);
	return t->in_pos < t->in_len || mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
	       mbedtls_ssl_check_pending(&t->ssl);
}

/* RFC 5246 section 7.2.1: close_notify before closing the write side. */
static int tls_shutdown(struct stream_layer *l, int64_t deadline)
{
	struct stream_tls *t = tls_of(l);
	t->deadline = deadline;
	t->io_error = 0;
	return mbedtls_ssl_close_notify(&t->ssl) < 0 ? tls_error(t) : 0;
}

/* Destroys this layer only; the layers below belong to the stream. */
static void tls_destroy(struct stream_layer *l)
{
	struct stream_tls *t = tls_of(l);
	mbedtls_ssl_free(&t->ssl);
	free(t->in);
	free(t->out);
	tls_config_unref(&t->cfg);
	free(t);
}

static const struct stream_layer_ops tls_ops = {
	.name = "tls",
	.read = tls_read,
	.write = tls_write,
	.flush = NULL,
	.has_pending = tls_has_pending,
	.shutdown = tls_shutdown,
	.destroy = tls_destroy,
};

/* Runs on the pool: handshake steps until mbedTLS needs input from the
 * peer, fails, or is done. */
static void tls_handshake_work(void *arg)
{
	struct stream_tls *t = arg;
	int r = 0;
	while (r == 0 && t->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER)
		r = mbedtls_ssl_handshake_step(&t->ssl);
	t->hs_result = r;
}

/* Reads the next handshake input into staging. mbedTLS only asks for more
 * once it consumed everything staged, so staging starts empty. An
 * interrupt cannot stop a handshake halfway; it is passed on afterwards. */
static int tls_stage_input(struct stream_tls *t, int64_t deadline, bool *interrupted)
{
	struct stream_layer *below = t->base.below;
	if (!t->in)
		t->in = xmalloc(TLS_STAGE_SIZE);
	t->in_pos = t->in_len = 0;
	for (;;) {
		ssize_t n = below->ops->read(below, t->in, TLS_STAGE_SIZE, deadline);
		if (n == -EINTR) {
			*interrupted = true;
			continue;
		}
		if (n <= 0)
			return n == 0 ? -EPIPE : (int)n;
		t->in_len = (uint32_t)n;
		return 0;
	}
}

static int tls_handshake(struct stream_tls *t, int64_t deadline, bool *interrupted)
{
	struct stream_layer *below = t->base.below;
	/* A server waits for the ClientHello before anything is worth a trip
	 * to the pool. */
	bool need_input = tls__config_is_server(t->cfg);
	for (;;) {
		int r = need_input ? tls_stage_input(t, deadline, interrupted) : 0;
		if (r < 0)
			return r;
		r = coro_await_cpu_work(tls_handshake_work, t);
		if (r < 0)
			return r;
		/* Sent even when the round failed: it may hold the alert
		 * that tells the peer why. */
		if (t->out_len) {
			r = below->ops->write(below, t->out, t->out_len, deadline);
			t->out_len = 0;
			if (r < 0)
				return r;
		}
		if (t->hs_result == 0)
			return 0;
		if (t->hs_result != MBEDTLS_ERR_SSL_WANT_READ)
			return -EPROTO;
		need_input = true;
	}
}

/* Leaves the memory callbacks: frees the outbound staging and keeps only
 * input that arrived with the peer's last handshake flight (a server
 * greeting right after Finished, say). */
static void tls_handshake_done(struct stream_tls *t)
{
	t->handshaking = false;
	free(t->out);
	t->out = NULL;
	t->out_len = t->out_cap = 0;
	uint32_t left = t->in_len - t->in_pos;
	if (left == 0) {
		tls_free_in(t);
		return;
	}
	memmove(t->in, t->in + t->in_pos, left);
	t->in = xrealloc(t->in, left);
	t->in_pos = 0;
	t->in_len = left;
}

/* RFC 3207 section 4.2 (and RFC 9051 section 6.2.1, RFC 2595 section 3.1
 * for IMAP): bytes the peer sent after the STARTTLS command, before the
 * handshake, would be read as if they came through TLS. */
static int tls_check_pipelining(struct stream *s, bool server)
{
	if (s->rlen > s->rpos)
		return -EPROTO;
	if (!s->top->ops->has_pending(s->top))
		return 0;
	/* A client that waited for our reply may already have sent its
	 * ClientHello; no command line starts with this byte. */
	if (server && stream__socket_peek(s->top) == TLS_CONTENT_HANDSHAKE)
		return 0;
	return -EPROTO;
}

static struct stream_tls *tls_new(struct stream_layer *below, struct tls_config *cfg,
				  const char *server_name, int *error_r)
{
	struct stream_tls *t = xcalloc(1, sizeof(*t));
	t->base.ops = &tls_ops;
	t->base.below = below;
	t->cfg = cfg;
	tls_config_ref(cfg);
	t->handshaking = true;
	mbedtls_ssl_init(&t->ssl);
	int r = mbedtls_ssl_setup(&t->ssl, tls__config_ssl(cfg));
	if (r == 0 && server_name)
		r = mbedtls_ssl_set_hostname(&t->ssl, server_name);
	if (r != 0) {
		*error_r = r == MBEDTLS_ERR_SSL_ALLOC_FAILED ? -ENOMEM : -EINVAL;
		tls_destroy(&t->base);
		return NULL;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, tls_bio_send, tls_bio_recv, NULL);
	return t;
}

static int tls_start(struct stream *s, struct tls_config *cfg, bool server,
		     const char *server_name)
{
	if (s->error)
		return s->error;
	/* TLS goes right on the socket, once; and a verifying client must
	 * have a name to verify (mbedTLS 2.28 would skip the check). */
	if (s->tls_desc || !stream__is_socket(s->top) || tls__config_is_server(cfg) != server ||
	    (!server && tls__config_verifies(cfg) && !server_name))
		return -EINVAL;
	int64_t deadline = stream__deadline(s);
	int r = stream__flush(s, deadline);
	if (r < 0)
		return r;
	r = tls_check_pipelining(s, server);
	if (r < 0)
		return stream__fail(s, r);
	struct stream_tls *t = tls_new(s->top, cfg, server_name, &r);
	if (!t)
		return stream__fail(s, r);
	bool interrupted = false;
	r = tls_handshake(t, deadline, &interrupted);
	if (interrupted)
		coro_interrupt(coro_current());
	if (r < 0) {
		/* Why a certificate was refused, for the client to say so. */
		if (!server && tls__config_verifies(cfg))
			s->tls_verify_flags = mbedtls_ssl_get_verify_result(&t->ssl);
		tls_destroy(&t->base);
		return stream__fail(s, r);
	}
	tls_handshake_done(t);
	s->top = &t->base;
	s->tls_desc = tls__suite_description(
		mbedtls_ssl_get_ciphersuite_id(mbedtls_ssl_get_ciphersuite(&t->ssl)));
	return 0;
}

int stream_start_tls_server(struct stream *s, struct tls_config *cfg)
{
	return tls_start(s, cfg, true, NULL);
}

int stream_start_tls_client(struct stream *s, struct tls_config *cfg, const char *server_name)
{
	return tls_start(s, cfg, false, server_name);
}

bool stream_tls_verify_error(const struct stream *s, char *buf, size_t size)
{
	uint32_t flags = s->tls_verify_flags;
	char lines[512];
	/* -1 means the handshake ended before the certificate was checked. */
	if (flags == 0 || flags == (uint32_t)-1 || size == 0 ||
	    mbedtls_x509_crt_verify_info(lines, sizeof(lines), "", flags) <= 0)
		return false;
	/* One line for the user: mbedTLS's reasons joined with "; ". */
	size_t o = 0;
	for (const char *p = lines; *p && o + 3 < size; p++) {
		if (*p != '\n')
			buf[o++] = *p;
		else if (p[1])
			buf[o++] = ';', buf[o++] = ' ';
	}
	buf[o] = '\0';
	return o > 0;
}
