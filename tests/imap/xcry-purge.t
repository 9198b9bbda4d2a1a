# XCRY PURGE (manual: XCRY): the selected mailbox's expunged messages leave
# the disk now instead of 24 hours later, so a session that has not yet
# seen the expunge can no longer read them. A message another mailbox
# still holds (a COPY) stays, and so do messages expunged only from other
# mailboxes.
% user xpurge
% deliver xpurge
| Subject: one
|
| body one
% deliver xpurge
| Subject: two
|
| body two
% deliver xpurge
| Subject: three
|
| body three

S: * OK ...
C: a1 LOGIN xpurge secret
S: a1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C: a3 XCRY PURGE
S: a3 OK 0 messages purged
C: a4 XCRY PURGE now
S: a4 BAD XCRY PURGE takes no arguments

S2: * OK ...
C2: b1 LOGIN xpurge secret
S2: b1 OK ...
C2: b2 SELECT INBOX
S2~: b2 OK [READ-WRITE] SELECT completed

# Message 2 is copied away first, so only message 1 is gone everywhere.
C: c1 CREATE Keep
S: c1 OK ...
C: c2 COPY 2 Keep
S: c2 OK ...
C: c3 STORE 1:2 +FLAGS.SILENT (\Deleted)
S: c3 OK STORE completed
C: c4 EXPUNGE
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: c4 OK EXPUNGE completed

# Session 2 has not seen the expunge: message 1 is still readable to it.
C2: d1 FETCH 1 BODY.PEEK[TEXT]
S2: * 1 FETCH (BODY[TEXT] {10}
S2: body one
S2: )
S2: d1 OK FETCH completed

C: e1 XCRY PURGE
S: e1 OK 1 messages purged
C: e2 XCRY PURGE
S: e2 OK 0 messages purged

# Now it is gone for session 2 too; message 2 lives on in Keep.
C2: d2 FETCH 1 BODY.PEEK[TEXT]
S2: d2 NO [EXPUNGEISSUED] Some messages were expunged
C2: d3 FETCH 2 BODY.PEEK[TEXT]
S2: * 2 FETCH (BODY[TEXT] {10}
S2: body two
S2: )
S2: d3 OK FETCH completed
C2: d4 NOOP
S2: * 2 EXPUNGE
S2: * 1 EXPUNGE
S2: d4 OK NOOP completed

# A message is purged through any mailbox it was expunged from, once no
# mailbox holds it; one only ever in Keep waits for Keep's purge. EXAMINE
# may purge too (nothing visible changes).
C: f0 APPEND Keep {12+}
C: Subject: k
C: 
S: f0 OK [APPENDUID ...] APPEND completed
C: f1 SELECT Keep
S~: f1 OK [READ-WRITE] SELECT completed
C: f2 STORE 1:2 +FLAGS.SILENT (\Deleted)
S: f2 OK STORE completed
C: f3 EXPUNGE
S: * 2 EXPUNGE
S: * 1 EXPUNGE
S: f3 OK EXPUNGE completed
C: f4 EXAMINE INBOX
S~: f4 OK [READ-ONLY] EXAMINE completed
C: f5 XCRY PURGE
S: f5 OK 1 messages purged
C: f6 EXAMINE Keep
S~: f6 OK [READ-ONLY] EXAMINE completed
C: f7 XCRY PURGE
S: f7 OK 1 messages purged
C: f8 XCRY PURGE
S: f8 OK 0 messages purged
C: f9 UNSELECT
S: f9 OK UNSELECT completed
C: g1 XCRY PURGE
S: g1 BAD XCRY PURGE needs a selected mailbox
