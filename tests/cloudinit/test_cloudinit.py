#!/usr/bin/python3
"""The real cloud-init reads mockcloud's metadata service and config drive.

Starts bin/mockcloud (conformant, then a deviant profile), creates a server
through the compute API (key pair, user data, metadata, config_drive=true on
demo's private network), and reads what the instance would see with
cloud-init's own readers:

  * cloudinit.sources.helpers.openstack.MetadataReader (the OpenStack tree),
  * cloudinit.sources.helpers.ec2 (the EC2 tree),
  * cloudinit.sources.helpers.openstack.ConfigDriveReader on the files of the
    config drive ISO (extracted with isoinfo -J from genisoimage),
  * openstack.convert_net_json (the network config cloud-init would apply).

Against the deviant profile it prints what cloud-init gets wrong and checks
that those are exactly the deviations. Skips cleanly (exit 0, "SKIP: ...")
when cloud-init is not installed.

Usage: tests/cloudinit/test_cloudinit.py [path/to/bin/mockcloud]
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

try:
    from cloudinit.sources.helpers import ec2 as ci_ec2
    from cloudinit.sources.helpers import openstack as ci_os
except ImportError:
    print("SKIP: cloud-init is not installed (Debian package cloud-init; python3 cannot import cloudinit)")
    sys.exit(0)

USER_DATA = b"#cloud-config\nhostname: web-1\nruncmd:\n  - [touch, /tmp/\xc3\xa9t\xc3\xa9]\n"
PUBKEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHZ0mockcloudMockcloudMockcloudMockcl0ud0 "
          "demo@mockcloud")

DEVIANT = {
    "name": "metadata-broken",
    "description": "A cloud whose metadata service gets three things wrong.",
    "extends": "conformant",
    "deviations": [
        {"id": "metadata-no-network-data", "title": "No network_data.json",
         "explanation": "The metadata service predates Liberty.",
         "set": {"metadata.network_data": False}},
        {"id": "metadata-user-data-base64", "title": "user_data still base64",
         "explanation": "The proxy serves the user data as stored, base64-encoded.",
         "set": {"metadata.user_data_base64": True}},
        {"id": "metadata-no-public-keys", "title": "No public keys",
         "explanation": "The key pair never reaches the metadata.",
         "set": {"metadata.public_keys": False}},
    ],
}

failures = []


def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        failures.append(what)


class Cloud:
    """A mockcloud process and a demo token."""

    def __init__(self, binary, profile):
        self.proc = subprocess.Popen(
            [binary, "--listen", "127.0.0.1:0", "--profile", profile, "--profiles",
             os.path.join(TOP, "profiles"), "--fixtures", os.path.join(TOP, "fixtures"),
             "--log-level", "info"],
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        line = self.proc.stderr.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            self.proc.kill()
            raise SystemExit("mockcloud did not start: " + line)
        self.url = m.group(1)
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": "demo", "domain": {"id": "default"}, "password": "secret"}}},
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}}
        req = urllib.request.Request(self.url + "/identity/v3/auth/tokens",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            self.token = r.headers["X-Subject-Token"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method, headers={
            "X-Auth-Token": self.token, "Content-Type": "application/json",
            "X-OpenStack-Nova-API-Version": "2.1"})
        with urllib.request.urlopen(req, timeout=10) as r:
            text = r.read()
            return json.loads(text) if text else None

    def close(self):
        self.proc.terminate()
        self.proc.wait(5)

    def boot(self):
        """Key pair, server with user data and config drive; waits for ACTIVE."""
        self.call("POST", "/compute/v2.1/os-keypairs",
                  {"keypair": {"name": "mykey", "public_key": PUBKEY}})
        net = [n for n in self.call("GET", "/network/v2.0/networks?name=private")["networks"]
               if not n.get("router:external")][0]
        image = [i for i in self.call("GET", "/image/v2/images")["images"]
                 if i["name"] == "cirros-0.6.2-x86_64-disk"][0]
        flavor = sorted(self.call("GET", "/compute/v2.1/flavors/detail")["flavors"],
                        key=lambda f: f["ram"])[0]
        server = self.call("POST", "/compute/v2.1/servers", {"server": {
            "name": "web-1", "imageRef": image["id"], "flavorRef": flavor["id"],
            "networks": [{"uuid": net["id"]}], "key_name": "mykey",
            "user_data": base64.b64encode(USER_DATA).decode(), "config_drive": True,
            "metadata": {"role": "web"}}})["server"]
        sid = server["id"]
        for _ in range(100):
            s = self.call("GET", "/compute/v2.1/servers/" + sid)["server"]
            if s["status"] in ("ACTIVE", "ERROR"):
                break
            time.sleep(0.1)
        if s["status"] != "ACTIVE":
            raise SystemExit("server %s is %s" % (sid, s["status"]))
        port = self.call("GET", "/network/v2.0/ports?device_id=" + sid)["ports"][0]
        return sid, port


def read_service(cloud, sid):
    """cloud-init's OpenStack and EC2 readers against /metadata/{sid}."""
    base = "%s/metadata/%s" % (cloud.url, sid)
    reader = ci_os.MetadataReader(base, timeout=5, retries=0)
    # The reader's EC2 part asks 169.254.169.254: point it at mockcloud.
    reader._read_ec2_metadata = lambda: ci_ec2.get_instance_metadata(
        metadata_address=base, timeout=5, retries=0)
    res = reader.read_v2()
    userdata_ec2 = ci_ec2.get_instance_userdata(metadata_address=base, timeout=5, retries=0)
    return res, userdata_ec2


def read_config_drive(cloud, sid, tmp):
    """The config drive ISO, extracted with isoinfo -J, read by ConfigDriveReader."""
    req = urllib.request.Request("%s/metadata/%s/config-drive" % (cloud.url, sid))
    with urllib.request.urlopen(req, timeout=10) as r:
        iso = r.read()
    path = os.path.join(tmp, "config-2.iso")
    with open(path, "wb") as f:
        f.write(iso)
    info = subprocess.run(["isoinfo", "-d", "-i", path], capture_output=True, text=True).stdout
    label = re.search(r"Volume id:\s*(\S+)", info)
    listing = subprocess.run(["isoinfo", "-J", "-f", "-i", path], capture_output=True, text=True).stdout
    root = os.path.join(tmp, "drive")
    for name in listing.split():
        out = subprocess.run(["isoinfo", "-J", "-i", path, "-x", name], capture_output=True).stdout
        dest = os.path.join(root, name.lstrip("/"))
        if not out and any(other.startswith(name + "/") for other in listing.split()):
            os.makedirs(dest, exist_ok=True)
            continue
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(out)
    return label.group(1) if label else None, ci_os.ConfigDriveReader(root).read_v2()


def physical(netcfg):
    return [c for c in netcfg.get("config", []) if c.get("type") == "physical"]


def run(binary, profile, tmp, deviant):
    print("== profile %s" % ("(deviant) " + DEVIANT["name"] if deviant else profile))
    os.makedirs(tmp, exist_ok=True)
    cloud = Cloud(binary, profile)
    try:
        sid, port = cloud.boot()
        mac = port["mac_address"]
        ip4 = [f["ip_address"] for f in port["fixed_ips"] if ":" not in f["ip_address"]][0]
        res, ud_ec2 = read_service(cloud, sid)
        md, ec2 = res["metadata"], res["ec2-metadata"]
        check(md.get("uuid") == sid, "metadata service: instance id (uuid) is the server id")
        check(ec2.get("instance-id", "").startswith("i-"), "EC2 reader: instance-id %s" % ec2.get("instance-id"))
        check(ec2.get("local-ipv4") == ip4, "EC2 reader: local-ipv4 is the port's address %s" % ip4)
        check(md.get("meta", {}).get("role") == "web", "metadata service: server metadata in meta")
        check(md.get("hostname", "").startswith("web-1"), "metadata service: hostname %s" % md.get("hostname"))
        keys_ok = PUBKEY in (md.get("public_keys") or {}).values()
        ec2_keys = ec2.get("public-keys") or {}
        ec2_keys_ok = PUBKEY in json.dumps(ec2_keys)
        ud_ok = res.get("userdata") == USER_DATA
        net = res.get("networkdata")
        netcfg = ci_os.convert_net_json(net, known_macs={mac: "eth0"}) if net else None
        phys = physical(netcfg) if netcfg else []
        net_ok = bool(phys) and phys[0].get("mac_address") == mac and any(
            s.get("address") == ip4 for s in phys[0].get("subnets", []))
        label, drive = read_config_drive(cloud, sid, tmp)
        if not deviant:
            check(keys_ok, "metadata service: the key pair in public_keys")
            check(ec2_keys_ok, "EC2 reader: the key pair in public-keys")
            check(ud_ok, "metadata service: user_data is exactly the bytes given")
            check(ud_ec2 == USER_DATA, "EC2 reader: user-data is exactly the bytes given")
            check(net_ok, "convert_net_json: eth0 %s with static %s" % (mac, ip4))
            check(label == "config-2", "config drive: volume label %s" % label)
            check(drive["metadata"].get("uuid") == sid, "config drive: instance id")
            check(drive.get("userdata") == USER_DATA, "config drive: user_data")
            check(PUBKEY in (drive["metadata"].get("public_keys") or {}).values(), "config drive: key pair")
            dnet = drive.get("networkdata")
            dphys = physical(ci_os.convert_net_json(dnet, known_macs={mac: "eth0"})) if dnet else []
            check(bool(dphys) and dphys[0].get("mac_address") == mac, "config drive: network config for %s" % mac)
            check(drive.get("ec2-metadata", {}).get("local-ipv4") == ip4, "config drive: ec2 meta-data.json")
        else:
            print("  what cloud-init gets wrong on this cloud:")
            check(not keys_ok and not ec2_keys_ok,
                  "no SSH key: public_keys missing, the user cannot log in (%s)" % list((md.get("public_keys") or {}).keys()))
            check(not ud_ok and res.get("userdata") == base64.b64encode(USER_DATA),
                  "user data arrives base64-encoded: no '#cloud-config' header, cloud-init ignores it")
            check(net is None,
                  "no network_data.json: cloud-init falls back to DHCP on the first NIC (no static %s)" % ip4)
            check(drive.get("networkdata") is None, "config drive: no network_data.json either")
    finally:
        cloud.close()


def main():
    global TOP
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(TOP, "bin", "mockcloud")
    TOP = os.path.dirname(os.path.dirname(binary))   # fixtures/ and profiles/ next to bin/
    if shutil.which("isoinfo") is None:
        print("SKIP: isoinfo (Debian package genisoimage) is needed to read the config drive")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        run(binary, "conformant", os.path.join(tmp, "a"), False)
        dev = os.path.join(tmp, "metadata-broken.json")
        with open(dev, "w") as f:
            json.dump(DEVIANT, f)
        run(binary, dev, os.path.join(tmp, "b"), True)
    if failures:
        print("FAILED: %d check(s)" % len(failures))
        return 1
    print("PASSED: cloud-init reads mockcloud's metadata and config drive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
