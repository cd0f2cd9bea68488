/* control.c -- the control API under /mockcloud/v1.
 *
 * Not an OpenStack API: what a test harness or a teacher uses to drive the
 * mock. Reset the world, read or switch the active profile, list the
 * profiles, read the request journal, fetch a clouds.yaml with this server's
 * URLs. Errors use Keystone's {"error": {...}} shape. */
#include "auth.h"
#include "fixtures.h"
#include "http.h"
#include "journal.h"
#include "profile.h"
#include "router.h"
#include "server.h"
#include "services.h"
#include "util.h"
#include "validate.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

static void control_root(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "name", "mockcloud");
    cJSON_AddStringToObject(root, "version", MC_VERSION);
    cJSON_AddStringToObject(root, "profile", mc_profile_name(r->srv->profile));
    cJSON_AddNumberToObject(root, "requests", (double)r->srv->requests);
    cJSON_AddNumberToObject(root, "tokens", (double)mc_auth_count(r->srv));
    cJSON *links = cJSON_AddArrayToObject(root, "endpoints");
    static const char *paths[] = {"/mockcloud/v1/profile", "/mockcloud/v1/profiles",
                                  "/mockcloud/v1/reset", "/mockcloud/v1/fixtures", "/mockcloud/v1/journal",
                                  "/mockcloud/v1/deviations", "/mockcloud/v1/faults",
                                  "/mockcloud/v1/clouds.yaml"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char url[400];
        mc_service_url(r->srv, paths[i], url, sizeof url);
        cJSON_AddItemToArray(links, cJSON_CreateString(url));
    }
    mc_reply_json(r, 200, root);
}

static cJSON *profile_json(const mc_profile *p) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", p->name);
    cJSON_AddStringToObject(o, "description", p->description);
    cJSON *devs = cJSON_GetObjectItemCaseSensitive(p->doc, "deviations");
    cJSON_AddItemToObject(o, "deviations", cJSON_Duplicate(devs, 1));
    cJSON *knobs = cJSON_AddObjectToObject(o, "knobs");
    const mc_knob_def *defs = mc_knob_defs();
    for (int k = 0; k < MC_KNOB_COUNT; k++) {
        if (p->src[k] == NULL) continue;
        if (defs[k].type == MC_KNOB_LIST) {
            cJSON *rules = cJSON_AddArrayToObject(knobs, defs[k].name);
            for (const mc_rule *x = p->rules[k]; x != NULL; x = x->next)
                cJSON_AddItemToArray(rules, cJSON_CreateString(x->text));
        } else if (defs[k].type == MC_KNOB_STR)
            cJSON_AddStringToObject(knobs, defs[k].name, p->sv[k] ? p->sv[k] : "");
        else if (defs[k].type == MC_KNOB_BOOL)
            cJSON_AddBoolToObject(knobs, defs[k].name, p->iv[k] != 0);
        else
            cJSON_AddNumberToObject(knobs, defs[k].name, (double)p->iv[k]);
    }
    return o;
}

static void control_profile_show(mc_req *r) {
    mc_reply_json(r, 200, profile_json(r->srv->profile));
}

static void control_profile_set(mc_req *r) {
    const char *name = mc_json_str(r->body, "profile");
    if (name == NULL) name = mc_json_str(r->body, "name");
    if (name == NULL) {
        mc_reply_error(r, 400, NULL, "Expected {\"profile\": NAME}.");
        return;
    }
    if (strchr(name, '/') != NULL || strstr(name, "..") != NULL) {
        mc_reply_error(r, 400, NULL, "A profile is named, not given as a path: '%.100s'.", name);
        return;
    }
    /* "deviate": catalogue ids ("ID" or "ID=VALUE") applied on top. */
    const char *extra[32];
    size_t nextra = 0;
    cJSON *dv = cJSON_GetObjectItemCaseSensitive(r->body, "deviate");
    if (dv != NULL) {
        cJSON *x;
        if (!cJSON_IsArray(dv) || cJSON_GetArraySize(dv) > 32) {
            mc_reply_error(r, 400, NULL, "'deviate' must be an array of at most 32 deviation ids.");
            return;
        }
        cJSON_ArrayForEach(x, dv) {
            if (!cJSON_IsString(x)) {
                mc_reply_error(r, 400, NULL, "'deviate' must hold deviation ids (strings).");
                return;
            }
            extra[nextra++] = x->valuestring;
        }
    }
    char err[512];
    mc_profile *p = mc_profile_load_with(r->srv->cfg.profiles_dir, name, extra, nextra, err, sizeof err);
    if (p == NULL) {
        mc_reply_error(r, 404, NULL, "Cannot load profile '%.100s': %s", name, err);
        return;
    }
    mc_profile_free(r->srv->profile);
    r->srv->profile = p;
    mc_log(MC_LOG_INFO, "profile %s active", p->name);
    mc_reply_json(r, 200, profile_json(r->srv->profile));
}

static int name_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void control_profile_list(mc_req *r) {
    DIR *d = opendir(r->srv->cfg.profiles_dir);
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "profiles");
    if (d != NULL) {
        char *names[256];
        size_t n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && n < 256) {
            size_t len = strlen(e->d_name);
            if (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)
                names[n++] = strndup(e->d_name, len - 5);
        }
        closedir(d);
        qsort(names, n, sizeof names[0], name_cmp);
        for (size_t i = 0; i < n; i++) {
            char err[512];
            mc_profile *p = mc_profile_load(r->srv->cfg.profiles_dir, names[i], err, sizeof err);
            if (p != NULL) {
                cJSON *o = profile_json(p);
                cJSON_AddBoolToObject(o, "active", strcmp(p->name, r->srv->profile->name) == 0);
                cJSON_AddItemToArray(arr, o);
                mc_profile_free(p);
            }
            free(names[i]);
        }
    }
    mc_reply_json(r, 200, root);
}

static void control_reset(mc_req *r) {
    char err[512];
    mc_fault_remove(r->srv, 0);
    if (mc_server_reset(r->srv, err, sizeof err) != 0) {
        mc_reply_error(r, 500, NULL, "Reset failed: %s", err);
        return;
    }
    mc_reply_json(r, 204, NULL);
}

/* POST /v1/fixtures: more seed data, shaped like the fixture files and keyed
 * by service. 201 with what was added per kind; 400 (world unchanged) when
 * any part is malformed, names what does not exist or takes an id. */
static void control_fixtures_load(mc_req *r) {
    char err[512];
    cJSON *added = cJSON_CreateObject();
    if (mc_fixtures_load(r->srv, r->body, added, err, sizeof err) != 0) {
        cJSON_Delete(added);
        mc_reply_error(r, 400, NULL, "Invalid fixtures: %s.", err);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "added", added);
    mc_reply_json(r, 201, root);
}

static void control_journal(mc_req *r) {
    long since, limit;
    if (mc_query_long_or_reply(r, "since", 0, 1L << 53, 0, &since) < 0) return;
    if (mc_query_long_or_reply(r, "limit", 0, 100000, 0, &limit) < 0) return;
    long status;
    if (mc_query_long_or_reply(r, "status", 0, 599, 0, &status) < 0) return;
    mc_journal_filter f = {mc_query(r, "service"), mc_query(r, "method"), (int)status, mc_query(r, "deviation")};
    bool any = f.service || f.method || f.status || f.deviation;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "entries",
                          mc_journal_json(r->srv->journal, (uint64_t)since, (size_t)limit, any ? &f : NULL));
    mc_reply_json(r, 200, root);
}

static void control_journal_clear(mc_req *r) {
    mc_journal_clear(r->srv->journal);
    mc_reply_json(r, 204, NULL);
}

/* The deviation catalogue (caller deletes it); replies 500 and returns NULL
 * when it cannot be read. */
static cJSON *catalogue_or_reply(mc_req *r) {
    char err[512];
    cJSON *cat = mc_catalogue_load(r->srv->cfg.profiles_dir, err, sizeof err);
    if (cat == NULL) mc_reply_error(r, 500, NULL, "Cannot read the deviation catalogue: %s", err);
    return cat;
}

/* The deviation catalogue, each entry marked when the active profile has it. */
static void control_deviation_list(mc_req *r) {
    cJSON *cat = catalogue_or_reply(r);
    if (cat == NULL) return;
    const char *layer = mc_query(r, "layer");
    cJSON *active = mc_json_arr(r->srv->profile->doc, "deviations");
    cJSON *root = cJSON_CreateObject();
    cJSON *out = cJSON_AddArrayToObject(root, "deviations");
    cJSON *dev;
    while ((dev = cJSON_DetachItemFromArray(cat, 0)) != NULL) {
        if (layer != NULL && !mc_str_eq(mc_json_str(dev, "layer"), layer)) {
            cJSON_Delete(dev);
            continue;
        }
        bool on = false;
        cJSON *a;
        cJSON_ArrayForEach(a, active) on |= mc_str_eq(mc_json_str(a, "id"), mc_json_str(dev, "id"));
        cJSON_AddBoolToObject(dev, "active", on);
        cJSON_AddItemToArray(out, dev);
    }
    cJSON_Delete(cat);
    mc_reply_json(r, 200, root);
}

static void control_deviation_show(mc_req *r) {
    cJSON *cat = catalogue_or_reply(r);
    if (cat == NULL) return;
    cJSON *dev;
    cJSON_ArrayForEach(dev, cat) {
        if (mc_str_eq(mc_json_str(dev, "id"), r->params[0])) {
            cJSON *root = cJSON_CreateObject();
            cJSON_AddItemToObject(root, "deviation", cJSON_Duplicate(dev, 1));
            cJSON_Delete(cat);
            mc_reply_json(r, 200, root);
            return;
        }
    }
    cJSON_Delete(cat);
    mc_reply_error(r, 404, NULL, "No deviation '%.100s' in the catalogue.", r->params[0]);
}

static void control_fault_add(mc_req *r) {
    char err[512];
    if (mc_check_or_reply(r, r->body, "method=s|service=s|path=s|message=s|status=n|drop=B|truncate=n|delay_ms=n|"
                                      "retry_after=n|count=n|slow_body_ms=n|body=o") != 0)
        return;
    cJSON *f = mc_fault_add(r->srv, r->body, err, sizeof err);
    if (f == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid fault: %s.", err);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "fault", f);
    mc_reply_json(r, 201, root);
}

static void control_fault_list(mc_req *r) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "faults", mc_fault_list(r->srv));
    mc_reply_json(r, 200, root);
}

static void control_fault_clear(mc_req *r) {
    mc_fault_remove(r->srv, 0);
    mc_reply_json(r, 204, NULL);
}

static void control_fault_delete(mc_req *r) {
    long id;
    if (!mc_parse_long(r->params[0], 1, 1L << 53, &id) || mc_fault_remove(r->srv, (uint64_t)id) == 0) {
        mc_reply_error(r, 404, NULL, "No fault '%.64s'.", r->params[0]);
        return;
    }
    mc_reply_json(r, 204, NULL);
}

static void control_clouds_yaml(mc_req *r) {
    char *yaml = identity_clouds_yaml(r->srv);
    mc_reply_bytes(r, 200, "application/yaml", yaml, strlen(yaml));
    free(yaml);
}

/* POST /v1/bulk {"kind": "servers", "from": ID, "count": N}: N copies of a
 * server, for benchmarks that need 1M servers in seconds. */
static void control_bulk(mc_req *r) {
    if (mc_check_or_reply(r, r->body, "kind=s|from=s|count=i") != 0) return;
    const char *kind = mc_json_str(r->body, "kind");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(r->body, "count");
    if (kind == NULL || strcmp(kind, "servers") != 0) {
        mc_reply_error(r, 400, NULL, "Expected {\"kind\": \"servers\", \"from\": ID, \"count\": N}.");
        return;
    }
    if (!cJSON_IsNumber(count) || count->valuedouble < 0 || count->valuedouble > 10000000) {
        mc_reply_error(r, 400, NULL, "'count' must be a number in [0, 10000000].");
        return;
    }
    char err[256];
    long n = compute_servers_clone(r->srv, mc_json_str(r->body, "from"), (long)count->valuedouble, err, sizeof err);
    if (n < 0) {
        mc_reply_error(r, 400, NULL, "%s", err);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "created", (double)n);
    cJSON_AddNumberToObject(root, "servers", (double)r->srv->world[MC_K_SERVER].count);
    mc_reply_json(r, 201, root);
}

/* The control API changes the whole cloud, so it answers loopback peers only,
 * unless the server was started with --control-token and the caller sends it
 * in X-Mockcloud-Token. */
static bool is_loopback(const char *peer) {
    return peer != NULL && (strncmp(peer, "127.", 4) == 0 || strcmp(peer, "::1") == 0 ||
                            strncmp(peer, "::ffff:127.", 11) == 0);
}

bool mc_control_allowed(const char *peer, const char *given, const char *token) {
    if (is_loopback(peer)) return true;
    return token != NULL && token[0] != '\0' && given != NULL && strcmp(given, token) == 0;
}

int control_before(mc_req *r) {
    char peer[64];
    mc_req_peer(r, peer, sizeof peer);
    if (mc_control_allowed(peer[0] ? peer : NULL, mc_header(r, "X-Mockcloud-Token"), r->srv->cfg.control_token)) return 0;
    mc_reply_error(r, 403, NULL, "The control API answers loopback callers only, or callers with the --control-token.");
    return -1;
}

const mc_route control_routes[] = {
    {MC_CONTROL, EVHTTP_REQ_POST, "/v1/bulk", control_bulk, MC_NO_AUTH | MC_BODY_JSON},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1", control_root, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/profile", control_profile_show, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_PUT | EVHTTP_REQ_POST, "/v1/profile", control_profile_set, MC_NO_AUTH | MC_BODY_JSON},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/profiles", control_profile_list, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_POST, "/v1/reset", control_reset, MC_NO_AUTH | MC_BODY_OPT},
    {MC_CONTROL, EVHTTP_REQ_POST, "/v1/fixtures", control_fixtures_load, MC_NO_AUTH | MC_BODY_JSON},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/journal", control_journal, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_DELETE, "/v1/journal", control_journal_clear, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/clouds.yaml", control_clouds_yaml, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/deviations", control_deviation_list, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/deviations/{}", control_deviation_show, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_GET, "/v1/faults", control_fault_list, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_POST, "/v1/faults", control_fault_add, MC_NO_AUTH | MC_BODY_JSON},
    {MC_CONTROL, EVHTTP_REQ_DELETE, "/v1/faults", control_fault_clear, MC_NO_AUTH},
    {MC_CONTROL, EVHTTP_REQ_DELETE, "/v1/faults/{}", control_fault_delete, MC_NO_AUTH},
};
const size_t control_nroutes = sizeof control_routes / sizeof control_routes[0];
