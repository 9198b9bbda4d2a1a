/* RFC 5322 3.3 dates, with the obsolete forms of 4.3 (two- and three-digit
 * years, named zones, comments and whitespace anywhere) and common
 * breakage (no day name comma, "Jan 5" order, dots in times, a missing
 * zone). The time is computed by hand so it does not depend on TZ. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/mime/mime-private.h"

static const char months[12][4] = { "jan", "feb", "mar", "apr", "may", "jun",
				    "jul", "aug", "sep", "oct", "nov", "dec" };

/* RFC 5322 4.3 obs-zone; military zones "SHOULD be considered equivalent
 * to -0000", so they count as +0000 like a missing zone. */
static bool named_zone(const char *s, size_t n, int *min_r)
{
	static const struct {
		const char *name;
		int hours;
	} zones[] = { { "ut", 0 },   { "utc", 0 },  { "gmt", 0 },  { "z", 0 },
		      { "est", -5 }, { "edt", -4 }, { "cst", -6 }, { "cdt", -5 },
		      { "mst", -7 }, { "mdt", -6 }, { "pst", -8 }, { "pdt", -7 } };
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		if (mime__ieq(s, n, zones[i].name)) {
			*min_r = zones[i].hours * 60;
			return true;
		}
	}
	if (n == 1 && isalpha((uint8_t)s[0]) && (s[0] | 0x20) != 'j') {
		*min_r = 0;
		return true;
	}
	return false;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned month_days(int y, unsigned m)
{
	static const unsigned char n[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : n[m - 1];
}

struct date {
	int day, month, year, hour, min, sec, zone;
	bool have_time, have_zone;
};

/* hh:mm[:ss] (or with dots) at the start of a token. */
static bool parse_time(const char *s, size_t n, struct date *d)
{
	int v[3] = { 0, 0, 0 }, k = 0;
	size_t i = 0;
	while (k < 3) {
		size_t st = i;
		while (i < n && isdigit((uint8_t)s[i]) && i - st < 2)
			v[k] = v[k] * 10 + (s[i++] - '0');
		if (i == st)
			return false;
		k++;
		if (i >= n || (s[i] != ':' && s[i] != '.'))
			break;
		i++;
	}
	if (k < 2 || i != n || v[0] > 23 || v[1] > 59 || v[2] > 60)
		return false;
	d->hour = v[0], d->min = v[1], d->sec = v[2] == 60 ? 59 : v[2];
	d->have_time = true;
	return true;
}

static bool take_number(const char *s, size_t n, struct date *d)
{
	int v = 0;
	if (n > 4)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((uint8_t)s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (d->day == 0 && n <= 2) {
		d->day = v;
	} else if (d->year < 0) {
		/* RFC 5322 4.3: two digits are 20xx below 50, else 19xx;
		 * three digits add 1900. */
		d->year = n == 2 ? (v < 50 ? 2000 + v : 1900 + v) : n == 3 ? 1900 + v : v;
		if (n == 1)
			return false;
	} else {
		return false;
	}
	return true;
}

/* +hhmm, or +hh:mm as some software writes it. */
static bool take_zone(const char *s, size_t n, struct date *d)
{
	char digits[4];
	if (n == 5) {
		memcpy(digits, s + 1, 4);
	} else if (n == 6 && s[3] == ':') {
		memcpy(digits, s + 1, 2);
		memcpy(digits + 2, s + 4, 2);
	} else {
		return false;
	}
	int v = 0;
	for (size_t i = 0; i < 4; i++) {
		if (!isdigit((uint8_t)digits[i]))
			return false;
		v = v * 10 + (digits[i] - '0');
	}
	if (v % 100 > 59)
		return false;
	d->zone = (s[0] == '-' ? -1 : 1) * (v / 100 * 60 + v % 100);
	d->have_zone = true;
	return true;
}

static bool take_token(const char *s, size_t n, struct date *d)
{
	if (s[0] == '+' || s[0] == '-') {
		if (!d->have_zone)
			(void)take_zone(s, n, d);
		return true;	/* anything else signed is ignored */
	}
	if (isdigit((uint8_t)s[0])) {
		if (memchr(s, ':', n) || (n > 2 && memchr(s, '.', n)))
			return !d->have_time && parse_time(s, n, d);
		return take_number(s, n, d);
	}
	if (n >= 3) {
		for (int m = 0; m < 12; m++)
			if (strncasecmp(s, months[m], 3) == 0 && d->month == 0) {
				d->month = m + 1;
				return true;
			}
	}
	int z;
	if (d->have_time && !d->have_zone && named_zone(s, n, &z)) {
		d->zone = z;
		d->have_zone = true;
	}
	return true;	/* day names and other words are ignored */
}

int mime_date_parse(const char *s, size_t len, time_t *t_r, int *zone_r)
{
	struct date d = { .year = -1 };
	struct mime__lex lx;
	mime__lex_init(&lx, s, len);
	for (;;) {
		mime__lex_cfws(&lx);
		while (lx.p < lx.end && *lx.p == ',')
			lx.p++;
		mime__lex_cfws(&lx);
		if (lx.p >= lx.end)
			break;
		const char *t = lx.p;
		while (lx.p < lx.end && !strchr(" \t\r\n,(", *lx.p))
			lx.p++;
		if (lx.p == t) {
			lx.p++;	/* a NUL or other stray byte */
			continue;
		}
		if (!take_token(t, (size_t)(lx.p - t), &d))
			return -EINVAL;
	}
	if (d.day < 1 || d.month == 0 || d.year < 1900 || d.year > 9999 || !d.have_time ||
	    d.day > (int)month_days(d.year, (unsigned)d.month))
		return -EINVAL;
	int64_t days = days_from_civil(d.year, (unsigned)d.month, (unsigned)d.day);
	int64_t t = days * 86400 + d.hour * 3600 + d.min * 60 + d.sec - (int64_t)d.zone * 60;
	*t_r = (time_t)t;
	*zone_r = d.zone;
	return 0;
}
