# FETCH errors: malformed item lists are BAD, sequence numbers past the
# mailbox are BAD, UIDs that do not exist are no error (RFC 9051 6.4.9),
# and FETCH needs a selected mailbox.
% user alice
% deliver alice
| Subject: one
|
| body one
% deliver alice
| Subject: two
|
| body two

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 FETCH 1 FLAGS
S: a2 BAD FETCH is not valid in this state
C: a3 SELECT INBOX
S~: a3 OK [READ-WRITE] SELECT completed
C: a4 FETCH 3 FLAGS
S: a4 BAD Invalid message sequence number
C: a5 FETCH 0 FLAGS
S: a5 BAD Invalid sequence set
C: a6 FETCH 1:* FROB
S: a6 BAD Unknown FETCH item
C: a7 FETCH 1 (FLAGS ALL)
S: a7 BAD Unknown FETCH item
C: a8 FETCH 1
S: a8 BAD Usage: FETCH sequence-set items
C: a9 FETCH 1 BODY[1.0]
S: a9 BAD Invalid section specifier
C: a10 FETCH 1 BODY[]<5.0>
S: a10 BAD Invalid partial range, expected <offset.length>
C: a11 FETCH 1 BODY[HEADER.FIELDS ()]
S: a11 BAD Invalid section specifier
C: a12 FETCH 1 (FLAGS) extra
S: a12 BAD Expected a list of FETCH modifiers
# MODSEQ turns CONDSTORE on (RFC 7162 3.1).
C: a13 FETCH 1 MODSEQ
S: * OK [HIGHESTMODSEQ {{\d+}}] Highest
S: * 1 FETCH (MODSEQ ({{\d+}}))
S: a13 OK FETCH completed
C: a14 FETCH 1 ()
S: a14 BAD Expected a FETCH item or a list of them
C: a15 UID FETCH 3:100 FLAGS
S: a15 OK UID FETCH completed
C: a16 UID FETCH 2:* UID
S: * 2 FETCH (UID 2)
S: a16 OK UID FETCH completed
C: a17 UID FETCH 50:* UID
S: * 2 FETCH (UID 2)
S: a17 OK UID FETCH completed
C: a18 FETCH 2:1 (UID)
S: * 1 FETCH (UID 1)
S: * 2 FETCH (UID 2)
S: a18 OK FETCH completed
C: a19 FETCH 1,2,1 (UID)
S: * 1 FETCH (UID 1)
S: * 2 FETCH (UID 2)
S: a19 OK FETCH completed
# "$" before any SEARCH SAVE is the empty set.
C: a20 FETCH $ (UID)
S: a20 OK FETCH completed
