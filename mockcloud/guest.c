/* guest.c -- the guests' SSH side (guest.h): listeners on the servers'
 * loopback addresses, libssh sessions driven by the event loop, and the
 * facts each guest has about itself (from compute, network, image and
 * metadata state) handed to the interpreter in guest_shell.c.
 *
 * Nothing here blocks: every accepted connection becomes a non-blocking
 * libssh session whose socket is watched by a libevent read event; on each
 * wake-up the session's key exchange is advanced (ssh_handle_key_exchange
 * answers SSH_AGAIN until done), then its packets are handled through an
 * ssh_event polled with timeout 0, which runs the auth and channel
 * callbacks. Commands run when their exec request has been handled; the
 * output, the exit status, EOF and close are sent right after.
 *
 * Who gets in (checked on every connection, against the world as it is):
 *   - the address belongs to a server that is ACTIVE (otherwise the address
 *     has no listener: connection refused; a connection that raced a state
 *     change is reset);
 *   - a security group of the port allows ingress TCP 22 from the client
 *     (Neutron's rules: direction, ethertype, protocol, port range,
 *     remote_ip_prefix; remote_group_id never matches a client outside the
 *     cloud; port_security_enabled=false lets all in). Otherwise the
 *     packets are dropped: the connection is held silent and closed after
 *     a while, so the client times out, as it would;
 *   - the user is the image's login user (cloud-init's default user of its
 *     os_distro, or its os_admin_user) authenticating with the key pair's
 *     public key as the metadata service serves it, or, on an image that
 *     takes passwords (CirrOS), its built-in one (gocubsgo) or the server's
 *     adminPass.
 *
 * Deviations: guest.hostname (hostname-not-server-name), guest.vcpus_delta
 * (vcpus-differ); each session that runs a command is journaled as
 * "SSH user@address: command" with the deviations that shaped it. */
#include "guest.h"
#include "compute.h"
#include "http.h"
#include "imageapi.h"
#include "journal.h"
#include "netapi.h"
#include "profile.h"
#include "store.h"
#include "util.h"
#include "volapi.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libssh/callbacks.h>
#include <libssh/libssh.h>
#include <libssh/server.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define GUEST_MAX_CHANS 8
#define GUEST_IDLE_S 300        /* a session with nothing going on is closed */
#define GUEST_DROP_S 30         /* SG-dropped connections are held this long */

typedef struct g_listener {
    struct g_listener *next;
    struct mc_guest *g;
    char addr[64];
    int fd;
    struct event *ev;
    bool want;
} g_listener;

struct g_sess;

typedef struct g_chan {
    struct g_sess *s;
    ssh_channel ch;
    struct ssh_channel_callbacks_struct cb;
    char *cmd;                  /* exec request to run */
    bool shell, pty, done, prompted;
    char line[2048];
    size_t linelen;
} g_chan;

typedef struct g_sess {
    struct g_sess *next;
    struct mc_guest *g;
    ssh_session ss;
    ssh_event sev;
    int fd;
    struct event *rev, *wev, *tmo;
    struct ssh_server_callbacks_struct scb;
    char addr[64], peer[64], user[64];
    bool kex_done, authed, dropped, dead;
    g_chan *chans[GUEST_MAX_CHANS];
    int nchans;
} g_sess;

typedef struct mc_guest {
    mc_server *srv;
    ssh_bind bind;
    int port;
    char prefix[16];            /* "127.H.L" */
    g_listener *ls;
    g_sess *ss;
} mc_guest;

static mc_guest *G(const mc_server *srv) { return srv->guest; }

const char *mc_guest_prefix(const mc_server *srv) { return G(srv) ? G(srv)->prefix : ""; }

/* ---------------------------------------------------------------- the world */

static bool is_loopback4(const char *a) { return a != NULL && strncmp(a, "127.", 4) == 0 && strchr(a, ':') == NULL; }

static bool port_is_compute(const mc_record *port) {
    const char *o = mc_json_str(port->doc, "device_owner");
    return o != NULL && strncmp(o, "compute:", 8) == 0;
}

/* The port an address belongs to (a floating IP's port, or the port with
 * that fixed IP), or NULL. */
static mc_record *addr_port(mc_server *srv, const char *addr) {
    for (mc_record *f = mc_store_first(&srv->world[MC_K_FLOATINGIP]); f; f = mc_store_next(f)) {
        if (!mc_str_eq(mc_json_str(f->doc, "floating_ip_address"), addr)) continue;
        const char *pid = mc_json_str(f->doc, "port_id");
        return pid ? mc_store_find(&srv->world[MC_K_PORT], pid) : NULL;
    }
    for (mc_record *p = mc_store_first(&srv->world[MC_K_PORT]); p; p = mc_store_next(p)) {
        if (!port_is_compute(p)) continue;
        const cJSON *ip;
        cJSON_ArrayForEach(ip, mc_json_arr(p->doc, "fixed_ips"))
            if (mc_str_eq(mc_json_str(ip, "ip_address"), addr)) return p;
    }
    return NULL;
}

static mc_record *port_server(mc_server *srv, const mc_record *port) {
    const char *dev = port ? mc_json_str(port->doc, "device_id") : NULL;
    return dev && *dev ? mc_store_find(&srv->world[MC_K_SERVER], dev) : NULL;
}

static bool server_up(const mc_record *server) { return mc_str_eq(mc_compute_server_status(server), "ACTIVE"); }

/* An IPv4 address in a prefix ("a.b.c.d/n"); NULL/"" prefix = any. */
static bool v4_in(const char *ip, const char *prefix) {
    if (prefix == NULL || *prefix == '\0') return true;
    char net[64];
    mc_strlcpy(net, prefix, sizeof net);
    char *slash = strchr(net, '/');
    long plen = 32;
    if (slash) {
        *slash = '\0';
        if (!mc_parse_long(slash + 1, 0, 32, &plen)) return false;
    }
    struct in_addr a, n;
    if (inet_pton(AF_INET, ip, &a) != 1 || inet_pton(AF_INET, net, &n) != 1) return false;
    uint32_t mask = plen == 0 ? 0 : htonl(0xffffffffu << (32 - plen));
    return (a.s_addr & mask) == (n.s_addr & mask);
}

typedef struct sg_ctx {
    const char *client;
    bool ok;
} sg_ctx;

static void sg_rule(mc_record *rule, void *arg) {
    sg_ctx *c = arg;
    const cJSON *d = rule->doc;
    if (!mc_str_eq(mc_json_str(d, "direction"), "ingress")) return;
    const char *eth = mc_json_str(d, "ethertype");
    if (eth != NULL && strcmp(eth, "IPv4") != 0) return;
    const char *proto = mc_json_str(d, "protocol");
    const cJSON *pn = cJSON_GetObjectItemCaseSensitive(d, "protocol");
    if (proto != NULL && strcmp(proto, "tcp") != 0 && strcmp(proto, "6") != 0 && strcmp(proto, "any") != 0) return;
    if (proto == NULL && cJSON_IsNumber(pn) && pn->valuedouble != 6) return;
    if (mc_json_str(d, "remote_group_id") != NULL) return;   /* a member of the group: the client is not */
    if (mc_json_str(d, "remote_address_group_id") != NULL) return;
    const cJSON *lo = cJSON_GetObjectItemCaseSensitive(d, "port_range_min");
    const cJSON *hi = cJSON_GetObjectItemCaseSensitive(d, "port_range_max");
    if (cJSON_IsNumber(lo) && lo->valuedouble > 22) return;
    if (cJSON_IsNumber(hi) && hi->valuedouble < 22) return;
    if (!v4_in(c->client, mc_json_str(d, "remote_ip_prefix"))) return;
    c->ok = true;
}

/* Neutron's verdict for TCP 22 from 'client' to this port. */
static bool sg_allows_ssh(mc_server *srv, const mc_record *port, const char *client) {
    const cJSON *pse = cJSON_GetObjectItemCaseSensitive(port->doc, "port_security_enabled");
    if (cJSON_IsFalse(pse)) return true;
    sg_ctx c = {client, false};
    const cJSON *sg;
    cJSON_ArrayForEach(sg, mc_json_arr(port->doc, "security_groups")) {
        if (cJSON_IsString(sg)) mc_net_secgroup_rules_each(srv, sg->valuestring, sg_rule, &c);
        if (c.ok) return true;
    }
    return false;
}

/* cloud-init's default user per os_distro (its distro modules). */
static const char *login_user(mc_server *srv, const cJSON *sdoc, const char **builtin_pw) {
    static const struct {
        const char *distro, *user, *pw;
    } users[] = {
        {"cirros", "cirros", "gocubsgo"}, {"ubuntu", "ubuntu", NULL},     {"debian", "debian", NULL},
        {"fedora", "fedora", NULL},       {"centos", "centos", NULL},     {"rhel", "cloud-user", NULL},
        {"rocky", "rocky", NULL},         {"almalinux", "almalinux", NULL}, {"opensuse", "opensuse", NULL},
        {"sles", "sles", NULL},           {"arch", "arch", NULL},         {"freebsd", "freebsd", NULL},
    };
    *builtin_pw = NULL;
    const char *img_id = mc_json_str(mc_json_obj(sdoc, "image"), "id");
    mc_record *img = img_id ? mc_store_find(&srv->world[MC_K_IMAGE], img_id) : NULL;
    const cJSON *d = img ? img->doc : NULL;
    const char *admin = mc_json_str(d, "os_admin_user");
    if (admin == NULL) admin = mc_json_str(mc_json_obj(d, "properties"), "os_admin_user");
    const char *distro = mc_json_str(d, "os_distro");
    if (distro == NULL) distro = mc_json_str(mc_json_obj(d, "properties"), "os_distro");
    for (size_t i = 0; distro && i < sizeof users / sizeof users[0]; i++)
        if (strcmp(users[i].distro, distro) == 0) {
            *builtin_pw = users[i].pw;
            return admin ? admin : users[i].user;
        }
    return admin ? admin : "root";
}

static long knob_g(mc_server *srv, mc_knob_id k) { return (long)mc_knob_srv(srv, k); }

/* What the guest of 'server' knows about itself. 'devs' collects the ids of
 * the deviations that shaped it. */
static void facts_of(mc_server *srv, mc_record *server, const char *user, mc_guest_facts *f, char *devs, size_t devsz) {
    memset(f, 0, sizeof *f);
    const cJSON *d = mc_compute_server_doc(server);
    const cJSON *flv = mc_json_obj(d, "flavor");
    mc_strlcpy(f->user, user, sizeof f->user);
    f->vcpus = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flv, "vcpus"));
    f->ram_mb = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flv, "ram"));
    long disk_gb = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flv, "disk"));
    long eph_gb = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flv, "ephemeral"));
    long swap_mb = (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(flv, "swap"));
    if (f->vcpus < 1) f->vcpus = 1;
    long delta = knob_g(srv, MC_KNOB_GUEST_VCPUS_DELTA);
    if (delta != 0) {
        f->vcpus = f->vcpus + (int)delta > 0 ? f->vcpus + (int)delta : 1;
        const char *src = srv->profile->src[MC_KNOB_GUEST_VCPUS_DELTA];
        if (src) snprintf(devs + strlen(devs), devsz - strlen(devs), "%s%s", *devs ? "," : "", src);
    }
    double booted = mc_compute_server_booted(server);
    if (booted <= 0) booted = mc_time_parse(mc_json_str(d, "created"));   /* seeded: booted when created */
    f->uptime_s = booted > 0 && mc_now() > booted ? (long)(mc_now() - booted) : 0;


    /* disks: the root disk, ephemeral, swap, then attached volumes */
    int minor = 0;
#define ADD_DISK(nm, by)                                                                     \
    do {                                                                                     \
        if (f->ndisks < MC_GUEST_MAX_DISKS) {                                                \
            mc_guest_disk *k = &f->disks[f->ndisks++];                                       \
            mc_strlcpy(k->name, nm, sizeof k->name);                                         \
            k->bytes = (by);                                                                 \
            k->major = 253;                                                                  \
            k->minor = minor;                                                                \
            minor += 16;                                                                     \
        }                                                                                    \
    } while (0)
    ADD_DISK("vda", (unsigned long long)(disk_gb > 0 ? disk_gb : 1) << 30);
    char letter = 'b';
    char nm[16];
    if (eph_gb > 0) {
        snprintf(nm, sizeof nm, "vd%c", letter++);
        ADD_DISK(nm, (unsigned long long)eph_gb << 30);
    }
    if (swap_mb > 0) {
        snprintf(nm, sizeof nm, "vd%c", letter++);
        ADD_DISK(nm, (unsigned long long)swap_mb << 20);
    }
    (void)letter;
    /* attached volumes, named after their attachment's device (/dev/vdb -> vdb) */
    mc_vol_disk vols[MC_GUEST_MAX_DISKS];
    size_t nv = mc_volume_server_disks(srv, server->id, vols, MC_GUEST_MAX_DISKS);
    for (size_t i = 0; i < nv && i < MC_GUEST_MAX_DISKS; i++) {
        const char *dev = vols[i].device ? vols[i].device : "";
        if (strncmp(dev, "/dev/", 5) == 0) dev += 5;
        if (*dev == '\0') continue;
        ADD_DISK(dev, (unsigned long long)vols[i].size_bytes);
    }
    /* the kernel lists them by name */
    for (int i = 1; i < f->ndisks; i++)
        for (int j = i; j > 0 && strcmp(f->disks[j - 1].name, f->disks[j].name) > 0; j--) {
            mc_guest_disk t = f->disks[j];
            f->disks[j] = f->disks[j - 1];
            f->disks[j - 1] = t;
        }
#undef ADD_DISK

    /* NICs: one per port, in creation order */
    for (mc_record *p = mc_store_first(&srv->world[MC_K_PORT]); p; p = mc_store_next(p)) {
        if (!mc_str_eq(mc_json_str(p->doc, "device_id"), server->id) || f->nnics >= MC_GUEST_MAX_NICS) continue;
        mc_guest_nic *n = &f->nics[f->nnics];
        snprintf(n->name, sizeof n->name, "eth%d", f->nnics);
        mc_strlcpy(n->mac, mc_json_str(p->doc, "mac_address") ? mc_json_str(p->doc, "mac_address") : "", sizeof n->mac);
        const char *net = mc_json_str(p->doc, "network_id");
        mc_record *nr = net ? mc_store_find(&srv->world[MC_K_NETWORK], net) : NULL;
        const cJSON *mtu = nr ? cJSON_GetObjectItemCaseSensitive(nr->doc, "mtu") : NULL;
        n->mtu = cJSON_IsNumber(mtu) ? (int)mtu->valuedouble : 1450;
        const cJSON *ip;
        cJSON_ArrayForEach(ip, mc_json_arr(p->doc, "fixed_ips")) {
            if (n->naddrs >= MC_GUEST_MAX_ADDRS) break;
            const char *a = mc_json_str(ip, "ip_address"), *sid = mc_json_str(ip, "subnet_id");
            mc_record *sub = sid ? mc_store_find(&srv->world[MC_K_SUBNET], sid) : NULL;
            const char *cidr = sub ? mc_json_str(sub->doc, "cidr") : NULL;
            const char *slash = cidr ? strchr(cidr, '/') : NULL;
            if (a) snprintf(n->addrs[n->naddrs++], sizeof n->addrs[0], "%s/%s", a, slash ? slash + 1 : (strchr(a, ':') ? "64" : "24"));
        }
        f->nnics++;
    }

    /* hostname: what cloud-init took from the metadata service, or the
     * provider's own scheme (deviation) */
    char fqdn[256];
    mc_metadata_hostname(srv, server, fqdn, sizeof fqdn);
    long hmode = knob_g(srv, MC_KNOB_GUEST_HOSTNAME);
    if (hmode == 1) {
        snprintf(f->hostname, sizeof f->hostname, "instance-%08lx", (long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "num")));
    } else if (hmode == 2) {
        char ip[64] = "0.0.0.0";
        for (int i = 0; i < f->nnics && strcmp(ip, "0.0.0.0") == 0; i++)
            for (int a = 0; a < f->nics[i].naddrs; a++)
                if (strchr(f->nics[i].addrs[a], ':') == NULL) {
                    mc_strlcpy(ip, f->nics[i].addrs[a], sizeof ip);
                    break;
                }
        char *sl = strchr(ip, '/');
        if (sl) *sl = '\0';
        for (char *p = ip; *p; p++)
            if (*p == '.') *p = '-';
        snprintf(f->hostname, sizeof f->hostname, "host-%s", ip);
    } else {
        mc_strlcpy(f->hostname, fqdn, sizeof f->hostname);
        char *dot = strchr(f->hostname, '.');   /* cloud-init sets the short name */
        if (dot) *dot = '\0';
    }
    if (hmode != 0) {
        const char *src = srv->profile->src[MC_KNOB_GUEST_HOSTNAME];
        if (src) snprintf(devs + strlen(devs), devsz - strlen(devs), "%s%s", *devs ? "," : "", src);
    }
}

/* ---------------------------------------------------------------- sessions */

static void sess_free(g_sess *s) {
    mc_guest *g = s->g;
    for (g_sess **pp = &g->ss; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    if (s->rev) event_free(s->rev);
    if (s->wev) event_free(s->wev);
    if (s->tmo) event_free(s->tmo);
    if (s->ss != NULL) {
        if (s->sev != NULL) {
            ssh_event_remove_session(s->sev, s->ss);
            ssh_event_free(s->sev);
        }
        for (int i = 0; i < s->nchans; i++) free(s->chans[i]->cmd);
        ssh_disconnect(s->ss);
        ssh_free(s->ss);   /* frees the channels and closes the socket */
        for (int i = 0; i < s->nchans; i++) free(s->chans[i]);
    } else if (s->fd >= 0) {
        close(s->fd);
    }
    free(s);
}

/* The server behind a session's address, when it still answers. */
static mc_record *sess_server(g_sess *s, mc_record **port) {
    mc_record *p = addr_port(s->g->srv, s->addr);
    mc_record *server = port_server(s->g->srv, p);
    if (port) *port = p;
    return server && server_up(server) ? server : NULL;
}

static void journal(g_sess *s, const char *what, int status, const char *devs) {
    char path[256];
    snprintf(path, sizeof path, "%s@%s: %s", s->user[0] ? s->user : "-", s->addr, what);
    mc_record *port = addr_port(s->g->srv, s->addr);
    mc_journal_event(s->g->srv, MC_COMPUTE, path, status, port ? port->project_id : "", devs);
}

static int auth_pubkey(ssh_session session, const char *user, struct ssh_key_struct *pubkey, char state, void *ud) {
    (void)session;
    g_sess *s = ud;
    mc_record *server = sess_server(s, NULL);
    if (server == NULL || (state != SSH_PUBLICKEY_STATE_NONE && state != SSH_PUBLICKEY_STATE_VALID)) return SSH_AUTH_DENIED;
    const char *pw;
    if (strcmp(user, login_user(s->g->srv, mc_compute_server_doc(server), &pw)) != 0) return SSH_AUTH_DENIED;
    const char *pk = mc_metadata_public_key(s->g->srv, server);
    if (pk == NULL) return SSH_AUTH_DENIED;
    /* "ssh-rsa AAAA... comment" (one or more lines: authorized_keys) */
    char *copy = strdup(pk);
    if (copy == NULL) mc_panic("out of memory");
    bool ok = false;
    for (char *line = copy, *next; line && !ok; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = '\0';
        char *sp = strchr(line, ' ');
        if (sp == NULL) continue;
        *sp = '\0';
        char *b64 = sp + 1, *end = strchr(b64, ' ');
        if (end) *end = '\0';
        ssh_key k = NULL;
        enum ssh_keytypes_e type = ssh_key_type_from_name(line);
        if (type != SSH_KEYTYPE_UNKNOWN && ssh_pki_import_pubkey_base64(b64, type, &k) == SSH_OK)
            ok = ssh_key_cmp(k, pubkey, SSH_KEY_CMP_PUBLIC) == 0;
        ssh_key_free(k);
    }
    free(copy);
    if (!ok) return SSH_AUTH_DENIED;
    if (state == SSH_PUBLICKEY_STATE_VALID) {
        s->authed = true;
        mc_strlcpy(s->user, user, sizeof s->user);
    }
    return SSH_AUTH_SUCCESS;
}

static int auth_password(ssh_session session, const char *user, const char *password, void *ud) {
    (void)session;
    g_sess *s = ud;
    mc_record *server = sess_server(s, NULL);
    if (server == NULL) return SSH_AUTH_DENIED;
    const char *pw;
    const cJSON *d = mc_compute_server_doc(server);
    if (strcmp(user, login_user(s->g->srv, d, &pw)) != 0 || pw == NULL) return SSH_AUTH_DENIED;
    /* an image that takes passwords: its own, or the adminPass Nova set (create, rebuild) */
    const char *admin = mc_json_str(d, "admin_pass");
    if (strcmp(password, pw) != 0 && (admin == NULL || *admin == '\0' || strcmp(password, admin) != 0))
        return SSH_AUTH_DENIED;
    s->authed = true;
    mc_strlcpy(s->user, user, sizeof s->user);
    return SSH_AUTH_SUCCESS;
}

static int ch_exec(ssh_session session, ssh_channel channel, const char *command, void *ud) {
    (void)session; (void)channel;
    g_chan *c = ud;
    if (c->cmd != NULL || c->shell) return SSH_ERROR;
    c->cmd = strdup(command);
    if (c->cmd == NULL) mc_panic("out of memory");
    return SSH_OK;
}

static int ch_pty(ssh_session session, ssh_channel channel, const char *term, int w, int h, int pw, int ph, void *ud) {
    (void)session; (void)channel; (void)term; (void)w; (void)h; (void)pw; (void)ph;
    ((g_chan *)ud)->pty = true;
    return SSH_OK;
}

static int ch_env(ssh_session session, ssh_channel channel, const char *name, const char *value, void *ud) {
    (void)session; (void)channel; (void)name; (void)value; (void)ud;
    return SSH_OK;
}

static void prompt(g_chan *c) {
    const char *u = c->s->user;
    char p[128];
    snprintf(p, sizeof p, "%s$ ", u);
    ssh_channel_write(c->ch, p, (uint32_t)strlen(p));
}

static int ch_shell(ssh_session session, ssh_channel channel, void *ud) {
    (void)session; (void)channel;
    g_chan *c = ud;
    if (c->cmd != NULL) return SSH_ERROR;
    c->shell = true;
    return SSH_OK;
}

/* Runs one command line for a channel; the output goes out at once. */
static int chan_run(g_chan *c, const char *cmd) {
    g_sess *s = c->s;
    mc_record *server = sess_server(s, NULL);
    if (server == NULL) return -1;
    mc_guest_facts f;
    char devs[256] = "";
    facts_of(s->g->srv, server, s->user, &f, devs, sizeof devs);
    char *out, *err;
    int rc = mc_guest_shell(&f, cmd, &out, &err);
    if (c->pty) {   /* a terminal turns \n into \r\n */
        for (char *p = out; *p; p++) {
            char *nl = strchr(p, '\n');
            if (nl == NULL) {
                ssh_channel_write(c->ch, p, (uint32_t)strlen(p));
                break;
            }
            if (nl > p) ssh_channel_write(c->ch, p, (uint32_t)(nl - p));
            ssh_channel_write(c->ch, "\r\n", 2);
            p = nl;
        }
        if (*err) ssh_channel_write(c->ch, err, (uint32_t)strlen(err));
    } else {
        if (*out) ssh_channel_write(c->ch, out, (uint32_t)strlen(out));
        if (*err) ssh_channel_write_stderr(c->ch, err, (uint32_t)strlen(err));
    }
    char what[200];
    snprintf(what, sizeof what, "%.190s", cmd);
    journal(s, what, rc, devs);
    mc_log(MC_LOG_DEBUG, "guest %s@%s: %s -> %d", s->user, s->addr, cmd, rc);
    free(out);
    free(err);
    return rc;
}

static void chan_finish(g_chan *c, int rc) {
    ssh_channel_request_send_exit_status(c->ch, rc);
    ssh_channel_send_eof(c->ch);
    ssh_channel_close(c->ch);
    c->done = true;
}

static int ch_data(ssh_session session, ssh_channel channel, void *data, uint32_t len, int is_stderr, void *ud) {
    (void)session; (void)channel; (void)is_stderr;
    g_chan *c = ud;
    if (!c->shell || c->done) return (int)len;
    const char *p = data;
    for (uint32_t i = 0; i < len && !c->done; i++) {
        char ch = p[i];
        if (c->pty && ch == 4 && c->linelen == 0) {   /* ^D */
            chan_finish(c, 0);
            break;
        }
        if (c->pty && (ch == 127 || ch == 8)) {
            if (c->linelen > 0) {
                c->linelen--;
                ssh_channel_write(c->ch, "\b \b", 3);
            }
            continue;
        }
        if (ch == '\r' || ch == '\n') {
            if (c->pty) ssh_channel_write(c->ch, "\r\n", 2);
            c->line[c->linelen] = '\0';
            c->linelen = 0;
            if (strcmp(c->line, "exit") == 0 || strncmp(c->line, "exit ", 5) == 0 || strcmp(c->line, "logout") == 0) {
                chan_finish(c, (int)(strtol(c->line + 4, NULL, 10) & 255));
                break;
            }
            if (c->line[0] && chan_run(c, c->line) < 0) {
                chan_finish(c, 255);
                break;
            }
            if (c->pty) prompt(c);
            continue;
        }
        if (c->linelen + 1 < sizeof c->line) {
            c->line[c->linelen++] = ch;
            if (c->pty) ssh_channel_write(c->ch, &ch, 1);
        }
    }
    return (int)len;
}

static void ch_eof(ssh_session session, ssh_channel channel, void *ud) {
    (void)session; (void)channel;
    g_chan *c = ud;
    if (c->shell && !c->done) {
        if (c->linelen > 0) {
            c->line[c->linelen] = '\0';
            c->linelen = 0;
            (void)chan_run(c, c->line);
        }
        chan_finish(c, 0);
    }
}

static ssh_channel open_session(ssh_session session, void *ud) {
    g_sess *s = ud;
    if (!s->authed || s->nchans >= GUEST_MAX_CHANS) return NULL;
    g_chan *c = calloc(1, sizeof *c);
    if (c == NULL) mc_panic("out of memory");
    c->s = s;
    c->ch = ssh_channel_new(session);
    if (c->ch == NULL) {
        free(c);
        return NULL;
    }
    c->cb.userdata = c;
    c->cb.channel_exec_request_function = ch_exec;
    c->cb.channel_pty_request_function = ch_pty;
    c->cb.channel_shell_request_function = ch_shell;
    c->cb.channel_env_request_function = ch_env;
    c->cb.channel_data_function = ch_data;
    c->cb.channel_eof_function = ch_eof;
    ssh_callbacks_init(&c->cb);
    ssh_set_channel_callbacks(c->ch, &c->cb);
    s->chans[s->nchans++] = c;
    return c->ch;
}

/* After libssh handled what arrived: run the pending commands, watch for
 * writability when output is queued, notice the end. */
static void sess_after(g_sess *s) {
    for (int i = 0; i < s->nchans; i++) {
        g_chan *c = s->chans[i];
        if (c->done) continue;
        if (c->cmd != NULL) {
            int rc = chan_run(c, c->cmd);
            chan_finish(c, rc < 0 ? 255 : rc);
        } else if (c->shell && c->pty && !c->prompted) {
            c->prompted = true;   /* the first prompt of an interactive login */
            prompt(c);
        }
    }
    int st = ssh_get_status(s->ss);
    if ((st & (SSH_CLOSED | SSH_CLOSED_ERROR)) || !ssh_is_connected(s->ss)) {
        s->dead = true;
        return;
    }
    if (ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING) event_add(s->wev, NULL);
}

static void sess_io(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    g_sess *s = arg;
    if (what & EV_TIMEOUT) {
        sess_free(s);
        return;
    }
    if (!s->kex_done) {
        int rc = ssh_handle_key_exchange(s->ss);
        if (rc == SSH_AGAIN) {
            if (ssh_get_poll_flags(s->ss) & SSH_WRITE_PENDING) event_add(s->wev, NULL);
            return;
        }
        if (rc != SSH_OK) {
            mc_log(MC_LOG_DEBUG, "guest %s: key exchange failed: %s", s->addr, ssh_get_error(s->ss));
            sess_free(s);
            return;
        }
        s->kex_done = true;
        s->sev = ssh_event_new();
        if (s->sev == NULL || ssh_event_add_session(s->sev, s->ss) != SSH_OK) {
            sess_free(s);
            return;
        }
    }
    if (ssh_event_dopoll(s->sev, 0) == SSH_ERROR && !ssh_is_connected(s->ss)) {
        sess_free(s);
        return;
    }
    sess_after(s);
    if (s->dead) {
        sess_free(s);
        return;
    }
    struct timeval idle = {GUEST_IDLE_S, 0};
    event_add(s->tmo, &idle);
}

static void drop_timeout(evutil_socket_t fd, short what, void *arg) {
    (void)fd; (void)what;
    sess_free(arg);
}

static void reset_close(int fd) {
    struct linger lg = {1, 0};
    (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg) {
    (void)what;
    g_listener *l = arg;
    mc_guest *g = l->g;
    for (int n = 0; n < 16; n++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) return;
        (void)evutil_make_socket_nonblocking(fd);
        (void)evutil_make_socket_closeonexec(fd);
        char peer[64] = "";
        if (ss.ss_family == AF_INET) inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, peer, sizeof peer);
        mc_record *port = addr_port(g->srv, l->addr);
        mc_record *server = port_server(g->srv, port);
        if (server == NULL || !server_up(server)) {
            reset_close(fd);   /* the state changed since the last sync: refused */
            mc_guest_sync(g->srv);
            return;
        }
        g_sess *s = calloc(1, sizeof *s);
        if (s == NULL) mc_panic("out of memory");
        s->g = g;
        s->fd = fd;
        mc_strlcpy(s->addr, l->addr, sizeof s->addr);
        mc_strlcpy(s->peer, peer, sizeof s->peer);
        s->next = g->ss;
        g->ss = s;
        if (!sg_allows_ssh(g->srv, port, peer)) {
            /* Neutron drops the packets: hold the connection silent */
            s->dropped = true;
            journal(s, "connection dropped: no security group rule allows ingress tcp/22", 0, NULL);
            s->tmo = evtimer_new(g->srv->base, drop_timeout, s);
            struct timeval tv = {GUEST_DROP_S, 0};
            event_add(s->tmo, &tv);
            continue;
        }
        s->ss = ssh_new();
        if (s->ss == NULL || ssh_bind_accept_fd(g->bind, s->ss, fd) != SSH_OK) {
            mc_log(MC_LOG_WARN, "guest %s: cannot start an SSH session: %s", l->addr, s->ss ? ssh_get_error(g->bind) : "");
            if (s->ss) ssh_free(s->ss);
            s->ss = NULL;
            sess_free(s);
            continue;
        }
        ssh_set_blocking(s->ss, 0);
        s->scb.userdata = s;
        s->scb.auth_pubkey_function = auth_pubkey;
        s->scb.auth_password_function = auth_password;
        s->scb.channel_open_request_session_function = open_session;
        ssh_callbacks_init(&s->scb);
        ssh_set_server_callbacks(s->ss, &s->scb);
        ssh_set_auth_methods(s->ss, SSH_AUTH_METHOD_PUBLICKEY | SSH_AUTH_METHOD_PASSWORD);
        s->rev = event_new(g->srv->base, fd, EV_READ | EV_PERSIST, sess_io, s);
        s->wev = event_new(g->srv->base, fd, EV_WRITE, sess_io, s);
        s->tmo = evtimer_new(g->srv->base, sess_io, s);
        event_add(s->rev, NULL);
        struct timeval idle = {GUEST_IDLE_S, 0};
        event_add(s->tmo, &idle);
        sess_io(fd, EV_WRITE, s);   /* send the banner now */
    }
}

/* ---------------------------------------------------------------- listeners */

static g_listener *listener_open(mc_guest *g, const char *addr) {
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g->port);
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) return NULL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return NULL;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
        mc_log(MC_LOG_WARN, "guest: cannot listen on %s:%d: %s", addr, g->port, strerror(errno));
        close(fd);
        return NULL;
    }
    g_listener *l = calloc(1, sizeof *l);
    if (l == NULL) mc_panic("out of memory");
    mc_strlcpy(l->addr, addr, sizeof l->addr);
    l->g = g;
    l->fd = fd;
    l->ev = event_new(g->srv->base, fd, EV_READ | EV_PERSIST, on_accept, l);
    event_add(l->ev, NULL);
    mc_log(MC_LOG_INFO, "guest: SSH on %s:%d", addr, g->port);
    return l;
}

static void listener_close(mc_guest *g, g_listener *l) {
    /* the sessions on this address go with it (the guest is gone or unreachable) */
    for (g_sess *s = g->ss, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->addr, l->addr) == 0) sess_free(s);
    }
    event_free(l->ev);
    close(l->fd);
    mc_log(MC_LOG_INFO, "guest: SSH on %s:%d closed", l->addr, g->port);
    free(l);
}

static void want(mc_guest *g, const char *addr) {
    if (!is_loopback4(addr) || strcmp(addr, "127.0.0.1") == 0) return;
    for (g_listener *l = g->ls; l; l = l->next)
        if (strcmp(l->addr, addr) == 0) {
            l->want = true;
            return;
        }
    g_listener *l = listener_open(g, addr);
    if (l == NULL) return;
    l->want = true;
    l->next = g->ls;
    g->ls = l;
}

void mc_guest_sync(mc_server *srv) {
    mc_guest *g = G(srv);
    if (g == NULL) return;
    for (g_listener *l = g->ls; l; l = l->next) l->want = false;
    for (mc_record *f = mc_store_first(&srv->world[MC_K_FLOATINGIP]); f; f = mc_store_next(f)) {
        const char *a = mc_json_str(f->doc, "floating_ip_address"), *pid = mc_json_str(f->doc, "port_id");
        if (!is_loopback4(a) || pid == NULL) continue;
        mc_record *server = port_server(srv, mc_store_find(&srv->world[MC_K_PORT], pid));
        if (server && server_up(server)) want(g, a);
    }
    for (mc_record *p = mc_store_first(&srv->world[MC_K_PORT]); p; p = mc_store_next(p)) {
        if (!port_is_compute(p)) continue;
        const cJSON *ip;
        bool checked = false, up = false;
        cJSON_ArrayForEach(ip, mc_json_arr(p->doc, "fixed_ips")) {
            const char *a = mc_json_str(ip, "ip_address");
            if (!is_loopback4(a)) continue;
            if (!checked) {
                mc_record *server = port_server(srv, p);
                up = server && server_up(server);
                checked = true;
            }
            if (up) want(g, a);
        }
    }
    for (g_listener **pp = &g->ls; *pp;) {
        g_listener *l = *pp;
        if (l->want) {
            pp = &l->next;
            continue;
        }
        *pp = l->next;
        listener_close(g, l);
    }
}

/* ---------------------------------------------------------------- mode */

static void rewrite_addr(cJSON *obj, const char *key, const char *prefix) {
    const char *a = mc_json_str(obj, key);
    if (a == NULL || strchr(a, ':') != NULL) return;
    const char *last = strrchr(a, '.');
    if (last == NULL) return;
    char buf[64];
    snprintf(buf, sizeof buf, "%s%s", prefix, last);
    mc_json_set_str(obj, key, buf);
}

void mc_guest_fixtures(mc_server *srv, cJSON *fx) {
    mc_guest *g = G(srv);
    if (g == NULL) return;
    cJSON *net;
    cJSON_ArrayForEach(net, mc_json_arr(fx, "networks")) {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(net, "router:external"))) continue;
        cJSON *sub;
        cJSON_ArrayForEach(sub, mc_json_arr(net, "subnets")) {
            const char *cidr = mc_json_str(sub, "cidr");
            if (cidr == NULL || strchr(cidr, ':') != NULL) continue;
            char c[64];
            snprintf(c, sizeof c, "%s.0/24", g->prefix);
            mc_json_set_str(sub, "cidr", c);
            rewrite_addr(sub, "gateway_ip", g->prefix);
            cJSON *pool;
            cJSON_ArrayForEach(pool, mc_json_arr(sub, "allocation_pools")) {
                rewrite_addr(pool, "start", g->prefix);
                rewrite_addr(pool, "end", g->prefix);
            }
            mc_log(MC_LOG_INFO, "guest: external subnet %s moved to %s (floating IPs answer SSH on port %d)",
                   mc_json_str(sub, "name") ? mc_json_str(sub, "name") : "?", c, g->port);
        }
    }
}

int mc_guest_start(mc_server *srv, char *err, size_t errsz) {
    if (srv->cfg.guest_port <= 0) return 0;
    mc_guest *g = calloc(1, sizeof *g);
    if (g == NULL) mc_panic("out of memory");
    g->srv = srv;
    g->port = srv->cfg.guest_port;
    snprintf(g->prefix, sizeof g->prefix, "127.%d.%d", (srv->port >> 8) & 255, srv->port & 255);
    if (((srv->port >> 8) & 255) == 0) snprintf(g->prefix, sizeof g->prefix, "127.%d.%d", 250, srv->port & 255);
    ssh_key key = NULL;
    g->bind = ssh_bind_new();
    if (g->bind == NULL || ssh_pki_generate(SSH_KEYTYPE_ED25519, 0, &key) != SSH_OK ||
        ssh_bind_options_set(g->bind, SSH_BIND_OPTIONS_IMPORT_KEY, key) != SSH_OK) {
        snprintf(err, errsz, "guest: cannot make an SSH host key (libssh %s)", ssh_version(0));
        ssh_key_free(key);
        if (g->bind) ssh_bind_free(g->bind);
        free(g);
        return -1;
    }
    /* the bind took the key: no ssh_key_free here */
    /* Can the port be bound in our /24 at all (root for 22, nothing else
     * there already)? Fail now, loudly, rather than at the first floating IP. */
    char probe[32];
    snprintf(probe, sizeof probe, "%s.254", g->prefix);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)g->port);
    inet_pton(AF_INET, probe, &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        snprintf(err, errsz, "--guest-ssh: cannot bind %s:%d: %s%s", probe, g->port, strerror(errno),
                 g->port < 1024 && geteuid() != 0 ? " (ports below 1024 need root: --guest-ssh=PORT)" : "");
        if (fd >= 0) close(fd);
        ssh_bind_free(g->bind);
        free(g);
        return -1;
    }
    close(fd);
    srv->guest = g;
    mc_log(MC_LOG_INFO, "guest: SSH mode on: floating IPs in %s.0/24 answer on port %d", g->prefix, g->port);
    return 0;
}

void mc_guest_free(mc_server *srv) {
    mc_guest *g = G(srv);
    if (g == NULL) return;
    while (g->ls) {
        g_listener *l = g->ls;
        g->ls = l->next;
        listener_close(g, l);
    }
    while (g->ss) sess_free(g->ss);
    ssh_bind_free(g->bind);
    free(g);
    srv->guest = NULL;
}
