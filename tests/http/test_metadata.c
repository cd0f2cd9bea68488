/* HTTP tests of the metadata service and the config drive (metadata.c).
 * Every server is created through the compute API (key pair, user data,
 * metadata, config_drive, a port on demo's private network) and read back as
 * the instance would. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "http.h"
#include "netapi.h"
#include "profile.h"
#include "store.h"
#include "util.h"

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define DEMO_USER "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define PRIVATE_NET "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e"
#define PUBKEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockKeyMockKeyMockKeyMockKeyMockKey00 demo@mockcloud"

static char *tok;
static void setup(void) { tok = mc_test_start_as(NULL, "demo"); }
static void teardown(void) { mc_test_stop_as(&tok); }

TestSuite(metadata, .init = setup, .fini = teardown);


/* Boots a server through the compute API as a client does (key pair "mykey",
 * metadata, demo's private network), waits for ACTIVE and writes its id. */
static void boot(char id[40], const char *name, const char *user_data_b64, bool config_drive) {
    mc_test_keypair(tok, "mykey", PUBKEY);
    char extra[512];
    snprintf(extra, sizeof extra, "\"key_name\":\"mykey\",\"config_drive\":%s,\"metadata\":{\"role\":\"web\"}%s%s%s",
             config_drive ? "true" : "false", user_data_b64 ? ",\"user_data\":\"" : "",
             user_data_b64 ? user_data_b64 : "", user_data_b64 ? "\"" : "");
    char *s = mc_test_server(tok, name, NULL, "[{\"uuid\":\"" PRIVATE_NET "\"}]", extra);
    snprintf(id, 40, "%s", s);
    free(s);
    mc_test_server_wait(tok, id, "ACTIVE");
}

/* "/metadata/{id}{suffix}" for the next call. */
static const char *mp(const char *id, const char *suffix) { return mc_pathf("/metadata/%s%s", id, suffix); }
static const char *hdr(const char *id) {
    static char b[128];
    snprintf(b, sizeof b, "X-Instance-ID: %s", id);
    return b;
}

/* Nova's EC2 instance id: i- and the first 8 hex digits here. */
static const char *ec2id(const char *id) {
    static char b[16];
    snprintf(b, sizeof b, "i-%.8s", id);
    return b;
}

static mc_resp md_get(const char *path) { return mc_call(EVHTTP_REQ_GET, path, NULL, NULL, NULL); }

/* The server's port (first) as the network service shows it. */
static mc_record *server_port(const char *id) {
    for (mc_record *p = mc_store_first(&T.srv->world[MC_K_PORT]); p; p = mc_store_next(p))
        if (mc_str_eq(mc_json_str(p->doc, "device_id"), id)) return p;
    return NULL;
}

static const char *port_ipv4(mc_record *p) {
    cJSON *ip;
    cJSON_ArrayForEach(ip, mc_jpath(p->doc, "fixed_ips")) {
        const char *a = mc_json_str(ip, "ip_address");
        if (a && !strchr(a, ':')) return a;
    }
    return NULL;
}

Test(metadata, meta_data_json_by_path_and_by_header) {
    char sid[40];
    boot(sid, "Web Server_1", "I2Nsb3VkLWNvbmZpZwpob3N0bmFtZTogd2ViCg==", false);
    const char *paths[] = {mp(sid, "/openstack/latest/meta_data.json"), "/openstack/latest/meta_data.json"};
    for (int i = 0; i < 2; i++) {
        mc_resp r = i == 0 ? md_get(paths[i]) : mc_call(EVHTTP_REQ_GET, paths[i], NULL, NULL, hdr(sid));
        cr_assert(eq(int, r.status, 200), "%s %s", paths[i], r.body);
        cr_expect(eq(str, (char *)mc_resp_header(&r, "Content-Type"), "application/json"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "uuid"), sid));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "Web Server_1"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "hostname"), "web-server-1.novalocal"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "project_id"), DEMO_PROJECT));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zone"), "nova"));
        cr_expect(eq(int, (int)mc_jnum(r.json, "launch_index"), 0));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "meta.role"), "web"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "public_keys.mykey"), PUBKEY));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "keys.0.name"), "mykey"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "keys.0.type"), "ssh"));
        cr_expect(eq(str, (char *)mc_jstr(r.json, "keys.0.data"), PUBKEY));
        cr_expect(cJSON_IsArray(mc_jpath(r.json, "devices")));
        cr_expect(eq(sz, strlen(mc_jstr(r.json, "random_seed")), 684));
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

Test(metadata, versions_and_listings) {
    char sid[40];
    boot(sid, "Web Server_1", "aGVsbG8=", false);
    mc_resp r = md_get(mp(sid, "/openstack"));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "2012-08-10\n2013-04-04\n2013-10-17\n2015-10-15\n2016-06-30\n2016-10-06\n"
                              "2017-02-22\n2018-08-27\n2020-10-14\nlatest"));
    mc_resp_free(&r);
    mc_expect_body(md_get(mp(sid, "/openstack/latest/")), "meta_data.json\npassword\nvendor_data.json\nnetwork_data.json\nvendor_data2.json\nuser_data");
    mc_expect_body(md_get(mp(sid, "/openstack/2012-08-10")), "meta_data.json\nuser_data");
    r = md_get(mp(sid, "/openstack/2012-08-10/meta_data.json"));
    cr_expect(mc_jpath(r.json, "project_id") == NULL);
    cr_expect(mc_jpath(r.json, "keys") == NULL);
    cr_expect(mc_jpath(r.json, "public_keys") != NULL);
    mc_resp_free(&r);
    mc_expect_status(md_get(mp(sid, "/openstack/1999-01-01/meta_data.json")), 404);
    r = md_get(mp(sid, ""));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "1.0\n2007-01-19\n2007-03-01\n2007-08-29\n2007-10-10\n2007-12-15\n2008-02-01\n"
                              "2008-09-01\n2009-04-04\nlatest"));
    mc_resp_free(&r);
    mc_expect_body(md_get(mp(sid, "/openstack/latest/vendor_data.json")), "{}");
    mc_expect_body(md_get(mp(sid, "/openstack/latest/vendor_data2.json")), "{}");
    mc_assert_no_leaks();
}

Test(metadata, unknown_server_is_404) {
    mc_expect_status(md_get("/metadata/00000000-0000-4000-8000-000000000000/openstack/latest/meta_data.json"), 404);
    mc_expect_status(md_get("/openstack/latest/meta_data.json"), 404);   /* no X-Instance-ID */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/latest/meta-data/instance-id", NULL, NULL, "X-Instance-ID: nope"), 404);
    mc_assert_no_leaks();
}

Test(metadata, network_data_from_the_ports) {
    char sid[40];
    boot(sid, "Web Server_1", NULL, false);
    mc_record *port = server_port(sid);
    cr_assert(port != NULL);
    mc_resp r = md_get(mp(sid, "/openstack/latest/network_data.json"));
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.0.ethernet_mac_address"), (char *)mc_json_str(port->doc, "mac_address")));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.0.vif_id"), port->id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.0.type"), "ovs"));
    cr_expect(gt(int, (int)mc_jnum(r.json, "links.0.mtu"), 0));
    char tap[32];
    snprintf(tap, sizeof tap, "tap%.11s", port->id);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.0.id"), tap));
    cJSON *n;
    int v4 = 0, v6 = 0;
    cJSON_ArrayForEach(n, mc_jpath(r.json, "networks")) {
        cr_expect(eq(str, (char *)mc_jstr(n, "link"), tap));
        cr_expect(eq(str, (char *)mc_jstr(n, "network_id"), PRIVATE_NET));
        if (mc_str_eq(mc_jstr(n, "type"), "ipv4")) {
            v4++;
            cr_expect(eq(str, (char *)mc_jstr(n, "ip_address"), (char *)port_ipv4(port)));
            cr_expect(eq(str, (char *)mc_jstr(n, "netmask"), "255.255.255.0"));
            cr_expect(eq(str, (char *)mc_jstr(n, "routes.0.network"), "0.0.0.0"));
            cr_expect(eq(str, (char *)mc_jstr(n, "routes.0.gateway"), "10.0.0.1"));
        } else if (mc_str_eq(mc_jstr(n, "type"), "ipv6_slaac")) {
            v6++;
        }
    }
    cr_expect(eq(int, v4, 1));
    cr_expect(eq(int, v6, 1));
    cr_expect(cJSON_IsArray(mc_jpath(r.json, "services")));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(metadata, user_data_is_the_exact_bytes) {
    /* "#!/bin/sh\necho \x00\xff" base64 */
    char sid[40];
    boot(sid, "Web Server_1", "IyEvYmluL3NoCmVjaG8gAP8=", false);
    mc_resp r = md_get(mp(sid, "/openstack/latest/user_data"));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(sz, r.len, 17));
    cr_expect(eq(int, memcmp(r.body, "#!/bin/sh\necho \x00\xff", 17), 0));
    mc_resp_free(&r);
    r = md_get(mp(sid, "/latest/user-data"));
    cr_expect(eq(sz, r.len, 17));
    mc_resp_free(&r);
    char sid2[40];
    boot(sid2, "second", NULL, false);
    mc_expect_status(md_get(mp(sid2, "/openstack/latest/user_data")), 404);
    mc_expect_body(md_get(mp(sid2, "/latest")), "meta-data/");
    mc_assert_no_leaks();
}

Test(metadata, ec2_tree) {
    char sid[40];
    boot(sid, "Web Server_1", "aGVsbG8=", false);
    mc_record *port = server_port(sid);
    mc_expect_body(md_get(mp(sid, "/latest/")), "meta-data/\nuser-data");
    mc_resp r;
    r = md_get(mp(sid, "/latest/meta-data/"));
    cr_expect(strstr(r.body, "instance-id\n") != NULL, "%s", r.body);
    cr_expect(strstr(r.body, "public-keys/\n") != NULL);
    cr_expect(strstr(r.body, "placement/\n") != NULL);
    cr_expect(strstr(r.body, "block-device-mapping/\n") != NULL);
    mc_resp_free(&r);
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/instance-id")), (char *)ec2id(sid));
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/local-ipv4")), (char *)port_ipv4(port));
    r = md_get(mp(sid, "/latest/meta-data/public-ipv4"));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, ""));
    mc_resp_free(&r);
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/hostname")), "web-server-1.novalocal");
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/public-keys")), "0=mykey");
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/public-keys/0")), "openssh-key");
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/public-keys/0/openssh-key")), PUBKEY);
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/placement/availability-zone")), "nova");
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/security-groups")), "default");
    mc_expect_body(md_get(mp(sid, "/latest/meta-data/instance-type")), "m1.nano");
    mc_expect_body(md_get(mp(sid, "/2009-04-04/meta-data/ami-launch-index")), "0");
    mc_expect_status(md_get(mp(sid, "/latest/meta-data/nope")), 404);
    mc_expect_body(mc_call(EVHTTP_REQ_GET, "/latest/meta-data/instance-id", NULL, NULL, hdr(sid)), (char *)ec2id(sid));
    mc_assert_no_leaks();
}

Test(metadata, password_is_set_once) {
    char sid[40];
    boot(sid, "Web Server_1", NULL, false);
    mc_resp r = md_get(mp(sid, "/openstack/latest/password"));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(sz, r.len, 0));
    mc_resp_free(&r);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_POST, mp(sid, "/openstack/latest/password"), "c2VjcmV0", 8, "text/plain",
                    NULL, NULL), 200);
    mc_expect_status(mc_call_raw(EVHTTP_REQ_POST, mp(sid, "/openstack/latest/password"), "b3RoZXI=", 8, "text/plain",
                    NULL, NULL), 409);
    mc_expect_body(md_get(mp(sid, "/openstack/latest/password")), "c2VjcmV0");
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- deviation knobs */

static void set_knob(mc_knob_id k, long long v) { T.srv->profile->iv[k] = v; T.srv->profile->src[k] = "test-deviation"; }

Test(metadata, knobs_network_data_public_keys_ec2_only) {
    char sid[40];
    boot(sid, "Web Server_1", "aGVsbG8=", false);
    set_knob(MC_KNOB_METADATA_NETWORK_DATA, 0);
    set_knob(MC_KNOB_METADATA_PUBLIC_KEYS, 0);
    mc_expect_status(md_get(mp(sid, "/openstack/latest/network_data.json")), 404);
    mc_resp r;
    r = md_get(mp(sid, "/openstack/latest/meta_data.json"));
    cr_expect(mc_jpath(r.json, "public_keys") == NULL);
    cr_expect(mc_jpath(r.json, "keys") == NULL);
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-Mockcloud-Deviations"), "test-deviation"));
    mc_resp_free(&r);
    mc_expect_status(md_get(mp(sid, "/latest/meta-data/public-keys")), 404);
    /* a file the deviations did not touch names none */
    r = md_get(mp(sid, "/latest/meta-data/instance-id"));
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_resp_header(&r, "X-Mockcloud-Deviations") == NULL);
    mc_resp_free(&r);
    set_knob(MC_KNOB_METADATA_EC2_ONLY, 1);
    mc_expect_status(md_get(mp(sid, "/openstack/latest/meta_data.json")), 404);
    mc_expect_status(md_get(mp(sid, "/latest/meta-data/instance-id")), 200);
    mc_assert_no_leaks();
}

Test(metadata, knobs_user_data_base64_hostname_delay) {
    char sid[40];
    boot(sid, "Web Server_1", "aGVsbG8=", false);
    set_knob(MC_KNOB_METADATA_USER_DATA_BASE64, 1);
    free(T.srv->profile->sv[MC_KNOB_METADATA_DHCP_DOMAIN]);
    T.srv->profile->sv[MC_KNOB_METADATA_DHCP_DOMAIN] = strdup("");
    mc_expect_body(md_get(mp(sid, "/openstack/latest/user_data")), "aGVsbG8=");
    mc_resp r;
    r = md_get(mp(sid, "/openstack/latest/meta_data.json"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hostname"), "web-server-1"));
    mc_resp_free(&r);
    /* launched_at has whole seconds: ACTIVE just now is less than 2 s ago */
    set_knob(MC_KNOB_METADATA_DELAY_S, 2);
    mc_expect_status(md_get(mp(sid, "/openstack/latest/meta_data.json")), 503);
    set_knob(MC_KNOB_METADATA_DELAY_S, 1);
    mc_test_sleep_ms(1100);
    mc_expect_status(md_get(mp(sid, "/openstack/latest/meta_data.json")), 200);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- config drive */

static bool have_isoinfo(void) { return access("/usr/bin/isoinfo", X_OK) == 0; }

/* Runs isoinfo -J -x PATH on the image file; returns malloc'd output. */
static char *isoinfo_extract(const char *iso, const char *path) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "/usr/bin/isoinfo -J -i %s -x %s 2>/dev/null", iso, path);
    FILE *p = popen(cmd, "r");
    if (p == NULL) return NULL;
    size_t cap = 65536, n = 0;
    char *out = malloc(cap);
    size_t k;
    while ((k = fread(out + n, 1, cap - n - 1, p)) > 0) n += k;
    out[n] = '\0';
    pclose(p);
    return out;
}

Test(metadata, config_drive_is_an_iso_labelled_config_2) {
    char sid[40];
    boot(sid, "Web Server_1", "IyEvYmluL3NoCmVjaG8gAP8=", true);
    char sid2[40];
    boot(sid2, "second", NULL, false);
    mc_expect_status(md_get(mp(sid2, "/config-drive")), 404);
    mc_resp r;
    r = md_get(mp(sid, "/config-drive"));
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(sz, r.len % 2048, 0));
    cr_assert(gt(sz, r.len, 20 * 2048));
    cr_expect(eq(int, memcmp(r.body + 16 * 2048 + 1, "CD001", 5), 0));
    cr_expect(eq(int, memcmp(r.body + 16 * 2048 + 40, "config-2 ", 9), 0));
    cr_expect(eq(int, (unsigned char)r.body[17 * 2048], 2));     /* Joliet descriptor */
    cr_expect(eq(int, (unsigned char)r.body[18 * 2048], 255));   /* terminator */
    if (have_isoinfo()) {
        char tmpl[] = "/tmp/mc-cd-XXXXXX";
        int fd = mkstemp(tmpl);
        cr_assert(fd >= 0);
        cr_assert(eq(sz, (size_t)write(fd, r.body, r.len), r.len));
        close(fd);
        char *md = isoinfo_extract(tmpl, "/openstack/latest/meta_data.json");
        cJSON *j = cJSON_Parse(md);
        cr_expect(eq(str, (char *)mc_jstr(j, "uuid"), sid), "%s", md);
        cr_expect(eq(str, (char *)mc_jstr(j, "public_keys.mykey"), PUBKEY));
        cJSON_Delete(j);
        free(md);
        char *nd = isoinfo_extract(tmpl, "/openstack/2018-08-27/network_data.json");
        j = cJSON_Parse(nd);
        cr_expect(eq(str, (char *)mc_jstr(j, "links.0.type"), "ovs"), "%s", nd);
        cJSON_Delete(j);
        free(nd);
        char *ud = isoinfo_extract(tmpl, "/openstack/latest/user_data");
        cr_expect(eq(int, memcmp(ud, "#!/bin/sh\necho ", 15), 0));
        free(ud);
        char *ec2 = isoinfo_extract(tmpl, "/ec2/latest/meta-data.json");
        j = cJSON_Parse(ec2);
        cr_expect(eq(str, (char *)mc_jstr(j, "instance-id"), (char *)ec2id(sid)), "%s", ec2);
        cJSON_Delete(j);
        free(ec2);
        unlink(tmpl);
    } else {
        cr_log_warn("isoinfo (genisoimage) not installed: the ISO's contents were not read back");
    }
    mc_resp_free(&r);
    /* knob: forced for every server, or never */
    set_knob(MC_KNOB_METADATA_CONFIG_DRIVE, 1);
    mc_expect_status(md_get(mp(sid2, "/config-drive")), 200);
    set_knob(MC_KNOB_METADATA_CONFIG_DRIVE, 2);
    mc_expect_status(md_get(mp(sid, "/config-drive")), 404);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- through the compute API */

Test(metadata, server_created_through_compute) {
    char id[40];
    boot(id, "api-vm", "I2Nsb3VkLWNvbmZpZwo=", true);
    mc_record *port = server_port(id);
    cr_assert(port != NULL);
    char path[300];
    snprintf(path, sizeof path, "/metadata/%s/openstack/latest/meta_data.json", id);
    mc_resp r = md_get(path);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "uuid"), id));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "api-vm"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "hostname"), "api-vm.novalocal"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "project_id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "meta.role"), "web"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "public_keys.mykey"), PUBKEY));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "availability_zone"), "nova"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/metadata/%s/openstack/latest/user_data", id);
    mc_expect_body(md_get(path), "#cloud-config\n");
    snprintf(path, sizeof path, "/metadata/%s/openstack/latest/network_data.json", id);
    r = md_get(path);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "links.0.ethernet_mac_address"), (char *)mc_json_str(port->doc, "mac_address")));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "networks.0.ip_address"), (char *)port_ipv4(port)));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/metadata/%s/latest/meta-data/local-ipv4", id);
    mc_expect_body(md_get(path), (char *)port_ipv4(port));
    snprintf(path, sizeof path, "/metadata/%s/latest/meta-data/instance-type", id);
    mc_expect_body(md_get(path), "m1.nano");
    snprintf(path, sizeof path, "/metadata/%s/config-drive", id);
    mc_expect_status(md_get(path), 200);
    /* deleted: 404 */
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL), 204);
    snprintf(path, sizeof path, "/metadata/%s/openstack/latest/meta_data.json", id);
    int status = 0;
    for (int i = 0; i < 50 && status != 404; i++) {
        mc_test_sleep_ms(100);
        r = md_get(path);
        status = r.status;
        mc_resp_free(&r);
    }
    cr_expect(eq(int, status, 404));
    mc_assert_no_leaks();
}
