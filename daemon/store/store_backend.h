/*
 * What a storage backend implements (store.h is what its users see). A
 * backend fills one struct store_backend; store.c wraps its handles so the
 * callers never see the backend's types. Only store/ includes this file.
 * The derived state (traversals, rollups) is not here: a backend implements
 * the small ops table of derive.h and the shared code does the rest.
 */
#ifndef CORRIDOR_STORE_BACKEND_H
#define CORRIDOR_STORE_BACKEND_H

#include "config.h"
#include "store_catalog.h"
#include "store_error.h"
#include "store_reader.h"
#include "store_writer.h"

struct store;

/* Each handle a backend returns is its own type behind void *. */

struct store_catalog_ops {
	void *(*open)(void *store, struct store_error *err);
	void (*close)(void *cat);
	int (*sync)(void *cat, const struct leg_table *legs, struct carrier_table *ct,
	    struct store_error *err);
	int (*save_marks)(void *cat, const struct store_mark *marks, size_t n,
	    struct store_error *err);
	int (*save_rejections)(void *cat, const struct store_rejection *r, size_t n,
	    struct store_error *err);
	int (*each_rejection)(void *cat, const char *carrier, uint64_t after, store_seq_fn fn,
	    void *arg, struct store_error *err);
	int (*each_stored_seq)(void *cat, const struct leg *leg, const char *carrier,
	    uint64_t after, uint64_t upto, store_seq_fn fn, void *arg, struct store_error *err);
	int (*saved_mark)(void *cat, const char *carrier, uint64_t *acked_seq,
	    struct store_error *err);
};



struct store_writer_ops {
	int (*leg_prepare)(void *store, const struct leg *leg, struct store_error *err);
	void (*leg_where)(void *store, const struct leg *leg, char *buf, size_t len);
	void *(*open)(void *store, struct store_error *err);
	void (*close)(void *w);
	int (*add_leg)(void *w, size_t index, const struct leg *leg, int64_t cache_mib,
	    struct store_error *err);
	int (*append)(void *w, size_t index, struct update_rec **recs, size_t n,
	    struct store_error *err);
	int (*retain_step)(void *w, size_t index, int64_t cutoff_ms, size_t max_units,
	    size_t *units_dropped, int64_t *events_dropped, bool *more, struct store_error *err);
};



/* The reader's primitives, as in store_reader.h with the handle as void *. */
struct store_reader_ops {
	void *(*open)(void *store, struct store_error *err);
	void (*close)(void *r);
	int (*begin)(void *r, struct store_error *err);
	void (*end)(void *r);
	int (*each_transit_hour)(void *r, size_t leg, const struct leg *l,
	    const struct store_filter *f, store_transit_hour_fn fn, void *arg,
	    struct store_error *err);
	int (*each_traversal_by_exit)(void *r, size_t leg, const struct leg *l,
	    const struct store_filter *f, store_traversal_fn fn, void *arg,
	    struct store_error *err);
	int (*latest_entry)(void *r, size_t leg, const struct leg *l, const char *unit,
	    const char *direction, int64_t at_ms, int64_t *enter_ms, struct store_error *err);
	int (*entered_since)(void *r, size_t leg, const struct leg *l, const char *unit,
	    const char *direction, int64_t after_ms, bool *entered, struct store_error *err);
	int (*each_open)(void *r, size_t leg, const struct leg *l, store_open_fn fn, void *arg,
	    struct store_error *err);
	/* NULL: store.c asks each_open and entered_since */
	int (*each_open_staying)(void *r, size_t leg, const struct leg_table *legs,
	    const struct store_leg_set *onward_w, const struct store_leg_set *onward_e,
	    store_open_fn fn, void *arg, struct store_error *err);
	int (*each_unit_traversal)(void *r, size_t leg, const struct leg *l, const char *unit,
	    store_unit_traversal_fn fn, void *arg, struct store_error *err);
	int (*each_unpaired_event)(void *r, size_t leg, const struct leg *l, const char *unit,
	    store_unpaired_fn fn, void *arg, struct store_error *err);
	int (*unit_reported)(void *r, size_t leg, const struct leg *l, const char *unit,
	    bool *reported, struct store_error *err);
	int (*each_volume_hour)(void *r, size_t leg, const struct leg *l,
	    const struct store_filter *f, store_volume_hour_fn fn, void *arg,
	    struct store_error *err);
	int (*each_conveyance)(void *r, size_t leg, const struct leg *l,
	    const struct store_filter *f, store_conveyance_fn fn, void *arg,
	    struct store_error *err);
	int (*each_hold)(void *r, size_t leg, const struct leg *l, const struct store_filter *f,
	    store_event_fn fn, void *arg, struct store_error *err);
	int (*release_after)(void *r, size_t leg, const struct leg *l, const char *unit,
	    const char *direction, int64_t at_ms, int64_t *rels_ms, struct store_error *err);
	int (*each_delay)(void *r, size_t leg, const struct leg *l, const struct store_filter *f,
	    store_delay_fn fn, void *arg, struct store_error *err);
	int (*each_quality_hour)(void *r, size_t leg, const struct leg *l,
	    const struct store_filter *f, store_quality_hour_fn fn, void *arg,
	    struct store_error *err);
	int (*each_rejection_count)(void *r, const struct store_filter *f,
	    store_rejection_count_fn fn, void *arg, struct store_error *err);
	int (*each_mark_duplicates)(void *r, const struct store_filter *f,
	    store_carrier_count_fn fn, void *arg, struct store_error *err);
	int (*carrier_known)(void *r, const char *code, bool *known, struct store_error *err);
	int (*backup)(void *r, const struct leg_table *legs, const char *dest,
	    struct store_backup_file *files, size_t *nfiles, struct store_error *err);
};



/* ------------------------------------------------------------ derived rows (store_derived.h) */

struct store_derived_fns;

struct store_derived_ops {
	int (*read)(void *store, const struct leg *leg, const struct store_derived_fns *fns,
	    void *arg, struct store_error *err);
};

struct store_backend {
	const char *name;
	/* several daemons may write the same store at once (store_shared()) */
	bool shared;
	/* the backend's own state for cfg; NULL with err filled */
	void *(*open)(const struct config *cfg, struct store_error *err);
	void (*close)(void *store);
	const char *(*version)(void);
	const struct store_catalog_ops *catalog;
	const struct store_writer_ops *writer;
	const struct store_reader_ops *reader;
	const struct store_derived_ops *derived;	/* NULL: none */
};

/* The backends this build has (store.c). */
extern const struct store_backend store_sqlite_backend;
extern const struct store_backend store_postgresql_backend;

/* For the section wrappers (store_catalog.c, store_writer.c, store_reader.c). */
const struct store_backend *store_backend_of(const struct store *st);
void *store_impl(const struct store *st);

#endif
