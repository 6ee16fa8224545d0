package console

import "net/http"

// The registry operator's pages: practices, validating a submission file,
// measure versions and what changed between them, keys. (To be written.)

func (c *Console) operator(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) validateForm(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) validate(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) measures(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) compare(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) keys(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) createKey(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}

func (c *Console) revokeKey(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}
