# QRESYNC (RFC 7162 3.2): ENABLE QRESYNC, VANISHED instead of EXPUNGE,
# the UID in every FETCH, SELECT (QRESYNC ...) with VANISHED (EARLIER) and
# the flags changed since, limited by known UIDs, ignored for another
# UIDVALIDITY; UID FETCH (CHANGEDSINCE n VANISHED); bad parameters.
% user alice
% deliver alice
| Subject: m1
|
| body 1
% deliver alice
| Subject: m2
|
| body 2
% deliver alice
| Subject: m3
|
| body 3
% deliver alice
| Subject: m4
|
| body 4
% deliver alice
| Subject: m5
|
| body 5
% deliver alice
| Subject: m6
|
| body 6

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 ENABLE QRESYNC
S: * ENABLED QRESYNC
S: a2 OK ENABLE completed
C: a3 SELECT INBOX
S~: * OK [UIDVALIDITY {{uv:\d+}}] UIDs valid
S: * OK [UIDNEXT 7] Predicted next UID
S: * OK [HIGHESTMODSEQ {{m0:\d+}}] Highest
S: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S: a3 OK [READ-WRITE] SELECT completed
# Another session changes flags and expunges.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 SELECT INBOX
S2~: b2 OK [READ-WRITE] SELECT completed
C2: b3 STORE 2,5 +FLAGS.SILENT (\Flagged $Work)
S2: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S2: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S2: b3 OK STORE completed
C2: b4 STORE 3:4 +FLAGS.SILENT (\Deleted)
S2: b4 OK STORE completed
C2: b5 EXPUNGE
S2: * 4 EXPUNGE
S2: * 3 EXPUNGE
S2: b5 OK EXPUNGE completed
# The QRESYNC session hears of them: FETCH with UID and MODSEQ, VANISHED.
C: a4 NOOP
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft $Work \*)] Flags permitted
S: * 2 FETCH (UID 2 FLAGS (\Flagged \Recent $Work) MODSEQ ({{m1:\d+}}))
S: * 5 FETCH (UID 5 FLAGS (\Flagged \Recent $Work) MODSEQ (${m1}))
S: * VANISHED 3:4
S: a4 OK NOOP completed
# Its own STORE and EXPUNGE: UID in the FETCH, VANISHED, HIGHESTMODSEQ.
C: a5 STORE 1 +FLAGS.SILENT (\Deleted)
S: * 1 FETCH (UID 1 MODSEQ ({{m2:\d+}}))
S: a5 OK STORE completed
C: a6 FETCH 2 (FLAGS)
S: * 2 FETCH (UID 2 FLAGS (\Flagged \Recent $Work))
S: a6 OK FETCH completed
C: a7 EXPUNGE
S: * VANISHED 1
S: a7 OK [HIGHESTMODSEQ {{m3:\d+}}] EXPUNGE completed
# UID FETCH with CHANGEDSINCE and VANISHED (RFC 7162 3.2.6).
C: a8 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)
S: * VANISHED (EARLIER) 1,3:4
S: * 1 FETCH (UID 2 FLAGS (\Flagged \Recent $Work) MODSEQ (${m1}))
S: * 2 FETCH (UID 5 FLAGS (\Flagged \Recent $Work) MODSEQ (${m1}))
S: a8 OK UID FETCH completed
C: a9 FETCH 1:* (FLAGS) (CHANGEDSINCE ${m0} VANISHED)
S: a9 BAD {{.*}}
# A client that was away since m0 resynchronises in one SELECT.
C3: c1 LOGIN alice secret
S3: * OK ...
S3: c1 OK ...
C3: c2 SELECT INBOX (QRESYNC (${uv} ${m0}))
S3: c2 BAD QRESYNC must be enabled first
C3: c3 ENABLE QRESYNC
S3: * ENABLED QRESYNC
S3: c3 OK ENABLE completed
C3: c4 EXAMINE INBOX (QRESYNC (${uv} ${m0}))
S3~: * OK [HIGHESTMODSEQ ${m3}] Highest
S3: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S3: * VANISHED (EARLIER) 1,3:4
S3: * 1 FETCH (UID 2 FLAGS (\Flagged $Work) MODSEQ (${m1}))
S3: * 2 FETCH (UID 5 FLAGS (\Flagged $Work) MODSEQ (${m1}))
S3: c4 OK [READ-ONLY] EXAMINE completed
# Known UIDs limit the report; sequence match data is accepted.
C3: c5 EXAMINE INBOX (QRESYNC (${uv} ${m0} 2:4 (1:3 2:4)))
S3: * OK [CLOSED] Previous mailbox closed
S3~: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S3: * VANISHED (EARLIER) 3:4
S3: * 1 FETCH (UID 2 FLAGS (\Flagged $Work) MODSEQ (${m1}))
S3: c5 OK [READ-ONLY] EXAMINE completed
# Up to date: nothing to report.
C3: c6 EXAMINE INBOX (QRESYNC (${uv} ${m3}))
S3: * OK [CLOSED] Previous mailbox closed
S3~: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S3: c6 OK [READ-ONLY] EXAMINE completed
# Another UIDVALIDITY: the client must resynchronise fully, nothing extra.
C3: c7 EXAMINE INBOX (QRESYNC (1 ${m0}))
S3: * OK [CLOSED] Previous mailbox closed
S3~: * OK [MAILBOXID ({{I[0-9a-f]+}})] Mailbox id
S3: c7 OK [READ-ONLY] EXAMINE completed
C3: c8 EXAMINE INBOX (QRESYNC (${uv}))
S3: c8 BAD Usage: EXAMINE mailbox [(CONDSTORE)] [(QRESYNC (uidvalidity modseq [known-uids]))]
C3: c9 EXAMINE INBOX (QRESYNC (0 5))
S3: c9 BAD Usage: ...
C3: c10 EXAMINE INBOX (QRESYNC (${uv} 5 1:x))
S3: c10 BAD Usage: ...
C3: c11 EXAMINE INBOX (QRESYNC (${uv} 5 1:4 (1:2)))
S3: c11 BAD Usage: ...
C3: c12 EXAMINE INBOX (QRESYNC (${uv} 5) QRESYNC (${uv} 5))
S3: c12 BAD Usage: ...
