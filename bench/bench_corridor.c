/*
 * The loader's corridor stream; see bench_corridor.h. Trains start in time
 * order; each train's updates go, packed, into a bucket per day of sending
 * time, and a day is sorted and handed on once no later train can send in
 * it (nothing is sent before its train starts). Memory holds the updates
 * generated but not yet due: about half a journey's worth of trains.
 */
#include "bench_corridor.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "iso6346.h"
#include "timeutil.h"

#include "bench_updfile.h"

/* trains start this long before the window so its first days are as busy
 * as the rest; longer than any journey with bad times on every leg */
#define LEAD_DAYS 40
#define CALIBRATION_TRAINS 2000
#define FINGERPRINT_TRAINS 20
#define BOX_POOL 6000000u	/* owner codes x serials: no number twice in a run */
#define ID_MAX 40

struct pend {
	int64_t send_ms;
	uint32_t order;
	uint16_t len;
	uint8_t carrier, flags;
	uint8_t data[];
};

struct bucket {
	struct pend **v;
	size_t n, cap;
};

struct gen {
	const struct corridor_opts *o;
	struct sim_ctx *x;
	int64_t start, end;
	struct bucket *days;
	int ndays, next_day;
	corridor_emit_fn emit;
	void *arg;
	struct corridor_stats *st;
	uint8_t scratch[UPDFILE_RECORD_MAX];
};

/* Container numbers from the train's number, so none is on two trains at
 * once (the simulator draws them at random from a smaller pool). */
static void
number_boxes(struct sim_train *t, uint32_t train)
{
	static const char *const owners[] = { "CSQU", "MWCU", "TGHU", "FCIU", "TCNU", "CAIU" };

	for (int j = 0; j < t->nbox; j++) {
		uint32_t u = (uint32_t)(((uint64_t)train * SIM_MAX_BOXES + (uint64_t)j) % BOX_POOL);
		char first10[11];

		snprintf(first10, sizeof first10, "%s%06u", owners[u / 1000000], u % 1000000);
		snprintf(t->box[j].no, sizeof t->box[j].no, "%s%d", first10,
		    iso6346_check_digit(first10));
	}
}

static int
queue(struct gen *g, const Corridor__ShipmentUpdate *u, int carrier, uint8_t flags,
    int64_t send_ms, const char *id)
{
	Corridor__ShipmentUpdate c = *u;
	struct bucket *b;
	struct pend *p;
	size_t len;
	int day = (int)((send_ms - g->start) / SIM_DAY_MS);

	if (send_ms < g->start || send_ms > g->end || day < g->next_day)
		return 0;	/* outside the window (or a day already handed on) */
	c.message_id = (char *)(uintptr_t)id;
	c.has_seq = 0;
	len = corridor__shipment_update__get_packed_size(&c);
	if (len > UPDFILE_RECORD_MAX - 16 || (p = malloc(sizeof *p + len)) == NULL)
		return -1;
	p->send_ms = send_ms;
	p->order = g->x->order++;
	p->len = (uint16_t)len;
	p->carrier = (uint8_t)carrier;
	p->flags = flags;
	corridor__shipment_update__pack(&c, p->data);
	b = &g->days[day];
	if (ctl_grow(&b->v, &b->cap, b->n, sizeof *b->v) == -1) {
		free(p);
		return -1;
	}
	b->v[b->n++] = p;
	g->st->updates++;
	g->st->per_carrier[carrier]++;
	for (int i = 0; i < SIM_LEGS; i++)
		if (strcmp(c.leg, g->x->legs[i].code) == 0) {
			g->st->per_leg[i]++;
			break;
		}
	return 0;
}

/* A broken twin the daemon must refuse: a wrong check digit or an unknown leg. */
static int
queue_bad(struct gen *g, const struct sim_update *s, const char *id)
{
	Corridor__ShipmentUpdate u = s->u;
	char container[12], bad_id[ID_MAX + 2];

	memcpy(container, s->container, sizeof container);
	if (sim_rand(g->x) % 2) {
		container[10] = (char)('0' + (container[10] - '0' + 1) % 10);
		u.container = container;
	} else
		u.leg = (char *)(uintptr_t)"KZ-RAIL-XXX-AKT";
	snprintf(bad_id, sizeof bad_id, "%sX", id);
	g->st->bad++;
	return queue(g, &u, s->carrier, UPDFILE_BAD, s->send_ms, bad_id);
}

/* A wrong event (earlier than it happened), and later the right one
 * retracting it; as the plain event when either would fall outside. */
static int
queue_retraction(struct gen *g, const struct sim_update *s, const char *id)
{
	Corridor__ShipmentUpdate wrong = s->u, right = s->u;
	int64_t shift = (int64_t)(sim_uniform(g->x, 0.5, 6) * 3600) * 1000;
	int64_t later = s->send_ms + (int64_t)sim_uniform(g->x, 600000, (double)(12 * SIM_HOUR_MS));
	char right_id[ID_MAX + 2];

	wrong.event_time_ms -= shift;
	if (wrong.event_time_ms < g->start || later > g->end)
		return queue(g, &s->u, s->carrier, 0, s->send_ms, id);
	right.retracts_message_id = (char *)(uintptr_t)id;
	snprintf(right_id, sizeof right_id, "%sC", id);
	g->st->retractions++;
	if (queue(g, &wrong, s->carrier, 0, s->send_ms, id) == -1)
		return -1;
	return queue(g, &right, s->carrier, 0, later, right_id);
}

static int
take(struct gen *g, const struct sim_update *s)
{
	const Corridor__ShipmentUpdate *u = &s->u;
	bool act = u->classifier == CORRIDOR__CLASSIFIER__ACT;
	char id[ID_MAX];
	double r;

	if (act ? u->event_time_ms < g->start : s->send_ms < g->start)
		return 0;	/* before the window: the state starts empty there */
	snprintf(id, sizeof id, "%s-%u", sim_carrier_codes[s->carrier], s->order);
	g->st->plans += u->classifier == CORRIDOR__CLASSIFIER__PLN;
	g->st->estimates += u->classifier == CORRIDOR__CLASSIFIER__EST;
	g->st->holds += u->event_code == CORRIDOR__EVENT_CODE__HOLD;
	g->st->delayed += u->delay_reason != NULL;
	g->st->late += act && s->send_ms - u->event_time_ms > SIM_HOUR_MS;
	if (!act || u->container == NULL)
		return queue(g, u, s->carrier, 0, s->send_ms, id);
	r = sim_unit(g->x) * 1000.0;
	if (r < g->o->bad_pm && queue_bad(g, s, id) == -1)
		return -1;
	r -= g->o->bad_pm;
	if (r >= 0 && r < g->o->dup_pm) {
		/* the carrier's system sends the same event again */
		int64_t again = s->send_ms + (int64_t)sim_uniform(g->x, 60000, (double)(6 * SIM_HOUR_MS));

		g->st->duplicates += again <= g->end;
		if (queue(g, u, s->carrier, 0, again, id) == -1)
			return -1;
	}
	r -= g->o->dup_pm;
	if (r >= 0 && r < g->o->retract_pm)
		return queue_retraction(g, s, id);
	return queue(g, u, s->carrier, 0, s->send_ms, id);
}

static int
by_send_time(const void *a, const void *b)
{
	const struct pend *x = *(struct pend *const *)a, *y = *(struct pend *const *)b;

	if (x->send_ms != y->send_ms)
		return x->send_ms < y->send_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Sorts and hands on the days that end before `before`. */
static int
flush_days(struct gen *g, int64_t before)
{
	while (g->next_day < g->ndays &&
	    g->start + (int64_t)(g->next_day + 1) * SIM_DAY_MS <= before) {
		struct bucket *b = &g->days[g->next_day++];
		int rc = 0;

		if (b->n > 0)
			qsort(b->v, b->n, sizeof *b->v, by_send_time);
		for (size_t i = 0; i < b->n; i++) {
			if (rc == 0)
				rc = g->emit(g->arg, b->v[i]->carrier, b->v[i]->flags,
				    b->v[i]->data, b->v[i]->len);
			free(b->v[i]);
		}
		free(b->v);
		memset(b, 0, sizeof *b);
		if (rc == -1)
			return -1;
	}
	return 0;
}

static void
free_out(struct sim_ctx *x)
{
	for (size_t i = 0; i < x->out.n; i++)
		free(x->out.v[i]);
	x->out.n = 0;
}

/* Updates a train makes, on average, counting the extras. */
static double
per_train(const struct corridor_opts *o, char *err, size_t errlen)
{
	struct sim_ctx *x = malloc(sizeof *x);
	struct sim_train t;
	uint64_t n = 0, boxes_act = 0;

	if (x == NULL || sim_init(x, o->seed ^ 0x5eed, err, errlen) == -1) {
		free(x);
		return -1;
	}
	x->window_start_ms = INT64_MIN / 4;
	x->end_ms = INT64_MAX / 4;
	for (uint32_t k = 0; k < CALIBRATION_TRAINS; k++) {
		sim_train_make(x, &t, k);
		if (sim_train_run(x, &t, 0) == -1) {
			snprintf(err, errlen, "out of memory");
			sim_vec_free(&x->out);
			free(x);
			return -1;
		}
		for (size_t i = 0; i < x->out.n; i++)
			boxes_act += x->out.v[i]->u.container != NULL &&
			    x->out.v[i]->u.classifier == CORRIDOR__CLASSIFIER__ACT;
		n += x->out.n;
		free_out(x);
	}
	sim_vec_free(&x->out);
	free(x);
	return ((double)n + (double)boxes_act * (o->dup_pm + o->retract_pm + o->bad_pm) / 1000.0) /
	    CALIBRATION_TRAINS;
}

uint64_t
corridor_fingerprint(const struct corridor_opts *o)
{
	struct sim_ctx *x = malloc(sizeof *x);
	struct sim_train t;
	uint8_t buf[UPDFILE_RECORD_MAX];
	uint64_t h = 0xcbf29ce484222325ULL;
	char err[128];

	if (x == NULL || sim_init(x, o->seed, err, sizeof err) == -1) {
		free(x);
		return 0;
	}
	x->window_start_ms = INT64_MIN / 4;
	x->end_ms = INT64_MAX / 4;
	for (uint32_t k = 0; k < FINGERPRINT_TRAINS; k++) {
		sim_train_make(x, &t, k);
		if (sim_train_run(x, &t, 0) == -1)
			break;
		for (size_t i = 0; i < x->out.n; i++) {
			const Corridor__ShipmentUpdate *u = &x->out.v[i]->u;

			if (corridor__shipment_update__get_packed_size(u) <= sizeof buf)
				h = updfile_fnv(h, buf, corridor__shipment_update__pack(u, buf));
			h = updfile_fnv(h, &x->out.v[i]->send_ms, sizeof x->out.v[i]->send_ms);
		}
		free_out(x);
	}
	sim_vec_free(&x->out);
	free(x);
	return h;
}

static int
run_trains(struct gen *g, double step)
{
	int64_t first = g->start - (int64_t)LEAD_DAYS * SIM_DAY_MS;
	struct sim_train t;
	struct progress pr;

	progress_init(&pr);
	for (uint32_t k = 0;; k++) {
		int64_t t0 = first + (int64_t)((double)k * step);
		int64_t jitter = (int64_t)(sim_uniform(g->x, -0.3, 0.3) * step);

		/* days no later train can send in are complete */
		if (flush_days(g, t0 + jitter) == -1)
			return -1;
		if (t0 + jitter > g->end)
			break;
		sim_train_make(g->x, &t, k);
		number_boxes(&t, k);
		g->x->out.n = 0;
		if (sim_train_run(g->x, &t, t0 + jitter) == -1)
			return -1;
		for (size_t i = 0; i < g->x->out.n; i++)
			if (take(g, g->x->out.v[i]) == -1)
				return -1;
		if (g->x->out.n > 0 && t0 + jitter >= g->start) {
			g->st->trains++;
			g->st->containers += (uint64_t)t.nbox;
		}
		free_out(g->x);
		progress_show(&pr, 0, "generate: day %d of %d handed on, %llu updates made",
		    g->next_day, g->ndays - 1, (unsigned long long)g->st->updates);
	}
	progress_done(&pr);
	return flush_days(g, INT64_MAX / 2);
}

int
corridor_generate(const struct corridor_opts *o, corridor_emit_fn emit, void *arg,
    struct corridor_stats *st, char *err, size_t errlen)
{
	struct gen *g = calloc(1, sizeof *g);
	double avg;
	int rc = -1;

	memset(st, 0, sizeof *st);
	if (g == NULL || (g->x = malloc(sizeof *g->x)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(g);
		return -1;
	}
	if ((avg = per_train(o, err, errlen)) <= 0 ||
	    sim_init(g->x, o->seed, err, errlen) == -1)
		goto done;
	g->o = o;
	g->emit = emit;
	g->arg = arg;
	g->st = st;
	g->end = o->end_ms;
	g->start = o->end_ms - (int64_t)o->days * SIM_DAY_MS;
	g->x->window_start_ms = g->start;
	g->x->end_ms = g->end;
	for (int i = 0; i < SIM_LEGS; i++)
		snprintf(st->leg_codes[i], sizeof st->leg_codes[i], "%s", g->x->legs[i].code);
	g->ndays = o->days + 1;		/* the last holds what is sent at end_ms itself */
	if ((g->days = calloc((size_t)g->ndays, sizeof *g->days)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	st->trains_per_day = (double)o->updates / o->days / avg;
	if (run_trains(g, (double)SIM_DAY_MS / st->trains_per_day) == -1) {
		snprintf(err, errlen, "out of memory, or the update files cannot be written");
		goto done;
	}
	rc = 0;
done:
	for (int d = 0; g->days != NULL && d < g->ndays; d++) {
		for (size_t i = 0; i < g->days[d].n; i++)
			free(g->days[d].v[i]);
		free(g->days[d].v);
	}
	free(g->days);
	if (g->x != NULL) {
		sim_vec_free(&g->x->out);
		free(g->x);
	}
	free(g);
	return rc;
}
