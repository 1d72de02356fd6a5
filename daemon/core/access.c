/* Carrier credentials and operator tokens from the configuration; see access.h. */
#include "access.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WORDS_MAX (CRED_CODES_MAX + 2)

void
access_free(struct access *a)
{
	free(a->creds);
	free(a->ops);
	memset(a, 0, sizeof *a);
}

static bool
name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= ACCESS_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Splits value (copied into buf) at spaces and tabs; -1 if it has more than max words. */
static int
split_words(const char *value, char *buf, size_t buflen, char **words, int max)
{
	char *save = NULL;
	int n = 0;

	if (strlen(value) >= buflen)
		return -1;
	snprintf(buf, buflen, "%s", value);
	for (char *tok = strtok_r(buf, " \t", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t", &save)) {
		if (n == max)
			return -1;
		words[n++] = tok;
	}
	return n;
}

static int
grow(void *arrp, size_t *cap, size_t n, size_t elem, size_t max)
{
	void **arr = arrp, *nv;
	size_t ncap;

	if (n < *cap)
		return 0;
	if (n >= max)
		return -1;
	ncap = *cap ? *cap * 2 : 16;
	if (ncap > max)
		ncap = max;
	if ((nv = realloc(*arr, ncap * elem)) == NULL)
		return -1;
	*arr = nv;
	*cap = ncap;
	return 0;
}

int
access_add_credential(struct access *a, const char *name, const char *value, int line,
    char *err, size_t errlen)
{
	char buf[CRED_TEXT_MAX + WORDS_MAX * CARRIER_CODE_MAX], *w[WORDS_MAX], why[160];
	struct credential *c;
	int n;

	if (!name_valid(name)) {
		snprintf(err, errlen, "credential name \"%.64s\" must be 1-%d letters, digits, '.', "
		    "'_' or '-'", name, ACCESS_NAME_MAX - 1);
		return -1;
	}
	for (size_t i = 0; i < a->ncreds; i++)
		if (strcmp(a->creds[i].name, name) == 0) {
			snprintf(err, errlen, "credential %s is defined twice (line %d)", name,
			    a->creds[i].line);
			return -1;
		}
	n = split_words(value, buf, sizeof buf, w, WORDS_MAX);
	if (n < 2 || n > CRED_CODES_MAX + 1) {
		snprintf(err, errlen, "credential %s: want \"<hash> CODE [CODE...]\" with 1-%d "
		    "carrier codes", name, CRED_CODES_MAX);
		return -1;
	}
	if (grow(&a->creds, &a->creds_cap, a->ncreds, sizeof *a->creds, CREDENTIALS_MAX) == -1) {
		snprintf(err, errlen, "more than %d credentials", CREDENTIALS_MAX);
		return -1;
	}
	c = &a->creds[a->ncreds];
	memset(c, 0, sizeof *c);
	if (cred_hash_parse(w[0], &c->hash, why, sizeof why) == -1) {
		snprintf(err, errlen, "credential %s: %s", name, why);
		return -1;
	}
	snprintf(c->name, sizeof c->name, "%s", name);
	snprintf(c->hash_text, sizeof c->hash_text, "%s", w[0]);
	c->line = line;
	for (int i = 1; i < n; i++) {
		if (!carrier_code_valid(w[i])) {
			snprintf(err, errlen, "credential %s: \"%.32s\" is not a carrier code (2-31 "
			    "capital letters or digits)", name, w[i]);
			return -1;
		}
		if (credential_covers(c, w[i])) {
			snprintf(err, errlen, "credential %s names %s twice", name, w[i]);
			return -1;
		}
		snprintf(c->codes[c->ncodes++], CARRIER_CODE_MAX, "%s", w[i]);
	}
	a->ncreds++;
	return 0;
}

int
access_add_operator(struct access *a, const char *name, const char *value, int line,
    char *err, size_t errlen)
{
	char buf[CRED_TEXT_MAX + 32], *w[3], why[160];
	struct operator_token *o;
	enum op_right right;
	int n;

	if (!name_valid(name)) {
		snprintf(err, errlen, "operator name \"%.64s\" must be 1-%d letters, digits, '.', "
		    "'_' or '-'", name, ACCESS_NAME_MAX - 1);
		return -1;
	}
	if (access_operator_find(a, name) != NULL) {
		snprintf(err, errlen, "operator %s is defined twice (line %d)", name,
		    access_operator_find(a, name)->line);
		return -1;
	}
	n = split_words(value, buf, sizeof buf, w, 3);
	if (n != 2 || (strcmp(w[1], "read") != 0 && strcmp(w[1], "admin") != 0)) {
		snprintf(err, errlen, "operator %s: want \"<hash> read\" or \"<hash> admin\"", name);
		return -1;
	}
	right = strcmp(w[1], "admin") == 0 ? RIGHT_ADMIN : RIGHT_READ;
	if (grow(&a->ops, &a->ops_cap, a->nops, sizeof *a->ops, OPERATORS_MAX) == -1) {
		snprintf(err, errlen, "more than %d operators", OPERATORS_MAX);
		return -1;
	}
	o = &a->ops[a->nops];
	memset(o, 0, sizeof *o);
	if (cred_hash_parse(w[0], &o->hash, why, sizeof why) == -1) {
		snprintf(err, errlen, "operator %s: %s", name, why);
		return -1;
	}
	snprintf(o->name, sizeof o->name, "%s", name);
	snprintf(o->hash_text, sizeof o->hash_text, "%s", w[0]);
	o->right = right;
	o->line = line;
	a->nops++;
	return 0;
}

static void
add_problem(char *err, size_t errlen, size_t *used, const char *prefix, int line,
    const char *msg)
{
	int n;

	if (*used >= errlen)
		return;
	n = snprintf(err + *used, errlen - *used, "%s:%d: %s\n", prefix, line, msg);
	if (n > 0 && (size_t)n < errlen - *used)
		*used += (size_t)n;
}

int
access_check(const struct access *a, const struct carrier_list *carriers, const char *prefix,
    char *err, size_t errlen, size_t *used)
{
	const struct credential *same[CREDENTIALS_PER_CODE_MAX + 1];
	char msg[256];
	int problems = 0;

	for (size_t i = 0; i < a->ncreds; i++) {
		const struct credential *c = &a->creds[i];

		for (size_t k = 0; k < c->ncodes; k++) {
			if (carrier_list_find(carriers, c->codes[k]) == NULL) {
				snprintf(msg, sizeof msg, "credential %s names carrier %s, which is "
				    "not configured ([carriers])", c->name, c->codes[k]);
				add_problem(err, errlen, used, prefix, c->line, msg);
				problems++;
			}
			/* reported once, at the credential one too many */
			if (access_credentials_for(a, c->codes[k], same, CREDENTIALS_PER_CODE_MAX + 1) >
			    CREDENTIALS_PER_CODE_MAX && same[CREDENTIALS_PER_CODE_MAX] == c) {
				snprintf(msg, sizeof msg, "carrier %s is named by more than %d "
				    "credentials", c->codes[k], CREDENTIALS_PER_CODE_MAX);
				add_problem(err, errlen, used, prefix, c->line, msg);
				problems++;
			}
		}
	}
	return problems;
}

bool
credential_covers(const struct credential *c, const char *code)
{
	for (size_t k = 0; k < c->ncodes; k++)
		if (strcmp(c->codes[k], code) == 0)
			return true;
	return false;
}

size_t
access_credentials_for(const struct access *a, const char *code,
    const struct credential **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < a->ncreds && n < max; i++)
		if (credential_covers(&a->creds[i], code))
			out[n++] = &a->creds[i];
	return n;
}

const struct credential *
access_credential_same(const struct access *a, const char *name, const char *hash_text,
    const char *code)
{
	for (size_t i = 0; i < a->ncreds; i++) {
		const struct credential *c = &a->creds[i];

		if (strcmp(c->name, name) == 0)
			return strcmp(c->hash_text, hash_text) == 0 && credential_covers(c, code) ?
			    c : NULL;
	}
	return NULL;
}

const struct operator_token *
access_operator_find(const struct access *a, const char *name)
{
	for (size_t i = 0; i < a->nops; i++)
		if (strcmp(a->ops[i].name, name) == 0)
			return &a->ops[i];
	return NULL;
}

const char *
op_right_name(enum op_right r)
{
	return r == RIGHT_ADMIN ? "admin" : r == RIGHT_READ ? "read" : "none";
}
