/* auth.h -- tokens: issue, O(1) lookup, expiry, revocation.
 *
 * Tokens are not stored to be valid. As Keystone's Fernet tokens, a token id
 * carries what the token is (user, project, domain or system scope,
 * application credential, trust, methods, issue and expiry time, audit ids)
 * under a keyed MAC; validation decodes it and checks the MAC, the expiry and
 * the revocation events (one token by audit id, every token of a user, an
 * application credential, a project, a domain or a trust issued up to a
 * moment). The body is built again from the current world when a token
 * is not in the table of recent tokens, a bounded cache: memory does not
 * grow with the tokens issued (README, identity section). */
#ifndef MC_AUTH_H
#define MC_AUTH_H

#include "mockcloud.h"

#define MC_TOKEN_ID_MAX 480      /* "gAAAAA" + base64url(payload + MAC) + NUL */
#define MC_TOKEN_CACHE 1024      /* recent tokens kept with their body */
#define MC_TOKEN_RETIRED 64      /* dropped tokens kept allocated a while */

struct mc_token {
    char id[MC_TOKEN_ID_MAX];
    char user_id[40];
    char project_id[40];     /* "" unless project-scoped */
    char domain_id[40];      /* "" unless domain-scoped */
    char appcred_id[40];     /* "" unless issued for an application credential */
    char trust_id[40];       /* "" unless trust-scoped (OS-TRUST:trust) */
    bool system;             /* system-scoped ({"system": {"all": true}}) */
    /* Not in the id, filled at issue and rebuild from the world: the user's
     * domain and the domain of the scope (the project's, or the domain
     * scoped to), for revocation events by domain. */
    char user_domain_id[40];
    char scope_domain_id[40];
    bool admin, member, reader;
    double issued, expires;  /* whole microseconds */
    char *body_text;         /* {"token": {...}} as issued, printed, without the
                                catalog (built per reply): ~1 KB, not a tree */
    bool catalog;            /* replies carry the catalog (scoped, no ?nocatalog) */
    char audit_id[32];
    char audit_parent[32];   /* "" or the audit id of the token it came from */
    char methods[128];       /* the "methods" array, printed */
    UT_hash_handle hh;
};

/* A fresh token: issued now (a microsecond after the last one at least),
 * expiring after the server's TTL; no id yet (mc_auth_add gives it). */
mc_token *mc_auth_token_new(mc_server *srv);
/* The token's body as a tree the caller owns (NULL if none). */
cJSON *mc_auth_token_json(const mc_token *tok);
/* Gives 'tok' its id (its fields encoded and signed) and keeps it among the
 * recent tokens (ownership moves). The fields must fit: user, project,
 * domain, application credential and trust ids < 40 bytes, methods < 128. */
void mc_auth_add(mc_server *srv, mc_token *tok);
/* The live token with this id, or NULL (unknown, forged, expired or
 * revoked). A token that is not among the recent ones is decoded and its
 * body built again (identity_token_rebuild); NULL when its user, project or
 * roles are gone. The pointer stays valid across at least
 * MC_TOKEN_RETIRED later drops of tokens (srv->token_drops). */
const mc_token *mc_auth_lookup(mc_server *srv, const char *id);
/* Before a handler runs: a request that waited (a deferred reply: latency,
 * a delayed fault) may hold a token that was dropped and freed meanwhile
 * (more than MC_TOKEN_RETIRED drops since its lookup): it is looked up again
 * from the request. False, after a 401, when it is no longer valid. */
bool mc_auth_recheck(mc_req *r);
/* Revokes one token (a revocation event on its audit id). */
void mc_auth_revoke(mc_server *srv, const char *id);
/* Revocation events, as Keystone's revoke API emits them: every token
 * issued until now of a user (password change, user disabled or deleted),
 * of an application credential (deleted), scoped to a project (disabled or
 * deleted), of a domain (disabled: its users' tokens and those scoped to it
 * or to one of its projects) or issued through a trust (deleted). An event
 * is one record per id, dropped once every token it could match has expired
 * (the longest lifetime issued so far), so a token rebuilt from its id after
 * the entity is enabled again stays revoked. */
typedef enum { MC_REVOKE_USER, MC_REVOKE_APPCRED, MC_REVOKE_PROJECT, MC_REVOKE_DOMAIN, MC_REVOKE_TRUST,
               MC_REVOKE_KINDS } mc_revoke_by;
void mc_auth_revoke_by(mc_server *srv, mc_revoke_by by, const char *id);
void mc_auth_revoke_user(mc_server *srv, const char *user_id);
void mc_auth_revoke_appcred(mc_server *srv, const char *appcred_id);
/* Forgets every token and event and changes the key: no token issued before
 * is valid afterwards (reset, exit). */
void mc_auth_clear(mc_server *srv);
/* Recent tokens held (bounded by the cache size), and revocation events. */
size_t mc_auth_count(const mc_server *srv);
size_t mc_auth_events(const mc_server *srv);
/* Tokens rebuilt from their id since the start (a cache miss each). */
uint64_t mc_auth_rebuilds(const mc_server *srv);
/* The size of the recent-token table (tests make it small). */
void mc_auth_set_cache(mc_server *srv, size_t n);

/* Implemented by identity.c: fills a decoded token's body_text and role
 * flags from the current world, as at issue; false when it cannot be valid
 * any more (user, project, domain or credential gone, no role left). */
bool identity_token_rebuild(mc_server *srv, mc_token *tok);

/* Implemented by identity.c, called by the router once the token is known:
 * a token of an application credential with access rules may only make the
 * requests they list (keystonemiddleware's check in each service; Keystone's
 * own API is not limited). False after a 401 when the request is not one. */
bool identity_access_rules_ok_or_reply(mc_req *r);

bool mc_auth_is_admin(const mc_token *tok);
/* Whether a token may use an admin-only route: admin, or a system-scoped
 * reader reading (Keystone's default policies: "role:reader and
 * system_scope:all" for the GETs). */
bool mc_auth_may_admin(const mc_token *tok, int method);
/* A system-scoped token with the reader role (admin and member imply it). */
bool mc_auth_system_reader(const mc_token *tok);
/* The project a request acts in: the token's scope. */
const char *mc_auth_project(const mc_req *r);

#endif
