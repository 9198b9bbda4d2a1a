/* The TOML reader: valid documents, every error with its exact message,
 * limits, and robustness on every prefix and on mutated input. */
#include "tests/unit/test.h"

#include <errno.h>
#include <stdint.h>

#include "src/toml.h"

static struct toml_value *parse_ok_at(const char *file, int line,
				      const char *text)
{
	struct toml_value *root = NULL;
	char *error = NULL;
	int r = toml_parse("t.toml", text, strlen(text), NULL, &root, &error);

	if (r != 0 || root == NULL)
		test_fail(file, line, "parse failed (%d): %s", r,
			  error ? error : "(no message)");
	CHECK(error == NULL);
	return root;
}
#define PARSE_OK(text) parse_ok_at(__FILE__, __LINE__, (text))

static void parse_err_at(const char *file, int line, const char *text,
			 size_t len, const char *expected)
{
	struct toml_value *root = (void *)1;
	char *error = NULL;
	int r = toml_parse("t.toml", text, len, NULL, &root, &error);

	if (r == 0)
		test_fail(file, line, "parsed, expected error \"%s\"", expected);
	if (root != NULL)
		test_fail(file, line, "root not NULL on error");
	if (error == NULL || strcmp(error, expected) != 0)
		test_fail(file, line, "error \"%s\", expected \"%s\"",
			  error ? error : "(null)", expected);
	free(error);
}
#define PARSE_ERR(text, expected)                                              \
	parse_err_at(__FILE__, __LINE__, (text), strlen(text), (expected))
#define PARSE_ERR_N(text, len, expected)                                       \
	parse_err_at(__FILE__, __LINE__, (text), (len), (expected))

/* table.key.key... by a dotted path of bare names, NULL if absent. */
static struct toml_value *lookup(struct toml_value *t, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *part = strtok(buf, "."); part; part = strtok(NULL, "."))
		t = toml_get(t, part);
	return t;
}

static const char *str_at(struct toml_value *t, const char *path)
{
	struct toml_value *v = lookup(t, path);
	return v && v->type == TOML_STRING ? v->string.data : NULL;
}

static int64_t int_at(struct toml_value *t, const char *path)
{
	struct toml_value *v = lookup(t, path);
	if (v == NULL || v->type != TOML_INTEGER)
		test_fail(__FILE__, __LINE__, "%s is not an integer", path);
	return v->integer;
}

/* The manual's configuration reference, with sealmail's [listen]. */
static const char manual_doc[] =
	"[tls]\n"
	"# The path to your X509 private key.\n"
	"private_key = \"/etc/sealmail/key.pem\"\n"
	"certificate_chain = \"/etc/sealmail/chain.pem\"\n"
	"\n"
	"[identification]\n"
	"vendor = \"Example Company\"\n"
	"support_url = \"mailto:it@example.com\"\n"
	"address = \"1313 Dead End Dr\"\n"
	"\n"
	"[security]\n"
	"chroot_system = false\n"
	"system_user = \"\"\n"
	"\n"
	"[smtp]\n"
	"host_name = \"\"\n"
	"keep_recipient_domain = false\n"
	"verbatim_user_names = false\n"
	"reject_dmarc_failures = false\n"
	"verbose_outbound_tls = false\n"
	"\n"
	"[smtp.domains.\"example.com\"]\n"
	"dkim.selector1 = \"rsa:MIQU2whmZwg\"\n"
	"dkim.selector2 = \"ed25519:13SSM\"\n"
	"\n"
	"[listen]\n"
	"imaps       = [\"0.0.0.0:993\", \"[::]:993\"]\n"
	"smtp        = [\"0.0.0.0:25\"]   # inbound\n"
	"admin       = \"unix:/run/sealmail/admin.sock\"\n"
	"\n"
	"[diagnostic]\n"
	"stderr = null\n";

TEST(manual_example)
{
	struct toml_value *root = PARSE_OK(manual_doc);

	CHECK_INT(root->type, ==, TOML_TABLE);
	CHECK_STR(str_at(root, "tls.private_key"), "/etc/sealmail/key.pem");
	CHECK_STR(str_at(root, "identification.support_url"),
		  "mailto:it@example.com");
	CHECK_INT(lookup(root, "security.chroot_system")->type, ==, TOML_BOOLEAN);
	CHECK(!lookup(root, "security.chroot_system")->boolean);
	CHECK_STR(str_at(root, "security.system_user"), "");

	struct toml_value *dom = toml_get(lookup(root, "smtp.domains"), "example.com");
	CHECK(dom != NULL);
	CHECK_INT(dom->line, ==, 22);
	CHECK_STR(str_at(dom, "dkim.selector1"), "rsa:MIQU2whmZwg");
	CHECK_STR(str_at(dom, "dkim.selector2"), "ed25519:13SSM");
	CHECK_INT(lookup(dom, "dkim.selector2")->line, ==, 24);

	struct toml_value *imaps = lookup(root, "listen.imaps");
	CHECK_INT(imaps->type, ==, TOML_ARRAY);
	CHECK_INT(imaps->array.count, ==, 2);
	CHECK_STR(imaps->array.items[1]->string.data, "[::]:993");
	CHECK_INT(lookup(root, "diagnostic.stderr")->type, ==, TOML_NULL);
	toml_free(&root);
	CHECK(root == NULL);
	toml_free(&root);
	toml_free(NULL);
}

TEST(keys_bare_quoted_dotted)
{
	struct toml_value *root = PARSE_OK(
		"bare_key-1 = 1\n"
		"1234 = 2\n"
		"\"quoted key\" = 3\n"
		"'literal \\ key' = 4\n"
		"\"\" = 5\n"
		"a . b . \"c.d\" = 6\n"
		"a.x = 7\n"
		"[\"quoted\".'lit'.bare]\n"
		"k = 8\n"
		"[ spaced . table ]\n"
		"k = 9\n");

	CHECK_INT(int_at(root, "bare_key-1"), ==, 1);
	CHECK_INT(int_at(root, "1234"), ==, 2);
	CHECK_INT(toml_get(root, "quoted key")->integer, ==, 3);
	CHECK_INT(toml_get(root, "literal \\ key")->integer, ==, 4);
	CHECK_INT(toml_get(root, "")->integer, ==, 5);
	CHECK_INT(toml_get(lookup(root, "a.b"), "c.d")->integer, ==, 6);
	CHECK_INT(int_at(root, "a.x"), ==, 7);
	CHECK_INT(int_at(root, "quoted.lit.bare.k"), ==, 8);
	CHECK_INT(int_at(root, "spaced.table.k"), ==, 9);
	toml_free(&root);
}

TEST(strings_basic_and_literal)
{
	struct toml_value *root = PARSE_OK(
		"a = \"tab\\there \\\"q\\\" back\\\\slash\"\n"
		"b = \"\\b\\f\\n\\r\"\n"
		"c = \"\\u00e9\\U0001F600\\u20AC\"\n"
		"d = 'C:\\Users\\no escapes'\n"
		"e = \"\"\n"
		"f = ''\n"
		"g = \"caf\xc3\xa9 \xe2\x82\xac\ttab\"\n");

	CHECK_STR(str_at(root, "a"), "tab\there \"q\" back\\slash");
	CHECK_STR(str_at(root, "b"), "\b\f\n\r");
	CHECK_STR(str_at(root, "c"), "\xc3\xa9\xf0\x9f\x98\x80\xe2\x82\xac");
	CHECK_STR(str_at(root, "d"), "C:\\Users\\no escapes");
	CHECK_STR(str_at(root, "e"), "");
	CHECK_STR(str_at(root, "f"), "");
	CHECK_STR(str_at(root, "g"), "caf\xc3\xa9 \xe2\x82\xac\ttab");
	CHECK_INT(lookup(root, "c")->string.len, ==, 9);
	toml_free(&root);
}

TEST(strings_multiline)
{
	struct toml_value *root = PARSE_OK(
		"a = \"\"\"\n"
		"Roses are red\n"
		"Violets are blue\"\"\"\n"
		"b = \"\"\"\\\n"
		"    The quick \\\n"
		"\n"
		"    brown fox.\\\n"
		"    \"\"\"\n"
		"c = '''\n"
		"raw \\n text\n"
		"  kept '''\n"
		"d = \"\"\"one \"quoted\" \"\"word\"\" \"\"\"\"\"\n"
		"e = '''''two'''''\n"
		"f = \"\"\"\"\"\"\n"
		"g = \"\"\"crlf\r\nline\"\"\"\r\n"
		"h = 1\n");

	CHECK_STR(str_at(root, "a"), "Roses are red\nViolets are blue");
	CHECK_STR(str_at(root, "b"), "The quick brown fox.");
	CHECK_STR(str_at(root, "c"), "raw \\n text\n  kept ");
	CHECK_STR(str_at(root, "d"), "one \"quoted\" \"\"word\"\" \"\"");
	CHECK_STR(str_at(root, "e"), "''two''");
	CHECK_STR(str_at(root, "f"), "");
	CHECK_STR(str_at(root, "g"), "crlf\nline");
	/* Lines are counted inside multi-line strings. */
	CHECK_INT(lookup(root, "b")->line, ==, 4);
	CHECK_INT(lookup(root, "c")->line, ==, 9);
	CHECK_INT(lookup(root, "h")->line, ==, 17);
	toml_free(&root);
}

TEST(integers_all_forms)
{
	struct toml_value *root = PARSE_OK(
		"a = 0\nb = +17\nc = -42\nd = 1_000_000\ne = -0\n"
		"f = 0xDEADbeef\ng = 0xdead_beef\nh = 0o755\ni = 0b1101_0110\n"
		"j = 9223372036854775807\nk = -9223372036854775808\n"
		"l = 0x7fffffffffffffff\nm = 0o777777777777777777777\n"
		"n = 0b0111111111111111111111111111111111111111111111111111111111111111\n"
		"o = 0x0\np = 0b0\nq = 0o0_1\n");

	CHECK_INT(int_at(root, "a"), ==, 0);
	CHECK_INT(int_at(root, "b"), ==, 17);
	CHECK_INT(int_at(root, "c"), ==, -42);
	CHECK_INT(int_at(root, "d"), ==, 1000000);
	CHECK_INT(int_at(root, "e"), ==, 0);
	CHECK_INT(int_at(root, "f"), ==, 0xdeadbeef);
	CHECK_INT(int_at(root, "g"), ==, 0xdeadbeef);
	CHECK_INT(int_at(root, "h"), ==, 0755);
	CHECK_INT(int_at(root, "i"), ==, 0xd6);
	CHECK(int_at(root, "j") == INT64_MAX);
	CHECK(int_at(root, "k") == INT64_MIN);
	CHECK(int_at(root, "l") == INT64_MAX);
	CHECK(int_at(root, "m") == INT64_MAX);
	CHECK(int_at(root, "n") == INT64_MAX);
	CHECK_INT(int_at(root, "o"), ==, 0);
	CHECK_INT(int_at(root, "p"), ==, 0);
	CHECK_INT(int_at(root, "q"), ==, 1);
	toml_free(&root);
}

TEST(integer_errors)
{
	PARSE_ERR("x = 9223372036854775808\n",
		  "t.toml:1: key 'x': integer out of range");
	PARSE_ERR("x = -9223372036854775809\n",
		  "t.toml:1: key 'x': integer out of range");
	PARSE_ERR("x = 0x8000000000000000\n",
		  "t.toml:1: key 'x': integer out of range");
	PARSE_ERR("x = 0xffffffffffffffffffff\n",
		  "t.toml:1: key 'x': integer out of range");
	PARSE_ERR("x = 99999999999999999999999\n",
		  "t.toml:1: key 'x': integer out of range");
	PARSE_ERR("x = 012\n", "t.toml:1: key 'x': invalid integer '012'");
	PARSE_ERR("x = 1__2\n", "t.toml:1: key 'x': invalid integer '1__2'");
	PARSE_ERR("x = 1_\n", "t.toml:1: key 'x': invalid integer '1_'");
	PARSE_ERR("x = _1\n", "t.toml:1: key 'x': invalid value '_1' (strings need quotes)");
	PARSE_ERR("x = +0x1\n", "t.toml:1: key 'x': invalid integer '+0x1'");
	PARSE_ERR("x = 0x\n", "t.toml:1: key 'x': invalid integer '0x'");
	PARSE_ERR("x = 0X1\n", "t.toml:1: key 'x': invalid integer '0X1'");
	PARSE_ERR("x = 0x_1\n", "t.toml:1: key 'x': invalid integer '0x_1'");
	PARSE_ERR("x = 0b102\n", "t.toml:1: key 'x': invalid integer '0b102'");
	PARSE_ERR("x = 0o8\n", "t.toml:1: key 'x': invalid integer '0o8'");
	PARSE_ERR("x = 1-2\n", "t.toml:1: key 'x': invalid integer '1-2'");
	PARSE_ERR("x = +\n", "t.toml:1: key 'x': invalid integer '+'");
	PARSE_ERR("x = 1 2\n", "t.toml:1: unexpected '2' after value");
}

TEST(unsupported_values)
{
	PARSE_ERR("[a]\nx = 3.14\n",
		  "t.toml:2: key 'a.x': floating-point numbers are not supported");
	PARSE_ERR("x = 1e6\n",
		  "t.toml:1: key 'x': floating-point numbers are not supported");
	PARSE_ERR("x = -inf\n",
		  "t.toml:1: key 'x': floating-point numbers are not supported");
	PARSE_ERR("x = nan\n",
		  "t.toml:1: key 'x': floating-point numbers are not supported");
	PARSE_ERR("x = 1979-05-27\n",
		  "t.toml:1: key 'x': dates and times are not supported");
	PARSE_ERR("x = 1979-05-27T07:32:00Z\n",
		  "t.toml:1: key 'x': dates and times are not supported");
	PARSE_ERR("x = 07:32:00\n",
		  "t.toml:1: key 'x': dates and times are not supported");
	PARSE_ERR("[[fruit]]\nname = 'apple'\n",
		  "t.toml:1: arrays of tables ([[...]]) are not supported");
	PARSE_ERR("x = hello\n",
		  "t.toml:1: key 'x': invalid value 'hello' (strings need quotes)");
	PARSE_ERR("x = True\n",
		  "t.toml:1: key 'x': invalid value 'True' (strings need quotes)");
}

TEST(booleans_and_null)
{
	struct toml_value *root = PARSE_OK("t = true\nf = false # no\nn = null\n");

	CHECK_INT(lookup(root, "t")->type, ==, TOML_BOOLEAN);
	CHECK(lookup(root, "t")->boolean);
	CHECK(!lookup(root, "f")->boolean);
	CHECK_INT(lookup(root, "n")->type, ==, TOML_NULL);
	toml_free(&root);
	PARSE_ERR("x = truee\n",
		  "t.toml:1: key 'x': invalid value 'truee' (strings need quotes)");
}

TEST(arrays)
{
	struct toml_value *root = PARSE_OK(
		"a = []\n"
		"b = [ 1, 2, 3, ]\n"
		"c = [\n"
		"  \"x\", # first\n"
		"  # a whole comment line\n"
		"\n"
		"  'y'\n"
		"  ,\"z\",\n"
		"]\n"
		"d = [[1, 2], [\"mixed\", true], [], {k = 1}]\n"
		"e = [\"\"\"multi\n"
		"line\"\"\", 5]\n");

	CHECK_INT(lookup(root, "a")->array.count, ==, 0);
	CHECK_INT(lookup(root, "b")->array.count, ==, 3);
	CHECK_INT(lookup(root, "b")->array.items[2]->integer, ==, 3);
	struct toml_value *c = lookup(root, "c");
	CHECK_INT(c->array.count, ==, 3);
	CHECK_STR(c->array.items[1]->string.data, "y");
	CHECK_INT(c->array.items[1]->line, ==, 7);
	CHECK_INT(c->array.items[2]->line, ==, 8);
	struct toml_value *d = lookup(root, "d");
	CHECK_INT(d->array.count, ==, 4);
	CHECK_INT(d->array.items[0]->array.items[1]->integer, ==, 2);
	CHECK_STR(d->array.items[1]->array.items[0]->string.data, "mixed");
	CHECK_INT(toml_get(d->array.items[3], "k")->integer, ==, 1);
	CHECK_STR(lookup(root, "e")->array.items[0]->string.data, "multi\nline");
	CHECK_INT(lookup(root, "e")->array.items[1]->line, ==, 12);
	toml_free(&root);

	PARSE_ERR("a = [1 2]\n", "t.toml:1: key 'a': unexpected '2' in array (expected ',' or ']')");
	PARSE_ERR("a = [1,,2]\n", "t.toml:1: key 'a': expected a value");
	PARSE_ERR("a = [,]\n", "t.toml:1: key 'a': expected a value");
	PARSE_ERR("a = [1,\n2,\n", "t.toml:1: key 'a': unterminated array");
}

TEST(inline_tables)
{
	struct toml_value *root = PARSE_OK(
		"name = { first = \"Tom\", last = \"Preston-Werner\" }\n"
		"point = {x=1,y=2}\n"
		"empty = {}\n"
		"nested = { a = { b = [1, {c = 'd'}] }, e.f = true, e.g = 0 }\n");

	CHECK_STR(str_at(root, "name.last"), "Preston-Werner");
	CHECK_INT(int_at(root, "point.y"), ==, 2);
	CHECK_INT(lookup(root, "empty")->table.count, ==, 0);
	struct toml_value *b = lookup(root, "nested.a.b");
	CHECK_STR(str_at(b->array.items[1], "c"), "d");
	CHECK(lookup(root, "nested.e.f")->boolean);
	CHECK_INT(int_at(root, "nested.e.g"), ==, 0);
	toml_free(&root);

	PARSE_ERR("a = { b = 1, }\n", "t.toml:1: key 'a': trailing comma in inline table");
	PARSE_ERR("a = { b = 1,\n c = 2 }\n",
		  "t.toml:1: key 'a': newline in inline table (it must fit on one line)");
	PARSE_ERR("a = { b = 1", "t.toml:1: key 'a': unterminated inline table");
	PARSE_ERR("a = { b = 1 c = 2 }\n",
		  "t.toml:1: key 'a': unexpected 'c' in inline table (expected ',' or '}')");
	PARSE_ERR("a = { b = 1, b = 2 }\n",
		  "t.toml:1: key 'a.b' is already defined (line 1)");
	PARSE_ERR("a = { b = 1 }\na.c = 2\n",
		  "t.toml:2: key 'a' is already defined (line 1)");
	PARSE_ERR("a = { b = {} }\n[a.b.c]\n",
		  "t.toml:2: key 'a' is already defined (line 1)");
	PARSE_ERR("a = { b.c = 1 }\n[a.b]\n",
		  "t.toml:2: key 'a' is already defined (line 1)");
}

TEST(table_definition_rules)
{
	/* Defining a super-table after a sub-table is fine, once. */
	struct toml_value *root = PARSE_OK(
		"[x.y.z.w]\nk = 1\n[x]\nk = 2\n"
		"[fruit]\napple.color = 'red'\napple.taste.sweet = true\n"
		"[fruit.apple.texture]\nsmooth = true\n");
	CHECK_INT(int_at(root, "x.y.z.w.k"), ==, 1);
	CHECK_INT(int_at(root, "x.k"), ==, 2);
	CHECK_INT(toml_get_entry(root, "x")->line, ==, 3);
	CHECK(lookup(root, "fruit.apple.texture.smooth")->boolean);
	toml_free(&root);

	PARSE_ERR("[a]\nb = 1\n\n[a]\nc = 2\n",
		  "t.toml:4: table 'a' is already defined (line 1)");
	PARSE_ERR("[a.b]\n[a]\n[a]\n",
		  "t.toml:3: table 'a' is already defined (line 2)");
	PARSE_ERR("[a]\nb = 1\n[a.b]\n",
		  "t.toml:3: key 'a.b' is already defined (line 2)");
	PARSE_ERR("[a]\nb.c = 1\n[a.b]\n",
		  "t.toml:3: table 'a.b' is already defined (line 2)");
	PARSE_ERR("[a.b]\n[a]\nb.c = 1\n",
		  "t.toml:3: key 'a.b' is already defined (line 1)");
	PARSE_ERR("a = 1\na.b = 2\n",
		  "t.toml:2: key 'a' is already defined (line 1)");
	PARSE_ERR("a = [1]\n[a]\n",
		  "t.toml:2: key 'a' is already defined (line 1)");
	PARSE_ERR("[smtp]\nhost_name = 'a'\nhost_name = 'b'\n",
		  "t.toml:3: key 'smtp.host_name' is already defined (line 2)");
	PARSE_ERR("a.b = 1\n\"a\".'b' = 2\n",
		  "t.toml:2: key 'a.b' is already defined (line 1)");
	PARSE_ERR("[a]\n[\"a\"]\n", "t.toml:2: table 'a' is already defined (line 1)");
}

TEST(string_errors)
{
	PARSE_ERR("a = \"abc\n", "t.toml:1: key 'a': unterminated string");
	PARSE_ERR("a = \"abc", "t.toml:1: key 'a': unterminated string");
	PARSE_ERR("a = 'abc\nb = 1\n", "t.toml:1: key 'a': unterminated string");
	PARSE_ERR("x = 1\na = \"\"\"abc\n\ndef\n",
		  "t.toml:2: key 'a': unterminated string");
	PARSE_ERR("a = '''abc\n", "t.toml:1: key 'a': unterminated string");
	PARSE_ERR("a = \"\\q\"\n", "t.toml:1: key 'a': invalid escape sequence '\\q'");
	PARSE_ERR("a = \"\\x41\"\n", "t.toml:1: key 'a': invalid escape sequence '\\x'");
	PARSE_ERR("a = \"\\ \"\n", "t.toml:1: key 'a': invalid escape sequence");
	PARSE_ERR("a = \"\"\"x\\ y\"\"\"\n",
		  "t.toml:1: key 'a': invalid escape sequence '\\ '");
	PARSE_ERR("a = \"\\u12\"\n",
		  "t.toml:1: key 'a': invalid escape: expected 4 hex digits");
	PARSE_ERR("a = \"\\U0000004\"\n",
		  "t.toml:1: key 'a': invalid escape: expected 8 hex digits");
	PARSE_ERR("a = \"\\uD800\"\n",
		  "t.toml:1: key 'a': invalid escape: U+D800 is not a Unicode scalar value");
	PARSE_ERR("a = \"\\U00110000\"\n",
		  "t.toml:1: key 'a': invalid escape: U+110000 is not a Unicode scalar value");
	PARSE_ERR("a = \"\\u0000\"\n",
		  "t.toml:1: key 'a': NUL characters are not supported");
	PARSE_ERR("a = \"\"\"x\"\"\"\"\"\"\n",
		  "t.toml:1: key 'a': too many quotes at the end of a multi-line string");
	PARSE_ERR("\"\"\"k\"\"\" = 1\n",
		  "t.toml:1: a key cannot be a multi-line string");
	PARSE_ERR("\"a\\qb\" = 1\n", "t.toml:1: invalid escape sequence '\\q'");
}

TEST(control_characters_and_utf8)
{
	PARSE_ERR("a = \"x\x01y\"\n",
		  "t.toml:1: key 'a': control character U+0001 in string");
	PARSE_ERR("a = 'x\x7fy'\n",
		  "t.toml:1: key 'a': control character U+007F in string");
	PARSE_ERR("a = \"\"\"x\ry\"\"\"\n",
		  "t.toml:1: key 'a': control character U+000D in string");
	PARSE_ERR("# comment \x02 here\n", "t.toml:1: control character U+0002 in comment");
	PARSE_ERR_N("a = 1\nb = \"x\0y\"\n", 13,
		    "t.toml:2: key 'b': control character U+0000 in string");
	PARSE_ERR("a = 1\n\nb = \"\xff\"\n", "t.toml:3: invalid UTF-8");
	PARSE_ERR("# \xc0\xaf overlong\n", "t.toml:1: invalid UTF-8");
	PARSE_ERR("a = '\xed\xa0\x80'\n", "t.toml:1: invalid UTF-8");
	PARSE_ERR("a = '\xf4\x90\x80\x80'\n", "t.toml:1: invalid UTF-8");
	PARSE_ERR("a = '\xe2\x82'\n", "t.toml:1: invalid UTF-8");
	PARSE_ERR("a = 1\r\nb = 2\rc = 3\n", "t.toml:2: carriage return without line feed");
	PARSE_ERR("a = 1\r", "t.toml:1: carriage return without line feed");
	PARSE_ERR("\xc3\xa9 = 1\n", "t.toml:1: unexpected character where a key was expected");

	/* Tabs are fine in strings and comments, CRLF line ends too, and a
	 * byte order mark is skipped. */
	struct toml_value *root = PARSE_OK("\xef\xbb\xbf" "a = \"x\ty\"\t# \ttab\r\nb = 2\r\n");
	CHECK_STR(str_at(root, "a"), "x\ty");
	CHECK_INT(lookup(root, "b")->line, ==, 2);
	toml_free(&root);
}

TEST(syntax_errors)
{
	PARSE_ERR("foo\n", "t.toml:1: expected '=' after key 'foo'");
	PARSE_ERR("a = 1\nfoo bar = 1\n", "t.toml:2: expected '=' after key 'foo'");
	PARSE_ERR("[s]\n\"my key\"\n", "t.toml:2: expected '=' after key '\"my key\"'");
	PARSE_ERR("a.b : 1\n", "t.toml:1: expected '=' after key 'a.b'");
	PARSE_ERR("= 1\n", "t.toml:1: unexpected '=' where a key was expected");
	PARSE_ERR("a. = 1\n", "t.toml:1: unexpected '=' where a key was expected");
	PARSE_ERR("a =\n", "t.toml:1: key 'a': expected a value");
	PARSE_ERR("a = # nothing\n", "t.toml:1: key 'a': expected a value");
	PARSE_ERR("a = 1 # ok\nb = 2 c\n", "t.toml:2: unexpected 'c' after value");
	PARSE_ERR("[a\nb = 1\n", "t.toml:1: expected ']' after table name");
	PARSE_ERR("[]\n", "t.toml:1: unexpected ']' where a key was expected");
	PARSE_ERR("[a] b = 1\n", "t.toml:1: unexpected 'b' after table header");
	PARSE_ERR("[a.]\n", "t.toml:1: unexpected ']' where a key was expected");
}

TEST(limits)
{
	struct toml_limits lim = { .max_size = 64, .max_string = 8, .max_depth = 3 };
	struct toml_value *root = NULL;
	char *error = NULL;
	char big[65];

	memset(big, '#', sizeof(big));
	CHECK_INT(toml_parse("l.toml", big, sizeof(big), &lim, &root, &error), ==,
		  -EFBIG);
	CHECK_STR(error, "l.toml: too large (65 bytes, limit 64)");
	free(error);

	const char *cases[][2] = {
		{ "a = '123456789'", "l.toml:1: key 'a': string too long (limit 8 bytes)" },
		{ "\"123456789\" = 1", "l.toml:1: string too long (limit 8 bytes)" },
		{ "a = [[[[1]]]]", "l.toml:1: key 'a': nested too deeply (limit 3)" },
		{ "a = {b={c={d={}}}}", "l.toml:1: key 'a.b.c.d': nested too deeply (limit 3)" },
		{ "a.b.c.d.e = 1", "l.toml:1: nested too deeply (limit 3)" },
		{ "[a.b.c.d]", "l.toml:1: tables nested too deeply (limit 3)" },
		{ "[a.b]\nc.d.e = 1", "l.toml:2: nested too deeply (limit 3)" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = toml_parse("l.toml", cases[i][0], strlen(cases[i][0]),
				   &lim, &root, &error);
		if (r != -EINVAL)
			test_fail(__FILE__, __LINE__, "case %zu parsed", i);
		CHECK(root == NULL);
		CHECK_STR(error, cases[i][1]);
		free(error);
	}
	/* Exactly at the limits is fine. */
	const char *ok = "a = '12345678'\nb = [[[1]]]\nf.g.h.i = 1\n[c.d]\ne = 1\n";
	CHECK_INT(toml_parse("l.toml", ok, strlen(ok), &lim, &root, &error), ==, 0);
	toml_free(&root);

	/* The default depth limit stops deep recursion. */
	char deep[200];
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "a = ", 4);
	PARSE_ERR_N(deep, sizeof(deep), "t.toml:1: key 'a': nested too deeply (limit 32)");
}

TEST(many_keys)
{
	/* Enough keys to exercise the hash index growing. */
	char buf[64];
	struct toml_value *root;
	char *doc = malloc(20000 * 16), *p = doc;

	for (int i = 0; i < 20000; i++)
		p += sprintf(p, "k%d = %d\n", i, i);
	root = PARSE_OK(doc);
	CHECK_INT(root->table.count, ==, 20000);
	for (int i = 0; i < 20000; i += 997) {
		snprintf(buf, sizeof(buf), "k%d", i);
		CHECK_INT(toml_get(root, buf)->integer, ==, i);
	}
	CHECK(toml_get(root, "k20000") == NULL);
	toml_free(&root);
	sprintf(p, "k19999 = 1\n");
	PARSE_ERR(doc, "t.toml:20001: key 'k19999' is already defined (line 20000)");
	free(doc);
}

TEST(lines_and_unused)
{
	struct toml_value *root = PARSE_OK(
		"top = 1\n"			/* 1 */
		"[a]\n"				/* 2 */
		"used = 2\n"			/* 3 */
		"\"odd key\" = 3\n"		/* 4 */
		"[a.\"sub.t\"]\n"		/* 5 */
		"deep = 4\n"			/* 6 */
		"[b]\n"				/* 7 */
		"x = 5\n");			/* 8 */
	char *path;

	CHECK_INT(toml_get_entry(root, "top")->line, ==, 1);
	CHECK_INT(toml_get_entry(root, "a")->line, ==, 2);
	CHECK_INT(toml_get_entry(toml_get(root, "a"), "used")->line, ==, 3);

	/* toml_get_entry marked top and a used; a's content is not. */
	CHECK_INT(toml_get(toml_get(root, "a"), "used")->integer, ==, 2);
	const struct toml_entry *e = toml_find_unused(root, NULL, &path);
	CHECK(e != NULL);
	CHECK_INT(e->line, ==, 4);
	CHECK_STR(path, "a.\"odd key\"");
	free(path);

	toml_get(toml_get(root, "a"), "odd key");
	toml_get(toml_get(root, "a"), "sub.t");
	e = toml_find_unused(root, "cfg", &path);
	CHECK_INT(e->line, ==, 6);
	CHECK_STR(path, "cfg.a.\"sub.t\".deep");
	free(path);

	toml_get(toml_get(toml_get(root, "a"), "sub.t"), "deep");
	e = toml_find_unused(root, NULL, &path);
	CHECK_INT(e->line, ==, 7);
	CHECK_STR(path, "b");
	CHECK_INT(e->value->type, ==, TOML_TABLE);
	free(path);

	toml_get(toml_get(root, "b"), "x");
	CHECK(toml_find_unused(root, NULL, &path) == NULL);
	CHECK(path == NULL);
	CHECK(toml_find_unused(root, NULL, NULL) == NULL);

	CHECK(toml_get(root, "nope") == NULL);
	CHECK(toml_get(toml_get(root, "top"), "x") == NULL);
	CHECK(toml_get(NULL, "x") == NULL);
	toml_free(&root);
}

TEST(key_join_and_type_names)
{
	char *s;

	s = toml_key_join(NULL, "plain_key-1");
	CHECK_STR(s, "plain_key-1");
	free(s);
	s = toml_key_join("smtp.domains", "example.com");
	CHECK_STR(s, "smtp.domains.\"example.com\"");
	free(s);
	s = toml_key_join("", "a\"b\\c\nd");
	CHECK_STR(s, "\"a\\\"b\\\\c\\u000Ad\"");
	free(s);
	s = toml_key_join("x", "");
	CHECK_STR(s, "x.\"\"");
	free(s);
	CHECK_STR(toml_type_name(TOML_STRING), "a string");
	CHECK_STR(toml_type_name(TOML_INTEGER), "an integer");
	CHECK_STR(toml_type_name(TOML_TABLE), "a table");
	CHECK_STR(toml_type_name(TOML_ARRAY), "an array");
	CHECK_STR(toml_type_name(TOML_BOOLEAN), "a boolean");
	CHECK_STR(toml_type_name(TOML_NULL), "null");
}

static const char rich_doc[] =
	"# every feature once\n"
	"title = \"T\\u00e9st \\\"x\\\"\"\n"
	"lit = 'C:\\path'\n"
	"ml = \"\"\"\nline one \\\n   two\"\"\"\n"
	"mll = '''\nraw\n'''\n"
	"ints = [ 1, -2, +3, 0x1F, 0o17, 0b11, 1_000, ]\n"
	"nested = [ [ 'a' ], { k = \"v\", d.e = true } ]\n"
	"flag = false\n"
	"nothing = null\n"
	"dotted.key.here = 7\n"
	"[\"quoted\".table]\n"
	"x = { y = 1, z = [2, 3] }\n"
	"[a.b.c]\n"
	"d = 4\n"
	"[a]\n"
	"e = 5 # trailing\n";

static void parse_or_fail_cleanly(const char *text, size_t len)
{
	struct toml_value *root = (void *)1;
	char *error = NULL;
	int r = toml_parse("p.toml", text, len, NULL, &root, &error);

	if (r == 0) {
		CHECK(root != NULL && error == NULL);
		toml_free(&root);
	} else {
		CHECK(root == NULL);
		CHECK(error != NULL && strncmp(error, "p.toml", 6) == 0);
		CHECK(strchr(error, '\n') == NULL);
		free(error);
	}
}

/* The reader takes a whole buffer, so instead of feeding it byte by byte
 * every strict prefix of a valid document must parse or fail cleanly. The
 * prefixes are copied to exactly-sized heap blocks so AddressSanitizer
 * sees any read past the end. */
TEST(every_prefix)
{
	const char *docs[] = { manual_doc, rich_doc };

	for (size_t d = 0; d < 2; d++) {
		size_t len = strlen(docs[d]);
		for (size_t n = 0; n < len; n++) {
			char *copy = malloc(n ? n : 1);
			memcpy(copy, docs[d], n);
			parse_or_fail_cleanly(copy, n);
			free(copy);
		}
	}
	struct toml_value *root = PARSE_OK(rich_doc);
	CHECK_STR(str_at(root, "title"), "T\xc3\xa9st \"x\"");
	CHECK_STR(str_at(root, "ml"), "line one two");
	CHECK_STR(str_at(root, "mll"), "raw\n");
	CHECK_INT(int_at(root, "a.e"), ==, 5);
	CHECK_INT(int_at(root, "a.b.c.d"), ==, 4);
	CHECK_INT(int_at(root, "dotted.key.here"), ==, 7);
	toml_free(&root);
}

/* Each byte replaced by each of the characters that steer the grammar. */
TEST(mutations)
{
	static const char subst[] = "\"'[]{}=\n\r\\.,#0 \t\x01\xff\xc3";
	size_t len = strlen(rich_doc);
	char *copy = malloc(len);

	for (size_t i = 0; i < len; i++) {
		for (size_t j = 0; j < sizeof(subst) - 1; j++) {
			memcpy(copy, rich_doc, len);
			copy[i] = subst[j];
			parse_or_fail_cleanly(copy, len);
		}
	}
	free(copy);
}
