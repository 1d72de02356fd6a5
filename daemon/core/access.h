/*
 * Who may do what, as the configuration says: carrier credentials
 * ([credentials]: a name, a stored hash and the carrier codes it may write
 * as) and operator tokens ([operators]: a name, a stored hash and a right,
 * read or admin). Only hashes are kept (credential.h). Part of the
 * immutable configuration snapshot, so worker threads may read it.
 */
#ifndef CORRIDOR_ACCESS_H
#define CORRIDOR_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "carrier.h"
#include "credential.h"

#define ACCESS_NAME_MAX 64		/* a credential's or operator's name, with its NUL */
#define CRED_CODES_MAX 8		/* carrier codes one credential may name */
#define CREDENTIALS_MAX 4096
#define OPERATORS_MAX 1024
#define CREDENTIALS_PER_CODE_MAX 4	/* bounds the hashes one Hello can cost */

enum op_right { RIGHT_NONE = 0, RIGHT_READ = 1, RIGHT_ADMIN = 2 };

struct credential {
	char name[ACCESS_NAME_MAX];
	char hash_text[CRED_TEXT_MAX];	/* as configured; a changed one is a new secret */
	struct cred_hash hash;
	char codes[CRED_CODES_MAX][CARRIER_CODE_MAX];
	size_t ncodes;
	int line;			/* in the configuration file, for messages */
};

struct operator_token {
	char name[ACCESS_NAME_MAX];
	char hash_text[CRED_TEXT_MAX];
	struct cred_hash hash;
	enum op_right right;
	int line;
};

struct access {
	struct credential *creds;
	size_t ncreds, creds_cap;
	struct operator_token *ops;
	size_t nops, ops_cap;
};

void access_free(struct access *a);

/* "<hash> CODE [CODE...]" for credential name; 0, or -1 with err. */
int access_add_credential(struct access *a, const char *name, const char *value, int line,
    char *err, size_t errlen);
/* "<hash> read|admin" for operator name; 0, or -1 with err. */
int access_add_operator(struct access *a, const char *name, const char *value, int line,
    char *err, size_t errlen);
/* Once the whole file is read: every code a credential names is a configured
 * carrier, and no code is named by more than CREDENTIALS_PER_CODE_MAX
 * credentials. Appends one "prefix:line: message" line per problem to err
 * (from *used on) and returns how many there were. */
int access_check(const struct access *a, const struct carrier_list *carriers,
    const char *prefix, char *err, size_t errlen, size_t *used);

bool credential_covers(const struct credential *c, const char *code);
/* Up to max credentials that name code, in file order; returns how many. */
size_t access_credentials_for(const struct access *a, const char *code,
    const struct credential **out, size_t max);
/* The credential of this name and stored hash, if it still names code:
 * how a session's credential is found again in a newer configuration. */
const struct credential *access_credential_same(const struct access *a, const char *name,
    const char *hash_text, const char *code);
const struct operator_token *access_operator_find(const struct access *a, const char *name);

const char *op_right_name(enum op_right r);

#endif
