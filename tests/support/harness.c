/* harness.c -- see harness.h. */
#include "harness.h"
#include "server.h"
#include "util.h"

#include <event2/buffer.h>
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
    T.base = event_base_new();
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

char *mc_test_token(const char *user, const char *project) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"},\"password\":\"secret\"}}},\"scope\":{\"project\":{\"name\":\"%s\","
             "\"domain\":{\"id\":\"default\"}}}}}",
             user, project);
    mc_resp r = mc_call(EVHTTP_REQ_POST, "/identity/v3/auth/tokens", body, NULL, NULL);
    const char *t = mc_resp_header(&r, "X-Subject-Token");
    char *tok = t ? strdup(t) : NULL;
    mc_resp_free(&r);
    return tok;
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
