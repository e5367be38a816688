"""Minimal REST client for the lab scripts: one Keystone token, plain requests, bounded polling."""
import sys
import time

import requests

KS = "http://127.0.0.1:5000/v3"
NOVA = "http://127.0.0.1:8774/v2.1"
NEUTRON = "http://127.0.0.1:9696/v2.0"
GLANCE = "http://127.0.0.1:9292/v2"
COMPUTE_VERSION = "2.79"


class LabError(Exception):
    pass


class Api:
    """One scoped token; get/post/put/delete return the decoded JSON (or None) and raise on 4xx/5xx."""

    def __init__(self, project="admin", user="admin", password="admin"):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"name": "Default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}
        r = requests.post(f"{KS}/auth/tokens", json=body, timeout=30)
        if r.status_code != 201:
            raise LabError(f"keystone refused the login of {user}@{project}: {r.status_code} {r.text[:200]}")
        self.project_id = r.json()["token"]["project"]["id"]
        self.cinder = f"http://127.0.0.1:8776/v3/{self.project_id}"
        self.s = requests.Session()
        self.s.headers.update({"X-Auth-Token": r.headers["X-Subject-Token"],
                               "OpenStack-API-Version": f"compute {COMPUTE_VERSION}, volume 3.27",
                               "X-OpenStack-Nova-API-Version": COMPUTE_VERSION})

    def call(self, method, url, body=None, ok=(200, 201, 202, 204), **params):
        r = self.s.request(method, url, json=body, params=params or None, timeout=120)
        if r.status_code not in ok:
            raise LabError(f"{method} {url} -> {r.status_code}: {r.text[:300]}")
        return r.json() if r.content and r.headers.get("Content-Type", "").startswith("application/json") else None

    def get(self, url, **params):
        return self.call("GET", url, **params)

    def post(self, url, body, **kw):
        return self.call("POST", url, body, **kw)

    def put(self, url, body, **kw):
        return self.call("PUT", url, body, **kw)

    def delete(self, url, ok=(202, 204, 404)):
        return self.call("DELETE", url, ok=ok)

    def list_all(self, url, key, page=500, **params):
        """Every item of a Nova listing, page by page (nova-api returns at most osapi_max_limit, 1000)."""
        out, marker = [], None
        while True:
            items = self.get(url, limit=page, **params, **({"marker": marker} if marker else {}))[key]
            out += items
            if len(items) < page:
                return out
            marker = items[-1]["id"]

    def find_one(self, url, key, name):
        items = self.get(url, name=name)[key]
        if not items:
            raise LabError(f"{key[:-1]} '{name}' not found: run lab/up first")
        return items[0]["id"]


def wait_for(what, check, timeout=300, interval=0.5):
    """Poll check() until it returns a truthy value; raise LabError after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        v = check()
        if v:
            return v
        if time.monotonic() > deadline:
            raise LabError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def say(msg):
    print(msg, file=sys.stderr, flush=True)


PLACEMENT = "http://127.0.0.1:8778"


def add_trait(api, provider, trait):
    """Puts trait on a Placement resource provider (creating the trait); True when it was added,
    False when it was there. nova-compute keeps traits it does not own, but it updates its provider
    now and then: a 409 (generation changed meanwhile) reads again."""
    h = {"OpenStack-API-Version": "placement 1.6"}
    api.s.put(f"{PLACEMENT}/traits/{trait}", headers=h, timeout=30)
    for _ in range(10):
        got = api.s.get(f"{PLACEMENT}/resource_providers/{provider}/traits", headers=h, timeout=30)
        if got.status_code != 200:
            raise LabError(f"reading the traits of provider {provider}: {got.status_code} {got.text[:200]}")
        cur = got.json()
        if trait in cur["traits"]:
            return False
        r = api.s.put(f"{PLACEMENT}/resource_providers/{provider}/traits", headers=h, timeout=30, json={
            "traits": cur["traits"] + [trait], "resource_provider_generation": cur["resource_provider_generation"]})
        if r.status_code == 200:
            return True
        if r.status_code != 409:
            raise LabError(f"setting {trait} on {provider}: {r.status_code} {r.text[:200]}")
        time.sleep(0.5)
    raise LabError(f"could not set {trait} on {provider} (generation conflicts)")


def flavor_traits(api, flavor, wants):
    """Creates flavor (m1.tiny's size) when missing and sets each (flavor name, trait, required|forbidden)
    of wants as an extra spec; returns what it changed, for the caller's summary."""
    done = []
    flavors = {f["name"]: f["id"] for f in api.get(f"{NOVA}/flavors", is_public="None")["flavors"]}
    if flavor not in flavors:
        flavors[flavor] = api.post(f"{NOVA}/flavors", {"flavor": {"name": flavor, "vcpus": 1, "ram": 64, "disk": 1}})["flavor"]["id"]
        done.append(f"flavor {flavor}")
    for name, trait, value in wants:
        specs = api.get(f"{NOVA}/flavors/{flavors[name]}/os-extra_specs")["extra_specs"]
        if specs.get(f"trait:{trait}") != value:
            api.post(f"{NOVA}/flavors/{flavors[name]}/os-extra_specs", {"extra_specs": {f"trait:{trait}": value}})
            done.append(f"{name} trait:{trait}={value}")
    return done


def run_fixtures(title, build):
    """Runs build(api), which returns what it changed, and says so ("<title>: all present" when
    nothing); on a LabError says it and exits 1. The shape of lab/lib/c03.py and pairs.py."""
    try:
        done = build(Api())
    except LabError as e:
        say(f"lab: ERROR: {e}")
        sys.exit(1)
    say(f"{title}: " + (", ".join(done) if done else "all present"))
