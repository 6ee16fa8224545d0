package openapi

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// The viewer is a page rendered on the server from JSON: every operation by
// service, with its parameters, request body and answers, and every schema
// with its fields, linked to each other. It needs no script and loads
// nothing from elsewhere (issue 18: no CDN), so it works on a machine with
// no internet and shows what this binary serves.

// document is the part of a Swagger 2.0 document the viewer shows.
type document struct {
	Info struct {
		Title, Description, Version string
	}
	Tags []struct {
		Name, Description string
	}
	Paths       map[string]map[string]operation
	Definitions map[string]schema
}

type operation struct {
	Summary, Description, OperationID string
	Tags                              []string
	Parameters                        []parameter
	Responses                         map[string]struct {
		Description string
		Schema      *schema
	}
}

type parameter struct {
	Name, In, Description, Type, Format string
	Required                            bool
	Schema                              *schema
	Items                               *schema
}

type schema struct {
	Ref         string `json:"$ref"`
	Type        string
	Format      string
	Description string
	Title       string
	Items       *schema
	Enum        []string
	Properties  map[string]*schema
	Required    []string
}

// view is what the template reads.
type view struct {
	Title, Description, Version string
	Services                    []service
	Schemas                     []namedSchema
}

type service struct {
	Name, Description string
	Operations        []viewOperation
}

type viewOperation struct {
	Method, Path, ID, Summary, Description string
	Parameters                             []viewParameter
	Body, BodyRef                          string // the request body's type, and its schema to link to
	Responses                              []viewResponse
}

type viewParameter struct {
	Name, In, Type, Description string
	Required                    bool
}

type viewResponse struct {
	Code, Description, Schema, Ref string
}

type namedSchema struct {
	Name, Description string
	Enum              []string
	Fields            []viewField
}

type viewField struct {
	Name, Type, Ref, Description string
}

// refName is the schema a $ref names ("#/definitions/v1Run" → "v1Run").
func refName(ref string) string { return strings.TrimPrefix(ref, "#/definitions/") }

// typeOf writes a schema's type as a reader says it: "string (int64)",
// "array of v1Case"; ref is the schema to link to, if any.
func typeOf(s *schema) (text, ref string) {
	switch {
	case s == nil:
		return "", ""
	case s.Ref != "":
		return refName(s.Ref), refName(s.Ref)
	case s.Type == "array":
		t, r := typeOf(s.Items)
		return "array of " + t, r
	case s.Format != "":
		return s.Type + " (" + s.Format + ")", ""
	}
	return s.Type, ""
}

func build(d document) view {
	v := view{Title: d.Info.Title, Description: d.Info.Description, Version: d.Info.Version}
	byTag := map[string]int{} // index in v.Services
	for _, t := range d.Tags {
		byTag[t.Name] = len(v.Services)
		v.Services = append(v.Services, service{Name: t.Name, Description: t.Description})
	}
	for _, path := range sortedKeys(d.Paths) {
		for _, method := range sortedKeys(d.Paths[path]) {
			op := d.Paths[path][method]
			vo := viewOperation{Method: strings.ToUpper(method), Path: path, ID: op.OperationID, Summary: op.Summary, Description: op.Description}
			for _, p := range op.Parameters {
				if p.In == "body" {
					vo.Body, vo.BodyRef = typeOf(p.Schema)
					continue
				}
				t := p.Type
				if p.Format != "" {
					t += " (" + p.Format + ")"
				}
				if p.Items != nil {
					it, _ := typeOf(p.Items)
					t = "array of " + it
				}
				vo.Parameters = append(vo.Parameters, viewParameter{Name: p.Name, In: p.In, Type: t, Description: p.Description, Required: p.Required})
			}
			for _, code := range sortedKeys(op.Responses) {
				r := op.Responses[code]
				name, ref := typeOf(r.Schema)
				vo.Responses = append(vo.Responses, viewResponse{Code: code, Description: r.Description, Schema: name, Ref: ref})
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			i, ok := byTag[tag]
			if !ok {
				i = len(v.Services)
				byTag[tag] = i
				v.Services = append(v.Services, service{Name: tag})
			}
			v.Services[i].Operations = append(v.Services[i].Operations, vo)
		}
	}
	for _, name := range sortedKeys(d.Definitions) {
		s := d.Definitions[name]
		ns := namedSchema{Name: name, Description: strings.TrimSpace(s.Title + "\n" + s.Description), Enum: s.Enum}
		for _, field := range sortedKeys(s.Properties) {
			p := s.Properties[field]
			t, ref := typeOf(p)
			desc := strings.TrimSpace(p.Title + "\n" + p.Description)
			if slices.Contains(s.Required, field) {
				desc = strings.TrimSpace("Required. " + desc)
			}
			ns.Fields = append(ns.Fields, viewField{Name: field, Type: t, Ref: ref, Description: desc})
		}
		v.Schemas = append(v.Schemas, ns)
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

var page = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}} {{.Version}}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;color:#1b1f24}
h2{border-bottom:2px solid #1f4e79;padding-bottom:.2rem;margin-top:2.5rem}
.op{border:1px solid #d0d7de;border-radius:6px;padding:.6rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4rem;font-weight:700;color:#fff;background:#1f4e79;border-radius:4px;text-align:center;margin-right:.5rem}
code,.path{font-family:ui-monospace,monospace}
table{border-collapse:collapse;margin:.4rem 0;width:100%}th,td{border:1px solid #d0d7de;padding:.2rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f6f9}.desc{white-space:pre-line;color:#444}nav a{margin-right:1rem}
</style></head><body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p class="desc">{{.Description}}</p>
<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a>. Calls under /v1 take an API key: <code>Authorization: Bearer &lt;key&gt;</code>.</p>
<nav>{{range .Services}}<a href="#{{.Name}}">{{.Name}}</a>{{end}}<a href="#schemas">Schemas</a></nav>
{{range .Services}}<h2 id="{{.Name}}">{{.Name}}</h2><p class="desc">{{.Description}}</p>
{{range .Operations}}<div class="op" id="{{.ID}}"><div><span class="m">{{.Method}}</span><span class="path">{{.Path}}</span></div>
<p><b>{{.Summary}}</b></p>{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Parameters}}<table><tr><th>Parameter</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Parameters}}<tr><td><code>{{.Name}}</code>{{if .Required}} (required){{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td class="desc">{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .BodyRef}}<p>Request body: <a href="#def-{{.BodyRef}}">{{.Body}}</a></p>{{else if .Body}}<p>Request body: {{.Body}}</p>{{end}}
<table><tr><th>Answer</th><th>Description</th><th>Body</th></tr>
{{range .Responses}}<tr><td>{{.Code}}</td><td>{{.Description}}</td><td>{{if .Ref}}<a href="#def-{{.Ref}}">{{.Schema}}</a>{{else}}{{.Schema}}{{end}}</td></tr>{{end}}</table></div>
{{end}}{{end}}
<h2 id="schemas">Schemas</h2>
{{range .Schemas}}<div class="op" id="def-{{.Name}}"><b>{{.Name}}</b>{{if .Description}}<p class="desc">{{.Description}}</p>{{end}}
{{if .Enum}}<p>One of: {{range $i, $e := .Enum}}{{if $i}}, {{end}}<code>{{$e}}</code>{{end}}</p>{{end}}
{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Fields}}<tr><td><code>{{.Name}}</code></td><td>{{if .Ref}}<a href="#def-{{.Ref}}">{{.Type}}</a>{{else}}{{.Type}}{{end}}</td><td class="desc">{{.Description}}</td></tr>{{end}}</table>{{end}}</div>
{{end}}</body></html>
`))

// render is the viewer page of an OpenAPI document.
func render(doc []byte) ([]byte, error) {
	var d document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err := page.Execute(&b, build(d))
	return b.Bytes(), err
}

var viewerPage = sync.OnceValues(func() ([]byte, error) { return render(JSON) })

// Viewer serves the browsable page of the embedded document.
func Viewer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, err := viewerPage()
		if err != nil { // the embedded document is generated: not reachable
			http.Error(w, "the OpenAPI document cannot be read: "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(b) //nolint:errcheck
	})
}
