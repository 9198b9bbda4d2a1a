#include <errno.h>

#include "protocols/imap/parser.h"
#include "tests/unit/test.h"

static int parse(const char *text, struct imap_command *cmd, const char **err)
{
	*err = NULL;
	return imap_parse_buffer(text, strlen(text), cmd, err);
}

TEST(tag_name_and_atoms)
{
	struct imap_command cmd;
	const char *err;
	CHECK_INT(parse("a1 login demo secret\r\n", &cmd, &err), ==, 0);
	CHECK_STR(cmd.tag, "a1");
	CHECK_STR(cmd.name, "LOGIN");
	CHECK_INT(cmd.nargs, ==, 2);
	CHECK_INT(cmd.args[0].type, ==, IMAP_ARG_ATOM);
	CHECK_STR(cmd.args[0].str, "demo");
	CHECK_STR(cmd.args[1].str, "secret");
	imap_command_free(&cmd);
}

TEST(quoted_strings_with_escapes_and_utf8)
{
	struct imap_command cmd;
	const char *err;
	CHECK_INT(parse("t LOGIN \"a \\\"b\\\\\" \"p\xc3\xa4ss word\"\n", &cmd, &err), ==, 0);
	CHECK_INT(cmd.args[0].type, ==, IMAP_ARG_QUOTED);
	CHECK_STR(cmd.args[0].str, "a \"b\\");
	CHECK_STR(cmd.args[1].str, "p\xc3\xa4ss word");
	imap_command_free(&cmd);
	CHECK_INT(parse("t LOGIN \"bad\\q\"\r\n", &cmd, &err), ==, IMAP_PARSE_BAD);
	CHECK_STR(cmd.tag, "t");
	CHECK_STR(err, "Invalid escape in quoted string");
	imap_command_free(&cmd);
}

TEST(literals_sync_nonsync_binary)
{
	struct imap_command cmd;
	const char *err;
	const char text[] = "x APPEND box {5}\r\nhello ~{3}\r\na\0b {2+}\r\nzz\r\n";
	CHECK_INT(imap_parse_buffer(text, sizeof(text) - 1, &cmd, &err), ==, 0);
	CHECK_INT(cmd.nargs, ==, 4);
	CHECK_INT(cmd.args[1].type, ==, IMAP_ARG_LITERAL);
	CHECK_STR(cmd.args[1].str, "hello");
	CHECK(cmd.args[2].binary);
	CHECK_INT(cmd.args[2].len, ==, 3);
	CHECK_MEM(cmd.args[2].str, "a\0b", 3);
	CHECK_STR(cmd.args[3].str, "zz");
	imap_command_free(&cmd);
}

TEST(nul_in_plain_literal_is_bad)
{
	struct imap_command cmd;
	const char *err;
	const char text[] = "x LOGIN {3}\r\na\0b pass\r\n";
	CHECK_INT(imap_parse_buffer(text, sizeof(text) - 1, &cmd, &err), ==, IMAP_PARSE_BAD);
	imap_command_free(&cmd);
}

TEST(lists_nil_and_brackets)
{
	struct imap_command cmd;
	const char *err;
	CHECK_INT(parse("f UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>) "
			"NIL ()\r\n", &cmd, &err), ==, 0);
	CHECK_STR(cmd.name, "UID");
	CHECK_INT(cmd.nargs, ==, 5);
	CHECK_STR(cmd.args[1].str, "1:*");
	CHECK_INT(cmd.args[2].type, ==, IMAP_ARG_LIST);
	CHECK_INT(cmd.args[2].len, ==, 2);
	CHECK_STR(cmd.args[2].list[1].str, "BODY.PEEK[HEADER.FIELDS (FROM TO)]<0.100>");
	CHECK_INT(cmd.args[3].type, ==, IMAP_ARG_NIL);
	CHECK_INT(cmd.args[4].type, ==, IMAP_ARG_LIST);
	CHECK_INT(cmd.args[4].len, ==, 0);
	imap_command_free(&cmd);
}

TEST(nested_lists)
{
	struct imap_command cmd;
	const char *err;
	CHECK_INT(parse("n X (a (b (c d)) e)\r\n", &cmd, &err), ==, 0);
	struct imap_arg *l = &cmd.args[0];
	CHECK_INT(l->len, ==, 3);
	CHECK_STR(l->list[0].str, "a");
	CHECK_INT(l->list[1].list[1].len, ==, 2);
	CHECK_STR(l->list[1].list[1].list[1].str, "d");
	CHECK_STR(l->list[2].str, "e");
	imap_command_free(&cmd);
}

TEST(malformed_commands)
{
	static const struct {
		const char *text, *tag;
	} cases[] = {
		{ "\r\n", "*" },
		{ "tagonly\r\n", "tagonly" },
		{ "t (a\r\n", "t" },
		{ "t X (a\r\n", "t" },
		{ "t X a)\r\n", "t" },
		{ "t X {abc}\r\n", "t" },
		{ "t X BODY[unclosed\r\n", "t" },
		{ "ta+g X\r\n", "*" },
		{ "t X\x01\r\n", "t" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct imap_command cmd;
		const char *err;
		int r = parse(cases[i].text, &cmd, &err);
		if (r != IMAP_PARSE_BAD)
			test_fail(__FILE__, __LINE__, "case %zu: %d", i, r);
		CHECK(err != NULL);
		CHECK_STR(cmd.tag, cases[i].tag);
		imap_command_free(&cmd);
	}
}

TEST(depth_and_size_limits)
{
	struct imap_command cmd;
	const char *err;
	char deep[200] = "t X ";
	for (int i = 0; i < 40; i++)
		strcat(deep, "(");
	strcat(deep, "\r\n");
	CHECK_INT(parse(deep, &cmd, &err), ==, IMAP_PARSE_BAD);
	CHECK_STR(err, "Lists nested too deeply");
	imap_command_free(&cmd);
	CHECK_INT(parse("t X {99999999999}\r\n", &cmd, &err), ==, IMAP_PARSE_BAD);
	imap_command_free(&cmd);
	CHECK_INT(parse("t X {2000000}\r\n", &cmd, &err), ==, IMAP_PARSE_BAD);
	CHECK_STR(err, "[TOOBIG] Literal too large");
	imap_command_free(&cmd);
}

TEST(truncated_input_is_an_error_not_a_crash)
{
	const char text[] = "a1 LOGIN {5}\r\nhello \"x y\" (1 2) ~{2}\r\nab\r\n";
	for (size_t n = 0; n < sizeof(text) - 1; n++) {
		struct imap_command cmd;
		const char *err = NULL;
		int r = imap_parse_buffer(text, n, &cmd, &err);
		CHECK(r == -EPIPE || r == IMAP_PARSE_BAD);
		imap_command_free(&cmd);
	}
}
