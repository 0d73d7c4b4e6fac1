// Package openapi holds facekit's API reference: an OpenAPI 3 document
// describing every endpoint of the vendor dialects (Baidu v3, Linkface,
// Tencent) and of the operator endpoints (/metrics, /healthz, /readyz,
// /openapi.json), and a server.Dialect that serves it at /openapi.json.
//
// The document is written by hand from the vendors' documentation and the
// dialects' code; a test walks the real router and fails when an endpoint
// is missing from the document or documented but not served.
package openapi

// Document is the subset of the OpenAPI 3.0 object model facekit uses.
type Document struct {
	OpenAPI    string               `json:"openapi"`
	Info       Info                 `json:"info"`
	Tags       []Tag                `json:"tags,omitempty"`
	Paths      map[string]*PathItem `json:"paths"`
	Components Components           `json:"components"`
}

// Info describes the API.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations (one per dialect).
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// PathItem holds the operations of one path by HTTP method.
type PathItem struct {
	Get  *Operation `json:"get,omitempty"`
	Post *Operation `json:"post,omitempty"`
}

// Operations returns the item's operations keyed by upper-case method.
func (p *PathItem) Operations() map[string]*Operation {
	ops := map[string]*Operation{}
	if p.Get != nil {
		ops["GET"] = p.Get
	}
	if p.Post != nil {
		ops["POST"] = p.Post
	}
	return ops
}

// Operation is one endpoint.
type Operation struct {
	Tags        []string              `json:"tags,omitempty"`
	Summary     string                `json:"summary"`
	Description string                `json:"description,omitempty"`
	OperationID string                `json:"operationId"`
	Parameters  []Parameter           `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses"`
	Security    []map[string][]string `json:"security,omitempty"`
}

// Parameter is a query or header parameter.
type Parameter struct {
	Name        string  `json:"name"`
	In          string  `json:"in"`
	Required    bool    `json:"required,omitempty"`
	Description string  `json:"description,omitempty"`
	Schema      *Schema `json:"schema"`
}

// RequestBody lists accepted media types.
type RequestBody struct {
	Required bool                  `json:"required,omitempty"`
	Content  map[string]*MediaType `json:"content"`
}

// Response is one status code's answer.
type Response struct {
	Description string                `json:"description"`
	Content     map[string]*MediaType `json:"content,omitempty"`
}

// MediaType carries the schema of a body.
type MediaType struct {
	Schema  *Schema `json:"schema"`
	Example any     `json:"example,omitempty"`
}

// Components holds reusable schemas and the security schemes.
type Components struct {
	Schemas         map[string]*Schema         `json:"schemas"`
	SecuritySchemes map[string]*SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is how a dialect authenticates.
type SecurityScheme struct {
	Type        string `json:"type"`
	In          string `json:"in,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
}

// Schema is a JSON Schema (OpenAPI 3.0 dialect).
type Schema struct {
	Ref         string             `json:"$ref,omitempty"`
	Type        string             `json:"type,omitempty"`
	Format      string             `json:"format,omitempty"`
	Description string             `json:"description,omitempty"`
	Enum        []any              `json:"enum,omitempty"`
	Default     any                `json:"default,omitempty"`
	Minimum     *float64           `json:"minimum,omitempty"`
	Maximum     *float64           `json:"maximum,omitempty"`
	Nullable    bool               `json:"nullable,omitempty"`
	Properties  map[string]*Schema `json:"properties,omitempty"`
	Required    []string           `json:"required,omitempty"`
	Items       *Schema            `json:"items,omitempty"`
	OneOf       []*Schema          `json:"oneOf,omitempty"`
	MinItems    *int               `json:"minItems,omitempty"`
	MaxItems    *int               `json:"maxItems,omitempty"`
}

// ---- schema builders: keep the endpoint tables in spec.go short ----

func str(desc string) *Schema     { return &Schema{Type: "string", Description: desc} }
func integer(desc string) *Schema { return &Schema{Type: "integer", Description: desc} }
func number(desc string) *Schema  { return &Schema{Type: "number", Description: desc} }
func boolean(desc string) *Schema { return &Schema{Type: "boolean", Description: desc} }
func ref(name string) *Schema     { return &Schema{Ref: "#/components/schemas/" + name} }
func array(items *Schema, desc string) *Schema {
	return &Schema{Type: "array", Items: items, Description: desc}
}

// enum returns a string schema limited to values, with a default.
func enum(desc string, def string, values ...string) *Schema {
	s := str(desc)
	for _, v := range values {
		s.Enum = append(s.Enum, v)
	}
	if def != "" {
		s.Default = def
	}
	return s
}

// between returns s with bounds set.
func between(s *Schema, lo, hi float64) *Schema {
	s.Minimum, s.Maximum = &lo, &hi
	return s
}

// field is one property of an object schema.
type field struct {
	name     string
	schema   *Schema
	required bool
}

func req(name string, s *Schema) field { return field{name, s, true} }
func opt(name string, s *Schema) field { return field{name, s, false} }

// object builds an object schema from fields, keeping required ones listed.
func object(desc string, fields ...field) *Schema {
	s := &Schema{Type: "object", Description: desc, Properties: map[string]*Schema{}}
	for _, f := range fields {
		s.Properties[f.name] = f.schema
		if f.required {
			s.Required = append(s.Required, f.name)
		}
	}
	return s
}

func jsonContent(s *Schema) map[string]*MediaType {
	return map[string]*MediaType{"application/json": {Schema: s}}
}
