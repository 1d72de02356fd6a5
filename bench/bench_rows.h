/*
 * Deterministic benchmark updates: carrier k's i-th update. Units (one
 * container each) enter a leg with update 2j and leave it with 2j+1, spread
 * round-robin over the corridor's legs, so the daemon pairs traversals as it
 * would for real traffic. Shared by the single-file ceiling and the load
 * generator so both store the same rows.
 */
#ifndef CORRIDOR_BENCH_ROWS_H
#define CORRIDOR_BENCH_ROWS_H

#include <stdint.h>

#include "corridor.pb-c.h"
#include "legs.h"

struct bench_update {
	Corridor__ShipmentUpdate u;
	char carrier[16];
	char message_id[48];
	char node[16];
	char container[16];
	char train[24];
};

/* The carrier code of benchmark carrier k: "B" followed by a number. */
void bench_carrier_code(unsigned k, char *buf, size_t len);
/* Fills b with carrier k's update number i (seq = first_seq + i). */
void bench_make_update(struct bench_update *b, const struct leg_table *legs, unsigned k,
    uint64_t i, uint64_t first_seq, int64_t base_ms);

#endif
