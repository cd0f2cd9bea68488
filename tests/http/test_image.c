/* HTTP tests of Glance v2 (image.c) and of imageapi.h, the image service's
 * interface to compute, against an in-process server. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "imageapi.h"
#include "store.h"

#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define CIRROS52 "8d2e6b4a-1c3f-4e5a-b7d9-0f1e2a3b4c5d"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_PROJECT "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

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
    char *tok = mc_test_token("demo", "demo"), path[256];
    snprintf(path, sizeof path, "/image/v2/images/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "snap-1"));
    mc_resp_free(&r);

    mc_image_delete(T.srv, img);
    cr_expect(mc_image_find(T.srv, id, DEMO_PROJECT) == NULL);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    mc_resp_free(&r);
    free(tok);
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
    char *tok = mc_test_token("demo", "demo");
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
    free(tok);
    mc_assert_no_leaks();
}

Test(image, missing_image_is_glance_404) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/nope", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "code"), "404 Not Found"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "title"), "Not Found"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "message"), "No image found with ID nope"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/image/v2/images/" CIRROS, NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 401));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(image, delete_needs_owner) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 403));
    mc_resp_free(&r);
    free(tok);
    tok = mc_test_token("admin", "admin");
    r = mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 204));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_DELETE, "/image/v2/images/" CIRROS, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}
