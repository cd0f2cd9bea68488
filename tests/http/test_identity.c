/* HTTP tests of Keystone v3 and of the core (errors, headers, limits)
 * against an in-process server on an ephemeral port. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"
#include "store.h"

#define DEMO_ID "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_ID "a7b8c9d0e1f243a5b6c7d8e9f0a1b2c3"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(identity, .init = setup, .fini = teardown);
TestSuite(core, .init = setup, .fini = teardown);

static mc_resp post_token(const char *body) {
    return mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", body, NULL, NULL);
}

Test(identity, versions_is_300_with_self_link) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.values.0.status"), "stable"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "versions.values.0.links.0.rel"), "self"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "version.media-types.0.type"),
                 "application/vnd.openstack.identity-v3+json"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(identity, password_token_by_names_has_catalog_and_roles) {
    mc_resp r = post_token("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                           "{\"name\":\"demo\",\"domain\":{\"name\":\"Default\"},\"password\":\"secret\"}}},"
                           "\"scope\":{\"project\":{\"name\":\"demo\",\"domain\":{\"name\":\"Default\"}}}}}");
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(mc_resp_header(&r, "X-Subject-Token") != NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.user.id"), DEMO_ID));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.domain.name"), "Default"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.roles.0.name"), "member"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "token.catalog")), 6));
    const char *exp = mc_jstr(r.json, "token.expires_at");
    cr_assert(exp != NULL);
    cr_expect(eq(sz, strlen(exp), 27));   /* 2026-11-25T11:23:11.000000Z */
    cr_expect(eq(chr, exp[26], 'Z'));
    /* every catalog entry has public/internal/admin in RegionOne */
    cJSON *svc;
    cJSON_ArrayForEach(svc, mc_jpath(r.json, "token.catalog")) {
        cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(svc, "endpoints")), 3));
        cr_expect(eq(str, (char *)mc_jstr(svc, "endpoints.0.region_id"), "RegionOne"));
    }
    cr_expect(mc_resp_header(&r, "x-openstack-request-id") != NULL);
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-Mockcloud-Profile"), "conformant"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(identity, wrong_password_and_foreign_project_are_401) {
    mc_resp r = post_token("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                           "{\"id\":\"" DEMO_ID "\",\"password\":\"nope\"}}}}}");
    cr_expect(eq(int, r.status, 401));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 401));
    cr_expect(mc_jstr(r.json, "error.message") != NULL);
    mc_resp_free(&r);
    mc_expect_status(post_token("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                   "{\"id\":\"" DEMO_ID "\",\"password\":\"secret\"}}},"
                   "\"scope\":{\"project\":{\"name\":\"alt_demo\",\"domain\":{\"id\":\"default\"}}}}}"), 401);
    mc_expect_status(post_token("{\"auth\":{}}"), 400);
    mc_assert_no_leaks();
}

Test(identity, validate_head_and_revoke) {
    char *tok = mc_test_token("demo", "demo");
    cr_assert(tok != NULL);
    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.user.name"), "demo"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, "/identity/v3/auth/tokens", NULL, tok, hdr), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/identity/v3/auth/tokens", NULL, tok, hdr), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 401);
    free(tok);
    mc_assert_no_leaks();
}

Test(identity, token_method_rescopes_and_unscoped_has_no_catalog) {
    mc_resp r = post_token("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                           "{\"id\":\"" DEMO_ID "\",\"password\":\"secret\"}}},\"scope\":\"unscoped\"}}");
    cr_assert(eq(int, r.status, 201));
    cr_expect(mc_jpath(r.json, "token.catalog") == NULL);
    cr_expect(mc_jpath(r.json, "token.project") == NULL);
    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}},"
             "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}",
             mc_resp_header(&r, "X-Subject-Token"));
    mc_resp r2 = post_token(body);
    cr_expect(eq(int, r2.status, 201), "%s", r2.body);
    cr_expect(eq(str, (char *)mc_jstr(r2.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(r2.json, "token.methods.0"), "token"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r2.json, "token.audit_ids")), 2));
    mc_resp_free(&r);
    mc_resp_free(&r2);
    mc_assert_no_leaks();
}

Test(identity, expired_token_is_401) {
    T.srv->cfg.token_ttl = 1;
    char *tok = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 200);
    mc_test_sleep_ms(1100);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 401);
    free(tok);
}

Test(identity, member_reads_self_admin_reads_all) {
    char *demo = mc_test_token("demo", "demo");
    char *admin = mc_test_token("admin", "admin");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/users/" DEMO_ID, NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "user.name"), "demo"));
    cr_expect(mc_jpath(r.json, "user.password") == NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/users/" ALT_ID, NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/projects", NULL, demo, NULL), 403);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/projects", NULL, admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "projects")), 3));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/projects", NULL, demo, NULL), "projects", 1);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/domains/default", NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domain.name"), "Default"));
    mc_resp_free(&r);
    free(demo);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, admin_creates_user_project_and_grant) {
    char *admin = mc_test_token("admin", "admin");
    mc_resp p = mc_call(EVHTTP_REQ_POST, "/identity/v3/projects", "{\"project\":{\"name\":\"p1\"}}", admin, NULL);
    cr_assert(eq(int, p.status, 201), "%s", p.body);
    mc_resp u = mc_call(EVHTTP_REQ_POST, "/identity/v3/users",
                        "{\"user\":{\"name\":\"u1\",\"password\":\"pw1\"}}", admin, NULL);
    cr_assert(eq(int, u.status, 201), "%s", u.body);
    mc_resp dup = mc_call(EVHTTP_REQ_POST, "/identity/v3/users", "{\"user\":{\"name\":\"u1\"}}", admin, NULL);
    cr_expect(eq(int, dup.status, 409));
    mc_resp_free(&dup);
    char path[400];
    snprintf(path, sizeof path, "/identity/v3/projects/%s/users/%s/roles/9f8e7d6c5b4a43219f8e7d6c5b4a3210",
             mc_jstr(p.json, "project.id"), mc_jstr(u.json, "user.id"));
    mc_resp g = mc_call(EVHTTP_REQ_PUT, path, NULL, admin, NULL);
    cr_expect(eq(int, g.status, 204));
    mc_resp_free(&g);
    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"id\":\"%s\",\"password\":\"pw1\"}}},"
             "\"scope\":{\"project\":{\"id\":\"%s\"}}}}",
             mc_jstr(u.json, "user.id"), mc_jstr(p.json, "project.id"));
    mc_resp t = post_token(body);
    cr_expect(eq(int, t.status, 201), "%s", t.body);
    mc_resp_free(&t);
    /* a member cannot create projects */
    char *demo = mc_test_token("demo", "demo");
    mc_resp f = mc_call(EVHTTP_REQ_POST, "/identity/v3/projects", "{\"project\":{\"name\":\"p2\"}}", demo, NULL);
    cr_expect(eq(int, f.status, 403));
    mc_resp_free(&f);
    mc_resp_free(&p);
    mc_resp_free(&u);
    free(admin);
    free(demo);
    mc_assert_no_leaks();
}

Test(identity, application_credential_lifecycle_and_auth) {
    char *demo = mc_test_token("demo", "demo");
    mc_resp c = mc_call(EVHTTP_REQ_POST, "/identity/v3/users/" DEMO_ID "/application_credentials",
                        "{\"application_credential\":{\"name\":\"ci\",\"expires_at\":\"2099-01-01T00:00:00Z\"}}", demo, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    const char *secret = mc_jstr(c.json, "application_credential.secret");
    cr_assert(secret != NULL);
    cr_expect(eq(str, (char *)mc_jstr(c.json, "application_credential.project_id"), DEMO_PROJECT));
    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":"
             "{\"id\":\"%s\",\"secret\":\"%s\"}}}}",
             mc_jstr(c.json, "application_credential.id"), secret);
    mc_resp t = post_token(body);
    cr_expect(eq(int, t.status, 201), "%s", t.body);
    cr_expect(eq(str, (char *)mc_jstr(t.json, "token.project.id"), DEMO_PROJECT));
    mc_resp_free(&t);
    mc_resp l = mc_call(EVHTTP_REQ_GET, "/identity/v3/users/" DEMO_ID "/application_credentials?name=ci", NULL, demo, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(l.json, "application_credentials")), 1));
    cr_expect(mc_jpath(l.json, "application_credentials.0.secret") == NULL);
    mc_resp_free(&l);
    char path[300];
    snprintf(path, sizeof path, "/identity/v3/users/" DEMO_ID "/application_credentials/%s",
             mc_jstr(c.json, "application_credential.id"));
    mc_resp d = mc_call(EVHTTP_REQ_DELETE, path, NULL, demo, NULL);
    cr_expect(eq(int, d.status, 204));
    mc_resp_free(&d);
    t = post_token(body);
    cr_expect(eq(int, t.status, 401));
    mc_resp_free(&t);
    mc_resp_free(&c);
    free(demo);
    mc_assert_no_leaks();
}

Test(core, unknown_path_404_wrong_method_405_in_dialect) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/nothing", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 404));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/identity/v3/auth/catalog", "{}", NULL, NULL), 405);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 401));
    cr_expect(mc_resp_header(&r, "WWW-Authenticate") != NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, "not-a-token", NULL), 401);
    mc_assert_no_leaks();
}

Test(core, malformed_and_oversized_bodies) {
    const char *bad[] = {"{", "[]", "{\"a\":1}x", "\"str\"", "nul\x01"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", bad[i], NULL, NULL);
        cr_expect(eq(int, r.status, 400), "body %s", bad[i]);
        cr_expect(mc_jstr(r.json, "error.message") != NULL);
        mc_resp_free(&r);
    }
    size_t n = (1 << 20) + 10;
    char *big = malloc(n + 1);
    memset(big, ' ', n);
    big[0] = '{';
    big[n - 1] = '}';
    big[n] = '\0';
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", big, NULL, NULL);
    cr_expect(eq(int, r.status, 413));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 413));
    mc_resp_free(&r);
    free(big);
    /* the server still answers */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, NULL), 300);
    mc_assert_no_leaks();
}

Test(core, connection_close_is_echoed) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, "Connection: close");
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Connection"), "close"));
    mc_resp_free(&r);
}

Test(core, control_reset_profile_journal_and_clouds_yaml) {
    char *admin = mc_test_token("admin", "admin");
    mc_resp p = mc_call(EVHTTP_REQ_POST, "/identity/v3/projects", "{\"project\":{\"name\":\"gone\"}}", admin, NULL);
    cr_expect(eq(int, p.status, 201));
    mc_resp_free(&p);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL), 204);
    mc_resp r;
    /* tokens are part of the world: reset drops them */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/projects", NULL, admin, NULL), 401);
    free(admin);
    admin = mc_test_token("admin", "admin");
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/projects", NULL, admin, NULL), "projects", 3);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/profile", NULL, NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "conformant"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", "{\"profile\":\"no-such\"}", NULL, NULL), 404);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?limit=2", NULL, NULL, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "entries")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "entries.1.path"), "/mockcloud/v1/profile"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "entries.1.status"), 404));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/clouds.yaml", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(strstr(r.body, "mockcloud-admin:") != NULL);
    cr_expect(strstr(r.body, "/identity/v3") != NULL);
    mc_resp_free(&r);
    free(admin);
    mc_assert_no_leaks();
}

/* ---- security compliance (fixtures: 2 attempts, 10 s lockout, 2 unique) ---- */

static int login_status(const char *user_id, const char *password, char **msg) {
    char body[400];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
             "{\"id\":\"%s\",\"password\":\"%s\"}}}}}", user_id, password);
    mc_resp r = post_token(body);
    int st = r.status;
    if (msg) *msg = mc_jstr(r.json, "error.message") ? strdup(mc_jstr(r.json, "error.message")) : NULL;
    mc_resp_free(&r);
    return st;
}

static int change_password(const char *user_id, const char *orig, const char *pw) {
    char path[200], body[300];
    snprintf(path, sizeof path, "/identity/v3/users/%s/password", user_id);
    snprintf(body, sizeof body, "{\"user\":{\"original_password\":\"%s\",\"password\":\"%s\"}}", orig, pw);
    mc_resp r = mc_call(EVHTTP_REQ_POST, path, body, NULL, NULL);
    int st = r.status;
    mc_resp_free(&r);
    return st;
}

static void set_user_policy(const char *user_id, const char *key, double v) {
    mc_record *u = mc_store_find(&T.srv->world[MC_K_USER], user_id);
    cr_assert(u != NULL);
    cJSON_DeleteItemFromObjectCaseSensitive(u->doc, key);
    cJSON_AddNumberToObject(u->doc, key, v);
}

Test(identity, lockout_after_failures_then_unlocks_after_duration) {
    cr_expect(eq(int, login_status(DEMO_ID, "secret", NULL), 201));
    cr_expect(eq(int, login_status(DEMO_ID, "bad1", NULL), 401));
    cr_expect(eq(int, login_status(DEMO_ID, "bad2", NULL), 401));
    char *msg = NULL;
    /* locked: even the right password is refused, and says why */
    cr_expect(eq(int, login_status(DEMO_ID, "secret", &msg), 401));
    cr_assert(msg != NULL);
    cr_expect(strstr(msg, "locked") != NULL, "%s", msg);
    free(msg);
    /* the self-service password change is refused too */
    cr_expect(eq(int, change_password(DEMO_ID, "secret", "other-1"), 401));
    /* other users are not affected */
    cr_expect(eq(int, login_status(ALT_ID, "secret", NULL), 201));
    /* the lock ends lockout_duration after the last failure (10 s in the
     * fixture; shortened here) */
    set_user_policy(DEMO_ID, "_lockout_duration", 1);
    mc_test_sleep_ms(1100);
    cr_expect(eq(int, login_status(DEMO_ID, "secret", NULL), 201));
    /* success cleared the count: one failure does not lock */
    cr_expect(eq(int, login_status(DEMO_ID, "bad", NULL), 401));
    cr_expect(eq(int, login_status(DEMO_ID, "secret", NULL), 201));
    mc_assert_no_leaks();
}

Test(identity, lockout_duration_zero_locks_until_reset_and_option_exempts) {
    set_user_policy(DEMO_ID, "_lockout_duration", 0);
    cr_expect(eq(int, login_status(DEMO_ID, "bad1", NULL), 401));
    cr_expect(eq(int, login_status(DEMO_ID, "bad2", NULL), 401));
    mc_test_sleep_ms(1100);
    cr_expect(eq(int, login_status(DEMO_ID, "secret", NULL), 401));
    /* ignore_lockout_failure_attempts (Keystone's user option) exempts */
    char *admin = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, "/identity/v3/users/" ALT_ID,
                        "{\"user\":{\"options\":{\"ignore_lockout_failure_attempts\":true}}}", admin, NULL), 200);
    for (int i = 0; i < 4; i++) cr_expect(eq(int, login_status(ALT_ID, "bad", NULL), 401));
    cr_expect(eq(int, login_status(ALT_ID, "secret", NULL), 201));
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, users_created_through_the_api_get_the_policy) {
    char *admin = mc_test_token("admin", "admin");
    mc_resp u = mc_call(EVHTTP_REQ_POST, "/identity/v3/users",
                        "{\"user\":{\"name\":\"locky\",\"password\":\"pw-1\"}}", admin, NULL);
    cr_assert(eq(int, u.status, 201), "%s", u.body);
    cr_expect(mc_jpath(u.json, "user._lockout_failure_attempts") == NULL);   /* private */
    char id[64];
    snprintf(id, sizeof id, "%s", mc_jstr(u.json, "user.id"));
    mc_resp_free(&u);
    cr_expect(eq(int, login_status(id, "x", NULL), 401));
    cr_expect(eq(int, login_status(id, "y", NULL), 401));
    cr_expect(eq(int, login_status(id, "pw-1", NULL), 401));
    /* a user created without a password cannot log in with an empty one */
    u = mc_call(EVHTTP_REQ_POST, "/identity/v3/users", "{\"user\":{\"name\":\"nopw\"}}", admin, NULL);
    cr_assert(eq(int, u.status, 201));
    cr_expect(eq(int, login_status(mc_jstr(u.json, "user.id"), "", NULL), 401));
    mc_resp_free(&u);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, password_history_self_service_and_admin) {
    cr_expect(eq(int, change_password(DEMO_ID, "secret", "pw-1"), 204));
    /* the current password and the one before are both remembered (count 2) */
    cr_expect(eq(int, change_password(DEMO_ID, "pw-1", "pw-1"), 400));
    cr_expect(eq(int, change_password(DEMO_ID, "pw-1", "secret"), 400));
    cr_expect(eq(int, login_status(DEMO_ID, "pw-1", NULL), 201));
    cr_expect(eq(int, change_password(DEMO_ID, "pw-1", "pw-2"), 204));
    /* "secret" is now third back: allowed again */
    cr_expect(eq(int, change_password(DEMO_ID, "pw-2", "secret"), 204));
    cr_expect(eq(int, login_status(DEMO_ID, "secret", NULL), 201));
    /* wrong original password: 401 */
    cr_expect(eq(int, change_password(DEMO_ID, "nope", "pw-9"), 401));
    /* an admin's reset ignores the history (Keystone: only the user's own
     * change checks it; Tempest test_password_history_not_enforced_in_admin_reset) */
    char *admin = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, "/identity/v3/users/" DEMO_ID, "{\"user\":{\"password\":\"pw-2\"}}", admin, NULL), 200);
    cr_expect(eq(int, login_status(DEMO_ID, "pw-2", NULL), 201));
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, "/identity/v3/users/" DEMO_ID, "{\"user\":{\"password\":\"pw-2\"}}", admin, NULL), 200);
    cr_expect(eq(int, login_status(DEMO_ID, "pw-2", NULL), 201));
    /* the reset joins the history: the user's own change back to it is refused */
    cr_expect(eq(int, change_password(DEMO_ID, "pw-2", "pw-2"), 400));
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, revoked_token_as_auth_method_is_404) {
    char *tok = mc_test_token("demo", "demo");
    char hdr[300], body[400];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/identity/v3/auth/tokens", NULL, tok, hdr), 204);
    mc_resp r;
    snprintf(body, sizeof body, "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}}}}", tok);
    r = post_token(body);
    cr_expect(eq(int, r.status, 404), "%s", r.body);
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 404));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(identity, application_credential_expiry_keeps_microseconds) {
    char *demo = mc_test_token("demo", "demo");
    const char *exp[] = {"2099-11-25T12:37:06.125381", "2099-01-01T00:00:00.999999", "2099-01-01T00:00:00.000001"};
    for (int i = 0; i < 3; i++) {
        char body[200];
        snprintf(body, sizeof body, "{\"application_credential\":{\"name\":\"e%d\",\"expires_at\":\"%s\"}}", i, exp[i]);
        mc_resp c = mc_call(EVHTTP_REQ_POST, "/identity/v3/users/" DEMO_ID "/application_credentials", body, demo, NULL);
        cr_expect(eq(int, c.status, 201), "%s", c.body);
        cr_expect(eq(str, (char *)mc_jstr(c.json, "application_credential.expires_at"), (char *)exp[i]));
        mc_resp_free(&c);
    }
    free(demo);
    mc_assert_no_leaks();
}

/* Tokens are stored printed, without the catalog (auth.h): validation gives
 * back exactly what the issue gave (the catalog rebuilt), ?nocatalog drops
 * it, a token issued with ?nocatalog never has one, and a rescoped token
 * carries its parent's audit id second. */
Test(identity, validate_gives_back_the_issued_token) {
    static const char *auth =
        "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
        "{\"id\":\"" DEMO_ID "\",\"password\":\"secret\"}}},"
        "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}";
    mc_resp r = post_token(auth);
    cr_assert(eq(int, r.status, 201));
    const char *tok = mc_resp_header(&r, "X-Subject-Token");
    cr_assert(tok != NULL);
    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    mc_resp v = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, v.status, 200));
    cr_expect(cJSON_Compare(r.json, v.json, 1), "issued %s\nvalidated %s", r.body, v.body);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(v.json, "token.catalog")), 6));
    mc_resp_free(&v);
    v = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens?nocatalog", NULL, tok, hdr);
    cr_expect(eq(int, v.status, 200));
    cr_expect(mc_jpath(v.json, "token.catalog") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(v.json, "token.audit_ids.0"), (char *)mc_jstr(r.json, "token.audit_ids.0")));
    mc_resp_free(&v);

    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}},"
             "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}", tok);
    mc_resp r2 = post_token(body);
    cr_expect(eq(int, r2.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r2.json, "token.audit_ids.1"), (char *)mc_jstr(r.json, "token.audit_ids.0")));
    mc_resp_free(&r2);

    mc_resp n = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens?nocatalog", auth, NULL, NULL);
    cr_assert(eq(int, n.status, 201));
    cr_expect(mc_jpath(n.json, "token.catalog") == NULL);
    cr_expect(mc_jpath(n.json, "token.roles") != NULL);
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", mc_resp_header(&n, "X-Subject-Token"));
    v = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, v.status, 200));
    cr_expect(mc_jpath(v.json, "token.catalog") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(v.json, "token.project.id"), DEMO_PROJECT));
    mc_resp_free(&v);
    mc_resp_free(&n);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* Catalog ids are stable across restarts and builds (FNV-1a of type and
 * interface, printed as 32 hex digits): pinned to the values clients saw. */
Test(identity, catalog_ids_are_stable) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "catalog.0.type"), "identity"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "catalog.0.id"), "57fbdead837a3711c6d7b94cada5e7ff"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "catalog.0.endpoints.0.interface"), "public"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "catalog.0.endpoints.0.id"), "f2badff3a5a075c8ad1fa649a021e34a"));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

/* The catalog's printed text is cached (identity.c catalog_json). A body
 * time rule (naive-timestamps: nothing to strip in a catalog) turns the cache
 * off, so the same reply built as a tree must give the same bytes, before and
 * after a live switch to a catalog deviation; a token validation splices the
 * same text, and a cache hit still notes the deviation. */
static void profile_put(const char *body) {
    mc_resp r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", body, NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
}

static mc_resp catalog_get(const char *tok) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    return r;
}

Test(identity, cached_catalog_bytes_equal_the_tree) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp a1 = catalog_get(tok), a2 = catalog_get(tok);
    cr_expect(eq(str, a1.body, a2.body));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(a2.json, "catalog")), 6));
    profile_put("{\"profile\":\"conformant\",\"deviate\":[\"naive-timestamps\"]}");
    mc_resp a3 = catalog_get(tok);
    cr_expect(eq(str, a3.body, a2.body));

    /* validation carries the same catalog text */
    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    profile_put("{\"profile\":\"conformant\"}");
    mc_resp v = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, v.status, 200));
    const char *cat = strstr(a2.body, "\"catalog\":"), *end = strstr(a2.body, ",\"links\":");
    cr_assert(cat != NULL && end != NULL && end > cat);
    char *slice = strndup(cat, (size_t)(end - cat));
    cr_expect(strstr(v.body, slice) != NULL, "%s\nnot in\n%s", slice, v.body);
    free(slice);

    /* live switch to a catalog deviation: re-keyed, noted on every hit */
    profile_put("{\"profile\":\"no-neutron\"}");
    mc_resp b1 = catalog_get(tok), b2 = catalog_get(tok);
    cr_expect(eq(str, b1.body, b2.body));
    cr_expect(ne(str, b2.body, a2.body));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(b2.json, "catalog")), 5));
    cr_expect(strstr(b2.body, "\"network\"") == NULL);
    const char *dev = mc_resp_header(&b2, "X-Mockcloud-Deviations");
    cr_expect(dev != NULL && strstr(dev, "catalog-missing-network") != NULL);
    profile_put("{\"profile\":\"no-neutron\",\"deviate\":[\"naive-timestamps\"]}");
    mc_resp b3 = catalog_get(tok);
    cr_expect(eq(str, b3.body, b2.body));
    profile_put("{\"profile\":\"conformant\"}");
    mc_resp a4 = catalog_get(tok);
    cr_expect(eq(str, a4.body, a2.body));

    mc_resp *all[] = {&a1, &a2, &a3, &v, &b1, &b2, &b3, &a4};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mc_resp_free(all[i]);
    free(tok);
    mc_assert_no_leaks();
}

/* Token replies are sent from the token's stored text with the cached
 * catalog text spliced in (identity.c token_body_text). tenant-id-only (a
 * Neutron body rule: nothing of a token changes) turns that off, so the
 * tree's bytes must be the same: for issue and validation, with and without
 * the catalog (?nocatalog, unscoped), also after a live switch to a catalog
 * deviation; and the text is what cJSON prints for the parsed tree. */
static mc_resp validate_as(const char *auth, const char *subject, const char *query) {
    char hdr[300], path[100];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", subject);
    snprintf(path, sizeof path, "/identity/v3/auth/tokens%s", query);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, auth, hdr);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    return r;
}

static void expect_cjson_text(const char *body) {
    cJSON *j = cJSON_ParseWithLength(body, strlen(body));
    cr_assert(j != NULL, "%s", body);
    char *again = cJSON_PrintUnformatted(j);
    cr_expect(eq(str, again, (char *)body));
    cJSON_free(again);
    cJSON_Delete(j);
}

#define SCOPED_BODY "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":" \
    "{\"name\":\"demo\",\"domain\":{\"name\":\"Default\"},\"password\":\"secret\"}}}," \
    "\"scope\":{\"project\":{\"name\":\"demo\",\"domain\":{\"name\":\"Default\"}}}}}"
#define UNSCOPED_BODY "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":" \
    "{\"name\":\"demo\",\"domain\":{\"name\":\"Default\"},\"password\":\"secret\"}}},\"scope\":\"unscoped\"}}"

Test(identity, token_reply_splice_bytes_equal_the_tree) {
    static const char *const modes[] = {"{\"profile\":\"conformant\"}", "{\"profile\":\"no-neutron\"}"};
    for (size_t m = 0; m < 2; m++) {
        profile_put(modes[m]);
        mc_resp a = post_token(SCOPED_BODY);   /* spliced */
        cr_assert(eq(int, a.status, 201), "%s", a.body);
        const char *id = mc_resp_header(&a, "X-Subject-Token");
        cr_assert(id != NULL);
        expect_cjson_text(a.body);
        cJSON *tokj = mc_jpath(a.json, "token");
        cJSON *last = tokj->child;
        while (last->next != NULL) last = last->next;
        cr_expect(eq(str, last->string, "catalog"));
        mc_resp c = catalog_get(id);
        char *cat = cJSON_PrintUnformatted(mc_jpath(c.json, "catalog"));
        char *tcat = cJSON_PrintUnformatted(last);
        cr_expect(eq(str, tcat, cat));
        cJSON_free(cat);
        cJSON_free(tcat);
        mc_resp v1 = validate_as(id, id, ""), n1 = validate_as(id, id, "?nocatalog");
        cr_expect(eq(str, v1.body, a.body));
        cr_expect(strstr(n1.body, "\"catalog\"") == NULL);
        expect_cjson_text(n1.body);

        char tree[200];
        snprintf(tree, sizeof tree, "{\"profile\":\"%s\",\"deviate\":[\"tenant-id-only\"]}", m ? "no-neutron" : "conformant");
        profile_put(tree);
        mc_resp v2 = validate_as(id, id, ""), n2 = validate_as(id, id, "?nocatalog");
        cr_expect(eq(str, v2.body, a.body));
        cr_expect(eq(str, n2.body, n1.body));
        mc_resp b = post_token(SCOPED_BODY), u = post_token(UNSCOPED_BODY);   /* trees */
        cr_assert(eq(int, b.status, 201), "%s", b.body);
        cr_assert(eq(int, u.status, 201), "%s", u.body);
        const char *bid = mc_resp_header(&b, "X-Subject-Token"), *uid = mc_resp_header(&u, "X-Subject-Token");
        mc_resp ut = validate_as(id, uid, "");
        cr_expect(eq(str, ut.body, u.body));
        profile_put(modes[m]);
        mc_resp v3 = validate_as(id, bid, ""), us = validate_as(id, uid, "");   /* spliced again */
        cr_expect(eq(str, v3.body, b.body));
        cr_expect(eq(str, us.body, u.body));
        cr_expect(strstr(us.body, "\"catalog\"") == NULL);

        mc_resp *all[] = {&a, &c, &v1, &n1, &v2, &n2, &b, &u, &ut, &v3, &us};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) mc_resp_free(all[i]);
    }
    profile_put("{\"profile\":\"conformant\"}");
    mc_assert_no_leaks();
}

/* The journal takes the project from the request's token without a second
 * lookup while no token was dropped since auth; after a drop (here the
 * request revokes its own token) it looks again, as before: "" then. A
 * 404 before auth still names the project. And mockcloud writes the Date
 * header itself (libevent's format, once a second): exactly one. */
static cJSON *journal_last(void) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?service=identity&limit=1", NULL, NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    cJSON *e = cJSON_Duplicate(mc_jpath(r.json, "entries.0"), 1);
    mc_resp_free(&r);
    cr_assert(e != NULL);
    return e;
}

Test(core, journal_project_and_date_header) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = catalog_get(tok);
    const char *date = mc_resp_header(&r, "Date");
    cr_assert(date != NULL);
    char wd[4], mon[4], gmt[4];
    int day, year, h, m, s, n = 0;
    cr_expect(eq(int, sscanf(date, "%3s, %2d %3s %4d %2d:%2d:%2d %3s%n", wd, &day, mon, &year, &h, &m, &s, gmt, &n), 8));
    cr_expect(eq(sz, strlen(date), 29), "%s", date);
    cr_expect(eq(chr, date[3], ','));
    cr_expect(eq(str, gmt, "GMT"));
    int dates = 0;
    for (struct evkeyval *kv = r.headers->tqh_first; kv != NULL; kv = kv->next.tqe_next) dates += strcasecmp(kv->key, "Date") == 0;
    cr_expect(eq(int, dates, 1));
    mc_resp_free(&r);
    cJSON *e = journal_last();
    cr_expect(eq(str, (char *)mc_jstr(e, "project_id"), DEMO_PROJECT));
    cJSON_Delete(e);

    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/nope", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    mc_resp_free(&r);
    e = journal_last();
    cr_expect(eq(str, (char *)mc_jstr(e, "project_id"), DEMO_PROJECT));
    cJSON_Delete(e);

    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    r = mc_call(EVHTTP_REQ_DELETE, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, r.status, 204));
    mc_resp_free(&r);
    e = journal_last();
    cr_expect(eq(str, (char *)mc_jstr(e, "method"), "DELETE"));
    cr_expect(mc_jpath(e, "project_id") == NULL);
    cJSON_Delete(e);
    free(tok);
    mc_assert_no_leaks();
}

/* ---- credentials (/v3/credentials) and EC2 credentials (OS-EC2) ---- */

#define ALT_PROJECT "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f"
#define EC2_PATH "/identity/v3/users/" DEMO_ID "/credentials/OS-EC2"

/* EC2 create gives access/secret/tenant_id/user_id/trust_id/links; the same
 * record is a credential of type ec2 with id sha256(access), blob JSON. */
Test(identity, ec2_credential_create_show_list_delete) {
    char *demo = mc_test_token("demo", "demo");
    mc_resp c = mc_call(EVHTTP_REQ_POST, EC2_PATH, "{\"tenant_id\":\"" DEMO_PROJECT "\"}", demo, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    const char *access = mc_jstr(c.json, "credential.access");
    cr_assert(access != NULL);
    cr_expect(eq(sz, strlen(access), 32));
    cr_expect(eq(sz, strlen(mc_jstr(c.json, "credential.secret")), 32));
    cr_expect(eq(str, (char *)mc_jstr(c.json, "credential.tenant_id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(c.json, "credential.user_id"), DEMO_ID));
    cr_expect(cJSON_IsNull(mc_jpath(c.json, "credential.trust_id")));
    const char *self = mc_jstr(c.json, "credential.links.self");
    cr_assert(self != NULL);
    cr_expect(strstr(self, mc_pathf("/identity/v3/users/%s/credentials/OS-EC2/%s", DEMO_ID, access)) != NULL, "%s", self);

    mc_resp s = mc_call(EVHTTP_REQ_GET, mc_pathf(EC2_PATH "/%s", access), NULL, demo, NULL);
    cr_expect(eq(int, s.status, 200), "%s", s.body);
    cr_expect(eq(str, (char *)mc_jstr(s.json, "credential.secret"), (char *)mc_jstr(c.json, "credential.secret")));
    mc_resp_free(&s);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, EC2_PATH, NULL, demo, NULL), "credentials", 1);

    /* the generic API shows it: type ec2, blob with access and secret */
    mc_resp l = mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials?type=ec2", NULL, demo, NULL);
    cr_assert(eq(int, l.status, 200), "%s", l.body);
    cr_assert(eq(int, cJSON_GetArraySize(mc_jpath(l.json, "credentials")), 1));
    cr_expect(eq(str, (char *)mc_jstr(l.json, "credentials.0.type"), "ec2"));
    cr_expect(eq(str, (char *)mc_jstr(l.json, "credentials.0.project_id"), DEMO_PROJECT));
    cJSON *blob = cJSON_Parse(mc_jstr(l.json, "credentials.0.blob"));
    cr_expect(eq(str, (char *)mc_jstr(blob, "access"), (char *)access));
    cr_expect(eq(str, (char *)mc_jstr(blob, "secret"), (char *)mc_jstr(c.json, "credential.secret")));
    cJSON_Delete(blob);
    cr_expect(eq(sz, strlen(mc_jstr(l.json, "credentials.0.id")), 64));
    mc_resp_free(&l);

    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(EC2_PATH "/%s", access), NULL, demo, NULL), 204);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf(EC2_PATH "/%s", access), NULL, demo, NULL), MC_IDENTITY, 404, NULL);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials", NULL, demo, NULL), "credentials", 0);
    mc_resp_free(&c);
    free(demo);
    mc_assert_no_leaks();
}

/* A user manages their own EC2 credentials; another user's are 403, as
 * Keystone's policy; an admin manages all. Unknown user/project: 404. */
Test(identity, ec2_credential_ownership) {
    char *demo = mc_test_token("demo", "demo"), *alt = mc_test_token("alt_demo", "alt_demo");
    char *admin = mc_test_token("admin", "admin");
    mc_resp c = mc_call(EVHTTP_REQ_POST, EC2_PATH, "{\"tenant_id\":\"" DEMO_PROJECT "\"}", demo, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    const char *access = mc_jstr(c.json, "credential.access");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, EC2_PATH, "{\"tenant_id\":\"" ALT_PROJECT "\"}", alt, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, EC2_PATH, NULL, alt, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf(EC2_PATH "/%s", access), NULL, alt, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/identity/v3/users/" ALT_ID "/credentials/OS-EC2/%s", access), NULL, alt, NULL),
                    MC_IDENTITY, 403, NULL);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials", NULL, alt, NULL), "credentials", 0);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials/nope", NULL, alt, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, EC2_PATH, "{\"tenant_id\":\"nope\"}", demo, NULL), MC_IDENTITY, 404,
                    "Could not find project: nope.");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, EC2_PATH, "{}", demo, NULL), MC_IDENTITY, 404, "Could not find project: None.");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/users/nope/credentials/OS-EC2", "{\"tenant_id\":\"" DEMO_PROJECT "\"}", admin, NULL),
                    MC_IDENTITY, 404, "Could not find user: nope.");
    mc_expect_error(mc_call(EVHTTP_REQ_GET, EC2_PATH "/unknown", NULL, demo, NULL), MC_IDENTITY, 404, NULL);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, EC2_PATH, NULL, admin, NULL), "credentials", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials?user_id=" DEMO_ID, NULL, admin, NULL), "credentials", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(EC2_PATH "/%s", access), NULL, admin, NULL), 204);
    mc_resp_free(&c);
    free(demo);
    free(alt);
    free(admin);
    mc_assert_no_leaks();
}

/* The generic API: create (ec2 id = sha256(access)), show, update, delete;
 * validation in Keystone's words; credentials go with their user. */
Test(identity, credentials_crud_and_validation) {
    char *demo = mc_test_token("demo", "demo"), *admin = mc_test_token("admin", "admin");
    mc_resp c = mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials",
                        "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"project_id\":\"" DEMO_PROJECT "\","
                        "\"blob\":\"{\\\"access\\\":\\\"demo-access-1\\\",\\\"secret\\\":\\\"s\\\"}\"}}",
                        demo, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    cr_expect(eq(str, (char *)mc_jstr(c.json, "credential.id"), "daf8c646a08897efcef0025986a45181f302a10fd93b9abb23cec4dd060c8c91"));
    cr_expect(strstr(mc_jstr(c.json, "credential.links.self"), "/identity/v3/credentials/daf8c646") != NULL);
    mc_resp_free(&c);
    /* the EC2 API finds it by its access key */
    mc_resp s = mc_call(EVHTTP_REQ_GET, EC2_PATH "/demo-access-1", NULL, demo, NULL);
    cr_expect(eq(int, s.status, 200), "%s", s.body);
    cr_expect(eq(str, (char *)mc_jstr(s.json, "credential.secret"), "s"));
    mc_resp_free(&s);
    const char *cred = "/identity/v3/credentials/daf8c646a08897efcef0025986a45181f302a10fd93b9abb23cec4dd060c8c91";
    mc_resp u = mc_call(EVHTTP_REQ_PATCH, cred, "{\"credential\":{\"blob\":\"{\\\"access\\\":\\\"demo-access-1\\\",\\\"secret\\\":\\\"t\\\"}\"}}", demo, NULL);
    cr_expect(eq(int, u.status, 200), "%s", u.body);
    cr_expect(strstr(mc_jstr(u.json, "credential.blob"), "\"t\"") != NULL);
    mc_resp_free(&u);
    mc_expect_error(mc_call(EVHTTP_REQ_PATCH, cred, "{\"credential\":{\"id\":\"other\"}}", demo, NULL), MC_IDENTITY, 400, "Cannot change ID");
    mc_expect_error(mc_call(EVHTTP_REQ_PATCH, cred, "{\"credential\":{\"project_id\":null}}", demo, NULL), MC_IDENTITY, 400,
                    "Credential type ec2 requires project_id");
    /* duplicate access key */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials",
                            "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"project_id\":\"" DEMO_PROJECT "\","
                            "\"blob\":\"{\\\"access\\\":\\\"demo-access-1\\\"}\"}}", demo, NULL), MC_IDENTITY, 409, NULL);
    /* validation */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials", "{\"credential\":{\"type\":\"totp\",\"user_id\":\"" DEMO_ID "\"}}", demo, NULL),
                    MC_IDENTITY, 400, "Invalid input for field 'credential': 'blob' is a required property");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials",
                            "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"project_id\":\"" DEMO_PROJECT "\",\"blob\":\"not json\"}}",
                            demo, NULL), MC_IDENTITY, 400, "Invalid blob in credential");
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials",
                            "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"project_id\":\"" DEMO_PROJECT "\",\"blob\":\"{\\\"secret\\\":\\\"x\\\"}\"}}",
                            demo, NULL), MC_IDENTITY, 400, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials",
                            "{\"credential\":{\"type\":\"ec2\",\"user_id\":\"" DEMO_ID "\",\"blob\":\"{\\\"access\\\":\\\"x\\\"}\"}}",
                            demo, NULL), MC_IDENTITY, 400, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials", "{\"credential\":{\"type\":\"cert\",\"user_id\":\"" DEMO_ID "\",\"blob\":5}}",
                            demo, NULL), MC_IDENTITY, 400, NULL);
    /* another user's: 403 for a user, fine for an admin */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials", "{\"credential\":{\"type\":\"cert\",\"user_id\":\"" ALT_ID "\",\"blob\":\"b\"}}",
                            demo, NULL), MC_IDENTITY, 403, NULL);
    mc_resp a = mc_call(EVHTTP_REQ_POST, "/identity/v3/credentials", "{\"credential\":{\"type\":\"cert\",\"user_id\":\"" ALT_ID "\",\"blob\":\"b\"}}",
                        admin, NULL);
    cr_assert(eq(int, a.status, 201), "%s", a.body);
    cr_expect(eq(sz, strlen(mc_jstr(a.json, "credential.id")), 32));
    cr_expect(cJSON_IsNull(mc_jpath(a.json, "credential.project_id")));
    const char *alt_cred = mc_pathf("/identity/v3/credentials/%s", mc_jstr(a.json, "credential.id"));
    mc_expect_error(mc_call(EVHTTP_REQ_GET, alt_cred, NULL, demo, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, alt_cred, NULL, demo, NULL), MC_IDENTITY, 403, NULL);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials", NULL, demo, NULL), "credentials", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials", NULL, admin, NULL), "credentials", 2);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials?type=cert", NULL, admin, NULL), "credentials", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, alt_cred, NULL, admin, NULL), 200);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/identity/v3/credentials/nope", NULL, admin, NULL), MC_IDENTITY, 404,
                    "Could not find credential: nope.");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, cred, NULL, demo, NULL), 204);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, cred, NULL, admin, NULL), MC_IDENTITY, 404, NULL);
    mc_resp_free(&a);

    /* a user's credentials are deleted with the user */
    mc_resp nu = mc_call(EVHTTP_REQ_POST, "/identity/v3/users", "{\"user\":{\"name\":\"credtest\",\"password\":\"pw\"}}", admin, NULL);
    cr_assert(eq(int, nu.status, 201), "%s", nu.body);
    const char *uid = mc_jstr(nu.json, "user.id");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, mc_pathf("/identity/v3/users/%s/credentials/OS-EC2", uid), "{\"tenant_id\":\"" DEMO_PROJECT "\"}",
                             admin, NULL), 201);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf("/identity/v3/credentials?user_id=%s", uid), NULL, admin, NULL), "credentials", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/identity/v3/users/%s", uid), NULL, admin, NULL), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf("/identity/v3/credentials?user_id=%s", uid), NULL, admin, NULL), "credentials", 0);
    mc_resp_free(&nu);
    free(demo);
    free(admin);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- bounded tokens
 *
 * Tokens carry themselves (auth.c): the table keeps only the most recent
 * ones. These tests shrink it, push a token out of it and check that the
 * token still validates with the same bytes, and that every way a token
 * ends (revocation, user password change, application credential deleted,
 * expiry, reset, a forged id) still ends it once it is out of the table. */

#include "auth.h"

static char *issue_demo_pw(mc_resp *out, const char *password) {
    mc_resp r = post_token(mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                                    "{\"id\":\"" DEMO_ID "\",\"password\":\"%s\"}}},"
                                    "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}", password));
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *tok = strdup(mc_resp_header(&r, "X-Subject-Token"));
    if (out != NULL) *out = r;
    else mc_resp_free(&r);
    return tok;
}

static char *issue_demo(mc_resp *out) { return issue_demo_pw(out, "secret"); }

/* Issues 'n' admin tokens: the older tokens leave the table. */
static void push_out(int n) {
    for (int i = 0; i < n; i++) free(mc_test_token("admin", "admin"));
}

static mc_resp validate(const char *as, const char *subject) {
    return mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/tokens", NULL, as, mc_pathf("X-Subject-Token: %s", subject));
}

Test(identity, tokens_are_bounded_and_old_ones_still_validate, .timeout = 300) {
    mc_auth_set_cache(T.srv, 16);
    mc_resp issued;
    char *first = issue_demo(&issued);
    mc_resp v0 = validate(first, first);
    cr_assert(eq(int, v0.status, 200));
    /* 20,000 tokens later the table still holds 16, and no event was kept */
    push_out(20000);
    cr_expect(le(sz, mc_auth_count(T.srv), 16));
    cr_expect(eq(sz, mc_auth_events(T.srv), 0));
    uint64_t before = mc_auth_rebuilds(T.srv);
    char *admin = mc_test_token("admin", "admin");
    mc_resp v1 = validate(admin, first);
    cr_expect(eq(int, v1.status, 200));
    cr_expect(eq(u64, mc_auth_rebuilds(T.srv), before + 1), "the token came back from its id");
    /* the same bytes as before it left the table, and as issued */
    cr_expect(eq(str, v1.body, v0.body));
    cr_expect(eq(str, v1.body, issued.body));
    /* and it authenticates, as demo on demo's project */
    mc_resp s = mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers", NULL, first, NULL);
    cr_expect(eq(int, s.status, 200), "%s", s.body);
    mc_resp_free(&s);
    mc_expect_status(mc_call(EVHTTP_REQ_HEAD, "/identity/v3/auth/tokens", NULL, admin,
                             mc_pathf("X-Subject-Token: %s", first)), 200);
    mc_resp_free(&v0);
    mc_resp_free(&v1);
    mc_resp_free(&issued);
    free(first);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, evicted_token_revocation_and_rescoping) {
    mc_auth_set_cache(T.srv, 2);
    char *a = issue_demo(NULL);
    char *b = issue_demo(NULL);
    push_out(4);
    char *admin = mc_test_token("admin", "admin");
    /* the token method takes a token that is out of the table */
    char body[900];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}},"
             "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}", b);
    push_out(4);
    mc_resp r = post_token(body);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    mc_resp_free(&r);
    /* revoke 'a' while it is out of the table, then again while it is in */
    push_out(4);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/identity/v3/auth/tokens", NULL, admin,
                             mc_pathf("X-Subject-Token: %s", a)), 204);
    push_out(4);
    mc_expect_status(validate(admin, a), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, a, NULL), 401);
    snprintf(body, sizeof body, "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}}}}", a);
    mc_expect_status(post_token(body), 404);
    /* 'b' is not touched by revoking 'a' */
    mc_expect_status(validate(admin, b), 200);
    cr_expect(eq(sz, mc_auth_events(T.srv), 1));
    free(a);
    free(b);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, evicted_tokens_of_a_user_go_with_a_password_change) {
    mc_auth_set_cache(T.srv, 2);
    char *old = issue_demo(NULL);
    push_out(4);
    char *admin = mc_test_token("admin", "admin");
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, "/identity/v3/users/" DEMO_ID,
                             "{\"user\":{\"password\":\"secret-2\"}}", admin, NULL), 200);
    mc_expect_status(validate(admin, old), 404);
    /* a token issued after the change is valid, in the table or out of it */
    char *fresh = issue_demo_pw(NULL, "secret-2");
    mc_expect_status(validate(admin, fresh), 200);
    push_out(4);
    free(admin);
    admin = mc_test_token("admin", "admin");
    mc_expect_status(validate(admin, fresh), 200);
    mc_expect_status(validate(admin, old), 404);
    free(old);
    free(fresh);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, evicted_application_credential_token_goes_with_the_credential) {
    char *demo = mc_test_token("demo", "demo");
    mc_resp c = mc_call(EVHTTP_REQ_POST, "/identity/v3/users/" DEMO_ID "/application_credentials",
                        "{\"application_credential\":{\"name\":\"ci\"}}", demo, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    char body[600];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],\"application_credential\":"
             "{\"id\":\"%s\",\"secret\":\"%s\"}}}}",
             mc_jstr(c.json, "application_credential.id"), mc_jstr(c.json, "application_credential.secret"));
    mc_resp t = post_token(body);
    cr_assert(eq(int, t.status, 201), "%s", t.body);
    char *ac = strdup(mc_resp_header(&t, "X-Subject-Token"));
    mc_auth_set_cache(T.srv, 2);
    push_out(4);
    char *admin = mc_test_token("admin", "admin");
    mc_resp v = validate(admin, ac);
    cr_expect(eq(int, v.status, 200));
    cr_expect(eq(str, v.body, t.body), "rebuilt with its application_credential member");
    mc_resp_free(&v);
    push_out(4);
    free(demo);
    demo = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf("/identity/v3/users/" DEMO_ID "/application_credentials/%s",
                                                           mc_jstr(c.json, "application_credential.id")),
                             NULL, demo, NULL), 204);
    free(admin);
    admin = mc_test_token("admin", "admin");
    mc_expect_status(validate(admin, ac), 404);
    mc_resp_free(&t);
    mc_resp_free(&c);
    free(ac);
    free(demo);
    free(admin);
    mc_assert_no_leaks();
}

Test(identity, evicted_token_expires_and_forged_ids_are_401) {
    T.srv->cfg.token_ttl = 1;
    mc_auth_set_cache(T.srv, 1);
    char *tok = mc_test_token("demo", "demo");
    char *other = mc_test_token("demo", "demo");   /* 'tok' leaves the table */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 200);
    /* one character changed anywhere: the MAC no longer matches */
    size_t n = strlen(tok);
    for (size_t i = 6; i < n; i += 7) {
        char *bad = strdup(tok);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, bad, NULL), 401);
        free(bad);
    }
    free(mc_test_token("demo", "demo"));
    mc_test_sleep_ms(1100);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 401);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, other, NULL), 401);
    free(tok);
    free(other);
}

Test(identity, reset_ends_evicted_tokens_too) {
    mc_auth_set_cache(T.srv, 1);
    char *tok = mc_test_token("demo", "demo");
    push_out(2);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 401);
    free(tok);
    mc_assert_no_leaks();
}

/* While a request waits (a fault's delay), more than MC_TOKEN_RETIRED
 * tokens leave the table and its own token is freed: the handler must not
 * read the freed token (ASan), but the token looked up again; a token
 * revoked meanwhile is a 401. */
static void flood_tokens(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    if (arg != NULL) mc_auth_revoke(T.srv, arg);
    mc_auth_set_cache(T.srv, 1);
    for (int i = 0; i < 3 * MC_TOKEN_RETIRED; i++) {
        mc_token *t = mc_auth_token_new(T.srv);
        memcpy(t->user_id, "nobody", 7);
        mc_auth_add(T.srv, t);
    }
}

static mc_resp deferred_catalog(const char *tok, bool revoke) {
    mc_resp f = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/faults",
                        "{\"path\":\"/identity/v3/auth/catalog\",\"delay_ms\":200,\"count\":1}", NULL, NULL);
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    struct event *ev = evtimer_new(T.base, flood_tokens, revoke ? (void *)tok : NULL);
    struct timeval tv = {0, 50000};
    evtimer_add(ev, &tv);
    uint64_t drops = T.srv->token_drops;
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL);
    cr_expect(ge(u64, T.srv->token_drops, drops + 2 * MC_TOKEN_RETIRED), "the token was freed while it waited");
    event_free(ev);
    return r;
}

Test(identity, deferred_request_outlives_its_token_in_the_table) {
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = deferred_catalog(tok, false);
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(mc_jpath(r.json, "catalog") != NULL);
    mc_resp_free(&r);
    free(tok);
    tok = mc_test_token("demo", "demo");
    mc_expect_status(deferred_catalog(tok, true), 401);
    free(tok);
    mc_assert_no_leaks();
}
