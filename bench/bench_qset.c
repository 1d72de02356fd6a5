/* The query benchmark's requests; see bench_qset.h. */
#include "bench_qset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "legs.h"
#include "timeutil.h"

#define UNITS_MAX 24
#define UNITS_PER_LEG 2
#define COMMANDS_MAX 64
#define DAY_MS 86400000LL

struct offer {
	char commands[COMMANDS_MAX][32];
	size_t ncommands;
	char legs[LEGS_MAX][LEG_CODE_MAX];
	size_t nlegs;
	char units[UNITS_MAX][64];
	size_t nunits;
};

static int
selected(const char *only, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = only; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p = comma ? comma + 1 : NULL;
	}
	return only == NULL;
}

/* Each name of only must be a template's. */
static int
check_only(const struct qset *qs, const char *only, char *err, size_t errlen)
{
	for (const char *p = only; p != NULL && *p != '\0';) {
		const char *comma = strchr(p, ',');
		int len = comma ? (int)(comma - p) : (int)strlen(p);
		int found = 0;

		for (size_t t = 0; t < qs->ntmpl; t++)
			found |= (int)strlen(qs->tmpl[t].name) == len &&
			    strncmp(qs->tmpl[t].name, p, (size_t)len) == 0;
		if (!found) {
			snprintf(err, errlen, "--only: no template named %.*s", len, p);
			return -1;
		}
		p = comma ? comma + 1 : NULL;
	}
	return 0;
}

int
qset_load(struct qset *qs, const char *path, const char *only, char *err, size_t errlen)
{
	char line[QSET_TEXT_MAX + 64];
	size_t cap = 0, lineno = 0;
	FILE *f;

	memset(qs, 0, sizeof *qs);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "cannot read the templates %s", path);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *tab;
		struct qtmpl *t;

		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		tab = strchr(line, '\t');
		if (tab == NULL || tab - line >= (long)sizeof t->name || strlen(tab + 1) == 0 ||
		    ctl_grow(&qs->tmpl, &cap, qs->ntmpl, sizeof *qs->tmpl) == -1) {
			snprintf(err, errlen, "%s:%zu: want name<TAB>request", path, lineno);
			fclose(f);
			return -1;
		}
		t = &qs->tmpl[qs->ntmpl++];
		memset(t, 0, sizeof *t);
		*tab = '\0';
		snprintf(t->name, sizeof t->name, "%.47s", line);
		snprintf(t->text, sizeof t->text, "%.511s", tab + 1);
		snprintf(t->command, sizeof t->command, "%.*s", (int)strcspn(tab + 1, " "), tab + 1);
		t->selected = selected(only, t->name);
	}
	fclose(f);
	return check_only(qs, only, err, errlen);
}

int
qset_window(struct qset *qs, const char *from, const char *to, char *err, size_t errlen)
{
	int64_t ms;

	if (time_parse_iso(to, &ms) == -1) {
		snprintf(err, errlen, "bad time %s", to);
		return -1;
	}
	snprintf(qs->from, sizeof qs->from, "%s", from);
	snprintf(qs->to, sizeof qs->to, "%s", to);
	time_format_iso(ms - DAY_MS, qs->day, sizeof qs->day);
	return 0;
}

int
qset_window_from_data(struct qset *qs, const char *dir, char *err, size_t errlen)
{
	char path[4200], line[1024], from[40] = "", to[40] = "";
	FILE *f;

	snprintf(path, sizeof path, "%s/manifest", dir);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%.300s/manifest: cannot read it", dir);
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "from=", 5) == 0)
			snprintf(from, sizeof from, "%.39s", line + 5);
		else if (strncmp(line, "to=", 3) == 0)
			snprintf(to, sizeof to, "%.39s", line + 3);
	}
	fclose(f);
	if (from[0] == '\0' || to[0] == '\0') {
		snprintf(err, errlen, "%.300s/manifest has no window (from=, to=)", dir);
		return -1;
	}
	return qset_window(qs, from, to, err, errlen);
}

/* The first column of each row of an answer, into dst (at most max). */
static size_t
first_column(const struct bench_answer *a, char *dst, size_t width, size_t max)
{
	size_t n = 0;

	for (const char *p = a->rows; p != NULL && *p != '\0' && n < max; n++) {
		size_t len = strcspn(p, "\t\n");

		snprintf(dst + n * width, width, "%.*s", (int)len, p);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	return n;
}

static int
ask(struct bench_qconn *q, const char *line, struct bench_answer *a, char *err, size_t errlen)
{
	if (bench_query_run(q, line, 1, a, err, errlen) == -1)
		return -1;
	if (!a->ok) {
		snprintf(err, errlen, "%s -> ERR %s", line, a->err);
		return -1;
	}
	return 0;
}

static int
discover(const struct bench_endpoint *ep, struct offer *of, char *err, size_t errlen)
{
	struct bench_qconn q;
	struct bench_answer a;
	int rc = -1;

	if (bench_qconn_open(&q, ep, err, errlen) == -1)
		return -1;
	if (ask(&q, "HELP", &a, err, errlen) == -1)
		goto done;
	of->ncommands = first_column(&a, of->commands[0], sizeof of->commands[0], COMMANDS_MAX);
	free(a.rows);
	if (ask(&q, "LEGS", &a, err, errlen) == -1)
		goto done;
	of->nlegs = first_column(&a, of->legs[0], sizeof of->legs[0], LEGS_MAX);
	free(a.rows);
	for (size_t i = 0; i < of->ncommands; i++) {
		if (strcmp(of->commands[i], "INTRANSIT") != 0)
			continue;
		for (size_t l = 0; l < of->nlegs && of->nunits < UNITS_MAX; l++) {
			char line[128];

			snprintf(line, sizeof line, "INTRANSIT %s", of->legs[l]);
			if (ask(&q, line, &a, err, errlen) == -1)
				goto done;
			of->nunits += first_column(&a, of->units[of->nunits], sizeof of->units[0],
			    UNITS_PER_LEG < UNITS_MAX - of->nunits ? UNITS_PER_LEG :
			    UNITS_MAX - of->nunits);
			free(a.rows);
		}
	}
	rc = 0;
done:
	bench_qconn_close(&q);
	return rc;
}

/* text with its placeholders replaced; -1 for an unknown one or no room. */
static int
expand(const struct qset *qs, const char *text, const char *leg, const char *unit,
    char *out, size_t cap)
{
	size_t n = 0;

	for (const char *p = text; *p != '\0';) {
		const char *v = NULL;
		size_t skip = 0;

		if (*p == '{') {
			static const char *const names[] = { "{leg}", "{from}", "{to}", "{day}",
			    "{unit}" };
			const char *vals[] = { leg, qs->from, qs->to, qs->day, unit };

			for (size_t i = 0; i < 5 && v == NULL; i++)
				if (strncmp(p, names[i], strlen(names[i])) == 0) {
					v = vals[i];
					skip = strlen(names[i]);
				}
			if (v == NULL)
				return -1;
		}
		if (v == NULL) {
			v = p;
			skip = 1;
		}
		if (n + (v == p ? 1 : strlen(v)) >= cap)
			return -1;
		n += (size_t)snprintf(out + n, cap - n, "%.*s", v == p ? 1 : (int)strlen(v), v);
		p += skip;
	}
	return 0;
}

static int
add_request(struct qset *qs, size_t t, const char *leg, const char *unit, char *err,
    size_t errlen)
{
	struct qreq *r;

	if (ctl_grow(&qs->req, &qs->cap, qs->nreq, sizeof *qs->req) == -1) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = &qs->req[qs->nreq];
	r->tmpl = t;
	if (expand(qs, qs->tmpl[t].text, leg, unit, r->line, sizeof r->line) == -1) {
		snprintf(err, errlen, "%s: unknown placeholder or too long: %s", qs->tmpl[t].name,
		    qs->tmpl[t].text);
		return -1;
	}
	qs->nreq++;
	qs->tmpl[t].nreq++;
	return 0;
}

static int
offered(const struct offer *of, const char *command)
{
	for (size_t i = 0; i < of->ncommands; i++)
		if (strcasecmp(of->commands[i], command) == 0)
			return 1;
	return 0;
}

int
qset_expand(struct qset *qs, const struct bench_endpoint *ep, char *err, size_t errlen)
{
	struct offer *of = calloc(1, sizeof *of);
	int rc = -1;

	if (of == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (discover(ep, of, err, errlen) == -1)
		goto done;
	for (size_t t = 0; t < qs->ntmpl; t++) {
		struct qtmpl *tm = &qs->tmpl[t];
		int per_leg = strstr(tm->text, "{leg}") != NULL;
		int per_unit = strstr(tm->text, "{unit}") != NULL;

		tm->first = qs->nreq;
		if (!tm->selected)
			continue;
		if (!offered(of, tm->command)) {
			fprintf(stderr, "bench_query: %s: skipped, the daemon has no %s\n", tm->name,
			    tm->command);
			continue;
		}
		if (per_unit && of->nunits == 0)
			fprintf(stderr, "bench_query: %s: skipped, no unit is in transit\n",
			    tm->name);
		for (size_t l = 0; l < (per_leg ? of->nlegs : 1); l++)
			for (size_t u = 0; u < (per_unit ? of->nunits : 1); u++)
				if (add_request(qs, t, per_leg ? of->legs[l] : "",
				    per_unit ? of->units[u] : "", err, errlen) == -1)
					goto done;
	}
	rc = 0;
done:
	free(of);
	return rc;
}

void
qset_free(struct qset *qs)
{
	free(qs->tmpl);
	free(qs->req);
	memset(qs, 0, sizeof *qs);
}
