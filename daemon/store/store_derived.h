/*
 * Reading a leg's derived rows whole (store/derive.h keeps them): every
 * traversal, rollup row and conveyance, from one consistent snapshot. For
 * checks that compare them with a recomputation from the events (the
 * conformance suite, tests/unit/test_store_conformance.c); the query
 * commands read through store_reader.h's primitives. Any thread, the leg
 * must have been prepared; slow on a large leg.
 */
#ifndef CORRIDOR_STORE_DERIVED_H
#define CORRIDOR_STORE_DERIVED_H

#include "derive.h"
#include "legs.h"
#include "rollup_batch.h"
#include "traversal.h"

struct store;
struct store_error;

/* Called for each row; the pointers are the backend's until the call
 * returns. Any may be NULL (those rows are not read). A rollup row's hist
 * is lib/histogram.h's stored form. */
struct store_derived_fns {
	void (*traversal)(void *arg, const char *unit, const char *direction,
	    const struct traversal *t);
	void (*rollup)(void *arg, const struct rollup_key *k, const struct derive_rollup *row);
	void (*conveyance)(void *arg, const struct conveyance_key *c,
	    const struct derive_conveyance *v);
};

/* 0, or -1 with err filled. */
int store_derived_read(struct store *st, const struct leg *leg, const struct store_derived_fns *fns,
    void *arg, struct store_error *err);

#endif
