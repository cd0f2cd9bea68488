/* HTTP tests of Neutron v2.0 and unit tests of the netapi.h functions
 * compute uses (ports with IPAM, security groups, floating IPs), against an
 * in-process server seeded with fixtures/network.json. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "http.h"
#include "netapi.h"
#include "store.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_PROJECT "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"
#define PUBLIC_NET "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define DEMO_NET "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e"
#define DEMO_SUBNET "4d5e6f7a-8b9c-4da3-becf-3a4b5c6d7e8f"
#define ALT_NET "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a"

static char *tok, *alt, *adm;

static void setup(void) {
    mc_test_start(NULL);
    tok = mc_test_token("demo", "demo");
    alt = mc_test_token("alt_demo", "alt_demo");
    adm = mc_test_token("admin", "admin");
}
static void teardown(void) {
    free(tok);
    free(alt);
    free(adm);
    mc_test_stop();
}

TestSuite(netapi, .init = setup, .fini = teardown);
TestSuite(network, .init = setup, .fini = teardown);

static mc_resp get(const char *path, const char *t) { return mc_call(EVHTTP_REQ_GET, path, NULL, t, NULL); }
static mc_resp post(const char *path, const char *body, const char *t) { return mc_call(EVHTTP_REQ_POST, path, body, t, NULL); }
static mc_resp put(const char *path, const char *body, const char *t) { return mc_call(EVHTTP_REQ_PUT, path, body, t, NULL); }
static mc_resp del(const char *path, const char *t) { return mc_call(EVHTTP_REQ_DELETE, path, NULL, t, NULL); }

/* Creates a resource and returns its id (caller frees). */
static char *create_id(const char *path, const char *key, const char *body, const char *t) {
    mc_resp r = post(path, body, t);
    cr_assert(eq(int, r.status, 201), "%s -> %d %s", path, r.status, r.body);
    char k[64];
    snprintf(k, sizeof k, "%s.id", key);
    char *id = strdup(mc_jstr(r.json, k));
    mc_resp_free(&r);
    return id;
}

/* ---------------------------------------------------------------- netapi */

static void count_port(mc_record *p, void *arg) {
    (void)p;
    (*(int *)arg)++;
}

Test(netapi, server_port_gets_lowest_free_ip_default_sg_and_release_frees_it) {
    mc_port_req req = {.project_id = DEMO_PROJECT, .network_id = DEMO_NET, .device_id = "srv-1",
                       .device_owner = "compute:nova"};
    int st = 0;
    char err[256] = "";
    mc_record *p = mc_net_port_create(T.srv, &req, &st, err, sizeof err);
    cr_assert(p != NULL, "%d %s", st, err);
    /* 10.0.0.1 is router1's interface */
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "fixed_ips.0.ip_address"), "10.0.0.2"));
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "status"), "DOWN"));
    cr_expect(strncmp(mc_jstr(p->doc, "mac_address"), "fa:16:3e:", 9) == 0);
    mc_record *def = mc_net_secgroup_default(T.srv, DEMO_PROJECT);
    cr_assert(def != NULL);
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "security_groups.0"), def->id));
    /* the SLAAC subnet gives an EUI-64 address too */
    const char *v6 = mc_jstr(p->doc, "fixed_ips.1.ip_address");
    cr_assert(v6 != NULL);
    cr_expect(strstr(v6, "ff:fe") != NULL || strstr(v6, "fffe") != NULL || strstr(v6, "eff:fe") != NULL, "%s", v6);
    char pid[64];
    snprintf(pid, sizeof pid, "%s", p->id);

    mc_net_ports_set_status(T.srv, "srv-1", "ACTIVE");
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "status"), "ACTIVE"));
    int n = 0;
    mc_net_ports_each(T.srv, "srv-1", count_port, &n);
    cr_expect(eq(int, n, 1));

    mc_net_ports_release(T.srv, "srv-1");
    cr_expect(mc_store_find(&T.srv->world[MC_K_PORT], pid) == NULL);
    /* the address is free again */
    mc_record *q = mc_net_port_create(T.srv, &req, &st, err, sizeof err);
    cr_assert(q != NULL);
    cr_expect(eq(str, (char *)mc_jstr(q->doc, "fixed_ips.0.ip_address"), "10.0.0.2"));
    mc_assert_no_leaks();
}

Test(netapi, requested_ip_taken_is_409_unknown_network_404_foreign_404) {
    int st = 0;
    char err[256] = "";
    mc_port_req req = {.project_id = DEMO_PROJECT, .network_id = DEMO_NET, .fixed_ip = "10.0.0.1", .device_id = "s"};
    cr_expect(mc_net_port_create(T.srv, &req, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 409));
    req.fixed_ip = "10.0.0.77";
    mc_record *p = mc_net_port_create(T.srv, &req, &st, err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "fixed_ips.0.ip_address"), "10.0.0.77"));
    req.fixed_ip = "192.168.9.9";
    cr_expect(mc_net_port_create(T.srv, &req, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 400));
    req.fixed_ip = NULL;
    req.network_id = "nope";
    cr_expect(mc_net_port_create(T.srv, &req, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 404));
    req.network_id = ALT_NET;   /* alt_demo's private network */
    cr_expect(mc_net_port_create(T.srv, &req, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 404));
    mc_assert_no_leaks();
}

Test(netapi, attach_existing_port_and_release_detaches_without_deleting) {
    char *pid = create_id("/network/v2.0/ports", "port", "{\"port\":{\"network_id\":\"" DEMO_NET "\"}}", tok);
    int st = 0;
    char err[256];
    cr_expect(eq(int, mc_net_port_attach(T.srv, pid, ALT_PROJECT, "srv-x", "compute:nova", &st, err, sizeof err), -1));
    cr_expect(eq(int, st, 404));
    cr_assert(eq(int, mc_net_port_attach(T.srv, pid, DEMO_PROJECT, "srv-2", "compute:nova", &st, err, sizeof err), 0));
    cr_expect(eq(int, mc_net_port_attach(T.srv, pid, DEMO_PROJECT, "srv-3", "compute:nova", &st, err, sizeof err), -1));
    cr_expect(eq(int, st, 409));
    mc_net_ports_release(T.srv, "srv-2");
    mc_record *p = mc_store_find(&T.srv->world[MC_K_PORT], pid);
    cr_assert(p != NULL);
    cr_expect(eq(str, (char *)mc_jstr(p->doc, "device_id"), ""));
    free(pid);
    mc_assert_no_leaks();
}

static void count_fip(mc_record *f, void *arg) {
    (void)f;
    (*(int *)arg)++;
}

Test(netapi, floating_ip_of_a_server_port_is_listed_and_released) {
    mc_port_req req = {.project_id = DEMO_PROJECT, .network_id = DEMO_NET, .device_id = "srv-f"};
    int st;
    char err[256], body[256];
    mc_record *p = mc_net_port_create(T.srv, &req, &st, err, sizeof err);
    cr_assert(p != NULL);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", p->id);
    char pid[64];
    snprintf(pid, sizeof pid, "%s", p->id);
    char *fid = create_id("/network/v2.0/floatingips", "floatingip", body, tok);
    int n = 0;
    mc_net_floatingips_each(T.srv, pid, count_fip, &n);
    cr_expect(eq(int, n, 1));
    mc_net_ports_release(T.srv, "srv-f");
    mc_record *f = mc_store_find(&T.srv->world[MC_K_FLOATINGIP], fid);
    cr_assert(f != NULL);
    cr_expect(cJSON_IsNull(mc_jpath(f->doc, "port_id")));
    cr_expect(eq(str, (char *)mc_jstr(f->doc, "status"), "DOWN"));
    free(fid);
    mc_assert_no_leaks();
}

Test(netapi, networks_find_and_auto_respect_projects) {
    cr_expect(mc_net_network_find(T.srv, PUBLIC_NET, ALT_PROJECT) != NULL);
    cr_expect(mc_net_network_find(T.srv, DEMO_NET, ALT_PROJECT) == NULL);
    mc_record *a = mc_net_network_auto(T.srv, DEMO_PROJECT);
    mc_record *b = mc_net_network_auto(T.srv, ALT_PROJECT);
    cr_assert(a != NULL && b != NULL);
    cr_expect(eq(str, a->id, DEMO_NET));
    cr_expect(eq(str, b->id, ALT_NET));
    mc_assert_no_leaks();
}

Test(netapi, secgroups_default_rules_create_rule_delete) {
    mc_record *def = mc_net_secgroup_default(T.srv, ALT_PROJECT);
    cr_assert(def != NULL);
    cr_expect(mc_net_secgroup_default(T.srv, ALT_PROJECT) == def);
    cr_expect(mc_net_secgroup_find(T.srv, "default", ALT_PROJECT) == def);
    cr_expect(mc_net_secgroup_find(T.srv, def->id, DEMO_PROJECT) == NULL);
    int st = 0;
    char err[256];
    cr_expect(mc_net_secgroup_create(T.srv, ALT_PROJECT, "default", "", &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 409));
    mc_record *sg = mc_net_secgroup_create(T.srv, ALT_PROJECT, "web", "web servers", &st, err, sizeof err);
    cr_assert(sg != NULL);
    cJSON *rule = cJSON_Parse("{\"security_group_id\":\"x\",\"direction\":\"ingress\",\"protocol\":\"tcp\","
                              "\"port_range_min\":80,\"port_range_max\":80,\"remote_ip_prefix\":\"0.0.0.0/0\"}");
    mc_json_set_str(rule, "security_group_id", sg->id);
    mc_record *ru = mc_net_secgroup_rule_create(T.srv, ALT_PROJECT, rule, &st, err, sizeof err);
    cr_assert(ru != NULL, "%s", err);
    cr_expect(mc_net_secgroup_rule_create(T.srv, ALT_PROJECT, rule, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 409));
    mc_json_set(rule, "port_range_min", cJSON_CreateNumber(90));
    cr_expect(mc_net_secgroup_rule_create(T.srv, ALT_PROJECT, rule, &st, err, sizeof err) == NULL);
    cr_expect(eq(int, st, 400));
    cJSON_Delete(rule);
    cr_expect(eq(int, mc_net_secgroup_rule_delete(T.srv, ru, &st, err, sizeof err), 0));
    cr_expect(eq(int, mc_net_secgroup_delete(T.srv, def, &st, err, sizeof err), -1));
    cr_expect(eq(int, st, 409));
    cr_expect(eq(int, mc_net_secgroup_delete(T.srv, sg, &st, err, sizeof err), 0));
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- REST */

Test(network, versions_extensions_and_neutron_errors) {
    mc_resp r = get("/network", NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.id"), "v2.0"));
    mc_resp_free(&r);
    r = get("/network/v2.0/extensions", tok);
    cr_expect(eq(int, r.status, 200));
    cr_expect(cJSON_GetArraySize(mc_jpath(r.json, "extensions")) > 10);
    mc_resp_free(&r);
    mc_expect_status(get("/network/v2.0/extensions/router", tok), 200);
    r = get("/network/v2.0/networks/nope", tok);
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "NetworkNotFound"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.message"), "Network nope could not be found."));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(network, visibility_own_shared_external_admin_all) {
    mc_resp r = get("/network/v2.0/networks", alt);
    cr_assert(eq(int, r.status, 200));
    int n = cJSON_GetArraySize(mc_jpath(r.json, "networks"));
    cr_expect(eq(int, n, 2));   /* public + its own private */
    mc_resp_free(&r);
    mc_expect_status(get("/network/v2.0/networks/" DEMO_NET, alt), 404);
    mc_expect_count(get("/network/v2.0/subnets?network_id=" PUBLIC_NET, alt), "subnets", 0);
    r = get("/network/v2.0/networks", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "networks")), 3));
    cr_expect(mc_jstr(r.json, "networks.0.provider:network_type") != NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(network, subnet_validation_pools_gateway_overlap) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"n1\"}}", tok);
    char body[512];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.9.0.0/24\",\"gateway_ip\":\"10.9.0.254\"}}", net);
    mc_resp r = post("/network/v2.0/subnets", body, tok);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "subnet.allocation_pools.0.start"), "10.9.0.1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "subnet.allocation_pools.0.end"), "10.9.0.253"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.9.0.128/25\"}}", net);
    r = post("/network/v2.0/subnets", body, tok);
    cr_expect(eq(int, r.status, 400));
    cr_expect(strstr(mc_jstr(r.json, "NeutronError.message"), "overlaps with another subnet") != NULL);
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.8.0.1/24\"}}", net);
    mc_expect_status(post("/network/v2.0/subnets", body, tok), 400);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.7.0.0/24\",\"gateway_ip\":\"10.7.0.5\","
             "\"allocation_pools\":[{\"start\":\"10.7.0.2\",\"end\":\"10.7.0.10\"}]}}", net);
    mc_expect_status(post("/network/v2.0/subnets", body, tok), 409);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":6,\"cidr\":\"2001:db8:1::/64\","
             "\"ipv6_ra_mode\":\"slaac\",\"ipv6_address_mode\":\"dhcpv6-stateful\"}}", net);
    mc_expect_status(post("/network/v2.0/subnets", body, tok), 400);
    /* network with a port cannot go: 409 */
    snprintf(body, sizeof body, "{\"port\":{\"network_id\":\"%s\"}}", net);
    char *port = create_id("/network/v2.0/ports", "port", body, tok);
    snprintf(body, sizeof body, "/network/v2.0/networks/%s", net);
    mc_expect_status(del(body, tok), 409);
    snprintf(body, sizeof body, "/network/v2.0/ports/%s", port);
    mc_expect_status(del(body, tok), 204);
    snprintf(body, sizeof body, "/network/v2.0/networks/%s", net);
    mc_expect_status(del(body, tok), 204);
    free(net);
    free(port);
    mc_assert_no_leaks();
}

Test(network, ipam_exhaustion_is_409_and_delete_frees) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"tiny\"}}", tok);
    char body[512];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.5.0.0/29\"}}", net);
    mc_resp r = post("/network/v2.0/subnets", body, tok);
    cr_assert(eq(int, r.status, 201));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"port\":{\"network_id\":\"%s\"}}", net);
    char *first = NULL;
    for (int i = 0; i < 5; i++) {   /* .2 .. .6 */
        char *id = create_id("/network/v2.0/ports", "port", body, tok);
        if (i == 0) first = id;
        else free(id);
    }
    r = post("/network/v2.0/ports", body, tok);
    cr_expect(eq(int, r.status, 409));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "IpAddressGenerationFailure"));
    mc_resp_free(&r);
    char path[128];
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", first);
    r = del(path, tok);
    mc_resp_free(&r);
    r = post("/network/v2.0/ports", body, tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.fixed_ips.0.ip_address"), "10.5.0.2"));
    mc_resp_free(&r);
    free(first);
    free(net);
    mc_assert_no_leaks();
}

Test(network, pagination_links_sorting_fields_filters) {
    for (int i = 0; i < 5; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"network\":{\"name\":\"pg%d\"}}", 4 - i);
        free(create_id("/network/v2.0/networks", "network", body, tok));
    }
    mc_resp r = get("/network/v2.0/networks?limit=2", tok);
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "networks")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "networks_links.0.rel"), "next"));
    char last[64];
    snprintf(last, sizeof last, "%s", mc_jstr(r.json, "networks.1.id"));
    mc_resp_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/network/v2.0/networks?limit=100&marker=%s", last);
    mc_expect_count(get(path, tok), "networks", 5);
    r = get("/network/v2.0/networks?sort_key=name&sort_dir=asc&fields=name&fields=id", tok);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "networks.0.name"), "pg0"));
    cr_expect(mc_jpath(r.json, "networks.0.status") == NULL);
    mc_resp_free(&r);
    mc_expect_count(get("/network/v2.0/networks?name=pg1&name=pg3", tok), "networks", 2);
    mc_expect_count(get("/network/v2.0/networks?router:external=true", tok), "networks", 1);
    mc_expect_count(get("/network/v2.0/networks?router%3Aexternal=True", tok), "networks", 1);   /* as Tempest encodes it */
    mc_expect_status(get("/network/v2.0/networks?limit=abc", tok), 400);
    mc_assert_no_leaks();
}

Test(network, floating_ip_needs_router_path_404_and_private_net_400) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"island\"}}", tok);
    char body[512];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.6.0.0/24\"}}", net);
    mc_resp r = post("/network/v2.0/subnets", body, tok);
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"port\":{\"network_id\":\"%s\"}}", net);
    char *port = create_id("/network/v2.0/ports", "port", body, tok);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", port);
    r = post("/network/v2.0/floatingips", body, tok);
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "ExternalGatewayForFloatingIPNotFound"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"%s\"}}", net);
    mc_expect_status(post("/network/v2.0/floatingips", body, tok), 400);
    r = post("/network/v2.0/floatingips", "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\"}}", tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(mc_jpath(r.json, "floatingip.name") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.status"), "DOWN"));
    mc_resp_free(&r);
    free(net);
    free(port);
    mc_assert_no_leaks();
}

Test(network, router_interfaces_gateway_and_in_use) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"rnet\"}}", tok);
    char body[512], path[256];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.4.0.0/24\"}}", net);
    char *sub = create_id("/network/v2.0/subnets", "subnet", body, tok);
    char *rt = create_id("/network/v2.0/routers", "router",
                         "{\"router\":{\"name\":\"r\",\"external_gateway_info\":{\"network_id\":\"" PUBLIC_NET "\"}}}", tok);
    snprintf(path, sizeof path, "/network/v2.0/routers/%s/add_router_interface", rt);
    snprintf(body, sizeof body, "{\"subnet_id\":\"%s\"}", sub);
    mc_expect_status(put(path, body, tok), 200);
    mc_resp r;
    mc_expect_status(put(path, body, tok), 400);
    snprintf(path, sizeof path, "/network/v2.0/routers/%s", rt);
    mc_expect_status(del(path, tok), 409);
    r = get(path, tok);
    cr_expect(mc_jstr(r.json, "router.external_gateway_info.external_fixed_ips.0.ip_address") != NULL);
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s&device_owner=network:router_interface", rt);
    r = get(path, tok);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "ports")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.fixed_ips.0.ip_address"), "10.4.0.1"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/routers/%s/remove_router_interface", rt);
    mc_expect_status(put(path, body, tok), 200);
    snprintf(path, sizeof path, "/network/v2.0/routers/%s", rt);
    r = put(path, "{\"router\":{\"external_gateway_info\":{}}}", tok);
    cr_expect(eq(int, r.status, 200));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "router.external_gateway_info")));
    mc_resp_free(&r);
    mc_expect_status(del(path, tok), 204);
    free(net);
    free(sub);
    free(rt);
    mc_assert_no_leaks();
}

Test(network, security_group_rules_validation_and_quota) {
    mc_resp r = get("/network/v2.0/security-groups", alt);
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups.0.name"), "default"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "security_groups.0.security_group_rules")), 4));
    mc_resp_free(&r);
    char *sg = create_id("/network/v2.0/security-groups", "security_group", "{\"security_group\":{\"name\":\"x\"}}", alt);
    char body[512];
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"protocol\":\"tcp\",\"port_range_min\":80,\"port_range_max\":79}}", sg);
    r = post("/network/v2.0/security-group-rules", body, alt);
    cr_expect(eq(int, r.status, 400));
    cr_expect(strstr(mc_jstr(r.json, "NeutronError.message"), "port_range_min must be <= port_range_max") != NULL);
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"ethertype\":\"IPv6\",\"remote_ip_prefix\":\"10.0.0.0/8\"}}", sg);
    mc_expect_status(post("/network/v2.0/security-group-rules", body, alt), 400);
    mc_expect_status(post("/network/v2.0/security-groups", "{\"security_group\":{\"name\":\"default\"}}", alt), 409);
    /* as Tempest's negative tests: a remote group that is not a UUID is not found (404, not 400) */
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"remote_group_id\":\"bad_group_id\"}}", sg);
    mc_expect_status(post("/network/v2.0/security-group-rules", body, alt), 404);
    /* a protocol given as its number (Tempest sends 17 as a JSON integer) */
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"protocol\":17}}", sg);
    r = post("/network/v2.0/security-group-rules", body, alt);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group_rule.protocol"), "17"));
    mc_resp_free(&r);
    /* quota: admin sets 2 groups for alt_demo (default + x exist) */
    mc_expect_status(put("/network/v2.0/quotas/" ALT_PROJECT, "{\"quota\":{\"security_group\":2}}", adm), 200);
    r = post("/network/v2.0/security-groups", "{\"security_group\":{\"name\":\"y\"}}", alt);
    cr_expect(eq(int, r.status, 409));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "OverQuota"));
    mc_resp_free(&r);
    r = get("/network/v2.0/quotas/" ALT_PROJECT "/details", alt);
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota.security_group.used"), 2));
    mc_resp_free(&r);
    mc_expect_status(put("/network/v2.0/quotas/" ALT_PROJECT, "{\"quota\":{\"security_group\":20}}", alt), 403);
    free(sg);
    mc_assert_no_leaks();
}

Test(network, tags_and_revision_if_match) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"tagged\"}}", tok);
    char path[256];
    snprintf(path, sizeof path, "/network/v2.0/networks/%s/tags/red", net);
    mc_expect_status(put(path, NULL, tok), 201);
    mc_resp r;
    mc_expect_count(get("/network/v2.0/networks?tags=red", tok), "networks", 1);
    snprintf(path, sizeof path, "/network/v2.0/networks/%s", net);
    r = get(path, tok);
    cr_expect(eq(int, (int)mc_jnum(r.json, "network.revision_number"), 1));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, "{\"network\":{\"name\":\"t2\"}}", tok, "If-Match: revision_number=0\n"), 412);
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"network\":{\"name\":\"t2\"}}", tok, "If-Match: revision_number=1\n");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, (int)mc_jnum(r.json, "network.revision_number"), 2));
    mc_resp_free(&r);
    free(net);
    mc_assert_no_leaks();
}

Test(netapi, device_index_follows_device_id_changes) {
    char *pid = create_id("/network/v2.0/ports", "port",
                          "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"device_id\":\"dev-a\"}}", tok);
    int n = 0;
    mc_net_ports_each(T.srv, "dev-a", count_port, &n);
    cr_expect(eq(int, n, 1));
    char path[128];
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", pid);
    mc_expect_status(put(path, "{\"port\":{\"device_id\":\"dev-b\"}}", tok), 200);
    mc_resp r;
    n = 0;
    mc_net_ports_each(T.srv, "dev-a", count_port, &n);
    cr_expect(eq(int, n, 0));
    mc_net_ports_each(T.srv, "dev-b", count_port, &n);
    cr_expect(eq(int, n, 1));
    r = del(path, tok);
    mc_resp_free(&r);
    n = 0;
    mc_net_ports_each(T.srv, "dev-b", count_port, &n);
    cr_expect(eq(int, n, 0));
    free(pid);
    mc_assert_no_leaks();
}

Test(network, subnetpool_allocates_prefixes_and_bulk_ports) {
    char *pool = create_id("/network/v2.0/subnetpools", "subnetpool",
                           "{\"subnetpool\":{\"name\":\"sp\",\"prefixes\":[\"10.100.0.0/16\"],\"default_prefixlen\":24}}", tok);
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"pooled\"}}", tok);
    char body[512];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"subnetpool_id\":\"%s\"}}", net, pool);
    mc_resp r = post("/network/v2.0/subnets", body, tok);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "subnet.cidr"), "10.100.0.0/24"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"subnetpool_id\":\"%s\",\"prefixlen\":26}}", net, pool);
    r = post("/network/v2.0/subnets", body, tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "subnet.cidr"), "10.100.1.0/26"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"subnetpool_id\":\"%s\",\"prefixlen\":4}}", net, pool);
    mc_expect_status(post("/network/v2.0/subnets", body, tok), 400);
    snprintf(body, sizeof body, "{\"ports\":[{\"network_id\":\"%s\"},{\"network_id\":\"%s\",\"name\":\"b\"}]}", net, net);
    r = post("/network/v2.0/ports", body, tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "ports")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.1.fixed_ips.0.ip_address"), "10.100.0.3"));
    mc_resp_free(&r);
    /* a failing bulk request leaves nothing behind */
    snprintf(body, sizeof body, "{\"ports\":[{\"network_id\":\"%s\"},{\"network_id\":\"00000000-0000-4000-8000-000000000000\"}]}", net);
    mc_expect_status(post("/network/v2.0/ports", body, tok), 404);
    snprintf(body, sizeof body, "/network/v2.0/ports?network_id=%s", net);
    mc_expect_count(get(body, tok), "ports", 2);
    free(pool);
    free(net);
    mc_assert_no_leaks();
}

Test(network, port_security_pairs_and_fip_multiple_fixed_ips) {
    mc_expect_status(post("/network/v2.0/ports", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"port_security_enabled\":false,"
                     "\"allowed_address_pairs\":[{\"ip_address\":\"10.0.0.200\"}]}}", tok), 409);
    mc_resp r;
    r = post("/network/v2.0/ports", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"port_security_enabled\":false}}", tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "port.security_groups")), 0));
    mc_resp_free(&r);
    r = post("/network/v2.0/ports", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"fixed_ips\":[{\"ip_address\":\"10.0.0.50\"},"
             "{\"ip_address\":\"10.0.0.51\"}],\"allowed_address_pairs\":[{\"ip_address\":\"10.0.0.0/28\"}]}}", tok);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.allowed_address_pairs.0.mac_address"), (char *)mc_jstr(r.json, "port.mac_address")));
    char pid[64], body[256];
    snprintf(pid, sizeof pid, "%s", mc_jstr(r.json, "port.id"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", pid);
    mc_expect_status(post("/network/v2.0/floatingips", body, tok), 400);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\",\"fixed_ip_address\":\"10.0.0.51\"}}", pid);
    r = post("/network/v2.0/floatingips", body, tok);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.fixed_ip_address"), "10.0.0.51"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.port_details.network_id"), DEMO_NET));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.status"), "ACTIVE"));
    mc_resp_free(&r);
    /* the router interface carries the floating IP: 409 on removal */
    r = get("/network/v2.0/routers?name=router1", tok);
    char path[256];
    snprintf(path, sizeof path, "/network/v2.0/routers/%s/remove_router_interface", mc_jstr(r.json, "routers.0.id"));
    mc_resp_free(&r);
    mc_expect_status(put(path, "{\"subnet_id\":\"" DEMO_SUBNET "\"}", tok), 409);
    mc_assert_no_leaks();
}

Test(network, sort_desc_page_reverse_and_previous_link) {
    for (int i = 0; i < 4; i++) {
        char body[128];
        snprintf(body, sizeof body, "{\"security_group\":{\"name\":\"g%d\"}}", i);
        free(create_id("/network/v2.0/security-groups", "security_group", body, alt));
    }
    mc_resp r = get("/network/v2.0/security-groups?sort_key=name&sort_dir=desc&limit=2", alt);
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups.0.name"), "g3"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups.1.name"), "g2"));
    char marker[64];
    snprintf(marker, sizeof marker, "%s", mc_jstr(r.json, "security_groups.1.id"));
    mc_resp_free(&r);
    char path[256];
    snprintf(path, sizeof path, "/network/v2.0/security-groups?sort_key=name&sort_dir=desc&limit=2&marker=%s", marker);
    r = get(path, alt);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups.0.name"), "g1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups_links.1.rel"), "previous"));
    snprintf(marker, sizeof marker, "%s", mc_jstr(r.json, "security_groups.0.id"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/security-groups?sort_key=name&sort_dir=desc&limit=2&marker=%s&page_reverse=True", marker);
    r = get(path, alt);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "security_groups")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_groups.0.name"), "g3"));
    mc_resp_free(&r);
    mc_expect_status(get("/network/v2.0/security-groups?sort_key=bogus", alt), 400);
    mc_assert_no_leaks();
}

/* Bad input of every shape gives a NeutronError 4xx, never a 5xx or a crash. */
Test(network, bad_input_is_4xx_neutron_error) {
    static const char *const paths[] = {"/network/v2.0/networks", "/network/v2.0/subnets", "/network/v2.0/ports",
                                        "/network/v2.0/routers", "/network/v2.0/floatingips", "/network/v2.0/security-groups",
                                        "/network/v2.0/security-group-rules", "/network/v2.0/subnetpools"};
    static const char *const keys[] = {"network", "subnet", "port", "router", "floatingip", "security_group",
                                       "security_group_rule", "subnetpool"};
    static const char *const values[] = {
        "{}", "[]", "1", "\"x\"", "null",
        "{\"network_id\":\"" DEMO_NET "\",\"ip_version\":4,\"cidr\":\"300.0.0.0/24\"}",
        "{\"network_id\":\"" DEMO_NET "\",\"ip_version\":\"x\",\"cidr\":17}",
        "{\"network_id\":\"" DEMO_NET "\",\"ip_version\":6,\"cidr\":\"::/0\",\"allocation_pools\":[{\"start\":1}]}",
        "{\"network_id\":\"" DEMO_NET "\",\"fixed_ips\":[{\"ip_address\":null}],\"security_groups\":[7]}",
        "{\"network_id\":\"" DEMO_NET "\",\"fixed_ips\":\"x\",\"allowed_address_pairs\":[{}]}",
        "{\"network_id\":\"" DEMO_NET "\",\"mac_address\":\"zz\"}",
        "{\"external_gateway_info\":{\"network_id\":\"" DEMO_NET "\"}}",
        "{\"external_gateway_info\":\"x\",\"admin_state_up\":\"maybe\"}",
        "{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":5}",
        "{\"floating_network_id\":\"" PUBLIC_NET "\",\"floating_ip_address\":\"1.2.3.4\"}",
        "{\"name\":[1],\"description\":{}}",
        "{\"security_group_id\":\"nope\",\"direction\":\"up\"}",
        "{\"prefixes\":[\"10.0.0.0/8\",\"::/0\"]}",
        "{\"prefixes\":\"x\",\"min_prefixlen\":\"-4\"}",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (size_t j = 0; j < sizeof values / sizeof values[0]; j++) {
            char body[1024];
            snprintf(body, sizeof body, "{\"%s\":%s}", keys[i], values[j]);
            mc_resp r = post(paths[i], body, tok);
            cr_expect(r.status < 500, "%s %s -> %d %s", paths[i], body, r.status, r.body);
            if (r.status >= 400) cr_expect(mc_jstr(r.json, "NeutronError.type") != NULL, "%s %s -> %s", paths[i], body, r.body);
            mc_resp_free(&r);
        }
        mc_expect_status(post(paths[i], "{\"nothing\":1}", tok), 400);
    }
    mc_expect_status(put("/network/v2.0/routers/x/add_router_interface", "[1]", tok), 404);
    mc_expect_status(put("/network/v2.0/networks/" DEMO_NET, "{\"network\":{\"bogus\":1}}", tok), 400);
    mc_assert_no_leaks();
}

Test(network, external_network_goes_with_its_unassociated_fips_and_json_suffix) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"ext2\",\"router:external\":true}}", adm);
    char body[512], path[256];
    snprintf(body, sizeof body, "{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"198.51.100.0/24\"}}", net);
    mc_resp r = post("/network/v2.0/subnets", body, adm);
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"%s\"}}", net);
    char *fip = create_id("/network/v2.0/floatingips", "floatingip", body, adm);
    snprintf(path, sizeof path, "/network/v2.0/networks/%s", net);
    mc_expect_status(del(path, adm), 204);
    snprintf(path, sizeof path, "/network/v2.0/floatingips/%s", fip);
    mc_expect_status(get(path, adm), 404);
    r = get("/network/v2.0/quotas/" DEMO_PROJECT "/details.json", adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota.port.limit"), 500));
    mc_resp_free(&r);
    free(net);
    free(fip);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- printed views */

/* Networks, subnets, subnet pools, ports and routers are printed once per
 * (record, admin) and spliced into replies (network.c view_key). A body
 * rule for another service (vendor-extra-fields: compute only) turns the
 * views off without changing a Neutron byte, so the tree path can be
 * compared with the cached one: same bytes, also after every kind of
 * change (update, a subnet added to a network, tags, a compute binding, a
 * router gateway, a subnet deleted under a port). */
static void profile_set(const char *body) {
    mc_resp r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", body, NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
}

static void views_match_tree(const char *path, const char *t) {
    mc_resp a = get(path, t), b = get(path, t);   /* fills, then hits */
    cr_assert(eq(int, a.status, 200), "%s: %s", path, a.body);
    profile_set("{\"profile\":\"conformant\",\"deviate\":[\"vendor-extra-fields\"]}");
    mc_resp c = get(path, t);                       /* tree */
    profile_set("{\"profile\":\"conformant\"}");
    cr_expect(eq(str, a.body, c.body), "%s", path);
    cr_expect(eq(str, b.body, c.body), "%s", path);
    mc_resp_free(&a);
    mc_resp_free(&b);
    mc_resp_free(&c);
}

static void views_all_match(const char *port_id, const char *router_id) {
    char p[160];
    /* one view per record: the member's view is the one left behind, and
     * the first one read after the next change */
    const char *toks[] = {tok, adm, tok};
    for (int i = 0; i < 3; i++) {
        views_match_tree("/network/v2.0/networks", toks[i]);
        views_match_tree("/network/v2.0/networks/" DEMO_NET, toks[i]);
        views_match_tree("/network/v2.0/subnets", toks[i]);
        views_match_tree("/network/v2.0/ports", toks[i]);
        views_match_tree("/network/v2.0/ports?limit=2", toks[i]);
        views_match_tree("/network/v2.0/routers", toks[i]);
        views_match_tree("/network/v2.0/subnetpools", toks[i]);
        snprintf(p, sizeof p, "/network/v2.0/ports/%s", port_id);
        views_match_tree(p, toks[i]);
        snprintf(p, sizeof p, "/network/v2.0/routers/%s", router_id);
        views_match_tree(p, toks[i]);
    }
}

Test(network, cached_views_bytes_equal_the_tree_after_changes) {
    char *port = create_id("/network/v2.0/ports", "port", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"name\":\"v\"}}", tok);
    char *router = create_id("/network/v2.0/routers", "router", "{\"router\":{\"name\":\"vr\"}}", tok);
    views_all_match(port, router);
    /* the views are in use: the demo network holds one after a list */
    mc_resp r = get("/network/v2.0/networks", tok);
    mc_resp_free(&r);
    mc_record *net = mc_store_find(&T.srv->world[MC_K_NETWORK], DEMO_NET);
    cr_assert(net != NULL);
    cr_expect(net->view != NULL);
    /* fields= is shaped per request */
    r = get("/network/v2.0/networks?fields=id&fields=name", tok);
    cr_expect(mc_jpath(r.json, "networks.0.status") == NULL);
    cr_expect(mc_jstr(r.json, "networks.0.name") != NULL);
    mc_resp_free(&r);

    char path[160];
    r = put("/network/v2.0/networks/" DEMO_NET, "{\"network\":{\"name\":\"renamed\"}}", tok);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    views_all_match(port, router);
    char *sub = create_id("/network/v2.0/subnets", "subnet",
                          "{\"subnet\":{\"network_id\":\"" DEMO_NET "\",\"ip_version\":4,\"cidr\":\"10.9.0.0/24\"}}", tok);
    views_all_match(port, router);
    snprintf(path, sizeof path, "/network/v2.0/networks/%s/tags/t1", DEMO_NET);
    r = put(path, NULL, tok);
    mc_resp_free(&r);
    views_all_match(port, router);
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    r = put(path, "{\"port\":{\"name\":\"v2\",\"device_id\":\"vsrv\"}}", tok);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    views_all_match(port, router);
    mc_net_ports_set_status(T.srv, "vsrv", "ACTIVE");
    views_all_match(port, router);
    snprintf(path, sizeof path, "/network/v2.0/routers/%s", router);
    r = put(path, "{\"router\":{\"external_gateway_info\":{\"network_id\":\"" PUBLIC_NET "\"}}}", tok);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
    views_all_match(port, router);
    r = get("/network/v2.0/networks/" DEMO_NET, tok);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "network.name"), "renamed"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "network.subnets")), 3));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    r = get(path, adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.status"), "ACTIVE"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.binding:host_id"), "mockcloud-compute"));
    mc_resp_free(&r);

    /* a subnet that goes away takes its addresses out of the ports' views */
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    r = put(path, "{\"port\":{\"device_id\":\"\"}}", tok);
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/subnets/%s", sub);
    r = del(path, tok);
    cr_expect(eq(int, r.status, 204), "%s", r.body);
    mc_resp_free(&r);
    views_all_match(port, router);
    free(sub);
    free(port);
    free(router);
    mc_assert_no_leaks();
}

/* Security groups (with their rules), rules (their group's name) and
 * floating IPs (their port's details) read other records: their views hold
 * while the network generation does (network.c view_key). The views cached
 * by one round are the first read of the next, after each kind of change to
 * what they read: a rule added and deleted, the port renamed and bound, the
 * floating IP moved off the port, the group renamed through Nova's proxy. */
static void read_views_match(const char *sg, const char *rule, const char *fip) {
    char p[3][160];
    snprintf(p[0], sizeof p[0], "/network/v2.0/security-groups/%s", sg);
    snprintf(p[1], sizeof p[1], "/network/v2.0/security-group-rules/%s", rule);
    snprintf(p[2], sizeof p[2], "/network/v2.0/floatingips/%s", fip);
    const char *toks[] = {tok, adm};
    for (int i = 0; i < 2; i++) {
        views_match_tree("/network/v2.0/security-groups", toks[i]);
        views_match_tree("/network/v2.0/security-group-rules", toks[i]);
        views_match_tree("/network/v2.0/floatingips", toks[i]);
        for (int k = 0; k < 3; k++) views_match_tree(p[k], toks[i]);
    }
}

Test(network, cached_views_of_groups_rules_and_floating_ips_follow_what_they_read) {
    char *sg = create_id("/network/v2.0/security-groups", "security_group",
                         "{\"security_group\":{\"name\":\"vsg\"}}", tok);
    char body[400], path[200];
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\","
             "\"protocol\":\"tcp\",\"port_range_min\":22,\"port_range_max\":22}}", sg);
    char *rule = create_id("/network/v2.0/security-group-rules", "security_group_rule", body, tok);
    char *port = create_id("/network/v2.0/ports", "port",
                           "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"name\":\"fp\",\"device_id\":\"vdev\"}}", tok);
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", port);
    char *fip = create_id("/network/v2.0/floatingips", "floatingip", body, tok);
    read_views_match(sg, rule, fip);
    /* the views are in use */
    mc_record *g = mc_store_find(&T.srv->world[MC_K_SECGROUP], sg);
    cr_assert(g != NULL);
    cr_expect(g->view != NULL);
    mc_record *f = mc_store_find(&T.srv->world[MC_K_FLOATINGIP], fip);
    cr_assert(f != NULL);
    cr_expect(f->view != NULL);

    snprintf(body, sizeof body, "{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"egress\","
             "\"protocol\":\"udp\",\"port_range_min\":53,\"port_range_max\":53}}", sg);
    char *rule2 = create_id("/network/v2.0/security-group-rules", "security_group_rule", body, tok);
    read_views_match(sg, rule, fip);
    mc_resp r = get(mc_pathf("/network/v2.0/security-groups/%s", sg), tok);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "security_group.security_group_rules")), 4));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/security-group-rules/%s", rule2);
    mc_expect_status(del(path, tok), 204);
    read_views_match(sg, rule, fip);
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    mc_expect_status(put(path, "{\"port\":{\"name\":\"fp2\"}}", tok), 200);
    read_views_match(sg, rule, fip);
    mc_net_ports_set_status(T.srv, "vdev", "ACTIVE");
    read_views_match(sg, rule, fip);
    r = get(mc_pathf("/network/v2.0/floatingips/%s", fip), tok);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.port_details.name"), "fp2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "floatingip.port_details.status"), "ACTIVE"));
    mc_resp_free(&r);
    /* Nova's proxy edits the group's doc itself */
    snprintf(path, sizeof path, "/compute/v2.1/os-security-groups/%s", sg);
    mc_expect_status(put(path, "{\"security_group\":{\"name\":\"vsg2\",\"description\":\"d2\"}}", tok), 200);
    read_views_match(sg, rule, fip);
    r = get(mc_pathf("/network/v2.0/security-groups/%s", sg), tok);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group.name"), "vsg2"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/floatingips/%s", fip);
    mc_expect_status(put(path, "{\"floatingip\":{\"port_id\":null}}", tok), 200);
    read_views_match(sg, rule, fip);
    r = get(path, tok);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "floatingip.port_details")));
    mc_resp_free(&r);
    free(sg);
    free(rule);
    free(rule2);
    free(port);
    free(fip);
    mc_assert_no_leaks();
}

/* The availability_zone extension is advertised, so its collection must be
 * served: `openstack availability zone list` (compute, network) failed with a
 * 404 on /v2.0/availability_zones. */
Test(network, availability_zones_of_the_advertised_extension) {
    mc_resp r = get("/network/v2.0/extensions/availability_zone", tok);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    r = get("/network/v2.0/availability_zones", tok);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cJSON *a = mc_jpath(r.json, "availability_zones");
    cr_expect(eq(int, cJSON_GetArraySize(a), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zones.0.name"), "nova"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zones.0.resource"), "network"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zones.1.resource"), "router"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zones.1.state"), "available"));
    mc_resp_free(&r);
    r = get("/network/v2.0/availability_zones?resource=router", tok);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "availability_zones")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zones.0.resource"), "router"));
    mc_resp_free(&r);
    r = get("/network/v2.0/availability_zones?state=unavailable", tok);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "availability_zones")), 0));
    mc_resp_free(&r);
    /* the zone networks report is one of them */
    r = get("/network/v2.0/networks/" DEMO_NET, tok);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "network.availability_zones.0"), "nova"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- quota tallies */

/* Quotas are checked against per-project tallies kept on every create and
 * delete (network.c proj_ent), not a walk of the store: the details' "used"
 * must equal what an admin lists for the project, for every resource. */
static void tallies_match_store(const char *project, const char *admin_tok) {
    static const char *const res[][2] = {{"network", "networks"}, {"subnet", "subnets"}, {"port", "ports"},
                                         {"router", "routers"}, {"floatingip", "floatingips"},
                                         {"security_group", "security-groups"},
                                         {"security_group_rule", "security-group-rules"}};
    mc_resp q = get(mc_pathf("/network/v2.0/quotas/%s/details", project), admin_tok);
    cr_assert(eq(int, q.status, 200), "%s", q.body);
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        mc_resp l = get(mc_pathf("/network/v2.0/%s?project_id=%s", res[i][1], project), admin_tok);
        cJSON *arr = l.json ? l.json->child : NULL;
        char path[80];
        snprintf(path, sizeof path, "quota.%s.used", res[i][0]);
        cr_expect(eq(int, (int)mc_jnum(q.json, path), cJSON_GetArraySize(arr)), "%s", res[i][0]);
        mc_resp_free(&l);
    }
    mc_resp_free(&q);
}

Test(network, quota_tallies_exact_on_create_delete_and_reset) {
    tallies_match_store(DEMO_PROJECT, adm);
    tallies_match_store(ALT_PROJECT, adm);
    mc_resp q = get("/network/v2.0/quotas/" DEMO_PROJECT "/details", tok);
    int used = (int)mc_jnum(q.json, "quota.port.used");
    mc_resp_free(&q);
    mc_expect_status(put("/network/v2.0/quotas/" DEMO_PROJECT, mc_pathf("{\"quota\":{\"port\":%d}}", used + 2), adm), 200);
    const char *body = "{\"port\":{\"network_id\":\"" DEMO_NET "\"}}";
    char *p1 = create_id("/network/v2.0/ports", "port", body, tok);
    char *p2 = create_id("/network/v2.0/ports", "port", body, tok);
    mc_expect_error(post("/network/v2.0/ports", body, tok), MC_NETWORK, 409, "Quota exceeded for resources: ['port'].");
    /* a port the admin makes for the project counts against it too */
    mc_expect_error(post("/network/v2.0/ports", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"project_id\":\"" DEMO_PROJECT "\"}}", adm),
                    MC_NETWORK, 409, "Quota exceeded for resources: ['port'].");
    tallies_match_store(DEMO_PROJECT, adm);
    mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", p1), tok), 204);
    char *p3 = create_id("/network/v2.0/ports", "port", body, tok);
    mc_expect_error(post("/network/v2.0/ports", body, tok), MC_NETWORK, 409, NULL);
    /* a bulk create that fails half way leaves the tally as it was */
    mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", p2), tok), 204);
    mc_expect_status(post("/network/v2.0/ports", "{\"ports\":[{\"network_id\":\"" DEMO_NET "\"},{\"network_id\":\"" DEMO_NET "\"}]}", tok), 409);
    tallies_match_store(DEMO_PROJECT, adm);
    /* groups, rules, networks, subnets, routers and floating IPs too */
    char *sg = create_id("/network/v2.0/security-groups", "security_group", "{\"security_group\":{\"name\":\"q\"}}", tok);
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"q\"}}", tok);
    free(create_id("/network/v2.0/subnets", "subnet",
                   mc_pathf("{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.77.0.0/24\"}}", net), tok));
    tallies_match_store(DEMO_PROJECT, adm);
    mc_expect_status(del(mc_pathf("/network/v2.0/security-groups/%s", sg), tok), 204);
    mc_expect_status(del(mc_pathf("/network/v2.0/networks/%s", net), tok), 204);
    tallies_match_store(DEMO_PROJECT, adm);

    /* reset: back to the fixture world, tallies included */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL), 204);
    free(tok);
    free(adm);
    tok = mc_test_token("demo", "demo");
    adm = mc_test_token("admin", "admin");
    tallies_match_store(DEMO_PROJECT, adm);
    q = get("/network/v2.0/quotas/" DEMO_PROJECT "/details", tok);
    cr_expect(eq(int, (int)mc_jnum(q.json, "quota.port.limit"), 500));
    used = (int)mc_jnum(q.json, "quota.port.used");
    mc_resp_free(&q);
    mc_expect_status(put("/network/v2.0/quotas/" DEMO_PROJECT, mc_pathf("{\"quota\":{\"port\":%d}}", used + 1), adm), 200);
    char *p4 = create_id("/network/v2.0/ports", "port", body, tok);
    mc_expect_error(post("/network/v2.0/ports", body, tok), MC_NETWORK, 409, NULL);
    tallies_match_store(DEMO_PROJECT, adm);
    free(p1);
    free(p2);
    free(p3);
    free(p4);
    free(sg);
    free(net);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- indexed pages */

/* The ids of a port list reply, comma-joined into 'out'. */
static void port_ids(const char *path, const char *t, char *out, size_t n) {
    mc_resp r = get(path, t);
    cr_assert(eq(int, r.status, 200), "%s: %s", path, r.body);
    out[0] = '\0';
    cJSON *x;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "ports")) {
        strncat(out, mc_jstr(x, "id"), n - strlen(out) - 2);
        strncat(out, ",", n - strlen(out) - 1);
    }
    mc_resp_free(&r);
}

/* A page filtered by one network_id or device_id walks that network's own
 * ports or the device's index (network.c port_index_page); the same filter
 * given twice takes the walk of the whole store: same pages either way,
 * behind every marker, forwards and backwards, with another filter on top. */
Test(network, filtered_port_pages_by_index_equal_the_store_walk) {
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"ix\"}}", tok);
    free(create_id("/network/v2.0/subnets", "subnet",
                   mc_pathf("{\"subnet\":{\"network_id\":\"%s\",\"ip_version\":4,\"cidr\":\"10.66.0.0/24\"}}", net), tok));
    char *ids[12];
    for (int i = 0; i < 12; i++) {
        const char *on = i % 3 == 0 ? DEMO_NET : net;
        ids[i] = create_id("/network/v2.0/ports", "port",
                           mc_pathf("{\"port\":{\"network_id\":\"%s\",\"name\":\"n%d\",\"device_id\":\"%s\"}}", on, i % 2,
                                    i % 4 == 1 ? "devA" : ""), tok);
    }
    mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", ids[4]), tok), 204);   /* a hole in both */
    const char *filters[] = {"network_id=", "device_id=devA", "network_id=", "device_id=devA&name=n1"};
    char a[2048], b[2048];
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
        char one[128], two[256];
        snprintf(one, sizeof one, "%s%s%s", filters[f], filters[f][0] == 'n' ? net : "", f == 2 ? "&name=n1" : "");
        const char *key = strncmp(one, "network_id", 10) == 0 ? "network_id" : "device_id";
        snprintf(two, sizeof two, "%s&%s=%s", one, key, strncmp(key, "network_id", 10) == 0 ? net : "devA");
        port_ids(mc_pathf("/network/v2.0/ports?%s", one), tok, a, sizeof a);
        port_ids(mc_pathf("/network/v2.0/ports?%s", two), tok, b, sizeof b);
        cr_expect(eq(str, a, b), "%s", one);
        cr_expect(strlen(a) > 0, "%s", one);
        for (int i = 0; i < 12; i++) {
            if (i == 4) continue;
            for (int rev = 0; rev < 2; rev++) {
                const char *tail = mc_pathf("&limit=2&marker=%s%s", ids[i], rev ? "&page_reverse=true" : "");
                port_ids(mc_pathf("/network/v2.0/ports?%s%s", one, tail), tok, a, sizeof a);
                port_ids(mc_pathf("/network/v2.0/ports?%s%s", two, tail), tok, b, sizeof b);
                cr_expect(eq(str, a, b), "%s marker %d rev %d", one, i, rev);
            }
        }
    }
    /* a network with ports is in use; without them it goes */
    mc_expect_error(del(mc_pathf("/network/v2.0/networks/%s", net), tok), MC_NETWORK, 409, NULL);
    for (int i = 0; i < 12; i++)
        if (i % 3 != 0 && i != 4) mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", ids[i]), tok), 204);
    port_ids(mc_pathf("/network/v2.0/ports?network_id=%s", net), tok, a, sizeof a);
    cr_expect(eq(str, a, ""));
    mc_expect_status(del(mc_pathf("/network/v2.0/networks/%s", net), tok), 204);
    for (int i = 0; i < 12; i++) free(ids[i]);
    free(net);
    mc_assert_no_leaks();
}

/* A network record that did not come from network_create() (a hand-made
 * store entry, as another module could add) has no chain of ports: the
 * first filtered page or delete builds it from the store, and visibility
 * reads its doc. */
Test(netapi, network_without_priv_gets_its_chain_on_first_use) {
    const char *txt = "{\"id\":\"a1b2c3d4-0000-4000-8000-00000000cafe\",\"name\":\"hand\",\"subnets\":[],\"shared\":true,"
                      "\"router:external\":false,\"status\":\"ACTIVE\",\"tags\":[],\"revision_number\":0}";
    cJSON *doc = cJSON_ParseWithLength(txt, strlen(txt));
    cr_assert(doc != NULL);
    mc_record *net = mc_store_add(&T.srv->world[MC_K_NETWORK], "a1b2c3d4-0000-4000-8000-00000000cafe", "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6", doc);
    cr_assert(net != NULL);
    cr_expect(net->priv == NULL);
    free(create_id("/network/v2.0/subnets", "subnet",
                   "{\"subnet\":{\"network_id\":\"a1b2c3d4-0000-4000-8000-00000000cafe\",\"ip_version\":4,\"cidr\":\"10.55.0.0/24\"}}", adm));
    char *p1 = create_id("/network/v2.0/ports", "port", "{\"port\":{\"network_id\":\"a1b2c3d4-0000-4000-8000-00000000cafe\",\"name\":\"h1\"}}", tok);
    char *p2 = create_id("/network/v2.0/ports", "port", "{\"port\":{\"network_id\":\"a1b2c3d4-0000-4000-8000-00000000cafe\",\"name\":\"h2\"}}", tok);
    char a[512], want[512];
    snprintf(want, sizeof want, "%s,%s,", p1, p2);
    port_ids("/network/v2.0/ports?network_id=a1b2c3d4-0000-4000-8000-00000000cafe", tok, a, sizeof a);
    cr_expect(eq(str, a, want));
    cr_expect(net->priv != NULL);
    snprintf(want, sizeof want, "%s,", p2);
    port_ids(mc_pathf("/network/v2.0/ports?network_id=a1b2c3d4-0000-4000-8000-00000000cafe&marker=%s", p1), tok, a, sizeof a);
    cr_expect(eq(str, a, want));
    mc_expect_error(del("/network/v2.0/networks/a1b2c3d4-0000-4000-8000-00000000cafe", adm), MC_NETWORK, 409, NULL);
    mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", p1), tok), 204);
    mc_expect_status(del(mc_pathf("/network/v2.0/ports/%s", p2), tok), 204);
    mc_expect_status(del("/network/v2.0/networks/a1b2c3d4-0000-4000-8000-00000000cafe", adm), 204);
    free(p1);
    free(p2);
    mc_assert_no_leaks();
}

/* metering labels and rules (admin only): CRUD, the overlap 409, cascade */
Test(network, metering_labels_rules_overlap_and_cascade) {
    mc_expect_status(get("/network/v2.0/metering/metering-labels", tok), 403);
    char *label = create_id("/network/v2.0/metering/metering-labels", "metering_label",
                            "{\"metering_label\":{\"name\":\"l1\",\"description\":\"d\"}}", adm);
    char body[512], path[256];
    snprintf(body, sizeof body,
             "{\"metering_label_rule\":{\"metering_label_id\":\"%s\",\"direction\":\"ingress\",\"remote_ip_prefix\":\"10.0.0.0/24\"}}",
             label);
    mc_resp r = post("/network/v2.0/metering/metering-label-rules", body, adm);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "metering_label_rule.metering_label_id"), label));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "metering_label_rule.excluded")));
    mc_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"metering_label_rule\":{\"metering_label_id\":\"%s\",\"direction\":\"ingress\",\"remote_ip_prefix\":\"10.0.0.128/25\"}}",
             label);
    r = post("/network/v2.0/metering/metering-label-rules", body, adm);
    cr_expect(eq(int, r.status, 409));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "MeteringLabelRuleOverlaps"));
    mc_resp_free(&r);
    snprintf(body, sizeof body,
             "{\"metering_label_rule\":{\"metering_label_id\":\"%s\",\"direction\":\"up\",\"remote_ip_prefix\":\"10.1.0.0/24\"}}",
             label);
    mc_expect_status(post("/network/v2.0/metering/metering-label-rules", body, adm), 400);
    mc_expect_count(get("/network/v2.0/metering/metering-label-rules?id=33", adm), "metering_label_rules", 0);
    mc_expect_count(get("/network/v2.0/metering/metering-label-rules", adm), "metering_label_rules", 1);
    snprintf(path, sizeof path, "/network/v2.0/metering/metering-labels/%s", label);
    mc_expect_status(get(path, adm), 200);
    mc_expect_status(del(path, adm), 204);
    mc_expect_status(get(path, adm), 404);
    mc_expect_count(get("/network/v2.0/metering/metering-label-rules", adm), "metering_label_rules", 0);
    free(label);
    mc_assert_no_leaks();
}

/* dvr and l3-ha: admin only, and changed only while the router is down */
Test(network, dvr_and_ha_are_admin_only_and_need_the_router_down) {
    mc_expect_status(post("/network/v2.0/routers", "{\"router\":{\"name\":\"d\",\"distributed\":true}}", tok), 403);
    char *id = create_id("/network/v2.0/routers", "router", "{\"router\":{\"name\":\"c\",\"distributed\":false}}", adm);
    char path[256];
    snprintf(path, sizeof path, "/network/v2.0/routers/%s", id);
    mc_resp r = put(path, "{\"router\":{\"distributed\":true}}", adm);
    cr_expect(eq(int, r.status, 400));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.message"),
                 "Bad router request: Cannot change the 'distributed' attribute of active routers. Please set router "
                 "admin_state_up to False prior to upgrade"));
    mc_resp_free(&r);
    mc_expect_status(put(path, "{\"router\":{\"admin_state_up\":false}}", adm), 200);
    r = put(path, "{\"router\":{\"distributed\":true}}", adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "router.distributed")));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

/* agents (admin only) and the DHCP agent scheduler */
Test(network, dhcp_agent_hosts_networks_with_dhcp_subnets) {
    mc_expect_count(get("/network/v2.0/agents", tok), "agents", 0);
    mc_resp r = get("/network/v2.0/agents?agent_type=DHCP%20agent", adm);
    cr_assert(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "agents")), 1), "%s", r.body);
    char agent[64], path[256], body[256];
    snprintf(agent, sizeof agent, "%s", mc_jstr(r.json, "agents.0.id"));
    mc_resp_free(&r);
    /* the demo network has a DHCP subnet: hosted */
    mc_expect_count(get("/network/v2.0/networks/" DEMO_NET "/dhcp-agents", adm), "agents", 1);
    char *net = create_id("/network/v2.0/networks", "network", "{\"network\":{\"name\":\"nodhcp\"}}", tok);
    snprintf(path, sizeof path, "/network/v2.0/networks/%s/dhcp-agents", net);
    mc_expect_count(get(path, adm), "agents", 0);
    snprintf(path, sizeof path, "/network/v2.0/agents/%s/dhcp-networks", agent);
    snprintf(body, sizeof body, "{\"network_id\":\"%s\"}", net);
    mc_expect_status(post(path, body, adm), 201);
    mc_expect_status(post(path, body, adm), 409);
    snprintf(path, sizeof path, "/network/v2.0/networks/%s/dhcp-agents", net);
    mc_expect_count(get(path, adm), "agents", 1);
    snprintf(path, sizeof path, "/network/v2.0/agents/%s/dhcp-networks/%s", agent, net);
    mc_expect_status(del(path, adm), 204);
    mc_expect_status(del(path, adm), 409);
    free(net);
    mc_assert_no_leaks();
}

/* convert_to_sanitized_mac_address: a dashed, upper-case MAC is stored as Neutron prints it */
Test(network, port_mac_is_sanitized) {
    mc_resp r = post("/network/v2.0/ports", "{\"port\":{\"network_id\":\"" DEMO_NET "\",\"mac_address\":\"FA-16-3E-0A-0B-0C\"}}", tok);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "port.mac_address") ? mc_jstr(r.json, "port.mac_address") : ""), "fa:16:3e:0a:0b:0c"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* Address scopes as the openstack CLI drives them (`address scope create
 * --ip-version 4`, `subnet pool create --address-scope`, `subnet pool set
 * --no-address-scope`, `address scope set --name`, delete): Neutron's
 * address-scope extension, its 403/400/404/409s. */
Test(network, address_scopes_as_the_cli_uses_them) {
    mc_resp r = get("/network/v2.0/extensions/address-scope", tok);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "extension.name"), "Address scope"));
    mc_resp_free(&r);
    r = post("/network/v2.0/address-scopes", "{\"address_scope\": {\"name\": \"s4\", \"ip_version\": 4}}", tok);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *scope = strdup(mc_jstr(r.json, "address_scope.id"));
    cr_expect(eq(dbl, mc_jpath(r.json, "address_scope.ip_version")->valuedouble, 4));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "address_scope.shared")));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "address_scope.project_id"), DEMO_PROJECT));
    mc_resp_free(&r);
    mc_expect_error(post("/network/v2.0/address-scopes", "{\"address_scope\": {\"name\": \"x\", \"ip_version\": 4, "
                         "\"shared\": true}}", tok), MC_NETWORK, 403,
                    "(rule:create_address_scope and rule:create_address_scope:shared) is disallowed by policy");
    mc_expect_status(post("/network/v2.0/address-scopes", "{\"address_scope\": {\"name\": \"x\", \"ip_version\": 5}}", tok), 400);
    mc_expect_error(post("/network/v2.0/address-scopes", "{\"address_scope\": {\"name\": \"x\"}}", tok), MC_NETWORK, 400,
                    "Failed to parse request. Required attribute 'ip_version' not specified");
    /* the owner lists it, another project does not see it */
    r = get("/network/v2.0/address-scopes?name=s4", tok);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "address_scopes")), 1));
    mc_resp_free(&r);
    r = get("/network/v2.0/address-scopes", alt);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "address_scopes")), 0));
    mc_resp_free(&r);
    char path[200], body[400];
    snprintf(path, sizeof path, "/network/v2.0/address-scopes/%s", scope);
    char msg[200];
    snprintf(msg, sizeof msg, "Address scope %s could not be found.", scope);
    mc_expect_error(get(path, alt), MC_NETWORK, 404, msg);
    /* a pool joins it; a v6 pool cannot */
    snprintf(body, sizeof body, "{\"subnetpool\": {\"name\": \"p\", \"prefixes\": [\"10.30.0.0/16\"], "
             "\"address_scope_id\": \"%s\"}}", scope);
    r = post("/network/v2.0/subnetpools", body, tok);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "subnetpool.address_scope_id"), scope));
    char *pool = strdup(mc_jstr(r.json, "subnetpool.id"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"subnetpool\": {\"name\": \"p6\", \"prefixes\": [\"fd00::/48\"], "
             "\"address_scope_id\": \"%s\"}}", scope);
    mc_expect_status(post("/network/v2.0/subnetpools", body, tok), 400);
    snprintf(body, sizeof body, "{\"subnetpool\": {\"name\": \"p\", \"prefixes\": [\"10.31.0.0/16\"], "
             "\"address_scope_id\": \"%s\"}}", scope);
    mc_expect_status(post("/network/v2.0/subnetpools", body, alt), 404);
    /* in use: 409; free again after the pool leaves */
    snprintf(msg, sizeof msg, "Unable to complete operation on address scope %s. There are one or more subnet pools "
             "in use on the address scope.", scope);
    mc_expect_error(del(path, tok), MC_NETWORK, 409, msg);
    char ppath[200];
    snprintf(ppath, sizeof ppath, "/network/v2.0/subnetpools/%s", pool);
    r = put(ppath, "{\"subnetpool\": {\"address_scope_id\": null}}", tok);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "subnetpool.address_scope_id")));
    mc_resp_free(&r);
    r = put(path, "{\"address_scope\": {\"name\": \"s4b\"}}", tok);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "address_scope.name"), "s4b"));
    mc_resp_free(&r);
    mc_expect_status(put(path, "{\"address_scope\": {\"ip_version\": 6}}", tok), 400);
    mc_expect_status(put(path, "{\"address_scope\": {\"name\": \"z\"}}", alt), 404);
    /* shared by the admin, never unshared */
    mc_expect_status(put(path, "{\"address_scope\": {\"shared\": true}}", adm), 200);
    r = get(path, alt);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    mc_expect_status(put(path, "{\"address_scope\": {\"shared\": false}}", adm), 400);
    mc_expect_status(del(path, alt), 403);
    mc_expect_status(del(ppath, tok), 204);
    mc_expect_status(del(path, tok), 204);
    mc_expect_status(get(path, tok), 404);
    free(pool);
    free(scope);
    mc_assert_no_leaks();
}
