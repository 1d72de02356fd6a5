/*
 * Stored credentials (lib/credential.c): hashes made here verify, a wrong
 * secret does not, a hash made by another PBKDF2 implementation (Python's
 * hashlib, as the test harness makes them) verifies, malformed hash strings
 * are refused with a reason, and the final comparison goes through OpenSSL's
 * constant-time CRYPTO_memcmp (the test links with --wrap=CRYPTO_memcmp and
 * counts the calls).
 */
#include "unit.h"

#include <stdio.h>

#include "credential.h"

int __real_CRYPTO_memcmp(const volatile void *a, const volatile void *b, size_t len);
int __wrap_CRYPTO_memcmp(const volatile void *a, const volatile void *b, size_t len);

static int memcmp_calls;
static size_t memcmp_len;

int
__wrap_CRYPTO_memcmp(const volatile void *a, const volatile void *b, size_t len)
{
	memcmp_calls++;
	memcmp_len = len;
	return __real_CRYPTO_memcmp(a, b, len);
}

/* hashlib.pbkdf2_hmac('sha256', b'correct horse', b'corridor-salt-16', 1000) */
static const char python_hash[] = "pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$"
    "9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo=";
static const char python_hash_unpadded[] = "pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$"
    "9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo";

static void
test_make_and_verify(void **state)
{
	char text[CRED_TEXT_MAX], again[CRED_TEXT_MAX], err[128];
	struct cred_hash h;

	(void)state;
	assert_int_equal(cred_hash_make("s3cret", 6, 2000, text, sizeof text, err, sizeof err), 0);
	assert_true(strncmp(text, "pbkdf2-sha256$2000$", 19) == 0);
	assert_int_equal(cred_hash_parse(text, &h, err, sizeof err), 0);
	assert_int_equal(h.iterations, 2000);
	assert_int_equal(h.salt_len, CRED_SALT_DEFAULT);
	assert_int_equal(h.dk_len, CRED_DK_DEFAULT);
	assert_true(cred_verify(&h, "s3cret", 6));
	assert_false(cred_verify(&h, "s3creT", 6));
	assert_false(cred_verify(&h, "s3cre", 5));
	assert_false(cred_verify(&h, "s3cret ", 7));
	assert_false(cred_verify(&h, "", 0));
	/* a fresh salt each time: the same secret never gives the same string */
	assert_int_equal(cred_hash_make("s3cret", 6, 2000, again, sizeof again, err, sizeof err), 0);
	assert_string_not_equal(text, again);
}

static void
test_other_implementation(void **state)
{
	struct cred_hash h;
	char err[128];

	(void)state;
	assert_int_equal(cred_hash_parse(python_hash, &h, err, sizeof err), 0);
	assert_int_equal(h.iterations, 1000);
	assert_int_equal(h.salt_len, 16);
	assert_memory_equal(h.salt, "corridor-salt-16", 16);
	assert_true(cred_verify(&h, "correct horse", 13));
	assert_false(cred_verify(&h, "correct horsE", 13));
	assert_int_equal(cred_hash_parse(python_hash_unpadded, &h, err, sizeof err), 0);
	assert_true(cred_verify(&h, "correct horse", 13));
}

static void
test_constant_time_compare(void **state)
{
	struct cred_hash h;
	char err[128];

	(void)state;
	assert_int_equal(cred_hash_parse(python_hash, &h, err, sizeof err), 0);
	memcmp_calls = 0;
	assert_true(cred_verify(&h, "correct horse", 13));
	assert_int_equal(memcmp_calls, 1);
	assert_int_equal(memcmp_len, 32);
	/* wrong in the first byte or the last: the same one full-length compare */
	assert_false(cred_verify(&h, "Correct horse", 13));
	assert_false(cred_verify(&h, "correct horsf", 13));
	assert_int_equal(memcmp_calls, 3);
	assert_int_equal(memcmp_len, 32);
}

static void
expect_malformed(const char *text, const char *why)
{
	struct cred_hash h;
	char err[256] = "";

	if (cred_hash_parse(text, &h, err, sizeof err) != -1)
		fail_msg("accepted \"%s\"", text);
	if (strstr(err, why) == NULL)
		fail_msg("\"%s\": error \"%s\" does not say \"%s\"", text, err, why);
	/* the message never repeats the hash */
	assert_null(strstr(err, "9Xob1zyZ"));
}

static void
test_malformed(void **state)
{
	char longer[400];

	(void)state;
	expect_malformed("", "starts with");
	expect_malformed("s3cret", "starts with");
	expect_malformed("pbkdf2-sha1$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq",
	    "starts with");
	expect_malformed("pbkdf2-sha256", "starts with");
	expect_malformed("pbkdf2-sha256$", "iteration");
	expect_malformed("pbkdf2-sha256$x$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq", "iteration");
	expect_malformed("pbkdf2-sha256$999$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq",
	    "iteration");
	expect_malformed("pbkdf2-sha256$10000001$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq",
	    "iteration");
	expect_malformed("pbkdf2-sha256$99999999999999999999999$Y29y$9Xob", "iteration");
	expect_malformed("pbkdf2-sha256$1000", "iteration");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg", "four");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq$x",
	    "more than four");
	expect_malformed("pbkdf2-sha256$1000$$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo", "salt");
	expect_malformed("pbkdf2-sha256$1000$c2FsdA$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo",
	    "salt");	/* 4 bytes */
	expect_malformed("pbkdf2-sha256$1000$Y29yc!lkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq", "salt");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg=$9Xob1zyZwCstKhc7VEpq", "salt");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$", "hash must");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZ", "hash must");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob 1zyZwCstKhc7VEpq/R1+8vI",
	    "hash must");
	expect_malformed("pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq/R1+8vIv"
	    "BJ83Cafe8XTGCvo===", "hash must");
	memset(longer, 'A', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	memcpy(longer, "pbkdf2-sha256$1000$", 19);
	expect_malformed(longer, "at most");
}

static void
test_make_refuses(void **state)
{
	char text[CRED_TEXT_MAX], small[20], err[128];

	(void)state;
	assert_int_equal(cred_hash_make("x", 1, 999, text, sizeof text, err, sizeof err), -1);
	assert_int_equal(cred_hash_make("", 0, 1000, text, sizeof text, err, sizeof err), -1);
	assert_int_equal(cred_hash_make("x", 1, 1000, small, sizeof small, err, sizeof err), -1);
}

static void
test_generated_secrets(void **state)
{
	char a[64], b[64], tiny[8];

	(void)state;
	assert_int_equal(cred_secret_generate(a, sizeof a), 0);
	assert_int_equal(cred_secret_generate(b, sizeof b), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	for (const char *p = a; *p; p++)
		assert_true((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_');
	assert_int_equal(cred_secret_generate(tiny, sizeof tiny), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_and_verify),
		cmocka_unit_test(test_other_implementation),
		cmocka_unit_test(test_constant_time_compare),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_make_refuses),
		cmocka_unit_test(test_generated_secrets),
	};

	return UNIT_RUN(tests);
}
