#!/bin/sh
set -e
# The relay is not started on install: choose its listen address in
# /etc/default/tether-relay first, then systemctl enable --now tether-relay.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
	if [ "$1" = configure ] && [ -n "$2" ] && systemctl is-active --quiet tether-relay; then
		systemctl restart tether-relay || true
	fi
fi
