/* Profile loader: defaults, deviations setting knobs, fatal errors. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "profile.h"

static char dir[256];

static void write_profile(const char *name, const char *json) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
}

static void setup(void) {
    snprintf(dir, sizeof dir, "/tmp/mc-profile-test-%d", (int)getpid());
    mkdir(dir, 0700);
}

Test(profile, conformant_sets_nothing) {
    char p[512], err[512];
    mc_profile *prof = mc_profile_load(mc_test_path("profiles", p, sizeof p), "conformant", err, sizeof err);
    cr_assert(prof != NULL, "%s", err);
    const mc_knob_def *defs = mc_knob_defs();
    for (int k = 0; k < MC_KNOB_COUNT; k++) {
        cr_expect(prof->src[k] == NULL, "knob %s set by conformant", defs[k].name);
        if (defs[k].type != MC_KNOB_STR) cr_expect(eq(i64, prof->iv[k], defs[k].dflt));
    }
    mc_profile_free(prof);
}

Test(profile, deviation_sets_knob_and_parent_is_merged, .init = setup) {
    char err[512];
    write_profile("base", "{\"name\":\"base\",\"deviations\":[{\"id\":\"slow\",\"set\":{\"latency_ms\":5}}]}");
    write_profile("child", "{\"name\":\"child\",\"extends\":\"base\",\"deviations\":[{\"id\":\"mv\",\"set\":{\"compute.max_microversion\":1}}]}");
    mc_profile *p = mc_profile_load(dir, "child", err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    cr_expect(eq(i64, p->iv[MC_KNOB_LATENCY_MS], 5));
    cr_expect(eq(str, (char *)p->src[MC_KNOB_LATENCY_MS], "slow"));
    cr_expect(eq(i64, p->iv[MC_KNOB_COMPUTE_MAX_MICROVERSION], 1));
    cr_expect(eq(str, p->name, "child"));
    mc_profile_free(p);
}

Test(profile, unknown_knob_is_fatal_and_named, .init = setup) {
    char err[512];
    write_profile("typo", "{\"deviations\":[{\"id\":\"x\",\"set\":{\"latncy_ms\":5}}]}");
    mc_profile *p = mc_profile_load(dir, "typo", err, sizeof err);
    cr_expect(p == NULL);
    cr_expect(strstr(err, "latncy_ms") != NULL, "%s", err);
}

Test(profile, out_of_range_and_bad_types_are_fatal, .init = setup) {
    char err[512];
    write_profile("range", "{\"deviations\":[{\"id\":\"x\",\"set\":{\"latency_ms\":-1}}]}");
    cr_expect(mc_profile_load(dir, "range", err, sizeof err) == NULL);
    cr_expect(strstr(err, "outside") != NULL, "%s", err);
    write_profile("type", "{\"deviations\":[{\"id\":\"x\",\"set\":{\"latency_ms\":\"5\"}}]}");
    cr_expect(mc_profile_load(dir, "type", err, sizeof err) == NULL);
    write_profile("key", "{\"deviatons\":[]}");
    cr_expect(mc_profile_load(dir, "key", err, sizeof err) == NULL);
    cr_expect(strstr(err, "deviatons") != NULL, "%s", err);
    write_profile("loop", "{\"extends\":\"loop\"}");
    cr_expect(mc_profile_load(dir, "loop", err, sizeof err) == NULL);
    cr_expect(mc_profile_load(dir, "missing", err, sizeof err) == NULL);
}
