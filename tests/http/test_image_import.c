/* HTTP tests of Glance's multi-store and import APIs (image.c): the stores
 * of fixtures/image.json (GET /v2/info/stores, /detail, X-Image-Meta-Store,
 * "stores" on images, DELETE /v2/stores/{store}/{image}), glance-direct,
 * web-download (which fails honestly: no network) and copy-image with
 * os_glance_importing_to_stores / os_glance_failed_import, /v2/info/usage,
 * the versions document, and image locations under show_multiple_locations. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "imageapi.h"

#define IMG "/image/v2/images"
#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define JSON_ACCEPT "Accept: application/json"

static char *admin, *demo;
static void setup(void) {
    demo = mc_test_start_as(NULL, "demo");
    admin = mc_test_token("admin", "admin");
}
static void teardown(void) {
    free(admin);
    mc_test_stop_as(&demo);
}

TestSuite(image_stores, .init = setup, .fini = teardown);

static void configure(const char *json) {
    cJSON *cfg = cJSON_Parse(json);
    char err[200];
    cr_assert(eq(int, mc_image_configure(T.srv, cfg, err, sizeof err), 0), "%s", err);
    cJSON_Delete(cfg);
}

/* A queued image of 'tok'; returns its id in 'id'. */
static void new_image(const char *tok, char id[64]) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, IMG, "{\"name\":\"i\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}", tok, NULL);
    cr_assert(eq(int, r.status, 201));
    snprintf(id, 64, "%s", mc_jstr(r.json, "id"));
    mc_resp_free(&r);
}

static mc_resp patch(const char *path, const char *ops, const char *tok) {
    return mc_call_raw(EVHTTP_REQ_PATCH, path, ops, strlen(ops), "application/openstack-images-v2.1-json-patch", tok,
                       JSON_ACCEPT);
}

static const char *field(const char *tok, const char *id, const char *key, char *buf, size_t n) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s", id), NULL, tok, NULL);
    const char *v = mc_jstr(r.json, key);
    snprintf(buf, n, "%s", v ? v : "(none)");
    mc_resp_free(&r);
    return buf;
}

Test(image_stores, info_stores_detail_usage_and_versions) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/stores", NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores.0.id"), "cheap"));
    cr_expect(mc_jpath(r.json, "stores.0.default") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores.1.default"), "true"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/image/v2/info/stores/detail", NULL, demo, JSON_ACCEPT), MC_IMAGE, 403,
                    "You are not authorized to complete stores_info_detail action.");
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/stores/detail", NULL, admin, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores.1.type"), "file"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores.1.properties.datadir"), "/var/lib/glance/fast"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/import", NULL, demo, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "import-methods.value")), 3));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "import-methods.value.2"), "copy-image"));
    mc_resp_free(&r);
    /* usage: the fixture images are the admin project's */
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/usage", NULL, admin, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "usage.image_count_total.usage"), 2));
    cr_expect(eq(int, (int)mc_jnum(r.json, "usage.image_size_total.usage"), (21430272 + 16300544) / (1024 * 1024)));
    cr_expect(eq(int, (int)mc_jnum(r.json, "usage.image_size_total.limit"), -1));
    mc_resp_free(&r);
    char id[64];
    new_image(demo, id);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/stage", id), "abc", 3, "application/octet-stream", demo, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/usage", NULL, demo, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "usage.image_count_total.usage"), 1));
    cr_expect(eq(int, (int)mc_jnum(r.json, "usage.image_count_uploading.usage"), 1));
    mc_resp_free(&r);
    /* multi-store: 2.8 to 2.13 are listed */
    r = mc_call(EVHTTP_REQ_GET, "/image/versions", NULL, NULL, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "versions")), 17));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.3.id"), "v2.13"));
    mc_resp_free(&r);
    /* a single-store Glance: no stores API, no copy-image, 2.15 2.14 2.9 2.7 ... */
    configure("{}");
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/image/v2/info/stores", NULL, demo, JSON_ACCEPT), MC_IMAGE, 404,
                    "Multi backend is not supported at this site.");
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/image/v2/info/import", NULL, demo, NULL), "import-methods.value", 2);
    r = mc_call(EVHTTP_REQ_GET, "/image/versions", NULL, NULL, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "versions")), 12));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.3.id"), "v2.9"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, IMG "/" CIRROS, NULL, demo, NULL);
    cr_expect(mc_jpath(r.json, "stores") == NULL);
    mc_resp_free(&r);
    /* bad configurations are refused and leave one store */
    cJSON *bad = cJSON_Parse("{\"stores\":[{\"id\":\"a\"},{\"id\":\"b\"}]}");
    char err[200];
    cr_expect(eq(int, mc_image_configure(T.srv, bad, err, sizeof err), -1));
    cr_expect(eq(str, err, "exactly one store must be the 'default'"));
    cJSON_Delete(bad);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/info/stores", NULL, demo, NULL), 404);
    mc_assert_no_leaks();
}

Test(image_stores, upload_to_a_store_and_delete_from_one) {
    char id[64], buf[128];
    mc_resp r = mc_call(EVHTTP_REQ_GET, IMG "/" CIRROS, NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores"), "fast"));   /* fixtures: the default store */
    cr_expect(mc_jpath(r.json, "locations") == NULL);                /* show_multiple_locations off */
    mc_resp_free(&r);
    new_image(demo, id);
    mc_expect_error(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/file", id), "x", 1, "application/octet-stream", demo,
                                "X-Image-Meta-Store: slow\nAccept: application/json"),
                    MC_IMAGE, 400, "Store for identifier slow not found");
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "queued"));
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/file", id), "x", 1, "application/octet-stream", demo,
                                 "X-Image-Meta-Store: cheap"), 204);
    cr_expect(eq(str, (char *)field(demo, id, "stores", buf, sizeof buf), "cheap"));
    /* copy-image is an admin's; to a store holding the image: 409 */
    const char *cp = "{\"method\":{\"name\":\"copy-image\"},\"stores\":[\"fast\"]}";
    mc_expect_error(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), cp, demo, JSON_ACCEPT), MC_IMAGE, 403,
                    "You are not authorized to complete copy_image action.");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), "{\"method\":{\"name\":\"copy-image\"},\"stores\":[\"cheap\"]}",
                            admin, JSON_ACCEPT), MC_IMAGE, 409, "Image is already present at store 'cheap'");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), cp, admin, NULL), 202);
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_importing_to_stores", buf, sizeof buf), "fast"));
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "active"));
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), cp, admin, NULL), 409);   /* a task runs */
    mc_test_sleep_ms(200);
    cr_expect(eq(str, (char *)field(demo, id, "stores", buf, sizeof buf), "cheap,fast"));
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_importing_to_stores", buf, sizeof buf), ""));
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_failed_import", buf, sizeof buf), ""));
    /* all_stores: nothing left to copy, nothing happens */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), "{\"method\":{\"name\":\"copy-image\"},\"all_stores\":true}",
                             admin, NULL), 202);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s/tasks", id), NULL, demo, NULL), "tasks", 1);
    /* DELETE /v2/stores/{store}/{image}: admin only, never the last store */
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v2/stores/cheap/%s", id), NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v2/stores/nope/%s", id), NULL, admin, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v2/stores/cheap/%s", id), NULL, admin, NULL), 204);
    cr_expect(eq(str, (char *)field(demo, id, "stores", buf, sizeof buf), "fast"));
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v2/stores/cheap/%s", id), NULL, admin, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v2/stores/fast/%s", id), NULL, admin, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s/file", id), NULL, demo, NULL), 200);
    mc_assert_no_leaks();
}

Test(image_stores, glance_direct_to_stores_and_bad_requests) {
    char id[64], buf[128];
    new_image(demo, id);
    const char *imp = mc_pathf(IMG "/%s/import", id);
    char impbuf[256];
    snprintf(impbuf, sizeof impbuf, "%s", imp);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/stage", id), "data", 4, "application/octet-stream", demo, NULL), 204);
    static const char *const bad[] = {
        "{\"method\":{\"name\":\"glance-direct\"},\"all_stores\":true,\"stores\":[\"fast\"]}",
        "{\"method\":{\"name\":\"glance-direct\"},\"stores\":[\"slow\"]}",
        "{\"method\":{\"name\":\"glance-direct\"},\"stores\":[]}",
        "{\"method\":{\"name\":\"glance-direct\"},\"stores\":\"fast\"}",
        "{\"method\":{\"name\":\"glance-direct\"},\"all_stores\":\"yes\"}",
        "{\"method\":\"glance-direct\"}",
        "{\"method\":{\"name\":\"glance-direct\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_POST, impbuf, bad[i], demo, JSON_ACCEPT);
        cr_expect(eq(int, r.status, 400), "%s", bad[i]);
        cr_expect(eq(str, (char *)mc_jstr(r.json, "code"), "400 Bad Request"), "%s", bad[i]);
        mc_resp_free(&r);
    }
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "uploading"));
    mc_resp r = mc_call(EVHTTP_REQ_POST, impbuf, "{\"method\":{\"name\":\"glance-direct\"},\"all_stores\":true}", demo, NULL);
    cr_expect(eq(int, r.status, 202));
    mc_resp_free(&r);
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "importing"));
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_importing_to_stores", buf, sizeof buf), "cheap,fast"));
    mc_test_sleep_ms(200);
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "active"));
    cr_expect(eq(str, (char *)field(demo, id, "stores", buf, sizeof buf), "cheap,fast"));
    mc_expect_body(mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s/file", id), NULL, demo, NULL), "data");
    /* one named store */
    new_image(demo, id);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/stage", id), "d", 1, "application/octet-stream", demo, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf(IMG "/%s/import", id), "{\"method\":{\"name\":\"glance-direct\"},\"stores\":[\"cheap\"]}",
                             demo, NULL), 202);
    mc_test_sleep_ms(200);
    cr_expect(eq(str, (char *)field(demo, id, "stores", buf, sizeof buf), "cheap"));
    mc_assert_no_leaks();
}

Test(image_stores, web_download_fails_without_network_but_fetches_own_images) {
    char id[64], buf[256];
    new_image(demo, id);
    char imp[256];
    snprintf(imp, sizeof imp, IMG "/%s/import", id);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"web-download\"}}", demo, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"web-download\",\"uri\":\"ftp://x/y\"}}", demo, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp,
                             "{\"method\":{\"name\":\"web-download\",\"uri\":\"http://does-not.exist/no/possible/way\"},\"stores\":[\"fast\"]}",
                             demo, NULL), 202);
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "importing"));
    mc_test_sleep_ms(200);
    cr_expect(eq(str, (char *)field(demo, id, "status", buf, sizeof buf), "queued"));
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_failed_import", buf, sizeof buf), "fast"));
    cr_expect(eq(str, (char *)field(demo, id, "os_glance_importing_to_stores", buf, sizeof buf), ""));
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s/tasks", id), NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tasks.0.status"), "failure"));
    cr_expect(strstr(mc_jstr(r.json, "tasks.0.message"), "does-not.exist") != NULL);
    mc_resp_free(&r);
    /* mockcloud's own public image: fetched in process (the seed, not 20 MB) */
    char body[512];
    snprintf(body, sizeof body, "{\"method\":{\"name\":\"web-download\",\"uri\":\"%s/image/v2/images/" CIRROS "/file\"},\"all_stores\":true}",
             T.srv->public_url);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, body, demo, NULL), 202);
    mc_test_sleep_ms(200);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s", id), NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "checksum"), "8cee9ad95aae54617bc32d49e81aac8c"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "size"), 21430272));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "stores"), "cheap,fast"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "os_glance_failed_import"), ""));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s/file", id), NULL, demo, NULL);
    cr_expect(eq(int, (int)r.len, 21430272));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image_stores, locations_only_where_shown) {
    char id[64];
    new_image(demo, id);
    char path[256];
    snprintf(path, sizeof path, IMG "/%s", id);
    const char *add = "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"http://example.com/a.img\",\"metadata\":{}}}]";
    mc_expect_error(patch(path, add, demo), MC_IMAGE, 403,
                    "It's not allowed to add locations if locations are invisible.");
    configure("{\"show_multiple_locations\":true,\"stores\":[{\"id\":\"fast\",\"default\":true}]}");
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, demo, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "locations")), 0));
    mc_resp_free(&r);
    mc_expect_status(patch(path,
                             "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"gopher://info.cern.ch\",\"metadata\":{}}}]",
                             demo), 400);
    mc_expect_status(patch(path, "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"http://x/y\"}}]",
                             demo), 400);
    r = patch(path,
                "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"http://example.com/a.img\",\"metadata\":{\"foo\":\"bar\"},"
                "\"validation_data\":{\"checksum\":\"11111111111111111111111111111111\",\"os_hash_algo\":\"sha512\",\"os_hash_value\":\"ab\"}}}]",
                demo);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "locations.0.metadata.foo"), "bar"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "checksum"), "11111111111111111111111111111111"));
    cr_expect(mc_jpath(r.json, "locations.0.validation_data") == NULL);
    mc_resp_free(&r);
    /* a second one whose validation data disagrees: 409, nothing changes */
    mc_expect_status(patch(path,
                             "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"http://example.com/b.img\",\"metadata\":{},"
                             "\"validation_data\":{\"os_hash_algo\":\"sha256\"}}}]",
                             demo), 409);
    mc_expect_status(patch(path, "[{\"op\":\"remove\",\"path\":\"/locations/0\"}]", demo), 403);
    mc_expect_status(patch(path,
                             "[{\"op\":\"add\",\"path\":\"/locations/-\",\"value\":{\"url\":\"http://example.com/b.img\",\"metadata\":{}}}]",
                             demo), 200);
    /* replace: metadata may change, the URLs may not */
    mc_expect_status(patch(path,
                             "[{\"op\":\"replace\",\"path\":\"/locations\",\"value\":[{\"url\":\"http://example.com/a.img\",\"metadata\":{\"d\":\"1\"}},"
                             "{\"url\":\"http://example.com/b.img\",\"metadata\":{}}]}]",
                             demo), 200);
    mc_expect_status(patch(path,
                             "[{\"op\":\"replace\",\"path\":\"/locations\",\"value\":[{\"url\":\"http://example.com/a.img\",\"metadata\":{}}]}]",
                             demo), 400);
    mc_expect_status(patch(path, "[{\"op\":\"remove\",\"path\":\"/locations/5\"}]", demo), 400);
    r = patch(path, "[{\"op\":\"remove\",\"path\":\"/locations/0\"}]", demo);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "locations")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "locations.0.url"), "http://example.com/b.img"));
    mc_resp_free(&r);
    /* an upload records the store's location */
    new_image(demo, id);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf(IMG "/%s/file", id), "z", 1, "application/octet-stream", demo, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(IMG "/%s", id), NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "locations.0.metadata.store"), "fast"));
    cr_expect(strstr(mc_jstr(r.json, "locations.0.url"), "file:///var/lib/glance/fast/") != NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}
