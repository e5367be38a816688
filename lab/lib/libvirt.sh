# shellcheck shell=bash
# The lab's libvirt compute host c03 (127.0.0.13): libvirtd + virtlogd started by PID file (no
# systemd here), Nova's libvirt driver with QEMU under KVM where /dev/kvm opens, TCG otherwise.
# Its guests are real QEMU processes whose disks are qcow2 overlays in /var/lib/nova/instances-c03.
#
# Facts this file is built on (measured on this kind of machine):
# - Under the outer hypervisor any host-derived CPU model (host-model, host-passthrough) aborts
#   QEMU ("failed to set MSR 0x10a"): cpu_mode = none.
# - Without the [nova_sys_admin] helper override the first boot fails (sudo nova-rootwrap).
# - Nova names the hypervisor and its Placement resource provider after libvirt's host name (the
#   machine's hostname), not after c03: find c03's provider through nova.compute_nodes.
# - Ordinary servers must never land on c03: it carries the Placement trait CUSTOM_LAB_INSPECT and the
#   lab's ordinary flavors forbid it (no scheduler configuration, so no Nova restart); c03 is also
#   alone in the availability zone "inspect". Its servers use flavor m1.inspect and image inspect-ext4.
# - Domains are destroyed before libvirtd stops; otherwise their QEMU processes are orphaned.

LIBVIRT_PKGS=(qemu-system-x86 qemu-utils qemu-block-extra libvirt-daemon-system libvirt-daemon-driver-qemu
              libvirt-clients python3-libvirt fdisk fuse3)
LIBVIRT_LOG=/var/log/libvirt
C03_IMAGE=inspect-ext4
C03_FLAVOR=m1.inspect
C03_AZ=inspect
C03_TRAIT=CUSTOM_LAB_INSPECT

# KVM when /dev/kvm can be opened (kvm-ok gives a false negative under nested virtualization).
virt_type() { if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then echo kvm; else echo qemu; fi; }

write_libvirt_configs() {
  local h=c03
  mkdir -p "/var/lib/nova/instances-$h" "$LIBVIRT_LOG"
  chmod 755 /var/lib/nova "/var/lib/nova/instances-$h"   # qemu runs as libvirt-qemu: every dir on the path 0755
  write_file "/etc/nova/nova-$h.conf" <<EOT || true
[DEFAULT]
host = $h
my_ip = ${HOST_IP[$h]}
log_file = /var/log/nova/nova-compute-$h.log
instances_path = /var/lib/nova/instances-$h
compute_driver = libvirt.LibvirtDriver
default_log_levels = $NOVA_LOG_LEVELS,oslo.messaging._drivers.impl_rabbit=DEBUG
# c03's servers boot with --nic none; should one get a port, do not wait for an agent that never runs
vif_plugging_is_fatal = False
vif_plugging_timeout = 0
[libvirt]
virt_type = $(virt_type)
connection_uri = qemu:///system
cpu_mode = none
[nova_sys_admin]
helper_command = privsep-helper --config-file /etc/nova/nova.conf --config-file /etc/nova/nova-$h.conf
[vif_plug_linux_bridge_privileged]
helper_command = privsep-helper --config-file /etc/nova/nova.conf --config-file /etc/nova/nova-$h.conf
EOT
}

start_virtlogd() {
  virtlogd -d --pid-file "$PIDDIR/virtlogd.pid"
  wait_until 10 "virtlogd" test -s "$PIDDIR/virtlogd.pid"
}
# cgroup v1 (this machine's layout; nothing to do on v2): a cpuset cgroup made without
# clone_children starts with no CPUs and no memory nodes, and a process written into it gets ENOSPC.
# libvirt makes machine/ and each guest's cgroups at the first guest start; once, on a fresh machine,
# c03's first guest failed so ("Unable to write to '/sys/fs/cgroup/cpuset/machine/qemu-1-….libvirt-qemu/
# emulator/tasks': No space left on device") and Nova gave up on the build. So machine/ exists with the
# root's CPUs and nodes before libvirtd starts a guest, and new cpusets copy their parent's.
prepare_cpuset() {
  local root=/sys/fs/cgroup/cpuset
  [ -f "$root/cgroup.clone_children" ] || return 0
  echo 1 > "$root/cgroup.clone_children"
  mkdir -p "$root/machine"
  [ -n "$(cat "$root/machine/cpuset.cpus")" ] || cat "$root/cpuset.cpus" > "$root/machine/cpuset.cpus"
  [ -n "$(cat "$root/machine/cpuset.mems")" ] || cat "$root/cpuset.mems" > "$root/machine/cpuset.mems"
  echo 1 > "$root/machine/cgroup.clone_children"
}

start_libvirtd() {
  prepare_cpuset
  LIBVIRT_LOG_OUTPUTS="3:file:$LIBVIRT_LOG/libvirtd.log" libvirtd -d --pid-file "$PIDDIR/libvirtd.pid"
  wait_until 30 "libvirtd to answer" virsh -c qemu:///system version
}

# Before libvirtd stops: destroy every running domain (Nova sees them shut off when it comes back).
destroy_domains() {
  pid_alive libvirtd || return 0
  local d
  for d in $(virsh -c qemu:///system list --name 2>/dev/null); do
    virsh -c qemu:///system destroy "$d" >/dev/null 2>&1 && log "destroyed domain $d (before stopping libvirtd)"
  done
}

# The small disk image with a partition table and an ext4 file system holding known files, built
# without mounting anything (sfdisk + mkfs.ext4 -d). The guest has no OS: it sits at "No bootable
# device", which is all the inspect runbook needs (a real QEMU process with a real qcow2 overlay).
build_inspect_image() {
  local out=$1 w; w=$(mktemp -d)
  local s=$w/seed
  mkdir -p "$s/etc" "$s/home/ubuntu/docs" "$s/var/log" "$s/srv/empty"
  printf 'inspectme\n' > "$s/etc/hostname"
  printf 'root:$6$guest$notarealhash:19000:0:99999:7:::\nubuntu:!:19000:0:99999:7:::\n' > "$s/etc/shadow"; chmod 640 "$s/etc/shadow"
  printf 'chatops inspect fixture: hello from the guest disk\n' > "$s/home/ubuntu/notes.txt"
  printf 'line %s\n' $(seq 1 20000) > "$s/var/log/big.log"                   # ~170 KiB: above the display cap
  /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 16)' > "$s/home/ubuntu/blob.bin"
  for i in $(seq 1 5); do printf 'doc %s\n' "$i" > "$s/home/ubuntu/docs/doc-$i.txt"; done
  ln -s /etc/shadow "$s/home/ubuntu/shadow-link"                             # absolute: the node's /etc/shadow if followed
  ln -s ../../../../../../etc/shadow "$s/home/ubuntu/escape-link"           # relative, climbing out of the mount
  ln -s /etc "$s/home/ubuntu/etc-dir"                                        # a directory symlink in the middle of a path
  ln -s notes.txt "$s/home/ubuntu/notes-link"
  truncate -s 64M "$w/disk.raw"
  printf 'label: dos\nstart=2048, type=83\n' | sfdisk -q "$w/disk.raw"
  # A boot sector that halts the vCPU (cli; hlt; jmp back to hlt): with no bootable disk SeaBIOS kept
  # the guest's one TCG vCPU at ~45 % of a core for as long as it ran (CI 2026-12-04), on a two-core
  # machine the lab lanes keep busy. Halted, the guest costs nothing; its disk is what the tests read.
  printf '\xfa\xf4\xeb\xfd' | dd of="$w/disk.raw" bs=1 conv=notrunc status=none
  mkfs.ext4 -q -F -L inspectme -E offset=$((2048 * 512)) -d "$s" "$w/disk.raw" $(((64 * 1024 * 1024 - 2048 * 512) / 1024))k
  qemu-img convert -f raw -O qcow2 "$w/disk.raw" "$out"
  rm -rf "$w"
}

# c03's provider (named after the machine, see above), from Nova's compute_nodes row.
c03_provider() { "${MYSQL[@]}" -N -e "select uuid from nova.compute_nodes where host='c03' and deleted=0 limit 1"; }

c03_registered() {
  sql_is "select count(*) from nova.compute_nodes where deleted=0 and host='c03'" 1 \
    && sql_is "select count(*) from nova_api.host_mappings where host='c03'" 1
}

# Image, flavor, availability zone, trait: checked in SQL (milliseconds) before any REST call.
c03_fixtures_present() {
  local rp; rp=$(c03_provider)
  [ -n "$rp" ] && sql_is "select (select count(*) from glance.images where name='$C03_IMAGE' and status='active' and deleted=0)
    + (select count(*) from nova_api.flavors where name='$C03_FLAVOR')
    + (select count(*) from nova_api.aggregate_hosts ah join nova_api.aggregate_metadata am on am.aggregate_id=ah.aggregate_id
       where ah.host='c03' and am.\`key\`='availability_zone' and am.value='$C03_AZ')
    + (select count(*) from placement.resource_provider_traits rpt join placement.resource_providers rp on rp.id=rpt.resource_provider_id
       join placement.traits t on t.id=rpt.trait_id where rp.uuid='$rp' and t.name='$C03_TRAIT')
    + (select count(*) from nova_api.flavor_extra_specs s join nova_api.flavors f on f.id=s.flavor_id
       where f.name in ('m1.tiny','m1.small','m1.medium') and s.\`key\`='trait:$C03_TRAIT' and s.value='forbidden')" 7
}

ensure_c03() {
  prepare_cpuset   # also on a lab whose libvirtd was started before it existed
  wait_until 180 "nova-compute c03 to register and be mapped into cell1" c03_registered
  wait_compute_report c03
  local want; want=$(cat "$LABSRC/lib/libvirt.sh" "$LABSRC/lib/c03.py" | sha1sum | cut -c1-12)
  if [ "$(cat "$LAB/c03.done" 2>/dev/null)" = "$want" ] && c03_fixtures_present; then return 0; fi
  stamp c03-begin
  # built once: mkfs stamps a fresh UUID and times, so a rebuild would never equal the uploaded one
  # (-v2: the halting boot sector; c03.py replaces an uploaded image whose checksum differs)
  [ -s "$LAB/inspect-ext4-v2.qcow2" ] || build_inspect_image "$LAB/inspect-ext4-v2.qcow2"
  rm -f "$LAB/inspect-ext4.qcow2"
  LAB=$LAB IMAGE_FILE="$LAB/inspect-ext4-v2.qcow2" PROVIDER="$(c03_provider)" IMAGE=$C03_IMAGE FLAVOR=$C03_FLAVOR \
    AZ=$C03_AZ TRAIT=$C03_TRAIT $PY "$LABSRC/lib/c03.py" || die "creating c03's fixtures failed"
  echo "$want" > "$LAB/c03.done"
  stamp c03-end
}
