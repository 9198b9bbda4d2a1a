#include <string.h>

#include "protocols/imap/datetime.h"
#include "tests/unit/test.h"

static int parse(const char *s, int64_t *t, int *tz)
{
	return imap_parse_datetime(s, strlen(s), t, tz);
}

TEST(parse_forms_of_the_day)
{
	int64_t t;
	int tz;
	CHECK_INT(parse("17-Jul-1996 02:44:25 -0700", &t, &tz), ==, 0);
	CHECK_INT(t, ==, 837596665);	/* RFC 9051's example */
	CHECK_INT(tz, ==, -420);
	CHECK_INT(parse(" 1-Jan-1970 01:30:00 +0130", &t, &tz), ==, 0);
	CHECK_INT(t, ==, 0);
	CHECK_INT(tz, ==, 90);
	CHECK_INT(parse("1-jan-1970 00:00:00 +0000", &t, &tz), ==, 0);
	CHECK_INT(t, ==, 0);
	CHECK_INT(parse("01-JAN-1970 00:00:00 +0000", &t, &tz), ==, 0);
	CHECK_INT(t, ==, 0);
	CHECK_INT(parse("29-Feb-2000 23:59:60 -2359", &t, &tz), ==, 0);
	CHECK_INT(tz, ==, -1439);
}

TEST(parse_round_trips_format)
{
	char out[64];
	int64_t t;
	int tz;
	for (int64_t when = -86400LL * 365 * 60; when < 86400LL * 365 * 80; when += 7777777) {
		int zone = (int)(when % 1439);
		imap_format_datetime(when, zone, out);
		CHECK_INT(parse(out, &t, &tz), ==, 0);
		CHECK_INT(t, ==, when);
		CHECK_INT(tz, ==, zone);
	}
}

TEST(parse_refuses_malformed)
{
	static const char *const bad[] = {
		"", "17-Jul-1996", "17-Jul-1996 02:44:25", "17-Jul-1996 02:44:25 0700",
		"17-Jul-1996 02:44:25 -07000", "17-Jul-96 02:44:25 -0700",
		"31-Feb-2020 00:00:00 +0000", "29-Feb-1900 00:00:00 +0000",
		"17-Jly-1996 02:44:25 -0700", "17-Jul-1996 24:00:00 +0000",
		"17-Jul-1996 02:60:00 +0000", "17-Jul-1996 02:44:61 +0000",
		"17-Jul-1996 02:44:25 +2400", "17-Jul-1996 02:44:25 +0060",
		"17-Jul-1996  2:44:25 -0700", "17-Jul-1996 02:44:25 -07:0",
		"  1-Jan-1970 00:00:00 +0000", "117-Jul-1996 02:44:25 -0700",
	};
	int64_t t;
	int tz;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &t, &tz) == 0)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
}
