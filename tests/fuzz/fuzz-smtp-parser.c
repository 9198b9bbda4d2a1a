/* libFuzzer target: the SMTP command line parsers, the relay policy and
 * recipient normalisation, and the DATA decoder, on arbitrary bytes. The
 * input is cut into lines at LF as the stream cuts them; each line goes
 * through what the session would do with it, and all of them through the
 * DATA decoder. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocols/smtp/dot.h"
#include "protocols/smtp/parser.h"
#include "protocols/smtp/recipient.h"
#include "src/config.h"

static void one_command(const char *line, size_t len)
{
	static const struct config_smtp_domain doms[] = { { .name = "example.com" } };
	struct smtp_command cmd;
	struct smtp_path path;
	struct smtp_params params;
	const char *why;
	char buf[512];
	uint64_t size;
	bool last;

	if (smtp_parse_command(line, len, &cmd) < 0)
		return;
	if (strcmp(cmd.verb, "MAIL") == 0) {
		smtp_parse_mail_rcpt(cmd.args, cmd.args_len, "FROM", &path, &params, &why);
	} else if (strcmp(cmd.verb, "RCPT") == 0) {
		struct smtp_refusal refusal;
		if (smtp_parse_mail_rcpt(cmd.args, cmd.args_len, "TO", &path, &params, &why) == 0 &&
		    smtp_recipient_allowed(&path, true, doms, 1, len & 1, &refusal)) {
			smtp_recipient_user(&path, len & 2, len & 4, buf, sizeof(buf));
			smtp_recipient_user(&path, true, false, buf, 8);
		}
	} else if (strcmp(cmd.verb, "BDAT") == 0) {
		smtp_parse_bdat(cmd.args, cmd.args_len, &size, &last);
	} else {
		smtp_parse_helo(cmd.args, cmd.args_len, buf, sizeof(buf));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_dot dot;
	const char *p = (const char *)data, *end = p + size;
	smtp_dot_init(&dot, size & 1);
	while (p < end) {
		const char *lf = memchr(p, '\n', (size_t)(end - p));
		size_t len = (size_t)((lf ? lf : end) - p);
		bool crlf = len > 0 && p[len - 1] == '\r';
		size_t n = len - crlf, skip;
		const char *eol;
		/* The parsers read exactly n bytes: give them no terminator to
		 * lean on. */
		char *copy = malloc(n ? n : 1);
		memcpy(copy, p, n);
		one_command(copy, n);
		if (!smtp_dot_line(&dot, copy, n, crlf, &skip, &eol) && skip > n)
			__builtin_trap();
		free(copy);
		p += len + (lf != NULL);
	}
	return 0;
}
