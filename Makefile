REF ?= ../shared/reference/qpp-measures

.PHONY: all build test vet measures bench

all: vet test build

build:
	go build -o bin/ ./cmd/...

test:
	go test ./...

vet:
	gofmt -l . | (! grep .) && go vet ./...

# Regenerate the CMS-derived code lists of the MIPS specs (committed).
measures:
	go run ./cmd/measuregen -ref $(REF) -out measures

# Evaluate 1,000,000 synthetic patients in memory and print the BENCH line.
bench:
	go run ./cmd/liaison bench-engine -measure mips-418@2024 -patients 1000000
