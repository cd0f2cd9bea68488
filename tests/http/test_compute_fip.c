/* HTTP tests of Nova's floating-IP proxy (compute_fip.c): os-floating-ips,
 * os-floating-ip-pools and addFloatingIp/removeFloatingIp, reading and
 * writing the Neutron floating IPs. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define C "/compute/v2.1"
#define PUBLIC "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define PRIVATE "[{\"uuid\": \"3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e\"}]"

static char *tok, *alt_tok;

static void setup(void) {
    mc_test_start(NULL);
    tok = mc_test_token("demo", "demo");
    alt_tok = mc_test_token("alt_demo", "alt_demo");
}
static void teardown(void) {
    free(tok);
    free(alt_tok);
    mc_test_stop();
}

TestSuite(compute_fip, .init = setup, .fini = teardown);

static mc_resp call(enum evhttp_cmd_type m, const char *path, const char *body, const char *t, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv ? mv : "2.1");
    return mc_call(m, path, body, t, h);
}

/* Allocates a floating IP from 'pool' as 't'; its id and address (caller frees). */
static char *allocate(const char *t, const char *pool, char *ip, size_t ipsz) {
    char body[128];
    snprintf(body, sizeof body, "{\"pool\": \"%s\"}", pool);
    mc_resp r = call(EVHTTP_REQ_POST, C "/os-floating-ips", body, t, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "floating_ip.id"));
    snprintf(ip, ipsz, "%s", mc_jstr(r.json, "floating_ip.ip"));
    mc_resp_free(&r);
    return id;
}

static char *active_server(const char *t, const char *name, const char *networks) {
    char *id = mc_test_server(t, name, NULL, networks, NULL);
    mc_test_server_wait(t, id, "ACTIVE");
    return id;
}

static mc_resp action(const char *t, const char *server, const char *verb, const char *address, const char *mv) {
    char body[160];
    snprintf(body, sizeof body, "{\"%s\": {\"address\": \"%s\"}}", verb, address);
    return call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", server), body, t, mv);
}

Test(compute_fip, pools_allocate_show_list_release) {
    mc_resp r = call(EVHTTP_REQ_GET, C "/os-floating-ip-pools", NULL, tok, NULL);
    mc_expect_body(r, "{\"floating_ip_pools\":[{\"name\":\"public\"}]}");

    char ip[64], ip2[64];
    char *id = allocate(tok, "public", ip, sizeof ip);
    char *id2 = allocate(tok, PUBLIC, ip2, sizeof ip2);   /* a pool by network id */
    cr_expect(mc_not(strcmp(ip, ip2) == 0));
    cr_expect(eq(int, strncmp(ip, "172.24.4.", 9), 0), "%s", ip);

    /* without a body: the default pool */
    r = call(EVHTTP_REQ_POST, C "/os-floating-ips", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floating_ip.pool"), "public"));
    char *id3 = strdup(mc_jstr(r.json, "floating_ip.id"));
    mc_resp_free(&r);

    r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    char want[400];
    snprintf(want, sizeof want, "{\"floating_ip\":{\"id\":\"%s\",\"ip\":\"%s\",\"pool\":\"public\",\"fixed_ip\":null,"
             "\"instance_id\":null}}", id, ip);
    cr_expect(eq(str, r.body, want));
    mc_resp_free(&r);

    /* the same record through Neutron */
    r = mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/floatingips/%s", id), NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.floating_ip_address"), ip));
    mc_resp_free(&r);

    mc_expect_count(call(EVHTTP_REQ_GET, C "/os-floating-ips", NULL, tok, NULL), "floating_ips", 3);
    mc_expect_count(call(EVHTTP_REQ_GET, C "/os-floating-ips", NULL, alt_tok, NULL), "floating_ips", 0);

    mc_expect_status(call(EVHTTP_REQ_DELETE, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), 202);
    mc_expect_error(call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), MC_COMPUTE, 404,
                    mc_pathf("Floating IP not found for ID %s", id));
    mc_expect_status(mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/floatingips/%s", id), NULL, tok, NULL), 404);
    mc_expect_error(call(EVHTTP_REQ_DELETE, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), MC_COMPUTE, 404,
                    mc_pathf("Floating IP not found for ID %s", id));
    mc_expect_count(call(EVHTTP_REQ_GET, C "/os-floating-ips", NULL, tok, NULL), "floating_ips", 2);
    free(id);
    free(id2);
    free(id3);
    mc_assert_no_leaks();
}

Test(compute_fip, bad_pools_other_projects_and_microversions) {
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-floating-ips", "{\"pool\": \"non_exist_pool\"}", tok, NULL), MC_COMPUTE,
                    404, "Floating IP pool not found.");
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-floating-ips", "{\"pool\": 5}", tok, NULL), MC_COMPUTE, 404,
                    "Floating IP pool not found.");
    /* a network that is not external is no pool */
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-floating-ips", "{\"pool\": \"private\"}", tok, NULL), MC_COMPUTE, 404,
                    "Floating IP pool not found.");

    char ip[64];
    char *id = allocate(alt_tok, "public", ip, sizeof ip);
    mc_expect_error(call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), MC_COMPUTE, 404, NULL);
    mc_expect_error(call(EVHTTP_REQ_DELETE, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), MC_COMPUTE, 404,
                    NULL);
    mc_expect_status(call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, alt_tok, NULL), 200);

    /* the proxies end at 2.35 */
    mc_expect_error(call(EVHTTP_REQ_GET, C "/os-floating-ips", NULL, tok, "2.36"), MC_COMPUTE, 404,
                    "The resource could not be found.");
    mc_expect_error(call(EVHTTP_REQ_GET, C "/os-floating-ip-pools", NULL, tok, "2.36"), MC_COMPUTE, 404, NULL);
    mc_expect_error(call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, alt_tok, "2.36"), MC_COMPUTE, 404,
                    NULL);
    mc_expect_status(call(EVHTTP_REQ_GET, C "/os-floating-ips", NULL, tok, "2.35"), 200);

    /* over the Neutron quota: Nova's 403 */
    char *admin = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/network/v2.0/quotas/8e4b5a3f9c2d4e1fa0b6c7d8e9f01234",
                             "{\"quota\": {\"floatingip\": 0}}", admin, NULL), 200);
    mc_expect_error(call(EVHTTP_REQ_POST, C "/os-floating-ips", "{\"pool\": \"public\"}", tok, NULL), MC_COMPUTE, 403,
                    "IP allocation over quota in pool public.");
    free(admin);
    free(id);
    mc_assert_no_leaks();
}

Test(compute_fip, associate_moves_and_disassociate) {
    char *s1 = active_server(tok, "fip1", PRIVATE);
    char *s2 = active_server(tok, "fip2", PRIVATE);
    char ip[64], ip2[64];
    char *id = allocate(tok, "public", ip, sizeof ip);
    char *id2 = allocate(tok, "public", ip2, sizeof ip2);

    mc_expect_status(action(tok, s1, "addFloatingIp", ip, NULL), 202);
    mc_resp r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floating_ip.instance_id"), s1));
    cr_expect(eq(int, strncmp(mc_jstr(r.json, "floating_ip.fixed_ip"), "10.0.0.", 7), 0));
    mc_resp_free(&r);
    /* Nova's addresses show it (from Neutron) */
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/ips", s1), NULL, tok, NULL);
    cr_expect(mc_not(strstr(r.body, ip) == NULL), "%s", r.body);
    mc_resp_free(&r);

    /* that fixed address has a floating IP already: Neutron's 409, Nova's 400 */
    mc_expect_error(action(tok, s1, "addFloatingIp", ip2, NULL), MC_COMPUTE, 400, NULL);

    /* associating it again moves it to the other server */
    mc_expect_status(action(tok, s2, "addFloatingIp", ip, NULL), 202);
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floating_ip.instance_id"), s2));
    mc_resp_free(&r);
    mc_expect_error(action(tok, s1, "removeFloatingIp", ip, NULL), MC_COMPUTE, 409,
                    mc_pathf("Floating IP %s is not associated with instance %s.", ip, s1));
    mc_expect_status(action(tok, s2, "removeFloatingIp", ip, NULL), 202);
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "floating_ip.instance_id")));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "floating_ip.fixed_ip")));
    mc_resp_free(&r);
    mc_expect_error(action(tok, s2, "removeFloatingIp", ip, NULL), MC_COMPUTE, 409, NULL);

    /* an explicit fixed address that is the server's, and one that is not */
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", s1), NULL, tok, NULL);
    char fixed[64];
    snprintf(fixed, sizeof fixed, "%s", mc_jstr(r.json, "server.addresses.private.0.addr"));
    mc_resp_free(&r);
    char body[200];
    snprintf(body, sizeof body, "{\"addFloatingIp\": {\"address\": \"%s\", \"fixed_address\": \"10.9.9.9\"}}", ip);
    mc_expect_error(call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", s1), body, tok, NULL), MC_COMPUTE, 400,
                    "Specified fixed address not assigned to instance");
    snprintf(body, sizeof body, "{\"addFloatingIp\": {\"address\": \"%s\", \"fixed_address\": \"%s\"}}", ip, fixed);
    mc_expect_status(call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", s1), body, tok, NULL), 202);

    /* releasing an associated floating IP disassociates it */
    mc_expect_status(call(EVHTTP_REQ_DELETE, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL), 202);
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/ips", s1), NULL, tok, NULL);
    cr_expect(eq(ptr, strstr(r.body, ip), NULL), "%s", r.body);
    mc_resp_free(&r);
    free(s1);
    free(s2);
    free(id);
    free(id2);
    mc_assert_no_leaks();
}

Test(compute_fip, action_errors) {
    char *s1 = active_server(tok, "fipx", PRIVATE);
    char *bare = active_server(tok, "bare", NULL);   /* networks "none" */
    char ip[64], alt_ip[64];
    char *id = allocate(tok, "public", ip, sizeof ip);
    char *alt_id = allocate(alt_tok, "public", alt_ip, sizeof alt_ip);

    mc_expect_error(action(tok, s1, "addFloatingIp", "0.0.0.0", NULL), MC_COMPUTE, 404, "floating IP not found");
    mc_expect_error(action(tok, s1, "removeFloatingIp", "0.0.0.0", NULL), MC_COMPUTE, 404,
                    "Floating IP not found for address 0.0.0.0.");
    mc_expect_error(action(tok, s1, "addFloatingIp", "", NULL), MC_COMPUTE, 400, NULL);
    mc_expect_error(action(tok, s1, "addFloatingIp", "not-an-ip", NULL), MC_COMPUTE, 400, NULL);
    mc_expect_error(call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", s1), "{\"addFloatingIp\": {}}", tok, NULL),
                    MC_COMPUTE, 400, NULL);
    mc_expect_error(call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", s1),
                         mc_pathf("{\"addFloatingIp\": {\"address\": \"%s\", \"x\": 1}}", ip), tok, NULL),
                    MC_COMPUTE, 400, NULL);
    /* another project's floating IP is not found */
    mc_expect_error(action(tok, s1, "addFloatingIp", alt_ip, NULL), MC_COMPUTE, 404, "floating IP not found");
    /* an unknown server */
    mc_expect_error(action(tok, "8a1e2b3c-0000-4000-8000-000000000000", "addFloatingIp", ip, NULL), MC_COMPUTE, 404,
                    "Instance 8a1e2b3c-0000-4000-8000-000000000000 could not be found.");
    /* a server without a port */
    mc_expect_error(action(tok, bare, "addFloatingIp", ip, NULL), MC_COMPUTE, 400, "Instance network is not ready yet");
    /* gone from 2.44 */
    mc_expect_error(action(tok, s1, "addFloatingIp", ip, "2.44"), MC_COMPUTE, 404, "The resource could not be found.");
    mc_expect_status(action(tok, s1, "addFloatingIp", ip, "2.43"), 202);

    /* a network with no router to the pool: Neutron's 404, Nova's 400 */
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/networks", "{\"network\": {\"name\": \"island\"}}", tok, NULL);
    cr_assert(eq(int, r.status, 201));
    char net[40], nets[80];
    snprintf(net, sizeof net, "%s", mc_jstr(r.json, "network.id"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/network/v2.0/subnets",
                             mc_pathf("{\"subnet\": {\"network_id\": \"%s\", \"cidr\": \"10.77.0.0/24\", \"ip_version\": 4}}", net),
                             tok, NULL), 201);
    snprintf(nets, sizeof nets, "[{\"uuid\": \"%s\"}]", net);
    char *island = active_server(tok, "island", nets);
    mc_expect_status(action(tok, s1, "removeFloatingIp", ip, NULL), 202);
    r = action(tok, island, "addFloatingIp", ip, NULL);
    cr_expect(eq(int, r.status, 400));
    cr_expect(mc_not(strstr(r.body, "is not reachable") == NULL), "%s", r.body);
    mc_resp_free(&r);
    r = call(EVHTTP_REQ_GET, mc_pathf(C "/os-floating-ips/%s", id), NULL, tok, NULL);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "floating_ip.instance_id")));
    mc_resp_free(&r);
    free(island);
    free(s1);
    free(bare);
    free(id);
    free(alt_id);
    mc_assert_no_leaks();
}
