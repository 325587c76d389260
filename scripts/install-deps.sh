#!/bin/sh
# install-deps.sh - install the Debian 12 packages msgeventd's build and
# tests need, if any is missing.
#
#   nothing missing          silent, exit 0
#   missing, run as root     apt-get install them (apt-get update first
#                            only if the install fails), exit 0 on success
#   missing, not root        print the apt-get line to run, exit 1
#
# The packages' own system services (dovecot, rsyslog, snmptrapd,
# haproxy) are not started by the installation: the tests run private
# instances on free loopback ports, and a system Dovecot listening on
# 143/110 of every interface is not something to leave behind.
set -eu

PACKAGES="dovecot-imapd dovecot-pop3d dovecot-lmtpd dovecot-auth-lua
rsyslog snmptrapd snmp libsnmp-dev libpcre2-dev libcmocka-dev libssl-dev
openssl haproxy smitools pkg-config gcc make python3"

# Services that installing PACKAGES could start.
SERVICES="dovecot rsyslog snmptrapd haproxy"

missing() {
	for p in $PACKAGES; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case $status in
		*" ok installed") ;;
		*) printf '%s ' "$p" ;;
		esac
	done
}

MISSING=$(missing)
[ -z "$MISSING" ] && exit 0
MISSING=${MISSING% }

APT="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $MISSING"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing Debian packages: $MISSING" >&2
	echo "install-deps: run as root:" >&2
	echo "  apt-get update && $APT" >&2
	exit 1
fi

echo "install-deps: installing $MISSING"

# Which services run now: those are left alone afterwards.
was_active=""
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	for s in $SERVICES; do
		if systemctl is-active --quiet "$s" 2>/dev/null; then
			was_active="$was_active $s"
		fi
	done
fi

# policy-rc.d (Debian Policy 9.3.3) answering 101 "action forbidden"
# keeps maintainer scripts from starting services, through invoke-rc.d
# and deb-systemd-invoke alike.  An existing one is put back afterwards.
POLICY=/usr/sbin/policy-rc.d
SAVED="$POLICY.msgeventd-saved"
restore_policy() {
	rm -f "$POLICY"
	if [ -e "$SAVED" ]; then
		mv -f "$SAVED" "$POLICY"
	fi
}
if [ -e "$SAVED" ]; then
	: # left by an interrupted run: ours is in place, the original saved
elif [ -e "$POLICY" ]; then
	mv -f "$POLICY" "$SAVED"
fi
trap restore_policy EXIT
trap 'exit 130' INT TERM HUP
printf '#!/bin/sh\n# msgeventd install-deps.sh: start no services\nexit 101\n' \
	>"$POLICY"
chmod 755 "$POLICY"

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $MISSING; then
	echo "install-deps: install failed; updating the package lists"
	apt-get update
	# shellcheck disable=SC2086
	apt-get install -y --no-install-recommends $MISSING
fi

restore_policy
trap - EXIT

# A service started despite the policy (e.g. a unit pulled in by another
# one) and not running before: stop it.
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
	for s in $SERVICES; do
		case " $was_active " in *" $s "*) continue ;; esac
		if systemctl is-active --quiet "$s" 2>/dev/null; then
			echo "install-deps: stopping $s, started by its installation"
			systemctl stop "$s" || true
		fi
	done
fi

STILL=$(missing)
if [ -n "$STILL" ]; then
	echo "install-deps: still missing: $STILL" >&2
	exit 1
fi
echo "install-deps: done"
