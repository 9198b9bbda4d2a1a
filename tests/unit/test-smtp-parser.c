/* Unit tests of protocols/smtp's pure parts: command lines, MAIL/RCPT
 * paths and their leniency, BDAT, HELO names, the DATA decoder (fed whole
 * and one byte at a time through a line splitter like the stream's), the
 * relay policy and recipient normalisation, and the Received header. */
#include "tests/unit/test.h"

#include <errno.h>

#include "protocols/smtp/dot.h"
#include "protocols/smtp/parser.h"
#include "protocols/smtp/received.h"
#include "protocols/smtp/recipient.h"
#include "src/config.h"
#include "src/util/buf.h"
#include "src/util/xmalloc.h"

TEST(command_verbs_split_case_insensitively)
{
	struct smtp_command c;
	CHECK_INT(smtp_parse_command("ehlo  client.example  ", 22, &c), ==, 0);
	CHECK_STR(c.verb, "EHLO");
	CHECK_INT(c.args_len, ==, 14);
	CHECK(memcmp(c.args, "client.example", 14) == 0);
	CHECK_INT(smtp_parse_command("DATA", 4, &c), ==, 0);
	CHECK_STR(c.verb, "DATA");
	CHECK_INT(c.args_len, ==, 0);
	CHECK_INT(smtp_parse_command("", 0, &c), ==, 0);
	CHECK_STR(c.verb, "");
	CHECK_INT(smtp_parse_command("STARTTLSX", 9, &c), ==, -ENAMETOOLONG);
	CHECK_INT(smtp_parse_command("NOOP a\0b", 8, &c), ==, -EINVAL);
}

static int mail(const char *args, struct smtp_path *p, struct smtp_params *pr)
{
	const char *why;
	return smtp_parse_mail_rcpt(args, strlen(args), "FROM", p, pr, &why);
}

static int rcpt(const char *args, struct smtp_path *p)
{
	struct smtp_params pr;
	const char *why;
	return smtp_parse_mail_rcpt(args, strlen(args), "TO", p, &pr, &why);
}

TEST(mail_from_lenient_forms)
{
	struct smtp_path p;
	struct smtp_params pr;
	CHECK_INT(mail("FROM:<a@b.example>", &p, &pr), ==, 0);
	CHECK_STR(p.local, "a");
	CHECK_STR(p.domain, "b.example");
	CHECK_STR(p.text, "a@b.example");
	CHECK_INT(mail("from: <a@b.example> SIZE=1000 BODY=8BITMIME", &p, &pr), ==, 0);
	CHECK(pr.has_size);
	CHECK_INT(pr.size, ==, 1000);
	CHECK_INT(pr.ignored, ==, 0);
	CHECK_INT(mail("FROM:a@b.example", &p, &pr), ==, 0);
	CHECK_STR(p.text, "a@b.example");
	CHECK_INT(mail("FROM:<>", &p, &pr), ==, 0);
	CHECK(p.null);
	/* Unknown and malformed parameters are ignored. */
	CHECK_INT(mail("FROM:<a@b> RET=HDRS ENVID=x AUTH=<> SIZE=abc BODY=junk ==", &p, &pr),
		  ==, 0);
	CHECK(!pr.has_size);
	CHECK_INT(pr.ignored, ==, 5);
	CHECK_INT(mail("FROM:<a@b>SMTPUTF8", &p, &pr), ==, 0);
	CHECK(pr.smtputf8);
	/* A source route in a reverse path is dropped (RFC 5321 4.1.1.2). */
	CHECK_INT(mail("FROM:<@relay.example:a@b.example>", &p, &pr), ==, 0);
	CHECK(p.route);
	CHECK_STR(p.text, "a@b.example");
	CHECK_INT(mail("FROM:<MAILER-DAEMON>", &p, &pr), ==, 0);
	CHECK(p.no_domain);
	CHECK_INT(mail("FROM:<a@b> SIZE=99999999999999999999999", &p, &pr), ==, 0);
	CHECK(!pr.has_size);
}

TEST(mail_from_errors)
{
	struct smtp_path p;
	struct smtp_params pr;
	CHECK_INT(mail("", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("TO:<a@b>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM <a@b>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a@b", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a b@c>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a@b c>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a@>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a\x01@b>", &p, &pr), ==, -EINVAL);
	CHECK_INT(mail("FROM:<a@\xff>", &p, &pr), ==, -EINVAL);
	char *big = TEST_STR("FROM:<%0300d@b>", 0);
	CHECK_INT(mail(big, &p, &pr), ==, -ENAMETOOLONG);
}

TEST(rcpt_paths)
{
	struct smtp_path p;
	CHECK_INT(rcpt("TO:<\"john \\\"q\\\" doe\"@example.com>", &p), ==, 0);
	CHECK(p.quoted);
	CHECK_STR(p.local, "john \"q\" doe");
	CHECK_INT(rcpt("TO:<\"a>b\"@example.com> NOTIFY=NEVER", &p), ==, 0);
	CHECK_STR(p.local, "a>b");
	CHECK_INT(rcpt("TO:<Postmaster>", &p), ==, 0);
	CHECK(p.no_domain);
	CHECK_INT(rcpt("TO:<user@[192.0.2.1]>", &p), ==, 0);
	CHECK_STR(p.domain, "[192.0.2.1]");
	CHECK_INT(rcpt("TO:<@a,@b:user@example.com>", &p), ==, 0);
	CHECK(p.route);
	CHECK_INT(rcpt("TO:<jörg@例え.jp>", &p), ==, 0);
	CHECK_STR(p.local, "jörg");
	CHECK_INT(rcpt("TO:<\"unterminated@x>", &p), ==, -EINVAL);
	CHECK_INT(rcpt("TO:<@nocolon>", &p), ==, -EINVAL);
}

TEST(bdat_arguments)
{
	uint64_t n;
	bool last;
	CHECK_INT(smtp_parse_bdat("100", 3, &n, &last), ==, 0);
	CHECK_INT(n, ==, 100);
	CHECK(!last);
	CHECK_INT(smtp_parse_bdat("0 last", 6, &n, &last), ==, 0);
	CHECK_INT(n, ==, 0);
	CHECK(last);
	CHECK_INT(smtp_parse_bdat("", 0, &n, &last), ==, -EINVAL);
	CHECK_INT(smtp_parse_bdat("12x", 3, &n, &last), ==, -EINVAL);
	CHECK_INT(smtp_parse_bdat("1 LAST x", 8, &n, &last), ==, -EINVAL);
	CHECK_INT(smtp_parse_bdat("-1", 2, &n, &last), ==, -EINVAL);
	CHECK_INT(smtp_parse_bdat("99999999999999999999", 20, &n, &last), ==, -ERANGE);
}

TEST(helo_names_are_sanitised)
{
	char out[SMTP_DOMAIN_MAX + 1];
	CHECK_INT(smtp_parse_helo("mx.example.org extra", 20, out, sizeof(out)), ==, 14);
	CHECK_STR(out, "mx.example.org");
	CHECK_INT(smtp_parse_helo("a(b)\\c\x7f", 7, out, sizeof(out)), ==, 7);
	CHECK_STR(out, "a?b??c?");
	CHECK_INT(smtp_parse_helo("\xff\xfe" "x", 3, out, sizeof(out)), ==, 3);
	CHECK_STR(out, "??x");
	CHECK_INT(smtp_parse_helo("", 0, out, sizeof(out)), ==, 0);
}

/* Splits data into lines as stream_read_line does, feeding the decoder;
 * byte_at_a_time changes nothing (lines are whole either way), but the
 * splitter is written to take one byte per step. Returns the decoded
 * message, or NULL when the end marker never came. */
static char *decode(const char *in, size_t len, bool client_unix, size_t *out_len,
		    size_t *consumed)
{
	struct smtp_dot d;
	struct buf out = BUF_INIT(0), line = BUF_INIT(0);
	smtp_dot_init(&d, client_unix);
	for (size_t i = 0; i < len; i++) {
		if (in[i] != '\n') {
			buf_append(&line, in + i, 1);
			continue;
		}
		bool crlf = line.len && line.data[line.len - 1] == '\r';
		size_t n = line.len - crlf, skip;
		const char *eol;
		if (smtp_dot_line(&d, line.data ? line.data : "", n, crlf, &skip, &eol)) {
			buf_free(&line);
			*out_len = out.len;
			*consumed = i + 1;
			return test_keep(buf_steal(&out));
		}
		buf_append(&out, line.data + skip, n - skip);
		buf_puts(&out, eol);
		buf_reset(&line);
	}
	buf_free(&line);
	buf_free(&out);
	return NULL;
}

#define DECODES(in, unix_, want)                                                   \
	do {                                                                       \
		size_t n_, used_;                                                  \
		char *got_ = decode(in, sizeof(in) - 1, unix_, &n_, &used_);       \
		CHECK(got_ != NULL);                                               \
		CHECK_INT(n_, ==, sizeof(want) - 1);                               \
		CHECK_MEM(got_, want, n_);                                         \
		CHECK_INT(used_, ==, sizeof(in) - 1);                              \
	} while (0)

TEST(data_crlf_is_kept_byte_for_byte)
{
	DECODES("a\r\nb\nc\r\n.\r\n", false, "a\r\nb\nc\r\n");
	/* Only CRLF starts a line: a dot after a bare LF is content. */
	DECODES("foo\r\nbar\n.\r\n.\r\n", false, "foo\r\nbar\n.\r\n");
	/* Bare CR is content. */
	DECODES("x\ry\r\r\n.\r\n", false, "x\ry\r\r\n");
}

TEST(data_first_bare_lf_converts_everything)
{
	DECODES("foo\nbar\r\nbaz\n.\n", false, "foo\r\nbar\r\nbaz\r\n");
	DECODES("a\n..b\n.\r\n", false, "a\r\n.b\r\n");
}

TEST(data_unix_client_converts)
{
	DECODES("a\r\nb\nc\n.\n", true, "a\r\nb\r\nc\r\n");
}

TEST(data_dot_stuffing)
{
	DECODES("..a\r\n...\r\n.b\r\n.\r\n", false, ".a\r\n..\r\nb\r\n");
	DECODES(".\r\n", false, "");
	/* ".\n" after CRLF can only be the end. */
	DECODES("a\r\n.\n", false, "a\r\n");
}

TEST(relay_policy)
{
	struct config_smtp_domain doms[] = { { .name = "example.com" }, { .name = "example.net" } };
	struct smtp_path p;
	struct smtp_refusal why;
	CHECK_INT(rcpt("TO:<a@Example.COM.>", &p), ==, 0);
	CHECK(smtp_recipient_allowed(&p, true, doms, 2, false, &why));
	CHECK_INT(rcpt("TO:<a@example.org>", &p), ==, 0);
	CHECK(!smtp_recipient_allowed(&p, true, doms, 2, false, &why));
	CHECK_INT(why.code, ==, 550);
	CHECK_STR(why.enh, "5.7.1");
	CHECK(smtp_recipient_allowed(&p, false, doms, 2, false, &why));
	const char *bad[] = { "TO:<@example.com:a@example.org>", "TO:<a%example.org@example.com>",
			      "TO:<example.org!a@example.com>",
			      "TO:<\"a@example.org\"@example.com>", "TO:<a@[127.0.0.1]>" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(rcpt(bad[i], &p), ==, 0);
		if (smtp_recipient_allowed(&p, true, doms, 2, false, &why))
			test_fail(__FILE__, __LINE__, "%s was allowed", bad[i]);
		CHECK_STR(why.enh, "5.7.1");
	}
	CHECK_INT(rcpt("TO:<postmaster>", &p), ==, 0);
	CHECK(smtp_recipient_allowed(&p, true, doms, 2, false, &why));
	CHECK_INT(rcpt("TO:<alice>", &p), ==, 0);
	CHECK(!smtp_recipient_allowed(&p, true, doms, 2, false, &why));
	CHECK_INT(why.code, ==, 501);
	CHECK(smtp_recipient_allowed(&p, false, doms, 2, true, &why));
}

static const char *user(const char *addr, bool keep, bool verbatim)
{
	struct smtp_path p;
	char *out = test_keep(xmalloc(256));
	if (rcpt(addr, &p) < 0 || smtp_recipient_user(&p, keep, verbatim, out, 256) < 0)
		return "(error)";
	return out;
}

TEST(recipient_normalisation)
{
	CHECK_STR(user("TO:<Al.Ice+tag+more@Example.com>", false, false), "alice");
	CHECK_STR(user("TO:<Al.Ice+tag@Example.COM.>", true, false), "alice@example.com");
	CHECK_STR(user("TO:<Al.Ice+tag@Example.com>", false, true), "Al.Ice+tag");
	CHECK_STR(user("TO:<Al.Ice+tag@Example.com>", true, true), "Al.Ice+tag@Example.com");
	CHECK_STR(user("TO:<JÖRG@example.com>", false, false), "jörg");
	CHECK_STR(user("TO:<+tag@example.com>", false, false), "(error)");
	CHECK_STR(user("TO:<...@example.com>", false, false), "(error)");
	CHECK_STR(user("TO:<\"%disabled\"@example.com>", false, false), "(error)");
	CHECK_STR(user("TO:<\".hidden\"@example.com>", false, true), "(error)");
	CHECK_STR(user("TO:<\"a/b\"@example.com>", false, false), "(error)");
}

TEST(received_header)
{
	struct buf b = BUF_INIT(0);
	struct smtp_received r = { .helo = "client.example", .peer_ip = "2001:db8::1",
				   .host_name = "mx.example.net", .proto = "ESMTP", .esmtp = true,
				   .tls = true, .tls_desc = "TLSv1.2 X", .id = "0123",
				   .rcpt = "a@example.net", .now = 1795000000 };
	smtp_received_format(&b, &r);
	CHECK_STR(b.data, "Received: from client.example ([IPv6:2001:db8::1])\r\n"
			  "\tby mx.example.net (sealmail) with ESMTPS (TLSv1.2 X) id 0123\r\n"
			  "\tfor <a@example.net>;\r\n"
			  "\tWed, 18 Nov 2026 11:06:40 +0000\r\n");
	buf_reset(&b);
	r = (struct smtp_received){ .helo = "mta", .peer_ip = "", .host_name = "h",
				    .proto = "LMTP", .esmtp = true, .utf8 = true, .id = "9",
				    .now = 0 };
	smtp_received_format(&b, &r);
	CHECK_STR(b.data, "Received: from mta\r\n\tby h (sealmail) with UTF8LMTP id 9;\r\n"
			  "\tThu, 01 Jan 1970 00:00:00 +0000\r\n");
	buf_free(&b);
}
