// Package xmltree reads untrusted XML into a small element tree that keeps
// each element's line, so findings can point at "XPath (line N)".
//
// Parsing is safe by construction: encoding/xml never fetches or expands
// external entities, and this reader additionally refuses any DOCTYPE (so no
// internal entity or DTD tricks either), bounds the input size and the
// nesting depth, and accepts only UTF-8 input.
package xmltree

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MaxDepth bounds element nesting. Real QRDA III files nest about 15 deep.
const MaxDepth = 256

var (
	// ErrTooLarge means the input is bigger than the caller's limit.
	ErrTooLarge = errors.New("file too large")
	// ErrDoctype means the input has a DOCTYPE (DTD), which is refused.
	ErrDoctype = errors.New("DOCTYPE declarations are not accepted")
	// ErrTooDeep means elements nest deeper than MaxDepth.
	ErrTooDeep = errors.New("elements nested too deeply")
	// ErrNoRoot means the input has no element at all.
	ErrNoRoot = errors.New("no root element")
)

// SyntaxError is a well-formedness error at a line.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Node is one element.
type Node struct {
	Space, Local string // namespace URI (after prefix resolution) and local name
	Attrs        []xml.Attr
	Children     []*Node
	Parent       *Node
	Line         int
	// Text is the element's own character data with surrounding space trimmed.
	Text string
	// index is the 1-based position among same-named siblings; same is how
	// many same-named siblings there are (so XPaths add [n] only when needed).
	index, same int
}

// Parse reads data into a tree. It fails on input larger than maxBytes, on a
// DOCTYPE, on non-UTF-8 encodings and on anything not well-formed.
func Parse(data []byte, maxBytes int) (*Node, error) {
	if len(data) > maxBytes {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), maxBytes)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, _ io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("encoding %q is not supported (use UTF-8)", label)
	}
	var root, cur *Node
	depth := 0
	for {
		line, _ := d.InputPos() // position of the next token's start
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, &SyntaxError{Line: se.Line, Msg: se.Msg}
			}
			return nil, &SyntaxError{Line: line, Msg: err.Error()}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if cur == nil && root != nil {
				return nil, &SyntaxError{Line: line, Msg: "more than one root element"}
			}
			depth++
			if depth > MaxDepth {
				return nil, fmt.Errorf("%w (line %d, limit %d)", ErrTooDeep, line, MaxDepth)
			}
			n := &Node{Space: t.Name.Space, Local: t.Name.Local, Attrs: t.Attr, Parent: cur, Line: line}
			if cur == nil {
				root = n
			} else {
				cur.Children = append(cur.Children, n)
			}
			cur = n
		case xml.EndElement:
			depth--
			cur.index, cur.same = 0, 0
			cur = cur.Parent
		case xml.CharData:
			if cur == nil {
				if len(bytes.TrimSpace(t)) > 0 {
					return nil, &SyntaxError{Line: line, Msg: "text outside the root element"}
				}
				continue
			}
			if s := bytes.TrimSpace(t); len(s) > 0 {
				cur.Text += string(s)
			}
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				return nil, fmt.Errorf("%w (line %d)", ErrDoctype, line)
			}
			return nil, &SyntaxError{Line: line, Msg: "unexpected <!" + firstWord(t) + "> declaration"}
		}
	}
	if root == nil {
		return nil, ErrNoRoot
	}
	return root, nil
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

// Accessors accept a nil receiver (an absent element) and answer "absent",
// so lookups chain without nil checks: n.First("a").First("b").A("c").

// Content returns the element's text, or "" for an absent element.
func (n *Node) Content() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// Attr returns the value of the attribute named local (any namespace).
func (n *Node) Attr(local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// A returns the attribute value, or "" when absent.
func (n *Node) A(local string) string {
	v, _ := n.Attr(local)
	return v
}

// AttrNS returns the value of the attribute space:local.
func (n *Node) AttrNS(space, local string) (string, bool) {
	if n == nil {
		return "", false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == local && a.Name.Space == space {
			return a.Value, true
		}
	}
	return "", false
}

// All returns the children named local.
func (n *Node) All(local string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Local == local {
			out = append(out, c)
		}
	}
	return out
}

// First returns the first child named local, or nil.
func (n *Node) First(local string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Local == local {
			return c
		}
	}
	return nil
}

// Path follows child names and returns every element reached.
func (n *Node) Path(names ...string) []*Node {
	cur := []*Node{n}
	for _, name := range names {
		var next []*Node
		for _, c := range cur {
			next = append(next, c.All(name)...)
		}
		cur = next
	}
	return cur
}

// XPath is the element's absolute path, with [n] where it has same-named
// siblings, e.g. /ClinicalDocument/component/structuredBody/component[2]/section.
func (n *Node) XPath() string {
	var parts []string
	for e := n; e != nil; e = e.Parent {
		p := e.Local
		if e.Parent != nil {
			i, same := e.position()
			if same > 1 {
				p += "[" + strconv.Itoa(i) + "]"
			}
		}
		parts = append(parts, p)
	}
	var b strings.Builder
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

// Loc is the location string findings carry: XPath and line.
func (n *Node) Loc() string {
	if n == nil {
		return "/"
	}
	return n.XPath() + " (line " + strconv.Itoa(n.Line) + ")"
}

// LocAttr is Loc for one of the element's attributes.
func (n *Node) LocAttr(attr string) string {
	return n.XPath() + "/@" + attr + " (line " + strconv.Itoa(n.Line) + ")"
}

func (n *Node) position() (int, int) {
	if n.same == 0 {
		// Number all same-named siblings at once; paths are only built for
		// findings, so this stays off the hot path.
		count := map[string]int{}
		for _, c := range n.Parent.Children {
			count[c.Local]++
			c.index = count[c.Local]
		}
		for _, c := range n.Parent.Children {
			c.same = count[c.Local]
		}
	}
	return n.index, n.same
}
