/* profile.c -- the knob table, the profile loader and the hook points.
 *
 * Knobs are data (like redis's config table): name, type, default, range and
 * a line of documentation. A profile file sets knobs only through named
 * deviations, so every departure from the reference can be traced to an id
 * and its explanation. An unknown key or an out-of-range value is fatal at
 * load, naming the file, the key and the range, so a typo cannot quietly make
 * a deviant profile conformant. */
#include "profile.h"
#include "http.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mc_knob_def knobs[MC_KNOB_COUNT] = {
    [MC_KNOB_LATENCY_MS] = {"latency_ms", MC_KNOB_INT, 0, 0, 60000, NULL,
                            "Delay every reply by N milliseconds."},
    [MC_KNOB_COMPUTE_MAX_MICROVERSION] = {"compute.max_microversion", MC_KNOB_INT, 90, 1, 90, NULL,
                                          "Highest compute microversion 2.N offered (2.1..2.90)."},
    [MC_KNOB_COMPUTE_BUILD_MS] = {"compute.build_ms", MC_KNOB_INT, 300, 0, 3600000, NULL,
                                  "Time a server spends in BUILD before ACTIVE, in ms."},
};

const mc_knob_def *mc_knob_defs(void) { return knobs; }

const char *mc_profile_name(const mc_profile *p) { return p ? p->name : "none"; }

void mc_profile_free(mc_profile *p) {
    if (p == NULL) return;
    for (int i = 0; i < MC_KNOB_COUNT; i++) free(p->sv[i]);
    cJSON_Delete(p->doc);
    free(p->name);
    free(p->description);
    free(p->path);
    free(p);
}

static int knob_index(const char *name) {
    for (int i = 0; i < MC_KNOB_COUNT; i++)
        if (knobs[i].name != NULL && strcmp(knobs[i].name, name) == 0) return i;
    return -1;
}

static int apply_knob(mc_profile *p, const char *file, const char *dev_id, const cJSON *kv,
                      char *err, size_t errsz) {
    int k = knob_index(kv->string);
    if (k < 0) {
        snprintf(err, errsz, "%s: deviation '%s': unknown knob '%s'", file, dev_id, kv->string);
        return -1;
    }
    const mc_knob_def *d = &knobs[k];
    if (d->type == MC_KNOB_STR) {
        if (!cJSON_IsString(kv)) {
            snprintf(err, errsz, "%s: deviation '%s': knob '%s' must be a string", file, dev_id, d->name);
            return -1;
        }
        free(p->sv[k]);
        p->sv[k] = strdup(kv->valuestring);
    } else {
        long long v;
        if (d->type == MC_KNOB_BOOL && cJSON_IsBool(kv)) {
            v = cJSON_IsTrue(kv) ? 1 : 0;
        } else if (cJSON_IsNumber(kv) && kv->valuedouble == (double)(long long)kv->valuedouble) {
            v = (long long)kv->valuedouble;
        } else {
            snprintf(err, errsz, "%s: deviation '%s': knob '%s' must be %s", file, dev_id, d->name,
                     d->type == MC_KNOB_BOOL ? "a boolean" : "an integer");
            return -1;
        }
        if (v < d->min || v > d->max) {
            snprintf(err, errsz, "%s: deviation '%s': knob '%s' = %lld is outside [%lld, %lld]",
                     file, dev_id, d->name, v, d->min, d->max);
            return -1;
        }
        p->iv[k] = v;
    }
    p->src[k] = dev_id;
    return 0;
}

static void resolve_path(const char *dir, const char *name, char *out, size_t outsz) {
    if (strchr(name, '/') != NULL || strstr(name, ".json") != NULL)
        snprintf(out, outsz, "%s", name);
    else
        snprintf(out, outsz, "%s/%s.json", dir, name);
}

/* Loads 'name' and its parents into 'merged' (a list of deviations, parents
 * first). depth guards against cycles. */
static int load_chain(const char *dir, const char *name, cJSON *merged, int depth, cJSON **top,
                      char *err, size_t errsz) {
    char path[1024];
    if (depth > 8) {
        snprintf(err, errsz, "%s: 'extends' chain too deep (a cycle?)", name);
        return -1;
    }
    resolve_path(dir, name, path, sizeof path);
    cJSON *doc = mc_json_load_file(path, err, errsz);
    if (doc == NULL) return -1;
    static const char *allowed[] = {"name", "description", "extends", "deviations", "notes", NULL};
    for (cJSON *kv = doc->child; kv; kv = kv->next) {
        bool ok = false;
        for (int i = 0; allowed[i]; i++) ok |= strcmp(kv->string, allowed[i]) == 0;
        if (!ok) {
            snprintf(err, errsz, "%s: unknown key '%s'", path, kv->string);
            cJSON_Delete(doc);
            return -1;
        }
    }
    const char *parent = mc_json_str(doc, "extends");
    if (parent != NULL && load_chain(dir, parent, merged, depth + 1, NULL, err, errsz) != 0) {
        cJSON_Delete(doc);
        return -1;
    }
    cJSON *devs = cJSON_GetObjectItemCaseSensitive(doc, "deviations");
    if (devs != NULL && !cJSON_IsArray(devs)) {
        snprintf(err, errsz, "%s: 'deviations' must be an array", path);
        cJSON_Delete(doc);
        return -1;
    }
    cJSON *dev;
    cJSON_ArrayForEach(dev, devs) {
        if (!cJSON_IsObject(dev) || mc_json_str(dev, "id") == NULL) {
            snprintf(err, errsz, "%s: every deviation needs an 'id'", path);
            cJSON_Delete(doc);
            return -1;
        }
        cJSON *copy = cJSON_Duplicate(dev, 1);
        cJSON_AddStringToObject(copy, "file", path);
        cJSON_AddItemToArray(merged, copy);
    }
    if (top != NULL)
        *top = doc;
    else
        cJSON_Delete(doc);
    return 0;
}

mc_profile *mc_profile_load(const char *dir, const char *name, char *err, size_t errsz) {
    mc_profile *p = calloc(1, sizeof *p);
    if (p == NULL) mc_panic("out of memory");
    for (int i = 0; i < MC_KNOB_COUNT; i++) {
        p->iv[i] = knobs[i].dflt;
        p->sv[i] = knobs[i].dflt_str ? strdup(knobs[i].dflt_str) : NULL;
    }
    cJSON *merged = cJSON_CreateArray();
    cJSON *top = NULL;
    if (load_chain(dir, name, merged, 0, &top, err, errsz) != 0) {
        cJSON_Delete(merged);
        mc_profile_free(p);
        return NULL;
    }
    char path[1024];
    resolve_path(dir, name, path, sizeof path);
    p->path = strdup(path);
    const char *pname = mc_json_str(top, "name");
    if (pname == NULL) {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        char tmp[256];
        mc_strlcpy(tmp, base, sizeof tmp);
        char *dot = strstr(tmp, ".json");
        if (dot) *dot = '\0';
        p->name = strdup(tmp);
    } else {
        p->name = strdup(pname);
    }
    const char *desc = mc_json_str(top, "description");
    p->description = strdup(desc ? desc : "");
    /* p->doc keeps the top file with the merged deviation list. */
    cJSON_DeleteItemFromObjectCaseSensitive(top, "deviations");
    cJSON_AddItemToObject(top, "deviations", merged);
    p->doc = top;
    cJSON *dev;
    cJSON_ArrayForEach(dev, merged) {
        const char *id = mc_json_str(dev, "id");
        const char *file = mc_json_str(dev, "file");
        cJSON *set = cJSON_GetObjectItemCaseSensitive(dev, "set");
        if (set != NULL && !cJSON_IsObject(set)) {
            snprintf(err, errsz, "%s: deviation '%s': 'set' must be an object", file, id);
            mc_profile_free(p);
            return NULL;
        }
        cJSON *kv;
        cJSON_ArrayForEach(kv, set) {
            if (apply_knob(p, file, id, kv, err, errsz) != 0) {
                mc_profile_free(p);
                return NULL;
            }
        }
    }
    return p;
}

void mc_deviation_note(mc_req *r, const char *id) {
    if (r == NULL || id == NULL) return;
    size_t idlen = strlen(id);
    const char *p = r->deviations;
    while ((p = strstr(p, id)) != NULL) {
        bool start = p == r->deviations || p[-1] == ',';
        bool end = p[idlen] == '\0' || p[idlen] == ',';
        if (start && end) return;
        p += idlen;
    }
    size_t len = strlen(r->deviations);
    if (len + idlen + 2 >= sizeof r->deviations) return;
    if (len > 0) r->deviations[len++] = ',';
    memcpy(r->deviations + len, id, idlen + 1);
}

long long mc_knob_srv(const mc_server *srv, mc_knob_id k) { return srv->profile->iv[k]; }
const char *mc_knob_srv_str(const mc_server *srv, mc_knob_id k) { return srv->profile->sv[k]; }

long long mc_knob(mc_req *r, mc_knob_id k) {
    const mc_profile *p = r->srv->profile;
    if (p->src[k] != NULL) mc_deviation_note(r, p->src[k]);
    return p->iv[k];
}

const char *mc_knob_str(mc_req *r, mc_knob_id k) {
    const mc_profile *p = r->srv->profile;
    if (p->src[k] != NULL) mc_deviation_note(r, p->src[k]);
    return p->sv[k];
}

int mc_profile_before(mc_req *r) {
    (void)r;
    return 0;
}

void mc_profile_after(mc_req *r, int *status, cJSON **body, bool is_error,
                      const char **ctype, char **raw, size_t *rawlen) {
    (void)r;
    (void)status;
    (void)body;
    (void)is_error;
    (void)ctype;
    (void)raw;
    (void)rawlen;
}
