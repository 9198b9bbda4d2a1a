/* SEARCH criteria: every key, RETURN, CHARSET, "$", nesting, and
 * malformed input. */
#include <errno.h>

#include "protocols/imap/parser.h"
#include "protocols/imap/search.h"
#include "tests/unit/test.h"

static const struct imap_search_opts opts = { 10, 500, true, true, true, true };

static int parse(const char *text, const struct imap_search_opts *o, struct imap_search *s,
		 const char **error)
{
	static char line[70000];
	snprintf(line, sizeof(line), "t SEARCH %s\r\n", text);
	struct imap_command cmd;
	const char *perr = NULL;
	if (imap_parse_buffer(line, strlen(line), &cmd, &perr) != 0)
		test_fail(__FILE__, __LINE__, "command parser refused \"%s\": %s", text, perr);
	*error = NULL;
	int r = imap_search_parse(cmd.args, cmd.nargs, o, s, error);
	imap_command_free(&cmd);
	return r;
}

static struct imap_search parse_ok(const char *text)
{
	struct imap_search s;
	const char *error;
	if (parse(text, &opts, &s, &error) != 0)
		test_fail(__FILE__, __LINE__, "refused \"%s\": %s", text, error);
	return s;
}

/* The tree in prefix form, to compare in one string. */
static void dump(const struct imap_search *s, int i, struct buf *out)
{
	static const char *const names[] = {
		"ALL", "AND", "OR", "NOT", "SEQ", "UID", "$", "FLAG", "RECENT", "KW",
		"BEFORE", "ON", "SINCE", "SENTBEFORE", "SENTON", "SENTSINCE", "SAVEDBEFORE",
		"SAVEDON", "SAVEDSINCE", "SAVEDATESUPPORTED", "LARGER", "SMALLER", "HEADER",
		"BODY", "TEXT", "MODSEQ", "EMAILID", "THREADID",
	};
	const struct imap_search_key *k = &s->keys[i];
	buf_puts(out, names[k->op]);
	switch (k->op) {
	case IMAP_SK_AND:
	case IMAP_SK_OR:
	case IMAP_SK_NOT:
		buf_puts(out, "(");
		for (int c = k->first; c >= 0; c = s->keys[c].next) {
			dump(s, c, out);
			if (s->keys[c].next >= 0)
				buf_puts(out, " ");
		}
		buf_puts(out, ")");
		break;
	case IMAP_SK_SEQSET:
	case IMAP_SK_UIDSET:
		for (size_t r = 0; r < k->set.count; r++)
			buf_printf(out, "%s%u:%u", r ? "," : " ", k->set.ranges[r].lo,
				   k->set.ranges[r].hi);
		break;
	case IMAP_SK_HEADER:
		buf_printf(out, " %s \"%s\"", k->field, k->text);
		break;
	case IMAP_SK_KEYWORD:
	case IMAP_SK_BODY:
	case IMAP_SK_TEXT:
	case IMAP_SK_EMAILID:
	case IMAP_SK_THREADID:
		buf_printf(out, " \"%s\"", k->text);
		break;
	case IMAP_SK_ALL:
	case IMAP_SK_SAVED:
	case IMAP_SK_RECENT:
	case IMAP_SK_SAVEDATESUPPORTED:
		break;
	default:
		buf_printf(out, " %llu", (unsigned long long)k->num);
	}
}

static void expect_tree(const char *text, const char *want)
{
	struct imap_search s = parse_ok(text);
	struct buf out = BUF_INIT(0);
	dump(&s, 0, &out);
	if (strcmp(out.data, want) != 0)
		test_fail(__FILE__, __LINE__, "%s:\n got %s\nwant %s", text, out.data, want);
	buf_free(&out);
	imap_search_free(&s);
}

TEST(flag_keys)
{
	expect_tree("ANSWERED DELETED draft FLAGGED Seen",
		    "AND(FLAG 1 FLAG 4 FLAG 16 FLAG 2 FLAG 8)");
	expect_tree("UNANSWERED UNSEEN UNDELETED UNDRAFT UNFLAGGED",
		    "AND(NOT(FLAG 1) NOT(FLAG 8) NOT(FLAG 4) NOT(FLAG 16) NOT(FLAG 2))");
	expect_tree("NEW OLD RECENT ALL", "AND(AND(RECENT NOT(FLAG 8)) NOT(RECENT) RECENT ALL)");
	expect_tree("KEYWORD $Junk UNKEYWORD foo", "AND(KW \"$Junk\" NOT(KW \"foo\"))");
}

TEST(string_keys_are_folded)
{
	expect_tree("FROM \"Jane DOE\" TO x CC y BCC z SUBJECT {3}\r\nÄb",
		    "AND(HEADER FROM \"jane doe\" HEADER TO \"x\" HEADER CC \"y\" HEADER BCC \"z\" "
		    "HEADER SUBJECT \"äb\")");
	expect_tree("HEADER X-Spam \"\" BODY Hello TEXT \"WORLD\"",
		    "AND(HEADER X-Spam \"\" BODY \"hello\" TEXT \"world\")");
}

TEST(date_and_size_keys)
{
	expect_tree("BEFORE 1-Feb-1994 ON \"17-Jul-1996\" SINCE 01-jan-1970",
		    "AND(BEFORE 8797 ON 9694 SINCE 0)");
	expect_tree("SENTBEFORE 1-Feb-1994 SENTON 1-Feb-1994 SENTSINCE 1-Feb-1994",
		    "AND(SENTBEFORE 8797 SENTON 8797 SENTSINCE 8797)");
	expect_tree("SAVEDBEFORE 1-Feb-1994 SAVEDON 1-Feb-1994 SAVEDSINCE 1-Feb-1994 "
		    "SAVEDATESUPPORTED",
		    "AND(SAVEDBEFORE 8797 SAVEDON 8797 SAVEDSINCE 8797 SAVEDATESUPPORTED)");
	expect_tree("LARGER 100 SMALLER 9223372036854775807",
		    "AND(LARGER 100 SMALLER 9223372036854775807)");
	int64_t d;
	CHECK_INT(imap_search_parse_date("29-Feb-2000", 11, &d), ==, 0);
	CHECK_INT(imap_search_parse_date("29-Feb-1900", 11, &d), ==, -EINVAL);
	CHECK_INT(imap_search_parse_date("31-Apr-2000", 11, &d), ==, -EINVAL);
}

TEST(sets_and_saved_result)
{
	expect_tree("1:3,7:* UID 5:* 2", "AND(SEQ 1:3,7:10 UID 5:500 SEQ 2:2)");
	expect_tree("$ UID $", "AND($ $)");
	struct imap_search s = parse_ok("UID $");
	CHECK(s.needs & IMAP_SEARCH_NEEDS_SAVED);
	imap_search_free(&s);
	s = parse_ok("FLAGGED");
	CHECK_INT(s.needs, ==, 0);
	imap_search_free(&s);
}

TEST(groups_not_or)
{
	expect_tree("OR SEEN (FLAGGED DELETED) NOT NOT ALL",
		    "AND(OR(FLAG 8 AND(FLAG 2 FLAG 4)) NOT(NOT(ALL)))");
	expect_tree("OR OR 1 2 3", "AND(OR(OR(SEQ 1:1 SEQ 2:2) SEQ 3:3))");
	expect_tree("(((SEEN)))", "AND(AND(AND(AND(FLAG 8))))");
}

TEST(extension_keys)
{
	expect_tree("MODSEQ 620162338", "AND(MODSEQ 620162338)");
	expect_tree("MODSEQ \"/flags/\\\\draft\" all 620162338", "AND(MODSEQ 620162338)");
	expect_tree("EMAILID Eabc THREADID T1", "AND(EMAILID \"Eabc\" THREADID \"T1\")");
	struct imap_search_opts o = { 10, 500, false, false, false, true };
	struct imap_search s;
	const char *error;
	CHECK_INT(parse("MODSEQ 5", &o, &s, &error), ==, -EINVAL);
	CHECK_INT(parse("EMAILID E1", &o, &s, &error), ==, -EINVAL);
	CHECK_INT(parse("SAVEDON 1-Feb-1994", &o, &s, &error), ==, -EINVAL);
}

TEST(return_and_charset)
{
	struct imap_search s = parse_ok("RETURN (MIN max COUNT) CHARSET utf-8 ALL");
	CHECK(s.has_return);
	CHECK_INT(s.ret, ==, IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX | IMAP_SEARCH_RET_COUNT);
	imap_search_free(&s);
	s = parse_ok("RETURN () SEEN");
	CHECK_INT(s.ret, ==, IMAP_SEARCH_RET_ALL);
	imap_search_free(&s);
	s = parse_ok("RETURN (SAVE) CHARSET US-ASCII 1:*");
	CHECK_INT(s.ret, ==, IMAP_SEARCH_RET_SAVE);
	imap_search_free(&s);
	s = parse_ok("CHARSET \"UTF-8\" TEXT x");
	CHECK(!s.has_return);
	imap_search_free(&s);
	const char *error;
	CHECK_INT(parse("CHARSET ISO-8859-1 ALL", &opts, &s, &error), ==, -ENOTSUP);
	CHECK_STR(error, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
}

TEST(malformed)
{
	static const char *bad[] = {
		"",
		"FROB",
		"ALL FROB",
		"FROM",
		"HEADER Subject",
		"BEFORE",
		"BEFORE 1-Foo-1994",
		"BEFORE 1-Feb-94",
		"BEFORE 123-Feb-1994",
		"BEFORE 0-Feb-1994",
		"BEFORE (1-Feb-1994)",
		"LARGER",
		"LARGER -1",
		"LARGER 1x",
		"LARGER 99999999999999999999",
		"SMALLER 9223372036854775808",
		"UID",
		"UID abc",
		"UID (1)",
		"0",
		"1:0",
		"1,,2",
		"NOT",
		"OR SEEN",
		"()",
		"(SEEN ())",
		"KEYWORD",
		"KEYWORD \\Seen",
		"KEYWORD \"a b\"",
		"RETURN",
		"RETURN MIN ALL",
		"RETURN (FOO) ALL",
		"RETURN (MIN)",
		"CHARSET",
		"CHARSET UTF-8",
		"MODSEQ",
		"MODSEQ \"/flags/x\"",
		"MODSEQ \"/flags/x\" bogus 5",
		"MODSEQ \"/x\" all 5",
		"\"SEEN\"",
		"SEEN RETURN (MIN)",
		"SEEN CHARSET UTF-8",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_search s;
		const char *error = NULL;
		if (parse(bad[i], &opts, &s, &error) != -EINVAL)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		if (!error)
			test_fail(__FILE__, __LINE__, "no error text for \"%s\"", bad[i]);
	}
}

TEST(nesting_is_bounded)
{
	static char text[60000];
	size_t n = 0;
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "NOT ");
	snprintf(text + n, sizeof(text) - n, "ALL");
	struct imap_search s;
	const char *error;
	CHECK_INT(parse(text, &opts, &s, &error), ==, -EINVAL);
	CHECK_STR(error, "Search criteria nested too deeply");
	n = 0;
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "NOT ");
	snprintf(text + n, sizeof(text) - n, "ALL");
	s = parse_ok(text);
	imap_search_free(&s);
}

TEST(many_keys)
{
	static char text[60000];
	size_t n = 0;
	for (int i = 0; i < 2000; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%sSEEN", i ? " " : "");
	struct imap_search s = parse_ok(text);
	CHECK_INT(s.n, ==, 2001);
	imap_search_free(&s);
}
