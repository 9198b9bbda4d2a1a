"""The login cache against the real server: a client that reconnects with
the same password skips Argon2 while the user is open and for
[security] login_cache_seconds after its last session left; a wrong
password always pays Argon2; a reload changes the lifetime. Counted with
the logins_argon2 and logins_cached lines of `sealmail admin stats`."""

import os
import re
import subprocess
import sys
import time

from sealtest import Server, expect, run

MKUSER = os.environ.get("SEAL_MKUSER", "seal-mkuser")
srv = None


def counts():
    st = srv.stats()
    return int(st["logins_argon2"]), int(st["logins_cached"])


def login(password="pw", keep=False):
    c = srv.connect()
    c.readline()
    reply = c.cmd("a LOGIN carol %s" % password)[-1]
    if keep:
        return c, reply
    c.cmd("z LOGOUT")
    c.close()
    return None, reply


def wait_closed():
    deadline = time.time() + 10
    while int(srv.stats()["users_open"]) and time.time() < deadline:
        time.sleep(0.05)
    expect(int(srv.stats()["users_open"]) == 0, "the user was closed")


def test_cached_within_lifetime():
    a0, c0 = counts()
    expect(login()[1].startswith("a OK"), "first login")
    expect(counts() == (a0 + 1, c0), "first login runs Argon2", counts())
    expect(login()[1].startswith("a OK"), "second login")
    expect(counts() == (a0 + 1, c0 + 1), "reconnect is a cache hit", counts())
    expect(login("wrong")[1].startswith("a NO"), "wrong password refused")
    expect(counts() == (a0 + 2, c0 + 1), "a wrong password pays Argon2", counts())
    wait_closed()
    expect(login()[1].startswith("a OK"), "login after the lifetime")
    expect(counts() == (a0 + 3, c0 + 1), "after the lifetime Argon2 runs again", counts())


def test_live_session_keeps_cache():
    wait_closed()
    held, reply = login(keep=True)
    expect(reply.startswith("a OK"), "held session")
    time.sleep(2.5)  # longer than the lifetime: the open session keeps the user
    a0, c0 = counts()
    expect(login()[1].startswith("a OK"), "login beside a live session")
    expect(counts() == (a0, c0 + 1), "cache hit while a session lives", counts())
    held.cmd("z LOGOUT")
    held.close()


def test_reload_sets_lifetime():
    with open(srv.config) as f:
        text = f.read()
    srv.write_config(re.sub(r"login_cache_seconds = \d+", "login_cache_seconds = 600", text))
    srv.admin("reload")
    wait_closed()
    login()
    time.sleep(2.5)
    a0, c0 = counts()
    expect(login()[1].startswith("a OK"), "login after reload")
    expect(counts() == (a0, c0 + 1), "the longer lifetime applies after reload", counts())
    expect(int(srv.stats()["users_open"]) == 1, "user kept open")


def main():
    global srv
    srv = Server(extra="[security]\nlogin_cache_seconds = 1\n")
    subprocess.run([MKUSER, os.path.join(srv.root, "users"), "carol", "pw"], check=True,
                   timeout=120)
    srv.start()
    try:
        status = run([test_cached_within_lifetime, test_live_session_keeps_cache,
                      test_reload_sets_lifetime])
    finally:
        srv.stop()
    if status:
        print(srv.log_text()[-3000:])
    return status


if __name__ == "__main__":
    sys.exit(main())
