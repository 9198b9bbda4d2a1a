/* The DATA decoder (RFC 5321 4.5.2 transparency, 4.1.1.4 end of data) with
 * the manual's line-ending rules ("SMTP/LMTP Characteristics", General
 * notes). Pure: fed the lines stream_read_line() returns.
 *
 * - Bare LF becomes CRLF in exactly two cases: the client has been
 *   sending its commands with UNIX newlines, or the first line ending of
 *   the data is a bare LF. Then every LF ends a line.
 * - Otherwise nothing is converted and only CRLF ends a line: a bare LF
 *   is content, so binary data survives a plain DATA as long as the
 *   sender stuffs dots after every CRLF (and only there). A "." line
 *   then ends the data after CRLF only, but also when it is itself ended
 *   by a bare LF (".\n" after CRLF can mean nothing else).
 * - At the beginning of a line, a leading dot is removed.
 */
#ifndef SEAL_SMTP_DOT_H
#define SEAL_SMTP_DOT_H

#include <stdbool.h>
#include <stddef.h>

struct smtp_dot {
	bool convert;	/* bare LF becomes CRLF, and every LF ends a line */
	bool detect;	/* the first line ending is still to come */
	bool bol;	/* the next line starts at the beginning of a line */
};

/* client_unix: the client's commands came with bare LF. */
void smtp_dot_init(struct smtp_dot *d, bool client_unix);

/* One line of data without its terminator; crlf tells which terminator it
 * had. Returns true for the end marker (store nothing). Otherwise the
 * bytes to store are line[*skip_r .. len) followed by *eol_r. */
bool smtp_dot_line(struct smtp_dot *d, const char *line, size_t len, bool crlf, size_t *skip_r,
		   const char **eol_r);

#endif
