/* The guest's command interpreter (guest_shell.c): the exact command lines
 * Tempest's remote_client sends, the shell grammar around them, and what a
 * guest must answer for anything else. */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest.h"
#include "harness.h"
#include "util.h"

#define PROLOGUE "set -eu -o pipefail; PATH=$PATH:/sbin:/usr/sbin; "

static mc_guest_facts F;

static void facts(void) {
    memset(&F, 0, sizeof F);
    mc_strlcpy(F.hostname, "tempest-serverstestjson-server-1234", sizeof F.hostname);
    mc_strlcpy(F.user, "cirros", sizeof F.user);
    F.vcpus = 3;
    F.ram_mb = 2048;
    F.uptime_s = 125;
    F.ndisks = 2;
    mc_strlcpy(F.disks[0].name, "vda", sizeof F.disks[0].name);
    F.disks[0].bytes = 20ULL << 30;
    F.disks[0].major = 253;
    mc_strlcpy(F.disks[1].name, "vdb", sizeof F.disks[1].name);
    F.disks[1].bytes = 1ULL << 30;
    F.disks[1].major = 253;
    F.disks[1].minor = 16;
    F.nnics = 2;
    mc_strlcpy(F.nics[0].name, "eth0", sizeof F.nics[0].name);
    mc_strlcpy(F.nics[0].mac, "fa:16:3e:00:00:01", sizeof F.nics[0].mac);
    mc_strlcpy(F.nics[0].addrs[0], "10.0.0.5/24", sizeof F.nics[0].addrs[0]);
    mc_strlcpy(F.nics[0].addrs[1], "fd12::5/64", sizeof F.nics[0].addrs[1]);
    F.nics[0].naddrs = 2;
    mc_strlcpy(F.nics[1].name, "eth1", sizeof F.nics[1].name);
    mc_strlcpy(F.nics[1].mac, "fa:16:3e:00:00:02", sizeof F.nics[1].mac);
    mc_strlcpy(F.nics[1].addrs[0], "192.168.7.9/26", sizeof F.nics[1].addrs[0]);
    F.nics[1].naddrs = 1;
}

TestSuite(guest_shell, .init = facts);

/* Runs 'cmd'; checks the exit status, stdout (exact, or NULL = any) and
 * stderr (a substring, NULL = must be empty). */
static void run(const char *cmd, int status, const char *out, const char *err) {
    char *o, *e;
    int rc = mc_guest_shell(&F, cmd, &o, &e);
    cr_expect(eq(int, rc, status), "%s: status (stdout '%s' stderr '%s')", cmd, o, e);
    if (out) cr_expect(eq(str, o, (char *)out), "%s: stdout", cmd);
    if (err) cr_expect(strstr(e, err) != NULL, "%s: stderr '%s' lacks '%s'", cmd, e, err);
    else cr_expect(eq(str, e, ""), "%s: stderr", cmd);
    free(o);
    free(e);
}

__attribute__((noinline)) static char *out_of(const char *cmd) {
    char *o, *e;
    (void)mc_guest_shell(&F, cmd, &o, &e);
    free(e);
    return o;
}

Test(guest_shell, tempest_commands) {
    run(PROLOGUE "hostname", 0, "tempest-serverstestjson-server-1234\n", NULL);
    run(PROLOGUE "grep -c ^processor /proc/cpuinfo", 0, "3\n", NULL);
    run(PROLOGUE "cat /proc/cpuinfo | grep processor | wc -l", 0, "3\n", NULL);
    run(PROLOGUE "cut -f1 -d. /proc/uptime", 0, "125\n", NULL);
    run(PROLOGUE "cat /etc/hostname", 0, "tempest-serverstestjson-server-1234\n", NULL);
    run("set -eu -o pipefail; PATH=$PATH:/sbin; nproc", 0, "3\n", NULL);
    F.vcpus = 1;
    run(PROLOGUE "grep -c ^processor /proc/cpuinfo", 0, "1\n", NULL);
    mc_assert_no_leaks();
}

/* lsblk as Tempest's get_disks reads it: the TYPE column lines up with
 * "disk" on each disk line, sizes in bytes. */
Test(guest_shell, lsblk_lines_up_for_get_disks) {
    char *txt = out_of(PROLOGUE "lsblk -lb --nodeps");
    const char *type = strstr(txt, "TYPE");
    cr_assert(type != NULL);
    size_t pos = (size_t)(type - txt), start = strcspn(txt, "\n") + 1, len = strlen(txt);
    cr_expect(strncmp(txt, "NAME ", 5) == 0, "%s", txt);
    int disks = 0;
    while (start < len) {
        size_t end = start + strcspn(txt + start, "\n");
        cr_expect(end - start > pos + 4 && strncmp(txt + start + pos, "disk", 4) == 0, "line '%.60s'", txt + start);
        disks++;
        start = end + 1;
    }
    cr_expect(eq(int, disks, 2));
    cr_expect(strstr(txt, "vda") != NULL && strstr(txt, " 21474836480 ") != NULL, "%s", txt);
    cr_expect(strstr(txt, "vdb") != NULL && strstr(txt, " 1073741824 ") != NULL, "%s", txt);
    free(txt);
    char *h = out_of("lsblk -l --nodeps");
    cr_expect(strstr(h, "20G") != NULL && strstr(h, "1G") != NULL, "%s", h);
    free(h);
    mc_assert_no_leaks();
}

Test(guest_shell, meminfo_and_ip) {
    char *o = out_of("grep MemTotal /proc/meminfo");
    long kb = 0;
    cr_assert(eq(int, sscanf(o, "MemTotal: %ld kB", &kb), 1), "%s", o);
    cr_expect(kb > 2048L * 1024 * 9 / 10 && kb <= 2048L * 1024, "MemTotal %ld", kb);
    free(o);
    run("ip -o addr | awk '/inet / {print $2, $4}'", 0, "lo 127.0.0.1/8\neth0 10.0.0.5/24\neth1 192.168.7.9/26\n", NULL);
    o = out_of("ip addr show eth1");
    cr_expect(strstr(o, "link/ether fa:16:3e:00:00:02") != NULL && strstr(o, "brd 192.168.7.63") != NULL, "%s", o);
    cr_expect(strstr(o, "eth0") == NULL, "%s", o);
    free(o);
    run("ip addr | awk '/ether/ {print $2}'", 0, "fa:16:3e:00:00:01\nfa:16:3e:00:00:02\n", NULL);
    run("ip -o link | awk '/fa:16:3e:00:00:02/ {print $2}'", 0, "eth1:\n", NULL);
    run("ip addr show eth7", 1, "", "Device \"eth7\" does not exist.");
    mc_assert_no_leaks();
}

Test(guest_shell, unknown_commands_and_status) {
    run("frobnicate --now", 127, "", "sh: frobnicate: not found");
    run(PROLOGUE "frobnicate; hostname", 127, "", "frobnicate: not found");   /* set -e stops */
    run("frobnicate; hostname", 0, "tempest-serverstestjson-server-1234\n", "not found");
    run("false", 1, "", NULL);
    run("true && echo yes || echo no", 0, "yes\n", NULL);
    run("false && echo yes || echo no", 0, "no\n", NULL);
    run("exit 3; echo never", 3, "", NULL);
    run("cat /nonexistent", 1, "", "cat: /nonexistent: No such file or directory");
    run("false | true", 0, "", NULL);
    run("set -o pipefail; false | true", 1, "", NULL);
    run("echo 'it''s' \"a \\\"b\\\"\" c\\ d", 0, "its a \"b\" c d\n", NULL);
    run("echo 'open", 2, "", "unterminated");
    run("/usr/local/bin/hostname", 127, "", "not found");
    run("/bin/hostname -s", 0, "tempest-serverstestjson-server-1234\n", NULL);
    mc_assert_no_leaks();
}

Test(guest_shell, users_sudo_and_redirections) {
    run("id -u; sudo id -u; id -un", 0, "1000\n0\ncirros\n", NULL);
    char *o = out_of("whoami; sudo whoami");
    cr_expect(eq(str, o, "cirros\nroot\n"));
    free(o);
    run("sudo -n hostname", 0, "tempest-serverstestjson-server-1234\n", NULL);
    run("sudo nosuch", 1, "", "sudo: nosuch: command not found");
    run("nosuch 2>/dev/null", 127, "", NULL);
    run("nosuch 2>&1", 127, "sh: nosuch: not found\n", NULL);
    run("hostname >/dev/null", 0, "", NULL);
    run("hostname > /etc/x", 1, "", "Read-only file system");
    run("sh -c 'echo a; echo b' | wc -l", 0, "2\n", NULL);
    run("uname -sm", 0, "Linux x86_64\n", NULL);
    run("head -n 1 /proc/cpuinfo", 0, "processor\t: 0\n", NULL);
    run("grep -v processor /proc/cpuinfo | grep -c ^processor", 1, "0\n", NULL);
    mc_assert_no_leaks();
}
