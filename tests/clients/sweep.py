#!/usr/bin/python3
"""sweep.py -- the openstack CLI and openstacksdk, unchanged, against mockcloud.

Starts bin/mockcloud on a port the kernel picks (or uses --url), writes the
clouds.yaml that `mockcloud clouds-yaml` prints for it (clouds mockcloud,
mockcloud-alt, mockcloud-admin) and runs the common user workflows of every
service: first with the openstack CLI (python3-openstackclient), then with
openstacksdk (its proxies and its cloud layer). One line per step:
"OK", "FAIL: <the client's error>" or "SKIP: <why>". Exit 1 if a step failed
(on a deviant profile that is a finding, see --profile), 2 on a usage error.

The CLI runs in this process by default (openstackclient.shell.main(argv),
the code /usr/bin/openstack runs, without a python start-up per command);
--fork runs /usr/bin/openstack for every step instead (about 1 s a step).
In both modes the clients' waits (`--wait`, wait=True) poll at most every
0.25 s instead of 2-5 s: time.sleep is capped in this process, and for
--fork through sitecustomize on PYTHONPATH. Nothing else is changed.

Usage: tests/clients/sweep.py [--profile NAME] [--deviate ID[=V]]...
                              [--only cli|sdk] [--fork] [--url URL] [-v]
"""
import argparse
import contextlib
import hashlib
import io
import json
import logging
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import traceback

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IMAGE = "cirros-0.6.2-x86_64-disk"
FLAVOR = "m1.nano"
FLAVOR2 = "m1.micro"

_real_sleep = time.sleep


def _short_sleep(s):
    _real_sleep(min(s, 0.25))


class StepFailed(Exception):
    pass


class StepTimeout(BaseException):   # not an Exception: the clients' "except Exception" must not swallow it
    pass


STEP_TIMEOUT = 180


def _step_timeout(signum, frame):
    raise StepTimeout()


class Sweep:
    def __init__(self, args, url, workdir):
        self.args = args
        self.url = url
        self.work = workdir
        self.results = []   # (section, label, status, detail)
        self.section = ""
        self.clouds = os.path.join(workdir, "clouds.yaml")
        self.ext = set()

    # ---- reporting -------------------------------------------------------
    def report(self, label, status, detail=""):
        self.results.append((self.section, label, status, detail))
        line = "  %-58s %s" % (label[:58], status)
        if detail:
            line += ": " + detail
        print(line, flush=True)

    def step(self, label, fn, *a, **kw):
        """Runs fn; OK unless it raises. Returns fn's value or None."""
        t = time.time()
        try:
            v = fn(*a, **kw)
        except StepFailed as e:
            self.report(label, "FAIL", str(e))
            return None
        except Exception as e:  # the client's exception, as a user sees it
            msg = "%s: %s" % (type(e).__name__, " ".join(str(e).split()))
            self.report(label, "FAIL", msg[:400])
            if self.args.verbose:
                traceback.print_exc()
            return None
        dt = time.time() - t
        self.report(label, "OK", "(%.1fs)" % dt if dt > 3 else "")
        return v if v is not None else True

    def skip(self, label, why):
        self.report(label, "SKIP", why)

    # ---- the CLI -----------------------------------------------------------
    def osc(self, cloud, argv):
        """Runs `openstack --os-cloud CLOUD ARGV...`: (rc, stdout, stderr).
        Without a cloud (a user given by --os-* options) always forked: in
        this process the last cloud's project would win."""
        full = (["--os-cloud", cloud] if cloud else []) + argv
        if self.args.fork or not cloud:
            env = dict(os.environ, OS_CLIENT_CONFIG_FILE=self.clouds,
                       PYTHONPATH=self.shim + os.pathsep + os.environ.get("PYTHONPATH", ""))
            try:
                p = subprocess.run(["openstack"] + full, capture_output=True, text=True,
                                   env=env, timeout=STEP_TIMEOUT * 2)
            except subprocess.TimeoutExpired:
                return 1, "", "the command did not finish in %d s" % (STEP_TIMEOUT * 2)
            return p.returncode, p.stdout, p.stderr
        from openstackclient import shell as osc_shell
        _forget_clients()
        out, err = io.StringIO(), io.StringIO()
        root = logging.getLogger()
        handlers = list(root.handlers)
        old = signal.signal(signal.SIGALRM, _step_timeout)
        signal.alarm(STEP_TIMEOUT)   # a client that loops (a page repeated forever) fails the step
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                rc = osc_shell.main(full)
            except SystemExit as e:
                rc = e.code if isinstance(e.code, int) else 1
            except StepTimeout:
                rc = 1
                print("the command did not finish in %d s" % STEP_TIMEOUT, file=sys.stderr)
            finally:
                signal.alarm(0)
                signal.signal(signal.SIGALRM, old)
        for h in list(root.handlers):
            if h not in handlers:
                root.removeHandler(h)
        return rc, out.getvalue(), err.getvalue()

    def cli(self, argv, cloud="mockcloud", json_out=False):
        if isinstance(argv, str):
            argv = shlex.split(argv)
        if json_out:
            argv = argv + ["-f", "json"]
        rc, out, err = self.osc(cloud, argv)
        if rc != 0:
            lines = [ln for ln in (err + out).splitlines() if ln.strip()]
            raise StepFailed(" | ".join(lines[-2:])[:400] if lines else "exit %s" % rc)
        if json_out:
            try:
                return json.loads(out)
            except ValueError:
                raise StepFailed("output is not JSON: %r" % out[:200])
        return out

    def q(self, argv, cloud="mockcloud"):
        """A setup or cleanup command, not a step: its output, "" if it failed."""
        try:
            return self.cli(argv, cloud)
        except StepFailed:
            return ""

    def c(self, label, argv, cloud="mockcloud", json_out=False, check=None):
        """A CLI step: runs, optionally checks the parsed output."""
        def run():
            v = self.cli(argv, cloud, json_out)
            if check is not None:
                why = check(v)
                if why:
                    raise StepFailed(why)
            return v
        return self.step(label, run)

    def wait_status(self, name, status, cloud="mockcloud", timeout=60):
        """Polls `server show` until status (the way a script would)."""
        end = time.time() + timeout
        last = None
        while time.time() < end:
            s = self.cli(["server", "show", name], cloud, json_out=True)
            last = s.get("status")
            if last == status:
                return s
            if last == "ERROR":
                break
            time.sleep(0.2)
        raise StepFailed("server %s is %s, not %s" % (name, last, status))

    # ---- the mock's control API (setup only, never a client step) ----------
    def control(self, method, path, body=None):
        import urllib.request
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + "/mockcloud/v1" + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read() or b"null")


_VOLUME_VERSIONS = None


def _forget_clients():
    """osc_lib's ClientCache keeps each client handle on the class (once
    per process, as /usr/bin/openstack runs once): forget them between
    in-process commands, or the next cloud would reuse the last one's."""
    from osc_lib import clientmanager as base
    from openstackclient.common import clientmanager as osc_cm
    from openstackclient.volume import client as volume_client
    # volume's make_client deletes API_VERSIONS['1'] once per process
    global _VOLUME_VERSIONS
    if _VOLUME_VERSIONS is None:
        _VOLUME_VERSIONS = dict(volume_client.API_VERSIONS)
    volume_client.API_VERSIONS.clear()
    volume_client.API_VERSIONS.update(_VOLUME_VERSIONS)
    for cls in osc_cm.ClientManager.__mro__:
        for v in vars(cls).values():
            if isinstance(v, base.ClientCache):
                v._handle = None


def has(items, key, value):
    return any(i.get(key) == value for i in items)


def need(cond, why):
    return None if cond else why


# =========================================================================
# The openstack CLI
# =========================================================================

def cli_identity(s):
    s.section = "cli identity"
    print("== openstack CLI: identity")
    A = "mockcloud-admin"
    s.c("token issue", "token issue", json_out=True,
        check=lambda t: need(t.get("id") and t.get("project_id"), "no id/project_id: %s" % t))
    s.c("catalog list", "catalog list", json_out=True,
        check=lambda c: need({"compute", "network", "image", "identity"} <= {x["Type"] for x in c},
                             "types %s" % [x["Type"] for x in c]))
    s.c("catalog show compute", "catalog show compute", json_out=True)
    s.c("region list", "region list", json_out=True,
        check=lambda r: need(has(r, "Region", "RegionOne"), "no RegionOne: %s" % r))
    s.c("endpoint list (admin)", "endpoint list", A, json_out=True,
        check=lambda r: need(len(r) >= 12, "%d endpoints" % len(r)))
    s.c("endpoint list --service compute --interface public (admin)",
        "endpoint list --service compute --interface public", A, json_out=True,
        check=lambda r: need(len(r) == 1, "%d endpoints" % len(r)))
    s.c("service list (admin)", "service list --long", A, json_out=True)
    s.c("project list (admin)", "project list --long", A, json_out=True,
        check=lambda r: need(has(r, "Name", "demo"), "no demo"))
    s.c("project create (admin)", "project create --description sweep sweep-proj", A, json_out=True)
    s.c("project show by name (admin)", "project show sweep-proj", A, json_out=True,
        check=lambda p: need(p.get("description") == "sweep", "description %r" % p.get("description")))
    s.c("project set --description (admin)", "project set --description changed sweep-proj", A)
    s.c("user create (admin)",
        "user create --password S3cret-1 --project sweep-proj --email u@example.org sweep-user", A, json_out=True)
    s.c("user list --project (admin)", "user list --project sweep-proj", A, json_out=True)
    s.c("user list --long (admin)", "user list --long", A, json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-user"), "no sweep-user"))
    s.c("user show by name (admin)", "user show sweep-user", A, json_out=True,
        check=lambda u: need(u.get("email") == "u@example.org", "email %r" % u.get("email")))
    s.c("user set --email (admin)", "user set --email v@example.org sweep-user", A)
    s.c("role list", "role list", A, json_out=True,
        check=lambda r: need(has(r, "Name", "member"), "no member role"))
    s.c("role show member (admin)", "role show member", A, json_out=True)
    s.c("role create (admin)", "role create sweep-role", A, json_out=True)
    s.c("role add --user --project (admin)", "role add --user sweep-user --project sweep-proj member", A)
    s.c("role add sweep-role (admin)", "role add --user sweep-user --project sweep-proj sweep-role", A)
    s.c("role assignment list --names --user (admin)",
        "role assignment list --names --user sweep-user", A, json_out=True,
        check=lambda r: need(any(x["Role"] == "member" and x["Project"].startswith("sweep-proj") for x in r),
                             "no member@sweep-proj: %s" % r))
    s.c("role assignment list --project --names (admin)",
        "role assignment list --project sweep-proj --names", A, json_out=True,
        check=lambda r: need(len(r) >= 2, "%d assignments" % len(r)))
    s.c("role assignment list --effective --user (admin)",
        "role assignment list --effective --user sweep-user", A, json_out=True)
    s.step("role assignment list as a member: 403 (Keystone's default policy)", expect_error, s,
           "role assignment list --user demo --project demo --names", "mockcloud",
           r"identity:list_role_assignments. \(HTTP 403\)")
    s.c("role remove (admin)", "role remove --user sweep-user --project sweep-proj sweep-role", A)
    s.c("role delete (admin)", "role delete sweep-role", A)
    s.c("group create (admin)", "group create --description g sweep-group", A, json_out=True)
    s.c("group list (admin)", "group list", A, json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-group"), "no sweep-group"))
    s.c("group show (admin)", "group show sweep-group", A, json_out=True)
    s.c("group add user (admin)", "group add user sweep-group sweep-user", A)
    s.c("group contains user (admin)", "group contains user sweep-group sweep-user", A)
    s.c("user list --group (admin)", "user list --group sweep-group", A, json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-user"), "no sweep-user"))
    s.c("group remove user (admin)", "group remove user sweep-group sweep-user", A)
    s.c("group delete (admin)", "group delete sweep-group", A)
    s.c("application credential create", "application credential create --description ac sweep-ac",
        json_out=True, check=lambda a: need(a.get("secret"), "no secret"))
    s.c("application credential list", "application credential list", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-ac"), "no sweep-ac"))
    s.c("application credential show", "application credential show sweep-ac", json_out=True)
    s.c("application credential delete", "application credential delete sweep-ac")
    # a user not in clouds.yaml: the CLI's --os-* options (a cloud's project_name would win)
    new = ("--os-auth-url %s/identity/v3 --os-identity-api-version 3 --os-user-domain-name Default "
           "--os-project-domain-name Default --os-project-name sweep-proj --os-username sweep-user " % s.url)
    s.c("user password set (the new user, self-service)",
        new + "--os-password S3cret-1 user password set --password S3cret-2 --original-password S3cret-1", None)
    s.c("token issue with the new password", new + "--os-password S3cret-2 token issue", None, json_out=True)
    s.c("user delete (admin)", "user delete sweep-user", A)
    s.c("project delete (admin)", "project delete sweep-proj", A)
    s.step("project show of a deleted project fails clearly", expect_error, s,
           "project show sweep-proj", A, r"(No project with a name or ID|could not be found)")


def expect_error(s, argv, cloud, pattern):
    try:
        s.cli(argv, cloud)
    except StepFailed as e:
        if not re.search(pattern, str(e)):
            raise StepFailed("error %r does not match %r" % (str(e), pattern))
        return
    raise StepFailed("the command succeeded")


def cli_compute(s):
    s.section = "cli compute"
    print("== openstack CLI: compute")
    A = "mockcloud-admin"
    s.c("flavor list", "flavor list", json_out=True,
        check=lambda r: need(has(r, "Name", FLAVOR), "no " + FLAVOR))
    s.c("flavor list --long", "flavor list --long", json_out=True)
    s.c("flavor list --all (admin)", "flavor list --all", A, json_out=True)
    s.c("flavor show by name", "flavor show " + FLAVOR, json_out=True,
        check=lambda f: need(f.get("ram") == 128, "ram %r" % f.get("ram")))
    key = s.c("keypair create", "keypair create sweep-key")
    if key and "PRIVATE KEY" not in key:
        s.report("keypair create prints a private key", "FAIL", key[:80])
    pub = os.path.join(s.work, "k.pub")
    with open(pub, "w") as f:
        f.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGh0dHBzOi8vZXhhbXBsZS5vcmcvc3dlZXAta2V5LXRlc3Q sweep\n")
    s.c("keypair create --public-key", ["keypair", "create", "--public-key", pub, "sweep-key2"], json_out=True)
    s.c("keypair list", "keypair list", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-key") and has(r, "Name", "sweep-key2"), "keys: %s" % r))
    s.c("keypair show", "keypair show sweep-key", json_out=True)
    s.c("keypair show --public-key", "keypair show --public-key sweep-key2",
        check=lambda o: need(o.startswith("ssh-ed25519"), o[:60]))
    s.c("security group create (for the server)", "security group create sweep-srv-sg", json_out=True)
    ud = os.path.join(s.work, "user-data.yaml")
    with open(ud, "w") as f:
        f.write("#cloud-config\nhostname: sweep\n")
    vm = s.c("server create --wait --network --key-name --security-group --user-data --property",
             ["server", "create", "--wait", "--image", IMAGE, "--flavor", FLAVOR, "--network", "private",
              "--key-name", "sweep-key", "--security-group", "sweep-srv-sg", "--user-data", ud,
              "--property", "role=web", "sweep-vm1"], json_out=True,
             check=lambda v: need(v.get("status") == "ACTIVE", "status %r" % v.get("status")))
    net = s.q("network show private -f value -c id").strip() if vm else None
    vm2 = s.c("server create --wait --nic net-id=", ["server", "create", "--wait", "--image", IMAGE, "--flavor",
                                                      FLAVOR, "--nic", "net-id=%s" % net, "sweep-vm2"],
              json_out=True) if net else None
    if not vm:
        s.skip("the server steps", "server create failed")
        return
    s.c("server list", "server list", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-vm1") and has(r, "Name", "sweep-vm2"), "names %s" % r))
    s.c("server list --long", "server list --long", json_out=True,
        check=lambda r: need(all("Availability Zone" in x and "Host" in x for x in r), "columns %s" % r[:1]))
    s.c("server list --name", "server list --name sweep-vm1", json_out=True,
        check=lambda r: need(len(r) == 1, "%d servers" % len(r)))
    s.c("server list --status ACTIVE", "server list --status ACTIVE", json_out=True,
        check=lambda r: need(len(r) >= 2, "%d servers" % len(r)))
    first = s.c("server list --limit 1", "server list --limit 1", json_out=True,
                check=lambda r: need(len(r) == 1, "%d servers" % len(r)))
    if first:
        s.c("server list --limit 1 --marker", ["server", "list", "--limit", "1", "--marker", first[0]["ID"]],
            json_out=True, check=lambda r: need(len(r) == 1 and r[0]["ID"] != first[0]["ID"], "page %s" % r))
    s.c("server list --all-projects (admin)", "server list --all-projects --long", A, json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-vm1"), "no sweep-vm1"))
    s.c("server list --all-projects --project demo (admin)", "server list --all-projects --project demo", A,
        json_out=True, check=lambda r: need(has(r, "Name", "sweep-vm1"), "no sweep-vm1"))
    s.c("server show by name", "server show sweep-vm1", json_out=True,
        check=lambda v: need(v.get("key_name") == "sweep-key" and "role" in str(v.get("properties")),
                             "key/properties %r %r" % (v.get("key_name"), v.get("properties"))))
    s.c("server stop", "server stop sweep-vm1")
    s.step("  ... SHUTOFF", s.wait_status, "sweep-vm1", "SHUTOFF")
    s.c("server start", "server start sweep-vm1")
    s.step("  ... ACTIVE", s.wait_status, "sweep-vm1", "ACTIVE")
    s.c("server reboot --wait", "server reboot --wait sweep-vm1")
    s.c("server reboot --hard --wait", "server reboot --hard --wait sweep-vm1")
    s.c("server pause", "server pause sweep-vm1")
    s.step("  ... PAUSED", s.wait_status, "sweep-vm1", "PAUSED")
    s.c("server unpause", "server unpause sweep-vm1")
    s.step("  ... ACTIVE", s.wait_status, "sweep-vm1", "ACTIVE")
    s.c("server suspend", "server suspend sweep-vm1")
    s.step("  ... SUSPENDED", s.wait_status, "sweep-vm1", "SUSPENDED")
    s.c("server resume", "server resume sweep-vm1")
    s.step("  ... ACTIVE", s.wait_status, "sweep-vm1", "ACTIVE")
    s.c("server lock", "--os-compute-api-version 2.73 server lock --reason sweep sweep-vm1")
    s.c("server show: locked", "server show sweep-vm1", json_out=True)
    s.step("server stop of a locked server by the owner fails", expect_error, s,
           "server stop sweep-vm1", "mockcloud", r"(locked|409)")
    s.c("server unlock", "server unlock sweep-vm1")
    s.c("server rebuild --wait", ["server", "rebuild", "--wait", "--image", "cirros-0.5.2-x86_64-disk", "sweep-vm1"])
    s.c("server resize --wait", "server resize --wait --flavor %s sweep-vm1" % FLAVOR2)
    s.c("server resize confirm", "server resize confirm sweep-vm1")
    s.step("  ... ACTIVE on " + FLAVOR2, s.wait_status, "sweep-vm1", "ACTIVE")
    # the admin names demo's server by id: by name, Nova's list is the admin's own project
    s.step("server show by name as admin: not in the admin's project", expect_error, s,
           "server show sweep-vm2", A, r"No server with a name or ID of 'sweep-vm2' exists")
    if vm2:
        s.c("server migrate --wait (admin)", ["server", "migrate", "--wait", vm2["id"]], A)
        s.c("server migration confirm (admin)", ["server", "migration", "confirm", vm2["id"]], A)
        s.c("server migration list (admin)", ["server", "migration", "list", "--server", vm2["id"]], A,
            json_out=True)
    s.c("server image create --wait", "server image create --wait --name sweep-snap sweep-vm1", json_out=True)
    s.c("image show of the snapshot", "image show sweep-snap", json_out=True,
        check=lambda i: need(i.get("status") == "active", "status %r" % i.get("status")))
    s.c("console log show", "console log show --lines 5 sweep-vm1")
    s.c("console url show", "console url show sweep-vm1", json_out=True,
        check=lambda u: need(str(u.get("url", "")).startswith("http"), "url %r" % u))
    s.c("server event list", "server event list sweep-vm1", json_out=True,
        check=lambda r: need(any(x.get("Action") == "create" for x in r), "actions %s" % r))
    s.c("server event list --long", "server event list --long sweep-vm1", json_out=True)
    s.c("server set --name --property", "server set --name sweep-vm1b --property k=v sweep-vm1")
    s.c("server show after set", "server show sweep-vm1b", json_out=True,
        check=lambda v: need("k" in str(v.get("properties")), "properties %r" % v.get("properties")))
    s.c("server unset --property", "server unset --property k sweep-vm1b")
    s.c("server set --name back", "server set --name sweep-vm1 sweep-vm1b")
    s.c("server add security group", "server add security group sweep-vm1 default")
    s.c("server remove security group", "server remove security group sweep-vm1 default")
    s.c("server add fixed ip", "server add fixed ip sweep-vm1 private")
    addr = s.c("server show: the new fixed ip", "server show sweep-vm1", json_out=True,
               check=lambda v: need(str(v.get("addresses")).count("10.0.0.") >= 2, "addresses %r" % v.get("addresses")))
    if addr:
        s.skip("server remove fixed ip", "osc 6.0 calls novaclient's Server.remove_fixed_ip, gone from "
               "novaclient 18 (AttributeError: remove_fixed_ip, on any cloud)")
    s.c("port create (for server add port)", "port create --network private sweep-srv-port", json_out=True)
    s.c("server add port", "server add port sweep-vm1 sweep-srv-port")
    s.c("server remove port", "server remove port sweep-vm1 sweep-srv-port")
    s.c("server add network", "server add network sweep-vm1 private")
    s.c("server remove network", "server remove network sweep-vm1 private")
    fipaddr = s.c("floating ip create (for the server)", "floating ip create public -f value -c floating_ip_address")
    if fipaddr and vm2:
        s.c("server add floating ip", ["server", "add", "floating", "ip", "sweep-vm2", fipaddr.strip()])
    s.c("server group create", "server group create --policy anti-affinity sweep-sg", json_out=True)
    s.c("server group list", "server group list", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-sg"), "no sweep-sg"))
    s.c("server group show", "server group show sweep-sg", json_out=True)
    s.c("server group delete", "server group delete sweep-sg")
    s.c("quota show", "quota show", json_out=True)
    s.c("quota show demo (admin)", "quota show demo", A, json_out=True)
    s.c("quota show --default (admin)", "quota show --default", A, json_out=True)
    s.c("quota set --instances --ram (admin)", "quota set --instances 12 --ram 60000 demo", A)
    s.c("quota show: the new value", "quota show demo", A, json_out=True,
        check=lambda q: need("12" in json.dumps(q), "quota %s" % json.dumps(q)[:200]))
    s.c("quota list --compute (admin)", "quota list --compute --project demo", A, json_out=True)
    s.c("limits show --absolute", "limits show --absolute", json_out=True,
        check=lambda r: need(has(r, "Name", "maxTotalInstances"), "no maxTotalInstances"))
    s.c("limits show --rate", "limits show --rate", json_out=True)
    s.c("usage list (admin)", "usage list", A, json_out=True)
    s.c("usage show", "usage show", json_out=True)
    hv = s.c("hypervisor list (admin)", "hypervisor list", A, json_out=True,
             check=lambda r: need(len(r) == 2, "%d hypervisors" % len(r)))
    if hv:
        s.c("hypervisor show (admin)", ["hypervisor", "show", hv[0]["Hypervisor Hostname"]], A, json_out=True)
        s.c("hypervisor list --long (admin)", "hypervisor list --long", A, json_out=True)
    s.c("compute service list (admin)", "compute service list", A, json_out=True)
    s.c("aggregate create --zone (admin)", "aggregate create --zone sweep-az --property k=v sweep-agg", A,
        json_out=True)
    s.c("aggregate add host (admin)", "aggregate add host sweep-agg mockcloud-compute-2", A, json_out=True)
    s.c("aggregate list --long (admin)", "aggregate list --long", A, json_out=True)
    s.c("aggregate show (admin)", "aggregate show sweep-agg", A, json_out=True)
    s.c("availability zone list", "availability zone list", json_out=True)
    s.c("availability zone list --compute --long (admin)", "availability zone list --compute --long", A,
        json_out=True, check=lambda r: need(any(x.get("Zone Name") == "sweep-az" for x in r), "no sweep-az"))
    s.c("aggregate remove host (admin)", "aggregate remove host sweep-agg mockcloud-compute-2", A)
    s.c("aggregate delete (admin)", "aggregate delete sweep-agg", A)
    s.c("server delete --wait", "server delete --wait sweep-vm1 sweep-vm2")
    s.step("server show of the deleted server fails clearly", expect_error, s,
           "server show sweep-vm1", "mockcloud", r"No server with a name or ID")
    s.c("image delete of the snapshot", "image delete sweep-snap")
    s.c("keypair delete", "keypair delete sweep-key sweep-key2")
    s.c("port delete", "port delete sweep-srv-port")
    s.c("security group delete", "security group delete sweep-srv-sg")
    for fip in s.q("floating ip list -f value -c ID").split():
        s.q(["floating", "ip", "delete", fip])


def cli_network(s):
    s.section = "cli network"
    print("== openstack CLI: network")
    A = "mockcloud-admin"
    s.c("extension list --network", "extension list --network", json_out=True)
    s.c("network create", "network create --description d sweep-net", json_out=True)
    s.c("network list", "network list", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-net") and has(r, "Name", "public"), "names %s" % r))
    s.c("network list --long", "network list --long", json_out=True,
        check=lambda r: need(all("Router Type" in x for x in r), "columns %s" % (r[:1],)))
    s.c("network list --external", "network list --external", json_out=True,
        check=lambda r: need([x["Name"] for x in r] == ["public"], "names %s" % r))
    s.c("network list --name", "network list --name sweep-net", json_out=True,
        check=lambda r: need(len(r) == 1, "%d networks" % len(r)))
    s.c("network show by name", "network show sweep-net", json_out=True)
    s.c("network set --name --description", "network set --description e --tag t1 sweep-net")
    s.c("network list --tags", "network list --tags t1", json_out=True,
        check=lambda r: need(len(r) == 1, "%d networks" % len(r)))
    s.c("subnet create", "subnet create --network sweep-net --subnet-range 192.168.50.0/24 "
        "--dns-nameserver 8.8.8.8 --allocation-pool start=192.168.50.10,end=192.168.50.99 sweep-subnet",
        json_out=True)
    s.c("subnet list", "subnet list --network sweep-net", json_out=True,
        check=lambda r: need(len(r) == 1, "%d subnets" % len(r)))
    s.c("subnet list --long", "subnet list --long", json_out=True)
    s.c("subnet show", "subnet show sweep-subnet", json_out=True)
    s.c("subnet set", "subnet set --description sd --no-dns-nameservers --dns-nameserver 1.1.1.1 sweep-subnet")
    s.c("port create --fixed-ip", "port create --network sweep-net "
        "--fixed-ip subnet=sweep-subnet,ip-address=192.168.50.20 sweep-port", json_out=True,
        check=lambda p: need("192.168.50.20" in json.dumps(p.get("fixed_ips")), "fixed_ips %r" % p.get("fixed_ips")))
    s.c("port list", "port list --network sweep-net", json_out=True)
    s.c("port list --long", "port list --long", json_out=True)
    s.c("port list --fixed-ip", "port list --fixed-ip ip-address=192.168.50.20", json_out=True,
        check=lambda r: need(len(r) == 1, "%d ports" % len(r)))
    s.c("port show", "port show sweep-port", json_out=True)
    s.c("port set", "port set --name sweep-port2 --description pd sweep-port")
    s.c("router create", "router create sweep-router", json_out=True)
    s.c("router add subnet", "router add subnet sweep-router sweep-subnet")
    s.c("router set --external-gateway", "router set --external-gateway public sweep-router")
    s.c("router show", "router show sweep-router", json_out=True,
        check=lambda r: need(r.get("external_gateway_info"), "no gateway"))
    s.c("router list --long", "router list --long", json_out=True)
    s.c("floating ip create", "floating ip create --description f public", json_out=True)
    fip = s.q("floating ip list -f value -c ID").split()
    if fip:
        s.c("floating ip set --port", ["floating", "ip", "set", "--port", "sweep-port2", fip[0]])
        s.c("floating ip show", ["floating", "ip", "show", fip[0]], json_out=True,
            check=lambda f: need(f.get("fixed_ip_address") == "192.168.50.20", "fixed %r" % f.get("fixed_ip_address")))
        s.c("floating ip list --long", "floating ip list --long", json_out=True)
        s.c("floating ip list --port", "floating ip list --port sweep-port2", json_out=True,
            check=lambda r: need(len(r) == 1, "%d" % len(r)))
        s.c("floating ip unset --port", ["floating", "ip", "unset", "--port", fip[0]])
        s.c("floating ip delete", ["floating", "ip", "delete", fip[0]])
    s.step("floating ip pool list: nova-network only (the CLI says so on any Neutron cloud)", expect_error, s,
           "floating ip pool list", "mockcloud", r"only available for Compute v2 network")
    s.c("security group create", "security group create --description sg sweep-sg", json_out=True)
    s.c("security group list", "security group list", json_out=True)
    s.c("security group show", "security group show sweep-sg", json_out=True)
    s.c("security group set", "security group set --description sg2 sweep-sg")
    rule = s.c("security group rule create", "security group rule create --protocol tcp --dst-port 22 "
               "--remote-ip 0.0.0.0/0 sweep-sg", json_out=True)
    s.c("security group rule create --ethertype IPv6 icmp",
        "security group rule create --protocol ipv6-icmp --ethertype IPv6 sweep-sg", json_out=True)
    s.c("security group rule list", "security group rule list sweep-sg", json_out=True,
        check=lambda r: need(len(r) >= 3, "%d rules" % len(r)))
    s.c("security group rule list --long", "security group rule list --long --protocol tcp", json_out=True)
    if rule:
        s.c("security group rule show", ["security", "group", "rule", "show", rule["id"]], json_out=True)
        s.c("security group rule delete", ["security", "group", "rule", "delete", rule["id"]])
    s.c("port set --security-group", "port set --security-group sweep-sg sweep-port2")
    s.c("subnet pool create", "subnet pool create --pool-prefix 10.10.0.0/16 --default-prefix-length 26 sweep-pool",
        json_out=True)
    s.c("subnet pool list", "subnet pool list --long", json_out=True)
    s.c("subnet pool show", "subnet pool show sweep-pool", json_out=True)
    s.c("subnet pool set", "subnet pool set --description p sweep-pool")
    s.c("subnet create --subnet-pool", "subnet create --network sweep-net --subnet-pool sweep-pool "
        "--prefix-length 28 sweep-pool-subnet", json_out=True,
        check=lambda x: need(str(x.get("cidr", "")).startswith("10.10."), "cidr %r" % x.get("cidr")))
    s.c("subnet delete (pool)", "subnet delete sweep-pool-subnet")
    s.c("subnet pool delete", "subnet pool delete sweep-pool")
    if "address-scope" in s.ext:
        s.c("address scope create", "address scope create --ip-version 4 sweep-scope", json_out=True)
        s.c("address scope list", "address scope list", json_out=True)
        s.c("address scope show", "address scope show sweep-scope", json_out=True)
        s.c("address scope set", "address scope set --name sweep-scope2 sweep-scope")
        s.c("subnet pool create --address-scope", "subnet pool create --pool-prefix 10.30.0.0/16 "
            "--address-scope sweep-scope2 sweep-pool2", json_out=True,
            check=lambda p: need(p.get("address_scope_id"), "address_scope_id %r" % p.get("address_scope_id")))
        s.step("address scope delete in use: 409", expect_error, s, "address scope delete sweep-scope2", "mockcloud",
               r"Unable to complete operation on address scope \S+\. There are one or more subnet pools in use")
        s.c("subnet pool set --no-address-scope", "subnet pool set --no-address-scope sweep-pool2")
        s.c("subnet pool delete (scoped)", "subnet pool delete sweep-pool2")
        s.c("address scope delete", "address scope delete sweep-scope2")
    else:
        s.skip("address scope create/list/show/set/delete", "extension address-scope not advertised")
    if "qos" in s.ext:
        s.c("network qos policy create", "network qos policy create sweep-qos", json_out=True)
        s.c("network qos policy list", "network qos policy list", json_out=True)
        s.c("network qos policy delete", "network qos policy delete sweep-qos")
    else:
        s.skip("network qos policy create/list/delete", "extension qos not advertised")
    s.c("network agent list (admin)", "network agent list", A, json_out=True)
    s.c("availability zone list --network", "availability zone list --network", json_out=True)
    s.c("quota list --network --detail", "quota list --network --detail --project demo", A, json_out=True)
    s.c("router remove subnet", "router remove subnet sweep-router sweep-subnet")
    s.c("router unset --external-gateway", "router unset --external-gateway sweep-router")
    s.c("router delete", "router delete sweep-router")
    s.c("port delete", "port delete sweep-port2")
    s.c("security group delete", "security group delete sweep-sg")
    s.c("subnet delete", "subnet delete sweep-subnet")
    s.c("network delete", "network delete sweep-net")
    s.step("network show of the deleted network fails clearly", expect_error, s,
           "network show sweep-net", "mockcloud", r"No Network found for sweep-net")


def cli_image(s):
    s.section = "cli image"
    print("== openstack CLI: image")
    data = os.path.join(s.work, "disk.img")
    with open(data, "wb") as f:
        f.write(os.urandom(300 * 1024 + 17))
    md5 = hashlib.md5(open(data, "rb").read()).hexdigest()
    s.c("image create --file --disk-format", ["image", "create", "--file", data, "--disk-format", "qcow2",
                                              "--container-format", "bare", "--property", "os_distro=sweep",
                                              "--min-disk", "1", "sweep-img"], json_out=True)
    # (the CLI prints the POST's reply, status queued, on any Glance: it does not read the image again)
    s.c("image show: active, checksum", "image show sweep-img", json_out=True,
        check=lambda i: need(i.get("status") == "active" and i.get("checksum") == md5,
                             "status %r checksum %r" % (i.get("status"), i.get("checksum"))))
    s.c("image list", "image list", json_out=True, check=lambda r: need(has(r, "Name", "sweep-img"), "no sweep-img"))
    s.c("image list --long", "image list --long", json_out=True)
    s.c("image list --property", "image list --property os_distro=sweep", json_out=True,
        check=lambda r: need([x["Name"] for x in r] == ["sweep-img"], "names %s" % r))
    s.c("image list --limit 1", "image list --limit 1", json_out=True,
        check=lambda r: need(len(r) == 1, "%d images" % len(r)))
    s.c("image list --private", "image list --private", json_out=True)
    s.c("image list --public", "image list --public", json_out=True,
        check=lambda r: need(has(r, "Name", IMAGE), "no " + IMAGE))
    s.c("image list --sort name:desc", "image list --sort name:desc", json_out=True)
    s.c("image show by name", "image show sweep-img", json_out=True)
    s.c("image set --property --tag", "image set --property k=v --tag sweep-tag sweep-img")
    s.c("image show: property and tag", "image show sweep-img", json_out=True,
        check=lambda i: need("sweep-tag" in json.dumps(i.get("tags")) and "k" in json.dumps(i.get("properties")),
                             "tags %r properties %r" % (i.get("tags"), i.get("properties"))))
    s.c("image list --tag", "image list --tag sweep-tag", json_out=True,
        check=lambda r: need(len(r) == 1, "%d images" % len(r)))
    s.c("image unset --property --tag", "image unset --property k --tag sweep-tag sweep-img")
    s.c("image set --shared", "image set --shared sweep-img")
    # a member cannot look up another project's name (403): the CLI then sends the name as the
    # member id, and Glance takes it; a user names the project by id
    alt = s.q("project show alt_demo -f value -c id", "mockcloud-admin").strip()
    s.c("image add project", ["image", "add", "project", "sweep-img", alt], json_out=True)
    s.c("image member list", "image member list sweep-img", json_out=True,
        check=lambda r: need(len(r) == 1, "%d members" % len(r)))
    img = s.q("image show sweep-img -f value -c id").strip()
    # (--project with --accept would also PATCH the owner: 403 from any Glance for a non-owner)
    s.c("image set --accept (alt, its own membership)", ["image", "set", "--accept", img], "mockcloud-alt")
    s.c("image list (alt sees it)", "image list --shared", "mockcloud-alt", json_out=True,
        check=lambda r: need(has(r, "Name", "sweep-img"), "no sweep-img"))
    s.c("image remove project", ["image", "remove", "project", "sweep-img", alt])
    out = os.path.join(s.work, "saved.img")
    s.c("image save --file", ["image", "save", "--file", out, "sweep-img"])
    if os.path.exists(out):
        got = hashlib.md5(open(out, "rb").read()).hexdigest()
        s.report("image save: checksum equal", "OK" if got == md5 else "FAIL",
                 "" if got == md5 else "%s != %s" % (got, md5))
    s.c("image set --deactivate", "image set --deactivate sweep-img")
    s.c("image set --activate", "image set --activate sweep-img")
    s.c("image create (queued) and stage", "image create --disk-format raw sweep-img2", json_out=True)
    s.c("image delete", "image delete sweep-img sweep-img2")
    s.step("image show of the deleted image fails clearly", expect_error, s,
           "image show sweep-img", "mockcloud", r"No Image found for sweep-img")


def cli_more(s):
    """Filters, field selection and paging the main sections do not use."""
    s.section = "cli more"
    print("== openstack CLI: filters, columns, paging")
    A = "mockcloud-admin"
    s.c("flavor list --limit 2", "flavor list --limit 2", json_out=True,
        check=lambda r: need(len(r) == 2, "%d flavors" % len(r)))
    fl = s.q("flavor list --limit 2 -f json")
    fl = json.loads(fl) if fl else []
    if len(fl) == 2:
        s.c("flavor list --limit 2 --marker", ["flavor", "list", "--limit", "2", "--marker", fl[1]["ID"]],
            json_out=True, check=lambda r: need(len(r) == 2 and fl[1]["ID"] not in [x["ID"] for x in r], "page %s" % r))
    s.c("flavor list --min-ram 4096", "flavor list --min-ram 4096", json_out=True,
        check=lambda r: need(r and all(x["RAM"] >= 4096 for x in r), "rams %s" % [x["RAM"] for x in r]))
    s.c("flavor show -c name -c ram (columns)", "flavor show m1.small -c name -c ram", json_out=True,
        check=lambda f: need(sorted(f) == ["name", "ram"], "keys %s" % sorted(f)))
    s.c("flavor create --property (admin)", "flavor create --ram 256 --disk 1 --vcpus 1 --property hw:cpu=1 "
        "--private sweep-flavor", A, json_out=True)
    s.c("flavor set --project (admin)", "flavor set --project demo sweep-flavor", A)
    s.c("flavor show by name (demo, given access)", "flavor show sweep-flavor", json_out=True)
    s.c("flavor list --long --all (admin)", "flavor list --long --all", A, json_out=True,
        check=lambda r: need(any(x["Name"] == "sweep-flavor" and "hw:cpu" in str(x.get("Properties")) for x in r),
                             "no sweep-flavor with properties"))
    s.c("flavor unset --project; delete (admin)", "flavor unset --project demo sweep-flavor", A)
    s.c("flavor delete (admin)", "flavor delete sweep-flavor", A)
    s.c("image list --limit 1 --marker", ["image", "list", "--limit", "1", "--marker",
                                          s.q("image list --limit 1 -f value -c ID").strip()], json_out=True,
        check=lambda r: need(len(r) == 1, "%d images" % len(r)))
    s.c("image list --status active --sort name", "image list --status active --sort name:asc", json_out=True,
        check=lambda r: need([x["Name"] for x in r] == sorted(x["Name"] for x in r), "order %s" % r))
    s.c("image list --name", "image list --name " + IMAGE, json_out=True,
        check=lambda r: need(len(r) == 1, "%d images" % len(r)))
    s.c("image list --long -c Name -c Size", "image list --long -c Name -c Size", json_out=True,
        check=lambda r: need(r and all(x.get("Size") for x in r), "sizes %s" % r))
    s.c("image show -c properties", "image show -c properties " + IMAGE, json_out=True)
    s.c("network list --project demo (admin)", "network list --project demo", A, json_out=True,
        check=lambda r: need(len(r) == 1, "%d networks" % len(r)))
    s.c("network list --share / --internal", "network list --internal", json_out=True,
        check=lambda r: need(not has(r, "Name", "public"), "public listed"))
    s.c("network show -c subnets -c mtu", "network show private -c subnets -c mtu", json_out=True)
    s.c("subnet list --ip-version 6", "subnet list --ip-version 6", json_out=True,
        check=lambda r: need(r and all(":" in x["Subnet"] for x in r), "subnets %s" % r))
    s.c("subnet list --dhcp --network private", "subnet list --dhcp --network private", json_out=True)
    s.c("port list --device-owner network:router_interface",
        "port list --device-owner network:router_interface", json_out=True,
        check=lambda r: need(len(r) >= 1, "%d ports" % len(r)))
    s.c("port list --router router1", "port list --router router1", json_out=True,
        check=lambda r: need(len(r) >= 1, "%d ports" % len(r)))
    s.c("router list --project demo (admin)", "router list --project demo --long", A, json_out=True,
        check=lambda r: need(len(r) == 1, "%d routers" % len(r)))
    s.c("router show router1 (interfaces_info)", "router show router1", json_out=True,
        check=lambda r: need(r.get("interfaces_info"), "no interfaces_info"))
    s.c("security group rule list --ingress --protocol icmp", "security group rule list --ingress --protocol icmp",
        json_out=True)
    s.c("security group list --project demo (admin)", "security group list --project demo", A, json_out=True,
        check=lambda r: need(len(r) == 1, "%d groups" % len(r)))
    s.c("security group show default", "security group show default", json_out=True,
        check=lambda g: need(len(g.get("rules", [])) == 4, "%d rules" % len(g.get("rules", []))))
    s.c("network agent list --network (admin)", "network agent list --agent-type dhcp", A, json_out=True)
    s.c("ip availability list (admin)", "ip availability list", A, json_out=True)
    s.c("ip availability show (admin)", "ip availability show public", A, json_out=True)
    s.c("keypair list --user (admin)", "--os-compute-api-version 2.10 keypair list --user demo", A, json_out=True)
    s.c("server list --changes-since", "server list --changes-since 2020-01-01T00:00:00Z", json_out=True)
    s.c("server list --deleted (admin)", "server list --deleted --all-projects", A, json_out=True)
    s.c("server list --image --flavor", ["server", "list", "--image", IMAGE, "--flavor", FLAVOR], json_out=True)
    s.c("server list -c ID -c Name --sort-column Name", "server list -c ID -c Name --sort-column Name",
        json_out=True)
    s.c("compute agent / hypervisor stats show (admin)", "hypervisor stats show", A, json_out=True)
    s.c("availability zone list --long (admin)", "availability zone list --long", A, json_out=True)
    s.c("usage show --project demo (admin)", "usage show --project demo", A, json_out=True)
    s.c("usage list at 2.40 (pages until one is empty) (admin)", "--os-compute-api-version 2.40 usage list", A,
        json_out=True, check=lambda r: need(any(x.get("Project") for x in r), "usage %s" % r))
    s.c("extension list --compute", "extension list --compute", json_out=True)
    s.c("versions show", "versions show", json_out=True,
        check=lambda r: need({"compute", "identity", "image", "network"} <= {x.get("Service Type") for x in r},
                             "services %s" % sorted({x.get("Service Type") for x in r})))
    s.c("module list", "module list", json_out=True)


def cli_errors(s):
    """The errors a user reads: the service's own message, as upstream words it."""
    s.section = "cli errors"
    print("== openstack CLI: the errors users read")
    A = "mockcloud-admin"

    def e(label, argv, pattern, cloud="mockcloud"):
        s.step(label, expect_error, s, argv, cloud, pattern)
    s.q("keypair create err-key")
    e("keypair create twice: 409", "keypair create err-key", r"Key pair 'err-key' already exists\.")
    s.q("keypair delete err-key")
    s.q("network create err-net")
    s.q("subnet create --network err-net --subnet-range 192.168.9.0/24 err-sub")
    e("subnet create overlapping: 400", "subnet create --network err-net --subnet-range 192.168.9.0/25 err-sub2",
      r"Invalid input for operation: Requested subnet with cidr: 192\.168\.9\.0/25 for network: \S+ "
      r"overlaps with another subnet\.")
    s.q("port create --network err-net err-port")
    e("network delete with a port: 409", "network delete err-net",
      r"Unable to complete operation on network \S+\. There are one or more ports still in use on the network\.")
    s.q("security group create err-sg")
    s.q("security group rule create --protocol tcp --dst-port 22 err-sg")
    e("security group rule twice: 409", "security group rule create --protocol tcp --dst-port 22 err-sg",
      r"Security group rule already exists\. Rule id is [0-9a-f-]{36}\.")
    s.q("router create err-router")
    s.q("router add subnet err-router err-sub")
    e("router delete with an interface: 409", "router delete err-router", r"Router [0-9a-f-]{36} still has ports")
    s.q("router remove subnet err-router err-sub")
    for argv in ("router delete err-router", "port delete err-port", "subnet delete err-sub",
                 "network delete err-net", "security group delete err-sg"):
        s.q(argv)
    s.q("project create err-proj", A)
    e("project create twice: 409", "project create err-proj",
      r"Conflict occurred attempting to store project - it is not permitted to have two projects with the same "
      r"name in the same domain : err-proj\. \(HTTP 409\)", A)
    s.q("project delete err-proj", A)
    s.q("quota set --instances 0 alt_demo", A)
    altnet = (s.q("network list --internal -f value -c ID", "mockcloud-alt").split() or ["private"])[0]
    e("server create over quota: 403", ["server", "create", "--image", IMAGE, "--flavor", FLAVOR, "--network",
                                        altnet, "err-vm"],
      r"Quota exceeded for instances: Requested 1, but already used 0 of 0 instances \(HTTP 403\)", "mockcloud-alt")
    s.q("quota set --instances 10 alt_demo", A)
    e("server create with an unknown flavor (the CLI's own)", ["server", "create", "--image", IMAGE, "--flavor",
                                                               "nope", "--network", "private", "err-vm"],
      r"No flavor with a name or ID of 'nope' exists\.")
    e("flavor create as a member: 403", "flavor create --ram 1 err-flavor", r"HTTP 403|403: Client Error")
    e("endpoint list as a member: 403 names Keystone's policy", "endpoint list",
      r"You are not authorized to perform the requested action: identity:list_endpoints\. \(HTTP 403\)")
    e("user create as a member: 403 names Keystone's policy", "user create err-user",
      r"You are not authorized to perform the requested action: identity:create_user\. \(HTTP 403\)")
    e("image show of a random id", "image show 0b9c3c1e-0000-4000-8000-000000000000",
      r"No Image found for 0b9c3c1e-0000-4000-8000-000000000000")


# =========================================================================
# openstacksdk
# =========================================================================

def sdk(s):
    import openstack
    os.environ["OS_CLIENT_CONFIG_FILE"] = s.clouds
    openstack.enable_logging(debug=False)
    s.section = "sdk"
    print("== openstacksdk %s" % openstack.version.__version__)
    conn = s.step("connect (clouds.yaml mockcloud) and authorize", lambda: _authorize(openstack.connect(cloud="mockcloud")))
    adm = s.step("connect mockcloud-admin", lambda: _authorize(openstack.connect(cloud="mockcloud-admin")))
    if not conn or not adm:
        return
    st = {}

    def t(label, fn):
        return s.step(label, fn)

    # identity
    t("identity: projects (admin)", lambda: need_(any(p.name == "demo" for p in adm.identity.projects())))
    t("identity: find_project / get_project", lambda: adm.identity.get_project(adm.identity.find_project("demo", ignore_missing=False).id))
    t("identity: create_project + user + role assignment",
      lambda: st.update(p=adm.identity.create_project(name="sdk-proj", domain_id="default"),
                        u=adm.identity.create_user(name="sdk-user", password="S3cret-1", domain_id="default")))
    if "p" in st:
        t("identity: assign_project_role_to_user", lambda: adm.identity.assign_project_role_to_user(
            st["p"], st["u"], adm.identity.find_role("member")))
        t("identity: validate_user_has_project_role", lambda: need_(adm.identity.validate_user_has_project_role(
            st["p"], st["u"], adm.identity.find_role("member"))))
        t("identity: role_assignments(user)", lambda: need_(len(list(adm.identity.role_assignments(user_id=st["u"].id))) == 1))
        t("cloud: list_role_assignments", lambda: adm.list_role_assignments(filters={"user": st["u"].id}))
        t("identity: unassign + delete user, project", lambda: (
            adm.identity.unassign_project_role_from_user(st["p"], st["u"], adm.identity.find_role("member")),
            adm.identity.delete_user(st["u"]), adm.identity.delete_project(st["p"])))
    t("identity: groups create/add user/delete (admin)", lambda: _groups(adm))
    t("identity: application credentials", lambda: _appcred(conn))
    t("identity: regions, services, endpoints (admin)", lambda: need_(
        list(adm.identity.regions()) and len(list(adm.identity.services())) >= 4 and list(adm.identity.endpoints())))
    t("cloud: search_projects (admin)", lambda: need_(len(adm.search_projects("demo")) == 1))
    t("cloud: search_users (admin)", lambda: need_(len(adm.search_users("demo")) == 1))
    t("cloud: get_user by name (admin)", lambda: need_(adm.get_user("alt_demo")))
    # compute
    t("compute: flavors(details)", lambda: need_(any(f.name == FLAVOR for f in conn.compute.flavors())))
    t("compute: find_flavor", lambda: conn.compute.find_flavor(FLAVOR, ignore_missing=False))
    t("cloud: search_flavors / get_flavor", lambda: need_(conn.get_flavor(FLAVOR) and conn.search_flavors("m1.*") is not None))
    t("compute: create_keypair", lambda: st.update(k=conn.compute.create_keypair(name="sdk-key")))
    t("compute: keypairs / get_keypair", lambda: need_(conn.compute.get_keypair("sdk-key") and
                                                      any(k.name == "sdk-key" for k in conn.compute.keypairs())))
    t("cloud: create_server(wait=True, auto_ip=True)", lambda: st.update(srv=conn.create_server(
        "sdk-vm", image=IMAGE, flavor=FLAVOR, network="private", key_name="sdk-key", wait=True, auto_ip=True,
        timeout=120, meta={"a": "b"})))
    if "srv" in st:
        t("cloud: the server has a floating IP", lambda: need_(st["srv"].public_v4, "public_v4 %r" % st["srv"].public_v4))
        t("cloud: get_server by name", lambda: need_(conn.get_server("sdk-vm").id == st["srv"].id))
        t("cloud: list_servers(detailed=True)", lambda: need_(any(x.name == "sdk-vm" for x in conn.list_servers(detailed=True))))
        t("cloud: search_servers", lambda: need_(len(conn.search_servers("sdk-vm")) == 1))
        t("cloud: list_servers(all_projects=True) (admin)", lambda: need_(
            any(x.name == "sdk-vm" for x in adm.list_servers(all_projects=True))))
        t("compute: servers(name=)", lambda: need_(len(list(conn.compute.servers(name="sdk-vm"))) == 1))
        t("compute: servers paginated (limit=1)", lambda: _paged(conn))
        t("compute: get_server_metadata", lambda: need_(conn.compute.get_server_metadata(st["srv"].id).metadata.get("a") == "b"))
        t("compute: stop/start with wait_for_server", lambda: _stopstart(conn, st["srv"].id))
        t("compute: reboot", lambda: (conn.compute.reboot_server(st["srv"].id, "SOFT"),
                                      conn.compute.wait_for_server(conn.compute.get_server(st["srv"].id), "ACTIVE", wait=60)))
        t("compute: get_server_console_output", lambda: conn.compute.get_server_console_output(st["srv"].id, length=3))
        t("compute: create_server_image (wait)", lambda: _snapshot(conn, st["srv"].id))
        s.skip("compute: server_actions", "openstacksdk 0.101 raises InvalidResourceQuery (server_id) itself, "
               "before any request")
        t("compute: server_interfaces", lambda: need_(list(conn.compute.server_interfaces(st["srv"].id))))
        t("compute: update_server name", lambda: conn.compute.update_server(st["srv"].id, name="sdk-vm-b"))
        t("cloud: delete_server(wait=True, delete_ips=True)", lambda: need_(conn.delete_server(
            "sdk-vm-b", wait=True, delete_ips=True, timeout=60)))
    t("compute: delete_keypair", lambda: conn.compute.delete_keypair("sdk-key"))
    t("compute: get_limits", lambda: conn.compute.get_limits())
    t("cloud: get_compute_limits / get_compute_quotas (admin)", lambda: (conn.get_compute_limits(),
                                                                         adm.get_compute_quotas("demo")))
    t("compute: availability_zones", lambda: need_(list(conn.compute.availability_zones())))
    t("compute: hypervisors(details) (admin)", lambda: need_(len(list(adm.compute.hypervisors(details=True))) == 2))
    t("compute: server groups", lambda: conn.compute.delete_server_group(
        conn.compute.create_server_group(name="sdk-sg", policies=["affinity"])))
    t("compute: aggregates (admin)", lambda: _aggregates(adm))
    t("compute: services (admin)", lambda: need_(list(adm.compute.services())))
    # network
    t("network: networks / find_network", lambda: need_(conn.network.find_network("private", ignore_missing=False)))
    t("network: create network, subnet, port, router", lambda: _network(conn, st))
    if "net" in st:
        t("cloud: search_networks / get_network", lambda: need_(conn.get_network("sdk-net") and conn.search_networks("sdk-net")))
        t("cloud: search_subnets / search_ports", lambda: need_(conn.search_subnets("sdk-subnet") and conn.search_ports("sdk-port")))
        t("network: ports(network_id=), fixed_ips filter", lambda: need_(len(list(conn.network.ports(
            fixed_ips=["ip_address=192.168.60.20"]))) == 1))
        t("network: floating ip create/update/delete", lambda: _fip(conn, st))
        t("network: security group + rule", lambda: _secgroup(conn))
        t("network: tags", lambda: (conn.network.set_tags(st["net"], ["x", "y"]),
                                    need_(len(list(conn.network.networks(tags="x"))) == 1)))
        t("network: delete everything", lambda: _network_delete(conn, st))
    t("network: subnet pools", lambda: conn.network.delete_subnet_pool(conn.network.create_subnet_pool(
        name="sdk-pool", prefixes=["10.20.0.0/16"], default_prefixlen=24)))
    t("network: address scopes and a scoped subnet pool", lambda: _scopes(conn))
    t("network: agents (admin)", lambda: list(adm.network.agents()))
    t("network: get_quota", lambda: conn.network.get_quota(conn.current_project_id))
    t("network: extensions", lambda: need_(any(e.alias == "router" for e in conn.network.extensions())))
    # image
    t("image: create_image (cloud layer, wait)", lambda: st.update(img=conn.create_image(
        "sdk-img", data=io.BytesIO(b"x" * 70000), disk_format="raw", container_format="bare", wait=True,
        meta={"sdk": "yes"})))
    if "img" in st:
        t("image: images(name=) / find_image", lambda: need_(conn.image.find_image("sdk-img", ignore_missing=False)))
        t("cloud: search_images / get_image", lambda: need_(conn.get_image("sdk-img") and conn.search_images("sdk-img")))
        t("image: download_image (checksum)", lambda: need_(_md5(conn.image.download_image(st["img"].id)) ==
                                                           hashlib.md5(b"x" * 70000).hexdigest()))
        t("image: update_image / add_tag", lambda: (conn.image.update_image(st["img"].id, name="sdk-img2"),
                                                    conn.image.add_tag(st["img"].id, "t1")))
        t("image: images(tag=)", lambda: need_(len(list(conn.image.images(tag="t1"))) == 1))
        alt = s.step("connect mockcloud-alt", lambda: _authorize(openstack.connect(cloud="mockcloud-alt")))
        if alt:
            t("image: members add / accept (alt) / remove", lambda: _members(conn, alt, st["img"].id))
        t("image: images paginated (limit=1)", lambda: need_(len(list(conn.image.images(limit=1))) >= 3))
        t("image: delete_image", lambda: conn.image.delete_image(st["img"].id))
    sdk_cloud(s, conn, adm)


def sdk_cloud(s, conn, adm):
    """openstacksdk's cloud layer (shade): what Ansible's openstack.cloud modules call."""
    s.section = "sdk cloud"
    print("== openstacksdk cloud layer")
    st = {}
    t = s.step
    t("list_flavors(get_extra=True)", lambda: need_(any(f.name == FLAVOR for f in conn.list_flavors(get_extra=True))))
    t("get_flavor_by_ram(256)", lambda: need_(conn.get_flavor_by_ram(256).ram >= 256))
    t("list_images / get_image_by_id", lambda: need_(conn.get_image_by_id(conn.get_image(IMAGE).id).name == IMAGE))
    t("list_availability_zone_names", lambda: need_("nova" in conn.list_availability_zone_names()))
    t("list_hypervisors (admin)", lambda: need_(len(adm.list_hypervisors()) == 2))
    t("list_networks(filters)", lambda: need_([n.name for n in conn.list_networks(filters={"router:external": True})]
                                              == ["public"]))
    t("get_external_ipv4_networks", lambda: need_([n.name for n in conn.get_external_ipv4_networks()] == ["public"]))
    t("get_internal_ipv4_networks", lambda: need_("private" in [n.name for n in conn.get_internal_ipv4_networks()]))
    t("create_network / create_subnet / create_router / add_router_interface", lambda: st.update(
        net=conn.create_network("shade-net"),
        ) or st.update(sub=conn.create_subnet(st["net"].id, cidr="192.168.70.0/24", subnet_name="shade-sub",
                                              enable_dhcp=True, dns_nameservers=["8.8.8.8"]))
        or st.update(rtr=conn.create_router("shade-router", ext_gateway_net_id=conn.get_network("public").id))
        or conn.add_router_interface(st["rtr"], subnet_id=st["sub"].id))
    t("list_router_interfaces", lambda: need_(len(conn.list_router_interfaces(st["rtr"], "internal")) == 1)
      if "rtr" in st else need_(False, "no router"))
    t("create_security_group / create_security_group_rule", lambda: st.update(
        sg=conn.create_security_group("shade-sg", "d")) or conn.create_security_group_rule(
        st["sg"].id, port_range_min=22, port_range_max=22, protocol="tcp", remote_ip_prefix="0.0.0.0/0"))
    t("search_security_groups", lambda: need_(len(conn.search_security_groups("shade-sg")) == 1))
    t("create_keypair / search_keypairs", lambda: (conn.create_keypair("shade-key"),
                                                   need_(len(conn.search_keypairs("shade-key")) == 1)))
    t("create_server(network=, security_groups=, key_name=, userdata=, wait)", lambda: st.update(srv=conn.create_server(
        "shade-vm", image=IMAGE, flavor=FLAVOR, network="shade-net", security_groups=["shade-sg"],
        key_name="shade-key", userdata="#cloud-config\n", wait=True, auto_ip=False, timeout=60)))
    if "srv" in st:
        t("create_floating_ip(server=, wait) / attach", lambda: st.update(fip=conn.create_floating_ip(
            network="public", server=st["srv"], wait=True, timeout=60)))
        t("get_server(...).public_v4 / private_v4", lambda: (lambda v: need_(
            v.public_v4 and v.private_v4.startswith("192.168.70."), "public %r private %r" % (v.public_v4, v.private_v4)))(
            conn.get_server("shade-vm")))
        t("list_floating_ips(filters)", lambda: need_(len(conn.list_floating_ips(
            filters={"floating_ip_address": st["fip"].floating_ip_address})) == 1) if "fip" in st else need_(False))
        t("get_server_console", lambda: conn.get_server_console("shade-vm", 5))
        t("set_server_metadata / delete_server_metadata", lambda: (
            conn.set_server_metadata("shade-vm", {"x": "1"}), conn.delete_server_metadata("shade-vm", ["x"])))
        t("list_servers(filters={'status': 'ACTIVE'})", lambda: need_(any(
            x.name == "shade-vm" for x in conn.list_servers(filters={"status": "ACTIVE"}))))
        t("get_server_by_id", lambda: need_(conn.get_server_by_id(st["srv"].id).name == "shade-vm"))
        t("get_server_group / create_server_group", lambda: conn.delete_server_group(
            conn.create_server_group("shade-grp", ["soft-affinity"]).id))
        t("detach_ip_from_server / delete_floating_ip", lambda: (
            conn.detach_ip_from_server(st["srv"].id, st["fip"].id), conn.delete_floating_ip(st["fip"].id))
          if "fip" in st else need_(False))
        t("delete_server(wait=True)", lambda: need_(conn.delete_server("shade-vm", wait=True, timeout=60)))
    t("delete_keypair", lambda: need_(conn.delete_keypair("shade-key")))
    t("delete_security_group", lambda: need_(conn.delete_security_group("shade-sg")))
    t("remove_router_interface / delete_router / delete_subnet / delete_network", lambda: (
        conn.remove_router_interface(st["rtr"], subnet_id=st["sub"].id), need_(conn.delete_router("shade-router")),
        need_(conn.delete_subnet("shade-sub")), need_(conn.delete_network("shade-net"))))
    t("get_compute_usage (admin)", lambda: adm.get_compute_usage("demo", "2020-01-01T00:00:00"))
    t("set_compute_quotas / delete_compute_quotas (admin)", lambda: (adm.set_compute_quotas("demo", cores=30),
                                                                   adm.delete_compute_quotas("demo")))
    t("get_network_quotas / set_network_quotas (admin)", lambda: (adm.get_network_quotas("demo"),
                                                                  adm.set_network_quotas("demo", port=60)))
    t("list_ports(filters={'device_owner'})", lambda: need_(conn.list_ports(
        filters={"device_owner": "network:router_interface"})))
    t("search_subnets(filters={'ip_version': 6})", lambda: need_(all(
        x.ip_version == 6 for x in conn.search_subnets(filters={"ip_version": 6}))))
    t("range_search", lambda: need_(conn.range_search(conn.list_flavors(), {"ram": ">=4096"})))
    t("create_image(filename=, wait) / delete_image(wait)", lambda: _cloud_image(conn, s.work))
    t("list_projects / get_project (admin)", lambda: need_(adm.get_project("alt_demo")))
    t("create_user / update_user / delete_user (admin)", lambda: (
        adm.create_user("shade-user", password="S3cret-9", domain_id="default"),
        adm.update_user("shade-user", email="s@example.org"), need_(adm.delete_user("shade-user"))))
    t("list_roles / grant_role / revoke_role (admin)", lambda: (
        adm.create_user("shade-user2", password="S3cret-9", domain_id="default"),
        need_(adm.grant_role("reader", user="shade-user2", project="alt_demo")),
        need_(adm.revoke_role("reader", user="shade-user2", project="alt_demo")),
        adm.delete_user("shade-user2")))
    t("create_group / delete_group (admin)", lambda: (adm.create_group("shade-group", "d", domain="default"),
                                                     need_(adm.delete_group("shade-group"))))
    t("list_services / list_endpoints / search_endpoints (admin)", lambda: need_(
        adm.list_services() and adm.search_endpoints(filters={"interface": "public"})))
    t("list_domains / get_domain (admin)", lambda: need_(adm.get_domain("default")))


def _cloud_image(conn, work):
    fn = os.path.join(work, "shade.qcow2")
    with open(fn, "wb") as f:
        f.write(os.urandom(50000))
    img = conn.create_image("shade-img", filename=fn, disk_format="qcow2", container_format="bare", wait=True,
                            timeout=60)
    need_(img.status == "active", "status %r" % img.status)
    need_(conn.delete_image("shade-img", wait=True, timeout=60))


def need_(cond, why="unexpected result"):
    if not cond:
        raise StepFailed(why)
    return True


def _authorize(c):
    c.authorize()
    return c


def _md5(resp):
    data = resp.content if hasattr(resp, "content") else resp
    return hashlib.md5(data).hexdigest()


def _groups(adm):
    g = adm.identity.create_group(name="sdk-group", domain_id="default")
    u = adm.identity.find_user("demo", ignore_missing=False)
    adm.identity.add_user_to_group(u, g)
    need_(adm.identity.check_user_in_group(u, g))
    adm.identity.remove_user_from_group(u, g)
    adm.identity.delete_group(g)


def _appcred(conn):
    uid = conn.current_user_id
    ac = conn.identity.create_application_credential(uid, name="sdk-ac")
    need_(ac.secret)
    need_(any(a.name == "sdk-ac" for a in conn.identity.application_credentials(uid)))
    conn.identity.delete_application_credential(uid, ac.id)


def _paged(conn):
    ids = [x.id for x in conn.compute.servers(limit=1)]
    need_(len(ids) == len(set(ids)) and len(ids) >= 1, "ids %s" % ids)


def _stopstart(conn, sid):
    conn.compute.stop_server(sid)
    conn.compute.wait_for_server(conn.compute.get_server(sid), "SHUTOFF", wait=60)
    conn.compute.start_server(sid)
    conn.compute.wait_for_server(conn.compute.get_server(sid), "ACTIVE", wait=60)


def _snapshot(conn, sid):
    img = conn.compute.create_server_image(sid, "sdk-snap", wait=True, timeout=60)
    conn.image.delete_image(img)


def _aggregates(adm):
    a = adm.compute.create_aggregate(name="sdk-agg", availability_zone="sdk-az")
    adm.compute.add_host_to_aggregate(a, "mockcloud-compute-1")
    adm.compute.remove_host_from_aggregate(a, "mockcloud-compute-1")
    adm.compute.delete_aggregate(a)


def _network(conn, st):
    st["net"] = conn.network.create_network(name="sdk-net")
    st["subnet"] = conn.network.create_subnet(name="sdk-subnet", network_id=st["net"].id, ip_version=4,
                                              cidr="192.168.60.0/24")
    st["port"] = conn.network.create_port(name="sdk-port", network_id=st["net"].id,
                                          fixed_ips=[{"subnet_id": st["subnet"].id, "ip_address": "192.168.60.20"}])
    st["router"] = conn.network.create_router(name="sdk-router", external_gateway_info={
        "network_id": conn.network.find_network("public").id})
    conn.network.add_interface_to_router(st["router"], subnet_id=st["subnet"].id)


def _fip(conn, st):
    fip = conn.network.create_ip(floating_network_id=conn.network.find_network("public").id)
    conn.network.update_ip(fip, port_id=st["port"].id)
    need_(conn.network.get_ip(fip.id).fixed_ip_address == "192.168.60.20")
    conn.network.update_ip(fip, port_id=None)
    conn.network.delete_ip(fip)


def _secgroup(conn):
    g = conn.network.create_security_group(name="sdk-secgroup")
    r = conn.network.create_security_group_rule(security_group_id=g.id, direction="ingress", protocol="tcp",
                                                port_range_min=80, port_range_max=80, ethertype="IPv4")
    need_(any(x.id == r.id for x in conn.network.security_group_rules(security_group_id=g.id)))
    conn.network.delete_security_group_rule(r)
    conn.network.delete_security_group(g)


def _scopes(conn):
    sc = conn.network.create_address_scope(name="sdk-scope", ip_version=4)
    need_(conn.network.find_address_scope("sdk-scope").id == sc.id)
    p = conn.network.create_subnet_pool(name="sdk-pool2", prefixes=["10.40.0.0/16"], address_scope_id=sc.id)
    need_(p.address_scope_id == sc.id, "address_scope_id %r" % p.address_scope_id)
    conn.network.delete_subnet_pool(p)
    conn.network.update_address_scope(sc, name="sdk-scope2")
    need_(any(x.name == "sdk-scope2" for x in conn.network.address_scopes()))
    conn.network.delete_address_scope(sc)


def _network_delete(conn, st):
    conn.network.remove_interface_from_router(st["router"], subnet_id=st["subnet"].id)
    conn.network.delete_router(st["router"])
    conn.network.delete_port(st["port"])
    conn.network.delete_subnet(st["subnet"])
    conn.network.delete_network(st["net"])
    need_(conn.network.find_network("sdk-net") is None)


def _members(conn, alt, iid):
    conn.image.update_image(iid, visibility="shared")
    conn.image.add_member(iid, member_id=alt.current_project_id)
    need_(any(m.member_id == alt.current_project_id for m in conn.image.members(iid)))
    alt.image.update_member(alt.current_project_id, iid, status="accepted")
    need_(any(i.id == iid for i in alt.image.images(member_status="accepted", visibility="shared")))
    conn.image.remove_member(alt.current_project_id, iid)


# =========================================================================

def start_mockcloud(args, work):
    binary = os.path.join(TOP, "bin", "mockcloud")
    if not os.access(binary, os.X_OK):
        subprocess.run(["make", "-s", "-C", TOP, "bin/mockcloud"], check=True)
    log = os.path.join(work, "mockcloud.log")
    cmd = [binary, "--listen", "127.0.0.1:0", "--profile", args.profile, "--log-level", "info",
           "--fixtures", os.path.join(TOP, "fixtures"), "--profiles", os.path.join(TOP, "profiles")]
    for d in args.deviate:
        cmd += ["--deviate", d]
    proc = subprocess.Popen(cmd, stderr=open(log, "w"), stdout=subprocess.DEVNULL)
    url = None
    for _ in range(200):
        with open(log) as f:
            m = re.search(r" listening on (http:\S+) ", f.read())
        if m:
            url = m.group(1)
            break
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    if url is None:
        proc.kill()
        sys.exit("sweep: mockcloud did not start:\n" + open(log).read())
    return proc, url


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--profile", default="conformant")
    ap.add_argument("--deviate", action="append", default=[])
    ap.add_argument("--only", choices=["cli", "sdk"])
    ap.add_argument("--sections", default="identity,compute,network,image,more,errors",
                    help="CLI sections to run (comma-separated)")
    ap.add_argument("--fork", action="store_true", help="run /usr/bin/openstack for every CLI step")
    ap.add_argument("--url", help="use a running mockcloud (control API reachable) instead of starting one")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    time.sleep = _short_sleep
    work = tempfile.mkdtemp(prefix="mc-sweep-")
    proc = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        proc, url = start_mockcloud(args, work)
    t0 = time.time()
    try:
        s = Sweep(args, url, work)
        s.shim = os.path.join(work, "shim")
        os.makedirs(s.shim)
        with open(os.path.join(s.shim, "sitecustomize.py"), "w") as f:
            f.write("import time\n_s = time.sleep\ntime.sleep = lambda x: _s(min(x, 0.25))\n")
        import urllib.request
        with urllib.request.urlopen(url + "/mockcloud/v1/clouds.yaml") as r, open(s.clouds, "wb") as f:
            f.write(r.read())
        os.environ["OS_CLIENT_CONFIG_FILE"] = s.clouds
        for k in [k for k in os.environ if k.startswith("OS_") and k != "OS_CLIENT_CONFIG_FILE"]:
            del os.environ[k]
        print("sweep: mockcloud at %s, profile %s%s, CLI %s" % (
            url, args.profile, "".join(" --deviate " + d for d in args.deviate),
            "forked" if args.fork else "in-process"), flush=True)
        s.ext = set(s.q("extension list --network -f value -c Alias").split())
        sections = args.sections.split(",")
        todo = []
        if args.only != "sdk":
            todo = [fn for name, fn in (("identity", cli_identity), ("compute", cli_compute),
                                        ("network", cli_network), ("image", cli_image), ("more", cli_more),
                                        ("errors", cli_errors))
                    if name in sections]
        if args.only != "cli":
            todo.append(sdk)
        for fn in todo:
            try:
                fn(s)
            except Exception as e:  # a bug of the sweep's own: the section stops, the run goes on
                s.report("%s: the section stopped" % fn.__name__, "FAIL", "%s: %s" % (type(e).__name__, e))
                traceback.print_exc()
    finally:
        if proc:
            proc.terminate()
            proc.wait()
    ok = sum(1 for r in s.results if r[2] == "OK")
    failed = [r for r in s.results if r[2] == "FAIL"]
    skipped = sum(1 for r in s.results if r[2] == "SKIP")
    print("== sweep: %d steps, %d OK, %d FAIL, %d SKIP (%.0fs)" % (len(s.results), ok, len(failed), skipped,
                                                                  time.time() - t0))
    for r in failed:
        print("  FAIL [%s] %s: %s" % (r[0], r[1], r[3][:200]))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
