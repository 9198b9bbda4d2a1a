/* Buffered byte streams for coroutines, built from layers:
 *
 *   socket (TCP or unix)  ->  TLS (mbedTLS)  ->  DEFLATE (zlib)
 *
 * The stream object owns a read buffer and a write buffer on top of the
 * layer stack. STARTTLS and COMPRESS push a layer onto a live stream; bytes
 * the peer sent past STARTTLS are an error (a client that pipelines past
 * STARTTLS is attacking the upgrade, RFC 3207 section 4.2), while bytes past
 * COMPRESS are taken as compressed data.
 *
 * All calls must be made from the coroutine that owns the stream. Each
 * blocking call is bounded by the stream's timeout (stream_set_timeout),
 * counted from the start of the call, and returns:
 *   0 or a byte count on success,
 *   -ETIMEDOUT, -ECANCELED, -EPIPE (peer closed), -ECONNRESET,
 *   -EMSGSIZE (line longer than its limit), -EPROTO (TLS or zlib failure).
 * -EINTR when coro_interrupt() stopped a read that had not yet received
 * anything of what it waits for (bytes already read stay buffered).
 * After an error other than -EMSGSIZE or -EINTR the stream is broken: later
 * calls return the same error. One exception: a read that times out breaks
 * reading only, so the server can still write its goodbye ("* BYE
 * Autologout", "421 ... timeout") and flush it.
 * End of stream is not an error for writing: after the peer shut down its
 * side, reads fail with -EPIPE (stream_read_some returns 0) and writes work.
 *
 * Memory: buffers grow on demand and shrink back once drained, so an idle
 * stream holds no read or write buffer of its own.
 */
#ifndef SEAL_STREAM_H
#define SEAL_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct stream;
struct tls_config;

/* A lower layer of a stream. Layers are private to coro/; the vtable is
 * here only so the layer files can share it. */
struct stream_layer {
	const struct stream_layer_ops *ops;
	struct stream_layer *below;
};
struct stream_layer_ops {
	const char *name;
	/* Reads at least 1 byte (or returns 0 at end of stream). */
	ssize_t (*read)(struct stream_layer *l, void *buf, size_t len, int64_t deadline);
	/* Writes all len bytes or fails. */
	int (*write)(struct stream_layer *l, const void *buf, size_t len, int64_t deadline);
	/* Pushes out anything the layer holds back (compressor state). */
	int (*flush)(struct stream_layer *l, int64_t deadline);
	/* True when the layer has read bytes buffered that it has not returned. */
	bool (*has_pending)(struct stream_layer *l);
	/* Sends a close notification if the protocol has one (TLS). */
	int (*shutdown)(struct stream_layer *l, int64_t deadline);
	void (*destroy)(struct stream_layer *l);
};

/* Takes ownership of a connected non-blocking socket fd. Never NULL: if
 * the fd cannot be watched, every call on the stream fails with that error
 * and stream_free() still closes the fd. */
struct stream *stream_new_socket(int fd);
/* Flushes nothing; closes every layer and the fd. Sets *s to NULL. */
void stream_free(struct stream **s);

/* Default 5 minutes. */
void stream_set_timeout(struct stream *s, uint64_t ms);
/* The read buffer may grow to this size for one line (default 64 KiB). */
void stream_set_max_line(struct stream *s, size_t max);

/* Reads one line ending in LF. On success *line_r points at the line
 * without its CRLF or LF terminator, NUL-terminated, and *len_r is its
 * length. The pointer stays valid until the next read call on the stream.
 * A line that reaches max_line bytes without a LF is -EMSGSIZE; the rest of
 * that line is then discarded up to its LF by the next stream_read_line(),
 * so the caller can answer and go on (a stream_read_exact() or
 * stream_read_some() instead takes the rest as raw bytes). The read buffer
 * never grows past max_line. A final line without LF before end of stream
 * is -EPIPE; the partial line stays buffered. */
int stream_read_line(struct stream *s, const char **line_r, size_t *len_r);
/* Whether the line just returned ended in CRLF (true) or a bare LF. */
bool stream_last_line_crlf(const struct stream *s);

/* Reads exactly len bytes into buf (IMAP literals, SMTP BDAT). Beyond what
 * is buffered, the bytes go straight into buf, never through the read
 * buffer. -EPIPE if the stream ends first. An interrupt after part of the
 * bytes arrived does not stop it; the next read that waits gets -EINTR. */
int stream_read_exact(struct stream *s, void *buf, size_t len);
/* Reads up to len bytes, at least 1; 0 at end of stream. */
ssize_t stream_read_some(struct stream *s, void *buf, size_t len);
/* Bytes already buffered and readable without blocking. */
size_t stream_buffered(const struct stream *s);

/* Buffers data. When the buffer passes its cap (16 KiB) it is flushed,
 * which waits for the peer: memory stays bounded. A write of 16 KiB or more
 * with nothing buffered goes down directly, without a copy. */
int stream_write(struct stream *s, const void *buf, size_t len);
int stream_puts(struct stream *s, const char *str);
int stream_printf(struct stream *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Sends everything buffered, through every layer, and waits until the
 * socket has taken it. Frees the write buffer. */
int stream_flush(struct stream *s);

/* Starts TLS as server (cfg made by tls_config_new_server) or client. What
 * is in the write buffer (the "220 Ready to start TLS" reply) is flushed in
 * the clear first. The handshake runs its CPU-heavy steps on the thread
 * pool and is bounded by one stream timeout; the stream holds a reference
 * to cfg until it is freed. Fails with -EPROTO if the peer sent bytes beyond
 * the plaintext command (in the read buffer or still in the socket; a
 * ClientHello that already arrived is fine), or if the handshake fails,
 * and the stream is then broken. -EINVAL, leaving the stream as it was,
 * if TLS or DEFLATE is already on, the config is for the other side, or a
 * verifying client config gets no server_name. server_name (client only)
 * is sent as SNI and checked against the certificate unless the config
 * skips verification. */
int stream_start_tls_server(struct stream *s, struct tls_config *cfg);
int stream_start_tls_client(struct stream *s, struct tls_config *cfg,
			    const char *server_name);
bool stream_is_tls(const struct stream *s);
/* After stream_start_tls_client() failed with a verifying config: true if
 * the server's certificate was refused, with mbedTLS's reasons ("The
 * certificate is not correctly signed by the trusted CA; ...") in buf. */
bool stream_tls_verify_error(const struct stream *s, char *buf, size_t size);
/* "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" or "" for plaintext. */
const char *stream_tls_description(const struct stream *s);

/* Pushes a raw DEFLATE layer (RFC 1951, as IMAP COMPRESS uses). What is
 * in the write buffer (the tagged OK) is flushed uncompressed first; bytes
 * already in the read buffer are inflated. Every stream_flush() does a zlib
 * sync flush, so nothing waits in the compressor. -EINVAL if already on.
 * Costs about 200 KB of zlib state for the life of the stream. */
int stream_start_deflate(struct stream *s);
bool stream_is_compressed(const struct stream *s);

/* Flushes, sends TLS close_notify if TLS is on, then shuts down writing on
 * the socket. The stream must still be freed. */
int stream_shutdown(struct stream *s);

/* --- TLS configuration (coro/tls-config.c) ------------------------------ */

/* Loads a certificate chain and private key (PEM files). Returns NULL and
 * sets *error_r (static or owned by cfg-less storage; print it before the
 * next call) on failure. TLS 1.2 minimum, ECDHE with AEAD suites only, no
 * renegotiation. Reference counted: a stream keeps the config it started
 * with, so a reload never disturbs live sessions. */
struct tls_config *tls_config_new_server(const char *cert_chain_path,
					 const char *key_path,
					 const char **error_r);
/* verify=false accepts any certificate (tests, `remote --insecure`). */
struct tls_config *tls_config_new_client(const char *ca_file, bool verify,
					 const char **error_r);
void tls_config_ref(struct tls_config *cfg);
void tls_config_unref(struct tls_config **cfg);

#endif
