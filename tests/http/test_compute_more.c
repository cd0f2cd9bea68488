/* HTTP tests of Nova's later microversions and operator details:
 * host_status (2.16) from the compute services, the APIs Nova removed
 * (410), unshelve to a host or out of a zone (2.77, 2.91), key pair names
 * and import only (2.92), volume-backed rebuild (2.93) and FQDN hostnames
 * (2.94). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define C "/compute/v2.1"
#define PUBKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn2Zy1tFJZq3ld/c1u2w2PFeFFdjYXhzq0NqIGeD0Rr test@host"
#define GONE "This resource is no longer available.  No forwarding address is given."

static char *tok, *admin_tok;

static void setup(void) {
    mc_test_start(NULL);
    tok = mc_test_token("demo", "demo");
    admin_tok = mc_test_token("admin", "admin");
}
static void teardown(void) {
    free(tok);
    free(admin_tok);
    mc_test_stop();
}

TestSuite(compute_more, .init = setup, .fini = teardown);

static mc_resp call(enum evhttp_cmd_type m, const char *path, const char *body, const char *t, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv ? mv : "2.1");
    return mc_call(m, path, body, t, h);
}

static mc_resp act(const char *t, const char *server, const char *body, const char *mv) {
    return call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", server), body, t, mv);
}

/* The server's field at 'path' as 't' sees it at 'mv', into buf. */
static const char *field(const char *t, const char *id, const char *mv, const char *path, char *buf, size_t n) {
    mc_resp r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", id), NULL, t, mv);
    const char *v = mc_jstr(r.json, path);
    snprintf(buf, n, "%s", v ? v : "(null)");
    mc_resp_free(&r);
    return buf;
}

/* The uuid of host's nova-compute service (2.53). */
static void service_id(const char *host, char *out, size_t n) {
    mc_resp r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-services?binary=nova-compute&host=%s", host), NULL, admin_tok, "2.53");
    snprintf(out, n, "%s", mc_jstr(r.json, "services.0.id"));
    mc_resp_free(&r);
}

Test(compute_more, host_status_follows_the_compute_service) {
    char *id = mc_test_server(tok, "hs", NULL, NULL, NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    char host[64], buf[64], svc[64];
    field(admin_tok, id, "2.16", "server.OS-EXT-SRV-ATTR:host", host, sizeof host);
    cr_assert(eq(int, strncmp(host, "mockcloud-compute-", 18), 0), "%s", host);
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.16", "server.host_status", buf, sizeof buf), "UP"));
    /* not before 2.16, never for a member */
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.15", "server.host_status", buf, sizeof buf), "(null)"));
    cr_expect(eq(str, (char *)field(tok, id, "2.16", "server.host_status", buf, sizeof buf), "(null)"));
    service_id(host, svc, sizeof svc);

    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/os-services/%s", svc), "{\"status\": \"disabled\"}", admin_tok, "2.53"),
                     200);
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.16", "server.host_status", buf, sizeof buf), "MAINTENANCE"));
    /* the detail list says the same (its cached views follow the services) */
    mc_resp r = call(EVHTTP_REQ_GET, C "/servers/detail?all_tenants=1", NULL, admin_tok, "2.16");
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "servers.0.host_status") ? mc_jstr(r.json, "servers.0.host_status") : "none"), "MAINTENANCE"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/os-services/%s", svc), "{\"forced_down\": true}", admin_tok, "2.53"),
                     200);
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.16", "server.host_status", buf, sizeof buf), "DOWN"));
    r = call(EVHTTP_REQ_GET, C "/servers/detail?all_tenants=1", NULL, admin_tok, "2.16");
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "servers.0.host_status") ? mc_jstr(r.json, "servers.0.host_status") : "none"), "DOWN"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/os-services/%s", svc),
                          "{\"status\": \"enabled\", \"forced_down\": false}", admin_tok, "2.53"), 200);
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.16", "server.host_status", buf, sizeof buf), "UP"));
    free(id);
    mc_assert_no_leaks();
}

Test(compute_more, removed_apis_are_gone) {
    mc_expect_error(call(EVHTTP_REQ_GET, C "/os-agents", NULL, tok, NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-agents", "{\"agent\": {}}", admin_tok, NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(call(EVHTTP_REQ_PUT, C "/os-agents/1", "{\"para\": {}}", admin_tok, NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(call(EVHTTP_REQ_DELETE, C "/os-agents/1", NULL, admin_tok, NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(call(EVHTTP_REQ_GET, C "/os-fping", NULL, tok, NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(call(EVHTTP_REQ_GET, C "/os-cells", NULL, admin_tok, NULL), MC_COMPUTE, 410, GONE);
    char *id = mc_test_server(tok, "gone", NULL, NULL, NULL);
    mc_expect_error(act(admin_tok, id, "{\"resetNetwork\": null}", NULL), MC_COMPUTE, 410, GONE);
    mc_expect_error(act(admin_tok, id, "{\"injectNetworkInfo\": null}", NULL), MC_COMPUTE, 410, GONE);
    /* before any lookup, as Nova's removed controller */
    mc_expect_error(act(tok, "00000000-0000-4000-8000-000000000000", "{\"resetNetwork\": null}", NULL), MC_COMPUTE, 410, GONE);
    free(id);
    mc_assert_no_leaks();
}

/* Boots, waits for ACTIVE, shelves and waits for SHELVED_OFFLOADED. */
static char *shelved(const char *name, const char *extra) {
    char *id = mc_test_server(tok, name, NULL, NULL, extra);
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_expect_status(act(tok, id, "{\"shelve\": null}", NULL), 202);
    mc_test_server_wait(tok, id, "SHELVED_OFFLOADED");
    return id;
}

Test(compute_more, unshelve_to_a_host_and_out_of_a_zone) {
    char *id = shelved("sh1", NULL);
    char buf[64];
    /* the schema of each range */
    mc_expect_status(act(admin_tok, id, "{\"unshelve\": {\"host\": \"mockcloud-compute-2\"}}", "2.90"), 400);
    mc_expect_status(act(tok, id, "{\"unshelve\": {\"availability_zone\": null}}", "2.90"), 400);
    mc_expect_status(act(tok, id, "{\"unshelve\": {\"x\": 1}}", "2.91"), 400);
    mc_expect_status(act(tok, id, "{\"unshelve\": \"nova\"}", "2.91"), 400);
    /* a host is an admin's choice */
    mc_expect_error(act(tok, id, "{\"unshelve\": {\"host\": \"mockcloud-compute-2\"}}", "2.91"), MC_COMPUTE, 403,
                    "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
    mc_expect_error(act(admin_tok, id, "{\"unshelve\": {\"host\": \"nohost\"}}", "2.91"), MC_COMPUTE, 400,
                    "Compute host nohost could not be found.");
    mc_expect_error(act(admin_tok, id, "{\"unshelve\": {\"availability_zone\": \"nozone\"}}", "2.91"), MC_COMPUTE, 400,
                    "The requested availability zone is not available");
    for (int round = 0; round < 2; round++) {
        const char *want = round == 0 ? "mockcloud-compute-2" : "mockcloud-compute-1";
        mc_expect_status(act(admin_tok, id, mc_pathf("{\"unshelve\": {\"host\": \"%s\"}}", want), "2.91"), 202);
        mc_test_server_wait(tok, id, "ACTIVE");
        cr_expect(eq(str, (char *)field(admin_tok, id, "2.91", "server.OS-EXT-SRV-ATTR:host", buf, sizeof buf), (char *)want));
        if (round == 0) {
            mc_expect_status(act(tok, id, "{\"shelve\": null}", NULL), 202);
            mc_test_server_wait(tok, id, "SHELVED_OFFLOADED");
        }
    }
    /* not shelved any more */
    mc_expect_status(act(admin_tok, id, "{\"unshelve\": {\"host\": \"mockcloud-compute-2\"}}", "2.91"), 409);

    /* a server pinned to a zone: a host outside it is 409, null unpins */
    mc_expect_status(call(EVHTTP_REQ_POST, C "/os-aggregates",
                          "{\"aggregate\": {\"name\": \"agg\", \"availability_zone\": \"zone-b\"}}", admin_tok, NULL), 200);
    mc_resp r = call(EVHTTP_REQ_GET, C "/os-aggregates", NULL, admin_tok, NULL);
    int agg = (int)mc_jnum(r.json, "aggregates.0.id");
    mc_resp_free(&r);
    mc_expect_status(call(EVHTTP_REQ_POST, mc_pathf(C "/os-aggregates/%d/action", agg),
                          "{\"add_host\": {\"host\": \"mockcloud-compute-1\"}}", admin_tok, NULL), 200);
    char *z = shelved("sh2", "\"availability_zone\": \"zone-b\"");
    mc_expect_error(act(admin_tok, z, "{\"unshelve\": {\"host\": \"mockcloud-compute-2\"}}", "2.91"), MC_COMPUTE, 409,
                    "Host \"mockcloud-compute-2\" is not in the availability zone \"zone-b\".");
    mc_expect_status(act(admin_tok, z, "{\"unshelve\": {\"availability_zone\": null, \"host\": \"mockcloud-compute-2\"}}",
                         "2.91"), 202);
    mc_test_server_wait(tok, z, "ACTIVE");
    cr_expect(eq(str, (char *)field(admin_tok, z, "2.91", "server.OS-EXT-SRV-ATTR:host", buf, sizeof buf),
                 "mockcloud-compute-2"));
    cr_expect(eq(str, (char *)field(tok, z, "2.91", "server.OS-EXT-AZ:availability_zone", buf, sizeof buf), "nova"));
    free(id);
    free(z);
    mc_assert_no_leaks();
}

Test(compute_more, keypairs_2_92_import_only_and_names) {
    const char *body = "{\"keypair\": {\"name\": \"me@host.example\", \"public_key\": \"" PUBKEY "\"}}";
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-keypairs", body, tok, "2.91"), MC_COMPUTE, 400,
                    "Keypair data is invalid: Keypair name contains unsafe characters");
    mc_expect_status(call(EVHTTP_REQ_POST, C "/os-keypairs", body, tok, "2.92"), 201);
    mc_expect_status(call(EVHTTP_REQ_POST, C "/os-keypairs",
                          "{\"keypair\": {\"name\": \"bad!name\", \"public_key\": \"" PUBKEY "\"}}", tok, "2.92"), 400);
    /* no generation any more */
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-keypairs", "{\"keypair\": {\"name\": \"gen\"}}", tok, "2.92"), MC_COMPUTE,
                    400, "Invalid input for field/attribute keypair. 'public_key' is a required property");
    mc_resp r = call(EVHTTP_REQ_POST, C "/os-keypairs", "{\"keypair\": {\"name\": \"gen\"}}", tok, "2.91");
    cr_expect(eq(int, r.status, 201));
    cr_expect(mc_jstr(r.json, "keypair.private_key") != NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(compute_more, hostnames_2_90_and_fqdn_2_94) {
    /* 2.90: one label */
    mc_expect_status(call(EVHTTP_REQ_POST, C "/servers",
                          "{\"server\": {\"name\": \"h\", \"imageRef\": \"3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71\", "
                          "\"flavorRef\": \"42\", \"networks\": \"none\", \"hostname\": \"web.example.com\"}}",
                          tok, "2.90"), 400);
    mc_expect_status(call(EVHTTP_REQ_POST, C "/servers",
                          "{\"server\": {\"name\": \"h\", \"imageRef\": \"3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71\", "
                          "\"flavorRef\": \"42\", \"networks\": \"none\", \"hostname\": \"-web\"}}", tok, "2.94"), 400);
    mc_resp r = call(EVHTTP_REQ_POST, C "/servers",
                     "{\"server\": {\"name\": \"h\", \"imageRef\": \"3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71\", "
                     "\"flavorRef\": \"42\", \"networks\": \"none\", \"hostname\": \"web.example.com\"}}", tok, "2.94");
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    char buf[300];
    cr_expect(eq(str, (char *)field(tok, id, "2.94", "server.OS-EXT-SRV-ATTR:hostname", buf, sizeof buf),
                 "web.example.com"));
    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s", id), "{\"server\": {\"hostname\": \"a.b\"}}", tok, "2.93"),
                     400);
    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s", id), "{\"server\": {\"hostname\": \"db.example.org\"}}",
                          tok, "2.94"), 200);
    cr_expect(eq(str, (char *)field(tok, id, "2.94", "server.OS-EXT-SRV-ATTR:hostname", buf, sizeof buf),
                 "db.example.org"));
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_expect_status(act(tok, id, "{\"rebuild\": {\"imageRef\": \"3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71\", "
                                  "\"hostname\": \"re.example.net\"}}", "2.94"), 202);
    cr_expect(eq(str, (char *)field(tok, id, "2.94", "server.OS-EXT-SRV-ATTR:hostname", buf, sizeof buf),
                 "re.example.net"));
    free(id);
    mc_assert_no_leaks();
}

/* Forces host's nova-compute down (or up again) through 2.53's PUT. */
static void force_down(const char *host, bool down) {
    char svc[64];
    service_id(host, svc, sizeof svc);
    mc_expect_status(call(EVHTTP_REQ_PUT, mc_pathf(C "/os-services/%s", svc),
                          down ? "{\"forced_down\": true}" : "{\"forced_down\": false}", admin_tok, "2.53"), 200);
}

Test(compute_more, evacuate_from_a_down_host) {
    char *id = mc_test_server(tok, "ev", NULL, NULL, NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    char host[64], buf[64];
    field(admin_tok, id, "2.1", "server.OS-EXT-SRV-ATTR:host", host, sizeof host);
    const char *other = strcmp(host, "mockcloud-compute-1") == 0 ? "mockcloud-compute-2" : "mockcloud-compute-1";
    mc_expect_error(act(tok, id, "{\"evacuate\": {}}", "2.68"), MC_COMPUTE, 403, NULL);
    /* its host is up */
    mc_expect_error(act(admin_tok, id, "{\"evacuate\": {}}", "2.68"), MC_COMPUTE, 400,
                    mc_pathf("Compute service of %s is still in use.", host));
    force_down(host, true);
    /* the schema of each range, the host named */
    mc_expect_status(act(admin_tok, id, "{\"evacuate\": {}}", "2.13"), 400);   /* onSharedStorage required */
    mc_expect_status(act(admin_tok, id, "{\"evacuate\": {\"force\": true}}", "2.68"), 400);
    mc_expect_error(act(admin_tok, id, "{\"evacuate\": {\"force\": true}}", "2.29"), MC_COMPUTE, 400,
                    "Can't force to a non-provided destination");
    mc_expect_error(act(admin_tok, id, "{\"evacuate\": {\"host\": \"nohost\"}}", "2.68"), MC_COMPUTE, 404,
                    "Compute host nohost not found.");
    mc_expect_error(act(admin_tok, id, mc_pathf("{\"evacuate\": {\"host\": \"%s\"}}", host), "2.68"), MC_COMPUTE, 400,
                    "The target host can't be the same one.");
    /* before 2.14 the reply has the admin password */
    mc_resp r = act(admin_tok, id, "{\"evacuate\": {\"onSharedStorage\": false, \"adminPass\": \"pw\"}}", "2.13");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "adminPass") ? mc_jstr(r.json, "adminPass") : ""), "pw"));
    mc_resp_free(&r);
    mc_test_server_wait(tok, id, "ACTIVE");   /* ACTIVE before 2.95 */
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.1", "server.OS-EXT-SRV-ATTR:host", buf, sizeof buf), (char *)other));
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?instance_uuid=%s", id), NULL, admin_tok, "2.23");
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "migrations.0.migration_type") ? mc_jstr(r.json, "migrations.0.migration_type") : ""),
                 "evacuation"), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "migrations.0.status") ? mc_jstr(r.json, "migrations.0.status") : ""), "done"));
    mc_resp_free(&r);
    /* back, from 2.95 it ends STOPPED */
    force_down(host, false);
    force_down(other, true);
    r = act(admin_tok, id, mc_pathf("{\"evacuate\": {\"host\": \"%s\"}}", host), "2.95");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, (int)r.len, 0));
    mc_resp_free(&r);
    mc_test_server_wait(tok, id, "SHUTOFF");
    cr_expect(eq(str, (char *)field(admin_tok, id, "2.1", "server.OS-EXT-SRV-ATTR:host", buf, sizeof buf), host));
    /* nowhere to go: ERROR, the migration "error" */
    force_down(host, true);
    mc_expect_status(act(admin_tok, id, "{\"evacuate\": {}}", "2.95"), 200);
    char st[32];
    cr_expect(eq(str, (char *)mc_test_server_status(tok, id, st, sizeof st), "ERROR"));
    free(id);
    mc_assert_no_leaks();
}

Test(compute_more, pinned_availability_zone_2_96) {
    char *plain = mc_test_server(tok, "p0", NULL, NULL, NULL);
    char *pinned = mc_test_server(tok, "p1", NULL, NULL, "\"availability_zone\": \"nova\"");
    mc_resp r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", plain), NULL, tok, "2.96");
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "server.pinned_availability_zone")), "%s", r.body);
    mc_resp_free(&r);
    char buf[64];
    cr_expect(eq(str, (char *)field(tok, pinned, "2.96", "server.pinned_availability_zone", buf, sizeof buf), "nova"));
    cr_expect(eq(str, (char *)field(tok, pinned, "2.95", "server.pinned_availability_zone", buf, sizeof buf), "(null)"));
    r = call(EVHTTP_REQ_GET, C "/servers/detail", NULL, tok, "2.96");
    cr_expect(mc_not(strstr(r.body, "\"pinned_availability_zone\":\"nova\"") == NULL), "%s", r.body);
    cr_expect(mc_not(strstr(r.body, "\"pinned_availability_zone\":null") == NULL), "%s", r.body);
    mc_resp_free(&r);
    /* 2.91's unshelve with a null zone unpins it */
    mc_test_server_wait(tok, pinned, "ACTIVE");
    mc_expect_status(act(tok, pinned, "{\"shelve\": null}", NULL), 202);
    mc_test_server_wait(tok, pinned, "SHELVED_OFFLOADED");
    mc_expect_status(act(tok, pinned, "{\"unshelve\": {\"availability_zone\": null}}", "2.96"), 202);
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", pinned), NULL, tok, "2.96");
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "server.pinned_availability_zone")), "%s", r.body);
    mc_resp_free(&r);
    free(plain);
    free(pinned);
    mc_assert_no_leaks();
}
