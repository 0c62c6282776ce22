# steward's everyday commands. `make help` lists them.
GO        ?= go
STATICCHECK_VERSION ?= v0.6.1
PKGS      ?= ./...

.PHONY: help build run demo example test test-short bench bench-compare lint fuzz clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/steward
	$(GO) build -o bin/steward ./cmd/steward

run: ## Run steward on its embedded defaults (SQLite in ./steward-data, 127.0.0.1:8600)
	$(GO) run ./cmd/steward serve

demo: ## Run steward against a simulated AWS organisation (no AWS account needed)
	$(GO) run ./cmd/steward demo

example: ## Run the example playbook on its example event, in memory
	$(GO) run ./cmd/steward run examples/ask-before-revoke.asl.json --input @examples/ask-before-revoke.event.json

test: ## Run every test, with the race detector (what CI runs)
	$(GO) test -race -count=1 $(PKGS)

test-short: ## Run the tests without the race detector
	$(GO) test -count=1 $(PKGS)

bench: ## Run the Go benchmarks
	$(GO) test -run='^$$' -bench=. -benchmem $(PKGS)

bench-compare: ## Compare the ASL interpreter with aws-local-stepfunctions (needs node and npm)
	bash bench/compare-asl.sh

lint: ## gofmt, go vet and staticcheck
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)

fuzz: ## Run each fuzz test for FUZZTIME (default 30s)
	@for spec in $$(grep -rl --include='*_test.go' '^func Fuzz' internal | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$spec/*_test.go | sed -E 's/func (Fuzz[A-Za-z0-9_]*).*/\1/'); do \
	    echo "== $$spec $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$${FUZZTIME:-30s} ./$$spec || exit 1; \
	  done; \
	done

clean: ## Remove build output and scratch folders
	rm -rf bin bench/scratch
