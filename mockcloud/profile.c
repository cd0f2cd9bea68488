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

#include "journal.h"
#include "router.h"

#include "httpd.h"
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const mc_knob_def knobs[MC_KNOB_COUNT] = {
    /* ---- core: every service (latency, faults, errors, rate limits) ---- */
    [MC_KNOB_LATENCY_MS] = {"latency_ms", MC_KNOB_INT, 0, 0, 60000, NULL,
                            "Delay every reply by N milliseconds."},
    [MC_KNOB_LATENCY_JITTER_MS] = {"latency_jitter_ms", MC_KNOB_INT, 0, 0, 60000, NULL,
                                   "Add a random 0..N ms to every reply's delay (reproducible with --seed)."},
    [MC_KNOB_RATELIMIT_REQUESTS] = {"ratelimit.requests", MC_KNOB_INT, 0, 0, 100000000, NULL,
                                    "Allow N API requests per window, then answer ratelimit.status (0 = no limit)."},
    [MC_KNOB_RATELIMIT_WINDOW_S] = {"ratelimit.window_s", MC_KNOB_INT, 60, 1, 86400, NULL,
                                    "Length of the rate-limit window in seconds."},
    [MC_KNOB_RATELIMIT_RETRY_AFTER] = {"ratelimit.retry_after", MC_KNOB_BOOL, 1, 0, 1, NULL,
                                       "Send Retry-After (seconds left in the window) with a rate-limited reply."},
    [MC_KNOB_RATELIMIT_STATUS] = {"ratelimit.status", MC_KNOB_INT, 429, 400, 599, NULL,
                                  "Status of a rate-limited reply."},
    [MC_KNOB_ERRORS_HTML_FROM] = {"errors.html_from_status", MC_KNOB_INT, 0, 0, 599, NULL,
                                  "Errors with status >= N get a proxy's HTML page instead of the JSON body (0 = never)."},
    [MC_KNOB_ERRORS_NO_MESSAGE] = {"errors.no_message", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                   "Error bodies lose their 'message' field."},
    [MC_KNOB_ERRORS_COMPUTE_413] = {"errors.compute_legacy_413", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                    "Compute answers 429 as the legacy 413 overLimit with retryAfter."},
    [MC_KNOB_ERRORS_FLAKY_PERMILLE] = {"errors.flaky_permille", MC_KNOB_INT, 0, 0, 1000, NULL,
                                       "N in 1000 API requests get 503 from the proxy (reproducible with --seed)."},
    [MC_KNOB_STATUS_REMAP] = {"status.remap", MC_KNOB_LIST, 0, 0, 0, NULL,
                              "Rules 'SVC METHOD PATTERN FROM=TO': the route's FROM status becomes TO.",
                              MC_RULE_REMAP},
    [MC_KNOB_BODY_REMOVE] = {"body.remove", MC_KNOB_LIST, 0, 0, 0, NULL,
                             "Rules 'SVC PATH': remove the fields at PATH from reply bodies.", MC_RULE_PATH},
    [MC_KNOB_BODY_RENAME] = {"body.rename", MC_KNOB_LIST, 0, 0, 0, NULL,
                             "Rules 'SVC PATH=NEWKEY': rename the fields at PATH in reply bodies.", MC_RULE_PATH_ARG},
    [MC_KNOB_BODY_ADD] = {"body.add", MC_KNOB_LIST, 0, 0, 0, NULL,
                          "Rules 'SVC PATH=JSON': add a field (last PATH segment) to the objects at PATH.",
                          MC_RULE_PATH_JSON},
    [MC_KNOB_BODY_NAIVE_TIME] = {"body.naive_timestamps", MC_KNOB_LIST, 0, 0, 0, NULL,
                                 "Rules 'SVC': timestamps in that service's bodies lose their timezone.", MC_RULE_SVC},
    [MC_KNOB_HEADERS_REMOVE] = {"headers.remove", MC_KNOB_LIST, 0, 0, 0, NULL,
                                "Rules 'SVC Header-Name': the header is stripped from replies.", MC_RULE_PATH},
    /* ---- identity and catalog ---- */
    [MC_KNOB_API_HIDE] = {"api.hide", MC_KNOB_LIST, 0, 0, 0, NULL,
                          "Rules 'SVC GLOB': requests to matching service paths get 404 (the API is not deployed).",
                          MC_RULE_PATH},
    [MC_KNOB_QUERY_DROP] = {"query.drop", MC_KNOB_LIST, 0, 0, 0, NULL,
                            "Rules 'SVC PARAM': the query parameter is ignored (removed before the handler).",
                            MC_RULE_PATH},
    [MC_KNOB_PAGE_MAX_LIMIT] = {"pagination.max_limit", MC_KNOB_LIST, 0, 0, 0, NULL,
                                "Rules 'SVC N': GET requests without a limit, or with a larger one, get limit=N.",
                                MC_RULE_SVC_INT},
    [MC_KNOB_PAGE_BAD_MARKER_500] = {"pagination.bad_marker_500", MC_KNOB_LIST, 0, 0, 0, NULL,
                                     "Rules 'SVC': a list with an unknown marker fails with 500 instead of 400/404.",
                                     MC_RULE_SVC},
    [MC_KNOB_FILTER_NAME_EXACT] = {"filters.name_exact", MC_KNOB_LIST, 0, 0, 0, NULL,
                                   "Rules 'SVC': the ?name= filter matches the whole name literally, not as a regex.",
                                   MC_RULE_SVC},
    [MC_KNOB_LISTS_HIDE_NEW_S] = {"lists.hide_new_s", MC_KNOB_LIST, 0, 0, 0, NULL,
                                  "Rules 'SVC N': a resource created less than N seconds ago is missing from lists.",
                                  MC_RULE_SVC_INT},
    [MC_KNOB_IDENTITY_TOKEN_TTL_S] = {"identity.token_ttl_s", MC_KNOB_INT, 0, 0, 315360000, NULL,
                                      "Tokens expire N seconds after issue (0 = the server's --token-ttl)."},
    [MC_KNOB_CATALOG_OMIT] = {"catalog.omit", MC_KNOB_LIST, 0, 0, 0, NULL,
                              "Rules 'TYPE': that service type is missing from the catalog.", MC_RULE_SVC},
    [MC_KNOB_CATALOG_INTERFACES] = {"catalog.interfaces", MC_KNOB_STR, 0, 0, 0, "public,internal,admin",
                                    "Comma-separated endpoint interfaces listed in the catalog."},
    [MC_KNOB_CATALOG_REGION] = {"catalog.region", MC_KNOB_STR, 0, 0, 0, "",
                                "Region name of every endpoint (empty = the fixture region)."},
    [MC_KNOB_CATALOG_PROJECT_IN_URL] = {"catalog.project_in_url", MC_KNOB_LIST, 0, 0, 0, NULL,
                                        "Rules 'TYPE': the endpoint URL ends with the project id.", MC_RULE_SVC},
    [MC_KNOB_CATALOG_VERSION_IN_URL] = {"catalog.version_in_url", MC_KNOB_LIST, 0, 0, 0, NULL,
                                        "Rules 'TYPE': the endpoint URL has the API version baked in.", MC_RULE_SVC},
    /* ---- compute ---- */
    /* ---- network ---- */
    [MC_KNOB_NETWORK_QUOTA_FIP] = {"network.quota_floatingip", MC_KNOB_INT, -1, -1, 1000000, NULL,
                                   "Default floating IP quota per project (-1 = Neutron's default)."},
    [MC_KNOB_NETWORK_HIDE_EXT] = {"network.hide_extensions", MC_KNOB_LIST, 0, 0, 0, NULL,
                                  "Rules 'ALIAS': the Neutron extension is not listed in /v2.0/extensions.",
                                  MC_RULE_WORD},
    [MC_KNOB_NETWORK_BOOT_EXTERNAL] = {"network.boot_on_external", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                       "Servers booted without a network get a port on the external network."},
    [MC_KNOB_NETWORK_IPV6_ONLY] = {"network.ipv6_only", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                   "Ports on project networks get no IPv4 address (IPv6-only private networks)."},
    [MC_KNOB_NETWORK_AUTO_FIP] = {"network.auto_floating_ip", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                  "A server's port gets a floating IP as soon as it is attached."},
    [MC_KNOB_NETWORK_PORT_ACTIVE_LAG_MS] = {"network.port_active_lag_ms", MC_KNOB_INT, 0, 0, 3600000, NULL,
                                            "A server's ports become ACTIVE N ms after the server does."},
    [MC_KNOB_COMPUTE_MAX_MICROVERSION] = {"compute.max_microversion", MC_KNOB_INT, 96, 1, 96, NULL,
                                          "Highest compute microversion 2.N offered (2.1..2.96)."},
    [MC_KNOB_COMPUTE_BUILD_MS] = {"compute.build_ms", MC_KNOB_INT, 300, 0, 3600000, NULL,
                                  "Time a server spends in BUILD before ACTIVE, in ms."},
    [MC_KNOB_COMPUTE_MIN_MICROVERSION] = {"compute.min_microversion", MC_KNOB_INT, 1, 1, 96, NULL,
                                          "Lowest compute microversion 2.N offered."},
    [MC_KNOB_COMPUTE_ACTION_MS] = {"compute.action_ms", MC_KNOB_INT, 200, 0, 3600000, NULL,
                                   "Time a server action (reboot, stop, start, rebuild, resize...) takes, in ms."},
    [MC_KNOB_COMPUTE_DELETE_MS] = {"compute.delete_ms", MC_KNOB_INT, 100, 0, 3600000, NULL,
                                   "Time a server spends in task_state deleting before it is gone, in ms."},
    [MC_KNOB_COMPUTE_SNAPSHOT_MS] = {"compute.snapshot_ms", MC_KNOB_INT, 300, 0, 3600000, NULL,
                                     "Time a createImage snapshot spends saving before it is active, in ms."},
    [MC_KNOB_COMPUTE_BUILD_FAIL_PERCENT] = {"compute.build_fail_percent", MC_KNOB_INT, 0, 0, 100, NULL,
                                            "Share of builds that end in ERROR with a fault (No valid host)."},
    [MC_KNOB_COMPUTE_ADDR_PUBLIC_PRIVATE] = {"compute.addresses_public_private", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                             "Server addresses keyed 'public'/'private' instead of by network name."},
    [MC_KNOB_COMPUTE_SERVER_ID_STYLE] = {"compute.server_id_style", MC_KNOB_INT, 0, 0, 2, NULL,
                                         "Ids of new servers: 0 UUIDs, 1 integers (10000 + the instance number), "
                                         "2 EC2-style 'i-0000002a'."},
    /* ---- image ---- */
    [MC_KNOB_IMAGE_SAVING_MS] = {"image.saving_ms", MC_KNOB_INT, 0, 0, 3600000, NULL,
                                 "After an upload the image stays 'saving' for N ms before 'active'."},
    [MC_KNOB_IMAGE_DEFAULT_VISIBILITY] = {"image.default_visibility", MC_KNOB_STR, 0, 0, 0, "shared",
                                          "Visibility of an image created without one (Glance since Pike: shared)."},
    [MC_KNOB_IMAGE_SIZE_CAP] = {"image.size_cap", MC_KNOB_INT, 0, 0, 1099511627776LL, NULL,
                                "Image uploads above N bytes are refused with 413 (0 = only the server's upload cap)."},
    [MC_KNOB_IMAGE_IMPORT_ONLY] = {"image.import_only", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                   "PUT /v2/images/{id}/file is forbidden (403, policy upload_image): only image import works."},
    [MC_KNOB_IMAGE_VERSIONS_V1] = {"image.versions_v1", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                   "Glance v1 is served at /image/v1 and the image versions document lists only v1.1 and v1.0."},
    /* ---- metadata service and config drive ---- */
    [MC_KNOB_METADATA_NETWORK_DATA] = {"metadata.network_data", MC_KNOB_BOOL, 1, 0, 1, NULL,
                                       "Serve network_data.json (metadata service and config drive); 0 = 404 / absent."},
    [MC_KNOB_METADATA_USER_DATA_BASE64] = {"metadata.user_data_base64", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                           "Serve user_data as the base64 text given at create time, not decoded."},
    [MC_KNOB_METADATA_PUBLIC_KEYS] = {"metadata.public_keys", MC_KNOB_BOOL, 1, 0, 1, NULL,
                                      "Put the key pair in meta_data.json (public_keys, keys) and EC2 public-keys; 0 = missing."},
    [MC_KNOB_METADATA_EC2_ONLY] = {"metadata.ec2_only", MC_KNOB_BOOL, 0, 0, 1, NULL,
                                   "Serve only the EC2 tree (/latest/meta-data): /openstack is 404."},
    [MC_KNOB_METADATA_DELAY_S] = {"metadata.delay_s", MC_KNOB_INT, 0, 0, 86400, NULL,
                                  "Metadata answers 503 until N seconds after the server became ACTIVE."},
    [MC_KNOB_METADATA_CONFIG_DRIVE] = {"metadata.config_drive", MC_KNOB_INT, 0, 0, 2, NULL,
                                       "Config drive: 0 = when the server asked for one, 1 = always, 2 = never."},
    [MC_KNOB_METADATA_DHCP_DOMAIN] = {"metadata.dhcp_domain", MC_KNOB_STR, 0, 0, 0, "novalocal",
                                      "Domain appended to the instance hostname (Nova's dhcp_domain); \"\" = bare hostname."},
    [MC_KNOB_GUEST_HOSTNAME] = {"guest.hostname", MC_KNOB_INT, 0, 0, 2, NULL,
                                "The hostname the guest sets (--guest-ssh): 0 = the metadata's hostname (the server name), "
                                "1 = the libvirt instance name instance-XXXXXXXX, 2 = host-<fixed IP with dashes>."},
    [MC_KNOB_GUEST_VCPUS_DELTA] = {"guest.vcpus_delta", MC_KNOB_INT, 0, -64, 64, NULL,
                                   "The guest sees the flavor's vcpus plus N processors (--guest-ssh); at least 1."},
    /* ---- block storage ---- */
    [MC_KNOB_VOLUME_CREATE_MS] = {"volume.create_ms", MC_KNOB_INT, 200, 0, 3600000, NULL,
                                  "Time a new volume spends in creating before it is available, in ms."},
    [MC_KNOB_VOLUME_ATTACH_MS] = {"volume.attach_ms", MC_KNOB_INT, 200, 0, 3600000, NULL,
                                  "Time an attached volume spends in attaching before it is in-use, in ms."},
    [MC_KNOB_VOLUME_DETACH_MS] = {"volume.detach_ms", MC_KNOB_INT, 200, 0, 3600000, NULL,
                                  "Time a detached volume spends in detaching before it is available, in ms."},
    [MC_KNOB_VOLUME_DELETE_MS] = {"volume.delete_ms", MC_KNOB_INT, 100, 0, 3600000, NULL,
                                  "Time a deleted volume spends in deleting before it is gone, in ms."},
    [MC_KNOB_VOLUME_GUEST_DEVICE_SHIFT] = {"volume.guest_device_shift", MC_KNOB_INT, 0, 0, 3, NULL,
                                           "The guest sees an attached volume N device letters after the one Nova reports."},
};

const mc_knob_def *mc_knob_defs(void) { return knobs; }

const char *mc_profile_name(const mc_profile *p) { return p ? p->name : "none"; }

/* ------------------------------------------------------------ list rules */

static void rules_free(mc_rule *r) {
    while (r != NULL) {
        mc_rule *next = r->next;
        free(r->text);
        free(r->pattern);
        free(r->path);
        free(r->arg);
        cJSON_Delete(r->value);
        free(r);
        r = next;
    }
}

void mc_profile_free(mc_profile *p) {
    if (p == NULL) return;
    for (int i = 0; i < MC_KNOB_COUNT; i++) {
        free(p->sv[i]);
        rules_free(p->rules[i]);
    }
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

static const char *const svc_names[] = {"identity", "compute", "network", "image", "metadata", "volume"};
static const mc_service svc_ids[] = {MC_IDENTITY, MC_COMPUTE, MC_NETWORK, MC_IMAGE, MC_METADATA, MC_VOLUME};

/* "*" -> MC_SVC_NONE (any); unknown -> -1. */
static int parse_svc(const char *s, size_t n) {
    if (n == 1 && s[0] == '*') return MC_SVC_NONE;
    for (size_t i = 0; i < sizeof svc_names / sizeof svc_names[0]; i++)
        if (strlen(svc_names[i]) == n && strncmp(svc_names[i], s, n) == 0) return (int)svc_ids[i];
    return -1;
}

static int parse_method(const char *s) {
    static const struct { const char *name; int m; } ms[] = {
        {"*", 0}, {"GET", EVHTTP_REQ_GET}, {"POST", EVHTTP_REQ_POST}, {"PUT", EVHTTP_REQ_PUT},
        {"DELETE", EVHTTP_REQ_DELETE}, {"PATCH", EVHTTP_REQ_PATCH}, {"HEAD", EVHTTP_REQ_HEAD},
    };
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
        if (strcmp(ms[i].name, s) == 0) return ms[i].m;
    return -1;
}

/* Parses one rule of knob 'd'; NULL with the reason in err. */
static mc_rule *rule_parse(const mc_knob_def *d, const char *text, char *err, size_t errsz) {
    mc_rule *r = calloc(1, sizeof *r);
    if (r == NULL) mc_panic("out of memory");
    r->text = strdup(text);
    char buf[1024];
    mc_strlcpy(buf, text, sizeof buf);
    char *save = NULL;
    char *tok[5] = {0};
    int n = 0;
    /* The last field of PATH_JSON may hold spaces: split only as needed. */
    int maxf = d->syntax == MC_RULE_REMAP ? 4 : (d->syntax == MC_RULE_SVC || d->syntax == MC_RULE_WORD) ? 1 : 2;
    long num;
    char *p = buf;
    while (n < maxf) {
        while (*p == ' ') p++;
        if (*p == '\0') break;
        tok[n++] = p;
        if (n == maxf) break;
        char *sp = strchr(p, ' ');
        if (sp == NULL) break;
        *sp = '\0';
        p = sp + 1;
    }
    (void)save;
    if (n != maxf) {
        snprintf(err, errsz, "rule '%s' of '%s' needs %d field(s)", text, d->name, maxf);
        goto fail;
    }
    if (d->syntax == MC_RULE_WORD) {
        if (strchr(tok[0], ' ') != NULL) {
            snprintf(err, errsz, "rule '%s' of '%s': expected one word", text, d->name);
            goto fail;
        }
        r->path = strdup(tok[0]);
        return r;
    }
    int svc = parse_svc(tok[0], strlen(tok[0]));
    if (svc < 0) {
        snprintf(err, errsz, "rule '%s' of '%s': unknown service '%s'", text, d->name, tok[0]);
        goto fail;
    }
    r->svc = (mc_service)svc;
    switch (d->syntax) {
    case MC_RULE_SVC:
        break;
    case MC_RULE_REMAP: {
        r->method = parse_method(tok[1]);
        if (r->method < 0) {
            snprintf(err, errsz, "rule '%s' of '%s': unknown method '%s'", text, d->name, tok[1]);
            goto fail;
        }
        if (strcmp(tok[2], "*") != 0) r->pattern = strdup(tok[2]);
        char *eq = strchr(tok[3], '=');
        long from, to;
        if (eq == NULL) goto badremap;
        *eq = '\0';
        if (!mc_parse_long(tok[3], 100, 599, &from) || !mc_parse_long(eq + 1, 100, 599, &to)) goto badremap;
        r->from = (int)from;
        r->to = (int)to;
        break;
    badremap:
        snprintf(err, errsz, "rule '%s' of '%s': expected FROM=TO statuses (100..599)", text, d->name);
        goto fail;
    }
    case MC_RULE_SVC_INT:
        if (!mc_parse_long(tok[1], 0, 1000000000L, &num)) {
            snprintf(err, errsz, "rule '%s' of '%s': expected 'SVC N' with N >= 0", text, d->name);
            goto fail;
        }
        r->from = (int)num;
        break;
    case MC_RULE_PATH:
        if (strchr(tok[1], ' ') != NULL || tok[1][0] == '\0') {
            snprintf(err, errsz, "rule '%s' of '%s': expected 'SVC PATH'", text, d->name);
            goto fail;
        }
        r->path = strdup(tok[1]);
        break;
    case MC_RULE_PATH_ARG:
    case MC_RULE_PATH_JSON: {
        char *eq = strchr(tok[1], '=');
        if (eq == NULL || eq == tok[1] || eq[1] == '\0') {
            snprintf(err, errsz, "rule '%s' of '%s': expected 'SVC PATH=%s'", text, d->name,
                     d->syntax == MC_RULE_PATH_ARG ? "NEWKEY" : "JSON");
            goto fail;
        }
        *eq = '\0';
        r->path = strdup(tok[1]);
        if (d->syntax == MC_RULE_PATH_ARG) {
            r->arg = strdup(eq + 1);
        } else {
            size_t len = strlen(eq + 1);
            r->value = cJSON_ParseWithLengthOpts(eq + 1, len + 1, NULL, 1);
            if (r->value == NULL) {
                snprintf(err, errsz, "rule '%s' of '%s': the value is not JSON", text, d->name);
                goto fail;
            }
        }
        break;
    }
    default:
        snprintf(err, errsz, "knob '%s' has no rule syntax", d->name);
        goto fail;
    }
    return r;
fail:
    rules_free(r);
    return NULL;
}

static int apply_list(mc_profile *p, int k, const char *file, const char *dev_id, const cJSON *kv,
                      char *err, size_t errsz) {
    const mc_knob_def *d = &knobs[k];
    char why[600];
    mc_rule **tail = &p->rules[k];
    while (*tail != NULL) tail = &(*tail)->next;
    const cJSON *item;
    cJSON one = *kv;   /* a lone string is a list of one */
    one.next = one.prev = NULL;
    const cJSON *list = kv;
    cJSON wrap;
    memset(&wrap, 0, sizeof wrap);
    if (cJSON_IsString(kv)) {
        wrap.type = cJSON_Array;
        wrap.child = &one;
        list = &wrap;
    } else if (!cJSON_IsArray(kv)) {
        snprintf(err, errsz, "%s: deviation '%s': knob '%s' must be a string or an array of strings",
                 file, dev_id, d->name);
        return -1;
    }
    cJSON_ArrayForEach(item, list) {
        if (!cJSON_IsString(item)) {
            snprintf(err, errsz, "%s: deviation '%s': knob '%s' must hold strings", file, dev_id, d->name);
            return -1;
        }
        mc_rule *r = rule_parse(d, item->valuestring, why, sizeof why);
        if (r == NULL) {
            snprintf(err, errsz, "%s: deviation '%s': %s", file, dev_id, why);
            return -1;
        }
        r->dev_id = dev_id;
        *tail = r;
        tail = &r->next;
        p->iv[k]++;
    }
    p->src[k] = dev_id;
    return 0;
}

static int apply_knob(mc_profile *p, const char *file, const char *dev_id, const cJSON *kv,
                      char *err, size_t errsz) {
    int k = knob_index(kv->string);
    if (k < 0) {
        snprintf(err, errsz, "%s: deviation '%s': unknown knob '%s'", file, dev_id, kv->string);
        return -1;
    }
    const mc_knob_def *d = &knobs[k];
    if (d->type == MC_KNOB_LIST) return apply_list(p, k, file, dev_id, kv, err, errsz);
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

/* ------------------------------------------------------------ the loader */

static void resolve_path(const char *dir, const char *name, char *out, size_t outsz) {
    if (strchr(name, '/') != NULL || strstr(name, ".json") != NULL)
        snprintf(out, outsz, "%s", name);
    else
        snprintf(out, outsz, "%s/%s.json", dir, name);
}

cJSON *mc_catalogue_load(const char *dir, char *err, size_t errsz) {
    char path[1024];
    snprintf(path, sizeof path, "%s/catalogue/deviations.json", dir);
    cJSON *doc = mc_json_load_file(path, err, errsz);
    if (doc == NULL) return NULL;
    cJSON *devs = cJSON_DetachItemFromObjectCaseSensitive(doc, "deviations");
    cJSON_Delete(doc);
    if (!cJSON_IsArray(devs)) {
        snprintf(err, errsz, "%s: expected {\"deviations\": [...]}", path);
        cJSON_Delete(devs);
        return NULL;
    }
    return devs;
}

/* VALUE for a list knob: a number replaces the last word of each of the
 * deviation's own rules ("compute 5" -> "compute 60"); a string is the one
 * rule. Consumes 'v', returns the new value. */
static cJSON *list_param(const cJSON *rules, cJSON *v) {
    if (!cJSON_IsNumber(v) || rules == NULL) return v;
    cJSON *out = cJSON_CreateArray();
    const cJSON *x;
    cJSON one = *rules;
    one.next = one.prev = NULL;
    cJSON wrap;
    memset(&wrap, 0, sizeof wrap);
    wrap.type = cJSON_Array;
    wrap.child = &one;
    const cJSON *list = cJSON_IsString(rules) ? &wrap : rules;
    cJSON_ArrayForEach(x, list) {
        if (!cJSON_IsString(x)) continue;
        char buf[512];
        mc_strlcpy(buf, x->valuestring, sizeof buf);
        char *sp = strrchr(buf, ' ');
        if (sp != NULL) snprintf(sp + 1, sizeof buf - (size_t)(sp + 1 - buf), "%lld", (long long)v->valuedouble);
        cJSON_AddItemToArray(out, cJSON_CreateString(buf));
    }
    cJSON_Delete(v);
    return out;
}

/* The catalogue entry 'ref' ("ID" or "ID=VALUE"), as a new deviation object
 * (VALUE set on its "param" knob); NULL with the reason. *cat is loaded on
 * first use. */
static cJSON *catalogue_ref(const char *dir, cJSON **cat, const char *ref, const char *where,
                            char *err, size_t errsz) {
    if (*cat == NULL && (*cat = mc_catalogue_load(dir, err, errsz)) == NULL) return NULL;
    char id[128];
    mc_strlcpy(id, ref, sizeof id);
    char *eq = strchr(id, '=');
    const char *value = NULL;
    if (eq != NULL) {
        *eq = '\0';
        value = ref + (eq - id) + 1;
    }
    cJSON *dev;
    cJSON_ArrayForEach(dev, *cat) {
        if (!mc_str_eq(mc_json_str(dev, "id"), id)) continue;
        cJSON *copy = cJSON_Duplicate(dev, 1);
        if (value != NULL) {
            const char *param = mc_json_str(dev, "param");
            if (param == NULL) {
                snprintf(err, errsz, "%s: deviation '%s' takes no parameter", where, id);
                cJSON_Delete(copy);
                return NULL;
            }
            cJSON *v = cJSON_ParseWithLengthOpts(value, strlen(value) + 1, NULL, 1);
            if (v == NULL) v = cJSON_CreateString(value);
            cJSON *set = mc_json_obj(copy, "set");
            if (set == NULL) set = cJSON_AddObjectToObject(copy, "set");
            int k = knob_index(param);
            if (k >= 0 && knobs[k].type == MC_KNOB_LIST) v = list_param(cJSON_GetObjectItemCaseSensitive(set, param), v);
            mc_json_set(set, param, v);
        }
        return copy;
    }
    snprintf(err, errsz, "%s: no deviation '%s' in the catalogue", where, id);
    return NULL;
}

/* Loads 'name' and its parents into 'merged' (a list of deviations, parents
 * first). depth guards against cycles. */
static int load_chain(const char *dir, const char *name, cJSON *merged, int depth, cJSON **top,
                      cJSON **cat, char *err, size_t errsz) {
    char path[1024];
    if (depth > 8) {
        snprintf(err, errsz, "%s: 'extends' chain too deep (a cycle?)", name);
        return -1;
    }
    resolve_path(dir, name, path, sizeof path);
    cJSON *doc = mc_json_load_file(path, err, errsz);
    if (doc == NULL) return -1;
    static const char *allowed[] = {"name", "description", "extends", "deviations", "notes", "story", NULL};
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
    if (parent != NULL && load_chain(dir, parent, merged, depth + 1, NULL, cat, err, errsz) != 0) {
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
        cJSON *copy;
        if (cJSON_IsString(dev)) {
            copy = catalogue_ref(dir, cat, dev->valuestring, path, err, errsz);
            if (copy == NULL) {
                cJSON_Delete(doc);
                return -1;
            }
        } else if (cJSON_IsObject(dev) && mc_json_str(dev, "id") != NULL) {
            copy = cJSON_Duplicate(dev, 1);
        } else {
            snprintf(err, errsz, "%s: every deviation needs an 'id' (or is a catalogue id)", path);
            cJSON_Delete(doc);
            return -1;
        }
        cJSON_AddStringToObject(copy, "file", path);
        cJSON_AddItemToArray(merged, copy);
    }
    if (top != NULL)
        *top = doc;
    else
        cJSON_Delete(doc);
    return 0;
}

mc_profile *mc_profile_load_with(const char *dir, const char *name, const char *const *extra,
                                 size_t nextra, char *err, size_t errsz) {
    mc_profile *p = calloc(1, sizeof *p);
    if (p == NULL) mc_panic("out of memory");
    for (int i = 0; i < MC_KNOB_COUNT; i++) {
        p->iv[i] = knobs[i].dflt;
        p->sv[i] = knobs[i].dflt_str ? strdup(knobs[i].dflt_str) : NULL;
    }
    cJSON *merged = cJSON_CreateArray();
    cJSON *top = NULL, *cat = NULL;
    if (load_chain(dir, name, merged, 0, &top, &cat, err, errsz) != 0) goto fail;
    for (size_t i = 0; i < nextra; i++) {
        cJSON *copy = catalogue_ref(dir, &cat, extra[i], "--deviate", err, errsz);
        if (copy == NULL) goto fail;
        cJSON_AddStringToObject(copy, "file", "--deviate");
        cJSON_AddItemToArray(merged, copy);
    }
    cJSON_Delete(cat);
    cat = NULL;
    char path[1024];
    resolve_path(dir, name, path, sizeof path);
    p->path = strdup(path);
    const char *pname = mc_json_str(top, "name");
    char tmp[512];
    if (pname == NULL) {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        mc_strlcpy(tmp, base, sizeof tmp);
        char *dot = strstr(tmp, ".json");
        if (dot) *dot = '\0';
    } else {
        mc_strlcpy(tmp, pname, sizeof tmp);
    }
    for (size_t i = 0; i < nextra; i++) {
        size_t len = strlen(tmp);
        snprintf(tmp + len, sizeof tmp - len, "+%s", extra[i]);
    }
    p->name = strdup(tmp);
    const char *desc = mc_json_str(top, "description");
    p->description = strdup(desc ? desc : "");
    /* p->doc keeps the top file with the merged deviation list. */
    cJSON_DeleteItemFromObjectCaseSensitive(top, "deviations");
    cJSON_AddItemToObject(top, "deviations", merged);
    p->doc = top;
    merged = NULL;
    cJSON *dev;
    cJSON_ArrayForEach(dev, mc_json_arr(p->doc, "deviations")) {
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
fail:
    cJSON_Delete(merged);
    cJSON_Delete(top);
    cJSON_Delete(cat);
    mc_profile_free(p);
    return NULL;
}

mc_profile *mc_profile_load(const char *dir, const char *name, char *err, size_t errsz) {
    return mc_profile_load_with(dir, name, NULL, 0, err, errsz);
}

/* ------------------------------------------------------------ knob reads */

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

const mc_rule *mc_knob_rules(const mc_server *srv, mc_knob_id k) { return srv->profile->rules[k]; }

bool mc_profile_rewrites_bodies(const mc_server *srv) {
    static const mc_knob_id tree_rules[] = {MC_KNOB_BODY_REMOVE, MC_KNOB_BODY_RENAME, MC_KNOB_BODY_ADD,
                                            MC_KNOB_BODY_NAIVE_TIME, MC_KNOB_LISTS_HIDE_NEW_S};
    for (size_t i = 0; i < sizeof tree_rules / sizeof tree_rules[0]; i++)
        if (srv->profile->rules[tree_rules[i]] != NULL) return true;
    return false;
}

void mc_rule_used(mc_req *r, const mc_rule *rule) { mc_deviation_note(r, rule->dev_id); }

bool mc_knob_has_word(mc_req *r, mc_knob_id k, const char *word) {
    for (const mc_rule *x = r->srv->profile->rules[k]; x != NULL; x = x->next) {
        if (mc_str_eq(x->path, word)) {
            mc_rule_used(r, x);
            return true;
        }
    }
    return false;
}

bool mc_knob_lists(mc_req *r, mc_knob_id k, const char *svc_name) {
    if (r->srv->profile->rules[k] == NULL) return false;   /* the usual case: no name to parse */
    int svc = parse_svc(svc_name, strlen(svc_name));
    for (const mc_rule *x = r->srv->profile->rules[k]; x != NULL; x = x->next) {
        if (x->svc == MC_SVC_NONE || (int)x->svc == svc) {
            mc_rule_used(r, x);
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------ runtime state
 *
 * A deferred request (latency, a delayed fault, a dropped connection) waits
 * on a libevent timer. Until it fires nothing else may answer it; if the
 * client goes away first the close callback marks it gone, and the timer
 * only releases the request (httpd.c keeps it valid until then). When the
 * server stops, mc_profile_server_free drops every pending one. */

enum { D_RUN = 0, D_STATUS, D_DROP };

typedef struct mc_deferred {
    mc_req *r;
    struct event *timer;
    int action;
    int status;
    long retry_after;
    char message[256];
    bool gone;
    struct mc_deferred *next;
} mc_deferred;

struct mc_fault {
    uint64_t id;
    int method;               /* 0 = any */
    mc_service svc;           /* MC_SVC_NONE = any */
    char path[256];           /* fnmatch glob on the request path */
    char body_path[128];      /* optional: dot path into the request body ... */
    cJSON *body_value;        /* ... that must equal this */
    int status;               /* answer with this error (0 = none) */
    bool drop;                /* close the connection without a reply */
    long truncate;            /* >= 0: cut the reply body after N bytes */
    long slow_body_ms;        /* > 0: the real body trickles out over N ms */
    long delay_ms;
    long retry_after;         /* Retry-After on the status reply (0 = none) */
    long count;               /* replies left (0 = unlimited) */
    double until;             /* expiry (0 = none) */
    double probability;
    long hits;
    char message[256];
    struct mc_fault *next;
};

/* Recently created resources (lists.hide_new_s): a small ring of ids. */
#define MC_RECENT 256
typedef struct {
    char id[64];
    mc_service svc;
    double t;
} recent_ent;

/* A reply body trickling out (slow-body fault). Holds no mc_req. */
typedef struct mc_stream {
    struct mc_hreq *hq;
    char *body;               /* owned */
    size_t len, off;
    void (*body_free)(void *);
    struct event *timer;
    size_t piece;
    long tick_ms;
    mc_server *srv;
    struct mc_stream *next;
} mc_stream;

struct mc_profile_state {
    mc_deferred *deferred;
    mc_stream *streams;
    uint64_t next_fault_id;
    double rl_start;
    long rl_count;
    mc_req *current;          /* the request whose handler runs (mc_knob_cur) */
    recent_ent recent[MC_RECENT];
    size_t nrecent;           /* total recorded; ring index = n % MC_RECENT */
};

static struct mc_profile_state *pstate(mc_server *srv) {
    if (srv->pstate == NULL) {
        srv->pstate = calloc(1, sizeof *srv->pstate);
        if (srv->pstate == NULL) mc_panic("out of memory");
        srv->pstate->next_fault_id = 1;
    }
    return srv->pstate;
}

static void fault_free(mc_fault *f) {
    cJSON_Delete(f->body_value);
    free(f);
}

int mc_fault_remove(mc_server *srv, uint64_t id) {
    int n = 0;
    mc_fault **pp = &srv->faults;
    while (*pp != NULL) {
        mc_fault *f = *pp;
        if (id == 0 || f->id == id) {
            *pp = f->next;
            fault_free(f);
            n++;
        } else {
            pp = &f->next;
        }
    }
    return n;
}

void mc_profile_server_free(mc_server *srv) {
    mc_fault_remove(srv, 0);
    if (srv->pstate == NULL) return;
    mc_deferred *d = srv->pstate->deferred;
    while (d != NULL) {
        mc_deferred *next = d->next;
        mc_httpd_set_closecb(d->r->hq, NULL, NULL);
        mc_httpd_drop(d->r->hq);
        event_free(d->timer);
        mc_router_free_req(d->r);
        free(d);
        d = next;
    }
    mc_stream *s = srv->pstate->streams;
    while (s != NULL) {
        mc_stream *next = s->next;
        event_free(s->timer);
        mc_httpd_drop(s->hq);
        s->body_free(s->body);
        free(s);
        s = next;
    }
    free(srv->pstate);
    srv->pstate = NULL;
}

static void stream_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    mc_stream *s = arg;
    size_t n = s->len - s->off < s->piece ? s->len - s->off : s->piece;
    mc_httpd_write(s->hq, s->body + s->off, n);   /* a no-op once the client left */
    s->off += n;
    if (s->off < s->len) {
        struct timeval tv = {s->tick_ms / 1000, (s->tick_ms % 1000) * 1000};
        evtimer_add(s->timer, &tv);
        return;
    }
    mc_httpd_end(s->hq);
    for (mc_stream **pp = &s->srv->pstate->streams; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    }
    event_free(s->timer);
    s->body_free(s->body);
    free(s);
}

void mc_profile_stream(mc_req *r, int status, const char *body, size_t bytes, void (*free_fn)(void *)) {
    struct mc_profile_state *st = pstate(r->srv);
    mc_stream *s = calloc(1, sizeof *s);
    if (s == NULL) mc_panic("out of memory");
    if (free_fn != NULL) {
        s->body = (char *)body;
        s->body_free = free_fn;
    } else {
        if ((s->body = malloc(bytes)) == NULL) mc_panic("out of memory");
        memcpy(s->body, body, bytes);
        s->body_free = free;
    }
    s->len = bytes;
    s->hq = r->hq;
    s->srv = r->srv;
    s->piece = (bytes + 9) / 10;
    s->tick_ms = r->wire_slow_ms / 10 > 0 ? r->wire_slow_ms / 10 : 1;
    s->timer = evtimer_new(r->srv->base, stream_tick, s);
    if (s->timer == NULL) mc_panic("cannot stream a reply");
    s->next = st->streams;
    st->streams = s;
    mc_httpd_start(r->hq, status, mc_status_phrase(status), bytes);   /* not chunked: the length is known */
    struct timeval tv = {0, 0};
    evtimer_add(s->timer, &tv);
}

static void deferred_unlink(mc_server *srv, mc_deferred *d) {
    for (mc_deferred **pp = &srv->pstate->deferred; *pp != NULL; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            return;
        }
    }
}

static void deferred_closed(void *arg) {
    mc_deferred *d = arg;
    d->gone = true;
}

static void deferred_fire(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    mc_deferred *d = arg;
    mc_req *r = d->r;
    mc_server *srv = r->srv;
    deferred_unlink(srv, d);
    event_free(d->timer);
    mc_httpd_set_closecb(r->hq, NULL, NULL);
    if (d->gone) {
        mc_log(MC_LOG_DEBUG, "client went away before the deferred reply to %s", r->path);
        mc_httpd_drop(r->hq);   /* releases the closed connection */
        mc_router_free_req(r);
        free(d);
        return;
    }
    switch (d->action) {
    case D_RUN:
        srv->pstate->current = r;
        mc_router_run(r);   /* frees r; mc_profile_done clears current */
        break;
    case D_STATUS:
        if (d->retry_after > 0) {
            char ra[32];
            snprintf(ra, sizeof ra, "%ld", d->retry_after);
            mc_header_set(r, "Retry-After", ra);
        }
        mc_reply_error(r, d->status, NULL, "%s", d->message);
        mc_router_free_req(r);
        break;
    case D_DROP:
    default:
        r->status = 0;
        mc_journal_record(srv->journal, r, 0, 0);
        mc_httpd_drop(r->hq);   /* closes the socket without an answer */
        mc_router_free_req(r);
        break;
    }
    free(d);
}

/* Takes the request over: 'action' after 'ms' milliseconds. */
static int defer(mc_req *r, long ms, int action, int status, long retry_after, const char *message) {
    struct mc_profile_state *st = pstate(r->srv);
    mc_deferred *d = calloc(1, sizeof *d);
    if (d == NULL) mc_panic("out of memory");
    d->r = r;
    d->action = action;
    d->status = status;
    d->retry_after = retry_after;
    mc_strlcpy(d->message, message ? message : "", sizeof d->message);
    d->timer = evtimer_new(r->srv->base, deferred_fire, d);
    if (d->timer == NULL) mc_panic("cannot defer a reply");
    mc_httpd_set_closecb(r->hq, deferred_closed, d);
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(d->timer, &tv);
    d->next = st->deferred;
    st->deferred = d;
    return 1;
}

/* ------------------------------------------------------------ faults */

static const cJSON *json_dot(const cJSON *j, const char *path) {
    char buf[256];
    mc_strlcpy(buf, path, sizeof buf);
    char *save = NULL;
    for (char *seg = strtok_r(buf, ".", &save); seg != NULL && j != NULL; seg = strtok_r(NULL, ".", &save))
        j = cJSON_GetObjectItemCaseSensitive(j, seg);
    return j;
}

static cJSON *fault_json(const mc_fault *f) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)f->id);
    cJSON_AddStringToObject(o, "method", f->method ? mc_method_name(f->method) : "*");
    cJSON_AddStringToObject(o, "service", f->svc ? mc_service_name(f->svc) : "*");
    cJSON_AddStringToObject(o, "path", f->path);
    if (f->body_value != NULL) {
        cJSON *b = cJSON_AddObjectToObject(o, "body");
        cJSON_AddItemToObject(b, f->body_path, cJSON_Duplicate(f->body_value, 1));
    }
    if (f->status) cJSON_AddNumberToObject(o, "status", f->status);
    if (f->drop) cJSON_AddBoolToObject(o, "drop", true);
    if (f->truncate >= 0) cJSON_AddNumberToObject(o, "truncate", (double)f->truncate);
    if (f->slow_body_ms > 0) cJSON_AddNumberToObject(o, "slow_body_ms", (double)f->slow_body_ms);
    cJSON_AddNumberToObject(o, "delay_ms", (double)f->delay_ms);
    if (f->retry_after) cJSON_AddNumberToObject(o, "retry_after", (double)f->retry_after);
    cJSON_AddNumberToObject(o, "count", (double)f->count);
    if (f->until > 0) {
        char ts[32];
        mc_time_iso(f->until, ts);
        cJSON_AddStringToObject(o, "until", ts);
    }
    cJSON_AddNumberToObject(o, "probability", f->probability);
    cJSON_AddNumberToObject(o, "hits", (double)f->hits);
    if (f->message[0]) cJSON_AddStringToObject(o, "message", f->message);
    return o;
}

cJSON *mc_fault_list(const mc_server *srv) {
    cJSON *arr = cJSON_CreateArray();
    for (const mc_fault *f = srv->faults; f != NULL; f = f->next) cJSON_AddItemToArray(arr, fault_json(f));
    return arr;
}

static bool spec_num(const cJSON *spec, const char *key, double min, double max, double *out,
                     char *err, size_t errsz) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, key);
    if (v == NULL) return true;
    if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max) {
        snprintf(err, errsz, "'%s' must be a number in [%g, %g]", key, min, max);
        return false;
    }
    *out = v->valuedouble;
    return true;
}

cJSON *mc_fault_add(mc_server *srv, const cJSON *spec, char *err, size_t errsz) {
    static const char *allowed[] = {"method", "service", "path", "body", "status", "drop", "truncate",
                                    "delay_ms", "retry_after", "count", "seconds", "probability",
                                    "message", "slow_body_ms", NULL};
    if (!cJSON_IsObject(spec)) {
        snprintf(err, errsz, "a fault is a JSON object");
        return NULL;
    }
    for (const cJSON *kv = spec->child; kv != NULL; kv = kv->next) {
        bool ok = false;
        for (int i = 0; allowed[i]; i++) ok |= strcmp(kv->string, allowed[i]) == 0;
        if (!ok) {
            snprintf(err, errsz, "unknown key '%.64s' (allowed: method, service, path, body, status, drop, "
                                 "truncate, slow_body_ms, delay_ms, retry_after, count, seconds, probability, message)",
                     kv->string);
            return NULL;
        }
    }
    mc_fault *f = calloc(1, sizeof *f);
    if (f == NULL) mc_panic("out of memory");
    f->truncate = -1;
    f->probability = 1;
    f->count = 1;
    mc_strlcpy(f->path, "*", sizeof f->path);
    const char *s;
    double v;
    if ((s = mc_json_str(spec, "method")) != NULL && (f->method = parse_method(s)) < 0) {
        snprintf(err, errsz, "'method' must be GET, POST, PUT, DELETE, PATCH, HEAD or *");
        goto fail;
    }
    if ((s = mc_json_str(spec, "service")) != NULL) {
        int svc = parse_svc(s, strlen(s));
        if (svc < 0) {
            snprintf(err, errsz, "'service' must be identity, compute, network, image, metadata or *");
            goto fail;
        }
        f->svc = (mc_service)svc;
    }
    if ((s = mc_json_str(spec, "path")) != NULL) mc_strlcpy(f->path, s, sizeof f->path);
    if ((s = mc_json_str(spec, "message")) != NULL) mc_strlcpy(f->message, s, sizeof f->message);
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(spec, "body");
    if (body != NULL) {
        if (!cJSON_IsObject(body) || body->child == NULL || body->child->next != NULL) {
            snprintf(err, errsz, "'body' must be {\"dot.path\": value} with one member");
            goto fail;
        }
        mc_strlcpy(f->body_path, body->child->string, sizeof f->body_path);
        f->body_value = cJSON_Duplicate(body->child, 1);
    }
    v = 0;
    if (!spec_num(spec, "status", 400, 599, &v, err, errsz)) goto fail;
    f->status = (int)v;
    const cJSON *drop = cJSON_GetObjectItemCaseSensitive(spec, "drop");
    if (drop != NULL && !cJSON_IsBool(drop)) {
        snprintf(err, errsz, "'drop' must be a boolean");
        goto fail;
    }
    f->drop = cJSON_IsTrue(drop);
    v = -1;
    if (!spec_num(spec, "truncate", 0, 1e9, &v, err, errsz)) goto fail;
    f->truncate = (long)v;
    v = 0;
    if (!spec_num(spec, "delay_ms", 0, 600000, &v, err, errsz)) goto fail;
    f->delay_ms = (long)v;
    v = 0;
    if (!spec_num(spec, "slow_body_ms", 0, 600000, &v, err, errsz)) goto fail;
    f->slow_body_ms = (long)v;
    v = 0;
    if (!spec_num(spec, "retry_after", 0, 86400, &v, err, errsz)) goto fail;
    f->retry_after = (long)v;
    double seconds = 0;
    if (!spec_num(spec, "seconds", 0, 86400 * 365, &seconds, err, errsz)) goto fail;
    if (seconds > 0) {
        f->until = mc_now() + seconds;
        f->count = 0;
    }
    v = (double)f->count;
    if (!spec_num(spec, "count", 0, 1e9, &v, err, errsz)) goto fail;
    f->count = (long)v;
    if (!spec_num(spec, "probability", 0, 1, &f->probability, err, errsz)) goto fail;
    int actions = (f->status != 0) + f->drop + (f->truncate >= 0) + (f->slow_body_ms > 0);
    if (actions > 1) {
        snprintf(err, errsz, "choose one of 'status', 'drop', 'truncate', 'slow_body_ms'");
        goto fail;
    }
    if (actions == 0 && f->delay_ms == 0) {
        snprintf(err, errsz, "a fault needs 'status', 'drop', 'truncate', 'slow_body_ms' or 'delay_ms'");
        goto fail;
    }
    struct mc_profile_state *st = pstate(srv);
    f->id = st->next_fault_id++;
    mc_fault **tail = &srv->faults;
    while (*tail != NULL) tail = &(*tail)->next;
    *tail = f;
    return fault_json(f);
fail:
    fault_free(f);
    return NULL;
}

/* The first live fault matching r (expired ones are dropped on the way). */
static mc_fault *fault_match(mc_req *r) {
    mc_server *srv = r->srv;
    const char *path = r->raw_path;
    double now = mc_now();
    for (mc_fault **pp = &srv->faults; *pp != NULL;) {
        mc_fault *f = *pp;
        if (f->until > 0 && f->until <= now) {
            *pp = f->next;
            fault_free(f);
            continue;
        }
        pp = &f->next;
        if (f->method != 0 && f->method != r->method) continue;
        if (f->svc != MC_SVC_NONE && f->svc != r->svc) continue;
        if (fnmatch(f->path, path, 0) != 0) continue;
        if (f->body_value != NULL && !cJSON_Compare(json_dot(r->body, f->body_path), f->body_value, 1)) continue;
        if (f->probability < 1 && (double)(mc_rand_u64(srv) >> 11) / 9007199254740992.0 >= f->probability)
            continue;
        return f;
    }
    return NULL;
}

/* Applies a matching fault; returns like mc_profile_before, or 0 to go on. */
static int fault_apply(mc_req *r, mc_fault *f, bool *taken) {
    char id[32];
    snprintf(id, sizeof id, "fault-%llu", (unsigned long long)f->id);
    mc_deviation_note(r, id);
    f->hits++;
    int status = f->status;
    bool drop = f->drop;
    long truncate = f->truncate, delay = f->delay_ms, retry_after = f->retry_after, slow = f->slow_body_ms;
    char message[300];
    if (f->message[0])
        mc_strlcpy(message, f->message, sizeof message);
    else
        snprintf(message, sizeof message, "Injected fault %s: the service is unavailable.", id);
    if (f->count > 0 && --f->count == 0) mc_fault_remove(r->srv, f->id);
    *taken = true;
    if (drop) return defer(r, delay, D_DROP, 0, 0, NULL);
    if (status != 0) {
        if (delay > 0) return defer(r, delay, D_STATUS, status, retry_after, message);
        if (retry_after > 0) {
            char ra[32];
            snprintf(ra, sizeof ra, "%ld", retry_after);
            mc_header_set(r, "Retry-After", ra);
        }
        mc_reply_error(r, status, NULL, "%s", message);
        return -1;
    }
    if (truncate >= 0) r->wire_truncate = truncate;
    if (slow > 0) r->wire_slow_ms = slow;
    if (delay > 0) return defer(r, delay, D_RUN, 0, 0, NULL);
    *taken = false;
    return 0;
}

/* ------------------------------------------------------------ request hook */

static int rate_limit(mc_req *r) {
    long long n = mc_knob_srv(r->srv, MC_KNOB_RATELIMIT_REQUESTS);
    if (n <= 0) return 0;
    struct mc_profile_state *st = pstate(r->srv);
    long long window = mc_knob_srv(r->srv, MC_KNOB_RATELIMIT_WINDOW_S);
    double now = mc_now();
    if (st->rl_start == 0 || now - st->rl_start >= (double)window) {
        st->rl_start = now;
        st->rl_count = 0;
    }
    if (++st->rl_count <= n) return 0;
    mc_knob(r, MC_KNOB_RATELIMIT_REQUESTS);
    if (mc_knob(r, MC_KNOB_RATELIMIT_RETRY_AFTER)) {
        char ra[32];
        long left = (long)(st->rl_start + (double)window - now + 0.999);
        snprintf(ra, sizeof ra, "%ld", left < 1 ? 1 : left);
        mc_header_set(r, "Retry-After", ra);
    }
    mc_reply_error(r, (int)mc_knob(r, MC_KNOB_RATELIMIT_STATUS), "OverQuota",
                   "Rate limit exceeded: %lld requests per %lld seconds.", n, window);
    return -1;
}

static bool rule_svc_ok(const mc_rule *x, const mc_req *r) { return x->svc == MC_SVC_NONE || x->svc == r->svc; }

long long mc_knob_cur(mc_server *srv, mc_knob_id k) {
    mc_req *r = srv->pstate ? srv->pstate->current : NULL;
    return r != NULL ? mc_knob(r, k) : mc_knob_srv(srv, k);
}

void mc_profile_done(mc_req *r) {
    if (r->srv->pstate != NULL && r->srv->pstate->current == r) r->srv->pstate->current = NULL;
}

/* "^" + 'name' with regex metacharacters escaped + "$". */
static void anchored_literal(const char *name, char *out, size_t outsz) {
    size_t o = 0;
    if (outsz < 4) return;
    out[o++] = '^';
    for (const char *p = name; *p != '\0' && o + 3 < outsz; p++) {
        if (strchr(".^$*+?()[]{}|\\", *p) != NULL) out[o++] = '\\';
        out[o++] = *p;
    }
    out[o++] = '$';
    out[o] = '\0';
}

/* Request-side rules: APIs that are not there, query parameters ignored or
 * capped, the name filter taken literally. Returns -1 when it answered. */
static int request_rules(mc_req *r) {
    const mc_server *srv = r->srv;
    for (const mc_rule *x = mc_knob_rules(srv, MC_KNOB_API_HIDE); x != NULL; x = x->next) {
        if (rule_svc_ok(x, r) && fnmatch(x->path, r->path, 0) == 0) {
            mc_rule_used(r, x);
            mc_reply_error(r, 404, NULL, "The resource could not be found.");
            return -1;
        }
    }
    for (const mc_rule *x = mc_knob_rules(srv, MC_KNOB_QUERY_DROP); x != NULL; x = x->next) {
        if (rule_svc_ok(x, r) && mc_query(r, x->path) != NULL) {
            mc_query_remove(r, x->path);
            mc_rule_used(r, x);
        }
    }
    if (r->method == EVHTTP_REQ_GET) {
        for (const mc_rule *x = mc_knob_rules(srv, MC_KNOB_PAGE_MAX_LIMIT); x != NULL; x = x->next) {
            if (!rule_svc_ok(x, r)) continue;
            const char *lim = mc_query(r, "limit");
            long asked;
            if (lim == NULL || (mc_parse_long(lim, 0, 1L << 40, &asked) && (asked == 0 || asked > x->from))) {
                char v[32];
                snprintf(v, sizeof v, "%d", x->from);
                mc_query_set(r, "limit", v);
                mc_rule_used(r, x);
            }
            break;
        }
        const char *name = mc_query(r, "name");
        if (name != NULL) {
            for (const mc_rule *x = mc_knob_rules(srv, MC_KNOB_FILTER_NAME_EXACT); x != NULL; x = x->next) {
                if (!rule_svc_ok(x, r)) continue;
                char lit[600];
                anchored_literal(name, lit, sizeof lit);
                mc_query_set(r, "name", lit);
                mc_rule_used(r, x);
                break;
            }
        }
    }
    return 0;
}

int mc_profile_before(mc_req *r) {
    if (r->svc == MC_CONTROL) return 0;
    struct mc_profile_state *st = pstate(r->srv);
    st->current = NULL;
    mc_fault *f = r->srv->faults ? fault_match(r) : NULL;
    if (f != NULL) {
        bool taken = false;
        int rc = fault_apply(r, f, &taken);
        if (taken) return rc;
    }
    if (rate_limit(r) != 0) return -1;
    long long flaky = mc_knob_srv(r->srv, MC_KNOB_ERRORS_FLAKY_PERMILLE);
    if (flaky > 0 && (long long)(mc_rand_u64(r->srv) % 1000) < flaky) {
        mc_knob(r, MC_KNOB_ERRORS_FLAKY_PERMILLE);
        mc_reply_error(r, 503, "ServiceUnavailable", "The server is currently unavailable. Please try again later.");
        return -1;
    }
    long long ms = mc_knob_srv(r->srv, MC_KNOB_LATENCY_MS);
    long long jitter = mc_knob_srv(r->srv, MC_KNOB_LATENCY_JITTER_MS);
    if (ms > 0) mc_knob(r, MC_KNOB_LATENCY_MS);
    if (jitter > 0) {
        mc_knob(r, MC_KNOB_LATENCY_JITTER_MS);
        ms += (long long)(mc_rand_u64(r->srv) % (uint64_t)(jitter + 1));
    }
    if (request_rules(r) != 0) return -1;
    if (ms > 0) return defer(r, (long)ms, D_RUN, 0, 0, NULL);
    st->current = r;
    return 0;
}

/* ------------------------------------------------------------ response hook */


typedef enum { P_REMOVE, P_RENAME, P_ADD } path_op;

/* Applies 'op' at every place 'segs[i..n)' reaches from 'node'; returns the
 * number of changes. The last segment names the field (remove/rename) or the
 * new key (add, applied to the objects the other segments reach). */
static int path_apply(cJSON *node, char **segs, int i, int n, path_op op, const mc_rule *x) {
    if (node == NULL || i >= n) return 0;
    int changes = 0;
    const char *seg = segs[i];
    if (strcmp(seg, "**") == 0) {
        changes += path_apply(node, segs, i + 1, n, op, x);
        for (cJSON *c = node->child; c != NULL; c = c->next)
            if (cJSON_IsObject(c) || cJSON_IsArray(c)) changes += path_apply(c, segs, i, n, op, x);
        return changes;
    }
    if (i == n - 1) {
        if (!cJSON_IsObject(node)) return 0;
        cJSON *cur = cJSON_GetObjectItemCaseSensitive(node, seg);
        switch (op) {
        case P_REMOVE:
            if (cur == NULL) return 0;
            cJSON_DeleteItemFromObjectCaseSensitive(node, seg);
            return 1;
        case P_RENAME:
            if (cur == NULL) return 0;
            cur = cJSON_DetachItemFromObjectCaseSensitive(node, seg);
            cJSON_DeleteItemFromObjectCaseSensitive(node, x->arg);
            cJSON_AddItemToObject(node, x->arg, cur);
            return 1;
        case P_ADD:
            mc_json_set(node, seg, cJSON_Duplicate(x->value, 1));
            return 1;
        }
        return 0;
    }
    if (strcmp(seg, "*") == 0) {
        for (cJSON *c = node->child; c != NULL; c = c->next) changes += path_apply(c, segs, i + 1, n, op, x);
        return changes;
    }
    if (cJSON_IsArray(node)) {
        long idx;
        if (!mc_parse_long(seg, 0, 1 << 30, &idx)) return 0;
        return path_apply(cJSON_GetArrayItem(node, (int)idx), segs, i + 1, n, op, x);
    }
    return path_apply(cJSON_GetObjectItemCaseSensitive(node, seg), segs, i + 1, n, op, x);
}

static void body_rules(mc_req *r, cJSON *body, mc_knob_id k, path_op op) {
    for (const mc_rule *x = mc_knob_rules(r->srv, k); x != NULL; x = x->next) {
        if (!rule_svc_ok(x, r)) continue;
        char buf[512], *segs[32], *save = NULL;
        int n = 0;
        mc_strlcpy(buf, x->path, sizeof buf);
        for (char *s = strtok_r(buf, ".", &save); s != NULL && n < 32; s = strtok_r(NULL, ".", &save))
            segs[n++] = s;
        if (path_apply(body, segs, 0, n, op, x) > 0) mc_rule_used(r, x);
    }
}

/* "2026-11-25T11:23:11Z", "...11.000000Z", "...+00:00": ends right after the
 * seconds (or fraction)? Returns the length without the zone, or 0. */
static size_t naive_len(const char *s) {
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";
    size_t i;
    for (i = 0; shape[i] != '\0'; i++) {
        if (s[i] == '\0') return 0;
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i]) return 0;
    }
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++) {
        }
    if (strcmp(s + i, "Z") == 0 || strcmp(s + i, "+00:00") == 0 || strcmp(s + i, "-00:00") == 0) return i;
    return 0;
}

static int strip_zones(cJSON *node) {
    int n = 0;
    for (cJSON *c = node ? node->child : NULL; c != NULL; c = c->next) {
        if (cJSON_IsString(c) && c->valuestring != NULL) {
            size_t len = naive_len(c->valuestring);
            if (len > 0) {
                c->valuestring[len] = '\0';
                n++;
            }
        } else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
            n += strip_zones(c);
        }
    }
    return n;
}

static void remap_status(mc_req *r, int *status, cJSON **body) {
    for (const mc_rule *x = mc_knob_rules(r->srv, MC_KNOB_STATUS_REMAP); x != NULL; x = x->next) {
        if (!rule_svc_ok(x, r) || x->from != *status) continue;
        if (x->method != 0 && x->method != r->method) continue;
        if (x->pattern != NULL && (r->route == NULL || strcmp(x->pattern, r->route->pattern) != 0)) continue;
        *status = x->to;
        if (*body == NULL && x->from == 204 && x->to != 204 && r->method != EVHTTP_REQ_HEAD)
            *body = cJSON_CreateObject();
        mc_rule_used(r, x);
        return;
    }
}

static cJSON *error_inner(cJSON *body) {
    /* Nova/Keystone/Neutron wrap the error in one object; Glance does not. */
    if (body != NULL && body->child != NULL && body->child->next == NULL && cJSON_IsObject(body->child))
        return body->child;
    return body;
}

static char *html_page(int status, size_t *len) {
    const char *phrase = mc_status_phrase(status);
    char *page = malloc(512);
    if (page == NULL) mc_panic("out of memory");
    int n = snprintf(page, 512,
                     "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n<center><h1>%d %s</h1></center>\r\n"
                     "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                     status, phrase, status, phrase);
    *len = (size_t)n;
    return page;
}

static const mc_rule *svc_rule(mc_req *r, mc_knob_id k) {
    for (const mc_rule *x = mc_knob_rules(r->srv, k); x != NULL; x = x->next)
        if (rule_svc_ok(x, r)) return x;
    return NULL;
}

/* lists.hide_new_s: remember what a create returned ... */
static void recent_record(mc_req *r, const cJSON *body) {
    const cJSON *obj = body;
    if (body != NULL && !mc_json_has(body, "id") && body->child != NULL && body->child->next == NULL)
        obj = body->child;   /* {"server": {...}} */
    const char *id = mc_json_str(obj, "id");
    if (id == NULL) return;
    struct mc_profile_state *st = pstate(r->srv);
    recent_ent *e = &st->recent[st->nrecent++ % MC_RECENT];
    mc_strlcpy(e->id, id, sizeof e->id);
    e->svc = r->svc;
    e->t = mc_now();
}

/* ... and leave it out of lists while it is younger than the rule's N s. */
static bool recent_hidden(const struct mc_profile_state *st, mc_service svc, const char *id, double min_t) {
    size_t n = st->nrecent < MC_RECENT ? st->nrecent : MC_RECENT;
    for (size_t i = 0; i < n; i++) {
        const recent_ent *e = &st->recent[i];
        if (e->svc == svc && e->t > min_t && strcmp(e->id, id) == 0) return true;
    }
    return false;
}

static void recent_filter(mc_req *r, cJSON *body, const mc_rule *x) {
    struct mc_profile_state *st = r->srv->pstate;
    if (st == NULL || st->nrecent == 0 || body == NULL) return;
    double min_t = mc_now() - (double)x->from;
    int removed = 0;
    for (cJSON *arr = body->child; arr != NULL; arr = arr->next) {
        if (!cJSON_IsArray(arr)) continue;
        cJSON *item = arr->child;
        while (item != NULL) {
            cJSON *next = item->next;
            const char *id = mc_json_str(item, "id");
            if (id != NULL && recent_hidden(st, r->svc, id, min_t)) {
                cJSON_Delete(cJSON_DetachItemViaPointer(arr, item));
                removed++;
            }
            item = next;
        }
    }
    if (removed > 0) mc_rule_used(r, x);
}

void mc_profile_after(mc_req *r, int *status, cJSON **body, bool is_error,
                      const char **ctype, char **raw, size_t *rawlen) {
    if (r->svc == MC_CONTROL) return;
    const mc_server *srv = r->srv;
    if (srv->pstate != NULL && srv->pstate->current == r) srv->pstate->current = NULL;
    const mc_rule *hide = svc_rule(r, MC_KNOB_LISTS_HIDE_NEW_S);
    if (hide != NULL && *body != NULL) {
        if (r->method == EVHTTP_REQ_POST && *status >= 200 && *status <= 202) recent_record(r, *body);
        if (r->method == EVHTTP_REQ_GET && *status == 200) recent_filter(r, *body, hide);
    }
    if (r->method == EVHTTP_REQ_GET && (*status == 400 || *status == 404) && mc_query(r, "marker") != NULL) {
        const mc_rule *x = svc_rule(r, MC_KNOB_PAGE_BAD_MARKER_500);
        if (x != NULL) {
            mc_rule_used(r, x);
            *status = 500;
            cJSON_Delete(*body);
            *body = mc_error_body(r->svc, 500, NULL,
                                  "The server has either erred or is incapable of performing the requested operation.");
        }
    }
    if (srv->profile->rules[MC_KNOB_STATUS_REMAP] != NULL) remap_status(r, status, body);
    is_error = is_error || *status >= 400;
    if (is_error && r->svc == MC_COMPUTE && *status == 429 && mc_knob_srv(srv, MC_KNOB_ERRORS_COMPUTE_413)) {
        mc_knob(r, MC_KNOB_ERRORS_COMPUTE_413);
        *status = 413;
        cJSON *inner = mc_json_obj(*body, "overLimit");
        if (inner != NULL) {
            mc_json_set(inner, "code", cJSON_CreateNumber(413));
            const char *ra = mc_header_out(r, "Retry-After");
            mc_json_set_str(inner, "retryAfter", ra ? ra : "0");
        }
    }
    if (is_error && *body != NULL && mc_knob_srv(srv, MC_KNOB_ERRORS_NO_MESSAGE)) {
        cJSON *inner = error_inner(*body);
        if (mc_json_has(inner, "message")) {
            mc_knob(r, MC_KNOB_ERRORS_NO_MESSAGE);
            cJSON_DeleteItemFromObjectCaseSensitive(inner, "message");
        }
    }
    if (*body != NULL) {
        body_rules(r, *body, MC_KNOB_BODY_REMOVE, P_REMOVE);
        body_rules(r, *body, MC_KNOB_BODY_RENAME, P_RENAME);
        body_rules(r, *body, MC_KNOB_BODY_ADD, P_ADD);
        for (const mc_rule *x = mc_knob_rules(srv, MC_KNOB_BODY_NAIVE_TIME); x != NULL; x = x->next) {
            if (rule_svc_ok(x, r)) {
                if (strip_zones(*body) > 0) mc_rule_used(r, x);
                break;
            }
        }
    }
    long long html = mc_knob_srv(srv, MC_KNOB_ERRORS_HTML_FROM);
    if (is_error && html > 0 && *status >= html) {
        mc_knob(r, MC_KNOB_ERRORS_HTML_FROM);
        cJSON_Delete(*body);
        *body = NULL;
        free(*raw);
        *raw = html_page(*status, rawlen);
        *ctype = "text/html";
    }
}

void mc_profile_headers(mc_req *r) {
    if (r->svc == MC_CONTROL) return;
    for (const mc_rule *x = mc_knob_rules(r->srv, MC_KNOB_HEADERS_REMOVE); x != NULL; x = x->next)
        if (rule_svc_ok(x, r) && mc_header_remove(r, x->path)) mc_rule_used(r, x);
}
