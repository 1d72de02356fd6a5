/*
 * What a store call that failed says (store.h): a kind the caller can act
 * on and a message for the log. No backend's codes pass the interface.
 */
#ifndef CORRIDOR_STORE_ERROR_H
#define CORRIDOR_STORE_ERROR_H

enum store_error_kind {
	STORE_OK = 0,
	STORE_RETRYABLE,	/* try again later: busy, locked, out of memory or disk */
	STORE_CORRUPT,		/* the stored data is damaged or not ours */
	STORE_UNSUPPORTED,	/* the backend cannot do this (or this version of it) */
	STORE_CONFLICT,		/* what was to be made exists already (a backup's name) */
};

#define STORE_ERROR_MAX 256

struct store_error {
	enum store_error_kind kind;
	char message[STORE_ERROR_MAX];
};

void store_error_clear(struct store_error *e);
/* Sets kind and the message; e may be NULL (nobody asked). */
void store_error_set(struct store_error *e, enum store_error_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "retryable", "corrupt", "unsupported", "conflict" ("ok" for STORE_OK). */
const char *store_error_kind_name(enum store_error_kind kind);

#endif
