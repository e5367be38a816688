#!/usr/bin/python3
"""Idempotent Keystone catalog and base fixtures of the lab, in one process (openstacksdk).

Service project, users, roles and endpoints; project/user "demo"; unlimited quotas; flavors; the
image "cirros"; the flat external network Public_AGILE with an IPv4 and an IPv6 subnet.
Doing this with ~40 `openstack` CLI calls would cost ~1.2 s each.
"""
import os
import sys

import openstack

PHASE = sys.argv[1] if len(sys.argv) > 1 else "all"   # catalog | fixtures | all
LAB = os.environ.get("LAB", "/var/lib/openstack-lab")
SVCPASS = os.environ.get("SVCPASS", "secret")

c = openstack.connect(auth_url="http://127.0.0.1:5000/v3", username="admin",
                      password=os.environ.get("ADMINPASS", "admin"), project_name="admin",
                      user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")
idn = c.identity
changed = []


def project(name):
    p = idn.find_project(name, domain_id="default")
    if not p:
        p = idn.create_project(name=name, domain_id="default")
        changed.append(f"project {name}")
    return p


def user(name, password, proj):
    u = idn.find_user(name, domain_id="default")
    if not u:
        u = idn.create_user(name=name, password=password, domain_id="default", default_project_id=proj.id)
        changed.append(f"user {name}")
    return u


service = project("service")
admin_project = project("admin")
demo = project("demo")
roles = {r: (idn.find_role(r) or idn.create_role(name=r)) for r in ("admin", "member", "reader", "service")}
for name, (stype, port, path) in {
        "nova": ("compute", 8774, "/v2.1"), "placement": ("placement", 8778, ""),
        "neutron": ("network", 9696, ""), "glance": ("image", 9292, ""),
        "cinder": ("volumev3", 8776, "/v3/%(project_id)s")}.items():
    u = user(name, SVCPASS, service)
    for r in ("admin", "service"):   # "service": service tokens (OSSA-2023-003) need it
        if not idn.validate_user_has_project_role(service, u, roles[r]):
            idn.assign_project_role_to_user(service, u, roles[r])
    s = idn.find_service(name) or idn.create_service(name=name, type=stype)
    have = {e.interface for e in idn.endpoints(service_id=s.id)}
    for iface in ("public", "internal", "admin"):
        if iface not in have:
            idn.create_endpoint(service_id=s.id, interface=iface, region_id="RegionOne",
                                url=f"http://127.0.0.1:{port}{path}")
            changed.append(f"endpoint {name} {iface}")
demo_user = user("demo", "demo", demo)
if not idn.validate_user_has_project_role(demo, demo_user, roles["member"]):
    idn.assign_project_role_to_user(demo, demo_user, roles["member"])
admin_user = idn.find_user("admin", domain_id="default")
if not idn.validate_user_has_project_role(demo, admin_user, roles["admin"]):
    # lets the admin account act in "demo" too (e.g. seeding servers of another project)
    idn.assign_project_role_to_user(demo, admin_user, roles["admin"])

if PHASE == "catalog":
    print("catalog: " + (", ".join(changed) if changed else "all present"), file=sys.stderr)
    sys.exit(0)
if changed:   # the catalog was just created: reconnect so that the new endpoints are seen
    c = openstack.connect(auth_url="http://127.0.0.1:5000/v3", username="admin",
                          password=os.environ.get("ADMINPASS", "admin"), project_name="admin",
                          user_domain_name="Default", project_domain_name="Default", region_name="RegionOne")

# the default quota (10 instances, 50 ports) is far too small for a seeded lab
for p in (admin_project, demo):
    c.set_compute_quotas(p.id, instances=-1, cores=-1, ram=-1)
    c.set_network_quotas(p.id, port=-1)
    c.set_volume_quotas(p.id, volumes=-1, gigabytes=-1)

for name, vcpus, ram, disk in (("m1.tiny", 1, 64, 1), ("m1.small", 1, 512, 1), ("m1.medium", 2, 1024, 2)):
    if not c.compute.find_flavor(name):
        c.compute.create_flavor(name=name, vcpus=vcpus, ram=ram, disk=disk)
        changed.append(f"flavor {name}")

if not c.image.find_image("cirros"):
    img = os.path.join(LAB, "tiny.img")
    with open(img, "wb") as f:
        f.write(b"\0" * 1048576)   # the fake virt driver never reads it
    c.image.create_image(name="cirros", filename=img, disk_format="raw", container_format="bare",
                         visibility="public", wait=True)
    changed.append("image cirros")

net = c.network.find_network("Public_AGILE")
if not net:
    net = c.network.create_network(name="Public_AGILE", shared=True, is_router_external=True,
                                   provider_network_type="flat", provider_physical_network="physnet1")
    changed.append("network Public_AGILE")
if not c.network.find_subnet("Public_AGILE_v4", network_id=net.id):
    c.network.create_subnet(name="Public_AGILE_v4", network_id=net.id, ip_version=4, cidr="192.0.2.0/24",
                            gateway_ip="192.0.2.1", allocation_pools=[{"start": "192.0.2.10", "end": "192.0.2.250"}],
                            is_dhcp_enabled=False)
    changed.append("subnet Public_AGILE_v4")
if not c.network.find_subnet("Public_AGILE_v6", network_id=net.id):
    # no RA/DHCP mode: Neutron's IPAM hands out addresses from the pool, as for IPv4
    c.network.create_subnet(name="Public_AGILE_v6", network_id=net.id, ip_version=6, cidr="2001:db8:a61e::/64",
                            gateway_ip="2001:db8:a61e::1",
                            allocation_pools=[{"start": "2001:db8:a61e::10", "end": "2001:db8:a61e::ffff"}],
                            is_dhcp_enabled=False)
    changed.append("subnet Public_AGILE_v6")

print("fixtures: " + (", ".join(changed) if changed else "all present"), file=sys.stderr)
