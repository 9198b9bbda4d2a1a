/* Command-line front ends: each `sealmail <command>` has a main of its own. */
#ifndef SEAL_CLI_H
#define SEAL_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "storage/account.h"

int cli_serve_main(int argc, char **argv);
int cli_admin_main(int argc, char **argv);
int cli_deliver_main(int argc, char **argv);
int cli_remote_main(int argc, char **argv);

/* The root directory when none is given: /etc/sealmail or
 * /usr/local/etc/sealmail, whichever exists (like the manual's Crymap root). */
const char *cli_default_root(void);

void cli_usage_serve(FILE *f);
void cli_usage_admin(FILE *f);
void cli_usage_deliver(FILE *f);
void cli_usage_remote(FILE *f);

/* Room for a password of ACCOUNT_PASSWORD_MAX bytes, its newline and NUL. */
#define CLI_PASSWORD_BUF (ACCOUNT_PASSWORD_MAX + 2)

/* Reads a password into out (CLI_PASSWORD_BUF bytes): from the terminal,
 * showing prompt and not echoing, when standard input is a terminal (and,
 * if again is not NULL, a second time with that prompt, which must match);
 * otherwise the next line of standard input. Returns 0, or -1 after
 * printing "prog: reason" (nothing given, empty, too long, different);
 * out is then wiped. The caller wipes out after use. */
int cli_read_password(const char *prog, const char *prompt, const char *again, char *out,
		      size_t size);

#endif
