/* What every IMAP scenario of sealmail-bench takes: the server, plaintext
 * or TLS, and the accounts to log in as.
 *
 *   --host IP (default 127.0.0.1) --port P --tls (default) | --plain
 *   --users-file F   one account a line: NAME PASSWORD (the password runs
 *                    to the end of the line; '#' lines and blank lines
 *                    are skipped)
 *   --user U --password PW   a single account instead
 *   --timeout-ms MS  bound on each blocking call (default 60000)
 *
 * Client i logs in as account i % (number of accounts).
 */
#ifndef SEAL_BENCH_IMAP_OPTS_H
#define SEAL_BENCH_IMAP_OPTS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "bench/imap-client.h"

struct imap_account {
	char *name, *password;
};

struct imap_common {
	struct imapc_target target;	/* .tls is set by bench_imap_finish */
	bool tls;
	const char *users_file, *user, *password;
	struct imap_account *accounts;
	unsigned n_accounts;
};

/* getopt_long codes of the common options, above any single character. */
enum {
	IMAP_OPT_HOST = 256,
	IMAP_OPT_PORT,
	IMAP_OPT_TLS,
	IMAP_OPT_PLAIN,
	IMAP_OPT_USERS_FILE,
	IMAP_OPT_USER,
	IMAP_OPT_PASSWORD,
	IMAP_OPT_TIMEOUT,
};

#define IMAP_COMMON_LONG_OPTIONS                                        \
	{ "host", required_argument, NULL, IMAP_OPT_HOST },             \
	{ "port", required_argument, NULL, IMAP_OPT_PORT },             \
	{ "tls", no_argument, NULL, IMAP_OPT_TLS },                     \
	{ "plain", no_argument, NULL, IMAP_OPT_PLAIN },                 \
	{ "users-file", required_argument, NULL, IMAP_OPT_USERS_FILE }, \
	{ "user", required_argument, NULL, IMAP_OPT_USER },             \
	{ "password", required_argument, NULL, IMAP_OPT_PASSWORD },     \
	{ "timeout-ms", required_argument, NULL, IMAP_OPT_TIMEOUT }

#define IMAP_COMMON_USAGE                                                          \
	"  --port P [--host IP] [--tls | --plain] [--timeout-ms MS]\n"             \
	"  --users-file F (lines: NAME PASSWORD) | --user U --password PW\n"

void bench_imap_defaults(struct imap_common *o);
/* Takes a common option: true if c was one of them. */
bool bench_imap_option(struct imap_common *o, int c, const char *arg);
/* Checks the options, reads the accounts, makes the TLS client config (no
 * certificate check: the servers under test use self-signed ones). Prints
 * what is wrong and returns false on failure. */
bool bench_imap_finish(struct imap_common *o);
void bench_imap_free(struct imap_common *o);
const struct imap_account *bench_imap_account(const struct imap_common *o, unsigned client);

#endif
