# msgeventd - one non-recursive GNU Makefile, no configure step.
#
#   make                          build build/msgeventd
#   make check                    install missing Debian packages, build, run every test
#   make SANITIZE=address,undefined check
#                                 the same under ASan+UBSan (in build-address-undefined/)
#   make demo                     a throwaway Dovecot, msgeventd in front, a scripted session
#   make bench                    throughput, latency, CPU and memory against HAProxy and direct
#   make fuzz                     libFuzzer targets (clang)
#   make clean

CC      ?= cc
SANITIZE ?=
PKGS    := openssl
VERSION := 0.1.0

comma := ,
ifeq ($(SANITIZE),)
BUILD   := build
SANFLAGS :=
else
BUILD   := build-$(subst $(comma),-,$(SANITIZE))
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
endif

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wformat=2
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP \
	   -DMSGEVENTD_VERSION='"$(VERSION)"'
LDFLAGS_ALL := $(SANFLAGS) $(LDFLAGS)

CMOCKA_CFLAGS := $(shell pkg-config --cflags cmocka 2>/dev/null)
CMOCKA_LIBS   := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)
# net-snmp, for outputs/out_snmp.c (Debian: libsnmp-dev).
SNMP_LIBS     := $(shell pkg-config --libs netsnmp 2>/dev/null || echo -lnetsnmp)
# OpenSSL 3, for proxy/tls.c (Debian: libssl-dev).
TLS_CFLAGS    := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
TLS_LIBS      := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto)
# PCRE2, for proxy/uidl_map.c: pop3-uidl-pattern (Debian: libpcre2-dev).
PCRE2_CFLAGS  := $(shell pkg-config --cflags libpcre2-8 2>/dev/null)
PCRE2_LIBS    := $(shell pkg-config --libs libpcre2-8 2>/dev/null || echo -lpcre2-8)

PARSER_SRC  := parser/msgevent.c parser/imap_parser.c parser/imap_infer.c \
	       parser/imap_seqmap.c parser/imap_set.c parser/imap_capa.c \
	       parser/imap_flags.c parser/imap_ask.c parser/imap_registry.c \
	       parser/imap_uidset.c parser/sbuf.c
# POP3 (issue 6): its parser and inference, linked into the proxy.
POP3_SRC    := parser/pop3_parser.c parser/pop3_infer.c
PARSER_SRC  += $(POP3_SRC)
OUTPUTS_SRC := outputs/out.c outputs/out_syslog.c outputs/out_snmp.c
PROXY_SRC   := proxy/config.c proxy/loop.c proxy/session.c proxy/diag.c \
	       proxy/tls.c proxy/uidl_map.c
MAIN_SRC    := proxy/main.c

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))

all: $(BUILD)/msgeventd

$(BUILD)/msgeventd: $(call obj,$(MAIN_SRC) $(PROXY_SRC) $(PARSER_SRC) $(OUTPUTS_SRC))
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(SNMP_LIBS) $(TLS_LIBS) $(PCRE2_LIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(if $(findstring tests/,$<),$(CMOCKA_CFLAGS)) $(if $(findstring tls,$<),$(TLS_CFLAGS)) $(if $(findstring uidl_map,$<),$(PCRE2_CFLAGS)) -c -o $@ $<

# Unit tests: one cmocka binary per module.  test_imap_parser links libc
# alone: needing more means the parser's boundary broke.
UNIT_TESTS := test_imap_parser test_imap_infer test_msgevent test_config \
	      test_loop test_out_syslog test_out test_imap_set test_imap_seqmap \
	      test_imap_flags test_imap_capa test_imap_ask test_imap_registry
# test_pop3_parser links libc alone too.
UNIT_TESTS += test_pop3_parser test_pop3_infer
# TLS (issue 5): proxy/tls.c with OpenSSL.
UNIT_TESTS += test_tls
$(BUILD)/tests/test_tls: $(call obj,tests/unit/test_tls.c proxy/tls.c proxy/config.c proxy/diag.c proxy/uidl_map.c)
$(BUILD)/tests/test_tls: EXTRA_LIBS := $(TLS_LIBS) $(PCRE2_LIBS)
# pop3-uidl-pattern (issue 6): proxy/uidl_map.c with PCRE2, read by config.c.
UNIT_TESTS += test_uidl_map
$(BUILD)/tests/test_uidl_map: $(call obj,tests/unit/test_uidl_map.c proxy/uidl_map.c)
$(BUILD)/tests/test_uidl_map $(BUILD)/tests/test_config: EXTRA_LIBS := $(PCRE2_LIBS)
$(BUILD)/tests/test_pop3_parser: $(call obj,tests/unit/test_pop3_parser.c parser/pop3_parser.c)
# pop3_infer tells its expunges to imap_registry; its tests pair it with imap_infer.
$(BUILD)/tests/test_pop3_infer: $(call obj,tests/unit/test_pop3_infer.c tests/unit/transcript.c $(PARSER_SRC))
$(BUILD)/tests/test_imap_parser: $(call obj,tests/unit/test_imap_parser.c parser/imap_parser.c)
$(BUILD)/tests/test_imap_infer: $(call obj,tests/unit/test_imap_infer.c tests/unit/transcript.c $(PARSER_SRC) outputs/out_syslog.c)
$(BUILD)/tests/test_msgevent: $(call obj,tests/unit/test_msgevent.c parser/msgevent.c)
$(BUILD)/tests/test_imap_set: $(call obj,tests/unit/test_imap_set.c parser/imap_set.c)
$(BUILD)/tests/test_imap_seqmap: $(call obj,tests/unit/test_imap_seqmap.c parser/imap_seqmap.c parser/imap_set.c)
$(BUILD)/tests/test_imap_flags: $(call obj,tests/unit/test_imap_flags.c parser/imap_flags.c parser/imap_set.c parser/imap_uidset.c parser/msgevent.c)
# The compact UID set (issue 3: events split, nothing dropped).
UNIT_TESTS += test_imap_uidset
$(BUILD)/tests/test_imap_uidset: $(call obj,tests/unit/test_imap_uidset.c parser/imap_uidset.c)
$(BUILD)/tests/test_imap_capa: $(call obj,tests/unit/test_imap_capa.c parser/imap_capa.c)
$(BUILD)/tests/test_imap_ask: $(call obj,tests/unit/test_imap_ask.c parser/imap_ask.c parser/imap_set.c)
$(BUILD)/tests/test_imap_registry: $(call obj,tests/unit/test_imap_registry.c parser/imap_registry.c)
$(BUILD)/tests/test_config: $(call obj,tests/unit/test_config.c proxy/config.c proxy/diag.c proxy/uidl_map.c)
$(BUILD)/tests/test_loop: $(call obj,tests/unit/test_loop.c proxy/loop.c)
$(BUILD)/tests/test_out_syslog: $(call obj,tests/unit/test_out_syslog.c outputs/out_syslog.c parser/msgevent.c)
# syslog over TLS: outputs/out.c uses proxy/tls.c (and OpenSSL).
$(BUILD)/tests/test_out: $(call obj,tests/unit/test_out.c $(OUTPUTS_SRC) parser/msgevent.c proxy/loop.c proxy/diag.c proxy/tls.c)
# SNMP (issue 4): outputs/out_snmp.c with net-snmp.
UNIT_TESTS += test_out_snmp
$(BUILD)/tests/test_out_snmp: $(call obj,tests/unit/test_out_snmp.c tests/unit/transcript.c $(OUTPUTS_SRC) $(PARSER_SRC) proxy/loop.c proxy/diag.c proxy/tls.c)
# Only these need net-snmp; the parser's tests must not.
$(BUILD)/tests/test_out $(BUILD)/tests/test_out_snmp: EXTRA_LIBS := $(SNMP_LIBS) $(TLS_LIBS)
$(addprefix $(BUILD)/tests/,$(UNIT_TESTS)): $(BUILD)/tests/%:
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^ $(EXTRA_LIBS) $(CMOCKA_LIBS)

# Replays tests/fuzz/corpus/ through the fuzz targets, built with gcc.
$(BUILD)/tests/fuzz_replay: $(call obj,tests/fuzz/fuzz_imap.c tests/fuzz/replay.c $(PARSER_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

$(BUILD)/tests/fuzz_ask_replay: $(call obj,tests/fuzz/fuzz_ask.c tests/fuzz/replay.c parser/imap_ask.c parser/imap_set.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

$(BUILD)/tests/fuzz_infer_replay: $(call obj,tests/fuzz/fuzz_infer.c tests/fuzz/replay.c tests/unit/transcript.c $(PARSER_SRC))
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS_ALL) -o $@ $^

unit: $(addprefix $(BUILD)/tests/,$(UNIT_TESTS)) $(BUILD)/tests/fuzz_replay \
	    $(BUILD)/tests/fuzz_ask_replay $(BUILD)/tests/fuzz_infer_replay
	@set -e; for t in $(UNIT_TESTS); do \
		echo "== $$t"; (cd tests/unit && ../../$(BUILD)/tests/$$t); done
	@echo "== fuzz corpus replay"; $(BUILD)/tests/fuzz_replay tests/fuzz/corpus
	@$(BUILD)/tests/fuzz_ask_replay tests/fuzz/corpus-ask
	@$(BUILD)/tests/fuzz_infer_replay tests/fuzz/corpus-infer

# test_mib.py asks test_out_snmp for the OIDs the C code sends.
integration: $(BUILD)/msgeventd $(BUILD)/tests/test_out_snmp
	MSGEVENTD=$(CURDIR)/$(BUILD)/msgeventd python3 tests/integration/run.py

deps:
	@scripts/install-deps.sh

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh $(BUILD)/msgeventd

bench: deps
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh $(BUILD)/msgeventd

fuzz:
	@mkdir -p build-fuzz
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_imap tests/fuzz/fuzz_imap.c $(PARSER_SRC)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_ask tests/fuzz/fuzz_ask.c parser/imap_ask.c \
		parser/imap_set.c
	build-fuzz/fuzz_imap -max_total_time=$${FUZZ_SECONDS:-60} \
		tests/fuzz/corpus
	build-fuzz/fuzz_ask -max_total_time=$${FUZZ_SECONDS:-60} \
		tests/fuzz/corpus-ask
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-o build-fuzz/fuzz_infer tests/fuzz/fuzz_infer.c \
		tests/unit/transcript.c $(PARSER_SRC)
	build-fuzz/fuzz_infer -max_total_time=$${FUZZ_SECONDS:-60} \
		tests/fuzz/corpus-infer

clean:
	rm -rf build build-* 

.PHONY: all unit integration deps check demo bench fuzz clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
