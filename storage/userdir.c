/* User names, lookups under users/, and durable file helpers; the contract
 * is in userdir.h. */
#include "storage/userdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

#define REMOVE_TREE_DEPTH 16

static void set_error(char **error_r, char *msg)
{
	if (error_r)
		*error_r = msg;
	else
		free(msg);
}

/* Length of the UTF-8 sequence at s (1 to 4), or 0 when it is malformed:
 * truncated, a stray continuation byte, an overlong form, a surrogate, or
 * beyond U+10FFFF (RFC 3629 section 4). *cp_r gets the code point. */
static size_t utf8_seq(const unsigned char *s, size_t avail, uint32_t *cp_r)
{
	static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t n;
	uint32_t cp;

	if (s[0] < 0x80) {
		*cp_r = s[0];
		return 1;
	} else if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		cp = s[0] & 0x1f;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = s[0] & 0x0f;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*cp_r = cp;
	return n;
}

bool userdir_text_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_seq((const unsigned char *)s + i, len - i, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return false;
		i += n;
	}
	return true;
}

int userdir_check_name(const char *name, const char **error_r)
{
	const char *why = NULL;
	size_t len = name ? strnlen(name, USERDIR_NAME_MAX + 1) : 0;

	if (len == 0)
		why = "empty user name";
	else if (len > USERDIR_NAME_MAX)
		why = "user name longer than 255 bytes";
	else if (name[0] == '.')
		why = "user name starts with '.'";
	else if (name[0] == '%')
		why = "user name starts with '%' (a disabled user)";
	for (size_t i = 0; !why && i < len;) {
		uint32_t cp;
		size_t n = utf8_seq((const unsigned char *)name + i, len - i, &cp);
		if (n == 0)
			why = "user name is not valid UTF-8";
		else if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			why = "user name contains a control character";
		else if (cp == '/')
			why = "user name contains '/'";
		i += n;
	}
	if (why && error_r)
		*error_r = why;
	return why ? -EINVAL : 0;
}

int userdir_lookup(const char *users_dir, const char *name, char **user_dir_r, char **error_r)
{
	const char *why;
	struct stat st;

	*user_dir_r = NULL;
	if (name && name[0] == '%') {
		set_error(error_r, xasprintf("no such user: '%s' is disabled", name));
		return -ENOENT;
	}
	if (userdir_check_name(name, &why) < 0) {
		set_error(error_r, xasprintf("no such user: %s", why));
		return -ENOENT;
	}
	char *path = xasprintf("%s/%s", users_dir, name);
	char *real = realpath(path, NULL);
	int err = errno;
	free(path);
	if (!real) {
		if (err == ENOENT || err == ENOTDIR || err == ELOOP) {
			set_error(error_r, xasprintf("no such user '%s'", name));
			return -ENOENT;
		}
		set_error(error_r, xasprintf("looking up user '%s': %s", name, strerror(err)));
		return err == EACCES ? -EACCES : -EIO;
	}
	const char *base = strrchr(real, '/');
	base = base ? base + 1 : real;
	if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode) || base[0] == '%') {
		set_error(error_r, xasprintf("no such user '%s' (%s)", name,
					     base[0] == '%' ? "alias of a disabled user"
							    : "not a directory"));
		free(real);
		return -ENOENT;
	}
	*user_dir_r = real;
	return 0;
}

int userdir_read_file(const char *path, size_t max, char **data_r, size_t *len_r, char **error_r)
{
	struct stat st;
	int r = 0;

	*data_r = NULL;
	*len_r = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		set_error(error_r, xasprintf("%s: not a regular file", path));
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		set_error(error_r, xasprintf("%s: larger than %zu bytes", path, max));
		close(fd);
		return -EFBIG;
	}
	/* One byte more than the size we saw, to notice a file that grew. */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *data = xmalloc(cap + 1);
	for (;;) {
		ssize_t n = read(fd, data + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			set_error(error_r, xasprintf("%s: %s", path, strerror(-r)));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			r = -EIO;
			set_error(error_r, xasprintf("%s: file changed while read", path));
			break;
		}
	}
	close(fd);
	if (r < 0) {
		free(data);
		return r;
	}
	data[len] = '\0';
	*data_r = data;
	*len_r = len;
	return 0;
}

int userdir_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int userdir_write_atomic(const char *dir, const char *tmp_dir, const char *name, const void *data,
			 size_t len, bool replace, char **error_r)
{
	char *tmp = xasprintf("%s/%s.tmp-XXXXXX", tmp_dir, name);
	char *dst = xasprintf("%s/%s", dir, name);
	int r = 0;

	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		set_error(error_r, xasprintf("creating a temporary file in %s: %s", tmp_dir,
					     strerror(-r)));
		goto out;
	}
	r = write_all(fd, data, len);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0) {
		int flags = replace ? 0 : RENAME_NOREPLACE;
		if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, flags) < 0)
			r = -errno;
	}
	if (r < 0) {
		unlink(tmp);
		set_error(error_r, xasprintf("writing %s: %s", dst, strerror(-r)));
		goto out;
	}
	r = userdir_fsync_dir(dir);
	if (r < 0)
		set_error(error_r, xasprintf("fsync %s: %s", dir, strerror(-r)));
out:
	free(tmp);
	free(dst);
	return r;
}

static int remove_at(int parent, const char *name, int depth)
{
	if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	if (depth >= REMOVE_TREE_DEPTH)
		return -ELOOP;
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return r;
	}
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		int r2 = remove_at(dirfd(d), e->d_name, depth + 1);
		if (r2 < 0 && r == 0)
			r = r2;
	}
	closedir(d);
	if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && r == 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int userdir_remove_tree(const char *path)
{
	return remove_at(AT_FDCWD, path, 0);
}
