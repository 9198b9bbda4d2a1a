#include "protocols/imap/datetime.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "protocols/imap/search.h"

void imap_format_datetime(int64_t t, int tz_minutes, char out[64])
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t local = (time_t)(t + (int64_t)tz_minutes * 60);
	struct tm tm;
	if (!gmtime_r(&local, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
		local = 0;
		gmtime_r(&local, &tm);
		tz_minutes = 0;
	}
	int tz = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	snprintf(out, 64, "%2d-%s-%04d %02d:%02d:%02d %c%02d%02d", tm.tm_mday, months[tm.tm_mon],
		 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, tz_minutes < 0 ? '-' : '+',
		 tz / 60, tz % 60);
}

/* Reads n digits at s into *v. */
static bool digits(const char *s, size_t n, int *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (s[i] - '0');
	}
	return true;
}

int imap_parse_datetime(const char *s, size_t len, int64_t *t_r, int *tz_r)
{
	/* The date ends where "hh:mm:ss +zzzz" (14 bytes) and its space begin. */
	if (len > 0 && s[0] == ' ')
		s++, len--;
	if (len < 15 + 10 || len > 15 + 11 || s[len - 15] != ' ')
		return -EINVAL;
	int64_t day;
	if (imap_search_parse_date(s, len - 15, &day) < 0)
		return -EINVAL;
	const char *t = s + len - 14;
	int hh, mm, ss, zh, zm;
	if (!digits(t, 2, &hh) || t[2] != ':' || !digits(t + 3, 2, &mm) || t[5] != ':' ||
	    !digits(t + 6, 2, &ss) || t[8] != ' ' || (t[9] != '+' && t[9] != '-') ||
	    !digits(t + 10, 2, &zh) || !digits(t + 12, 2, &zm))
		return -EINVAL;
	/* 60 seconds: a leap second, which time_t cannot hold; it is the next. */
	if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return -EINVAL;
	int tz = (zh * 60 + zm) * (t[9] == '-' ? -1 : 1);
	*t_r = day * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)tz * 60;
	*tz_r = tz;
	return 0;
}
