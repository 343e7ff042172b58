"""``python -m gui.certificate [--config FILE] [--name HOST ...] [--days N] [--force]``.

Makes a self-signed certificate for first set-up, where the files named by
``[gui] cert_file`` and ``key_file`` say (config/cert.pem, config/key.pem).
Replace them with a real certificate when you have one; nginx reads them.
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os
import socket
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ticketdash import cli


def make(names: list[str], days: int) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) valid for *names* (host names or IP addresses)."""
    key = ec.generate_private_key(ec.SECP256R1())
    alt: list[x509.GeneralName] = []
    for name in names:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            alt.append(x509.DNSName(name))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ticket Dash (self-signed)")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName(alt), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui.certificate", description=__doc__.splitlines()[0])
    parser.add_argument("--name", action="append", help="host name or IP the TV uses (repeatable)")
    parser.add_argument("--days", type=int, default=825)
    parser.add_argument("--force", action="store_true", help="replace existing files")
    args, config = cli.command_line(parser, argv)
    cert_file, key_file = config.gui.cert_file, config.gui.key_file
    if not args.force and (cert_file.exists() or key_file.exists()):
        print(f"{cert_file} or {key_file} already exists; --force replaces them", file=sys.stderr)
        return 1
    names = args.name or [socket.getfqdn(), "localhost", "127.0.0.1"]
    cert, key = make(names, args.days)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    Path(cert_file).write_bytes(cert)
    print(f"wrote {cert_file} and {key_file} for {', '.join(names)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
