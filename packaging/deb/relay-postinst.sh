#!/bin/sh
set -e
# The service's user (sysusers.d/tether-relay.conf) and its state directory,
# so that host-side commands (sudo -u tether relay …) work before the first
# start too.
if [ "$1" = configure ]; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers /usr/lib/sysusers.d/tether-relay.conf
	elif ! getent passwd tether >/dev/null; then
		useradd --system --user-group --home-dir /var/lib/tether --no-create-home \
			--shell /usr/sbin/nologin --comment "Tether relay" tether
	fi
	install -d -o tether -g tether -m 0700 /var/lib/tether
fi
# The relay is not started on install: choose its listen address in
# /etc/default/tether-relay first, then systemctl enable --now tether-relay.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	if [ "$1" = configure ] && [ -n "$2" ] && systemctl is-active --quiet tether-relay; then
		systemctl restart tether-relay || true
	fi
fi
