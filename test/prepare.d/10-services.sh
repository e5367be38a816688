#!/usr/bin/env bash
# MariaDB and RabbitMQ: this kind of machine runs them before the session; start them if they are down.
set -euo pipefail
if ! mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1; then
  mkdir -p /run/mysqld /var/log/mysql && chown mysql:mysql /run/mysqld /var/log/mysql 2>/dev/null || true
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  for _ in $(seq 60); do mysqladmin -uroot -h127.0.0.1 --connect-timeout=2 ping >/dev/null 2>&1 && break; sleep 1; done
fi
mysqladmin -uroot -h127.0.0.1 ping
