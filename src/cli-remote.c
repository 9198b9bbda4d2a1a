/* `sealmail remote test|chpw|config`: options, help, and the private loop
 * with the one coroutine that runs the subcommand (cli-remote.h). */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "coro/coro.h"
#include "src/cli-remote.h"
#include "src/cli.h"

#define REMOTE_STACK (256 * 1024)
#define REMOTE_NAME_MAX 255	/* host and user names we pass on */

static const char common_usage[] =
	"  --host H            the server (required)\n"
	"  --port P            its IMAPS port (default 993)\n"
	"  --user U            your user name (default: your login name)\n"
	"  --insecure          do not verify the server's certificate (test servers\n"
	"                      with self-signed certificates only)\n"
	"  --ca-file FILE      trust the CA certificates in FILE instead of the\n"
	"                      system's (" "/etc/ssl/certs/ca-certificates.crt)\n"
	"  --trace             show the IMAP dialogue on stderr (passwords masked)\n"
	"  --help              this text\n"
	"\nPasswords are asked for on the terminal, without echo; when standard input\n"
	"is not a terminal, each is read as one line from it instead.\n";

static void usage_test(FILE *f)
{
	fprintf(f, "usage: sealmail remote test --host H [--port P] [--user U] [--insecure]\n"
		   "                            [--ca-file FILE] [--trace]\n\n"
		   "Connects over IMAPS, logs in and out: checks that the server, its\n"
		   "certificate and your password work.\n\n%s",
		common_usage);
}

static void usage_chpw(FILE *f)
{
	fprintf(f, "usage: sealmail remote chpw --host H [--port P] [--user U] [--insecure]\n"
		   "                            [--ca-file FILE] [--trace]\n\n"
		   "Changes your password: asks for the current one, then the new one\n"
		   "twice (from standard input: the current, then the new, one per line).\n"
		   "The change takes effect at once; sessions already open go on. The\n"
		   "server keeps a backup of your previous configuration, named in the\n"
		   "output: an administrator can put it back to undo the change.\n\n%s",
		common_usage);
}

static void usage_config(FILE *f)
{
	fprintf(f,
		"usage: sealmail remote config --host H [--port P] [--user U] [--insecure]\n"
		"                              [--ca-file FILE] [--trace] [SETTINGS]\n\n"
		"Without settings, prints your configuration. With them, changes it:\n"
		"  --internal-key-pattern P   key names for what you store, e.g.\n"
		"                             \"internal-%%Y-%%m\" (a new key every month)\n"
		"  --external-key-pattern P   key names for mail delivered to you,\n"
		"                             e.g. \"external-%%Y\" (yearly)\n"
		"  --smtp-out-save M          mailbox for sent mail ('' for none)\n"
		"  --smtp-out-success-receipts M  mailbox for delivery receipts ('' for none)\n"
		"  --smtp-out-failure-receipts M  mailbox for failure receipts ('' for INBOX)\n"
		"Patterns take %%Y %%G %%y %%g (year, required) and %%m %%d %%j %%U %%W %%V %%u %%w.\n\n%s",
		common_usage);
}

void cli_usage_remote(FILE *f)
{
	fprintf(f, "usage: sealmail remote COMMAND --host H [--port P] [--user U] [--insecure]\n\n"
		   "Your account on a sealmail server, over IMAPS:\n"
		   "  test     log in and out: check the connection and your password\n"
		   "  chpw     change your password\n"
		   "  config   show or change your key rotation and outbound mail settings\n\n"
		   "sealmail remote COMMAND --help shows the options of each.\n");
}

static const struct {
	const char *name;
	int (*run)(const struct remote_opts *o);
	void (*usage)(FILE *f);
} subcommands[] = {
	{ "test", remote_test, usage_test },
	{ "chpw", remote_chpw, usage_chpw },
	{ "config", remote_config, usage_config },
};

static const char *const setting_options[RS_COUNT] = {
	"--internal-key-pattern", "--external-key-pattern", "--smtp-out-save",
	"--smtp-out-success-receipts", "--smtp-out-failure-receipts",
};

/* "--name VALUE" or "--name=VALUE": the value, advancing *i; NULL if arg is
 * not this option. *missing is set when the value is not there. */
static const char *option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static int parse_port(const char *s, unsigned *port)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > 65535 || *s == '-' || *s == '+')
		return -1;
	*port = (unsigned)v;
	return 0;
}

/* Options after the subcommand. 0, 1 (--help shown) or 2 (usage error). */
static int parse_options(int argc, char **argv, size_t sub, struct remote_opts *o)
{
	bool config = strcmp(subcommands[sub].name, "config") == 0;
	for (int i = 2; i < argc; i++) {
		bool missing = false, known = true;
		const char *v, *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			subcommands[sub].usage(stdout);
			return 1;
		} else if (strcmp(a, "--insecure") == 0) {
			o->insecure = true;
		} else if (strcmp(a, "--trace") == 0) {
			o->trace = true;
		} else if ((v = option_value(argc, argv, &i, "--host", &missing))) {
			o->host = v;
		} else if ((v = option_value(argc, argv, &i, "--user", &missing))) {
			o->user = v;
		} else if ((v = option_value(argc, argv, &i, "--ca-file", &missing))) {
			o->ca_file = v;
		} else if ((v = option_value(argc, argv, &i, "--port", &missing))) {
			if (parse_port(v, &o->port) < 0)
				return remote_fail("--port: '%s' is not a port number", v), 2;
		} else {
			known = false;
			for (size_t k = 0; config && !missing && k < RS_COUNT && !known; k++)
				if ((v = option_value(argc, argv, &i, setting_options[k], &missing)))
					o->set[k] = v, known = true;
		}
		if (missing)
			return remote_fail("%s needs a value", a), 2;
		if (!known) {
			remote_fail("unknown option '%s'", a);
			subcommands[sub].usage(stderr);
			return 2;
		}
	}
	return 0;
}

/* Checks what the options leave open, and fills in the defaults. */
static int check_options(struct remote_opts *o)
{
	if (!o->host || !*o->host)
		return remote_fail("--host is required (see --help)"), 2;
	if (!o->user || !*o->user) {
		const char *login = getenv("USER");
		struct passwd *pw = login && *login ? NULL : getpwuid(getuid());
		o->user = login && *login ? login : pw ? pw->pw_name : NULL;
		if (!o->user)
			return remote_fail("--user is required (no login name found)"), 2;
	}
	if (strlen(o->host) > REMOTE_NAME_MAX || strlen(o->user) > REMOTE_NAME_MAX)
		return remote_fail("host and user names are at most %d bytes", REMOTE_NAME_MAX), 2;
	if (o->insecure && o->ca_file)
		return remote_fail("--insecure and --ca-file contradict each other"), 2;
	return 0;
}

struct remote_run {
	int (*run)(const struct remote_opts *o);
	const struct remote_opts *o;
	int status;
};

static void remote_coroutine(void *arg)
{
	struct remote_run *rr = arg;
	rr->status = rr->run(rr->o);
}

/* A private loop and runtime, as the server has, for one coroutine. */
static int run_on_loop(int (*run)(const struct remote_opts *o), const struct remote_opts *o)
{
	uv_loop_t loop;
	struct remote_run rr = { run, o, 1 };
	if (uv_loop_init(&loop) != 0 || coro_runtime_init(&loop) != 0)
		return remote_fail("cannot start the event loop");
	if (!coro_spawn(remote_coroutine, &rr, REMOTE_STACK))
		rr.status = remote_fail("cannot start a coroutine");
	uv_run(&loop, UV_RUN_DEFAULT);
	coro_runtime_shutdown();
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	return rr.status;
}

int cli_remote_main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cli_usage_remote(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	size_t sub = sizeof(subcommands) / sizeof(subcommands[0]);
	for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (strcmp(argv[1], subcommands[i].name) == 0)
			sub = i;
	if (sub == sizeof(subcommands) / sizeof(subcommands[0])) {
		remote_fail("no such command '%s'", argv[1]);
		cli_usage_remote(stderr);
		return 2;
	}
	struct remote_opts o = { .sub = subcommands[sub].name, .port = REMOTE_DEFAULT_PORT };
	int r = parse_options(argc, argv, sub, &o);
	if (r != 0)
		return r == 1 ? 0 : r;
	if ((r = check_options(&o)) != 0)
		return r;
	signal(SIGPIPE, SIG_IGN);	/* a closed connection is an error, not death */
	return run_on_loop(subcommands[sub].run, &o);
}
