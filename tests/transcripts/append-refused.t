# The server refuses the synchronizing literal: NO instead of "+".
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: r1 APPEND NoSuchBox {20}
S: r1 NO [TRYCREATE] Mailbox doesn't exist: NoSuchBox
E: -
# the client sends its next command, not the body
C: r2 APPEND INBOX {4}
S: + OK
C: Hi
C: 
S: r2 OK [APPENDUID 1 7] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1 uidset=7 messageSize=4
# a refused {0} literal
C: r3 APPEND NoSuchBox {0}
S: r3 NO [TRYCREATE] Mailbox doesn't exist: NoSuchBox
C: r4 CREATE Box
S: r4 OK Create completed.
E: MailboxCreate user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Box mailboxID=imap://alice@mail.example.net/Box
# the second message of a MULTIAPPEND refused
C: r5 APPEND INBOX {2}
S: + OK
C: ab {9999999}
S: r5 NO [TOOBIG] Too big
C: r6 DELETE Box
S: r6 OK Delete completed.
E: MailboxDelete user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Box mailboxID=imap://alice@mail.example.net/Box
