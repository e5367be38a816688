#!/usr/bin/python3
"""Idempotent fixtures that keep the lab's two pairs of fake-driver hosts apart (lab/lib/services.sh,
ensure_pairs): c01/c02 and c04/c05. The tests of each pair boot servers on it and move them inside
it, and two lanes of them run at once; whatever Nova schedules on its own (a drain or an evacuation
without a target) must stay inside the pair. A Placement trait does it, as for c03: the pair's
providers have it, its flavor m1.pair2 requires it, the ordinary flavors forbid it. m1.pair2 also
forbids c03's trait, so its servers never land there either.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from labapi import NOVA, Api, LabError, add_trait, say  # noqa: E402

FLAVOR, TRAIT, C03_TRAIT = os.environ["FLAVOR"], os.environ["TRAIT"], os.environ["C03_TRAIT"]
PROVIDERS = os.environ["PROVIDERS"].split()   # "host=uuid host=uuid"
done = []

try:
    api = Api()
    # 1. the pair's flavor (m1.tiny's size), requiring the trait and forbidding c03's
    flavors = {f["name"]: f["id"] for f in api.get(f"{NOVA}/flavors", is_public="None")["flavors"]}
    if FLAVOR not in flavors:
        flavors[FLAVOR] = api.post(f"{NOVA}/flavors", {"flavor": {"name": FLAVOR, "vcpus": 1, "ram": 64, "disk": 1}})["flavor"]["id"]
        done.append(f"flavor {FLAVOR}")
    want = [(FLAVOR, TRAIT, "required"), (FLAVOR, C03_TRAIT, "forbidden")]
    want += [(name, TRAIT, "forbidden") for name in ("m1.tiny", "m1.small", "m1.medium")]
    for name, trait, value in want:
        specs = api.get(f"{NOVA}/flavors/{flavors[name]}/os-extra_specs")["extra_specs"]
        if specs.get(f"trait:{trait}") != value:
            api.post(f"{NOVA}/flavors/{flavors[name]}/os-extra_specs", {"extra_specs": {f"trait:{trait}": value}})
            done.append(f"{name} trait:{trait}={value}")
    # 2. the trait on each of the pair's providers
    for host, provider in (p.split("=", 1) for p in PROVIDERS):
        if add_trait(api, provider, TRAIT):
            done.append(f"trait {TRAIT} on {host}")
except LabError as e:
    say(f"lab: ERROR: {e}")
    sys.exit(1)
say("pair fixtures: " + (", ".join(done) if done else "all present"))
