/* Unit tests of the core modules: store, router matching, util, journal. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "harness.h"
#include "http.h"
#include "router.h"
#include "store.h"
#include "util.h"

static mc_record *add(mc_store *st, const char *id) {
    return mc_store_add(st, id, "p", cJSON_CreateObject());
}

Test(store, duplicate_id_is_refused) {
    mc_store st = {0};
    cr_assert(add(&st, "a") != NULL);
    cJSON *doc = cJSON_CreateObject();
    cr_expect(mc_store_add(&st, "a", "p", doc) == NULL);
    cJSON_Delete(doc);
    cr_expect(eq(sz, st.count, 1));
    mc_store_clear(&st);
}

/* A view's text comes from cJSON's allocator (the store frees it with cJSON_free). */
static char *view_text(const char *s) {
    char *t = cJSON_malloc(strlen(s) + 1);
    cr_assert(t != NULL);
    memcpy(t, s, strlen(s) + 1);
    return t;
}

Test(store, view_is_kept_per_key_until_touched) {
    mc_store st = {0};
    mc_record *rec = add(&st, "a");
    cr_assert(rec != NULL);
    cr_expect(mc_record_view(rec, 7) == NULL);
    const char *v = mc_record_view_set(rec, 7, view_text("{\"id\":\"a\"}"));
    cr_expect(eq(str, (char *)mc_record_view(rec, 7), "{\"id\":\"a\"}"));
    cr_expect(mc_record_view(rec, 7) == v);
    cr_expect(mc_record_view(rec, 8) == NULL);  /* another key misses */
    cr_expect(mc_record_view(rec, 0) == NULL);  /* 0 is never a key */
    mc_record_view_set(rec, 8, view_text("{}"));  /* last key wins */
    cr_expect(mc_record_view(rec, 7) == NULL);
    cr_expect(mc_record_view(rec, 8) != NULL);
    mc_record_touch(rec);
    cr_expect(mc_record_view(rec, 8) == NULL);
    mc_record_view_set(rec, 9, view_text("{}"));  /* freed by the store */
    mc_store_clear(&st);
}

Test(store, page_walks_creation_order_after_marker) {
    mc_store st = {0};
    const char *ids[] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) add(&st, ids[i]);
    mc_record *out[10];
    bool more;
    long n = mc_store_page(&st, NULL, 2, false, NULL, NULL, out, 10, &more);
    cr_assert(eq(long, n, 2));
    cr_expect(eq(str, out[0]->id, "a"));
    cr_expect(more);
    n = mc_store_page(&st, "b", 2, false, NULL, NULL, out, 10, &more);
    cr_expect(eq(str, out[0]->id, "c"));
    cr_expect(eq(str, out[1]->id, "d"));
    cr_expect(more);
    n = mc_store_page(&st, "d", 2, false, NULL, NULL, out, 10, &more);
    cr_expect(eq(long, n, 1));
    cr_expect(more == false);
    /* marker at the last item: empty page */
    n = mc_store_page(&st, "e", 5, false, NULL, NULL, out, 10, &more);
    cr_expect(eq(long, n, 0));
    /* limit 0 */
    n = mc_store_page(&st, NULL, 0, false, NULL, NULL, out, 10, &more);
    cr_expect(eq(long, n, 0));
    cr_expect(more);
    /* unknown marker */
    cr_expect(eq(long, mc_store_page(&st, "zz", 2, false, NULL, NULL, out, 10, &more), -1));
    /* newest first */
    n = mc_store_page(&st, NULL, 2, true, NULL, NULL, out, 10, &more);
    cr_expect(eq(str, out[0]->id, "e"));
    n = mc_store_page(&st, "c", 5, true, NULL, NULL, out, 10, &more);
    cr_expect(eq(long, n, 2));
    cr_expect(eq(str, out[0]->id, "b"));
    mc_store_clear(&st);
}

Test(store, delete_keeps_order_of_others) {
    mc_store st = {0};
    add(&st, "a");
    mc_record *b = add(&st, "b");
    add(&st, "c");
    mc_store_delete(&st, mc_store_first(&st));
    mc_store_delete(&st, b);
    cr_expect(eq(str, mc_store_first(&st)->id, "c"));
    cr_expect(eq(str, mc_store_last(&st)->id, "c"));
    mc_store_clear(&st);
    cr_expect(mc_store_first(&st) == NULL);
    mc_record *out[2];
    bool more;
    cr_expect(eq(long, mc_store_page(&st, NULL, 5, true, NULL, NULL, out, 2, &more), 0));
}

Test(router, literal_and_param_segments) {
    char *params[MC_MAX_PARAMS] = {0};
    int n = 0;
    cr_expect(mc_route_match("/v2.1/servers/detail", "/v2.1/servers/detail", params, &n));
    cr_expect(mc_route_match("/v2.1/servers/{}", "/v2.1/servers/abc%20d", params, &n));
    cr_assert(eq(int, n, 1));
    cr_expect(eq(str, params[0], "abc d"));
    free(params[0]);
    cr_expect(mc_not(mc_route_match("/v2.1/servers/{}", "/v2.1/servers", params, &n)));
    cr_expect(mc_not(mc_route_match("/v2.1/servers/{}", "/v2.1/servers/a/b", params, &n)));
    cr_expect(mc_not(mc_route_match("/v3", "/v3x", params, &n)));
    cr_expect(mc_route_match("/", "/", params, &n));
}

Test(router, service_by_prefix) {
    const char *rest;
    const mc_service_def *d = mc_router_service("/compute/v2.1/servers", &rest);
    cr_assert(d != NULL);
    cr_expect(eq(int, d->svc, MC_COMPUTE));
    cr_expect(eq(str, (char *)rest, "/v2.1/servers"));
    d = mc_router_service("/identityx", &rest);
    cr_expect(d == NULL || d->svc != MC_IDENTITY);
}

Test(util, time_round_trip_and_formats) {
    char ks[40], iso[32];
    mc_time_keystone(1764070000.25, ks);
    cr_expect(eq(str, ks, "2025-11-25T11:26:40.250000Z"));
    mc_time_iso(1764070000.25, iso);
    cr_expect(eq(str, iso, "2025-11-25T11:26:40Z"));
    cr_expect(eq(dbl, mc_time_parse("2025-11-25T11:26:40Z"), 1764070000.0));
    cr_expect(eq(dbl, mc_time_parse("2025-11-25T12:26:40+01:00"), 1764070000.0));
    cr_expect(eq(dbl, mc_time_parse("2025-11-25"), 1764028800.0));
    cr_expect(mc_time_parse("yesterday") < 0);
    cr_expect(mc_time_parse("2025-13-01T00:00:00Z") < 0);
}

/* mc_time_keystone prints without snprintf: the same text as the format it
 * replaced, over every field's boundaries and a spread of instants. */
Test(util, keystone_time_digits_equal_snprintf) {
    double ts[] = {0, 0.5, 0.9999994, 0.9999996, 59.000001, 951782400.123456, 1764070000.25, 1764070000.999999,
                   4102444799.999999, 253402300799.0, 253402300800.0, -1.5};
    for (int i = 0; i < 2000 + (int)(sizeof ts / sizeof ts[0]); i++) {
        double t = i < 2000 ? (double)i * 126232.171717 + (double)(i % 7) * 0.1428571 : ts[i - 2000];
        char got[40], want[40];
        mc_time_keystone(t, got);
        long long us = (long long)(t * 1e6 + 0.5);
        time_t s = (time_t)(us / 1000000);
        struct tm tm;
        gmtime_r(&s, &tm);
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(us % 1000000));
        cr_expect(eq(str, got, want), "t=%f", t);
    }
}

Test(util, ids_and_parsing) {
    cr_expect(mc_is_uuid("8e4b5a3f-9c2d-4e1f-a0b6-c7d8e9f01234"));
    cr_expect(mc_is_uuid("8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"));
    cr_expect(mc_not(mc_is_uuid("8e4b5a3f-9c2d-4e1f-a0b6-c7d8e9f0123")));
    cr_expect(mc_not(mc_is_uuid(NULL)));
    long v;
    cr_expect(mc_parse_long("42", 0, 100, &v) && v == 42);
    cr_expect(mc_not(mc_parse_long("abc", 0, 100, &v)));
    cr_expect(mc_not(mc_parse_long("-1", 0, 100, &v)));
    cr_expect(mc_not(mc_parse_long("", 0, 100, &v)));
    cr_expect(mc_not(mc_parse_long("99999999999999999999", 0, 100, &v)));
    bool b;
    cr_expect(mc_str_bool("True", &b) && b);
    cr_expect(mc_str_bool("0", &b) && !b);
    cr_expect(mc_not(mc_str_bool("maybe", &b)));
}

Test(util, seeded_randomness_is_reproducible) {
    mc_server a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    mc_rand_init(&a, 7);
    mc_rand_init(&b, 7);
    char ua[37], ub[37];
    mc_uuid(&a, ua);
    mc_uuid(&b, ub);
    cr_expect(eq(str, ua, ub));
    cr_expect(mc_is_uuid(ua));
    cr_expect(eq(chr, ua[14], '4'));
}

/* Without a seed the stream starts from the kernel: two servers differ, ids
 * are well-formed v4 UUIDs and do not repeat; secrets still come from the
 * kernel, so two draws differ too. */
Test(util, unseeded_randomness_differs_and_is_well_formed) {
    mc_server a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    mc_rand_init(&a, 0);
    mc_rand_init(&b, 0);
    cr_expect(eq(u64, a.cfg.seed, 0));
    cr_expect(ne(u64, a.rng, b.rng));
    char ua[37], ub[37], prev[37] = "";
    mc_uuid(&a, ua);
    mc_uuid(&b, ub);
    cr_expect(ne(str, ua, ub));
    for (int i = 0; i < 1000; i++) {
        mc_uuid(&a, ua);
        cr_expect(mc_is_uuid(ua));
        cr_expect(eq(chr, ua[14], '4'));
        cr_expect(eq(sz, strlen(ua), 36));
        cr_expect(ne(str, ua, prev));
        memcpy(prev, ua, sizeof prev);
    }
    unsigned char s1[16], s2[16];
    mc_secret_bytes(&a, s1, sizeof s1);
    mc_secret_bytes(&a, s2, sizeof s2);
    cr_expect(ne(int, memcmp(s1, s2, sizeof s1), 0));
}

/* With a seed, secrets come from the seeded stream too (reproducible runs). */
Test(util, seeded_secrets_are_reproducible) {
    mc_server a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    mc_rand_init(&a, 11);
    mc_rand_init(&b, 11);
    unsigned char s1[48], s2[48];
    mc_secret_bytes(&a, s1, sizeof s1);
    mc_secret_bytes(&b, s2, sizeof s2);
    cr_expect(eq(int, memcmp(s1, s2, sizeof s1), 0));
}

/* mc_json_print turns integers into raw text: the bytes must be exactly
 * cJSON_PrintUnformatted's, for every kind of number and nesting. */
Test(http, json_print_matches_cjson) {
    static const double nums[] = {0, -0.0, 1, -1, 42, -7, 1e14 + 1, 999999999999999.0, -999999999999999.0,
                                  1e15, -1e15, 1e16, 3.5, -0.25, 1e300, 9007199254740992.0, 0.1, 1e-7,
                                  2147483648.0, -2147483649.0};
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "a");
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(nums[i]));
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "n", nums[i]);
        cJSON_AddStringToObject(o, "s", "12");
        cJSON_AddItemToObjectCS(o, "const", cJSON_CreateNumber(nums[i]));
        cJSON_AddItemToArray(arr, o);
    }
    cJSON_AddItemToObject(root, "nan", cJSON_CreateNumber(NAN));
    cJSON_AddItemToObject(root, "inf", cJSON_CreateNumber(INFINITY));
    cJSON_AddNullToObject(root, "null");
    cJSON_AddTrueToObject(root, "t");
    cJSON_AddItemToObject(root, "empty", cJSON_CreateArray());
    cJSON *copy = cJSON_Duplicate(root, 1);
    char *want = cJSON_PrintUnformatted(copy);
    char *got = mc_json_print(root);
    cr_assert(want != NULL && got != NULL);
    cr_expect(eq(str, got, want));
    cr_expect(strstr(got, "\"n\":42,") != NULL, "%s", got);
    cJSON_free(want);
    cJSON_free(got);
    cJSON_Delete(copy);
    cJSON_Delete(root);   /* raw texts are freed with the tree */
}

Test(control, loopback_or_token_only) {
    cr_expect(mc_control_allowed("127.0.0.1", NULL, ""));
    cr_expect(mc_control_allowed("::1", NULL, ""));
    cr_expect(mc_control_allowed("::ffff:127.0.0.1", NULL, ""));
    cr_expect(mc_not(mc_control_allowed("10.1.2.3", NULL, "")));
    cr_expect(mc_not(mc_control_allowed("10.1.2.3", "guess", "")));
    cr_expect(mc_not(mc_control_allowed("10.1.2.3", "wrong-token", "right-token")));
    cr_expect(mc_control_allowed("10.1.2.3", "right-token", "right-token"));
    cr_expect(mc_not(mc_control_allowed(NULL, NULL, "")));
    cr_expect(mc_not(mc_control_allowed("1270.0.0.1", NULL, "")));
}
