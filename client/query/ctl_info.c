/*
 * corridorctl info: scrapes corridord's /metrics (HTTP/1.0 over a plain
 * socket) and summarises it for a person: totals, rejections by reason,
 * backlog, commit latency estimated from the histogram, one row per carrier.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl.h"
#include "query_cmds.h"
#include "watch.h"

#define INFO_TIMEOUT_MS 5000
#define INFO_MAX_BYTES (8u << 20)	/* a scrape of 1,024 carriers is ~1 MiB */

struct sample {
	char *name;
	char *labels;	/* inside the braces, "" if none */
	double value;
};

struct scrape {
	char *text;
	struct sample *s;
	size_t n, cap;
};

/* GET path into sc->text (the body); 0 or -1 with err filled. */
static int
info_fetch(struct ctl *c, const char *path, struct scrape *sc, char *err, size_t errlen)
{
	struct timeval tv = { INFO_TIMEOUT_MS / 1000, 0 };
	char req[512], *buf, *body;
	size_t len = 0, cap = 65536;
	ssize_t got;
	int fd, status;

	if ((fd = net_connect(c->host, c->port, INFO_TIMEOUT_MS, err, errlen)) == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\n\r\n",
	    path, c->host);
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
	    (buf = malloc(cap)) == NULL) {
		snprintf(err, errlen, "cannot send the request: %s", strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		if (len + 1 == cap) {
			char *nb;

			if (cap >= INFO_MAX_BYTES || (nb = realloc(buf, cap * 2)) == NULL) {
				snprintf(err, errlen, "answer larger than %u bytes", INFO_MAX_BYTES);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		if ((got = recv(fd, buf + len, cap - 1 - len, 0)) == 0)
			break;
		if (got < 0) {
			snprintf(err, errlen, "reading the answer: %s", strerror(errno));
			goto fail;
		}
		len += (size_t)got;
	}
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || (body = strstr(buf, "\r\n\r\n")) == NULL) {
		snprintf(err, errlen, "not an HTTP answer from %s:%s", c->host, c->port);
		free(buf);
		return -1;
	}
	if (status != 200) {
		snprintf(err, errlen, "%s answered HTTP %d", path, status);
		free(buf);
		return -1;
	}
	memmove(buf, body + 4, strlen(body + 4) + 1);
	sc->text = buf;
	return 0;
fail:
	free(buf);
	close(fd);
	return -1;
}

/* Splits the text format into samples, in place. */
static int
info_parse(struct scrape *sc)
{
	char *line, *next, *sp, *brace;

	for (line = sc->text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (line[0] == '#' || line[0] == '\0' || (sp = strrchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		if (ctl_grow(&sc->s, &sc->cap, sc->n, sizeof *sc->s) == -1)
			return -1;
		sc->s[sc->n].name = line;
		sc->s[sc->n].labels = "";
		if ((brace = strchr(line, '{')) != NULL) {
			*brace = '\0';
			sc->s[sc->n].labels = brace + 1;
			if ((brace = strrchr(brace + 1, '}')) != NULL)
				*brace = '\0';
		}
		sc->s[sc->n].value = strtod(sp + 1, NULL);
		sc->n++;
	}
	return 0;
}

/* The value of label key in a sample's labels, into buf ("" if absent). */
static const char *
info_label(const struct sample *s, const char *key, char *buf, size_t len)
{
	size_t kl = strlen(key), o = 0;
	const char *p = s->labels;

	buf[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if ((p == s->labels || p[-1] == ',') && strncmp(p + kl, "=\"", 2) == 0) {
			for (p += kl + 2; *p != '\0' && *p != '"' && o + 1 < len; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				buf[o++] = *p;
			}
			buf[o] = '\0';
			break;
		}
		p += kl;
	}
	return buf;
}

/* The sample name{key="val"} (key NULL: the unlabelled one); 0 if missing. */
static double
info_get(const struct scrape *sc, const char *name, const char *key, const char *val)
{
	char buf[256];

	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, name) == 0 && (key == NULL ? sc->s[i].labels[0] == '\0' :
		    strcmp(info_label(&sc->s[i], key, buf, sizeof buf), val) == 0))
			return sc->s[i].value;
	return 0;
}

/* Every sample of name added up: the total of a family split by a label
 * (corridor_connections_refused_total{reason}), or the one unlabelled value. */
static double
info_sum(const struct scrape *sc, const char *name)
{
	double sum = 0;

	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, name) == 0)
			sum += sc->s[i].value;
	return sum;
}

/* The q-quantile of corridor_commit_seconds, interpolated linearly within
 * its bucket as Prometheus does; NAN with no transactions. */
static double
info_quantile(const struct scrape *sc, double q)
{
	double count = info_get(sc, "corridor_commit_seconds_count", NULL, NULL);
	double prev_le = 0, prev_cum = 0, rank = q * count;
	char le[64];

	if (count <= 0)
		return NAN;
	for (size_t i = 0; i < sc->n; i++) {
		double upper, cum = sc->s[i].value;

		if (strcmp(sc->s[i].name, "corridor_commit_seconds_bucket") != 0)
			continue;
		info_label(&sc->s[i], "le", le, sizeof le);
		if (cum < rank) {
			prev_cum = cum;
			prev_le = strcmp(le, "+Inf") == 0 ? prev_le : strtod(le, NULL);
			continue;
		}
		if (strcmp(le, "+Inf") == 0)
			return prev_le;		/* above the highest bound: say that bound */
		upper = strtod(le, NULL);
		return cum == prev_cum ? upper :
		    prev_le + (upper - prev_le) * (rank - prev_cum) / (cum - prev_cum);
	}
	return NAN;
}

static const char *const carrier_cols[] = { "received", "stored", "duplicates", "rejected",
    "acked_seq" };
static const char *const carrier_names[] = { "corridor_carrier_updates_received_total",
    "corridor_carrier_updates_stored_total", "corridor_carrier_updates_duplicate_total",
    "corridor_carrier_updates_rejected_total", "corridor_carrier_acked_seq" };

static const struct {
	const char *key, *metric, *label;
} totals[] = {
	{ "received", "corridor_updates_received_total", "updates received" },
	{ "stored", "corridor_updates_stored_total", "updates stored" },
	{ "duplicates", "corridor_updates_duplicate_total", "duplicates" },
	{ "busy_batches", "corridor_busy_batches_total", "busy batches" },
	{ "backlog", "corridor_writer_backlog", "writer backlog" },
	{ "connections", "corridor_connections", "connections" },
	{ "connections_refused", "corridor_connections_refused_total", "connections refused" },
	{ "writer_transactions", "corridor_writer_batches_total", "writer transactions" },
	{ "writer_failures", "corridor_writer_failures_total", "writer failures" },
	{ "queries", "corridor_queries_total", "queries answered" },
};
#define NTOTALS (sizeof totals / sizeof totals[0])

static json_object *
info_json(const struct scrape *sc)
{
	json_object *o = json_object_new_object(), *rej = json_object_new_object();
	json_object *lat = json_object_new_object(), *arr = json_object_new_array();
	char buf[256];
	double p;

	for (size_t i = 0; i < NTOTALS; i++)
		json_object_object_add(o, totals[i].key,
		    json_object_new_int64((int64_t)info_sum(sc, totals[i].metric)));
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "corridor_updates_rejected_total") == 0)
			json_object_object_add(rej, info_label(&sc->s[i], "reason", buf, sizeof buf),
			    json_object_new_int64((int64_t)sc->s[i].value));
	json_object_object_add(o, "rejected", rej);
	rej = json_object_new_object();
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "corridor_connections_refused_total") == 0)
			json_object_object_add(rej, info_label(&sc->s[i], "reason", buf, sizeof buf),
			    json_object_new_int64((int64_t)sc->s[i].value));
	json_object_object_add(o, "refused", rej);
	json_object_object_add(lat, "transactions",
	    json_object_new_int64((int64_t)info_get(sc, "corridor_commit_seconds_count", NULL,
	    NULL)));
	p = info_quantile(sc, 0.5);
	json_object_object_add(lat, "p50_s", isnan(p) ? NULL : json_object_new_double(p));
	p = info_quantile(sc, 0.99);
	json_object_object_add(lat, "p99_s", isnan(p) ? NULL : json_object_new_double(p));
	json_object_object_add(o, "commit_latency", lat);
	for (size_t i = 0; i < sc->n; i++) {
		json_object *row;

		if (strcmp(sc->s[i].name, carrier_names[0]) != 0)
			continue;
		info_label(&sc->s[i], "carrier", buf, sizeof buf);
		row = json_object_new_object();
		json_object_object_add(row, "carrier", json_object_new_string(buf));
		for (size_t k = 0; k < sizeof carrier_cols / sizeof carrier_cols[0]; k++)
			json_object_object_add(row, carrier_cols[k], json_object_new_int64(
			    (int64_t)info_get(sc, carrier_names[k], "carrier", buf)));
		json_object_array_add(arr, row);
	}
	json_object_object_add(o, "carriers", arr);
	return o;
}

static void
info_table(const struct scrape *sc, FILE *out)
{
	char buf[256];
	double p50 = info_quantile(sc, 0.5), p99 = info_quantile(sc, 0.99);

	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "corridor_build_info") == 0)
			fprintf(out, "corridord %s (libevent %s, sqlite %s)\n",
			    info_label(&sc->s[i], "version", buf, sizeof buf),
			    info_label(&sc->s[i], "libevent", buf + 64, 64),
			    info_label(&sc->s[i], "sqlite", buf + 128, 64));
	for (size_t i = 0; i < NTOTALS; i++)
		fprintf(out, "%-22s %12.0f\n", totals[i].label, info_sum(sc, totals[i].metric));
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "corridor_updates_rejected_total") == 0 &&
		    sc->s[i].value > 0)
			fprintf(out, "rejected %-13s %12.0f\n",
			    info_label(&sc->s[i], "reason", buf, sizeof buf), sc->s[i].value);
	for (size_t i = 0; i < sc->n; i++)
		if (strcmp(sc->s[i].name, "corridor_connections_refused_total") == 0 &&
		    sc->s[i].value > 0)
			fprintf(out, "refused %-14s %12.0f\n",
			    info_label(&sc->s[i], "reason", buf, sizeof buf), sc->s[i].value);
	if (isnan(p50))
		fprintf(out, "%-22s %12s\n", "commit latency", "-");
	else
		fprintf(out, "%-22s p50 %.4f s  p99 %.4f s\n", "commit latency", p50, p99);
	fprintf(out, "\n%-10s", "carrier");
	for (size_t k = 0; k < sizeof carrier_cols / sizeof carrier_cols[0]; k++)
		fprintf(out, " %12s", carrier_cols[k]);
	fprintf(out, "\n");
	for (size_t i = 0; i < sc->n; i++) {
		if (strcmp(sc->s[i].name, carrier_names[0]) != 0)
			continue;
		info_label(&sc->s[i], "carrier", buf, sizeof buf);
		fprintf(out, "%-10s", buf);
		for (size_t k = 0; k < sizeof carrier_cols / sizeof carrier_cols[0]; k++)
			fprintf(out, " %12.0f", info_get(sc, carrier_names[k], "carrier", buf));
		fprintf(out, "\n");
	}
}

static int
info_show(struct ctl *c, const void *arg, FILE *out, struct ctl_error *e)
{
	struct scrape sc = { NULL, NULL, 0, 0 };
	char err[512];

	(void)arg;
	if (info_fetch(c, "/metrics", &sc, err, sizeof err) == -1) {
		ctl_error_set(e, 69, 1, "%s", err);
		return -1;
	}
	if (info_parse(&sc) == -1) {
		ctl_error_set(e, 70, 0, "out of memory");
		free(sc.text);
		free(sc.s);
		return -1;
	}
	if (c->fmt == RENDER_JSON) {
		json_object *o = info_json(&sc);

		fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else
		info_table(&sc, out);
	free(sc.text);
	free(sc.s);
	return 0;
}

int
cmd_info(struct ctl *c, int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		c->usage("info");
		return 64;
	}
	return ctl_show(c, info_show, NULL);
}
