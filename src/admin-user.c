/* `sealmail admin user ...`: accounts are created by the daemon, so the
 * files belong to the service user and the costly work (Argon2, RSA-4096
 * key generation) runs on the worker pool, never on the loop. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "coro/coro.h"
#include "coro/stream.h"
#include "src/admin.h"
#include "src/log.h"
#include "src/server.h"
#include "storage/account.h"
#include "storage/crypto.h"
#include "storage/userdir.h"

/* 20 symbols from a 54-letter alphabet without look-alikes: 115 bits. */
#define GENERATED_PASSWORD_LEN 20
static const char password_alphabet[] =
	"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

static void generate_password(char out[GENERATED_PASSWORD_LEN + 1])
{
	const unsigned n = sizeof(password_alphabet) - 1;
	const unsigned limit = 256 - 256 % n; /* no modulo bias */
	size_t i = 0;
	while (i < GENERATED_PASSWORD_LEN) {
		unsigned char r;
		crypto_random(&r, 1);
		if (r < limit)
			out[i++] = password_alphabet[r % n];
	}
	out[i] = '\0';
}

struct user_add_job {
	const char *users_dir, *name, *password;
	int result;
	char *error;
};

static void user_add_work(void *arg)
{
	struct user_add_job *job = arg;
	job->result = account_create(job->users_dir, job->name, job->password, NULL, NULL,
				     &job->error);
}

/* The password, when given, follows the request on a line of its own so it
 * never shows in a request line or the log. */
static int read_password_line(struct admin_request *req, char *out, size_t size)
{
	const char *line;
	size_t len;
	int r = stream_read_line(req->conn->stream, &line, &len);
	if (r < 0)
		return r;
	if (len == 0 || len >= size) {
		req->error = "password must be 1 to 1024 bytes";
		return -EINVAL;
	}
	memcpy(out, line, len + 1);
	crypto_wipe((void *)line, len);
	return 0;
}

int admin_cmd_user_add(struct admin_request *req)
{
	bool given = req->argc == 3 && strcmp(req->argv[2], "password-follows") == 0;
	if (req->argc != 2 && !given) {
		req->error = "usage: user add NAME [password-follows]";
		return -EINVAL;
	}
	char password[ACCOUNT_PASSWORD_MAX + 1];
	int r = given ? read_password_line(req, password, sizeof(password)) : 0;
	if (r < 0)
		return r;
	if (!given)
		generate_password(password);
	struct user_add_job job = { req->server->users_dir, req->argv[1], password, 0, NULL };
	r = coro_await_cpu_work(user_add_work, &job);
	if (r == 0)
		r = job.result;
	if (r == 0) {
		conn_log(req->conn, LOG_NOTICE, "admin: user %s created", req->argv[1]);
		if (!given)
			r = admin_reply_line(req, "password: %s", password);
	} else if (r == -EEXIST) {
		req->error = "a user of that name already exists";
	} else {
		req->error_owned = job.error;
		job.error = NULL;
	}
	free(job.error);
	crypto_wipe(password, sizeof(password));
	return r;
}

static const char *user_kind(const char *users_dir, const char *name)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", users_dir, name);
	if (lstat(path, &st) < 0)
		return NULL;
	if (S_ISLNK(st.st_mode))
		return name[0] == '%' ? "alias, disabled" : "alias";
	if (!S_ISDIR(st.st_mode))
		return NULL;
	return name[0] == '%' ? "disabled" : "user";
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int admin_cmd_user_list(struct admin_request *req)
{
	if (req->argc != 1) {
		req->error = "usage: user list";
		return -EINVAL;
	}
	DIR *d = opendir(req->server->users_dir);
	if (!d) {
		req->error = "cannot read the users directory";
		return -errno;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and accounts being created */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				abort();
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	int r = 0;
	for (size_t i = 0; i < n; i++) {
		const char *kind = user_kind(req->server->users_dir, names[i]);
		if (kind && r == 0)
			r = admin_reply_line(req, "%s (%s)", names[i], kind);
		free(names[i]);
	}
	free(names);
	return r;
}
