/* Traversal pairing; see traversal.h. */
#include "traversal.h"

#include <stdbool.h>
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

size_t
traversal_pair(const struct trav_event *ev, size_t n, struct traversal *out)
{
	size_t count = 0;
	struct traversal *open = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct trav_event *e = &ev[i];

		if (e->role == ROLE_ENTER && open == NULL) {
			open = &out[count++];
			open->enter_ms = e->time_ms;
			open->exit_ms = -1;
			open->carrier = e->carrier;
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
	return count;
}

static bool
traversal_same(const struct traversal *a, const struct traversal *b)
{
	return a->exit_ms == b->exit_ms && a->teu == b->teu && a->containers == b->containers &&
	    a->gross_kg == b->gross_kg && strcmp(a->carrier, b->carrier) == 0;
}

int
traversal_diff(const struct traversal *before, size_t nb, const struct traversal *after,
    size_t na, traversal_emit_fn emit, void *arg)
{
	size_t i = 0, j = 0;
	int rc = 0;

	while (rc == 0 && (i < nb || j < na)) {
		if (j == na || (i < nb && before[i].enter_ms < after[j].enter_ms))
			rc = emit(arg, &before[i++], true);
		else if (i == nb || after[j].enter_ms < before[i].enter_ms)
			rc = emit(arg, &after[j++], false);
		else {
			if (!traversal_same(&before[i], &after[j]))
				rc = emit(arg, &after[j], false);
			i++;
			j++;
		}
	}
	return rc;
}
