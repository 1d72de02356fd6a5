/* Traversal pairing; see traversal.h. */
#include "traversal.h"

#include <stdbool.h>

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
