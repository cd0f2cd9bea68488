/* HTTP tests of Keystone's admin APIs in identity_admin.c: groups and
 * members, domain writes and their cascade, grants of every kind (user or
 * group; project, domain, system; OS-INHERIT), implied and domain-specific
 * roles, and GET /v3/role_assignments, each with its bad input. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DEMO_ID "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"
#define ALT_ID "a7b8c9d0e1f243a5b6c7d8e9f0a1b2c3"
#define MEMBER_ROLE "9f8e7d6c5b4a43219f8e7d6c5b4a3210"
#define READER_ROLE "2b3c4d5e6f7a48b9c0d1e2f3a4b5c6d7"

static char *admin;

static void setup(void) { admin = mc_test_start_as(NULL, "admin"); }
static void teardown(void) { mc_test_stop_as(&admin); }

TestSuite(idadmin, .init = setup, .fini = teardown);

#define V3 "/identity/v3"

/* POSTs 'body' to 'path' as admin, asserts 201 and returns the new id at
 * '<single>.id' (caller frees). */
static char *create(const char *path, const char *single, const char *body) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, path, body, admin, NULL);
    cr_assert(eq(int, r.status, 201), "%s -> %d %s", path, r.status, r.body);
    char key[64];
    snprintf(key, sizeof key, "%s.id", single);
    const char *id = mc_jstr(r.json, key);
    cr_assert(id != NULL);
    char *out = strdup(id);
    mc_resp_free(&r);
    return out;
}

static void call_expect(enum evhttp_cmd_type m, const char *path, const char *body, int status) {
    mc_expect_status(mc_call(m, path, body, admin, NULL), status);
}

/* A password token of user 'uid' scoped to project 'pid' (NULL: unscoped);
 * returns the status and, on 201, the reply in *out (NULL: freed). */
static int user_token(const char *uid, const char *pw, const char *pid, mc_resp *out) {
    char body[600];
    if (pid != NULL)
        snprintf(body, sizeof body, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                 "{\"id\":\"%s\",\"password\":\"%s\"}}},\"scope\":{\"project\":{\"id\":\"%s\"}}}}", uid, pw, pid);
    else
        snprintf(body, sizeof body, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                 "{\"id\":\"%s\",\"password\":\"%s\"}}}}}", uid, pw);
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/auth/tokens", body, NULL, NULL);
    int status = r.status;
    if (out != NULL && status == 201) *out = r; else mc_resp_free(&r);
    return status;
}

/* The role names of a token reply, comma-joined in order, into 'buf'. */
static const char *token_roles(mc_resp *r, char *buf, size_t n) {
    buf[0] = '\0';
    cJSON *x;
    cJSON_ArrayForEach(x, mc_jpath(r->json, "token.roles")) {
        size_t l = strlen(buf);
        snprintf(buf + l, n - l, "%s%s", l ? "," : "", mc_jstr(x, "name"));
    }
    return buf;
}

static char *new_user(const char *name, const char *domain) {
    char body[300];
    snprintf(body, sizeof body, "{\"user\":{\"name\":\"%s\",\"password\":\"pw\",\"domain_id\":\"%s\"}}", name, domain);
    return create(V3 "/users", "user", body);
}

static char *new_project(const char *name, const char *domain, const char *parent) {
    char body[300];
    if (parent)
        snprintf(body, sizeof body, "{\"project\":{\"name\":\"%s\",\"parent_id\":\"%s\"}}", name, parent);
    else
        snprintf(body, sizeof body, "{\"project\":{\"name\":\"%s\",\"domain_id\":\"%s\"}}", name, domain);
    return create(V3 "/projects", "project", body);
}

static char *new_role(const char *name, const char *domain) {
    char body[300];
    if (domain)
        snprintf(body, sizeof body, "{\"role\":{\"name\":\"%s\",\"domain_id\":\"%s\"}}", name, domain);
    else
        snprintf(body, sizeof body, "{\"role\":{\"name\":\"%s\"}}", name);
    return create(V3 "/roles", "role", body);
}

/* ---------------------------------------------------------------- groups */

Test(idadmin, groups_crud_names_unique_per_domain) {
    char *dom = create(V3 "/domains", "domain", "{\"domain\":{\"name\":\"d-groups\"}}");
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":\"ops\",\"description\":\"the ops\"}}", admin, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "group.domain_id"), "default"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "group.description"), "the ops"));
    cr_expect(mc_jstr(r.json, "group.links.self") != NULL);
    char *gid = strdup(mc_jstr(r.json, "group.id"));
    mc_resp_free(&r);
    /* the same name: 409 in the same domain, fine in another */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":\"ops\"}}", admin, NULL), MC_IDENTITY, 409, NULL);
    char *g2 = create(V3 "/groups", "group", mc_pathf("{\"group\":{\"name\":\"ops\",\"domain_id\":\"%s\"}}", dom));
    /* filters */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/groups?name=ops", NULL, admin, NULL), "groups", 2);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/groups?domain_id=%s", dom), NULL, admin, NULL), "groups", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/groups?name=nobody", NULL, admin, NULL), "groups", 0);
    /* update: name, description; a taken name is 409, domain_id is fixed */
    r = mc_call(EVHTTP_REQ_PATCH, mc_pathf(V3 "/groups/%s", gid), "{\"group\":{\"name\":\"ops2\"}}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "group.name"), "ops2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "group.description"), "the ops"));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":\"dev\"}}", 201);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/groups/%s", gid), "{\"group\":{\"name\":\"dev\"}}", 409);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/groups/%s", gid), mc_pathf("{\"group\":{\"domain_id\":\"%s\"}}", dom), 400);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/groups/%s", gid), "{\"group\":{\"name\":5}}", 400);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/groups/%s", gid), "{\"nogroup\":{}}", 400);
    /* bad input on create */
    call_expect(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{}}", 400);
    call_expect(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":[]}}", 400);
    call_expect(EVHTTP_REQ_POST, V3 "/groups", "{}", 400);
    call_expect(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":", 400);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":\"x\",\"domain_id\":\"nodom\"}}", admin, NULL),
                    MC_IDENTITY, 404, "Could not find domain: nodom.");
    /* show, delete, then 404 */
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/groups/%s", g2), NULL, admin, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "group.domain_id"), dom));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/groups/%s", gid), NULL, 204);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/groups/%s", gid), NULL, admin, NULL), MC_IDENTITY, 404,
                    mc_pathf("Could not find group: %s.", gid));
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/groups/%s", gid), NULL, 404);
    free(gid);
    free(g2);
    free(dom);
    mc_assert_no_leaks();
}

Test(idadmin, groups_are_admin_only) {
    char *demo = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/groups", "{\"group\":{\"name\":\"g\"}}", demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/groups", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"d\"}}", demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, V3 "/roles/a/implies/b", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_inferences", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, mc_pathf(V3 "/system/users/%s/roles/%s", DEMO_ID, MEMBER_ROLE), NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?user.id=" DEMO_ID, NULL, demo, NULL), 200);
    free(demo);
    mc_assert_no_leaks();
}

Test(idadmin, group_membership_add_check_list_remove) {
    char *gid = create(V3 "/groups", "group", "{\"group\":{\"name\":\"members\"}}");
    char *uid = new_user("gm1", "default");
    const char *mp = mc_pathf(V3 "/groups/%s/users/%s", gid, uid);
    char member[300];
    snprintf(member, sizeof member, "%s", mp);
    call_expect(EVHTTP_REQ_HEAD, member, NULL, 404);
    call_expect(EVHTTP_REQ_PUT, member, NULL, 204);
    call_expect(EVHTTP_REQ_PUT, member, NULL, 204);   /* again: still one membership */
    call_expect(EVHTTP_REQ_HEAD, member, NULL, 204);
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/groups/%s/users", gid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "users")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "users.0.name"), "gm1"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/users/%s/groups", uid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "groups")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "groups.0.id"), gid));
    mc_resp_free(&r);
    /* unknown group or user: 404 */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/groups/nogroup/users/%s", uid), NULL, 404);
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, mc_pathf(V3 "/groups/%s/users/nouser", gid), NULL, admin, NULL),
                    MC_IDENTITY, 404, "Could not find user: nouser.");
    call_expect(EVHTTP_REQ_GET, V3 "/groups/nogroup/users", NULL, 404);
    call_expect(EVHTTP_REQ_GET, V3 "/users/nouser/groups", NULL, 404);
    /* a user lists their own groups, not another's */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/groups/%s/users/%s", gid, DEMO_ID), NULL, 204);
    char *demo = mc_test_token("demo", "demo");
    /* the fixtures' "everyone" and this one */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/users/" DEMO_ID "/groups", NULL, demo, NULL), "groups", 2);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/users/" ALT_ID "/groups", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, member, NULL, demo, NULL), 403);
    /* remove, then it is gone; a deleted user leaves the group */
    call_expect(EVHTTP_REQ_DELETE, member, NULL, 204);
    call_expect(EVHTTP_REQ_DELETE, member, NULL, 404);
    call_expect(EVHTTP_REQ_HEAD, member, NULL, 404);
    call_expect(EVHTTP_REQ_PUT, member, NULL, 204);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/users/%s", uid), NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/groups/%s/users", gid), NULL, admin, NULL), "users", 1);
    free(demo);
    free(uid);
    free(gid);
    mc_assert_no_leaks();
}

Test(idadmin, group_roles_reach_tokens_and_effective_assignments) {
    char *gid = create(V3 "/groups", "group", "{\"group\":{\"name\":\"viewers\"}}");
    char *uid = new_user("gr1", "default");
    char *pid = new_project("gp1", "default", NULL);
    cr_expect(eq(int, user_token(uid, "pw", pid, NULL), 401));   /* no role yet */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/groups/%s/roles/%s", pid, gid, READER_ROLE), NULL, 204);
    cr_expect(eq(int, user_token(uid, "pw", pid, NULL), 401));   /* not a member yet */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/groups/%s/users/%s", gid, uid), NULL, 204);
    mc_resp t;
    cr_assert(eq(int, user_token(uid, "pw", pid, &t), 201));
    char buf[200];
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "reader"));
    mc_resp_free(&t);
    /* the group grant: listed, checked */
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s/groups/%s/roles", pid, gid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "roles")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "roles.0.id"), READER_ROLE));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_HEAD, mc_pathf(V3 "/projects/%s/groups/%s/roles/%s", pid, gid, READER_ROLE), NULL, 204);
    call_expect(EVHTTP_REQ_HEAD, mc_pathf(V3 "/projects/%s/groups/%s/roles/%s", pid, gid, MEMBER_ROLE), NULL, 404);
    /* raw: one group assignment; effective: one user line with the membership link */
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?scope.project.id=%s", pid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.group.id"), gid));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&scope.project.id=%s", pid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.user.id"), uid));
    cr_expect(mc_jstr(r.json, "role_assignments.0.links.membership") != NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&group.id=%s", gid), NULL, admin, NULL), 400);
    /* out of the group: no role, no token */
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/groups/%s/users/%s", gid, uid), NULL, 204);
    cr_expect(eq(int, user_token(uid, "pw", pid, NULL), 401));
    /* unknown role or group: 404 */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/groups/%s/roles/norole", pid, gid), NULL, 404);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/groups/nogroup/roles/%s", pid, READER_ROLE), NULL, 404);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/noproject/groups/%s/roles/%s", gid, READER_ROLE), NULL, 404);
    /* a deleted group takes its grants along */
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/groups/%s", gid), NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?scope.project.id=%s", pid), NULL, admin, NULL),
                    "role_assignments", 0);
    free(pid);
    free(uid);
    free(gid);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- domains */

Test(idadmin, domain_create_update_filters_and_bad_input) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"acme\"}}", admin, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domain.description"), ""));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "domain.enabled")));
    cr_expect(mc_jstr(r.json, "domain.links.self") != NULL);
    char *did = strdup(mc_jstr(r.json, "domain.id"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"acme\"}}", admin, NULL),
                    MC_IDENTITY, 409, "Conflict occurred attempting to store domain - Duplicate entry found with name acme.");
    call_expect(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"\"}}", 400);
    char longname[100];
    memset(longname, 'a', 65);
    longname[65] = '\0';
    call_expect(EVHTTP_REQ_POST, V3 "/domains", mc_pathf("{\"domain\":{\"name\":\"%s\"}}", longname), 400);
    call_expect(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"x\",\"enabled\":\"yes\"}}", 400);
    call_expect(EVHTTP_REQ_POST, V3 "/domains", "{}", 400);
    call_expect(EVHTTP_REQ_POST, V3 "/domains", "{\"domain\":{\"name\":\"off\",\"enabled\":false}}", 201);
    /* filters */
    r = mc_call(EVHTTP_REQ_GET, V3 "/domains?name=acme", NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "domains")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domains.0.id"), did));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, V3 "/domains?enabled=false", NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "domains")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domains.0.name"), "off"));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/domains?enabled=True", NULL, admin, NULL), "domains", 2);
    /* update */
    r = mc_call(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"name\":\"acme2\",\"description\":\"d\"}}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domain.name"), "acme2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domain.description"), "d"));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"name\":\"Default\"}}", 409);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"enabled\":1}}", 400);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"id\":\"other\"}}", 400);
    call_expect(EVHTTP_REQ_PATCH, V3 "/domains/nodomain", "{\"domain\":{\"name\":\"z\"}}", 404);
    /* delete: only disabled, 404 when unknown */
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, mc_pathf(V3 "/domains/%s", did), NULL, admin, NULL), MC_IDENTITY, 403,
                    "Cannot delete a domain that is enabled, please disable it first.");
    call_expect(EVHTTP_REQ_DELETE, V3 "/domains/nodomain", NULL, 404);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"enabled\":false}}", 200);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/domains/%s", did), NULL, 204);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/domains/%s", did), NULL, 404);
    free(did);
    mc_assert_no_leaks();
}

Test(idadmin, domain_delete_cascades_and_disabled_domain_refuses_login) {
    char *did = create(V3 "/domains", "domain", "{\"domain\":{\"name\":\"casc\"}}");
    char *uid = new_user("cu", did);
    char *pid = new_project("cp", did, NULL);
    char *child = new_project("cchild", NULL, pid);
    char *gid = create(V3 "/groups", "group", mc_pathf("{\"group\":{\"name\":\"cg\",\"domain_id\":\"%s\"}}", did));
    char *rid = new_role("casc_role", did);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/%s/roles/%s", pid, uid, MEMBER_ROLE), NULL, 204);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/domains/%s/users/%s/roles/%s", did, ALT_ID, MEMBER_ROLE), NULL, 204);
    mc_resp t;
    cr_assert(eq(int, user_token(uid, "pw", pid, &t), 201));
    char *tok = strdup(mc_resp_header(&t, "X-Subject-Token"));
    mc_resp_free(&t);
    /* disabled: no login (401), and the tokens it had are gone */
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"enabled\":false}}", 200);
    cr_expect(eq(int, user_token(uid, "pw", pid, NULL), 401));
    cr_expect(eq(int, user_token(uid, "pw", NULL, NULL), 401));
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/auth/tokens", NULL, admin, mc_pathf("X-Subject-Token: %s\n", tok)), 404);
    /* enabled again: login works */
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"enabled\":true}}", 200);
    cr_expect(eq(int, user_token(uid, "pw", pid, NULL), 201));
    /* delete: everything in it goes */
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/domains/%s", did), "{\"domain\":{\"enabled\":false}}", 200);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/domains/%s", did), NULL, 204);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/users/%s", uid), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s", pid), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s", child), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/groups/%s", gid), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/roles/%s", rid), NULL, 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?user.id=" ALT_ID, NULL, admin, NULL), "role_assignments", 1);
    free(tok);
    free(rid);
    free(gid);
    free(child);
    free(pid);
    free(uid);
    free(did);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- grants */

Test(idadmin, grants_on_domain_and_system_for_users_and_groups) {
    char *did = create(V3 "/domains", "domain", "{\"domain\":{\"name\":\"gd\"}}");
    char *gid = create(V3 "/groups", "group", "{\"group\":{\"name\":\"gg\"}}");
    char *rid = new_role("grole", NULL);
    char paths[4][300];
    snprintf(paths[0], sizeof paths[0], V3 "/domains/%s/users/%s/roles", did, DEMO_ID);
    snprintf(paths[1], sizeof paths[1], V3 "/domains/%s/groups/%s/roles", did, gid);
    snprintf(paths[2], sizeof paths[2], V3 "/system/users/%s/roles", DEMO_ID);
    snprintf(paths[3], sizeof paths[3], V3 "/system/groups/%s/roles", gid);
    for (int i = 0; i < 4; i++) {
        char base[300], one[400];
        snprintf(base, sizeof base, "%s", paths[i]);
        snprintf(one, sizeof one, "%s/%s", base, rid);
        call_expect(EVHTTP_REQ_HEAD, one, NULL, 404);
        call_expect(EVHTTP_REQ_PUT, one, NULL, 204);
        call_expect(EVHTTP_REQ_HEAD, one, NULL, 204);
        mc_resp r = mc_call(EVHTTP_REQ_GET, base, NULL, admin, NULL);
        cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "roles")), 1), "%s", base);
        cr_expect(eq(str, (char *)mc_jstr(r.json, "roles.0.name"), "grole"));
        mc_resp_free(&r);
        snprintf(one, sizeof one, "%s/norole", base);
        call_expect(EVHTTP_REQ_PUT, one, NULL, 404);
    }
    /* the domain grant makes a domain-scoped token; listed by scope */
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/auth/tokens",
                        mc_pathf("{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":"
                                 "{\"id\":\"" DEMO_ID "\",\"password\":\"secret\"}}},\"scope\":{\"domain\":{\"id\":\"%s\"}}}}", did),
                        NULL, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.roles.0.name"), "grole"));
    mc_resp_free(&r);
    /* ours and the fixtures' admin on the system (devstack's) */
    r = mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?scope.system=all", NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 3));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "role_assignments.0.scope.system.all")));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?scope.domain.id=%s", did), NULL, admin, NULL),
                    "role_assignments", 2);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?role.id=%s", rid), NULL, admin, NULL),
                    "role_assignments", 4);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?scope.domain.id=%s&scope.project.id=x", did),
                             NULL, admin, NULL), 400);
    /* revoke all four */
    for (int i = 0; i < 4; i++) {
        char one[400];
        snprintf(one, sizeof one, "%s/%s", paths[i], rid);
        call_expect(EVHTTP_REQ_DELETE, one, NULL, 204);
        call_expect(EVHTTP_REQ_DELETE, one, NULL, 404);
    }
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?role.id=%s", rid), NULL, admin, NULL),
                    "role_assignments", 0);
    free(rid);
    free(gid);
    free(did);
    mc_assert_no_leaks();
}

Test(idadmin, inherited_grants_reach_projects_below) {
    char *did = create(V3 "/domains", "domain", "{\"domain\":{\"name\":\"inh\"}}");
    char *uid = new_user("iu", did);
    char *gid = create(V3 "/groups", "group", mc_pathf("{\"group\":{\"name\":\"ig\",\"domain_id\":\"%s\"}}", did));
    char *top = new_project("itop", did, NULL);
    char *leaf = new_project("ileaf", NULL, top);
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s", leaf), NULL, admin, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "project.parent_id"), top));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "project.domain_id"), did));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_POST, V3 "/projects", "{\"project\":{\"name\":\"orphan\",\"parent_id\":\"noparent\"}}", 404);
    /* inherited on the domain: every project of the domain, not the domain itself */
    const char *dgrant = mc_pathf(V3 "/OS-INHERIT/domains/%s/users/%s/roles/%s/inherited_to_projects", did, uid, READER_ROLE);
    char dg[400];
    snprintf(dg, sizeof dg, "%s", dgrant);
    call_expect(EVHTTP_REQ_HEAD, dg, NULL, 404);
    call_expect(EVHTTP_REQ_PUT, dg, NULL, 204);
    call_expect(EVHTTP_REQ_HEAD, dg, NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/OS-INHERIT/domains/%s/users/%s/roles/inherited_to_projects", did, uid),
                            NULL, admin, NULL), "roles", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/domains/%s/users/%s/roles", did, uid), NULL, admin, NULL), "roles", 0);
    cr_expect(eq(int, user_token(uid, "pw", top, NULL), 201));
    cr_expect(eq(int, user_token(uid, "pw", leaf, NULL), 201));
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?user.id=%s", uid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.scope.OS-INHERIT:inherited_to"), "projects"));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&user.id=%s", uid), NULL, admin, NULL),
                    "role_assignments", 2);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&scope.project.id=%s&user.id=%s", leaf, uid),
                            NULL, admin, NULL), "role_assignments", 1);
    call_expect(EVHTTP_REQ_DELETE, dg, NULL, 204);
    cr_expect(eq(int, user_token(uid, "pw", leaf, NULL), 401));
    /* inherited on a project: its subtree only */
    const char *pgrant = mc_pathf(V3 "/OS-INHERIT/projects/%s/groups/%s/roles/%s/inherited_to_projects", top, gid, MEMBER_ROLE);
    char pg[400];
    snprintf(pg, sizeof pg, "%s", pgrant);
    call_expect(EVHTTP_REQ_PUT, pg, NULL, 204);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/groups/%s/users/%s", gid, uid), NULL, 204);
    cr_expect(eq(int, user_token(uid, "pw", top, NULL), 401));
    mc_resp t;
    cr_assert(eq(int, user_token(uid, "pw", leaf, &t), 201));
    char buf[200];
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "member,reader"));
    mc_resp_free(&t);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?scope.project.id=%s&include_subtree=true", top),
                            NULL, admin, NULL), "role_assignments", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?include_subtree=true", NULL, admin, NULL), 400);
    call_expect(EVHTTP_REQ_HEAD, pg, NULL, 204);
    call_expect(EVHTTP_REQ_DELETE, pg, NULL, 204);
    call_expect(EVHTTP_REQ_HEAD, pg, NULL, 404);
    free(leaf);
    free(top);
    free(gid);
    free(uid);
    free(did);
    mc_assert_no_leaks();
}

/* ---------------------------------------------------------------- roles */

Test(idadmin, implied_roles_rules_and_expansion) {
    char *r1 = new_role("r1", NULL), *r2 = new_role("r2", NULL), *r3 = new_role("r3", NULL);
    const char *rule = mc_pathf(V3 "/roles/%s/implies/%s", r1, r2);
    char rule12[300];
    snprintf(rule12, sizeof rule12, "%s", rule);
    call_expect(EVHTTP_REQ_GET, rule12, NULL, 404);
    mc_resp r = mc_call(EVHTTP_REQ_PUT, rule12, NULL, admin, NULL);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_inference.prior_role.id"), r1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_inference.implies.name"), "r2"));
    cr_expect(mc_jstr(r.json, "role_inference.implies.links.self") != NULL);
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_HEAD, rule12, NULL, 204);
    call_expect(EVHTTP_REQ_GET, rule12, NULL, 200);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", r2, r3), NULL, 201);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/norole", r2), NULL, 404);
    /* Keystone stores a self-implication (no check in create_implied_role) */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", r2, r2), NULL, 201);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/roles/%s/implies/%s", r2, r2), NULL, 204);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/roles/%s/implies", r1), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_inference.implies")), 1));
    mc_resp_free(&r);
    /* role_inferences: the fixtures' admin->member->reader and ours */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_inferences", NULL, admin, NULL), "role_inferences", 4);
    /* a token and ?effective carry the implied roles, transitively */
    char *uid = new_user("imp", "default");
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/%s/roles/%s", DEMO_PROJECT, uid, r1), NULL, 204);
    mc_resp t;
    cr_assert(eq(int, user_token(uid, "pw", DEMO_PROJECT, &t), 201));
    char buf[200];
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "r1,r2,r3"));
    mc_resp_free(&t);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&user.id=%s&include_names=1", uid), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 3));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.1.role.name"), "r2"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.user.name"), "imp"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.scope.project.name"), "demo"));
    cr_expect(mc_jstr(r.json, "role_assignments.1.links.prior_role") != NULL);
    mc_resp_free(&r);
    /* no cycles: r3 -> r1 is stored, expansion stops */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", r3, r1), NULL, 201);
    cr_assert(eq(int, user_token(uid, "pw", DEMO_PROJECT, &t), 201));
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "r1,r2,r3"));
    mc_resp_free(&t);
    /* a loop and a self-implication together: ?effective lists each role once */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", r2, r2), NULL, 201);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&user.id=%s", uid), NULL, admin, NULL),
                    "role_assignments", 3);
    cr_assert(eq(int, user_token(uid, "pw", DEMO_PROJECT, &t), 201));
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "r1,r2,r3"));
    mc_resp_free(&t);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/roles/%s/implies/%s", r2, r2), NULL, 204);
    /* delete a rule, then a role: their rules go */
    call_expect(EVHTTP_REQ_DELETE, rule12, NULL, 204);
    call_expect(EVHTTP_REQ_DELETE, rule12, NULL, 404);
    cr_assert(eq(int, user_token(uid, "pw", DEMO_PROJECT, &t), 201));
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "r1"));
    mc_resp_free(&t);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/roles/%s", r1), NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_inferences", NULL, admin, NULL), "role_inferences", 3);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/roles/%s/implies", r1), NULL, 404);
    free(uid);
    free(r1);
    free(r2);
    free(r3);
    mc_assert_no_leaks();
}

Test(idadmin, domain_specific_roles) {
    char *did = create(V3 "/domains", "domain", "{\"domain\":{\"name\":\"dr\"}}");
    char *dr = new_role("dsr", did);
    char *global = new_role("dsr", NULL);   /* the same name, global: fine */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", mc_pathf("{\"role\":{\"name\":\"dsr\",\"domain_id\":\"%s\"}}", did),
                             admin, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", "{\"role\":{\"name\":\"x\",\"domain_id\":\"nodom\"}}", admin, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", "{\"role\":{\"name\":\"\"}}", admin, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, V3 "/roles", "{\"role\":{\"name\":\"x\",\"domain_id\":3}}", admin, NULL), 400);
    /* listed with ?domain_id only */
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/roles?domain_id=%s", did), NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "roles")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "roles.0.id"), dr));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/roles?name=dsr", NULL, admin, NULL), "roles", 1);
    /* a global role cannot imply a domain role (403); the other way is fine */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", global, dr), NULL, 403);
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/roles/%s/implies/%s", dr, READER_ROLE), NULL, 201);
    /* assigned: not in tokens or effective lists itself, its implied role is */
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/%s/roles/%s", DEMO_PROJECT, ALT_ID, dr), NULL, 204);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/role_assignments?effective&user.id=%s&scope.project.id=%s", ALT_ID, DEMO_PROJECT),
                NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.role.id"), READER_ROLE));
    mc_resp_free(&r);
    /* update: name (409 on a taken one), never the domain */
    r = mc_call(EVHTTP_REQ_PATCH, mc_pathf(V3 "/roles/%s", global), "{\"role\":{\"name\":\"renamed\",\"description\":\"d\"}}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role.name"), "renamed"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role.description"), "d"));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/roles/%s", global), "{\"role\":{\"name\":\"member\"}}", 409);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/roles/%s", global), mc_pathf("{\"role\":{\"domain_id\":\"%s\"}}", did), 400);
    call_expect(EVHTTP_REQ_PATCH, V3 "/roles/norole", "{\"role\":{\"name\":\"z\"}}", 404);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/roles/%s", dr), NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/roles?domain_id=%s", did), NULL, admin, NULL), "roles", 0);
    free(global);
    free(dr);
    free(did);
    mc_assert_no_leaks();
}

Test(idadmin, role_assignments_names_and_filters) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?user.id=" DEMO_ID "&include_names=true", NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "role_assignments")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.role.name"), "member"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.user.domain.name"), "Default"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "role_assignments.0.scope.project.id"), DEMO_PROJECT));
    cr_expect(mc_jstr(r.json, "role_assignments.0.links.assignment") != NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?user.id=" DEMO_ID, NULL, admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jstr(r.json, "role_assignments.0.role.name") == NULL);
    mc_resp_free(&r);
    /* effective: the member role and the reader it implies */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?effective=true&user.id=" DEMO_ID, NULL, admin, NULL),
                    "role_assignments", 2);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?effective=false&user.id=" DEMO_ID, NULL, admin, NULL),
                    "role_assignments", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?role.id=" READER_ROLE, NULL, admin, NULL), "role_assignments", 0);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/role_assignments?scope.OS-INHERIT:inherited_to=projects", NULL, admin, NULL),
                    "role_assignments", 0);
    mc_assert_no_leaks();
}

Test(idadmin, project_acting_as_domain) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/projects", "{\"project\":{\"name\":\"pad\",\"is_domain\":true}}", admin, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "project.is_domain")));
    cr_expect(cJSON_IsNull(mc_jpath(r.json, "project.domain_id")));
    char *id = strdup(mc_jstr(r.json, "project.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, V3 "/projects?is_domain=True", NULL, admin, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "projects")), 1));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "projects.0.id"), id));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/domains/%s", id), NULL, admin, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "domain.name"), "pad"));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_POST, V3 "/projects", "{\"project\":{\"name\":\"Default\",\"is_domain\":true}}", 409);
    /* a user of that domain; enabled: no delete */
    char *uid = new_user("padu", id);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/projects/%s", id), NULL, 403);
    call_expect(EVHTTP_REQ_PATCH, mc_pathf(V3 "/projects/%s", id), "{\"project\":{\"enabled\":false}}", 200);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/domains/%s", id), NULL, admin, NULL);
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "domain.enabled")));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf(V3 "/projects/%s", id), NULL, 204);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/domains/%s", id), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s", id), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf(V3 "/users/%s", uid), NULL, 404);
    free(uid);
    free(id);
    mc_assert_no_leaks();
}

Test(idadmin, project_tags) {
    char *pid = new_project("tagged", "default", NULL);
    char base[200];
    snprintf(base, sizeof base, V3 "/projects/%s/tags", pid);
    call_expect(EVHTTP_REQ_PUT, mc_pathf("%s/blue", base), "{}", 201);
    call_expect(EVHTTP_REQ_PUT, mc_pathf("%s/blue", base), NULL, 201);   /* again: one tag */
    call_expect(EVHTTP_REQ_GET, mc_pathf("%s/blue", base), NULL, 204);
    call_expect(EVHTTP_REQ_HEAD, mc_pathf("%s/red", base), NULL, 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, base, NULL, admin, NULL), "tags", 1);
    mc_resp r = mc_call(EVHTTP_REQ_PUT, base, "{\"tags\":[\"a\",\"b\",\"c\"]}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "tags")), 3));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, mc_pathf(V3 "/projects/%s", pid), NULL, admin, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "project.tags.2"), "c"));
    mc_resp_free(&r);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf("%s/a", base), NULL, 204);
    call_expect(EVHTTP_REQ_DELETE, mc_pathf("%s/a", base), NULL, 404);
    call_expect(EVHTTP_REQ_GET, mc_pathf("%s/a", base), NULL, 404);
    /* bad tags, bad bodies, unknown project, a member's writes */
    call_expect(EVHTTP_REQ_PUT, mc_pathf("%s/a,b", base), NULL, 400);
    call_expect(EVHTTP_REQ_PUT, base, "{\"tags\":[\"ok\",7]}", 400);
    call_expect(EVHTTP_REQ_PUT, base, "{\"tags\":\"x\"}", 400);
    call_expect(EVHTTP_REQ_PUT, base, "{\"tags\":[\"\"]}", 400);
    call_expect(EVHTTP_REQ_GET, V3 "/projects/noproject/tags", NULL, 404);
    char *demo = mc_test_token("demo", "demo");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, V3 "/projects/" DEMO_PROJECT "/tags", NULL, demo, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, V3 "/projects/" DEMO_PROJECT "/tags/x", NULL, demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, base, NULL, demo, NULL), 403);
    call_expect(EVHTTP_REQ_DELETE, base, NULL, 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, base, NULL, admin, NULL), "tags", 0);
    free(demo);
    free(pid);
    mc_assert_no_leaks();
}

Test(idadmin, rescoped_token_keeps_the_first_method) {
    char *uid = new_user("rescope", "default");
    call_expect(EVHTTP_REQ_PUT, mc_pathf(V3 "/projects/%s/users/%s/roles/%s", DEMO_PROJECT, uid, MEMBER_ROLE), NULL, 204);
    mc_resp t;
    cr_assert(eq(int, user_token(uid, "pw", NULL, &t), 201));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(t.json, "token.methods")), 1));
    char body[400];
    snprintf(body, sizeof body, "{\"auth\":{\"identity\":{\"methods\":[\"token\"],\"token\":{\"id\":\"%s\"}},"
             "\"scope\":{\"project\":{\"id\":\"" DEMO_PROJECT "\"}}}}", mc_resp_header(&t, "X-Subject-Token"));
    mc_resp_free(&t);
    mc_resp r = mc_call(EVHTTP_REQ_POST, V3 "/auth/tokens", body, NULL, NULL);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "token.methods")), 2));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.methods.0"), "token"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.methods.1"), "password"));
    mc_resp_free(&r);
    free(uid);
    mc_assert_no_leaks();
}

Test(idadmin, fixtures_post_groups_and_group_assignments) {
    /* a group of a user the same post makes, with a role through the group */
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/fixtures",
                        "{\"identity\":{\"users\":[{\"id\":\"5b1c2d3e4f5a46b7c8d9e0f1a2b3c4d5\",\"name\":\"fxu\","
                        "\"password\":\"pw\",\"domain_id\":\"default\"}],"
                        "\"groups\":[{\"id\":\"6c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5\",\"name\":\"fxg\",\"domain_id\":\"default\","
                        "\"users\":[\"fxu\",\"demo\"]}],"
                        "\"assignments\":[{\"group\":\"fxg\",\"project\":\"demo\",\"role\":\"reader\"}]}}", NULL, NULL);
    cr_expect(eq(int, r.status, 201), "%s", r.body);
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/groups/6c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5/users", NULL, admin, NULL), "users", 2);
    mc_resp t;
    cr_assert(eq(int, user_token("5b1c2d3e4f5a46b7c8d9e0f1a2b3c4d5", "pw", DEMO_PROJECT, &t), 201));
    char buf[100];
    cr_expect(eq(str, (char *)token_roles(&t, buf, sizeof buf), "reader"));
    mc_resp_free(&t);
    /* refused: an unknown member, a taken name, both user and group; nothing is added */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/fixtures",
                            "{\"identity\":{\"groups\":[{\"id\":\"7c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5\",\"name\":\"g2\","
                            "\"domain_id\":\"default\",\"users\":[\"nobody\"]}]}}", NULL, NULL),
                    MC_IDENTITY, 400, NULL);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/fixtures",
                             "{\"identity\":{\"groups\":[{\"id\":\"7c1d2e3f4a5b46c7d8e9f0a1b2c3d4e5\",\"name\":\"fxg\","
                             "\"domain_id\":\"default\"}]}}", NULL, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/fixtures",
                             "{\"identity\":{\"assignments\":[{\"group\":\"fxg\",\"user\":\"demo\",\"project\":\"demo\","
                             "\"role\":\"reader\"}]}}", NULL, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/fixtures",
                             "{\"identity\":{\"assignments\":[{\"group\":\"nogroup\",\"project\":\"demo\",\"role\":\"reader\"}]}}",
                             NULL, NULL), 400);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, V3 "/groups", NULL, admin, NULL), "groups", 2);
    mc_assert_no_leaks();
}
