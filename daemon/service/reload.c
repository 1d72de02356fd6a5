/* Configuration reload on SIGHUP; see reload.h. */
#include "reload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "config.h"
#include "config_table.h"
#include "counters.h"
#include "ingest.h"
#include "log.h"
#include "marks.h"
#include "query_auth.h"
#include "query_conn.h"
#include "sd_notify.h"
#include "server_state.h"
#include "store.h"
#include "workq.h"
#include "writer.h"

/* The catalog and preparing the new legs are the checkpoint thread's. */
struct reload_job {
	struct workq_job base;
	struct server *srv;
	struct config *next;
	size_t first_new_leg;		/* next->legs from here on are new */
	struct carrier_table *fresh;	/* carriers this run has not known yet */
	int failed;
	char err[512];
};

int
reload_reconcile_legs(const struct leg_table *running, struct leg_table *next, char *err,
    size_t errlen)
{
	struct leg_table *out = malloc(sizeof *out);

	if (out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->count = 0;
	for (size_t i = 0; i < running->count; i++) {
		const struct leg *now = &running->legs[i];
		const struct leg *then = legs_find(next, now->code);

		if (then == NULL) {
			snprintf(err, errlen, "leg %s is gone from the configuration; a leg cannot be "
			    "removed while running (what it stored stays in the store): restart to "
			    "drop it", now->code);
			free(out);
			return -1;
		}
		if (then->kind != now->kind) {
			snprintf(err, errlen, "leg %s would change kind from %s to %s; its traversals "
			    "were paired as %s: restart to change it", now->code,
			    leg_kind_name(now->kind), leg_kind_name(then->kind),
			    leg_kind_name(now->kind));
			free(out);
			return -1;
		}
		out->legs[out->count] = *then;
		if (then->typical_h != now->typical_h) {
			/* the writer derives the leg's rollups with it (leg_store_open) */
			log_warnx("reload keeps the running value of leg %s typical_h (it needs a "
			    "restart, which derives the rollups again) running=%g file=%g", now->code,
			    now->typical_h, then->typical_h);
			out->legs[out->count].typical_h = now->typical_h;
		}
		out->count++;
	}
	for (size_t i = 0; i < next->count; i++)
		if (legs_find(running, next->legs[i].code) == NULL)
			out->legs[out->count++] = next->legs[i];
	*next = *out;
	free(out);
	return 0;
}

/* Which settings a reload may change is the tables' restart flag
 * (config_table.c, limit_table.c): for each that needs a restart, the
 * running value stays and the log says so. */
int
reload_keep_restart_only(const struct config *running, struct config *next)
{
	char was[CONFIG_PATH_MAX], file[CONFIG_PATH_MAX];
	int kept = 0;

	for (size_t i = 0; i < config_options_count; i++) {
		const struct config_option *o = &config_options[i];
		char *slot = (char *)next + o->offset;
		const char *now = (const char *)running + o->offset;

		if (!o->restart || memcmp(now, slot, o->size) == 0)
			continue;
		config_option_format(running, o, was, sizeof was);
		config_option_format(next, o, file, sizeof file);
		if (strcmp(was, file) == 0)
			continue;	/* the bytes after a string's end */
		log_warnx("reload keeps the running value of %s%s%s (it needs a restart) "
		    "running=\"%s\" file=\"%s\"", strcmp(o->section, "daemon") == 0 ? "" :
		    o->section, strcmp(o->section, "daemon") == 0 ? "" : ".", o->name, was, file);
		memcpy(slot, now, o->size);
		kept++;
	}
	for (size_t i = 0; i < limit_defs_count; i++) {
		const struct limit_def *d = &limit_defs[i];
		int64_t *slot;

		if (!d->restart || limits_get(&running->limits, d) == limits_get(&next->limits, d))
			continue;
		log_warnx("reload keeps the running value of %s (it needs a restart) running=%lld "
		    "file=%lld", d->name, (long long)limits_get(&running->limits, d),
		    (long long)limits_get(&next->limits, d));
		slot = (int64_t *)(void *)((char *)&next->limits + d->offset);
		*slot = limits_get(&running->limits, d);
		kept++;
	}
	return kept;
}

static void
reload_end(struct server *srv)
{
	srv->reloading = false;
	sd_notify_send("READY=1\nSTATUS=connections=%zu legs=%zu carriers=%zu",
	    admission_count(&srv->admission), srv->cfg->legs.count, srv->cfg->carriers.count);
	if (srv->reload_again && !srv->stopping) {
		srv->reload_again = false;
		reload_begin(srv);
	}
}

static void
reload_failed(struct server *srv, const char *why)
{
	char line[512];
	const char *p = why;

	counters_reload(&srv->counters, false);
	/* one log line per problem the file has */
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof line, "%.*s", (int)n, p);
		if (line[0] != '\0')
			log_warnx("reload failed; the running configuration stays problem=\"%s\"",
			    line);
		p += n + (p[n] == '\n');
	}
	reload_end(srv);
}

static void
fresh_free(struct carrier_table *fresh)
{
	if (fresh == NULL)
		return;
	carrier_table_free(fresh);
	free(fresh);
}

/* Checkpoint thread: record the new legs and carriers in the catalog,
 * prepare the new legs' storage (creating, migrating: slow) for their
 * writers to take and recover the new carriers' marks. */
static void
reload_run(struct workq_job *base, void *ctx)
{
	struct reload_job *job = (struct reload_job *)base;
	struct config *next = job->next;
	struct store_error serr;

	(void)ctx;
	if (store_catalog_sync(job->srv->catalog, &next->legs, job->fresh, &serr) == -1) {
		snprintf(job->err, sizeof job->err, "%s", serr.message);
		job->failed = 1;
		return;
	}
	for (size_t i = job->first_new_leg; i < next->legs.count; i++) {
		if (store_leg_prepare(job->srv->store, &next->legs.legs[i], &serr) == -1) {
			snprintf(job->err, sizeof job->err, "%s", serr.message);
			job->failed = 1;
			return;
		}
	}
	if (marks_recover_table(job->srv->catalog, &next->legs, job->fresh, job->err,
	    sizeof job->err) == -1)
		job->failed = 1;
}

static void
job_discard(struct reload_job *job)
{
	fresh_free(job->fresh);
	config_release(job->next);
	free(job);
}

/* Loop thread: swap the configuration in. */
static void
reload_apply(struct server *srv, struct reload_job *job)
{
	struct config *next = job->next, *old = srv->cfg;
	size_t legs_added = next->legs.count - job->first_new_leg, dropped = 0, closed, revoked;

	for (size_t i = job->first_new_leg; i < next->legs.count; i++) {
		char where[CONFIG_PATH_MAX + 64];

		writer_pool_add_leg(srv->writers, &next->legs.legs[i]);	/* room: checked at start */
		store_leg_where(srv->store, &next->legs.legs[i], where, sizeof where);
		log_info("reload added leg=%s file=%s", next->legs.legs[i].code, where);
	}
	for (size_t i = 0; i < job->fresh->count; i++) {
		struct carrier *c = &srv->carriers.items[srv->carriers.count++];

		*c = job->fresh->items[i];	/* takes its window over */
		job->fresh->items[i].done = NULL;
		log_info("reload added carrier=%s acked_seq=%llu", c->code,
		    (unsigned long long)c->acked_seq);
	}
	job->fresh->count = 0;
	for (size_t i = 0; i < srv->carriers.count; i++) {
		struct carrier *c = &srv->carriers.items[i];
		const struct carrier_conf *conf = carrier_list_find(&next->carriers, c->code);

		if (conf != NULL && !c->configured)
			log_info("reload configured again carrier=%s", c->code);
		if (conf == NULL && c->configured) {
			log_info("reload removed carrier=%s", c->code);
			dropped++;
		}
		c->configured = conf != NULL;
		if (conf != NULL)
			snprintf(c->name, sizeof c->name, "%s", conf->name);
	}
	srv->cfg = next;
	job->next = NULL;
	log_set_level(next->log_level);
	query_service_reconfigured(&srv->query);
	closed = ingest_reconfigured(srv->ingest);
	revoked = query_auth_recheck(&srv->query);
	counters_reload(&srv->counters, true);
	log_info("reload done file=%s legs=%zu legs_added=%zu carriers=%zu carriers_removed=%zu "
	    "credentials=%zu operators=%zu sessions_closed=%zu tokens_revoked=%zu",
	    next->path[0] ? next->path : "-", next->legs.count, legs_added, next->carriers.count,
	    dropped, next->access.ncreds, next->access.nops, closed, revoked);
	config_release(old);
}

static void
reload_done(struct workq_job *base)
{
	struct reload_job *job = (struct reload_job *)base;
	struct server *srv = job->srv;

	if (srv->stopping) {
		log_info("reload abandoned: the daemon is stopping");
		srv->reloading = false;
		job_discard(job);
		return;
	}
	if (job->failed) {
		char why[600];

		snprintf(why, sizeof why, "%s", job->err);
		job_discard(job);
		reload_failed(srv, why);
		return;
	}
	reload_apply(srv, job);
	job_discard(job);
	reload_end(srv);
}

/* The carriers next configures that this run has never had: new entries
 * with their windows, for the job to register and recover. */
static struct carrier_table *
fresh_carriers(struct server *srv, const struct config *next, char *err, size_t errlen)
{
	struct carrier_table *fresh = calloc(1, sizeof *fresh);

	if (fresh == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < next->carriers.count; i++) {
		const struct carrier_conf *conf = &next->carriers.items[i];
		struct carrier *c;

		if (carrier_find(&srv->carriers, conf->code) != NULL)
			continue;
		if (srv->carriers.count + fresh->count >= CARRIERS_MAX) {
			snprintf(err, errlen, "more than %d carriers over this run; restart to add %s",
			    CARRIERS_MAX, conf->code);
			fresh_free(fresh);
			return NULL;
		}
		carrier_add(fresh, conf->code, conf->name);
		c = &fresh->items[fresh->count - 1];
		/* seq_window needs a restart: the running value */
		if (carrier_init_window(c, (uint64_t)srv->cfg->limits.seq_window) == -1) {
			snprintf(err, errlen, "out of memory");
			fresh_free(fresh);
			return NULL;
		}
	}
	return fresh;
}

void
reload_begin(struct server *srv)
{
	struct reload_job *job;
	struct config *next;
	char err[4096];

	if (srv->stopping) {
		log_info("reload ignored: the daemon is stopping");
		return;
	}
	if (srv->reloading) {
		log_info("reload queued: one is running");
		srv->reload_again = true;
		return;
	}
	srv->reloading = true;
	sd_notify_reloading();
	log_info("reload starting file=%s", srv->cfg->path[0] ? srv->cfg->path : "-");
	err[0] = '\0';
	if ((next = srv->load_config(err, sizeof err)) == NULL) {
		reload_failed(srv, err[0] ? err : "the configuration cannot be loaded");
		return;
	}
	if (reload_reconcile_legs(&srv->cfg->legs, &next->legs, err, sizeof err) == -1) {
		config_release(next);
		reload_failed(srv, err);
		return;
	}
	reload_keep_restart_only(srv->cfg, next);
	if ((job = calloc(1, sizeof *job)) == NULL) {
		config_release(next);
		reload_failed(srv, "out of memory");
		return;
	}
	job->base.run = reload_run;
	job->base.done = reload_done;
	job->srv = srv;
	job->next = next;
	job->first_new_leg = srv->cfg->legs.count;
	if ((job->fresh = fresh_carriers(srv, next, err, sizeof err)) == NULL) {
		job_discard(job);
		reload_failed(srv, err);
		return;
	}
	workq_submit(srv->checkpoints, &job->base);
}
