/* Dropping root after start-up ([security] in sealmail.toml): once the
 * listeners are bound and TLS keys read, chroot into ROOT/users when
 * chroot_system is set, then become system_user. Does nothing unless the
 * process runs as root. */
#ifndef SEAL_PRIVDROP_H
#define SEAL_PRIVDROP_H

struct config;

/* 0, or a negative code with *error_r (heap). */
int privdrop_apply(const struct config *cfg, char **error_r);

#endif
