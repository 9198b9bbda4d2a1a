# ESEARCH (RFC 4731) and SEARCHRES (RFC 5182): RETURN (MIN MAX COUNT ALL
# SAVE), RETURN () meaning ALL, empty results, "$" in SEARCH, FETCH,
# STORE and COPY, SAVE with MIN or MAX saving only those, a failed SAVE
# emptying "$"; IMAP4rev2 clients always get ESEARCH.
% user alice
% deliver alice --flag \Seen
| Subject: m1
|
| one
% deliver alice
| Subject: m2
|
| two
% deliver alice
| Subject: m3
|
| three
% deliver alice
| Subject: m4
|
| four
% deliver alice
| Subject: m5
|
| five

S: * OK ...
C: a1 LOGIN alice secret
S: a1 OK ...
C: a2 SELECT INBOX
S~: a2 OK [READ-WRITE] SELECT completed
C: c1 SEARCH RETURN (MIN MAX COUNT ALL) UNSEEN
S: * ESEARCH (TAG "c1") MIN 2 MAX 5 COUNT 4 ALL 2:5
S: c1 OK SEARCH completed
C: c2 UID SEARCH RETURN (COUNT) ALL
S: * ESEARCH (TAG "c2") UID COUNT 5
S: c2 OK UID SEARCH completed
C: c3 SEARCH RETURN () SEEN
S: * ESEARCH (TAG "c3") ALL 1
S: c3 OK SEARCH completed
C: c4 SEARCH RETURN (MIN MAX ALL) SUBJECT nothing
S: * ESEARCH (TAG "c4")
S: c4 OK SEARCH completed
C: c5 SEARCH RETURN (ALL) OR 1 OR 3 5
S: * ESEARCH (TAG "c5") ALL 1,3,5
S: c5 OK SEARCH completed
# SAVE alone answers nothing but the tagged OK.
C: s1 SEARCH RETURN (SAVE) OR SUBJECT m2 SUBJECT m4
S: s1 OK SEARCH completed
C: s2 FETCH $ (UID)
S: * 2 FETCH (UID 2)
S: * 4 FETCH (UID 4)
S: s2 OK FETCH completed
C: s3 SEARCH RETURN (SAVE MIN) UNSEEN
S: * ESEARCH (TAG "s3") MIN 2
S: s3 OK SEARCH completed
C: s4 SEARCH $
S: * SEARCH 2
S: s4 OK SEARCH completed
C: s5 SEARCH RETURN (SAVE MAX MIN) UNSEEN
S: * ESEARCH (TAG "s5") MIN 2 MAX 5
S: s5 OK SEARCH completed
C: s6 UID SEARCH UID $
S: * SEARCH 2 5
S: s6 OK UID SEARCH completed
C: s7 SEARCH RETURN (SAVE COUNT) OR 1 5
S: * ESEARCH (TAG "s7") COUNT 2
S: s7 OK SEARCH completed
C: s8 STORE $ +FLAGS (\Flagged)
S: * 1 FETCH (FLAGS (\Flagged \Seen \Recent))
S: * 5 FETCH (FLAGS (\Flagged \Recent))
S: s8 OK STORE completed
C: s9 COPY $ Archive
S: s9 OK [COPYUID {{\d+}} 1,5 1:2] COPY completed
C: s10 SEARCH $ UNSEEN
S: * SEARCH 5
S: s10 OK SEARCH completed
# After a failed SEARCH with SAVE, "$" is empty.
C: s11 SEARCH RETURN (SAVE) FROB
S: s11 BAD Unknown search key
C: s12 FETCH $ UID
S: s12 OK FETCH completed
C: s13 SEARCH RETURN (FOO) ALL
S: s13 BAD Unknown RETURN option
C: s14 SEARCH RETURN MIN ALL
S: s14 BAD RETURN needs a list of options
# Expunged messages drop out of "$".
C: s15 SEARCH RETURN (SAVE) 4:5
S: s15 OK SEARCH completed
C: s16 STORE 5 +FLAGS.SILENT (\Deleted)
S: s16 OK STORE completed
C: s17 EXPUNGE
S: * 5 EXPUNGE
S: s17 OK EXPUNGE completed
C: s18 FETCH $ UID
S: * 4 FETCH (UID 4)
S: s18 OK FETCH completed
# IMAP4rev2: ESEARCH for every SEARCH.
C2: b1 LOGIN alice secret
S2: * OK ...
S2: b1 OK ...
C2: b2 ENABLE IMAP4rev2
S2: * ENABLED IMAP4rev2
S2: b2 OK ...
C2: b3 EXAMINE INBOX
S2~: b3 OK [READ-ONLY] EXAMINE completed
C2: b4 SEARCH UNSEEN
S2: * ESEARCH (TAG "b4") ALL 2:4
S2: b4 OK SEARCH completed
C2: b5 UID SEARCH FLAGGED
S2: * ESEARCH (TAG "b5") UID ALL 1
S2: b5 OK UID SEARCH completed
C2: b6 SEARCH DELETED
S2: * ESEARCH (TAG "b6")
S2: b6 OK SEARCH completed
C2: b7 SEARCH RETURN (COUNT) ALL
S2: * ESEARCH (TAG "b7") COUNT 4
S2: b7 OK SEARCH completed
