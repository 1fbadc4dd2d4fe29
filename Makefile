# mod_rswebsocket: `make run` builds the module and serves the examples on
# loopback; `make test` runs every test. Both install what they need first.

PORT     ?= 8080
TLS_PORT ?= 8443
MPM      ?= event
RUN_DIR  ?= target/run
MODULE   := target/release/mod_rswebsocket.so
APXS     ?= apxs

# Debian/Ubuntu packages the build needs, and those the tests need besides
# (a browser for the console page's test; Python's venv and Node for the
# interop clients: nodejs and npm only where no npm is on the PATH, since
# other Node packages, such as NodeSource's, conflict with Debian's npm).
PACKAGES      := apache2 apache2-dev libclang-dev openssl libssl-dev pkg-config perl util-linux
TEST_PACKAGES := chromium procps redis-server python3-venv $(if $(shell command -v npm),,nodejs npm)

# The interop tests' clients (tests/interop.rs), pinned and kept under
# target/. websockets 16 is the newest that runs on Python 3.10 (Ubuntu 22.04).
WEBSOCKETS_VERSION := 16.0
# Python h2 for tests/http2.rs (WebSockets over HTTP/2, raw frames); 4.4 needs Python 3.10.
H2_VERSION         := 4.4.1
NODE_WS_VERSION    := 8.23.0
INTEROP_VENV       := target/interop-venv
INTEROP_NODE       := target/interop-node

# Handler files `make install` puts in place: the others (bench,
# abort_handshake, internal_error, origin_check) are for `make run` and tests.
INSTALL_HANDLERS := echo echo_noext close chat
HANDLER_DIR      ?= /etc/apache2/rswebsocket-handlers
SITE_DIR         ?= /usr/share/rswebsocket/site
# What plugins are built against: the Rust SDK crate and the C header.
SDK_DIR          ?= /usr/share/rswebsocket/sdk
INCLUDE_DIR      ?= /usr/share/rswebsocket/include

# `make run` keeps every connection in one Apache child (threaded MPMs), so
# chat reaches every page; prefork has one process per connection anyway.
define RUN_EXTRA
<IfModule !mpm_prefork_module>
    StartServers 1
    ServerLimit 1
    ThreadsPerChild 64
    MaxRequestWorkers 64
    MinSpareThreads 1
    MaxSpareThreads 128
</IfModule>
endef
export RUN_EXTRA

.PHONY: all deps test-deps test-packages build install run start stop test unit-test integration-test integration-test-threaded integration-test-event conformance-quick conformance lint fuzz clean bench c-plugin-example test-plugins plugin-example

all: build

# $(call apt_install,PACKAGES): installs the missing ones (Debian/Ubuntu), as
# root or through sudo.
define apt_install
	@missing=""; for p in $(1); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if ! command -v apt-get >/dev/null; then echo "please install:$$missing" >&2; exit 1; fi; \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo=sudo; \
	    echo "installing:$$missing"; \
	    $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(PACKAGES))

test-deps: test-packages $(INTEROP_VENV)/websockets-$(WEBSOCKETS_VERSION) $(INTEROP_VENV)/h2-$(H2_VERSION) $(INTEROP_NODE)/ws-$(NODE_WS_VERSION)

test-packages:
	$(call apt_install,$(TEST_PACKAGES))

# Python websockets in a venv and Node's ws, for tests/interop.rs. The
# marker file names the pinned version, so a new pin reinstalls.
$(INTEROP_VENV)/websockets-$(WEBSOCKETS_VERSION): | test-packages
	rm -rf $(INTEROP_VENV)
	python3 -m venv $(INTEROP_VENV)
	$(INTEROP_VENV)/bin/pip install -q websockets==$(WEBSOCKETS_VERSION)
	touch $@

# h2 in the same venv: remade after the venv is (rm -rf takes its marker).
$(INTEROP_VENV)/h2-$(H2_VERSION): $(INTEROP_VENV)/websockets-$(WEBSOCKETS_VERSION)
	rm -f $(INTEROP_VENV)/h2-*
	$(INTEROP_VENV)/bin/pip install -q h2==$(H2_VERSION)
	touch $@

$(INTEROP_NODE)/ws-$(NODE_WS_VERSION): | test-packages
	rm -rf $(INTEROP_NODE)
	npm install --prefix $(INTEROP_NODE) --no-audit --no-fund --loglevel=error ws@$(NODE_WS_VERSION)
	touch $@

build: deps
	cargo build --release
	# A new file, then a rename: a running httpd keeps its mapped copy intact.
	# The new file's name is this make's own, so two builds at once (make
	# bench beside make test) cannot move each other's file away.
	cp target/release/libmod_rswebsocket.so $(MODULE).$$$$.new && mv -f $(MODULE).$$$$.new $(MODULE)

# Into an existing Apache: module to its module dir, config to mods-available
# (Debian) or conf.d, example handler files to $(HANDLER_DIR), the console
# page to $(SITE_DIR) (apache-conf/example-site.conf serves it).
install: build
	install -m 644 $(MODULE) "$$($(APXS) -q LIBEXECDIR)/mod_rswebsocket.so"
	confdir="$$($(APXS) -q SYSCONFDIR)"; \
	if [ -d "$$confdir/mods-available" ]; then \
	    install -m 644 apache-conf/rswebsocket.load apache-conf/rswebsocket.conf "$$confdir/mods-available/"; \
	    sed -i "s|/usr/lib/apache2/modules|$$($(APXS) -q LIBEXECDIR)|" "$$confdir/mods-available/rswebsocket.load"; \
	    echo "enable with: a2enmod rswebsocket && apachectl graceful"; \
	else \
	    mkdir -p "$$confdir/conf.d"; \
	    { sed "s|/usr/lib/apache2/modules|$$($(APXS) -q LIBEXECDIR)|" apache-conf/rswebsocket.load; cat apache-conf/rswebsocket.conf; } > "$$confdir/conf.d/rswebsocket.conf"; \
	fi
	install -d $(HANDLER_DIR) $(SITE_DIR)
	for h in $(INSTALL_HANDLERS); do install -m 644 apache-conf/handlers/$${h}_wsh.conf $(HANDLER_DIR)/ || exit 1; done
	install -m 644 apache-conf/site/console.html $(SITE_DIR)/
	rm -rf $(SDK_DIR) && install -d $(SDK_DIR)/src $(INCLUDE_DIR)
	install -m 644 crates/sdk/Cargo.toml $(SDK_DIR)/
	install -m 644 crates/sdk/src/*.rs $(SDK_DIR)/src/
	install -m 644 include/rswebsocket_plugin.h $(INCLUDE_DIR)/

$(RUN_DIR)/httpd.conf: build apache-conf/httpd.conf.in apache-conf/render-conf.sh
	PORT=$(PORT) TLS_PORT=$(TLS_PORT) MPM=$(MPM) MODULE=$(CURDIR)/$(MODULE) EXTRA="$$RUN_EXTRA" \
	    apache-conf/render-conf.sh $(RUN_DIR) >/dev/null

# Foreground: Ctrl-C stops Apache.
run: $(RUN_DIR)/httpd.conf
	@echo "serving ws://127.0.0.1:$(PORT)/echo and wss://127.0.0.1:$(TLS_PORT)/echo (console: http://127.0.0.1:$(PORT)/console.html); Ctrl-C stops"
	@echo "logs: $(RUN_DIR)/error.log $(RUN_DIR)/access.log"
	apache2 -f $(CURDIR)/$(RUN_DIR)/httpd.conf -DFOREGROUND

start: $(RUN_DIR)/httpd.conf
	apache2 -f $(CURDIR)/$(RUN_DIR)/httpd.conf -k start
	@for i in $$(seq 50); do [ -s $(RUN_DIR)/httpd.pid ] && break; sleep 0.1; done
	@echo "started: ws://127.0.0.1:$(PORT)/echo wss://127.0.0.1:$(TLS_PORT)/echo (make stop to stop)"

stop:
	@if [ -s $(RUN_DIR)/httpd.pid ]; then apache2 -f $(CURDIR)/$(RUN_DIR)/httpd.conf -k stop; \
	    for i in $$(seq 100); do [ -e $(RUN_DIR)/httpd.pid ] || break; sleep 0.1; done; echo stopped; \
	else echo "not running"; fi

test: build test-deps lint unit-test integration-test conformance-quick

unit-test:
	cargo test --workspace --exclude mod_rswebsocket

# Real httpd (event, worker, prefork) with the release module, real clients,
# and headless Chromium on the console page; twice: with `WebSocketDriver
# threaded` in every server the tests start, then with the default driver
# (event where the MPM can park; tests/common/driver.rs).
# `make integration-test-threaded` or `make integration-test-event` runs one pass.
integration-test: integration-test-threaded integration-test-event

integration-test-threaded: build test-deps test-plugins
	RSWEBSOCKET_TEST_DRIVER=threaded RSWEBSOCKET_MODULE=$(CURDIR)/$(MODULE) cargo test -p mod_rswebsocket --tests

integration-test-event: build test-deps test-plugins
	RSWEBSOCKET_TEST_DRIVER=event RSWEBSOCKET_MODULE=$(CURDIR)/$(MODULE) cargo test -p mod_rswebsocket --tests

# The C example plugin (examples/c-plugin): the header alone, no Rust.
c-plugin-example:
	mkdir -p target/examples
	cc -shared -fPIC -O2 -Wall -Wextra -Iinclude -o target/examples/libc_echo_plugin.so examples/c-plugin/echo_plugin.c -lpthread

# The plugins tests/plugins.rs loads: its Rust fixture (tests/plugins/fixture,
# a project of its own), the Rust example and the C example.
test-plugins: plugin-example c-plugin-example
	cargo build --release --manifest-path tests/plugins/fixture/Cargo.toml --target-dir target/examples

# Autobahn|Testsuite (tests/autobahn, needs a Python 2.7): every
# non-compression case, the first compression group of 12 and 13,
# over ws and 1-7 over wss, about a minute; part of `make test`. Without a
# Python 2.7 it prints one CONFORMANCE SKIPPED line and passes, so the other
# tests decide; CONFORMANCE_OPTIONAL=0 (CI) makes that a failure.
AUTOBAHN_CORE := 1.*,2.*,3.*,4.*,5.*,6.*,7.*,9.*,10.*,11.*,12.1.*,13.1.*
CONFORMANCE_OPTIONAL ?= 1
conformance-quick: build
	CONFORMANCE_OPTIONAL=$(CONFORMANCE_OPTIONAL) tests/conformance.sh '$(AUTOBAHN_CORE)' '1.*,2.*,3.*,4.*,5.*,6.*,7.*'

# The full suite, compression (12.x, 13.x) included: about 25 minutes.
# Fails without a Python 2.7.
conformance: build
	CONFORMANCE_OPTIONAL=0 tests/conformance.sh '*' '1.*,2.*,3.*,4.*,5.*,6.*,7.*'

# The module against Apache + mod_proxy_wstunnel + tokio-tungstenite and
# tokio-tungstenite alone, on loopback, and its compiled-in echo against
# the example plugins' (bench/plugin-rows.sh); prints tables (bench/run.sh).
bench: build plugin-example c-plugin-example $(INTEROP_VENV)/h2-$(H2_VERSION)
	cargo build --release -p loadgen
	bench/run.sh $(MODULE) target/release/wsload target/release/wsecho

# The plugin projects are not in the workspace (each is a project of its
# own, as a user's would be): linted one by one.
PLUGIN_PROJECTS := examples/plugin tests/plugins/fixture
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	for p in $(PLUGIN_PROJECTS); do \
	    cargo fmt --manifest-path $$p/Cargo.toml -- --check && \
	    cargo clippy --manifest-path $$p/Cargo.toml --target-dir target/examples -- -D warnings || exit 1; \
	done

# The example plugin (examples/plugin, its own Cargo project):
# target/examples/release/libexample_plugin.so.
plugin-example:
	cargo build --release --manifest-path examples/plugin/Cargo.toml --target-dir target/examples

# Each fuzz target in fuzz/fuzz_targets/ for FUZZ_SECONDS, one after the
# other. cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP lets stable
# build it. New inputs go to fuzz/target/corpus (the committed seeds stay
# as they are); a failing input lands in fuzz/artifacts/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(basename $(notdir $(wildcard fuzz/fuzz_targets/*.rs)))

fuzz:
	command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	    mkdir -p target/corpus/$$t && \
	    RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none $$t target/corpus/$$t corpus/$$t -- \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 || exit 1; \
	done

clean:
	cargo clean
