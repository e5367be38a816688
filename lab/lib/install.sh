# shellcheck shell=bash
# Packages and console-script wrappers. Only python3-* LIBRARY packages are installed, never the
# service packages (nova-api, keystone, ...): no dbconfig-common, no debconf questions, no init
# scripts, no qemu/libvirt. The api-paste files live in the *-common packages, which are only
# downloaded and unpacked.

PKGS=(python3-keystone python3-placement python3-nova python3-neutron python3-cinder python3-glance
      python3-openstackclient python3-osc-placement python3-novaclient python3-pymysql
      uwsgi-core uwsgi-plugin-python3 mariadb-client curl openssh-server openssh-client)
INFRA_PKGS=(mariadb-server rabbitmq-server)

pkg_missing() {
  local p miss=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p")
  done
  echo "${miss[@]+"${miss[@]}"}"
}

install_packages() {
  # belt and braces: no package script may start a service
  if ! [ -x /usr/sbin/policy-rc.d ] || ! grep -q 'exit 101' /usr/sbin/policy-rc.d; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  fi
  local miss; miss=$(pkg_missing "${INFRA_PKGS[@]}" "${PKGS[@]}" "${LIBVIRT_PKGS[@]}")
  local X=$LAB/debs/x
  if [ -n "$miss" ] || ! [ -f "$X/usr/share/nova-common/api-paste.ini" ]; then
    stamp apt-begin; log "installing: ${miss:-(paste files only)}"
    apt-get update -q >/dev/null
    # shellcheck disable=SC2086
    [ -z "$miss" ] || apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $miss >/dev/null
    rm -rf "$LAB/debs"; mkdir -p "$LAB/debs"
    (cd "$LAB/debs" && apt-get download -q nova-common neutron-common glance-common cinder-common >/dev/null 2>&1 \
      && for f in *.deb; do dpkg-deb -x "$f" x; done)
    [ -f "$X/usr/share/nova-common/api-paste.ini" ] || die "could not download/extract the *-common packages"
    stamp apt-end
  fi
  wrappers
}

# python3-nova & co ship no /usr/bin/nova-* (those are in the service packages): tiny entry points.
wrappers() {
  local spec name mod fn
  for spec in nova-manage=nova.cmd.manage:main nova-api=nova.cmd.api:main \
      nova-conductor=nova.cmd.conductor:main nova-scheduler=nova.cmd.scheduler:main \
      neutron-server=neutron.cmd.eventlet.server:main \
      neutron-db-manage=neutron.db.migration.cli:main glance-api=glance.cmd.api:main \
      glance-manage=glance.cmd.manage:main cinder-manage=cinder.cmd.manage:main \
      cinder-api=cinder.cmd.api:main cinder-scheduler=cinder.cmd.scheduler:main \
      cinder-volume=cinder.cmd.volume:main; do
    name=${spec%%=*}; mod=${spec#*=}; fn=${mod##*:}; mod=${mod%%:*}
    printf '#!/usr/bin/python3\nimport sys\nfrom %s import %s as m\nsys.exit(m())\n' "$mod" "$fn" \
      | write_file "/usr/local/bin/$name" || true
    chmod 755 "/usr/local/bin/$name"
  done
  # nova-compute: the entry point plus one lab-only shortcut. Zed's resource tracker fetches the
  # allocations of EVERY instance on the host (one GET /allocations/<uuid> each) on every claim,
  # only to have them at hand for a provider-tree reshape, which the fake driver never asks for.
  # With 200 servers on c01 that made each build wait ~45 s; skipping the fetch keeps seeding fast.
  printf '%s\n' '#!/usr/bin/python3' 'import sys' 'from nova.cmd import compute  # monkey-patches eventlet first' \
    'from nova.scheduler.client import report' \
    'report.SchedulerReportClient.get_allocations_for_provider_tree = lambda self, context, nodename: {}' \
    'sys.exit(compute.main())' | write_file /usr/local/bin/nova-compute || true
  chmod 755 /usr/local/bin/nova-compute
  install -m 755 "$LABSRC/bin/lab-nova-compute" /usr/local/sbin/lab-nova-compute
}

# MariaDB and RabbitMQ: use the ones this machine runs; start them with their usual commands if down.
start_infra() {
  if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
    log "starting MariaDB"
    install -d -o mysql -g mysql /run/mysqld /var/log/mysql
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --bind-address=127.0.0.1
    wait_until 60 "MariaDB on 127.0.0.1:3306" mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping
  fi
  # Debian's root@localhost is unix_socket-only; the lab (and this kind of machine) wants root/'' over TCP
  if ! "${MYSQL[@]}" -e 'select 1' >/dev/null 2>&1; then
    mysql -uroot -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket" \
      || die "cannot log in to MariaDB as root over TCP"
  fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; then
    log "starting RabbitMQ"
    mkdir -p /etc/rabbitmq
    grep -q NODE_IP_ADDRESS /etc/rabbitmq/rabbitmq-env.conf 2>/dev/null \
      || printf 'NODE_IP_ADDRESS=127.0.0.1\n' >> /etc/rabbitmq/rabbitmq-env.conf
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" rabbitmq-server -detached
    wait_until 120 "RabbitMQ on 127.0.0.1:5672" bash -c 'exec 3<>/dev/tcp/127.0.0.1/5672'
  fi
  # Nova's notifier declares a queue per topic (versioned_notifications.info, …) so that nothing is
  # lost; nobody drains it in the lab, so it is capped and its messages expire (the bot binds a queue
  # of its own). Set once: rabbitmqctl costs a second.
  if [ ! -e "$LAB/rabbitmq-policy-v1" ]; then
    rabbitmqctl -q set_policy --apply-to queues lab-notifications '^(versioned_)?notifications\.' '{"max-length":1000,"message-ttl":600000}' >/dev/null \
      && touch "$LAB/rabbitmq-policy-v1"
  fi
}
