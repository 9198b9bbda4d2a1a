# XCRY (manual, "IMAP Characteristics": XCRY): offered after login only;
# GET-USER-CONFIG, SET-USER-CONFIG of key patterns and SMTP-OUT mailboxes,
# with every refusal; SMTP-OUT answers while no outbound SMTP exists.
% user xcry

S: * OK [CAPABILITY ...] sealmail ready
C: a0 CAPABILITY
S: * CAPABILITY {{(?!.*XCRY).*}}
S: a0 OK CAPABILITY completed
C: a1 XCRY GET-USER-CONFIG
S: a1 BAD XCRY is not valid in this state
C: a2 LOGIN xcry secret
S: a2 OK [CAPABILITY {{.* XCRY( .*)?}}] Logged in

# The defaults: Crymap 1.x settings first, in order, then SMTP-OUT's.
C: g1 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (INTERNAL-KEY-PATTERN EXTERNAL-KEY-PATTERN PASSWORD SMTP-OUT) "internal-%Y-%m" "external-%Y-%m" NIL SMTP-OUT-SAVE NIL SMTP-OUT-SUCCESS-RECEIPTS NIL SMTP-OUT-FAILURE-RECEIPTS "INBOX"
S: g1 OK XCRY GET-USER-CONFIG completed
C: g2 xcry get-user-config
S: * XCRY USER-CONFIG ...
S: g2 OK XCRY GET-USER-CONFIG completed
C: g3 XCRY GET-USER-CONFIG now
S: g3 BAD XCRY GET-USER-CONFIG takes no arguments

# Every change answers with the backup of the user.toml it replaced.
C: s1 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN "ikp-%Y" EXTERNAL-KEY-PATTERN "ekp-%Y-%W"
S: * XCRY BACKUP-FILE "tmp/config-backup-{{[0-9]{8}T[0-9]{6}Z(-[0-9]+)?}}.toml"
S: s1 OK XCRY SET-USER-CONFIG completed
C: s2 XCRY SET-USER-CONFIG SMTP-OUT-SAVE "Sent" SMTP-OUT-SUCCESS-RECEIPTS "Sent/Success" smtp-out-failure-receipts {12+}
C: Sent/Failure
S: * XCRY BACKUP-FILE ...
S: s2 OK XCRY SET-USER-CONFIG completed
C: g4 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (INTERNAL-KEY-PATTERN EXTERNAL-KEY-PATTERN PASSWORD SMTP-OUT) "ikp-%Y" "ekp-%Y-%W" NIL SMTP-OUT-SAVE "Sent" SMTP-OUT-SUCCESS-RECEIPTS "Sent/Success" SMTP-OUT-FAILURE-RECEIPTS "Sent/Failure"
S: g4 OK XCRY GET-USER-CONFIG completed
# NIL and "" clear a mailbox; failure receipts then go to INBOX (manual).
C: s3 XCRY SET-USER-CONFIG SMTP-OUT-SAVE NIL SMTP-OUT-SUCCESS-RECEIPTS "" SMTP-OUT-FAILURE-RECEIPTS NIL
S: * XCRY BACKUP-FILE ...
S: s3 OK XCRY SET-USER-CONFIG completed
C: g5 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (...) "ikp-%Y" "ekp-%Y-%W" NIL SMTP-OUT-SAVE NIL SMTP-OUT-SUCCESS-RECEIPTS NIL SMTP-OUT-FAILURE-RECEIPTS "INBOX"
S: g5 OK XCRY GET-USER-CONFIG completed
# An atom value is taken too (Crymap's own tests send one).
C: s4 XCRY SET-USER-CONFIG SMTP-OUT-SAVE Drafts INTERNAL-KEY-PATTERN "internal-%Y-%m-%d"
S: * XCRY BACKUP-FILE ...
S: s4 OK XCRY SET-USER-CONFIG completed
C: g6 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (...) "internal-%Y-%m-%d" "ekp-%Y-%W" NIL SMTP-OUT-SAVE "Drafts" SMTP-OUT-SUCCESS-RECEIPTS NIL SMTP-OUT-FAILURE-RECEIPTS "INBOX"
S: g6 OK XCRY GET-USER-CONFIG completed

# Invalid key patterns are refused with the reason, and change nothing.
C: p1 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN "../foo"
S: p1 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
C: p2 XCRY SET-USER-CONFIG EXTERNAL-KEY-PATTERN "foo%"
S: p2 NO [CANNOT] Invalid EXTERNAL-KEY-PATTERN: ...
C: p3 XCRY SET-USER-CONFIG EXTERNAL-KEY-PATTERN "external-%m"
S: p3 NO [CANNOT] Invalid EXTERNAL-KEY-PATTERN: ...
C: p4 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN "internal-%Y-%m-%d-%H"
S: p4 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
C: p5 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN ""
S: p5 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
C: p6 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN "internal-%Y-%m-%d-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
S: p6 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
C: p7 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN "in ternal-%Y"
S: p7 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
# A bad value anywhere refuses the whole command.
C: p8 XCRY SET-USER-CONFIG SMTP-OUT-SAVE "Archive" INTERNAL-KEY-PATTERN "x%"
S: p8 NO [CANNOT] Invalid INTERNAL-KEY-PATTERN: ...
C: m1 XCRY SET-USER-CONFIG SMTP-OUT-SAVE "a//b"
S: m1 NO [CANNOT] Invalid SMTP-OUT-SAVE: ...
C: m2 XCRY SET-USER-CONFIG SMTP-OUT-SUCCESS-RECEIPTS "Sent/%"
S: m2 NO [CANNOT] Invalid SMTP-OUT-SUCCESS-RECEIPTS: ...
# (a literal holding a TAB: no control characters in mailbox names)
C: m3 XCRY SET-USER-CONFIG SMTP-OUT-FAILURE-RECEIPTS {3+}
C: a	b
S: m3 NO [CANNOT] Invalid SMTP-OUT-FAILURE-RECEIPTS: ...
C: g7 XCRY GET-USER-CONFIG
S: * XCRY USER-CONFIG (...) "internal-%Y-%m-%d" "ekp-%Y-%W" NIL SMTP-OUT-SAVE "Drafts" SMTP-OUT-SUCCESS-RECEIPTS NIL SMTP-OUT-FAILURE-RECEIPTS "INBOX"
S: g7 OK XCRY GET-USER-CONFIG completed

# What the grammar refuses is BAD.
C: b1 XCRY SET-USER-CONFIG
S: b1 BAD Usage: XCRY SET-USER-CONFIG key value [key value ...]
C: b2 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN
S: b2 BAD Usage: XCRY SET-USER-CONFIG key value [key value ...]
C: b3 XCRY SET-USER-CONFIG COLOUR "blue"
S: b3 BAD Unknown setting: ...
C: b4 XCRY SET-USER-CONFIG "INTERNAL-KEY-PATTERN" "internal-%Y"
S: b4 BAD Unknown setting: ...
C: b5 XCRY SET-USER-CONFIG SMTP-OUT-SAVE "a" smtp-out-save "b"
S: b5 BAD A setting was given twice
C: b6 XCRY SET-USER-CONFIG INTERNAL-KEY-PATTERN NIL
S: b6 BAD Key patterns and the password cannot be NIL
C: b7 XCRY SET-USER-CONFIG PASSWORD NIL
S: b7 BAD Key patterns and the password cannot be NIL
C: b8 XCRY SET-USER-CONFIG SMTP-OUT-SAVE ("Sent")
S: b8 BAD Setting values are strings or NIL
C: b9 XCRY SET-USER-CONFIG PASSWORD ""
S: b9 NO [CANNOT] Invalid PASSWORD: the password must be 1 to 1024 bytes

# The subcommand table.
C: x1 XCRY
S: x1 BAD Usage: XCRY PURGE | GET-USER-CONFIG | SET-USER-CONFIG key value ... | SMTP-OUT ...
C: x2 XCRY FROBNICATE
S: x2 BAD Unknown XCRY subcommand FROBNICATE
C: x3 XCRY "PURGE"
S: x3 BAD Usage: ...

# SMTP-OUT: no outbound SMTP yet, so no TLS requirements and no spool.
C: o1 XCRY SMTP-OUT FOREIGN-TLS LIST
S: o1 OK XCRY SMTP-OUT FOREIGN-TLS LIST completed
C: o2 XCRY SMTP-OUT FOREIGN-TLS DELETE example.com "insecure.example.net"
S: o2 OK XCRY SMTP-OUT FOREIGN-TLS DELETE completed
C: o3 XCRY SMTP-OUT FOREIGN-TLS DELETE
S: o3 BAD Usage: XCRY SMTP-OUT FOREIGN-TLS LIST | DELETE domain...
C: o4 XCRY SMTP-OUT FOREIGN-TLS DELETE example.com (x)
S: o4 BAD Domain names are strings of 1 to 255 bytes
C: o5 XCRY SMTP-OUT FOREIGN-TLS LIST x
S: o5 BAD Usage: XCRY SMTP-OUT FOREIGN-TLS LIST | DELETE domain...
C: o6 XCRY SMTP-OUT SPOOL EXECUTE 0123456789abcdef
S: o6 NO [NONEXISTENT] No such spooled message: this server sends no outbound mail yet
C: o7 XCRY SMTP-OUT SPOOL EXECUTE
S: o7 BAD Usage: XCRY SMTP-OUT SPOOL EXECUTE message-id
C: o8 XCRY SMTP-OUT SPOOL LIST
S: o8 BAD Usage: XCRY SMTP-OUT SPOOL EXECUTE message-id
C: o9 XCRY SMTP-OUT
S: o9 BAD Usage: XCRY SMTP-OUT FOREIGN-TLS ... | SPOOL EXECUTE id
C: o10 XCRY SMTP-OUT TELEPORT
S: o10 BAD Usage: XCRY SMTP-OUT FOREIGN-TLS ... | SPOOL EXECUTE id

# PURGE needs a selected mailbox (xcry-purge.t does the rest).
C: u1 XCRY PURGE
S: u1 BAD XCRY PURGE needs a selected mailbox
C: z1 LOGOUT
S: * BYE ...
S: z1 OK LOGOUT completed
