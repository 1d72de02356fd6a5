/*
 * What the store's conformance tests (test_store_conformance.c,
 * test_store_derived.c) share: a fresh store in a temporary directory for
 * each test, of the backend CORRIDOR_STORE names (the default: the embedded
 * one, sqlite), with a movement leg (index 0) and a port (index 1), and the
 * updates they append. Everything goes through store.h only.
 */
#ifndef CORRIDOR_STORE_FIXTURE_H
#define CORRIDOR_STORE_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "update_rec.h"

#define H(x) ((int64_t)(x) * 3600 * 1000)
#define T0 1780000000000LL	/* 2026-05-28 */

extern struct config cfg;	/* the store's configuration */
extern struct store *st;	/* opened by setup(), closed by teardown() */
extern struct leg movement;	/* leg index 0 */
extern struct leg port;		/* leg index 1 */

/* cmocka's per-test setup and teardown. */
int setup(void **state);
int teardown(void **state);
/* A writer holding both legs. */
struct store_writer *writer(void);
/* One update of a unit on the movement leg (index 0) or the port (1). */
struct update_rec *rec_on(int leg, uint64_t seq, int code, int64_t t, const char *container,
    const char *retracts, bool resend);
/* rec_on() of an actual update on the movement leg. */
struct update_rec *rec(uint64_t seq, int code, int64_t t, const char *container);
/* Appends recs (all of one leg) in one transaction, frees them and gives
 * their results. */
void append_to(struct store_writer *w, size_t leg, struct update_rec **recs, size_t n,
    enum rec_result *results);

#endif
