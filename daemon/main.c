/*
 * corridord: parse options, load the configuration, wire the server, run the
 * loop. Everything else lives in the modules next to this file.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "config.h"
#include "config_table.h"
#include "listen_fds.h"
#include "log.h"
#include "sd_notify.h"
#include "server.h"
#include "tls.h"

/* Descriptors besides connections: each leg file, its log and shared memory
 * for the writer and the query threads; listeners, epoll,
 * the catalog and slack. */
#define FD_RESERVE_PER_LEG 12
#define FD_RESERVE_FIXED 64

enum {
	OPT_STATE_DIR = 256, OPT_CARRIER_LISTEN, OPT_QUERY_LISTEN, OPT_SYNC, OPT_LEGS_FILE,
	OPT_LIMIT, OPT_CHECK, OPT_LOG_LEVEL, OPT_VERSION, OPT_METRICS_LISTEN,
	OPT_DOCS, OPT_INIT_STORE, OPT_STORE, OPT_PG_CONNINFO, OPT_PG_READER_CONNINFO,
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "carrier-listen", required_argument, NULL, OPT_CARRIER_LISTEN },
	{ "query-listen", required_argument, NULL, OPT_QUERY_LISTEN },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "synchronous", required_argument, NULL, OPT_SYNC },
	{ "store", required_argument, NULL, OPT_STORE },
	{ "pg-conninfo", required_argument, NULL, OPT_PG_CONNINFO },
	{ "pg-reader-conninfo", required_argument, NULL, OPT_PG_READER_CONNINFO },
	{ "legs-file", required_argument, NULL, OPT_LEGS_FILE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "check-config", no_argument, NULL, OPT_CHECK },
	{ "init-store", no_argument, NULL, OPT_INIT_STORE },
	{ "print-config-docs", no_argument, NULL, OPT_DOCS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: corridord [options]\n"
	    "Middle Corridor shipment telemetry daemon.\n\n"
	    "  -c, --config FILE         INI configuration (see corridord.conf(5))\n"
	    "      --state-dir DIR       where the SQLite files live [%s]\n"
	    "      --carrier-listen H:P  carriers' protobuf port [%s]\n"
	    "      --query-listen H:P    operators' query port [%s]\n"
	    "      --metrics-listen H:P  HTTP /metrics and /health [%s]; \"\" disables it\n"
	    "      --synchronous MODE    full (default): an ack survives power loss;\n"
	    "                            normal: it survives a crash of the process\n"
	    "      --store NAME          sqlite (default: files in the state dir) or\n"
	    "                            postgresql (the database of --pg-conninfo)\n"
	    "      --pg-conninfo STR     libpq connection string of writers and catalog\n"
	    "                            (no password here: passfile, service or the\n"
	    "                            systemd credential pgpass)\n"
	    "      --pg-reader-conninfo STR  the query threads' (default: --pg-conninfo)\n"
	    "      --legs-file FILE      TSV of legs to add to or override the defaults\n"
	    "      --limit NAME=VALUE    set a limit (repeatable; list below)\n"
	    "      --log-level LEVEL     warn, info (default) or debug\n"
	    "  -v, --verbose             same as --log-level debug\n"
	    "      --check-config        check the configuration, print it and exit\n"
	    "      --init-store          make or migrate the store, record the legs and\n"
	    "                            carriers, prepare every leg, and exit\n"
	    "      --print-config-docs   print docs/configuration.md and exit\n"
	    "      --version             print the version and exit\n"
	    "  -h, --help                this text\n\n"
	    "SIGTERM or SIGINT stops gracefully; SIGHUP reloads the configuration (the\n"
	    "file and these flags) without dropping connections.\n"
	    "Carriers need a [credentials] entry and operators an [operators] token; make\n"
	    "their hashes with corridorctl hash-credential (see corridord.conf(5)).\n\n"
	    "settings ([section] name = default, restart: a reload keeps the running value):\n",
	    CONFIG_DEFAULT_STATE_DIR, CONFIG_DEFAULT_CARRIER_LISTEN, CONFIG_DEFAULT_QUERY_LISTEN,
	    CONFIG_DEFAULT_METRICS_LISTEN);
	for (size_t i = 0; i < config_options_count; i++)
		fprintf(f, "  [%s] %s = %s%s\n      %s\n", config_options[i].section,
		    config_options[i].name, config_options[i].def[0] ? config_options[i].def : "\"\"",
		    config_options[i].restart ? " (restart)" : "", config_options[i].doc);
	fprintf(f, "\nlimits (name default min..max):\n");
	for (size_t i = 0; i < limit_defs_count; i++)
		fprintf(f, "  %-24s %10lld  %lld..%lld\n      %s\n", limit_defs[i].name,
		    (long long)limit_defs[i].def, (long long)limit_defs[i].min,
		    (long long)limit_defs[i].max, limit_defs[i].help);
}

/* The flags that set an option of config_table.c. */
static const struct {
	int opt;
	const char *section, *name;
} flag_options[] = {
	{ OPT_STATE_DIR, "daemon", "state_dir" },
	{ OPT_CARRIER_LISTEN, "daemon", "carrier_listen" },
	{ OPT_QUERY_LISTEN, "daemon", "query_listen" },
	{ OPT_METRICS_LISTEN, "daemon", "metrics_listen" },
	{ OPT_SYNC, "daemon", "synchronous" },
	{ OPT_LEGS_FILE, "daemon", "legs_file" },
	{ OPT_LOG_LEVEL, "daemon", "log_level" },
	{ OPT_STORE, "daemon", "store" },
	{ OPT_PG_CONNINFO, "postgresql", "conninfo" },
	{ OPT_PG_READER_CONNINFO, "postgresql", "reader_conninfo" },
};

/* Applies a command-line flag; flags win over the file. */
static int
apply_flag(struct config *cfg, int opt, const char *arg, char *err, size_t errlen)
{
	char name[64];
	const char *eq;

	for (size_t i = 0; i < sizeof flag_options / sizeof flag_options[0]; i++)
		if (flag_options[i].opt == opt)
			return config_set(cfg, flag_options[i].section, flag_options[i].name, arg,
			    err, errlen);
	switch (opt) {
	case 'v':
		cfg->log_level = LOG_LEVEL_DEBUG;
		return 0;
	case OPT_LIMIT:
		eq = strchr(arg, '=');
		if (eq == NULL || (size_t)(eq - arg) >= sizeof name) {
			snprintf(err, errlen, "--limit wants NAME=VALUE");
			return -1;
		}
		memcpy(name, arg, (size_t)(eq - arg));
		name[eq - arg] = '\0';
		return limits_set(&cfg->limits, name, eq + 1, err, errlen);
	}
	return 0;
}

/* How the daemon was started, for building the configuration again on SIGHUP. */
static const char *config_path;
static int saved_argc;
static char **saved_argv;

static void
append(char *err, size_t errlen, const char *prefix, const char *msg)
{
	size_t used = strlen(err);

	if (used < errlen)
		snprintf(err + used, errlen - used, "%s%s\n", prefix, msg);
}

/* Defaults, then the file, then the flags, then the legs: the whole
 * configuration, or NULL with one line per problem in err. */
static struct config *
build_config(char *err, size_t errlen)
{
	struct config *cfg = config_new();
	char msg[1024];
	int opt, problems = 0;

	err[0] = '\0';
	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory\n");
		return NULL;
	}
	if (config_path != NULL)
		problems = config_load_file(cfg, config_path, err, errlen);
	optind = 1;
	while ((opt = getopt_long(saved_argc, saved_argv, "c:vh", long_options, NULL)) != -1)
		if (apply_flag(cfg, opt, optarg, msg, sizeof msg) == -1) {
			append(err, errlen, "corridord: ", msg);
			problems++;
		}
	if (config_load_legs(cfg, msg, sizeof msg) == -1) {
		append(err, errlen, "corridord: ", msg);
		problems++;
	}
	if (tls_config_check(&cfg->tls, msg, sizeof msg) == -1 ||
	    tls_config_try(&cfg->tls, msg, sizeof msg) == -1) {
		append(err, errlen, "corridord: ", msg);
		problems++;
	}
	if (problems > 0) {
		config_release(cfg);
		return NULL;
	}
	return cfg;
}

/* Carrier connections, leg files and their logs all take descriptors: when
 * max_connections cannot fit the descriptor limit, lower it to what does, so
 * that peers beyond it get TOO_MANY_CONNECTIONS instead of waiting in the
 * listen queue while accept fails (which pauses it). */
static void
fit_max_connections(struct config *cfg)
{
	struct rlimit rl;
	rlim_t reserve = FD_RESERVE_PER_LEG * cfg->legs.count + FD_RESERVE_FIXED;
	rlim_t want = (rlim_t)cfg->limits.max_connections + reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		int64_t fit = rl.rlim_cur > reserve + 1 ? (int64_t)(rl.rlim_cur - reserve) : 1;

		log_warnx("descriptor limit %llu is below what max_connections=%lld needs (%llu); "
		    "max_connections lowered to %lld", (unsigned long long)rl.rlim_cur,
		    (long long)cfg->limits.max_connections, (unsigned long long)want,
		    (long long)fit);
		cfg->limits.max_connections = fit;
	}
}

/* Raises the soft descriptor limit to the hard one, then fits max_connections. */
static void
raise_fd_limit(struct config *cfg)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the descriptor limit");
	}
	fit_max_connections(cfg);
}

/* SIGHUP's configuration: built as at start, fitted to the descriptors. */
static struct config *
reload_config(char *err, size_t errlen)
{
	struct config *cfg = build_config(err, errlen);

	if (cfg != NULL)
		fit_max_connections(cfg);
	return cfg;
}

int
main(int argc, char **argv)
{
	static struct server srv;
	struct config *cfg;
	char err[8192];
	int opt, check_only = 0, init_store = 0, rc;

	/* First pass: only find the config file, so flags can override it. */
	while ((opt = getopt_long(argc, argv, "c:vh", long_options, NULL)) != -1) {
		if (opt == 'c')
			config_path = optarg;
		else if (opt == 'h') {
			usage(stdout);
			return 0;
		} else if (opt == OPT_VERSION) {
			printf("corridord %s\n", CORRIDOR_VERSION);
			return 0;
		} else if (opt == OPT_DOCS) {
			config_print_docs(stdout);
			return 0;
		} else if (opt == OPT_CHECK)
			check_only = 1;
		else if (opt == OPT_INIT_STORE)
			init_store = 1;
		else if (opt == '?') {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "corridord: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	saved_argc = argc;
	saved_argv = argv;
	cfg = build_config(err, sizeof err);
	if (cfg == NULL)
		fputs(err, stderr);
	if (check_only) {
		if (cfg != NULL) {
			config_print(stdout, cfg);
			printf("\nconfiguration OK\n");
		}
		config_release(cfg);
		return cfg != NULL ? 0 : 1;
	}
	if (cfg == NULL)
		return 1;

	log_init(cfg->log_level, "corridord");
	if (init_store) {
		rc = server_init_store(cfg, err, sizeof err);
		if (rc == -1)
			fprintf(stderr, "corridord: %s\n", err);
		else
			printf("store %s ready: %zu legs, %zu carriers\n", cfg->store_backend,
			    cfg->legs.count, cfg->carriers.count);
		config_release(cfg);
		return rc == -1 ? 1 : 0;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(cfg);
	sd_notify_init();
	if (listen_fds_init(err, sizeof err) == -1)
		fatalx("%s", err);
	if (evthread_use_pthreads() == -1)
		fatalx("libevent has no pthreads support");
	srv.base = event_base_new();
	if (srv.base == NULL)
		fatalx("cannot create the event base");
	server_init(&srv, cfg, reload_config);
	rc = server_run(&srv);
	if (rc != 0)
		_exit(rc);	/* a writer is stuck: do not wait for it */
	server_free(&srv);
	event_base_free(srv.base);
	return 0;
}
