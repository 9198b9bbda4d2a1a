#include <stdio.h>
#include <string.h>

#include "src/cli.h"
#include "version.h"

struct cli_command {
	const char *name;
	int (*main)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary;
};

static const struct cli_command commands[] = {
	{ "serve", cli_serve_main, cli_usage_serve, "run the mail server in the foreground" },
	{ "admin", cli_admin_main, cli_usage_admin, "manage the running server over its admin socket" },
	{ "deliver", cli_deliver_main, cli_usage_deliver, "deliver one message from stdin (MDA)" },
	{ "remote", cli_remote_main, cli_usage_remote, "your account over IMAPS: test, chpw, config" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: sealmail COMMAND [ARGS...]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "  %-8s %s\n", "help", "show help for a command");
	fprintf(f, "\nsealmail --version prints the version.\n");
}

static const struct cli_command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("sealmail %s\n", SEALMAIL_VERSION);
		return 0;
	}
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		const struct cli_command *c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "sealmail: no such command '%s'\n", argv[2]);
			return 2;
		}
		c->usage(stdout);
		return 0;
	}
	const struct cli_command *c = find(cmd);
	if (!c) {
		fprintf(stderr, "sealmail: no such command '%s' (see sealmail --help)\n", cmd);
		return 2;
	}
	return c->main(argc - 1, argv + 1);
}
