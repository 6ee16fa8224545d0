package console

import "net/http"

// The fracture liaison coordinator's page: KPIs with RAG colours, monthly
// run charts, patients due for monitoring. (To be written.)

func (c *Console) fls(w http.ResponseWriter, r *http.Request, s *session) {
	c.fail(w, r, s, http.StatusNotImplemented, "This page is not built yet.")
}
