# shellcheck shell=bash
# Configuration files of every service. Written only when their content changes, so that lab/up
# can restart exactly the services whose configuration changed.

authtoken() { cat <<EOT
[keystone_authtoken]
www_authenticate_uri = $KS
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $SVCPASS
service_token_roles_required = true
EOT
}
svcauth() { cat <<EOT
[$1]
auth_url = $KS
auth_type = password
project_domain_name = Default
user_domain_name = Default
region_name = RegionOne
project_name = service
username = $2
password = $SVCPASS
EOT
}

NOVA_LOG_LEVELS=amqp=WARN,amqplib=WARN,boto=WARN,qpid=WARN,sqlalchemy=WARN,suds=INFO,oslo.messaging=INFO,oslo_messaging=INFO,iso8601=WARN,requests.packages.urllib3.connectionpool=WARN,urllib3.connectionpool=WARN,websocket=WARN,requests.packages.urllib3.util.retry=WARN,urllib3.util.retry=WARN,keystonemiddleware=WARN,routes.middleware=WARN,stevedore=WARN,taskflow=WARN,keystoneauth=WARN,oslo.cache=INFO,oslo_policy=INFO,dogpile.core.dogpile=INFO,glanceclient=WARN,oslo.privsep.daemon=INFO

write_configs() {
  local s h X=$LAB/debs/x
  for s in keystone placement nova neutron glance cinder; do mkdir -p /etc/$s /var/log/$s /var/lib/$s; done
  mkdir -p /etc/neutron/plugins/ml2 /var/lib/glance/images /var/lib/nova/tmp /var/lib/neutron/tmp /var/lib/cinder/tmp
  write_file /etc/nova/api-paste.ini < "$X/usr/share/nova-common/api-paste.ini" || true
  write_file /etc/neutron/api-paste.ini < "$X/usr/share/neutron-common/api-paste.ini" || true
  write_file /etc/glance/glance-api-paste.ini < "$X/usr/share/glance-common/glance-api-paste.ini" || true
  write_file /etc/cinder/api-paste.ini < "$X/usr/share/cinder-common/api-paste.ini" || true
  write_file /etc/cinder/resource_filters.json < "$X/etc/cinder/resource_filters.json" || true

  write_file /etc/keystone/keystone.conf <<EOT || true
[DEFAULT]
log_file = /var/log/keystone/keystone.log
[database]
connection = $DB/keystone
[identity]
# lab only: cheap bcrypt, every password login (= every CLI call) gets ~0.25 s faster
password_hash_rounds = 4
[token]
provider = fernet
[fernet_tokens]
key_repository = /etc/keystone/fernet-keys
[credential]
key_repository = /etc/keystone/credential-keys
EOT

  write_file /etc/placement/placement.conf <<EOT || true
[DEFAULT]
log_file = /var/log/placement/placement.log
[placement_database]
connection = $DB/placement
[api]
auth_strategy = keystone
$(authtoken placement)
EOT

  write_file /etc/nova/nova.conf <<EOT || true
[DEFAULT]
# conductor/scheduler report as "controller"; each compute overrides host= in its own file
host = controller
transport_url = $RMQ
my_ip = 127.0.0.1
state_path = /var/lib/nova
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_workers = 1
compute_driver = fake.FakeDriver
# lab: a stopped nova-compute is seen "down" within $SERVICE_DOWN_TIME-$((SERVICE_DOWN_TIME + REPORT_INTERVAL)) s
report_interval = $REPORT_INTERVAL
service_down_time = $SERVICE_DOWN_TIME
[api]
auth_strategy = keystone
[api_database]
connection = $DB/nova_api
[database]
connection = $DB/nova
[conductor]
workers = 1
[scheduler]
workers = 1
# maps new computes into cell1 (as nova-manage cell_v2 discover_hosts would) every 10 s
discover_hosts_in_cells_interval = 10
[oslo_concurrency]
lock_path = /var/lib/nova/tmp
[glance]
api_servers = http://127.0.0.1:9292
[wsgi]
api_paste_config = /etc/nova/api-paste.ini
$(authtoken nova)
$(svcauth placement placement)
$(svcauth neutron neutron)
$(svcauth cinder cinder)
# Since the OSSA-2023-003 fix that Debian ships, cinder refuses a detach without a nova service
# token (the volume sticks in "detaching").
$(svcauth service_user nova)
send_service_user_token = true
[vnc]
enabled = false
# Versioned notifications on the bus (the bot consumes them where a cloud is configured to; see
# adapters/openstack/nova-notifications.ts): a move's end is seen within milliseconds, no polling.
[oslo_messaging_notifications]
driver = messagingv2
[notifications]
notification_format = versioned
EOT
  for h in "${HOSTS[@]}"; do   # one small override file per fake hypervisor
    mkdir -p "/var/lib/nova/instances-$h"
    write_file "/etc/nova/nova-$h.conf" <<EOT || true
[DEFAULT]
host = $h
my_ip = ${HOST_IP[$h]}
log_file = /var/log/nova/nova-compute-$h.log
instances_path = /var/lib/nova/instances-$h
# Nova's defaults plus impl_rabbit at DEBUG: this oslo.messaging logs "Connected to AMQP server on
# ..." only at DEBUG, and the runbook's check greps the compute log for it.
default_log_levels = $NOVA_LOG_LEVELS,oslo.messaging._drivers.impl_rabbit=DEBUG
EOT
  done

  write_file /etc/neutron/neutron.conf <<EOT || true
[DEFAULT]
core_plugin = ml2
service_plugins =
auth_strategy = keystone
transport_url = $RMQ
bind_host = 127.0.0.1
bind_port = 9696
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
api_paste_config = /etc/neutron/api-paste.ini
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = /var/lib/neutron
[database]
connection = $DB/neutron
[oslo_concurrency]
lock_path = /var/lib/neutron/tmp
[experimental]
# Zed gates the linuxbridge mech driver behind this flag
linuxbridge = true
$(authtoken neutron)
$(svcauth nova nova)
EOT
  # No L2 agent runs: two fake "alive" Linux bridge agent rows (lab/lib/services.sh) let ML2 bind.
  write_file /etc/neutron/plugins/ml2/ml2_conf.ini <<EOT || true
[ml2]
type_drivers = flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers = linuxbridge
extension_drivers = port_security
[ml2_type_flat]
flat_networks = *
[ml2_type_vxlan]
vni_ranges = 1:1000
EOT

  write_file /etc/glance/glance-api.conf <<EOT || true
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
log_file = /var/log/glance/glance-api.log
enabled_backends = file:file
[database]
connection = $DB/glance
[glance_store]
default_backend = file
[file]
filesystem_store_datadir = /var/lib/glance/images/
[os_glance_staging_store]
filesystem_store_datadir = /var/lib/glance/staging/
[os_glance_tasks_store]
filesystem_store_datadir = /var/lib/glance/tasks/
[paste_deploy]
flavor = keystone
config_file = /etc/glance/glance-api-paste.ini
$(authtoken glance)
EOT

  write_file /etc/cinder/cinder.conf <<EOT || true
[DEFAULT]
host = controller
enabled_backends = fake
transport_url = $RMQ
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_workers = 1
my_ip = 127.0.0.1
glance_api_servers = http://127.0.0.1:9292
state_path = /var/lib/cinder
api_paste_config = /etc/cinder/api-paste.ini
log_file = /var/log/cinder/cinder.log
[database]
connection = $DB/cinder
[oslo_concurrency]
lock_path = /var/lib/cinder/tmp
[fake]
# test-only driver shipped in python3-cinder: logs LVM/iSCSI calls instead of running them
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
target_helper = fake
$(authtoken cinder)
EOT
  write_libvirt_configs
  write_openrc
}

write_openrc() {
  write_file "$LAB/admin-openrc" <<EOF || true
export OS_AUTH_URL=$KS/v3 OS_USERNAME=admin OS_PASSWORD=$ADMINPASS OS_PROJECT_NAME=admin
export OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
export OS_REGION_NAME=RegionOne OS_INTERFACE=public
# OSC 6.0 defaults to compute 2.1: --nic none needs 2.37, --down/--up 2.11, migrate --host 2.30
export OS_COMPUTE_API_VERSION=2.79
EOF
  local cy
  cy=$(cat <<EOF
# Written by lab/up: the lab's admin account. Use with OS_CLOUD=lab (CLI) or the bot's clouds.yaml.
clouds:
  lab:
    auth:
      auth_url: $KS/v3
      username: admin
      password: $ADMINPASS
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    compute_api_version: "2.79"
  lab-demo:
    auth:
      auth_url: $KS/v3
      username: demo
      password: demo
      project_name: demo
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
    interface: public
    identity_api_version: 3
    compute_api_version: "2.79"
EOF
)
  echo "$cy" | write_file "$LAB/clouds.yaml" || true
  chmod 600 "$LAB/clouds.yaml"
  # /etc/openstack/clouds.yaml: merge-free; only written when absent or written by the lab before
  if ! [ -f /etc/openstack/clouds.yaml ] || grep -q 'Written by lab/up' /etc/openstack/clouds.yaml; then
    echo "$cy" | write_file /etc/openstack/clouds.yaml || true
  else
    log "/etc/openstack/clouds.yaml exists and is not the lab's; left alone (use OS_CLIENT_CONFIG_FILE=$LAB/clouds.yaml)"
  fi
}
