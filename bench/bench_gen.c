/*
 * bench_gen: writes the loader's data set, a corridor's worth of updates
 * (bench_corridor.c) over the last D days, one update file per carrier
 * (bench_updfile.h) with each carrier's seqs from 1, and DIR/manifest
 * (key=value: the options, the counts, a checksum of every file). The same
 * options give the same files; with --reuse, files made with the same
 * options are kept as they are.
 * usage: bench_gen --out DIR [--updates N] [--days D] [--end YYYY-MM-DD]
 *                  [--seed S] [--dup-permille P] [--retract-permille P]
 *                  [--bad-permille P] [--reuse]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "timeutil.h"

#include "bench_corridor.h"
#include "bench_updfile.h"

/* bump when the files or what bench_corridor.c makes change (a change of the
 * simulator shows in its fingerprint): --reuse then makes them again */
#define MANIFEST_FORMAT 2

struct files {
	struct updfile_writer w[SIM_CARRIERS];
	uint64_t seq[SIM_CARRIERS];
};

static int
emit(void *arg, int carrier, uint8_t flags, const uint8_t *packed, size_t len)
{
	struct files *f = arg;

	return updfile_append(&f->w[carrier], flags, packed, len, ++f->seq[carrier]);
}

/* The line of the manifest that says which options made it. */
static void
params_line(const struct corridor_opts *o, char *buf, size_t len)
{
	snprintf(buf, len, "params=format:%d seed:%llu updates:%llu days:%d end_ms:%lld dup:%u "
	    "retract:%u bad:%u simulator:%016llx", MANIFEST_FORMAT, (unsigned long long)o->seed,
	    (unsigned long long)o->updates, o->days, (long long)o->end_ms, o->dup_pm,
	    o->retract_pm, o->bad_pm, (unsigned long long)corridor_fingerprint(o));
}

/* With --reuse: the summary of a data set made with the same options whose
 * files are all there, or NULL. */
static char *
reusable(const char *dir, const char *params)
{
	char path[4200], line[1024], *summary = NULL;
	int same = 0, files = 0;
	FILE *f;

	snprintf(path, sizeof path, "%s/manifest", dir);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strcmp(line, params) == 0)
			same = 1;
		else if (strncmp(line, "summary=", 8) == 0)
			summary = strdup(line + 8);
	}
	fclose(f);
	for (int c = 0; c < SIM_CARRIERS; c++) {
		struct stat st;

		snprintf(path, sizeof path, "%s/%s.upd", dir, sim_carrier_codes[c]);
		files += stat(path, &st) == 0;
	}
	if (same && files == SIM_CARRIERS && summary != NULL)
		return summary;
	free(summary);
	return NULL;
}

static int
write_manifest(const char *dir, const char *params, const struct corridor_opts *o,
    const struct files *fs, const struct corridor_stats *st, const char *summary)
{
	char path[4200], from[32], to[32];
	FILE *f;
	int rc;

	snprintf(path, sizeof path, "%s/manifest", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	time_format_iso(o->end_ms - (int64_t)o->days * SIM_DAY_MS, from, sizeof from);
	time_format_iso(o->end_ms, to, sizeof to);
	fprintf(f, "%s\nfrom=%s\nto=%s\nfrom_ms=%lld\nto_ms=%lld\ncarriers=", params, from, to,
	    (long long)(o->end_ms - (int64_t)o->days * SIM_DAY_MS), (long long)o->end_ms);
	for (int c = 0; c < SIM_CARRIERS; c++)
		fprintf(f, "%s%s", c ? " " : "", sim_carrier_codes[c]);
	fputc('\n', f);
	for (int c = 0; c < SIM_CARRIERS; c++)
		fprintf(f, "carrier.%s=updates:%llu bad:%llu checksum:%016llx\n",
		    sim_carrier_codes[c], (unsigned long long)fs->w[c].count,
		    (unsigned long long)fs->w[c].bad, (unsigned long long)fs->w[c].checksum);
	for (int l = 0; l < SIM_LEGS; l++)
		fprintf(f, "leg.%s=updates:%llu\n", st->leg_codes[l],
		    (unsigned long long)st->per_leg[l]);
	fprintf(f, "summary=%s\n", summary);
	rc = ferror(f) ? -1 : 0;
	return fclose(f) != 0 ? -1 : rc;
}

static int
parse_u(const char *s, unsigned long long max, unsigned long long *v)
{
	char *end;

	*v = strtoull(s, &end, 10);
	return *s == '\0' || *end != '\0' || *v > max ? -1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: bench_gen --out DIR [--updates N (10000000)] [--days D (30)] "
	    "[--end YYYY-MM-DD (today)] [--seed S (1)] [--dup-permille P (3)] "
	    "[--retract-permille P (2)] [--bad-permille P (1)] [--reuse]\n");
}

static int
parse_opts(int argc, char **argv, struct corridor_opts *o, const char **dir, int *reuse)
{
	static const struct option lo[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "updates", required_argument, NULL, 'n' },
		{ "days", required_argument, NULL, 'd' },
		{ "end", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "dup-permille", required_argument, NULL, 'D' },
		{ "retract-permille", required_argument, NULL, 'R' },
		{ "bad-permille", required_argument, NULL, 'B' },
		{ "reuse", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long v;
	int opt;

	while ((opt = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int bad = 0;

		switch (opt) {
		case 'o': *dir = optarg; break;
		case 'r': *reuse = 1; break;
		case 'e':
			bad = time_parse_iso(optarg, &o->end_ms) == -1;
			break;
		case 'n':
			bad = parse_u(optarg, 1000000000ULL, &v) == -1 || v < 1000;
			o->updates = v;
			break;
		case 'd':
			bad = parse_u(optarg, 3650, &v) == -1 || v < 1;
			o->days = (int)v;
			break;
		case 's':
			bad = parse_u(optarg, UINT64_MAX, &v) == -1;
			o->seed = v;
			break;
		case 'D': case 'R': case 'B':
			bad = parse_u(optarg, 100, &v) == -1;
			*(opt == 'D' ? &o->dup_pm : opt == 'R' ? &o->retract_pm : &o->bad_pm) =
			    (unsigned)v;
			break;
		default:
			usage();
			return -1;
		}
		if (bad) {
			fprintf(stderr, "bench_gen: bad value \"%s\"\n", optarg);
			usage();
			return -1;
		}
	}
	if (*dir == NULL || optind != argc) {
		usage();
		return -1;
	}
	if (o->end_ms > time_now_ms()) {
		fprintf(stderr, "bench_gen: --end must not lie in the future: corridord refuses "
		    "actual events from the future\n");
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct corridor_opts o = { 1, 10000000, 30, 0, 3, 2, 1 };
	struct corridor_stats st;
	struct files *fs;
	const char *dir = NULL;
	char params[512], summary[1024], path[4200], err[256], from[32], to[32], *old;
	int64_t t0 = time_mono_ms();
	uint64_t sum = 0xcbf29ce484222325ULL;
	int reuse = 0, rc = 0;

	/* by default the window ends at the start of today (UTC) */
	o.end_ms = time_now_ms() / SIM_DAY_MS * SIM_DAY_MS;
	if (parse_opts(argc, argv, &o, &dir, &reuse) == -1)
		return 2;
	params_line(&o, params, sizeof params);
	if (reuse && (old = reusable(dir, params)) != NULL) {
		printf("%s reused=1\n", old);
		free(old);
		return 0;
	}
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		fprintf(stderr, "bench_gen: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof path, "%s/manifest", dir);
	unlink(path);
	if ((fs = calloc(1, sizeof *fs)) == NULL)
		return 1;
	for (int c = 0; c < SIM_CARRIERS && rc == 0; c++) {
		snprintf(path, sizeof path, "%s/%s.upd", dir, sim_carrier_codes[c]);
		if (updfile_create(&fs->w[c], path) == -1) {
			fprintf(stderr, "bench_gen: %s: %s\n", path, strerror(errno));
			rc = 1;
		}
	}
	if (rc == 0 && corridor_generate(&o, emit, fs, &st, err, sizeof err) == -1) {
		fprintf(stderr, "bench_gen: %s\n", err);
		rc = 1;
	}
	for (int c = 0; c < SIM_CARRIERS; c++) {
		if (updfile_close(&fs->w[c]) == -1 && rc == 0) {
			fprintf(stderr, "bench_gen: cannot write %s/%s.upd: %s\n", dir,
			    sim_carrier_codes[c], strerror(errno));
			rc = 1;
		}
		sum = updfile_fnv(sum, &fs->w[c].checksum, sizeof fs->w[c].checksum);
	}
	if (rc == 0) {
		time_format_iso(o.end_ms - (int64_t)o.days * SIM_DAY_MS, from, sizeof from);
		time_format_iso(o.end_ms, to, sizeof to);
		snprintf(summary, sizeof summary, "generate: updates=%llu bad=%llu duplicates=%llu "
		    "retractions=%llu late=%llu plans=%llu estimates=%llu holds=%llu delayed=%llu "
		    "trains=%llu trains_per_day=%.1f containers=%llu days=%d from=%s to=%s seed=%llu "
		    "checksum=%016llx seconds=%.1f", (unsigned long long)st.updates,
		    (unsigned long long)st.bad, (unsigned long long)st.duplicates,
		    (unsigned long long)st.retractions, (unsigned long long)st.late,
		    (unsigned long long)st.plans, (unsigned long long)st.estimates,
		    (unsigned long long)st.holds, (unsigned long long)st.delayed,
		    (unsigned long long)st.trains, st.trains_per_day,
		    (unsigned long long)st.containers, o.days, from, to,
		    (unsigned long long)o.seed, (unsigned long long)sum,
		    (double)(time_mono_ms() - t0) / 1000.0);
		if (write_manifest(dir, params, &o, fs, &st, summary) == -1) {
			fprintf(stderr, "bench_gen: cannot write %s/manifest\n", dir);
			rc = 1;
		} else
			printf("%s\n", summary);
	}
	free(fs);
	return rc;
}
