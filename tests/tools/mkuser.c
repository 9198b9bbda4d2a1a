/* seal-mkuser USERS_DIR NAME PASSWORD: creates a user with account_create()
 * for end-to-end tests, until `sealmail admin user add` exists. Uses a
 * cheap Argon2 cost: the tests log in with no one watching the clock. */
#include <stdio.h>
#include <stdlib.h>

#include "storage/account.h"

int main(int argc, char **argv)
{
	static const struct argon_params cheap = { .memory_kib = 256, .iterations = 1,
						   .parallelism = 1 };
	char *err = NULL;

	if (argc != 4) {
		fprintf(stderr, "usage: seal-mkuser USERS_DIR NAME PASSWORD\n");
		return 2;
	}
	int r = account_create(argv[1], argv[2], argv[3], &cheap, NULL, &err);
	if (r < 0) {
		fprintf(stderr, "seal-mkuser: %s\n", err ? err : "failed");
		free(err);
		return 1;
	}
	return 0;
}
