# RFC 9051 7.5.1: no EXPUNGE while answering FETCH, STORE or SEARCH by
# sequence number; their UID forms and NOOP may report it. Meanwhile the
# numbers keep their meaning. Unsolicited FETCH responses carry UID and
# FLAGS, and MODSEQ once CONDSTORE is on (manual, "Messages").
% user alice
% deliver alice
| Subject: one
|
| 1
% deliver alice --flag \Deleted
| Subject: two
|
| 2
% deliver alice
| Subject: three
|
| 3

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
S2: * OK ...
C2: b1 LOGIN alice secret
S2: b1 OK ...
C2: b2 ENABLE CONDSTORE
S2: * ENABLED CONDSTORE
S2: b2 OK ENABLE completed
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C2: b3 SELECT INBOX
S2~: * 3 EXISTS
S2~: * OK [HIGHESTMODSEQ {{\d+}}] Highest
S2: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S2: b3 OK [READ-WRITE] SELECT completed
C: a3 EXPUNGE
S: * 2 EXPUNGE
S: a3 OK EXPUNGE completed
C2: b4 SEARCH ALL
S2: * SEARCH 1 2 3
S2: b4 OK SEARCH completed
C2: b5 FETCH 3 UID
S2: * 3 FETCH (UID 3)
S2: b5 OK FETCH completed
C: a4 STORE 1 +FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Flagged \Recent))
S: a4 OK STORE completed
C2: b6 STORE 3 +FLAGS.SILENT (\Seen)
S2: * 3 FETCH (...MODSEQ ({{\d+}}))
S2: * 1 FETCH (UID 1 FLAGS (\Flagged) MODSEQ ({{m1:\d+}}))
S2: b6 OK STORE completed
C2: b7 UID FETCH 3 FLAGS
S2: * 3 FETCH (UID 3 FLAGS (\Seen))
S2: * 2 EXPUNGE
S2: b7 OK UID FETCH completed
C2: b8 NOOP
S2: b8 OK NOOP completed
C2: b9 FETCH 2 UID
S2: * 2 FETCH (UID 3)
S2: b9 OK FETCH completed
# a hears of b's change (it had not enabled CONDSTORE: no MODSEQ); a
# claimed \Recent at SELECT.
C: a5 NOOP
S: * 2 FETCH (UID 3 FLAGS (\Seen \Recent))
S: a5 OK NOOP completed
# A flag change a STORE reported itself is not repeated later.
C: a6 STORE 2 -FLAGS (\Seen)
S: * 2 FETCH (FLAGS (\Recent))
S: a6 OK STORE completed
C: a7 NOOP
S: a7 OK NOOP completed
