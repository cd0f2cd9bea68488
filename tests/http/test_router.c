/* HTTP tests of the router's request block: the path and the decoded params
 * live in the one allocation of the request (router.c req_new). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define DEMO_ID "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21"
#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(router, .init = setup, .fini = teardown);

/* One param, percent-decoded, with a trailing slash stripped. */
Test(router, param_is_percent_decoded) {
    char *admin = mc_test_token("admin", "admin");
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/identity/v3/users/a%2Fb%20c/", NULL, admin, NULL), MC_IDENTITY, 404,
                    "Could not find user: a/b c.");
    free(admin);
    mc_assert_no_leaks();
}

/* Two params decoded one after the other into the request's arena: both
 * must reach the handler intact (the demo user's roles on the demo project). */
Test(router, two_params_reach_the_handler) {
    char *admin = mc_test_token("admin", "admin");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/projects/" DEMO_PROJECT "/users/" DEMO_ID "/roles",
                        NULL, admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "roles.0.name"), "member"));
    mc_resp_free(&r);
    /* Same route, the second param encoded: decoded in place, still found. */
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/projects/" DEMO_PROJECT "/users/%64" "3a1f0e2c4b54a6b9f8e7d6c5b4a3f21" "/roles",
                NULL, admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "roles.0.name"), "member"));
    mc_resp_free(&r);
    free(admin);
    mc_assert_no_leaks();
}

/* Request ids are fresh per request and well-formed. */
Test(router, request_ids_differ) {
    mc_resp a = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    mc_resp b = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    const char *ia = mc_resp_header(&a, "x-openstack-request-id");
    const char *ib = mc_resp_header(&b, "x-openstack-request-id");
    cr_assert(ia != NULL && ib != NULL);
    cr_expect(eq(sz, strlen(ia), 40));
    cr_expect(eq(int, strncmp(ia, "req-", 4), 0));
    cr_expect(ne(str, (char *)ia, (char *)ib));
    mc_resp_free(&a);
    mc_resp_free(&b);
    mc_assert_no_leaks();
}

/* A query key without '=' ("?nocatalog", as keystoneauth sends it) reaches
 * the handler with the empty value instead of emptying the whole query. */
Test(router, bare_query_key_is_kept) {
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?since=0&limit", NULL, NULL, NULL), 400);
    mc_resp r;
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?limit=1&x", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "entries")), 1));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* A member on an admin-only Keystone route: the 403 names the policy Keystone
 * enforces, as the openstack CLI prints it ("You are not authorized to perform
 * the requested action: identity:list_endpoints."), not a generic sentence. */
Test(router, admin_only_identity_403_names_keystones_policy) {
    char *demo = mc_test_token("demo", "demo");
    static const struct { enum evhttp_cmd_type m; const char *path, *body, *action; } cases[] = {
        {EVHTTP_REQ_GET, "/identity/v3/endpoints", NULL, "identity:list_endpoints"},
        {EVHTTP_REQ_POST, "/identity/v3/projects", "{\"project\": {\"name\": \"x\"}}", "identity:create_project"},
        {EVHTTP_REQ_PATCH, "/identity/v3/users/" DEMO_ID, "{\"user\": {}}", "identity:update_user"},
        {EVHTTP_REQ_DELETE, "/identity/v3/roles/x", NULL, "identity:delete_role"},
        {EVHTTP_REQ_GET, "/identity/v3/policies/x", NULL, "identity:get_policy"},
        {EVHTTP_REQ_GET, "/identity/v3/OS-EP-FILTER/endpoint_groups", NULL, "identity:list_endpoint_groups"},
        {EVHTTP_REQ_PUT, "/identity/v3/projects/" DEMO_PROJECT "/users/" DEMO_ID "/roles/r", NULL,
         "identity:create_grant"},
        {EVHTTP_REQ_GET, "/identity/v3/projects/" DEMO_PROJECT "/users/" DEMO_ID "/roles", NULL, "identity:list_grants"},
        {EVHTTP_REQ_DELETE, "/identity/v3/OS-INHERIT/domains/default/users/" DEMO_ID "/roles/r/inherited_to_projects",
         NULL, "identity:revoke_grant"},
        {EVHTTP_REQ_PUT, "/identity/v3/system/users/" DEMO_ID "/roles/r", NULL, "identity:create_system_grant_for_user"},
        {EVHTTP_REQ_GET, "/identity/v3/groups/g/users", NULL, "identity:list_users_in_group"},
        {EVHTTP_REQ_PUT, "/identity/v3/groups/g/users/" DEMO_ID, NULL, "identity:add_user_to_group"},
        {EVHTTP_REQ_GET, "/identity/v3/roles/r/implies", NULL, "identity:list_implied_roles"},
        {EVHTTP_REQ_GET, "/identity/v3/role_inferences", NULL, "identity:list_role_inference_rules"},
        {EVHTTP_REQ_GET, "/identity/v3/domains/default/config", NULL, "identity:get_domain_config"},
        {EVHTTP_REQ_GET, "/identity/v3/domains/config/default", NULL, "identity:get_domain_config_default"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char msg[200];
        snprintf(msg, sizeof msg, "You are not authorized to perform the requested action: %s.", cases[i].action);
        mc_expect_error(mc_call(cases[i].m, cases[i].path, cases[i].body, demo, NULL), MC_IDENTITY, 403, msg);
    }
    /* the other services keep their own form */
    mc_expect_error(mc_call(EVHTTP_REQ_GET, "/compute/v2.1/os-hypervisors", NULL, demo, NULL), MC_COMPUTE, 403,
                    "Policy doesn't allow this operation to be performed.");
    free(demo);
    mc_assert_no_leaks();
}
