/* Test messages for the IMAP scenarios: RFC 5322 headers (From, To,
 * Subject, Date, Message-ID) and a plain-text body of base64-like lines,
 * as much mail is. Plain ASCII throughout, so every server returns the
 * ENVELOPE fields as quoted strings rather than literals. */
#ifndef SEAL_BENCH_MAIL_TEXT_H
#define SEAL_BENCH_MAIL_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Writes a message of about body_len bytes of body for recipient `to`
 * into buf (cap bytes), distinct for each (seed, serial). Returns its
 * length, at most cap; the body is cut short to fit. */
size_t bench_mail_make(char *buf, size_t cap, const char *to, uint32_t seed, uint32_t serial,
		       size_t body_len);

#endif
