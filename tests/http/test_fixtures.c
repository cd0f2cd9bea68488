/* HTTP tests of POST /mockcloud/v1/fixtures: more seed data for the running
 * world, shaped like the fixture files and keyed by service. What it adds is
 * usable at once (log in as a new user, boot with a new flavor, make a port
 * on a new network, read a new image); a refused post (malformed, wrong
 * types, a taken id, a reference to nothing, an insert that still fails) is
 * 400 in the control API's format and leaves every store and its sequence
 * counter as they were; POST /reset drops it all. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define FX "/mockcloud/v1/fixtures"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(fixtures, .init = setup, .fini = teardown);

/* The world's size and counters: equal snapshots mean nothing changed. */
typedef struct world_snap {
    size_t count[MC_K_COUNT];
    uint64_t seq[MC_K_COUNT];
} world_snap;

static world_snap snap(void) {
    world_snap s;
    for (int k = 0; k < MC_K_COUNT; k++) {
        s.count[k] = T.srv->world[k].count;
        s.seq[k] = T.srv->world[k].next_seq;
    }
    return s;
}

static void expect_same_world(const world_snap *a, const char *what) {
    world_snap b = snap();
    for (int k = 0; k < MC_K_COUNT; k++) {
        cr_expect(eq(sz, a->count[k], b.count[k]), "%s: kind %d count %zu -> %zu", what, k, a->count[k], b.count[k]);
        cr_expect(eq(u64, a->seq[k], b.seq[k]), "%s: kind %d next_seq changed", what, k);
    }
}

static mc_resp post(const char *body) { return mc_call(EVHTTP_REQ_POST, FX, body, NULL, NULL); }

/* Posts 'body', asserts 201 and what it added: 'counts' is "kind=n ..."
 * (n = 0: "added" does not name the kind). */
static void post_expect_added(const char *body, const char *counts) {
    mc_resp r = post(body);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    for (const char *p = counts;;) {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        char kind[64], path[96];
        int n, used = 0;
        cr_assert(eq(int, sscanf(p, "%63[^=]=%d%n", kind, &n, &used), 2), "counts: %s", p);
        snprintf(path, sizeof path, "added.%s", kind);
        if (n == 0) cr_expect(mc_jpath(r.json, path) == NULL, "%s: %s", path, r.body);
        else cr_expect(eq(int, (int)mc_jnum(r.json, path), n), "%s: %s", path, r.body);
        p += used;
    }
    mc_resp_free(&r);
}

/* What a post gave demo's project stays its own: alt_demo gets 404. */
static void expect_hidden_from_alt_demo(const char *path) {
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, alt, NULL), 404);
    free(alt);
}

static const char *USER_POST =
    "{\"identity\":{"
    "\"projects\":[{\"id\":\"f1e2d3c4b5a647389a0b1c2d3e4f5a6b\",\"name\":\"teachers\",\"domain_id\":\"default\"}],"
    "\"users\":[{\"id\":\"0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5\",\"name\":\"alice\",\"password\":\"s3cret\","
    "\"domain_id\":\"default\",\"default_project_id\":\"f1e2d3c4b5a647389a0b1c2d3e4f5a6b\",\"cloud\":\"alice\"}],"
    "\"assignments\":[{\"user\":\"alice\",\"project\":\"teachers\",\"role\":\"member\"}]}}";

static char *login(const char *user, const char *password, const char *project, int *status) {
    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"},\"password\":\"%s\"}}},\"scope\":{\"project\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"}}}}}",
             user, password, project);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", body, NULL, NULL);
    *status = r.status;
    const char *t = mc_resp_header(&r, "X-Subject-Token");
    char *tok = (r.status == 201 && t) ? strdup(t) : NULL;
    mc_resp_free(&r);
    return tok;
}

Test(fixtures, user_and_project_then_log_in) {
    int st;
    char *tok = login("alice", "s3cret", "teachers", &st);
    cr_expect(eq(int, st, 401));
    cr_expect(tok == NULL);

    post_expect_added(USER_POST, "users=1 projects=1 role_assignments=1 flavors=0");

    tok = login("alice", "s3cret", "teachers", &st);
    cr_assert(eq(int, st, 201));
    /* The token is scoped to the new project, with the role given. */
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
    char *admin = mc_test_token("admin", "admin");
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/users/0a1b2c3d4e5f46a7b8c9d0e1f2a3b4c5", NULL, admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "user.default_project_id"), "f1e2d3c4b5a647389a0b1c2d3e4f5a6b"));
    cr_expect(mc_jpath(r.json, "user.password") == NULL);
    mc_resp_free(&r);
    /* clouds.yaml gets the user's cloud entry. */
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/clouds.yaml", NULL, NULL, NULL);
    cr_expect(strstr(r.body, "  alice:\n") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "project_name: \"teachers\"") != NULL);
    mc_resp_free(&r);
    /* Posting the same again: every id is taken now. */
    r = post(USER_POST);
    cr_expect(eq(int, r.status, 400));
    cr_expect(strstr(mc_jstr(r.json, "error.message"), "is taken") != NULL, "%s", r.body);
    mc_resp_free(&r);
    free(admin);
    free(tok);
    mc_assert_no_leaks();
}

Test(fixtures, flavor_then_boot) {
    char *tok = mc_test_token("demo", "demo");
    post_expect_added("{\"compute\":{\"flavors\":[{\"id\":\"fx.1\",\"name\":\"fx.small\",\"ram\":256,\"vcpus\":1,"
                      "\"disk\":2,\"extra_specs\":{\"hw:cpu_policy\":\"dedicated\"}}]}}",
                      "flavors=1");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors/fx.1", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavor.name"), "fx.small"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "flavor.disk"), 2));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers",
                "{\"server\":{\"name\":\"on-fx\",\"flavorRef\":\"fx.1\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}",
                tok, "OpenStack-API-Version: compute 2.47");
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, "OpenStack-API-Version: compute 2.47");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.flavor.original_name"), "fx.small"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.flavor.extra_specs.hw:cpu_policy"), "dedicated"));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(fixtures, network_and_subnet_then_port) {
    char *tok = mc_test_token("demo", "demo");
    post_expect_added("{\"network\":{\"networks\":[{\"id\":\"c0ffee00-1111-4222-8333-444455556666\",\"name\":\"lab\","
                      "\"project\":\"demo\",\"subnets\":[{\"id\":\"c0ffee00-aaaa-4bbb-8ccc-ddddeeeeffff\","
                      "\"name\":\"lab-v4\",\"cidr\":\"192.168.77.0/24\",\"gateway_ip\":\"192.168.77.1\"}]}],"
                      "\"routers\":[{\"name\":\"lab-router\",\"project\":\"demo\",\"external_network\":\"public\","
                      "\"interfaces\":[\"lab-v4\"]}]}}",
                      "networks=1 subnets=1 routers=1 ports=2");   /* ports: gateway + interface */
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/ports",
                "{\"port\":{\"network_id\":\"c0ffee00-1111-4222-8333-444455556666\",\"name\":\"p\"}}", tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.fixed_ips.0.subnet_id"), "c0ffee00-aaaa-4bbb-8ccc-ddddeeeeffff"));
    cr_expect(eq(int, strncmp(mc_jstr(r.json, "port.fixed_ips.0.ip_address"), "192.168.77.", 11), 0), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.project_id"), DEMO_PROJECT));
    mc_resp_free(&r);
    expect_hidden_from_alt_demo("/network/v2.0/networks/c0ffee00-1111-4222-8333-444455556666");
    free(tok);
    mc_assert_no_leaks();
}

Test(fixtures, image_then_show_and_list) {
    char *tok = mc_test_token("demo", "demo");
    post_expect_added("{\"image\":{\"images\":[{\"id\":\"0d15ea5e-0000-4000-8000-000000000001\",\"name\":\"lab-image\","
                      "\"owner\":\"" DEMO_PROJECT "\",\"visibility\":\"private\",\"status\":\"active\","
                      "\"disk_format\":\"raw\",\"container_format\":\"bare\",\"tags\":[\"lab\"],"
                      "\"properties\":{\"os_distro\":\"debian\"}}]}}",
                      "images=1");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/0d15ea5e-0000-4000-8000-000000000001", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "os_distro"), "debian"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "size"), 0));   /* active without a size: zero bytes */
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?name=lab-image", NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1));
    mc_resp_free(&r);
    expect_hidden_from_alt_demo("/image/v2/images/0d15ea5e-0000-4000-8000-000000000001");   /* private */
    free(tok);
    mc_assert_no_leaks();
}

/* A post may name in one service what it adds in another: a network and an
 * image of a project added by the same post. */
Test(fixtures, references_across_services_in_one_post) {
    post_expect_added("{\"identity\":{\"projects\":[{\"id\":\"ab12ab12ab12ab12ab12ab12ab12ab12\",\"name\":\"x\","
                      "\"domain_id\":\"default\"}]},"
                      "\"network\":{\"networks\":[{\"name\":\"xnet\",\"project\":\"x\",\"subnets\":[{\"cidr\":\"10.5.0.0/16\"}]}]},"
                      "\"image\":{\"images\":[{\"id\":\"0d15ea5e-0000-4000-8000-000000000002\",\"name\":\"x\","
                      "\"owner\":\"ab12ab12ab12ab12ab12ab12ab12ab12\",\"visibility\":\"shared\"}]}}",
                      "projects=1 networks=1 images=1");
    mc_assert_no_leaks();
}

/* Every kind of bad input: 400 in the control API's ({"error": ...})
 * format, the reason named, and the world exactly as it was. */
Test(fixtures, bad_input_is_400_and_changes_nothing) {
    static const struct { const char *body, *needle; } cases[] = {
        /* malformed */
        {"{\"identity\": ", NULL},
        {"[1,2]", NULL},
        {"{\"volume\":{}}", "unknown service 'volume'"},
        {"{\"compute\":[]}", "must be an object"},
        {"{\"compute\":{\"flavours\":[]}}", "unknown key 'flavours'"},
        {"{\"compute\":{\"quotas\":{\"instances\":1}}}", "cannot be posted"},
        {"{\"identity\":{\"security_compliance\":{}}}", "cannot be posted"},
        /* wrong types */
        {"{\"identity\":{\"users\":{\"id\":\"u\"}}}", "'users' must be an array"},
        {"{\"identity\":{\"users\":[\"bob\"]}}", "users[0]: must be an object"},
        {"{\"identity\":{\"projects\":[{\"id\":\"p1\",\"name\":5,\"domain_id\":\"default\"}]}}", "'name' must be a string"},
        {"{\"identity\":{\"users\":[{\"id\":\"u1\",\"name\":\"b\",\"domain_id\":\"default\",\"enabled\":\"yes\"}]}}", "'enabled' must be a boolean"},
        {"{\"compute\":{\"flavors\":[{\"id\":\"f9\",\"name\":\"n\",\"ram\":\"512\",\"vcpus\":1,\"disk\":1}]}}", "'ram' must be a number"},
        {"{\"compute\":{\"flavors\":[{\"id\":\"f9\",\"name\":\"n\",\"ram\":512,\"vcpus\":0,\"disk\":1}]}}", "'vcpus' must be an integer"},
        {"{\"compute\":{\"flavors\":[{\"id\":\"f/9\",\"name\":\"n\",\"ram\":512,\"vcpus\":1,\"disk\":1}]}}", "may hold only"},
        {"{\"network\":{\"networks\":[{\"project\":\"demo\",\"shared\":1}]}}", "'shared' must be a boolean"},
        {"{\"network\":{\"networks\":[{\"project\":\"demo\",\"subnets\":[{\"cidr\":\"10.1.2.3/24\"}]}]}}", "not a valid IP subnet"},
        {"{\"network\":{\"networks\":[{\"project\":\"demo\",\"subnets\":[{\"cidr\":\"10.1.0.0/24\",\"ip_version\":6}]}]}}", "inconsistent"},
        {"{\"network\":{\"networks\":[{\"project\":\"demo\",\"subnets\":[{\"cidr\":\"10.1.0.0/24\"},{\"cidr\":\"10.1.0.0/16\"}]}]}}", "overlaps"},
        {"{\"image\":{\"images\":[{\"id\":\"0d15ea5e-0000-4000-8000-000000000003\",\"name\":\"i\",\"owner\":\"" DEMO_PROJECT "\",\"visibility\":\"everyone\"}]}}", "'visibility' 'everyone'"},
        {"{\"image\":{\"images\":[{\"id\":\"not-a-uuid\",\"name\":\"i\",\"owner\":\"" DEMO_PROJECT "\",\"visibility\":\"public\"}]}}", "must be a UUID"},
        {"{\"image\":{\"images\":[{\"id\":\"0d15ea5e-0000-4000-8000-000000000003\",\"name\":\"i\",\"owner\":\"" DEMO_PROJECT "\",\"visibility\":\"public\",\"tags\":[1]}]}}", "'tags' must be"},
        /* duplicate ids: in the world, and twice in the post */
        {"{\"compute\":{\"flavors\":[{\"id\":\"1\",\"name\":\"other\",\"ram\":512,\"vcpus\":1,\"disk\":1}]}}", "flavor id '1' is taken"},
        {"{\"compute\":{\"flavors\":[{\"id\":\"f8\",\"name\":\"m1.tiny\",\"ram\":512,\"vcpus\":1,\"disk\":1}]}}", "already named 'm1.tiny'"},
        {"{\"compute\":{\"flavors\":[{\"id\":\"f8\",\"name\":\"a\",\"ram\":512,\"vcpus\":1,\"disk\":1},"
         "{\"id\":\"f8\",\"name\":\"b\",\"ram\":512,\"vcpus\":1,\"disk\":1}]}}", "flavor id 'f8' is taken"},
        {"{\"identity\":{\"projects\":[{\"id\":\"" DEMO_PROJECT "\",\"name\":\"new\",\"domain_id\":\"default\"}]}}", "is taken"},
        {"{\"identity\":{\"users\":[{\"id\":\"u7\",\"name\":\"demo\",\"domain_id\":\"default\"}]}}", "already has a user named 'demo'"},
        {"{\"network\":{\"networks\":[{\"id\":\"6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b\",\"project\":\"demo\"}]}}", "network id"},
        {"{\"network\":{\"networks\":[{\"project\":\"demo\",\"subnets\":[{\"id\":\"4d5e6f7a-8b9c-4da3-becf-3a4b5c6d7e8f\",\"cidr\":\"10.9.0.0/24\"}]}]}}", "subnet id"},
        {"{\"image\":{\"images\":[{\"id\":\"" CIRROS "\",\"name\":\"i\",\"owner\":\"" DEMO_PROJECT "\",\"visibility\":\"public\"}]}}", "image id"},
        /* dangling references */
        {"{\"identity\":{\"users\":[{\"id\":\"u2\",\"name\":\"bob\",\"domain_id\":\"default\",\"default_project_id\":\"nope\"}]}}", "'default_project_id' names no project"},
        {"{\"identity\":{\"projects\":[{\"id\":\"p2\",\"name\":\"p2\",\"domain_id\":\"nodomain\"}]}}", "'domain_id' names no domain"},
        {"{\"identity\":{\"assignments\":[{\"user\":\"demo\",\"project\":\"demo\",\"role\":\"superuser\"}]}}", "'role' names no role"},
        {"{\"identity\":{\"assignments\":[{\"user\":\"ghost\",\"project\":\"demo\",\"role\":\"member\"}]}}", "'user' names no user"},
        {"{\"identity\":{\"roles\":[{\"id\":\"r1\",\"name\":\"auditor\",\"implies\":\"nothing\"}]}}", "'implies' names no role"},
        {"{\"network\":{\"networks\":[{\"name\":\"n\",\"project\":\"nobody\"}]}}", "'project' names no project"},
        {"{\"network\":{\"routers\":[{\"project\":\"demo\",\"external_network\":\"private\"}]}}", "no external network"},
        {"{\"network\":{\"routers\":[{\"project\":\"demo\",\"interfaces\":[\"nosuch-subnet\"]}]}}", "names no subnet"},
        {"{\"image\":{\"images\":[{\"id\":\"0d15ea5e-0000-4000-8000-000000000003\",\"name\":\"i\",\"owner\":\"nobody\",\"visibility\":\"public\"}]}}", "'owner' names no project"},
        /* a good part does not go in when another part is bad */
        {"{\"compute\":{\"flavors\":[{\"id\":\"ok1\",\"name\":\"ok1\",\"ram\":512,\"vcpus\":1,\"disk\":1}]},"
         "\"image\":{\"images\":[{\"id\":\"bad\"}]}}", "image.images[0]"},
    };
    world_snap before = snap();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mc_resp r = post(cases[i].body);
        cr_expect(eq(int, r.status, 400), "%s -> %d %s", cases[i].body, r.status, r.body);
        const char *msg = mc_jstr(r.json, "error.message");
        cr_expect(msg != NULL, "%s -> %s", cases[i].body, r.body);
        cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 400));
        if (cases[i].needle != NULL && msg != NULL)
            cr_expect(strstr(msg, cases[i].needle) != NULL, "%s -> %s (wanted '%s')", cases[i].body, msg, cases[i].needle);
        mc_resp_free(&r);
        expect_same_world(&before, cases[i].body);
    }
    /* And through the API: the flavor of the refused post is not there. */
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors/ok1", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

/* The public address a new router's gateway gets. Caller frees. */
static char *probe_gateway_ip(void) {
    char *admin = mc_test_token("admin", "admin");
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/routers",
                        "{\"router\":{\"name\":\"probe\",\"external_gateway_info\":{\"network_id\":"
                        "\"6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b\"}}}", admin, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    const char *ip = mc_jstr(r.json, "router.external_gateway_info.external_fixed_ips.0.ip_address");
    cr_expect(ip != NULL && strncmp(ip, "172.24.4.", 9) == 0, "%s", r.body);
    char *out = strdup(ip ? ip : "");
    mc_resp_free(&r);
    free(admin);
    return out;
}

/* A post that passes the checks but fails while inserting (a subnet whose
 * gateway lies outside its cidr, a router interface on a subnet without a
 * gateway) is taken out again: users, projects, networks, the router and
 * its gateway port (with its public address) are gone, and the counters are
 * back where they were. */
Test(fixtures, failed_insert_is_rolled_back) {
    static const char *bodies[] = {
        "{\"identity\":{\"projects\":[{\"id\":\"ab34ab34ab34ab34ab34ab34ab34ab34\",\"name\":\"y\",\"domain_id\":\"default\"}],"
        "\"users\":[{\"id\":\"ab56ab56ab56ab56ab56ab56ab56ab56\",\"name\":\"yuser\",\"domain_id\":\"default\",\"password\":\"p\"}]},"
        "\"network\":{\"networks\":[{\"name\":\"ynet\",\"project\":\"y\",\"subnets\":[{\"cidr\":\"10.6.0.0/24\","
        "\"gateway_ip\":\"10.7.0.1\"}]}]}}",
        "{\"network\":{\"networks\":[{\"name\":\"znet\",\"project\":\"demo\",\"subnets\":[{\"name\":\"zsub\","
        "\"cidr\":\"10.8.0.0/24\",\"gateway_ip\":null}]}],"
        "\"routers\":[{\"name\":\"zr\",\"project\":\"demo\",\"external_network\":\"public\",\"interfaces\":[\"zsub\"]}]}}",
    };
    world_snap before = snap();
    char *demo = mc_test_token("demo", "demo");
    static const char *const counted[] = {"quota.network.used", "quota.subnet.used", "quota.router.used",
                                          "quota.port.used"};
    double used[4];
    mc_resp q = mc_call(EVHTTP_REQ_GET, "/network/v2.0/quotas/" DEMO_PROJECT "/details", NULL, demo, NULL);
    for (int k = 0; k < 4; k++) used[k] = mc_jnum(q.json, counted[k]);
    mc_resp_free(&q);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        mc_resp r = post(bodies[i]);
        cr_expect(eq(int, r.status, 400), "%s", r.body);
        cr_expect(strstr(mc_jstr(r.json, "error.message"), "network: bad") != NULL, "%s", r.body);
        mc_resp_free(&r);
        expect_same_world(&before, bodies[i]);
        /* Neutron's quota usage is back where it was, too */
        q = mc_call(EVHTTP_REQ_GET, "/network/v2.0/quotas/" DEMO_PROJECT "/details", NULL, demo, NULL);
        for (int k = 0; k < 4; k++) cr_expect(eq(dbl, mc_jnum(q.json, counted[k]), used[k]), "%s", counted[k]);
        mc_resp_free(&q);
    }
    int st;
    char *tok = login("yuser", "p", "y", &st);
    cr_expect(eq(int, st, 401));
    free(tok);
    /* The public address the router's gateway took is free again: a fresh
     * router gets the one it gets in a world that never saw the post. */
    free(demo);
    char *first = probe_gateway_ip();
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL);
    mc_resp_free(&r);
    char *second = probe_gateway_ip();
    cr_expect(eq(str, first, second));
    free(first);
    free(second);
    mc_assert_no_leaks();
}

Test(fixtures, reset_goes_back_to_the_files) {
    world_snap files = snap();
    post_expect_added(USER_POST, "users=1");
    post_expect_added("{\"compute\":{\"flavors\":[{\"id\":\"fx.2\",\"name\":\"fx.two\",\"ram\":256,\"vcpus\":1,\"disk\":1}]},"
                      "\"identity\":{\"region\":\"RegionTwo\"}}",
                      "flavors=1 regions=1");
    post_expect_added("{\"identity\":{\"region\":\"RegionOne\"}}", "regions=0");   /* there already: not added twice */

    mc_resp r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 204));
    mc_resp_free(&r);
    int st;
    char *tok = login("alice", "s3cret", "teachers", &st);
    cr_expect(eq(int, st, 401));
    free(tok);
    tok = mc_test_token("demo", "demo");
    r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors/fx.2", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    mc_resp_free(&r);
    free(tok);
    world_snap now = snap();
    for (int k = 0; k < MC_K_COUNT; k++)
        cr_expect(eq(sz, files.count[k], now.count[k]), "kind %d", k);
    mc_assert_no_leaks();
}
