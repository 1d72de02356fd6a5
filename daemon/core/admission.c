/* Connection admission and counting; see admission.h. Loop thread only. */
#include "admission.h"

#include "config.h"
#include "counters.h"
#include "log.h"
#include "net_util.h"

int
admission_init(struct admission *a, struct config *const *cfg, struct counters *k)
{
	a->cfg = cfg;
	a->counters = k;
	a->nconns = 0;
	a->next_conn_id = 0;
	a->stopping = false;
	return (a->per_ip = ip_table_new()) == NULL ? -1 : 0;
}

void
admission_free(struct admission *a)
{
	ip_table_free(a->per_ip);
	a->per_ip = NULL;
}

bool
admission_admit(struct admission *a, const char *what, const struct sockaddr *sa,
    struct conn_addr *addr, enum refuse_reason *why)
{
	const struct limits *l = &(*a->cfg)->limits;
	char peer[64];

	conn_addr_from(sa, addr);
	if (a->stopping)
		*why = REFUSE_STOPPING;
	else if (a->nconns >= (size_t)l->max_connections)
		*why = REFUSE_TOTAL;
	else if (ip_table_count(a->per_ip, addr) >= (size_t)l->max_connections_per_ip)
		*why = REFUSE_PER_IP;
	else if (ip_table_add(a->per_ip, addr) == -1)
		*why = REFUSE_TOTAL;	/* out of memory for one more address */
	else {
		a->nconns++;
		return true;
	}
	counters_refused(a->counters, *why);
	net_format_peer(sa, peer, sizeof peer);
	log_warnx("%s connection refused peer=%s reason=%s connections=%zu from_peer=%zu "
	    "max_connections=%lld max_connections_per_ip=%lld", what, peer,
	    refuse_reason_name(*why), a->nconns, ip_table_count(a->per_ip, addr),
	    (long long)l->max_connections, (long long)l->max_connections_per_ip);
	return false;
}

void
admission_closed(struct admission *a, const struct conn_addr *addr)
{
	ip_table_remove(a->per_ip, addr);
	a->nconns--;
}

uint64_t
admission_next_id(struct admission *a)
{
	return ++a->next_conn_id;
}

size_t
admission_count(const struct admission *a)
{
	return a->nconns;
}

void
admission_stop(struct admission *a)
{
	a->stopping = true;
}
