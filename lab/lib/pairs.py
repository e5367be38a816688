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
from labapi import add_trait, flavor_traits, run_fixtures  # noqa: E402

FLAVOR, TRAIT, C03_TRAIT = os.environ["FLAVOR"], os.environ["TRAIT"], os.environ["C03_TRAIT"]
PROVIDERS = os.environ["PROVIDERS"].split()   # "host=uuid host=uuid"
def build(api):
    # 1. the pair's flavor (m1.tiny's size), requiring the trait and forbidding c03's
    wants = [(FLAVOR, TRAIT, "required"), (FLAVOR, C03_TRAIT, "forbidden")]
    done = flavor_traits(api, FLAVOR, wants + [(name, TRAIT, "forbidden") for name in ("m1.tiny", "m1.small", "m1.medium")])
    # 2. the trait on each of the pair's providers
    for host, provider in (p.split("=", 1) for p in PROVIDERS):
        if add_trait(api, provider, TRAIT):
            done.append(f"trait {TRAIT} on {host}")
    return done


run_fixtures("pair fixtures", build)
