/* HTTP tests of Glance's metadata definitions catalogue (image_metadefs.c):
 * the seeded resource types and namespaces, namespace CRUD with visibility
 * and protection, objects, properties, tags (bulk and one by one), resource
 * type associations, Glance's default policy (admin writes, member reads)
 * and the errors in Glance's format. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define NS "/image/v2/metadefs/namespaces"
#define JSON_ACCEPT "Accept: application/json"

static char *admin, *demo;
static void setup(void) {
    demo = mc_test_start_as(NULL, "demo");
    admin = mc_test_token("admin", "admin");
}
static void teardown(void) {
    free(admin);
    mc_test_stop_as(&demo);
}

TestSuite(metadefs, .init = setup, .fini = teardown);

static void create_ns(const char *body) {
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS, body, admin, JSON_ACCEPT), 201);
}

Test(metadefs, seeded_resource_types_and_namespaces) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/image/v2/metadefs/resource_types", NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "resource_types.0.name"), "OS::Glance::Image"));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "resource_types")), 5));
    mc_resp_free(&r);
    /* a member reads the public ones, newest first, with first/schema */
    r = mc_call(EVHTTP_REQ_GET, NS, NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "namespaces")), 4));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "namespaces.0.namespace"), "OS::Compute::Trust"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "first"), "/v2/metadefs/namespaces"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/metadefs/namespaces"));
    cr_expect(mc_jpath(r.json, "next") == NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, NS "/OS::Compute::CPUPinning", NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "properties.cpu_policy.enum.1"), "dedicated"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "resource_type_associations.2.prefix"), "hw:"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "self"), "/v2/metadefs/namespaces/OS::Compute::CPUPinning"));
    cr_expect(cJSON_IsTrue(mc_jpath(r.json, "protected")));
    mc_resp_free(&r);
    /* ?resource_type= prefixes the property names */
    r = mc_call(EVHTTP_REQ_GET, NS "/OS::Compute::CPUPinning?resource_type=OS::Nova::Flavor", NULL, demo, NULL);
    cr_expect(mc_jpath(r.json, "properties.hw:cpu_policy") != NULL);
    cr_expect(mc_jpath(r.json, "properties.cpu_policy") == NULL);
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, NS "/OS::Compute::CPUPinning/properties/hw_cpu_policy?resource_type=OS::Glance::Image",
                NULL, demo, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "title"), "CPU Pinning policy"));
    mc_resp_free(&r);
    /* filters and paging */
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "?resource_types=OS::Nova::Flavor", NULL, demo, NULL), "namespaces", 3);
    r = mc_call(EVHTTP_REQ_GET, NS "?limit=2&sort_dir=asc", NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "namespaces.0.namespace"), "OS::Compute::Hypervisor"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "next"), "/v2/metadefs/namespaces?marker=OS::Compute::CPUPinning&limit=2"));
    mc_resp_free(&r);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "?limit=2&sort_dir=asc&marker=OS::Compute::CPUPinning", NULL, demo, NULL),
                    "namespaces", 2);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "?visibility=shared", NULL, demo, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "?sort_key=size", NULL, demo, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "?limit=x", NULL, demo, NULL), 400);
    mc_assert_no_leaks();
}

Test(metadefs, namespace_lifecycle_protected_and_private) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, NS,
                        "{\"namespace\":\"t1\",\"display_name\":\"T\",\"visibility\":\"public\",\"protected\":true,"
                        "\"resource_type_associations\":[{\"name\":\"OS::Glance::Image\",\"prefix\":\"t_\"}],"
                        "\"properties\":{\"p\":{\"title\":\"P\",\"type\":\"integer\",\"minimum\":1}},"
                        "\"objects\":[{\"name\":\"o\"}],\"tags\":[{\"name\":\"a\"}]}",
                        admin, JSON_ACCEPT);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "namespace"), "t1"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "owner"), "1a2b3c4d5e6f47a8b9c0d1e2f3a4b5c6"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "objects.0.self"), "/v2/metadefs/namespaces/t1/objects/o"));
    cr_expect(eq(int, (int)mc_jnum(r.json, "properties.p.minimum"), 1));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, NS, "{\"namespace\":\"t1\"}", admin, JSON_ACCEPT), MC_IMAGE, 409,
                    "The metadata definition namespace=t1 already exists.");
    mc_expect_error(mc_call(EVHTTP_REQ_DELETE, NS "/t1", NULL, admin, JSON_ACCEPT), MC_IMAGE, 403,
                    "Metadata definition namespace t1 is protected and cannot be deleted.");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/t1/tags", NULL, admin, JSON_ACCEPT), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/t1/objects/o", NULL, admin, JSON_ACCEPT), 403);
    /* PUT: visibility private and protected false unless given */
    r = mc_call(EVHTTP_REQ_PUT, NS "/t1", "{\"namespace\":\"t1\",\"description\":\"d\"}", admin, JSON_ACCEPT);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "visibility"), "private"));
    cr_expect(cJSON_IsFalse(mc_jpath(r.json, "protected")));
    cr_expect(mc_jpath(r.json, "display_name") == NULL);
    mc_resp_free(&r);
    /* a private namespace of another project is not there for a member */
    mc_expect_error(mc_call(EVHTTP_REQ_GET, NS "/t1", NULL, demo, JSON_ACCEPT), MC_IMAGE, 404,
                    "Metadata definition namespace=t1 was not found.");
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS, NULL, demo, NULL), "namespaces", 4);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "?visibility=private", NULL, admin, NULL), "namespaces", 1);
    /* rename keeps the contents; the old name is gone */
    r = mc_call(EVHTTP_REQ_PUT, NS "/t1", "{\"namespace\":\"t2\",\"visibility\":\"public\"}", admin, JSON_ACCEPT);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "self"), "/v2/metadefs/namespaces/t2"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "/t1", NULL, admin, NULL), 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/t2/objects", NULL, demo, NULL), "objects", 1);
    mc_expect_error(mc_call(EVHTTP_REQ_PUT, NS "/t2", "{\"namespace\":\"OS::Compute::Trust\"}", admin, JSON_ACCEPT),
                    MC_IMAGE, 409, "The metadata definition namespace=OS::Compute::Trust already exists.");
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/t2", NULL, admin, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "/t2", NULL, admin, NULL), 404);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/t2", NULL, admin, NULL), 404);
    mc_assert_no_leaks();
}

Test(metadefs, member_writes_are_403_and_bad_input_400) {
    mc_expect_error(mc_call(EVHTTP_REQ_POST, NS, "{\"namespace\":\"m\"}", demo, JSON_ACCEPT), MC_IMAGE, 403,
                    "You are not authorized to complete add_metadef_namespace action.");
    static const char *const paths[][2] = {
        {NS "/OS::Compute::Trust/objects", "{\"name\":\"o\"}"},
        {NS "/OS::Compute::Trust/properties", "{\"name\":\"p\",\"title\":\"P\",\"type\":\"string\"}"},
        {NS "/OS::Compute::Trust/tags", "{\"tags\":[{\"name\":\"x\"}]}"},
        {NS "/OS::Compute::Trust/tags/x", NULL},
        {NS "/OS::Compute::Trust/resource_types", "{\"name\":\"OS::Nova::Server\"}"},
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        mc_expect_status(mc_call(EVHTTP_REQ_POST, paths[i][0], paths[i][1], demo, JSON_ACCEPT), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, NS "/OS::Compute::Trust", "{\"namespace\":\"x\"}", demo, NULL), 403);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/OS::Compute::Trust/properties/trust:trusted_host", NULL, demo, NULL), 403);
    /* unknown namespace: 404 before the policy, for members and admins */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, NS "/nope/objects", "{\"name\":\"o\"}", demo, JSON_ACCEPT), MC_IMAGE, 404,
                    "Metadata definition namespace=nope was not found.");
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "/nope/tags", NULL, admin, NULL), 404);
    /* malformed JSON, wrong types, missing names, bad enums */
    static const char *const bad[] = {"{\"namespace\":", "[]", "{}", "{\"namespace\":\"\"}", "{\"namespace\":1}",
                                      "{\"namespace\":\"v\",\"visibility\":\"shared\"}",
                                      "{\"namespace\":\"v\",\"protected\":\"yes\"}", "{\"namespace\":\"v\",\"extra\":1}",
                                      "{\"namespace\":\"v\",\"properties\":{\"p\":{\"type\":\"string\"}}}",
                                      "{\"namespace\":\"v\",\"objects\":[{\"description\":\"no name\"}]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_resp b = mc_call(EVHTTP_REQ_POST, NS, bad[i], admin, JSON_ACCEPT);
        cr_expect(eq(int, b.status, 400), "%s", bad[i]);
        cr_expect(eq(str, (char *)mc_jstr(b.json, "code"), "400 Bad Request"), "%s", bad[i]);
        mc_resp_free(&b);
    }
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "/v", NULL, admin, NULL), 404);   /* nothing half-made */
    mc_expect_error(mc_call(EVHTTP_REQ_POST, NS, "{\"namespace\":\"v\",\"resource_type_associations\":[{\"name\":\"OS::Nope\"}]}",
                            admin, JSON_ACCEPT),
                    MC_IMAGE, 404, "The metadata definition resource-type with name=OS::Nope, was not found.");
    mc_assert_no_leaks();
}

Test(metadefs, objects_properties_tags_and_associations) {
    create_ns("{\"namespace\":\"c\",\"visibility\":\"public\"}");
    /* objects */
    mc_resp r = mc_call(EVHTTP_REQ_POST, NS "/c/objects",
                        "{\"name\":\"o1\",\"required\":[\"a\"],\"properties\":{\"a\":{\"title\":\"A\",\"type\":\"string\"}}}",
                        admin, JSON_ACCEPT);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "schema"), "/v2/schemas/metadefs/object"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "required.0"), "a"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_POST, NS "/c/objects", "{\"name\":\"o1\"}", admin, JSON_ACCEPT), MC_IMAGE, 409,
                    "A metadata definition object with name=o1 already exists in namespace=c.");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/objects", "{\"name\":\"o2\"}", admin, NULL), 201);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, NS "/c/objects/o2", "{\"name\":\"o1\"}", admin, NULL), 409);
    r = mc_call(EVHTTP_REQ_PUT, NS "/c/objects/o2", "{\"name\":\"o3\",\"description\":\"d\"}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "o3"));
    mc_resp_free(&r);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, NS "/c/objects/o2", NULL, demo, JSON_ACCEPT), MC_IMAGE, 404,
                    "The metadata definition object with name=o2 was not found in namespace=c.");
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/objects", NULL, demo, NULL), "objects", 2);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/objects/o3", NULL, admin, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/objects", NULL, admin, NULL), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/objects", NULL, demo, NULL), "objects", 0);
    /* properties: a map by name */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/properties", "{\"name\":\"p\",\"title\":\"P\",\"type\":\"float\"}",
                             admin, NULL), 400);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/properties", "{\"name\":\"p\",\"title\":\"P\",\"type\":\"string\",\"enum\":[\"x\"]}",
                             admin, NULL), 201);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/properties", "{\"name\":\"p\",\"title\":\"Q\",\"type\":\"string\"}",
                             admin, NULL), 409);
    r = mc_call(EVHTTP_REQ_GET, NS "/c/properties", NULL, demo, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "properties.p.enum.0"), "x"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_PUT, NS "/c/properties/p", "{\"name\":\"p\",\"title\":\"P2\",\"type\":\"boolean\"}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "title"), "P2"));
    cr_expect(mc_jpath(r.json, "enum") == NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/properties/p", NULL, admin, NULL), 204);
    mc_expect_error(mc_call(EVHTTP_REQ_GET, NS "/c/properties/p", NULL, admin, JSON_ACCEPT), MC_IMAGE, 404,
                    "The metadata definition property with name=p was not found in namespace=c.");
    /* tags: bulk create replaces, X-Openstack-Append adds; names ignore case */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags", "{\"tags\":[{\"name\":\"a\"},{\"name\":\"b\"}]}", admin, NULL), 201);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags", "{\"tags\":[{\"name\":\"x\"},{\"name\":\"X\"}]}", admin, NULL), 409);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/tags", NULL, demo, NULL), "tags", 2);   /* unchanged */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags", "{\"tags\":[{\"name\":\"c\"}]}", admin, "X-Openstack-Append: True"), 201);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/tags", NULL, demo, NULL), "tags", 3);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags", "{\"tags\":[{\"name\":\"d\"}]}", admin, NULL), 201);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/tags", NULL, demo, NULL), "tags", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags/e", NULL, admin, NULL), 201);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/tags/E", NULL, admin, NULL), 409);
    r = mc_call(EVHTTP_REQ_PUT, NS "/c/tags/e", "{\"name\":\"f\"}", admin, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "name"), "f"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, NS "/c/tags/f", "{\"name\":\"D\"}", admin, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, NS "/c/tags/F", NULL, demo, NULL), 200);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/tags/f", NULL, admin, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/tags", NULL, admin, NULL), 204);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/tags", NULL, demo, NULL), "tags", 0);
    /* resource type associations */
    r = mc_call(EVHTTP_REQ_POST, NS "/c/resource_types", "{\"name\":\"OS::Nova::Server\",\"prefix\":\"s_\"}", admin, NULL);
    cr_expect(eq(int, r.status, 201));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "prefix"), "s_"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/resource_types", "{\"name\":\"OS::Nova::Server\"}", admin, NULL), 409);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, NS "/c/resource_types", "{\"name\":\"OS::Nope\"}", admin, NULL), 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/resource_types", NULL, demo, NULL), "resource_type_associations", 1);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "?resource_types=OS::Nova::Server", NULL, demo, NULL), "namespaces", 1);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/resource_types/OS::Nova::Server", NULL, admin, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, NS "/c/resource_types/OS::Nova::Server", NULL, admin, NULL), 404);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, NS "/c/resource_types", NULL, demo, NULL), "resource_type_associations", 0);
    mc_assert_no_leaks();
}
