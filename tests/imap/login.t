# LOGIN and AUTHENTICATE PLAIN (RFC 9051 6.2.2, 6.2.3; SASL-IR RFC 4959):
# capabilities in the greeting and in the tagged OK (manual, "Miscellaneous").
% user alice

S: * OK [CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ SASL-IR AUTH=PLAIN ...] sealmail ready
C: a1 LOGIN alice wrong
S: a1 NO [AUTHENTICATIONFAILED] Authentication failed
C: a2 LOGIN nobody secret
S: a2 NO [AUTHENTICATIONFAILED] Authentication failed
C: a3 SELECT INBOX
S: a3 BAD SELECT is not valid in this state
C: a4 LOGIN alice secret
S: a4 OK [CAPABILITY IMAP4rev2 IMAP4rev1 ... NAMESPACE ... LIST-EXTENDED ...] Logged in
C: a5 LOGIN alice secret
S: a5 BAD LOGIN is not valid in this state
C: a6 CAPABILITY
S: * CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ...
S: a6 OK CAPABILITY completed
C: a7 LOGOUT
S: * BYE Logging out
S: a7 OK LOGOUT completed
S: <closed>

# AUTHENTICATE PLAIN with an initial response: "\0alice\0secret".
S2: * OK ...
C2: b1 AUTHENTICATE PLAIN AGFsaWNlAHNlY3JldA==
S2: b1 OK [CAPABILITY IMAP4rev2 ...] Logged in
C2: b2 LOGOUT
S2: * BYE ...
S2: b2 OK ...

# With a continuation, and an authorisation identity equal to the user.
S3: * OK ...
C3: c1 AUTHENTICATE PLAIN
S3: +{{ ?}}
C3: YWxpY2UAYWxpY2UAc2VjcmV0
S3: c1 OK [CAPABILITY ...] Logged in

# Acting as someone else is refused; a wrong password is a failure.
S4: * OK ...
C4: d1 AUTHENTICATE PLAIN Ym9iAGFsaWNlAHNlY3JldA==
S4: d1 NO [AUTHZFAILED] ...
C4: d2 AUTHENTICATE PLAIN AGFsaWNlAHdyb25n
S4: d2 NO [AUTHENTICATIONFAILED] Authentication failed
C4: d3 LOGIN "alice" {6+}
C4: secret
S4: d3 OK [CAPABILITY ...] Logged in
