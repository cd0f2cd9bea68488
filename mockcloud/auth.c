/* auth.c -- tokens that carry themselves, a bounded cache, revocation events.
 *
 * Keystone's Fernet tokens are not stored: the token is its payload (user,
 * scope, methods, expiry, audit ids) encrypted and authenticated with a key,
 * and revocation is a list of events. mockcloud's tokens do the same without
 * the encryption (a mock has no secret to hide in them): the id is "gAAAAA"
 * and the base64url of the payload followed by a 128-bit SipHash-2-4 MAC
 * under a key drawn at the first issue (the seeded stream with --seed) and
 * redrawn by mc_auth_clear, so a reset invalidates every token as before.
 *
 * What is stored is bounded: the MC_TOKEN_CACHE most recently issued or
 * validated tokens with their printed body (srv->tokens, uthash by id, one
 * lookup per request as before; the oldest leave first), the last
 * MC_TOKEN_RETIRED dropped tokens (still allocated, so a pointer a request
 * holds stays valid while a handler issues or validates others), and the
 * revocation events: one per revoked token until it would have expired, one
 * per user, application credential, project, domain or trust whose tokens
 * were revoked, until every token it could match has expired.
 *
 * Issue times are whole microseconds and strictly increasing, so "every
 * token of this user issued until now" is a number: a token issued in the
 * same microsecond after a password change is not caught by it. */
#include "auth.h"
#include "http.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

typedef struct revoke_ev {
    char key[48];            /* audit id, or the id of what mc_revoke_by names */
    uint64_t until_us;       /* tokens issued at or before this are revoked */
    uint64_t expires_us;     /* audit events: when the token expires anyway */
    UT_hash_handle hh;
} revoke_ev;

typedef struct mc_auth_state {
    uint64_t key[2];
    bool keyed;
    uint64_t last_us;        /* issue time of the newest token */
    size_t cap;
    mc_token *retired[MC_TOKEN_RETIRED];
    size_t rnext;            /* next slot of the retired ring */
    revoke_ev *audit;
    revoke_ev *by[MC_REVOKE_KINDS];   /* user, appcred, project, domain, trust */
    uint64_t max_life_us;    /* the longest lifetime of a token issued */
    size_t prune_at;         /* events held when the next pruning pass runs */
    uint64_t rebuilds;
} mc_auth_state;

static mc_auth_state *state(mc_server *srv) {
    if (srv->auth == NULL) {
        srv->auth = calloc(1, sizeof(mc_auth_state));
        if (srv->auth == NULL) mc_panic("out of memory");
        srv->auth->cap = MC_TOKEN_CACHE;
        srv->auth->prune_at = 256;
    }
    return srv->auth;
}

static uint64_t to_us(double t) { return t > 0 ? (uint64_t)(t * 1e6 + 0.5) : 0; }

mc_token *mc_auth_token_new(mc_server *srv) {
    mc_auth_state *st = state(srv);
    mc_token *t = calloc(1, sizeof *t);
    if (t == NULL) mc_panic("out of memory");
    uint64_t us = to_us(mc_now());
    if (us <= st->last_us) us = st->last_us + 1;
    st->last_us = us;
    t->issued = (double)us / 1e6;
    t->expires = (double)(us + (uint64_t)srv->cfg.token_ttl * 1000000u) / 1e6;
    return t;
}

/* ---------------------------------------------------------------- MAC */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);                                  \
        v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);                                  \
    } while (0)

static uint64_t le64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* SipHash-2-4 with its 128-bit output (Aumasson and Bernstein). */
static void siphash128(const uint64_t k[2], const unsigned char *in, size_t n, unsigned char out[16]) {
    uint64_t v0 = 0x736f6d6570736575ULL ^ k[0], v1 = 0x646f72616e646f6dULL ^ k[1];
    uint64_t v2 = 0x6c7967656e657261ULL ^ k[0], v3 = 0x7465646279746573ULL ^ k[1];
    v1 ^= 0xee;
    size_t full = n - n % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)n << 56;
    for (size_t i = 0; i < n % 8; i++) b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xee;
    for (int i = 0; i < 4; i++) SIPROUND;
    uint64_t h0 = v0 ^ v1 ^ v2 ^ v3;
    v1 ^= 0xdd;
    for (int i = 0; i < 4; i++) SIPROUND;
    uint64_t h1 = v0 ^ v1 ^ v2 ^ v3;
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(h0 >> (8 * i));
        out[8 + i] = (unsigned char)(h1 >> (8 * i));
    }
}

/* ---------------------------------------------------------------- payload
 *
 * version 1; flags (1 catalog, 2 project scope, 4 domain scope, 8 system
 * scope); issued and expiry in microseconds, 8 bytes big-endian each; then
 * seven strings: audit id, audit parent, user id, scope id, application
 * credential id, trust id (Keystone's TrustScopedPayload), methods.
 * A string of 32 lowercase hex digits (Keystone's ids) is 0x80 and its 16
 * bytes, any other a length byte (< 0x80) and its bytes. */

#define PAYLOAD_MAX 352
#define MAC_LEN 16

static bool is_hex32(const char *s, size_t n) {
    if (n != 32) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return true;
}

static int hexval(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

static size_t put_str(unsigned char *p, const char *s) {
    size_t n = strlen(s);
    if (is_hex32(s, n)) {
        p[0] = 0x80;
        for (int i = 0; i < 16; i++) p[1 + i] = (unsigned char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
        return 17;
    }
    if (n >= 0x80) mc_panic("token field too long");
    p[0] = (unsigned char)n;
    memcpy(p + 1, s, n);
    return 1 + n;
}

/* Reads one string into out[outsz]; returns the bytes used, 0 if malformed. */
static size_t get_str(const unsigned char *p, size_t avail, char *out, size_t outsz) {
    static const char digits[] = "0123456789abcdef";
    if (avail < 1) return 0;
    if (p[0] == 0x80) {
        if (avail < 17 || outsz < 33) return 0;
        for (int i = 0; i < 16; i++) {
            out[2 * i] = digits[p[1 + i] >> 4];
            out[2 * i + 1] = digits[p[1 + i] & 15];
        }
        out[32] = '\0';
        return 17;
    }
    size_t n = p[0];
    if (n >= 0x80 || avail < 1 + n || n >= outsz || memchr(p + 1, '\0', n) != NULL) return 0;
    memcpy(out, p + 1, n);
    out[n] = '\0';
    return 1 + n;
}

static void put_u64(unsigned char *p, uint64_t v) {
    for (int i = 7; i >= 0; i--, v >>= 8) p[i] = (unsigned char)v;
}

static uint64_t get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = (v << 8) | p[i];
    return v;
}

static void ensure_key(mc_server *srv) {
    mc_auth_state *st = state(srv);
    if (st->keyed) return;
    unsigned char raw[16];
    mc_secret_bytes(srv, raw, sizeof raw);
    st->key[0] = le64(raw);
    st->key[1] = le64(raw + 8);
    st->keyed = true;
}

static void encode_id(mc_server *srv, mc_token *t) {
    ensure_key(srv);
    unsigned char buf[PAYLOAD_MAX + MAC_LEN];
    size_t n = 0;
    buf[n++] = 1;
    buf[n++] = (unsigned char)((t->catalog ? 1 : 0) | (t->project_id[0] ? 2 : 0) | (t->domain_id[0] ? 4 : 0) |
                               (t->system ? 8 : 0));
    put_u64(buf + n, to_us(t->issued));
    put_u64(buf + n + 8, to_us(t->expires));
    n += 16;
    n += put_str(buf + n, t->audit_id);
    n += put_str(buf + n, t->audit_parent);
    n += put_str(buf + n, t->user_id);
    n += put_str(buf + n, t->project_id[0] ? t->project_id : t->domain_id);
    n += put_str(buf + n, t->appcred_id);
    n += put_str(buf + n, t->trust_id);
    n += put_str(buf + n, t->methods);
    siphash128(srv->auth->key, buf, n, buf + n);
    memcpy(t->id, "gAAAAA", 6);
    mc_b64url(buf, n + MAC_LEN, t->id + 6, sizeof t->id - 6);
}

static int b64val(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
}

/* The token an id stands for, MAC checked; NULL for anything else. */
static mc_token *decode_id(mc_server *srv, const char *id) {
    mc_auth_state *st = state(srv);
    size_t len = strlen(id);
    if (!st->keyed || len < 6 || len >= MC_TOKEN_ID_MAX || memcmp(id, "gAAAAA", 6) != 0) return NULL;
    unsigned char buf[PAYLOAD_MAX + MAC_LEN];
    size_t n = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (const char *c = id + 6; *c != '\0'; c++) {
        int v = b64val(*c);
        if (v < 0) return NULL;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n == sizeof buf) return NULL;
            buf[n++] = (unsigned char)(acc >> bits);
        }
    }
    /* one spelling per token: no stray low bits in the last character */
    if (bits >= 6 || (acc & ((1u << bits) - 1)) != 0 || n < 18 + 7 + MAC_LEN) return NULL;
    unsigned char mac[MAC_LEN];
    siphash128(st->key, buf, n - MAC_LEN, mac);
    unsigned char diff = 0;
    for (int i = 0; i < MAC_LEN; i++) diff |= (unsigned char)(mac[i] ^ buf[n - MAC_LEN + i]);
    if (diff != 0 || buf[0] != 1) return NULL;
    mc_token *t = calloc(1, sizeof *t);
    if (t == NULL) mc_panic("out of memory");
    size_t end = n - MAC_LEN, o = 18, k;
    char scope[40];
    t->catalog = buf[1] & 1;
    t->issued = (double)get_u64(buf + 2) / 1e6;
    t->expires = (double)get_u64(buf + 10) / 1e6;
    if ((k = get_str(buf + o, end - o, t->audit_id, sizeof t->audit_id)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, t->audit_parent, sizeof t->audit_parent)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, t->user_id, sizeof t->user_id)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, scope, sizeof scope)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, t->appcred_id, sizeof t->appcred_id)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, t->trust_id, sizeof t->trust_id)) == 0) goto bad;
    o += k;
    if ((k = get_str(buf + o, end - o, t->methods, sizeof t->methods)) == 0 || o + k != end) goto bad;
    if (buf[1] & 2) mc_strlcpy(t->project_id, scope, sizeof t->project_id);
    else if (buf[1] & 4) mc_strlcpy(t->domain_id, scope, sizeof t->domain_id);
    t->system = (buf[1] & 8) != 0;
    mc_strlcpy(t->id, id, sizeof t->id);
    return t;
bad:
    free(t);
    return NULL;
}

/* ---------------------------------------------------------------- the table */

static void token_free(mc_token *t) {
    if (t == NULL) return;
    free(t->body_text);
    free(t);
}

/* Every stored token leaves through here: it waits in the retired ring
 * (freed MC_TOKEN_RETIRED drops later), and the count tells a holder of an
 * mc_token * (the journal, at reply time) whether it may be gone. */
static void token_drop(mc_server *srv, mc_token *t) {
    mc_auth_state *st = state(srv);
    HASH_DEL(srv->tokens, t);
    token_free(st->retired[st->rnext]);
    st->retired[st->rnext] = t;
    st->rnext = (st->rnext + 1) % MC_TOKEN_RETIRED;
    srv->token_drops++;
}

cJSON *mc_auth_token_json(const mc_token *t) {
    if (t == NULL || t->body_text == NULL) return NULL;
    return cJSON_ParseWithLengthOpts(t->body_text, strlen(t->body_text) + 1, NULL, 1);
}

/* Keeps 't' among the recent tokens, the oldest leaving past the cap. */
static void cache_put(mc_server *srv, mc_token *t) {
    mc_auth_state *st = state(srv);
    while (srv->tokens != NULL && HASH_COUNT(srv->tokens) >= st->cap) token_drop(srv, srv->tokens);
    HASH_ADD_STR(srv->tokens, id, t);
}

void mc_auth_add(mc_server *srv, mc_token *tok) {
    mc_auth_state *st = state(srv);
    uint64_t life = to_us(tok->expires) - to_us(tok->issued);
    if (to_us(tok->expires) > to_us(tok->issued) && life > st->max_life_us) st->max_life_us = life;
    encode_id(srv, tok);
    cache_put(srv, tok);
}

static revoke_ev *revoke_event_find(revoke_ev *head, const char *key) {
    revoke_ev *e = NULL;
    if (key != NULL && key[0] != '\0') HASH_FIND_STR(head, key, e);
    return e;
}

/* The ids of 't' that events of kind 'by' match (up to three; NULL ends). */
static void token_keys(const mc_token *t, mc_revoke_by by, const char *keys[4]) {
    keys[1] = keys[2] = keys[3] = NULL;
    switch (by) {
    case MC_REVOKE_USER: keys[0] = t->user_id; break;
    case MC_REVOKE_APPCRED: keys[0] = t->appcred_id; break;
    case MC_REVOKE_PROJECT: keys[0] = t->project_id; break;
    case MC_REVOKE_DOMAIN:   /* Keystone: identity or assignment domain */
        keys[0] = t->user_domain_id;
        keys[1] = t->domain_id;
        keys[2] = t->scope_domain_id;
        break;
    default: keys[0] = t->trust_id; break;
    }
}

static bool revoked(mc_auth_state *st, const mc_token *t) {
    uint64_t issued = to_us(t->issued);
    if (revoke_event_find(st->audit, t->audit_id) != NULL) return true;
    for (int by = 0; by < MC_REVOKE_KINDS; by++) {
        const char *keys[4];
        token_keys(t, (mc_revoke_by)by, keys);
        for (int i = 0; keys[i] != NULL; i++) {
            revoke_ev *e = revoke_event_find(st->by[by], keys[i]);
            if (e != NULL && issued <= e->until_us) return true;
        }
    }
    return false;
}

static size_t events_held(const mc_auth_state *st) {
    size_t n = HASH_COUNT(st->audit);
    for (int by = 0; by < MC_REVOKE_KINDS; by++) n += HASH_COUNT(st->by[by]);
    return n;
}

/* Drops the events no live token can match any more: an audit event once
 * its token expired, any other once the longest token lifetime issued has
 * passed since its moment. A full pass when the count has doubled since the
 * last one, so adding an event stays O(1) amortized and the events held are
 * at most twice those that can still match (and never below 256 passes). */
static void events_prune(mc_auth_state *st) {
    if (events_held(st) < st->prune_at) return;
    uint64_t now = to_us(mc_now());
    revoke_ev *e, *tmp;
    HASH_ITER(hh, st->audit, e, tmp) {
        if (e->expires_us <= now) {
            HASH_DEL(st->audit, e);
            free(e);
        }
    }
    for (int by = 0; by < MC_REVOKE_KINDS; by++) {
        HASH_ITER(hh, st->by[by], e, tmp) {
            if (e->until_us + st->max_life_us < now) {
                HASH_DEL(st->by[by], e);
                free(e);
            }
        }
    }
    size_t held = events_held(st);
    st->prune_at = held * 2 > 256 ? held * 2 : 256;
}

/* Adds (or moves forward) an event, after a pruning pass when due. */
static void revoke_event_add(mc_auth_state *st, revoke_ev **head, const char *key, uint64_t until_us,
                             uint64_t expires_us) {
    if (key == NULL || key[0] == '\0' || strlen(key) >= sizeof((revoke_ev *)0)->key) return;
    events_prune(st);
    revoke_ev *e = revoke_event_find(*head, key);
    if (e == NULL) {
        e = calloc(1, sizeof *e);
        if (e == NULL) mc_panic("out of memory");
        mc_strlcpy(e->key, key, sizeof e->key);
        HASH_ADD_STR(*head, key, e);
    }
    if (until_us > e->until_us) e->until_us = until_us;
    if (expires_us > e->expires_us) e->expires_us = expires_us;
}

/* A token revoked for good: its audit id, until it expires. */
static void revoke_token(mc_server *srv, mc_token *t) {
    mc_auth_state *st = state(srv);
    revoke_event_add(st, &st->audit, t->audit_id, to_us(t->issued), to_us(t->expires));
    token_drop(srv, t);
}

const mc_token *mc_auth_lookup(mc_server *srv, const char *id) {
    mc_token *t = NULL;
    if (id == NULL || strlen(id) >= sizeof t->id) return NULL;
    HASH_FIND_STR(srv->tokens, id, t);
    double now = mc_now();
    if (t != NULL) {
        /* expired (or made so by a test): it stays expired */
        if (t->expires <= now) {
            revoke_token(srv, t);
            return NULL;
        }
        return t;
    }
    mc_auth_state *st = state(srv);
    t = decode_id(srv, id);
    if (t == NULL) return NULL;
    /* the events by domain need the domains the rebuild fills in */
    if (t->expires <= now || revoked(st, t) || !identity_token_rebuild(srv, t) || revoked(st, t)) {
        token_free(t);
        return NULL;
    }
    st->rebuilds++;
    cache_put(srv, t);
    return t;
}

bool mc_auth_recheck(mc_req *r) {
    if (r->tok == NULL || r->srv->token_drops - r->tok_drops < MC_TOKEN_RETIRED) return true;
    r->tok = mc_auth_lookup(r->srv, mc_header(r, "X-Auth-Token"));
    r->tok_drops = r->srv->token_drops;
    if (r->tok != NULL) return true;
    mc_reply_error(r, 401, NULL, "The request you have made requires authentication.");
    return false;
}

void mc_auth_revoke(mc_server *srv, const char *id) {
    mc_token *t = NULL;
    if (id == NULL || strlen(id) >= sizeof t->id) return;
    HASH_FIND_STR(srv->tokens, id, t);
    if (t != NULL) {
        revoke_token(srv, t);
        return;
    }
    t = decode_id(srv, id);
    mc_auth_state *st = state(srv);
    if (t != NULL) revoke_event_add(st, &st->audit, t->audit_id, to_us(t->issued), to_us(t->expires));
    token_free(t);
}

void mc_auth_revoke_by(mc_server *srv, mc_revoke_by by, const char *id) {
    mc_auth_state *st = state(srv);
    if (id == NULL || id[0] == '\0' || by < 0 || by >= MC_REVOKE_KINDS) return;
    revoke_event_add(st, &st->by[by], id, st->last_us, 0);
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        const char *keys[4];
        token_keys(t, by, keys);
        bool hit = false;
        for (int i = 0; keys[i] != NULL; i++) hit |= strcmp(keys[i], id) == 0;
        if (hit) token_drop(srv, t);
    }
}

void mc_auth_revoke_user(mc_server *srv, const char *user_id) { mc_auth_revoke_by(srv, MC_REVOKE_USER, user_id); }

void mc_auth_revoke_appcred(mc_server *srv, const char *appcred_id) {
    mc_auth_revoke_by(srv, MC_REVOKE_APPCRED, appcred_id);
}

static void events_free(revoke_ev **head) {
    revoke_ev *e, *tmp;
    HASH_ITER(hh, *head, e, tmp) {
        HASH_DEL(*head, e);
        free(e);
    }
}

void mc_auth_clear(mc_server *srv) {
    mc_token *t, *tmp;
    HASH_ITER(hh, srv->tokens, t, tmp) {
        HASH_DEL(srv->tokens, t);
        token_free(t);
        srv->token_drops++;
    }
    mc_auth_state *st = srv->auth;
    if (st == NULL) return;
    srv->token_drops += MC_TOKEN_RETIRED;   /* the retired ones go too */
    for (size_t i = 0; i < MC_TOKEN_RETIRED; i++) token_free(st->retired[i]);
    events_free(&st->audit);
    for (int by = 0; by < MC_REVOKE_KINDS; by++) events_free(&st->by[by]);
    free(st);
    srv->auth = NULL;
}

size_t mc_auth_count(const mc_server *srv) { return HASH_COUNT(srv->tokens); }

size_t mc_auth_events(const mc_server *srv) {
    const mc_auth_state *st = srv->auth;
    return st ? events_held(st) : 0;
}

uint64_t mc_auth_rebuilds(const mc_server *srv) { return srv->auth ? srv->auth->rebuilds : 0; }

void mc_auth_set_cache(mc_server *srv, size_t n) { state(srv)->cap = n > 0 ? n : 1; }

bool mc_auth_is_admin(const mc_token *tok) { return tok != NULL && tok->admin; }

bool mc_auth_system_reader(const mc_token *tok) {
    return tok != NULL && tok->system && (tok->reader || tok->member || tok->admin);
}

bool mc_auth_may_admin(const mc_token *tok, int method) {
    return mc_auth_is_admin(tok) ||
           (mc_auth_system_reader(tok) && (method == EVHTTP_REQ_GET || method == EVHTTP_REQ_HEAD));
}

const char *mc_auth_project(const mc_req *r) { return r->tok ? r->tok->project_id : ""; }
