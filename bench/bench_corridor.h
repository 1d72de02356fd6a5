/*
 * A corridor's worth of updates for the loader, as a stream in the order the
 * carriers send them: corridorctl's simulator (client/sim_*.c: W and E block
 * trains over all 12 legs, min/typical/bad times, PLN and EST events, customs
 * holds, delay reasons, updates that arrive late or out of order) run for as
 * many trains a day as it takes to make the number of updates asked for, plus
 * a few duplicates, retractions (a wrong event, then the right one naming it)
 * and updates bad on purpose. The same options and seed give the same stream.
 */
#ifndef CORRIDOR_BENCH_CORRIDOR_H
#define CORRIDOR_BENCH_CORRIDOR_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

struct corridor_opts {
	uint64_t seed;
	uint64_t updates;	/* about this many are made */
	int days;		/* of event time, ending at end_ms */
	int64_t end_ms;
	/* per mille of the actual container events */
	unsigned dup_pm, retract_pm, bad_pm;
};

struct corridor_stats {
	uint64_t updates, trains, containers;
	uint64_t plans, estimates, holds, delayed, late;
	uint64_t duplicates, retractions, bad;
	uint64_t per_carrier[SIM_CARRIERS];
	uint64_t per_leg[SIM_LEGS];	/* in the order of sim_ctx.legs */
	char leg_codes[SIM_LEGS][32];
	double trains_per_day;
};

/* Receives each update in sending order: the carrier (index into
 * sim_carrier_codes), UPDFILE_BAD for one the daemon must reject, and the
 * packed ShipmentUpdate without its seq, which the receiver adds. 0 or -1. */
typedef int (*corridor_emit_fn)(void *arg, int carrier, uint8_t flags, const uint8_t *packed,
    size_t len);

/* A hash of what the simulator makes for the first trains of the seed: it
 * changes when client/sim_*.c change, so a data set can tell it is stale. */
uint64_t corridor_fingerprint(const struct corridor_opts *o);

/* Makes the stream. 0, or -1 with the reason in err. */
int corridor_generate(const struct corridor_opts *o, corridor_emit_fn emit, void *arg,
    struct corridor_stats *st, char *err, size_t errlen);

#endif
