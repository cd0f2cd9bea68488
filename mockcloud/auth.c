/* auth.c -- the token table.
 *
 * Tokens are random and unguessable (48 bytes from the kernel, or from the
 * seeded stream with --seed), kept in one uthash table keyed by the token
 * string: every service authenticates through mc_auth_lookup, one hash
 * lookup. Tokens are added in issue order and share one TTL, so the oldest
 * are at the head and expiry is a pop from the head: amortised O(1). */
#include "auth.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

mc_token *mc_auth_token_new(mc_server *srv) {
    mc_token *t = calloc(1, sizeof *t);
    if (t == NULL) mc_panic("out of memory");
    unsigned char raw[48];
    mc_secret_bytes(srv, raw, sizeof raw);
    memcpy(t->id, "gAAAAA", 6);
    mc_b64url(raw, sizeof raw, t->id + 6, sizeof t->id - 6);
    t->issued = mc_now();
    t->expires = t->issued + srv->cfg.token_ttl;
    return t;
}

static void token_free(mc_token *t) {
    free(t->body_text);
    free(t);
}

/* Every stored token leaves through here: the count tells a holder of an
 * mc_token * (the journal, at reply time) whether it may still be live. */
static void token_drop(mc_server *srv, mc_token *t) {
    HASH_DEL(srv->tokens, t);
    token_free(t);
    srv->token_drops++;
}

cJSON *mc_auth_token_json(const mc_token *t) {
    if (t == NULL || t->body_text == NULL) return NULL;
    return cJSON_ParseWithLengthOpts(t->body_text, strlen(t->body_text) + 1, NULL, 1);
}

static void purge_expired(mc_server *srv, double now) {
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        if (t->expires > now) break;
        token_drop(srv, t);
    }
}

void mc_auth_add(mc_server *srv, mc_token *tok) {
    purge_expired(srv, mc_now());
    HASH_ADD_STR(srv->tokens, id, tok);
}

const mc_token *mc_auth_lookup(mc_server *srv, const char *id) {
    mc_token *t = NULL;
    if (id == NULL || strlen(id) >= sizeof t->id) return NULL;
    HASH_FIND_STR(srv->tokens, id, t);
    if (t == NULL) return NULL;
    if (t->expires <= mc_now()) {
        token_drop(srv, t);
        return NULL;
    }
    return t;
}

void mc_auth_revoke(mc_server *srv, const char *id) {
    mc_token *t = NULL;
    if (id == NULL || strlen(id) >= sizeof t->id) return;
    HASH_FIND_STR(srv->tokens, id, t);
    if (t != NULL) {
        token_drop(srv, t);
    }
}

void mc_auth_revoke_user(mc_server *srv, const char *user_id) {
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        if (strcmp(t->user_id, user_id) == 0) {
            token_drop(srv, t);
        }
    }
}

void mc_auth_clear(mc_server *srv) {
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        token_drop(srv, t);
    }
}

size_t mc_auth_count(const mc_server *srv) { return HASH_COUNT(srv->tokens); }

bool mc_auth_is_admin(const mc_token *tok) { return tok != NULL && tok->admin; }

const char *mc_auth_project(const mc_req *r) { return r->tok ? r->tok->project_id : ""; }
