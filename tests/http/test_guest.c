/* The guests' SSH side (guest.c) end to end: mockcloud runs in the
 * --guest-ssh mode (port 22 when it can bind it, another free port
 * otherwise), a server is booted and given a floating IP through the APIs as
 * a client does, and a real SSH client (libssh's client API, in a child
 * process so that the server's loop keeps running here) logs in and runs
 * commands. Each test fails when the guest lets in what it must not, refuses
 * what it must let in, or answers wrongly. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <libssh/libssh.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/http.h>

#include "guest.h"
#include "harness.h"
#include "server.h"
#include "util.h"

#define PRIVATE_NET "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e"
#define PUBLIC_NET "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"

static char *tok;
static int gport;

/* A port nothing listens on, for when 22 cannot be had. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
              getsockname(fd, (struct sockaddr *)&sa, &sl) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* mc_test_start with the guest mode on. */
static void guest_start(const char *deviate) {
    int tries[2] = {22, 0};
    char err[1024] = "";
    for (int i = 0; i < 2 && T.srv == NULL; i++) {
        mc_config cfg;
        mc_config_defaults(&cfg);
        cfg.port = 0;
        cfg.seed = 42;
        cfg.log_level = MC_LOG_ERROR;
        mc_log_set_level(MC_LOG_ERROR);
        mc_test_path("fixtures", cfg.fixtures, sizeof cfg.fixtures);
        mc_test_path("profiles", cfg.profiles_dir, sizeof cfg.profiles_dir);
        if (deviate) {
            mc_strlcpy(cfg.deviate[0], deviate, sizeof cfg.deviate[0]);
            cfg.ndeviate = 1;
        }
        cfg.guest_port = tries[i] ? tries[i] : free_port();
        if (T.base == NULL) T.base = mc_event_base_new();
        T.srv = mc_server_new(T.base, &cfg, true, err, sizeof err);
        gport = cfg.guest_port;
    }
    cr_assert(T.srv != NULL, "the guest mode did not start on port 22 nor on a free port: %s", err);
    T.conn = evhttp_connection_base_new(T.base, NULL, "127.0.0.1", (unsigned short)T.srv->port);
    tok = mc_test_token("demo", "demo");
}

static void setup(void) { guest_start(NULL); }
static void teardown(void) { mc_test_stop_as(&tok); }

TestSuite(guest, .init = setup, .fini = teardown, .timeout = 120);

/* ---------------------------------------------------------------- the client */

typedef struct ssh_res {
    int rc;                   /* exit status, or -1 no connection, -2 auth refused, -3 no exec */
    char out[3072];
    char err[1024];
} ssh_res;

static void child(ssh_res *res, const char *host, const char *user, const char *key, const char *pw,
                  const char *cmd, long timeout_s) {
    ssh_session s = ssh_new();
    int port = gport;
    ssh_options_set(s, SSH_OPTIONS_HOST, host);
    ssh_options_set(s, SSH_OPTIONS_PORT, &port);
    ssh_options_set(s, SSH_OPTIONS_USER, user);
    ssh_options_set(s, SSH_OPTIONS_TIMEOUT, &timeout_s);
    if (ssh_connect(s) != SSH_OK) {
        res->rc = -1;
        snprintf(res->err, sizeof res->err, "%s", ssh_get_error(s));
        return;
    }
    int rc = SSH_AUTH_DENIED;
    if (key != NULL) {
        ssh_key k = NULL;
        if (ssh_pki_import_privkey_base64(key, NULL, NULL, NULL, &k) == SSH_OK) rc = ssh_userauth_publickey(s, NULL, k);
        ssh_key_free(k);
    } else {
        rc = ssh_userauth_password(s, NULL, pw);
    }
    if (rc != SSH_AUTH_SUCCESS) {
        res->rc = -2;
        snprintf(res->err, sizeof res->err, "%s", ssh_get_error(s));
        return;
    }
    ssh_channel ch = ssh_channel_new(s);
    if (ch == NULL || ssh_channel_open_session(ch) != SSH_OK || ssh_channel_request_exec(ch, cmd) != SSH_OK) {
        res->rc = -3;
        snprintf(res->err, sizeof res->err, "%s", ssh_get_error(s));
        return;
    }
    size_t o = 0, e = 0;
    int n;
    while ((n = ssh_channel_read(ch, res->out + o, (uint32_t)(sizeof res->out - 1 - o), 0)) > 0) o += (size_t)n;
    while ((n = ssh_channel_read(ch, res->err + e, (uint32_t)(sizeof res->err - 1 - e), 1)) > 0) e += (size_t)n;
    res->rc = ssh_channel_get_exit_status(ch);
    ssh_channel_close(ch);
    ssh_disconnect(s);
}

static void wake(evutil_socket_t fd, short what, void *arg) {
    (void)fd; (void)what; (void)arg;
    event_base_loopexit(T.base, NULL);
}

/* Runs 'cmd' as 'user' on host:gport with a private key (PEM/OpenSSH text)
 * or a password, while this process's loop serves the guest. */
static ssh_res ssh_run(const char *host, const char *user, const char *key, const char *pw, const char *cmd,
                       long timeout_s) {
    ssh_res res;
    memset(&res, 0, sizeof res);
    int p[2];
    cr_assert(eq(int, pipe(p), 0));
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        child(&res, host, user, key, pw, cmd, timeout_s);
        const char *b = (const char *)&res;
        for (size_t w = 0; w < sizeof res;) {
            ssize_t k = write(p[1], b + w, sizeof res - w);
            if (k <= 0) break;
            w += (size_t)k;
        }
        _exit(0);
    }
    close(p[1]);
    struct event *ev = event_new(T.base, p[0], EV_READ, wake, NULL);
    struct timeval tv = {timeout_s + 20, 0};
    event_add(ev, &tv);
    event_base_dispatch(T.base);
    event_free(ev);
    char *b = (char *)&res;
    size_t got = 0;
    for (;;) {
        ssize_t k = read(p[0], b + got, sizeof res - got);
        if (k <= 0) break;
        got += (size_t)k;
    }
    close(p[0]);
    waitpid(pid, NULL, 0);
    cr_assert(eq(sz, got, sizeof res), "the SSH client child died");
    return res;
}

/* ---------------------------------------------------------------- the cloud side */

/* A generated key pair; returns the private key (caller frees). */
static char *keypair(const char *name) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/os-keypairs",
                        mc_pathf("{\"keypair\":{\"name\":\"%s\"}}", name), tok, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    char *k = strdup(mc_jstr(r.json, "keypair.private_key"));
    mc_resp_free(&r);
    return k;
}

/* A security group with the given ingress rule body members (NULL = none); returns its id. */
static char *secgroup(const char *name, const char *rule) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/security-groups",
                        mc_pathf("{\"security_group\":{\"name\":\"%s\"}}", name), tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "security_group.id"));
    mc_resp_free(&r);
    if (rule != NULL) {
        r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/security-group-rules",
                    mc_pathf("{\"security_group_rule\":{\"security_group_id\":\"%s\",\"direction\":\"ingress\",%s}}", id,
                             rule),
                    tok, NULL);
        cr_assert(eq(int, r.status, 201), "%s", r.body);
        mc_resp_free(&r);
    }
    return id;
}

/* Boots 'name' (flavor 'flavor', key pair 'key', security group 'sg' or
 * the default), waits for ACTIVE, gives it a floating IP (written to fip);
 * returns the server id. */
static char *boot(const char *name, const char *flavor, const char *key, const char *sg, char fip[64]) {
    char extra[512];
    snprintf(extra, sizeof extra, "\"key_name\":\"%s\"%s%s%s", key, sg ? ",\"security_groups\":[{\"name\":\"" : "",
             sg ? sg : "", sg ? "\"}]" : "");
    char *id = mc_test_server(tok, name, flavor, "[{\"uuid\":\"" PRIVATE_NET "\"}]", extra);
    mc_test_server_wait(tok, id, "ACTIVE");
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/ports?device_id=%s", id), NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200));
    char port[64];
    snprintf(port, sizeof port, "%s", mc_jstr(r.json, "ports.0.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/floatingips",
                mc_pathf("{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"%s\"}}", port), tok,
                NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    snprintf(fip, 64, "%s", mc_jstr(r.json, "floatingip.floating_ip_address"));
    mc_resp_free(&r);
    char pfx[32];
    snprintf(pfx, sizeof pfx, "%s.", mc_guest_prefix(T.srv));
    cr_assert(strncmp(fip, pfx, strlen(pfx)) == 0, "floating IP %s outside %s0/24", fip, pfx);
    return id;
}

static void action(const char *id, const char *body) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, mc_pathf("/compute/v2.1/servers/%s/action", id), body, tok, NULL);
    cr_assert(eq(int, r.status, 202), "%s: %s", body, r.body);
    mc_resp_free(&r);
}

#define SSH_RULE "\"protocol\":\"tcp\",\"port_range_min\":22,\"port_range_max\":22,\"remote_ip_prefix\":\"0.0.0.0/0\""

Test(guest, tempest_commands_answer_from_the_flavor_and_the_name) {
    char *key = keypair("k1");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("Web Server_1", "3", "k1", "ssh", fip);   /* m1.medium: 2 vcpus, 4096 MB, 40 GB */
    ssh_res r = ssh_run(fip, "cirros", key, NULL, "set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; hostname", 10);
    cr_expect(eq(int, r.rc, 0), "%s", r.err);
    cr_expect(eq(str, r.out, "web-server-1\n"));
    r = ssh_run(fip, "cirros", key, NULL, "set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; grep -c ^processor /proc/cpuinfo", 10);
    cr_expect(eq(str, r.out, "2\n"));
    r = ssh_run(fip, "cirros", key, NULL, "lsblk -lb --nodeps | grep disk", 10);
    cr_expect(strstr(r.out, "vda") != NULL && strstr(r.out, " 42949672960 ") != NULL, "%s", r.out);
    r = ssh_run(fip, "cirros", key, NULL, "ip -o addr | awk '/inet / {print $2, $4}'", 10);
    cr_expect(eq(str, r.out, "lo 127.0.0.1/8\neth0 10.0.0.2/24\n"));
    r = ssh_run(fip, "cirros", key, NULL, "no-such-tool", 10);
    cr_expect(eq(int, r.rc, 127));
    cr_expect(eq(str, r.err, "sh: no-such-tool: not found\n"));
    /* the journal shows what ran */
    mc_resp j = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?method=SSH", NULL, NULL, NULL);
    cr_expect(strstr(j.body, "no-such-tool") != NULL, "%s", j.body);
    mc_resp_free(&j);
    free(id);
    free(key);
    mc_assert_no_leaks();
}

Test(guest, only_the_key_pair_and_the_login_user_get_in) {
    char *key = keypair("k1");
    char *other = keypair("k2");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("vm", NULL, "k1", "ssh", fip);
    cr_expect(eq(int, ssh_run(fip, "cirros", other, NULL, "true", 10).rc, -2));
    cr_expect(eq(int, ssh_run(fip, "root", key, NULL, "true", 10).rc, -2));   /* cloud-init: "login as cirros" */
    cr_expect(eq(int, ssh_run(fip, "cirros", NULL, "secret", "true", 10).rc, -2));
    cr_expect(eq(int, ssh_run(fip, "cirros", NULL, "gocubsgo", "true", 10).rc, 0));   /* CirrOS's own password */
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 10).rc, 0));
    /* the adminPass Nova set is taken by an image that takes passwords */
    action(id, "{\"changePassword\":{\"adminPass\":\"N3w-Passw0rd\"}}");
    cr_expect(eq(int, ssh_run(fip, "cirros", NULL, "N3w-Passw0rd", "true", 10).rc, 0));
    free(id);
    free(key);
    free(other);
    mc_assert_no_leaks();
}

Test(guest, refused_when_not_active_and_after_disassociation) {
    char *key = keypair("k1");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("vm", NULL, "k1", "ssh", fip);
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 10).rc, 0));
    action(id, "{\"os-stop\":null}");
    mc_test_server_wait(tok, id, "SHUTOFF");
    ssh_res r = ssh_run(fip, "cirros", key, NULL, "true", 5);
    cr_expect(eq(int, r.rc, -1), "a SHUTOFF server answered SSH");
    cr_expect(strstr(r.err, "refused") != NULL, "%s", r.err);
    action(id, "{\"os-start\":null}");
    mc_test_server_wait(tok, id, "ACTIVE");
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 10).rc, 0));
    action(id, "{\"pause\":null}");
    mc_test_server_wait(tok, id, "PAUSED");
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 5).rc, -1), "a PAUSED server answered SSH");
    action(id, "{\"unpause\":null}");
    mc_test_server_wait(tok, id, "ACTIVE");
    /* the floating IP goes away: so does the address */
    mc_resp l = mc_call(EVHTTP_REQ_GET, mc_pathf("/network/v2.0/floatingips?floating_ip_address=%s", fip), NULL, tok, NULL);
    char fid[64];
    snprintf(fid, sizeof fid, "%s", mc_jstr(l.json, "floatingips.0.id"));
    mc_resp_free(&l);
    mc_resp u = mc_call(EVHTTP_REQ_PUT, mc_pathf("/network/v2.0/floatingips/%s", fid), "{\"floatingip\":{\"port_id\":null}}",
                        tok, NULL);
    cr_assert(eq(int, u.status, 200));
    mc_resp_free(&u);
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 5).rc, -1), "a disassociated floating IP answered SSH");
    free(id);
    free(key);
    mc_assert_no_leaks();
}

Test(guest, security_groups_decide) {
    char *key = keypair("k1");
    char *sg = secgroup("web", "\"protocol\":\"tcp\",\"port_range_min\":80,\"port_range_max\":80");
    char fip[64];
    char *id = boot("vm", NULL, "k1", "web", fip);   /* no rule for 22; the default group is not there */
    ssh_res r = ssh_run(fip, "cirros", key, NULL, "true", 2);
    cr_expect(eq(int, r.rc, -1), "SSH got through without a rule for tcp/22");
    char *ssh = secgroup("ssh", SSH_RULE);
    action(id, "{\"addSecurityGroup\":{\"name\":\"ssh\"}}");
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 10).rc, 0));
    action(id, "{\"removeSecurityGroup\":{\"name\":\"ssh\"}}");
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 2).rc, -1));
    /* a rule only for another source prefix does not let us in either */
    char *narrow = secgroup("narrow", "\"protocol\":\"tcp\",\"port_range_min\":22,\"port_range_max\":22,"
                                      "\"remote_ip_prefix\":\"192.0.2.0/24\"");
    action(id, "{\"addSecurityGroup\":{\"name\":\"narrow\"}}");
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 2).rc, -1));
    free(narrow);
    free(ssh);
    free(sg);
    free(id);
    free(key);
    mc_assert_no_leaks();
}

/* The deviations: the journal names them on the commands they shaped. */
TestSuite(guest_dev, .fini = teardown, .timeout = 120);

Test(guest_dev, hostname_not_server_name) {
    guest_start("hostname-not-server-name");
    char *key = keypair("k1");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("vm-one", NULL, "k1", "ssh", fip);
    ssh_res r = ssh_run(fip, "cirros", key, NULL, "hostname", 10);
    cr_expect(eq(int, r.rc, 0));
    cr_expect(strncmp(r.out, "instance-", 9) == 0 && strlen(r.out) == 18, "%s", r.out);
    mc_resp j = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?deviation=hostname-not-server-name", NULL, NULL, NULL);
    cr_expect(strstr(j.body, "hostname") != NULL && strstr(j.body, "SSH") != NULL, "%s", j.body);
    mc_resp_free(&j);
    free(id);
    free(key);
    mc_assert_no_leaks();
}

Test(guest_dev, vcpus_differ) {
    guest_start("vcpus-differ");
    char *key = keypair("k1");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("vm", "3", "k1", "ssh", fip);
    cr_expect(eq(str, ssh_run(fip, "cirros", key, NULL, "grep -c ^processor /proc/cpuinfo", 10).out, "3\n"));
    free(id);
    free(key);
    mc_assert_no_leaks();
}

Test(guest_dev, key_pair_not_injected) {
    guest_start("key-pair-not-injected");
    char *key = keypair("k1");
    free(secgroup("ssh", SSH_RULE));
    char fip[64];
    char *id = boot("vm", NULL, "k1", "ssh", fip);
    cr_expect(eq(int, ssh_run(fip, "cirros", key, NULL, "true", 10).rc, -2), "a key the metadata never served got in");
    free(id);
    free(key);
    mc_assert_no_leaks();
}

/* Without the mode: no listener, the fixtures' addresses as they are. */
TestSuite(guest_off);

Test(guest_off, off_by_default) {
    mc_test_start(NULL);
    cr_expect(eq(str, (char *)mc_guest_prefix(T.srv), ""));
    char *t = mc_test_token("admin", "admin");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/network/v2.0/subnets?name=public-subnet", NULL, t, NULL);
    const char *cidr = mc_jstr(r.json, "subnets.0.cidr");
    cr_expect(eq(str, (char *)(cidr ? cidr : "none"), "172.24.4.0/24"), "%s", r.body);
    mc_resp_free(&r);
    free(t);
    mc_test_stop();
    mc_assert_no_leaks();
}
