/* LOGIN (RFC 9051 6.2.3) and AUTHENTICATE PLAIN (6.2.2, RFC 4616, SASL-IR
 * RFC 4959). Both end in imap_login_proceed(): the store checks the
 * password (Argon2 on the worker pool, or the login cache), failures are
 * throttled per client address and per user name (src/iplimit.h), and
 * neither command works outside TLS. */
#include <ctype.h>
#include <errno.h>
#include <mbedtls/base64.h>
#include <mbedtls/platform_util.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/iplimit.h"
#include "src/log.h"
#include "src/server.h"
#include "src/util/xmalloc.h"
#include "storage/store.h"

#define SASL_MAX_RESPONSE 8192
#define IMAP_LOGIN_NAME_MAX 255

/* The key of a user name in the failure table: "user:" and the name in
 * lower case, so "Alice" and "alice" share their count. */
static void login_user_key(const char *user, char *key, size_t size)
{
	size_t n = (size_t)snprintf(key, size, "user:%s", user);
	for (size_t i = 5; i < n && i < size; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
}

/* Waits out the throttling earned by earlier failures from this address
 * or against this user, before any work is spent on the attempt. */
static int login_throttle(struct imap_session *s, const char *user_key)
{
	struct server *srv = s->conn->server;
	int64_t now = coro_now_ms();
	uint64_t delay = 0;
	if (s->conn->peer_ip[0])
		delay = iplimit_auth_delay_ms(srv->per_ip, s->conn->peer_ip, now);
	uint64_t user_delay = iplimit_auth_delay_ms(srv->per_ip, user_key, now);
	if (user_delay > delay)
		delay = user_delay;
	if (delay == 0)
		return 0;
	conn_log(s->conn, LOG_INFO, "login throttled for %llu ms", (unsigned long long)delay);
	return coro_sleep(delay);
}

static void login_failed(struct imap_session *s, const char *user_key)
{
	struct server *srv = s->conn->server;
	int64_t now = coro_now_ms();
	if (s->conn->peer_ip[0])
		iplimit_auth_failed(srv->per_ip, s->conn->peer_ip, now);
	iplimit_auth_failed(srv->per_ip, user_key, now);
}

/* Checks user and password (wiped here, whatever happens) and answers. */
static int imap_login_proceed(struct imap_session *s, const char *tag, const char *user,
			      char *password, size_t password_len)
{
	char key[IMAP_LOGIN_NAME_MAX + 8];
	login_user_key(user, key, sizeof(key));
	int r = login_throttle(s, key);
	char *error = NULL;
	struct store_user *u = NULL;
	if (r == 0)
		r = store_login(s->store, user, password, &u, &error);
	mbedtls_platform_zeroize(password, password_len);
	if (r == 0) {
		s->user = u;
		s->user_name = xstrdup(user);
		s->state = IMAP_STATE_AUTHENTICATED;
		conn_log(s->conn, LOG_INFO, "logged in as '%.64s'", user);
		return imap_reply(s, tag, "OK", "[CAPABILITY %s] Logged in", imap_capabilities(s));
	}
	if (r == -EACCES) {
		login_failed(s, key);
		conn_log(s->conn, LOG_NOTICE, "login failed for '%.64s'", user);
		free(error);
		return imap_reply(s, tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	}
	conn_log(s->conn, LOG_ERR, "login of '%.64s' failed: %s", user,
		 error ? error : strerror(-r));
	free(error);
	if (r == -ECANCELED)
		return r;
	return imap_reply(s, tag, "NO", "[UNAVAILABLE] Cannot log in now, try again later");
}

static bool login_name_ok(const char *user, size_t len)
{
	return len > 0 && len <= IMAP_LOGIN_NAME_MAX && !memchr(user, '\0', len);
}

int imap_cmd_login(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 2 || !imap_arg_is_astring(&cmd->args[0]) ||
	    !imap_arg_is_astring(&cmd->args[1]))
		return imap_reply(s, cmd->tag, "BAD", "Usage: LOGIN user password");
	char *password = (char *)cmd->args[1].str;
	size_t password_len = cmd->args[1].len;
	if (!imap_login_allowed(s)) {
		mbedtls_platform_zeroize(password, password_len);
		return imap_reply(s, cmd->tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
	}
	if (!login_name_ok(cmd->args[0].str, cmd->args[0].len) ||
	    memchr(password, '\0', password_len)) {
		mbedtls_platform_zeroize(password, password_len);
		return imap_reply(s, cmd->tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	}
	return imap_login_proceed(s, cmd->tag, cmd->args[0].str, password, password_len);
}

struct sasl_plain {
	unsigned char raw[SASL_MAX_RESPONSE + 1];
	const char *authzid, *user;
	char *password;
	size_t password_len;
};

/* Decodes a SASL PLAIN response (RFC 4616: authzid NUL authcid NUL passwd)
 * into p (the caller wipes p->raw). An authorisation identity, if given,
 * must be the user itself (manual, "Authentication"). 0 or -EINVAL. */
static int sasl_plain_decode(const char *b64, size_t b64_len, struct sasl_plain *p)
{
	size_t n = 0;
	if (mbedtls_base64_decode(p->raw, sizeof(p->raw) - 1, &n, (const unsigned char *)b64,
				  b64_len) != 0)
		return -EINVAL;
	p->raw[n] = '\0';
	unsigned char *nul1 = memchr(p->raw, '\0', n);
	unsigned char *nul2 = nul1 ? memchr(nul1 + 1, '\0', n - (size_t)(nul1 + 1 - p->raw)) : NULL;
	if (!nul2 || memchr(nul2 + 1, '\0', n - (size_t)(nul2 + 1 - p->raw)))
		return -EINVAL;
	p->authzid = (const char *)p->raw;
	p->user = (const char *)nul1 + 1;
	p->password = (char *)nul2 + 1;
	p->password_len = n - (size_t)(nul2 + 1 - p->raw);
	return 0;
}

/* Reads the client's response after an empty "+ " challenge. */
static int sasl_read_response(struct imap_session *s, const char **resp, size_t *len)
{
	int r = stream_puts(s->stream, "+ \r\n");
	if (r == 0)
		r = stream_flush(s->stream);
	if (r == 0)
		r = stream_read_line(s->stream, resp, len);
	return r;
}

static int imap_authenticate_plain(struct imap_session *s, const char *tag, const char *resp,
				   size_t len)
{
	struct sasl_plain *p = xcalloc(1, sizeof(*p));
	int r;
	if (len > SASL_MAX_RESPONSE * 4 / 3 + 4 || sasl_plain_decode(resp, len, p) < 0)
		r = imap_reply(s, tag, "BAD", "Malformed PLAIN response");
	else if (!login_name_ok(p->user, strlen(p->user)))
		r = imap_reply(s, tag, "NO", "[AUTHENTICATIONFAILED] Authentication failed");
	else if (p->authzid[0] && strcmp(p->authzid, p->user) != 0)
		r = imap_reply(s, tag, "NO", "[AUTHZFAILED] Cannot act as another user");
	else
		r = imap_login_proceed(s, tag, p->user, p->password, p->password_len);
	mbedtls_platform_zeroize(p, sizeof(*p));
	free(p);
	return r;
}

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
		int r = sasl_read_response(s, &resp, &len);
		if (r == -EMSGSIZE)
			return imap_reply(s, cmd->tag, "BAD", "[TOOBIG] Response too long");
		if (r < 0)
			return r;
	}
	if (len == 1 && resp[0] == '*')
		return imap_reply(s, cmd->tag, "BAD", "Authentication cancelled");
	int r = imap_authenticate_plain(s, cmd->tag, resp, len);
	mbedtls_platform_zeroize((void *)resp, len);
	return r;
}
