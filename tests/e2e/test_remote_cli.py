"""`sealmail remote test|chpw|config` (DESIGN.md section 6; manual "User
Guide") against the real server, and what XCRY SET-USER-CONFIG PASSWORD
does that a transcript cannot show: the backup file on disk, and putting it
back as user.toml to bring the old password back (manual, "Password
Resets"). Passwords are piped on stdin (not a terminal).

The server's certificate is self-signed: without --insecure the CLI must
refuse it; with --ca-file naming that certificate it is trusted, but only
for the name it carries (localhost, not 127.0.0.1)."""

import glob
import imaplib
import os
import shutil
import subprocess

from sealtest import SEALMAIL, Server, client_context, expect, expect_match, run

# login_cache_seconds = 0: every fresh connection pays Argon2 against
# user.toml, so a password that works was checked on disk, not in a cache.
EXTRA = "[security]\nlogin_cache_seconds = 0\n"


def remote(srv, *args, stdin="", user="alice", port=None, host="localhost"):
    argv = [SEALMAIL, "remote"] + list(args)
    if host is not None:
        argv += ["--host", host, "--port", str(port or srv.ports["imaps"])]
    if user is not None:
        argv += ["--user", user]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60)


def imap_login(srv, user, password):
    """An imaplib session, or the error text when LOGIN fails."""
    m = imaplib.IMAP4_SSL("127.0.0.1", srv.ports["imaps"], ssl_context=client_context())
    try:
        m.login(user, password)
    except imaplib.IMAP4.error as e:
        m.logout()
        return str(e)
    return m


def deliver(srv, user, subject):
    body = "From: a@example.org\nSubject: %s\n\nbody of %s\n" % (subject, subject)
    r = subprocess.run([SEALMAIL, "deliver", "--root", srv.root, "--user", user],
                       input=body.encode(), capture_output=True, timeout=60)
    expect(r.returncode == 0, "deliver", r.stderr)


def subjects(m):
    m.select("INBOX", readonly=True)
    typ, data = m.fetch("1:*", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
    expect(typ == "OK", "FETCH", data)
    return sorted(part[1].decode().strip() for part in data if isinstance(part, tuple))


SERVER = None


def server():
    global SERVER
    if SERVER is None:
        SERVER = Server(extra=EXTRA).start()
        for name in ("alice", "bob", "carol"):
            SERVER.admin("user", "add", name, "--password-stdin", input="secret\n")
    return SERVER


def test_help_everywhere():
    for argv in (["remote", "--help"], ["help", "remote"], ["remote", "test", "--help"],
                 ["remote", "chpw", "--help"], ["remote", "config", "--help"]):
        r = subprocess.run([SEALMAIL] + argv, capture_output=True, text=True, timeout=30)
        expect(r.returncode == 0, "help exit status", argv, r.stderr)
        expect_match(r"^usage: sealmail remote", r.stdout)
    r = subprocess.run([SEALMAIL, "remote", "config", "--help"], capture_output=True, text=True)
    expect_match(r"--internal-key-pattern", r.stdout)
    expect_match(r"--smtp-out-failure-receipts", r.stdout)
    r = subprocess.run([SEALMAIL, "--help"], capture_output=True, text=True)
    expect_match(r"\n  remote ", r.stdout)


def test_usage_errors():
    srv = server()
    for args, pattern in ((["frob"], "no such command 'frob'"),
                          (["test", "--bogus"], "unknown option '--bogus'"),
                          (["config", "--port", "99999"], "not a port number"),
                          (["test", "--insecure", "--ca-file", "x"], "contradict")):
        r = remote(srv, *args)
        expect(r.returncode == 2, "usage errors exit 2", args, r.returncode, r.stderr)
        expect_match(pattern, r.stderr)
    r = remote(srv, "test", host=None)
    expect(r.returncode == 2, "--host required", r.stderr)
    expect_match("--host is required", r.stderr)
    # Settings belong to config only.
    r = remote(srv, "test", "--insecure", "--smtp-out-save", "Sent")
    expect(r.returncode == 2, "config option on test", r.stderr)


def test_remote_test_logs_in():
    srv = server()
    r = remote(srv, "test", "--insecure", stdin="secret\n")
    expect(r.returncode == 0, "remote test", r.stdout, r.stderr)
    expect_match(r"Logged in to localhost port \d+ as alice \(TLSv1\.2 ", r.stdout)
    expect_match(r"XCRY\): available", r.stdout)
    # --user=U and --host=H forms, as the manual writes them.
    r = subprocess.run([SEALMAIL, "remote", "test", "--insecure", "--host=localhost",
                        "--port=%d" % srv.ports["imaps"], "--user=alice"],
                       input="secret\n", capture_output=True, text=True, timeout=60)
    expect(r.returncode == 0, "--opt=value forms", r.stderr)


def test_trace_masks_passwords():
    srv = server()
    pw = 'tr"ce \\ secret'
    srv.admin("user", "add", "tracy", "--password-stdin", input=pw + "\n")
    r = remote(srv, "test", "--insecure", "--trace", stdin=pw + "\n", user="tracy")
    expect(r.returncode == 0, "traced login", r.stderr)
    expect_match(r"S: \* OK \[CAPABILITY .*\] sealmail ready", r.stderr)
    expect_match(r'C: r1 LOGIN "tracy" <password>\n', r.stderr)
    expect_match(r"S: r1 OK \[CAPABILITY .*XCRY.*\] Logged in", r.stderr)
    expect_match(r"C: r3 LOGOUT", r.stderr)
    expect("secret" not in r.stderr and "secret" not in r.stdout, "password shown", r.stderr)
    # An 8-bit password goes as a literal; its length is masked too.
    r = remote(srv, "chpw", "--insecure", "--trace", stdin=pw + "\nnëw sécret\n", user="tracy")
    expect(r.returncode == 0, "traced chpw", r.stderr)
    expect_match(r"C: r2 XCRY SET-USER-CONFIG PASSWORD \{\*\}\nS: \+ .*\nC: <password>\n",
                 r.stderr)
    expect("sécret" not in r.stderr, "new password shown", r.stderr)


def test_wrong_password_fails_clearly():
    srv = server()
    r = remote(srv, "test", "--insecure", stdin="not the password\n")
    expect(r.returncode == 1, "exit status 1", r.returncode, r.stdout, r.stderr)
    expect_match(r"^sealmail remote: cannot log in as alice: \[AUTHENTICATIONFAILED\]",
                 r.stderr)
    r = remote(srv, "test", "--insecure", stdin="")
    expect(r.returncode == 1, "no password on stdin", r.stderr)
    expect_match("no password given", r.stderr)
    r = remote(srv, "chpw", "--insecure", stdin="wrong\nnew\n", user="carol")
    expect(r.returncode == 1, "chpw with a wrong password", r.stderr)
    expect_match("cannot log in as carol", r.stderr)


def test_certificate_verified_by_default():
    srv = server()
    r = remote(srv, "test", stdin="secret\n")
    expect(r.returncode == 1, "self-signed refused", r.returncode, r.stderr)
    expect_match(r"the certificate of localhost cannot be trusted: The certificate is not "
                 r"correctly signed by the trusted CA", r.stderr)
    expect_match(r"--insecure skips this check", r.stderr)
    expect("Password" not in r.stderr, "no password asked before the check", r.stderr)
    # Trusted through --ca-file, for the name it carries only.
    r = remote(srv, "test", "--ca-file", srv.cert, stdin="secret\n")
    expect(r.returncode == 0, "trusted with --ca-file", r.stderr)
    r = remote(srv, "test", "--ca-file", srv.cert, host="127.0.0.1", stdin="secret\n")
    expect(r.returncode == 1, "name mismatch", r.stderr)
    expect_match(r"cannot be trusted: .*does not match with the expected CN", r.stderr)
    r = remote(srv, "test", "--ca-file", "/nonexistent/ca.pem", stdin="secret\n")
    expect(r.returncode == 1, "missing CA file", r.stderr)
    expect_match(r"cannot load CA certificates /nonexistent/ca.pem", r.stderr)


def test_connection_errors():
    srv = server()
    closed = Server(listen=("imaps",))    # ports chosen, never started
    r = remote(srv, "test", "--insecure", port=closed.ports["imaps"], stdin="secret\n")
    expect(r.returncode == 1, "refused", r.stderr)
    expect_match(r"cannot connect to localhost port \d+: Connection refused", r.stderr)
    r = remote(srv, "test", "--insecure", host="no-such-host.invalid", stdin="secret\n")
    expect(r.returncode == 1, "unknown host", r.stderr)
    expect_match(r"cannot resolve no-such-host.invalid", r.stderr)
    shutil.rmtree(closed.dir, ignore_errors=True)


def test_chpw_then_imaplib_and_backup_restore():
    srv = server()
    for s in ("one", "two", "three"):
        deliver(srv, "bob", s)
    r = remote(srv, "chpw", "--insecure", user="bob", stdin="secret\nbrand new\n")
    expect(r.returncode == 0, "chpw", r.stdout, r.stderr)
    m = expect_match_group(r"saved the previous configuration as (tmp/config-backup-\S+\.toml);",
                           r.stdout)
    backup = os.path.join(srv.root, "users", "bob", m)
    expect(os.path.isfile(backup), "backup file exists", backup)
    refused = imap_login(srv, "bob", "secret")
    expect(isinstance(refused, str) and "[AUTHENTICATIONFAILED]" in refused,
           "old password refused", refused)
    m = imap_login(srv, "bob", "brand new")
    expect(not isinstance(m, str), "new password works", m)
    expect(subjects(m) == ["Subject: one", "Subject: three", "Subject: two"], "mail readable",
           subjects(m))
    m.logout()
    # Manual, "Password Resets": the backup put back as user.toml undoes it.
    shutil.copyfile(backup, os.path.join(srv.root, "users", "bob", "user.toml"))
    refused = imap_login(srv, "bob", "brand new")
    expect(isinstance(refused, str) and "[AUTHENTICATIONFAILED]" in refused,
           "new password gone", refused)
    m = imap_login(srv, "bob", "secret")
    expect(not isinstance(m, str), "old password back", m)
    expect(len(subjects(m)) == 3, "mail readable after the restore")
    m.logout()


def expect_match_group(pattern, text):
    import re
    found = re.search(pattern, text)
    expect(found is not None, "expected /%s/ in:\n%s" % (pattern, text))
    return found.group(1)


def test_config_round_trip():
    srv = server()
    r = remote(srv, "config", "--insecure", user="carol", stdin="secret\n")
    expect(r.returncode == 0, "show", r.stderr)
    expect(r.stdout == "internal-key-pattern: internal-%Y-%m\n"
                       "external-key-pattern: external-%Y-%m\n"
                       "password-changed: never\n"
                       "smtp-out-save: (none)\n"
                       "smtp-out-success-receipts: (none)\n"
                       "smtp-out-failure-receipts: INBOX\n", "defaults", r.stdout)
    r = remote(srv, "config", "--insecure", "--internal-key-pattern", "internal-%Y",
               "--external-key-pattern=external-%Y-%W", "--smtp-out-save", "Sent",
               "--smtp-out-success-receipts", "Sent/Success",
               "--smtp-out-failure-receipts", "Sent/Failure", user="carol", stdin="secret\n")
    expect(r.returncode == 0, "set", r.stdout, r.stderr)
    expect_match(r"^Configuration updated\. The server saved the previous configuration as "
                 r"tmp/config-backup-\d{8}T\d{6}Z(-\d+)?\.toml;", r.stdout)
    r = remote(srv, "config", "--insecure", user="carol", stdin="secret\n")
    expect(r.stdout == "internal-key-pattern: internal-%Y\n"
                       "external-key-pattern: external-%Y-%W\n"
                       "password-changed: never\n"
                       "smtp-out-save: Sent\n"
                       "smtp-out-success-receipts: Sent/Success\n"
                       "smtp-out-failure-receipts: Sent/Failure\n", "changed", r.stdout)
    # '' clears the mailboxes (failure receipts go back to INBOX).
    r = remote(srv, "config", "--insecure", "--smtp-out-save=", "--smtp-out-failure-receipts",
               "", user="carol", stdin="secret\n")
    expect(r.returncode == 0, "clear", r.stderr)
    r = remote(srv, "config", "--insecure", user="carol", stdin="secret\n")
    expect_match(r"smtp-out-save: \(none\)\nsmtp-out-success-receipts: Sent/Success\n"
                 r"smtp-out-failure-receipts: INBOX\n$", r.stdout)
    # A bad pattern is refused with the server's reason; nothing changes.
    r = remote(srv, "config", "--insecure", "--external-key-pattern", "external-%m",
               user="carol", stdin="secret\n")
    expect(r.returncode == 1, "bad pattern", r.stdout, r.stderr)
    expect_match(r"^sealmail remote: the server refused the change: \[CANNOT\] Invalid "
                 r"EXTERNAL-KEY-PATTERN: ", r.stderr)
    r = remote(srv, "config", "--insecure", user="carol", stdin="secret\n")
    expect_match(r"external-key-pattern: external-%Y-%W\n", r.stdout)
    # The user's directory holds one backup per change.
    backups = glob.glob(os.path.join(srv.root, "users", "carol", "tmp", "config-backup-*.toml"))
    expect(len(backups) == 2, "two backups", backups)


def test_xcry_damaged_settings_file():
    """A user.toml broken while the user is logged in: XCRY says so with
    [CORRUPTION] and changes nothing; the server log names the file."""
    srv = server()
    srv.admin("user", "add", "dan", "--password-stdin", input="secret\n")
    imaplib.Commands["XCRY"] = ("AUTH", "SELECTED")
    m = imap_login(srv, "dan", "secret")
    expect(not isinstance(m, str), "login", m)
    path = os.path.join(srv.root, "users", "dan", "user.toml")
    with open(path) as f:
        good = f.read()
    with open(path, "a") as f:
        f.write("surprise = 1\n")
    for args in (("GET-USER-CONFIG",), ("SET-USER-CONFIG", "SMTP-OUT-SAVE", '"Sent"')):
        typ, data = m._simple_command("XCRY", *args)
        expect(typ == "NO", "NO for a damaged user.toml", typ, data)
        expect_match(r"^\[CORRUPTION\] The account's settings file cannot be read",
                     data[0].decode())
    expect_match(r"XCRY GET-USER-CONFIG: .*user\.toml:\d+: unknown key 'smtp_out\.surprise'",
                 srv.log_text())
    expect(not glob.glob(os.path.join(srv.root, "users", "dan", "tmp", "config-backup-*")),
           "no backup made by a refused change")
    with open(path, "w") as f:
        f.write(good)
    typ, data = m._simple_command("XCRY", "GET-USER-CONFIG")
    expect(typ == "OK", "readable again", typ, data)
    m.logout()


def main():
    try:
        code = run([test_help_everywhere, test_usage_errors, test_remote_test_logs_in,
                    test_trace_masks_passwords, test_wrong_password_fails_clearly,
                    test_certificate_verified_by_default, test_connection_errors,
                    test_chpw_then_imaplib_and_backup_restore, test_config_round_trip,
                    test_xcry_damaged_settings_file])
    finally:
        if SERVER is not None:
            code_stop = SERVER.stop()
            shutil.rmtree(SERVER.dir, ignore_errors=True)
    raise SystemExit(code if code_stop == 0 else 1)


main()
