# ENABLE (RFC 5161, RFC 9051 6.3.1), ID (RFC 2971), NAMESPACE (RFC 2342,
# RFC 9051 6.3.10), CAPABILITY and NOOP in every state.
% user alice
% config [identification]
% config support_url = "https://mail.example.org/help"
% config name = "not us"

S: * OK [CAPABILITY ...] sealmail ready
# ID works before login, with NIL or a list; the answer names us.
# [identification] adds entries ('_' becomes '-'); name stays ours.
C: i1 ID NIL
S: * ID ("name" "sealmail" "version" "{{[0-9.]+}}" "support-url" "https://mail.example.org/help")
S: i1 OK ID completed
C: i2 ID ("name" "transcript" "version" "1.0" "os" NIL)
S: * ID ("name" "sealmail" ...)
S: i2 OK ID completed
C: i3 ID ("name")
S: i3 BAD Usage: ID NIL or ID (field value ...)
C: i4 ID
S: i4 BAD ...
C: e0 ENABLE CONDSTORE
S: e0 BAD ENABLE is not valid in this state
C: n0 NAMESPACE
S: n0 BAD NAMESPACE is not valid in this state
C: a1 LOGIN alice secret
S: a1 OK ...
# RFC 9051 6.3.1: only what this command turned on is ENABLED.
C: e1 ENABLE CONDSTORE X-GOOD-IDEA
S: * ENABLED CONDSTORE
S: e1 OK ENABLE completed
C: e2 ENABLE CONDSTORE
S: * ENABLED
S: e2 OK ENABLE completed
C: e3 enable utf8=accept
S: * ENABLED utf8=accept
S: e3 OK ENABLE completed
C: e4 ENABLE
S: e4 BAD Usage: ENABLE capability...
C: e5 ENABLE "CONDSTORE"
S: e5 BAD Capability names are atoms
# RFC 9051 6.3.10 (no shared or other users' namespaces).
C: n1 NAMESPACE
S: * NAMESPACE (("" "/")) NIL NIL
S: n1 OK NAMESPACE completed
C: n2 NAMESPACE x
S: n2 BAD NAMESPACE takes no arguments
C: c1 CAPABILITY
S: * CAPABILITY IMAP4rev2 IMAP4rev1 LITERAL+ ID ENABLE IDLE COMPRESS=DEFLATE NAMESPACE UNSELECT UIDPLUS MULTIAPPEND APPENDLIMIT=67108864 MOVE CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE CREATE-SPECIAL-USE UTF8=ACCEPT STATUS=SIZE ESEARCH SEARCHRES BINARY CONDSTORE QRESYNC OBJECTID SAVEDATE XLIST XVANQUISH XYZZY XCRY
S: c1 OK CAPABILITY completed
C: s1 SELECT INBOX
S~: s1 OK [READ-WRITE] SELECT completed
# ENABLE only in the authenticated state (RFC 5161 3.1).
C: e6 ENABLE IMAP4rev2
S: e6 BAD ENABLE is not valid in this state
C: o1 NOOP
S: o1 OK NOOP completed
C: o2 UNSELECT
S: o2 OK UNSELECT completed
# IMAP4rev2: mailbox names are UTF-8 from now on.
C: e7 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: e7 OK ENABLE completed
C: m1 CREATE "Caf&AOk-"
S: m1 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: m2 LIST "" "Caf*"
S: * LIST (\HasNoChildren) "/" Caf&AOk-
S: m2 OK LIST completed
C: x1 LOGOUT
S: * BYE Logging out
S: x1 OK LOGOUT completed
S: <closed>
