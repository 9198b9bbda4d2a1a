/* TLS configurations: certificates, keys and the mbedTLS policy, shared by
 * every session that starts with them.
 *
 * Policy: TLS 1.2 only (mbedTLS 2.28 has no 1.3; 1.0 and 1.1 are deprecated
 * by RFC 8996), ECDHE key exchange with AEAD ciphers only (forward secrecy,
 * no CBC padding oracles; RFC 7525 section 4.2), renegotiation off, no
 * compression (not compiled in: CRIME), no session tickets.
 *
 * A config is reference counted so that a reload (SIGHUP) can swap in a
 * new one while live sessions finish on the one they started with. All
 * configs share one CTR_DRBG: mbedTLS is built with pthread threading, so
 * the DRBG locks itself when handshakes on several pool threads draw from
 * it at once.
 */
#include "coro/stream-internal.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "src/util/xmalloc.h"

#define TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct tls_config {
	atomic_uint refs;
	bool server;
	bool verify;
	mbedtls_ssl_config ssl;
	mbedtls_x509_crt certs;	/* server: our chain; client: trusted CAs */
	mbedtls_pk_context key;	/* server only */
};

struct tls_suite {
	int id;
	const char *description;
};

/* Server preference order: AES-256 first, then ChaCha20 (fast without
 * AES-NI), then AES-128. Descriptions use the OpenSSL names that
 * administrators know from logs of other servers. */
static const struct tls_suite tls_suites[] = {
	{ MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	  "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384" },
	{ MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	  "TLSv1.2 ECDHE-RSA-AES256-GCM-SHA384" },
	{ MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	  "TLSv1.2 ECDHE-ECDSA-CHACHA20-POLY1305" },
	{ MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	  "TLSv1.2 ECDHE-RSA-CHACHA20-POLY1305" },
	{ MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	  "TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256" },
	{ MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	  "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256" },
};
#define TLS_NSUITES (sizeof(tls_suites) / sizeof(tls_suites[0]))

static int tls_suite_ids[TLS_NSUITES + 1];

static const mbedtls_ecp_group_id tls_curves[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE,
};

static const int tls_sig_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256, MBEDTLS_MD_NONE,
};

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static mbedtls_entropy_context tls_entropy;
static mbedtls_ctr_drbg_context tls_drbg;
static int tls_drbg_status;
static pthread_mutex_t tls_reseed_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic pid_t tls_drbg_pid;
static atomic_uint tls_live;
static _Thread_local char tls_errbuf[256];

static void tls_global_init(void)
{
	for (size_t i = 0; i < TLS_NSUITES; i++)
		tls_suite_ids[i] = tls_suites[i].id;
	mbedtls_entropy_init(&tls_entropy);
	mbedtls_ctr_drbg_init(&tls_drbg);
	static const unsigned char pers[] = "sealmail tls";
	tls_drbg_status = mbedtls_ctr_drbg_seed(&tls_drbg, mbedtls_entropy_func, &tls_entropy,
						pers, sizeof(pers) - 1);
	tls_drbg_pid = getpid();
}

/* The DRBG for every handshake, from any thread. A forked child would
 * otherwise replay its parent's random stream (and ECDHE secrets), so the
 * first draw after a fork reseeds from fresh entropy. */
static int tls_random(void *unused, unsigned char *out, size_t len)
{
	pid_t pid = getpid();
	if (pid != atomic_load(&tls_drbg_pid)) {
		pthread_mutex_lock(&tls_reseed_lock);
		int r = 0;
		if (pid != atomic_load(&tls_drbg_pid))
			r = mbedtls_ctr_drbg_reseed(&tls_drbg, NULL, 0);
		if (r == 0)
			atomic_store(&tls_drbg_pid, pid);
		pthread_mutex_unlock(&tls_reseed_lock);
		if (r != 0)
			return r;
	}
	return mbedtls_ctr_drbg_random(&tls_drbg, out, len);
}

/* The message for *error_r: what failed, on which file, and mbedTLS's
 * reason. Kept per thread until the next failure. */
static const char *tls_error(const char *what, const char *path, int code)
{
	char msg[160];
	if (code > 0)
		snprintf(msg, sizeof(msg), "%d certificates could not be parsed", code);
	else
		mbedtls_strerror(code, msg, sizeof(msg));
	snprintf(tls_errbuf, sizeof(tls_errbuf), "%s%s%s: %s", what, path ? " " : "",
		 path ? path : "", msg);
	return tls_errbuf;
}

static struct tls_config *tls_config_alloc(bool server, const char **error_r)
{
	pthread_once(&tls_once, tls_global_init);
	if (tls_drbg_status != 0) {
		*error_r = tls_error("cannot seed the random generator", NULL, tls_drbg_status);
		return NULL;
	}
	struct tls_config *cfg = xcalloc(1, sizeof(*cfg));
	atomic_init(&cfg->refs, 1);
	cfg->server = server;
	mbedtls_ssl_config_init(&cfg->ssl);
	mbedtls_x509_crt_init(&cfg->certs);
	mbedtls_pk_init(&cfg->key);
	atomic_fetch_add(&tls_live, 1);
	int r = mbedtls_ssl_config_defaults(&cfg->ssl,
					    server ? MBEDTLS_SSL_IS_SERVER : MBEDTLS_SSL_IS_CLIENT,
					    MBEDTLS_SSL_TRANSPORT_STREAM,
					    MBEDTLS_SSL_PRESET_DEFAULT);
	if (r != 0) {
		*error_r = tls_error("TLS defaults", NULL, r);
		tls_config_unref(&cfg);
		return NULL;
	}
	mbedtls_ssl_config *c = &cfg->ssl;
	mbedtls_ssl_conf_rng(c, tls_random, NULL);
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(c, tls_suite_ids);
	mbedtls_ssl_conf_curves(c, tls_curves);
	mbedtls_ssl_conf_sig_hashes(c, tls_sig_hashes);
	/* RFC 5746 secure renegotiation is moot when we never renegotiate;
	 * a peer asking is refused (a renegotiation is also a CPU cost on
	 * the loop that we do not want). */
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	mbedtls_ssl_conf_legacy_renegotiation(c, MBEDTLS_SSL_LEGACY_NO_RENEGOTIATION);
	mbedtls_ssl_conf_session_tickets(c, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
	return cfg;
}

struct tls_config *tls_config_new_server(const char *cert_chain_path, const char *key_path,
					 const char **error_r)
{
	struct tls_config *cfg = tls_config_alloc(true, error_r);
	if (!cfg)
		return NULL;
	int r = mbedtls_x509_crt_parse_file(&cfg->certs, cert_chain_path);
	if (r != 0) {
		*error_r = tls_error("cannot load certificate chain", cert_chain_path, r);
		goto fail;
	}
	r = mbedtls_pk_parse_keyfile(&cfg->key, key_path, NULL);
	if (r != 0) {
		*error_r = tls_error("cannot load private key", key_path, r);
		goto fail;
	}
	r = mbedtls_pk_check_pair(&cfg->certs.pk, &cfg->key);
	if (r != 0) {
		*error_r = tls_error("private key does not match certificate", key_path, r);
		goto fail;
	}
	r = mbedtls_ssl_conf_own_cert(&cfg->ssl, &cfg->certs, &cfg->key);
	if (r != 0) {
		*error_r = tls_error("cannot use certificate", cert_chain_path, r);
		goto fail;
	}
	/* No client certificates: mail clients authenticate with SASL. */
	mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_NONE);
	return cfg;
fail:
	tls_config_unref(&cfg);
	return NULL;
}

struct tls_config *tls_config_new_client(const char *ca_file, bool verify, const char **error_r)
{
	struct tls_config *cfg = tls_config_alloc(false, error_r);
	if (!cfg)
		return NULL;
	cfg->verify = verify;
	if (!verify) {
		mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_NONE);
		return cfg;
	}
	const char *path = ca_file ? ca_file : TLS_SYSTEM_CA;
	int r = mbedtls_x509_crt_parse_file(&cfg->certs, path);
	/* A positive count means some certificates of a bundle did not
	 * parse; the system bundle may hold a few mbedTLS cannot read. */
	if (r < 0 || (r > 0 && ca_file)) {
		*error_r = tls_error("cannot load CA certificates", path, r);
		tls_config_unref(&cfg);
		return NULL;
	}
	mbedtls_ssl_conf_ca_chain(&cfg->ssl, &cfg->certs, NULL);
	mbedtls_ssl_conf_authmode(&cfg->ssl, MBEDTLS_SSL_VERIFY_REQUIRED);
	return cfg;
}

void tls_config_ref(struct tls_config *cfg)
{
	atomic_fetch_add(&cfg->refs, 1);
}

void tls_config_unref(struct tls_config **cfgp)
{
	struct tls_config *cfg = *cfgp;
	if (!cfg)
		return;
	*cfgp = NULL;
	if (atomic_fetch_sub(&cfg->refs, 1) != 1)
		return;
	mbedtls_ssl_config_free(&cfg->ssl);
	mbedtls_x509_crt_free(&cfg->certs);
	mbedtls_pk_free(&cfg->key);	/* zeroizes the private key */
	free(cfg);
	atomic_fetch_sub(&tls_live, 1);
}

const struct mbedtls_ssl_config *tls__config_ssl(const struct tls_config *cfg)
{
	return &cfg->ssl;
}

bool tls__config_is_server(const struct tls_config *cfg)
{
	return cfg->server;
}

bool tls__config_verifies(const struct tls_config *cfg)
{
	return cfg->verify;
}

const char *tls__suite_description(int suite_id)
{
	for (size_t i = 0; i < TLS_NSUITES; i++) {
		if (tls_suites[i].id == suite_id)
			return tls_suites[i].description;
	}
	return "TLSv1.2";
}

unsigned tls__config_live(void)
{
	return atomic_load(&tls_live);
}
