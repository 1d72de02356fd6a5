/*
 * Secrets stored as salted, slow hashes: carrier credentials and operator
 * tokens are kept in the configuration only as
 * "pbkdf2-sha256$<iterations>$<salt, base64>$<hash, base64>" (PBKDF2-HMAC-SHA256,
 * OpenSSL, a random salt per secret) and checked in constant time.
 */
#ifndef CORRIDOR_CREDENTIAL_H
#define CORRIDOR_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRED_SCHEME "pbkdf2-sha256"
#define CRED_ITER_MIN 1000
#define CRED_ITER_MAX 10000000
#define CRED_ITER_DEFAULT 100000	/* for a secret a person chose */
#define CRED_ITER_GENERATED 10000	/* for a random one: guessing is hopeless anyway */
#define CRED_SALT_MIN 8
#define CRED_SALT_MAX 64
#define CRED_SALT_DEFAULT 16
#define CRED_DK_MIN 16
#define CRED_DK_MAX 64
#define CRED_DK_DEFAULT 32
/* The longest hash string: scheme, iterations, base64 of the largest salt and hash. */
#define CRED_TEXT_MAX 256
/* A generated secret: 32 random bytes in unpadded base64url (43 characters). */
#define CRED_SECRET_GEN_BYTES 32

struct cred_hash {
	uint32_t iterations;
	uint8_t salt[CRED_SALT_MAX];
	size_t salt_len;
	uint8_t dk[CRED_DK_MAX];	/* the derived key the secret must reproduce */
	size_t dk_len;
};

/* Parses a hash string; 0, or -1 with what is wrong in err (never the hash). */
int cred_hash_parse(const char *text, struct cred_hash *h, char *err, size_t errlen);

/* Hashes a secret with a fresh random salt into out (CRED_TEXT_MAX bytes
 * are always enough); 0, or -1 with the reason in err. */
int cred_hash_make(const char *secret, size_t len, uint32_t iterations, char *out,
    size_t outlen, char *err, size_t errlen);

/* True when secret reproduces h. The comparison takes the same time wherever
 * the first differing byte is (CRYPTO_memcmp). */
bool cred_verify(const struct cred_hash *h, const char *secret, size_t len);

/* A random secret for a new credential, printable and without spaces:
 * unpadded base64url of CRED_SECRET_GEN_BYTES random bytes; 0 or -1. */
int cred_secret_generate(char *out, size_t outlen);

#endif
