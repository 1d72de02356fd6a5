/*
 * `corridorctl simulate`: block trains along the Middle Corridor, reported
 * by each carrier in its own concurrent session (or written as JSON lines,
 * one file per carrier, for `push`). A few updates are bad on purpose and
 * must come back rejected; everything else must be acknowledged.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "carrier_cmds.h"
#include "carrier_session.h"
#include "ctl.h"
#include "log.h"
#include "sim.h"
#include "timeutil.h"
#include "update_io.h"

struct sim_opts {
	int days;
	int64_t end_ms;
	uint64_t seed;
	int per_day;
	const char *out;
	const char *credential;		/* --credential: one secret for every carrier */
	const char *credential_file;	/* --credential-file: per carrier */
	int retries;
};

static const char *const unknown_leg = "KZ-RAIL-XXX-AKT";

/* About 0.5% of the container events get a broken twin the daemon must refuse. */
static int
add_bad(struct sim_ctx *x)
{
	size_t n = x->out.n;

	for (size_t i = 0; i < n; i++) {
		struct sim_update *s = x->out.v[i], *b;

		if (s->u.container == NULL || s->u.classifier != CORRIDOR__CLASSIFIER__ACT ||
		    sim_unit(x) >= 0.005)
			continue;
		if ((b = sim_update_clone(s)) == NULL || sim_vec_push(&x->out, b) == -1) {
			free(b);
			return -1;
		}
		b->bad = 1;
		b->order = x->order++;
		switch (sim_rand(x) % 3) {
		case 0:
			b->container[10] = (char)('0' + (b->container[10] - '0' + 1) % 10);
			break;
		case 1:
			b->u.leg = (char *)(uintptr_t)unknown_leg;
			break;
		default:
			b->u.event_time_ms = x->future_ms;
			break;
		}
	}
	return 0;
}

static int
by_send_time(const void *a, const void *b)
{
	const struct sim_update *x = *(struct sim_update *const *)a;
	const struct sim_update *y = *(struct sim_update *const *)b;

	if (x->send_ms != y->send_ms)
		return x->send_ms < y->send_ms ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
generate(struct sim_ctx *x, const struct sim_opts *o)
{
	int64_t horizon = ((int64_t)o->days + 40) * SIM_DAY_MS;
	int64_t step = SIM_DAY_MS / o->per_day, first = x->end_ms - horizon;
	struct sim_train t;
	struct progress pr;
	uint32_t k = 0;

	progress_init(&pr);
	for (int64_t t0 = first; t0 <= x->end_ms; t0 += step, k++) {
		int64_t jitter = (int64_t)(sim_uniform(x, -0.3, 0.3) * (double)step);

		sim_train_make(x, &t, k);
		if (t0 + jitter <= x->end_ms && sim_train_run(x, &t, t0 + jitter) == -1)
			return -1;
		progress_show(&pr, 0, "simulate: generating, %zu trains, %zu updates",
		    x->trains, x->out.n);
	}
	progress_done(&pr);
	if (add_bad(x) == -1)
		return -1;
	qsort(x->out.v, x->out.n, sizeof *x->out.v, by_send_time);
	fprintf(stderr, "simulate: %zu trains with %zu containers active, %zu updates\n",
	    x->trains, x->boxes, x->out.n);
	return 0;
}

static int
write_files(struct sim_ctx *x, const char *path)
{
	size_t plen = strlen(path);
	char name[4096];
	struct progress pr;
	size_t done = 0;

	if (plen > 6 && strcmp(path + plen - 6, ".jsonl") == 0)
		plen -= 6;
	progress_init(&pr);
	for (int c = 0; c < SIM_CARRIERS; c++) {
		FILE *f;
		size_t cnt = 0;

		snprintf(name, sizeof name, "%.*s.%s.jsonl", (int)plen, path, sim_carrier_codes[c]);
		if ((f = fopen(name, "w")) == NULL) {
			log_warn("cannot write file=%s", name);
			return 1;
		}
		for (size_t i = 0; i < x->out.n; i++) {
			json_object *o;

			if (x->out.v[i]->carrier != c)
				continue;
			o = update_to_json(&x->out.v[i]->u);
			fprintf(f, "%s\n", json_object_to_json_string_ext(o,
			    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(o);
			cnt++;
			progress_show(&pr, 0, "simulate: writing, %zu of %zu updates", ++done,
			    x->out.n);
		}
		if (fclose(f) != 0) {
			log_warn("cannot write file=%s", name);
			return 1;
		}
		printf("%s: %zu updates\n", name, cnt);
	}
	progress_done(&pr);
	return 0;
}

/* Opens one session per carrier that has updates and queues them in order. */
static int
sessions_start(struct sim_ctx *x, struct ctl *c, const struct sim_opts *o,
    struct csession **cs, size_t *ncs)
{
	static char secrets[SIM_CARRIERS][4200];	/* live as long as the sessions */
	char err[512];

	*ncs = 0;
	for (int k = 0; k < SIM_CARRIERS; k++) {
		struct cs_opts co = { c->host, c->port, sim_carrier_codes[k], NULL,
		    500, 0, o->retries, sim_update_free, &c->tls };
		struct csession *s;
		uint64_t seq;
		size_t n = 0;

		for (size_t i = 0; i < x->out.n; i++)
			n += x->out.v[i] != NULL && x->out.v[i]->carrier == k;
		if (n == 0)
			continue;
		co.credential = ctl_carrier_credential(o->credential, o->credential_file, co.carrier,
		    secrets[k], sizeof secrets[k], err, sizeof err);
		if (err[0] != '\0') {
			fprintf(stderr, "corridorctl: simulate: %s: credential: %s\n", co.carrier, err);
			return -1;
		}
		if ((s = csession_new(&co)) == NULL)
			return -1;
		cs[(*ncs)++] = s;
		if (csession_open(s, err, sizeof err) == -1) {
			fprintf(stderr, "corridorctl: simulate: %s: %s\n", co.carrier, err);
			return -1;
		}
		seq = csession_acked_seq(s);
		for (size_t i = 0; i < x->out.n; i++) {
			struct sim_update *u = x->out.v[i];

			if (u == NULL || u->carrier != k)
				continue;
			u->u.has_seq = 1;
			u->u.seq = ++seq;
			snprintf(u->message_id, sizeof u->message_id, "%s-%llu", co.carrier,
			    (unsigned long long)seq);
			u->u.message_id = u->message_id;
			x->out.v[i] = NULL;
			if (csession_queue(s, &u->u, u->bad) == -1) {
				free(u);
				return -1;
			}
		}
	}
	return 0;
}

static int
push_all(struct sim_ctx *x, struct ctl *c, const struct sim_opts *o)
{
	struct csession *cs[SIM_CARRIERS];
	size_t ncs = 0;
	int64_t start = time_mono_ms();
	int rc = 0;

	if (sessions_start(x, c, o, cs, &ncs) == -1)
		rc = 1;
	if (rc == 0 && csession_run_all(cs, ncs, "simulate") == -1)
		rc = 1;
	if (ncs > 0)
		csession_summary(stdout, cs, ncs, time_mono_ms() - start);
	for (size_t i = 0; i < ncs; i++) {
		const struct cs_stats *st = csession_stats(cs[i]);

		if (st->rejected != st->rejected_expected) {
			fprintf(stderr, "corridorctl: simulate: %s: %llu good updates were "
			    "rejected\n", csession_carrier(cs[i]),
			    (unsigned long long)(st->rejected - st->rejected_expected));
			rc = 1;
		}
		csession_free(cs[i]);
	}
	return rc;
}

static int
parse_opts(int argc, char **argv, struct sim_opts *o)
{
	static const struct option opts[] = {
		{ "days", required_argument, NULL, 'd' },
		{ "end", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "trains-per-day", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "credential", required_argument, NULL, 'k' },
		{ "credential-file", required_argument, NULL, 'K' },
		{ "retries", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 'o' || ch == 'k' || ch == 'K') {
			*(ch == 'o' ? &o->out : ch == 'k' ? &o->credential : &o->credential_file) = optarg;
			continue;
		}
		if (ch == 'e') {
			if (time_parse_iso(optarg, &o->end_ms) == -1) {
				fprintf(stderr, "corridorctl: simulate: --end: bad time %s\n", optarg);
				return -1;
			}
			continue;
		}
		if (ch == '?')
			return -1;
		v = strtol(optarg, &end, 10);
		if (*optarg == '\0' || *end != '\0' || v < (ch == 's' || ch == 'r' ? 0 : 1) ||
		    v > 100000) {
			fprintf(stderr, "corridorctl: simulate: bad number %s\n", optarg);
			return -1;
		}
		if (ch == 'd')
			o->days = (int)v;
		else if (ch == 's')
			o->seed = (uint64_t)v;
		else if (ch == 't')
			o->per_day = (int)v;
		else
			o->retries = (int)v;
	}
	if (optind != argc) {
		fprintf(stderr, "corridorctl: simulate: unexpected argument %s\n", argv[optind]);
		return -1;
	}
	return 0;
}

int
cmd_simulate(struct ctl *c, int argc, char **argv)
{
	struct sim_opts o = { 1, time_now_ms(), 1, 8, NULL, NULL, NULL, 20 };
	struct sim_ctx *x;
	char err[256];
	int rc;

	if (parse_opts(argc, argv, &o) == -1)
		return 64;
	if ((x = malloc(sizeof *x)) == NULL || sim_init(x, o.seed, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: simulate: %s\n", x ? err : "out of memory");
		free(x);
		return 1;
	}
	x->end_ms = o.end_ms;
	x->window_start_ms = o.end_ms - (int64_t)o.days * SIM_DAY_MS;
	x->future_ms = (o.end_ms > time_now_ms() ? o.end_ms : time_now_ms()) + 2 * SIM_DAY_MS;
	if (generate(x, &o) == -1) {
		fprintf(stderr, "corridorctl: simulate: out of memory\n");
		rc = 1;
	} else
		rc = o.out ? write_files(x, o.out) : push_all(x, c, &o);
	sim_vec_free(&x->out);
	free(x);
	return rc;
}
