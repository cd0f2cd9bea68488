/* http.c -- request helpers and the one reply funnel.
 *
 * Every reply leaves through reply_send(): the profile's response hook may
 * change the status, the body or its format; then the common headers are set
 * (x-openstack-request-id, Content-Type, X-Mockcloud-Profile and the
 * deviations that shaped this reply), the exchange is journalled and the
 * bytes go out through httpd.c in one write: the printed body is handed over
 * (freed once written), never copied again. */
#include "http.h"
#include "httpd.h"
#include "journal.h"
#include "profile.h"
#include "router.h"
#include "util.h"

#include <event2/buffer.h>   /* a string builder for the HTML error pages */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

cJSON *mc_body_parse(mc_req *r) {
    size_t len;
    const unsigned char *text = mc_body_raw(r, &len);
    if (len == 0) return NULL;
    if (text == NULL || memchr(text, '\0', len) != NULL) return NULL;
    /* Parse a NUL-terminated copy: cJSON looks for the NUL inside the length. */
    char *copy = malloc(len + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, text, len);
    copy[len] = '\0';
    cJSON *doc = cJSON_ParseWithLengthOpts(copy, len + 1, NULL, 1);
    free(copy);
    return doc;
}

const unsigned char *mc_body_raw(mc_req *r, size_t *len) {
    *len = r->hq->body_len;
    if (*len == 0) return (const unsigned char *)"";
    return r->hq->body;
}

const char *mc_status_phrase(int status) {
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Request Entity Too Large";
    case 414: return "Request-URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Requested Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return status < 400 ? "OK" : "Error";
    }
}

/* Nova's fault keys by status (nova.api.openstack.wsgi.Fault). */
static const char *nova_key(int status) {
    switch (status) {
    case 400: return "badRequest";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "itemNotFound";
    case 405: return "badMethod";
    case 406: return "notAcceptable";
    case 409: return "conflictingRequest";
    case 413: return "overLimit";
    case 415: return "badMediaType";
    case 429: return "overLimit";
    case 501: return "notImplemented";
    case 503: return "serviceUnavailable";
    default: return "computeFault";
    }
}

/* Neutron's exception type when a handler gave none. */
static const char *neutron_type(int status) {
    switch (status) {
    case 400: return "HTTPBadRequest";
    case 401: return "HTTPUnauthorized";
    case 403: return "HTTPForbidden";
    case 404: return "HTTPNotFound";
    case 405: return "HTTPMethodNotAllowed";
    case 408: return "HTTPRequestTimeout";
    case 409: return "HTTPConflict";
    case 413: return "HTTPRequestEntityTooLarge";
    case 414: return "HTTPRequestURITooLong";
    case 431: return "HTTPRequestHeaderFieldsTooLarge";
    case 501: return "HTTPNotImplemented";
    case 505: return "HTTPVersionNotSupported";
    default: return "HTTPInternalServerError";
    }
}

/* Glance's errors are webob's (WSGIHTTPException.generate_response): the
 * body is chosen by Accept among text/html and application/json (the most
 * specific matching range's q, ties to text/html; a range with parameters
 * other than q matches neither), text/plain when neither is acceptable or
 * Accept is absent or empty, text/html when Accept cannot be parsed. Each
 * form runs the explanation through webob's body template, which adds
 * GLANCE_BR. */
#define GLANCE_BR "<br /><br />\n\n\n"
enum { GLANCE_PLAIN, GLANCE_HTML, GLANCE_JSON };

static char *mc_strcat_alloc(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    char *s = malloc(la + lb + 1);
    if (s == NULL) mc_panic("out of memory");
    memcpy(s, a, la);
    memcpy(s + la, b, lb + 1);
    return s;
}

static int glance_accept(const char *accept) {
    double q[2] = {-1, -1};   /* text/html, application/json */
    int spec[2] = {0, 0};
    if (accept == NULL) return GLANCE_PLAIN;
    for (const char *p = accept; *p != '\0';) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char range[128], *params, *slash;
        while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
        if (n >= sizeof range) return GLANCE_HTML;
        memcpy(range, p, n);
        range[n] = '\0';
        p = e ? e + 1 : p + n;
        if (n == 0) continue;
        double rq = 1;
        bool other = false;
        if ((params = strchr(range, ';')) != NULL) {
            *params++ = '\0';
            for (char *t = params; t != NULL && *t != '\0';) {
                char *next = strchr(t, ';');
                if (next) *next++ = '\0';
                while (*t == ' ') t++;
                char *end;
                if ((t[0] == 'q' || t[0] == 'Q') && t[1] == '=') {
                    rq = strtod(t + 2, &end);
                    while (*end == ' ') end++;
                    if (end == t + 2 || *end != '\0' || rq < 0 || rq > 1) return GLANCE_HTML;
                } else {
                    other = true;
                }
                t = next;
            }
        }
        size_t rl = strlen(range);
        while (rl > 0 && range[rl - 1] == ' ') range[--rl] = '\0';
        if ((slash = strchr(range, '/')) == NULL || slash == range || slash[1] == '\0' || strchr(range, ' '))
            return GLANCE_HTML;
        if (other) continue;
        static const char *const offers[2][2] = {{"text", "html"}, {"application", "json"}};
        for (int i = 0; i < 2; i++) {
            int s = 0;
            size_t tl = (size_t)(slash - range);
            bool tany = tl == 1 && range[0] == '*', sany = strcmp(slash + 1, "*") == 0;
            if (tany && sany) s = 1;
            else if (tl == strlen(offers[i][0]) && strncasecmp(range, offers[i][0], tl) == 0)
                s = sany ? 2 : strcasecmp(slash + 1, offers[i][1]) == 0 ? 3 : 0;
            if (s > spec[i]) {
                spec[i] = s;
                q[i] = rq;
            }
        }
    }
    if (q[0] <= 0 && q[1] <= 0) return GLANCE_PLAIN;
    return q[1] > q[0] ? GLANCE_JSON : GLANCE_HTML;
}

/* The error 'body' (Glance's JSON) as the text or HTML page webob would
 * send for this request's Accept; NULL and *raw unset when JSON it stays. */
static cJSON *glance_error_form(const char *accept, int status, cJSON *body, const char **ctype, char **raw,
                                size_t *rawlen) {
    int form = glance_accept(accept);
    if (form == GLANCE_JSON) return body;
    const char *m = mc_json_str(body, "message");
    size_t ml = m ? strlen(m) : 0, bl = strlen(GLANCE_BR);
    if (ml >= bl && strcmp(m + ml - bl, GLANCE_BR) == 0) ml -= bl;   /* the explanation */
    struct evbuffer *b = evbuffer_new();
    if (form == GLANCE_HTML) {
        evbuffer_add_printf(b, "<html>\n <head>\n  <title>%d %s</title>\n </head>\n <body>\n  <h1>%d %s</h1>\n  ",
                            status, mc_status_phrase(status), status, mc_status_phrase(status));
        for (size_t i = 0; i < ml; i++) {   /* webob's html_escape */
            const char *x = m[i] == '&' ? "&amp;" : m[i] == '<' ? "&lt;" : m[i] == '>' ? "&gt;"
                          : m[i] == '"' ? "&#34;" : m[i] == '\'' ? "&#39;" : NULL;
            if (x) evbuffer_add(b, x, strlen(x));
            else evbuffer_add(b, m + i, 1);
        }
        evbuffer_add_printf(b, "%s\n </body>\n</html>", GLANCE_BR);
        *ctype = "text/html; charset=UTF-8";
    } else {
        /* webob's strip_tags: newlines to spaces, <br> to a newline, no tags */
        evbuffer_add_printf(b, "%d %s\n\n", status, mc_status_phrase(status));
        char *full = malloc(ml + bl + 1);
        if (full == NULL) mc_panic("out of memory");
        memcpy(full, m ? m : "", ml);
        memcpy(full + ml, GLANCE_BR, bl + 1);
        for (const char *c = full; *c != '\0'; c++) {
            const char *gt = *c == '<' ? strchr(c, '>') : NULL;
            if (gt != NULL) {
                if (strncasecmp(c, "<br", 3) == 0) evbuffer_add(b, "\n", 1);
                c = gt;
            } else if (*c != '\r') {
                evbuffer_add(b, *c == '\n' ? " " : c, 1);
            }
        }
        free(full);
        *ctype = "text/plain; charset=UTF-8";
    }
    *rawlen = evbuffer_get_length(b);
    *raw = malloc(*rawlen + 1);
    if (*raw == NULL) mc_panic("out of memory");
    evbuffer_remove(b, *raw, *rawlen);
    evbuffer_free(b);
    cJSON_Delete(body);
    return NULL;
}

cJSON *mc_error_body(mc_service svc, int status, const char *type, const char *message) {
    cJSON *root = cJSON_CreateObject();
    cJSON *e;
    char code[64];
    switch (svc) {
    case MC_COMPUTE:
    case MC_VOLUME:   /* Cinder's wsgi.Fault is Nova's */
        e = cJSON_AddObjectToObject(root, nova_key(status));
        cJSON_AddNumberToObject(e, "code", status);
        cJSON_AddStringToObject(e, "message", message);
        break;
    case MC_NETWORK:
        e = cJSON_AddObjectToObject(root, "NeutronError");
        cJSON_AddStringToObject(e, "type", type ? type : neutron_type(status));
        cJSON_AddStringToObject(e, "message", message);
        cJSON_AddStringToObject(e, "detail", "");
        break;
    case MC_IMAGE:
        /* webob's json_body: the explanation through its body template */
        snprintf(code, sizeof code, "%d %s", status, mc_status_phrase(status));
        char *m = mc_strcat_alloc(message, GLANCE_BR);
        cJSON_AddStringToObject(root, "message", m);
        free(m);
        cJSON_AddStringToObject(root, "code", code);
        cJSON_AddStringToObject(root, "title", mc_status_phrase(status));
        break;
    case MC_IDENTITY:
    default:
        e = cJSON_AddObjectToObject(root, "error");
        cJSON_AddNumberToObject(e, "code", status);
        cJSON_AddStringToObject(e, "title", mc_status_phrase(status));
        cJSON_AddStringToObject(e, "message", message);
        break;
    }
    return root;
}

/* cJSON prints every number with a "%1.15g" printf and reads it back with
 * sscanf to check it: ~2,000 instructions a number, 40% of a flavor list.
 * An integer below 1e15 prints exactly as its decimal digits, so those
 * become raw text first (the tree is deleted after printing). */
static void integers_to_raw(cJSON *node) {
    for (cJSON *c = node; c != NULL; c = c->next) {
        if (cJSON_IsNumber(c)) {
            double v = c->valuedouble;
            if (!isfinite(v) || v >= 1e15 || v <= -1e15 || v != (double)(long long)v || (v == 0 && signbit(v)))
                continue;
            char buf[24], *e = buf + sizeof buf;
            long long x = (long long)v;
            unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
            *--e = '\0';
            do *--e = (char)('0' + u % 10); while ((u /= 10) != 0);
            if (x < 0) *--e = '-';
            size_t n = (size_t)(buf + sizeof buf - e);
            char *text = cJSON_malloc(n);
            if (text == NULL) continue;
            memcpy(text, e, n);
            c->valuestring = text;
            c->type = cJSON_Raw | (c->type & cJSON_StringIsConst);
        } else if (c->child != NULL) {
            integers_to_raw(c->child);
        }
    }
}

cJSON *mc_json_raw_ref(const char *text) {
    cJSON *n = cJSON_CreateNull();
    if (n == NULL) mc_panic("out of memory");
    n->type = cJSON_Raw | cJSON_IsReference;
    n->valuestring = (char *)text;
    return n;
}

cJSON *mc_json_raw_take(char *text) {
    cJSON *n = cJSON_CreateNull();
    if (n == NULL) mc_panic("out of memory");
    n->type = cJSON_Raw;
    n->valuestring = text;
    return n;
}

cJSON *mc_json_raw_take_len(char *text, size_t len) {
    cJSON *n = mc_json_raw_take(text);
    n->valuedouble = (double)len;
    return n;
}

char *mc_json_print(cJSON *body) {
    if (body == NULL) return NULL;
    integers_to_raw(body);
    return cJSON_PrintUnformatted(body);
}

static void set_common_headers(mc_req *r, const char *content_type, bool has_body) {
    mc_hreq *q = r->hq;
    mc_hreq_out_add(q, "x-openstack-request-id", r->req_id);
    if (r->svc == MC_COMPUTE) mc_hreq_out_add(q, "x-compute-request-id", r->req_id);
    if ((has_body || (r->status != 204 && r->status != 304)) && mc_hreq_out_find(q, "Content-Type") == NULL)
        mc_hreq_out_add(q, "Content-Type", content_type);
    mc_profile_headers(r);
    mc_hreq_out_add(q, "X-Mockcloud-Profile", mc_profile_name(r->srv->profile));
    if (r->deviations[0] != '\0') mc_hreq_out_add(q, "X-Mockcloud-Deviations", r->deviations);
    /* Tempest sends "Connection: close" and expects it echoed (httpd.c
     * closes after such a reply). */
    if (!q->keep_alive && mc_hreq_out_find(q, "Connection") == NULL) mc_hreq_out_add(q, "Connection", "close");
}

/* Sends 'bytes' of 'body' (free_fn frees it, NULL = borrowed). A fault may
 * cut it short (the full Content-Length, r->wire_truncate bytes, then the
 * connection closes) or make it trickle (profile.c). */
static void send_final(mc_req *r, int status, const char *body, size_t bytes, void (*free_fn)(void *)) {
    r->status = status;
    r->replied++;
    mc_journal_record(r->srv->journal, r, status, bytes);
    if (r->wire_truncate >= 0 && (size_t)r->wire_truncate < bytes && r->method != EVHTTP_REQ_HEAD) {
        mc_httpd_send(r->hq, status, mc_status_phrase(status), body, (size_t)r->wire_truncate, free_fn, bytes, true);
        return;
    }
    if (r->wire_slow_ms > 0 && bytes > 0 && r->method != EVHTTP_REQ_HEAD) {
        mc_profile_stream(r, status, body, bytes, free_fn);
        return;
    }
    /* HEAD: httpd.c sends the headers with the GET's Content-Length, no body */
    mc_httpd_send(r->hq, status, mc_status_phrase(status), body, bytes, free_fn, bytes, false);
}

/* The funnel: profile hook, headers, print, send. */
static void reply_send(mc_req *r, int status, cJSON *body, bool is_error) {
    if (r->replied) {
        mc_log(MC_LOG_ERROR, "double reply on %s", r->path);
        cJSON_Delete(body);
        return;
    }
    const char *ctype = "application/json";
    char *raw = NULL;
    size_t rawlen = 0;
    mc_profile_after(r, &status, &body, is_error, &ctype, &raw, &rawlen);
    if (is_error && raw == NULL && body != NULL && r->svc == MC_IMAGE)
        body = glance_error_form(mc_header(r, "Accept"), status, body, &ctype, &raw, &rawlen);
    r->status = status;
    char *text = NULL;
    size_t bytes = 0;
    void (*free_fn)(void *) = NULL;
    if (raw != NULL) {
        text = raw;
        bytes = rawlen;
        free_fn = free;
    } else if (body != NULL && cJSON_IsRaw(body) && body->valuestring != NULL) {
        /* Printed already (a token reply, mc_json_raw_*): the text itself,
         * borrowed (sent before this returns) or taken over. */
        text = body->valuestring;
        size_t known = body->valuedouble > 0 ? (size_t)body->valuedouble : 0;
        bytes = known > 0 && text[known] == '\0' ? known : strlen(text);
        if (!(body->type & cJSON_IsReference)) {
            free_fn = cJSON_free;
            body->valuestring = NULL;
        }
        cJSON_Delete(body);
    } else if (body != NULL) {
        /* Printed into an 8 KB start (cJSON's is 256, then doubled with a
         * copy each time): the same bytes, the buffer freed once sent. */
        integers_to_raw(body);
        text = cJSON_PrintBuffered(body, 8192, 0);
        cJSON_Delete(body);
        if (text == NULL) {
            status = 500;
        } else {
            bytes = strlen(text);
            free_fn = cJSON_free;
        }
    }
    r->status = status;
    set_common_headers(r, ctype, bytes > 0);
    send_final(r, status, text, bytes, free_fn);
}

void mc_reply_json(mc_req *r, int status, cJSON *body) { reply_send(r, status, body, false); }

void mc_reply_bytes(mc_req *r, int status, const char *content_type, const void *data, size_t len) {
    if (r->replied) return;
    r->status = status;
    set_common_headers(r, content_type, len > 0);
    send_final(r, status, data, len, NULL);
}

void mc_reply_error(mc_req *r, int status, const char *type, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mc_log(status >= 500 ? MC_LOG_WARN : MC_LOG_DEBUG, "%d %s: %s", status, r->path, msg);
    reply_send(r, status, mc_error_body(r->svc, status, type, msg), true);
}

/* httpd.c's errors before routing (its errfn): the dialect of the service
 * the path names; Keystone's for /mockcloud (the control API's). Plain text
 * (NULL) when no path could be read, or for the metadata paths and any
 * other, which no OpenStack API serves. */
char *mc_wire_error(const mc_hreq *q, int status, const char *message, size_t *len, const char **ctype) {
    if (q->path == NULL || q->path_len == 0) return NULL;
    char path[256];
    size_t pl = q->path_len < sizeof path ? q->path_len : sizeof path - 1;
    memcpy(path, q->path, pl);
    path[pl] = '\0';
    const char *rest;
    const mc_service_def *def = mc_router_service(path, &rest);
    if (def == NULL || def->svc == MC_METADATA) return NULL;
    cJSON *body = mc_error_body(def->svc, status, NULL, message);
    char *raw = NULL;
    size_t rawlen = 0;
    *ctype = "application/json";
    if (def->svc == MC_IMAGE) body = glance_error_form(mc_hreq_header(q, "Accept"), status, body, ctype, &raw, &rawlen);
    if (raw != NULL) {
        *len = rawlen;
        return raw;
    }
    char *text = mc_json_print(body);
    cJSON_Delete(body);
    if (text == NULL) return NULL;
    *len = strlen(text);
    char *out = malloc(*len + 1);
    if (out == NULL) mc_panic("out of memory");
    memcpy(out, text, *len + 1);
    cJSON_free(text);
    return out;
}

const char *mc_header(const mc_req *r, const char *name) { return mc_hreq_header(r->hq, name); }

void mc_header_set(mc_req *r, const char *name, const char *value) {
    mc_hreq_out_remove(r->hq, name);
    mc_hreq_out_add(r->hq, name, value);
}

void mc_header_add(mc_req *r, const char *name, const char *value) { mc_hreq_out_add(r->hq, name, value); }

void mc_header_each(const mc_req *r, void (*fn)(const char *name, const char *value, void *arg), void *arg) {
    for (int i = 0; i < r->hq->nhdr; i++) fn(r->hq->hdr[i].name, r->hq->hdr[i].value, arg);
}

const char *mc_header_out(const mc_req *r, const char *name) { return mc_hreq_out_find(r->hq, name); }

bool mc_header_remove(mc_req *r, const char *name) { return mc_hreq_out_remove(r->hq, name); }

const char *mc_req_uri(const mc_req *r) { return r->hq->uri; }

void mc_req_peer(const mc_req *r, char *out, size_t outsz) { mc_hreq_peer(r->hq, out, outsz); }

/* ------------------------------------------------------------ query
 *
 * One allocation holds the pairs and the decoded text: the decoded text is
 * never longer than the query, and a query of n bytes has at most n/2 + 1
 * pairs. Every allocation of a request's query is on its qextra list. */

struct mc_qextra {
    struct mc_qextra *next;
    char text[];
};

static int hexdigit(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into 'out' ('%XX' and '+'); returns the end (NUL set). */
static char *query_decode(const char *s, size_t n, char *out) {
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '+') {
            *out++ = ' ';
        } else if (s[i] == '%' && i + 2 < n && (hi = hexdigit((unsigned char)s[i + 1])) >= 0 &&
                   (lo = hexdigit((unsigned char)s[i + 2])) >= 0) {
            *out++ = (char)(hi * 16 + lo);
            i += 2;
        } else {
            *out++ = s[i];
        }
    }
    *out = '\0';
    return out;
}

void mc_query_parse(mc_req *r, const char *q, size_t len) {
    r->query = NULL;
    r->nquery = 0;
    if (q == NULL || len == 0) return;
    size_t maxpairs = len / 2 + 1;
    struct mc_qextra *x = malloc(sizeof *x + maxpairs * sizeof(mc_kv) + len + 2 * maxpairs);
    if (x == NULL) mc_panic("out of memory");
    mc_kv *kv = (mc_kv *)(void *)x->text;
    char *text = x->text + maxpairs * sizeof(mc_kv);
    int n = 0;
    for (size_t i = 0; i < len;) {
        const char *el = q + i;
        const char *amp = memchr(el, '&', len - i);
        size_t elen = amp ? (size_t)(amp - el) : len - i;
        i += elen + 1;
        if (elen == 0) continue;
        const char *eq = memchr(el, '=', elen);
        size_t klen = eq ? (size_t)(eq - el) : elen;
        if (klen == 0) continue;
        kv[n].key = text;
        text = query_decode(el, klen, text) + 1;
        kv[n].value = text;
        text = eq ? query_decode(eq + 1, elen - klen - 1, text) + 1 : query_decode("", 0, text) + 1;
        n++;
    }
    if (n == 0) {
        free(x);
        return;
    }
    x->next = r->qextra;
    r->qextra = x;
    r->query = kv;
    r->nquery = n;
}

void mc_query_free(mc_req *r) {
    r->query = NULL;
    r->nquery = 0;
    while (r->qextra != NULL) {
        struct mc_qextra *x = r->qextra;
        r->qextra = x->next;
        free(x);
    }
}

void mc_query_remove(mc_req *r, const char *key) {
    int o = 0;
    for (int i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].key, key) != 0) r->query[o++] = r->query[i];
    r->nquery = o;
}

void mc_query_set(mc_req *r, const char *key, const char *value) {
    mc_query_remove(r, key);
    size_t kl = strlen(key), vl = strlen(value);
    /* a new array (rare: profile rules), the old one freed with the request */
    struct mc_qextra *x = malloc(sizeof *x + sizeof(mc_kv) * (size_t)(r->nquery + 1) + kl + vl + 2);
    if (x == NULL) mc_panic("out of memory");
    mc_kv *kv = (mc_kv *)(void *)x->text;
    if (r->nquery > 0) memcpy(kv, r->query, sizeof(mc_kv) * (size_t)r->nquery);
    char *t = (char *)(kv + r->nquery + 1);
    memcpy(t, key, kl + 1);
    memcpy(t + kl + 1, value, vl + 1);
    kv[r->nquery].key = t;
    kv[r->nquery].value = t + kl + 1;
    x->next = r->qextra;
    r->qextra = x;
    r->query = kv;
    r->nquery++;
}

const char *mc_query(const mc_req *r, const char *key) {
    for (int i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].key, key) == 0) return r->query[i].value;
    return NULL;
}

void mc_query_each(const mc_req *r, const char *key, void (*fn)(const char *v, void *arg), void *arg) {
    for (int i = 0; i < r->nquery; i++)
        if (strcmp(r->query[i].key, key) == 0) fn(r->query[i].value, arg);
}

int mc_query_long_or_reply(mc_req *r, const char *key, long min, long max, long dflt, long *out) {
    const char *v = mc_query(r, key);
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (!mc_parse_long(v, min, max, out)) {
        mc_reply_error(r, 400, "BadRequest", "Invalid value '%.64s' for %s: must be an integer in [%ld, %ld].",
                       v, key, min, max);
        return -1;
    }
    return 0;
}

int mc_query_bool_or_reply(mc_req *r, const char *key, int *out) {
    const char *v = mc_query(r, key);
    bool b;
    *out = -1;
    if (v == NULL) return 0;
    if (!mc_str_bool(v, &b)) {
        mc_reply_error(r, 400, "InvalidInput", "Invalid value '%.64s' for %s: must be a boolean.", v, key);
        return -1;
    }
    *out = b ? 1 : 0;
    return 0;
}

const char *mc_json_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool mc_json_has(const cJSON *obj, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

cJSON *mc_json_obj(const cJSON *obj, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsObject(v) ? v : NULL;
}

cJSON *mc_json_arr(const cJSON *obj, const char *key) {
    cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsArray(v) ? v : NULL;
}

void mc_json_set(cJSON *obj, const char *key, cJSON *item) {
    if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
        cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
    else
        cJSON_AddItemToObject(obj, key, item);
}

void mc_json_set_str(cJSON *obj, const char *key, const char *value) {
    mc_json_set(obj, key, value ? cJSON_CreateString(value) : cJSON_CreateNull());
}

void mc_service_url(const mc_server *srv, const char *prefix, char *out, size_t outsz) {
    /* snprintf's result without its cost (many replies build a few URLs) */
    if (outsz == 0) return;
    size_t a = strlen(srv->public_url), b = strlen(prefix);
    if (a > outsz - 1) a = outsz - 1;
    if (b > outsz - 1 - a) b = outsz - 1 - a;
    memcpy(out, srv->public_url, a);
    memcpy(out + a, prefix, b);
    out[a + b] = '\0';
}
