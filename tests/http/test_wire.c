/* HTTP tests on the wire: raw sockets against the in-process server
 * (httpd.c under the router): keep-alive, pipelining, Connection: close,
 * HTTP/1.0, a chunked upload and a client that leaves mid-request. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

static void setup(void) { mc_test_start(NULL); }
static void teardown(void) { mc_test_stop(); }

TestSuite(wire, .init = setup, .fini = teardown);

static int dial(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(ge(int, fd, 0));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)T.srv->port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert(eq(int, connect(fd, (struct sockaddr *)&sa, sizeof sa), 0));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* Sends 's', runs the loop, returns what came back (static); *eof when the
 * server closed. */
static const char *exchange(int fd, const char *s, bool *eof) {
    static char buf[1 << 16];
    size_t n = 0;
    if (s != NULL) cr_assert(eq(sz, (size_t)send(fd, s, strlen(s), MSG_NOSIGNAL), strlen(s)));
    *eof = false;
    for (int i = 0; i < 10; i++) {
        mc_test_sleep_ms(10);
        for (;;) {
            ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
            if (r > 0) {
                n += (size_t)r;
                continue;
            }
            if (r == 0) *eof = true;
            break;
        }
        if (*eof) break;
    }
    buf[n] = '\0';
    return buf;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

Test(wire, keep_alive_and_pipelining) {
    int fd = dial();
    bool eof;
    const char *got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\nHost: x\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    cr_expect(mc_not(eof), "keep-alive by default");
    got = exchange(fd, "GET /identity/v3 HTTP/1.1\r\n\r\nGET /compute/v2.1/nope HTTP/1.1\r\n\r\n"
                       "GET /network HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, count(got, "HTTP/1.1 "), 3), "%s", got);
    const char *a = strstr(got, "HTTP/1.1 200"), *b = strstr(got, "HTTP/1.1 404"), *c = strstr(got, "\"versions\"");
    cr_expect(a != NULL && b != NULL && c != NULL && a < b, "%s", got);
    cr_expect(mc_not(eof));
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, connection_close_and_http10) {
    int fd = dial();
    bool eof;
    const char *got = exchange(fd, "GET /identity HTTP/1.1\r\nConnection: close\r\n\r\n", &eof);
    cr_expect(mc_not(strstr(got, "\r\nConnection: close\r\n") == NULL), "%s", got);
    cr_expect(eq(int, count(got, "\r\nConnection:"), 1), "one Connection header: %s", got);
    cr_expect(eof);
    close(fd);
    fd = dial();
    got = exchange(fd, "GET /identity/v3 HTTP/1.0\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    cr_expect(eof, "HTTP/1.0 closes");
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, chunked_json_body_and_head) {
    int fd = dial();
    bool eof;
    const char *body = "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"demo\","
                       "\"domain\":{\"name\":\"Default\"},\"password\":\"secret\"}}}}}";
    char req[2048];
    size_t half = strlen(body) / 2;
    snprintf(req, sizeof req,
             "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
             "\r\n%zx;x=y\r\n%.*s\r\n%zx\r\n%s\r\n0\r\n\r\n",
             half, (int)half, body, strlen(body) - half, body + half);
    const char *got = exchange(fd, req, &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 201 Created\r\n", 22), 0), "%s", got);
    cr_expect(mc_not(strstr(got, "\r\nX-Subject-Token: ") == NULL), "%s", got);
    got = exchange(fd, "HEAD /identity/v3 HTTP/1.1\r\n\r\n", &eof);
    cr_expect(eq(int, strncmp(got, "HTTP/1.1 200 OK\r\n", 17), 0), "%s", got);
    const char *end = strstr(got, "\r\n\r\n");
    cr_expect(end != NULL && end[4] == '\0', "HEAD: no body: %s", got);
    cr_expect(mc_not(strstr(got, "Content-Length: 0\r\n") != NULL), "HEAD: the GET's length");
    close(fd);
    mc_assert_no_leaks();
}

Test(wire, client_leaves_mid_request_and_mid_body) {
    int fd = dial();
    bool eof;
    exchange(fd, "POST /identity/v3/auth/tokens HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"auth\"", &eof);
    close(fd);
    fd = dial();
    exchange(fd, "GET /identity/v3 HTT", &eof);
    close(fd);
    mc_test_sleep_ms(20);
    mc_expect_status(mc_call(EVHTTP_REQ_GET, "/identity/v3", NULL, NULL, NULL), 200);
    mc_assert_no_leaks();
}
