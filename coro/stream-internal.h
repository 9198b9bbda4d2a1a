/* Private to coro/: the stream object and the seams between the buffered
 * top (stream.c) and the layers (stream-socket.c, stream-tls.c,
 * stream-deflate.c, tls-config.c). Unit tests include it to look at buffer
 * sizes; nothing outside coro/ and tests/ may.
 */
#ifndef SEAL_STREAM_INTERNAL_H
#define SEAL_STREAM_INTERNAL_H

#include "coro/stream.h"

/* The write buffer is sent once it holds this much (stream.h promises a
 * 16 KiB cap); it is also one full TLS record. */
#define STREAM_WBUF_CAP (16 * 1024)
/* A read buffer that grew for a long line shrinks back to this. */
#define STREAM_RBUF_MIN 4096
/* Upper bound for stream_set_max_line(), so offsets fit in 32 bits. */
#define STREAM_MAX_LINE_LIMIT (64u * 1024 * 1024)

/* Sizes are 32-bit to keep the struct small: every session has one. */
struct stream {
	struct stream_layer *top;	/* socket at the bottom of the chain */
	char *rbuf;			/* NULL whenever it is drained */
	uint32_t rpos, rlen, rcap;
	uint32_t scanned;		/* bytes after rpos known to hold no LF */
	char *wbuf;			/* NULL after every flush */
	uint32_t wlen, wcap;
	uint32_t max_line;
	uint32_t timeout_ms;
	int error;			/* sticky; 0 while the stream works */
	int read_error;			/* sticky for reads only: a timeout */
	const char *tls_desc;		/* static string; NULL for plaintext */
	bool eof;			/* the layers reported end of stream */
	bool last_crlf;
	bool skip_line;			/* discarding the rest of a long line */
	bool compressed;
	/* mbedTLS verification flags of a client handshake that failed (0
	 * otherwise), kept for stream_tls_verify_error(); fits the padding. */
	uint32_t tls_verify_flags;
};

/* Records a fatal error (anything but -EMSGSIZE and -EINTR) so later calls
 * repeat it; returns err. */
int stream__fail(struct stream *s, int err);
/* The deadline for one call, from the stream timeout. */
int64_t stream__deadline(const struct stream *s);
/* Sends the write buffer and flushes every layer; the common first step of
 * pushing a layer, so that replies such as "220 Ready to start TLS" leave
 * in the clear. */
int stream__flush(struct stream *s, int64_t deadline);

/* stream-socket.c. Never fails: if the fd cannot be watched, *error_r is
 * set and the layer only closes the fd when destroyed. */
struct stream_layer *stream__socket_new(int fd, int *error_r);
bool stream__is_socket(const struct stream_layer *l);
/* The first byte waiting in the socket, without consuming it; -1 if none. */
int stream__socket_peek(struct stream_layer *l);

/* tls-config.c */
struct mbedtls_ssl_config;
const struct mbedtls_ssl_config *tls__config_ssl(const struct tls_config *cfg);
bool tls__config_is_server(const struct tls_config *cfg);
bool tls__config_verifies(const struct tls_config *cfg);
/* "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" for one of our suites. */
const char *tls__suite_description(int suite_id);
/* Configs not yet freed, for tests of the reference counting. */
unsigned tls__config_live(void);

#endif
