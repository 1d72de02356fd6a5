/* Salted PBKDF2 hashes of secrets; see credential.h. */
#include "credential.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define B64_MAX 128	/* base64 of CRED_SALT_MAX or CRED_DK_MAX bytes, with room */

static bool
b64_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '+' || c == '/';
}

/* Standard base64 (RFC 4648 section 4), padded or not; -1 if it is not. */
static int
b64_decode(const char *s, size_t n, uint8_t *out, size_t cap, size_t *outlen)
{
	char padded[B64_MAX + 4];
	uint8_t tmp[B64_MAX];
	size_t chars = n, pad;
	int got;

	while (chars > 0 && s[chars - 1] == '=')
		chars--;
	if (n - chars > 2 || chars == 0 || chars > B64_MAX || chars % 4 == 1)
		return -1;
	for (size_t i = 0; i < chars; i++)
		if (!b64_char(s[i]))
			return -1;
	pad = (4 - chars % 4) % 4;
	if (n != chars && n != chars + pad)
		return -1;	/* padding that does not complete a quantum */
	memcpy(padded, s, chars);
	memset(padded + chars, '=', pad);
	got = EVP_DecodeBlock(tmp, (const unsigned char *)padded, (int)(chars + pad));
	if (got < 0 || (size_t)got < pad || (size_t)got - pad > cap)
		return -1;
	*outlen = (size_t)got - pad;
	memcpy(out, tmp, *outlen);
	OPENSSL_cleanse(tmp, sizeof tmp);
	return 0;
}

int
cred_hash_parse(const char *text, struct cred_hash *h, char *err, size_t errlen)
{
	const char *p = text, *salt, *dk, *end;
	char *num_end;
	unsigned long long iter;
	size_t scheme_len = strlen(CRED_SCHEME);

	memset(h, 0, sizeof *h);
	if (strlen(text) >= CRED_TEXT_MAX) {
		snprintf(err, errlen, "a credential hash is at most %d characters", CRED_TEXT_MAX - 1);
		return -1;
	}
	if (strncmp(p, CRED_SCHEME, scheme_len) != 0 || p[scheme_len] != '$') {
		snprintf(err, errlen, "a credential hash starts with \"%s$\" (make one with "
		    "corridorctl hash-credential)", CRED_SCHEME);
		return -1;
	}
	p += scheme_len + 1;
	if (*p < '0' || *p > '9') {
		snprintf(err, errlen, "no iteration count after \"%s$\"", CRED_SCHEME);
		return -1;
	}
	errno = 0;
	iter = strtoull(p, &num_end, 10);
	if (errno != 0 || *num_end != '$' || iter < CRED_ITER_MIN || iter > CRED_ITER_MAX) {
		snprintf(err, errlen, "the iteration count must be a number in %d..%d followed "
		    "by '$'", CRED_ITER_MIN, CRED_ITER_MAX);
		return -1;
	}
	h->iterations = (uint32_t)iter;
	salt = num_end + 1;
	if ((dk = strchr(salt, '$')) == NULL) {
		snprintf(err, errlen, "the hash needs four '$'-separated parts: scheme, "
		    "iterations, salt and hash");
		return -1;
	}
	dk++;
	end = dk + strlen(dk);
	if (strchr(dk, '$') != NULL) {
		snprintf(err, errlen, "the hash has more than four '$'-separated parts");
		return -1;
	}
	if (b64_decode(salt, (size_t)(dk - 1 - salt), h->salt, sizeof h->salt, &h->salt_len) ==
	    -1 || h->salt_len < CRED_SALT_MIN) {
		snprintf(err, errlen, "the salt must be base64 of %d to %d bytes", CRED_SALT_MIN,
		    CRED_SALT_MAX);
		return -1;
	}
	if (b64_decode(dk, (size_t)(end - dk), h->dk, sizeof h->dk, &h->dk_len) == -1 ||
	    h->dk_len < CRED_DK_MIN) {
		snprintf(err, errlen, "the hash must be base64 of %d to %d bytes", CRED_DK_MIN,
		    CRED_DK_MAX);
		return -1;
	}
	return 0;
}

static int
derive(const char *secret, size_t len, const uint8_t *salt, size_t salt_len, uint32_t iter,
    uint8_t *out, size_t outlen)
{
	return PKCS5_PBKDF2_HMAC(secret, (int)len, salt, (int)salt_len, (int)iter, EVP_sha256(),
	    (int)outlen, out) == 1 ? 0 : -1;
}

int
cred_hash_make(const char *secret, size_t len, uint32_t iterations, char *out, size_t outlen,
    char *err, size_t errlen)
{
	uint8_t salt[CRED_SALT_DEFAULT], dk[CRED_DK_DEFAULT];
	unsigned char salt64[B64_MAX], dk64[B64_MAX];
	int n;

	if (iterations < CRED_ITER_MIN || iterations > CRED_ITER_MAX) {
		snprintf(err, errlen, "iterations must be in %d..%d", CRED_ITER_MIN, CRED_ITER_MAX);
		return -1;
	}
	if (len == 0) {
		snprintf(err, errlen, "the secret is empty");
		return -1;
	}
	if (RAND_bytes(salt, sizeof salt) != 1 ||
	    derive(secret, len, salt, sizeof salt, iterations, dk, sizeof dk) == -1) {
		snprintf(err, errlen, "OpenSSL could not make the salt or the hash");
		return -1;
	}
	EVP_EncodeBlock(salt64, salt, sizeof salt);
	EVP_EncodeBlock(dk64, dk, sizeof dk);
	OPENSSL_cleanse(dk, sizeof dk);
	n = snprintf(out, outlen, "%s$%u$%s$%s", CRED_SCHEME, iterations, (char *)salt64,
	    (char *)dk64);
	if (n < 0 || (size_t)n >= outlen) {
		snprintf(err, errlen, "no room for the hash");
		return -1;
	}
	return 0;
}

bool
cred_verify(const struct cred_hash *h, const char *secret, size_t len)
{
	uint8_t dk[CRED_DK_MAX];
	bool same;

	if (h->dk_len < CRED_DK_MIN || h->dk_len > CRED_DK_MAX ||
	    derive(secret, len, h->salt, h->salt_len, h->iterations, dk, h->dk_len) == -1)
		return false;
	same = CRYPTO_memcmp(dk, h->dk, h->dk_len) == 0;
	OPENSSL_cleanse(dk, sizeof dk);
	return same;
}

int
cred_secret_generate(char *out, size_t outlen)
{
	uint8_t raw[CRED_SECRET_GEN_BYTES];
	unsigned char b64[B64_MAX];
	size_t n = 0;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -1;
	EVP_EncodeBlock(b64, raw, sizeof raw);
	OPENSSL_cleanse(raw, sizeof raw);
	/* base64url without padding: safe in a shell, an INI file and a query line */
	for (size_t i = 0; b64[i] != '\0' && b64[i] != '='; i++) {
		if (n + 1 >= outlen)
			return -1;
		out[n++] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
	}
	out[n] = '\0';
	OPENSSL_cleanse(b64, sizeof b64);
	return 0;
}
