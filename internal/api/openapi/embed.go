// Package openapi holds the OpenAPI document generated from the protos.
package openapi

import _ "embed"

// JSON is the OpenAPI (Swagger 2.0) document of the REST surface.
//
//go:embed liaison.swagger.json
var JSON []byte
