/* metadata.c -- what a booting instance reads: the OpenStack metadata
 * service (/openstack/...), its EC2-compatible tree (/latest/meta-data/...),
 * and the config drive (an ISO 9660 image, label config-2, with the same
 * files), as Nova serves them.
 *
 * Which server is asking: on a real cloud the instance's source address
 * decides (Neutron's metadata proxy adds X-Instance-ID). Here the request
 * names it, in either of two ways:
 *   /metadata/{server_id}/openstack/latest/meta_data.json   (path prefix)
 *   /openstack/latest/meta_data.json + "X-Instance-ID: {server_id}"
 * The header's HMAC (X-Instance-ID-Signature) is not checked. An unknown
 * server is 404. The config drive is GET /metadata/{server_id}/config-drive
 * (application/octet-stream), for servers created with config_drive=true.
 *
 * Everything is derived on each request from the server record compute keeps
 * (world[MC_K_SERVER], Nova's field names), its key pair, and its ports,
 * subnets, networks and floating IPs from the network service (netapi.h).
 * The files form one tree (a cJSON object: objects are directories, strings
 * are files) that both the HTTP lookup and the config drive builder walk.
 * Deviation knobs: the metadata section of profile.h. */
#include "auth.h"
#include "compute.h"
#include "guest.h"
#include "http.h"
#include "iso9660.h"
#include "netapi.h"
#include "profile.h"
#include "router.h"
#include "services.h"
#include "store.h"
#include "util.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Nova's metadata versions (nova/api/metadata/base.py). */
static const char *const os_versions[] = {"2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15",
                                          "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27",
                                          "2020-10-14", NULL};
#define OS_GRIZZLY "2013-04-04"
#define OS_HAVANA "2013-10-17"
#define OS_LIBERTY "2015-10-15"
#define OS_NEWTON_ONE "2016-06-30"
#define OS_NEWTON_TWO "2016-10-06"
static const char *const ec2_versions[] = {"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                                           "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", NULL};

/* srv->svc_state[MC_METADATA]: passwords posted by instances {server_id: text}. */
typedef struct md_state {
    cJSON *passwords;
} md_state;

static md_state *state(mc_server *srv) {
    md_state *s = srv->svc_state[MC_METADATA];
    if (s == NULL) {
        s = calloc(1, sizeof *s);
        if (s == NULL) mc_panic("out of memory");
        s->passwords = cJSON_CreateObject();
        srv->svc_state[MC_METADATA] = s;
    }
    return s;
}

/* One request's view of one server. Knobs are read through the request when
 * there is one (so the reply names the deviation). */
typedef struct md_ctx {
    mc_server *srv;
    mc_req *r;
    mc_record *server;
    bool quiet;              /* building the whole tree for one file: name deviations by path */
} md_ctx;

static long long knob(const md_ctx *c, mc_knob_id k) {
    return c->r && !c->quiet ? mc_knob(c->r, k) : mc_knob_srv(c->srv, k);
}
static const char *knob_str(const md_ctx *c, mc_knob_id k) {
    const char *v = c->r && !c->quiet ? mc_knob_str(c->r, k) : mc_knob_srv_str(c->srv, k);
    return v ? v : "";
}

/* The deviations that shaped the file (or listing, or 404) at path p: only
 * those are named in the reply, not every knob the tree consulted. */
static void note_path(mc_req *r, char **p, int np, bool found) {
    const char *leaf = np > 0 ? p[np - 1] : "";
    bool os = np > 0 && strcmp(p[0], "openstack") == 0;
    bool keys = false;
    for (int i = 0; i < np; i++) keys = keys || strcmp(p[i], "public-keys") == 0;
    if (!found) {
        if (os) (void)mc_knob(r, MC_KNOB_METADATA_EC2_ONLY);
        if (strcmp(leaf, "network_data.json") == 0) (void)mc_knob(r, MC_KNOB_METADATA_NETWORK_DATA);
        if (keys) (void)mc_knob(r, MC_KNOB_METADATA_PUBLIC_KEYS);
        return;
    }
    if (strcmp(leaf, "meta_data.json") == 0) {
        (void)mc_knob(r, MC_KNOB_METADATA_PUBLIC_KEYS);
        (void)mc_knob_str(r, MC_KNOB_METADATA_DHCP_DOMAIN);
    }
    if (strcmp(leaf, "user_data") == 0 || strcmp(leaf, "user-data") == 0)
        (void)mc_knob(r, MC_KNOB_METADATA_USER_DATA_BASE64);
    if (strcmp(leaf, "hostname") == 0 || strcmp(leaf, "local-hostname") == 0 || strcmp(leaf, "public-hostname") == 0)
        (void)mc_knob_str(r, MC_KNOB_METADATA_DHCP_DOMAIN);
    if (os && np == 2) (void)mc_knob(r, MC_KNOB_METADATA_NETWORK_DATA);   /* a version listing */
    if (!os && strcmp(leaf, "meta-data") == 0) (void)mc_knob(r, MC_KNOB_METADATA_PUBLIC_KEYS);
}

/* ---------------------------------------------------------------- server fields */

/* The first of several names a field may have in compute's record (Nova's
 * extended attribute name, the plain name, a private "_" name). */
static const cJSON *sfield(const md_ctx *c, const char *const *names) {
    for (size_t i = 0; names[i] != NULL; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(mc_compute_server_doc(c->server), names[i]);
        if (v != NULL && !cJSON_IsNull(v)) return v;
    }
    return NULL;
}

static const char *sstr(const md_ctx *c, const char *const *names) {
    const cJSON *v = sfield(c, names);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})

static const char *s_name(const md_ctx *c) {
    const char *n = sstr(c, NAMES("name", "display_name"));
    return n ? n : "";
}

static const char *s_project(const md_ctx *c) {
    const char *p = sstr(c, NAMES("tenant_id", "project_id"));
    return p ? p : c->server->project_id;
}

static const char *s_user(const md_ctx *c) { return sstr(c, NAMES("user_id", "_user_id")); }
static const char *s_key_name(const md_ctx *c) { return sstr(c, NAMES("key_name", "_key_name")); }

static const char *s_az(const md_ctx *c) {
    const char *az = sstr(c, NAMES("OS-EXT-AZ:availability_zone", "availability_zone", "az"));
    return az && *az ? az : "nova";
}

static long s_launch_index(const md_ctx *c) {
    const cJSON *v = sfield(c, NAMES("OS-EXT-SRV-ATTR:launch_index", "launch_index", "_launch_index"));
    return cJSON_IsNumber(v) ? (long)v->valuedouble : 0;
}

static const char *s_reservation(const md_ctx *c) {
    const char *v = sstr(c, NAMES("OS-EXT-SRV-ATTR:reservation_id", "reservation_id", "_reservation_id"));
    return v ? v : "r-00000000";
}

static bool s_config_drive(const md_ctx *c) {
    const cJSON *v = sfield(c, NAMES("config_drive", "_config_drive"));
    if (cJSON_IsTrue(v)) return true;
    if (cJSON_IsString(v)) {
        bool b;
        return mc_str_bool(v->valuestring, &b) && b;
    }
    return false;
}

/* Nova's hostname: the sanitized display name (lower case, [a-z0-9-], no
 * leading/trailing '-', at most 63), unless compute kept one. */
static void s_hostname(const md_ctx *c, char *out, size_t outsz) {
    const char *h = sstr(c, NAMES("OS-EXT-SRV-ATTR:hostname", "hostname", "_hostname"));
    if (h != NULL && *h) {
        mc_strlcpy(out, h, outsz);
        return;
    }
    const char *n = s_name(c);
    size_t o = 0;
    for (const char *p = n; *p && o + 1 < outsz && o < 63; p++) {
        unsigned char ch = (unsigned char)*p;
        if (isalnum(ch)) out[o++] = (char)tolower(ch);
        else if ((ch == '-' || ch == ' ' || ch == '_' || ch == '.') && o > 0 && out[o - 1] != '-') out[o++] = '-';
    }
    while (o > 0 && out[o - 1] == '-') o--;
    out[o] = '\0';
    if (o == 0) snprintf(out, outsz, "server-%.8s", c->server->id);
}

static void s_fqdn(const md_ctx *c, char *out, size_t outsz) {
    char h[128];
    s_hostname(c, h, sizeof h);
    const char *dom = knob_str(c, MC_KNOB_METADATA_DHCP_DOMAIN);
    if (*dom) snprintf(out, outsz, "%s.%s", h, dom);
    else mc_strlcpy(out, h, outsz);
}

/* The key pair named by key_name, owned by the server's user (when known). */
static mc_record *s_keypair(const md_ctx *c) {
    const char *kn = s_key_name(c), *user = s_user(c);
    if (kn == NULL || *kn == '\0') return NULL;
    mc_record *any = NULL;
    for (mc_record *k = mc_store_first(&c->srv->world[MC_K_KEYPAIR]); k; k = mc_store_next(k)) {
        if (!mc_str_eq(mc_json_str(k->doc, "name"), kn)) continue;
        const char *ku = mc_json_str(k->doc, "user_id");
        if (user == NULL || ku == NULL || strcmp(ku, user) == 0) return k;
        if (any == NULL) any = k;
    }
    return any;
}

/* Standard base64 (RFC 4648) both ways. */
static const char b64t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t n) {
    char *out = malloc(4 * ((n + 2) / 3) + 1);
    if (out == NULL) mc_panic("out of memory");
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
        out[o++] = b64t[v >> 18 & 63];
        out[o++] = b64t[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64t[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* Decodes base64 (whitespace ignored); NULL when malformed. */
static unsigned char *b64_decode(const char *in, size_t *len) {
    size_t n = strlen(in), o = 0;
    unsigned char *out = malloc(n / 4 * 3 + 3);
    if (out == NULL) mc_panic("out of memory");
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        if (ch == '=') {
            pad++;
            continue;
        }
        const char *p = strchr(b64t, ch);
        if (p == NULL || ch == '\0' || pad > 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)(p - b64t);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    if (pad > 2) {
        free(out);
        return NULL;
    }
    *len = o;
    return out;
}

/* The user data as the instance gets it: decoded bytes (or the base64 text
 * under metadata.user_data_base64). NULL when the server has none. */
static unsigned char *s_user_data(const md_ctx *c, size_t *len) {
    const char *ud = sstr(c, NAMES("OS-EXT-SRV-ATTR:user_data", "user_data", "_user_data"));
    if (ud == NULL) return NULL;
    if (knob(c, MC_KNOB_METADATA_USER_DATA_BASE64)) {
        *len = strlen(ud);
        unsigned char *copy = malloc(*len + 1);
        if (copy == NULL) mc_panic("out of memory");
        memcpy(copy, ud, *len + 1);
        return copy;
    }
    return b64_decode(ud, len);
}

/* ---------------------------------------------------------------- ports and addresses */

typedef struct port_list {
    mc_record *ports[16];
    size_t n;
} port_list;

static void collect_port(mc_record *port, void *arg) {
    port_list *pl = arg;
    if (pl->n < sizeof pl->ports / sizeof pl->ports[0]) pl->ports[pl->n++] = port;
}

static void collect_fip(mc_record *fip, void *arg) {
    char *out = arg;
    const char *a = mc_json_str(fip->doc, "floating_ip_address");
    if (a != NULL && out[0] == '\0') mc_strlcpy(out, a, 64);
}

/* The first fixed IPv4 address, and the first floating IP. */
static void s_addresses(const md_ctx *c, const port_list *pl, char local[64], char pub[64]) {
    local[0] = pub[0] = '\0';
    for (size_t i = 0; i < pl->n; i++) {
        const cJSON *ip;
        cJSON_ArrayForEach(ip, mc_json_arr(pl->ports[i]->doc, "fixed_ips")) {
            const char *a = mc_json_str(ip, "ip_address");
            if (a != NULL && strchr(a, ':') == NULL && local[0] == '\0') mc_strlcpy(local, a, 64);
        }
        if (pub[0] == '\0') mc_net_floatingips_each(c->srv, pl->ports[i]->id, collect_fip, pub);
    }
}

/* "10.0.0.0/24" -> netmask text and network address; false if malformed. */
static bool cidr_split(const char *cidr, char *net, size_t netsz, char *mask, size_t masksz) {
    const char *slash = cidr ? strchr(cidr, '/') : NULL;
    if (slash == NULL || (size_t)(slash - cidr) >= netsz) return false;
    memcpy(net, cidr, (size_t)(slash - cidr));
    net[slash - cidr] = '\0';
    long plen;
    bool v6 = strchr(net, ':') != NULL;
    if (!mc_parse_long(slash + 1, 0, v6 ? 128 : 32, &plen)) return false;
    unsigned char m[16] = {0};
    for (long i = 0; i < plen; i++) m[i / 8] |= (unsigned char)(0x80 >> (i % 8));
    return inet_ntop(v6 ? AF_INET6 : AF_INET, m, mask, (socklen_t)masksz) != NULL;
}

static cJSON *route(const char *network, const char *netmask, const char *gateway) {
    cJSON *r = cJSON_CreateObject();
    cJSON_AddStringToObject(r, "network", network);
    cJSON_AddStringToObject(r, "netmask", netmask);
    cJSON_AddStringToObject(r, "gateway", gateway);
    return r;
}

static void add_dns(cJSON *arr, const char *addr) {
    const cJSON *x;
    cJSON_ArrayForEach(x, arr) if (mc_str_eq(mc_json_str(x, "address"), addr)) return;
    cJSON *s = cJSON_CreateObject();
    cJSON_AddStringToObject(s, "type", "dns");
    cJSON_AddStringToObject(s, "address", addr);
    cJSON_AddItemToArray(arr, s);
}

/* network_data.json (nova/virt/netutils.py get_network_metadata): one link
 * per port, one network per fixed IP, static addressing with the subnet's
 * gateway as default route, host routes and DNS servers. */
static cJSON *md_network_data(const md_ctx *c, const port_list *pl) {
    cJSON *root = cJSON_CreateObject();
    cJSON *links = cJSON_AddArrayToObject(root, "links");
    cJSON *nets = cJSON_AddArrayToObject(root, "networks");
    cJSON *services = cJSON_AddArrayToObject(root, "services");
    int netno = 0;
    for (size_t i = 0; i < pl->n; i++) {
        const mc_record *p = pl->ports[i];
        const char *net_id = mc_json_str(p->doc, "network_id");
        mc_record *net = net_id ? mc_store_find(&c->srv->world[MC_K_NETWORK], net_id) : NULL;
        char link_id[32];
        snprintf(link_id, sizeof link_id, "tap%.11s", p->id);
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "id", link_id);
        cJSON_AddStringToObject(l, "vif_id", p->id);
        cJSON_AddStringToObject(l, "type", "ovs");
        const cJSON *mtu = net ? cJSON_GetObjectItemCaseSensitive(net->doc, "mtu") : NULL;
        cJSON_AddNumberToObject(l, "mtu", cJSON_IsNumber(mtu) ? mtu->valuedouble : 1500);
        const char *mac = mc_json_str(p->doc, "mac_address");
        cJSON_AddStringToObject(l, "ethernet_mac_address", mac ? mac : "");
        cJSON_AddItemToArray(links, l);
        const cJSON *ip;
        cJSON_ArrayForEach(ip, mc_json_arr(p->doc, "fixed_ips")) {
            const char *addr = mc_json_str(ip, "ip_address"), *sid = mc_json_str(ip, "subnet_id");
            mc_record *sub = sid ? mc_store_find(&c->srv->world[MC_K_SUBNET], sid) : NULL;
            if (addr == NULL || sub == NULL) continue;
            bool v6 = strchr(addr, ':') != NULL;
            char netid[16], na[64], mask[64];
            snprintf(netid, sizeof netid, "network%d", netno++);
            cJSON *n = cJSON_CreateObject();
            cJSON_AddStringToObject(n, "id", netid);
            const char *mode = mc_json_str(sub->doc, "ipv6_address_mode");
            if (v6 && mode != NULL && (strcmp(mode, "slaac") == 0 || strncmp(mode, "dhcpv6", 6) == 0)) {
                char type[40];
                snprintf(type, sizeof type, "ipv6_%s", mode);
                cJSON_AddStringToObject(n, "type", type);
                cJSON_AddStringToObject(n, "link", link_id);
                if (net_id) cJSON_AddStringToObject(n, "network_id", net_id);
                cJSON_AddItemToArray(nets, n);
                continue;
            }
            cJSON_AddStringToObject(n, "type", v6 ? "ipv6" : "ipv4");
            cJSON_AddStringToObject(n, "link", link_id);
            cJSON_AddStringToObject(n, "ip_address", addr);
            if (cidr_split(mc_json_str(sub->doc, "cidr"), na, sizeof na, mask, sizeof mask))
                cJSON_AddStringToObject(n, "netmask", mask);
            cJSON *routes = cJSON_AddArrayToObject(n, "routes");
            const char *gw = mc_json_str(sub->doc, "gateway_ip");
            if (gw != NULL) cJSON_AddItemToArray(routes, v6 ? route("::", "::", gw) : route("0.0.0.0", "0.0.0.0", gw));
            const cJSON *hr;
            cJSON_ArrayForEach(hr, mc_json_arr(sub->doc, "host_routes")) {
                const char *nh = mc_json_str(hr, "nexthop");
                if (nh && cidr_split(mc_json_str(hr, "destination"), na, sizeof na, mask, sizeof mask))
                    cJSON_AddItemToArray(routes, route(na, mask, nh));
            }
            if (net_id) cJSON_AddStringToObject(n, "network_id", net_id);
            cJSON *nsv = cJSON_CreateArray();
            const cJSON *dns;
            cJSON_ArrayForEach(dns, mc_json_arr(sub->doc, "dns_nameservers")) {
                if (!cJSON_IsString(dns)) continue;
                add_dns(nsv, dns->valuestring);
                add_dns(services, dns->valuestring);
            }
            if (cJSON_GetArraySize(nsv) > 0) cJSON_AddItemToObject(n, "services", nsv);
            else cJSON_Delete(nsv);
            cJSON_AddItemToArray(nets, n);
        }
    }
    return root;
}

/* ---------------------------------------------------------------- meta_data.json */

static bool version_ge(const char *v, const char *min) {
    return strcmp(v, "latest") == 0 || strcmp(v, min) >= 0;
}

static cJSON *md_meta_data(const md_ctx *c, const char *version) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "uuid", c->server->id);
    const cJSON *meta = sfield(c, NAMES("metadata"));
    cJSON_AddItemToObject(m, "meta", cJSON_IsObject(meta) ? cJSON_Duplicate(meta, 1) : cJSON_CreateObject());
    mc_record *kp = s_keypair(c);
    if (kp != NULL && knob(c, MC_KNOB_METADATA_PUBLIC_KEYS)) {
        const char *name = mc_json_str(kp->doc, "name"), *pub = mc_json_str(kp->doc, "public_key");
        const char *type = mc_json_str(kp->doc, "type");
        cJSON *pk = cJSON_AddObjectToObject(m, "public_keys");
        cJSON_AddStringToObject(pk, name, pub ? pub : "");
        if (version_ge(version, OS_GRIZZLY)) {
            cJSON *keys = cJSON_AddArrayToObject(m, "keys");
            cJSON *k = cJSON_CreateObject();
            cJSON_AddStringToObject(k, "name", name);
            cJSON_AddStringToObject(k, "type", type ? type : "ssh");
            cJSON_AddStringToObject(k, "data", pub ? pub : "");
            cJSON_AddItemToArray(keys, k);
        }
    }
    char fqdn[256];
    s_fqdn(c, fqdn, sizeof fqdn);
    cJSON_AddStringToObject(m, "hostname", fqdn);
    cJSON_AddStringToObject(m, "name", s_name(c));
    cJSON_AddNumberToObject(m, "launch_index", (double)s_launch_index(c));
    cJSON_AddStringToObject(m, "availability_zone", s_az(c));
    if (version_ge(version, OS_GRIZZLY)) {
        unsigned char seed[512];
        mc_rand_bytes(c->srv, seed, sizeof seed);
        char *b = b64_encode(seed, sizeof seed);
        cJSON_AddStringToObject(m, "random_seed", b);
        free(b);
    }
    if (version_ge(version, OS_LIBERTY)) cJSON_AddStringToObject(m, "project_id", s_project(c));
    if (version_ge(version, OS_NEWTON_ONE)) cJSON_AddItemToObject(m, "devices", cJSON_CreateArray());
    return m;
}

/* ---------------------------------------------------------------- the EC2 tree */

static void ec2_id(const char *prefix, const char *uuid, char out[24]) {
    char hex[9] = "00000000";
    size_t o = 0;
    for (const char *p = uuid ? uuid : ""; *p && o < 8; p++)
        if (isxdigit((unsigned char)*p)) hex[o++] = (char)tolower((unsigned char)*p);
    snprintf(out, 24, "%s-%s", prefix, hex);
}

static void add_sg_name(cJSON *arr, const char *name) {
    if (name != NULL) cJSON_AddItemToArray(arr, cJSON_CreateString(name));
}

/* Nova's get_ec2_metadata(): a dict of strings, lists and sub-dicts; "_name"
 * is how a directory entry is listed ("0=keyname"). */
static cJSON *md_ec2_meta_data(const md_ctx *c, const port_list *pl) {
    cJSON *m = cJSON_CreateObject();
    char id[24], fqdn[256], local[64], pub[64];
    const cJSON *img = sfield(c, NAMES("image"));   /* {"id": ...} (API shape) or the id */
    ec2_id("ami", cJSON_IsObject(img) ? mc_json_str(img, "id") : cJSON_IsString(img) ? img->valuestring : NULL, id);
    cJSON_AddStringToObject(m, "ami-id", id);
    cJSON_AddNumberToObject(m, "ami-launch-index", (double)s_launch_index(c));
    cJSON_AddStringToObject(m, "ami-manifest-path", "FIXME");
    cJSON *bdm = cJSON_AddObjectToObject(m, "block-device-mapping");
    cJSON_AddStringToObject(bdm, "ami", "vda");
    cJSON_AddStringToObject(bdm, "root", "/dev/vda");
    s_fqdn(c, fqdn, sizeof fqdn);
    cJSON_AddStringToObject(m, "hostname", fqdn);
    cJSON_AddStringToObject(m, "instance-action", "none");
    ec2_id("i", c->server->id, id);
    cJSON_AddStringToObject(m, "instance-id", id);
    const cJSON *fl = sfield(c, NAMES("flavor"));
    const char *fname = cJSON_IsObject(fl) ? mc_json_str(fl, "original_name") : NULL;
    if (fname == NULL && cJSON_IsObject(fl)) fname = mc_json_str(fl, "name");
    if (fname == NULL && cJSON_IsObject(fl)) {
        mc_record *f = mc_store_find(&c->srv->world[MC_K_FLAVOR], mc_json_str(fl, "id"));
        fname = f ? mc_json_str(f->doc, "name") : NULL;
    }
    cJSON_AddStringToObject(m, "instance-type", fname ? fname : "");
    s_addresses(c, pl, local, pub);
    cJSON_AddStringToObject(m, "local-hostname", fqdn);
    cJSON_AddStringToObject(m, "local-ipv4", local);
    cJSON *pl_ = cJSON_AddObjectToObject(m, "placement");
    cJSON_AddStringToObject(pl_, "availability-zone", s_az(c));
    cJSON_AddStringToObject(m, "public-hostname", fqdn);
    cJSON_AddStringToObject(m, "public-ipv4", pub);
    mc_record *kp = s_keypair(c);
    if (kp != NULL && knob(c, MC_KNOB_METADATA_PUBLIC_KEYS)) {
        char nm[300];
        snprintf(nm, sizeof nm, "0=%s", mc_json_str(kp->doc, "name"));
        cJSON *k0 = cJSON_AddObjectToObject(cJSON_AddObjectToObject(m, "public-keys"), "0");
        cJSON_AddStringToObject(k0, "_name", nm);
        const char *key = mc_json_str(kp->doc, "public_key");
        cJSON_AddStringToObject(k0, "openssh-key", key ? key : "");
    }
    cJSON_AddStringToObject(m, "reservation-id", s_reservation(c));
    cJSON *sgs = cJSON_AddArrayToObject(m, "security-groups");
    const cJSON *sg;
    cJSON_ArrayForEach(sg, sfield(c, NAMES("security_groups")))
        add_sg_name(sgs, cJSON_IsString(sg) ? sg->valuestring : mc_json_str(sg, "name"));
    return m;
}

/* ---------------------------------------------------------------- the file tree */

static void tree_add_file(cJSON *dir, const char *name, const void *data, size_t len) {
    /* cJSON strings cannot hold NULs; binary user data is kept base64 under a marker */
    if (memchr(data, '\0', len) != NULL) {
        char *b = b64_encode(data, len), key[128];
        snprintf(key, sizeof key, "\x01%s", name);
        cJSON_AddStringToObject(dir, key, b);
        free(b);
        return;
    }
    char *s = malloc(len + 1);
    if (s == NULL) mc_panic("out of memory");
    memcpy(s, data, len);
    s[len] = '\0';
    cJSON_AddStringToObject(dir, name, s);
    free(s);
}

static void tree_add_json(cJSON *dir, const char *name, cJSON *doc) {
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    if (text == NULL) mc_panic("out of memory");
    cJSON_AddStringToObject(dir, name, text);
    cJSON_free(text);
}

/* The OpenStack version directory (files gated by version as Nova does). */
static cJSON *os_version_dir(const md_ctx *c, const char *v, const port_list *pl, const unsigned char *ud,
                             size_t udlen, bool for_drive) {
    cJSON *d = cJSON_CreateObject();
    tree_add_json(d, "meta_data.json", md_meta_data(c, v));
    if (!for_drive && version_ge(v, OS_GRIZZLY)) {
        const char *pw = mc_json_str(state(c->srv)->passwords, c->server->id);
        cJSON_AddStringToObject(d, "password", pw ? pw : "");
    }
    if (version_ge(v, OS_HAVANA)) cJSON_AddStringToObject(d, "vendor_data.json", "{}");
    if (version_ge(v, OS_LIBERTY) && knob(c, MC_KNOB_METADATA_NETWORK_DATA))
        tree_add_json(d, "network_data.json", md_network_data(c, pl));
    if (version_ge(v, OS_NEWTON_TWO)) cJSON_AddStringToObject(d, "vendor_data2.json", "{}");
    if (ud != NULL) tree_add_file(d, "user_data", ud, udlen);
    return d;
}

/* The whole tree an instance can read: {"openstack": {...}, "latest": {...},
 * "2009-04-04": {...}, ...} for the service; {"openstack": ..., "ec2": ...}
 * (the config drive layout) when for_drive. */
static cJSON *md_tree(const md_ctx *c, bool for_drive) {
    port_list pl = {.n = 0};
    mc_net_ports_each(c->srv, c->server->id, collect_port, &pl);
    size_t udlen = 0;
    unsigned char *ud = s_user_data(c, &udlen);
    cJSON *root = cJSON_CreateObject();
    if (!knob(c, MC_KNOB_METADATA_EC2_ONLY)) {
        cJSON *os = cJSON_AddObjectToObject(root, "openstack");
        for (size_t i = 0; os_versions[i] != NULL; i++)
            cJSON_AddItemToObject(os, os_versions[i], os_version_dir(c, os_versions[i], &pl, ud, udlen, for_drive));
        cJSON_AddItemToObject(os, "latest", os_version_dir(c, "latest", &pl, ud, udlen, for_drive));
    }
    if (for_drive) {   /* ec2/{2009-04-04,latest}/meta-data.json as Nova writes them */
        cJSON *ec2 = cJSON_AddObjectToObject(root, "ec2");
        const char *dv[] = {"2009-04-04", "latest"};
        for (size_t i = 0; i < 2; i++) {
            cJSON *d = cJSON_AddObjectToObject(ec2, dv[i]);
            tree_add_json(d, "meta-data.json", md_ec2_meta_data(c, &pl));
            if (ud != NULL) tree_add_file(d, "user-data", ud, udlen);
        }
    } else {
        for (size_t i = 0;; i++) {
            const char *v = ec2_versions[i] ? ec2_versions[i] : "latest";
            cJSON *d = cJSON_AddObjectToObject(root, v);
            cJSON_AddItemToObject(d, "meta-data", md_ec2_meta_data(c, &pl));
            if (ud != NULL) tree_add_file(d, "user-data", ud, udlen);
            if (ec2_versions[i] == NULL) break;
        }
    }
    free(ud);
    return root;
}

/* ---------------------------------------------------------------- config drive */

typedef struct iso_acc {
    mc_iso_file files[256];
    size_t n;
    unsigned char *bufs[256];
} iso_acc;

static void iso_collect(iso_acc *a, const cJSON *dir, const char *prefix) {
    const cJSON *x;
    cJSON_ArrayForEach(x, dir) {
        char path[512];
        bool bin = x->string[0] == '\x01';
        snprintf(path, sizeof path, "%s%s%s", prefix, *prefix ? "/" : "", bin ? x->string + 1 : x->string);
        if (cJSON_IsObject(x)) {
            iso_collect(a, x, path);
        } else if (cJSON_IsString(x) && a->n < sizeof a->files / sizeof a->files[0]) {
            mc_iso_file *f = &a->files[a->n];
            mc_strlcpy(f->path, path, sizeof f->path);
            if (bin) {
                size_t len = 0;
                a->bufs[a->n] = b64_decode(x->valuestring, &len);
                f->data = a->bufs[a->n];
                f->len = len;
            } else {
                f->data = x->valuestring;
                f->len = strlen(x->valuestring);
            }
            a->n++;
        }
    }
}

static bool md_has_drive(const md_ctx *c) {
    long long k = knob(c, MC_KNOB_METADATA_CONFIG_DRIVE);
    return k == 1 || (k == 0 && s_config_drive(c));
}

/* The config drive of a server as an ISO 9660 image (caller frees), or NULL. */
static unsigned char *md_config_drive(const md_ctx *c, size_t *len) {
    cJSON *tree = md_tree(c, true);
    iso_acc *a = calloc(1, sizeof *a);
    if (a == NULL) mc_panic("out of memory");
    iso_collect(a, tree, "");
    unsigned char *iso = mc_iso_build("config-2", a->files, a->n, len);
    for (size_t i = 0; i < a->n; i++) free(a->bufs[i]);
    free(a);
    cJSON_Delete(tree);
    return iso;
}

/* ---------------------------------------------------------------- HTTP */

/* Nova's ec2_md_print: a directory lists its entries (sorted, "/" after a
 * sub-directory, or its "_name"), a list is one item per line. */
static void ec2_listing(const cJSON *node, struct evbuffer *out) {
    size_t n = (size_t)cJSON_GetArraySize(node), k = 0;
    const cJSON **items = malloc((n + 1) * sizeof *items);
    if (items == NULL) mc_panic("out of memory");
    const cJSON *x;
    cJSON_ArrayForEach(x, node) if (strcmp(x->string, "_name") != 0) items[k++] = x;
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(items[j - 1]->string, items[j]->string) > 0; j--) {
            const cJSON *t = items[j];
            items[j] = items[j - 1];
            items[j - 1] = t;
        }
    for (size_t i = 0; i < k; i++) {
        const char *nm = mc_json_str(items[i], "_name");
        bool bin = items[i]->string[0] == '\x01';
        if (i > 0) evbuffer_add(out, "\n", 1);
        if (cJSON_IsObject(items[i]) && nm != NULL) evbuffer_add_printf(out, "%s", nm);
        else evbuffer_add_printf(out, "%s%s", bin ? items[i]->string + 1 : items[i]->string,
                                 cJSON_IsObject(items[i]) ? "/" : "");
    }
    free(items);
}

static void reply_text(mc_req *r, const char *ctype, const char *text, size_t len) {
    mc_reply_bytes(r, 200, ctype, text, len);
}

/* Finds the server the request is for: /metadata/{id}/... or X-Instance-ID.
 * Sets *seg0 to the index of the first path segment after it. */
static mc_record *server_or_reply(mc_req *r, char **segs, int nsegs, int *seg0) {
    const char *full = r->raw_path;
    const char *id = NULL;
    *seg0 = 0;
    if (full != NULL && strncmp(full, "/metadata", 9) == 0 && (full[9] == '/' || full[9] == '\0')) {
        if (nsegs == 0) {
            mc_reply_error(r, 404, NULL, "Name the server: /metadata/{server_id}/openstack/latest/meta_data.json.");
            return NULL;
        }
        id = segs[0];
        *seg0 = 1;
    } else {
        id = mc_header(r, "X-Instance-ID");
        if (id == NULL) {
            mc_reply_error(r, 404, NULL, "Which instance? Send X-Instance-ID or use /metadata/{server_id}/...");
            return NULL;
        }
    }
    mc_record *s = mc_store_find(&r->srv->world[MC_K_SERVER], id);
    const char *st = s ? mc_compute_server_status(s) : NULL;
    if (s != NULL && st == NULL) st = mc_json_str(s->doc, "status");
    if (s == NULL || mc_str_eq(st, "DELETED") || mc_str_eq(st, "SOFT_DELETED")) {
        mc_reply_error(r, 404, NULL, "Instance %.64s could not be found.", id);
        return NULL;
    }
    return s;
}

/* metadata.delay_s: 503 until the server has been ACTIVE that long. */
static int reachable_or_reply(md_ctx *c) {
    long long d = mc_knob_srv(c->srv, MC_KNOB_METADATA_DELAY_S);
    if (d <= 0) return 0;
    const char *la = sstr(c, NAMES("OS-SRV-USG:launched_at", "launched_at"));
    double t = la ? mc_time_parse(la) : -1;
    if (t >= 0 && mc_now() - t >= (double)d) return 0;
    (void)mc_knob(c->r, MC_KNOB_METADATA_DELAY_S);   /* it shaped this reply */
    mc_reply_error(c->r, 503, NULL, "The metadata service is not reachable yet for this instance.");
    return -1;
}

/* Splits the service-relative path into segments (borrowed copy in buf). */
static int split_path(const char *path, char *buf, size_t bufsz, char **segs, int max) {
    mc_strlcpy(buf, path, bufsz);
    int n = 0;
    char *save = NULL;
    for (char *s = strtok_r(buf, "/", &save); s != NULL && n < max; s = strtok_r(NULL, "/", &save)) segs[n++] = s;
    return n;
}

static void metadata_password_post(md_ctx *c) {
    size_t len;
    const unsigned char *b = mc_body_raw(c->r, &len);
    if (len > 256) {
        mc_reply_error(c->r, 400, NULL, "Request is too large: the password is at most 256 bytes.");
        return;
    }
    md_state *st = state(c->srv);
    const char *have = mc_json_str(st->passwords, c->server->id);
    if (have != NULL && *have) {
        mc_reply_error(c->r, 409, NULL, "The password has already been set.");
        return;
    }
    char pw[257];
    memcpy(pw, b, len);
    pw[len] = '\0';
    mc_json_set_str(st->passwords, c->server->id, pw);
    mc_reply_json(c->r, 200, NULL);
}

static void metadata_get(mc_req *r) {
    char buf[2048], *segs[16];
    int n = split_path(r->path, buf, sizeof buf, segs, 16), s0;
    mc_record *server = server_or_reply(r, segs, n, &s0);
    if (server == NULL) return;
    md_ctx c = {r->srv, r, server, false};
    if (reachable_or_reply(&c) != 0) return;
    segs[15] = NULL;
    char **p = segs + s0;
    int np = n - s0;
    if (np == 1 && strcmp(p[0], "config-drive") == 0) {
        if (!md_has_drive(&c)) {
            mc_reply_error(r, 404, NULL, "Instance %s has no config drive (create it with config_drive: true).",
                           server->id);
            return;
        }
        size_t len;
        unsigned char *iso = md_config_drive(&c, &len);
        if (iso == NULL) {
            mc_reply_error(r, 500, NULL, "The config drive could not be built.");
            return;
        }
        mc_header_set(r, "Content-Disposition", "attachment; filename=\"config-2.iso\"");
        mc_reply_bytes(r, 200, "application/octet-stream", iso, len);
        free(iso);
        return;
    }
    if (r->method == EVHTTP_REQ_POST) {
        if (np == 3 && strcmp(p[0], "openstack") == 0 && strcmp(p[2], "password") == 0 &&
            !knob(&c, MC_KNOB_METADATA_EC2_ONLY)) {
            metadata_password_post(&c);
            return;
        }
        mc_reply_error(r, 405, NULL, "The method POST is not allowed for this resource.");
        return;
    }
    struct evbuffer *out = evbuffer_new();
    cJSON *tree = NULL;
    if (np == 0) {   /* EC2 versions */
        for (size_t i = 0; ec2_versions[i] != NULL; i++) evbuffer_add_printf(out, "%s\n", ec2_versions[i]);
        evbuffer_add_printf(out, "latest");
        goto text;
    }
    c.quiet = true;
    tree = md_tree(&c, false);
    c.quiet = false;
    const cJSON *node = tree;
    bool openstack = strcmp(p[0], "openstack") == 0;
    for (int i = 0; i < np && node != NULL; i++) {
        if (!cJSON_IsObject(node)) {
            node = NULL;
            break;
        }
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(node, p[i]);
        if (next == NULL) {
            char key[256];
            snprintf(key, sizeof key, "\x01%s", p[i]);
            next = cJSON_GetObjectItemCaseSensitive(node, key);
        }
        node = next;
    }
    note_path(r, p, np, node != NULL);
    if (node == NULL) {
        cJSON_Delete(tree);
        evbuffer_free(out);
        mc_reply_error(r, 404, NULL, "The resource could not be found.");
        return;
    }
    if (cJSON_IsObject(node)) {
        if (openstack) {   /* Nova lists OpenStack directories without "/" */
            const cJSON *x;
            bool first = true;
            cJSON_ArrayForEach(x, node) {
                evbuffer_add_printf(out, "%s%s", first ? "" : "\n", x->string[0] == '\x01' ? x->string + 1 : x->string);
                first = false;
            }
        } else {
            ec2_listing(node, out);
        }
    } else if (cJSON_IsArray(node)) {
        const cJSON *x;
        bool first = true;
        cJSON_ArrayForEach(x, node) {
            if (cJSON_IsString(x)) evbuffer_add_printf(out, "%s%s", first ? "" : "\n", x->valuestring);
            first = false;
        }
    } else if (cJSON_IsNumber(node)) {
        evbuffer_add_printf(out, "%.0f", node->valuedouble);
    } else if (cJSON_IsString(node)) {
        const char *leaf = p[np - 1];
        bool bin = node->string[0] == '\x01';
        if (bin) {
            size_t len = 0;
            unsigned char *raw = b64_decode(node->valuestring, &len);
            mc_reply_bytes(r, 200, "application/octet-stream", raw ? raw : (const unsigned char *)"", raw ? len : 0);
            free(raw);
            cJSON_Delete(tree);
            evbuffer_free(out);
            return;
        }
        size_t ll = strlen(leaf);
        const char *ctype = ll > 5 && strcmp(leaf + ll - 5, ".json") == 0 ? "application/json" : "text/plain; charset=UTF-8";
        if (strcmp(leaf, "user_data") == 0 || strcmp(leaf, "user-data") == 0) ctype = "application/octet-stream";
        reply_text(r, ctype, node->valuestring, strlen(node->valuestring));
        cJSON_Delete(tree);
        evbuffer_free(out);
        return;
    }
text:
    cJSON_Delete(tree);
    {
        size_t len = evbuffer_get_length(out);
        const char *t = (const char *)evbuffer_pullup(out, -1);
        reply_text(r, "text/plain; charset=UTF-8", t ? t : "", len);
    }
    evbuffer_free(out);
}

/* ---------------------------------------------------------------- routes */

#define GP (EVHTTP_REQ_GET | EVHTTP_REQ_POST)
#define MDF (MC_NO_AUTH | MC_BODY_RAW)
/* The tree has variable depth: one row per depth, metadata_get walks it. */
const mc_route metadata_routes[] = {
    {MC_METADATA, GP, "/", metadata_get, MDF},
    {MC_METADATA, GP, "/{}", metadata_get, MDF},
    {MC_METADATA, GP, "/{}/{}", metadata_get, MDF},
    {MC_METADATA, GP, "/{}/{}/{}", metadata_get, MDF},
    {MC_METADATA, GP, "/{}/{}/{}/{}", metadata_get, MDF},
    {MC_METADATA, GP, "/{}/{}/{}/{}/{}", metadata_get, MDF},
    {MC_METADATA, GP, "/{}/{}/{}/{}/{}/{}", metadata_get, MDF},
};
#undef GP
#undef MDF
const size_t metadata_nroutes = sizeof metadata_routes / sizeof metadata_routes[0];

int metadata_seed(mc_server *srv, const char *dir, char *err, size_t errsz) {
    (void)dir;
    (void)err;
    (void)errsz;
    (void)state(srv);
    return 0;
}

void metadata_reset(mc_server *srv) {
    md_state *s = srv->svc_state[MC_METADATA];
    if (s == NULL) return;
    cJSON_Delete(s->passwords);
    free(s);
    srv->svc_state[MC_METADATA] = NULL;
}

/* ---------------------------------------------------------------- guest.h */

void mc_metadata_hostname(mc_server *srv, mc_record *server, char *out, size_t outsz) {
    md_ctx c = {.srv = srv, .server = server};
    s_fqdn(&c, out, outsz);
}

const char *mc_metadata_public_key(mc_server *srv, mc_record *server) {
    md_ctx c = {.srv = srv, .server = server};
    mc_record *kp = s_keypair(&c);
    if (kp == NULL || !knob(&c, MC_KNOB_METADATA_PUBLIC_KEYS)) return NULL;
    return mc_json_str(kp->doc, "public_key");
}
