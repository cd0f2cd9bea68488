/* HTTP tests of what a token carries in its id and how it ends once it is
 * out of the table of recent tokens (auth.c): trust-scoped tokens rebuilt
 * with their trust, revocation events by project, domain and trust that
 * outlive a disable/enable, the events' pruning, and system-scoped tokens
 * ({"system": {"all": true}}) with what a system admin or reader may do;
 * application credential access rules. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "harness.h"

#define DEMO_ID "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_ID "a7b8c9d0e1f243a5b6c7d8e9f0a1b2c3"
#define V3 "/identity/v3"

static char *adm;

static void setup(void) {
    mc_test_start(NULL);
    adm = mc_test_token("admin", "admin");
}
static void teardown(void) {
    free(adm);
    mc_test_stop();
}

TestSuite(ktokens, .init = setup, .fini = teardown);

static mc_resp post_token(const char *body) { return mc_call(EVHTTP_REQ_POST, V3 "/auth/tokens", body, NULL, NULL); }

static mc_resp validate(const char *as, const char *subject) {
    return mc_call(EVHTTP_REQ_GET, V3 "/auth/tokens", NULL, as, mc_pathf("X-Subject-Token: %s", subject));
}

/* The subject token of a 201 reply (caller frees), the reply freed. */
static char *subject_of(mc_resp r) {
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *tok = strdup(mc_resp_header(&r, "X-Subject-Token"));
    mc_resp_free(&r);
    return tok;
}

/* Issues 'n' admin tokens: the older tokens leave a small table. */
static void push_out(int n) {
    for (int i = 0; i < n; i++) free(mc_test_token("admin", "admin"));
}

/* A password token of user 'name' (domain Default) with 'scope' (JSON, may be NULL). */
static mc_resp password_token(const char *name, const char *password, const char *scope) {
    return post_token(mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"%s\","
                               "\"domain\":{\"id\":\"default\"},\"password\":\"%s\"}}}%s%s}}",
                               name, password, scope ? ",\"scope\":" : "", scope ? scope : ""));
}

/* ---------------------------------------------------------------- trusts */

static char *demo_trust(bool impersonation) {
    char *demo = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/OS-TRUST/trusts",
                        mc_pathf("{\"trust\":{\"trustor_user_id\":\"" DEMO_ID "\",\"trustee_user_id\":\"" ALT_ID "\","
                                 "\"project_id\":\"" DEMO_PROJECT "\",\"impersonation\":%s,\"roles\":[{\"name\":\"member\"}]}}",
                                 impersonation ? "true" : "false"),
                        demo, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "trust.id"));
    mc_resp_free(&r);
    free(demo);
    return id;
}

static char *trust_token(const char *trust_id) {
    return subject_of(password_token("alt_demo", "secret", mc_pathf("{\"OS-TRUST:trust\":{\"id\":\"%s\"}}", trust_id)));
}

/* Keystone's TrustScopedPayload: the trust id is in the token, so a token
 * validated from its id alone is still trust-scoped (the trustee has no
 * role of its own on demo's project: without the trust it is not valid). */
Test(ktokens, trust_scoped_token_rebuilt_keeps_its_trust) {
    mc_auth_set_cache(T.srv, 4);
    char *trust = demo_trust(false);
    char *tok = trust_token(trust);
    mc_resp v0 = validate(adm, tok);
    cr_assert(eq(int, v0.status, 200), "%s", v0.body);
    push_out(8);
    uint64_t rebuilds = mc_auth_rebuilds(T.srv);
    mc_resp v1 = validate(adm, tok);
    cr_assert(eq(int, v1.status, 200), "%s", v1.body);
    cr_expect(gt(u64, mc_auth_rebuilds(T.srv), rebuilds));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.OS-TRUST:trust.id"), trust));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.OS-TRUST:trust.trustee_user.id"), ALT_ID));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.OS-TRUST:trust.trustor_user.id"), DEMO_ID));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.user.id"), ALT_ID));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.project.id"), DEMO_PROJECT));
    cr_expect(eq(str, (char *)mc_jstr(v1.json, "token.roles.0.name"), "member"));
    /* the same bytes as issued */
    cr_expect(eq(str, v1.body, v0.body));
    mc_resp_free(&v0);
    mc_resp_free(&v1);
    /* deleting the trust ends it, out of the table and in it alike */
    char *cached = trust_token(trust);
    push_out(8);
    char *fresh = trust_token(trust);
    char *demo = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(V3 "/OS-TRUST/trusts/%s", trust), NULL, demo, NULL), 204);
    mc_expect_status(validate(adm, tok), 404);
    mc_expect_status(validate(adm, cached), 404);
    mc_expect_status(validate(adm, fresh), 404);
    free(demo);
    free(fresh);
    free(cached);
    free(tok);
    free(trust);
    mc_assert_no_leaks();
}

/* With impersonation the token is the trustor's: rebuilt, it still carries
 * the trust (not an ordinary token of demo's). */
Test(ktokens, impersonating_trust_token_rebuilt_keeps_its_trust) {
    mc_auth_set_cache(T.srv, 4);
    char *trust = demo_trust(true);
    char *tok = trust_token(trust);
    push_out(8);
    mc_resp v = validate(adm, tok);
    cr_assert(eq(int, v.status, 200), "%s", v.body);
    cr_expect(eq(str, (char *)mc_jstr(v.json, "token.user.id"), DEMO_ID));
    cr_expect(cJSON_IsTrue(mc_jpath(v.json, "token.OS-TRUST:trust.impersonation")));
    mc_resp_free(&v);
    free(tok);
    free(trust);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- revocation by scope */

static void set_enabled(const char *kind, const char *id, bool on) {
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, mc_pathf(V3 "/%ss/%s", kind, id),
                             mc_pathf("{\"%s\":{\"enabled\":%s}}", kind, on ? "true" : "false"), adm, NULL),
                     200);
}

/* Keystone emits a revocation event by project id when a project is
 * disabled: its tokens stay revoked after it is enabled again, in the table
 * or rebuilt from their id. */
Test(ktokens, project_disable_revokes_for_good) {
    mc_auth_set_cache(T.srv, 4);
    char *old = mc_test_token("demo", "demo");
    push_out(8);
    char *recent = mc_test_token("demo", "demo");
    set_enabled("project", DEMO_PROJECT, false);
    mc_expect_status(validate(adm, recent), 404);
    set_enabled("project", DEMO_PROJECT, true);
    mc_expect_status(validate(adm, old), 404);
    mc_expect_status(validate(adm, recent), 404);
    /* a token issued afterwards is fine, in the table and out of it */
    char *after = mc_test_token("demo", "demo");
    mc_expect_status(validate(adm, after), 200);
    push_out(8);
    mc_expect_status(validate(adm, after), 200);
    free(after);
    free(recent);
    free(old);
    mc_assert_no_leaks();
}

/* A domain's disable: its users' tokens and those scoped to its projects
 * (of users from elsewhere too), for good. */
Test(ktokens, domain_disable_revokes_for_good) {
    mc_auth_set_cache(T.srv, 4);
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"dd\"}}", adm, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char did[64];
    snprintf(did, sizeof did, "%s", mc_jstr(r.json, "domain.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, V3 "/projects", mc_pathf("{\"project\":{\"name\":\"dp\",\"domain_id\":\"%s\"}}", did), adm, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char pid[64];
    snprintf(pid, sizeof pid, "%s", mc_jstr(r.json, "project.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_POST, V3 "/users", mc_pathf("{\"user\":{\"name\":\"du\",\"password\":\"pw\",\"domain_id\":\"%s\"}}", did),
                adm, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char uid[64];
    snprintf(uid, sizeof uid, "%s", mc_jstr(r.json, "user.id"));
    mc_resp_free(&r);
    mc_resp role = mc_call(EVHTTP_REQ_GET, V3 "/roles?name=member", NULL, adm, NULL);
    char rid[64];
    snprintf(rid, sizeof rid, "%s", mc_jstr(role.json, "roles.0.id"));
    mc_resp_free(&role);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/%s/roles/%s", pid, uid, rid), NULL, adm, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/" DEMO_ID "/roles/%s", pid, rid), NULL, adm, NULL), 204);
    /* du's own token (unscoped), and demo's (domain Default) on dp */
    char *own = subject_of(post_token(mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                                               "{\"id\":\"%s\",\"password\":\"pw\"}}}}}", uid)));
    char *guest = subject_of(password_token("demo", "secret", mc_pathf("{\"project\":{\"id\":\"%s\"}}", pid)));
    char *other = mc_test_token("demo", "demo");   /* not of the domain */
    push_out(8);
    mc_expect_status(validate(adm, own), 200);
    mc_expect_status(validate(adm, guest), 200);
    push_out(8);
    set_enabled("domain", did, false);
    set_enabled("domain", did, true);
    mc_expect_status(validate(adm, own), 404);
    mc_expect_status(validate(adm, guest), 404);
    mc_expect_status(validate(adm, other), 200);
    free(other);
    free(guest);
    free(own);
    mc_assert_no_leaks();
}

/* A user disabled and enabled again: the old tokens stay revoked. */
Test(ktokens, user_disable_revokes_for_good) {
    mc_auth_set_cache(T.srv, 4);
    char *old = mc_test_token("demo", "demo");
    push_out(8);
    set_enabled("user", DEMO_ID, false);
    set_enabled("user", DEMO_ID, true);
    mc_expect_status(validate(adm, old), 404);
    free(old);
    mc_assert_no_leaks();
}

/* Events are dropped once no token they could match is alive: with a
 * 1-second lifetime, 300 disabled projects leave few events a while later. */
Test(ktokens, revocation_events_are_pruned_after_the_longest_lifetime, .timeout = 60) {
    mc_auth_clear(T.srv);   /* forget the admin token's hour-long lifetime */
    T.srv->cfg.token_ttl = 1;
    free(mc_test_token("demo", "demo"));
    size_t before = mc_auth_events(T.srv);
    for (int i = 0; i < 300; i++)
        mc_auth_revoke_by(T.srv, MC_REVOKE_PROJECT, mc_pathf("p%d", i));
    cr_expect(ge(sz, mc_auth_events(T.srv), before + 300 - 256));
    mc_test_sleep_ms(1300);
    for (int i = 0; i < 300; i++) mc_auth_revoke_by(T.srv, MC_REVOKE_DOMAIN, mc_pathf("d%d", i));
    /* the first 300 are gone: at most the second batch is held */
    cr_expect(le(sz, mc_auth_events(T.srv), 300), "%zu events", mc_auth_events(T.srv));
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- system scope */

Test(ktokens, system_scoped_token_issue_validate_and_rebuild) {
    mc_auth_set_cache(T.srv, 4);
    mc_resp r = password_token("admin", "secret", "{\"system\":{\"all\":true}}");
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "token.system.all")));
    cr_expect(mc_jpath(r.json, "token.project") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.roles.0.name"), "admin"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "token.roles")), 3));   /* admin, member, reader */
    cr_expect(gt(int, cJSON_GetArraySize(mc_jpath(r.json, "token.catalog")), 0));
    char *sys = strdup(mc_resp_header(&r, "X-Subject-Token"));
    mc_resp v0 = validate(sys, sys);
    cr_assert(eq(int, v0.status, 200), "%s", v0.body);
    /* a system admin may use the admin APIs */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users", NULL, sys, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", "{\"role\":{\"name\":\"sysmade\"}}", sys, NULL), 201);
    push_out(8);
    mc_resp v1 = validate(adm, sys);
    cr_assert(eq(int, v1.status, 200), "%s", v1.body);
    cr_expect(cJSON_IsTrue(mc_jpath(v1.json, "token.system.all")));
    mc_resp_free(&v0);
    mc_resp_free(&v1);
    mc_resp_free(&r);
    /* without a system grant: 401; a malformed system scope: 400 */
    mc_expect_status(password_token("demo", "secret", "{\"system\":{\"all\":true}}"), 401);
    mc_expect_status(password_token("admin", "secret", "{\"system\":{\"all\":1}}"), 400);
    mc_expect_status(password_token("admin", "secret", "{\"system\":{}}"), 400);
    /* the system grant removed: the rebuilt token is no longer valid */
    mc_resp role = mc_call(EVHTTP_REQ_GET, V3 "/roles?name=admin", NULL, adm, NULL);
    char rid[64], uid[64];
    snprintf(rid, sizeof rid, "%s", mc_jstr(role.json, "roles.0.id"));
    mc_resp_free(&role);
    mc_resp u = mc_call(EVHTTP_REQ_GET, V3 "/users?name=admin", NULL, adm, NULL);
    snprintf(uid, sizeof uid, "%s", mc_jstr(u.json, "users.0.id"));
    mc_resp_free(&u);
    push_out(8);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(V3 "/system/users/%s/roles/%s", uid, rid), NULL, adm, NULL), 204);
    mc_expect_status(validate(adm, sys), 404);
    free(sys);
    mc_assert_no_leaks();
}

/* Keystone's default policies: a system reader reads the admin APIs, and
 * writes nothing. */
Test(ktokens, system_reader_reads_but_does_not_write) {
    mc_resp role = mc_call(EVHTTP_REQ_GET, V3 "/roles?name=reader", NULL, adm, NULL);
    char rid[64];
    snprintf(rid, sizeof rid, "%s", mc_jstr(role.json, "roles.0.id"));
    mc_resp_free(&role);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(V3 "/system/users/" DEMO_ID "/roles/%s", rid), NULL, adm, NULL), 204);
    char *sys = subject_of(password_token("demo", "secret", "{\"system\":{\"all\":true}}"));
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users", NULL, sys, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_inferences", NULL, sys, NULL), 200);
    /* the handlers' own checks too: every project, another user, all assignments */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/projects", NULL, sys, NULL), "projects", 3);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users/" ALT_ID, NULL, sys, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments", NULL, sys, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_PATCH, V3 "/projects/" DEMO_PROJECT, "{\"project\":{\"description\":\"x\"}}", sys, NULL),
                     403);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", "{\"role\":{\"name\":\"nope\"}}", sys, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, V3 "/users/" ALT_ID, NULL, sys, NULL), 403);
    /* a project member is no system reader */
    char *demo = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users", NULL, demo, NULL), 403);
    free(demo);
    free(sys);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- access rules */

static mc_resp appcred(const char *tok, const char *name, const char *rules) {
    return mc_call(EVHTTP_REQ_POST, V3 "/users/" DEMO_ID "/application_credentials",
                   mc_pathf("{\"application_credential\":{\"name\":\"%s\",\"access_rules\":%s}}", name, rules), tok, NULL);
}

/* As Keystone's: one record per user and rule, shared by the credentials
 * that name it, kept when they go, deleted only when unused. */
Test(ktokens, application_credential_access_rules) {
    char *demo = mc_test_token("demo", "demo");
    const char *rule = "[{\"path\":\"/v2.1/servers/*/ips\",\"method\":\"GET\",\"service\":\"compute\"}]";
    mc_resp a = appcred(demo, "ac1", rule);
    cr_assert(eq(int, a.status, 201), "%s", a.body);
    cJSON *ar = mc_jpath(a.json, "application_credential.access_rules.0");
    cr_expect(eq(int, cJSON_GetArraySize(ar), 4));   /* id, path, method, service */
    cr_expect(eq(str, (char *)mc_jstr(ar, "path"), "/v2.1/servers/*/ips"));
    cr_expect(eq(str, (char *)mc_jstr(ar, "service"), "compute"));
    char rid[64], ac1[64];
    snprintf(rid, sizeof rid, "%s", mc_jstr(ar, "id"));
    snprintf(ac1, sizeof ac1, "%s", mc_jstr(a.json, "application_credential.id"));
    mc_resp_free(&a);
    /* the same rule again: the same record; by id too */
    a = appcred(demo, "ac2", rule);
    cr_assert(eq(int, a.status, 201), "%s", a.body);
    cr_expect(eq(str, (char *)mc_jstr(a.json, "application_credential.access_rules.0.id"), rid));
    char ac2[64];
    snprintf(ac2, sizeof ac2, "%s", mc_jstr(a.json, "application_credential.id"));
    mc_resp_free(&a);
    a = appcred(demo, "ac3", mc_pathf("[{\"id\":\"%s\"}]", rid));
    cr_expect(eq(int, a.status, 201), "%s", a.body);
    cr_expect(eq(str, (char *)mc_jstr(a.json, "application_credential.access_rules.0.method"), "GET"));
    char ac3[64];
    snprintf(ac3, sizeof ac3, "%s", mc_jstr(a.json, "application_credential.id"));
    mc_resp_free(&a);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/access_rules", NULL, demo, NULL), "access_rules", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/access_rules?service=network", NULL, demo, NULL),
                    "access_rules", 0);
    mc_resp s = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/users/" DEMO_ID "/access_rules/%s", rid), NULL, demo, NULL);
    cr_expect(eq(int, s.status, 200), "%s", s.body);
    cr_expect(eq(str, (char *)mc_jstr(s.json, "access_rule.service"), "compute"));
    cr_expect(mc_jpath(s.json, "access_rule._user_id") == NULL);
    mc_resp_free(&s);
    /* bad rules: 400; an unknown id: 404 */
    mc_expect_status(appcred(demo, "bad1", "[{\"path\":\"/x\",\"method\":\"FETCH\",\"service\":\"compute\"}]"), 400);
    mc_expect_status(appcred(demo, "bad2", "[{\"path\":\"/x\",\"method\":\"GET\"}]"), 400);
    mc_expect_status(appcred(demo, "bad3", "[{\"path\":\"/x\",\"method\":\"GET\",\"service\":\"compute\",\"x\":1}]"), 400);
    mc_expect_status(appcred(demo, "bad4", "[{\"id\":\"nope\"}]"), 404);
    mc_expect_status(appcred(demo, "bad5", "[\"GET\"]"), 400);
    /* another user: 403 */
    char *alt = mc_test_token("alt_demo", "alt_demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/access_rules", NULL, alt, NULL), 403);
    /* in use: 403; unused after the credentials go, then deleted */
    const char *one = mc_pathf(V3 "/users/" DEMO_ID "/access_rules/%s", rid);
    char onep[300];
    snprintf(onep, sizeof onep, "%s", one);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, onep, NULL, demo, NULL), 403);
    const char *creds[] = {ac1, ac2, ac3};
    for (int i = 0; i < 3; i++)
        mc_expect_status(mc_call(EVHTTP_REQ_DELETE, mc_pathf(V3 "/users/" DEMO_ID "/application_credentials/%s", creds[i]),
                                 NULL, demo, NULL), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/access_rules", NULL, demo, NULL), "access_rules", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, onep, NULL, demo, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, onep, NULL, demo, NULL), 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/access_rules", NULL, demo, NULL), "access_rules", 0);
    free(alt);
    free(demo);
    mc_assert_no_leaks();
}

/* keystonemiddleware's check: a token of a credential with access rules
 * makes only the requests they list ("*" one segment, "**" any), in every
 * service but Keystone; 401 otherwise. */
Test(ktokens, access_rules_limit_what_the_credential_token_may_do) {
    char *demo = mc_test_token("demo", "demo");
    mc_resp a = mc_call(EVHTTP_REQ_POST, V3 "/users/" DEMO_ID "/application_credentials",
                        "{\"application_credential\":{\"name\":\"limited\",\"secret\":\"s3cret\",\"access_rules\":["
                        "{\"path\":\"/v2.1/servers\",\"method\":\"GET\",\"service\":\"compute\"},"
                        "{\"path\":\"/v2.0/**\",\"method\":\"GET\",\"service\":\"network\"},"
                        "{\"path\":\"/v2/images/*\",\"method\":\"GET\",\"service\":\"image\"}]}}",
                        demo, NULL);
    cr_assert(eq(int, a.status, 201), "%s", a.body);
    char *tok = subject_of(post_token(mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"application_credential\"],"
                                               "\"application_credential\":{\"id\":\"%s\",\"secret\":\"s3cret\"}}}}",
                                               mc_jstr(a.json, "application_credential.id"))));
    mc_resp_free(&a);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers", NULL, tok, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors", NULL, tok, NULL), 401);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/compute/v2.1/servers/detail", NULL, tok, NULL), 401);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/network/v2.0/networks", NULL, tok, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/network/v2.0/security-groups", NULL, tok, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/network/v2.0/networks", "{\"network\":{\"name\":\"n\"}}", tok, NULL), 401);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/images", NULL, tok, NULL), 401);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/image/v2/images/nope", NULL, tok, NULL), 404);   /* allowed, absent */
    /* Keystone itself is not limited */
    mc_expect_status(validate(tok, tok), 200);
    /* a credential without rules: anything its roles allow */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/compute/v2.1/flavors", NULL, demo, NULL), 200);
    free(tok);
    free(demo);
    mc_assert_no_leaks();
}
