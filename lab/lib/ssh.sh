# shellcheck shell=bash
# The compute hosts as SSH hosts: c01 = 127.0.0.11, c02 = 127.0.0.12, c03 = 127.0.0.13 (all of 127.0.0.0/8 is
# loopback on Linux). Each has its own OpenSSH sshd bound only to its address, port 22, with its
# own host key; sessions get LAB_HOST=<host> so lab-nova-compute knows which compute is meant.
# The client side (key pair, ssh_config, known_hosts) is written under $LAB/ssh for the bot.

SSHDIR=$LAB/ssh

write_ssh() {
  local h ip kh="" names
  mkdir -p "$SSHDIR" /run/sshd; chmod 700 "$SSHDIR"
  [ -f "$SSHDIR/id_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C openstack-lab-bot -f "$SSHDIR/id_ed25519"
  write_file "$SSHDIR/authorized_keys" < "$SSHDIR/id_ed25519.pub" || true
  chmod 600 "$SSHDIR/authorized_keys"
  # /etc/hosts: names for the hosts (kept in one marked block)
  for h in "${ALL_HOSTS[@]}"; do
    grep -q "^${HOST_IP[$h]} $h .*# openstack-lab hosts" /etc/hosts \
      || printf '%s %s %s.lab # openstack-lab hosts\n' "${HOST_IP[$h]}" "$h" "$h" >> /etc/hosts
  done
  for h in "${ALL_HOSTS[@]}"; do
    ip=${HOST_IP[$h]}
    mkdir -p "$LAB/hosts/$h"; chmod 700 "$LAB/hosts/$h"
    [ -f "$LAB/hosts/$h/ssh_host_ed25519_key" ] \
      || ssh-keygen -q -t ed25519 -N '' -C "root@$h" -f "$LAB/hosts/$h/ssh_host_ed25519_key"
    write_file "$LAB/hosts/$h/sshd_config" <<EOF || true
# sshd of lab compute host $h (written by lab/up)
ListenAddress $ip:22
HostKey $LAB/hosts/$h/ssh_host_ed25519_key
PidFile $PIDDIR/sshd-$h.pid
AuthorizedKeysFile $SSHDIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
SetEnv LAB_HOST=$h
Subsystem sftp /usr/lib/openssh/sftp-server
EOF
    names="$h,$h.lab,$ip"
    kh+="$names $(cut -d' ' -f1,2 "$LAB/hosts/$h/ssh_host_ed25519_key.pub")"$'\n'
  done
  printf '%s' "$kh" | write_file "$SSHDIR/known_hosts" || true
  {
    echo "# The lab's compute hosts, for the bot and for 'ssh -F $SSHDIR/ssh_config c01' (written by lab/up)"
    for h in "${ALL_HOSTS[@]}"; do cat <<EOF
Host $h $h.lab ${HOST_IP[$h]}
  HostName ${HOST_IP[$h]}
  Port 22
  User root
  IdentityFile $SSHDIR/id_ed25519
  IdentitiesOnly yes
  UserKnownHostsFile $SSHDIR/known_hosts
  StrictHostKeyChecking yes
EOF
    done
  } | write_file "$SSHDIR/ssh_config" || true
}

start_sshd() {   # start_sshd HOST (sshd daemonizes itself and writes its PidFile)
  local h=$1
  /usr/sbin/sshd -t -f "$LAB/hosts/$h/sshd_config" || die "sshd config of $h is invalid"
  /usr/sbin/sshd -f "$LAB/hosts/$h/sshd_config" -E "/var/log/openstack-lab/sshd-$h.log"
  wait_until 10 "sshd of $h" test -s "$PIDDIR/sshd-$h.pid"
}

# revive_host HOST: sshd and nova-compute of HOST running again (after lab/kill-host); waits for a report.
revive_host() {
  local h=$1
  pid_alive "sshd-$h" || start_sshd "$h" 9>&-
  /usr/local/sbin/lab-nova-compute start "$h" >/dev/null 9>&-
  wait_compute_report "$h"
}
