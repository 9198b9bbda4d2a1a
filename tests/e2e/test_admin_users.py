"""`sealmail admin user add|list` against the running daemon."""

import os
import re
import sys

from sealtest import Server, expect, run

srv = None


def users_dir():
    return os.path.join(srv.root, "users")


def test_add_with_generated_password():
    r = srv.admin("user", "add", "alice")
    m = re.fullmatch(r"password: (\S{20})\n", r.stdout)
    expect(m is not None, "one generated password line", r.stdout)
    d = os.path.join(users_dir(), "alice")
    for name in ("user.toml", "keys", "messages", "tmp", "backups"):
        expect(os.path.exists(os.path.join(d, name)), "user dir has " + name)
    expect((os.stat(d).st_mode & 0o777) == 0o700, "user dir is private")
    expect(m.group(1) not in srv.log_text(), "password not logged")
    with open(os.path.join(d, "user.toml")) as f:
        expect(m.group(1) not in f.read(), "password not stored")


def test_add_with_password_on_stdin():
    r = srv.admin("user", "add", "bob", "--password-stdin", input="correct horse battery\n")
    expect(r.stdout == "", "nothing printed when the password is given", r.stdout)
    expect("correct horse" not in srv.log_text(), "password not logged")


def test_add_refusals():
    r = srv.admin("user", "add", "alice", "--password-stdin", input="x\n", check=False)
    expect(r.returncode != 0 and "already exists" in r.stderr, "duplicate", r.stderr)
    r = srv.admin("user", "add", ".hidden", check=False)
    expect(r.returncode != 0 and len(r.stderr.splitlines()) == 1, "bad name", r.stderr)
    r = srv.admin("user", "add", "carol", "--password-stdin", input="\n", check=False)
    expect(r.returncode != 0 and "empty password" in r.stderr, "empty password", r.stderr)
    r = srv.admin("user", "add", check=False)
    expect(r.returncode != 0 and "usage" in r.stderr, "usage", r.stderr)


def test_list_shows_users_aliases_disabled():
    os.symlink("bob", os.path.join(users_dir(), "robert"))
    srv.admin("user", "add", "dave", "--password-stdin", input="pw\n")
    os.rename(os.path.join(users_dir(), "dave"), os.path.join(users_dir(), "%dave"))
    out = srv.admin("user", "list").stdout.splitlines()
    expect(out == ["%dave (disabled)", "alice (user)", "bob (user)", "robert (alias)"],
           "sorted list with kinds", out)


def main():
    global srv
    with Server() as s:
        srv = s.start()
        status = run([test_add_with_generated_password, test_add_with_password_on_stdin,
                      test_add_refusals, test_list_shows_users_aliases_disabled])
        expect(s.stop() == 0, "clean exit")
    sys.exit(status)


main()
