#!/usr/bin/env bash
# Single-host Hadoop (HDFS + YARN) for development and tests, on loopback.
#
#   yarn/cluster.sh start [--secure]   fetch what is missing, format HDFS on first use, start
#                                      NameNode, DataNode, ResourceManager, NodeManager; wait until
#                                      HDFS is out of safe mode and the NodeManager is RUNNING
#   yarn/cluster.sh stop               stop the four daemons (and nothing else)
#   yarn/cluster.sh status             HADOOP_CONF_DIR, fs.defaultFS, RM address, daemon states
#   yarn/cluster.sh env                lines to eval: export HADOOP_CONF_DIR=... PATH=...
#   yarn/cluster.sh conf [--secure]    only render the configuration into $YFLINK_DEV_RUN/conf
#   yarn/cluster.sh foreground NAME [--secure]
#                                      run one daemon (namenode|datanode|resourcemanager|nodemanager)
#                                      in the foreground, logging to the console (docker-compose.yml)
#   yarn/cluster.sh prepare-hdfs       wait for HDFS to leave safe mode, create /tmp and /user/* dirs
#
# Everything lives under $YFLINK_DEV_RUN (default yarn/run): conf/, logs/, pids/, data/.
# --secure starts the Kerberos realm (yarn/kdc.sh) first and runs Hadoop with Kerberos.
set -euo pipefail
# shellcheck source=libexec/env.sh
source "$(dirname "$(readlink -f "$0")")/libexec/env.sh"

PIDS="$YFLINK_DEV_RUN/pids"
LOGS="$YFLINK_DEV_RUN/logs"
START_TIMEOUT="${YF_START_TIMEOUT:-180}"   # seconds to wait for the cluster to become usable

# name  main class  heap
DAEMONS=(namenode datanode resourcemanager nodemanager)
declare -A MAIN=(
  [namenode]=org.apache.hadoop.hdfs.server.namenode.NameNode
  [datanode]=org.apache.hadoop.hdfs.server.datanode.DataNode
  [resourcemanager]=org.apache.hadoop.yarn.server.resourcemanager.ResourceManager
  [nodemanager]=org.apache.hadoop.yarn.server.nodemanager.NodeManager
)
declare -A HEAP=([namenode]=384m [datanode]=256m [resourcemanager]=512m [nodemanager]=384m)

# pid of a running daemon, or nothing (a pid file whose process is gone or is something else is stale)
daemon_pid() {
  local name="$1" pid
  pid="$(cat "$PIDS/$name.pid" 2>/dev/null)" || return 0
  if [[ -n "$pid" && "$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline" || true)" == *" ${MAIN[$name]}"* ]]; then
    echo "$pid"
  fi
}

start_daemon() {
  local name="$1" pid opts
  pid="$(daemon_pid "$name")"
  if [[ -n "$pid" ]]; then yf_log "$name already running (pid $pid)"; return 0; fi
  mapfile -t opts < <(yf_jvm_opts)
  mkdir -p "$PIDS" "$LOGS"
  (
    cd "$YFLINK_DEV_RUN"
    # setsid: the daemon outlives this shell and a Ctrl-C in the caller's terminal.
    exec setsid "$JAVA_HOME/bin/java" "${opts[@]}" "-Xmx${HEAP[$name]}" "-Xms64m" \
      "-Dhadoop.log.file=$name.log" "-Dhadoop.root.logger=INFO,RFA" "-Dhadoop.id.str=$name" \
      "-Dproc_$name" -cp "$(yf_classpath)" "${MAIN[$name]}" \
      >"$LOGS/$name.out" 2>&1 </dev/null
  ) &
  echo $! > "$PIDS/$name.pid"
  # Wait until the subshell has exec'd java, so pid checks see the main class.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -n "$(daemon_pid "$name")" ]] && break
    kill -0 "$!" 2>/dev/null || break
    sleep 0.1
  done
  yf_log "started $name (pid $!, log $LOGS/$name.log)"
}

stop_daemon() {
  local name="$1" pid i
  pid="$(daemon_pid "$name")"
  if [[ -z "$pid" ]]; then rm -f "$PIDS/$name.pid"; return 0; fi
  kill "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    yf_log "$name (pid $pid) did not stop in 20 s: killing it"
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDS/$name.pid"
  yf_log "stopped $name"
}

any_running() {
  local d
  for d in "${DAEMONS[@]}"; do [[ -n "$(daemon_pid "$d")" ]] && return 0; done
  return 1
}

# In secure mode the readiness checks below log in as the NameNode's principal (an HDFS superuser).
admin_login() {
  [[ "$(yf_mode)" == secure ]] || return 0
  export KRB5_CONFIG="$YF_KDC_DIR/krb5.conf" KRB5CCNAME="FILE:$YFLINK_DEV_RUN/admin.ccache"
  kinit -kt "$YF_KDC_DIR/keytabs/nn.keytab" "nn/$YF_HOST@$YF_REALM"
}

format_if_needed() {
  if [[ -f "$YFLINK_DEV_RUN/data/namenode/current/VERSION" ]]; then return 0; fi
  yf_log "formatting the NameNode (first use)"
  local opts; mapfile -t opts < <(yf_jvm_opts)
  mkdir -p "$YFLINK_DEV_RUN/data"
  "$JAVA_HOME/bin/java" "${opts[@]}" -Xmx256m "-Dhadoop.log.file=format.log" -Dhadoop.root.logger=INFO,RFA \
    -cp "$(yf_classpath)" "${MAIN[namenode]}" -format -nonInteractive -clusterId yflink-dev \
    >"$LOGS/format.out" 2>&1 || { tail -20 "$LOGS/format.log" >&2; yf_die "NameNode format failed (see $LOGS/format.log)"; }
}

# Fail early, with the daemon's log, when a daemon died during start-up.
check_alive() {
  local d
  for d in "${DAEMONS[@]}"; do
    if [[ -z "$(daemon_pid "$d")" ]]; then
      echo "---- $LOGS/$d.log (last 40 lines) ----" >&2
      tail -40 "$LOGS/$d.log" "$LOGS/$d.out" 2>/dev/null >&2 || true
      yf_die "$d exited during start-up"
    fi
  done
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Client options for the readiness probes: fail fast instead of retrying for minutes.
PROBE_OPTS=(-Dipc.client.connect.max.retries=1 -Dipc.client.connect.max.retries.on.timeouts=1
            -Dyarn.resourcemanager.connect.max-wait.ms=2000 -Dyarn.resourcemanager.connect.retry-interval.ms=500)

wait_ready() {
  local deadline=$((SECONDS + START_TIMEOUT)) hdfs_ok="" yarn_ok=""
  admin_login
  while ((SECONDS < deadline)); do
    check_alive
    if [[ -z "$hdfs_ok" ]] && port_open 8020 && port_open 9866 \
       && "$YF_YARN_DIR/bin/hdfs" dfsadmin "${PROBE_OPTS[@]}" -report -live 2>/dev/null \
         | grep -q '^Live datanodes (1)' \
       && "$YF_YARN_DIR/bin/hdfs" dfsadmin "${PROBE_OPTS[@]}" -safemode get 2>/dev/null | grep -q 'Safe mode is OFF'; then
      hdfs_ok=1; yf_log "HDFS is up: 1 live DataNode, safe mode off"
    fi
    if [[ -z "$yarn_ok" ]] && port_open 8032 && port_open 8041 \
       && "$YF_YARN_DIR/bin/yarn" node "${PROBE_OPTS[@]}" -list 2>/dev/null | grep -q 'RUNNING'; then
      yarn_ok=1; yf_log "YARN is up: NodeManager RUNNING"
    fi
    if [[ -n "$hdfs_ok" && -n "$yarn_ok" ]]; then return 0; fi
    sleep 1
  done
  yf_die "cluster not ready after ${START_TIMEOUT}s (logs in $LOGS)"
}

# Directories every client expects: a world-writable /tmp (log aggregation, staging) and /user/*.
prepare_hdfs() {
  local hdfs="$YF_YARN_DIR/bin/hdfs"
  "$hdfs" dfs -mkdir -p /tmp /user/root /user/yflink /tmp/logs
  "$hdfs" dfs -chmod 1777 /tmp /tmp/logs
  "$hdfs" dfs -chown yflink /user/yflink
}

cmd_start() {
  local mode=plain
  [[ "${1:-}" == --secure ]] && mode=secure
  yf_find_java; yf_ensure_hadoop
  if any_running && [[ "$(yf_mode)" != "$mode" ]]; then
    yf_die "the cluster is running in $(yf_mode) mode: run 'yarn/cluster.sh stop' first"
  fi
  if [[ $mode == secure ]]; then
    "$YF_YARN_DIR/kdc.sh" start >&2
  fi
  yf_render_conf "$mode"
  format_if_needed
  local d
  for d in "${DAEMONS[@]}"; do start_daemon "$d"; done
  wait_ready
  prepare_hdfs
  yf_log "cluster ready ($mode): HADOOP_CONF_DIR=$HADOOP_CONF_DIR"
}

cmd_stop() {
  local i
  # Reverse order: clients of a daemon stop before it.
  for ((i = ${#DAEMONS[@]} - 1; i >= 0; i--)); do stop_daemon "${DAEMONS[$i]}"; done
  rm -f "$YFLINK_DEV_RUN/admin.ccache"
}

conf_value() {  # conf_value FILE NAME -> value in the rendered config
  sed -n "s#.*<name>$2</name><value>\\([^<]*\\)</value>.*#\\1#p" "$HADOOP_CONF_DIR/$1" 2>/dev/null | head -1
}

cmd_status() {
  local d pid rc=0
  echo "mode             $(yf_mode)"
  echo "HADOOP_CONF_DIR  $HADOOP_CONF_DIR"
  echo "HADOOP_HOME      $HADOOP_HOME"
  echo "fs.defaultFS     $(conf_value core-site.xml fs.defaultFS)"
  echo "resourcemanager  $(conf_value yarn-site.xml yarn.resourcemanager.address)"
  echo "rm web UI        http://$(conf_value yarn-site.xml yarn.resourcemanager.webapp.address)"
  echo "namenode web UI  http://$(conf_value hdfs-site.xml dfs.namenode.http-address)"
  echo "logs             $LOGS"
  for d in "${DAEMONS[@]}"; do
    pid="$(daemon_pid "$d")"
    if [[ -n "$pid" ]]; then printf '%-16s running (pid %s)\n' "$d" "$pid"
    else printf '%-16s stopped\n' "$d"; rc=3; fi
  done
  return $rc
}

cmd_env() {
  echo "export HADOOP_CONF_DIR='$HADOOP_CONF_DIR'"
  echo "export HADOOP_HOME='$HADOOP_HOME'"
  echo "export PATH='$YF_YARN_DIR/bin':\"\$PATH\""
  if [[ "$(yf_mode)" == secure ]]; then echo "export KRB5_CONFIG='$YF_KDC_DIR/krb5.conf'"; fi
}

# One daemon in the foreground (containers): same configuration, console logging, exec'd java.
cmd_foreground() {
  local name="${1:-}" mode=plain opts
  [[ -n "${MAIN[$name]:-}" ]] || yf_die "foreground: unknown daemon '$name' (${DAEMONS[*]})"
  [[ "${2:-}" == --secure || "${YF_MODE:-}" == secure ]] && mode=secure
  yf_find_java; yf_ensure_hadoop
  yf_render_conf "$mode"
  [[ $name == namenode ]] && format_if_needed
  mapfile -t opts < <(yf_jvm_opts)
  cd "$YFLINK_DEV_RUN"
  exec "$JAVA_HOME/bin/java" "${opts[@]}" "-Xmx${HEAP[$name]}" -Xms64m "-Dhadoop.log.file=$name.log" \
    -Dhadoop.root.logger=INFO,console "-Dproc_$name" -cp "$(yf_classpath)" "${MAIN[$name]}"
}

cmd_prepare_hdfs() {
  yf_find_java; admin_login
  "$YF_YARN_DIR/bin/hdfs" dfsadmin -safemode wait
  prepare_hdfs
}

case "${1:-}" in
  start)  shift; cmd_start "$@" ;;
  conf)   yf_find_java; if [[ "${2:-}" == --secure || "${YF_MODE:-}" == secure ]]; then yf_render_conf secure; else yf_render_conf plain; fi ;;
  foreground) shift; cmd_foreground "$@" ;;
  prepare-hdfs) cmd_prepare_hdfs ;;
  stop)   cmd_stop ;;
  status) cmd_status ;;
  env)    cmd_env ;;
  *) echo "usage: $0 start [--secure] | stop | status | env | conf [--secure] | foreground NAME [--secure] | prepare-hdfs" >&2; exit 2 ;;
esac
