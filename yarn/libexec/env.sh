# shellcheck shell=bash
# Shared environment for yarn/bin/{hadoop,hdfs,yarn}, yarn/cluster.sh and yarn/kdc.sh.
# Sourced, never executed. Every path can be overridden from the environment:
#   YFLINK_DEV_RUN   run directory (pids, logs, data, rendered config)  default: yarn/run
#   HADOOP_HOME      Hadoop home collected by yarn/pom.xml              default: yarn/build/hadoop
#   HADOOP_CONF_DIR  configuration the CLIs read                        default: $YFLINK_DEV_RUN/conf
#   JAVA_HOME        a Java 17 JDK                                      default: found on this host

YF_YARN_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export YFLINK_DEV_RUN="${YFLINK_DEV_RUN:-$YF_YARN_DIR/run}"
export HADOOP_HOME="${HADOOP_HOME:-$YF_YARN_DIR/build/hadoop}"
export HADOOP_CONF_DIR="${HADOOP_CONF_DIR:-$YFLINK_DEV_RUN/conf}"
YF_HADOOP_LIB="$HADOOP_HOME/share/hadoop/lib"
YF_KDC_DIR="$YFLINK_DEV_RUN/kdc"
# Realm and KDC port of the throwaway Kerberos realm (yarn/kdc.sh).
export YF_REALM="${YF_REALM:-YFLINK.DEV}"
export YF_KDC_PORT="${YF_KDC_PORT:-28088}"  # below the ephemeral range (32768-60999): no client socket can hold it
# All services speak to each other through this name; it must resolve to 127.0.0.1 both ways.
# It is also the host part of every service principal (nn/localhost@YFLINK.DEV, ...).
YF_HOST=localhost
# Where each daemon is reached, and the address the DataNode binds: all loopback on one host;
# docker-compose.yml sets them to its service names and 0.0.0.0.
YF_NN_HOST="${YF_NN_HOST:-$YF_HOST}"
YF_DN_HOST="${YF_DN_HOST:-$YF_HOST}"
YF_RM_HOST="${YF_RM_HOST:-$YF_HOST}"
YF_NM_HOST="${YF_NM_HOST:-$YF_HOST}"
YF_BIND="${YF_BIND:-127.0.0.1}"
# The KDC's address in krb5.conf, and the address krb5kdc listens on.
YF_KDC_HOST="${YF_KDC_HOST:-127.0.0.1}"
YF_KDC_BIND="${YF_KDC_BIND:-127.0.0.1}"

yf_die() { echo "error: $*" >&2; exit 1; }
yf_log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# Install Debian packages a script needs on first use (yarn/setup.sh installs them all up front).
yf_apt_install() {
  command -v apt-get >/dev/null || yf_die "missing $*: install it (Debian: apt-get install $*)"
  local sudo=""; [[ $EUID -ne 0 ]] && sudo=sudo
  yf_log "installing $* with apt-get (first use only)"
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

# --- Java -------------------------------------------------------------------
yf_find_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then return 0; fi
  local cand
  for cand in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    if [[ -x "$cand/bin/javac" ]]; then export JAVA_HOME="$cand"; return 0; fi
  done
  if command -v javac >/dev/null; then
    JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"; export JAVA_HOME; return 0
  fi
  [[ -z "${YF_JAVA_INSTALLED:-}" ]] || yf_die "no Java 17 JDK found: set JAVA_HOME"
  yf_apt_install openjdk-17-jdk-headless
  YF_JAVA_INSTALLED=1 yf_find_java
}

# Hadoop on Java 17 reflects into JDK internals (Kerberos config, direct buffers, ...).
YF_JAVA17_OPTS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/java.util.regex=ALL-UNNAMED
  --add-opens=java.base/java.util.zip=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED
  --add-exports=java.base/sun.net.dns=ALL-UNNAMED
  --add-exports=java.base/sun.net.util=ALL-UNNAMED
  --add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED
)

# JVM options every Hadoop JVM gets (daemons, CLIs); Kerberos ones when the realm exists.
yf_jvm_opts() {
  local opts=("${YF_JAVA17_OPTS[@]}" -Djava.net.preferIPv4Stack=true -XX:+UseSerialGC
              -XX:TieredStopAtLevel=1 -Xss512k
              "-Dhadoop.home.dir=$HADOOP_HOME" "-Dyarn.home.dir=$HADOOP_HOME"
              "-Dhadoop.log.dir=$YFLINK_DEV_RUN/logs")
  if [[ -f "$YF_KDC_DIR/krb5.conf" ]]; then
    opts+=("-Djava.security.krb5.conf=$YF_KDC_DIR/krb5.conf" -Dsun.security.krb5.disableReferrals=true
           -Djavax.security.auth.useSubjectCredsOnly=false)
  fi
  printf '%s\n' "${opts[@]}"
}

# --- Hadoop home --------------------------------------------------------------
YF_SHIM_JAR="$HADOOP_HOME/share/hadoop/shim/hadoop-secureio-nonative.jar"
yf_hadoop_built() { compgen -G "$YF_HADOOP_LIB/hadoop-common-*.jar" >/dev/null && [[ -f "$YF_SHIM_JAR" ]]; }

# Secure mode without libhadoop.so: Hadoop's SecureIOUtils refuses to load when security is on and
# native IO is missing, and its owner checks need native fstat; that kills the NodeManager's log
# aggregation and log web pages. Maven Central has no libhadoop.so, so we compile Hadoop's own
# SecureIOUtils with the refusal turned into a warning and, without native IO, the file opens it
# does with security off (no owner check; with DefaultContainerExecutor every container file is owned
# by the NodeManager's user anyway). Dev clusters only; this jar goes first on the daemons' classpath.
yf_build_secureio_shim() {
  local src="$YF_YARN_DIR/build/secureio-shim/src" out="$YF_YARN_DIR/build/secureio-shim/classes"
  local f="$src/org/apache/hadoop/io/SecureIOUtils.java"
  [[ -f "$f" ]] || yf_die "missing $f (mvn package unpacks it)"
  grep -q 'Secure IO is not possible without native code extensions' "$f" \
    || yf_die "SecureIOUtils.java changed upstream: update yf_build_secureio_shim"
  python3 - "$f" <<'PY'
import re, sys
p = sys.argv[1]; s = open(p).read()
s, n = re.subn(r'throw new RuntimeException\(\s*"Secure IO is not possible without native code extensions."\);',
               'System.err.println("yflink dev cluster: no native IO; SecureIOUtils opens files as with security off");', s)
s, m = re.subn(r'if \(!UserGroupInformation.isSecurityEnabled\(\)\)', 'if (skipSecurity || !UserGroupInformation.isSecurityEnabled())', s)
if n != 1 or m < 1:
    sys.exit("SecureIOUtils.java changed upstream (%d, %d): update yf_build_secureio_shim" % (n, m))
open(p, "w").write(s)
PY
  rm -rf "$out"; mkdir -p "$out" "$(dirname "$YF_SHIM_JAR")"
  "$JAVA_HOME/bin/javac" -nowarn -d "$out" -cp "$YF_HADOOP_LIB/*" "$f" >&2 || yf_die "javac of the SecureIOUtils shim failed"
  "$JAVA_HOME/bin/jar" cf "$YF_SHIM_JAR" -C "$out" . || yf_die "jar of the SecureIOUtils shim failed"
}

# Collect the Hadoop jars from Maven Central on first use.
yf_ensure_hadoop() {
  yf_hadoop_built && return 0
  command -v mvn >/dev/null || yf_apt_install maven
  yf_log "collecting Hadoop jars with Maven into $HADOOP_HOME (first use only)"
  mvn -B -q -f "$YF_YARN_DIR/pom.xml" package >&2 || yf_die "mvn failed collecting Hadoop jars"
  yf_find_java; yf_build_secureio_shim
  yf_hadoop_built || yf_die "Maven ran but $YF_HADOOP_LIB has no hadoop-common jar"
}

# share/hadoop/hdfs holds HDFS's webapps/ (a directory, as in Hadoop's tarball), lib/ every jar.
yf_classpath() { echo "$HADOOP_CONF_DIR:$YF_SHIM_JAR:$HADOOP_HOME/share/hadoop/hdfs:$YF_HADOOP_LIB/*"; }
yf_classpath_glob() {
  echo "$HADOOP_CONF_DIR:$YF_SHIM_JAR:$HADOOP_HOME/share/hadoop/hdfs:$(printf '%s:' "$YF_HADOOP_LIB"/*.jar | sed 's/:$//')"
}

# --- configuration ------------------------------------------------------------
yf_mode() { cat "$YFLINK_DEV_RUN/mode" 2>/dev/null || echo plain; }

# Render yarn/conf/*.xml templates into $YFLINK_DEV_RUN/conf for MODE (plain|secure).
yf_render_conf() {
  local mode="$1" out="$YFLINK_DEV_RUN/conf" f name
  mkdir -p "$out" "$YFLINK_DEV_RUN/logs"
  for f in "$YF_YARN_DIR"/conf/*; do
    [[ -f "$f" ]] || continue
    name="$(basename "$f")"
    if [[ "$mode" == secure && -f "$YF_YARN_DIR/conf/secure/$name" ]]; then
      sed -e "/@SECURE_PROPS@/{r $YF_YARN_DIR/conf/secure/$name" -e 'd}' "$f"
    else
      sed -e '/@SECURE_PROPS@/d' "$f"
    fi | sed -e "s#@RUN@#$YFLINK_DEV_RUN#g" -e "s#@HADOOP_HOME@#$HADOOP_HOME#g" \
             -e "s#@HOST@#$YF_HOST#g" -e "s#@NN_HOST@#$YF_NN_HOST#g" -e "s#@DN_HOST@#$YF_DN_HOST#g" \
             -e "s#@RM_HOST@#$YF_RM_HOST#g" -e "s#@NM_HOST@#$YF_NM_HOST#g" -e "s#@BIND@#$YF_BIND#g" \
             -e "s#@REALM@#$YF_REALM#g" -e "s#@KDC_DIR@#$YF_KDC_DIR#g" \
             -e "s#@JAVA_HOME@#$JAVA_HOME#g" > "$out/$name.tmp"
    mv "$out/$name.tmp" "$out/$name"
  done
  if [[ "$mode" == secure && ! -s "$out/http-secret" ]]; then
    head -c 32 /dev/urandom | base64 > "$out/http-secret"   # signs SPNEGO cookies
    chmod 600 "$out/http-secret"
  fi
  echo "$mode" > "$YFLINK_DEV_RUN/mode"
}

# Make sure a configuration exists for the CLIs (rendered plain if nothing was started yet).
yf_ensure_conf() {
  if [[ "$HADOOP_CONF_DIR" == "$YFLINK_DEV_RUN/conf" && ! -f "$HADOOP_CONF_DIR/core-site.xml" ]]; then
    yf_render_conf "$(yf_mode)"
  fi
}

# Run a Java main class with the Hadoop classpath (used by bin/hadoop, bin/hdfs, bin/yarn).
yf_exec_java() {
  local main="$1"; shift
  yf_find_java; yf_ensure_hadoop; yf_ensure_conf
  local opts; mapfile -t opts < <(yf_jvm_opts)
  # shellcheck disable=SC2086
  exec "$JAVA_HOME/bin/java" "${opts[@]}" -Xmx${YF_CLIENT_HEAP:-256m} ${HADOOP_CLIENT_OPTS:-} \
    "-Dhadoop.log.file=client.log" "-Dhadoop.root.logger=${HADOOP_ROOT_LOGGER:-WARN,console}" \
    -cp "$(yf_classpath)${HADOOP_CLASSPATH:+:$HADOOP_CLASSPATH}" "$main" "$@"
}
