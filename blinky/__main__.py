"""``python -m blinky [--config FILE] [--once] [--list]``.

Exit status: 0 success (SIGTERM/SIGINT turn the light off first), 2 unusable
configuration, 1 when ``--once`` could not write to a required light.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ticketdash import cli
from ticketdash import logs
from ticketdash.daemon import on_stop
from ticketdash.owner import Taken, claim
from blinky.daemon import Blinky, FolderSource, Lamp, RemoteSource, part_of
from blinky.busylights import OtherLights, load_light
from blinky.device import PRODUCT_ID, VENDOR_ID, AnyLights, Lights, LightSet, load_hid
from blinky.mqtt import MqttOutput

logger = logging.getLogger("blinky")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blinky", description="Show the worst SLA state on a Luxafor.")
    parser.add_argument("--once", action="store_true", help="set the light once and exit")
    parser.add_argument("--list", action="store_true", help="list the Luxafor lights plugged in, with their USB ports, "
                        "and exit")
    args, config = cli.command_line(parser, argv)
    b = config.blinky
    hid = load_hid() if b.device != "simulated" else None
    if b.device == "luxafor" and hid is None:  # the machine, not the file: the package is missing
        print(f'{config.path}: [blinky] device: "luxafor" needs the hidapi package', file=sys.stderr)
        return 2
    other = load_light() if hid is not None and b.device == "auto" else None
    lights = light_set(hid, other, b.path.encode() if b.path else None)
    lamps = [Lamp(light.name, part_of(config, light), light_set(hid, other, port=None if light.port == "auto" else light.port),
                  None if light.port == "auto" else light.port) for light in config.lights]
    source = RemoteSource(config) if b.remote_url else FolderSource(config, config.all_views[b.view], b.agent or None)
    output = MqttOutput(config) if config.mqtt.host and not (args.list or args.once) else None
    blinky = Blinky(config, source, lights, mqtt=output, lamps=lamps)
    logs.setup(config.logging.level, (config.api_key, config.access_key))

    if args.list:
        found = lights.listing() if lights else []
        owners = {light.port: light.name for light in config.lights}
        for info in found:
            owner = owners.get(info["port"]) or (config.lights[0].name if len(config.lights) == 1
                                                 and config.lights[0].port == "auto" else "")
            print(f"port {info['port'] or '?':<10} {info.get('product_string') or 'Luxafor':<20} {info['path']!r}"
                  + (f"  light {owner!r}" if owner else ""))
        for light in config.lights:
            if light.port != "auto" and light.port not in {info["port"] for info in found}:
                print(f"port {light.port:<10} (nothing plugged in)  light {light.name!r}")
        if not found:
            print(nothing_found(b.device, lights is not None))
        return 0
    try:  # before touching anything: a second copy leaves the first one's light and file alone
        held = [claim("blinky", f"the status file {b.status_file}")]
        for lamp in blinky.lamps:
            if lamp.lights is None:
                continue
            if lamp.port:
                held.append(claim("blinky", f"the light at USB port {lamp.port}"))
            else:
                held.append(claim("blinky", f"the light {b.path}" if b.path else "the Luxafor lights of this machine"))
    except Taken as error:
        print(f"{config.path}: [blinky]: {error}; stop it first (systemctl stop blinky)", file=sys.stderr)
        return 2
    if args.once:
        source.start(None)
        blinky.step()
        source.stop()
        return 1 if b.device == "luxafor" and not blinky.status.get("lights") else 0

    on_stop(blinky.stop)
    where = b.remote_url or str(config.paths.tickets)
    driven = (f"{len(lamps)} lights" if len(lamps) > 1 else "a Luxafor") if hid is not None else "a simulated light"
    logger.info("following %s with %s%s", where, driven,
                f", and Home Assistant through MQTT at {config.mqtt.host}:{config.mqtt.port}" if output else "")
    if output is not None:
        output.start()
    try:
        blinky.run()
    finally:
        source.stop()
        blinky.switch_off()
        if output is not None:
            output.stop()
        logger.info("stopped; light off")
    return 0


def light_set(hid: object, other: object, path: bytes | None = None, port: str | None = None) -> LightSet | None:
    """What one light drives: Luxafors, and (device = auto) every other light busylight-core knows."""
    if hid is None:
        return None
    luxafors = Lights(hid, path, port)
    if other is None or path is not None:  # a hidapi path names one Luxafor
        return luxafors
    return AnyLights([luxafors, OtherLights(other, port=port)])


def nothing_found(device: str, looked: bool) -> str:
    """What --list says when it lists nothing: what it looked for, and what to check."""
    if not looked:
        return (f'no light looked for: [blinky] device = "{device}"' if device == "simulated"
                else "no light looked for: the hidapi package is not installed (pip install hidapi)")
    return (f"no Luxafor found (looked for USB {VENDOR_ID:04x}:{PRODUCT_ID:04x} through hidapi). Check:\n"
            f"  - it is plugged in: lsusb | grep -i {VENDOR_ID:04x}:{PRODUCT_ID:04x}\n"
            "  - this user may open it: the installer's udev rule /etc/udev/rules.d/70-ticketdash-lights.rules "
            "(unplug and plug it in again after installing)\n"
            "  - a virtual machine or container passes the USB device through")


if __name__ == "__main__":
    sys.exit(main())
