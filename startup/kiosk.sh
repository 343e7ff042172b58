#!/usr/bin/env bash
# The wall TV's browser: Chromium in kiosk mode on the dashboard, screen blanking off.
#   startup/kiosk.sh https://wall.example.lan/?key=<access key> [CERTIFICATE]
# CERTIFICATE (default: $TICKETDASH_CA, else the system's trust store) is the dashboard's
# certificate or CA: the key is never sent to a server that cannot prove it is the dashboard.
# Run it from the TV user's desktop session (autostart: see docs/kiosk.md). It waits for
# the dashboard before opening it; after that the page itself rides out server or
# network outages (it keeps the last board, says so, and recovers without a reload).
set -euo pipefail
URL="${1:?usage: startup/kiosk.sh DASHBOARD-URL [CERTIFICATE]}"
CA="${2:-${TICKETDASH_CA:-}}"
CURL_TRUST=()
[ -z "$CA" ] || CURL_TRUST=(--cacert "$CA")
BROWSER="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$BROWSER" ] || { echo "kiosk.sh: install chromium (sudo apt-get install chromium)" >&2; exit 1; }

if [ -n "${DISPLAY:-}" ] && command -v xset >/dev/null; then
    xset s off; xset s noblank; xset -dpms   # no screen saver, no blanking, no power-off
fi
if command -v gsettings >/dev/null; then   # GNOME-style desktops
    gsettings set org.gnome.desktop.session idle-delay 0 2>/dev/null || true
    gsettings set org.gnome.desktop.screensaver lock-enabled false 2>/dev/null || true
fi

# A browser opened on an unreachable URL shows an error page that never retries: wait first.
# Only whether it answers, over a verified connection (no -k: the URL may carry the key).
until curl -sf "${CURL_TRUST[@]}" -o /dev/null --max-time 5 "$URL"; do
    echo "kiosk.sh: waiting for $URL" >&2
    sleep 10
done

PROFILE="${XDG_CONFIG_HOME:-$HOME/.config}/ticketdash-kiosk"
mkdir -p "$PROFILE"
# Chromium remembers a crash and offers to restore: tell it the last exit was clean.
sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[^"]*"/"exit_type":"Normal"/' \
    "$PROFILE/Default/Preferences" 2>/dev/null || true
exec "$BROWSER" --kiosk --user-data-dir="$PROFILE" --noerrdialogs --disable-infobars \
    --disable-session-crashed-bubble --disable-features=Translate --no-first-run \
    --check-for-update-interval=31536000 --autoplay-policy=no-user-gesture-required "$URL"
