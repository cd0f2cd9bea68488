/* netapi.h -- what the network service (network.c) offers the other services:
 * ports for servers (with IPAM), networks, security groups and floating IPs,
 * so that compute's "addresses", its os-security-groups proxy and the
 * metadata service all read the one Neutron state. Records hold their API
 * shape in 'doc' (Neutron's field names: fixed_ips, mac_address, network_id,
 * device_id, status, ...). */
#ifndef MC_NETAPI_H
#define MC_NETAPI_H

#include "mockcloud.h"

typedef struct mc_port_req {
    const char *project_id;
    const char *network_id;           /* required */
    const char *subnet_id;            /* optional */
    const char *fixed_ip;             /* optional requested address */
    const char *device_id;
    const char *device_owner;         /* "compute:nova" for servers */
    const cJSON *security_groups;     /* array of names or ids; NULL = project default */
} mc_port_req;

/* Creates a port as POST /v2.0/ports would: IPAM on the network's subnets, a
 * unique fa:16:3e MAC, the project's default security group. Returns the
 * record, or NULL with *status (400/404/409) and a message in err. */
mc_record *mc_net_port_create(mc_server *srv, const mc_port_req *req, int *status, char *err, size_t errsz);
/* Attaches an existing port (server create with "port"): 404 unknown, 409 in use. */
int mc_net_port_attach(mc_server *srv, const char *port_id, const char *project_id, const char *device_id,
                       const char *device_owner, int *status, char *err, size_t errsz);
/* Sets "status" (ACTIVE/DOWN) and binding of every port of a device. */
void mc_net_ports_set_status(mc_server *srv, const char *device_id, const char *status);
/* Deletes the ports created for a device and detaches the attached ones;
 * disassociates their floating IPs. */
void mc_net_ports_release(mc_server *srv, const char *device_id);
/* The same for one port of the device (Nova's interface detach). */
void mc_net_port_release(mc_server *srv, const char *device_id, const char *port_id);
/* Calls fn for each port of a device, in creation order. */
void mc_net_ports_each(mc_server *srv, const char *device_id, void (*fn)(mc_record *port, void *arg), void *arg);
/* The same for a reader: fn must not change the port (mc_net_ports_each
 * assumes it did and drops each port's printed view). */
void mc_net_ports_read(mc_server *srv, const char *device_id, void (*fn)(mc_record *port, void *arg), void *arg);
/* Calls fn for each floating IP associated with a port. */
void mc_net_floatingips_each(mc_server *srv, const char *port_id, void (*fn)(mc_record *fip, void *arg), void *arg);

/* Nova's floating-IP proxy (os-floating-ips, addFloatingIp): Neutron's
 * create on external network 'network_id' (NULL with *status 404 unknown
 * or exhausted, 400 not external, 409 over quota), association of a port's
 * fixed address (NULL = its only IPv4 one; 404 no router to the network,
 * 409 that address has a floating IP already, 400 bad address), and
 * disassociation and delete (the floating IP's own port goes with it). */
mc_record *mc_net_fip_create(mc_server *srv, const char *project_id, const char *network_id, int *status, char *err,
                             size_t errsz);
int mc_net_fip_associate(mc_server *srv, mc_record *fip, const char *port_id, const char *fixed_ip,
                         const char *project_id, bool admin, int *status, char *err, size_t errsz);
void mc_net_fip_disassociate(mc_server *srv, mc_record *fip);
void mc_net_fip_delete(mc_server *srv, mc_record *fip);

/* A network the project may use (own, shared or external), or NULL. */
mc_record *mc_net_network_find(mc_server *srv, const char *id, const char *project_id);
/* The network "networks: auto" picks for a project (its own or a shared
 * non-external network), or NULL. */
mc_record *mc_net_network_auto(mc_server *srv, const char *project_id);

/* Security groups (Nova's os-security-groups proxy and server create). */
mc_record *mc_net_secgroup_find(mc_server *srv, const char *name_or_id, const char *project_id);
/* The project's "default" group, created with Neutron's default rules on first use. */
mc_record *mc_net_secgroup_default(mc_server *srv, const char *project_id);
mc_record *mc_net_secgroup_create(mc_server *srv, const char *project_id, const char *name,
                                  const char *description, int *status, char *err, size_t errsz);
/* 'rule' in Neutron's shape (security_group_id, direction, protocol, ...). */
mc_record *mc_net_secgroup_rule_create(mc_server *srv, const char *project_id, const cJSON *rule,
                                       int *status, char *err, size_t errsz);
/* Calls fn for each rule of a group, in creation order. */
void mc_net_secgroup_rules_each(mc_server *srv, const char *sg_id, void (*fn)(mc_record *rule, void *arg), void *arg);
int mc_net_secgroup_delete(mc_server *srv, mc_record *sg, int *status, char *err, size_t errsz);
int mc_net_secgroup_rule_delete(mc_server *srv, mc_record *rule, int *status, char *err, size_t errsz);

/* Changes whenever a Neutron record is added, changed or deleted (every
 * write in network.c goes through changed(), touch(), new_record() or
 * del_record(), which bump it; never goes back, also not on a reset): what
 * is derived from ports, fixed and floating IPs or network names (compute's
 * cached "addresses" of a server) is current while it holds the same value. */
uint64_t mc_net_generation(void);
/* Another service changed a Neutron record's doc in place (Nova's
 * os-security-groups update): drops its printed view, bumps the generation. */
void mc_net_record_changed(mc_record *rec);

#endif
