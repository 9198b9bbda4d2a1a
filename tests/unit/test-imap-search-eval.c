/* SEARCH matching against small in-memory messages: metadata keys decide
 * without content, content keys answer MAYBE until given the message,
 * case folding, header presence, dates, sizes, keywords, "$". */
#include <errno.h>

#include "protocols/imap/parser.h"
#include "protocols/imap/search.h"
#include "tests/unit/test.h"

static const char msg_a[] =
	"From: =?UTF-8?Q?J=C3=BCrgen?= <jurgen@example.org>\r\n"
	"To: team@example.org\r\n"
	"Subject: Quarterly REPORT\r\n"
	"Date: Tue, 1 Feb 1994 23:30:00 -0800\r\n"
	"X-Empty:\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/alternative; boundary=b\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"Gr=FC=DFe aus K=F6ln\r\n"
	"--b\r\n"
	"Content-Type: application/pdf\r\n"
	"\r\n"
	"secretpdfword\r\n"
	"--b--\r\n";

static const char *kw_names[] = { "$Junk", "Work" };

static const char *kw_lookup(void *ctx, uint32_t id)
{
	return id < 2 ? kw_names[id] : NULL;
}

struct fixture {
	struct meta_fetch_item meta;
	struct imap_search_msg m;
	uint32_t kw[2];
	struct seqset saved;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->meta.uid = 40;
	f->meta.size = sizeof(msg_a) - 1;
	/* 1994-02-02 07:30 UTC, given as -0800: on 1-Feb-1994 locally. */
	f->meta.internal_date = 760174200;
	f->meta.internal_tz = -480;
	f->meta.save_date = 760174200;
	strcpy(f->meta.email_id, "Eabc");
	f->kw[0] = 1;
	f->m = (struct imap_search_msg){ 3, 40, META_FLAG_SEEN | META_FLAG_FLAGGED, true, 77,
					 f->kw, 1, &f->meta };
	seqset_add(&f->saved, 30, 45);
}

static struct imap_search parse(const char *text)
{
	char line[2048];
	snprintf(line, sizeof(line), "t SEARCH %s\r\n", text);
	struct imap_command cmd;
	const char *error = NULL;
	if (imap_parse_buffer(line, strlen(line), &cmd, &error) != 0)
		test_fail(__FILE__, __LINE__, "parser: %s", error);
	static const struct imap_search_opts o = { 10, 500, true, true, true, true };
	struct imap_search s;
	if (imap_search_parse(cmd.args, cmd.nargs, &o, &s, &error) != 0)
		test_fail(__FILE__, __LINE__, "search parser: %s: %s", text, error);
	imap_command_free(&cmd);
	return s;
}

/* Matches text against msg_a with the fixture; first without content
 * (want_meta), then with it (want). */
static void check(const char *text, int want_meta, int want)
{
	struct fixture f;
	fixture_init(&f);
	struct imap_search s = parse(text);
	struct imap_search_env env = { &f.saved, kw_lookup, NULL };
	int r = imap_search_match(&s, &env, &f.m, NULL);
	if (r != want_meta)
		test_fail(__FILE__, __LINE__, "%s without content: %d, want %d", text, r, want_meta);
	struct mime_source src = mime_source_memory(msg_a, sizeof(msg_a) - 1);
	struct imap_search_content c;
	imap_search_content_init(&c, &src);
	r = imap_search_match(&s, &env, &f.m, &c);
	if (r != want)
		test_fail(__FILE__, __LINE__, "%s with content: %d, want %d", text, r, want);
	imap_search_content_free(&c);
	imap_search_free(&s);
	seqset_free(&f.saved);
}

enum { N = IMAP_SEARCH_NO, Y = IMAP_SEARCH_YES, M = IMAP_SEARCH_MAYBE };

TEST(metadata_keys_decide_alone)
{
	check("ALL", Y, Y);
	check("SEEN FLAGGED UNANSWERED UNDELETED UNDRAFT", Y, Y);
	check("UNSEEN", N, N);
	check("RECENT", Y, Y);
	check("NEW", N, N);
	check("OLD", N, N);
	check("KEYWORD work", Y, Y);
	check("KEYWORD $junk", N, N);
	check("UNKEYWORD Nothing", Y, Y);
	check("3", Y, Y);
	check("1:2,4:*", N, N);
	check("UID 40", Y, Y);
	check("UID 1:39", N, N);
	check("$", Y, Y);
	check("UID $", Y, Y);
	check("MODSEQ 77", Y, Y);
	check("MODSEQ 78", N, N);
	check("EMAILID Eabc", Y, Y);
	check("EMAILID Eabd", N, N);
	check("THREADID T1", N, N);
	check("SAVEDATESUPPORTED", Y, Y);
}

TEST(sizes_and_internal_dates)
{
	char text[64];
	snprintf(text, sizeof(text), "LARGER %zu", sizeof(msg_a) - 2);
	check(text, Y, Y);
	snprintf(text, sizeof(text), "LARGER %zu", sizeof(msg_a) - 1);
	check(text, N, N);
	snprintf(text, sizeof(text), "SMALLER %zu", sizeof(msg_a));
	check(text, Y, Y);
	/* Internal date: 1-Feb-1994 in its own zone (-0800). */
	check("ON 1-Feb-1994", Y, Y);
	check("BEFORE 2-Feb-1994", Y, Y);
	check("BEFORE 1-Feb-1994", N, N);
	check("SINCE 1-Feb-1994", Y, Y);
	check("SINCE 2-Feb-1994", N, N);
	/* Save date: in UTC, 2-Feb-1994. */
	check("SAVEDON 2-Feb-1994", Y, Y);
	check("SAVEDBEFORE 2-Feb-1994", N, N);
	check("SAVEDSINCE 2-Feb-1994", Y, Y);
}

TEST(content_keys)
{
	check("SUBJECT report", M, Y);
	check("SUBJECT \"quarterly report\"", M, Y);
	check("SUBJECT invoice", M, N);
	check("FROM jürgen", M, Y);	/* the encoded word is decoded */
	check("FROM JÜRGEN", M, Y);
	check("FROM jurgen@example.org", M, Y);
	check("TO team", M, Y);
	check("CC team", M, N);	/* no Cc: field */
	check("BCC \"\"", M, N);
	check("HEADER X-Empty \"\"", M, Y);
	check("HEADER x-empty x", M, N);
	check("HEADER Subject \"\"", M, Y);
	check("BODY grüße", M, Y);	/* QP and ISO-8859-1 decoded */
	check("BODY GRÜSSE", M, N);	/* simple folding keeps ß */
	check("BODY köln", M, Y);
	check("BODY quarterly", M, N);	/* the header is not the body */
	check("TEXT quarterly", M, Y);
	check("TEXT köln", M, Y);
	check("TEXT secretpdfword", M, N);	/* non-text parts are ignored */
	check("BODY \"\"", M, Y);
}

TEST(sent_dates)
{
	/* Date: 1 Feb 1994 23:30 -0800: the sender's date is 1-Feb-1994. */
	check("SENTON 1-Feb-1994", M, Y);
	check("SENTBEFORE 1-Feb-1994", M, N);
	check("SENTBEFORE 2-Feb-1994", M, Y);
	check("SENTSINCE 2-Feb-1994", M, N);
	check("SENTSINCE 31-Jan-1994", M, Y);
}

TEST(three_valued_logic)
{
	check("UNSEEN SUBJECT report", N, N);	/* decided without content */
	check("OR SEEN SUBJECT invoice", Y, Y);
	check("OR UNSEEN SUBJECT report", M, Y);
	check("NOT SUBJECT invoice", M, Y);
	check("NOT (SEEN SUBJECT report)", M, N);
	check("OR NOT SEEN NOT FLAGGED", N, N);
}

TEST(no_date_header_never_matches)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	struct imap_search s = parse("OR SENTBEFORE 1-Jan-2100 SENTSINCE 1-Jan-1900");
	struct imap_search_env env = { NULL, NULL, NULL };
	struct imap_search_msg m = { 1, 1, 0, false, 1, NULL, 0, NULL };
	struct mime_source src = mime_source_memory(msg, sizeof(msg) - 1);
	struct imap_search_content c;
	imap_search_content_init(&c, &src);
	CHECK_INT(imap_search_match(&s, &env, &m, &c), ==, IMAP_SEARCH_NO);
	imap_search_content_free(&c);
	imap_search_free(&s);
	/* Without metadata, size and date keys do not match, and "$" with
	 * nothing saved is empty. */
	s = parse("OR OR LARGER 0 ON 1-Jan-1970 $");
	CHECK_INT(imap_search_match(&s, &env, &m, NULL), ==, IMAP_SEARCH_NO);
	imap_search_free(&s);
}

static ssize_t failing_read(void *ctx, uint64_t offset, void *buf, size_t len)
{
	return -EBADMSG;
}

TEST(source_errors_propagate)
{
	struct imap_search s = parse("BODY x");
	struct imap_search_env env = { NULL, NULL, NULL };
	struct imap_search_msg m = { 1, 1, 0, false, 1, NULL, 0, NULL };
	struct mime_source src = { failing_read, NULL, NULL, 100 };
	struct imap_search_content c;
	imap_search_content_init(&c, &src);
	CHECK_INT(imap_search_match(&s, &env, &m, &c), ==, -EBADMSG);
	imap_search_content_free(&c);
	imap_search_free(&s);
}

TEST(body_text_is_bounded)
{
	size_t n = 3 * MIME_SEARCH_MAX_TEXT;
	char *msg = malloc(n + 64);
	size_t h = (size_t)snprintf(msg, 64, "Subject: big\r\n\r\n");
	memset(msg + h, 'a', n - h);
	memcpy(msg + n - 6, "needle", 6);
	struct imap_search s = parse("BODY needle");
	struct imap_search_env env = { NULL, NULL, NULL };
	struct imap_search_msg m = { 1, 1, 0, false, 1, NULL, 0, NULL };
	struct mime_source src = mime_source_memory(msg, n);
	struct imap_search_content c;
	imap_search_content_init(&c, &src);
	CHECK_INT(imap_search_match(&s, &env, &m, &c), ==, IMAP_SEARCH_NO);
	CHECK(c.body.len <= MIME_SEARCH_MAX_TEXT);
	imap_search_content_free(&c);
	imap_search_free(&s);
	free(msg);
}
