/* Passwords for the command line: asked on the terminal without echo, or
 * read from standard input when that is not a terminal (scripts, tests).
 * stdio buffers are turned off for both, so no copy of a password stays in
 * a buffer we cannot wipe. */
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "src/cli.h"

/* One line without its line ending into out: -1 at end of input, -2 for a
 * line that does not fit (the rest of it is left unread). */
static int read_line(FILE *f, char *out, size_t size)
{
	if (!fgets(out, (int)size, f))
		return -1;
	size_t len = strcspn(out, "\r\n");
	bool complete = out[len] != '\0';
	out[len] = '\0';
	if (!complete && len == size - 1)
		return -2;
	return 0;
}

static int ask_tty(FILE *tty, const char *prompt, char *out, size_t size)
{
	struct termios old, quiet;
	int fd = fileno(tty);
	bool echo_off = tcgetattr(fd, &old) == 0;

	fputs(prompt, tty);
	fflush(tty);
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	int r = read_line(tty, out, size);
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &old);
	fputc('\n', tty);
	return r;
}

static const char *password_problem(int r, const char *out)
{
	if (r == -1)
		return "no password given";
	if (r == -2)
		return "password too long";
	return *out ? NULL : "empty password";
}

int cli_read_password(const char *prog, const char *prompt, const char *again, char *out,
		      size_t size)
{
	const char *why;
	out[0] = '\0';
	if (!isatty(STDIN_FILENO)) {
		setvbuf(stdin, NULL, _IONBF, 0);
		why = password_problem(read_line(stdin, out, size), out);
	} else {
		FILE *tty = fopen("/dev/tty", "r+");
		if (!tty) {
			fprintf(stderr, "%s: no terminal to ask for a password\n", prog);
			return -1;
		}
		setvbuf(tty, NULL, _IONBF, 0);
		why = password_problem(ask_tty(tty, prompt, out, size), out);
		if (!why && again) {
			char second[CLI_PASSWORD_BUF];
			int r = ask_tty(tty, again, second, sizeof(second));
			if (r < 0 || strcmp(out, second) != 0)
				why = "the passwords differ";
			explicit_bzero(second, sizeof(second));
		}
		fclose(tty);
	}
	if (why) {
		explicit_bzero(out, size);
		fprintf(stderr, "%s: %s\n", prog, why);
		return -1;
	}
	return 0;
}
