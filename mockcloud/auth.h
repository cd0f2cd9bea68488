/* auth.h -- tokens: issue, O(1) lookup, expiry, revocation. */
#ifndef MC_AUTH_H
#define MC_AUTH_H

#include "mockcloud.h"

struct mc_token {
    char id[112];
    char user_id[40];
    char project_id[40];     /* "" unless project-scoped */
    char domain_id[40];      /* "" unless domain-scoped */
    char appcred_id[40];     /* "" unless issued for an application credential */
    bool admin, member, reader;
    double issued, expires;
    char *body_text;         /* {"token": {...}} as issued, printed, without the
                                catalog (built per reply): ~1 KB, not a tree */
    bool catalog;            /* replies carry the catalog (scoped, no ?nocatalog) */
    char audit_id[32];
    UT_hash_handle hh;
};

/* A fresh token with a random id and the server's TTL; not yet stored. */
mc_token *mc_auth_token_new(mc_server *srv);
/* The token's body as a tree the caller owns (NULL if none). */
cJSON *mc_auth_token_json(const mc_token *tok);
/* Stores 'tok' (ownership moves). Expired tokens at the head are purged. */
void mc_auth_add(mc_server *srv, mc_token *tok);
/* The live token with this id, or NULL (unknown, expired or revoked). */
const mc_token *mc_auth_lookup(mc_server *srv, const char *id);
void mc_auth_revoke(mc_server *srv, const char *id);
/* Revokes every token of a user (password change, user deleted). */
void mc_auth_revoke_user(mc_server *srv, const char *user_id);
void mc_auth_clear(mc_server *srv);
size_t mc_auth_count(const mc_server *srv);

bool mc_auth_is_admin(const mc_token *tok);
/* The project a request acts in: the token's scope. */
const char *mc_auth_project(const mc_req *r);

#endif
