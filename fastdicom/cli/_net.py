"""Options shared by the network subcommands (dcmtk-like where they make sense)."""
from __future__ import annotations

import argparse
import ssl
from typing import Any

from fastdicom.cli._common import CLIError


def add_options(p: argparse.ArgumentParser, *, scu: bool) -> None:
    g = p.add_argument_group("network")
    g.add_argument("--aet", "-aet", metavar="TITLE", default=None,
                   help="our AE title (default FASTDICOM)" if scu else
                   "our AE title; when given, only associations called to it are accepted")
    if scu:
        g.add_argument("--aec", "-aec", metavar="TITLE", default="ANY-SCP",
                       help="the called AE title (default ANY-SCP)")
    g.add_argument("--max-pdu", "-pdu", type=int, default=None, metavar="N",
                   help="largest P-DATA-TF PDU we accept (default 262144)")
    g.add_argument("--acse-timeout", "-ta", type=float, default=30.0, metavar="S",
                   help="seconds to wait for association answers (default 30)")
    g.add_argument("--dimse-timeout", "-td", type=float, default=30.0, metavar="S",
                   help="seconds to wait for each response (default 30)")
    g.add_argument("--tls-cert", metavar="PEM", help="use TLS with this certificate chain")
    g.add_argument("--tls-key", metavar="PEM", help="private key of --tls-cert")
    g.add_argument("--tls-ca", metavar="PEM",
                   help="use TLS and verify the peer's certificate against these CAs")


def make_ae(args: argparse.Namespace, **kw: Any) -> Any:
    from fastdicom.net.ae import AE

    options: dict[str, Any] = dict(acse_timeout=args.acse_timeout,
                                   dimse_timeout=args.dimse_timeout)
    if args.max_pdu is not None:
        options["max_pdu_length"] = args.max_pdu
    options.update(kw)
    try:
        return AE(args.aet or "FASTDICOM", **options)
    except ValueError as exc:
        raise CLIError(str(exc), 2) from None


def ssl_context(args: argparse.Namespace, server: bool) -> ssl.SSLContext | None:
    if not (args.tls_cert or args.tls_ca):
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH if server else
                                     ssl.Purpose.SERVER_AUTH, cafile=args.tls_ca)
    if not args.tls_ca:
        if not server:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
    elif server:
        ctx.verify_mode = ssl.CERT_REQUIRED
    if args.tls_cert:
        try:
            ctx.load_cert_chain(args.tls_cert, args.tls_key)
        except (OSError, ssl.SSLError) as exc:
            raise CLIError(f"--tls-cert: {exc}", 2) from None
    elif server:
        raise CLIError("a TLS server needs --tls-cert", 2)
    return ctx


def status_text(status: int | None) -> str:
    from fastdicom.net.dimse import status_category

    if status is None:
        return "not sent"
    return f"{status_category(status)} (0x{status:04X})"
