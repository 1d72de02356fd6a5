/* Traversal pairing; see traversal.h. */
#include "traversal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "corridor.pb-c.h"

enum event_role
leg_event_role(enum leg_kind kind, int classifier, int event_code)
{
	bool departure, arrival;

	if (classifier != CORRIDOR__CLASSIFIER__ACT)
		return ROLE_NONE;
	departure = event_code == CORRIDOR__EVENT_CODE__DEPA ||
	    event_code == CORRIDOR__EVENT_CODE__GTOT || event_code == CORRIDOR__EVENT_CODE__LOAD;
	arrival = event_code == CORRIDOR__EVENT_CODE__ARRI ||
	    event_code == CORRIDOR__EVENT_CODE__GTIN || event_code == CORRIDOR__EVENT_CODE__DISC;
	if (kind == LEG_MOVEMENT)
		return departure ? ROLE_ENTER : arrival ? ROLE_EXIT : ROLE_NONE;
	return arrival ? ROLE_ENTER : departure ? ROLE_EXIT : ROLE_NONE;
}

/* Gives each closed traversal its planned and estimated exits. */
static void
attach_plans(const struct trav_event *ev, size_t n, struct traversal *tr, size_t count)
{
	for (size_t k = 0; k < count; k++) {
		int64_t lo = k > 0 ? tr[k].enter_ms : INT64_MIN;
		int64_t hi = k + 1 < count ? tr[k + 1].enter_ms : INT64_MAX;
		int64_t plan_id = -1;

		if (tr[k].exit_ms < 0)
			continue;
		for (size_t i = 0; i < n; i++) {
			const struct trav_event *e = &ev[i];

			if (!e->exit_kind || e->time_ms < lo || e->time_ms >= hi)
				continue;
			if (e->classifier == CORRIDOR__CLASSIFIER__PLN && e->id > plan_id) {
				plan_id = e->id;
				tr[k].plan_ms = e->time_ms;
			} else if (e->classifier == CORRIDOR__CLASSIFIER__EST) {
				tr[k].eta_n++;
				tr[k].eta_err_ms += llabs(e->time_ms - tr[k].exit_ms);
			}
		}
	}
}

size_t
traversal_pair(const struct trav_event *ev, size_t n, struct traversal *out)
{
	size_t count = 0;
	struct traversal *open = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct trav_event *e = &ev[i];

		if (e->role == ROLE_ENTER && open == NULL && count > 0 &&
		    out[count - 1].enter_ms == e->time_ms) {
			/* left and entered again within the same millisecond: one
			 * traversal (a unit's entries are distinct: the store keys
			 * its traversals by entry time), open again until the next
			 * exit */
			open = &out[count - 1];
			open->exit_ms = -1;
		} else if (e->role == ROLE_ENTER && open == NULL) {
			open = &out[count++];
			open->enter_ms = e->time_ms;
			open->exit_ms = -1;
			open->carrier = e->carrier;
			open->train = e->train;
			open->vessel = e->vessel;
			open->plan_ms = -1;
			open->eta_n = 0;
			open->eta_err_ms = 0;
			open->teu = e->teu;
			open->containers = e->containers;
			open->gross_kg = e->gross_kg;
		} else if (e->role == ROLE_EXIT && open != NULL) {
			open->exit_ms = e->time_ms;
			if (open->teu == 0)
				open->teu = e->teu;
			if (open->containers == 0)
				open->containers = e->containers;
			if (open->gross_kg == 0)
				open->gross_kg = e->gross_kg;
			open = NULL;
		}
	}
	attach_plans(ev, n, out, count);
	return count;
}

static bool
same_text(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool
traversal_same(const struct traversal *a, const struct traversal *b)
{
	return a->exit_ms == b->exit_ms && a->teu == b->teu && a->containers == b->containers &&
	    a->gross_kg == b->gross_kg && same_text(a->carrier, b->carrier) &&
	    same_text(a->train, b->train) && same_text(a->vessel, b->vessel) &&
	    a->plan_ms == b->plan_ms && a->eta_n == b->eta_n && a->eta_err_ms == b->eta_err_ms;
}

int
traversal_diff(const struct traversal *before, size_t nb, const struct traversal *after,
    size_t na, traversal_emit_fn emit, void *arg)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < nb || j < na)) {
		if (j == na || (i < nb && before[i].enter_ms < after[j].enter_ms))
			rc = emit(arg, &before[i++], NULL);
		else if (i == nb || after[j].enter_ms < before[i].enter_ms)
			rc = emit(arg, NULL, &after[j++]);
		else {
			if (!traversal_same(&before[i], &after[j]))
				rc = emit(arg, &before[i], &after[j]);
			i++;
			j++;
		}
	}
	return rc;
}
