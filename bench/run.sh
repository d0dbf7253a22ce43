#!/bin/sh
# bench/run.sh — `make bench`: Tether against OpenSSH, Tether's remote
# desktop against x11vnc + noVNC, and the relay on PostgreSQL against bbolt,
# on this machine, in one run. Installs
# openssh-server from Debian if sshd is missing, raises the open-file limit
# to the hard limit, and runs bench/cmd/tetherbench, which
# starts and stops (by PID) every process it needs. Environment: see the
# README section "Benchmarks" (BENCH_QUICK=1 for a small smoke run).
set -e
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if ! command -v sshd >/dev/null 2>&1 && [ ! -x /usr/sbin/sshd ]; then
	echo "bench: sshd not found; installing openssh-server" >&2
	apt-get install -y openssh-server >/dev/null || echo "bench: could not install openssh-server; OpenSSH columns stay empty" >&2
fi
# The desktop part needs these Debian packages; nothing is installed for it:
# whatever is missing is named here, and its columns stay empty.
missing=""
for p in Xvfb:xvfb xterm:xterm x11vnc:x11vnc websockify:websockify chromium:chromium; do
	command -v "${p%%:*}" >/dev/null 2>&1 || missing="$missing ${p#*:}"
done
[ -f /usr/share/novnc/core/rfb.js ] || missing="$missing novnc"
[ -z "$missing" ] || echo "bench: the desktop part lacks Debian packages:$missing (apt-get install$missing)" >&2
# The store part (PostgreSQL against bbolt) and the cluster parts start a
# throwaway PostgreSQL server; without it those parts are reported as failed
# and the rest runs.
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
	echo "bench: the store and cluster parts need the Debian package postgresql (apt-get install postgresql)" >&2
# The busy part pins the relay and the load generator to separate CPUs.
command -v taskset >/dev/null 2>&1 || echo "bench: taskset (util-linux) not found; the busy part cannot pin the relay" >&2
go build -o bin/ ./cmd/...
go build -tags tether_norecord -o bin/agent-norecord ./cmd/agent   # bench-only: measures recording cost
go build -o bin/tetherbench ./bench/cmd/tetherbench
exec ./bin/tetherbench
