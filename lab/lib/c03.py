#!/usr/bin/python3
"""Idempotent fixtures of the libvirt host c03 (lab/lib/libvirt.sh): the image with known files, the
flavor of c03's servers, c03 alone in its availability zone, and the Placement trait that keeps the
lab's ordinary flavors off c03 (they forbid it; m1.inspect requires it).
"""
import hashlib
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from labapi import GLANCE, NOVA, LabError, add_trait, flavor_traits, run_fixtures  # noqa: E402

IMAGE, FLAVOR, AZ, TRAIT = os.environ["IMAGE"], os.environ["FLAVOR"], os.environ["AZ"], os.environ["TRAIT"]
PROVIDER, IMAGE_FILE = os.environ["PROVIDER"], os.environ["IMAGE_FILE"]
def build(api):
    done = []
    # 1. the image (qcow2, public): the file's, or replaced (an older build of it)
    with open(IMAGE_FILE, "rb") as f:
        md5 = hashlib.md5(f.read()).hexdigest()
    images = [i for i in api.get(f"{GLANCE}/images", name=IMAGE)["images"] if i["status"] == "active"]
    for old in [i for i in images if i.get("checksum") != md5]:
        api.delete(f"{GLANCE}/images/{old['id']}")
        done.append(f"image {IMAGE} {old['id']} deleted (another build)")
    if not [i for i in images if i.get("checksum") == md5]:
        img = api.post(f"{GLANCE}/images", {"name": IMAGE, "disk_format": "qcow2", "container_format": "bare",
                                            "visibility": "public"})
        with open(IMAGE_FILE, "rb") as f:
            r = api.s.put(f"{GLANCE}/images/{img['id']}/file", data=f,
                          headers={"Content-Type": "application/octet-stream"}, timeout=120)
        if r.status_code != 204:
            raise LabError(f"uploading {IMAGE} failed: {r.status_code} {r.text[:200]}")
        done.append(f"image {IMAGE}")
    # 2. flavors: m1.inspect requires the trait, the ordinary ones forbid it
    done += flavor_traits(api, FLAVOR, [(name, TRAIT, "required" if name == FLAVOR else "forbidden")
                                        for name in (FLAVOR, "m1.tiny", "m1.small", "m1.medium")])
    # 3. c03 alone in the availability zone AZ
    aggs = [a for a in api.get(f"{NOVA}/os-aggregates")["aggregates"] if a["name"] == AZ]
    agg = aggs[0] if aggs else api.post(f"{NOVA}/os-aggregates", {"aggregate": {"name": AZ, "availability_zone": AZ}})["aggregate"]
    if "c03" not in agg.get("hosts", []):
        api.post(f"{NOVA}/os-aggregates/{agg['id']}/action", {"add_host": {"host": "c03"}})
        done.append(f"c03 in availability zone {AZ}")
    # 4. the trait on c03's resource provider
    if add_trait(api, PROVIDER, TRAIT):
        done.append(f"trait {TRAIT} on c03's provider")
    return done


run_fixtures("c03 fixtures", build)
