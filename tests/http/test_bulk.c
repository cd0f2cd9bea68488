/* HTTP tests of POST /mockcloud/v1/bulk (benchmark seeding: copies of a
 * server) and of the quota scan being skipped when no limit applies. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(bulk, .init = setup, .fini = teardown);

static char *boot(const char *tok) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers",
                        "{\"server\":{\"name\":\"tpl\",\"flavorRef\":\"1\",\"imageRef\":\"" CIRROS "\","
                        "\"networks\":\"none\"}}", tok, "OpenStack-API-Version: compute 2.37");
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    return id;
}

static int count_servers(const char *tok) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers/detail", NULL, tok, NULL);
    int n = cJSON_GetArraySize(mc_jpath(r.json, "servers"));
    mc_resp_free(&r);
    return n;
}

Test(bulk, clones_a_settled_server) {
    char *tok = mc_test_token("demo", "demo");
    char *id = boot(tok);
    char body[200];
    snprintf(body, sizeof body, "{\"kind\":\"servers\",\"from\":\"%s\",\"count\":3}", id);
    /* Still building: refused. */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/bulk", body, NULL, NULL), 400);
    mc_resp r;
    mc_test_sleep_ms(500);
    r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/bulk", body, NULL, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "created"), 3));
    mc_resp_free(&r);
    cr_expect(eq(int, count_servers(tok), 4));
    /* The copies are real servers: shown ACTIVE with their own id, and deletable. */
    r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers/detail?limit=1", NULL, tok, NULL);
    const char *cid = mc_jstr(r.json, "servers.0.id");
    cr_assert(cid != NULL);
    cr_expect(ne(str, (char *)cid, id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "servers.0.status"), "ACTIVE"));
    cr_expect(eq(int, strncmp(mc_jstr(r.json, "servers.0.name"), "tpl-", 4), 0));
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", cid);
    mc_resp d = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
    cr_expect(eq(int, d.status, 204));
    mc_resp_free(&d);
    mc_resp_free(&r);
    free(id);
    free(tok);
    mc_assert_no_leaks();
}

Test(bulk, bad_requests_are_400) {
    static const char *bodies[] = {
        "{\"kind\":\"networks\",\"count\":1}",
        "{\"kind\":\"servers\",\"from\":\"nope\",\"count\":1}",
        "{\"kind\":\"servers\",\"from\":\"nope\",\"count\":-1}",
        "{\"kind\":\"servers\",\"from\":\"nope\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/bulk", bodies[i], NULL, NULL);
        cr_expect(eq(int, r.status, 400), "%s -> %s", bodies[i], r.body);
        cr_expect(mc_jstr(r.json, "error.message") != NULL);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

/* Unlimited quotas: creates succeed past the default limit of 10 (the usage
 * scan is skipped); a limit set again is enforced again. */
Test(bulk, unlimited_quota_then_limit) {
    char *tok = mc_test_token("demo", "demo");
    char *admin = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/compute/v2.1/os-quota-sets/" DEMO_PROJECT,
                        "{\"quota_set\":{\"instances\":-1,\"cores\":-1,\"ram\":-1}}", admin, NULL), 200);
    for (int i = 0; i < 12; i++) free(boot(tok));
    cr_expect(eq(int, count_servers(tok), 12));
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/compute/v2.1/os-quota-sets/" DEMO_PROJECT,
                "{\"quota_set\":{\"instances\":12}}", admin, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers",
                "{\"server\":{\"name\":\"x\",\"flavorRef\":\"1\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}",
                tok, "OpenStack-API-Version: compute 2.37"), 403);
    free(tok);
    free(admin);
    mc_assert_no_leaks();
}

static const char *host_id_of(const char *tok, const char *id, char *buf, size_t n) {
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    const char *h = mc_jstr(r.json, "server.hostId");
    snprintf(buf, n, "%s", h ? h : "(none)");
    mc_resp_free(&r);
    return buf;
}

/* hostId (sha224 of project + host, memoised in compute_servers.c): the same
 * within a project, different across projects, whatever the call order. */
Test(bulk, host_id_per_project) {
    char *tok = mc_test_token("demo", "demo");
    char *alt = mc_test_token("alt_demo", "alt_demo");
    char *a = boot(tok), *b = boot(alt), *c = boot(tok);
    char ha[64], hb[64], hc[64], ha2[64];
    host_id_of(tok, a, ha, sizeof ha);
    host_id_of(alt, b, hb, sizeof hb);
    host_id_of(tok, c, hc, sizeof hc);
    host_id_of(tok, a, ha2, sizeof ha2);
    cr_expect(eq(sz, strlen(ha), 56), "%s", ha);
    cr_expect(eq(str, ha, hc));
    cr_expect(eq(str, ha, ha2));
    cr_expect(ne(str, ha, hb));
    cr_expect(eq(sz, strlen(hb), 56), "%s", hb);
    free(a);
    free(b);
    free(c);
    free(tok);
    free(alt);
    mc_assert_no_leaks();
}
