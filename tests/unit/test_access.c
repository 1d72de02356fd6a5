/*
 * [credentials] and [operators] in the configuration (daemon/core/access.c via
 * config_load_file): hashes, carrier codes and rights are read; every
 * mistake is reported with its line, and nothing of a bad line is kept.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

#define H1 "pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg==$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo="
#define H2 "pbkdf2-sha256$1000$Y29ycmlkb3Itc2FsdC0xNg$9Xob1zyZwCstKhc7VEpq/R1+8vIvBJ83Cafe8XTGCvo"

static char err[4096];

/* Loads text as a configuration file; returns the number of problems. */
static int
load(struct config *cfg, const char *text)
{
	char path[] = "/tmp/corridor-test-access-XXXXXX";
	int fd = mkstemp(path), problems;
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	problems = config_load_file(cfg, path, err, sizeof err);
	unlink(path);
	return problems;
}

static void
test_reads_credentials_and_operators(void **state)
{
	struct config *cfg = config_new();
	const struct credential *found[4];

	(void)state;
	assert_int_equal(load(cfg,
	    "[credentials]\n"
	    "ktz = " H1 " KTZE\n"
	    "joint = " H2 " MCML KTZE\tADYC\n"
	    "[operators]\n"
	    "alice = " H1 " admin\n"
	    "grafana = " H2 " read\n"), 0);
	assert_int_equal(cfg->access.ncreds, 2);
	assert_string_equal(cfg->access.creds[1].name, "joint");
	assert_int_equal(cfg->access.creds[1].ncodes, 3);
	assert_string_equal(cfg->access.creds[1].codes[2], "ADYC");
	assert_int_equal(cfg->access.creds[1].hash.iterations, 1000);
	assert_int_equal(access_credentials_for(&cfg->access, "KTZE", found, 4), 2);
	assert_ptr_equal(found[0], &cfg->access.creds[0]);
	assert_int_equal(access_credentials_for(&cfg->access, "POB", found, 4), 0);
	assert_non_null(access_credential_same(&cfg->access, "joint", H2, "ADYC"));
	assert_null(access_credential_same(&cfg->access, "joint", H1, "ADYC"));
	assert_null(access_credential_same(&cfg->access, "joint", H2, "POB"));
	assert_int_equal(access_operator_find(&cfg->access, "alice")->right, RIGHT_ADMIN);
	assert_int_equal(access_operator_find(&cfg->access, "grafana")->right, RIGHT_READ);
	assert_null(access_operator_find(&cfg->access, "ktz"));
	config_release(cfg);
}

static void
test_codes_checked_against_carriers(void **state)
{
	struct config *cfg = config_new();

	(void)state;
	/* [carriers] after the credentials that name them is fine ... */
	assert_int_equal(load(cfg,
	    "[credentials]\n"
	    "x = " H1 " XCAR\n"
	    "[carriers]\n"
	    "XCAR = a carrier\n"), 0);
	config_release(cfg);
	/* ... a code no carrier has is not, and the line says which */
	cfg = config_new();
	assert_int_equal(load(cfg,
	    "[carriers]\n"
	    "XCAR = a carrier\n"
	    "[credentials]\n"
	    "x = " H1 " XCAR KTZE\n"), 1);
	assert_non_null(strstr(err, ":4: credential x names carrier KTZE, which is not configured"));
	config_release(cfg);
}

static void
expect_problem(const char *text, const char *line_and_msg)
{
	struct config *cfg = config_new();

	if (load(cfg, text) == 0)
		fail_msg("accepted:\n%s", text);
	if (strstr(err, line_and_msg) == NULL)
		fail_msg("errors\n%s\ndo not say \"%s\"", err, line_and_msg);
	/* a secret's hash is never echoed back */
	assert_null(strstr(err, "9Xob1zyZ"));
	config_release(cfg);
}

static void
test_mistakes(void **state)
{
	(void)state;
	expect_problem("[credentials]\nktz = s3cret KTZE\n", ":2: credential ktz: a credential "
	    "hash starts with");
	expect_problem("[credentials]\nktz = " H1 "\n", ":2: credential ktz: want");
	expect_problem("[credentials]\nktz = " H1 " ktze\n", ":2: credential ktz: \"ktze\" is not "
	    "a carrier code");
	expect_problem("[credentials]\nktz = " H1 " KTZE KTZE\n", "names KTZE twice");
	expect_problem("[credentials]\nk t = " H1 " KTZE\n", "credential name");
	expect_problem("[credentials]\nktz = " H1 " KTZE\nktz = " H2 " KMTF\n",
	    ":3: credential ktz is defined twice (line 2)");
	expect_problem("[credentials]\na = " H1 " KTZE\nb = " H1 " KTZE\nc = " H1 " KTZE\n"
	    "d = " H1 " KTZE\ne = " H1 " KTZE\n", ":6: carrier KTZE is named by more than 4");
	expect_problem("[credentials]\nx = " H1 " A1 A2 A3 A4 A5 A6 A7 A8 A9\n", "1-8 carrier codes");
	expect_problem("[operators]\nalice = " H1 " root\n", ":2: operator alice: want");
	expect_problem("[operators]\nalice = " H1 "\n", ":2: operator alice: want");
	expect_problem("[operators]\nalice = nothash admin\n", ":2: operator alice: a credential "
	    "hash starts with");
	expect_problem("[operators]\nalice = " H1 " read\nalice = " H1 " admin\n",
	    ":3: operator alice is defined twice");
	/* too long for the INI reader: reported, not read as two lines */
	expect_problem("[credentials]\n"
	    "a-credential-name-of-sixty-three-characters-xxxxxxxxxxxxxxxxxxx = " H1
	    " KTZE KMTF PTCH ADYC ASCO POB MCML AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n[operators]\n",
	    ":2: the line is longer than 198 characters");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_credentials_and_operators),
		cmocka_unit_test(test_codes_checked_against_carriers),
		cmocka_unit_test(test_mistakes),
	};

	return UNIT_RUN(tests);
}
