/*
 * The storage interface's conformance suite, derived rows: a backend driven
 * through store.h only (CORRIDOR_STORE names it; the default is sqlite).
 * The derived rows (traversals, hourly rollups, conveyances), read whole
 * through store_derived.h and as the query commands read them through
 * store_reader.h, are checked against a recomputation from the updates the
 * store accepted. The fixture is store_fixture.c.
 */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "store_derived.h"
#include "store_fixture.h"
#include "traversal.h"

/*
 * The derived rows (traversals, rollups, conveyances) checked against a
 * recomputation from the accepted updates: the suite keeps its own model of
 * what each leg stores (which updates were stored, in which order, which
 * were retracted, which came again), pairs each unit's live events with
 * lib/traversal.c, and sums the rollups from those traversals and updates.
 */

#define MODEL_MAX 1200

/* What one update says; built into an update_rec by make_rec(). */
struct spec {
	int leg;
	const char *carrier;
	uint64_t seq;
	int code, classifier;
	int64_t event_ms, record_ms;
	const char *box, *train, *imo, *voyage;
	char direction;
	char retracts[24];	/* "" for none */
};

/* A stored update as the model keeps it. */
struct mev {
	struct spec sp;
	char msg[24], unit[64];
	int64_t id;		/* arrival order in its leg */
	int batch;
	uint32_t teu, containers, gross_kg;
};

struct model {
	struct mev ev[MODEL_MAX];
	size_t n;
	int64_t next_id[2];
	/* per (record hour, carrier) counts the model cannot get from ev[] */
	struct qcount {
		int leg;
		int64_t hour;
		const char *carrier;
		int64_t duplicates, out_of_order;
	} q[512];
	size_t nq;
};

static struct update_rec *
make_rec(const struct spec *sp, bool resend)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;
	struct update_rec *r;
	char msg[24];

	snprintf(msg, sizeof msg, "m%llu", (unsigned long long)sp->seq);
	u.carrier = (char *)sp->carrier;
	u.has_seq = 1;
	u.seq = sp->seq;
	u.message_id = msg;
	u.has_event_class = u.has_classifier = u.has_event_code = u.has_event_time_ms = 1;
	u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	u.classifier = (Corridor__Classifier)sp->classifier;
	u.event_code = (Corridor__EventCode)sp->code;
	u.event_time_ms = sp->event_ms;
	u.node = (char *)(sp->leg == 0 ? "ALTYNKOL" : "AKTAU");
	u.leg = sp->leg == 0 ? movement.code : port.code;
	u.has_direction = 1;
	u.direction = sp->direction == 'W' ? CORRIDOR__DIRECTION__W : CORRIDOR__DIRECTION__E;
	u.container = (char *)sp->box;
	u.iso_type = (char *)(sp->box[0] == 'C' ? "45G1" : "22G1");
	u.has_gross_kg = 1;
	u.gross_kg = 20000 + (uint32_t)(sp->seq % 7) * 1000;
	u.train_id = (char *)sp->train;
	u.vessel_imo = (char *)sp->imo;
	u.voyage = (char *)sp->voyage;
	u.retracts_message_id = sp->retracts[0] != '\0' ? (char *)sp->retracts : NULL;
	r = update_rec_new(&u, sp->leg, sp->record_ms);
	assert_non_null(r);
	r->resend = resend;
	return r;
}

static struct qcount *
qcount(struct model *m, int leg, int64_t record_ms, const char *carrier)
{
	int64_t hour = rollup_hour(record_ms);

	for (size_t i = 0; i < m->nq; i++)
		if (m->q[i].leg == leg && m->q[i].hour == hour &&
		    strcmp(m->q[i].carrier, carrier) == 0)
			return &m->q[i];
	assert_true(m->nq < sizeof m->q / sizeof m->q[0]);
	m->q[m->nq] = (struct qcount){ leg, hour, carrier, 0, 0 };
	return &m->q[m->nq++];
}

/* Whether e is stored and not retracted once batch b is stored. */
static bool
live_at(const struct model *m, const struct mev *e, int b)
{
	if (e->batch > b)
		return false;
	for (size_t i = 0; i < m->n; i++) {
		const struct mev *r = &m->ev[i];

		if (r->batch <= b && r->sp.leg == e->sp.leg &&
		    strcmp(r->sp.carrier, e->sp.carrier) == 0 &&
		    strcmp(r->sp.retracts, e->msg) == 0)
			return false;
	}
	return true;
}

static enum event_role
role_of(const struct mev *e)
{
	return leg_event_role(e->sp.leg == 0 ? LEG_MOVEMENT : LEG_PORT, e->sp.classifier,
	    e->sp.code);
}

/* Out-of-order arrivals of batch b: an actual event of it that arrived
 * after a live actual event of its unit with a later event time. */
static void
model_out_of_order(struct model *m, int b)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct mev *e = &m->ev[i];

		if (e->batch != b || role_of(e) == ROLE_NONE || !live_at(m, e, b))
			continue;
		for (size_t j = 0; j < m->n; j++) {
			const struct mev *f = &m->ev[j];

			if (f->sp.leg == e->sp.leg && strcmp(f->unit, e->unit) == 0 &&
			    f->sp.direction == e->sp.direction && f->id < e->id &&
			    role_of(f) != ROLE_NONE && f->sp.event_ms > e->sp.event_ms &&
			    live_at(m, f, b)) {
				qcount(m, e->sp.leg, e->sp.record_ms, e->sp.carrier)->out_of_order++;
				break;
			}
		}
	}
}

/* Lines of text, sorted and joined, to compare two sets of rows. */
struct lines {
	char **v;
	size_t n, cap;
};

static void
lines_add(struct lines *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
lines_add(struct lines *l, const char *fmt, ...)
{
	va_list ap;
	char buf[8192];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof *l->v);
		assert_non_null(l->v);
	}
	assert_non_null(l->v[l->n++] = strdup(buf));
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *
lines_join(struct lines *l)
{
	size_t len = 1;
	char *out;

	qsort(l->v, l->n, sizeof l->v[0], str_cmp);
	for (size_t i = 0; i < l->n; i++)
		len += strlen(l->v[i]) + 1;
	assert_non_null(out = calloc(1, len));
	for (size_t i = 0; i < l->n; i++) {
		strcat(out, l->v[i]);
		strcat(out, "\n");
		free(l->v[i]);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
	return out;
}

/* Dense histogram counts as text: "bucket:count" of the non-zero ones. */
static void
hist_text(const int64_t *count, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < HIST_BUCKETS && off < len; i++)
		if (count[i] != 0)
			off += (size_t)snprintf(buf + off, len - off, "%d:%lld,", i,
			    (long long)count[i]);
}

static const char *
str_or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

static void
traversal_line(struct lines *l, const char *unit, const char *dir, const struct traversal *t)
{
	lines_add(l, "T %s %s enter=%lld exit=%lld %s teu=%u n=%u kg=%u train=%s vessel=%s"
	    " plan=%lld eta=%u/%lld", unit, dir, (long long)t->enter_ms, (long long)t->exit_ms,
	    t->carrier, t->teu, t->containers, t->gross_kg, str_or_dash(t->train),
	    str_or_dash(t->vessel), (long long)t->plan_ms, t->eta_n, (long long)t->eta_err_ms);
}

static void
rollup_line(struct lines *l, const struct rollup_key *k, const struct derive_rollup *v,
    const int64_t *hist)
{
	char h[4096];

	hist_text(hist, h, sizeof h);
	switch (k->table) {
	case RT_TRANSIT:
		lines_add(l, "R transit %lld %c %s n=%lld sum=%lld min=%lld max=%lld on_time=%lld"
		    " planned=%lld on_plan=%lld eta=%lld/%lld teu=%lld n=%lld kg=%lld hist=%s",
		    (long long)k->hour_ms, k->direction, k->carrier, (long long)v->n,
		    (long long)v->sum_ms, (long long)v->min_ms, (long long)v->max_ms,
		    (long long)v->on_time, (long long)v->planned, (long long)v->on_plan,
		    (long long)v->eta_n, (long long)v->eta_err_ms, (long long)v->teu,
		    (long long)v->containers, (long long)v->gross_kg, h);
		break;
	case RT_VOLUME:
		lines_add(l, "R volume %lld %c %s units=%lld teu=%lld n=%lld kg=%lld",
		    (long long)k->hour_ms, k->direction, k->carrier, (long long)v->n,
		    (long long)v->teu, (long long)v->containers, (long long)v->gross_kg);
		break;
	case RT_QUALITY:
		lines_add(l, "R quality %lld %s updates=%lld lag=%lld/%lld/%lld pln_est=%lld"
		    " dup=%lld retr=%lld ooo=%lld hist=%s", (long long)k->hour_ms, k->carrier,
		    (long long)v->n, (long long)v->lag_n, (long long)v->lag_sum_ms,
		    (long long)v->lag_max_ms, (long long)v->pln_est, (long long)v->duplicates,
		    (long long)v->retractions, (long long)v->out_of_order, h);
		break;
	}
}

static void
got_traversal(void *arg, const char *unit, const char *dir, const struct traversal *t)
{
	traversal_line(arg, unit, dir, t);
}

static void
got_rollup(void *arg, const struct rollup_key *k, const struct derive_rollup *v)
{
	static int64_t hist[HIST_BUCKETS];

	memset(hist, 0, sizeof hist);
	assert_int_equal(hist_merge_blob(hist, v->hist, v->hist_len, 1), 0);
	rollup_line(arg, k, v, hist);
}

static void
got_conveyance(void *arg, const struct conveyance_key *c, const struct derive_conveyance *v)
{
	lines_add(arg, "C %c %s %c units=%lld first=%lld %s", c->kind, c->ident, c->direction,
	    (long long)v->units, (long long)v->first_enter_ms, v->carrier);
}

/* What the store shows of leg's derived rows. */
static char *
stored_rows(const struct leg *leg)
{
	static const struct store_derived_fns fns = { got_traversal, got_rollup, got_conveyance };
	struct lines l = { 0 };
	struct store_error err;

	assert_int_equal(store_derived_read(st, leg, &fns, &l, &err), 0);
	return lines_join(&l);
}

/* One expected rollup row being summed, with its histogram. */
struct xrow {
	struct rollup_key k;
	struct derive_rollup v;
	int64_t hist[HIST_BUCKETS];
};

static struct xrow *
xrow(struct xrow *rows, size_t *n, enum rollup_table table, int64_t ms, char dir,
    const char *carrier)
{
	int64_t hour = rollup_hour(ms);

	for (size_t i = 0; i < *n; i++)
		if (rows[i].k.table == table && rows[i].k.hour_ms == hour &&
		    rows[i].k.direction == dir && strcmp(rows[i].k.carrier, carrier) == 0)
			return &rows[i];
	assert_true(*n < 1024);
	memset(&rows[*n], 0, sizeof rows[*n]);
	rows[*n].k.table = table;
	rows[*n].k.hour_ms = hour;
	rows[*n].k.direction = dir;
	snprintf(rows[*n].k.carrier, sizeof rows[*n].k.carrier, "%s", carrier);
	return &rows[(*n)++];
}

static void
expect_traversal(struct xrow *rows, size_t *nrows, const struct leg *leg, char dir,
    const struct traversal *t)
{
	struct xrow *v = xrow(rows, nrows, RT_VOLUME, t->enter_ms, dir, t->carrier);
	int64_t typical = (int64_t)(leg->typical_h * 3600000.0 + 0.5);

	v->v.n++;
	v->v.teu += t->teu;
	v->v.containers += t->containers;
	v->v.gross_kg += t->gross_kg;
	if (t->exit_ms >= 0) {
		struct xrow *x = xrow(rows, nrows, RT_TRANSIT, t->exit_ms, dir, t->carrier);
		int64_t dur = t->exit_ms - t->enter_ms;

		if (x->v.n == 0 || dur < x->v.min_ms)
			x->v.min_ms = dur;
		if (x->v.n == 0 || dur > x->v.max_ms)
			x->v.max_ms = dur;
		x->v.n++;
		x->v.sum_ms += dur;
		x->v.on_time += dur <= typical;
		x->v.planned += t->plan_ms >= 0;
		x->v.on_plan += t->plan_ms >= 0 && t->exit_ms <= t->plan_ms;
		x->v.eta_n += t->eta_n;
		x->v.eta_err_ms += t->eta_err_ms;
		x->v.teu += t->teu;
		x->v.containers += t->containers;
		x->v.gross_kg += t->gross_kg;
		x->hist[hist_bucket(dur)]++;
	}
}

/* ------------------------------------------------------------ the same rows through store_reader.h */

/* A train or vessel call recomputed from the traversals naming it. */
struct xconv {
	char kind, dir;
	char ident[48];
	int64_t units, first;
	const char *carrier;
};

/* Sums of rollup rows (of one table, direction, carrier) and their count. */
struct rsum {
	struct derive_rollup v;
	int64_t hist[HIST_BUCKETS];
	int64_t rows, trains, vessels;
};

static void
rsum_add(struct rsum *s, const struct derive_rollup *v, const int64_t *hist)
{
	if (s->rows == 0 || v->min_ms < s->v.min_ms)
		s->v.min_ms = v->min_ms;
	if (s->rows == 0 || v->max_ms > s->v.max_ms)
		s->v.max_ms = v->max_ms;
	if (v->lag_max_ms > s->v.lag_max_ms)
		s->v.lag_max_ms = v->lag_max_ms;
	s->rows++;
#define RSUM(f) s->v.f += v->f
	RSUM(n); RSUM(teu); RSUM(containers); RSUM(gross_kg); RSUM(sum_ms); RSUM(on_time);
	RSUM(planned); RSUM(on_plan); RSUM(eta_n); RSUM(eta_err_ms); RSUM(lag_n);
	RSUM(pln_est); RSUM(duplicates); RSUM(retractions); RSUM(out_of_order);
#undef RSUM
	for (int i = 0; hist != NULL && i < HIST_BUCKETS; i++)
		s->hist[i] += hist[i];
}

/* One line of sums (hour 0); the reader's quality rows have no lag sum. */
/* rsum_add() of a row whose histogram is in lib/histogram.h's stored form. */
static void
rsum_add_blob(struct rsum *s, const struct derive_rollup *v, const void *blob, size_t len)
{
	static int64_t hist[HIST_BUCKETS];

	memset(hist, 0, sizeof hist);
	assert_int_equal(hist_merge_blob(hist, blob, len, 1), 0);
	rsum_add(s, v, hist);
}

static void
rsum_line(struct lines *l, const char *what, const char *dir, const char *carrier,
    const struct rsum *s)
{
	struct rollup_key k = { .table = RT_TRANSIT, .direction = dir != NULL ? dir[0] : '-' };
	struct derive_rollup v = s->v;

	if (s->rows == 0)
		return;
	snprintf(k.carrier, sizeof k.carrier, "%s", carrier);
	if (strcmp(what, "volume") == 0)
		k.table = RT_VOLUME;
	else if (strcmp(what, "quality") == 0) {
		k.table = RT_QUALITY;
		v.lag_sum_ms = 0;
	}
	if (strcmp(what, "conveyances") == 0)
		lines_add(l, "S conveyances %s %s trains=%lld vessels=%lld", dir, carrier,
		    (long long)s->trains, (long long)s->vessels);
	else
		rollup_line(l, &k, &v, s->hist);
}

static const char *const view_dirs[] = { "W", "E" };
static const char *const view_carriers[] = { "KTZE", "ADY" };

static int
view_by_exit(void *arg, const struct store_traversal *t)
{
	lines_add(arg, "X %s %s %s enter=%lld exit=%lld dur=%lld teu=%lld n=%lld kg=%lld"
	    " plan=%lld eta=%lld/%lld", t->unit, t->direction, t->carrier, (long long)t->enter_ms,
	    (long long)t->exit_ms, (long long)t->duration_ms, (long long)t->teu,
	    (long long)t->containers, (long long)t->gross_kg, (long long)(t->planned ? t->plan_ms :
	    -1), (long long)t->eta_n, (long long)t->eta_err_ms);
	return 0;
}

static int
view_open(void *arg, const struct store_open_traversal *o)
{
	lines_add(arg, "O %s %s %s enter=%lld teu=%lld n=%lld", o->unit, o->direction,
	    o->carrier, (long long)o->enter_ms, (long long)o->teu, (long long)o->containers);
	return 0;
}

/* The reader's rows carry no hour: summed per direction and carrier. */
static int
view_transit(void *arg, const struct store_transit_hour *h)
{
	struct derive_rollup v = { .n = h->n, .sum_ms = h->sum_ms, .min_ms = h->min_ms,
		.max_ms = h->max_ms, .on_time = h->on_time, .planned = h->planned,
		.on_plan = h->on_plan, .eta_n = h->eta_n, .eta_err_ms = h->eta_err_ms,
		.teu = h->teu, .containers = h->containers, .gross_kg = h->gross_kg };

	rsum_add_blob(arg, &v, h->hist, h->hist_len);
	return 0;
}

static int
view_volume(void *arg, const struct store_volume_hour *h)
{
	struct derive_rollup v = { .n = h->units, .teu = h->teu, .containers = h->containers,
		.gross_kg = h->gross_kg };

	rsum_add(arg, &v, NULL);
	return 0;
}

static int
view_quality(void *arg, const struct store_quality_hour *q)
{
	struct derive_rollup v = { .n = q->updates, .lag_max_ms = q->lag_max_ms, .lag_n = q->lag_n,
		.duplicates = q->duplicates, .retractions = q->retractions,
		.out_of_order = q->out_of_order, .pln_est = q->pln_est };

	rsum_add_blob(arg, &v, q->lag, q->lag_len);
	return 0;
}

static int
view_conveyance(void *arg, const struct store_conveyance *c)
{
	struct rsum *s = arg;

	s->rows++;
	*(c->train ? &s->trains : &s->vessels) += 1;
	return 0;
}

/* What the query commands see of leg k through store_reader.h: every
 * traversal, and the rollups summed per direction and carrier. */
static char *
reader_view(size_t k, const struct leg *leg)
{
	struct store_reader *r;
	struct store_error err;
	struct lines l = { 0 };
	struct store_filter all = { INT64_MIN, INT64_MAX, NULL, NULL };

	assert_non_null(r = store_reader_open(st, &err));
	assert_int_equal(store_reader_each_traversal_by_exit(r, k, leg, &all, view_by_exit, &l,
	    &err), 0);
	assert_int_equal(store_reader_each_open(r, k, leg, view_open, &l, &err), 0);
	for (int c = 0; c < 2; c++) {
		struct store_filter f = { INT64_MIN, INT64_MAX, NULL, view_carriers[c] };
		static struct rsum s;

		memset(&s, 0, sizeof s);
		assert_int_equal(store_reader_each_quality_hour(r, k, leg, &f, view_quality, &s,
		    &err), 0);
		rsum_line(&l, "quality", NULL, view_carriers[c], &s);
		for (int d = 0; d < 2; d++) {
			f.direction = view_dirs[d];
			memset(&s, 0, sizeof s);
			assert_int_equal(store_reader_each_transit_hour(r, k, leg, &f, view_transit,
			    &s, &err), 0);
			rsum_line(&l, "transit", view_dirs[d], view_carriers[c], &s);
			memset(&s, 0, sizeof s);
			assert_int_equal(store_reader_each_volume_hour(r, k, leg, &f, view_volume, &s,
			    &err), 0);
			rsum_line(&l, "volume", view_dirs[d], view_carriers[c], &s);
			memset(&s, 0, sizeof s);
			assert_int_equal(store_reader_each_conveyance(r, k, leg, &f, view_conveyance,
			    &s, &err), 0);
			rsum_line(&l, "conveyances", view_dirs[d], view_carriers[c], &s);
		}
	}
	store_reader_close(r);
	return lines_join(&l);
}

/* The same view from the recomputed rows. */
static void
expected_view(struct lines *l, const struct xrow *rows, size_t nrows, const struct xconv *conv,
    size_t nconv)
{
	for (int c = 0; c < 2; c++) {
		static struct rsum s;

		memset(&s, 0, sizeof s);
		for (size_t i = 0; i < nrows; i++)
			if (rows[i].k.table == RT_QUALITY &&
			    strcmp(rows[i].k.carrier, view_carriers[c]) == 0)
				rsum_add(&s, &rows[i].v, rows[i].hist);
		rsum_line(l, "quality", NULL, view_carriers[c], &s);
		for (int d = 0; d < 2; d++) {
			static const char *const what[] = { "transit", "volume" };

			for (int t = 0; t < 2; t++) {
				memset(&s, 0, sizeof s);
				for (size_t i = 0; i < nrows; i++)
					if (rows[i].k.table == (t == 0 ? RT_TRANSIT : RT_VOLUME) &&
					    rows[i].k.direction == view_dirs[d][0] &&
					    strcmp(rows[i].k.carrier, view_carriers[c]) == 0)
						rsum_add(&s, &rows[i].v, t == 0 ? rows[i].hist : NULL);
				rsum_line(l, what[t], view_dirs[d], view_carriers[c], &s);
			}
			memset(&s, 0, sizeof s);
			for (size_t i = 0; i < nconv; i++)
				if (conv[i].dir == view_dirs[d][0] &&
				    strcmp(conv[i].carrier, view_carriers[c]) == 0) {
					s.rows++;
					*(conv[i].kind == 'T' ? &s.trains : &s.vessels) += 1;
				}
			rsum_line(l, "conveyances", view_dirs[d], view_carriers[c], &s);
		}
	}
}

/* The derived rows of leg recomputed from the model's live updates. */
static char *
expected_rows(const struct model *m, int leg_index, const struct leg *leg, int last_batch,
    struct lines *view)
{
	static struct xrow rows[1024];
	static struct trav_event ev[MODEL_MAX];
	static struct traversal tr[MODEL_MAX];
	static char vessel[MODEL_MAX][48];
	static bool done[MODEL_MAX];
	struct lines l = { 0 };
	size_t nrows = 0;
	struct xconv conv[128];
	size_t nconv = 0;

	memset(done, 0, sizeof done);
	/* traversals, unit by unit */
	for (size_t i = 0; i < m->n; i++) {
		const struct mev *u = &m->ev[i];
		size_t n = 0, ntr;

		if (u->sp.leg != leg_index || done[i])
			continue;
		for (size_t j = i; j < m->n; j++) {
			const struct mev *e = &m->ev[j];
			struct trav_event *x;
			size_t k;

			if (e->sp.leg != leg_index || strcmp(e->unit, u->unit) != 0 ||
			    e->sp.direction != u->sp.direction)
				continue;
			done[j] = true;
			if (!live_at(m, e, last_batch))
				continue;
			/* sorted by event time, then arrival */
			for (k = n; k > 0 && (ev[k - 1].time_ms > e->sp.event_ms ||
			    (ev[k - 1].time_ms == e->sp.event_ms && ev[k - 1].id > e->id)); k--)
				ev[k] = ev[k - 1];
			x = &ev[k];
			n++;
			memset(x, 0, sizeof *x);
			x->time_ms = e->sp.event_ms;
			x->id = e->id;
			x->role = role_of(e);
			x->classifier = e->sp.classifier;
			x->exit_kind = leg_event_role(leg->kind, CORRIDOR__CLASSIFIER__ACT, e->sp.code) ==
			    ROLE_EXIT;
			x->carrier = e->sp.carrier;
			x->train = e->sp.train;
			if (e->sp.imo != NULL) {
				snprintf(vessel[j], sizeof vessel[j], "%s%s%s", e->sp.imo,
				    e->sp.voyage ? "/" : "", e->sp.voyage ? e->sp.voyage : "");
				x->vessel = vessel[j];
			}
			x->teu = e->teu;
			x->containers = e->containers;
			x->gross_kg = e->gross_kg;
		}
		ntr = traversal_pair(ev, n, tr);
		for (size_t t = 0; t < ntr; t++) {
			char dir[2] = { u->sp.direction, '\0' };
			const char *ident[2] = { tr[t].train, tr[t].vessel };

			traversal_line(&l, u->unit, dir, &tr[t]);
			expect_traversal(rows, &nrows, leg, u->sp.direction, &tr[t]);
			if (tr[t].exit_ms >= 0)
				lines_add(view, "X %s %s %s enter=%lld exit=%lld dur=%lld teu=%u n=%u"
				    " kg=%u plan=%lld eta=%u/%lld", u->unit, dir, tr[t].carrier,
				    (long long)tr[t].enter_ms, (long long)tr[t].exit_ms,
				    (long long)(tr[t].exit_ms - tr[t].enter_ms), tr[t].teu,
				    tr[t].containers, tr[t].gross_kg, (long long)tr[t].plan_ms,
				    tr[t].eta_n, (long long)tr[t].eta_err_ms);
			else
				lines_add(view, "O %s %s %s enter=%lld teu=%u n=%u", u->unit, dir,
				    tr[t].carrier, (long long)tr[t].enter_ms, tr[t].teu,
				    tr[t].containers);
			for (int c = 0; c < 2; c++) {
				size_t k;

				if (ident[c] == NULL)
					continue;
				for (k = 0; k < nconv; k++)
					if (conv[k].kind == "TV"[c] && conv[k].dir == dir[0] &&
					    strcmp(conv[k].ident, ident[c]) == 0)
						break;
				if (k == nconv) {
					assert_true(nconv < 128);
					conv[nconv] = (struct xconv){ "TV"[c], dir[0], "", 0,
						tr[t].enter_ms, tr[t].carrier };
					snprintf(conv[k].ident, sizeof conv[k].ident, "%s", ident[c]);
					nconv++;
				}
				conv[k].units++;
				if (tr[t].enter_ms < conv[k].first)
					conv[k].first = tr[t].enter_ms;
			}
		}
	}
	/* what the carriers sent, by record hour */
	for (size_t i = 0; i < m->n; i++) {
		const struct mev *e = &m->ev[i];
		struct xrow *q;

		if (e->sp.leg != leg_index)
			continue;
		q = xrow(rows, &nrows, RT_QUALITY, e->sp.record_ms, 0, e->sp.carrier);
		q->v.n++;
		if (e->sp.classifier == CORRIDOR__CLASSIFIER__ACT) {
			int64_t lag = e->sp.record_ms - e->sp.event_ms;

			lag = lag < 0 ? 0 : lag;
			q->v.lag_n++;
			q->v.lag_sum_ms += lag;
			if (lag > q->v.lag_max_ms)
				q->v.lag_max_ms = lag;
			q->hist[hist_bucket(lag)]++;
		} else
			q->v.pln_est++;
		q->v.retractions += e->sp.retracts[0] != '\0';
	}
	for (size_t i = 0; i < m->nq; i++) {
		struct xrow *q;

		if (m->q[i].leg != leg_index)
			continue;
		q = xrow(rows, &nrows, RT_QUALITY, m->q[i].hour, 0, m->q[i].carrier);
		q->v.duplicates += m->q[i].duplicates;
		q->v.out_of_order += m->q[i].out_of_order;
	}
	for (size_t i = 0; i < nrows; i++)
		rollup_line(&l, &rows[i].k, &rows[i].v, rows[i].hist);
	for (size_t k = 0; k < nconv; k++)
		lines_add(&l, "C %c %s %c units=%lld first=%lld %s", conv[k].kind, conv[k].ident,
		    conv[k].dir, (long long)conv[k].units, (long long)conv[k].first,
		    conv[k].carrier);
	expected_view(view, rows, nrows, conv, nconv);
	return lines_join(&l);
}

/* A random update of batch b on leg: each carrier names its own trains and
 * vessel calls, so a conveyance has one carrier. Event times are distinct
 * (a unit never enters twice at one millisecond). */
static struct spec
random_spec(unsigned *rnd, int leg, int b, uint64_t *seq)
{
	static const char *const carriers[] = { "KTZE", "ADY" };
	static const char *const boxes[] = { "CSQU3054383", "MSKU1234565", "MWCU6059784",
		"APZU4812090" };
	static const char *const trains[2][2] = { { "KZ1", "KZ2" }, { "AZ1", "AZ2" } };
	static const char *const imos[2] = { "9301213", "9406617" };
	int c = rand_r(rnd) % 2, kind = rand_r(rnd) % 10;
	struct spec sp = {
		.leg = leg,
		.carrier = carriers[c],
		.seq = ++seq[c],
		.record_ms = T0 + H(200) + (int64_t)b * 20 * 60 * 1000,
		.box = boxes[rand_r(rnd) % 4],
		.direction = rand_r(rnd) % 3 == 0 ? 'E' : 'W',
		.classifier = CORRIDOR__CLASSIFIER__ACT,
	};
	bool enter_code = rand_r(rnd) % 2 == 0;

	/* an entry or an exit code of the leg's kind, of the several there are */
	if (leg == 0)
		sp.code = enter_code ? (rand_r(rnd) % 2 ? CORRIDOR__EVENT_CODE__DEPA :
		    CORRIDOR__EVENT_CODE__GTOT) : CORRIDOR__EVENT_CODE__ARRI;
	else
		sp.code = enter_code ? CORRIDOR__EVENT_CODE__ARRI : (rand_r(rnd) % 2 ?
		    CORRIDOR__EVENT_CODE__DEPA : CORRIDOR__EVENT_CODE__LOAD);
	if (kind == 8)
		sp.classifier = CORRIDOR__CLASSIFIER__PLN;
	else if (kind == 9)
		sp.classifier = CORRIDOR__CLASSIFIER__EST;
	else if (kind == 7)
		sp.code = CORRIDOR__EVENT_CODE__INSP;	/* moves nothing */
	sp.event_ms = T0 + (int64_t)(rand_r(rnd) % 300) * 15 * 60 * 1000 + (int64_t)sp.seq * 2 + c;
	if (leg == 0 && rand_r(rnd) % 3)
		sp.train = trains[c][rand_r(rnd) % 2];
	if (leg == 1 && rand_r(rnd) % 3) {
		sp.imo = imos[c];
		sp.voyage = rand_r(rnd) % 2 ? "V12" : NULL;
	}
	/* a retraction of an earlier update, of a later one (it arrives before
	 * its target) or of one on the other leg */
	if (sp.seq > 2 && rand_r(rnd) % 9 == 0) {
		uint64_t k = 1 + (uint64_t)rand_r(rnd) % (sp.seq + 2);

		if (k != sp.seq)
			snprintf(sp.retracts, sizeof sp.retracts, "m%llu", (unsigned long long)k);
	}
	return sp;
}

static void
test_derived_rows_match_a_recomputation(void **state)
{
	static struct model m;
	struct store_writer *w = writer();
	unsigned rnd = 12;
	uint64_t seq[2] = { 0, 0 };
	int b, copies = 0, retractions = 0;

	(void)state;
	memset(&m, 0, sizeof m);
	for (b = 0; b < 120; b++) {
		int leg = rand_r(&rnd) % 3 == 0 ? 1 : 0;
		size_t n = 1 + (size_t)(rand_r(&rnd) % 8);
		struct update_rec *r[8];
		struct spec sp[8];
		enum rec_result want[8], res[8];

		for (size_t i = 0; i < n; i++) {
			int what = rand_r(&rnd) % 12;
			size_t pick = m.n > 0 ? (size_t)rand_r(&rnd) % m.n : 0;

			if (what == 0 && m.n > 0 && m.ev[pick].sp.leg == leg) {
				/* the same update again: a resend or a fresh copy */
				sp[i] = m.ev[pick].sp;
				sp[i].record_ms = T0 + H(200) + (int64_t)b * 20 * 60 * 1000;
				r[i] = make_rec(&sp[i], rand_r(&rnd) % 2);
				want[i] = REC_DUPLICATE;
			} else if (what == 1 && m.n > 0) {
				/* a used seq with other content, or a resend of a seq
				 * the other leg stores */
				sp[i] = m.ev[pick].sp;
				sp[i].leg = leg;
				sp[i].event_ms += 1;
				r[i] = make_rec(&sp[i], m.ev[pick].sp.leg != leg);
				want[i] = REC_REUSED;
			} else {
				sp[i] = random_spec(&rnd, leg, b, seq);
				r[i] = make_rec(&sp[i], false);
				want[i] = REC_STORED;
			}
		}
		/* the model takes the stored ones in order */
		for (size_t i = 0; i < n; i++) {
			struct mev *e;

			if (want[i] == REC_DUPLICATE) {
				qcount(&m, leg, sp[i].record_ms, sp[i].carrier)->duplicates++;
				copies++;
			}
			if (want[i] != REC_STORED)
				continue;
			assert_true(m.n < MODEL_MAX);
			e = &m.ev[m.n++];
			e->sp = sp[i];
			snprintf(e->msg, sizeof e->msg, "m%llu", (unsigned long long)sp[i].seq);
			snprintf(e->unit, sizeof e->unit, "%s", r[i]->unit);
			e->id = ++m.next_id[leg];
			e->batch = b;
			e->teu = r[i]->unit_teu;
			e->containers = r[i]->unit_containers;
			e->gross_kg = r[i]->gross_kg >= 0 ? (uint32_t)r[i]->gross_kg : 0;
			retractions += sp[i].retracts[0] != '\0';
		}
		append_to(w, (size_t)leg, r, n, res);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(res[i], want[i]);
		model_out_of_order(&m, b);
		/* now and then, and at the end, every derived row of both legs */
		if (b % 30 == 29) {
			for (int k = 0; k < 2; k++) {
				const struct leg *lg = k == 0 ? &movement : &port;
				struct lines view = { 0 };
				char *got = stored_rows(lg), *want_rows = expected_rows(&m, k, lg, b, &view);
				char *seen = reader_view((size_t)k, lg), *want_view = lines_join(&view);

				assert_string_equal(got, want_rows);
				/* and what the query commands read of them */
				assert_string_equal(seen, want_view);
				free(got);
				free(want_rows);
				free(seen);
				free(want_view);
			}
		}
	}
	/* the workload did what it is meant to */
	assert_true(copies > 0);
	assert_true(retractions > 0);
	store_writer_close(w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_derived_rows_match_a_recomputation, setup,
		    teardown),
	};

	return UNIT_RUN(tests);
}
