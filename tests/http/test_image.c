/* HTTP tests of Glance v2 (image.c) and of imageapi.h, the image service's
 * interface to compute, against an in-process server. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "imageapi.h"
#include "profile.h"
#include "store.h"

#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define CIRROS52 "8d2e6b4a-1c3f-4e5a-b7d9-0f1e2a3b4c5d"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_PROJECT "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"

static char *tok;   /* demo's, for every test (a test may swap in another) */
static void setup(void) { tok = mc_test_start_as(NULL, "demo"); }
static void teardown(void) { mc_test_stop_as(&tok); }

TestSuite(image, .init = setup, .fini = teardown);
TestSuite(imageapi, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- imageapi.h */

Test(imageapi, find_fixture_image_from_any_project) {
    mc_record *img = mc_image_find(T.srv, CIRROS, DEMO_PROJECT);
    cr_assert(img != NULL);
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "name"), "cirros-0.6.2-x86_64-disk"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "status"), "active"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "visibility"), "public"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "disk_format"), "qcow2"));
    cr_expect(eq(int, (int)mc_jnum(img->doc, "size"), 21430272));
    cr_expect(eq(int, (int)mc_jnum(img->doc, "min_disk"), 0));
    cr_expect(mc_image_find(T.srv, "00000000-0000-4000-8000-000000000000", DEMO_PROJECT) == NULL);
    cr_expect(mc_image_find(T.srv, NULL, DEMO_PROJECT) == NULL);
    mc_assert_no_leaks();
}

Test(imageapi, snapshot_is_private_to_its_project_until_deleted) {
    cJSON *props = cJSON_CreateObject();
    cJSON_AddStringToObject(props, "image_type", "snapshot");
    cJSON_AddStringToObject(props, "instance_uuid", "11111111-2222-4333-8444-555555555555");
    cJSON_AddStringToObject(props, "disk_format", "qcow2");
    cJSON_AddStringToObject(props, "container_format", "bare");
    cJSON_AddNumberToObject(props, "min_disk", 1);
    cJSON_AddStringToObject(props, "status", "active");   /* read-only: ignored */
    mc_record *img = mc_image_snapshot_create(T.srv, DEMO_PROJECT, "snap-1", props);
    cJSON_Delete(props);
    cr_assert(img != NULL);
    char id[128];
    snprintf(id, sizeof id, "%s", img->id);
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "status"), "queued"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "visibility"), "private"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "owner"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "image_type"), "snapshot"));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "disk_format"), "qcow2"));
    cr_expect(eq(int, (int)mc_jnum(img->doc, "min_disk"), 1));
    cr_expect(cJSON_IsNull(mc_jpath(img->doc, "size")));
    cr_expect(mc_image_find(T.srv, id, DEMO_PROJECT) == img);
    cr_expect(mc_image_find(T.srv, id, ALT_PROJECT) == NULL);

    mc_image_set_status(T.srv, img, "saving");
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "status"), "saving"));
    mc_image_set_status(T.srv, img, "active");
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "status"), "active"));
    cr_expect(eq(int, (int)mc_jnum(img->doc, "size"), 0));
    cr_expect(eq(str, (char *)mc_jstr(img->doc, "checksum"), "d41d8cd98f00b204e9800998ecf8427e"));

    /* the API sees it too */
    char path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "snap-1"));
    mc_resp_free(&r);

    mc_image_delete(T.srv, img);
    cr_expect(mc_image_find(T.srv, id, DEMO_PROJECT) == NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL), 404);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- versions, show, delete */

Test(image, versions_is_300_with_current_v2) {
    const char *paths[] = {"/image", "/image/", "/image/v2"};
    for (size_t i = 0; i < 3; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_GET, paths[i], NULL, NULL, NULL);
        cr_expect(eq(int, r.status, 300), "%s", paths[i]);
        cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.status"), "CURRENT"));
        const char *href = mc_jstr(r.json, "versions.0.links.0.href");
        cr_assert(href != NULL);
        cr_expect(strstr(href, "/image/v2/") != NULL);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

Test(image, show_fixture_has_glance_shape) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/" CIRROS, NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "id"), CIRROS));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "self"), "/v2/images/" CIRROS));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "file"), "/v2/images/" CIRROS "/file"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/image"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "os_hash_algo"), "sha512"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hw_rng_model"), "virtio"));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "virtual_size")));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "protected")));
    cr_expect(cJSON_IsArray(mc_jpath(r.json, "tags")));
    cr_expect(mc_jpath(r.json, "data") == NULL);
    cr_expect(mc_jpath(r.json, "properties") == NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image, missing_image_is_glance_404) {
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/image/v2/images/nope", NULL, tok, NULL), MC_IMAGE, 404,
                    "No image found with ID nope");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/images/" CIRROS, NULL, NULL, NULL), 401);
    mc_assert_no_leaks();
}

Test(image, delete_needs_owner) {
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL), 403);
    free(tok);
    tok = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL), 404);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- helpers */

static char *create_image(const char *t, const char *body) { return mc_test_image(t, body, NULL, 0); }

static mc_resp patch(const char *t, const char *id, const char *ops, const char *ctype) {
    char path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    return mc_call_raw(EVHTTP_REQ_PATCH, path, ops, strlen(ops), ctype, t, NULL);
}

#define PATCH_CT "application/openstack-images-v2.1-json-patch"

static int list_count(mc_resp *r) { return cJSON_GetArraySize(mc_jpath(r->json, "images")); }

static bool list_has(mc_resp *r, const char *id) {
    cJSON *i;
    cJSON_ArrayForEach(i, mc_jpath(r->json, "images"))
        if (strcmp(mc_jstr(i, "id"), id) == 0) return true;
    return false;
}

/* ---------------------------------------------------------------- create */

Test(image, create_is_queued_shared_with_location) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v2/images",
                        "{\"name\":\"img1\",\"disk_format\":\"raw\",\"container_format\":\"bare\","
                        "\"tags\":[\"a\",\"a\",\"b\"],\"hw_disk_bus\":\"scsi\",\"min_ram\":128}", tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "queued"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "shared"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "owner"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hw_disk_bus"), "scsi"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "min_ram"), 128));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tags")), 2));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "size")));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "checksum")));
    const char *loc = mc_resp_header(&r, "Location");
    cr_assert(loc != NULL);
    cr_expect(strstr(loc, "/image/v2/images/") != NULL);
    mc_resp_free(&r);
    /* explicit id, then the same id again */
    r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"id\":\"0f0e0d0c-0b0a-4909-8807-060504030201\"}", tok, NULL);
    cr_expect(eq(int, r.status, 201));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "name")));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"id\":\"0f0e0d0c-0b0a-4909-8807-060504030201\"}", tok, NULL), 409);
    mc_assert_no_leaks();
}

Test(image, create_rejects_bad_values) {
    struct { const char *body; int status; } cases[] = {
        {"{\"disk_format\":\"floppy\"}", 400},
        {"{\"container_format\":\"tarball\"}", 400},
        {"{\"visibility\":\"everyone\"}", 400},
        {"{\"visibility\":\"public\"}", 403},          /* publicize_image is admin-only */
        {"{\"status\":\"active\"}", 403},              /* read-only */
        {"{\"size\":5}", 403},
        {"{\"deleted\":true}", 403},                   /* reserved */
        {"{\"os_glance_foo\":\"bar\"}", 403},          /* os_glance_* is Glance's namespace */
        {"{\"min_disk\":-1}", 400},
        {"{\"min_ram\":\"big\"}", 400},
        {"{\"protected\":\"yes\"}", 400},
        {"{\"tags\":\"x\"}", 400},
        {"{\"id\":\"not-a-uuid\"}", 400},
        {"{\"myprop\":5}", 400},                       /* extra properties are strings */
        {"[1,2]", 400},
        {"{bad", 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", cases[i].body, tok, NULL);
        cr_expect(eq(int, r.status, cases[i].status), "%s -> %d %s", cases[i].body, r.status, r.body);
        cr_expect(mc_jstr(r.json, "message") != NULL, "%s", cases[i].body);
        mc_resp_free(&r);
    }
    free(tok);
    tok = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"visibility\":\"public\",\"name\":\"pub\"}", tok, NULL), 201);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- upload / download */

Test(image, upload_computes_hashes_and_download_returns_bytes) {
    char *id = create_image(tok, "{\"name\":\"up\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}");
    char path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s/file", id);
    /* queued: no data yet */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL), 204);
    mc_expect_error(mc_call_raw(EVHTTP_REQ_PUT, path, "abc", 3, "application/json", tok, NULL), MC_IMAGE, 415, NULL);
    mc_resp r;
    unsigned char data[1000];
    for (size_t i = 0; i < sizeof data; i++) data[i] = (unsigned char)(i % 251);   /* includes NULs */
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, path, data, sizeof data, "application/octet-stream", tok, NULL), 204);
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "size"), 1000));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "os_hash_algo"), "sha512"));
    cr_expect(eq(sz, strlen(mc_jstr(r.json, "checksum")), 32));
    cr_expect(eq(sz, strlen(mc_jstr(r.json, "os_hash_value")), 128));
    char sum[40];
    snprintf(sum, sizeof sum, "%s", mc_jstr(r.json, "checksum"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/image/v2/images/%s/file", id);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(sz, r.len, sizeof data));
    cr_expect(eq(int, memcmp(r.body, data, sizeof data), 0));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Content-Type"), "application/octet-stream"));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Content-MD5"), sum));
    mc_resp_free(&r);
    /* a second upload to an active image conflicts */
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, path, data, 10, "application/octet-stream", tok, NULL), 409);
    free(id);
    mc_assert_no_leaks();
}

Test(image, upload_over_the_cap_is_413_and_image_stays_queued) {
    char *id = create_image(tok, "{\"name\":\"big\"}");
    T.srv->cfg.max_upload = 100;
    char path[256], data[101] = {0};
    snprintf(path, sizeof path, "/image/v2/images/%s/file", id);
    mc_resp r = mc_call_raw(EVHTTP_REQ_PUT, path, data, 101, "application/octet-stream", tok, NULL);
    cr_expect(eq(int, r.status, 413));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "title"), "Request Entity Too Large"));
    mc_resp_free(&r);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, path, data, 100, "application/octet-stream", tok, NULL), 204);
    free(id);
    mc_assert_no_leaks();
}

Test(image, fixture_download_matches_checksum) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/" CIRROS52 "/file", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(sz, r.len, 16300544));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Content-MD5"), "16de673d239e1383ccd36951d83fe30e"));
    cr_expect(eq(int, memcmp(r.body, "QFI\xfb", 4), 0));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- update (PATCH) */

Test(image, patch_add_replace_remove) {
    char *id = create_image(tok, "{\"name\":\"p\",\"color\":\"red\"}");
    mc_resp r = patch(tok, id, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"p2\"},"
                               "{\"op\":\"add\",\"path\":\"/shape\",\"value\":\"round\"},"
                               "{\"op\":\"replace\",\"path\":\"/color\",\"value\":\"blue\"},"
                               "{\"op\":\"add\",\"path\":\"/min_disk\",\"value\":2},"
                               "{\"op\":\"replace\",\"path\":\"/tags\",\"value\":[\"x\",\"y\"]},"
                               "{\"op\":\"add\",\"path\":\"/a~1b\",\"value\":\"slash\"}]", PATCH_CT);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "p2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "shape"), "round"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "color"), "blue"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "a/b"), "slash"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "min_disk"), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tags.1"), "y"));
    mc_resp_free(&r);
    r = patch(tok, id, "[{\"op\":\"remove\",\"path\":\"/color\"}]", PATCH_CT);
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jpath(r.json, "color") == NULL);
    mc_resp_free(&r);
    /* the v2.0 dialect */
    r = patch(tok, id, "[{\"replace\":\"/name\",\"value\":\"p3\"}]", "application/openstack-images-v2.0-json-patch");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "p3"));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

Test(image, patch_errors_leave_the_image_unchanged) {
    char *id = create_image(tok, "{\"name\":\"keep\"}");
    struct { const char *ops; const char *ct; int status; } cases[] = {
        {"[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"x\"}]", "application/json", 415},
        {"[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"x\"}]", NULL, 415},
        {"{\"op\":\"replace\"}", PATCH_CT, 400},
        {"not json", PATCH_CT, 400},
        {"[{\"op\":\"move\",\"path\":\"/name\",\"value\":\"x\"}]", PATCH_CT, 400},
        {"[{\"op\":\"replace\",\"path\":\"name\",\"value\":\"x\"}]", PATCH_CT, 400},
        {"[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"x\"},{\"op\":\"replace\",\"path\":\"/status\",\"value\":\"active\"}]", PATCH_CT, 403},
        {"[{\"op\":\"replace\",\"path\":\"/nope\",\"value\":\"x\"}]", PATCH_CT, 409},
        {"[{\"op\":\"remove\",\"path\":\"/nope\"}]", PATCH_CT, 409},
        {"[{\"op\":\"remove\",\"path\":\"/name\"}]", PATCH_CT, 403},
        {"[{\"op\":\"add\",\"path\":\"/os_glance_foo\",\"value\":\"bar\"}]", PATCH_CT, 403},
        {"[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"public\"}]", PATCH_CT, 403},
        {"[{\"op\":\"replace\",\"path\":\"/disk_format\",\"value\":\"bogus\"}]", PATCH_CT, 400},
        {"[{\"op\":\"replace\",\"path\":\"/name\"}]", PATCH_CT, 400},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        mc_resp r = patch(tok, id, cases[i].ops, cases[i].ct);
        cr_expect(eq(int, r.status, cases[i].status), "%s -> %d %s", cases[i].ops, r.status, r.body);
        mc_resp_free(&r);
    }
    char path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "keep"));
    mc_resp_free(&r);
    /* another project cannot patch a public image */
    mc_expect_status(patch(tok, CIRROS, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"x\"}]", PATCH_CT), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(image, disk_format_is_fixed_once_active) {
    free(tok);
    tok = mc_test_token("admin", "admin");
    mc_expect_status(patch(tok, CIRROS, "[{\"op\":\"replace\",\"path\":\"/disk_format\",\"value\":\"raw\"}]", PATCH_CT), 403);
    mc_expect_status(patch(tok, CIRROS, "[{\"op\":\"replace\",\"path\":\"/protected\",\"value\":true}]", PATCH_CT), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL), 403);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- list */

Test(image, list_default_is_newest_first_with_first_and_schema) {
    char *a = create_image(tok, "{\"name\":\"a\"}");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(int, list_count(&r), 3));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.0.id"), a));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.2.id"), CIRROS));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "first"), "/v2/images"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/images"));
    cr_expect(mc_jpath(r.json, "next") == NULL);
    mc_resp_free(&r);
    /* another project does not see demo's (shared, no members) image */
    char *alt = mc_test_token("alt_demo", "alt_demo");
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, alt, NULL);
    cr_expect(eq(int, list_count(&r), 2));
    cr_expect(mc_not(list_has(&r, a)));
    mc_resp_free(&r);
    free(alt);
    free(a);
    mc_assert_no_leaks();
}

Test(image, list_limit_marker_and_next) {
    for (int i = 0; i < 3; i++) free(create_image(tok, "{\"name\":\"pg\"}"));
    /* 5 images: pages of 2 */
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?limit=2", NULL, tok, NULL);
    cr_expect(eq(int, list_count(&r), 2));
    const char *next = mc_jstr(r.json, "next");
    cr_assert(next != NULL);
    cr_expect(strstr(next, "limit=2") != NULL);
    cr_expect(strstr(next, "marker=") != NULL);
    char url[512];
    int pages = 1, seen = 2;
    while ((next = mc_jstr(r.json, "next")) != NULL) {
        snprintf(url, sizeof url, "/image%s", next);
        mc_resp_free(&r);
        r = mc_call(EVHTTP_REQ_GET, url, NULL, tok, NULL);
        cr_assert(eq(int, r.status, 200));
        seen += list_count(&r);
        pages++;
        cr_assert(le(int, pages, 5));
    }
    cr_expect(eq(int, seen, 5));
    cr_expect(eq(int, list_count(&r), 1));
    mc_resp_free(&r);
    /* marker = the last image: an empty page */
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?marker=" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, list_count(&r), 0));
    mc_resp_free(&r);
    const char *bad[] = {"?marker=nope", "?limit=-1", "?limit=abc", "?sort_key=bogus", "?sort_dir=up",
                         "?sort=name:sideways", "?sort=name&sort_key=id", "?visibility=everyone",
                         "?member_status=maybe", "?size_min=x", "?created_at=2020", "?os_hidden=maybe"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(url, sizeof url, "/image/v2/images%s", bad[i]);
        r = mc_call(EVHTTP_REQ_GET, url, NULL, tok, NULL);
        cr_expect(eq(int, r.status, 400), "%s -> %d", bad[i], r.status);
        cr_expect(eq(str, (char *)mc_jstr(r.json, "code"), "400 Bad Request"), "%s", bad[i]);
        mc_resp_free(&r);
    }
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?limit=0", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, list_count(&r), 0));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image, list_filters) {
    char *raw = create_image(tok, "{\"name\":\"rawimg\",\"disk_format\":\"raw\",\"container_format\":\"ovf\","
                                  "\"tags\":[\"t1\",\"t2\"],\"flavor\":\"vanilla\"}");
    char *hidden = create_image(tok, "{\"name\":\"hid\",\"os_hidden\":true}");
    struct { const char *q; int count; } cases[] = {
        {"disk_format=raw", 1},
        {"disk_format=qcow2", 2},
        {"disk_format=in:raw,qcow2", 3},
        {"container_format=ovf", 1},
        {"name=cirros-0.6.2-x86_64-disk", 1},
        {"name=in:rawimg,cirros-0.5.2-x86_64-disk", 2},
        {"status=active", 2},
        {"status=queued", 1},
        {"visibility=public", 2},
        {"visibility=shared", 1},
        {"visibility=private", 0},
        {"tag=t1", 1},
        {"tag=t1&tag=t2", 1},
        {"tag=t1&tag=t3", 0},
        {"flavor=vanilla", 1},
        {"os_distro=cirros", 2},
        {"size=21430272", 1},
        {"size_min=17000000", 1},
        {"size_max=17000000", 1},
        {"size_min=16000000&size_max=22000000", 2},
        {"min_ram=64", 1},
        {"protected=false", 3},
        {"os_hidden=true", 1},
        {"owner=" DEMO_PROJECT, 1},
        {"created_at=gte:2026-11-01T09:00:30Z&created_at=lt:2099-01-01T00:00:00Z", 2},
        {"created_at=lt:2026-11-01T09:00:30Z", 1},
        {"updated_at=gt:2000-01-01T00:00:00Z", 3},
        {"id=in:" CIRROS "," CIRROS52, 2},
    };
    char url[512];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(url, sizeof url, "/image/v2/images?%s", cases[i].q);
        mc_resp r = mc_call(EVHTTP_REQ_GET, url, NULL, tok, NULL);
        cr_expect(eq(int, r.status, 200), "%s", cases[i].q);
        cr_expect(eq(int, list_count(&r), cases[i].count), "%s", cases[i].q);
        mc_resp_free(&r);
    }
    free(raw);
    free(hidden);
    mc_assert_no_leaks();
}

Test(image, list_sort_keys) {
    free(create_image(tok, "{\"name\":\"zzz\"}"));
    free(create_image(tok, "{\"name\":\"aaa\"}"));
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?sort_key=name&sort_dir=asc", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.0.name"), "aaa"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.1.name"), "cirros-0.5.2-x86_64-disk"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.3.name"), "zzz"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?sort=name:desc", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.0.name"), "zzz"));
    mc_resp_free(&r);
    /* size asc: queued images (null size) first, then by size */
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?sort_key=size&sort_dir=asc", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.2.id"), CIRROS52));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.3.id"), CIRROS));
    mc_resp_free(&r);
    /* a sorted page after a marker */
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?sort_key=name&sort_dir=asc&limit=2", NULL, tok, NULL);
    cr_expect(eq(int, list_count(&r), 2));
    char url[512];
    snprintf(url, sizeof url, "/image%s", mc_jstr(r.json, "next"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, url, NULL, tok, NULL);
    cr_expect(eq(int, list_count(&r), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.0.name"), "cirros-0.6.2-x86_64-disk"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "images.1.name"), "zzz"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image, null_id_paths_are_404) {
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/images/", NULL, tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/", NULL, tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/images", NULL, tok, NULL), 405);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- tags */

Test(image, tags_add_delete) {
    char *id = create_image(tok, "{\"name\":\"tagged\"}");
    char path[512];
    snprintf(path, sizeof path, "/image/v2/images/%s/tags/blue%%20sky", id);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, NULL, tok, NULL), 204);
    mc_resp r;
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, NULL, tok, NULL), 204);   /* idempotent */
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tags")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tags.0"), "blue sky"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/image/v2/images/%s/tags/blue%%20sky", id);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/image/v2/images/00000000-0000-4000-8000-000000000000/tags/x", NULL, tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/image/v2/images/" CIRROS "/tags/x", NULL, tok, NULL), 403);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- members and visibility */

Test(image, sharing_with_members) {
    char *alt = mc_test_token("alt_demo", "alt_demo");
    char *id = create_image(tok, "{\"name\":\"sh\",\"visibility\":\"private\"}");
    char path[512], img[256];
    snprintf(img, sizeof img, "/image/v2/images/%s", id);
    snprintf(path, sizeof path, "%s/members", img);
    /* private images have no members */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, "{\"member\":\"" ALT_PROJECT "\"}", tok, NULL), 403);
    mc_resp r;
    mc_expect_status(mc_call(EVHTTP_REQ_GET, img, NULL, alt, NULL), 404);
    mc_expect_status(patch(tok, id, "[{\"op\":\"replace\",\"path\":\"/visibility\",\"value\":\"shared\"}]", PATCH_CT), 200);
    r = mc_call(EVHTTP_REQ_POST, path, "{\"member\":\"" ALT_PROJECT "\"}", tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "pending"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "member_id"), ALT_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/member"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, "{\"member\":\"" ALT_PROJECT "\"}", tok, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, "{}", tok, NULL), 400);
    /* the member sees it (show) but not in its plain list until accepted */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, img, NULL, alt, NULL), 200);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, alt, NULL);
    cr_expect(mc_not(list_has(&r, id)));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?member_status=pending", NULL, alt, NULL);
    cr_expect(list_has(&r, id));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "%s/members/%s", img, ALT_PROJECT);
    /* only the member may accept */
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, "{\"status\":\"accepted\"}", tok, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, path, "{\"status\":\"maybe\"}", alt, NULL), 400);
    r = mc_call(EVHTTP_REQ_PUT, path, "{\"status\":\"accepted\"}", alt, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "accepted"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, alt, NULL);
    cr_expect(list_has(&r, id));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, alt, NULL), 200);
    snprintf(path, sizeof path, "%s/members", img);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "members")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/members"));
    mc_resp_free(&r);
    /* the member cannot remove itself; the owner can */
    snprintf(path, sizeof path, "%s/members/%s", img, ALT_PROJECT);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, alt, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, img, NULL, alt, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL), 404);
    free(id);
    free(alt);
    mc_assert_no_leaks();
}

Test(image, community_images_are_visible_but_not_listed_by_default) {
    char *alt = mc_test_token("alt_demo", "alt_demo");
    char *id = create_image(tok, "{\"name\":\"comm\",\"visibility\":\"community\"}");
    char img[256];
    snprintf(img, sizeof img, "/image/v2/images/%s", id);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, img, NULL, alt, NULL), 200);
    mc_resp r;
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, alt, NULL);
    cr_expect(mc_not(list_has(&r, id)));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?visibility=community", NULL, alt, NULL);
    cr_expect(list_has(&r, id));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?visibility=all", NULL, alt, NULL);
    cr_expect(list_has(&r, id));
    cr_expect(list_has(&r, CIRROS));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, tok, NULL);
    cr_expect(list_has(&r, id));
    mc_resp_free(&r);
    /* admin sees other projects' private images */
    char *id2 = create_image(alt, "{\"name\":\"priv\",\"visibility\":\"private\"}");
    char *adm = mc_test_token("admin", "admin");
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, adm, NULL);
    cr_expect(list_has(&r, id2));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, tok, NULL);
    cr_expect(mc_not(list_has(&r, id2)));
    mc_resp_free(&r);
    free(adm);
    free(id2);
    free(id);
    free(alt);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- actions, schemas */

Test(image, deactivate_blocks_download_until_reactivated) {
    char *id = create_image(tok, "{\"name\":\"d\"}");
    char path[256], file[256];
    snprintf(path, sizeof path, "/image/v2/images/%s/actions/deactivate", id);
    snprintf(file, sizeof file, "/image/v2/images/%s/file", id);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, NULL, tok, NULL), 400);   /* queued */
    mc_resp r;
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, file, "xyz", 3, "application/octet-stream", tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, file, NULL, tok, NULL), 403);
    snprintf(path, sizeof path, "/image/v2/images/%s/actions/reactivate", id);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, path, NULL, tok, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, file, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "xyz"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/image/v2/images/" CIRROS "/actions/deactivate", NULL, tok, NULL), 403);
    free(id);
    mc_assert_no_leaks();
}

Test(image, schemas) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/image", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "image"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "additionalProperties.type"), "string"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "properties.disk_format.enum.8"), "qcow2"));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "properties.status.readOnly")));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/images", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "images"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "properties.images.items.name"), "image"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.1.rel"), "next"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/member", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "member"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/members", NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "properties.members.items.name"), "member"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- deviation knobs */

static void set_knob(mc_knob_id k, long long v) { T.srv->profile->iv[k] = v; T.srv->profile->src[k] = "test-deviation"; }

Test(image, knob_saving_then_active) {
    set_knob(MC_KNOB_IMAGE_SAVING_MS, 200);
    char *id = create_image(tok, "{\"name\":\"slow\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}");
    char path[256], file[256];
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    snprintf(file, sizeof file, "/image/v2/images/%s/file", id);
    mc_resp r = mc_call_raw(EVHTTP_REQ_PUT, file, "abc", 3, "application/octet-stream", tok, NULL);
    cr_expect(eq(int, r.status, 204));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-Mockcloud-Deviations"), "test-deviation"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "saving"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, file, NULL, tok, NULL), 204);
    mc_test_sleep_ms(300);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    mc_resp_free(&r);
    mc_expect_body(mc_call(EVHTTP_REQ_GET, file, NULL, tok, NULL), "abc");
    /* an image deleted while saving: its timer goes with it */
    char *id2 = create_image(tok, "{\"name\":\"gone\"}");
    snprintf(file, sizeof file, "/image/v2/images/%s/file", id2);
    r = mc_call_raw(EVHTTP_REQ_PUT, file, "x", 1, "application/octet-stream", tok, NULL);
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/image/v2/images/%s", id2);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    mc_test_sleep_ms(300);
    free(id2);
    free(id);
    mc_assert_no_leaks();
}

Test(image, knob_default_visibility_and_size_cap) {
    free(T.srv->profile->sv[MC_KNOB_IMAGE_DEFAULT_VISIBILITY]);
    T.srv->profile->sv[MC_KNOB_IMAGE_DEFAULT_VISIBILITY] = strdup("private");
    T.srv->profile->src[MC_KNOB_IMAGE_DEFAULT_VISIBILITY] = "old-glance";
    set_knob(MC_KNOB_IMAGE_SIZE_CAP, 10);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"v\"}", tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "private"));
    char file[256];
    snprintf(file, sizeof file, "/image/v2/images/%s/file", mc_jstr(r.json, "id"));
    mc_resp_free(&r);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, file, "01234567890", 11, "application/octet-stream", tok, NULL), 413);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, file, "0123456789", 10, "application/octet-stream", tok, NULL), 204);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- import */

Test(image, glance_direct_import) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/info/import", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "import-methods.value.0"), "glance-direct"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"imp\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}",
                tok, NULL);
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-image-import-methods"), "glance-direct,web-download,copy-image"));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-image-store-ids"), "cheap,fast"));
    char id[64], path[256], stage[256], imp[256];
    snprintf(id, sizeof id, "%s", mc_jstr(r.json, "id"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    snprintf(stage, sizeof stage, "%s/stage", path);
    snprintf(imp, sizeof imp, "%s/import", path);
    /* import before staging: 409 */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"glance-direct\"}}", tok, NULL), 409);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, stage, "staged!", 7, "application/octet-stream", tok, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "uploading"));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "size")));
    mc_resp_free(&r);
    /* web-download needs a queued image, copy-image an active one (and an admin) */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"web-download\",\"uri\":\"http://x\"}}", tok, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"copy-image\"}}", tok, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"glance-download\"}}", tok, NULL), 400);
    r = mc_call(EVHTTP_REQ_POST, imp, "{\"method\":{\"name\":\"glance-direct\"}}", tok, NULL);
    cr_expect(eq(int, r.status, 202));
    char req_id[64];
    snprintf(req_id, sizeof req_id, "%s", mc_resp_header(&r, "x-openstack-request-id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "importing"));
    mc_resp_free(&r);
    mc_test_sleep_ms(200);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "status"), "active"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "size"), 7));
    cr_expect(eq(sz, strlen(mc_jstr(r.json, "checksum")), 32));
    mc_resp_free(&r);
    char tasks[300];
    snprintf(tasks, sizeof tasks, "%s/tasks", path);
    r = mc_call(EVHTTP_REQ_GET, tasks, NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tasks")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tasks.0.status"), "success"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tasks.0.request_id"), req_id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "tasks.0.input.import_req.method.name"), "glance-direct"));
    mc_resp_free(&r);
    snprintf(tasks, sizeof tasks, "%s/file", path);
    mc_expect_body(mc_call(EVHTTP_REQ_GET, tasks, NULL, tok, NULL), "staged!");
    mc_assert_no_leaks();
}

Test(image, knob_import_only_forbids_upload) {
    set_knob(MC_KNOB_IMAGE_IMPORT_ONLY, 1);
    char *id = create_image(tok, "{\"name\":\"io\"}");
    char path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s/file", id);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, path, "x", 1, "application/octet-stream", tok, NULL), 403);
    snprintf(path, sizeof path, "/image/v2/images/%s/stage", id);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_PUT, path, "x", 1, "application/octet-stream", tok, NULL), 204);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- errors by Accept (webob) */

#define MISSING "00000000-0000-4000-8000-0000000000ee"

static mc_resp get_missing(const char *accept_line) {
    return mc_call(EVHTTP_REQ_GET, "/image/v2/images/" MISSING, NULL, tok, accept_line);
}

Test(image, error_json_when_accept_asks_for_json) {
    static const char *const accepts[] = {"Accept: application/json", "Accept: application/*",
                                          "Accept: text/html;q=0.5, application/json",
                                          "Accept: */*;q=0.1, APPLICATION/JSON"};
    for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
        mc_resp r = get_missing(accepts[i]);
        cr_expect(eq(int, r.status, 404), "%s", accepts[i]);
        cr_expect(eq(str, (char *)(mc_resp_header(&r, "Content-Type") ? mc_resp_header(&r, "Content-Type") : ""),
                     "application/json"), "%s", accepts[i]);
        cr_expect(eq(str, (char *)(mc_jstr(r.json, "message") ? mc_jstr(r.json, "message") : ""),
                     "No image found with ID " MISSING "<br /><br />\n\n\n"), "%s: %s", accepts[i], r.body);
        cr_expect(eq(str, (char *)(mc_jstr(r.json, "code") ? mc_jstr(r.json, "code") : ""), "404 Not Found"));
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

Test(image, error_plain_text_without_accept) {
    /* absent (an empty Accept is the same to webob), text/plain, a range with a charset */
    static const char *const accepts[] = {"Accept:", "Accept: text/plain", "Accept: application/json; charset=utf-8",
                                          "Accept: application/octet-stream", "Accept: */*;q=0"};
    for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
        mc_resp r = get_missing(accepts[i]);
        cr_expect(eq(int, r.status, 404), "%s", accepts[i]);
        cr_expect(eq(str, (char *)(mc_resp_header(&r, "Content-Type") ? mc_resp_header(&r, "Content-Type") : ""),
                     "text/plain; charset=UTF-8"), "%s", accepts[i]);
        cr_expect(eq(str, r.body, "404 Not Found\n\nNo image found with ID " MISSING "\n\n   "), "%s", accepts[i]);
        cr_expect(mc_jstr(r.json, "message") == NULL);
        mc_resp_free(&r);
    }
    /* a route Glance does not have, and a 400 */
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/nothing", NULL, tok, "Accept:");
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(str, r.body, "404 Not Found\n\nThe resource could not be found.\n\n   "));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images?limit=-1", NULL, tok, "Accept:");
    cr_expect(eq(int, r.status, 400));
    cr_expect(eq(str, r.body, "400 Bad Request\n\nlimit param must be positive\n\n   "));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image, error_html_for_browsers_and_curl) {
    /* curl's default and a browser's: text/html wins ties (webob's offer order) */
    static const char *const accepts[] = {"Accept: */*", "Accept: text/html,application/xhtml+xml,*/*;q=0.8",
                                          "Accept: text/html;q=0.9, application/json;q=0.9", "Accept: garbage"};
    for (size_t i = 0; i < sizeof accepts / sizeof accepts[0]; i++) {
        mc_resp r = get_missing(accepts[i]);
        cr_expect(eq(int, r.status, 404), "%s", accepts[i]);
        cr_expect(eq(str, (char *)(mc_resp_header(&r, "Content-Type") ? mc_resp_header(&r, "Content-Type") : ""),
                     "text/html; charset=UTF-8"), "%s", accepts[i]);
        cr_expect(eq(str, r.body,
                     "<html>\n <head>\n  <title>404 Not Found</title>\n </head>\n <body>\n  <h1>404 Not Found</h1>\n"
                     "  No image found with ID " MISSING "<br /><br />\n\n\n\n </body>\n</html>"), "%s", accepts[i]);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

Test(image, error_text_escapes_or_strips_markup_from_the_request) {
    /* the id is the client's: escaped in HTML, its tags stripped in text */
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/%3Cb%3Ex%26y", NULL, tok, "Accept: text/html");
    cr_expect(eq(int, r.status, 404));
    cr_expect(strstr(r.body, "No image found with ID &lt;b&gt;x&amp;y<br /><br />") != NULL, "%s", r.body);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/%3Cb%3Ex%0Ay", NULL, tok, "Accept:");
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(str, r.body, "404 Not Found\n\nNo image found with ID x y\n\n   "), "%s", r.body);
    mc_resp_free(&r);
    /* other services keep their JSON whatever Accept says */
    r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers/" MISSING, NULL, tok, "Accept:");
    cr_expect(eq(int, r.status, 404));
    cr_expect(mc_jstr(r.json, "itemNotFound.message") != NULL, "%s", r.body);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- metadefs schemas */

Test(image, metadefs_schemas_carry_glance_names) {
    static const char *const paths[][2] = {
        {"namespace", "namespace"}, {"namespaces", "namespaces"}, {"resource_type", "resource_type_association"},
        {"resource_types", "resource_type_associations"}, {"object", "object"}, {"objects", "objects"},
        {"property", "property"}, {"properties", "properties"}, {"tag", "tag"}, {"tags", "tags"}};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf("/image/v2/schemas/metadefs/%s", paths[i][0]), NULL, tok, NULL);
        cr_expect(eq(int, r.status, 200), "%s", paths[i][0]);
        cr_expect(eq(str, (char *)(mc_jstr(r.json, "name") ? mc_jstr(r.json, "name") : ""), (char *)paths[i][1]));
        cr_expect(mc_jpath(r.json, "properties") != NULL, "%s", paths[i][0]);
        mc_resp_free(&r);
    }
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/metadefs/namespace", NULL, tok, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "properties.namespace.maxLength"), 80));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "required.0") ? mc_jstr(r.json, "required.0") : ""), "namespace"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/metadefs/namespaces", NULL, tok, NULL);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "properties.namespaces.items.name") ? mc_jstr(r.json, "properties.namespaces.items.name") : ""),
                 "namespace"), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/metadefs/nothing", NULL, tok, NULL), MC_IMAGE, 404,
                    "The resource could not be found.");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/schemas/metadefs/tag", NULL, NULL, NULL), 401);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- Glance v1 (image.versions_v1) */

static void v1_on(void) {
    mc_resp r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", "{\"profile\": \"conformant\", \"deviate\": [\"glance-v1-only\"]}",
                        NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
}

Test(image, v1_absent_on_a_modern_glance) {
    static const char *const paths[] = {"/image/v1/images", "/image/v1/images/detail", "/image/v1/images/" CIRROS,
                                        "/image/v1/shared-images/" DEMO_PROJECT, "/image/v1"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        mc_expect_error(mc_call(EVHTTP_REQ_GET, paths[i], NULL, tok, NULL), MC_IMAGE, 404, "The resource could not be found.");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/image/v1/images", NULL, tok, "x-image-meta-name: a"), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, "/image/v1/images/" CIRROS, NULL, tok, NULL), 404);
    /* and the versions document offers v2 only */
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "versions.0.id") ? mc_jstr(r.json, "versions.0.id") : ""), "v2.16"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(image, v1_versions_list_and_detail) {
    v1_on();
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "versions.0.id") ? mc_jstr(r.json, "versions.0.id") : ""), "v1.1"));
    cr_expect(strstr(mc_jstr(r.json, "versions.0.links.0.href") ? mc_jstr(r.json, "versions.0.links.0.href") : "", "/image/v1/") != NULL);
    mc_resp_free(&r);
    /* v2 is hidden with it */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, tok, NULL), 404);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(mc_resp_lists(&r, "glance-v1-only"));
    cJSON *imgs = mc_jpath(r.json, "images");
    cr_expect(eq(int, cJSON_GetArraySize(imgs), 2));
    /* index: the brief fields only, newest first */
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "images.0.id") ? mc_jstr(r.json, "images.0.id") : ""), CIRROS52), "%s", r.body);
    cr_expect(mc_jpath(r.json, "images.0.checksum") != NULL);
    cr_expect(mc_jpath(r.json, "images.0.status") == NULL);
    cr_expect(mc_jpath(r.json, "images.0.properties") == NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images/detail?name=cirros-0.6.2-x86_64-disk", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "images.0.id") ? mc_jstr(r.json, "images.0.id") : ""), CIRROS));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "images.0.is_public")));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "images.0.deleted")));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "images.0.status") ? mc_jstr(r.json, "images.0.status") : ""), "active"));
    cr_expect(cJSON_IsObject(mc_jpath(r.json, "images.0.properties")));
    cr_expect(mc_jpath(r.json, "images.0.properties.visibility") == NULL);
    const char *ca = mc_jstr(r.json, "images.0.created_at");
    cr_expect(ca != NULL && strlen(ca) == 26 && strcmp(ca + 19, ".000000") == 0, "%s", ca ? ca : "(null)");
    mc_resp_free(&r);
    /* filters, sort and pagination */
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images?sort_key=name&sort_dir=asc&limit=1", NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "images.0.id") ? mc_jstr(r.json, "images.0.id") : ""), CIRROS52));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images?sort_key=name&sort_dir=asc&limit=1&marker=" CIRROS52, NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "images.0.id") ? mc_jstr(r.json, "images.0.id") : ""), CIRROS));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images?size_min=20000000", NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 1));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images?is_public=false", NULL, tok, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "images")), 0), "%s", r.body);
    mc_resp_free(&r);
    /* bad input: Glance v1's 400s */
    static const char *const bad[] = {"limit=-1", "limit=x", "sort_key=owner", "sort_dir=up", "size_min=-5",
                                      "is_public=maybe", "protected=perhaps", "changes-since=yesterday",
                                      "marker=00000000-0000-4000-8000-000000000000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf("/image/v1/images/detail?%s", bad[i]), NULL, tok, NULL), MC_IMAGE,
                        400, NULL);
    mc_assert_no_leaks();
}

Test(image, v1_head_and_download) {
    v1_on();
    mc_resp r = mc_call(EVHTTP_REQ_HEAD, "/image/v1/images/" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, (int)r.len, 0));
    const char *h = mc_resp_header(&r, "x-image-meta-name");
    cr_expect(eq(str, (char *)(h ? h : ""), "cirros-0.6.2-x86_64-disk"));
    h = mc_resp_header(&r, "x-image-meta-is_public");
    cr_expect(eq(str, (char *)(h ? h : ""), "True"));
    h = mc_resp_header(&r, "x-image-meta-size");
    cr_expect(eq(str, (char *)(h ? h : ""), "21430272"));
    h = mc_resp_header(&r, "x-image-meta-checksum");
    cr_expect(eq(str, (char *)(h ? h : ""), "8cee9ad95aae54617bc32d49e81aac8c"));
    h = mc_resp_header(&r, "ETag");
    cr_expect(eq(str, (char *)(h ? h : ""), "8cee9ad95aae54617bc32d49e81aac8c"));
    h = mc_resp_header(&r, "x-image-meta-deleted");
    cr_expect(eq(str, (char *)(h ? h : ""), "False"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/images/" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, (int)r.len, 21430272));
    cr_expect(eq(int, memcmp(r.body, "QFI\xfb", 4), 0));
    h = mc_resp_header(&r, "x-image-meta-status");
    cr_expect(eq(str, (char *)(h ? h : ""), "active"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/image/v1/images/00000000-0000-4000-8000-000000000000", NULL, tok, NULL),
                    MC_IMAGE, 404, "Image with identifier 00000000-0000-4000-8000-000000000000 not found");
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, "/image/v1/images/00000000-0000-4000-8000-000000000000", NULL, tok, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v1/images/", NULL, tok, NULL), 404);   /* a blank id */
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v1/images", NULL, tok, NULL), 405);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v1/images", NULL, NULL, NULL), 401);
    mc_assert_no_leaks();
}

Test(image, v1_create_upload_update_share_delete) {
    v1_on();
    /* register with data in one call */
    mc_resp r = mc_call_raw(EVHTTP_REQ_POST, "/image/v1/images", "hello v1", 8, "application/octet-stream", tok,
                            "x-image-meta-name: v1img\nx-image-meta-disk_format: raw\nx-image-meta-container-format: bare\n"
                            "x-image-meta-property-os_distro: cirros\nx-image-meta-min-ram: 64");
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    char id[64];
    snprintf(id, sizeof id, "%s", mc_jstr(r.json, "image.id") ? mc_jstr(r.json, "image.id") : "");
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.status") ? mc_jstr(r.json, "image.status") : ""), "active"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "image.size"), 8));
    cr_expect(eq(int, (int)mc_jnum(r.json, "image.min_ram"), 64));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.checksum") ? mc_jstr(r.json, "image.checksum") : ""), "ad314fd93e2fd5e2fd533359ab8ac7b3"));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "image.is_public")));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.properties.os_distro") ? mc_jstr(r.json, "image.properties.os_distro") : ""), "cirros"));
    cr_expect(mc_resp_header(&r, "Location") != NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf("/image/v1/images/%s", id), NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "hello v1"));
    mc_resp_free(&r);
    /* the same image through v2's records: private, the property at the top */
    mc_record *rec = mc_store_find(&T.srv->world[MC_K_IMAGE], id);
    cr_assert(rec != NULL);
    cr_expect(eq(str, (char *)mc_jstr(rec->doc, "visibility"), "private"));
    cr_expect(eq(str, (char *)mc_jstr(rec->doc, "os_distro"), "cirros"));
    /* alt sees nothing until shared */
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf("/image/v1/images/%s", id), NULL, alt, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s/members/" ALT_PROJECT, id), NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf("/image/v1/images/%s", id), NULL, alt, NULL), 200);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf("/image/v1/images/%s/members", id), NULL, tok, NULL);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "members.0.member_id") ? mc_jstr(r.json, "members.0.member_id") : ""), ALT_PROJECT));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v1/shared-images/" ALT_PROJECT, NULL, alt, NULL);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "shared_images.0.image_id") ? mc_jstr(r.json, "shared_images.0.image_id") : ""), id));
    mc_resp_free(&r);
    /* alt may not change it */
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), NULL, alt, "x-image-meta-name: x"), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v1/images/%s/members/" ALT_PROJECT, id), NULL, tok, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf("/image/v1/images/%s", id), NULL, alt, NULL), 404);
    free(alt);
    /* update: name, a property, purge the others */
    r = mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), NULL, tok,
                "x-image-meta-name: renamed\nx-image-meta-property-hw_disk_bus: virtio\nx-glance-registry-purge-props: true");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.name") ? mc_jstr(r.json, "image.name") : ""), "renamed"));
    cr_expect(mc_jpath(r.json, "image.properties.os_distro") == NULL, "%s", r.body);
    cr_expect(mc_jstr(r.json, "image.properties.hw_disk_bus") != NULL);
    mc_resp_free(&r);
    /* an active image takes no more data, and keeps its formats */
    mc_expect_error(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), "x", 1, "application/octet-stream", tok, NULL),
                    MC_IMAGE, 409, "Cannot upload to an unqueued image");
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), NULL, tok, "x-image-meta-disk_format: qcow2"), 403);
    /* protected images stay */
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), NULL, tok, "x-image-meta-protected: True"), 200);
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v1/images/%s", id), NULL, tok, NULL), MC_IMAGE, 403, "Image is protected");
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), NULL, tok, "x-image-meta-protected: False"), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/image/v1/images/%s", id), NULL, tok, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, mc_pathf("/image/v1/images/%s", id), NULL, tok, NULL), 404);
    mc_assert_no_leaks();
}

Test(image, v1_register_then_upload_and_bad_headers) {
    v1_on();
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v1/images", NULL, tok, "x-image-meta-name: later\nx-image-meta-is_public: false");
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    char id[64];
    snprintf(id, sizeof id, "%s", mc_jstr(r.json, "image.id") ? mc_jstr(r.json, "image.id") : "");
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.status") ? mc_jstr(r.json, "image.status") : ""), "queued"));
    mc_resp_free(&r);
    /* a queued image has no data to give */
    mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf("/image/v1/images/%s", id), NULL, tok, NULL), MC_IMAGE, 403, NULL);
    /* data needs both formats */
    mc_expect_error(mc_call_raw(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), "abc", 3, "application/octet-stream", tok, NULL),
                    MC_IMAGE, 400, "Disk format is not specified.");
    r = mc_call_raw(EVHTTP_REQ_PUT, mc_pathf("/image/v1/images/%s", id), "abc", 3, "application/octet-stream", tok,
                    "x-image-meta-disk_format: qcow2\nx-image-meta-container_format: bare");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.status") ? mc_jstr(r.json, "image.status") : ""), "active"));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.checksum") ? mc_jstr(r.json, "image.checksum") : ""),
                 "900150983cd24fb0d6963f7d28e17f72"));
    mc_resp_free(&r);
    /* a remote location: active, no bytes fetched */
    r = mc_call(EVHTTP_REQ_POST, "/image/v1/images", NULL, tok,
                "x-image-meta-name: remote\nx-image-meta-location: http://example.com/a.iso\n"
                "x-image-meta-disk_format: iso\nx-image-meta-container_format: bare");
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "image.status") ? mc_jstr(r.json, "image.status") : ""), "active"));
    mc_resp_free(&r);
    static const struct { const char *header; int status; } bad[] = {
        {"x-image-meta-disk_format: floppy", 400}, {"x-image-meta-container_format: crate", 400},
        {"x-image-meta-min_ram: lots", 400}, {"x-image-meta-min_disk: -1", 400}, {"x-image-meta-colour: red", 400},
        {"x-image-meta-status: active", 403}, {"x-image-meta-is_public: true", 403}, {"x-image-meta-id: nope", 400},
        {"x-image-meta-property-os_glance_x: 1", 403}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_resp b = mc_call(EVHTTP_REQ_POST, "/image/v1/images", NULL, tok, bad[i].header);
        cr_expect(eq(int, b.status, bad[i].status), "%s: %d %s", bad[i].header, b.status, b.body);
        cr_expect(mc_jstr(b.json, "message") != NULL, "%s", bad[i].header);
        mc_resp_free(&b);
    }
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- image cache (2.14) */

Test(image, cache_queue_then_cached_admin_only) {
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, tok, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/image/v2/cache/" CIRROS, NULL, tok, NULL), 403);
    char *adm = mc_test_token("admin", "admin");
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, "/image/v2/cache/00000000-0000-4000-8000-000000000000", NULL, adm, NULL),
                    MC_IMAGE, 404, NULL);
    /* a queued image cannot be cached */
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"q\"}", tok, NULL);
    char id[64];
    snprintf(id, sizeof id, "%s", mc_jstr(r.json, "id") ? mc_jstr(r.json, "id") : "");
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, mc_pathf("/image/v2/cache/%s", id), NULL, adm, NULL), MC_IMAGE, 400, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/image/v2/cache/" CIRROS, NULL, adm, NULL), 202);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, adm, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "queued_images.0") ? mc_jstr(r.json, "queued_images.0") : ""), CIRROS));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "cached_images")), 0));
    mc_resp_free(&r);
    /* the prefetcher's turn */
    struct timespec ts = {1, 100000000};
    nanosleep(&ts, NULL);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, adm, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "queued_images")), 0), "%s", r.body);
    cr_expect(eq(str, (char *)(mc_jstr(r.json, "cached_images.0.image_id") ? mc_jstr(r.json, "cached_images.0.image_id") : ""), CIRROS));
    cr_expect(eq(int, (int)mc_jnum(r.json, "cached_images.0.size"), 21430272));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, "/image/v2/cache", NULL, adm, "x-image-cache-clear-target: all"), MC_IMAGE, 400, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/cache", NULL, adm, "x-image-cache-clear-target: queue"), 204);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, adm, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "cached_images")), 1), "the queue target leaves the cache");
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/cache", NULL, adm, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, adm, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "cached_images")), 0));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/image/v2/cache/" CIRROS, NULL, adm, NULL), 202);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/image/v2/cache/" CIRROS, NULL, adm, NULL), 204);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/cache", NULL, adm, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "queued_images")), 0));
    mc_resp_free(&r);
    free(adm);
    mc_assert_no_leaks();
}
