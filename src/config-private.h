/* Internals shared by config.c (file, sections, schema) and
 * config-sections.c (addresses, [identification], smtp.domains). Not for
 * use outside src/config*.c. */
#ifndef SEAL_CONFIG_PRIVATE_H
#define SEAL_CONFIG_PRIVATE_H

#include "src/config.h"
#include "src/toml.h"

enum config_kind {
	CONFIG_K_STRING,
	CONFIG_K_PATH,		/* string, made absolute against the file's dir */
	CONFIG_K_BOOL,
	CONFIG_K_UINT,		/* uint32_t in [min, max] */
	CONFIG_K_LISTEN,	/* array of addresses; TLS needed if TCP */
	CONFIG_K_LISTEN_TLS,	/* array of addresses, implicit TLS */
	CONFIG_K_ADMIN,		/* one "unix:/path" */
	CONFIG_K_DNS,		/* array of "IP" or "IP:PORT" */
	CONFIG_K_LOG_LEVEL,
	CONFIG_K_LOG_TARGET,
};

/* One known key of a section, stored at offset in struct config. */
struct config_key {
	const char *name;
	enum config_kind kind;
	size_t offset;
	uint32_t min, max;
};

struct config_ctx {
	const char *path;	/* the file, for messages */
	char *dir;		/* its directory, absolute */
	struct config *cfg;
	char *error;		/* the first error, heap */
	/* The first listener seen that needs [tls], heap, and its line. */
	char *tls_needed_by;
	unsigned tls_needed_line;
};

extern const struct config_key config__listen_keys[];

/* Records "PATH:LINE: message" (just "PATH: " when line is 0) unless an
 * error is already recorded; returns -EINVAL. */
int config__fail(struct config_ctx *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* 0 if v has type, else fails with "key 'NAME': expected a string". */
int config__expect(struct config_ctx *c, const struct toml_value *v,
		   enum toml_type type, const char *name);
/* p made absolute against dir (NULL: the working directory); NULL only
 * when the working directory cannot be found. Heap string. */
char *config__absolute(const char *dir, const char *p);

/* NULL when addr suits a key of that kind, else the reason. */
const char *config__check_address(const char *addr, enum config_kind kind);
/* Reads the addresses of a [listen] or [dns] key (k->kind says which). */
int config__read_addresses(struct config_ctx *c, const struct config_key *k,
			   const struct toml_entry *e, const char *name);
int config__read_identification(struct config_ctx *c,
				struct toml_value *table);
/* SECTION.domains."name".dkim.SELECTOR = "rsa:..." */
int config__read_domains(struct config_ctx *c, struct toml_value *smtp,
			 const char *section);

#endif
