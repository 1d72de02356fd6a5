/*
 * The corridor simulator's shared pieces: a seeded random source, the legs a
 * block train takes (carrier, nodes, event codes), and the generated updates
 * with the time each carrier would send them.
 */
#ifndef CORRIDORCTL_SIM_H
#define CORRIDORCTL_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "corridor.pb-c.h"
#include "legs.h"

#define SIM_LEGS 12
#define SIM_ROUTE_MAX 8
#define SIM_CARRIERS 7
#define SIM_MAX_BOXES 50
#define SIM_HOUR_MS 3600000LL
#define SIM_DAY_MS (24 * SIM_HOUR_MS)

/* A leg as the simulator uses it: who reports it and where it starts and
 * ends going west (east swaps the nodes). */
struct sim_leg {
	const char *code;
	int carrier;		/* index in sim_carrier_codes */
	const char *node_w_in, *node_w_out;
	const char *locode_w_in, *locode_w_out;
	int segment;		/* which train id: 0 KZ, 1 AZ, 2 GE */
	const struct leg *spec;	/* times and kind from the leg table */
};

extern const char *const sim_carrier_codes[SIM_CARRIERS];

struct sim_box {
	char no[12];
	const char *iso_type;
	bool empty;
	uint32_t gross_kg;
};

struct sim_train {
	Corridor__Direction dir;
	int route[SIM_ROUTE_MAX];	/* indices into the simulator's legs, in travel order */
	int nlegs;
	char train_id[3][16];
	int nbox;
	struct sim_box box[SIM_MAX_BOXES];
};

/* One generated update; u comes first so the session can free it by pointer. */
struct sim_update {
	Corridor__ShipmentUpdate u;
	int64_t send_ms;
	uint32_t order;
	uint8_t carrier;
	uint8_t bad;
	char container[12];
	char train_id[16];
	char vessel_imo[8];
	char voyage[16];
	char message_id[40];
};

struct sim_vec {
	struct sim_update **v;
	size_t n, cap;
};

struct sim_ctx {
	uint64_t rng;
	struct leg_table table;
	struct sim_leg legs[SIM_LEGS];
	int64_t end_ms, window_start_ms, future_ms;
	uint32_t order;
	struct sim_vec out;	/* kept updates */
	size_t trains, boxes;
};

/* sim_route.c */
int sim_init(struct sim_ctx *x, uint64_t seed, char *err, size_t errlen);
uint64_t sim_rand(struct sim_ctx *x);
double sim_unit(struct sim_ctx *x);
double sim_uniform(struct sim_ctx *x, double lo, double hi);
/* Hours on a leg: triangular-ish around typical_h; *bad set for a bad delay. */
double sim_leg_hours(struct sim_ctx *x, const struct leg *l, bool *bad);
void sim_train_make(struct sim_ctx *x, struct sim_train *t, uint32_t number);
/* A vessel (IMO with a valid check digit) and voyage for a sea leg departure. */
void sim_vessel(struct sim_ctx *x, const struct sim_leg *l, int64_t dep_ms,
    Corridor__Direction dir, char imo[8], char voyage[16]);

/* sim_train.c: the train's updates from t0, kept when it was active in the window. */
int sim_train_run(struct sim_ctx *x, const struct sim_train *t, int64_t t0);
struct sim_update *sim_update_clone(const struct sim_update *s);
void sim_update_free(Corridor__ShipmentUpdate *u);
int sim_vec_push(struct sim_vec *v, struct sim_update *s);
void sim_vec_free(struct sim_vec *v);

#endif
