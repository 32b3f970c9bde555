/*
 * -l's value as qemu-img takes it (img_convert): text that starts with
 * "snapshot." is a QemuOpts list of snapshot.id and snapshot.name, parsed
 * by qemu_opts_parse_noisily() over internal_snapshot_opts; anything else
 * is one id-or-name.  The QemuOpts rules that reach a user are kept: ",,"
 * is a comma inside a value, a key without "=" is a deprecated short-form
 * boolean ("on", or "off" after "no") with qemu's warning, "help" and "?"
 * print the list's help, "id=" names the options (an identifier, unique
 * among the -l given) and is otherwise ignored, the last value of a key
 * wins, and any other key is an invalid parameter.
 */
#include "snapshot_opt.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../host/report.h"

#define PREFIX "snapshot."

/* qemu's get_opt_value(): up to a single ',' (",," is a comma), into a
 * new string; returns where it stopped (',' or the end). */
static const char *opt_value(const char *p, char **value)
{
	size_t cap = strlen(p) + 1, n = 0;
	char *v = malloc(cap);
	if (!v)
		abort();
	for (;;) {
		const char *comma = strchrnul(p, ',');
		size_t len = (size_t)(comma - p) + (*comma && comma[1] == ',');
		memcpy(v + n, p, len);
		n += len;
		if (!*comma || comma[1] != ',') {
			v[n] = '\0';
			*value = v;
			return comma;
		}
		p = comma + 2;
	}
}

struct opt {
	char *name, *value;
	bool is_help;
};

/* qemu's get_opt_name_value() without an implied first name: one
 * "name=value" or flag; returns the text after it and its comma. */
static const char *next_opt(const char *p, bool warn, struct opt *o)
{
	size_t len = strcspn(p, "=,");
	*o = (struct opt){ 0 };
	o->name = strndup(p, len);
	if (!o->name)
		abort();
	if (p[len] == '=') {
		p = opt_value(p + len + 1, &o->value);
	} else {
		const char *prefix = "";
		p += len;
		if (strncmp(o->name, "no", 2) == 0) {
			memmove(o->name, o->name + 2, strlen(o->name + 2) + 1);
			o->value = strdup("off");
			prefix = "no";
		} else {
			o->value = strdup("on");
			o->is_help = strcmp(o->name, "help") == 0 || strcmp(o->name, "?") == 0;
		}
		if (!o->value)
			abort();
		if (!o->is_help && warn) {
			report_warning("short-form boolean option '%s%s' deprecated", prefix,
				       o->name);
			fprintf(stderr, "Please use %s=%s instead\n", o->name, o->value);
		}
	}
	return *p == ',' ? p + 1 : p;
}

static void opt_free(struct opt *o)
{
	free(o->name);
	free(o->value);
}

/* qemu's id_wellformed(). */
static bool id_wellformed(const char *id)
{
	if (!isalpha((unsigned char)id[0]))
		return false;
	for (const char *c = id + 1; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("-._", *c))
			return false;
	return true;
}

static bool keep(char *dst, const char *src)
{
	if (strlen(src) >= SNAPSHOT_TEXT_MAX) {
		report_error("cordon takes snapshot ids and names of at most %u bytes",
			     SNAPSHOT_TEXT_MAX - 1);
		return false;
	}
	strcpy(dst, src);
	return true;
}

/* qemu_opts_parse_noisily(): false when it failed and said why. */
static bool parse_opts(const char *arg, struct snapshot_opt *s)
{
	/* opts_parse_id(): the first id=, checked before anything else. */
	char *id = NULL;
	for (const char *p = arg; *p && !id;) {
		struct opt o;
		p = next_opt(p, false, &o);
		if (strcmp(o.name, "id") == 0) {
			id = o.value;
			o.value = NULL;
		}
		opt_free(&o);
	}
	if (id && !id_wellformed(id)) {
		report_error("Parameter 'id' expects an identifier");
		fprintf(stderr, "Identifiers consist of letters, digits, '-', '.', '_', "
			"starting with a letter.\n");
		free(id);
		return false;
	}
	if (id) {
		/* Identifiers hold no newline: the ids seen are "\nA\nB\n". */
		size_t used = s->ids_used ? strlen(s->ids_used) : 0;
		char *all = realloc(s->ids_used, used + strlen(id) + 3);
		if (!all)
			abort();
		if (!used)
			strcpy(all, "\n");
		s->ids_used = all;
		char *needle = malloc(strlen(id) + 3);
		if (!needle)
			abort();
		sprintf(needle, "\n%s\n", id);
		bool dup = strstr(all, needle) != NULL;
		free(needle);
		if (dup) {
			report_error("Duplicate ID '%s' for snapshot", id);
			free(id);
			return false;
		}
		strcat(strcat(all, id), "\n");
		free(id);
	}
	struct cordon_job_snapshot got = { 0 };
	for (const char *p = arg; *p;) {
		struct opt o;
		p = next_opt(p, true, &o);
		bool ok = true;
		if (o.is_help) {
			printf("snapshot options:\n"
			       "  snapshot.id=<str>      - snapshot id\n"
			       "  snapshot.name=<str>    - snapshot name\n");
			ok = false;
		} else if (strcmp(o.name, "id") == 0) {
			/* names the options: not an option */
		} else if (strcmp(o.name, "snapshot.id") == 0) {
			got.flags |= SNAPSHOT_BY_ID;
			ok = keep(got.id, o.value);
		} else if (strcmp(o.name, "snapshot.name") == 0) {
			got.flags |= SNAPSHOT_BY_NAME;
			ok = keep(got.name, o.value);
		} else {
			report_error("Invalid parameter '%s'", o.name);
			ok = false;
		}
		opt_free(&o);
		if (!ok)
			return false;
	}
	s->opts = got;
	return true;
}

int snapshot_opt_parse(const char *arg, struct snapshot_opt *s)
{
	if (strncmp(arg, PREFIX, strlen(PREFIX)) != 0) {
		s->bare = (struct cordon_job_snapshot){ .flags = SNAPSHOT_BY_ID_OR_NAME };
		return keep(s->bare.id, arg) ? 0 : -1;
	}
	if (parse_opts(arg, s))
		return 0;
	fflush(stdout);
	report_error("Failed in parsing snapshot param '%s'", arg);
	return -1;
}

const struct cordon_job_snapshot *snapshot_opt_chosen(const struct snapshot_opt *s)
{
	/* img_convert tests its options first, whatever came last. */
	return s->opts.flags ? &s->opts : &s->bare;
}

void snapshot_opt_free(struct snapshot_opt *s)
{
	free(s->ids_used);
	s->ids_used = NULL;
}
