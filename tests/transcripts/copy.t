# COPY and UID COPY (RFC 9051 6.4.7, RFC 4315 COPYUID): one MessageAppend
# in the destination per command, with the destination's UIDVALIDITY and
# the new UIDs (canonical) when the server sent COPYUID.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * 4 EXISTS
S: * OK [UIDVALIDITY 1] Ok
S: b1 OK [READ-WRITE] Ok
C: c1 COPY 2:4 Archive
S: c1 OK [COPYUID 38505 304,319:320 3956,3958:3957] Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=38505 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=38505 uidset=3956:3958
# one message: uri names it
C: c2 UID COPY 305 "Sent Items"
S: c2 OK [COPYUID 38505 305 4000] Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Sent%20Items;UIDVALIDITY=38505/;UID=4000 mailboxID=imap://alice@mail.example.net/Sent%20Items;UIDVALIDITY=38505 uidset=4000
# the destination as a literal; a server without UIDPLUS (the
# capabilities it lists now lack it: an OK without COPYUID may have
# copied, see copy-empty.t)
C: c2b CAPABILITY
S: * CAPABILITY IMAP4rev1 MOVE
S: c2b OK Capability completed.
C: c3 COPY 1 {9}
S: + OK
C: Caf&AOk-s
S: c3 OK Copy completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Caf%C3%A9s mailboxID=imap://alice@mail.example.net/Caf%C3%A9s
# refused: no event
C: c4 COPY 1:2 Nope
S: c4 NO [TRYCREATE] Mailbox doesn't exist: Nope
E: -
C: c5 UID COPY 1:* Nope
S: c5 BAD Error in IMAP command
E: -
# COPY does not change the source: no MessageExpunge
C: c6 COPY 1 INBOX
S: * 5 EXISTS
S: c6 OK [COPYUID 1 7 9] Done
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=9
