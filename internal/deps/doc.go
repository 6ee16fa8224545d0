// Package deps holds the test that keeps the architecture's dependency
// rules (shared DESIGN.md, "Dependencies point inward"): the domain imports no
// I/O, readers and writers never reach storage, storage never imports the
// handlers. It has no code of its own.
package deps
