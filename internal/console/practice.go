package console

import "net/http"

// The practice's pages: its runs with live progress, its physicians, and
// building a submission. (To be written.)

func (c *Console) practice(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) startRun(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) progress(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) submission(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}
