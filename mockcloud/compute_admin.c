/* compute_admin.c -- Nova's operator APIs: host aggregates (and the
 * availability zones they define), hypervisors, services, the legacy
 * os-hosts, migrations, simple tenant usage, the instance usage audit log,
 * server diagnostics and server external events.
 *
 * mockcloud has two compute hosts (mockcloud-compute-1 and -2) next to a
 * controller that runs the scheduler and the conductor, as a small devstack
 * multinode does; servers are placed on one of them (compute_servers.c asks
 * compute_host_pick) and may be migrated between them.
 * Aggregates, the services' enabled/disabled/forced-down state and the
 * migrations are the state kept here (in compute_state, dropped on reset).
 * A migration is recorded by compute_servers.c for every resize, so
 * os-migrations lists what happened to each server, as Nova's table does. */
#include "compute_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CONTROLLER_HOST "mockcloud-controller"
#define NHOSTS COMPUTE_NHOSTS
static const char *const host_names[NHOSTS] = {COMPUTE_HOST, COMPUTE_HOST2};
static const char *const hyp_uuids[NHOSTS] = {"5f3c1d9e-0b7a-4c2e-9d1f-6a8b7c6d5e4f", "6a4d2e0f-1c8b-4d3f-8e20-7b9c8d7e6f50"};
#define HOST_RAM_MB 4194304L
#define HOST_VCPUS 1024L
#define HOST_DISK_GB 65536L

/* The three services of the node: id, uuid, binary, host, zone. */
static const struct {
    int id;
    const char *uuid, *binary, *host, *zone;
} svcs[] = {
    {1, "1d2e3f40-5a6b-4c7d-8e9f-a0b1c2d3e4f5", "nova-scheduler", CONTROLLER_HOST, "internal"},
    {2, "2e3f4051-6b7c-4d8e-9fa0-b1c2d3e4f506", "nova-conductor", CONTROLLER_HOST, "internal"},
    {3, "3f405162-7c8d-4e9f-a0b1-c2d3e4f50617", "nova-compute", COMPUTE_HOST, "nova"},
    {4, "40516273-8d9e-4fa0-b1c2-d3e4f5061728", "nova-compute", COMPUTE_HOST2, "nova"},
};
#define NSVCS ((int)(sizeof svcs / sizeof svcs[0]))
#define COMPUTE_SVC 2   /* svcs[COMPUTE_SVC + h] is host h's nova-compute */

typedef struct admin_state {
    cJSON *aggregates;        /* [{id, uuid, name, availability_zone, hosts, metadata, created_at, updated_at}] */
    long aggregate_seq;
    cJSON *services;          /* per svcs[] row: {status, disabled_reason, forced_down, updated_at} */
    cJSON *migrations;        /* oldest first */
    long migration_seq;
} admin_state;

static admin_state *AS(mc_server *srv) {
    compute_state *st = cs(srv);
    if (st->admin == NULL) {
        admin_state *a = calloc(1, sizeof *a);
        if (a == NULL) mc_panic("out of memory");
        a->aggregates = cJSON_CreateArray();
        a->services = cJSON_CreateArray();
        a->migrations = cJSON_CreateArray();
        char ts[32];
        now_naive(ts);
        for (int i = 0; i < NSVCS; i++) {
            cJSON *s = cJSON_CreateObject();
            cJSON_AddStringToObject(s, "status", "enabled");
            cJSON_AddNullToObject(s, "disabled_reason");
            cJSON_AddBoolToObject(s, "forced_down", false);
            cJSON_AddStringToObject(s, "updated_at", ts);
            cJSON_AddItemToArray(a->services, s);
        }
        st->admin = a;
    }
    return st->admin;
}

void compute_admin_free(compute_state *st) {
    admin_state *a = st ? st->admin : NULL;
    if (a == NULL) return;
    cJSON_Delete(a->aggregates);
    cJSON_Delete(a->services);
    cJSON_Delete(a->migrations);
    free(a);
    st->admin = NULL;
}

static cJSON *svc_state(mc_server *srv, int i) { return cJSON_GetArrayItem(AS(srv)->services, i); }

static int host_index(const char *h) {
    for (int i = 0; i < NHOSTS; i++)
        if (mc_str_eq(h, host_names[i])) return i;
    return -1;
}

static bool svc_deleted(mc_server *srv, int i) { return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(svc_state(srv, i), "deleted")); }

/* A compute host that exists (its service not deleted). */
static bool hyp_present(mc_server *srv, int h) { return h >= 0 && h < NHOSTS && !svc_deleted(srv, COMPUTE_SVC + h); }

static bool host_known(mc_server *srv, const char *h) { return mc_str_eq(h, CONTROLLER_HOST) || hyp_present(srv, host_index(h)); }

const char *compute_host_name(int idx) { return idx >= 1 && idx <= NHOSTS ? host_names[idx - 1] : NULL; }

int compute_host_index(const char *name) { return host_index(name) + 1; }

/* Nova's host_status (2.16) of a server on host 'idx' (1-based): "" with
 * no host or a deleted compute service, DOWN when forced down, MAINTENANCE
 * when disabled, else UP (the services here always heartbeat, so never
 * UNKNOWN). */
const char *compute_host_status(mc_server *srv, int idx) {
    if (!hyp_present(srv, idx - 1)) return "";
    cJSON *st = svc_state(srv, COMPUTE_SVC + idx - 1);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "forced_down"))) return "DOWN";
    if (!mc_str_eq(mc_json_str(st, "status"), "enabled")) return "MAINTENANCE";
    return "UP";
}

/* Two bits per host of what compute_host_status says, for the keys of the
 * servers' cached views: a service change makes the admin views miss. */
unsigned compute_host_status_sig(mc_server *srv) {
    unsigned sig = 0;
    for (int h = 0; h < NHOSTS; h++) {
        const char *hs = compute_host_status(srv, h + 1);
        unsigned v = hs[0] == '\0' ? 0 : hs[0] == 'U' ? 1 : hs[0] == 'D' ? 2 : 3;
        sig |= v << (2 * h);
    }
    return sig;
}

/* Every server record, live and soft-deleted, with its fields read from
 * the compact record (a document per server would be printed and kept on
 * every record: an admin listing usage grew every server by ~2 KB). */
static void servers_each(mc_server *srv, void (*fn)(mc_record *s, const server_info *i, void *arg), void *arg) {
    mc_store *stores[2] = {&srv->world[MC_K_SERVER], &cs(srv)->deleted};
    for (int k = 0; k < 2; k++)
        for (mc_record *s = mc_store_first(stores[k]); s; s = mc_store_next(s)) {
            server_info i;
            if (compute_server_info(s, &i)) fn(s, &i, arg);
        }
}

static double jnum(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* ---------------------------------------------------------------- aggregates */

static const char *agg_az(const cJSON *g) { return mc_json_str(g, "availability_zone"); }

static cJSON *agg_find(mc_server *srv, long id) {
    cJSON *g;
    cJSON_ArrayForEach(g, AS(srv)->aggregates) if ((long)jnum(g, "id") == id) return g;
    return NULL;
}

static bool agg_has_host(const cJSON *g, const char *host) {
    const cJSON *h;
    cJSON_ArrayForEach(h, mc_json_arr(g, "hosts")) if (mc_str_eq(h->valuestring, host)) return true;
    return false;
}

/* The zone of a compute host: its aggregate's, else the default zone. */
static bool host_in_az_aggregate(mc_server *srv, const char *host) {
    cJSON *g;
    cJSON_ArrayForEach(g, AS(srv)->aggregates) if (agg_az(g) && agg_has_host(g, host)) return true;
    return false;
}

static const char *host_zone(mc_server *srv, const char *host) {
    cJSON *g;
    cJSON_ArrayForEach(g, AS(srv)->aggregates) if (agg_az(g) && agg_has_host(g, host)) return agg_az(g);
    return cJSON_GetArrayItem(cs(srv)->zones, 0)->valuestring;
}

const char *compute_host_zone(mc_server *srv, int idx) { return host_zone(srv, compute_host_name(idx) ? compute_host_name(idx) : COMPUTE_HOST); }

/* Where the scheduler may put a server: an existing host whose service is
 * enabled and up, in 'zone' (NULL: any), not in 'avoid' and in 'only' when
 * those are given (bit h-1 per host); the least loaded wins, as Nova's
 * RAM weigher spreads. 0 when none fits (NoValidHost). */
int compute_host_pick(mc_server *srv, const char *zone, unsigned avoid, unsigned only) {
    int best = 0;
    long best_n = 0, load[NHOSTS];
    for (int h = 0; h < NHOSTS; h++) load[h] = compute_host_tally(srv, h + 1)->vms;   /* kept, not counted */
    for (int h = 0; h < NHOSTS; h++) {
        cJSON *st = svc_state(srv, COMPUTE_SVC + h);
        if (!hyp_present(srv, h) || !mc_str_eq(mc_json_str(st, "status"), "enabled") ||
            cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "forced_down")))
            continue;
        if ((avoid & (1u << h)) || (only && !(only & (1u << h)))) continue;
        if (zone && strcmp(zone, host_zone(srv, host_names[h])) != 0 &&
            !(strcmp(zone, cJSON_GetArrayItem(cs(srv)->zones, 0)->valuestring) == 0 && !host_in_az_aggregate(srv, host_names[h])))
            continue;
        if (best == 0 || load[h] < best_n) best = h + 1, best_n = load[h];
    }
    return best;
}

const char *compute_zone_find(mc_server *srv, const char *zone) {
    cJSON *z;
    cJSON_ArrayForEach(z, cs(srv)->zones) if (strcmp(z->valuestring, zone) == 0) return z->valuestring;
    cJSON *g;
    cJSON_ArrayForEach(g, AS(srv)->aggregates)
        if (mc_str_eq(agg_az(g), zone) && cJSON_GetArraySize(mc_json_arr(g, "hosts")) > 0) return agg_az(g);
    return NULL;
}

void compute_zones_each(mc_server *srv, void (*fn)(const char *zone, void *arg), void *arg) {
    cJSON *z;
    cJSON_ArrayForEach(z, cs(srv)->zones) fn(z->valuestring, arg);
    cJSON *seen = cJSON_CreateArray();
    cJSON *g;
    cJSON_ArrayForEach(g, AS(srv)->aggregates) {
        const char *az = agg_az(g);
        if (az == NULL || cJSON_GetArraySize(mc_json_arr(g, "hosts")) == 0) continue;
        bool dup = false;
        cJSON_ArrayForEach(z, cs(srv)->zones) dup = dup || strcmp(z->valuestring, az) == 0;
        cJSON_ArrayForEach(z, seen) dup = dup || strcmp(z->valuestring, az) == 0;
        if (dup) continue;
        cJSON_AddItemToArray(seen, cJSON_CreateString(az));
        fn(az, arg);
    }
    cJSON_Delete(seen);
}

static cJSON *agg_view(mc_req *r, const cJSON *g, bool created) {
    cJSON *o = cJSON_CreateObject();
    mc_json_set_str(o, "availability_zone", agg_az(g));
    cJSON_AddStringToObject(o, "created_at", mc_json_str(g, "created_at"));
    cJSON_AddBoolToObject(o, "deleted", false);
    cJSON_AddNullToObject(o, "deleted_at");
    cJSON_AddNumberToObject(o, "id", jnum(g, "id"));
    cJSON_AddStringToObject(o, "name", mc_json_str(g, "name"));
    mc_json_set_str(o, "updated_at", mc_json_str(g, "updated_at"));
    if (mv_ge(r, 41)) cJSON_AddStringToObject(o, "uuid", mc_json_str(g, "uuid"));
    if (!created) {
        cJSON_AddItemToObject(o, "hosts", cJSON_Duplicate(mc_json_arr(g, "hosts"), 1));
        cJSON_AddItemToObject(o, "metadata", cJSON_Duplicate(mc_json_obj(g, "metadata"), 1));
    }
    return o;
}

static void reply_agg(mc_req *r, const cJSON *g, bool created) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "aggregate", agg_view(r, g, created));
    mc_reply_json(r, 200, root);
}

/* Nova's parameter_types.name: 1-255 characters, no leading or trailing
 * whitespace. */
static bool agg_name_ok(const char *s) {
    size_t n = s ? strlen(s) : 0;
    return n >= 1 && n <= 255 && s[0] != ' ' && s[n - 1] != ' ' && s[0] != '\t' && s[n - 1] != '\t';
}

static int agg_name_free_or_reply(mc_req *r, const char *name, const cJSON *self) {
    cJSON *g;
    cJSON_ArrayForEach(g, AS(r->srv)->aggregates) {
        if (g != self && mc_str_eq(mc_json_str(g, "name"), name)) {
            mc_reply_error(r, 409, NULL, "Aggregate %.255s already exists.", name);
            return -1;
        }
    }
    return 0;
}

static void agg_set_az(cJSON *g, const char *az) {
    mc_json_set_str(g, "availability_zone", az);
    cJSON *md = mc_json_obj(g, "metadata");
    if (az) mc_json_set_str(md, "availability_zone", az);
    else cJSON_DeleteItemFromObjectCaseSensitive(md, "availability_zone");
}

/* A zone change must not move a host that is in another zone's aggregate. */
static int agg_az_conflict_or_reply(mc_req *r, const cJSON *self, const char *az, const cJSON *hosts, const char *what) {
    const cJSON *h;
    cJSON_ArrayForEach(h, hosts) {
        cJSON *g;
        cJSON_ArrayForEach(g, AS(r->srv)->aggregates) {
            if (g == self || agg_az(g) == NULL || !agg_has_host(g, h->valuestring)) continue;
            if (!mc_str_eq(agg_az(g), az)) {
                mc_reply_error(r, what[0] == 'a' ? 409 : 400, NULL,
                               "Cannot %s aggregate %ld. Reason: One or more hosts already in availability zone(s) ['%.255s'].",
                               what, (long)jnum(self, "id"), agg_az(g));
                return -1;
            }
        }
    }
    return 0;
}

static int agg_body_or_reply(mc_req *r, bool create, const char **name, const cJSON **az) {
    cJSON *in = mc_json_obj(r->body, "aggregate");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute aggregate. Value: %s. 'aggregate' is a required property",
                       "None");
        return -1;
    }
    if (mc_check_or_reply(r, in, "!name=s|availability_zone=S") != 0) return -1;
    *name = mc_json_str(in, "name");
    *az = cJSON_GetObjectItemCaseSensitive(in, "availability_zone");
    if (create && *name == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute aggregate. 'name' is a required property");
        return -1;
    }
    if (!create && *name == NULL && *az == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute aggregate. Value: {}. {} does not have enough properties");
        return -1;
    }
    if (*name != NULL && !agg_name_ok(*name)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute name. Value: %.64s. It must be 1 to 255 characters "
                                     "without leading or trailing whitespace", *name);
        return -1;
    }
    if (cJSON_IsString(*az) && (!agg_name_ok((*az)->valuestring) || strchr((*az)->valuestring, ':') != NULL)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute availability_zone. Value: %.64s.", (*az)->valuestring);
        return -1;
    }
    return 0;
}

void compute_aggregates(mc_req *r) {
    admin_state *a = AS(r->srv);
    if (r->method == EVHTTP_REQ_GET) {
        cJSON *root = cJSON_CreateObject();
        cJSON *arr = cJSON_AddArrayToObject(root, "aggregates");
        cJSON *g;
        cJSON_ArrayForEach(g, a->aggregates) cJSON_AddItemToArray(arr, agg_view(r, g, false));
        mc_reply_json(r, 200, root);
        return;
    }
    const char *name;
    const cJSON *az;
    if (agg_body_or_reply(r, true, &name, &az) != 0) return;
    if (agg_name_free_or_reply(r, name, NULL) != 0) return;
    char ts[32], uuid[37];
    now_naive(ts);
    mc_uuid(r->srv, uuid);
    cJSON *g = cJSON_CreateObject();
    cJSON_AddNumberToObject(g, "id", (double)++a->aggregate_seq);
    cJSON_AddStringToObject(g, "uuid", uuid);
    cJSON_AddStringToObject(g, "name", name);
    cJSON_AddStringToObject(g, "created_at", ts);
    cJSON_AddNullToObject(g, "updated_at");
    cJSON_AddArrayToObject(g, "hosts");
    cJSON_AddObjectToObject(g, "metadata");
    cJSON_AddNullToObject(g, "availability_zone");
    agg_set_az(g, cJSON_IsString(az) ? az->valuestring : NULL);
    cJSON_AddItemToArray(a->aggregates, g);
    reply_agg(r, g, true);
}

static cJSON *agg_or_reply(mc_req *r) {
    long id;
    if (!mc_parse_long(r->params[0], -(1L << 30), 1L << 30, &id)) {
        mc_reply_error(r, 400, NULL, "Invalid input received: id must be an integer");
        return NULL;
    }
    cJSON *g = agg_find(r->srv, id);
    if (g == NULL) mc_reply_error(r, 404, NULL, "Aggregate %ld could not be found.", id);
    return g;
}

void compute_aggregate(mc_req *r) {
    cJSON *g = agg_or_reply(r);
    if (g == NULL) return;
    if (r->method == EVHTTP_REQ_GET) {
        reply_agg(r, g, false);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        if (cJSON_GetArraySize(mc_json_arr(g, "hosts")) > 0) {
            mc_reply_error(r, 400, NULL, "Cannot perform action 'delete' on aggregate %ld. Reason: Host aggregate is not empty.",
                           (long)jnum(g, "id"));
            return;
        }
        cJSON_Delete(cJSON_DetachItemViaPointer(AS(r->srv)->aggregates, g));
        mc_reply_json(r, 200, NULL);
        return;
    }
    const char *name;
    const cJSON *az;
    if (agg_body_or_reply(r, false, &name, &az) != 0) return;
    if (name != NULL && agg_name_free_or_reply(r, name, g) != 0) return;
    if (cJSON_IsString(az) && agg_az_conflict_or_reply(r, g, az->valuestring, mc_json_arr(g, "hosts"), "update") != 0)
        return;
    if (name != NULL) mc_json_set_str(g, "name", name);
    if (az != NULL) agg_set_az(g, cJSON_IsString(az) ? az->valuestring : NULL);
    char ts[32];
    now_naive(ts);
    mc_json_set_str(g, "updated_at", ts);
    reply_agg(r, g, false);
}

void compute_aggregate_action(mc_req *r) {
    cJSON *g = agg_or_reply(r);
    if (g == NULL) return;
    cJSON *act = r->body->child;
    long id = (long)jnum(g, "id");
    if (act == NULL || act->next != NULL ||
        (strcmp(act->string, "add_host") != 0 && strcmp(act->string, "remove_host") != 0 &&
         strcmp(act->string, "set_metadata") != 0)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute action: one of add_host, remove_host or set_metadata.");
        return;
    }
    char ts[32];
    now_naive(ts);
    if (strcmp(act->string, "set_metadata") == 0) {
        if (!cJSON_IsObject(act) || mc_check_or_reply(r, act, "!metadata=o") != 0) {
            if (r->replied == 0) mc_reply_error(r, 400, NULL, "Invalid input for field/attribute set_metadata.");
            return;
        }
        cJSON *md = mc_json_obj(act, "metadata");
        if (md == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute set_metadata. 'metadata' is a required property");
            return;
        }
        const cJSON *x;
        cJSON_ArrayForEach(x, md) {
            if (strlen(x->string) < 1 || strlen(x->string) > 255 || !(cJSON_IsNull(x) || (cJSON_IsString(x) && strlen(x->valuestring) <= 255))) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. Value: %.64s.", x->string);
                return;
            }
            if (strcmp(x->string, "availability_zone") == 0 && cJSON_IsString(x) &&
                agg_az_conflict_or_reply(r, g, x->valuestring, mc_json_arr(g, "hosts"), "update") != 0)
                return;
        }
        cJSON_ArrayForEach(x, md) {
            if (strcmp(x->string, "availability_zone") == 0) agg_set_az(g, cJSON_IsString(x) ? x->valuestring : NULL);
            else if (cJSON_IsNull(x)) cJSON_DeleteItemFromObjectCaseSensitive(mc_json_obj(g, "metadata"), x->string);
            else mc_json_set_str(mc_json_obj(g, "metadata"), x->string, x->valuestring);
        }
        mc_json_set_str(g, "updated_at", ts);
        reply_agg(r, g, false);
        return;
    }
    const char *host = cJSON_IsObject(act) ? mc_json_str(act, "host") : NULL;
    if (!cJSON_IsObject(act) || mc_check_or_reply(r, act, "!host=s255") != 0 || host == NULL) {
        if (r->replied == 0)
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. 'host' is a required property", act->string);
        return;
    }
    if (!host_known(r->srv, host)) {
        mc_reply_error(r, 404, NULL, "Compute host %.255s could not be found.", host);
        return;
    }
    cJSON *hosts = mc_json_arr(g, "hosts");
    if (strcmp(act->string, "add_host") == 0) {
        if (agg_has_host(g, host)) {
            mc_reply_error(r, 409, NULL, "Aggregate %ld already has host %.255s.", id, host);
            return;
        }
        cJSON *one = cJSON_CreateArray();
        cJSON_AddItemToArray(one, cJSON_CreateString(host));
        int rc = agg_az(g) ? agg_az_conflict_or_reply(r, g, agg_az(g), one, "add host to") : 0;
        cJSON_Delete(one);
        if (rc != 0) return;
        cJSON_AddItemToArray(hosts, cJSON_CreateString(host));
    } else {
        int i = 0, idx = -1;
        const cJSON *h;
        cJSON_ArrayForEach(h, hosts) {
            if (mc_str_eq(h->valuestring, host)) idx = i;
            i++;
        }
        if (idx < 0) {
            mc_reply_error(r, 404, NULL, "Aggregate %ld has no host %.255s.", id, host);
            return;
        }
        cJSON_DeleteItemFromArray(hosts, idx);
    }
    mc_json_set_str(g, "updated_at", ts);
    reply_agg(r, g, false);
}

/* ---------------------------------------------------------------- hypervisors */

typedef struct host_use {
    long vms, vcpus, ram, disk;
    cJSON *servers;           /* [{name, uuid}] when asked */
} host_use;

/* What the servers on host 'h' (< 0: every host) use: the tallies
 * compute_servers.c keeps; the walk only for the list of servers. */
static void host_usage(mc_server *srv, int h, host_use *u, bool with_servers) {
    memset(u, 0, sizeof *u);
    for (int i = 0; i < NHOSTS; i++) {
        if (h >= 0 && i != h) continue;
        const host_tally *t = compute_host_tally(srv, i + 1);
        u->vms += t->vms;
        u->vcpus += t->vcpus;
        u->ram += t->ram;
        u->disk += t->disk;
    }
    if (!with_servers) return;
    u->servers = cJSON_CreateArray();
    mc_store *st = &srv->world[MC_K_SERVER];
    for (mc_record *s = mc_store_first(st); s; s = mc_store_next(s)) {
        server_info i;
        if (!compute_server_info(s, &i) || i.host == 0 || (h >= 0 && i.host != h + 1)) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", i.name);
        cJSON_AddStringToObject(o, "uuid", s->id);
        cJSON_AddItemToArray(u->servers, o);
    }
}

static const char *hyp_id(mc_req *r, int h, char buf[8]) {
    if (mv_ge(r, 53)) return hyp_uuids[h];
    snprintf(buf, 8, "%d", h + 1);
    return buf;
}

static void add_id(mc_req *r, cJSON *o, const char *key, int num, const char *uuid) {
    if (mv_ge(r, 53)) cJSON_AddStringToObject(o, key, uuid);
    else cJSON_AddNumberToObject(o, key, num);
}

static void hyp_uptime(char out[96]) {
    time_t now = (time_t)mc_now();
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, 96, " %02d:%02d:%02d up 42 days,  3:14,  1 user,  load average: 0.08, 0.03, 0.01", tm.tm_hour, tm.tm_min,
             tm.tm_sec);
}

/* mode: 0 id/name/state/status, 1 detail */
static cJSON *hyp_view(mc_req *r, int hidx, int mode, bool with_servers) {
    mc_server *srv = r->srv;
    cJSON *sv = svc_state(srv, COMPUTE_SVC + hidx);
    host_use u;
    host_usage(srv, hidx, &u, with_servers);
    cJSON *h = cJSON_CreateObject();
    add_id(r, h, "id", hidx + 1, hyp_uuids[hidx]);
    cJSON_AddStringToObject(h, "hypervisor_hostname", host_names[hidx]);
    cJSON_AddStringToObject(h, "state", cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(sv, "forced_down")) ? "down" : "up");
    cJSON_AddStringToObject(h, "status", mc_json_str(sv, "status"));
    if (mode == 1) {
        if (!mv_ge(r, 88)) {
            static const char cpu[] = "{\"arch\": \"x86_64\", \"model\": \"EPYC\", \"vendor\": \"AMD\", \"topology\": "
                                      "{\"cells\": 1, \"sockets\": 1, \"cores\": 512, \"threads\": 2}, \"features\": []}";
            if (mv_ge(r, 28)) {
                cJSON *c = cJSON_ParseWithLengthOpts(cpu, sizeof cpu, NULL, 1);
                cJSON_AddItemToObject(h, "cpu_info", c ? c : cJSON_CreateObject());
            } else {
                cJSON_AddStringToObject(h, "cpu_info", cpu);
            }
            cJSON_AddNumberToObject(h, "current_workload", 0);
            cJSON_AddNumberToObject(h, "disk_available_least", (double)(HOST_DISK_GB - u.disk));
            cJSON_AddNumberToObject(h, "free_disk_gb", (double)(HOST_DISK_GB - u.disk));
            cJSON_AddNumberToObject(h, "free_ram_mb", (double)(HOST_RAM_MB - 512 - u.ram));
            cJSON_AddNumberToObject(h, "local_gb", (double)HOST_DISK_GB);
            cJSON_AddNumberToObject(h, "local_gb_used", (double)u.disk);
            cJSON_AddNumberToObject(h, "memory_mb", (double)HOST_RAM_MB);
            cJSON_AddNumberToObject(h, "memory_mb_used", (double)(512 + u.ram));
            cJSON_AddNumberToObject(h, "running_vms", (double)u.vms);
            cJSON_AddNumberToObject(h, "vcpus", (double)HOST_VCPUS);
            cJSON_AddNumberToObject(h, "vcpus_used", (double)u.vcpus);
        } else {
            char up[96];
            hyp_uptime(up);
            cJSON_AddStringToObject(h, "uptime", up);
        }
        cJSON_AddStringToObject(h, "hypervisor_type", "QEMU");
        cJSON_AddNumberToObject(h, "hypervisor_version", 8002000);
        char ip[16];
        snprintf(ip, sizeof ip, "127.0.0.%d", hidx + 1);
        cJSON_AddStringToObject(h, "host_ip", ip);
        cJSON *svc = cJSON_AddObjectToObject(h, "service");
        cJSON_AddStringToObject(svc, "host", host_names[hidx]);
        add_id(r, svc, "id", svcs[COMPUTE_SVC + hidx].id, svcs[COMPUTE_SVC + hidx].uuid);
        mc_json_set_str(svc, "disabled_reason", mc_json_str(sv, "disabled_reason"));
    }
    if (u.servers != NULL && cJSON_GetArraySize(u.servers) > 0) cJSON_AddItemToObject(h, "servers", u.servers);
    else cJSON_Delete(u.servers);
    return h;
}

static void reply_gone(mc_req *r) { mc_reply_error(r, 404, NULL, "The resource could not be found."); }

/* GET /os-hypervisors and /detail */
void compute_hypervisor_list(mc_req *r) {
    bool detail = strstr(r->path, "/detail") != NULL;
    int with_servers = 0;
    const char *pattern = NULL;
    if (mv_ge(r, 53)) {
        if (mc_query_bool_or_reply(r, "with_servers", &with_servers) != 0) return;
        with_servers = with_servers == 1;
        pattern = mc_query(r, "hypervisor_hostname_pattern");
    }
    long limit = -1;
    const char *marker = mv_ge(r, 33) ? mc_query(r, "marker") : NULL;
    if (mv_ge(r, 33) && mc_query(r, "limit") && mc_query_long_or_reply(r, "limit", 0, 1L << 30, -1, &limit) != 0) return;
    if (pattern != NULL && (marker != NULL || limit >= 0)) {
        mc_reply_error(r, 400, NULL, "Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.");
        return;
    }
    char buf[8];
    int start = 0;
    if (marker != NULL) {
        start = -1;
        for (int h = 0; h < NHOSTS; h++)
            if (hyp_present(r->srv, h) && strcmp(marker, hyp_id(r, h, buf)) == 0) start = h + 1;
        if (start < 0) {
            mc_reply_error(r, 400, NULL, "marker [%.64s] not found", marker);
            return;
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "hypervisors");
    long n = 0;
    const char *last = NULL;
    for (int h = start; h < NHOSTS && (limit < 0 || n < limit); h++) {
        if (!hyp_present(r->srv, h) || (pattern != NULL && strstr(host_names[h], pattern) == NULL)) continue;
        cJSON_AddItemToArray(a, hyp_view(r, h, detail ? 1 : 0, with_servers));
        last = hyp_id(r, h, buf);
        n++;
    }
    if (pattern != NULL && n == 0) {
        cJSON_Delete(root);
        mc_reply_error(r, 404, NULL, "No hypervisor matching '%.255s' could be found.", pattern);
        return;
    }
    if (limit > 0 && n == limit && last != NULL)
        add_collection_next(r, root, "hypervisors_links", detail ? "os-hypervisors/detail" : "os-hypervisors", last);
    mc_reply_json(r, 200, root);
}

static int hyp_id_or_reply(mc_req *r) {
    const char *id = r->params[0];
    char buf[8];
    if (mv_ge(r, 53) && !mc_is_uuid(id)) {
        mc_reply_error(r, 400, NULL, "Invalid uuid %.64s", id);
        return -1;
    }
    for (int h = 0; h < NHOSTS; h++)
        if (hyp_present(r->srv, h) && strcmp(id, hyp_id(r, h, buf)) == 0) return h;
    mc_reply_error(r, 404, NULL, "Hypervisor with ID '%.64s' could not be found.", id);
    return -1;
}

void compute_hypervisor_show(mc_req *r) {
    int with_servers = 0;
    if (mv_ge(r, 53) && mc_query_bool_or_reply(r, "with_servers", &with_servers) != 0) return;
    int h = hyp_id_or_reply(r);
    if (h < 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "hypervisor", hyp_view(r, h, 1, with_servers == 1));
    mc_reply_json(r, 200, root);
}

void compute_hypervisor_uptime(mc_req *r) {
    if (mv_ge(r, 88)) {
        reply_gone(r);
        return;
    }
    int hidx = hyp_id_or_reply(r);
    if (hidx < 0) return;
    cJSON *h = hyp_view(r, hidx, 0, false);
    char up[96];
    hyp_uptime(up);
    cJSON_AddStringToObject(h, "uptime", up);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "hypervisor", h);
    mc_reply_json(r, 200, root);
}

void compute_hypervisor_statistics(mc_req *r) {
    if (mv_ge(r, 88)) {
        reply_gone(r);
        return;
    }
    long count = 0;
    for (int h = 0; h < NHOSTS; h++) count += hyp_present(r->srv, h);
    host_use u;
    host_usage(r->srv, -1, &u, false);
    cJSON *root = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(root, "hypervisor_statistics");
    cJSON_AddNumberToObject(s, "count", (double)count);
    cJSON_AddNumberToObject(s, "current_workload", 0);
    cJSON_AddNumberToObject(s, "disk_available_least", (double)(count * HOST_DISK_GB - u.disk));
    cJSON_AddNumberToObject(s, "free_disk_gb", (double)(count * HOST_DISK_GB - u.disk));
    cJSON_AddNumberToObject(s, "free_ram_mb", (double)(count * (HOST_RAM_MB - 512) - u.ram));
    cJSON_AddNumberToObject(s, "local_gb", (double)(count * HOST_DISK_GB));
    cJSON_AddNumberToObject(s, "local_gb_used", (double)u.disk);
    cJSON_AddNumberToObject(s, "memory_mb", (double)(count * HOST_RAM_MB));
    cJSON_AddNumberToObject(s, "memory_mb_used", (double)(count * 512 + u.ram));
    cJSON_AddNumberToObject(s, "running_vms", (double)u.vms);
    cJSON_AddNumberToObject(s, "vcpus", (double)(count * HOST_VCPUS));
    cJSON_AddNumberToObject(s, "vcpus_used", (double)u.vcpus);
    mc_reply_json(r, 200, root);
}

/* GET /os-hypervisors/{pattern}/search and /servers (up to 2.52) */
void compute_hypervisor_search(mc_req *r) {
    if (mv_ge(r, 53)) {
        reply_gone(r);
        return;
    }
    bool servers = strstr(r->path, "/servers") != NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "hypervisors");
    for (int h = 0; h < NHOSTS; h++)
        if (hyp_present(r->srv, h) && strstr(host_names[h], r->params[0]) != NULL) cJSON_AddItemToArray(a, hyp_view(r, h, 0, servers));
    if (cJSON_GetArraySize(a) == 0) {
        cJSON_Delete(root);
        mc_reply_error(r, 404, NULL, "No hypervisor matching '%.255s' could be found.", r->params[0]);
        return;
    }
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- services */

static cJSON *svc_view(mc_req *r, int i) {
    cJSON *st = svc_state(r->srv, i);
    cJSON *s = cJSON_CreateObject();
    add_id(r, s, "id", svcs[i].id, svcs[i].uuid);
    cJSON_AddStringToObject(s, "binary", svcs[i].binary);
    cJSON_AddStringToObject(s, "host", svcs[i].host);
    cJSON_AddStringToObject(s, "zone", i >= COMPUTE_SVC ? host_zone(r->srv, svcs[i].host) : svcs[i].zone);
    cJSON_AddStringToObject(s, "status", mc_json_str(st, "status"));
    bool down = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "forced_down"));
    cJSON_AddStringToObject(s, "state", down ? "down" : "up");
    cJSON_AddStringToObject(s, "updated_at", mc_json_str(st, "updated_at"));
    mc_json_set_str(s, "disabled_reason", mc_json_str(st, "disabled_reason"));
    if (mv_ge(r, 11)) cJSON_AddBoolToObject(s, "forced_down", down);
    return s;
}


void compute_service_list(mc_req *r) {
    const char *host = mc_query(r, "host"), *binary = mc_query(r, "binary");
    if (mv_ge(r, 75)) {
        for (int i = 0; i < r->nquery; i++) {
            const mc_kv *kv = &r->query[i];
            if (strcmp(kv->key, "host") != 0 && strcmp(kv->key, "binary") != 0) {
                mc_reply_error(r, 400, NULL, "Invalid input for query parameters %.64s. Additional properties are not allowed "
                                             "('%.64s' was unexpected)", kv->key, kv->key);
                return;
            }
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "services");
    for (int i = 0; i < NSVCS; i++) {
        if (svc_deleted(r->srv, i) || (host && strcmp(host, svcs[i].host) != 0) || (binary && strcmp(binary, svcs[i].binary) != 0))
            continue;
        cJSON_AddItemToArray(a, svc_view(r, i));
    }
    mc_reply_json(r, 200, root);
}

static void svc_touch(mc_server *srv, int i) {
    char ts[32];
    now_naive(ts);
    mc_json_set_str(svc_state(srv, i), "updated_at", ts);
}

static void svc_set_status(mc_server *srv, int i, bool enabled, const char *reason) {
    cJSON *st = svc_state(srv, i);
    mc_json_set_str(st, "status", enabled ? "enabled" : "disabled");
    mc_json_set_str(st, "disabled_reason", enabled ? NULL : reason);
    svc_touch(srv, i);
}

/* PUT /os-services/{enable,disable,disable-log-reason,force-down} (up to 2.52) */
static void service_update_legacy(mc_req *r) {
    const char *what = r->params[0];
    bool force = strcmp(what, "force-down") == 0 && mv_ge(r, 11);
    if (strcmp(what, "enable") != 0 && strcmp(what, "disable") != 0 && strcmp(what, "disable-log-reason") != 0 && !force) {
        mc_reply_error(r, 404, NULL, "Unknown action");
        return;
    }
    const char *spec = force ? "!host=s255|binary=s255|forced_down=b"
                             : strcmp(what, "disable-log-reason") == 0 ? "!host=s255|binary=s255|disabled_reason=s255"
                                                                       : "!host=s255|binary=s255";
    if (mc_check_or_reply(r, r->body, spec) != 0) return;
    const char *host = mc_json_str(r->body, "host"), *binary = mc_json_str(r->body, "binary");
    const char *reason = mc_json_str(r->body, "disabled_reason");
    const cJSON *fd = cJSON_GetObjectItemCaseSensitive(r->body, "forced_down");
    if (host == NULL || binary == NULL || (force && fd == NULL) || (strcmp(what, "disable-log-reason") == 0 && reason == NULL)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s: 'host', 'binary'%s are required.", what,
                       force ? " and 'forced_down'" : strcmp(what, "disable-log-reason") == 0 ? " and 'disabled_reason'" : "");
        return;
    }
    int i = -1;
    for (int k = 0; k < NSVCS; k++)
        if (!svc_deleted(r->srv, k) && strcmp(svcs[k].host, host) == 0 && strcmp(svcs[k].binary, binary) == 0) i = k;
    if (i < 0) {
        mc_reply_error(r, 404, NULL, "Unknown service");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *s = cJSON_AddObjectToObject(root, "service");
    cJSON_AddStringToObject(s, "host", host);
    cJSON_AddStringToObject(s, "binary", binary);
    if (force) {
        bool down = cJSON_IsTrue(fd) || (cJSON_IsString(fd) && mc_str_bool(fd->valuestring, &down) && down);
        mc_json_set(svc_state(r->srv, i), "forced_down", cJSON_CreateBool(down));
        svc_touch(r->srv, i);
        cJSON_AddBoolToObject(s, "forced_down", down);
    } else {
        bool enable = strcmp(what, "enable") == 0;
        svc_set_status(r->srv, i, enable, reason);
        cJSON_AddStringToObject(s, "status", enable ? "enabled" : "disabled");
        if (reason) cJSON_AddStringToObject(s, "disabled_reason", reason);
    }
    mc_reply_json(r, 200, root);
}

static int svc_find_or_reply(mc_req *r) {
    const char *id = r->params[0];
    if (mv_ge(r, 53) && !mc_is_uuid(id)) {
        mc_reply_error(r, 400, NULL, "Invalid uuid %.64s", id);
        return -1;
    }
    for (int i = 0; i < NSVCS; i++) {
        if (svc_deleted(r->srv, i)) continue;
        char num[8];
        snprintf(num, sizeof num, "%d", svcs[i].id);
        if (strcmp(id, mv_ge(r, 53) ? svcs[i].uuid : num) == 0) return i;
    }
    if (mv_ge(r, 53)) mc_reply_error(r, 404, NULL, "Service not found.");
    else mc_reply_error(r, 404, NULL, "Service %.64s could not be found.", id);
    return -1;
}

void compute_service(mc_req *r) {
    if (r->method == EVHTTP_REQ_PUT && !mv_ge(r, 53)) {
        service_update_legacy(r);
        return;
    }
    if (r->method == EVHTTP_REQ_PUT && r->body == NULL) {
        mc_reply_error(r, 400, NULL, "Malformed request body");
        return;
    }
    if (r->method == EVHTTP_REQ_PUT && mc_check_or_reply(r, r->body, "!status=s|disabled_reason=s255|forced_down=b") != 0) return;
    int i = svc_find_or_reply(r);
    if (i < 0) return;
    if (r->method == EVHTTP_REQ_DELETE) {
        host_use u;
        host_usage(r->srv, i - COMPUTE_SVC, &u, false);
        if (i >= COMPUTE_SVC && u.vms > 0) {
            mc_reply_error(r, 409, NULL, "Unable to delete compute service that is hosting instances. Migrate or delete the "
                                         "instances first.");
            return;
        }
        mc_json_set(svc_state(r->srv, i), "deleted", cJSON_CreateTrue());
        mc_reply_json(r, 204, NULL);
        return;
    }
    const char *status = mc_json_str(r->body, "status"), *reason = mc_json_str(r->body, "disabled_reason");
    const cJSON *fd = cJSON_GetObjectItemCaseSensitive(r->body, "forced_down");
    if (status != NULL && strcmp(status, "enabled") != 0 && strcmp(status, "disabled") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute status. Value: %.32s. '%.32s' is not one of "
                                     "['enabled', 'disabled']", status, status);
        return;
    }
    if (status == NULL && fd == NULL) {
        mc_reply_error(r, 400, NULL, "No updates were requested. Fields 'status' or 'forced_down' should be specified.");
        return;
    }
    if (reason != NULL && !mc_str_eq(status, "disabled")) {
        mc_reply_error(r, 400, NULL, "Specifying 'disabled_reason' with status 'enabled' is invalid.");
        return;
    }
    if (i < COMPUTE_SVC) {
        mc_reply_error(r, 400, NULL, "Updating a %s service is not supported. Only nova-compute services can be updated.",
                       svcs[i].binary);
        return;
    }
    if (status) svc_set_status(r->srv, i, strcmp(status, "enabled") == 0, reason);
    if (fd) {
        bool down = cJSON_IsTrue(fd) || (cJSON_IsString(fd) && mc_str_bool(fd->valuestring, &down) && down);
        mc_json_set(svc_state(r->srv, i), "forced_down", cJSON_CreateBool(down));
        svc_touch(r->srv, i);
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "service", svc_view(r, i));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- os-hosts (up to 2.42) */

static const char *host_service(int i) { return svcs[i].binary + 5; }   /* "nova-compute" -> "compute" */

void compute_host_list(mc_req *r) {
    if (mv_ge(r, 43)) {
        reply_gone(r);
        return;
    }
    const char *zone = mc_query(r, "zone");
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "hosts");
    for (int i = 0; i < NSVCS; i++) {
        const char *z = i >= COMPUTE_SVC ? host_zone(r->srv, svcs[i].host) : svcs[i].zone;
        if (svc_deleted(r->srv, i) || (zone && zone[0] && strcmp(zone, z) != 0)) continue;
        cJSON *h = cJSON_CreateObject();
        cJSON_AddStringToObject(h, "host_name", svcs[i].host);
        cJSON_AddStringToObject(h, "service", host_service(i));
        cJSON_AddStringToObject(h, "zone", z);
        cJSON_AddItemToArray(a, h);
    }
    mc_reply_json(r, 200, root);
}

static void host_resource(cJSON *a, const char *host, const char *project, long cpu, long ram, long disk) {
    cJSON *o = cJSON_CreateObject();
    cJSON *res = cJSON_AddObjectToObject(o, "resource");
    cJSON_AddStringToObject(res, "host", host);
    cJSON_AddStringToObject(res, "project", project);
    cJSON_AddNumberToObject(res, "cpu", (double)cpu);
    cJSON_AddNumberToObject(res, "memory_mb", (double)ram);
    cJSON_AddNumberToObject(res, "disk_gb", (double)disk);
    cJSON_AddItemToArray(a, o);
}

typedef struct proj_use {
    cJSON *projects;          /* {project: [cpu, ram, disk]} */
    const char *host;
} proj_use;

static void proj_use_add(mc_record *s, const server_info *si, void *arg) {
    proj_use *p = arg;
    if (!mc_str_eq(compute_host_name(si->host), p->host) || si->deleted) return;
    cJSON *v = cJSON_GetObjectItemCaseSensitive(p->projects, s->project_id);
    if (v == NULL) {
        v = cJSON_CreateIntArray((const int[]){0, 0, 0}, 3);
        cJSON_AddItemToObject(p->projects, s->project_id, v);
    }
    double add[3] = {(double)si->vcpus, (double)si->ram, (double)si->disk};
    for (int i = 0; i < 3; i++) {
        cJSON *n = cJSON_GetArrayItem(v, i);
        cJSON_SetNumberValue(n, n->valuedouble + add[i]);
    }
}

/* The compute host of the path (its index), or -1 after a 404. */
static int host_or_reply(mc_req *r) {
    const char *h = r->params[0];
    if (mv_ge(r, 43)) {
        reply_gone(r);
        return -1;
    }
    int i = host_index(h);
    if (!hyp_present(r->srv, i)) {
        mc_reply_error(r, 404, NULL, "Compute host %.255s could not be found.", h);
        return -1;
    }
    return i;
}

void compute_host(mc_req *r) {
    if (r->method == EVHTTP_REQ_GET) {
        int hi = host_or_reply(r);
        if (hi < 0) return;
        host_use u;
        host_usage(r->srv, hi, &u, false);
        cJSON *root = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(root, "host");
        host_resource(a, host_names[hi], "(total)", HOST_VCPUS, HOST_RAM_MB, HOST_DISK_GB);
        host_resource(a, host_names[hi], "(used_now)", u.vcpus, 512 + u.ram, u.disk);
        host_resource(a, host_names[hi], "(used_max)", u.vcpus, u.ram, u.disk);
        proj_use p = {cJSON_CreateObject(), host_names[hi]};
        servers_each(r->srv, proj_use_add, &p);
        cJSON *x;
        cJSON_ArrayForEach(x, p.projects)
            host_resource(a, host_names[hi], x->string, (long)cJSON_GetArrayItem(x, 0)->valuedouble, (long)cJSON_GetArrayItem(x, 1)->valuedouble,
                          (long)cJSON_GetArrayItem(x, 2)->valuedouble);
        cJSON_Delete(p.projects);
        mc_reply_json(r, 200, root);
        return;
    }
    /* PUT: status enable/disable, maintenance_mode enable/disable */
    if (mv_ge(r, 43)) {
        reply_gone(r);
        return;
    }
    if (mc_check_or_reply(r, r->body, "!status=s|maintenance_mode=s") != 0) return;
    const char *status = mc_json_str(r->body, "status"), *maint = mc_json_str(r->body, "maintenance_mode");
    bool status_ok = status == NULL || strcasecmp(status, "enable") == 0 || strcasecmp(status, "disable") == 0;
    bool maint_ok = maint == NULL || strcasecmp(maint, "enable") == 0 || strcasecmp(maint, "disable") == 0;
    if ((status == NULL && maint == NULL) || !status_ok || !maint_ok) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %.32s. 'status' and 'maintenance_mode' take "
                                     "'enable' or 'disable', and one of them is required",
                       !status_ok ? "status" : "maintenance_mode", !status_ok ? status : maint ? maint : "{}");
        return;
    }
    int hi = host_or_reply(r);
    if (hi < 0) return;
    if (maint != NULL) {
        mc_reply_error(r, 501, NULL, "Virt driver does not implement host maintenance mode.");
        return;
    }
    bool enable = strcasecmp(status, "enable") == 0;
    svc_set_status(r->srv, COMPUTE_SVC + hi, enable, enable ? NULL : "Disabled through os-hosts");
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "host", host_names[hi]);
    cJSON_AddStringToObject(root, "status", enable ? "enabled" : "disabled");
    mc_reply_json(r, 200, root);
}

/* GET /os-hosts/{host}/{reboot,shutdown,startup}: libvirt cannot. */
void compute_host_power(mc_req *r) {
    const char *act = r->params[1];
    if (strcmp(act, "reboot") != 0 && strcmp(act, "shutdown") != 0 && strcmp(act, "startup") != 0) {
        reply_gone(r);
        return;
    }
    if (host_or_reply(r) < 0) return;
    mc_reply_error(r, 501, NULL, "Virt driver does not implement host power management.");
}

/* ---------------------------------------------------------------- migrations */

void compute_migration_add(mc_req *r, mc_record *s, const char *type, long old_flavor, long new_flavor, int src, int dst) {
    admin_state *a = AS(r->srv);
    char ts[32], uuid[37];
    now_naive(ts);
    mc_uuid(r->srv, uuid);
    cJSON *m = cJSON_CreateObject();
    cJSON_AddNumberToObject(m, "id", (double)++a->migration_seq);
    cJSON_AddStringToObject(m, "uuid", uuid);
    cJSON_AddStringToObject(m, "status", "pre-migrating");
    cJSON_AddStringToObject(m, "instance_uuid", s->id);
    cJSON_AddStringToObject(m, "project_id", s->project_id);
    cJSON_AddStringToObject(m, "user_id", req_user(r));
    cJSON_AddStringToObject(m, "migration_type", type);
    mc_json_set_str(m, "source", compute_host_name(src));
    mc_json_set_str(m, "dest", compute_host_name(dst));
    if (old_flavor > 0) cJSON_AddNumberToObject(m, "old_instance_type_id", (double)old_flavor);
    else cJSON_AddNullToObject(m, "old_instance_type_id");
    if (new_flavor > 0) cJSON_AddNumberToObject(m, "new_instance_type_id", (double)new_flavor);
    else cJSON_AddNullToObject(m, "new_instance_type_id");
    cJSON_AddStringToObject(m, "created_at", ts);
    cJSON_AddNullToObject(m, "updated_at");
    cJSON_AddNumberToObject(m, "created_ts", mc_now());
    cJSON_AddItemToArray(a->migrations, m);
}

void compute_migration_status(mc_server *srv, const char *server_id, const char *status) {
    if (cs(srv) == NULL || cs(srv)->admin == NULL) return;
    cJSON *m, *last = NULL;
    cJSON_ArrayForEach(m, AS(srv)->migrations) if (mc_str_eq(mc_json_str(m, "instance_uuid"), server_id)) last = m;
    if (last == NULL) return;
    const char *cur = mc_json_str(last, "status");
    if (mc_str_eq(cur, "confirmed") || mc_str_eq(cur, "reverted") || mc_str_eq(cur, "error")) return;
    char ts[32];
    now_naive(ts);
    mc_json_set_str(last, "status", status);
    mc_json_set_str(last, "updated_at", ts);
}

static cJSON *migration_view(mc_req *r, const cJSON *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", jnum(m, "id"));
    cJSON_AddStringToObject(o, "status", mc_json_str(m, "status"));
    cJSON_AddStringToObject(o, "instance_uuid", mc_json_str(m, "instance_uuid"));
    const char *src = mc_json_str(m, "source"), *dst = mc_json_str(m, "dest");
    mc_json_set_str(o, "source_node", src);
    mc_json_set_str(o, "source_compute", src);
    mc_json_set_str(o, "dest_node", dst);
    mc_json_set_str(o, "dest_compute", dst);
    char ip[16];
    snprintf(ip, sizeof ip, "127.0.0.%d", compute_host_index(dst) ? compute_host_index(dst) : 1);
    mc_json_set_str(o, "dest_host", dst ? ip : NULL);
    cJSON_AddItemToObject(o, "old_instance_type_id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "old_instance_type_id"), 1));
    cJSON_AddItemToObject(o, "new_instance_type_id", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(m, "new_instance_type_id"), 1));
    cJSON_AddStringToObject(o, "created_at", mc_json_str(m, "created_at"));
    mc_json_set_str(o, "updated_at", mc_json_str(m, "updated_at"));
    if (mv_ge(r, 23)) cJSON_AddStringToObject(o, "migration_type", mc_json_str(m, "migration_type"));
    if (mv_ge(r, 59)) cJSON_AddStringToObject(o, "uuid", mc_json_str(m, "uuid"));
    if (mv_ge(r, 80)) {
        cJSON_AddStringToObject(o, "user_id", mc_json_str(m, "user_id"));
        cJSON_AddStringToObject(o, "project_id", mc_json_str(m, "project_id"));
    }
    return o;
}

static bool qmatch(mc_req *r, const char *key, const char *v) {
    const char *q = mc_query(r, key);
    return q == NULL || mc_str_eq(q, v);
}

void compute_migration_list(mc_req *r) {
    admin_state *a = AS(r->srv);
    long limit = -1;
    const char *marker = NULL;
    double since = -1, before = -1;
    if (mv_ge(r, 59)) {
        if (mc_query(r, "limit") && mc_query_long_or_reply(r, "limit", 0, 1L << 30, -1, &limit) != 0) return;
        marker = mc_query(r, "marker");
        const char *cs_ = mc_query(r, "changes-since"), *cb = mv_ge(r, 66) ? mc_query(r, "changes-before") : NULL;
        if ((cs_ && (since = mc_time_parse(cs_)) < 0) || (cb && (before = mc_time_parse(cb)) < 0)) {
            mc_reply_error(r, 400, NULL, "Invalid input for query parameters changes-since. Value: %.64s. It is not a valid "
                                         "date-time", cs_ && since < 0 ? cs_ : cb);
            return;
        }
    }
    int n = cJSON_GetArraySize(a->migrations);
    bool newest_first = mv_ge(r, 59);
    int start = newest_first ? n - 1 : 0;
    if (marker != NULL) {
        int at = -1;
        for (int i = 0; i < n; i++)
            if (mc_str_eq(mc_json_str(cJSON_GetArrayItem(a->migrations, i), "uuid"), marker)) at = i;
        if (at < 0) {
            mc_reply_error(r, 400, NULL, "Marker %.64s could not be found.", marker);
            return;
        }
        start = at - 1;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(root, "migrations");
    long count = 0;
    const char *last = NULL;
    for (int i = start; i >= 0 && i < n && (limit < 0 || count < limit); i += newest_first ? -1 : 1) {
        cJSON *m = cJSON_GetArrayItem(a->migrations, i);
        const char *host = mc_query(r, "host");
        if (!qmatch(r, "status", mc_json_str(m, "status")) || !qmatch(r, "instance_uuid", mc_json_str(m, "instance_uuid")) ||
            (mv_ge(r, 23) && !qmatch(r, "migration_type", mc_json_str(m, "migration_type"))) ||
            !qmatch(r, "source_compute", mc_json_str(m, "source")) ||
            (host && !mc_str_eq(host, mc_json_str(m, "source")) && !mc_str_eq(host, mc_json_str(m, "dest"))) ||
            (mv_ge(r, 80) && (!qmatch(r, "user_id", mc_json_str(m, "user_id")) || !qmatch(r, "project_id", mc_json_str(m, "project_id")))))
            continue;
        double t = jnum(m, "created_ts");
        if ((since >= 0 && t < since) || (before >= 0 && t > before)) continue;
        cJSON_AddItemToArray(arr, migration_view(r, m));
        last = mc_json_str(m, "uuid");
        count++;
    }
    if (mv_ge(r, 59) && limit > 0 && count == limit && last != NULL) add_collection_next(r, root, "migrations_links", "os-migrations", last);
    mc_reply_json(r, 200, root);
}

/* GET /servers/{id}/migrations (2.23): in-progress live migrations; one
 * host has none. */
void compute_server_migrations(mc_req *r) {
    if (!mv_ge(r, 23)) {
        reply_gone(r);
        return;
    }
    if (server_visible(r, r->params[0]) == NULL) {
        mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
        return;
    }
    if (r->nparams > 1) {
        mc_reply_error(r, 404, NULL, "Migration %.64s for instance %.64s could not be found.", r->params[1], r->params[0]);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddArrayToObject(root, "migrations");
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- simple tenant usage */

typedef struct usage_ctx {
    mc_req *r;
    double start, stop, now;
    const char *only;         /* one project, or NULL */
    bool detailed;
    cJSON *tenants;           /* {project: tenant_usage} */
    const char *marker;       /* 2.40: the page starts after this server */
    bool marker_seen;
    long limit, count;        /* 2.40: servers on the page (-1: no limit) */
    const char *last;         /* the page's last server */
} usage_ctx;

static void naive_at(double t, char out[32]) {
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[24];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%06ld", base, (long)((t - (double)sec) * 1e6) % 1000000);
}

static void tenant_add(cJSON *t, const char *key, double v) {
    cJSON *n = cJSON_GetObjectItemCaseSensitive(t, key);
    cJSON_SetNumberValue(n, n->valuedouble + v);
}

/* A record's time as the API shows it: to the second (< 0 stays -1). */
static double to_second(double t) { return t < 0 ? -1 : (double)(time_t)t; }

static void usage_add(mc_record *s, const server_info *i, void *arg) {
    usage_ctx *c = arg;
    if (c->marker != NULL && !c->marker_seen) {   /* Nova pages over the servers, in one order */
        if (strcmp(s->id, c->marker) == 0) c->marker_seen = true;
        return;
    }
    if (c->only && strcmp(c->only, s->project_id) != 0) return;
    double started = to_second(i->launched_at);
    if (started < 0) started = to_second(i->created);
    double ended = to_second(i->terminated_at);
    if (started < 0 || started > c->stop || (ended >= 0 && ended < c->start)) return;
    if (c->limit >= 0 && c->count >= c->limit) return;
    c->count++;
    c->last = s->id;
    double a = started > c->start ? started : c->start;
    double b = ended >= 0 && ended < c->stop ? ended : c->stop;   /* as Nova: not capped at now */
    double hours = b > a ? (b - a) / 3600.0 : 0;
    cJSON *t = cJSON_GetObjectItemCaseSensitive(c->tenants, s->project_id);
    if (t == NULL) {
        char ts[32];
        t = cJSON_CreateObject();
        if (c->detailed) cJSON_AddArrayToObject(t, "server_usages");
        naive_at(c->start, ts);
        cJSON_AddStringToObject(t, "start", ts);
        naive_at(c->stop, ts);
        cJSON_AddStringToObject(t, "stop", ts);
        cJSON_AddStringToObject(t, "tenant_id", s->project_id);
        cJSON_AddNumberToObject(t, "total_hours", 0);
        cJSON_AddNumberToObject(t, "total_local_gb_usage", 0);
        cJSON_AddNumberToObject(t, "total_memory_mb_usage", 0);
        cJSON_AddNumberToObject(t, "total_vcpus_usage", 0);
        cJSON_AddItemToObject(c->tenants, s->project_id, t);
    }
    double gb = (double)i->disk, ram = (double)i->ram, vcpus = (double)i->vcpus;
    tenant_add(t, "total_hours", hours);
    tenant_add(t, "total_local_gb_usage", gb * hours);
    tenant_add(t, "total_memory_mb_usage", ram * hours);
    tenant_add(t, "total_vcpus_usage", vcpus * hours);
    cJSON *su = mc_json_arr(t, "server_usages");
    if (su == NULL) return;
    bool deleted = i->deleted;
    char ts[32];
    cJSON *o = cJSON_CreateObject();
    if (ended >= 0) {
        naive_at(ended, ts);
        cJSON_AddStringToObject(o, "ended_at", ts);
    } else {
        cJSON_AddNullToObject(o, "ended_at");
    }
    cJSON_AddStringToObject(o, "flavor", i->flavor_name);
    cJSON_AddNumberToObject(o, "hours", hours);
    cJSON_AddStringToObject(o, "instance_id", s->id);
    cJSON_AddNumberToObject(o, "local_gb", gb);
    cJSON_AddNumberToObject(o, "memory_mb", ram);
    cJSON_AddStringToObject(o, "name", i->name);
    naive_at(started, ts);
    cJSON_AddStringToObject(o, "started_at", ts);
    cJSON_AddStringToObject(o, "state", deleted ? "terminated" : i->vm_state);
    cJSON_AddStringToObject(o, "tenant_id", s->project_id);
    cJSON_AddNumberToObject(o, "uptime", (double)(long)((ended >= 0 ? ended : c->now) - started));
    cJSON_AddNumberToObject(o, "vcpus", vcpus);
    cJSON_AddItemToArray(su, o);
}

static int usage_period_or_reply(mc_req *r, usage_ctx *c) {
    c->now = mc_now();
    c->limit = -1;
    if (mv_ge(r, 40)) {   /* limit (max_limit 1000) and marker: the CLI pages until a page is empty */
        if (mc_query(r, "limit") && mc_query_long_or_reply(r, "limit", 0, 1L << 30, -1, &c->limit) != 0) return -1;
        if (c->limit < 0 || c->limit > 1000) c->limit = 1000;
        c->marker = mc_query(r, "marker");
    }
    const char *s = mc_query(r, "start"), *e = mc_query(r, "end");
    c->start = s ? mc_time_parse(s) : c->now;
    c->stop = e ? mc_time_parse(e) : c->now;
    if (c->start < 0 || c->stop < 0) {
        mc_reply_error(r, 400, NULL, "Invalid input received: Datetime is in invalid format");
        return -1;
    }
    if (c->start > c->stop) {
        mc_reply_error(r, 400, NULL, "Invalid input received: Invalid start time. The start time cannot occur after the end time.");
        return -1;
    }
    return 0;
}

/* A marker no server has: Nova's 400 (MarkerNotFound). */
static bool usage_marker_missing_or_reply(mc_req *r, usage_ctx *c) {
    if (c->marker == NULL || c->marker_seen) return false;
    cJSON_Delete(c->tenants);
    mc_reply_error(r, 400, NULL, "Marker %.64s could not be found.", c->marker);
    return true;
}

void compute_tenant_usage_list(mc_req *r) {
    /* "/os-simple-tenant-usage/": an empty tenant id is no tenant (Nova 404s) */
    const char *uri = mc_req_uri(r), *q = uri ? strchr(uri, '?') : NULL;
    size_t n = uri ? (q ? (size_t)(q - uri) : strlen(uri)) : 0;
    if (n > 0 && uri[n - 1] == '/') {
        reply_gone(r);
        return;
    }
    usage_ctx c = {.r = r};
    if (usage_period_or_reply(r, &c) != 0) return;
    int detailed = 0;
    if (mc_query_bool_or_reply(r, "detailed", &detailed) != 0) return;
    c.detailed = detailed == 1;
    c.tenants = cJSON_CreateObject();
    servers_each(r->srv, usage_add, &c);
    if (usage_marker_missing_or_reply(r, &c)) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "tenant_usages");
    while (c.tenants->child) cJSON_AddItemToArray(a, cJSON_DetachItemViaPointer(c.tenants, c.tenants->child));
    cJSON_Delete(c.tenants);
    if (c.limit > 0 && c.count == c.limit) add_collection_next(r, root, "tenant_usages_links", "os-simple-tenant-usage", c.last);
    mc_reply_json(r, 200, root);
}

void compute_tenant_usage_show(mc_req *r) {
    if (!is_admin(r) && strcmp(r->params[0], req_project(r)) != 0) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-simple-tenant-usage:show to be performed.");
        return;
    }
    usage_ctx c = {.r = r, .only = r->params[0], .detailed = true};
    if (usage_period_or_reply(r, &c) != 0) return;
    c.tenants = cJSON_CreateObject();
    servers_each(r->srv, usage_add, &c);
    if (usage_marker_missing_or_reply(r, &c)) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *t = c.tenants->child ? cJSON_DetachItemViaPointer(c.tenants, c.tenants->child) : cJSON_CreateObject();
    cJSON_Delete(c.tenants);
    cJSON_AddItemToObject(root, "tenant_usage", t);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- instance usage audit log */

void compute_audit_log(mc_req *r) {
    double before = mc_now();
    if (r->nparams > 0) {
        before = mc_time_parse(r->params[0]);
        if (before < 0) {
            mc_reply_error(r, 400, NULL, "Invalid timestamp for date %.64s", r->params[0]);
            return;
        }
    }
    /* the last completed month before 'before' */
    time_t t = (time_t)before;
    struct tm tm;
    gmtime_r(&t, &tm);
    int y = tm.tm_year + 1900, m = tm.tm_mon + 1;
    int by = m == 1 ? y - 1 : y, bm = m == 1 ? 12 : m - 1;
    char begin[32], end[32];
    snprintf(begin, sizeof begin, "%04d-%02d-01 00:00:00", by, bm);
    snprintf(end, sizeof end, "%04d-%02d-01 00:00:00", y, m);
    cJSON *root = cJSON_CreateObject();
    cJSON *o = cJSON_AddObjectToObject(root, r->nparams > 0 ? "instance_usage_audit_log" : "instance_usage_audit_logs");
    cJSON *not_run = cJSON_AddArrayToObject(o, "hosts_not_run");
    for (int h = 0; h < NHOSTS; h++) cJSON_AddItemToArray(not_run, cJSON_CreateString(host_names[h]));
    cJSON_AddObjectToObject(o, "log");
    cJSON_AddNumberToObject(o, "num_hosts", NHOSTS);
    cJSON_AddNumberToObject(o, "num_hosts_done", 0);
    cJSON_AddNumberToObject(o, "num_hosts_not_run", NHOSTS);
    cJSON_AddNumberToObject(o, "num_hosts_running", 0);
    cJSON_AddStringToObject(o, "overall_status", "0 of 2 hosts done. 0 errors.");
    cJSON_AddStringToObject(o, "period_beginning", begin);
    cJSON_AddStringToObject(o, "period_ending", end);
    cJSON_AddNumberToObject(o, "total_errors", 0);
    cJSON_AddNumberToObject(o, "total_instances", 0);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- server diagnostics */

typedef struct nic_ctx {
    cJSON *legacy, *nics;
    int n;
} nic_ctx;

static void nic_each(mc_record *port, void *arg) {
    nic_ctx *c = arg;
    const char *mac = mc_json_str(port->doc, "mac_address");
    char key[64];
    snprintf(key, sizeof key, "tap%.11s_rx", port->id);
    cJSON_AddNumberToObject(c->legacy, key, 4096);
    snprintf(key, sizeof key, "tap%.11s_tx", port->id);
    cJSON_AddNumberToObject(c->legacy, key, 2048);
    cJSON *o = cJSON_CreateObject();
    mc_json_set_str(o, "mac_address", mac);
    static const char *const k[] = {"rx_octets", "rx_errors", "rx_drop", "rx_packets", "rx_rate",
                                    "tx_octets", "tx_errors", "tx_drop", "tx_packets", "tx_rate"};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        if (strstr(k[i], "rate")) cJSON_AddNullToObject(o, k[i]);
        else cJSON_AddNumberToObject(o, k[i], strstr(k[i], "octets") ? 4096 : strstr(k[i], "packets") ? 32 : 0);
    }
    cJSON_AddItemToArray(c->nics, o);
    c->n++;
}

void compute_server_diagnostics(mc_req *r) {
    mc_record *s = server_visible(r, r->params[0]);
    if (s == NULL) {
        mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
        return;
    }
    server_info si;
    const char *vm = compute_server_info(s, &si) ? si.vm_state : NULL;
    if (vm == NULL || si.host == 0 || mc_str_eq(vm, "building") || mc_str_eq(vm, "error")) {
        mc_reply_error(r, 409, NULL, "Cannot 'get_diagnostics' instance %s while it is in vm_state %s", s->id, vm ? vm : "building");
        return;
    }
    long vcpus = si.vcpus, ram = si.ram;
    nic_ctx c = {cJSON_CreateObject(), cJSON_CreateArray(), 0};
    mc_net_ports_each(r->srv, s->id, nic_each, &c);
    cJSON *root;
    if (!mv_ge(r, 48)) {
        root = c.legacy;
        for (long i = 0; i < vcpus && i < 64; i++) {
            char key[32];
            snprintf(key, sizeof key, "cpu%ld_time", i);
            cJSON_AddNumberToObject(root, key, 17300000000.0);
        }
        cJSON_AddNumberToObject(root, "memory", (double)ram * 1024);
        cJSON_AddNumberToObject(root, "memory-actual", (double)ram * 1024);
        cJSON_AddNumberToObject(root, "memory-rss", (double)ram * 512);
        cJSON_AddNumberToObject(root, "vda_errors", -1);
        cJSON_AddNumberToObject(root, "vda_read", 262144);
        cJSON_AddNumberToObject(root, "vda_read_req", 112);
        cJSON_AddNumberToObject(root, "vda_write", 5778432);
        cJSON_AddNumberToObject(root, "vda_write_req", 488);
        cJSON_Delete(c.nics);
        mc_reply_json(r, 200, root);
        return;
    }
    cJSON_Delete(c.legacy);
    root = cJSON_CreateObject();
    static const char *const states[][2] = {{"active", "running"}, {"rescued", "running"}, {"resized", "running"},
                                            {"paused", "paused"}, {"suspended", "suspended"}};
    const char *st = "shutdown";
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
        if (mc_str_eq(vm, states[i][0])) st = states[i][1];
    cJSON_AddStringToObject(root, "state", st);
    cJSON_AddStringToObject(root, "driver", "libvirt");
    cJSON_AddStringToObject(root, "hypervisor", "kvm");
    cJSON_AddStringToObject(root, "hypervisor_os", "linux");
    double launched = to_second(si.launched_at);
    cJSON_AddNumberToObject(root, "uptime", launched >= 0 ? (double)(long)(mc_now() - launched) : 0);
    cJSON_AddBoolToObject(root, "config_drive", si.config_drive);
    cJSON_AddNumberToObject(root, "num_cpus", (double)vcpus);
    cJSON_AddNumberToObject(root, "num_nics", c.n);
    cJSON_AddNumberToObject(root, "num_disks", 1);
    cJSON *mem = cJSON_AddObjectToObject(root, "memory_details");
    cJSON_AddNumberToObject(mem, "maximum", (double)ram);
    cJSON_AddNumberToObject(mem, "used", (double)ram / 2);
    cJSON *cpus = cJSON_AddArrayToObject(root, "cpu_details");
    for (long i = 0; i < vcpus && i < 64; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "id", (double)i);
        cJSON_AddNumberToObject(o, "time", 17300000000.0);
        cJSON_AddNullToObject(o, "utilisation");
        cJSON_AddItemToArray(cpus, o);
    }
    cJSON_AddItemToObject(root, "nic_details", c.nics);
    cJSON *disk = cJSON_CreateObject();
    cJSON_AddNumberToObject(disk, "read_bytes", 262144);
    cJSON_AddNumberToObject(disk, "read_requests", 112);
    cJSON_AddNumberToObject(disk, "write_bytes", 5778432);
    cJSON_AddNumberToObject(disk, "write_requests", 488);
    cJSON_AddNumberToObject(disk, "errors_count", 0);
    cJSON_AddItemToArray(cJSON_AddArrayToObject(root, "disk_details"), disk);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- server external events */

void compute_external_events(mc_req *r) {
    static const struct { const char *name; int minor; } names[] = {
        {"network-changed", 0}, {"network-vif-plugged", 0}, {"network-vif-unplugged", 0}, {"network-vif-deleted", 0},
        {"volume-extended", 51}, {"power-update", 76}, {"accelerator-request-bound", 82}, {"volume-reimaged", 93},
    };
    cJSON *events = mc_json_arr(r->body, "events");
    if (events == NULL || cJSON_GetArraySize(events) == 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute events. 'events' is a required non-empty array");
        return;
    }
    cJSON *x;
    cJSON_ArrayForEach(x, events) {
        if (mc_check_or_reply(r, x, "!name=s|server_uuid=s|status=s|tag=s255") != 0) return;
        const char *name = mc_json_str(x, "name"), *status = mc_json_str(x, "status");
        bool ok = false;
        for (size_t i = 0; name && i < sizeof names / sizeof names[0]; i++)
            ok = ok || (strcmp(name, names[i].name) == 0 && mv_ge(r, names[i].minor ? names[i].minor : 0));
        if (!ok || mc_json_str(x, "server_uuid") == NULL ||
            (status && strcmp(status, "completed") != 0 && strcmp(status, "failed") != 0 && strcmp(status, "in-progress") != 0)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute events. Value: %.64s.", name ? name : "None");
            return;
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *out = cJSON_AddArrayToObject(root, "events");
    int accepted = 0, total = 0;
    cJSON_ArrayForEach(x, events) {
        cJSON *e = cJSON_Duplicate(x, 1);
        if (!mc_json_has(e, "status")) cJSON_AddStringToObject(e, "status", "completed");
        mc_record *s = mc_store_find(&r->srv->world[MC_K_SERVER], mc_json_str(x, "server_uuid"));
        server_info si;
        bool found = s != NULL && compute_server_info(s, &si) && si.host != 0;
        cJSON_AddNumberToObject(e, "code", found ? 200 : s ? 422 : 404);
        accepted += found;
        total++;
        cJSON_AddItemToArray(out, e);
    }
    if (accepted == 0) {
        cJSON_Delete(root);
        mc_reply_error(r, 404, NULL, "No instances found for any event");
        return;
    }
    mc_reply_json(r, accepted == total ? 200 : 207, root);
}

/* ---------------------------------------------------------------- consoles */

/* A console URL for a running server: noVNC is what this cloud offers (a
 * URL of Nova's shape; nothing serves it); SPICE, RDP, serial and MKS are
 * not enabled, as on a default devstack. 0 after a reply. */
static int console_url_or_reply(mc_req *r, mc_record *s, const char *protocol, const char *type, char *url, size_t n) {
    static const char *const types[][2] = {{"vnc", "novnc"}, {"vnc", "xvpvnc"}, {"spice", "spice-html5"},
                                           {"rdp", "rdp-html5"}, {"serial", "serial"}, {"mks", "webmks"}};
    bool known = false;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        known = known || (mc_str_eq(protocol, types[i][0]) && mc_str_eq(type, types[i][1]));
    if (!known) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute type. Value: %.32s. '%.32s' is not one of the console "
                                     "types of protocol %.32s", type ? type : "None", type ? type : "None",
                       protocol ? protocol : "None");
        return -1;
    }
    if (strcmp(type, "novnc") != 0) {
        mc_reply_error(r, 400, NULL, "Unavailable console type %s.", type);
        return -1;
    }
    server_info si;
    const char *vm = compute_server_info(s, &si) ? si.vm_state : NULL;
    if (!mc_str_eq(vm, "active") && !mc_str_eq(vm, "paused") && !mc_str_eq(vm, "rescued")) {
        mc_reply_error(r, 409, NULL, "Instance %s is not ready", s->id);
        return -1;
    }
    char token[37];
    mc_uuid(r->srv, token);
    snprintf(url, n, "%s/mockcloud/novnc/vnc_auto.html?path=%%3Ftoken%%3D%s", r->srv->public_url, token);
    return 0;
}

/* The legacy actions os-getVNCConsole, os-getSPICEConsole, os-getRDPConsole
 * and os-getSerialConsole: {"console": {"type", "url"}}. */
void compute_console_action(mc_req *r, mc_record *s, const cJSON *arg) {
    const char *a = arg->string;
    const char *protocol = strcmp(a, "os-getVNCConsole") == 0 ? "vnc" : strcmp(a, "os-getSPICEConsole") == 0 ? "spice"
                           : strcmp(a, "os-getRDPConsole") == 0 ? "rdp" : "serial";
    if (!cJSON_IsObject(arg) || mc_check_or_reply(r, arg, "!type=s") != 0) {
        if (r->replied == 0) mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: not an object.", a);
        return;
    }
    char url[512];
    const char *type = mc_json_str(arg, "type");
    if (console_url_or_reply(r, s, protocol, type, url, sizeof url) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(root, "console");
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "url", url);
    mc_reply_json(r, 200, root);
}

/* POST /servers/{id}/remote-consoles (2.6) */
void compute_server_remote_console(mc_req *r) {
    if (!mv_ge(r, 6)) {
        reply_gone(r);
        return;
    }
    mc_record *s = server_visible(r, r->params[0]);
    if (s == NULL) {
        mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
        return;
    }
    cJSON *in = mc_json_obj(r->body, "remote_console");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute remote_console. 'remote_console' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "!protocol=s|type=s") != 0) return;
    char url[512];
    const char *protocol = mc_json_str(in, "protocol"), *type = mc_json_str(in, "type");
    if (console_url_or_reply(r, s, protocol, type, url, sizeof url) != 0) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *c = cJSON_AddObjectToObject(root, "remote_console");
    cJSON_AddStringToObject(c, "protocol", protocol);
    cJSON_AddStringToObject(c, "type", type);
    cJSON_AddStringToObject(c, "url", url);
    mc_reply_json(r, 200, root);
}
