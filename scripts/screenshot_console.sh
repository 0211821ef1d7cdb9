#!/usr/bin/env bash
# Make docs/images/console.png: the supervisor console under a demo load, on a
# virtual X screen (Xvfb), so the picture shows real fonts, Chinese included.
#
#   scripts/screenshot_console.sh            # about 8 minutes: the floor fills up first
#   RUN_S=60 OUT=/tmp/c.png scripts/screenshot_console.sh   # a quick look
#
# It starts a broker on a temporary store with the demo floor (--seed-demo:
# shops, groups, agents, roster), the traffic simulator on a Double-11 evening,
# and the console, which grabs its own window after RUN_S seconds and quits.
# Installs Xvfb, the xcb libraries Qt needs and the Noto CJK fonts if missing
# (Debian; only for making the picture: the tests run offscreen).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-.venv/bin/python}
OUT=${OUT:-docs/images/console.png}
RUN_S=${RUN_S:-480}            # seconds of load before the picture
LANG_UI=${LANG_UI:-en}         # en or zh_CN
SCREEN=${SCREEN:-1600x1000}
SURGE=${SURGE:-4}              # Double 11: several times the usual arrivals
TIME_SCALE=${TIME_SCALE:-20}   # simulated seconds per real second
START=${START:-2025-11-11T19:30}
CHART_MINUTES=${CHART_MINUTES:-10}

packages=(xvfb libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
          libxcb-render-util0 libxcb-shape0 fonts-noto-cjk)
missing=()
for pkg in "${packages[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    echo "installing ${missing[*]}" >&2
    sudo_cmd=""
    [[ $(id -u) -ne 0 ]] && sudo_cmd="sudo"
    $sudo_cmd apt-get install -y -q "${missing[@]}" >/dev/null || {
        $sudo_cmd apt-get update -q >/dev/null
        $sudo_cmd apt-get install -y -q "${missing[@]}" >/dev/null
    }
fi

work=$(mktemp -d -t grabdesk-shot-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
CMD="tcp://127.0.0.1:$(free_port)"
EVT="tcp://127.0.0.1:$(free_port)"

"$PY" -m grabdesk broker --seed-demo --db "$work/broker.db" --synchronous NORMAL \
    --command-endpoint "$CMD" --events-endpoint "$EVT" >"$work/broker.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    grep -q "commands on" "$work/broker.log" 2>/dev/null && break
    sleep 0.2
done
grep -q "commands on" "$work/broker.log" || { cat "$work/broker.log" >&2; echo "broker did not start" >&2; exit 1; }

"$PY" -m grabdesk simulate --command-endpoint "$CMD" --events-endpoint "$EVT" --surge "$SURGE" \
    --time-scale "$TIME_SCALE" --start "$START" >"$work/simulate.log" 2>&1 &
pids+=($!)

# -displayfd: Xvfb picks a free display number and writes it to fd 3
Xvfb -displayfd 3 -screen 0 "${SCREEN}x24" -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [[ -s "$work/display" ]] && break; sleep 0.1; done
export DISPLAY=":$(cat "$work/display")"
export QT_QPA_PLATFORM=xcb
# the console's remembered settings and compiled translations stay in the work directory
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache"

mkdir -p "$(dirname "$OUT")"
"$PY" -m grabdesk console --command-endpoint "$CMD" --events-endpoint "$EVT" --who "主管-lead" \
    --lang "$LANG_UI" --chart-minutes "$CHART_MINUTES" \
    --screenshot "$OUT" --screenshot-after "$RUN_S"
echo "wrote $OUT" >&2
