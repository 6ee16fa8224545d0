// Package chaos holds Liaison's fault-injection tests: PostgreSQL restarted
// and liaisond killed with -9 while clients import and read, with every
// acknowledged record then checked against the database. The tests own a
// private PostgreSQL cluster, since they take it down; `make test` runs
// them short, `make chaos` (LIAISON_CHAOS=1) runs them long.
package chaos
