/*
 * corridorctl: the operators' client of corridord. main() takes the global
 * options (wherever they stand), picks the subcommand and its default port,
 * and hands over; each subcommand lives in its own file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carrier_cmds.h"
#include "ctl.h"
#include "log.h"
#include "query_cmds.h"

struct command {
	const char *name;
	int (*fn)(struct ctl *, int, char **);
	int port_kind;		/* 0 the query port, 1 the carrier port, 2 the metrics port,
				 * 3 none */
	const char *usage;
	const char *help;
};

static const struct command commands[] = {
	{ "ping", cmd_ping, 0, "ping", "Asks the daemon for its version (PING)." },
	{ "legs", cmd_legs, 0, "legs", "Lists the configured corridor legs (LEGS)." },
	{ "stats", cmd_stats, 0,
	    "stats <leg|*> [--from T] [--to T] [--direction W|E] [--carrier C]",
	    "Transit or dwell times (n, min, mean, p50, p90, p95, max) and volumes of the\n"
	    "traversals that left the leg in [from, to). T is YYYY-MM-DD,\n"
	    "YYYY-MM-DDTHH:MM[:SS]Z or Unix milliseconds. '*' gives one row per leg." },
	{ "histogram", cmd_histogram, 0,
	    "histogram <leg> [--from T] [--to T] [--direction W|E] [--carrier C] [--bin H]",
	    "Draws the leg's transit or dwell times of the traversals that left it in\n"
	    "[from, to): the daemon's fine buckets grouped into at most 30 bins of a round\n"
	    "width in hours (or H hours with --bin), one bar per bin scaled to the\n"
	    "terminal, with counts and marks at p50, p90 (as stats gives them) and the\n"
	    "leg's typical time. --json: an object with n, p50_h, p90_h, typical_h, bin_h\n"
	    "and the bins; --csv: the bins." },
	{ "ontime", cmd_ontime, 0,
	    "ontime [leg|*] [--from T] [--to T] [--direction W|E] [--carrier C]",
	    "On-time share against the leg's typical time and against planned (PLN)\n"
	    "times, and ETA accuracy from estimates (EST). Without a leg, every leg." },
	{ "volumes", cmd_volumes, 0,
	    "volumes <leg|*> day|week|month [--from T] [--to T] [--direction W|E] [--carrier C]",
	    "Units, TEU, containers, tonnes, trains and vessel calls per day, ISO week or\n"
	    "month." },
	{ "journeys", cmd_journeys, 0,
	    "journeys <from_node> <to_node> [--from T] [--to T] [--direction W|E]\n"
	    "       [--target-days N]",
	    "End-to-end journeys between two nodes (the from_node and to_node of legs):\n"
	    "count, times in hours, and the share within N days (the published schedule\n"
	    "by default, e.g. Altynkol to Baku 9 days)." },
	{ "holds", cmd_holds, 0,
	    "holds [leg|*] [--from T] [--to T] [--direction W|E] [--carrier C]",
	    "Customs holds (HOLD to RELS): how many, released, still open, and their\n"
	    "duration. Without a leg, every leg." },
	{ "delays", cmd_delays, 0,
	    "delays [leg|*] [--from T] [--to T] [--direction W|E] [--carrier C]",
	    "Delay reasons ranked by the events that gave them, with the units they\n"
	    "touched. Without a leg, all legs together." },
	{ "quality", cmd_quality, 0, "quality [carrier] [--from T] [--to T]",
	    "Data quality per carrier: event-to-record lag, duplicates, retractions,\n"
	    "out-of-order arrivals and rejected updates by reason." },
	{ "intransit", cmd_intransit, 0, "intransit [leg]",
	    "Units in a leg now, oldest first; without a leg, one row per leg." },
	{ "shipment", cmd_shipment, 0, "shipment <unit>",
	    "One unit's journey across the legs: a container number, or TRAIN:<id>,\n"
	    "VESSEL:<imo>/<voyage>, WAGON:<id>, TRUCK:<plate>." },
	{ "backup", cmd_backup, 0, "backup <name>",
	    "Has the daemon copy the catalog and every leg file, online, into\n"
	    "<backup_dir>/<name> (default backup_dir: <state_dir>/backups) and lists the\n"
	    "files. Each file is one consistent snapshot; the catalog is copied first." },
	{ "query", cmd_query, 0, "query \"<raw line>\"",
	    "Sends one raw query-protocol line (see docs/query-protocol.md) and renders\n"
	    "the answer, e.g. corridorctl query \"STATS KZ-PORT-AKT 2026-11-01 - W\"." },
	{ "push", cmd_push, 1,
	    "push --carrier CODE [--credential-file F] [--batch N] [--window N]\n"
	    "       [--retries N] [--format jsonl|csv] FILE|-",
	    "Sends shipment updates from a JSON-lines or CSV file as carrier CODE, with\n"
	    "acknowledgements, resend of retryable rejections and reconnects.\n"
	    "  --credential-file F  the carrier's secret: a line \"CODE SECRET\", or one\n"
	    "                  bare SECRET line (or env CORRIDOR_CREDENTIAL_FILE)\n"
	    "  --credential S  the secret itself (or env CORRIDOR_CREDENTIAL); other users\n"
	    "                  can see a command line, so prefer the file or the env\n"
	    "  --batch N       updates per Batch (default 500, capped by the daemon)\n"
	    "  --window N      most unacknowledged updates (default: the daemon's limit)\n"
	    "  --retries N     reconnect attempts in a row before giving up (default 20)\n"
	    "  --format F      jsonl or csv (default: csv for *.csv, else jsonl)\n"
	    "Updates without seq get Welcome.acked_seq+1, +2, ... in file order; put seq\n"
	    "in the file for exactly-once delivery across restarts of push. Without\n"
	    "message_id, \"<carrier>-<seq>\" is used; without carrier, --carrier." },
	{ "simulate", cmd_simulate, 1,
	    "simulate [--days N] [--end T] [--seed S] [--trains-per-day N]\n"
	    "       [--credential-file F] [--retries N] [--out FILE.jsonl]",
	    "Simulates container block trains along the Middle Corridor and pushes the\n"
	    "updates as the carriers would (one session per carrier, concurrently).\n"
	    "  --days N            the window of activity before --end (default 1)\n"
	    "  --end T             the end of the simulation (default now)\n"
	    "  --seed S            random seed (default 1); same seed, same corridor\n"
	    "  --trains-per-day N  both directions together (default 8)\n"
	    "  --credential-file F each carrier's secret: lines \"CODE SECRET\" (a bare\n"
	    "                      SECRET line for the rest); env CORRIDOR_CREDENTIAL_FILE;\n"
	    "                      --credential S / CORRIDOR_CREDENTIAL: one for all\n"
	    "  --out FILE.jsonl    write files instead: FILE.<CARRIER>.jsonl, one per\n"
	    "                      carrier, without seq, ready for push" },
	{ "info", cmd_info, 2, "info",
	    "Summarises the daemon's /metrics: updates received, stored, duplicates,\n"
	    "rejections by reason, writer backlog, connections, commit latency p50/p99\n"
	    "(estimated from the histogram) and one row per carrier; --json for JSON.\n"
	    "Talks HTTP to the metrics port (default 7472, env CORRIDOR_METRICS_PORT)." },
	{ "hash-credential", cmd_hash_credential, 3, "hash-credential [--generate] [--iterations N]",
	    "Reads a secret (prompting twice on a terminal, else the first line of\n"
	    "standard input) and prints the hash to put in corridord.conf: a carrier's\n"
	    "[credentials] line \"name = HASH CODE...\" or an operator's [operators] line\n"
	    "\"name = HASH read|admin\". --generate makes a random secret instead and\n"
	    "prints it on the first line, the hash on the second. --iterations N: the\n"
	    "PBKDF2-HMAC-SHA256 work factor, 1000..10000000 (default 100000 for a\n"
	    "secret you type, 10000 for a generated one: 256 random bits need no\n"
	    "slowing down); each Hello or AUTH costs the daemon one such hash." },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void
usage_all(FILE *out)
{
	fprintf(out, "usage: corridorctl [--host H] [--port P] [--token-file F] [--json|--csv] "
	    "[--watch [S]] [-v] "
	    "<command> [args]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %s\n", commands[i].usage);
	fprintf(out, "\nglobal options (anywhere on the line):\n"
	    "  --host H   daemon host (default 127.0.0.1, env CORRIDOR_HOST)\n"
	    "  --token-file F  the operator token for queries, a line NAME:SECRET\n"
	    "             (env CORRIDOR_TOKEN_FILE); without one only ping answers\n"
	    "  --token NAME:SECRET  the token itself (env CORRIDOR_TOKEN); other users can\n"
	    "             see a command line, so prefer the file or the env\n"
	    "  --port P   daemon port (default 7471 for queries, env CORRIDOR_QUERY_PORT;\n"
	    "             7470 for push and simulate, env CORRIDOR_INGEST_PORT;\n"
	    "             7472 for info, env CORRIDOR_METRICS_PORT)\n"
	    "  --timeout S  seconds a query's answer may stall before corridorctl gives up\n"
	    "             (default 10; 3600 for backup, which answers when the copy is done)\n"
	    "  --json     query answers as a JSON array of objects\n"
	    "  --csv      query answers as CSV (RFC 4180)\n"
	    "  --watch [S] show the answer again every S seconds (default 2) until\n"
	    "             Ctrl-C, redrawn on a terminal, else after a \"# refreshed\" line\n"
	    "  --tls      TLS (1.2 or newer) to the query and carrier ports (not info:\n"
	    "             /metrics is plain HTTP); the daemon's certificate must chain to\n"
	    "             --ca (else the system's CAs) and name --host\n"
	    "  --ca FILE  PEM CAs to trust for the daemon's certificate (implies --tls)\n"
	    "  --cert FILE, --key FILE\n"
	    "             PEM client certificate and key for mutual TLS (imply --tls);\n"
	    "             for push and simulate its CN or a DNS name is the carrier code\n"
	    "  -v         more diagnostics on stderr (-vv for debug)\n"
	    "  --help     this text; <command> --help for one command\n");
}

/* Every query subcommand may be watched; not those that change something. */
static int
watchable(const char *name)
{
	static const char *const once[] = { "push", "simulate", "backup" };

	for (size_t i = 0; i < sizeof once / sizeof once[0]; i++)
		if (strcmp(name, once[i]) == 0)
			return 0;
	return 1;
}

static void
ctl_usage_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			printf("usage: corridorctl [global options] %s\n\n%s\n",
			    commands[i].usage, commands[i].help);
}

/* Takes --watch [S] or --watch=S at argv[i] (shifting it out): 1, or -2 after
 * a message. A following word is its value only when it is a number. */
static int
take_watch(struct ctl *c, int *argc, char **argv, int i)
{
	const char *val = argv[i][7] == '=' ? argv[i] + 8 : i + 1 < *argc ? argv[i + 1] : "";
	int used = argv[i][7] == '=' ? 1 : 2;
	char *end;
	double s = strtod(val, &end);

	if (val[0] == '\0' || *end != '\0') {
		if (argv[i][7] == '=') {
			fprintf(stderr, "corridorctl: --watch=%s: give seconds\n", val);
			return -2;
		}
		s = CTL_WATCH_DEFAULT_S;
		used = 1;
	}
	if (!(s >= CTL_WATCH_MIN_S && s <= CTL_WATCH_MAX_S)) {
		fprintf(stderr, "corridorctl: --watch %s: give %g to %g seconds\n", val,
		    CTL_WATCH_MIN_S, CTL_WATCH_MAX_S);
		return -2;
	}
	c->watch_s = s;
	memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof *argv);
	*argc -= used;
	return 1;
}

/* Takes a global option at argv[*i] (shifting it out); 1 taken, 0 not, -1 bad. */
static int
take_global(struct ctl *c, int *argc, char **argv, int i, int *help)
{
	static const char *const valued[] = { "--host", "--port", "--ca", "--cert", "--key",
	    "--token", "--token-file", "--timeout" };
	const char *a = argv[i], *val = NULL, *name = NULL;
	int used = 1;

	if (strcmp(a, "--watch") == 0 || strncmp(a, "--watch=", 8) == 0)
		return take_watch(c, argc, argv, i);
	for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
		size_t n = strlen(valued[k]);

		if (strcmp(a, valued[k]) == 0) {
			if (i + 1 >= *argc)
				return -1;
			name = valued[k];
			val = argv[i + 1];
			used = 2;
		} else if (strncmp(a, valued[k], n) == 0 && a[n] == '=') {
			name = valued[k];
			val = a + n + 1;
		}
	}
	if (name != NULL && strcmp(name, "--token") == 0)
		c->token = val;
	else if (name != NULL && strcmp(name, "--token-file") == 0)
		c->token_file = val;
	else if (name != NULL && strcmp(name, "--host") == 0)
		c->host = val;
	else if (name != NULL && strcmp(name, "--port") == 0)
		c->port = val;
	else if (name != NULL && strcmp(name, "--timeout") == 0) {
		char *end;

		c->timeout_s = strtod(val, &end);
		if (*end != '\0' || !(c->timeout_s >= CTL_TIMEOUT_MIN_S &&
		    c->timeout_s <= CTL_TIMEOUT_MAX_S)) {
			fprintf(stderr, "corridorctl: --timeout %s: give %g to %g seconds\n", val,
			    CTL_TIMEOUT_MIN_S, CTL_TIMEOUT_MAX_S);
			return -2;
		}
	}
	else if (name != NULL) {
		/* a CA or a client certificate only makes sense with TLS */
		c->tls.enabled = true;
		if (strcmp(name, "--ca") == 0)
			c->tls.ca = val;
		else if (strcmp(name, "--cert") == 0)
			c->tls.cert = val;
		else
			c->tls.key = val;
	} else if (strcmp(a, "--tls") == 0)
		c->tls.enabled = true;
	else if (strcmp(a, "--json") == 0)
		c->fmt = RENDER_JSON;
	else if (strcmp(a, "--csv") == 0)
		c->fmt = RENDER_CSV;
	else if (strcmp(a, "-v") == 0 || strcmp(a, "-vv") == 0)
		c->verbose += (int)strlen(a) - 1;
	else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
		*help = 1;
	else
		return 0;
	memmove(&argv[i], &argv[i + used], (size_t)(*argc - i - used + 1) * sizeof *argv);
	*argc -= used;
	return 1;
}

int
main(int argc, char **argv)
{
	struct ctl c = { .fmt = RENDER_TABLE, .usage = ctl_usage_command };
	static char title[512];
	char err[512];
	const struct command *cmd = NULL;
	int help = 0, rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if ((rc = take_global(&c, &argc, argv, i, &help)) < 0) {
			if (rc == -1)
				fprintf(stderr, "corridorctl: %s needs a value\n", argv[i]);
			return 64;
		}
		i -= rc;
	}
	log_init(c.verbose >= 2 ? LOG_LEVEL_DEBUG : c.verbose ? LOG_LEVEL_INFO :
	    LOG_LEVEL_WARN, "corridorctl");
	if (argc < 2) {
		usage_all(help ? stdout : stderr);
		return help ? 0 : 64;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc > 2)
			ctl_usage_command(argv[2]);
		else
			usage_all(stdout);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, argv[1]) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		fprintf(stderr, "corridorctl: unknown command %s\n", argv[1]);
		usage_all(stderr);
		return 64;
	}
	if (help) {
		ctl_usage_command(cmd->name);
		return 0;
	}
	if (c.watch_s > 0 && !watchable(cmd->name)) {
		fprintf(stderr, "corridorctl: %s does not take --watch\n", cmd->name);
		return 64;
	}
	for (int i = 1, o = 0; i < argc && o < (int)sizeof title - 1; i++)
		o += snprintf(title + o, sizeof title - (size_t)o, "%s%s", i > 1 ? " " : "", argv[i]);
	c.title = title;
	if (c.host == NULL)
		c.host = getenv("CORRIDOR_HOST") ? getenv("CORRIDOR_HOST") : "127.0.0.1";
	if (cmd->port_kind != 2 && cmd->port_kind != 3 && ctl_tls_init(&c.tls, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: %s\n", err);
		return 64;
	}
	if (c.port == NULL && cmd->port_kind < 3) {
		static const char *const envs[] = { "CORRIDOR_QUERY_PORT", "CORRIDOR_INGEST_PORT",
		    "CORRIDOR_METRICS_PORT" };
		static const char *const defaults[] = { CTL_QUERY_PORT, CTL_INGEST_PORT,
		    CTL_METRICS_PORT };
		const char *env = getenv(envs[cmd->port_kind]);

		c.port = env ? env : defaults[cmd->port_kind];
	}
	if (cmd->port_kind == 0 && ctl_token_resolve(&c, err, sizeof err) == -1) {
		fprintf(stderr, "corridorctl: token: %s\n", err);
		ctl_tls_free(&c.tls);
		return 64;
	}
	rc = cmd->fn(&c, argc - 1, argv + 1);
	ctl_tls_free(&c.tls);
	return rc;
}
