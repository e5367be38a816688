#!/usr/bin/env bash
# MariaDB for the store's and the approvals' integration tests (throwaway databases chatops_t<random>):
# installed when missing (no service started by the package), started on 127.0.0.1 when down, and
# root reachable over TCP with an empty password (Debian's root@localhost is unix_socket-only).
set -euo pipefail
need=()
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mysqladmin >/dev/null 2>&1 || need+=(mariadb-client)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi
if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
  install -d -o mysql -g mysql /run/mysqld /var/log/mysql
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd -- --bind-address=127.0.0.1
  for _ in $(seq 60); do mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1 && break; sleep 1; done
fi
if ! mysql -uroot -h127.0.0.1 -e 'select 1' >/dev/null 2>&1; then
  mysql -uroot -e "ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD('') OR unix_socket"
fi
mysql -uroot -h127.0.0.1 -N -e 'select version()'
