# shellcheck shell=bash
# Databases, schema migrations and the service processes.

LAB_DBS=(keystone placement nova_api nova nova_cell0 neutron glance cinder)

databases() {
  local d h
  for d in "${LAB_DBS[@]}"; do "${MYSQL[@]}" -e "CREATE DATABASE IF NOT EXISTS $d CHARACTER SET utf8mb3"; done
  for h in 127.0.0.1 localhost; do
    "${MYSQL[@]}" -e "CREATE USER IF NOT EXISTS '$DBUSER'@'$h' IDENTIFIED BY '$DBPASS'; GRANT ALL PRIVILEGES ON *.* TO '$DBUSER'@'$h'"
  done
}

# The schemas are migrated once per package version (stamp); the 6 migrations run in parallel.
dbsync_stamp() { dpkg-query -W -f='${Package}=${Version} ' python3-keystone python3-placement python3-nova python3-neutron python3-glance python3-cinder; }
dbsync() {
  local want; want=$(dbsync_stamp)
  local n; n=$("${MYSQL[@]}" -N -e "select count(*) from information_schema.tables where concat(table_schema,'.',table_name) in ('keystone.project','nova.instances','nova_cell0.instances','nova_api.host_mappings','neutron.ports','cinder.volumes','glance.images','placement.resource_providers')")
  if [ "$n" = 8 ] && [ "$(cat "$LAB/dbsync.done" 2>/dev/null)" = "$want" ]; then return 0; fi
  stamp dbsync-begin; log "migrating the databases (about 20 s)"
  local L=$LAB/logs pids=() p; mkdir -p "$L"
  ( keystone-manage db_sync
    [ -d /etc/keystone/fernet-keys ] || keystone-manage fernet_setup --keystone-user root --keystone-group root
    [ -d /etc/keystone/credential-keys ] || keystone-manage credential_setup --keystone-user root --keystone-group root
  ) > "$L/sync-keystone.log" 2>&1 & pids+=($!)
  placement-manage db sync > "$L/sync-placement.log" 2>&1 & pids+=($!)
  ( nova-manage api_db sync
    nova-manage cell_v2 map_cell0 --database_connection "$DB/nova_cell0"
    nova-manage cell_v2 list_cells | grep -q ' cell1 ' \
      || nova-manage cell_v2 create_cell --name cell1 --database_connection "$DB/nova" --transport-url "$RMQ"
    nova-manage db sync ) > "$L/sync-nova.log" 2>&1 & pids+=($!)
  neutron-db-manage --config-file /etc/neutron/neutron.conf --config-file /etc/neutron/plugins/ml2/ml2_conf.ini \
    upgrade heads > "$L/sync-neutron.log" 2>&1 & pids+=($!)
  glance-manage db_sync > "$L/sync-glance.log" 2>&1 & pids+=($!)
  cinder-manage db sync > "$L/sync-cinder.log" 2>&1 & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || die "a database migration failed, see $L/sync-*.log"; done
  echo "$want" > "$LAB/dbsync.done"; rm -f "$LAB/bootstrap.done"
  stamp dbsync-end
}

# keystone + placement: uwsgi. "Connection: close": uwsgi --http-socket closes the socket after each
# response without saying so, and python-requests then intermittently hits "Connection reset by peer".
# nova-api: the eventlet console script, NOT uwsgi (under uwsgi it lost RPC replies).
UW=(uwsgi --plugin python3 --master --processes 1 --threads 4 --die-on-term --lazy-apps --buffer-size 65535
    --need-app --add-header Connection:close)
svc_start() {
  local n=$1
  case $n in
    keystone) spawn "$n" /var/log/keystone/uwsgi.log "${UW[@]}" --http-socket 127.0.0.1:5000 --wsgi-file /usr/bin/keystone-wsgi-public ;;
    placement) spawn "$n" /var/log/placement/uwsgi.log "${UW[@]}" --http-socket 127.0.0.1:8778 --wsgi-file /usr/bin/placement-api ;;
    glance-api) spawn "$n" /var/log/glance/stdout.log glance-api --config-file /etc/glance/glance-api.conf ;;
    neutron-server) spawn "$n" /var/log/neutron/stdout.log neutron-server --config-file /etc/neutron/neutron.conf \
        --config-file /etc/neutron/plugins/ml2/ml2_conf.ini --log-file /var/log/neutron/neutron-server.log ;;
    nova-api|nova-conductor|nova-scheduler)
      spawn "$n" "/var/log/nova/$n.stdout.log" "$n" --config-file /etc/nova/nova.conf --log-file "/var/log/nova/$n.log" ;;
    nova-compute-*) /usr/local/sbin/lab-nova-compute start "${n#nova-compute-}" >/dev/null 9>&- ;;
    cinder-*) spawn "$n" "/var/log/cinder/$n.stdout.log" "$n" --config-file /etc/cinder/cinder.conf --log-file "/var/log/cinder/$n.log" ;;
    sshd-*) start_sshd "${n#sshd-}" 9>&- ;;
    virtlogd) start_virtlogd 9>&- ;;
    libvirtd) start_libvirtd 9>&- ;;
  esac
  svc_hash "$n" > "$PIDDIR/$n.hash"
}

# Start what is not running; restart what runs with an outdated configuration.
start_services() {
  local n restart=() started=()
  for n in "${SERVICES[@]}"; do
    if pid_alive "$n" && [ "$(cat "$PIDDIR/$n.hash" 2>/dev/null)" != "$(svc_hash "$n")" ]; then restart+=("$n"); fi
  done
  if [ ${#restart[@]} -gt 0 ]; then log "configuration changed, restarting: ${restart[*]}"; stop_pids "${restart[@]}"; fi
  for n in "${SERVICES[@]}"; do
    pid_alive "$n" && continue
    svc_start "$n"; started+=("$n")
    # keystone and its catalog first: the other services authenticate at start-up
    if [ "$n" = keystone ]; then wait_until 60 "keystone" http_ok "$KS/v3"; bootstrap_keystone; fi
  done
  [ ${#started[@]} = 0 ] || log "started: ${started[*]}"
  local u
  for u in 5000/v3 8778/ 9292/ 9696/ 8774/ 8776/; do wait_until 120 "the API on 127.0.0.1:${u%%/*}" http_ok "http://127.0.0.1:$u"; done
  stamp apis-up
}

bootstrap_keystone() {
  [ -f "$LAB/bootstrap.done" ] && return 0
  keystone-manage bootstrap --bootstrap-password "$ADMINPASS" --bootstrap-region-id RegionOne \
    --bootstrap-admin-url "$KS/v3/" --bootstrap-internal-url "$KS/v3/" --bootstrap-public-url "$KS/v3/" \
    > "$LAB/logs/bootstrap.log" 2>&1 || die "keystone-manage bootstrap failed, see $LAB/logs/bootstrap.log"
  run_ensure catalog
  touch "$LAB/bootstrap.done"
}
run_ensure() {
  ADMINPASS=$ADMINPASS SVCPASS=$SVCPASS LAB=$LAB $PY "$LABSRC/lib/ensure.py" "$1" \
    2> >(grep -v -e 'Warning' -e 'warnings.warn' >&2) || die "creating the keystone $1 failed"
}

# Fake "alive" Linux bridge agents on the fake-driver hosts so that ML2 binds ports there (heartbeat in 2099).
fake_agents() {
  local hosts; hosts=$(printf "SELECT '%s' AS host UNION " "${HOSTS[@]}"); hosts=${hosts% UNION }
  "${MYSQL[@]}" neutron <<EOF
INSERT IGNORE INTO agents (id, agent_type, \`binary\`, topic, host, admin_state_up, created_at, started_at,
                           heartbeat_timestamp, configurations, \`load\`, resources_synced)
SELECT UUID(), 'Linux bridge agent', 'neutron-linuxbridge-agent', 'N/A', h.host, 1, NOW(), NOW(),
       '2099-01-01 00:00:00', '{"interface_mappings": {"physnet1": "eth0"}, "bridge_mappings": {}, "devices": 0}', 0, 1
FROM ($hosts) h;
EOF
}

# Computes register, create their Placement resource provider and are mapped into cell1.
wait_computes() {
  local hl n=${#HOSTS[@]}; hl=$(printf "'%s'," "${HOSTS[@]}"); hl=${hl%,}
  wait_until 120 "nova-compute ${HOSTS[*]} to register" \
    sql_is "select count(*) from nova.compute_nodes where deleted=0 and host in ($hl)" "$n"
  if ! sql_is "select count(*) from nova_api.host_mappings where host in ($hl)" "$n"; then
    nova-manage cell_v2 discover_hosts > /dev/null
  fi
  wait_until 60 "${HOSTS[*]} to be mapped into cell1" \
    sql_is "select count(*) from nova_api.host_mappings where host in ($hl)" "$n"
  local h
  for h in "${HOSTS[@]}"; do wait_compute_report "$h"; done
  wait_until 60 "cinder-volume to report" \
    sql_is "select count(*)>0 from cinder.services where topic='cinder-volume' and deleted=0" 1
  stamp computes-mapped
}

# The base fixtures (lib/ensure.py) exist: checked in SQL, which costs milliseconds where the
# ~40 REST calls of ensure.py cost 10-40 s on a busy machine.
fixtures_present() {
  sql_is "select (select count(*) from nova_api.flavors where name in ('m1.tiny','m1.small','m1.medium'))
    + (select count(*) from glance.images where name='cirros' and status='active' and deleted=0)
    + (select count(*) from neutron.subnets s join neutron.networks n on n.id=s.network_id
       where n.name='Public_AGILE' and s.name in ('Public_AGILE_v4','Public_AGILE_v6'))
    + (select count(*) from keystone.project where name='demo')" 7
}
# The two pairs of fake-driver hosts kept apart (lib/pairs.py): checked in SQL first, like the rest.
PAIR2=(c04 c05); PAIR2_FLAVOR=m1.pair2; PAIR2_TRAIT=CUSTOM_LAB_PAIR2
pair_provider() { "${MYSQL[@]}" -N -e "select uuid from nova.compute_nodes where host='$1' and deleted=0 limit 1"; }
pairs_present() {
  sql_is "select (select count(*) from nova_api.flavors where name='$PAIR2_FLAVOR')
    + (select count(*) from placement.resource_provider_traits rpt join placement.resource_providers rp on rp.id=rpt.resource_provider_id
       join placement.traits t on t.id=rpt.trait_id join nova.compute_nodes cn on cn.uuid=rp.uuid
       where cn.deleted=0 and cn.host in ('${PAIR2[0]}','${PAIR2[1]}') and t.name='$PAIR2_TRAIT')
    + (select count(*) from nova_api.flavor_extra_specs s join nova_api.flavors f on f.id=s.flavor_id
       where f.name in ('m1.tiny','m1.small','m1.medium') and s.\`key\`='trait:$PAIR2_TRAIT' and s.value='forbidden')
    + (select count(*) from nova_api.flavor_extra_specs s join nova_api.flavors f on f.id=s.flavor_id
       where f.name='$PAIR2_FLAVOR' and ((s.\`key\`='trait:$PAIR2_TRAIT' and s.value='required')
         or (s.\`key\`='trait:$C03_TRAIT' and s.value='forbidden')))" 8
}
ensure_pairs() {
  local want; want=$(sha1sum "$LABSRC/lib/pairs.py" | cut -c1-12)
  if [ "$(cat "$LAB/pairs.done" 2>/dev/null)" = "$want" ] && pairs_present; then return 0; fi
  local h providers=()
  for h in "${PAIR2[@]}"; do providers+=("$h=$(pair_provider "$h")"); done
  FLAVOR=$PAIR2_FLAVOR TRAIT=$PAIR2_TRAIT C03_TRAIT=$C03_TRAIT PROVIDERS="${providers[*]}" LAB=$LAB \
    $PY "$LABSRC/lib/pairs.py" || die "creating the fixtures that keep c01/c02 and c04/c05 apart failed"
  echo "$want" > "$LAB/pairs.done"
}

ensure_fixtures() {
  local want; want=$(sha1sum "$LABSRC/lib/ensure.py" | cut -c1-12)
  if [ "$(cat "$LAB/fixtures.done" 2>/dev/null)" = "$want" ] && fixtures_present; then return 0; fi
  run_ensure fixtures
  echo "$want" > "$LAB/fixtures.done"
}
