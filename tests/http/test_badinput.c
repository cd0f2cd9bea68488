/* test_badinput.c -- bad input gets a clear error, never a crash or lost state.
 *
 * One table, routes[], names every route of the four services, the metadata
 * service and the control API that takes a body or an id, with a valid body
 * (the baseline) and the typed members of that body. Three parameterized
 * tests walk it, one route per test process (a fresh world each):
 *
 *   body/  malformed JSON, an array/string/number/null instead of the object,
 *          the wrapper key with the wrong type, then every typed member
 *          replaced by each wrong value of its type (string where an int is
 *          expected, null, 300-deep objects, 5,000-byte strings, floats,
 *          negatives, 1e300...), and a body over --max-body (413); finally the
 *          baseline itself must succeed, so the bad cases are not vacuous;
 *   ids/   each id segment unknown (a UUID, garbage, 1,000 bytes, an encoded
 *          NUL), and each id another project's resource (404 in Nova, Neutron
 *          and Glance, which hide it; 403 in Keystone);
 *   auth/  no token, a garbage token, an expired token and a revoked one: 401
 *          in keystonemiddleware's body, which every real service answers with.
 *
 * After every rejected request the world must be unchanged: the fingerprint
 * (every record of every store, printed, plus tokens, faults and the profile)
 * is compared before and after, so a failed create cannot leave a port, an IP
 * or quota behind. Every error body is checked against its service's dialect.
 * Ids are created lazily per route ("{server}" is the caller's server,
 * "{a:server}" alt_demo's). */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "compute.h"
#include "http.h"
#include "journal.h"
#include "harness.h"
#include "util.h"

#define CIRROS "3f9c1a52-7b1e-4c5d-9a8e-2b6f0d4c8e71"
#define PUBLIC_NET "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
#define MAX_BODY 8192

/* Who calls: demo, alt_demo, admin, or nobody (routes without auth). */
enum { DEMO, ALT, ADMIN, NOBODY, NWHO };

/* Row flags. */
enum {
    EMPTY_OK = 1 << 0,   /* {} is a valid body */
    NO_BASE = 1 << 1,    /* the baseline cannot be replayed (skip its check) */
    NO_AUTH = 1 << 2,    /* the route needs no token */
    PATCH_DOC = 1 << 3,  /* Glance JSON patch: members become [{"op":"replace",...}] */
    ALT_403 = 1 << 4,    /* Keystone: policy runs before the lookup, so a first id not the
                            caller's is 403 whether it exists or not (not 404) */
    NO_ALT = 1 << 5,     /* ids are global or admin-only: no other-project case */
    NO_UNKNOWN = 1 << 6, /* an unknown id is not an error (PUT creates) */
};

typedef struct route {
    int who;
    enum evhttp_cmd_type m;
    const char *path;    /* "/compute/v2.1/servers/{server}" */
    const char *mv;      /* compute microversion, or NULL */
    const char *wrap;    /* the body's wrapper key, or NULL */
    const char *base;    /* a valid body (JSON), or NULL when the route takes none */
    const char *fields;  /* "name=s|ram=i|...": members of base[wrap] (dotted paths nest) */
    int flags;
} route;

#define GET EVHTTP_REQ_GET
#define POST EVHTTP_REQ_POST
#define PUT EVHTTP_REQ_PUT
#define DEL EVHTTP_REQ_DELETE
#define PATCH EVHTTP_REQ_PATCH
#define ID "/identity/v3"
#define C "/compute/v2.1"
#define N "/network/v2.0"
#define G "/image/v2"
#define PW "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"demo\"," \
           "\"domain\":{\"id\":\"default\"},\"password\":\"secret\"}}},\"scope\":{\"project\":{\"name\":\"demo\"," \
           "\"domain\":{\"id\":\"default\"}}}}}"

/* Member types (the letter after '='): what is wrong for each is vals[] below.
 * s string, S nullable string, e enum string, i count (>= 0), q quota (>= -1),
 * I nullable int, p Neutron count (its converter takes 1.5 and true as 1), P
 * nullable p, b boolean (or its string forms), B JSON boolean only (Keystone,
 * Glance), v scalar, l string of any length (L nullable), R nullable r, o object, O nullable object, a array, A nullable array,
 * r array of strings, m metadata (object of strings). */
static const route routes[] = {
    /* ---- Keystone */
    {NOBODY, POST, ID "/auth/tokens", NULL, "auth", PW,
     "identity=o|identity.methods=r|identity.password=o|identity.password.user=o|identity.password.user.name=l|"
     "identity.password.user.password=s|identity.password.user.domain=o|scope.project=o|scope.project.name=l",
     NO_AUTH},
    {DEMO, GET, ID "/domains/{domain}", NULL, NULL, NULL, NULL, NO_ALT},
    {DEMO, GET, ID "/projects/{project}", NULL, NULL, NULL, NULL, ALT_403},
    {ADMIN, POST, ID "/projects", NULL, "project", "{\"project\":{\"name\":\"p-bad\",\"domain_id\":\"default\"}}",
     "name=s|description=L|enabled=B|domain_id=S|parent_id=S|is_domain=B|tags=r", 0},
    {ADMIN, PATCH, ID "/projects/{scratch_project}", NULL, "project", "{\"project\":{\"description\":\"d\"}}",
     "name=s|description=L|enabled=B|tags=r", NO_ALT},
    {ADMIN, DEL, ID "/projects/{scratch_project}", NULL, NULL, NULL, NULL, NO_ALT},
    {ADMIN, PUT, ID "/projects/{project}/users/{user}/roles/{role}", NULL, NULL, NULL, NULL, NO_ALT},
    {ADMIN, POST, ID "/users", NULL, "user", "{\"user\":{\"name\":\"u-bad\",\"password\":\"pw\"}}",
     "name=s|password=S|enabled=B|domain_id=S|default_project_id=S|description=L", 0},
    {DEMO, GET, ID "/users/{user}", NULL, NULL, NULL, NULL, ALT_403},
    {ADMIN, PATCH, ID "/users/{scratch_user}", NULL, "user", "{\"user\":{\"description\":\"d\"}}",
     "name=s|password=S|enabled=B|default_project_id=S|description=L", NO_ALT},
    {NOBODY, POST, ID "/users/{scratch_user}/password", NULL, "user",
     "{\"user\":{\"password\":\"new-secret-1\",\"original_password\":\"secret\"}}", "password=s|original_password=s",
     NO_AUTH},
    {DEMO, POST, ID "/users/{user}/application_credentials", NULL, "application_credential",
     "{\"application_credential\":{\"name\":\"ac-bad\"}}",
     "name=s|description=L|secret=L|expires_at=S|roles=a|unrestricted=B|access_rules=a", ALT_403},
    {DEMO, GET, ID "/users/{user}/application_credentials/{appcred}", NULL, NULL, NULL, NULL, ALT_403},
    {ADMIN, POST, ID "/roles", NULL, "role", "{\"role\":{\"name\":\"r-bad\"}}", "name=s|description=L|domain_id=S", 0},
    {ADMIN, GET, ID "/roles/{role}", NULL, NULL, NULL, NULL, NO_ALT},

    /* ---- Nova */
    {ADMIN, POST, C "/flavors", "2.55", "flavor", "{\"flavor\":{\"name\":\"f-bad\",\"ram\":64,\"vcpus\":1,\"disk\":1}}",
     "name=s|ram=i|vcpus=i|disk=i|swap=i|OS-FLV-EXT-DATA:ephemeral=i|os-flavor-access:is_public=b|"
     "description=L",
     0},
    {DEMO, GET, C "/flavors/{flavor}", NULL, NULL, NULL, NULL, NO_ALT},
    {ADMIN, PUT, C "/flavors/{flavor}", "2.55", "flavor", "{\"flavor\":{\"description\":\"d\"}}", "description=L",
     NO_ALT},
    {ADMIN, POST, C "/flavors/{flavor}/os-extra_specs", NULL, "extra_specs", "{\"extra_specs\":{\"hw:x\":\"1\"}}",
     "hw:x=v", NO_ALT},
    {ADMIN, POST, C "/flavors/6/action", NULL, "addTenantAccess", "{\"addTenantAccess\":{\"tenant\":\"{project}\"}}",
     "tenant=s", NO_ALT | NO_BASE},
    {DEMO, POST, C "/os-keypairs", "2.2", "keypair", "{\"keypair\":{\"name\":\"kp-bad\"}}", "name=s|type=e|public_key=s",
     0},
    {DEMO, GET, C "/os-keypairs/{keypair}", NULL, NULL, NULL, NULL, 0},
    {ADMIN, PUT, C "/os-quota-sets/{project}", NULL, "quota_set", "{\"quota_set\":{\"instances\":20}}",
     "instances=q|cores=q|ram=q|key_pairs=q|metadata_items=q|force=b", NO_ALT | NO_UNKNOWN},
    {DEMO, POST, C "/os-security-groups", "2.1", "security_group",
     "{\"security_group\":{\"name\":\"sg-bad\",\"description\":\"d\"}}", "name=s|description=s", 0},
    {DEMO, PUT, C "/os-security-groups/{sg}", "2.1", "security_group",
     "{\"security_group\":{\"name\":\"sg-bad\",\"description\":\"d\"}}", "name=s|description=s", 0},
    {DEMO, POST, C "/os-security-group-rules", "2.1", "security_group_rule",
     "{\"security_group_rule\":{\"parent_group_id\":\"{sg}\",\"ip_protocol\":\"tcp\",\"from_port\":22,"
     "\"to_port\":22,\"cidr\":\"10.0.0.0/8\"}}",
     "parent_group_id=s|ip_protocol=S|from_port=I|to_port=I|cidr=S", 0},
    {DEMO, POST, C "/images/{image}/metadata", "2.1", "metadata", "{\"metadata\":{\"k\":\"v\"}}", "k=s", 0},
    {DEMO, POST, C "/os-server-groups", "2.64", "server_group",
     "{\"server_group\":{\"name\":\"g-bad\",\"policy\":\"affinity\"}}", "name=s|policy=e|rules=o", 0},
    {DEMO, GET, C "/os-server-groups/{sgroup}", NULL, NULL, NULL, NULL, 0},
    {DEMO, POST, C "/servers", "2.90", "server",
     "{\"server\":{\"name\":\"vm-bad\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":[{\"uuid\":"
     "\"{net}\"}]}}",
     "name=s|flavorRef=s|imageRef=s|networks=e|min_count=i|max_count=i|config_drive=b|return_reservation_id=b|"
     "metadata=m|security_groups=a|key_name=S|user_data=L|availability_zone=s|adminPass=l|OS-DCF:diskConfig=e|"
     "accessIPv4=s|description=S|tags=r|hostname=s|block_device_mapping_v2=a|trusted_image_certificates=A",
     0},
    {DEMO, GET, C "/servers/{server}", NULL, NULL, NULL, NULL, 0},
    {DEMO, PUT, C "/servers/{server}", "2.90", "server", "{\"server\":{\"name\":\"vm-renamed\"}}",
     "name=s|description=S|accessIPv4=s|hostname=s", 0},
    {DEMO, DEL, C "/servers/{server}", NULL, NULL, NULL, NULL, NO_BASE},
    {DEMO, POST, C "/servers/{server}/action", NULL, "reboot", "{\"reboot\":{\"type\":\"SOFT\"}}", "type=e", 0},
    {DEMO, POST, C "/servers/{server}/action", NULL, "resize", "{\"resize\":{\"flavorRef\":\"84\"}}", "flavorRef=s", 0},
    {DEMO, POST, C "/servers/{server}/action", "2.45", "createImage",
     "{\"createImage\":{\"name\":\"snap-bad\",\"metadata\":{\"k\":\"v\"}}}", "name=s|metadata=m", 0},
    {DEMO, POST, C "/servers/{server}/action", NULL, "rebuild",
     "{\"rebuild\":{\"imageRef\":\"" CIRROS "\",\"name\":\"vm-rebuilt\"}}", "imageRef=s|name=s|adminPass=l|metadata=m",
     0},
    {DEMO, POST, C "/servers/{server}/action", NULL, "changePassword", "{\"changePassword\":{\"adminPass\":\"pw\"}}",
     "adminPass=l", 0},
    {DEMO, POST, C "/servers/{server}/action", NULL, "addSecurityGroup",
     "{\"addSecurityGroup\":{\"name\":\"default\"}}", "name=s", NO_BASE},
    {DEMO, POST, C "/servers/{server}/action", NULL, "os-getConsoleOutput",
     "{\"os-getConsoleOutput\":{\"length\":10}}", "length=I", 0},
    {DEMO, POST, C "/servers/{server}/action", "2.73", "lock", "{\"lock\":{\"locked_reason\":\"why\"}}",
     "locked_reason=s", EMPTY_OK},
    {DEMO, POST, C "/servers/{server}/metadata", NULL, "metadata", "{\"metadata\":{\"k\":\"v\"}}", "k=s", 0},
    {DEMO, PUT, C "/servers/{server}/metadata/k", NULL, "meta", "{\"meta\":{\"k\":\"v\"}}", "k=s", 0},
    {DEMO, PUT, C "/servers/{server}/tags", "2.26", NULL, "{\"tags\":[\"t1\"]}", "tags=r", 0},
    {DEMO, POST, C "/servers/{server}/os-interface", NULL, "interfaceAttachment",
     "{\"interfaceAttachment\":{\"net_id\":\"{net}\"}}", "net_id=s|port_id=s|fixed_ips=a", 0},
    {DEMO, GET, C "/servers/{server}/os-interface/{port}", NULL, NULL, NULL, NULL, 0},
    {DEMO, GET, C "/servers/{server}/os-instance-actions", NULL, NULL, NULL, NULL, 0},

    /* ---- Neutron */
    {DEMO, POST, N "/networks", NULL, "network", "{\"network\":{\"name\":\"n-bad\"}}",
     "name=s|admin_state_up=b|mtu=p|port_security_enabled=b|description=s|shared=b", 0},
    {DEMO, PUT, N "/networks/{net}", NULL, "network", "{\"network\":{\"description\":\"d\"}}",
     "name=s|admin_state_up=b|mtu=p|description=s", 0},
    {DEMO, DEL, N "/networks/{scratch_net}", NULL, NULL, NULL, NULL, NO_BASE},
    {DEMO, POST, N "/subnets", NULL, "subnet",
     "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4}}",
     "network_id=s|cidr=s|ip_version=p|name=s|enable_dhcp=b|gateway_ip=S|allocation_pools=a|dns_nameservers=R|"
     "host_routes=A|prefixlen=p",
     0},
    {DEMO, PUT, N "/subnets/{subnet}", NULL, "subnet", "{\"subnet\":{\"name\":\"s2\"}}",
     "name=s|enable_dhcp=b|gateway_ip=S|allocation_pools=a|dns_nameservers=R|host_routes=A", 0},
    {DEMO, POST, N "/subnetpools", NULL, "subnetpool",
     "{\"subnetpool\":{\"name\":\"sp-bad\",\"prefixes\":[\"10.200.0.0/16\"],\"default_prefixlen\":24}}",
     "name=s|prefixes=r|default_prefixlen=p|min_prefixlen=p|max_prefixlen=p|shared=b|is_default=b", 0},
    {DEMO, PUT, N "/subnetpools/{pool}", NULL, "subnetpool", "{\"subnetpool\":{\"name\":\"sp2\"}}",
     "name=s|default_prefixlen=p|prefixes=r", 0},
    {DEMO, POST, N "/ports", NULL, "port", "{\"port\":{\"network_id\":\"{net}\"}}",
     "network_id=s|name=s|admin_state_up=b|fixed_ips=a|mac_address=s|security_groups=R|device_id=s|"
     "device_owner=s|allowed_address_pairs=A|port_security_enabled=b",
     0},
    {DEMO, PUT, N "/ports/{port}", NULL, "port", "{\"port\":{\"name\":\"p2\"}}",
     "name=s|admin_state_up=b|fixed_ips=a|security_groups=R|allowed_address_pairs=A", 0},
    {DEMO, POST, N "/routers", NULL, "router", "{\"router\":{\"name\":\"r-bad\"}}",
     "name=s|admin_state_up=b|external_gateway_info=O|description=s", 0},
    {DEMO, PUT, N "/routers/{router}", NULL, "router", "{\"router\":{\"name\":\"r2\"}}",
     "name=s|admin_state_up=b|external_gateway_info=O|routes=A", 0},
    {DEMO, PUT, N "/routers/{router}/add_router_interface", NULL, NULL, "{\"subnet_id\":\"{subnet}\"}",
     "subnet_id=l|port_id=l", NO_BASE},
    {DEMO, PUT, N "/routers/{router}/remove_router_interface", NULL, NULL, "{\"subnet_id\":\"{subnet}\"}",
     "subnet_id=l|port_id=l", NO_BASE},
    {DEMO, PUT, N "/routers/{router}/add_extraroutes", NULL, "router",
     "{\"router\":{\"routes\":[{\"destination\":\"10.50.0.0/24\",\"nexthop\":\"10.0.0.50\"}]}}", "routes=a", NO_BASE},
    {DEMO, POST, N "/floatingips", NULL, "floatingip", "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\"}}",
     "floating_network_id=s|port_id=S|fixed_ip_address=S|floating_ip_address=S|description=s|subnet_id=S", 0},
    {DEMO, POST, N "/security-groups", NULL, "security_group", "{\"security_group\":{\"name\":\"sg-bad\"}}",
     "name=s|description=s|stateful=b", 0},
    {DEMO, PUT, N "/security-groups/{sg}", NULL, "security_group", "{\"security_group\":{\"description\":\"d\"}}",
     "name=s|description=s", 0},
    {DEMO, POST, N "/security-group-rules", NULL, "security_group_rule",
     "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\",\"protocol\":\"tcp\","
     "\"port_range_min\":80,\"port_range_max\":81,\"ethertype\":\"IPv4\"}}",
     "security_group_id=s|direction=e|protocol=n|port_range_min=P|port_range_max=P|ethertype=e|remote_ip_prefix=S|"
     "remote_group_id=L|description=s",
     0},
    {DEMO, GET, N "/security-group-rules/{rule}", NULL, NULL, NULL, NULL, 0},
    {DEMO, PUT, N "/floatingips/{fip}", NULL, "floatingip", "{\"floatingip\":{\"description\":\"d\"}}",
     "port_id=S|fixed_ip_address=S|description=s", 0},
    {ADMIN, PUT, N "/quotas/{project}", NULL, "quota", "{\"quota\":{\"network\":50}}",
     "network=q|subnet=q|port=q|router=q|floatingip=q|security_group=q|security_group_rule=q", NO_ALT | NO_UNKNOWN},
    {DEMO, PUT, N "/networks/{net}/tags", NULL, NULL, "{\"tags\":[\"t1\"]}", "tags=r", 0},
    {DEMO, PUT, N "/networks/{net}/tags/t2", NULL, NULL, NULL, NULL, 0},
    {DEMO, GET, N "/network-ip-availabilities/{net}", NULL, NULL, NULL, NULL, NO_ALT},

    /* ---- Glance */
    {DEMO, POST, G "/images", NULL, NULL, "{\"name\":\"img-bad\",\"disk_format\":\"qcow2\",\"container_format\":\"bare\"}",
     "name=S|visibility=e|disk_format=E|container_format=E|min_disk=i|min_ram=i|protected=B|tags=r|id=s|os_hidden=B",
     EMPTY_OK},
    {DEMO, PATCH, G "/images/{image}", NULL, NULL, "[{\"op\":\"replace\",\"path\":\"/name\",\"value\":\"n2\"}]",
     "name=S|min_disk=i|min_ram=i|protected=B|visibility=e|tags=r", PATCH_DOC},
    {DEMO, DEL, G "/images/{image}", NULL, NULL, NULL, NULL, NO_BASE},
    {DEMO, GET, G "/images/{image}/file", NULL, NULL, NULL, NULL, NO_BASE},
    {DEMO, POST, G "/images/{image}/import", NULL, "method", "{\"method\":{\"name\":\"glance-direct\"}}", "name=e|uri=l",
     NO_BASE},
    {DEMO, PUT, G "/images/{image}/tags/t1", NULL, NULL, NULL, NULL, 0},
    {DEMO, POST, G "/images/{image}/members", NULL, NULL, "{\"member\":\"{a:project}\"}", "member=s", NO_BASE},
    {ALT, PUT, G "/images/{d:image}/members/{project}", NULL, NULL, "{\"status\":\"accepted\"}", "status=e",
     NO_ALT | NO_BASE},
    {DEMO, POST, G "/images/{image}/actions/deactivate", NULL, NULL, NULL, NULL, NO_BASE},

    /* ---- control API and metadata (no tokens) */
    {NOBODY, PUT, "/mockcloud/v1/profile", NULL, NULL, "{\"profile\":\"conformant\"}", "profile=l|deviate=r", NO_AUTH},
    {NOBODY, POST, "/mockcloud/v1/faults", NULL, NULL, "{\"status\":503,\"path\":\"/nowhere\",\"count\":1}",
     "status=i|path=l|count=i|method=e|service=e|drop=b|truncate=i|delay_ms=i|probability=i|body=o", NO_AUTH},
    {NOBODY, DEL, "/mockcloud/v1/faults/{fault}", NULL, NULL, NULL, NULL, NO_AUTH | NO_ALT | NO_BASE},
    {NOBODY, POST, "/mockcloud/v1/bulk", NULL, NULL, "{\"kind\":\"servers\",\"from\":\"{d:server}\",\"count\":1}",
     "kind=e|from=s|count=i", NO_AUTH},
    {NOBODY, GET, "/mockcloud/v1/deviations/{deviation}", NULL, NULL, NULL, NULL, NO_AUTH | NO_ALT},
    {NOBODY, GET, "/metadata/{d:server}/openstack/latest/meta_data.json", NULL, NULL, NULL, NULL, NO_AUTH | NO_ALT},
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* ------------------------------------------------------------ the world */

static char *tokens[NWHO];
static char ids[NWHO][25][128];   /* lazily created resources, by owner and kind */
static const char *const kinds[] = {"server", "keypair", "sgroup", "net", "subnet", "pool", "port", "router",
                                    "fip", "sg", "rule", "image", "project", "user", "appcred", "domain",
                                    "role", "flavor", "scratch_project", "scratch_user", "scratch_net", "fault",
                                    "deviation", "tiny_net", NULL};

static void setup(void) {
    mc_test_start(NULL);
    T.srv->cfg.max_body = MAX_BODY;
    tokens[DEMO] = mc_test_token("demo", "demo");
    tokens[ALT] = mc_test_token("alt_demo", "alt_demo");
    tokens[ADMIN] = mc_test_token("admin", "admin");
    tokens[NOBODY] = NULL;
    memset(ids, 0, sizeof ids);
}

static void teardown(void) {
    for (int i = 0; i < NWHO; i++) free(tokens[i]);
    mc_test_stop();
}

static mc_resp call(int who, enum evhttp_cmd_type m, const char *path, const char *body, size_t len,
                    const char *mv, const char *ctype) {
    char hdr[128] = "";
    if (mv != NULL) snprintf(hdr, sizeof hdr, "OpenStack-API-Version: compute %s\n", mv);
    if (ctype == NULL && body != NULL)
        ctype = m == PATCH ? "application/openstack-images-v2.1-json-patch" : "application/json";
    return mc_call_raw(m, path, body, len, ctype, tokens[who], hdr[0] ? hdr : NULL);
}

static void expand(const char *tmpl, int owner, char *out, size_t outsz);

/* POSTs 'body' (placeholders expanded for 'owner') and keeps jpath's value. */
static void make(int owner, int who, const char *path, const char *mv, const char *body, const char *jpath,
                 char *id) {
    char p[512], b[1024];
    expand(path, owner, p, sizeof p);
    expand(body, owner, b, sizeof b);
    mc_resp r = call(who, POST, p, b, strlen(b), mv, NULL);
    const char *v = mc_jstr(r.json, jpath);
    cr_assert(v != NULL, "creating %s for the test: %d %s", path, r.status, r.body);
    mc_strlcpy(id, v, 128);
    mc_resp_free(&r);
}

static const char *resolve(const char *kind, int owner) {
    int k = 0;
    while (kinds[k] != NULL && strcmp(kinds[k], kind) != 0) k++;
    cr_assert(kinds[k] != NULL, "unknown placeholder {%s}", kind);
    char *id = ids[owner][k];
    if (id[0] != '\0') return id;
    bool alt = owner == ALT;
    if (strcmp(kind, "server") == 0) {
        make(owner, owner, C "/servers", "2.37",
             "{\"server\":{\"name\":\"vm\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":\"none\"}}",
             "server.id", id);
        mc_test_sleep_ms(450);   /* BUILD -> ACTIVE, so no timer changes the world mid-case */
    } else if (strcmp(kind, "keypair") == 0) {
        make(owner, owner, C "/os-keypairs", NULL, "{\"keypair\":{\"name\":\"kp\"}}", "keypair.name", id);
    } else if (strcmp(kind, "sgroup") == 0) {
        make(owner, owner, C "/os-server-groups", NULL, "{\"server_group\":{\"name\":\"g\",\"policies\":[\"affinity\"]}}",
             "server_group.id", id);
    } else if (strcmp(kind, "net") == 0) {
        mc_strlcpy(id, alt ? "9d0e1f2a-3b4c-4d5e-8f6a-7b8c9d0e1f2a" : "3c4d5e6f-7a8b-4c92-adbe-2f3a4b5c6d7e", 128);
    } else if (strcmp(kind, "subnet") == 0) {
        mc_strlcpy(id, alt ? "0e1f2a3b-4c5d-4e6f-9a7b-8c9d0e1f2a3b" : "4d5e6f7a-8b9c-4da3-becf-3a4b5c6d7e8f", 128);
    } else if (strcmp(kind, "scratch_net") == 0) {
        make(owner, owner, N "/networks", NULL, "{\"network\":{\"name\":\"scratch\"}}", "network.id", id);
    } else if (strcmp(kind, "pool") == 0) {
        make(owner, owner, N "/subnetpools", NULL,
             "{\"subnetpool\":{\"name\":\"sp\",\"prefixes\":[\"10.100.0.0/16\"],\"default_prefixlen\":24}}",
             "subnetpool.id", id);
    } else if (strcmp(kind, "port") == 0) {
        make(owner, owner, N "/ports", NULL, "{\"port\":{\"network_id\":\"{net}\"}}", "port.id", id);
    } else if (strcmp(kind, "router") == 0) {
        make(owner, owner, N "/routers", NULL, "{\"router\":{\"name\":\"r\"}}", "router.id", id);
    } else if (strcmp(kind, "fip") == 0) {
        make(owner, owner, N "/floatingips", NULL, "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\"}}",
             "floatingip.id", id);
    } else if (strcmp(kind, "sg") == 0) {
        make(owner, owner, N "/security-groups", NULL, "{\"security_group\":{\"name\":\"sg\"}}", "security_group.id",
             id);
    } else if (strcmp(kind, "rule") == 0) {
        make(owner, owner, N "/security-group-rules", NULL,
             "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\"}}",
             "security_group_rule.id", id);
    } else if (strcmp(kind, "image") == 0) {
        make(owner, owner, G "/images", NULL,
             alt ? "{\"name\":\"img\",\"visibility\":\"private\"}" : "{\"name\":\"img\",\"visibility\":\"shared\"}",
             "id", id);
        if (!alt) {   /* alt_demo is a member of demo's image (the member routes) */
            char p[256], b[128];
            snprintf(p, sizeof p, G "/images/%s/members", id);
            snprintf(b, sizeof b, "{\"member\":\"%s\"}", resolve("project", ALT));
            mc_resp r = call(DEMO, POST, p, b, strlen(b), NULL, NULL);
            cr_assert(eq(int, r.status, 200), "%s", r.body);
            mc_resp_free(&r);
        }
    } else if (strcmp(kind, "project") == 0) {
        mc_strlcpy(id, alt ? "5c6d7e8f9a0b4c1d8e2f3a4b5c6d7e8f" : "8e4b5a3f9c2d4e1fa0b6c7d8e9f01234", 128);
    } else if (strcmp(kind, "user") == 0) {
        mc_strlcpy(id, alt ? "a7b8c9d0e1f243a5b6c7d8e9f0a1b2c3" : "d3a1f0e2c4b54a6b9f8e7d6c5b4a3f21", 128);
    } else if (strcmp(kind, "appcred") == 0) {
        make(owner, owner, ID "/users/{user}/application_credentials", NULL,
             "{\"application_credential\":{\"name\":\"ac\"}}", "application_credential.id", id);
    } else if (strcmp(kind, "domain") == 0) {
        mc_strlcpy(id, "default", 128);
    } else if (strcmp(kind, "role") == 0) {
        mc_strlcpy(id, "2b3c4d5e6f7a48b9c0d1e2f3a4b5c6d7", 128);
    } else if (strcmp(kind, "flavor") == 0) {
        mc_strlcpy(id, "42", 128);
    } else if (strcmp(kind, "scratch_project") == 0) {
        make(owner, ADMIN, ID "/projects", NULL, "{\"project\":{\"name\":\"scratch\"}}", "project.id", id);
    } else if (strcmp(kind, "scratch_user") == 0) {
        make(owner, ADMIN, ID "/users", NULL, "{\"user\":{\"name\":\"scratch\",\"password\":\"secret\"}}", "user.id", id);
    } else if (strcmp(kind, "fault") == 0) {
        mc_resp r = call(NOBODY, POST, "/mockcloud/v1/faults", "{\"status\":503,\"path\":\"/nowhere\"}", 34, NULL,
                         NULL);
        cr_assert(eq(int, r.status, 201), "%s", r.body);
        snprintf(id, 128, "%.0f", mc_jnum(r.json, "fault.id"));
        mc_resp_free(&r);
    } else if (strcmp(kind, "deviation") == 0) {
        mc_strlcpy(id, "flaky-503", 128);
    } else if (strcmp(kind, "tiny_net") == 0) {   /* a network with one free address */
        make(owner, owner, N "/networks", NULL, "{\"network\":{\"name\":\"tiny\"}}", "network.id", id);
        char b[300], sub[128];
        snprintf(b, sizeof b, "{\"subnet\":{\"network_id\":\"%s\",\"cidr\":\"10.77.0.0/29\",\"ip_version\":4,"
                 "\"allocation_pools\":[{\"start\":\"10.77.0.2\",\"end\":\"10.77.0.2\"}]}}", id);
        make(owner, owner, N "/subnets", NULL, b, "subnet.id", sub);
    }
    return id;
}

/* "{kind}" -> the owner's id, "{a:kind}"/"{d:kind}" -> alt_demo's/demo's. */
static void expand(const char *tmpl, int owner, char *out, size_t outsz) {
    size_t o = 0;
    for (const char *p = tmpl; *p && o + 1 < outsz;) {
        const char *e = *p == '{' ? strchr(p, '}') : NULL;
        if (e == NULL || e - p < 2 || p[1] == '"' || p[1] == '}') {
            out[o++] = *p++;
            continue;
        }
        char kind[40];
        int own = owner;
        const char *k = p + 1;
        if (k[1] == ':') {
            own = k[0] == 'a' ? ALT : DEMO;
            k += 2;
        }
        snprintf(kind, sizeof kind, "%.*s", (int)(e - k), k);
        o += (size_t)snprintf(out + o, outsz - o, "%s", resolve(kind, own));
        if (o >= outsz) o = outsz - 1;
        p = e + 1;
    }
    out[o < outsz ? o : outsz - 1] = '\0';
}

/* ------------------------------------------------------------ checks */

/* Every record of every store, printed, plus what lives outside the stores
 * (tokens only when asked: looking up an expired one purges it). */
static uint64_t fingerprint_of(bool with_tokens) {
    uint64_t h = 1469598103934665603ULL;
#define MIX(p, n)                                                                                          \
    for (size_t i_ = 0; i_ < (n); i_++) h = (h ^ ((const unsigned char *)(p))[i_]) * 1099511628211ULL
    for (int k = 0; k < MC_K_COUNT; k++) {
        MIX(&T.srv->world[k].count, sizeof(size_t));
        for (mc_record *rec = T.srv->world[k].head; rec != NULL; rec = rec->hh.next) {
            /* servers keep their state in C members: their doc is built on demand */
            char *text = cJSON_PrintUnformatted(k == MC_K_SERVER ? mc_compute_server_doc(rec) : rec->doc);
            MIX(rec->id, strlen(rec->id));
            if (text != NULL) MIX(text, strlen(text));
            cJSON_free(text);
        }
    }
    size_t ntok = with_tokens ? mc_auth_count(T.srv) : 0;
    MIX(&ntok, sizeof ntok);
    MIX(&T.srv->faults, sizeof T.srv->faults);
    MIX(&T.srv->profile, sizeof T.srv->profile);
#undef MIX
    return h;
}

static uint64_t fingerprint(void) { return fingerprint_of(true); }

/* The error body of 'svc' (the first path segment) for 'status'. */
static bool dialect_ok(const char *path, int status, cJSON *j) {
    char code[16];
    snprintf(code, sizeof code, "%d", status);
    if (j == NULL) return false;
    if (status == 401 && strncmp(path, "/mockcloud", 10) != 0)   /* keystonemiddleware, for every service */
        return mc_jnum(j, "error.code") == 401 && mc_jstr(j, "error.message") != NULL;
    if (strncmp(path, "/identity", 9) == 0)
        return mc_jnum(j, "error.code") == status && mc_jstr(j, "error.title") != NULL &&
               mc_jstr(j, "error.message") != NULL;
    if (strncmp(path, "/compute", 8) == 0) {
        cJSON *e = j->child;
        return e != NULL && e->next == NULL && mc_jnum(e, "code") == status && mc_jstr(e, "message") != NULL;
    }
    if (strncmp(path, "/network", 8) == 0)
        return mc_jstr(j, "NeutronError.type") != NULL && mc_jstr(j, "NeutronError.message") != NULL;
    if (strncmp(path, "/image", 6) == 0)
        return mc_jstr(j, "code") != NULL && strncmp(mc_jstr(j, "code"), code, 3) == 0 &&
               mc_jstr(j, "message") != NULL;
    return mc_jstr(j, "error.message") != NULL || mc_jstr(j, "message") != NULL || j->child != NULL;
}

/* One rejected request: the status, the dialect, and an unchanged world. */
static void expect_rejected(int who, enum evhttp_cmd_type m, const char *path, const char *body, size_t len,
                            const char *mv, int want, const char *what) {
    uint64_t before = fingerprint();
    mc_resp r = call(who, m, path, body, len, mv, NULL);
    cr_expect(eq(int, r.status, want), "%s %s [%s]: want %d, got %d: %.300s", mc_method_name(m), path, what, want,
              r.status, r.body);
    if (r.status >= 400)
        cr_expect(dialect_ok(path, r.status, r.json), "%s %s [%s]: %d body not in the service's format: %.300s",
                  mc_method_name(m), path, what, r.status, r.body);
    if (r.status >= 400) cr_expect(eq(u64, fingerprint(), before), "%s %s [%s]: rejected, but the world changed",
                                   mc_method_name(m), path, what);
    mc_resp_free(&r);
}

/* ------------------------------------------------------------ bad values */

static char *huge_string(void) {
    size_t n = 5000;
    char *s = malloc(n + 3);
    s[0] = '"';
    memset(s + 1, 'x', n);
    s[n + 1] = '"';
    s[n + 2] = '\0';
    return s;
}

static char *deep_object(void) {
    int depth = 300;
    char *s = malloc((size_t)depth * 6 + 8), *p = s;
    for (int i = 0; i < depth; i++) {
        memcpy(p, "{\"a\":", 5);
        p += 5;
    }
    *p++ = '1';
    for (int i = 0; i < depth; i++) *p++ = '}';
    *p = '\0';
    return s;
}

/* The wrong values of each member type ("@H" is a huge string, "@D" deep). */
static const char *bad_values(char type) {
    switch (type) {
    case 's': return "123|1.5|true|{}|[]|null|@D|@H";
    case 'S': return "123|true|{}|[]|@D|@H";
    case 'e': return "123|true|{}|null|\"no-such-value\"|@D";
    case 'E': return "123|true|{}|\"no-such-value\"";
    case 'i': return "\"abc\"|1.5|-5|1e300|1e20|true|{}|[]|null";
    case 'q': return "\"abc\"|1.5|-5|1e300|true|{}|[]|null";
    case 'I': return "\"abc\"|1.5|-5|1e300|true|{}|[]";
    case 'l': return "123|true|{}|[]|null|@D";
    case 'L': return "123|true|{}|[]|@D";
    case 'R': return "\"x\"|1|{}|true|[1]|[{}]|[null]";
    case 'b': return "\"maybe\"|2|{}|[]|null";
    case 'B': return "\"true\"|\"maybe\"|1|{}|[]|null";
    case 'v': return "{}|[]|null|@D";
    case 'n': return "true|{}|[]|@D|@H|256|-1|1.5|\"no-such-protocol\"";  /* a protocol: name or 0-255 */
    case 'p': return "\"abc\"|-5|1e300|{}|[]|null";
    case 'P': return "\"abc\"|-5|1e300|{}|[]";
    case 'o': return "\"x\"|1|[]|true|null";
    case 'O': return "\"x\"|1|[]|true";
    case 'a': return "\"x\"|1|{}|true|null";
    case 'A': return "\"x\"|1|{}|true";
    case 'r': return "\"x\"|1|{}|true|null|[1]|[{}]|[null]";
    case 'm': return "\"x\"|1|[]|null|{\"k\":1}|{\"k\":{}}|{\"k\":null}";
    default: return NULL;
    }
}

/* Sets member 'dotted' of 'obj' (creating objects on the way) to 'val'. */
static void set_member(cJSON *obj, const char *dotted, cJSON *val) {
    char buf[256];
    mc_strlcpy(buf, dotted, sizeof buf);
    char *seg = buf, *dot;
    while ((dot = strchr(seg, '.')) != NULL) {
        *dot = '\0';
        cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, seg);
        if (!cJSON_IsObject(next)) {
            next = cJSON_CreateObject();
            mc_json_set(obj, seg, next);
        }
        obj = next;
        seg = dot + 1;
    }
    mc_json_set(obj, seg, val);
}

/* The body with member 'field' of the wrapped object set to the JSON text 'val'. */
static char *corrupt(const route *rt, const char *base, const char *field, const char *val) {
    cJSON *doc = cJSON_ParseWithLength(base, strlen(base));
    cr_assert(doc != NULL, "base body of %s does not parse", rt->path);
    cJSON *v = cJSON_ParseWithLength(val, strlen(val));
    cr_assert(v != NULL, "bad value %.40s does not parse", val);
    if (rt->flags & PATCH_DOC) {
        cJSON_Delete(doc);
        doc = cJSON_CreateArray();
        cJSON *op = cJSON_CreateObject();
        char path[128];
        snprintf(path, sizeof path, "/%s", field);
        cJSON_AddStringToObject(op, "op", "replace");
        cJSON_AddStringToObject(op, "path", path);
        cJSON_AddItemToObject(op, "value", v);
        cJSON_AddItemToArray(doc, op);
    } else {
        cJSON *in = rt->wrap ? cJSON_GetObjectItemCaseSensitive(doc, rt->wrap) : doc;
        set_member(in, field, v);
    }
    char *text = cJSON_PrintUnformatted(doc);
    cJSON_Delete(doc);
    return text;
}

/* ------------------------------------------------------------ the tests */

ParameterizedTestParameters(badinput, body) {
    static int idx[NROUTES];
    size_t n = 0;
    for (size_t i = 0; i < NROUTES; i++)
        if (routes[i].base != NULL) idx[n++] = (int)i;
    return cr_make_param_array(int, idx, n);
}

ParameterizedTest(int *row, badinput, body, .init = setup, .fini = teardown, .timeout = 120) {
    const route *rt = &routes[*row];
    int who = rt->who;
    char path[1024], base[2048];
    expand(rt->path, who, path, sizeof path);
    expand(rt->base, who, base, sizeof base);
    const char *mv = rt->mv;

    /* Not an object at all. */
    static const char *const not_objects[] = {"{", "{\"a\":}", "{}x", "[]", "[{}]", "\"str\"", "42", "null", "true",
                                              "{\"a\":1,}", NULL};
    for (int i = 0; not_objects[i] != NULL; i++) {
        if ((rt->flags & PATCH_DOC) && strcmp(not_objects[i], "[]") == 0) continue;   /* an empty patch is valid */
        expect_rejected(who, rt->m, path, not_objects[i], strlen(not_objects[i]), mv, 400, not_objects[i]);
    }
    expect_rejected(who, rt->m, path, "{\"a\"\0:1}", 8, mv, 400, "embedded NUL");
    if (!(rt->flags & (EMPTY_OK | PATCH_DOC))) expect_rejected(who, rt->m, path, "{}", 2, mv, 400, "{}");

    /* The wrapper key, wrongly typed. */
    static const char *const wrapper_bad[] = {"\"x\"", "1", "[]", "null", "true", NULL};
    for (int i = 0; rt->wrap != NULL && wrapper_bad[i] != NULL; i++) {
        char body[256];
        snprintf(body, sizeof body, "{\"%s\":%s}", rt->wrap, wrapper_bad[i]);
        if ((rt->flags & EMPTY_OK) && strcmp(wrapper_bad[i], "null") == 0) continue;
        expect_rejected(who, rt->m, path, body, strlen(body), mv, 400, body);
    }

    /* Each member, wrongly typed. */
    char *huge = huge_string(), *deep = deep_object();
    char fields[1024];
    mc_strlcpy(fields, rt->fields ? rt->fields : "", sizeof fields);
    char *save = NULL;
    for (char *f = strtok_r(fields, "|", &save); f != NULL; f = strtok_r(NULL, "|", &save)) {
        char *eq = strchr(f, '=');
        cr_assert(eq != NULL && bad_values(eq[1]) != NULL, "bad field spec %s", f);
        *eq = '\0';
        char vals[256];
        mc_strlcpy(vals, bad_values(eq[1]), sizeof vals);
        char *save2 = NULL;
        for (char *v = strtok_r(vals, "|", &save2); v != NULL; v = strtok_r(NULL, "|", &save2)) {
            const char *val = strcmp(v, "@H") == 0 ? huge : strcmp(v, "@D") == 0 ? deep : v;
            char *body = corrupt(rt, base, f, val);
            char what[128];
            snprintf(what, sizeof what, "%s=%.20s", f, v);
            expect_rejected(who, rt->m, path, body, strlen(body), mv, 400, what);
            cJSON_free(body);
        }
    }
    free(huge);
    free(deep);

    /* Over --max-body: 413 in the service's dialect, before any parsing. */
    if (!(rt->flags & PATCH_DOC) && strncmp(path, "/metadata", 9) != 0) {
        size_t n = MAX_BODY + 10;
        char *big = malloc(n + 1);
        memset(big, ' ', n);
        memcpy(big, base, strlen(base));
        big[n] = '\0';
        expect_rejected(who, rt->m, path, big, n, mv, 413, "over max-body");
        free(big);
    }

    /* The baseline works: the cases above were rejected for their fault. */
    if (!(rt->flags & NO_BASE)) {
        mc_resp r = call(who, rt->m, path, base, strlen(base), mv, NULL);
        cr_expect(r.status >= 200 && r.status < 300, "baseline %s %s: %d %.300s", mc_method_name(rt->m), path,
                  r.status, r.body);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}

static int count_ids(const char *tmpl) {
    int n = 0;
    for (const char *p = tmpl; (p = strchr(p, '{')) != NULL; p++) n++;
    return n;
}

ParameterizedTestParameters(badinput, ids) {
    static int idx[NROUTES];
    size_t n = 0;
    for (size_t i = 0; i < NROUTES; i++)
        if (count_ids(routes[i].path) > 0) idx[n++] = (int)i;
    return cr_make_param_array(int, idx, n);
}

/* The path with id number 'which' replaced by 'unknown' (others expanded). */
static void expand_but(const char *tmpl, int who, int which, const char *unknown, char *out, size_t outsz) {
    char t[2048];
    size_t o = 0;
    int n = 0;
    for (const char *p = tmpl; *p && o + 1 < sizeof t;) {
        if (*p == '{' && n++ == which) {
            o += (size_t)snprintf(t + o, sizeof t - o, "%s", unknown);
            if (o >= sizeof t) o = sizeof t - 1;
            p = strchr(p, '}') + 1;
        } else {
            t[o++] = *p++;
        }
    }
    t[o] = '\0';
    expand(t, who, out, outsz);
}

ParameterizedTest(int *row, badinput, ids, .init = setup, .fini = teardown, .timeout = 120) {
    const route *rt = &routes[*row];
    int who = rt->who;
    char base[2048] = "", path[4096];
    if (rt->base) expand(rt->base, who, base, sizeof base);
    const char *body = rt->base ? base : NULL;
    size_t blen = body ? strlen(body) : 0;
    static char longid[1001];
    memset(longid, 'f', 1000);
    const char *const unknown[] = {"00000000-0000-4000-8000-000000000000", "nope", longid, "x%00y", "%ff%fe",
                                   "..", NULL};
    int nid = count_ids(rt->path);
    for (int w = 0; w < nid && !(rt->flags & NO_UNKNOWN); w++)
        for (int u = 0; unknown[u] != NULL; u++) {
            expand_but(rt->path, who, w, unknown[u], path, sizeof path);
            char what[64];
            snprintf(what, sizeof what, "id %d unknown: %.20s", w, unknown[u]);
            expect_rejected(who, rt->m, path, body, blen, rt->mv, (rt->flags & ALT_403) && w == 0 ? 403 : 404, what);
        }
    /* Another project's resources: hidden (404), Keystone says 403. */
    if (!(rt->flags & NO_ALT) && who == DEMO) {
        char t[1024];
        size_t o = 0;
        for (const char *p = rt->path; *p; p++) {   /* "{x}" -> "{a:x}" */
            t[o++] = *p;
            if (*p == '{' && p[2] != ':') {
                t[o++] = 'a';
                t[o++] = ':';
            }
        }
        t[o] = '\0';
        expand(t, who, path, sizeof path);
        expect_rejected(who, rt->m, path, body, blen, rt->mv, (rt->flags & ALT_403) ? 403 : 404, "alt_demo's");
    }
    mc_assert_no_leaks();
}

ParameterizedTestParameters(badinput, auth) {
    static int idx[NROUTES];
    size_t n = 0;
    for (size_t i = 0; i < NROUTES; i++)
        if (!(routes[i].flags & NO_AUTH)) idx[n++] = (int)i;
    return cr_make_param_array(int, idx, n);
}

ParameterizedTest(int *row, badinput, auth, .init = setup, .fini = teardown, .timeout = 120) {
    const route *rt = &routes[*row];
    char path[1024], base[2048] = "";
    expand(rt->path, rt->who, path, sizeof path);
    if (rt->base) expand(rt->base, rt->who, base, sizeof base);
    const char *body = rt->base ? base : NULL;
    size_t blen = body ? strlen(body) : 0;

    /* An expired token and a revoked one, both once valid. */
    char *expired = mc_test_token("demo", "demo");
    mc_token *t = NULL;
    HASH_FIND_STR(T.srv->tokens, expired, t);
    cr_assert(t != NULL);
    t->expires = mc_now() - 1;
    char *revoked = mc_test_token("demo", "demo");
    char hdr[256];
    snprintf(hdr, sizeof hdr, "X-Subject-Token: %s", revoked);
    mc_resp r = mc_call(DEL, ID "/auth/tokens", NULL, tokens[DEMO], hdr);
    cr_assert(eq(int, r.status, 204));
    mc_resp_free(&r);

    const char *const bad[] = {NULL, "", "garbage", "gAAAAAB" "x", expired, revoked, "\x01\x02", NULL};
    const char *const what[] = {"no token", "empty token", "garbage", "token-like", "expired", "revoked", "binary"};
    for (int i = 0; i < 7; i++) {
        uint64_t before = fingerprint_of(false);
        char h[160] = "";
        if (rt->mv) snprintf(h, sizeof h, "OpenStack-API-Version: compute %s\n", rt->mv);
        mc_resp x = mc_call_raw(rt->m, path, body, blen, body ? "application/json" : NULL, bad[i], h[0] ? h : NULL);
        cr_expect(eq(int, x.status, 401), "%s %s [%s]: %.200s", mc_method_name(rt->m), path, what[i], x.body);
        cr_expect(dialect_ok(path, 401, x.json), "%s %s [%s]: 401 body %.200s", mc_method_name(rt->m), path, what[i],
                  x.body);
        cr_expect(mc_resp_header(&x, "WWW-Authenticate") != NULL, "%s: no WWW-Authenticate", path);
        cr_expect(eq(u64, fingerprint_of(false), before), "%s %s [%s]: rejected, but the world changed", mc_method_name(rt->m),
                  path, what[i]);
        mc_resp_free(&x);
    }
    free(expired);
    free(revoked);
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ late failures */

/* Requests that pass every type check and fail deep inside, after something
 * was already made (a port, an IP, a server of several): the world must be as
 * before, and 'after' (a POST that must succeed) proves a released IP or quota
 * is free again. 'prep' (PUT as admin) sets the stage first. */
typedef struct late_case {
    const char *what;
    const char *prep_path, *prep_body;
    int who;
    enum evhttp_cmd_type m;
    const char *path, *mv, *body;
    int want;
    const char *after_path, *after_body;
} late_case;

#define NOPORT "00000000-0000-4000-8000-000000000000"
#define BOOT(nets, extra)                                                                                        \
    "{\"server\":{\"name\":\"late\",\"flavorRef\":\"42\",\"imageRef\":\"" CIRROS "\",\"networks\":" nets extra "}}"
static const late_case late[] = {
    {"second network's port unknown: the first port goes", NULL, NULL, DEMO, POST, C "/servers", "2.37",
     BOOT("[{\"uuid\":\"{net}\",\"fixed_ip\":\"10.0.0.210\"},{\"port\":\"" NOPORT "\"}]", ""), 400, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"ip_address\":\"10.0.0.210\"}]}}"},
    {"multiple create, no IP for the second: neither server stays", NULL, NULL, DEMO, POST, C "/servers", "2.37",
     BOOT("[{\"uuid\":\"{tiny_net}\"}]", ",\"min_count\":2"), 409, C "/servers", BOOT("[{\"uuid\":\"{tiny_net}\"}]", "")},
    {"over the instance quota: no port made", C "/os-quota-sets/{project}", "{\"quota_set\":{\"instances\":0}}", DEMO,
     POST, C "/servers", "2.37", BOOT("[{\"uuid\":\"{net}\",\"fixed_ip\":\"10.0.0.211\"}]", ""), 403, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"ip_address\":\"10.0.0.211\"}]}}"},
    {"port with a second IP outside its subnet: the first IP stays free", NULL, NULL, DEMO, POST, N "/ports", NULL,
     "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"subnet_id\":\"{subnet}\",\"ip_address\":\"10.0.0.220\"},"
     "{\"subnet_id\":\"{subnet}\",\"ip_address\":\"10.1.0.5\"}]}}",
     400, N "/ports", "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"ip_address\":\"10.0.0.220\"}]}}"},
    {"floating IP for an unknown port", NULL, NULL, DEMO, POST, N "/floatingips", NULL,
     "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\",\"port_id\":\"" NOPORT "\"}}", 404, NULL, NULL},
    {"floating IP moved to an unknown port", NULL, NULL, DEMO, PUT, N "/floatingips/{fip}", NULL,
     "{\"floatingip\":{\"port_id\":\"" NOPORT "\"}}", 404, NULL, NULL},
    {"interface attach of an unknown port", NULL, NULL, DEMO, POST, C "/servers/{server}/os-interface", NULL,
     "{\"interfaceAttachment\":{\"port_id\":\"" NOPORT "\"}}", 404, NULL, NULL},
    {"resize to an unknown flavor", NULL, NULL, DEMO, POST, C "/servers/{server}/action", NULL,
     "{\"resize\":{\"flavorRef\":\"nope\"}}", 400, NULL, NULL},
    {"rebuild from an unknown image", NULL, NULL, DEMO, POST, C "/servers/{server}/action", NULL,
     "{\"rebuild\":{\"imageRef\":\"" NOPORT "\"}}", 400, NULL, NULL},
    {"subnet overlapping another", NULL, NULL, DEMO, POST, N "/subnets", NULL,
     "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.0.0.0/25\",\"ip_version\":4}}", 400, NULL, NULL},
    {"user with a taken name", NULL, NULL, ADMIN, POST, ID "/users", NULL, "{\"user\":{\"name\":\"demo\"}}", 409, NULL,
     NULL},
    {"image with a taken id", NULL, NULL, DEMO, POST, G "/images", NULL, "{\"id\":\"" CIRROS "\",\"name\":\"x\"}", 409,
     NULL, NULL},
};

Test(badinput, late_failures_change_nothing, .init = setup, .fini = teardown, .timeout = 120) {
    for (size_t i = 0; i < sizeof late / sizeof late[0]; i++) {
        const late_case *c = &late[i];
        char path[512], body[1024];
        if (c->prep_path != NULL) {
            expand(c->prep_path, c->who, path, sizeof path);
            expand(c->prep_body, c->who, body, sizeof body);
            mc_resp r = call(ADMIN, PUT, path, body, strlen(body), NULL, NULL);
            cr_assert(eq(int, r.status, 200), "%s: prep %s", c->what, r.body);
            mc_resp_free(&r);
        }
        expand(c->path, c->who, path, sizeof path);
        expand(c->body, c->who, body, sizeof body);
        expect_rejected(c->who, c->m, path, body, strlen(body), c->mv, c->want, c->what);
        if (c->prep_path != NULL) {   /* the quota back as it was */
            expand(c->prep_path, c->who, path, sizeof path);
            mc_resp r = call(ADMIN, DEL, path, NULL, 0, NULL, NULL);
            cr_expect(r.status == 202 || r.status == 204, "%s: unprep %d", c->what, r.status);
            mc_resp_free(&r);
        }
        if (c->after_path != NULL) {
            expand(c->after_path, c->who, path, sizeof path);
            expand(c->after_body, c->who, body, sizeof body);
            mc_resp r = call(c->who, POST, path, body, strlen(body), c->mv, NULL);
            cr_expect(r.status == 201 || r.status == 202, "%s: afterwards %s -> %d %.300s", c->what, path, r.status,
                      r.body);
            mc_resp_free(&r);
        }
    }
    mc_assert_no_leaks();
}

/* ------------------------------------------------------------ Neutron's own words */

/* Bodies Neutron's API layer refuses (neutron/api/v2/base.py prepare_request_body
 * and neutron-lib's validators), with the exact type and message a real
 * Neutron gives; each leaves the world unchanged. */
typedef struct neutron_case {
    int who;
    enum evhttp_cmd_type m;
    const char *path, *body;
    int want;
    const char *type, *message;
} neutron_case;

/* Rows of the table below: DEMO's request refused with 400 HTTPBadRequest
 * and the message neutron-lib's validators (INVALID) or base.py's
 * prepare_request_body (the others) give. */
#define INVALID(m, path, body, attr, reason) \
    {DEMO, m, N path, body, 400, "HTTPBadRequest", "Invalid input for " attr ". Reason: " reason}
#define READ_ONLY(path, body, attr) \
    {DEMO, PUT, N path, body, 400, "HTTPBadRequest", "Cannot update read-only attribute " attr}
#define REQUIRED(path, body, attr)                    \
    {DEMO, POST, N path, body, 400, "HTTPBadRequest", \
     "Failed to parse request. Required attribute '" attr "' not specified"}
#define NOT_IN_POST(path, body, attr) \
    {DEMO, POST, N path, body, 400, "HTTPBadRequest", "Attribute '" attr "' not allowed in POST"}
#define UNRECOGNIZED(m, path, body, attrs) \
    {DEMO, m, N path, body, 400, "HTTPBadRequest", "Unrecognized attribute(s) '" attrs "'"}
static const neutron_case neutron_cases[] = {
    UNRECOGNIZED(POST, "/networks", "{\"network\":{\"name\":\"x\",\"foo\":1}}", "foo"),
    UNRECOGNIZED(POST, "/networks", "{\"network\":{\"foo\":1,\"bar\":2}}", "foo, bar"),
    UNRECOGNIZED(PUT, "/networks/{net}", "{\"network\":{\"foo\":1}}", "foo"),
    NOT_IN_POST("/networks", "{\"network\":{\"status\":\"DOWN\"}}", "status"),
    READ_ONLY("/networks/{net}", "{\"network\":{\"id\":\"" NOPORT "\"}}", "id"),
    READ_ONLY("/networks/{net}", "{\"network\":{\"project_id\":\"x\"}}", "tenant_id"),
    READ_ONLY("/ports/{port}", "{\"port\":{\"network_id\":\"{net}\"}}", "network_id"),
    READ_ONLY("/subnets/{subnet}", "{\"subnet\":{\"cidr\":\"10.9.0.0/24\"}}", "cidr"),
    READ_ONLY("/subnets/{subnet}", "{\"subnet\":{\"ip_version\":6}}", "ip_version"),
    REQUIRED("/subnets", "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\"}}", "ip_version"),
    NOT_IN_POST("/routers", "{\"router\":{\"name\":\"r\",\"routes\":[]}}", "routes"),
    READ_ONLY("/floatingips/{fip}", "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET "\"}}",
              "floating_network_id"),
    REQUIRED("/security-group-rules", "{\"security_group_rule\":{\"security_group_id\":\"{sg}\"}}", "direction"),
    READ_ONLY("/security-groups/{sg}", "{\"security_group\":{\"security_group_rules\":[]}}",
              "security_group_rules"),
    REQUIRED("/subnetpools", "{\"subnetpool\":{\"prefixes\":[\"10.210.0.0/16\"]}}", "name"),
    /* neutron-lib's validators ("Invalid input for X. Reason: R.") and converters */
    INVALID(POST, "/subnets", "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":5}}",
            "ip_version", "5 is not in valid_values."),
    {DEMO, POST, N "/subnets", "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":\"four\"}}",
     400, "InvalidInput", "Invalid input for operation: 'four' is not an integer."},
    INVALID(POST, "/subnets", "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0\",\"ip_version\":4}}",
            "cidr", "'10.9.0.0' is not a valid IP subnet."),
    INVALID(POST, "/subnets",
            "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4,\"gateway_ip\":\"10.9.0.300\"}}",
            "gateway_ip", "'10.9.0.300' is not a valid IP address."),
    INVALID(POST, "/subnets",
            "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4,\"gateway_ip\":\"10.9.0.01\"}}",
            "gateway_ip", "'10.9.0.01' is not an accepted IP address, '10.9.0.1' is recommended."),
    INVALID(POST, "/subnets", "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4,"
            "\"allocation_pools\":[{\"start\":\"10.9.0.5\",\"end\":\"x\"}]}}",
            "allocation_pools", "'x' is not a valid IP address."),
    INVALID(POST, "/subnets",
            "{\"subnet\":{\"network_id\":\"{net}\",\"cidr\":\"10.9.0.0/24\",\"ip_version\":4,\"allocation_pools\":\"x\"}}",
            "allocation_pools", "Invalid data format for IP pool: 'x'."),
    INVALID(PUT, "/subnets/{subnet}", "{\"subnet\":{\"dns_nameservers\":[\"8.8.8.8\",\"8.8.8.8\"]}}",
            "dns_nameservers", "Duplicate nameserver '8.8.8.8'."),
    INVALID(PUT, "/subnets/{subnet}", "{\"subnet\":{\"dns_nameservers\":[\"dns.example\"]}}",
            "dns_nameservers", "'dns.example' is not a valid nameserver. 'dns.example' is not a valid IP address."),
    INVALID(PUT, "/subnets/{subnet}",
            "{\"subnet\":{\"host_routes\":[{\"destination\":\"10.20.0.5/24\",\"nexthop\":\"10.0.0.9\"}]}}",
            "host_routes", "'10.20.0.5/24' is not a valid CIDR."),
    {DEMO, PUT, N "/subnets/{subnet}", "{\"subnet\":{\"enable_dhcp\":\"maybe\"}}", 400, "InvalidInput",
     "Invalid input for operation: 'maybe' cannot be converted to boolean."},
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"ip_address\":\"10.0.0\"}]}}",
            "fixed_ips", "'10.0.0' is not a valid IP address."),
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"ip_address\":\"10.0.0.77\"},"
            "{\"ip_address\":\"10.0.0.77\"}]}}", "fixed_ips", "Duplicate IP address '10.0.0.77'."),
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[\"10.0.0.77\"]}}",
            "fixed_ips", "Invalid data format for fixed IP: '10.0.0.77'."),
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"fixed_ips\":[{\"subnet_id\":\"s1\"}]}}",
            "fixed_ips", "'s1' is not a valid UUID."),
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"mac_address\":\"fa:16:3e:zz:00:01\"}}",
            "mac_address", "'fa:16:3e:zz:00:01' is not a valid MAC address."),
    {DEMO, POST, N "/ports", "{\"port\":{\"network_id\":\"{net}\",\"admin_state_up\":\"sure\"}}", 400,
     "InvalidInput", "Invalid input for operation: 'sure' cannot be converted to boolean."},
    INVALID(POST, "/ports", "{\"port\":{\"network_id\":\"{net}\",\"security_groups\":[\"default\"]}}",
            "security_groups", "'default' is not a valid UUID."),
    {DEMO, POST, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"allowed_address_pairs\":[{\"ip_address\":\"10.0.0.300\"}]}}", 400,
     "HTTPBadRequest", "'10.0.0.300' is not a valid IP address"},
    {DEMO, POST, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"allowed_address_pairs\":[{\"mac_address\":\"fa:16:3e:00:00:01\"}]}}",
     400, "AllowedAddressPairsMissingIP", "AllowedAddressPair must contain ip_address"},
    UNRECOGNIZED(POST, "/ports",
                 "{\"port\":{\"network_id\":\"{net}\",\"allowed_address_pairs\":[{\"ip_address\":\"10.0.0.5\",\"x\":1}]}}",
                 "x"),
    {DEMO, POST, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"allowed_address_pairs\":[{\"ip_address\":\"10.0.0.5\"},"
     "{\"ip_address\":\"10.0.0.5\"}]}}",
     400, "DuplicateAddressPairInRequest",
     "Request contains duplicate address pair: mac_address None ip_address 10.0.0.5."},
    INVALID(POST, "/floatingips", "{\"floatingip\":{\"floating_network_id\":\"" PUBLIC_NET
            "\",\"floating_ip_address\":\"172.24.4\"}}",
            "floating_ip_address", "'172.24.4' is not a valid IP address."),
    INVALID(POST, "/security-group-rules",
            "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"inbound\"}}",
            "direction", "inbound is not in valid_values."),
    {DEMO, POST, N "/security-group-rules",
     "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\",\"ethertype\":\"IPv5\"}}",
     400, "SecurityGroupRuleInvalidEtherType",
     "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6']."},
    {DEMO, POST, N "/security-group-rules",
     "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\",\"protocol\":\"tcpp\"}}",
     400, "SecurityGroupRuleInvalidProtocol",
     "Security group rule protocol tcpp not supported. Only protocol values (None, 'any', 'ah', 'dccp', 'egp', "
     "'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', "
     "'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp') "
     "and integer representations [0 to 255] are supported."},
    {DEMO, POST, N "/security-group-rules",
     "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\",\"protocol\":\"tcp\","
     "\"port_range_min\":\"ssh\"}}",
     400, "SecurityGroupInvalidPortValue", "Invalid value for port ssh"},
    {DEMO, POST, N "/security-group-rules",
     "{\"security_group_rule\":{\"security_group_id\":\"{sg}\",\"direction\":\"ingress\","
     "\"remote_ip_prefix\":\"10.0.0.0/33\"}}",
     400, "InvalidCIDR", "Invalid CIDR 10.0.0.0/33 given as IP prefix."},
    {DEMO, PUT, N "/ports/{port}", "{\"port\":{\"port_security_enabled\":false}}", 409,
     "PortSecurityPortHasSecurityGroup",
     "Port has security group associated. Cannot disable port security or IP address until security group is removed."},
    {DEMO, POST, N "/ports",
     "{\"port\":{\"network_id\":\"{net}\",\"port_security_enabled\":false,\"allowed_address_pairs\":"
     "[{\"ip_address\":\"10.0.0.5\"}]}}",
     409, "AddressPairAndPortSecurityRequired",
     "Port Security must be enabled in order to have allowed address pairs on a port."},
    /* every item of a bulk request is checked before any is created */
    UNRECOGNIZED(POST, "/ports", "{\"ports\":[{\"network_id\":\"{net}\"},{\"network_id\":\"{net}\",\"foo\":1}]}",
                 "foo"),
};
#undef INVALID
#undef READ_ONLY
#undef REQUIRED
#undef NOT_IN_POST
#undef UNRECOGNIZED

Test(badinput, neutron_messages, .init = setup, .fini = teardown, .timeout = 120) {
    for (size_t i = 0; i < sizeof neutron_cases / sizeof neutron_cases[0]; i++) {
        const neutron_case *c = &neutron_cases[i];
        char path[512], body[1024];
        expand(c->path, c->who, path, sizeof path);
        expand(c->body, c->who, body, sizeof body);
        uint64_t before = fingerprint();
        mc_resp r = call(c->who, c->m, path, body, strlen(body), NULL, NULL);
        cr_expect(eq(int, r.status, c->want), "%s %s: %.300s", path, body, r.body);
        cr_expect(eq(str, (char *)(mc_jstr(r.json, "NeutronError.type") ? mc_jstr(r.json, "NeutronError.type") : ""),
                     (char *)c->type), "%s %s", path, body);
        cr_expect(eq(str, (char *)(mc_jstr(r.json, "NeutronError.message") ? mc_jstr(r.json, "NeutronError.message") : ""),
                     (char *)c->message), "%s %s", path, body);
        cr_expect(eq(u64, fingerprint(), before), "%s %s: rejected, but the world changed", path, body);
        mc_resp_free(&r);
    }
    mc_assert_no_leaks();
}
