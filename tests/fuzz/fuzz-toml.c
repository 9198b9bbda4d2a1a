/* libFuzzer entry point for the TOML reader: any bytes must parse into a
 * consistent tree or fail with one "NAME..." line, never crash or leak.
 *
 *   ./fuzz-toml -dict=tests/fuzz/fuzz-toml.dict corpus/
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "src/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks what the header promises and marks every entry used. */
static void walk(struct toml_value *v, unsigned depth)
{
	if (depth > TOML_DEPTH_CEILING + 1)
		__builtin_trap();
	switch (v->type) {
	case TOML_STRING:
		/* NUL is refused, so the length is the C string length. */
		if (strlen(v->string.data) != v->string.len)
			__builtin_trap();
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < v->array.count; i++)
			walk(v->array.items[i], depth + 1);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < v->table.count; i++) {
			struct toml_entry *e = &v->table.entries[i];
			if (toml_get_entry(v, e->key) != e || e->line == 0)
				__builtin_trap();
			walk(e->value, depth + 1);
		}
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_value *root;
	char *error, *path;

	if (toml_parse("fuzz.toml", (const char *)data, size, NULL, &root,
		       &error) < 0) {
		if (root != NULL || error == NULL ||
		    strncmp(error, "fuzz.toml", 9) != 0 || strchr(error, '\n'))
			__builtin_trap();
		free(error);
		return 0;
	}
	if (error != NULL || root == NULL || root->type != TOML_TABLE)
		__builtin_trap();
	/* Before the walk something is unused unless the document is empty;
	 * after it nothing is. */
	if (toml_find_unused(root, "x", &path) != NULL)
		free(path);
	walk(root, 0);
	if (toml_find_unused(root, NULL, &path) != NULL || path != NULL)
		__builtin_trap();
	toml_free(&root);
	return 0;
}
