/* httpd.h -- mockcloud's own HTTP/1.1 server on the libevent loop.
 *
 * One listening socket; one mc_hconn a connection, with one growable read
 * buffer in which each request is parsed in place (the request line and the
 * headers become NUL-terminated strings inside it, no allocation a header),
 * bodies by Content-Length or chunked, "Expect: 100-continue", keep-alive
 * (HTTP/1.1 default, HTTP/1.0 on request), pipelining (the next request is
 * taken from the buffer once the current one is answered), HEAD, an idle
 * timeout. A reply is one sendmsg of the status line and headers (built with
 * memcpy) and the body; what does not fit waits in a queue for EV_WRITE.
 * Its own errors (400, 408, 413, 414, 431, 501, 505) get their body from
 * an errfn, in the dialect of the path's service; slow heads and bodies
 * time out (408), connections are bounded (accepting pauses at the bound
 * or on EMFILE), and an idle connection holds neither its read buffer nor
 * its request block (both pooled).
 *
 * The callback gets an mc_hreq that stays valid, with every pointer in it,
 * until it is answered exactly once: mc_httpd_send, mc_httpd_start + _write
 * + _end, or mc_httpd_drop. An answer may come later, from a timer: if the
 * client leaves before, the close callback runs and the answer is a no-op. */
#ifndef MC_HTTPD_H
#define MC_HTTPD_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>

#define MC_HTTPD_MAX_HEADERS 100
#define MC_HTTPD_MAX_OUT 32
#define MC_HTTPD_MAX_HEAD (64 * 1024)   /* request line + headers: 431 above */
#define MC_HTTPD_MAX_LINE 8192          /* request line: 414 above (eventlet's MAX_REQUEST_LINE) */
#define MC_HTTPD_IDLE_S 120

/* Timeouts and the connection bound (mc_httpd_set_limits). */
typedef struct mc_httpd_limits {
    int idle_ms;      /* a kept-alive connection without a request: closed silently (120 s) */
    int head_ms;      /* a request's first byte to its blank line, and the longest pause
                         inside a body: 408 after it (30 s, Apache's RequestReadTimeout) */
    int linger_ms;    /* after an error that closes: the client's late bytes are read and
                         dropped this long, so the answer is not lost to a reset (2 s) */
    int max_conns;    /* open connections; at the bound accepting pauses until one
                         closes (default: the fd limit less 64) */
} mc_httpd_limits;

/* What a server holds (tests and the control API). */
typedef struct mc_httpd_stats {
    size_t conns;           /* open connections */
    size_t bytes;           /* their memory: structs, read buffers, requests, queued replies */
    size_t pooled;          /* idle read buffers and request blocks kept for reuse */
    unsigned long accept_pauses;   /* times accepting stopped (bound reached, EMFILE) */
    unsigned long timeouts;        /* 408s sent */
} mc_httpd_stats;

typedef struct mc_httpd mc_httpd;
typedef struct mc_hconn mc_hconn;

typedef struct mc_hhdr {
    const char *name;         /* NUL-terminated */
    const char *value;        /* NUL-terminated, surrounding blanks trimmed */
    size_t nlen;
} mc_hhdr;

typedef struct mc_hreq {
    mc_hconn *conn;
    int method;               /* EVHTTP_REQ_* (event2/http.h's values) */
    int minor;                /* HTTP/1.<minor> */
    const char *uri;          /* the request target as sent, NUL-terminated */
    const char *path;         /* its path (origin form), path_len bytes */
    size_t path_len;
    const char *query;        /* after '?' (query_len bytes), NULL when none */
    size_t query_len;
    bool keep_alive;
    mc_hhdr hdr[MC_HTTPD_MAX_HEADERS];
    int nhdr;
    unsigned char *body;      /* body_len bytes (decoded when chunked) */
    size_t body_len;
    /* reply headers: names and values copied into out_text */
    mc_hhdr out[MC_HTTPD_MAX_OUT];
    int nout;
    size_t out_used;
    char out_text[8192];
} mc_hreq;

typedef void (*mc_httpd_cb)(mc_hreq *q, void *arg);

/* The body of an error httpd answers itself, before any route (400, 408,
 * 413, 414, 431, 501, 505): 'q' holds what could be read: q->path is NULL
 * when not even the start of a path could, q->nhdr the headers parsed so
 * far. Returns malloc'd text (*len bytes) with its *ctype, or NULL for the
 * plain text httpd writes itself. The connection closes after it. */
typedef char *(*mc_httpd_errfn)(const mc_hreq *q, int status, const char *message, size_t *len,
                                const char **ctype);

/* Listens on host:port (port 0: ephemeral); bodies over 'max_body' get a
 * 413 before they are read. NULL with the reason in err. */
mc_httpd *mc_httpd_new(struct event_base *base, const char *host, int port, size_t max_body, mc_httpd_cb cb,
                       void *arg, char *err, size_t errsz);
/* The same without a listening socket (tests hand it connections). */
mc_httpd *mc_httpd_new_unbound(struct event_base *base, size_t max_body, mc_httpd_cb cb, void *arg);
/* Serves an already connected socket (made nonblocking here). */
void mc_httpd_adopt(mc_httpd *h, int fd);
int mc_httpd_port(const mc_httpd *h);
void mc_httpd_set_errfn(mc_httpd *h, mc_httpd_errfn fn);
void mc_httpd_get_limits(const mc_httpd *h, mc_httpd_limits *lim);
void mc_httpd_set_limits(mc_httpd *h, const mc_httpd_limits *lim);   /* for new timers and accepts */
void mc_httpd_get_stats(const mc_httpd *h, mc_httpd_stats *st);
/* Closes every connection (answers still pending are dropped) and the
 * listening socket. */
void mc_httpd_free(mc_httpd *h);

/* Request headers: first value of 'name' (case-insensitive), or NULL. */
const char *mc_hreq_header(const mc_hreq *q, const char *name);
/* Reply headers. */
void mc_hreq_out_add(mc_hreq *q, const char *name, const char *value);
const char *mc_hreq_out_find(const mc_hreq *q, const char *name);
bool mc_hreq_out_remove(mc_hreq *q, const char *name);   /* true when there was one */
/* The peer's address as text ("127.0.0.1", "::1"), "" when unknown. */
void mc_hreq_peer(const mc_hreq *q, char *out, size_t outsz);

/* The whole reply: 'len' bytes of 'body' (none for HEAD, 204, 304).
 * body_free (NULL: borrowed, copied only when it must wait for the socket)
 * frees it once written. The Content-Length is 'content_length' (pass len;
 * larger for a reply cut short); 'close' closes the connection after it. */
void mc_httpd_send(mc_hreq *q, int status, const char *reason, const void *body, size_t len,
                   void (*body_free)(void *), size_t content_length, bool close);
/* A reply written in pieces: the head (Content-Length 'content_length'),
 * then the body with mc_httpd_write (copied when it must wait), then _end. */
void mc_httpd_start(mc_hreq *q, int status, const char *reason, size_t content_length);
void mc_httpd_write(mc_hreq *q, const void *data, size_t len);
void mc_httpd_end(mc_hreq *q);
/* Closes the connection without an answer. */
void mc_httpd_drop(mc_hreq *q);
/* Runs cb(arg) once if the client goes away before the answer (NULL: none). */
void mc_httpd_set_closecb(mc_hreq *q, void (*cb)(void *arg), void *arg);
bool mc_httpd_gone(const mc_hreq *q);

#endif
