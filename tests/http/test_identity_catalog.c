/* HTTP tests of Keystone's catalog administration (identity_catalog.c):
 * regions, services, endpoints and what a new token's catalog shows of
 * them; policies and OS-EP-FILTER endpoint groups. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"

static char *adm, *demo;

static void setup(void) {
    mc_test_start(NULL);
    adm = mc_test_token("admin", "admin");
    demo = mc_test_token("demo", "demo");
}
static void teardown(void) {
    free(adm);
    free(demo);
    mc_test_stop();
}

TestSuite(kcatalog, .init = setup, .fini = teardown);

#define V3 "/identity/v3"

static mc_resp get(const char *path, const char *tok) { return mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL); }
static mc_resp post(const char *path, const char *body, const char *tok) {
    return mc_call(EVHTTP_REQ_POST, path, body, tok, NULL);
}
static mc_resp patch(const char *path, const char *body, const char *tok) {
    return mc_call(EVHTTP_REQ_PATCH, path, body, tok, NULL);
}
static mc_resp del(const char *path, const char *tok) { return mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL); }

/* POSTs 'body' to 'path' as admin, asserts 201 and returns obj.id (caller frees). */
static char *create(const char *path, const char *obj, const char *body) {
    mc_resp r = post(path, body, adm);
    cr_assert(eq(int, r.status, 201), "%s: %s", path, r.body);
    char key[64];
    snprintf(key, sizeof key, "%s.id", obj);
    const char *id = mc_jstr(r.json, key);
    cr_assert(id != NULL);
    char *out = strdup(id);
    mc_resp_free(&r);
    return out;
}

/* The catalog entry of 'type' in a new token of 'user', or NULL; *tokout
 * gets the token's reply (caller frees it). */
static cJSON *catalog_entry(mc_resp *tokout, const char *user, const char *type) {
    *tokout = mc_test_token_issue(user, user);
    cr_assert(eq(int, tokout->status, 201), "%s", tokout->body);
    cJSON *svc;
    cJSON_ArrayForEach(svc, mc_jpath(tokout->json, "token.catalog"))
        if (strcmp(mc_jstr(svc, "type"), type) == 0) return svc;
    return NULL;
}

/* Whether GET /v3/auth/catalog of 'tok' lists an endpoint with 'url'. */
static bool auth_catalog_has_url(const char *tok, const char *url) {
    mc_resp r = get(V3 "/auth/catalog", tok);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    bool found = strstr(r.body, url) != NULL;
    mc_resp_free(&r);
    return found;
}

/* ---------------------------------------------------------------- regions */

Test(kcatalog, regions_create_show_update_delete) {
    mc_resp r = get(V3 "/regions", demo);   /* any token lists regions */
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "regions.0.id"), "RegionOne"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "regions.0.description"), ""));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "regions.0.parent_region_id")));
    mc_resp_free(&r);

    char *parent = create(V3 "/regions", "region", "{\"region\":{\"description\":\"top\"}}");
    cr_expect(eq(sz, strlen(parent), 32));
    r = mc_call(EVHTTP_REQ_PUT, V3 "/regions/child-1",
                mc_pathf("{\"region\":{\"description\":\"kid\",\"parent_region_id\":\"%s\"}}", parent), adm, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "region.id"), "child-1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "region.parent_region_id"), parent));
    cr_expect(mc_jstr(r.json, "region.links.self") != NULL);
    mc_resp_free(&r);
    /* the same id again, a PUT naming another id, an unknown parent */
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, V3 "/regions/child-1", "{\"region\":{}}", adm, NULL), MC_IDENTITY, 409, NULL);
    mc_expect_error(post(V3 "/regions", "{\"region\":{\"id\":\"child-1\"}}", adm), MC_IDENTITY, 409, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, V3 "/regions/a", "{\"region\":{\"id\":\"b\"}}", adm, NULL), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/regions", "{\"region\":{\"parent_region_id\":\"nope\"}}", adm), MC_IDENTITY, 404,
                    "Could not find region: nope.");
    mc_expect_error(post(V3 "/regions", "{\"region\":{\"description\":7}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/regions", "{\"nope\":{}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/regions", "{\"region\":{}}", demo), MC_IDENTITY, 403, NULL);

    /* filter by parent */
    r = get(mc_pathf(V3 "/regions?parent_region_id=%s", parent), adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "regions")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "regions.0.id"), "child-1"));
    mc_resp_free(&r);

    /* a parent may not become its own descendant */
    mc_expect_error(patch(mc_pathf(V3 "/regions/%s", parent), "{\"region\":{\"parent_region_id\":\"child-1\"}}", adm),
                    MC_IDENTITY, 400, NULL);
    r = patch(V3 "/regions/child-1", "{\"region\":{\"description\":null,\"parent_region_id\":\"RegionOne\"}}", adm);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "region.description"), ""));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "region.parent_region_id"), "RegionOne"));
    mc_resp_free(&r);
    mc_expect_error(patch(V3 "/regions/nope", "{\"region\":{\"description\":\"x\"}}", adm), MC_IDENTITY, 404, NULL);

    /* RegionOne holds the seeded endpoints: 403; deleting the parent takes the children */
    mc_expect_error(del(V3 "/regions/RegionOne", adm), MC_IDENTITY, 403, NULL);
    mc_expect_status(patch(V3 "/regions/child-1", mc_pathf("{\"region\":{\"parent_region_id\":\"%s\"}}", parent), adm), 200);
    mc_expect_status(del(mc_pathf(V3 "/regions/%s", parent), adm), 204);
    mc_expect_error(get(V3 "/regions/child-1", adm), MC_IDENTITY, 404, "Could not find region: child-1.");
    mc_expect_error(del(mc_pathf(V3 "/regions/%s", parent), adm), MC_IDENTITY, 404, NULL);
    free(parent);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- services */

Test(kcatalog, services_crud_filters_and_errors) {
    mc_resp r = get(V3 "/services", adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "services")), 6));   /* + volumev3, block-storage */
    cr_expect(eq(str, (char *)mc_jstr(r.json, "services.1.type"), "compute"));
    mc_resp_free(&r);
    mc_expect_error(get(V3 "/services", demo), MC_IDENTITY, 403, NULL);
    mc_expect_error(post(V3 "/services", "{\"service\":{\"type\":\"x\"}}", demo), MC_IDENTITY, 403, NULL);

    char *id = create(V3 "/services", "service", "{\"service\":{\"type\":\"object-store\",\"name\":\"cinder\",\"description\":\"d\",\"extra\":1}}");
    r = get(mc_pathf(V3 "/services/%s", id), adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.name"), "cinder"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.description"), "d"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "service.extra"), 1));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "service.enabled")));
    mc_resp_free(&r);
    r = get(V3 "/services?type=object-store", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "services")), 1));
    mc_resp_free(&r);
    r = patch(mc_pathf(V3 "/services/%s", id), "{\"service\":{\"description\":\"e\"}}", adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "service.description"), "e"));
    mc_resp_free(&r);

    mc_expect_error(post(V3 "/services", "{\"service\":{\"name\":\"no type\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/services", "{\"service\":{\"type\":\"t\",\"enabled\":\"True\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(patch(mc_pathf(V3 "/services/%s", id), "{\"service\":{\"type\":5}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(patch(mc_pathf(V3 "/services/%s", id), "{\"service\":{\"id\":\"other\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_status(del(mc_pathf(V3 "/services/%s", id), adm), 204);
    mc_expect_error(get(mc_pathf(V3 "/services/%s", id), adm), MC_IDENTITY, 404, mc_pathf("Could not find service: %s.", id));
    mc_expect_error(del(mc_pathf(V3 "/services/%s", id), adm), MC_IDENTITY, 404, NULL);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- endpoints */

Test(kcatalog, endpoint_appears_in_new_tokens_and_goes_when_deleted) {
    /* a token first, so the catalog text is cached before the change */
    mc_resp t;
    cr_expect(eq(ptr, catalog_entry(&t, "demo", "object-store"), NULL));
    mc_resp_free(&t);
    cr_expect(mc_not(auth_catalog_has_url(demo, "http://cinder.example.com:8776/v3")));

    char *svc = create(V3 "/services", "service", "{\"service\":{\"type\":\"object-store\",\"name\":\"cinder\"}}");
    cJSON *e = catalog_entry(&t, "demo", "object-store");   /* a service without endpoints is listed, empty */
    cr_assert(e != NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(e, "endpoints")), 0));
    mc_resp_free(&t);

    char *ep = create(V3 "/endpoints", "endpoint",
                      mc_pathf("{\"endpoint\":{\"service_id\":\"%s\",\"interface\":\"public\",\"region_id\":\"RegionOne\","
                               "\"url\":\"http://cinder.example.com:8776/v3/$(project_id)s\"}}", svc));
    e = catalog_entry(&t, "demo", "object-store");
    cr_assert(e != NULL, "%s", t.body);
    cr_expect(eq(str, (char *)mc_jstr(e, "name"), "cinder"));
    cr_expect(eq(str, (char *)mc_jstr(e, "id"), svc));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.id"), ep));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.url"), "http://cinder.example.com:8776/v3/" DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.region"), "RegionOne"));
    mc_resp_free(&t);
    cr_expect(auth_catalog_has_url(demo, "http://cinder.example.com:8776/v3/" DEMO_PROJECT));
    /* the API shows the template as given */
    mc_resp r = get(mc_pathf(V3 "/endpoints/%s", ep), adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint.url"), "http://cinder.example.com:8776/v3/$(project_id)s"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint.service_id"), svc));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "endpoint.enabled")));
    mc_resp_free(&r);

    /* disabled: left out of the catalog, listed by the API */
    mc_expect_status(patch(mc_pathf(V3 "/endpoints/%s", ep), "{\"endpoint\":{\"enabled\":false}}", adm), 200);
    e = catalog_entry(&t, "demo", "object-store");
    cr_assert(e != NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(e, "endpoints")), 0));
    mc_resp_free(&t);
    mc_expect_status(patch(mc_pathf(V3 "/endpoints/%s", ep), "{\"endpoint\":{\"enabled\":true}}", adm), 200);
    cr_expect(auth_catalog_has_url(demo, "cinder.example.com"));
    /* a disabled service takes its endpoints out of the catalog */
    mc_expect_status(patch(mc_pathf(V3 "/services/%s", svc), "{\"service\":{\"enabled\":false}}", adm), 200);
    cr_expect(eq(ptr, catalog_entry(&t, "demo", "object-store"), NULL));
    mc_resp_free(&t);
    mc_expect_status(patch(mc_pathf(V3 "/services/%s", svc), "{\"service\":{\"enabled\":true}}", adm), 200);
    cr_expect(auth_catalog_has_url(demo, "cinder.example.com"));

    /* deleted: gone from new tokens */
    mc_expect_status(del(mc_pathf(V3 "/endpoints/%s", ep), adm), 204);
    cr_expect(mc_not(auth_catalog_has_url(demo, "cinder.example.com")));
    mc_expect_error(get(mc_pathf(V3 "/endpoints/%s", ep), adm), MC_IDENTITY, 404, mc_pathf("Could not find endpoint: %s.", ep));
    free(ep);

    /* deleting a service deletes its endpoints */
    ep = create(V3 "/endpoints", "endpoint",
                mc_pathf("{\"endpoint\":{\"service_id\":\"%s\",\"interface\":\"internal\",\"url\":\"http://c:1/\"}}", svc));
    mc_expect_status(del(mc_pathf(V3 "/services/%s", svc), adm), 204);
    mc_expect_error(get(mc_pathf(V3 "/endpoints/%s", ep), adm), MC_IDENTITY, 404, NULL);
    cr_expect(eq(ptr, catalog_entry(&t, "demo", "object-store"), NULL));
    mc_resp_free(&t);
    free(ep);
    free(svc);
    mc_assert_no_leaks();
}

/* 'tmpl' with its '@' replaced by 'id' (one of two rotating buffers). */
static const char *with_id(const char *tmpl, const char *id) {
    static char buf[2][512];
    static int k;
    char *out = buf[k++ & 1];
    const char *at = strchr(tmpl, '@');
    cr_assert(at != NULL);
    snprintf(out, 512, "%.*s%s%s", (int)(at - tmpl), tmpl, id, at + 1);
    return out;
}

Test(kcatalog, endpoint_bad_input_and_legacy_region) {
    char *svc = create(V3 "/services", "service", "{\"service\":{\"type\":\"t1\"}}");
    static const char *const bad[] = {
        "{\"endpoint\":{\"service_id\":\"@\",\"interface\":\"public\",\"url\":\"http://x/\",\"enabled\":\"False\"}}",
        "{\"endpoint\":{\"service_id\":\"@\",\"interface\":\"outside\",\"url\":\"http://x/\"}}",
        "{\"endpoint\":{\"service_id\":\"@\",\"interface\":\"public\",\"url\":\"no-scheme\"}}",
        "{\"endpoint\":{\"service_id\":\"@\",\"interface\":\"public\"}}",
        "{\"endpoint\":{\"service_id\":\"@\",\"interface\":\"public\",\"url\":\"http://x/\",\"region_id\":\"nope\"}}",
        "{\"endpoint\":{\"service_id\":\"@-not\",\"interface\":\"public\",\"url\":\"http://x/\"}}",
        "{\"endpoint\":[\"@\"]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        mc_expect_error(post(V3 "/endpoints", with_id(bad[i], svc), adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/endpoints", with_id(bad[0], svc), demo), MC_IDENTITY, 403, NULL);
    mc_expect_error(get(V3 "/endpoints", demo), MC_IDENTITY, 403, NULL);
    /* nothing of that was stored */
    mc_resp r = get(mc_pathf(V3 "/endpoints?service_id=%s", svc), adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "endpoints")), 0));
    mc_resp_free(&r);
    mc_expect_error(get(V3 "/regions/legacy-r", adm), MC_IDENTITY, 404, NULL);

    /* the legacy 'region' creates the region, as Keystone does */
    char *ep = create(V3 "/endpoints", "endpoint",
                      mc_pathf("{\"endpoint\":{\"service_id\":\"%s\",\"interface\":\"admin\",\"url\":\"http://x/\","
                               "\"region\":\"legacy-r\"}}", svc));
    r = get(V3 "/regions/legacy-r", adm);
    cr_expect(eq(int, r.status, 200));
    mc_resp_free(&r);
    r = get(V3 "/endpoints?interface=admin&region_id=legacy-r", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "endpoints")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoints.0.region"), "legacy-r"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoints.0.region_id"), "legacy-r"));
    mc_resp_free(&r);
    mc_expect_error(patch(mc_pathf(V3 "/endpoints/%s", ep), "{\"endpoint\":{\"enabled\":\"True\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(patch(mc_pathf(V3 "/endpoints/%s", ep), "{\"endpoint\":{\"service_id\":\"nope\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(patch(V3 "/endpoints/nope", "{\"endpoint\":{\"enabled\":true}}", adm), MC_IDENTITY, 404, NULL);
    /* the region holds an endpoint now */
    mc_expect_error(del(V3 "/regions/legacy-r", adm), MC_IDENTITY, 403, NULL);
    mc_expect_status(del(mc_pathf(V3 "/endpoints/%s", ep), adm), 204);
    mc_expect_status(del(V3 "/regions/legacy-r", adm), 204);
    free(ep);
    free(svc);
    mc_assert_no_leaks();
}

Test(kcatalog, seeded_endpoints_follow_the_public_url_until_changed) {
    mc_resp r = get(V3 "/endpoints?interface=public", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "endpoints")), 6));   /* + volumev3, block-storage */
    mc_resp_free(&r);
    r = get(V3 "/endpoints", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "endpoints")), 18));
    mc_resp_free(&r);
    mc_resp t;
    cJSON *e = catalog_entry(&t, "demo", "compute");
    cr_assert(e != NULL);
    char url[300], id[64];
    snprintf(url, sizeof url, "%s", mc_jstr(e, "endpoints.0.url"));
    snprintf(id, sizeof id, "%s", mc_jstr(e, "endpoints.0.id"));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.interface"), "public"));
    cr_expect(strstr(url, "http://127.0.0.1:") == url && strstr(url, "/compute/v2.1") != NULL, "%s", url);
    mc_resp_free(&t);
    r = get(mc_pathf(V3 "/endpoints/%s", id), adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint.url"), url));
    mc_resp_free(&r);

    mc_expect_status(patch(mc_pathf(V3 "/endpoints/%s", id), "{\"endpoint\":{\"url\":\"https://nova.example.com/v2.1\"}}", adm), 200);
    e = catalog_entry(&t, "demo", "compute");
    cr_assert(e != NULL);
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.url"), "https://nova.example.com/v2.1"));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.1.url"), url));   /* internal: as seeded */
    mc_resp_free(&t);
    mc_assert_no_leaks();
}

Test(kcatalog, catalog_deviations_apply_to_stored_services) {
    char *svc = create(V3 "/services", "service", "{\"service\":{\"type\":\"dns\",\"name\":\"designate\"}}");
    char *ep = create(V3 "/endpoints", "endpoint",
                      mc_pathf("{\"endpoint\":{\"service_id\":\"%s\",\"interface\":\"public\",\"region_id\":\"RegionOne\","
                               "\"url\":\"http://dns.example.com/\"}}", svc));
    mc_test_profile(NULL, "[\"catalog-missing-network\",\"catalog-version-in-url\",\"catalog-project-in-url\",\"catalog-other-region\"]");
    mc_resp t;
    cr_expect(eq(ptr, catalog_entry(&t, "demo", "network"), NULL));
    cr_expect(mc_resp_lists(&t, "catalog-missing-network"));
    mc_resp_free(&t);
    cJSON *e = catalog_entry(&t, "demo", "image");
    cr_assert(e != NULL);
    cr_expect(strstr(mc_jstr(e, "endpoints.0.url"), "/image/v2") != NULL, "%s", mc_jstr(e, "endpoints.0.url"));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.region"), "region-a"));
    mc_resp_free(&t);
    e = catalog_entry(&t, "demo", "compute");
    cr_assert(e != NULL);
    cr_expect(strstr(mc_jstr(e, "endpoints.0.url"), "/compute/v2.1/" DEMO_PROJECT) != NULL);
    mc_resp_free(&t);
    /* the stored service is there, its URL as registered, its region the deviation's */
    e = catalog_entry(&t, "demo", "dns");
    cr_assert(e != NULL);
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.url"), "http://dns.example.com/"));
    cr_expect(eq(str, (char *)mc_jstr(e, "endpoints.0.region_id"), "region-a"));
    mc_resp_free(&t);
    /* back to the conformant catalog: the network service again */
    mc_test_profile(NULL, NULL);
    cr_expect(catalog_entry(&t, "demo", "network") != NULL);
    mc_resp_free(&t);
    free(ep);
    free(svc);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- policies, endpoint groups */

Test(kcatalog, policies_crud) {
    char *id = create(V3 "/policies", "policy", "{\"policy\":{\"blob\":\"{}\",\"type\":\"application/json\",\"x\":true}}");
    mc_resp r = get(mc_pathf(V3 "/policies/%s", id), adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "policy.blob"), "{}"));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "policy.x")));
    mc_resp_free(&r);
    r = patch(mc_pathf(V3 "/policies/%s", id), "{\"policy\":{\"type\":\"text/plain\"}}", adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "policy.type"), "text/plain"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "policy.blob"), "{}"));
    mc_resp_free(&r);
    r = get(V3 "/policies?type=text/plain", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "policies")), 1));
    mc_resp_free(&r);
    mc_expect_error(post(V3 "/policies", "{\"policy\":{\"blob\":\"{}\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/policies", "{\"policy\":{\"blob\":{},\"type\":\"t\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/policies", "{\"policy\":{\"blob\":\"{}\",\"type\":\"t\"}}", demo), MC_IDENTITY, 403, NULL);
    mc_expect_error(get(V3 "/policies", demo), MC_IDENTITY, 403, NULL);
    mc_expect_status(del(mc_pathf(V3 "/policies/%s", id), adm), 204);
    mc_expect_error(get(mc_pathf(V3 "/policies/%s", id), adm), MC_IDENTITY, 404, mc_pathf("Could not find policy: %s.", id));
    free(id);
    mc_assert_no_leaks();
}

Test(kcatalog, endpoint_groups_crud) {
    char *id = create(V3 "/OS-EP-FILTER/endpoint_groups", "endpoint_group",
                      "{\"endpoint_group\":{\"name\":\"g\",\"description\":\"d\",\"filters\":{\"interface\":\"public\"}}}");
    mc_resp r = get(mc_pathf(V3 "/OS-EP-FILTER/endpoint_groups/%s", id), adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint_group.filters.interface"), "public"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf(V3 "/OS-EP-FILTER/endpoint_groups/%s", id), NULL, adm, NULL), 200);
    r = patch(mc_pathf(V3 "/OS-EP-FILTER/endpoint_groups/%s", id), "{\"endpoint_group\":{\"name\":\"g2\",\"filters\":{\"service_id\":\"s\"}}}", adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint_group.name"), "g2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "endpoint_group.filters.service_id"), "s"));
    mc_resp_free(&r);
    r = get(V3 "/OS-EP-FILTER/endpoint_groups?name=g2", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "endpoint_groups")), 1));
    mc_resp_free(&r);
    mc_expect_error(post(V3 "/OS-EP-FILTER/endpoint_groups", "{\"endpoint_group\":{\"name\":\"g\",\"filters\":{}}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/OS-EP-FILTER/endpoint_groups", "{\"endpoint_group\":{\"name\":\"g\",\"filters\":{\"url\":\"x\"}}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/OS-EP-FILTER/endpoint_groups", "{\"endpoint_group\":{\"name\":\"g\",\"filters\":{\"interface\":\"public\"},\"x\":1}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(get(V3 "/OS-EP-FILTER/endpoint_groups", demo), MC_IDENTITY, 403, NULL);
    mc_expect_status(del(mc_pathf(V3 "/OS-EP-FILTER/endpoint_groups/%s", id), adm), 204);
    mc_expect_error(get(mc_pathf(V3 "/OS-EP-FILTER/endpoint_groups/%s", id), adm), MC_IDENTITY, 404, NULL);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- trusts */

#define DEMO_ID "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define ALT_ID "a7b8c9d0e1f243a5b6c7d8e9f0a1b2c3"
#define MEMBER_ROLE "9f8e7d6c5b4a43219f8e7d6c5b4a3210"

/* A trust from demo to alt_demo on demo's project with the member role. */
static char *demo_trust(bool impersonation, const char *extra) {
    mc_resp r = post(V3 "/OS-TRUST/trusts",
                     mc_pathf("{\"trust\":{\"trustor_user_id\":\"" DEMO_ID "\",\"trustee_user_id\":\"" ALT_ID "\","
                              "\"project_id\":\"" DEMO_PROJECT "\",\"impersonation\":%s,\"roles\":[{\"name\":\"member\"}]%s}}",
                              impersonation ? "true" : "false", extra ? extra : ""),
                     demo);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "trust.id"));
    mc_resp_free(&r);
    return id;
}

/* alt_demo's password token scoped to trust 'id'. */
static mc_resp trust_token(const char *user, const char *id) {
    return post(V3 "/auth/tokens",
                mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"%s\","
                         "\"domain\":{\"id\":\"default\"},\"password\":\"secret\"}}},\"scope\":{\"OS-TRUST:trust\":{\"id\":\"%s\"}}}}",
                         user, id),
                NULL);
}

Test(kcatalog, trusts_crud_and_policy) {
    char *id = demo_trust(true, ",\"expires_at\":\"2099-01-02T03:04:05Z\"");
    mc_resp r = get(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), demo);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "trust.expires_at"), "2099-01-02T03:04:05.000000Z"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "trust.roles.0.id"), MEMBER_ROLE));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "trust.project_id"), DEMO_PROJECT));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "trust.impersonation")));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "trust.remaining_uses")));
    cr_expect(strstr(mc_jstr(r.json, "trust.links.self"), "/v3/OS-TRUST/trusts/") != NULL);
    mc_resp_free(&r);
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(get(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), alt), 200);   /* the trustee */
    r = get(mc_pathf(V3 "/OS-TRUST/trusts/%s/roles", id), alt);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "roles")), 1));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf(V3 "/OS-TRUST/trusts/%s/roles/" MEMBER_ROLE, id), NULL, alt, NULL), 200);
    mc_expect_error(get(mc_pathf(V3 "/OS-TRUST/trusts/%s/roles/nope", id), alt), MC_IDENTITY, 404, NULL);
    /* lists: one's own, or everything for an admin */
    r = get(V3 "/OS-TRUST/trusts?trustor_user_id=" DEMO_ID, demo);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "trusts")), 1));
    cr_expect(eq(ptr, mc_jpath(r.json, "trusts.0.roles"), NULL));
    mc_resp_free(&r);
    mc_expect_error(get(V3 "/OS-TRUST/trusts?trustor_user_id=" DEMO_ID, alt), MC_IDENTITY, 403, NULL);
    mc_expect_error(get(V3 "/OS-TRUST/trusts", demo), MC_IDENTITY, 403, NULL);
    r = get(V3 "/OS-TRUST/trusts", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "trusts")), 1));
    mc_resp_free(&r);
    /* only the trustor makes a trust, with roles it has, a valid date */
    static const struct { const char *body; int status; } bad[] = {
        {"{\"trust\":{\"trustor_user_id\":\"" DEMO_ID "\",\"trustee_user_id\":\"" ALT_ID "\",\"impersonation\":true,"
         "\"project_id\":\"" DEMO_PROJECT "\",\"roles\":[{\"name\":\"member\"}]}}", 403},   /* as alt */
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"" DEMO_ID "\",\"impersonation\":true,"
         "\"project_id\":\"" DEMO_PROJECT "\",\"roles\":[{\"name\":\"member\"}]}}", 404},   /* not alt's project */
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"" DEMO_ID "\",\"impersonation\":true,"
         "\"project_id\":\"5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f\",\"roles\":[{\"name\":\"admin\"}]}}", 404},
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"" DEMO_ID "\",\"impersonation\":true,"
         "\"project_id\":\"5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f\",\"roles\":[{\"name\":\"member\"}],\"expires_at\":\"bad.123Z\"}}", 400},
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"" DEMO_ID "\","
         "\"project_id\":\"5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f\",\"roles\":[{\"name\":\"member\"}]}}", 400},
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"nobody\",\"impersonation\":false,"
         "\"project_id\":\"5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f\",\"roles\":[{\"name\":\"member\"}]}}", 404},
        {"{\"trust\":{\"trustor_user_id\":\"" ALT_ID "\",\"trustee_user_id\":\"" DEMO_ID "\",\"impersonation\":false,"
         "\"project_id\":\"5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f\"}}", 403},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        mc_expect_error(post(V3 "/OS-TRUST/trusts", bad[i].body, alt), MC_IDENTITY, bad[i].status, NULL);
    mc_expect_error(del(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), alt), MC_IDENTITY, 403, NULL);   /* trustee */
    mc_expect_status(del(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), demo), 204);
    mc_expect_error(get(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), demo), MC_IDENTITY, 404, mc_pathf("Could not find trust: %s.", id));
    free(alt);
    free(id);
    mc_assert_no_leaks();
}

Test(kcatalog, trust_scoped_tokens) {
    char *id = demo_trust(true, NULL);
    mc_resp r = trust_token("alt_demo", id);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.user.id"), DEMO_ID));   /* impersonation */
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.OS-TRUST:trust.id"), id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.OS-TRUST:trust.trustee_user.id"), ALT_ID));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.OS-TRUST:trust.trustor_user.id"), DEMO_ID));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.roles.0.name"), "member"));
    cr_expect(mc_jpath(r.json, "token.catalog") != NULL);
    char *tok = strdup(mc_resp_header(&r, "X-Subject-Token"));
    mc_resp_free(&r);
    mc_expect_status(get(V3 "/auth/catalog", tok), 200);
    /* the trustor cannot use it, nor an unknown trust */
    mc_expect_error(trust_token("demo", id), MC_IDENTITY, 403, NULL);
    mc_expect_error(trust_token("alt_demo", "nope"), MC_IDENTITY, 404, NULL);
    /* deleting the trust revokes its tokens */
    mc_expect_status(del(mc_pathf(V3 "/OS-TRUST/trusts/%s", id), demo), 204);
    mc_expect_error(get(V3 "/auth/catalog", tok), MC_IDENTITY, 401, NULL);
    free(tok);
    free(id);

    /* no impersonation: the trustee acts; one use only */
    id = demo_trust(false, ",\"remaining_uses\":1");
    r = trust_token("alt_demo", id);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.user.id"), ALT_ID));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "token.OS-TRUST:trust.impersonation")));
    mc_resp_free(&r);
    mc_expect_error(trust_token("alt_demo", id), MC_IDENTITY, 404, NULL);   /* used up */
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- consumers, domain config */

Test(kcatalog, oauth1_consumers_crud) {
    mc_resp r = post(V3 "/OS-OAUTH1/consumers", "{\"consumer\":{\"description\":\"c1\"}}", adm);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "consumer.id"));
    cr_expect(eq(sz, strlen(mc_jstr(r.json, "consumer.secret")), 32));
    mc_resp_free(&r);
    r = get(mc_pathf(V3 "/OS-OAUTH1/consumers/%s", id), adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "consumer.description"), "c1"));
    cr_expect(eq(ptr, mc_jpath(r.json, "consumer.secret"), NULL));
    mc_resp_free(&r);
    r = patch(mc_pathf(V3 "/OS-OAUTH1/consumers/%s", id), "{\"consumer\":{\"description\":\"c2\"}}", adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "consumer.description"), "c2"));
    mc_resp_free(&r);
    mc_expect_error(patch(mc_pathf(V3 "/OS-OAUTH1/consumers/%s", id), "{\"consumer\":{\"secret\":\"x\"}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(post(V3 "/OS-OAUTH1/consumers", "{\"consumer\":{\"description\":1}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(get(V3 "/OS-OAUTH1/consumers", demo), MC_IDENTITY, 403, NULL);
    r = get(V3 "/OS-OAUTH1/consumers", adm);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "consumers")), 1));
    mc_resp_free(&r);
    mc_expect_status(del(mc_pathf(V3 "/OS-OAUTH1/consumers/%s", id), adm), 204);
    mc_expect_error(get(mc_pathf(V3 "/OS-OAUTH1/consumers/%s", id), adm), MC_IDENTITY, 404, NULL);
    free(id);
    mc_assert_no_leaks();
}

Test(kcatalog, domain_configuration) {
    const char *c = V3 "/domains/default/config";
    mc_expect_error(get(c, adm), MC_IDENTITY, 404, NULL);
    mc_resp r = mc_call(EVHTTP_REQ_PUT, c, "{\"config\":{\"identity\":{\"driver\":\"ldap\"},\"ldap\":{\"url\":\"ldap://h/\",\"password\":\"p\"}}}", adm, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(ptr, mc_jpath(r.json, "config.ldap.password"), NULL));
    mc_resp_free(&r);
    r = get(mc_pathf("%s/ldap/url", c), adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "config.url"), "ldap://h/"));
    mc_resp_free(&r);
    r = patch(mc_pathf("%s/identity", c), "{\"config\":{\"identity\":{\"list_limit\":5}}}", adm);
    cr_expect(eq(int, (int)mc_jnum(r.json, "config.identity.list_limit"), 5));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "config.identity.driver"), "ldap"));
    mc_resp_free(&r);
    mc_expect_error(patch(c, "{\"config\":{\"assignment\":{\"driver\":\"x\"}}}", adm), MC_IDENTITY, 403, NULL);
    mc_expect_error(patch(c, "{\"config\":{\"ldap\":{\"nonsense\":1}}}", adm), MC_IDENTITY, 403, NULL);
    mc_expect_error(patch(mc_pathf("%s/identity", c), "{\"config\":{\"ldap\":{\"url\":\"x\"}}}", adm), MC_IDENTITY, 400, NULL);
    mc_expect_error(get(c, demo), MC_IDENTITY, 403, NULL);
    mc_expect_status(del(mc_pathf("%s/identity/driver", c), adm), 204);
    mc_expect_error(get(mc_pathf("%s/identity/driver", c), adm), MC_IDENTITY, 404, NULL);
    mc_expect_status(del(mc_pathf("%s/identity", c), adm), 204);
    mc_expect_error(get(mc_pathf("%s/identity", c), adm), MC_IDENTITY, 404, NULL);
    mc_expect_status(del(c, adm), 204);
    mc_expect_error(get(c, adm), MC_IDENTITY, 404, NULL);
    mc_expect_error(get(V3 "/domains/nope/config", adm), MC_IDENTITY, 404, NULL);
    r = get(V3 "/domains/config/ldap/user_tree_dn/default", adm);
    cr_expect(eq(int, r.status, 200));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "config.user_tree_dn")));
    mc_resp_free(&r);
    r = get(V3 "/domains/config/default", adm);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "config.identity.driver"), "sql"));
    mc_resp_free(&r);
    mc_expect_error(get(V3 "/domains/config/assignment/default", adm), MC_IDENTITY, 403, NULL);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- /v3/ec2tokens */

/* Signatures computed by keystoneclient's Ec2Signer('s3cr3t') for these
 * requests (python3: keystoneclient.contrib.ec2.utils). */
#define EC2_V2_SIG "DeCpoGv5owLdvxLN1KhQ56jCMxRGUXhL6Q+is+0Ty04="
#define EC2_V2 "{\"credentials\":{\"access\":\"a1\",\"signature\":\"%s\",\"host\":\"ec2.example.com:8773\",\"verb\":\"GET\"," \
               "\"path\":\"/\",\"params\":{\"Action\":\"DescribeInstances\",\"SignatureVersion\":\"2\"," \
               "\"SignatureMethod\":\"HmacSHA256\",\"Version\":\"2010-08-31\",\"Filter.1.Name\":\"a b/c\"}}}"
#define EC2_V4_SIG "f9bc8fd43c82b8ebfc20ac412e65bdd16ac1ef8601e0e2c386776d1111c18717"
#define EC2_V4 "{\"credentials\":{\"access\":\"a1\",\"signature\":\"%s\",\"host\":\"ec2.example.com\",\"verb\":\"GET\"," \
               "\"path\":\"/\",\"params\":{\"Action\":\"DescribeRegions\",\"Version\":\"2013-10-15\"},\"headers\":{" \
               "\"Host\":\"ec2.example.com\",\"X-Amz-Date\":\"20260101T000000Z\",\"Authorization\":\"AWS4-HMAC-SHA256 " \
               "Credential=a1/20260101/RegionOne/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=x\"}," \
               "\"body_hash\":\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}}"

Test(kcatalog, ec2tokens_check_signatures) {
    mc_resp r = post(V3 "/credentials",
                     "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"project_id\":\"" DEMO_PROJECT "\","
                     "\"blob\":\"{\\\"access\\\":\\\"a1\\\",\\\"secret\\\":\\\"s3cr3t\\\"}\"}}", demo);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    mc_resp_free(&r);
    /* version 2: a token of the credential's user on its project, no X-Auth-Token needed */
    r = post(V3 "/ec2tokens", mc_pathf(EC2_V2, EC2_V2_SIG), NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.user.id"), DEMO_ID));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.methods.0"), "ec2credential"));
    cr_expect(mc_resp_header(&r, "X-Subject-Token") != NULL);
    mc_resp_free(&r);
    mc_expect_error(post(V3 "/ec2tokens", mc_pathf(EC2_V2, "DeCpoGv5owLdvxLN1KhQ56jCMxRGUXhL6Q+is+0Ty05="), NULL),
                    MC_IDENTITY, 401, "Invalid EC2 signature.");
    /* version 4: the right signature reaches the date check (the vector is from 2026-01-01) */
    mc_expect_error(post(V3 "/ec2tokens", mc_pathf(EC2_V4, EC2_V4_SIG), NULL), MC_IDENTITY, 401, "Credential is expired");
    mc_expect_error(post(V3 "/ec2tokens", mc_pathf(EC2_V4, "e9bc8fd43c82b8ebfc20ac412e65bdd16ac1ef8601e0e2c386776d1111c18717"), NULL), MC_IDENTITY, 401, "Invalid EC2 signature.");
    /* unknown key, no access, no signature, wrong types */
    mc_expect_error(post(V3 "/ec2tokens", "{\"credentials\":{\"access\":\"nope\",\"signature\":\"x\"}}", NULL), MC_IDENTITY, 404, NULL);
    mc_expect_error(post(V3 "/ec2tokens", "{\"credentials\":{}}", NULL), MC_IDENTITY, 401, NULL);
    mc_expect_error(post(V3 "/ec2tokens", "{\"credentials\":{\"access\":\"a1\"}}", NULL), MC_IDENTITY, 401, NULL);
    mc_expect_error(post(V3 "/ec2tokens", "{\"credentials\":{\"access\":\"a1\",\"params\":[]}}", NULL), MC_IDENTITY, 400, NULL);
    mc_assert_no_leaks();
}
