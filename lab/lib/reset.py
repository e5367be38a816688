#!/usr/bin/python3
"""Return the lab to an empty cloud without reinstalling (or remove only what one prefix names).

Deletes servers (all projects), volumes, ports that no network owns, and networks other than
Public_AGILE; then makes c01/c02 enabled and not forced down. lab/reset (the shell part) has
already started both nova-computes and, after this, purges Nova's soft-deleted rows.
"""
import argparse
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
from labapi import NEUTRON, NOVA, Api, LabError, say, wait_for  # noqa: E402

p = argparse.ArgumentParser(prog="lab/reset", description=__doc__)
p.add_argument("--prefix", default="", help="only remove servers/ports/volumes/networks whose name starts with this")
a = p.parse_args()
pre = a.prefix


def mine(name):
    return (name or "").startswith(pre) if pre else True


try:
    api = Api()
    # 1. servers, every project; stuck task states are reset first so that delete is accepted
    def delete_server(sid, reset_first):
        if reset_first:
            api.post(f"{NOVA}/servers/{sid}/action", {"os-resetState": {"state": "error"}}, ok=(202, 404))
        api.delete(f"{NOVA}/servers/{sid}")

    servers = [s for s in api.list_all(f"{NOVA}/servers/detail", "servers", all_tenants=1) if mine(s["name"])]
    for s in servers:
        delete_server(s["id"], s.get("OS-EXT-STS:task_state") or s["status"] not in ("ACTIVE", "SHUTOFF", "ERROR"))
    ids = {s["id"] for s in servers}
    # Nova deletes about one fake-driver server a second (docs/lab.md). A delete that met a migration
    # in flight is dropped (the server stays, in ERROR): whatever is still there a minute after its
    # last delete is reset and deleted again.
    deadline, kicked = time.monotonic() + 120 + 2 * len(ids), time.monotonic()
    while ids:
        ids &= {s["id"] for s in api.list_all(f"{NOVA}/servers", "servers", all_tenants=1)}
        if not ids:
            break
        if time.monotonic() > deadline:
            raise LabError(f"timed out waiting for {len(ids)} servers to be deleted")
        if time.monotonic() - kicked > 60:
            for sid in ids:
                delete_server(sid, True)
            kicked = time.monotonic()
        time.sleep(2)
    # 2. volumes, every project (a volume still "in-use" after its server is gone is reset first)
    vols = [v for v in api.get(f"{api.cinder}/volumes/detail", all_tenants=1)["volumes"] if mine(v["name"])]
    for v in vols:
        if v["status"] not in ("available", "error", "error_deleting"):
            api.post(f"{api.cinder}/volumes/{v['id']}/action",
                     {"os-reset_status": {"status": "available", "attach_status": "detached"}})
        api.call("DELETE", f"{api.cinder}/volumes/{v['id']}", ok=(202, 404), cascade="true")
    vids = {v["id"] for v in vols}
    if vids:
        wait_for(f"{len(vids)} volumes to be deleted", lambda: not vids & {
            v["id"] for v in api.get(f"{api.cinder}/volumes", all_tenants=1)["volumes"]}, timeout=120)
    # 3. ports that no network service owns (DHCP/router ports would be network:*), then extra networks
    keep = {n["id"] for n in api.get(f"{NEUTRON}/networks", name="Public_AGILE")["networks"]}
    for port in api.get(f"{NEUTRON}/ports")["ports"]:
        if not port["device_owner"].startswith("network:") and mine(port["name"]):
            api.delete(f"{NEUTRON}/ports/{port['id']}")
    for n in api.get(f"{NEUTRON}/networks")["networks"]:
        if n["id"] not in keep and mine(n["name"]):
            api.delete(f"{NEUTRON}/networks/{n['id']}", ok=(204, 404, 409))
    # 4. compute services: enabled and not forced down (only in a full reset)
    if not pre:
        for svc in api.get(f"{NOVA}/os-services", binary="nova-compute")["services"]:
            if svc["status"] != "enabled" or svc["forced_down"]:
                api.put(f"{NOVA}/os-services/{svc['id']}", {"status": "enabled", "forced_down": False})
except LabError as e:
    say(f"lab/reset: ERROR: {e}")
    sys.exit(1)
say(f"reset: removed {len(servers)} servers, {len(vols)} volumes" + (f" named {pre}*" if pre else ""))
