/* guest.h -- guests you can SSH into (opt-in: --guest-ssh).
 *
 * A real server runs an operating system that cloud-init configured from the
 * metadata service; clients (Tempest's run_validation, Ansible, a person)
 * log into it over SSH on its floating IP. mockcloud's servers are records,
 * so this module stands in for the guest below the API: each address of an
 * ACTIVE server (its floating IPs, and its fixed IPs when they are loopback
 * addresses) gets its own listening socket in 127.0.0.0/8 (Linux delivers
 * all of 127/8 to lo), answering SSH with libssh's server API on the one
 * event loop. The guest lets in the public key of the server's key pair as
 * the metadata service serves it (or the image's built-in password), only
 * when the port's security groups allow ingress TCP 22 from the client, and
 * runs the few commands clients send (hostname, /proc/cpuinfo, lsblk, ip
 * addr, ...) through a small interpreter derived from the server's flavor,
 * ports, volumes and metadata.
 *
 * In the mode, the IPv4 subnets of the external networks of fixtures/ move
 * into 127/8: 172.24.4.0/24 becomes 127.H.L.0/24 with H.L the two bytes of
 * the HTTP port, so two mockclouds on one host never share an address. */
#ifndef MC_GUEST_H
#define MC_GUEST_H

#include "mockcloud.h"

#define MC_GUEST_MAX_DISKS 16
#define MC_GUEST_MAX_NICS 8
#define MC_GUEST_MAX_ADDRS 4

/* What the guest knows about itself: the interpreter's whole input. */
typedef struct mc_guest_disk {
    char name[16];                /* "vda", "vdb" */
    unsigned long long bytes;
    int major, minor;
} mc_guest_disk;

typedef struct mc_guest_nic {
    char name[16];                /* "eth0" */
    char mac[24];
    char addrs[MC_GUEST_MAX_ADDRS][64];   /* "10.0.0.5/24", "fd00::5/64" */
    int naddrs;
    int mtu;
} mc_guest_nic;

typedef struct mc_guest_facts {
    char hostname[128];           /* as cloud-init set it */
    char user[32];                /* who logged in */
    int vcpus;
    long ram_mb;
    long uptime_s;
    mc_guest_disk disks[MC_GUEST_MAX_DISKS];
    int ndisks;
    mc_guest_nic nics[MC_GUEST_MAX_NICS];
    int nnics;
} mc_guest_facts;

/* Runs one command line as /bin/sh -c would in the guest: ';', '&&', '||',
 * pipes, quotes, "set -e / -o pipefail", VAR=value, sudo, redirections to
 * /dev/null and 2>&1; unknown commands are "sh: X: not found" (127). Returns
 * the exit status; *out and *err are malloc'd (caller frees). Pure: only
 * 'f' is read. */
int mc_guest_shell(const mc_guest_facts *f, const char *cmdline, char **out, char **err);

/* The mode (mc_server_new / mc_server_free): a host key, one ssh_bind, no
 * listener yet. 0, or -1 with the reason in err. */
int mc_guest_start(mc_server *srv, char *err, size_t errsz);
void mc_guest_free(mc_server *srv);
/* Opens and closes the listeners so that exactly the addresses of ACTIVE
 * servers are answered (router.c calls it after every request; cheap when
 * nothing changed). No-op when the mode is off. */
void mc_guest_sync(mc_server *srv);
/* network.c, seeding from fixtures/network.json: moves the IPv4 subnets of
 * external networks into this server's 127.H.L.0/24. No-op when off. */
void mc_guest_fixtures(mc_server *srv, cJSON *network_fixtures);
/* The /24 the guests' floating IPs live in ("127.H.L"), "" when off. */
const char *mc_guest_prefix(const mc_server *srv);

/* metadata.c: what cloud-init takes from the metadata service. The
 * hostname as served (meta_data.json "hostname", FQDN with the DHCP
 * domain); the key pair's public key, NULL when there is none or the
 * metadata leaves it out (deviation key-pair-not-injected). */
void mc_metadata_hostname(mc_server *srv, mc_record *server, char *out, size_t outsz);
const char *mc_metadata_public_key(mc_server *srv, mc_record *server);

#endif
