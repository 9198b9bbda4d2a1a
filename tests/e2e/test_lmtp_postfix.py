"""Debian's Postfix in front of sealmail, as the manual's LMTP set-up has
it: a private Postfix instance (its own configuration and queue in the
test's directory, SMTP on a free loopback port) relays mail for
example.com into sealmail's LMTP unix socket; the messages are then read
over IMAP. Exercises a real MTA's LMTP client: LHLO, PIPELINING, per-
recipient replies, an unknown recipient bounced at RCPT, a big message.

Skipped (77) when Postfix is not installed or the test is not root (the
Postfix master must start as root)."""

import os
import re
import shutil
import smtplib
import subprocess
import sys
import time

from sealtest import expect, free_port, run

import test_smtp_clients as common

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.org
mydomain = example.org
myorigin = $myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
relay_domains = example.com
relay_transport = lmtp:unix:{sock}
local_transport = error:no local delivery
alias_maps =
alias_database =
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
maillog_file = {dir}/postfix.log
maillog_file_prefixes = {dir}
smtputf8_enable = yes
message_size_limit = 20000000
lmtp_tls_security_level = none
delay_warning_time = 0
"""

MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
lmtp      unix  - - n - - lmtp
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


class Postfix:
    def __init__(self, sock):
        import tempfile
        self.dir = tempfile.mkdtemp(prefix="sealmail-postfix-")
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "conf")
        os.makedirs(self.conf)
        # The queue's top is root's (postfix check makes the rest); the data
        # directory is the mail owner's.
        os.makedirs(os.path.join(self.dir, "queue"))
        os.makedirs(os.path.join(self.dir, "data"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(dir=self.dir, sock=sock))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))

    def postfix(self, *args):
        return subprocess.run([POSTFIX, "-c", self.conf] + list(args),
                              capture_output=True, text=True, timeout=60)

    def start(self):
        r = self.postfix("start")
        if r.returncode != 0:
            raise AssertionError("postfix start failed:\n%s%s\n%s"
                                 % (r.stdout, r.stderr, self.log()))
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                smtplib.SMTP("127.0.0.1", self.port, timeout=5).quit()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("postfix does not answer:\n" + self.log())

    def log(self):
        try:
            return open(os.path.join(self.dir, "postfix.log")).read()
        except OSError:
            return "(no postfix log)"

    def stop(self):
        self.postfix("stop")
        self.postfix("abort")


def wait_for(what, cond, timeout=30, log=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for %s\n%s" % (what, log()))


def test_postfix_relays_into_lmtp():
    with common.make_server() as srv:
        os.chmod(srv.dir, 0o755)	# Postfix's lmtp runs as the postfix user
        pf = Postfix(srv.lmtp_unix)
        pf.start()
        try:
            with smtplib.SMTP("127.0.0.1", pf.port) as s:
                s.ehlo("client.example.net")
                s.sendmail("sender@example.net", ["Alice@example.com", "bob@example.com"],
                           b"From: sender@example.net\r\nSubject: via postfix\r\n\r\n"
                           b"hello through Postfix\r\n.dot line\r\n")
                try:
                    s.sendmail("sender@example.net", ["nobody@example.com"],
                               b"Subject: lost\r\n\r\nx\r\n")
                except smtplib.SMTPRecipientsRefused:
                    pass	# Postfix does not verify recipients here: it bounces
                big = b"Subject: big via postfix\r\n\r\n" + b"".join(
                    b"%08d %s\r\n" % (i, b"y" * 90) for i in range(30000))
                s.sendmail("sender@example.net", ["alice@example.com"], big)
            wait_for("three deliveries over LMTP",
                     lambda: len(re.findall(r"status=sent", pf.log())) >= 3
                     and "nobody@example.com" in pf.log(), log=pf.log)
            alice = common.messages(srv, "alice")
            bob = common.messages(srv, "bob")
            expect(len(alice) == 2 and len(bob) == 1, "counts", len(alice), len(bob))
            top, rest = common.split_top(alice[0])
            text = b"\r\n".join(top).decode()
            expect(re.search(r"Received: from mta\.example\.org\r\n\tby \S+ \(sealmail\) with "
                             r"LMTP id \w+\r\n\tfor <[Aa]lice@example\.com>;", text), "Received",
                   text)
            expect(rest.endswith(b"\r\n\r\nhello through Postfix\r\n.dot line\r\n"), "body", rest)
            expect(b"Subject: via postfix" in rest, "subject", rest)
            # Postfix adds its own Received and Message-ID: compare the body.
            expect(common.split_top(alice[1])[1].endswith(big.split(b"\r\n\r\n", 1)[1]),
                   "big body")
            expect(re.search(r"nobody@example\.com.*status=bounced.*550 5\.1\.1", pf.log()),
                   "unknown recipient bounced by Postfix", pf.log())
            expect("lmtp: id=" in srv.log_text(), "sealmail logged the LMTP transactions")
        finally:
            pf.stop()
        expect(srv.stop() == 0, "exit status")
        shutil.rmtree(pf.dir, ignore_errors=True)


if __name__ == "__main__":
    if not os.path.exists(POSTFIX):
        print("skip: postfix is not installed (apt install postfix)")
        sys.exit(77)
    if os.geteuid() != 0:
        print("skip: the Postfix master must be started as root")
        sys.exit(77)
    sys.exit(run([test_postfix_relays_into_lmtp]))
