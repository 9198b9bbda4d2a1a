"""Started as root, the daemon binds and reads its keys, then chroots and
becomes security.system_user (skipped when the tests do not run as root)."""

import os
import pwd
import sys

from sealtest import Server, expect, run


def proc_status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return line.split()[1:]
    return None


def test_drops_to_system_user_and_chroots():
    nobody = pwd.getpwnam("nobody")
    with Server(extra='[security]\nsystem_user = "nobody"\nchroot_system = true\n') as s:
        os.chmod(s.dir, 0o755)
        # In the sanitizer build LeakSanitizer reads /proc at exit, which a
        # chrooted process cannot see: it would fail the exit, not a leak.
        env = dict(os.environ, ASAN_OPTIONS="detect_leaks=0")
        s.start(env=env)
        uids = proc_status(s.proc.pid, "Uid")
        expect(all(int(u) == nobody.pw_uid for u in uids), "all uids are nobody's", uids)
        gids = proc_status(s.proc.pid, "Gid")
        expect(all(int(g) == nobody.pw_gid for g in gids), "all gids are nobody's", gids)
        root_link = os.readlink("/proc/%d/root" % s.proc.pid)
        expect(root_link == os.path.realpath(os.path.join(s.root, "users")),
               "chrooted into ROOT/users", root_link)
        st = os.stat(s.admin_sock)
        expect(st.st_uid == nobody.pw_uid, "admin socket handed to the service user")
        c = s.connect()
        expect(c.readline().startswith("* OK"), "still serving TLS after the drop")
        expect("dropped" in s.log_text() or "running as nobody" in s.log_text(),
               "the drop is logged", s.log_text())
        expect(s.stop() == 0, "clean exit")


def test_unknown_system_user_is_an_error():
    with Server(extra='[security]\nsystem_user = "no-such-user-here"\n') as s:
        s.start(wait=False)
        code = s.proc.wait(20)
        expect(code != 0, "refuses to run as root with a missing user")
        expect("no-such-user-here" in s.log_text(), "names the user", s.log_text())


if os.geteuid() != 0:
    print("skipped: privilege drop needs root")
    sys.exit(77)  # ctest's SKIP_RETURN_CODE
sys.exit(run([test_drops_to_system_user_and_chroots, test_unknown_system_user_is_an_error]))
