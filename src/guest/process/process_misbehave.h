/*
 * Test-only misbehaviour of the process sandbox's helper.  Only the helper
 * embedded in build/cordon-test is compiled with CORDON_TEST_HOOKS: there
 * the host passes CORDON_TEST_MISBEHAVE's value as argv[1], and the helper,
 * already confined, breaks one rule on purpose to show the boundary holds.
 * The shipped helper has no such code.
 */
#ifndef CORDON_GUEST_PROCESS_MISBEHAVE_H
#define CORDON_GUEST_PROCESS_MISBEHAVE_H

#include "../hostcall_client.h"

/* Runs the misbehaviour argv[1] names; returns only when there is none to
 * run.  argv and envp are the helper's own, for the leak test. */
void process_misbehave(struct hc_client *c, char **argv, char **envp);

#endif
