#!/usr/bin/env bash
# Install everything the dev stack and tests/hadoop need on a fresh Debian 12 machine; idempotent.
#
#   bash yarn/setup.sh && python -m pytest tests/hadoop -m hadoop
#
# 1. Debian packages: Java 17, Maven, MIT Kerberos (KDC, admin tools, client, headers for the Python
#    GSSAPI binding), a C compiler (pip builds `kerberos` from source).
# 2. Python packages the tests use: kazoo (+ pure-sasl, kerberos for SASL/GSSAPI), hdfs-native, skein,
#    pyyaml, pytest, pytest-timeout. Set PYTHON to choose the interpreter (default: python3).
# 3. Maven: Hadoop 3.5.0 home (yarn/pom.xml, plus the SecureIOUtils shim) and ZooKeeper (zookeeper/pom.xml).
# Each step prints how long it took. Nothing is started.
set -euo pipefail

HERE="$(cd "$(dirname "$(readlink -f "$0")")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
PYTHON="${PYTHON:-python3}"
APT_PACKAGES=(openjdk-17-jdk-headless maven krb5-kdc krb5-admin-server krb5-user libkrb5-dev gcc libc6-dev)
PIP_PACKAGES=("kazoo>=2.10" pure-sasl kerberos "hdfs-native>=0.14" "skein>=0.8.2" pyyaml "pytest>=8" pytest-timeout)

step_start=0
step() { step_start=$SECONDS; echo "[setup] $*" >&2; }
done_step() { echo "[setup]   done in $((SECONDS - step_start))s" >&2; }
total_start=$SECONDS

step "Debian packages: ${APT_PACKAGES[*]}"
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""; [[ $EUID -ne 0 ]] && sudo=sudo
  $sudo apt-get update -qq
  # krb5-config asks for a default realm: answer nothing (the dev realm has its own krb5.conf).
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's postinst may start the distribution's own KDC services; the dev stack runs its own.
  for svc in krb5-kdc krb5-admin-server; do
    if command -v service >/dev/null; then $sudo service "$svc" stop >/dev/null 2>&1 || true; fi
  done
else
  echo "[setup]   all installed" >&2
fi
done_step

step "Python packages ($PYTHON): ${PIP_PACKAGES[*]}"
if "$PYTHON" -c 'import kazoo, puresasl, kerberos, hdfs_native, skein, yaml, pytest, pytest_timeout' 2>/dev/null; then
  echo "[setup]   all installed" >&2
else
  "$PYTHON" -m pip install -q "${PIP_PACKAGES[@]}"
fi
done_step

step "Hadoop home from Maven Central (yarn/pom.xml) and the SecureIOUtils shim"
"$HERE/bin/hadoop" version | head -1
done_step

step "ZooKeeper from Maven Central (zookeeper/pom.xml)"
if ! compgen -G "$REPO/zookeeper/build/lib/zookeeper-3*.jar" >/dev/null; then
  mvn -B -q -f "$REPO/zookeeper/pom.xml" package
fi
ls "$REPO"/zookeeper/build/lib/zookeeper-3*.jar
done_step

echo "[setup] ready in $((SECONDS - total_start))s: bash yarn/cluster.sh start | zookeeper/ensemble.sh start | python -m pytest tests/hadoop -m hadoop" >&2
