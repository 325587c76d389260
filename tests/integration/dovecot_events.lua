-- dovecot_events.lua - Dovecot's own record of what happened in the store,
-- for msgeventd's differential test (tests/integration/test_differential.py).
--
-- Loaded by Dovecot's push-notification plugin with its Lua driver
-- (plugins mail_lua, notify, push_notification, push_notification_lua;
-- push_notification_driver = lua:file=THIS FILE).  The driver calls
--
--   dovecot_lua_notify_begin_txn(user)            -> a context table
--   dovecot_lua_notify_event_<name>(ctx, event)   per event, <name> being
--       the event's CamelCase name in snake case (MessageAppend ->
--       message_append, MailboxUnsubscribe -> mailbox_unsubscribe)
--   dovecot_lua_notify_end_txn(ctx, success)
--
-- and only for the events this script defines a function for.  Each
-- event becomes one JSON object on one line appended to the file named
-- by the plugin setting msgeventd_push_lua_file (harness.Dovecot sets
-- it), written with a single write() on an O_APPEND descriptor so that
-- concurrent IMAP and LMTP processes do not interleave lines.  Event
-- names are Dovecot's (RFC 5423's, except "MailboxUnsubscribe"):
--
--   {"event": "MessageAppend", "user": "alice", "service": "imap",
--    "pid": 1234, "mailbox": "INBOX", "uidvalidity": 1700000000,
--    "uid": 5, "flags": ["\\Seen"], "keywords": ["$Forwarded"],
--    "flags_old": [...], "keywords_old": [...], "mailbox_old": "Old",
--    "message_id": "<...>", "subject": "..."}
--
-- Keys whose value Dovecot does not give for that event are left out.
-- What Dovecot 2.3.19 gives, per event:
--   Mailbox{Create,Delete,Subscribe,Unsubscribe}: mailbox (UTF-8 name)
--   MailboxRename: mailbox (new), mailbox_old
--   MessageAppend, MessageNew: mailbox, uid_validity, uid, flags,
--       keywords, message_id, subject (and from, to, date, snippet)
--   FlagsSet: the flags and keywords set; FlagsClear: those cleared,
--       plus flags_old, keywords_old
--   MessageExpunge, MessageRead, MessageTrash: mailbox, uid_validity, uid

local SETTING = "msgeventd_push_lua_file"

-- JSON -----------------------------------------------------------------

local function json_string(s)
  s = tostring(s)
  s = s:gsub('[%c"\\\127]', function(c)
    if c == '"' then return '\\"' end
    if c == '\\' then return '\\\\' end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function json_array(t)
  local parts = {}
  for _, v in ipairs(t) do
    parts[#parts + 1] = json_string(v)
  end
  return "[" .. table.concat(parts, ", ") .. "]"
end

local function json_number(n)
  if math.type and math.type(n) == "float" and n == math.floor(n) then
    return string.format("%d", math.floor(n))
  end
  return tostring(n)
end

-- Keys in a fixed order, so that the file reads the same every run.
local KEYS = {
  {"event", "s"}, {"user", "s"}, {"service", "s"}, {"pid", "n"},
  {"mailbox", "s"}, {"mailbox_old", "s"}, {"uidvalidity", "n"},
  {"uid", "n"}, {"flags", "a"}, {"keywords", "a"}, {"flags_old", "a"},
  {"keywords_old", "a"}, {"message_id", "s"}, {"subject", "s"},
}

local function encode(rec)
  local parts = {}
  for _, kt in ipairs(KEYS) do
    local k, t = kt[1], kt[2]
    local v = rec[k]
    if v ~= nil then
      local enc
      if t == "s" then
        enc = json_string(v)
      elseif t == "n" then
        enc = json_number(v)
      else
        enc = json_array(v)
      end
      parts[#parts + 1] = json_string(k) .. ": " .. enc
    end
  end
  return "{" .. table.concat(parts, ", ") .. "}\n"
end

-- Dovecot's process id, for telling sessions apart in a report.
local PID = nil
do
  local f = io.open("/proc/self/stat", "r")
  if f then
    local stat = f:read("*l")
    f:close()
    PID = tonumber(stat and stat:match("^(%d+)"))
  end
end

-- The callbacks -----------------------------------------------------------

function dovecot_lua_notify_begin_txn(user)
  local ok, path = pcall(function() return user:plugin_getenv(SETTING) end)
  if not ok or path == nil or path == "" then
    dovecot.i_error("dovecot_events.lua: plugin setting " .. SETTING ..
                    " is not set")
    path = nil
  end
  local service = nil
  pcall(function() service = user.service end)
  return {user = user.username, service = service, path = path}
end

local function record(ctx, name, event)
  if ctx.path == nil then return end
  local rec = {
    -- Dovecot's own name (event.name), e.g. "MailboxUnsubscribe"
    event = event.name or name,
    user = ctx.user,
    service = ctx.service,
    pid = PID,
    mailbox = event.mailbox,
    mailbox_old = event.mailbox_old,
    uidvalidity = event.uid_validity,
    uid = event.uid,
    flags = event.flags,
    keywords = event.keywords,
    flags_old = event.flags_old,
    keywords_old = event.keywords_old,
    message_id = event.message_id,
    subject = event.subject,
  }
  if rec.message_id == "" then rec.message_id = nil end
  local f, err = io.open(ctx.path, "a")
  if not f then
    dovecot.i_error("dovecot_events.lua: " .. tostring(err))
    return
  end
  -- One line, one write(): setvbuf "full" with a buffer larger than
  -- any line we write, then close() flushes it in one go.
  f:setvbuf("full", 65536)
  f:write(encode(rec))
  f:close()
end

function dovecot_lua_notify_event_message_new(ctx, event)
  record(ctx, "MessageNew", event)
end

function dovecot_lua_notify_event_message_append(ctx, event)
  record(ctx, "MessageAppend", event)
end

function dovecot_lua_notify_event_message_expunge(ctx, event)
  record(ctx, "MessageExpunge", event)
end

function dovecot_lua_notify_event_message_read(ctx, event)
  record(ctx, "MessageRead", event)
end

function dovecot_lua_notify_event_message_trash(ctx, event)
  record(ctx, "MessageTrash", event)
end

function dovecot_lua_notify_event_flags_set(ctx, event)
  record(ctx, "FlagsSet", event)
end

function dovecot_lua_notify_event_flags_clear(ctx, event)
  record(ctx, "FlagsClear", event)
end

function dovecot_lua_notify_event_mailbox_create(ctx, event)
  record(ctx, "MailboxCreate", event)
end

function dovecot_lua_notify_event_mailbox_delete(ctx, event)
  record(ctx, "MailboxDelete", event)
end

function dovecot_lua_notify_event_mailbox_rename(ctx, event)
  record(ctx, "MailboxRename", event)
end

function dovecot_lua_notify_event_mailbox_subscribe(ctx, event)
  record(ctx, "MailboxSubscribe", event)
end

function dovecot_lua_notify_event_mailbox_unsubscribe(ctx, event)
  record(ctx, "MailboxUnsubscribe", event)
end

function dovecot_lua_notify_end_txn(ctx, success)
end
