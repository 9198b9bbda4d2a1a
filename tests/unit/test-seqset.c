#include <errno.h>

#include "protocols/imap/seqset.h"
#include "tests/unit/test.h"

static struct seqset parse_ok(const char *s, uint32_t star)
{
	struct seqset set;
	int r = seqset_parse(s, strlen(s), star, 1000, &set);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "\"%s\": %d", s, r);
	return set;
}

TEST(ranges_are_sorted_and_merged)
{
	struct seqset s = parse_ok("7:*,1:3,4,10,2", 9);
	CHECK_INT(s.count, ==, 2);
	CHECK_INT(s.ranges[0].lo, ==, 1);
	CHECK_INT(s.ranges[0].hi, ==, 4);
	CHECK_INT(s.ranges[1].lo, ==, 7);
	CHECK_INT(s.ranges[1].hi, ==, 10);
	seqset_free(&s);
	s = parse_ok("5:2,9", 100);
	CHECK_INT(s.count, ==, 2);
	CHECK_INT(s.ranges[0].lo, ==, 2);
	CHECK_INT(s.ranges[0].hi, ==, 5);
	CHECK(seqset_contains(&s, 9));
	CHECK(!seqset_contains(&s, 6));
	CHECK_INT(seqset_size(&s), ==, 5);
	seqset_free(&s);
}

TEST(star_and_empty_mailbox)
{
	struct seqset s = parse_ok("*", 42);
	CHECK_INT(s.ranges[0].lo, ==, 42);
	seqset_free(&s);
	s = parse_ok("*", 0);
	CHECK_INT(s.count, ==, 0);
	seqset_free(&s);
	s = parse_ok("3:*", 0); /* RFC 9051: "3:*" with no messages names 3 */
	CHECK_INT(s.count, ==, 1);
	CHECK_INT(s.ranges[0].lo, ==, 3);
	CHECK_INT(s.ranges[0].hi, ==, 3);
	seqset_free(&s);
	s = parse_ok("1:4294967295", 5);
	CHECK_INT(seqset_size(&s), ==, 4294967295ll);
	seqset_free(&s);
}

TEST(bad_syntax)
{
	static const char *bad[] = { "", "0", "1,", ",1", "1::2", "a", "1:0", "01", "4294967296",
				     "1 2", "1,,2", ":3" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seqset s;
		if (seqset_parse(bad[i], strlen(bad[i]), 10, 1000, &s) != -EINVAL)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
	}
	struct seqset s;
	CHECK_INT(seqset_parse("$", 1, 10, 1000, &s), ==, -ENOENT);
	CHECK_INT(seqset_parse("1,3,5,7", 7, 10, 3, &s), ==, -E2BIG);
}

TEST(add_keeps_normal_form)
{
	struct seqset s = { 0 };
	seqset_add(&s, 10, 12);
	seqset_add(&s, 1, 1);
	seqset_add(&s, 13, 20);
	seqset_add(&s, 3, 2);
	CHECK_INT(s.count, ==, 2);
	CHECK_INT(s.ranges[0].lo, ==, 1);
	CHECK_INT(s.ranges[0].hi, ==, 3);
	CHECK_INT(s.ranges[1].lo, ==, 10);
	CHECK_INT(s.ranges[1].hi, ==, 20);
	seqset_free(&s);
}
