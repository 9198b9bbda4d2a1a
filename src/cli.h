/* Command-line front ends: each `sealmail <command>` has a main of its own. */
#ifndef SEAL_CLI_H
#define SEAL_CLI_H

#include <stdio.h>

int cli_serve_main(int argc, char **argv);
int cli_admin_main(int argc, char **argv);
int cli_deliver_main(int argc, char **argv);

/* The root directory when none is given: /etc/sealmail or
 * /usr/local/etc/sealmail, whichever exists (like the manual's Crymap root). */
const char *cli_default_root(void);

void cli_usage_serve(FILE *f);
void cli_usage_admin(FILE *f);
void cli_usage_deliver(FILE *f);

#endif
