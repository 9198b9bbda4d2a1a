# XVANQUISH (manual): expunges a UID set at once, \Deleted or not, with
# the usual EXPUNGE (or VANISHED) reports; XYZZY answers in any state.
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
C: x1 XYZZY
S: * OK Nothing happens.
S: x1 OK XYZZY completed
C: x2 XYZZY now
S: x2 BAD XYZZY takes no arguments
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 XVANQUISH 1
S: a2 BAD XVANQUISH is not valid in this state
C: a3 SELECT INBOX
S~: a3 OK [READ-WRITE] SELECT completed
C: a4 XVANQUISH 1,3
S: * 3 EXPUNGE
S: * 1 EXPUNGE
S: a4 OK XVANQUISH completed
C: a5 XVANQUISH 99
S: a5 OK XVANQUISH completed
C: a6 XVANQUISH
S: a6 BAD Usage: XVANQUISH uid-set
C: a7 XVANQUISH 1:x
S: a7 BAD Invalid sequence set
C: a8 FETCH 1:* (UID)
S: * 1 FETCH (UID 2)
S: a8 OK FETCH completed
C: a9 EXAMINE INBOX
S~: a9 OK [READ-ONLY] EXAMINE completed
C: b1 XVANQUISH 2
S: b1 NO [CANNOT] Mailbox is read-only
