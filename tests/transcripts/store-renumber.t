# Sequence numbers shift with every EXPUNGE (RFC 9051 7.5.1); flags are
# kept by UID, so a STORE by sequence number after the renumbering finds
# the right message.  A UID STORE names UIDs: only those of messages
# that exist count, "*" is the highest UID in use.
C: a1 LOGIN alice secret
S: a1 OK Logged in
E: Login user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/
C: b1 SELECT INBOX
S: * FLAGS (\Answered \Flagged \Deleted \Seen \Draft)
S: * OK [PERMANENTFLAGS (\Answered \Flagged \Deleted \Seen \Draft \*)] Flags permitted.
S: * 4 EXISTS
S: * OK [UIDVALIDITY 3] UIDs valid
S: * OK [UIDNEXT 10] Predicted next UID
S: b1 OK [READ-WRITE] Select completed.
C: b2 UID FETCH 1:* (FLAGS)
S: * 1 FETCH (UID 3 FLAGS ())
S: * 2 FETCH (UID 5 FLAGS (\Deleted))
S: * 3 FETCH (UID 7 FLAGS ())
S: * 4 FETCH (UID 9 FLAGS (\Seen))
S: b2 OK Fetch completed.
C: b3 EXPUNGE
S: * 2 EXPUNGE
S: b3 OK Expunge completed.
E: MessageExpunge user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=5 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=5 uidnext=10 messages=3
# message 2 is now UID 7
C: b4 STORE 2 +FLAGS.SILENT (\Flagged)
S: b4 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=7 flagNames=\Flagged
# UID 5 is gone, UIDs 1, 2, 4, 6, 8 never were: 1:* is 3, 7, 9
C: b5 UID STORE 1:* +FLAGS.SILENT (\Answered)
S: b5 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=3,7,9 flagNames=\Answered
C: b6 UID STORE 6:* -FLAGS.SILENT (\Answered)
S: b6 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=7,9 flagNames=\Answered
# "*" alone is the last message
C: b7 UID STORE * +FLAGS.SILENT (\Draft)
S: b7 OK Store completed.
E: FlagsSet user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=9 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=9 flagNames=\Draft
# a UID no message has: nothing, and nothing unknown
C: b8 UID STORE 4 +FLAGS (\Seen)
S: b8 OK Store completed.
E: -
# Expunged by someone else (told in a NOOP), then a STORE by sequence
# number: message 1 is UID 7 now
C: b9 NOOP
S: * 1 EXPUNGE
S: b9 OK NOOP completed.
E: MessageExpunge user=alice serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=3 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=3 uidnext=10 messages=2 vnd.msgeventd.cause=external
C: c1 STORE 1 -FLAGS (\Flagged)
S: * 1 FETCH (FLAGS ())
S: c1 OK Store completed.
E: FlagsClear user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net uri=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3/;UID=7 mailboxID=imap://alice@mail.example.net/INBOX;UIDVALIDITY=3 uidset=7 flagNames=\Flagged
C: z LOGOUT
S: * BYE Logging out
S: z OK Logout completed.
E: Logout user=alice clientIP=192.0.2.1 clientPort=50000 service=imap serverFQDN=imap1.example.net serverDomain=mail.example.net serverPort=143 uri=imap://alice@mail.example.net/ vnd.msgeventd.reason=graceful vnd.msgeventd.duration=*
