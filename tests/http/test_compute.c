/* HTTP tests of Nova v2.1 (compute.c, compute_servers.c) against an
 * in-process server, and unit tests of microversion negotiation and of the
 * status mapping of the server state machine. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compute.h"
#include "harness.h"
#include "server.h"
#include "util.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define CIRROS_OLD "8d2e6b4a-1c3f-4e5a-b7d9-0f1e2a3b4c5d"
#define C "/compute/v2.1"

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

TestSuite(compute, .init = setup, .fini = teardown);
TestSuite(compute_unit);

static mc_resp get(const char *path) { return mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL); }
static mc_resp getv(const char *path, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    return mc_call(EVHTTP_REQ_GET, path, NULL, tok, h);
}
static mc_resp post(const char *path, const char *body) { return mc_call(EVHTTP_REQ_POST, path, body, tok, NULL); }
static mc_resp postv(const char *path, const char *body, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    return mc_call(EVHTTP_REQ_POST, path, body, tok, h);
}

/* Boots a server with no network; returns its id (caller frees). */
static char *boot(const char *name, const char *extra) { return mc_test_server(tok, name, NULL, NULL, extra); }

static const char *status_of(const char *id, char *buf, size_t n) { return mc_test_server_status(tok, id, buf, n); }

/* ---------------------------------------------------------------- unit */

Test(compute_unit, microversion_negotiation_as_nova) {
    int mv = 0;
    char asked[32];
    cr_expect(eq(int, mc_compute_mv_negotiate(NULL, NULL, 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 1));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.26", NULL, 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 26));
    /* the standard header wins over the legacy one */
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.3", "2.9", 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 3));
    /* another service's entry is ignored: the legacy header decides */
    cr_expect(eq(int, mc_compute_mv_negotiate("volume 3.5", "2.9", 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 9));
    cr_expect(eq(int, mc_compute_mv_negotiate("volume 3.5, compute 2.11", NULL, 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 11));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute latest", NULL, 1, 79, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 79));
    cr_expect(eq(int, mc_compute_mv_negotiate(NULL, "latest", 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mv, 90));
    /* boundaries */
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.90", NULL, 1, 90, &mv, asked, sizeof asked), 0));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.91", NULL, 1, 90, &mv, asked, sizeof asked), -2));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.0", NULL, 1, 90, &mv, asked, sizeof asked), -2));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 3.1", NULL, 1, 90, &mv, asked, sizeof asked), -2));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 1.1", NULL, 1, 90, &mv, asked, sizeof asked), -2));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.10", NULL, 11, 90, &mv, asked, sizeof asked), -2));
    /* malformed */
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2", NULL, 1, 90, &mv, asked, sizeof asked), -1));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.01", NULL, 1, 90, &mv, asked, sizeof asked), -1));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 2.x", NULL, 1, 90, &mv, asked, sizeof asked), -1));
    cr_expect(eq(int, mc_compute_mv_negotiate(NULL, "abc", 1, 90, &mv, asked, sizeof asked), -1));
    cr_expect(eq(str, asked, "abc"));
    cr_expect(eq(int, mc_compute_mv_negotiate("compute 02.1", NULL, 1, 90, &mv, asked, sizeof asked), -1));
}

Test(compute_unit, status_mapping) {
    cr_expect(eq(str, (char *)mc_compute_status("building", "scheduling"), "BUILD"));
    cr_expect(eq(str, (char *)mc_compute_status("active", NULL), "ACTIVE"));
    cr_expect(eq(str, (char *)mc_compute_status("active", ""), "ACTIVE"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "reboot_started"), "REBOOT"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "reboot_started_hard"), "HARD_REBOOT"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "rebuilding"), "REBUILD"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "resize_prep"), "RESIZE"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "image_snapshot"), "ACTIVE"));
    cr_expect(eq(str, (char *)mc_compute_status("active", "deleting"), "ACTIVE"));
    cr_expect(eq(str, (char *)mc_compute_status("stopped", NULL), "SHUTOFF"));
    cr_expect(eq(str, (char *)mc_compute_status("stopped", "powering-on"), "SHUTOFF"));
    cr_expect(eq(str, (char *)mc_compute_status("resized", NULL), "VERIFY_RESIZE"));
    cr_expect(eq(str, (char *)mc_compute_status("resized", "resize_reverting"), "REVERT_RESIZE"));
    cr_expect(eq(str, (char *)mc_compute_status("paused", NULL), "PAUSED"));
    cr_expect(eq(str, (char *)mc_compute_status("suspended", NULL), "SUSPENDED"));
    cr_expect(eq(str, (char *)mc_compute_status("error", NULL), "ERROR"));
    cr_expect(eq(str, (char *)mc_compute_status("deleted", NULL), "DELETED"));
    cr_expect(eq(str, (char *)mc_compute_status("shelved_offloaded", NULL), "SHELVED_OFFLOADED"));
    cr_expect(eq(str, (char *)mc_compute_status("nonsense", NULL), "UNKNOWN"));
}

/* ---------------------------------------------------------------- versions, microversions */

Test(compute, versions_documents) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.id"), "v2.0"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.1.id"), "v2.1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.1.version"), "2.96"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.1.min_version"), "2.1"));
    cr_expect(mc_resp_header(&r, "OpenStack-API-Version") == NULL);
    mc_resp_free(&r);
    r = get(C);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "version.status"), "CURRENT"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "version.links.0.rel"), "self"));
    cr_expect(mc_jpath(r.json, "version.media-types") != NULL);
    mc_resp_free(&r);
    r = get("/compute/v2");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "version.id"), "v2.0"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(compute, microversion_headers_echoed_and_enforced) {
    mc_resp r = get(C "/flavors");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "compute 2.1"));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-OpenStack-Nova-API-Version"), "2.1"));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Vary"), "OpenStack-API-Version, X-OpenStack-Nova-API-Version"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, C "/flavors", NULL, tok, "X-OpenStack-Nova-API-Version: 2.47\n");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "compute 2.47"));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-OpenStack-Nova-API-Version"), "2.47"));
    mc_resp_free(&r);
    r = getv(C "/flavors", "latest");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-OpenStack-Nova-API-Version"), "2.96"));
    mc_resp_free(&r);
    r = getv(C "/flavors", "2.97");
    cr_expect(eq(int, r.status, 406));
    cr_expect(eq(int, (int)mc_jnum(r.json, "notAcceptable.code"), 406));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "notAcceptable.message"),
                 "Version 2.97 is not supported by the API. Minimum is 2.1 and maximum is 2.96."));
    mc_resp_free(&r);
    r = getv(C "/flavors", "2.x");
    cr_expect(eq(int, r.status, 400));
    cr_expect(mc_jstr(r.json, "badRequest.message") != NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- flavors */

Test(compute, flavors_list_detail_show_and_microversion_fields) {
    mc_resp r = get(C "/flavors");
    cr_expect(eq(int, r.status, 200));
    cJSON *f = mc_jpath(r.json, "flavors.0");
    cr_expect(eq(str, (char *)mc_jstr(f, "id"), "1"));
    cr_expect(eq(str, (char *)mc_jstr(f, "name"), "m1.tiny"));
    cr_expect(mc_jpath(f, "ram") == NULL);
    /* the private flavor is hidden from a project without access */
    cJSON *x;
    bool priv = false;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "flavors")) priv |= strcmp(mc_jstr(x, "id"), "6") == 0;
    cr_expect(mc_not(priv));
    mc_resp_free(&r);
    r = get(C "/flavors/detail");
    f = mc_jpath(r.json, "flavors.0");
    cr_expect(eq(int, (int)mc_jnum(f, "ram"), 512));
    cr_expect(eq(str, (char *)mc_jstr(f, "swap"), ""));   /* "" before 2.75 */
    cr_expect(mc_jpath(f, "description") == NULL);
    cr_expect(mc_jpath(f, "extra_specs") == NULL);
    mc_resp_free(&r);
    r = getv(C "/flavors/42", "2.75");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavor.name"), "m1.nano"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "flavor.swap"), 0));
    cr_expect(mc_jpath(r.json, "flavor.description") != NULL);
    cr_expect(mc_jpath(r.json, "flavor.extra_specs") != NULL);
    mc_resp_free(&r);
    mc_expect_error(get(C "/flavors/6"), MC_COMPUTE, 404, "Flavor 6 could not be found.");
    r = get(C "/flavors/detail?minRam=4096");
    cJSON_ArrayForEach(x, mc_jpath(r.json, "flavors")) cr_expect(ge(int, (int)mc_jnum(x, "ram"), 4096));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(compute, flavors_pagination_and_empty_page_after_last) {
    mc_resp r = get(C "/flavors?limit=2");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "flavors")), 2));
    const char *next = mc_jstr(r.json, "flavors_links.0.href");
    cr_assert(next != NULL);
    cr_expect(strstr(next, "marker=2") != NULL);
    cr_expect(strstr(next, "limit=2") != NULL);
    mc_resp_free(&r);
    r = get(C "/flavors?limit=2&marker=2");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavors.0.id"), "3"));
    mc_resp_free(&r);
    r = get(C "/flavors?marker=d4");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "flavors")), 0));
    mc_resp_free(&r);
    mc_expect_status(get(C "/flavors?marker=nope"), 400);
    mc_expect_status(get(C "/flavors?limit=-1"), 400);
    mc_expect_status(get(C "/flavors/detail?is_public=None"), 200);   /* what the CLI sends */
    mc_assert_no_leaks();
}

Test(compute, flavor_admin_create_extra_specs_access_delete) {
    mc_resp r = post(C "/flavors", "{\"flavor\":{\"name\":\"x\",\"ram\":64,\"vcpus\":1,\"disk\":0}}");
    cr_expect(eq(int, r.status, 403));
    cr_expect(eq(int, (int)mc_jnum(r.json, "forbidden.code"), 403));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, C "/flavors",
                "{\"flavor\":{\"name\":\"x\",\"id\":\"x1\",\"ram\":64,\"vcpus\":1,\"disk\":0,"
                "\"os-flavor-access:is_public\":\"False\"}}", admin_tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavor.id"), "x1"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, C "/flavors", "{\"flavor\":{\"name\":\"x\",\"ram\":64,\"vcpus\":1,\"disk\":0}}", admin_tok, NULL), 409);
    r = mc_call(EVHTTP_REQ_POST, C "/flavors", "{\"flavor\":{\"name\":\"y\",\"id\":987,\"ram\":64,\"vcpus\":1,\"disk\":0}}", admin_tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavor.id"), "987"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, C "/flavors/x1/os-extra_specs", "{\"extra_specs\":{\"hw:numa_nodes\":\"1\"}}", admin_tok, NULL), 200);
    r = mc_call(EVHTTP_REQ_GET, C "/flavors/x1/os-extra_specs/hw:numa_nodes", NULL, admin_tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hw:numa_nodes"), "1"));
    mc_resp_free(&r);
    mc_expect_status(get(C "/flavors/x1"), 404);   /* private, no access yet */
    r = mc_call(EVHTTP_REQ_POST, C "/flavors/x1/action", "{\"addTenantAccess\":{\"tenant\":\"" DEMO_PROJECT "\"}}", admin_tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavor_access.0.tenant_id"), DEMO_PROJECT));
    mc_resp_free(&r);
    mc_expect_status(get(C "/flavors/x1"), 200);
    r = mc_call(EVHTTP_REQ_GET, C "/flavors/detail?is_public=f", NULL, admin_tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "flavors.0.id"), "6"));   /* private only */
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/flavors/x1/os-extra_specs/hw:numa_nodes", NULL, admin_tok, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, C "/flavors/1/os-flavor-access", NULL, admin_tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/flavors/x1", NULL, admin_tok, NULL), 202);
    mc_expect_status(get(C "/flavors/x1"), 404);
    mc_assert_no_leaks();
}

/* Flavor views are cached printed (compute.c flavor_view_cached). A body
 * time rule (naive-timestamps: no timestamp in a flavor) turns the cache off,
 * so every reply must be byte-identical to the tree's, at each microversion
 * boundary the view tests, detail or not, before and after every kind of
 * flavor change (description, extra specs set/update/delete, access). */
static void flavor_profile_put(const char *body) {
    mc_resp r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", body, NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
}

#define FLAVOR_VIEWS 11
static const struct { const char *path, *mv; int admin; } flavor_q[FLAVOR_VIEWS] = {
    {C "/flavors/detail", "2.1", 1}, {C "/flavors/detail", "2.55", 1}, {C "/flavors/detail", "2.61", 1},
    {C "/flavors/detail", "2.75", 1}, {C "/flavors", "2.1", 1}, {C "/flavors", "2.55", 1},
    {C "/flavors/x1", "2.61", 1}, {C "/flavors/detail?is_public=None", "2.75", 1},
    {C "/flavors/x1", "2.75", 0}, {C "/flavors/detail?limit=3&marker=2", "2.61", 0},
    {C "/flavors/detail", "2.61", 0},
};

static char *flavor_view_get(int i) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", flavor_q[i].mv);
    mc_resp r = mc_call(EVHTTP_REQ_GET, flavor_q[i].path, NULL, flavor_q[i].admin ? admin_tok : tok, h);
    char *s = malloc(r.len + 8);
    snprintf(s, r.len + 8, "%d %s", r.status, r.body);
    mc_resp_free(&r);
    return s;
}

static void flavor_views(char *out[FLAVOR_VIEWS]) {
    for (int i = 0; i < FLAVOR_VIEWS; i++) out[i] = flavor_view_get(i);
}

static void flavor_views_expect_tree(char *cached[FLAVOR_VIEWS]) {
    char *tree[FLAVOR_VIEWS];
    flavor_profile_put("{\"profile\":\"conformant\",\"deviate\":[\"naive-timestamps\"]}");
    flavor_views(tree);
    flavor_profile_put("{\"profile\":\"conformant\"}");
    for (int i = 0; i < FLAVOR_VIEWS; i++) {
        cr_expect(eq(str, cached[i], tree[i]), "view %d", i);
        free(tree[i]);
    }
}

static void flavor_admin_call(enum evhttp_cmd_type m, const char *path, const char *body, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    mc_resp r = mc_call(m, path, body, admin_tok, h);
    cr_assert(lt(int, r.status, 300), "%s %s", path, r.body);
    mc_resp_free(&r);
}

/* One change: 'view' is fetched just before it (so the cache holds that
 * key's text) and just after (a stale text would show), then every view is
 * compared with the tree's bytes. */
static void flavor_change_then_views(enum evhttp_cmd_type m, const char *path, const char *body, const char *mv,
                                     int view, const char *expect) {
    free(flavor_view_get(view));
    if (path != NULL) flavor_admin_call(m, path, body, mv);
    char *after = flavor_view_get(view);
    cr_expect(strstr(after, expect) != NULL, "%s: view %d lacks %s: %s", path, view, expect, after);
    free(after);
    char *v[FLAVOR_VIEWS];
    flavor_views(v);
    flavor_views_expect_tree(v);
    for (int i = 0; i < FLAVOR_VIEWS; i++) free(v[i]);
}

Test(compute, flavor_view_cache_bytes_equal_the_tree) {
    flavor_admin_call(EVHTTP_REQ_POST, C "/flavors",
                      "{\"flavor\":{\"name\":\"x\",\"id\":\"x1\",\"ram\":64,\"vcpus\":1,\"disk\":0,\"swap\":5,"
                      "\"rxtx_factor\":1.5,\"description\":\"one\",\"os-flavor-access:is_public\":false}}", "2.55");
    flavor_admin_call(EVHTTP_REQ_POST, C "/flavors/x1/action", "{\"addTenantAccess\":{\"tenant\":\"" DEMO_PROJECT "\"}}", "2.1");
    char *a1[FLAVOR_VIEWS], *a2[FLAVOR_VIEWS];
    flavor_views(a1);   /* fills the cache (the last key of each flavor wins) */
    flavor_views(a2);
    for (int i = 0; i < FLAVOR_VIEWS; i++) {
        cr_expect(eq(str, a1[i], a2[i]), "view %d", i);
        free(a1[i]);
        free(a2[i]);
    }
    flavor_change_then_views(EVHTTP_REQ_GET, NULL, NULL, NULL, 6, "\"rxtx_factor\":1.5");
    flavor_change_then_views(EVHTTP_REQ_POST, C "/flavors/x1/os-extra_specs", "{\"extra_specs\":{\"a\":\"1\"}}", "2.1",
                             6, "\"extra_specs\":{\"a\":\"1\"}");
    flavor_change_then_views(EVHTTP_REQ_PUT, C "/flavors/x1", "{\"flavor\":{\"description\":\"two\"}}", "2.55",
                             8, "\"description\":\"two\"");
    flavor_change_then_views(EVHTTP_REQ_PUT, C "/flavors/x1/os-extra_specs/a", "{\"a\":\"3\"}", "2.1",
                             6, "\"extra_specs\":{\"a\":\"3\"}");
    flavor_change_then_views(EVHTTP_REQ_POST, C "/flavors/1/os-extra_specs", "{\"extra_specs\":{\"c\":\"4\"}}", "2.1",
                             2, "\"extra_specs\":{\"c\":\"4\"}");
    flavor_change_then_views(EVHTTP_REQ_DELETE, C "/flavors/1/os-extra_specs/c", NULL, "2.1",
                             2, "\"id\":\"1\",\"name\":\"m1.tiny\",\"description\":null,\"ram\":512,\"disk\":1,"
                                "\"swap\":\"\",\"OS-FLV-EXT-DATA:ephemeral\":0,\"OS-FLV-DISABLED:disabled\":false,"
                                "\"vcpus\":1,\"os-flavor-access:is_public\":true,\"rxtx_factor\":1,\"extra_specs\":{}");
    flavor_change_then_views(EVHTTP_REQ_POST, C "/flavors/x1/action",
                             "{\"removeTenantAccess\":{\"tenant\":\"" DEMO_PROJECT "\"}}", "2.1", 8, "404 ");
    flavor_change_then_views(EVHTTP_REQ_DELETE, C "/flavors/x1", NULL, "2.1", 6, "404 ");
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- keypairs */

#define PUBKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHn2Zy1tFJZq3ld/c1u2w2PFeFFdjYXhzq0NqIGeD0Rr test@host"

Test(compute, keypairs_import_generate_list_show_delete) {
    mc_resp r = post(C "/os-keypairs", "{\"keypair\":{\"name\":\"k1\",\"public_key\":\"" PUBKEY "\"}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    const char *fp = mc_jstr(r.json, "keypair.fingerprint");
    cr_assert(fp != NULL);
    cr_expect(eq(sz, strlen(fp), 47));   /* md5, 16 hex pairs with colons */
    cr_expect(mc_jpath(r.json, "keypair.type") == NULL);   /* 2.2 */
    cr_expect(mc_jpath(r.json, "keypair.private_key") == NULL);
    mc_resp_free(&r);
    r = postv(C "/os-keypairs", "{\"keypair\":{\"name\":\"k2\",\"type\":\"ssh\"}}", "2.2");
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "keypair.type"), "ssh"));
    const char *priv = mc_jstr(r.json, "keypair.private_key");
    cr_assert(priv != NULL);
    cr_expect(strncmp(priv, "-----BEGIN OPENSSH PRIVATE KEY-----\n", 36) == 0);
    cr_expect(strncmp(mc_jstr(r.json, "keypair.public_key"), "ssh-ed25519 AAAA", 16) == 0);
    mc_resp_free(&r);
    r = postv(C "/os-keypairs", "{\"keypair\":{\"name\":\"x1\",\"type\":\"x509\"}}", "2.2");
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(strncmp(mc_jstr(r.json, "keypair.public_key"), "-----BEGIN CERTIFICATE-----", 27) == 0);
    cr_expect(strstr(mc_jstr(r.json, "keypair.private_key"), "PRIVATE KEY-----") != NULL);
    cr_expect(eq(sz, strlen(mc_jstr(r.json, "keypair.fingerprint")), 59));   /* sha1 */
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_DELETE, C "/os-keypairs/x1", NULL, tok, NULL);
    mc_resp_free(&r);
    mc_expect_status(post(C "/os-keypairs", "{\"keypair\":{\"name\":\"k1\"}}"), 409);
    mc_expect_status(post(C "/os-keypairs", "{\"keypair\":{\"name\":\"k3\",\"public_key\":\"ssh-rsa notbase64!\"}}"), 400);
    r = getv(C "/os-keypairs", "2.2");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "keypairs")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "keypairs.0.keypair.type"), "ssh"));
    mc_resp_free(&r);
    r = get(C "/os-keypairs/k1");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "keypair.public_key"), PUBKEY));
    cr_expect(mc_jpath(r.json, "keypair.id") != NULL);
    mc_resp_free(&r);
    /* keypairs are per user: alt_demo does not see demo's */
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, C "/os-keypairs/k1", NULL, alt, NULL), 404);
    free(alt);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/os-keypairs/k1", NULL, tok, "OpenStack-API-Version: compute 2.2\n"), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/os-keypairs/k2", NULL, tok, NULL), 202);
    mc_expect_status(get(C "/os-keypairs/k1"), 404);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- zones, limits, quotas */

Test(compute, zones_limits_quotas) {
    mc_resp r = get(C "/os-availability-zone");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availabilityZoneInfo.0.zoneName"), "nova"));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "availabilityZoneInfo.0.hosts")));
    mc_resp_free(&r);
    mc_expect_status(get(C "/os-availability-zone/detail"), 403);
    r = get(C "/limits");
    cr_expect(eq(int, (int)mc_jnum(r.json, "limits.absolute.maxTotalInstances"), 10));
    cr_expect(eq(int, (int)mc_jnum(r.json, "limits.absolute.totalInstancesUsed"), 0));
    cr_expect(mc_jpath(r.json, "limits.absolute.maxSecurityGroups") != NULL);
    mc_resp_free(&r);
    r = getv(C "/limits", "2.57");
    cr_expect(mc_jpath(r.json, "limits.absolute.maxSecurityGroups") == NULL);
    cr_expect(mc_jpath(r.json, "limits.absolute.maxPersonality") == NULL);
    mc_resp_free(&r);
    r = get(C "/os-quota-sets/" DEMO_PROJECT);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "quota_set.id"), DEMO_PROJECT));
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.cores"), 20));
    cr_expect(mc_jpath(r.json, "quota_set.fixed_ips") != NULL);
    mc_resp_free(&r);
    r = get(C "/os-quota-sets/" DEMO_PROJECT "/defaults");
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.instances"), 10));
    mc_resp_free(&r);
    r = get(C "/os-quota-sets/" DEMO_PROJECT "/detail");
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.instances.limit"), 10));
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.instances.in_use"), 0));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_PUT, C "/os-quota-sets/" DEMO_PROJECT, "{\"quota_set\":{\"instances\":1}}", admin_tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.instances"), 1));
    mc_resp_free(&r);
    char *id = boot("q1", NULL);
    r = postv(C "/servers", "{\"server\":{\"name\":\"q2\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}", "2.37");
    cr_expect(eq(int, r.status, 403));
    cr_expect(strstr(mc_jstr(r.json, "forbidden.message"), "Quota exceeded for instances") != NULL);
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- servers */

Test(compute, server_create_build_to_active_and_shapes) {
    mc_resp r = postv(C "/servers",
                      "{\"server\":{\"name\":\"vm1\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\","
                      "\"metadata\":{\"a\":\"b\"}}}", "2.37");
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    cJSON *s = mc_jpath(r.json, "server");
    cr_expect(eq(int, cJSON_GetArraySize(s), 5));   /* id, links, OS-DCF:diskConfig, security_groups, adminPass */
    cr_expect(mc_jstr(s, "adminPass") != NULL);
    cr_expect(eq(str, (char *)mc_jstr(s, "OS-DCF:diskConfig"), "MANUAL"));
    char *id = strdup(mc_jstr(s, "id"));
    const char *loc = mc_resp_header(&r, "Location");
    cr_expect(loc != NULL && strstr(loc, id) != NULL);
    mc_resp_free(&r);
    char path[200], st[32];
    snprintf(path, sizeof path, C "/servers/%s", id);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "BUILD"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-EXT-STS:vm_state"), "building"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.metadata.a"), "b"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.flavor.id"), "42"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.image.id"), CIRROS));
    cr_expect(mc_jpath(r.json, "server.locked") == NULL);     /* 2.9 */
    cr_expect(mc_jpath(r.json, "server.OS-EXT-SRV-ATTR:host") == NULL);   /* admin only */
    mc_resp_free(&r);
    mc_test_sleep_ms(400);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "ACTIVE"));
    r = getv(path, "2.73");
    cr_expect(eq(int, (int)mc_jnum(r.json, "server.OS-EXT-STS:power_state"), 1));
    cr_expect(mc_jstr(r.json, "server.OS-SRV-USG:launched_at") != NULL);
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "server.locked")));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "server.description")));
    cr_expect(cJSON_IsArray(mc_jpath(r.json, "server.tags")));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.flavor.original_name"), "m1.nano"));   /* 2.47 */
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "server.locked_reason")));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, admin_tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-EXT-SRV-ATTR:host"), "mockcloud-compute-1"));
    mc_resp_free(&r);
    /* another project cannot see it */
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, alt, NULL), 404);
    free(alt);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, server_create_validation_errors) {
    static const char *const bad[] = {
        "{\"server\":{\"name\":\"\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}",
        "{\"server\":{\"name\":12345,\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}",
        "{\"server\":{\"name\":\"   \",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"nope\",\"imageRef\":\"" CIRROS "\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"11111111-2222-3333-4444-555555555555\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"not-a-uuid\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"accessIPv6\":\"notvalid\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":[{\"uuid\":\"a-b-c-d-e-f-g-h-i-j\",\"fixed_ip\":\"10.0.1.1\"}]}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"key_name\":\"missing\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"user_data\":\"***\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"availability_zone\":\"mars\"}}",
        "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"min_count\":3,\"max_count\":2}}",
        "{\"notserver\":{}}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        mc_resp r = post(C "/servers", bad[i]);
        cr_expect(eq(int, r.status, 400), "case %d: %s", i, r.body);
        cr_expect(eq(int, (int)mc_jnum(r.json, "badRequest.code"), 400), "case %d", i);
        mc_resp_free(&r);
    }
    char longname[300], body[600];
    memset(longname, 'a', 256);
    longname[256] = '\0';
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"%s\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}", longname);
    mc_expect_status(post(C "/servers", body), 400);
    memset(longname, 'b', 260);
    longname[260] = '\0';
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"m\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"metadata\":{\"a\":\"%s\"}}}", longname);
    mc_expect_status(post(C "/servers", body), 400);
    /* 2.37 requires networks */
    mc_expect_status(postv(C "/servers", "{\"server\":{\"name\":\"a\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}", "2.37"), 400);
    mc_expect_count(get(C "/servers"), "servers", 0);
    mc_assert_no_leaks();
}

Test(compute, server_list_filters_and_pagination) {
    char *a = boot("alpha-1", NULL), *b = boot("beta-2", NULL), *c = mc_test_server(tok, "alpha-3", "1", NULL, NULL);
    (void)c;
    mc_resp r = get(C "/servers");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 3));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "servers.0.name"), "alpha-3"));   /* newest first */
    cr_expect(mc_jpath(r.json, "servers.0.status") == NULL);
    mc_resp_free(&r);
    mc_expect_count(get(C "/servers/detail?name=^alpha"), "servers", 2);
    mc_expect_count(get(C "/servers/detail?name=ph"), "servers", 2);
    mc_expect_count(get(C "/servers?flavor=1"), "servers", 1);
    r = get(C "/servers?flavor=99999");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 0));
    mc_resp_free(&r);
    mc_expect_count(get(C "/servers?image=" CIRROS_OLD), "servers", 0);
    mc_expect_count(get(C "/servers?image=" CIRROS), "servers", 3);
    mc_expect_count(get(C "/servers?status=BUILD"), "servers", 3);
    mc_expect_count(get(C "/servers?status=ACTIVE"), "servers", 0);
    r = get(C "/servers?status=non_existing_status");
    cr_expect(eq(int, r.status, 200));   /* up to 2.37: nothing matches */
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 0));
    mc_resp_free(&r);
    mc_expect_status(getv(C "/servers?status=non_existing_status", "2.38"), 400);
    mc_expect_count(get(C "/servers?changes-since=2999-01-01T00:00:00Z"), "servers", 0);
    mc_expect_status(get(C "/servers?changes-since=2011/01/01"), 400);
    mc_expect_status(get(C "/servers?limit=-1"), 400);
    mc_expect_status(get(C "/servers?limit=abc"), 400);
    mc_expect_status(get(C "/servers?all_tenants=1"), 403);
    /* pages: limit 2 then the marker, then an empty page */
    r = get(C "/servers/detail?limit=2");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 2));
    const char *next = mc_jstr(r.json, "servers_links.0.href");
    cr_assert(next != NULL);
    cr_expect(strstr(next, "/servers/detail?limit=2&marker=") != NULL);
    mc_resp_free(&r);
    /* the next link keeps the query, percent-encoded as libevent's evhttp_encode_uri */
    r = get(C "/servers/detail?limit=2&name=%5E%5B%5E~%5D");
    next = mc_jstr(r.json, "servers_links.0.href");
    cr_assert(next != NULL, "%s", r.body);
    cr_expect(strstr(next, "/compute/v2.1/servers/detail?limit=2&name=%5E%5B%5E~%5D&marker=") != NULL, "%s", next);
    mc_resp_free(&r);
    char path[200];
    snprintf(path, sizeof path, C "/servers?limit=2&marker=%s", b);
    r = get(path);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "servers.0.id"), a));
    cr_expect(mc_jpath(r.json, "servers_links") == NULL);
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers?marker=%s", a);
    r = get(path);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 0));
    mc_resp_free(&r);
    mc_expect_status(get(C "/servers?marker=00000000-0000-0000-0000-000000000000"), 400);
    /* admins see every project with all_tenants (any value but false; empty too) */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?all_tenants=True", NULL, admin_tok, NULL), "servers", 3);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?all_tenants=", NULL, admin_tok, NULL), "servers", 3);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?tenant_id=" DEMO_PROJECT, NULL, admin_tok, NULL), "servers", 0);   /* without all_tenants */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?all_tenants&tenant_id=" DEMO_PROJECT, NULL, admin_tok, NULL), "servers", 3);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?all_tenants=false", NULL, admin_tok, NULL), "servers", 0);
    /* an admin resets a server's state */
    char rpath[200];
    snprintf(rpath, sizeof rpath, C "/servers/%s/action", a);
    mc_expect_status(post(rpath, "{\"os-resetState\":{\"state\":\"error\"}}"), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, rpath, "{\"os-resetState\":{\"state\":\"error\"}}", admin_tok, NULL), 202);
    char st[32];
    cr_expect(eq(str, (char *)status_of(a, st, sizeof st), "ERROR"));
    free(a);
    free(b);
    free(c);
    mc_assert_no_leaks();
}

Test(compute, multiple_create_and_reservation_id) {
    mc_resp r = postv(C "/servers",
                      "{\"server\":{\"name\":\"multi\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\","
                      "\"min_count\":2,\"max_count\":3,\"return_reservation_id\":true}}", "2.37");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    const char *resv = mc_jstr(r.json, "reservation_id");
    cr_assert(resv != NULL);
    char path[200];
    snprintf(path, sizeof path, C "/servers?reservation_id=%s", resv);
    mc_resp_free(&r);
    r = get(path);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "servers")), 3));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "servers.2.name"), "multi-1"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(compute, server_update_and_delete_then_404) {
    char *id = boot("old", NULL);
    char path[200], st[32];
    snprintf(path, sizeof path, C "/servers/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_PUT, path, "{\"server\":{\"name\":\"new\",\"accessIPv4\":\"1.2.3.4\",\"accessIPv6\":\"0000:0000:0000:0000:0000:babe:220.12.22.2\"}}", tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.name"), "new"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.accessIPv4"), "1.2.3.4"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.accessIPv6"), "::babe:dc0c:1602"));
    cr_expect(mc_jpath(r.json, "server.OS-EXT-STS:vm_state") == NULL);   /* basic view before 2.75 */
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, "{\"server\":{\"name\":\"\"}}", tok, NULL), 400);
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"server\":{\"description\":\"d\"}}", tok, "OpenStack-API-Version: compute 2.19\n");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.description"), "d"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, C "/servers/00000000-0000-0000-0000-000000000000", "{\"server\":{\"name\":\"x\"}}", tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_test_sleep_ms(200);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "404"));
    mc_expect_count(get(C "/servers/detail"), "servers", 0);
    /* admins list deleted servers with changes-since */
    r = mc_call(EVHTTP_REQ_GET, C "/servers/detail?all_tenants=1&changes-since=2000-01-01T00:00:00Z", NULL, admin_tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "servers.0.status"), "DELETED"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/servers/-1", NULL, tok, NULL), 404);
    free(id);
    mc_assert_no_leaks();
}

static mc_resp action(const char *id, const char *body) {
    char path[200];
    snprintf(path, sizeof path, C "/servers/%s/action", id);
    return post(path, body);
}

Test(compute, actions_transitions_and_conflicts) {
    char *id = boot("act", NULL);
    char st[32];
    mc_resp r = action(id, "{\"reboot\":{\"type\":\"HARD\"}}");
    cr_expect(eq(int, r.status, 409));   /* building */
    cr_expect(strstr(mc_jstr(r.json, "conflictingRequest.message"), "while it is in") != NULL);
    mc_resp_free(&r);
    mc_test_sleep_ms(400);
    mc_expect_status(action(id, "{\"reboot\":{\"type\":\"HARD\"}}"), 202);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "HARD_REBOOT"));
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "ACTIVE"));
    mc_expect_status(action(id, "{\"reboot\":{\"type\":\"WARM\"}}"), 400);
    mc_expect_status(action(id, "{\"os-start\":null}"), 409);
    mc_expect_status(action(id, "{\"os-stop\":null}"), 202);
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "SHUTOFF"));
    mc_expect_status(action(id, "{\"os-stop\":null}"), 409);
    mc_expect_status(action(id, "{\"os-start\":null}"), 202);
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "ACTIVE"));
    /* rebuild returns the server with a new adminPass */
    r = action(id, "{\"rebuild\":{\"imageRef\":\"" CIRROS_OLD "\",\"name\":\"rebuilt\",\"adminPass\":\"pw\"}}");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.adminPass"), "pw"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.image.id"), CIRROS_OLD));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "REBUILD"));
    mc_resp_free(&r);
    mc_test_sleep_ms(300);
    /* resize, then confirm */
    mc_expect_status(action(id, "{\"resize\":{\"flavorRef\":\"42\"}}"), 400);   /* same flavor */
    mc_expect_status(action(id, "{\"resize\":{\"flavorRef\":\"84\"}}"), 202);
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "VERIFY_RESIZE"));
    mc_expect_status(action(id, "{\"revertResize\":null}"), 202);
    mc_test_sleep_ms(300);
    char path[200];
    snprintf(path, sizeof path, C "/servers/%s", id);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.flavor.id"), "42"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "ACTIVE"));
    mc_resp_free(&r);
    /* lock: the owner can no longer stop or delete */
    mc_expect_status(action(id, "{\"lock\":null}"), 202);
    mc_expect_status(action(id, "{\"os-stop\":null}"), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 409);
    r = getv(path, "2.9");
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "server.locked")));
    mc_resp_free(&r);
    mc_expect_status(action(id, "{\"unlock\":null}"), 202);
    mc_expect_status(action(id, "{\"pause\":null}"), 202);
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "PAUSED"));
    r = action(id, "{\"os-getConsoleOutput\":{\"length\":1}}");
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jstr(r.json, "output") != NULL);
    mc_resp_free(&r);
    mc_expect_status(action(id, "{\"frobnicate\":null}"), 400);
    mc_expect_status(action("00000000-0000-0000-0000-000000000000", "{\"reboot\":{\"type\":\"HARD\"}}"), 404);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, instance_actions_list_and_show) {
    mc_resp r = postv(C "/servers", "{\"server\":{\"name\":\"ia\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}", "2.37");
    char *id = strdup(mc_jstr(r.json, "server.id"));
    char *req = strdup(mc_resp_header(&r, "x-compute-request-id"));
    mc_resp_free(&r);
    mc_test_sleep_ms(400);
    r = action(id, "{\"reboot\":{\"type\":\"HARD\"}}");
    mc_resp_free(&r);
    char path[300];
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions", id);
    r = get(path);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "instanceActions")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instanceActions.0.action"), "reboot"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instanceActions.1.action"), "create"));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "instanceActions.0.message")));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions/%s", id, req);
    r = get(path);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instanceAction.action"), "create"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instanceAction.instance_uuid"), id));
    cr_expect(mc_jpath(r.json, "instanceAction.events") == NULL);   /* admin only before 2.51 */
    mc_resp_free(&r);
    r = getv(path, "2.51");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instanceAction.events.0.result"), "Success"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions/req-nope", id);
    mc_expect_status(get(path), 404);
    free(id);
    free(req);
    mc_assert_no_leaks();
}

/* Nova prints its database rows' datetimes naive, with microseconds
 * ("2013-09-23T13:53:12.000000"). gophercloud parses OS-SRV-USG:launched_at,
 * instance actions, services and zones with exactly that layout and failed on
 * the "...Z" mockcloud used to send (tests/clients/gophercloud). */
static bool nova_naive(const char *t) {
    if (t == NULL || strlen(t) != 26 || t[4] != '-' || t[10] != 'T' || t[13] != ':' || t[19] != '.') return false;
    for (int i = 20; i < 26; i++)
        if (t[i] < '0' || t[i] > '9') return false;
    return mc_time_parse(t) > 0;
}

Test(compute, db_timestamps_are_naive_with_microseconds) {
    char *id = boot("naive", NULL);
    mc_test_sleep_ms(400);
    char path[300];
    snprintf(path, sizeof path, C "/servers/%s", id);
    mc_resp r = get(path);
    cr_expect(nova_naive(mc_jstr(r.json, "server.OS-SRV-USG:launched_at")), "%s", r.body);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "server.OS-SRV-USG:terminated_at")));
    const char *created = mc_jstr(r.json, "server.created");   /* API timestamps keep their Z */
    cr_expect(created != NULL && strlen(created) == 20 && created[19] == 'Z', "%s", created);
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions", id);
    r = get(path);
    cr_expect(nova_naive(mc_jstr(r.json, "instanceActions.0.start_time")), "%s", r.body);
    mc_resp_free(&r);
    r = getv(path, "2.58");
    cr_expect(nova_naive(mc_jstr(r.json, "instanceActions.0.updated_at")), "%s", r.body);
    char *req = strdup(mc_jstr(r.json, "instanceActions.0.request_id"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions/%s", id, req);
    r = getv(path, "2.51");
    cr_expect(nova_naive(mc_jstr(r.json, "instanceAction.events.0.start_time")), "%s", r.body);
    cr_expect(nova_naive(mc_jstr(r.json, "instanceAction.events.0.finish_time")), "%s", r.body);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, C "/os-services", NULL, admin_tok, NULL);
    cr_expect(nova_naive(mc_jstr(r.json, "services.0.updated_at")), "%s", r.body);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, C "/os-availability-zone/detail", NULL, admin_tok, NULL);
    cr_expect(nova_naive(mc_jstr(r.json, "availabilityZoneInfo.0.hosts.mockcloud-controller.nova-scheduler.updated_at")),
              "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(post(C "/os-keypairs", "{\"keypair\":{\"name\":\"naive\"}}"), 200);
    r = get(C "/os-keypairs/naive");
    cr_expect(nova_naive(mc_jstr(r.json, "keypair.created_at")), "%s", r.body);
    mc_resp_free(&r);
    free(req);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, metadata_and_tags) {
    char *id = boot("md", NULL);
    mc_test_sleep_ms(400);
    char path[300];
    snprintf(path, sizeof path, C "/servers/%s/metadata", id);
    mc_resp r = post(path, "{\"metadata\":{\"k1\":\"v1\",\"k2\":\"v2\"}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "metadata.k2"), "v2"));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_PUT, path, "{\"metadata\":{\"only\":\"one\"}}", tok, NULL), "metadata", 1);
    snprintf(path, sizeof path, C "/servers/%s/metadata/only", id);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "meta.only"), "one"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, "{\"meta\":{\"other\":\"x\"}}", tok, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_expect_status(get(path), 404);
    /* tags need 2.26 */
    snprintf(path, sizeof path, C "/servers/%s/tags", id);
    mc_expect_status(get(path), 404);
    const char *h = "OpenStack-API-Version: compute 2.26\n";
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"tags\":[\"a\",\"b\"]}", tok, h);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tags")), 2));
    mc_resp_free(&r);
    char tp[350];
    snprintf(tp, sizeof tp, "%s/c", path);
    r = mc_call(EVHTTP_REQ_PUT, tp, NULL, tok, h);
    cr_expect(eq(int, r.status, 201));
    cr_expect(mc_resp_header(&r, "Location") != NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, tp, NULL, tok, h), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, tp, NULL, tok, h), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, C "/servers?tags=a,c", NULL, tok, h), "servers", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, tp, NULL, tok, h), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, tp, NULL, tok, h), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, h), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, path, NULL, tok, h), "tags", 0);
    free(id);
    mc_assert_no_leaks();
}

/* The create reply is assembled as text: it must be the bytes cJSON prints
 * for the same tree (escapes in adminPass and group names included). */
Test(compute, create_reply_text_is_what_cjson_prints) {
    mc_resp r = post(C "/os-security-groups", "{\"security_group\":{\"name\":\"q\\\"b\\\\\\u00e9/x\",\"description\":\"d\"}}");
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
    const char *bodies[] = {
        "{\"server\":{\"name\":\"t1\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\"}}",
        "{\"server\":{\"name\":\"t2\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\",\"OS-DCF:diskConfig\":\"AUTO\","
        "\"adminPass\":\"a\\\"\\\\\\n\\t\\r\\b\\f\\u0001\\u001f\\u00e9/\\u007f\","
        "\"security_groups\":[{\"name\":\"default\"},{\"name\":\"q\\\"b\\\\\\u00e9/x\"}]}}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        r = post(C "/servers", bodies[i]);
        cr_assert(eq(int, r.status, 202), "%s", r.body);
        cr_assert(r.json != NULL, "%s", r.body);
        char *again = cJSON_PrintUnformatted(r.json);
        cr_expect(eq(str, r.body, again));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "server.links.0.rel"), "self"));
        const char *loc = mc_resp_header(&r, "Location");
        cr_assert(loc != NULL);
        cr_expect(eq(str, (char *)mc_jstr(r.json, "server.links.0.href"), (char *)loc));
        if (i == 1) {
            cr_expect(eq(str, (char *)mc_jstr(r.json, "server.adminPass"), "a\"\\\n\t\r\b\f\x01\x1f\xc3\xa9/\x7f"));
            cr_expect(eq(str, (char *)mc_jstr(r.json, "server.security_groups.1.name"), "q\"b\\\xc3\xa9/x"));
            cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-DCF:diskConfig"), "AUTO"));
        }
        free(again);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

Test(compute, create_image_and_images_proxy) {
    char *id = boot("snap", NULL);
    mc_test_sleep_ms(400);
    mc_resp r = action(id, "{\"createImage\":{\"name\":\"snap-\xe2\x98\x83\",\"metadata\":{\"purpose\":\"test\"}}}");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    const char *loc = mc_resp_header(&r, "Location");
    cr_assert(loc != NULL);
    char *image_id = strdup(strrchr(loc, '/') + 1);
    mc_resp_free(&r);
    char path[300];
    snprintf(path, sizeof path, C "/images/%s", image_id);
    r = get(path);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "image.status"), "SAVING"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "image.name"), "snap-\xe2\x98\x83"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "image.server.id"), id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "image.metadata.purpose"), "test"));
    mc_resp_free(&r);
    /* one snapshot at a time */
    mc_expect_status(action(id, "{\"createImage\":{\"name\":\"again\"}}"), 409);
    mc_test_sleep_ms(400);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "image.status"), "ACTIVE"));
    mc_resp_free(&r);
    /* 2.45 answers with the id in the body */
    char apath[200];
    snprintf(apath, sizeof apath, C "/servers/%s/action", id);
    r = postv(apath, "{\"createImage\":{\"name\":\"b\"}}", "2.45");
    cr_expect(eq(int, r.status, 202));
    cr_expect(mc_jstr(r.json, "image_id") != NULL);
    mc_resp_free(&r);
    r = get(C "/images");
    cr_expect(ge(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 3));
    mc_resp_free(&r);
    mc_expect_status(getv(C "/images", "2.36"), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_expect_status(get(path), 404);
    free(image_id);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, reset_cancels_pending_timers) {
    char *id = boot("t1", NULL);
    char *id2 = boot("t2", NULL);
    char path[200];
    snprintf(path, sizeof path, C "/servers/%s", id2);
    mc_resp r = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL);
    cr_expect(lt(int, r.status, 300));
    mc_resp_free(&r);
    mc_test_sleep_ms(400);   /* the build and delete timers must not fire */
    free(tok);
    tok = mc_test_token("demo", "demo");
    mc_expect_count(get(C "/servers"), "servers", 0);
    mc_expect_status(get(C "/flavors/42"), 200);
    free(id);
    free(id2);
    mc_assert_no_leaks();
}

Test(compute, server_groups) {
    mc_resp r = post(C "/os-server-groups", "{\"server_group\":{\"name\":\"g\",\"policies\":[\"anti-affinity\"]}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    char *gid = strdup(mc_jstr(r.json, "server_group.id"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server_group.policies.0"), "anti-affinity"));
    mc_resp_free(&r);
    char body[400];
    snprintf(body, sizeof body,
             "{\"server\":{\"name\":\"m\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"},"
             "\"os:scheduler_hints\":{\"group\":\"%s\"}}", gid);
    r = postv(C "/servers", body, "2.37");
    cr_expect(eq(int, r.status, 202));
    char *sid = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    char path[200];
    snprintf(path, sizeof path, C "/os-server-groups/%s", gid);
    r = getv(path, "2.64");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server_group.policy"), "anti-affinity"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server_group.members.0"), sid));
    mc_resp_free(&r);
    mc_expect_status(post(C "/os-server-groups", "{\"server_group\":{\"name\":\"g\",\"policies\":[\"bogus\"]}}"), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    free(gid);
    free(sid);
    mc_assert_no_leaks();
}

/* A profile that makes every build fail: ERROR with a fault. */
Test(compute_unit, build_failure_profile_gives_error_with_fault) {
    char dir[] = "/tmp/mc-compute-XXXXXX";
    cr_assert(mkdtemp(dir) != NULL);
    char file[300];
    snprintf(file, sizeof file, "%s/failing.json", dir);
    FILE *f = fopen(file, "w");
    cr_assert(f != NULL);
    fputs("{\"name\":\"failing\",\"description\":\"builds fail\",\"deviations\":[{\"id\":\"nova-build-fails\","
          "\"title\":\"t\",\"explanation\":\"e\",\"set\":{\"compute.build_fail_percent\":100,\"compute.build_ms\":10}}]}", f);
    fclose(f);
    mc_test_start(file);
    char *t = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_POST, C "/servers",
                        "{\"server\":{\"name\":\"f\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\"}}", t, NULL);
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char path[200];
    snprintf(path, sizeof path, C "/servers/%s", mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    mc_test_sleep_ms(100);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, t, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "ERROR"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "server.fault.code"), 500));
    cr_expect(strstr(mc_jstr(r.json, "server.fault.message"), "No valid host") != NULL);
    mc_resp_free(&r);
    free(t);
    mc_test_stop();
    unlink(file);
    rmdir(dir);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- with the network service */

#define PRIVATE_NET "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e"

Test(compute, ports_addresses_ips_and_interfaces) {
    mc_resp r = post(C "/servers", "{\"server\":{\"name\":\"net\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\","
                                   "\"networks\":[{\"uuid\":\"" PRIVATE_NET "\"}]}}");
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    char path[300];
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s", id);
    r = get(path);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "ports")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.device_owner"), "compute:nova"));
    char *port = strdup(mc_jstr(r.json, "ports.0.id"));
    char *mac = strdup(mc_jstr(r.json, "ports.0.mac_address"));
    char *ip = strdup(mc_jstr(r.json, "ports.0.fixed_ips.0.ip_address"));
    mc_resp_free(&r);
    mc_test_sleep_ms(400);
    snprintf(path, sizeof path, C "/servers/%s", id);
    r = get(path);
    cJSON *a = mc_jpath(r.json, "server.addresses.private.0");
    cr_assert(a != NULL, "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(a, "addr"), ip));
    cr_expect(eq(str, (char *)mc_jstr(a, "OS-EXT-IPS:type"), "fixed"));
    cr_expect(eq(str, (char *)mc_jstr(a, "OS-EXT-IPS-MAC:mac_addr"), mac));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.security_groups.0.name"), "default"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "port.status"), "ACTIVE"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/ips", id);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "addresses.private.0.addr"), ip));
    cr_expect(mc_jpath(r.json, "addresses.private.0.OS-EXT-IPS:type") == NULL);
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/ips/private", id);
    r = get(path);
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jpath(r.json, "private") != NULL);
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/ips/nowhere", id);
    mc_expect_status(get(path), 404);
    snprintf(path, sizeof path, C "/servers/%s/os-interface", id);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "interfaceAttachments.0.port_id"), port));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "interfaceAttachments.0.net_id"), PRIVATE_NET));
    mc_resp_free(&r);
    /* attach a second interface, then detach it: the port it created is gone */
    r = post(path, "{\"interfaceAttachment\":{\"net_id\":\"" PRIVATE_NET "\"}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    char *port2 = strdup(mc_jstr(r.json, "interfaceAttachment.port_id"));
    mc_resp_free(&r);
    mc_expect_count(get(path), "interfaceAttachments", 2);
    char dpath[400];
    snprintf(dpath, sizeof dpath, "%s/%s", path, port2);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, dpath, NULL, tok, NULL), 202);
    mc_expect_count(get(path), "interfaceAttachments", 1);
    snprintf(dpath, sizeof dpath, "/network/v2.0/ports/%s", port2);
    mc_expect_status(get(dpath), 404);
    free(port2);
    /* the ip filter is a regex on the addresses */
    char q[200];
    snprintf(q, sizeof q, C "/servers?ip=^%s$", ip);
    mc_expect_count(get(q), "servers", 1);
    mc_expect_count(get(C "/servers?ip=^192\\.168\\."), "servers", 0);
    /* deleting the server frees its port */
    snprintf(path, sizeof path, C "/servers/%s", id);
    r = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
    mc_resp_free(&r);
    mc_test_sleep_ms(200);
    snprintf(path, sizeof path, "/network/v2.0/ports/%s", port);
    mc_expect_status(get(path), 404);
    free(id);
    free(port);
    free(mac);
    free(ip);
    mc_assert_no_leaks();
}

Test(compute, create_network_errors_and_fixed_ip) {
    mc_expect_status(post(C "/servers", "{\"server\":{\"name\":\"n\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\","
                                   "\"networks\":[{\"uuid\":\"00000000-1111-2222-3333-444444444444\"}]}}"), 400);
    mc_resp r;
    r = post(C "/servers", "{\"server\":{\"name\":\"n\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\","
                           "\"networks\":[{\"uuid\":\"" PRIVATE_NET "\",\"fixed_ip\":\"10.0.0.77\"}]}}");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    char path[300];
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s", mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.fixed_ips.0.ip_address"), "10.0.0.77"));
    mc_resp_free(&r);
    /* the same address again is a conflict, and no server is left behind */
    r = post(C "/servers", "{\"server\":{\"name\":\"n2\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\","
                           "\"networks\":[{\"uuid\":\"" PRIVATE_NET "\",\"fixed_ip\":\"10.0.0.77\"}]}}");
    cr_expect(eq(int, r.status / 100, 4));
    mc_resp_free(&r);
    mc_expect_count(get(C "/servers"), "servers", 1);
    /* 2.37 auto picks the project's network */
    r = postv(C "/servers", "{\"server\":{\"name\":\"auto\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"auto\"}}", "2.37");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s", mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.network_id"), PRIVATE_NET));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(compute, security_groups_proxy_and_server_groups_actions) {
    mc_resp r = post(C "/os-security-groups", "{\"security_group\":{\"name\":\"web\",\"description\":\"http\"}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    char *sg = strdup(mc_jstr(r.json, "security_group.id"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group.tenant_id"), DEMO_PROJECT));
    mc_resp_free(&r);
    char body[300], path[300];
    snprintf(body, sizeof body, "{\"security_group_rule\":{\"parent_group_id\":\"%s\",\"ip_protocol\":\"tcp\","
                                "\"from_port\":80,\"to_port\":80,\"cidr\":\"0.0.0.0/0\"}}", sg);
    r = post(C "/os-security-group-rules", body);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "security_group_rule.from_port"), 80));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group_rule.ip_range.cidr"), "0.0.0.0/0"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/os-security-groups/%s", sg);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group.rules.0.ip_protocol"), "tcp"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"security_group\":{\"name\":\"web2\",\"description\":\"d2\"}}", tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "security_group.name"), "web2"));
    mc_resp_free(&r);
    r = get(C "/os-security-groups");
    cr_expect(ge(int, cJSON_GetArraySize(mc_jpath(r.json, "security_groups")), 2));
    mc_resp_free(&r);
    mc_expect_status(getv(C "/os-security-groups", "2.36"), 404);
    mc_expect_status(get(C "/os-security-groups/00000000-1111-2222-3333-444444444444"), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, C "/os-security-groups", NULL, tok, NULL), 404);
    /* a server gets the group and loses it */
    r = post(C "/servers", "{\"server\":{\"name\":\"s\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\","
                           "\"networks\":[{\"uuid\":\"" PRIVATE_NET "\"}]}}");
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    mc_test_sleep_ms(400);
    mc_expect_status(action(id, "{\"addSecurityGroup\":{\"name\":\"web2\"}}"), 202);
    mc_expect_status(action(id, "{\"addSecurityGroup\":{\"name\":\"web2\"}}"), 400);
    mc_expect_status(action(id, "{\"addSecurityGroup\":{\"name\":\"missing\"}}"), 404);
    snprintf(path, sizeof path, C "/servers/%s/os-security-groups", id);
    mc_expect_count(get(path), "security_groups", 2);
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s", id);
    mc_expect_count(get(path), "ports.0.security_groups", 2);
    mc_expect_status(action(id, "{\"removeSecurityGroup\":{\"name\":\"web2\"}}"), 202);
    mc_expect_status(action(id, "{\"removeSecurityGroup\":{\"name\":\"web2\"}}"), 400);
    /* the default group cannot be deleted; an unused group can */
    r = get(C "/os-security-groups");
    cJSON *x;
    const char *def = NULL;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "security_groups")) if (strcmp(mc_jstr(x, "name"), "default") == 0) def = mc_jstr(x, "id");
    cr_assert(def != NULL);
    snprintf(path, sizeof path, C "/os-security-groups/%s", def);
    mc_resp r2 = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
    cr_expect(eq(int, r2.status, 400));
    mc_resp_free(&r2);
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/os-security-groups/%s", sg);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 202);
    free(id);
    free(sg);
    mc_assert_no_leaks();
}

Test(compute, backup_shelve_console_image_metadata_extensions) {
    char *id = boot("bk", NULL);
    mc_test_sleep_ms(400);
    mc_resp r = action(id, "{\"createBackup\":{\"name\":\"b1\",\"backup_type\":\"daily\",\"rotation\":1}}");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    cr_expect(mc_resp_header(&r, "Location") != NULL);
    mc_resp_free(&r);
    mc_expect_status(action(id, "{\"createBackup\":{\"name\":\"b2\",\"backup_type\":\"daily\",\"rotation\":1}}"), 202);
    char q[300];
    snprintf(q, sizeof q, C "/images/detail?server=%s&type=backup", id);
    r = get(q);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1));   /* rotation 1 */
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.0.name"), "b2"));
    mc_resp_free(&r);
    mc_expect_status(action(id, "{\"createBackup\":{\"name\":\"b3\"}}"), 400);
    /* console output: the last N lines */
    r = action(id, "{\"os-getConsoleOutput\":{\"length\":3}}");
    cr_expect(eq(int, r.status, 200));
    const char *out = mc_jstr(r.json, "output");
    int lines = 1;
    for (const char *p = out; *p; p++) lines += *p == '\n';
    cr_expect(eq(int, lines, 3));
    mc_resp_free(&r);
    /* image metadata through the proxy */
    snprintf(q, sizeof q, C "/images/detail?server=%s", id);
    r = get(q);
    char *img = strdup(mc_jstr(r.json, "images.0.id"));
    mc_resp_free(&r);
    char path[300];
    snprintf(path, sizeof path, C "/images/%s/metadata", img);
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"metadata\":{\"os_version\":\"1\",\"k\":\"v\"}}", tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "metadata.k"), "v"));
    cr_expect(mc_jpath(r.json, "metadata.image_type") == NULL);   /* replaced */
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/images/%s/metadata/k", img);
    r = get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "meta.k"), "v"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_expect_status(get(path), 404);
    free(img);
    /* shelve keeps a "<name>-shelved" image until unshelve */
    mc_expect_status(action(id, "{\"shelve\":null}"), 202);
    mc_test_sleep_ms(300);
    char st[32];
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "SHELVED_OFFLOADED"));
    mc_expect_count(get("/image/v2/images?name=bk-shelved"), "images", 1);
    mc_expect_status(action(id, "{\"shelve\":null}"), 409);
    mc_expect_status(action(id, "{\"unshelve\":null}"), 202);
    mc_test_sleep_ms(300);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "ACTIVE"));
    mc_expect_count(get("/image/v2/images?name=bk-shelved"), "images", 0);
    r = get(C "/extensions/os-consoles");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "extension.alias"), "os-consoles"));
    mc_resp_free(&r);
    r = get(C "/os-tenant-networks");
    cr_expect(ge(int, cJSON_GetArraySize(mc_jpath(r.json, "networks")), 1));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

/* Only the newest 1000 deleted servers are kept (Nova's archived rows). */
Test(compute, deleted_servers_are_purged_past_the_retention) {
    char *first = NULL, *last = NULL;
    mc_resp q = mc_call(EVHTTP_REQ_PUT, C "/os-quota-sets/" DEMO_PROJECT,
                        "{\"quota_set\":{\"instances\":-1,\"cores\":-1,\"ram\":-1}}", admin_tok, NULL);
    cr_assert(eq(int, q.status, 200));
    mc_resp_free(&q);
    for (int i = 0; i < 2002; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_POST, C "/servers",
                            "{\"server\":{\"name\":\"p\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}",
                            tok, "OpenStack-API-Version: compute 2.37\n");
        cr_assert(eq(int, r.status, 202), "%s", r.body);
        char path[200];
        snprintf(path, sizeof path, C "/servers/%s", mc_jstr(r.json, "server.id"));
        if (i == 0) first = strdup(mc_jstr(r.json, "server.id"));
        free(last);
        last = strdup(mc_jstr(r.json, "server.id"));
        mc_resp_free(&r);
        r = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
        mc_resp_free(&r);
    }
    mc_test_sleep_ms(300);
    char path[300];
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions", last);
    mc_resp r = getv(path, "2.21");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "instanceActions")), 2));
    mc_resp_free(&r);
    snprintf(path, sizeof path, C "/servers/%s/os-instance-actions", first);
    mc_expect_status(getv(path, "2.21"), 404);
    free(first);
    free(last);
    mc_assert_no_leaks();
}

/* The replies that show servers splice each server's cached printed views
 * (compute_servers.c view_get: detail pages, shows and the plain list, up to
 * four views a server) with the addresses cached per server until the
 * network generation moves. A body rule for another service
 * (tenant-id-only: network bodies only) turns the cache off, so the tree
 * path must give the same bytes: at several microversions, as a member and
 * as an admin, on a miss and on a hit, and on views cached just before each
 * kind of change to the servers (metadata, lock, tags, a state change by a
 * timer, BUILD -> ACTIVE) and to their addresses (a floating IP on a port,
 * which compute never sees, its removal, a network rename), and under the
 * public/private addresses deviation (addresses printed per reply). */
#define PUBLIC_NET "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"

enum { VIEW_CASES = 20 };

static char *view_srv[3];

/* Case i: 0-7 detail pages (4 microversions, member / admin's newest),
 * 8-11 the plain list (member / admin's newest, 2.1 and 2.90), 12-19 shows
 * (4 microversions over view_srv[0] and [1], member / admin). */
static char *view_page(int i) {
    static const char *const mvs[] = {"2.1", "2.47", "2.73", "2.90"};
    char h[64];
    const char *path, *mv;
    if (i < 8) {
        path = i % 2 ? C "/servers/detail?all_tenants=1&limit=1" : C "/servers/detail";
        mv = mvs[i / 2];
    } else if (i < 12) {
        path = i % 2 ? C "/servers?all_tenants=1&limit=1" : C "/servers";
        mv = i < 10 ? "2.1" : "2.90";
    } else {
        path = mc_pathf(C "/servers/%s", view_srv[((i - 12) / 2) % 2]);
        mv = mvs[(i - 12) / 2];
    }
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, i % 2 ? admin_tok : tok, h);
    cr_assert(eq(int, r.status, 200), "case %d: %s", i, r.body);
    char *body = strdup(r.body);
    mc_resp_free(&r);
    return body;
}

/* Each case twice in a row (a miss, then a hit), then each from the tree. */
static void expect_views_equal_tree(void) {
    char *first[VIEW_CASES], *again[VIEW_CASES], *tree[VIEW_CASES];
    mc_test_profile(NULL, "[\"tenant-id-only\"]");
    for (int i = 0; i < VIEW_CASES; i++) tree[i] = view_page(i);
    mc_test_profile(NULL, NULL);
    for (int i = 0; i < VIEW_CASES; i++) {
        first[i] = view_page(i);
        again[i] = view_page(i);
        cr_expect(eq(str, first[i], tree[i]), "case %d", i);
        cr_expect(eq(str, again[i], tree[i]), "case %d", i);
        free(first[i]);
        free(again[i]);
        free(tree[i]);
    }
}

/* The cases a server keeps at once (four views each): read to fill. */
static const int kept_cases[] = {0, 1, 8, 9, 12, 13, 14};
enum { KEPT = sizeof kept_cases / sizeof kept_cases[0] };

static void views_fill(void) {
    for (int i = 0; i < KEPT; i++) free(view_page(kept_cases[i]));
}

/* After a change: what the cached views give equals the tree. */
static void views_not_stale(const char *what) {
    char *cached[KEPT];
    for (int i = 0; i < KEPT; i++) cached[i] = view_page(kept_cases[i]);
    mc_test_profile(NULL, "[\"tenant-id-only\"]");
    for (int i = 0; i < KEPT; i++) {
        char *tree = view_page(kept_cases[i]);
        cr_expect(eq(str, cached[i], tree), "%s: case %d", what, kept_cases[i]);
        free(tree);
        free(cached[i]);
    }
    mc_test_profile(NULL, NULL);
}

static char *port_of(const char *server) {
    mc_resp p = mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/ports?device_id=%s", server), NULL, tok, NULL);
    cr_assert(eq(int, p.status, 200));
    const char *port = mc_jstr(p.json, "ports.0.id");
    cr_assert(port != NULL, "%s", p.body);
    char *id = strdup(port);
    mc_resp_free(&p);
    return id;
}

Test(compute, cached_server_views_equal_the_tree) {
    char *a = mc_test_server(tok, "plain", NULL, NULL, "\"metadata\":{\"k\":\"v\"}");
    char *b = mc_test_server(tok, "wired", "1", "\"auto\"", NULL);   /* tags at boot need 2.52 */
    view_srv[0] = a;
    view_srv[1] = b;
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s/tags", b), "{\"tags\":[\"x\"]}", tok,
                             "OpenStack-API-Version: compute 2.26\n"), 200);
    mc_test_server_wait(tok, a, "ACTIVE");
    mc_test_server_wait(tok, b, "ACTIVE");
    expect_views_equal_tree();

    /* each kind of change, on views cached just before it */
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s/metadata", a), "{\"metadata\":{\"n\":\"m\"}}", tok,
                             NULL), 200);
    views_not_stale("metadata");
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", a), "{\"lock\":null}", tok, NULL), 202);
    views_not_stale("lock");
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s/tags/y", b), NULL, tok,
                             "OpenStack-API-Version: compute 2.26\n"), 201);
    views_not_stale("tag");
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", b), "{\"os-stop\":null}", tok, NULL), 202);
    views_fill();   /* while powering-off: the timer's change follows */
    mc_test_server_wait(tok, b, "SHUTOFF");
    views_not_stale("stop (timer)");
    char *port = port_of(b);
    char body[300];
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", port);
    views_fill();
    mc_resp f = mc_call(EVHTTP_REQ_POST, "/network/v2.0/floatingips", body, tok, NULL);
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    char *fip = strdup(mc_jstr(f.json, "floatingip.id"));
    mc_resp_free(&f);
    views_not_stale("floating IP");
    mc_resp d = get(C "/servers/detail");
    cr_expect(strstr(d.body, "\"OS-EXT-IPS:type\":\"floating\"") != NULL, "%s", d.body);
    cr_expect(strstr(d.body, "\"n\":\"m\"") != NULL);
    mc_resp_free(&d);
    expect_views_equal_tree();

    /* a network rename renames the addresses' key */
    mc_resp p = mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/ports/%s", port), NULL, tok, NULL);
    char *net = strdup(mc_jstr(p.json, "port.network_id"));
    mc_resp_free(&p);
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/network/v2.0/networks/%s", net),
                             "{\"network\":{\"name\":\"renamed-net\"}}", tok, NULL), 200);
    views_not_stale("network rename");
    d = get(mc_pathf(C "/servers/%s", b));
    cr_expect(mc_jpath(d.json, "server.addresses.renamed-net") != NULL, "%s", d.body);
    mc_resp_free(&d);
    views_fill();
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/network/v2.0/floatingips/%s", fip), NULL, tok, NULL), 204);
    views_not_stale("floating IP deleted");
    d = get(C "/servers/detail");
    cr_expect(strstr(d.body, "\"OS-EXT-IPS:type\":\"floating\"") == NULL, "%s", d.body);
    mc_resp_free(&d);

    /* BUILD -> ACTIVE by the timer, on views cached while building */
    char *c = mc_test_server(tok, "late", NULL, "\"auto\"", NULL);
    view_srv[0] = c;
    views_fill();
    mc_test_server_wait(tok, c, "ACTIVE");
    views_not_stale("BUILD -> ACTIVE");

    /* a profile switch: addresses keyed public/private, printed per reply
     * (the deviation is named in the reply) */
    views_fill();
    mc_test_profile(NULL, "[\"addresses-public-private\"]");
    mc_resp v = get(mc_pathf(C "/servers/%s", b));
    cr_expect(mc_jpath(v.json, "server.addresses.private") != NULL, "%s", v.body);
    const char *dev = mc_resp_header(&v, "X-Mockcloud-Deviations");
    cr_expect(dev != NULL && strstr(dev, "addresses-public-private") != NULL);
    char *cached[KEPT];
    for (int i = 0; i < KEPT; i++) cached[i] = view_page(kept_cases[i]);
    mc_test_profile(NULL, "[\"addresses-public-private\", \"tenant-id-only\"]");
    for (int i = 0; i < KEPT; i++) {
        char *tree = view_page(kept_cases[i]);
        cr_expect(eq(str, cached[i], tree), "public/private: case %d", kept_cases[i]);
        free(tree);
        free(cached[i]);
    }
    mc_test_profile(NULL, NULL);
    views_not_stale("back to conformant");
    mc_resp_free(&v);
    free(net);
    free(fip);
    free(port);
    free(a);
    free(b);
    free(c);
    mc_assert_no_leaks();
}

/* Deleted servers live in their own store (compute_servers.c): a listing
 * that shows them merges both newest first, a marker may name a deleted
 * server (in any listing, as Nova reads the marker with read_deleted), and
 * the plain listing never walks them. */
static const char *page_ids(const char *path, const char *t, char *buf, size_t n) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, t, NULL);
    cr_assert(eq(int, r.status, 200), "%s %s", path, r.body);
    size_t k = 0;
    buf[0] = '\0';
    cJSON *x;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "servers")) {
        const char *name = mc_jstr(x, "name");
        k += (size_t)snprintf(buf + k, n - k, "%s%s", k ? "," : "", name ? name : "?");
        if (k >= n) break;
    }
    mc_resp_free(&r);
    return buf;
}

Test(compute, deleted_servers_merge_into_listings_by_creation) {
    char *a = mc_test_server(tok, "A", NULL, NULL, NULL);
    char *b = mc_test_server(tok, "B", NULL, NULL, NULL);
    char *c = mc_test_server(tok, "C", NULL, NULL, NULL);
    char *d = mc_test_server(tok, "D", NULL, NULL, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(C "/servers/%s", b), NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(C "/servers/%s", d), NULL, tok, NULL), 204);
    mc_test_sleep_ms(300);
    char buf[256];
    cr_expect(eq(str, (char *)page_ids(C "/servers", tok, buf, sizeof buf), "C,A"));
    const char *cs = C "/servers/detail?changes-since=2000-01-01T00:00:00Z";
    cr_expect(eq(str, (char *)page_ids(cs, tok, buf, sizeof buf), "D,C,B,A"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf("%s&limit=2", cs), tok, buf, sizeof buf), "D,C"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf("%s&limit=1&marker=%s", cs, c), tok, buf, sizeof buf), "B"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf("%s&marker=%s", cs, b), tok, buf, sizeof buf), "A"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf("%s&marker=%s", cs, d), tok, buf, sizeof buf), "C,B,A"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf(C "/servers?marker=%s", d), tok, buf, sizeof buf), "C,A"));
    cr_expect(eq(str, (char *)page_ids(mc_pathf(C "/servers?marker=%s", b), tok, buf, sizeof buf), "A"));
    cr_expect(eq(str, (char *)page_ids(C "/servers/detail?status=DELETED&all_tenants=1", admin_tok, buf, sizeof buf),
                 "D,B"));
    mc_expect_status(get(C "/servers?marker=00000000-0000-0000-0000-000000000000"), 400);
    mc_expect_status(get(mc_pathf(C "/servers/%s", b)), 404);
    mc_expect_status(getv(mc_pathf(C "/servers/%s/os-instance-actions", b), "2.21"), 200);
    mc_expect_status(getv(mc_pathf(C "/servers/%s/os-instance-actions", b), "2.20"), 404);
    free(a);
    free(b);
    free(c);
    free(d);
    mc_assert_no_leaks();
}

/* Servers share one snapshot per flavor state (compute_servers.c
 * flavor_snapshot): a server keeps the flavor as it was at boot, a later
 * extra spec change reaches only servers booted after it. */
static const char *embedded_spec(const char *id, char *buf, size_t n) {
    mc_resp r = getv(mc_pathf(C "/servers/%s", id), "2.47");
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    const char *v = mc_jstr(r.json, "server.flavor.extra_specs.a");
    snprintf(buf, n, "%s:%s", mc_jstr(r.json, "server.flavor.original_name"), v ? v : "-");
    mc_resp_free(&r);
    return buf;
}

Test(compute, flavor_snapshots_are_shared_per_flavor_state) {
    char *a = mc_test_server(tok, "a", NULL, NULL, NULL);
    char *b = mc_test_server(tok, "b", NULL, NULL, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, C "/flavors/42/os-extra_specs", "{\"extra_specs\":{\"a\":\"1\"}}", admin_tok,
                             NULL), 200);
    char *c = mc_test_server(tok, "c", NULL, NULL, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, C "/flavors/42/os-extra_specs/a", "{\"a\":\"2\"}", admin_tok, NULL), 200);
    char *d = mc_test_server(tok, "d", NULL, NULL, NULL);
    char *e = mc_test_server(tok, "e", "1", NULL, NULL);
    char buf[64];
    cr_expect(eq(str, (char *)embedded_spec(a, buf, sizeof buf), "m1.nano:-"));
    cr_expect(eq(str, (char *)embedded_spec(b, buf, sizeof buf), "m1.nano:-"));
    cr_expect(eq(str, (char *)embedded_spec(c, buf, sizeof buf), "m1.nano:1"));
    cr_expect(eq(str, (char *)embedded_spec(d, buf, sizeof buf), "m1.nano:2"));
    cr_expect(eq(str, (char *)embedded_spec(e, buf, sizeof buf), "m1.tiny:-"));
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(C "/servers/%s", d), NULL, tok, NULL), 204);
    char *f = mc_test_server(tok, "f", NULL, NULL, NULL);
    cr_expect(eq(str, (char *)embedded_spec(f, buf, sizeof buf), "m1.nano:2"));
    char *all[] = {a, b, c, d, e, f};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) free(all[i]);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- operator APIs (compute_admin.c) */

#define HYP_UUID "5f3c1d9e-0b7a-4c2e-9d1f-6a8b7c6d5e4f"
#define SVC_COMPUTE_UUID "3f405162-7c8d-4e9f-a0b1-c2d3e4f50617"
#define SVC_SCHED_UUID "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5"

/* As admin, at microversion 'mv' (NULL: none). */
static mc_resp adm(enum evhttp_cmd_type m, const char *path, const char *body, const char *mv) {
    char h[64] = "";
    if (mv) snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    return mc_call(m, path, body, admin_tok, mv ? h : NULL);
}

Test(compute, aggregates_crud_hosts_and_zones) {
    mc_resp r = adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{\"name\":\"agg1\",\"availability_zone\":\"zone-b\"}}", NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    int id = (int)mc_jnum(r.json, "aggregate.id");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "aggregate.availability_zone"), "zone-b"));
    cr_expect(mc_not(mc_jpath(r.json, "aggregate.hosts")), "create shows no hosts: %s", r.body);
    cr_expect(mc_not(mc_jpath(r.json, "aggregate.uuid")), "uuid only from 2.41");
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "aggregate.deleted")));
    mc_resp_free(&r);
    /* bad input, duplicates, policy */
    mc_expect_error(adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{\"name\":\"agg1\"}}", NULL), MC_COMPUTE, 409,
                    "Aggregate agg1 already exists.");
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{\"name\":\"\"}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{\"name\":\"x\",\"zz\":1}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-aggregates", "{}", NULL), 400);
    mc_expect_status(post(C "/os-aggregates", "{\"aggregate\":{\"name\":\"mine\"}}"), 403);
    mc_expect_status(get(C "/os-aggregates"), 403);
    mc_expect_error(adm(EVHTTP_REQ_GET, C "/os-aggregates/-1", NULL, NULL), MC_COMPUTE, 404, "Aggregate -1 could not be found.");
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-aggregates/abc", NULL, NULL), 400);
    /* the zone has no host yet: servers cannot ask for it */
    char act[64];
    snprintf(act, sizeof act, C "/os-aggregates/%d/action", id);
    mc_expect_status(post(C "/servers", "{\"server\":{\"name\":\"z\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\","
                                        "\"availability_zone\":\"zone-b\"}}"), 400);
    mc_expect_error(adm(EVHTTP_REQ_POST, act, "{\"add_host\":{\"host\":\"nohost\"}}", NULL), MC_COMPUTE, 404,
                    "Compute host nohost could not be found.");
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"add_host\":{}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"fly\":{}}", NULL), 400);
    r = adm(EVHTTP_REQ_POST, act, "{\"add_host\":{\"host\":\"mockcloud-compute-1\"}}", NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "aggregate.hosts.0"), "mockcloud-compute-1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "aggregate.metadata.availability_zone"), "zone-b"));
    mc_resp_free(&r);
    mc_expect_error(adm(EVHTTP_REQ_POST, act, "{\"add_host\":{\"host\":\"mockcloud-compute-1\"}}", NULL), MC_COMPUTE, 409,
                    mc_pathf("Aggregate %d already has host mockcloud-compute-1.", id));
    /* a second zone cannot take the same host */
    r = adm(EVHTTP_REQ_POST, C "/os-aggregates", "{\"aggregate\":{\"name\":\"agg2\",\"availability_zone\":\"zone-c\"}}", NULL);
    int id2 = (int)mc_jnum(r.json, "aggregate.id");
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_POST, mc_pathf(C "/os-aggregates/%d/action", id2),
                         "{\"add_host\":{\"host\":\"mockcloud-compute-1\"}}", NULL), 409);
    /* the zone is listed now, a server may ask for it, the host's service is in it */
    r = get(C "/os-availability-zone");
    cr_expect(strstr(r.body, "\"zone-b\"") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "\"zone-c\"") == NULL, "%s", r.body);
    mc_resp_free(&r);
    char *sid = boot("inzone", "\"availability_zone\":\"zone-b\"");
    r = adm(EVHTTP_REQ_GET, C "/os-services?binary=nova-compute", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "services.0.zone"), "zone-b"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_DELETE, mc_pathf(C "/os-aggregates/%d", id), NULL, NULL), 400);   /* not empty */
    /* metadata: set, null deletes */
    r = adm(EVHTTP_REQ_POST, act, "{\"set_metadata\":{\"metadata\":{\"ssd\":\"true\",\"gpu\":\"no\"}}}", NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "aggregate.metadata.ssd"), "true"), "%s", r.body);
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_POST, act, "{\"set_metadata\":{\"metadata\":{\"gpu\":null}}}", NULL);
    cr_expect(mc_not(mc_jpath(r.json, "aggregate.metadata.gpu")), "%s", r.body);
    cr_expect(mc_jpath(r.json, "aggregate.updated_at") && cJSON_IsString(mc_jpath(r.json, "aggregate.updated_at")));
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"set_metadata\":{\"metadata\":{\"k\":1}}}", NULL), 400);
    /* update, 2.41 uuid */
    mc_expect_status(adm(EVHTTP_REQ_PUT, mc_pathf(C "/os-aggregates/%d", id), "{\"aggregate\":{\"name\":\"agg2\"}}", NULL), 409);
    mc_expect_status(adm(EVHTTP_REQ_PUT, mc_pathf(C "/os-aggregates/%d", id), "{\"aggregate\":{}}", NULL), 400);
    r = adm(EVHTTP_REQ_PUT, mc_pathf(C "/os-aggregates/%d", id), "{\"aggregate\":{\"name\":\"agg1b\"}}", "2.41");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "aggregate.name"), "agg1b"));
    cr_expect(mc_is_uuid(mc_jstr(r.json, "aggregate.uuid")), "%s", r.body);
    mc_resp_free(&r);
    /* remove, delete */
    r = adm(EVHTTP_REQ_POST, act, "{\"remove_host\":{\"host\":\"mockcloud-compute-1\"}}", NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    mc_expect_count(r, "aggregate.hosts", 0);
    mc_expect_error(adm(EVHTTP_REQ_POST, act, "{\"remove_host\":{\"host\":\"mockcloud-compute-1\"}}", NULL), MC_COMPUTE, 404,
                    mc_pathf("Aggregate %d has no host mockcloud-compute-1.", id));
    mc_expect_status(adm(EVHTTP_REQ_DELETE, mc_pathf(C "/os-aggregates/%d", id), NULL, NULL), 200);
    mc_expect_status(adm(EVHTTP_REQ_GET, mc_pathf(C "/os-aggregates/%d", id), NULL, NULL), 404);
    r = adm(EVHTTP_REQ_GET, C "/os-aggregates", NULL, NULL);
    mc_expect_count(r, "aggregates", 1);
    free(sid);
    mc_assert_no_leaks();
}

Test(compute, hypervisors_by_microversion) {
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-hypervisors", NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "hypervisors.0.id"), 1), "%s", r.body);
    cr_expect(mc_not(mc_jpath(r.json, "hypervisors.0.vcpus")));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/detail", NULL, NULL);
    cr_expect(cJSON_IsString(mc_jpath(r.json, "hypervisors.0.cpu_info")), "%s", r.body);   /* a JSON string before 2.28 */
    cr_expect(cJSON_IsNumber(mc_jpath(r.json, "hypervisors.0.free_ram_mb")));
    cr_expect(eq(int, (int)mc_jnum(r.json, "hypervisors.0.service.id"), 3));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/1", NULL, "2.28");
    cr_expect(cJSON_IsObject(mc_jpath(r.json, "hypervisor.cpu_info")), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_error(adm(EVHTTP_REQ_GET, C "/os-hypervisors/9", NULL, NULL), MC_COMPUTE, 404,
                    "Hypervisor with ID '9' could not be found.");
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/1", NULL, "2.53"), 400);   /* uuids from 2.53 */
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/" SVC_SCHED_UUID, NULL, "2.53"), 404);
    /* a running server is counted and listed */
    char *id = boot("onhost", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/statistics", NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "hypervisor_statistics.running_vms"), 1), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "hypervisor_statistics.count"), 2));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/compute/servers", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hypervisors.0.servers.0.uuid"), id), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/nomatch/search", NULL, NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/compute/search", NULL, "2.53"), 404);   /* gone */
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/" HYP_UUID "?with_servers=true", NULL, "2.53");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hypervisor.servers.0.uuid"), id), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hypervisor.service.id"), SVC_COMPUTE_UUID));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors?hypervisor_hostname_pattern=compute-1", NULL, "2.53");
    mc_expect_count(r, "hypervisors", 1);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors?hypervisor_hostname_pattern=zzz", NULL, "2.53"), 404);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/1/uptime", NULL, NULL);
    cr_expect(mc_jstr(r.json, "hypervisor.uptime") != NULL, "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/statistics", NULL, "2.88"), 404);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/detail", NULL, "2.88");
    cr_expect(mc_not(mc_jpath(r.json, "hypervisors.0.vcpus")), "%s", r.body);
    cr_expect(mc_jstr(r.json, "hypervisors.0.uptime") != NULL);
    mc_resp_free(&r);
    mc_expect_status(get(C "/os-hypervisors/1"), 403);
    mc_expect_status(get(C "/os-hypervisors/statistics"), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, services_enable_disable_force_down_delete) {
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-services?host=mockcloud-controller", NULL, NULL);
    mc_expect_count(r, "services", 2);
    r = adm(EVHTTP_REQ_GET, C "/os-services?host=mockcloud-controller&binary=nova-compute", NULL, NULL);
    mc_expect_count(r, "services", 0);
    /* before 2.53: by host and binary */
    r = adm(EVHTTP_REQ_PUT, C "/os-services/disable-log-reason",
            "{\"host\":\"mockcloud-compute-1\",\"binary\":\"nova-compute\",\"disabled_reason\":\"maintenance\"}", NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.status"), "disabled"));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hypervisors.0.status"), "disabled"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_error(adm(EVHTTP_REQ_PUT, C "/os-services/enable", "{\"host\":\"nohost\",\"binary\":\"nova-compute\"}", NULL),
                    MC_COMPUTE, 404, "Unknown service");
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/enable", "{\"host\":\"mockcloud-compute-1\"}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/force-down",
                         "{\"host\":\"mockcloud-compute-1\",\"binary\":\"nova-compute\",\"forced_down\":true}", NULL), 404);
    r = adm(EVHTTP_REQ_PUT, C "/os-services/enable", "{\"host\":\"mockcloud-compute-1\",\"binary\":\"nova-compute\"}", NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.status"), "enabled"), "%s", r.body);
    mc_resp_free(&r);
    /* from 2.53: by uuid */
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/3", "{\"status\":\"disabled\"}", "2.53"), 400);
    mc_expect_error(adm(EVHTTP_REQ_PUT, C "/os-services/" HYP_UUID, "{\"status\":\"disabled\"}", "2.53"), MC_COMPUTE, 404,
                    "Service not found.");
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/" SVC_SCHED_UUID, "{\"status\":\"disabled\"}", "2.53"), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/" SVC_COMPUTE_UUID, "{\"status\":\"enabled\",\"disabled_reason\":\"x\"}", "2.53"), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/" SVC_COMPUTE_UUID, "{}", "2.53"), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-services/" SVC_COMPUTE_UUID, "{\"status\":\"off\"}", "2.53"), 400);
    r = adm(EVHTTP_REQ_PUT, C "/os-services/" SVC_COMPUTE_UUID, "{\"forced_down\":true}", "2.53");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.state"), "down"));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "service.forced_down")));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.id"), SVC_COMPUTE_UUID));
    mc_resp_free(&r);
    /* the scheduler avoids the forced-down host; a compute service with servers cannot be deleted */
    char *id = boot("pinned", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    r = adm(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", id), NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-EXT-SRV-ATTR:host"), "mockcloud-compute-2"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_DELETE, C "/os-services/4", NULL, NULL), 409);
    mc_expect_status(adm(EVHTTP_REQ_DELETE, C "/os-services/9", NULL, NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_DELETE, C "/os-services/3", NULL, NULL), 204);
    mc_expect_status(adm(EVHTTP_REQ_DELETE, C "/os-services/1", NULL, NULL), 204);
    r = adm(EVHTTP_REQ_GET, C "/os-services", NULL, NULL);
    mc_expect_count(r, "services", 2);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hypervisors/1", NULL, NULL), 404);   /* its node went with it */
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, C "/os-services/enable", "{\"host\":\"a\",\"binary\":\"b\"}", tok, NULL), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, os_hosts_up_to_2_42) {
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-hosts", NULL, NULL);
    mc_expect_count(r, "hosts", 4);
    r = adm(EVHTTP_REQ_GET, C "/os-hosts?zone=nova", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hosts.0.host_name"), "mockcloud-compute-1"), "%s", r.body);
    mc_expect_count(r, "hosts", 2);
    mc_expect_count(adm(EVHTTP_REQ_GET, C "/os-hosts?zone=xxx", NULL, NULL), "hosts", 0);
    r = adm(EVHTTP_REQ_GET, C "/os-hosts/mockcloud-compute-1", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "host.0.resource.project"), "(total)"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "host.0.resource.host"), "mockcloud-compute-1"));
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hosts/mockcloud-controller", NULL, NULL), 404);
    mc_expect_error(adm(EVHTTP_REQ_GET, C "/os-hosts/nohost", NULL, NULL), MC_COMPUTE, 404, "Compute host nohost could not be found.");
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-hosts/mockcloud-compute-1", "{\"status\":\"what\"}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-hosts/mockcloud-compute-1", "{\"maintenance_mode\":\"no\"}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-hosts/mockcloud-compute-1", "{}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-hosts/nohost", "{\"status\":\"enable\"}", NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-hosts/mockcloud-compute-1", "{\"maintenance_mode\":\"enable\"}", NULL), 501);
    r = adm(EVHTTP_REQ_PUT, C "/os-hosts/mockcloud-compute-1", "{\"status\":\"disable\"}", NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "disabled"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hosts/nohost/reboot", NULL, NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hosts/mockcloud-compute-1/startup", NULL, NULL), 501);
    mc_expect_status(get(C "/os-hosts"), 403);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-hosts", NULL, "2.43"), 404);
    mc_assert_no_leaks();
}

Test(compute, migrations_record_every_resize) {
    char *id = boot("mover", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    char act[128];
    snprintf(act, sizeof act, C "/servers/%s/action", id);
    mc_expect_status(post(act, "{\"resize\":{\"flavorRef\":\"84\"}}"), 202);
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-migrations", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.instance_uuid"), id), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "pre-migrating"));
    cr_expect(mc_not(mc_jpath(r.json, "migrations.0.migration_type")));
    cr_expect(cJSON_IsNumber(mc_jpath(r.json, "migrations.0.old_instance_type_id")));
    mc_resp_free(&r);
    mc_test_server_wait(tok, id, "VERIFY_RESIZE");
    r = adm(EVHTTP_REQ_GET, C "/os-migrations?migration_type=resize", NULL, "2.23");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "finished"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.migration_type"), "resize"));
    mc_resp_free(&r);
    mc_expect_status(post(act, "{\"revertResize\":null}"), 202);
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_expect_status(post(act, "{\"resize\":{\"flavorRef\":\"84\"}}"), 202);
    mc_test_server_wait(tok, id, "VERIFY_RESIZE");
    mc_expect_status(post(act, "{\"confirmResize\":null}"), 204);
    r = adm(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?instance_uuid=%s", id), NULL, "2.80");
    mc_expect_count(r, "migrations", 2);
    r = adm(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?instance_uuid=%s", id), NULL, "2.80");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "confirmed"), "%s", r.body);   /* newest first */
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.1.status"), "reverted"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.project_id"), DEMO_PROJECT));
    char *m0 = strdup(mc_jstr(r.json, "migrations.0.uuid"));
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?limit=1&marker=%s", m0), NULL, "2.59");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "reverted"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-migrations?marker=nope", NULL, "2.59"), 400);
    mc_expect_count(adm(EVHTTP_REQ_GET, C "/os-migrations?status=error", NULL, NULL), "migrations", 0);
    mc_expect_status(get(C "/os-migrations"), 403);
    mc_expect_count(adm(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/migrations", id), NULL, "2.23"), "migrations", 0);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/servers/nope/migrations", NULL, "2.23"), 404);
    free(m0);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, simple_tenant_usage_and_audit_log) {
    char *id = boot("billed", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-simple-tenant-usage?start=2000-01-01T00:00:00&end=2100-01-01T00:00:00&detailed=1", NULL, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tenant_usages.0.tenant_id"), DEMO_PROJECT), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tenant_usages.0.server_usages.0.instance_id"), id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tenant_usages.0.server_usages.0.state"), "active"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tenant_usages.0.server_usages.0.flavor"), "m1.nano"));
    mc_resp_free(&r);
    r = get(C "/os-simple-tenant-usage/" DEMO_PROJECT "?start=2000-01-01T00:00:00&end=2100-01-01T00:00:00");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    mc_expect_count(r, "tenant_usage.server_usages", 1);
    r = get(C "/os-simple-tenant-usage/" DEMO_PROJECT "?start=2000-01-01T00:00:00&end=2001-01-01T00:00:00");
    mc_expect_count(r, "tenant_usage", 0);   /* nothing in that period: {} */
    r = get(C "/os-simple-tenant-usage/" DEMO_PROJECT "?start=2099-01-01T00:00:00&end=2099-01-02T00:00:00");
    cr_expect(eq(int, (int)mc_jnum(r.json, "tenant_usage.total_hours"), 24), "%s", r.body);   /* as Nova: to the period's end */
    mc_resp_free(&r);
    mc_expect_status(get(C "/os-simple-tenant-usage/someoneelse"), 403);
    mc_expect_status(get(C "/os-simple-tenant-usage"), 403);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-simple-tenant-usage/?start=2000-01-01T00:00:00", NULL, NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-simple-tenant-usage?start=yesterday", NULL, NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-simple-tenant-usage?start=2020-01-02T00:00:00&end=2020-01-01T00:00:00", NULL, NULL), 400);
    r = adm(EVHTTP_REQ_GET, C "/os-instance_usage_audit_log", NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "instance_usage_audit_logs.num_hosts"), 2), "%s", r.body);
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-instance_usage_audit_log/2020-03-15%2010:00:00", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instance_usage_audit_log.period_beginning"), "2020-02-01 00:00:00"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "instance_usage_audit_log.period_ending"), "2020-03-01 00:00:00"));
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/os-instance_usage_audit_log/notadate", NULL, NULL), 400);
    mc_expect_status(get(C "/os-instance_usage_audit_log"), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, diagnostics_and_external_events) {
    char *id = boot("diag", NULL);
    char dp[128];
    snprintf(dp, sizeof dp, C "/servers/%s/diagnostics", id);
    mc_expect_status(adm(EVHTTP_REQ_GET, dp, NULL, NULL), 409);   /* still building */
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_resp r = adm(EVHTTP_REQ_GET, dp, NULL, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(cJSON_IsNumber(mc_jpath(r.json, "cpu0_time")), "%s", r.body);
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, dp, NULL, "2.48");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "state"), "running"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "driver"), "libvirt"));
    mc_expect_count(r, "cpu_details", 1);
    mc_expect_status(get(dp), 403);
    mc_expect_status(adm(EVHTTP_REQ_GET, C "/servers/nope/diagnostics", NULL, NULL), 404);
    char body[256];
    snprintf(body, sizeof body, "{\"events\":[{\"name\":\"network-changed\",\"server_uuid\":\"%s\"}]}", id);
    r = adm(EVHTTP_REQ_POST, C "/os-server-external-events", body, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "events.0.code"), 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "events.0.status"), "completed"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"events\":[{\"name\":\"network-changed\",\"server_uuid\":\"%s\"},"
                                "{\"name\":\"network-changed\",\"server_uuid\":\"nope\"}]}", id);
    r = adm(EVHTTP_REQ_POST, C "/os-server-external-events", body, NULL);
    cr_expect(eq(int, r.status, 207), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "events.1.code"), 404));
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-server-external-events",
                         "{\"events\":[{\"name\":\"network-changed\",\"server_uuid\":\"nope\"}]}", NULL), 404);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-server-external-events",
                         "{\"events\":[{\"name\":\"reboot-now\",\"server_uuid\":\"nope\"}]}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, C "/os-server-external-events", "{\"events\":[]}", NULL), 400);
    mc_expect_status(post(C "/os-server-external-events", body), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(compute, quota_classes_networks_and_resize_quota) {
    mc_resp r = adm(EVHTTP_REQ_GET, C "/os-quota-class-sets/default", NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "quota_class_set.id"), "default"), "%s", r.body);
    cr_expect(cJSON_IsNumber(mc_jpath(r.json, "quota_class_set.floating_ips")));
    cr_expect(mc_not(mc_jpath(r.json, "quota_class_set.server_groups")), "no server groups before 2.50");
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-quota-class-sets/default", NULL, "2.57");
    cr_expect(mc_not(mc_jpath(r.json, "quota_class_set.floating_ips")), "%s", r.body);
    cr_expect(mc_not(mc_jpath(r.json, "quota_class_set.injected_files")));
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_class_set.server_groups"), 10));
    mc_resp_free(&r);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-quota-class-sets/default", "{\"quota_class_set\":{\"floating_ips\":3}}", "2.57"), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-quota-class-sets/default", "{\"quota_class_set\":{\"cores\":\"x\"}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-quota-class-sets/default", "{}", NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, C "/os-quota-class-sets/default", NULL, tok, NULL), 403);
    /* a new default binds every project without its own limit */
    r = adm(EVHTTP_REQ_PUT, C "/os-quota-class-sets/default", "{\"quota_class_set\":{\"cores\":1}}", NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_class_set.cores"), 1), "%s", r.body);
    cr_expect(mc_not(mc_jpath(r.json, "quota_class_set.id")));
    mc_resp_free(&r);
    r = get(C "/os-quota-sets/" DEMO_PROJECT);
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.cores"), 1), "%s", r.body);
    mc_resp_free(&r);
    /* resize up past the quota: 403 with Nova's message, the server unchanged */
    char *id = boot("tight", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    char act[128];
    snprintf(act, sizeof act, C "/servers/%s/action", id);
    mc_expect_error(post(act, "{\"resize\":{\"flavorRef\":\"3\"}}"), MC_COMPUTE, 403,
                    "Quota exceeded for cores: Requested 1, but already used 1 of 1 cores");
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-quota-sets/" DEMO_PROJECT, "{\"quota_set\":{\"cores\":4,\"ram\":1024}}", NULL), 200);
    mc_expect_error(post(act, "{\"resize\":{\"flavorRef\":\"3\"}}"), MC_COMPUTE, 403,
                    "Quota exceeded for ram: Requested 3968, but already used 128 of 1024 ram");
    char st[32];
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "ACTIVE"));
    mc_expect_status(post(act, "{\"resize\":{\"flavorRef\":\"84\"}}"), 202);
    /* os-networks: the Neutron networks in nova-network's shape, up to 2.35 */
    r = get(C "/os-networks");
    cr_expect(cJSON_GetArraySize(mc_jpath(r.json, "networks")) >= 2, "%s", r.body);
    cr_expect(mc_jpath(r.json, "networks.0.label") != NULL);
    char *nid = strdup(mc_jstr(r.json, "networks.0.id"));
    mc_resp_free(&r);
    r = get(mc_pathf(C "/os-networks/%s", nid));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "network.id"), nid), "%s", r.body);
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "network.cidr")));
    mc_resp_free(&r);
    mc_expect_status(get(C "/os-networks/nope"), 404);
    mc_expect_status(getv(C "/os-networks", "2.36"), 404);
    mc_expect_status(post(C "/os-networks", "{\"network\":{\"label\":\"x\"}}"), 410);
    r = adm(EVHTTP_REQ_GET, C "/os-networks", NULL, NULL);   /* admins see every project's */
    cr_expect(strstr(r.body, "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a") != NULL, "%s", r.body);
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "networks.0.deleted")));
    mc_resp_free(&r);
    free(nid);
    free(id);
    mc_assert_no_leaks();
}

/* The host a server is on, as admins see it (into buf). */
static const char *host_of(const char *id, char *buf, size_t n) {
    mc_resp r = adm(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", id), NULL, NULL);
    const char *h = mc_jstr(r.json, "server.OS-EXT-SRV-ATTR:host");
    mc_strlcpy(buf, h ? h : "(none)", n);
    mc_resp_free(&r);
    return buf;
}

Test(compute, scheduler_hints_and_groups_place_on_two_hosts) {
    char ha[32], hb[32], hc[32];
    char *a = boot("a", NULL);
    /* hints live beside "server": the body by hand */
    char body[512];
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"b\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\"},"
                                "\"os:scheduler_hints\":{\"different_host\":[\"%s\"]}}", a);
    mc_resp r = post(C "/servers", body);
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    char *b = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"c\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\"},"
                                "\"os:scheduler_hints\":{\"same_host\":\"%s\"}}", a);
    r = post(C "/servers", body);
    char *c = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    cr_expect(strcmp(host_of(a, ha, sizeof ha), host_of(b, hb, sizeof hb)) != 0, "%s %s", ha, hb);
    cr_expect(eq(str, (char *)host_of(c, hc, sizeof hc), ha));
    /* anti-affinity: two members on two hosts, a third has no host left (ERROR, NoValidHost) */
    r = post(C "/os-server-groups", "{\"server_group\":{\"name\":\"g\",\"policies\":[\"anti-affinity\"]}}");
    char *g = strdup(mc_jstr(r.json, "server_group.id"));
    mc_resp_free(&r);
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"g\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\",\"min_count\":2},"
                                "\"os:scheduler_hints\":{\"group\":\"%s\"}}", g);
    mc_expect_status(post(C "/servers", body), 202);
    r = get(mc_pathf(C "/os-server-groups/%s", g));
    char *m0 = strdup(mc_jstr(r.json, "server_group.members.0")), *m1 = strdup(mc_jstr(r.json, "server_group.members.1"));
    mc_resp_free(&r);
    cr_expect(strcmp(host_of(m0, ha, sizeof ha), host_of(m1, hb, sizeof hb)) != 0, "%s %s", ha, hb);
    snprintf(body, sizeof body, "{\"server\":{\"name\":\"g3\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\"},"
                                "\"os:scheduler_hints\":{\"group\":\"%s\"}}", g);
    r = post(C "/servers", body);
    char *g3 = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    mc_test_server_wait(tok, g3, "ERROR");
    r = get(mc_pathf(C "/servers/%s", g3));
    cr_expect(strstr(mc_jstr(r.json, "server.fault.message"), "No valid host") != NULL, "%s", r.body);
    mc_resp_free(&r);
    free(g3);
    free(m0);
    free(m1);
    free(g);
    free(a);
    free(b);
    free(c);
    mc_assert_no_leaks();
}

Test(compute, cold_and_live_migration_between_hosts) {
    char h0[32], h1[32];
    char *id = boot("mig", NULL);
    mc_test_server_wait(tok, id, "ACTIVE");
    host_of(id, h0, sizeof h0);
    char act[128];
    snprintf(act, sizeof act, C "/servers/%s/action", id);
    mc_expect_status(post(act, "{\"migrate\":null}"), 403);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"migrate\":{\"host\":\"nohost\"}}", "2.56"), 400);
    mc_expect_error(adm(EVHTTP_REQ_POST, act, mc_pathf("{\"migrate\":{\"host\":\"%s\"}}", h0), "2.56"), MC_COMPUTE, 400,
                    "Cannot migrate to the host where the server exists.");
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"migrate\":{\"host\":\"x\"}}", NULL), 400);   /* no host before 2.56 */
    /* cold: VERIFY_RESIZE on the other host, revert goes back */
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"migrate\":null}", NULL), 202);
    char st[32];
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "RESIZE"));
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"migrate\":null}", NULL), 409);
    mc_test_server_wait(tok, id, "VERIFY_RESIZE");
    cr_expect(strcmp(host_of(id, h1, sizeof h1), h0) != 0, "%s", h1);
    mc_expect_status(post(act, "{\"revertResize\":null}"), 202);
    mc_test_server_wait(tok, id, "ACTIVE");
    cr_expect(eq(str, (char *)host_of(id, h1, sizeof h1), h0));
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"migrate\":null}", NULL), 202);
    mc_test_server_wait(tok, id, "VERIFY_RESIZE");
    mc_expect_status(post(act, "{\"confirmResize\":null}"), 204);
    cr_expect(strcmp(host_of(id, h1, sizeof h1), h0) != 0);
    mc_resp r = adm(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?instance_uuid=%s&migration_type=migration", id), NULL, "2.59");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "confirmed"), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.dest_compute"), h1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.1.status"), "reverted"));
    mc_resp_free(&r);
    /* live: MIGRATING, then the same state on the other host */
    mc_expect_status(post(act, "{\"os-migrateLive\":{\"host\":null,\"block_migration\":\"auto\"}}"), 403);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"os-migrateLive\":{\"host\":null}}", "2.25"), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"os-migrateLive\":{\"host\":null,\"block_migration\":\"auto\"}}", NULL), 400);
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"os-migrateLive\":{\"host\":null,\"block_migration\":\"sure\"}}", "2.25"), 400);
    mc_expect_error(adm(EVHTTP_REQ_POST, act, mc_pathf("{\"os-migrateLive\":{\"host\":\"%s\",\"block_migration\":\"auto\"}}", h1),
                        "2.25"), MC_COMPUTE, 400,
                    mc_pathf("Unable to migrate instance (%s) to current host (%s).", id, h1));
    mc_expect_status(post(act, "{\"pause\":null}"), 202);
    mc_test_server_wait(tok, id, "PAUSED");
    mc_expect_status(adm(EVHTTP_REQ_POST, act, "{\"os-migrateLive\":{\"host\":null,\"block_migration\":\"auto\"}}", "2.25"), 202);
    cr_expect(eq(str, (char *)status_of(id, st, sizeof st), "MIGRATING"));
    mc_test_server_wait(tok, id, "PAUSED");
    cr_expect(eq(str, (char *)host_of(id, h1, sizeof h1), h0));
    r = adm(EVHTTP_REQ_GET, mc_pathf(C "/os-migrations?migration_type=live-migration"), NULL, "2.23");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "migrations.0.status"), "completed"), "%s", r.body);
    mc_resp_free(&r);
    r = get(mc_pathf(C "/servers/%s/os-instance-actions", id));
    cr_expect(strstr(r.body, "\"live-migration\"") != NULL && strstr(r.body, "\"migrate\"") != NULL, "%s", r.body);
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

/* What each host uses as os-hypervisors/detail shows it (the tallies the
 * scheduler reads) must equal a recount over every server the admin lists
 * (host and embedded flavor, 2.47): checked after each kind of change. */
static void expect_tallies_match(const char *when) {
    long want[2][4] = {{0}};   /* per host: vms, vcpus, ram, disk */
    mc_resp r = adm(EVHTTP_REQ_GET, C "/servers/detail?all_tenants=1&limit=1000", NULL, "2.47");
    cr_assert(eq(int, r.status, 200), "%s: %s", when, r.body);
    cJSON *x;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "servers")) {
        const char *h = mc_jstr(x, "OS-EXT-SRV-ATTR:host");
        int i = mc_str_eq(h, "mockcloud-compute-1") ? 0 : mc_str_eq(h, "mockcloud-compute-2") ? 1 : -1;
        if (i < 0) continue;
        want[i][0]++;
        want[i][1] += (long)mc_jnum(x, "flavor.vcpus");
        want[i][2] += (long)mc_jnum(x, "flavor.ram");
        want[i][3] += (long)mc_jnum(x, "flavor.disk") + (long)mc_jnum(x, "flavor.ephemeral");
    }
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/detail", NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s: %s", when, r.body);
    int seen = 0;
    cJSON_ArrayForEach(x, mc_jpath(r.json, "hypervisors")) {
        const char *h = mc_jstr(x, "hypervisor_hostname");
        int i = mc_str_eq(h, "mockcloud-compute-1") ? 0 : mc_str_eq(h, "mockcloud-compute-2") ? 1 : -1;
        cr_assert(i >= 0, "%s: %s", when, h);
        seen++;
        cr_expect(eq(long, (long)mc_jnum(x, "running_vms"), want[i][0]), "%s: %s running_vms", when, h);
        cr_expect(eq(long, (long)mc_jnum(x, "vcpus_used"), want[i][1]), "%s: %s vcpus_used", when, h);
        cr_expect(eq(long, (long)mc_jnum(x, "memory_mb_used"), 512 + want[i][2]), "%s: %s memory_mb_used", when, h);
        cr_expect(eq(long, (long)mc_jnum(x, "local_gb_used"), want[i][3]), "%s: %s local_gb_used", when, h);
    }
    cr_expect(eq(int, seen, 2), "%s", when);
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/statistics", NULL, NULL);
    cr_expect(eq(long, (long)mc_jnum(r.json, "hypervisor_statistics.running_vms"), want[0][0] + want[1][0]), "%s", when);
    cr_expect(eq(long, (long)mc_jnum(r.json, "hypervisor_statistics.vcpus_used"), want[0][1] + want[1][1]), "%s", when);
    mc_resp_free(&r);
}

static void act_ok(const char *id, const char *body, int status) {
    mc_expect_status(adm(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", id), body, "2.56"), status);
}

Test(compute, host_tallies_follow_every_change_of_host_flavor_and_liveness) {
    mc_expect_status(adm(EVHTTP_REQ_PUT, C "/os-quota-sets/" DEMO_PROJECT,
                         "{\"quota_set\":{\"instances\":-1,\"cores\":-1,\"ram\":-1}}", NULL), 200);
    expect_tallies_match("start");
    char *a = boot("ta", NULL), *b = mc_test_server(tok, "tb", "3", NULL, NULL), *c = boot("tc", NULL);
    expect_tallies_match("three creates, building");
    mc_test_server_wait(tok, a, "ACTIVE");
    mc_test_server_wait(tok, b, "ACTIVE");
    mc_test_server_wait(tok, c, "ACTIVE");
    expect_tallies_match("three active");
    /* a multiple create spreads: each server sees the ones placed before it */
    mc_resp r = post(C "/servers", "{\"server\":{\"name\":\"tm\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"2\",\"min_count\":4}}");
    cr_expect(eq(int, r.status, 202), "%s", r.body);
    mc_resp_free(&r);
    expect_tallies_match("multiple create");
    /* bulk clones (control API) */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/bulk", mc_pathf("{\"kind\":\"servers\",\"from\":\"%s\",\"count\":5}", b),
                             NULL, NULL), 201);
    expect_tallies_match("bulk clones");
    /* cold migration: the host moves at once; revert moves it back */
    act_ok(a, "{\"migrate\":null}", 202);
    expect_tallies_match("migrating");
    mc_test_server_wait(tok, a, "VERIFY_RESIZE");
    act_ok(a, "{\"revertResize\":null}", 202);
    mc_test_server_wait(tok, a, "ACTIVE");
    expect_tallies_match("migration reverted");
    act_ok(a, "{\"migrate\":null}", 202);
    mc_test_server_wait(tok, a, "VERIFY_RESIZE");
    mc_expect_status(adm(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", a), "{\"confirmResize\":null}", NULL), 204);
    expect_tallies_match("migration confirmed");
    /* resize: the flavor (vcpus, ram, disk) changes, and back on revert */
    act_ok(b, "{\"resize\":{\"flavorRef\":\"4\"}}", 202);
    expect_tallies_match("resizing");
    mc_test_server_wait(tok, b, "VERIFY_RESIZE");
    act_ok(b, "{\"revertResize\":null}", 202);
    mc_test_server_wait(tok, b, "ACTIVE");
    expect_tallies_match("resize reverted");
    act_ok(b, "{\"resize\":{\"flavorRef\":\"5\"}}", 202);
    mc_test_server_wait(tok, b, "VERIFY_RESIZE");
    mc_expect_status(adm(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/action", b), "{\"confirmResize\":null}", NULL), 204);
    expect_tallies_match("resize confirmed");
    /* live migration */
    act_ok(c, "{\"os-migrateLive\":{\"host\":null,\"block_migration\":\"auto\"}}", 202);
    expect_tallies_match("live migrating");
    mc_test_server_wait(tok, c, "ACTIVE");
    expect_tallies_match("live migrated");
    /* shelve offloads (no host), unshelve places again */
    act_ok(c, "{\"shelve\":null}", 202);
    mc_test_server_wait(tok, c, "SHELVED_OFFLOADED");
    expect_tallies_match("shelved offloaded");
    act_ok(c, "{\"unshelve\":null}", 202);
    mc_test_server_wait(tok, c, "ACTIVE");
    expect_tallies_match("unshelved");
    /* a failed build leaves its host */
    mc_test_profile(NULL, "[\"boot-errors=100\"]");
    char *e = boot("te", NULL);
    mc_test_server_wait(tok, e, "ERROR");
    mc_test_profile(NULL, NULL);
    expect_tallies_match("build failed");
    /* a create that fails after placement (a port on no network) leaves nothing */
    mc_expect_status(post(C "/servers", "{\"server\":{\"name\":\"tx\",\"imageRef\":\"" CIRROS "\",\"flavorRef\":\"42\","
                                        "\"networks\":[{\"uuid\":\"00000000-0000-4000-8000-000000000000\"}]}}"), 400);
    expect_tallies_match("create undone");
    /* deletes: counted until the delete finishes, then not */
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(C "/servers/%s", a), NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(C "/servers/%s", b), NULL, tok, NULL), 204);
    expect_tallies_match("deleting");
    char st[32];
    for (int i = 0; i < 100 && strcmp(status_of(b, st, sizeof st), "404") != 0; i++) mc_test_sleep_ms(20);
    cr_expect(eq(str, st, "404"));
    expect_tallies_match("deleted");
    /* reset (control API): nothing left; creates count from zero */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL), 204);
    free(tok);
    free(admin_tok);
    tok = mc_test_token("demo", "demo");
    admin_tok = mc_test_token("admin", "admin");
    r = adm(EVHTTP_REQ_GET, C "/os-hypervisors/statistics", NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "hypervisor_statistics.running_vms"), 0), "%s", r.body);
    mc_resp_free(&r);
    char *f = boot("tf", NULL);
    expect_tallies_match("after reset");
    free(a);
    free(b);
    free(c);
    free(e);
    free(f);
    mc_assert_no_leaks();
}

Test(compute, vnc_console_urls_legacy_and_remote_consoles) {
    char *id = boot("con", NULL);
    char act[128], rc[128];
    snprintf(act, sizeof act, C "/servers/%s/action", id);
    snprintf(rc, sizeof rc, C "/servers/%s/remote-consoles", id);
    mc_expect_error(post(act, "{\"os-getVNCConsole\":{\"type\":\"novnc\"}}"), MC_COMPUTE, 409,
                    mc_pathf("Instance %s is not ready", id));
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_resp r = post(act, "{\"os-getVNCConsole\":{\"type\":\"novnc\"}}");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "console.type"), "novnc"));
    cr_expect(strstr(mc_jstr(r.json, "console.url"), "vnc_auto.html?path=%3Ftoken%3D") != NULL, "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(post(act, "{\"os-getVNCConsole\":{\"type\":\"bogus\"}}"), 400);
    mc_expect_status(post(act, "{\"os-getVNCConsole\":{}}"), 400);
    mc_expect_error(post(act, "{\"os-getSPICEConsole\":{\"type\":\"spice-html5\"}}"), MC_COMPUTE, 400,
                    "Unavailable console type spice-html5.");
    mc_expect_status(postv(rc, "{\"remote_console\":{\"protocol\":\"vnc\",\"type\":\"novnc\"}}", "2.5"), 404);
    r = postv(rc, "{\"remote_console\":{\"protocol\":\"vnc\",\"type\":\"novnc\"}}", "2.6");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "remote_console.protocol"), "vnc"));
    mc_resp_free(&r);
    mc_expect_status(postv(rc, "{\"remote_console\":{\"protocol\":\"vnc\",\"type\":\"spice-html5\"}}", "2.6"), 400);
    mc_expect_status(postv(rc, "{\"remote_console\":{\"protocol\":\"serial\",\"type\":\"serial\"}}", "2.6"), 400);
    mc_expect_status(postv(rc, "{\"console\":{}}", "2.6"), 400);
    mc_expect_status(postv(C "/servers/nope/remote-consoles", "{\"remote_console\":{\"protocol\":\"vnc\",\"type\":\"novnc\"}}", "2.6"), 404);
    free(id);
    mc_assert_no_leaks();
}

/* 2.40: os-simple-tenant-usage pages over the servers with limit/marker, as
 * `openstack usage list` at 2.40+ walks it: the marker of the last server
 * seen until a page is empty (the marker was ignored: the CLI looped on the
 * same page forever). */
Test(compute, simple_tenant_usage_pages_with_marker_from_2_40) {
    char *a = boot("u1", NULL), *b = boot("u2", NULL);
    mc_test_server_wait(tok, a, "ACTIVE");
    mc_test_server_wait(tok, b, "ACTIVE");
#define U40 C "/os-simple-tenant-usage?start=2000-01-01T00:00:00&end=2100-01-01T00:00:00&detailed=1"
    mc_resp r = adm(EVHTTP_REQ_GET, U40 "&limit=1", NULL, "2.40");
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tenant_usages.0.server_usages")), 1), "%s", r.body);
    char *first = strdup(mc_jstr(r.json, "tenant_usages.0.server_usages.0.instance_id"));
    cr_expect(strstr(mc_jstr(r.json, "tenant_usages_links.0.href"), first) != NULL, "%s", r.body);
    mc_resp_free(&r);
    r = adm(EVHTTP_REQ_GET, mc_pathf(U40 "&marker=%s", first), NULL, "2.40");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    const char *second = mc_jstr(r.json, "tenant_usages.0.server_usages.0.instance_id");
    cr_expect(second != NULL && strcmp(second, first) != 0, "%s", r.body);
    char *last = strdup(second ? second : "");
    mc_resp_free(&r);
    mc_expect_count(adm(EVHTTP_REQ_GET, mc_pathf(U40 "&marker=%s", last), NULL, "2.40"), "tenant_usages", 0);
    mc_expect_error(adm(EVHTTP_REQ_GET, U40 "&marker=nope", NULL, "2.40"), MC_COMPUTE, 400, "Marker nope could not be found.");
    /* before 2.40 both are ignored: everything on one page */
    r = adm(EVHTTP_REQ_GET, mc_pathf(U40 "&limit=1&marker=%s", last), NULL, "2.39");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tenant_usages.0.server_usages")), 2), "%s", r.body);
    mc_resp_free(&r);
#undef U40
    free(first);
    free(last);
    free(a);
    free(b);
    mc_assert_no_leaks();
}
