# shellcheck shell=bash
# Shared settings and helpers of the lab scripts (lab/up, down, reset, status, seed).
# Everything the lab writes lives under $LAB, /etc/<service>/ and /var/log/<service>/.
set -euo pipefail

LAB=${LAB:-/var/lib/openstack-lab}          # state: pid files, ssh files, clouds.yaml, timings
PIDDIR=$LAB/pids
LABSRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)   # the repository's lab/ folder
DBUSER=openstack; DBPASS=openstack
SVCPASS=secret                               # password of every service user in keystone
ADMINPASS=admin
RMQ=rabbit://guest:guest@127.0.0.1:5672/
DB="mysql+pymysql://$DBUSER:$DBPASS@127.0.0.1"
KS=http://127.0.0.1:5000
PY=/usr/bin/python3                          # not a pyenv/venv python: the code is in dist-packages
HOSTS=(c01 c02 c04 c05)                      # the fake-driver computes: two pairs (lib/pairs.py keeps them apart)
LIBVIRT_HOSTS=(c03)                          # the libvirt compute (real QEMU guests), see lib/libvirt.sh
ALL_HOSTS=("${HOSTS[@]}" "${LIBVIRT_HOSTS[@]}")
declare -A HOST_IP=([c01]=127.0.0.11 [c02]=127.0.0.12 [c03]=127.0.0.13 [c04]=127.0.0.14 [c05]=127.0.0.15)
# Nova sees a stopped nova-compute as "down" after service_down_time without a report:
# with these figures, within 15-20 s of the stop.
REPORT_INTERVAL=5; SERVICE_DOWN_TIME=15
MYSQL=(mysql -uroot -h127.0.0.1 --connect-timeout=3)
export DEBIAN_FRONTEND=noninteractive
# rabbitmqctl starts epmd itself when it is not running; without this it would listen on 0.0.0.0
export ERL_EPMD_ADDRESS=127.0.0.1

mkdir -p "$LAB" "$PIDDIR"

log() { echo "lab: $*" >&2; }
die() { echo "lab: ERROR: $*" >&2; exit 1; }
stamp() { echo "$(date +%s.%N | cut -c1-14) $*" >> "$LAB/timings"; }
need_root() { [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and binds port 22)"; }

# pid_alive NAME: the process recorded in $PIDDIR/NAME.pid is running.
pid_alive() {
  local f=$PIDDIR/$1.pid p
  [ -s "$f" ] || return 1
  p=$(cat "$f"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

# spawn NAME LOGFILE CMD...: start CMD detached in its own session, record its PID.
spawn() {
  local n=$1 out=$2; shift 2
  mkdir -p "$(dirname "$out")"
  setsid nohup "$@" >> "$out" 2>&1 < /dev/null 9>&- &   # fd 9: lab/up's lock
  echo $! > "$PIDDIR/$n.pid"
}

# stop_pids NAME...: SIGTERM all at once (services take up to ~20 s each), then wait; KILL after 40 s.
stop_pids() {
  local n p live=() still=()
  for n in "$@"; do
    if pid_alive "$n"; then p=$(cat "$PIDDIR/$n.pid"); kill "$p" 2>/dev/null || true; live+=("$p:$n")
    else rm -f "$PIDDIR/$n.pid"; fi
  done
  local i e
  for i in $(seq 80); do
    still=()
    for e in "${live[@]+"${live[@]}"}"; do
      if kill -0 "${e%%:*}" 2>/dev/null; then still+=("$e"); else rm -f "$PIDDIR/${e#*:}.pid"; fi
    done
    live=("${still[@]+"${still[@]}"}")
    [ ${#live[@]} = 0 ] && return 0
    sleep 0.5
  done
  for e in "${live[@]}"; do log "killing ${e#*:} (pid ${e%%:*}) after 40 s"; kill -9 "${e%%:*}" 2>/dev/null || true; rm -f "$PIDDIR/${e#*:}.pid"; done
}

# wait_until SECONDS DESCRIPTION CMD...: poll CMD every 0.5 s until it succeeds.
wait_until() {
  local t=$1 what=$2 i; shift 2
  for i in $(seq $((t * 2))); do "$@" >/dev/null 2>&1 && return 0; sleep 0.5; done
  die "timed out after ${t}s waiting for $what"
}
http_ok() { curl -s -o /dev/null --max-time 3 "$1"; }

# write_file PATH: stdin to PATH only when the content differs; returns 0 if it changed.
write_file() {
  local tmp; tmp=$(mktemp)
  cat > "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1"; then rm -f "$tmp"; return 1; fi
  mkdir -p "$(dirname "$1")"; mv "$tmp" "$1"; chmod 644 "$1"; return 0
}

# Services the lab runs, in start order, with their config files (a config change restarts them).
SERVICES=(keystone placement glance-api neutron-server nova-api nova-conductor nova-scheduler
          nova-compute-c01 nova-compute-c02 nova-compute-c04 nova-compute-c05 virtlogd libvirtd nova-compute-c03
          cinder-api cinder-scheduler cinder-volume sshd-c01 sshd-c02 sshd-c03 sshd-c04 sshd-c05)
svc_configs() {
  case $1 in
    keystone) echo /etc/keystone/keystone.conf ;;
    placement) echo /etc/placement/placement.conf ;;
    glance-api) echo /etc/glance/glance-api.conf ;;
    neutron-server) echo /etc/neutron/neutron.conf /etc/neutron/plugins/ml2/ml2_conf.ini ;;
    nova-compute-*) echo /etc/nova/nova.conf "/etc/nova/nova-${1#nova-compute-}.conf" /usr/local/bin/nova-compute ;;
    nova-*) echo /etc/nova/nova.conf ;;
    cinder-*) echo /etc/cinder/cinder.conf ;;
    sshd-*) echo "$LAB/hosts/${1#sshd-}/sshd_config" ;;
  esac
}
svc_hash() { local f; for f in $(svc_configs "$1"); do cat "$f"; done | sha1sum | cut -c1-12; }

sql_is() { [ "$("${MYSQL[@]}" -N -e "$1")" = "$2" ]; }
# wait_compute_report HOST: the nova-compute of HOST has reported to the DB since its last start.
wait_compute_report() {
  local since; since=$(cat "$PIDDIR/nova-compute-$1.started" 2>/dev/null || echo 1970-01-01)
  wait_until 60 "nova-compute $1 to report" sql_is "select count(*) from nova.services where \`binary\`='nova-compute'
    and host='$1' and deleted=0 and updated_at >= '$since'" 1
}

# close_inherited_fds: close every descriptor above 2 this script inherited. A daemon the script
# starts would otherwise keep them open for its whole life, e.g. the fd of a
# `flock /run/lock/chatops-lab-c01c02.lock bash lab/revive-host c01`, holding that lock forever.
close_inherited_fds() {
  local fd
  for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done
  return 0
}
