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
#include "db.h"
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
};

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
	{ "carrier-listen", required_argument, NULL, OPT_CARRIER_LISTEN },
	{ "query-listen", required_argument, NULL, OPT_QUERY_LISTEN },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "synchronous", required_argument, NULL, OPT_SYNC },
	{ "legs-file", required_argument, NULL, OPT_LEGS_FILE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "check-config", no_argument, NULL, OPT_CHECK },
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
	    "      --legs-file FILE      TSV of legs to add to or override the defaults\n"
	    "      --limit NAME=VALUE    set a limit (repeatable; list below)\n"
	    "      --log-level LEVEL     warn, info (default) or debug\n"
	    "  -v, --verbose             same as --log-level debug\n"
	    "      --check-config        check the configuration and exit\n"
	    "      --version             print the version and exit\n"
	    "  -h, --help                this text\n\n"
	    "limits (name default min..max):\n",
	    CONFIG_DEFAULT_STATE_DIR, CONFIG_DEFAULT_CARRIER_LISTEN, CONFIG_DEFAULT_QUERY_LISTEN,
	    CONFIG_DEFAULT_METRICS_LISTEN);
	for (size_t i = 0; i < limit_defs_count; i++)
		fprintf(f, "  %-24s %10lld  %lld..%lld\n      %s\n", limit_defs[i].name,
		    (long long)limit_defs[i].def, (long long)limit_defs[i].min,
		    (long long)limit_defs[i].max, limit_defs[i].help);
}

/* Applies a command-line flag; flags win over the file. */
static int
apply_flag(struct config *cfg, int opt, const char *arg, char *err, size_t errlen)
{
	char name[64];
	const char *eq;

	switch (opt) {
	case OPT_STATE_DIR:
		return config_set(cfg, "daemon", "state_dir", arg, err, errlen);
	case OPT_CARRIER_LISTEN:
		return config_set(cfg, "daemon", "carrier_listen", arg, err, errlen);
	case OPT_QUERY_LISTEN:
		return config_set(cfg, "daemon", "query_listen", arg, err, errlen);
	case OPT_METRICS_LISTEN:
		return config_set(cfg, "daemon", "metrics_listen", arg, err, errlen);
	case OPT_SYNC:
		return config_set(cfg, "daemon", "synchronous", arg, err, errlen);
	case OPT_LEGS_FILE:
		return config_set(cfg, "daemon", "legs_file", arg, err, errlen);
	case OPT_LOG_LEVEL:
		return config_set(cfg, "daemon", "log_level", arg, err, errlen);
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

/* Carrier connections, leg files and their logs all take descriptors: raise
 * the soft limit to the hard one, and when max_connections cannot fit, lower
 * it to what does, so that peers beyond it get TOO_MANY_CONNECTIONS instead
 * of waiting in the listen queue while accept fails (which pauses it). */
static void
raise_fd_limit(struct config *cfg)
{
	struct rlimit rl;
	rlim_t reserve = FD_RESERVE_PER_LEG * cfg->legs.count + FD_RESERVE_FIXED;
	rlim_t want = (rlim_t)cfg->limits.max_connections + reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("cannot raise the descriptor limit");
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		int64_t fit = rl.rlim_cur > reserve + 1 ? (int64_t)(rl.rlim_cur - reserve) : 1;

		log_warnx("descriptor limit %llu is below what max_connections=%lld needs (%llu); "
		    "max_connections lowered to %lld", (unsigned long long)rl.rlim_cur,
		    (long long)cfg->limits.max_connections, (unsigned long long)want,
		    (long long)fit);
		cfg->limits.max_connections = fit;
	}
}

int
main(int argc, char **argv)
{
	static struct config cfg;
	static struct server srv;
	const char *config_path = NULL;
	char err[4096];
	int opt, check_only = 0, problems, rc;

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
		} else if (opt == OPT_CHECK)
			check_only = 1;
		else if (opt == '?') {
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "corridord: unexpected argument %s\n", argv[optind]);
		return 2;
	}
	config_defaults(&cfg);
	problems = config_path != NULL ? config_load_file(&cfg, config_path, err, sizeof err) : 0;
	if (problems > 0)
		fputs(err, stderr);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "c:vh", long_options, NULL)) != -1)
		if (apply_flag(&cfg, opt, optarg, err, sizeof err) == -1) {
			fprintf(stderr, "corridord: %s\n", err);
			problems++;
		}
	if (config_load_legs(&cfg, err, sizeof err) == -1) {
		fprintf(stderr, "corridord: %s\n", err);
		problems++;
	}
	if (tls_config_check(&cfg.tls, err, sizeof err) == -1 ||
	    tls_config_try(&cfg.tls, err, sizeof err) == -1) {
		fprintf(stderr, "corridord: %s\n", err);
		problems++;
	}
	if (check_only) {
		if (problems == 0)
			printf("configuration OK\n");
		return problems == 0 ? 0 : 1;
	}
	if (problems > 0)
		return 1;

	log_init(cfg.log_level, "corridord");
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit(&cfg);
	sd_notify_init();
	if (listen_fds_init(err, sizeof err) == -1)
		fatalx("%s", err);
	if (db_global_init() == -1)
		fatalx("cannot configure SQLite for threads");
	if (evthread_use_pthreads() == -1)
		fatalx("libevent has no pthreads support");
	srv.base = event_base_new();
	if (srv.base == NULL)
		fatalx("cannot create the event base");
	server_init(&srv, &cfg);
	rc = server_run(&srv);
	if (rc != 0)
		_exit(rc);	/* a writer is stuck: do not wait for it */
	server_free(&srv);
	event_base_free(srv.base);
	return 0;
}
