/* fixtures.c -- POST /mockcloud/v1/fixtures: check a posted fixtures tree
 * against the world, insert it, and take it out again if an insert fails.
 *
 * The services own their checks and inserts (X_fixtures_check and
 * X_seed_tree in identity.c, network.c, image.c, compute.c); this file holds
 * the field checks they share and the order of the whole: every check first
 * (nothing changes on a refusal), then the inserts in the order the files
 * are seeded (identity before the services whose resources name projects).
 * A failed insert is undone by store sequence: every record of every kind
 * whose seq is past the mark taken before the inserts is deleted, newest
 * first, after the network service has released the addresses and MACs of
 * the ports it made; the random stream and the sequence counters are put
 * back too, so a refused post does not change later ids under --seed. */
#include "fixtures.h"
#include "http.h"
#include "services.h"
#include "store.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mc_fx_fail(mc_fx *fx, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(fx->err, fx->errsz, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *type_name(const cJSON *v) {
    if (cJSON_IsString(v)) return "a string";
    if (cJSON_IsNumber(v)) return "a number";
    if (cJSON_IsBool(v)) return "a boolean";
    if (cJSON_IsNull(v)) return "null";
    if (cJSON_IsArray(v)) return "an array";
    if (cJSON_IsObject(v)) return "an object";
    return "invalid";
}

int mc_fx_str(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, size_t maxlen) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL) return required ? mc_fx_fail(fx, "%s: '%s' is required", where, key) : 0;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return mc_fx_fail(fx, "%s: '%s' must be a string, not %s", where, key, type_name(v));
    size_t n = strlen(v->valuestring);
    if ((required && n == 0) || n > maxlen)
        return mc_fx_fail(fx, "%s: '%s' must hold 1 to %zu characters", where, key, maxlen);
    return 0;
}

int mc_fx_id(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, size_t maxlen) {
    if (mc_fx_str(fx, where, o, key, required, maxlen) != 0) return -1;
    const char *s = mc_json_str(o, key);
    if (s == NULL) return 0;
    if (*s == '\0') return mc_fx_fail(fx, "%s: '%s' must not be empty", where, key);
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return mc_fx_fail(fx, "%s: '%s' '%.64s' may hold only letters, digits, '-', '_' and '.'", where, key, s);
    return 0;
}

int mc_fx_bool(mc_fx *fx, const char *where, const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL || cJSON_IsBool(v)) return 0;
    return mc_fx_fail(fx, "%s: '%s' must be a boolean, not %s", where, key, type_name(v));
}

int mc_fx_num(mc_fx *fx, const char *where, const cJSON *o, const char *key, bool required, double min, double max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL) return required ? mc_fx_fail(fx, "%s: '%s' is required", where, key) : 0;
    if (!cJSON_IsNumber(v)) return mc_fx_fail(fx, "%s: '%s' must be a number, not %s", where, key, type_name(v));
    if (v->valuedouble < min || v->valuedouble > max || v->valuedouble != (double)(long long)v->valuedouble)
        return mc_fx_fail(fx, "%s: '%s' must be an integer from %.0f to %.0f", where, key, min, max);
    return 0;
}

int mc_fx_obj(mc_fx *fx, const char *where, const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL || cJSON_IsObject(v)) return 0;
    return mc_fx_fail(fx, "%s: '%s' must be an object, not %s", where, key, type_name(v));
}

int mc_fx_list(mc_fx *fx, const char *where, const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (v == NULL) return 0;
    if (!cJSON_IsArray(v)) return mc_fx_fail(fx, "%s: '%s' must be an array, not %s", where, key, type_name(v));
    int i = 0;
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        if (!cJSON_IsObject(x)) return mc_fx_fail(fx, "%s.%s[%d]: must be an object, not %s", where, key, i, type_name(x));
        i++;
    }
    return 0;
}

int mc_fx_keys(mc_fx *fx, const char *where, const cJSON *o, const char *const *allowed) {
    const cJSON *x;
    cJSON_ArrayForEach(x, o) {
        bool ok = strcmp(x->string, "comment") == 0;
        for (size_t i = 0; !ok && allowed[i] != NULL; i++) ok = strcmp(x->string, allowed[i]) == 0;
        if (!ok) return mc_fx_fail(fx, "%s: unknown key '%.64s'", where, x->string);
    }
    return 0;
}

cJSON *mc_fx_posted(const mc_fx *fx, const char *svc, const char *list) {
    return mc_json_arr(mc_json_obj(fx->post, svc), list);
}

bool mc_fx_dup_before(const cJSON *list, const cJSON *item, const char *key, const char *key2) {
    const char *v = mc_json_str(item, key), *v2 = key2 ? mc_json_str(item, key2) : NULL;
    if (v == NULL) return false;
    for (const cJSON *x = list ? list->child : NULL; x != NULL && x != item; x = x->next)
        if (mc_str_eq(mc_json_str(x, key), v) && (key2 == NULL || mc_str_eq(mc_json_str(x, key2), v2))) return true;
    return false;
}

bool mc_fx_project_known(const mc_fx *fx, const char *ref, bool by_name) {
    if (ref == NULL) return false;
    const mc_store *st = &fx->srv->world[MC_K_PROJECT];
    if (mc_store_find(st, ref) != NULL) return true;
    if (by_name)
        for (mc_record *p = mc_store_first(st); p; p = mc_store_next(p))
            if (mc_str_eq(mc_json_str(p->doc, "name"), ref)) return true;
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "identity", "projects"))
        if (mc_str_eq(mc_json_str(x, "id"), ref) || (by_name && mc_str_eq(mc_json_str(x, "name"), ref))) return true;
    return false;
}

/* ---------------------------------------------------------------- the whole */

typedef struct fx_part {
    const char *name;
    int (*check)(mc_fx *fx, const cJSON *tree);
    int (*insert)(mc_server *srv, const cJSON *tree, char *err, size_t errsz);
} fx_part;

/* The order the files are seeded in (server.c). */
static const fx_part parts[] = {
    {"identity", identity_fixtures_check, identity_seed_tree},
    {"network", network_fixtures_check, network_seed_tree},
    {"image", image_fixtures_check, image_seed_tree},
    {"compute", compute_fixtures_check, compute_seed_tree},
};
#define NPARTS (sizeof parts / sizeof parts[0])

/* What the reply counts: the plural a client knows each kind by. */
static const char *const kind_names[MC_K_COUNT] = {
    [MC_K_DOMAIN] = "domains", [MC_K_PROJECT] = "projects", [MC_K_USER] = "users",
    [MC_K_ROLE] = "roles", [MC_K_ASSIGNMENT] = "role_assignments",
    [MC_K_APPCRED] = "application_credentials", [MC_K_REGION] = "regions",
    [MC_K_SERVICE] = "services", [MC_K_ENDPOINT] = "endpoints", [MC_K_GROUP] = "groups",
    [MC_K_FLAVOR] = "flavors", [MC_K_SERVER] = "servers", [MC_K_KEYPAIR] = "keypairs",
    [MC_K_INSTANCE_ACTION] = "instance_actions", [MC_K_SERVER_GROUP] = "server_groups",
    [MC_K_IMAGE] = "images", [MC_K_IMAGE_MEMBER] = "image_members",
    [MC_K_NETWORK] = "networks", [MC_K_SUBNET] = "subnets", [MC_K_SUBNETPOOL] = "subnetpools",
    [MC_K_PORT] = "ports", [MC_K_ROUTER] = "routers", [MC_K_FLOATINGIP] = "floatingips",
    [MC_K_SECGROUP] = "security_groups", [MC_K_SECGROUP_RULE] = "security_group_rules",
    [MC_K_QUOTA] = "quotas", [MC_K_VOLUME] = "volumes",
};

/* Deletes every record added since 'mark' (per-kind next_seq), newest first,
 * and puts the counters back. */
static void undo_since(mc_server *srv, const uint64_t *mark) {
    network_fixtures_undo(srv, mark);
    for (int k = MC_K_COUNT - 1; k >= 0; k--) {
        mc_store *st = &srv->world[k];
        mc_record *x = mc_store_last(st);
        while (x != NULL) {
            mc_record *prev = mc_store_prev(x);
            if (x->seq >= mark[k]) mc_store_delete(st, x);
            x = prev;
        }
        st->next_seq = mark[k];
    }
}

int mc_fixtures_load(mc_server *srv, const cJSON *tree, cJSON *added, char *err, size_t errsz) {
    mc_fx fx = {srv, tree, err, errsz};
    if (!cJSON_IsObject(tree))
        return mc_fx_fail(&fx, "expected an object keyed by service: {\"identity\": {...}, \"compute\": {...}, \"network\": {...}, \"image\": {...}}");
    const cJSON *svc;
    cJSON_ArrayForEach(svc, tree) {
        size_t i = 0;
        while (i < NPARTS && strcmp(svc->string, parts[i].name) != 0) i++;
        if (i == NPARTS && strcmp(svc->string, "comment") != 0)
            return mc_fx_fail(&fx, "unknown service '%.64s' (expected identity, compute, network or image)", svc->string);
        if (i < NPARTS && !cJSON_IsObject(svc))
            return mc_fx_fail(&fx, "%s: must be an object like fixtures/%s.json, not %s", svc->string, svc->string, type_name(svc));
    }
    for (size_t i = 0; i < NPARTS; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(tree, parts[i].name);
        if (t != NULL && parts[i].check(&fx, t) != 0) return -1;
    }

    uint64_t mark[MC_K_COUNT];
    size_t before[MC_K_COUNT];
    for (int k = 0; k < MC_K_COUNT; k++) {
        mark[k] = srv->world[k].next_seq;
        before[k] = srv->world[k].count;
    }
    uint64_t rng = srv->rng;
    for (size_t i = 0; i < NPARTS; i++) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(tree, parts[i].name);
        if (t == NULL) continue;
        char why[400];
        if (parts[i].insert(srv, t, why, sizeof why) != 0) {
            undo_since(srv, mark);
            srv->rng = rng;
            snprintf(err, errsz, "%s: %s", parts[i].name, why);
            return -1;
        }
    }
    for (int k = 0; k < MC_K_COUNT; k++)
        if (srv->world[k].count > before[k] && kind_names[k] != NULL)
            cJSON_AddNumberToObject(added, kind_names[k], (double)(srv->world[k].count - before[k]));
    return 0;
}
