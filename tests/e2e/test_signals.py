"""SIGHUP reloads certificates without dropping sessions; a bad config is
refused and the old one kept; SIGTERM says BYE to sessions and exits 0."""

import shutil
import signal
import sys
import time

from sealtest import Server, expect, expect_match, make_cert, run


def peer_cn(conn):
    der = conn.sock.getpeercert(binary_form=True)
    import subprocess
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-subject"],
                         input=der, capture_output=True).stdout.decode()
    return out.strip()


def test_sighup_swaps_certificate():
    with Server() as s:
        s.start()
        old = s.connect()
        old.readline()
        expect_match(r"CN\s*=\s*localhost", peer_cn(old))
        crt, key = make_cert(s.dir, cn="renewed.example", name="new")
        shutil.copy(crt, s.cert)
        shutil.copy(key, s.key)
        s.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "configuration reloaded" not in s.log_text() and time.time() < deadline:
            time.sleep(0.05)
        new = s.connect()
        new.readline()
        expect_match(r"CN\s*=\s*renewed.example", peer_cn(new))
        expect(old.cmd("o1 NOOP")[-1].startswith("o1 OK"), "old session still up")
        expect_match(r"CN\s*=\s*localhost", peer_cn(old))

        # A broken configuration is refused; the running one stays.
        with open(s.config) as f:
            good = f.read()
        s.write_config(good + "\n[nonsense]\nkey = 1\n")
        s.signal(signal.SIGHUP)
        deadline = time.time() + 10
        while "reload failed" not in s.log_text() and time.time() < deadline:
            time.sleep(0.05)
        expect_match(r"reload failed.*sealmail.toml:\d+", s.log_text())
        third = s.connect()
        expect(third.readline().startswith("* OK"), "still serving after a bad reload")
        expect(s.proc.poll() is None, "still running")
        expect(s.stop() == 0, "clean exit")


def test_sigterm_says_bye_and_exits_zero():
    with Server() as s:
        s.start()
        conns = [s.connect() for _ in range(5)]
        for c in conns:
            c.readline()
        expect(conns[0].cmd("t1 NOOP")[-1].startswith("t1 OK"), "session works")
        start = time.time()
        s.signal(signal.SIGTERM)
        for c in conns:
            expect_match(r"^\* BYE \[UNAVAILABLE\] Server shutting down", c.readline())
            expect(c.closed(), "closed after BYE")
        code = s.proc.wait(15)
        expect(code == 0, "exit status 0", code)
        expect(time.time() - start < 10, "stopped within the grace period")


def test_admin_shutdown():
    with Server() as s:
        s.start()
        c = s.connect()
        c.readline()
        r = s.admin("shutdown")
        expect(r.returncode == 0, "admin shutdown OK", r.stderr)
        expect_match(r"^\* BYE", c.readline())
        expect(s.proc.wait(15) == 0, "exit 0 after admin shutdown")


def test_sigint_with_no_sessions():
    with Server() as s:
        s.start()
        s.signal(signal.SIGINT)
        expect(s.proc.wait(15) == 0, "exit 0 on SIGINT")


sys.exit(run([test_sighup_swaps_certificate, test_sigterm_says_bye_and_exits_zero,
              test_admin_shutdown, test_sigint_with_no_sessions]))
