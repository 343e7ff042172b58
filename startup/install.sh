#!/usr/bin/env bash
# Install, upgrade or remove Ticket Dash as four systemd services on Debian or Ubuntu.
#
#   sudo startup/install.sh [--nginx] [--no-start]       install, or upgrade in place
#   sudo startup/install.sh --uninstall [--purge]        remove (--purge also deletes config and data)
#   startup/install.sh --root DIR [...]                  stage the files under DIR only (no users,
#                                                        no pip, no systemctl); DESTDIR=DIR works too
#   --prefix DIR                                         code and venv elsewhere than /opt/ticketdash
#   sudo startup/install.sh --add-helpdesk NAME [--source freshservice|freshdesk|zendesk]
#                                                        one more helpdesk on the wall: its own watcher
#                                                        (ticket-watcher@NAME), config, token and folder
#
# Places:  code and venv in /opt/ticketdash, configuration in /etc/ticketdash
# (yours: upgrades never change it), data in /var/lib/ticketdash/tickets.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${DESTDIR:-}"
PREFIX=/opt/ticketdash
CONFIG=/etc/ticketdash
DATA=/var/lib/ticketdash
USER_NAME=ticketdash
NGINX=0
START=1
ACTION=install
PURGE=0
HELPDESK=
SOURCE=freshservice

while [ $# -gt 0 ]; do
    case "$1" in
        --root) ROOT="$2"; shift ;;
        --root=*) ROOT="${1#--root=}" ;;
        --prefix) PREFIX="$2"; shift ;;
        --prefix=*) PREFIX="${1#--prefix=}" ;;
        --nginx) NGINX=1 ;;
        --no-start) START=0 ;;
        --uninstall) ACTION=uninstall ;;
        --purge) PURGE=1 ;;
        --add-helpdesk) ACTION=add-helpdesk; HELPDESK="$2"; shift ;;
        --source) SOURCE="$2"; shift ;;
        -h|--help) sed -n '2,14p' "$0" | sed -e 's/^# //' -e 's/^#$//'; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
ROOT="${ROOT%/}"
STAGED=0
[ -n "$ROOT" ] && STAGED=1
UNITS=(ticket-watcher ticket-dash blinky ticket-alerts)
UNIT_DIR=/etc/systemd/system
UDEV_RULE=/etc/udev/rules.d/70-ticketdash-lights.rules
OLD_UDEV_RULE=/etc/udev/rules.d/70-ticketdash-luxafor.rules  # before other brands: replaced
SITE=/etc/nginx/sites-available/ticketdash
TV_CERT=/usr/local/share/ca-certificates/ticketdash.crt

say() { printf '%s\n' "$*"; }
run() { if [ "$STAGED" -eq 1 ]; then say "  (staged: skipped) $*"; else "$@"; fi; }
owner() { [ "$STAGED" -eq 1 ] || chown "$1" "${@:2}"; }   # the service user exists only on a real install

if [ "$STAGED" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
    echo "install.sh: run it as root (sudo), or stage with --root DIR" >&2
    exit 1
fi

uninstall() {
    for unit in "${UNITS[@]}"; do
        [ "$STAGED" -eq 1 ] || systemctl disable --now "$unit.service" 2>/dev/null || true
        rm -f "$ROOT$UNIT_DIR/$unit.service"
    done
    for unit in "$ROOT$UNIT_DIR"/ticket-watcher@*.service; do
        [ -e "$unit" ] || continue
        [ "$STAGED" -eq 1 ] || systemctl disable --now "$(basename "$unit")" 2>/dev/null || true
    done
    rm -f "$ROOT$UNIT_DIR/ticket-watcher@.service"
    rm -f "$ROOT$UDEV_RULE" "$ROOT$OLD_UDEV_RULE" "$ROOT/etc/nginx/sites-enabled/ticketdash" "$ROOT$SITE" "$ROOT$TV_CERT"
    rm -rf "$ROOT$PREFIX"
    [ "$STAGED" -eq 1 ] || { command -v update-ca-certificates >/dev/null && update-ca-certificates >/dev/null 2>&1; } || true
    run systemctl daemon-reload
    if [ "$PURGE" -eq 1 ]; then
        rm -rf "$ROOT$CONFIG" "$ROOT$DATA"
        [ "$STAGED" -eq 1 ] || userdel "$USER_NAME" 2>/dev/null || true
        say "Ticket Dash removed, with its configuration and data."
    else
        say "Ticket Dash removed. Kept: $CONFIG (configuration) and $DATA (tickets); --purge deletes them."
    fi
}

render_instance() {  # the watcher's template unit, ticket-watcher@NAME: everything per helpdesk is named by %i
    render "$SRC/startup/ticket-watcher.service" "$1" 0644
    python3 - "$1" "$CONFIG" "$DATA" <<'PY'
import sys
dest, config, data = sys.argv[1:]
text = open(dest).read()
for old, new in {"(Freshservice -> tickets folder)": "for helpdesk %i",
                 f"{config}/ticketdash.toml": f"{config}/helpdesks/%i/ticketdash.toml",
                 f"{config}/token.txt": f"{config}/helpdesks/%i/token.txt",
                 f"ReadWritePaths={data}/tickets\n": f"ReadWritePaths={data}/tickets-%i\n"}.items():
    assert old in text, old
    text = text.replace(old, new)
open(dest, "w").write(text)
PY
}

add_helpdesk() {  # add_helpdesk: one more helpdesk, named $HELPDESK, read by the wall through [helpdesks]
    if ! [[ "$HELPDESK" =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,19}$ ]]; then
        echo "install.sh: --add-helpdesk: a name is up to 20 letters, digits and '-', got '$HELPDESK'" >&2; exit 2
    fi
    case "$SOURCE" in freshservice|freshdesk|zendesk) ;; *)
        echo "install.sh: --source: freshservice, freshdesk or zendesk, got '$SOURCE'" >&2; exit 2 ;; esac
    local main="$ROOT$CONFIG/ticketdash.toml" folder="$ROOT$CONFIG/helpdesks/$HELPDESK"
    [ -e "$main" ] || { echo "install.sh: install Ticket Dash first ($main is missing)" >&2; exit 1; }
    say "Adding helpdesk $HELPDESK ($SOURCE)"
    install -d -m 0750 "$ROOT$CONFIG/helpdesks" "$folder"
    owner "root:$USER_NAME" "$ROOT$CONFIG/helpdesks" "$folder"
    if [ ! -e "$folder/ticketdash.toml" ]; then
        local account
        case "$SOURCE" in
            freshservice) account='domain = "your-account.freshservice.com"' ;;
            freshdesk) account='domain = "your-account.freshdesk.com"' ;;
            zendesk) account=$'subdomain = "your-account"\nemail = "agent@example.com"\napi_token_file = "token.txt"' ;;
        esac
        printf '%s\n' "# The watcher of helpdesk $HELPDESK (ticket-watcher@$HELPDESK), written by install.sh." \
            "# Set the account, put its key in $CONFIG/helpdesks/$HELPDESK/token.txt, then:" \
            "#   sudo systemctl restart ticket-watcher@$HELPDESK" "[watcher]" "source = \"$SOURCE\"" "" \
            "[$SOURCE]" "$account" "" "[paths]" "tickets = \"$DATA/tickets-$HELPDESK\"" > "$folder/ticketdash.toml"
        say "  wrote $CONFIG/helpdesks/$HELPDESK/ticketdash.toml"
    fi
    chmod 0640 "$folder/ticketdash.toml"
    owner "root:$USER_NAME" "$folder/ticketdash.toml"
    [ -e "$folder/token.txt" ] || install -m 0600 /dev/null "$folder/token.txt"
    chmod 0600 "$folder/token.txt"
    install -d -m 0750 "$ROOT$DATA/tickets-$HELPDESK"
    owner "$USER_NAME:$USER_NAME" "$ROOT$DATA/tickets-$HELPDESK"
    # The readers follow [helpdesks]; the first added one also names the original folder, as "main".
    python3 - "$main" "$HELPDESK" "$DATA/tickets-$HELPDESK" "$DATA/tickets" <<'PY'
import re, sys
path, name, folder, original = sys.argv[1:]
text = open(path).read()
match = re.search(r"^\[helpdesks\][^\n]*\n", text, re.M)
if match and re.search(rf"^{re.escape(name)}\s*=", text[match.end():].split("\n[", 1)[0], re.M):
    print(f"  kept [helpdesks] {name} in {path}")
    sys.exit(0)
line = f'{name} = "{folder}"\n'
if match:
    text = text[: match.end()] + line + text[match.end():]
else:
    text = text.rstrip("\n") + f'\n\n# The folders the wall, the light and the alerts read (install.sh --add-helpdesk).\n[helpdesks]\nmain = "{original}"\n' + line
open(path, "w").write(text)
print(f"  added [helpdesks] {name} to {path}")
PY
    install -d -m 0755 "$ROOT$UNIT_DIR"
    render_instance "$ROOT$UNIT_DIR/ticket-watcher@.service"
    run systemctl daemon-reload
    if [ "$START" -eq 1 ]; then
        run systemctl enable "ticket-watcher@$HELPDESK.service"
        run systemctl restart "ticket-watcher@$HELPDESK.service" ticket-dash.service blinky.service ticket-alerts.service
    fi
    say ""
    say "Next: set the account in $CONFIG/helpdesks/$HELPDESK/ticketdash.toml and its key in token.txt there,"
    say "then: sudo systemctl restart ticket-watcher@$HELPDESK"
}

render() {  # render TEMPLATE DEST MODE: fill in the @...@ values
    local hardening gui_allow
    hardening="$(grep -v '^#' "$SRC/startup/hardening.conf")"
    gui_allow=$([ "$NGINX" -eq 1 ] && echo localhost || echo any)
    python3 - "$1" "$2" "$hardening" "$gui_allow" "$PREFIX" "$CONFIG" "$DATA" "$USER_NAME" <<'PY'
import sys
template, dest, hardening, gui_allow, prefix, config, data, user = sys.argv[1:]
text = open(template).read()
for key, value in {"HARDENING": hardening, "GUI_ALLOW": gui_allow, "PREFIX": prefix, "CONFIG": config,
                   "DATA": data, "USER": user, "CERT": f"{config}/cert.pem", "KEY": f"{config}/key.pem",
                   "UPSTREAM": "127.0.0.1:5001", "HOOKS": "127.0.0.1:5002", "HTTP_PORT": "80", "HTTPS_PORT": "443",
                   "ACCESS_LOG": "/var/log/nginx/ticketdash.access.log",
                   "ERROR_LOG": "/var/log/nginx/error.log"}.items():
    text = text.replace(f"@{key}@", value)
open(dest, "w").write(text)
PY
    chmod "$3" "$2"
}

first_config() {  # a starting configuration; never overwrites one that exists
    local file="$ROOT$CONFIG/ticketdash.toml" host
    host=$([ "$NGINX" -eq 1 ] && echo 127.0.0.1 || echo 0.0.0.0)
    if [ ! -e "$file" ]; then
        cat > "$file" <<EOF
# Ticket Dash, written by install.sh on first install. Yours to edit: upgrades keep it.
# Every key: $PREFIX/config/ticketdash.example.toml
# To go live: set the domain, put the API key in $CONFIG/token.txt, set source = "freshservice",
# then: sudo systemctl restart ticket-watcher
[watcher]
source = "demo"

[freshservice]
domain = "your-account.freshservice.com"
api_key_file = "token.txt"

[paths]
tickets = "$DATA/tickets"

[gui]
host = "$host"
port = 5001

[blinky]
status_file = "/run/ticketdash-blinky/light.json"

# Alerts (README "Alerts"): add routes, e.g.
# [[alerts.routes]]
# urls_file = "alert_urls.txt"     # slack://..., workflows://..., mailto://... one per line
# states = ["fr_overdue", "overdue", "stale", "error"]
EOF
        say "  wrote $CONFIG/ticketdash.toml (demo source until you configure Freshservice)"
    else
        say "  kept $CONFIG/ticketdash.toml"
    fi
    chmod 0640 "$file"
    owner "root:$USER_NAME" "$file"
    if [ ! -e "$ROOT$CONFIG/token.txt" ]; then
        install -m 0600 /dev/null "$ROOT$CONFIG/token.txt"
    fi
    if [ "$NGINX" -eq 1 ] && [ ! -e "$ROOT$CONFIG/access_key.txt" ]; then   # never silently open to the network
        (umask 077; python3 -c 'import secrets; print(secrets.token_urlsafe(24))' > "$ROOT$CONFIG/access_key.txt")
        chmod 0640 "$ROOT$CONFIG/access_key.txt"
        owner "root:$USER_NAME" "$ROOT$CONFIG/access_key.txt"
        say "  wrote a kiosk key to $CONFIG/access_key.txt: the wall is not open to everyone on the network"
    fi
    chmod 0600 "$ROOT$CONFIG/token.txt"   # read by systemd (LoadCredential), never by the services
}

install_all() {
    say "Installing Ticket Dash into ${ROOT:-/}"
    if [ "$STAGED" -eq 0 ]; then
        command -v apt-get >/dev/null && { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            python3 python3-venv $([ "$NGINX" -eq 1 ] && echo nginx) >/dev/null; }
        getent group "$USER_NAME" >/dev/null || groupadd --system "$USER_NAME"
        id "$USER_NAME" >/dev/null 2>&1 || useradd --system --gid "$USER_NAME" --home-dir "$DATA" \
            --no-create-home --shell /usr/sbin/nologin "$USER_NAME"
    fi

    # Code: replaced whole on every run (the services cannot change it).
    install -d -m 0755 "$ROOT$PREFIX" "$ROOT$PREFIX/config"
    for part in ticketdash watcher gui blinky alerts templates static startup docs; do
        rm -rf "$ROOT$PREFIX/$part"
        [ -d "$SRC/$part" ] && cp -r "$SRC/$part" "$ROOT$PREFIX/$part"
    done
    for file in setup.cfg pyproject.toml README.md; do install -m 0644 "$SRC/$file" "$ROOT$PREFIX/$file"; done
    install -m 0644 "$SRC/config/ticketdash.example.toml" "$ROOT$PREFIX/config/ticketdash.example.toml"
    # Commands run by hand (watcher --check, alerts --test, gui keys) find the installed configuration.
    ln -sfn "$CONFIG/ticketdash.toml" "$ROOT$PREFIX/config/ticketdash.toml"
    find "$ROOT$PREFIX" -name __pycache__ -prune -exec rm -rf {} +
    chmod -R u=rwX,go=rX "$ROOT$PREFIX"
    if [ "$STAGED" -eq 0 ]; then
        # The system's interpreter: one under a user's home (pyenv, conda) is out of the service's reach.
        local python=/usr/bin/python3
        [ -x "$python" ] || python="$(command -v python3)"
        "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
            echo "install.sh: Ticket Dash needs Python 3.11 or newer ($python)" >&2; exit 1; }
        if [ -x "$PREFIX/.venv/bin/python" ] && ! runuser -u "$USER_NAME" -- "$PREFIX/.venv/bin/python" -c '' 2>/dev/null; then
            rm -rf "$PREFIX/.venv"   # built from an interpreter the service cannot run: start again
        fi
        [ -x "$PREFIX/.venv/bin/python" ] || "$python" -m venv "$PREFIX/.venv"
        "$PREFIX/.venv/bin/pip" install -q --disable-pip-version-check --upgrade \
            -c "$PREFIX/startup/constraints.txt" -e "$PREFIX"
        "$PREFIX/.venv/bin/pip" freeze --exclude-editable > "$PREFIX/installed-versions.txt"   # what runs, recorded
        # Prove it before enabling anything: the service user runs the code.
        runuser -u "$USER_NAME" -- "$PREFIX/.venv/bin/python" \
            -c 'import watcher.__main__, gui.__main__, blinky.__main__, alerts.__main__' \
            || { echo "install.sh: the $USER_NAME user cannot run $PREFIX/.venv/bin/python" >&2; exit 1; }
    else
        say "  (staged: skipped) the venv in $PREFIX/.venv and pip install"
    fi

    # Configuration (root-owned, readable by the service group) and data (the watcher's).
    install -d -m 0750 "$ROOT$CONFIG"
    owner "root:$USER_NAME" "$ROOT$CONFIG"
    first_config
    install -d -m 0755 "$ROOT$DATA"
    install -d -m 0750 "$ROOT$DATA/tickets" "$ROOT$DATA/alerts-tickets" "$ROOT$DATA/dashboard-tickets"
    owner "$USER_NAME:$USER_NAME" "$ROOT$DATA/tickets" "$ROOT$DATA/alerts-tickets" "$ROOT$DATA/dashboard-tickets"

    install -d -m 0755 "$ROOT$UNIT_DIR" "$(dirname "$ROOT$UDEV_RULE")"
    for unit in "${UNITS[@]}"; do render "$SRC/startup/$unit.service" "$ROOT$UNIT_DIR/$unit.service" 0644; done
    render_instance "$ROOT$UNIT_DIR/ticket-watcher@.service"
    render "$SRC/startup/70-ticketdash-lights.rules" "$ROOT$UDEV_RULE" 0644
    rm -f "$ROOT$OLD_UDEV_RULE"
    if [ "$NGINX" -eq 1 ]; then
        install -d -m 0755 "$ROOT/etc/nginx/sites-available" "$ROOT/etc/nginx/sites-enabled"
        render "$SRC/startup/nginx-ticketdash.conf" "$ROOT$SITE" 0644
        ln -sfn "$SITE" "$ROOT/etc/nginx/sites-enabled/ticketdash"
        say "  nginx: enabled the site ticketdash ($SITE)"
        if [ -e "$ROOT/etc/nginx/sites-enabled/default" ] || [ -L "$ROOT/etc/nginx/sites-enabled/default" ]; then
            rm -f "$ROOT/etc/nginx/sites-enabled/default"
            say "  nginx: disabled the site default (it would answer port 80 first); /etc/nginx/sites-available/default is kept"
        fi
        if [ "$STAGED" -eq 1 ]; then
            say "  (staged: skipped) the self-signed certificate $CONFIG/cert.pem"
        else
            if [ ! -e "$CONFIG/cert.pem" ]; then   # the TV may open the wall by name or by IP address
                local names=(--name "$(hostname -f 2>/dev/null || hostname)" --name "$(hostname)" --name localhost)
                for address in $(hostname -I 2>/dev/null); do names+=(--name "$address"); done
                TICKETDASH_CONFIG="$CONFIG/ticketdash.toml" "$PREFIX/.venv/bin/python" -m gui.certificate "${names[@]}"
            fi
            # A public copy (a certificate is no secret) that a kiosk user and the system's trust store can read.
            install -D -m 0644 "$CONFIG/cert.pem" "$TV_CERT"
            say "  the dashboard's certificate for TVs: $TV_CERT"
            command -v update-ca-certificates >/dev/null && update-ca-certificates >/dev/null 2>&1 || true
        fi
        run nginx -t -q
        run systemctl reload-or-restart nginx
    fi

    run udevadm control --reload-rules
    run udevadm trigger --subsystem-match=usb --subsystem-match=hidraw
    run systemctl daemon-reload
    if [ "$START" -eq 1 ]; then
        for unit in "${UNITS[@]}"; do run systemctl enable "$unit.service"; run systemctl restart "$unit.service"; done
    fi
    local host ip base
    host="$(hostname -f 2>/dev/null || hostname)"
    ip="$(hostname -I 2>/dev/null | awk '{print $1}')"
    if [ "$NGINX" -eq 1 ]; then base="https://${ip:-$host}"; else base="http://${ip:-$host}:5001"; fi
    say ""
    say "Dashboard: $base/   (also ${base/${ip:-$host}/$host}/ where the name resolves)"
    say ""
    say "Next steps:"
    say "  1. Connect your helpdesk: $CONFIG/ticketdash.toml and $CONFIG/token.txt (README \"Connecting to"
    say "     Freshservice\"), check it (read-only, beside the running service):"
    say "       sudo $PREFIX/.venv/bin/python -m watcher --check"
    say "     then: sudo systemctl restart ticket-watcher. A new configuration starts on the demo helpdesk:"
    say "     the wall says DEMO until then."
    say "  2. Health: curl -k $base/healthz   (200 and \"status\": \"ok\" when the data is current)"
    if [ -s "$ROOT$CONFIG/access_key.txt" ]; then
        say "  3. The TV (docs/kiosk.md): one key per TV, each revocable alone:"
        say "       sudo -u $USER_NAME $PREFIX/.venv/bin/python -m gui keys add lobby-tv"
        say "     into the TV user's ~/.config/ticketdash-kiosk.key (chmod 600), then startup/kiosk.sh $base/"
        [ "$NGINX" -eq 0 ] || say "     $TV_CERT  (the certificate: copy it to a TV that is another box)"
        say "     (the key in $CONFIG/access_key.txt works too; it is the one the installer made)"
    else
        say "  3. The TV: docs/kiosk.md. Anyone who can reach the dashboard sees the tickets until you add a"
        say "     key: sudo -u $USER_NAME $PREFIX/.venv/bin/python -m gui keys add lobby-tv"
    fi
    say "  4. Alerts: routes in $CONFIG/ticketdash.toml, then test them:"
    say "     sudo -u $USER_NAME $PREFIX/.venv/bin/python -m alerts --test"
    say "  5. Who may acknowledge (\"on it\") on the wall: one operator per agent, the token is shown once:"
    say "     sudo -u $USER_NAME $PREFIX/.venv/bin/python -m gui operators add \"Ada Lovelace\" --agent-id <id>"
    say "  6. Logs: journalctl -u ticket-watcher -u ticket-dash -u blinky -u ticket-alerts -f"
}

case "$ACTION" in
    uninstall) uninstall ;;
    add-helpdesk) add_helpdesk ;;
    *) install_all ;;
esac
