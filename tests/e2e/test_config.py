"""`sealmail serve` refuses bad configuration with FILE:LINE: messages, and
the CLI answers --version and help."""

import os
import subprocess
import sys
import time

from sealtest import SEALMAIL, Server, expect, expect_match, run


def serve_fails(s):
    r = subprocess.run([SEALMAIL, "serve", "--root", s.root], capture_output=True,
                       text=True, timeout=30)
    expect(r.returncode != 0, "serve must fail", r.stderr)
    return r.stderr


def test_unknown_key_named_with_line():
    with Server() as s:
        with open(s.config, "a") as f:
            f.write("\n[security]\nchroot_systen = true\n")
        err = serve_fails(s)
        expect_match(r"sealmail\.toml:\d+: .*security\.chroot_systen", err)


def test_bad_listen_address():
    with Server() as s:
        with open(s.config) as f:
            text = f.read()
        s.write_config(text.replace("127.0.0.1:", "127.0.0.999:"))
        expect_match(r"sealmail\.toml:2: .*listen\.imaps", serve_fails(s))


def test_missing_certificate_file():
    with Server() as s:
        with open(s.config) as f:
            text = f.read()
        s.write_config(text.replace(s.cert, s.cert + ".missing"))
        expect_match(r"\[tls\]", serve_fails(s))


def test_port_in_use():
    with Server() as s:
        import socket
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", s.ports["imaps"]))
        blocker.listen()
        expect_match(r"cannot listen on 127\.0\.0\.1:\d+: Address already in use", serve_fails(s))
        blocker.close()


def test_diagnostic_stderr_redirect():
    with Server() as s:
        path = s.dir + "/stderr.txt"
        with open(s.config, "a") as f:
            f.write('\n[diagnostic]\nstderr = "%s"\n' % path)
        s.start(wait=False)
        deadline = time.time() + 10
        while time.time() < deadline:
            if os.path.exists(path) and "sealmail ready" in open(path).read():
                break
            time.sleep(0.05)
        expect("sealmail ready" in open(path).read(), "log lines go to the file")
        expect("sealmail ready" not in s.log_text(), "not to the original stderr")
        expect(s.stop() == 0, "clean exit")


def test_version_and_help():
    r = subprocess.run([SEALMAIL, "--version"], capture_output=True, text=True)
    expect(r.returncode == 0 and r.stdout.startswith("sealmail "), "version", r.stdout)
    for args in (["help", "serve"], ["serve", "--help"], ["admin", "--help"], ["--help"]):
        r = subprocess.run([SEALMAIL] + args, capture_output=True, text=True)
        expect(r.returncode == 0 and "usage:" in r.stdout, "help " + " ".join(args), r.stdout)
    r = subprocess.run([SEALMAIL, "frobnicate"], capture_output=True, text=True)
    expect(r.returncode == 2 and "no such command" in r.stderr, "unknown command", r.stderr)


sys.exit(run([test_unknown_key_named_with_line, test_bad_listen_address,
              test_missing_certificate_file, test_port_in_use, test_diagnostic_stderr_redirect,
              test_version_and_help]))
