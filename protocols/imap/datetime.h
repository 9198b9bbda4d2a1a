/* RFC 9051 date-time, "17-Jul-1996 02:44:25 -0700": INTERNALDATE in FETCH
 * and APPEND's optional date. */
#ifndef SEAL_IMAP_DATETIME_H
#define SEAL_IMAP_DATETIME_H

#include <stddef.h>
#include <stdint.h>

/* Formats a UTC time in its zone (minutes east), without quotes; out
 * holds at least 27 bytes (64 given). */
void imap_format_datetime(int64_t t, int tz_minutes, char out[64]);

/* Parses s[0..len) (the string, quotes removed): day " 1", "01" or "1",
 * month name in any case, four-digit year, hh:mm:ss, zone +hhmm/-hhmm.
 * Returns 0 with the UTC time in *t_r and the zone in *tz_r (minutes,
 * -1439..1439), or -EINVAL. */
int imap_parse_datetime(const char *s, size_t len, int64_t *t_r, int *tz_r);

#endif
