/* Result records as qemu-img's JSON (--output=json); see render_json.c. */
#ifndef CORDON_HOST_RENDER_JSON_H
#define CORDON_HOST_RENDER_JSON_H

#include <stdio.h>

#include "result_store.h"

/* Writes every top-level value of r, each followed by a newline. */
void render_json(FILE *f, const struct result_store *r);

#endif
