"""Shared helpers for end-to-end tests: a temporary ROOT, free loopback
ports, a self-signed certificate, and the real `sealmail serve` process.

Every test owns its directory and ports, so tests run in parallel."""

import atexit
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback

SEALMAIL = os.environ.get("SEALMAIL", "sealmail")

# Temporary directories of this run's servers: removed at exit once run()
# saw every test pass (a failure keeps them for a look), unless SEAL_KEEP.
_made_dirs = []
_failures = [0]
_ran = [False]


def _remove_made_dirs():
    if not _ran[0] or _failures[0] or os.environ.get("SEAL_KEEP"):
        return
    for d in _made_dirs:
        shutil.rmtree(d, ignore_errors=True)


atexit.register(_remove_made_dirs)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_cert(directory, cn="localhost", name="cert"):
    key = os.path.join(directory, name + "-key.pem")
    crt = os.path.join(directory, name + ".pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=" + cn,
         "-days", "2", "-keyout", key, "-out", crt],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return crt, key


def client_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Server:
    """A sealmail daemon on loopback. Extra [listen] keys and sections can be
    given; ports are chosen free."""

    def __init__(self, listen=("imaps",), extra_listen="", extra=""):
        self.dir = tempfile.mkdtemp(prefix="sealmail-e2e-")
        _made_dirs.append(self.dir)
        self.root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(self.root, "users"))
        self.cert, self.key = make_cert(self.dir)
        self.ports = {name: free_port() for name in listen}
        self.admin_sock = os.path.join(self.root, "admin.sock")
        self.log_path = os.path.join(self.dir, "server.log")
        self.proc = None
        lines = ["[listen]"]
        for name, port in self.ports.items():
            lines.append('%s = ["127.0.0.1:%d"]' % (name, port))
        lines.append(extra_listen)
        lines += ["", "[tls]",
                  'private_key = "%s"' % self.key,
                  'certificate_chain = "%s"' % self.cert,
                  "", "[log]", 'level = "debug"', "", extra]
        self.config = os.path.join(self.root, "sealmail.toml")
        self.write_config("\n".join(lines) + "\n")

    def write_config(self, text):
        with open(self.config, "w") as f:
            f.write(text)

    def start(self, env=None, wait=True, pass_fds=(), argv_prefix=None):
        self.log = open(self.log_path, "ab")
        argv = [SEALMAIL, "serve", "--root", self.root]
        if argv_prefix:
            argv = argv_prefix + argv
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log,
                                     env=env, pass_fds=pass_fds)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("server exited with %d:\n%s"
                                     % (self.proc.returncode, self.log_text()))
            if os.path.exists(self.admin_sock) and "sealmail ready" in self.log_text():
                return
            time.sleep(0.02)
        raise AssertionError("server not ready:\n" + self.log_text())

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def admin(self, *args, check=True, input=None):
        r = subprocess.run([SEALMAIL, "admin", "--root", self.root] + list(args),
                           capture_output=True, text=True, input=input, timeout=60)
        if check and r.returncode != 0:
            raise AssertionError("admin %s failed (%d): %s" % (args, r.returncode, r.stderr))
        return r

    def stats(self):
        out = self.admin("stats").stdout
        return dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)

    def connect(self, name="imaps", timeout=10):
        raw = socket.create_connection(("127.0.0.1", self.ports[name]), timeout=timeout)
        if name in ("imaps", "submissions"):
            return Conn(client_context().wrap_socket(raw))
        return Conn(raw)

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("server did not stop on SIGTERM")
        self.check_sanitizers()
        return self.proc.returncode if self.proc else None

    def check_sanitizers(self):
        """In the sanitizer build a report (leak at exit included) fails
        the test even when every protocol check passed."""
        text = self.log_text()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            if marker in text:
                start = text.index(marker)
                raise AssertionError("sanitizer report in the server log:\n"
                                     + text[max(0, start - 200):start + 3000])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class Conn:
    """A line-oriented client connection."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def readline(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed; got %r" % self.buf)
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r").decode("utf-8", "replace")

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def cmd(self, line):
        """Sends a tagged command and returns every line up to its tagged
        reply (the last element)."""
        tag = line.split(" ", 1)[0]
        self.send(line + "\r\n")
        lines = []
        while True:
            lines.append(self.readline())
            if lines[-1].startswith(tag + " "):
                return lines

    def closed(self, timeout=5):
        """True when the peer has closed (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                data = self.sock.recv(4096)
                if not data:
                    return True
                self.buf += data
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def expect(cond, what, *context):
    if not cond:
        raise AssertionError(what + ("\n" + "\n".join(map(str, context)) if context else ""))


def expect_match(pattern, text):
    if not re.search(pattern, text):
        raise AssertionError("expected /%s/ in:\n%s" % (pattern, text))


def run(tests):
    """Runs test functions in order and prints a summary line ctest can
    read. Returns the exit status for sys.exit()."""
    only = sys.argv[1:]
    passed = failed = 0
    for t in tests:
        if only and t.__name__ not in only:
            continue
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.2fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    _failures[0] += failed
    _ran[0] = True
    print("%d passed, %d failed" % (passed, failed), flush=True)
    return 1 if failed or not passed else 0
