/* main.c -- argv, signals, the loop; nothing else. */
#include "catalogue.h"
#include "profile.h"
#include "server.h"
#include "services.h"
#include "util.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: mockcloud [options]\n"
            "       mockcloud clouds-yaml [options]   print a clouds.yaml and exit\n"
            "       mockcloud profiles [--markdown]   list the profiles and the deviation catalogue\n"
            "       mockcloud explain NAME|ID         explain a profile or a deviation\n"
            "       mockcloud knobs                   the knob table (name, type, default, effect)\n"
            "\n"
            "A mock OpenStack cloud (Keystone v3, Nova v2.1, Neutron v2.0, Glance v2) with\n"
            "behaviour profiles that reproduce real providers' interop deviations.\n"
            "\n"
            "  --listen HOST:PORT     address to serve on (default 127.0.0.1:8080; port 0 = any)\n"
            "  --public-url URL       base URL put in the catalog (default http://HOST:PORT)\n"
            "  --profile NAME|FILE    behaviour profile (default conformant)\n"
            "  --deviate ID[=VALUE]   add a catalogue deviation on top of the profile (repeatable)\n"
            "  --profiles DIR         where named profiles live (default profiles)\n"
            "  --fixtures DIR         seed data (default fixtures)\n"
            "  --seed N               deterministic ids, MACs, addresses, passwords\n"
            "  --token-ttl SECONDS    token lifetime (default 3600)\n"
            "  --max-body BYTES       JSON body cap, 413 above it (default 1048576)\n"
            "  --log-level LEVEL      debug, info, warn, error (default info)\n"
            "  --print-clouds-yaml    same as the clouds-yaml command\n"
            "  --guest-ssh[=PORT]     servers get guests that answer SSH on their floating\n"
            "                         IPs (moved into 127.H.L.0/24), port 22 by default\n"
            "  --control-token TOKEN  allow the control API from other hosts with\n"
            "                         X-Mockcloud-Token: TOKEN (default: loopback only)\n"
            "  --help, --version\n");
}

static int parse_listen(const char *s, mc_config *cfg) {
    const char *colon = strrchr(s, ':');
    if (colon == NULL) return -1;
    size_t hl = (size_t)(colon - s);
    if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') {
        s++;
        hl -= 2;
    }
    if (hl == 0 || hl >= sizeof cfg->host) return -1;
    memcpy(cfg->host, s, hl);
    cfg->host[hl] = '\0';
    long port;
    if (!mc_parse_long(colon + 1, 0, 65535, &port)) return -1;
    cfg->port = (int)port;
    return 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    mc_log(MC_LOG_INFO, "signal %d: shutting down", (int)sig);
    event_base_loopexit(arg, NULL);
}

int main(int argc, char **argv) {
    mc_config cfg;
    mc_config_defaults(&cfg);
    bool print_yaml = false;
    const char *command = NULL;
    if (argc > 1 && (strcmp(argv[1], "clouds-yaml") == 0 || strcmp(argv[1], "profiles") == 0 ||
                     strcmp(argv[1], "explain") == 0 || strcmp(argv[1], "knobs") == 0)) {
        command = argv[1];
        print_yaml = strcmp(command, "clouds-yaml") == 0;
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    bool markdown = false;
    enum { O_DEVIATE = 100, O_MARKDOWN, O_CONTROL_TOKEN, O_GUEST_SSH };
    enum { O_LISTEN = 1, O_PUBLIC, O_PROFILE, O_PROFILES, O_FIXTURES, O_SEED, O_TTL, O_BODY, O_LOG, O_YAML, O_HELP, O_VERSION };
    static const struct option opts[] = {
        {"listen", required_argument, NULL, O_LISTEN},   {"public-url", required_argument, NULL, O_PUBLIC},
        {"profile", required_argument, NULL, O_PROFILE}, {"profiles", required_argument, NULL, O_PROFILES},
        {"fixtures", required_argument, NULL, O_FIXTURES}, {"seed", required_argument, NULL, O_SEED},
        {"token-ttl", required_argument, NULL, O_TTL},   {"max-body", required_argument, NULL, O_BODY},
        {"log-level", required_argument, NULL, O_LOG},   {"print-clouds-yaml", no_argument, NULL, O_YAML},
        {"control-token", required_argument, NULL, O_CONTROL_TOKEN},
        {"guest-ssh", optional_argument, NULL, O_GUEST_SSH},
        {"deviate", required_argument, NULL, O_DEVIATE}, {"markdown", no_argument, NULL, O_MARKDOWN},
        {"help", no_argument, NULL, O_HELP},             {"version", no_argument, NULL, O_VERSION},
        {NULL, 0, NULL, 0},
    };
    int c;
    long v;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case O_LISTEN:
            if (parse_listen(optarg, &cfg) != 0) {
                fprintf(stderr, "mockcloud: --listen wants HOST:PORT, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_PUBLIC: mc_strlcpy(cfg.public_url, optarg, sizeof cfg.public_url); break;
        case O_PROFILE: mc_strlcpy(cfg.profile, optarg, sizeof cfg.profile); break;
        case O_PROFILES: mc_strlcpy(cfg.profiles_dir, optarg, sizeof cfg.profiles_dir); break;
        case O_FIXTURES: mc_strlcpy(cfg.fixtures, optarg, sizeof cfg.fixtures); break;
        case O_SEED:
            if (!mc_parse_long(optarg, 1, 2147483647L, &v)) {
                fprintf(stderr, "mockcloud: --seed wants a positive integer, got '%s'\n", optarg);
                return 2;
            }
            cfg.seed = (uint64_t)v;
            break;
        case O_TTL:
            if (!mc_parse_long(optarg, 1, 10L * 365 * 86400, &v)) {
                fprintf(stderr, "mockcloud: --token-ttl wants seconds > 0, got '%s'\n", optarg);
                return 2;
            }
            cfg.token_ttl = (int)v;
            break;
        case O_BODY:
            if (!mc_parse_long(optarg, 64, 1L << 30, &v)) {
                fprintf(stderr, "mockcloud: --max-body wants 64..1073741824, got '%s'\n", optarg);
                return 2;
            }
            cfg.max_body = (size_t)v;
            break;
        case O_LOG:
            if ((cfg.log_level = mc_log_level_parse(optarg)) < 0) {
                fprintf(stderr, "mockcloud: --log-level wants debug|info|warn|error, got '%s'\n", optarg);
                return 2;
            }
            break;
        case O_YAML: print_yaml = true; break;
        case O_DEVIATE:
            if (cfg.ndeviate == 16 || strlen(optarg) >= sizeof cfg.deviate[0]) {
                fprintf(stderr, "mockcloud: at most 16 --deviate of < 128 characters\n");
                return 2;
            }
            mc_strlcpy(cfg.deviate[cfg.ndeviate++], optarg, sizeof cfg.deviate[0]);
            break;
        case O_MARKDOWN: markdown = true; break;
        case O_GUEST_SSH: {
            long gp = 22;
            if (optarg != NULL && !mc_parse_long(optarg, 1, 65535, &gp)) {
                fprintf(stderr, "mockcloud: --guest-ssh wants a port 1..65535, got '%s'\n", optarg);
                return 2;
            }
            cfg.guest_port = (int)gp;
            break;
        }
        case O_CONTROL_TOKEN:
            if (strlen(optarg) < 8 || strlen(optarg) >= sizeof cfg.control_token) {
                fprintf(stderr, "mockcloud: --control-token wants 8 to 127 characters\n");
                return 2;
            }
            mc_strlcpy(cfg.control_token, optarg, sizeof cfg.control_token);
            break;
        case O_HELP: case 'h': usage(stdout); return 0;
        case O_VERSION: printf("mockcloud %s\n", MC_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (command != NULL && strcmp(command, "knobs") == 0) {
        mc_cli_knobs(stdout);
        return 0;
    }
    if (command != NULL && strcmp(command, "profiles") == 0)
        return markdown ? mc_cli_markdown(cfg.profiles_dir, stdout) : mc_cli_profiles(cfg.profiles_dir, stdout);
    if (command != NULL && strcmp(command, "explain") == 0) {
        if (optind + 1 != argc) {
            fprintf(stderr, "usage: mockcloud explain [--profiles DIR] NAME|ID\n");
            return 2;
        }
        return mc_cli_explain(cfg.profiles_dir, argv[optind], stdout);
    }
    if (optind < argc) {
        fprintf(stderr, "mockcloud: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    mc_log_set_level(cfg.log_level);
    signal(SIGPIPE, SIG_IGN);

    struct event_base *base = mc_event_base_new();
    if (base == NULL) {
        fprintf(stderr, "mockcloud: event_base_new failed\n");
        return 1;
    }
    char err[1024];
    mc_server *srv = mc_server_new(base, &cfg, !print_yaml, err, sizeof err);
    if (srv == NULL) {
        fprintf(stderr, "mockcloud: %s\n", err);
        event_base_free(base);
        return 1;
    }
    if (print_yaml) {
        char *yaml = identity_clouds_yaml(srv);
        fputs(yaml, stdout);
        free(yaml);
        mc_server_free(srv);
        event_base_free(base);
        return 0;
    }
    struct event *si = evsignal_new(base, SIGINT, on_signal, base);
    struct event *st = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(si, NULL);
    event_add(st, NULL);
    mc_log(MC_LOG_INFO, "mockcloud %s listening on %s (profile %s)", MC_VERSION, srv->public_url,
           mc_profile_name(srv->profile));
    mc_log(MC_LOG_INFO, "auth_url %s/identity/v3 -- clouds.yaml at %s/mockcloud/v1/clouds.yaml",
           srv->public_url, srv->public_url);
    event_base_dispatch(base);
    event_free(si);
    event_free(st);
    mc_server_free(srv);
    event_base_free(base);
    return 0;
}
