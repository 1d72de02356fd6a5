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



struct store_reader_ops {
	void *(*open)(void *store, struct store_error *err);
	void (*close)(void *r);
};



struct store_backend {
	const char *name;
	/* the backend's own state for cfg; NULL with err filled */
	void *(*open)(const struct config *cfg, struct store_error *err);
	void (*close)(void *store);
	const char *(*version)(void);
	const struct store_catalog_ops *catalog;
	const struct store_writer_ops *writer;
	const struct store_reader_ops *reader;
};

/* The backends this build has (store.c). */
extern const struct store_backend store_sqlite_backend;

/* For the section wrappers (store_catalog.c, store_writer.c, store_reader.c). */
const struct store_backend *store_backend_of(const struct store *st);
void *store_impl(const struct store *st);

#endif
