/* network.c -- Neutron v2.0: networks, subnets (with real IPAM), subnet
 * pools, ports, routers, floating IPs, security groups and rules, quotas,
 * tags, extensions and versions.
 *
 * Records hold their API shape in 'doc' (Neutron's field names); a reply gets
 * a per-request copy shaped by render() (admin-only fields dropped, the rules
 * of a security group and the port_details of a floating IP filled in, then
 * fields=). A subnet's 'priv' holds its parsed CIDR and the set of allocated
 * addresses (IPAM); a port's 'priv' remembers whether compute created it (so
 * releasing a server deletes it) or only attached it. MAC addresses are kept
 * unique through a set in the service state.
 *
 * IP assignment is decided in exactly two places, ipam_pick() (which address
 * a port gets on a subnet) and port_auto_subnets() (which subnets a port gets
 * addresses on when it asks for none): profile knobs that change IP
 * assignment hook there. Floating IPs are never auto-assigned upstream; the
 * decision point for that is mc_net_fip_required() in netapi.h's users.
 *
 * Visibility follows Neutron: a member sees its own project's resources and
 * shared or external networks; another project's resource is 404, never
 * 403; admins see everything. Errors are NeutronError bodies with Neutron's
 * exception types. */
#include "auth.h"
#include "fixtures.h"
#include "guest.h"
#include "http.h"
#include "netapi.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"
#include "validate.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <math.h>

#define W(srv, k) (&(srv)->world[k])

/* netapi.h mc_net_generation: bumped by every change below. */
static uint64_t net_gen = 1;

uint64_t mc_net_generation(void) { return net_gen; }

/* A change that is not an update (no new revision): drops the record's
 * cached printed view (store.h mc_record_view) and bumps the generation.
 * Every change to a record's doc calls this or touch(). */
static void changed(mc_record *rec) {
    mc_record_touch(rec);
    net_gen++;
}

void mc_net_record_changed(mc_record *rec) { changed(rec); }

/* ================================================================ errors */

/* An error from the core functions, rendered by the REST layer or copied
 * into netapi.h's (status, err) pair. */
typedef struct nerr {
    int status;
    const char *type;
    char msg[640];
} nerr;

__attribute__((format(printf, 4, 5)))
static void *fail(nerr *e, int status, const char *type, const char *fmt, ...) {
    va_list ap;
    e->status = status;
    e->type = type;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return NULL;
}

static void nerr_copy(const nerr *e, int *status, char *err, size_t errsz) {
    if (status) *status = e->status;
    if (err && errsz) mc_strlcpy(err, e->msg, errsz);
}

/* ================================================================ addresses */

typedef unsigned __int128 u128;

typedef struct ipaddr {
    int v;        /* 4 or 6 */
    u128 a;
} ipaddr;

static int ip_bits(int v) { return v == 4 ? 32 : 128; }

static bool ip_parse(const char *s, ipaddr *ip) {
    unsigned char b[16];
    if (s == NULL) return false;
    if (inet_pton(AF_INET, s, b) == 1) {
        ip->v = 4;
        ip->a = ((u128)b[0] << 24) | ((u128)b[1] << 16) | ((u128)b[2] << 8) | b[3];
        return true;
    }
    if (inet_pton(AF_INET6, s, b) == 1) {
        ip->v = 6;
        ip->a = 0;
        for (int i = 0; i < 16; i++) ip->a = (ip->a << 8) | b[i];
        return true;
    }
    return false;
}

static void ip_fmt(const ipaddr *ip, char *out, size_t n) {
    unsigned char b[16];
    if (ip->v == 4) {
        for (int i = 0; i < 4; i++) b[i] = (unsigned char)(ip->a >> (24 - 8 * i));
        inet_ntop(AF_INET, b, out, (socklen_t)n);
    } else {
        for (int i = 0; i < 16; i++) b[i] = (unsigned char)(ip->a >> (120 - 8 * i));
        inet_ntop(AF_INET6, b, out, (socklen_t)n);
    }
}

/* The host part mask of a prefix. */
static u128 host_mask(int v, int plen) {
    int hb = ip_bits(v) - plen;
    if (hb <= 0) return 0;
    if (hb >= 128) return ~(u128)0;
    return ((u128)1 << hb) - 1;
}

typedef struct cidr {
    int v;
    u128 net;
    int plen;
} cidr;

/* "10.0.0.0/24"; strict = host bits must be zero. */
static bool cidr_parse(const char *s, cidr *c, bool strict) {
    char buf[80];
    if (s == NULL || strlen(s) >= sizeof buf) return false;
    mc_strlcpy(buf, s, sizeof buf);
    char *slash = strchr(buf, '/');
    if (slash == NULL) return false;
    *slash = '\0';
    ipaddr ip;
    if (!ip_parse(buf, &ip)) return false;
    long plen;
    if (!mc_parse_long(slash + 1, 0, ip_bits(ip.v), &plen)) return false;
    u128 hm = host_mask(ip.v, (int)plen);
    if (strict && (ip.a & hm) != 0) return false;
    c->v = ip.v;
    c->net = ip.a & ~hm;
    c->plen = (int)plen;
    return true;
}

static u128 cidr_last(const cidr *c) { return c->net | host_mask(c->v, c->plen); }

static bool cidr_contains(const cidr *c, const ipaddr *ip) {
    return ip->v == c->v && (ip->a & ~host_mask(c->v, c->plen)) == c->net;
}

static bool cidr_overlap(const cidr *a, const cidr *b) {
    if (a->v != b->v) return false;
    return a->net <= cidr_last(b) && b->net <= cidr_last(a);
}

static void cidr_fmt(const cidr *c, char *out, size_t n) {
    char ip[64];
    ipaddr a = {c->v, c->net};
    ip_fmt(&a, ip, sizeof ip);
    snprintf(out, n, "%s/%d", ip, c->plen);
}

/* ================================================================ state */

typedef struct mac_ent {
    char mac[18];
    UT_hash_handle hh;
} mac_ent;

/* An index from a key to the ids of the records that carry it (a server's
 * or a router's ports by device_id, the floating IPs associated with a
 * port, the rules of a security group), so those are found without a walk
 * of the whole store. Ids are kept in insertion order; entries are checked
 * against the record on use, so a stale id is harmless. */
typedef struct idx_ent {
    char key[256];
    char (*ids)[40];
    size_t n, cap;
    UT_hash_handle hh;
} idx_ent;

/* Per project: how many records of each kind it owns, kept exact by
 * new_record() and del_record() (the only ways network records come and
 * go; a reset drops the whole state with the stores), so a quota check is
 * one lookup, and the id of its default security group. */
typedef struct proj_ent {
    char project_id[40];
    long used[MC_K_COUNT];
    char default_sg[40];
    UT_hash_handle hh;
} proj_ent;

typedef struct net_state {
    mac_ent *macs;
    idx_ent *devices;       /* device_id -> ports */
    idx_ent *port_fips;     /* port id -> associated floating IPs */
    idx_ent *sg_rules;      /* security group id -> its rules */
    proj_ent *projects;
} net_state;

static net_state *state(mc_server *srv) {
    if (srv->svc_state[MC_NETWORK] == NULL) {
        net_state *s = calloc(1, sizeof *s);
        if (s == NULL) mc_panic("out of memory");
        srv->svc_state[MC_NETWORK] = s;
    }
    return srv->svc_state[MC_NETWORK];
}

/* The project's entry (made when 'make'), or NULL (no project, or an id
 * too long to be a record's owner). */
static proj_ent *proj_get(mc_server *srv, const char *project, bool make) {
    if (project == NULL || *project == '\0' || strlen(project) >= sizeof(((proj_ent *)0)->project_id)) return NULL;
    proj_ent *p = NULL;
    HASH_FIND_STR(state(srv)->projects, project, p);
    if (p == NULL && make) {
        p = calloc(1, sizeof *p);
        if (p == NULL) mc_panic("out of memory");
        mc_strlcpy(p->project_id, project, sizeof p->project_id);
        HASH_ADD_STR(state(srv)->projects, project_id, p);
    }
    return p;
}

static bool mac_taken(mc_server *srv, const char *mac) {
    mac_ent *m = NULL;
    HASH_FIND_STR(state(srv)->macs, mac, m);
    return m != NULL;
}

static void mac_add(mc_server *srv, const char *mac) {
    if (mac_taken(srv, mac)) return;
    mac_ent *m = calloc(1, sizeof *m);
    if (m == NULL) mc_panic("out of memory");
    mc_strlcpy(m->mac, mac, sizeof m->mac);
    HASH_ADD_STR(state(srv)->macs, mac, m);
}

static void mac_del(mc_server *srv, const char *mac) {
    mac_ent *m = NULL;
    if (mac == NULL) return;
    HASH_FIND_STR(state(srv)->macs, mac, m);
    if (m != NULL) {
        HASH_DEL(state(srv)->macs, m);
        free(m);
    }
}

static void idx_add(idx_ent **head, const char *key, const char *id) {
    if (key == NULL || *key == '\0' || strlen(key) >= sizeof(((idx_ent *)0)->key)) return;
    idx_ent *d = NULL;
    HASH_FIND_STR(*head, key, d);
    if (d == NULL) {
        d = calloc(1, sizeof *d);
        if (d == NULL) mc_panic("out of memory");
        mc_strlcpy(d->key, key, sizeof d->key);
        HASH_ADD_STR(*head, key, d);
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 4;
        void *np = realloc(d->ids, d->cap * sizeof *d->ids);
        if (np == NULL) mc_panic("out of memory");
        d->ids = np;
    }
    mc_strlcpy(d->ids[d->n++], id, sizeof d->ids[0]);
}

static void idx_free(idx_ent **head, idx_ent *d) {
    HASH_DEL(*head, d);
    free(d->ids);
    free(d);
}

static void idx_free_all(idx_ent **head) {
    idx_ent *d, *t;
    HASH_ITER(hh, *head, d, t) idx_free(head, d);
}

static void idx_del(idx_ent **head, const char *key, const char *id) {
    idx_ent *d = NULL;
    if (key == NULL || *key == '\0') return;
    HASH_FIND_STR(*head, key, d);
    if (d == NULL) return;
    for (size_t i = 0; i < d->n; i++) {
        if (strcmp(d->ids[i], id) == 0) {
            memmove(d->ids + i, d->ids + i + 1, (d->n - i - 1) * sizeof *d->ids);
            d->n--;
            break;
        }
    }
    if (d->n == 0) idx_free(head, d);
}

static void idx_drop(idx_ent **head, const char *key) {
    idx_ent *d = NULL;
    if (key == NULL) return;
    HASH_FIND_STR(*head, key, d);
    if (d != NULL) idx_free(head, d);
}

static void dev_add(mc_server *srv, const char *device_id, const char *port_id) {
    idx_add(&state(srv)->devices, device_id, port_id);
}

static void dev_del(mc_server *srv, const char *device_id, const char *port_id) {
    idx_del(&state(srv)->devices, device_id, port_id);
}

static int by_seq(const void *a, const void *b) {
    const mc_record *x = *(mc_record *const *)a, *y = *(mc_record *const *)b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The records of kind 'k' an index lists under 'key' whose doc still has
 * field == key, in creation order (a malloc'd array, *n entries; NULL when
 * none). */
static mc_record **idx_records(mc_server *srv, idx_ent *head, const char *key, mc_kind k, const char *field,
                               size_t *n) {
    idx_ent *d = NULL;
    *n = 0;
    if (key == NULL || *key == '\0') return NULL;
    HASH_FIND_STR(head, key, d);
    if (d == NULL || d->n == 0) return NULL;
    mc_record **out = calloc(d->n, sizeof *out);
    if (out == NULL) mc_panic("out of memory");
    for (size_t i = 0; i < d->n; i++) {
        mc_record *x = mc_store_find(&srv->world[k], d->ids[i]);
        if (x != NULL && mc_str_eq(mc_json_str(x->doc, field), key)) out[(*n)++] = x;
    }
    qsort(out, *n, sizeof *out, by_seq);
    return out;
}

/* The ports of a device in creation order (a malloc'd array, *n entries;
 * NULL when none). */
static mc_record **device_ports(mc_server *srv, const char *device_id, size_t *n) {
    return idx_records(srv, state(srv)->devices, device_id, MC_K_PORT, "device_id", n);
}

/* The floating IPs associated with a port, in creation order. */
static mc_record **port_fips(mc_server *srv, const char *port_id, size_t *n) {
    return idx_records(srv, state(srv)->port_fips, port_id, MC_K_FLOATINGIP, "port_id", n);
}

/* The rules of a security group, in creation order. */
static mc_record **group_rules(mc_server *srv, const char *sg_id, size_t *n) {
    return idx_records(srv, state(srv)->sg_rules, sg_id, MC_K_SECGROUP_RULE, "security_group_id", n);
}

/* Changes a port's device_id, keeping the index in step. */
static void port_set_device(mc_server *srv, mc_record *port, const char *device_id) {
    const char *old = mc_json_str(port->doc, "device_id");
    if (mc_str_eq(old, device_id)) return;
    dev_del(srv, old, port->id);
    mc_json_set_str(port->doc, "device_id", device_id ? device_id : "");
    changed(port);
    dev_add(srv, device_id, port->id);
}

static void mac_new(mc_server *srv, char out[18]) {
    for (;;) {
        unsigned char b[3];
        mc_rand_bytes(srv, b, sizeof b);
        snprintf(out, 18, "fa:16:3e:%02x:%02x:%02x", b[0], b[1], b[2]);
        if (!mac_taken(srv, out)) return;
    }
}

static bool mac_valid(const char *s) {
    if (s == NULL || strlen(s) != 17) return false;
    for (int i = 0; i < 17; i++) {
        if (i % 3 == 2) {
            if (s[i] != ':') return false;
        } else if (!isxdigit((unsigned char)s[i])) {
            return false;
        }
    }
    unsigned first = (unsigned)strtoul(s, NULL, 16);
    if (first & 1) return false;                       /* multicast */
    return strcasecmp(s, "00:00:00:00:00:00") != 0;
}

/* ---- subnet IPAM state (the subnet record's priv) ---- */

typedef struct alloc_ent {
    u128 addr;
    char port_id[40];
    UT_hash_handle hh;
} alloc_ent;

typedef struct subnet_priv {
    cidr c;
    alloc_ent *allocs;
    size_t nallocs;
    u128 hint;          /* every pool address below it is taken (or the gateway) */
} subnet_priv;

static void subnet_priv_free(void *p) {
    subnet_priv *s = p;
    alloc_ent *a, *t;
    HASH_ITER(hh, s->allocs, a, t) {
        HASH_DEL(s->allocs, a);
        free(a);
    }
    free(s);
}

static subnet_priv *SP(mc_record *subnet) { return subnet->priv; }

static alloc_ent *alloc_find(mc_record *subnet, u128 addr) {
    alloc_ent *a = NULL;
    HASH_FIND(hh, SP(subnet)->allocs, &addr, sizeof addr, a);
    return a;
}

static void alloc_add(mc_record *subnet, u128 addr, const char *port_id) {
    alloc_ent *a = calloc(1, sizeof *a);
    if (a == NULL) mc_panic("out of memory");
    a->addr = addr;
    mc_strlcpy(a->port_id, port_id, sizeof a->port_id);
    HASH_ADD(hh, SP(subnet)->allocs, addr, sizeof a->addr, a);
    SP(subnet)->nallocs++;
}

static void alloc_del(mc_record *subnet, u128 addr) {
    alloc_ent *a = alloc_find(subnet, addr);
    if (a != NULL) {
        HASH_DEL(SP(subnet)->allocs, a);
        SP(subnet)->nallocs--;
        free(a);
        if (addr < SP(subnet)->hint) SP(subnet)->hint = addr;
    }
}

/* The port's private part. */
typedef struct port_priv {
    bool device_created;    /* created by compute for a server: deleted on release */
    mc_record *net;         /* the network whose chain holds the port (NULL: none) */
    mc_record *net_prev, *net_next;
} port_priv;

/* The network's private part: its ports in creation order, a chain through
 * their port_priv, so a network_id-filtered page or a network delete walks
 * the network's ports, not the store. del_record() unlinks every port. */
typedef struct net_priv {
    mc_record *first, *last;
    bool shared, external;   /* the doc's "shared" and "router:external" (net_flags_sync) */
    signed char dhcp;        /* DHCP agent: 0 = scheduled by its subnets, 1 = added, -1 = removed */
} net_priv;

static void plain_free(void *p) { free(p); }

static port_priv *PP(const mc_record *port) { return port->priv; }
static net_priv *NP(const mc_record *net) { return net->priv; }

static void chain_add(mc_record *net, mc_record *port) {
    net_priv *np = NP(net);
    port_priv *pp = PP(port);
    if (np == NULL) return;   /* a network not made by network_create(): no chain */
    pp->net = net;
    pp->net_prev = np->last;
    pp->net_next = NULL;
    if (np->last != NULL) PP(np->last)->net_next = port;
    else np->first = port;
    np->last = port;
}

static void chain_del(mc_record *port) {
    port_priv *pp = PP(port);
    if (pp == NULL || pp->net == NULL) return;
    net_priv *np = NP(pp->net);
    if (pp->net_prev != NULL) PP(pp->net_prev)->net_next = pp->net_next;
    else np->first = pp->net_next;
    if (pp->net_next != NULL) PP(pp->net_next)->net_prev = pp->net_prev;
    else np->last = pp->net_prev;
    pp->net = pp->net_prev = pp->net_next = NULL;
}

/* A network going away leaves its ports (if any) outside every chain. */
static void chain_orphan(mc_record *net) {
    net_priv *np = NP(net);
    if (np == NULL) return;
    for (mc_record *p = np->first, *next; p != NULL; p = next) {
        next = PP(p)->net_next;
        PP(p)->net = PP(p)->net_prev = PP(p)->net_next = NULL;
    }
    np->first = np->last = NULL;
}

/* ================================================================ docs */

static void now_iso(char out[32]) { mc_time_iso(mc_now(), out); }

/* A new doc with Neutron's standard attributes. */
static cJSON *std_doc(const char *id, const char *project_id) {
    char ts[32];
    now_iso(ts);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "tenant_id", project_id ? project_id : "");
    cJSON_AddStringToObject(d, "project_id", project_id ? project_id : "");
    cJSON_AddStringToObject(d, "description", "");
    cJSON_AddItemToObject(d, "tags", cJSON_CreateArray());
    cJSON_AddStringToObject(d, "created_at", ts);
    cJSON_AddStringToObject(d, "updated_at", ts);
    cJSON_AddNumberToObject(d, "revision_number", 0);
    return d;
}

/* An update: bumps revision_number and updated_at, drops the view. */
static void touch(mc_record *rec) {
    cJSON *d = rec->doc;
    char ts[32];
    changed(rec);
    now_iso(ts);
    mc_json_set_str(d, "updated_at", ts);
    cJSON *rv = cJSON_GetObjectItemCaseSensitive(d, "revision_number");
    double n = cJSON_IsNumber(rv) ? rv->valuedouble : 0;
    mc_json_set(d, "revision_number", cJSON_CreateNumber(n + 1));
}

static bool jbool(const cJSON *d, const char *key) {
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, key));
}

static const char *jstr0(const cJSON *d, const char *key) {
    const char *s = mc_json_str(d, key);
    return s ? s : "";
}

static mc_record *new_record(mc_server *srv, mc_kind k, const char *id, const char *project, cJSON *doc) {
    mc_record *rec = mc_store_add(W(srv, k), id, project, doc);
    if (rec == NULL) mc_panic("duplicate generated id %s", id);
    net_gen++;
    proj_ent *p = proj_get(srv, rec->project_id, true);
    if (p != NULL) p->used[k]++;
    if (k == MC_K_SECGROUP_RULE) idx_add(&state(srv)->sg_rules, mc_json_str(doc, "security_group_id"), rec->id);
    return rec;
}

/* Deletes a record made by new_record(), keeping its project's tally. */
static void del_record(mc_server *srv, mc_kind k, mc_record *rec) {
    proj_ent *p = proj_get(srv, rec->project_id, false);
    if (p != NULL && p->used[k] > 0) p->used[k]--;
    net_gen++;
    net_state *st = state(srv);
    if (k == MC_K_SECGROUP_RULE) idx_del(&st->sg_rules, mc_json_str(rec->doc, "security_group_id"), rec->id);
    if (k == MC_K_SECGROUP) idx_drop(&st->sg_rules, rec->id);
    if (k == MC_K_FLOATINGIP) idx_del(&st->port_fips, mc_json_str(rec->doc, "port_id"), rec->id);
    if (k == MC_K_PORT) {
        idx_drop(&st->port_fips, rec->id);
        chain_del(rec);
    }
    if (k == MC_K_NETWORK) chain_orphan(rec);
    mc_store_delete(W(srv, k), rec);
}

/* ================================================================ visibility */

/* Copies the flags visibility reads on every listed network into its priv;
 * called wherever they are set (create, update). */
static void net_flags_sync(mc_record *net) {
    NP(net)->shared = jbool(net->doc, "shared");
    NP(net)->external = jbool(net->doc, "router:external");
}

/* The network's priv, made (with its chain, from a walk of the store) for
 * a network that did not come from network_create(). */
static net_priv *net_np(mc_server *srv, mc_record *net) {
    if (net->priv != NULL) return net->priv;
    net->priv = calloc(1, sizeof(net_priv));
    if (net->priv == NULL) mc_panic("out of memory");
    net->priv_free = plain_free;
    net_flags_sync(net);
    for (mc_record *p = mc_store_first(W(srv, MC_K_PORT)); p; p = mc_store_next(p))
        if (PP(p) != NULL && PP(p)->net == NULL && mc_str_eq(mc_json_str(p->doc, "network_id"), net->id)) chain_add(net, p);
    return net->priv;
}

static bool net_visible(const mc_record *net, const char *project, bool admin) {
    if (admin) return true;
    if (project != NULL && strcmp(net->project_id, project) == 0) return true;
    if (NP(net) == NULL) return jbool(net->doc, "shared") || jbool(net->doc, "router:external");
    return NP(net)->shared || NP(net)->external;
}

/* A network a project may attach ports to (own or shared; admins any). */
static bool net_usable(const mc_record *net, const char *project, bool admin) {
    if (admin) return true;
    if (project != NULL && strcmp(net->project_id, project) == 0) return true;
    return NP(net) != NULL ? NP(net)->shared : jbool(net->doc, "shared");
}

static bool owned(const mc_record *rec, const char *project, bool admin) {
    return admin || (project != NULL && strcmp(rec->project_id, project) == 0);
}

/* ================================================================ lookups */

static mc_record *subnet_of(mc_server *srv, const char *id) { return mc_store_find(W(srv, MC_K_SUBNET), id); }

/* Subnets of a network in creation order (the network doc's "subnets"). */
#define FOREACH_NET_SUBNET(srv, net, it, sub)                                            \
    for (cJSON *it = cJSON_GetObjectItemCaseSensitive((net)->doc, "subnets")->child; it; \
         it = it->next)                                                                  \
        for (mc_record *sub = subnet_of(srv, it->valuestring); sub; sub = NULL)

static bool subnet_is_v6_auto(const mc_record *s) {
    const char *m = mc_json_str(s->doc, "ipv6_address_mode");
    return m != NULL && (strcmp(m, "slaac") == 0 || strcmp(m, "dhcpv6-stateless") == 0);
}

/* ================================================================ IPAM */

typedef struct ipool {
    u128 start, end;
} ipool;

/* The subnet's allocation pools (at most 'cap'). */
static size_t subnet_pools(mc_record *s, ipool *out, size_t cap) {
    size_t n = 0;
    cJSON *p;
    cJSON_ArrayForEach(p, mc_json_arr(s->doc, "allocation_pools")) {
        ipaddr a, b;
        if (n < cap && ip_parse(mc_json_str(p, "start"), &a) && ip_parse(mc_json_str(p, "end"), &b)) {
            out[n].start = a.a;
            out[n].end = b.a;
            n++;
        }
    }
    return n;
}

static bool subnet_gateway(mc_record *s, u128 *gw) {
    ipaddr g;
    if (!ip_parse(mc_json_str(s->doc, "gateway_ip"), &g)) return false;
    *gw = g.a;
    return true;
}

/* EUI-64 address of a MAC on a /64 (SLAAC). */
static u128 eui64(const cidr *c, const char *mac) {
    unsigned b[6] = {0};
    sscanf(mac, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]);
    u128 iid = 0;
    unsigned e[8] = {b[0] ^ 2u, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]};
    for (int i = 0; i < 8; i++) iid = (iid << 8) | (e[i] & 0xff);
    return c->net | iid;
}

/* HOOK (IP assignment): which address a port gets on a subnet. 'want' is
 * the requested address or NULL; 'mac' the port's MAC (SLAAC). Upstream:
 * a requested address must lie in the subnet and be free; otherwise the
 * lowest free address of the allocation pools, skipping the gateway;
 * IPv6 auto-address subnets derive it from the MAC (EUI-64). */
static bool ipam_pick(mc_server *srv, mc_record *s, const char *want, const char *mac, bool router_port,
                      u128 *out, nerr *e) {
    (void)srv;
    subnet_priv *sp = SP(s);
    if (want != NULL) {
        ipaddr ip;
        if (!ip_parse(want, &ip) || !cidr_contains(&sp->c, &ip)) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: IP address %s is not a valid IP for the specified subnet.", want);
            return false;
        }
        if (subnet_is_v6_auto(s) && !router_port) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: IPv6 address %s can not be directly assigned to a port on subnet %s since the subnet is configured for automatic addresses.", want, s->id);
            return false;
        }
        if (sp->c.v == 4 && sp->c.plen < 31 && (ip.a == sp->c.net || ip.a == cidr_last(&sp->c))) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: IP address %s is not a valid IP for the specified subnet.", want);
            return false;
        }
        if (alloc_find(s, ip.a) != NULL) {
            fail(e, 409, "IpAddressAlreadyAllocated", "IP address %s already allocated in subnet %s", want, s->id);
            return false;
        }
        *out = ip.a;
        return true;
    }
    if (subnet_is_v6_auto(s) && !router_port && mac != NULL) {
        u128 a = eui64(&sp->c, mac);
        if (alloc_find(s, a) != NULL) {
            fail(e, 409, "IpAddressAlreadyAllocated", "IPv6 address derived from %s already allocated in subnet %s", mac, s->id);
            return false;
        }
        *out = a;
        return true;
    }
    ipool pools[32];
    size_t np = subnet_pools(s, pools, 32);
    u128 gw = 0;
    bool has_gw = subnet_gateway(s, &gw);
    u128 best = 0;
    bool found = false;
    for (size_t i = 0; i < np; i++) {
        /* Lowest free: at most nallocs+2 probes per pool find one or prove it
         * full; the hint skips the taken prefix (O(1) for sequential use). */
        u128 probes = 0;
        u128 from = pools[i].start > sp->hint ? pools[i].start : sp->hint;
        for (u128 a = from; a <= pools[i].end; a++) {
            if (!(has_gw && a == gw) && alloc_find(s, a) == NULL) {
                if (!found || a < best) best = a;
                found = true;
                break;
            }
            if (++probes > (u128)sp->nallocs + 2) break;
            if (a == ~(u128)0) break;
        }
    }
    if (found) {
        *out = best;
        sp->hint = best;
        return true;
    }
    fail(e, 409, "IpAddressGenerationFailure", "No more IP addresses available on network %s.",
         jstr0(s->doc, "network_id"));
    return false;
}

/* HOOK (IP assignment): the subnets a port without fixed_ips gets addresses
 * on. Upstream: one IPv4 subnet (the first with a free address), one IPv6
 * stateful subnet, and every IPv6 auto-address subnet. */
static size_t port_auto_subnets(mc_server *srv, mc_record *net, mc_record **out, size_t cap) {
    size_t n = 0;
    bool v4 = false, v6 = false;
    FOREACH_NET_SUBNET(srv, net, it, s) {
        if (n >= cap) break;
        if (SP(s)->c.v == 4) {
            /* HOOK: IPv6-only project networks. */
            if (!jbool(net->doc, "router:external") && mc_knob_srv(srv, MC_KNOB_NETWORK_IPV6_ONLY) &&
                mc_knob_cur(srv, MC_KNOB_NETWORK_IPV6_ONLY))
                continue;
            if (v4) continue;
            v4 = true;
        } else if (!subnet_is_v6_auto(s)) {
            if (v6) continue;
            v6 = true;
        }
        out[n++] = s;
    }
    return n;
}

static void fixed_ip_add(cJSON *arr, const char *subnet_id, u128 a, int v) {
    char txt[64];
    ipaddr ip = {v, a};
    ip_fmt(&ip, txt, sizeof txt);
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "subnet_id", subnet_id);
    cJSON_AddStringToObject(f, "ip_address", txt);
    cJSON_AddItemToArray(arr, f);
}

static void fixed_ips_release(mc_server *srv, const cJSON *fixed_ips) {
    const cJSON *f;
    cJSON_ArrayForEach(f, fixed_ips) {
        mc_record *s = subnet_of(srv, mc_json_str(f, "subnet_id"));
        ipaddr ip;
        if (s != NULL && ip_parse(mc_json_str(f, "ip_address"), &ip)) alloc_del(s, ip.a);
    }
}

/* Allocates the addresses asked for by 'req' (a fixed_ips array or NULL for
 * automatic) on 'net' for port 'port_id'. Returns a new fixed_ips array, or
 * NULL with 'e' set (nothing stays allocated then). */
static cJSON *ipam_allocate(mc_server *srv, mc_record *net, const cJSON *req, const char *port_id,
                            const char *mac, bool router_port, nerr *e) {
    cJSON *out = cJSON_CreateArray();
    if (req == NULL) {
        mc_record *subs[16];
        size_t n = port_auto_subnets(srv, net, subs, 16);
        for (size_t i = 0; i < n; i++) {
            u128 a;
            if (!ipam_pick(srv, subs[i], NULL, mac, router_port, &a, e)) {
                /* IPv4: try the next IPv4 subnet before giving up. */
                bool retried = false;
                if (SP(subs[i])->c.v == 4) {
                    bool after = false;
                    FOREACH_NET_SUBNET(srv, net, it, s) {
                        if (s == subs[i]) { after = true; continue; }
                        if (!after || SP(s)->c.v != 4) continue;
                        if (ipam_pick(srv, s, NULL, mac, router_port, &a, e)) {
                            subs[i] = s;
                            retried = true;
                            break;
                        }
                    }
                }
                if (!retried) goto fail;
            }
            alloc_add(subs[i], a, port_id);
            fixed_ip_add(out, subs[i]->id, a, SP(subs[i])->c.v);
        }
        return out;
    }
    if (!cJSON_IsArray(req)) {
        fail(e, 400, "InvalidInput", "Invalid input for fixed_ips. Reason: Invalid data format for fixed IP: '%s'.", "not a list");
        goto fail;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, req) {
        if (!cJSON_IsObject(f)) {
            fail(e, 400, "InvalidInput", "Invalid input for fixed_ips. Reason: Invalid data format for fixed IP.");
            goto fail;
        }
        const char *sid = mc_json_str(f, "subnet_id");
        const char *want = mc_json_str(f, "ip_address");
        if (sid == NULL && want == NULL) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: IP allocation requires subnet_id or ip_address.");
            goto fail;
        }
        mc_record *s = NULL;
        if (sid != NULL) {
            s = subnet_of(srv, sid);
            if (s == NULL) {
                fail(e, 404, "SubnetNotFound", "Subnet %s could not be found.", sid);
                goto fail;
            }
            if (!mc_str_eq(mc_json_str(s->doc, "network_id"), net->id)) {
                fail(e, 400, "InvalidInput", "Invalid input for operation: Failed to create port on network %s, because fixed_ips included invalid subnet %s.", net->id, sid);
                goto fail;
            }
        } else {
            ipaddr ip;
            if (!ip_parse(want, &ip)) {
                fail(e, 400, "InvalidInput", "Invalid input for fixed_ips. Reason: '%s' is not a valid IP address.", want);
                goto fail;
            }
            FOREACH_NET_SUBNET(srv, net, it, cand) {
                if (cidr_contains(&SP(cand)->c, &ip)) { s = cand; break; }
            }
            if (s == NULL) {
                fail(e, 400, "InvalidIpForNetwork", "IP address %s is not a valid IP for any of the subnets on the specified network.", want);
                goto fail;
            }
        }
        u128 a;
        if (!ipam_pick(srv, s, want, mac, router_port, &a, e)) goto fail;
        alloc_add(s, a, port_id);
        fixed_ip_add(out, s->id, a, SP(s)->c.v);
    }
    /* Neutron adds every IPv6 auto-address subnet that was not named (not
     * for router ports). */
    if (!router_port) {
        FOREACH_NET_SUBNET(srv, net, it, s) {
            if (!subnet_is_v6_auto(s)) continue;
            bool named = false;
            cJSON *x;
            cJSON_ArrayForEach(x, out) if (mc_str_eq(mc_json_str(x, "subnet_id"), s->id)) named = true;
            if (named) continue;
            u128 a;
            if (!ipam_pick(srv, s, NULL, mac, false, &a, e)) goto fail;
            alloc_add(s, a, port_id);
            fixed_ip_add(out, s->id, a, SP(s)->c.v);
        }
    }
    return out;
fail:
    fixed_ips_release(srv, out);
    cJSON_Delete(out);
    return NULL;
}

/* ================================================================ quotas */

typedef struct quota_def {
    const char *resource;
    mc_kind kind;
    long dflt;
} quota_def;

static const quota_def quota_defs[] = {
    {"network", MC_K_NETWORK, 100},
    {"subnet", MC_K_SUBNET, 100},
    {"subnetpool", MC_K_SUBNETPOOL, -1},
    {"port", MC_K_PORT, 500},
    {"router", MC_K_ROUTER, 10},
    {"floatingip", MC_K_FLOATINGIP, 50},
    {"security_group", MC_K_SECGROUP, 10},
    {"security_group_rule", MC_K_SECGROUP_RULE, 100},
};
#define NQUOTAS (sizeof quota_defs / sizeof quota_defs[0])

static long quota_limit(mc_server *srv, const char *project, const quota_def *q) {
    mc_record *rec = mc_store_find(W(srv, MC_K_QUOTA), project);
    if (rec != NULL) {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(rec->doc, q->resource);
        if (cJSON_IsNumber(v)) return (long)v->valuedouble;
    }
    /* HOOK (quotas): a cloud with a tiny default floating IP quota. */
    if (q->kind == MC_K_FLOATINGIP && mc_knob_srv(srv, MC_KNOB_NETWORK_QUOTA_FIP) >= 0)
        return (long)mc_knob_cur(srv, MC_KNOB_NETWORK_QUOTA_FIP);
    return q->dflt;
}

static long quota_used(mc_server *srv, const char *project, mc_kind k) {
    proj_ent *p = proj_get(srv, project, false);
    return p != NULL ? p->used[k] : 0;
}

/* 0, or -1 with a 409 OverQuota when one more 'k' would exceed the quota. */
static int quota_check(mc_server *srv, const char *project, mc_kind k, long more, nerr *e) {
    if (project == NULL || *project == '\0') return 0;
    for (size_t i = 0; i < NQUOTAS; i++) {
        if (quota_defs[i].kind != k) continue;
        long lim = quota_limit(srv, project, &quota_defs[i]);
        if (lim < 0) return 0;
        if (quota_used(srv, project, k) + more > lim) {
            fail(e, 409, "OverQuota", "Quota exceeded for resources: ['%s'].", quota_defs[i].resource);
            return -1;
        }
    }
    return 0;
}

/* ================================================================ security groups */

static mc_record *sg_create_doc(mc_server *srv, const char *project, const char *name, const char *desc) {
    char id[37];
    mc_uuid(srv, id);
    cJSON *d = std_doc(id, project);
    cJSON_AddStringToObject(d, "name", name ? name : "");
    mc_json_set_str(d, "description", desc ? desc : "");
    cJSON_AddBoolToObject(d, "stateful", true);
    cJSON_AddBoolToObject(d, "shared", false);
    return new_record(srv, MC_K_SECGROUP, id, project, d);
}

static mc_record *rule_add(mc_server *srv, const char *project, const char *sg_id, const char *dir,
                           const char *ether, const char *remote_group) {
    char id[37];
    mc_uuid(srv, id);
    cJSON *d = std_doc(id, project);
    cJSON_AddStringToObject(d, "security_group_id", sg_id);
    cJSON_AddStringToObject(d, "direction", dir);
    cJSON_AddStringToObject(d, "ethertype", ether);
    cJSON_AddNullToObject(d, "protocol");
    cJSON_AddNullToObject(d, "port_range_min");
    cJSON_AddNullToObject(d, "port_range_max");
    cJSON_AddNullToObject(d, "remote_ip_prefix");
    mc_json_set_str(d, "remote_group_id", remote_group);
    cJSON_AddNullToObject(d, "remote_address_group_id");
    cJSON_AddNullToObject(d, "normalized_cidr");
    return new_record(srv, MC_K_SECGROUP_RULE, id, project, d);
}

mc_record *mc_net_secgroup_default(mc_server *srv, const char *project_id) {
    if (project_id == NULL || *project_id == '\0') return NULL;
    proj_ent *pe = proj_get(srv, project_id, true);
    mc_record *x = pe != NULL ? mc_store_find(W(srv, MC_K_SECGROUP), pe->default_sg) : NULL;
    if (x != NULL && strcmp(x->project_id, project_id) == 0 && mc_str_eq(mc_json_str(x->doc, "name"), "default"))
        return x;
    for (x = mc_store_first(W(srv, MC_K_SECGROUP)); x; x = mc_store_next(x))
        if (strcmp(x->project_id, project_id) == 0 && mc_str_eq(mc_json_str(x->doc, "name"), "default")) {
            if (pe != NULL) mc_strlcpy(pe->default_sg, x->id, sizeof pe->default_sg);
            return x;
        }
    mc_record *sg = sg_create_doc(srv, project_id, "default", "Default security group");
    if (pe != NULL) mc_strlcpy(pe->default_sg, sg->id, sizeof pe->default_sg);
    rule_add(srv, project_id, sg->id, "egress", "IPv4", NULL);
    rule_add(srv, project_id, sg->id, "egress", "IPv6", NULL);
    rule_add(srv, project_id, sg->id, "ingress", "IPv4", sg->id);
    rule_add(srv, project_id, sg->id, "ingress", "IPv6", sg->id);
    return sg;
}

mc_record *mc_net_secgroup_find(mc_server *srv, const char *name_or_id, const char *project_id) {
    if (name_or_id == NULL) return NULL;
    mc_record *sg = mc_store_find(W(srv, MC_K_SECGROUP), name_or_id);
    if (sg != NULL) return (project_id == NULL || owned(sg, project_id, false)) ? sg : NULL;
    if (project_id != NULL && strcmp(name_or_id, "default") == 0) return mc_net_secgroup_default(srv, project_id);
    for (mc_record *x = mc_store_first(W(srv, MC_K_SECGROUP)); x; x = mc_store_next(x))
        if ((project_id == NULL || strcmp(x->project_id, project_id) == 0) &&
            mc_str_eq(mc_json_str(x->doc, "name"), name_or_id))
            return x;
    return NULL;
}

static mc_record *sg_create(mc_server *srv, const char *project, const char *name, const char *desc, nerr *e) {
    if (name != NULL && strcmp(name, "default") == 0) {
        /* the implicit one may not exist yet: make it, then refuse a second */
        mc_net_secgroup_default(srv, project);
        return fail(e, 409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
    }
    if (name != NULL && strlen(name) > 255)
        return fail(e, 400, "InvalidInput", "Invalid input for name. Reason: '%.40s...' exceeds maximum length of 255.", name);
    if (desc != NULL && strlen(desc) > 255)
        return fail(e, 400, "InvalidInput", "Invalid input for description. Reason: exceeds maximum length of 255.");
    mc_net_secgroup_default(srv, project);
    if (quota_check(srv, project, MC_K_SECGROUP, 1, e) != 0) return NULL;
    mc_record *sg = sg_create_doc(srv, project, name, desc);
    rule_add(srv, project, sg->id, "egress", "IPv4", NULL);
    rule_add(srv, project, sg->id, "egress", "IPv6", NULL);
    return sg;
}

mc_record *mc_net_secgroup_create(mc_server *srv, const char *project_id, const char *name,
                                  const char *description, int *status, char *err, size_t errsz) {
    nerr e = {0};
    mc_record *sg = sg_create(srv, project_id, name, description, &e);
    if (sg == NULL) nerr_copy(&e, status, err, errsz);
    return sg;
}

static const char *const ip_protocols[] = {
    "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip", "ipip", "ipv6-encap",
    "ipv6-frag", "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm",
    "rsvp", "sctp", "tcp", "udp", "udplite", "vrrp", "any",
};

static bool proto_is(const char *p, const char *name, int num) {
    if (p == NULL) return false;
    if (strcmp(p, name) == 0) return true;
    long n;
    return mc_parse_long(p, 0, 255, &n) && n == num;
}

/* Reads an optional port/type value: absent or null -> *has = false. */
static int rule_int(const cJSON *in, const char *key, bool *has, long *v, nerr *e) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(in, key);
    *has = false;
    if (x == NULL || cJSON_IsNull(x)) return 0;
    if (cJSON_IsNumber(x)) {
        *v = (long)x->valuedouble;
    } else if (cJSON_IsString(x) && mc_parse_long(x->valuestring, -1000000, 1000000, v)) {
        /* "22" */
    } else {
        fail(e, 400, "SecurityGroupInvalidPortValue", "Invalid value for port %s.",
             cJSON_IsString(x) ? x->valuestring : "(not a number)");
        return -1;
    }
    *has = true;
    return 0;
}

static bool null_or_eq(const cJSON *a, const cJSON *b) {
    if ((a == NULL || cJSON_IsNull(a)) && (b == NULL || cJSON_IsNull(b))) return true;
    if (a == NULL || b == NULL) return false;
    return cJSON_Compare(a, b, true);
}

/* Validates 'in' (Neutron's rule shape) and creates the rule. */
static mc_record *rule_create(mc_server *srv, const char *project, bool admin, const cJSON *in, nerr *e) {
    const char *sg_id = mc_json_str(in, "security_group_id");
    if (sg_id == NULL) return fail(e, 400, "InvalidInput", "Invalid input for operation: security_group_id is required.");
    mc_record *sg = mc_store_find(W(srv, MC_K_SECGROUP), sg_id);
    if (sg == NULL || !owned(sg, project, admin))
        return fail(e, 404, "SecurityGroupNotFound", "Security group %s does not exist", sg_id);
    const char *dir = mc_json_str(in, "direction");
    if (dir == NULL || (strcmp(dir, "ingress") != 0 && strcmp(dir, "egress") != 0))
        return fail(e, 400, "InvalidInput", "Invalid input for direction. Reason: %s is not in valid_values.", dir ? dir : "None");
    const cJSON *eth = cJSON_GetObjectItemCaseSensitive(in, "ethertype");
    const char *ether = "IPv4";
    if (eth != NULL && !cJSON_IsNull(eth)) {
        ether = cJSON_IsString(eth) ? eth->valuestring : "";
        if (strcasecmp(ether, "IPv4") == 0) ether = "IPv4";
        else if (strcasecmp(ether, "IPv6") == 0) ether = "IPv6";
        else return fail(e, 400, "InvalidInput", "Invalid input for ethertype. Reason: %s is not in valid_values.", ether);
    }
    /* protocol: a name, a number 0..255, or null */
    char proto[16] = "";
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(in, "protocol");
    if (p != NULL && !cJSON_IsNull(p)) {
        if (cJSON_IsNumber(p)) {
            if (p->valuedouble < 0 || p->valuedouble > 255 || p->valuedouble != (long)p->valuedouble)
                return fail(e, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol %g not supported. Only protocol values [None, ah, dccp, egp, esp, gre, icmp, igmp, ipip, ipv6-encap, ipv6-frag, ipv6-icmp, icmpv6, ipv6-nonxt, ipv6-opts, ipv6-route, ospf, pgm, rsvp, sctp, tcp, udp, udplite, vrrp] and integer representations [0 to 255] are supported.", p->valuedouble);
            snprintf(proto, sizeof proto, "%ld", (long)p->valuedouble);
        } else if (cJSON_IsString(p)) {
            long n;
            bool ok = mc_parse_long(p->valuestring, 0, 255, &n);
            for (size_t i = 0; !ok && i < sizeof ip_protocols / sizeof ip_protocols[0]; i++)
                ok = strcasecmp(p->valuestring, ip_protocols[i]) == 0;
            if (!ok || strlen(p->valuestring) >= sizeof proto)
                return fail(e, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol %.40s not supported. Only protocol values [None, ah, dccp, egp, esp, gre, icmp, igmp, ipip, ipv6-encap, ipv6-frag, ipv6-icmp, icmpv6, ipv6-nonxt, ipv6-opts, ipv6-route, ospf, pgm, rsvp, sctp, tcp, udp, udplite, vrrp] and integer representations [0 to 255] are supported.", p->valuestring);
            mc_strlcpy(proto, p->valuestring, sizeof proto);
            for (char *c = proto; *c; c++) *c = (char)tolower((unsigned char)*c);
            if (strcmp(proto, "any") == 0) proto[0] = '\0';
        } else {
            return fail(e, 400, "SecurityGroupRuleInvalidProtocol", "Security group rule protocol not supported.");
        }
    }
    bool hmin, hmax;
    long pmin = 0, pmax = 0;
    if (rule_int(in, "port_range_min", &hmin, &pmin, e) != 0) return NULL;
    if (rule_int(in, "port_range_max", &hmax, &pmax, e) != 0) return NULL;
    bool icmp = proto_is(proto, "icmp", 1) || proto_is(proto, "ipv6-icmp", 58) || proto_is(proto, "icmpv6", 58);
    bool ported = proto_is(proto, "tcp", 6) || proto_is(proto, "udp", 17) || proto_is(proto, "sctp", 132) ||
                  proto_is(proto, "dccp", 33) || proto_is(proto, "udplite", 136);
    if ((hmin || hmax) && proto[0] == '\0')
        return fail(e, 400, "SecurityGroupProtocolRequiredWithPorts", "Must also specify protocol if port range is given.");
    if (ported) {
        if (hmin && (pmin < 0 || pmin > 65535)) return fail(e, 400, "SecurityGroupInvalidPortValue", "Invalid value for port %ld.", pmin);
        if (hmax && (pmax < 0 || pmax > 65535)) return fail(e, 400, "SecurityGroupInvalidPortValue", "Invalid value for port %ld.", pmax);
        if (hmin && pmin == 0) return fail(e, 400, "SecurityGroupInvalidPortValue", "Invalid value for port 0.");
        if ((hmax && !hmin) || (hmin && hmax && pmin > pmax))
            return fail(e, 400, "SecurityGroupInvalidPortRange", "For TCP/UDP protocols, port_range_min must be <= port_range_max");
        if (hmin && !hmax) {
            hmax = true;
            pmax = pmin;
        }
    } else if (icmp) {
        if (hmin && (pmin < 0 || pmin > 255))
            return fail(e, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type (port-range-min) %ld. It must be 0 to 255.", pmin);
        if (hmax && (pmax < 0 || pmax > 255))
            return fail(e, 400, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP code (port-range-max) %ld. It must be 0 to 255.", pmax);
        if (hmax && !hmin)
            return fail(e, 400, "SecurityGroupMissingIcmpType", "ICMP type (port-range-min) is missing for ICMP code (port-range-max) %ld.", pmax);
    } else if (hmin || hmax) {
        return fail(e, 400, "InvalidInput", "Invalid input for operation: port ranges are not supported for protocol %s.", proto);
    }
    /* remote */
    const char *prefix = NULL, *rgid = NULL;
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(in, "remote_ip_prefix");
    const cJSON *rg = cJSON_GetObjectItemCaseSensitive(in, "remote_group_id");
    if (rp != NULL && !cJSON_IsNull(rp)) prefix = cJSON_IsString(rp) ? rp->valuestring : "";
    if (rg != NULL && !cJSON_IsNull(rg)) rgid = cJSON_IsString(rg) ? rg->valuestring : "";
    if (prefix != NULL && rgid != NULL)
        return fail(e, 400, "SecurityGroupRemoteGroupAndRemoteIpPrefix", "Only remote_ip_prefix or remote_group_id may be provided.");
    char norm[80] = "";
    if (prefix != NULL) {
        cidr c;
        char tmp[80];
        if (strchr(prefix, '/') == NULL && strlen(prefix) < 60) {
            ipaddr ip;
            if (ip_parse(prefix, &ip)) {
                snprintf(tmp, sizeof tmp, "%s/%d", prefix, ip_bits(ip.v));
                prefix = tmp;
            }
        }
        if (!cidr_parse(prefix, &c, false))
            return fail(e, 400, "InvalidInput", "Invalid input for remote_ip_prefix. Reason: '%.64s' is not a valid IP subnet.", prefix);
        if ((c.v == 4) != (strcmp(ether, "IPv4") == 0))
            return fail(e, 400, "SecurityGroupRuleParameterConflict", "Conflicting value ethertype %s for CIDR %.64s", ether, prefix);
        cidr_fmt(&c, norm, sizeof norm);
    }
    if (rgid != NULL) {
        mc_record *r2 = mc_store_find(W(srv, MC_K_SECGROUP), rgid);
        if (r2 == NULL || !owned(r2, project, admin))
            return fail(e, 404, "SecurityGroupNotFound", "Security group %s does not exist", rgid);
    }
    /* build, then look for a duplicate */
    char id[37];
    mc_uuid(srv, id);
    cJSON *d = std_doc(id, sg->project_id);
    const char *desc = mc_json_str(in, "description");
    if (desc) mc_json_set_str(d, "description", desc);
    cJSON_AddStringToObject(d, "security_group_id", sg->id);
    cJSON_AddStringToObject(d, "direction", dir);
    cJSON_AddStringToObject(d, "ethertype", ether);
    if (proto[0]) cJSON_AddStringToObject(d, "protocol", proto);
    else cJSON_AddNullToObject(d, "protocol");
    if (hmin) cJSON_AddNumberToObject(d, "port_range_min", (double)pmin);
    else cJSON_AddNullToObject(d, "port_range_min");
    if (hmax) cJSON_AddNumberToObject(d, "port_range_max", (double)pmax);
    else cJSON_AddNullToObject(d, "port_range_max");
    if (prefix) cJSON_AddStringToObject(d, "remote_ip_prefix", prefix);
    else cJSON_AddNullToObject(d, "remote_ip_prefix");
    mc_json_set_str(d, "remote_group_id", rgid);
    cJSON_AddNullToObject(d, "remote_address_group_id");
    mc_json_set_str(d, "normalized_cidr", prefix ? norm : NULL);
    static const char *const keys[] = {"direction", "ethertype", "port_range_min", "port_range_max",
                                       "remote_group_id", "normalized_cidr"};
    size_t nrules;
    mc_record **rules = group_rules(srv, sg->id, &nrules);
    for (size_t ri = 0; ri < nrules; ri++) {
        mc_record *x = rules[ri];
        bool same = true;
        for (size_t i = 0; same && i < sizeof keys / sizeof keys[0]; i++)
            same = null_or_eq(cJSON_GetObjectItemCaseSensitive(x->doc, keys[i]),
                              cJSON_GetObjectItemCaseSensitive(d, keys[i]));
        if (same) {
            /* protocols compare by meaning: "tcp" == "6" == 6 */
            const cJSON *xp = cJSON_GetObjectItemCaseSensitive(x->doc, "protocol");
            char xs[16] = "";
            if (cJSON_IsString(xp)) mc_strlcpy(xs, xp->valuestring, sizeof xs);
            else if (cJSON_IsNumber(xp)) snprintf(xs, sizeof xs, "%ld", (long)xp->valuedouble);
            same = strcmp(xs, proto) == 0;
            for (size_t i = 0; !same && i < sizeof ip_protocols / sizeof ip_protocols[0]; i++) {
                static const int nums[] = {51, 33, 8, 50, 47, 0, 1, 2, 0, 4, 41, 44, 58, 58, 59, 60, 43, 89, 113, 46, 132, 6, 17, 136, 112, -1};
                if ((strcmp(xs, ip_protocols[i]) == 0 && proto_is(proto, ip_protocols[i], nums[i])) ||
                    (strcmp(proto, ip_protocols[i]) == 0 && proto_is(xs, ip_protocols[i], nums[i])))
                    same = true;
            }
        }
        if (same) {
            cJSON_Delete(d);
            fail(e, 409, "SecurityGroupRuleExists", "Security group rule already exists. Rule id is %s.", x->id);
            free(rules);
            return NULL;
        }
    }
    free(rules);
    if (quota_check(srv, sg->project_id, MC_K_SECGROUP_RULE, 1, e) != 0) {
        cJSON_Delete(d);
        return NULL;
    }
    mc_record *rec = new_record(srv, MC_K_SECGROUP_RULE, id, sg->project_id, d);
    touch(sg);
    return rec;
}

mc_record *mc_net_secgroup_rule_create(mc_server *srv, const char *project_id, const cJSON *rule,
                                       int *status, char *err, size_t errsz) {
    nerr e = {0};
    mc_record *r = rule_create(srv, project_id, false, rule, &e);
    if (r == NULL) nerr_copy(&e, status, err, errsz);
    return r;
}

static bool sg_in_use(mc_server *srv, const char *sg_id) {
    for (mc_record *p = mc_store_first(W(srv, MC_K_PORT)); p; p = mc_store_next(p)) {
        cJSON *x;
        cJSON_ArrayForEach(x, mc_json_arr(p->doc, "security_groups"))
            if (cJSON_IsString(x) && strcmp(x->valuestring, sg_id) == 0) return true;
    }
    return false;
}

static int sg_delete(mc_server *srv, mc_record *sg, bool admin, nerr *e) {
    if (mc_str_eq(mc_json_str(sg->doc, "name"), "default") && !admin) {
        fail(e, 409, "SecurityGroupCannotRemoveDefault", "Insufficient rights for removing default security group.");
        return -1;
    }
    if (sg_in_use(srv, sg->id)) {
        fail(e, 409, "SecurityGroupInUse", "Security Group %s in use.", sg->id);
        return -1;
    }
    mc_record *x, *t;
    HASH_ITER(hh, W(srv, MC_K_SECGROUP_RULE)->head, x, t) {
        if (mc_str_eq(mc_json_str(x->doc, "security_group_id"), sg->id) ||
            mc_str_eq(mc_json_str(x->doc, "remote_group_id"), sg->id))
            del_record(srv, MC_K_SECGROUP_RULE, x);
    }
    del_record(srv, MC_K_SECGROUP, sg);
    return 0;
}

int mc_net_secgroup_delete(mc_server *srv, mc_record *sg, int *status, char *err, size_t errsz) {
    nerr e = {0};
    if (sg_delete(srv, sg, false, &e) == 0) return 0;
    nerr_copy(&e, status, err, errsz);
    return -1;
}

int mc_net_secgroup_rule_delete(mc_server *srv, mc_record *rule, int *status, char *err, size_t errsz) {
    (void)status; (void)err; (void)errsz;
    mc_record *sg = mc_store_find(W(srv, MC_K_SECGROUP), mc_json_str(rule->doc, "security_group_id"));
    if (sg != NULL) touch(sg);
    del_record(srv, MC_K_SECGROUP_RULE, rule);
    return 0;
}

/* The rules of a group, in creation order (a new array). */
static cJSON *sg_rules(mc_server *srv, const char *sg_id) {
    cJSON *arr = cJSON_CreateArray();
    size_t n;
    mc_record **rules = group_rules(srv, sg_id, &n);
    for (size_t i = 0; i < n; i++) cJSON_AddItemToArray(arr, cJSON_Duplicate(rules[i]->doc, 1));
    free(rules);
    return arr;
}

/* ================================================================ ports */

static bool is_network_owner(const char *owner) { return owner != NULL && strncmp(owner, "network:", 8) == 0; }

typedef struct port_spec {
    const char *project;          /* owner of the new port */
    bool admin;
    mc_record *net;
    const cJSON *fixed_ips;       /* NULL = automatic */
    const char *device_id, *device_owner;
    const cJSON *security_groups; /* NULL = the project's default */
    bool sg_by_name;              /* compute passes names; the API passes ids */
    const cJSON *body;            /* the rest of a POST /ports body, or NULL */
    bool device_created;
} port_spec;

/* Resolves the security group list: a new array of ids, or NULL + e. */
static cJSON *port_sgs(mc_server *srv, const port_spec *ps, bool port_security, nerr *e) {
    cJSON *out = cJSON_CreateArray();
    if (ps->security_groups == NULL) {
        if (port_security && !is_network_owner(ps->device_owner)) {
            mc_record *def = mc_net_secgroup_default(srv, ps->project);
            if (def) cJSON_AddItemToArray(out, cJSON_CreateString(def->id));
        }
        return out;
    }
    if (!cJSON_IsArray(ps->security_groups)) {
        cJSON_Delete(out);
        return fail(e, 400, "InvalidInput", "Invalid input for security_groups. Reason: must be a list.");
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, ps->security_groups) {
        const char *want = cJSON_IsString(x) ? x->valuestring : mc_json_str(x, "name");
        mc_record *sg = NULL;
        if (want != NULL) {
            if (ps->sg_by_name) {
                sg = mc_net_secgroup_find(srv, want, ps->project);
            } else {
                sg = mc_store_find(W(srv, MC_K_SECGROUP), want);
                if (sg != NULL && !owned(sg, ps->project, ps->admin)) sg = NULL;
            }
        }
        if (sg == NULL) {
            cJSON_Delete(out);
            return fail(e, 404, "SecurityGroupNotFound", "Security group %s does not exist", want ? want : "(invalid)");
        }
        bool dup = false;
        cJSON *y;
        cJSON_ArrayForEach(y, out) if (strcmp(y->valuestring, sg->id) == 0) dup = true;
        if (!dup) cJSON_AddItemToArray(out, cJSON_CreateString(sg->id));
    }
    if (cJSON_GetArraySize(out) > 0 && !port_security) {
        cJSON_Delete(out);
        return fail(e, 400, "PortSecurityAndIPRequiredForSecurityGroups",
                    "Port security must be enabled and port must have an IP address in order to use security groups.");
    }
    return out;
}

/* Validates allowed_address_pairs; a new array (mac filled in) or NULL + e. */
static cJSON *address_pairs(const cJSON *in, const char *mac, nerr *e) {
    if (!cJSON_IsArray(in)) return fail(e, 400, "InvalidInput", "Invalid input for allowed_address_pairs. Reason: must be a list.");
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        const char *ip = mc_json_str(x, "ip_address");
        const char *m = mc_json_str(x, "mac_address");
        ipaddr a;
        cidr c;
        if (ip == NULL || (!ip_parse(ip, &a) && !cidr_parse(ip, &c, false))) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for allowed_address_pairs. Reason: '%s' is not a valid IP address.", ip ? ip : "None");
        }
        if (m != NULL && !mac_valid(m)) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for allowed_address_pairs. Reason: '%s' is not a valid MAC address.", m);
        }
        cJSON *y;
        cJSON_ArrayForEach(y, out) {
            if (mc_str_eq(mc_json_str(y, "ip_address"), ip) && mc_str_eq(mc_json_str(y, "mac_address"), m ? m : mac)) {
                cJSON_Delete(out);
                return fail(e, 400, "InvalidInput", "Invalid input for allowed_address_pairs. Reason: Duplicate address pair in request.");
            }
        }
        cJSON *p = cJSON_CreateObject();
        cJSON_AddStringToObject(p, "ip_address", ip);
        cJSON_AddStringToObject(p, "mac_address", m ? m : mac);
        cJSON_AddItemToArray(out, p);
    }
    return out;
}

static bool body_bool(const cJSON *body, const char *key, bool dflt, bool *out, nerr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    if (v == NULL) {
        *out = dflt;
        return true;
    }
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return true;
    }
    bool b;
    if (cJSON_IsString(v) && mc_str_bool(v->valuestring, &b)) {
        *out = b;
        return true;
    }
    fail(e, 400, "InvalidInput", "Invalid input for %s. Reason: '%s' is not a valid boolean value.", key,
         cJSON_IsString(v) ? v->valuestring : "(not a boolean)");
    return false;
}

static mc_record *port_create(mc_server *srv, const port_spec *ps, nerr *e) {
    const cJSON *body = ps->body;
    cJSON *fixed = NULL, *sgs = NULL, *pairs = NULL;
    char id[37], macbuf[18];
    if (quota_check(srv, ps->project, MC_K_PORT, 1, e) != 0) return NULL;
    const char *mac = mc_json_str(body, "mac_address");
    if (mc_json_has(body, "mac_address") && mac == NULL)
        return fail(e, 400, "InvalidInput", "Invalid input for mac_address. Reason: not a valid MAC address.");
    if (mac != NULL) {
        if (!mac_valid(mac)) return fail(e, 400, "InvalidInput", "Invalid input for mac_address. Reason: '%s' is not a valid MAC address.", mac);
        mc_strlcpy(macbuf, mac, sizeof macbuf);
        for (char *c = macbuf; *c; c++) *c = (char)tolower((unsigned char)*c);
        if (mac_taken(srv, macbuf))
            return fail(e, 409, "MacAddressInUse", "Unable to complete operation for network %s. The mac address %s is in use.", ps->net->id, macbuf);
    } else {
        mac_new(srv, macbuf);
    }
    bool psec, up;
    if (!body_bool(body, "port_security_enabled", mc_json_has(ps->net->doc, "port_security_enabled") ? jbool(ps->net->doc, "port_security_enabled") : true, &psec, e)) return NULL;
    if (!body_bool(body, "admin_state_up", true, &up, e)) return NULL;
    const char *name = mc_json_str(body, "name");
    const char *desc = mc_json_str(body, "description");
    if ((name && strlen(name) > 255) || (desc && strlen(desc) > 255))
        return fail(e, 400, "InvalidInput", "Invalid input for name or description. Reason: exceeds maximum length of 255.");
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(body, "allowed_address_pairs");
    if (pin != NULL && !cJSON_IsNull(pin)) {
        pairs = address_pairs(pin, macbuf, e);
        if (pairs == NULL) return NULL;
        if (!psec && cJSON_GetArraySize(pairs) > 0) {
            cJSON_Delete(pairs);
            return fail(e, 409, "AddressPairAndPortSecurityRequired",
                        "Port Security must be enabled in order to have allowed address pairs on a port.");
        }
    } else {
        pairs = cJSON_CreateArray();
    }
    sgs = port_sgs(srv, ps, psec, e);
    if (sgs == NULL) goto fail;
    mc_uuid(srv, id);
    bool router_port = mc_str_eq(ps->device_owner, "network:router_interface") ||
                       mc_str_eq(ps->device_owner, "network:router_gateway");
    fixed = ipam_allocate(srv, ps->net, ps->fixed_ips, id, macbuf, router_port, e);
    if (fixed == NULL) goto fail;

    cJSON *d = std_doc(id, ps->project);
    cJSON_AddStringToObject(d, "name", name ? name : "");
    if (desc) mc_json_set_str(d, "description", desc);
    cJSON_AddStringToObject(d, "network_id", ps->net->id);
    cJSON_AddStringToObject(d, "mac_address", macbuf);
    cJSON_AddBoolToObject(d, "admin_state_up", up);
    cJSON_AddStringToObject(d, "status", "DOWN");
    cJSON_AddStringToObject(d, "device_id", ps->device_id ? ps->device_id : "");
    cJSON_AddStringToObject(d, "device_owner", ps->device_owner ? ps->device_owner : "");
    cJSON_AddItemToObject(d, "fixed_ips", fixed);
    cJSON_AddItemToObject(d, "allowed_address_pairs", pairs);
    cJSON *dhcp = cJSON_GetObjectItemCaseSensitive(body, "extra_dhcp_opts");
    cJSON_AddItemToObject(d, "extra_dhcp_opts", cJSON_IsArray(dhcp) ? cJSON_Duplicate(dhcp, 1) : cJSON_CreateArray());
    cJSON_AddItemToObject(d, "security_groups", sgs);
    cJSON_AddBoolToObject(d, "port_security_enabled", psec);
    const char *host = mc_json_str(body, "binding:host_id");
    const char *vnic = mc_json_str(body, "binding:vnic_type");
    cJSON_AddStringToObject(d, "binding:host_id", host ? host : "");
    cJSON *prof = mc_json_obj(body, "binding:profile");
    cJSON_AddItemToObject(d, "binding:profile", prof ? cJSON_Duplicate(prof, 1) : cJSON_CreateObject());
    cJSON_AddItemToObject(d, "binding:vif_details", cJSON_CreateObject());
    cJSON_AddStringToObject(d, "binding:vif_type", host && *host ? "ovs" : "unbound");
    cJSON_AddStringToObject(d, "binding:vnic_type", vnic ? vnic : "normal");
    const char *dns = mc_json_str(body, "dns_name");
    cJSON_AddStringToObject(d, "dns_name", dns ? dns : "");
    cJSON_AddNullToObject(d, "qos_policy_id");
    cJSON_AddNullToObject(d, "qos_network_policy_id");
    cJSON_AddBoolToObject(d, "propagate_uplink_status", false);
    mc_record *rec = new_record(srv, MC_K_PORT, id, ps->project, d);
    port_priv *pp = calloc(1, sizeof *pp);
    if (pp == NULL) mc_panic("out of memory");
    pp->device_created = ps->device_created;
    rec->priv = pp;
    rec->priv_free = plain_free;
    chain_add(ps->net, rec);
    mac_add(srv, macbuf);
    dev_add(srv, ps->device_id, rec->id);
    return rec;
fail:
    cJSON_Delete(pairs);
    cJSON_Delete(sgs);
    return NULL;
}

/* Sets (a port id) or clears (NULL) a floating IP's port, keeping the
 * port -> floating IPs index in step. */
static void fip_set_port(mc_server *srv, mc_record *fip, const char *port_id) {
    net_state *st = state(srv);
    const char *old = mc_json_str(fip->doc, "port_id");
    if (old != NULL) idx_del(&st->port_fips, old, fip->id);
    mc_json_set_str(fip->doc, "port_id", port_id);
    if (port_id != NULL) idx_add(&st->port_fips, port_id, fip->id);
}

static void fip_disassociate(mc_server *srv, mc_record *fip) {
    fip_set_port(srv, fip, NULL);
    mc_json_set(fip->doc, "fixed_ip_address", cJSON_CreateNull());
    mc_json_set(fip->doc, "router_id", cJSON_CreateNull());
    mc_json_set_str(fip->doc, "status", "DOWN");
    touch(fip);
}

/* Deletes a port: frees its addresses and MAC, disassociates floating IPs. */
static void port_destroy(mc_server *srv, mc_record *port) {
    fixed_ips_release(srv, mc_json_arr(port->doc, "fixed_ips"));
    mac_del(srv, mc_json_str(port->doc, "mac_address"));
    dev_del(srv, mc_json_str(port->doc, "device_id"), port->id);
    size_t nf;
    mc_record **fips = port_fips(srv, port->id, &nf);
    for (size_t i = 0; i < nf; i++) fip_disassociate(srv, fips[i]);
    free(fips);
    del_record(srv, MC_K_PORT, port);
}

/* ---- netapi.h: ports for servers ---- */

mc_record *mc_net_network_find(mc_server *srv, const char *id, const char *project_id) {
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), id);
    if (net == NULL || !net_visible(net, project_id, project_id == NULL)) return NULL;
    return net;
}

mc_record *mc_net_network_auto(mc_server *srv, const char *project_id) {
    mc_record *shared = NULL;
    /* HOOK (IP assignment): provider networks, the public IPv4 on the server's own port. */
    if (mc_knob_srv(srv, MC_KNOB_NETWORK_BOOT_EXTERNAL)) {
        for (mc_record *n = mc_store_first(W(srv, MC_K_NETWORK)); n; n = mc_store_next(n))
            if (jbool(n->doc, "router:external")) {
                mc_knob_cur(srv, MC_KNOB_NETWORK_BOOT_EXTERNAL);
                return n;
            }
    }
    for (mc_record *n = mc_store_first(W(srv, MC_K_NETWORK)); n; n = mc_store_next(n)) {
        if (jbool(n->doc, "router:external")) continue;
        if (project_id != NULL && strcmp(n->project_id, project_id) == 0) return n;
        if (shared == NULL && jbool(n->doc, "shared")) shared = n;
    }
    return shared;
}

static mc_record *fip_create(mc_server *srv, const char *project, bool admin, const cJSON *body, nerr *e);
static void auto_fip(mc_server *srv, mc_record *port);

mc_record *mc_net_port_create(mc_server *srv, const mc_port_req *req, int *status, char *err, size_t errsz) {
    nerr e = {0};
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), req->network_id);
    mc_record *port = NULL;
    cJSON *fixed = NULL;
    if (net == NULL || !net_visible(net, req->project_id, false)) {
        fail(&e, 404, "NetworkNotFound", "Network %s could not be found.", req->network_id ? req->network_id : "");
        goto out;
    }
    /* HOOK: on provider-network clouds servers plug straight into the public network. */
    bool provider = jbool(net->doc, "router:external") && mc_knob_srv(srv, MC_KNOB_NETWORK_BOOT_EXTERNAL);
    if (!net_usable(net, req->project_id, false) && !provider) {
        fail(&e, 403, "HTTPForbidden", "Network %s is not shared with project %s.", net->id, req->project_id);
        goto out;
    }
    if (req->subnet_id != NULL || req->fixed_ip != NULL) {
        fixed = cJSON_CreateArray();
        cJSON *f = cJSON_CreateObject();
        if (req->subnet_id) cJSON_AddStringToObject(f, "subnet_id", req->subnet_id);
        if (req->fixed_ip) cJSON_AddStringToObject(f, "ip_address", req->fixed_ip);
        cJSON_AddItemToArray(fixed, f);
    }
    port_spec ps = {
        .project = req->project_id, .admin = false, .net = net, .fixed_ips = fixed,
        .device_id = req->device_id, .device_owner = req->device_owner,
        .security_groups = req->security_groups, .sg_by_name = true, .body = NULL,
        .device_created = true,
    };
    port = port_create(srv, &ps, &e);
out:
    cJSON_Delete(fixed);
    if (port == NULL) nerr_copy(&e, status, err, errsz);
    if (port != NULL && req->device_owner != NULL && strncmp(req->device_owner, "compute:", 8) == 0) auto_fip(srv, port);
    return port;
}

/* HOOK (IP assignment): a floating IP auto-assigned to every server port on
 * a project network, as soon as compute creates or attaches it. */
static void auto_fip(mc_server *srv, mc_record *port) {
    if (!mc_knob_srv(srv, MC_KNOB_NETWORK_AUTO_FIP)) return;
    mc_record *pnet = mc_store_find(W(srv, MC_K_NETWORK), mc_json_str(port->doc, "network_id"));
    if (pnet == NULL || jbool(pnet->doc, "router:external")) return;
    for (mc_record *n = mc_store_first(W(srv, MC_K_NETWORK)); n; n = mc_store_next(n)) {
        if (!jbool(n->doc, "router:external")) continue;
        cJSON *req = cJSON_CreateObject();
        cJSON_AddStringToObject(req, "floating_network_id", n->id);
        cJSON_AddStringToObject(req, "port_id", port->id);
        nerr fe = {0};
        if (fip_create(srv, port->project_id, false, req, &fe) != NULL)
            mc_knob_cur(srv, MC_KNOB_NETWORK_AUTO_FIP);
        else
            mc_log(MC_LOG_DEBUG, "auto floating IP for port %s: %s", port->id, fe.msg);
        cJSON_Delete(req);
        return;
    }
}

int mc_net_port_attach(mc_server *srv, const char *port_id, const char *project_id, const char *device_id,
                       const char *device_owner, int *status, char *err, size_t errsz) {
    nerr e = {0};
    mc_record *port = mc_store_find(W(srv, MC_K_PORT), port_id);
    if (port == NULL || !owned(port, project_id, false)) {
        fail(&e, 404, "PortNotFound", "Port %s could not be found.", port_id ? port_id : "");
        nerr_copy(&e, status, err, errsz);
        return -1;
    }
    const char *cur = mc_json_str(port->doc, "device_id");
    if (cur != NULL && *cur != '\0' && !mc_str_eq(cur, device_id)) {
        fail(&e, 409, "PortInUse", "Port %s is still in use.", port_id);
        nerr_copy(&e, status, err, errsz);
        return -1;
    }
    port_set_device(srv, port, device_id);
    mc_json_set_str(port->doc, "device_owner", device_owner ? device_owner : "compute:nova");
    touch(port);
    auto_fip(srv, port);
    return 0;
}

void mc_net_ports_set_status(mc_server *srv, const char *device_id, const char *status) {
    if (device_id == NULL || *device_id == '\0') return;
    bool active = mc_str_eq(status, "ACTIVE");
    long long lag = active ? mc_knob_srv(srv, MC_KNOB_NETWORK_PORT_ACTIVE_LAG_MS) : 0;
    size_t n;
    mc_record **ports = device_ports(srv, device_id, &n);
    for (size_t i = 0; i < n; i++) {
        mc_record *p = ports[i];
        /* HOOK: the port turns ACTIVE later than the server (port_settle). */
        cJSON_DeleteItemFromObjectCaseSensitive(p->doc, "_active_at");
        if (lag > 0) cJSON_AddNumberToObject(p->doc, "_active_at", mc_now() + (double)lag / 1000.0);
        mc_json_set_str(p->doc, "status", lag > 0 ? "DOWN" : status);
        mc_json_set_str(p->doc, "binding:host_id", active ? "mockcloud-compute" : "");
        mc_json_set_str(p->doc, "binding:vif_type", active ? "ovs" : "unbound");
        cJSON *det = cJSON_CreateObject();
        if (active) {
            cJSON_AddBoolToObject(det, "port_filter", true);
            cJSON_AddBoolToObject(det, "connectivity", true);
        }
        mc_json_set(p->doc, "binding:vif_details", det);
        touch(p);
    }
    free(ports);
}

/* A port compute created is deleted; one it was given is detached. */
static void port_release_one(mc_server *srv, mc_record *p) {
    port_priv *pp = p->priv;
    if (pp != NULL && pp->device_created) {
        port_destroy(srv, p);
        return;
    }
    port_set_device(srv, p, "");
    mc_json_set_str(p->doc, "device_owner", "");
    mc_json_set_str(p->doc, "status", "DOWN");
    mc_json_set_str(p->doc, "binding:host_id", "");
    mc_json_set_str(p->doc, "binding:vif_type", "unbound");
    mc_json_set(p->doc, "binding:vif_details", cJSON_CreateObject());
    touch(p);
}

void mc_net_ports_release(mc_server *srv, const char *device_id) {
    size_t n;
    mc_record **ports = device_ports(srv, device_id, &n);
    for (size_t i = 0; i < n; i++) port_release_one(srv, ports[i]);
    free(ports);
}

void mc_net_port_release(mc_server *srv, const char *device_id, const char *port_id) {
    size_t n;
    mc_record **ports = device_ports(srv, device_id, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(ports[i]->id, port_id) == 0) port_release_one(srv, ports[i]);
    free(ports);
}

void mc_net_ports_each(mc_server *srv, const char *device_id, void (*fn)(mc_record *port, void *arg), void *arg) {
    size_t n;
    mc_record **ports = device_ports(srv, device_id, &n);
    for (size_t i = 0; i < n; i++) {
        fn(ports[i], arg);
        changed(ports[i]);   /* fn may have changed the port (compute's security groups) */
    }
    free(ports);
}

void mc_net_ports_read(mc_server *srv, const char *device_id, void (*fn)(mc_record *port, void *arg), void *arg) {
    size_t n;
    mc_record **ports = device_ports(srv, device_id, &n);
    for (size_t i = 0; i < n; i++) fn(ports[i], arg);
    free(ports);
}

void mc_net_secgroup_rules_each(mc_server *srv, const char *sg_id, void (*fn)(mc_record *rule, void *arg), void *arg) {
    size_t n;
    mc_record **rules = group_rules(srv, sg_id, &n);
    for (size_t i = 0; i < n; i++) fn(rules[i], arg);
    free(rules);
}

void mc_net_floatingips_each(mc_server *srv, const char *port_id, void (*fn)(mc_record *fip, void *arg), void *arg) {
    if (port_id == NULL) return;
    size_t n;
    mc_record **fips = port_fips(srv, port_id, &n);
    for (size_t i = 0; i < n; i++) fn(fips[i], arg);
    free(fips);
}

/* ================================================================ networks */

static int check_len(const cJSON *body, const char *key, size_t max, nerr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    if (v == NULL || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsString(v)) {
        fail(e, 400, "InvalidInput", "Invalid input for %s. Reason: '%s' is not a valid string.", key, "(not a string)");
        return -1;
    }
    if (strlen(v->valuestring) > max) {
        fail(e, 400, "InvalidInput", "Invalid input for %s. Reason: '%.32s...' exceeds maximum length of %zu.", key, v->valuestring, max);
        return -1;
    }
    return 0;
}

static mc_record *network_create(mc_server *srv, const char *project, bool admin, const cJSON *body, nerr *e) {
    bool up, shared, external, psec;
    if (check_len(body, "name", 255, e) || check_len(body, "description", 255, e)) return NULL;
    if (!body_bool(body, "admin_state_up", true, &up, e) || !body_bool(body, "shared", false, &shared, e) ||
        !body_bool(body, "router:external", false, &external, e) ||
        !body_bool(body, "port_security_enabled", true, &psec, e))
        return NULL;
    if ((shared || external) && !admin)
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_network:%s) is disallowed by policy", shared ? "shared" : "router:external");
    const cJSON *mtu = cJSON_GetObjectItemCaseSensitive(body, "mtu");
    if (mtu != NULL && (!cJSON_IsNumber(mtu) || mtu->valuedouble < 68 || mtu->valuedouble > 9000))
        return fail(e, 400, "InvalidInput", "Invalid input for mtu. Reason: must be an integer between 68 and 9000.");
    if (quota_check(srv, project, MC_K_NETWORK, 1, e) != 0) return NULL;
    char id[37];
    const char *want = mc_json_str(body, "id");   /* fixtures give stable ids */
    if (want != NULL && mc_is_uuid(want) && mc_store_find(W(srv, MC_K_NETWORK), want) == NULL) mc_strlcpy(id, want, sizeof id);
    else mc_uuid(srv, id);
    cJSON *d = std_doc(id, project);
    cJSON_AddStringToObject(d, "name", jstr0(body, "name"));
    if (mc_json_str(body, "description")) mc_json_set_str(d, "description", mc_json_str(body, "description"));
    cJSON_AddBoolToObject(d, "admin_state_up", up);
    cJSON_AddStringToObject(d, "status", "ACTIVE");
    cJSON_AddItemToObject(d, "subnets", cJSON_CreateArray());
    cJSON_AddBoolToObject(d, "shared", shared);
    cJSON_AddBoolToObject(d, "router:external", external);
    cJSON_AddBoolToObject(d, "is_default", external && jbool(body, "is_default"));
    cJSON_AddNumberToObject(d, "mtu", mtu ? mtu->valuedouble : 1442);
    cJSON_AddBoolToObject(d, "port_security_enabled", psec);
    cJSON *hints = mc_json_arr(body, "availability_zone_hints");
    cJSON_AddItemToObject(d, "availability_zone_hints", hints ? cJSON_Duplicate(hints, 1) : cJSON_CreateArray());
    cJSON *az = cJSON_AddArrayToObject(d, "availability_zones");
    cJSON_AddItemToArray(az, cJSON_CreateString("nova"));
    cJSON_AddNullToObject(d, "ipv4_address_scope");
    cJSON_AddNullToObject(d, "ipv6_address_scope");
    cJSON_AddBoolToObject(d, "l2_adjacency", true);
    cJSON_AddStringToObject(d, "dns_domain", jstr0(body, "dns_domain"));
    cJSON_AddNullToObject(d, "qos_policy_id");
    cJSON_AddStringToObject(d, "provider:network_type", external ? "flat" : "geneve");
    if (external) cJSON_AddStringToObject(d, "provider:physical_network", "public");
    else cJSON_AddNullToObject(d, "provider:physical_network");
    cJSON_AddNumberToObject(d, "provider:segmentation_id", external ? 0 : (double)(W(srv, MC_K_NETWORK)->next_seq + 100));
    if (external) mc_json_set(d, "provider:segmentation_id", cJSON_CreateNull());
    mc_record *rec = new_record(srv, MC_K_NETWORK, id, project, d);
    rec->priv = calloc(1, sizeof(net_priv));
    if (rec->priv == NULL) mc_panic("out of memory");
    rec->priv_free = plain_free;
    net_flags_sync(rec);
    return rec;
}

/* ================================================================ subnets */

static void pool_add(cJSON *arr, int v, u128 a, u128 b) {
    if (a > b) return;
    char s1[64], s2[64];
    ipaddr x = {v, a}, y = {v, b};
    ip_fmt(&x, s1, sizeof s1);
    ip_fmt(&y, s2, sizeof s2);
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "start", s1);
    cJSON_AddStringToObject(p, "end", s2);
    cJSON_AddItemToArray(arr, p);
}

/* The usable range of a subnet: v4 skips network and broadcast. */
static void subnet_range(const cidr *c, u128 *first, u128 *last) {
    *first = c->net + 1;
    *last = cidr_last(c);
    if (c->v == 4 && c->plen < 31) *last -= 1;
    if (c->v == 4 && c->plen >= 31) *first = c->net;
}

/* Default pools: the usable range minus the gateway. */
static cJSON *default_pools(const cidr *c, bool has_gw, u128 gw) {
    cJSON *arr = cJSON_CreateArray();
    u128 first, last;
    subnet_range(c, &first, &last);
    if (has_gw && gw >= first && gw <= last) {
        if (gw > first) pool_add(arr, c->v, first, gw - 1);
        if (gw < last) pool_add(arr, c->v, gw + 1, last);
    } else {
        pool_add(arr, c->v, first, last);
    }
    return arr;
}

/* Validates given pools against the cidr and the gateway; a new array. */
static cJSON *given_pools(const cJSON *in, const cidr *c, bool has_gw, u128 gw, nerr *e) {
    if (!cJSON_IsArray(in)) return fail(e, 400, "InvalidInput", "Invalid input for allocation_pools. Reason: must be a list.");
    ipool ps[32];
    size_t n = 0;
    u128 first, last;
    subnet_range(c, &first, &last);
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        ipaddr a, b;
        const char *sa = mc_json_str(x, "start"), *sb = mc_json_str(x, "end");
        if (!ip_parse(sa, &a) || !ip_parse(sb, &b) || a.v != c->v || b.v != c->v)
            return fail(e, 400, "InvalidAllocationPool", "The allocation pool %s-%s is not valid.", sa ? sa : "None", sb ? sb : "None");
        if (a.a > b.a)
            return fail(e, 400, "InvalidAllocationPool", "The allocation pool %s-%s is not valid.", sa, sb);
        if (!cidr_contains(c, &a) || !cidr_contains(c, &b) || a.a < first || b.a > last) {
            char cs[80];
            cidr_fmt(c, cs, sizeof cs);
            return fail(e, 400, "OutOfBoundsAllocationPool", "The allocation pool %s-%s spans beyond the subnet cidr %s.", sa, sb, cs);
        }
        if (n >= 32) return fail(e, 400, "InvalidInput", "Invalid input for allocation_pools. Reason: too many pools.");
        for (size_t i = 0; i < n; i++)
            if (a.a <= ps[i].end && ps[i].start <= b.a)
                return fail(e, 400, "OverlappingAllocationPools", "Found overlapping allocation pools: %s-%s and another pool.", sa, sb);
        if (has_gw && gw >= a.a && gw <= b.a) {
            char g[64];
            ipaddr gi = {c->v, gw};
            ip_fmt(&gi, g, sizeof g);
            return fail(e, 409, "GatewayConflictWithAllocationPools", "Gateway ip %s conflicts with allocation pool %s-%s.", g, sa, sb);
        }
        ps[n].start = a.a;
        ps[n].end = b.a;
        n++;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < n; i++) pool_add(arr, c->v, ps[i].start, ps[i].end);
    return arr;
}

static cJSON *nameservers(const cJSON *in, int v, nerr *e) {
    if (!cJSON_IsArray(in)) return fail(e, 400, "InvalidInput", "Invalid input for dns_nameservers. Reason: must be a list.");
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        ipaddr a;
        const char *s = cJSON_IsString(x) ? x->valuestring : NULL;
        if (!ip_parse(s, &a)) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for dns_nameservers. Reason: '%s' is not a valid nameserver.", s ? s : "None");
        }
        (void)v;
        const cJSON *y;
        cJSON_ArrayForEach(y, out) if (strcmp(y->valuestring, s) == 0) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for dns_nameservers. Reason: Duplicate nameserver '%s'.", s);
        }
        cJSON_AddItemToArray(out, cJSON_CreateString(s));
    }
    return out;
}

static cJSON *host_routes(const cJSON *in, int v, nerr *e) {
    if (!cJSON_IsArray(in)) return fail(e, 400, "InvalidInput", "Invalid input for host_routes. Reason: must be a list.");
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        cidr c;
        ipaddr a;
        const char *d = mc_json_str(x, "destination"), *h = mc_json_str(x, "nexthop");
        if (!cidr_parse(d, &c, false) || !ip_parse(h, &a) || c.v != v || a.v != v) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for host_routes. Reason: Invalid data format for hostroute: '%s -> %s'.", d ? d : "None", h ? h : "None");
        }
        cJSON *r = cJSON_CreateObject();
        char cs[80];
        cidr_fmt(&c, cs, sizeof cs);
        cJSON_AddStringToObject(r, "destination", cs);
        cJSON_AddStringToObject(r, "nexthop", h);
        cJSON_AddItemToArray(out, r);
    }
    return out;
}

static bool ipv6_mode_ok(const char *m) {
    return m == NULL || strcmp(m, "slaac") == 0 || strcmp(m, "dhcpv6-stateful") == 0 || strcmp(m, "dhcpv6-stateless") == 0;
}

static const char *opt_str(const cJSON *body, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static mc_record *subnetpool_alloc(mc_server *srv, mc_record *pool, long plen, int v, cidr *out, nerr *e);

static mc_record *subnet_create(mc_server *srv, const char *project, bool admin, const cJSON *body, nerr *e) {
    const char *net_id = mc_json_str(body, "network_id");
    if (net_id == NULL) return fail(e, 400, "InvalidInput", "Invalid input for operation: network_id is required.");
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), net_id);
    if (net == NULL || !net_visible(net, project, admin))
        return fail(e, 404, "NetworkNotFound", "Network %s could not be found.", net_id);
    if (!owned(net, project, admin))
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_subnet and rule:create_subnet:network_id) is disallowed by policy");
    if (check_len(body, "name", 255, e) || check_len(body, "description", 255, e)) return NULL;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "ip_version");
    long v = 0;
    if (cJSON_IsNumber(ver)) v = (long)ver->valuedouble;
    else if (cJSON_IsString(ver)) mc_parse_long(ver->valuestring, 0, 10, &v);
    if (v != 4 && v != 6) return fail(e, 400, "InvalidInput", "Invalid input for ip_version. Reason: %s is not in [4, 6].", "value");
    cidr c = {0};
    const char *cs = mc_json_str(body, "cidr");
    const char *pool_id = opt_str(body, "subnetpool_id");
    mc_record *pool = NULL;
    if (cs == NULL && pool_id == NULL && jbool(body, "use_default_subnetpool")) {
        for (mc_record *x = mc_store_first(W(srv, MC_K_SUBNETPOOL)); x; x = mc_store_next(x))
            if (jbool(x->doc, "is_default") && (long)cJSON_GetObjectItemCaseSensitive(x->doc, "ip_version")->valuedouble == v) pool = x;
        if (pool == NULL) return fail(e, 400, "BadRequest", "Bad subnets request: No default subnetpool found for IPv%ld.", v);
    }
    if (pool_id != NULL) {
        pool = mc_store_find(W(srv, MC_K_SUBNETPOOL), pool_id);
        if (pool == NULL || !(owned(pool, project, admin) || jbool(pool->doc, "shared")))
            return fail(e, 404, "SubnetPoolNotFound", "Subnet pool %s could not be found.", pool_id);
    }
    if (pool != NULL) {
        const cJSON *pl = cJSON_GetObjectItemCaseSensitive(body, "prefixlen");
        long plen = -1;
        if (cJSON_IsNumber(pl)) plen = (long)pl->valuedouble;
        else if (cJSON_IsString(pl) && !mc_parse_long(pl->valuestring, 0, 128, &plen)) plen = -2;
        if (cs != NULL) {
            if (!cidr_parse(cs, &c, true)) return fail(e, 400, "InvalidInput", "Invalid input for cidr. Reason: '%s' is not a valid IP subnet.", cs);
        } else if (subnetpool_alloc(srv, pool, plen, (int)v, &c, e) == NULL) {
            return NULL;
        }
    } else {
        if (cs == NULL) return fail(e, 400, "BadRequest", "Bad subnets request: a cidr must be specified in the absence of a subnet pool.");
        cidr loose;
        if (!cidr_parse(cs, &loose, false))
            return fail(e, 400, "InvalidInput", "Invalid input for cidr. Reason: '%s' is not a valid IP subnet.", cs);
        if (!cidr_parse(cs, &c, true)) {
            char rec[80];
            cidr_fmt(&loose, rec, sizeof rec);
            return fail(e, 400, "InvalidInput", "Invalid input for cidr. Reason: '%s' isn't a recognized IP subnet cidr, '%s' is recommended.", cs, rec);
        }
    }
    if (c.v != v) return fail(e, 400, "InvalidInput", "Invalid input for operation: cidr and ip_version are inconsistent.");
    if ((c.v == 4 && c.plen > 30 && c.plen != 32 && c.plen != 31) || (c.v == 6 && c.plen > 127))
        return fail(e, 400, "InvalidInput", "Invalid input for operation: Invalid CIDR %s for IPv%d subnet.", cs ? cs : "", c.v);
    FOREACH_NET_SUBNET(srv, net, it, other) {
        if (cidr_overlap(&SP(other)->c, &c)) {
            char txt[80];
            cidr_fmt(&c, txt, sizeof txt);
            return fail(e, 400, "InvalidInput", "Invalid input for operation: Requested subnet with cidr: %s for network: %s overlaps with another subnet.", txt, net->id);
        }
    }
    /* IPv6 modes */
    const char *ra = opt_str(body, "ipv6_ra_mode"), *am = opt_str(body, "ipv6_address_mode");
    if (!ipv6_mode_ok(ra) || !ipv6_mode_ok(am))
        return fail(e, 400, "InvalidInput", "Invalid input for ipv6 mode. Reason: not in ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'].");
    if (v == 4 && (ra || am))
        return fail(e, 400, "InvalidInput", "Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when ip_version is 4.");
    if (ra && am && strcmp(ra, am) != 0)
        return fail(e, 400, "InvalidInput", "Invalid input for operation: ipv6_ra_mode set to '%s' with ipv6_address_mode set to '%s' is not valid. If both attributes are set, they must be the same value.", ra, am);
    bool dhcp;
    if (!body_bool(body, "enable_dhcp", true, &dhcp, e)) return NULL;
    if (!dhcp && (ra || am))
        if ((am && strcmp(am, "slaac") != 0) || (ra && strcmp(ra, "slaac") != 0 && !am))
            return fail(e, 400, "InvalidInput", "Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.");
    const char *auto_mode = am ? am : NULL;
    if (auto_mode && (strcmp(auto_mode, "slaac") == 0 || strcmp(auto_mode, "dhcpv6-stateless") == 0) && c.plen != 64)
        return fail(e, 400, "InvalidInput", "Invalid input for operation: Invalid CIDR for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.");
    /* gateway */
    bool has_gw = true;
    u128 gw = 0;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(body, "gateway_ip");
    if (g != NULL && cJSON_IsNull(g)) {
        has_gw = false;
    } else if (g != NULL) {
        ipaddr gi;
        if (!cJSON_IsString(g) || !ip_parse(g->valuestring, &gi) || gi.v != c.v)
            return fail(e, 400, "InvalidInput", "Invalid input for gateway_ip. Reason: '%s' is not a valid IP address.", cJSON_IsString(g) ? g->valuestring : "None");
        u128 first, last;
        subnet_range(&c, &first, &last);
        if (!cidr_contains(&c, &gi) || (c.v == 4 && (gi.a < first || gi.a > last)))
            return fail(e, 400, "InvalidInput", "Invalid input for operation: Gateway is not valid on subnet.");
        gw = gi.a;
    } else {
        gw = c.net + 1;
        if (c.v == 4 && c.plen >= 31) has_gw = false;
    }
    cJSON *pools = NULL, *dns = NULL, *routes = NULL;
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(body, "allocation_pools");
    if (pin != NULL && !cJSON_IsNull(pin)) pools = given_pools(pin, &c, has_gw, gw, e);
    else pools = default_pools(&c, has_gw, gw);
    if (pools == NULL) return NULL;
    const cJSON *din = cJSON_GetObjectItemCaseSensitive(body, "dns_nameservers");
    dns = (din && !cJSON_IsNull(din)) ? nameservers(din, c.v, e) : cJSON_CreateArray();
    const cJSON *hin = cJSON_GetObjectItemCaseSensitive(body, "host_routes");
    routes = dns ? ((hin && !cJSON_IsNull(hin)) ? host_routes(hin, c.v, e) : cJSON_CreateArray()) : NULL;
    if (dns == NULL || routes == NULL || quota_check(srv, project, MC_K_SUBNET, 1, e) != 0) {
        cJSON_Delete(pools);
        cJSON_Delete(dns);
        cJSON_Delete(routes);
        return NULL;
    }
    char id[37], txt[80], gtxt[64];
    const char *want = mc_json_str(body, "id");
    if (want != NULL && mc_is_uuid(want) && subnet_of(srv, want) == NULL) mc_strlcpy(id, want, sizeof id);
    else mc_uuid(srv, id);
    /* the subnet belongs to the network's project when an admin makes it */
    const char *owner = project;
    const char *tid = opt_str(body, "project_id") ? opt_str(body, "project_id") : opt_str(body, "tenant_id");
    if (admin && tid != NULL) owner = tid;
    cJSON *d = std_doc(id, owner);
    cJSON_AddStringToObject(d, "name", jstr0(body, "name"));
    if (mc_json_str(body, "description")) mc_json_set_str(d, "description", mc_json_str(body, "description"));
    cJSON_AddStringToObject(d, "network_id", net->id);
    cJSON_AddNumberToObject(d, "ip_version", (double)v);
    cidr_fmt(&c, txt, sizeof txt);
    cJSON_AddStringToObject(d, "cidr", txt);
    ipaddr gi = {c.v, gw};
    ip_fmt(&gi, gtxt, sizeof gtxt);
    if (has_gw) cJSON_AddStringToObject(d, "gateway_ip", gtxt);
    else cJSON_AddNullToObject(d, "gateway_ip");
    cJSON_AddItemToObject(d, "allocation_pools", pools);
    cJSON_AddBoolToObject(d, "enable_dhcp", dhcp);
    cJSON_AddItemToObject(d, "dns_nameservers", dns);
    cJSON_AddItemToObject(d, "host_routes", routes);
    mc_json_set_str(d, "ipv6_ra_mode", ra);
    mc_json_set_str(d, "ipv6_address_mode", am);
    mc_json_set_str(d, "subnetpool_id", pool ? pool->id : NULL);
    cJSON_AddItemToObject(d, "service_types", cJSON_CreateArray());
    cJSON_AddBoolToObject(d, "dns_publish_fixed_ip", false);
    mc_record *rec = new_record(srv, MC_K_SUBNET, id, owner, d);
    subnet_priv *sp = calloc(1, sizeof *sp);
    if (sp == NULL) mc_panic("out of memory");
    sp->c = c;
    rec->priv = sp;
    rec->priv_free = subnet_priv_free;
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(net->doc, "subnets"), cJSON_CreateString(id));
    changed(net);
    return rec;
}

/* ================================================================ subnet pools */

static mc_record *subnetpool_alloc(mc_server *srv, mc_record *pool, long plen, int v, cidr *out, nerr *e) {
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(pool->doc, "ip_version");
    if (!cJSON_IsNumber(pv) || (int)pv->valuedouble != v)
        return fail(e, 400, "BadRequest", "Bad subnets request: ip_version does not match the subnet pool.");
    long dflt = (long)cJSON_GetObjectItemCaseSensitive(pool->doc, "default_prefixlen")->valuedouble;
    long minp = (long)cJSON_GetObjectItemCaseSensitive(pool->doc, "min_prefixlen")->valuedouble;
    long maxp = (long)cJSON_GetObjectItemCaseSensitive(pool->doc, "max_prefixlen")->valuedouble;
    if (plen == -1) plen = dflt;
    if (plen < minp || plen > maxp)
        return fail(e, 400, "IllegalSubnetPoolPrefixLength", "Illegal prefix bounds: prefixlen=%ld, min_prefixlen=%ld, max_prefixlen=%ld.", plen, minp, maxp);
    /* first free block of /plen in the pool's prefixes */
    const cJSON *px;
    cJSON_ArrayForEach(px, mc_json_arr(pool->doc, "prefixes")) {
        cidr pc;
        if (!cJSON_IsString(px) || !cidr_parse(px->valuestring, &pc, false) || pc.plen > plen) continue;
        u128 step = host_mask(v, (int)plen) + 1;
        for (u128 a = pc.net; a <= cidr_last(&pc) && a >= pc.net; a += step) {
            cidr cand = {v, a, (int)plen};
            bool used = false;
            for (mc_record *s = mc_store_first(W(srv, MC_K_SUBNET)); s && !used; s = mc_store_next(s))
                if (mc_str_eq(mc_json_str(s->doc, "subnetpool_id"), pool->id) && cidr_overlap(&SP(s)->c, &cand)) used = true;
            if (!used) {
                *out = cand;
                return pool;
            }
            if (step == 0) break;
        }
    }
    return fail(e, 409, "SubnetAllocationError", "Failed to allocate subnet: Insufficient prefix space to allocate subnet size /%ld.", plen);
}

/* ================================================================ routers */

static bool is_router_iface(const char *owner) {
    return mc_str_eq(owner, "network:router_interface") || mc_str_eq(owner, "network:router_interface_distributed") ||
           mc_str_eq(owner, "network:ha_router_replicated_interface");
}

static mc_record *router_gw_port(mc_server *srv, mc_record *router) {
    size_t n;
    mc_record **ports = device_ports(srv, router->id, &n), *gw = NULL;
    for (size_t i = 0; i < n && gw == NULL; i++)
        if (mc_str_eq(mc_json_str(ports[i]->doc, "device_owner"), "network:router_gateway")) gw = ports[i];
    free(ports);
    return gw;
}

static const char *router_gw_net(mc_record *router) {
    return mc_json_str(mc_json_obj(router->doc, "external_gateway_info"), "network_id");
}

static bool router_serves_fips(mc_server *srv, mc_record *router) {
    for (mc_record *f = mc_store_first(W(srv, MC_K_FLOATINGIP)); f; f = mc_store_next(f))
        if (mc_str_eq(mc_json_str(f->doc, "router_id"), router->id)) return true;
    return false;
}

/* Sets or clears (info NULL, null or {}) the external gateway. */
static int router_set_gateway(mc_server *srv, mc_record *router, const cJSON *info, bool admin, nerr *e) {
    const char *net_id = mc_json_str(info, "network_id");
    changed(router);
    mc_record *old = router_gw_port(srv, router);
    if (info != NULL && !cJSON_IsNull(info) && !cJSON_IsObject(info)) {
        fail(e, 400, "InvalidInput", "Invalid input for external_gateway_info. Reason: must be a dictionary.");
        return -1;
    }
    if (net_id == NULL) {
        if (cJSON_IsObject(info) && cJSON_GetArraySize(info) > 0 && mc_json_has(info, "network_id")) {
            fail(e, 400, "InvalidInput", "Invalid input for external_gateway_info. Reason: network_id must be a string.");
            return -1;
        }
        if (old != NULL && router_serves_fips(srv, router)) {
            fail(e, 409, "RouterExternalGatewayInUseByFloatingIp", "Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", router->id, jstr0(old->doc, "network_id"));
            return -1;
        }
        if (old != NULL) port_destroy(srv, old);
        mc_json_set(router->doc, "external_gateway_info", cJSON_CreateNull());
        return 0;
    }
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), net_id);
    if (net == NULL || !net_visible(net, router->project_id, admin)) {
        fail(e, 404, "NetworkNotFound", "Network %s could not be found.", net_id);
        return -1;
    }
    if (!jbool(net->doc, "router:external")) {
        fail(e, 400, "BadRequest", "Bad router request: Network %s is not an external network.", net_id);
        return -1;
    }
    bool snat;
    if (!body_bool(info, "enable_snat", true, &snat, e)) return -1;
    if (old != NULL && mc_str_eq(jstr0(old->doc, "network_id"), net_id) && !mc_json_has(info, "external_fixed_ips")) {
        cJSON *gi = mc_json_obj(router->doc, "external_gateway_info");
        if (gi) mc_json_set(gi, "enable_snat", cJSON_CreateBool(snat));
        return 0;
    }
    if (old != NULL && router_serves_fips(srv, router)) {
        fail(e, 409, "RouterExternalGatewayInUseByFloatingIp", "Gateway cannot be updated for router %s, since a gateway to external network %s is required by one or more floating IPs.", router->id, jstr0(old->doc, "network_id"));
        return -1;
    }
    cJSON *efi = mc_json_arr(info, "external_fixed_ips");
    port_spec ps = {.project = "", .admin = true, .net = net, .fixed_ips = (efi && cJSON_GetArraySize(efi)) ? efi : NULL,
                    .device_id = router->id, .device_owner = "network:router_gateway"};
    /* keep the old addresses free for reuse only after the new port exists */
    mc_record *port = port_create(srv, &ps, e);
    if (port == NULL) return -1;
    mc_json_set_str(port->doc, "status", "ACTIVE");
    changed(port);
    if (old != NULL) port_destroy(srv, old);
    cJSON *gi = cJSON_CreateObject();
    cJSON_AddStringToObject(gi, "network_id", net->id);
    cJSON_AddBoolToObject(gi, "enable_snat", snat);
    cJSON_AddItemToObject(gi, "external_fixed_ips", cJSON_Duplicate(mc_json_arr(port->doc, "fixed_ips"), 1));
    mc_json_set(router->doc, "external_gateway_info", gi);
    return 0;
}

static mc_record *router_create(mc_server *srv, const char *project, bool admin, const cJSON *body, nerr *e) {
    bool up;
    if (check_len(body, "name", 255, e) || check_len(body, "description", 255, e)) return NULL;
    if (!body_bool(body, "admin_state_up", true, &up, e)) return NULL;
    if (quota_check(srv, project, MC_K_ROUTER, 1, e) != 0) return NULL;
    char id[37];
    mc_uuid(srv, id);
    cJSON *d = std_doc(id, project);
    cJSON_AddStringToObject(d, "name", jstr0(body, "name"));
    if (mc_json_str(body, "description")) mc_json_set_str(d, "description", mc_json_str(body, "description"));
    cJSON_AddBoolToObject(d, "admin_state_up", up);
    cJSON_AddStringToObject(d, "status", "ACTIVE");
    cJSON_AddNullToObject(d, "external_gateway_info");
    cJSON_AddItemToObject(d, "routes", cJSON_CreateArray());
    cJSON_AddBoolToObject(d, "distributed", jbool(body, "distributed"));
    cJSON_AddBoolToObject(d, "ha", jbool(body, "ha"));
    cJSON *hints = mc_json_arr(body, "availability_zone_hints");
    cJSON_AddItemToObject(d, "availability_zone_hints", hints ? cJSON_Duplicate(hints, 1) : cJSON_CreateArray());
    cJSON *az = cJSON_AddArrayToObject(d, "availability_zones");
    cJSON_AddItemToArray(az, cJSON_CreateString("nova"));
    cJSON_AddNullToObject(d, "flavor_id");
    mc_record *rec = new_record(srv, MC_K_ROUTER, id, project, d);
    const cJSON *gi = cJSON_GetObjectItemCaseSensitive(body, "external_gateway_info");
    if (gi != NULL && router_set_gateway(srv, rec, gi, admin, e) != 0) {
        del_record(srv, MC_K_ROUTER, rec);
        return NULL;
    }
    return rec;
}

/* The subnets a router has interfaces on. */
static bool router_has_subnet_overlap(mc_server *srv, mc_record *router, mc_record *sub, const char *skip_port, nerr *e) {
    size_t np;
    mc_record **ports = device_ports(srv, router->id, &np);
    bool found = false;
    for (size_t pi = 0; pi < np && !found; pi++) {
        mc_record *p = ports[pi];
        if (!is_router_iface(mc_json_str(p->doc, "device_owner"))) continue;
        if (skip_port && strcmp(p->id, skip_port) == 0) continue;
        cJSON *f;
        cJSON_ArrayForEach(f, mc_json_arr(p->doc, "fixed_ips")) {
            mc_record *s = subnet_of(srv, mc_json_str(f, "subnet_id"));
            if (s == NULL) continue;
            if (s == sub) {
                fail(e, 400, "BadRequest", "Bad router request: Router already has a port on subnet %s.", sub->id);
                found = true;
                break;
            }
            if (cidr_overlap(&SP(s)->c, &SP(sub)->c)) {
                fail(e, 400, "BadRequest", "Bad router request: Cidr %s of subnet %s overlaps with cidr %s of subnet %s.",
                     jstr0(sub->doc, "cidr"), sub->id, jstr0(s->doc, "cidr"), s->id);
                found = true;
                break;
            }
        }
    }
    free(ports);
    return found;
}

static cJSON *iface_info(mc_record *router, mc_record *port) {
    cJSON *o = cJSON_CreateObject();
    cJSON *ids = cJSON_CreateArray();
    cJSON *f;
    cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips")) cJSON_AddItemToArray(ids, cJSON_CreateString(jstr0(f, "subnet_id")));
    cJSON_AddStringToObject(o, "id", router->id);
    cJSON_AddStringToObject(o, "tenant_id", router->project_id);
    cJSON_AddStringToObject(o, "project_id", router->project_id);
    cJSON_AddStringToObject(o, "port_id", port->id);
    cJSON_AddStringToObject(o, "network_id", jstr0(port->doc, "network_id"));
    cJSON_AddStringToObject(o, "subnet_id", cJSON_GetArraySize(ids) ? ids->child->valuestring : "");
    cJSON_AddItemToObject(o, "subnet_ids", ids);
    cJSON_AddItemToObject(o, "tags", cJSON_CreateArray());
    return o;
}

/* add_router_interface by subnet_id or port_id; returns the port. */
static mc_record *router_add_iface(mc_server *srv, mc_record *router, const char *project, bool admin,
                                   const cJSON *body, nerr *e) {
    const char *sid = mc_json_str(body, "subnet_id"), *pid = mc_json_str(body, "port_id");
    if ((sid == NULL) == (pid == NULL))
        return fail(e, 400, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.");
    if (pid != NULL) {
        mc_record *port = mc_store_find(W(srv, MC_K_PORT), pid);
        if (port == NULL || !owned(port, project, admin)) return fail(e, 404, "PortNotFound", "Port %s could not be found.", pid);
        const char *dev = jstr0(port->doc, "device_id");
        if (*dev != '\0') return fail(e, 409, "PortInUse", "Unable to complete operation on port %s for network %s. Port already has an attached device %s.", pid, jstr0(port->doc, "network_id"), dev);
        cJSON *fips = mc_json_arr(port->doc, "fixed_ips");
        if (cJSON_GetArraySize(fips) == 0) return fail(e, 400, "BadRequest", "Bad router request: Router port must have at least one fixed IP.");
        cJSON *f;
        cJSON_ArrayForEach(f, fips) {
            mc_record *s = subnet_of(srv, mc_json_str(f, "subnet_id"));
            if (s != NULL && router_has_subnet_overlap(srv, router, s, NULL, e)) return NULL;
        }
        port_set_device(srv, port, router->id);
        mc_json_set_str(port->doc, "device_owner", "network:router_interface");
        mc_json_set(port->doc, "security_groups", cJSON_CreateArray());
        mc_json_set_str(port->doc, "status", "ACTIVE");
        touch(port);
        touch(router);
        return port;
    }
    mc_record *s = subnet_of(srv, sid);
    if (s == NULL || !(owned(s, project, admin) || net_usable(mc_store_find(W(srv, MC_K_NETWORK), jstr0(s->doc, "network_id")), project, admin)))
        return fail(e, 404, "SubnetNotFound", "Subnet %s could not be found.", sid);
    const char *gw = mc_json_str(s->doc, "gateway_ip");
    if (gw == NULL) return fail(e, 400, "BadRequest", "Bad router request: Subnet for router interface must have a gateway IP.");
    if (router_has_subnet_overlap(srv, router, s, NULL, e)) return NULL;
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), jstr0(s->doc, "network_id"));
    if (net == NULL) return fail(e, 404, "NetworkNotFound", "Network %s could not be found.", jstr0(s->doc, "network_id"));
    cJSON *fixed = cJSON_CreateArray();
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "subnet_id", s->id);
    cJSON_AddStringToObject(f, "ip_address", gw);
    cJSON_AddItemToArray(fixed, f);
    port_spec ps = {.project = router->project_id, .admin = true, .net = net, .fixed_ips = fixed,
                    .device_id = router->id, .device_owner = "network:router_interface"};
    mc_record *port = port_create(srv, &ps, e);
    cJSON_Delete(fixed);
    if (port == NULL) return NULL;
    mc_json_set_str(port->doc, "status", "ACTIVE");
    changed(port);
    touch(router);
    return port;
}

/* A floating IP whose association goes through this router interface. */
static mc_record *iface_fip_user(mc_server *srv, mc_record *router, mc_record *iface) {
    for (mc_record *f = mc_store_first(W(srv, MC_K_FLOATINGIP)); f; f = mc_store_next(f)) {
        if (!mc_str_eq(mc_json_str(f->doc, "router_id"), router->id)) continue;
        mc_record *p = mc_store_find(W(srv, MC_K_PORT), mc_json_str(f->doc, "port_id"));
        if (p == NULL) continue;
        cJSON *a, *b;
        cJSON_ArrayForEach(a, mc_json_arr(p->doc, "fixed_ips")) cJSON_ArrayForEach(b, mc_json_arr(iface->doc, "fixed_ips"))
            if (mc_str_eq(mc_json_str(a, "subnet_id"), mc_json_str(b, "subnet_id"))) return f;
    }
    return NULL;
}

/* remove_router_interface; returns the info body or NULL + e. */
static cJSON *router_remove_iface(mc_server *srv, mc_record *router, const cJSON *body, nerr *e) {
    const char *sid = mc_json_str(body, "subnet_id"), *pid = mc_json_str(body, "port_id");
    if (sid == NULL && pid == NULL)
        return fail(e, 400, "BadRequest", "Bad router request: Either subnet_id or port_id must be specified.");
    mc_record *port = NULL;
    if (pid != NULL) {
        port = mc_store_find(W(srv, MC_K_PORT), pid);
        if (port == NULL || !mc_str_eq(mc_json_str(port->doc, "device_id"), router->id) ||
            !is_router_iface(mc_json_str(port->doc, "device_owner")))
            return fail(e, 404, "RouterInterfaceNotFound", "Router %s does not have an interface with id %s.", router->id, pid);
        if (sid != NULL) {
            bool has = false;
            cJSON *f;
            cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips")) if (mc_str_eq(mc_json_str(f, "subnet_id"), sid)) has = true;
            if (!has) return fail(e, 409, "SubnetMismatchForPort", "Subnet on port %s does not match the requested subnet %s.", pid, sid);
        }
    } else {
        if (subnet_of(srv, sid) == NULL) return fail(e, 404, "SubnetNotFound", "Subnet %s could not be found.", sid);
        size_t np;
        mc_record **ports = device_ports(srv, router->id, &np);
        for (size_t pi = 0; pi < np && !port; pi++) {
            mc_record *p = ports[pi];
            if (!is_router_iface(mc_json_str(p->doc, "device_owner"))) continue;
            cJSON *f;
            cJSON_ArrayForEach(f, mc_json_arr(p->doc, "fixed_ips")) if (mc_str_eq(mc_json_str(f, "subnet_id"), sid)) port = p;
        }
        free(ports);
        if (port == NULL)
            return fail(e, 404, "RouterInterfaceNotFoundForSubnet", "Router %s has no interface on subnet %s.", router->id, sid);
    }
    mc_record *f = iface_fip_user(srv, router, port);
    if (f != NULL)
        return fail(e, 409, "RouterInterfaceInUseByFloatingIP", "Router interface for subnet %s on router %s cannot be deleted, as it is required by one or more floating IPs.", sid ? sid : "", router->id);
    cJSON *info = iface_info(router, port);
    port_destroy(srv, port);
    touch(router);
    return info;
}

static int router_delete(mc_server *srv, mc_record *router, nerr *e) {
    size_t np;
    mc_record **ports = device_ports(srv, router->id, &np);
    bool iface = false;
    for (size_t i = 0; i < np && !iface; i++) iface = is_router_iface(mc_json_str(ports[i]->doc, "device_owner"));
    free(ports);
    if (iface) {
        fail(e, 409, "RouterInUse", "Router %s still has ports", router->id);
        return -1;
    }
    if (router_serves_fips(srv, router)) {
        fail(e, 409, "RouterInUse", "Router %s still has floating IPs", router->id);
        return -1;
    }
    mc_record *gw = router_gw_port(srv, router);
    if (gw) port_destroy(srv, gw);
    del_record(srv, MC_K_ROUTER, router);
    return 0;
}

/* ================================================================ floating IPs */

/* The router that connects 'port' (on subnet of fixed ip 'fixed') to
 * external network 'ext', or NULL. */
static mc_record *fip_router(mc_server *srv, mc_record *port, const char *fixed, const char *ext) {
    const char *sub_id = NULL;
    cJSON *f;
    cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips"))
        if (mc_str_eq(mc_json_str(f, "ip_address"), fixed)) sub_id = mc_json_str(f, "subnet_id");
    if (sub_id == NULL) return NULL;
    mc_record *pnet = PP(port) != NULL ? PP(port)->net : NULL;
    if (pnet == NULL) pnet = mc_store_find(W(srv, MC_K_NETWORK), mc_json_str(port->doc, "network_id"));
    mc_record *first = pnet != NULL ? net_np(srv, pnet)->first : NULL;
    for (mc_record *p = first; p; p = PP(p)->net_next) {
        if (!is_router_iface(mc_json_str(p->doc, "device_owner"))) continue;
        bool on = false;
        cJSON *g;
        cJSON_ArrayForEach(g, mc_json_arr(p->doc, "fixed_ips")) if (mc_str_eq(mc_json_str(g, "subnet_id"), sub_id)) on = true;
        if (!on) continue;
        mc_record *r = mc_store_find(W(srv, MC_K_ROUTER), mc_json_str(p->doc, "device_id"));
        if (r != NULL && mc_str_eq(router_gw_net(r), ext)) return r;
    }
    return NULL;
}

/* Associates (port_id string) or disassociates (null) a floating IP. */
static int fip_associate(mc_server *srv, mc_record *fip, const cJSON *port_in, const cJSON *fixed_in,
                         const char *project, bool admin, nerr *e) {
    if (port_in == NULL || cJSON_IsNull(port_in)) {
        fip_disassociate(srv, fip);
        return 0;
    }
    if (!cJSON_IsString(port_in)) {
        fail(e, 400, "InvalidInput", "Invalid input for port_id. Reason: not a valid id.");
        return -1;
    }
    mc_record *port = mc_store_find(W(srv, MC_K_PORT), port_in->valuestring);
    if (port == NULL || !owned(port, project, admin)) {
        fail(e, 404, "PortNotFound", "Port %s could not be found.", port_in->valuestring);
        return -1;
    }
    const char *fixed = cJSON_IsString(fixed_in) ? fixed_in->valuestring : NULL;
    cJSON *f;
    int nv4 = 0;
    const char *first_v4 = NULL;
    bool found = false;
    cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips")) {
        ipaddr a;
        if (ip_parse(mc_json_str(f, "ip_address"), &a) && a.v == 4) {
            nv4++;
            if (!first_v4) first_v4 = mc_json_str(f, "ip_address");
        }
        if (fixed && mc_str_eq(mc_json_str(f, "ip_address"), fixed)) found = true;
    }
    if (fixed != NULL && !found) {
        fail(e, 400, "BadRequest", "Bad floatingip request: Port %s does not have fixed ip %s.", port->id, fixed);
        return -1;
    }
    if (fixed == NULL) {
        if (nv4 == 0) {
            fail(e, 400, "BadRequest", "Bad floatingip request: Port %s does not have any IPv4 address.", port->id);
            return -1;
        }
        if (nv4 > 1) {
            fail(e, 400, "BadRequest", "Bad floatingip request: Port %s has multiple fixed IPv4 addresses. Must provide a specific IPv4 address when assigning a floating IP.", port->id);
            return -1;
        }
        fixed = first_v4;
    }
    const char *ext = jstr0(fip->doc, "floating_network_id");
    mc_record *router = fip_router(srv, port, fixed, ext);
    if (router == NULL) {
        const char *sub = "";
        cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips")) if (mc_str_eq(mc_json_str(f, "ip_address"), fixed)) sub = jstr0(f, "subnet_id");
        fail(e, 404, "ExternalGatewayForFloatingIPNotFound", "External network %s is not reachable from subnet %s.  Therefore, cannot associate Port %s with a Floating IP.", ext, sub, port->id);
        return -1;
    }
    size_t nother;
    mc_record **others = port_fips(srv, port->id, &nother);
    for (size_t oi = 0; oi < nother; oi++) {
        mc_record *o = others[oi];
        if (o != fip && mc_str_eq(mc_json_str(o->doc, "fixed_ip_address"), fixed)) {
            free(others);
            fail(e, 409, "FloatingIPPortAlreadyAssociated", "Cannot associate floating IP %s (%s) with port %s using fixed IP %s, as that fixed IP already has a floating IP on external network %s.",
                 jstr0(fip->doc, "floating_ip_address"), fip->id, port->id, fixed, ext);
            return -1;
        }
    }
    free(others);
    char fixed_copy[64];
    mc_strlcpy(fixed_copy, fixed, sizeof fixed_copy);
    fip_set_port(srv, fip, port->id);
    mc_json_set_str(fip->doc, "fixed_ip_address", fixed_copy);
    mc_json_set_str(fip->doc, "router_id", router->id);
    mc_json_set_str(fip->doc, "status", "ACTIVE");
    touch(fip);
    return 0;
}

static void fip_destroy(mc_server *srv, mc_record *fip) {
    size_t n;
    mc_record **ports = device_ports(srv, fip->id, &n);
    for (size_t i = 0; i < n; i++)
        if (mc_str_eq(mc_json_str(ports[i]->doc, "device_owner"), "network:floatingip")) port_destroy(srv, ports[i]);
    free(ports);
    del_record(srv, MC_K_FLOATINGIP, fip);
}

static mc_record *fip_create(mc_server *srv, const char *project, bool admin, const cJSON *body, nerr *e) {
    const char *net_id = mc_json_str(body, "floating_network_id");
    if (net_id == NULL) return fail(e, 400, "InvalidInput", "Invalid input for floating_network_id. Reason: is required.");
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), net_id);
    if (net == NULL || !net_visible(net, project, admin)) return fail(e, 404, "NetworkNotFound", "Network %s could not be found.", net_id);
    if (!jbool(net->doc, "router:external"))
        return fail(e, 400, "BadRequest", "Bad floatingip request: Network %s is not a valid external network.", net_id);
    if (check_len(body, "description", 255, e)) return NULL;
    if (quota_check(srv, project, MC_K_FLOATINGIP, 1, e) != 0) return NULL;
    char id[37];
    mc_uuid(srv, id);
    /* the address: requested, on a requested subnet, or the first IPv4 subnet */
    cJSON *fixed = cJSON_CreateArray();
    const char *want = mc_json_str(body, "floating_ip_address");
    const char *sid = mc_json_str(body, "subnet_id");
    if (want != NULL || sid != NULL) {
        cJSON *f = cJSON_CreateObject();
        if (want) cJSON_AddStringToObject(f, "ip_address", want);
        if (sid) cJSON_AddStringToObject(f, "subnet_id", sid);
        cJSON_AddItemToArray(fixed, f);
    } else {
        FOREACH_NET_SUBNET(srv, net, it, s) {
            if (SP(s)->c.v != 4) continue;
            cJSON *f = cJSON_CreateObject();
            cJSON_AddStringToObject(f, "subnet_id", s->id);
            cJSON_AddItemToArray(fixed, f);
            break;
        }
        if (cJSON_GetArraySize(fixed) == 0) {
            cJSON_Delete(fixed);
            return fail(e, 404, "ExternalIpAddressExhausted", "Unable to find any IP address on external network %s.", net_id);
        }
    }
    port_spec ps = {.project = "", .admin = true, .net = net, .fixed_ips = fixed, .device_id = id,
                    .device_owner = "network:floatingip"};
    mc_record *port = port_create(srv, &ps, e);
    cJSON_Delete(fixed);
    if (port == NULL) {
        if (e->status == 409 && strcmp(e->type, "IpAddressGenerationFailure") == 0)
            fail(e, 404, "ExternalIpAddressExhausted", "Unable to find any IP address on external network %s.", net_id);
        return NULL;
    }
    mc_json_set_str(port->doc, "status", "N/A");
    changed(port);
    cJSON *d = std_doc(id, project);
    if (mc_json_str(body, "description")) mc_json_set_str(d, "description", mc_json_str(body, "description"));
    cJSON_AddStringToObject(d, "floating_network_id", net->id);
    cJSON_AddStringToObject(d, "floating_ip_address", jstr0(mc_json_arr(port->doc, "fixed_ips")->child, "ip_address"));
    cJSON_AddNullToObject(d, "router_id");
    cJSON_AddNullToObject(d, "port_id");
    cJSON_AddNullToObject(d, "fixed_ip_address");
    cJSON_AddStringToObject(d, "status", "DOWN");
    cJSON_AddItemToObject(d, "port_forwardings", cJSON_CreateArray());
    cJSON_AddNullToObject(d, "qos_policy_id");
    mc_record *rec = new_record(srv, MC_K_FLOATINGIP, id, project, d);
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(body, "port_id");
    if (pin != NULL && !cJSON_IsNull(pin)) {
        if (fip_associate(srv, rec, pin, cJSON_GetObjectItemCaseSensitive(body, "fixed_ip_address"), project, admin, e) != 0) {
            fip_destroy(srv, rec);
            return NULL;
        }
        /* created with the association: revision stays 0 */
        mc_json_set(rec->doc, "revision_number", cJSON_CreateNumber(0));
        changed(rec);
    }
    return rec;
}

/* Nova's floating-IP proxy (netapi.h): the same create, association and
 * delete as POST/PUT/DELETE /v2.0/floatingips. */
mc_record *mc_net_fip_create(mc_server *srv, const char *project_id, const char *network_id, int *status, char *err,
                             size_t errsz) {
    nerr e = {0};
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "floating_network_id", network_id);
    mc_record *f = fip_create(srv, project_id, false, body, &e);
    cJSON_Delete(body);
    if (f == NULL) nerr_copy(&e, status, err, errsz);
    return f;
}

int mc_net_fip_associate(mc_server *srv, mc_record *fip, const char *port_id, const char *fixed_ip,
                         const char *project_id, bool admin, int *status, char *err, size_t errsz) {
    nerr e = {0};
    cJSON *port = cJSON_CreateString(port_id);
    cJSON *fixed = fixed_ip != NULL ? cJSON_CreateString(fixed_ip) : NULL;
    int rc = fip_associate(srv, fip, port, fixed, project_id, admin, &e);
    cJSON_Delete(port);
    cJSON_Delete(fixed);
    if (rc != 0) nerr_copy(&e, status, err, errsz);
    return rc;
}

void mc_net_fip_disassociate(mc_server *srv, mc_record *fip) { fip_disassociate(srv, fip); }

void mc_net_fip_delete(mc_server *srv, mc_record *fip) { fip_destroy(srv, fip); }

/* ================================================================ seed */

static const char *project_ref(mc_server *srv, const char *ref) {
    if (ref == NULL) return NULL;
    mc_record *p = mc_store_find(W(srv, MC_K_PROJECT), ref);
    if (p != NULL) return p->id;
    for (p = mc_store_first(W(srv, MC_K_PROJECT)); p; p = mc_store_next(p))
        if (mc_str_eq(mc_json_str(p->doc, "name"), ref)) return p->id;
    return NULL;
}

static mc_record *find_named(mc_server *srv, mc_kind k, const char *name, const char *project) {
    for (mc_record *x = mc_store_first(W(srv, k)); x; x = mc_store_next(x))
        if (mc_str_eq(mc_json_str(x->doc, "name"), name) && (project == NULL || strcmp(x->project_id, project) == 0))
            return x;
    return NULL;
}

static int seed_fail(char *err, size_t errsz, const char *what, const char *detail) {
    snprintf(err, errsz, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    return -1;
}

/* One fixtures tree (fixtures/network.json, or the "network" part of a POST
 * /mockcloud/v1/fixtures): networks with their subnets, then routers with
 * their gateway and interfaces. Projects are named by id or name. */
int network_seed_tree(mc_server *srv, const cJSON *fx, char *err, size_t errsz) {
    nerr e = {0};
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(fx, "networks")) {
        const char *proj = project_ref(srv, mc_json_str(x, "project"));
        if (proj == NULL) return seed_fail(err, errsz, "network with an unknown 'project'", mc_json_str(x, "name"));
        mc_record *net = network_create(srv, proj, true, x, &e);
        if (net == NULL) return seed_fail(err, errsz, "bad network", e.msg);
        cJSON *s;
        cJSON_ArrayForEach(s, mc_json_arr(x, "subnets")) {
            cJSON *b = cJSON_Duplicate(s, 1);
            mc_json_set_str(b, "network_id", net->id);
            if (!mc_json_has(b, "ip_version")) {
                cidr c;
                cJSON_AddNumberToObject(b, "ip_version", cidr_parse(mc_json_str(b, "cidr"), &c, false) ? c.v : 4);
            }
            mc_record *sub = subnet_create(srv, proj, true, b, &e);
            cJSON_Delete(b);
            if (sub == NULL) return seed_fail(err, errsz, "bad subnet", e.msg);
        }
    }
    cJSON_ArrayForEach(x, mc_json_arr(fx, "routers")) {
        const char *proj = project_ref(srv, mc_json_str(x, "project"));
        if (proj == NULL) return seed_fail(err, errsz, "router with an unknown 'project'", mc_json_str(x, "name"));
        mc_record *r = router_create(srv, proj, true, x, &e);
        if (r == NULL) return seed_fail(err, errsz, "bad router", e.msg);
        const char *ext = mc_json_str(x, "external_network");
        if (ext != NULL) {
            mc_record *net = find_named(srv, MC_K_NETWORK, ext, NULL);
            cJSON *gi = cJSON_CreateObject();
            cJSON_AddStringToObject(gi, "network_id", net ? net->id : ext);
            int g = router_set_gateway(srv, r, gi, true, &e);
            cJSON_Delete(gi);
            if (g != 0) return seed_fail(err, errsz, "bad router gateway", e.msg);
        }
        cJSON *i;
        cJSON_ArrayForEach(i, mc_json_arr(x, "interfaces")) {
            mc_record *sub = cJSON_IsString(i) ? find_named(srv, MC_K_SUBNET, i->valuestring, proj) : NULL;
            if (sub == NULL)
                return seed_fail(err, errsz, "router interface on an unknown subnet of the project", cJSON_IsString(i) ? i->valuestring : "?");
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "subnet_id", sub->id);
            mc_record *p = router_add_iface(srv, r, proj, true, b, &e);
            cJSON_Delete(b);
            if (p == NULL) return seed_fail(err, errsz, "bad router interface", e.msg);
        }
    }
    return 0;
}

int network_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    char path[1024], why[400];
    snprintf(path, sizeof path, "%s/network.json", dir);
    cJSON *fx = mc_json_load_file(path, err, errsz);
    if (fx == NULL) return -1;
    mc_guest_fixtures(srv, fx);   /* guest.h: external subnets into 127/8 in the SSH mode */
    int rc = network_seed_tree(srv, fx, why, sizeof why);
    if (rc != 0) snprintf(err, errsz, "%s: %s", path, why);
    cJSON_Delete(fx);
    return rc;
}

static void subnet_remove(mc_server *srv, mc_record *s);

/* Removes what a failed fixtures post added (records from 'mark' on, newest
 * first), through the same paths as a delete, so that addresses, MACs, the
 * indexes and the project tallies are as before the post. */
void network_fixtures_undo(mc_server *srv, const uint64_t *mark) {
    static const mc_kind order[] = {MC_K_FLOATINGIP, MC_K_PORT, MC_K_ROUTER, MC_K_SECGROUP_RULE, MC_K_SECGROUP,
                                    MC_K_SUBNET, MC_K_SUBNETPOOL, MC_K_NETWORK};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        mc_kind k = order[i];
        mc_record *x = mc_store_last(W(srv, k));
        while (x != NULL && x->seq >= mark[k]) {
            mc_record *prev = mc_store_prev(x);
            if (k == MC_K_PORT) port_destroy(srv, x);
            else if (k == MC_K_SUBNET) subnet_remove(srv, x);
            else del_record(srv, k, x);
            x = prev;
        }
    }
}

/* The id of a project named by id or name, in the world or the post. */
static const char *fx_project_id(const mc_fx *fx, const char *ref) {
    const char *id = project_ref(fx->srv, ref);
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "identity", "projects"))
        if (id == NULL && (mc_str_eq(mc_json_str(x, "id"), ref) || mc_str_eq(mc_json_str(x, "name"), ref))) id = mc_json_str(x, "id");
    return id;
}

static int fx_subnet_check(mc_fx *fx, const char *w, const cJSON *s, const cJSON *nets, const cJSON *self) {
    if (mc_fx_str(fx, w, s, "cidr", true, 64) || mc_fx_str(fx, w, s, "name", false, 255) ||
        mc_fx_str(fx, w, s, "id", false, 36) || mc_fx_str(fx, w, s, "description", false, 255) ||
        mc_fx_bool(fx, w, s, "enable_dhcp") || mc_fx_num(fx, w, s, "ip_version", false, 4, 6) ||
        mc_fx_list(fx, w, s, "allocation_pools") || mc_fx_list(fx, w, s, "host_routes"))
        return -1;
    const char *cs = mc_json_str(s, "cidr"), *id = mc_json_str(s, "id");
    cidr c;
    if (!cidr_parse(cs, &c, true)) return mc_fx_fail(fx, "%s: 'cidr' '%s' is not a valid IP subnet (host bits set?)", w, cs);
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(s, "ip_version");
    if (ver != NULL && (int)ver->valuedouble != c.v)
        return mc_fx_fail(fx, "%s: 'cidr' and 'ip_version' are inconsistent", w);
    const cJSON *gw = cJSON_GetObjectItemCaseSensitive(s, "gateway_ip");
    if (gw != NULL && !cJSON_IsNull(gw) && !cJSON_IsString(gw)) return mc_fx_fail(fx, "%s: 'gateway_ip' must be an address or null", w);
    const cJSON *dns = cJSON_GetObjectItemCaseSensitive(s, "dns_nameservers"), *d;
    if (dns != NULL && !cJSON_IsArray(dns)) return mc_fx_fail(fx, "%s: 'dns_nameservers' must be an array of addresses", w);
    cJSON_ArrayForEach(d, dns) if (!cJSON_IsString(d)) return mc_fx_fail(fx, "%s: 'dns_nameservers' must be an array of addresses", w);
    if (id != NULL) {
        if (!mc_is_uuid(id)) return mc_fx_fail(fx, "%s: 'id' must be a UUID, not '%s'", w, id);
        bool taken = subnet_of(fx->srv, id) != NULL, seen = false;
        const cJSON *n, *o;
        for (n = nets ? nets->child : NULL; n != NULL && !taken && !seen; n = n->next)
            cJSON_ArrayForEach(o, mc_json_arr(n, "subnets")) {
                if (o == self) {
                    seen = true;
                    break;
                }
                taken |= mc_str_eq(mc_json_str(o, "id"), id);
            }
        if (taken) return mc_fx_fail(fx, "%s: subnet id '%s' is taken", w, id);
    }
    return 0;
}

/* Whether 'name' is a network in the world or the post that is external. */
static bool fx_external_net(const mc_fx *fx, const char *name) {
    for (mc_record *n = mc_store_first(W(fx->srv, MC_K_NETWORK)); n; n = mc_store_next(n))
        if (mc_str_eq(mc_json_str(n->doc, "name"), name) && jbool(n->doc, "router:external")) return true;
    const cJSON *x;
    cJSON_ArrayForEach(x, mc_fx_posted(fx, "network", "networks"))
        if (mc_str_eq(mc_json_str(x, "name"), name) && jbool(x, "router:external")) return true;
    return false;
}

/* Whether project 'pid' has a subnet named 'name' in the world or the post. */
static bool fx_project_subnet(const mc_fx *fx, const char *pid, const char *name) {
    if (find_named(fx->srv, MC_K_SUBNET, name, pid) != NULL) return true;
    const cJSON *n, *s;
    cJSON_ArrayForEach(n, mc_fx_posted(fx, "network", "networks")) {
        if (!mc_str_eq(fx_project_id(fx, mc_json_str(n, "project")), pid)) continue;
        cJSON_ArrayForEach(s, mc_json_arr(n, "subnets")) if (mc_str_eq(mc_json_str(s, "name"), name)) return true;
    }
    return false;
}

int network_fixtures_check(mc_fx *fx, const cJSON *t) {
    if (mc_fx_keys(fx, "network", t, (const char *const[]){"networks", "routers", NULL}) ||
        mc_fx_list(fx, "network", t, "networks") || mc_fx_list(fx, "network", t, "routers"))
        return -1;
    const cJSON *x, *nets = mc_json_arr(t, "networks");
    int i = 0;
    char w[96];
    cJSON_ArrayForEach(x, nets) {
        snprintf(w, sizeof w, "network.networks[%d]", i++);
        if (mc_fx_str(fx, w, x, "project", true, 64) || mc_fx_str(fx, w, x, "name", false, 255) ||
            mc_fx_str(fx, w, x, "id", false, 36) || mc_fx_str(fx, w, x, "description", false, 255) ||
            mc_fx_bool(fx, w, x, "admin_state_up") || mc_fx_bool(fx, w, x, "shared") ||
            mc_fx_bool(fx, w, x, "router:external") || mc_fx_bool(fx, w, x, "port_security_enabled") ||
            mc_fx_bool(fx, w, x, "is_default") || mc_fx_num(fx, w, x, "mtu", false, 68, 9000) ||
            mc_fx_list(fx, w, x, "subnets"))
            return -1;
        const char *id = mc_json_str(x, "id"), *proj = mc_json_str(x, "project");
        if (fx_project_id(fx, proj) == NULL) return mc_fx_fail(fx, "%s: 'project' names no project: '%s'", w, proj);
        if (id != NULL && !mc_is_uuid(id)) return mc_fx_fail(fx, "%s: 'id' must be a UUID, not '%s'", w, id);
        if (id != NULL && (mc_store_find(W(fx->srv, MC_K_NETWORK), id) || mc_fx_dup_before(nets, x, "id", NULL)))
            return mc_fx_fail(fx, "%s: network id '%s' is taken", w, id);
        const cJSON *s, *subs = mc_json_arr(x, "subnets");
        int j = 0;
        cJSON_ArrayForEach(s, subs) {
            char ws[128];
            snprintf(ws, sizeof ws, "%s.subnets[%d]", w, j++);
            if (fx_subnet_check(fx, ws, s, nets, s)) return -1;
            cidr a, b;
            cidr_parse(mc_json_str(s, "cidr"), &a, true);
            for (const cJSON *o = subs->child; o != s; o = o->next)
                if (cidr_parse(mc_json_str(o, "cidr"), &b, true) && cidr_overlap(&a, &b))
                    return mc_fx_fail(fx, "%s: 'cidr' overlaps another subnet of the network", ws);
        }
    }
    i = 0;
    cJSON_ArrayForEach(x, mc_json_arr(t, "routers")) {
        snprintf(w, sizeof w, "network.routers[%d]", i++);
        if (mc_fx_str(fx, w, x, "project", true, 64) || mc_fx_str(fx, w, x, "name", false, 255) ||
            mc_fx_str(fx, w, x, "external_network", false, 255) || mc_fx_bool(fx, w, x, "admin_state_up"))
            return -1;
        const char *proj = mc_json_str(x, "project"), *ext = mc_json_str(x, "external_network");
        const char *pid = fx_project_id(fx, proj);
        if (pid == NULL) return mc_fx_fail(fx, "%s: 'project' names no project: '%s'", w, proj);
        if (ext != NULL && !fx_external_net(fx, ext))
            return mc_fx_fail(fx, "%s: 'external_network' names no external network: '%s'", w, ext);
        const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(x, "interfaces"), *f;
        if (ifs != NULL && !cJSON_IsArray(ifs)) return mc_fx_fail(fx, "%s: 'interfaces' must be an array of subnet names", w);
        cJSON_ArrayForEach(f, ifs) {
            if (!cJSON_IsString(f)) return mc_fx_fail(fx, "%s: 'interfaces' must be an array of subnet names", w);
            if (!fx_project_subnet(fx, pid, f->valuestring))
                return mc_fx_fail(fx, "%s: 'interfaces' names no subnet of project '%s': '%s'", w, proj, f->valuestring);
        }
    }
    return 0;
}

void network_reset(mc_server *srv) {
    net_state *s = srv->svc_state[MC_NETWORK];
    if (s == NULL) return;
    mac_ent *m, *t;
    HASH_ITER(hh, s->macs, m, t) {
        HASH_DEL(s->macs, m);
        free(m);
    }
    idx_free_all(&s->devices);
    idx_free_all(&s->port_fips);
    idx_free_all(&s->sg_rules);
    proj_ent *p, *pt;
    HASH_ITER(hh, s->projects, p, pt) {
        HASH_DEL(s->projects, p);
        free(p);
    }
    free(s);
    srv->svc_state[MC_NETWORK] = NULL;
}

/* ================================================================ REST: common */

typedef struct rdef {
    mc_kind kind;
    const char *singular, *plural;
    const char *nf_type;          /* NeutronError type when not found */
    const char *nf_pre, *nf_post; /* "Network " id " could not be found." */
} rdef;

static const rdef R_NET = {MC_K_NETWORK, "network", "networks", "NetworkNotFound", "Network ", " could not be found."};
static const rdef R_SUBNET = {MC_K_SUBNET, "subnet", "subnets", "SubnetNotFound", "Subnet ", " could not be found."};
static const rdef R_POOL = {MC_K_SUBNETPOOL, "subnetpool", "subnetpools", "SubnetPoolNotFound", "Subnet pool ", " could not be found."};
static const rdef R_PORT = {MC_K_PORT, "port", "ports", "PortNotFound", "Port ", " could not be found."};
static const rdef R_ROUTER = {MC_K_ROUTER, "router", "routers", "RouterNotFound", "Router ", " could not be found."};
static const rdef R_FIP = {MC_K_FLOATINGIP, "floatingip", "floatingips", "FloatingIPNotFound", "Floating IP ", " could not be found."};
static const rdef R_SG = {MC_K_SECGROUP, "security_group", "security_groups", "SecurityGroupNotFound", "Security group ", " does not exist"};
static const rdef R_RULE = {MC_K_SECGROUP_RULE, "security_group_rule", "security_group_rules", "SecurityGroupRuleNotFound", "Security group rule ", " does not exist"};

static const rdef R_MLABEL = {MC_K_METERING_LABEL, "metering_label", "metering_labels", "MeteringLabelNotFound", "Metering label '", "' does not exist."};
static const rdef R_SCOPE = {MC_K_ADDRESS_SCOPE, "address_scope", "address_scopes", "AddressScopeNotFound", "Address scope ", " could not be found."};
static const rdef R_MRULE = {MC_K_METERING_RULE, "metering_label_rule", "metering_label_rules", "MeteringLabelRuleNotFound", "Metering label rule '", "' does not exist."};

static const rdef *const rdefs[] = {&R_NET, &R_SUBNET, &R_POOL, &R_PORT, &R_ROUTER, &R_FIP, &R_SG, &R_RULE};

/* URL collection name -> resource ("security-groups" -> R_SG). */
static const rdef *rdef_by_collection(const char *coll) {
    if (coll == NULL) return NULL;
    if (strcmp(coll, "security-groups") == 0) return &R_SG;
    if (strcmp(coll, "security-group-rules") == 0) return &R_RULE;
    for (size_t i = 0; i < sizeof rdefs / sizeof rdefs[0]; i++)
        if (strcmp(rdefs[i]->plural, coll) == 0 && rdefs[i]->kind != MC_K_SECGROUP && rdefs[i]->kind != MC_K_SECGROUP_RULE)
            return rdefs[i];
    return NULL;
}

static const char *ctx_project(mc_req *r) { return mc_auth_project(r); }
static bool ctx_admin(mc_req *r) { return mc_auth_is_admin(r->tok); }

static bool visible(mc_req *r, const rdef *d, mc_record *rec) {
    mc_server *srv = r->srv;
    const char *proj = ctx_project(r);
    bool admin = ctx_admin(r);
    if (admin) return true;
    switch (d->kind) {
    case MC_K_NETWORK:
        return net_visible(rec, proj, false);
    case MC_K_SUBNET: {
        if (owned(rec, proj, false)) return true;
        mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), mc_json_str(rec->doc, "network_id"));
        return net != NULL && (net_usable(net, proj, false) || owned(net, proj, false));
    }
    case MC_K_PORT: {
        if (owned(rec, proj, false)) return true;
        mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), mc_json_str(rec->doc, "network_id"));
        return net != NULL && owned(net, proj, false);
    }
    case MC_K_SUBNETPOOL:
    case MC_K_ADDRESS_SCOPE:
        return owned(rec, proj, false) || jbool(rec->doc, "shared");
    default:
        return owned(rec, proj, false);
    }
}

static void reply_nerr(mc_req *r, const nerr *e) { mc_reply_error(r, e->status, e->type, "%s", e->msg); }

static void reply_notfound(mc_req *r, const rdef *d, const char *id) {
    mc_reply_error(r, 404, d->nf_type, "%s%.128s%s", d->nf_pre, id, d->nf_post);
}

/* The visible record named by params[0], or NULL after a 404. */
static mc_record *find_or_reply(mc_req *r, const rdef *d, const char *id) {
    mc_record *rec = mc_store_find(W(r->srv, d->kind), id);
    if (rec == NULL || !visible(r, d, rec)) {
        reply_notfound(r, d, id);
        return NULL;
    }
    return rec;
}

static void each_field(const char *v, void *arg) {
    cJSON *arr = arg;
    /* fields=a,b is accepted too */
    char buf[256];
    mc_strlcpy(buf, v, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        cJSON_AddItemToArray(arr, cJSON_CreateString(t));
}

/* The fields= list of a request (a new array, empty = all). */
static cJSON *req_fields(mc_req *r) {
    cJSON *arr = cJSON_CreateArray();
    mc_query_each(r, "fields", each_field, arr);
    return arr;
}

static void apply_fields(cJSON *doc, const cJSON *fields) {
    if (cJSON_GetArraySize(fields) == 0) return;
    cJSON *c = doc->child;
    while (c != NULL) {
        cJSON *next = c->next;
        bool keep = false;
        const cJSON *f;
        cJSON_ArrayForEach(f, fields) if (strcmp(f->valuestring, c->string) == 0) keep = true;
        if (!keep) cJSON_Delete(cJSON_DetachItemViaPointer(doc, c));
        c = next;
    }
}

static void drop(cJSON *doc, const char *key) { cJSON_DeleteItemFromObjectCaseSensitive(doc, key); }

/* A copy of the record shaped for the requester. */
/* A port whose ACTIVE was delayed (network.port_active_lag_ms) becomes
 * ACTIVE once its time has come; named while it still lags. */
static void port_settle(mc_req *r, mc_record *port) {
    cJSON *at = cJSON_GetObjectItemCaseSensitive(port->doc, "_active_at");
    if (!cJSON_IsNumber(at)) return;
    if (mc_now() >= at->valuedouble) {
        mc_json_set_str(port->doc, "status", "ACTIVE");
        cJSON_DeleteItemFromObjectCaseSensitive(port->doc, "_active_at");
        changed(port);
    } else {
        mc_knob(r, MC_KNOB_NETWORK_PORT_ACTIVE_LAG_MS);
    }
}

static cJSON *render(mc_req *r, const rdef *d, mc_record *rec) {
    mc_server *srv = r->srv;
    if (d->kind == MC_K_PORT) port_settle(r, rec);
    cJSON *o = cJSON_Duplicate(rec->doc, 1);
    drop(o, "_active_at");
    bool admin = ctx_admin(r);
    switch (d->kind) {
    case MC_K_NETWORK:
        if (!admin) {
            drop(o, "provider:network_type");
            drop(o, "provider:physical_network");
            drop(o, "provider:segmentation_id");
        }
        break;
    case MC_K_PORT:
        if (!admin) {
            drop(o, "binding:host_id");
            drop(o, "binding:profile");
            drop(o, "binding:vif_details");
            drop(o, "binding:vif_type");
        }
        break;
    case MC_K_ROUTER:
        if (!admin) {
            drop(o, "distributed");
            drop(o, "ha");
        }
        break;
    case MC_K_SECGROUP:
        cJSON_AddItemToObject(o, "security_group_rules", sg_rules(srv, rec->id));
        break;
    case MC_K_SECGROUP_RULE: {
        mc_record *sg = mc_store_find(W(srv, MC_K_SECGROUP), mc_json_str(rec->doc, "security_group_id"));
        cJSON_AddBoolToObject(o, "belongs_to_default_sg", sg && mc_str_eq(mc_json_str(sg->doc, "name"), "default"));
        break;
    }
    case MC_K_FLOATINGIP: {
        mc_record *p = mc_store_find(W(srv, MC_K_PORT), mc_json_str(rec->doc, "port_id"));
        if (p != NULL) {
            cJSON *pd = cJSON_CreateObject();
            static const char *const keys[] = {"name", "network_id", "mac_address", "admin_state_up", "status", "device_id", "device_owner"};
            for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                cJSON *v = cJSON_GetObjectItemCaseSensitive(p->doc, keys[i]);
                if (v) cJSON_AddItemToObject(pd, keys[i], cJSON_Duplicate(v, 1));
            }
            cJSON_AddItemToObject(o, "port_details", pd);
        } else {
            cJSON_AddNullToObject(o, "port_details");
        }
        break;
    }
    default:
        break;
    }
    return o;
}

/* Printed views: the kinds whose render() depends on the record and the
 * caller's admin flag only are printed once per (record, admin) and the
 * text is spliced into replies raw (store.h mc_record_view): a list page
 * no longer duplicates, prints and frees every record. Not with fields=
 * (the tree is cut per request), not while a profile rule rewrites bodies,
 * not for a port whose ACTIVE still lags (port_settle reads the clock).
 * Security groups (their rules), rules (their group's name) and floating
 * IPs (their port's details) read other records and not the admin flag:
 * their key is the generation (mc_net_generation), which every change to
 * any record moves. Every change to a doc drops its view (touch(),
 * changed()). Returns the view key, 0 = no view. */
static uint64_t view_key(mc_req *r, const rdef *d, const mc_record *rec) {
    switch (d->kind) {
    case MC_K_NETWORK:
    case MC_K_SUBNET:
    case MC_K_SUBNETPOOL:
    case MC_K_PORT:
    case MC_K_ROUTER:
        break;
    case MC_K_SECGROUP:
    case MC_K_SECGROUP_RULE:
    case MC_K_FLOATINGIP:
        return mc_profile_rewrites_bodies(r->srv) ? 0 : net_gen << 2 | 3;
    default:
        return 0;
    }
    if (mc_profile_rewrites_bodies(r->srv)) return 0;
    if (d->kind == MC_K_PORT && mc_json_has(rec->doc, "_active_at")) return 0;
    return ctx_admin(r) ? 2 : 1;
}

/* render() + fields=, as a raw node borrowing the record's printed view
 * when view_key() allows it (the same bytes mc_json_print gives the tree;
 * the view stays until the reply is printed, which follows at once). Only
 * reads (GET) print a missing view: a create or update reply is printed
 * once as a tree (~8k instructions less a port create), the next read
 * prints the view. */
static cJSON *render_shaped(mc_req *r, const rdef *d, mc_record *rec, const cJSON *fields) {
    uint64_t key = cJSON_GetArraySize(fields) == 0 ? view_key(r, d, rec) : 0;
    const char *text = key != 0 ? mc_record_view(rec, key) : NULL;
    if (text == NULL && (key == 0 || r->method != EVHTTP_REQ_GET)) {
        cJSON *o = render(r, d, rec);
        apply_fields(o, fields);
        return o;
    }
    if (text == NULL) {
        cJSON *o = render(r, d, rec);
        char *printed = mc_json_print(o);
        cJSON_Delete(o);
        if (printed == NULL) mc_panic("out of memory");
        text = mc_record_view_set(rec, key, printed);
    }
    return mc_json_raw_ref(text);
}

static void reply_one(mc_req *r, const rdef *d, mc_record *rec, int status) {
    cJSON *fields = req_fields(r);
    cJSON *o = render_shaped(r, d, rec, fields);
    cJSON_Delete(fields);
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, d->singular, o);
    mc_reply_json(r, status, body);
}

/* ---- list: filters, sorting, pagination ---- */

static bool is_reserved_query(const char *k) {
    static const char *const keys[] = {"fields", "limit", "marker", "sort_key", "sort_dir", "page_reverse",
                                       "tags", "tags-any", "not-tags", "not-tags-any", "verbose"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(k, keys[i]) == 0) return true;
    return false;
}

static bool value_matches(const cJSON *v, const char *want) {
    if (cJSON_IsString(v)) return strcmp(v->valuestring, want) == 0;
    if (cJSON_IsBool(v)) {
        bool b;
        return mc_str_bool(want, &b) && b == (bool)cJSON_IsTrue(v);
    }
    if (cJSON_IsNumber(v)) {
        char *end;
        double x = strtod(want, &end);
        return *end == '\0' && end != want && x == v->valuedouble;
    }
    if (cJSON_IsNull(v)) return strcmp(want, "") == 0 || strcasecmp(want, "none") == 0 || strcasecmp(want, "null") == 0;
    if (cJSON_IsArray(v)) {
        const cJSON *x;
        cJSON_ArrayForEach(x, v) if (value_matches(x, want)) return true;
    }
    return false;
}

/* fixed_ips=ip_address=10.0.0.3 / subnet_id=X / ip_address_substr=10.0 */
static bool fixed_ips_match(const cJSON *fips, const char *want) {
    const char *eq = strchr(want, '=');
    if (eq == NULL) return false;
    char key[40];
    size_t kl = (size_t)(eq - want);
    if (kl >= sizeof key) return false;
    memcpy(key, want, kl);
    key[kl] = '\0';
    const cJSON *f;
    cJSON_ArrayForEach(f, fips) {
        if (strcmp(key, "ip_address_substr") == 0) {
            const char *ip = mc_json_str(f, "ip_address");
            if (ip && strstr(ip, eq + 1)) return true;
        } else if (mc_str_eq(mc_json_str(f, key), eq + 1)) {
            return true;
        }
    }
    return false;
}

static bool tag_in(const cJSON *tags, const char *t, size_t n) {
    const cJSON *x;
    cJSON_ArrayForEach(x, tags) if (cJSON_IsString(x) && strlen(x->valuestring) == n && strncmp(x->valuestring, t, n) == 0) return true;
    return false;
}

/* tags=a,b: all; tags-any: one; not-tags: not all; not-tags-any: none. */
static bool tags_match(const cJSON *tags, const char *key, const char *csv) {
    size_t total = 0, hit = 0;
    for (const char *p = csv; *p;) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        if (n > 0) {
            total++;
            if (tag_in(tags, p, n)) hit++;
        }
        p += n + (c ? 1 : 0);
    }
    if (strcmp(key, "tags") == 0) return hit == total;
    if (strcmp(key, "tags-any") == 0) return hit > 0;
    if (strcmp(key, "not-tags") == 0) return hit < total || total == 0;
    return hit == 0;   /* not-tags-any */
}

typedef struct listctx {
    mc_req *r;
    const rdef *d;
} listctx;

static bool list_filter(const mc_record *rec, void *arg) {
    listctx *lc = arg;
    mc_req *r = lc->r;
    if (!visible(r, lc->d, (mc_record *)rec)) return false;
    /* hidden internal ports are still Neutron ports: shown (admin sees all) */
    const mc_kv *kv;
    for (kv = r->query; kv < r->query + r->nquery; kv++) {
        const char *k = kv->key;
        if (strcmp(k, "tags") == 0 || strcmp(k, "tags-any") == 0 || strcmp(k, "not-tags") == 0 || strcmp(k, "not-tags-any") == 0) {
            if (!tags_match(mc_json_arr(rec->doc, "tags"), k, kv->value)) return false;
            continue;
        }
        if (is_reserved_query(k)) continue;
        /* repeated keys are OR: evaluate each key once, at its first occurrence */
        const mc_kv *p;
        bool first = true;
        for (p = r->query; p < r->query + r->nquery; p++) {
            if (p == kv) break;
            if (strcmp(p->key, k) == 0) first = false;
        }
        if (!first) continue;
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(rec->doc, k);
        if (v == NULL && lc->d->kind == MC_K_PORT && strcmp(k, "fixed_ips") != 0) continue;  /* unknown: ignored */
        if (v == NULL && strcmp(k, "tenant_id") != 0 && strcmp(k, "project_id") != 0) continue;
        bool any = false;
        for (p = r->query; p < r->query + r->nquery; p++) {
            if (strcmp(p->key, k) != 0) continue;
            if (lc->d->kind == MC_K_PORT && strcmp(k, "fixed_ips") == 0) any = fixed_ips_match(v, p->value);
            else any = value_matches(v, p->value);
            if (any) break;
        }
        if (!any) return false;
    }
    return true;
}

typedef struct sortkey {
    char key[64];
    bool desc;
} sortkey;

typedef struct sortctx {
    sortkey keys[4];
    int n;
} sortctx;

static sortctx *g_sort;   /* qsort has no context argument; set only for the duration of one qsort */

static int cmp_json(const cJSON *a, const cJSON *b) {
    if (a == NULL || cJSON_IsNull(a)) return (b == NULL || cJSON_IsNull(b)) ? 0 : -1;
    if (b == NULL || cJSON_IsNull(b)) return 1;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b)) return a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
    if (cJSON_IsBool(a) && cJSON_IsBool(b)) return (int)cJSON_IsTrue(a) - (int)cJSON_IsTrue(b);
    if (cJSON_IsString(a) && cJSON_IsString(b)) return strcmp(a->valuestring, b->valuestring);
    return 0;
}

static int cmp_records(const void *x, const void *y) {
    const mc_record *a = *(mc_record *const *)x, *b = *(mc_record *const *)y;
    for (int i = 0; i < g_sort->n; i++) {
        int c = cmp_json(cJSON_GetObjectItemCaseSensitive(a->doc, g_sort->keys[i].key),
                         cJSON_GetObjectItemCaseSensitive(b->doc, g_sort->keys[i].key));
        if (c != 0) return g_sort->keys[i].desc ? -c : c;
    }
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static void sk_each(const char *v, void *arg) {
    sortctx *s = arg;
    if (s->n < 4) mc_strlcpy(s->keys[s->n++].key, v, sizeof s->keys[0].key);
}

typedef struct sdctx {
    sortctx *s;
    int i;
    bool bad;
} sdctx;

static void sd_each(const char *v, void *arg) {
    sdctx *c = arg;
    if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0) c->bad = true;
    if (c->i < 4) c->s->keys[c->i++].desc = strcmp(v, "desc") == 0;
}

static void link_add(mc_req *r, cJSON *links, const rdef *d, const char *rel, long limit, const char *marker, bool reverse) {
    char base[512], url[1536], extra[768] = "";
    mc_service_url(r->srv, "/network", base, sizeof base);
    const mc_kv *kv;
    size_t n = 0;
    for (kv = r->query; kv < r->query + r->nquery; kv++) {
        if (strcmp(kv->key, "limit") == 0 || strcmp(kv->key, "marker") == 0 || strcmp(kv->key, "page_reverse") == 0) continue;
        char *ek = evhttp_encode_uri(kv->key), *ev = evhttp_encode_uri(kv->value);
        if (ek && ev && n + strlen(ek) + strlen(ev) + 3 < sizeof extra)
            n += (size_t)snprintf(extra + n, sizeof extra - n, "&%s=%s", ek, ev);
        free(ek);
        free(ev);
    }
    const char *coll = d->kind == MC_K_SECGROUP ? "security-groups" : d->kind == MC_K_SECGROUP_RULE ? "security-group-rules"
                     : d->kind == MC_K_METERING_LABEL ? "metering/metering-labels"
                     : d->kind == MC_K_ADDRESS_SCOPE ? "address-scopes"
                     : d->kind == MC_K_METERING_RULE ? "metering/metering-label-rules" : d->plural;
    snprintf(url, sizeof url, "%s/v2.0/%s?limit=%ld&marker=%s%s%s", base, coll, limit, marker, extra,
             reverse ? "&page_reverse=True" : "");
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "rel", rel);
    cJSON_AddStringToObject(l, "href", url);
    cJSON_AddItemToArray(links, l);
}

/* A page of ports filtered by one network_id or one device_id, walked over
 * that network's chain or that device's index instead of the whole store,
 * so a filtered page costs O(page) however many other ports there are.
 * Same result as mc_store_page() with list_filter(); -2 when the query
 * names neither exactly once (or an empty device), or the marker is not
 * one of those ports: the caller walks the store then. */
static long port_index_page(mc_req *r, listctx *lc, const char *marker, long limit, bool reverse, mc_record **out,
                            size_t cap, bool *more) {
    mc_server *srv = r->srv;
    const char *net_id = NULL, *dev_id = NULL;
    int nnet = 0, ndev = 0;
    const mc_kv *kv;
    for (kv = r->query; kv < r->query + r->nquery; kv++) {
        if (strcmp(kv->key, "network_id") == 0) net_id = kv->value, nnet++;
        else if (strcmp(kv->key, "device_id") == 0) dev_id = kv->value, ndev++;
    }
    mc_record *m = marker != NULL ? mc_store_find(W(srv, MC_K_PORT), marker) : NULL;
    long n = 0;
    *more = false;
    if (nnet == 1) {
        mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), net_id);
        if (net == NULL) return -2;
        net_priv *np = net_np(srv, net);
        if (marker != NULL && (m == NULL || PP(m) == NULL || PP(m)->net != net)) return -2;
        mc_record *c = m != NULL ? (reverse ? PP(m)->net_prev : PP(m)->net_next) : (reverse ? np->last : np->first);
        for (; c != NULL; c = reverse ? PP(c)->net_prev : PP(c)->net_next) {
            if (!list_filter(c, lc)) continue;
            if ((limit >= 0 && n >= limit) || (size_t)n >= cap) {
                *more = true;
                break;
            }
            out[n++] = c;
        }
        return n;
    }
    if (ndev != 1 || dev_id[0] == '\0') return -2;
    size_t np;
    mc_record **ports = device_ports(srv, dev_id, &np);
    size_t at = 0;
    if (marker != NULL) {
        while (at < np && ports[at] != m) at++;
        if (at == np) {
            free(ports);
            return -2;
        }
    }
    for (size_t i = 0; i < np; i++) {
        size_t k;
        if (marker == NULL) k = reverse ? np - 1 - i : i;
        else if (reverse) {
            if (i + 1 > at) break;
            k = at - 1 - i;
        } else {
            k = at + 1 + i;
            if (k >= np) break;
        }
        if (!list_filter(ports[k], lc)) continue;
        if ((limit >= 0 && n >= limit) || (size_t)n >= cap) {
            *more = true;
            break;
        }
        out[n++] = ports[k];
    }
    free(ports);
    return n;
}

/* GET on a member: 404 in Neutron's words, else the record as its kind shows it. */
static void show_generic(mc_req *r, const rdef *d) {
    mc_record *x = find_or_reply(r, d, r->params[0]);
    if (x) reply_one(r, d, x, 200);
}

static void list_generic(mc_req *r, const rdef *d) {
    mc_server *srv = r->srv;
    long limit;
    int rev = -1;
    if (mc_query_long_or_reply(r, "limit", 0, 1000000000L, -1, &limit) != 0) return;
    if (mc_query_bool_or_reply(r, "page_reverse", &rev) != 0) return;
    if (limit == 0) limit = -1;   /* Neutron: limit=0 means no limit */
    const char *marker = mc_query(r, "marker");
    sortctx sc = {0};
    mc_query_each(r, "sort_key", sk_each, &sc);
    sdctx sd = {&sc, 0, false};
    mc_query_each(r, "sort_dir", sd_each, &sd);
    if (sd.bad) {
        mc_reply_error(r, 400, "HTTPBadRequest", "The sort_dir must be either 'asc' or 'desc'.");
        return;
    }
    if (sd.i > 0 && sd.i != sc.n) {
        mc_reply_error(r, 400, "HTTPBadRequest", "The number of sort_keys and sort_dirs must be same.");
        return;
    }
    for (int i = 0; i < sc.n; i++) {
        bool known = false;
        for (mc_record *x = mc_store_first(W(srv, d->kind)); x && !known; x = mc_store_next(x))
            known = mc_json_has(x->doc, sc.keys[i].key);
        if (!known && mc_store_first(W(srv, d->kind)) != NULL && strcmp(sc.keys[i].key, "id") != 0) {
            mc_reply_error(r, 400, "HTTPBadRequest", "%.64s is an invalid attribute for sort_keys.", sc.keys[i].key);
            return;
        }
    }
    if (d->kind == MC_K_SECGROUP && !ctx_admin(r)) mc_net_secgroup_default(srv, ctx_project(r));
    listctx lc = {r, d};
    /* a page holds 'limit' records (O(page)); sorting needs every match */
    size_t cap = W(srv, d->kind)->count + 1;
    if (sc.n == 0 && limit > 0 && (size_t)limit < cap) cap = (size_t)limit;
    mc_record **out = calloc(cap, sizeof *out);
    if (out == NULL) mc_panic("out of memory");
    bool more = false, reverse = rev == 1;
    long n;
    if (sc.n == 0) {
        if (marker != NULL && mc_store_find(W(srv, d->kind), marker) == NULL) {
            free(out);
            reply_notfound(r, d, marker);
            return;
        }
        n = d->kind == MC_K_PORT ? port_index_page(r, &lc, marker, limit, reverse && marker, out, cap, &more) : -2;
        if (n == -2) n = mc_store_page(W(srv, d->kind), marker, limit, reverse && marker, list_filter, &lc, out, cap, &more);
        if (reverse && marker)
            for (long i = 0; i < n / 2; i++) {
                mc_record *t = out[i];
                out[i] = out[n - 1 - i];
                out[n - 1 - i] = t;
            }
    } else {
        /* sorted: collect every match, sort, then cut the page */
        size_t all = 0;
        for (mc_record *x = mc_store_first(W(srv, d->kind)); x; x = mc_store_next(x))
            if (list_filter(x, &lc)) out[all++] = x;
        g_sort = &sc;
        qsort(out, all, sizeof *out, cmp_records);
        g_sort = NULL;
        size_t start = 0, end = all;
        if (marker != NULL) {
            size_t i = 0;
            while (i < all && strcmp(out[i]->id, marker) != 0) i++;
            if (i == all && mc_store_find(W(srv, d->kind), marker) == NULL) {
                free(out);
                reply_notfound(r, d, marker);
                return;
            }
            if (reverse) {
                end = i < all ? i : all;
                start = (limit >= 0 && (long)end > limit) ? end - (size_t)limit : 0;
                more = start > 0;
            } else {
                start = i < all ? i + 1 : all;
            }
        }
        if (!(reverse && marker) && limit >= 0 && (long)(end - start) > limit) {
            end = start + (size_t)limit;
            more = true;
        }
        memmove(out, out + start, (end - start) * sizeof *out);
        n = (long)(end - start);
    }
    cJSON *fields = req_fields(r);
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, d->plural);
    for (long i = 0; i < n; i++) cJSON_AddItemToArray(arr, render_shaped(r, d, out[i], fields));
    if (limit > 0) {
        cJSON *links = cJSON_CreateArray();
        if (n > 0 && (more || (reverse && marker))) {
            if (reverse && marker) link_add(r, links, d, "next", limit, out[n - 1]->id, false);
            else link_add(r, links, d, "next", limit, out[n - 1]->id, false);
        }
        if (n > 0 && marker != NULL && (!reverse || more)) link_add(r, links, d, "previous", limit, out[0]->id, true);
        char key[64];
        snprintf(key, sizeof key, "%s_links", d->plural);
        if (cJSON_GetArraySize(links) > 0) cJSON_AddItemToObject(body, key, links);
        else cJSON_Delete(links);
    }
    cJSON_Delete(fields);
    free(out);
    mc_reply_json(r, 200, body);
}

/* If-Match: revision_number=N -> 412 when the record moved on. */
static int if_match_or_reply(mc_req *r, mc_record *rec) {
    const char *h = mc_header(r, "If-Match");
    if (h == NULL) return 0;
    const char *p = strstr(h, "revision_number=");
    if (p == NULL) return 0;
    long want;
    char buf[32];
    mc_strlcpy(buf, p + 16, sizeof buf);
    char *comma = strchr(buf, ',');
    if (comma) *comma = '\0';
    cJSON *rv = cJSON_GetObjectItemCaseSensitive(rec->doc, "revision_number");
    if (!mc_parse_long(buf, 0, 1L << 40, &want)) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Invalid If-Match header: %.64s", h);
        return -1;
    }
    if (!cJSON_IsNumber(rv) || (long)rv->valuedouble != want) {
        mc_reply_error(r, 412, "RevisionNumberConstraintFailed", "Constrained to %ld, but current revision is %ld", want,
                       cJSON_IsNumber(rv) ? (long)rv->valuedouble : 0L);
        return -1;
    }
    return 0;
}

/* Neutron's attribute maps: every member a request body may name, per
 * resource, as neutron-lib's api/definitions (and neutron's securitygroup
 * extension) give them for the extensions mockcloud lists, plus the few
 * extension members clients send that mockcloud takes and ignores. Flags:
 * 'R' required on POST, 'P' allowed on POST, 'U' allowed on PUT; "" read-only.
 * neutron/api/v2/base.py prepare_request_body() checks in this order:
 * unknown members (400 "Unrecognized attribute(s) 'a, b'"), then in map order
 * a missing required member or one POST may not set, or on PUT one that is
 * read-only; then the validators. All are webob HTTPBadRequest. */
typedef struct { const char *name, *flags; } nattr;

#define STD_ATTRS                                                                                          \
    {"id", ""}, {"tenant_id", "P"}, {"project_id", "P"}, {"description", "PU"}, {"tags", "P"},           \
    {"created_at", ""}, {"updated_at", ""}, {"revision_number", ""}

static const nattr A_NETWORK[] = {
    {"name", "PU"}, {"admin_state_up", "PU"}, {"shared", "PU"}, {"status", ""}, {"subnets", ""},
    {"router:external", "PU"}, {"mtu", "PU"}, {"port_security_enabled", "PU"}, {"availability_zone_hints", "P"},
    {"availability_zones", ""}, {"provider:network_type", "PU"}, {"provider:physical_network", "PU"},
    {"provider:segmentation_id", "PU"}, {"segments", "PU"}, {"dns_domain", "PU"}, {"qos_policy_id", "PU"},
    {"is_default", "PU"}, {"ipv4_address_scope", ""}, {"ipv6_address_scope", ""}, {"l2_adjacency", ""},
    STD_ATTRS, {NULL, NULL}};
static const nattr A_SUBNET[] = {
    {"name", "PU"}, {"network_id", "R"}, {"ip_version", "R"}, {"cidr", "P"}, {"prefixlen", "P"},
    {"subnetpool_id", "P"}, {"use_default_subnetpool", "P"}, {"gateway_ip", "PU"}, {"allocation_pools", "PU"},
    {"dns_nameservers", "PU"}, {"host_routes", "PU"}, {"enable_dhcp", "PU"}, {"ipv6_ra_mode", "P"},
    {"ipv6_address_mode", "P"}, {"shared", ""}, {"segment_id", "P"}, {"service_types", "PU"},
    {"dns_publish_fixed_ip", "PU"}, {"router:external", ""}, STD_ATTRS, {NULL, NULL}};
static const nattr A_SUBNETPOOL[] = {
    {"name", "RU"}, {"prefixes", "RU"}, {"default_prefixlen", "PU"}, {"min_prefixlen", "PU"},
    {"max_prefixlen", "PU"}, {"default_quota", "PU"}, {"shared", "P"}, {"is_default", "PU"},
    {"address_scope_id", "PU"}, {"ip_version", ""}, STD_ATTRS, {NULL, NULL}};
static const nattr A_PORT[] = {
    {"name", "PU"}, {"network_id", "R"}, {"admin_state_up", "PU"}, {"mac_address", "PU"}, {"fixed_ips", "PU"},
    {"device_id", "PU"}, {"device_owner", "PU"}, {"status", ""}, {"security_groups", "PU"},
    {"allowed_address_pairs", "PU"}, {"port_security_enabled", "PU"}, {"binding:host_id", "PU"},
    {"binding:profile", "PU"}, {"binding:vnic_type", "PU"}, {"binding:vif_type", ""}, {"binding:vif_details", ""},
    {"extra_dhcp_opts", "PU"}, {"dns_name", "PU"}, {"dns_domain", "PU"}, {"dns_assignment", ""},
    {"qos_policy_id", "PU"}, {"qos_network_policy_id", ""}, {"propagate_uplink_status", "PU"},
    {"ip_allocation", ""}, {"resource_request", ""}, STD_ATTRS, {NULL, NULL}};
static const nattr A_ROUTER[] = {
    {"name", "PU"}, {"admin_state_up", "PU"}, {"status", ""}, {"external_gateway_info", "PU"}, {"routes", "U"},
    {"distributed", "PU"}, {"ha", "PU"}, {"availability_zone_hints", "P"}, {"availability_zones", ""},
    {"flavor_id", "P"}, {"service_type_id", "P"}, {"conntrack_helpers", ""}, STD_ATTRS, {NULL, NULL}};
static const nattr A_FLOATINGIP[] = {
    {"floating_ip_address", "P"}, {"floating_network_id", "R"}, {"router_id", ""}, {"port_id", "PU"},
    {"fixed_ip_address", "PU"}, {"subnet_id", "P"}, {"status", ""}, {"dns_name", "P"}, {"dns_domain", "P"},
    {"port_details", ""}, {"port_forwardings", ""}, {"qos_policy_id", "PU"}, {"qos_network_policy_id", ""},
    STD_ATTRS, {NULL, NULL}};
static const nattr A_SECGROUP[] = {
    {"name", "PU"}, {"stateful", "PU"}, {"security_group_rules", ""}, {"shared", ""}, STD_ATTRS, {NULL, NULL}};
static const nattr A_RULE[] = {
    {"security_group_id", "R"}, {"remote_group_id", "P"}, {"direction", "R"}, {"protocol", "P"},
    {"port_range_min", "P"}, {"port_range_max", "P"}, {"ethertype", "P"}, {"remote_ip_prefix", "P"},
    {"remote_address_group_id", "P"}, {"normalized_cidr", ""}, {"belongs_to_default_sg", ""}, STD_ATTRS,
    {NULL, NULL}};

static const nattr A_MLABEL[] = {
    {"id", ""}, {"name", "P"}, {"description", "P"}, {"tenant_id", "P"}, {"project_id", "P"}, {"shared", "P"},
    {NULL, NULL}};
static const nattr A_SCOPE[] = {
    {"id", ""}, {"name", "RU"}, {"ip_version", "R"}, {"shared", "PU"}, {"tenant_id", "P"}, {"project_id", "P"},
    {NULL, NULL}};
static const nattr A_MRULE[] = {
    {"id", ""}, {"direction", "P"}, {"excluded", "P"}, {"remote_ip_prefix", "R"}, {"metering_label_id", "R"},
    {"tenant_id", "P"}, {"project_id", "P"}, {NULL, NULL}};

static const nattr *attr_map(const char *singular) {
    static const struct { const char *res; const nattr *map; } maps[] = {
        {"metering_label", A_MLABEL}, {"metering_label_rule", A_MRULE}, {"address_scope", A_SCOPE},
        {"network", A_NETWORK}, {"subnet", A_SUBNET}, {"subnetpool", A_SUBNETPOOL}, {"port", A_PORT},
        {"router", A_ROUTER}, {"floatingip", A_FLOATINGIP}, {"security_group", A_SECGROUP},
        {"security_group_rule", A_RULE},
    };
    for (size_t i = 0; i < sizeof maps / sizeof maps[0]; i++)
        if (strcmp(maps[i].res, singular) == 0) return maps[i].map;
    return NULL;
}

static const nattr *attr_find(const nattr *map, const char *name) {
    for (; map->name; map++)
        if (strcmp(map->name, name) == 0) return map;
    return NULL;
}

/* base.py's checks of the members of one resource body before any validator. */
static bool attrs_ok(const char *singular, const cJSON *in, bool create, nerr *e) {
    const nattr *map = attr_map(singular);
    if (map == NULL) return true;
    char extra[512] = "";
    size_t n = 0;
    bool unknown = false;
    for (const cJSON *c = in->child; c != NULL; c = c->next) {
        if (attr_find(map, c->string) != NULL) continue;
        unknown = true;
        if (n + 1 < sizeof extra) {
            int k = snprintf(extra + n, sizeof extra - n, "%s%.64s", n ? ", " : "", c->string);
            n = k > 0 ? n + (size_t)k : n;
        }
    }
    if (unknown) {
        fail(e, 400, "HTTPBadRequest", "Unrecognized attribute(s) '%s'", extra);
        return false;
    }
    for (const nattr *a = map; a->name; a++) {
        bool has = mc_json_has(in, a->name);
        if (create && strchr(a->flags, 'R') != NULL && !has) {
            fail(e, 400, "HTTPBadRequest", "Failed to parse request. Required attribute '%s' not specified", a->name);
            return false;
        }
        if (create && has && strchr(a->flags, 'P') == NULL && strchr(a->flags, 'R') == NULL) {
            fail(e, 400, "HTTPBadRequest", "Attribute '%s' not allowed in POST", a->name);
            return false;
        }
        if (!create && has && strchr(a->flags, 'U') == NULL) {
            /* populate_project_info() adds tenant_id, which the map lists first */
            fail(e, 400, "HTTPBadRequest", "Cannot update read-only attribute %s",
                 strcmp(a->name, "project_id") == 0 ? "tenant_id" : a->name);
            return false;
        }
    }
    return true;
}

/* ---- neutron-lib's validators and converters, with their messages ----
 *
 * Run by item_ok_or_reply() on each member they cover, in attribute-map
 * order, before the plugin code sees the body. A validator's reason becomes
 * base.py's "Invalid input for X. Reason: R." (HTTPBadRequest); a converter
 * that raises keeps its own exception type and message (InvalidInput's
 * "Invalid input for operation: ...", SecurityGroupInvalidPortValue, ...).
 * Data in messages is printed the way Python's '%s' prints it (pyrepr). */

/* Python's str() of a JSON value: 'x' for strings inside containers, True/None... */
static void pyrepr_rec(const cJSON *v, bool top, char *out, size_t n, size_t *len) {
#define PUT(...)                                                                                            \
    do {                                                                                                    \
        if (*len + 1 < n) {                                                                                 \
            int k_ = snprintf(out + *len, n - *len, __VA_ARGS__);                                           \
            *len = k_ > 0 ? (*len + (size_t)k_ < n ? *len + (size_t)k_ : n - 1) : *len;                    \
        }                                                                                                   \
    } while (0)
    if (cJSON_IsString(v)) PUT(top ? "%s" : "'%s'", v->valuestring);
    else if (cJSON_IsTrue(v)) PUT("True");
    else if (cJSON_IsFalse(v)) PUT("False");
    else if (cJSON_IsNull(v) || v == NULL) PUT("None");
    else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 1e15) PUT("%.0f", d);
        else PUT("%.17g", d);
    } else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
        bool obj = cJSON_IsObject(v);
        PUT(obj ? "{" : "[");
        for (const cJSON *c = v->child; c != NULL; c = c->next) {
            if (obj) PUT("'%s': ", c->string);
            pyrepr_rec(c, false, out, n, len);
            if (c->next) PUT(", ");
        }
        PUT(obj ? "}" : "]");
    }
#undef PUT
}

static const char *pyrepr(const cJSON *v, char *out, size_t n) {
    size_t len = 0;
    out[0] = '\0';
    pyrepr_rec(v, true, out, n, &len);
    return out;
}

/* validate_ip_address: NULL when 'v' is an IP address, else the reason. */
static const char *v_ip(const cJSON *v, char *why, size_t n) {
    char d[128];
    ipaddr ip;
    if (cJSON_IsString(v) && ip_parse(v->valuestring, &ip)) return NULL;
    /* netaddr's ZEROFILL takes "010.0.0.1" and neutron asks for "10.0.0.1" */
    if (cJSON_IsString(v) && strchr(v->valuestring, ':') == NULL && strlen(v->valuestring) < 64) {
        char canon[64] = "", *p = v->valuestring;
        unsigned oct[4];
        int k = 0;
        while (k < 4) {
            char *end;
            if (!isdigit((unsigned char)*p)) break;
            unsigned long x = strtoul(p, &end, 10);
            if (x > 255 || end - p > 3) break;
            oct[k++] = (unsigned)x;
            p = end;
            if (k < 4 && *p++ != '.') break;
        }
        if (k == 4 && *p == '\0') {
            snprintf(canon, sizeof canon, "%u.%u.%u.%u", oct[0], oct[1], oct[2], oct[3]);
            snprintf(why, n, "'%s' is not an accepted IP address, '%s' is recommended", v->valuestring, canon);
            return why;
        }
    }
    snprintf(why, n, "'%s' is not a valid IP address", pyrepr(v, d, sizeof d));
    return why;
}

/* validate_subnet: an address with a prefix length (host bits allowed). */
static const char *v_subnet(const cJSON *v, char *why, size_t n) {
    char d[128];
    cidr c;
    if (cJSON_IsString(v) && cidr_parse(v->valuestring, &c, false)) return NULL;
    snprintf(why, n, "'%s' is not a valid IP subnet", pyrepr(v, d, sizeof d));
    return why;
}

/* validate_route_cidr: a network address with its prefix length. */
static const char *v_route_cidr(const cJSON *v, char *why, size_t n) {
    char d[128];
    cidr c;
    if (cJSON_IsString(v) && cidr_parse(v->valuestring, &c, true)) {
        bool loop = (c.v == 4 && (c.net >> 24) == 127) || (c.v == 6 && c.net == 1 && c.plen == 128);
        if (!loop) return NULL;
        snprintf(why, n, "'%s' is not a routable CIDR", v->valuestring);
        return why;
    }
    snprintf(why, n, "'%s' is not a valid CIDR", pyrepr(v, d, sizeof d));
    return why;
}

static const char *v_uuid(const cJSON *v, char *why, size_t n) {
    char d[128];
    if (cJSON_IsString(v) && mc_is_uuid(v->valuestring)) return NULL;
    snprintf(why, n, "'%s' is not a valid UUID", pyrepr(v, d, sizeof d));
    return why;
}

/* validate_mac_address: six octets separated by ':' or '-' (not all 0 or all f). */
static bool mac_syntax(const char *s) {
    if (s == NULL || strlen(s) != 17) return false;
    for (int i = 0; i < 17; i++)
        if (i % 3 == 2 ? (s[i] != ':' && s[i] != '-') || s[i] != s[2] : !isxdigit((unsigned char)s[i])) return false;
    return strcasecmp(s + 0, "00:00:00:00:00:00") != 0 && strcasecmp(s, "ff:ff:ff:ff:ff:ff") != 0 &&
           strcasecmp(s, "00-00-00-00-00-00") != 0 && strcasecmp(s, "ff-ff-ff-ff-ff-ff") != 0;
}

static const char *v_mac(const cJSON *v, char *why, size_t n) {
    char d[128];
    if (cJSON_IsString(v) && mac_syntax(v->valuestring)) return NULL;
    snprintf(why, n, "'%s' is not a valid MAC address", pyrepr(v, d, sizeof d));
    return why;
}

/* _verify_dict_keys(expected, d, strict): Python prints the two sets. */
static const char *v_dict_keys(const cJSON *v, const char *const *keys, bool strict, char *why, size_t n) {
    char d[256];
    if (!cJSON_IsObject(v)) {
        snprintf(why, n, "Invalid input. '%s' must be a dictionary with keys: ['%s', '%s']", pyrepr(v, d, sizeof d),
                 keys[0], keys[1]);
        return why;
    }
    int have = 0, all = 0;
    for (const cJSON *c = v->child; c != NULL; c = c->next, all++)
        if (strcmp(c->string, keys[0]) == 0 || strcmp(c->string, keys[1]) == 0) have++;
    if (have == 2 && (!strict || all == 2)) return NULL;
    char prov[256] = "";
    size_t len = 0;
    for (const cJSON *c = v->child; c != NULL && len + 1 < sizeof prov; c = c->next) {
        int k = snprintf(prov + len, sizeof prov - len, "%s'%s'", len ? ", " : "", c->string);
        len = k > 0 && len + (size_t)k < sizeof prov ? len + (size_t)k : sizeof prov - 1;
    }
    snprintf(why, n, "Validation of dictionary's keys failed. Expected keys: {'%s', '%s'} Provided keys: %s%s%s",
             keys[0], keys[1], all ? "{" : "set()", prov, all ? "}" : "");
    return why;
}

static const char *v_ip_pools(const cJSON *v, char *why, size_t n) {
    static const char *const keys[] = {"start", "end"};
    char d[256];
    if (!cJSON_IsArray(v)) {
        snprintf(why, n, "Invalid data format for IP pool: '%s'", pyrepr(v, d, sizeof d));
        return why;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, v) {
        if (v_dict_keys(p, keys, true, why, n) || v_ip(cJSON_GetObjectItemCaseSensitive(p, "start"), why, n) ||
            v_ip(cJSON_GetObjectItemCaseSensitive(p, "end"), why, n))
            return why;
    }
    return NULL;
}

static const char *v_fixed_ips(const cJSON *v, char *why, size_t n) {
    char d[256];
    if (!cJSON_IsArray(v)) {
        snprintf(why, n, "Invalid data format for fixed IP: '%s'", pyrepr(v, d, sizeof d));
        return why;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, v) {
        if (!cJSON_IsObject(f)) {
            snprintf(why, n, "Invalid data format for fixed IP: '%s'", pyrepr(f, d, sizeof d));
            return why;
        }
        const cJSON *ip = cJSON_GetObjectItemCaseSensitive(f, "ip_address");
        if (ip != NULL) {
            for (const cJSON *g = v->child; g != f; g = g->next) {
                const cJSON *gip = cJSON_GetObjectItemCaseSensitive(g, "ip_address");
                if (gip != NULL && cJSON_Compare(gip, ip, true)) {
                    snprintf(why, n, "Duplicate IP address '%s'", pyrepr(ip, d, sizeof d));
                    return why;
                }
            }
            if (v_ip(ip, why, n)) return why;
        }
        const cJSON *sid = cJSON_GetObjectItemCaseSensitive(f, "subnet_id");
        if (sid != NULL && v_uuid(sid, why, n)) return why;
    }
    return NULL;
}

static const char *v_nameservers(const cJSON *v, char *why, size_t n) {
    char d[256], inner[256];
    if (cJSON_IsNull(v)) return NULL;   /* convert_none_to_empty_list */
    if (!cJSON_IsArray(v) && !cJSON_IsString(v) && !cJSON_IsObject(v)) {
        snprintf(why, n, "Invalid data format for nameserver: '%s'", pyrepr(v, d, sizeof d));
        return why;
    }
    if (!cJSON_IsArray(v)) {   /* Python iterates a str by character, a dict by key: the first one fails */
        snprintf(why, n, "Invalid data format for nameserver: '%s'", pyrepr(v, d, sizeof d));
        return why;
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, v) {
        if (v_ip(h, inner, sizeof inner)) {
            snprintf(why, n, "'%s' is not a valid nameserver. %s", pyrepr(h, d, sizeof d), inner);
            return why;
        }
        for (const cJSON *g = v->child; g != h; g = g->next)
            if (cJSON_Compare(g, h, true)) {
                snprintf(why, n, "Duplicate nameserver '%s'", h->valuestring);
                return why;
            }
    }
    return NULL;
}

static const char *v_hostroutes(const cJSON *v, char *why, size_t n) {
    static const char *const keys[] = {"destination", "nexthop"};
    char d[256];
    if (cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsArray(v)) {
        snprintf(why, n, "Invalid data format for hostroute: '%s'", pyrepr(v, d, sizeof d));
        return why;
    }
    const cJSON *h;
    cJSON_ArrayForEach(h, v) {
        if (v_dict_keys(h, keys, true, why, n) ||
            v_route_cidr(cJSON_GetObjectItemCaseSensitive(h, "destination"), why, n) ||
            v_ip(cJSON_GetObjectItemCaseSensitive(h, "nexthop"), why, n))
            return why;
        for (const cJSON *g = v->child; g != h; g = g->next)
            if (cJSON_Compare(g, h, true)) {
                snprintf(why, n, "Duplicate hostroute '%s'", pyrepr(h, d, sizeof d));
                return why;
            }
    }
    return NULL;
}

/* type:values; Python prints the value itself (no quotes) and the default display. */
static const char *v_values(const cJSON *v, const char *const *ok, char *why, size_t n) {
    char d[128];
    for (; *ok; ok++)
        if (cJSON_IsString(v) && strcmp(v->valuestring, *ok) == 0) return NULL;
    snprintf(why, n, "%s is not in valid_values", pyrepr(v, d, sizeof d));
    return why;
}

/* name_string / string with max_len. */
static const char *v_string(const cJSON *v, size_t max, char *why, size_t n) {
    char d[128];
    if (!cJSON_IsString(v)) {
        snprintf(why, n, "'%s' is not a valid string", pyrepr(v, d, sizeof d));
        return why;
    }
    if (strlen(v->valuestring) > max) {
        snprintf(why, n, "'%.*s' exceeds maximum length of %zu", (int)(n > 80 ? n - 80 : 0), v->valuestring, max);
        return why;
    }
    return NULL;
}

/* A list without duplicates whose items each pass 'item' (Neutron's
 * _validate_subnet_list, _validate_uuid_list); null is the empty list
 * when 'null_ok' (convert_none_to_empty_list). */
static const char *v_unique_list(const cJSON *v, bool null_ok, const char *(*item)(const cJSON *, char *, size_t),
                                 char *why, size_t n) {
    char d[128];
    if (null_ok && cJSON_IsNull(v)) return NULL;
    if (!cJSON_IsArray(v)) {
        snprintf(why, n, "'%s' is not a list", pyrepr(v, d, sizeof d));
        return why;
    }
    const cJSON *x;
    cJSON_ArrayForEach(x, v) {
        for (const cJSON *g = v->child; g != x; g = g->next)
            if (cJSON_Compare(g, x, true)) {
                snprintf(why, n, "Duplicate items in the list: '%s'", pyrepr(x, d, sizeof d));
                return why;
            }
        if (item(x, why, n)) return why;
    }
    return NULL;
}

/* oslo's bool_from_string(strict=True), as convert_to_boolean uses it. */
static bool py_bool_ok(const cJSON *v) {
    static const char *const forms[] = {"1", "t", "true", "on", "y", "yes", "0", "f", "false", "off", "n", "no", NULL};
    char s[64];
    if (cJSON_IsBool(v)) return true;
    if (cJSON_IsString(v)) mc_strlcpy(s, v->valuestring, sizeof s);
    else if (cJSON_IsNumber(v) && (v->valuedouble == 0 || v->valuedouble == 1)) return true;
    else return false;
    for (int i = 0; forms[i]; i++)
        if (strcasecmp(forms[i], s) == 0) return true;
    return false;
}

/* _validate_allowed_address_pairs: raises its own 400s. */
static bool v_aap(const cJSON *v, nerr *e) {
    char d[256], why[300];
    if (cJSON_IsNull(v)) return true;   /* convert_none_to_empty_list */
    if (!cJSON_IsArray(v)) {
        fail(e, 400, "HTTPBadRequest", "Allowed address pairs must be a list.");
        return false;
    }
    if (cJSON_GetArraySize(v) > 10) {
        fail(e, 400, "AllowedAddressPairExhausted", "The number of allowed address pair exceeds the maximum 10.");
        return false;
    }
    const cJSON *p;
    cJSON_ArrayForEach(p, v) {
        if (!cJSON_IsObject(p)) {
            fail(e, 400, "HTTPBadRequest", "Invalid input for allowed_address_pairs. Reason: '%s' is not a dictionary.",
                 pyrepr(p, d, sizeof d));
            return false;
        }
        const cJSON *mac = cJSON_GetObjectItemCaseSensitive(p, "mac_address");
        const cJSON *ip = cJSON_GetObjectItemCaseSensitive(p, "ip_address");
        if (mac != NULL && v_mac(mac, why, sizeof why)) {
            fail(e, 400, "HTTPBadRequest", "%s", why);
            return false;
        }
        if (ip == NULL) {
            fail(e, 400, "AllowedAddressPairsMissingIP", "AllowedAddressPair must contain ip_address");
            return false;
        }
        for (const cJSON *g = v->child; g != p; g = g->next)
            if (null_or_eq(cJSON_GetObjectItemCaseSensitive(g, "mac_address"), mac) &&
                null_or_eq(cJSON_GetObjectItemCaseSensitive(g, "ip_address"), ip)) {
                char m[64];
                fail(e, 400, "DuplicateAddressPairInRequest",
                     "Request contains duplicate address pair: mac_address %s ip_address %s.", pyrepr(mac, m, sizeof m),
                     pyrepr(ip, d, sizeof d));
                return false;
            }
        for (const cJSON *c = p->child; c != NULL; c = c->next)
            if (strcmp(c->string, "mac_address") != 0 && strcmp(c->string, "ip_address") != 0) {
                fail(e, 400, "HTTPBadRequest", "Unrecognized attribute(s) '%.64s'", c->string);
                return false;
            }
        bool net = cJSON_IsString(ip) && strchr(ip->valuestring, '/') != NULL;
        if (net ? v_subnet(ip, why, sizeof why) != NULL : v_ip(ip, why, sizeof why) != NULL) {
            fail(e, 400, "HTTPBadRequest", "%s", why);
            return false;
        }
        cidr c;
        ipaddr a;
        bool mcast = net ? (cidr_parse(ip->valuestring, &c, false) &&
                            (c.v == 4 ? (c.net >> 28) == 0xe : (c.net >> 120) == 0xff))
                         : (ip_parse(ip->valuestring, &a) && (a.v == 4 ? (a.a >> 28) == 0xe : (a.a >> 120) == 0xff));
        if (mcast) {
            fail(e, 400, "HTTPBadRequest", net ? "%s is a multicast subnet, which is not supported."
                                               : "IP %s is a multicast address, which is not supported.",
                 ip->valuestring);
            return false;
        }
        if (mac != NULL && (strtoul(mac->valuestring, NULL, 16) & 1)) {
            fail(e, 400, "HTTPBadRequest", "MAC %s is a multicast address, which is not supported.", mac->valuestring);
            return false;
        }
    }
    return true;
}

/* What each member is checked with. */
typedef enum {
    V_STR255, V_STR1024, V_NAME, V_BOOL, V_SUBNET, V_INT, V_NONNEG, V_UUID, V_UUID_OR_NONE, V_UUID_LIST, V_IP_OR_NONE, V_SUBNET_OR_NONE,
    V_SUBNET_LIST, V_FIXED_IPS, V_IP_POOLS, V_NAMESERVERS, V_HOSTROUTES, V_MAC, V_AAP, V_IP_VERSION, V_IPV6_MODE,
    V_DIRECTION, V_ETHERTYPE, V_PROTOCOL, V_PORT, V_IP_PREFIX,
} vkind;

typedef struct { const char *res, *attr; vkind k; } vrule;

/* In attribute-map order: the first failing member is the one Neutron names. */
static const vrule vrules[] = {
    {"network", "name", V_NAME}, {"network", "admin_state_up", V_BOOL}, {"network", "shared", V_BOOL},
    {"network", "router:external", V_BOOL}, {"network", "mtu", V_NONNEG}, {"network", "port_security_enabled", V_BOOL},
    {"network", "is_default", V_BOOL}, {"network", "qos_policy_id", V_UUID_OR_NONE},
    {"subnet", "name", V_NAME}, {"subnet", "network_id", V_UUID}, {"subnet", "ip_version", V_IP_VERSION},
    {"subnet", "cidr", V_SUBNET_OR_NONE}, {"subnet", "prefixlen", V_NONNEG},
    {"subnet", "use_default_subnetpool", V_BOOL}, {"subnet", "gateway_ip", V_IP_OR_NONE},
    {"subnet", "allocation_pools", V_IP_POOLS}, {"subnet", "dns_nameservers", V_NAMESERVERS},
    {"subnet", "host_routes", V_HOSTROUTES}, {"subnet", "enable_dhcp", V_BOOL},
    {"subnet", "ipv6_ra_mode", V_IPV6_MODE}, {"subnet", "ipv6_address_mode", V_IPV6_MODE},
    {"subnet", "segment_id", V_UUID_OR_NONE}, {"subnet", "dns_publish_fixed_ip", V_BOOL},
    {"subnetpool", "name", V_NAME}, {"subnetpool", "prefixes", V_SUBNET_LIST},
    {"subnetpool", "default_prefixlen", V_NONNEG}, {"subnetpool", "min_prefixlen", V_NONNEG},
    {"subnetpool", "max_prefixlen", V_NONNEG}, {"subnetpool", "default_quota", V_NONNEG},
    {"subnetpool", "shared", V_BOOL}, {"subnetpool", "is_default", V_BOOL},
    {"subnetpool", "address_scope_id", V_UUID_OR_NONE},
    {"port", "name", V_NAME}, {"port", "network_id", V_UUID}, {"port", "admin_state_up", V_BOOL},
    {"port", "mac_address", V_MAC}, {"port", "fixed_ips", V_FIXED_IPS}, {"port", "device_id", V_STR255},
    {"port", "device_owner", V_STR255}, {"port", "security_groups", V_UUID_LIST},
    {"port", "allowed_address_pairs", V_AAP}, {"port", "port_security_enabled", V_BOOL},
    {"port", "propagate_uplink_status", V_BOOL}, {"port", "qos_policy_id", V_UUID_OR_NONE},
    {"router", "name", V_NAME}, {"router", "admin_state_up", V_BOOL}, {"router", "distributed", V_BOOL},
    {"router", "ha", V_BOOL}, {"router", "routes", V_HOSTROUTES},
    {"floatingip", "floating_ip_address", V_IP_OR_NONE}, {"floatingip", "floating_network_id", V_UUID},
    {"floatingip", "port_id", V_UUID_OR_NONE}, {"floatingip", "fixed_ip_address", V_IP_OR_NONE},
    {"floatingip", "subnet_id", V_UUID_OR_NONE}, {"floatingip", "qos_policy_id", V_UUID_OR_NONE},
    {"security_group", "name", V_STR255}, {"security_group", "stateful", V_BOOL},
    {"security_group_rule", "direction", V_DIRECTION}, {"security_group_rule", "protocol", V_PROTOCOL},
    {"security_group_rule", "port_range_min", V_PORT}, {"security_group_rule", "port_range_max", V_PORT},
    {"security_group_rule", "ethertype", V_ETHERTYPE}, {"security_group_rule", "remote_ip_prefix", V_IP_PREFIX},
    {"address_scope", "name", V_NAME}, {"address_scope", "ip_version", V_IP_VERSION},
    {"address_scope", "shared", V_BOOL},
    {"metering_label", "name", V_NAME}, {"metering_label", "description", V_STR1024},
    {"metering_label", "shared", V_BOOL}, {"metering_label_rule", "direction", V_DIRECTION},
    {"metering_label_rule", "excluded", V_BOOL}, {"metering_label_rule", "remote_ip_prefix", V_SUBNET},
    {"metering_label_rule", "metering_label_id", V_UUID},
};

static const char *const ip_protocol_names[] = {
    "any", "ah", "dccp", "egp", "esp", "gre", "hopopt", "icmp", "igmp", "ip", "ipip", "ipv6-encap", "ipv6-frag",
    "ipv6-icmp", "icmpv6", "ipv6-nonxt", "ipv6-opts", "ipv6-route", "ospf", "pgm", "rsvp", "sctp", "tcp", "udp",
    "udplite", "vrrp", NULL};
#define SG_PROTOCOLS                                                                                          \
    "(None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', " \
    "'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', "    \
    "'sctp', 'tcp', 'udp', 'udplite', 'vrrp')"

/* Python's int() of a JSON value: numbers truncate, strings must be digits. */
static bool py_int(const cJSON *v, long *out) {
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return true;
    }
    if (cJSON_IsNumber(v)) {
        if (!isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e15) return false;
        *out = (long)v->valuedouble;
        return true;
    }
    if (!cJSON_IsString(v)) return false;
    const char *s = v->valuestring;
    while (isspace((unsigned char)*s)) s++;
    char buf[32];
    mc_strlcpy(buf, s, sizeof buf);
    for (char *t = buf + strlen(buf); t > buf && isspace((unsigned char)t[-1]);) *--t = '\0';
    return mc_parse_long(buf, -1000000000L, 1000000000L, out);
}

/* One member against its rule: false with 'e' filled as Neutron words it. */
static bool vrule_ok(const vrule *vr, const cJSON *v, nerr *e) {
    char why[400], d[256];
    const char *bad = NULL;
    long x;
    switch (vr->k) {
    case V_STR255: bad = v_string(v, 255, why, sizeof why); break;
    case V_STR1024: bad = v_string(v, 1024, why, sizeof why); break;
    case V_SUBNET: bad = v_subnet(v, why, sizeof why); break;
    case V_NAME: bad = v_string(v, 255, why, sizeof why); break;
    case V_BOOL:
        if (!py_bool_ok(v)) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: '%s' cannot be converted to boolean.",
                 pyrepr(v, d, sizeof d));
            return false;
        }
        break;
    case V_INT:
    case V_NONNEG:
    case V_IP_VERSION:
        if (!py_int(v, &x)) {
            fail(e, 400, "InvalidInput", "Invalid input for operation: '%s' is not an integer.", pyrepr(v, d, sizeof d));
            return false;
        }
        if (vr->k == V_NONNEG && x < 0) {
            snprintf(why, sizeof why, "'%ld' should be non-negative", x);
            bad = why;
        }
        if (vr->k == V_IP_VERSION && x != 4 && x != 6) {
            snprintf(why, sizeof why, "%ld is not in valid_values", x);
            bad = why;
        }
        break;
    case V_UUID: bad = v_uuid(v, why, sizeof why); break;
    case V_UUID_OR_NONE: bad = cJSON_IsNull(v) ? NULL : v_uuid(v, why, sizeof why); break;
    case V_UUID_LIST: bad = v_unique_list(v, true, v_uuid, why, sizeof why); break;
    case V_IP_OR_NONE: bad = cJSON_IsNull(v) ? NULL : v_ip(v, why, sizeof why); break;
    case V_SUBNET_OR_NONE: bad = cJSON_IsNull(v) ? NULL : v_subnet(v, why, sizeof why); break;
    case V_SUBNET_LIST: bad = v_unique_list(v, false, v_subnet, why, sizeof why); break;
    case V_FIXED_IPS: bad = v_fixed_ips(v, why, sizeof why); break;
    case V_IP_POOLS: bad = v_ip_pools(v, why, sizeof why); break;
    case V_NAMESERVERS: bad = v_nameservers(v, why, sizeof why); break;
    case V_HOSTROUTES: bad = v_hostroutes(v, why, sizeof why); break;
    case V_MAC:   /* null: a new one */
        bad = cJSON_IsNull(v) ? NULL : v_mac(v, why, sizeof why);
        if (bad == NULL && cJSON_IsString(v))   /* convert_to_sanitized_mac_address, in place */
            for (char *c = v->valuestring; *c; c++) *c = *c == '-' ? ':' : (char)tolower((unsigned char)*c);
        break;
    case V_AAP: return v_aap(v, e);
    case V_IPV6_MODE: {
        static const char *const modes[] = {"dhcpv6-stateful", "dhcpv6-stateless", "slaac", NULL};
        bad = cJSON_IsNull(v) ? NULL : v_values(v, modes, why, sizeof why);
        break;
    }
    case V_DIRECTION: {
        static const char *const dirs[] = {"ingress", "egress", NULL};
        bad = v_values(v, dirs, why, sizeof why);
        break;
    }
    case V_ETHERTYPE:
        if (!cJSON_IsString(v) || (strcasecmp(v->valuestring, "IPv4") != 0 && strcasecmp(v->valuestring, "IPv6") != 0)) {
            fail(e, 400, "SecurityGroupRuleInvalidEtherType",
                 "Security group rule for ethertype '%s' not supported. Allowed values are ['IPv4', 'IPv6'].",
                 pyrepr(v, d, sizeof d));
            return false;
        }
        break;
    case V_PROTOCOL: {
        if (cJSON_IsNull(v)) break;
        bool ok = false;
        if (cJSON_IsNumber(v) || (cJSON_IsString(v) && py_int(v, &x)))
            ok = py_int(v, &x) && x >= 0 && x <= 255;
        else if (cJSON_IsString(v))
            for (int i = 0; ip_protocol_names[i] && !ok; i++) ok = strcasecmp(v->valuestring, ip_protocol_names[i]) == 0;
        if (!ok) {
            fail(e, 400, "SecurityGroupRuleInvalidProtocol",
                 "Security group rule protocol %s not supported. Only protocol values " SG_PROTOCOLS
                 " and integer representations [0 to 255] are supported.",
                 pyrepr(v, d, sizeof d));
            return false;
        }
        break;
    }
    case V_PORT:
        if (!cJSON_IsNull(v) && (!py_int(v, &x) || x < 0 || x > 65535)) {
            fail(e, 400, "SecurityGroupInvalidPortValue", "Invalid value for port %s", pyrepr(v, d, sizeof d));
            return false;
        }
        break;
    case V_IP_PREFIX: {
        cidr c;
        ipaddr a;
        bool empty = cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] == '\0');
        if (!empty && !(cJSON_IsString(v) && (ip_parse(v->valuestring, &a) || cidr_parse(v->valuestring, &c, false)))) {
            fail(e, 400, "InvalidCIDR", "Invalid CIDR %s given as IP prefix.", pyrepr(v, d, sizeof d));
            return false;
        }
        break;
    }
    }
    if (bad == NULL) return true;
    fail(e, 400, "HTTPBadRequest", "Invalid input for %s. Reason: %s.", vr->attr, bad);
    return false;
}

/* One resource body of a POST (each item of a bulk one) or a PUT, checked as
 * base.py does before the plugin sees it: 0, or -1 after a 400. */
static int item_ok_or_reply(mc_req *r, const char *singular, const cJSON *in) {
    /* Neutron's attribute validators for the members clients send (null is a
     * valid value only where Neutron converts it: "none to empty list" etc.). */
    static const struct { const char *res, *spec; } attrs[] = {
        {"network", "name=s255|description=s255|admin_state_up=b|shared=b|mtu=n|port_security_enabled=b|"
                    "router:external=b|availability_zone_hints=r"},
        {"subnet", "name=s255|description=s255|network_id=u|cidr=S|ip_version=n|enable_dhcp=b|gateway_ip=S|"
                   "allocation_pools=a|dns_nameservers=R|host_routes=A|subnetpool_id=S|prefixlen=i|"
                   "ipv6_ra_mode=S|ipv6_address_mode=S|service_types=r|use_default_subnetpool=b"},
        {"subnetpool", "name=s255|description=s255|prefixes=r|default_prefixlen=n|min_prefixlen=n|max_prefixlen=n|"
                       "shared=b|is_default=b|address_scope_id=S"},
        {"port", "name=s255|description=s255|network_id=u|admin_state_up=b|fixed_ips=a|mac_address=s|"
                 "security_groups=R|device_id=s255|device_owner=s255|allowed_address_pairs=A|"
                 "port_security_enabled=b|binding:host_id=s|binding:vnic_type=s|binding:profile=O|extra_dhcp_opts=A"},
        {"router", "name=s255|description=s255|admin_state_up=b|external_gateway_info=O|routes=A|distributed=b|ha=b|"
                   "availability_zone_hints=r"},
        {"floatingip", "floating_network_id=u|port_id=U|fixed_ip_address=S45|floating_ip_address=S45|description=s255|"
                       "subnet_id=U|dns_name=s|dns_domain=s"},
        {"security_group", "name=s255|description=s255|stateful=b"},
        {"address_scope", "name=s255|ip_version=n|shared=b"},
        /* protocol: a name or a number, checked by the handler; remote_group_id: any
         * string, an unknown one is Neutron's 404 SecurityGroupNotFound */
        {"security_group_rule", "security_group_id=u|direction=s|port_range_min=N|port_range_max=N|"
                                "ethertype=s|remote_ip_prefix=S|remote_group_id=S|description=s255"},
    };
    nerr e = {0};
    if (!attrs_ok(singular, in, r->method == EVHTTP_REQ_POST, &e)) {
        reply_nerr(r, &e);
        return -1;
    }
    for (size_t i = 0; i < sizeof vrules / sizeof vrules[0]; i++) {
        const cJSON *v = strcmp(vrules[i].res, singular) == 0 ? cJSON_GetObjectItemCaseSensitive(in, vrules[i].attr) : NULL;
        if (v != NULL && !vrule_ok(&vrules[i], v, &e)) {
            reply_nerr(r, &e);
            return -1;
        }
    }
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (strcmp(attrs[i].res, singular) == 0 && mc_check_or_reply(r, in, attrs[i].spec) != 0) return -1;
    /* tags: type:list_of_unique_strings, 255 */
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "tags"), *t, *u;
    if (tags != NULL && !cJSON_IsArray(tags)) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input for tags. Reason: '%s' is not a list.",
                       cJSON_IsString(tags) ? tags->valuestring : "tags");
        return -1;
    }
    cJSON_ArrayForEach(t, tags) {
        if (!cJSON_IsString(t) || strlen(t->valuestring) > 255) {
            mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input for tags. Reason: '%.64s' %s.",
                           cJSON_IsString(t) ? t->valuestring : "tag",
                           cJSON_IsString(t) ? "exceeds maximum length of 255" : "is not a valid string");
            return -1;
        }
        for (u = tags->child; u != t; u = u->next)
            if (strcmp(u->valuestring, t->valuestring) == 0) {
                mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input for tags. Reason: Duplicate items in the list: '%.64s'.", t->valuestring);
                return -1;
            }
    }
    return 0;
}

/* Tags given on create (the map lets POST set them). */
static void tags_apply(mc_record *rec, const cJSON *in) {
    const cJSON *tags = cJSON_GetObjectItemCaseSensitive(in, "tags");
    if (!cJSON_IsArray(tags) || cJSON_GetArraySize(tags) == 0) return;
    mc_json_set(rec->doc, "tags", cJSON_Duplicate(tags, 1));
    changed(rec);
}

/* The request's resource object: body[singular], or NULL after a 400. */
static cJSON *body_obj_or_reply(mc_req *r, const char *singular) {
    cJSON *o = mc_json_obj(r->body, singular);
    if (o == NULL) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Unable to find '%s' in request body", singular);
        return NULL;
    }
    return item_ok_or_reply(r, singular, o) == 0 ? o : NULL;
}

/* The owner of a new resource: the token's project, or the one an admin names. */
static const char *owner_or_reply(mc_req *r, const cJSON *in) {
    const char *proj = ctx_project(r);
    const char *want = mc_json_str(in, "project_id");
    const char *t = mc_json_str(in, "tenant_id");
    if (want && t && strcmp(want, t) != 0) {
        mc_reply_error(r, 400, "HTTPBadRequest", "'project_id' and 'tenant_id' do not match");
        return NULL;
    }
    if (!want) want = t;
    if (want == NULL || mc_str_eq(want, proj)) return proj;
    if (!ctx_admin(r)) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges");
        return NULL;
    }
    return want;
}

/* Keys a PUT may change, checked before anything is applied. */
static int only_keys_or_reply(mc_req *r, const cJSON *in, const char *const *allowed) {
    const cJSON *c;
    cJSON_ArrayForEach(c, in) {
        bool ok = false;
        for (const char *const *a = allowed; *a && !ok; a++) ok = strcmp(*a, c->string) == 0;
        if (!ok) {
            mc_reply_error(r, 400, "HTTPBadRequest", "Attribute '%s' not allowed in PUT", c->string);
            return -1;
        }
    }
    return 0;
}

static int set_str_or_reply(mc_req *r, cJSON *doc, const cJSON *in, const char *key, size_t max) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    if (v == NULL) return 0;
    if (cJSON_IsNull(v)) v = NULL;
    else if (!cJSON_IsString(v) || strlen(v->valuestring) > max) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input for %s. Reason: not a string of at most %zu characters.", key, max);
        return -1;
    }
    mc_json_set_str(doc, key, v ? v->valuestring : "");
    return 0;
}

static int set_bool_or_reply(mc_req *r, cJSON *doc, const cJSON *in, const char *key) {
    if (!mc_json_has(in, key)) return 0;
    nerr e;
    bool b;
    if (!body_bool(in, key, false, &b, &e)) {
        reply_nerr(r, &e);
        return -1;
    }
    mc_json_set(doc, key, cJSON_CreateBool(b));
    return 0;
}

/* ================================================================ REST: create (single and bulk) */

typedef mc_record *(*create_fn)(mc_req *r, const char *owner, const cJSON *in, nerr *e);
typedef void (*destroy_fn)(mc_server *srv, mc_record *rec);

static void create_generic(mc_req *r, const rdef *d, create_fn fn, destroy_fn undo) {
    cJSON *bulk = mc_json_arr(r->body, d->plural);
    nerr e = {0};
    if (bulk == NULL) {
        cJSON *in = body_obj_or_reply(r, d->singular);
        if (in == NULL) return;
        const char *owner = owner_or_reply(r, in);
        if (owner == NULL) return;
        mc_record *rec = fn(r, owner, in, &e);
        if (rec == NULL) {
            reply_nerr(r, &e);
            return;
        }
        tags_apply(rec, in);
        reply_one(r, d, rec, 201);
        return;
    }
    size_t n = (size_t)cJSON_GetArraySize(bulk), i = 0;
    mc_record **made = calloc(n + 1, sizeof *made);
    if (made == NULL) mc_panic("out of memory");
    const cJSON *in;
    cJSON_ArrayForEach(in, bulk) {   /* base.py prepares every item before creating any */
        if (!cJSON_IsObject(in)) {
            fail(&e, 400, "HTTPBadRequest", "Each %s in the bulk request must be an object.", d->singular);
            goto undo;
        }
        if (item_ok_or_reply(r, d->singular, in) != 0) goto undo_replied;
    }
    cJSON_ArrayForEach(in, bulk) {
        const char *owner = owner_or_reply(r, in);
        if (owner == NULL) goto undo_replied;
        made[i] = fn(r, owner, in, &e);
        if (made[i] == NULL) goto undo;
        tags_apply(made[i++], in);
    }
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, d->plural);
    for (size_t k = 0; k < i; k++) cJSON_AddItemToArray(arr, render(r, d, made[k]));
    free(made);
    mc_reply_json(r, 201, body);
    return;
undo:
    reply_nerr(r, &e);
undo_replied:
    while (i > 0) undo(r->srv, made[--i]);
    free(made);
}

/* ================================================================ REST: networks */

static mc_record *mk_network(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    return network_create(r->srv, owner, ctx_admin(r), in, e);
}

static void network_destroy(mc_server *srv, mc_record *net);

static void network_network_list(mc_req *r) { list_generic(r, &R_NET); }
static void network_network_create(mc_req *r) { create_generic(r, &R_NET, mk_network, network_destroy); }

static void network_network_show(mc_req *r) { show_generic(r, &R_NET); }

static void network_network_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "admin_state_up", "shared", "router:external",
                                          "port_security_enabled", "mtu", "dns_domain", "qos_policy_id", "is_default", NULL};
    mc_record *net = find_or_reply(r, &R_NET, r->params[0]);
    if (net == NULL) return;
    cJSON *in = body_obj_or_reply(r, "network");
    if (in == NULL || if_match_or_reply(r, net) || only_keys_or_reply(r, in, allowed)) return;
    if (!owned(net, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_network) is disallowed by policy");
        return;
    }
    if ((mc_json_has(in, "shared") || mc_json_has(in, "router:external")) && !ctx_admin(r)) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_network:shared) is disallowed by policy");
        return;
    }
    cJSON *mtu = cJSON_GetObjectItemCaseSensitive(in, "mtu");
    if (mtu != NULL && (!cJSON_IsNumber(mtu) || mtu->valuedouble < 68 || mtu->valuedouble > 9000)) {
        mc_reply_error(r, 400, "InvalidInput", "Invalid input for mtu. Reason: must be an integer between 68 and 9000.");
        return;
    }
    cJSON *next = cJSON_Duplicate(net->doc, 1);
    if (set_str_or_reply(r, next, in, "name", 255) || set_str_or_reply(r, next, in, "description", 255) ||
        set_str_or_reply(r, next, in, "dns_domain", 255) || set_bool_or_reply(r, next, in, "admin_state_up") ||
        set_bool_or_reply(r, next, in, "shared") || set_bool_or_reply(r, next, in, "router:external") ||
        set_bool_or_reply(r, next, in, "port_security_enabled") || set_bool_or_reply(r, next, in, "is_default")) {
        cJSON_Delete(next);
        return;
    }
    if (mtu) mc_json_set(next, "mtu", cJSON_CreateNumber(mtu->valuedouble));
    cJSON_Delete(net->doc);
    net->doc = next;
    net_flags_sync(net);
    touch(net);
    reply_one(r, &R_NET, net, 200);
}

static void network_destroy(mc_server *srv, mc_record *net) {
    cJSON *it = cJSON_GetObjectItemCaseSensitive(net->doc, "subnets")->child;
    while (it != NULL) {
        mc_record *s = subnet_of(srv, it->valuestring);
        it = it->next;
        if (s) del_record(srv, MC_K_SUBNET, s);
    }
    del_record(srv, MC_K_NETWORK, net);
}

static void network_network_delete(mc_req *r) {
    mc_server *srv = r->srv;
    mc_record *net = find_or_reply(r, &R_NET, r->params[0]);
    if (net == NULL) return;
    if (!owned(net, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:delete_network) is disallowed by policy");
        return;
    }
    for (mc_record *p = net_np(srv, net)->first; p; p = PP(p)->net_next) {
        if (mc_str_eq(mc_json_str(p->doc, "device_owner"), "network:dhcp")) continue;
        if (mc_str_eq(mc_json_str(p->doc, "device_owner"), "network:floatingip")) {
            /* unassociated floating IPs go with their network, associated ones hold it */
            mc_record *f = mc_store_find(W(srv, MC_K_FLOATINGIP), mc_json_str(p->doc, "device_id"));
            if (f == NULL || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(f->doc, "port_id"))) continue;
        }
        mc_reply_error(r, 409, "NetworkInUse", "Unable to complete operation on network %s. There are one or more ports still in use on the network.", net->id);
        return;
    }
    /* auto-deleted: DHCP ports and unassociated floating IPs */
    mc_record *f, *ft;
    HASH_ITER(hh, W(srv, MC_K_FLOATINGIP)->head, f, ft)
        if (mc_str_eq(mc_json_str(f->doc, "floating_network_id"), net->id)) fip_destroy(srv, f);
    for (mc_record *p = net_np(srv, net)->first, *next; p != NULL; p = next) {
        next = PP(p)->net_next;
        port_destroy(srv, p);
    }
    network_destroy(srv, net);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: subnets */

static mc_record *mk_subnet(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    /* the caller's project decides visibility; an admin's subnet goes to 'owner' */
    cJSON *b = cJSON_Duplicate(in, 1);
    if (!mc_str_eq(owner, ctx_project(r))) mc_json_set_str(b, "project_id", owner);
    mc_record *s = subnet_create(r->srv, ctx_project(r), ctx_admin(r), b, e);
    cJSON_Delete(b);
    return s;
}

static void subnet_remove(mc_server *srv, mc_record *s) {
    mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), mc_json_str(s->doc, "network_id"));
    if (net != NULL) {
        cJSON *arr = cJSON_GetObjectItemCaseSensitive(net->doc, "subnets");
        int i = 0;
        cJSON *x;
        cJSON_ArrayForEach(x, arr) {
            if (strcmp(x->valuestring, s->id) == 0) {
                cJSON_DeleteItemFromArray(arr, i);
                changed(net);
                break;
            }
            i++;
        }
    }
    del_record(srv, MC_K_SUBNET, s);
}

static void network_subnet_list(mc_req *r) { list_generic(r, &R_SUBNET); }
static void network_subnet_create(mc_req *r) { create_generic(r, &R_SUBNET, mk_subnet, subnet_remove); }

static void network_subnet_show(mc_req *r) { show_generic(r, &R_SUBNET); }

static void network_subnet_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "gateway_ip", "enable_dhcp", "dns_nameservers",
                                          "host_routes", "allocation_pools", "service_types", "dns_publish_fixed_ip", NULL};
    mc_record *s = find_or_reply(r, &R_SUBNET, r->params[0]);
    if (s == NULL) return;
    cJSON *in = body_obj_or_reply(r, "subnet");
    if (in == NULL || if_match_or_reply(r, s) || only_keys_or_reply(r, in, allowed)) return;
    if (!owned(s, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_subnet) is disallowed by policy");
        return;
    }
    subnet_priv *sp = SP(s);
    nerr e = {0};
    cJSON *next = cJSON_Duplicate(s->doc, 1);
    if (set_str_or_reply(r, next, in, "name", 255) || set_str_or_reply(r, next, in, "description", 255) ||
        set_bool_or_reply(r, next, in, "enable_dhcp") || set_bool_or_reply(r, next, in, "dns_publish_fixed_ip"))
        goto fail_replied;
    bool has_gw = true;
    u128 gw = 0;
    if (mc_json_has(in, "gateway_ip")) {
        const cJSON *g = cJSON_GetObjectItemCaseSensitive(in, "gateway_ip");
        if (cJSON_IsNull(g)) {
            has_gw = false;
            mc_json_set(next, "gateway_ip", cJSON_CreateNull());
        } else {
            ipaddr gi;
            u128 first, last;
            subnet_range(&sp->c, &first, &last);
            if (!cJSON_IsString(g) || !ip_parse(g->valuestring, &gi) || !cidr_contains(&sp->c, &gi) ||
                (sp->c.v == 4 && (gi.a < first || gi.a > last))) {
                fail(&e, 400, "InvalidInput", "Invalid input for operation: Gateway is not valid on subnet.");
                goto fail;
            }
            alloc_ent *a = alloc_find(s, gi.a);
            if (a != NULL) {
                mc_record *p = mc_store_find(W(r->srv, MC_K_PORT), a->port_id);
                if (p == NULL || !is_router_iface(mc_json_str(p->doc, "device_owner"))) {
                    fail(&e, 409, "GatewayIpInUse", "Gateway ip %s in use by port %s.", g->valuestring, a->port_id);
                    goto fail;
                }
            }
            gw = gi.a;
            mc_json_set_str(next, "gateway_ip", g->valuestring);
        }
    } else {
        has_gw = subnet_gateway(s, &gw);
    }
    const cJSON *pin = cJSON_GetObjectItemCaseSensitive(in, "allocation_pools");
    if (pin != NULL) {
        cJSON *pools = given_pools(pin, &sp->c, has_gw, gw, &e);
        if (pools == NULL) goto fail;
        mc_json_set(next, "allocation_pools", pools);
        sp->hint = 0;
    } else if (mc_json_has(in, "gateway_ip") && has_gw) {
        ipool ps[32];
        size_t np = subnet_pools(s, ps, 32);
        for (size_t i = 0; i < np; i++)
            if (gw >= ps[i].start && gw <= ps[i].end) {
                char g[64];
                ipaddr gi = {sp->c.v, gw};
                ip_fmt(&gi, g, sizeof g);
                fail(&e, 409, "GatewayConflictWithAllocationPools", "Gateway ip %s conflicts with allocation pool.", g);
                goto fail;
            }
    }
    const cJSON *din = cJSON_GetObjectItemCaseSensitive(in, "dns_nameservers");
    if (din != NULL) {
        cJSON *dns = cJSON_IsNull(din) ? cJSON_CreateArray() : nameservers(din, sp->c.v, &e);
        if (dns == NULL) goto fail;
        mc_json_set(next, "dns_nameservers", dns);
    }
    const cJSON *hin = cJSON_GetObjectItemCaseSensitive(in, "host_routes");
    if (hin != NULL) {
        cJSON *hr = cJSON_IsNull(hin) ? cJSON_CreateArray() : host_routes(hin, sp->c.v, &e);
        if (hr == NULL) goto fail;
        mc_json_set(next, "host_routes", hr);
    }
    cJSON_Delete(s->doc);
    s->doc = next;
    sp->hint = 0;   /* pools or gateway may have moved */
    touch(s);
    reply_one(r, &R_SUBNET, s, 200);
    return;
fail:
    reply_nerr(r, &e);
fail_replied:
    cJSON_Delete(next);
}

static void network_subnet_delete(mc_req *r) {
    mc_server *srv = r->srv;
    mc_record *s = find_or_reply(r, &R_SUBNET, r->params[0]);
    if (s == NULL) return;
    if (!owned(s, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:delete_subnet) is disallowed by policy");
        return;
    }
    if (SP(s)->nallocs > 0) {
        /* auto-address allocations of plain ports go with the subnet */
        alloc_ent *a, *t;
        HASH_ITER(hh, SP(s)->allocs, a, t) {
            mc_record *p = mc_store_find(W(srv, MC_K_PORT), a->port_id);
            if (p != NULL && (mc_str_eq(mc_json_str(p->doc, "device_owner"), "network:dhcp") ||
                              (subnet_is_v6_auto(s) && !is_router_iface(mc_json_str(p->doc, "device_owner")))))
                continue;
            mc_reply_error(r, 409, "SubnetInUse", "Unable to complete operation on subnet %s: One or more ports have an IP allocation from this subnet.", s->id);
            return;
        }
        HASH_ITER(hh, SP(s)->allocs, a, t) {
            mc_record *p = mc_store_find(W(srv, MC_K_PORT), a->port_id);
            if (p == NULL) continue;
            cJSON *fips = mc_json_arr(p->doc, "fixed_ips");
            int i = 0;
            cJSON *f;
            cJSON_ArrayForEach(f, fips) {
                if (mc_str_eq(mc_json_str(f, "subnet_id"), s->id)) {
                    cJSON_DeleteItemFromArray(fips, i);
                    break;
                }
                i++;
            }
            touch(p);
        }
    }
    subnet_remove(srv, s);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: ports */

static void fixed_ips_reserve(mc_server *srv, const cJSON *fixed_ips, const char *port_id) {
    const cJSON *f;
    cJSON_ArrayForEach(f, fixed_ips) {
        mc_record *s = subnet_of(srv, mc_json_str(f, "subnet_id"));
        ipaddr ip;
        if (s != NULL && ip_parse(mc_json_str(f, "ip_address"), &ip) && alloc_find(s, ip.a) == NULL) alloc_add(s, ip.a, port_id);
    }
}

static mc_record *mk_port(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    const char *net_id = mc_json_str(in, "network_id");
    if (net_id == NULL) return fail(e, 400, "HTTPBadRequest", "Failed to parse request. Required attribute 'network_id' not specified");
    mc_record *net = mc_store_find(W(r->srv, MC_K_NETWORK), net_id);
    if (net == NULL || !net_visible(net, ctx_project(r), ctx_admin(r)))
        return fail(e, 404, "NetworkNotFound", "Network %s could not be found.", net_id);
    if (!net_usable(net, ctx_project(r), ctx_admin(r)))
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_port and rule:create_port:network_id) is disallowed by policy");
    if (check_len(in, "device_id", 255, e) || check_len(in, "device_owner", 255, e)) return NULL;
    const cJSON *fixed = cJSON_GetObjectItemCaseSensitive(in, "fixed_ips");
    const cJSON *sgs = cJSON_GetObjectItemCaseSensitive(in, "security_groups");
    if ((mc_json_has(in, "binding:host_id") || mc_json_has(in, "binding:profile")) && !ctx_admin(r))
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_port and rule:create_port:binding:host_id) is disallowed by policy");
    port_spec ps = {
        .project = owner, .admin = ctx_admin(r), .net = net,
        .fixed_ips = (fixed && !cJSON_IsNull(fixed)) ? fixed : NULL,
        .device_id = mc_json_str(in, "device_id"), .device_owner = mc_json_str(in, "device_owner"),
        .security_groups = (sgs && !cJSON_IsNull(sgs)) ? sgs : NULL, .body = in,
    };
    return port_create(r->srv, &ps, e);
}

static void network_port_list(mc_req *r) { list_generic(r, &R_PORT); }
static void network_port_create(mc_req *r) { create_generic(r, &R_PORT, mk_port, port_destroy); }

static void network_port_show(mc_req *r) { show_generic(r, &R_PORT); }

static void network_port_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "admin_state_up", "device_id", "device_owner", "fixed_ips",
                                          "security_groups", "allowed_address_pairs", "port_security_enabled", "mac_address",
                                          "binding:host_id", "binding:profile", "binding:vnic_type", "extra_dhcp_opts",
                                          "dns_name", "qos_policy_id", "propagate_uplink_status", NULL};
    mc_server *srv = r->srv;
    mc_record *p = find_or_reply(r, &R_PORT, r->params[0]);
    if (p == NULL) return;
    cJSON *in = body_obj_or_reply(r, "port");
    if (in == NULL || if_match_or_reply(r, p) || only_keys_or_reply(r, in, allowed)) return;
    bool admin = ctx_admin(r);
    if (!owned(p, ctx_project(r), admin)) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_port) is disallowed by policy");
        return;
    }
    if ((mc_json_has(in, "mac_address") || mc_json_has(in, "binding:host_id") || mc_json_has(in, "binding:profile")) && !admin) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_port:mac_address) is disallowed by policy");
        return;
    }
    nerr e = {0};
    cJSON *next = cJSON_Duplicate(p->doc, 1);
    cJSON *newfixed = NULL;
    if (set_str_or_reply(r, next, in, "name", 255) || set_str_or_reply(r, next, in, "description", 255) ||
        set_str_or_reply(r, next, in, "device_id", 255) || set_str_or_reply(r, next, in, "device_owner", 255) ||
        set_str_or_reply(r, next, in, "dns_name", 255) || set_str_or_reply(r, next, in, "binding:host_id", 255) ||
        set_str_or_reply(r, next, in, "binding:vnic_type", 64) || set_bool_or_reply(r, next, in, "admin_state_up") ||
        set_bool_or_reply(r, next, in, "port_security_enabled") || set_bool_or_reply(r, next, in, "propagate_uplink_status"))
        goto fail_replied;
    const char *mac = mc_json_str(in, "mac_address");
    if (mac != NULL && !mc_str_eq(mac, mc_json_str(p->doc, "mac_address"))) {
        if (!mac_valid(mac)) {
            fail(&e, 400, "InvalidInput", "Invalid input for mac_address. Reason: '%s' is not a valid MAC address.", mac);
            goto fail;
        }
        if (mac_taken(srv, mac)) {
            fail(&e, 409, "MacAddressInUse", "Unable to complete operation for network %s. The mac address %s is in use.", jstr0(p->doc, "network_id"), mac);
            goto fail;
        }
        mc_json_set_str(next, "mac_address", mac);
    }
    bool psec = jbool(next, "port_security_enabled");
    if (mc_json_has(in, "security_groups")) {
        const cJSON *sgs = cJSON_GetObjectItemCaseSensitive(in, "security_groups");
        cJSON empty = {0};
        empty.type = cJSON_Array;
        port_spec ps = {.project = p->project_id, .admin = admin, .security_groups = cJSON_IsNull(sgs) ? &empty : sgs,
                        .device_owner = jstr0(next, "device_owner")};
        cJSON *ids = port_sgs(srv, &ps, psec, &e);
        if (ids == NULL) goto fail;
        mc_json_set(next, "security_groups", ids);
    } else if (!psec && cJSON_GetArraySize(mc_json_arr(next, "security_groups")) > 0) {
        fail(&e, 409, "PortSecurityPortHasSecurityGroup", "Port has security group associated. Cannot disable port security or IP address until security group is removed.");
        goto fail;
    }
    if (mc_json_has(in, "allowed_address_pairs")) {
        const cJSON *pin = cJSON_GetObjectItemCaseSensitive(in, "allowed_address_pairs");
        cJSON *pairs = cJSON_IsNull(pin) ? cJSON_CreateArray() : address_pairs(pin, jstr0(next, "mac_address"), &e);
        if (pairs == NULL) goto fail;
        mc_json_set(next, "allowed_address_pairs", pairs);
    }
    if (!psec && cJSON_GetArraySize(mc_json_arr(next, "allowed_address_pairs")) > 0) {
        fail(&e, 409, "AddressPairAndPortSecurityRequired", "Port Security must be enabled in order to have allowed address pairs on a port.");
        goto fail;
    }
    cJSON *prof = mc_json_obj(in, "binding:profile");
    if (prof) mc_json_set(next, "binding:profile", cJSON_Duplicate(prof, 1));
    cJSON *dhcp = mc_json_arr(in, "extra_dhcp_opts");
    if (dhcp) mc_json_set(next, "extra_dhcp_opts", cJSON_Duplicate(dhcp, 1));
    if (mc_json_has(in, "fixed_ips")) {
        mc_record *net = mc_store_find(W(srv, MC_K_NETWORK), jstr0(p->doc, "network_id"));
        cJSON *old = mc_json_arr(p->doc, "fixed_ips");
        fixed_ips_release(srv, old);
        bool router_port = is_router_iface(jstr0(next, "device_owner"));
        newfixed = net ? ipam_allocate(srv, net, mc_json_arr(in, "fixed_ips"), p->id, jstr0(next, "mac_address"), router_port, &e)
                       : NULL;
        if (newfixed == NULL) {
            fixed_ips_reserve(srv, old, p->id);
            if (net == NULL) fail(&e, 404, "NetworkNotFound", "Network could not be found.");
            goto fail;
        }
        mc_json_set(next, "fixed_ips", newfixed);
    }
    if (mac != NULL && !mc_str_eq(mac, mc_json_str(p->doc, "mac_address"))) {
        mac_del(srv, mc_json_str(p->doc, "mac_address"));
        mac_add(srv, mac);
    }
    char newdev[256];
    mc_strlcpy(newdev, jstr0(next, "device_id"), sizeof newdev);
    port_set_device(srv, p, newdev);
    cJSON_Delete(p->doc);
    p->doc = next;
    touch(p);
    reply_one(r, &R_PORT, p, 200);
    return;
fail:
    reply_nerr(r, &e);
fail_replied:
    cJSON_Delete(next);
}

static void network_port_delete(mc_req *r) {
    mc_record *p = find_or_reply(r, &R_PORT, r->params[0]);
    if (p == NULL) return;
    if (!owned(p, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:delete_port) is disallowed by policy");
        return;
    }
    const char *owner = jstr0(p->doc, "device_owner");
    if (is_router_iface(owner) && !ctx_admin(r)) {
        mc_reply_error(r, 409, "L3PortInUse", "Port %s has owner %s and therefore cannot be deleted directly via the port API.", p->id, owner);
        return;
    }
    port_destroy(r->srv, p);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: routers */

static mc_record *mk_router(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    /* policy: create_router:distributed and create_router:ha are admin_only */
    if (!ctx_admin(r) && (mc_json_has(in, "distributed") || mc_json_has(in, "ha")))
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_router and rule:create_router:%s) is disallowed by policy",
                    mc_json_has(in, "distributed") ? "distributed" : "ha");
    return router_create(r->srv, owner, ctx_admin(r), in, e);
}

static void router_undo(mc_server *srv, mc_record *router) {
    nerr e;
    router_delete(srv, router, &e);
}

static void network_router_list(mc_req *r) { list_generic(r, &R_ROUTER); }
static void network_router_create(mc_req *r) { create_generic(r, &R_ROUTER, mk_router, router_undo); }

static void network_router_show(mc_req *r) { show_generic(r, &R_ROUTER); }

static cJSON *routes_validate(mc_server *srv, mc_record *router, const cJSON *in, nerr *e) {
    if (!cJSON_IsArray(in)) return fail(e, 400, "InvalidInput", "Invalid input for routes. Reason: must be a list.");
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, in) {
        cidr c;
        ipaddr hop;
        const char *d = mc_json_str(x, "destination"), *h = mc_json_str(x, "nexthop");
        if (!cidr_parse(d, &c, false) || !ip_parse(h, &hop)) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidInput", "Invalid input for routes. Reason: Invalid data format for hostroute: '%s'.", d ? d : "None");
        }
        /* the nexthop must be on a subnet the router is connected to */
        bool reach = false;
        size_t np;
        mc_record **ports = device_ports(srv, router->id, &np);
        for (size_t pi = 0; pi < np && !reach; pi++) {
            mc_record *p = ports[pi];
            cJSON *f;
            cJSON_ArrayForEach(f, mc_json_arr(p->doc, "fixed_ips")) {
                mc_record *s = subnet_of(srv, mc_json_str(f, "subnet_id"));
                if (s && cidr_contains(&SP(s)->c, &hop)) reach = true;
            }
        }
        free(ports);
        if (!reach) {
            cJSON_Delete(out);
            return fail(e, 400, "InvalidRoutes", "Invalid format for routes: %s, the nexthop is not connected with router.", d);
        }
        cJSON *o = cJSON_CreateObject();
        char cs[80];
        cidr_fmt(&c, cs, sizeof cs);
        cJSON_AddStringToObject(o, "destination", cs);
        cJSON_AddStringToObject(o, "nexthop", h);
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static void network_router_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "admin_state_up", "external_gateway_info", "routes",
                                          "distributed", "ha", NULL};
    mc_record *x = find_or_reply(r, &R_ROUTER, r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "router");
    if (in == NULL || if_match_or_reply(r, x) || only_keys_or_reply(r, in, allowed)) return;
    if (!ctx_admin(r) && (mc_json_has(in, "distributed") || mc_json_has(in, "ha"))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_router and rule:update_router:%s) is disallowed by policy",
                       mc_json_has(in, "distributed") ? "distributed" : "ha");
        return;
    }
    nerr e = {0};
    /* l3_dvr_db: 'distributed' (and l3_hamode_db: 'ha') change only on a router that is down */
    static const char *const migr[] = {"distributed", "ha"};
    for (size_t i = 0; i < 2; i++) {
        bool want;
        if (!mc_json_has(in, migr[i]) || !body_bool(in, migr[i], false, &want, &e) || want == jbool(x->doc, migr[i])) continue;
        if (jbool(x->doc, "admin_state_up")) {
            if (i == 0)
                mc_reply_error(r, 400, "BadRequest", "Bad router request: Cannot change the 'distributed' attribute of active routers. Please set router admin_state_up to False prior to upgrade");
            else
                mc_reply_error(r, 400, "BadRequest", "Bad router request: Cannot change HA attribute of active routers. Please set router admin_state_up to False prior to upgrade");
            return;
        }
    }
    cJSON *routes = NULL;
    if (mc_json_has(in, "routes")) {
        const cJSON *rin = cJSON_GetObjectItemCaseSensitive(in, "routes");
        routes = cJSON_IsNull(rin) ? cJSON_CreateArray() : routes_validate(r->srv, x, rin, &e);
        if (routes == NULL) {
            reply_nerr(r, &e);
            return;
        }
    }
    cJSON *next = cJSON_Duplicate(x->doc, 1);
    if (set_str_or_reply(r, next, in, "name", 255) || set_str_or_reply(r, next, in, "description", 255) ||
        set_bool_or_reply(r, next, in, "admin_state_up") || set_bool_or_reply(r, next, in, "distributed") ||
        set_bool_or_reply(r, next, in, "ha")) {
        cJSON_Delete(next);
        cJSON_Delete(routes);
        return;
    }
    if (routes) mc_json_set(next, "routes", routes);
    if (mc_json_has(in, "external_gateway_info")) {
        /* the gateway changes the stored doc: apply on the record, then merge */
        if (router_set_gateway(r->srv, x, cJSON_GetObjectItemCaseSensitive(in, "external_gateway_info"), ctx_admin(r), &e) != 0) {
            cJSON_Delete(next);
            reply_nerr(r, &e);
            return;
        }
        mc_json_set(next, "external_gateway_info", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(x->doc, "external_gateway_info"), 1));
    }
    cJSON_Delete(x->doc);
    x->doc = next;
    touch(x);
    reply_one(r, &R_ROUTER, x, 200);
}

static void network_router_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_ROUTER, r->params[0]);
    if (x == NULL) return;
    nerr e = {0};
    if (router_delete(r->srv, x, &e) != 0) {
        reply_nerr(r, &e);
        return;
    }
    mc_reply_json(r, 204, NULL);
}

static void network_router_add_iface(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_ROUTER, r->params[0]);
    if (x == NULL) return;
    if (!cJSON_IsObject(r->body)) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Bad router request: a JSON object is required.");
        return;    }
    if (mc_check_or_reply(r, r->body, "subnet_id=s|port_id=s") != 0) return;
    nerr e = {0};
    mc_record *port = router_add_iface(r->srv, x, ctx_project(r), ctx_admin(r), r->body, &e);
    if (port == NULL) {
        reply_nerr(r, &e);
        return;
    }
    mc_reply_json(r, 200, iface_info(x, port));
}

static void network_router_remove_iface(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_ROUTER, r->params[0]);
    if (x == NULL) return;
    if (!cJSON_IsObject(r->body)) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Bad router request: a JSON object is required.");
        return;    }
    if (mc_check_or_reply(r, r->body, "subnet_id=s|port_id=s") != 0) return;
    nerr e = {0};
    cJSON *info = router_remove_iface(r->srv, x, r->body, &e);
    if (info == NULL) {
        reply_nerr(r, &e);
        return;
    }
    mc_reply_json(r, 200, info);
}

static void network_router_routes(mc_req *r, bool add) {
    mc_record *x = find_or_reply(r, &R_ROUTER, r->params[0]);
    if (x == NULL) return;
    cJSON *in = mc_json_obj(r->body, "router");
    nerr e = {0};
    cJSON *rs = in ? routes_validate(r->srv, x, mc_json_arr(in, "routes"), &e) : NULL;
    if (rs == NULL) {
        if (in == NULL) fail(&e, 400, "HTTPBadRequest", "Unable to find 'router' in request body");
        reply_nerr(r, &e);
        return;
    }
    cJSON *cur = cJSON_GetObjectItemCaseSensitive(x->doc, "routes");
    cJSON *o;
    cJSON_ArrayForEach(o, rs) {
        int idx = -1, i = 0;
        cJSON *c;
        cJSON_ArrayForEach(c, cur) {
            if (cJSON_Compare(c, o, true)) idx = i;
            i++;
        }
        if (add && idx < 0) cJSON_AddItemToArray(cur, cJSON_Duplicate(o, 1));
        if (!add && idx >= 0) cJSON_DeleteItemFromArray(cur, idx);
    }
    cJSON_Delete(rs);
    touch(x);
    reply_one(r, &R_ROUTER, x, 200);
}

static void network_router_add_routes(mc_req *r) { network_router_routes(r, true); }
static void network_router_remove_routes(mc_req *r) { network_router_routes(r, false); }

/* ================================================================ REST: floating IPs */

static mc_record *mk_fip(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    return fip_create(r->srv, owner, ctx_admin(r), in, e);
}

static void network_fip_list(mc_req *r) { list_generic(r, &R_FIP); }
static void network_fip_create(mc_req *r) { create_generic(r, &R_FIP, mk_fip, fip_destroy); }

static void network_fip_show(mc_req *r) { show_generic(r, &R_FIP); }

static void network_fip_update(mc_req *r) {
    static const char *const allowed[] = {"port_id", "fixed_ip_address", "description", "qos_policy_id", NULL};
    mc_record *f = find_or_reply(r, &R_FIP, r->params[0]);
    if (f == NULL) return;
    cJSON *in = body_obj_or_reply(r, "floatingip");
    if (in == NULL || if_match_or_reply(r, f) || only_keys_or_reply(r, in, allowed)) return;
    if (mc_json_has(in, "description")) {
        if (set_str_or_reply(r, f->doc, in, "description", 255)) return;
        touch(f);
    }
    if (mc_json_has(in, "port_id")) {
        nerr e = {0};
        if (fip_associate(r->srv, f, cJSON_GetObjectItemCaseSensitive(in, "port_id"),
                          cJSON_GetObjectItemCaseSensitive(in, "fixed_ip_address"), ctx_project(r), ctx_admin(r), &e) != 0) {
            reply_nerr(r, &e);
            return;
        }
    }
    reply_one(r, &R_FIP, f, 200);
}

static void network_fip_delete(mc_req *r) {
    mc_record *f = find_or_reply(r, &R_FIP, r->params[0]);
    if (f == NULL) return;
    fip_destroy(r->srv, f);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: security groups and rules */

static mc_record *mk_sg(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    if (check_len(in, "name", 255, e) || check_len(in, "description", 255, e)) return NULL;
    mc_record *sg = sg_create(r->srv, owner, mc_json_str(in, "name"), mc_json_str(in, "description"), e);
    if (sg != NULL && mc_json_has(in, "stateful")) {
        bool st;
        if (body_bool(in, "stateful", true, &st, e)) mc_json_set(sg->doc, "stateful", cJSON_CreateBool(st));
        changed(sg);
    }
    return sg;
}

static void sg_undo(mc_server *srv, mc_record *sg) {
    nerr e;
    sg_delete(srv, sg, true, &e);
}

static void network_sg_list(mc_req *r) { list_generic(r, &R_SG); }
static void network_sg_create(mc_req *r) { create_generic(r, &R_SG, mk_sg, sg_undo); }

static void network_sg_show(mc_req *r) { show_generic(r, &R_SG); }

static void network_sg_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "stateful", NULL};
    mc_record *x = find_or_reply(r, &R_SG, r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "security_group");
    if (in == NULL || if_match_or_reply(r, x) || only_keys_or_reply(r, in, allowed)) return;
    const char *name = mc_json_str(in, "name");
    bool is_default = mc_str_eq(mc_json_str(x->doc, "name"), "default");
    if (name != NULL && is_default && strcmp(name, "default") != 0) {
        mc_reply_error(r, 400, "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed.");
        return;
    }
    if (name != NULL && !is_default && strcmp(name, "default") == 0) {
        mc_reply_error(r, 409, "SecurityGroupDefaultAlreadyExists", "Default security group already exists.");
        return;
    }
    cJSON *next = cJSON_Duplicate(x->doc, 1);
    if (set_str_or_reply(r, next, in, "name", 255) || set_str_or_reply(r, next, in, "description", 255) ||
        set_bool_or_reply(r, next, in, "stateful")) {
        cJSON_Delete(next);
        return;
    }
    cJSON_Delete(x->doc);
    x->doc = next;
    touch(x);
    reply_one(r, &R_SG, x, 200);
}

static void network_sg_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_SG, r->params[0]);
    if (x == NULL) return;
    nerr e = {0};
    if (sg_delete(r->srv, x, ctx_admin(r) && !owned(x, ctx_project(r), false), &e) != 0) {
        reply_nerr(r, &e);
        return;
    }
    mc_reply_json(r, 204, NULL);
}

static mc_record *mk_rule(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    (void)owner;
    return rule_create(r->srv, ctx_project(r), ctx_admin(r), in, e);
}

static void rule_undo(mc_server *srv, mc_record *rule) { mc_net_secgroup_rule_delete(srv, rule, NULL, NULL, 0); }

static void network_rule_list(mc_req *r) {
    if (!ctx_admin(r)) mc_net_secgroup_default(r->srv, ctx_project(r));
    list_generic(r, &R_RULE);
}
static void network_rule_create(mc_req *r) { create_generic(r, &R_RULE, mk_rule, rule_undo); }

static void network_rule_show(mc_req *r) { show_generic(r, &R_RULE); }

static void network_rule_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_RULE, r->params[0]);
    if (x == NULL) return;
    mc_net_secgroup_rule_delete(r->srv, x, NULL, NULL, 0);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: subnet pools */

static int pool_prefixlen(const cJSON *in, const char *key, long dflt, long max, long *out, nerr *e) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, key);
    if (v == NULL || cJSON_IsNull(v)) {
        *out = dflt;
        return 0;
    }
    if (cJSON_IsNumber(v)) *out = (long)v->valuedouble;
    else if (!cJSON_IsString(v) || !mc_parse_long(v->valuestring, 0, 128, out)) *out = -1;
    if (*out < 0 || *out > max) {
        fail(e, 400, "InvalidInput", "Invalid input for %s. Reason: must be an integer in [0, %ld].", key, max);
        return -1;
    }
    return 0;
}

static int scope_version(const cJSON *doc);

static mc_record *mk_pool(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    mc_server *srv = r->srv;
    if (check_len(in, "name", 255, e) || check_len(in, "description", 255, e)) return NULL;
    cJSON *pfx = mc_json_arr(in, "prefixes");
    if (pfx == NULL || cJSON_GetArraySize(pfx) == 0)
        return fail(e, 400, "InvalidInput", "Invalid input for prefixes. Reason: a non-empty list is required.");
    int v = 0;
    cJSON *norm = cJSON_CreateArray();
    const cJSON *x;
    cJSON_ArrayForEach(x, pfx) {
        cidr c;
        char txt[80];
        if (!cJSON_IsString(x) || !cidr_parse(x->valuestring, &c, false) || (v && c.v != v)) {
            cJSON_Delete(norm);
            return fail(e, 400, "InvalidInput", "Invalid input for prefixes. Reason: '%s' is not a valid IP subnet.", cJSON_IsString(x) ? x->valuestring : "None");
        }
        v = c.v;
        cidr_fmt(&c, txt, sizeof txt);
        cJSON_AddItemToArray(norm, cJSON_CreateString(txt));
    }
    long maxbits = v == 4 ? 32 : 128, minp, maxp, dflt;
    if (pool_prefixlen(in, "min_prefixlen", v == 4 ? 8 : 64, maxbits, &minp, e) ||
        pool_prefixlen(in, "max_prefixlen", maxbits, maxbits, &maxp, e) ||
        pool_prefixlen(in, "default_prefixlen", minp, maxbits, &dflt, e)) {
        cJSON_Delete(norm);
        return NULL;
    }
    if (minp > maxp || dflt < minp || dflt > maxp) {
        cJSON_Delete(norm);
        return fail(e, 400, "IllegalSubnetPoolPrefixBounds", "Illegal prefix bounds: prefix_type=default_prefixlen, prefixlen=%ld, base_prefix_type=min_prefixlen, base_prefixlen=%ld.", dflt, minp);
    }
    bool shared, is_default;
    if (!body_bool(in, "shared", false, &shared, e) || !body_bool(in, "is_default", false, &is_default, e)) {
        cJSON_Delete(norm);
        return NULL;
    }
    if ((shared || is_default) && !ctx_admin(r)) {
        cJSON_Delete(norm);
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_subnetpool:shared) is disallowed by policy");
    }
    if (quota_check(srv, owner, MC_K_SUBNETPOOL, 1, e) != 0) {
        cJSON_Delete(norm);
        return NULL;
    }
    char id[37];
    mc_uuid(srv, id);
    cJSON *d = std_doc(id, owner);
    cJSON_AddStringToObject(d, "name", jstr0(in, "name"));
    if (mc_json_str(in, "description")) mc_json_set_str(d, "description", mc_json_str(in, "description"));
    cJSON_AddItemToObject(d, "prefixes", norm);
    cJSON_AddNumberToObject(d, "ip_version", v);
    cJSON_AddNumberToObject(d, "min_prefixlen", (double)minp);
    cJSON_AddNumberToObject(d, "max_prefixlen", (double)maxp);
    cJSON_AddNumberToObject(d, "default_prefixlen", (double)dflt);
    cJSON_AddBoolToObject(d, "shared", shared);
    cJSON_AddBoolToObject(d, "is_default", is_default);
    const char *scope_id = mc_json_str(in, "address_scope_id");
    if (scope_id != NULL) {
        mc_record *scope = mc_store_find(W(srv, MC_K_ADDRESS_SCOPE), scope_id);
        if (scope == NULL || !(owned(scope, ctx_project(r), ctx_admin(r)) || jbool(scope->doc, "shared"))) {
            cJSON_Delete(d);
            return fail(e, 404, "AddressScopeNotFound", "Address scope %.64s could not be found.", scope_id);
        }
        if (scope_version(scope->doc) != v) {
            cJSON_Delete(d);
            return fail(e, 400, "IllegalSubnetPoolIpVersionAssociationWithAddressScope",
                        "Illegal subnetpool association: subnetpool %s cannot associate with address scope %s "
                        "because subnetpool ip_version is not %d.", id, scope->id, scope_version(scope->doc));
        }
        cJSON_AddStringToObject(d, "address_scope_id", scope->id);
    } else {
        cJSON_AddNullToObject(d, "address_scope_id");
    }
    cJSON_AddNullToObject(d, "default_quota");
    return new_record(srv, MC_K_SUBNETPOOL, id, owner, d);
}

static void pool_undo(mc_server *srv, mc_record *p) { del_record(srv, MC_K_SUBNETPOOL, p); }

static void network_pool_list(mc_req *r) { list_generic(r, &R_POOL); }
static void network_pool_create(mc_req *r) { create_generic(r, &R_POOL, mk_pool, pool_undo); }

static void network_pool_show(mc_req *r) { show_generic(r, &R_POOL); }

static void network_pool_update(mc_req *r) {
    static const char *const allowed[] = {"name", "description", "prefixes", "min_prefixlen", "max_prefixlen",
                                          "default_prefixlen", "is_default", "default_quota", "address_scope_id", NULL};
    mc_record *x = find_or_reply(r, &R_POOL, r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "subnetpool");
    if (in == NULL || if_match_or_reply(r, x) || only_keys_or_reply(r, in, allowed)) return;
    if (!owned(x, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_subnetpool) is disallowed by policy");
        return;
    }
    /* validate through a merged create body */
    cJSON *merged = cJSON_Duplicate(x->doc, 1);
    const cJSON *c;
    cJSON_ArrayForEach(c, in) mc_json_set(merged, c->string, cJSON_Duplicate(c, 1));
    if (mc_json_has(in, "prefixes")) {
        /* prefixes can only grow */
        const cJSON *old;
        cJSON_ArrayForEach(old, mc_json_arr(x->doc, "prefixes")) {
            cidr oc;
            bool covered = false;
            cidr_parse(old->valuestring, &oc, false);
            const cJSON *nw;
            cJSON_ArrayForEach(nw, mc_json_arr(in, "prefixes")) {
                cidr nc;
                if (cJSON_IsString(nw) && cidr_parse(nw->valuestring, &nc, false) && nc.v == oc.v && nc.plen <= oc.plen &&
                    (oc.net & ~host_mask(nc.v, nc.plen)) == nc.net)
                    covered = true;
            }
            if (!covered) {
                cJSON_Delete(merged);
                mc_reply_error(r, 400, "IllegalSubnetPoolPrefixUpdate", "Illegal update to prefixes: %s is not covered.", old->valuestring);
                return;
            }
        }
    }
    nerr e = {0};
    mc_json_set(merged, "shared", cJSON_CreateBool(false));
    if (!ctx_admin(r)) mc_json_set(merged, "is_default", cJSON_CreateBool(false));
    mc_record *tmp = mk_pool(r, x->project_id, merged, &e);
    cJSON_Delete(merged);
    if (tmp == NULL) {
        reply_nerr(r, &e);
        return;
    }
    static const char *const keys[] = {"name", "description", "prefixes", "min_prefixlen", "max_prefixlen", "default_prefixlen", "is_default",
                                       "address_scope_id"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        mc_json_set(x->doc, keys[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(tmp->doc, keys[i]), 1));
    del_record(r->srv, MC_K_SUBNETPOOL, tmp);
    touch(x);
    reply_one(r, &R_POOL, x, 200);
}

static void network_pool_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_POOL, r->params[0]);
    if (x == NULL) return;
    for (mc_record *s = mc_store_first(W(r->srv, MC_K_SUBNET)); s; s = mc_store_next(s))
        if (mc_str_eq(mc_json_str(s->doc, "subnetpool_id"), x->id)) {
            mc_reply_error(r, 409, "SubnetPoolInUse", "Subnet pool %s cannot be deleted: it has subnets.", x->id);
            return;
        }
    del_record(r->srv, MC_K_SUBNETPOOL, x);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: quotas */

static bool project_known(mc_server *srv, const char *id) { return mc_store_find(W(srv, MC_K_PROJECT), id) != NULL; }

static cJSON *quota_body(mc_server *srv, const char *project, int mode /* 0 limits, 1 defaults, 2 details */) {
    cJSON *q = cJSON_CreateObject();
    for (size_t i = 0; i < NQUOTAS; i++) {
        long lim = mode == 1 ? quota_defs[i].dflt : quota_limit(srv, project, &quota_defs[i]);
        if (mode == 2) {
            cJSON *o = cJSON_AddObjectToObject(q, quota_defs[i].resource);
            cJSON_AddNumberToObject(o, "limit", (double)lim);
            cJSON_AddNumberToObject(o, "used", (double)quota_used(srv, project, quota_defs[i].kind));
            cJSON_AddNumberToObject(o, "reserved", 0);
        } else {
            cJSON_AddNumberToObject(q, quota_defs[i].resource, (double)lim);
        }
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "quota", q);
    return b;
}

static int quota_target_or_reply(mc_req *r, const char *id) {
    if (!ctx_admin(r) && !mc_str_eq(id, ctx_project(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:get_quota) is disallowed by policy");
        return -1;
    }
    return 0;
}

static void network_quota_list(mc_req *r) {
    cJSON *body = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(body, "quotas");
    for (mc_record *q = mc_store_first(W(r->srv, MC_K_QUOTA)); q; q = mc_store_next(q)) {
        cJSON *b = quota_body(r->srv, q->id, 0);
        cJSON *o = cJSON_DetachItemFromObjectCaseSensitive(b, "quota");
        cJSON_AddStringToObject(o, "tenant_id", q->id);
        cJSON_AddStringToObject(o, "project_id", q->id);
        cJSON_AddItemToArray(arr, o);
        cJSON_Delete(b);
    }
    mc_reply_json(r, 200, body);
}

static void network_quota_show(mc_req *r) {
    if (quota_target_or_reply(r, r->params[0]) == 0) mc_reply_json(r, 200, quota_body(r->srv, r->params[0], 0));
}
static void network_quota_default(mc_req *r) {
    if (quota_target_or_reply(r, r->params[0]) == 0) mc_reply_json(r, 200, quota_body(r->srv, r->params[0], 1));
}
static void network_quota_details(mc_req *r) {
    if (quota_target_or_reply(r, r->params[0]) == 0) mc_reply_json(r, 200, quota_body(r->srv, r->params[0], 2));
}

static void network_quota_update(mc_req *r) {
    const char *id = r->params[0];
    cJSON *in = body_obj_or_reply(r, "quota");
    if (in == NULL) return;
    if (!project_known(r->srv, id) && !mc_is_uuid(id)) {
        mc_reply_error(r, 400, "InvalidInput", "Invalid input for operation: project %s is not a valid project id.", id);
        return;
    }
    const cJSON *c;
    cJSON_ArrayForEach(c, in) {
        bool known = false;
        for (size_t i = 0; i < NQUOTAS; i++) known = known || strcmp(quota_defs[i].resource, c->string) == 0;
        if (strcmp(c->string, "force") == 0 || strcmp(c->string, "check_limit") == 0) continue;
        if (!known) {
            mc_reply_error(r, 400, "InvalidInput", "Invalid input for operation: unrecognized quota resource '%s'.", c->string);
            return;
        }
        long v;
        if (!(cJSON_IsNumber(c) && c->valuedouble >= -1 && c->valuedouble == (long)c->valuedouble) &&
            !(cJSON_IsString(c) && mc_parse_long(c->valuestring, -1, 1L << 40, &v))) {
            mc_reply_error(r, 400, "InvalidInput", "Invalid input for %s. Reason: must be an integer >= -1.", c->string);
            return;
        }
    }
    mc_record *q = mc_store_find(W(r->srv, MC_K_QUOTA), id);
    if (q == NULL) q = mc_store_add(W(r->srv, MC_K_QUOTA), id, id, cJSON_CreateObject());
    cJSON_ArrayForEach(c, in) {
        if (strcmp(c->string, "force") == 0 || strcmp(c->string, "check_limit") == 0) continue;
        long v = 0;
        if (cJSON_IsNumber(c)) v = (long)c->valuedouble;
        else mc_parse_long(c->valuestring, -1, 1L << 40, &v);
        mc_json_set(q->doc, c->string, cJSON_CreateNumber((double)v));
    }
    mc_reply_json(r, 200, quota_body(r->srv, id, 0));
}

static void network_quota_delete(mc_req *r) {
    mc_record *q = mc_store_find(W(r->srv, MC_K_QUOTA), r->params[0]);
    if (q) mc_store_delete(W(r->srv, MC_K_QUOTA), q);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: tags */

static mc_record *tag_target_or_reply(mc_req *r, const rdef **dp) {
    const rdef *d = rdef_by_collection(r->params[0]);
    if (d == NULL || d->kind == MC_K_SECGROUP_RULE) {
        mc_reply_error(r, 404, "HTTPNotFound", "The resource could not be found.");
        return NULL;
    }
    *dp = d;
    mc_record *rec = find_or_reply(r, d, r->params[1]);
    if (rec == NULL) return NULL;
    if (!owned(rec, ctx_project(r), ctx_admin(r)) && d->kind != MC_K_NETWORK) {
        reply_notfound(r, d, r->params[1]);
        return NULL;
    }
    return rec;
}

static bool tag_valid(const char *t) { return t != NULL && *t && strlen(t) <= 255 && strchr(t, ',') == NULL && strchr(t, '/') == NULL; }

static void reply_tags(mc_req *r, mc_record *rec, int status) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "tags", cJSON_Duplicate(mc_json_arr(rec->doc, "tags"), 1));
    mc_reply_json(r, status, b);
}

static void network_tags_list(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec) reply_tags(r, rec, 200);
}

static void network_tags_replace(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec == NULL) return;
    cJSON *tags = mc_json_arr(r->body, "tags");
    if (tags == NULL) {
        mc_reply_error(r, 400, "HTTPBadRequest", "Invalid input: a 'tags' list is required.");
        return;
    }
    cJSON *out = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, tags) {
        if (!cJSON_IsString(t) || !tag_valid(t->valuestring)) {
            cJSON_Delete(out);
            mc_reply_error(r, 400, "InvalidInput", "Invalid input for operation: invalid tag.");
            return;
        }
        if (!tag_in(out, t->valuestring, strlen(t->valuestring))) cJSON_AddItemToArray(out, cJSON_CreateString(t->valuestring));
    }
    mc_json_set(rec->doc, "tags", out);
    touch(rec);
    reply_tags(r, rec, 200);
}

static void network_tags_clear(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec == NULL) return;
    mc_json_set(rec->doc, "tags", cJSON_CreateArray());
    touch(rec);
    mc_reply_json(r, 204, NULL);
}

static int tag_index(mc_record *rec, const char *tag) {
    int i = 0;
    cJSON *x;
    cJSON_ArrayForEach(x, mc_json_arr(rec->doc, "tags")) {
        if (cJSON_IsString(x) && strcmp(x->valuestring, tag) == 0) return i;
        i++;
    }
    return -1;
}

static void network_tag_check(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec == NULL) return;
    if (tag_index(rec, r->params[2]) < 0) {
        mc_reply_error(r, 404, "TagNotFound", "Tag %s could not be found for %s %s.", r->params[2], d->singular, rec->id);
        return;
    }
    mc_reply_json(r, 204, NULL);
}

static void network_tag_add(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec == NULL) return;
    if (!tag_valid(r->params[2])) {
        mc_reply_error(r, 400, "InvalidInput", "Invalid input for operation: invalid tag.");
        return;
    }
    if (tag_index(rec, r->params[2]) < 0) {
        cJSON_AddItemToArray(mc_json_arr(rec->doc, "tags"), cJSON_CreateString(r->params[2]));
        touch(rec);
    }
    mc_reply_json(r, 201, NULL);
}

static void network_tag_delete(mc_req *r) {
    const rdef *d;
    mc_record *rec = tag_target_or_reply(r, &d);
    if (rec == NULL) return;
    int i = tag_index(rec, r->params[2]);
    if (i < 0) {
        mc_reply_error(r, 404, "TagNotFound", "Tag %s could not be found for %s %s.", r->params[2], d->singular, rec->id);
        return;
    }
    cJSON_DeleteItemFromArray(mc_json_arr(rec->doc, "tags"), i);
    touch(rec);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: versions, extensions */

static void network_versions(mc_req *r) {
    char url[512];
    mc_service_url(r->srv, "/network/v2.0/", url, sizeof url);
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "versions");
    cJSON *v = cJSON_CreateObject();
    cJSON_AddStringToObject(v, "id", "v2.0");
    cJSON_AddStringToObject(v, "status", "CURRENT");
    cJSON *links = cJSON_AddArrayToObject(v, "links");
    cJSON *l = cJSON_CreateObject();
    cJSON_AddStringToObject(l, "href", url);
    cJSON_AddStringToObject(l, "rel", "self");
    cJSON_AddItemToArray(links, l);
    cJSON_AddItemToArray(arr, v);
    mc_reply_json(r, 200, b);
}

static void network_resources(mc_req *r) {
    static const char *const res[][2] = {{"network", "networks"}, {"subnet", "subnets"}, {"subnetpool", "subnetpools"},
                                         {"port", "ports"}, {"router", "routers"}, {"floatingip", "floatingips"},
                                         {"security_group", "security-groups"}, {"security_group_rule", "security-group-rules"},
                                         {"quota", "quotas"}};
    char base[512], url[640];
    mc_service_url(r->srv, "/network/v2.0", base, sizeof base);
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "resources");
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", res[i][0]);
        cJSON_AddStringToObject(o, "collection", res[i][1]);
        cJSON *links = cJSON_AddArrayToObject(o, "links");
        cJSON *l = cJSON_CreateObject();
        snprintf(url, sizeof url, "%s/%s", base, res[i][1]);
        cJSON_AddStringToObject(l, "href", url);
        cJSON_AddStringToObject(l, "rel", "self");
        cJSON_AddItemToArray(links, l);
        cJSON_AddItemToArray(arr, o);
    }
    mc_reply_json(r, 200, b);
}

/* Exactly what this file implements, with Neutron's aliases and names. */
static const char *const extensions[][3] = {
    {"allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"},
    {"binding", "Port Binding", "Expose port bindings of a virtual port to external application"},
    {"external-net", "Neutron external network", "Adds external network attribute to network resource."},
    {"extra_dhcp_opt", "Neutron Extra DHCP options", "Extra options configuration for DHCP."},
    {"extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"},
    {"extraroute-atomic", "Atomically add/remove extra routes", "Edit extra routes of a router on server side by atomically adding/removing extra routes"},
    {"fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"},
    {"ext-gw-mode", "Neutron L3 Configurable external gateway mode", "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway"},
    {"router", "Neutron L3 Router", "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway."},
    {"network-ip-availability", "Network IP Availability", "Provides IP availability data for each network and subnet."},
    {"port-security", "Port Security", "Provides port security"},
    {"project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."},
    {"quotas", "Quota management support", "Expose functions for quotas management per project"},
    {"quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"},
    {"security-group", "security-group", "The security groups extension."},
    {"stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"},
    {"standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"},
    {"standard-attr-revisions", "Resource revision numbers", "This extension will display the revision number of neutron resources."},
    {"tag", "Tag support", "Enables to set tag on resources."},
    {"service-type", "Neutron Service Type Management", "API for retrieving service providers for Neutron advanced services"},
    {"standard-attr-tag", "Tag support for resources with standard attribute: port, subnet, subnetpool, network, security_group, router, floatingip", "Enables to set tag on resources with standard attribute."},
    {"standard-attr-timestamp", "Resource timestamps", "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes."},
    {"subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool"},
    {"default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."},
    {"pagination", "Pagination support", "Extension that indicates that pagination is enabled."},
    {"sorting", "Sorting support", "Extension that indicates that sorting is enabled."},
    {"fields", "Fields support", "Extension that indicates that fields is enabled."},
    {"revision-if-match", "If-Match constraints based on revision_number", "Extension indicating that If-Match based on revision_number is supported."},
    {"net-mtu", "Network MTU", "Provides MTU attribute for a network resource."},
    {"provider", "Provider Network", "Expose mapping of virtual networks to physical networks"},
    {"availability_zone", "Availability Zone", "The availability zone extension."},
    {"network_availability_zone", "Network Availability Zone", "Availability zone support for network."},
    {"router_availability_zone", "Router Availability Zone", "Availability zone support for router."},
    {"ip-substring-filtering", "IP address substring filtering", "Provides IP address substring filtering when listing ports"},
    {"multi-provider", "Multi Provider Network", "Expose mapping of virtual networks to multiple physical networks"},
    {"metering", "Neutron Metering", "Neutron Metering extension."},
    {"address-scope", "Address scope", "Address scopes extension."},
    {"agent", "agent", "The agent management extension."},
    {"dhcp_agent_scheduler", "DHCP Agent Scheduler", "Schedule networks among dhcp agents"},
    {"dvr", "Distributed Virtual Router", "Enables configuration of Distributed Virtual Routers."},
    {"l3-ha", "HA Router extension", "Adds HA capability to routers."},
    {"router-admin-state-down-before-update", "Enforce Router's Admin State Down Before Update Extension", "Ensure that the admin state of a router is down (admin_state_up=False) before updating the distributed attribute"},
    {"tag-ports-during-bulk-creation", "Tag Ports During Bulk Creation", "Allow to tag ports during bulk creation"},
};
#define NEXT (sizeof extensions / sizeof extensions[0])

static cJSON *ext_doc(size_t i) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "alias", extensions[i][0]);
    cJSON_AddStringToObject(o, "name", extensions[i][1]);
    cJSON_AddStringToObject(o, "description", extensions[i][2]);
    cJSON_AddStringToObject(o, "updated", "2013-01-20T00:00:00-00:00");
    cJSON_AddItemToObject(o, "links", cJSON_CreateArray());
    return o;
}

static void network_extension_list(mc_req *r) {
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "extensions");
    for (size_t i = 0; i < NEXT; i++) {
        if (mc_knob_has_word(r, MC_KNOB_NETWORK_HIDE_EXT, extensions[i][0])) continue;   /* HOOK */
        cJSON_AddItemToArray(arr, ext_doc(i));
    }
    mc_reply_json(r, 200, b);
}

static void network_extension_show(mc_req *r) {
    for (size_t i = 0; i < NEXT; i++) {
        if (strcmp(extensions[i][0], r->params[0]) == 0 &&
            !mc_knob_has_word(r, MC_KNOB_NETWORK_HIDE_EXT, extensions[i][0])) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddItemToObject(b, "extension", ext_doc(i));
            mc_reply_json(r, 200, b);
            return;
        }
    }
    mc_reply_error(r, 404, "HTTPNotFound", "Extension with alias %s does not exist", r->params[0]);
}

/* network-ip-availability: per network, the used/total IPs of its subnets. */
static cJSON *ip_availability(mc_server *srv, mc_record *net) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "network_id", net->id);
    cJSON_AddStringToObject(o, "network_name", jstr0(net->doc, "name"));
    cJSON_AddStringToObject(o, "tenant_id", net->project_id);
    cJSON_AddStringToObject(o, "project_id", net->project_id);
    cJSON *subs = cJSON_AddArrayToObject(o, "subnet_ip_availability");
    double used = 0, total = 0;
    FOREACH_NET_SUBNET(srv, net, it, s) {
        ipool ps[32];
        size_t np = subnet_pools(s, ps, 32);
        double t = 0;
        for (size_t i = 0; i < np; i++) t += (double)(ps[i].end - ps[i].start + 1);
        cJSON *x = cJSON_CreateObject();
        cJSON_AddStringToObject(x, "subnet_id", s->id);
        cJSON_AddStringToObject(x, "subnet_name", jstr0(s->doc, "name"));
        cJSON_AddStringToObject(x, "cidr", jstr0(s->doc, "cidr"));
        cJSON_AddNumberToObject(x, "ip_version", SP(s)->c.v);
        cJSON_AddNumberToObject(x, "used_ips", (double)SP(s)->nallocs);
        cJSON_AddNumberToObject(x, "total_ips", t);
        cJSON_AddItemToArray(subs, x);
        used += (double)SP(s)->nallocs;
        total += t;
    }
    cJSON_AddNumberToObject(o, "used_ips", used);
    cJSON_AddNumberToObject(o, "total_ips", total);
    return o;
}

static void network_ipavail_list(mc_req *r) {
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "network_ip_availabilities");
    for (mc_record *n = mc_store_first(W(r->srv, MC_K_NETWORK)); n; n = mc_store_next(n))
        if (ctx_admin(r) || owned(n, ctx_project(r), false)) cJSON_AddItemToArray(arr, ip_availability(r->srv, n));
    mc_reply_json(r, 200, b);
}

static void network_ipavail_show(mc_req *r) {
    mc_record *n = mc_store_find(W(r->srv, MC_K_NETWORK), r->params[0]);
    if (n == NULL || !(ctx_admin(r) || owned(n, ctx_project(r), false))) {
        reply_notfound(r, &R_NET, r->params[0]);
        return;
    }
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "network_ip_availability", ip_availability(r->srv, n));
    mc_reply_json(r, 200, b);
}

/* No advanced services: an empty service provider list. */
static void network_service_providers(mc_req *r) {
    cJSON *b = cJSON_CreateObject();
    cJSON_AddArrayToObject(b, "service_providers");
    mc_reply_json(r, 200, b);
}

/* Agents are not modelled: admins and members see an empty list. */
/* The agents of a one-node ML2/OVS deployment (admin only; others see an
 * empty list, as Neutron's policy filters them). They do not change. */
static const char *const agents[][4] = {
    /* id, agent_type, binary, topic */
    {"7c3a1f2e-5b4d-4e6f-8a9b-0c1d2e3f4a51", "DHCP agent", "neutron-dhcp-agent", "dhcp_agent"},
    {"7c3a1f2e-5b4d-4e6f-8a9b-0c1d2e3f4a52", "L3 agent", "neutron-l3-agent", "l3_agent"},
    {"7c3a1f2e-5b4d-4e6f-8a9b-0c1d2e3f4a53", "Open vSwitch agent", "neutron-openvswitch-agent", "N/A"},
    {"7c3a1f2e-5b4d-4e6f-8a9b-0c1d2e3f4a54", "Metadata agent", "neutron-metadata-agent", "N/A"},
};
#define NAGENTS (sizeof agents / sizeof agents[0])
#define DHCP_AGENT 0

static cJSON *agent_doc(size_t i) {
    cJSON *a = cJSON_CreateObject();
    cJSON_AddStringToObject(a, "id", agents[i][0]);
    cJSON_AddStringToObject(a, "agent_type", agents[i][1]);
    cJSON_AddStringToObject(a, "binary", agents[i][2]);
    cJSON_AddStringToObject(a, "topic", agents[i][3]);
    cJSON_AddStringToObject(a, "host", "mockcloud");
    cJSON_AddBoolToObject(a, "admin_state_up", true);
    cJSON_AddBoolToObject(a, "alive", true);
    cJSON_AddStringToObject(a, "availability_zone", i < 2 ? "nova" : "");
    cJSON_AddStringToObject(a, "created_at", "2026-01-01 00:00:00");
    cJSON_AddStringToObject(a, "started_at", "2026-01-01 00:00:00");
    cJSON_AddStringToObject(a, "heartbeat_timestamp", "2026-01-01 00:00:00");
    cJSON_AddNullToObject(a, "description");
    cJSON_AddItemToObject(a, "configurations", cJSON_CreateObject());
    cJSON_AddNullToObject(a, "resources_synced");
    return a;
}

static void network_agent_list(mc_req *r) {
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "agents");
    const char *type = mc_query(r, "agent_type");
    for (size_t i = 0; ctx_admin(r) && i < NAGENTS; i++)
        if (type == NULL || strcmp(type, agents[i][1]) == 0) cJSON_AddItemToArray(arr, agent_doc(i));
    mc_reply_json(r, 200, b);
}

static long agent_or_reply(mc_req *r, const char *id) {
    for (size_t i = 0; i < NAGENTS; i++)
        if (strcmp(agents[i][0], id) == 0 && ctx_admin(r)) return (long)i;
    mc_reply_error(r, 404, "AgentNotFound", "Agent %s could not be found.", id);
    return -1;
}

static void network_agent_show(mc_req *r) {
    long i = agent_or_reply(r, r->params[0]);
    if (i < 0) return;
    cJSON *b = cJSON_CreateObject();
    cJSON_AddItemToObject(b, "agent", agent_doc((size_t)i));
    mc_reply_json(r, 200, b);
}

/* dhcpagentscheduler: a network with a DHCP-enabled subnet is scheduled to
 * the DHCP agent unless removed; an admin may add or remove it. */
static bool net_on_dhcp(mc_server *srv, mc_record *net) {
    net_priv *np = net_np(srv, net);
    if (np->dhcp != 0) return np->dhcp > 0;
    FOREACH_NET_SUBNET(srv, net, it, sub)
        if (jbool(sub->doc, "enable_dhcp")) return true;
    return false;
}

static void network_dhcp_agents(mc_req *r) {
    mc_record *net = find_or_reply(r, &R_NET, r->params[0]);
    if (net == NULL) return;
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "agents");
    if (net_on_dhcp(r->srv, net)) cJSON_AddItemToArray(arr, agent_doc(DHCP_AGENT));
    mc_reply_json(r, 200, b);
}

static void network_agent_dhcp_networks(mc_req *r) {
    long i = agent_or_reply(r, r->params[0]);
    if (i < 0) return;
    cJSON *b = cJSON_CreateObject();
    cJSON *arr = cJSON_AddArrayToObject(b, "networks");
    for (mc_record *net = mc_store_first(W(r->srv, MC_K_NETWORK)); i == DHCP_AGENT && net; net = mc_store_next(net))
        if (net_on_dhcp(r->srv, net)) cJSON_AddItemToArray(arr, render(r, &R_NET, net));
    mc_reply_json(r, 200, b);
}

static void network_agent_dhcp_add(mc_req *r) {
    long i = agent_or_reply(r, r->params[0]);
    if (i < 0 || mc_check_or_reply(r, r->body, "network_id=s") != 0) return;
    const char *nid = mc_json_str(r->body, "network_id");
    mc_record *net = nid ? mc_store_find(W(r->srv, MC_K_NETWORK), nid) : NULL;
    if (net == NULL) {
        mc_reply_error(r, 404, "NetworkNotFound", "Network %s could not be found.", nid ? nid : "None");
        return;
    }
    if (i != DHCP_AGENT) {
        mc_reply_error(r, 404, "InvalidDHCPAgent", "Agent %s is not a valid DHCP Agent or has been disabled.", agents[i][0]);
        return;
    }
    if (net_on_dhcp(r->srv, net)) {
        mc_reply_error(r, 409, "NetworkHostedByDHCPAgent", "The network %s has been already hosted by the DHCP Agent %s.",
                       net->id, agents[i][0]);
        return;
    }
    net_np(r->srv, net)->dhcp = 1;
    mc_reply_json(r, 201, NULL);
}

static void network_agent_dhcp_remove(mc_req *r) {
    long i = agent_or_reply(r, r->params[0]);
    if (i < 0) return;
    mc_record *net = mc_store_find(W(r->srv, MC_K_NETWORK), r->params[1]);
    if (net == NULL || i != DHCP_AGENT || !net_on_dhcp(r->srv, net)) {
        mc_reply_error(r, 409, "NetworkNotHostedByDhcpAgent", "The network %s is not hosted by the DHCP agent %s.",
                       r->params[1], agents[i][0]);
        return;
    }
    net_np(r->srv, net)->dhcp = -1;
    mc_reply_json(r, 204, NULL);
}

/* GET /v2.0/availability_zones, which the availability_zone extension
 * advertised above promises (`openstack availability zone list` asks for it):
 * the one zone networks and routers are in, per resource, filtered by name,
 * resource and state as Neutron does. */
static void network_az_list(mc_req *r) {
    static const char *const res[] = {"network", "router"};
    const char *name = mc_query(r, "name"), *rs = mc_query(r, "resource"), *state = mc_query(r, "state");
    cJSON *b = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(b, "availability_zones");
    for (size_t i = 0; i < sizeof res / sizeof res[0]; i++) {
        if ((name && !mc_str_eq(name, "nova")) || (rs && !mc_str_eq(rs, res[i])) || (state && !mc_str_eq(state, "available")))
            continue;
        cJSON *z = cJSON_CreateObject();
        cJSON_AddStringToObject(z, "name", "nova");
        cJSON_AddStringToObject(z, "resource", res[i]);
        cJSON_AddStringToObject(z, "state", "available");
        cJSON_AddItemToArray(a, z);
    }
    mc_reply_json(r, 200, b);
}

/* ================================================================ REST: address scopes */

static int scope_version(const cJSON *doc) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, "ip_version");
    return cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
}

/* neutron/db/address_scope_db.py: a name, an IP version, shared set by an
 * admin and never unset; subnet pools of the same version join one through
 * their address_scope_id, and a scope with pools cannot be deleted. */
static mc_record *mk_scope(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    bool shared = false;
    if (!body_bool(in, "shared", false, &shared, e)) return NULL;
    if (shared && !ctx_admin(r))
        return fail(e, 403, "PolicyNotAuthorized", "(rule:create_address_scope and rule:create_address_scope:shared) "
                    "is disallowed by policy");
    char id[37];
    mc_uuid(r->srv, id);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "name", jstr0(in, "name"));
    cJSON_AddNumberToObject(d, "ip_version", scope_version(in));
    cJSON_AddBoolToObject(d, "shared", shared);
    cJSON_AddStringToObject(d, "project_id", owner);
    cJSON_AddStringToObject(d, "tenant_id", owner);
    return new_record(r->srv, MC_K_ADDRESS_SCOPE, id, owner, d);
}

static void scope_undo(mc_server *srv, mc_record *x) { del_record(srv, MC_K_ADDRESS_SCOPE, x); }

static void network_scope_list(mc_req *r) { list_generic(r, &R_SCOPE); }
static void network_scope_create(mc_req *r) { create_generic(r, &R_SCOPE, mk_scope, scope_undo); }
static void network_scope_show(mc_req *r) { show_generic(r, &R_SCOPE); }

static void network_scope_update(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_SCOPE, r->params[0]);
    if (x == NULL) return;
    cJSON *in = body_obj_or_reply(r, "address_scope");
    if (in == NULL) return;
    if (!owned(x, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_address_scope) is disallowed by policy");
        return;
    }
    nerr e = {0};
    bool shared = jbool(x->doc, "shared");
    if (!body_bool(in, "shared", shared, &shared, &e)) {
        reply_nerr(r, &e);
        return;
    }
    if (shared && !jbool(x->doc, "shared") && !ctx_admin(r)) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:update_address_scope and rule:update_address_scope:shared) "
                       "is disallowed by policy");
        return;
    }
    if (!shared && jbool(x->doc, "shared")) {
        mc_reply_error(r, 400, "AddressScopeUpdateError", "Unable to update address scope %s : Shared address scope "
                       "can't be unshared.", x->id);
        return;
    }
    if (mc_json_str(in, "name") != NULL) mc_json_set_str(x->doc, "name", mc_json_str(in, "name"));
    mc_json_set(x->doc, "shared", cJSON_CreateBool(shared));
    touch(x);
    reply_one(r, &R_SCOPE, x, 200);
}

static void network_scope_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_SCOPE, r->params[0]);
    if (x == NULL) return;
    if (!owned(x, ctx_project(r), ctx_admin(r))) {
        mc_reply_error(r, 403, "PolicyNotAuthorized", "(rule:delete_address_scope) is disallowed by policy");
        return;
    }
    for (mc_record *p = mc_store_first(W(r->srv, MC_K_SUBNETPOOL)); p; p = mc_store_next(p))
        if (mc_str_eq(mc_json_str(p->doc, "address_scope_id"), x->id)) {
            mc_reply_error(r, 409, "AddressScopeInUse", "Unable to complete operation on address scope %s. There "
                           "are one or more subnet pools in use on the address scope.", x->id);
            return;
        }
    del_record(r->srv, MC_K_ADDRESS_SCOPE, x);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ REST: metering (admin only) */

/* neutron/db/metering/metering_db.py: labels own rules; a rule may not
 * overlap another of its label with the same direction and 'excluded'. */
static mc_record *mk_mlabel(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    (void)e;
    char id[37];
    mc_uuid(r->srv, id);
    bool shared = false;
    body_bool(in, "shared", false, &shared, e);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "name", jstr0(in, "name"));
    cJSON_AddStringToObject(d, "description", jstr0(in, "description"));
    cJSON_AddBoolToObject(d, "shared", shared);
    cJSON_AddStringToObject(d, "project_id", owner);
    cJSON_AddStringToObject(d, "tenant_id", owner);
    return new_record(r->srv, MC_K_METERING_LABEL, id, owner, d);
}

static void mrule_undo(mc_server *srv, mc_record *x) { del_record(srv, MC_K_METERING_RULE, x); }

static void mlabel_undo(mc_server *srv, mc_record *label) {
    mc_record *x = mc_store_first(W(srv, MC_K_METERING_RULE));
    while (x != NULL) {
        mc_record *next = mc_store_next(x);
        if (mc_str_eq(mc_json_str(x->doc, "metering_label_id"), label->id)) del_record(srv, MC_K_METERING_RULE, x);
        x = next;
    }
    del_record(srv, MC_K_METERING_LABEL, label);
}

static mc_record *mk_mrule(mc_req *r, const char *owner, const cJSON *in, nerr *e) {
    mc_server *srv = r->srv;
    const char *lid = mc_json_str(in, "metering_label_id");
    mc_record *label = mc_store_find(W(srv, MC_K_METERING_LABEL), lid);
    if (label == NULL) return fail(e, 404, "MeteringLabelNotFound", "Metering label '%s' does not exist.", lid);
    const char *dir = mc_json_str(in, "direction") ? mc_json_str(in, "direction") : "ingress";
    bool excluded = false;
    body_bool(in, "excluded", false, &excluded, e);
    const char *prefix = mc_json_str(in, "remote_ip_prefix");
    cidr c, o;
    if (!cidr_parse(prefix, &c, false))
        return fail(e, 400, "HTTPBadRequest", "Invalid input for remote_ip_prefix. Reason: '%s' is not a valid IP subnet.", prefix);
    for (mc_record *x = mc_store_first(W(srv, MC_K_METERING_RULE)); x != NULL; x = mc_store_next(x))
        if (mc_str_eq(mc_json_str(x->doc, "metering_label_id"), label->id) && mc_str_eq(mc_json_str(x->doc, "direction"), dir) &&
            jbool(x->doc, "excluded") == excluded && cidr_parse(mc_json_str(x->doc, "remote_ip_prefix"), &o, false) &&
            cidr_overlap(&o, &c))
            return fail(e, 409, "MeteringLabelRuleOverlaps", "Metering label rule with remote_ip_prefix '%s' overlaps another.", prefix);
    char id[37], norm[80];
    mc_uuid(srv, id);
    cidr_fmt(&c, norm, sizeof norm);
    cJSON *d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "id", id);
    cJSON_AddStringToObject(d, "direction", dir);
    cJSON_AddBoolToObject(d, "excluded", excluded);
    cJSON_AddStringToObject(d, "remote_ip_prefix", norm);
    cJSON_AddStringToObject(d, "metering_label_id", label->id);
    cJSON_AddStringToObject(d, "project_id", owner);
    cJSON_AddStringToObject(d, "tenant_id", owner);
    return new_record(srv, MC_K_METERING_RULE, id, owner, d);
}

static void network_mlabel_list(mc_req *r) { list_generic(r, &R_MLABEL); }
static void network_mlabel_create(mc_req *r) { create_generic(r, &R_MLABEL, mk_mlabel, mlabel_undo); }
static void network_mlabel_show(mc_req *r) { show_generic(r, &R_MLABEL); }
static void network_mlabel_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_MLABEL, r->params[0]);
    if (x == NULL) return;
    mlabel_undo(r->srv, x);
    mc_reply_json(r, 204, NULL);
}
static void network_mrule_list(mc_req *r) { list_generic(r, &R_MRULE); }
static void network_mrule_create(mc_req *r) { create_generic(r, &R_MRULE, mk_mrule, mrule_undo); }
static void network_mrule_show(mc_req *r) { show_generic(r, &R_MRULE); }
static void network_mrule_delete(mc_req *r) {
    mc_record *x = find_or_reply(r, &R_MRULE, r->params[0]);
    if (x == NULL) return;
    del_record(r->srv, MC_K_METERING_RULE, x);
    mc_reply_json(r, 204, NULL);
}

/* ================================================================ routes */

#define G EVHTTP_REQ_GET
#define P EVHTTP_REQ_POST
#define U EVHTTP_REQ_PUT
#define D EVHTTP_REQ_DELETE
/* The routes of one resource kind: list and create on the collection
 * "/v2.0/<coll>", show and delete (and update: CRUD) on a member
 * "/v2.0/<coll>/{}", handled by network_<kind>_<verb>; 'flags' on every
 * row, MC_BODY_JSON added to create and update. */
#define CRD_ROWS(coll, kind, flags)                                                      \
    {MC_NETWORK, G, "/v2.0/" coll, network_##kind##_list, (flags)},                      \
    {MC_NETWORK, P, "/v2.0/" coll, network_##kind##_create, MC_BODY_JSON | (flags)},     \
    {MC_NETWORK, G, "/v2.0/" coll "/{}", network_##kind##_show, (flags)},                \
    {MC_NETWORK, D, "/v2.0/" coll "/{}", network_##kind##_delete, (flags)}
#define CRUD_ROWS(coll, kind)                                                            \
    CRD_ROWS(coll, kind, 0), {MC_NETWORK, U, "/v2.0/" coll "/{}", network_##kind##_update, MC_BODY_JSON}
const mc_route network_routes[] = {
    {MC_NETWORK, G, "/", network_versions, MC_NO_AUTH},
    {MC_NETWORK, G, "/v2.0", network_resources, 0},
    {MC_NETWORK, G, "/v2.0/extensions", network_extension_list, 0},
    {MC_NETWORK, G, "/v2.0/extensions/{}", network_extension_show, 0},
    CRUD_ROWS("networks", network),
    CRUD_ROWS("subnets", subnet),
    CRUD_ROWS("address-scopes", scope),
    CRUD_ROWS("subnetpools", pool),
    CRUD_ROWS("ports", port),
    CRUD_ROWS("routers", router),
    {MC_NETWORK, U, "/v2.0/routers/{}/add_router_interface", network_router_add_iface, MC_BODY_OPT},
    {MC_NETWORK, U, "/v2.0/routers/{}/remove_router_interface", network_router_remove_iface, MC_BODY_OPT},
    {MC_NETWORK, U, "/v2.0/routers/{}/add_extraroutes", network_router_add_routes, MC_BODY_JSON},
    {MC_NETWORK, U, "/v2.0/routers/{}/remove_extraroutes", network_router_remove_routes, MC_BODY_JSON},
    CRUD_ROWS("floatingips", fip),
    CRUD_ROWS("security-groups", sg),
    CRD_ROWS("security-group-rules", rule, 0),
    {MC_NETWORK, G, "/v2.0/quotas", network_quota_list, MC_ADMIN},
    {MC_NETWORK, G, "/v2.0/quotas/{}", network_quota_show, 0},
    {MC_NETWORK, U, "/v2.0/quotas/{}", network_quota_update, MC_BODY_JSON | MC_ADMIN},
    {MC_NETWORK, D, "/v2.0/quotas/{}", network_quota_delete, MC_ADMIN},
    {MC_NETWORK, G, "/v2.0/quotas/{}/default", network_quota_default, 0},
    {MC_NETWORK, G, "/v2.0/quotas/{}/details", network_quota_details, 0},
    CRD_ROWS("metering/metering-labels", mlabel, MC_ADMIN),
    CRD_ROWS("metering/metering-label-rules", mrule, MC_ADMIN),
    {MC_NETWORK, G, "/v2.0/agents", network_agent_list, 0},
    {MC_NETWORK, G, "/v2.0/agents/{}", network_agent_show, MC_ADMIN},
    {MC_NETWORK, G, "/v2.0/agents/{}/dhcp-networks", network_agent_dhcp_networks, MC_ADMIN},
    {MC_NETWORK, P, "/v2.0/agents/{}/dhcp-networks", network_agent_dhcp_add, MC_BODY_JSON | MC_ADMIN},
    {MC_NETWORK, D, "/v2.0/agents/{}/dhcp-networks/{}", network_agent_dhcp_remove, MC_ADMIN},
    {MC_NETWORK, G, "/v2.0/networks/{}/dhcp-agents", network_dhcp_agents, MC_ADMIN},
    {MC_NETWORK, G, "/v2.0/availability_zones", network_az_list, 0},
    {MC_NETWORK, G, "/v2.0/service-providers", network_service_providers, 0},
    {MC_NETWORK, G, "/v2.0/network-ip-availabilities", network_ipavail_list, 0},
    {MC_NETWORK, G, "/v2.0/network-ip-availabilities/{}", network_ipavail_show, 0},
    {MC_NETWORK, G, "/v2.0/{}/{}/tags", network_tags_list, 0},
    {MC_NETWORK, U, "/v2.0/{}/{}/tags", network_tags_replace, MC_BODY_JSON},
    {MC_NETWORK, D, "/v2.0/{}/{}/tags", network_tags_clear, 0},
    {MC_NETWORK, G, "/v2.0/{}/{}/tags/{}", network_tag_check, 0},
    {MC_NETWORK, U, "/v2.0/{}/{}/tags/{}", network_tag_add, MC_BODY_OPT},
    {MC_NETWORK, D, "/v2.0/{}/{}/tags/{}", network_tag_delete, 0},
};
#undef CRD_ROWS
#undef CRUD_ROWS
#undef G
#undef P
#undef U
#undef D
const size_t network_nroutes = sizeof network_routes / sizeof network_routes[0];
