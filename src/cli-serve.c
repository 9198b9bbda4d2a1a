#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "src/cli.h"
#include "src/server.h"

const char *cli_default_root(void)
{
	if (access("/etc/sealmail", F_OK) == 0)
		return "/etc/sealmail";
	if (access("/usr/local/etc/sealmail", F_OK) == 0)
		return "/usr/local/etc/sealmail";
	return "/etc/sealmail";
}

void cli_usage_serve(FILE *f)
{
	fprintf(f, "usage: sealmail serve [--root ROOT] [--config FILE]\n\n"
		   "Runs the server in the foreground, logging to stderr (or syslog),\n"
		   "until SIGTERM or SIGINT (graceful stop) or `sealmail admin shutdown`.\n"
		   "SIGHUP reloads the configuration and TLS certificates.\n\n"
		   "  --root ROOT    directory with sealmail.toml and users/ (default %s)\n"
		   "  --config FILE  configuration file (default ROOT/sealmail.toml)\n",
		cli_default_root());
}

int cli_serve_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *root = NULL, *config = NULL;
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'r':
			root = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'h':
			cli_usage_serve(stdout);
			return 0;
		default:
			cli_usage_serve(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		cli_usage_serve(stderr);
		return 2;
	}
	if (!root && !config)
		root = cli_default_root();
	char path[4096];
	if (!config) {
		snprintf(path, sizeof(path), "%s/sealmail.toml", root);
		config = path;
	}
	return server_main(root, config);
}
