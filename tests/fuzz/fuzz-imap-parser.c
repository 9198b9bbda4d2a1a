/* libFuzzer target: the IMAP command parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "protocols/imap/parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_command cmd;
	const char *err = NULL;
	int r = imap_parse_buffer((const char *)data, size, &cmd, &err);
	if (r == 0) {
		/* Walk the tree so a bad pointer in it is found. */
		volatile size_t sum = 0;
		for (size_t i = 0; i < cmd.nargs; i++)
			sum += cmd.args[i].type == IMAP_ARG_LIST ? cmd.args[i].len
								 : (size_t)cmd.args[i].str[0];
		(void)sum;
	}
	imap_command_free(&cmd);
	return 0;
}
