package main

import (
	"errors"
	"fmt"
	"io"

	buildinfo "github.com/liaison-registry/liaison/internal/version"
)

// runVersion prints the build this binary was made from (internal/version).
func runVersion(args []string, stdout, _ io.Writer) error {
	if len(args) > 0 {
		return badInput(errors.New("usage: liaison version"))
	}
	fmt.Fprint(stdout, buildinfo.Get().Long("liaison"))
	return nil
}
