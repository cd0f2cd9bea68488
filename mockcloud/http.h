/* http.h -- the request/reply funnel every handler uses.
 *
 * A handler answers exactly once, through one of the mc_reply_* functions;
 * they apply the profile's response-side deviations, set the common headers
 * (request id, content type, profile), journal the exchange and send. */
#ifndef MC_HTTP_H
#define MC_HTTP_H

#include "mockcloud.h"

/* Body parsing: a tree the caller must cJSON_Delete, or NULL when the body is
 * empty, invalid, has trailing junk or an embedded NUL. */
cJSON *mc_body_parse(mc_req *r);
/* Raw body bytes (borrowed, valid until the reply). */
const unsigned char *mc_body_raw(mc_req *r, size_t *len);

/* Prints 'body' compactly, exactly as cJSON_PrintUnformatted, but faster:
 * it turns integer numbers into raw text first, so the tree must only be
 * deleted afterwards. Caller frees the text with cJSON_free. */
char *mc_json_print(cJSON *body);
/* A raw JSON node that borrows 'text' (printed JSON) instead of copying it
 * as cJSON_CreateRaw does: 'text' must stay as it is until the reply holding
 * the node is printed, which mc_reply_json does at once. cJSON_Delete leaves
 * a reference's text alone and cJSON_Duplicate copies it. */
cJSON *mc_json_raw_ref(const char *text);
/* The same, owning 'text' (allocated with cJSON_malloc; cJSON_Delete frees it). */
cJSON *mc_json_raw_take(char *text);
/* mc_json_raw_take of a text whose length is known: mc_reply_json sends it
 * without a strlen (~10k instructions a 100-server page, ~100k the 1.3 MB
 * one). The length is kept in the node's valuedouble. */
cJSON *mc_json_raw_take_len(char *text, size_t len);
/* Renders 'body' and sends it with 'status'. Takes ownership of 'body' (NULL
 * for an empty reply). After the call the request is answered. */
void mc_reply_json(mc_req *r, int status, cJSON *body);
/* Sends 'len' bytes of 'data' (copied) with 'content_type'. */
void mc_reply_bytes(mc_req *r, int status, const char *content_type, const void *data, size_t len);
/* Answers with the error body of the route's service (Nova, Neutron,
 * Keystone, Glance or control). 'type' is Neutron's exception class; the other
 * dialects ignore it. */
void mc_reply_error(mc_req *r, int status, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The error body alone (used by the profile to re-render). Caller owns it. */
cJSON *mc_error_body(mc_service svc, int status, const char *type, const char *message);
const char *mc_status_phrase(int status);
/* The body of an error httpd.c answers before routing (400, 408, 413, 414,
 * 431, 501, 505), in the dialect of the service q->path names (an
 * mc_httpd_errfn; server.c installs it). malloc'd, or NULL for plain text. */
struct mc_hreq;
char *mc_wire_error(const struct mc_hreq *q, int status, const char *message, size_t *len, const char **ctype);

/* Headers: mc_header reads the request's, the others the reply's. */
const char *mc_header(const mc_req *r, const char *name);
void mc_header_set(mc_req *r, const char *name, const char *value);   /* replaces */
void mc_header_add(mc_req *r, const char *name, const char *value);   /* appends */
const char *mc_header_out(const mc_req *r, const char *name);
/* Calls fn for every request header, in the order received. */
void mc_header_each(const mc_req *r, void (*fn)(const char *name, const char *value, void *arg), void *arg);
/* Removes every reply header 'name'; true when there was one. */
bool mc_header_remove(mc_req *r, const char *name);

/* The request target as sent ("/image/v2/images?limit=2"), and the peer's
 * address as text ("127.0.0.1", "::1"; "" when unknown). */
const char *mc_req_uri(const mc_req *r);
void mc_req_peer(const mc_req *r, char *out, size_t outsz);

/* Query string (r->query, r->nquery): parsed from 'q' (NULL = none) into
 * the request: '&'-separated, a key without '=' gets "", empty keys are
 * skipped. Freed with the request (mc_query_free). */
void mc_query_parse(mc_req *r, const char *q, size_t len);
void mc_query_free(mc_req *r);
/* Removes every 'key'; then (mc_query_set) adds key=value (both copied). */
void mc_query_remove(mc_req *r, const char *key);
void mc_query_set(mc_req *r, const char *key, const char *value);
/* Query string: first value of 'key', or NULL. */
const char *mc_query(const mc_req *r, const char *key);
/* Calls fn for every value of 'key' (repeated keys), in order. */
void mc_query_each(const mc_req *r, const char *key, void (*fn)(const char *v, void *arg), void *arg);
/* Integer query parameter: absent -> *out = dflt; malformed or out of
 * [min,max] -> replies 400 and returns -1. */
int mc_query_long_or_reply(mc_req *r, const char *key, long min, long max, long dflt, long *out);
/* Boolean query parameter: absent -> -1 in *out; malformed -> 400, returns -1. */
int mc_query_bool_or_reply(mc_req *r, const char *key, int *out);

/* Typed JSON getters (case-sensitive). */
const char *mc_json_str(const cJSON *obj, const char *key);   /* NULL unless a string */
bool mc_json_has(const cJSON *obj, const char *key);
cJSON *mc_json_obj(const cJSON *obj, const char *key);        /* NULL unless an object */
cJSON *mc_json_arr(const cJSON *obj, const char *key);        /* NULL unless an array */
/* Replaces (or adds) obj[key] with 'item' (ownership moves). */
void mc_json_set(cJSON *obj, const char *key, cJSON *item);
void mc_json_set_str(cJSON *obj, const char *key, const char *value);  /* NULL -> null */

/* The base URL clients use for a service, e.g. "http://127.0.0.1:8080/compute". */
void mc_service_url(const mc_server *srv, const char *prefix, char *out, size_t outsz);

#endif
