# Two sessions of one user (RFC 9051 5.2, 7.5.1): new mail, expunges and
# mailbox changes made by one are told to the other at its next command,
# and a selected mailbox deleted or renamed elsewhere ends the session
# (manual, "Mailboxes"). Its own DELETE or RENAME only closes it.
% user alice
% deliver alice --flag \Deleted
| Subject: one
|
| 1
% deliver alice
| Subject: two
|
| 2

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
S2: * OK ...
C2: b1 LOGIN alice secret
S2: b1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C2: b2 SELECT INBOX
S2~: * 2 EXISTS
S2~: b2 OK [READ-WRITE] SELECT completed
! deliver alice
| Subject: three
|
| 3
# Both hear of the delivery; only one gets it as \Recent.
C: a3 NOOP
S: * 3 EXISTS
S: * 3 RECENT
S: a3 OK NOOP completed
C2: b3 NOOP
S2: * 3 EXISTS
S2: * 0 RECENT
S2: b3 OK NOOP completed
# a expunges; b hears it at its next command, with the right number.
C: a4 EXPUNGE
S: * 1 EXPUNGE
S: a4 OK EXPUNGE completed
C2: b4 CHECK
S2: * 1 EXPUNGE
S2: b4 OK CHECK completed
C2: b5 STATUS INBOX (MESSAGES)
S2: * STATUS INBOX (MESSAGES 2)
S2: b5 OK STATUS completed
# Mailbox changes: b's own RENAME of its selected mailbox closes it.
C2: b6 CREATE Box
S2: b6 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C2: b7 SELECT Box
S2~: b7 OK [READ-WRITE] SELECT completed
C2: b8 RENAME Box Box2
S2: * OK [CLOSED] Selected mailbox is gone
S2: b8 OK RENAME completed
C2: b9 NOOP
S2: b9 OK NOOP completed
C2: b10 EXPUNGE
S2: b10 BAD EXPUNGE is not valid in this state
# ... while a's RENAME of b's selected mailbox ends b's session.
C2: b11 SELECT Box2
S2~: b11 OK [READ-WRITE] SELECT completed
C: a5 RENAME Box2 Box3
S: a5 OK RENAME completed
C2: b12 NOOP
S2: * BYE Selected mailbox was deleted or renamed
S2: <closed>
# Deleting it does the same to a third session.
S3: * OK ...
C3: c1 LOGIN alice secret
S3: c1 OK ...
C3: c2 SELECT Box3
S3~: c2 OK [READ-WRITE] SELECT completed
C: a6 DELETE Box3
S: a6 OK DELETE completed
C3: c3 IDLE
S3: + idling
S3: * BYE Selected mailbox was deleted or renamed
S3: <closed>
# a's own DELETE of its selected mailbox closes it.
C: a7 CREATE Box4
S: a7 OK [MAILBOXID ({{M[0-9a-f]+}})] CREATE completed
C: a8 SELECT Box4
S~: a8 OK [READ-WRITE] SELECT completed
C: a9 DELETE Box4
S: * OK [CLOSED] Selected mailbox is gone
S: a9 OK DELETE completed
# A session idling in INBOX hears of another's delivery and expunge.
C: a10 SELECT INBOX
S~: a10 OK [READ-WRITE] SELECT completed
S4: * OK ...
C4: d1 LOGIN alice secret
S4: d1 OK ...
C4: d2 SELECT INBOX
S4~: d2 OK [READ-WRITE] SELECT completed
C: a11 IDLE
S: + idling
! deliver alice --flag \Deleted
| Subject: four
|
| 4
S: * 3 EXISTS
S: * 1 RECENT
# d had not heard of message 3: its EXPUNGE leaves it, then tells d of
# it; the next EXPUNGE removes it.
C4: d3 EXPUNGE
S4: * 3 EXISTS
S4: * 0 RECENT
S4: d3 OK EXPUNGE completed
C4: d4 EXPUNGE
S4: * 3 EXPUNGE
S4: d4 OK EXPUNGE completed
S: * 3 EXPUNGE
C: DONE
S: a11 OK IDLE terminated
C: a12 LOGOUT
S: * BYE Logging out
S: a12 OK LOGOUT completed
