/* HTTP tests of the behaviour profiles: live switching, the generic
 * response-side deviations, injected faults, rate limits, latency and the
 * journal, seen through the identity service and the control API. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "profile.h"
#include "util.h"

static void setup(void) {
    signal(SIGPIPE, SIG_IGN);
    mc_test_start(NULL);
}
static void teardown(void) { mc_test_stop(); }

TestSuite(profiles, .init = setup, .fini = teardown);
TestSuite(faults, .init = setup, .fini = teardown);

static void deviate(const char *ids_json) { mc_test_profile(NULL, ids_json); }

/* Replaces the active profile with an inline one written to a temp dir. */
static void inline_profile(const char *json) {
    char dir[256], path[512], err[512];
    snprintf(dir, sizeof dir, "/tmp/mc-prof-http-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/p.json", dir);
    FILE *f = fopen(path, "w");
    cr_assert(f != NULL);
    fputs(json, f);
    fclose(f);
    mc_profile *p = mc_profile_load(dir, path, err, sizeof err);
    cr_assert(p != NULL, "%s", err);
    unlink(path);
    rmdir(dir);
    mc_profile_free(T.srv->profile);
    T.srv->profile = p;
}

/* ------------------------------------------------------------ switching */

Test(profiles, switch_live_keeps_tokens_and_names_profile) {
    char *tok = mc_test_token("demo", "demo");
    cr_assert(tok != NULL);
    deviate("[\"token-create-200\"]");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-Mockcloud-Profile"), "conformant+token-create-200"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/profile", NULL, NULL, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "deviations.0.id"), "token-create-200"));
    cJSON *remap = cJSON_GetObjectItemCaseSensitive(mc_jpath(r.json, "knobs"), "status.remap");
    cr_expect(eq(str, (char *)mc_jstr(remap, "0"), "identity POST /v3/auth/tokens 201=200"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", "{\"profile\":\"conformant\",\"deviate\":[\"nope\"]}", NULL, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(strstr(mc_jstr(r.json, "error.message"), "nope") != NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", "{\"profile\":\"conformant\",\"deviate\":[\"proxy-html-5xx=3\"]}", NULL, NULL), 404);   /* a deviation without a param takes no value */
    free(tok);
    mc_assert_no_leaks();
}

Test(profiles, deviations_catalogue_lists_explanations_and_active) {
    deviate("[\"slow-api=1\"]");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/deviations", NULL, NULL, NULL);
    cr_assert(eq(int, r.status, 200));
    cJSON *d, *devs = mc_jpath(r.json, "deviations");
    cr_expect(ge(int, cJSON_GetArraySize(devs), 24));
    int active = 0;
    cJSON_ArrayForEach(d, devs) {
        cr_expect(mc_jstr(d, "explanation") != NULL && strlen(mc_jstr(d, "explanation")) > 80, "%s", mc_jstr(d, "id"));
        cr_expect(mc_jstr(d, "title") != NULL);
        cr_expect(cJSON_IsArray(mc_jpath(d, "catches")));
        if (cJSON_IsTrue(mc_jpath(d, "active"))) {
            active++;
            cr_expect(eq(str, (char *)mc_jstr(d, "id"), "slow-api"));
        }
    }
    cr_expect(eq(int, active, 1));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/deviations/proxy-html-5xx", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "deviation.layer"), "errors"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/deviations/nope", NULL, NULL, NULL), 404);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ latency */

Test(profiles, latency_defers_the_reply_and_is_named) {
    double t0 = mc_now();
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(lt(dbl, mc_now() - t0, 0.15));
    cr_expect(mc_resp_header(&r, "X-Mockcloud-Deviations") == NULL);
    mc_resp_free(&r);
    deviate("[\"slow-api=200\"]");
    t0 = mc_now();
    r = mc_test_token_issue("demo", "demo");
    double dt = mc_now() - t0;
    cr_expect(eq(int, r.status, 201), "the deferred handler still runs with its body");
    cr_expect(ge(dbl, dt, 0.19));
    cr_expect(mc_resp_lists(&r, "slow-api"));
    mc_resp_free(&r);
    /* the control API is never delayed */
    t0 = mc_now();
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?service=identity&limit=1", NULL, NULL, NULL);
    cr_expect(lt(dbl, mc_now() - t0, 0.15));
    cr_expect(ge(dbl, mc_jnum(r.json, "entries.0.latency_ms"), 190.0));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "entries.0.deviations.0"), "slow-api"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

static int pending_done;
static void pending_cb(struct evhttp_request *req, void *arg) {
    (void)req;
    (void)arg;
    pending_done++;
}

Test(profiles, server_stops_with_a_deferred_reply_pending) {
    deviate("[\"slow-api=5000\"]");
    struct evhttp_connection *c = evhttp_connection_base_new(T.base, NULL, "127.0.0.1", (unsigned short)T.srv->port);
    struct evhttp_request *req = evhttp_request_new(pending_cb, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
    evhttp_make_request(c, req, EVHTTP_REQ_GET, "/identity/v3");
    mc_test_sleep_ms(100);
    cr_expect(eq(int, pending_done, 0));
    evhttp_connection_free(c);   /* the client goes away first */
    mc_test_sleep_ms(50);
    /* teardown frees the server with the timer still armed: ASan checks it */
}

Test(profiles, deferred_reply_to_a_closed_client_is_harmless) {
    deviate("[\"slow-api=100\"]");
    struct evhttp_connection *c = evhttp_connection_base_new(T.base, NULL, "127.0.0.1", (unsigned short)T.srv->port);
    struct evhttp_request *req = evhttp_request_new(pending_cb, NULL);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
    evhttp_make_request(c, req, EVHTTP_REQ_GET, "/identity/v3");
    mc_test_sleep_ms(30);
    evhttp_connection_free(c);
    mc_test_sleep_ms(200);   /* the timer fires after the client left */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?service=identity", NULL, NULL, NULL), 200);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ errors */

Test(profiles, html_error_pages_replace_json) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/nope", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 404));
    mc_resp_free(&r);
    deviate("[\"proxy-html-5xx\"]");
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/nope", NULL, NULL, NULL);
    cr_expect(r.json != NULL, "4xx stays JSON when only 5xx are replaced");
    mc_resp_free(&r);
    deviate("[\"proxy-html-errors\"]");
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/nope", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(r.json == NULL);
    cr_expect(strstr(r.body, "<h1>404 Not Found</h1>") != NULL, "%s", r.body);
    cr_expect(eq(str, (char *)mc_resp_header(&r, "Content-Type"), "text/html"));
    cr_expect(mc_resp_lists(&r, "proxy-html-errors"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(r.json != NULL);
    cr_expect(mc_not(mc_resp_lists(&r, "proxy-html-errors")), "a success is untouched and not labelled");
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(profiles, error_without_message) {
    deviate("[\"error-without-message\"]");
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", "{\"auth\":{}}", NULL, NULL);
    cr_expect(eq(int, r.status, 400));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 400));
    cr_expect(mc_jpath(r.json, "error.message") == NULL, "%s", r.body);
    cr_expect(mc_resp_lists(&r, "error-without-message"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(profiles, rate_limit_429_with_and_without_retry_after) {
    deviate("[\"rate-limit-429=2\"]");
    for (int i = 0; i < 2; i++) {
        mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    }
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 429));
    cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 429));
    const char *ra = mc_resp_header(&r, "Retry-After");
    cr_expect(ra != NULL && atol(ra) >= 1 && atol(ra) <= 60, "%s", ra ? ra : "(none)");
    cr_expect(mc_resp_lists(&r, "rate-limit-429"));
    mc_resp_free(&r);
    /* the control API is never limited */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/mockcloud/v1", NULL, NULL, NULL), 200);
    deviate("[\"rate-limit-no-retry-after=1\"]");
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 429), "the window and count survive a profile switch");
    cr_expect(mc_resp_header(&r, "Retry-After") == NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(profiles, compute_legacy_413_overlimit) {
    deviate("[\"nova-legacy-413-overlimit=1\"]");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute", NULL, NULL, NULL);
    cr_expect(ne(int, r.status, 429));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/compute", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 413));
    cr_expect(eq(int, (int)mc_jnum(r.json, "overLimit.code"), 413), "%s", r.body);
    cr_expect(mc_jstr(r.json, "overLimit.retryAfter") != NULL);
    cr_expect(mc_resp_lists(&r, "nova-legacy-413-overlimit"));
    mc_resp_free(&r);
    /* identity keeps its 429 */
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 429);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ status, body, headers */

Test(profiles, status_remap_by_route) {
    mc_expect_status(mc_test_token_issue("demo", "demo"), 201);
    mc_resp r;
    deviate("[\"token-create-200\",\"identity-versions-200\"]");
    r = mc_test_token_issue("demo", "demo");
    cr_expect(eq(int, r.status, 200));
    cr_expect(mc_jstr(r.json, "token.expires_at") != NULL);
    cr_expect(mc_resp_lists(&r, "token-create-200"));
    cr_expect(mc_not(mc_resp_lists(&r, "identity-versions-200")));
    mc_resp_free(&r);
    mc_expect_deviation(mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, NULL), 200, "identity-versions-200");
    /* a failed token request keeps its status */
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", "{\"auth\":{}}", NULL, NULL), 400);
    mc_assert_no_leaks();
}

Test(profiles, delete_204_becomes_200_with_a_body) {
    deviate("[\"delete-200-with-body\"]");
    char *tok = mc_test_token("demo", "demo");
    char hdr[300];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", tok);
    mc_resp r = mc_call(EVHTTP_REQ_DELETE, "/identity/v3/auth/tokens", NULL, tok, hdr);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "{}"));
    cr_expect(mc_resp_lists(&r, "delete-200-with-body"));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(profiles, body_rules_remove_rename_add_by_path) {
    inline_profile("{\"name\":\"shapes\",\"deviations\":["
                   "{\"id\":\"rm\",\"set\":{\"body.remove\":\"identity **.password_expires_at\"}},"
                   "{\"id\":\"mv\",\"set\":{\"body.rename\":[\"identity token.project.domain=domain_ref\","
                   "\"identity token.roles.*.name=role_name\"]}},"
                   "{\"id\":\"add\",\"set\":{\"body.add\":\"identity token.x-vendor={\\\"tier\\\": \\\"gold\\\"}\"}},"
                   "{\"id\":\"other\",\"set\":{\"body.remove\":\"network **.id\"}}]}");
    mc_resp r = mc_test_token_issue("demo", "demo");
    cr_assert(eq(int, r.status, 201));
    cr_expect(mc_jpath(r.json, "token.user.id") != NULL, "a network rule leaves identity alone");
    cr_expect(mc_jpath(r.json, "token.user.password_expires_at") == NULL);
    cr_expect(mc_jpath(r.json, "token.project.domain") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.project.domain_ref.id"), "default"));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.roles.0.role_name"), "member"));
    cr_expect(mc_jpath(r.json, "token.roles.0.name") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "token.x-vendor.tier"), "gold"));
    const char *h = mc_resp_header(&r, "X-Mockcloud-Deviations");
    cr_expect(eq(str, (char *)h, "rm,mv,add"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(profiles, naive_timestamps_and_header_removal) {
    mc_resp r = mc_test_token_issue("demo", "demo");
    const char *exp = mc_jstr(r.json, "token.expires_at");
    cr_assert(exp != NULL);
    cr_expect(eq(chr, exp[strlen(exp) - 1], 'Z'));
    cr_expect(mc_resp_header(&r, "x-openstack-request-id") != NULL);
    mc_resp_free(&r);
    inline_profile("{\"deviations\":[{\"id\":\"naive\",\"set\":{\"body.naive_timestamps\":\"identity\"}}]}");
    r = mc_test_token_issue("demo", "demo");
    exp = mc_jstr(r.json, "token.expires_at");
    cr_assert(exp != NULL);
    cr_expect(eq(sz, strlen(exp), 26), "%s", exp);   /* 2026-11-25T11:23:11.000000 */
    cr_expect(mc_not(strchr(exp, 'Z') != NULL));
    cr_expect(mc_resp_lists(&r, "naive"));
    mc_resp_free(&r);
    deviate("[\"request-id-stripped\"]");
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(mc_resp_header(&r, "x-openstack-request-id") == NULL);
    cr_expect(mc_resp_lists(&r, "request-id-stripped"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ faults */

static mc_resp add_fault(const char *json) {
    return mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/faults", json, NULL, NULL);
}

Test(faults, status_fault_counted_then_gone) {
    mc_resp f = add_fault("{\"service\":\"identity\",\"method\":\"GET\",\"path\":\"/identity/v3*\","
                          "\"status\":503,\"count\":2,\"retry_after\":7}");
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    int id = (int)mc_jnum(f.json, "fault.id");
    mc_resp_free(&f);
    char fid[32];
    snprintf(fid, sizeof fid, "fault-%d", id);
    for (int i = 0; i < 2; i++) {
        mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
        cr_expect(eq(int, r.status, 503));
        cr_expect(eq(int, (int)mc_jnum(r.json, "error.code"), 503), "in Keystone's dialect: %s", r.body);
        cr_expect(eq(str, (char *)mc_resp_header(&r, "Retry-After"), "7"));
        cr_expect(mc_resp_lists(&r, fid));
        mc_resp_free(&r);
    }
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_resp r;
    mc_expect_count(mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/faults", NULL, NULL, NULL), "faults", 0);
    char q[128];
    snprintf(q, sizeof q, "/mockcloud/v1/journal?deviation=%s", fid);
    r = mc_call(EVHTTP_REQ_GET, q, NULL, NULL, NULL);
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(r.json, "entries")), 2));
    cr_expect(eq(int, (int)mc_jnum(r.json, "entries.0.status"), 503));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(faults, method_service_and_body_must_match) {
    mc_resp f = add_fault("{\"method\":\"POST\",\"path\":\"/identity/v3/auth/tokens\",\"status\":500,\"count\":0,"
                          "\"body\":{\"auth.scope.project.name\":\"alt_demo\"},\"message\":\"boom\"}");
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    mc_expect_status(mc_test_token_issue("demo", "demo"), 201);   /* demo's request does not match */
    mc_resp r;
    char *alt = mc_test_token("alt_demo", "alt_demo");
    cr_expect(alt == NULL, "alt_demo's token request hits the fault");
    free(alt);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/faults", NULL, NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "faults.0.hits"), 1));
    cr_expect(eq(int, (int)mc_jnum(r.json, "faults.0.count"), 0), "count 0 is unlimited");
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/mockcloud/v1/faults/1", NULL, NULL, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_DELETE, "/mockcloud/v1/faults/1", NULL, NULL, NULL), 404);
    mc_assert_no_leaks();
}

Test(faults, drop_closes_without_a_reply) {
    mc_resp f = add_fault("{\"path\":\"/identity/v3\",\"drop\":true}");
    cr_assert(eq(int, f.status, 201));
    mc_resp_free(&f);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), -1);   /* no reply at all */
    mc_resp r;
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);   /* one-shot: the next request is answered */
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?deviation=fault-1", NULL, NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "entries.0.status"), 0));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(faults, truncated_body_and_delay) {
    mc_resp full = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_assert(eq(int, full.status, 200));
    mc_resp f = add_fault("{\"path\":\"/identity/v3\",\"truncate\":10,\"delay_ms\":150}");
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    double t0 = mc_now();
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(ge(dbl, mc_now() - t0, 0.14));
    cr_expect(eq(int, r.status, -1), "a body shorter than Content-Length is a failed reply");
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/mockcloud/v1/journal?deviation=fault-1", NULL, NULL, NULL);
    cr_expect(eq(int, (int)mc_jnum(r.json, "entries.0.status"), 200));
    cr_expect(eq(int, (int)mc_jnum(r.json, "entries.0.bytes"), (int)full.len));
    mc_resp_free(&r);
    mc_resp_free(&full);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_assert_no_leaks();
}

Test(faults, slow_body_arrives_whole_but_late) {
    mc_resp full = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    mc_resp f = add_fault("{\"path\":\"/identity/v3\",\"slow_body_ms\":300}");
    cr_assert(eq(int, f.status, 201), "%s", f.body);
    mc_resp_free(&f);
    double t0 = mc_now();
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL);
    cr_expect(ge(dbl, mc_now() - t0, 0.25));
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, full.body), "the whole body, in pieces");
    mc_resp_free(&r);
    mc_resp_free(&full);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);   /* the keep-alive connection is still usable */
    mc_assert_no_leaks();
}

Test(faults, slow_body_to_a_client_that_leaves_or_a_server_that_stops) {
    mc_resp f = add_fault("{\"path\":\"/identity/v3\",\"slow_body_ms\":2000,\"count\":2}");
    mc_resp_free(&f);
    for (int i = 0; i < 2; i++) {
        struct evhttp_connection *c =
            evhttp_connection_base_new(T.base, NULL, "127.0.0.1", (unsigned short)T.srv->port);
        struct evhttp_request *req = evhttp_request_new(pending_cb, NULL);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
        evhttp_make_request(c, req, EVHTTP_REQ_GET, "/identity/v3");
        mc_test_sleep_ms(300);
        evhttp_connection_free(c);   /* the first client leaves mid-body */
        if (i == 0) mc_test_sleep_ms(2000);   /* the stream runs to its end */
    }
    /* the second stream is still running when teardown frees the server */
}

Test(faults, invalid_specs_are_400_and_reset_clears) {
    static const char *bad[] = {
        "{}", "{\"status\":200}", "{\"status\":503,\"drop\":true}", "{\"method\":\"FETCH\",\"status\":500}",
        "{\"service\":\"dns\",\"status\":500}", "{\"status\":500,\"colour\":1}", "{\"status\":500,\"probability\":2}",
        "{\"status\":500,\"body\":{\"a\":1,\"b\":2}}", "[]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mc_resp r = add_fault(bad[i]);
        cr_expect(eq(int, r.status, 400), "%s -> %d", bad[i], r.status);
        cr_expect(mc_jstr(r.json, "error.message") != NULL);
        mc_resp_free(&r);
    }
    mc_resp r = add_fault("{\"status\":500,\"seconds\":60}");
    cr_expect(eq(int, r.status, 201));
    cr_expect(mc_jstr(r.json, "fault.until") != NULL);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/mockcloud/v1/reset", NULL, NULL, NULL), 204);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);   /* reset drops the faults */
    mc_assert_no_leaks();
}

Test(faults, probability_zero_never_fires) {
    mc_resp f = add_fault("{\"status\":500,\"count\":0,\"probability\":0}");
    mc_resp_free(&f);
    for (int i = 0; i < 5; i++) {
        mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    }
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ catalog */

TestSuite(catalog, .init = setup, .fini = teardown);

#define DEMO_PROJECT "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234"

static cJSON *catalog_entry(cJSON *cat, const char *type) {
    cJSON *s;
    cJSON_ArrayForEach(s, cat) if (strcmp(mc_jstr(s, "type"), type) == 0) return s;
    return NULL;
}

Test(catalog, reference_has_four_services_three_interfaces) {
    mc_resp r = mc_test_token_issue("demo", "demo");
    cJSON *cat = mc_jpath(r.json, "token.catalog");
    cr_expect(eq(int, cJSON_GetArraySize(cat), 6));   /* and Cinder as volumev3 and block-storage */
    cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(catalog_entry(cat, "network"), "endpoints")), 3));
    const char *url = mc_jstr(catalog_entry(cat, "compute"), "endpoints.0.url");
    cr_expect(strstr(url, "/compute/v2.1") != NULL && strstr(url, DEMO_PROJECT) == NULL);
    cr_expect(mc_resp_header(&r, "X-Mockcloud-Deviations") == NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(catalog, service_missing_and_internal_only) {
    deviate("[\"catalog-missing-network\",\"catalog-internal-only\"]");
    mc_resp r = mc_test_token_issue("demo", "demo");
    cr_assert(eq(int, r.status, 201));
    cJSON *cat = mc_jpath(r.json, "token.catalog");
    cr_expect(eq(int, cJSON_GetArraySize(cat), 5));
    cr_expect(catalog_entry(cat, "network") == NULL);
    cJSON *s;
    cJSON_ArrayForEach(s, cat) {
        cr_expect(eq(int, cJSON_GetArraySize(mc_jpath(s, "endpoints")), 1));
        cr_expect(eq(str, (char *)mc_jstr(s, "endpoints.0.interface"), "internal"));
    }
    cr_expect(mc_resp_lists(&r, "catalog-missing-network"));
    cr_expect(mc_resp_lists(&r, "catalog-internal-only"));
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

Test(catalog, project_and_version_in_url_other_region) {
    deviate("[\"catalog-project-in-url\",\"catalog-version-in-url\",\"catalog-other-region\"]");
    char *tok = mc_test_token("demo", "demo");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL);
    cr_assert(eq(int, r.status, 200));
    cJSON *cat = mc_jpath(r.json, "catalog");
    const char *url = mc_jstr(catalog_entry(cat, "compute"), "endpoints.0.url");
    cr_expect(strstr(url, "/compute/v2.1/" DEMO_PROJECT) != NULL, "%s", url);
    url = mc_jstr(catalog_entry(cat, "network"), "endpoints.0.url");
    size_t n = strlen(url);
    cr_expect(n > 13 && strcmp(url + n - 13, "/network/v2.0") == 0, "%s", url);
    url = mc_jstr(catalog_entry(cat, "image"), "endpoints.0.url");
    cr_expect(strstr(url, "/image/v2") != NULL, "%s", url);
    url = mc_jstr(catalog_entry(cat, "identity"), "endpoints.0.url");
    cr_expect(strstr(url, "/identity") != NULL && strstr(url, "/v3") == NULL, "identity is not listed: %s", url);
    cr_expect(eq(str, (char *)mc_jstr(catalog_entry(cat, "image"), "endpoints.0.region_id"), "region-a"));
    cr_expect(mc_resp_lists(&r, "catalog-project-in-url"));
    cr_expect(mc_resp_lists(&r, "catalog-other-region"));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(catalog, short_token_ttl) {
    deviate("[\"short-token-ttl=1\"]");
    mc_resp r = mc_test_token_issue("demo", "demo");
    cr_assert(eq(int, r.status, 201));
    cr_expect(mc_resp_lists(&r, "short-token-ttl"));
    double exp = mc_time_parse(mc_jstr(r.json, "token.expires_at"));
    double iss = mc_time_parse(mc_jstr(r.json, "token.issued_at"));
    cr_expect(lt(dbl, exp - iss, 1.5));
    char *tok = strdup(mc_resp_header(&r, "X-Subject-Token"));
    mc_resp_free(&r);
    mc_test_sleep_ms(1100);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3/auth/catalog", NULL, tok, NULL), 401);
    free(tok);
    mc_assert_no_leaks();
}

Test(profiles, flaky_503_and_named_profile_switch) {
    deviate("[\"flaky-503=1000\"]");
    mc_expect_deviation(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 503, "flaky-503");
    mc_resp r;
    mc_test_profile("proxy-mangled", NULL);
    r = mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 200), "identity-versions-200");
    cr_expect(mc_resp_header(&r, "x-openstack-request-id") == NULL);
    cr_expect(eq(str, (char *)mc_resp_header(&r, "X-Mockcloud-Profile"), "proxy-mangled"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/identity/v3/projects", NULL, "bogus", NULL);
    cr_expect(eq(int, r.status, 401));
    cr_expect(strstr(r.body, "<html>") != NULL);
    mc_resp_free(&r);
    mc_test_profile(NULL, NULL);
    r = mc_call(EVHTTP_REQ_GET, "/identity", NULL, NULL, NULL);
    cr_expect(eq(int, r.status, 300), "back to the reference");
    cr_expect(mc_resp_header(&r, "X-Mockcloud-Deviations") == NULL);
    mc_resp_free(&r);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ requests, lists, pagination
 * Seen through Glance, whose list has limit, marker, name and next. */

TestSuite(lists, .init = setup, .fini = teardown);

/* The number of items in the list 'coll' at 'base''query' (-status when the
 * list fails); 'keep' (or NULL) receives the reply instead of it being freed. */
static int count_list(const char *base, const char *coll, const char *query, const char *tok, mc_resp *keep) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf("%s%s", base, query), NULL, tok, NULL);
    int n = r.status == 200 ? cJSON_GetArraySize(mc_jpath(r.json, coll)) : -r.status;
    if (keep != NULL)
        *keep = r;
    else
        mc_resp_free(&r);
    return n;
}

static int count_images(const char *query, const char *tok, mc_resp *keep) {
    return count_list("/image/v2/images", "images", query, tok, keep);
}

Test(lists, limit_ignored_and_page_cap) {
    char *tok = mc_test_token("demo", "demo");
    cr_expect(eq(int, count_images("?limit=1", tok, NULL), 1));
    int all = count_images("", tok, NULL);
    cr_assert(ge(int, all, 2));
    inline_profile("{\"deviations\":[{\"id\":\"nolimit\",\"set\":{\"query.drop\":\"image limit\"}}]}");
    mc_resp r;
    cr_expect(eq(int, count_images("?limit=1", tok, &r), all));
    cr_expect(mc_resp_lists(&r, "nolimit"));
    mc_resp_free(&r);
    inline_profile("{\"deviations\":[{\"id\":\"cap\",\"set\":{\"pagination.max_limit\":\"image 1\"}}]}");
    cr_expect(eq(int, count_images("", tok, &r), 1));
    cr_expect(mc_jstr(r.json, "next") != NULL, "the service still links the next page");
    cr_expect(mc_resp_lists(&r, "cap"));
    mc_resp_free(&r);
    cr_expect(eq(int, count_images("?limit=5", tok, NULL), 1));
    free(tok);
    mc_assert_no_leaks();
}

Test(lists, unknown_marker_500_and_literal_name) {
    char *tok = mc_test_token("demo", "demo");
    cr_expect(eq(int, count_images("?marker=nope", tok, NULL), -400));
    inline_profile("{\"deviations\":[{\"id\":\"m500\",\"set\":{\"pagination.bad_marker_500\":\"image\"}},"
                   "{\"id\":\"exact\",\"set\":{\"filters.name_exact\":\"image\"}}]}");
    mc_resp r;
    cr_expect(eq(int, count_images("?marker=nope", tok, &r), -500));
    cr_expect(mc_resp_lists(&r, "m500"));
    mc_resp_free(&r);
    cr_expect(eq(int, count_images("?limit=1", tok, NULL), 1), "a good page is untouched");
    /* Glance matches names exactly: the anchored, escaped regex matches nothing */
    cr_expect(eq(int, count_images("?name=cirros-0.5.2-x86_64-disk", tok, &r), 0));
    cr_expect(mc_resp_lists(&r, "exact"));
    mc_resp_free(&r);
    free(tok);
    mc_assert_no_leaks();
}

Test(lists, created_resource_missing_from_lists_for_a_while) {
    char *tok = mc_test_token("demo", "demo");
    inline_profile("{\"deviations\":[{\"id\":\"lag\",\"set\":{\"lists.hide_new_s\":\"image 1\"}}]}");
    int before = count_images("", tok, NULL);
    mc_resp c = mc_call(EVHTTP_REQ_POST, "/image/v2/images", "{\"name\":\"fresh\",\"disk_format\":\"raw\","
                        "\"container_format\":\"bare\"}", tok, NULL);
    cr_assert(eq(int, c.status, 201), "%s", c.body);
    char path[128];
    snprintf(path, sizeof path, "/image/v2/images/%s", mc_jstr(c.json, "id"));
    mc_resp_free(&c);
    mc_resp r;
    cr_expect(eq(int, count_images("", tok, &r), before), "the new image is not listed yet");
    cr_expect(mc_resp_lists(&r, "lag"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL), 200);   /* but it can be shown */
    mc_test_sleep_ms(1100);
    cr_expect(eq(int, count_images("", tok, NULL), before + 1));
    free(tok);
    mc_assert_no_leaks();
}

Test(lists, hidden_api_is_404_in_dialect) {
    char *tok = mc_test_token("demo", "demo");
    inline_profile("{\"deviations\":[{\"id\":\"nomembers\",\"set\":{\"api.hide\":\"image /v2/images/*/members*\"}}]}");
    mc_expect_deviation(mc_call(EVHTTP_REQ_GET, "/image/v2/images/8d2e6b4a-1c3f-4e5a-b7d9-0f1e2a3b4c5d/members", NULL, tok, NULL), 404, "nomembers");
    cr_expect(ge(int, count_images("", tok, NULL), 2));
    free(tok);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ network hooks */

#include "netapi.h"

TestSuite(netdev, .init = setup, .fini = teardown);

static char *first_id(const char *path, const char *tok, const char *coll) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    char key[64];
    snprintf(key, sizeof key, "%s.0.id", coll);
    const char *id = mc_jstr(r.json, key);
    char *out = id ? strdup(id) : NULL;
    mc_resp_free(&r);
    return out;
}

Test(netdev, low_floating_ip_quota) {
    char *tok = mc_test_token("demo", "demo");
    char *ext = first_id("/network/v2.0/networks?router:external=true", tok, "networks");
    cr_assert(ext != NULL);
    char body[200];
    snprintf(body, sizeof body, "{\"floatingip\":{\"floating_network_id\":\"%s\"}}", ext);
    deviate("[\"fip-quota-1\"]");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/network/v2.0/floatingips", body, tok, NULL), 201);
    mc_resp r;
    r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/floatingips", body, tok, NULL);
    cr_expect(eq(int, r.status, 409));
    cr_expect(eq(str, (char *)mc_jstr(r.json, "NeutronError.type"), "OverQuota"));
    cr_expect(mc_resp_lists(&r, "fip-quota-1"));
    mc_resp_free(&r);
    deviate("[]");
    mc_expect_status(mc_call(EVHTTP_REQ_POST, "/network/v2.0/floatingips", body, tok, NULL), 201);   /* the reference quota allows a second one */
    free(ext);
    free(tok);
    mc_assert_no_leaks();
}

Test(netdev, hidden_extension_and_api) {
    char *tok = mc_test_token("demo", "demo");
    deviate("[\"no-floating-ips\"]");
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/network/v2.0/extensions", NULL, tok, NULL);
    cJSON *e;
    bool router = false;
    cJSON_ArrayForEach(e, mc_jpath(r.json, "extensions")) router |= strcmp(mc_jstr(e, "alias"), "router") == 0;
    cr_expect(mc_not(router));
    cr_expect(mc_resp_lists(&r, "no-floating-ips"));
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/network/v2.0/extensions/router", NULL, tok, NULL), 404);
    r = mc_call(EVHTTP_REQ_GET, "/network/v2.0/floatingips", NULL, tok, NULL);
    cr_expect(eq(int, r.status, 404));
    cr_expect(mc_jstr(r.json, "NeutronError.message") != NULL, "%s", r.body);
    mc_resp_free(&r);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/network/v2.0/networks", NULL, tok, NULL), 200);
    free(tok);
    mc_assert_no_leaks();
}

Test(netdev, ipv6_only_ports_and_boot_on_external) {
    char *tok = mc_test_token("demo", "demo");
    char *net = first_id("/network/v2.0/networks?name=private", tok, "networks");
    cr_assert(net != NULL);
    char body[200];
    snprintf(body, sizeof body, "{\"port\":{\"network_id\":\"%s\"}}", net);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/ports", body, tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    bool v4 = false;
    cJSON *ip;
    cJSON_ArrayForEach(ip, mc_jpath(r.json, "port.fixed_ips")) v4 |= strchr(mc_jstr(ip, "ip_address"), ':') == NULL;
    cr_expect(v4, "the reference gives an IPv4 address");
    mc_resp_free(&r);
    deviate("[\"ipv6-only-private\",\"public-ip-on-port\"]");
    r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/ports", body, tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    int n = 0;
    cJSON_ArrayForEach(ip, mc_jpath(r.json, "port.fixed_ips")) {
        cr_expect(strchr(mc_jstr(ip, "ip_address"), ':') != NULL, "%s", mc_jstr(ip, "ip_address"));
        n++;
    }
    cr_expect(gt(int, n, 0));
    cr_expect(mc_resp_lists(&r, "ipv6-only-private"));
    mc_resp_free(&r);
    mc_record *auto_net = mc_net_network_auto(T.srv, DEMO_PROJECT);
    cr_assert(auto_net != NULL);
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(auto_net->doc, "router:external")));
    free(net);
    free(tok);
    mc_assert_no_leaks();
}

Test(netdev, floating_ip_auto_assigned_on_attach) {
    char *tok = mc_test_token("demo", "demo");
    char *net = first_id("/network/v2.0/networks?name=private", tok, "networks");
    char body[200];
    snprintf(body, sizeof body, "{\"port\":{\"network_id\":\"%s\"}}", net);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/network/v2.0/ports", body, tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *port = strdup(mc_jstr(r.json, "port.id"));
    mc_resp_free(&r);
    deviate("[\"floating-ip-auto-assigned\"]");
    int status = 0;
    char err[200];
    cr_assert(eq(int, mc_net_port_attach(T.srv, port, DEMO_PROJECT, "server-1", "compute:nova", &status, err, sizeof err), 0));
    char q[200];
    snprintf(q, sizeof q, "/network/v2.0/floatingips?port_id=%s", port);
    mc_expect_count(mc_call(EVHTTP_REQ_GET, q, NULL, tok, NULL), "floatingips", 1);
    free(port);
    free(net);
    free(tok);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ compute through the profile */

TestSuite(compdev, .init = setup, .fini = teardown);

#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"

static mc_resp boot_server(const char *tok, const char *name, const char *networks) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"server\":{\"name\":\"%s\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":%s}}", name,
             networks);
    return mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers", body, tok, "OpenStack-API-Version: compute 2.37\n");
}

static char *boot_id(const char *tok, const char *name, const char *networks) {
    return mc_test_server(tok, name, NULL, networks, NULL);
}

static int count_servers(const char *query, const char *tok, mc_resp *keep) {
    return count_list("/compute/v2.1/servers", "servers", query, tok, keep);
}

Test(compdev, create_200_and_delete_200_with_body) {
    char *tok = mc_test_token("demo", "demo");
    deviate("[\"server-create-200\",\"delete-200-with-body\"]");
    mc_resp r = boot_server(tok, "vm", "\"none\"");
    cr_expect(eq(int, r.status, 200), "%s", r.body);
    cr_expect(mc_resp_lists(&r, "server-create-200"));
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_DELETE, path, NULL, tok, NULL);
    cr_expect(eq(int, r.status, 200));
    cr_expect(eq(str, r.body, "{}"));
    cr_expect(mc_resp_lists(&r, "delete-200-with-body"));
    mc_resp_free(&r);
    deviate("[]");
    mc_expect_status(boot_server(tok, "vm2", "\"none\""), 202);   /* the reference */
    free(tok);
    mc_assert_no_leaks();
}

Test(compdev, addresses_public_private_and_port_lag) {
    char *tok = mc_test_token("demo", "demo");
    /* a network with its own name: the reference keys addresses by it */
    mc_resp n = mc_call(EVHTTP_REQ_POST, "/network/v2.0/networks", "{\"network\":{\"name\":\"blue\"}}", tok, NULL);
    cr_assert(eq(int, n.status, 201), "%s", n.body);
    char nets[128], sub[256];
    snprintf(nets, sizeof nets, "[{\"uuid\":\"%s\"}]", mc_jstr(n.json, "network.id"));
    snprintf(sub, sizeof sub, "{\"subnet\":{\"network_id\":\"%s\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4}}",
             mc_jstr(n.json, "network.id"));
    mc_resp_free(&n);
    n = mc_call(EVHTTP_REQ_POST, "/network/v2.0/subnets", sub, tok, NULL);
    cr_assert(eq(int, n.status, 201), "%s", n.body);
    mc_resp_free(&n);
    char *ref = boot_id(tok, "ref", nets);
    deviate("[\"addresses-public-private\",\"port-active-lag=800\",\"ips-type-missing\"]");
    char *id = boot_id(tok, "vm", nets);
    mc_test_sleep_ms(600);   /* compute.build_ms = 300 */
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "ACTIVE"));
    cJSON *priv = mc_jpath(r.json, "server.addresses.private");
    cr_expect(cJSON_IsArray(priv) && cJSON_GetArraySize(priv) > 0, "%s", r.body);
    cr_expect(mc_jpath(r.json, "server.addresses.private.0.OS-EXT-IPS:type") == NULL);
    cr_expect(mc_resp_lists(&r, "addresses-public-private"));
    cr_expect(mc_resp_lists(&r, "ips-type-missing"));
    mc_resp_free(&r);
    snprintf(path, sizeof path, "/network/v2.0/ports?device_id=%s", id);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.status"), "DOWN"), "%s", r.body);
    cr_expect(mc_resp_lists(&r, "port-active-lag"));
    mc_resp_free(&r);
    mc_test_sleep_ms(900);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "ports.0.status"), "ACTIVE"));
    cr_expect(mc_jpath(r.json, "ports.0._active_at") == NULL);
    mc_resp_free(&r);
    deviate("[]");
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", ref);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(mc_jpath(r.json, "server.addresses.private") == NULL, "the reference keys by network name: %s", r.body);
    cr_expect(mc_jstr(r.json, "server.addresses.blue.0.addr") != NULL);
    mc_resp_free(&r);
    free(id);
    free(ref);
    free(tok);
    mc_assert_no_leaks();
}

Test(compdev, list_deviations_on_servers) {
    char *tok = mc_test_token("demo", "demo");
    char *a = boot_id(tok, "web-1", "\"none\""), *b = boot_id(tok, "web-2", "\"none\"");
    cr_expect(eq(int, count_servers("?name=web", tok, NULL), 2), "Nova's name filter is a regex");
    cr_expect(eq(int, count_servers("?limit=1", tok, NULL), 1));
    cr_expect(eq(int, count_servers("?marker=nope", tok, NULL), -400));
    deviate("[\"name-filter-exact\",\"limit-ignored\",\"marker-unknown-500\",\"changes-since-ignored\"]");
    mc_resp r;
    cr_expect(eq(int, count_servers("?name=web", tok, &r), 0));
    cr_expect(mc_resp_lists(&r, "name-filter-exact"));
    mc_resp_free(&r);
    cr_expect(eq(int, count_servers("?name=web-1", tok, NULL), 1));
    cr_expect(eq(int, count_servers("?limit=1", tok, NULL), 2));
    cr_expect(eq(int, count_servers("?marker=nope", tok, &r), -500));
    cr_expect(mc_jpath(r.json, "computeFault") != NULL, "%s", r.body);
    mc_resp_free(&r);
    cr_expect(eq(int, count_servers("?changes-since=2099-01-01T00:00:00Z", tok, NULL), 2));
    deviate("[\"list-lag=60\"]");
    char *c = boot_id(tok, "fresh", "\"none\"");
    cr_expect(eq(int, count_servers("", tok, NULL), 2), "the new server is not listed yet");
    cr_expect(eq(int, count_servers("/detail", tok, NULL), 2));
    free(a);
    free(b);
    free(c);
    free(tok);
    mc_assert_no_leaks();
}

Test(compdev, versions_without_min_version_and_boot_errors) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, "/compute", NULL, NULL, NULL);
    cJSON *v;
    bool has = false;
    cJSON_ArrayForEach(v, mc_jpath(r.json, "versions")) has |= mc_jstr(v, "min_version") != NULL;
    cr_expect(has, "%s", r.body);
    mc_resp_free(&r);
    deviate("[\"compute-versions-no-min-version\",\"boot-errors=100\"]");
    r = mc_call(EVHTTP_REQ_GET, "/compute", NULL, NULL, NULL);
    cJSON_ArrayForEach(v, mc_jpath(r.json, "versions")) cr_expect(mc_jstr(v, "min_version") == NULL);
    cr_expect(mc_resp_lists(&r, "compute-versions-no-min-version"));
    mc_resp_free(&r);
    char *tok = mc_test_token("demo", "demo");
    char *id = boot_id(tok, "doomed", "\"none\"");
    mc_test_sleep_ms(600);
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.status"), "ERROR"));
    cr_expect(strstr(mc_jstr(r.json, "server.fault.message"), "No valid host") != NULL);
    mc_resp_free(&r);
    free(id);
    free(tok);
    mc_assert_no_leaks();
}

Test(compdev, provider_network_boot_gets_the_public_ip) {
    char *tok = mc_test_token("demo", "demo");
    deviate("[\"public-ip-on-port\"]");
    char *id = boot_id(tok, "edge", "\"auto\"");
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    const char *ip = mc_jstr(r.json, "server.addresses.public.0.addr");
    cr_expect(ip != NULL && strncmp(ip, "172.24.4.", 9) == 0, "%s", r.body);
    mc_resp_free(&r);
    free(id);
    free(tok);
    mc_assert_no_leaks();
}

/* The remaining catalogue shapes, each against the reference. */
Test(compdev, shapes_on_compute_and_network) {
    char *tok = mc_test_token("demo", "demo");
    char *a = boot_id(tok, "s1", "\"none\""), *b = boot_id(tok, "s2", "\"none\""), *c = boot_id(tok, "s3", "\"none\"");
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", a);
    const char *mv = "OpenStack-API-Version: compute 2.60\n";
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, mv);
    cr_expect(mc_resp_header(&r, "OpenStack-API-Version") != NULL);
    cr_expect(mc_jpath(r.json, "server.OS-EXT-VENDOR:billing_plan") == NULL);
    const char *created = mc_jstr(r.json, "server.created");
    cr_expect(created != NULL && created[strlen(created) - 1] == 'Z');
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/network/v2.0/networks", NULL, tok, NULL);
    cr_expect(mc_jstr(r.json, "networks.0.project_id") != NULL);
    mc_resp_free(&r);
    cr_expect(eq(int, count_servers("", tok, NULL), 3));

    deviate("[\"microversion-headers-stripped\",\"vendor-extra-fields\",\"naive-timestamps\",\"tenant-id-only\"]");
    r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, mv);
    cr_expect(mc_resp_header(&r, "OpenStack-API-Version") == NULL);
    cr_expect(mc_resp_header(&r, "X-OpenStack-Nova-API-Version") == NULL);
    cr_expect(eq(str, (char *)mc_jstr(r.json, "server.OS-EXT-VENDOR:billing_plan"), "hourly"));
    created = mc_jstr(r.json, "server.created");
    cr_expect(created != NULL && strchr(created, 'Z') == NULL, "%s", created);
    cr_expect(mc_resp_lists(&r, "microversion-headers-stripped"));
    cr_expect(mc_resp_lists(&r, "vendor-extra-fields"));
    cr_expect(mc_resp_lists(&r, "naive-timestamps"));
    mc_resp_free(&r);
    r = mc_call(EVHTTP_REQ_GET, "/network/v2.0/networks", NULL, tok, NULL);
    cr_expect(mc_jstr(r.json, "networks.0.project_id") == NULL);
    cr_expect(mc_jstr(r.json, "networks.0.tenant_id") != NULL);
    cr_expect(mc_resp_lists(&r, "tenant-id-only"));
    mc_resp_free(&r);

    deviate("[\"page-cap-with-links\"]");
    cr_expect(eq(int, count_servers("", tok, &r), 2));
    cr_expect(cJSON_IsArray(mc_jpath(r.json, "servers_links")), "%s", r.body);
    mc_resp_free(&r);
    deviate("[\"page-cap-without-links\"]");
    cr_expect(eq(int, count_servers("", tok, &r), 2));
    cr_expect(mc_jpath(r.json, "servers_links") == NULL, "%s", r.body);
    cr_expect(mc_resp_lists(&r, "page-cap-without-links"));
    mc_resp_free(&r);
    free(a);
    free(b);
    free(c);
    free(tok);
    mc_assert_no_leaks();
}

Test(compdev, floating_ip_assigned_at_boot) {
    char *tok = mc_test_token("demo", "demo");
    deviate("[\"floating-ip-auto-assigned\"]");
    char *id = boot_id(tok, "auto-fip", "\"auto\"");
    char path[200];
    snprintf(path, sizeof path, "/compute/v2.1/servers/%s", id);
    mc_resp r = mc_call(EVHTTP_REQ_GET, path, NULL, tok, NULL);
    bool floating = false;
    cJSON *net, *a;
    cJSON_ArrayForEach(net, mc_jpath(r.json, "server.addresses")) cJSON_ArrayForEach(a, net)
        floating |= mc_str_eq(mc_jstr(a, "OS-EXT-IPS:type"), "floating");
    cr_expect(floating, "%s", r.body);
    mc_resp_free(&r);
    free(id);
    free(tok);
    mc_assert_no_leaks();
}
