# COPY, MOVE, UID COPY, UID MOVE (RFC 9051 6.4.7, 6.4.8; RFC 4315 COPYUID;
# RFC 6851): flags travel with the messages, COPYUID pairs source and
# destination UIDs in order, MOVE sends its COPYUID untagged and then the
# EXPUNGEs, a missing target is [TRYCREATE], EXAMINE allows COPY only.
% user alice
% deliver alice
| Subject: one
|
| 1
% deliver alice
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
C: a2 ENABLE IMAP4rev2
S: * ENABLED IMAP4rev2
S: a2 OK ...
C: a3 CREATE Dst
S: a3 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: a4 SELECT INBOX
S~: a4 OK [READ-WRITE] SELECT completed
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 EXAMINE INBOX
S2~: b2 OK [READ-ONLY] EXAMINE completed
C: a5 STORE 1 +FLAGS.SILENT (\Flagged $Label)
S~: a5 OK STORE completed
C: a6 COPY 1:2 Dst
S: a6 OK [COPYUID {{uv:\d+}} 1:2 1:2] COPY completed
C: a7 COPY 3 Nowhere
S: a7 NO [TRYCREATE] No such mailbox
C: a8 UID COPY 99 Dst
S: a8 OK UID COPY completed
C: a9 UID MOVE 2 Dst
S: * OK [COPYUID ${uv} 2 3] Moved
S: * 2 EXPUNGE
S: a9 OK UID MOVE completed
C: a10 MOVE 1:2 Dst
S: * OK [COPYUID ${uv} 1,3 4:5] Moved
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: a10 OK MOVE completed
C: a11 FETCH 1 FLAGS
S: a11 BAD Invalid message sequence number
# The examining session learns of the expunges at its next command.
C2: b3 NOOP
S2: * 3 EXPUNGE
S2: * 2 EXPUNGE
S2: * 1 EXPUNGE
S2: b3 OK NOOP completed
C: a12 SELECT Dst
S~: a12 OK [READ-WRITE] SELECT completed
C: a13 FETCH 1:5 (FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])
S: * 1 FETCH (FLAGS (\Flagged $Label) BODY[HEADER.FIELDS (SUBJECT)] {16}
S: Subject: one
S: 
S: )
S: * 2 FETCH (FLAGS () BODY[HEADER.FIELDS (SUBJECT)] {16}
S: Subject: two
S: 
S: )
S: * 3 FETCH (FLAGS () BODY[HEADER.FIELDS (SUBJECT)] {16}
S: Subject: two
S: 
S: )
S: * 4 FETCH (FLAGS (\Flagged $Label) BODY[HEADER.FIELDS (SUBJECT)] {16}
S: Subject: one
S: 
S: )
S: * 5 FETCH (FLAGS () BODY[HEADER.FIELDS (SUBJECT)] {18}
S: Subject: three
S: 
S: )
S: a13 OK FETCH completed
# A move within the mailbox gives the message a new UID.
C: a14 MOVE 1 Dst
S: * OK [COPYUID ${uv} 1 6] Moved
S: * 1 EXPUNGE
S: * 5 EXISTS
S: a14 OK MOVE completed
C: a15 UID FETCH 6 (FLAGS)
S: * 5 FETCH (UID 6 FLAGS (\Flagged $Label))
S: a15 OK UID FETCH completed
C: a16 COPY 1:* INBOX
S: a16 OK [COPYUID {{inbox:\d+}} 2:6 4:8] COPY completed
C: a17 COPY 1
S: a17 BAD Usage: COPY sequence-set mailbox
C: a18 MOVE 9 INBOX
S: a18 BAD Invalid message sequence number
C: a19 MOVE 1 Nowhere
S: a19 NO [TRYCREATE] No such mailbox
C: a20 COPY 1 (INBOX)
S: a20 BAD Mailbox name expected
# EXAMINE: COPY out is fine, MOVE is not.
C2: b4 EXAMINE Dst
S2~: b4 OK [READ-ONLY] EXAMINE completed
C2: b5 MOVE 1 INBOX
S2: b5 NO [CANNOT] Mailbox is read-only
C2: b6 COPY 1 INBOX
S2: b6 OK [COPYUID ${inbox} 2 9] COPY completed
