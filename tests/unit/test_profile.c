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

Test(profile, list_knobs_append_and_remember_their_deviation, .init = setup) {
    char err[512];
    write_profile("lists", "{\"deviations\":[{\"id\":\"a\",\"set\":{\"body.remove\":\"network **.project_id\"}},"
                           "{\"id\":\"b\",\"set\":{\"body.remove\":[\"compute server.x\",\"* y\"],"
                           "\"status.remap\":\"compute POST /v2.1/servers 202=200\"}}]}");
    mc_profile *p = mc_profile_load(dir, "lists", err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    const mc_rule *x = p->rules[MC_KNOB_BODY_REMOVE];
    cr_assert(x != NULL && x->next != NULL && x->next->next != NULL);
    cr_expect(eq(str, (char *)x->dev_id, "a"));
    cr_expect(eq(int, x->svc, MC_NETWORK));
    cr_expect(eq(str, x->path, "**.project_id"));
    cr_expect(eq(str, (char *)x->next->dev_id, "b"));
    cr_expect(eq(int, x->next->next->svc, MC_SVC_NONE));
    cr_expect(eq(i64, p->iv[MC_KNOB_BODY_REMOVE], 3));
    const mc_rule *m = p->rules[MC_KNOB_STATUS_REMAP];
    cr_expect(eq(int, m->method, EVHTTP_REQ_POST));
    cr_expect(eq(str, m->pattern, "/v2.1/servers"));
    cr_expect(eq(int, m->from, 202));
    cr_expect(eq(int, m->to, 200));
    mc_profile_free(p);
}

Test(profile, bad_rules_are_fatal_and_named, .init = setup) {
    static const char *bad[][2] = {
        {"status.remap", "\"compute POST /v2.1/servers 202\""},
        {"status.remap", "\"compute FETCH /v2.1/servers 202=200\""},
        {"status.remap", "\"compute POST /v2.1/servers 202=99\""},
        {"body.remove", "\"dns a.b\""},
        {"body.remove", "\"compute\""},
        {"body.rename", "\"compute a.b\""},
        {"body.add", "\"compute a.b={not json\""},
        {"body.naive_timestamps", "\"compute extra\""},
        {"body.remove", "[1]"},
        {"body.remove", "7"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[512], err[512];
        snprintf(json, sizeof json, "{\"deviations\":[{\"id\":\"x\",\"set\":{\"%s\":%s}}]}", bad[i][0], bad[i][1]);
        write_profile("badrule", json);
        mc_profile *p = mc_profile_load(dir, "badrule", err, sizeof err);
        cr_expect(p == NULL, "%s accepted", json);
        cr_expect(strstr(err, bad[i][0]) != NULL, "%s: %s", json, err);
        mc_profile_free(p);
    }
}

/* Every catalogue entry is complete and loads on its own on top of the
 * reference, as the conformance runner applies them. */
Test(profile, every_catalogue_deviation_loads_alone) {
    char dirbuf[512], err[512];
    const char *pdir = mc_test_path("profiles", dirbuf, sizeof dirbuf);
    cJSON *cat = mc_catalogue_load(pdir, err, sizeof err);
    cr_assert(cat != NULL, "%s", err);
    cr_expect(ge(int, cJSON_GetArraySize(cat), 24));
    cJSON *d;
    cJSON_ArrayForEach(d, cat) {
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "id"));
        cr_assert(id != NULL);
        static const char *keys[] = {"title", "layer", "explanation"};
        for (int k = 0; k < 3; k++)
            cr_expect(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(d, keys[k])), "%s lacks %s", id, keys[k]);
        cJSON *catches = cJSON_GetObjectItemCaseSensitive(d, "catches");
        cr_expect(cJSON_IsArray(catches) && cJSON_GetArraySize(catches) > 0, "%s lacks catches", id);
        const char *extra[1] = {id};
        mc_profile *p = mc_profile_load_with(pdir, "conformant", extra, 1, err, sizeof err);
        cr_expect(p != NULL, "%s: %s", id, err);
        if (p == NULL) continue;
        int set = 0;
        for (int k = 0; k < MC_KNOB_COUNT; k++) set += p->src[k] != NULL;
        cr_expect(gt(int, set, 0), "%s sets no knob", id);
        mc_profile_free(p);
    }
    cJSON_Delete(cat);
}

Test(profile, catalogue_reference_with_a_value, .init = setup) {
    char dirbuf[512], err[512];
    const char *pdir = mc_test_path("profiles", dirbuf, sizeof dirbuf);
    const char *extra[] = {"slow-api=1234", "catalog-other-region=\"north\""};
    mc_profile *p = mc_profile_load_with(pdir, "conformant", extra, 2, err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    cr_expect(eq(i64, p->iv[MC_KNOB_LATENCY_MS], 1234));
    cr_expect(eq(str, p->sv[MC_KNOB_CATALOG_REGION], "north"));
    cr_expect(eq(str, p->name, "conformant+slow-api=1234+catalog-other-region=\"north\""));
    mc_profile_free(p);
    const char *lag[] = {"list-lag=60"};
    p = mc_profile_load_with(pdir, "conformant", lag, 1, err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    cr_expect(eq(int, p->rules[MC_KNOB_LISTS_HIDE_NEW_S]->from, 60), "a number replaces each rule's N");
    cr_expect(eq(str, p->rules[MC_KNOB_LISTS_HIDE_NEW_S]->text, "compute 60"));
    mc_profile_free(p);
    const char *bad[] = {"slow-api=-5"};
    cr_expect(mc_profile_load_with(pdir, "conformant", bad, 1, err, sizeof err) == NULL);
    cr_expect(strstr(err, "latency_ms") != NULL, "%s", err);
}

/* Every shipped profile loads, and every deviant one changes something. */
Test(profile, every_shipped_profile_loads) {
    char dirbuf[512], err[512], path[700];
    const char *pdir = mc_test_path("profiles", dirbuf, sizeof dirbuf);
    static const char *names[] = {"conformant", "slow-flaky", "proxy-mangled", "rate-limited-proxy",
                                  "legacy-cloud", "private-catalog", "vendor-gateway", "no-neutron",
                                  "provider-network-cloud", "strict-low-quota", "eventually-consistent",
                                  "ipv6-first-cloud", "paginating-gateway", "unconfigured-guests"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.json", pdir, names[i]);
        cr_assert(access(path, R_OK) == 0, "%s missing", path);
        mc_profile *p = mc_profile_load(pdir, names[i], err, sizeof err);
        cr_assert(p != NULL, "%s: %s", names[i], err);
        int set = 0;
        for (int k = 0; k < MC_KNOB_COUNT; k++) set += p->src[k] != NULL;
        if (i == 0)
            cr_expect(eq(int, set, 0));
        else
            cr_expect(ge(int, set, 1), "%s changes nothing", names[i]);
        cr_expect(gt(sz, strlen(p->description), 20));
        mc_profile_free(p);
    }
}
