"""Debian's swaks against SMTP-in and LMTP: STARTTLS with PIPELINING, a
relay attempt, LMTP over the unix socket with a reply per recipient, and
the messages read back over IMAP. (swaks 20201014 has no BDAT; BDAT is
covered by the transcripts and test_smtp_clients.)

Skipped (77) when swaks, or the Perl TLS module it needs, is missing."""

import re
import shutil
import subprocess
import sys

from sealtest import expect, run

import test_smtp_clients as common

SWAKS = shutil.which("swaks")


def swaks(*args):
    r = subprocess.run([SWAKS, "--timeout", "20"] + list(args), capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


def test_swaks_starttls_pipelining():
    with common.make_server() as srv:
        port = "127.0.0.1:%d" % srv.ports["smtp"]
        code, out = swaks("--server", port, "--ehlo", "swaks.example.org", "--tls", "--pipeline",
                          "--from", "sender@example.org",
                          "--to", "alice@example.com,Bob+swaks@example.com",
                          "--header", "Subject: swaks over TLS", "--body", "tested by swaks")
        expect(code == 0, "swaks failed", out)
        expect("TLS started" in out, "STARTTLS", out)
        # Pipelined: MAIL, both RCPTs and DATA answered in one batch.
        expect(re.search(r"<~  250 2\.1\.0 .*\n<~  250 2\.1\.5 .*\n<~  250 2\.1\.5 .*\n"
                         r"<~  354 ", out), "pipelined replies", out)
        expect(re.search(r"<~  250 2\.0\.0 Message accepted \(id \w+\)", out), "accepted", out)
        code, out = swaks("--server", port, "--ehlo", "swaks.example.org", "--from",
                          "sender@example.org", "--to", "victim@example.net")
        expect(code != 0 and "550 5.7.1" in out, "relay refused", out)
        for user in ("alice", "bob"):
            msgs = common.messages(srv, user)
            expect(len(msgs) == 1, user, len(msgs))
            top, rest = common.split_top(msgs[0])
            expect(re.search(rb"with ESMTPS \(TLSv1\.2", b"\r\n".join(top)), "ESMTPS", top)
            expect(b"Subject: swaks over TLS" in rest and b"tested by swaks" in rest, "body", rest)
        expect(srv.stop() == 0, "exit status")


def test_swaks_lmtp_unix_socket():
    with common.make_server() as srv:
        code, out = swaks("--socket", srv.lmtp_unix, "--protocol", "LMTP", "--ehlo", "mta",
                          "--from", "sender@example.org",
                          "--to", "alice@anywhere.example,nobody@anywhere.example,bob@x.example")
        # swaks reports the refused recipient but delivers to the others.
        expect(re.search(r"<\*\* 550 5\.1\.1 <nobody@anywhere\.example>", out), "unknown", out)
        expect(re.search(r"<-  250 2\.0\.0 <alice@anywhere\.example> Delivered .*\n"
                         r"<-  250 2\.0\.0 <bob@x\.example> Delivered ", out),
               "a reply per recipient", out)
        expect(len(common.messages(srv, "alice")) == 1, "alice")
        expect(len(common.messages(srv, "bob")) == 1, "bob")
        expect(srv.stop() == 0, "exit status")


if __name__ == "__main__":
    if not SWAKS:
        print("skip: swaks is not installed (apt install swaks)")
        sys.exit(77)
    if subprocess.run(["perl", "-MNet::SSLeay", "-e", "1"], capture_output=True).returncode:
        print("skip: swaks needs Net::SSLeay for TLS (apt install libnet-ssleay-perl)")
        sys.exit(77)
    sys.exit(run([test_swaks_starttls_pipelining, test_swaks_lmtp_unix_socket]))
