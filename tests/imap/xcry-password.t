# XCRY SET-USER-CONFIG PASSWORD (manual: XCRY; "Password Resets"): the new
# password works at once on a fresh connection and the old one no longer
# does, the session that changed it goes on, the mail stays readable (the
# master key never changes), and GET-USER-CONFIG dates the change.
% user xpw
% deliver xpw
| From: a@example.org
| To: xpw@example.org
| Subject: before the change
|
| still readable

S: * OK ...
C: a1 LOGIN xpw secret
S: a1 OK ...
C: g1 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (...) "internal-%Y-%m" "external-%Y-%m" NIL SMTP-OUT-SAVE ...
S: g1 OK XCRY GET-USER-CONFIG completed
# A password with spaces and quotes, as a quoted string, with a setting.
C: p1 XCRY SET-USER-CONFIG PASSWORD "new \"pass\" word" SMTP-OUT-SAVE "Sent"
S: * XCRY BACKUP-FILE "tmp/config-backup-{{[0-9]{8}T[0-9]{6}Z(-[0-9]+)?}}.toml"
S: p1 OK XCRY SET-USER-CONFIG completed
C: g2 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (...) "internal-%Y-%m" "external-%Y-%m" "{{[ 0-9][0-9]-[A-Z][a-z]{2}-[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} \+0000}}" SMTP-OUT-SAVE "Sent" ...
S: g2 OK XCRY GET-USER-CONFIG completed
# This session goes on (manual: existing sessions are not ended).
C: f1 SELECT INBOX
S~: f1 OK [READ-WRITE] SELECT completed
C: f2 FETCH 1 BODY.PEEK[TEXT]
S: * 1 FETCH (BODY[TEXT] {16}
S: still readable
S: )
S: f2 OK FETCH completed

# A fresh connection: the old password fails, the new one works.
S2: * OK ...
C2: b1 LOGIN xpw secret
S2: b1 NO [AUTHENTICATIONFAILED] Authentication failed
C2: b2 LOGIN xpw "new \"pass\" word"
S2: b2 OK ...
C2: b3 SELECT INBOX
S2~: b3 OK [READ-WRITE] SELECT completed
C2: b4 FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]
S2: * 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {30}
S2: Subject: before the change
S2: 
S2: )
S2: b4 OK FETCH completed
# Changed again from there, as a literal holding 8-bit text.
C2: b5 XCRY SET-USER-CONFIG PASSWORD {10+}
C2: pässwörd
S2: * XCRY BACKUP-FILE ...
S2: b5 OK XCRY SET-USER-CONFIG completed

S3: * OK ...
C3: c1 LOGIN xpw "new \"pass\" word"
S3: c1 NO [AUTHENTICATIONFAILED] Authentication failed
C3: c2 LOGIN xpw {10+}
C3: pässwörd
S3: c2 OK ...
C3: c3 LOGOUT
S3: * BYE ...
S3: c3 OK LOGOUT completed
