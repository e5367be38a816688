#!/usr/bin/env bash
# OpenSSH server and client for the SSH adapter's integration tests (test/helpers/sshd.ts starts its
# own `sshd -D -f <generated config>` per test; the system sshd is never started), iproute2 for the
# network-namespace tests (jump host, a link cut mid-command), sudo and procps.
set -euo pipefail
need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null 2>&1 && command -v ssh-keygen >/dev/null 2>&1 || need+=(openssh-client)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v sudo >/dev/null 2>&1 || need+=(sudo)       # the adapter's optional `sudo -n` prefix is tested
command -v pgrep >/dev/null 2>&1 || need+=(procps)    # the harness finds sshd's session processes
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # No package may start a service (the system sshd on :22 would collide with nothing of ours, but
  # it is not ours to run).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${need[@]}"
fi
# sshd refuses to start without its privilege-separation directory.
mkdir -p /run/sshd
chmod 0755 /run/sshd
/usr/sbin/sshd -V 2>&1 | head -1 || true
