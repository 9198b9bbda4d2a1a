/* COMPRESS DEFLATE (RFC 4978): raw DEFLATE on both directions from the
 * byte after the tagged OK, on top of TLS. Allowed at any time once per
 * connection (manual, COMPRESS=DEFLATE); every flush of the stream is a
 * zlib sync flush, so IDLE notifications are never held in the
 * compressor. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "coro/stream.h"
#include "protocols/imap/session.h"
#include "src/log.h"
#include "src/server.h"

int imap_cmd_compress(struct imap_session *s, struct imap_command *cmd)
{
	if (cmd->nargs != 1 || cmd->args[0].type != IMAP_ARG_ATOM)
		return imap_reply(s, cmd->tag, "BAD", "Usage: COMPRESS DEFLATE");
	if (strcasecmp(cmd->args[0].str, "DEFLATE") != 0)
		return imap_reply(s, cmd->tag, "BAD", "Unknown compression algorithm");
	if (stream_is_compressed(s->stream))
		return imap_reply(s, cmd->tag, "NO", "[COMPRESSIONACTIVE] DEFLATE is already on");
	int r = imap_reply(s, cmd->tag, "OK", "DEFLATE active");
	if (r == 0)
		r = stream_start_deflate(s->stream);
	if (r < 0)
		conn_log(s->conn, LOG_INFO, "COMPRESS failed: %s", strerror(-r));
	return r;
}
