/*
 * Traversals: a unit entering a leg and later leaving it. For a movement leg
 * a departure-type event (DEPA, GTOT, LOAD) enters and an arrival-type event
 * (ARRI, GTIN, DISC) exits; for a port or border stay it is the reverse. Only
 * actual (ACT) events move units. Pairing is a pure function over a unit's
 * events sorted by event time, so late and out-of-order events are handled
 * by re-pairing the unit whenever one of its events arrives.
 */
#ifndef CORRIDOR_TRAVERSAL_H
#define CORRIDOR_TRAVERSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "legs.h"

enum event_role { ROLE_NONE, ROLE_ENTER, ROLE_EXIT };

struct trav_event {
	int64_t time_ms;
	int64_t id;		/* ties on time break by arrival order */
	enum event_role role;	/* of an actual event; ROLE_NONE otherwise */
	int classifier;		/* ACT, EST or PLN */
	bool exit_kind;		/* an exit-type code, whatever the classifier */
	const char *carrier;
	const char *train;	/* train id, or NULL */
	const char *vessel;	/* "IMO/voyage" of a vessel call, or NULL */
	uint32_t teu;		/* 0 = unknown */
	uint32_t containers;
	uint32_t gross_kg;
};

struct traversal {
	int64_t enter_ms;
	int64_t exit_ms;	/* -1 while the unit is still in the leg */
	const char *carrier;	/* the carrier that reported the entry */
	const char *train;	/* conveyance named by the entry, or NULL */
	const char *vessel;
	int64_t plan_ms;	/* planned exit (PLN), -1 when none */
	uint32_t eta_n;		/* estimated exits (EST) received */
	int64_t eta_err_ms;	/* sum of |estimate - actual exit| over them */
	uint32_t teu;
	uint32_t containers;
	uint32_t gross_kg;
};

enum event_role leg_event_role(enum leg_kind kind, int classifier, int event_code);

/* Pairs events (sorted by time, then id) into traversals: the first actual
 * entry opens one, the first actual exit after it closes it; repeated
 * entries while open and exits with nothing open are ignored; an entry at
 * the very time the last traversal began (it left within that millisecond)
 * opens that traversal again, so no two share an entry time. out must hold
 * n entries. Cargo figures come from the entry, gaps filled from the exit.
 * A closed traversal owns the planned and estimated exits timed from its
 * entry to the next traversal's entry (the first one also those before
 * it): its plan is the last received PLN exit there, its ETA error sums
 * |estimate - actual exit| over every EST exit there. */
size_t traversal_pair(const struct trav_event *ev, size_t n, struct traversal *out);

/* Called by traversal_diff() for each difference: a traversal that is gone
 * (after NULL), new (before NULL) or changed (both, same entry time). A
 * non-zero return stops the walk. */
typedef int (*traversal_emit_fn)(void *arg, const struct traversal *before,
    const struct traversal *after);

/* Compares a unit's pairing before and after new events (both as
 * traversal_pair() returns them, by entry time) and emits the difference,
 * so a store rewrites only what changed. Returns the first non-zero emit. */
int traversal_diff(const struct traversal *before, size_t nb, const struct traversal *after,
    size_t na, traversal_emit_fn emit, void *arg);

#endif
