/*
 * Fuzz target: the operator query port past the socket. The input is what an
 * operator sends; it is cut into lines as daemon/query/query_conn.c cuts them (LF,
 * an optional CR before it, at most max_query_line_bytes, up to 16 lines; a
 * last line without its LF is answered too, where the daemon would wait); a
 * line with a byte that qproto_check_line() refuses (a NUL too) is answered
 * BAD_ARGUMENT there, as query_conn.c does, and every other line is
 * answered by query_execute() against a temporary state
 * directory whose leg files and catalog hold a few events, so that every
 * command answers with rows. max_query_rows is one below the number of legs,
 * so that an answer over every leg also reaches TOO_MANY_ROWS.
 * BACKUP's directory cannot be created there, so a backup is refused after
 * its name is checked, without writing anything.
 * Properties: every answer is "OK", a header, rows and "END <rows>", or one
 * "ERR <CODE> <message>" line, with no control bytes but tabs; qproto_split()
 * gives at most QPROTO_MAX_ARGS printable words; qproto_check_line() names
 * the first byte that is not printable ASCII or a tab; a time that
 * time_parse_iso() accepts has the documented shape and survives a
 * format/parse round trip, and one out of range is a number or a long year.
 */
#include <ctype.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "config.h"
#include "store.h"
#include "log.h"
#include "qproto.h"
#include "query_exec.h"
#include "timeutil.h"
#include "update_rec.h"

#include "fuzz_check.h"

#define FUZZ_MAX_LINES 16
#define H(x) ((int64_t)(x) * 3600 * 1000)

static struct config cfg;
static struct carrier_table carriers;
static struct store *store;	/* the queries' (make_state opens its own) */
static struct query_ctx *ctx;
static char state_dir[512];	/* under $TMPDIR, else /tmp */

static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void
fuzz_cleanup(void)
{
	query_ctx_free(ctx);
	ctx = NULL;
	store_close(store);
	store = NULL;
	if (state_dir[0] != '\0')
		nftw(state_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

#define ACT CORRIDOR__CLASSIFIER__ACT
#define PLN CORRIDOR__CLASSIFIER__PLN
#define EST CORRIDOR__CLASSIFIER__EST

/* What the leg files hold: container CSQU3054383 came through the Khorgos /
 * Altynkol border (held by customs on the way) and rode the rail leg to
 * Aktau, late for weather; MWCU6059784 is still on both, with a plan and an
 * estimate for leaving the border. So every command has rows to answer with:
 * STATS, HISTOGRAM, ONTIME, VOLUMES, JOURNEYS KHG AKT, HOLDS, DELAYS,
 * QUALITY, INTRANSIT and SHIPMENT. */
static const struct seed_event {
	const char *leg;
	int classifier, code;
	int hours_ago;
	const char *container;
	const char *delay_reason;
} seed_events[] = {
	{ "KZ-BRD-ALT", ACT, CORRIDOR__EVENT_CODE__ARRI, 230, "CSQU3054383", NULL },
	{ "KZ-BRD-ALT", ACT, CORRIDOR__EVENT_CODE__HOLD, 225, "CSQU3054383", "CUS" },
	{ "KZ-BRD-ALT", ACT, CORRIDOR__EVENT_CODE__RELS, 210, "CSQU3054383", NULL },
	{ "KZ-BRD-ALT", ACT, CORRIDOR__EVENT_CODE__DEPA, 200, "CSQU3054383", NULL },
	{ "KZ-BRD-ALT", ACT, CORRIDOR__EVENT_CODE__ARRI, 40, "MWCU6059784", NULL },
	{ "KZ-BRD-ALT", PLN, CORRIDOR__EVENT_CODE__DEPA, -10, "MWCU6059784", NULL },
	{ "KZ-BRD-ALT", EST, CORRIDOR__EVENT_CODE__DEPA, -20, "MWCU6059784", "WEA" },
	{ "KZ-RAIL-ALT-AKT", ACT, CORRIDOR__EVENT_CODE__DEPA, 200, "CSQU3054383", NULL },
	{ "KZ-RAIL-ALT-AKT", ACT, CORRIDOR__EVENT_CODE__ARRI, 110, "CSQU3054383", "WEA" },
	{ "KZ-RAIL-ALT-AKT", ACT, CORRIDOR__EVENT_CODE__DEPA, 30, "MWCU6059784", NULL },
};

static int
event_class_of(int code)
{
	if (code == CORRIDOR__EVENT_CODE__HOLD || code == CORRIDOR__EVENT_CODE__RELS)
		return CORRIDOR__EVENT_CLASS__SHIPMENT;
	return CORRIDOR__EVENT_CLASS__TRANSPORT;
}

static struct update_rec *
seed_update(uint64_t seq, int leg, const struct seed_event *e)
{
	Corridor__ShipmentUpdate u = CORRIDOR__SHIPMENT_UPDATE__INIT;
	char msg[32];

	snprintf(msg, sizeof msg, "fuzz-%llu", (unsigned long long)seq);
	u.carrier = (char *)"KTZE";
	u.has_seq = u.has_event_class = u.has_classifier = u.has_event_code = 1;
	u.has_event_time_ms = u.has_direction = u.has_gross_kg = 1;
	u.seq = seq;
	u.message_id = msg;
	u.event_class = (Corridor__EventClass)event_class_of(e->code);
	u.classifier = (Corridor__Classifier)e->classifier;
	u.event_code = (Corridor__EventCode)e->code;
	u.event_time_ms = FUZZ_NOW_MS - H(e->hours_ago);
	u.node = (char *)"ALTYNKOL";
	u.leg = cfg.legs.legs[leg].code;
	u.direction = CORRIDOR__DIRECTION__W;
	u.train_id = (char *)"KZ-TRAIN-0042";
	u.container = (char *)e->container;
	u.iso_type = (char *)"45G1";
	u.gross_kg = 20000;
	u.delay_reason = (char *)e->delay_reason;
	/* received an hour after it happened (QUALITY's lag) */
	return update_rec_new(&u, leg, u.event_time_ms + H(1));
}

/* Every leg file exists and is migrated; two hold the seed events. The
 * catalog knows the legs, the carriers and one final rejection. */
static void
make_state(void)
{
	struct store_error err;
	uint64_t seq = 0;
	struct store *st;
	struct store_catalog *cat;
	struct store_writer *w;
	struct store_rejection rej = { "KTZE", 99, CORRIDOR__REJECT_REASON__BAD_CHECK_DIGIT,
		"container CSQU3054384: check digit should be 3" };

	cfg.sync = STORE_SYNC_NORMAL;
	FUZZ_CHECK((st = store_open(&cfg, &err)) != NULL);
	FUZZ_CHECK((w = store_writer_open(st, &err)) != NULL);
	for (size_t i = 0; i < cfg.legs.count; i++) {
		FUZZ_CHECK(store_leg_prepare(st, &cfg.legs.legs[i], &err) == 0);
		FUZZ_CHECK(store_writer_add_leg(w, i, &cfg.legs.legs[i], 8, &err) == 0);
		for (size_t k = 0; k < sizeof seed_events / sizeof seed_events[0]; k++) {
			struct update_rec *r;

			if (strcmp(seed_events[k].leg, cfg.legs.legs[i].code) != 0)
				continue;
			r = seed_update(++seq, (int)i, &seed_events[k]);
			FUZZ_CHECK(r != NULL);
			FUZZ_CHECK(store_writer_append(w, i, &r, 1, &err) == 0 &&
			    r->result == REC_STORED);
			free(r);
		}
	}
	store_writer_close(w);
	FUZZ_CHECK(seq == sizeof seed_events / sizeof seed_events[0]);
	FUZZ_CHECK((cat = store_catalog_open(st, &err)) != NULL);
	/* the catalog records the carriers the daemon runs with (their live
	 * state, built from the configured list as server_init does) */
	for (size_t i = 0; i < cfg.carriers.count; i++)
		FUZZ_CHECK(carrier_add(&carriers, cfg.carriers.items[i].code,
		    cfg.carriers.items[i].name) == 0);
	FUZZ_CHECK(store_catalog_sync(cat, &cfg.legs, &carriers, &err) == 0);
	FUZZ_CHECK(store_catalog_save_rejections(cat, &rej, 1, &err) == 0);
	store_catalog_close(cat);
	store_close(st);
}

static void
fuzz_setup(void)
{
	char blocker[600], err[256];
	struct store_error serr;
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	log_init(LOG_LEVEL_WARN, "fuzz_query");
	if (tmp == NULL || tmp[0] == '\0' || strlen(tmp) > 400)
		tmp = "/tmp";
	snprintf(state_dir, sizeof state_dir, "%s/corridor-fuzz-query.XXXXXX", tmp);
	FUZZ_CHECK(mkdtemp(state_dir) != NULL);
	atexit(fuzz_cleanup);
	config_defaults(&cfg);
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s", state_dir);
	FUZZ_CHECK(config_load_legs(&cfg, err, sizeof err) == 0);
	cfg.limits.max_query_rows = (int64_t)cfg.legs.count - 1;
	FUZZ_CHECK(cfg.limits.max_query_rows >= 1);
	/* a regular file where the backup directory's parent should be */
	snprintf(blocker, sizeof blocker, "%s/not-a-directory", state_dir);
	FUZZ_CHECK((f = fopen(blocker, "w")) != NULL);
	fclose(f);
	snprintf(cfg.backup_dir, sizeof cfg.backup_dir, "%s/backups", blocker);
	make_state();
	FUZZ_CHECK((store = store_open(&cfg, &serr)) != NULL);
	ctx = query_ctx_new(&cfg, store);
	FUZZ_CHECK(ctx != NULL);
}

/* Unix milliseconds: ten or more characters, digits after an optional '-'. */
static bool
unix_ms_shape(const char *s)
{
	const char *digits = s[0] == '-' ? s + 1 : s;

	return strlen(s) > 9 && digits[0] != '\0' &&
	    strspn(digits, "0123456789") == strlen(digits);
}

/* The documented shapes: YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS[.fff]]Z, Unix ms. */
static bool
time_shape_ok(const char *s)
{
	size_t len = strlen(s);

	if (unix_ms_shape(s))
		return true;
	for (size_t i = 0; i < len; i++) {
		static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
		char want = i < sizeof shape - 1 ? shape[i] : '?';

		if (i == len - 1 && len > 10) {
			if (s[i] != 'Z')
				return false;
			continue;
		}
		if (want == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != want)
			return false;
	}
	return len == 10 || len == 17 || len == 20 || len == 24;
}

static void
check_time_word(const char *w)
{
	int64_t ms, again;
	char text[64];

	switch (time_parse(w, &ms)) {
	case TIME_PARSED:
		break;
	case TIME_OUT_OF_RANGE:
		/* a number beyond 64 bits, or a date with a year of five digits or more */
		FUZZ_CHECK(unix_ms_shape(w) || (strspn(w, "0123456789") > 4 &&
		    w[strspn(w, "0123456789")] == '-'));
		FUZZ_CHECK(time_parse_iso(w, &again) == -1);
		return;
	case TIME_MALFORMED:
		FUZZ_CHECK(time_parse_iso(w, &again) == -1);
		return;
	}
	FUZZ_CHECK(time_parse_iso(w, &again) == 0 && again == ms);
	FUZZ_CHECK(time_shape_ok(w));
	if (unix_ms_shape(w))
		return;		/* any number */
	/* an ISO time is 1970..9999: it formats and parses back to the second */
	FUZZ_CHECK(ms >= 0);
	time_format_iso(ms, text, sizeof text);
	FUZZ_CHECK(time_parse_iso(text, &again) == 0 && again == ms - ms % 1000);
}

static void
check_split(const char *line)
{
	char *copy = strdup(line);
	struct qrequest req;

	FUZZ_CHECK(copy != NULL);
	if (qproto_split(copy, &req) == 0) {
		FUZZ_CHECK(req.argc >= 0 && req.argc <= QPROTO_MAX_ARGS);
		for (int i = 0; i < req.argc; i++) {
			const char *w = req.argv[i];

			FUZZ_CHECK(w[0] != '\0');
			for (const char *p = w; *p; p++)
				FUZZ_CHECK(*p > 0x20 && *p < 0x7f);
			check_time_word(w);
		}
	}
	free(copy);
}

/* OK, "# header", rows, END <rows>; or a single ERR <CODE> <message> line. */
static void
check_answer(struct evbuffer *out)
{
	size_t n = evbuffer_get_length(out);
	char *text = malloc(n + 1);	/* the answer as a C string */
	size_t lines = 0, rows = 0, end_rows = 0;
	char *p, *nl, *last = NULL;

	FUZZ_CHECK(text != NULL && n > 0);
	FUZZ_CHECK(evbuffer_copyout(out, text, n) == (ev_ssize_t)n);
	text[n] = '\0';
	FUZZ_CHECK(text[n - 1] == '\n');
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK(text[i] == '\t' || text[i] == '\n' || (unsigned char)text[i] >= 0x20);
	if (strncmp(text, "ERR ", 4) == 0) {
		size_t code = strspn(text + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_");

		FUZZ_CHECK(code > 0 && text[4 + code] == ' ');
		FUZZ_CHECK(strchr(text, '\n') == text + n - 1);
		free(text);
		return;
	}
	FUZZ_CHECK(strncmp(text, "OK\n", 3) == 0);
	/* rows are told apart by place, not by their first bytes: a row may
	 * begin with '#' or "END" (JOURNEYS echoes its nodes) */
	for (p = text; p < text + n; p = nl + 1) {
		nl = strchr(p, '\n');
		lines++;
		if (lines == 2)
			FUZZ_CHECK(strncmp(p, "# ", 2) == 0);
		last = p;
	}
	FUZZ_CHECK(lines >= 3);
	rows = lines - 3;
	FUZZ_CHECK(last != NULL && sscanf(last, "END %zu", &end_rows) == 1);
	FUZZ_CHECK(end_rows == rows);
	free(text);
}

/* What query_conn.c checks before the line is read as a string: false if
 * every byte passes; true if refused, the refusal naming the first other. */
static bool
line_refused(const char *line, size_t len)
{
	char msg[160], want[32];
	size_t pos = 0;

	if (qproto_check_line(line, len, &pos, msg, sizeof msg) == 0) {
		FUZZ_CHECK(strlen(line) == len);	/* no NUL inside */
		return false;
	}
	FUZZ_CHECK(pos >= 1 && pos <= len);
	for (size_t i = 0; i + 1 < pos; i++)
		FUZZ_CHECK(line[i] == '\t' || (line[i] >= 0x20 && line[i] < 0x7f));
	FUZZ_CHECK(line[pos - 1] != '\t' && !(line[pos - 1] >= 0x20 && line[pos - 1] < 0x7f));
	snprintf(want, sizeof want, "byte %zu ", pos);
	FUZZ_CHECK(strncmp(msg, want, strlen(want)) == 0);
	return true;
}

static void
run_line(const char *line)
{
	struct evbuffer *out = evbuffer_new();

	FUZZ_CHECK(out != NULL);
	check_split(line);
	query_execute(ctx, line, FUZZ_NOW_MS, out);
	check_answer(out);
	evbuffer_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	size_t max = (size_t)cfg.limits.max_query_line_bytes;
	size_t off = 0;
	char *line;

	if (!ready) {
		fuzz_setup();
		max = (size_t)cfg.limits.max_query_line_bytes;
		ready = true;
	}
	line = malloc(max + 1);
	FUZZ_CHECK(line != NULL);
	for (int k = 0; k < FUZZ_MAX_LINES && off < size; k++) {
		const uint8_t *eol = memchr(data + off, '\n', size - off);
		size_t len = eol != NULL ? (size_t)(eol - (data + off)) : size - off;

		if (len > max)
			break;	/* the daemon answers LINE_TOO_LONG and closes */
		memcpy(line, data + off, len);
		if (len > 0 && line[len - 1] == '\r')
			len--;
		line[len] = '\0';
		if (!line_refused(line, len))
			run_line(line);
		off += (eol != NULL ? (size_t)(eol - (data + off)) + 1 : size - off);
	}
	free(line);
	return 0;
}
