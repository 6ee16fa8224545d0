package main

import (
	"errors"
	"fmt"
	"io"

	buildinfo "github.com/liaison-registry/liaison/internal/version"
)

// runVersion prints the build this binary was made from (internal/version).
func runVersion(args []string, stdout, stderr io.Writer) error {
	fl := newFlagSet("version", stderr)
	if err := fl.Parse(args); err != nil {
		return &exitError{2, nil}
	}
	if fl.NArg() > 0 {
		fl.Usage()
		return badInput(errors.New("liaison version takes no arguments"))
	}
	fmt.Fprint(stdout, buildinfo.Get().Long("liaison"))
	return nil
}
