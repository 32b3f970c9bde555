/*
 * Test-only misbehaviour for the process sandbox: with CORDON_TEST_HOOKS
 * (the build/cordon-test binary only), CORDON_TEST_MISBEHAVE=<name> makes the
 * confined child break a rule on purpose, to show that the boundary holds.
 * The shipped build/cordon is compiled without the hook and ignores it.
 */
#ifndef CORDON_HOST_SANDBOX_MISBEHAVE_H
#define CORDON_HOST_SANDBOX_MISBEHAVE_H

#include "../guest/hostcall_client.h"

/* 0 = behave (always, in the shipped binary). */
int sandbox_misbehave_from_env(void);
/* Runs in the confined child; returns only for unknown kinds. */
void sandbox_misbehave(struct hc_client *c, int kind);

#endif
