package console

import (
	"net/http"
)

// download forwards /download/report and /download/submission to the
// API's file downloads (GET /v1/reports:download, /v1/submissions:download)
// with the session's key: the same call, rule and audit as with curl.
func (c *Console) download(apiPath string) func(w http.ResponseWriter, r *http.Request, s *session) {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		fwd := r.Clone(r.Context())
		fwd.URL.Path, fwd.URL.RawPath = apiPath, ""
		fwd.RequestURI = ""
		fwd.Header.Set("Authorization", "Bearer "+s.token)
		c.d.API.ServeHTTP(w, fwd)
	}
}
