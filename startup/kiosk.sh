#!/usr/bin/env bash
# The wall TV's browser: Chromium in kiosk mode on the dashboard, screen blanking off.
#   startup/kiosk.sh https://wall.example.lan/[wall/<name>] [CERTIFICATE]
# The key comes from a file only the TV's user can read: $TICKETDASH_KEY_FILE, by default
# ~/.config/ticketdash-kiosk.key (python -m gui keys add NAME makes one per TV). It is shown to the
# dashboard once, in a form's body, never in a URL, a command line or an autostart file.
# CERTIFICATE (default: $TICKETDASH_CA, else the installer's public copy
# /usr/local/share/ca-certificates/ticketdash.crt when this box has one, else the system's
# trust store) is the dashboard's certificate or CA: the key is never sent to a server that
# cannot prove it is the dashboard. Chromium is told to trust it too (certutil, from
# libnss3-tools). Run it from the TV user's desktop session (autostart: docs/kiosk.md).
# The screen shows at once a local page saying what it waits for and why; it switches to
# the wall as soon as the dashboard answers. After that the page itself rides out server or
# network outages (it keeps the last board, says so, and recovers without a reload).
set -euo pipefail
URL="${1:?usage: startup/kiosk.sh DASHBOARD-URL [CERTIFICATE]}"
CA="${2:-${TICKETDASH_CA:-}}"
BOX_CA=/usr/local/share/ca-certificates/ticketdash.crt
[ -n "$CA" ] || { [ -r "$BOX_CA" ] && CA="$BOX_CA"; } || true
POLL="${TICKETDASH_KIOSK_POLL:-5}"   # seconds between tries while waiting
SHOWN="${URL%%\?*}"                   # the URL as shown and logged: never its key
ORIGIN="$(printf '%s' "$SHOWN" | sed -E 's#^(https?://[^/]+).*#\1#')"
WALL_PATH="${SHOWN#"$ORIGIN"}"
KEY_FILE="${TICKETDASH_KEY_FILE:-${XDG_CONFIG_HOME:-$HOME/.config}/ticketdash-kiosk.key}"
KEY=""
if [ -e "$KEY_FILE" ]; then
    case "$(stat -c %a "$KEY_FILE")" in
        *[1-7]) echo "kiosk.sh: others can read $KEY_FILE: chmod 600 $KEY_FILE" >&2; exit 1 ;;
    esac
    KEY="$(tr -d '[:space:]' < "$KEY_FILE")"
elif [ "$URL" != "$SHOWN" ]; then
    echo "kiosk.sh: the key is in the URL (and so in the browser's history): put it in $KEY_FILE instead" >&2
fi
BROWSER="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$BROWSER" ] || { echo "kiosk.sh: install chromium (sudo apt-get install chromium)" >&2; exit 1; }
if ! fc-list 2>/dev/null | grep -q "Noto Sans CJK"; then
    echo "kiosk.sh: Chinese, Japanese and Korean names will show as boxes: sudo apt-get install fonts-noto-core fonts-noto-cjk" >&2
fi
PROFILE="${XDG_CONFIG_HOME:-$HOME/.config}/ticketdash-kiosk"
mkdir -p "$PROFILE"
chmod 0700 "$PROFILE"   # the waiting page ends holding the URL, key included
WAITING="$PROFILE/waiting.html"

CURL_TRUST=()
if [ -n "$CA" ]; then
    if [ ! -r "$CA" ]; then
        echo "kiosk.sh: cannot read the certificate $CA (docs/kiosk.md, \"Certificate\")" >&2
        CA_PROBLEM="cannot read the certificate $CA"
    else
        CURL_TRUST=(--cacert "$CA")
        if command -v certutil >/dev/null; then   # Chromium trusts its NSS store, not curl's
            NSSDB="$HOME/.pki/nssdb"
            mkdir -p "$NSSDB"
            [ -e "$NSSDB/cert9.db" ] || certutil -d "sql:$NSSDB" -N --empty-password
            certutil -d "sql:$NSSDB" -A -t "C,," -n "Ticket Dash dashboard" -i "$CA"
        else
            echo "kiosk.sh: certutil not found (sudo apt-get install libnss3-tools): Chromium may not trust $CA" >&2
        fi
    fi
fi

html() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'; }

waiting_page() {  # waiting_page REASON TRIES: what the TV shows until the dashboard answers
    local reason since
    reason="$(printf '%s' "$1" | html)"
    since="$(date +%H:%M:%S)"
    cat > "$WAITING.tmp" <<EOF
<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>Ticket Dash: waiting for the dashboard</title>
<style>body{background:#111;color:#eee;font:32px/1.4 system-ui,sans-serif;margin:8vh 8vw}
h1{font-size:56px;color:#f0a}p{margin:.6em 0}code{color:#fc6}small{color:#999;font-size:24px}</style></head>
<body><h1>Waiting for the dashboard</h1>
<p>This TV opens <code>$(printf '%s' "$SHOWN" | html)</code> as soon as it answers.</p>
<p>Why not yet: <code>$reason</code></p>
<p><small>Tried $2 times, last at $since. Every $POLL s. Help: docs/kiosk.md on the dashboard box.</small></p>
</body></html>
EOF
    mv -f "$WAITING.tmp" "$WAITING"
}

ready_page() {  # the switch to the wall: the page's next refresh goes there, showing the key once
    (umask 077
    if [ -n "$KEY" ]; then
        cat > "$WAITING.tmp" <<EOF
<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ticket Dash</title></head>
<body style="background:#111;color:#eee;font:32px system-ui,sans-serif">Opening the wall…
<form id="access" method="post" action="$(printf '%s' "$ORIGIN/access" | html)">
<input type="hidden" name="key" value="$(printf '%s' "$KEY" | html)">
<input type="hidden" name="next" value="$(printf '%s' "${WALL_PATH:-/}" | html)"></form>
<script>document.getElementById("access").submit()</script></body></html>
EOF
    else
        cat > "$WAITING.tmp" <<EOF
<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0;url=$(printf '%s' "$URL" | html)"><title>Ticket Dash</title></head>
<body style="background:#111;color:#eee;font:32px system-ui,sans-serif">Opening the wall…</body></html>
EOF
    fi)
    mv -f "$WAITING.tmp" "$WAITING"
}

why_not() {  # why the dashboard does not answer yet, in words, without the key
    local error code status
    error="$(mktemp)"
    status="$(curl -sS "${CURL_TRUST[@]}" -o /dev/null -w '%{http_code}' --max-time 5 "$ORIGIN/healthz" 2>"$error")"
    code=$?
    error="$(cat "$error"; rm -f "$error")"
    if [ "$code" -eq 0 ]; then
        case "$status" in
            200|503) return 0 ;;   # up (503: its data is stale, and the wall says why)
            403) echo "the dashboard refuses this TV's address (allow_networks)" ;;
            *) echo "the server answers with an error ($status): the dashboard service is not up yet" ;;
        esac
        return 1
    fi
    case "$code" in
        6) echo "the name ${SHOWN#*://} does not resolve (DNS): use the box's IP address or fix DNS" ;;
        7|28) echo "nothing answers yet at $SHOWN: the box or its dashboard is still starting, or a firewall is in the way" ;;
        35) echo "the TLS handshake failed: is this an https:// address of the dashboard?" ;;
        51|60) echo "the dashboard's certificate is not trusted for this address: give kiosk.sh the certificate" \
                    "(docs/kiosk.md, \"Certificate\"), and open the wall by a name or IP the certificate lists" ;;
        *) echo "${error//"$URL"/$SHOWN}" ;;
    esac
    return 1
}

keep_waiting() {  # in the background: keep the waiting page true until the dashboard answers
    local tries=0 reason
    while true; do
        tries=$((tries + 1))
        if [ -n "${CA_PROBLEM:-}" ]; then
            reason="$CA_PROBLEM"
        elif reason="$(why_not)"; then
            ready_page
            return 0
        fi
        echo "kiosk.sh: waiting for $SHOWN: $reason" >&2
        waiting_page "$reason" "$tries"
        sleep "$POLL"
    done
}

if [ -n "${DISPLAY:-}" ] && command -v xset >/dev/null; then
    xset s off; xset s noblank; xset -dpms   # no screen saver, no blanking, no power-off
fi
if command -v gsettings >/dev/null; then   # GNOME-style desktops
    gsettings set org.gnome.desktop.session idle-delay 0 2>/dev/null || true
    gsettings set org.gnome.desktop.screensaver lock-enabled false 2>/dev/null || true
fi

waiting_page "starting" 0
keep_waiting &

# Chromium remembers a crash and offers to restore: tell it the last exit was clean.
sed -i 's/"exited_cleanly":false/"exited_cleanly":true/; s/"exit_type":"[^"]*"/"exit_type":"Normal"/' \
    "$PROFILE/Default/Preferences" 2>/dev/null || true
exec "$BROWSER" --kiosk --user-data-dir="$PROFILE" --noerrdialogs --disable-infobars \
    --disable-session-crashed-bubble --disable-features=Translate --no-first-run \
    --check-for-update-interval=31536000 --autoplay-policy=no-user-gesture-required "file://$WAITING"
