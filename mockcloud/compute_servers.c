/* compute_servers.c -- Nova servers: create (with ports from the network
 * service and images from the image service), list/detail with Nova's
 * filters and marker pagination (newest first), show, update, delete, the
 * lifecycle state machine on libevent timers, the actions, addresses and
 * /ips, metadata, tags, instance actions, interfaces and security groups of
 * a server.
 *
 * A server record is compact: its 'doc' is NULL and its 'priv'
 * (server_priv) holds every field as a C member (strings allocated only
 * when set, the flavor snapshot shared between servers by reference, the
 * instance actions as an array of structs) next to the state machine:
 * vm_state, task_state, power_state and the one pending timer. The API
 * view is built at reply time. A cJSON tree of 40 fields was ~9 KB a
 * server; this is ~1 KB. mc_compute_server_doc() gives other services
 * (the metadata service) the fields in a tree of Nova's names, built on
 * demand and kept in 'doc' until the server changes. Freeing the priv frees
 * the timer, so deleting a record or clearing the store can never leave a
 * timer pointing at freed memory. Deleted servers stay in the store with
 * vm_state "deleted" (hidden except to changes-since listings and instance
 * actions), as Nova soft-deletes rows. */
#include "compute_int.h"
#include "guest.h"
#include "prof.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/evp.h>

typedef enum {
    OP_NONE = 0, OP_BUILD, OP_REBOOT, OP_STOP, OP_START, OP_PAUSE, OP_UNPAUSE, OP_SUSPEND, OP_RESUME,
    OP_REBUILD, OP_RESIZE, OP_REVERT, OP_SNAPSHOT, OP_DELETE, OP_SHELVE, OP_UNSHELVE, OP_RESCUE, OP_UNRESCUE,
    OP_LIVE, OP_EVACUATE,
} server_op;

/* A flavor as a server saw it at boot (or resize): shared by every server
 * booted from the same flavor state, freed with its last reference. */
typedef struct flv_snap {
    unsigned refs;
    long vcpus, ram, disk;    /* disk: root + ephemeral GB */
    cJSON *doc;               /* the flavor's fields, its "id" and "original_name" */
} flv_snap;

/* One instance action with its one event ("compute_<action>"). */
typedef struct srv_action {
    const char *action;       /* a string literal */
    char request_id[48];
    char user_id[40];
    char project_id[40];
    double start, updated;
    double finish;            /* < 0: the event is still running */
    bool failed;              /* the event's result: "Error" (else "Success" once finished) */
    char *message;            /* the action's message (NULL: null) */
    char *traceback;          /* the event's traceback (NULL: null) */
} srv_action;

enum { LOCKED_BY_NONE = 0, LOCKED_BY_ADMIN, LOCKED_BY_OWNER };

typedef struct server_priv {
    mc_server *srv;
    char id[40];
    struct event *timer;
    server_op op;
    char vm_state[24];
    char task_state[32];     /* "" = null */
    int power_state;
    char action_req[48];     /* instance action the pending op finishes */
    char snapshot_id[40];
    /* the record's fields (NULL strings: null, or "" where the API shows "") */
    char *name, *description, *key_name, *hostname, *user_data, *admin_pass, *locked_reason;
    char *access_v4, *access_v6, *az, *server_group, *shelved_image_id;
    char *pinned_az;         /* the zone asked for (create, 2.77/2.91 unshelve); NULL: none */
    char user_id[40];
    char image_id[40];       /* "" = booted from a volume */
    char reservation_id[16];
    flv_snap *flavor, *old_flavor;
    cJSON *metadata;         /* NULL = {} */
    cJSON *tags;             /* NULL = [] */
    cJSON *sg_names;         /* NULL = ["default"] */
    cJSON *fault;            /* NULL = none */
    double created, updated;
    double launched_at, terminated_at;   /* < 0: null */
    double booted;            /* when the guest last (re)booted: guest.c uptime */
    uint64_t num;
    int launch_index;
    bool config_drive, disk_auto, locked, resize_from_stopped;
    bool evacuate_stop;      /* an evacuation ends STOPPED (2.95, or the server was) */
    unsigned char host, old_host;   /* compute_host_name(): 0 = none; old_host: a migration's source */
    unsigned char acct_host;        /* host_sync: the host whose tally counts this server (0: none) */
    long acct_vcpus, acct_ram, acct_disk;   /* and what it counted */
    unsigned char locked_by;
    unsigned char unshelve_host;   /* 2.91 unshelve to a host: where OP_UNSHELVE lands (0: the scheduler's) */
    srv_action *acts;
    unsigned nacts, acap;
    struct srv_views *views; /* printed views, made on the first read (NULL: none) */
} server_priv;

static const char *srv_host(const server_priv *sp) { return compute_host_name(sp->host); }

static void snap_release(flv_snap *f) {
    if (f != NULL && --f->refs == 0) {
        cJSON_Delete(f->doc);
        free(f);
    }
}

static char *xdup(const char *s) {
    if (s == NULL) return NULL;
    char *d = strdup(s);
    if (d == NULL) mc_panic("out of memory");
    return d;
}

/* Replaces *dst with a copy of v (NULL allowed). */
static void set_str(char **dst, const char *v) {
    char *n = xdup(v);
    free(*dst);
    *dst = n;
}

static void views_drop(server_priv *sp, bool all);

/* Host tallies (compute_state.hosts): a server counts on its host, with
 * what its flavor takes, while it is live (in world[MC_K_SERVER], not
 * deleted) and has a host. host_sync moves the server's share to what it
 * should be now; it is idempotent and O(1), and runs on every change
 * (changed()), after every host assignment and when a record is freed, so
 * the scheduler never walks the servers (it did once per create: creates
 * were O(servers)). */
static void host_account(compute_state *st, const server_priv *sp, long sign) {
    host_tally *t = &st->hosts[sp->acct_host - 1];
    t->vms += sign;
    t->vcpus += sign * sp->acct_vcpus;
    t->ram += sign * sp->acct_ram;
    t->disk += sign * sp->acct_disk;
}

static void host_sync(server_priv *sp) {
    compute_state *st = cs(sp->srv);
    if (st == NULL) return;   /* a reset freed the state before the stores: nothing to keep */
    int h = sp->host <= COMPUTE_NHOSTS && strcmp(sp->vm_state, "deleted") != 0 ? sp->host : 0;
    const flv_snap *f = h ? sp->flavor : NULL;
    long vcpus = f ? f->vcpus : 0, ram = f ? f->ram : 0, disk = f ? f->disk : 0;
    if (h == sp->acct_host && vcpus == sp->acct_vcpus && ram == sp->acct_ram && disk == sp->acct_disk) return;
    if (sp->acct_host) host_account(st, sp, -1);
    sp->acct_host = (unsigned char)h;
    sp->acct_vcpus = vcpus;
    sp->acct_ram = ram;
    sp->acct_disk = disk;
    if (h) host_account(st, sp, 1);
}

static void server_priv_free(void *p) {
    server_priv *sp = p;
    compute_state *st = cs(sp->srv);
    if (st != NULL && sp->acct_host) host_account(st, sp, -1);
    if (sp->timer) event_free(sp->timer);
    views_drop(sp, true);
    free(sp->name);
    free(sp->description);
    free(sp->key_name);
    free(sp->hostname);
    free(sp->user_data);
    free(sp->admin_pass);
    free(sp->locked_reason);
    free(sp->access_v4);
    free(sp->access_v6);
    free(sp->az);
    free(sp->pinned_az);
    free(sp->server_group);
    free(sp->shelved_image_id);
    snap_release(sp->flavor);
    snap_release(sp->old_flavor);
    cJSON_Delete(sp->metadata);
    cJSON_Delete(sp->tags);
    cJSON_Delete(sp->sg_names);
    cJSON_Delete(sp->fault);
    for (unsigned i = 0; i < sp->nacts; i++) {
        free(sp->acts[i].message);
        free(sp->acts[i].traceback);
    }
    free(sp->acts);
    free(sp);
}

static server_priv *SP(mc_record *s) { return s->priv; }

static const char *S(const char *s) { return s ? s : ""; }

static void iso(double t, char out[32]) {
    if (t < 0) out[0] = '\0';
    else mc_time_iso(t, out);
}

/* Nova's naive database datetimes (compute.c now_naive): launched_at,
 * terminated_at, instance actions and events. */
static void naive(double t, char out[32]) {
    out[0] = '\0';
    if (t < 0) return;
    time_t sec = (time_t)t;
    struct tm tm;
    gmtime_r(&sec, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000000", &tm);
}

/* Drops what was derived from the record (its tree for other services, its
 * cached printed view): called on every change. */
static void changed(mc_record *s) {
    mc_record_touch(s);
    host_sync(s->priv);
    views_drop(s->priv, false);
    cJSON_Delete(s->doc);
    s->doc = NULL;
}

/* The security group names (a malloc'd array the caller frees; *n set). */
static const char **sg_list(const server_priv *sp, int *n) {
    int cap = sp->sg_names ? cJSON_GetArraySize(sp->sg_names) : 1;
    const char **out = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *out);
    if (out == NULL) mc_panic("out of memory");
    *n = 0;
    if (sp->sg_names == NULL) {
        out[(*n)++] = "default";
        return out;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, sp->sg_names) if (*n < cap && cJSON_IsString(x)) out[(*n)++] = x->valuestring;
    return out;
}

static cJSON *sg_array(server_priv *sp) {
    if (sp->sg_names == NULL) {
        sp->sg_names = cJSON_CreateArray();
        cJSON_AddItemToArray(sp->sg_names, cJSON_CreateString("default"));
    }
    return sp->sg_names;
}

static cJSON *meta_obj(server_priv *sp) {
    if (sp->metadata == NULL) sp->metadata = cJSON_CreateObject();
    return sp->metadata;
}

static cJSON *tags_arr(server_priv *sp) {
    if (sp->tags == NULL) sp->tags = cJSON_CreateArray();
    return sp->tags;
}

/* ---------------------------------------------------------------- state machine */

const char *mc_compute_status(const char *vm, const char *task) {
    const char *t = task ? task : "";
    if (strcmp(vm, "active") == 0) {
        if (strcmp(t, "rebooting") == 0 || strcmp(t, "reboot_pending") == 0 || strcmp(t, "reboot_started") == 0) return "REBOOT";
        if (strncmp(t, "rebooting_hard", 14) == 0 || strcmp(t, "reboot_pending_hard") == 0 ||
            strcmp(t, "reboot_started_hard") == 0)
            return "HARD_REBOOT";
        if (strncmp(t, "rebuild", 7) == 0) return "REBUILD";
        if (strncmp(t, "resize_", 7) == 0 && strcmp(t, "resize_reverting") != 0) return "RESIZE";
        if (strcmp(t, "migrating") == 0) return "MIGRATING";
        if (strcmp(t, "updating_password") == 0) return "PASSWORD";
        return "ACTIVE";
    }
    if (strcmp(vm, "building") == 0) return "BUILD";
    if (strcmp(vm, "stopped") == 0) {
        if (strncmp(t, "resize_", 7) == 0 && strcmp(t, "resize_reverting") != 0) return "RESIZE";
        if (strncmp(t, "rebuild", 7) == 0) return "REBUILD";
        return "SHUTOFF";
    }
    if (strcmp(vm, "resized") == 0) return strcmp(t, "resize_reverting") == 0 ? "REVERT_RESIZE" : "VERIFY_RESIZE";
    if (strcmp(vm, "paused") == 0) return strcmp(t, "migrating") == 0 ? "MIGRATING" : "PAUSED";
    if (strcmp(vm, "suspended") == 0) return "SUSPENDED";
    if (strcmp(vm, "rescued") == 0) return "RESCUE";
    if (strcmp(vm, "error") == 0) return "ERROR";
    if (strcmp(vm, "deleted") == 0) return "DELETED";
    if (strcmp(vm, "soft-delete") == 0) return "SOFT_DELETED";
    if (strcmp(vm, "shelved") == 0) return "SHELVED";
    if (strcmp(vm, "shelved_offloaded") == 0) return "SHELVED_OFFLOADED";
    return "UNKNOWN";
}

static const char *server_status(mc_record *s) { return mc_compute_status(SP(s)->vm_state, SP(s)->task_state); }

static const char *s_image(const server_priv *sp) { return sp->image_id; }

static const char *flavor_id(const server_priv *sp) { return mc_json_str(sp->flavor->doc, "id"); }

static bool server_deleted(mc_record *s) { return strcmp(SP(s)->vm_state, "deleted") == 0; }

double mc_compute_server_booted(const mc_record *server) {
    if (server == NULL || server->priv == NULL || server->priv_free != server_priv_free) return 0;
    return ((const server_priv *)server->priv)->booted;
}

const char *mc_compute_server_status(const mc_record *server) {
    if (server == NULL || server->priv == NULL || server->priv_free != server_priv_free) return NULL;
    const server_priv *sp = server->priv;
    return mc_compute_status(sp->vm_state, sp->task_state);
}

/* For os-volume_attachments (compute_volumes.c): the server's vm_state and
 * task_state ("" = none). */
void server_states(mc_record *s, const char **vm, const char **task) {
    *vm = SP(s)->vm_state;
    *task = SP(s)->task_state;
}

void mc_compute_server_volumes_changed(mc_server *srv, const char *server_id) {
    mc_record *s = mc_store_find(&srv->world[MC_K_SERVER], server_id);
    if (s != NULL && s->priv_free == server_priv_free) changed(s);
}

static void touch(mc_record *s) {
    SP(s)->updated = mc_now();
    changed(s);
}

static void set_state(mc_record *s, const char *vm, const char *task, int power) {
    server_priv *sp = SP(s);
    if (vm) mc_strlcpy(sp->vm_state, vm, sizeof sp->vm_state);
    mc_strlcpy(sp->task_state, task ? task : "", sizeof sp->task_state);
    if (power >= 0) sp->power_state = power;
    touch(s);
}

/* The record in the tree shape other services read (Nova's field names, as
 * the record held them when it was a tree); built on demand, kept in
 * rec->doc until the next change. */
const cJSON *mc_compute_server_doc(mc_record *s) {
    if (s == NULL || s->priv == NULL || s->priv_free != server_priv_free) return s ? s->doc : NULL;
    if (s->doc != NULL) return s->doc;
    server_priv *sp = SP(s);
    char ts[32];
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "name", S(sp->name));
    mc_json_set_str(d, "description", sp->description);
    cJSON_AddStringToObject(d, "user_id", sp->user_id);
    if (sp->image_id[0]) cJSON_AddStringToObject(cJSON_AddObjectToObject(d, "image"), "id", sp->image_id);
    else cJSON_AddStringToObject(d, "image", "");
    cJSON_AddStringToObject(d, "tenant_id", s->project_id);
    cJSON_AddStringToObject(d, "status", server_status(s));
    cJSON_AddItemToObject(d, "flavor", cJSON_Duplicate(sp->flavor->doc, 1));
    cJSON_AddItemToObject(d, "metadata", sp->metadata ? cJSON_Duplicate(sp->metadata, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(d, "tags", sp->tags ? cJSON_Duplicate(sp->tags, 1) : cJSON_CreateArray());
    mc_json_set_str(d, "key_name", sp->key_name);
    iso(sp->created, ts);
    cJSON_AddStringToObject(d, "created", ts);
    iso(sp->updated, ts);
    cJSON_AddStringToObject(d, "updated", ts);
    cJSON_AddNumberToObject(d, "updated_ts", sp->updated);
    cJSON_AddStringToObject(d, "accessIPv4", S(sp->access_v4));
    cJSON_AddStringToObject(d, "accessIPv6", S(sp->access_v6));
    cJSON_AddStringToObject(d, "config_drive", sp->config_drive ? "True" : "");
    cJSON_AddStringToObject(d, "disk_config", sp->disk_auto ? "AUTO" : "MANUAL");
    cJSON_AddStringToObject(d, "availability_zone", S(sp->az));
    int nsg;
    const char **sgs = sg_list(sp, &nsg);
    cJSON *names = cJSON_AddArrayToObject(d, "sg_names");
    cJSON *groups = cJSON_AddArrayToObject(d, "security_groups");
    for (int i = 0; i < nsg; i++) {
        cJSON_AddItemToArray(names, cJSON_CreateString(sgs[i]));
        cJSON *g = cJSON_CreateObject();
        cJSON_AddStringToObject(g, "name", sgs[i]);
        cJSON_AddItemToArray(groups, g);
    }
    free(sgs);
    mc_json_set_str(d, "host", srv_host(sp));
    cJSON_AddStringToObject(d, "reservation_id", sp->reservation_id);
    cJSON_AddNumberToObject(d, "launch_index", sp->launch_index);
    cJSON_AddStringToObject(d, "hostname", S(sp->hostname));
    mc_json_set_str(d, "user_data", sp->user_data);
    cJSON_AddBoolToObject(d, "locked", sp->locked);
    mc_json_set_str(d, "locked_reason", sp->locked_reason);
    naive(sp->launched_at, ts);
    mc_json_set_str(d, "launched_at", sp->launched_at >= 0 ? ts : NULL);
    naive(sp->terminated_at, ts);
    mc_json_set_str(d, "terminated_at", sp->terminated_at >= 0 ? ts : NULL);
    cJSON_AddStringToObject(d, "admin_pass", S(sp->admin_pass));
    cJSON_AddNumberToObject(d, "num", (double)sp->num);
    if (sp->server_group) cJSON_AddStringToObject(d, "server_group", sp->server_group);
    if (sp->fault) cJSON_AddItemToObject(d, "fault", cJSON_Duplicate(sp->fault, 1));
    cJSON_AddStringToObject(d, "OS-EXT-STS:vm_state", sp->vm_state);
    s->doc = d;
    return d;
}

const host_tally *compute_host_tally(mc_server *srv, int h) {
    static const host_tally none;
    return h >= 1 && h <= COMPUTE_NHOSTS && cs(srv) != NULL ? &cs(srv)->hosts[h - 1] : &none;
}

bool compute_server_info(mc_record *s, server_info *out) {
    if (s == NULL || s->priv == NULL || s->priv_free != server_priv_free) return false;
    const server_priv *sp = SP(s);
    const cJSON *fd = sp->flavor ? sp->flavor->doc : NULL;
    const char *fname = mc_json_str(fd, "original_name");
    out->name = S(sp->name);
    out->vm_state = sp->vm_state;
    out->flavor_name = fname ? fname : mc_json_str(fd, "name") ? mc_json_str(fd, "name") : "";
    out->host = sp->host <= COMPUTE_NHOSTS ? sp->host : 0;
    out->vcpus = sp->flavor ? sp->flavor->vcpus : 0;
    out->ram = sp->flavor ? sp->flavor->ram : 0;
    out->disk = sp->flavor ? sp->flavor->disk : 0;
    out->created = sp->created;
    out->launched_at = sp->launched_at;
    out->terminated_at = sp->terminated_at;
    out->deleted = server_deleted(s);
    out->config_drive = sp->config_drive;
    return true;
}

/* The tallies from scratch, walking every live server (for tests). */
void compute_host_recount(mc_server *srv, host_tally out[COMPUTE_NHOSTS]) {
    memset(out, 0, COMPUTE_NHOSTS * sizeof *out);
    for (mc_record *s = mc_store_first(&srv->world[MC_K_SERVER]); s; s = mc_store_next(s)) {
        server_info i;
        if (!compute_server_info(s, &i) || i.host == 0 || i.deleted) continue;
        out[i.host - 1].vms++;
        out[i.host - 1].vcpus += i.vcpus;
        out[i.host - 1].ram += i.ram;
        out[i.host - 1].disk += i.disk;
    }
}

/* ---------------------------------------------------------------- instance actions */

static void action_add(mc_req *r, mc_record *s, const char *action) {
    server_priv *sp = SP(s);
    if (sp->nacts == sp->acap) {
        unsigned cap = sp->acap ? sp->acap * 2 : 2;
        srv_action *a = realloc(sp->acts, cap * sizeof *a);
        if (a == NULL) mc_panic("out of memory");
        sp->acts = a;
        sp->acap = cap;
    }
    srv_action *a = &sp->acts[sp->nacts++];
    memset(a, 0, sizeof *a);
    a->action = action;
    mc_strlcpy(a->request_id, r->req_id, sizeof a->request_id);
    mc_strlcpy(a->user_id, req_user(r), sizeof a->user_id);
    mc_strlcpy(a->project_id, req_project(r), sizeof a->project_id);
    a->start = a->updated = mc_now();
    a->finish = -1;
}

static srv_action *action_find(mc_record *s, const char *req_id) {
    server_priv *sp = SP(s);
    if (req_id == NULL) return NULL;
    for (unsigned i = 0; i < sp->nacts; i++)
        if (strcmp(sp->acts[i].request_id, req_id) == 0) return &sp->acts[i];
    return NULL;
}

static void action_finish(mc_record *s, const char *req_id, bool ok, const char *message) {
    srv_action *a = action_find(s, req_id);
    if (a == NULL) return;
    double now = mc_now();
    a->updated = now;
    if (!ok) set_str(&a->message, message ? message : "Error");
    if (a->finish < 0) {
        a->finish = now;
        a->failed = !ok;
        if (!ok) set_str(&a->traceback, message);
    }
}

/* Records an action that completes at once (lock, confirmResize...). */
static void action_instant(mc_req *r, mc_record *s, const char *action) {
    action_add(r, s, action);
    action_finish(s, r->req_id, true, NULL);
}

/* ---------------------------------------------------------------- timers */

static void server_complete(server_priv *sp);

static void timer_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    MC_PROF_SCOPE(0, "timer: server transition");
    server_complete(arg);
}

/* Schedules the pending transition 'op' in 'ms' (one timer per server). */
static void schedule(mc_record *s, server_op op, long long ms, const char *req_id) {
    server_priv *sp = SP(s);
    if (sp->timer == NULL) sp->timer = evtimer_new(sp->srv->base, timer_cb, sp);
    else evtimer_del(sp->timer);
    sp->op = op;
    mc_strlcpy(sp->action_req, req_id ? req_id : "", sizeof sp->action_req);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000)};
    evtimer_add(sp->timer, &tv);
}

static void cancel(mc_record *s) {
    server_priv *sp = SP(s);
    if (sp->timer != NULL) evtimer_del(sp->timer);
    sp->op = OP_NONE;
}

void servers_cancel_timers(mc_server *srv) {
    for (mc_record *s = mc_store_first(&srv->world[MC_K_SERVER]); s; s = mc_store_next(s)) {
        server_priv *sp = SP(s);
        if (sp && sp->timer) {
            event_free(sp->timer);
            sp->timer = NULL;
            sp->op = OP_NONE;
        }
    }
}

static void set_launched(mc_record *s) { SP(s)->launched_at = mc_now(); }

/* Deleted servers are Nova's soft-deleted rows: changes-since and
 * status=DELETED listings show them, their instance actions stay readable.
 * They leave the live store (world[MC_K_SERVER], which lists, lookups and
 * quota walk) for compute_state.deleted, in deletion order, keeping their
 * creation seq for the newest-first merge of listings that include them.
 * Only the newest DELETED_KEEP are kept: each deletion past that purges the
 * oldest, as Nova's archive_deleted_rows would, so a create/delete workload
 * stays bounded. One at a time: purging 1,000 at once (as it did at twice
 * the count) cost ~1 ms of CPU in one timer callback, which every request
 * waiting on the loop then waited for (README "Performance"). */
#define DELETED_KEEP 1000

static void store_move(mc_store *from, mc_store *to, mc_record *rec) {
    HASH_DEL(from->head, rec);
    from->count--;
    HASH_ADD_STR(to->head, id, rec);
    to->count++;
}

static mc_store *deleted_store(mc_server *srv) { return &cs(srv)->deleted; }

static void purge_deleted(mc_server *srv) {
    mc_store *d = deleted_store(srv);
    while (d->count > DELETED_KEEP) mc_store_delete(d, mc_store_first(d));
}

static void server_finish_delete(mc_server *srv, mc_record *s) {
    mc_net_ports_release(srv, s->id);
    mc_volume_server_gone(srv, s->id);   /* volattach.h: detached, or deleted (delete_on_termination) */
    /* leave server groups */
    for (mc_record *g = mc_store_first(&srv->world[MC_K_SERVER_GROUP]); g; g = mc_store_next(g)) {
        cJSON *m = mc_json_arr(g->doc, "members");
        int i = 0;
        cJSON *x;
        cJSON_ArrayForEach(x, m) {
            if (mc_str_eq(x->valuestring, s->id)) {
                cJSON_DeleteItemFromArray(m, i);
                break;
            }
            i++;
        }
    }
    SP(s)->terminated_at = mc_now();
    set_state(s, "deleted", NULL, 0);
    store_move(&srv->world[MC_K_SERVER], deleted_store(srv), s);
    purge_deleted(srv);
}

static void server_complete(server_priv *sp) {
    mc_server *srv = sp->srv;
    mc_record *s = mc_store_find(&srv->world[MC_K_SERVER], sp->id);
    if (s == NULL) return;
    server_op op = sp->op;
    sp->op = OP_NONE;
    /* the operations after which the guest has just booted (its uptime restarts) */
    if (op == OP_BUILD || op == OP_REBOOT || op == OP_START || op == OP_UNRESCUE || op == OP_RESCUE ||
        op == OP_REBUILD || op == OP_RESIZE || op == OP_REVERT || op == OP_UNSHELVE || op == OP_EVACUATE)
        sp->booted = mc_now();
    char req[48];
    mc_strlcpy(req, sp->action_req, sizeof req);
    changed(s);
    switch (op) {
    case OP_NONE:
        return;
    case OP_BUILD: {
        long long pct = mc_knob_srv(srv, MC_KNOB_COMPUTE_BUILD_FAIL_PERCENT);
        if (sp->host == 0 || (pct > 0 && (long long)(mc_rand_u64(srv) % 100) < pct)) {
            char ts[32];
            now_iso(ts);
            cJSON *f = cJSON_CreateObject();
            cJSON_AddNumberToObject(f, "code", 500);
            cJSON_AddStringToObject(f, "created", ts);
            cJSON_AddStringToObject(f, "message", "No valid host was found. There are not enough hosts available.");
            cJSON_AddStringToObject(f, "details", "Traceback: NoValidHost raised by the scheduler (mockcloud profile).");
            cJSON_Delete(sp->fault);
            sp->fault = f;
            set_state(s, "error", NULL, 0);
            sp->host = 0;
            host_sync(sp);
            mc_net_ports_set_status(srv, s->id, "DOWN");
            action_finish(s, req, false, "No valid host was found. ");
            return;
        }
        set_state(s, "active", NULL, 1);
        set_launched(s);
        mc_net_ports_set_status(srv, s->id, "ACTIVE");
        break;
    }
    case OP_REBOOT:
    case OP_START:
    case OP_UNPAUSE:
    case OP_RESUME:
    case OP_UNRESCUE:
        set_state(s, "active", NULL, 1);
        mc_net_ports_set_status(srv, s->id, "ACTIVE");
        break;
    case OP_STOP:
        set_state(s, "stopped", NULL, 4);
        mc_net_ports_set_status(srv, s->id, "DOWN");
        break;
    case OP_PAUSE:
        set_state(s, "paused", NULL, 3);
        break;
    case OP_SUSPEND:
        set_state(s, "suspended", NULL, 7);
        break;
    case OP_RESCUE:
        set_state(s, "rescued", NULL, 1);
        break;
    case OP_REBUILD:
        set_state(s, strcmp(sp->vm_state, "stopped") == 0 ? "stopped" : "active", NULL,
                  strcmp(sp->vm_state, "stopped") == 0 ? 4 : 1);
        set_launched(s);
        break;
    case OP_RESIZE:
        set_state(s, "resized", NULL, -1);
        compute_migration_status(srv, s->id, "finished");
        break;
    case OP_REVERT: {
        if (sp->old_flavor != NULL) {
            snap_release(sp->flavor);
            sp->flavor = sp->old_flavor;
            sp->old_flavor = NULL;
        }
        if (sp->old_host) sp->host = sp->old_host;
        host_sync(sp);
        set_state(s, sp->resize_from_stopped ? "stopped" : "active", NULL, sp->resize_from_stopped ? 4 : 1);
        sp->resize_from_stopped = false;
        compute_migration_status(srv, s->id, "reverted");
        break;
    }
    case OP_SNAPSHOT: {
        mc_record *img = mc_image_find(srv, sp->snapshot_id, s->project_id);
        if (img != NULL) mc_image_set_status(srv, img, "active");
        sp->snapshot_id[0] = '\0';
        set_state(s, NULL, NULL, -1);
        break;
    }
    case OP_SHELVE:
        set_state(s, "shelved_offloaded", NULL, 4);
        sp->host = 0;
        host_sync(sp);
        break;
    case OP_UNSHELVE: {
        set_state(s, "active", NULL, 1);
        /* 2.91's host, else the scheduler within the pinned zone */
        sp->host = sp->unshelve_host ? sp->unshelve_host : (unsigned char)compute_host_pick(srv, sp->pinned_az, 0, 0);
        sp->unshelve_host = 0;
        if (sp->host == 0) sp->host = 1;
        host_sync(sp);
        set_str(&sp->az, compute_host_zone(srv, sp->host));
        const char *shid = sp->shelved_image_id;
        mc_record *img = shid ? mc_image_find(srv, shid, s->project_id) : NULL;
        if (img != NULL) mc_image_delete(srv, img);
        set_str(&sp->shelved_image_id, NULL);
        break;
    }
    case OP_DELETE:
        server_finish_delete(srv, s);
        break;
    case OP_LIVE:
        set_state(s, NULL, NULL, -1);
        compute_migration_status(srv, s->id, "completed");
        break;
    case OP_EVACUATE:
        set_state(s, sp->evacuate_stop ? "stopped" : "active", NULL, sp->evacuate_stop ? 4 : 1);
        set_str(&sp->az, compute_host_zone(srv, sp->host));
        sp->evacuate_stop = false;
        compute_migration_status(srv, s->id, "done");
        break;
    }
    action_finish(s, req, true, NULL);
    mc_guest_sync(srv);   /* guest.h: the guest answers SSH once it is up (timers run this too) */
}

/* ---------------------------------------------------------------- lookups and usage */

static bool server_owned(const mc_req *r, mc_record *s) {
    return is_admin(r) || strcmp(s->project_id, req_project(r)) == 0;
}

mc_record *server_visible(mc_req *r, const char *id) {
    mc_record *s = mc_store_find(&r->srv->world[MC_K_SERVER], id);
    if (s == NULL || server_deleted(s) || !server_owned(r, s)) return NULL;
    return s;
}

/* The server of the path; a request that may change it drops what was
 * derived from it first. */
static mc_record *server_or_reply(mc_req *r) {
    mc_record *s = server_visible(r, r->params[0]);
    if (s == NULL) mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
    else if (r->method != EVHTTP_REQ_GET) changed(s);
    return s;
}

void project_usage(mc_server *srv, const char *project, usage *u) {
    memset(u, 0, sizeof *u);
    for (mc_record *s = mc_store_first(&srv->world[MC_K_SERVER]); s; s = mc_store_next(s)) {
        if (server_deleted(s) || strcmp(s->project_id, project) != 0) continue;
        u->instances++;
        u->cores += SP(s)->flavor->vcpus;
        u->ram += SP(s)->flavor->ram;
    }
    for (mc_record *g = mc_store_first(&srv->world[MC_K_SERVER_GROUP]); g; g = mc_store_next(g))
        if (strcmp(g->project_id, project) == 0) u->server_groups++;
}
/* ---------------------------------------------------------------- views */

typedef struct addr_ctx {
    mc_server *srv;
    mc_record *s;
    cJSON *addresses;
    bool ext;               /* OS-EXT-IPS fields */
    const char *only_net;   /* /ips/{network} */
} addr_ctx;

static void addr_add(addr_ctx *c, const char *net, const char *ip, const char *type, const char *mac) {
    if (c->only_net && strcmp(c->only_net, net) != 0) return;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(c->addresses, net);
    if (arr == NULL) arr = cJSON_AddArrayToObject(c->addresses, net);
    cJSON *a = cJSON_CreateObject();
    cJSON_AddNumberToObject(a, "version", strchr(ip, ':') ? 6 : 4);
    cJSON_AddStringToObject(a, "addr", ip);
    if (c->ext) {
        cJSON_AddStringToObject(a, "OS-EXT-IPS:type", type);
        if (mac) cJSON_AddStringToObject(a, "OS-EXT-IPS-MAC:mac_addr", mac);
    }
    cJSON_AddItemToArray(arr, a);
}

typedef struct fip_ctx {
    addr_ctx *c;
    const char *net, *mac;
} fip_ctx;

static void fip_each(mc_record *fip, void *arg) {
    fip_ctx *f = arg;
    const char *ip = mc_json_str(fip->doc, "floating_ip_address");
    /* HOOK: nova-network era keys, floating addresses under "public". */
    const char *key = mc_knob_srv(f->c->srv, MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE) ? "public" : f->net;
    if (ip) addr_add(f->c, key, ip, "floating", f->mac);
}

static void port_each(mc_record *port, void *arg) {
    addr_ctx *c = arg;
    const char *net_id = mc_json_str(port->doc, "network_id");
    mc_record *net = net_id ? mc_net_network_find(c->srv, net_id, c->s->project_id) : NULL;
    if (net == NULL && net_id) net = mc_store_find(&c->srv->world[MC_K_NETWORK], net_id);
    const char *name = net ? mc_json_str(net->doc, "name") : net_id;
    if (name == NULL) return;
    /* HOOK: addresses keyed "public"/"private" instead of by network name. */
    if (mc_knob_srv(c->srv, MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE) && mc_knob_cur(c->srv, MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE))
        name = net != NULL && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(net->doc, "router:external")) ? "public"
                                                                                                        : "private";
    const char *mac = mc_json_str(port->doc, "mac_address");
    cJSON *ip;
    cJSON_ArrayForEach(ip, mc_json_arr(port->doc, "fixed_ips")) {
        const char *a = mc_json_str(ip, "ip_address");
        if (a) addr_add(c, name, a, "fixed", mac);
    }
    fip_ctx f = {c, name, mac};
    mc_net_floatingips_each(c->srv, port->id, fip_each, &f);
}

static cJSON *server_addresses(mc_server *srv, mc_record *s, bool ext, const char *only_net) {
    addr_ctx c = {srv, s, cJSON_CreateObject(), ext, only_net};
    if (!server_deleted(s)) mc_net_ports_read(srv, s->id, port_each, &c);
    return c.addresses;
}

static void host_id(const char *project, const char *host, char out[57]) {
    /* A list page asks for the same (project, host) once per server: the
     * last digest is kept (a pure function of its input). */
    static char last_in[256], last_out[57];
    out[0] = '\0';
    if (host == NULL || host[0] == '\0') return;
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", project, host);
    if (last_in[0] != '\0' && strcmp(buf, last_in) == 0) {
        memcpy(out, last_out, sizeof last_out);
        return;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_Digest(buf, strlen(buf), md, &n, EVP_sha224(), NULL);
    mc_hex(md, n, out);
    memcpy(last_in, buf, sizeof last_in);
    memcpy(last_out, out, sizeof last_out);
}

enum { V_BASIC = 0, V_DETAIL = 1, V_SHOW = 2 };

static cJSON *flavor_embedded(mc_req *r, const cJSON *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "vcpus", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "vcpus")));
    cJSON_AddNumberToObject(o, "ram", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "ram")));
    cJSON_AddNumberToObject(o, "disk", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "disk")));
    cJSON_AddNumberToObject(o, "ephemeral", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "ephemeral")));
    cJSON_AddNumberToObject(o, "swap", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "swap")));
    cJSON_AddStringToObject(o, "original_name", mc_json_str(f, "name"));
    (void)r;
    cJSON *es = mc_json_obj(f, "extra_specs");
    cJSON_AddItemToObject(o, "extra_specs", es ? cJSON_Duplicate(es, 1) : cJSON_CreateObject());
    return o;
}

/* The API view of a server. With 'addr_mark' the "addresses" member is a
 * raw "\x01" byte (which printed JSON never holds otherwise: cJSON escapes
 * control characters) for server_view_append to replace. */
static cJSON *server_view_ex(mc_req *r, mc_record *s, int mode, bool addr_mark) {
    server_priv *sp = SP(s);
    bool admin = is_admin(r);
    bool full = mode != V_BASIC;
    const char *status = server_status(s);
    char ts[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "name", S(sp->name));
    cJSON_AddStringToObject(o, "status", status);
    cJSON_AddStringToObject(o, "tenant_id", s->project_id);
    cJSON_AddStringToObject(o, "user_id", sp->user_id);
    cJSON_AddItemToObject(o, "metadata", sp->metadata ? cJSON_Duplicate(sp->metadata, 1) : cJSON_CreateObject());
    char hid[57];
    host_id(s->project_id, srv_host(sp), hid);
    cJSON_AddStringToObject(o, "hostId", hid);
    const char *image = s_image(sp);
    if (image[0] == '\0') {
        cJSON_AddStringToObject(o, "image", "");
    } else {
        cJSON *im = cJSON_AddObjectToObject(o, "image");
        cJSON_AddStringToObject(im, "id", image);
        cJSON_AddItemToObject(im, "links", bookmark_links(r, "images", image));
    }
    const cJSON *fl = sp->flavor->doc;
    if (mv_ge(r, 47)) {
        cJSON_AddItemToObject(o, "flavor", flavor_embedded(r, fl));
    } else {
        cJSON *f = cJSON_AddObjectToObject(o, "flavor");
        cJSON_AddStringToObject(f, "id", mc_json_str(fl, "id"));
        cJSON_AddItemToObject(f, "links", bookmark_links(r, "flavors", mc_json_str(fl, "id")));
    }
    iso(sp->created, ts);
    cJSON_AddStringToObject(o, "created", ts);
    iso(sp->updated, ts);
    cJSON_AddStringToObject(o, "updated", ts);
    cJSON_AddItemToObject(o, "addresses", addr_mark ? cJSON_CreateRaw("\x01") : server_addresses(r->srv, s, full, NULL));
    cJSON_AddStringToObject(o, "accessIPv4", S(sp->access_v4));
    cJSON_AddStringToObject(o, "accessIPv6", S(sp->access_v6));
    cJSON_AddItemToObject(o, "links", nova_links(r, "servers", s->id));
    cJSON_AddStringToObject(o, "OS-DCF:diskConfig", sp->disk_auto ? "AUTO" : "MANUAL");
    static const char *const progress_states[] = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING", NULL};
    for (int i = 0; progress_states[i]; i++)
        if (strcmp(status, progress_states[i]) == 0) {
            cJSON_AddNumberToObject(o, "progress", strcmp(status, "ACTIVE") == 0 ? 100 : 0);
            break;
        }
    const cJSON *fault = sp->fault;
    if (fault && (strcmp(status, "ERROR") == 0 || strcmp(status, "DELETED") == 0)) {
        cJSON *fo = cJSON_Duplicate(fault, 1);
        if (!admin) cJSON_DeleteItemFromObjectCaseSensitive(fo, "details");
        cJSON_AddItemToObject(o, "fault", fo);
    }
    if (full) {
        cJSON_AddStringToObject(o, "OS-EXT-AZ:availability_zone", S(sp->az));
        if (mv_ge(r, 96)) mc_json_set_str(o, "pinned_availability_zone", sp->pinned_az);
        cJSON_AddStringToObject(o, "config_drive", sp->config_drive ? "True" : "");
        mc_json_set_str(o, "key_name", sp->key_name);
        naive(sp->launched_at, ts);
        mc_json_set_str(o, "OS-SRV-USG:launched_at", sp->launched_at >= 0 ? ts : NULL);
        naive(sp->terminated_at, ts);
        mc_json_set_str(o, "OS-SRV-USG:terminated_at", sp->terminated_at >= 0 ? ts : NULL);
        int nsg;
        const char **sgs = sg_list(sp, &nsg);
        if (nsg > 0 && !server_deleted(s)) {
            cJSON *a = cJSON_AddArrayToObject(o, "security_groups");
            for (int i = 0; i < nsg; i++) {
                cJSON *g = cJSON_CreateObject();
                cJSON_AddStringToObject(g, "name", sgs[i]);
                cJSON_AddItemToArray(a, g);
            }
        }
        free(sgs);
        mc_json_set_str(o, "OS-EXT-STS:task_state", sp->task_state[0] ? sp->task_state : NULL);
        cJSON_AddStringToObject(o, "OS-EXT-STS:vm_state", sp->vm_state);
        cJSON_AddNumberToObject(o, "OS-EXT-STS:power_state", sp->power_state);
        cJSON_AddItemToObject(o, "os-extended-volumes:volumes_attached", compute_volumes_attached(r, s));
        const char *host = srv_host(sp);
        if (admin) {
            char iname[32];
            snprintf(iname, sizeof iname, "instance-%08lx", (unsigned long)sp->num);
            mc_json_set_str(o, "OS-EXT-SRV-ATTR:host", host);
            cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:instance_name", iname);
            mc_json_set_str(o, "OS-EXT-SRV-ATTR:hypervisor_hostname", host);
            if (mv_ge(r, 3)) {
                cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:reservation_id", sp->reservation_id);
                cJSON_AddNumberToObject(o, "OS-EXT-SRV-ATTR:launch_index", sp->launch_index);
                cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:kernel_id", "");
                cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:ramdisk_id", "");
                cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:root_device_name", "/dev/vda");
                mc_json_set_str(o, "OS-EXT-SRV-ATTR:user_data", sp->user_data);
            }
            if (mv_ge(r, 16)) cJSON_AddStringToObject(o, "host_status", compute_host_status(r->srv, sp->host));
        }
        if ((admin && mv_ge(r, 3)) || mv_ge(r, 90))
            cJSON_AddStringToObject(o, "OS-EXT-SRV-ATTR:hostname", S(sp->hostname));
    }
    if (mv_ge(r, 9)) cJSON_AddBoolToObject(o, "locked", sp->locked);
    if (mv_ge(r, 19)) mc_json_set_str(o, "description", sp->description);
    if (mv_ge(r, 26)) cJSON_AddItemToObject(o, "tags", sp->tags ? cJSON_Duplicate(sp->tags, 1) : cJSON_CreateArray());
    if (mv_ge(r, 63)) cJSON_AddNullToObject(o, "trusted_image_certificates");
    if (mv_ge(r, 71) && mode != V_DETAIL) {
        cJSON *g = cJSON_AddArrayToObject(o, "server_groups");
        if (sp->server_group) cJSON_AddItemToArray(g, cJSON_CreateString(sp->server_group));
    }
    if (mv_ge(r, 73) && full) mc_json_set_str(o, "locked_reason", sp->locked_reason);
    return o;
}

static cJSON *server_view(mc_req *r, mc_record *s, int mode) { return server_view_ex(r, s, mode, false); }

/* ---------------------------------------------------------------- printed views */

/* The replies that show servers (a detail page, a show, the plain list)
 * splice each server's printed view instead of building, printing and
 * freeing ~45 nodes a server. A server keeps up to VIEW_SLOTS views, one
 * per key (the public URL, the mode, the admin flag and the microversion's
 * position among the boundaries server_view_ex tests), so admin and member
 * pages, or a show beside a list, do not evict each other. A detail or show
 * view holds everything but the addresses, which come from the network
 * service and fill the view's "\x01" mark: printed once and kept while the
 * network generation (netapi.h mc_net_generation: every port, fixed IP,
 * floating IP and network change moves it) stays the same. Every change to
 * a server drops its views and addresses (changed()). Not used while a
 * profile rewrites bodies (the rules work on the tree); the addresses are
 * printed per reply while the public/private address knob is set (it names
 * its deviation in the reply). */
enum { VIEW_SLOTS = 4, V_LIST = 3 };

typedef struct view_slot {
    uint64_t key;           /* 0: empty */
    char *text;
    size_t len;
    size_t mark;            /* the offset of the "\x01" mark; len when none */
} view_slot;

typedef struct srv_views {
    view_slot v[VIEW_SLOTS];
    unsigned next;          /* the slot a miss replaces when none is empty */
    uint64_t addr_gen;      /* mc_net_generation() when addr was printed; 0: none */
    char *addr;             /* the printed "addresses" (NULL: "{}") */
    size_t addr_len;
} srv_views;

/* Frees the printed texts ('all': their holder too). */
static void views_drop(server_priv *sp, bool all) {
    srv_views *v = sp != NULL ? sp->views : NULL;
    if (v == NULL) return;
    for (int i = 0; i < VIEW_SLOTS; i++) {
        cJSON_free(v->v[i].text);
        v->v[i].text = NULL;
        v->v[i].key = 0;
    }
    cJSON_free(v->addr);
    v->addr = NULL;
    v->addr_gen = 0;
    if (all) {
        free(v);
        sp->views = NULL;
    }
}

static uint64_t view_key(mc_req *r, int mode) {
    static const int bounds[] = {3, 9, 16, 19, 26, 47, 63, 71, 73, 90, 96};
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a of the public URL */
    for (const char *p = r->srv->public_url; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h & ~0xfffULL) | 0x800 | (uint64_t)mode << 1;
    if (mode == V_LIST) return h;           /* id, name and links only */
    uint64_t bucket = 0;
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) bucket += mv_ge(r, bounds[i]);
    if (!is_admin(r)) return h | bucket << 4;
    /* an admin's host_status (2.16) follows the compute services */
    uint64_t sig = mv_ge(r, 16) ? compute_host_status_sig(r->srv) : 0;
    return (h ^ sig << 12) | bucket << 4 | 1;
}

/* An entry of the plain list. */
static cJSON *list_item(mc_req *r, mc_record *s) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", s->id);
    cJSON_AddStringToObject(o, "name", S(SP(s)->name));
    cJSON_AddItemToObject(o, "links", nova_links(r, "servers", s->id));
    return o;
}

/* The view of 's' under 'key', printed on a miss. */
static const view_slot *view_get(mc_req *r, mc_record *s, int mode, uint64_t key) {
    server_priv *sp = SP(s);
    srv_views *v = sp->views;
    if (v == NULL) {
        v = calloc(1, sizeof *v);
        if (v == NULL) mc_panic("out of memory");
        sp->views = v;
    }
    view_slot *slot = NULL;
    for (int i = 0; i < VIEW_SLOTS; i++) {
        if (v->v[i].key == key) return &v->v[i];
        if (v->v[i].key == 0 && slot == NULL) slot = &v->v[i];
    }
    if (slot == NULL) {
        slot = &v->v[v->next];
        v->next = (v->next + 1) % VIEW_SLOTS;
        cJSON_free(slot->text);
        slot->text = NULL;
        slot->key = 0;
    }
    cJSON *o = mode == V_LIST ? list_item(r, s) : server_view_ex(r, s, mode, true);
    char *text = mc_json_print(o);
    cJSON_Delete(o);
    if (text == NULL) mc_panic("out of memory");
    slot->text = text;
    slot->key = key;
    slot->len = strlen(text);
    const char *m = mode == V_LIST ? NULL : memchr(text, '\x01', slot->len);
    slot->mark = m != NULL ? (size_t)(m - text) : slot->len;
    return slot;
}

/* A server's part of a reply: its view and, for the mark, its addresses
 * (kept in its views, or printed for this reply only into 'tmp'). */
typedef struct piece {
    const view_slot *v;
    const char *addr;
    size_t alen;
    char *tmp;
} piece;

static void piece_get(mc_req *r, mc_record *s, int mode, uint64_t key, piece *p) {
    p->v = view_get(r, s, mode, key);
    p->addr = NULL;
    p->alen = 0;
    p->tmp = NULL;
    if (p->v->mark == p->v->len) return;
    srv_views *v = SP(s)->views;
    bool keep = mc_knob_srv(r->srv, MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE) == 0;
    uint64_t gen = mc_net_generation();
    if (!keep || v->addr_gen != gen) {
        cJSON *addr = server_addresses(r->srv, s, mode != V_BASIC, NULL);
        char *t = NULL;
        if (addr->child != NULL && (t = mc_json_print(addr)) == NULL) mc_panic("out of memory");
        cJSON_Delete(addr);
        if (!keep) {
            p->tmp = t;
            p->addr = t != NULL ? t : "{}";
            p->alen = strlen(p->addr);
            return;
        }
        cJSON_free(v->addr);
        v->addr = t;
        v->addr_len = t != NULL ? strlen(t) : 2;
        v->addr_gen = gen;
    }
    p->addr = v->addr != NULL ? v->addr : "{}";
    p->alen = v->addr_len;
}

static size_t piece_len(const piece *p) { return p->v->mark == p->v->len ? p->v->len : p->v->len - 1 + p->alen; }

/* Copies the piece to 'out'; returns the end. */
static char *piece_copy(char *out, const piece *p) {
    const view_slot *v = p->v;
    memcpy(out, v->text, v->mark);
    out += v->mark;
    if (v->mark == v->len) return out;
    memcpy(out, p->addr, p->alen);
    out += p->alen;
    size_t rest = v->len - v->mark - 1;
    memcpy(out, v->text + v->mark + 1, rest);
    return out + rest;
}

static void append(char **out, const char *s, size_t n) {
    memcpy(*out, s, n);
    *out += n;
}

/* The body of a detail or plain list page as one text (the buffer sized
 * once): the views joined, the next link printed as the tree would. */
static char *servers_page_text(mc_req *r, mc_record **page, long n, bool detail, bool links, size_t *len) {
    int mode = detail ? V_DETAIL : V_LIST;
    uint64_t key = view_key(r, mode);
    piece *ps = malloc((size_t)(n > 0 ? n : 1) * sizeof *ps);
    if (ps == NULL) mc_panic("out of memory");
    size_t total = 0;
    for (long i = 0; i < n; i++) {
        piece_get(r, page[i], mode, key, &ps[i]);
        total += piece_len(&ps[i]) + 1;
    }
    char *lt = NULL;
    size_t ltn = 1;   /* "}" */
    if (links) {
        cJSON *tmp = cJSON_CreateObject();
        add_collection_next(r, tmp, "servers_links", detail ? "servers/detail" : "servers", page[n - 1]->id);
        lt = mc_json_print(tmp);
        cJSON_Delete(tmp);
        if (lt == NULL || lt[0] != '{') mc_panic("out of memory");
        ltn = 1 + strlen(lt + 1);   /* ,"servers_links":[...]} */
    }
    static const char head[] = "{\"servers\":[";
    char *text = malloc(sizeof head - 1 + total + 1 + ltn + 1);
    if (text == NULL) mc_panic("out of memory");
    char *o = text;
    append(&o, head, sizeof head - 1);
    for (long i = 0; i < n; i++) {
        if (i > 0) *o++ = ',';
        o = piece_copy(o, &ps[i]);
        cJSON_free(ps[i].tmp);
    }
    *o++ = ']';
    if (lt != NULL) {
        *o++ = ',';
        append(&o, lt + 1, ltn - 1);
        cJSON_free(lt);
    } else {
        *o++ = '}';
    }
    *o = '\0';
    free(ps);
    if (len != NULL) *len = (size_t)(o - text);
    return text;
}

/* The body of a show: {"server": view}. */
static char *server_show_text(mc_req *r, mc_record *s) {
    piece p;
    piece_get(r, s, V_SHOW, view_key(r, V_SHOW), &p);
    static const char head[] = "{\"server\":";
    char *text = malloc(sizeof head - 1 + piece_len(&p) + 2);
    if (text == NULL) mc_panic("out of memory");
    char *o = text;
    append(&o, head, sizeof head - 1);
    o = piece_copy(o, &p);
    *o++ = '}';
    *o = '\0';
    cJSON_free(p.tmp);
    return text;
}

/* ---------------------------------------------------------------- list */

typedef struct list_filter {
    mc_req *r;
    const char *req_project; /* req_project(r), read once */
    bool all_tenants;
    const char *project;     /* admin: tenant_id/project_id filter */
    regex_t name_re;
    bool has_name;
    regex_t ip_re, ip6_re;
    bool has_ip, has_ip6;
    char statuses[8][24];
    int nstatus;
    const char *image, *flavor, *reservation, *key_name, *az, *host;
    double changes_since, changes_before;
    int locked;              /* -1 any */
    cJSON *tags, *tags_any, *not_tags, *not_tags_any;
    bool show_deleted;
} list_filter;

static bool has_tag(const cJSON *tags, const char *t) {
    const cJSON *x;
    cJSON_ArrayForEach(x, tags) if (cJSON_IsString(x) && strcmp(x->valuestring, t) == 0) return true;
    return false;
}

static bool ip_match(regex_t *re, cJSON *addresses, int version) {
    cJSON *net, *a;
    cJSON_ArrayForEach(net, addresses) cJSON_ArrayForEach(a, net) {
        if ((int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(a, "version")) != version) continue;
        const char *ip = mc_json_str(a, "addr");
        if (ip && regexec(re, ip, 0, NULL, 0) == 0) return true;
    }
    return false;
}

static bool server_match(const mc_record *rec, void *arg) {
    list_filter *f = arg;
    mc_record *s = (mc_record *)rec;
    const server_priv *sp = s->priv;
    if (server_deleted(s) && !f->show_deleted) return false;
    if (!f->all_tenants && strcmp(s->project_id, f->req_project) != 0) return false;
    if (f->project && strcmp(s->project_id, f->project) != 0) return false;
    if (f->nstatus > 0) {
        const char *st = server_status(s);
        bool ok = false;
        for (int i = 0; i < f->nstatus && !ok; i++) ok = strcasecmp(st, f->statuses[i]) == 0;
        if (!ok) return false;
    }
    if (f->has_name && regexec(&f->name_re, S(sp->name), 0, NULL, 0) != 0) return false;
    if (f->image && !mc_str_eq(s_image(sp), f->image)) return false;
    if (f->flavor && !mc_str_eq(flavor_id(sp), f->flavor)) return false;
    if (f->reservation && !mc_str_eq(sp->reservation_id, f->reservation)) return false;
    if (f->key_name && !mc_str_eq(sp->key_name, f->key_name)) return false;
    if (f->az && !mc_str_eq(sp->az, f->az)) return false;
    if (f->host && !mc_str_eq(srv_host(sp), f->host)) return false;
    double upd = sp->updated;
    if (f->changes_since >= 0 && upd < f->changes_since) return false;
    if (f->changes_before >= 0 && upd > f->changes_before) return false;
    if (f->locked >= 0 && (sp->locked ? 1 : 0) != f->locked) return false;
    const cJSON *tags = sp->tags;
    const cJSON *x;
    if (f->tags) cJSON_ArrayForEach(x, f->tags) if (!has_tag(tags, x->valuestring)) return false;
    if (f->tags_any) {
        bool any = false;
        cJSON_ArrayForEach(x, f->tags_any) any |= has_tag(tags, x->valuestring);
        if (!any) return false;
    }
    if (f->not_tags) {
        bool all = true;
        cJSON_ArrayForEach(x, f->not_tags) all &= has_tag(tags, x->valuestring);
        if (all && cJSON_GetArraySize(f->not_tags) > 0) return false;
    }
    if (f->not_tags_any) cJSON_ArrayForEach(x, f->not_tags_any) if (has_tag(tags, x->valuestring)) return false;
    if (f->has_ip || f->has_ip6) {
        cJSON *addr = server_addresses(f->r->srv, s, false, NULL);
        bool ok = (!f->has_ip || ip_match(&f->ip_re, addr, 4)) && (!f->has_ip6 || ip_match(&f->ip6_re, addr, 6));
        cJSON_Delete(addr);
        if (!ok) return false;
    }
    return true;
}

static const char *const valid_statuses[] = {
    "ACTIVE", "BUILD", "DELETED", "ERROR", "HARD_REBOOT", "MIGRATING", "PASSWORD", "PAUSED", "REBOOT",
    "REBUILD", "RESCUE", "RESIZE", "REVERT_RESIZE", "SHELVED", "SHELVED_OFFLOADED", "SHUTOFF",
    "SOFT_DELETED", "SUSPENDED", "UNKNOWN", "VERIFY_RESIZE", NULL};

typedef struct status_ctx {
    list_filter *f;
    bool bad;
    char badval[64];
} status_ctx;

static void status_each(const char *v, void *arg) {
    status_ctx *c = arg;
    bool ok = false;
    for (int i = 0; valid_statuses[i] && !ok; i++) ok = strcasecmp(v, valid_statuses[i]) == 0;
    if (!ok) {
        c->bad = true;
        mc_strlcpy(c->badval, v, sizeof c->badval);
        return;
    }
    if (c->f->nstatus < 8) mc_strlcpy(c->f->statuses[c->f->nstatus++], v, sizeof c->f->statuses[0]);
}

static cJSON *split_tags(const char *v) {
    if (v == NULL) return NULL;
    cJSON *a = cJSON_CreateArray();
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0) {
            char *t = strndup(p, n);
            cJSON_AddItemToArray(a, cJSON_CreateString(t));
            free(t);
        }
        p += n;
        if (*p == ',') p++;
    }
    return a;
}

static void filter_free(list_filter *f) {
    if (f->has_name) regfree(&f->name_re);
    if (f->has_ip) regfree(&f->ip_re);
    if (f->has_ip6) regfree(&f->ip6_re);
    cJSON_Delete(f->tags);
    cJSON_Delete(f->tags_any);
    cJSON_Delete(f->not_tags);
    cJSON_Delete(f->not_tags_any);
}

static int compile_or_reply(mc_req *r, regex_t *re, const char *v, const char *what) {
    if (regcomp(re, v, REG_EXTENDED | REG_NOSUB) != 0) {
        mc_reply_error(r, 400, NULL, "Invalid %s filter: '%.64s' is not a valid regular expression.", what, v);
        return -1;
    }
    return 0;
}

static int time_param_or_reply(mc_req *r, const char *key, double *out) {
    const char *v = mc_query(r, key);
    *out = -1;
    if (v == NULL) return 0;
    double t = mc_time_parse(v);
    if (t < 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for query parameters %s. Value: %.64s. '%.64s' is not a 'date-time'",
                       key, v, v);
        return -1;
    }
    *out = t;
    return 0;
}

static int by_seq_desc(const void *a, const void *b) {
    const mc_record *x = *(mc_record *const *)a, *y = *(mc_record *const *)b;
    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

/* mc_store_page, newest first, over the live servers and the soft-deleted
 * ones (bounded: at most DELETED_KEEP) merged by creation seq. */
static long page_with_deleted(mc_server *srv, const char *marker, long limit, list_filter *f, mc_record **out, size_t cap,
                              bool *more) {
    mc_store *live = &srv->world[MC_K_SERVER], *del = deleted_store(srv);
    *more = false;
    mc_record **d = calloc(del->count + 1, sizeof *d);
    if (d == NULL) mc_panic("out of memory");
    size_t nd = 0;
    for (mc_record *x = mc_store_first(del); x != NULL; x = mc_store_next(x))
        if (server_match(x, f)) d[nd++] = x;
    qsort(d, nd, sizeof *d, by_seq_desc);
    mc_record *l = mc_store_last(live);
    size_t di = 0;
    if (marker != NULL) {
        mc_record *m = mc_store_find(live, marker);
        if (m != NULL) {
            l = mc_store_prev(m);
        } else if ((m = mc_store_find(del, marker)) != NULL) {
            while (l != NULL && l->seq > m->seq) l = mc_store_prev(l);
        } else {
            free(d);
            return -1;
        }
        while (di < nd && d[di]->seq >= m->seq) di++;
    }
    size_t n = 0;
    for (;;) {
        while (l != NULL && !server_match(l, f)) l = mc_store_prev(l);
        mc_record *next;
        if (l != NULL && (di >= nd || l->seq > d[di]->seq)) {
            next = l;
            l = mc_store_prev(l);
        } else if (di < nd) {
            next = d[di++];
        } else {
            break;
        }
        if ((limit >= 0 && (long)n >= limit) || n >= cap) {
            *more = true;
            break;
        }
        out[n++] = next;
    }
    free(d);
    return (long)n;
}

static void server_list_common(mc_req *r, bool detail) {
    list_filter f;
    memset(&f, 0, sizeof f);
    f.r = r;
    f.req_project = req_project(r);
    f.locked = -1;
    f.changes_since = f.changes_before = -1;
    bool admin = is_admin(r);
    /* Nova: all_tenants present means yes, unless it says false/0/no */
    const char *atv = mc_query(r, "all_tenants");
    bool atb = true;
    if (atv != NULL && atv[0] != '\0' && mc_str_bool(atv, &atb) && !atb) atv = NULL;
    if (atv != NULL) {
        if (!admin) {
            mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be performed.");
            return;
        }
        f.all_tenants = true;
    }
    if (admin) {
        /* as Nova: tenant_id/project_id only count with all_tenants */
        if (f.all_tenants) {
            f.project = mc_query(r, "project_id");
            if (f.project == NULL) f.project = mc_query(r, "tenant_id");
        }
        f.host = mc_query(r, "host");
    }
    status_ctx sc = {&f, false, ""};
    mc_query_each(r, "status", status_each, &sc);
    bool no_match = false;
    if (sc.bad) {
        if (mv_ge(r, 38)) {
            mc_reply_error(r, 400, NULL, "Invalid status value");
            return;
        }
        no_match = true;   /* up to 2.37 an unknown status matches nothing */
    }
    for (int i = 0; i < f.nstatus; i++)
        if (strcasecmp(f.statuses[i], "DELETED") == 0) {
            if (!admin) {
                mc_reply_error(r, 403, NULL, "Only administrators may list deleted instances");
                return;
            }
            f.show_deleted = true;
        }
    if (time_param_or_reply(r, "changes-since", &f.changes_since) != 0) return;
    if (mv_ge(r, 66) && time_param_or_reply(r, "changes-before", &f.changes_before) != 0) return;
    if (f.changes_since >= 0 && f.changes_before >= 0 && f.changes_since > f.changes_before) {
        mc_reply_error(r, 400, NULL, "The value of changes-since must be less than or equal to changes-before.");
        return;
    }
    if (f.changes_since >= 0 || f.changes_before >= 0) f.show_deleted = true;
    const char *v = mc_query(r, "name");
    if (v != NULL) {
        if (compile_or_reply(r, &f.name_re, v, "name") != 0) return;
        f.has_name = true;
    }
    v = mc_query(r, "ip");
    if (v != NULL) {
        if (compile_or_reply(r, &f.ip_re, v, "ip") != 0) goto out;
        f.has_ip = true;
    }
    v = mc_query(r, "ip6");
    if (v != NULL && mv_ge(r, 5)) {
        if (compile_or_reply(r, &f.ip6_re, v, "ip6") != 0) goto out;
        f.has_ip6 = true;
    }
    f.image = ref_id(mc_query(r, "image"));
    f.flavor = ref_id(mc_query(r, "flavor"));
    f.reservation = mc_query(r, "reservation_id");
    f.key_name = admin ? mc_query(r, "key_name") : NULL;
    f.az = mc_query(r, "availability_zone");
    if (mv_ge(r, 73)) {
        v = mc_query(r, "locked");
        if (v != NULL) {
            bool b;
            if (!mc_str_bool(v, &b)) {
                mc_reply_error(r, 400, NULL, "Invalid input for query parameters locked. Value: %.64s.", v);
                goto out;
            }
            f.locked = b;
        }
    }
    if (mv_ge(r, 26)) {
        f.tags = split_tags(mc_query(r, "tags"));
        f.tags_any = split_tags(mc_query(r, "tags-any"));
        f.not_tags = split_tags(mc_query(r, "not-tags"));
        f.not_tags_any = split_tags(mc_query(r, "not-tags-any"));
    }
    long limit;
    if (page_limit_or_reply(r, &limit) != 0) goto out;
    if (limit < 0) limit = 1000;
    const char *marker = mc_query(r, "marker");
    mc_store *st = &r->srv->world[MC_K_SERVER];
    size_t cap = (size_t)limit + 1;
    mc_record **page = calloc(cap, sizeof *page);
    bool more = false;
    long n = no_match && marker == NULL ? 0
             /* a marker may name a deleted server (Nova reads it with read_deleted) */
             : f.show_deleted || (marker != NULL && mc_store_find(st, marker) == NULL)
                 ? page_with_deleted(r->srv, marker, limit, &f, page, cap, &more)
                              : mc_store_page(st, marker, limit, true, server_match, &f, page, cap, &more);
    if (no_match && n > 0) n = 0;
    if (n < 0) {
        free(page);
        mc_reply_error(r, 400, NULL, "marker [%.64s] not found", marker);
        goto out;
    }
    bool links = n > 0 && n == limit && (mc_query(r, "limit") != NULL || more);
    if (!mc_profile_rewrites_bodies(r->srv)) {
        /* the whole body as text, sent without a copy */
        size_t len;
        char *text = servers_page_text(r, page, n, detail, links, &len);
        free(page);
        mc_reply_json(r, 200, mc_json_raw_take_len(text, len));
        goto out;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "servers");
    for (long i = 0; i < n; i++) {
        if (detail) {
            cJSON_AddItemToArray(a, server_view(r, page[i], V_DETAIL));
        } else {
            cJSON_AddItemToArray(a, list_item(r, page[i]));
        }
    }
    if (links) add_collection_next(r, root, "servers_links", detail ? "servers/detail" : "servers", page[n - 1]->id);
    free(page);
    mc_reply_json(r, 200, root);
out:
    filter_free(&f);
}

void compute_server_list(mc_req *r) { server_list_common(r, false); }
void compute_server_detail(mc_req *r) { server_list_common(r, true); }

void compute_server_show(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    if (!mc_profile_rewrites_bodies(r->srv)) {
        mc_reply_json(r, 200, mc_json_raw_take(server_show_text(r, s)));
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "server", server_view(r, s, V_SHOW));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- validation helpers */

static bool name_ok(const cJSON *v) {
    if (!cJSON_IsString(v)) return false;
    size_t l = strlen(v->valuestring);
    if (l == 0 || l > 255) return false;
    bool any = false;
    for (const char *p = v->valuestring; *p; p++) any |= !isspace((unsigned char)*p);
    return any;
}

static int name_or_reply(mc_req *r, const cJSON *v) {
    if (!name_ok(v)) {
        char *t = v ? cJSON_PrintUnformatted(v) : NULL;
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute name. Value: %.64s. %s",
                       t ? t : "None", cJSON_IsString(v) ? "Invalid name: must be 1 to 255 non-blank characters"
                                                         : "is not of type 'string'");
        cJSON_free(t);
        return -1;
    }
    return 0;
}

static int access_ip_or_reply(mc_req *r, const cJSON *in, const char *key, int family) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    if (v == NULL) return 0;
    unsigned char buf[16];
    if (!cJSON_IsString(v) || (v->valuestring[0] != '\0' && inet_pton(family, v->valuestring, buf) != 1)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %.64s. '%.64s' is not a '%s'", key,
                       cJSON_IsString(v) ? v->valuestring : "?", cJSON_IsString(v) ? v->valuestring : "?",
                       family == AF_INET ? "ipv4" : "ipv6");
        return -1;
    }
    return 0;
}

/* Stores accessIPv4/v6 from 'in' in Nova's canonical text form. */
/* OS-DCF:diskConfig given to an update, a rebuild or a resize. */
static void set_disk_config(server_priv *sp, const cJSON *in) {
    const char *dc = mc_json_str(in, "OS-DCF:diskConfig");
    if (mc_str_eq(dc, "AUTO") || mc_str_eq(dc, "MANUAL")) sp->disk_auto = strcmp(dc, "AUTO") == 0;
}

static void set_access_ips(server_priv *sp, const cJSON *in) {
    static const struct { const char *key; int family; } k[] = {{"accessIPv4", AF_INET}, {"accessIPv6", AF_INET6}};
    for (int i = 0; i < 2; i++) {
        const char *v = mc_json_str(in, k[i].key);
        if (v == NULL) continue;
        char **dst = i == 0 ? &sp->access_v4 : &sp->access_v6;
        unsigned char buf[16];
        char out[INET6_ADDRSTRLEN];
        if (v[0] != '\0' && inet_pton(k[i].family, v, buf) == 1 && inet_ntop(k[i].family, buf, out, sizeof out) != NULL)
            set_str(dst, out);
        else
            set_str(dst, v);
    }
}

static int metadata_or_reply(mc_req *r, const cJSON *md, const char *project, long existing) {
    if (!cJSON_IsObject(md)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. Value: %s. is not of type 'object'", "?");
        return -1;
    }
    const cJSON *x;
    long n = existing;
    cJSON_ArrayForEach(x, md) {
        size_t kl = strlen(x->string);
        if (kl == 0 || kl > 255) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. Key length must be 1 to 255 characters.");
            return -1;
        }
        if (!cJSON_IsString(x) || strlen(x->valuestring) > 255) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %.255s. Value: %s. is not of type 'string' "
                                         "or is longer than 255 characters", x->string, cJSON_IsString(x) ? "(too long)" : "?");
            return -1;
        }
        n++;
    }
    long lim = quota_limit(r->srv, project, "metadata_items");
    if (lim >= 0 && n > lim) {
        mc_reply_error(r, 403, NULL, "Quota exceeded for metadata_items: Requested %ld, but already used 0 of %ld metadata_items",
                       n, lim);
        return -1;
    }
    return 0;
}

static bool tag_ok(const char *t) {
    size_t l = strlen(t);
    return l > 0 && l <= 60 && strchr(t, ',') == NULL && strchr(t, '/') == NULL;
}

static int tags_or_reply(mc_req *r, const cJSON *tags) {
    if (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) > 50) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute tags: an array of at most 50 tags is required.");
        return -1;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, tags) {
        if (!cJSON_IsString(x) || !tag_ok(x->valuestring)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute tags. Tags must be 1 to 60 characters without ',' or '/'.");
            return -1;
        }
    }
    return 0;
}

static void random_password(mc_server *srv, char *out, size_t n) {
    static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    unsigned char buf[64];
    if (n > sizeof buf) n = sizeof buf;
    mc_rand_bytes(srv, buf, n - 1);
    for (size_t i = 0; i + 1 < n; i++) out[i] = alphabet[buf[i] % (sizeof alphabet - 1)];
    out[n - 1] = '\0';
}

/* Nova's InstanceInvalidState as a 409. */
static void reply_state_conflict(mc_req *r, mc_record *s, const char *method) {
    server_priv *sp = SP(s);
    if (sp->task_state[0])
        mc_reply_error(r, 409, NULL, "Cannot '%s' instance %s while it is in task_state %s", method, s->id, sp->task_state);
    else
        mc_reply_error(r, 409, NULL, "Cannot '%s' instance %s while it is in vm_state %s", method, s->id, sp->vm_state);
}

/* vm_states: NULL-terminated list the action needs; task_state must be
 * null unless any_task. Locked servers refuse non-admins. */
/* A "hostname" of create, update and rebuild: from 2.90 one label (up to
 * 63 letters, digits and '-', not starting or ending in '-'); from 2.94 a
 * fully qualified domain name of up to 255 (such labels joined by dots).
 * Non-NULL 'v' that fails: 400, -1. */
static int hostname_or_reply(mc_req *r, const cJSON *v) {
    bool ok = mv_ge(r, 90) && cJSON_IsString(v) && v->valuestring[0] != '\0';
    if (ok) {
        const char *h = v->valuestring;
        size_t n = strlen(h), label = 0;
        ok = n <= (mv_ge(r, 94) ? 255u : 63u);
        for (size_t i = 0; ok && i <= n; i++) {
            char c = h[i];
            if ((c == '.' && mv_ge(r, 94)) || c == '\0') {
                ok = label > 0 && label <= 63 && h[i - 1] != '-';
                label = 0;
            } else if (isalnum((unsigned char)c) || c == '-') {
                ok = !(label == 0 && c == '-');
                label++;
            } else {
                ok = false;
            }
        }
    }
    if (!ok) mc_reply_error(r, 400, NULL, "Invalid input for field/attribute hostname.");
    return ok ? 0 : -1;
}

static int state_or_reply(mc_req *r, mc_record *s, const char *method, const char *const *vm_states, bool any_task,
                          bool check_lock) {
    server_priv *sp = SP(s);
    if (check_lock && sp->locked && !is_admin(r)) {
        mc_reply_error(r, 409, NULL, "Instance %s is locked", s->id);
        return -1;
    }
    bool ok = vm_states == NULL;
    for (int i = 0; vm_states && vm_states[i] && !ok; i++) ok = strcmp(sp->vm_state, vm_states[i]) == 0;
    if (!ok || (!any_task && sp->task_state[0])) {
        reply_state_conflict(r, s, method);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- create */

typedef struct net_req {
    char network_id[64];
    char port_id[64];
    char fixed_ip[64];
} net_req;

typedef struct create_req {
    mc_record *flavor;
    mc_record *image;
    const char *image_id;
    net_req nets[16];
    int nnets;
    const cJSON *secgroups;   /* array of names (strings) */
    cJSON *sg_names;          /* owned: names to show */
    const char *key_name;
    const char *az;
    const char *pinned_az;    /* the zone asked for, NULL: none */
    const char *user_data;
    const char *admin_pass;
    const char *description;
    const char *hostname;
    const char *server_group;
    const cJSON *metadata, *tags;
    const char *config_drive;
    const char *disk_config;
} create_req;

static int networks_or_reply(mc_req *r, const cJSON *in, create_req *cr) {
    const cJSON *nets = cJSON_GetObjectItemCaseSensitive(in, "networks");
    const char *project = req_project(r);
    if (nets == NULL) {
        if (mv_ge(r, 37)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. 'networks' is a required property");
            return -1;
        }
        mc_record *n = mc_net_network_auto(r->srv, project);
        if (n != NULL) {
            mc_strlcpy(cr->nets[0].network_id, n->id, sizeof cr->nets[0].network_id);
            cr->nnets = 1;
        }
        return 0;
    }
    if (cJSON_IsString(nets)) {
        if (!mv_ge(r, 37) || (strcmp(nets->valuestring, "auto") != 0 && strcmp(nets->valuestring, "none") != 0)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute networks. Value: %.64s. is not of type 'array'",
                           nets->valuestring);
            return -1;
        }
        if (strcmp(nets->valuestring, "none") == 0) return 0;
        mc_record *n = mc_net_network_auto(r->srv, project);
        if (n == NULL) {
            mc_reply_error(r, 400, NULL, "Unable to automatically allocate a network for project %s", project);
            return -1;
        }
        mc_strlcpy(cr->nets[0].network_id, n->id, sizeof cr->nets[0].network_id);
        cr->nnets = 1;
        return 0;
    }
    if (!cJSON_IsArray(nets)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute networks. Value is not of type 'array'");
        return -1;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, nets) {
        if (!cJSON_IsObject(x) || cr->nnets >= 16) {
            mc_reply_error(r, 400, NULL, "Bad networks format");
            return -1;
        }
        net_req *nr = &cr->nets[cr->nnets];
        const char *uuid = mc_json_str(x, "uuid");
        const char *port = mc_json_str(x, "port");
        const char *fip = mc_json_str(x, "fixed_ip");
        if (port != NULL) {
            if (!mc_is_uuid(port)) {
                mc_reply_error(r, 400, NULL, "Bad networks format: port uuid is not in proper format (%.64s)", port);
                return -1;
            }
            mc_record *p = mc_store_find(&r->srv->world[MC_K_PORT], port);
            if (p == NULL || (!is_admin(r) && strcmp(p->project_id, project) != 0 &&
                              !mc_str_eq(mc_json_str(p->doc, "project_id"), project))) {
                mc_reply_error(r, 400, NULL, "Port %.64s could not be found.", port);
                return -1;
            }
            const char *dev = mc_json_str(p->doc, "device_id");
            if (dev != NULL && dev[0] != '\0') {
                mc_reply_error(r, 409, NULL, "Port %.64s is still in use.", port);
                return -1;
            }
            mc_strlcpy(nr->port_id, port, sizeof nr->port_id);
        } else {
            if (uuid == NULL) {
                mc_reply_error(r, 400, NULL, "Bad networks format: network uuid is not in proper format (None)");
                return -1;
            }
            if (!mc_is_uuid(uuid)) {
                mc_reply_error(r, 400, NULL, "Bad networks format: network uuid is not in proper format (%.64s)", uuid);
                return -1;
            }
            if (mc_net_network_find(r->srv, uuid, project) == NULL) {
                mc_reply_error(r, 400, NULL, "Network %.64s could not be found.", uuid);
                return -1;
            }
            mc_strlcpy(nr->network_id, uuid, sizeof nr->network_id);
        }
        if (fip != NULL) {
            unsigned char buf[16];
            if (inet_pton(AF_INET, fip, buf) != 1 && inet_pton(AF_INET6, fip, buf) != 1) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute fixed_ip. Value: %.64s. '%.64s' is not a 'ipv4'",
                               fip, fip);
                return -1;
            }
            mc_strlcpy(nr->fixed_ip, fip, sizeof nr->fixed_ip);
        }
        cr->nnets++;
    }
    return 0;
}

static int image_or_reply(mc_req *r, const cJSON *in, create_req *cr) {
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(in, "imageRef");
    const cJSON *bdm = cJSON_GetObjectItemCaseSensitive(in, "block_device_mapping_v2");
    if (iv != NULL && !cJSON_IsString(iv)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute imageRef. Value is not of type 'string'");
        return -1;
    }
    const char *ref = iv ? iv->valuestring : "";
    if (ref[0] == '\0') {
        if (cJSON_IsArray(bdm) && cJSON_GetArraySize(bdm) > 0) {
            mc_reply_error(r, 400, NULL, "Block Device Mapping is Invalid: the volume service is not available.");
            return -1;
        }
        mc_reply_error(r, 400, NULL, "Missing imageRef attribute");
        return -1;
    }
    const char *id = ref_id(ref);
    if (!mc_is_uuid(id)) {
        mc_reply_error(r, 400, NULL, "Invalid imageRef provided.");
        return -1;
    }
    mc_record *img = mc_image_find(r->srv, id, req_project(r));
    if (img == NULL) {
        mc_reply_error(r, 400, NULL, "Image %.64s could not be found.", id);
        return -1;
    }
    if (!mc_str_eq(mc_json_str(img->doc, "status"), "active")) {
        mc_reply_error(r, 400, NULL, "Image %.64s is not active.", id);
        return -1;
    }
    cr->image = img;
    cr->image_id = img->id;
    return 0;
}

static int flavor_or_reply400(mc_req *r, const cJSON *in, create_req *cr) {
    const cJSON *fv = cJSON_GetObjectItemCaseSensitive(in, "flavorRef");
    if (fv == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. 'flavorRef' is a required property");
        return -1;
    }
    char buf[64];
    const char *id;
    if (cJSON_IsString(fv)) {
        id = ref_id(fv->valuestring);
    } else if (cJSON_IsNumber(fv)) {
        snprintf(buf, sizeof buf, "%d", fv->valueint);
        id = buf;
    } else {
        mc_reply_error(r, 400, NULL, "Invalid flavorRef provided.");
        return -1;
    }
    if (id[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid flavorRef provided.");
        return -1;
    }
    mc_record *f = flavor_find(r, id);
    if (f == NULL) {
        mc_reply_error(r, 400, NULL, "Flavor %.64s could not be found.", id);
        return -1;
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f->doc, "disabled"))) {
        mc_reply_error(r, 400, NULL, "Flavor is disabled.");
        return -1;
    }
    cr->flavor = f;
    return 0;
}

/* The flavor as a server keeps it: the flavor's fields (no "access"), its
 * id and original_name. Servers booted from the same flavor state share
 * one snapshot: compute_state keeps the snapshots in use (each holding a
 * reference of the cache, dropped once no server holds one). Returns a
 * reference the caller owns. */
/* True when 'x' is what flavor_snapshot would build from 'f' now: the
 * flavor's members but "access", in order and equal, then "id" and
 * "original_name" (compared in place: no copy of the flavor). */
static bool snap_matches(const flv_snap *x, const mc_record *f) {
    const cJSON *sv = x->doc->child;
    const char *name = NULL;
    for (const cJSON *c = f->doc->child; c != NULL; c = c->next) {
        if (c->string == NULL) return false;
        if (strcmp(c->string, "access") == 0) continue;
        if (strcmp(c->string, "id") == 0 || strcmp(c->string, "original_name") == 0) return false;
        if (strcmp(c->string, "name") == 0 && cJSON_IsString(c)) name = c->valuestring;
        if (sv == NULL || sv->string == NULL || strcmp(sv->string, c->string) != 0 || !cJSON_Compare(sv, c, true))
            return false;
        sv = sv->next;
    }
    if (sv == NULL || !mc_str_eq(sv->string, "id") || !cJSON_IsString(sv) || strcmp(sv->valuestring, f->id) != 0) return false;
    sv = sv->next;
    if (sv == NULL || !mc_str_eq(sv->string, "original_name")) return false;
    if (name == NULL ? !cJSON_IsNull(sv) : !(cJSON_IsString(sv) && strcmp(sv->valuestring, name) == 0)) return false;
    return sv->next == NULL;
}

static flv_snap *flavor_snapshot(mc_server *srv, mc_record *f) {
    compute_state *st = cs(srv);
    size_t keep = 0;
    flv_snap *hit = NULL;
    for (size_t i = 0; i < st->nsnaps; i++) {
        flv_snap *x = st->snaps[i];
        if (hit == NULL && snap_matches(x, f)) hit = x;
        if (x->refs == 1 && x != hit) snap_release(x);   /* no server holds it */
        else st->snaps[keep++] = x;
    }
    st->nsnaps = keep;
    if (hit != NULL) {
        hit->refs++;
        return hit;
    }
    cJSON *o = cJSON_Duplicate(f->doc, 1);
    if (o == NULL) mc_panic("out of memory");
    cJSON_DeleteItemFromObjectCaseSensitive(o, "access");
    mc_json_set_str(o, "id", f->id);
    mc_json_set_str(o, "original_name", mc_json_str(f->doc, "name"));
    for (size_t i = 0; i < st->nsnaps; i++) {   /* a flavor shaped unlike snap_matches expects */
        flv_snap *x = st->snaps[i];
        if (cJSON_Compare(x->doc, o, true)) {
            cJSON_Delete(o);
            x->refs++;
            return x;
        }
    }
    flv_snap *n = calloc(1, sizeof *n);
    if (n == NULL) mc_panic("out of memory");
    n->doc = o;
    n->vcpus = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "vcpus"));
    n->ram = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, "ram"));
    const cJSON *dk = cJSON_GetObjectItemCaseSensitive(o, "disk"), *eph = cJSON_GetObjectItemCaseSensitive(o, "ephemeral");
    n->disk = (cJSON_IsNumber(dk) ? (long)dk->valuedouble : 0) + (cJSON_IsNumber(eph) ? (long)eph->valuedouble : 0);
    n->refs = 2;
    if (st->nsnaps == st->capsnaps) {
        size_t cap = st->capsnaps ? st->capsnaps * 2 : 8;
        void **a = realloc(st->snaps, cap * sizeof *a);
        if (a == NULL) mc_panic("out of memory");
        st->snaps = a;
        st->capsnaps = cap;
    }
    st->snaps[st->nsnaps++] = n;
    return n;
}

void servers_reset(mc_server *srv) {
    compute_state *st = cs(srv);
    if (st == NULL) return;
    mc_store_clear(&st->deleted);
    for (size_t i = 0; i < st->nsnaps; i++) snap_release(st->snaps[i]);
    free(st->snaps);
    st->snaps = NULL;
    st->nsnaps = st->capsnaps = 0;
}

static int image_fits_or_reply(mc_req *r, mc_record *img, mc_record *flavor) {
    if (img == NULL) return 0;
    double min_ram = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(img->doc, "min_ram"));
    double min_disk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(img->doc, "min_disk"));
    double size = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(img->doc, "size"));
    double ram = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flavor->doc, "ram"));
    double disk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flavor->doc, "disk"));
    if (min_ram == min_ram && min_ram > ram) {
        mc_reply_error(r, 400, NULL, "Flavor's memory is too small for requested image.");
        return -1;
    }
    if (disk > 0 && min_disk == min_disk && min_disk > disk) {
        mc_reply_error(r, 400, NULL, "Flavor's disk is too small for requested image. Flavor disk is %.0f bytes, "
                                     "minimum required by image is %.0f bytes.", disk * 1073741824.0, min_disk * 1073741824.0);
        return -1;
    }
    if (disk > 0 && size == size && size > disk * 1073741824.0) {
        mc_reply_error(r, 400, NULL, "Flavor's disk is too small for requested image. Flavor disk is %.0f bytes, "
                                     "image is %.0f bytes.", disk * 1073741824.0, size);
        return -1;
    }
    return 0;
}

/* True when 'names' is exactly ["default"] (kept as NULL). */
static bool sg_is_default(const cJSON *names) {
    return cJSON_GetArraySize(names) == 1 && mc_str_eq(cJSON_GetArrayItem(names, 0)->valuestring, "default");
}

static mc_record *server_new(mc_req *r, const char *name, const create_req *cr, const char *resv, int index,
                             const char *admin_pass) {
    mc_server *srv = r->srv;
    char id[37];
    uint64_t num = ++cs(srv)->instance_seq;
    /* Deviation hook: integer ids (Nova before Diablo, a vendor's own
     * database) or EC2-style ones instead of UUIDs. */
    long long style = mc_knob(r, MC_KNOB_COMPUTE_SERVER_ID_STYLE);
    if (style == 1) snprintf(id, sizeof id, "%llu", (unsigned long long)(10000 + num));
    else if (style == 2) snprintf(id, sizeof id, "i-%08llx", (unsigned long long)num);
    if (style == 0 || mc_store_find(&srv->world[MC_K_SERVER], id) != NULL) mc_uuid(srv, id);
    double now = mc_now();
    mc_record *s = mc_store_add(&srv->world[MC_K_SERVER], id, req_project(r), NULL);
    server_priv *sp = calloc(1, sizeof *sp);
    if (sp == NULL) mc_panic("out of memory");
    sp->srv = srv;
    mc_strlcpy(sp->id, id, sizeof sp->id);
    mc_strlcpy(sp->vm_state, "building", sizeof sp->vm_state);
    mc_strlcpy(sp->task_state, "scheduling", sizeof sp->task_state);
    s->priv = sp;
    s->priv_free = server_priv_free;
    sp->name = xdup(name);
    sp->description = xdup(cr->description);
    mc_strlcpy(sp->user_id, req_user(r), sizeof sp->user_id);
    if (cr->image_id != NULL) mc_strlcpy(sp->image_id, cr->image_id, sizeof sp->image_id);
    sp->flavor = flavor_snapshot(srv, cr->flavor);
    if (cr->metadata && cJSON_GetArraySize(cr->metadata) > 0) sp->metadata = cJSON_Duplicate(cr->metadata, 1);
    if (cr->tags && cJSON_GetArraySize(cr->tags) > 0) sp->tags = cJSON_Duplicate(cr->tags, 1);
    sp->key_name = xdup(cr->key_name);
    sp->created = sp->updated = now;
    sp->config_drive = cr->config_drive != NULL;
    sp->disk_auto = cr->disk_config != NULL && strcmp(cr->disk_config, "AUTO") == 0;
    sp->az = xdup(cr->az);
    sp->pinned_az = xdup(cr->pinned_az);
    if (!sg_is_default(cr->sg_names)) sp->sg_names = cJSON_Duplicate(cr->sg_names, 1);
    mc_strlcpy(sp->reservation_id, resv, sizeof sp->reservation_id);
    sp->launch_index = index;
    char hn[64];
    size_t k = 0;
    for (const char *p = name; *p && k < sizeof hn - 1; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) || c == '-') hn[k++] = (char)tolower(c);
        else if (c == ' ' || c == '_' || c == '.') hn[k++] = '-';
    }
    hn[k] = '\0';
    /* a hostname asked for (2.90) is kept as given, else made from the name */
    sp->hostname = xdup(cr->hostname != NULL ? cr->hostname : k ? hn : "server");
    sp->user_data = xdup(cr->user_data);
    sp->launched_at = sp->terminated_at = -1;
    sp->admin_pass = xdup(admin_pass);
    sp->num = num;
    sp->server_group = xdup(cr->server_group);
    return s;
}

/* Creates or attaches the server's ports; on failure releases what it made. */
static int ports_or_reply(mc_req *r, mc_record *s, const create_req *cr) {
    for (int i = 0; i < cr->nnets; i++) {
        const net_req *nr = &cr->nets[i];
        int status = 400;
        char err[256] = "";
        if (nr->port_id[0]) {
            if (mc_net_port_attach(r->srv, nr->port_id, s->project_id, s->id, "compute:nova", &status, err, sizeof err) != 0)
                goto fail;
            continue;
        }
        mc_port_req pr = {s->project_id, nr->network_id, NULL, nr->fixed_ip[0] ? nr->fixed_ip : NULL, s->id,
                          "compute:nova", cr->secgroups};
        if (mc_net_port_create(r->srv, &pr, &status, err, sizeof err) == NULL) goto fail;
        continue;
    fail:
        mc_net_ports_release(r->srv, s->id);
        if (status == 409 && nr->fixed_ip[0] && strstr(err, "IP") != NULL)
            mc_reply_error(r, 409, NULL, "Fixed IP address %s is already in use on instance %s.", nr->fixed_ip, s->id);
        else
            mc_reply_error(r, status >= 400 && status < 500 ? (status == 404 ? 400 : status) : 500, NULL, "%s",
                           err[0] ? err : "Port creation failed.");
        return -1;
    }
    return 0;
}

/* Removes the servers of a multiple create from 'first' on (the newest
 * records), their ports and group places, as if the request never came. */
static void create_undo(mc_server *srv, mc_record *first, mc_record *grp) {
    for (mc_record *s = first, *next; s != NULL; s = next) {
        next = mc_store_next(s);
        cancel(s);
        mc_net_ports_release(srv, s->id);
        cJSON *m = grp ? mc_json_arr(grp->doc, "members") : NULL;
        for (int i = cJSON_GetArraySize(m) - 1; i >= 0; i--)
            if (mc_str_eq(cJSON_GetArrayItem(m, i)->valuestring, s->id)) cJSON_DeleteItemFromArray(m, i);
        mc_store_delete(&srv->world[MC_K_SERVER], s);
    }
}

/* Nova's create schema (schemas/servers.py): the members of "server" at this
 * microversion, nothing else, and only "server" and the hints beside it. */
/* Appends 'part' at spec[n] (truncating at cap); returns the new length. */
static size_t spec_put(char *spec, size_t n, size_t cap, const char *part) {
    size_t l = strlen(part);
    if (n + l >= cap) l = cap - 1 - n;
    memcpy(spec + n, part, l);
    spec[n + l] = '\0';
    return n + l;
}

static int create_schema_or_reply(mc_req *r, const cJSON *in) {
    /* assembled by copies (snprintf of this spec was ~4k instructions a create) */
    char spec[1024];
    size_t n = spec_put(spec, 0, sizeof spec,
                        cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(in, "networks"))
                            ? "!name=s|imageRef=s|flavorRef=k|adminPass=s|metadata=m|networks=a"
                            : "!name=s|imageRef=s|flavorRef=k|adminPass=s|metadata=m|networks=s");
    n = spec_put(spec, n, sizeof spec,
                 "|OS-DCF:diskConfig=s|accessIPv4=s|accessIPv6=s|availability_zone=s|block_device_mapping=a|"
                 "block_device_mapping_v2=a|config_drive=b|key_name=S|min_count=i|max_count=i|return_reservation_id=b|"
                 "security_groups=a|user_data=S");
    if (!mv_ge(r, 57)) n = spec_put(spec, n, sizeof spec, "|personality=a");
    if (mv_ge(r, 19)) n = spec_put(spec, n, sizeof spec, "|description=S");
    if (mv_ge(r, 52)) n = spec_put(spec, n, sizeof spec, "|tags=r");
    if (mv_ge(r, 63)) n = spec_put(spec, n, sizeof spec, "|trusted_image_certificates=A");
    if (mv_ge(r, 74)) n = spec_put(spec, n, sizeof spec, "|host=s|hypervisor_hostname=s");
    if (mv_ge(r, 90)) spec_put(spec, n, sizeof spec, "|hostname=s");
    if (mc_check_or_reply(r, in, spec) != 0) return -1;
    if (mc_check_or_reply(r, r->body, "!server=o|os:scheduler_hints=o|OS-SCH-HNT:scheduler_hints=o") != 0) return -1;
    /* personality (up to 2.56): [{"path", "contents" in base64}], at most the injected_files quota */
    const cJSON *pf, *files = mc_json_arr(in, "personality");
    cJSON_ArrayForEach(pf, files) {
        const char *contents = mc_json_str(pf, "contents");
        size_t l = contents ? strlen(contents) : 0;
        unsigned char *tmp = malloc(l + 1);
        bool ok = tmp != NULL && contents != NULL && b64_decode(contents, tmp, l + 1) >= 0;
        free(tmp);
        if (mc_check_or_reply(r, pf, "!path=s255|contents=s") != 0) return -1;
        if (!ok || mc_json_str(pf, "path") == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute personality: 'path' and base64 'contents' are required.");
            return -1;
        }
    }
    long lim = quota_limit(r->srv, req_project(r), "injected_files");
    if (lim >= 0 && cJSON_GetArraySize(files) > lim) {
        mc_reply_error(r, 403, NULL, "Personality file limit exceeded");
        return -1;
    }
    return 0;
}

/* Bit h-1 for the host of each server named in 'ids' (a server id or an
 * array of them). */
static unsigned hosts_of(mc_server *srv, const cJSON *ids) {
    unsigned bits = 0;
    const cJSON *x;
    if (cJSON_IsString(ids)) {
        mc_record *o = mc_store_find(&srv->world[MC_K_SERVER], ids->valuestring);
        if (o && SP(o)->host) bits |= 1u << (SP(o)->host - 1);
        return bits;
    }
    cJSON_ArrayForEach(x, ids) bits |= hosts_of(srv, x);
    return bits;
}

/* The scheduler: the requested zone (and "zone:host"), the 2.74 host, the
 * group's policy and same_host/different_host hints narrow the hosts;
 * compute_host_pick takes the least loaded. No host: the build ends in
 * ERROR (NoValidHost), as Nova's does. The server's zone becomes its
 * host's. */
static void place(mc_req *r, mc_record *s, const cJSON *in, const cJSON *hints, mc_record *grp) {
    server_priv *sp = SP(s);
    unsigned avoid = 0, only = 0;
    char zone[128] = "";
    const char *az = mc_json_str(in, "availability_zone");
    if (az != NULL && az[0] != '\0') {
        mc_strlcpy(zone, az, sizeof zone);
        char *colon = strchr(zone, ':');
        if (colon != NULL) {
            *colon = '\0';
            int h = compute_host_index(colon + 1);
            if (h) only |= 1u << (h - 1);
        }
    }
    const char *want = mv_ge(r, 74) ? mc_json_str(in, "host") : NULL;
    if (want == NULL && mv_ge(r, 74)) want = mc_json_str(in, "hypervisor_hostname");
    if (want != NULL && compute_host_index(want)) only |= 1u << (compute_host_index(want) - 1);
    const char *policy = grp ? mc_json_str(grp->doc, "policy") : NULL;
    unsigned members = 0;
    if (grp != NULL) {
        const cJSON *m;
        cJSON_ArrayForEach(m, mc_json_arr(grp->doc, "members")) if (strcmp(m->valuestring, s->id) != 0) members |= hosts_of(r->srv, m);
    }
    bool soft = mc_str_eq(policy, "soft-affinity") || mc_str_eq(policy, "soft-anti-affinity");
    unsigned g_only = 0, g_avoid = 0;
    if ((mc_str_eq(policy, "affinity") || mc_str_eq(policy, "soft-affinity")) && members) g_only = members;
    if (mc_str_eq(policy, "anti-affinity") || mc_str_eq(policy, "soft-anti-affinity")) g_avoid = members;
    if (hints != NULL) {
        unsigned same = hosts_of(r->srv, cJSON_GetObjectItemCaseSensitive(hints, "same_host"));
        if (same) only = only ? (only & same) : same;
        avoid |= hosts_of(r->srv, cJSON_GetObjectItemCaseSensitive(hints, "different_host"));
    }
    const char *z = zone[0] ? zone : NULL;
    unsigned both = g_only && only ? (g_only & only) : (g_only | only);
    int h = (g_only && only && both == 0) ? 0 : compute_host_pick(r->srv, z, avoid | g_avoid, both);
    if (h == 0 && soft) h = compute_host_pick(r->srv, z, avoid, only);   /* soft policies yield */
    sp->host = (unsigned char)h;
    host_sync(sp);   /* the next server of a multiple create sees this one */
    if (h != 0) set_str(&sp->az, compute_host_zone(r->srv, h));
}

/* Appends 's' to the buffer as a JSON string, escaped as cJSON prints it
 * (", \\, \\b \\f \\n \\r \\t, other bytes below 0x20 as \\u00xx, the rest as is). */
typedef struct tbuf {
    char *p;
    size_t n, cap;
} tbuf;

static void tb_raw(tbuf *b, const char *s, size_t l) {
    if (b->n + l + 1 > b->cap) {
        size_t cap = (b->n + l + 1) * 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) mc_panic("out of memory");
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, l);
    b->n += l;
    b->p[b->n] = '\0';
}

#define TB_LIT(b, lit) tb_raw((b), (lit), sizeof(lit) - 1)

static void tb_str(tbuf *b, const char *s) {
    static const char hexd[] = "0123456789abcdef";
    tb_raw(b, "\"", 1);
    for (const char *run = s;; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        tb_raw(b, run, (size_t)(s - run));
        if (c == '\0') break;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default: e[1] = 'u', e[2] = '0', e[3] = '0', e[4] = hexd[c >> 4], e[5] = hexd[c & 15], el = 6; break;
        }
        tb_raw(b, e, el);
        run = s + 1;
    }
    tb_raw(b, "\"", 1);
}

/* The 202 body of a create, {"server": {id, links, OS-DCF:diskConfig,
 * security_groups, adminPass}}, as text: the bytes cJSON prints for the
 * tree (test create_reply_text_is_what_cjson_prints), without building,
 * printing and freeing ~15 nodes (~12k instructions a create). */
static char *create_reply_text(mc_req *r, mc_record *first, const cJSON *sg_names, const char *admin_pass, size_t *len) {
    tbuf b = {malloc(512), 0, 512};   /* a reply is ~370 bytes */
    if (b.p == NULL) mc_panic("out of memory");
    TB_LIT(&b, "{\"server\":{\"id\":");
    tb_str(&b, first->id);
    char url[600];
    size_t n = spec_put(url, 0, sizeof url, r->srv->public_url);
    n = spec_put(url, n, sizeof url, "/compute/v2.1/servers/");
    spec_put(url, n, sizeof url, first->id);
    TB_LIT(&b, ",\"links\":[{\"rel\":\"self\",\"href\":");
    tb_str(&b, url);
    n = spec_put(url, 0, sizeof url, r->srv->public_url);
    n = spec_put(url, n, sizeof url, "/compute/servers/");
    spec_put(url, n, sizeof url, first->id);
    TB_LIT(&b, "},{\"rel\":\"bookmark\",\"href\":");
    tb_str(&b, url);
    TB_LIT(&b, "}],\"OS-DCF:diskConfig\":");
    tb_str(&b, SP(first)->disk_auto ? "AUTO" : "MANUAL");
    TB_LIT(&b, ",\"security_groups\":[");
    const cJSON *x;
    bool comma = false;
    cJSON_ArrayForEach(x, sg_names) {
        if (comma) TB_LIT(&b, ",");
        TB_LIT(&b, "{\"name\":");
        tb_str(&b, x->valuestring);
        TB_LIT(&b, "}");
        comma = true;
    }
    TB_LIT(&b, "],\"adminPass\":");
    tb_str(&b, admin_pass);
    TB_LIT(&b, "}}");
    *len = b.n;
    return b.p;
}

void compute_server_create(mc_req *r) {
    cJSON *in = mc_json_obj(r->body, "server");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. 'server' is a required property");
        return;
    }
    if (create_schema_or_reply(r, in) != 0) return;
    create_req cr;
    memset(&cr, 0, sizeof cr);
    const char *project = req_project(r);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(in, "name");
    if (name == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. 'name' is a required property");
        return;
    }
    if (name_or_reply(r, name) != 0) return;
    if (flavor_or_reply400(r, in, &cr) != 0) return;
    if (image_or_reply(r, in, &cr) != 0) return;
    if (image_fits_or_reply(r, cr.image, cr.flavor) != 0) return;
    if (access_ip_or_reply(r, in, "accessIPv4", AF_INET) != 0) return;
    if (access_ip_or_reply(r, in, "accessIPv6", AF_INET6) != 0) return;
    cr.metadata = cJSON_GetObjectItemCaseSensitive(in, "metadata");
    if (cr.metadata && metadata_or_reply(r, cr.metadata, project, 0) != 0) return;
    if (mv_ge(r, 52) && mc_json_has(in, "tags")) {
        cr.tags = cJSON_GetObjectItemCaseSensitive(in, "tags");
        if (tags_or_reply(r, cr.tags) != 0) return;
    }
    if (mv_ge(r, 19) && mc_json_has(in, "description")) {
        const cJSON *dv = cJSON_GetObjectItemCaseSensitive(in, "description");
        if (!(cJSON_IsNull(dv) || (cJSON_IsString(dv) && strlen(dv->valuestring) <= 255))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute description.");
            return;
        }
        cr.description = cJSON_IsString(dv) ? dv->valuestring : NULL;
    }
    if (mv_ge(r, 90) && mc_json_has(in, "hostname")) {
        cr.hostname = mc_json_str(in, "hostname");
        if (hostname_or_reply(r, cJSON_GetObjectItemCaseSensitive(in, "hostname")) != 0) {
            return;
        }
    }
    cr.key_name = mc_json_str(in, "key_name");
    if (mc_json_has(in, "key_name") && !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(in, "key_name")) &&
        (cr.key_name == NULL || keypair_find(r->srv, req_user(r), cr.key_name) == NULL)) {
        mc_reply_error(r, 400, NULL, "Invalid key_name provided.");
        return;
    }
    const char *az = mc_json_str(in, "availability_zone");
    cr.az = cJSON_GetArrayItem(cs(r->srv)->zones, 0)->valuestring;
    if (az != NULL && az[0] != '\0') {
        char zone[128];
        mc_strlcpy(zone, az, sizeof zone);
        char *colon = strchr(zone, ':');
        if (colon) *colon = '\0';
        const char *known = compute_zone_find(r->srv, zone);
        if (known != NULL) cr.az = cr.pinned_az = known;
        else {
            mc_reply_error(r, 400, NULL, "The requested availability zone is not available");
            return;
        }
    }
    const cJSON *ud = cJSON_GetObjectItemCaseSensitive(in, "user_data");
    if (ud != NULL && !cJSON_IsNull(ud)) {
        if (!cJSON_IsString(ud) || strlen(ud->valuestring) > 65535) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute user_data. User data too large or not a string.");
            return;
        }
        size_t l = strlen(ud->valuestring);
        unsigned char *tmp = malloc(l + 1);
        long dl = b64_decode(ud->valuestring, tmp, l + 1);
        free(tmp);
        if (dl < 0) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute user_data. Value: %.32s. '%.32s' is not a 'base64'",
                           ud->valuestring, ud->valuestring);
            return;
        }
        cr.user_data = ud->valuestring;
    }
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(in, "adminPass");
    if (ap != NULL && !cJSON_IsString(ap)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute adminPass. Value is not of type 'string'");
        return;
    }
    cr.admin_pass = ap ? ap->valuestring : NULL;
    const cJSON *cd = cJSON_GetObjectItemCaseSensitive(in, "config_drive");
    if (cJSON_IsTrue(cd) || (cJSON_IsString(cd) && (strcasecmp(cd->valuestring, "true") == 0 || strcmp(cd->valuestring, "1") == 0)))
        cr.config_drive = "True";
    cr.disk_config = mc_json_str(in, "OS-DCF:diskConfig");
    if (cr.disk_config && strcmp(cr.disk_config, "AUTO") != 0 && strcmp(cr.disk_config, "MANUAL") != 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute OS-DCF:diskConfig.");
        return;
    }
    /* security groups: [{"name": name-or-id}] */
    const cJSON *sgs = cJSON_GetObjectItemCaseSensitive(in, "security_groups");
    cJSON *sg_req = NULL;
    cr.sg_names = cJSON_CreateArray();
    if (sgs != NULL) {
        if (!cJSON_IsArray(sgs)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute security_groups.");
            goto out;
        }
        sg_req = cJSON_CreateArray();
        const cJSON *x;
        cJSON_ArrayForEach(x, sgs) {
            const char *n = mc_json_str(x, "name");
            if (n == NULL) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute security_groups: 'name' is required.");
                goto out;
            }
            mc_record *g = mc_net_secgroup_find(r->srv, n, project);
            if (g == NULL) {
                mc_reply_error(r, 400, NULL, "Security group %.255s not found.", n);
                goto out;
            }
            if (!has_tag(cr.sg_names, mc_json_str(g->doc, "name")))
                cJSON_AddItemToArray(cr.sg_names, cJSON_CreateString(mc_json_str(g->doc, "name")));
            cJSON_AddItemToArray(sg_req, cJSON_CreateString(g->id));
        }
        cr.secgroups = sg_req;
    } else {
        cJSON_AddItemToArray(cr.sg_names, cJSON_CreateString("default"));
    }
    if (networks_or_reply(r, in, &cr) != 0) goto out;
    /* scheduler hints: a server group */
    const cJSON *hints = mc_json_obj(r->body, "os:scheduler_hints");
    if (hints == NULL) hints = mc_json_obj(r->body, "OS-SCH-HNT:scheduler_hints");
    const char *group = hints ? mc_json_str(hints, "group") : NULL;
    mc_record *grp = NULL;
    if (group != NULL) {
        grp = mc_store_find(&r->srv->world[MC_K_SERVER_GROUP], group);
        if (grp == NULL || (strcmp(grp->project_id, project) != 0 && !is_admin(r))) {
            mc_reply_error(r, 400, NULL, "Invalid server group %.64s.", group);
            goto out;
        }
        cr.server_group = grp->id;
    }
    /* min_count / max_count */
    long min_count = 1, max_count = 1;
    const cJSON *mn = cJSON_GetObjectItemCaseSensitive(in, "min_count");
    const cJSON *mx = cJSON_GetObjectItemCaseSensitive(in, "max_count");
    if (mn != NULL) {
        if (cJSON_IsNumber(mn) && mn->valuedouble == (double)(long)mn->valuedouble) min_count = (long)mn->valuedouble;
        else if (!(cJSON_IsString(mn) && mc_parse_long(mn->valuestring, 1, 100000, &min_count))) min_count = 0;
        if (min_count < 1) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute min_count.");
            goto out;
        }
        max_count = min_count;
    }
    if (mx != NULL) {
        if (cJSON_IsNumber(mx) && mx->valuedouble == (double)(long)mx->valuedouble) max_count = (long)mx->valuedouble;
        else if (!(cJSON_IsString(mx) && mc_parse_long(mx->valuestring, 1, 100000, &max_count))) max_count = 0;
        if (max_count < 1) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute max_count.");
            goto out;
        }
    }
    if (min_count > max_count) {
        mc_reply_error(r, 400, NULL, "min_count must be <= max_count");
        goto out;
    }
    if (max_count > 1 && cr.nnets > 0) {
        for (int i = 0; i < cr.nnets; i++)
            if (cr.nets[i].port_id[0] || cr.nets[i].fixed_ip[0]) {
                mc_reply_error(r, 400, NULL, "Multiple instances cannot be created with a port or a fixed IP.");
                goto out;
            }
    }
    /* quota: instances, cores, ram */
    usage u;
    memset(&u, 0, sizeof u);
    /* project_usage walks every server: only when a limit applies. */
    if (quota_limit(r->srv, project, "instances") >= 0 || quota_limit(r->srv, project, "cores") >= 0 ||
        quota_limit(r->srv, project, "ram") >= 0)
        project_usage(r->srv, project, &u);
    long vcpus = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cr.flavor->doc, "vcpus"));
    long ram = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cr.flavor->doc, "ram"));
    long count = max_count;
    const char *over = NULL;
    long over_used = 0, over_lim = 0;
    for (; count >= min_count; count--) {
        long li = quota_limit(r->srv, project, "instances"), lc = quota_limit(r->srv, project, "cores"),
             lr = quota_limit(r->srv, project, "ram");
        over = NULL;
        if (li >= 0 && u.instances + count > li) over = "instances", over_used = u.instances, over_lim = li;
        else if (lc >= 0 && u.cores + count * vcpus > lc) over = "cores", over_used = u.cores, over_lim = lc;
        else if (lr >= 0 && u.ram + count * ram > lr) over = "ram", over_used = u.ram, over_lim = lr;
        if (over == NULL) break;
    }
    if (over != NULL) {
        long req = strcmp(over, "instances") == 0 ? min_count : strcmp(over, "cores") == 0 ? min_count * vcpus : min_count * ram;
        mc_reply_error(r, 403, NULL, "Quota exceeded for %s: Requested %ld, but already used %ld of %ld %s", over, req,
                       over_used, over_lim, over);
        goto out;
    }
    if (grp != NULL) {
        long lim = quota_limit(r->srv, project, "server_group_members");
        if (lim >= 0 && cJSON_GetArraySize(mc_json_arr(grp->doc, "members")) + count > lim) {
            mc_reply_error(r, 403, NULL, "Quota exceeded, too many servers in group");
            goto out;
        }
    }
    char resv[16];
    unsigned char rb[4];
    mc_rand_bytes(r->srv, rb, 4);
    static const char hexd[] = "0123456789abcdef";
    resv[0] = 'r';
    resv[1] = '-';
    for (int i = 0; i < 4; i++) resv[2 + 2 * i] = hexd[rb[i] >> 4], resv[3 + 2 * i] = hexd[rb[i] & 15];
    resv[10] = '\0';
    char pass[16];
    if (cr.admin_pass == NULL) random_password(r->srv, pass, 13);
    const char *admin_pass = cr.admin_pass ? cr.admin_pass : pass;
    mc_record *first = NULL;
    long long build_ms = mc_knob(r, MC_KNOB_COMPUTE_BUILD_MS);
    for (long i = 0; i < count; i++) {
        char nm[300];
        if (count > 1)
            snprintf(nm, sizeof nm, "%s-%ld", name->valuestring, i + 1);
        else
            mc_strlcpy(nm, name->valuestring, sizeof nm);
        mc_record *s = server_new(r, nm, &cr, resv, (int)i, admin_pass);
        place(r, s, in, hints, grp);
        if (ports_or_reply(r, s, &cr) != 0) {
            mc_store_delete(&r->srv->world[MC_K_SERVER], s);
            create_undo(r->srv, first, grp);   /* the request failed: none of its servers stay */
            goto out;
        }
        if (cr.nnets > 0) mc_net_ports_set_status(r->srv, s->id, "DOWN");
        if (grp != NULL) cJSON_AddItemToArray(mc_json_arr(grp->doc, "members"), cJSON_CreateString(s->id));
        set_access_ips(SP(s), in);
        action_add(r, s, "create");
        schedule(s, OP_BUILD, build_ms, r->req_id);
        if (first == NULL) first = s;
    }
    cJSON *root = cJSON_CreateObject();
    const cJSON *rr = cJSON_GetObjectItemCaseSensitive(in, "return_reservation_id");
    if (cJSON_IsTrue(rr) || (cJSON_IsString(rr) && strcasecmp(rr->valuestring, "true") == 0)) {
        cJSON_AddStringToObject(root, "reservation_id", resv);
    } else if (!mc_profile_rewrites_bodies(r->srv)) {
        size_t len;
        char *text = create_reply_text(r, first, cr.sg_names, admin_pass, &len);
        char loc[600];
        size_t n = spec_put(loc, 0, sizeof loc, r->srv->public_url);
        n = spec_put(loc, n, sizeof loc, "/compute/v2.1/servers/");
        spec_put(loc, n, sizeof loc, first->id);
        mc_header_set(r, "Location", loc);
        cJSON_Delete(root);
        mc_reply_json(r, 202, mc_json_raw_take_len(text, len));
        goto out;
    } else {
        cJSON *o = cJSON_AddObjectToObject(root, "server");
        cJSON_AddStringToObject(o, "id", first->id);
        cJSON_AddItemToObject(o, "links", nova_links(r, "servers", first->id));
        cJSON_AddStringToObject(o, "OS-DCF:diskConfig", SP(first)->disk_auto ? "AUTO" : "MANUAL");
        cJSON *sga = cJSON_AddArrayToObject(o, "security_groups");
        cJSON *x;
        cJSON_ArrayForEach(x, cr.sg_names) {
            cJSON *g = cJSON_CreateObject();
            cJSON_AddStringToObject(g, "name", x->valuestring);
            cJSON_AddItemToArray(sga, g);
        }
        cJSON_AddStringToObject(o, "adminPass", admin_pass);
        char loc[600];
        size_t n = spec_put(loc, 0, sizeof loc, r->srv->public_url);
        n = spec_put(loc, n, sizeof loc, "/compute/v2.1/servers/");
        spec_put(loc, n, sizeof loc, first->id);
        mc_header_set(r, "Location", loc);
    }
    mc_reply_json(r, 202, root);
out:
    cJSON_Delete(sg_req);
    cJSON_Delete(cr.sg_names);
}

/* ---------------------------------------------------------------- update, delete */

void compute_server_update(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *in = mc_json_obj(r->body, "server");
    if (in == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. 'server' is a required property");
        return;
    }
    if (mc_check_or_reply(r, in, "name=s|accessIPv4=s|accessIPv6=s|OS-DCF:diskConfig=s") != 0) return;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(in, "name");
    if (n != NULL && name_or_reply(r, n) != 0) return;
    if (access_ip_or_reply(r, in, "accessIPv4", AF_INET) != 0) return;
    if (access_ip_or_reply(r, in, "accessIPv6", AF_INET6) != 0) return;
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(in, "description");
    if (dv != NULL) {
        if (!mv_ge(r, 19)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute server. Additional properties are not allowed "
                                         "('description' was unexpected)");
            return;
        }
        if (!(cJSON_IsNull(dv) || (cJSON_IsString(dv) && strlen(dv->valuestring) <= 255))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute description.");
            return;
        }
    }
    const cJSON *hv = cJSON_GetObjectItemCaseSensitive(in, "hostname");
    if (hv != NULL && hostname_or_reply(r, hv) != 0) return;
    server_priv *sp = SP(s);
    if (n != NULL) set_str(&sp->name, n->valuestring);
    if (dv != NULL) set_str(&sp->description, cJSON_IsString(dv) ? dv->valuestring : NULL);
    if (hv != NULL) set_str(&sp->hostname, hv->valuestring);
    set_access_ips(sp, in);
    set_disk_config(sp, in);
    touch(s);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "server", server_view(r, s, mv_ge(r, 75) ? V_SHOW : V_BASIC));
    mc_reply_json(r, 200, root);
}

void compute_server_delete(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    if (SP(s)->locked && !is_admin(r)) {
        mc_reply_error(r, 409, NULL, "Instance %s is locked", s->id);
        return;
    }
    if (strcmp(SP(s)->task_state, "deleting") == 0) {
        mc_reply_json(r, 204, NULL);
        return;
    }
    cancel(s);
    if (SP(s)->snapshot_id[0]) {
        mc_record *img = mc_image_find(r->srv, SP(s)->snapshot_id, s->project_id);
        if (img != NULL) mc_image_set_status(r->srv, img, "active");
        SP(s)->snapshot_id[0] = '\0';
    }
    action_add(r, s, "delete");
    set_state(s, NULL, "deleting", -1);
    long long ms = mc_knob(r, MC_KNOB_COMPUTE_DELETE_MS);
    if (ms == 0) {
        server_finish_delete(r->srv, s);
        action_finish(s, r->req_id, true, NULL);
    } else {
        schedule(s, OP_DELETE, ms, r->req_id);
    }
    mc_reply_json(r, 204, NULL);
}

/* ---------------------------------------------------------------- actions */

static const char *const ST_ACTIVE[] = {"active", NULL};
static const char *const ST_STOPPED[] = {"stopped", NULL};
static const char *const ST_ACTIVE_ERROR[] = {"active", "error", NULL};
static const char *const ST_REBOOT[] = {"active", "stopped", "paused", "suspended", "error", NULL};
static const char *const ST_REBUILD[] = {"active", "stopped", "error", NULL};
static const char *const ST_RESIZE[] = {"active", "stopped", NULL};
static const char *const ST_RESIZED[] = {"resized", NULL};
static const char *const ST_PAUSED[] = {"paused", NULL};
static const char *const ST_SUSPENDED[] = {"suspended", NULL};
static const char *const ST_SNAPSHOT[] = {"active", "stopped", "paused", "suspended", NULL};
static const char *const ST_SHELVE[] = {"active", "stopped", "paused", "suspended", NULL};
static const char *const ST_SHELVED[] = {"shelved", "shelved_offloaded", NULL};
static const char *const ST_RESCUE[] = {"active", "stopped", "error", NULL};
static const char *const ST_RESCUED[] = {"rescued", NULL};
static const char *const ST_PASSWORD[] = {"active", NULL};

static long long action_ms(mc_req *r) { return mc_knob(r, MC_KNOB_COMPUTE_ACTION_MS); }

/* Starts a timed transition: task_state now, 'op' after action_ms. */
static void start_op(mc_req *r, mc_record *s, const char *action, const char *task, server_op op, long long ms) {
    action_add(r, s, action);
    set_state(s, NULL, task, -1);
    schedule(s, op, ms, r->req_id);
}

static void act_reboot(mc_req *r, mc_record *s, cJSON *arg) {
    const char *type = mc_json_str(arg, "type");
    if (!cJSON_IsObject(arg) || type == NULL || (strcasecmp(type, "SOFT") != 0 && strcasecmp(type, "HARD") != 0)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute type. Value: %.16s. is not one of ['HARD', 'Hard', "
                                     "'hard', 'SOFT', 'Soft', 'soft']", type ? type : "None");
        return;
    }
    bool hard = strcasecmp(type, "HARD") == 0;
    server_priv *sp = SP(s);
    /* a hard reboot may interrupt a soft one */
    bool busy_ok = hard && strncmp(sp->task_state, "reboot", 6) == 0;
    if (state_or_reply(r, s, "reboot", ST_REBOOT, busy_ok, true) != 0) return;
    if (!hard && strcmp(sp->vm_state, "active") != 0) {
        reply_state_conflict(r, s, "reboot");
        return;
    }
    start_op(r, s, "reboot", hard ? "reboot_started_hard" : "reboot_started", OP_REBOOT, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

static void act_simple(mc_req *r, mc_record *s, const char *method, const char *action, const char *const *states,
                       const char *task, server_op op) {
    if (state_or_reply(r, s, method, states, false, true) != 0) return;
    start_op(r, s, action, task, op, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

static int rebuild_image_or_reply(mc_req *r, cJSON *arg, mc_record **img) {
    const char *ref = mc_json_str(arg, "imageRef");
    if (ref == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute rebuild. 'imageRef' is a required property");
        return -1;
    }
    const char *id = ref_id(ref);
    *img = mc_is_uuid(id) ? mc_image_find(r->srv, id, req_project(r)) : NULL;
    if (*img == NULL) {
        mc_reply_error(r, 400, NULL, "Image %.64s could not be found.", id);
        return -1;
    }
    if (!mc_str_eq(mc_json_str((*img)->doc, "status"), "active")) {
        mc_reply_error(r, 400, NULL, "Image %.64s is not active.", id);
        return -1;
    }
    return 0;
}

static void act_rebuild(mc_req *r, mc_record *s, cJSON *arg) {
    if (!cJSON_IsObject(arg)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute rebuild.");
        return;
    }
    mc_record *img;
    if (rebuild_image_or_reply(r, arg, &img) != 0) return;
    bool volume_backed = SP(s)->image_id[0] == '\0';
    if (volume_backed && !mv_ge(r, 93)) {   /* 2.93 reimages the root volume */
        mc_reply_error(r, 400, NULL, "Image %s is unacceptable: Unable to rebuild with a different image for a "
                                     "volume-backed server.", img->id);
        return;
    }
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(arg, "name");
    if (n != NULL && name_or_reply(r, n) != 0) return;
    if (access_ip_or_reply(r, arg, "accessIPv4", AF_INET) != 0) return;
    if (access_ip_or_reply(r, arg, "accessIPv6", AF_INET6) != 0) return;
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(arg, "metadata");
    if (md != NULL && metadata_or_reply(r, md, s->project_id, 0) != 0) return;
    const cJSON *ap = cJSON_GetObjectItemCaseSensitive(arg, "adminPass");
    if (ap != NULL && !cJSON_IsString(ap)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute adminPass.");
        return;
    }
    const cJSON *kn = mv_ge(r, 54) ? cJSON_GetObjectItemCaseSensitive(arg, "key_name") : NULL;
    if (kn != NULL && !cJSON_IsNull(kn) && (!cJSON_IsString(kn) || keypair_find(r->srv, req_user(r), kn->valuestring) == NULL)) {
        mc_reply_error(r, 400, NULL, "Invalid key_name provided.");
        return;
    }
    const cJSON *dv = mv_ge(r, 19) ? cJSON_GetObjectItemCaseSensitive(arg, "description") : NULL;
    if (dv != NULL && !(cJSON_IsNull(dv) || (cJSON_IsString(dv) && strlen(dv->valuestring) <= 255))) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute description.");
        return;
    }
    const cJSON *hv = mv_ge(r, 90) ? cJSON_GetObjectItemCaseSensitive(arg, "hostname") : NULL;
    if (hv != NULL && hostname_or_reply(r, hv) != 0) return;
    mc_record *flv = mc_store_find(&r->srv->world[MC_K_FLAVOR], flavor_id(SP(s)));
    if (flv != NULL && image_fits_or_reply(r, img, flv) != 0) return;
    if (state_or_reply(r, s, "rebuild", ST_REBUILD, false, true) != 0) return;
    server_priv *sp = SP(s);
    if (!volume_backed) mc_strlcpy(sp->image_id, img->id, sizeof sp->image_id);
    if (n) set_str(&sp->name, n->valuestring);
    if (md) {
        cJSON_Delete(sp->metadata);
        sp->metadata = cJSON_Duplicate(md, 1);
    }
    set_access_ips(sp, arg);
    set_disk_config(sp, arg);
    if (kn) set_str(&sp->key_name, cJSON_IsString(kn) ? kn->valuestring : NULL);
    if (dv) set_str(&sp->description, cJSON_IsString(dv) ? dv->valuestring : NULL);
    if (hv) set_str(&sp->hostname, hv->valuestring);
    if (mv_ge(r, 57) && mc_json_has(arg, "user_data")) set_str(&sp->user_data, mc_json_str(arg, "user_data"));
    char pass[16];
    random_password(r->srv, pass, 13);
    const char *admin_pass = ap ? ap->valuestring : pass;
    set_str(&sp->admin_pass, admin_pass);
    sp->launched_at = -1;
    start_op(r, s, "rebuild", "rebuilding", OP_REBUILD, action_ms(r));
    cJSON *root = cJSON_CreateObject();
    cJSON *v = server_view(r, s, mv_ge(r, 75) ? V_SHOW : V_BASIC);
    if (mv_ge(r, 54) && !mc_json_has(v, "key_name")) mc_json_set_str(v, "key_name", sp->key_name);
    if (mv_ge(r, 57)) {
        mc_json_set_str(v, "user_data", sp->user_data);
        cJSON_DeleteItemFromObjectCaseSensitive(v, "OS-EXT-SRV-ATTR:user_data");
    }
    cJSON_AddStringToObject(v, "adminPass", admin_pass);
    cJSON_AddItemToObject(root, "server", v);
    mc_reply_json(r, 202, root);
}

/* A resize up counts the growth of cores and RAM against the project's
 * quota, as Nova's resize does (403 with Nova's message). */
static int resize_quota_or_reply(mc_req *r, mc_record *s, mc_record *f) {
    long dc = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f->doc, "vcpus")) - SP(s)->flavor->vcpus;
    long dr = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f->doc, "ram")) - SP(s)->flavor->ram;
    long lc = quota_limit(r->srv, s->project_id, "cores"), lr = quota_limit(r->srv, s->project_id, "ram");
    if ((dc <= 0 || lc < 0) && (dr <= 0 || lr < 0)) return 0;
    usage u;
    project_usage(r->srv, s->project_id, &u);
    if (dc > 0 && lc >= 0 && u.cores + dc > lc) {
        mc_reply_error(r, 403, NULL, "Quota exceeded for cores: Requested %ld, but already used %ld of %ld cores", dc, u.cores, lc);
        return -1;
    }
    if (dr > 0 && lr >= 0 && u.ram + dr > lr) {
        mc_reply_error(r, 403, NULL, "Quota exceeded for ram: Requested %ld, but already used %ld of %ld ram", dr, u.ram, lr);
        return -1;
    }
    return 0;
}

static void act_resize(mc_req *r, mc_record *s, cJSON *arg) {
    const char *ref = NULL;
    char buf[64];
    const cJSON *fv = cJSON_IsObject(arg) ? cJSON_GetObjectItemCaseSensitive(arg, "flavorRef") : NULL;
    if (cJSON_IsString(fv)) ref = ref_id(fv->valuestring);
    else if (cJSON_IsNumber(fv)) {
        snprintf(buf, sizeof buf, "%d", fv->valueint);
        ref = buf;
    }
    if (ref == NULL || ref[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute resize. 'flavorRef' is a required property");
        return;
    }
    mc_record *f = flavor_find(r, ref);
    if (f == NULL) {
        mc_reply_error(r, 400, NULL, "Unable to find flavor with ID %.64s", ref);
        return;
    }
    if (state_or_reply(r, s, "resize", ST_RESIZE, false, true) != 0) return;
    if (mc_str_eq(flavor_id(SP(s)), f->id)) {
        mc_reply_error(r, 400, NULL, "When resizing, instances must change flavor!");
        return;
    }
    mc_record *img = s_image(SP(s))[0] ? mc_image_find(r->srv, s_image(SP(s)), s->project_id) : NULL;
    if (image_fits_or_reply(r, img, f) != 0) return;
    if (resize_quota_or_reply(r, s, f) != 0) return;
    server_priv *sp = SP(s);
    mc_record *old = mc_store_find(&r->srv->world[MC_K_FLAVOR], flavor_id(sp));
    compute_migration_add(r, s, "resize", old ? (long)old->seq + 1 : 0, (long)f->seq + 1, sp->host, sp->host);
    sp->old_host = sp->host;
    snap_release(sp->old_flavor);
    sp->old_flavor = sp->flavor;
    sp->flavor = flavor_snapshot(r->srv, f);
    host_sync(sp);
    if (strcmp(sp->vm_state, "stopped") == 0) sp->resize_from_stopped = true;
    set_disk_config(sp, arg);
    start_op(r, s, "resize", "resize_prep", OP_RESIZE, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

/* The target of a migration: the named host (which must exist, be up and
 * not be the server's), else the least loaded other one; 0 after a reply. */
static int migration_target_or_reply(mc_req *r, mc_record *s, const char *host, bool live) {
    server_priv *sp = SP(s);
    if (host != NULL) {
        int h = compute_host_index(host);
        if (h == 0) {
            mc_reply_error(r, 400, NULL, "Compute host %.255s could not be found.", host);
            return 0;
        }
        if (h == sp->host) {
            if (live) mc_reply_error(r, 400, NULL, "Unable to migrate instance (%s) to current host (%.255s).", s->id, host);
            else mc_reply_error(r, 400, NULL, "Cannot migrate to the host where the server exists.");
            return 0;
        }
        if (compute_host_pick(r->srv, NULL, 0, 1u << (h - 1)) != h) {
            mc_reply_error(r, 400, NULL, "No valid host was found. Compute service of %.255s is unavailable at this time.", host);
            return 0;
        }
        return h;
    }
    int h = compute_host_pick(r->srv, NULL, sp->host ? 1u << (sp->host - 1) : 0, 0);
    if (h == 0) mc_reply_error(r, 400, NULL, live ? "No valid host was found." : "No valid host was found. No valid host found for cold migrate");
    return h;
}

/* Admin cold migration: a resize to the same flavor on another host
 * (VERIFY_RESIZE, then confirmResize or revertResize). */
static void act_migrate(mc_req *r, mc_record *s, cJSON *arg) {
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-migrate-server:migrate to be performed.");
        return;
    }
    if (!cJSON_IsNull(arg) && !cJSON_IsObject(arg)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute migrate. Value: not an object.");
        return;
    }
    if (cJSON_IsObject(arg) && mc_check_or_reply(r, arg, mv_ge(r, 56) ? "!host=S" : "!") != 0) return;
    if (state_or_reply(r, s, "migrate", ST_RESIZE, false, true) != 0) return;
    int h = migration_target_or_reply(r, s, cJSON_IsObject(arg) ? mc_json_str(arg, "host") : NULL, false);
    if (h == 0) return;
    server_priv *sp = SP(s);
    mc_record *f = mc_store_find(&r->srv->world[MC_K_FLAVOR], flavor_id(sp));
    long fid = f ? (long)f->seq + 1 : 0;
    compute_migration_add(r, s, "migration", fid, fid, sp->host, h);
    snap_release(sp->old_flavor);
    sp->old_flavor = NULL;
    sp->old_host = sp->host;
    sp->host = (unsigned char)h;
    host_sync(sp);
    sp->resize_from_stopped = strcmp(sp->vm_state, "stopped") == 0;
    start_op(r, s, "migrate", "resize_prep", OP_RESIZE, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

/* Admin live migration: MIGRATING for action_ms, then the same state on
 * the other host. From 2.34 the scheduling is asynchronous: no host is a
 * failed migration and action, not a 400. */
static void act_live_migrate(mc_req *r, mc_record *s, cJSON *arg) {
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-migrate-server:migrate_live to be performed.");
        return;
    }
    const char *spec = mv_ge(r, 68) ? "!host=S|block_migration=v" : mv_ge(r, 30) ? "!host=S|block_migration=v|force=b"
                       : mv_ge(r, 25) ? "!host=S|block_migration=v" : "!host=S|block_migration=v|disk_over_commit=v";
    if (!cJSON_IsObject(arg)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute os-migrateLive. Value: not an object.");
        return;
    }
    if (mc_check_or_reply(r, arg, spec) != 0) return;
    const cJSON *bm = cJSON_GetObjectItemCaseSensitive(arg, "block_migration");
    bool bm_ok = cJSON_IsBool(bm) || (cJSON_IsString(bm) && (mv_ge(r, 25) ? strcmp(bm->valuestring, "auto") == 0 : false));
    bool bs;
    if (!bm_ok && cJSON_IsString(bm) && mc_str_bool(bm->valuestring, &bs)) bm_ok = true;
    if (!bm_ok || !mc_json_has(arg, "host") || (!mv_ge(r, 25) && !mc_json_has(arg, "disk_over_commit"))) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute os-migrateLive. 'host' and 'block_migration'%s are required.",
                       mv_ge(r, 25) ? "" : " and 'disk_over_commit'");
        return;
    }
    static const char *const live_states[] = {"active", "paused", NULL};
    if (state_or_reply(r, s, "os-migrateLive", live_states, false, true) != 0) return;
    server_priv *sp = SP(s);
    const char *host = mc_json_str(arg, "host");
    int h;
    if (host == NULL && mv_ge(r, 34)) {
        h = compute_host_pick(r->srv, NULL, sp->host ? 1u << (sp->host - 1) : 0, 0);
        if (h == 0) {
            compute_migration_add(r, s, "live-migration", -1, -1, sp->host, 0);
            compute_migration_status(r->srv, s->id, "error");
            action_add(r, s, "live-migration");
            action_finish(s, r->req_id, false, "No valid host was found.");
            changed(s);
            mc_reply_json(r, 202, NULL);
            return;
        }
    } else if ((h = migration_target_or_reply(r, s, host, true)) == 0) {
        return;
    }
    compute_migration_add(r, s, "live-migration", -1, -1, sp->host, h);
    compute_migration_status(r->srv, s->id, "running");
    sp->old_host = sp->host;
    sp->host = (unsigned char)h;
    host_sync(sp);
    start_op(r, s, "live-migration", "migrating", OP_LIVE, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

/* Admin evacuate (Nova's os-evacuate): rebuilds a server whose host's
 * nova-compute is down (forced down here; a host that is up is 400) on
 * another host, the one named or the scheduler's. Nova's schema per range
 * (onSharedStorage before 2.14, force 2.29-2.67); the reply is 200 with
 * the adminPass before 2.14 and empty after; the server ends ACTIVE (or
 * STOPPED when it was), and from 2.95 always STOPPED. No host to go to:
 * the migration is "error" and the server ERROR, as Nova's conductor. */
static void act_evacuate(mc_req *r, mc_record *s, cJSON *arg) {
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-evacuate to be performed.");
        return;
    }
    if (!cJSON_IsObject(arg)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute evacuate. Value: not an object.");
        return;
    }
    const char *spec = mv_ge(r, 68) ? "!host=s255|adminPass=s" : mv_ge(r, 29) ? "!host=s255|adminPass=s|force=b"
                       : mv_ge(r, 14) ? "!host=s255|adminPass=s" : "!host=s255|onSharedStorage=b|adminPass=s";
    if (mc_check_or_reply(r, arg, spec) != 0) return;
    if (!mv_ge(r, 14) && !mc_json_has(arg, "onSharedStorage")) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute evacuate. Value: {}. 'onSharedStorage' is a "
                                     "required property");
        return;
    }
    const char *host = mc_json_str(arg, "host");
    bool flag;
    const cJSON *force = cJSON_GetObjectItemCaseSensitive(arg, "force");
    if (mv_ge(r, 29) && force != NULL && (cJSON_IsTrue(force) || (cJSON_IsString(force) && mc_str_bool(force->valuestring, &flag) && flag)) &&
        host == NULL) {
        mc_reply_error(r, 400, NULL, "Can't force to a non-provided destination");
        return;
    }
    const cJSON *shared = cJSON_GetObjectItemCaseSensitive(arg, "onSharedStorage");
    bool on_shared = cJSON_IsTrue(shared) || (cJSON_IsString(shared) && mc_str_bool(shared->valuestring, &flag) && flag);
    if (!mv_ge(r, 14) && on_shared && mc_json_has(arg, "adminPass")) {
        mc_reply_error(r, 400, NULL, "admin password can't be changed on existing disk");
        return;
    }
    server_priv *sp = SP(s);
    int h = host != NULL ? compute_host_index(host) : 0;
    if (host != NULL && (h == 0 || compute_host_status(r->srv, h)[0] == '\0')) {
        mc_reply_error(r, 404, NULL, "Compute host %.255s not found.", host);
        return;
    }
    if (h != 0 && h == sp->host) {
        mc_reply_error(r, 400, NULL, "The target host can't be the same one.");
        return;
    }
    if (state_or_reply(r, s, "evacuate", ST_REBUILD, false, true) != 0) return;
    const char *src = sp->host ? compute_host_status(r->srv, sp->host) : "";
    if (strcmp(src, "UP") == 0 || strcmp(src, "MAINTENANCE") == 0) {
        mc_reply_error(r, 400, NULL, "Compute service of %s is still in use.", compute_host_name(sp->host));
        return;
    }
    if (h != 0 && compute_host_pick(r->srv, NULL, 0, 1u << (h - 1)) != h) h = 0;   /* the scheduler refuses it */
    if (host == NULL) h = compute_host_pick(r->srv, sp->pinned_az, sp->host ? 1u << (sp->host - 1) : 0, 0);
    char pass[16];
    random_password(r->srv, pass, 13);
    compute_migration_add(r, s, "evacuation", -1, -1, sp->host, h);
    if (h == 0) {
        compute_migration_status(r->srv, s->id, "error");
        action_add(r, s, "evacuate");
        action_finish(s, r->req_id, false, "No valid host was found.");
        set_state(s, "error", NULL, -1);
    } else {
        sp->evacuate_stop = mv_ge(r, 95) || strcmp(sp->vm_state, "stopped") == 0;
        sp->old_host = sp->host;
        sp->host = (unsigned char)h;
        host_sync(sp);
        start_op(r, s, "evacuate", "rebuilding", OP_EVACUATE, action_ms(r));
    }
    if (mv_ge(r, 14)) {
        mc_reply_json(r, 200, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    const char *ap = mc_json_str(arg, "adminPass");
    cJSON_AddStringToObject(root, "adminPass", ap ? ap : pass);
    mc_reply_json(r, 200, root);
}

static void act_confirm_resize(mc_req *r, mc_record *s) {
    if (state_or_reply(r, s, "confirmResize", ST_RESIZED, false, true) != 0) return;
    server_priv *sp = SP(s);
    snap_release(sp->old_flavor);
    sp->old_flavor = NULL;
    bool stopped = sp->resize_from_stopped;
    sp->resize_from_stopped = false;
    action_instant(r, s, "confirmResize");
    compute_migration_status(r->srv, s->id, "confirmed");
    set_state(s, stopped ? "stopped" : "active", NULL, stopped ? 4 : 1);
    mc_reply_json(r, 204, NULL);
}

/* 202 for createImage/createBackup: the image's id in the body from 2.45,
 * in the Location header before. */
static void reply_image_accepted(mc_req *r, const mc_record *img) {
    if (mv_ge(r, 45)) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "image_id", img->id);
        mc_reply_json(r, 202, root);
        return;
    }
    char loc[600];
    snprintf(loc, sizeof loc, "%s/compute/v2.1/images/%s", r->srv->public_url, img->id);
    mc_header_set(r, "Location", loc);
    mc_reply_json(r, 202, NULL);
}

static void act_create_image(mc_req *r, mc_record *s, cJSON *arg) {
    const char *name = cJSON_IsObject(arg) ? mc_json_str(arg, "name") : NULL;
    if (name == NULL || name[0] == '\0' || strlen(name) > 255) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute createImage. 'name' is a required property");
        return;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(arg, "metadata");
    if (md != NULL && metadata_or_reply(r, md, s->project_id, 0) != 0) return;
    if (state_or_reply(r, s, "createImage", ST_SNAPSHOT, false, false) != 0) return;
    cJSON *props = cJSON_CreateObject();
    cJSON_AddStringToObject(props, "instance_uuid", s->id);
    cJSON_AddStringToObject(props, "image_type", "snapshot");
    cJSON_AddStringToObject(props, "user_id", req_user(r));
    const char *base = s_image(SP(s));
    if (base && base[0]) cJSON_AddStringToObject(props, "base_image_ref", base);
    /* as Nova: min_ram from the base image, min_disk at least the flavor's root disk */
    mc_record *bimg = base[0] ? mc_image_find(r->srv, base, s->project_id) : NULL;
    double bram = bimg ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(bimg->doc, "min_ram")) : 0;
    double bdisk = bimg ? cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(bimg->doc, "min_disk")) : 0;
    double fdisk = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(SP(s)->flavor->doc, "disk"));
    if (bram != bram) bram = 0;
    if (bdisk != bdisk) bdisk = 0;
    if (fdisk == fdisk && fdisk > bdisk) bdisk = fdisk;
    cJSON_AddNumberToObject(props, "min_ram", bram);
    cJSON_AddNumberToObject(props, "min_disk", bdisk);
    if (bimg != NULL) {
        const char *df = mc_json_str(bimg->doc, "disk_format"), *cf = mc_json_str(bimg->doc, "container_format");
        if (df) cJSON_AddStringToObject(props, "disk_format", df);
        if (cf) cJSON_AddStringToObject(props, "container_format", cf);
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, md) mc_json_set_str(props, x->string, x->valuestring);
    mc_record *img = mc_image_snapshot_create(r->srv, s->project_id, name, props);
    cJSON_Delete(props);
    if (img == NULL) {
        mc_reply_error(r, 503, NULL, "The image service is not available to store the snapshot.");
        return;
    }
    mc_image_set_status(r->srv, img, "saving");
    mc_strlcpy(SP(s)->snapshot_id, img->id, sizeof SP(s)->snapshot_id);
    start_op(r, s, "createImage", "image_snapshot", OP_SNAPSHOT, mc_knob(r, MC_KNOB_COMPUTE_SNAPSHOT_MS));
    reply_image_accepted(r, img);
}

static void act_lock(mc_req *r, mc_record *s, cJSON *arg, bool lock) {
    server_priv *sp = SP(s);
    if (lock) {
        const char *reason = NULL;
        if (cJSON_IsObject(arg) && mc_json_has(arg, "locked_reason")) {
            if (!mv_ge(r, 73) || (reason = mc_json_str(arg, "locked_reason")) == NULL || strlen(reason) > 255) {
                mc_reply_error(r, 400, NULL, "Invalid input for field/attribute lock.");
                return;
            }
        }
        sp->locked = true;
        set_str(&sp->locked_reason, reason);
        sp->locked_by = is_admin(r) ? LOCKED_BY_ADMIN : LOCKED_BY_OWNER;
        action_instant(r, s, "lock");
    } else {
        if (sp->locked && !is_admin(r) && sp->locked_by == LOCKED_BY_ADMIN) {
            mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override to be performed.");
            return;
        }
        sp->locked = false;
        set_str(&sp->locked_reason, NULL);
        sp->locked_by = LOCKED_BY_NONE;
        action_instant(r, s, "unlock");
    }
    touch(s);
    mc_reply_json(r, 202, NULL);
}

typedef struct sg_port_ctx {
    const char *sg_id;
    bool add;
} sg_port_ctx;

static void port_sg_update(mc_record *port, void *arg) {
    sg_port_ctx *c = arg;
    cJSON *a = mc_json_arr(port->doc, "security_groups");
    if (a == NULL) return;
    int i = 0, idx = -1;
    cJSON *x;
    cJSON_ArrayForEach(x, a) {
        if (cJSON_IsString(x) && strcmp(x->valuestring, c->sg_id) == 0) idx = i;
        i++;
    }
    if (c->add && idx < 0) cJSON_AddItemToArray(a, cJSON_CreateString(c->sg_id));
    if (!c->add && idx >= 0) cJSON_DeleteItemFromArray(a, idx);
}

static void act_secgroup(mc_req *r, mc_record *s, cJSON *arg, bool add) {
    const char *name = cJSON_IsObject(arg) ? mc_json_str(arg, "name") : NULL;
    if (name == NULL || name[0] == '\0') {
        mc_reply_error(r, 400, NULL, "Security group not specified");
        return;
    }
    mc_record *g = mc_net_secgroup_find(r->srv, name, s->project_id);
    if (g == NULL) {
        mc_reply_error(r, 404, NULL, "Security group %.255s not found for project %s.", name, s->project_id);
        return;
    }
    const char *gname = mc_json_str(g->doc, "name");
    cJSON *names = sg_array(SP(s));
    int i = 0, idx = -1;
    cJSON *x;
    cJSON_ArrayForEach(x, names) {
        if (strcmp(x->valuestring, gname) == 0) idx = i;
        i++;
    }
    if (add && idx >= 0) {
        mc_reply_error(r, 400, NULL, "Security group %.255s is already associated with the instance %s", gname, s->id);
        return;
    }
    if (!add && idx < 0) {
        mc_reply_error(r, 400, NULL, "Security group %.255s not associated with the instance %s", gname, s->id);
        return;
    }
    if (add)
        cJSON_AddItemToArray(names, cJSON_CreateString(gname));
    else
        cJSON_DeleteItemFromArray(names, idx);
    sg_port_ctx c = {g->id, add};
    mc_net_ports_each(r->srv, s->id, port_sg_update, &c);
    touch(s);
    mc_reply_json(r, 202, NULL);
}

static void act_console(mc_req *r, mc_record *s, cJSON *arg) {
    long length = -1;
    const cJSON *l = cJSON_IsObject(arg) ? cJSON_GetObjectItemCaseSensitive(arg, "length") : NULL;
    if (l != NULL && !cJSON_IsNull(l)) {
        if (cJSON_IsNumber(l)) length = (long)l->valuedouble;
        else if (!(cJSON_IsString(l) && mc_parse_long(l->valuestring, -1, 1L << 30, &length))) length = -2;
        if (length < -1) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute length.");
            return;
        }
    }
    if (strcmp(SP(s)->vm_state, "building") == 0) {
        mc_reply_error(r, 409, NULL, "Instance %s is not ready", s->id);
        return;
    }
    char log[2048];
    snprintf(log, sizeof log,
             "[    0.000000] Linux version 6.1.0 (mockcloud) #1 SMP\n"
             "[    0.400000] Booting the kernel.\n"
             "[    1.200000] cloud-init[1]: Cloud-init v. 23.1 running 'init' (mockcloud)\n"
             "[    1.900000] cloud-init[1]: ci-info: no authorized SSH keys fingerprints found\n"
             "\n%s login: \n", S(SP(s)->hostname));
    /* as Nova: with a length, the last N of the lines split on '\n' */
    const char *out = log;
    if (length >= 0) {
        long n = 0;
        const char *p = log + strlen(log);
        while (p > log) {
            if (p[-1] == '\n' && ++n == length) break;
            p--;
        }
        out = length == 0 ? "" : p;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "output", out);
    mc_reply_json(r, 200, root);
}

static void act_password(mc_req *r, mc_record *s, cJSON *arg) {
    const char *p = cJSON_IsObject(arg) ? mc_json_str(arg, "adminPass") : NULL;
    if (p == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute changePassword. 'adminPass' is a required property");
        return;
    }
    if (state_or_reply(r, s, "changePassword", ST_PASSWORD, false, true) != 0) return;
    set_str(&SP(s)->admin_pass, p);
    action_instant(r, s, "changePassword");
    mc_reply_json(r, 202, NULL);
}

/* unshelve: from 2.77 an "availability_zone" for a SHELVED_OFFLOADED
 * server, from 2.91 also null (unpins the server from its zone) and an
 * admin's "host" (Nova's compute API unshelve: lock and state first, then
 * the policy, the state the options need, the host, the zone, the host in
 * the zone). */
static void act_unshelve(mc_req *r, mc_record *s, const cJSON *arg) {
    server_priv *sp = SP(s);
    bool az_passed = false;
    const char *new_az = NULL, *host = NULL;
    if (mv_ge(r, 77) && arg != NULL && !cJSON_IsNull(arg)) {
        if (!cJSON_IsObject(arg)) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute unshelve. Value: %s. is not valid under any of "
                                         "the given schemas", cJSON_IsString(arg) ? arg->valuestring : "(not an object)");
            return;
        }
        if (mc_check_or_reply(r, arg, mv_ge(r, 91) ? "!availability_zone=S255|host=s255" : "!availability_zone=s255") != 0)
            return;
        az_passed = mc_json_has(arg, "availability_zone");
        new_az = mc_json_str(arg, "availability_zone");
        host = mv_ge(r, 91) ? mc_json_str(arg, "host") : NULL;
    }
    if (state_or_reply(r, s, "unshelve", ST_SHELVED, false, true) != 0) return;
    if (host != NULL && !is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-shelve:unshelve_to_host to be performed.");
        return;
    }
    if (strcmp(sp->vm_state, "shelved") == 0 && (az_passed || host != NULL)) {
        mc_reply_error(r, 409, NULL, "Specifying an availability zone or a host when unshelving server \"%s\" with status "
                                     "\"SHELVED\" is not supported. The server status must be SHELVED_OFFLOADED.", s->id);
        return;
    }
    int h = host != NULL ? compute_host_index(host) : 0;
    if (host != NULL && (h == 0 || compute_host_status(r->srv, h)[0] == '\0')) {
        mc_reply_error(r, 400, NULL, "Compute host %.255s could not be found.", host);
        return;
    }
    const char *zone = az_passed ? new_az : sp->pinned_az;
    if (new_az != NULL && (zone = compute_zone_find(r->srv, new_az)) == NULL) {
        mc_reply_error(r, 400, NULL, "The requested availability zone is not available");
        return;
    }
    if (h != 0 && zone != NULL && strcmp(compute_host_zone(r->srv, h), zone) != 0) {
        mc_reply_error(r, 409, NULL, "Host \"%s\" is not in the availability zone \"%s\".", host, zone);
        return;
    }
    if (az_passed) set_str(&sp->pinned_az, zone);
    sp->unshelve_host = (unsigned char)h;
    start_op(r, s, "unshelve", "unshelving", OP_UNSHELVE, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

/* Shelving snapshots the server into "<name>-shelved" (Nova keeps it in
 * Glance until unshelve). */
static void act_shelve(mc_req *r, mc_record *s) {
    if (state_or_reply(r, s, "shelve", ST_SHELVE, false, true) != 0) return;
    char name[300];
    snprintf(name, sizeof name, "%s-shelved", S(SP(s)->name));
    cJSON *props = cJSON_CreateObject();
    cJSON_AddStringToObject(props, "instance_uuid", s->id);
    cJSON_AddStringToObject(props, "image_type", "snapshot");
    const char *base = s_image(SP(s));
    if (base[0]) cJSON_AddStringToObject(props, "base_image_ref", base);
    mc_record *img = mc_image_snapshot_create(r->srv, s->project_id, name, props);
    cJSON_Delete(props);
    if (img != NULL) {
        mc_image_set_status(r->srv, img, "active");
        set_str(&SP(s)->shelved_image_id, img->id);
    }
    start_op(r, s, "shelve", "shelving", OP_SHELVE, action_ms(r));
    mc_reply_json(r, 202, NULL);
}

/* createBackup: a snapshot with image_type "backup"; only the newest
 * 'rotation' backups of that type are kept. */
static void act_create_backup(mc_req *r, mc_record *s, cJSON *arg) {
    const char *name = cJSON_IsObject(arg) ? mc_json_str(arg, "name") : NULL;
    const char *type = cJSON_IsObject(arg) ? mc_json_str(arg, "backup_type") : NULL;
    const cJSON *rot = cJSON_IsObject(arg) ? cJSON_GetObjectItemCaseSensitive(arg, "rotation") : NULL;
    long rotation = -1;
    if (cJSON_IsNumber(rot)) rotation = (long)rot->valuedouble;
    else if (cJSON_IsString(rot) && !mc_parse_long(rot->valuestring, 0, 1000000, &rotation)) rotation = -1;
    if (name == NULL || name[0] == '\0' || type == NULL || rotation < 0) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute createBackup: 'name', 'backup_type' and a "
                                     "non-negative 'rotation' are required.");
        return;
    }
    const cJSON *md = cJSON_GetObjectItemCaseSensitive(arg, "metadata");
    if (md != NULL && metadata_or_reply(r, md, s->project_id, 0) != 0) return;
    if (state_or_reply(r, s, "createBackup", ST_SNAPSHOT, false, false) != 0) return;
    mc_record *img = NULL;
    if (rotation > 0) {
        cJSON *props = cJSON_CreateObject();
        cJSON_AddStringToObject(props, "instance_uuid", s->id);
        cJSON_AddStringToObject(props, "image_type", "backup");
        cJSON_AddStringToObject(props, "backup_type", type);
        cJSON_AddStringToObject(props, "user_id", req_user(r));
        const char *base = s_image(SP(s));
        if (base[0]) cJSON_AddStringToObject(props, "base_image_ref", base);
        const cJSON *x;
        cJSON_ArrayForEach(x, md) mc_json_set_str(props, x->string, x->valuestring);
        img = mc_image_snapshot_create(r->srv, s->project_id, name, props);
        cJSON_Delete(props);
        if (img == NULL) {
            mc_reply_error(r, 503, NULL, "The image service is not available to store the backup.");
            return;
        }
        mc_image_set_status(r->srv, img, "active");
    }
    /* rotation: newest first, keep 'rotation' */
    long kept = 0;
    mc_record *im = mc_store_last(&r->srv->world[MC_K_IMAGE]);
    while (im != NULL) {
        mc_record *prev = mc_store_prev(im);
        if (mc_str_eq(mc_json_str(im->doc, "instance_uuid"), s->id) &&
            mc_str_eq(mc_json_str(im->doc, "image_type"), "backup") &&
            mc_str_eq(mc_json_str(im->doc, "backup_type"), type) &&
            !mc_str_eq(mc_json_str(im->doc, "status"), "deleted")) {
            if (++kept > rotation) mc_image_delete(r->srv, im);
        }
        im = prev;
    }
    action_instant(r, s, "createBackup");
    if (img == NULL) {
        mc_reply_json(r, 202, NULL);
        return;
    }
    reply_image_accepted(r, img);
}

/* Admin os-resetState: vm_state active or error, task cleared. */
static void act_reset_state(mc_req *r, mc_record *s, cJSON *arg) {
    if (!is_admin(r)) {
        mc_reply_error(r, 403, NULL, "Policy doesn't allow os_compute_api:os-admin-actions:reset_state to be performed.");
        return;
    }
    const char *st = cJSON_IsObject(arg) ? mc_json_str(arg, "state") : NULL;
    if (st == NULL || (strcmp(st, "active") != 0 && strcmp(st, "error") != 0)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute state. Value: %.32s. is not one of ['active', 'error']",
                       st ? st : "None");
        return;
    }
    cancel(s);
    action_instant(r, s, "resetState");
    set_state(s, st, NULL, -1);
    mc_reply_json(r, 202, NULL);
}

/* The members of each action's object (Nova's schemas; '!' = no others). */
static int action_schema_or_reply(mc_req *r, const cJSON *arg) {
    static const struct { const char *action, *spec; bool nullable; } schemas[] = {
        {"reboot", "!type=s", false},
        {"resize", "!flavorRef=k|OS-DCF:diskConfig=s", false},
        {"createImage", "!name=s|metadata=m", false},
        {"createBackup", "!name=s|backup_type=s|rotation=i|metadata=m", false},
        {"rebuild", "imageRef=s|name=s|adminPass=s|metadata=m|preserve_ephemeral=b|OS-DCF:diskConfig=s|"
                    "accessIPv4=s|accessIPv6=s|personality=a|description=S|key_name=S|user_data=S|"
                    "trusted_image_certificates=A|hostname=s", false},
        {"changePassword", "!adminPass=s", false},
        {"addSecurityGroup", "!name=s255", false},
        {"removeSecurityGroup", "!name=s255", false},
        {"os-getConsoleOutput", "!length=N", false},
        {"os-resetState", "!state=s", false},
        {"lock", "!locked_reason=s", true},
    };
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        if (strcmp(arg->string, schemas[i].action) != 0) continue;
        if (!cJSON_IsObject(arg) && !(schemas[i].nullable && cJSON_IsNull(arg))) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: not an object.", arg->string);
            return -1;
        }
        return mc_check_or_reply(r, arg, schemas[i].spec);
    }
    return 0;
}

void compute_server_action(mc_req *r) {
    const cJSON *gone = r->body != NULL ? r->body->child : NULL;
    if (gone != NULL && gone->string != NULL &&
        (strcmp(gone->string, "resetNetwork") == 0 || strcmp(gone->string, "injectNetworkInfo") == 0)) {
        /* removed with the XenAPI driver: Nova's 410, before any lookup */
        mc_reply_error(r, 410, NULL, "This resource is no longer available.  No forwarding address is given.");
        return;
    }
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *first = r->body->child;
    if (first == NULL) {
        mc_reply_error(r, 400, NULL, "Malformed request body: no action given.");
        return;
    }
    const char *a = first->string;
    if (action_schema_or_reply(r, first) != 0) return;
    if (strcmp(a, "reboot") == 0) act_reboot(r, s, first);
    else if (strcmp(a, "os-stop") == 0) act_simple(r, s, "stop", "stop", ST_ACTIVE_ERROR, "powering-off", OP_STOP);
    else if (strcmp(a, "os-start") == 0) act_simple(r, s, "start", "start", ST_STOPPED, "powering-on", OP_START);
    else if (strcmp(a, "pause") == 0) act_simple(r, s, "pause", "pause", ST_ACTIVE, "pausing", OP_PAUSE);
    else if (strcmp(a, "unpause") == 0) act_simple(r, s, "unpause", "unpause", ST_PAUSED, "unpausing", OP_UNPAUSE);
    else if (strcmp(a, "suspend") == 0) act_simple(r, s, "suspend", "suspend", ST_ACTIVE, "suspending", OP_SUSPEND);
    else if (strcmp(a, "resume") == 0) act_simple(r, s, "resume", "resume", ST_SUSPENDED, "resuming", OP_RESUME);
    else if (strcmp(a, "shelve") == 0) act_shelve(r, s);
    else if (strcmp(a, "shelveOffload") == 0) {
        static const char *const shelved[] = {"shelved", NULL};
        if (state_or_reply(r, s, "shelveOffload", shelved, false, true) != 0) return;
        start_op(r, s, "shelveOffload", "shelving_offloading", OP_SHELVE, action_ms(r));
        mc_reply_json(r, 202, NULL);
    } else if (strcmp(a, "unshelve") == 0) act_unshelve(r, s, first);
    else if (strcmp(a, "createBackup") == 0) act_create_backup(r, s, first);
    else if (strcmp(a, "os-resetState") == 0) act_reset_state(r, s, first);
    else if (strcmp(a, "rescue") == 0) {
        if (state_or_reply(r, s, "rescue", ST_RESCUE, false, true) != 0) return;
        char pass[16];
        random_password(r->srv, pass, 13);
        start_op(r, s, "rescue", "rescuing", OP_RESCUE, action_ms(r));
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "adminPass", pass);
        mc_reply_json(r, 200, root);
    } else if (strcmp(a, "unrescue") == 0) act_simple(r, s, "unrescue", "unrescue", ST_RESCUED, "unrescuing", OP_UNRESCUE);
    else if (strcmp(a, "rebuild") == 0) act_rebuild(r, s, first);
    else if (strcmp(a, "resize") == 0) act_resize(r, s, first);
    else if (strcmp(a, "confirmResize") == 0) act_confirm_resize(r, s);
    else if (strcmp(a, "migrate") == 0) act_migrate(r, s, first);
    else if (strcmp(a, "os-migrateLive") == 0) act_live_migrate(r, s, first);
    else if (strcmp(a, "evacuate") == 0) act_evacuate(r, s, first);
    else if (strcmp(a, "revertResize") == 0) act_simple(r, s, "revertResize", "revertResize", ST_RESIZED, "resize_reverting", OP_REVERT);
    else if (strcmp(a, "createImage") == 0) act_create_image(r, s, first);
    else if (strcmp(a, "lock") == 0) act_lock(r, s, first, true);
    else if (strcmp(a, "unlock") == 0) act_lock(r, s, first, false);
    else if (strcmp(a, "addSecurityGroup") == 0) act_secgroup(r, s, first, true);
    else if (strcmp(a, "removeSecurityGroup") == 0) act_secgroup(r, s, first, false);
    else if (strcmp(a, "os-getConsoleOutput") == 0) act_console(r, s, first);
    else if (strcmp(a, "os-getVNCConsole") == 0 || strcmp(a, "os-getSPICEConsole") == 0 || strcmp(a, "os-getRDPConsole") == 0 ||
             strcmp(a, "os-getSerialConsole") == 0)
        compute_console_action(r, s, first);
    else if (strcmp(a, "changePassword") == 0) act_password(r, s, first);
    else if (strcmp(a, "addFloatingIp") == 0 || strcmp(a, "removeFloatingIp") == 0) compute_floating_ip_action(r, s, first);
    else if (strcmp(a, "forceDelete") == 0 || strcmp(a, "restore") == 0)
        mc_reply_error(r, 409, NULL, "Cannot '%s' instance %s while it is in vm_state %s", a, s->id, SP(s)->vm_state);
    else
        mc_reply_error(r, 400, NULL, "There is no such action: %.64s", a);
}

/* ---------------------------------------------------------------- ips */

void compute_server_ips(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "addresses", server_addresses(r->srv, s, false, NULL));
    mc_reply_json(r, 200, root);
}

void compute_server_ips_network(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *addr = server_addresses(r->srv, s, false, r->params[1]);
    cJSON *net = cJSON_DetachItemFromObjectCaseSensitive(addr, r->params[1]);
    cJSON_Delete(addr);
    if (net == NULL) {
        mc_reply_error(r, 404, NULL, "Instance is not a member of specified network");
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, r->params[1], net);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- metadata */

static const char *const ST_META[] = {"active", "paused", "suspended", "stopped", NULL};

void compute_server_metadata(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    server_priv *sp = SP(s);
    cJSON *md = sp->metadata;
    if (r->method != EVHTTP_REQ_GET) {
        cJSON *in = mc_json_obj(r->body, "metadata");
        if (in == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute metadata. 'metadata' is a required property");
            return;
        }
        long existing = 0;
        if (r->method == EVHTTP_REQ_POST) {
            cJSON *x;
            cJSON_ArrayForEach(x, md) if (!mc_json_has(in, x->string)) existing++;
        }
        if (metadata_or_reply(r, in, s->project_id, existing) != 0) return;
        if (state_or_reply(r, s, "update_metadata", ST_META, false, true) != 0) return;
        if (r->method == EVHTTP_REQ_PUT) {
            cJSON_Delete(sp->metadata);
            sp->metadata = cJSON_Duplicate(in, 1);
        } else {
            md = meta_obj(sp);
            cJSON *x;
            cJSON_ArrayForEach(x, in) mc_json_set_str(md, x->string, x->valuestring);
        }
        touch(s);
        md = sp->metadata;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "metadata", md ? cJSON_Duplicate(md, 1) : cJSON_CreateObject());
    mc_reply_json(r, 200, root);
}

void compute_server_metadata_item(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *md = SP(s)->metadata;
    const char *key = r->params[1];
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(md, key);
    if (r->method == EVHTTP_REQ_GET) {
        if (cur == NULL) {
            mc_reply_error(r, 404, NULL, "Metadata item was not found");
            return;
        }
        cJSON *root = cJSON_CreateObject();
        cJSON *m = cJSON_AddObjectToObject(root, "meta");
        cJSON_AddStringToObject(m, key, cur->valuestring);
        mc_reply_json(r, 200, root);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        if (cur == NULL) {
            mc_reply_error(r, 404, NULL, "Metadata item was not found");
            return;
        }
        if (state_or_reply(r, s, "delete_metadata", ST_META, false, true) != 0) return;
        cJSON_DeleteItemFromObjectCaseSensitive(md, key);
        touch(s);
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *meta = mc_json_obj(r->body, "meta");
    if (meta == NULL) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute meta. 'meta' is a required property");
        return;
    }
    if (cJSON_GetArraySize(meta) != 1) {
        mc_reply_error(r, 400, NULL, "Request body contains too many items");
        return;
    }
    cJSON *v = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (v == NULL) {
        mc_reply_error(r, 400, NULL, "Request body and URI mismatch");
        return;
    }
    if (metadata_or_reply(r, meta, s->project_id, cur ? cJSON_GetArraySize(md) - 1 : cJSON_GetArraySize(md)) != 0) return;
    if (state_or_reply(r, s, "update_metadata", ST_META, false, true) != 0) return;
    mc_json_set_str(meta_obj(SP(s)), key, v->valuestring);
    touch(s);
    cJSON *root = cJSON_CreateObject();
    cJSON *m = cJSON_AddObjectToObject(root, "meta");
    cJSON_AddStringToObject(m, key, v->valuestring);
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- tags (2.26) */

static const char *const ST_TAGS[] = {"active", "building", "paused", "rescued", "resized", "soft-delete", "stopped",
                                      "suspended", "error", "shelved", "shelved_offloaded", NULL};

static bool tags_gone_or_reply(mc_req *r) {
    if (!mv_ge(r, 26)) {
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return true;
    }
    return false;
}

void compute_server_tags(mc_req *r) {
    if (tags_gone_or_reply(r)) return;
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    if (r->method == EVHTTP_REQ_PUT) {
        cJSON *tags = r->body ? cJSON_GetObjectItemCaseSensitive(r->body, "tags") : NULL;
        if (tags_or_reply(r, tags) != 0) return;
        if (state_or_reply(r, s, "update tags", ST_TAGS, true, false) != 0) return;
        cJSON *uniq = cJSON_CreateArray();
        cJSON *x;
        cJSON_ArrayForEach(x, tags) if (!has_tag(uniq, x->valuestring)) cJSON_AddItemToArray(uniq, cJSON_CreateString(x->valuestring));
        cJSON_Delete(SP(s)->tags);
        SP(s)->tags = uniq;
        touch(s);
    } else if (r->method == EVHTTP_REQ_DELETE) {
        if (state_or_reply(r, s, "delete tags", ST_TAGS, true, false) != 0) return;
        cJSON_Delete(SP(s)->tags);
        SP(s)->tags = NULL;
        touch(s);
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "tags", SP(s)->tags ? cJSON_Duplicate(SP(s)->tags, 1) : cJSON_CreateArray());
    mc_reply_json(r, 200, root);
}

void compute_server_tag(mc_req *r) {
    if (tags_gone_or_reply(r)) return;
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    const char *tag = r->params[1];
    cJSON *tags = SP(s)->tags;
    int i = 0, idx = -1;
    cJSON *x;
    cJSON_ArrayForEach(x, tags) {
        if (strcmp(x->valuestring, tag) == 0) idx = i;
        i++;
    }
    if (r->method == EVHTTP_REQ_GET) {
        if (idx < 0) {
            mc_reply_error(r, 404, NULL, "Tag '%.64s' could not be found.", tag);
            return;
        }
        mc_reply_json(r, 204, NULL);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        if (idx < 0) {
            mc_reply_error(r, 404, NULL, "Tag '%.64s' could not be found.", tag);
            return;
        }
        if (state_or_reply(r, s, "delete tag", ST_TAGS, true, false) != 0) return;
        cJSON_DeleteItemFromArray(tags, idx);
        touch(s);
        mc_reply_json(r, 204, NULL);
        return;
    }
    if (!tag_ok(tag)) {
        mc_reply_error(r, 400, NULL, "Tag '%.64s' is invalid: 1 to 60 characters without ',' or '/'.", tag);
        return;
    }
    if (state_or_reply(r, s, "update tag", ST_TAGS, true, false) != 0) return;
    char loc[700];
    snprintf(loc, sizeof loc, "%s/compute/v2.1/servers/%s/tags/%s", r->srv->public_url, s->id, tag);
    mc_header_set(r, "Location", loc);
    if (idx >= 0) {
        mc_reply_json(r, 204, NULL);
        return;
    }
    if (cJSON_GetArraySize(tags) >= 50) {
        mc_reply_error(r, 400, NULL, "The number of tags exceeded the per-server limit 50");
        return;
    }
    cJSON_AddItemToArray(tags_arr(SP(s)), cJSON_CreateString(tag));
    touch(s);
    mc_reply_json(r, 201, NULL);
}

/* ---------------------------------------------------------------- instance actions */

static mc_record *server_any_or_reply(mc_req *r) {
    mc_record *s = mc_store_find(&r->srv->world[MC_K_SERVER], r->params[0]);
    if (s == NULL && mv_ge(r, 21)) s = mc_store_find(deleted_store(r->srv), r->params[0]);
    if (s != NULL && !server_owned(r, s)) s = NULL;
    if (s != NULL && server_deleted(s) && !mv_ge(r, 21)) s = NULL;
    if (s == NULL) mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", r->params[0]);
    return s;
}

static cJSON *action_view(mc_req *r, mc_record *s, const srv_action *a, bool events) {
    char ts[32];
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "action", a->action);
    cJSON_AddStringToObject(o, "instance_uuid", s->id);
    cJSON_AddStringToObject(o, "request_id", a->request_id);
    cJSON_AddStringToObject(o, "user_id", a->user_id);
    cJSON_AddStringToObject(o, "project_id", a->project_id);
    naive(a->start, ts);
    cJSON_AddStringToObject(o, "start_time", ts);
    mc_json_set_str(o, "message", a->message);
    naive(a->updated, ts);
    if (mv_ge(r, 58)) cJSON_AddStringToObject(o, "updated_at", ts);
    if (events && (is_admin(r) || mv_ge(r, 51))) {
        cJSON *evs = cJSON_AddArrayToObject(o, "events");
        cJSON *ev = cJSON_CreateObject();
        char name[64];
        snprintf(name, sizeof name, "compute_%s", a->action);
        cJSON_AddStringToObject(ev, "event", name);
        naive(a->start, ts);
        cJSON_AddStringToObject(ev, "start_time", ts);
        naive(a->finish, ts);
        mc_json_set_str(ev, "finish_time", a->finish >= 0 ? ts : NULL);
        mc_json_set_str(ev, "result", a->finish < 0 ? NULL : a->failed ? "Error" : "Success");
        if (is_admin(r)) mc_json_set_str(ev, "traceback", a->traceback);
        if (mv_ge(r, 62)) {
            char hid[57];
            const char *eh = srv_host(SP(s)) ? srv_host(SP(s)) : COMPUTE_HOST;
            host_id(s->project_id, eh, hid);
            cJSON_AddStringToObject(ev, "hostId", hid);
            if (is_admin(r)) cJSON_AddStringToObject(ev, "host", eh);
        }
        cJSON_AddItemToArray(evs, ev);
    }
    return o;
}

void compute_server_actions_list(mc_req *r) {
    mc_record *s = server_any_or_reply(r);
    if (s == NULL) return;
    long limit = -1;
    const char *marker = NULL;
    double since = -1, before = -1;
    if (mv_ge(r, 58)) {
        if (page_limit_or_reply(r, &limit) != 0) return;
        marker = mc_query(r, "marker");
        if (time_param_or_reply(r, "changes-since", &since) != 0) return;
        if (mv_ge(r, 66) && time_param_or_reply(r, "changes-before", &before) != 0) return;
    }
    const server_priv *sp = SP(s);
    int n = (int)sp->nacts;
    int start = n - 1;
    if (marker != NULL) {
        start = -2;
        for (int i = n - 1; i >= 0; i--)
            if (strcmp(sp->acts[i].request_id, marker) == 0) start = i - 1;
        if (start == -2) {
            mc_reply_error(r, 400, NULL, "Marker %.64s could not be found.", marker);
            return;
        }
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *out = cJSON_AddArrayToObject(root, "instanceActions");
    long count = 0;
    const char *last = NULL;
    for (int i = start; i >= 0 && (limit < 0 || count < limit); i--) {
        const srv_action *a = &sp->acts[i];
        double t = (double)(long long)a->updated;   /* the whole second updated_at shows */
        if (since >= 0 && t < since) continue;
        if (before >= 0 && t > before) continue;
        cJSON_AddItemToArray(out, action_view(r, s, a, false));
        last = a->request_id;
        count++;
    }
    if (limit > 0 && count == limit && last) {
        char coll[128];
        snprintf(coll, sizeof coll, "servers/%s/os-instance-actions", s->id);
        add_collection_next(r, root, "links", coll, last);
    }
    mc_reply_json(r, 200, root);
}

void compute_server_action_show(mc_req *r) {
    mc_record *s = server_any_or_reply(r);
    if (s == NULL) return;
    const srv_action *a = action_find(s, r->params[1]);
    if (a == NULL) {
        mc_reply_error(r, 404, NULL, "Action for request_id %.64s on instance %s not found", r->params[1], s->id);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "instanceAction", action_view(r, s, a, true));
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- security groups, interfaces, password */

void compute_server_secgroups(mc_req *r) {
    if (mv_ge(r, 36)) {
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "security_groups");
    int nsg;
    const char **sgs = sg_list(SP(s), &nsg);
    for (int i = 0; i < nsg; i++) {
        mc_record *g = mc_net_secgroup_find(r->srv, sgs[i], s->project_id);
        if (g != NULL) cJSON_AddItemToArray(a, secgroup_nova_view(r->srv, g));
    }
    free(sgs);
    mc_reply_json(r, 200, root);
}

static cJSON *interface_view(mc_req *r, mc_record *port) {
    cJSON *o = cJSON_CreateObject();
    const char *st = mc_json_str(port->doc, "status");
    cJSON_AddStringToObject(o, "port_state", st ? st : "DOWN");
    cJSON *ips = cJSON_AddArrayToObject(o, "fixed_ips");
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(port->doc, "fixed_ips")) {
        cJSON *ip = cJSON_CreateObject();
        cJSON_AddStringToObject(ip, "subnet_id", mc_json_str(x, "subnet_id") ? mc_json_str(x, "subnet_id") : "");
        cJSON_AddStringToObject(ip, "ip_address", mc_json_str(x, "ip_address") ? mc_json_str(x, "ip_address") : "");
        cJSON_AddItemToArray(ips, ip);
    }
    cJSON_AddStringToObject(o, "port_id", port->id);
    cJSON_AddStringToObject(o, "net_id", mc_json_str(port->doc, "network_id") ? mc_json_str(port->doc, "network_id") : "");
    cJSON_AddStringToObject(o, "mac_addr", mc_json_str(port->doc, "mac_address") ? mc_json_str(port->doc, "mac_address") : "");
    if (mv_ge(r, 70)) cJSON_AddNullToObject(o, "tag");
    return o;
}

typedef struct iface_ctx {
    mc_req *r;
    cJSON *arr;
    const char *want;
    mc_record *found;
} iface_ctx;

static void iface_each(mc_record *port, void *arg) {
    iface_ctx *c = arg;
    if (c->want) {
        if (strcmp(port->id, c->want) == 0) c->found = port;
        return;
    }
    cJSON_AddItemToArray(c->arr, interface_view(c->r, port));
}

void compute_server_interfaces(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    if (r->method == EVHTTP_REQ_POST) {
        cJSON *in = r->body ? mc_json_obj(r->body, "interfaceAttachment") : NULL;
        if (in == NULL) {
            mc_reply_error(r, 400, NULL, "Invalid input for field/attribute interfaceAttachment.");
            return;
        }
        if (mc_check_or_reply(r, in, "!net_id=u|port_id=u|fixed_ips=a|tag=s") != 0) return;
        static const char *const ok_states[] = {"active", "paused", "stopped", NULL};
        if (state_or_reply(r, s, "attach_interface", ok_states, false, true) != 0) return;
        const char *net = mc_json_str(in, "net_id"), *port = mc_json_str(in, "port_id");
        const char *fixed = NULL;
        cJSON *fips = mc_json_arr(in, "fixed_ips");
        if (fips && cJSON_GetArraySize(fips) > 0) fixed = mc_json_str(cJSON_GetArrayItem(fips, 0), "ip_address");
        int status = 400;
        char err[256] = "";
        mc_record *p = NULL;
        if (port != NULL) {
            if (mc_net_port_attach(r->srv, port, s->project_id, s->id, "compute:nova", &status, err, sizeof err) == 0)
                p = mc_store_find(&r->srv->world[MC_K_PORT], port);
        } else {
            if (net == NULL) {
                mc_record *n = mc_net_network_auto(r->srv, s->project_id);
                net = n ? n->id : NULL;
            }
            if (net == NULL) {
                mc_reply_error(r, 400, NULL, "No network was given and none is available.");
                return;
            }
            mc_port_req pr = {s->project_id, net, NULL, fixed, s->id, "compute:nova", NULL};
            p = mc_net_port_create(r->srv, &pr, &status, err, sizeof err);
        }
        if (p == NULL) {
            mc_reply_error(r, status == 404 ? 404 : status, NULL, "%s", err[0] ? err : "Failed to attach the interface.");
            return;
        }
        mc_net_ports_set_status(r->srv, s->id, "ACTIVE");
        action_instant(r, s, "attach_interface");
        touch(s);
        cJSON *root = cJSON_CreateObject();
        cJSON_AddItemToObject(root, "interfaceAttachment", interface_view(r, p));
        mc_reply_json(r, 200, root);
        return;
    }
    iface_ctx c = {r, cJSON_CreateArray(), NULL, NULL};
    mc_net_ports_each(r->srv, s->id, iface_each, &c);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "interfaceAttachments", c.arr);
    mc_reply_json(r, 200, root);
}

void compute_server_interface(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    iface_ctx c = {r, NULL, r->params[1], NULL};
    mc_net_ports_each(r->srv, s->id, iface_each, &c);
    if (c.found == NULL) {
        mc_reply_error(r, 404, NULL, "Port %.64s is not attached", r->params[1]);
        return;
    }
    if (r->method == EVHTTP_REQ_DELETE) {
        static const char *const ok_states[] = {"active", "paused", "stopped", NULL};
        if (state_or_reply(r, s, "detach_interface", ok_states, false, true) != 0) return;
        mc_net_port_release(r->srv, s->id, c.found->id);
        action_instant(r, s, "detach_interface");
        touch(s);
        mc_reply_json(r, 202, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "interfaceAttachment", interface_view(r, c.found));
    mc_reply_json(r, 200, root);
}

void compute_server_password(mc_req *r) {
    mc_record *s = server_or_reply(r);
    if (s == NULL) return;
    if (r->method == EVHTTP_REQ_DELETE) {
        mc_reply_json(r, 204, NULL);
        return;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "password", "");
    mc_reply_json(r, 200, root);
}

/* Bulk seeding for benchmarks (POST /mockcloud/v1/bulk): 'count' copies of
 * server 'from' in its project and state, with fresh ids, names
 * "<name>-<n>", no ports and no instance actions. Returns how many were
 * made, or -1 with the reason in err. */
long compute_servers_clone(mc_server *srv, const char *from, long count, char *err, size_t errsz) {
    mc_record *t = mc_store_find(&srv->world[MC_K_SERVER], from);
    if (t == NULL) t = mc_store_find(deleted_store(srv), from);
    if (t == NULL || t->priv_free != server_priv_free) {
        snprintf(err, errsz, "No server %.64s to clone.", from ? from : "");
        return -1;
    }
    if (SP(t)->op != OP_NONE || (SP(t)->timer != NULL && evtimer_pending(SP(t)->timer, NULL)) || server_deleted(t)) {
        snprintf(err, errsz, "Server %.64s is changing state: clone it once it has settled.", from);
        return -1;
    }
    const server_priv *tp = SP(t);
    const char *name = tp->name;
    for (long i = 0; i < count; i++) {
        char id[37], nm[300];
        mc_uuid(srv, id);
        snprintf(nm, sizeof nm, "%.200s-%ld", name ? name : "server", i + 1);
        mc_record *s2 = mc_store_add(&srv->world[MC_K_SERVER], id, t->project_id, NULL);
        if (s2 == NULL) {
            snprintf(err, errsz, "Id clash while cloning.");
            return -1;
        }
        server_priv *sp = malloc(sizeof *sp);
        if (sp == NULL) mc_panic("out of memory");
        *sp = *tp;
        sp->timer = NULL;
        mc_strlcpy(sp->id, id, sizeof sp->id);
        sp->name = xdup(nm);
        sp->description = xdup(tp->description);
        sp->key_name = xdup(tp->key_name);
        sp->hostname = xdup(tp->hostname);
        sp->user_data = xdup(tp->user_data);
        sp->admin_pass = xdup(tp->admin_pass);
        sp->locked_reason = xdup(tp->locked_reason);
        sp->access_v4 = xdup(tp->access_v4);
        sp->access_v6 = xdup(tp->access_v6);
        sp->az = xdup(tp->az);
        sp->pinned_az = xdup(tp->pinned_az);
        sp->server_group = xdup(tp->server_group);
        sp->shelved_image_id = xdup(tp->shelved_image_id);
        sp->flavor->refs++;
        if (sp->old_flavor) sp->old_flavor->refs++;
        sp->metadata = tp->metadata ? cJSON_Duplicate(tp->metadata, 1) : NULL;
        sp->tags = tp->tags ? cJSON_Duplicate(tp->tags, 1) : NULL;
        sp->sg_names = tp->sg_names ? cJSON_Duplicate(tp->sg_names, 1) : NULL;
        sp->fault = tp->fault ? cJSON_Duplicate(tp->fault, 1) : NULL;
        sp->num = ++cs(srv)->instance_seq;
        sp->acts = NULL;
        sp->nacts = sp->acap = 0;
        sp->views = NULL;
        sp->acct_host = 0;
        sp->acct_vcpus = sp->acct_ram = sp->acct_disk = 0;
        s2->priv = sp;
        s2->priv_free = server_priv_free;
        host_sync(sp);
    }
    return count;
}
