# FETCH data items (RFC 9051 6.4.5, 7.5.2): FLAGS, INTERNALDATE,
# RFC822.SIZE, UID, ENVELOPE, BODY, BODYSTRUCTURE and the macros ALL, FAST
# and FULL, in a fixed order (UID first); UID FETCH always sends UID.
% user alice
% deliver alice
| From: Alice <alice@example.org>
| To: Bob <bob@example.org>
| Subject: Hello world
| Date: Tue, 1 Feb 1994 23:30:00 -0800
| Message-ID: <m1@example.org>
|
| Hello Bob.
| Second line.

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C: a3 FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE)
S: * 1 FETCH (FLAGS (\Recent) INTERNALDATE "{{[ 0-9][0-9]-[A-Z][a-z][a-z]-[0-9]+ [0-9][0-9]:[0-9][0-9]:[0-9][0-9] [+-][0-9]+}}" RFC822.SIZE 178)
S: a3 OK FETCH completed
C: a4 FETCH 1 FAST
S: * 1 FETCH (FLAGS (\Recent) INTERNALDATE "..." RFC822.SIZE 178)
S: a4 OK FETCH completed
C: a5 FETCH 1 ALL
S: * 1 FETCH (FLAGS (\Recent) INTERNALDATE "..." RFC822.SIZE 178 ENVELOPE ("Tue, 1 Feb 1994 23:30:00 -0800" "Hello world" (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Alice" NIL "alice" "example.org")) (("Bob" NIL "bob" "example.org")) NIL NIL NIL "<m1@example.org>"))
S: a5 OK FETCH completed
C: a6 FETCH 1 FULL
S: * 1 FETCH (FLAGS (\Recent) INTERNALDATE "..." RFC822.SIZE 178 ENVELOPE (...) BODY ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 26 2))
S: a6 OK FETCH completed
C: a7 fetch 1 (bodystructure uid)
S: * 1 FETCH (UID 1 BODYSTRUCTURE ("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 26 2 NIL NIL NIL NIL))
S: a7 OK FETCH completed
C: a8 UID FETCH 1:* (FLAGS)
S: * 1 FETCH (UID 1 FLAGS (\Recent))
S: a8 OK UID FETCH completed
C: a9 UID FETCH 1 UID
S: * 1 FETCH (UID 1)
S: a9 OK UID FETCH completed
# Asking twice for an item gives it once.
C: a10 FETCH 1 (UID FLAGS UID)
S: * 1 FETCH (UID 1 FLAGS (\Recent))
S: a10 OK FETCH completed
# IMAP4rev2 has no \Recent.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 ENABLE IMAP4rev2
S2: * ENABLED IMAP4rev2
S2: b2 OK ...
C2: b3 EXAMINE INBOX
S2~: b3 OK [READ-ONLY] EXAMINE completed
C2: b4 FETCH 1 (FLAGS RFC822.SIZE)
S2: * 1 FETCH (FLAGS () RFC822.SIZE 178)
S2: b4 OK FETCH completed
