"""Connection limits and the per-IP connection rate refuse politely; idle
sessions are logged out; the admin CLI reports what the daemon holds."""

import os
import socket
import stat
import sys
import time

from sealtest import Conn, Server, client_context, expect, expect_match, run


def test_per_ip_limit_refuses_politely():
    with Server(extra_listen="max_connections_per_ip = 3") as s:
        s.start()
        held = [s.connect() for _ in range(3)]
        for c in held:
            expect(c.readline().startswith("* OK"), "within the limit")
        extra = s.connect()
        expect_match(r"^\* BYE \[UNAVAILABLE\] Too many connections from your address",
                     extra.readline())
        expect(extra.closed(), "refused connection is closed")
        held[0].cmd("x LOGOUT")
        held[0].closed()
        time.sleep(0.2)
        again = s.connect()
        expect(again.readline().startswith("* OK"), "a slot frees up after LOGOUT")
        st = s.stats()
        expect(int(st["refused_by_limits"]) >= 1, "refusals counted", st)
        expect(s.stop() == 0, "clean exit")


def connect_from(s, source, name="imaps"):
    raw = socket.socket()
    raw.settimeout(10)
    raw.bind((source, 0))
    raw.connect(("127.0.0.1", s.ports[name]))
    return Conn(client_context().wrap_socket(raw))


def test_connection_rate_per_ip():
    """max_connection_rate_per_ip counts new connections a minute from one
    address, closed ones too; loopback's 127.0.0.1 is exempt."""
    with Server(extra_listen="max_connection_rate_per_ip = 3") as s:
        s.start()
        for _ in range(3):
            c = connect_from(s, "127.0.0.2")
            expect(c.readline().startswith("* OK"), "within the rate")
            c.cmd("x LOGOUT")
            c.close()
        extra = connect_from(s, "127.0.0.2")
        expect_match(r"^\* BYE \[UNAVAILABLE\] Too many connections from your address "
                     r"recently, try again later", extra.readline())
        expect(extra.closed(), "refused connection is closed")
        other = connect_from(s, "127.0.0.3")
        expect(other.readline().startswith("* OK"), "another address has its own rate")
        local = [s.connect() for _ in range(6)]
        for c in local:
            expect(c.readline().startswith("* OK"), "127.0.0.1 is not rate limited")
        st = s.stats()
        expect(int(st["refused_by_limits"]) == 1, "the refusal counted", st)
        expect_match(r"refusing 127\.0\.0\.2:\d+: Too many connections from your address "
                     r"recently", s.log_text())
        # The refused connection gave its per-IP count back: a release
        # without an acquire would abort the daemon.
        for c in local + [other]:
            c.close()
        expect(s.stop() == 0, "clean exit")


def test_total_limit():
    with Server(extra_listen="max_connections = 2") as s:
        s.start()
        a, b = s.connect(), s.connect()
        a.readline(), b.readline()
        c = s.connect()
        expect_match(r"^\* BYE \[UNAVAILABLE\] Too many connections to this server",
                     c.readline())
        expect(s.stop() == 0, "clean exit")


def test_idle_timeout_logs_out():
    with Server(extra_listen="imap_idle_timeout = 2") as s:
        s.start()
        c = s.connect()
        c.readline()
        start = time.time()
        expect_match(r"^\* BYE Autologout", c.readline())
        took = time.time() - start
        expect(1.5 <= took < 6, "idle timeout about 2 s", took)
        expect(s.stop() == 0, "clean exit")


def test_admin_stats_and_socket_mode():
    with Server() as s:
        s.start()
        mode = stat.S_IMODE(os.stat(s.admin_sock).st_mode)
        expect(mode == 0o600, "admin socket mode 0600", oct(mode))
        conns = [s.connect() for _ in range(4)]
        for c in conns:
            c.readline()
        st = s.stats()
        for key in ("connections", "coroutines", "stacks_mapped", "stacks_pooled",
                    "rss_bytes", "loop_lag_us", "work_queue_depth"):
            expect(key in st, "stats has " + key, st)
        expect(st["connections.imaps"].startswith("4 "), "4 IMAPS sessions", st)
        expect(int(st["rss_bytes"]) > 1 << 20, "RSS reported", st)
        expect_match(r"p50 \d+ p99 \d+ max \d+", st["loop_lag_us"])
        r = s.admin("reload")
        expect(r.returncode == 0, "reload OK", r.stderr)
        r = s.admin("frobnicate", check=False)
        expect(r.returncode != 0 and "unknown command" in r.stderr, "bad command", r.stderr)
        expect(len(r.stderr.strip().splitlines()) == 1, "one-line reason", r.stderr)
        expect(s.stop() == 0, "clean exit")


def test_admin_without_server():
    with Server() as s:
        r = s.admin("stats", check=False)
        expect(r.returncode != 0 and "cannot reach the server" in r.stderr,
               "clear error when the daemon is down", r.stderr)


def proc_field(pid, name):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (name, pid))


def soft_nofile(pid):
    with open("/proc/%d/limits" % pid) as f:
        for line in f:
            if line.startswith("Max open files"):
                return int(line.split()[3])
    raise AssertionError("no open-file limit for %d" % pid)


def test_open_file_limit_raised_and_table_sized():
    # max_connections 2000 wants 2000 + 1024 descriptors.
    with Server(extra_listen="max_connections = 2000") as s:
        s.start(argv_prefix=["prlimit", "--nofile=256:4096", "--"])
        expect(soft_nofile(s.proc.pid) == 3024, "soft limit raised to what is needed",
               soft_nofile(s.proc.pid))
        expect(proc_field(s.proc.pid, "FDSize") >= 3024, "descriptor table sized at start",
               proc_field(s.proc.pid, "FDSize"))
        expect("open-file limit" not in s.log_text(), "no warning when it fits")
        expect(s.stop() == 0, "clean exit")
    with Server(extra_listen="max_connections = 2000") as s:
        s.start(argv_prefix=["prlimit", "--nofile=256:1500", "--"])
        expect(soft_nofile(s.proc.pid) == 1500, "raised up to the hard limit only")
        expect_match(r"the open-file limit \(1500\) is below max_connections", s.log_text())
        expect(s.stop() == 0, "clean exit")


sys.exit(run([test_per_ip_limit_refuses_politely, test_connection_rate_per_ip, test_total_limit, test_idle_timeout_logs_out,
              test_admin_stats_and_socket_mode, test_admin_without_server,
              test_open_file_limit_raised_and_table_sized]))
