/* router.c -- every HTTP route mockcloud serves, and the dispatcher.
 *
 * The services are told apart by path prefix (services[] below); each service
 * file holds its own static route table, one row per route, so the whole API
 * of a service can be read in one place. mc_router_dispatch is mockcloud's
 * processCommand: it matches the path (404 when nothing matches, 405 when the
 * method is wrong), authenticates the token (401), checks the body (413 over
 * the cap, 400 when it is not the JSON the route needs), runs the profile's
 * request hook and the service hook, then calls the handler, which answers
 * exactly once. Every error is rendered in the service's own dialect. */
#include "router.h"
#include "auth.h"
#include "guest.h"
#include "http.h"
#include "journal.h"
#include "prof.h"
#include "profile.h"
#include "util.h"

#include "httpd.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mc_service_def services[] = {
    {MC_IDENTITY, "/identity", identity_routes, &identity_nroutes, NULL},
    {MC_COMPUTE, "/compute", compute_routes, &compute_nroutes, compute_before},
    {MC_NETWORK, "/network", network_routes, &network_nroutes, NULL},
    {MC_IMAGE, "/image", image_routes, &image_nroutes, NULL},
    {MC_VOLUME, "/volume", volume_routes, &volume_nroutes, volume_before},
    {MC_CONTROL, "/mockcloud", control_routes, &control_nroutes, control_before},
    {MC_METADATA, "/metadata", metadata_routes, &metadata_nroutes, NULL},
    {MC_METADATA, "", metadata_routes, &metadata_nroutes, NULL},  /* /openstack, /latest */
};

/* Keystone's name for the policy of an admin-only route, as its 403 prints it
 * ("identity:list_endpoints", "identity:create_grant"): the verb from the
 * method and whether the pattern ends in an id, the noun from the last literal
 * segment (singular but for lists). Grants, group membership, implied roles
 * and domain configuration have Keystone's own names. */
static void keystone_action(int method, const char *pattern, char *out, size_t n) {
    const char *last = "";   /* the last literal segment */
    size_t last_len = 0;
    bool item = false;
    for (const char *p = pattern; *p;) {
        while (*p == '/') p++;
        const char *e = p + strcspn(p, "/");
        if (e == p) break;
        item = (e - p == 2 && p[0] == '{');
        if (!item) last = p, last_len = (size_t)(e - p);
        p = e;
    }
    bool get = method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD;
    bool grants = strstr(pattern, "/users/{}/roles") != NULL || strstr(pattern, "/groups/{}/roles") != NULL;
    const char *who = strstr(pattern, "/groups/{}/roles") ? "group" : "user";
    if (grants && strncmp(pattern, "/v3/system/", 11) == 0) {
        if (!item) snprintf(out, n, "identity:list_system_grants_for_%s", who);
        else snprintf(out, n, "identity:%s_system_grant_for_%s",
                      get ? "check" : method == EVHTTP_REQ_PUT ? "create" : "revoke", who);
    } else if (grants) {
        bool one = item || strstr(pattern, "/roles/{}/") != NULL;
        snprintf(out, n, "identity:%s", !one ? "list_grants" : get ? "check_grant"
                                       : method == EVHTTP_REQ_PUT ? "create_grant" : "revoke_grant");
    } else if (strstr(pattern, "/groups/{}/users") != NULL) {
        snprintf(out, n, "identity:%s", !item ? "list_users_in_group" : get ? "check_user_in_group"
                                       : method == EVHTTP_REQ_PUT ? "add_user_to_group" : "remove_user_from_group");
    } else if (strstr(pattern, "/implies") != NULL) {
        snprintf(out, n, "identity:%s", !item ? "list_implied_roles" : method == EVHTTP_REQ_HEAD ? "check_implied_role"
                                       : get ? "get_implied_role" : method == EVHTTP_REQ_PUT ? "create_implied_role"
                                       : "delete_implied_role");
    } else if (strstr(pattern, "/config") != NULL) {
        if (last_len == 7 && strncmp(last, "default", 7) == 0)
            snprintf(out, n, "identity:get_domain_config_default");
        else
            snprintf(out, n, "identity:%s_domain_config", get ? "get" : method == EVHTTP_REQ_PUT ? "create"
                                                         : method == EVHTTP_REQ_PATCH ? "update" : "delete");
    } else if (last_len == 15 && strncmp(last, "role_inferences", 15) == 0) {
        snprintf(out, n, "identity:list_role_inference_rules");
    } else {
        if (!item && get) {
            snprintf(out, n, "identity:list_%.*s", (int)last_len, last);
            return;
        }
        size_t k = last_len;   /* singular: policies -> policy, endpoints -> endpoint */
        bool ies = k > 3 && strncmp(last + k - 3, "ies", 3) == 0;
        if (ies) k -= 3;
        else if (k > 1 && last[k - 1] == 's') k--;
        const char *verb = get ? "get" : method == EVHTTP_REQ_PATCH ? "update" : method == EVHTTP_REQ_DELETE ? "delete"
                                                                              : "create";
        snprintf(out, n, "identity:%s_%.*s%s", verb, (int)k, last, ies ? "y" : "");
    }
}

/* A member on an admin-only route: 403 in the service's words. Keystone names
 * the policy it enforced (openstack CLI users read it); the other services get
 * Nova's generic form. */
static void reply_admin_only(mc_req *r, const char *pattern) {
    if (r->svc == MC_IDENTITY) {
        char action[96];
        keystone_action(r->method, pattern, action, sizeof action);
        mc_reply_error(r, 403, NULL, "You are not authorized to perform the requested action: %s.", action);
        return;
    }
    mc_reply_error(r, 403, "HTTPForbidden", "Policy doesn't allow this operation to be performed.");
}

/* The first 16 bytes of each route's literal prefix (up to its first "{}")
 * and a mask of the bytes that are literal: a path can match a route only
 * if its own first 16 bytes agree under the mask, two 64-bit tests a route
 * before anything else. (The routes of a service share most of their
 * prefix, "/v2.1/" in compute: comparing bytes went ~8 deep into each of
 * ~80 routes, ~4k instructions a request.) Built on a table's first use;
 * kept for the process. */
typedef struct route_key {
    uint64_t k[2], m[2];
} route_key;

#define NSERVICES (sizeof services / sizeof services[0])

static void key16(const char *s, bool literal, uint64_t k[2], uint64_t m[2]) {
    unsigned char kb[16] = {0}, mb[16] = {0};
    for (int i = 0; i < 16 && s[i] != '\0' && !(literal && s[i] == '{'); i++) {
        kb[i] = (unsigned char)s[i];
        mb[i] = 0xff;
    }
    memcpy(k, kb, sizeof kb);
    memcpy(m, mb, sizeof mb);
}

static const route_key *route_keys(const mc_service_def *svc) {
    static route_key *keys[NSERVICES];
    size_t i = (size_t)(svc - services);
    if (keys[i] == NULL) {
        keys[i] = calloc(*svc->nroutes ? *svc->nroutes : 1, sizeof *keys[i]);
        if (keys[i] == NULL) mc_panic("out of memory");
        for (size_t j = 0; j < *svc->nroutes; j++) key16(svc->routes[j].pattern, true, keys[i][j].k, keys[i][j].m);
    }
    return keys[i];
}

const mc_service_def *mc_router_service(const char *path, const char **rest) {
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++) {
        size_t n = strlen(services[i].prefix);
        if (strncmp(path, services[i].prefix, n) == 0 && (path[n] == '\0' || path[n] == '/')) {
            *rest = path + n;
            return &services[i];
        }
    }
    return NULL;
}

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decodes s[0..n) into 'out' (n + 1 bytes), or into a new malloc'd
 * string when out is NULL. */
static char *decode_segment(const char *s, size_t n, char *out) {
    if (out == NULL && (out = malloc(n + 1)) == NULL) mc_panic("out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return out;
}

/* The matcher. With 'arena' (room for strlen(path) + MC_MAX_PARAMS + 1
 * bytes) the params are decoded into it and must not be freed; without, each
 * is malloc'd. */
static bool route_match(const char *pattern, const char *path, char **params, int *nparams, char *arena) {
    const char *p = pattern, *s = path;
    int np = 0;
    for (;;) {
        if (*p == '\0' && *s == '\0') break;
        if (*p != '/' || *s != '/') goto nomatch;
        p++;
        s++;
        const char *pe = strchr(p, '/');
        const char *se = strchr(s, '/');
        size_t pl = pe ? (size_t)(pe - p) : strlen(p);
        size_t sl = se ? (size_t)(se - s) : strlen(s);
        if (pl == 2 && p[0] == '{' && p[1] == '}') {
            if (sl == 0 || np >= MC_MAX_PARAMS) goto nomatch;
            if (params) {
                params[np] = decode_segment(s, sl, arena);
                if (arena != NULL) arena += sl + 1;
            }
            np++;
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            goto nomatch;
        }
        p += pl;
        s += sl;
    }
    if (nparams) *nparams = np;
    return true;
nomatch:
    if (params)
        for (int i = 0; i < np; i++) {
            if (arena == NULL) free(params[i]);
            params[i] = NULL;
        }
    return false;
}

bool mc_route_match(const char *pattern, const char *path, char **params, int *nparams) {
    return route_match(pattern, path, params, nparams, NULL);
}

/* Nova accepts a legacy project id segment: /v2.1/{project_id}/servers. */
static const char *strip_compute_project(const char *rest, char *buf, size_t bufsz) {
    if (strncmp(rest, "/v2.1/", 6) != 0 && strncmp(rest, "/v2/", 4) != 0) return rest;
    const char *seg = strchr(rest + 1, '/') + 1;
    const char *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    char id[64];
    if (len == 0 || len >= sizeof id) return rest;
    memcpy(id, seg, len);
    id[len] = '\0';
    if (!mc_is_uuid(id)) return rest;
    snprintf(buf, bufsz, "%.*s%s", (int)(seg - 1 - rest), rest, end ? end : "");
    return buf;
}

/* Cinder's URLs carry the project: /v3/{project_id}/volumes (optional
 * since 3.67). It is taken out here, as Nova's is; volume_before checks it
 * against the token. */
static const char *strip_volume_project(const char *rest, char *buf, size_t bufsz) {
    if (strncmp(rest, "/v3/", 4) != 0) return rest;
    const char *seg = rest + 4;
    const char *end = strchr(seg, '/');
    size_t len = end ? (size_t)(end - seg) : strlen(seg);
    char id[64];
    if (len == 0 || len >= sizeof id) return rest;
    memcpy(id, seg, len);
    id[len] = '\0';
    bool hex32 = len == 32 && strspn(id, "0123456789abcdef") == 32;
    if (!hex32 && !mc_is_uuid(id)) return rest;
    snprintf(buf, bufsz, "/v3%s", end ? end : "");
    return buf;
}

/* A request is one allocation: the mc_req, then its service-relative path,
 * then its decoded params (no strdup or malloc per segment on the hot path). */
typedef struct req_block {
    mc_req r;
    char buf[];
} req_block;

static mc_req *req_new(const char *path, const char *raw, size_t rawlen) {
    size_t len = strlen(path);
    req_block *b = calloc(1, sizeof *b + 2 * (len + 1) + MC_MAX_PARAMS + rawlen + 1);
    if (b == NULL) mc_panic("out of memory");
    memcpy(b->buf, path, len + 1);
    b->r.path = b->buf;
    char *rp = b->buf + 2 * (len + 1) + MC_MAX_PARAMS;
    memcpy(rp, raw, rawlen);
    rp[rawlen] = '\0';
    b->r.raw_path = rp;
    return &b->r;
}

/* Where the params of a request are decoded: after its path. */
static char *req_arena(mc_req *r) { return (char *)r->path + strlen(r->path) + 1; }

static void req_free(mc_req *r) {
    mc_query_free(r);
    cJSON_Delete(r->body);
    free((req_block *)r);
}

void mc_router_free_req(mc_req *r) { req_free(r); }

void mc_router_run(mc_req *r) {
    if (mc_auth_recheck(r)) r->route->fn(r);   /* a deferred request's token may be gone */
    mc_profile_done(r);
    mc_guest_sync(r->srv);   /* guest.h: listeners follow servers and floating IPs */
    if (!r->replied) {
        mc_log(MC_LOG_ERROR, "handler for %s did not reply", r->path);
        mc_reply_error(r, 500, NULL, "The server has either erred or is incapable of performing the requested operation.");
    }
    req_free(r);
}

static bool body_method(int m) {
    return m == EVHTTP_REQ_POST || m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH;
}

void mc_router_dispatch(struct mc_hreq *req, void *arg) {
    MC_PROF_SCOPE(req->method, req->uri);   /* prof.h */
    mc_server *srv = arg;
    const char *full = req->path;
    size_t full_len = req->path_len;
    if (full_len == 0) full = "/", full_len = 1;

    /* Path: strip trailing slashes ("/v3/" == "/v3"). */
    char pathbuf[2048], cbuf[2048];
    size_t pl = full_len < sizeof pathbuf ? full_len : sizeof pathbuf - 1;
    memcpy(pathbuf, full, pl);
    pathbuf[pl] = '\0';
    while (pl > 1 && pathbuf[pl - 1] == '/') pathbuf[--pl] = '\0';

    const char *rest = NULL;
    const mc_service_def *svc = mc_router_service(pathbuf, &rest);
    if (svc != NULL && svc->svc == MC_COMPUTE) rest = strip_compute_project(rest, cbuf, sizeof cbuf);
    if (svc != NULL && svc->svc == MC_VOLUME) rest = strip_volume_project(rest, cbuf, sizeof cbuf);
    /* Neutron accepts a ".json" format suffix on every resource path. */
    if (svc != NULL && svc->svc == MC_NETWORK && rest != NULL) {
        size_t rl = strlen(rest);
        if (rl > 5 && strcmp(rest + rl - 5, ".json") == 0 && rl - 5 < sizeof cbuf) {
            memcpy(cbuf, rest, rl - 5);
            cbuf[rl - 5] = '\0';
            rest = cbuf;
        }
    }
    mc_req *r = req_new(rest && *rest ? rest : "/", full, full_len);
    r->svc = svc ? svc->svc : MC_IDENTITY;
    r->hq = req;
    r->srv = srv;
    r->method = req->method;
    r->mv_major = 2;
    r->mv_minor = 1;
    r->t_start = mc_now();
    r->wire_truncate = -1;
    srv->requests++;
    char uuid[37];
    mc_uuid(srv, uuid);
    memcpy(r->req_id, "req-", 4);
    memcpy(r->req_id + 4, uuid, sizeof uuid);

    if (req->query != NULL) mc_query_parse(r, req->query, req->query_len);

    const mc_route *found = NULL;
    bool path_known = false;
    if (svc != NULL) {
        int m = r->method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : r->method;
        const route_key *keys = route_keys(svc);
        uint64_t pk[2], unused[2];
        key16(r->path, false, pk, unused);
        for (size_t i = 0; i < *svc->nroutes && found == NULL; i++) {
            const mc_route *rt = &svc->routes[i];
            if ((((pk[0] ^ keys[i].k[0]) & keys[i].m[0]) | ((pk[1] ^ keys[i].k[1]) & keys[i].m[1])) != 0) continue;
            /* a match needs the path to start with the pattern's literal
             * part (up to its first "{}"): a cheap test before the matcher,
             * stopping at the first byte that differs (strcspn and strncmp
             * over ~70 routes were ~6k instructions a request) */
            const char *lp = rt->pattern, *pp = r->path;
            while (*lp != '\0' && *lp != '{' && *lp == *pp) lp++, pp++;
            if (*lp != '\0' && *lp != '{') continue;
            if (!mc_route_match(rt->pattern, r->path, NULL, NULL)) continue;
            path_known = true;
            if (rt->methods & r->method)
                found = rt;
            else if (r->method == EVHTTP_REQ_HEAD && (rt->methods & m))
                found = rt;
        }
    }
    if (found == NULL) {
        if (path_known)
            mc_reply_error(r, 405, NULL, "The method %s is not allowed for this resource.",
                           mc_method_name(r->method));
        else
            mc_reply_error(r, 404, NULL, "The resource could not be found.");
        goto done;
    }
    r->route = found;
    route_match(found->pattern, r->path, r->params, &r->nparams, req_arena(r));

    /* Authentication: one O(1) lookup for every service. */
    const char *token = mc_header(r, "X-Auth-Token");
    if (token != NULL) r->tok = mc_auth_lookup(srv, token);
    r->tok_drops = srv->token_drops;
    if (!(found->flags & MC_NO_AUTH) && r->tok == NULL) {
        char url[300];
        mc_service_url(srv, "/identity", url, sizeof url);
        char hdr[400];
        snprintf(hdr, sizeof hdr, "Keystone uri=\"%s\"", url);
        mc_header_set(r, "WWW-Authenticate", hdr);
        /* keystonemiddleware rejects for every service, always in Keystone's body. */
        mc_reply_json(r, 401, mc_error_body(r->svc == MC_CONTROL ? MC_CONTROL : MC_IDENTITY, 401, NULL,
                                            "The request you have made requires authentication."));
        goto done;
    }
    if (r->tok != NULL && r->tok->appcred_id[0] != '\0' && !identity_access_rules_ok_or_reply(r)) goto done;
    if ((found->flags & MC_ADMIN) && !mc_auth_may_admin(r->tok, (int)r->method)) {
        reply_admin_only(r, found->pattern);
        goto done;
    }

    /* Body: capped here so the 413 speaks the service's dialect. */
    size_t blen = req->body_len;
    if (body_method(r->method) && (found->flags & (MC_BODY_JSON | MC_BODY_OPT))) {
        if (blen > srv->cfg.max_body) {
            mc_reply_error(r, 413, "RequestEntityTooLarge", "Request is too large: %zu bytes, the limit is %zu.",
                           blen, srv->cfg.max_body);
            goto done;
        }
        if (blen > 0) {
            r->body = mc_body_parse(r);
            if (r->body == NULL) {
                mc_reply_error(r, 400, "MalformedRequestBody", "Malformed request body: the body is not valid JSON.");
                goto done;
            }
        }
        if ((found->flags & MC_BODY_JSON) && !cJSON_IsObject(r->body)) {
            mc_reply_error(r, 400, "MalformedRequestBody", "Malformed request body: a JSON object is required.");
            goto done;
        }
    }

    /* Raw bodies (image data, JSON patches) have the larger cap; httpd.c
     * itself stops at twice that (server.c), so this 413 is in dialect. */
    if (body_method(r->method) && (found->flags & MC_BODY_RAW) && blen > srv->cfg.max_upload) {
        mc_reply_error(r, 413, "RequestEntityTooLarge", "Request is too large: %zu bytes, the limit is %zu.",
                       blen, srv->cfg.max_upload);
        goto done;
    }

    if (svc->before != NULL && svc->before(r) != 0) goto done;
    int rc = mc_profile_before(r);
    if (rc < 0) goto done;
    if (rc > 0) return;   /* deferred: the profile calls mc_router_run later */
    mc_router_run(r);
    return;
done:
    req_free(r);
}
