/*
 * The opened backend and its handles: each public handle wraps the
 * backend's own behind its ops table (store_backend.h); see store.h.
 */
#include "store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_backend.h"

static const struct store_backend *const backends[] = { &store_sqlite_backend,
	&store_postgresql_backend };

struct store {
	const struct store_backend *be;
	void *impl;
};

static const struct store_backend *
find_backend(const char *name)
{
	for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

bool
store_backend_known(const char *name)
{
	return find_backend(name) != NULL;
}

struct store *
store_open(const struct config *cfg, struct store_error *err)
{
	const struct store_backend *be = find_backend(cfg->store_backend);
	struct store *st;

	if (be == NULL) {
		store_error_set(err, STORE_UNSUPPORTED, "no storage backend named \"%s\"",
		    cfg->store_backend);
		return NULL;
	}
	if ((st = calloc(1, sizeof *st)) == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	st->be = be;
	if ((st->impl = be->open(cfg, err)) == NULL) {
		free(st);
		return NULL;
	}
	return st;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	st->be->close(st->impl);
	free(st);
}

const char *
store_backend_name(const struct store *st)
{
	return st->be->name;
}

bool
store_shared(const struct store *st)
{
	return st->be->shared;
}

const char *
store_backend_version(const struct store *st)
{
	return st->be->version();
}

const struct store_backend *
store_backend_of(const struct store *st)
{
	return st->be;
}

void *
store_impl(const struct store *st)
{
	return st->impl;
}

/* ------------------------------------------------------------ the catalog handle (store_catalog.h) */

struct store_catalog {
	const struct store_catalog_ops *ops;
	void *impl;
};

struct store_catalog *
store_catalog_open(struct store *st, struct store_error *err)
{
	struct store_catalog *cat = calloc(1, sizeof *cat);

	if (cat == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	cat->ops = store_backend_of(st)->catalog;
	if ((cat->impl = cat->ops->open(store_impl(st), err)) == NULL) {
		free(cat);
		return NULL;
	}
	return cat;
}

void
store_catalog_close(struct store_catalog *cat)
{
	if (cat == NULL)
		return;
	cat->ops->close(cat->impl);
	free(cat);
}

int
store_catalog_sync(struct store_catalog *cat, const struct leg_table *legs,
    struct carrier_table *ct, struct store_error *err)
{
	return cat->ops->sync(cat->impl, legs, ct, err);
}

int
store_catalog_save_marks(struct store_catalog *cat, const struct store_mark *marks, size_t n,
    struct store_error *err)
{
	return cat->ops->save_marks(cat->impl, marks, n, err);
}

int
store_catalog_save_rejections(struct store_catalog *cat, const struct store_rejection *r,
    size_t n, struct store_error *err)
{
	return cat->ops->save_rejections(cat->impl, r, n, err);
}

int
store_catalog_each_rejection(struct store_catalog *cat, const char *carrier, uint64_t after,
    store_seq_fn fn, void *arg, struct store_error *err)
{
	return cat->ops->each_rejection(cat->impl, carrier, after, fn, arg, err);
}

int
store_catalog_each_stored_seq(struct store_catalog *cat, const struct leg *leg,
    const char *carrier, uint64_t after, uint64_t upto, store_seq_fn fn, void *arg,
    struct store_error *err)
{
	return cat->ops->each_stored_seq(cat->impl, leg, carrier, after, upto, fn, arg, err);
}

int
store_catalog_saved_mark(struct store_catalog *cat, const char *carrier, uint64_t *acked_seq,
    struct store_error *err)
{
	return cat->ops->saved_mark(cat->impl, carrier, acked_seq, err);
}

/* ------------------------------------------------------------ the writer handle (store_writer.h) */

struct store_writer {
	const struct store_writer_ops *ops;
	void *impl;
};

int
store_leg_prepare(struct store *st, const struct leg *leg, struct store_error *err)
{
	return store_backend_of(st)->writer->leg_prepare(store_impl(st), leg, err);
}

void
store_leg_where(struct store *st, const struct leg *leg, char *buf, size_t len)
{
	store_backend_of(st)->writer->leg_where(store_impl(st), leg, buf, len);
}

struct store_writer *
store_writer_open(struct store *st, struct store_error *err)
{
	struct store_writer *w = calloc(1, sizeof *w);

	if (w == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	w->ops = store_backend_of(st)->writer;
	if ((w->impl = w->ops->open(store_impl(st), err)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
store_writer_close(struct store_writer *w)
{
	if (w == NULL)
		return;
	w->ops->close(w->impl);
	free(w);
}

int
store_writer_add_leg(struct store_writer *w, size_t index, const struct leg *leg,
    int64_t cache_mib, struct store_error *err)
{
	return w->ops->add_leg(w->impl, index, leg, cache_mib, err);
}

int
store_writer_append(struct store_writer *w, size_t index, struct update_rec **recs, size_t n,
    struct store_error *err)
{
	return w->ops->append(w->impl, index, recs, n, err);
}

int
store_writer_retain_step(struct store_writer *w, size_t index, int64_t cutoff_ms,
    size_t max_units, size_t *units_dropped, int64_t *events_dropped, bool *more,
    struct store_error *err)
{
	return w->ops->retain_step(w->impl, index, cutoff_ms, max_units, units_dropped,
	    events_dropped, more, err);
}

/* ------------------------------------------------------------ the reader handle (store_reader.h) */

struct store_reader {
	const struct store_reader_ops *ops;
	void *impl;
};

struct store_reader *
store_reader_open(struct store *st, struct store_error *err)
{
	struct store_reader *r = calloc(1, sizeof *r);

	if (r == NULL) {
		store_error_set(err, STORE_RETRYABLE, "out of memory");
		return NULL;
	}
	r->ops = store_backend_of(st)->reader;
	if ((r->impl = r->ops->open(store_impl(st), err)) == NULL) {
		free(r);
		return NULL;
	}
	return r;
}

void
store_reader_close(struct store_reader *r)
{
	if (r == NULL)
		return;
	r->ops->close(r->impl);
	free(r);
}

/* The primitives pass straight to the backend (store_reader.h). */

int
store_reader_begin(struct store_reader *r, struct store_error *err)
{
	return r->ops->begin(r->impl, err);
}

void
store_reader_end(struct store_reader *r)
{
	r->ops->end(r->impl);
}

int
store_reader_each_transit_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_transit_hour_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_transit_hour(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_each_traversal_by_exit(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_traversal_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_traversal_by_exit(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_latest_entry(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t at_ms, int64_t *enter_ms,
    struct store_error *err)
{
	return r->ops->latest_entry(r->impl, leg, l, unit, direction, at_ms, enter_ms, err);
}

int
store_reader_entered_since(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t after_ms, bool *entered,
    struct store_error *err)
{
	return r->ops->entered_since(r->impl, leg, l, unit, direction, after_ms, entered, err);
}

int
store_reader_each_open(struct store_reader *r, size_t leg, const struct leg *l,
    store_open_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_open(r->impl, leg, l, fn, arg, err);
}

/* The generic each_open_staying: each open traversal, then its unit's
 * entries into the onward legs, one question each. */
struct staying {
	struct store_reader *r;
	const struct leg_table *legs;
	const struct store_leg_set *w, *e;
	store_open_fn fn;
	void *arg;
	struct store_error *err;
	bool failed;
};

static int
staying_row(void *arg, const struct store_open_traversal *o)
{
	struct staying *s = arg;
	const struct store_leg_set *onward = o->direction[0] == 'E' ? s->e : s->w;

	for (size_t k = 0; k < onward->n; k++) {
		size_t j = onward->index[k];
		bool entered;

		if (store_reader_entered_since(s->r, j, &s->legs->legs[j], o->unit, o->direction,
		    o->enter_ms, &entered, s->err) == -1) {
			s->failed = true;
			return 1;
		}
		if (entered)
			return 0;
	}
	return s->fn(s->arg, o);
}

int
store_reader_each_open_staying(struct store_reader *r, size_t leg,
    const struct leg_table *legs, const struct store_leg_set *onward_w,
    const struct store_leg_set *onward_e, store_open_fn fn, void *arg,
    struct store_error *err)
{
	struct staying s = { r, legs, onward_w, onward_e, fn, arg, err, false };
	int rc;

	if (r->ops->each_open_staying != NULL)
		return r->ops->each_open_staying(r->impl, leg, legs, onward_w, onward_e, fn, arg,
		    err);
	rc = r->ops->each_open(r->impl, leg, &legs->legs[leg], staying_row, &s, err);
	return s.failed ? -1 : rc;
}

int
store_reader_each_unit_traversal(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, store_unit_traversal_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_unit_traversal(r->impl, leg, l, unit, fn, arg, err);
}

int
store_reader_each_unpaired_event(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, store_unpaired_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_unpaired_event(r->impl, leg, l, unit, fn, arg, err);
}

int
store_reader_unit_reported(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, bool *reported, struct store_error *err)
{
	return r->ops->unit_reported(r->impl, leg, l, unit, reported, err);
}

int
store_reader_each_volume_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_volume_hour_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_volume_hour(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_each_conveyance(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_conveyance_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_conveyance(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_each_hold(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_event_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_hold(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_release_after(struct store_reader *r, size_t leg, const struct leg *l,
    const char *unit, const char *direction, int64_t at_ms, int64_t *rels_ms,
    struct store_error *err)
{
	return r->ops->release_after(r->impl, leg, l, unit, direction, at_ms, rels_ms, err);
}

int
store_reader_each_delay(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_delay_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_delay(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_each_quality_hour(struct store_reader *r, size_t leg, const struct leg *l,
    const struct store_filter *f, store_quality_hour_fn fn, void *arg,
    struct store_error *err)
{
	return r->ops->each_quality_hour(r->impl, leg, l, f, fn, arg, err);
}

int
store_reader_each_rejection_count(struct store_reader *r, const struct store_filter *f,
    store_rejection_count_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_rejection_count(r->impl, f, fn, arg, err);
}

int
store_reader_each_mark_duplicates(struct store_reader *r, const struct store_filter *f,
    store_carrier_count_fn fn, void *arg, struct store_error *err)
{
	return r->ops->each_mark_duplicates(r->impl, f, fn, arg, err);
}

int
store_reader_carrier_known(struct store_reader *r, const char *code, bool *known,
    struct store_error *err)
{
	return r->ops->carrier_known(r->impl, code, known, err);
}

bool
store_backup_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_BACKUP_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '.' && name[i] != '_' &&
		    name[i] != '-')
			return false;
	return true;
}

int
store_reader_backup(struct store_reader *r, const struct leg_table *legs, const char *dest,
    struct store_backup_file *files, size_t *nfiles, struct store_error *err)
{
	*nfiles = 0;
	return r->ops->backup(r->impl, legs, dest, files, nfiles, err);
}
