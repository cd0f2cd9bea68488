/* httpd.c -- mockcloud's HTTP/1.1 server (see httpd.h).
 *
 * Why not evhttp: a small authenticated GET spent ~36k of its ~49k
 * instructions in evhttp (a calloc and strdup a header into evkeyvalq lists,
 * evbuffer_add_printf a reply header, evhttp_uri parsing, four epoll_ctl a
 * request). Here a connection's read event stays armed for its whole life,
 * a request is parsed in place, and a reply is one sendmsg: the write event
 * is armed only when the socket is full.
 *
 * A connection is in one of these states: C_HEAD (reading a request head),
 * C_BODY (reading its body), C_BUSY (handed to the callback, not answered
 * yet), C_DONE (answered; the reply may still be queued), C_LINGER (an
 * error sent, our side shut, the client's late bytes dropped until it
 * closes). While a request is
 * C_BUSY or its reply is queued, the buffer does not move (no realloc, no
 * compaction: the mc_hreq points into it); reading goes on only into free
 * room, so a client that leaves is still noticed. */
#include "httpd.h"
#include "util.h"

#include <errno.h>
#include <event2/http.h>   /* EVHTTP_REQ_* values */
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

enum { C_HEAD = 0, C_BODY, C_BUSY, C_DONE, C_LINGER };
enum { T_NONE = 0, T_IDLE, T_HEAD, T_BODY, T_LINGER };   /* what the read event's timeout is for */

#define POOL_MAX 64          /* idle read buffers and request blocks kept */
#define IN_CHUNK 16384       /* a read buffer's first size (pooled at this size only) */
#define LINGER_MAX (16u << 20)   /* bytes dropped after an error at the most */
enum { CK_SIZE = 0, CK_DATA, CK_DATA_END, CK_TRAILER };

typedef struct oseg {
    struct oseg *next;
    const char *data;
    size_t len;
    void (*free)(void *);
    void *owned;
    char buf[];
} oseg;

struct mc_hconn {
    mc_httpd *h;
    int fd;
    struct event *rev, *wev;
    char *in;
    size_t in_len, in_cap;
    size_t req_off;           /* where the current request starts */
    size_t scan;              /* the search for the head's end resumes here */
    size_t body_off;          /* where the body starts (after the head) */
    size_t raw_pos;           /* chunked: the next undecoded byte */
    size_t clen;              /* Content-Length */
    size_t ck_left;           /* chunked: bytes left in this chunk */
    size_t trailer;           /* chunked: trailer bytes so far */
    size_t req_end;           /* where the next request starts */
    int state, ck_state;
    int tclass;               /* T_*: what rev's timeout is armed for */
    long long t_head;         /* ms (monotonic) of a partial head's first byte, 0 = none */
    size_t lingered;          /* C_LINGER: bytes dropped */
    bool chunked;
    bool close_after;         /* close once the reply is out */
    bool dead;                /* the socket is closed (client gone or dropped) */
    bool reading;             /* rev is added */
    bool writing;             /* wev is added */
    bool in_process;          /* conn_process is on the stack */
    bool free_later;          /* free when conn_process returns */
    bool is_head;
    bool linger;              /* an error: shut writing, drop what still comes, then close */
    oseg *oq, *oq_tail;
    void (*closecb)(void *);
    void *closearg;
    struct sockaddr_storage peer;
    socklen_t peerlen;
    mc_hconn *prev, *next;
    mc_hreq *q;               /* from the pool while a request is read or answered */
};

struct mc_httpd {
    struct event_base *base;
    int lfd;
    struct event *lev;
    int port;
    size_t max_body;
    mc_httpd_cb cb;
    void *arg;
    mc_hconn *conns;
    mc_httpd_errfn errfn;
    mc_httpd_limits lim;
    size_t nconns;
    bool paused;              /* the listening event is off */
    struct event *resume;     /* retries accepting after EMFILE and the like */
    unsigned long accept_pauses, timeouts;
    char *buf_pool[POOL_MAX]; /* IN_CHUNK-byte read buffers of idle connections */
    int nbuf_pool;
    mc_hreq *req_pool[POOL_MAX];
    int nreq_pool;
    time_t date_t;
    char date[40];
    size_t date_len;
};

static void conn_process(mc_hconn *c);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_write_cb(evutil_socket_t fd, short what, void *arg);

/* ------------------------------------------------------------ lifecycle */

static void oq_free(mc_hconn *c) {
    while (c->oq != NULL) {
        oseg *s = c->oq;
        c->oq = s->next;
        if (s->free != NULL) s->free(s->owned);
        free(s);
    }
    c->oq_tail = NULL;
}

/* Pools: an idle connection holds neither a read buffer nor a request
 * block (~11 KB: 100 header slots and the reply headers' text); it takes
 * them when bytes come and gives them back once answered with nothing
 * left to read. A pool is a stack of at most POOL_MAX. */
static void buf_release(mc_hconn *c) {
    mc_httpd *h = c->h;
    if (c->in != NULL) {
        if (c->in_cap == IN_CHUNK && h->nbuf_pool < POOL_MAX) h->buf_pool[h->nbuf_pool++] = c->in;
        else free(c->in);   /* a large body went through: given back to malloc */
    }
    c->in = NULL;
    c->in_cap = c->in_len = c->req_off = c->scan = 0;
}

static mc_hreq *req_take(mc_hconn *c) {
    mc_httpd *h = c->h;
    if (c->q == NULL) {
        c->q = h->nreq_pool > 0 ? h->req_pool[--h->nreq_pool] : malloc(sizeof *c->q);
        if (c->q == NULL) mc_panic("out of memory");
        c->q->conn = c;
        c->q->path = NULL;
        c->q->nhdr = 0;
    }
    return c->q;
}

static void req_release(mc_hconn *c) {
    mc_httpd *h = c->h;
    if (c->q == NULL) return;
    if (h->nreq_pool < POOL_MAX) h->req_pool[h->nreq_pool++] = c->q;
    else free(c->q);
    c->q = NULL;
}

static void accept_resume(mc_httpd *h) {
    if (!h->paused || h->lev == NULL) return;
    h->paused = false;
    if (h->resume != NULL) evtimer_del(h->resume);
    event_add(h->lev, NULL);
}

static void conn_free(mc_hconn *c) {
    mc_httpd *h = c->h;
    if (c->prev) c->prev->next = c->next;
    else if (h->conns == c) h->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    if (c->rev) event_free(c->rev);
    if (c->wev) event_free(c->wev);
    if (c->fd >= 0) close(c->fd);
    oq_free(c);
    buf_release(c);
    req_release(c);
    free(c);
    h->nconns--;
    accept_resume(h);   /* a descriptor is free again */
}

/* The socket goes; the struct stays while a request is unanswered (its
 * answer frees it) or while conn_process runs. */
static void conn_close(mc_hconn *c) {
    if (!c->dead) {
        c->dead = true;
        if (c->rev) {
            event_free(c->rev);
            c->rev = NULL;
        }
        if (c->wev) {
            event_free(c->wev);
            c->wev = NULL;
        }
        close(c->fd);
        c->fd = -1;
        oq_free(c);
        if (c->state == C_BUSY && c->closecb != NULL) {
            void (*cb)(void *) = c->closecb;
            c->closecb = NULL;
            cb(c->closearg);
        }
    }
    if (c->state == C_BUSY) return;
    if (c->in_process) c->free_later = true;
    else conn_free(c);
}

static void reading_on(mc_hconn *c) {
    if (!c->reading && !c->dead) {
        struct timeval tv = {c->h->lim.idle_ms / 1000, (c->h->lim.idle_ms % 1000) * 1000};
        event_add(c->rev, &tv);
        c->reading = true;
        c->tclass = T_IDLE;
    }
}

static void reading_off(mc_hconn *c) {
    if (c->reading) {
        event_del(c->rev);
        c->reading = false;
    }
}

static void conn_new(mc_httpd *h, int fd, const struct sockaddr *sa, socklen_t salen) {
    mc_hconn *c = calloc(1, sizeof *c);
    if (c == NULL) mc_panic("out of memory");
    c->h = h;
    c->fd = fd;
    h->nconns++;
    if (sa != NULL && salen <= sizeof c->peer) {
        memcpy(&c->peer, sa, salen);
        c->peerlen = salen;
    }
    c->rev = event_new(h->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
    c->wev = event_new(h->base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
    if (c->rev == NULL || c->wev == NULL) mc_panic("cannot watch a connection");
    c->next = h->conns;
    if (h->conns) h->conns->prev = c;
    h->conns = c;
    reading_on(c);
}

/* ------------------------------------------------------------ output */

static bool hname_eq(const mc_hhdr *x, const char *name, size_t nlen) {
    return x->nlen == nlen && strcasecmp(x->name, name) == 0;
}

static const char *date_now(mc_httpd *h) {
    time_t now = time(NULL);
    if (now != h->date_t || h->date[0] == '\0') {
        struct tm tm;
        gmtime_r(&now, &tm);
        h->date_len = strftime(h->date, sizeof h->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        h->date_t = now;
    }
    return h->date;
}

static void oq_push(mc_hconn *c, const void *data, size_t len, void (*fn)(void *), void *owned) {
    oseg *s;
    if (fn != NULL) {
        s = malloc(sizeof *s);
        if (s == NULL) mc_panic("out of memory");
        s->data = data;
        s->free = fn;
        s->owned = owned;
    } else {
        s = malloc(sizeof *s + len);
        if (s == NULL) mc_panic("out of memory");
        memcpy(s->buf, data, len);
        s->data = s->buf;
        s->free = NULL;
        s->owned = NULL;
    }
    s->len = len;
    s->next = NULL;
    if (c->oq_tail) c->oq_tail->next = s;
    else c->oq = s;
    c->oq_tail = s;
}

/* Writes what the queue holds; true when it is empty. Closes on an error. */
static bool oq_flush(mc_hconn *c) {
    while (c->oq != NULL && !c->dead) {
        struct iovec iov[16];
        int n = 0;
        for (oseg *s = c->oq; s != NULL && n < 16; s = s->next) {
            iov[n].iov_base = (void *)s->data;
            iov[n].iov_len = s->len;
            n++;
        }
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
            conn_close(c);
            return false;
        }
        size_t left = (size_t)w;
        while (c->oq != NULL && left >= c->oq->len) {
            oseg *s = c->oq;
            left -= s->len;
            c->oq = s->next;
            if (s->free != NULL) s->free(s->owned);
            free(s);
        }
        if (c->oq == NULL) c->oq_tail = NULL;
        else {
            c->oq->data += left;
            c->oq->len -= left;
        }
    }
    return c->oq == NULL;
}

/* Sends 'n' buffers: straight out when nothing waits, the rest queued. The
 * last buffer may be owned (fn frees owned once written). */
static void out_write(mc_hconn *c, struct iovec *iov, int n, void (*fn)(void *), void *owned) {
    if (c->dead) {
        if (fn) fn(owned);
        return;
    }
    size_t done = 0;
    if (c->oq == NULL) {
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w;
        do w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            if (fn) fn(owned);
            conn_close(c);
            return;
        }
        done = w > 0 ? (size_t)w : 0;
    }
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        if (done >= len) {
            done -= len;
            continue;
        }
        const char *p = (const char *)iov[i].iov_base + done;
        size_t rest = len - done;
        done = 0;
        if (i == n - 1 && fn != NULL) {
            oq_push(c, p, rest, fn, owned);
            fn = NULL;
        } else {
            oq_push(c, p, rest, NULL, NULL);
        }
    }
    if (fn) fn(owned);
    if (c->oq != NULL && !c->writing) {
        event_add(c->wev, NULL);
        c->writing = true;
    }
}

static char *put(char *o, const char *s, size_t n) {
    memcpy(o, s, n);
    return o + n;
}

static char *put_num(char *o, size_t v) {
    char d[24];
    int n = 0;
    do d[n++] = (char)('0' + v % 10); while ((v /= 10) != 0);
    while (n > 0) *o++ = d[--n];
    return o;
}

/* The status line and headers into 'buf' (room: out_text + 512); returns
 * the length. Sets c->close_after when the reply closes the connection. */
static size_t build_head(mc_hconn *c, int status, const char *reason, size_t content_length, char *buf) {
    mc_hreq *q = c->q;
    char *o = buf;
    o = put(o, "HTTP/1.1 ", 9);
    if (status < 100 || status > 999) status = 500;
    *o++ = (char)('0' + status / 100);
    *o++ = (char)('0' + status / 10 % 10);
    *o++ = (char)('0' + status % 10);
    *o++ = ' ';
    size_t rl = strlen(reason);
    if (rl > 64) rl = 64;
    o = put(o, reason, rl);
    o = put(o, "\r\n", 2);
    bool has_date = false, has_conn = false;
    for (int i = 0; i < q->nout; i++) {
        const mc_hhdr *x = &q->out[i];
        if (hname_eq(x, "Content-Length", 14)) continue;
        if (hname_eq(x, "Date", 4)) has_date = true;
        if (hname_eq(x, "Connection", 10)) {
            has_conn = true;
            if (strcasecmp(x->value, "close") == 0) c->close_after = true;
        }
        o = put(o, x->name, x->nlen);
        o = put(o, ": ", 2);
        o = put(o, x->value, strlen(x->value));
        o = put(o, "\r\n", 2);
    }
    if (!has_date) {
        const char *d = date_now(c->h);
        o = put(o, "Date: ", 6);
        o = put(o, d, c->h->date_len);
        o = put(o, "\r\n", 2);
    }
    if (status >= 200 && status != 204 && status != 304) {
        o = put(o, "Content-Length: ", 16);
        o = put_num(o, content_length);
        o = put(o, "\r\n", 2);
    }
    if (!q->keep_alive) c->close_after = true;
    if (!has_conn) {
        if (c->close_after) o = put(o, "Connection: close\r\n", 19);
        else if (q->minor == 0) o = put(o, "Connection: keep-alive\r\n", 24);
    }
    o = put(o, "\r\n", 2);
    return (size_t)(o - buf);
}

static void arm(mc_hconn *c, int tclass, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_add(c->rev, &tv);
    c->reading = true;
    c->tclass = tclass;
}

/* An error answered, the connection is to close: shut our side, then read
 * and drop what the client still sends (the rest of a refused body) until
 * it closes, stays silent for linger_ms or LINGER_MAX bytes came: a close
 * with unread bytes would send a reset, which can destroy the answer
 * before the client reads it. */
static void conn_linger(mc_hconn *c) {
    c->state = C_LINGER;
    c->lingered = 0;
    shutdown(c->fd, SHUT_WR);
    buf_release(c);
    req_release(c);
    arm(c, T_LINGER, c->h->lim.linger_ms);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The request is answered: once its reply is out, the next one (or close). */
static void after_answer(mc_hconn *c) {
    c->state = C_DONE;
    if (c->dead) {
        conn_close(c);
        return;
    }
    if (c->oq != NULL) return;   /* conn_write_cb comes back here */
    if (c->close_after && c->linger && c->h->lim.linger_ms > 0) {
        conn_linger(c);
        return;
    }
    if (c->close_after) {
        conn_close(c);
        return;
    }
    c->req_off = c->req_end;
    c->state = C_HEAD;
    c->scan = c->req_off;
    c->chunked = false;
    c->close_after = false;
    c->closecb = NULL;
    if (c->q != NULL) {   /* kept for a pipelined request: nothing of this one */
        c->q->path = NULL;
        c->q->nhdr = 0;
    }
    if (c->req_off == c->in_len) {   /* nothing pipelined: idle, holding nothing */
        buf_release(c);
        req_release(c);
    }
    reading_on(c);
    if (!c->in_process) conn_process(c);
}

void mc_httpd_send(mc_hreq *q, int status, const char *reason, const void *body, size_t len,
                   void (*body_free)(void *), size_t content_length, bool close) {
    mc_hconn *c = q->conn;
    if (c->state != C_BUSY) {
        mc_log(MC_LOG_ERROR, "httpd: a second answer to one request");
        if (body_free) body_free((void *)body);
        return;
    }
    if (close) c->close_after = true;
    if (c->dead) {
        if (body_free) body_free((void *)body);
        after_answer(c);
        return;
    }
    char head[sizeof q->out_text + 512];
    struct iovec iov[2];
    iov[0].iov_base = head;
    iov[0].iov_len = build_head(c, status, reason, content_length, head);
    int n = 1;
    bool no_body = c->is_head || status < 200 || status == 204 || status == 304;
    if (!no_body && len > 0) {
        iov[1].iov_base = (void *)body;
        iov[1].iov_len = len;
        n = 2;
        out_write(c, iov, n, body_free, (void *)body);
    } else {
        out_write(c, iov, n, NULL, NULL);
        if (body_free) body_free((void *)body);
    }
    after_answer(c);
}

void mc_httpd_start(mc_hreq *q, int status, const char *reason, size_t content_length) {
    mc_hconn *c = q->conn;
    if (c->dead) return;
    char head[sizeof q->out_text + 512];
    struct iovec iov[1] = {{head, build_head(c, status, reason, content_length, head)}};
    out_write(c, iov, 1, NULL, NULL);
}

void mc_httpd_write(mc_hreq *q, const void *data, size_t len) {
    mc_hconn *c = q->conn;
    if (c->dead || c->is_head || len == 0) return;
    struct iovec iov[1] = {{(void *)data, len}};
    out_write(c, iov, 1, NULL, NULL);
}

void mc_httpd_end(mc_hreq *q) {
    mc_hconn *c = q->conn;
    if (c->state != C_BUSY) return;
    after_answer(c);
}

void mc_httpd_drop(mc_hreq *q) {
    mc_hconn *c = q->conn;
    if (c->state != C_BUSY) return;
    c->closecb = NULL;
    c->state = C_DONE;
    conn_close(c);
}

void mc_httpd_set_closecb(mc_hreq *q, void (*cb)(void *arg), void *arg) {
    q->conn->closecb = cb;
    q->conn->closearg = arg;
}

bool mc_httpd_gone(const mc_hreq *q) { return q->conn->dead; }

/* Where a request's path starts in the raw bytes of its head, when the
 * request line got that far (a 414 or 431 head, a 408 head cut short):
 * q->path and path_len point into the buffer, up to '?', a blank or the
 * end of what came. */
static void peek_path(mc_hconn *c, mc_hreq *q) {
    const char *p = c->in + c->req_off, *end = c->in + c->in_len;
    q->path = NULL;
    q->path_len = 0;
    if (c->in == NULL) return;
    while (p < end && (*p == '\r' || *p == '\n')) p++;
    while (p < end && *p >= 'A' && *p <= 'Z') p++;
    if (p >= end || *p != ' ') return;
    p++;
    size_t left = (size_t)(end - p);
    if ((left > 7 && strncasecmp(p, "http://", 7) == 0) || (left > 8 && strncasecmp(p, "https://", 8) == 0)) {
        p = memchr(p + 7, '/', (size_t)(end - p - 7));
        if (p == NULL) return;
        const char *a = memchr(p + 1, '/', (size_t)(end - p - 1));
        if (a == NULL) return;
        p = a;
    }
    if (p >= end || *p != '/') return;
    const char *e = p;
    while (e < end && *e != '?' && *e != '#' && *e != ' ' && *e != '\r' && *e != '\n' && *e != '\0') e++;
    q->path = p;
    q->path_len = (size_t)(e - p);
}

/* An error of the server itself (bad request line, too large, too slow):
 * the body in the dialect of the path's service when errfn can tell it
 * (server.c: http.c's mc_wire_error), else plain text; then the
 * connection closes, lingering so that the answer is read. */
static void http_error(mc_hconn *c, int status, const char *reason, const char *message) {
    mc_hreq *q = req_take(c);
    if (q->path == NULL) peek_path(c, q);
    if (q->nhdr < 0 || q->nhdr > MC_HTTPD_MAX_HEADERS) q->nhdr = 0;
    char *text = NULL;
    size_t n = 0;
    const char *ctype = "text/plain; charset=UTF-8";
    if (c->h->errfn != NULL) text = c->h->errfn(q, status, message, &n, &ctype);
    if (text == NULL) {
        char body[512];
        int k = snprintf(body, sizeof body, "%d %s\n\n%s\n", status, reason, message);
        if (k < 0) k = 0;
        if ((size_t)k >= sizeof body) k = (int)sizeof body - 1;
        n = (size_t)k;
        text = malloc(n + 1);
        if (text == NULL) mc_panic("out of memory");
        memcpy(text, body, n + 1);
        ctype = "text/plain; charset=UTF-8";
    }
    if (status == 408) c->h->timeouts++;
    q->nout = 0;
    q->out_used = 0;
    q->keep_alive = false;
    c->is_head = false;
    c->state = C_BUSY;
    c->req_end = c->in_len;
    c->linger = true;
    mc_hreq_out_add(q, "Content-Type", ctype);
    mc_httpd_send(q, status, reason, text, n, free, n, true);
}

/* ------------------------------------------------------------ headers */

const char *mc_hreq_header(const mc_hreq *q, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < q->nhdr; i++)
        if (hname_eq(&q->hdr[i], name, n)) return q->hdr[i].value;
    return NULL;
}

void mc_hreq_out_add(mc_hreq *q, const char *name, const char *value) {
    size_t nl = strlen(name), vl = strlen(value);
    if (q->nout >= MC_HTTPD_MAX_OUT || q->out_used + nl + vl + 2 > sizeof q->out_text) {
        mc_log(MC_LOG_ERROR, "httpd: no room for reply header %s", name);
        return;
    }
    /* no CR or LF may reach the wire inside a header */
    if (strpbrk(value, "\r\n") != NULL || strpbrk(name, "\r\n: ") != NULL) {
        mc_log(MC_LOG_WARN, "httpd: reply header %s has a line break: dropped", name);
        return;
    }
    char *t = q->out_text + q->out_used;
    memcpy(t, name, nl + 1);
    memcpy(t + nl + 1, value, vl + 1);
    q->out[q->nout].name = t;
    q->out[q->nout].value = t + nl + 1;
    q->out[q->nout].nlen = nl;
    q->nout++;
    q->out_used += nl + vl + 2;
}

const char *mc_hreq_out_find(const mc_hreq *q, const char *name) {
    size_t n = strlen(name);
    for (int i = 0; i < q->nout; i++)
        if (hname_eq(&q->out[i], name, n)) return q->out[i].value;
    return NULL;
}

bool mc_hreq_out_remove(mc_hreq *q, const char *name) {
    size_t n = strlen(name);
    int o = 0;
    for (int i = 0; i < q->nout; i++)
        if (!hname_eq(&q->out[i], name, n)) q->out[o++] = q->out[i];
    bool any = o != q->nout;
    q->nout = o;   /* the text stays in out_text until the request ends */
    return any;
}

void mc_hreq_peer(const mc_hreq *q, char *out, size_t outsz) {
    const mc_hconn *c = q->conn;
    if (outsz == 0) return;
    out[0] = '\0';
    if (c->peer.ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)&c->peer)->sin_addr, out, (socklen_t)outsz);
    else if (c->peer.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&c->peer)->sin6_addr, out, (socklen_t)outsz);
}

/* ------------------------------------------------------------ parsing */

static int method_of(const char *m, size_t n) {
    switch (n) {
    case 3:
        if (memcmp(m, "GET", 3) == 0) return EVHTTP_REQ_GET;
        if (memcmp(m, "PUT", 3) == 0) return EVHTTP_REQ_PUT;
        break;
    case 4:
        if (memcmp(m, "POST", 4) == 0) return EVHTTP_REQ_POST;
        if (memcmp(m, "HEAD", 4) == 0) return EVHTTP_REQ_HEAD;
        break;
    case 5:
        if (memcmp(m, "PATCH", 5) == 0) return EVHTTP_REQ_PATCH;
        if (memcmp(m, "TRACE", 5) == 0) return -2;
        break;
    case 6:
        if (memcmp(m, "DELETE", 6) == 0) return EVHTTP_REQ_DELETE;
        break;
    case 7:
        if (memcmp(m, "OPTIONS", 7) == 0) return EVHTTP_REQ_OPTIONS;
        if (memcmp(m, "CONNECT", 7) == 0) return -2;
        break;
    default:
        break;
    }
    for (size_t i = 0; i < n; i++)
        if (m[i] < 'A' || m[i] > 'Z') return -1;
    return -2;   /* a token we do not serve: 501 */
}

static bool is_tchar(unsigned char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != 0 && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* Does the comma-separated header value hold 'tok' (case-insensitive)? */
static bool has_token(const char *v, const char *tok) {
    size_t tl = strlen(tok);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',') v++;
        const char *e = v;
        while (*e && *e != ',') e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t')) t--;
        if ((size_t)(t - v) == tl && strncasecmp(v, tok, tl) == 0) return true;
        v = e;
    }
    return false;
}

/* Parses the head in b[0..len) (len includes the blank line) into q,
 * writing NULs into b. Returns 0, or the status to answer with. */
static int parse_head(char *b, size_t len, mc_hreq *q, const char **why) {
    char *p = b, *end = b + len;
    while (p < end && (*p == '\r' || *p == '\n')) p++;   /* stray CRLFs before a request */
    char *le = memchr(p, '\n', (size_t)(end - p));
    if (le == NULL) return *why = "No request line.", 400;
    char *line_end = le > p && le[-1] == '\r' ? le - 1 : le;
    if (line_end - p > MC_HTTPD_MAX_LINE) return *why = "The request line is longer than 8 KB.", 414;
    /* METHOD SP target SP HTTP/1.x */
    char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    if (sp1 == NULL || sp1 == p) return *why = "Malformed request line.", 400;
    int m = method_of(p, (size_t)(sp1 - p));
    if (m == -1) return *why = "Malformed method.", 400;
    char *t = sp1 + 1;
    char *sp2 = line_end;
    while (sp2 > t && sp2[-1] != ' ') sp2--;
    if (sp2 <= t + 1) return *why = "Malformed request line.", 400;
    char *ver = sp2;
    sp2--;   /* the space before the version */
    if (line_end - ver != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || ver[7] < '0' || ver[7] > '9')
        return *why = "Unsupported protocol version.", ver[0] == 'H' && line_end - ver == 8 ? 505 : 400;
    q->minor = ver[7] - '0';
    for (char *x = t; x < sp2; x++)
        if ((unsigned char)*x <= ' ' || *x == 0x7f) return *why = "Malformed request target.", 400;
    *sp2 = '\0';
    q->uri = t;
    const char *path = t;
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        const char *a = strstr(t, "//") + 2;
        path = a + strcspn(a, "/?");
    }
    if (*path != '/' && !(*path == '*' && path[1] == '\0') && *path != '?' && *path != '\0')
        return *why = "Malformed request target.", 400;
    const char *hash = strchr(path, '#');   /* a fragment is not sent, but if it is: dropped */
    const char *qm = strchr(path, '?');
    if (qm != NULL && hash != NULL && hash < qm) qm = NULL;
    const char *pend = qm ? qm : hash ? hash : sp2;
    q->path = *path == '/' ? path : "/";
    q->path_len = *path == '/' ? (size_t)(pend - path) : 1;
    if (qm != NULL) {
        const char *qe = hash != NULL ? hash : sp2;
        q->query = qm + 1;
        q->query_len = (size_t)(qe - qm - 1);
    } else {
        q->query = NULL;
        q->query_len = 0;
    }
    if (m == -2) return *why = "Method not implemented.", 501;
    q->method = m;

    /* headers, up to the blank line */
    q->nhdr = 0;
    char *last_end = NULL;   /* the NUL after the previous value (folding) */
    p = le + 1;
    for (;;) {
        if (p >= end) return *why = "Unterminated head.", 400;
        le = memchr(p, '\n', (size_t)(end - p));
        if (le == NULL) return *why = "Unterminated head.", 400;
        line_end = le > p && le[-1] == '\r' ? le - 1 : le;
        if (line_end == p) break;   /* the blank line */
        if (*p == ' ' || *p == '\t') {   /* obsolete line folding: one value */
            if (last_end == NULL) return *why = "Folded line without a header.", 400;
            char *v = p;
            while (v < line_end && (*v == ' ' || *v == '\t')) v++;
            char *ve = line_end;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            if (ve > v) {
                *last_end++ = ' ';
                memmove(last_end, v, (size_t)(ve - v));
                last_end += ve - v;
                *last_end = '\0';
            }
            p = le + 1;
            continue;
        }
        char *colon = p;
        while (colon < line_end && is_tchar((unsigned char)*colon)) colon++;
        if (colon == p || colon == line_end || *colon != ':') return *why = "Malformed header.", 400;
        if (q->nhdr >= MC_HTTPD_MAX_HEADERS) return *why = "Too many headers.", 431;
        char *v = colon + 1;
        while (v < line_end && (*v == ' ' || *v == '\t')) v++;
        char *ve = line_end;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t')) ve--;
        if (ve > v && memchr(v, '\0', (size_t)(ve - v)) != NULL) return *why = "NUL in a header.", 400;
        *colon = '\0';
        *ve = '\0';
        q->hdr[q->nhdr].name = p;
        q->hdr[q->nhdr].nlen = (size_t)(colon - p);
        q->hdr[q->nhdr].value = v;
        q->nhdr++;
        last_end = ve;
        p = le + 1;
    }
    const char *conn = mc_hreq_header(q, "Connection");
    if (q->minor >= 1) q->keep_alive = conn == NULL || !has_token(conn, "close");
    else q->keep_alive = conn != NULL && has_token(conn, "keep-alive");
    return 0;
}

/* ------------------------------------------------------------ reading */

/* Room for at least 'want' bytes after in_len. The buffer moves only while
 * no request points into it, or (C_BODY) with the head's pointers moved. */
static void in_reserve(mc_hconn *c, size_t want) {
    if (c->in_cap - c->in_len >= want) return;
    if (c->in == NULL && want <= IN_CHUNK && c->h->nbuf_pool > 0) {
        c->in = c->h->buf_pool[--c->h->nbuf_pool];
        c->in_cap = IN_CHUNK;
        return;
    }
    if (c->state == C_HEAD && c->req_off > 0) {   /* compact first */
        memmove(c->in, c->in + c->req_off, c->in_len - c->req_off);
        c->in_len -= c->req_off;
        c->scan -= c->req_off;
        c->req_off = 0;
        if (c->in_cap - c->in_len >= want) return;
    }
    size_t cap = c->in_cap ? c->in_cap : IN_CHUNK;
    while (cap - c->in_len < want) cap *= 2;
    /* C_BODY: the head's pointers, as offsets across the move */
    mc_hreq *q = c->q;
    bool moving = c->state == C_BODY && c->in != NULL;
    size_t o_uri = 0, o_path = 0, o_query = 0, o_n[MC_HTTPD_MAX_HEADERS], o_v[MC_HTTPD_MAX_HEADERS];
    if (moving) {
        o_uri = (size_t)(q->uri - c->in);
        o_path = (size_t)(q->path - c->in);
        o_query = q->query ? (size_t)(q->query - c->in) : 0;
        for (int i = 0; i < q->nhdr; i++) {
            o_n[i] = (size_t)(q->hdr[i].name - c->in);
            o_v[i] = (size_t)(q->hdr[i].value - c->in);
        }
    }
    char *n = realloc(c->in, cap);
    if (n == NULL) mc_panic("out of memory");
    c->in = n;
    c->in_cap = cap;
    if (moving) {
        q->uri = n + o_uri;
        q->path = n + o_path;
        if (q->query) q->query = n + o_query;
        for (int i = 0; i < q->nhdr; i++) {
            q->hdr[i].name = n + o_n[i];
            q->hdr[i].value = n + o_v[i];
        }
    }
}

/* Finds the end of the head from c->scan: its length from req_off, or 0. */
static size_t head_end(mc_hconn *c) {
    const char *b = c->in;
    size_t i = c->scan > c->req_off + 3 ? c->scan - 3 : c->req_off;
    /* skip CRLFs before the request line: they are not the blank line */
    size_t start = c->req_off;
    while (start < c->in_len && (b[start] == '\r' || b[start] == '\n')) start++;
    if (i < start) i = start;
    for (; i < c->in_len; i++) {
        /* memchr, not a byte loop: ~3 instructions a byte of every head */
        const char *nl = memchr(b + i, '\n', c->in_len - i);
        if (nl == NULL) break;
        i = (size_t)(nl - b);
        if (i + 1 < c->in_len && b[i + 1] == '\n') return i + 2 - c->req_off;
        if (i + 2 < c->in_len && b[i + 1] == '\r' && b[i + 2] == '\n') return i + 3 - c->req_off;
    }
    c->scan = c->in_len;
    return 0;
}

static bool parse_size(const char *v, size_t *out) {
    size_t n = 0;
    if (*v == '\0') return false;
    for (; *v; v++) {
        if (*v < '0' || *v > '9') return false;
        if (n > (SIZE_MAX - 9) / 10) return false;
        n = n * 10 + (size_t)(*v - '0');
    }
    *out = n;
    return true;
}

/* Decodes what the buffer holds of a chunked body. 1 done, 0 more needed,
 * or an HTTP status for the error. */
static int dechunk(mc_hconn *c) {
    char *b = c->in;
    size_t *body_len = &c->q->body_len;
    for (;;) {
        switch (c->ck_state) {
        case CK_SIZE: {
            char *le = memchr(b + c->raw_pos, '\n', c->in_len - c->raw_pos);
            if (le == NULL) return c->in_len - c->raw_pos > 4096 ? 400 : 0;
            const char *x = b + c->raw_pos;
            size_t size = 0;
            int digits = 0;
            for (; x < le; x++, digits++) {
                int d = (*x >= '0' && *x <= '9') ? *x - '0' : (*x >= 'a' && *x <= 'f') ? *x - 'a' + 10
                      : (*x >= 'A' && *x <= 'F') ? *x - 'A' + 10 : -1;
                if (d < 0) break;
                if (digits >= 15) return 400;
                size = size * 16 + (size_t)d;
            }
            if (digits == 0) return 400;
            while (x < le && (*x == ' ' || *x == '\t')) x++;
            if (x < le && *x != ';' && !(*x == '\r' && x + 1 == le)) return 400;   /* ';' starts an extension */
            c->raw_pos = (size_t)(le + 1 - b);
            if (size == 0) {
                c->ck_state = CK_TRAILER;
                c->trailer = 0;
            } else {
                if (size > c->h->max_body || *body_len + size > c->h->max_body) return 413;
                c->ck_left = size;
                c->ck_state = CK_DATA;
            }
            break;
        }
        case CK_DATA: {
            size_t avail = c->in_len - c->raw_pos;
            if (avail == 0) return 0;
            if (avail > c->ck_left) avail = c->ck_left;
            memmove(b + c->body_off + *body_len, b + c->raw_pos, avail);
            *body_len += avail;
            c->raw_pos += avail;
            c->ck_left -= avail;
            if (c->ck_left > 0) return 0;
            c->ck_state = CK_DATA_END;
            break;
        }
        case CK_DATA_END:
            if (c->raw_pos >= c->in_len) return 0;
            if (b[c->raw_pos] == '\n') {
                c->raw_pos++;
            } else if (b[c->raw_pos] == '\r') {
                if (c->raw_pos + 1 >= c->in_len) return 0;
                if (b[c->raw_pos + 1] != '\n') return 400;
                c->raw_pos += 2;
            } else {
                return 400;
            }
            c->ck_state = CK_SIZE;
            break;
        case CK_TRAILER: {
            char *le = memchr(b + c->raw_pos, '\n', c->in_len - c->raw_pos);
            if (le == NULL) return c->trailer + (c->in_len - c->raw_pos) > MC_HTTPD_MAX_HEAD ? 431 : 0;
            size_t ll = (size_t)(le - (b + c->raw_pos));
            c->raw_pos += ll + 1;
            c->trailer += ll + 1;
            if (ll == 0 || (ll == 1 && le[-1] == '\r')) {
                c->req_end = c->raw_pos;
                return 1;
            }
            if (c->trailer > MC_HTTPD_MAX_HEAD) return 431;
            break;   /* a trailer field: ignored */
        }
        default:
            return 400;
        }
    }
}

static const char *reason_of(int status) {
    switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 414: return "Request-URI Too Long";
    case 413: return "Request Entity Too Large";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static void dispatch(mc_hconn *c) {
    mc_hreq *q = c->q;
    q->body = (unsigned char *)c->in + c->body_off;
    q->nout = 0;
    q->out_used = 0;
    c->state = C_BUSY;
    c->h->cb(q, c->h->arg);
}

/* Takes requests from the buffer while the connection is free to. */
static void conn_process(mc_hconn *c) {
    c->in_process = true;
    while (!c->dead && c->oq == NULL) {
        if (c->state == C_HEAD) {
            size_t hl = c->in_len > c->req_off ? head_end(c) : 0;
            if (hl == 0) {
                size_t have = c->in_len - c->req_off;
                if (have == 0) {   /* idle: the idle timeout, nothing held */
                    c->t_head = 0;
                    if (c->tclass != T_IDLE) arm(c, T_IDLE, c->h->lim.idle_ms);
                    break;
                }
                if (have > MC_HTTPD_MAX_LINE && memchr(c->in + c->req_off, '\n', MC_HTTPD_MAX_LINE) == NULL) {
                    http_error(c, 414, reason_of(414), "The request line is longer than 8 KB.");
                    continue;
                }
                if (have > MC_HTTPD_MAX_HEAD) {
                    http_error(c, 431, reason_of(431), "The request head is larger than 64 KB.");
                    continue;
                }
                /* a head in pieces: it must be whole within head_ms of its
                 * first byte, however slowly it trickles (slow loris) */
                long long now = now_ms();
                if (c->t_head == 0) c->t_head = now;
                long long left = c->h->lim.head_ms - (now - c->t_head);
                if (left <= 0) {
                    http_error(c, 408, reason_of(408), "The request head did not arrive in time.");
                    continue;
                }
                arm(c, T_HEAD, (int)left);
                break;
            }
            c->t_head = 0;
            if (hl > MC_HTTPD_MAX_HEAD) {
                http_error(c, 431, reason_of(431), "The request head is larger than 64 KB.");
                continue;
            }
            mc_hreq *q = req_take(c);
            q->path = NULL;
            q->nhdr = 0;
            const char *why = "";
            int st = parse_head(c->in + c->req_off, hl, q, &why);
            c->body_off = c->req_off + hl;
            q->body_len = 0;
            c->is_head = q->method == EVHTTP_REQ_HEAD;
            if (st != 0) {
                q->keep_alive = false;
                http_error(c, st, reason_of(st), why);
                continue;
            }
            const char *te = mc_hreq_header(q, "Transfer-Encoding");
            const char *cl = mc_hreq_header(q, "Content-Length");
            c->chunked = false;
            c->clen = 0;
            if (te != NULL) {
                if (!has_token(te, "chunked")) {
                    http_error(c, 501, reason_of(501), "Transfer-Encoding other than chunked.");
                    continue;
                }
                c->chunked = true;
                c->ck_state = CK_SIZE;
                c->raw_pos = c->body_off;
            } else if (cl != NULL) {
                /* repeated Content-Length headers must agree */
                size_t n = 0;
                bool ok = parse_size(cl, &c->clen);
                for (int i = 0; ok && i < q->nhdr; i++)
                    if (hname_eq(&q->hdr[i], "Content-Length", 14))
                        ok = parse_size(q->hdr[i].value, &n) && n == c->clen;
                if (!ok) {
                    http_error(c, 400, reason_of(400), "Malformed Content-Length.");
                    continue;
                }
                if (c->clen > c->h->max_body) {
                    http_error(c, 413, reason_of(413), "The request body is too large.");
                    continue;
                }
            }
            c->state = C_BODY;
            size_t have = c->in_len - c->body_off;
            const char *expect = mc_hreq_header(q, "Expect");
            if (expect != NULL && q->minor >= 1 && strcasecmp(expect, "100-continue") == 0 &&
                (c->chunked || have < c->clen)) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                struct iovec iov[1] = {{(void *)cont, sizeof cont - 1}};
                out_write(c, iov, 1, NULL, NULL);
                if (c->dead) break;
            }
            if (!c->chunked && have < c->clen) in_reserve(c, c->clen - have);
        }
        if (c->state == C_BODY) {
            if (c->chunked) {
                int r = dechunk(c);
                if (r == 0) break;
                if (r > 1) {
                    c->q->keep_alive = false;
                    http_error(c, r, reason_of(r), r == 413 ? "The request body is too large." : "Malformed chunked body.");
                    continue;
                }
            } else {
                if (c->in_len - c->body_off < c->clen) break;
                c->q->body_len = c->clen;
                c->req_end = c->body_off + c->clen;
            }
            dispatch(c);
            continue;
        }
        break;   /* C_BUSY or C_DONE: the answer resumes us */
    }
    /* a body in pieces: head_ms at the most between two reads */
    if (!c->dead && c->state == C_BODY && c->tclass != T_BODY) arm(c, T_BODY, c->h->lim.head_ms);
    c->in_process = false;
    if (c->free_later) conn_free(c);
}
static void conn_read_cb(evutil_socket_t fd, short what, void *arg) {
    mc_hconn *c = arg;
    (void)fd;
    if (what & EV_TIMEOUT) {
        if (c->state == C_LINGER) {
            conn_close(c);
        } else if (c->state == C_BUSY || c->state == C_DONE || c->oq != NULL) {
            /* answering: the client is waiting for us, not we for it */
        } else if (c->state == C_BODY) {
            http_error(c, 408, reason_of(408), "The request body did not arrive in time.");
        } else if (c->in_len > c->req_off) {
            http_error(c, 408, reason_of(408), "The request head did not arrive in time.");
        } else {
            mc_log(MC_LOG_DEBUG, "httpd: idle connection closed");
            conn_close(c);
        }
        return;
    }
    ssize_t n;
    if (c->state == C_LINGER) {   /* dropped unread */
        char junk[4096];
        do n = read(c->fd, junk, sizeof junk);
        while (n < 0 && errno == EINTR);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ||
            (n > 0 && (c->lingered += (size_t)n) > LINGER_MAX))
            conn_close(c);
        return;
    }
    bool busy = c->state == C_BUSY || c->state == C_DONE || c->oq != NULL;
    if (!busy) in_reserve(c, c->state == C_BODY && !c->chunked ? 1 : IN_CHUNK);
    size_t room = c->in_cap - c->in_len;
    if (room == 0) {   /* busy with a full buffer: wait for the answer */
        reading_off(c);
        return;
    }
    do n = read(c->fd, c->in + c->in_len, room);
    while (n < 0 && errno == EINTR);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        conn_close(c);   /* the client went away */
        return;
    }
    if (n > 0) c->in_len += (size_t)n;
    else if (!busy && c->in_len == 0) buf_release(c);   /* woken for nothing */
    if (!busy) conn_process(c);
}

static void conn_write_cb(evutil_socket_t fd, short what, void *arg) {
    mc_hconn *c = arg;
    (void)fd;
    (void)what;
    if (!oq_flush(c)) return;   /* more to write, or closed */
    event_del(c->wev);
    c->writing = false;
    if (c->state == C_DONE) {
        after_answer(c);
    } else if (c->state != C_BUSY) {   /* a 100 Continue went out: the body may come */
        reading_on(c);
        if (!c->in_process) conn_process(c);
    }
}

/* ------------------------------------------------------------ listening */

/* Accepting stops (the listening event off, so a full fd table or the
 * bound cannot spin the loop on a socket that stays readable); it resumes
 * when a connection closes or, after an accept error, 100 ms later. The
 * clients wait in the listen backlog meanwhile. */
static void accept_pause(mc_httpd *h, bool retry, const char *why) {
    if (!h->paused) {
        h->paused = true;
        h->accept_pauses++;
        event_del(h->lev);
        mc_log(MC_LOG_WARN, "httpd: not accepting for now (%zu connections): %s", h->nconns, why);
    }
    if (retry && h->resume != NULL) {
        struct timeval tv = {0, 100 * 1000};
        evtimer_add(h->resume, &tv);
    }
}

static void resume_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    mc_httpd *h = arg;
    if (h->nconns < (size_t)h->lim.max_conns) accept_resume(h);
}

static void accept_cb(evutil_socket_t lfd, short what, void *arg) {
    mc_httpd *h = arg;
    (void)what;
    for (int i = 0; i < 64; i++) {   /* then the others get a turn */
        if (h->nconns >= (size_t)h->lim.max_conns) {
            accept_pause(h, false, "the connection bound is reached");
            return;
        }
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            accept_pause(h, true, strerror(errno));   /* EMFILE, ENFILE, ENOBUFS, ENOMEM */
            return;
        }
        conn_new(h, fd, (struct sockaddr *)&ss, sl);
    }
}

static void limits_default(mc_httpd_limits *lim) {
    lim->idle_ms = MC_HTTPD_IDLE_S * 1000;
    lim->head_ms = 30 * 1000;
    lim->linger_ms = 2000;
    struct rlimit rl;
    long n = 4096;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) n = (long)rl.rlim_cur - 64;
    if (n > 65536) n = 65536;
    if (n < 16) n = 16;
    lim->max_conns = (int)n;
}

void mc_httpd_set_errfn(mc_httpd *h, mc_httpd_errfn fn) { h->errfn = fn; }

void mc_httpd_get_limits(const mc_httpd *h, mc_httpd_limits *lim) { *lim = h->lim; }

void mc_httpd_set_limits(mc_httpd *h, const mc_httpd_limits *lim) {
    h->lim = *lim;
    if (h->lim.idle_ms < 1) h->lim.idle_ms = 1;
    if (h->lim.head_ms < 1) h->lim.head_ms = 1;
    if (h->lim.linger_ms < 0) h->lim.linger_ms = 0;
    if (h->lim.max_conns < 1) h->lim.max_conns = 1;
    if (h->paused && h->nconns < (size_t)h->lim.max_conns) accept_resume(h);
}

void mc_httpd_get_stats(const mc_httpd *h, mc_httpd_stats *st) {
    memset(st, 0, sizeof *st);
    st->conns = h->nconns;
    st->accept_pauses = h->accept_pauses;
    st->timeouts = h->timeouts;
    for (const mc_hconn *c = h->conns; c != NULL; c = c->next) {
        st->bytes += sizeof *c + c->in_cap + (c->q != NULL ? sizeof *c->q : 0);
        for (const oseg *o = c->oq; o != NULL; o = o->next) st->bytes += sizeof *o + (o->free ? 0 : o->len);
    }
    st->pooled = (size_t)h->nbuf_pool * IN_CHUNK + (size_t)h->nreq_pool * sizeof(mc_hreq);
}

mc_httpd *mc_httpd_new_unbound(struct event_base *base, size_t max_body, mc_httpd_cb cb, void *arg) {
    mc_httpd *h = calloc(1, sizeof *h);
    if (h == NULL) mc_panic("out of memory");
    h->base = base;
    h->lfd = -1;
    h->max_body = max_body;
    h->cb = cb;
    h->arg = arg;
    limits_default(&h->lim);
    h->resume = evtimer_new(base, resume_cb, h);
    if (h->resume == NULL) mc_panic("cannot make a timer");
    return h;
}

void mc_httpd_adopt(mc_httpd *h, int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    conn_new(h, fd, NULL, 0);
}

mc_httpd *mc_httpd_new(struct event_base *base, const char *host, int port, size_t max_body, mc_httpd_cb cb,
                       void *arg, char *err, size_t errsz) {
    mc_httpd *h = mc_httpd_new_unbound(base, max_body, cb, arg);
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errsz, "cannot resolve %s: %s", host, gai_strerror(rc));
        goto fail;
    }
    int one = 1;
    h->lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (h->lfd < 0 || setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(h->lfd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(h->lfd, 1024) != 0) {
        snprintf(err, errsz, "cannot listen on %s:%d (in use?): %s", host, port, strerror(errno));
        freeaddrinfo(ai);
        goto fail;
    }
    freeaddrinfo(ai);
    /* Linux hands TCP_NODELAY on to accepted sockets: no 40 ms delayed-ACK
     * stall when a reply leaves in two segments. */
    setsockopt(h->lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    h->port = port;
    if (getsockname(h->lfd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) h->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        else if (ss.ss_family == AF_INET6) h->port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    h->lev = event_new(base, h->lfd, EV_READ | EV_PERSIST, accept_cb, h);
    if (h->lev == NULL || event_add(h->lev, NULL) != 0) {
        snprintf(err, errsz, "cannot watch the listening socket");
        goto fail;
    }
    return h;
fail:
    mc_httpd_free(h);
    return NULL;
}

int mc_httpd_port(const mc_httpd *h) { return h->port; }

void mc_httpd_free(mc_httpd *h) {
    if (h == NULL) return;
    while (h->conns != NULL) {
        mc_hconn *c = h->conns;
        c->closecb = NULL;
        c->state = C_DONE;
        c->in_process = false;
        c->free_later = false;
        conn_close(c);   /* frees it: not busy any more */
    }
    if (h->lev) event_free(h->lev);
    if (h->resume) event_free(h->resume);
    if (h->lfd >= 0) close(h->lfd);
    while (h->nbuf_pool > 0) free(h->buf_pool[--h->nbuf_pool]);
    while (h->nreq_pool > 0) free(h->req_pool[--h->nreq_pool]);
    free(h);
}
