#include "src/privdrop.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/config.h"
#include "src/log.h"
#include "src/util/xmalloc.h"

static int fail(char **error_r, const char *what, const char *arg)
{
	int e = errno ? errno : EPERM;
	*error_r = xasprintf("security: %s %s: %s", what, arg, strerror(e));
	return -e;
}

/* The admin socket must stay reachable for the service user only. */
static void chown_admin_socket(const struct config *cfg, uid_t uid, gid_t gid)
{
	if (strncmp(cfg->listen_admin, "unix:", 5) == 0 &&
	    chown(cfg->listen_admin + 5, uid, gid) < 0)
		log_warning("cannot hand %s to the service user: %s", cfg->listen_admin + 5,
			    strerror(errno));
}

static int do_chroot(const struct config *cfg, char **error_r)
{
	char *users = xasprintf("%s/users", cfg->root);
	char real[PATH_MAX];
	if (!realpath(users, real)) {
		int r = fail(error_r, "cannot resolve", users);
		free(users);
		return r;
	}
	free(users);
	if (chdir(real) < 0 || chroot(real) < 0 || chdir("/") < 0)
		return fail(error_r, "cannot chroot into", real);
	log_info("chrooted into %s", real);
	return 0;
}

int privdrop_apply(const struct config *cfg, char **error_r)
{
	if (geteuid() != 0)
		return 0;
	const char *user = cfg->system_user;
	struct passwd *pw = NULL;
	if (user && *user) {
		errno = 0;
		pw = getpwnam(user);
		if (!pw)
			return fail(error_r, "unknown system_user", user);
		chown_admin_socket(cfg, pw->pw_uid, pw->pw_gid);
		if (initgroups(user, pw->pw_gid) < 0)
			return fail(error_r, "cannot set groups for", user);
	}
	if (cfg->chroot_system) {
		int r = do_chroot(cfg, error_r);
		if (r < 0)
			return r;
	}
	if (!pw) {
		log_warning("running as root: set security.system_user to drop privileges");
		return 0;
	}
	if (setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		return fail(error_r, "cannot become", user);
	/* Make sure the change cannot be undone. */
	if (setuid(0) == 0) {
		errno = EPERM;
		return fail(error_r, "privileges not dropped for", user);
	}
	log_info("running as %s (uid %ld)", user, (long)pw->pw_uid);
	return 0;
}
