#!/usr/bin/env bash
# A 3-server ZooKeeper ensemble on loopback, for development and fault tests.
#
#   zookeeper/ensemble.sh start [--secure]         start servers 1-3, wait for a quorum
#   zookeeper/ensemble.sh stop                     stop all servers
#   zookeeper/ensemble.sh status                   connection string and each server's mode (srvr)
#   zookeeper/ensemble.sh stop-server N            stop server N (1-3) only
#   zookeeper/ensemble.sh start-server N [--secure] start server N again, wait until it serves
#   zookeeper/ensemble.sh foreground N [--secure]   run server N in the foreground (docker-compose.yml)
#
# Server N listens for clients on 127.0.0.1:$((2180+N)) (quorum 2887+N, election 3887+N).
# --secure: clients must authenticate with SASL/Kerberos (principal zookeeper/localhost from
# yarn/kdc.sh, started on demand); the servers authenticate each other with it too.
# Run directory: $YFLINK_ZK_RUN (default zookeeper/run): conf/, data/N, logs/, pids/.
set -euo pipefail

ZK_DIR="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
REPO_DIR="$(cd "$ZK_DIR/.." && pwd)"
RUN="${YFLINK_ZK_RUN:-$ZK_DIR/run}"
LIB="$ZK_DIR/build/lib"
SERVERS=(1 2 3)
HEAP="${YF_ZK_HEAP:-128m}"
START_TIMEOUT="${YF_START_TIMEOUT:-90}"
# The KDC (yarn/kdc.sh) keeps its krb5.conf and keytabs here.
KDC_DIR="${YFLINK_DEV_RUN:-$REPO_DIR/yarn/run}/kdc"
REALM="${YF_REALM:-YFLINK.DEV}"
MAIN=org.apache.zookeeper.server.quorum.QuorumPeerMain
# Where server N is reached by its peers ("" = loopback), and the address clients connect to;
# docker-compose.yml sets YF_ZK_HOSTS="zookeeper1 zookeeper2 zookeeper3" and YF_ZK_BIND=0.0.0.0.
read -r -a ZK_HOSTS <<< "${YF_ZK_HOSTS:-}"
ZK_BIND="${YF_ZK_BIND:-127.0.0.1}"

die() { echo "error: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
client_port() { echo $((2180 + $1)); }
# Secure clients name the server "localhost": the SASL service principal is zookeeper/<host they dial>.
connect_string() {
  local s out=() h=127.0.0.1
  [[ "$(mode)" == secure ]] && h=localhost
  for s in "${SERVERS[@]}"; do out+=("$h:$(client_port "$s")"); done
  (IFS=,; echo "${out[*]}")
}
mode() { cat "$RUN/mode" 2>/dev/null || echo plain; }

find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then return; fi
  local c
  for c in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64; do
    [[ -x "$c/bin/java" ]] && { JAVA_HOME="$c"; return; }
  done
  if ! command -v java >/dev/null; then
    log "installing openjdk-17-jre-headless with apt-get (first use only)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >&2
  fi
  JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
}

ensure_built() {
  compgen -G "$LIB/zookeeper-3*.jar" >/dev/null && return 0
  if ! command -v mvn >/dev/null; then
    log "installing maven with apt-get (first use only)"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends maven >&2
  fi
  log "collecting ZooKeeper jars with Maven (first use only)"
  mvn -B -q -f "$ZK_DIR/pom.xml" package >&2 || die "mvn failed collecting ZooKeeper jars"
}

# A process's command line with spaces for NULs ("" when it is gone).
cmdline() { tr '\0' ' ' 2>/dev/null < "/proc/$1/cmdline" || true; }

server_pid() {
  local pid
  pid="$(cat "$RUN/pids/zk$1.pid" 2>/dev/null)" || return 0
  if [[ -n "$pid" && "$(cmdline "$pid")" == *"$MAIN $RUN/conf/zoo$1.cfg"* ]]; then echo "$pid"; fi
}

# Answer of a four-letter word, or nothing if the server does not answer.
four_letter() {
  local port="$1" word="$2"
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port && printf '%s' '$word' >&3 && cat <&3" 2>/dev/null || true
}
server_mode() { four_letter "$(client_port "$1")" srvr | sed -n 's/^Mode: //p'; }

render_conf() {
  local m="$1" s
  mkdir -p "$RUN/conf" "$RUN/logs" "$RUN/pids"
  for s in "${SERVERS[@]}"; do
    mkdir -p "$RUN/data/$s"
    echo "$s" > "$RUN/data/$s/myid"
    {
      echo "# zookeeper/ensemble.sh: server $s of 3 on loopback ($m)"
      echo "tickTime=1000"
      echo "initLimit=10"
      echo "syncLimit=5"
      echo "dataDir=$RUN/data/$s"
      echo "clientPortAddress=$ZK_BIND"
      echo "clientPort=$(client_port "$s")"
      echo "maxClientCnxns=200"
      echo "admin.enableServer=false"
      echo "4lw.commands.whitelist=srvr,ruok,mntr,stat,conf,isro"
      echo "autopurge.purgeInterval=1"
      # Quorum SASL authorizes a peer by the host in its principal (zookeeper/localhost): in secure
      # mode the peers must be named "localhost" too.
      local peer=127.0.0.1 n
      [[ $m == secure ]] && peer=localhost
      for n in 1 2 3; do
        echo "server.$n=${ZK_HOSTS[$((n - 1))]:-$peer}:$((2887 + n)):$((3887 + n))"
      done
      if [[ $m == secure ]]; then
        echo "authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
        echo "enforce.auth.enabled=true"
        echo "enforce.auth.schemes=sasl"
        echo "kerberos.removeHostFromPrincipal=true"
        echo "kerberos.removeRealmFromPrincipal=true"
        # Quorum SASL only on one host: it authorizes a peer by its principal's host (localhost).
        if ((${#ZK_HOSTS[@]} == 0)); then
          echo "quorum.auth.enableSasl=true"
          echo "quorum.auth.learnerRequireSasl=true"
          echo "quorum.auth.serverRequireSasl=true"
          echo "quorum.auth.kerberos.servicePrincipal=zookeeper/localhost"
          echo "quorum.cnxn.threads.size=6"
        fi
      fi
    } > "$RUN/conf/zoo$s.cfg"
  done
  if [[ $m == secure ]]; then
    local kt="$KDC_DIR/keytabs/zookeeper.keytab" p="zookeeper/localhost@$REALM" sect
    : > "$RUN/conf/jaas.conf"
    for sect in Server QuorumServer QuorumLearner; do
      cat >> "$RUN/conf/jaas.conf" <<JAAS
$sect {
  com.sun.security.auth.module.Krb5LoginModule required
  useKeyTab=true keyTab="$kt" storeKey=true useTicketCache=false principal="$p";
};
JAAS
    done
  fi
  cat > "$RUN/conf/logback.xml" <<'XML'
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <append>false</append>
    <file>${zookeeper.log.file}</file>
    <encoder><pattern>%d{ISO8601} [myid:%X{myid}] %-5level [%thread] %logger{36} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
XML
  echo "$m" > "$RUN/mode"
}

start_server() {
  local s="$1" pid opts=()
  pid="$(server_pid "$s")"
  if [[ -n "$pid" ]]; then log "server $s already running (pid $pid)"; return 0; fi
  if [[ "$(mode)" == secure ]]; then
    opts+=("-Djava.security.auth.login.config=$RUN/conf/jaas.conf" "-Djava.security.krb5.conf=$KDC_DIR/krb5.conf"
           -Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider
           -Dsun.security.krb5.disableReferrals=true)
  fi
  if [[ -n "${FOREGROUND:-}" ]]; then
    cd "$RUN"
    exec "$JAVA_HOME/bin/java" "-Xmx$HEAP" -Xss512k -XX:+UseSerialGC -Djava.net.preferIPv4Stack=true \
      "-Dlogback.configurationFile=$RUN/conf/logback.xml" "${opts[@]}" -cp "$LIB/*" "$MAIN" "$RUN/conf/zoo$s.cfg"
  fi
  (
    cd "$RUN"
    exec setsid "$JAVA_HOME/bin/java" "-Xmx$HEAP" -Xss512k -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Djava.net.preferIPv4Stack=true "-Dzookeeper.log.dir=$RUN/logs" "-Dzookeeper.log.file=$RUN/logs/zk$s.log" \
      "-Dlogback.configurationFile=$RUN/conf/logback.xml" -Dzookeeper.4lw.commands.whitelist=srvr,ruok,mntr,stat,conf,isro \
      "${opts[@]}" -cp "$LIB/*" "$MAIN" "$RUN/conf/zoo$s.cfg" >"$RUN/logs/zk$s.out" 2>&1 </dev/null
  ) &
  echo $! > "$RUN/pids/zk$s.pid"
  wait_exec "$!" "zoo$s.cfg"
  log "started ZooKeeper server $s (pid $!, client port $(client_port "$s"), log $RUN/logs/zk$s.log)"
}

# Wait until the launched subshell has exec'd java (so pid checks see the main class).
wait_exec() {
  local i
  for ((i = 0; i < 50; i++)); do
    [[ "$(cmdline "$1")" == *"$MAIN $RUN/conf/$2"* ]] && return 0
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
}

stop_server() {
  local s="$1" pid i
  pid="$(server_pid "$s")"
  if [[ -z "$pid" ]]; then rm -f "$RUN/pids/zk$s.pid"; return 0; fi
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  rm -f "$RUN/pids/zk$s.pid"
  log "stopped ZooKeeper server $s"
}

# Wait until the given servers serve as leader or follower and one of all servers leads.
wait_serving() {
  local deadline=$((SECONDS + START_TIMEOUT)) s m ok leader
  while ((SECONDS < deadline)); do
    ok=1; leader=""
    for s in "$@"; do
      if [[ -z "$(server_pid "$s")" ]]; then
        tail -30 "$RUN/logs/zk$s.log" "$RUN/logs/zk$s.out" 2>/dev/null >&2 || true
        die "ZooKeeper server $s exited during start-up (log $RUN/logs/zk$s.log)"
      fi
      m="$(server_mode "$s")"
      [[ "$m" == leader || "$m" == follower ]] || ok=""
    done
    for s in "${SERVERS[@]}"; do [[ "$(server_mode "$s")" == leader ]] && leader=$s; done
    if [[ -n "$ok" && -n "$leader" ]]; then log "quorum: server $leader leads"; return 0; fi
    sleep 0.5
  done
  die "no quorum after ${START_TIMEOUT}s (logs in $RUN/logs)"
}

any_running() { local s; for s in "${SERVERS[@]}"; do [[ -n "$(server_pid "$s")" ]] && return 0; done; return 1; }

prepare() {
  local m="$1"
  find_java; ensure_built
  if any_running && [[ "$(mode)" != "$m" ]]; then
    die "the ensemble is running in $(mode) mode: run 'zookeeper/ensemble.sh stop' first"
  fi
  if [[ $m == secure ]]; then "$REPO_DIR/yarn/kdc.sh" start >&2; fi
  render_conf "$m"
}

cmd_status() {
  local s pid m rc=0
  echo "mode              $(mode)"
  echo "connect string    $(connect_string)"
  [[ "$(mode)" == secure ]] && echo "jaas/krb5         $RUN/conf/jaas.conf $KDC_DIR/krb5.conf"
  echo "logs              $RUN/logs"
  for s in "${SERVERS[@]}"; do
    pid="$(server_pid "$s")"
    if [[ -n "$pid" ]]; then
      m="$(server_mode "$s")"
      printf 'server %s  127.0.0.1:%s  running (pid %s)  mode: %s\n' "$s" "$(client_port "$s")" "$pid" "${m:-not serving}"
    else
      printf 'server %s  127.0.0.1:%s  stopped\n' "$s" "$(client_port "$s")"; rc=3
    fi
  done
  return $rc
}

check_n() { [[ "${1:-}" =~ ^[123]$ ]] || die "server number must be 1, 2 or 3"; }
want_mode() { if [[ "${1:-}" == --secure ]]; then echo secure; else echo plain; fi; }

case "${1:-}" in
  start)
    m="$(want_mode "${2:-}")"; prepare "$m"
    for s in "${SERVERS[@]}"; do start_server "$s"; done
    wait_serving "${SERVERS[@]}"
    log "ensemble ready ($m): $(connect_string)" ;;
  stop)
    for s in "${SERVERS[@]}"; do stop_server "$s"; done ;;
  status) cmd_status ;;
  stop-server)
    check_n "${2:-}"; stop_server "$2" ;;
  start-server)
    check_n "${2:-}"
    m="$(want_mode "${3:-}")"
    # Keep the mode the running ensemble has; --secure only matters when nothing runs.
    if any_running; then m="$(mode)"; fi
    prepare "$m"; find_java; start_server "$2"; wait_serving "$2" ;;
  connect-string) connect_string ;;
  foreground)
    check_n "${2:-}"
    m="$(want_mode "${3:-}")"; [[ "${YF_MODE:-}" == secure ]] && m=secure
    find_java; ensure_built; render_conf "$m"
    # Same JVM as start_server, in the foreground, logging to the console.
    sed -i 's#<appender-ref ref="FILE"/>#<appender-ref ref="CONSOLE"/>#; s#<configuration>#<configuration><appender name="CONSOLE" class="ch.qos.logback.core.ConsoleAppender"><encoder><pattern>%d{ISO8601} %-5level %logger{36} - %msg%n</pattern></encoder></appender>#' "$RUN/conf/logback.xml"
    FOREGROUND=1 start_server "$2" ;;
  *) echo "usage: $0 start [--secure] | stop | status | stop-server N | start-server N [--secure] | connect-string | foreground N [--secure]" >&2; exit 2 ;;
esac
