/*
 * The reader handle: one per query thread, owned by it. Typed-row
 * primitives that the query commands (query/) merge and format; a backend
 * answers them from its rollups, traversals and events. Also the online
 * backup.
 *
 * A leg is named by its index in the configuration and its entry (a leg
 * keeps its index across reloads, so a backend may keep per-index handles).
 * The each_* primitives call fn once per row; the row and its strings are
 * valid during the call only. fn returns 0 to go on, anything else to stop:
 * the primitive then returns that value at once. A primitive returns 0 when
 * every row was seen and -1 with err filled when the store failed.
 */
#ifndef CORRIDOR_STORE_READER_H
#define CORRIDOR_STORE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "legs.h"

struct store;
struct store_error;
struct store_reader;

struct store_reader *store_reader_open(struct store *st, struct store_error *err);
void store_reader_close(struct store_reader *r);

/* One query: between begin and end the backend may answer every primitive
 * from one snapshot of each leg it reads (SQLite: one read transaction per
 * file touched), which is also much cheaper for a command that asks many
 * small questions. Keep it to one command: the snapshot holds back what the
 * backend would otherwise reclaim. Outside, each primitive stands alone. */
int store_reader_begin(struct store_reader *r, struct store_error *err);
void store_reader_end(struct store_reader *r);

/* Rows whose time is in [from, to) (INT64_MIN, INT64_MAX: unbounded), of
 * one direction ("W", "E"; NULL: both) and one carrier (NULL: any). */
struct store_filter {
	int64_t from, to;
	const char *direction;
	const char *carrier;
};

/* One hour of a leg's transit rollup (traversals that exited in it). hist
 * is the hour's histogram in lib/histogram.h's blob encoding. */
struct store_transit_hour {
	int64_t n, sum_ms, min_ms, max_ms, on_time, planned, on_plan, eta_n, eta_err_ms;
	int64_t teu, containers, gross_kg;
	const void *hist;
	size_t hist_len;
};
typedef int (*store_transit_hour_fn)(void *arg, const struct store_transit_hour *h);
/* Hours [from, to) of the transit rollup (from and to are whole hours). */
int store_reader_each_transit_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_transit_hour_fn fn, void *arg, struct store_error *err);

/* A closed traversal: one unit's pass through a leg. */
struct store_traversal {
	const char *unit, *direction, *carrier;
	int64_t enter_ms, exit_ms, duration_ms;
	int64_t teu, containers, gross_kg;
	bool planned;			/* plan_ms holds the planned exit */
	int64_t plan_ms;
	int64_t eta_n, eta_err_ms;
};
typedef int (*store_traversal_fn)(void *arg, const struct store_traversal *t);
/* Traversals that exited in [from, to), by exit time. */
int store_reader_each_traversal_by_exit(struct store_reader *r, size_t leg,
    const struct leg *l, const struct store_filter *f, store_traversal_fn fn, void *arg,
    struct store_error *err);

/* The unit's latest entry into the leg in direction at or before at_ms:
 * *enter_ms, or -1 when there is none. */
int store_reader_latest_entry(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t at_ms, int64_t *enter_ms,
    struct store_error *err);
/* Whether the unit entered the leg in direction at or after after_ms. */
int store_reader_entered_since(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t after_ms, bool *entered,
    struct store_error *err);

/* An open traversal (an entry with no exit yet). */
struct store_open_traversal {
	const char *unit, *direction, *carrier;
	int64_t enter_ms, teu, containers;
};
typedef int (*store_open_fn)(void *arg, const struct store_open_traversal *o);
/* The leg's open traversals, oldest entry first (then by unit). */
int store_reader_each_open(struct store_reader *r, size_t leg, const struct leg *l,
    store_open_fn fn, void *arg, struct store_error *err);
/* Legs of the table, by index, in the order they are to be asked. */
struct store_leg_set {
	const size_t *index;
	size_t n;
};
/* The leg's open traversals as each_open gives them, except those whose
 * unit has entered, at or after its entry here, one of the legs of
 * onward_w (a traversal going W) or onward_e (going E): legs is the table
 * the indices are of. One statement where the backend can join the legs;
 * else each_open and entered_since, the legs in the order given. */
int store_reader_each_open_staying(struct store_reader *r, size_t leg,
    const struct leg_table *legs, const struct store_leg_set *onward_w,
    const struct store_leg_set *onward_e, store_open_fn fn, void *arg,
    struct store_error *err);

/* One of a unit's traversals of a leg; exit_ms -1: still open. */
struct store_unit_traversal {
	const char *direction;
	int64_t enter_ms, exit_ms;
};
typedef int (*store_unit_traversal_fn)(void *arg, const struct store_unit_traversal *t);
int store_reader_each_unit_traversal(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, store_unit_traversal_fn fn, void *arg, struct store_error *err);

/* An actual (not retracted) event of the unit that closed no traversal: no
 * traversal of the unit in its direction exits at its time. The caller
 * decides by the event's code which of them are exits. */
struct store_unpaired_event {
	const char *direction;
	int64_t event_ms;
	int event_code;
};
typedef int (*store_unpaired_fn)(void *arg, const struct store_unpaired_event *e);
/* By direction, then time. */
int store_reader_each_unpaired_event(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, store_unpaired_fn fn, void *arg, struct store_error *err);
/* Whether the leg stored any update about the unit (retracted or not). */
int store_reader_unit_reported(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, bool *reported, struct store_error *err);

/* One hour of what entered a leg. */
struct store_volume_hour {
	int64_t hour_ms, units, teu, containers, gross_kg;
};
typedef int (*store_volume_hour_fn)(void *arg, const struct store_volume_hour *v);
int store_reader_each_volume_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_volume_hour_fn fn, void *arg, struct store_error *err);

/* A conveyance (train or vessel call), by the entry of its first unit. */
struct store_conveyance {
	int64_t first_enter_ms;
	bool train;			/* else a vessel call */
};
typedef int (*store_conveyance_fn)(void *arg, const struct store_conveyance *c);
int store_reader_each_conveyance(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_conveyance_fn fn, void *arg, struct store_error *err);

/* An actual HOLD (not retracted) with its event time in the window. */
struct store_event_ref {
	const char *unit, *direction;
	int64_t event_ms;
};
typedef int (*store_event_fn)(void *arg, const struct store_event_ref *e);
int store_reader_each_hold(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_event_fn fn, void *arg, struct store_error *err);
/* The unit's first actual RELS in direction at or after at_ms: *rels_ms,
 * or -1 when it was not released. */
int store_reader_release_after(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t at_ms, int64_t *rels_ms,
    struct store_error *err);

/* A delay reported on an event (not retracted) in the window. */
struct store_delay {
	const char *reason, *unit;
};
typedef int (*store_delay_fn)(void *arg, const struct store_delay *d);
int store_reader_each_delay(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_delay_fn fn, void *arg, struct store_error *err);

/* One hour of a carrier's data quality on a leg (by receive time). lag is
 * a histogram blob as in store_transit_hour. */
struct store_quality_hour {
	const char *carrier;
	int64_t updates, lag_max_ms, lag_n, duplicates, retractions, out_of_order, pln_est;
	const void *lag;
	size_t lag_len;
};
typedef int (*store_quality_hour_fn)(void *arg, const struct store_quality_hour *q);
/* Hours [from, to) (the filter's direction is not used). */
int store_reader_each_quality_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_quality_hour_fn fn, void *arg,
    struct store_error *err);

/* The catalog's final rejections recorded in [from, to), counted per
 * carrier and reason: by carrier, then most frequent first, then reason. */
struct store_rejection_count {
	const char *carrier;
	int reason;
	int64_t count;
};
typedef int (*store_rejection_count_fn)(void *arg, const struct store_rejection_count *c);
int store_reader_each_rejection_count(struct store_reader *r, const struct store_filter *f,
    store_rejection_count_fn fn, void *arg, struct store_error *err);

/* Resends answered from the marks (ingest/marks.h) in hours [from, to),
 * per carrier. */
struct store_carrier_count {
	const char *carrier;
	int64_t count;
};
typedef int (*store_carrier_count_fn)(void *arg, const struct store_carrier_count *c);
int store_reader_each_mark_duplicates(struct store_reader *r, const struct store_filter *f,
    store_carrier_count_fn fn, void *arg, struct store_error *err);

/* Whether the catalog knows the carrier (every carrier ever configured). */
int store_reader_carrier_known(struct store_reader *r, const char *code, bool *known,
    struct store_error *err);

/* ------------------------------------------------------------ backup */

#define STORE_BACKUP_NAME_MAX 64
#define STORE_BACKUP_FILE_MAX (LEG_CODE_MAX + 16)

/* True for 1..STORE_BACKUP_NAME_MAX of [A-Za-z0-9._-], not starting with a dot. */
bool store_backup_name_valid(const char *name);

struct store_backup_file {
	char name[STORE_BACKUP_FILE_MAX];	/* relative to the backup directory */
	int64_t bytes;
	int64_t ms;
};

/* An online copy of everything the store holds for legs into the
 * directory dest, which must not exist yet (STORE_CONFLICT if it does);
 * ingest goes on meanwhile and the copied marks never lead the copied
 * updates. files must hold legs->count + 1 entries; *nfiles says how many
 * were written. */
int store_reader_backup(struct store_reader *r, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err);

#endif
