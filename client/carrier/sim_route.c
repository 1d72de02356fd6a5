/*
 * The simulator's corridor: which carrier reports each leg and at which
 * nodes, how a block train is made up (containers with valid ISO 6346
 * numbers, train ids, route choice) and how long it spends on each leg.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "iso6346.h"
#include "sim.h"

const char *const sim_carrier_codes[SIM_CARRIERS] = {
	"KTZE", "PTCH", "KMTF", "ASCO", "POB", "ADYC", "MCML",
};
enum { C_KTZE, C_PTCH, C_KMTF, C_ASCO, C_POB, C_ADYC, C_MCML };

/* Westbound order of the leg indices below. */
enum {
	L_BRD_ALT, L_BRD_DOS, L_RAIL_ALT, L_RAIL_DOS, L_PORT_AKT, L_PORT_KUR,
	L_CASP_AKT, L_CASP_KUR, L_PORT_ALT, L_RAIL_AZ, L_BRD_BKS, L_RAIL_GE,
};

/* UN/LOCODEs only where we are sure of them: AZBAK (Baku, Alat) and GEPTI (Poti). */
static const struct sim_leg leg_defs[SIM_LEGS] = {
	{ "KZ-BRD-ALT", C_KTZE, "KHORGOS", "ALTYNKOL", "", "", 0, NULL },
	{ "KZ-BRD-DOS", C_KTZE, "ALASHANKOU", "DOSTYK", "", "", 0, NULL },
	{ "KZ-RAIL-ALT-AKT", C_KTZE, "ALTYNKOL", "AKTAU", "", "", 0, NULL },
	{ "KZ-RAIL-DOS-AKT", C_KTZE, "DOSTYK", "AKTAU", "", "", 0, NULL },
	{ "KZ-PORT-AKT", C_PTCH, "AKTAU", "AKTAU", "", "", 0, NULL },
	{ "KZ-PORT-KUR", C_PTCH, "KURYK", "KURYK", "", "", 0, NULL },
	{ "CASP-AKT-ALT", C_KMTF, "AKTAU", "ALAT", "", "AZBAK", 0, NULL },
	{ "CASP-KUR-ALT", C_ASCO, "KURYK", "ALAT", "", "AZBAK", 0, NULL },
	{ "AZ-PORT-ALT", C_POB, "ALAT", "ALAT", "AZBAK", "AZBAK", 1, NULL },
	{ "AZ-RAIL-ALT-BKS", C_ADYC, "ALAT", "BEYUKKESIK", "AZBAK", "", 1, NULL },
	{ "AZGE-BRD-BKS", C_ADYC, "BEYUKKESIK", "GARDABANI", "", "", 1, NULL },
	{ "GE-RAIL-GAR-POT", C_MCML, "GARDABANI", "POTI", "", "GEPTI", 2, NULL },
};

int
sim_init(struct sim_ctx *x, uint64_t seed, char *err, size_t errlen)
{
	memset(x, 0, sizeof *x);
	x->rng = seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL;
	if (legs_load_default(&x->table, err, errlen) == -1)
		return -1;
	for (int i = 0; i < SIM_LEGS; i++) {
		x->legs[i] = leg_defs[i];
		x->legs[i].spec = legs_find(&x->table, leg_defs[i].code);
		if (x->legs[i].spec == NULL) {
			snprintf(err, errlen, "leg %s is not in the default leg table",
			    leg_defs[i].code);
			return -1;
		}
	}
	return 0;
}

/* splitmix64: small, fast and the same on every platform. */
uint64_t
sim_rand(struct sim_ctx *x)
{
	uint64_t z = (x->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double
sim_unit(struct sim_ctx *x)
{
	return (double)(sim_rand(x) >> 11) * (1.0 / 9007199254740992.0);
}

double
sim_uniform(struct sim_ctx *x, double lo, double hi)
{
	return lo + (hi - lo) * sim_unit(x);
}

static double
triangular(struct sim_ctx *x, double a, double c, double b)
{
	double u = sim_unit(x);

	if (b <= a)
		return a;
	if (u < (c - a) / (b - a))
		return a + sqrt(u * (b - a) * (c - a));
	return b - sqrt((1 - u) * (b - a) * (b - c));
}

double
sim_leg_hours(struct sim_ctx *x, const struct leg *l, bool *bad)
{
	*bad = sim_unit(x) < 0.04;
	if (*bad)
		return sim_uniform(x, l->typical_h + (l->bad_h - l->typical_h) * 0.4, l->bad_h);
	return triangular(x, l->min_h, l->typical_h,
	    l->typical_h + (l->bad_h - l->typical_h) * 0.35);
}

static void
make_box(struct sim_ctx *x, struct sim_box *b)
{
	static const char *const owners[] = { "CSQU", "MWCU", "TGHU", "FCIU", "TCNU", "CAIU" };
	char first10[11];
	bool forty = sim_unit(x) < 0.6;

	snprintf(first10, sizeof first10, "%s%06u", owners[sim_rand(x) % 6],
	    (unsigned)(sim_rand(x) % 1000000));
	snprintf(b->no, sizeof b->no, "%s%d", first10, iso6346_check_digit(first10));
	b->iso_type = forty ? "45G1" : "22G1";
	b->empty = sim_unit(x) < 0.15;
	if (b->empty)
		b->gross_kg = (uint32_t)(forty ? sim_uniform(x, 3700, 3900) :
		    sim_uniform(x, 2200, 2400));
	else
		b->gross_kg = (uint32_t)sim_uniform(x, 10000, 28000);
}

void
sim_train_make(struct sim_ctx *x, struct sim_train *t, uint32_t number)
{
	bool dostyk = sim_unit(x) < 0.3, kuryk = sim_unit(x) < 0.25;
	const int west[SIM_ROUTE_MAX] = {
		dostyk ? L_BRD_DOS : L_BRD_ALT, dostyk ? L_RAIL_DOS : L_RAIL_ALT,
		kuryk ? L_PORT_KUR : L_PORT_AKT, kuryk ? L_CASP_KUR : L_CASP_AKT,
		L_PORT_ALT, L_RAIL_AZ, L_BRD_BKS, L_RAIL_GE,
	};

	t->dir = sim_unit(x) < 0.6 ? CORRIDOR__DIRECTION__W : CORRIDOR__DIRECTION__E;
	t->nlegs = SIM_ROUTE_MAX;
	for (int i = 0; i < SIM_ROUTE_MAX; i++)
		t->route[i] = t->dir == CORRIDOR__DIRECTION__W ? west[i] :
		    west[SIM_ROUTE_MAX - 1 - i];
	snprintf(t->train_id[0], sizeof t->train_id[0], "KTZ%05u", 10000 + number % 90000);
	snprintf(t->train_id[1], sizeof t->train_id[1], "ADY%04u", 1000 + number % 9000);
	snprintf(t->train_id[2], sizeof t->train_id[2], "GR%04u", 1000 + number % 9000);
	t->nbox = 40 + (int)(sim_rand(x) % 11);
	for (int i = 0; i < t->nbox; i++)
		make_box(x, &t->box[i]);
}

void
sim_vessel(struct sim_ctx *x, const struct sim_leg *l, int64_t dep_ms,
    Corridor__Direction dir, char imo[8], char voyage[16])
{
	/* Feeders of Kazmortransflot, ferries of ASCO: made-up hull numbers with
	 * IMO check digits (weights 7..2 over the first six digits). */
	static const unsigned feeders[] = { 931245, 941377, 952830, 962104 };
	static const unsigned ferries[] = { 970511, 981923, 917264 };
	bool ferry = l->carrier == C_ASCO;
	unsigned base = ferry ? ferries[sim_rand(x) % 3] : feeders[sim_rand(x) % 4];
	unsigned sum = 0, b = base;
	time_t day = (time_t)(dep_ms / 1000);
	struct tm tm;

	for (int w = 2; w <= 7; w++, b /= 10)
		sum += (b % 10) * (unsigned)w;
	snprintf(imo, 8, "%06u%u", base, sum % 10);
	gmtime_r(&day, &tm);
	snprintf(voyage, 16, "%s%02u%03u%c", ferry ? "AS" : "KM", (unsigned)tm.tm_year % 100u,
	    ((unsigned)tm.tm_yday + 1) % 1000u, dir == CORRIDOR__DIRECTION__W ? 'W' : 'E');
}
