# APPEND with flags, date and a synchronizing literal; APPENDUID (RFC 4315).
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 APPEND INBOX (\Seen \Recent $Label1) "14-Jul-2023 02:44:25 -0700" {21}
E: -
S: + Ready for literal data
C: Subject: hi
C: 
C: body
C: 
E: -
S: b1 OK [APPENDUID 1700000000 4] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000/;UID=4 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=1700000000 uidset=4 messageSize=21 flagNames=\Seen $Label1
