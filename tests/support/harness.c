/* harness.c -- see harness.h. */
#include "harness.h"
#include "server.h"
#include "util.h"

#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <event2/buffer.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mc_test T;

const char *mc_test_path(const char *rel, char *buf, size_t bufsz) {
    const char *top = getenv("MOCKCLOUD_TOP");
    snprintf(buf, bufsz, "%s/%s", top ? top : ".", rel);
    return buf;
}

void mc_test_start(const char *profile) {
    mc_config cfg;
    mc_config_defaults(&cfg);
    cfg.port = 0;
    cfg.seed = 42;
    cfg.log_level = MC_LOG_ERROR;
    mc_log_set_level(MC_LOG_ERROR);
    mc_test_path("fixtures", cfg.fixtures, sizeof cfg.fixtures);
    mc_test_path("profiles", cfg.profiles_dir, sizeof cfg.profiles_dir);
    if (profile != NULL) mc_strlcpy(cfg.profile, profile, sizeof cfg.profile);
    T.base = mc_event_base_new();
    char err[1024];
    T.srv = mc_server_new(T.base, &cfg, true, err, sizeof err);
    if (T.srv == NULL) {
        fprintf(stderr, "harness: %s\n", err);
        abort();
    }
    T.conn = evhttp_connection_base_new(T.base, NULL, "127.0.0.1", (unsigned short)T.srv->port);
}

void mc_test_stop(void) {
    if (T.conn) evhttp_connection_free(T.conn);
    mc_server_free(T.srv);
    event_base_free(T.base);
    memset(&T, 0, sizeof T);
}

char *mc_test_start_as(const char *profile, const char *user) {
    mc_test_start(profile);
    return mc_test_token(user, user);
}

void mc_test_stop_as(char **tok) {
    free(*tok);
    *tok = NULL;
    mc_test_stop();
}

static void done(struct evhttp_request *req, void *arg) {
    mc_resp *resp = arg;
    if (req == NULL) {
        resp->status = -1;
    } else {
        resp->status = evhttp_request_get_response_code(req);
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        resp->len = evbuffer_get_length(in);
        resp->body = malloc(resp->len + 1);
        evbuffer_remove(in, resp->body, resp->len);
        resp->body[resp->len] = '\0';
        resp->json = cJSON_ParseWithLength(resp->body, resp->len);
        struct evkeyvalq *h = evhttp_request_get_input_headers(req);
        for (struct evkeyval *kv = h->tqh_first; kv; kv = kv->next.tqe_next)
            evhttp_add_header(resp->headers, kv->key, kv->value);
    }
    event_base_loopexit(T.base, NULL);
}

mc_resp mc_call_raw(enum evhttp_cmd_type m, const char *path, const void *body, size_t len,
                    const char *content_type, const char *token, const char *headers) {
    mc_resp resp;
    memset(&resp, 0, sizeof resp);
    resp.headers = calloc(1, sizeof *resp.headers);
    TAILQ_INIT(resp.headers);
    struct evhttp_request *req = evhttp_request_new(done, &resp);
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Host", "localhost");
    if (token) evhttp_add_header(out, "X-Auth-Token", token);
    if (content_type) evhttp_add_header(out, "Content-Type", content_type);
    if (body) evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
    if (headers) {
        char *copy = strdup(headers), *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
            char *colon = strchr(line, ':');
            if (!colon) continue;
            *colon = '\0';
            char *v = colon + 1;
            while (*v == ' ') v++;
            evhttp_add_header(out, line, v);
        }
        free(copy);
    }
    /* What gophercloud, Tempest and keystoneauth's JSON calls send (Glance's
     * errors follow Accept; "Accept:" in 'headers' sends an empty one, which
     * webob treats as none). */
    if (evhttp_find_header(out, "Accept") == NULL) evhttp_add_header(out, "Accept", "application/json");
    if (body && evhttp_find_header(out, "Content-Length") == NULL) {
        /* libevent 2.1 adds Content-Length to POST and PUT only: PATCH needs it */
        char clen[24];
        snprintf(clen, sizeof clen, "%zu", len);
        evhttp_add_header(out, "Content-Length", clen);
    }
    evhttp_make_request(T.conn, req, m, path);
    event_base_dispatch(T.base);
    return resp;
}

mc_resp mc_call(enum evhttp_cmd_type m, const char *path, const char *body, const char *token,
                const char *headers) {
    return mc_call_raw(m, path, body, body ? strlen(body) : 0, body ? "application/json" : NULL, token,
                       headers);
}

void mc_resp_free(mc_resp *r) {
    free(r->body);
    cJSON_Delete(r->json);
    if (r->headers) evhttp_clear_headers(r->headers);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *mc_resp_header(mc_resp *r, const char *name) { return evhttp_find_header(r->headers, name); }

mc_resp mc_test_token_issue(const char *user, const char *project) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"},\"password\":\"secret\"}}},\"scope\":{\"project\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"}}}}}",
             user, project);
    return mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", body, NULL, NULL);
}

char *mc_test_token(const char *user, const char *project) {
    mc_resp r = mc_test_token_issue(user, project);
    const char *t = mc_resp_header(&r, "X-Subject-Token");
    char *tok = t ? strdup(t) : NULL;
    mc_resp_free(&r);
    return tok;
}

const char *mc_pathf(const char *fmt, ...) {
    static char bufs[8][512];
    static unsigned k;
    char *b = bufs[k++ % 8];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof bufs[0], fmt, ap);
    va_end(ap);
    return b;
}

bool mc_resp_lists(mc_resp *r, const char *id) {
    const char *h = mc_resp_header(r, "X-Mockcloud-Deviations");
    return h != NULL && strstr(h, id) != NULL;
}

/* ---------------------------------------------------------------- shared sequences */

#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"

char *mc_test_server(const char *tok, const char *name, const char *flavor, const char *networks,
                     const char *extra) {
    char body[2048];
    snprintf(body, sizeof body,
             "{\"server\":{\"name\":\"%s\",\"flavorRef\":\"%s\",\"imageRef\":\"" CIRROS "\",\"networks\":%s%s%s}}",
             name, flavor ? flavor : "42", networks ? networks : "\"none\"", extra ? "," : "", extra ? extra : "");
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/servers", body, tok, "OpenStack-API-Version: compute 2.37\n");
    cr_assert(eq(int, r.status, 202), "boot %s: %s", name, r.body);
    char *id = strdup(mc_jstr(r.json, "server.id"));
    mc_resp_free(&r);
    return id;
}

const char *mc_test_server_status(const char *tok, const char *id, char *buf, size_t n) {
    mc_resp r = mc_call(EVHTTP_REQ_GET, mc_pathf("/compute/v2.1/servers/%s", id), NULL, tok, NULL);
    const char *st = mc_jstr(r.json, "server.status");
    snprintf(buf, n, "%s", r.status == 200 ? (st ? st : "?") : "404");
    mc_resp_free(&r);
    return buf;
}

void mc_test_server_wait(const char *tok, const char *id, const char *status) {
    char st[32] = "";
    for (int i = 0; i < 100 && strcmp(mc_test_server_status(tok, id, st, sizeof st), status) != 0; i++)
        mc_test_sleep_ms(50);
    cr_assert(eq(str, st, (char *)status), "server %s", id);
}

void mc_test_keypair(const char *tok, const char *name, const char *public_key) {
    char body[1024];
    snprintf(body, sizeof body, "{\"keypair\":{\"name\":\"%s\",\"public_key\":\"%s\"}}", name, public_key);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/compute/v2.1/os-keypairs", body, tok, NULL);
    cr_assert(r.status == 200 || r.status == 409, "%s", r.body);
    mc_resp_free(&r);
}

char *mc_test_image(const char *tok, const char *body, const void *data, size_t len) {
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/image/v2/images", body, tok, NULL);
    cr_assert(eq(int, r.status, 201), "%s", r.body);
    char *id = strdup(mc_jstr(r.json, "id"));
    mc_resp_free(&r);
    if (data != NULL) {
        r = mc_call_raw(EVHTTP_REQ_PUT, mc_pathf("/image/v2/images/%s/file", id), data, len,
                        "application/octet-stream", tok, NULL);
        cr_assert(eq(int, r.status, 204), "%s", r.body);
        mc_resp_free(&r);
    }
    return id;
}

void mc_test_profile(const char *profile, const char *deviate_json) {
    char body[1024];
    snprintf(body, sizeof body, "{\"profile\":\"%s\"%s%s}", profile ? profile : "conformant",
             deviate_json ? ",\"deviate\":" : "", deviate_json ? deviate_json : "");
    mc_resp r = mc_call(EVHTTP_REQ_PUT, "/mockcloud/v1/profile", body, NULL, NULL);
    cr_assert(eq(int, r.status, 200), "%s", r.body);
    mc_resp_free(&r);
}

/* ---------------------------------------------------------------- assertions */

void mc_expect_status_at(const char *file, int line, mc_resp r, int status) {
    cr_expect(eq(int, r.status, status), "%s:%d: %s", file, line, r.body ? r.body : "");
    mc_resp_free(&r);
}

void mc_expect_count_at(const char *file, int line, mc_resp r, const char *path, int n) {
    cJSON *a = mc_jpath(r.json, path);
    cr_expect(eq(int, cJSON_IsArray(a) || cJSON_IsObject(a) ? cJSON_GetArraySize(a) : -1, n), "%s:%d: %s in %s", file, line, path,
              r.body ? r.body : "");
    mc_resp_free(&r);
}

void mc_expect_body_at(const char *file, int line, mc_resp r, const char *body) {
    cr_expect(eq(str, r.body ? r.body : "(no reply)", (char *)body), "%s:%d", file, line);
    mc_resp_free(&r);
}

/* Nova's top-level key for an error status (nova.api.openstack.wsgi.Fault). */
static const char *nova_error_key(int status) {
    static const struct { int status; const char *key; } keys[] = {
        {400, "badRequest"}, {401, "unauthorized"}, {403, "forbidden"}, {404, "itemNotFound"},
        {405, "badMethod"}, {406, "notAcceptable"}, {409, "conflictingRequest"}, {413, "overLimit"},
        {415, "badMediaType"}, {429, "overLimit"}, {501, "notImplemented"}, {503, "serviceUnavailable"},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].status == status) return keys[i].key;
    return "computeFault";
}

/* The reason phrase Glance's code and Keystone's title carry. */
static const char *reason(int status) {
    static const struct { int status; const char *text; } reasons[] = {
        {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"}, {404, "Not Found"},
        {405, "Method Not Allowed"}, {409, "Conflict"}, {413, "Request Entity Too Large"},
        {415, "Unsupported Media Type"}, {500, "Internal Server Error"}, {503, "Service Unavailable"},
    };
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status) return reasons[i].text;
    return NULL;
}

void mc_expect_error_at(const char *file, int line, mc_resp r, mc_service svc, int status, const char *message) {
    const char *body = r.body ? r.body : "";
    cr_expect(eq(int, r.status, status), "%s:%d: %s", file, line, body);
    cJSON *err = NULL;
    const char *title = reason(status);
    char code[64];
    snprintf(code, sizeof code, "%d %s", status, title ? title : "");
    switch (svc) {
    case MC_COMPUTE:
    case MC_VOLUME:   /* Cinder's fault body is Nova's */
        err = mc_jpath(r.json, nova_error_key(status));
        cr_expect(eq(int, (int)mc_jnum(err, "code"), status), "%s:%d: %s", file, line, body);
        break;
    case MC_NETWORK:
        err = mc_jpath(r.json, "NeutronError");
        cr_expect(mc_jstr(err, "type") != NULL, "%s:%d: %s", file, line, body);
        break;
    case MC_IMAGE:
        err = r.json;
        if (title != NULL) {
            cr_expect(eq(str, (char *)(mc_jstr(err, "code") ? mc_jstr(err, "code") : ""), code), "%s:%d", file, line);
            cr_expect(eq(str, (char *)(mc_jstr(err, "title") ? mc_jstr(err, "title") : ""), (char *)title),
                      "%s:%d", file, line);
        }
        break;
    default:
        err = mc_jpath(r.json, "error");
        cr_expect(eq(int, (int)mc_jnum(err, "code"), status), "%s:%d: %s", file, line, body);
        cr_expect(mc_jstr(err, "title") != NULL, "%s:%d: %s", file, line, body);
        break;
    }
    const char *got = mc_jstr(err, "message");
    cr_expect(got != NULL, "%s:%d: no message in %s", file, line, body);
    char webob[1200];   /* Glance's JSON message is webob's template: explanation<br /><br />\n\n\n */
    if (svc == MC_IMAGE && message != NULL) snprintf(webob, sizeof webob, "%s<br /><br />\n\n\n", message);
    if (svc == MC_IMAGE && message != NULL) message = webob;
    if (message != NULL && got != NULL) cr_expect(eq(str, (char *)got, (char *)message), "%s:%d", file, line);
    mc_resp_free(&r);
}

void mc_expect_deviation_at(const char *file, int line, mc_resp r, int status, const char *id) {
    cr_expect(eq(int, r.status, status), "%s:%d: %s", file, line, r.body ? r.body : "");
    if (id != NULL)
        cr_expect(mc_resp_lists(&r, id), "%s:%d: %s not in X-Mockcloud-Deviations", file, line, id);
    else
        cr_expect(mc_resp_header(&r, "X-Mockcloud-Deviations") == NULL, "%s:%d: names a deviation", file, line);
    mc_resp_free(&r);
}

cJSON *mc_jpath(cJSON *j, const char *path) {
    char buf[512];
    mc_strlcpy(buf, path, sizeof buf);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg && j; seg = strtok_r(NULL, ".", &save)) {
        if (cJSON_IsArray(j)) {
            long idx;
            j = mc_parse_long(seg, 0, 1 << 30, &idx) ? cJSON_GetArrayItem(j, (int)idx) : NULL;
        } else {
            j = cJSON_GetObjectItemCaseSensitive(j, seg);
        }
    }
    return j;
}

const char *mc_jstr(cJSON *j, const char *path) {
    cJSON *v = mc_jpath(j, path);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double mc_jnum(cJSON *j, const char *path) {
    cJSON *v = mc_jpath(j, path);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void wake(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

void mc_test_sleep_ms(int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    struct event *ev = evtimer_new(T.base, wake, T.base);
    evtimer_add(ev, &tv);
    event_base_dispatch(T.base);
    event_free(ev);
}
