#!/usr/bin/python3
"""Seed the lab through the REST APIs with one token per project: servers on c01, ports, a volume.

Prints a JSON summary (ids by kind) on stdout; progress goes to stderr.
"""
import argparse
import json
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from labapi import GLANCE, NEUTRON, NOVA, Api, LabError, say, wait_for  # noqa: E402

# 1,000 fake-driver servers fit c01 (issue 15's drain at scale); one multi-create request boots at
# most BATCH of them, so nova-conductor and the scheduler see a steady stream rather than one
# 1,000-instance build request (and a failed batch names its servers).
MAX_SERVERS = 1000
BATCH = 100

p = argparse.ArgumentParser(prog="lab/seed", description=__doc__)
p.add_argument("--servers", type=int, default=10, help="servers to boot on c01 (0-1000), default 10")
p.add_argument("--net-servers", type=int, default=None,
               help="how many of them get a port on Public_AGILE (default: min(servers, 5))")
p.add_argument("--ports", type=int, default=3, help="unattached ports on Public_AGILE, default 3")
p.add_argument("--volume", action=argparse.BooleanOptionalAction, default=True,
               help="create a 1 GiB volume and attach it to the first server with a port (default: yes)")
p.add_argument("--project", default="admin", choices=("admin", "demo"), help="project that owns everything")
p.add_argument("--prefix", default="seed", help="name prefix of everything created, default 'seed'")
p.add_argument("--host", default="c01", choices=("c01", "c02", "c04", "c05"), help="compute host, default c01")
a = p.parse_args()
if not 0 <= a.servers <= MAX_SERVERS:
    p.error(f"--servers must be between 0 and {MAX_SERVERS}")
net_servers = min(a.servers, 5) if a.net_servers is None else a.net_servers
if not 0 <= net_servers <= a.servers:
    p.error("--net-servers must be between 0 and --servers")
if a.volume and net_servers == 0 and a.servers == 0:
    p.error("--volume needs at least one server")

t0 = time.monotonic()
try:
    api = Api(project=a.project, user="admin", password="admin")
    # c04/c05 take only m1.pair2 and m1.tiny stays off them (lab/lib/pairs.py)
    flavor_name = "m1.pair2" if a.host in ("c04", "c05") else "m1.tiny"
    flavor = [f["id"] for f in api.get(f"{NOVA}/flavors")["flavors"] if f["name"] == flavor_name]
    image = api.get(f"{GLANCE}/images", name="cirros")["images"]
    if not flavor or not image:
        raise LabError(f"flavor '{flavor_name}' or image 'cirros' not found: run lab/up first")
    net = api.find_one(f"{NEUTRON}/networks", "networks", "Public_AGILE")
    out = {"servers": [], "net_servers": [], "ports": [], "volumes": []}

    def boot(name, count, networks):
        """Multi-create requests of at most BATCH servers; Nova names them <name>-<batch>-1 .. (one
        batch: <name>-1 .. <name>-<count>, as before)."""
        for b, first in enumerate(range(0, count, BATCH)):
            n = min(BATCH, count - first)
            body = {"server": {"name": name if count <= BATCH else f"{name}-b{b + 1:02d}", "flavorRef": flavor[0],
                               "imageRef": image[0]["id"], "networks": networks,
                               "availability_zone": f"nova:{a.host}", "min_count": n, "max_count": n}}
            api.post(f"{NOVA}/servers", body)

    plain = a.servers - net_servers
    if plain:
        boot(f"{a.prefix}-vm", plain, "none")
    if net_servers:
        boot(f"{a.prefix}-netvm", net_servers, [{"uuid": net}])
    if a.ports:   # one bulk request for every free port
        body = {"ports": [{"network_id": net, "name": f"{a.prefix}-port-{i + 1:02d}.sys.example.com"}
                          for i in range(a.ports)]}
        out["ports"] = [x["id"] for x in api.post(f"{NEUTRON}/ports", body)["ports"]]

    def all_active():
        """Cheap polls (limit=1) while anything builds; the full listing only once at the end."""
        q = {"name": f"^{a.prefix}-"}
        if api.get(f"{NOVA}/servers/detail", status="ERROR", limit=1, **q)["servers"]:
            raise LabError(f"servers named {a.prefix}-* went to ERROR (see /var/log/nova/)")
        if api.get(f"{NOVA}/servers/detail", status="BUILD", limit=1, **q)["servers"]:
            return None
        servers = api.list_all(f"{NOVA}/servers/detail", "servers", **q)
        done = [s for s in servers if s["status"] == "ACTIVE" and not s.get("OS-EXT-STS:task_state")]
        return servers if len(servers) >= a.servers and len(done) == len(servers) else None

    if a.servers:
        servers = wait_for(f"{a.servers} servers ACTIVE", all_active, timeout=120 + 3 * a.servers, interval=2)
        for s in sorted(servers, key=lambda s: s["name"]):
            (out["net_servers"] if "-netvm-" in s["name"] else out["servers"]).append(s["id"])
        say(f"seed: {len(servers)} servers ACTIVE on {a.host}")
    if a.volume:
        vol = api.post(f"{api.cinder}/volumes", {"volume": {"size": 1, "name": f"{a.prefix}-vol"}})["volume"]
        wait_for("volume available", lambda: api.get(f"{api.cinder}/volumes/{vol['id']}")["volume"]["status"]
                 == "available", timeout=60)
        target = (out["net_servers"] or out["servers"])[0]
        api.post(f"{NOVA}/servers/{target}/os-volume_attachments", {"volumeAttachment": {"volumeId": vol["id"]}})
        wait_for("volume in-use", lambda: api.get(f"{api.cinder}/volumes/{vol['id']}")["volume"]["status"]
                 == "in-use", timeout=60)
        out["volumes"].append({"id": vol["id"], "server": target})
        say(f"seed: volume {vol['id']} attached to {target}")
except LabError as e:
    say(f"lab/seed: ERROR: {e}")
    sys.exit(1)
out["seconds"] = round(time.monotonic() - t0, 1)
say(f"seed: done in {out['seconds']} s")
print(json.dumps(out, indent=1))
