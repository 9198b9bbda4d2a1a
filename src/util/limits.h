/* Every protocol limit in one place (STYLE.md). Parsers take them as
 * arguments; these are the values the daemon passes. */
#ifndef SEAL_LIMITS_H
#define SEAL_LIMITS_H

#define SEAL_MAX_LINE (64 * 1024)		/* IMAP command line, TOML */
#define SEAL_MAX_MESSAGE (64 * 1024 * 1024)	/* APPEND, SMTP SIZE */
#define SEAL_MAX_MIME_DEPTH 20
#define SEAL_MAX_MIME_PARTS 1000
#define SEAL_MAX_HEADER_BLOCK (256 * 1024)
#define SEAL_SMTP_MAX_LINE 65534

/* IMAP commands other than APPEND are held in memory whole: their literals
 * together may not pass this. */
#define IMAP_MAX_COMMAND (1024 * 1024)
#define IMAP_MAX_ARGS 4096		/* tokens in one command */
#define IMAP_MAX_LIST_DEPTH 32		/* nested parenthesised lists */
#define IMAP_MAX_TAG 64

#endif
