/* compute_fip.c -- Nova's floating-IP proxy: os-floating-ips (list, show,
 * allocate from a pool, release) and os-floating-ip-pools up to 2.35, the
 * addFloatingIp/removeFloatingIp server actions up to 2.43. As real Nova
 * with Neutron, nothing is kept here: every call reads and writes the one
 * Neutron state through netapi.h (a pool is an external network, by name or
 * id; a floating IP is Neutron's, shown in Nova's shape: id, ip, fixed_ip,
 * instance_id, pool). Neutron's failures come back in Nova's terms: an
 * exhausted pool 404, over quota 403, a failed association 400. */
#include "compute_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

/* Gone from 2.36 (the proxies) or 2.44 (the actions): Nova's 404. */
static bool fip_gone_or_reply(mc_req *r, int last_minor) {
    if (!mv_ge(r, last_minor + 1)) return false;
    mc_reply_error(r, 404, NULL, "The resource could not be found.");
    return true;
}

static bool valid_ip(const char *s) {
    unsigned char buf[16];
    return s != NULL && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool is_external(const mc_record *n) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(n->doc, "router:external");
    return cJSON_IsTrue(x);
}

static const char *pool_name(const mc_record *n) {
    const char *name = mc_json_str(n->doc, "name");
    return name != NULL && name[0] ? name : n->id;
}

/* Nova's view of a Neutron floating IP (floating_ips.py's
 * _translate_floating_ip_view): pool is the network's name (or id), and
 * instance_id the device of the associated port. */
static cJSON *fip_nova_view(mc_server *srv, const mc_record *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", f->id);
    mc_json_set_str(o, "ip", mc_json_str(f->doc, "floating_ip_address"));
    mc_record *net = mc_store_find(&srv->world[MC_K_NETWORK], mc_json_str(f->doc, "floating_network_id"));
    mc_json_set_str(o, "pool", net != NULL ? pool_name(net) : mc_json_str(f->doc, "floating_network_id"));
    mc_json_set_str(o, "fixed_ip", mc_json_str(f->doc, "fixed_ip_address"));
    const char *port_id = mc_json_str(f->doc, "port_id");
    mc_record *port = port_id != NULL ? mc_store_find(&srv->world[MC_K_PORT], port_id) : NULL;
    mc_json_set_str(o, "instance_id", port != NULL ? mc_json_str(port->doc, "device_id") : NULL);
    return o;
}

static void reply_fip(mc_req *r, const mc_record *f) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "floating_ip", fip_nova_view(r->srv, f));
    mc_reply_json(r, 200, root);
}

/* Neutron's GET /floatingips/{id} with the caller's token: the project's
 * own, every one for an admin. */
static mc_record *fip_find(mc_req *r, const char *id) {
    mc_record *f = mc_store_find(&r->srv->world[MC_K_FLOATINGIP], id);
    if (f != NULL && !is_admin(r) && strcmp(f->project_id, req_project(r)) != 0) f = NULL;
    return f;
}

/* The same by address (?floating_ip_address=); NULL when none or, for an
 * admin, when two projects hold the address (never, with one IPAM). */
static mc_record *fip_by_address(mc_req *r, const char *address) {
    if (address == NULL || address[0] == '\0') return NULL;
    for (mc_record *f = mc_store_first(&r->srv->world[MC_K_FLOATINGIP]); f; f = mc_store_next(f))
        if (mc_str_eq(mc_json_str(f->doc, "floating_ip_address"), address) &&
            (is_admin(r) || strcmp(f->project_id, req_project(r)) == 0))
            return f;
    return NULL;
}

/* The pool of a create: an external network by id (a UUID) or name, or
 * the default pool (devstack's default_floating_pool: the default external
 * network, else the first). NULL when none; *many when the name is ambiguous. */
static mc_record *pool_find(mc_server *srv, const char *pool, bool *many) {
    mc_record *hit = NULL, *first = NULL;
    *many = false;
    for (mc_record *n = mc_store_first(&srv->world[MC_K_NETWORK]); n; n = mc_store_next(n)) {
        if (!is_external(n)) continue;
        if (pool == NULL) {
            if (first == NULL) first = n;
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(n->doc, "is_default"))) return n;
            continue;
        }
        bool match = mc_is_uuid(pool) ? strcmp(n->id, pool) == 0 : mc_str_eq(mc_json_str(n->doc, "name"), pool);
        if (!match) continue;
        if (hit != NULL) *many = true;
        hit = n;
    }
    return pool == NULL ? first : hit;
}

/* GET (list the project's) and POST (allocate) /os-floating-ips. */
void compute_floating_ips(mc_req *r) {
    if (fip_gone_or_reply(r, 35)) return;
    if (r->method == EVHTTP_REQ_GET) {
        cJSON *root = cJSON_CreateObject();
        cJSON *a = cJSON_AddArrayToObject(root, "floating_ips");
        for (mc_record *f = mc_store_first(&r->srv->world[MC_K_FLOATINGIP]); f; f = mc_store_next(f))
            if (strcmp(f->project_id, req_project(r)) == 0) cJSON_AddItemToArray(a, fip_nova_view(r->srv, f));
        mc_reply_json(r, 200, root);
        return;
    }
    /* Nova has no schema here: a body is optional, "pool" what it names */
    const cJSON *pin = cJSON_IsObject(r->body) ? cJSON_GetObjectItemCaseSensitive(r->body, "pool") : NULL;
    const char *pool = NULL;
    char pool_text[80] = "";
    if (pin != NULL && !cJSON_IsNull(pin)) {
        if (!cJSON_IsString(pin) || pin->valuestring[0] == '\0') {
            mc_reply_error(r, 404, NULL, "Floating IP pool not found.");
            return;
        }
        pool = pin->valuestring;
        snprintf(pool_text, sizeof pool_text, " in pool %.64s", pool);
    }
    bool many;
    mc_record *net = pool_find(r->srv, pool, &many);
    if (net == NULL) {
        mc_reply_error(r, 404, NULL, "Floating IP pool not found.");
        return;
    }
    if (many) {
        mc_reply_error(r, 500, NULL, "Multiple floating IP pools matches found for name '%.64s'", pool);
        return;
    }
    int status = 400;
    char err[640] = "";
    mc_record *f = mc_net_fip_create(r->srv, req_project(r), net->id, &status, err, sizeof err);
    if (f == NULL) {
        if (status == 404)
            mc_reply_error(r, 404, NULL, "No more floating IPs%s%s.", pool_text[0] ? pool_text : "",
                           pool_text[0] ? "" : " available");
        else if (status == 409)
            mc_reply_error(r, 403, NULL, "IP allocation over quota%s.", pool_text);
        else
            mc_reply_error(r, 400, NULL, "%s", err[0] ? err : "Floating IP could not be allocated.");
        return;
    }
    reply_fip(r, f);
}

/* GET (show) and DELETE (disassociate and release) /os-floating-ips/{id}. */
void compute_floating_ip(mc_req *r) {
    if (fip_gone_or_reply(r, 35)) return;
    mc_record *f = fip_find(r, r->params[0]);
    if (f == NULL) {
        mc_reply_error(r, 404, NULL, "Floating IP not found for ID %.64s", r->params[0]);
        return;
    }
    if (r->method == EVHTTP_REQ_GET) {
        reply_fip(r, f);
        return;
    }
    mc_net_fip_delete(r->srv, f);
    mc_reply_json(r, 202, NULL);
}

/* GET /os-floating-ip-pools: the external networks. */
void compute_floating_ip_pools(mc_req *r) {
    if (fip_gone_or_reply(r, 35)) return;
    cJSON *root = cJSON_CreateObject();
    cJSON *a = cJSON_AddArrayToObject(root, "floating_ip_pools");
    for (mc_record *n = mc_store_first(&r->srv->world[MC_K_NETWORK]); n; n = mc_store_next(n)) {
        if (!is_external(n)) continue;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", pool_name(n));
        cJSON_AddItemToArray(a, o);
    }
    mc_reply_json(r, 200, root);
}

/* ---------------------------------------------------------------- actions */

#define MAX_FIXED 32

/* The server's fixed addresses, port by port, as Nova's network info cache
 * lists them. */
typedef struct fixed_ctx {
    int n, nports;
    char ip[MAX_FIXED][64];
    char port[MAX_FIXED][37];
} fixed_ctx;

static void fixed_each(mc_record *port, void *arg) {
    fixed_ctx *c = arg;
    const cJSON *f;
    c->nports++;
    cJSON_ArrayForEach(f, mc_json_arr(port->doc, "fixed_ips")) {
        const char *ip = mc_json_str(f, "ip_address");
        if (ip == NULL || c->n >= MAX_FIXED) continue;
        mc_strlcpy(c->ip[c->n], ip, sizeof c->ip[0]);
        mc_strlcpy(c->port[c->n], port->id, sizeof c->port[0]);
        c->n++;
    }
}

static void act_add(mc_req *r, mc_record *s, const cJSON *arg) {
    const char *address = mc_json_str(arg, "address");
    const char *fixed = mc_json_str(arg, "fixed_address");
    if (!valid_ip(address) || (mc_json_has(arg, "fixed_address") && !valid_ip(fixed))) {
        const char *bad = !valid_ip(address) ? "address" : "fixed_address";
        const char *v = !valid_ip(address) ? address : fixed;
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %.64s. '%.64s' is not valid under any of the given schemas",
                       bad, v ? v : "None", v ? v : "None");
        return;
    }
    fixed_ctx c = {0};
    mc_net_ports_read(r->srv, s->id, fixed_each, &c);
    if (c.nports == 0) {
        mc_reply_error(r, 400, NULL, "Instance network is not ready yet");
        return;
    }
    if (c.n == 0) {
        mc_reply_error(r, 400, NULL, "No fixed IPs associated to instance");
        return;
    }
    int at = -1;
    if (fixed != NULL) {
        for (int i = 0; i < c.n && at < 0; i++)
            if (strcmp(c.ip[i], fixed) == 0) at = i;
        if (at < 0) {
            mc_reply_error(r, 400, NULL, "Specified fixed address not assigned to instance");
            return;
        }
    } else {
        unsigned char buf[4];
        for (int i = 0; i < c.n && at < 0; i++)
            if (inet_pton(AF_INET, c.ip[i], buf) == 1) at = i;
        if (at < 0) {
            mc_reply_error(r, 400, NULL, "Unable to associate floating IP %.64s to any fixed IPs for instance %s. "
                           "Instance has no fixed IPv4 addresses to associate.", address, s->id);
            return;
        }
    }
    mc_record *f = fip_by_address(r, address);
    if (f == NULL) {
        mc_reply_error(r, 404, NULL, "floating IP not found");
        return;
    }
    int status = 400;
    char err[640] = "";
    /* the user's token: its own ports, any for an admin */
    if (mc_net_fip_associate(r->srv, f, c.port[at], c.ip[at], s->project_id, true, &status, err, sizeof err) != 0) {
        if (status == 409)   /* FloatingIpAssociateFailed: Neutron's conflict, as is */
            mc_reply_error(r, 400, NULL, "%s", err);
        else
            mc_reply_error(r, 400, NULL, "Unable to associate floating IP %.64s to fixed IP %s for instance %s. Error: %s",
                           address, c.ip[at], s->id, err);
        return;
    }
    mc_reply_json(r, 202, NULL);
}

static void act_remove(mc_req *r, mc_record *s, const cJSON *arg) {
    const char *address = mc_json_str(arg, "address");
    mc_record *f = fip_by_address(r, address);
    if (f == NULL) {
        mc_reply_error(r, 404, NULL, "Floating IP not found for address %.64s.", address ? address : "");
        return;
    }
    const char *port_id = mc_json_str(f->doc, "port_id");
    mc_record *port = port_id != NULL ? mc_store_find(&r->srv->world[MC_K_PORT], port_id) : NULL;
    if (port == NULL || !mc_str_eq(mc_json_str(port->doc, "device_id"), s->id)) {
        mc_reply_error(r, 409, NULL, "Floating IP %.64s is not associated with instance %s.", address, s->id);
        return;
    }
    mc_net_fip_disassociate(r->srv, f);
    mc_reply_json(r, 202, NULL);
}

/* addFloatingIp / removeFloatingIp (2.1-2.43) on server 's'. */
void compute_floating_ip_action(mc_req *r, mc_record *s, const cJSON *arg) {
    if (fip_gone_or_reply(r, 43)) return;
    bool add = strcmp(arg->string, "addFloatingIp") == 0;
    if (!cJSON_IsObject(arg)) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: %s. is not of type 'object'", arg->string,
                       cJSON_IsNull(arg) ? "None" : "(not an object)");
        return;
    }
    if (mc_check_or_reply(r, arg, add ? "!address=s|fixed_address=s" : "!address=s") != 0) return;
    if (!mc_json_has(arg, "address")) {
        mc_reply_error(r, 400, NULL, "Invalid input for field/attribute %s. Value: {}. 'address' is a required property",
                       arg->string);
        return;
    }
    if (add)
        act_add(r, s, arg);
    else
        act_remove(r, s, arg);
}
