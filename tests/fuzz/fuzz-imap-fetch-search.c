/* libFuzzer target: FETCH item lists and SEARCH criteria, as they arrive
 * after the command parser, parsed and then run against a fixed message:
 * the FETCH renderer into memory, the SEARCH matcher with its content. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "protocols/imap/fetch.h"
#include "protocols/imap/parser.h"
#include "protocols/imap/search.h"

static const char message[] =
	"From: Alice <alice@example.org>\r\n"
	"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= hello world\r\n"
	"Date: Tue, 1 Feb 1994 23:30:00 -0800\r\n"
	"X-Empty:\r\n"
	"MIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n"
	"\r\n"
	"--b\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"K=F6ln numbers\r\n"
	"--b\r\n"
	"Content-Type: application/octet-stream\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"AAECaGk=\r\n"
	"--b\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: inner\r\n"
	"\r\n"
	"inner\r\n"
	"--b--\r\n";

static int discard(void *ctx, const void *data, size_t len)
{
	*(size_t *)ctx += len;
	return 0;
}

static const char *keyword(void *ctx, uint32_t id)
{
	return id == 0 ? "$Work" : NULL;
}

static void run_fetch(const struct imap_command *cmd, const struct mime_source *src)
{
	static const struct imap_fetch_opts opts = { true, true, true, true, true };
	struct imap_fetch_req req;
	const char *err = NULL;
	if (cmd->nargs < 2 || imap_fetch_parse(cmd->args + 1, cmd->nargs - 1, &opts, &req, &err))
		return;
	size_t total = 0;
	struct imap_fetch_ctx ctx;
	struct meta_fetch_item meta = { 5, 1, src->size, 760000000, -480, 760000000, false, "E1" };
	struct imap_fetch_msg m = { 1, 5, "(\\Seen)", 7, 0, &meta, src, NULL };
	imap_fetch_ctx_init(&ctx, &req, (struct imap_fetch_sink){ discard, &total }, false);
	(void)imap_fetch_render(&ctx, &m);
	imap_fetch_ctx_free(&ctx);
	imap_fetch_req_free(&req);
}

static void run_search(const struct imap_command *cmd, const struct mime_source *src)
{
	static const struct imap_search_opts opts = { 3, 9, true, true, true, true };
	struct imap_search search;
	const char *err = NULL;
	if (imap_search_parse(cmd->args, cmd->nargs, &opts, &search, &err) < 0)
		return;
	static const uint32_t kw[] = { 0 };
	struct meta_fetch_item meta = { 5, 1, src->size, 760000000, -480, 760000000, false, "E1" };
	struct imap_search_msg m = { 2, 5, META_FLAG_SEEN, true, 7, kw, 1, &meta };
	struct seqset saved = { NULL, 0 };
	seqset_add(&saved, 5, 5);
	struct imap_search_env env = { &saved, keyword, NULL };
	struct imap_search_content content;
	imap_search_content_init(&content, src);
	if (imap_search_match(&search, &env, &m, NULL) == IMAP_SEARCH_MAYBE)
		(void)imap_search_match(&search, &env, &m, &content);
	imap_search_content_free(&content);
	seqset_free(&saved);
	imap_search_free(&search);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_command cmd;
	const char *err = NULL;
	if (imap_parse_buffer((const char *)data, size, &cmd, &err) == 0) {
		struct mime_source src = mime_source_memory(message, sizeof(message) - 1);
		run_fetch(&cmd, &src);
		run_search(&cmd, &src);
	}
	imap_command_free(&cmd);
	return 0;
}
