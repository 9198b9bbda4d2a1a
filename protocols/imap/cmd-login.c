#include <errno.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>

#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"

#define SASL_MAX_RESPONSE 8192

/* Until the encrypted store exists no account can log in; the commands are
 * parsed and checked fully so clients get the right errors already. */
static int imap_login_unavailable(struct imap_session *s, const char *tag, const char *user)
{
	conn_log(s->conn, LOG_INFO, "login attempt for '%.64s': no account store", user);
	return imap_reply(s, tag, "NO", "[UNAVAILABLE] Accounts are not available on this server yet");
}

/* RFC 9051 section 6.2.3 */
int imap_cmd_login(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 2 || !imap_arg_is_astring(&cmd->args[0]) ||
	    !imap_arg_is_astring(&cmd->args[1]))
		return imap_reply(s, cmd->tag, "BAD", "Usage: LOGIN user password");
	if (!imap_login_allowed(s))
		return imap_reply(s, cmd->tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
	int r = imap_login_unavailable(s, cmd->tag, cmd->args[0].str);
	mbedtls_platform_zeroize((void *)cmd->args[1].str, cmd->args[1].len);
	return r;
}

/* Decodes a SASL PLAIN response (RFC 4616: authzid NUL authcid NUL passwd).
 * Returns 0 and the user name in user_r, or -EINVAL. */
static int sasl_plain_decode(const char *b64, size_t b64_len, char *user_r, size_t user_size)
{
	unsigned char raw[SASL_MAX_RESPONSE];
	size_t n = 0;
	if (mbedtls_base64_decode(raw, sizeof(raw), &n, (const unsigned char *)b64, b64_len) != 0)
		return -EINVAL;
	const unsigned char *nul1 = memchr(raw, '\0', n);
	const unsigned char *nul2 = nul1 ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - raw)) : NULL;
	int r = -EINVAL;
	size_t ulen = nul1 && nul2 ? (size_t)(nul2 - nul1 - 1) : 0;
	if (nul2 && ulen > 0 && ulen < user_size) {
		memcpy(user_r, nul1 + 1, ulen);
		user_r[ulen] = '\0';
		r = 0;
	}
	mbedtls_platform_zeroize(raw, sizeof(raw));
	return r;
}

/* RFC 9051 section 6.2.2, with SASL-IR (RFC 4959). */
int imap_cmd_authenticate(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs < 1 || cmd->nargs > 2 || cmd->args[0].type != IMAP_ARG_ATOM ||
	    (cmd->nargs == 2 && cmd->args[1].type != IMAP_ARG_ATOM))
		return imap_reply(s, cmd->tag, "BAD", "Usage: AUTHENTICATE mechanism [initial-response]");
	if (!imap_login_allowed(s))
		return imap_reply(s, cmd->tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
	if (strcasecmp(cmd->args[0].str, "PLAIN") != 0)
		return imap_reply(s, cmd->tag, "NO", "[CANNOT] Unsupported mechanism");
	const char *resp;
	size_t len;
	if (cmd->nargs == 2) {
		resp = cmd->args[1].str;
		len = cmd->args[1].len;
		if (len == 1 && resp[0] == '=')
			len = 0; /* RFC 4959: "=" is an empty initial response */
	} else {
		int r = stream_puts(s->stream, "+ \r\n");
		if (r == 0)
			r = stream_flush(s->stream);
		if (r == 0)
			r = stream_read_line(s->stream, &resp, &len);
		if (r == -EMSGSIZE)
			return imap_reply(s, cmd->tag, "BAD", "[TOOBIG] Response too long");
		if (r < 0)
			return r;
	}
	if (len == 1 && resp[0] == '*')
		return imap_reply(s, cmd->tag, "BAD", "Authentication cancelled");
	char user[256];
	if (len > SASL_MAX_RESPONSE || sasl_plain_decode(resp, len, user, sizeof(user)) < 0)
		return imap_reply(s, cmd->tag, "BAD", "Malformed PLAIN response");
	mbedtls_platform_zeroize((void *)resp, len);
	return imap_login_unavailable(s, cmd->tag, user);
}
