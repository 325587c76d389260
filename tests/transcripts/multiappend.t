# MULTIAPPEND (RFC 3502): one event per message, UIDs paired in order.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 APPEND Archive (\Seen) {3}
S: + OK
C: one (\Flagged \Seen) "01-Jan-2024 00:00:00 +0000" {5}
S: + OK
C: three {4}
S: + OK
C- four
C: 
S: b1 OK [APPENDUID 555 10:11,20] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=10 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=10 messageSize=3 flagNames=\Seen
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=11 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=11 messageSize=5 flagNames=\Flagged \Seen
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=20 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=20 messageSize=4
# fewer UIDs than messages: the rest go without
C: b2 APPEND Archive {1+}
C: a {1+}
C- b
C: 
S: b2 OK [APPENDUID 555 30] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=30 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=30 messageSize=1
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 messageSize=1
# a descending range
C: b3 APPEND Archive {1+}
C: a {1+}
C- b
C: 
S: b3 OK [APPENDUID 555 41:40] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=41 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=41 messageSize=1
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Archive;UIDVALIDITY=555/;UID=40 mailboxID=imap://alice@mail.example.net/Archive;UIDVALIDITY=555 uidset=40 messageSize=1
