#include <errno.h>

#include "protocols/imap/mailbox-name.h"
#include "tests/unit/test.h"

static void decode_ok(const char *wire, bool utf8, const char *want)
{
	struct buf b = BUF_INIT(0);
	const char *err = NULL;
	CHECK_INT(imap_mailbox_decode(wire, strlen(wire), utf8, &b, &err), ==, 0);
	CHECK_STR(b.data ? b.data : "", want);
	buf_free(&b);
}

static void decode_bad(const char *wire, size_t len, bool utf8)
{
	struct buf b = BUF_INIT(0);
	const char *err = NULL;
	CHECK_INT(imap_mailbox_decode(wire, len, utf8, &b, &err), ==, -EINVAL);
	CHECK(err != NULL);
	buf_free(&b);
}

static void append_is(const char *name, bool utf8, const char *want)
{
	struct buf b = BUF_INIT(0);
	CHECK_INT(imap_mailbox_append(&b, name, utf8), ==, 0);
	CHECK_STR(b.data, want);
	buf_free(&b);
}

TEST(delimiters_are_normalised)
{
	decode_ok("/Archive", false, "Archive");
	decode_ok("a//b///c", false, "a/b/c");
	decode_ok("a/b/", false, "a/b");
	decode_ok("//", false, "");
	decode_ok("", false, "");
}

TEST(inbox_is_case_insensitive_as_first_component)
{
	decode_ok("inbox", false, "INBOX");
	decode_ok("InBoX/child", false, "INBOX/child");
	decode_ok("/inbox", false, "INBOX");
	decode_ok("inboxes", false, "inboxes");
	decode_ok("Work/inbox", false, "Work/inbox");
}

TEST(modified_utf7_unless_utf8_enabled)
{
	decode_ok("&ZeVnLIqe-", false, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
	decode_ok("Tom &- Jerry", false, "Tom & Jerry");
	/* With UTF-8 on, '&' is just a character. */
	decode_ok("&ZeVnLIqe-", true, "&ZeVnLIqe-");
	decode_ok("caf\xc3\xa9", true, "caf\xc3\xa9");
	/* Non-normalised modified UTF-7 is accepted (manual). */
	decode_ok("&AEE-b", false, "Ab");
}

TEST(bad_names_are_refused)
{
	decode_bad("caf\xc3\xa9", 5, false);
	decode_bad("caf\xc3", 4, true);
	decode_bad("a\0b", 3, true);
	decode_bad("&U,BTFw", 7, false);
}

TEST(names_for_the_wire)
{
	append_is("INBOX", false, "INBOX");
	append_is("a/b", false, "a/b");
	append_is("Tom & Jerry", false, "\"Tom &- Jerry\"");
	append_is("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", false, "&ZeVnLIqe-");
	append_is("\xe6\x97\xa5 x", true, "\"\xe6\x97\xa5 x\"");
	append_is("nil", false, "\"nil\"");
	append_is("quote\"d", false, "\"quote\\\"d\"");
}

TEST(inbox_predicate)
{
	CHECK(imap_mailbox_is_inbox("INBOX"));
	CHECK(imap_mailbox_is_inbox("INBOX/x"));
	CHECK(!imap_mailbox_is_inbox("INBOXES"));
	CHECK(!imap_mailbox_is_inbox("Archive"));
}
