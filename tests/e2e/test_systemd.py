"""Supervisor integration: readiness and stopping notifications over
NOTIFY_SOCKET, and listening sockets passed by socket activation."""

import os
import socket
import sys

from sealtest import Server, expect, run


def test_sd_notify_ready_and_stopping():
    with Server() as s:
        path = os.path.join(s.dir, "notify.sock")
        ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        ns.bind(path)
        ns.settimeout(20)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        s.start(env=env, wait=False)
        expect(ns.recv(256) == b"READY=1", "READY=1 once listening")
        c = s.connect()
        expect(c.readline().startswith("* OK"), "serving after READY")
        s.signal(15)
        expect(ns.recv(256) == b"STOPPING=1", "STOPPING=1 at shutdown")
        expect(s.proc.wait(15) == 0, "exit 0")


def test_socket_activation():
    with Server() as s:
        lsock = socket.socket()
        lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        lsock.bind(("127.0.0.1", s.ports["imaps"]))
        lsock.listen(16)
        # Connect before the daemon even runs: the kernel queues it.
        early = socket.create_connection(("127.0.0.1", s.ports["imaps"]))
        fd = lsock.fileno()
        # The shell's pid is the daemon's after exec, as LISTEN_PID requires.
        wrapper = ["sh", "-c", 'exec 3>&%d; LISTEN_PID=$$ LISTEN_FDS=1 exec "$@"' % fd, "sh"]
        s.start(pass_fds=(fd,), argv_prefix=wrapper)
        lsock.close()
        from sealtest import Conn, client_context
        c = Conn(client_context().wrap_socket(early))
        expect(c.readline().startswith("* OK"), "queued connection served")
        log = s.log_text()
        expect("listening for imaps" in log, "listener adopted", log)
        expect(s.stop() == 0, "clean exit")


sys.exit(run([test_sd_notify_ready_and_stopping, test_socket_activation]))
