/* HTTP tests of catalogue deviations applied by their id (issue 5): each
 * test switches the deviation on through the control API, shows its effect
 * through the emulated API, and shows the reference behaviour without it
 * (back to conformant, or a conformant call compared side by side). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util.h"

#define PRIVATE_NET "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e"
#define PUBKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyMockKeyMockKeyMockKeyMockKey00 demo@mockcloud"

static char *tok;
static void setup(void) {
    signal(SIGPIPE, SIG_IGN);
    tok = mc_test_start_as(NULL, "demo");
}
static void teardown(void) { mc_test_stop_as(&tok); }

TestSuite(deviations, .init = setup, .fini = teardown);

static void deviate(const char *ids_json) { mc_test_profile(NULL, ids_json); }

static mc_resp get(const char *path) { return mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL); }

/* "{prefix}{id}{suffix}" for the next call. */
static const char *pth(const char *prefix, const char *id, const char *suffix) {
    return mc_pathf("%s%s%s", prefix, id, suffix);
}

static char *boot(const char *name, const char *networks) { return mc_test_server(tok, name, NULL, networks, NULL); }

static const char *status_of(const char *id, char *buf, size_t n) { return mc_test_server_status(tok, id, buf, n); }

/* An ACTIVE server with key pair "mykey" and user data "hello", as a guest sees it. */
static char *boot_guest(const char *name, const char *networks, bool config_drive) {
    mc_test_keypair(tok, "mykey", PUBKEY);
    char *id = mc_test_server(tok, name, NULL, networks,
                              config_drive ? "\"key_name\":\"mykey\",\"user_data\":\"aGVsbG8=\",\"config_drive\":true"
                                           : "\"key_name\":\"mykey\",\"user_data\":\"aGVsbG8=\",\"config_drive\":false");
    mc_test_server_wait(tok, id, "ACTIVE");
    return id;
}

static mc_resp md(const char *id, const char *suffix) {
    return mc_call(EVHTTP_REQ_GET, pth("/metadata/", id, suffix), NULL, NULL, NULL);
}

/* ---------------------------------------------------------------- latency, discovery, extensions */

Test(deviations, jittery_api) {
    double t0 = mc_now();
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(lt(dbl, mc_now() - t0, 0.15), "the reference answers at once");
    cr_expect(mc_not(mc_resp_lists(&r, "jittery-api")));
    mc_resp_free(&r);
    deviate("[\"jittery-api=150\"]");
    double lo = 10, hi = 0;
    for (int i = 0; i < 6; i++) {
        t0 = mc_now();
        r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
        double dt = mc_now() - t0;
        cr_expect(eq(int, r.status, 200));
        cr_expect(mc_resp_lists(&r, "jittery-api"));
        mc_resp_free(&r);
        if (dt < lo) lo = dt;
        if (dt > hi) hi = dt;
    }
    cr_expect(lt(dbl, hi, 0.5), "bounded by the jitter (plus a loaded machine)");
    cr_expect(gt(dbl, hi - lo, 0.005), "latencies vary: %f..%f", lo, hi);
    mc_assert_no_leaks();
}

Test(deviations, compute_microversion_2_1) {
    const char *h = "OpenStack-API-Version: compute 2.26\n";
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors", NULL, tok, h);
    cr_expect(eq(int, r.status, 200), "the reference accepts 2.26");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "compute 2.26"));
    mc_resp_free(&r);
    deviate("[\"compute-microversion-2.1\"]");
    r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors", NULL, tok, h);
    cr_expect(eq(int, r.status, 406), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "notAcceptable.code"), 406));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors", NULL, tok, "OpenStack-API-Version: compute latest\n");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "OpenStack-API-Version"), "compute 2.1"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(deviations, no_security_groups) {
    mc_expect_status(get("/network/v2.0/security-groups"), 200);   /* the reference has security groups */
    mc_resp r;
    mc_expect_status(get("/network/v2.0/extensions/security-group"), 200);
    deviate("[\"no-security-groups\"]");
    mc_expect_deviation(get("/network/v2.0/security-groups"), 404, "no-security-groups");
    mc_expect_status(get("/network/v2.0/extensions/security-group"), 404);
    r = get("/network/v2.0/extensions");
    cJSON *e;
    cJSON_ArrayForEach(e, mc_jpath(r.json, "extensions")) {
        cr_expect(mc_not(mc_str_eq(mc_jstr(e, "alias"), "security-group")));
        cr_expect(mc_not(mc_str_eq(mc_jstr(e, "alias"), "port-security")));
    }
    cr_expect(gt(int, cJSON_GetArraySize(mc_jpath(r.json, "extensions")), 0));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- compute timing */

Test(deviations, slow_boot) {
    deviate("[\"slow-boot=5000\"]");
    char *slow = boot("slow", NULL);
    deviate("[]");
    char *ref = boot("ref", NULL);
    char st[32];
    cr_expect(eq(str, (char *)status_of(slow, st, sizeof st), "BUILD"));
    mc_test_sleep_ms(500);   /* the reference compute.build_ms is 300 */
    cr_expect(eq(str, (char *)status_of(ref, st, sizeof st), "ACTIVE"), "the reference is ACTIVE");
    cr_expect(eq(str, (char *)status_of(slow, st, sizeof st), "BUILD"), "slow-boot is still building");
    free(slow);
    free(ref);
    mc_assert_no_leaks();
}

Test(deviations, delete_lingers) {
    char *a = boot("linger", NULL), *b = boot("ref", NULL);
    mc_test_server_wait(tok, a, "ACTIVE");
    mc_test_server_wait(tok, b, "ACTIVE");
    deviate("[\"delete-lingers=5000\"]");
    mc_expect_deviation(mc_call(EVHTTP_REQ_DELETE, pth("/compute/v2.1/servers/", a, ""), NULL, tok, NULL), 204, "delete-lingers");
    mc_resp r;
    deviate("[]");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, pth("/compute/v2.1/servers/", b, ""), NULL, tok, NULL), 204);
    mc_test_sleep_ms(300);   /* the reference compute.delete_ms is 100 */
    mc_expect_status(get(pth("/compute/v2.1/servers/", b, "")), 404);   /* the reference is gone */
    r = get(pth("/compute/v2.1/servers/", a, ""));
    cr_expect(eq(int, r.status, 200), "delete-lingers keeps it");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-EXT-STS:task_state"), "deleting"), "%s", r.body);
    mc_resp_free(&r);
    free(a);
    free(b);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- metadata */

Test(deviations, key_pair_not_injected) {
    char *id = boot_guest("kp", "\"none\"", false);
    mc_resp r = md(id, "/openstack/latest/meta_data.json");
    cr_expect(eq(str, (char *)mc_jstr(r.json, "public_keys.mykey"), PUBKEY), "the reference");
    mc_resp_free(&r);
    mc_expect_status(md(id, "/latest/meta-data/public-keys/0/openssh-key"), 200);
    deviate("[\"key-pair-not-injected\"]");
    r = md(id, "/openstack/latest/meta_data.json");
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jpath(r.json, "public_keys") == NULL, "%s", r.body);
    cr_expect(mc_resp_lists(&r, "key-pair-not-injected"));
    mc_resp_free(&r);
    mc_expect_status(md(id, "/latest/meta-data/public-keys/0/openssh-key"), 404);
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, user_data_ignored) {
    char *id = boot_guest("ud", "\"none\"", false);
    mc_resp r = md(id, "/openstack/latest/user_data");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "hello"), "the reference serves the decoded bytes");
    mc_resp_free(&r);
    char h[128];
    snprintf(h, sizeof h, "X-Instance-ID: %s\n", id);
    mc_expect_body(mc_call(EVHTTP_REQ_GET, "/openstack/latest/user_data", NULL, NULL, h), "hello");   /* the reference, addressed by header */
    deviate("[\"user-data-ignored\"]");
    mc_expect_deviation(md(id, "/openstack/latest/user_data"), 404, "user-data-ignored");
    mc_expect_status(md(id, "/latest/user-data"), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/openstack/latest/user_data", NULL, NULL, h), 404);   /* addressed by header as a guest does, as well */
    mc_expect_status(md(id, "/openstack/latest/meta_data.json"), 200);   /* the rest of the metadata is served */
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, user_data_not_decoded) {
    char *id = boot_guest("ud", "\"none\"", false);
    mc_expect_body(md(id, "/openstack/latest/user_data"), "hello");   /* the reference */
    mc_resp r;
    deviate("[\"user-data-not-decoded\"]");
    r = md(id, "/openstack/latest/user_data");
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "aGVsbG8="));
    cr_expect(mc_resp_lists(&r, "user-data-not-decoded"));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, metadata_ec2_only) {
    char *id = boot_guest("ec2", "\"none\"", false);
    mc_expect_status(md(id, "/openstack/latest/meta_data.json"), 200);   /* the reference serves the OpenStack tree */
    mc_resp r;
    deviate("[\"metadata-ec2-only\"]");
    mc_expect_deviation(md(id, "/openstack/latest/meta_data.json"), 404, "metadata-ec2-only");
    r = md(id, "/latest/meta-data/instance-id");
    cr_expect(eq(int, r.status, 200), "the EC2 tree stays");
    cr_expect(eq(int, strncmp(r.body, "i-", 2), 0));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, metadata_late) {
    char *id = boot_guest("late", "\"none\"", false);
    mc_expect_status(md(id, "/openstack/latest/meta_data.json"), 200);   /* the reference answers right after ACTIVE */
    deviate("[\"metadata-late\"]");
    mc_expect_deviation(md(id, "/openstack/latest/meta_data.json"), 503, "metadata-late");
    mc_expect_status(md(id, "/latest/meta-data/instance-id"), 503);
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, config_drive_forced) {
    char *id = boot_guest("nodrive", "\"none\"", false);
    mc_expect_status(md(id, "/config-drive"), 404);   /* the reference: no drive unless asked */
    mc_resp r;
    deviate("[\"config-drive-forced\"]");
    r = md(id, "/config-drive");
    cr_expect(eq(int, r.status, 200));
    cr_expect(gt(sz, r.len, 32768), "an ISO image");
    cr_expect(mc_resp_lists(&r, "config-drive-forced"));
    mc_resp_free(&r);
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, config_drive_unavailable) {
    char *id = boot_guest("drive", "\"none\"", true);
    mc_expect_status(md(id, "/config-drive"), 200);   /* the reference attaches the drive asked for */
    deviate("[\"config-drive-unavailable\"]");
    mc_expect_deviation(md(id, "/config-drive"), 404, "config-drive-unavailable");
    free(id);
    mc_assert_no_leaks();
}

Test(deviations, network_data_missing) {
    char *id = boot_guest("net", "[{\"uuid\":\"" PRIVATE_NET "\"}]", false);
    mc_resp r = md(id, "/openstack/latest/network_data.json");
    cr_expect(eq(int, r.status, 200), "the reference");
    cr_expect(mc_jstr(r.json, "networks.0.ip_address") != NULL, "%s", r.body);
    mc_resp_free(&r);
    deviate("[\"network-data-missing\"]");
    mc_expect_deviation(md(id, "/openstack/latest/network_data.json"), 404, "network-data-missing");
    mc_expect_status(md(id, "/openstack/latest/meta_data.json"), 200);
    free(id);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- image */

/* A raw/bare image named 'name', with 'len' bytes of 'data' uploaded (NULL: none). */
static char *new_image(const char *name, const char *data, size_t len) {
    return mc_test_image(tok, mc_pathf("{\"name\":\"%s\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}", name),
                         data, len);
}

static const char *image_status(const char *id, char *buf, size_t n) {
    mc_resp r = get(pth("/image/v2/images/", id, ""));
    snprintf(buf, n, "%s", mc_jstr(r.json, "status") ? mc_jstr(r.json, "status") : "?");
    mc_resp_free(&r);
    return buf;
}

Test(deviations, image_slow_saving) {
    char st[32];
    char *ref = new_image("ref", "abc", 3);
    cr_expect(eq(str, (char *)image_status(ref, st, sizeof st), "active"), "the reference is active at once");
    deviate("[\"image-slow-saving=5000\"]");
    char *slow = new_image("slow", "abc", 3);
    cr_expect(eq(str, (char *)image_status(slow, st, sizeof st), "saving"));
    mc_expect_status(get(pth("/image/v2/images/", slow, "/file")), 204);   /* no data while saving */
    free(slow);
    free(ref);
    mc_assert_no_leaks();
}

Test(deviations, image_default_private) {
    char *ref = new_image("ref", NULL, 0);
    mc_resp r = get(pth("/image/v2/images/", ref, ""));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "shared"), "the reference (since Pike)");
    mc_resp_free(&r);
    deviate("[\"image-default-private\"]");
    r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"old\"}", tok, NULL);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "private"));
    cr_expect(mc_resp_lists(&r, "image-default-private"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"explicit\",\"visibility\":\"shared\"}", tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "shared"), "an explicit visibility still wins");
    mc_resp_free(&r);
    free(ref);
    mc_assert_no_leaks();
}

Test(deviations, image_size_cap) {
    char *ref = new_image("ref", "0123456789a", 11);   /* the reference takes it */
    deviate("[\"image-size-cap=10\"]");
    char *big = new_image("big", NULL, 0);
    mc_expect_deviation(mc_call_raw(EVHTTP_REQ_PUT, pth("/image/v2/images/", big, "/file"), "0123456789a", 11,
                            "application/octet-stream", tok, NULL), 413, "image-size-cap");
    char st[32];
    cr_expect(eq(str, (char *)image_status(big, st, sizeof st), "queued"), "the record stays, without data");
    char *small = new_image("small", "0123456789", 10);   /* at the cap is fine */
    free(small);
    free(big);
    free(ref);
    mc_assert_no_leaks();
}

#define DEV_CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
/* server-ids-not-uuid: the reference gives servers UUIDs; the deviation
 * integers (1, the default value) or EC2-style ids (2), which every compute
 * and network call still takes. */
Test(deviations, server_ids_not_uuid) {
    char *ref = mc_test_server(tok, "ref", NULL, NULL, NULL);
    cr_expect(mc_is_uuid(ref), "the reference: %s", ref);
    deviate("[\"server-ids-not-uuid\"]");
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers",
                        "{\"server\":{\"name\":\"old\",\"flavorRef\":\"42\",\"imageRef\":\"" DEV_CIRROS "\","
                        "\"networks\":[{\"uuid\":\"" PRIVATE_NET "\"}]}}", tok, NULL);
    cr_assert(eq(int, r.status, 202), "%s", r.body);
    cr_expect(mc_resp_lists(&r, "server-ids-not-uuid"));
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    cr_expect(eq(str, id, "10002"), "10000 + the instance number");
    cr_expect(mc_not(mc_is_uuid(id)));
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_expect_count(get(pth("/network/v2.0/ports?device_id=", id, "")), "ports", 1);
    mc_expect_status(get(pth("/compute/v2.1/servers/", id, "/ips")), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, pth("/compute/v2.1/servers/", id, ""), NULL, tok, NULL), 204);
    deviate("[\"server-ids-not-uuid=2\"]");
    char *ec2 = mc_test_server(tok, "ec2", NULL, NULL, NULL);
    cr_expect(eq(str, ec2, "i-00000003"));
    mc_expect_status(get(pth("/compute/v2.1/servers/", ec2, "")), 200);
    mc_test_profile(NULL, NULL);
    char *back = mc_test_server(tok, "back", NULL, NULL, NULL);
    cr_expect(mc_is_uuid(back), "without it: %s", back);
    free(back);
    free(ec2);
    free(id);
    free(ref);
    mc_assert_no_leaks();
}

/* glance-v1-only: the reference's image versions document lists v2.x and
 * /image/v2 answers; with the deviation only v1.1/v1.0 are listed and every
 * /image/v2 path is 404 in Glance's format, while Nova's image proxy still
 * lists images and servers still boot from them. */
Test(deviations, glance_v1_only) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.id"), "v2.16"), "the reference");
    mc_resp_free(&r);
    mc_expect_status(get("/image/v2/images"), 200);
    deviate("[\"glance-v1-only\"]");
    r = mc_call(EVHTTP_REQ_GET, "/image", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "versions")), 2), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.id"), "v1.1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.0.status"), "CURRENT"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.1.id"), "v1.0"));
    const char *href = mc_jstr(r.json, "versions.0.links.0.href");
    cr_expect(href != NULL && strstr(href, "/image/v1/") != NULL, "%s", href ? href : "(none)");
    cr_expect(mc_resp_lists(&r, "glance-v1-only"));
    mc_resp_free(&r);
    mc_expect_deviation(get("/image/v2/images"), 404, "glance-v1-only");
    mc_expect_error(get("/image/v2/images/" DEV_CIRROS), MC_IMAGE, 404, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2", NULL, NULL, NULL), 404);
    mc_expect_count(get("/compute/v2.1/images"), "images", 2);
    char *id = mc_test_server(tok, "from-image", NULL, NULL, NULL);
    mc_test_profile(NULL, NULL);
    mc_expect_status(get("/image/v2/images/" DEV_CIRROS), 200);
    free(id);
    mc_assert_no_leaks();
}
