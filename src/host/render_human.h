/*
 * Results as qemu-img's human text shows nested values: block/qapi.c's
 * dump_qobject(), which prints "Format specific information" (and each
 * command that shows a tree of values uses the same).  Keys have their
 * dashes turned into spaces; a member is "key: value", an object or array
 * member "key:" with its contents on the lines below, four more spaces in;
 * array elements are "[i]: value" or "[i]:"; members in QDict order
 * (qdict_order.h).  Strings are printed as they
 * are, except that terminal controls are escaped (text_escape.h): qemu
 * prints an image's bytes raw, cordon does not (docs/sandbox.md).
 */
#ifndef CORDON_HOST_RENDER_HUMAN_H
#define CORDON_HOST_RENDER_HUMAN_H

#include <stdio.h>

#include "result_store.h"

/* Prints the members of the object or the elements of the array whose
 * BEGIN record is at *pos, at `indent` levels; *pos moves past its END.
 * false when *pos holds no object or array (nothing is printed). */
bool render_human_tree(FILE *f, const struct result_store *r, size_t *pos, int indent);

/* Prints text the sandbox sent with terminal controls escaped. */
void render_human_text(FILE *f, const char *s, size_t n);

#endif
