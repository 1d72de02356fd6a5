/*
 * gen_conf_man: writes corridord.conf(5) at build time from its template
 * (man/corridord.conf.5.in) and the option tables (daemon/core/config_table.c,
 * lib/limit_table.c). The prose is the template's; every option's entry
 * (name, default, type or range, whether a reload applies it, doc line) is
 * the table's, so the page cannot drift from the code.
 *
 * In the template, a line
 *   .\" @options SECTION       becomes the entries of [SECTION], in table order;
 *   .\" @more SECTION NAME     starts more text about that option, up to a line
 *   .\" @end                   which goes right after its entry;
 * and @VERSION@ becomes corridor's version. A section of the tables listed
 * twice or not at all, a @more about an option the tables do not have, or a
 * block left open is an error: the page is not written and the build fails.
 *
 * usage: gen_conf_man TEMPLATE OUTPUT
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_table.h"
#include "limit_table.h"

#define LINE_MAX_BYTES 4096
#define MORE_MAX 128

static const char *const sections[] = { "daemon", "tls", "postgresql", "limits" };
#define SECTIONS_COUNT (sizeof sections / sizeof sections[0])

struct more {
	char section[32];
	char name[64];
	char *text;		/* the lines between @more and @end */
};

struct line {
	char *text;
	size_t no;		/* in the template, from 1 */
};

struct page {
	const char *path;
	struct line *lines;
	size_t count;
	struct more more[MORE_MAX];
	size_t more_count;
	bool listed[SECTIONS_COUNT];
	int problems;
};

/* no: the template's line, 0 for the whole template */
static void
problem(struct page *p, size_t no, const char *msg, const char *arg)
{
	if (no > 0)
		fprintf(stderr, "%s:%zu: ", p->path, no);
	else
		fprintf(stderr, "%s: ", p->path);
	fprintf(stderr, "%s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	p->problems++;
}

static int
read_template(struct page *p)
{
	FILE *f = fopen(p->path, "r");
	char buf[LINE_MAX_BYTES];

	if (f == NULL) {
		perror(p->path);
		return -1;
	}
	while (fgets(buf, sizeof buf, f) != NULL) {
		struct line *grown = realloc(p->lines, (p->count + 1) * sizeof *grown);

		if (grown != NULL)
			p->lines = grown;
		if (grown == NULL || (grown[p->count].text = strdup(buf)) == NULL) {
			fclose(f);
			fprintf(stderr, "%s: out of memory\n", p->path);
			return -1;
		}
		grown[p->count].no = p->count + 1;
		p->count++;
	}
	fclose(f);
	return 0;
}

/* The directive of a line ".\" @WORD ...", or NULL; *rest is what follows it. */
static const char *
directive(const char *line, const char *word, const char **rest)
{
	size_t n = strlen(word);

	if (strncmp(line, ".\\\" @", 5) != 0 || strncmp(line + 5, word, n) != 0 ||
	    (line[5 + n] != ' ' && line[5 + n] != '\n' && line[5 + n] != '\0'))
		return NULL;
	*rest = line + 5 + n;
	return line;
}

/* Where name is in sections[], SECTIONS_COUNT if it is not. */
static size_t
section_index(const char *name)
{
	size_t s;

	for (s = 0; s < SECTIONS_COUNT && strcmp(sections[s], name) != 0; s++)
		;
	return s;
}

static bool
option_exists(const char *section, const char *name)
{
	if (strcmp(section, "limits") == 0)
		return limits_find(name) != NULL;
	return config_option_find(section, name) != NULL;
}

/* Takes the @more blocks out of the lines (they are put after their entries). */
static void
collect_more(struct page *p)
{
	size_t kept = 0, i = 0;

	while (i < p->count) {
		struct line *at = &p->lines[i];
		const char *args, *rest;
		struct more *m = &p->more[p->more_count];
		size_t end, len = 0;

		if (directive(at->text, "more", &args) == NULL) {
			if (directive(at->text, "end", &rest) != NULL) {
				problem(p, at->no, "@end without @more", NULL);
				free(at->text);
			} else {
				p->lines[kept++] = *at;
			}
			i++;
			continue;
		}
		for (end = i + 1; end < p->count &&
		    directive(p->lines[end].text, "end", &rest) == NULL; end++)
			len += strlen(p->lines[end].text);
		if (end == p->count)
			problem(p, at->no, "@more without @end", NULL);
		else if (p->more_count == MORE_MAX)
			problem(p, at->no, "too many @more blocks", NULL);
		else if (sscanf(args, " %31s %63s", m->section, m->name) != 2)
			problem(p, at->no, "@more wants a section and an option", NULL);
		else if (!option_exists(m->section, m->name))
			problem(p, at->no, "@more about an option the tables do not have", m->name);
		else if ((m->text = calloc(1, len + 1)) == NULL)
			problem(p, at->no, "out of memory", NULL);
		else {
			for (size_t j = 0; j < p->more_count; j++)
				if (strcmp(p->more[j].section, m->section) == 0 &&
				    strcmp(p->more[j].name, m->name) == 0)
					problem(p, at->no, "a second @more about", m->name);
			for (size_t j = i + 1; j < end; j++)
				strcat(m->text, p->lines[j].text);
			p->more_count++;
		}
		/* the block, its @end included, is not a line of the page */
		for (size_t j = i; j < end + (end < p->count); j++)
			free(p->lines[j].text);
		i = end + 1;
	}
	p->count = kept;
}

/* Text of a table on a roff text line: a backslash is \e, a line never
 * starts with a control character. */
static void
put_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else
			fputc(*s, f);
	}
}

/* Text inside a macro argument's double quotes. */
static void
put_quoted(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '"')
			fputs("\\(dq", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

static void
put_doc(FILE *f, const char *doc)
{
	size_t n = strlen(doc);

	put_text(f, doc);
	fputs(n > 0 && doc[n - 1] == '.' ? "\n" : ".\n", f);
}

static void
put_more(FILE *f, struct page *p, const char *section, const char *name)
{
	for (size_t i = 0; i < p->more_count; i++)
		if (strcmp(p->more[i].section, section) == 0 && strcmp(p->more[i].name, name) == 0)
			fputs(p->more[i].text, f);
}

/* .TP, the option as it is written in the file, (what it takes), its doc line. */
static void
put_section(FILE *f, struct page *p, const char *section)
{
	char type[128];

	if (strcmp(section, "limits") == 0) {
		for (size_t i = 0; i < limit_defs_count; i++) {
			const struct limit_def *d = &limit_defs[i];

			fprintf(f, ".TP\n.BR %s \" = %lld\"\n(%lld..%lld%s) ", d->name,
			    (long long)d->def, (long long)d->min, (long long)d->max,
			    d->restart ? "; restart" : "");
			put_doc(f, d->help);
			put_more(f, p, section, d->name);
		}
		return;
	}
	for (size_t i = 0; i < config_options_count; i++) {
		const struct config_option *o = &config_options[i];

		if (strcmp(o->section, section) != 0)
			continue;
		fprintf(f, ".TP\n.BR %s \" =%s", o->name, o->def[0] ? " " : "");
		put_quoted(f, o->def);
		fprintf(f, "\"\n(%s%s) ", config_option_type_name(o, type, sizeof type),
		    o->restart ? "; restart" : "");
		put_doc(f, o->doc);
		put_more(f, p, section, o->name);
	}
}

static void
put_line(FILE *f, const char *line)
{
	const char *at = strstr(line, "@VERSION@");

	if (at == NULL) {
		fputs(line, f);
		return;
	}
	fwrite(line, 1, (size_t)(at - line), f);
	fputs(CORRIDOR_VERSION, f);
	put_line(f, at + strlen("@VERSION@"));
}

static void
write_page(FILE *f, struct page *p)
{
	for (size_t i = 0; i < p->count; i++) {
		const char *rest;
		char section[32];
		size_t s;

		if (directive(p->lines[i].text, "options", &rest) == NULL) {
			put_line(f, p->lines[i].text);
			continue;
		}
		if (sscanf(rest, " %31s", section) != 1) {
			problem(p, p->lines[i].no, "@options wants a section", NULL);
			continue;
		}
		if ((s = section_index(section)) == SECTIONS_COUNT) {
			problem(p, p->lines[i].no, "@options of a section the tables do not have",
			    section);
			continue;
		}
		if (p->listed[s])
			problem(p, p->lines[i].no, "a second @options", section);
		p->listed[s] = true;
		put_section(f, p, section);
	}
	for (size_t s = 0; s < SECTIONS_COUNT; s++)
		if (!p->listed[s])
			problem(p, 0, "no @options for this section", sections[s]);
	for (size_t i = 0; i < config_options_count; i++)
		if (section_index(config_options[i].section) == SECTIONS_COUNT)
			problem(p, 0, "a section of config_table.c missing from gen_conf_man.c's list",
			    config_options[i].section);
}

int
main(int argc, char **argv)
{
	static struct page p;
	FILE *out;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: gen_conf_man TEMPLATE OUTPUT\n");
		return 2;
	}
	p.path = argv[1];
	if (read_template(&p) == -1)
		return 1;
	collect_more(&p);
	if ((out = fopen(argv[2], "w")) == NULL) {
		perror(argv[2]);
		return 1;
	}
	fprintf(out, ".\\\" Generated by gen_conf_man from man/corridord.conf.5.in and the option\n"
	    ".\\\" tables (daemon/core/config_table.c, lib/limit_table.c): edit those.\n");
	write_page(out, &p);
	rc = ferror(out) | fclose(out);
	if (rc != 0)
		perror(argv[2]);
	for (size_t i = 0; i < p.count; i++)
		free(p.lines[i].text);
	free(p.lines);
	for (size_t i = 0; i < p.more_count; i++)
		free(p.more[i].text);
	if (rc != 0 || p.problems > 0) {
		remove(argv[2]);
		return 1;
	}
	return 0;
}
