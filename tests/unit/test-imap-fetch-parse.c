/* FETCH attribute lists: items, macros, sections, partial ranges,
 * modifiers and malformed input. */
#include <errno.h>

#include "protocols/imap/fetch.h"
#include "protocols/imap/parser.h"
#include "tests/unit/test.h"

static const struct imap_fetch_opts all_on = { false, true, true, true, true };
static const struct imap_fetch_opts plain = { false, false, false, false, false };

/* Parses "t FETCH 1 <text>" and then the FETCH arguments after the set. */
static int parse(const char *text, const struct imap_fetch_opts *o, struct imap_fetch_req *req,
		 const char **error)
{
	char line[4096];
	snprintf(line, sizeof(line), "t FETCH 1 %s\r\n", text);
	struct imap_command cmd;
	const char *perr = NULL;
	int r = imap_parse_buffer(line, strlen(line), &cmd, &perr);
	if (r != 0)
		test_fail(__FILE__, __LINE__, "command parser refused \"%s\": %s", text, perr);
	*error = NULL;
	r = imap_fetch_parse(cmd.args + 1, cmd.nargs - 1, o, req, error);
	imap_command_free(&cmd);
	return r;
}

static struct imap_fetch_req parse_ok(const char *text, const struct imap_fetch_opts *o)
{
	struct imap_fetch_req req;
	const char *error;
	if (parse(text, o, &req, &error) != 0)
		test_fail(__FILE__, __LINE__, "refused \"%s\": %s", text, error);
	return req;
}

TEST(macros)
{
	struct imap_fetch_req r = parse_ok("ALL", &plain);
	CHECK_INT(r.atts, ==,
		  IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE |
			  IMAP_FETCH_ENVELOPE);
	CHECK(r.needs_meta && r.needs_tree && !r.sets_seen);
	imap_fetch_req_free(&r);
	r = parse_ok("fast", &plain);
	CHECK_INT(r.atts, ==, IMAP_FETCH_FLAGS | IMAP_FETCH_INTERNALDATE | IMAP_FETCH_RFC822_SIZE);
	CHECK(!r.needs_tree && !r.needs_source);
	imap_fetch_req_free(&r);
	r = parse_ok("FULL", &plain);
	CHECK(r.atts & IMAP_FETCH_BODY);
	CHECK(!(r.atts & IMAP_FETCH_BODYSTRUCTURE));
	imap_fetch_req_free(&r);
}

TEST(simple_items_and_uid_fetch)
{
	struct imap_fetch_opts o = plain;
	o.uid = true;
	struct imap_fetch_req r = parse_ok("(flags Rfc822.Size BODYSTRUCTURE envelope)", &o);
	CHECK_INT(r.atts, ==,
		  IMAP_FETCH_UID | IMAP_FETCH_FLAGS | IMAP_FETCH_RFC822_SIZE |
			  IMAP_FETCH_BODYSTRUCTURE | IMAP_FETCH_ENVELOPE);
	CHECK_INT(r.nsections, ==, 0);
	imap_fetch_req_free(&r);
	r = parse_ok("UID", &plain);
	CHECK_INT(r.atts, ==, IMAP_FETCH_UID);
	imap_fetch_req_free(&r);
}

TEST(sections_and_names)
{
	struct imap_fetch_req r = parse_ok(
		"(BODY[] body.peek[1.2.mime] BODY[HEADER.FIELDS (From \"X-Y\")]<0.10> "
		"BODY[3.header.fields.not (Received)] BODY.PEEK[TEXT]<5.1> BODY[2])",
		&plain);
	CHECK_INT(r.nsections, ==, 6);
	CHECK_STR(r.sections[0].name, "BODY[]");
	CHECK(!r.sections[0].peek);
	CHECK_STR(r.sections[1].name, "BODY[1.2.MIME]");
	CHECK(r.sections[1].peek);
	CHECK_INT(r.sections[1].sec.nparts, ==, 2);
	CHECK_INT(r.sections[1].sec.text, ==, MIME_SECTION_MIME);
	CHECK_STR(r.sections[2].name, "BODY[HEADER.FIELDS (From X-Y)]");
	CHECK(r.sections[2].partial);
	CHECK_INT(r.sections[2].offset, ==, 0);
	CHECK_INT(r.sections[2].length, ==, 10);
	CHECK_STR(r.sections[3].name, "BODY[3.HEADER.FIELDS.NOT (Received)]");
	CHECK_STR(r.sections[4].name, "BODY[TEXT]");
	CHECK_INT(r.sections[4].offset, ==, 5);
	CHECK_STR(r.sections[5].name, "BODY[2]");
	CHECK(r.sets_seen && r.needs_tree && r.needs_source);
	imap_fetch_req_free(&r);

	/* BODY[] alone needs the bytes but not the MIME tree. */
	r = parse_ok("BODY.PEEK[]<100.200>", &plain);
	CHECK(!r.needs_tree && r.needs_source && !r.sets_seen);
	imap_fetch_req_free(&r);
}

TEST(rfc822_items)
{
	struct imap_fetch_req r = parse_ok("(RFC822 rfc822.header RFC822.TEXT)", &plain);
	CHECK_INT(r.nsections, ==, 3);
	CHECK_STR(r.sections[0].name, "RFC822");
	CHECK(!r.sections[0].peek);
	CHECK_STR(r.sections[1].name, "RFC822.HEADER");
	CHECK(r.sections[1].peek);
	CHECK_INT(r.sections[1].sec.text, ==, MIME_SECTION_HEADER);
	CHECK_STR(r.sections[2].name, "RFC822.TEXT");
	CHECK_INT(r.sections[2].sec.text, ==, MIME_SECTION_TEXT);
	CHECK(r.sets_seen);
	imap_fetch_req_free(&r);
	r = parse_ok("RFC822.HEADER", &plain);
	CHECK(!r.sets_seen);
	imap_fetch_req_free(&r);
}

TEST(binary_items)
{
	struct imap_fetch_req r =
		parse_ok("(BINARY[1] BINARY.PEEK[2.1]<0.5> BINARY.SIZE[1] binary[])", &plain);
	CHECK_INT(r.nsections, ==, 4);
	CHECK_INT(r.sections[0].kind, ==, IMAP_FETCH_BINARY);
	CHECK_STR(r.sections[0].name, "BINARY[1]");
	CHECK(r.sections[1].peek && r.sections[1].partial);
	CHECK_STR(r.sections[1].name, "BINARY[2.1]");
	CHECK_INT(r.sections[2].kind, ==, IMAP_FETCH_BINARY_SIZE);
	CHECK_STR(r.sections[2].name, "BINARY.SIZE[1]");
	CHECK_STR(r.sections[3].name, "BINARY[]");
	CHECK(r.sets_seen);
	imap_fetch_req_free(&r);
}

TEST(extension_items_need_their_capability)
{
	struct imap_fetch_req r;
	const char *error;
	CHECK_INT(parse("MODSEQ", &plain, &r, &error), ==, -EINVAL);
	CHECK_INT(parse("EMAILID", &plain, &r, &error), ==, -EINVAL);
	CHECK_INT(parse("SAVEDATE", &plain, &r, &error), ==, -EINVAL);
	CHECK_INT(parse("(FLAGS) (CHANGEDSINCE 5)", &plain, &r, &error), ==, -EINVAL);
	r = parse_ok("(MODSEQ EMAILID THREADID SAVEDATE)", &all_on);
	CHECK_INT(r.atts, ==,
		  IMAP_FETCH_MODSEQ | IMAP_FETCH_EMAILID | IMAP_FETCH_THREADID |
			  IMAP_FETCH_SAVEDATE);
	imap_fetch_req_free(&r);
	r = parse_ok("FLAGS (CHANGEDSINCE 12345)", &all_on);
	CHECK(r.has_changedsince);
	CHECK_INT(r.changedsince, ==, 12345);
	CHECK(r.atts & IMAP_FETCH_MODSEQ);
	imap_fetch_req_free(&r);
	/* VANISHED: UID FETCH only, with CHANGEDSINCE. */
	CHECK_INT(parse("FLAGS (CHANGEDSINCE 1 VANISHED)", &all_on, &r, &error), ==, -EINVAL);
	struct imap_fetch_opts o = all_on;
	o.uid = true;
	CHECK_INT(parse("FLAGS (VANISHED)", &o, &r, &error), ==, -EINVAL);
	r = parse_ok("FLAGS (VANISHED CHANGEDSINCE 1)", &o);
	CHECK(r.vanished);
	imap_fetch_req_free(&r);
}

TEST(malformed)
{
	static const char *bad[] = {
		"()",
		"(ALL)",
		"(FLAGS FAST)",
		"FROB",
		"\"FLAGS\"",
		"(FLAGS \"UID\")",
		"BODY[]<",
		"BODY[]<1>",
		"BODY[]<1.0>",
		"BODY[]<1.2",
		"BODY[]<a.2>",
		"BODY[]<1.2>x",
		"BODY[]x",
		"BODY[0]",
		"BODY[1.0]",
		"BODY[MIME]",
		"BODY[HEADER.FIELDS]",
		"BODY[HEADER.FIELDS ()]",
		"BODY[1.TEXTX]",
		"BODY[HEADER.FIELDS (A]",
		"BODY.PEEK",
		"BINARY[TEXT]",
		"BINARY[1.HEADER]",
		"BINARY.SIZE[1]<0.5>",
		"BINARY",
		"RFC822.PEEK",
		"BODY[]<99999999999999999999.1>",
		"(FLAGS (UID))",
		"FLAGS extra",
		"FLAGS (CHANGEDSINCE)",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct imap_fetch_req r;
		const char *error = NULL;
		if (parse(bad[i], &all_on, &r, &error) != -EINVAL)
			test_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		if (!error)
			test_fail(__FILE__, __LINE__, "no error text for \"%s\"", bad[i]);
	}
}

TEST(no_arguments)
{
	struct imap_fetch_req r;
	const char *error = NULL;
	CHECK_INT(imap_fetch_parse(NULL, 0, &plain, &r, &error), ==, -EINVAL);
	CHECK(error != NULL);
}

TEST(too_many_sections)
{
	char text[4096];
	size_t n = 0;
	text[n++] = '(';
	for (int i = 0; i < IMAP_FETCH_MAX_SECTIONS + 1; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "BODY[1] ");
	snprintf(text + n, sizeof(text) - n, "UID)");
	struct imap_fetch_req r;
	const char *error;
	CHECK_INT(parse(text, &plain, &r, &error), ==, -EINVAL);
}
