#!/usr/bin/env bash
# Make docs/images/console.png from `./run demo` itself, on a virtual X screen (Xvfb):
# the console and the agent window side by side on a Double-11 evening, real fonts,
# Chinese included, so the README's picture and the product agree.
#
#   scripts/screenshot_console.sh                          # about 2 minutes
#   RUN_S=40 OUT=/tmp/shot.png scripts/screenshot_console.sh   # a quick look
#   LANG_UI=zh_CN scripts/screenshot_console.sh            # the windows in 简体中文
#   PYTHON=/path/to/python scripts/screenshot_console.sh   # skip ./run's environment check
#
# Installs Xvfb, the xcb libraries Qt needs and the Noto CJK fonts if they are
# missing (Debian/Ubuntu, with apt-get; it says which when it cannot). Only for
# making the picture: the tests run offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-docs/images/console.png}
RUN_S=${RUN_S:-90}             # seconds of the demo before the picture
LANG_UI=${LANG_UI:-en}         # en or zh_CN
SCREEN=${SCREEN:-1920x1080}
TIME_SCALE=${TIME_SCALE:-20}   # floor seconds per real second: RUN_S=90 puts 30 floor minutes on the chart

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
    if ! { $sudo_cmd apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 || {
            $sudo_cmd apt-get update -q >/dev/null && $sudo_cmd apt-get install -y -q "${missing[@]}" >/dev/null; }; }; then
        echo "cannot install ${missing[*]}; install them (Debian/Ubuntu package names) and run this again" >&2
        exit 1
    fi
fi

if [[ -n "${PYTHON:-}" ]]; then
    grabdesk=("$PYTHON" -m grabdesk)
else
    grabdesk=(./run grabdesk)
    PYTHON=.venv/bin/python
    ./run grabdesk --help >/dev/null  # makes sure .venv is installed and current
fi

work=$(mktemp -d -t grabdesk-shot-XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# -displayfd: Xvfb picks a free display number and writes it to fd 3
Xvfb -displayfd 3 -screen 0 "${SCREEN}x24" -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 50); do [[ -s "$work/display" ]] && break; sleep 0.1; done
[[ -s "$work/display" ]] || { cat "$work/xvfb.log" >&2; echo "Xvfb did not start" >&2; exit 1; }
export DISPLAY=":$(cat "$work/display")"
export QT_QPA_PLATFORM=xcb
# compiled translations stay in the work directory (the demo keeps the windows' settings in its own)
export XDG_CACHE_HOME="$work/cache"
# the floor's clock reads as on the floor it simulates
export TZ=${TZ:-Asia/Shanghai}
if [[ "$LANG_UI" == zh_CN ]]; then export LANG=zh_CN.UTF-8 LANGUAGE=zh_CN; else export LANG=C.UTF-8; fi

"${grabdesk[@]}" demo --dir "$work/demo" --time-scale "$TIME_SCALE" --duration-s "$((RUN_S + 60))" \
    >"$work/demo.out" 2>&1 &
demo_pid=$!
pids+=("$demo_pid")
sleep "$RUN_S"
kill -0 "$demo_pid" 2>/dev/null || { cat "$work/demo.out" >&2; echo "the demo stopped early" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
# the whole screen, both windows: what a newcomer sees after `./run demo`
"$PYTHON" - "$OUT" <<'EOF'
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
ok = app.primaryScreen().grabWindow(0).save(sys.argv[1], "PNG")
sys.exit(0 if ok else 1)
EOF
echo "wrote $OUT" >&2
