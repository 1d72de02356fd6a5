/*
 * Secrets on the client side: which carrier credential a session presents
 * (--credential, --credential-file, or CORRIDOR_CREDENTIAL[_FILE]), which
 * operator token opens the query port (--token, --token-file, or
 * CORRIDOR_TOKEN[_FILE]), and `corridorctl hash-credential`, which turns a
 * secret into the hash the daemon's configuration stores.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "credential.h"
#include "ctl.h"

#define SECRET_LINE_MAX 4200

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
	    s[n - 1] == '\t'))
		s[--n] = '\0';
}

/* Printable ASCII without spaces: what fits a query line and a file line. */
static int
secret_valid(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (*s <= ' ' || *s >= 0x7f)
			return 0;
	return 1;
}

/* A secrets file: "CODE SECRET" lines, a bare "SECRET" line for any other
 * code (or a token "NAME:SECRET"), # comments. 0 or -1 with err. */
static int
ctl_read_secret_file(const char *path, const char *code, char *out, size_t outlen, char *err,
    size_t errlen)
{
	char line[SECRET_LINE_MAX], *any = NULL;
	FILE *f = fopen(path, "r");
	int found = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (!found && fgets(line, sizeof line, f) != NULL) {
		char *p = line, *sp;

		chomp(line);
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		sp = strpbrk(p, " \t");
		if (sp == NULL) {
			/* a bare secret: for every carrier not named on a line of its own */
			if (any == NULL)
				any = strdup(p);
			continue;
		}
		*sp++ = '\0';
		while (*sp == ' ' || *sp == '\t')
			sp++;
		if (code != NULL && strcmp(p, code) == 0) {
			snprintf(out, outlen, "%s", sp);
			found = 1;
		}
	}
	OPENSSL_cleanse(line, sizeof line);
	fclose(f);
	if (!found && any != NULL) {
		snprintf(out, outlen, "%s", any);
		found = 1;
	}
	if (any != NULL) {
		OPENSSL_cleanse(any, strlen(any));
		free(any);
	}
	if (!found) {
		snprintf(err, errlen, "%s: no line \"%s SECRET\" and no bare secret line", path,
		    code != NULL ? code : "CODE");
		return -1;
	}
	if (!secret_valid(out)) {
		snprintf(err, errlen, "%s: the secret must be printable ASCII without spaces", path);
		return -1;
	}
	return 0;
}

const char *
ctl_carrier_credential(const char *given, const char *file, const char *code, char *buf,
    size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	if (given != NULL)
		return given;
	if (file == NULL && getenv("CORRIDOR_CREDENTIAL") != NULL)
		return getenv("CORRIDOR_CREDENTIAL");
	if (file == NULL)
		file = getenv("CORRIDOR_CREDENTIAL_FILE");
	if (file == NULL)
		return NULL;
	return ctl_read_secret_file(file, code, buf, len, err, errlen) == 0 ? buf : NULL;
}

int
ctl_token_resolve(struct ctl *c, char *err, size_t errlen)
{
	const char *t = c->token, *file = c->token_file;
	char *colon;

	if (t == NULL && file == NULL)
		t = getenv("CORRIDOR_TOKEN");
	if (t == NULL && file == NULL)
		file = getenv("CORRIDOR_TOKEN_FILE");
	if (t == NULL && file == NULL)
		return 0;	/* no token: only PING and HELP will answer */
	if (t != NULL)
		snprintf(c->token_buf, sizeof c->token_buf, "%s", t);
	else if (ctl_read_secret_file(file, NULL, c->token_buf, sizeof c->token_buf, err,
	    errlen) == -1)
		return -1;
	colon = strchr(c->token_buf, ':');
	if (colon == NULL || colon == c->token_buf || colon[1] == '\0' || !secret_valid(colon + 1)) {
		snprintf(err, errlen, "a token is NAME:SECRET (printable, no spaces)");
		return -1;
	}
	*colon = '\0';
	c->token_name = c->token_buf;
	c->token_secret = colon + 1;
	return 0;
}

/* Reads a secret without echo on a terminal. */
static int
prompt(const char *what, char *buf, size_t len)
{
	struct termios old, quiet;
	int ok;

	fprintf(stderr, "%s", what);
	fflush(stderr);
	if (tcgetattr(STDIN_FILENO, &old) == -1)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	ok = fgets(buf, (int)len, stdin) != NULL;
	tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	fputc('\n', stderr);
	if (!ok)
		return -1;
	chomp(buf);
	return 0;
}

static int
read_secret(char *buf, size_t len)
{
	char again[SECRET_LINE_MAX];

	if (isatty(STDIN_FILENO)) {
		if (prompt("secret: ", buf, len) == -1 || prompt("again: ", again, sizeof again) == -1)
			return -1;
		if (strcmp(buf, again) != 0) {
			OPENSSL_cleanse(again, sizeof again);
			fprintf(stderr, "corridorctl: hash-credential: the two do not match\n");
			return -1;
		}
		OPENSSL_cleanse(again, sizeof again);
		return 0;
	}
	if (fgets(buf, (int)len, stdin) == NULL) {
		fprintf(stderr, "corridorctl: hash-credential: no secret on standard input\n");
		return -1;
	}
	chomp(buf);
	return 0;
}

int
cmd_hash_credential(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "iterations", required_argument, NULL, 'i' },
		{ "generate", no_argument, NULL, 'g' },
		{ NULL, 0, NULL, 0 },
	};
	char secret[SECRET_LINE_MAX], hash[CRED_TEXT_MAX], err[160], *end;
	unsigned long iterations = 0;
	int ch, generate = 0, rc = 1;

	(void)c;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'g')
			generate = 1;
		else if (ch == 'i') {
			errno = 0;
			iterations = strtoul(optarg, &end, 10);
			if (errno != 0 || *optarg == '\0' || *end != '\0' ||
			    iterations < CRED_ITER_MIN || iterations > CRED_ITER_MAX) {
				fprintf(stderr, "corridorctl: hash-credential: --iterations is %d..%d\n",
				    CRED_ITER_MIN, CRED_ITER_MAX);
				return 64;
			}
		} else
			return 64;
	}
	if (optind != argc) {
		fprintf(stderr, "corridorctl: hash-credential: unexpected argument %s\n", argv[optind]);
		return 64;
	}
	/* 256 random bits need no work factor against guessing, and every
	 * Hello costs the daemon one hash: less work for generated secrets */
	if (iterations == 0)
		iterations = generate ? CRED_ITER_GENERATED : CRED_ITER_DEFAULT;
	if (generate ? cred_secret_generate(secret, sizeof secret) == -1 :
	    read_secret(secret, sizeof secret) == -1)
		goto out;
	if (!secret_valid(secret) || strlen(secret) > 4096) {
		fprintf(stderr, "corridorctl: hash-credential: a secret is 1-4096 printable ASCII "
		    "characters without spaces\n");
		goto out;
	}
	if (strlen(secret) < 16)
		fprintf(stderr, "corridorctl: hash-credential: warning: a secret this short can be "
		    "guessed; --generate makes a random one\n");
	if (strlen(secret) > 256)
		fprintf(stderr, "corridorctl: hash-credential: warning: longer than the daemon's "
		    "default max_credential_bytes (256)\n");
	if (cred_hash_make(secret, strlen(secret), (uint32_t)iterations, hash, sizeof hash, err,
	    sizeof err) == -1) {
		fprintf(stderr, "corridorctl: hash-credential: %s\n", err);
		goto out;
	}
	if (generate)
		printf("%s\n", secret);
	printf("%s\n", hash);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}
