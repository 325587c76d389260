# COPY and MOVE of a UID set that names no message: OK, nothing copied
# (RFC 9051 6.4.9; Dovecot answers "OK No messages found", without
# COPYUID).  No event: neither an empty MessageAppend nor an empty
# MessageExpunge.  A server that announced UIDPLUS (or IMAP4rev2)
# returns COPYUID for what it copies (RFC 4315 3); a MOVE announces its
# removals (RFC 6851 4.3).
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 2 EXISTS
S: * OK [UIDVALIDITY 42] Ok
S: b1 OK [READ-WRITE] Ok
C: b2 FETCH 1:2 (UID)
S: * 1 FETCH (UID 7)
S: * 2 FETCH (UID 8)
S: b2 OK Fetch completed.
C: b3 UID COPY 100:200 Archive
S: b3 OK No messages found.
E: -
C: b4 UID MOVE 100:200 Archive
S: b4 OK No messages found.
E: -
# another session's removal announced meanwhile, outside the set:
# still nothing moved (the removal is reported as another's)
C: b5 UID MOVE 100:200 Archive
S: * 2 EXPUNGE
S: b5 OK No messages found.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=8 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=8 messages=1 vnd.msgeventd.cause=external
# a copy that copied: COPYUID
C: b6 UID COPY 7 Archive
S: b6 OK [COPYUID 9 7 3] Copy completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=9/;UID=3 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=9 uidset=3
# the capabilities may come in a CAPABILITY response; IMAP4rev2 has
# UIDPLUS in it
C: c1 CAPABILITY
S: * CAPABILITY IMAP4rev2 MOVE
S: c1 OK Capability completed.
C: c2 UID COPY 100:200 Archive
S: c2 OK No messages found.
E: -
# a server without UIDPLUS: a COPY's OK does not say whether it
# copied, and is reported without UIDs
C: d1 CAPABILITY
S: * CAPABILITY IMAP4rev1 MOVE
S: d1 OK Capability completed.
C: d2 UID COPY 100:200 Archive
S: d2 OK Copy completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive mailboxID=imap://alice@mail.example.net/Archive
# a MOVE that announced no removal moved nothing, UIDPLUS or not
C: d3 UID MOVE 100:200 Archive
S: d3 OK Move completed.
E: -
C: d4 MOVE 1 Archive
S: * 1 EXPUNGE
S: d4 OK Move completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive mailboxID=imap://alice@mail.example.net/Archive
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=42 uidset=7 messages=0
