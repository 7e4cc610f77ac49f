# imsid — the two commands a newcomer needs are `make demo` and `make test`.
SHELL     := /bin/bash
GO        ?= go
STATICCHECK_VERSION ?= v0.8.0
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Release builds leave net/http's HTTP/2 out (scripts/cross.sh says why);
# tests run without the tag.
TAGS      ?= nethttpomithttp2
PKGS      := ./...

.PHONY: all build test test-short lint vet fmt-check staticcheck interop fuzz clean demo readme-picture

all: build

build:
	@mkdir -p $(BIN)
	$(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# Everything, race detector on. Real-time waits exist only in e2e tests, with short timeouts.
# The deterministic simulation (switcher TestDST, 200 seeds of 2 h) runs in
# its own pass without the race detector, which would make it five times slower.
test:
	$(GO) test -race -count=1 -timeout 15m -skip '^TestDST$$' $(PKGS)
	$(GO) test -count=1 -timeout 15m -run '^TestDST$$' ./switcher -dst.seeds 200

# More seeds of the deterministic simulation: make dst SEEDS=10000 [FROM=1].
SEEDS ?= 1000
FROM  ?= 1
.PHONY: dst
dst:
	@mkdir -p dist/dst; start=$$(date +%s); \
	$(GO) test -count=1 -timeout 0 -run '^TestDST$$' -v ./switcher -dst.seeds $(SEEDS) -dst.from $(FROM) -dst.out $(CURDIR)/dist/dst \
		| grep -E '^(ok|FAIL|PASS)|seeds from|violations, first|shrunk from|known failing'; \
	rc=$${PIPESTATUS[0]}; echo "make dst: $(SEEDS) seeds in $$(( $$(date +%s) - start )) s (load $$(cut -d' ' -f1-3 /proc/loadavg))"; exit $$rc

test-short:
	$(GO) test -short -count=1 $(PKGS)

lint: vet fmt-check staticcheck

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

staticcheck:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

# Third-party clients against modemsim on a pty: warthog618's modeminfo
# (scripts/interop.sh), then Debian's ModemManager 1.20 (Quectel and Telit
# dialects, no-udev test mode) and gammu (identify, networkinfo, monitor 1
# on every dialect) in internal/interop. Those need root and the Debian
# packages (.ci/run installs them); without root they skip and say so.
interop: build
	./scripts/interop.sh
	IMSID_INTEROP=1 MODEMSIM=$(CURDIR)/$(BIN)/modemsim $(GO) test -count=1 -timeout 15m -v -run '^(TestModemManager|TestGammu)$$' ./internal/interop

# Every Fuzz target in the module, one after another, FUZZTIME each (default 10s).
FUZZTIME ?= 10s
fuzz:
	bash scripts/fuzz.sh $(FUZZTIME)

# Shipping and long-running checks (docs/shipping.md, docs/reliability.md).
.PHONY: soak cross package footprint loadtest
# A simulated day in SOAK_TIME (default 5m) with random faults and events;
# fails if heap, RSS or goroutines grow. `make test` runs a 15 s version.
SOAK_TIME ?= 5m
soak:
	$(GO) run ./internal/soak/cmd/soak -time $(SOAK_TIME)

# Static stripped binaries for linux amd64, arm (GOARM=7), arm64, mipsle into dist/.
# CUTS=0: no gateway cuts (docs/shipping.md, "What the gateway builds leave out").
CUTS ?= 1
cross:
	TAGS='$(TAGS)' CUTS='$(CUTS)' bash scripts/cross.sh $(VERSION)

# .deb and OpenWrt .ipk per architecture (nfpm) into dist/packages/.
package:
	bash scripts/package.sh $(VERSION)

# Idle RSS/CPU of imsid --simulate (FOOTPRINT_TIME, default 60s; signal_poll
# 5s, GOMAXPROCS=1 as on a single-core gateway), the binary sizes checked
# against their limits (imsid 10 MiB, imsictl 6 MiB on linux arm, arm64,
# mipsle), then the API load test with its peak RSS checked against
# FOOTPRINT_MAX_RSS MiB. Fails if any limit is exceeded, after running all.
FOOTPRINT_TIME ?= 60s
FOOTPRINT_MAX_RSS ?= 20
footprint: build cross
	@rc=0; \
	$(GO) run ./internal/soak/cmd/footprint -bin $(BIN)/imsid -time $(FOOTPRINT_TIME) || rc=1; \
	echo; $(GO) run ./internal/soak/cmd/loadtest -bin $(BIN)/imsid -max-rss $(FOOTPRINT_MAX_RSS) || rc=1; \
	[ $$rc -eq 0 ] || echo "footprint: a limit is exceeded (above)" >&2; exit $$rc

# Every simulator fault against the daemon in process (internal/soak); prints
# the recovery table of docs/reliability.md. About 13 min; make test runs a
# four-fault subset.
.PHONY: faultmatrix
faultmatrix:
	$(GO) run ./internal/soak/cmd/faultmatrix $(FAULTMATRIX_FLAGS)

# The same for the arm, arm64 and mipsle binaries under qemu-user emulation
# (apt-get install qemu-user first; not run in CI). FOOTPRINT_SECS per arch.
FOOTPRINT_SECS ?= 60
.PHONY: footprint-qemu
footprint-qemu: cross
	bash scripts/footprint-qemu.sh $(FOOTPRINT_SECS)

# GET /v1/status at 500/s over TCP for 30 s while forcing a switch every 3 s.
loadtest: build
	$(GO) run ./internal/soak/cmd/loadtest -bin $(BIN)/imsid

demo:
	@# A store day on the simulated modem in about 85 s (DEMO_FLAGS=--fast: 70 s; --json; --svg FILE).
	@mkdir -p $(BIN)
	$(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/imsid ./cmd/imsictl
	$(GO) run ./internal/demo/cmd/demo --bin $(BIN) $(DEMO_FLAGS)

# The README's picture: one run of make demo, recorded (docs/img/demo-timeline.json)
# and rendered (docs/img/demo-timeline.svg); TestREADMEPicture and TestDemoFast check them.
readme-picture:
	@mkdir -p $(BIN)
	$(GO) build -tags '$(TAGS)' -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/imsid ./cmd/imsictl
	$(GO) run ./internal/demo/cmd/demo --bin $(BIN) --quiet --record docs/img/demo-timeline.json --svg docs/img/demo-timeline.svg

clean:
	rm -rf $(BIN) dist

# Policy benchmark (internal/bench) against router, mwan3 and applet
# baselines at defaults and tuned, after the hot-path micro-benchmarks;
# rewrites docs/benchmarks.md, its run record docs/benchmarks.json,
# docs/img/bench-*.svg and README.md's generated block, and prints its wall
# time. `make test` runs the CI subset. BENCH_ONLY=name,... runs only those
# scenarios and writes nothing (a quick check of the target).
BENCH_ONLY ?=
BENCH_FILES = $(if $(BENCH_ONLY),-bench.only $(BENCH_ONLY),-bench.docs $(CURDIR))
.PHONY: bench
bench:
	@mkdir -p $(BIN)
	@start=$$(date +%s); \
	$(GO) test -run '^$$' -bench '^Benchmark(Observe|Outbox|Status|StatusHandler)$$' -benchmem -count=1 \
		./switcher/threat ./internal/store ./internal/api > $(BIN)/bench-micro.txt || { cat $(BIN)/bench-micro.txt; exit 1; }; \
	cat $(BIN)/bench-micro.txt; \
	$(GO) test -count=1 -timeout 90m -run '^TestBench$$' -v ./internal/bench \
		-bench.full -bench.start $$start $(BENCH_FILES) -bench.micro $(CURDIR)/$(BIN)/bench-micro.txt 2>&1 | tee $(BIN)/bench-policy.txt \
		| grep --line-buffered -v -E '^ *(=== (RUN|PAUSE|CONT)|--- PASS)'; \
	if grep -q -E '^(FAIL|--- FAIL|panic:)' $(BIN)/bench-policy.txt; then rc=1; else rc=0; fi; \
	echo "make bench: wall time $$(( $$(date +%s) - start )) s (load average $$(cut -d' ' -f1-3 /proc/loadavg))"; \
	exit $$rc

# The man pages, from the commands' definitions (imsid --man, imsictl
# __man); the packages ship them and TestManPage fails when they are stale.
.PHONY: man
man:
	@mkdir -p packaging/man
	$(GO) run ./cmd/imsid --man > packaging/man/imsid.8
	$(GO) run ./cmd/imsictl __man > packaging/man/imsictl.1
