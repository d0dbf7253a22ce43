#!/bin/sh
set -e
# A user service: each user enables it for their own session
# (systemctl --user enable --now tether-agent); nothing starts on install.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null || true
fi
