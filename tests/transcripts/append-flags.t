# APPEND's flagNames go through the flags module (RFC 9051 2.3.2: flags
# compare without regard to case): each flag once, as first spelt;
# system flags first, as RFC 9051 spells them; never \Recent (RFC 5423
# 5).  Keywords of one message do not carry over to the next.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 APPEND INBOX (Work work \seen todo \Recent \SEEN) {5+}
C: hello (\Draft Todo) {5+}
C: world
S: b1 OK [APPENDUID 3 7:8] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=7 messageSize=5 flagNames=\Seen Work todo
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=8 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=8 messageSize=5 flagNames=\Draft Todo
# \Recent alone: no flagNames
C: b2 APPEND INBOX (\Recent) {5+}
C: hello
S: b2 OK [APPENDUID 3 9] Append completed.
E: MessageAppend user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=9 messageSize=5
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
