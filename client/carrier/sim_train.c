/*
 * One block train's journey as carriers report it: for every leg each
 * container enters (DEPA/LOAD on movement legs, ARRI/DISC at nodes) and
 * exits at the same instant the next leg is entered, plus customs holds,
 * a planned arrival, vessel ETAs, and the delay with which updates arrive.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "sim.h"

struct gen {
	struct sim_ctx *x;
	const struct sim_train *t;
	struct sim_vec v;
	char imo[8], voyage[16];
};

int
sim_vec_push(struct sim_vec *v, struct sim_update *s)
{
	if (ctl_grow(&v->v, &v->cap, v->n, sizeof *v->v) == -1)
		return -1;
	v->v[v->n++] = s;
	return 0;
}

void
sim_vec_free(struct sim_vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	memset(v, 0, sizeof *v);
}

void
sim_update_free(Corridor__ShipmentUpdate *u)
{
	free(u);	/* the sim_update around it; its strings are static or inside it */
}

/* Points the string fields that lived in `from`'s buffers at s's own. */
static void
rebase(struct sim_update *s, const struct sim_update *from)
{
	Corridor__ShipmentUpdate *u = &s->u;

	if (u->container == from->container)
		u->container = s->container;
	if (u->train_id == from->train_id)
		u->train_id = s->train_id;
	if (u->vessel_imo == from->vessel_imo)
		u->vessel_imo = s->vessel_imo;
	if (u->voyage == from->voyage)
		u->voyage = s->voyage;
	if (u->message_id == from->message_id)
		u->message_id = s->message_id;
}

struct sim_update *
sim_update_clone(const struct sim_update *s)
{
	struct sim_update *c = malloc(sizeof *c);

	if (c != NULL) {
		*c = *s;
		rebase(c, s);
	}
	return c;
}

#define S(str) ((char *)(uintptr_t)(str))

static bool
is_stay(const struct sim_leg *l)
{
	return l->spec->kind != LEG_MOVEMENT;
}

static bool
is_sea(const struct sim_leg *l)
{
	return l->spec->kind == LEG_MOVEMENT && strcmp(l->spec->mode, "sea") == 0;
}

static const struct sim_leg *
route_leg(const struct gen *g, int i)
{
	return &g->x->legs[g->t->route[i]];
}

/* The node where a leg is entered or left on its own, in the train's direction. */
static const char *
own_node(const struct gen *g, int i, bool entry, const char **locode)
{
	const struct sim_leg *l = route_leg(g, i);
	bool w_in = entry == (g->t->dir == CORRIDOR__DIRECTION__W);

	*locode = w_in ? l->locode_w_in : l->locode_w_out;
	return w_in ? l->node_w_in : l->node_w_out;
}

/* Leaving leg i for leg i+1 happens at the stay leg's node when there is one. */
static const char *
leg_node(const struct gen *g, int i, bool entry, const char **locode)
{
	int a = entry ? i - 1 : i, b = a + 1;

	if (a < 0 || b >= g->t->nlegs)
		return own_node(g, i, entry, locode);
	return is_stay(route_leg(g, b)) ? own_node(g, b, true, locode) :
	    own_node(g, a, false, locode);
}

static int exit_code(const struct gen *g, int i);

static int
entry_code(const struct gen *g, int i)
{
	const struct sim_leg *l = route_leg(g, i);

	if (!is_stay(l))
		return is_sea(l) ? CORRIDOR__EVENT_CODE__LOAD : CORRIDOR__EVENT_CODE__DEPA;
	return i == 0 ? CORRIDOR__EVENT_CODE__ARRI : exit_code(g, i - 1);
}

static int
exit_code(const struct gen *g, int i)
{
	const struct sim_leg *l = route_leg(g, i);

	if (!is_stay(l))
		return is_sea(l) ? CORRIDOR__EVENT_CODE__DISC : CORRIDOR__EVENT_CODE__ARRI;
	return i == g->t->nlegs - 1 ? CORRIDOR__EVENT_CODE__DEPA : entry_code(g, i + 1);
}

static Corridor__EventClass
code_class(int code)
{
	if (code == CORRIDOR__EVENT_CODE__ARRI || code == CORRIDOR__EVENT_CODE__DEPA)
		return CORRIDOR__EVENT_CLASS__TRANSPORT;
	if (code == CORRIDOR__EVENT_CODE__HOLD || code == CORRIDOR__EVENT_CODE__RELS)
		return CORRIDOR__EVENT_CLASS__SHIPMENT;
	return CORRIDOR__EVENT_CLASS__EQUIPMENT;
}

/* A new update on leg i; the conveyance is the movement leg the event belongs to. */
static struct sim_update *
gen_update(struct gen *g, int i, bool entry, int code, Corridor__Classifier cls, int64_t ms)
{
	struct sim_update *s = calloc(1, sizeof *s);
	const struct sim_leg *l = route_leg(g, i), *m = l;
	const char *locode, *node;
	Corridor__ShipmentUpdate *u;

	if (s == NULL || sim_vec_push(&g->v, s) == -1) {
		free(s);
		return NULL;
	}
	if (is_stay(l) && (entry ? i > 0 : i + 1 < g->t->nlegs))
		m = route_leg(g, entry ? i - 1 : i + 1);
	node = leg_node(g, i, entry, &locode);
	u = &s->u;
	corridor__shipment_update__init(u);
	s->carrier = (uint8_t)l->carrier;
	s->order = g->x->order++;
	u->carrier = S(sim_carrier_codes[l->carrier]);
	u->has_event_class = u->has_classifier = u->has_event_code = 1;
	u->event_class = code_class(code);
	u->classifier = cls;
	u->event_code = code;
	u->has_event_time_ms = 1;
	u->event_time_ms = ms / 1000 * 1000;
	s->send_ms = u->event_time_ms;
	u->node = S(node);
	u->locode = locode[0] ? S(locode) : NULL;
	u->leg = S(l->code);
	u->has_direction = u->has_mode = 1;
	u->direction = g->t->dir;
	if (code == CORRIDOR__EVENT_CODE__LOAD || code == CORRIDOR__EVENT_CODE__DISC ||
	    (is_sea(l) && code == CORRIDOR__EVENT_CODE__ARRI)) {
		u->mode = CORRIDOR__MODE__VESSEL;
		memcpy(s->vessel_imo, g->imo, sizeof s->vessel_imo);
		memcpy(s->voyage, g->voyage, sizeof s->voyage);
		u->vessel_imo = s->vessel_imo;
		u->voyage = s->voyage;
	} else {
		u->mode = CORRIDOR__MODE__RAIL;
		memcpy(s->train_id, g->t->train_id[m->segment], sizeof s->train_id);
		u->train_id = s->train_id;
	}
	return s;
}

static struct sim_update *
box_update(struct gen *g, int i, bool entry, int code, int64_t ms, const struct sim_box *b)
{
	struct sim_update *s = gen_update(g, i, entry, code, CORRIDOR__CLASSIFIER__ACT, ms);

	if (s == NULL)
		return NULL;
	memcpy(s->container, b->no, sizeof s->container);
	s->u.container = s->container;
	s->u.iso_type = S(b->iso_type);
	s->u.has_empty = s->u.has_gross_kg = 1;
	s->u.empty = b->empty;
	s->u.gross_kg = b->gross_kg;
	return s;
}

/* A plan or estimate of the arrival at the end of leg i, sent at send_ms:
 * one for the train or vessel, and one for each container on it, since the
 * daemon judges plans and estimates per unit (ONTIME). */
static int
plan_update(struct gen *g, int i, Corridor__Classifier cls, int64_t eta, int64_t send_ms)
{
	struct sim_update *s = gen_update(g, i, false, CORRIDOR__EVENT_CODE__ARRI, cls, eta);
	uint32_t teu = 0;

	if (s == NULL)
		return -1;
	for (int j = 0; j < g->t->nbox; j++)
		teu += strcmp(g->t->box[j].iso_type, "22G1") == 0 ? 1 : 2;
	s->u.event_class = CORRIDOR__EVENT_CLASS__TRANSPORT;
	s->u.has_teu = s->u.has_container_count = 1;
	s->u.teu = teu;
	s->u.container_count = (uint32_t)g->t->nbox;
	s->u.has_next_eta_ms = cls == CORRIDOR__CLASSIFIER__EST;
	s->u.next_eta_ms = s->u.event_time_ms;
	s->send_ms = send_ms;
	for (int j = 0; j < g->t->nbox; j++) {
		struct sim_update *b = gen_update(g, i, false, CORRIDOR__EVENT_CODE__ARRI, cls, eta);

		if (b == NULL)
			return -1;
		memcpy(b->container, g->t->box[j].no, sizeof b->container);
		b->u.container = b->container;
		b->u.iso_type = S(g->t->box[j].iso_type);
		b->u.event_class = CORRIDOR__EVENT_CLASS__EQUIPMENT;
		b->u.event_code = CORRIDOR__EVENT_CODE__DISC;
		b->send_ms = send_ms;
	}
	return 0;
}

static void
delay_reason(struct gen *g, const struct sim_leg *l, const char **code, const char **remark)
{
	double u = sim_unit(g->x);

	if (is_sea(l) || (is_stay(l) && u < 0.3)) {
		*code = "WEA";
		*remark = "Storm on the Caspian: vessels held at anchorage";
	} else if (u < 0.15) {
		*code = "STR";
		*remark = "Industrial action at the terminal";
	} else {
		*code = "CON";
		*remark = l->spec->kind == LEG_BORDER ? "Wagon shortage at the border" :
		    "Congestion: trains held waiting for a berth";
	}
}

static int
customs_hold(struct gen *g, int i, const struct sim_box *b, int64_t in, int64_t out)
{
	struct sim_update *h, *r;

	h = box_update(g, i, true, CORRIDOR__EVENT_CODE__HOLD, in + (out - in) / 6, b);
	r = box_update(g, i, true, CORRIDOR__EVENT_CODE__RELS, out - (out - in) / 6, b);
	if (h == NULL || r == NULL)
		return -1;
	h->u.remark = S("Customs hold for inspection");
	r->u.remark = S("Released by customs");
	return 0;
}

/* Leg i for every container: entry at cur[j], exit at the returned out[j]. */
static int
run_leg(struct gen *g, int i, int64_t *cur, int64_t *out)
{
	const struct sim_leg *l = route_leg(g, i);
	bool bad, sea_next = i + 1 < g->t->nlegs && is_sea(route_leg(g, i + 1));
	int64_t dur = (int64_t)(sim_leg_hours(g->x, l->spec, &bad) * SIM_HOUR_MS), mx = 0;
	int64_t base, spread = 3 * SIM_HOUR_MS;
	const char *reason = NULL, *remark = NULL;

	for (int j = 0; j < g->t->nbox; j++)
		mx = cur[j] > mx ? cur[j] : mx;
	base = mx + dur;
	if (is_sea(l)) {
		base = mx + SIM_HOUR_MS + dur;	/* sails an hour after the last box is loaded */
		if (plan_update(g, i, CORRIDOR__CLASSIFIER__EST,
		    mx + SIM_HOUR_MS + (int64_t)(l->spec->typical_h * SIM_HOUR_MS),
		    mx + SIM_HOUR_MS) == -1)
			return -1;
	}
	if (sea_next)
		sim_vessel(g->x, route_leg(g, i + 1), base + spread, g->t->dir, g->imo, g->voyage);
	if (bad)
		delay_reason(g, l, &reason, &remark);
	for (int j = 0; j < g->t->nbox; j++) {
		struct sim_update *in, *ex;

		out[j] = base + (sea_next || is_sea(l) ? (int64_t)sim_uniform(g->x, 0,
		    (double)spread) : 0);
		in = box_update(g, i, true, entry_code(g, i), cur[j], &g->t->box[j]);
		ex = box_update(g, i, false, exit_code(g, i), out[j], &g->t->box[j]);
		if (in == NULL || ex == NULL)
			return -1;
		ex->u.delay_reason = S(reason);
		ex->u.remark = S(remark);
		if (l->spec->kind == LEG_BORDER && sim_unit(g->x) < 0.03 &&
		    customs_hold(g, i, &g->t->box[j], cur[j], out[j]) == -1)
			return -1;
	}
	return 0;
}

/* When the carrier gets the update to the daemon: mostly at once, some late. */
static void
arrival_delay(struct gen *g, struct sim_update *s)
{
	bool ferry = s->u.has_mode && s->u.mode == CORRIDOR__MODE__VESSEL;
	double u = sim_unit(g->x);

	if (s->u.classifier != CORRIDOR__CLASSIFIER__ACT)
		return;
	s->send_ms += (int64_t)sim_uniform(g->x, 5000, 120000);
	if (u < (ferry ? 0.08 : 0.02))		/* no signal for hours */
		s->send_ms += (int64_t)sim_uniform(g->x, 2, ferry ? 30 : 12) * SIM_HOUR_MS;
	else if (u < (ferry ? 0.09 : 0.03))	/* a little out of order */
		s->send_ms += (int64_t)sim_uniform(g->x, 5, 90) * 60000;
}

int
sim_train_run(struct sim_ctx *x, const struct sim_train *t, int64_t t0)
{
	struct gen g = { x, t, { NULL, 0, 0 }, "", "" };
	int64_t cur[SIM_MAX_BOXES], out[SIM_MAX_BOXES], last = 0, eta = t0;
	int rc = 0, plan;

	for (int j = 0; j < t->nbox; j++)
		cur[j] = t0;
	/* the plan: when the train reaches the end of its first rail leg */
	plan = is_stay(route_leg(&g, 0)) ? 1 : 0;
	for (int i = 0; i <= plan; i++)
		eta += (int64_t)(route_leg(&g, i)->spec->typical_h * SIM_HOUR_MS);
	rc = plan_update(&g, plan, CORRIDOR__CLASSIFIER__PLN, eta, t0);
	for (int i = 0; rc == 0 && i < t->nlegs; i++) {
		rc = run_leg(&g, i, cur, out);
		memcpy(cur, out, sizeof cur);
	}
	for (int j = 0; j < t->nbox; j++)
		last = cur[j] > last ? cur[j] : last;
	for (size_t k = 0; k < g.v.n; k++) {
		struct sim_update *s = g.v.v[k];

		arrival_delay(&g, s);
		if (rc == 0 && last >= x->window_start_ms && s->send_ms <= x->end_ms &&
		    (s->u.classifier != CORRIDOR__CLASSIFIER__ACT ||
		    s->u.event_time_ms <= x->end_ms)) {
			if ((rc = sim_vec_push(&x->out, s)) == 0)
				g.v.v[k] = NULL;
		}
	}
	if (rc == 0 && last >= x->window_start_ms) {
		x->trains++;
		x->boxes += (size_t)t->nbox;
	}
	sim_vec_free(&g.v);
	return rc;
}
