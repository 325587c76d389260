# APPEND with LITERAL+ (RFC 7888) and literal8 (RFC 3516): no continuation.
C: a1 LOGIN alice secret
S: a1 OK [CAPABILITY IMAP4rev1 UIDPLUS MULTIAPPEND] Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 APPEND Drafts {12+}
C: Subject: x
C: 
S: b1 OK [APPENDUID 38505 3955] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3955 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3955 messageSize=12
C: b2 APPEND Drafts (\Draft) ~{6+}
C: binary
S: b2 OK [APPENDUID 38505 3956] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3956 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3956 messageSize=6 flagNames=\Draft
# RFC 6855 UTF8 (literal8)
C: b3 APPEND Drafts (\Seen) UTF8 (~{4+}
C- abcd)
C: 
S: b3 OK [APPENDUID 38505 3957] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3957 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3957 messageSize=4 flagNames=\Seen
# a zero-length message
C: b4 APPEND Drafts {0+}
C: 
S: b4 OK [APPENDUID 38505 3958] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3958 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3958 messageSize=0
# RFC 4469 CATENATE: the size is not known here
C: b5 APPEND Drafts (\Seen) CATENATE (URL "/Drafts;UIDVALIDITY=38505/;UID=3955" TEXT {3+}
C- abc)
C: 
S: b5 OK [APPENDUID 38505 3959] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3959 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3959 flagNames=\Seen
# the mailbox name itself a literal
C: b6 APPEND {6+}
C: Drafts {2+}
C: hi
S: b6 OK [APPENDUID 38505 3960] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505/;UID=3960 mailboxID=imap://alice@mail.example.net/Drafts;UIDVALIDITY=38505 uidset=3960 messageSize=2
