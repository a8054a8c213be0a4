#!/usr/bin/env bash
# A throwaway MIT Kerberos realm on loopback for the dev cluster (yarn/cluster.sh --secure,
# zookeeper/ensemble.sh --secure) and the secure-mode tests.
#
#   yarn/kdc.sh start    install krb5-kdc/krb5-admin-server/krb5-user if missing, create the realm
#                        (first use), its principals and keytabs, start krb5kdc on 127.0.0.1:$YF_KDC_PORT
#   yarn/kdc.sh stop     stop krb5kdc (the realm's database and keytabs stay for the next start)
#   yarn/kdc.sh status   realm, krb5.conf path, keytab directory, principals, KDC state
#   yarn/kdc.sh destroy  stop and delete the realm
#   yarn/kdc.sh foreground  create the realm if needed and run krb5kdc in the foreground (containers)
#
# Principals (keytab in $YF_KDC_DIR/keytabs/NAME.keytab):
#   nn/localhost dn/localhost rm/localhost nm/localhost HTTP/localhost zookeeper/localhost
#   yflink (the test user; password "yflink", keytab yflink.keytab)
# Clients use it with: export KRB5_CONFIG=$(yarn/kdc.sh status | sed -n 's/^krb5.conf *//p')
set -euo pipefail
# shellcheck source=libexec/env.sh
source "$(dirname "$(readlink -f "$0")")/libexec/env.sh"

KDC="$YF_KDC_DIR"
KT="$KDC/keytabs"
SERVICES=(nn dn rm nm HTTP zookeeper)
TEST_USER=yflink
export KRB5_CONFIG="$KDC/krb5.conf" KRB5_KDC_PROFILE="$KDC/kdc.conf"

ensure_packages() {
  if command -v krb5kdc >/dev/null || [[ -x /usr/sbin/krb5kdc ]]; then
    if [[ -x /usr/sbin/kadmin.local ]] && command -v kinit >/dev/null; then return 0; fi
  fi
  yf_apt_install krb5-kdc krb5-admin-server krb5-user
}

write_config() {
  mkdir -p "$KDC" "$KT"
  # AES only (Java 17 disables DES/RC4 by default); TCP only (udp_preference_limit=1), no DNS,
  # no reverse lookups (rdns=false): principals name "localhost" exactly as clients do.
  cat > "$KDC/krb5.conf" <<CONF
# yarn/kdc.sh: throwaway realm for the yflink dev cluster
[libdefaults]
  default_realm = $YF_REALM
  dns_lookup_realm = false
  dns_lookup_kdc = false
  dns_canonicalize_hostname = false
  rdns = false
  udp_preference_limit = 1
  forwardable = true
  ticket_lifetime = 24h
  renew_lifetime = 7d
  default_tkt_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
  default_tgs_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96
  permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96

[realms]
  $YF_REALM = {
    kdc = $YF_KDC_HOST:$YF_KDC_PORT
    admin_server = $YF_KDC_HOST:$((YF_KDC_PORT + 1))
  }

[domain_realm]
  localhost = $YF_REALM
  127.0.0.1 = $YF_REALM
CONF
  cat > "$KDC/kdc.conf" <<CONF
[kdcdefaults]
  kdc_listen = $YF_KDC_BIND:$YF_KDC_PORT
  kdc_tcp_listen = $YF_KDC_BIND:$YF_KDC_PORT

[realms]
  $YF_REALM = {
    database_name = $KDC/principal
    key_stash_file = $KDC/stash
    acl_file = $KDC/kadm5.acl
    kadmind_listen = $YF_KDC_BIND:$((YF_KDC_PORT + 1))
    max_life = 24h 0m 0s
    max_renewable_life = 7d 0h 0m 0s
    master_key_type = aes256-cts-hmac-sha1-96
    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
  }

[logging]
  kdc = FILE:$KDC/kdc.log
  admin_server = FILE:$KDC/kadmin.log
  default = FILE:$KDC/krb5.log
CONF
  echo "*/admin@$YF_REALM *" > "$KDC/kadm5.acl"
}

create_realm() {
  [[ -f "$KDC/principal" ]] && return 0
  yf_log "creating Kerberos realm $YF_REALM in $KDC"
  kdb5_util create -s -r "$YF_REALM" -P "$(head -c 24 /dev/urandom | base64)" >"$KDC/create.log" 2>&1 \
    || { cat "$KDC/create.log" >&2; yf_die "kdb5_util create failed"; }
  local s
  for s in "${SERVICES[@]}"; do
    kadmin.local -r "$YF_REALM" -q "addprinc -randkey $s/$YF_HOST@$YF_REALM" >/dev/null 2>&1
    kadmin.local -r "$YF_REALM" -q "ktadd -k $KT/$s.keytab $s/$YF_HOST@$YF_REALM" >/dev/null
  done
  kadmin.local -r "$YF_REALM" -q "addprinc -pw $TEST_USER $TEST_USER@$YF_REALM" >/dev/null 2>&1
  kadmin.local -r "$YF_REALM" -q "ktadd -norandkey -k $KT/$TEST_USER.keytab $TEST_USER@$YF_REALM" >/dev/null
  chmod 600 "$KT"/*.keytab
}

kdc_pid() {
  local pid
  pid="$(cat "$KDC/kdc.pid" 2>/dev/null)" || return 0
  if [[ -n "$pid" && "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" || true)" == *krb5kdc* ]]; then echo "$pid"; fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cmd_start() {
  ensure_packages
  write_config
  create_realm
  if [[ -z "$(kdc_pid)" ]]; then
    krb5kdc -P "$KDC/kdc.pid" || yf_die "krb5kdc failed to start (log $KDC/kdc.log)"
    local i
    for ((i = 0; i < 50; i++)); do port_open "$YF_KDC_PORT" && break; sleep 0.1; done
    port_open "$YF_KDC_PORT" || yf_die "krb5kdc is not listening on 127.0.0.1:$YF_KDC_PORT (log $KDC/kdc.log)"
    yf_log "KDC for $YF_REALM listening on 127.0.0.1:$YF_KDC_PORT"
  fi
  # Prove the realm works: a keytab login of the test user into a private cache.
  KRB5CCNAME="FILE:$KDC/selftest.ccache" kinit -kt "$KT/$TEST_USER.keytab" "$TEST_USER@$YF_REALM" \
    || yf_die "kinit with $KT/$TEST_USER.keytab failed (log $KDC/kdc.log)"
  rm -f "$KDC/selftest.ccache"
}

cmd_stop() {
  local pid; pid="$(kdc_pid)"
  if [[ -n "$pid" ]]; then
    kill "$pid"
    local i; for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    yf_log "stopped KDC"
  fi
  rm -f "$KDC/kdc.pid"
}

cmd_status() {
  local pid; pid="$(kdc_pid)"
  echo "realm       $YF_REALM"
  echo "krb5.conf   $KDC/krb5.conf"
  echo "keytabs     $KT"
  echo "kdc         127.0.0.1:$YF_KDC_PORT"
  echo "test user   $TEST_USER@$YF_REALM (keytab $KT/$TEST_USER.keytab)"
  echo "services    $(printf '%s/'"$YF_HOST"' ' "${SERVICES[@]}")"
  if [[ -n "$pid" ]]; then echo "state       running (pid $pid)"; else echo "state       stopped"; return 3; fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  destroy) cmd_stop; rm -rf "$KDC" ;;
  foreground) ensure_packages; write_config; create_realm; exec krb5kdc -n ;;
  *) echo "usage: $0 start | stop | status | destroy | foreground" >&2; exit 2 ;;
esac
