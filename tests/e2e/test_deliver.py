"""`sealmail deliver`, the Unix MDA: exit codes an MTA relies on, messages
landing encrypted under messages/ with one row each in delivery.sqlite,
concurrent deliveries, the best-effort note to a running daemon, and the
switch to the directory's owner when run as root.

Users are made by seal-mkuser (account_create) until the admin socket can.
Nothing here decrypts: the unit tests read messages back."""

import os
import pwd
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from sealtest import SEALMAIL, Server, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
EX_USAGE, EX_DATAERR, EX_NOUSER, EX_CANTCREAT, EX_TEMPFAIL = 64, 65, 67, 73, 75

TEMPLATE = tempfile.mkdtemp(prefix="sealmail-deliver-tmpl-")
subprocess.run([MKUSER, TEMPLATE, "alice", "secret password"], check=True, timeout=120)


class Root:
    """A temporary ROOT with users/alice, copied from the template."""

    def __init__(self, root=None):
        self.dir = tempfile.mkdtemp(prefix="sealmail-deliver-")
        self.root = root or os.path.join(self.dir, "root")
        self.users = os.path.join(self.root, "users")
        os.makedirs(self.users, exist_ok=True)
        self.alice = os.path.join(self.users, "alice")
        shutil.copytree(os.path.join(TEMPLATE, "alice"), self.alice, symlinks=True)

    def deliver(self, data, *args, user="alice", root=None):
        argv = [SEALMAIL, "deliver", "--root", root or self.root]
        argv += ["--user", user] if user is not None else []
        return subprocess.run(argv + list(args), input=data, capture_output=True, timeout=120)

    def rows(self):
        path = os.path.join(self.alice, "delivery.sqlite")
        if not os.path.exists(path):
            return []
        db = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
        try:
            return db.execute("SELECT file_name, instructions FROM pending ORDER BY id").fetchall()
        finally:
            db.close()

    def message_files(self, marks=False):
        """Files under messages/; with marks, the shards' .synced marks
        (delivery.h: the shard's own name is durable) instead."""
        found = []
        for top, _dirs, files in os.walk(os.path.join(self.alice, "messages")):
            found += [os.path.join(top, f) for f in files if f.startswith(".") == marks]
        return found

    def db_files(self):
        """delivery.sqlite and what its write-ahead log keeps beside it."""
        return [p for p in (os.path.join(self.alice, "delivery.sqlite" + s)
                            for s in ("", "-wal", "-shm")) if os.path.exists(p)]

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def one_line(r):
    err = r.stderr.decode()
    expect(err.count("\n") == 1 and err.startswith("sealmail deliver: "),
           "one line of reason on stderr", repr(err))
    return err


def test_messages_land_encrypted_with_a_row_each():
    r = Root()
    try:
        res = r.deliver(b"Subject: hi\n\nhello-marker-4c1e\n")
        expect(res.returncode == 0, "exit 0", res.returncode, res.stderr)
        expect(res.stdout == b"" and res.stderr == b"", "silent on success", res)
        res = r.deliver(b"Subject: two\r\n\r\nsecond\r\n", "--mailbox", "Archive-marker",
                        "--flag", "\\Seen", "--flag", "$Label-marker")
        expect(res.returncode == 0, "exit 0 with mailbox and flags", res.stderr)
        rows = r.rows()
        expect(len(rows) == 2, "two rows", rows)
        files = r.message_files()
        expect(len(files) == 2, "two message files", files)
        for name, blob in rows:
            path = os.path.join(r.alice, "messages", name[:2], name[2:])
            expect(path in files, "the row names its file", name, files)
            expect(len(name) == 32 and all(c in "0123456789abcdef" for c in name), name)
            expect(len(blob) % 256 == 29, "a padded sealed blob", len(blob))
        marks = r.message_files(marks=True)
        expect(sorted(os.path.dirname(p) for p in marks)
               == sorted(set(os.path.dirname(p) for p in files)), "each shard marked", marks)
        expect(all(os.path.getsize(p) == 0 for p in marks), "empty marks", marks)
        expect(len(r.db_files()) == 3, "delivery.sqlite, -wal and -shm", r.db_files())
        for path in files + r.db_files():
            with open(path, "rb") as f:
                data = f.read()
            for marker in (b"hello-marker", b"Archive-marker", b"Label-marker", b"Subject"):
                expect(marker not in data, "%s holds %r" % (path, marker))
        expect(os.listdir(os.path.join(r.alice, "tmp")) == [], "tmp/ left empty")
    finally:
        r.cleanup()


def test_unknown_and_disabled_users_are_67():
    r = Root()
    try:
        res = r.deliver(b"x\n", user="bob")
        expect(res.returncode == EX_NOUSER, "unknown user", res.returncode)
        expect("no such user 'bob'" in one_line(res), res.stderr)
        os.symlink("alice", os.path.join(r.users, "al"))
        expect(r.deliver(b"x\n", user="al").returncode == 0, "an alias delivers")
        os.rename(r.alice, os.path.join(r.users, "%alice"))
        for name in ("alice", "%alice", "al", "../users/%alice"):
            res = r.deliver(b"x\n", user=name)
            expect(res.returncode == EX_NOUSER, "disabled: " + name, res.returncode)
            one_line(res)
    finally:
        r.cleanup()


def test_usage_errors_are_64():
    r = Root()
    try:
        cases = [("--bogus",), ("--mailbox", "a//b"), ("--flag", "\\Recent"),
                 ("--flag", "a b"), ("--flag", "\\Whatever"), ("extra",),
                 ("--mailbox", "INBOX/child")]
        for args in cases:
            res = r.deliver(b"x\n", *args)
            expect(res.returncode == EX_USAGE, "usage error for %r" % (args,), res.returncode)
            one_line(res)
        res = r.deliver(b"x\n", user=None)
        expect(res.returncode == EX_USAGE, "--user is required", res.returncode)
        res = r.deliver(b"", "--mailbox", user=None)
        expect(res.returncode == EX_USAGE, "--mailbox needs a value", res.returncode)
        expect(r.rows() == [], "nothing delivered by bad usage")
        res = subprocess.run([SEALMAIL, "deliver", "--help"], capture_output=True, timeout=30)
        expect(res.returncode == 0 and b"usage: sealmail deliver" in res.stdout, res)
        expect(b"75" in res.stdout and b"67" in res.stdout, "exit codes documented")
        res = subprocess.run([SEALMAIL, "help", "deliver"], capture_output=True, timeout=30)
        expect(res.returncode == 0 and b"--mailbox" in res.stdout, res)
        res = subprocess.run([SEALMAIL, "--help"], capture_output=True, timeout=30)
        expect(b"deliver" in res.stdout, "listed in sealmail --help", res.stdout)
    finally:
        r.cleanup()


def test_empty_and_oversize_input():
    r = Root()
    try:
        res = r.deliver(b"")
        expect(res.returncode == EX_DATAERR, "empty message is bad data", res.returncode)
        expect("empty" in one_line(res), res.stderr)
        res = r.deliver(b"a" * (64 * 1024 * 1024 + 1))
        expect(res.returncode == EX_CANTCREAT, "over 64 MiB refused", res.returncode)
        expect("larger than" in one_line(res), res.stderr)
        expect(r.rows() == [] and r.message_files() == [], "nothing left behind")
        expect(os.listdir(os.path.join(r.alice, "tmp")) == [], "tmp/ left empty")
    finally:
        r.cleanup()


def test_missing_root_is_a_temporary_failure():
    r = Root()
    try:
        res = r.deliver(b"x\n", root=os.path.join(r.dir, "no-such-root"))
        expect(res.returncode == EX_TEMPFAIL, "retry later, never bounce", res.returncode)
        one_line(res)
    finally:
        r.cleanup()


def test_concurrent_deliveries_all_land():
    r = Root()
    try:
        procs = []
        for i in range(16):
            argv = [SEALMAIL, "deliver", "--root", r.root, "--user", "alice"]
            p = subprocess.Popen(argv, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
            procs.append(p)
        for i, p in enumerate(procs):
            p.stdin.write(b"Subject: %d\n\n" % i + os.urandom(20000))
            p.stdin.close()
        for p in procs:
            expect(p.wait(120) == 0, "every delivery succeeds", p.stderr.read())
            p.stderr.close()
        names = [n for n, _ in r.rows()]
        expect(len(names) == 16 and len(set(names)) == 16, "16 distinct rows", names)
        expect(len(r.message_files()) == 16, "16 files")
    finally:
        r.cleanup()


def fake_admin(path, reply):
    """A unix socket at path that records request lines; with reply None
    it never accepts, so the client's connect sits in the backlog."""
    lines = []
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)

    def serve():
        while True:
            try:
                c, _ = s.accept()
            except OSError:
                return
            with c:
                c.settimeout(10)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = c.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                lines.append(data.decode())
                c.sendall(reply)

    if reply is not None:
        threading.Thread(target=serve, daemon=True).start()
    return s, lines


def test_a_running_daemon_is_told():
    r = Root()
    try:
        sock, lines = fake_admin(os.path.join(r.root, "admin.sock"),
                                 b"ERR unknown command 'delivered'\n")
        res = r.deliver(b"Subject: x\n\nx\n")
        expect(res.returncode == 0, "delivered", res.stderr)
        expect(lines == ["delivered alice\n"], "request line sent", lines)
        sock.close()
        os.unlink(os.path.join(r.root, "admin.sock"))
        # A daemon that never answers costs at most the short timeout.
        sock, lines = fake_admin(os.path.join(r.root, "admin.sock"), None)
        start = time.time()
        res = r.deliver(b"Subject: x\n\nx\n")
        expect(res.returncode == 0, "still delivered", res.stderr)
        expect(time.time() - start < 8, "bounded wait", time.time() - start)
        sock.close()
        expect(len(r.rows()) == 2, "two rows")
    finally:
        r.cleanup()


def test_with_the_real_daemon_running():
    with Server() as s:
        r = Root(root=s.root)
        try:
            s.start()
            res = r.deliver(b"Subject: x\n\nx\n")
            expect(res.returncode == 0, "delivered", res.stderr)
            expect(s.proc.poll() is None, "the daemon is unharmed")
            expect(len(r.rows()) == 1, "one row")
            expect(s.stop() == 0, "clean exit")
        finally:
            r.cleanup()
            shutil.rmtree(s.dir, ignore_errors=True)


def test_backlog_does_not_hold_up_login():
    """150 messages delivered while offline cost one RSA operation each:
    LOGIN answers after the first batch, the rest arrives in the
    background and the session (SELECT, then IDLE) sees all of it."""
    total = 150
    with Server() as s:
        r = Root(root=s.root)
        try:
            for i in range(total):
                res = r.deliver(b"Subject: backlog %d\n\nmessage %d\n" % (i, i))
                expect(res.returncode == 0, "delivered", res.stderr)
            s.start()
            c = s.connect(timeout=60)
            c.readline()
            expect(c.cmd('a LOGIN alice "secret password"')[-1].startswith("a OK"), "login")
            at_login = int(s.stats()["messages_imported"])
            expect(0 < at_login < total, "LOGIN answered before the whole backlog was in",
                   at_login)
            lines = c.cmd("b SELECT INBOX")
            exists = max(int(l.split()[1]) for l in lines if l.endswith(" EXISTS"))
            if exists < total:
                c.send("c IDLE\r\n")
                expect(c.readline().startswith("+ "), "idling")
                c.sock.settimeout(60)
                while exists < total:
                    line = c.readline()
                    if line.endswith(" EXISTS"):
                        exists = int(line.split()[1])
                c.send("DONE\r\n")
                while not c.readline().startswith("c OK"):
                    pass
            expect(int(s.stats()["messages_imported"]) == total, "all taken in")
            expect(r.rows() == [], "no pending row left")
            print("  LOGIN answered with %d of %d imported; the session saw all %d"
                  % (at_login, total, exists))
            c.close()
            expect(s.stop() == 0, "clean exit")
        finally:
            r.cleanup()
            shutil.rmtree(s.dir, ignore_errors=True)


def test_run_as_root_writes_as_the_owner():
    if os.geteuid() != 0:
        print("  (skipped: needs root)")
        return
    nobody = pwd.getpwnam("nobody")
    r = Root()
    try:
        for top in (r.dir, r.root, r.users):
            os.chmod(top, 0o755)
        for top, dirs, files in os.walk(r.alice):
            for name in [top] + [os.path.join(top, f) for f in dirs + files]:
                os.lchown(name, nobody.pw_uid, nobody.pw_gid)
        res = r.deliver(b"Subject: x\n\nx\n")
        expect(res.returncode == 0, "delivered", res.stderr)
        made = r.message_files() + r.message_files(marks=True) + r.db_files()
        for path in made + [os.path.dirname(r.message_files()[0])]:
            expect(os.stat(path).st_uid == nobody.pw_uid, "owned by nobody: " + path)
    finally:
        r.cleanup()


try:
    status = run([test_messages_land_encrypted_with_a_row_each,
                  test_unknown_and_disabled_users_are_67,
                  test_usage_errors_are_64,
                  test_empty_and_oversize_input,
                  test_missing_root_is_a_temporary_failure,
                  test_concurrent_deliveries_all_land,
                  test_a_running_daemon_is_told,
                  test_with_the_real_daemon_running,
                  test_backlog_does_not_hold_up_login,
                  test_run_as_root_writes_as_the_owner])
finally:
    shutil.rmtree(TEMPLATE, ignore_errors=True)
sys.exit(status)
