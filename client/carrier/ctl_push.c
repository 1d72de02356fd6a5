/*
 * `corridorctl push`: sends a file of shipment updates as one carrier.
 * Fills in what the file leaves out (carrier, seq from the Welcome's mark,
 * message_id), then lets a carrier session deliver them exactly once.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "carrier_cmds.h"
#include "carrier_session.h"
#include "ctl.h"
#include "log.h"
#include "timeutil.h"
#include "update_io.h"

static int
parse_count(const char *opt, const char *s, long min, long *out)
{
	char *end;

	*out = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || *out < min) {
		fprintf(stderr, "corridorctl: %s wants a number >= %ld\n", opt, min);
		return -1;
	}
	return 0;
}

static int
by_seq(const void *a, const void *b)
{
	const Corridor__ShipmentUpdate *x = *(Corridor__ShipmentUpdate *const *)a;
	const Corridor__ShipmentUpdate *y = *(Corridor__ShipmentUpdate *const *)b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* carrier, seq and message_id where the file leaves them out; -1 on a clash. */
static int
complete_updates(struct updvec *uv, const char *carrier, uint64_t acked)
{
	uint64_t next = acked + 1;
	char id[96];

	for (size_t i = 0; i < uv->n; i++) {
		Corridor__ShipmentUpdate *u = uv->v[i];

		if (!u->has_seq) {
			u->has_seq = 1;
			u->seq = next;
		}
		if (u->seq >= next)
			next = u->seq + 1;
		if (u->carrier == NULL && update_set_string(&u->carrier, carrier) == -1)
			return -1;
		snprintf(id, sizeof id, "%s-%llu", carrier, (unsigned long long)u->seq);
		if (u->message_id == NULL && update_set_string(&u->message_id, id) == -1)
			return -1;
	}
	qsort(uv->v, uv->n, sizeof *uv->v, by_seq);
	next = acked + 1;
	for (size_t i = 0; i < uv->n; i++) {
		uint64_t seq = uv->v[i]->seq;

		if (seq > acked && seq != next) {
			/* the daemon's mark could never pass a hole or a double */
			fprintf(stderr, "corridorctl: push: seq %llu %s in the file; after "
			    "the acknowledged %llu the file must go on without gaps\n",
			    (unsigned long long)(seq < next ? seq : next),
			    seq < next ? "appears twice" : "is missing", (unsigned long long)acked);
			return -1;
		}
		if (seq > acked)
			next++;
	}
	return 0;
}

static int
push_run(struct cs_opts *o, const char *path, enum upd_format fmt)
{
	struct updvec uv = { 0 };
	struct csession *cs;
	char err[512];
	int64_t start = time_mono_ms();
	int rc;

	if (updfile_read(path, fmt, &uv, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: push: %s: %s\n", path, err);
		updvec_free(&uv);
		return 1;
	}
	if ((cs = csession_new(o)) == NULL || csession_open(cs, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: push: %s\n", cs ? err : "out of memory");
		csession_free(cs);
		updvec_free(&uv);
		return 1;
	}
	fprintf(stderr, "push: %zu updates read from %s, carrier %s acked_seq %llu\n", uv.n,
	    path, o->carrier, (unsigned long long)csession_acked_seq(cs));
	if (complete_updates(&uv, o->carrier, csession_acked_seq(cs)) == -1) {
		csession_free(cs);
		updvec_free(&uv);
		return 1;
	}
	for (size_t i = 0; i < uv.n; i++) {
		csession_queue(cs, uv.v[i], false);	/* takes it over */
		uv.v[i] = NULL;
	}
	uv.n = 0;
	updvec_free(&uv);
	rc = csession_run_all(&cs, 1, "push");
	csession_summary(stdout, &cs, 1, time_mono_ms() - start);
	rc = rc == -1 ? 1 : csession_stats(cs)->rejected > 0 ? 3 : 0;
	csession_free(cs);
	return rc;
}

int
cmd_push(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "carrier", required_argument, NULL, 'c' },
		{ "credential", required_argument, NULL, 'k' },
		{ "credential-file", required_argument, NULL, 'K' },
		{ "batch", required_argument, NULL, 'b' },
		{ "window", required_argument, NULL, 'w' },
		{ "retries", required_argument, NULL, 'r' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct cs_opts o = { c->host, c->port, NULL, NULL, 500, 0, 20, NULL, &c->tls };
	static char secret[4200];
	const char *format = NULL, *path, *given = NULL, *file = NULL;
	char err[512];
	long v;
	int ch;

	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': o.carrier = optarg; break;
		case 'k': given = optarg; break;
		case 'K': file = optarg; break;
		case 'f': format = optarg; break;
		case 'b':
			if (parse_count("--batch", optarg, 1, &v) == -1)
				return 64;
			o.batch = (size_t)v;
			break;
		case 'w':
			if (parse_count("--window", optarg, 1, &v) == -1)
				return 64;
			o.window = (size_t)v;
			break;
		case 'r':
			if (parse_count("--retries", optarg, 0, &v) == -1)
				return 64;
			o.retries = (int)v;
			break;
		default:
			return 64;
		}
	}
	if (o.carrier == NULL || argc - optind != 1) {
		fprintf(stderr, "corridorctl: push: --carrier CODE and one FILE (or -) are "
		    "needed (see --help)\n");
		return 64;
	}
	path = argv[optind];
	o.credential = ctl_carrier_credential(given, file, o.carrier, secret, sizeof secret, err,
	    sizeof err);
	if (err[0] != '\0') {
		fprintf(stderr, "corridorctl: push: credential: %s\n", err);
		return 64;
	}
	if (format != NULL && strcmp(format, "csv") != 0 && strcmp(format, "jsonl") != 0) {
		fprintf(stderr, "corridorctl: push: --format is csv or jsonl\n");
		return 64;
	}
	if (format == NULL)
		format = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".csv") == 0 ?
		    "csv" : "jsonl";
	return push_run(&o, path, strcmp(format, "csv") == 0 ? UPD_CSV : UPD_JSONL);
}
