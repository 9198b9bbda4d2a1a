#include "bench/mail-text.h"

#include <stdio.h>

size_t bench_mail_make(char *buf, size_t cap, const char *to, uint32_t seed, uint32_t serial,
		       size_t body_len)
{
	static const char b64[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int n = snprintf(buf, cap,
			 "From: Bench Sender <sender%u@bench.example>\r\n"
			 "To: <%s@bench.example>\r\n"
			 "Subject: benchmark message %u.%u\r\n"
			 "Date: Mon, 23 Nov 2026 10:%02u:%02u +0000\r\n"
			 "Message-ID: <%u.%u@bench.example>\r\n"
			 "MIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=us-ascii\r\n"
			 "\r\n",
			 seed % 97, to, seed, serial, serial / 60 % 60, serial % 60, seed, serial);
	if (n < 0 || (size_t)n >= cap)
		return 0;
	size_t len = (size_t)n;
	uint32_t x = seed * 2654435761u + serial * 40503u + 1;
	/* Lines of 76 characters and CRLF, the last one ending the message. */
	for (size_t i = 0; i < body_len && len + 2 < cap; i++) {
		if (i % 78 == 76 || i + 2 == body_len) {
			buf[len++] = '\r';
			buf[len++] = '\n';
			i++;
			continue;
		}
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[len++] = b64[x & 63];
	}
	if (len < 2 || buf[len - 1] != '\n') {
		if (cap - len < 2)
			len = cap - 2;
		buf[len++] = '\r';
		buf[len++] = '\n';
	}
	return len;
}
