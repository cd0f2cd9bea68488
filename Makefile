# mockcloud -- plain Makefile. `make run` and `make test` work on a fresh
# Debian 12: missing packages are installed by scripts/install-deps (as root or
# through sudo), or the exact command to run is printed.

CC      ?= cc
PKGS    := libevent libcjson libcrypto libssh
PREFIX  ?= /usr/local
LISTEN  ?= 127.0.0.1:8080
PROFILE ?= conformant

WARN    := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra -Werror -Wshadow \
           -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wno-format-truncation -Wundef
SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

LIBSRC  := $(filter-out mockcloud/main.c,$(wildcard mockcloud/*.c))
TESTSRC := $(wildcard tests/unit/*.c tests/http/*.c tests/support/*.c)
HDRS    := $(wildcard mockcloud/*.h tests/support/*.h)

DEPS_OK := build/.deps-ok

.PHONY: all run test asan check install clean deps bench conformance profiles-readme clients
all: bin/mockcloud

$(DEPS_OK): scripts/install-deps
	@scripts/install-deps --check-or-install
	@mkdir -p build && touch $@

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CRIT_LIBS  = $(shell pkg-config --libs criterion 2>/dev/null)

build/release/%.o: %.c $(HDRS) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) -O2 -g $(PKG_CFLAGS) -Imockcloud -Itests/support -c -o $@ $<

build/asan/%.o: %.c $(HDRS) | $(DEPS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(SAN) -O1 -g $(PKG_CFLAGS) -Imockcloud -Itests/support -c -o $@ $<

bin/mockcloud: $(LIBSRC:%.c=build/release/%.o) build/release/mockcloud/main.o
	@mkdir -p bin
	$(CC) -o $@ $^ $(PKG_LIBS)

build/release/mockcloud-tests: $(LIBSRC:%.c=build/release/%.o) $(TESTSRC:%.c=build/release/%.o)
	$(CC) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS)

build/asan/mockcloud-tests: $(LIBSRC:%.c=build/asan/%.o) $(TESTSRC:%.c=build/asan/%.o)
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS) $(CRIT_LIBS)

# The server under ASan+UBSan, for running real clients against it.
bin/mockcloud-asan: $(LIBSRC:%.c=build/asan/%.o) build/asan/mockcloud/main.o
	@mkdir -p bin
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

run: bin/mockcloud
	./bin/mockcloud --listen $(LISTEN) --profile $(PROFILE) --fixtures fixtures --profiles profiles

# Every test: unit and HTTP (Criterion, one binary), the profile files, the
# source checks.
test: build/release/mockcloud-tests bin/mockcloud
	@scripts/checksrc.sh
	@scripts/checkdocs.sh bin/mockcloud
	MOCKCLOUD_TOP=$(CURDIR) build/release/mockcloud-tests --jobs 2 2>&1 | tail -n 40; \
	  exit $${PIPESTATUS[0]}
	@if [ -x /usr/bin/python3 ]; then /usr/bin/python3 tests/cloudinit/test_cloudinit.py bin/mockcloud | \
	  grep -v '^  ok '; exit $${PIPESTATUS[0]}; else echo "SKIP: cloud-init test (no /usr/bin/python3)"; fi
	@if command -v go >/dev/null 2>&1; then scripts/client-gophercloud | grep -v ' OK ('; exit $${PIPESTATUS[0]}; \
	  else echo "SKIP: gophercloud client test (no Go: apt-get install golang-go golang-github-gophercloud-gophercloud-dev golang-github-gophercloud-utils-dev)"; fi

SHELL := /bin/bash

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: build/asan/mockcloud-tests
	MOCKCLOUD_TOP=$(CURDIR) ASAN_OPTIONS=detect_leaks=1 build/asan/mockcloud-tests --jobs 2 2>build/asan.log; \
	  rc=$$?; tail -n 20 build/asan.log; \
	  if grep -q 'ERROR: \(Address\|LeakSanitizer\|UndefinedBehavior\)\|runtime error:' build/asan.log; then \
	    echo "sanitizer errors: see build/asan.log"; exit 1; fi; exit $$rc

check: test asan

install: bin/mockcloud
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/mockcloud/profiles $(DESTDIR)$(PREFIX)/share/mockcloud/fixtures
	install -m 755 bin/mockcloud $(DESTDIR)$(PREFIX)/bin/mockcloud
	install -m 644 profiles/*.json $(DESTDIR)$(PREFIX)/share/mockcloud/profiles/
	install -d $(DESTDIR)$(PREFIX)/share/mockcloud/profiles/catalogue
	install -m 644 profiles/catalogue/*.json $(DESTDIR)$(PREFIX)/share/mockcloud/profiles/catalogue/
	install -m 644 fixtures/*.json $(DESTDIR)$(PREFIX)/share/mockcloud/fixtures/

# profiles/README.md is generated from the profile files (checked by make test).
profiles-readme: bin/mockcloud
	bin/mockcloud profiles --markdown --profiles profiles > profiles/README.md

deps:
	scripts/install-deps --check-or-install

bench: bin/mockcloud
	scripts/bench

# Tempest's interop tests against every profile and deviation (needs the
# Debian package tempest); CONFORMANCE_ARGS="--components identity" etc.
conformance: bin/mockcloud
	scripts/conformance $(CONFORMANCE_ARGS)

# The openstack CLI and openstacksdk, unchanged, against a fresh mockcloud
# (scripts/client-sweep, tests/clients/sweep.py); CLIENTS_ARGS="--profile X" etc.
clients: bin/mockcloud
	scripts/client-sweep $(CLIENTS_ARGS)

clean:
	rm -rf build bin
