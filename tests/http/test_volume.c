/* HTTP tests of the block storage service (volume.c: Cinder v3), of Nova's
 * os-volume_attachments (compute_volumes.c) and of volapi.h/volattach.h,
 * against an in-process server. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "profile.h"
#include "store.h"
#include "volapi.h"
#include "volattach.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_PROJECT "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"
#define V "/volume/v3/" DEMO_PROJECT
#define C "/compute/v2.1"
#define NOPE "00000000-0000-4000-8000-000000000000"

static char *tok;
static void setup(void) { tok = mc_test_start_as(NULL, "demo"); }
static void teardown(void) { mc_test_stop_as(&tok); }

TestSuite(volume, .init = setup, .fini = teardown);
TestSuite(volapi, .init = setup, .fini = teardown);

static mc_resp get(const char *path) { return mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL); }
static mc_resp post(const char *path, const char *body) { return mc_call(EVHTTP_REQ_POST, path, body, tok, NULL); }
static mc_resp put(const char *path, const char *body) { return mc_call(EVHTTP_REQ_PUT, path, body, tok, NULL); }
static mc_resp del(const char *path) { return mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL); }
static mc_resp cmv(enum evhttp_cmd_type m, const char *path, const char *body, const char *mv) {
    char h[64];
    snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", mv);
    return mc_call(m, path, body, tok, h);
}

/* Creates a volume of 'size' GiB named 'name' (202); returns its id. */
static char *volume_new(const char *name, int size) {
    char body[256];
    snprintf(body, sizeof body, "{\"volume\":{\"size\":%d,\"name\":\"%s\"}}", size, name);
    mc_resp r = post(V "/volumes", body);
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.status"), "creating"));
    char *id = strdup(mc_jstr(r.json, "volume.id"));
    mc_resp_free(&r);
    return id;
}

static const char *vol_status(const char *id, char *buf, size_t n) {
    mc_resp r = get(mc_pathf(V "/volumes/%s", id));
    snprintf(buf, n, "%s", r.status == 404 ? "404" : mc_jstr(r.json, "volume.status") ? mc_jstr(r.json, "volume.status") : "?");
    mc_resp_free(&r);
    return buf;
}

static void vol_wait(const char *id, const char *status) {
    char st[32] = "";
    for (int i = 0; i < 100 && strcmp(vol_status(id, st, sizeof st), status) != 0; i++) mc_test_sleep_ms(50);
    cr_assert(eq(str, st, (char *)status), "volume %s", id);
}

static char *active_server(const char *name) {
    char *sid = mc_test_server(tok, name, NULL, NULL, NULL);
    mc_test_server_wait(tok, sid, "ACTIVE");
    return sid;
}

static void attach_ok(const char *sid, const char *vid, const char *device) {
    mc_resp r = post(mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                     mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", vid));
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachment.device"), (char *)device));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachment.id"), (char *)vid));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachment.serverId"), (char *)sid));
    cr_expect(mc_jpath(r.json, "volumeAttachment.tag") == NULL);   /* not before 2.70 */
    mc_resp_free(&r);
    vol_wait(vid, "in-use");
}

/* ---------------------------------------------------------------- service */

Test(volume, versions_documents) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/volume/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.id"), "v3.0"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.version"), "3.70"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.min_version"), "3.0"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/volume/v3/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.status"), "CURRENT"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(volume, catalog_has_volumev3_with_the_project) {
    mc_resp r = mc_test_token_issue("demo", "demo");
    cJSON *cat = mc_jpath(r.json, "token.catalog");
    int found = 0;
    cJSON *s;
    cJSON_ArrayForEach(s, cat) {
        const char *type = mc_jstr(s, "type");
        if (strcmp(type, "volumev3") != 0 && strcmp(type, "block-storage") != 0) continue;
        found++;
        const char *url = mc_jstr(s, "endpoints.0.url");
        cr_expect(strstr(url, "/volume/v3/" DEMO_PROJECT) != NULL, "%s", url);
    }
    cr_expect(eq(int, found, 2));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(volume, microversion_echoed_and_checked) {
    mc_resp r = get(V "/volumes");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "volume 3.0"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, V "/volumes", NULL, tok, "OpenStack-API-Version: volume 3.59\n");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "volume 3.59"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, V "/volumes", NULL, tok, "OpenStack-API-Version: volume latest\n");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "volume 3.70"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, V "/volumes", NULL, tok, "OpenStack-API-Version: volume 3.71\n"), MC_VOLUME,
                    406, "Version 3.71 is not supported by the API. Minimum is 3.0 and maximum is 3.70.");
    mc_expect_error(mc_call(EVHTTP_REQ_GET, V "/volumes", NULL, tok, "OpenStack-API-Version: volume 3.x\n"), MC_VOLUME,
                    400, NULL);
    /* another project's URL, and the project-less URL of 3.67 */
    mc_expect_error(get("/volume/v3/" ALT_PROJECT "/volumes"), MC_VOLUME, 400, "Malformed request url");
    mc_expect_status(get("/volume/v3/volumes"), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V "/volumes", NULL, NULL, NULL), 401);
    mc_assert_no_leaks();
}

Test(volume, create_becomes_available_and_shows_cinder_fields) {
    char *id = volume_new("v1", 2);
    vol_wait(id, "available");
    mc_resp r = get(mc_pathf(V "/volumes/%s", id));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, (int)mc_jnum(r.json, "volume.size"), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.name"), "v1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.bootable"), "false"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.volume_type"), "__DEFAULT__"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.os-vol-tenant-attr:tenant_id"), DEMO_PROJECT));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "volume.attachments")), 0));
    cr_expect(mc_jpath(r.json, "volume.updated_at") != NULL);
    cr_expect(mc_jpath(r.json, "volume.volume_type_id") == NULL);   /* 3.63 */
    cr_expect(mc_jpath(r.json, "volume.os-vol-host-attr:host") == NULL);   /* admin */
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V "/volumes/%s", id), NULL, tok, "OpenStack-API-Version: volume 3.65\n");
    cr_expect(mc_jstr(r.json, "volume.volume_type_id") != NULL);
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "volume.consumes_quota")));
    mc_resp_free(&r);
    /* display_name and description, update, metadata */
    mc_resp c = post(V "/volumes", "{\"volume\":{\"size\":1,\"display_name\":\"legacy\",\"metadata\":{\"a\":\"b\"}}}");
    cr_expect(eq(str, (char *)mc_jstr(c.json, "volume.name"), "legacy"));
    cr_expect(eq(str, (char *)mc_jstr(c.json, "volume.metadata.a"), "b"));
    mc_resp_free(&c);
    r = put(mc_pathf(V "/volumes/%s", id), "{\"volume\":{\"name\":\"renamed\",\"description\":\"d\"}}");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.name"), "renamed"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.description"), "d"));
    mc_resp_free(&r);
    r = post(mc_pathf(V "/volumes/%s/metadata", id), "{\"metadata\":{\"k\":\"v\"}}");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "metadata.k"), "v"));
    mc_resp_free(&r);
    r = get(mc_pathf(V "/volumes/%s/metadata/k", id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "meta.k"), "v"));
    mc_resp_free(&r);
    mc_expect_status(del(mc_pathf(V "/volumes/%s/metadata/k", id)), 200);
    mc_expect_error(get(mc_pathf(V "/volumes/%s/metadata/k", id)), MC_VOLUME, 404, NULL);
    /* delete: deleting, then gone */
    mc_expect_status(del(mc_pathf(V "/volumes/%s", id)), 202);
    vol_wait(id, "404");
    mc_expect_error(get(mc_pathf(V "/volumes/%s", id)), MC_VOLUME, 404, mc_pathf("Volume %s could not be found.", id));
    free(id);
    mc_assert_no_leaks();
}

Test(volume, bad_input_is_a_cinder_400) {
    const char *bad[] = {
        "{\"volume\":{\"size\":0}}", "{\"volume\":{\"size\":-1}}", "{\"volume\":{\"size\":1.5}}",
        "{\"volume\":{\"size\":\"big\"}}", "{\"volume\":{\"size\":true}}", "{\"volume\":{\"size\":3000000000}}",
        "{\"volume\":{}}", "{\"volume\":{\"size\":1,\"name\":5}}", "{\"volume\":{\"size\":1,\"metadata\":[]}}",
        "{\"volume\":{\"size\":1,\"metadata\":{\"a\":1}}}", "{\"volume\":{\"size\":1,\"availability_zone\":\"mars\"}}",
        "{\"volume\":5}", "{\"volumes\":{\"size\":1}}", "{\"volume\":{\"size\":1,\"imageRef\":\"" NOPE "\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) mc_expect_error(post(V "/volumes", bad[i]), MC_VOLUME, 400, NULL);
    mc_expect_error(post(V "/volumes", "{\"volume\": {\"size\": 1"), MC_VOLUME, 400, NULL);
    mc_expect_error(post(V "/volumes", "[1]"), MC_VOLUME, 400, NULL);
    mc_expect_error(post(V "/volumes", "{\"volume\":{\"size\":1,\"volume_type\":\"gold\"}}"), MC_VOLUME, 404,
                    "Volume type with name gold could not be found.");
    /* quota: 1000 GiB */
    mc_expect_error(post(V "/volumes", "{\"volume\":{\"size\":1001}}"), MC_VOLUME, 413, NULL);
    mc_expect_error(get(V "/volumes/" NOPE), MC_VOLUME, 404, "Volume " NOPE " could not be found.");
    mc_expect_error(put(V "/volumes/" NOPE, "{\"volume\":{}}"), MC_VOLUME, 404, NULL);
    mc_expect_error(del(V "/volumes/" NOPE), MC_VOLUME, 404, NULL);
    mc_expect_error(get(V "/volumes?limit=-1"), MC_VOLUME, 400, NULL);
    mc_expect_error(get(V "/volumes?limit=x"), MC_VOLUME, 400, NULL);
    mc_expect_error(get(V "/volumes?marker=" NOPE), MC_VOLUME, 404, NULL);
    mc_expect_error(get(V "/volumes?sort_dir=up"), MC_VOLUME, 400, NULL);
    mc_expect_error(post(V "/volumes/" NOPE "/action", "{\"os-extend\":{\"new_size\":2}}"), MC_VOLUME, 404, NULL);
    char *id = volume_new("x", 1);
    mc_expect_error(put(mc_pathf(V "/volumes/%s", id), "{\"volume\":{\"size\":5}}"), MC_VOLUME, 400, NULL);
    mc_expect_error(put(mc_pathf(V "/volumes/%s", id), "{\"volume\":{\"name\":[]}}"), MC_VOLUME, 400, NULL);
    mc_expect_error(post(mc_pathf(V "/volumes/%s/action", id), "{\"os-nothing\":{}}"), MC_VOLUME, 400, NULL);
    mc_expect_error(post(mc_pathf(V "/volumes/%s/action", id), "{}"), MC_VOLUME, 400, NULL);
    /* still creating: not deletable yet */
    mc_expect_error(del(mc_pathf(V "/volumes/%s", id)), MC_VOLUME, 400, NULL);
    vol_wait(id, "available");
    mc_expect_error(post(mc_pathf(V "/volumes/%s/action", id), "{\"os-extend\":{\"new_size\":1}}"), MC_VOLUME, 400, NULL);
    mc_expect_status(post(mc_pathf(V "/volumes/%s/action", id), "{\"os-extend\":{\"new_size\":3}}"), 202);
    mc_resp r = get(mc_pathf(V "/volumes/%s", id));
    cr_expect(eq(int, (int)mc_jnum(r.json, "volume.size"), 3));
    mc_resp_free(&r);
    mc_expect_error(post(mc_pathf(V "/volumes/%s/action", id), "{\"os-reset_status\":{\"status\":\"error\"}}"),
                    MC_VOLUME, 403, NULL);
    free(id);
    mc_assert_no_leaks();
}

Test(volume, other_projects_volume_is_404) {
    char *id = volume_new("mine", 1);
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf("/volume/v3/" ALT_PROJECT "/volumes/%s", id), NULL, alt, NULL),
                    MC_VOLUME, 404, mc_pathf("Volume %s could not be found.", id));
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/volume/v3/" ALT_PROJECT "/volumes/%s", id), NULL, alt, NULL),
                    MC_VOLUME, 404, NULL);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/volume/v3/" ALT_PROJECT "/volumes", NULL, alt, NULL), "volumes", 0);
    /* Nova will not attach it either */
    char *sid = mc_test_server(alt, "alts", NULL, NULL, NULL);
    mc_test_server_wait(alt, sid, "ACTIVE");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                            mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", id), alt, NULL),
                    MC_COMPUTE, 404, mc_pathf("Volume %s could not be found.", id));
    free(sid);
    free(alt);
    free(id);
    mc_assert_no_leaks();
}

Test(volume, list_pages_newest_first_and_filters) {
    char *ids[5];
    for (int i = 0; i < 5; i++) ids[i] = volume_new(i == 2 ? "two" : "vol", 1);
    mc_resp r = get(V "/volumes?limit=2");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "volumes")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.0.id"), ids[4]));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.1.id"), ids[3]));
    cr_expect(mc_jpath(r.json, "volumes.0.status") == NULL);   /* not detail */
    cr_expect(strstr(mc_jstr(r.json, "volumes_links.0.href"), ids[3]) != NULL);
    mc_resp_free(&r);
    r = get(mc_pathf(V "/volumes/detail?limit=2&marker=%s", ids[3]));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.0.id"), ids[2]));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.0.status"), "creating"));
    mc_resp_free(&r);
    r = get(mc_pathf(V "/volumes?marker=%s", ids[0]));   /* the last one: an empty page */
    mc_expect_count(r, "volumes", 0);
    mc_expect_count(get(V "/volumes?name=two"), "volumes", 1);
    mc_expect_count(get(V "/volumes/detail?status=creating"), "volumes", 5);
    mc_expect_count(get(V "/volumes/detail?status=available"), "volumes", 0);
    mc_expect_count(get(V "/volumes?metadata={\"a\":\"b\"}"), "volumes", 0);
    mc_expect_count(get(V "/volumes?limit=0"), "volumes", 0);
    r = get(V "/volumes?sort_dir=asc&limit=1");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.0.id"), ids[0]));
    /* a full page links to the next, keeping the query */
    cr_expect(strstr(mc_jstr(r.json, "volumes_links.0.href"), "sort_dir=asc&limit=1&marker=") != NULL);
    mc_resp_free(&r);
    /* other sort keys: sorted per request, the marker in that order */
    r = get(V "/volumes/detail?sort=id:asc");
    cr_assert(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "volumes")), 5));
    for (int i = 0; i < 4; i++)
        cr_expect(strcmp(mc_jstr(r.json, mc_pathf("volumes.%d.id", i)), mc_jstr(r.json, mc_pathf("volumes.%d.id", i + 1))) < 0);
    char mid[64];
    snprintf(mid, sizeof mid, "%s", mc_jstr(r.json, "volumes.2.id"));
    mc_resp_free(&r);
    mc_expect_count(get(mc_pathf(V "/volumes?sort_key=id&sort_dir=asc&marker=%s", mid)), "volumes", 2);
    r = get(V "/volumes/detail?sort_key=name&sort_dir=desc&limit=1");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumes.0.name"), "vol"));
    mc_resp_free(&r);
    mc_expect_error(get(V "/volumes?sort=bogus:asc"), MC_VOLUME, 400, "Invalid input received: Invalid sort key bogus");
    /* metadata as Python's dict text, as Tempest sends it */
    mc_expect_count(get(V "/volumes?metadata={'a':'b'}"), "volumes", 0);
    mc_expect_error(get(V "/volumes?metadata=[1]"), MC_VOLUME, 400, NULL);
    for (int i = 0; i < 5; i++) free(ids[i]);
    mc_assert_no_leaks();
}

Test(volume, types_limits_quotas) {
    mc_resp r = get(V "/types");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume_types.0.name"), "__DEFAULT__"));
    char tid[64];
    snprintf(tid, sizeof tid, "%s", mc_jstr(r.json, "volume_types.0.id"));
    mc_resp_free(&r);
    r = get(mc_pathf(V "/types/%s", tid));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume_type.name"), "__DEFAULT__"));
    mc_resp_free(&r);
    mc_expect_status(get(V "/types/default"), 200);
    mc_expect_error(get(V "/types/" NOPE), MC_VOLUME, 404, NULL);
    char *id = volume_new("q", 3);
    r = get(V "/limits");
    cr_expect(eq(int, (int)mc_jnum(r.json, "limits.absolute.totalVolumesUsed"), 1));
    cr_expect(eq(int, (int)mc_jnum(r.json, "limits.absolute.totalGigabytesUsed"), 3));
    cr_expect(eq(int, (int)mc_jnum(r.json, "limits.absolute.maxTotalVolumes"), 10));
    mc_resp_free(&r);
    r = get(V "/os-quota-sets/" DEMO_PROJECT "?usage=true");
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.gigabytes.in_use"), 3));
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.gigabytes.limit"), 1000));
    mc_resp_free(&r);
    r = get(V "/os-quota-sets/" DEMO_PROJECT "/defaults");
    cr_expect(eq(int, (int)mc_jnum(r.json, "quota_set.volumes"), 10));
    mc_resp_free(&r);
    mc_expect_error(get(V "/os-quota-sets/" ALT_PROJECT), MC_VOLUME, 403, NULL);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- Nova's attachments */

Test(volume, attach_list_show_detach_through_nova) {
    char *sid = active_server("att");
    char *v1 = volume_new("one", 1), *v2 = volume_new("two", 2);
    vol_wait(v1, "available");
    vol_wait(v2, "available");
    attach_ok(sid, v1, "/dev/vdb");
    attach_ok(sid, v2, "/dev/vdc");
    /* Cinder's side */
    mc_resp r = get(mc_pathf(V "/volumes/%s", v1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.attachments.0.server_id"), sid));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.attachments.0.device"), "/dev/vdb"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.attachments.0.id"), v1));
    mc_resp_free(&r);
    /* Nova's, by microversion */
    r = get(mc_pathf(C "/servers/%s/os-volume_attachments", sid));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "volumeAttachments")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachments.0.volumeId"), v1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachments.1.device"), "/dev/vdc"));
    mc_resp_free(&r);
    r = cmv(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v2), NULL, "2.79");
    cr_expect(eq(int, r.status, 200));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "volumeAttachment.tag")));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "volumeAttachment.delete_on_termination")));
    cr_expect(mc_jpath(r.json, "volumeAttachment.attachment_id") == NULL);
    mc_resp_free(&r);
    r = cmv(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v2), NULL, "2.89");
    cr_expect(mc_jpath(r.json, "volumeAttachment.id") == NULL);
    cr_expect(mc_jstr(r.json, "volumeAttachment.attachment_id") != NULL);
    cr_expect(mc_jstr(r.json, "volumeAttachment.bdm_uuid") != NULL);
    mc_resp_free(&r);
    r = cmv(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s", sid), NULL, "2.3");
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "server.os-extended-volumes:volumes_attached")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.os-extended-volumes:volumes_attached.0.id"), v1));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "server.os-extended-volumes:volumes_attached.0.delete_on_termination")));
    mc_resp_free(&r);
    /* attached: cannot be attached again, nor deleted */
    mc_expect_error(post(mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                         mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", v1)),
                    MC_COMPUTE, 400, NULL);
    mc_expect_error(del(mc_pathf(V "/volumes/%s", v1)), MC_VOLUME, 400, NULL);
    /* detach: detaching, then available, gone from both sides */
    mc_expect_status(del(mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v1)), 202);
    char st[32];
    cr_expect(eq(str, (char *)vol_status(v1, st, sizeof st), "detaching"));
    mc_expect_error(del(mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v1)), MC_COMPUTE, 400, NULL);
    vol_wait(v1, "available");
    mc_expect_count(get(mc_pathf(C "/servers/%s/os-volume_attachments", sid)), "volumeAttachments", 1);
    r = get(mc_pathf(C "/servers/%s", sid));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "server.os-extended-volumes:volumes_attached")), 1));
    mc_resp_free(&r);
    mc_expect_error(get(mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v1)), MC_COMPUTE, 404, NULL);
    mc_expect_error(del(mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, v1)), MC_COMPUTE, 404, NULL);
    /* the freed /dev/vdb is given again */
    attach_ok(sid, v1, "/dev/vdb");
    free(v1);
    free(v2);
    free(sid);
    mc_assert_no_leaks();
}

Test(volume, attach_bad_input_and_states) {
    char *building = mc_test_server(tok, "building", NULL, NULL, NULL);
    const char *path = mc_pathf(C "/servers/%s/os-volume_attachments", building);
    char p[256];
    snprintf(p, sizeof p, "%s", path);
    mc_test_server_wait(tok, building, "ACTIVE");
    /* a volume still creating is not available */
    char *vid = volume_new("v", 1);
    mc_expect_error(post(p, mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", vid)), MC_COMPUTE, 400, NULL);
    vol_wait(vid, "available");
    mc_expect_error(post(p, "{\"volumeAttachment\":{\"volumeId\":\"" NOPE "\"}}"), MC_COMPUTE, 404,
                    "Volume " NOPE " could not be found.");
    mc_expect_error(post(p, "{\"volumeAttachment\":{\"volumeId\":\"not-a-uuid\"}}"), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, "{\"volumeAttachment\":{\"volumeId\":5}}"), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, "{\"volumeAttachment\":{}}"), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, "{\"volumeAttachment\":[]}"), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, "{}"), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, "{\"volumeAttachment\": "), MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"device\":\"vdb\"}}", vid)),
                    MC_COMPUTE, 400, NULL);
    mc_expect_error(post(p, mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"extra\":1}}", vid)), MC_COMPUTE,
                    400, NULL);
    /* tag before 2.49, delete_on_termination before 2.79: unknown members */
    mc_expect_error(post(p, mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"tag\":\"t\"}}", vid)), MC_COMPUTE,
                    400, NULL);
    mc_expect_error(cmv(EVHTTP_REQ_POST, p,
                        mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"tag\":\"a/b\"}}", vid), "2.70"),
                    MC_COMPUTE, 400, NULL);
    mc_expect_error(post(mc_pathf(C "/servers/%s/os-volume_attachments", NOPE),
                         mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", vid)),
                    MC_COMPUTE, 404, NULL);
    /* tag and delete_on_termination at 2.79 */
    mc_resp r = cmv(EVHTTP_REQ_POST, p,
                    mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"tag\":\"data\",\"delete_on_termination\":true}}", vid),
                    "2.79");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachment.tag"), "data"));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "volumeAttachment.delete_on_termination")));
    mc_resp_free(&r);
    /* still attaching: detach is refused */
    mc_expect_error(del(mc_pathf(C "/servers/%s/os-volume_attachments/%s", building, vid)), MC_COMPUTE, 400, NULL);
    vol_wait(vid, "in-use");
    /* 2.85 update of delete_on_termination */
    mc_expect_status(cmv(EVHTTP_REQ_PUT, mc_pathf(C "/servers/%s/os-volume_attachments/%s", building, vid),
                         mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"delete_on_termination\":false}}", vid),
                         "2.85"),
                     202);
    r = cmv(EVHTTP_REQ_GET, mc_pathf(C "/servers/%s/os-volume_attachments/%s", building, vid), NULL, "2.85");
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "volumeAttachment.delete_on_termination")));
    mc_resp_free(&r);
    /* swap is admin only */
    mc_expect_error(put(mc_pathf(C "/servers/%s/os-volume_attachments/%s", building, vid),
                        "{\"volumeAttachment\":{\"volumeId\":\"" NOPE "\"}}"),
                    MC_COMPUTE, 403, NULL);
    free(building);
    free(vid);
    mc_assert_no_leaks();
}

Test(volume, attach_to_a_building_server_is_409) {
    char *vid = volume_new("v", 1);
    vol_wait(vid, "available");
    mc_test_profile(NULL, "[\"slow-boot=5000\"]");
    char *sid = mc_test_server(tok, "slow", NULL, NULL, NULL);
    mc_expect_error(post(mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                         mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", vid)),
                    MC_COMPUTE, 409, mc_pathf("Cannot 'attach_volume' instance %s while it is in vm_state building", sid));
    char st[32];
    cr_expect(eq(str, (char *)vol_status(vid, st, sizeof st), "available"));
    free(sid);
    free(vid);
    mc_assert_no_leaks();
}

Test(volume, server_delete_detaches_and_deletes_on_termination) {
    char *sid = active_server("del");
    char *keep = volume_new("keep", 1), *gone = volume_new("gone", 1);
    vol_wait(keep, "available");
    vol_wait(gone, "available");
    attach_ok(sid, keep, "/dev/vdb");
    mc_resp r = cmv(EVHTTP_REQ_POST, mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                    mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\",\"delete_on_termination\":true}}", gone), "2.79");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
    vol_wait(gone, "in-use");
    mc_expect_status(del(mc_pathf(C "/servers/%s", sid)), 204);
    mc_test_server_wait(tok, sid, "404");
    vol_wait(keep, "available");
    vol_wait(gone, "404");
    free(sid);
    free(keep);
    free(gone);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- volapi.h */

Test(volapi, server_disks_in_attachment_order) {
    char *sid = active_server("disks");
    char *a = volume_new("a", 1), *b = volume_new("b", 3);
    vol_wait(a, "available");
    vol_wait(b, "available");
    mc_vol_disk d[4];
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, sid, d, 4), 0));
    attach_ok(sid, b, "/dev/vdb");
    attach_ok(sid, a, "/dev/vdc");
    size_t n = mc_volume_server_disks(T.srv, sid, d, 4);
    cr_assert(eq(sz, n, 2));
    cr_expect(eq(str, (char *)d[0].volume_id, b));
    cr_expect(eq(str, (char *)d[0].device, "/dev/vdb"));
    cr_expect(eq(u64, d[0].size_bytes, 3ULL << 30));
    cr_expect(eq(str, (char *)d[1].volume_id, a));
    cr_expect(eq(str, (char *)d[1].device, "/dev/vdc"));
    cr_expect(eq(u64, d[1].size_bytes, 1ULL << 30));
    /* max bounds what is written, not the count */
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, sid, d, 1), 2));
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, "no-such-server", d, 4), 0));
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, NULL, d, 4), 0));
    /* the guest sees the disk until the detach completes */
    mc_expect_status(del(mc_pathf(C "/servers/%s/os-volume_attachments/%s", sid, b)), 202);
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, sid, d, 4), 2));
    vol_wait(b, "available");
    n = mc_volume_server_disks(T.srv, sid, d, 4);
    cr_expect(eq(sz, n, 1));
    cr_expect(eq(str, (char *)d[0].device, "/dev/vdc"));
    free(a);
    free(b);
    free(sid);
    mc_assert_no_leaks();
}

Test(volapi, guest_device_shift_deviation) {
    char *sid = active_server("shift");
    char *a = volume_new("a", 1);
    vol_wait(a, "available");
    mc_test_profile(NULL, "[\"volume-device-name-ignored\"]");
    mc_resp r = post(mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                     mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", a));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volumeAttachment.device"), "/dev/vdb"));
    cr_expect(mc_resp_lists(&r, "volume-device-name-ignored"));
    mc_resp_free(&r);
    vol_wait(a, "in-use");
    mc_vol_disk d[2];
    cr_assert(eq(sz, mc_volume_server_disks(T.srv, sid, d, 2), 1));
    cr_expect(eq(str, (char *)d[0].device, "/dev/vdc"));
    free(a);
    free(sid);
    mc_assert_no_leaks();
}

Test(volapi, attach_slow_deviation_stays_attaching) {
    char *sid = active_server("slow");
    char *a = volume_new("a", 1);
    vol_wait(a, "available");
    mc_test_profile(NULL, "[\"volume-attach-slow\"]");
    mc_resp r = post(mc_pathf(C "/servers/%s/os-volume_attachments", sid),
                     mc_pathf("{\"volumeAttachment\":{\"volumeId\":\"%s\"}}", a));
    mc_expect_deviation(r, 200, "volume-attach-slow");
    mc_test_sleep_ms(500);
    char st[32];
    cr_expect(eq(str, (char *)vol_status(a, st, sizeof st), "attaching"));
    mc_vol_disk d[2];
    cr_expect(eq(sz, mc_volume_server_disks(T.srv, sid, d, 2), 0));
    free(a);
    free(sid);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- Nova's os-volumes proxy */

Test(volume, nova_os_volumes_proxy_up_to_2_35) {
    mc_resp r = post(C "/os-volumes", "{\"volume\":{\"size\":1,\"display_name\":\"px\",\"metadata\":{\"k\":\"v\"}}}");
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    char id[64];
    snprintf(id, sizeof id, "%s", mc_jstr(r.json, "volume.id"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.displayName"), "px"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.status"), "creating"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.volumeType"), "__DEFAULT__"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.metadata.k"), "v"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "volume.attachments.0")), 0));   /* Nova's [{}] */
    mc_resp_free(&r);
    vol_wait(id, "available");   /* the same volume in Cinder */
    r = get(mc_pathf(C "/os-volumes/%s", id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.status"), "available"));
    mc_resp_free(&r);
    mc_expect_count(get(C "/os-volumes/detail"), "volumes", 1);
    mc_expect_count(get(C "/os-volumes?limit=1&offset=1"), "volumes", 0);
    /* attached: listed with its server */
    char *sid = active_server("px");
    attach_ok(sid, id, "/dev/vdb");
    r = get(mc_pathf(C "/os-volumes/%s", id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "volume.attachments.0.serverId"), sid));
    mc_resp_free(&r);
    mc_expect_error(del(mc_pathf(C "/os-volumes/%s", id)), MC_COMPUTE, 400, NULL);
    /* bad input, unknown ids, gone after 2.35 */
    const char *bad[] = {"{\"volume\":{\"size\":0}}", "{\"volume\":{\"size\":\"#$%\"}}", "{\"volume\":{\"size\":\"\"}}",
                         "{\"volume\":{}}", "{\"volume\":{\"size\":1,\"bogus\":1}}", "{}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) mc_expect_error(post(C "/os-volumes", bad[i]), MC_COMPUTE, 400, NULL);
    mc_expect_error(get(C "/os-volumes/" NOPE), MC_COMPUTE, 404, "Volume " NOPE " could not be found.");
    mc_expect_error(del(C "/os-volumes/" NOPE), MC_COMPUTE, 404, NULL);
    mc_expect_error(get(C "/os-volumes/"), MC_COMPUTE, 404, NULL);
    mc_expect_error(del(C "/os-volumes/"), MC_COMPUTE, 404, NULL);
    mc_expect_error(cmv(EVHTTP_REQ_GET, C "/os-volumes", NULL, "2.36"), MC_COMPUTE, 404, NULL);
    mc_expect_status(cmv(EVHTTP_REQ_GET, C "/os-volumes", NULL, "2.35"), 200);
    /* Cinder's create reply has no extension attributes; show has */
    r = post(V "/volumes", "{\"volume\":{\"size\":1}}");
    cr_expect(mc_jpath(r.json, "volume.os-vol-tenant-attr:tenant_id") == NULL);
    mc_resp_free(&r);
    free(sid);
    mc_assert_no_leaks();
}
